/* VMX failure explanations; see vmx_diag.h. */
#include "vmx/vmx_diag.h"
#include "arch/x86/canonical.h"
#include "vmx/vmcs.h"

#define CR0_PE (1ULL << 0)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_PCIDE (1ULL << 17)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_KNOWN ((1ULL << 0) | (1ULL << 8) | (1ULL << 10) | (1ULL << 11))
#define RFLAGS_FIXED1 (1ULL << 1)
#define RFLAGS_IF (1ULL << 9)
#define RFLAGS_VM (1ULL << 17)
/* 63:22, 15, 5 and 3 (SDM 27.3.1.4). */
#define RFLAGS_RESERVED (~((1ULL << 22) - 1) | (1ULL << 15) | (1ULL << 5) | (1ULL << 3))
/* 11:4, 13, 15, 63:17 (Table 25-4 "pending debug exceptions"). */
#define PENDING_DBG_RESERVED (0xFF0ULL | (1ULL << 13) | (1ULL << 15) | ~((1ULL << 17) - 1))

#define AR_TYPE(ar) ((ar) & 0xF)
#define AR_S (1u << 4)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_RESERVED (0xF00u | 0xFFFE0000u)

const char *vmx_insn_error_name(u32 error)
{
	static const char *const names[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[16] = "VM entry with invalid executive-VMCS pointer",
		[17] = "VM entry with non-launched executive VMCS",
		[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
		[19] = "VMCALL with non-clear VMCS",
		[20] = "VMCALL with invalid VM-exit control fields",
		[22] = "VMCALL with incorrect MSEG revision identifier",
		[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
		[24] = "VMCALL with invalid SMM-monitor features",
		[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "invalid operand to INVEPT/INVVPID",
	};
	return error < ARRAY_SIZE(names) && names[error] ? names[error] : "unknown error number";
}

const char *vmx_exit_reason_name(u32 r)
{
	static const char *const names[] = {
		[VMX_EXIT_EXCEPTION_NMI] = "exception or NMI",
		[VMX_EXIT_EXTERNAL_INTERRUPT] = "external interrupt",
		[VMX_EXIT_TRIPLE_FAULT] = "triple fault",
		[VMX_EXIT_INIT] = "INIT signal",
		[VMX_EXIT_SIPI] = "start-up IPI",
		[VMX_EXIT_IO_SMI] = "I/O SMI",
		[VMX_EXIT_OTHER_SMI] = "other SMI",
		[VMX_EXIT_INTERRUPT_WINDOW] = "interrupt window",
		[VMX_EXIT_NMI_WINDOW] = "NMI window",
		[VMX_EXIT_TASK_SWITCH] = "task switch",
		[VMX_EXIT_CPUID] = "CPUID",
		[VMX_EXIT_GETSEC] = "GETSEC",
		[VMX_EXIT_HLT] = "HLT",
		[VMX_EXIT_INVD] = "INVD",
		[VMX_EXIT_INVLPG] = "INVLPG",
		[VMX_EXIT_RDPMC] = "RDPMC",
		[VMX_EXIT_RDTSC] = "RDTSC",
		[VMX_EXIT_RSM] = "RSM",
		[VMX_EXIT_VMCALL] = "VMCALL",
		[VMX_EXIT_VMCLEAR] = "VMCLEAR",
		[VMX_EXIT_VMLAUNCH] = "VMLAUNCH",
		[VMX_EXIT_VMPTRLD] = "VMPTRLD",
		[VMX_EXIT_VMPTRST] = "VMPTRST",
		[VMX_EXIT_VMREAD] = "VMREAD",
		[VMX_EXIT_VMRESUME] = "VMRESUME",
		[VMX_EXIT_VMWRITE] = "VMWRITE",
		[VMX_EXIT_VMXOFF] = "VMXOFF",
		[VMX_EXIT_VMXON] = "VMXON",
		[VMX_EXIT_CR_ACCESS] = "control-register access",
		[VMX_EXIT_DR_ACCESS] = "MOV DR",
		[VMX_EXIT_IO] = "I/O instruction",
		[VMX_EXIT_RDMSR] = "RDMSR",
		[VMX_EXIT_WRMSR] = "WRMSR",
		[VMX_EXIT_INVALID_GUEST_STATE] = "VM-entry failure due to invalid guest state",
		[VMX_EXIT_MSR_LOADING] = "VM-entry failure due to MSR loading",
		[VMX_EXIT_MWAIT] = "MWAIT",
		[VMX_EXIT_MONITOR_TRAP_FLAG] = "monitor trap flag",
		[VMX_EXIT_MONITOR] = "MONITOR",
		[VMX_EXIT_PAUSE] = "PAUSE",
		[VMX_EXIT_MACHINE_CHECK] = "VM-entry failure due to machine-check event",
		[VMX_EXIT_TPR_BELOW_THRESHOLD] = "TPR below threshold",
		[VMX_EXIT_APIC_ACCESS] = "APIC access",
		[VMX_EXIT_VIRTUALIZED_EOI] = "virtualized EOI",
		[VMX_EXIT_GDTR_IDTR] = "access to GDTR or IDTR",
		[VMX_EXIT_LDTR_TR] = "access to LDTR or TR",
		[VMX_EXIT_EPT_VIOLATION] = "EPT violation",
		[VMX_EXIT_EPT_MISCONFIG] = "EPT misconfiguration",
		[VMX_EXIT_INVEPT] = "INVEPT",
		[VMX_EXIT_RDTSCP] = "RDTSCP",
		[VMX_EXIT_PREEMPTION_TIMER] = "VMX-preemption timer expired",
		[VMX_EXIT_INVVPID] = "INVVPID",
		[VMX_EXIT_WBINVD] = "WBINVD",
		[VMX_EXIT_XSETBV] = "XSETBV",
		[VMX_EXIT_APIC_WRITE] = "APIC write",
		[VMX_EXIT_RDRAND] = "RDRAND",
		[VMX_EXIT_INVPCID] = "INVPCID",
		[VMX_EXIT_VMFUNC] = "VMFUNC",
		[VMX_EXIT_ENCLS] = "ENCLS",
		[VMX_EXIT_RDSEED] = "RDSEED",
		[VMX_EXIT_PML_FULL] = "page-modification log full",
		[VMX_EXIT_XSAVES] = "XSAVES",
		[VMX_EXIT_XRSTORS] = "XRSTORS",
	};
	return r < ARRAY_SIZE(names) && names[r] ? names[r] : "?";
}

const char *vmx_entry_failure_qual_name(u64 qual)
{
	switch (qual) {
	case 0: return "no further detail";
	case 2: return "loading a PDPTE failed";
	case 3: return "NMI injection with blocking by NMI";
	case 4: return "invalid VMCS link pointer";
	default: return "reserved qualification";
	}
}

struct checker {
	const char **out;
	int max, count;
};

static void broken(struct checker *k, bool bad, const char *rule)
{
	if (!bad)
		return;
	if (k->count < k->max)
		k->out[k->count] = rule;
	k->count++;
}

static bool usable(const struct vmx_guest_seg *s)
{
	return !(s->ar & VMX_AR_UNUSABLE);
}

/* Limit and granularity agree (27.3.1.2): a limit with any of bits 11:0 clear
 * needs G=0, one above 1 MiB needs G=1. */
static bool limit_ok(const struct vmx_guest_seg *s)
{
	if ((s->limit & 0xFFF) != 0xFFF && (s->ar & AR_G))
		return false;
	if ((s->limit & 0xFFF00000) && !(s->ar & AR_G))
		return false;
	return true;
}

static void check_segments(struct checker *k, const struct vmx_guest_state *g, bool ug, bool ia32e)
{
	const struct vmx_guest_seg *cs = &g->seg[VMX_SEG_CS], *ss = &g->seg[VMX_SEG_SS];
	const struct vmx_guest_seg *tr = &g->seg[VMX_SEG_TR], *ldtr = &g->seg[VMX_SEG_LDTR];
	bool pe = g->cr0 & CR0_PE;
	u32 cst = AR_TYPE(cs->ar);

	/* TR: always usable, a busy TSS (27.3.1.2). */
	broken(k, !usable(tr), "TR must be usable (a busy TSS), even in real mode");
	if (usable(tr)) {
		broken(k, ia32e ? AR_TYPE(tr->ar) != 11
				: AR_TYPE(tr->ar) != 11 && AR_TYPE(tr->ar) != 3,
		       "TR type must be a busy TSS (11; or 3 outside IA-32e mode)");
		broken(k, (tr->ar & AR_S) || !(tr->ar & AR_P), "TR must be a present system descriptor (S=0, P=1)");
		broken(k, tr->selector & 4, "TR selector must point into the GDT (TI=0)");
		broken(k, !limit_ok(tr), "TR limit and granularity disagree");
		broken(k, tr->ar & AR_RESERVED, "TR access rights have reserved bits set");
		broken(k, !x86_canonical(tr->base, 48), "TR base must be canonical");
	}
	if (usable(ldtr)) {
		broken(k, AR_TYPE(ldtr->ar) != 2 || (ldtr->ar & AR_S) || !(ldtr->ar & AR_P),
		       "a usable LDTR must be a present LDT descriptor (type 2, S=0, P=1)");
		broken(k, ldtr->selector & 4, "LDTR selector must point into the GDT (TI=0)");
		broken(k, !limit_ok(ldtr), "LDTR limit and granularity disagree");
		broken(k, !x86_canonical(ldtr->base, 48), "LDTR base must be canonical");
	}

	/* CS. */
	broken(k, !usable(cs), "CS must be usable");
	if (ug)
		broken(k, cst != 3 && cst != 9 && cst != 11 && cst != 13 && cst != 15,
		       "CS type must be 3 (real-mode data) or an accessed code segment (9, 11, 13, 15)");
	else
		broken(k, cst != 9 && cst != 11 && cst != 13 && cst != 15,
		       "CS type must be an accessed code segment (9, 11, 13, 15)");
	broken(k, !(cs->ar & AR_S) || !(cs->ar & AR_P), "CS must be a present code/data descriptor (S=1, P=1)");
	broken(k, cst == 3 && AR_DPL(cs->ar) != 0, "CS of type 3 needs DPL 0");
	broken(k, (cst == 9 || cst == 11) && AR_DPL(cs->ar) != AR_DPL(ss->ar),
	       "non-conforming CS needs DPL equal to SS.DPL");
	broken(k, (cst == 13 || cst == 15) && AR_DPL(cs->ar) > AR_DPL(ss->ar),
	       "conforming CS needs DPL at most SS.DPL");
	broken(k, ia32e && (cs->ar & AR_L) && (cs->ar & AR_DB), "64-bit CS (L=1) needs D/B=0");
	broken(k, !limit_ok(cs), "CS limit and granularity disagree");
	broken(k, cs->ar & AR_RESERVED, "CS access rights have reserved bits set");
	broken(k, cs->base >> 32, "CS base bits 63:32 must be 0");

	/* SS. */
	if (usable(ss)) {
		broken(k, AR_TYPE(ss->ar) != 3 && AR_TYPE(ss->ar) != 7,
		       "a usable SS must be a writable accessed data segment (type 3 or 7)");
		broken(k, !(ss->ar & AR_S) || !(ss->ar & AR_P), "a usable SS must be present (S=1, P=1)");
		broken(k, !limit_ok(ss), "SS limit and granularity disagree");
		broken(k, ss->ar & AR_RESERVED, "SS access rights have reserved bits set");
		broken(k, ss->base >> 32, "SS base bits 63:32 must be 0");
	}
	broken(k, (cst == 3 || !pe) && AR_DPL(ss->ar) != 0, "SS.DPL must be 0 in real mode or with a type-3 CS");
	if (!ug)
		broken(k, (ss->selector & 3) != (cs->selector & 3), "SS.RPL must equal CS.RPL");

	/* DS, ES, FS, GS. */
	static const int data_segs[] = {VMX_SEG_DS, VMX_SEG_ES, VMX_SEG_FS, VMX_SEG_GS};
	for (unsigned i = 0; i < ARRAY_SIZE(data_segs); i++) {
		const struct vmx_guest_seg *s = &g->seg[data_segs[i]];
		if (!usable(s))
			continue;
		broken(k, !(AR_TYPE(s->ar) & 1), "usable DS/ES/FS/GS must have the accessed bit set");
		broken(k, (AR_TYPE(s->ar) & 8) && !(AR_TYPE(s->ar) & 2),
		       "a code segment in DS/ES/FS/GS must be readable");
		broken(k, !(s->ar & AR_S) || !(s->ar & AR_P), "usable DS/ES/FS/GS must be present (S=1, P=1)");
		broken(k, !limit_ok(s), "DS/ES/FS/GS limit and granularity disagree");
		broken(k, s->ar & AR_RESERVED, "DS/ES/FS/GS access rights have reserved bits set");
	}
	broken(k, usable(&g->seg[VMX_SEG_DS]) && (g->seg[VMX_SEG_DS].base >> 32),
	       "DS base bits 63:32 must be 0");
	broken(k, usable(&g->seg[VMX_SEG_ES]) && (g->seg[VMX_SEG_ES].base >> 32),
	       "ES base bits 63:32 must be 0");
	broken(k, !x86_canonical(g->seg[VMX_SEG_FS].base, 48) ||
		       !x86_canonical(g->seg[VMX_SEG_GS].base, 48),
	       "FS and GS bases must be canonical");

	broken(k, !x86_canonical(g->gdtr_base, 48) || !x86_canonical(g->idtr_base, 48),
	       "GDTR and IDTR bases must be canonical");
	broken(k, (g->gdtr_limit | g->idtr_limit) >> 16, "GDTR and IDTR limits must fit in 16 bits");
}

int vmx_check_guest_state(const struct vmx_guest_state *g, const struct vmx_caps *c,
			  const char **out, int max)
{
	struct checker k = {out, max, 0};
	bool ug = g->proc2_ctl & PROC2_UNRESTRICTED_GUEST;
	bool ia32e = g->entry_ctl & ENTRY_IA32E_MODE_GUEST;
	u64 cr0_must1 = c->cr0_must1 | (ug ? 0 : CR0_PE | CR0_PG);

	/* Control registers (27.3.1.1). */
	broken(&k, (g->cr0 & cr0_must1) != cr0_must1,
	       "CR0 lacks a bit IA32_VMX_CR0_FIXED0 requires (NE must be 1)");
	broken(&k, g->cr0 & c->cr0_must0, "CR0 has a bit set that IA32_VMX_CR0_FIXED1 forbids");
	broken(&k, (g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE), "CR0.PG=1 needs CR0.PE=1");
	broken(&k, (g->cr4 & c->cr4_must1) != c->cr4_must1,
	       "CR4 lacks a bit IA32_VMX_CR4_FIXED0 requires (VMXE must be 1)");
	broken(&k, g->cr4 & c->cr4_must0, "CR4 has a bit set that IA32_VMX_CR4_FIXED1 forbids");
	broken(&k, ia32e && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE)),
	       "the IA-32e mode guest entry control needs CR0.PG=1 and CR4.PAE=1");
	broken(&k, !ia32e && (g->cr4 & CR4_PCIDE), "CR4.PCIDE=1 needs the IA-32e mode guest entry control");
	if (g->entry_ctl & ENTRY_LOAD_DEBUG_CONTROLS)
		broken(&k, g->dr7 >> 32, "DR7 bits 63:32 must be 0");
	if (g->entry_ctl & ENTRY_LOAD_IA32_EFER) {
		broken(&k, g->efer & ~EFER_KNOWN, "IA32_EFER has reserved bits set");
		broken(&k, !!(g->efer & EFER_LMA) != ia32e,
		       "IA32_EFER.LMA must equal the IA-32e mode guest entry control");
		broken(&k, (g->cr0 & CR0_PG) && !!(g->efer & EFER_LMA) != !!(g->efer & EFER_LME),
		       "with CR0.PG=1, IA32_EFER.LMA must equal IA32_EFER.LME");
	}
	if (g->entry_ctl & ENTRY_LOAD_IA32_PAT) {
		bool pat_ok = true;
		for (int i = 0; i < 8; i++) {
			u8 t = (u8)(g->pat >> (8 * i));
			pat_ok &= t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7;
		}
		broken(&k, !pat_ok, "IA32_PAT has an entry with a reserved memory type");
	}

	check_segments(&k, g, ug, ia32e);

	/* RIP and RFLAGS (27.3.1.4). */
	broken(&k, (!ia32e || !(g->seg[VMX_SEG_CS].ar & AR_L)) && (g->rip >> 32),
	       "RIP bits 63:32 must be 0 outside 64-bit mode");
	broken(&k, (g->rflags & RFLAGS_RESERVED) || !(g->rflags & RFLAGS_FIXED1),
	       "RFLAGS reserved bits must be 0 and bit 1 must be 1");
	broken(&k, (ia32e || !(g->cr0 & CR0_PE)) && (g->rflags & RFLAGS_VM),
	       "RFLAGS.VM must be 0 in IA-32e mode and in real mode");

	/* Non-register state (27.3.1.5). */
	u32 intr = g->interruptibility;
	bool inject = g->entry_intr_info & INTR_INFO_VALID;
	u32 inject_type = INTR_INFO_TYPE(g->entry_intr_info);
	broken(&k, g->activity > ACTIVITY_WAIT_SIPI, "activity state must be 0-3");
	broken(&k, (g->activity == ACTIVITY_HLT && !c->activity_hlt) ||
			   (g->activity == ACTIVITY_SHUTDOWN && !c->activity_shutdown) ||
			   (g->activity == ACTIVITY_WAIT_SIPI && !c->activity_wait_sipi),
	       "activity state not supported by this CPU (IA32_VMX_MISC bits 8:6)");
	broken(&k, g->activity == ACTIVITY_HLT && AR_DPL(g->seg[VMX_SEG_SS].ar) != 0,
	       "the HLT activity state needs SS.DPL=0");
	broken(&k, intr & ~0x1Fu, "interruptibility state bits 31:5 must be 0");
	broken(&k, (intr & INTR_BLOCKING_STI) && (intr & INTR_BLOCKING_MOV_SS),
	       "blocking by STI and by MOV SS cannot both be set");
	broken(&k, (intr & INTR_BLOCKING_STI) && !(g->rflags & RFLAGS_IF),
	       "blocking by STI needs RFLAGS.IF=1");
	broken(&k, inject && inject_type == INTR_TYPE_EXTERNAL &&
			   (!(g->rflags & RFLAGS_IF) || (intr & (INTR_BLOCKING_STI | INTR_BLOCKING_MOV_SS))),
	       "injecting an external interrupt needs RFLAGS.IF=1 and no STI/MOV SS blocking");
	broken(&k, inject && inject_type == INTR_TYPE_NMI && (intr & INTR_BLOCKING_MOV_SS),
	       "injecting an NMI needs no blocking by MOV SS");
	broken(&k, g->pending_dbg & PENDING_DBG_RESERVED, "pending debug exceptions has reserved bits set");
	broken(&k, g->link_pointer != ~0ULL, "the VMCS link pointer must be all ones (no shadow VMCS)");
	return k.count;
}
