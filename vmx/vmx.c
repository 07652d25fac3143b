/* Intel VMX backend (SDM Vol. 3C, chapters 24-29).
 *
 * One VMCS per VTL bank, with EPT, unrestricted guest (guests may run in any
 * mode, real mode included) and, when the CPU has it, VPID.  The control
 * words come from the pure computation in vmx_caps.c; this file does the
 * hardware side: VMXON, VMCS fields, VM entry, exit decoding, registers.
 *
 * Rules the code below relies on:
 *   - every VMCS access happens on the VP's own CPU (a VMCS is current on one
 *     logical processor only); VPs are pinned, so a VMCS never migrates;
 *   - guest state that VMX does not switch stays live in the hardware while
 *     the hypervisor runs: CR2, DR0-3, DR6 (the host takes no page faults and
 *     sets no breakpoints), XCR0 (the host uses no extended state), and
 *     KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK, TSC_AUX (the host never
 *     executes SYSCALL, SWAPGS or RDTSCP).  get_reg/set_reg reach them with
 *     RDMSR/WRMSR.  A second VTL bank must swap the MSRs on a VTL switch;
 *   - the guest's CR0.NE and CR4.VMXE are fixed to 1 by VMX (IA32_VMX_CR0/CR4
 *     FIXED0).  The CR0/CR4 guest/host masks hide them: the guest reads its own
 *     values from the read shadows, and a MOV to CR0/CR4 that changes a masked
 *     bit exits and is emulated here (handle_cr_access) without involving the
 *     core.  CR0.PG is not masked: VM exits store EFER.LMA into the "IA-32e
 *     mode guest" entry control (IA32_VMX_MISC bit 5, mandatory with
 *     unrestricted guest), so the guest enters and leaves long mode natively.
 *
 * The rest of vmx/: vmx_caps.c (pure: capabilities and control words),
 * vmx_diag.c (pure: error names, guest-state rules), vmx_report.c (failure
 * reports and the VMCS dump), vmx_entry.S (VMLAUNCH/VMRESUME), ept_format.c
 * (the EPT entry codec for gpa_view). */
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
#include "kernel/vm/gpa_view.h"
#include "vmx/ept_format.h"
#include "vmx/vmx_diag.h"
#include "vmx/vmx_internal.h"

STATIC_ASSERT(VMCS_HOST_RSP == 0x6C14, "vmx_entry.S writes HOST_RSP by number");

/* ---- debug hook ----------------------------------------------------------------
 * Set at build time (make CC="gcc -DVMX_DEBUG_CR_EXITS=1"): CR0.PG and CR3
 * loads/stores exit even when this CPU does not need that, to exercise the
 * emulation that CPUs without IA32_VMX_MISC bit 5 or without the TRUE
 * controls rely on.  (A broken guest state for the VM-entry failure report
 * comes from the core's debug_bad_guest_state option.) */
#ifndef VMX_DEBUG_CR_EXITS
#define VMX_DEBUG_CR_EXITS 0
#endif
static bool debug_cr_exits = VMX_DEBUG_CR_EXITS;

#define CR0_TS (1ULL << 3)
#define CR4_PSE (1ULL << 4)
#define CR4_VMXE (1ULL << 13)
#define CR4_PCIDE (1ULL << 17)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define CR4_PKE (1ULL << 22)
#define RFLAGS_RESERVED1 (1ULL << 1)

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_CSTAR 0xC0000083
#define MSR_SFMASK 0xC0000084
#define MSR_TSC_AUX 0xC0000103

#define PAT_POWER_ON 0x0007040600070406ULL
/* One VPID per VTL.  VPIDs tag TLB entries per logical processor and every
 * VP owns its CPU, so VPs on different CPUs may share them; 0 is the host's. */
#define VPID_BASE 1

#define FLUSH_GUEST (1u << 0)
#define FLUSH_SLAT (1u << 1)

int vmx_enter(u64 *gpr, u64 launched);
void vmx_exit_entry(void);

struct vmx_caps vmx_caps;
static bool vmx_caps_valid;

void vmcs_write(u64 field, u64 value)
{
	static bool reported;
	if (vmx_write(field, value) || reported)
		return;
	/* A VMWRITE only fails for a field this CPU lacks or a read-only one:
	 * a bug here, reported once so that a dump still comes out. */
	reported = true;
	u32 err = (u32)vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	printk(LOG_ERR, "vmx: VMWRITE of field %llx failed: error %u (%s)\n",
	       (unsigned long long)field, err, vmx_insn_error_name(err));
}

static void vmcs_set_bits(u64 field, u64 bits, bool on)
{
	u64 v = vmcs_read(field);
	u64 n = on ? v | bits : v & ~bits;
	if (n != v)
		vmcs_write(field, n);
}

