/* Pause, resume and remote work for VPs (see kernel/vm/vp_ctl.h). */
#include "kernel/vm/vp_ctl.h"
#include "kernel/vm/vm_create.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "kernel/percpu.h"
#include "kernel/shell/console_mux.h"

static void kick_interrupt(struct trap_frame *frame)
{
	(void)frame;
	/* Nothing to do here: the interrupt only makes the CPU leave the guest
	 * or its HLT, and the loop it returns to looks at the requests. */
	lapic_eoi();
}

void vp_ctl_init(void)
{
	trap_set_irq_handler(VEC_VP_KICK, kick_interrupt);
}

void vp_kick(struct vp *vp)
{
	if (vp->cpu == this_cpu_id() || !percpu_table[vp->cpu])
		return;
	lapic_send_fixed(percpu_table[vp->cpu]->apic_id, VEC_VP_KICK);
}

static void run_work(struct vp *vp)
{
	__atomic_fetch_and(&vp->requests, ~VP_REQ_WORK, __ATOMIC_ACQ_REL);
	if (!__atomic_load_n(&vp->work.pending, __ATOMIC_ACQUIRE))
		return;
	vp->work.fn(vp, vp->work.arg);
	__atomic_store_n(&vp->work.pending, 0, __ATOMIC_RELEASE);
}

int vp_call(struct vp *vp, void (*fn)(struct vp *vp, void *arg), void *arg, u64 timeout_us)
{
	if (vp->cpu == this_cpu_id()) {
		fn(vp, arg);
		return VP_CALL_OK;
	}
	if (__atomic_load_n(&vp->work.pending, __ATOMIC_ACQUIRE))
		return VP_CALL_BUSY;
	vp->work.fn = fn;
	vp->work.arg = arg;
	__atomic_store_n(&vp->work.pending, 1, __ATOMIC_RELEASE);
	__atomic_fetch_or(&vp->requests, VP_REQ_WORK, __ATOMIC_ACQ_REL);
	vp_kick(vp);
	u64 deadline = tsc_deadline_us(timeout_us);
	while (__atomic_load_n(&vp->work.pending, __ATOMIC_ACQUIRE)) {
		if (tsc_passed(deadline))
			return VP_CALL_TIMEOUT;
		cpu_relax();
	}
	return VP_CALL_OK;
}

bool vp_pause_requested(const struct vp *vp)
{
	return __atomic_load_n(&vp->requests, __ATOMIC_ACQUIRE) & VP_REQ_PAUSE;
}

bool vp_quiescent(const struct vp *vp)
{
	return vp->cpu == this_cpu_id() || !__atomic_load_n(&vp->in_loop, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&vp->paused, __ATOMIC_ACQUIRE);
}

bool vp_pause(struct vp *vp, u64 timeout_us)
{
	__atomic_fetch_or(&vp->requests, VP_REQ_PAUSE, __ATOMIC_ACQ_REL);
	vp_kick(vp);
	u64 deadline = tsc_deadline_us(timeout_us);
	while (!vp_quiescent(vp)) {
		if (tsc_passed(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

void vp_resume(struct vp *vp)
{
	__atomic_fetch_and(&vp->requests, ~VP_REQ_PAUSE, __ATOMIC_ACQ_REL);
	vp_kick(vp); /* out of its HLT */
}

void vp_ctl_service(struct vp *vp)
{
	for (;;) {
		u32 req = __atomic_load_n(&vp->requests, __ATOMIC_ACQUIRE);
		if (req & VP_REQ_WORK)
			run_work(vp);
		if (req & VP_REQ_SHELL) {
			__atomic_fetch_and(&vp->requests, ~VP_REQ_SHELL, __ATOMIC_ACQ_REL);
			console_mux_service();
		}
		if (!(__atomic_load_n(&vp->requests, __ATOMIC_ACQUIRE) & VP_REQ_PAUSE))
			break;
		__atomic_store_n(&vp->paused, true, __ATOMIC_RELEASE);
		/* Woken by a kick, the console timer or a cross-call. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	__atomic_store_n(&vp->paused, false, __ATOMIC_RELEASE);
}

void vp_ctl_idle(void)
{
	struct vp *vp = this_cpu()->vp;

	if (vp && (__atomic_load_n(&vp->requests, __ATOMIC_ACQUIRE) & VP_REQ_WORK))
		run_work(vp);
	console_mux_service();
	vm_enter_if_started();
}
