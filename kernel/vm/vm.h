/* The guest partition, its virtual processors and their VTL context banks.
 *
 * One partition (struct vm) runs on the whole machine; every physical CPU is
 * one VP, pinned.  Everything the TLFS makes private to a VTL lives in a
 * struct vtl_bank; a VP reaches its current state through
 * vp->vtl[vp->active_vtl], so VSM adds banks instead of rewriting the core.
 * Only VTL0 exists today. */
#ifndef HV_KERNEL_VM_VM_H
#define HV_KERNEL_VM_VM_H

#include "kernel/config.h"
#include "kernel/spinlock.h"
#include "kernel/types.h"
struct gpa_view;
struct vlapic;
struct hv_vp;
#include "kernel/vm/exit_stats.h"
#include "kernel/vm/trace.h"
#include "kernel/vm/vm_exit.h"

#define HV_VTL_COUNT 2

enum vp_reg {
	/* General-purpose registers, in instruction-encoding order. */
	VP_RAX, VP_RCX, VP_RDX, VP_RBX, VP_RSP, VP_RBP, VP_RSI, VP_RDI,
	VP_R8, VP_R9, VP_R10, VP_R11, VP_R12, VP_R13, VP_R14, VP_R15,
	VP_GPR_COUNT,
	/* Per-VTL state held in the hardware context. */
	VP_RIP = VP_GPR_COUNT, VP_RFLAGS,
	VP_CR0, VP_CR2, VP_CR3, VP_CR4, VP_CR8, VP_EFER, VP_DR6, VP_DR7, VP_PAT,
	VP_SYSENTER_CS, VP_SYSENTER_ESP, VP_SYSENTER_EIP,
	VP_STAR, VP_LSTAR, VP_CSTAR, VP_SFMASK, VP_KERNEL_GS_BASE,
	VP_REG_COUNT
};

enum vp_seg { VP_ES, VP_CS, VP_SS, VP_DS, VP_FS, VP_GS, VP_LDTR, VP_TR, VP_GDTR, VP_IDTR,
	      VP_SEG_COUNT };

/* Segment attributes in the compact form both vendors can express: the
 * descriptor's access byte (type, S, DPL, P) in bits 0-7 and AVL, L, D/B, G in
 * bits 8-11 (the VMCB's layout; VMX converts). */
#define SEG_ATTR_TYPE(a) ((a) & 0xF)
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3)
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define SEG_ATTR_G (1u << 11)

struct segment {
	u16 selector;
	u16 attr;
	u32 limit;
	u64 base;
};

enum vp_event_type { VP_EVENT_EXTINT, VP_EVENT_NMI, VP_EVENT_EXCEPTION, VP_EVENT_SOFTINT };

struct vp_event {
	enum vp_event_type type;
	u8 vector;
	bool has_error_code;
	u32 error_code;
};

enum vp_state { VP_RUNNING, VP_HALTED, VP_WAIT_FOR_SIPI, VP_STOPPED };

struct vtl_bank {
	u8 vtl;
	void *hw;		 /* backend's context: VMCB or VMCS */
	struct gpa_view *view;	 /* this VTL's SLAT */
	struct vlapic *lapic;	 /* this VTL's local APIC (kernel/vm/vp_apic.h) */
	/* This VTL's Hv#1 per-VP state: SynIC, synthetic timers, VP assist
	 * page (hyperv/hv_synic.h); NULL until the guest first touches it. */
	struct hv_vp *hv;
};

struct vm;
struct vp;

/* Work another CPU (the shell) asks a VP's own CPU to do between two exits:
 * VMX can only read a VMCS on the CPU where it is current, and a snapshot
 * taken there is consistent.  See kernel/vm/vp_ctl.h. */
struct vp_work {
	void (*fn)(struct vp *vp, void *arg);
	void *arg;
	u32 pending; /* set by the caller, cleared by the VP when fn returned */
};

struct vp {
	u32 index;
	u32 apic_id;
	u32 cpu;
	u8 active_vtl;
	enum vp_state state;
	struct vm *vm;
	struct vtl_bank *vtl[HV_VTL_COUNT];
	/* Shared by all VTLs; the backend syncs what its hardware keeps elsewhere
	 * (RAX/RSP on SVM) at every exit and entry. */
	u64 gpr[VP_GPR_COUNT];
	u64 exits;
	u64 exits_by_reason[VM_EXIT_REASON_COUNT];
	/* Set by the core (any CPU) when guest-visible translations changed;
	 * the VP loop takes it with an atomic exchange (kernel/vm/vp_flush.c). */
	bool flush_pending;
	/* PV TLB flush requests from other VPs (kernel/vm/vp_flush.h): others
	 * bump tlb_flush_requested; the VP records in tlb_flush_served what it
	 * has flushed for, and keeps in_guest set from its last pre-entry check
	 * until the exit. */
	u32 tlb_flush_requested;
	u32 tlb_flush_served;
	bool in_guest;
	/* The guest-virtual pages those requests name, if few enough: a
	 * requester adds them under the lock before it bumps the generation;
	 * flush_gva_all (or an overflow) asks for the whole ASID/VPID. */
	struct spinlock flush_gva_lock;
	u8 flush_gva_count;
	bool flush_gva_all;
	u64 flush_gvas[VP_FLUSH_GVAS_MAX];
	/* Shadow of guest state the hypervisor emulates. */
	u64 guest_efer; /* what the guest believes EFER is */
	u64 mtrr_def_type;

