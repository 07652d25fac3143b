/* VMCS field encodings, control bits and exit-information layouts (Intel SDM
 * Vol. 3C, Appendix B "Field Encoding in VMCS", chapter 25 "VMX non-root
 * operation" and 28 "VM exits", Appendix C "VMX Basic Exit Reasons").
 * Names follow the SDM's.  Pure definitions: the unit tests include this file. */
#ifndef HV_VMX_VMCS_H
#define HV_VMX_VMCS_H

#include "kernel/types.h"

/* ---- capability MSRs (SDM Vol. 3C, Appendix A) ------------------------------ */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* IA32_FEATURE_CONTROL (0x3A). */
#define FEATURE_CONTROL_LOCK (1ULL << 0)
#define FEATURE_CONTROL_VMX_IN_SMX (1ULL << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ULL << 2)

/* IA32_VMX_BASIC (A.1). */
#define VMX_BASIC_REVISION(b) ((u32)(b) & 0x7FFFFFFF)
#define VMX_BASIC_REGION_SIZE(b) ((u32)((b) >> 32) & 0x1FFF)
#define VMX_BASIC_ADDR_32BIT (1ULL << 48)
#define VMX_BASIC_MEMTYPE(b) ((u8)(((b) >> 50) & 0xF))
#define VMX_BASIC_INOUT_INFO (1ULL << 54)
#define VMX_BASIC_TRUE_CTLS (1ULL << 55)

/* IA32_VMX_MISC (A.6). */
#define VMX_MISC_PREEMPT_SHIFT(m) ((u8)((m) & 0x1F))
#define VMX_MISC_SAVES_LMA (1ULL << 5)
#define VMX_MISC_ACTIVITY_HLT (1ULL << 6)
#define VMX_MISC_ACTIVITY_SHUTDOWN (1ULL << 7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI (1ULL << 8)
#define VMX_MISC_ZERO_LEN_INJECT (1ULL << 30)

/* IA32_VMX_EPT_VPID_CAP (A.10). */
#define EPT_CAP_EXEC_ONLY (1ULL << 0)
#define EPT_CAP_WALK_4 (1ULL << 6)
#define EPT_CAP_WALK_5 (1ULL << 7)
#define EPT_CAP_MT_UC (1ULL << 8)
#define EPT_CAP_MT_WB (1ULL << 14)
#define EPT_CAP_2M (1ULL << 16)
#define EPT_CAP_1G (1ULL << 17)
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_AD (1ULL << 21)
#define EPT_CAP_ADVANCED_INFO (1ULL << 22)
#define EPT_CAP_INVEPT_SINGLE (1ULL << 25)
#define EPT_CAP_INVEPT_ALL (1ULL << 26)
#define VPID_CAP_INVVPID (1ULL << 32)
#define VPID_CAP_INVVPID_ADDR (1ULL << 40)
#define VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define VPID_CAP_INVVPID_ALL (1ULL << 42)
#define VPID_CAP_INVVPID_SINGLE_GLOBALS (1ULL << 43)

/* INVEPT / INVVPID types. */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_ADDRESS 0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2
#define INVVPID_SINGLE_CONTEXT_GLOBALS 3

/* ---- execution controls (SDM 25.6) ------------------------------------------- */
/* Pin-based (Table 25-5). */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PIN_POSTED_INTERRUPTS (1u << 7)

/* Primary processor-based (Table 25-6). */
#define PROC_INTERRUPT_WINDOW_EXITING (1u << 2)
#define PROC_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_MWAIT_EXITING (1u << 10)
#define PROC_RDPMC_EXITING (1u << 11)
#define PROC_RDTSC_EXITING (1u << 12)
#define PROC_CR3_LOAD_EXITING (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_TERTIARY_CONTROLS (1u << 17)
#define PROC_CR8_LOAD_EXITING (1u << 19)
#define PROC_CR8_STORE_EXITING (1u << 20)
#define PROC_USE_TPR_SHADOW (1u << 21)
#define PROC_NMI_WINDOW_EXITING (1u << 22)
#define PROC_MOV_DR_EXITING (1u << 23)
#define PROC_UNCONDITIONAL_IO_EXITING (1u << 24)
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_MONITOR_TRAP_FLAG (1u << 27)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR_EXITING (1u << 29)
#define PROC_PAUSE_EXITING (1u << 30)
#define PROC_SECONDARY_CONTROLS (1u << 31)

