/* Failure reports and the VMCS dump: what a person needs to see when a VM
 * entry fails (on real hardware the CPU gives a number, not a reason) or the
 * partition stops. */
#include "kernel/lib/format.h"
#include "kernel/printk.h"
#include "vmx/vmx_diag.h"
#include "vmx/vmx_internal.h"

static const char *const seg_names[8] = {"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"};

static void snapshot_guest_state(struct vmx_guest_state *g)
{
	g->cr0 = vmcs_read(VMCS_GUEST_CR0);
	g->cr3 = vmcs_read(VMCS_GUEST_CR3);
	g->cr4 = vmcs_read(VMCS_GUEST_CR4);
	g->dr7 = vmcs_read(VMCS_GUEST_DR7);
	g->rip = vmcs_read(VMCS_GUEST_RIP);
	g->rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	g->efer = vmcs_read(VMCS_GUEST_IA32_EFER);
	g->pat = vmcs_read(VMCS_GUEST_IA32_PAT);
	g->debugctl = vmcs_read(VMCS_GUEST_IA32_DEBUGCTL);
	g->link_pointer = vmcs_read(VMCS_LINK_POINTER);
	g->pending_dbg = vmcs_read(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	g->entry_ctl = (u32)vmcs_read(VMCS_ENTRY_CONTROLS);
	g->proc2_ctl = (u32)vmcs_read(VMCS_PROC2_CONTROLS);
	g->activity = (u32)vmcs_read(VMCS_GUEST_ACTIVITY_STATE);
	g->interruptibility = (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	g->entry_intr_info = (u32)vmcs_read(VMCS_ENTRY_INTR_INFO);
	for (int i = 0; i < 8; i++) {
		g->seg[i].selector = (u16)vmcs_read(VMCS_GUEST_SEG_SELECTOR(i));
		g->seg[i].limit = (u32)vmcs_read(VMCS_GUEST_SEG_LIMIT(i));
		g->seg[i].ar = (u32)vmcs_read(VMCS_GUEST_SEG_AR(i));
		g->seg[i].base = vmcs_read(VMCS_GUEST_SEG_BASE(i));
	}
	g->gdtr_base = vmcs_read(VMCS_GUEST_GDTR_BASE);
	g->gdtr_limit = (u32)vmcs_read(VMCS_GUEST_GDTR_LIMIT);
	g->idtr_base = vmcs_read(VMCS_GUEST_IDTR_BASE);
	g->idtr_limit = (u32)vmcs_read(VMCS_GUEST_IDTR_LIMIT);
}

static void report_guest_state(struct vp *vp)
{
	struct vmx_guest_state g;
	const char *rules[8];

	snapshot_guest_state(&g);
	int n = vmx_check_guest_state(&g, &vmx_caps, rules, (int)ARRAY_SIZE(rules));
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(rules); i++)
		printk(LOG_ERR, "vmx:   breaks: %s\n", rules[i]);
	if (n == 0)
		printk(LOG_ERR, "vmx:   none of the checked guest-state rules is broken (SDM 27.3.1 has more)\n");
	printk(LOG_ERR, "vmx:   CR0=%llx (shadow %llx mask %llx) CR3=%llx CR4=%llx (shadow %llx mask %llx)\n",
	       (unsigned long long)g.cr0, (unsigned long long)vmcs_read(VMCS_CR0_READ_SHADOW),
	       (unsigned long long)vmcs_read(VMCS_CR0_GUEST_HOST_MASK), (unsigned long long)g.cr3,
	       (unsigned long long)g.cr4, (unsigned long long)vmcs_read(VMCS_CR4_READ_SHADOW),
	       (unsigned long long)vmcs_read(VMCS_CR4_GUEST_HOST_MASK));
	printk(LOG_ERR, "vmx:   EFER=%llx entry controls=%x RIP=%llx RFLAGS=%llx DR7=%llx PAT=%llx\n",
	       (unsigned long long)g.efer, g.entry_ctl, (unsigned long long)g.rip,
	       (unsigned long long)g.rflags, (unsigned long long)g.dr7, (unsigned long long)g.pat);
	printk(LOG_ERR, "vmx:   activity=%u interruptibility=%x entry-interruption=%x pending-dbg=%llx link=%llx\n",
	       g.activity, g.interruptibility, g.entry_intr_info, (unsigned long long)g.pending_dbg,
	       (unsigned long long)g.link_pointer);
	for (int i = 0; i < 8; i++)
		printk(LOG_ERR, "vmx:   %-4s sel=%04x base=%016llx limit=%08x ar=%05x%s\n", seg_names[i],
		       g.seg[i].selector, (unsigned long long)g.seg[i].base, g.seg[i].limit, g.seg[i].ar,
		       g.seg[i].ar & VMX_AR_UNUSABLE ? " (unusable)" : "");
	printk(LOG_ERR, "vmx:   GDTR base=%llx limit=%x IDTR base=%llx limit=%x\n",
	       (unsigned long long)g.gdtr_base, g.gdtr_limit, (unsigned long long)g.idtr_base,
	       g.idtr_limit);
	(void)vp;
}

static void report_controls(void)
{
	static const u64 fields[VMX_CTL_COUNT] = {
		[VMX_CTL_PIN] = VMCS_PIN_CONTROLS, [VMX_CTL_PROC] = VMCS_PROC_CONTROLS,
		[VMX_CTL_PROC2] = VMCS_PROC2_CONTROLS, [VMX_CTL_EXIT] = VMCS_EXIT_CONTROLS,
		[VMX_CTL_ENTRY] = VMCS_ENTRY_CONTROLS,
	};
	char names[200];
	bool any = false;

	for (int w = 0; w < VMX_CTL_COUNT; w++) {
		u32 v = (u32)vmcs_read(fields[w]);
		u32 bad = vmx_ctl_violations(&vmx_caps, (enum vmx_ctl)w, v);
		printk(LOG_ERR, "vmx:   %s controls %08x (allowed-0 %08x allowed-1 %08x)\n",
		       vmx_ctl_word_name((enum vmx_ctl)w), v, vmx_caps.allowed0[w], vmx_caps.allowed1[w]);
		if (bad) {
			any = true;
			printk(LOG_ERR, "vmx:   breaks: %s control(s) not allowed as set: %s\n",
			       vmx_ctl_word_name((enum vmx_ctl)w),
			       vmx_ctl_bits_str((enum vmx_ctl)w, bad, names, sizeof(names)));
		}
	}
	if (!any)
		printk(LOG_ERR, "vmx:   every control word respects the capability MSRs; check the "
				"fields they depend on (bitmaps, EPTP, VPID, CR3 targets, event injection)\n");
	printk(LOG_ERR, "vmx:   EPTP=%llx VPID=%llx MSR bitmap=%llx I/O bitmaps=%llx/%llx virtual APIC=%llx entry-interruption=%llx len=%llu\n",
	       (unsigned long long)vmcs_read(VMCS_EPT_POINTER), (unsigned long long)vmcs_read(VMCS_VPID),
	       (unsigned long long)vmcs_read(VMCS_MSR_BITMAP), (unsigned long long)vmcs_read(VMCS_IO_BITMAP_A),
	       (unsigned long long)vmcs_read(VMCS_IO_BITMAP_B),
	       (unsigned long long)vmcs_read(VMCS_VIRTUAL_APIC_ADDR),
	       (unsigned long long)vmcs_read(VMCS_ENTRY_INTR_INFO),
	       (unsigned long long)vmcs_read(VMCS_ENTRY_INSTRUCTION_LEN));
}

static void report_host_state(void)
{
	printk(LOG_ERR, "vmx:   host CR0=%llx CR3=%llx CR4=%llx EFER=%llx PAT=%llx\n",
	       (unsigned long long)vmcs_read(VMCS_HOST_CR0), (unsigned long long)vmcs_read(VMCS_HOST_CR3),
	       (unsigned long long)vmcs_read(VMCS_HOST_CR4), (unsigned long long)vmcs_read(VMCS_HOST_IA32_EFER),
	       (unsigned long long)vmcs_read(VMCS_HOST_IA32_PAT));
	printk(LOG_ERR, "vmx:   host CS=%llx SS=%llx DS=%llx ES=%llx FS=%llx GS=%llx TR=%llx RIP=%llx RSP=%llx\n",
	       (unsigned long long)vmcs_read(VMCS_HOST_CS_SELECTOR),
	       (unsigned long long)vmcs_read(VMCS_HOST_SS_SELECTOR),
	       (unsigned long long)vmcs_read(VMCS_HOST_DS_SELECTOR),
	       (unsigned long long)vmcs_read(VMCS_HOST_ES_SELECTOR),
	       (unsigned long long)vmcs_read(VMCS_HOST_FS_SELECTOR),
	       (unsigned long long)vmcs_read(VMCS_HOST_GS_SELECTOR),
	       (unsigned long long)vmcs_read(VMCS_HOST_TR_SELECTOR), (unsigned long long)vmcs_read(VMCS_HOST_RIP),
	       (unsigned long long)vmcs_read(VMCS_HOST_RSP));
	printk(LOG_ERR, "vmx:   host FS base=%llx GS base=%llx TR base=%llx GDTR base=%llx IDTR base=%llx\n",
	       (unsigned long long)vmcs_read(VMCS_HOST_FS_BASE), (unsigned long long)vmcs_read(VMCS_HOST_GS_BASE),
	       (unsigned long long)vmcs_read(VMCS_HOST_TR_BASE), (unsigned long long)vmcs_read(VMCS_HOST_GDTR_BASE),
	       (unsigned long long)vmcs_read(VMCS_HOST_IDTR_BASE));
}

/* VMLAUNCH/VMRESUME did not enter the guest (SDM 27.1-27.2, 31.4). */
void vmx_report_insn_failure(struct vp *vp, const struct vmx_bank *b, int rc)
{
	const char *insn = b->launched ? "VMRESUME" : "VMLAUNCH";

	if (rc == 1) {
		printk(LOG_ERR, "vmx: %s on vp%u failed with VMfailInvalid: no current VMCS (expected %llx)\n",
		       insn, vp->index, (unsigned long long)b->vmcs_pa);
		return;
	}
	u32 err = (u32)vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	printk(LOG_ERR, "vmx: %s on vp%u failed: VM-instruction error %u (%s)\n", insn, vp->index, err,
	       vmx_insn_error_name(err));
	if (err == 7)
		report_controls();
	else if (err == 8)
		report_host_state();
}

/* A VM exit with bit 31 of the exit reason set: the CPU refused the guest
 * state it was loading (SDM 27.8). */
void vmx_report_entry_failure(struct vp *vp, u32 reason, u64 qual)
{
	u16 basic = VMX_EXIT_REASON_BASIC(reason);

	char detail[64] = "";

	if (basic == VMX_EXIT_INVALID_GUEST_STATE)
		fmt_snprintf(detail, sizeof(detail), " (%s)", vmx_entry_failure_qual_name(qual));
	else if (basic == VMX_EXIT_MSR_LOADING)
		fmt_snprintf(detail, sizeof(detail), " (entry %llu of the VM-entry MSR-load area)",
			     (unsigned long long)qual);
	printk(LOG_ERR, "vmx: VM entry on vp%u failed: exit reason %u (%s), qualification %llu%s\n",
	       vp->index, basic, vmx_exit_reason_name(basic), (unsigned long long)qual, detail);
	if (basic != VMX_EXIT_MACHINE_CHECK)
		report_guest_state(vp);
}

void vmx_dump(struct vp *vp)
{
	struct vmx_bank *b = vmx_bank_of(vp);
	u32 reason = (u32)vmcs_read(VMCS_EXIT_REASON);
	char names[240];

	printk(LOG_ERR, "vmcs: pa %llx vpid %u launched %d eptp %llx link %llx\n",
	       (unsigned long long)b->vmcs_pa, b->vpid, b->launched, (unsigned long long)b->eptp,
	       (unsigned long long)vmcs_read(VMCS_LINK_POINTER));
	printk(LOG_ERR, "vmcs: controls pin %08llx proc %08llx proc2 %08llx exit %08llx entry %08llx exceptions %08llx\n",
	       (unsigned long long)vmcs_read(VMCS_PIN_CONTROLS), (unsigned long long)vmcs_read(VMCS_PROC_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_PROC2_CONTROLS), (unsigned long long)vmcs_read(VMCS_EXIT_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_ENTRY_CONTROLS),
	       (unsigned long long)vmcs_read(VMCS_EXCEPTION_BITMAP));
	printk(LOG_ERR, "vmcs: entry: %s\n",
	       vmx_ctl_bits_str(VMX_CTL_ENTRY, (u32)vmcs_read(VMCS_ENTRY_CONTROLS) & vmx_ctl_named_bits(VMX_CTL_ENTRY),
				names, sizeof(names)));
	printk(LOG_ERR, "vmcs: secondary: %s\n",
	       vmx_ctl_bits_str(VMX_CTL_PROC2, (u32)vmcs_read(VMCS_PROC2_CONTROLS), names, sizeof(names)));
	printk(LOG_ERR, "vmcs: exit reason %u%s (%s) qualification %llx instruction length %llu info %llx\n",
	       VMX_EXIT_REASON_BASIC(reason), reason & VMX_EXIT_REASON_ENTRY_FAILURE ? " entry-failure" : "",
	       vmx_exit_reason_name(VMX_EXIT_REASON_BASIC(reason)),
	       (unsigned long long)vmcs_read(VMCS_EXIT_QUALIFICATION),
	       (unsigned long long)vmcs_read(VMCS_EXIT_INSTRUCTION_LEN),
	       (unsigned long long)vmcs_read(VMCS_EXIT_INSTRUCTION_INFO));
	printk(LOG_ERR, "vmcs: exit interruption %08llx error %llx idt-vectoring %08llx error %llx gpa %llx gla %llx\n",
	       (unsigned long long)vmcs_read(VMCS_EXIT_INTR_INFO),
	       (unsigned long long)vmcs_read(VMCS_EXIT_INTR_ERROR_CODE),
	       (unsigned long long)vmcs_read(VMCS_IDT_VECTORING_INFO),
	       (unsigned long long)vmcs_read(VMCS_IDT_VECTORING_ERROR_CODE),
	       (unsigned long long)vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS),
	       (unsigned long long)vmcs_read(VMCS_GUEST_LINEAR_ADDRESS));
	printk(LOG_ERR, "vmcs: cr0 %llx shadow %llx mask %llx cr4 %llx shadow %llx mask %llx tpr %02x\n",
	       (unsigned long long)vmcs_read(VMCS_GUEST_CR0), (unsigned long long)vmcs_read(VMCS_CR0_READ_SHADOW),
	       (unsigned long long)b->cr0_mask, (unsigned long long)vmcs_read(VMCS_GUEST_CR4),
	       (unsigned long long)vmcs_read(VMCS_CR4_READ_SHADOW), (unsigned long long)b->cr4_mask,
	       b->vapic[VAPIC_TPR]);
	printk(LOG_ERR, "vmcs: interruptibility %llx activity %llu pending-dbg %llx entry-interruption %08llx pending %s %08x\n",
	       (unsigned long long)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY),
	       (unsigned long long)vmcs_read(VMCS_GUEST_ACTIVITY_STATE),
	       (unsigned long long)vmcs_read(VMCS_GUEST_PENDING_DBG_EXCEPTIONS),
	       (unsigned long long)vmcs_read(VMCS_ENTRY_INTR_INFO), b->event.pending ? "yes" : "no",
	       b->event.info);
	printk(LOG_ERR, "vmcs: pdpte %llx %llx %llx %llx debugctl %llx\n",
	       (unsigned long long)vmcs_read(VMCS_GUEST_PDPTE0), (unsigned long long)vmcs_read(VMCS_GUEST_PDPTE0 + 2),
	       (unsigned long long)vmcs_read(VMCS_GUEST_PDPTE0 + 4), (unsigned long long)vmcs_read(VMCS_GUEST_PDPTE0 + 6),
	       (unsigned long long)vmcs_read(VMCS_GUEST_IA32_DEBUGCTL));
}
