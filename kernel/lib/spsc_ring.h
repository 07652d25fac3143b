/* A single-producer, single-consumer ring of 16-bit items, lock-free.  Used
 * for console input (a byte, or an event code above 0xFF).
 *
 * Exactly one context may push at a time and exactly one may pop at a time
 * (callers serialise their own side with a lock when several CPUs can reach
 * it); a push and a pop may run concurrently on different CPUs.  head is only
 * written by the producer and tail only by the consumer; each publishes with a
 * release store what the other side reads with an acquire load, so an item is
 * written before head makes it visible and read before tail frees its slot.
 *
 * Header-only pure logic: compiled into the image and the host unit tests. */
#ifndef HV_KERNEL_LIB_SPSC_RING_H
#define HV_KERNEL_LIB_SPSC_RING_H

#include "kernel/types.h"

struct spsc_ring {
	u16 *buf;
	u32 mask; /* size - 1, size a power of two */
	u32 head; /* next slot the producer fills */
	u32 tail; /* next slot the consumer reads */
};

static inline void spsc_init(struct spsc_ring *r, u16 *buf, u32 size_pow2)
{
	r->buf = buf;
	r->mask = size_pow2 - 1;
	r->head = 0;
	r->tail = 0;
}

static inline u32 spsc_count(const struct spsc_ring *r)
{
	u32 t = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - t;
}

/* Free slots as the producer sees them. */
static inline u32 spsc_space(const struct spsc_ring *r)
{
	return r->mask + 1 - (r->head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE));
}

static inline bool spsc_push(struct spsc_ring *r, u16 v)
{
	u32 h = r->head;
	if (h - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) > r->mask)
		return false;
	r->buf[h & r->mask] = v;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return true;
}

static inline bool spsc_pop(struct spsc_ring *r, u16 *v)
{
	u32 t = r->tail;
	if (__atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == t)
		return false;
	*v = r->buf[t & r->mask];
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELEASE);
	return true;
}

#endif
