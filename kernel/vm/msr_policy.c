/* The guest's MSRs.  Everything is intercepted except the registers that are
 * pure guest context (swapped by the hardware with the VMCB/VMCS); intercepted
 * MSRs are emulated from a table, and an MSR nobody listed reads the machine's
 * value and refuses writes (#GP), so a guest can never reprogram the host. */
#include "arch/x86/cpu.h"
#include "hyperv/hv_partition.h"
#include "kernel/printk.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/vp_apic.h"

#define MSR_TSC 0x10
#define MSR_MTRRCAP 0xFE
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2FF
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_CSTAR 0xC0000083
#define MSR_SFMASK 0xC0000084
#define MSR_TSC_AUX 0xC0000103
#define MSR_VM_CR 0xC0010114
#define MSR_VM_HSAVE_PA 0xC0010117

/* EFER bits a guest may set: SCE, LME, LMA (read-only, ignored), NXE. */
#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

/* Guest context the hardware switches: no reason to exit. */
static const u32 passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
	MSR_SFMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_PAT,
	MSR_TSC_AUX,
};

typedef bool (*msr_read_fn)(struct vp *vp, u32 msr, u64 *value);
typedef bool (*msr_write_fn)(struct vp *vp, u32 msr, u64 value);

struct msr_rule {
	u32 first, last;
	msr_read_fn read;   /* NULL: #GP */
	msr_write_fn write; /* NULL: #GP */
	const char *name;
};

static bool read_efer(struct vp *vp, u32 msr, u64 *value)
{
	(void)msr;
	*value = vp_get_reg(vp, VP_EFER);
	return true;
}

static bool write_efer(struct vp *vp, u32 msr, u64 value)
{
	u64 cur = vp_get_reg(vp, VP_EFER);
	(void)msr;
	if (value & ~EFER_GUEST_WRITABLE)
		return false;
	/* Toggling LME with paging on is a #GP (SDM Vol. 3A, 9.8.5). */
	if ((vp_get_reg(vp, VP_CR0) & CR0_PG) && ((value ^ cur) & EFER_LME))
		return false;
	/* LMA is the CPU's to maintain; keep ours. */
	value = (value & ~EFER_LMA) | (cur & EFER_LMA);
	vp_set_reg(vp, VP_EFER, value);
	return true;
}

static bool read_host(struct vp *vp, u32 msr, u64 *value)
{
	(void)vp;
	return rdmsr_safe(msr, value);
}

static bool read_tsc(struct vp *vp, u32 msr, u64 *value)
{
	(void)vp;
	(void)msr;
	*value = rdtsc();
	return true;
}

/* Writes the guest may make but that must not reach the machine: the MTRRs
 * (host caching) and the TSC (shared time base).  Accepted and dropped. */
static bool write_ignored(struct vp *vp, u32 msr, u64 value)
{
	printk(LOG_DEBUG, "vp%u: wrmsr %x <- %llx ignored\n", vp->index, msr,
	       (unsigned long long)value);
	return true;
}

#define MSR_XSS 0xDA0
/* Refused WRMSRs logged before the rest go unlogged. */
#define REFUSED_WRMSR_LOG_LINES 64
#define MSR_PLATFORM_INFO 0xCE
#define PLATFORM_INFO_CPUID_FAULTING (1ULL << 31)
#define MSR_MISC_FEATURES_ENABLES 0x140

/* Intel's PLATFORM_INFO without "CPUID faulting supported": the hypervisor
 * does not emulate CPUID faulting (every CPUID exits, but none would fault). */
static bool read_platform_info(struct vp *vp, u32 msr, u64 *value)
{
	(void)vp;
	if (!rdmsr_safe(msr, value))
		return false;
	*value &= ~PLATFORM_INFO_CPUID_FAULTING;
	return true;
}

/* MISC_FEATURES_ENABLES (CPUID faulting, ring-3 MWAIT), where the machine
 * has it: reads 0, and only 0 may be written back (Linux writes what it read
 * at every CPU's bring-up). */
static bool read_misc_features(struct vp *vp, u32 msr, u64 *value)
{
	u64 host;
	(void)vp;
	*value = 0;
	return rdmsr_safe(msr, &host);
}

static bool write_misc_features(struct vp *vp, u32 msr, u64 value)
{
	u64 host;
	(void)vp;
	return value == 0 && rdmsr_safe(msr, &host);
}

/* IA32_XSS: the supervisor state components XSAVES may manage.  Live in the
 * hardware like XCR0 (the host uses none); only bits CPUID.(0xD,1) lists. */
static bool write_xss(struct vp *vp, u32 msr, u64 value)
{
	struct cpuid_regs r = cpuid_count(0xD, 1);
	u64 supported = ((u64)r.edx << 32) | r.ecx;
	(void)vp;
	if (value & ~supported)
		return false;
	wrmsr(msr, value);
	return true;
}

