/* Numeric definitions of Microsoft's hypervisor interface ("Hv#1") as the Hyper-V
 * Top Level Functional Specification (TLFS) defines it.  Only numbers, bit layouts
 * and structure layouts live here; behaviour lives in the hv_*.c files.
 *
 * Every value is copied from ../shared/spec/tlfs-digest.md, whose section numbers
 * ("digest 2.11") are cited next to each group together with the TLFS page the
 * digest took it from.  Where the digest marks a value [1-src] or [DISPUTED], the
 * comment says which reading is used here.
 *
 * Naming: status codes, MSR names and structure names use the TLFS spelling
 * (HV_STATUS_*, HV_X64_MSR_*); hypercall codes (an enum) and message types
 * (macros) are spelled exactly as in the TLFS (HvCallFlushVirtualAddressSpace,
 * HvMessageTypeTimerExpired) so that a grep for the TLFS name finds the code.
 * Bit masks of CPUID/MSR fields use the Linux-style upper-case names with the TLFS
 * field name in the comment.
 *
 * All structures are little-endian, naturally aligned and padded as the TLFS
 * prints them; _Static_assert pins every size and offset that guests depend on. */
#ifndef HV_HYPERV_HV_DEFS_H
#define HV_HYPERV_HV_DEFS_H

#include <stddef.h>

#include "kernel/types.h"

#define HV_BIT(n) (1ULL << (n))
#define HV_BIT32(n) (1U << (n))

/* ---- General (TLFS "Data types"; digest 0) ------------------------------ */

#define HV_PAGE_SIZE 4096U
#define HV_PAGE_SHIFT 12
#define HV_PARTITION_ID_SELF 0xFFFFFFFFFFFFFFFFULL
#define HV_PARTITION_ID_INVALID 0ULL
#define HV_VP_INDEX_SELF 0xFFFFFFFEU
#define HV_ANY_VP 0xFFFFFFFFU

/* VTLs (digest 5.1).  HV_NUM_VTLS is the TLFS's "currently only two VTLs". */
#define HV_NUM_VTLS 2
#define HV_INVALID_VTL 0xFF
#define HV_VTL_ALL 0xF

/* HV_INPUT_VTL (u8), digest 4.2: 3:0 TargetVtl, 4 UseTargetVtl, 7:5 RsvdZ. */
#define HV_INPUT_VTL_TARGET_MASK 0x0FU
#define HV_INPUT_VTL_USE_TARGET 0x10U
#define HV_INPUT_VTL_RSVDZ_MASK 0xE0U

/* ---- Hypercall status codes (TLFS hypercall-interface, HV_STATUS; digest 3.9)
 * The result of every hypercall is a 16-bit HV_STATUS in RAX[15:0]. */
#define HV_STATUS_SUCCESS 0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003
#define HV_STATUS_INVALID_ALIGNMENT 0x0004
#define HV_STATUS_INVALID_PARAMETER 0x0005
#define HV_STATUS_ACCESS_DENIED 0x0006
#define HV_STATUS_INVALID_PARTITION_STATE 0x0007
#define HV_STATUS_OPERATION_DENIED 0x0008
#define HV_STATUS_UNKNOWN_PROPERTY 0x0009
#define HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE 0x000A
#define HV_STATUS_INSUFFICIENT_MEMORY 0x000B
#define HV_STATUS_PARTITION_TOO_DEEP 0x000C
#define HV_STATUS_INVALID_PARTITION_ID 0x000D
#define HV_STATUS_INVALID_VP_INDEX 0x000E
#define HV_STATUS_NOT_FOUND 0x0010
#define HV_STATUS_INVALID_PORT_ID 0x0011
#define HV_STATUS_INVALID_CONNECTION_ID 0x0012
#define HV_STATUS_INSUFFICIENT_BUFFERS 0x0013
#define HV_STATUS_NOT_ACKNOWLEDGED 0x0014
#define HV_STATUS_INVALID_VP_STATE 0x0015
#define HV_STATUS_ACKNOWLEDGED 0x0016
#define HV_STATUS_INVALID_SAVE_RESTORE_STATE 0x0017
#define HV_STATUS_INVALID_SYNIC_STATE 0x0018
#define HV_STATUS_OBJECT_IN_USE 0x0019
#define HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO 0x001A
#define HV_STATUS_NO_DATA 0x001B
#define HV_STATUS_INACTIVE 0x001C
#define HV_STATUS_NO_RESOURCES 0x001D
#define HV_STATUS_FEATURE_UNAVAILABLE 0x001E
#define HV_STATUS_PARTIAL_PACKET 0x001F
#define HV_STATUS_PROCESSOR_FEATURE_NOT_SUPPORTED 0x0020
#define HV_STATUS_PROCESSOR_CACHE_LINE_FLUSH_SIZE_INCOMPATIBLE 0x0030
#define HV_STATUS_INSUFFICIENT_BUFFER 0x0033
#define HV_STATUS_INCOMPATIBLE_PROCESSOR 0x0037
#define HV_STATUS_INSUFFICIENT_DEVICE_DOMAINS 0x0038
#define HV_STATUS_CPUID_FEATURE_VALIDATION_ERROR 0x003C
#define HV_STATUS_CPUID_XSAVE_FEATURE_VALIDATION_ERROR 0x003D
#define HV_STATUS_PROCESSOR_STARTUP_TIMEOUT 0x003E
#define HV_STATUS_SMX_ENABLED 0x003F
#define HV_STATUS_INVALID_LP_INDEX 0x0041
#define HV_STATUS_INVALID_REGISTER_VALUE 0x0050
#define HV_STATUS_INVALID_VTL_STATE 0x0051
#define HV_STATUS_NX_NOT_DETECTED 0x0055
#define HV_STATUS_INVALID_DEVICE_ID 0x0057
#define HV_STATUS_INVALID_DEVICE_STATE 0x0058
#define HV_STATUS_PENDING_PAGE_REQUESTS 0x0059
#define HV_STATUS_PAGE_REQUEST_INVALID 0x0060
#define HV_STATUS_KEY_ALREADY_EXISTS 0x0065
#define HV_STATUS_DEVICE_ALREADY_IN_DOMAIN 0x0066
#define HV_STATUS_INVALID_CPU_GROUP_ID 0x006F
#define HV_STATUS_INVALID_CPU_GROUP_STATE 0x0070
#define HV_STATUS_OPERATION_FAILED 0x0071
#define HV_STATUS_NOT_ALLOWED_WITH_NESTED_VIRT_ACTIVE 0x0072
#define HV_STATUS_INSUFFICIENT_ROOT_MEMORY 0x0073
#define HV_STATUS_EVENT_BUFFER_ALREADY_FREED 0x0074
#define HV_STATUS_TIMEOUT 0x0078
#define HV_STATUS_CALL_PENDING 0x0079 /* [1-src: LNX] */
#define HV_STATUS_VTL_ALREADY_ENABLED 0x0086
#define HV_STATUS_UNKNOWN_REGISTER_NAME 0x0087 /* [1-src: OVMM] */