/* Secondary processor-based (Table 25-7). */
#define PROC2_VIRTUALIZE_APIC_ACCESSES (1u << 0)
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_DESCRIPTOR_TABLE_EXITING (1u << 2)
#define PROC2_ENABLE_RDTSCP (1u << 3)
#define PROC2_VIRTUALIZE_X2APIC (1u << 4)
#define PROC2_ENABLE_VPID (1u << 5)
#define PROC2_WBINVD_EXITING (1u << 6)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_APIC_REGISTER_VIRT (1u << 8)
#define PROC2_VIRTUAL_INTERRUPT_DELIVERY (1u << 9)
#define PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define PROC2_RDRAND_EXITING (1u << 11)
#define PROC2_ENABLE_INVPCID (1u << 12)
#define PROC2_ENABLE_VMFUNC (1u << 13)
#define PROC2_VMCS_SHADOWING (1u << 14)
#define PROC2_ENCLS_EXITING (1u << 15)
#define PROC2_RDSEED_EXITING (1u << 16)
#define PROC2_ENABLE_PML (1u << 17)
#define PROC2_EPT_VIOLATION_VE (1u << 18)
#define PROC2_CONCEAL_FROM_PT (1u << 19)
#define PROC2_ENABLE_XSAVES (1u << 20)
#define PROC2_MODE_BASED_EXEC (1u << 22)
#define PROC2_SUBPAGE_WRITE (1u << 23)
#define PROC2_PT_USES_GPA (1u << 24)
#define PROC2_TSC_SCALING (1u << 25)
#define PROC2_USER_WAIT_PAUSE (1u << 26)
#define PROC2_ENCLV_EXITING (1u << 28)

/* VM-exit controls (Table 25-13). */
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define EXIT_ACK_INTERRUPT_ON_EXIT (1u << 15)
#define EXIT_SAVE_IA32_PAT (1u << 18)
#define EXIT_LOAD_IA32_PAT (1u << 19)
#define EXIT_SAVE_IA32_EFER (1u << 20)
#define EXIT_LOAD_IA32_EFER (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
#define EXIT_CLEAR_BNDCFGS (1u << 23)
#define EXIT_CONCEAL_FROM_PT (1u << 24)

/* VM-entry controls (Table 25-15). */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_TO_SMM (1u << 10)
#define ENTRY_DEACTIVATE_DUAL_MONITOR (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define ENTRY_LOAD_IA32_PAT (1u << 14)
#define ENTRY_LOAD_IA32_EFER (1u << 15)
#define ENTRY_LOAD_BNDCFGS (1u << 16)
#define ENTRY_CONCEAL_FROM_PT (1u << 17)

