/* AMD SVM backend (AMD APM Vol. 2, chapter 15).  Works without next-RIP save,
 * decode assists, clean bits and flush-by-ASID (QEMU TCG has none of them) and
 * uses each when CPUID 0x8000000A says it is there. */
#include "arch/x86/cpu.h"
#include "kernel/layout.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/pages.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/vm/backend.h"
#include "svm/npt_format.h"
#include "svm/vmcb.h"
#include "svm/vmcb_check.h"

#define MSR_VM_CR 0xC0010114
#define MSR_VM_HSAVE_PA 0xC0010117
#define VM_CR_SVMDIS (1ULL << 4)
#define EFER_SVME (1ULL << 12)

/* CPUID 0x8000000A EDX. */
#define SVM_FEATURE_NPT (1u << 0)
#define SVM_FEATURE_NRIPS (1u << 3)
#define SVM_FEATURE_VMCB_CLEAN (1u << 5)
#define SVM_FEATURE_FLUSH_BY_ASID (1u << 6)
#define SVM_FEATURE_DECODE_ASSISTS (1u << 7)

/* VMCB clean-bit groups (APM Vol. 2, 15.15.3). */
#define CLEAN_INTERCEPTS (1u << 0)
#define CLEAN_IOPM (1u << 1)
#define CLEAN_ASID (1u << 2)
#define CLEAN_TPR (1u << 3)
#define CLEAN_NP (1u << 4)
#define CLEAN_CRX (1u << 5)
#define CLEAN_DRX (1u << 6)
#define CLEAN_DT (1u << 7)
#define CLEAN_SEG (1u << 8)
#define CLEAN_CR2 (1u << 9)
#define CLEAN_ALL_DIRTY 0xFFFFFFFFu

#define MSRPM_PAGES 2
#define IOPM_PAGES 3
/* Every VP runs on its own CPU, and ASIDs tag TLB entries per CPU, so one
 * ASID per VTL is enough. */
#define GUEST_ASID_BASE 1

#define PAT_POWER_ON 0x0007040600070406ULL

void svm_vmrun(u64 vmcb_pa, u64 host_vmsave_pa, u64 *gpr);

struct svm_cpu {
	void *hsave;		/* VM_HSAVE_PA: VMRUN's own host save area */
	void *host_vmsave;	/* our VMSAVE area for the host's FS/GS/TR/... */
	u64 host_vmsave_pa;
};

struct svm_bank {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u8 *msrpm;
	u8 *iopm;
	u8 pending_tlb;
	/* VMCB fields we changed since the last VMRUN, as clean-bit groups: the
	 * CPU may keep the others cached (APM 15.15.3). */
	u32 dirty;
	/* The fields VMRUN checks, as we asked for them: QEMU and Bochs overwrite
	 * the save area with host state when VMRUN fails, so the report and the
	 * dump put these back.  Only these: the copy is on every entry. */
	struct {
		u64 efer, cr0, cr3, cr4, dr6, dr7, g_pat, rip, rflags;
		struct vmcb_segment cs;
	} entry_state;
	bool event_pending;
	u64 event;		/* EVENTINJ value for the next entry */
	/* The guest runs its NMI handler: SVM keeps no visible NMI-blocking
	 * state, so the IRET that ends the handler is intercepted instead. */
	bool nmi_blocked;
};

static u32 svm_features;
static u32 svm_asids;

static struct svm_bank *bank_of(struct vp *vp)
{
	return vp_bank(vp)->hw;
}

static struct vmcb *vmcb_of(struct vp *vp)
{
	return bank_of(vp)->vmcb;
}

