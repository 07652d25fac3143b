/* Partition reference time (TLFS "Timers": partition reference counter and
 * reference TSC page; digest 2.6, 2.7).  Pure integer arithmetic, no floating
 * point; also built into the host unit tests.
 *
 * Reference time counts 100 ns units from partition creation.  With the guest
 * TSC running at tsc_hz and reading tsc_start when the partition was created:
 *
 *   TIME_REF_COUNT(tsc) = floor((tsc - tsc_start) * 10^7 / tsc_hz)        (exact)
 *   TSC page (guest):     ((tsc * TscScale) >> 64) + TscOffset           (mod 2^64)
 *
 * with TscScale = floor(10^7 * 2^64 / tsc_hz) (OVMM's formula, digest 2.7) and
 * TscOffset = -((tsc_start * TscScale) >> 64).  Both floors lose less than one
 * unit each, so the two values never differ by more than 1 (proof in
 * hv_reftime.c); a core that wants them identical can serve TIME_REF_COUNT from
 * hv_reftime_tsc_page_value() while the page is valid, as KVM does.
 *
 * The page needs TscScale < 2^64, i.e. tsc_hz > 10 MHz; below that the page
 * stays invalid (sequence 0) and guests read the MSR. */
#ifndef HV_HYPERV_HV_REFTIME_H
#define HV_HYPERV_HV_REFTIME_H

#include "hyperv/hv_defs.h"
#include "kernel/types.h"

#define HV_REFTIME_UNITS_PER_SEC 10000000ULL /* 100 ns units */
/* Above this the exact 64-bit count formula would overflow (10^7 * hz >= 2^64). */
#define HV_REFTIME_MAX_TSC_HZ (UINT64_MAX / HV_REFTIME_UNITS_PER_SEC)

struct hv_reftime {
	u64 tsc_hz;
	u64 tsc_start;	  /* guest TSC at partition creation (reference time 0) */
	bool page_valid;  /* scale/offset below are usable (tsc_hz > 10 MHz) */
	u64 scale;	  /* TscScale */
	s64 offset;	  /* TscOffset */
};

/* Sets up the clock.  Returns false (and leaves page_valid false) for
 * tsc_hz == 0 or tsc_hz > HV_REFTIME_MAX_TSC_HZ. */
bool hv_reftime_init(struct hv_reftime *rt, u64 tsc_hz, u64 tsc_start);

/* TIME_REF_COUNT for a guest TSC value; 0 for tsc < tsc_start.  Exact, and
 * monotonic in tsc. */
u64 hv_reftime_count(const struct hv_reftime *rt, u64 tsc);

/* The guest's TSC-page formula, bit for bit (128-bit product, high half, plus
 * offset modulo 2^64). */
u64 hv_reftime_tsc_page_value(u64 tsc, u64 scale, s64 offset);

/* floor(hi:lo / d) for hi < d (so the quotient fits in 64 bits), using 64-bit
 * operations only: a 128-by-64 division would call libgcc, which the image does
 * not link. */
u64 hv_reftime_div128(u64 hi, u64 lo, u64 d);

/* ---- The TSC page's sequence protocol (digest 2.7) ------------------------
 * [DISPUTED #13] older TLFS versions call 0xFFFFFFFF invalid, current TLFS and
 * OVMM only 0.  Here 0 means invalid (what this code writes to invalidate) and
 * neither 0 nor 0xFFFFFFFF is ever published as a valid sequence. */
#define HV_REFERENCE_TSC_SEQUENCE_INVALID 0U
#define HV_REFERENCE_TSC_SEQUENCE_INVALID_OLD 0xFFFFFFFFU

/* The sequence number after seq, skipping both invalid values. */
u32 hv_reftime_next_sequence(u32 seq);

/* Hypervisor side, on a page the guest may be reading concurrently: sequence
 * = 0, then scale and offset, then a new valid sequence, each store ordered
 * after the previous one (KVM and OVMM update protocol).  With !rt->page_valid
 * it only invalidates. */
void hv_reftime_page_publish(struct hv_reference_tsc_page *page, const struct hv_reftime *rt);

/* Sequence = 0: guests fall back to TIME_REF_COUNT. */
void hv_reftime_page_invalidate(struct hv_reference_tsc_page *page);

/* Guest side of the protocol (for tests and test guests): false when the page
 * is invalid, else the reference time at `tsc`.  Retries while the sequence
 * changes underneath. */
bool hv_reftime_page_read(const struct hv_reference_tsc_page *page, u64 tsc, u64 *value);

#endif