/* ---- field encodings (Appendix B) -------------------------------------------- */
enum vmcs_field {
	/* 16-bit */
	VMCS_VPID = 0x0000,
	VMCS_GUEST_ES_SELECTOR = 0x0800, /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
	VMCS_GUEST_TR_SELECTOR = 0x080E,
	VMCS_HOST_ES_SELECTOR = 0x0C00,
	VMCS_HOST_CS_SELECTOR = 0x0C02,
	VMCS_HOST_SS_SELECTOR = 0x0C04,
	VMCS_HOST_DS_SELECTOR = 0x0C06,
	VMCS_HOST_FS_SELECTOR = 0x0C08,
	VMCS_HOST_GS_SELECTOR = 0x0C0A,
	VMCS_HOST_TR_SELECTOR = 0x0C0C,
	/* 64-bit control */
	VMCS_IO_BITMAP_A = 0x2000,
	VMCS_IO_BITMAP_B = 0x2002,
	VMCS_MSR_BITMAP = 0x2004,
	VMCS_EXIT_MSR_STORE_ADDR = 0x2006,
	VMCS_EXIT_MSR_LOAD_ADDR = 0x2008,
	VMCS_ENTRY_MSR_LOAD_ADDR = 0x200A,
	VMCS_TSC_OFFSET = 0x2010,
	VMCS_VIRTUAL_APIC_ADDR = 0x2012,
	VMCS_EPT_POINTER = 0x201A,
	VMCS_XSS_EXITING_BITMAP = 0x202C,
	/* 64-bit read-only */
	VMCS_GUEST_PHYSICAL_ADDRESS = 0x2400,
	/* 64-bit guest */
	VMCS_LINK_POINTER = 0x2800,
	VMCS_GUEST_IA32_DEBUGCTL = 0x2802,
	VMCS_GUEST_IA32_PAT = 0x2804,
	VMCS_GUEST_IA32_EFER = 0x2806,
	VMCS_GUEST_PDPTE0 = 0x280A, /* PDPTE0-3: +2 each */
	/* 64-bit host */
	VMCS_HOST_IA32_PAT = 0x2C00,
	VMCS_HOST_IA32_EFER = 0x2C02,
	/* 32-bit control */
	VMCS_PIN_CONTROLS = 0x4000,
	VMCS_PROC_CONTROLS = 0x4002,
	VMCS_EXCEPTION_BITMAP = 0x4004,
	VMCS_PF_ERROR_MASK = 0x4006,
	VMCS_PF_ERROR_MATCH = 0x4008,
	VMCS_CR3_TARGET_COUNT = 0x400A,
	VMCS_EXIT_CONTROLS = 0x400C,
	VMCS_EXIT_MSR_STORE_COUNT = 0x400E,
	VMCS_EXIT_MSR_LOAD_COUNT = 0x4010,
	VMCS_ENTRY_CONTROLS = 0x4012,
	VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VMCS_ENTRY_INTR_INFO = 0x4016,
	VMCS_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VMCS_ENTRY_INSTRUCTION_LEN = 0x401A,
	VMCS_TPR_THRESHOLD = 0x401C,
	VMCS_PROC2_CONTROLS = 0x401E,
	/* 32-bit read-only */
	VMCS_VM_INSTRUCTION_ERROR = 0x4400,
	VMCS_EXIT_REASON = 0x4402,
	VMCS_EXIT_INTR_INFO = 0x4404,
	VMCS_EXIT_INTR_ERROR_CODE = 0x4406,
	VMCS_IDT_VECTORING_INFO = 0x4408,
	VMCS_IDT_VECTORING_ERROR_CODE = 0x440A,
	VMCS_EXIT_INSTRUCTION_LEN = 0x440C,
	VMCS_EXIT_INSTRUCTION_INFO = 0x440E,
	/* 32-bit guest */
	VMCS_GUEST_ES_LIMIT = 0x4800, /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
	VMCS_GUEST_GDTR_LIMIT = 0x4810,
	VMCS_GUEST_IDTR_LIMIT = 0x4812,
	VMCS_GUEST_ES_AR = 0x4814, /* same order */
	VMCS_GUEST_INTERRUPTIBILITY = 0x4824,
	VMCS_GUEST_ACTIVITY_STATE = 0x4826,
	VMCS_GUEST_SYSENTER_CS = 0x482A,
	VMCS_PREEMPTION_TIMER_VALUE = 0x482E,
	/* 32-bit host */
	VMCS_HOST_SYSENTER_CS = 0x4C00,
	/* natural-width control */
	VMCS_CR0_GUEST_HOST_MASK = 0x6000,
	VMCS_CR4_GUEST_HOST_MASK = 0x6002,
	VMCS_CR0_READ_SHADOW = 0x6004,
	VMCS_CR4_READ_SHADOW = 0x6006,
	/* natural-width read-only */
	VMCS_EXIT_QUALIFICATION = 0x6400,
	VMCS_GUEST_LINEAR_ADDRESS = 0x640A,
	/* natural-width guest */
	VMCS_GUEST_CR0 = 0x6800,
	VMCS_GUEST_CR3 = 0x6802,
	VMCS_GUEST_CR4 = 0x6804,
	VMCS_GUEST_ES_BASE = 0x6806, /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
	VMCS_GUEST_GDTR_BASE = 0x6816,
	VMCS_GUEST_IDTR_BASE = 0x6818,
	VMCS_GUEST_DR7 = 0x681A,
	VMCS_GUEST_RSP = 0x681C,
	VMCS_GUEST_RIP = 0x681E,
	VMCS_GUEST_RFLAGS = 0x6820,
	VMCS_GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	VMCS_GUEST_SYSENTER_ESP = 0x6824,
	VMCS_GUEST_SYSENTER_EIP = 0x6826,
	/* natural-width host */
	VMCS_HOST_CR0 = 0x6C00,
	VMCS_HOST_CR3 = 0x6C02,
	VMCS_HOST_CR4 = 0x6C04,
	VMCS_HOST_FS_BASE = 0x6C06,
	VMCS_HOST_GS_BASE = 0x6C08,
	VMCS_HOST_TR_BASE = 0x6C0A,
	VMCS_HOST_GDTR_BASE = 0x6C0C,
	VMCS_HOST_IDTR_BASE = 0x6C0E,
	VMCS_HOST_SYSENTER_ESP = 0x6C10,
	VMCS_HOST_SYSENTER_EIP = 0x6C12,
	VMCS_HOST_RSP = 0x6C14,
	VMCS_HOST_RIP = 0x6C16,
};

