/* Hypercall dispatch (TLFS chapter 3, digest section 3). */
#ifndef HV_HYPERV_HV_HYPERCALLS_H
#define HV_HYPERV_HV_HYPERCALLS_H

#include "hyperv/hv_cpuid.h"

/* The features the calls in hv_hypercalls.c implement (see HV_IMPLEMENTED in
 * hv_partition.c): PV TLB flush (local and remote hints), PV IPIs, the Ex
 * forms with sparse VP sets, XMM fast input, the extended hypercalls
 * (QueryCapabilities), PostMessage and SignalEvent (through hv_ports.c). */
#define HV_IMPLEMENTED_HYPERCALLS                                                         \
	(HV_FEAT(HV_FEAT_TLBFLUSH) | HV_FEAT(HV_FEAT_IPI) | HV_FEAT(HV_FEAT_EX_MASKS) |      \
	 HV_FEAT(HV_FEAT_XMM_INPUT) | HV_FEAT(HV_FEAT_EXT_HYPERCALLS) |               \
	 HV_FEAT(HV_FEAT_POST_MESSAGES) | HV_FEAT(HV_FEAT_SIGNAL_EVENTS))

#endif