static int svm_cpu_enable(void)
{
	struct percpu *pc = this_cpu();

	if (!cpu_features.svm) {
		printk(LOG_ERR, "svm: CPUID says this CPU has no SVM\n");
		return -1;
	}
	u64 vm_cr = 0;
	/* Some emulators do not implement VM_CR; treat a missing MSR as "not
	 * disabled". */
	if (rdmsr_safe(MSR_VM_CR, &vm_cr) && (vm_cr & VM_CR_SVMDIS)) {
		printk(LOG_ERR, "svm: SVM is disabled by firmware (VM_CR.SVMDIS); enable it in the BIOS setup\n");
		return -1;
	}
	struct cpuid_regs r = cpuid(0x8000000A);
	svm_features = r.edx;
	svm_asids = r.ebx;
	if (!(svm_features & SVM_FEATURE_NPT)) {
		printk(LOG_ERR, "svm: no nested paging (NPT); this hypervisor needs it\n");
		return -1;
	}
	struct svm_cpu *sc = kzalloc(sizeof(*sc));
	if (!sc)
		return -1;
	sc->hsave = pages_alloc(1);
	sc->host_vmsave = pages_alloc(1);
	if (!sc->hsave || !sc->host_vmsave)
		return -1;
	sc->host_vmsave_pa = virt_to_phys(sc->host_vmsave);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, virt_to_phys(sc->hsave));
	/* The host's FS/GS/TR/LDTR and SYSCALL MSRs never change after boot: save
	 * them once, svm_vmrun loads them back after every exit. */
	__asm__ volatile("vmsave %%rax" ::"a"(sc->host_vmsave_pa) : "memory");
	pc->virt_cpu = sc;
	return 0;
}

static void msrpm_set(u8 *msrpm, u32 msr, bool read, bool write)
{
	u32 base;

	/* Three 2 KiB blocks cover three 8 K-MSR ranges; everything else always
	 * exits (APM Vol. 2, 15.11). */
	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 0x800, msr -= 0xC0000000;
	else if (msr >= 0xC0010000 && msr <= 0xC0011FFF)
		base = 0x1000, msr -= 0xC0010000;
	else
		return;
	u32 bit = msr * 2;
	u8 *byte = &msrpm[base + bit / 8];
	u8 rmask = (u8)(1u << (bit % 8)), wmask = (u8)(1u << (bit % 8 + 1));
	*byte = (u8)((*byte & ~(rmask | wmask)) | (read ? rmask : 0) | (write ? wmask : 0));
}

static void svm_intercept_msr(struct vp *vp, u32 msr, bool read, bool write)
{
	msrpm_set(bank_of(vp)->msrpm, msr, read, write);
	bank_of(vp)->dirty |= CLEAN_IOPM;
}

static void svm_intercept_io(struct vp *vp, u16 port, bool intercept)
{
	u8 *iopm = bank_of(vp)->iopm;
	bank_of(vp)->dirty |= CLEAN_IOPM;
	if (intercept)
		iopm[port / 8] |= (u8)(1u << (port % 8));
	else
		iopm[port / 8] &= (u8)~(1u << (port % 8));
}

static void seg_flat(struct vmcb_segment *s, u16 sel, u16 attrib)
{
	s->selector = sel;
	s->attrib = attrib;
	s->limit = 0xFFFFFFFF;
	s->base = 0;
}

static int svm_bank_create(struct vp *vp, struct vtl_bank *bank)
{
	struct svm_bank *b = kzalloc(sizeof(*b));

	if (!b)
		return -1;
	b->vmcb = pages_alloc(1);
	b->msrpm = pages_alloc(MSRPM_PAGES);
	b->iopm = pages_alloc(IOPM_PAGES);
	if (!b->vmcb || !b->msrpm || !b->iopm)
		return -1;
	b->vmcb_pa = virt_to_phys(b->vmcb);
	b->dirty = CLEAN_ALL_DIRTY;
	bank->hw = b;

	struct vmcb_control *c = &b->vmcb->control;
	struct vmcb_save *s = &b->vmcb->save;

	/* Physical interrupts, NMIs and INIT belong to the host; the guest's own
	 * nested-virtualisation instructions must fault (VMRUN must be
	 * intercepted, or VMRUN fails its consistency checks). */
	c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
			     SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT |
			     SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO_PROT |
			     SVM_INTERCEPT_MSR_PROT | SVM_INTERCEPT_SHUTDOWN;
	c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
			     SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
			     SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT |
			     SVM_INTERCEPT_MWAIT_COND;
	c->iopm_base_pa = virt_to_phys(b->iopm);
	c->msrpm_base_pa = virt_to_phys(b->msrpm);
	c->guest_asid = GUEST_ASID_BASE + bank->vtl;
	/* The guest's IF and TPR then only gate virtual interrupts; physical ones
	 * always reach the host. */
	c->vintr = SVM_VINTR_MASKING;
	c->np_enable = 1;
	c->tlb_control = SVM_TLB_FLUSH_ALL;

	/* Multiboot entry state: 32-bit protected mode, flat 4 GiB segments,
	 * paging off (Multiboot 0.6.96, 3.2). */
	seg_flat(&s->cs, 0x08, 0xC9B);
	seg_flat(&s->ds, 0x10, 0xC93);
	seg_flat(&s->es, 0x10, 0xC93);
	seg_flat(&s->ss, 0x10, 0xC93);
	seg_flat(&s->fs, 0x10, 0xC93);
	seg_flat(&s->gs, 0x10, 0xC93);
	s->gdtr.limit = 0xFFFF;
	s->idtr.limit = 0x3FF;
	s->ldtr.attrib = 0x82;
	s->ldtr.limit = 0xFFFF;
	s->tr.attrib = 0x8B; /* busy 32-bit TSS: VMRUN requires a usable TR */
	s->tr.limit = 0xFFFF;
	s->cr0 = CR0_PE | CR0_ET;
	/* EFER.SVME must be set in a guest VMCB (APM 15.5.1 consistency checks);
	 * the guest never sees it (EFER reads and writes are intercepted). */
	s->efer = EFER_SVME;
	s->rflags = 0x2;
	s->dr6 = 0xFFFF0FF0;
	s->dr7 = 0x400;
	s->g_pat = PAT_POWER_ON;

	/* Everything is intercepted until the core opens it up. */
	memset(b->msrpm, 0xFF, MSRPM_PAGES * PAGE_SIZE);
	return 0;
}