/* The guest segment fields are laid out in the VP's order (ES, CS, SS, DS, FS,
 * GS, LDTR, TR), two encodings apart. */
#define VMCS_GUEST_SEG_SELECTOR(i) (VMCS_GUEST_ES_SELECTOR + 2 * (i))
#define VMCS_GUEST_SEG_LIMIT(i) (VMCS_GUEST_ES_LIMIT + 2 * (i))
#define VMCS_GUEST_SEG_AR(i) (VMCS_GUEST_ES_AR + 2 * (i))
#define VMCS_GUEST_SEG_BASE(i) (VMCS_GUEST_ES_BASE + 2 * (i))

/* ---- guest-state encodings (SDM 25.4) ---------------------------------------- */
/* Segment access rights: the descriptor's access byte in bits 7:0, AVL/L/DB/G in
 * bits 15:12, "segment unusable" in bit 16. */
#define VMX_AR_UNUSABLE (1u << 16)
#define VMX_AR_P (1u << 7)

/* Interruptibility state (Table 25-3). */
#define INTR_BLOCKING_STI (1u << 0)
#define INTR_BLOCKING_MOV_SS (1u << 1)
#define INTR_BLOCKING_SMI (1u << 2)
#define INTR_BLOCKING_NMI (1u << 3)

/* Activity states (Table 25-4). */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1
#define ACTIVITY_SHUTDOWN 2
#define ACTIVITY_WAIT_SIPI 3

/* ---- event information (SDM 25.8.3, 28.2.2, 28.2.4) -------------------------- */
/* VM-entry interruption information, VM-exit interruption information and
 * IDT-vectoring information share one layout. */
#define INTR_INFO_VECTOR(i) ((u8)((i) & 0xFF))
#define INTR_INFO_TYPE(i) (((i) >> 8) & 7)
#define INTR_INFO_ERROR_CODE (1u << 11)
#define INTR_INFO_NMI_UNBLOCKED_BY_IRET (1u << 12) /* exit info only */
#define INTR_INFO_VALID (1u << 31)

#define INTR_TYPE_EXTERNAL 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SW_INTERRUPT 4
#define INTR_TYPE_PRIV_SW_EXCEPTION 5
#define INTR_TYPE_SW_EXCEPTION 6
#define INTR_TYPE_OTHER 7

/* ---- exit reasons (Appendix C) ----------------------------------------------- */
#define VMX_EXIT_REASON_BASIC(r) ((u16)(r))
#define VMX_EXIT_REASON_ENTRY_FAILURE (1u << 31)