static inline u64 read_dr6(void)
{
	u64 v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(u64 v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

/* ---- per-CPU enable --------------------------------------------------------------- */
static void read_cap_msrs(struct vmx_msrs *m)
{
	*m = (struct vmx_msrs){0};
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	m->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	m->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* These MSRs exist only when the bits below say so (Appendix A); reading
	 * a missing one is a #GP. */
	if (m->basic & VMX_BASIC_TRUE_CTLS) {
		m->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		m->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		m->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		m->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	if ((m->procbased >> 32) & PROC_SECONDARY_CONTROLS) {
		m->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if ((m->procbased2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
			m->ept_vpid_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

static bool same_caps(const struct vmx_caps *a, const struct vmx_caps *b)
{
	return a->revision == b->revision && memcmp(a->ctl, b->ctl, sizeof(a->ctl)) == 0 &&
	       a->cr0_must1 == b->cr0_must1 && a->cr0_must0 == b->cr0_must0 &&
	       a->cr4_must1 == b->cr4_must1 && a->cr4_must0 == b->cr4_must0 &&
	       a->flush_guest == b->flush_guest && a->flush_slat == b->flush_slat &&
	       a->saves_lma == b->saves_lma && a->addr_32bit == b->addr_32bit;
}

static void *alloc_vmx_pages(const struct vmx_caps *c, u64 count)
{
	/* IA32_VMX_BASIC bit 48: VMXON region, VMCS and the structures it
	 * points to must then lie below 4 GiB (A.1). */
	u64 pa = pages_alloc_phys(count, c->addr_32bit ? BELOW_4G : 0);
	return pa ? phys_to_virt(pa) : NULL;
}

static int vmx_cpu_enable(void)
{
	struct percpu *pc = this_cpu();
	struct vmx_msrs msrs;
	char err[160];

	if (!(cpuid(1).ecx & (1u << 5))) {
		printk(LOG_ERR, "vmx: CPUID says this CPU has no VMX\n");
		return -1;
	}
	/* IA32_FEATURE_CONTROL (SDM 24.7): once locked, VMXON outside SMX works
	 * only if bit 2 is set.  Firmware that leaves it unlocked lets us choose;
	 * locking it also keeps anything later from turning VMX off. */
	u64 fc = rdmsr(MSR_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		wrmsr(MSR_FEATURE_CONTROL, fc);
	} else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		printk(LOG_ERR, "vmx: VMX is disabled by firmware (IA32_FEATURE_CONTROL=%llx is locked "
				"without VMX outside SMX); enable Intel VT-x in the firmware setup\n",
		       (unsigned long long)fc);
		return -1;
	}

	read_cap_msrs(&msrs);
	struct vmx_cpu *vc = kzalloc(sizeof(*vc));
	if (!vc)
		return -1;
	if (vmx_caps_compute(&msrs, &vc->caps, err, sizeof(err)) < 0) {
		printk(LOG_ERR, "vmx: %s\n", err);
		printk(LOG_ERR, "vmx: IA32_VMX_BASIC=%llx PROCBASED=%llx PROCBASED2=%llx EPT_VPID_CAP=%llx\n",
		       (unsigned long long)msrs.basic, (unsigned long long)msrs.procbased,
		       (unsigned long long)msrs.procbased2, (unsigned long long)msrs.ept_vpid_cap);
		kfree(vc);
		return -1;
	}
	if (!vmx_caps_valid) {
		vmx_caps = vc->caps;
		vmx_caps_valid = true;
		printk(LOG_DEBUG, "vmx: BASIC %llx PIN %llx/%llx PROC %llx/%llx PROC2 %llx EXIT %llx/%llx ENTRY %llx/%llx MISC %llx EPT_VPID %llx CR0 %llx/%llx CR4 %llx/%llx\n",
		       (unsigned long long)msrs.basic, (unsigned long long)msrs.pinbased,
		       (unsigned long long)msrs.true_pinbased, (unsigned long long)msrs.procbased,
		       (unsigned long long)msrs.true_procbased, (unsigned long long)msrs.procbased2,
		       (unsigned long long)msrs.exit, (unsigned long long)msrs.true_exit,
		       (unsigned long long)msrs.entry, (unsigned long long)msrs.true_entry,
		       (unsigned long long)msrs.misc, (unsigned long long)msrs.ept_vpid_cap,
		       (unsigned long long)msrs.cr0_fixed0, (unsigned long long)msrs.cr0_fixed1,
		       (unsigned long long)msrs.cr4_fixed0, (unsigned long long)msrs.cr4_fixed1);
	} else if (!same_caps(&vmx_caps, &vc->caps)) {
		/* VMCS setup, masks and flushes are computed once for all CPUs. */
		printk(LOG_ERR, "vmx: this CPU's VMX capabilities differ from the boot CPU's\n");
		kfree(vc);
		return -1;
	}

	/* The VMXON region: a zeroed region that starts with the VMCS revision
	 * identifier (25.11.5). */
	vc->vmxon_region = alloc_vmx_pages(&vc->caps, 1);
	if (!vc->vmxon_region) {
		kfree(vc);
		return -1;
	}
	*(u32 *)vc->vmxon_region = vc->caps.revision;

	/* CR0 and CR4 must respect the FIXED0/FIXED1 MSRs for as long as the CPU
	 * is in VMX operation, and VMXON needs CR4.VMXE (24.8). */
	u64 cr0 = read_cr0(), cr4 = read_cr4();
	write_cr0((cr0 | msrs.cr0_fixed0) & msrs.cr0_fixed1);
	write_cr4(((cr4 | msrs.cr4_fixed0) & msrs.cr4_fixed1) | CR4_VMXE);
	if (!vmx_on(virt_to_phys(vc->vmxon_region))) {
		printk(LOG_ERR, "vmx: VMXON failed (CR0=%llx CR4=%llx, region %llx, revision %x)\n",
		       (unsigned long long)read_cr0(), (unsigned long long)read_cr4(),
		       (unsigned long long)virt_to_phys(vc->vmxon_region), vc->caps.revision);
		write_cr4(cr4);
		write_cr0(cr0);
		pages_free(vc->vmxon_region, 1);
		kfree(vc);
		return -1;
	}
	/* Nothing guarantees that EPT- or VPID-tagged translations from before
	 * (firmware, an earlier kernel) are gone (SDM 29.4.3). */
	if (vc->caps.ept.invept_all)
		vmx_invept(INVEPT_ALL_CONTEXT, 0);
	if (vc->caps.vpid && vc->caps.invvpid.all)
		vmx_invvpid(INVVPID_ALL_CONTEXT, 0, 0);
	pc->virt_cpu = vc;
	return 0;
}

/* ---- the VMCS of a bank ------------------------------------------------------------ */
static struct vmx_cpu *cpu_state(void)
{
	return this_cpu()->virt_cpu;
}

/* Makes the bank's VMCS the current one on this CPU.  VMREAD/VMWRITE act on
 * the current VMCS only. */
static void vmcs_use(struct vp *vp, struct vmx_bank *b)
{
	struct vmx_cpu *vc = cpu_state();

	if (vp->cpu != this_cpu_id())
		panic("vmx: VMCS of vp%u touched from cpu %u; VMCS accesses must run on the VP's CPU",
		      vp->index, this_cpu_id());
	if (vc->current_vmcs == b->vmcs_pa)
		return;
	if (!vmx_ptrld(b->vmcs_pa))
		panic("vmx: VMPTRLD %llx failed: error %u", (unsigned long long)b->vmcs_pa,
		      (u32)vmcs_read(VMCS_VM_INSTRUCTION_ERROR));
	vc->current_vmcs = b->vmcs_pa;
}

struct vmx_bank *vmx_bank_of(struct vp *vp)
{
	struct vmx_bank *b = vp_bank(vp)->hw;
	vmcs_use(vp, b);
	return b;
}

static void msr_bitmap_set(u8 *bm, u32 msr, bool read, bool write)
{
	u32 base;

	/* Read bitmaps for the low (0-1FFF) and high (C0000000-C0001FFF) MSRs,
	 * then the write bitmaps; anything else always exits (25.6.9). */
	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 1024, msr -= 0xC0000000;
	else
		return;
	u8 bit = (u8)(1u << (msr % 8));
	u8 *r = &bm[base + msr / 8], *w = &bm[base + 2048 + msr / 8];
	*r = read ? (u8)(*r | bit) : (u8)(*r & ~bit);
	*w = write ? (u8)(*w | bit) : (u8)(*w & ~bit);
}

static void vmx_intercept_msr(struct vp *vp, u32 msr, bool read, bool write)
{
	msr_bitmap_set(((struct vmx_bank *)vp_bank(vp)->hw)->msr_bitmap, msr, read, write);
}

static void vmx_intercept_io(struct vp *vp, u16 port, bool intercept)
{
	/* Bitmap A covers ports 0-7FFF, B 8000-FFFF; they are contiguous here. */
	u8 *io = ((struct vmx_bank *)vp_bank(vp)->hw)->io_bitmaps;
	if (intercept)
		io[port / 8] |= (u8)(1u << (port % 8));
	else
		io[port / 8] &= (u8)~(1u << (port % 8));
}

static void guest_seg_write(int i, u16 sel, u64 base, u32 limit, u32 ar)
{
	vmcs_write(VMCS_GUEST_SEG_SELECTOR(i), sel);
	vmcs_write(VMCS_GUEST_SEG_BASE(i), base);
	vmcs_write(VMCS_GUEST_SEG_LIMIT(i), limit);
	vmcs_write(VMCS_GUEST_SEG_AR(i), ar);
}

static void write_host_state(void)
{
	struct percpu *pc = this_cpu();
	struct {
		u16 limit;
		u64 base;
	} __packed idtr;

	/* The hypervisor's own state, restored by every VM exit (28.5).  The
	 * selectors must have RPL=0 and TI=0; FS and GS may be null in 64-bit
	 * mode because their bases come from the fields below.  The CPU sets the
	 * GDTR and IDTR limits to FFFF and the TR limit to 67 on exit: harmless
	 * (the GDT and IDT hold every selector and vector we use, and the TSS has
	 * no I/O bitmap). */
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SELECTOR, SEL_CODE64);
	vmcs_write(VMCS_HOST_SS_SELECTOR, SEL_DATA);
	vmcs_write(VMCS_HOST_DS_SELECTOR, SEL_DATA);
	vmcs_write(VMCS_HOST_ES_SELECTOR, SEL_DATA);
	vmcs_write(VMCS_HOST_FS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_GS_SELECTOR, 0);
	vmcs_write(VMCS_HOST_TR_SELECTOR, SEL_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_HOST_GS_BASE, (u64)pc); /* this_cpu() */
	vmcs_write(VMCS_HOST_TR_BASE, (u64)&pc->tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, (u64)pc->gdt);
	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	/* The host never uses SYSENTER; the fields must still be canonical. */
	vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(MSR_PAT));
	/* HOST_RSP is written by vmx_enter right before each entry. */
	vmcs_write(VMCS_HOST_RIP, (u64)vmx_exit_entry);
}

static void write_guest_entry_state(const struct vmx_caps *c, struct vmx_bank *b)
{
	/* Multiboot entry state (Multiboot 0.6.96, 3.2): 32-bit protected mode,
	 * flat 4 GiB code and data segments, paging off, IF clear.  The same
	 * values as the SVM backend's, in VMX access-rights form: 0xC09B is an
	 * accessed execute/read code segment with D=1 and G=1, 0xC093 the data
	 * counterpart (the accessed bit is required, 27.3.1.2). */
	guest_seg_write(VMX_SEG_CS, 0x08, 0, 0xFFFFFFFF, 0xC09B);
	for (int i = 0; i < 6; i++)
		if (i != VMX_SEG_CS)
			guest_seg_write(i, 0x10, 0, 0xFFFFFFFF, 0xC093);
	guest_seg_write(VMX_SEG_LDTR, 0, 0, 0xFFFF, VMX_AR_UNUSABLE);
	/* TR must be usable and a busy TSS even when the guest never loaded one
	 * (27.3.1.2): a busy 32-bit TSS with nothing behind it. */
	guest_seg_write(VMX_SEG_TR, 0, 0, 0xFFFF, 0x8B);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0x3FF);

	/* CR0 = PE|ET as the guest sees it; the real value adds the bits VMX
	 * forces (NE).  CR4 = 0 as seen, VMXE underneath. */
	u64 cr0 = CR0_PE | CR0_ET, cr4 = 0;
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, b->cr0_mask);
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR0, (cr0 | c->cr0_must1) & ~c->cr0_must0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, b->cr4_mask);
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR4, (cr4 | c->cr4_must1) & ~c->cr4_must0);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_RSP, 0);
	vmcs_write(VMCS_GUEST_RIP, 0);
	vmcs_write(VMCS_GUEST_RFLAGS, RFLAGS_RESERVED1); /* bit 1 must be set */
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_IA32_PAT, PAT_POWER_ON);
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* No shadow VMCS: the link pointer must then be all ones (27.3.1.5). */
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	for (int i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, 0);
}

