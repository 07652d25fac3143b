/* The synthetic interrupt controller and synthetic timers (TLFS chapters 11
 * and 12, digest sections 4 and 5). */
#ifndef HV_HYPERV_HV_SYNIC_H
#define HV_HYPERV_HV_SYNIC_H

#include "hyperv/hv_cpuid.h"
#include "kernel/vm/vm.h"

/* The features hv_synic.c implements (see HV_IMPLEMENTED in hv_partition.c). */
#define HV_IMPLEMENTED_SYNIC 0ULL

/* Called by the VP loop on the VP's own CPU (kernel/vm/vp_apic.c): expire
 * the VP's synthetic timers due by now, and the next TSC deadline it has
 * (0: none). */
void hv_vp_poll(struct vp *vp, u64 now);
u64 hv_vp_next_deadline(struct vp *vp);

#endif