static void svm_bank_destroy(struct vp *vp, struct vtl_bank *bank)
{
	struct svm_bank *b = bank->hw;
	if (!b)
		return;
	pages_free(b->vmcb, 1);
	pages_free(b->msrpm, MSRPM_PAGES);
	pages_free(b->iopm, IOPM_PAGES);
	kfree(b);
	bank->hw = NULL;
}

static void svm_bank_set_slat_root(struct vp *vp, struct vtl_bank *bank, u64 root_hpa)
{
	struct svm_bank *b = bank->hw;
	b->vmcb->control.n_cr3 = root_hpa;
	b->pending_tlb = SVM_TLB_FLUSH_ALL;
	b->dirty |= CLEAN_NP;
}

static u64 svm_event_encode(const struct vp_event *ev)
{
	static const u8 type[] = {
		[VP_EVENT_EXTINT] = SVM_EVENT_TYPE_INTR,
		[VP_EVENT_NMI] = SVM_EVENT_TYPE_NMI,
		[VP_EVENT_EXCEPTION] = SVM_EVENT_TYPE_EXCEPTION,
		[VP_EVENT_SOFTINT] = SVM_EVENT_TYPE_SOFTINT,
	};
	u64 v = ev->vector | ((u64)type[ev->type] << SVM_EVENT_TYPE_SHIFT) | SVM_EVENT_VALID;
	if (ev->has_error_code)
		v |= SVM_EVENT_ERROR_VALID | ((u64)ev->error_code << 32);
	return v;
}

static void svm_inject(struct vp *vp, const struct vp_event *ev)
{
	struct svm_bank *b = bank_of(vp);
	/* An interrupted delivery waits to be redone (svm_run): it wins over an
	 * exception a handler raises now, which the guest's instruction raises
	 * again once the event is delivered; dropping the event instead would
	 * leave an acknowledged interrupt in service for ever. */
	if (b->event_pending && ev->type == VP_EVENT_EXCEPTION)
		return;
	b->event = svm_event_encode(ev);
	b->event_pending = true;
	if (ev->type == VP_EVENT_NMI) {
		b->nmi_blocked = true;
		b->vmcb->control.intercept_misc1 |= SVM_INTERCEPT_IRET;
		b->dirty |= CLEAN_INTERCEPTS;
	}
}

/* An external interrupt is taken at an instruction boundary with RFLAGS.IF
 * set, outside the shadow of STI or MOV SS, and after any event already
 * queued for this entry (APM Vol. 2, 15.20 and 15.21.4). */
static bool svm_irq_allowed(struct vp *vp)
{
	struct svm_bank *b = bank_of(vp);
	const struct vmcb *v = b->vmcb;

	return !b->event_pending && (v->save.rflags & RFLAGS_IF) &&
	       !(v->control.interrupt_shadow & SVM_INTERRUPT_SHADOW);
}