static void zero_lazy_msrs(void)
{
	/* Guest MSRs VMX does not switch (see the top of the file) start at their
	 * reset values. */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	wrmsr(MSR_STAR, 0);
	wrmsr(MSR_LSTAR, 0);
	wrmsr(MSR_CSTAR, 0);
	wrmsr(MSR_SFMASK, 0);
	if (cpu_features.max_ext_leaf >= 0x80000001 && (cpuid(0x80000001).edx & (1u << 27)))
		wrmsr(MSR_TSC_AUX, 0);
}

static void vmx_bank_destroy(struct vp *vp, struct vtl_bank *bank);

static int vmx_bank_create(struct vp *vp, struct vtl_bank *bank)
{
	struct vmx_cpu *vc = cpu_state();
	const struct vmx_caps *c = &vc->caps;
	struct vmx_bank *b = kzalloc(sizeof(*b));

	if (!b)
		return -1;
	bank->hw = b;
	b->vmcs = alloc_vmx_pages(c, 1);
	b->msr_bitmap = alloc_vmx_pages(c, 1);
	b->io_bitmaps = alloc_vmx_pages(c, 2);
	b->vapic = alloc_vmx_pages(c, 1);
	if (!b->vmcs || !b->msr_bitmap || !b->io_bitmaps || !b->vapic) {
		vmx_bank_destroy(vp, bank);
		return -1;
	}
	b->vmcs_pa = virt_to_phys(b->vmcs);
	b->vpid = c->vpid ? (u16)(VPID_BASE + bank->vtl) : 0;
	b->cr0_mask = vmx_cr0_guest_host_mask(c, !c->saves_lma || debug_cr_exits);
	b->cr4_mask = vmx_cr4_guest_host_mask(c);
	b->flush = FLUSH_SLAT;

	/* A new VMCS: revision identifier, then VMCLEAR to put it in the clear
	 * launch state (and flush anything the CPU caches), then VMPTRLD. */
	*(u32 *)b->vmcs = c->revision;
	if (!vmx_clear(b->vmcs_pa) || !vmx_ptrld(b->vmcs_pa)) {
		printk(LOG_ERR, "vmx: VMCLEAR/VMPTRLD of a new VMCS failed\n");
		vmx_bank_destroy(vp, bank);
		return -1;
	}
	vc->current_vmcs = b->vmcs_pa;

	u32 proc = c->ctl[VMX_CTL_PROC];
	if (debug_cr_exits)
		proc |= PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING;
	vmcs_write(VMCS_PIN_CONTROLS, c->ctl[VMX_CTL_PIN]);
	vmcs_write(VMCS_PROC_CONTROLS, proc);
	vmcs_write(VMCS_PROC2_CONTROLS, c->ctl[VMX_CTL_PROC2]);
	vmcs_write(VMCS_EXIT_CONTROLS, c->ctl[VMX_CTL_EXIT]);
	vmcs_write(VMCS_ENTRY_CONTROLS, c->ctl[VMX_CTL_ENTRY]);
	/* The guest handles its own exceptions; a triple fault still exits. */
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_PF_ERROR_MASK, 0);
	vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0);
	vmcs_write(VMCS_ENTRY_INSTRUCTION_LEN, 0);
	if (proc & PROC_TSC_OFFSETTING)
		vmcs_write(VMCS_TSC_OFFSET, 0);
	/* Every MSR exits until the core opens it; no port exits until the core
	 * claims it. */
	memset(b->msr_bitmap, 0xFF, PAGE_SIZE);
	vmcs_write(VMCS_MSR_BITMAP, virt_to_phys(b->msr_bitmap));
	vmcs_write(VMCS_IO_BITMAP_A, virt_to_phys(b->io_bitmaps));
	vmcs_write(VMCS_IO_BITMAP_B, virt_to_phys(b->io_bitmaps) + PAGE_SIZE);
	/* The TPR shadow: a 64-bit guest's MOV CR8 reads and writes byte 0x80 of
	 * this page instead of the physical APIC.  A threshold of 0 never exits
	 * and always satisfies the entry check against VTPR (27.2.1.1). */
	vmcs_write(VMCS_VIRTUAL_APIC_ADDR, virt_to_phys(b->vapic));
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
	if (c->xsaves)
		vmcs_write(VMCS_XSS_EXITING_BITMAP, 0); /* XSAVES never exits */
	if (c->vpid)
		vmcs_write(VMCS_VPID, b->vpid); /* must be non-zero (27.2.1.1) */
	vmcs_write(VMCS_EPT_POINTER, 0);	  /* set by bank_set_slat_root */

	write_host_state();
	write_guest_entry_state(c, b);
	if (bank->vtl == 0)
		zero_lazy_msrs();
	return 0;
}