/* ---- Hypercall codes (TLFS hypercall pages; digest 4.1, 3.10) ------------
 * Only the codes this hypervisor knows about; anything else is answered with
 * HV_STATUS_INVALID_HYPERCALL_CODE. */
enum hv_call_code {
	HvCallSwitchVirtualAddressSpace = 0x0001,
	HvCallFlushVirtualAddressSpace = 0x0002,
	HvCallFlushVirtualAddressList = 0x0003,
	HvCallGetLogicalProcessorRunTime = 0x0004,
	HvCallNotifyLongSpinWait = 0x0008,
	HvCallInvokeHypervisorDebugger = 0x000A,
	HvCallSendSyntheticClusterIpi = 0x000B,
	HvCallModifyVtlProtectionMask = 0x000C,
	HvCallEnablePartitionVtl = 0x000D,
	HvCallDisablePartitionVtl = 0x000E,
	HvCallEnableVpVtl = 0x000F,
	HvCallDisableVpVtl = 0x0010,
	HvCallVtlCall = 0x0011,
	HvCallVtlReturn = 0x0012,
	HvCallFlushVirtualAddressSpaceEx = 0x0013,
	HvCallFlushVirtualAddressListEx = 0x0014,
	HvCallSendSyntheticClusterIpiEx = 0x0015,
	HvCallGetPartitionId = 0x0046,
	HvCallInstallIntercept = 0x004D,
	HvCallGetVpRegisters = 0x0050,
	HvCallSetVpRegisters = 0x0051,
	HvCallTranslateVirtualAddress = 0x0052,
	HvCallReadGpa = 0x0053,
	HvCallWriteGpa = 0x0054,
	HvCallPostMessage = 0x005C,
	HvCallSignalEvent = 0x005D,
	HvCallPostDebugData = 0x0069,
	HvCallRetrieveDebugData = 0x006A,
	HvCallResetDebugSession = 0x006B,
	HvCallOutputDebugCharacter = 0x0071,
	HvCallQueryNumaDistance = 0x0078,
	HvCallRetargetDeviceInterrupt = 0x007E,
	HvCallAssertVirtualInterrupt = 0x0094,
	HvCallStartVirtualProcessor = 0x0099,
	HvCallGetVpIndexFromApicId = 0x009A,
	HvCallTranslateVirtualAddressEx = 0x00AC,
	HvCallFlushGuestPhysicalAddressSpace = 0x00AF,
	HvCallFlushGuestPhysicalAddressList = 0x00B0,
	HvExtCallQueryCapabilities = 0x8001,
	HvExtCallGetBootZeroedMemory = 0x8002,
	HvExtCallMemoryHeatHint = 0x8003,
	HvExtCallEpfSetup = 0x8004,
	HvExtCallSchedulerAssistSetup = 0x8005,
	HvExtCallMemoryHeatHintAsync = 0x8006,
};

/* First extended hypercall code (digest 3.10): codes >= this need the
 * EnableExtendedHypercalls privilege. */
#define HV_EXT_CALL_FIRST 0x8001

/* ---- Hypercall input value (RCX; x86 EDX:EAX), digest 3.3 ---------------- */
#define HV_HYPERCALL_CODE_MASK 0x000000000000FFFFULL	  /* 15:0 call code */
#define HV_HYPERCALL_FAST_BIT HV_BIT(16)		  /* 16 fast (register) call */
#define HV_HYPERCALL_VARHEAD_SHIFT 17
#define HV_HYPERCALL_VARHEAD_MASK 0x0000000007FE0000ULL  /* 26:17, in qwords */
#define HV_HYPERCALL_NESTED_BIT HV_BIT(31)		  /* 31 IsNested */
#define HV_HYPERCALL_REP_COUNT_SHIFT 32
#define HV_HYPERCALL_REP_COUNT_MASK 0x00000FFF00000000ULL /* 43:32 */
#define HV_HYPERCALL_REP_START_SHIFT 48
#define HV_HYPERCALL_REP_START_MASK 0x0FFF000000000000ULL /* 59:48 */
/* RsvdZ: 30:27, 47:44, 63:60 (bit 31, IsNested, is separate: see above). */
#define HV_HYPERCALL_RSVDZ_MASK 0xF000F00078000000ULL
#define HV_HYPERCALL_REP_MAX 0xFFFU		/* 12-bit rep count/start */
#define HV_HYPERCALL_VARHEAD_MAX 0x3FFU		/* 10-bit variable header size */

/* ---- Hypercall result value (RAX; x86 EDX:EAX), digest 3.4 --------------
 * 15:0 HV_STATUS, 31:16 reserved, 43:32 reps completed (absolute), 63:44
 * reserved.  [DISPUTED #5] the TLFS table prints "63:40"; LNX/OVMM/MSVM use
 * 63:44, which is what is encoded here. */
#define HV_HYPERCALL_RESULT_STATUS_MASK 0xFFFFULL
#define HV_HYPERCALL_RESULT_REPS_SHIFT 32
#define HV_HYPERCALL_RESULT_REPS_MASK 0x00000FFF00000000ULL

