/* One synthetic timer, STIMERn (TLFS "Synthetic Timers"; digest 2.12, 7.8),
 * as pure logic over reference time (100 ns units, TIME_REF_COUNT): the
 * CONFIG/COUNT write rules, arming and expiry.  Delivering an expiry (a
 * TimerExpired message or a direct APIC vector) and turning the due time into
 * a host timer are the caller's (hyperv/hv_synic.c).  Also built into the
 * host unit tests.
 *
 * Rules, each from digest 7.8:
 *  - COUNT = 0 disables the timer, whatever AutoEnable says; COUNT != 0 with
 *    AutoEnable sets Enable and arms it.
 *  - One-shot: COUNT is the absolute expiry time; a time already past fires
 *    at the next poll; firing clears Enable.
 *  - Periodic: COUNT is the period; the first period starts when the timer is
 *    armed.  Missed periods are skipped, never caught up with a burst (the
 *    TLFS allows either; Lazy therefore changes nothing here).
 *  - Enable with DirectMode = 0 and SINTx = 0 reads back as disabled.
 *  - Expiry is never early: due means reference time >= due.
 * Choices where the sources say nothing (interpretation, documented in
 * docs/tlfs-conformance.md): reserved bits (15:13, 63:20) and DirectMode with
 * a vector below 16 are #GP; DirectMode is #GP unless offered; Enable with
 * COUNT = 0 stays set but never fires until a non-zero COUNT arrives. */
#ifndef HV_HYPERV_HV_STIMER_H
#define HV_HYPERV_HV_STIMER_H

#include "hyperv/hv_defs.h"
#include "kernel/types.h"

struct hv_stimer {
	u64 config;	/* STIMERn_CONFIG as the guest reads it */
	u64 count;	/* STIMERn_COUNT */
	bool armed;	/* `due` is valid */
	u64 due;	/* reference time of the next expiry */
};

/* Reset value: everything 0 (digest 7.1). */
void hv_stimer_reset(struct hv_stimer *t);

/* CONFIG write at reference time now.  False: #GP, nothing changed. */
bool hv_stimer_write_config(struct hv_stimer *t, u64 value, u64 now, bool direct_offered);

/* COUNT write at reference time now (never #GP). */
void hv_stimer_write_count(struct hv_stimer *t, u64 value, u64 now);

/* If the timer is due at `now`: returns true with *expiration = the time it
 * was due, and moves on (one-shot: disabled; periodic: the next period that
 * lies in the future). */
bool hv_stimer_expire(struct hv_stimer *t, u64 now, u64 *expiration);

/* The reference time of the next expiry, if armed. */
static inline bool hv_stimer_deadline(const struct hv_stimer *t, u64 *due)
{
	*due = t->due;
	return t->armed;
}

static inline bool hv_stimer_direct(const struct hv_stimer *t)
{
	return (t->config & HV_STIMER_CONFIG_DIRECT_MODE) != 0;
}

static inline u8 hv_stimer_vector(const struct hv_stimer *t)
{
	return (u8)((t->config & HV_STIMER_CONFIG_APIC_VECTOR_MASK) >>
		    HV_STIMER_CONFIG_APIC_VECTOR_SHIFT);
}

static inline u32 hv_stimer_sint(const struct hv_stimer *t)
{
	return (u32)((t->config & HV_STIMER_CONFIG_SINTX_MASK) >> HV_STIMER_CONFIG_SINTX_SHIFT);
}

static inline bool hv_stimer_periodic(const struct hv_stimer *t)
{
	return (t->config & HV_STIMER_CONFIG_PERIODIC) != 0;
}

/* The TSC value at which reference time `due` has surely been reached, for a
 * clock whose reference time is `now_ref` at TSC `now_tsc` and which counts
 * tsc_hz ticks per second.  Rounds up, and caps the distance at a day (the
 * caller re-arms when the cap runs out, so a far COUNT cannot overflow). */
u64 hv_stimer_tsc_deadline(u64 due, u64 now_ref, u64 now_tsc, u64 tsc_hz);

#endif