static const struct msr_rule msr_rules[] = {
	{MSR_EFER, MSR_EFER, read_efer, write_efer, "EFER"},
	{MSR_TSC, MSR_TSC, read_tsc, write_ignored, "TSC"},
	{MSR_MTRRCAP, MSR_MTRRCAP, read_host, NULL, "MTRRCAP"},
	/* Intel's BIOS_SIGN_ID: a kernel writes 0, runs CPUID(1) and reads the
	 * microcode revision (SDM vol. 3A 10.11.7.1); the CPUID exit runs the
	 * host's CPUID, so the host's register holds the answer.  AMD's
	 * PATCH_LEVEL at the same index is only read. */
	{0x8B, 0x8B, read_host, write_ignored, "BIOS_SIGN_ID"},
	{MSR_PLATFORM_INFO, MSR_PLATFORM_INFO, read_platform_info, NULL, "PLATFORM_INFO"},
	{MSR_MISC_FEATURES_ENABLES, MSR_MISC_FEATURES_ENABLES, read_misc_features, write_misc_features,
	 "MISC_FEATURES_ENABLES"},
	{MSR_XSS, MSR_XSS, read_host, write_xss, "XSS"},
	{0x200, 0x20F, read_host, write_ignored, "MTRR variable"},
	{0x250, 0x250, read_host, write_ignored, "MTRR fixed 64K"},
	{0x258, 0x259, read_host, write_ignored, "MTRR fixed 16K"},
	{0x268, 0x26F, read_host, write_ignored, "MTRR fixed 4K"},
	{MSR_MTRR_DEF_TYPE, MSR_MTRR_DEF_TYPE, read_host, write_ignored, "MTRR default type"},
	/* Machine check: the guest reads the machine's banks; its writes (enable
	 * masks, clearing status) must not change what the host sees. */
	{0x17A, 0x17B, read_host, write_ignored, "MCG_STATUS/MCG_CTL"},
	{0x400, 0x47F, read_host, write_ignored, "MCA banks"},
	/* AMD core and northbridge configuration (errata workarounds a kernel
	 * applies at boot): the host's settings stand. */
	{0xC001001F, 0xC001001F, read_host, write_ignored, "NB_CFG"},
	{0xC0011020, 0xC001102F, read_host, write_ignored, "AMD core configuration"},
	/* SVM and VMX are hidden, so their MSRs do not exist. */
	{MSR_VM_CR, MSR_VM_CR, NULL, NULL, "VM_CR"},
	{MSR_VM_HSAVE_PA, MSR_VM_HSAVE_PA, NULL, NULL, "VM_HSAVE_PA"},
	{MSR_FEATURE_CONTROL, MSR_FEATURE_CONTROL, NULL, NULL, "FEATURE_CONTROL"},
	{0x480, 0x491, NULL, NULL, "VMX capabilities"},
};

static const struct msr_rule *msr_rule_find(u32 msr)
{
	for (u32 i = 0; i < ARRAY_SIZE(msr_rules); i++) {
		if (msr >= msr_rules[i].first && msr <= msr_rules[i].last)
			return &msr_rules[i];
	}
	return NULL;
}

void msr_policy_apply(struct vp *vp)
{
	for (u32 i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		vm_backend->intercept_msr(vp, passthrough_msrs[i], false, false);
}

enum exit_action exit_msr_read(struct vp *vp, struct vm_exit *exit)
{
	u32 msr = exit->msr.index;
	u64 hv_value = 0;
	int hv = vp_apic_msr_read(vp, msr, &hv_value);
	if (hv > 0)
		hv = hv_msr_read(vp, msr, &hv_value);
	if (hv == 0) {
		vp->gpr[VP_RAX] = (u32)hv_value;
		vp->gpr[VP_RDX] = hv_value >> 32;
		return exit_skip_instruction(vp, exit);
	}
	if (hv < 0) {
		vp_inject_gp(vp);
		return EXIT_RESUME;
	}
	const struct msr_rule *rule = msr_rule_find(msr);
	u64 value = 0;
	bool ok = rule ? (rule->read && rule->read(vp, msr, &value)) : rdmsr_safe(msr, &value);

	if (!ok) {
		printk(LOG_DEBUG, "vp%u: rdmsr %x (%s) -> #GP\n", vp->index, msr,
		       rule ? rule->name : "unknown");
		vp_inject_gp(vp);
		return EXIT_RESUME;
	}
	vp->gpr[VP_RAX] = (u32)value;
	vp->gpr[VP_RDX] = value >> 32;
	return exit_skip_instruction(vp, exit);
}

enum exit_action exit_msr_write(struct vp *vp, struct vm_exit *exit)
{
	u32 msr = exit->msr.index;
	const struct msr_rule *rule = msr_rule_find(msr);
	u64 value = (vp->gpr[VP_RDX] << 32) | (u32)vp->gpr[VP_RAX];
	int hv = vp_apic_msr_write(vp, msr, value);
	if (hv > 0)
		hv = hv_msr_write(vp, msr, value);
	if (hv == 0)
		return exit_skip_instruction(vp, exit);
	if (hv < 0) {
		printk(LOG_DEBUG, "vp%u: wrmsr %x (APIC or Hyper-V) <- %llx: #GP\n", vp->index, msr,
		       (unsigned long long)value);
		vp_inject_gp(vp);
		return EXIT_RESUME;
	}

	if (!rule || !rule->write || !rule->write(vp, msr, value)) {
		/* Kernels probe MSRs with writes that may fault: worth a line,
		 * but a guest must not be able to flood the console with them. */
		static u32 logged;
		if (log_budget(&logged, REFUSED_WRMSR_LOG_LINES))
			printk(LOG_WARN, "vp%u: wrmsr %x (%s) <- %llx refused with #GP%s\n", vp->index,
			       msr, rule ? rule->name : "not emulated", (unsigned long long)value,
			       log_budget_note(&logged, REFUSED_WRMSR_LOG_LINES));
		vp_inject_gp(vp);
		return EXIT_RESUME;
	}
	return exit_skip_instruction(vp, exit);
}