/* Fast calls (digest 3.5): RDX, R8 and XMM0-XMM5 form 7 register pairs of 16
 * bytes = at most 112 bytes of input plus output.  32-bit callers have one
 * pair (EBX:ECX, EDI:ESI) and no XMM forms. */
#define HV_HYPERCALL_FAST_PAIR_BYTES 16U
#define HV_HYPERCALL_FAST_PAIRS_X64 7U
#define HV_HYPERCALL_FAST_PAIRS_X86 1U
#define HV_HYPERCALL_MAX_XMM_REGISTERS 6U

/* ---- Synthetic MSRs (TLFS partition-properties, vp-properties, virtual-
 * interrupts, timers, inter-partition-communication; digest 2.1) ------------ */
#define HV_X64_MSR_GUEST_OS_ID 0x40000000
#define HV_X64_MSR_HYPERCALL 0x40000001
#define HV_X64_MSR_VP_INDEX 0x40000002
#define HV_X64_MSR_RESET 0x40000003
#define HV_X64_MSR_VP_RUNTIME 0x40000010
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020
#define HV_X64_MSR_REFERENCE_TSC 0x40000021
#define HV_X64_MSR_TSC_FREQUENCY 0x40000022
#define HV_X64_MSR_APIC_FREQUENCY 0x40000023
#define HV_X64_MSR_NPIEP_CONFIG 0x40000040
#define HV_X64_MSR_EOI 0x40000070
#define HV_X64_MSR_ICR 0x40000071
#define HV_X64_MSR_TPR 0x40000072
#define HV_X64_MSR_VP_ASSIST_PAGE 0x40000073
#define HV_X64_MSR_SCONTROL 0x40000080
#define HV_X64_MSR_SVERSION 0x40000081
#define HV_X64_MSR_SIEFP 0x40000082
#define HV_X64_MSR_SIMP 0x40000083
#define HV_X64_MSR_EOM 0x40000084
#define HV_X64_MSR_SIRBP 0x40000085 /* [1-src: LNX for the number] */
#define HV_X64_MSR_SINT0 0x40000090
#define HV_X64_MSR_SINT15 0x4000009F
#define HV_X64_MSR_SINT(n) (HV_X64_MSR_SINT0 + (n))
#define HV_X64_MSR_STIMER0_CONFIG 0x400000B0
#define HV_X64_MSR_STIMER0_COUNT 0x400000B1
#define HV_X64_MSR_STIMER3_COUNT 0x400000B7
#define HV_X64_MSR_STIMER_CONFIG(n) (HV_X64_MSR_STIMER0_CONFIG + 2 * (n))
#define HV_X64_MSR_STIMER_COUNT(n) (HV_X64_MSR_STIMER0_COUNT + 2 * (n))
#define HV_X64_MSR_GUEST_IDLE 0x400000F0
#define HV_X64_MSR_CRASH_P0 0x40000100
#define HV_X64_MSR_CRASH_P4 0x40000104
#define HV_X64_MSR_CRASH_CTL 0x40000105
#define HV_X64_MSR_REENLIGHTENMENT_CONTROL 0x40000106
#define HV_X64_MSR_TSC_EMULATION_CONTROL 0x40000107
#define HV_X64_MSR_TSC_EMULATION_STATUS 0x40000108
#define HV_X64_MSR_STIME_UNHALTED_TIMER_CONFIG 0x40000114 /* [1-src: TLFS] */
#define HV_X64_MSR_STIME_UNHALTED_TIMER_COUNT 0x40000115  /* [1-src: TLFS] */
#define HV_X64_MSR_TSC_INVARIANT_CONTROL 0x40000118	   /* [1-src: LNX/KVM] */

/* GUEST_OS_ID (digest 2.2): bit 63 = open-source OS. */
#define HV_GUEST_OS_ID_OPEN_SOURCE HV_BIT(63)

/* HYPERCALL MSR (digest 2.3): 0 Enable, 1 Locked, 11:2 RsvdP, 63:12 GPA page.
 * [DISPUTED #23] WDK7/LNX call bit 1 reserved; TLFS/OVMM call it Locked, and
 * Locked is implemented (advertised by CPUID 0x40000003 EDX bit 18). */
#define HV_X64_MSR_HYPERCALL_ENABLE HV_BIT(0)
#define HV_X64_MSR_HYPERCALL_LOCKED HV_BIT(1)
#define HV_X64_MSR_HYPERCALL_RSVDP_MASK 0x0000000000000FFCULL
#define HV_X64_MSR_HYPERCALL_PAGE_MASK 0xFFFFFFFFFFFFF000ULL

/* Overlay-page MSRs with the same shape: REFERENCE_TSC (2.7), VP_ASSIST_PAGE
 * (2.10), SIEFP and SIMP (2.11): 0 Enable, 11:1 RsvdP, 63:12 GPA page. */
#define HV_X64_MSR_OVERLAY_ENABLE HV_BIT(0)
#define HV_X64_MSR_OVERLAY_RSVDP_MASK 0x0000000000000FFEULL
#define HV_X64_MSR_OVERLAY_PAGE_MASK 0xFFFFFFFFFFFFF000ULL
#define HV_X64_MSR_REFERENCE_TSC_ENABLE HV_X64_MSR_OVERLAY_ENABLE
#define HV_X64_MSR_VP_ASSIST_PAGE_ENABLE HV_X64_MSR_OVERLAY_ENABLE
#define HV_X64_MSR_SIEFP_ENABLE HV_X64_MSR_OVERLAY_ENABLE
#define HV_X64_MSR_SIMP_ENABLE HV_X64_MSR_OVERLAY_ENABLE

/* RESET (digest 2.5): bit 0 Reset, 63:1 RsvdZ. */
#define HV_X64_MSR_RESET_BIT HV_BIT(0)

/* APIC access MSRs (digest 2.9). */
#define HV_X64_MSR_EOI_RSVDZ_MASK 0xFFFFFFFF00000000ULL
#define HV_X64_MSR_TPR_RSVDZ_MASK 0xFFFFFFFFFFFFFF00ULL

/* SCONTROL (digest 2.11): bit 0 Enable, 63:1 RsvdP. */
#define HV_X64_MSR_SCONTROL_ENABLE HV_BIT(0)
/* SVERSION: read-only, 31:0 = 1. */
#define HV_SYNIC_VERSION_1 0x00000001U