static void vmx_bank_destroy(struct vp *vp, struct vtl_bank *bank)
{
	struct vmx_bank *b = bank->hw;
	struct vmx_cpu *vc = cpu_state();

	if (!b)
		return;
	if (b->vmcs) {
		/* VMCLEAR writes the VMCS back and makes it inactive (25.11.3). */
		if (b->vmcs_pa && vc && vc->current_vmcs == b->vmcs_pa)
			vc->current_vmcs = 0;
		if (b->vmcs_pa)
			vmx_clear(b->vmcs_pa);
		pages_free(b->vmcs, 1);
	}
	if (b->msr_bitmap)
		pages_free(b->msr_bitmap, 1);
	if (b->io_bitmaps)
		pages_free(b->io_bitmaps, 2);
	if (b->vapic)
		pages_free(b->vapic, 1);
	kfree(b);
	bank->hw = NULL;
}

static void vmx_bank_set_slat_root(struct vp *vp, struct vtl_bank *bank, u64 root_hpa)
{
	struct vmx_bank *b = bank->hw;
	vmcs_use(vp, b);
	/* 4-level walk, WB paging structures, no A/D flags (ept_format.h). */
	b->eptp = ept_eptp(root_hpa);
	vmcs_write(VMCS_EPT_POINTER, b->eptp);
	b->flush |= FLUSH_SLAT;
}

/* ---- events and flushes -------------------------------------------------------------- */
static void vmx_inject(struct vp *vp, const struct vp_event *ev)
{
	static const u8 type[] = {
		[VP_EVENT_EXTINT] = INTR_TYPE_EXTERNAL,
		[VP_EVENT_NMI] = INTR_TYPE_NMI,
		[VP_EVENT_EXCEPTION] = INTR_TYPE_HW_EXCEPTION,
		[VP_EVENT_SOFTINT] = INTR_TYPE_SW_INTERRUPT,
	};
	struct vmx_bank *b = vmx_bank_of(vp);

	/* An interrupted delivery waits to be redone (vmx_run) and wins over an
	 * exception raised now: see svm_inject. */
	if (b->event.pending && ev->type == VP_EVENT_EXCEPTION)
		return;
	b->event.info = ev->vector | ((u32)type[ev->type] << 8) | INTR_INFO_VALID;
	b->event.error_code = ev->error_code;
	b->event.insn_len = 0;
	if (ev->has_error_code)
		b->event.info |= INTR_INFO_ERROR_CODE;
	if (ev->type == VP_EVENT_SOFTINT && !vmx_caps.zero_len_inject) {
		/* Like SVM's EVENTINJ, the core's software interrupt returns to the
		 * current RIP.  VMX pushes RIP + instruction length and wants a
		 * length of 1-15 unless IA32_VMX_MISC bit 30 allows 0 (27.2.1.3):
		 * step RIP back by the length we claim. */
		b->event.insn_len = 1;
		vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) - 1);
	}
	b->event.pending = true;
}

static void vmx_flush_tlb(struct vp *vp, enum tlb_flush_scope scope)
{
	struct vmx_bank *b = vp_bank(vp)->hw;
	/* Done right before the next entry, on the VP's own CPU: INVEPT and
	 * INVVPID act on the logical processor that executes them. */
	b->flush |= scope == TLB_FLUSH_GUEST_SLAT ? FLUSH_SLAT : FLUSH_GUEST;
}

/* INVVPID individual-address (SDM 30.3): the address's linear and combined
 * translations for the VPID, every PCID, global ones too.  Without a VPID
 * every entry flushes anyway; without the instruction type, or when it fails
 * (a non-canonical address), the whole VPID is flushed at the next entry. */
static void vmx_flush_gva(struct vp *vp, u64 gva)
{
	struct vmx_bank *b = vp_bank(vp)->hw;

	if (!b->vpid)
		return;
	if (!vmx_caps.invvpid.addr || !vmx_invvpid(INVVPID_ADDRESS, b->vpid, gva))
		b->flush |= FLUSH_GUEST;
}

static void do_flush(struct vmx_bank *b, enum vmx_flush_method m)
{
	bool ok = true;
	switch (m) {
	case VMX_FLUSH_NONE:
		break;
	case VMX_FLUSH_INVVPID_SINGLE:
		ok = vmx_invvpid(INVVPID_SINGLE_CONTEXT, b->vpid, 0);
		break;
	case VMX_FLUSH_INVVPID_ALL:
		ok = vmx_invvpid(INVVPID_ALL_CONTEXT, 0, 0);
		break;
	case VMX_FLUSH_INVEPT_SINGLE:
		ok = vmx_invept(INVEPT_SINGLE_CONTEXT, b->eptp);
		break;
	case VMX_FLUSH_INVEPT_ALL:
		ok = vmx_invept(INVEPT_ALL_CONTEXT, 0);
		break;
	}
	if (!ok)
		panic("vmx: %s failed (eptp %llx vpid %u): error %u", vmx_flush_method_name(m),
		      (unsigned long long)b->eptp, b->vpid, (u32)vmcs_read(VMCS_VM_INSTRUCTION_ERROR));
}

/* ---- guest register helpers ------------------------------------------------------------ */
static u64 guest_cr0(const struct vmx_bank *b)
{
	return (vmcs_read(VMCS_GUEST_CR0) & ~b->cr0_mask) |
	       (vmcs_read(VMCS_CR0_READ_SHADOW) & b->cr0_mask);
}

static u64 guest_cr4(const struct vmx_bank *b)
{
	return (vmcs_read(VMCS_GUEST_CR4) & ~b->cr4_mask) |
	       (vmcs_read(VMCS_CR4_READ_SHADOW) & b->cr4_mask);
}

static bool guest_in_64bit_code(void)
{
	return (vmcs_read(VMCS_GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read(VMCS_GUEST_SEG_AR(VMX_SEG_CS)) & (1u << 13));
}

/* The guest executed the instruction: step over it, and end the one-
 * instruction interrupt shadow of a preceding STI or MOV SS, which the
 * hardware would have ended by completing the instruction. */
static void set_guest_rip(u64 rip)
{
	vmcs_write(VMCS_GUEST_RIP, rip);
	u64 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(u64)(INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS));
}

static void skip_instruction(u8 len)
{
	u64 rip = vmcs_read(VMCS_GUEST_RIP) + len;
	u32 cs_ar = (u32)vmcs_read(VMCS_GUEST_SEG_AR(VMX_SEG_CS));
	if (!guest_in_64bit_code())
		rip &= (cs_ar & (1u << 14)) ? 0xFFFFFFFFULL : 0xFFFFULL;
	set_guest_rip(rip);
}

/* PAE paging with EPT takes the four PDPTEs from the VMCS at VM entry
 * (27.3.2.4); a MOV to CR0/CR3/CR4 we emulate must load them as the CPU
 * would (SDM Vol. 3A 4.4.1): reserved bits in a present entry are a #GP. */
