/* Hypercall dispatch (TLFS chapter 3, digest section 3). */
#ifndef HV_HYPERV_HV_HYPERCALLS_H
#define HV_HYPERV_HV_HYPERCALLS_H

#include "hyperv/hv_cpuid.h"

/* The features the calls in hv_hypercalls.c implement (see HV_IMPLEMENTED in
 * hv_partition.c): none beyond the hypercall page itself yet. */
#define HV_IMPLEMENTED_HYPERCALLS 0ULL

#endif
