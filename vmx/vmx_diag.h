/* Explaining VMX failures to a person: names of VM-instruction errors and exit
 * reasons, and a checker that runs the SDM's guest-state rules (Vol. 3C,
 * 27.3.1 "Checks on the Guest State Area") over a snapshot of the VMCS, so a
 * VM-entry failure report can say which rule the state broke.  The CPU only
 * says "invalid guest state"; Bochs logs the rule, real hardware does not.
 *
 * Pure logic (no VMREAD here): vmx.c fills the snapshot; the unit tests build
 * one by hand. */
#ifndef HV_VMX_VMX_DIAG_H
#define HV_VMX_VMX_DIAG_H

#include "kernel/types.h"
#include "vmx/vmx_caps.h"

/* SDM 31.4, "VM Instruction Error Numbers". */
const char *vmx_insn_error_name(u32 error);
/* Appendix C; "?" for numbers it does not list. */
const char *vmx_exit_reason_name(u32 basic_reason);

/* Exit qualification of a VM-entry failure due to invalid guest state (27.8). */
const char *vmx_entry_failure_qual_name(u64 qual);

struct vmx_guest_seg {
	u16 selector;
	u32 limit;
	u32 ar;
	u64 base;
};

/* The guest-state area plus the controls its checks depend on. */
struct vmx_guest_state {
	u64 cr0, cr3, cr4, dr7, rip, rflags, efer, pat, debugctl, link_pointer;
	u64 pending_dbg;
	u32 entry_ctl, proc2_ctl;
	u32 activity, interruptibility, entry_intr_info;
	struct vmx_guest_seg seg[8]; /* ES, CS, SS, DS, FS, GS, LDTR, TR */
	u64 gdtr_base, idtr_base;
	u32 gdtr_limit, idtr_limit;
};

enum { VMX_SEG_ES, VMX_SEG_CS, VMX_SEG_SS, VMX_SEG_DS, VMX_SEG_FS, VMX_SEG_GS,
       VMX_SEG_LDTR, VMX_SEG_TR };

/* Up to max broken rules, each one sentence saying what must hold, into
 * out[] (static strings).  Returns how many were found (possibly more than
 * max; only max are stored).  0 means none of the checked rules is broken:
 * the check covers the common mistakes, not every rule of 27.3.1. */
int vmx_check_guest_state(const struct vmx_guest_state *g, const struct vmx_caps *c,
			  const char **out, int max);

#endif