static bool svm_nmi_allowed(struct vp *vp)
{
	struct svm_bank *b = bank_of(vp);
	return !b->event_pending && !b->nmi_blocked;
}

/* A virtual interrupt request at the highest priority, ignoring V_TPR, with
 * the VINTR intercept: the CPU exits exactly when the guest could take it
 * (APM Vol. 2, 15.21.4); the core then injects the real vector. */
static void svm_set_irq_window(struct vp *vp, bool on)
{
	struct svm_bank *b = bank_of(vp);
	struct vmcb_control *c = &b->vmcb->control;
	bool is_on = c->intercept_misc1 & SVM_INTERCEPT_VINTR;

	if (on == is_on)
		return;
	if (on) {
		c->vintr |= SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xFULL << SVM_VINTR_PRIO_SHIFT);
		c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
	} else {
		c->vintr &= ~(SVM_VINTR_V_IRQ | SVM_VINTR_IGN_TPR | (0xFULL << SVM_VINTR_PRIO_SHIFT));
		c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	}
	b->dirty |= CLEAN_TPR | CLEAN_INTERCEPTS;
}

static void svm_cancel_events(struct vp *vp)
{
	struct svm_bank *b = bank_of(vp);

	b->event_pending = false;
	b->nmi_blocked = false;
	b->vmcb->control.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
	b->vmcb->control.interrupt_shadow = 0;
	b->dirty |= CLEAN_INTERCEPTS;
	svm_set_irq_window(vp, false);
}

static void svm_set_nmi_window(struct vp *vp, bool on)
{
	/* Nothing to ask for: the IRET intercept stays on while blocked. */
	(void)vp;
	(void)on;
}

static void svm_flush_tlb(struct vp *vp, enum tlb_flush_scope scope)
{
	struct svm_bank *b = bank_of(vp);
	(void)scope;
	/* With NPT, the ASID tags combined translations too, so flushing the ASID
	 * covers both scopes. */
	b->pending_tlb = (svm_features & SVM_FEATURE_FLUSH_BY_ASID) ? SVM_TLB_FLUSH_ASID
								     : SVM_TLB_FLUSH_ALL;
}

/* INVLPGA (APM vol. 3): the address's translations in the ASID, on this CPU,
 * for every PCID as KVM also relies on for its Hyper-V flushes. */
static void svm_flush_gva(struct vp *vp, u64 gva)
{
	u32 asid = bank_of(vp)->vmcb->control.guest_asid;
	__asm__ volatile("invlpga %%rax, %%ecx" ::"a"(gva), "c"(asid) : "memory");
}

static bool exception_has_error_code(u8 vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
	       vector == 29 || vector == 30;
}

/* CR4 bits the architecture defines (VME..PKS); anything else is reserved. */
#define CR4_DEFINED 0x1F77FFFULL
/* EFER bits AMD defines: SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE, MCOMMIT,
 * INTWB, UAIE, AIBRSE. */
#define EFER_DEFINED 0x36FD01ULL

/* VMRUN says only "invalid"; name the consistency rule the VMCB breaks.  The
 * save area is put back as it was at VMRUN so the dump shows the bad state. */
static void explain_invalid_vmcb(struct vmcb *vmcb, const struct svm_bank *b)
{
	struct vmcb_save *s = &vmcb->save;
	s->efer = b->entry_state.efer;
	s->cr0 = b->entry_state.cr0;
	s->cr3 = b->entry_state.cr3;
	s->cr4 = b->entry_state.cr4;
	s->dr6 = b->entry_state.dr6;
	s->dr7 = b->entry_state.dr7;
	s->g_pat = b->entry_state.g_pat;
	s->rip = b->entry_state.rip;
	s->rflags = b->entry_state.rflags;
	s->cs = b->entry_state.cs;
	struct vmcb_check_caps caps = {
		.phys_addr_bits = (u8)cpu_features.phys_addr_bits,
		.long_mode = true,
		.cr4_reserved = ~CR4_DEFINED,
		.efer_reserved = ~EFER_DEFINED,
	};
	const char *rule = vmcb_check(vmcb, &caps);
	printk(LOG_ERR, "svm: VMRUN failed the consistency checks (exit code %llx): %s\n",
	       (unsigned long long)vmcb->control.exit_code,
	       rule ? rule : "no rule we know of is broken; see the VMCB dump");
}