static bool load_pdptes(struct vp *vp, u64 cr3)
{
	struct gpa_mapping m;
	u64 gpa = cr3 & 0xFFFFFFE0ULL;
	u64 pdpte[4];
	u64 rsvd = 0x1E6ULL | ~((1ULL << cpu_features.phys_addr_bits) - 1);

	if (gpa_view_lookup(vp_bank(vp)->view, gpa, &m) < 0 || !(m.perms & GPA_PERM_R))
		return false;
	memcpy(pdpte, phys_to_virt(m.hpa), sizeof(pdpte));
	for (int i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
			return false;
	for (int i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return true;
}

/* The guest's CR0: what it reads in the shadow, the bits VMX forces in the
 * real value.  CD and NW are special: VM entries and exits leave them alone
 * (SDM 27.3.1.1, 28.5.1), so the guest and the hypervisor share the physical
 * bits, as they do when the guest writes CR0 without exiting; a write made
 * here must therefore reach the physical register too, unless it is the
 * combination NW without CD, which would be a #GP in the hypervisor (an
 * emulated guest write never gets here with it; a core debug hook may). */
static void set_guest_cr0(const struct vmx_caps *c, u64 val)
{
	u64 host = read_cr0();

	vmcs_write(VMCS_CR0_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR0, (val | c->cr0_must1) & ~c->cr0_must0);
	if (((host ^ val) & (CR0_CD | CR0_NW)) && !((val & CR0_NW) && !(val & CR0_CD)))
		write_cr0((host & ~(CR0_CD | CR0_NW)) | (val & (CR0_CD | CR0_NW)));
}

static bool pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA);
}

/* MOV to CR0 as the CPU does it (SDM Vol. 3A 2.5, 9.8.5, and MOV CR in
 * Vol. 2B), for a write that exited because it changes a bit in the
 * guest/host mask.  Returns false for #GP. */
static bool emulate_cr0_write(struct vp *vp, struct vmx_bank *b, u64 val)
{
	const struct vmx_caps *c = &vmx_caps;
	u64 old = guest_cr0(b), cr4 = guest_cr4(b);
	u64 efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	u64 entry = vmcs_read(VMCS_ENTRY_CONTROLS);

	if (val >> 32)
		return false;
	val |= CR0_ET; /* hardwired to 1 */
	if ((val & CR0_PG) && !(val & CR0_PE))
		return false;
	if ((val & CR0_NW) && !(val & CR0_CD))
		return false;
	if (!(old & CR0_PG) && (val & CR0_PG)) {
		if (efer & EFER_LME) {
			/* Activating IA-32e mode needs PAE (9.8.5). */
			if (!(cr4 & CR4_PAE))
				return false;
			efer |= EFER_LMA;
			entry |= ENTRY_IA32E_MODE_GUEST;
		} else if ((cr4 & CR4_PAE) && !load_pdptes(vp, vmcs_read(VMCS_GUEST_CR3))) {
			return false;
		}
	} else if ((old & CR0_PG) && !(val & CR0_PG)) {
		if (cr4 & CR4_PCIDE)
			return false;
		if (efer & EFER_LMA) {
			/* Paging cannot be turned off from 64-bit code. */
			if (guest_in_64bit_code())
				return false;
			efer &= ~EFER_LMA;
			entry &= ~(u64)ENTRY_IA32E_MODE_GUEST;
		}
	}
	set_guest_cr0(c, val);
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	vmcs_write(VMCS_ENTRY_CONTROLS, entry);
	/* Changing PG, PE or WP changes translations (Vol. 3A 4.10.4.1). */
	if ((old ^ val) & (CR0_PG | CR0_PE | CR0_WP))
		b->flush |= FLUSH_GUEST;
	return true;
}

static bool emulate_cr4_write(struct vp *vp, struct vmx_bank *b, u64 val)
{
	const struct vmx_caps *c = &vmx_caps;
	u64 old = guest_cr4(b), cr0 = guest_cr0(b);
	u64 efer = vmcs_read(VMCS_GUEST_IA32_EFER);

	/* VMX is hidden from the guest (CPUID.1:ECX[5] = 0), so CR4.VMXE is a
	 * reserved bit to it; so is every bit IA32_VMX_CR4_FIXED1 disallows. */
	if (val & (c->cr4_must0 | CR4_VMXE))
		return false;
	if ((efer & EFER_LMA) && !(val & CR4_PAE))
		return false;
	if (pae_paging(cr0, val, efer) &&
	    ((old ^ val) & (CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PGE)) &&
	    !load_pdptes(vp, vmcs_read(VMCS_GUEST_CR3)))
		return false;
	vmcs_write(VMCS_CR4_READ_SHADOW, val);
	vmcs_write(VMCS_GUEST_CR4, (val | c->cr4_must1) & ~c->cr4_must0);
	if ((old ^ val) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP | CR4_PKE))
		b->flush |= FLUSH_GUEST;
	return true;
}

static bool emulate_cr3_write(struct vp *vp, struct vmx_bank *b, u64 val)
{
	u64 cr4 = guest_cr4(b);
	bool flush = true;

	/* With CR4.PCIDE, bit 63 asks to keep the PCID's translations. */
	if ((cr4 & CR4_PCIDE) && (val & (1ULL << 63))) {
		flush = false;
		val &= ~(1ULL << 63);
	}
	if (guest_in_64bit_code() && (val >> cpu_features.phys_addr_bits))
		return false;
	if (pae_paging(guest_cr0(b), cr4, vmcs_read(VMCS_GUEST_IA32_EFER)) && !load_pdptes(vp, val))
		return false;
	vmcs_write(VMCS_GUEST_CR3, val);
	if (flush)
		b->flush |= FLUSH_GUEST;
	return true;
}

/* A control-register exit: emulated here in full, because the core knows
 * nothing of guest/host masks.  Returns false for an access this backend
 * does not emulate (the core then sees VM_EXIT_CR_ACCESS). */
static bool handle_cr_access(struct vp *vp, struct vmx_bank *b, const struct vm_exit *e)
{
	u64 q = e->qualification;
	u8 cr = CR_QUAL_CR(q), gpr = CR_QUAL_GPR(q);
	bool wide = guest_in_64bit_code();
	bool ok;

	switch (CR_QUAL_TYPE(q)) {
	case CR_ACCESS_MOV_TO: {
		/* Outside 64-bit mode MOV CR uses 32-bit operands. */
		u64 val = wide ? vp->gpr[gpr] : (u32)vp->gpr[gpr];
		if (cr == 0)
			ok = emulate_cr0_write(vp, b, val);
		else if (cr == 3)
			ok = emulate_cr3_write(vp, b, val);
		else if (cr == 4)
			ok = emulate_cr4_write(vp, b, val);
		else
			return false;
		break;
	}
	case CR_ACCESS_MOV_FROM:
		if (cr != 3)
			return false;
		/* RSP included: enter_once copies gpr[RSP] into the VMCS. */
		vp->gpr[gpr] = wide ? vmcs_read(VMCS_GUEST_CR3) : (u32)vmcs_read(VMCS_GUEST_CR3);
		ok = true;
		break;
	case CR_ACCESS_CLTS:
		ok = emulate_cr0_write(vp, b, guest_cr0(b) & ~CR0_TS);
		break;
	default: { /* LMSW: bits 3:0 only, and it cannot clear PE */
		u64 cr0 = guest_cr0(b);
		u64 src = CR_QUAL_LMSW_SOURCE(q) & 0xF;
		ok = emulate_cr0_write(vp, b, (cr0 & ~0xEULL) | src | (cr0 & CR0_PE));
		break;
	}
	}
	if (ok) {
		skip_instruction(e->insn_len);
	} else {
		b->event.info = 13 | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_ERROR_CODE | INTR_INFO_VALID;
		b->event.error_code = 0;
		b->event.insn_len = 0;
		b->event.pending = true;
	}
	return true;
}