/* SINTx (digest 2.11): 7:0 Vector (16..255 unless masked), 15:8 RsvdP,
 * 16 Masked, 17 AutoEOI, 18 Polling, 19 reserved ([DISPUTED #27] LNX's
 * as_intercept is treated as RsvdP), 20 Proxy (LNX/OVMM, not TLFS), 63:21
 * RsvdP.  Reset value 0x10000 (masked). */
#define HV_SYNIC_SINT_VECTOR_MASK 0xFFULL
#define HV_SYNIC_SINT_MASKED HV_BIT(16)
#define HV_SYNIC_SINT_AUTO_EOI HV_BIT(17)
#define HV_SYNIC_SINT_POLLING HV_BIT(18)
#define HV_SYNIC_SINT_PROXY HV_BIT(20)
#define HV_SYNIC_SINT_RESET_VALUE 0x0000000000010000ULL
#define HV_SYNIC_FIRST_VALID_VECTOR 16

/* SynIC sizes (digest 7.1, 7.2, 7.5). */
#define HV_SYNIC_SINT_COUNT 16
#define HV_SYNIC_INTERCEPTION_SINT_INDEX 0 /* intercept messages (digest 5.12) */
#define HV_SYNIC_STIMER_COUNT 4
#define HV_EVENT_FLAGS_COUNT (256 * 8)
#define HV_EVENT_FLAGS_BYTE_COUNT 256

/* STIMERx_CONFIG (digest 2.12): 0 Enabled, 1 Periodic, 2 Lazy, 3 AutoEnable,
 * 11:4 ApicVector (direct mode), 12 DirectMode, 15:13 RsvdZ, 19:16 SINTx,
 * 63:20 RsvdZ.  Reset 0. */
#define HV_STIMER_CONFIG_ENABLE HV_BIT(0)
#define HV_STIMER_CONFIG_PERIODIC HV_BIT(1)
#define HV_STIMER_CONFIG_LAZY HV_BIT(2)
#define HV_STIMER_CONFIG_AUTO_ENABLE HV_BIT(3)
#define HV_STIMER_CONFIG_APIC_VECTOR_SHIFT 4
#define HV_STIMER_CONFIG_APIC_VECTOR_MASK 0x0000000000000FF0ULL
#define HV_STIMER_CONFIG_DIRECT_MODE HV_BIT(12)
#define HV_STIMER_CONFIG_SINTX_SHIFT 16
#define HV_STIMER_CONFIG_SINTX_MASK 0x00000000000F0000ULL
#define HV_STIMER_CONFIG_RSVDZ_MASK 0xFFFFFFFFFFF0E000ULL

/* CRASH_CTL (digest 2.13): 63 CrashNotify, 62 CrashMessage (P3 = GPA, P4 =
 * length <= 4096); OVMM's bit 61 NoCrashDump and 60:58 pre-OS id are [1-src]
 * and not defined here. */
#define HV_CRASH_CTL_CRASH_NOTIFY HV_BIT(63)
#define HV_CRASH_CTL_CRASH_MESSAGE HV_BIT(62)
#define HV_CRASH_MAX_MESSAGE_SIZE 4096U

/* ---- CPUID leaves (TLFS feature-discovery; digest 1) --------------------- */
#define HV_CPUID_VENDOR_AND_MAX_FUNCTIONS 0x40000000
#define HV_CPUID_INTERFACE 0x40000001
#define HV_CPUID_VERSION 0x40000002
#define HV_CPUID_FEATURES 0x40000003
#define HV_CPUID_ENLIGHTENMENT_INFO 0x40000004
#define HV_CPUID_IMPLEMENTATION_LIMITS 0x40000005
#define HV_CPUID_HARDWARE_FEATURES 0x40000006
#define HV_CPUID_CPU_MANAGEMENT_FEATURES 0x40000007
#define HV_CPUID_NESTED_FEATURES 0x4000000A
#define HV_CPUID_ISOLATION_CONFIG 0x4000000C
/* Hypervisor CPUID range reserved to the hypervisor (digest 1). */
#define HV_CPUID_RANGE_FIRST 0x40000000
#define HV_CPUID_RANGE_LAST 0x4000FFFF
/* TLFS: a Microsoft hypervisor reports at least 0x40000005 in leaf 0 EAX. */
#define HV_CPUID_MIN_MAX_LEAF 0x40000005

/* Leaf 0x40000000 vendor "Microsoft Hv" (digest 1.1). */
#define HV_CPUID_VENDOR_EBX 0x7263694D /* "Micr" */
#define HV_CPUID_VENDOR_ECX 0x666F736F /* "osof" */
#define HV_CPUID_VENDOR_EDX 0x76482074 /* "t Hv" */
/* Leaf 0x40000001 EAX "Hv#1" (digest 1.2). */
#define HV_CPUID_INTERFACE_HV1 0x31237648

/* HV_PARTITION_PRIVILEGE_MASK (digest 1.4): CPUID 0x40000003 EAX = bits 31:0,
 * EBX = bits 63:32.  Names are the TLFS field names in upper case. */