	/* Interrupts (kernel/vm/vp_apic.c).  apic_lock guards the active bank's
	 * APIC against deliveries from other CPUs; the rest is the VP's own. */
	struct spinlock apic_lock;
	u64 apic_deadline;  /* the APIC timer's next deadline (TSC), 0: none */
	u32 apic_changes;   /* counted at every release of apic_lock */
	u32 apic_changes_seen; /* the count at the entry's last look at the APIC */
	bool apic_settled;  /* that look found nothing pending or in service */
	u8 cr8_shadow;	    /* TPR[7:4] as last given to the backend */
	bool nmi_pending;
	bool nmi_window;    /* the backend was asked for an NMI-window exit */

	/* Requests from other CPUs (VP_REQ_* in kernel/vm/vp_ctl.h), honoured by
	 * the VP loop between exits; one load per exit when none is pending. */
	u32 requests;
	bool paused;	/* the VP sits in its pause loop (set by the VP itself) */
	bool in_loop;	/* vp_run_loop drives this VP on its CPU */
	struct vp_work work;

	/* Debugging (the shell, crash dumps).  The VP's own CPU writes all of
	 * these; readers elsewhere accept slightly stale values. */
	bool trace_on;
	struct trace_ring trace; /* recs allocated by the first `trace on` */
	struct key_counter msr_exits;	     /* key: index | EXIT_KEY_WRITE */
	struct key_counter io_exits;	     /* key: port | EXIT_KEY_IN */
	struct key_counter hypercall_exits; /* key: call code (RCX[15:0]) */
	u64 events_injected;
	struct vp_event last_event;
};

static inline struct vtl_bank *vp_bank(struct vp *vp)
{
	return vp->vtl[vp->active_vtl];
}

/* A GPA range with its guest-visible type, for the guest's memory map. */
struct guest_mem_region {
	u64 base;
	u64 len;
	u32 type; /* enum mem_type */
};

#define VM_MAX_MEM_REGIONS 160

struct vm {
	u32 vp_count;
	struct vp *vps[HV_MAX_CPUS];
	struct guest_mem_region mem[VM_MAX_MEM_REGIONS];
	u32 mem_count;
	bool started; /* the application processors' VPs run their loops */
	bool stopped;
};

extern struct vm the_vm;

/* Register access through the backend; GPRs come from vp->gpr directly. */
u64 vp_get_reg(struct vp *vp, enum vp_reg reg);
void vp_set_reg(struct vp *vp, enum vp_reg reg, u64 value);
void vp_get_seg(struct vp *vp, enum vp_seg seg, struct segment *out);
void vp_set_seg(struct vp *vp, enum vp_seg seg, const struct segment *in);
void vp_inject(struct vp *vp, const struct vp_event *ev);
void vp_inject_exception(struct vp *vp, u8 vector, bool has_error_code, u32 error_code);
static inline void vp_inject_gp(struct vp *vp)
{
	vp_inject_exception(vp, 13, true, 0);
}
static inline void vp_inject_ud(struct vp *vp)
{
	vp_inject_exception(vp, 6, false, 0);
}
void vp_advance_rip(struct vp *vp, u64 len);

/* Creates the partition and its VPs; returns false if this machine cannot
 * run guests (no backend). */
/* vm_create lives in kernel/vm/vm_create.h. */
/* Every CPU calls this; the boot CPU's VP runs the guest, the others wait. */
__noreturn void vp_run_loop(struct vp *vp);
struct vp *vp_this(void);

/* Puts back the platform's own mapping of one page in a view (after an
 * overlay leaves it): guest RAM, a device window, or nothing for the
 * hypervisor's frames and the interrupt controllers. */
void vm_view_restore_page(struct gpa_view *view, u64 gpa);
/* A VTL's SLAT view changed under running VPs (an overlay moved), on behalf
 * of `self`, between two of its exits: every VP drops its guest-physical
 * translations before it next runs guest code, and the tables the change
 * retired are freed once no VP can still be walking them.  Callers
 * serialise view changes. */
void vm_view_changed(struct vp *self);

/* Stops the whole partition after printing why and the VP's state. */
__noreturn void vm_stop(struct vp *vp, const char *why, const struct vm_exit *exit);
void vp_dump_state(struct vp *vp, const struct vm_exit *exit);
/* The last n records of the VP's exit trace, at LOG_ERR (crash dumps). */
void vp_dump_trace(struct vp *vp, u32 n);
/* For the panic path: this CPU's VP state (on its own CPU: VMX), and every
 * VP's trace tail. */
void vm_crash_dump_this_cpu(void);
void vm_crash_dump_traces(void);

#endif
