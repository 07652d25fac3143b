/* See hv_stimer.h.  Digest sections 2.12 and 7.8. */
#include "hyperv/hv_stimer.h"
#include "hyperv/hv_reftime.h"

/* A day of reference time: the farthest a host timer is armed at once. */
#define STIMER_MAX_ARM_UNITS (86400ULL * HV_REFTIME_UNITS_PER_SEC)

void hv_stimer_reset(struct hv_stimer *t)
{
	t->config = 0;
	t->count = 0;
	t->armed = false;
	t->due = 0;
}

/* Enable with neither a SINT nor direct mode has nowhere to deliver: the
 * TLFS marks it disabled at once (digest 7.8; KVM does the same). */
static void drop_enable_without_target(struct hv_stimer *t)
{
	if ((t->config & HV_STIMER_CONFIG_ENABLE) && !hv_stimer_direct(t) && hv_stimer_sint(t) == 0)
		t->config &= ~HV_STIMER_CONFIG_ENABLE;
}

/* Reference time does not wrap (digest 7.8: 2^64 units are 58 000 years), so
 * a sum past 2^64 means "never" and must not wrap to the past. */
static u64 add_saturating(u64 a, u64 b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static void arm(struct hv_stimer *t, u64 now)
{
	t->armed = false;
	if (!(t->config & HV_STIMER_CONFIG_ENABLE) || t->count == 0)
		return;
	/* One-shot: COUNT is absolute.  Periodic: the first period starts now. */
	t->due = hv_stimer_periodic(t) ? add_saturating(now, t->count) : t->count;
	t->armed = true;
}

bool hv_stimer_write_config(struct hv_stimer *t, u64 value, u64 now, bool direct_offered)
{
	if (value & HV_STIMER_CONFIG_RSVDZ_MASK)
		return false;
	if (value & HV_STIMER_CONFIG_DIRECT_MODE) {
		u8 vector = (u8)((value & HV_STIMER_CONFIG_APIC_VECTOR_MASK) >>
				 HV_STIMER_CONFIG_APIC_VECTOR_SHIFT);
		/* Direct mode only when offered (CPUID 0x40000003 EDX bit 19);
		 * vectors 0-15 are not interrupts (digest 7.8, interpretation). */
		if (!direct_offered || vector < HV_SYNIC_FIRST_VALID_VECTOR)
			return false;
	}
	t->config = value;
	drop_enable_without_target(t);
	arm(t, now);
	return true;
}

void hv_stimer_write_count(struct hv_stimer *t, u64 value, u64 now)
{
	t->count = value;
	if (value == 0)
		t->config &= ~HV_STIMER_CONFIG_ENABLE;
	else if (t->config & HV_STIMER_CONFIG_AUTO_ENABLE)
		t->config |= HV_STIMER_CONFIG_ENABLE;
	drop_enable_without_target(t);
	arm(t, now);
}

bool hv_stimer_expire(struct hv_stimer *t, u64 now, u64 *expiration)
{
	if (!t->armed || now < t->due)
		return false;
	*expiration = t->due;
	if (!hv_stimer_periodic(t)) {
		t->config &= ~HV_STIMER_CONFIG_ENABLE;
		t->armed = false;
		return true;
	}
	/* The next period; if that is already past too, skip the missed ones
	 * and start a full period from now (no catch-up burst). */
	u64 next = add_saturating(t->due, t->count);
	if (next <= now)
		next = add_saturating(now, t->count);
	t->due = next;
	return true;
}

u64 hv_stimer_tsc_deadline(u64 due, u64 now_ref, u64 now_tsc, u64 tsc_hz)
{
	if (due <= now_ref)
		return now_tsc;
	u64 delta = due - now_ref;
	if (delta > STIMER_MAX_ARM_UNITS)
		delta = STIMER_MAX_ARM_UNITS;
	/* ceil(delta * tsc_hz / 10^7): delta < 2^40 and any real TSC rate
	 * < 2^40 Hz keep the high half far below 10^7. */
	unsigned __int128 ticks = (unsigned __int128)delta * tsc_hz + (HV_REFTIME_UNITS_PER_SEC - 1);
	u64 hi = (u64)(ticks >> 64), lo = (u64)ticks;
	if (hi >= HV_REFTIME_UNITS_PER_SEC)
		return UINT64_MAX;
	return now_tsc + hv_reftime_div128(hi, lo, HV_REFTIME_UNITS_PER_SEC);
}