#define HV_ACCESS_VP_RUNTIME_REG HV_BIT(0)		/* AccessVpRunTimeReg */
#define HV_ACCESS_PARTITION_REFERENCE_COUNTER HV_BIT(1) /* AccessPartitionReferenceCounter */
#define HV_ACCESS_SYNIC_REGS HV_BIT(2)			/* AccessSynicRegs */
#define HV_ACCESS_SYNTHETIC_TIMER_REGS HV_BIT(3)	/* AccessSyntheticTimerRegs */
#define HV_ACCESS_INTR_CTRL_REGS HV_BIT(4)		/* AccessIntrCtrlRegs */
#define HV_ACCESS_HYPERCALL_MSRS HV_BIT(5)		/* AccessHypercallMsrs */
#define HV_ACCESS_VP_INDEX HV_BIT(6)			/* AccessVpIndex */
#define HV_ACCESS_RESET_REG HV_BIT(7)			/* AccessResetReg */
#define HV_ACCESS_STATS_REG HV_BIT(8)			/* AccessStatsReg */
#define HV_ACCESS_PARTITION_REFERENCE_TSC HV_BIT(9)	/* AccessPartitionReferenceTsc */
#define HV_ACCESS_GUEST_IDLE_REG HV_BIT(10)		/* AccessGuestIdleReg */
#define HV_ACCESS_FREQUENCY_REGS HV_BIT(11)		/* AccessFrequencyRegs */
#define HV_ACCESS_DEBUG_REGS HV_BIT(12)		/* AccessDebugRegs ([DISPUTED #25]: TLFS reserved) */
#define HV_ACCESS_REENLIGHTENMENT_CONTROLS HV_BIT(13)	/* AccessReenlightenmentControls */
#define HV_ACCESS_ROOT_SCHEDULER_REG HV_BIT(14)	/* AccessRootSchedulerReg */
#define HV_ACCESS_TSC_INVARIANT_CONTROLS HV_BIT(15)	/* AccessTscInvariantControls */
#define HV_CREATE_PARTITIONS HV_BIT(32)		/* CreatePartitions */
#define HV_ACCESS_PARTITION_ID HV_BIT(33)		/* AccessPartitionId */
#define HV_ACCESS_MEMORY_POOL HV_BIT(34)		/* AccessMemoryPool */
#define HV_ADJUST_MESSAGE_BUFFERS HV_BIT(35)		/* AdjustMessageBuffers ([DISPUTED #25]) */
#define HV_POST_MESSAGES HV_BIT(36)			/* PostMessages */
#define HV_SIGNAL_EVENTS HV_BIT(37)			/* SignalEvents */
#define HV_CREATE_PORT HV_BIT(38)			/* CreatePort */
#define HV_CONNECT_PORT HV_BIT(39)			/* ConnectPort */
#define HV_ACCESS_STATS HV_BIT(40)			/* AccessStats */
#define HV_DEBUGGING HV_BIT(43)			/* Debugging */
#define HV_CPU_MANAGEMENT HV_BIT(44)			/* CpuManagement */
#define HV_CONFIGURE_PROFILER HV_BIT(45)		/* ConfigureProfiler */
#define HV_ACCESS_VP_EXIT_TRACING HV_BIT(46)		/* AccessVpExitTracing */
#define HV_ENABLE_EXTENDED_GVA_RANGES_FLUSH HV_BIT(47) /* EnableExtendedGvaRangesForFlushVirtualAddressList */
#define HV_ACCESS_VSM HV_BIT(48)			/* AccessVsm */
#define HV_ACCESS_VP_REGISTERS HV_BIT(49)		/* AccessVpRegisters */
#define HV_FAST_HYPERCALL_OUTPUT HV_BIT(51)		/* FastHypercallOutput (MSVM/OVMM) */
#define HV_ENABLE_EXTENDED_HYPERCALLS HV_BIT(52)	/* EnableExtendedHypercalls */
#define HV_START_VIRTUAL_PROCESSOR HV_BIT(53)		/* StartVirtualProcessor */
#define HV_ISOLATION HV_BIT(54)			/* Isolation */

/* CPUID 0x40000003 EDX: feature flags (digest 1.4, "EDX of 0x40000003"). */
#define HV_X64_MWAIT_AVAILABLE HV_BIT32(0)
#define HV_X64_GUEST_DEBUGGING_AVAILABLE HV_BIT32(1)
#define HV_X64_PERF_MONITOR_AVAILABLE HV_BIT32(2)
#define HV_X64_CPU_DYNAMIC_PARTITIONING_AVAILABLE HV_BIT32(3)
#define HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE HV_BIT32(4)
#define HV_X64_GUEST_IDLE_STATE_AVAILABLE HV_BIT32(5)
#define HV_X64_HYPERVISOR_SLEEP_STATE_AVAILABLE HV_BIT32(6)
#define HV_X64_NUMA_DISTANCE_QUERY_AVAILABLE HV_BIT32(7)
#define HV_FEATURE_FREQUENCY_MSRS_AVAILABLE HV_BIT32(8)
#define HV_FEATURE_GUEST_MCE_INJECTION_AVAILABLE HV_BIT32(9)
#define HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE HV_BIT32(10)
#define HV_FEATURE_DEBUG_MSRS_AVAILABLE HV_BIT32(11)
#define HV_X64_NPIEP_AVAILABLE HV_BIT32(12)
#define HV_X64_DISABLE_HYPERVISOR_AVAILABLE HV_BIT32(13)
#define HV_FEATURE_EXT_GVA_RANGES_FLUSH HV_BIT32(14)
#define HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE HV_BIT32(15)
#define HV_X64_SINT_POLLING_AVAILABLE HV_BIT32(17)
#define HV_X64_HYPERCALL_MSR_LOCK_AVAILABLE HV_BIT32(18)
#define HV_STIMER_DIRECT_MODE_AVAILABLE HV_BIT32(19)
#define HV_X64_PAT_REGISTER_AVAILABLE_FOR_VSM HV_BIT32(20)
#define HV_X64_BNDCFGS_REGISTER_AVAILABLE_FOR_VSM HV_BIT32(21)
#define HV_X64_SYNTHETIC_TIME_UNHALTED_TIMER_AVAILABLE HV_BIT32(23)
#define HV_X64_LBR_AVAILABLE HV_BIT32(26)

/* CPUID 0x40000004 EAX: implementation recommendations (digest 1.5). */
#define HV_X64_AS_SWITCH_RECOMMENDED HV_BIT32(0)
#define HV_X64_LOCAL_TLB_FLUSH_RECOMMENDED HV_BIT32(1)
#define HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED HV_BIT32(2)
#define HV_X64_APIC_ACCESS_RECOMMENDED HV_BIT32(3)
#define HV_X64_SYSTEM_RESET_RECOMMENDED HV_BIT32(4)
#define HV_X64_RELAXED_TIMING_RECOMMENDED HV_BIT32(5)
#define HV_X64_DMA_REMAPPING_RECOMMENDED HV_BIT32(6)
#define HV_X64_INTERRUPT_REMAPPING_RECOMMENDED HV_BIT32(7)
/* [DISPUTED #24] TLFS table "Reserved", TLFS comment/MSVM/OVMM "use x2APIC
 * MSRs"; the latter reading is used. */
