/* The hardware backends (vmx/, svm/) behind one ops table, chosen once at boot
 * from CPUID.  The core never tests the vendor. */
#ifndef HV_KERNEL_VM_BACKEND_H
#define HV_KERNEL_VM_BACKEND_H

#include "kernel/vm/vm.h"

struct slat_format;

enum tlb_flush_scope {
	TLB_FLUSH_GUEST,       /* this VP's guest translations (ASID / VPID) */
	TLB_FLUSH_GUEST_SLAT,  /* also combined guest-physical translations */
};

struct vm_backend_ops {
	const char *name;
	/* Per CPU: turn the extension on.  Returns 0 or a negative error after
	 * printing why. */
	int (*cpu_enable)(void);
	/* A hardware context for one VTL bank of a VP, in the multiboot entry
	 * state (32-bit protected mode, flat segments, paging off). */
	int (*bank_create)(struct vp *vp, struct vtl_bank *bank);
	void (*bank_destroy)(struct vp *vp, struct vtl_bank *bank);
	/* Points the bank's hardware context at its SLAT root. */
	void (*bank_set_slat_root)(struct vp *vp, struct vtl_bank *bank, u64 root_hpa);
	/* Enters the guest and returns with the exit decoded. */
	void (*run)(struct vp *vp, struct vm_exit *exit);
	u64 (*get_reg)(struct vp *vp, enum vp_reg reg);
	void (*set_reg)(struct vp *vp, enum vp_reg reg, u64 value);
	void (*get_seg)(struct vp *vp, enum vp_seg seg, struct segment *out);
	void (*set_seg)(struct vp *vp, enum vp_seg seg, const struct segment *in);
	/* Queues an event for the next entry. */
	void (*inject)(struct vp *vp, const struct vp_event *ev);
	/* Interrupt delivery (kernel/vm/vp_apic.c): can an external interrupt
	 * or an NMI be injected at the next entry?  If not, the window request
	 * makes the guest exit as soon as one could be (NMI: where the CPU can
	 * tell; otherwise the core re-checks at the next exit). */
	bool (*irq_allowed)(struct vp *vp);
	bool (*nmi_allowed)(struct vp *vp);
	void (*set_irq_window)(struct vp *vp, bool on);
	void (*set_nmi_window)(struct vp *vp, bool on);
	/* Forgets queued and half-delivered events and any NMI blocking (INIT). */
	void (*cancel_events)(struct vp *vp);
	void (*flush_tlb)(struct vp *vp, enum tlb_flush_scope scope);
	/* Drops this VP's guest translations of one linear address (INVLPG's
	 * effect, global pages and paging-structure caches included), at once:
	 * on the VP's own CPU, between two of its exits.  A backend whose CPU
	 * cannot do that queues flush_tlb(TLB_FLUSH_GUEST) instead. */
	void (*flush_gva)(struct vp *vp, u64 gva);
	/* Intercept control for one MSR (read and/or write) or I/O port. */
	void (*intercept_msr)(struct vp *vp, u32 msr, bool read, bool write);
	void (*intercept_io)(struct vp *vp, u16 port, bool intercept);
	/* Prints the hardware context field by field. */
	void (*dump)(struct vp *vp);
	const struct slat_format *(*slat_format)(void);
	/* Feature line for the boot log and the shell's `info`. */
	void (*describe)(char *buf, size_t size);
};

extern const struct vm_backend_ops *vm_backend;
extern const struct vm_backend_ops svm_backend_ops;
extern const struct vm_backend_ops vmx_backend_ops;

/* Picks the backend from CPUID; NULL when the CPU offers neither. */
const struct vm_backend_ops *vm_backend_select(void);

#endif
