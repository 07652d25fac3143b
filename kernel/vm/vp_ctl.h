/* Controlling a VP from another CPU: pause, resume, and running a function on
 * the VP's own CPU between two exits.
 *
 * A request is a bit in vp->requests.  The VP loop tests the word once per
 * exit and honours the bits before the next entry; a kick (IPI VEC_VP_KICK)
 * makes a VP in guest mode exit at once (an external-interrupt exit) and wakes
 * a CPU that halts.  A VP whose CPU is not in the VP loop (an AP that has not
 * been started yet, a stopped partition) serves work from its idle loop and
 * counts as paused: it runs no guest code.
 *
 * Work runs on the VP's CPU because VMX can only read a VMCS where it is
 * current, and because a function that runs between two exits sees the VP's
 * state consistent: the VP does not move while fn runs.  Every wait is bounded;
 * a call that timed out stays owned by the VP until it finishes, so callers
 * pass static buffers (the shell does), and the next call reports the VP busy
 * instead of reusing the slot. */
#ifndef HV_KERNEL_VM_VP_CTL_H
#define HV_KERNEL_VM_VP_CTL_H

#include "kernel/vm/vm.h"

#define VP_REQ_PAUSE (1u << 0) /* stay out of the guest until cleared */
#define VP_REQ_WORK (1u << 1)  /* run vp->work */
#define VP_REQ_SHELL (1u << 2) /* this CPU hosts the shell: console input waits */

enum vp_call_result {
	VP_CALL_OK = 0,
	VP_CALL_TIMEOUT = -1, /* fn may still run later */
	VP_CALL_BUSY = -2,    /* an earlier call to this VP has not finished */
};

/* Registers the kick vector; once, before any request. */
void vp_ctl_init(void);
void vp_kick(struct vp *vp);

/* Runs fn(vp, arg) on vp's CPU between two exits (directly when called on
 * that CPU) and waits up to timeout_us. */
int vp_call(struct vp *vp, void (*fn)(struct vp *vp, void *arg), void *arg, u64 timeout_us);

/* Asks the VP to stay out of the guest, and waits up to timeout_us until it
 * does.  Returns true once it runs no guest code; false leaves the request in
 * place (vp_resume withdraws it). */
bool vp_pause(struct vp *vp, u64 timeout_us);
void vp_resume(struct vp *vp);
/* The VP runs no guest code right now and will not until resumed: paused, not
 * in a VP loop, or on this very CPU (we are between two of its exits). */
bool vp_quiescent(const struct vp *vp);
bool vp_pause_requested(const struct vp *vp);

/* The VP loop's side: called when vp->requests is non-zero.  Runs work,
 * passes console input to the shell, and waits while paused. */
void vp_ctl_service(struct vp *vp);
/* The idle side (smp_idle_hook, a stopped partition, a halted boot CPU):
 * runs this CPU's VP work and the shell if this CPU hosts it. */
void vp_ctl_idle(void);

#endif
