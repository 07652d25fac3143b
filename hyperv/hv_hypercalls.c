/* The hypercall exit: input decoding (hv_hypercall_input.c) and the calls.
 * TLFS sections cited as in the digest. */
#include "hyperv/hv_hypercalls.h"
#include "arch/x86/cpu.h"
#include "hyperv/hv_defs.h"
#include "hyperv/hv_hypercall_input.h"
#include "hyperv/hv_partition.h"

enum exit_action hv_hypercall_exit(struct vp *vp, struct vm_exit *exit)
{
	struct segment cs, ss;
	u16 status = HV_STATUS_SUCCESS;
	struct hv_hc_plan plan;

	/* Without the interface, or before the guest has enabled its hypercall
	 * page, VMCALL/VMMCALL are what they are on bare metal: #UD (as KVM). */
	if (!hv_hypercall_page_enabled()) {
		vp_inject_ud(vp);
		return EXIT_RESUME;
	}
	vp_get_seg(vp, VP_CS, &cs);
	vp_get_seg(vp, VP_SS, &ss);
	bool long_mode = (vp_get_reg(vp, VP_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	struct hv_hc_request req = {
		.cpl = (u8)SEG_ATTR_DPL(ss.attr),
		.protected_mode = vp_get_reg(vp, VP_CR0) & CR0_PE,
		.long_mode = long_mode,
		.gpa_limit = 1ULL << cpu_features.phys_addr_bits,
	};
	/* The 32-bit convention splits each value over two registers
	 * (TLFS 3.8). */
	if (long_mode) {
		req.control = vp->gpr[VP_RCX];
		req.in_gpa = vp->gpr[VP_RDX];
		req.out_gpa = vp->gpr[VP_R8];
	} else {
		req.control = ((u64)(u32)vp->gpr[VP_RDX] << 32) | (u32)vp->gpr[VP_RAX];
		req.in_gpa = ((u64)(u32)vp->gpr[VP_RBX] << 32) | (u32)vp->gpr[VP_RCX];
		req.out_gpa = ((u64)(u32)vp->gpr[VP_RDI] << 32) | (u32)vp->gpr[VP_RSI];
	}
	switch (hv_hc_check(&req, &hv_partition_features, &plan, &status)) {
	case HV_HC_INJECT_UD:
		vp_inject_ud(vp);
		return EXIT_RESUME;
	case HV_HC_COMPLETE:
		break;
	case HV_HC_PROCEED:
		/* The only call implemented without interrupts or guest SMP. */
		status = plan.in.code == HvCallNotifyLongSpinWait ? HV_STATUS_SUCCESS
								   : HV_STATUS_INVALID_HYPERCALL_CODE;
		break;
	}
	u64 result = hv_hc_result(status, 0);
	if (long_mode) {
		vp->gpr[VP_RAX] = result;
	} else {
		vp->gpr[VP_RDX] = result >> 32;
		vp->gpr[VP_RAX] = (u32)result;
	}
	return exit_skip_instruction(vp, exit);
}