/* ---- exit decoding ---------------------------------------------------------------------------- */
/* Exit reasons and their neutral form; `len` marks exits caused by an
 * instruction, for which the VM-exit instruction-length field is valid
 * (SDM 28.2.5). */
static const struct {
	u8 reason; /* enum vm_exit_reason; 0 (NONE): not listed */
	bool len;
} exit_map[VMX_EXIT_REASON_MAX] = {
	[VMX_EXIT_EXTERNAL_INTERRUPT] = {VM_EXIT_EXTERNAL_INTERRUPT, false},
	[VMX_EXIT_TRIPLE_FAULT] = {VM_EXIT_TRIPLE_FAULT, false},
	[VMX_EXIT_INIT] = {VM_EXIT_INIT, false},
	[VMX_EXIT_SIPI] = {VM_EXIT_SIPI, false},
	[VMX_EXIT_INTERRUPT_WINDOW] = {VM_EXIT_INTERRUPT_WINDOW, false},
	[VMX_EXIT_NMI_WINDOW] = {VM_EXIT_NMI_WINDOW, false},
	[VMX_EXIT_CPUID] = {VM_EXIT_CPUID, true},
	/* GETSEC exits only with CR4.SMXE set, and SMX is not offered. */
	[VMX_EXIT_GETSEC] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_HLT] = {VM_EXIT_HLT, true},
	[VMX_EXIT_INVLPG] = {VM_EXIT_INVLPG, true},
	[VMX_EXIT_VMCALL] = {VM_EXIT_HYPERCALL, true},
	/* VMX instructions always exit in VMX non-root operation (26.1.2). */
	[VMX_EXIT_VMCLEAR] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMLAUNCH] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMPTRLD] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMPTRST] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMREAD] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMRESUME] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMWRITE] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMXOFF] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMXON] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_INVEPT] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_INVVPID] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_VMFUNC] = {VM_EXIT_VIRT_INSN, true},
	[VMX_EXIT_CR_ACCESS] = {VM_EXIT_CR_ACCESS, true},
	[VMX_EXIT_IO] = {VM_EXIT_IO, true},
	[VMX_EXIT_RDMSR] = {VM_EXIT_MSR_READ, true},
	[VMX_EXIT_WRMSR] = {VM_EXIT_MSR_WRITE, true},
	[VMX_EXIT_MWAIT] = {VM_EXIT_MONITOR_MWAIT, true},
	[VMX_EXIT_MONITOR] = {VM_EXIT_MONITOR_MWAIT, true},
	[VMX_EXIT_PAUSE] = {VM_EXIT_PAUSE, true},
	[VMX_EXIT_EPT_VIOLATION] = {VM_EXIT_SLAT_VIOLATION, false},
	[VMX_EXIT_EPT_MISCONFIG] = {VM_EXIT_SLAT_MISCONFIG, false},
	[VMX_EXIT_PREEMPTION_TIMER] = {VM_EXIT_PREEMPTION_TIMER, false},
	[VMX_EXIT_XSETBV] = {VM_EXIT_XSETBV, true},
	[VMX_EXIT_INVD] = {VM_EXIT_INVD, true},
	/* Task switches and the rest have no neutral form yet: the core
	 * stops the partition with a dump naming hw_reason. */
};

static void decode_exit(struct vp *vp, u32 reason, struct vm_exit *e)
{
	u16 basic = VMX_EXIT_REASON_BASIC(reason);
	u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);

	memset(e, 0, sizeof(*e));
	e->hw_reason = reason;
	e->qualification = q;
	if (basic < VMX_EXIT_REASON_MAX && exit_map[basic].reason != VM_EXIT_NONE) {
		e->reason = (enum vm_exit_reason)exit_map[basic].reason;
		if (exit_map[basic].len)
			e->insn_len = (u8)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
	} else {
		e->reason = VM_EXIT_UNHANDLED;
	}

	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI: {
		u32 info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);
		e->qualification2 = info;
		if (INTR_INFO_TYPE(info) == INTR_TYPE_NMI) {
			e->reason = VM_EXIT_NMI;
			break;
		}
		e->reason = VM_EXIT_EXCEPTION;
		e->exception.vector = INTR_INFO_VECTOR(info);
		e->exception.has_error_code = info & INTR_INFO_ERROR_CODE;
		if (e->exception.has_error_code)
			e->exception.error_code = (u32)vmcs_read(VMCS_EXIT_INTR_ERROR_CODE);
		/* Software exceptions (INT3, INTO) have a length (28.2.5). */
		if (INTR_INFO_TYPE(info) == INTR_TYPE_SW_EXCEPTION ||
		    INTR_INFO_TYPE(info) == INTR_TYPE_PRIV_SW_EXCEPTION)
			e->insn_len = (u8)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN);
		break;
	}
	case VMX_EXIT_SIPI:
		e->sipi.vector = (u8)q;
		break;
	case VMX_EXIT_CR_ACCESS:
		e->cr.cr = CR_QUAL_CR(q);
		e->cr.write = CR_QUAL_TYPE(q) != CR_ACCESS_MOV_FROM;
		break;
	case VMX_EXIT_IO:
		e->io.port = IO_QUAL_PORT(q);
		e->io.size = IO_QUAL_SIZE(q);
		e->io.in = q & IO_QUAL_IN;
		e->io.string = q & IO_QUAL_STRING;
		e->io.rep = q & IO_QUAL_REP;
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->msr.index = (u32)vp->gpr[VP_RCX];
		break;
	case VMX_EXIT_EPT_VIOLATION:
		e->slat.gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
		e->slat.gva_valid = q & EPT_QUAL_GLA_VALID;
		if (e->slat.gva_valid)
			e->slat.gva = e->qualification2 = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
		/* Bits 5:3 (and 6 with MBEC) are what the entry granted: any of
		 * them set means a translation existed. */
		e->slat.present = q & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE |
				       EPT_QUAL_USER_EXECUTABLE);
		e->slat.access = (q & EPT_QUAL_FETCH)	? SLAT_ACCESS_EXEC
				 : (q & EPT_QUAL_WRITE) ? SLAT_ACCESS_WRITE
							: SLAT_ACCESS_READ;
		if (vmx_caps.ept.advanced_info && e->slat.gva_valid && (q & EPT_QUAL_USER_MODE))
			e->slat.access |= SLAT_ACCESS_USER;
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		e->slat.gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
		break;
	default:
		break;
	}
}

/* An IRET that unblocked NMIs and then faulted (or hit an EPT violation) has
 * not completed; NMI blocking must be put back before the guest retries it
 * (SDM 28.2.3). */
