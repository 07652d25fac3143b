/* See kernel/vm/vp_flush.h for the protocol. */
#include "kernel/vm/vp_flush.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "kernel/lib/string.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/vp_ctl.h"

/* Flushes what gvas names on vp's own CPU: each page, or everything. */
static void flush_own(struct vp *vp, const struct vp_flush_gvas *gvas)
{
	if (!gvas || gvas->count == 0 || gvas->count > VP_FLUSH_GVAS_MAX) {
		vm_backend->flush_tlb(vp, TLB_FLUSH_GUEST);
		return;
	}
	for (u32 i = 0; i < gvas->count; i++)
		vm_backend->flush_gva(vp, gvas->gva[i]);
}

/* Takes the PV requests left so far.  On the VP's own CPU only.  The
 * generation is read before the addresses are taken: every request up to it
 * added its addresses first, so they are among those taken now (or were
 * flushed by an earlier call).  Addresses of later requests taken too are
 * flushed early, which is harmless. */
static void serve_requests(struct vp *vp)
{
	u32 requested = __atomic_load_n(&vp->tlb_flush_requested, __ATOMIC_SEQ_CST);
	struct vp_flush_gvas taken;
	bool all;

	if (requested == vp->tlb_flush_served)
		return;
	spin_lock(&vp->flush_gva_lock);
	all = vp->flush_gva_all;
	taken.count = vp->flush_gva_count;
	memcpy(taken.gva, vp->flush_gvas, taken.count * sizeof(taken.gva[0]));
	vp->flush_gva_all = false;
	vp->flush_gva_count = 0;
	spin_unlock(&vp->flush_gva_lock);
	if (all)
		vm_backend->flush_tlb(vp, TLB_FLUSH_GUEST);
	else
		for (u32 i = 0; i < taken.count; i++)
			vm_backend->flush_gva(vp, taken.gva[i]);
	/* A whole flush is queued for the entry that follows, the per-page
	 * ones are done: no guest instruction runs before either. */
	__atomic_store_n(&vp->tlb_flush_served, requested, __ATOMIC_RELEASE);
}

/* Leaves gvas (NULL: everything) for target t to flush. */
static void add_request(struct vp *t, const struct vp_flush_gvas *gvas)
{
	spin_lock(&t->flush_gva_lock);
	if (!gvas || gvas->count == 0 || t->flush_gva_count + gvas->count > VP_FLUSH_GVAS_MAX) {
		t->flush_gva_all = true;
	} else {
		memcpy(&t->flush_gvas[t->flush_gva_count], gvas->gva,
		       gvas->count * sizeof(gvas->gva[0]));
		t->flush_gva_count = (u8)(t->flush_gva_count + gvas->count);
	}
	spin_unlock(&t->flush_gva_lock);
}

void vp_flush_before_entry(struct vp *vp)
{
	/* Store, then load the requests (see the header): the seq_cst store is
	 * an XCHG, a full fence on x86. */
	__atomic_store_n(&vp->in_guest, true, __ATOMIC_SEQ_CST);
	serve_requests(vp);
	/* The core's own flag (overlay pages moved): any CPU may set it.  A
	 * plain load first: the locked exchange only when it is set (rarely). */
	if (__atomic_load_n(&vp->flush_pending, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&vp->flush_pending, false, __ATOMIC_ACQ_REL))
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

bool vp_flush_vps(struct vp *self, const struct vp_mask *targets, const struct vp_flush_gvas *gvas,
		  u64 timeout_us)
{
	u32 gen[HV_MAX_CPUS];
	struct vp_mask waiting = {0};
	bool any = false;

	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *t = the_vm.vps[i];

		if (!vp_mask_test(targets, i))
			continue;
		if (t == self) {
			flush_own(self, gvas);
			continue;
		}
		add_request(t, gvas);
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
