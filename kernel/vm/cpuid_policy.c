/* What the guest sees from CPUID: the machine's own answers with the
 * hypervisor-present bit set and everything the hypervisor does not give the
 * guest hidden.  Same policy on both vendors (docs/guest-policy.md). */
#include "arch/x86/cpu.h"
#include "hyperv/hv_partition.h"
#include "kernel/vm/exits.h"

enum cpuid_reg { EAX, EBX, ECX, EDX };

struct cpuid_rule {
	u32 leaf;
	enum cpuid_reg reg;
	u32 clear;
	u32 set;
	const char *why;
};

static const struct cpuid_rule cpuid_rules[] = {
	{0x00000001, ECX, 1u << 5, 0, "VMX: no nested virtualisation"},
	{0x00000001, ECX, 1u << 3, 0, "MONITOR/MWAIT: intercepted, #UD"},
	{0x00000001, ECX, 0, 1u << 21, "x2APIC: the virtual APIC has both modes"},
	{0x00000001, ECX, 0, 1u << 24, "TSC-deadline: the virtual APIC timer has it"},
	{0x00000001, EDX, 0, 1u << 9, "APIC: every VP has a virtual local APIC"},
	{0x00000001, ECX, 0, 1u << 31, "hypervisor present"},
	/* The hypervisor keeps the physical APIC's thermal LVT; the virtual
	 * APIC's never fires, so the guest gets no thermal monitor to program
	 * (its THERM_INTERRUPT and MISC_ENABLE writes would be refused). */
	{0x00000001, EDX, (1u << 22) | (1u << 29), 0, "ACPI thermal control, TM1: hypervisor's"},
	{0x00000001, ECX, 1u << 8, 0, "TM2: hypervisor's"},
	/* The energy/performance bias is the machine's power policy, and the
	 * hypervisor's (ENERGY_PERF_BIAS writes are refused). */
	{0x00000006, ECX, 1u << 3, 0, "energy/performance bias: hypervisor's"},
	{0x80000001, ECX, 1u << 2, 0, "SVM: no nested virtualisation"},
	{0x80000001, ECX, 1u << 3, 0, "extended APIC space: not in the virtual APIC"},
};

#define CPUID_LEAF_OSXSAVE_BIT (1u << 27)
#define CR4_OSXSAVE (1ULL << 18)

void cpuid_for_guest(struct vp *vp, u32 leaf, u32 subleaf, u32 out[4])
{
	struct cpuid_regs r;

	/* The hypervisor range up to 0x400000FF is the Hv#1 interface. */
	if (hv_cpuid(leaf, out))
		return;
	/* SVM's feature leaf and the rest of the hypervisor range read as zeros. */
	if (leaf == 0x8000000A || (leaf >= 0x40000000 && leaf <= 0x4FFFFFFF)) {
		out[EAX] = out[EBX] = out[ECX] = out[EDX] = 0;
		return;
	}
	r = cpuid_count(leaf, subleaf);
	out[EAX] = r.eax;
	out[EBX] = r.ebx;
	out[ECX] = r.ecx;
	out[EDX] = r.edx;
	for (u32 i = 0; i < ARRAY_SIZE(cpuid_rules); i++) {
		const struct cpuid_rule *rule = &cpuid_rules[i];
		if (rule->leaf != leaf)
			continue;
		out[rule->reg] = (out[rule->reg] & ~rule->clear) | rule->set;
	}
	if (leaf == 1) {
		/* OSXSAVE mirrors the guest's CR4, not ours. */
		out[ECX] &= ~CPUID_LEAF_OSXSAVE_BIT;
		if (vp_get_reg(vp, VP_CR4) & CR4_OSXSAVE)
			out[ECX] |= CPUID_LEAF_OSXSAVE_BIT;
		out[EBX] = (out[EBX] & 0x00FFFFFF) | (vp->apic_id << 24);
	}
}

enum exit_action exit_cpuid(struct vp *vp, struct vm_exit *exit)
{
	u32 out[4];
	cpuid_for_guest(vp, (u32)vp->gpr[VP_RAX], (u32)vp->gpr[VP_RCX], out);
	vp->gpr[VP_RAX] = out[EAX];
	vp->gpr[VP_RBX] = out[EBX];
	vp->gpr[VP_RCX] = out[ECX];
	vp->gpr[VP_RDX] = out[EDX];
	return exit_skip_instruction(vp, exit);
}
