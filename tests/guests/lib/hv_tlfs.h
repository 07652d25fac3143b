/*
 * The numbers of Microsoft's hypervisor interface (Hyper-V TLFS) that the test
 * guests use, one copy for all of them.  Each group cites the section of
 * shared/spec/tlfs-digest.md it was copied from, the numbering the guests' RESULT
 * names use too.
 *
 * Deliberately not hyperv/hv_defs.h: the guests check the hypervisor against the
 * spec, and a number both sides took from one header would be wrong on both sides
 * at once without a test noticing.  So these are copied from the digest, not from
 * the hypervisor.
 *
 * Every name starts with HV_ or HVCALL_, so none collides with a guest's own names
 * (hv_synic's SINT_MSG, hv_fuzz's reserved-bit masks CTL_RSVD, STIMER_RSVDZ).  MSR
 * names are the TLFS's HV_X64_MSR_* without the X64_; status names are the TLFS's
 * HV_STATUS_*; hypercall codes carry the TLFS name in a comment.
 */
#ifndef HV_TLFS_H
#define HV_TLFS_H

#include "guest.h"

/* ---- CPUID leaves (digest 1) --------------------------------------------------------- */
#define HV_CPUID_VENDOR 0x40000000
#define HV_CPUID_INTERFACE 0x40000001
#define HV_CPUID_FEATURES 0x40000003
#define HV_CPUID_ENLIGHTENMENT_INFO 0x40000004
#define HV_CPUID_HARDWARE_FEATURES 0x40000006

/* Leaf 0x40000000 (digest 1.1): EAX is at least 0x40000005, EBX:ECX:EDX "Microsoft Hv". */
#define HV_CPUID_MIN_MAX_LEAF 0x40000005
#define HV_CPUID_VENDOR_EBX 0x7263694Du /* "Micr" */
/* Leaf 0x40000001 EAX (digest 1.2). */
#define HV_CPUID_INTERFACE_HV1 0x31237648u /* "Hv#1" */

/* Leaf 0x40000003 EAX: partition privileges 31:0 (digest 1.4). */
#define HV_PRIV_VP_RUNTIME (1u << 0)	 /* AccessVpRunTimeReg */
#define HV_PRIV_REF_COUNTER (1u << 1)	 /* AccessPartitionReferenceCounter */
#define HV_PRIV_SYNIC (1u << 2)		 /* AccessSynicRegs */
#define HV_PRIV_STIMER (1u << 3)	 /* AccessSyntheticTimerRegs */
#define HV_PRIV_INTR_CTRL (1u << 4)	 /* AccessIntrCtrlRegs: EOI/ICR/TPR MSRs */
#define HV_PRIV_HYPERCALL_MSRS (1u << 5) /* AccessHypercallMsrs */
#define HV_PRIV_VP_INDEX (1u << 6)	 /* AccessVpIndex */
#define HV_PRIV_RESET (1u << 7)		 /* AccessResetReg */
#define HV_PRIV_REFERENCE_TSC (1u << 9)	 /* AccessPartitionReferenceTsc */
#define HV_PRIV_GUEST_IDLE (1u << 10)	 /* AccessGuestIdleReg */
#define HV_PRIV_FREQUENCY (1u << 11)	 /* AccessFrequencyRegs */
/* Leaf 0x40000003 EBX: partition privileges 63:32 (digest 1.4). */
#define HV_PRIV_EBX_POST_MESSAGES (1u << 4)  /* bit 36, PostMessages */
#define HV_PRIV_EBX_SIGNAL_EVENTS (1u << 5)  /* bit 37, SignalEvents */
#define HV_PRIV_EBX_EXT_HYPERCALLS (1u << 20) /* bit 52, EnableExtendedHypercalls */
/* Leaf 0x40000003 EDX: features (digest 1.4). */
#define HV_FEAT_XMM_INPUT (1u << 4)	  /* XMM registers for fast hypercall input */
#define HV_FEAT_CRASH_MSRS (1u << 10)	  /* guest crash MSRs */
#define HV_FEAT_XMM_OUTPUT (1u << 15)	  /* XMM registers for fast hypercall output */
#define HV_FEAT_SINT_POLLING (1u << 17)	  /* SINTx Polling bit */
#define HV_FEAT_STIMER_DIRECT (1u << 19)  /* direct-mode synthetic timers */

/* Leaf 0x40000004 EAX: recommendations (digest 1.5). */
#define HV_HINT_REMOTE_FLUSH (1u << 2) /* use the flush hypercalls for remote TLB flushes */
#define HV_HINT_APIC_MSRS (1u << 3)    /* use the EOI/ICR/TPR MSRs */
#define HV_HINT_CLUSTER_IPI (1u << 10) /* use HvCallSendSyntheticClusterIpi */
#define HV_HINT_EX_MASKS (1u << 11)    /* use the Ex (HV_VP_SET) hypercalls */

/* Leaf 0x40000006 EAX: hardware features in use (digest 1.7). */
#define HV_HW_APIC_OVERLAY_ASSIST (1u << 0)

