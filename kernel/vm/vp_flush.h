/* Guest TLB flushes that one VP asks of others: the Hv#1 PV TLB flush
 * hypercalls (TLFS "Virtual MMU", digest 8.5) and nothing else yet.
 *
 * The TLFS makes the flush synchronous: when the hypercall returns, no target
 * VP may use a stale translation any more.  A VP's guest translations live in
 * its own CPU's TLB, tagged with its ASID/VPID, and only that CPU can drop them
 * (vm_backend->flush_tlb queues the INVVPID/ASID flush for the next entry).  So
 * the requester leaves a request and makes sure the target passes an entry
 * boundary before it proceeds:
 *
 *   requester                               target's VP loop
 *   gen = ++t->tlb_flush_requested          t->in_guest = true      (full fence)
 *   (full fence)                            if requested != served:
 *   if t->in_guest: kick t, wait until          flush_tlb(t); served = requested
 *     served >= gen or !t->in_guest         enter the guest ... exit
 *                                           t->in_guest = false
 *
 * Each side stores, then loads the other side's word, both with sequentially
 * consistent atomics: either the target's check sees the new generation (it
 * flushes before it enters), or the requester sees in_guest and waits for the
 * target to leave guest mode, after which its next entry flushes.  A VP that
 * is halted, waiting for SIPI, paused or between two exits is not in guest mode
 * and costs the requester nothing; it flushes before it next runs.  Targets
 * that have nothing to flush are never kicked.
 *
 * A requester is itself out of guest mode while it waits, so two VPs flushing
 * each other never wait on each other; it also serves its own requests while
 * it waits.  Every wait is bounded. */
#ifndef HV_KERNEL_VM_VP_FLUSH_H
#define HV_KERNEL_VM_VP_FLUSH_H

#include "kernel/config.h"
#include "kernel/types.h"
#include "kernel/vm/vm.h"

/* A set of VP indexes (bit i = the_vm.vps[i]). */
#define VP_MASK_WORDS ((HV_MAX_CPUS + 63) / 64)
struct vp_mask {
	u64 bits[VP_MASK_WORDS];
};

static inline void vp_mask_set(struct vp_mask *m, u32 index)
{
	if (index < HV_MAX_CPUS)
		m->bits[index / 64] |= 1ULL << (index % 64);
}

static inline bool vp_mask_test(const struct vp_mask *m, u32 index)
{
	return index < HV_MAX_CPUS && ((m->bits[index / 64] >> (index % 64)) & 1);
}

/* Wrap-safe: has generation `served` reached `wanted`? */
static inline bool vp_flush_gen_reached(u32 served, u32 wanted)
{
	return (s32)(served - wanted) >= 0;
}

/* The VP loop, on the VP's own CPU, right before and right after the guest
 * runs: marks the VP in guest mode and queues the flushes that were asked
 * for (PV requests and the core's SLAT flag vp->flush_pending). */
void vp_flush_before_entry(struct vp *vp);
void vp_flush_after_exit(struct vp *vp);

/* Guest-virtual pages to flush; count 0 (or a NULL pointer) means the whole
 * ASID/VPID. */
struct vp_flush_gvas {
	u32 count;
	u64 gva[VP_FLUSH_GVAS_MAX];
};

/* Flushes the guest TLB of every VP in `targets` (indexes >= the_vm.vp_count
 * are ignored), on behalf of `self`, which runs this between two of its
 * exits: the pages in gvas, or everything.  A target whose pending requests
 * add up to more than VP_FLUSH_GVAS_MAX pages flushes everything (the TLFS
 * allows flushing more than asked).  `self` in the set flushes at once.
 * Returns true once every other target has passed an entry boundary or is
 * out of guest mode; false when one did not within timeout_us (its request
 * stays: it still flushes before it next enters, but the caller must not
 * report completion). */
bool vp_flush_vps(struct vp *self, const struct vp_mask *targets, const struct vp_flush_gvas *gvas,
		  u64 timeout_us);

#endif
