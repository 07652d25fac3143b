/* The VMCB (AMD APM Vol. 2, Appendix B): control area at 0x000, state save
 * area at 0x400.  Offsets are asserted against the manual's tables. */
#ifndef HV_SVM_VMCB_H
#define HV_SVM_VMCB_H

#include "kernel/types.h"

/* Intercept vector 3 (offset 0x00C). */
#define SVM_INTERCEPT_INTR (1u << 0)
#define SVM_INTERCEPT_NMI (1u << 1)
#define SVM_INTERCEPT_SMI (1u << 2)
#define SVM_INTERCEPT_INIT (1u << 3)
#define SVM_INTERCEPT_VINTR (1u << 4)
#define SVM_INTERCEPT_CPUID (1u << 18)
#define SVM_INTERCEPT_IRET (1u << 20)
#define SVM_INTERCEPT_HLT (1u << 24)
#define SVM_INTERCEPT_INVLPGA (1u << 26)
#define SVM_INTERCEPT_IOIO_PROT (1u << 27)
#define SVM_INTERCEPT_MSR_PROT (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN (1u << 31)
/* Intercept vector 4 (offset 0x010). */
#define SVM_INTERCEPT_VMRUN (1u << 0)
#define SVM_INTERCEPT_VMMCALL (1u << 1)
#define SVM_INTERCEPT_VMLOAD (1u << 2)
#define SVM_INTERCEPT_VMSAVE (1u << 3)
#define SVM_INTERCEPT_STGI (1u << 4)
#define SVM_INTERCEPT_CLGI (1u << 5)
#define SVM_INTERCEPT_SKINIT (1u << 6)
#define SVM_INTERCEPT_MONITOR (1u << 10)
#define SVM_INTERCEPT_MWAIT (1u << 11)
#define SVM_INTERCEPT_MWAIT_COND (1u << 12)

/* TLB_CONTROL values. */
#define SVM_TLB_NOTHING 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* V_INTR field (offset 0x060). */
#define SVM_VINTR_MASKING (1ULL << 24)
#define SVM_VINTR_V_IRQ (1ULL << 8)
#define SVM_VINTR_PRIO_SHIFT 16
#define SVM_VINTR_IGN_TPR (1ULL << 20)
/* INTERRUPT_SHADOW field (offset 0x068): bit 0 is the STI/MOV SS shadow. */
#define SVM_INTERRUPT_SHADOW 1ULL

/* EVENTINJ / EXITINTINFO. */
#define SVM_EVENT_VALID (1ULL << 31)
#define SVM_EVENT_ERROR_VALID (1ULL << 11)
#define SVM_EVENT_TYPE_SHIFT 8
#define SVM_EVENT_TYPE_INTR 0
#define SVM_EVENT_TYPE_NMI 2
#define SVM_EVENT_TYPE_EXCEPTION 3
#define SVM_EVENT_TYPE_SOFTINT 4

/* Exit codes. */
#define SVM_EXIT_EXCEPTION_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_PAUSE 0x77
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPG 0x79
#define SVM_EXIT_INVLPGA 0x7A
#define SVM_EXIT_IOIO 0x7B
#define SVM_EXIT_MSR 0x7C
#define SVM_EXIT_SHUTDOWN 0x7F
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_MONITOR 0x8A
#define SVM_EXIT_MWAIT 0x8B
#define SVM_EXIT_MWAIT_COND 0x8C
#define SVM_EXIT_XSETBV 0x8D
#define SVM_EXIT_NPF 0x400
/* VMEXIT_INVALID is -1; QEMU and Bochs disagree on the high half, so only the
 * low 32 bits are compared. */
#define SVM_EXIT_INVALID_LOW 0xFFFFFFFFu

/* IOIO EXITINFO1. */
#define SVM_IOIO_IN (1u << 0)
#define SVM_IOIO_STR (1u << 2)
#define SVM_IOIO_REP (1u << 3)
#define SVM_IOIO_SIZE_SHIFT 4
#define SVM_IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 (a #PF-style error code). */
#define SVM_NPF_PRESENT (1ULL << 0)
#define SVM_NPF_WRITE (1ULL << 1)
#define SVM_NPF_USER (1ULL << 2)
#define SVM_NPF_RSVD (1ULL << 3)
#define SVM_NPF_FETCH (1ULL << 4)
#define SVM_NPF_FINAL_GPA (1ULL << 32)
#define SVM_NPF_TABLE_WALK (1ULL << 33)

struct vmcb_control {
	u32 intercept_cr;
	u32 intercept_dr;
	u32 intercept_exceptions;
	u32 intercept_misc1;
	u32 intercept_misc2;
	u32 intercept_misc3;
	u8 reserved_018[0x03C - 0x018];
	u16 pause_filter_threshold;
	u16 pause_filter_count;
	u64 iopm_base_pa;
	u64 msrpm_base_pa;
	u64 tsc_offset;
	u32 guest_asid;
	u8 tlb_control;
	u8 reserved_05d[3];
	u64 vintr;
	u64 interrupt_shadow;
	u64 exit_code;
	u64 exit_info1;
	u64 exit_info2;
	u64 exit_int_info;
	u64 np_enable;
	u64 avic_apic_bar;
	u64 ghcb_pa;
	u64 event_inject;
	u64 n_cr3;
	u64 virt_ext;
	u32 clean_bits;
	u32 reserved_0c4;
	u64 next_rip;
	u8 insn_len;
	u8 insn_bytes[15];
	u8 reserved_0e0[0x400 - 0x0E0];
};

struct vmcb_segment {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};

struct vmcb_save {
	struct vmcb_segment es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	u8 reserved_0a0[0x0CB - 0x0A0];
	u8 cpl;
	u32 reserved_0cc;
	u64 efer;
	u8 reserved_0d8[0x148 - 0x0D8];
	u64 cr4;
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip;
	u8 reserved_180[0x1D8 - 0x180];
	u64 rsp;
	u64 s_cet;
	u64 ssp;
	u64 isst_addr;
	u64 rax;
	u64 star;
	u64 lstar;
	u64 cstar;
	u64 sfmask;
	u64 kernel_gs_base;
	u64 sysenter_cs;
	u64 sysenter_esp;
	u64 sysenter_eip;
	u64 cr2;
	u8 reserved_248[0x268 - 0x248];
	u64 g_pat;
	u64 dbgctl;
	u64 br_from;
	u64 br_to;
	u64 last_excp_from;
	u64 last_excp_to;
};

/* Natural alignment gives the manual's layout (asserted below), so no packing. */
struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

STATIC_ASSERT(__builtin_offsetof(struct vmcb_control, iopm_base_pa) == 0x040, "VMCB IOPM");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_control, guest_asid) == 0x058, "VMCB ASID");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_control, exit_code) == 0x070, "VMCB exit code");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_control, event_inject) == 0x0A8, "VMCB EVENTINJ");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_control, n_cr3) == 0x0B0, "VMCB N_CR3");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_control, next_rip) == 0x0C8, "VMCB nRIP");
STATIC_ASSERT(sizeof(struct vmcb_control) == 0x400, "VMCB control area");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, cpl) == 0x0CB, "VMCB CPL");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, efer) == 0x0D0, "VMCB EFER");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, cr4) == 0x148, "VMCB CR4");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, rip) == 0x178, "VMCB RIP");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, rsp) == 0x1D8, "VMCB RSP");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, rax) == 0x1F8, "VMCB RAX");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, cr2) == 0x240, "VMCB CR2");
STATIC_ASSERT(__builtin_offsetof(struct vmcb_save, g_pat) == 0x268, "VMCB G_PAT");

#endif
