/* The guest's XMM registers, for Hv#1 XMM fast hypercall input (TLFS
 * "Hypercall Interface", digest 3.5).
 *
 * Neither backend switches XMM state: VMRUN/#VMEXIT and VM entry/exit leave
 * XMM0-15 alone, and the hypervisor is built without SSE (-mno-sse,
 * -mgeneral-regs-only), so while a VP's own CPU handles one of its exits the
 * registers still hold the guest's values.  This reads them there. */
#ifndef HV_KERNEL_VM_VP_XMM_H
#define HV_KERNEL_VM_VP_XMM_H

#include "kernel/vm/vm.h"

/* XMM0-XMM5: the registers the fast convention uses. */
#define VP_XMM_FAST_REGS 6

/* out[2i] = XMMi bits 63:0, out[2i+1] = bits 127:64.  Only on vp's own CPU,
 * between two of its exits. */
void vp_read_xmm(struct vp *vp, u64 out[2 * VP_XMM_FAST_REGS]);

#endif