static void restore_nmi_blocking(u32 reason, const struct vm_exit *e)
{
	bool unblocked = false;
	u16 basic = VMX_EXIT_REASON_BASIC(reason);

	if (basic == VMX_EXIT_EXCEPTION_NMI)
		unblocked = (e->qualification2 & INTR_INFO_NMI_UNBLOCKED_BY_IRET) &&
			    INTR_INFO_VECTOR(e->qualification2) != 8;
	else if (basic == VMX_EXIT_EPT_VIOLATION)
		unblocked = e->qualification & EPT_QUAL_NMI_UNBLOCKED_BY_IRET;
	if (unblocked)
		vmcs_set_bits(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCKING_NMI, true);
}

static void enter_once(struct vp *vp, struct vmx_bank *b, struct vm_exit *exit)
{
	if (b->event.pending) {
		vmcs_write(VMCS_ENTRY_INTR_INFO, b->event.info);
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR_CODE, b->event.error_code);
		vmcs_write(VMCS_ENTRY_INSTRUCTION_LEN, b->event.insn_len);
		b->event.pending = false;
	}
	if (b->flush & FLUSH_SLAT)
		do_flush(b, vmx_caps.flush_slat);
	else if (b->flush & FLUSH_GUEST)
		do_flush(b, vmx_caps.flush_guest);
	b->flush = 0;
	vmcs_write(VMCS_GUEST_RSP, vp->gpr[VP_RSP]);

	int rc = vmx_enter(vp->gpr, b->launched);

	if (rc != 0) {
		vmx_report_insn_failure(vp, b, rc);
		memset(exit, 0, sizeof(*exit));
		exit->reason = VM_EXIT_INVALID_STATE;
		exit->hw_reason = rc == 1 ? ~0ULL : vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
		return;
	}
	u32 reason = (u32)vmcs_read(VMCS_EXIT_REASON);
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
		/* Nothing of the guest ran; the GPRs are as we loaded them. */
		u64 q = vmcs_read(VMCS_EXIT_QUALIFICATION);
		vmx_report_entry_failure(vp, reason, q);
		memset(exit, 0, sizeof(*exit));
		exit->reason = VM_EXIT_INVALID_STATE;
		exit->hw_reason = reason;
		exit->qualification = q;
		return;
	}
	b->launched = true;
	vp->gpr[VP_RSP] = vmcs_read(VMCS_GUEST_RSP);

	decode_exit(vp, reason, exit);
	if (exit->reason == VM_EXIT_NMI) {
		/* With NMI exiting the NMI was consumed by the exit, not delivered:
		 * hand it to the host's handler (the panic stop path) the way
		 * Linux's KVM does: through the IDT, with interrupts still off. */
		__asm__ volatile("int $2" ::: "memory");
	}
	restore_nmi_blocking(reason, exit);

	/* An event whose delivery the exit interrupted is delivered again on the
	 * next entry (SDM 28.2.4); a handler's exception does not replace it
	 * (vmx_inject).  Software events keep their instruction length. */
	u32 idt = (u32)vmcs_read(VMCS_IDT_VECTORING_INFO);
	if (idt & INTR_INFO_VALID) {
		u32 type = INTR_INFO_TYPE(idt);
		b->event.info = idt & ~INTR_INFO_NMI_UNBLOCKED_BY_IRET;
		b->event.error_code = (idt & INTR_INFO_ERROR_CODE)
					      ? (u32)vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE)
					      : 0;
		b->event.insn_len = (type == INTR_TYPE_SW_INTERRUPT || type == INTR_TYPE_SW_EXCEPTION ||
				     type == INTR_TYPE_PRIV_SW_EXCEPTION)
					    ? (u32)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN)
					    : 0;
		b->event.pending = true;
	}
}

static void vmx_run(struct vp *vp, struct vm_exit *exit)
{
	struct vmx_bank *b = vmx_bank_of(vp);

	/* Control-register exits are finished here (see the top of the file) and
	 * the guest re-entered; the core sees every other exit. */
	for (;;) {
		enter_once(vp, b, exit);
		if (exit->reason != VM_EXIT_CR_ACCESS || !handle_cr_access(vp, b, exit))
			return;
	}
}

/* ---- interrupt delivery ------------------------------------------------------------------------ */

/* An external interrupt is recognised with RFLAGS.IF set, outside the shadow
 * of STI or MOV SS, once any event queued for this entry went in (SDM 6.8.3,
 * 27.3.2.5); an NMI likewise except for IF, and not while the guest's NMI
 * handler runs (blocking by NMI, 27.3.1.5). */
static bool vmx_irq_allowed(struct vp *vp)
{
	struct vmx_bank *b = vmx_bank_of(vp);

	return !b->event.pending && (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS));
}

static bool vmx_nmi_allowed(struct vp *vp)
{
	struct vmx_bank *b = vmx_bank_of(vp);

	return !b->event.pending &&
	       !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS | INTR_BLOCKING_NMI));
}

static void vmx_set_irq_window(struct vp *vp, bool on)
{
	struct vmx_bank *b = vmx_bank_of(vp);

	if (b->irq_window == on)
		return;
	b->irq_window = on;
	vmcs_set_bits(VMCS_PROC_CONTROLS, PROC_INTERRUPT_WINDOW_EXITING, on);
}

static void vmx_cancel_events(struct vp *vp)
{
	struct vmx_bank *b = vmx_bank_of(vp);

	b->event.pending = false;
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmx_set_irq_window(vp, false);
}

/* With virtual NMIs the CPU tracks the guest's NMI blocking and exits once
 * it ends (SDM 25.2); the exit itself does nothing, the core injects then. */
static void vmx_set_nmi_window(struct vp *vp, bool on)
{
	vmx_bank_of(vp);
	vmcs_set_bits(VMCS_PROC_CONTROLS, PROC_NMI_WINDOW_EXITING, on);
}

/* ---- registers ------------------------------------------------------------------------------- */
static u64 vmx_get_reg(struct vp *vp, enum vp_reg reg)
{
	struct vmx_bank *b = vmx_bank_of(vp);

	switch (reg) {
	case VP_RIP: return vmcs_read(VMCS_GUEST_RIP);
	case VP_RFLAGS: return vmcs_read(VMCS_GUEST_RFLAGS);
	case VP_CR0: return guest_cr0(b);
	case VP_CR2: return read_cr2();
	case VP_CR3: return vmcs_read(VMCS_GUEST_CR3);
	case VP_CR4: return guest_cr4(b);
	case VP_CR8: return b->vapic[VAPIC_TPR] >> 4;
	case VP_EFER: return vmcs_read(VMCS_GUEST_IA32_EFER);
	case VP_DR6: return read_dr6();
	case VP_DR7: return vmcs_read(VMCS_GUEST_DR7);
	case VP_PAT: return vmcs_read(VMCS_GUEST_IA32_PAT);
	case VP_SYSENTER_CS: return vmcs_read(VMCS_GUEST_SYSENTER_CS);
	case VP_SYSENTER_ESP: return vmcs_read(VMCS_GUEST_SYSENTER_ESP);
	case VP_SYSENTER_EIP: return vmcs_read(VMCS_GUEST_SYSENTER_EIP);
	case VP_STAR: return rdmsr(MSR_STAR);
	case VP_LSTAR: return rdmsr(MSR_LSTAR);
	case VP_CSTAR: return rdmsr(MSR_CSTAR);
	case VP_SFMASK: return rdmsr(MSR_SFMASK);
	case VP_KERNEL_GS_BASE: return rdmsr(MSR_KERNEL_GS_BASE);
	default: return vp->gpr[reg < VP_GPR_COUNT ? reg : 0];
	}
}