static void svm_decode_exit(struct vp *vp, struct vmcb *vmcb, struct vm_exit *e)
{
	struct vmcb_control *c = &vmcb->control;
	u64 code = c->exit_code;

	memset(e, 0, sizeof(*e));
	e->hw_reason = code;
	e->qualification = c->exit_info1;
	e->qualification2 = c->exit_info2;
	if ((u32)code == SVM_EXIT_INVALID_LOW) {
		explain_invalid_vmcb(vmcb, bank_of(vp));
		e->reason = VM_EXIT_INVALID_STATE;
		return;
	}
	/* Next-RIP save gives the length of every intercepted instruction. */
	if ((svm_features & SVM_FEATURE_NRIPS) && c->next_rip > vmcb->save.rip &&
	    c->next_rip - vmcb->save.rip <= 15)
		e->insn_len = (u8)(c->next_rip - vmcb->save.rip);
	if ((svm_features & SVM_FEATURE_DECODE_ASSISTS) && c->insn_len <= 15) {
		e->insn_bytes_len = c->insn_len;
		memcpy(e->insn_bytes, c->insn_bytes, c->insn_len);
	}

	if (code >= SVM_EXIT_EXCEPTION_BASE && code < SVM_EXIT_EXCEPTION_BASE + 32) {
		e->reason = VM_EXIT_EXCEPTION;
		e->exception.vector = (u8)(code - SVM_EXIT_EXCEPTION_BASE);
		e->exception.has_error_code = exception_has_error_code(e->exception.vector);
		e->exception.error_code = (u32)c->exit_info1;
		return;
	}
	switch (code) {
	case SVM_EXIT_CPUID:
		e->reason = VM_EXIT_CPUID;
		break;
	case SVM_EXIT_MSR:
		e->reason = c->exit_info1 ? VM_EXIT_MSR_WRITE : VM_EXIT_MSR_READ;
		e->msr.index = (u32)vp->gpr[VP_RCX];
		break;
	case SVM_EXIT_IOIO: {
		u64 info = c->exit_info1;
		e->reason = VM_EXIT_IO;
		e->io.port = (u16)(info >> SVM_IOIO_PORT_SHIFT);
		e->io.in = info & SVM_IOIO_IN;
		e->io.string = info & SVM_IOIO_STR;
		e->io.rep = info & SVM_IOIO_REP;
		e->io.size = (info >> SVM_IOIO_SIZE_SHIFT) & 1 ? 1 : (info >> SVM_IOIO_SIZE_SHIFT) & 2 ? 2 : 4;
		/* EXITINFO2 always holds the next RIP for IOIO (APM 15.10.2). */
		if (c->exit_info2 > vmcb->save.rip && c->exit_info2 - vmcb->save.rip <= 15)
			e->insn_len = (u8)(c->exit_info2 - vmcb->save.rip);
		break;
	}
	case SVM_EXIT_NPF: {
		u64 err = c->exit_info1;
		e->reason = VM_EXIT_SLAT_VIOLATION;
		e->slat.gpa = c->exit_info2;
		e->slat.present = err & SVM_NPF_PRESENT;
		e->slat.access = (err & SVM_NPF_FETCH)	 ? SLAT_ACCESS_EXEC
				 : (err & SVM_NPF_WRITE) ? SLAT_ACCESS_WRITE
							 : SLAT_ACCESS_READ;
		if (err & SVM_NPF_USER)
			e->slat.access |= SLAT_ACCESS_USER;
		break;
	}
	case SVM_EXIT_VMMCALL:
		e->reason = VM_EXIT_HYPERCALL;
		break;
	case SVM_EXIT_HLT:
		e->reason = VM_EXIT_HLT;
		break;
	case SVM_EXIT_INTR:
		e->reason = VM_EXIT_EXTERNAL_INTERRUPT;
		break;
	case SVM_EXIT_NMI:
		e->reason = VM_EXIT_NMI;
		break;
	case SVM_EXIT_SMI:
		/* An SMI was pending: nothing to do, it is taken once GIF is set. */
		e->reason = VM_EXIT_EXTERNAL_INTERRUPT;
		break;
	case SVM_EXIT_INIT:
		e->reason = VM_EXIT_INIT;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = VM_EXIT_TRIPLE_FAULT;
		break;
	case SVM_EXIT_VINTR:
		e->reason = VM_EXIT_INTERRUPT_WINDOW;
		break;
	case SVM_EXIT_IRET:
		/* The exit comes before the IRET runs; NMIs are unblocked a
		 * little early (an NMI could nest at that IRET).  See
		 * docs/architecture.md. */
		e->reason = VM_EXIT_NMI_WINDOW;
		bank_of(vp)->nmi_blocked = false;
		c->intercept_misc1 &= ~SVM_INTERCEPT_IRET;
		bank_of(vp)->dirty |= CLEAN_INTERCEPTS;
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		e->reason = VM_EXIT_VIRT_INSN;
		break;
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
		e->reason = VM_EXIT_MONITOR_MWAIT;
		break;
	case SVM_EXIT_XSETBV:
		e->reason = VM_EXIT_XSETBV;
		break;
	case SVM_EXIT_PAUSE:
		e->reason = VM_EXIT_PAUSE;
		break;
	default:
		e->reason = VM_EXIT_UNHANDLED;
		break;
	}
}