#define HV_X64_X2APIC_MSRS_RECOMMENDED HV_BIT32(8)
#define HV_DEPRECATING_AEOI_RECOMMENDED HV_BIT32(9)
#define HV_X64_CLUSTER_IPI_RECOMMENDED HV_BIT32(10)
#define HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED HV_BIT32(11)
#define HV_X64_NESTED_HYPERVISOR HV_BIT32(12)
#define HV_X64_INT_FOR_MBEC_SYSCALLS HV_BIT32(13)
#define HV_X64_ENLIGHTENED_VMCS_RECOMMENDED HV_BIT32(14)
#define HV_X64_USE_SYNCED_TIMELINE HV_BIT32(15)
#define HV_X64_USE_DIRECT_LOCAL_FLUSH_ENTIRE HV_BIT32(17)
#define HV_X64_NO_NONARCH_CORESHARING HV_BIT32(18)
/* CPUID 0x40000004 EBX: spin-lock retry count.  [DISPUTED #12] TLFS pages
 * disagree on 0 vs 0xFFFFFFFF as "never notify"; 0xFFFFFFFF is advertised
 * (KVM treats both as never). */
#define HV_SPINLOCK_RETRIES_NEVER 0xFFFFFFFFU
/* CPUID 0x40000004 ECX[6:0]: implemented physical address bits. */
#define HV_CPUID_PHYS_ADDR_BITS_MASK 0x7FU

/* CPUID 0x40000006 EAX: hardware features in use (digest 1.7).  Bit 24 is
 * [DISPUTED #10] and always reported 0. */
#define HV_X64_APIC_OVERLAY_ASSIST_IN_USE HV_BIT32(0)
#define HV_X64_MSR_BITMAPS_IN_USE HV_BIT32(1)
#define HV_X64_ARCH_PERF_COUNTERS_IN_USE HV_BIT32(2)
#define HV_X64_SLAT_IN_USE HV_BIT32(3)
#define HV_X64_DMA_REMAPPING_IN_USE HV_BIT32(4)
#define HV_X64_INTERRUPT_REMAPPING_IN_USE HV_BIT32(5)
#define HV_X64_DMA_PROTECTION_IN_USE HV_BIT32(7)
#define HV_X64_UNRESTRICTED_GUEST_IN_USE HV_BIT32(17)

/* ---- TLB flush hypercalls (TLFS HvCallFlushVirtualAddress*; digest 8) ---- */
/* HV_FLUSH_FLAGS (digest 8.1). */
#define HV_FLUSH_ALL_PROCESSORS HV_BIT(0)
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES HV_BIT(1)
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY HV_BIT(2)
#define HV_FLUSH_USE_EXTENDED_RANGE_FORMAT HV_BIT(3) /* LNX, OVMM; not in TLFS */
#define HV_FLUSH_USE_TARGET_VTL HV_BIT(4)	    /* [1-src: OVMM] */
#define HV_FLUSH_TARGET_VTL0 HV_BIT(8)		    /* [1-src: OVMM] */
#define HV_FLUSH_TARGET_VTL1 HV_BIT(9)		    /* [1-src: OVMM] */

/* HV_GVA_RANGE (digest 8.4).  Simple: 63:12 page number, 11:0 additional
 * pages.  Extended (HV_FLUSH_USE_EXTENDED_RANGE_FORMAT): 10:0 additional
 * pages, 11 LargePage; large pages: 12 PageSize (0 2 MiB, 1 1 GiB), 20:13
 * reserved, 63:21 large-page number (address >> 21). */
#define HV_GVA_RANGE_SIMPLE_PAGES_MASK 0xFFFULL
#define HV_GVA_RANGE_EXT_PAGES_MASK 0x7FFULL
#define HV_GVA_RANGE_EXT_LARGE_PAGE HV_BIT(11)
#define HV_GVA_RANGE_EXT_PAGE_SIZE_1G HV_BIT(12)
#define HV_GVA_RANGE_EXT_LARGE_RSVD_MASK 0x00000000001FE000ULL
#define HV_GVA_RANGE_EXT_LARGE_ADDR_SHIFT 21

/* HV_VP_SET (digest 4.2, 8.3). */
#define HV_GENERIC_SET_SPARSE_4K 0ULL
#define HV_GENERIC_SET_ALL 1ULL
#define HV_VCPUS_PER_SPARSE_BANK 64
#define HV_MAX_SPARSE_VCPU_BANKS 64
#define HV_MAX_VP_INDEX (HV_VCPUS_PER_SPARSE_BANK * HV_MAX_SPARSE_VCPU_BANKS - 1)

/* HvCallSendSyntheticClusterIpi(Ex) vector range (digest 4.5). */
#define HV_IPI_LOW_VECTOR 0x10
#define HV_IPI_HIGH_VECTOR 0xFF

/* ---- SynIC messages (TLFS HV_MESSAGE, HV_MESSAGE_TYPE; digest 7.2, 5.12) - */
#define HV_MESSAGE_SIZE 256
#define HV_MESSAGE_MAX_PAYLOAD_BYTE_COUNT 240
#define HV_MESSAGE_MAX_PAYLOAD_QWORD_COUNT 30
#define HV_MESSAGE_FLAG_PENDING 0x01 /* MessageFlags bit 0 MessagePending */
/* Types with bit 31 set are hypervisor messages; guests cannot post them. */
#define HV_MESSAGE_TYPE_HYPERVISOR_MASK 0x80000000U

/* HV_MESSAGE_TYPE values.  Macros rather than an enum: most exceed INT_MAX,
 * which C11 does not allow for enumeration constants. */