static void vmx_set_reg(struct vp *vp, enum vp_reg reg, u64 value)
{
	struct vmx_bank *b = vmx_bank_of(vp);
	const struct vmx_caps *c = &vmx_caps;

	switch (reg) {
	case VP_RIP:
		set_guest_rip(value);
		break;
	case VP_RFLAGS:
		vmcs_write(VMCS_GUEST_RFLAGS, value | RFLAGS_RESERVED1);
		break;
	case VP_CR0:
		/* The caller keeps EFER consistent (LMA) itself. */
		set_guest_cr0(c, value);
		b->flush |= FLUSH_GUEST;
		break;
	case VP_CR2:
		write_cr2(value);
		break;
	case VP_CR3:
		vmcs_write(VMCS_GUEST_CR3, value);
		b->flush |= FLUSH_GUEST;
		break;
	case VP_CR4:
		vmcs_write(VMCS_CR4_READ_SHADOW, value);
		vmcs_write(VMCS_GUEST_CR4, (value | c->cr4_must1) & ~c->cr4_must0);
		b->flush |= FLUSH_GUEST;
		break;
	case VP_CR8:
		b->vapic[VAPIC_TPR] = (u8)((value & 0xF) << 4);
		break;
	case VP_EFER:
		/* Entry checks want LMA and "IA-32e mode guest" to agree (27.3.1.1). */
		vmcs_write(VMCS_GUEST_IA32_EFER, value);
		vmcs_set_bits(VMCS_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST, value & EFER_LMA);
		break;
	case VP_DR6:
		write_dr6(value);
		break;
	case VP_DR7: vmcs_write(VMCS_GUEST_DR7, value); break;
	case VP_PAT: vmcs_write(VMCS_GUEST_IA32_PAT, value); break;
	case VP_SYSENTER_CS: vmcs_write(VMCS_GUEST_SYSENTER_CS, value); break;
	case VP_SYSENTER_ESP: vmcs_write(VMCS_GUEST_SYSENTER_ESP, value); break;
	case VP_SYSENTER_EIP: vmcs_write(VMCS_GUEST_SYSENTER_EIP, value); break;
	case VP_STAR: wrmsr(MSR_STAR, value); break;
	case VP_LSTAR: wrmsr(MSR_LSTAR, value); break;
	case VP_CSTAR: wrmsr(MSR_CSTAR, value); break;
	case VP_SFMASK: wrmsr(MSR_SFMASK, value); break;
	case VP_KERNEL_GS_BASE: wrmsr(MSR_KERNEL_GS_BASE, value); break;
	default:
		if (reg < VP_GPR_COUNT)
			vp->gpr[reg] = value;
		break;
	}
}

static void vmx_get_seg(struct vp *vp, enum vp_seg seg, struct segment *out)
{
	vmx_bank_of(vp);
	if (seg == VP_GDTR || seg == VP_IDTR) {
		bool g = seg == VP_GDTR;
		out->selector = 0;
		out->attr = 0;
		out->base = vmcs_read(g ? VMCS_GUEST_GDTR_BASE : VMCS_GUEST_IDTR_BASE);
		out->limit = (u32)vmcs_read(g ? VMCS_GUEST_GDTR_LIMIT : VMCS_GUEST_IDTR_LIMIT);
		return;
	}
	out->selector = (u16)vmcs_read(VMCS_GUEST_SEG_SELECTOR(seg));
	out->base = vmcs_read(VMCS_GUEST_SEG_BASE(seg));
	out->limit = (u32)vmcs_read(VMCS_GUEST_SEG_LIMIT(seg));
	out->attr = vmx_ar_to_attr((u32)vmcs_read(VMCS_GUEST_SEG_AR(seg)));
}

static void vmx_set_seg(struct vp *vp, enum vp_seg seg, const struct segment *in)
{
	vmx_bank_of(vp);
	if (seg == VP_GDTR || seg == VP_IDTR) {
		bool g = seg == VP_GDTR;
		vmcs_write(g ? VMCS_GUEST_GDTR_BASE : VMCS_GUEST_IDTR_BASE, in->base);
		vmcs_write(g ? VMCS_GUEST_GDTR_LIMIT : VMCS_GUEST_IDTR_LIMIT, in->limit);
		return;
	}
	/* CPL is SS.DPL on VMX; nothing else to keep in step (unlike the VMCB). */
	guest_seg_write(seg, in->selector, in->base, in->limit, vmx_attr_to_ar(in->attr));
}

/* The EPT codec with the leaf sizes this CPU's EPT walks (2 MiB and 1 GiB
 * pages are optional, IA32_VMX_EPT_VPID_CAP bits 16 and 17): a large-page bit
 * the CPU does not support is an EPT misconfiguration, so the view must never
 * create such leaves, whatever the host's own paging supports. */
static struct slat_format ept_format_cpu;

static const struct slat_format *vmx_slat_format(void)
{
	if (!ept_format_cpu.name) {
		ept_format_cpu = ept_format;
		if (!vmx_caps.ept.page_2m)
			ept_format_cpu.leaf_levels &= (u8)~(1u << 2);
		if (!vmx_caps.ept.page_1g)
			ept_format_cpu.leaf_levels &= (u8)~(1u << 3);
	}
	return &ept_format_cpu;
}

static void vmx_describe(char *buf, size_t size)
{
	static const char *const flush[] = {
		[VMX_FLUSH_NONE] = "none", [VMX_FLUSH_INVVPID_SINGLE] = "INVVPID-single",
		[VMX_FLUSH_INVVPID_ALL] = "INVVPID-all", [VMX_FLUSH_INVEPT_SINGLE] = "INVEPT-single",
		[VMX_FLUSH_INVEPT_ALL] = "INVEPT-all",
	};
	const struct vmx_caps *c = &vmx_caps;

	/* Short: the core's buffer holds one log line. */
	fmt_snprintf(buf, size, "VMX rev %x, EPT 4-level%s%s, unrestricted guest%s%s, flush %s/%s%s%s",
		     c->revision, c->ept.page_2m ? " 2M" : "", c->ept.page_1g ? " 1G" : "",
		     c->vpid ? ", VPID" : "", c->true_ctls ? ", TRUE ctls" : "",
		     flush[c->flush_guest], flush[c->flush_slat],
		     c->preemption_timer ? ", preemption timer" : "", c->mbec ? ", MBEC" : "");
}

const struct vm_backend_ops vmx_backend_ops = {
	.name = "vmx",
	.cpu_enable = vmx_cpu_enable,
	.bank_create = vmx_bank_create,
	.bank_destroy = vmx_bank_destroy,
	.bank_set_slat_root = vmx_bank_set_slat_root,
	.run = vmx_run,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.get_seg = vmx_get_seg,
	.set_seg = vmx_set_seg,
	.inject = vmx_inject,
	.irq_allowed = vmx_irq_allowed,
	.nmi_allowed = vmx_nmi_allowed,
	.set_irq_window = vmx_set_irq_window,
	.set_nmi_window = vmx_set_nmi_window,
	.cancel_events = vmx_cancel_events,
	.flush_tlb = vmx_flush_tlb,
	.flush_gva = vmx_flush_gva,
	.intercept_msr = vmx_intercept_msr,
	.intercept_io = vmx_intercept_io,
	.dump = vmx_dump,
	.slat_format = vmx_slat_format,
	.describe = vmx_describe,
};