static void svm_run(struct vp *vp, struct vm_exit *exit)
{
	struct svm_bank *b = bank_of(vp);
	struct vmcb *vmcb = b->vmcb;
	struct svm_cpu *sc = this_cpu()->virt_cpu;

	vmcb->save.rax = vp->gpr[VP_RAX];
	vmcb->save.rsp = vp->gpr[VP_RSP];
	u64 injected = b->event_pending ? b->event : 0;
	vmcb->control.event_inject = injected;
	b->event_pending = false;
	/* EVENTINJ delivers an external interrupt whatever RFLAGS.IF and the
	 * interrupt shadow say (APM Vol. 2, 15.20), where a VMX entry would
	 * fail: the check is ours.  A delivery being redone finds the state it
	 * was first injected in, so this holds for it too. */
	if ((injected & SVM_EVENT_VALID) &&
	    ((injected >> SVM_EVENT_TYPE_SHIFT) & 7) == SVM_EVENT_TYPE_INTR &&
	    (!(vmcb->save.rflags & RFLAGS_IF) ||
	     (vmcb->control.interrupt_shadow & SVM_INTERRUPT_SHADOW)))
		panic("svm: vp%u: interrupt %#llx injected with IF clear or in a shadow "
		      "(rflags %#llx, shadow %#llx)", vp->index, (unsigned long long)injected,
		      (unsigned long long)vmcb->save.rflags,
		      (unsigned long long)vmcb->control.interrupt_shadow);
	if (b->pending_tlb) {
		vmcb->control.tlb_control = b->pending_tlb;
		b->pending_tlb = SVM_TLB_NOTHING;
	}
	/* Without the feature the field must be zero (everything reloaded). */
	vmcb->control.clean_bits = (svm_features & SVM_FEATURE_VMCB_CLEAN) ? ~b->dirty : 0;
	b->dirty = 0;
	b->entry_state.efer = vmcb->save.efer;
	b->entry_state.cr0 = vmcb->save.cr0;
	b->entry_state.cr3 = vmcb->save.cr3;
	b->entry_state.cr4 = vmcb->save.cr4;
	b->entry_state.dr6 = vmcb->save.dr6;
	b->entry_state.dr7 = vmcb->save.dr7;
	b->entry_state.g_pat = vmcb->save.g_pat;
	b->entry_state.rip = vmcb->save.rip;
	b->entry_state.rflags = vmcb->save.rflags;
	b->entry_state.cs = vmcb->save.cs;

	svm_vmrun(b->vmcb_pa, sc->host_vmsave_pa, vp->gpr);

	vmcb->control.tlb_control = SVM_TLB_NOTHING;
	vp->gpr[VP_RAX] = vmcb->save.rax;
	vp->gpr[VP_RSP] = vmcb->save.rsp;
	/* An event whose delivery the exit interrupted must be delivered again
	 * (APM 15.7.2), except a software interrupt, INT3 or INTO the guest
	 * executed itself: RIP is still on its instruction, which runs again,
	 * and injecting it too would run the handler twice (KVM moves next_rip
	 * instead).  One the core injected returns where the core chose. */
	u64 pending = vmcb->control.exit_int_info;
	if (pending & SVM_EVENT_VALID) {
		u32 type = (u32)(pending >> SVM_EVENT_TYPE_SHIFT) & 7;
		u8 vector = (u8)pending;
		bool soft = type == SVM_EVENT_TYPE_SOFTINT ||
			    (type == SVM_EVENT_TYPE_EXCEPTION && (vector == 3 || vector == 4));
		if (!soft || pending == injected) {
			b->event = pending;
			b->event_pending = true;
		}
	}
	svm_decode_exit(vp, vmcb, exit);
}

