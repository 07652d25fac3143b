/* Partition reference time: TIME_REF_COUNT and the reference TSC page (TLFS
 * "Timers"; digest 2.6, 2.7).
 *
 * Why the page and the counter agree within one unit.  Let y = (tsc -
 * tsc_start) * 10^7 / tsc_hz (a real number) and s = 10^7 * 2^64 / tsc_hz =
 * scale + e with 0 <= e < 1.  The page value is floor(A) - floor(B) with
 * A = tsc * scale / 2^64 and B = tsc_start * scale / 2^64 (the offset is
 * exactly -floor(B)), so it lies in (A - B - 1, A - B + 1).  A - B =
 * (tsc - tsc_start) * (s - e) / 2^64 = y - d with d = (tsc - tsc_start) * e /
 * 2^64 in [0, 1).  Hence the page value is in (y - 2, y + 1), while
 * TIME_REF_COUNT = floor(y) is in (y - 1, y]; two integers in those intervals
 * differ by at most 1. */
#include "hyperv/hv_reftime.h"

u64 hv_reftime_div128(u64 hi, u64 lo, u64 d)
{
	u64 q = 0, r = hi;

	/* Restoring division, one quotient bit per step.  r < d holds before
	 * each shift, so r << 1 overflows 64 bits only when d > 2^63; the
	 * carry then means r >= d. */
	for (int i = 63; i >= 0; i--) {
		bool carry = (r >> 63) != 0;

		r = (r << 1) | ((lo >> i) & 1);
		q <<= 1;
		if (carry || r >= d) {
			r -= d;
			q |= 1;
		}
	}
	return q;
}

bool hv_reftime_init(struct hv_reftime *rt, u64 tsc_hz, u64 tsc_start)
{
	rt->tsc_hz = tsc_hz;
	rt->tsc_start = tsc_start;
	rt->page_valid = false;
	rt->scale = 0;
	rt->offset = 0;
	if (tsc_hz == 0 || tsc_hz > HV_REFTIME_MAX_TSC_HZ)
		return false;
	if (tsc_hz > HV_REFTIME_UNITS_PER_SEC) {
		/* TscScale = floor(10^7 * 2^64 / hz): hi = 10^7 < hz, lo = 0. */
		rt->scale = hv_reftime_div128(HV_REFTIME_UNITS_PER_SEC, 0, tsc_hz);
		/* TscOffset = -((tsc_start * scale) >> 64), modulo 2^64 like the
		 * guest's addition (unsigned arithmetic avoids signed overflow). */
		rt->offset = (s64)(0 - hv_reftime_tsc_page_value(tsc_start, rt->scale, 0));
		rt->page_valid = true;
	}
	return true;
}

u64 hv_reftime_count(const struct hv_reftime *rt, u64 tsc)
{
	u64 delta, secs, rem;

	if (rt->tsc_hz == 0 || tsc <= rt->tsc_start)
		return 0;
	delta = tsc - rt->tsc_start;
	/* floor(delta * 10^7 / hz) = secs * 10^7 + floor(rem * 10^7 / hz) with
	 * delta = secs * hz + rem; rem * 10^7 < hz * 10^7 fits in 64 bits. */
	secs = delta / rt->tsc_hz;
	rem = delta % rt->tsc_hz;
	return secs * HV_REFTIME_UNITS_PER_SEC + rem * HV_REFTIME_UNITS_PER_SEC / rt->tsc_hz;
}

/* gcc inlines the 64x64->128 multiply (one MUL, no libgcc call) in both the
 * image and the host build; __extension__ keeps -pedantic quiet. */
__extension__ typedef unsigned __int128 hv_u128;

u64 hv_reftime_tsc_page_value(u64 tsc, u64 scale, s64 offset)
{
	hv_u128 product = (hv_u128)tsc * scale;

	return (u64)(product >> 64) + (u64)offset;
}

u32 hv_reftime_next_sequence(u32 seq)
{
	seq++;
	if (seq == HV_REFERENCE_TSC_SEQUENCE_INVALID || seq == HV_REFERENCE_TSC_SEQUENCE_INVALID_OLD)
		seq = 1;
	return seq;
}

void hv_reftime_page_invalidate(struct hv_reference_tsc_page *page)
{
	__atomic_store_n(&page->tsc_sequence, HV_REFERENCE_TSC_SEQUENCE_INVALID, __ATOMIC_SEQ_CST);
}

void hv_reftime_page_publish(struct hv_reference_tsc_page *page, const struct hv_reftime *rt)
{
	u32 seq = __atomic_load_n(&page->tsc_sequence, __ATOMIC_RELAXED);

	/* A reader that saw the old sequence must see it change (or 0) when it
	 * re-reads after taking scale/offset: invalidate first. */
	hv_reftime_page_invalidate(page);
	if (!rt->page_valid)
		return;
	/* Seqlock writer: the data stores must not become visible before the
	 * invalidation (a no-op on x86 beyond stopping the compiler). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&page->tsc_scale, rt->scale, __ATOMIC_RELAXED);
	__atomic_store_n(&page->tsc_offset, rt->offset, __ATOMIC_RELAXED);
	__atomic_store_n(&page->tsc_sequence, hv_reftime_next_sequence(seq), __ATOMIC_RELEASE);
}

bool hv_reftime_page_read(const struct hv_reference_tsc_page *page, u64 tsc, u64 *value)
{
	u32 seq;

	do {
		seq = __atomic_load_n(&page->tsc_sequence, __ATOMIC_ACQUIRE);
		if (seq == HV_REFERENCE_TSC_SEQUENCE_INVALID)
			return false;
		u64 scale = __atomic_load_n(&page->tsc_scale, __ATOMIC_RELAXED);
		s64 offset = __atomic_load_n(&page->tsc_offset, __ATOMIC_RELAXED);
		*value = hv_reftime_tsc_page_value(tsc, scale, offset);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&page->tsc_sequence, __ATOMIC_RELAXED) != seq);
	return true;
}
