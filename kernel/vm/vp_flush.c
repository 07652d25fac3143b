/* See kernel/vm/vp_flush.h for the protocol. */
#include "kernel/vm/vp_flush.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/vp_ctl.h"

/* Takes the PV requests left so far.  On the VP's own CPU only. */
static void serve_requests(struct vp *vp)
{
	u32 requested = __atomic_load_n(&vp->tlb_flush_requested, __ATOMIC_SEQ_CST);

	if (requested != vp->tlb_flush_served) {
		vm_backend->flush_tlb(vp, TLB_FLUSH_GUEST);
		/* The flush is queued for the entry that follows: no guest
		 * instruction runs before it. */
		__atomic_store_n(&vp->tlb_flush_served, requested, __ATOMIC_RELEASE);
	}
}

void vp_flush_before_entry(struct vp *vp)
{
	/* Store, then load the requests (see the header): the seq_cst store is
	 * an XCHG, a full fence on x86. */
	__atomic_store_n(&vp->in_guest, true, __ATOMIC_SEQ_CST);
	serve_requests(vp);
	/* The core's own flag (overlay pages moved): any CPU may set it. */
	if (__atomic_exchange_n(&vp->flush_pending, false, __ATOMIC_ACQ_REL))
		vm_backend->flush_tlb(vp, TLB_FLUSH_GUEST_SLAT);
}

void vp_flush_after_exit(struct vp *vp)
{
	__atomic_store_n(&vp->in_guest, false, __ATOMIC_RELEASE);
}

static bool target_done(struct vp *t, u32 gen)
{
	return !__atomic_load_n(&t->in_guest, __ATOMIC_SEQ_CST) ||
	       vp_flush_gen_reached(__atomic_load_n(&t->tlb_flush_served, __ATOMIC_ACQUIRE), gen);
}

bool vp_flush_vps(struct vp *self, const struct vp_mask *targets, u64 timeout_us)
{
	u32 gen[HV_MAX_CPUS];
	struct vp_mask waiting = {0};
	bool any = false;

	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *t = the_vm.vps[i];

		if (!vp_mask_test(targets, i))
			continue;
		if (t == self) {
			vm_backend->flush_tlb(self, TLB_FLUSH_GUEST);
			continue;
		}
		gen[i] = __atomic_add_fetch(&t->tlb_flush_requested, 1, __ATOMIC_SEQ_CST);
		/* Only a VP that may be running guest code needs the kick; the
		 * others check before they enter. */
		if (__atomic_load_n(&t->in_guest, __ATOMIC_SEQ_CST)) {
			vp_kick(t);
			vp_mask_set(&waiting, i);
			any = true;
		}
	}
	if (!any)
		return true;

	u64 deadline = tsc_deadline_us(timeout_us);
	for (;;) {
		bool pending = false;

		for (u32 i = 0; i < the_vm.vp_count; i++) {
			if (!vp_mask_test(&waiting, i))
				continue;
			if (target_done(the_vm.vps[i], gen[i]))
				waiting.bits[i / 64] &= ~(1ULL << (i % 64));
			else
				pending = true;
		}
		if (!pending)
			return true;
		/* Out of guest mode ourselves, nobody waits for us; serving our
		 * own requests anyway keeps that true for any future waiter
		 * that looks at tlb_flush_served only. */
		serve_requests(self);
		if (tsc_passed(deadline))
			return false;
		cpu_relax();
	}
}