static u64 *reg_slot(struct vmcb *v, enum vp_reg reg)
{
	struct vmcb_save *s = &v->save;
	switch (reg) {
	case VP_RIP: return &s->rip;
	case VP_RFLAGS: return &s->rflags;
	case VP_CR0: return &s->cr0;
	case VP_CR2: return &s->cr2;
	case VP_CR3: return &s->cr3;
	case VP_CR4: return &s->cr4;
	case VP_EFER: return &s->efer;
	case VP_DR6: return &s->dr6;
	case VP_DR7: return &s->dr7;
	case VP_PAT: return &s->g_pat;
	case VP_SYSENTER_CS: return &s->sysenter_cs;
	case VP_SYSENTER_ESP: return &s->sysenter_esp;
	case VP_SYSENTER_EIP: return &s->sysenter_eip;
	case VP_STAR: return &s->star;
	case VP_LSTAR: return &s->lstar;
	case VP_CSTAR: return &s->cstar;
	case VP_SFMASK: return &s->sfmask;
	case VP_KERNEL_GS_BASE: return &s->kernel_gs_base;
	default: return NULL;
	}
}

static u64 svm_get_reg(struct vp *vp, enum vp_reg reg)
{
	struct vmcb *v = vmcb_of(vp);
	if (reg == VP_CR8)
		return v->control.vintr & 0xF;
	/* SVME is ours (it must be set in a guest VMCB); the guest never sees it. */
	if (reg == VP_EFER)
		return v->save.efer & ~EFER_SVME;
	u64 *slot = reg_slot(v, reg);
	return slot ? *slot : 0;
}

static u32 reg_clean_group(enum vp_reg reg)
{
	switch (reg) {
	case VP_CR0: case VP_CR3: case VP_CR4: case VP_EFER: return CLEAN_CRX;
	case VP_DR6: case VP_DR7: return CLEAN_DRX;
	case VP_PAT: return CLEAN_NP;
	case VP_CR2: return CLEAN_CR2;
	case VP_CR8: return CLEAN_TPR;
	default: return 0; /* always loaded, or moved by VMLOAD */
	}
}

static void svm_set_reg(struct vp *vp, enum vp_reg reg, u64 value)
{
	struct vmcb *v = vmcb_of(vp);
	bank_of(vp)->dirty |= reg_clean_group(reg);
	if (reg == VP_CR8) {
		v->control.vintr = (v->control.vintr & ~0xFULL) | (value & 0xF);
		return;
	}
	if (reg == VP_EFER)
		value |= EFER_SVME;
	/* Stepping over an instruction ends the shadow of a preceding STI or
	 * MOV SS, as completing it would have. */
	if (reg == VP_RIP)
		v->control.interrupt_shadow &= ~SVM_INTERRUPT_SHADOW;
	u64 *slot = reg_slot(v, reg);
	if (slot)
		*slot = value;
}

static struct vmcb_segment *seg_slot(struct vmcb *v, enum vp_seg seg)
{
	struct vmcb_save *s = &v->save;
	struct vmcb_segment *table[VP_SEG_COUNT] = {
		[VP_ES] = &s->es, [VP_CS] = &s->cs, [VP_SS] = &s->ss, [VP_DS] = &s->ds,
		[VP_FS] = &s->fs, [VP_GS] = &s->gs, [VP_LDTR] = &s->ldtr, [VP_TR] = &s->tr,
		[VP_GDTR] = &s->gdtr, [VP_IDTR] = &s->idtr,
	};
	return table[seg];
}