#define HvMessageTypeNone 0x00000000U
#define HvMessageTypeUnmappedGpa 0x80000000U
#define HvMessageTypeGpaIntercept 0x80000001U
#define HvMessageTypeUnacceptedGpa 0x80000003U
#define HvMessageTypeGpaAttributeIntercept 0x80000004U
#define HvMessageTypeTimerExpired 0x80000010U
#define HvMessageTypeInvalidVpRegisterValue 0x80000020U
#define HvMessageTypeUnrecoverableException 0x80000021U
#define HvMessageTypeUnsupportedFeature 0x80000022U
#define HvMessageTypeOpaqueIntercept 0x8000003FU
#define HvMessageTypeEventLogBufferComplete 0x80000040U
#define HvMessageTypeHypercallIntercept 0x80000050U
#define HvMessageTypeSynicEventIntercept 0x80000060U
#define HvMessageTypeSynicSintIntercept 0x80000061U
#define HvMessageTypeSynicSintDeliverable 0x80000062U
#define HvMessageTypeAsyncCallCompletion 0x80000070U
#define HvMessageTypeX64IoPortIntercept 0x80010000U
#define HvMessageTypeMsrIntercept 0x80010001U
#define HvMessageTypeX64CpuidIntercept 0x80010002U
#define HvMessageTypeExceptionIntercept 0x80010003U
#define HvMessageTypeX64ApicEoi 0x80010004U
/* [DISPUTED #8] LNX/QEMU name 0x80010006 differently; TLFS/OVMM/MSVM
 * RegisterIntercept is used. */
#define HvMessageTypeRegisterIntercept 0x80010006U
#define HvMessageTypeX64Halt 0x80010007U
#define HvMessageTypeX64InterruptionDeliverable 0x80010008U
#define HvMessageTypeX64SipiIntercept 0x80010009U

/* HV_MESSAGE_HEADER (digest 7.2). */
struct hv_message_header {
	u32 message_type;   /* HV_MESSAGE_TYPE; 0 = slot empty */
	u8 payload_size;    /* bytes, <= 240 */
	u8 message_flags;   /* bit 0 MessagePending */
	u16 reserved;
	u64 origination_id; /* sender partition / port id; 0 for timers */
};

/* HV_MESSAGE: 16-byte header + 240-byte payload. */
struct hv_message {
	struct hv_message_header header;
	u64 payload[HV_MESSAGE_MAX_PAYLOAD_QWORD_COUNT];
};

/* SIM page: one message slot per SINT, slot x at offset x * 256. */
struct hv_message_page {
	struct hv_message sint_message[HV_SYNIC_SINT_COUNT];
};

/* HV_SYNIC_EVENT_FLAGS: 2048 flags, flag n = byte n/8, bit n%8 (digest 7.5). */
struct hv_synic_event_flags {
	u8 flags[HV_EVENT_FLAGS_BYTE_COUNT];
};

/* SIEF page: one event-flags array per SINT, at offset x * 256. */
struct hv_synic_event_flags_page {
	struct hv_synic_event_flags sint_event_flags[HV_SYNIC_SINT_COUNT];
};

/* HV_TIMER_MESSAGE_PAYLOAD (digest 7.7), PayloadSize 24. */
struct hv_timer_message_payload {
	u32 timer_index;
	u32 reserved;
	u64 expiration_time; /* reference time the timer was due (100 ns) */
	u64 delivery_time;   /* reference time it was placed in the slot */
};

/* ---- Reference TSC page (TLFS timers, "Reference TSC Page"; digest 2.7) --
 * OVMM names offsets 24/32 (timeline bias, TSC multiplier) [1-src]; they stay
 * inside reserved2 and are left 0. */
struct hv_reference_tsc_page {
	u32 tsc_sequence; /* 0 = invalid, use TIME_REF_COUNT */
	u32 reserved1;
	u64 tsc_scale;
	s64 tsc_offset;
	u64 reserved2[509];
};

/* ---- VP assist page (TLFS HV_VP_ASSIST_PAGE, HV_VP_VTL_CONTROL; digest 2.10) */
#define HV_VP_ASSIST_APIC_ASSIST_NO_EOI_REQUIRED 0x1U /* ApicAssist bit 0 */

/* HV_VTL_ENTRY_REASON (digest 2.10). */
#define HV_VTL_ENTRY_REASON_RESERVED 0
#define HV_VTL_ENTRY_REASON_VTL_CALL 1
#define HV_VTL_ENTRY_REASON_INTERRUPT 2
#define HV_VTL_ENTRY_REASON_INTERCEPT 3

struct hv_vp_vtl_control {
	u32 entry_reason;  /* HV_VTL_ENTRY_REASON */
	u8 vina_status;	   /* bit 0 VinaAsserted */
	u8 reserved0[3];
	u64 vtl_return_x64_rax;
	u64 vtl_return_x64_rcx;
};

struct hv_vp_assist_page {
	u32 apic_assist;			/* 0: bit 0 "no EOI required" */
	u32 reserved0;				/* 4 */
	struct hv_vp_vtl_control vtl_control;	/* 8 */
	u64 nested_enlightenments_control;	/* 32 */
	u8 enlighten_vm_entry;			/* 40 */
	u8 reserved1[7];
	u64 current_nested_vmcs;		/* 48 */
	u8 synthetic_time_unhalted_timer_expired; /* 56 */
	u8 reserved2[7];
	u8 virtualization_fault_information[40]; /* 64 */
	u8 reserved3[8];			/* 104 */
	struct hv_message intercept_message;	/* 112 */
	u8 vtl_return_actions[256];		/* 368 */
	u8 reserved4[HV_PAGE_SIZE - 624];	/* to the end of the page */
};

/* ---- Hypercall parameter blocks (digest 4.3, 4.5, 4.14, 4.15) ----------- */

/* HvCallFlushVirtualAddressSpace / List fixed header (24 bytes). */
struct hv_flush_virtual_address_space {
	u64 address_space;
	u64 flags;
	u64 processor_mask;
};

/* HV_VP_SET fixed part; BankContents[] (the variable header) follows. */
struct hv_vp_set_header {
	u64 format;
	u64 valid_banks_mask;
};

/* HvCallFlushVirtualAddressSpaceEx / ListEx fixed header (32 bytes). */
struct hv_flush_virtual_address_space_ex {
	u64 address_space;
	u64 flags;
	struct hv_vp_set_header vp_set;
};