enum vmx_exit_reason {
	VMX_EXIT_EXCEPTION_NMI = 0,
	VMX_EXIT_EXTERNAL_INTERRUPT = 1,
	VMX_EXIT_TRIPLE_FAULT = 2,
	VMX_EXIT_INIT = 3,
	VMX_EXIT_SIPI = 4,
	VMX_EXIT_IO_SMI = 5,
	VMX_EXIT_OTHER_SMI = 6,
	VMX_EXIT_INTERRUPT_WINDOW = 7,
	VMX_EXIT_NMI_WINDOW = 8,
	VMX_EXIT_TASK_SWITCH = 9,
	VMX_EXIT_CPUID = 10,
	VMX_EXIT_GETSEC = 11,
	VMX_EXIT_HLT = 12,
	VMX_EXIT_INVD = 13,
	VMX_EXIT_INVLPG = 14,
	VMX_EXIT_RDPMC = 15,
	VMX_EXIT_RDTSC = 16,
	VMX_EXIT_RSM = 17,
	VMX_EXIT_VMCALL = 18,
	VMX_EXIT_VMCLEAR = 19,
	VMX_EXIT_VMLAUNCH = 20,
	VMX_EXIT_VMPTRLD = 21,
	VMX_EXIT_VMPTRST = 22,
	VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24,
	VMX_EXIT_VMWRITE = 25,
	VMX_EXIT_VMXOFF = 26,
	VMX_EXIT_VMXON = 27,
	VMX_EXIT_CR_ACCESS = 28,
	VMX_EXIT_DR_ACCESS = 29,
	VMX_EXIT_IO = 30,
	VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32,
	VMX_EXIT_INVALID_GUEST_STATE = 33,
	VMX_EXIT_MSR_LOADING = 34,
	VMX_EXIT_MWAIT = 36,
	VMX_EXIT_MONITOR_TRAP_FLAG = 37,
	VMX_EXIT_MONITOR = 39,
	VMX_EXIT_PAUSE = 40,
	VMX_EXIT_MACHINE_CHECK = 41,
	VMX_EXIT_TPR_BELOW_THRESHOLD = 43,
	VMX_EXIT_APIC_ACCESS = 44,
	VMX_EXIT_VIRTUALIZED_EOI = 45,
	VMX_EXIT_GDTR_IDTR = 46,
	VMX_EXIT_LDTR_TR = 47,
	VMX_EXIT_EPT_VIOLATION = 48,
	VMX_EXIT_EPT_MISCONFIG = 49,
	VMX_EXIT_INVEPT = 50,
	VMX_EXIT_RDTSCP = 51,
	VMX_EXIT_PREEMPTION_TIMER = 52,
	VMX_EXIT_INVVPID = 53,
	VMX_EXIT_WBINVD = 54,
	VMX_EXIT_XSETBV = 55,
	VMX_EXIT_APIC_WRITE = 56,
	VMX_EXIT_RDRAND = 57,
	VMX_EXIT_INVPCID = 58,
	VMX_EXIT_VMFUNC = 59,
	VMX_EXIT_ENCLS = 60,
	VMX_EXIT_RDSEED = 61,
	VMX_EXIT_PML_FULL = 62,
	VMX_EXIT_XSAVES = 63,
	VMX_EXIT_XRSTORS = 64,
	VMX_EXIT_REASON_MAX = 80,
};

/* Exit qualification of control-register accesses (Table 28-3). */
#define CR_QUAL_CR(q) ((u8)((q) & 0xF))
#define CR_QUAL_TYPE(q) (((q) >> 4) & 3)
#define CR_QUAL_GPR(q) ((u8)(((q) >> 8) & 0xF))
#define CR_QUAL_LMSW_SOURCE(q) ((u16)((q) >> 16))
#define CR_ACCESS_MOV_TO 0
#define CR_ACCESS_MOV_FROM 1
#define CR_ACCESS_CLTS 2
#define CR_ACCESS_LMSW 3

/* Exit qualification of I/O instructions (Table 28-5). */
#define IO_QUAL_SIZE(q) ((u8)(((q) & 7) + 1))
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_PORT(q) ((u16)((q) >> 16))

/* Exit qualification of EPT violations (Table 28-7). */
#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_READABLE (1u << 3)
#define EPT_QUAL_WRITABLE (1u << 4)
#define EPT_QUAL_EXECUTABLE (1u << 5)
#define EPT_QUAL_USER_EXECUTABLE (1u << 6)
#define EPT_QUAL_GLA_VALID (1u << 7)
#define EPT_QUAL_GLA_TRANSLATED (1u << 8)
#define EPT_QUAL_USER_MODE (1u << 9) /* with advanced EPT exit information */
#define EPT_QUAL_NMI_UNBLOCKED_BY_IRET (1u << 12)

/* ---- segment access rights <-> the core's compact form ------------------------ */
/* The core keeps the access byte in bits 0-7 and AVL/L/DB/G in bits 8-11 (the
 * VMCB layout); VMX keeps the latter in bits 12-15 and marks a segment that
 * must not be used (a null selector loaded, or never loaded) with bit 16.  An
 * unusable segment reads back as not present; a not-present segment is written
 * as unusable (a present bit of 0 is illegal in a usable one, SDM 27.3.1.2). */
static inline u16 vmx_ar_to_attr(u32 ar)
{
	u16 attr = (u16)((ar & 0xFF) | ((ar >> 4) & 0xF00));
	if (ar & VMX_AR_UNUSABLE)
		attr &= (u16)~VMX_AR_P;
	return attr;
}

static inline u32 vmx_attr_to_ar(u16 attr)
{
	u32 ar = (attr & 0xFFu) | ((attr & 0xF00u) << 4);
	if (!(attr & VMX_AR_P))
		ar |= VMX_AR_UNUSABLE;
	return ar;
}

#endif