static void svm_get_seg(struct vp *vp, enum vp_seg seg, struct segment *out)
{
	struct vmcb_segment *s = seg_slot(vmcb_of(vp), seg);
	out->selector = s->selector;
	out->attr = s->attrib;
	out->limit = s->limit;
	out->base = s->base;
}

static void svm_set_seg(struct vp *vp, enum vp_seg seg, const struct segment *in)
{
	struct vmcb *v = vmcb_of(vp);
	struct vmcb_segment *s = seg_slot(v, seg);
	if (seg == VP_ES || seg == VP_CS || seg == VP_SS || seg == VP_DS)
		bank_of(vp)->dirty |= CLEAN_SEG;
	else if (seg == VP_GDTR || seg == VP_IDTR)
		bank_of(vp)->dirty |= CLEAN_DT;
	s->selector = in->selector;
	s->attrib = in->attr;
	s->limit = in->limit;
	s->base = in->base;
	/* The VMCB keeps CPL separately; it follows SS.DPL (APM 15.5.1). */
	if (seg == VP_SS)
		v->save.cpl = (u8)SEG_ATTR_DPL(in->attr);
}

static void svm_dump(struct vp *vp)
{
	struct vmcb *v = vmcb_of(vp);
	struct vmcb_control *c = &v->control;

	printk(LOG_ERR, "vmcb: pa %llx asid %u np %llu n_cr3 %llx tlb %u vintr %llx shadow %llx\n",
	       (unsigned long long)bank_of(vp)->vmcb_pa, c->guest_asid,
	       (unsigned long long)c->np_enable, (unsigned long long)c->n_cr3, c->tlb_control,
	       (unsigned long long)c->vintr, (unsigned long long)c->interrupt_shadow);
	printk(LOG_ERR, "vmcb: intercepts cr %08x dr %08x exc %08x misc %08x %08x %08x\n",
	       c->intercept_cr, c->intercept_dr, c->intercept_exceptions, c->intercept_misc1,
	       c->intercept_misc2, c->intercept_misc3);
	printk(LOG_ERR, "vmcb: exit %llx info1 %llx info2 %llx intinfo %llx eventinj %llx nrip %llx\n",
	       (unsigned long long)c->exit_code, (unsigned long long)c->exit_info1,
	       (unsigned long long)c->exit_info2, (unsigned long long)c->exit_int_info,
	       (unsigned long long)c->event_inject, (unsigned long long)c->next_rip);
	printk(LOG_ERR, "vmcb: cpl %u efer %llx g_pat %llx\n", v->save.cpl,
	       (unsigned long long)v->save.efer, (unsigned long long)v->save.g_pat);
}

static const struct slat_format *svm_slat_format(void)
{
	return &npt_format;
}

static void svm_describe(char *buf, size_t size)
{
	fmt_snprintf(buf, size, "SVM rev %u, %u ASIDs, NPT%s%s%s%s",
		     cpuid(0x8000000A).eax & 0xFF, svm_asids,
		     svm_features & SVM_FEATURE_NRIPS ? ", next-RIP" : "",
		     svm_features & SVM_FEATURE_DECODE_ASSISTS ? ", decode assists" : "",
		     svm_features & SVM_FEATURE_VMCB_CLEAN ? ", clean bits" : "",
		     svm_features & SVM_FEATURE_FLUSH_BY_ASID ? ", flush-by-ASID" : "");
}

const struct vm_backend_ops svm_backend_ops = {
	.name = "svm",
	.cpu_enable = svm_cpu_enable,
	.bank_create = svm_bank_create,
	.bank_destroy = svm_bank_destroy,
	.bank_set_slat_root = svm_bank_set_slat_root,
	.run = svm_run,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.get_seg = svm_get_seg,
	.set_seg = svm_set_seg,
	.inject = svm_inject,
	.irq_allowed = svm_irq_allowed,
	.nmi_allowed = svm_nmi_allowed,
	.set_irq_window = svm_set_irq_window,
	.set_nmi_window = svm_set_nmi_window,
	.cancel_events = svm_cancel_events,
	.flush_tlb = svm_flush_tlb,
	.flush_gva = svm_flush_gva,
	.intercept_msr = svm_intercept_msr,
	.intercept_io = svm_intercept_io,
	.dump = svm_dump,
	.slat_format = svm_slat_format,
	.describe = svm_describe,
};
