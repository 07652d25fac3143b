/* The implemented hypercalls, listed once.  hv_hypercall_input.c expands the
 * list into the decode table (sizes, shape, gates) and ignores the handlers,
 * so that it stays pure logic for the unit tests; hv_hypercalls.c expands it
 * into the handler table.  Both tables are indexed by hv_hc_slot(code).
 *
 * HV_HYPERCALLS(X) calls X(code, handler, fields...) per call, where fields
 * are designated initializers of struct hv_hc_info (hv_hypercall_input.h).
 * A code listed twice fills one slot twice, which -Woverride-init (in
 * -Wextra) turns into a build error.
 *
 * Sizes from the TLFS hypercall pages (digest 4.3-4.5, 4.14, 4.15, 4.19,
 * 4.23).  Gates follow KVM's hv_check_hypercall_access: the flush calls need
 * the remote-flush hint, the IPI calls the cluster-IPI hint, the Ex forms also
 * the Ex-masks hint.  NotifyLongSpinWait is advisory and GetVpIndexFromApicId
 * is not gated by the TLFS (KVM-VSM ties the latter to StartVirtualProcessor,
 * which is a VSM privilege not offered yet). */
#ifndef HV_HYPERV_HV_HYPERCALL_LIST_H
#define HV_HYPERV_HV_HYPERCALL_LIST_H

#include "hyperv/hv_defs.h"
#include "kernel/types.h"

#define HV_HYPERCALLS(X)                                                                   \
	X(HvCallFlushVirtualAddressSpace, hc_flush,                                        \
	  .kind = HV_HC_SIMPLE, .in_size = 24,                                             \
	  .recommendations = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED)                          \
	X(HvCallFlushVirtualAddressList, hc_flush,                                         \
	  .kind = HV_HC_REP, .in_size = 24, .in_elem = 8,                                  \
	  .recommendations = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED)                          \
	X(HvCallNotifyLongSpinWait, hc_notify_long_spin_wait,                              \
	  .kind = HV_HC_SIMPLE, .in_size = 8)                                              \
	X(HvCallSendSyntheticClusterIpi, hc_send_ipi,                                      \
	  .kind = HV_HC_SIMPLE, .in_size = 16,                                             \
	  .recommendations = HV_X64_CLUSTER_IPI_RECOMMENDED)                               \
	X(HvCallFlushVirtualAddressSpaceEx, hc_flush,                                      \
	  .kind = HV_HC_SIMPLE, .variable = true, .in_size = 32,                           \
	  .recommendations = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED |                         \
			     HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED)                        \
	X(HvCallFlushVirtualAddressListEx, hc_flush,                                       \
	  .kind = HV_HC_REP, .variable = true, .in_size = 32, .in_elem = 8,                \
	  .recommendations = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED |                         \
			     HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED)                        \
	X(HvCallSendSyntheticClusterIpiEx, hc_send_ipi,                                    \
	  .kind = HV_HC_SIMPLE, .variable = true, .in_size = 24,                           \
	  .recommendations = HV_X64_CLUSTER_IPI_RECOMMENDED |                              \
			     HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED)                        \
	X(HvCallPostMessage, hc_post_message,                                              \
	  .kind = HV_HC_SIMPLE, .in_size = 256, .privileges = HV_POST_MESSAGES)            \
	X(HvCallSignalEvent, hc_signal_event,                                              \
	  .kind = HV_HC_SIMPLE, .in_size = 8, .privileges = HV_SIGNAL_EVENTS)              \
	X(HvCallGetVpIndexFromApicId, hc_get_vp_index_from_apic_id,                        \
	  .kind = HV_HC_REP, .in_size = 16, .in_elem = 4, .out_elem = 4)                   \
	X(HvExtCallQueryCapabilities, hc_ext_query_capabilities,                           \
	  .kind = HV_HC_SIMPLE, .out_size = 8, .privileges = HV_ENABLE_EXTENDED_HYPERCALLS)

/* ---- Slots: a dense index over the listed code ranges ---------------------- */

/* The codes fall in two ranges far apart (base calls from 0, extended calls
 * from HV_EXT_CALL_FIRST, digest 3.10), so a table indexed by the raw code
 * would span 32K entries.  Slots cover 0..highest base code, then
 * HV_EXT_CALL_FIRST..highest extended code.  The spans are the sizes of
 * unions with one char array per listed code, so adding a call to the list
 * is all it takes to grow them. */
#define HV_HC_BASE_SPAN_(code, ...) char base_##code[(code) < HV_EXT_CALL_FIRST ? (code) + 1 : 1];
#define HV_HC_EXT_SPAN_(code, ...)                                                         \
	char ext_##code[(code) >= HV_EXT_CALL_FIRST ? (code) - HV_EXT_CALL_FIRST + 1 : 1];
union hv_hc_base_span_ { HV_HYPERCALLS(HV_HC_BASE_SPAN_) };
union hv_hc_ext_span_ { HV_HYPERCALLS(HV_HC_EXT_SPAN_) };

#define HV_HC_BASE_SLOTS ((u32)sizeof(union hv_hc_base_span_))
#define HV_HC_EXT_SLOTS ((u32)sizeof(union hv_hc_ext_span_))
#define HV_HC_SLOTS (HV_HC_BASE_SLOTS + HV_HC_EXT_SLOTS)

/* The slot of a listed code, as a constant expression (for designated
 * initializers). */
#define HV_HC_SLOT(code)                                                                   \
	((code) < HV_EXT_CALL_FIRST ? (u32)(code)                                          \
				    : HV_HC_BASE_SLOTS + (u32)((code) - HV_EXT_CALL_FIRST))

/* The slot of any code, or HV_HC_SLOTS when it lies outside both spans.  A
 * code inside a span that is not listed gets a slot whose entries are empty
 * (zero). */
static inline u32 hv_hc_slot(u16 code)
{
	if (code < HV_HC_BASE_SLOTS)
		return code;
	u32 ext = (u32)code - HV_EXT_CALL_FIRST; /* wraps for codes below the range */
	return ext < HV_HC_EXT_SLOTS ? HV_HC_BASE_SLOTS + ext : HV_HC_SLOTS;
}

#endif