/* HvCallSendSyntheticClusterIpi (16 bytes).  [DISPUTED #7] the TLFS table
 * gives ProcessorMask size 1; it is a u64 (LNX, OVMM, KVM). */
struct hv_send_synthetic_cluster_ipi {
	u32 vector;
	u8 target_vtl; /* HV_INPUT_VTL */
	u8 reserved0;
	u16 reserved1;
	u64 processor_mask;
};

/* HvCallSendSyntheticClusterIpiEx fixed header (24 bytes). */
struct hv_send_synthetic_cluster_ipi_ex {
	u32 vector;
	u8 target_vtl;
	u8 reserved0;
	u16 reserved1;
	struct hv_vp_set_header vp_set;
};

/* HvCallPostMessage input (256 bytes). */
struct hv_post_message_input {
	u32 connection_id;
	u32 reserved;
	u32 message_type;
	u32 payload_size;
	u64 payload[HV_MESSAGE_MAX_PAYLOAD_QWORD_COUNT];
};

/* HvCallSignalEvent input (8 bytes). */
struct hv_signal_event_input {
	u32 connection_id;
	u16 flag_number;
	u16 rsvdz;
};

/* HvCallGetVpIndexFromApicId header (16 bytes). */
struct hv_get_vp_index_from_apic_id_header {
	u64 partition_id;
	u8 target_vtl;
	u8 reserved[7];
};

/* ---- Layout checks --------------------------------------------------- */
STATIC_ASSERT(sizeof(struct hv_message_header) == 16, "HV_MESSAGE_HEADER is 16 bytes");
STATIC_ASSERT(offsetof(struct hv_message_header, payload_size) == 4, "PayloadSize @4");
STATIC_ASSERT(offsetof(struct hv_message_header, message_flags) == 5, "MessageFlags @5");
STATIC_ASSERT(offsetof(struct hv_message_header, origination_id) == 8, "OriginationId @8");
STATIC_ASSERT(sizeof(struct hv_message) == HV_MESSAGE_SIZE, "HV_MESSAGE is 256 bytes");
STATIC_ASSERT(offsetof(struct hv_message, payload) == 16, "payload @16");
STATIC_ASSERT(sizeof(struct hv_message_page) == HV_PAGE_SIZE, "SIM page");
STATIC_ASSERT(sizeof(struct hv_synic_event_flags) == 256, "HV_SYNIC_EVENT_FLAGS");
STATIC_ASSERT(sizeof(struct hv_synic_event_flags_page) == HV_PAGE_SIZE, "SIEF page");
STATIC_ASSERT(sizeof(struct hv_timer_message_payload) == 24, "timer payload is 24 bytes");
STATIC_ASSERT(offsetof(struct hv_timer_message_payload, expiration_time) == 8, "ExpirationTime @8");
STATIC_ASSERT(offsetof(struct hv_timer_message_payload, delivery_time) == 16, "DeliveryTime @16");
STATIC_ASSERT(sizeof(struct hv_reference_tsc_page) == HV_PAGE_SIZE, "TSC page");
STATIC_ASSERT(offsetof(struct hv_reference_tsc_page, tsc_scale) == 8, "TscScale @8");
STATIC_ASSERT(offsetof(struct hv_reference_tsc_page, tsc_offset) == 16, "TscOffset @16");
STATIC_ASSERT(sizeof(struct hv_vp_vtl_control) == 24, "HV_VP_VTL_CONTROL is 24 bytes");
STATIC_ASSERT(offsetof(struct hv_vp_vtl_control, vina_status) == 4, "VinaStatus @4");
STATIC_ASSERT(offsetof(struct hv_vp_vtl_control, vtl_return_x64_rax) == 8, "VtlReturnX64Rax @8");
STATIC_ASSERT(offsetof(struct hv_vp_vtl_control, vtl_return_x64_rcx) == 16, "VtlReturnX64Rcx @16");
STATIC_ASSERT(sizeof(struct hv_vp_assist_page) == HV_PAGE_SIZE, "VP assist page");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, vtl_control) == 8, "VtlControl @8");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, nested_enlightenments_control) == 32, "@32");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, enlighten_vm_entry) == 40, "@40");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, current_nested_vmcs) == 48, "@48");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, synthetic_time_unhalted_timer_expired) == 56,
	      "@56");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, virtualization_fault_information) == 64, "@64");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, intercept_message) == 112, "@112");
STATIC_ASSERT(offsetof(struct hv_vp_assist_page, vtl_return_actions) == 368, "@368");
STATIC_ASSERT(sizeof(struct hv_flush_virtual_address_space) == 24, "flush header 24 bytes");
STATIC_ASSERT(sizeof(struct hv_flush_virtual_address_space_ex) == 32, "flush-Ex header 32 bytes");
STATIC_ASSERT(offsetof(struct hv_flush_virtual_address_space_ex, vp_set) == 16, "VP set @16");
STATIC_ASSERT(sizeof(struct hv_send_synthetic_cluster_ipi) == 16, "IPI input 16 bytes");
STATIC_ASSERT(offsetof(struct hv_send_synthetic_cluster_ipi, target_vtl) == 4, "TargetVtl @4");
STATIC_ASSERT(offsetof(struct hv_send_synthetic_cluster_ipi, processor_mask) == 8, "mask @8");
STATIC_ASSERT(sizeof(struct hv_send_synthetic_cluster_ipi_ex) == 24, "IPI-Ex header 24 bytes");
STATIC_ASSERT(offsetof(struct hv_send_synthetic_cluster_ipi_ex, vp_set) == 8, "VP set @8");
STATIC_ASSERT(sizeof(struct hv_post_message_input) == 256, "PostMessage input 256 bytes");
STATIC_ASSERT(offsetof(struct hv_post_message_input, payload) == 16, "Payload @16");
STATIC_ASSERT(sizeof(struct hv_signal_event_input) == 8, "SignalEvent input 8 bytes");
STATIC_ASSERT(offsetof(struct hv_signal_event_input, flag_number) == 4, "FlagNumber @4");
STATIC_ASSERT(sizeof(struct hv_get_vp_index_from_apic_id_header) == 16, "16-byte header");

#endif