/* ---- Synthetic MSRs (digest 2.1) ----------------------------------------------------- */
#define HV_MSR_GUEST_OS_ID 0x40000000
#define HV_MSR_HYPERCALL 0x40000001
#define HV_MSR_VP_INDEX 0x40000002
#define HV_MSR_RESET 0x40000003
#define HV_MSR_VP_RUNTIME 0x40000010
#define HV_MSR_TIME_REF_COUNT 0x40000020
#define HV_MSR_REFERENCE_TSC 0x40000021
#define HV_MSR_TSC_FREQUENCY 0x40000022
#define HV_MSR_APIC_FREQUENCY 0x40000023
#define HV_MSR_EOI 0x40000070
#define HV_MSR_ICR 0x40000071
#define HV_MSR_TPR 0x40000072
#define HV_MSR_VP_ASSIST_PAGE 0x40000073
#define HV_MSR_SCONTROL 0x40000080
#define HV_MSR_SVERSION 0x40000081
#define HV_MSR_SIEFP 0x40000082
#define HV_MSR_SIMP 0x40000083
#define HV_MSR_EOM 0x40000084
#define HV_MSR_SINT(n) (0x40000090 + (n))
#define HV_MSR_STIMER_CONFIG(n) (0x400000B0 + 2 * (n))
#define HV_MSR_STIMER_COUNT(n) (0x400000B1 + 2 * (n))
#define HV_MSR_GUEST_IDLE 0x400000F0
#define HV_MSR_CRASH_P0 0x40000100 /* P0..P4 are consecutive */
#define HV_MSR_CRASH_CTL 0x40000105

/* HYPERCALL (digest 2.3): 0 Enable, 1 Locked, 63:12 the page. */
#define HV_HYPERCALL_ENABLE 1ull
#define HV_HYPERCALL_LOCKED 2ull
/* REFERENCE_TSC, VP_ASSIST_PAGE, SIEFP, SIMP (digest 2.7, 2.10, 2.11): 0 Enable. */
#define HV_OVERLAY_ENABLE 1ull
/* SINTx (digest 2.11): 7:0 vector. */
#define HV_SINT_MASKED (1ull << 16)
#define HV_SINT_AUTO_EOI (1ull << 17)
#define HV_SINT_POLLING (1ull << 18)
/* STIMERx_CONFIG (digest 2.12). */
#define HV_STIMER_ENABLE (1ull << 0)
#define HV_STIMER_PERIODIC (1ull << 1)
#define HV_STIMER_AUTO_ENABLE (1ull << 3)
#define HV_STIMER_VECTOR(v) ((u64)(v) << 4) /* direct mode's APIC vector, 11:4 */
#define HV_STIMER_DIRECT (1ull << 12)
#define HV_STIMER_SINT(n) ((u64)(n) << 16) /* 19:16 */
/* CRASH_CTL (digest 2.13). */
#define HV_CRASH_NOTIFY (1ull << 63)

/* ---- SynIC pages (digest 7.2, 7.6, 7.7) ---------------------------------------------- */
#define HV_MSG_FLAG_PENDING 0x01		 /* MessageFlags bit 0, MessagePending */
#define HV_MSG_TIMER_EXPIRED 0x80000010u /* HvMessageTypeTimerExpired */
/* VP assist page dword 0 (digest 2.10, 7.6): ApicAssist bit 0, "No EOI required". */
#define HV_ASSIST_NO_EOI_REQUIRED 1u

/* ---- Hypercall input value, EDX:EAX in the 32-bit convention (digest 3.3) ------------ */
#define HVCALL_CODE_MASK 0xFFFFu
#define HVCALL_FAST (1ull << 16)
#define HVCALL_VARHEAD(n) ((u64)(n) << 17) /* variable header size, in qwords */
#define HVCALL_REP_COUNT(n) ((u64)(n) << 32)
#define HVCALL_REP_START(n) ((u64)(n) << 48)

/* ---- HV_STATUS, the result's bits 15:0 (digest 3.9) ---------------------------------- */
#define HV_STATUS_SUCCESS 0x0
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x3
#define HV_STATUS_INVALID_ALIGNMENT 0x4
#define HV_STATUS_INVALID_PARAMETER 0x5
#define HV_STATUS_ACCESS_DENIED 0x6
#define HV_STATUS_INVALID_PARTITION_ID 0xD
#define HV_STATUS_INVALID_PORT_ID 0x11
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS 0x13
#define HV_STATUS_INVALID_SYNIC_STATE 0x18

/* ---- Hypercall codes (digest 4.1, 3.10) ---------------------------------------------- */
#define HV_CALL_FLUSH_SPACE 0x0002	   /* HvCallFlushVirtualAddressSpace */
#define HV_CALL_FLUSH_LIST 0x0003	   /* HvCallFlushVirtualAddressList */
#define HV_CALL_NOTIFY_LONG_SPIN_WAIT 0x0008 /* HvCallNotifyLongSpinWait */
#define HV_CALL_SEND_IPI 0x000B		   /* HvCallSendSyntheticClusterIpi */
#define HV_CALL_FLUSH_SPACE_EX 0x0013	   /* HvCallFlushVirtualAddressSpaceEx */
#define HV_CALL_FLUSH_LIST_EX 0x0014	   /* HvCallFlushVirtualAddressListEx */
#define HV_CALL_SEND_IPI_EX 0x0015	   /* HvCallSendSyntheticClusterIpiEx */
#define HV_CALL_POST_MESSAGE 0x005C	   /* HvCallPostMessage */
#define HV_CALL_SIGNAL_EVENT 0x005D	   /* HvCallSignalEvent */
#define HV_CALL_GET_VP_INDEX 0x009A	   /* HvCallGetVpIndexFromApicId */
#define HV_CALL_EXT_QUERY_CAPS 0x8001	   /* HvExtCallQueryCapabilities */

/* HV_FLUSH_FLAGS (digest 8.1). */
#define HV_FLUSH_ALL_PROCESSORS 1ull
#define HV_FLUSH_ALL_SPACES 2ull  /* HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES */
#define HV_FLUSH_NON_GLOBAL 4ull  /* HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY */

#endif
