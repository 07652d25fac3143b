/* VP register access and event injection, through the backend. */
#include "kernel/vm/backend.h"
#include "kernel/vm/gpr_asm.h"

STATIC_ASSERT(GPR_RCX == VP_RCX * 8 && GPR_RSP == VP_RSP * 8 && GPR_RBP == VP_RBP * 8 &&
		      GPR_RDI == VP_RDI * 8 && GPR_R8 == VP_R8 * 8 && GPR_R15 == VP_R15 * 8,
	      "kernel/vm/gpr_asm.h offsets must follow enum vp_reg");

u64 vp_get_reg(struct vp *vp, enum vp_reg reg)
{
	if (reg < VP_GPR_COUNT)
		return vp->gpr[reg];
	return vm_backend->get_reg(vp, reg);
}

void vp_set_reg(struct vp *vp, enum vp_reg reg, u64 value)
{
	if (reg < VP_GPR_COUNT) {
		vp->gpr[reg] = value;
		return;
	}
	vm_backend->set_reg(vp, reg, value);
}

void vp_get_seg(struct vp *vp, enum vp_seg seg, struct segment *out)
{
	vm_backend->get_seg(vp, seg, out);
}

void vp_set_seg(struct vp *vp, enum vp_seg seg, const struct segment *in)
{
	vm_backend->set_seg(vp, seg, in);
}

void vp_inject(struct vp *vp, const struct vp_event *ev)
{
	/* For `regs` and the exit trace: what the hypervisor queued last. */
	vp->last_event = *ev;
	vp->events_injected++;
	vm_backend->inject(vp, ev);
}

void vp_inject_exception(struct vp *vp, u8 vector, bool has_error_code, u32 error_code)
{
	struct vp_event ev = {VP_EVENT_EXCEPTION, vector, has_error_code, error_code};
	vp_inject(vp, &ev);
}

void vp_advance_rip(struct vp *vp, u64 len)
{
	u64 rip = vp_get_reg(vp, VP_RIP) + len;
	struct segment cs;

	/* Outside 64-bit code RIP wraps at the operand-size boundary. */
	vp_get_seg(vp, VP_CS, &cs);
	if (!((vp_get_reg(vp, VP_EFER) & (1ULL << 10)) && (cs.attr & SEG_ATTR_L)))
		rip &= (cs.attr & SEG_ATTR_DB) ? 0xFFFFFFFFULL : 0xFFFFULL;
	vp_set_reg(vp, VP_RIP, rip);
}
