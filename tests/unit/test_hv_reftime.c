/* unit-sources: hyperv/hv_reftime.c tests/unit/fake_printk.c */
/* Reference time (TLFS "Timers"; digest 2.6, 2.7): TIME_REF_COUNT against an
 * independent 128-bit oracle, the TSC page scale/offset agreeing with it within
 * one 100 ns unit over a wide range of frequencies and TSC values, monotonicity,
 * and the sequence-number protocol.  [DISPUTED #13] implemented reading: 0 is
 * the invalid sequence and neither 0 nor 0xFFFFFFFF is ever published. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hyperv/hv_reftime.h"

typedef unsigned __int128 u128;

/* The host may divide 128-bit numbers (libgcc); the image may not, which is
 * why the code under test does not. */
static u64 oracle_count(u64 hz, u64 t0, u64 tsc)
{
	if (tsc <= t0)
		return 0;
	return (u64)(((u128)(tsc - t0) * 10000000u) / hz);
}

static u64 oracle_scale(u64 hz)
{
	return (u64)(((u128)10000000u << 64) / hz);
}

static u64 rng_state = 0x9E3779B97F4A7C15ULL;

static u64 rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static const u64 frequencies[] = {
	10000001ULL,	 /* just above the page's lower limit */
	14318180ULL,	 /* HPET-like */
	25000000ULL,	 100000000ULL,	  999999937ULL,	 1000000000ULL,
	1000000007ULL,	 1193182000ULL,	  2000000000ULL, 2893431000ULL,
	3000000000ULL,	 3499999999ULL,	  3500000000ULL, 3700012345ULL,
	4200000000ULL,	 4294967296ULL,	  5000000000ULL, 10000000000ULL,
	123456789012ULL, 1000000000000ULL, HV_REFTIME_MAX_TSC_HZ,
};

static const u64 starts[] = {0, 1, 12345, 3500000000ULL * 3600, 1ULL << 40, (1ULL << 62) + 3};

START_TEST(test_div128_matches_oracle)
{
	static const u64 fixed[][3] = {
		{0, 0, 1},
		{0, UINT64_MAX, 1},
		{0, UINT64_MAX, UINT64_MAX},
		{UINT64_MAX - 1, UINT64_MAX, UINT64_MAX},
		{1, 0, 2},
		{10000000, 0, 10000001},
		{(1ULL << 63) - 1, 12345, 1ULL << 63},
		{(1ULL << 63), 0, (1ULL << 63) + 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		u64 hi = fixed[i][0], lo = fixed[i][1], d = fixed[i][2];
		u64 want = (u64)((((u128)hi << 64) | lo) / d);
		ck_assert_uint_eq(hv_reftime_div128(hi, lo, d), want);
	}
	for (int i = 0; i < 20000; i++) {
		u64 d = rnd() | 1;
		u64 hi = rnd() % d;
		u64 lo = rnd();
		if (i & 1)
			d >>= rnd() % 63; /* small divisors too */
		if (d == 0)
			d = 1;
		hi %= d;
		u64 want = (u64)((((u128)hi << 64) | lo) / d);
		ck_assert_uint_eq(hv_reftime_div128(hi, lo, d), want);
	}
}
END_TEST

START_TEST(test_scale_exact)
{
	struct hv_reftime rt;

	/* 20 MHz: one tick is half a unit, so scale is exactly 2^63. */
	ck_assert(hv_reftime_init(&rt, 20000000ULL, 0));
	ck_assert(rt.page_valid);
	ck_assert_uint_eq(rt.scale, 1ULL << 63);
	ck_assert_int_eq(rt.offset, 0);
	ck_assert(hv_reftime_init(&rt, 40000000ULL, 0));
	ck_assert_uint_eq(rt.scale, 1ULL << 62);
	for (size_t i = 0; i < ARRAY_SIZE(frequencies); i++) {
		ck_assert(hv_reftime_init(&rt, frequencies[i], 0));
		ck_assert_msg(rt.scale == oracle_scale(frequencies[i]), "hz %llu",
			      (unsigned long long)frequencies[i]);
	}
}
END_TEST

START_TEST(test_count_exact)
{
	struct hv_reftime rt;

	for (size_t f = 0; f < ARRAY_SIZE(frequencies); f++) {
		for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
			u64 hz = frequencies[f], t0 = starts[s];
			ck_assert(hv_reftime_init(&rt, hz, t0));
			ck_assert_uint_eq(hv_reftime_count(&rt, t0), 0);
			ck_assert_uint_eq(hv_reftime_count(&rt, t0 + hz), 10000000ULL);
			ck_assert_uint_eq(hv_reftime_count(&rt, t0 + 7 * hz), 70000000ULL);
			ck_assert_uint_eq(hv_reftime_count(&rt, t0 + hz - 1), oracle_count(hz, t0, t0 + hz - 1));
			/* Up to the end of the 64-bit TSC. */
			ck_assert_uint_eq(hv_reftime_count(&rt, UINT64_MAX), oracle_count(hz, t0, UINT64_MAX));
			for (int i = 0; i < 300; i++) {
				u64 tsc = t0 + (rnd() >> (rnd() % 64));
				if (tsc < t0)
					tsc = UINT64_MAX;
				ck_assert_uint_eq(hv_reftime_count(&rt, tsc), oracle_count(hz, t0, tsc));
			}
		}
	}
}
END_TEST

/* The heart of it: what a guest computes from the page is within one unit of
 * what TIME_REF_COUNT says at the same TSC. */
static void check_agreement(u64 hz, u64 t0, u64 tsc)
{
	struct hv_reftime rt;

	ck_assert(hv_reftime_init(&rt, hz, t0));
	ck_assert(rt.page_valid);
	u64 page = hv_reftime_tsc_page_value(tsc, rt.scale, rt.offset);
	u64 msr = hv_reftime_count(&rt, tsc);
	u64 diff = page > msr ? page - msr : msr - page;
	ck_assert_msg(diff <= 1, "hz %llu start %llu tsc %llu: page %llu msr %llu",
		      (unsigned long long)hz, (unsigned long long)t0, (unsigned long long)tsc,
		      (unsigned long long)page, (unsigned long long)msr);
}

START_TEST(test_page_agrees_with_counter)
{
	for (size_t f = 0; f < ARRAY_SIZE(frequencies); f++) {
		for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
			u64 hz = frequencies[f], t0 = starts[s];
			static const u64 deltas[] = {0, 1, 2, 3, 99, 1000, 4095, 10000000};
			for (size_t d = 0; d < ARRAY_SIZE(deltas); d++)
				check_agreement(hz, t0, t0 + deltas[d]);
			check_agreement(hz, t0, t0 + hz - 1);
			check_agreement(hz, t0, t0 + hz);
			check_agreement(hz, t0, t0 + 3600 * hz);
			check_agreement(hz, t0, UINT64_MAX);
			check_agreement(hz, t0, UINT64_MAX - 1);
			for (int i = 0; i < 400; i++) {
				u64 tsc = t0 + (rnd() >> (rnd() % 64));
				if (tsc < t0)
					tsc = UINT64_MAX;
				check_agreement(hz, t0, tsc);
			}
		}
	}
	/* Random frequencies over the whole supported range. */
	for (int i = 0; i < 3000; i++) {
		u64 hz = 10000001ULL + rnd() % (HV_REFTIME_MAX_TSC_HZ - 10000001ULL);
		if (i & 1)
			hz = 10000001ULL + rnd() % 6000000000ULL; /* realistic CPUs */
		u64 t0 = rnd() >> (rnd() % 64);
		u64 tsc = t0 + ((rnd() >> (rnd() % 64)) % (UINT64_MAX - t0));
		check_agreement(hz, t0, tsc);
	}
}
END_TEST

START_TEST(test_page_starts_at_zero)
{
	struct hv_reftime rt;

	for (size_t f = 0; f < ARRAY_SIZE(frequencies); f++) {
		for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
			ck_assert(hv_reftime_init(&rt, frequencies[f], starts[s]));
			ck_assert_uint_eq(hv_reftime_tsc_page_value(starts[s], rt.scale, rt.offset), 0);
		}
	}
}
END_TEST

START_TEST(test_monotonic)
{
	struct hv_reftime rt;

	for (size_t f = 0; f < ARRAY_SIZE(frequencies); f++) {
		u64 hz = frequencies[f], t0 = 987654321ULL;
		ck_assert(hv_reftime_init(&rt, hz, t0));
		u64 tsc = t0, last_page = 0, last_msr = 0;
		for (int i = 0; i < 20000; i++) {
			/* Mostly tiny steps, where rounding could go wrong, and
			 * some huge ones. */
			u64 step = (i % 97 == 0) ? rnd() >> 20 : rnd() % 7;
			if (tsc > UINT64_MAX - step)
				break;
			tsc += step;
			u64 page = hv_reftime_tsc_page_value(tsc, rt.scale, rt.offset);
			u64 msr = hv_reftime_count(&rt, tsc);
			ck_assert_msg(page >= last_page, "page went back at tsc %llu",
				      (unsigned long long)tsc);
			ck_assert_msg(msr >= last_msr, "counter went back at tsc %llu",
				      (unsigned long long)tsc);
			last_page = page;
			last_msr = msr;
		}
		/* A second has 10^7 units: the counter never gains or loses. */
		ck_assert_uint_eq(hv_reftime_count(&rt, t0 + 1000 * hz) -
					  hv_reftime_count(&rt, t0 + 999 * hz),
				  10000000ULL);
	}
}
END_TEST

START_TEST(test_slow_and_bad_frequencies)
{
	struct hv_reftime rt;

	/* At or below 10 MHz the scale would need 65 bits: the page stays
	 * invalid, the counter still works (ACPI PM timer rate, 1 Hz). */
	ck_assert(hv_reftime_init(&rt, 10000000ULL, 5));
	ck_assert(!rt.page_valid);
	ck_assert_uint_eq(hv_reftime_count(&rt, 5 + 10000000ULL), 10000000ULL);
	ck_assert(hv_reftime_init(&rt, 3579545ULL, 0));
	ck_assert(!rt.page_valid);
	ck_assert_uint_eq(hv_reftime_count(&rt, 3579545ULL * 2), 20000000ULL);
	ck_assert_uint_eq(hv_reftime_count(&rt, 1), oracle_count(3579545ULL, 0, 1));
	ck_assert(hv_reftime_init(&rt, 1, 0));
	ck_assert_uint_eq(hv_reftime_count(&rt, 3), 30000000ULL);
	/* Nonsense frequencies are refused and leave the page invalid. */
	ck_assert(!hv_reftime_init(&rt, 0, 0));
	ck_assert(!rt.page_valid);
	ck_assert_uint_eq(hv_reftime_count(&rt, 12345), 0);
	ck_assert(!hv_reftime_init(&rt, HV_REFTIME_MAX_TSC_HZ + 1, 0));
	ck_assert(!rt.page_valid);
	ck_assert(!hv_reftime_init(&rt, UINT64_MAX, 0));
	/* A TSC before the partition start reads as 0, not as a huge value. */
	ck_assert(hv_reftime_init(&rt, 2000000000ULL, 1000));
	ck_assert_uint_eq(hv_reftime_count(&rt, 999), 0);
	ck_assert_uint_eq(hv_reftime_count(&rt, 0), 0);
}
END_TEST

START_TEST(test_page_formula_wraps_like_the_guest)
{
	/* Offset is added modulo 2^64, as Linux's mul_u64_u64_shr() + offset. */
	ck_assert_uint_eq(hv_reftime_tsc_page_value(0, 1ULL << 63, -5), (u64)-5);
	ck_assert_uint_eq(hv_reftime_tsc_page_value(10, 1ULL << 63, -5), 0);
	ck_assert_uint_eq(hv_reftime_tsc_page_value(UINT64_MAX, UINT64_MAX, 0), UINT64_MAX - 1);
	ck_assert_uint_eq(hv_reftime_tsc_page_value(1ULL << 32, 1ULL << 32, 7), 8);
}
END_TEST

START_TEST(test_sequence_numbers)
{
	ck_assert_uint_eq(hv_reftime_next_sequence(0), 1);
	ck_assert_uint_eq(hv_reftime_next_sequence(1), 2);
	ck_assert_uint_eq(hv_reftime_next_sequence(0x7FFFFFFF), 0x80000000U);
	ck_assert_uint_eq(hv_reftime_next_sequence(0xFFFFFFFD), 0xFFFFFFFEU);
	ck_assert_uint_eq(hv_reftime_next_sequence(0xFFFFFFFE), 1); /* skips 0xFFFFFFFF and 0 */
	ck_assert_uint_eq(hv_reftime_next_sequence(0xFFFFFFFF), 1);
	/* Walking the whole cycle from a random point never yields 0 or ~0. */
	u32 seq = 0xFFFFFF00U;
	for (int i = 0; i < 1000; i++) {
		seq = hv_reftime_next_sequence(seq);
		ck_assert_uint_ne(seq, 0);
		ck_assert_uint_ne(seq, 0xFFFFFFFFU);
	}
}
END_TEST

START_TEST(test_publish_and_read)
{
	static struct hv_reference_tsc_page page;
	struct hv_reftime rt;
	u64 v = 42;

	memset(&page, 0, sizeof(page));
	/* A fresh (zeroed) page is invalid: the guest uses the MSR. */
	ck_assert(!hv_reftime_page_read(&page, 1000, &v));
	ck_assert(hv_reftime_init(&rt, 2500000000ULL, 1000000ULL));
	hv_reftime_page_publish(&page, &rt);
	ck_assert_uint_eq(page.tsc_sequence, 1);
	ck_assert_uint_eq(page.tsc_scale, rt.scale);
	ck_assert_int_eq(page.tsc_offset, rt.offset);
	ck_assert(hv_reftime_page_read(&page, 1000000ULL + 2500000000ULL, &v));
	ck_assert_uint_eq(v, 10000000ULL);

	/* Republishing bumps the sequence; the reserved area stays zero. */
	hv_reftime_page_publish(&page, &rt);
	ck_assert_uint_eq(page.tsc_sequence, 2);
	for (size_t i = 0; i < ARRAY_SIZE(page.reserved2); i++)
		ck_assert_uint_eq(page.reserved2[i], 0);
	ck_assert_uint_eq(page.reserved1, 0);

	/* Wrap-around skips both invalid values. */
	page.tsc_sequence = 0xFFFFFFFE;
	hv_reftime_page_publish(&page, &rt);
	ck_assert_uint_eq(page.tsc_sequence, 1);

	hv_reftime_page_invalidate(&page);
	ck_assert_uint_eq(page.tsc_sequence, 0);
	ck_assert(!hv_reftime_page_read(&page, 5, &v));

	/* A clock without a usable page publishes only the invalidation. */
	page.tsc_sequence = 7;
	ck_assert(hv_reftime_init(&rt, 1000000ULL, 0));
	hv_reftime_page_publish(&page, &rt);
	ck_assert_uint_eq(page.tsc_sequence, 0);
	ck_assert(!hv_reftime_page_read(&page, 5, &v));
}
END_TEST

/* A writer alternates between two clocks while a reader uses the guest
 * protocol; every value read must come from one clock, never a mix of one's
 * scale and the other's offset. */
static struct hv_reference_tsc_page race_page;
static struct hv_reftime race_a, race_b;
static volatile int race_stop;

static void *race_writer(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !race_stop; i++)
		hv_reftime_page_publish(&race_page, (i & 1) ? &race_b : &race_a);
	return NULL;
}

START_TEST(test_concurrent_reader_never_sees_a_torn_update)
{
	pthread_t t;
	int valid = 0;

	memset(&race_page, 0, sizeof(race_page));
	ck_assert(hv_reftime_init(&race_a, 3000000000ULL, 0));
	ck_assert(hv_reftime_init(&race_b, 1000000000ULL, 1ULL << 40));
	hv_reftime_page_publish(&race_page, &race_a);
	ck_assert_int_eq(pthread_create(&t, NULL, race_writer, NULL), 0);
	for (int i = 0; i < 200000; i++) {
		u64 tsc = (1ULL << 41) + (u64)i * 977, v;
		if (!hv_reftime_page_read(&race_page, tsc, &v))
			continue;
		valid++;
		u64 va = hv_reftime_tsc_page_value(tsc, race_a.scale, race_a.offset);
		u64 vb = hv_reftime_tsc_page_value(tsc, race_b.scale, race_b.offset);
		ck_assert_msg(v == va || v == vb, "torn read %llu", (unsigned long long)v);
	}
	race_stop = 1;
	pthread_join(t, NULL);
	ck_assert_int_gt(valid, 0);
}
END_TEST

static Suite *reftime_suite(void)
{
	Suite *s = suite_create("hv_reftime");

	TCase *math = tcase_create("arithmetic");
	tcase_set_timeout(math, 60);
	tcase_add_test(math, test_div128_matches_oracle);
	tcase_add_test(math, test_scale_exact);
	tcase_add_test(math, test_count_exact);
	tcase_add_test(math, test_page_agrees_with_counter);
	tcase_add_test(math, test_page_starts_at_zero);
	tcase_add_test(math, test_monotonic);
	tcase_add_test(math, test_slow_and_bad_frequencies);
	tcase_add_test(math, test_page_formula_wraps_like_the_guest);
	suite_add_tcase(s, math);

	TCase *proto = tcase_create("sequence protocol");
	tcase_set_timeout(proto, 60);
	tcase_add_test(proto, test_sequence_numbers);
	tcase_add_test(proto, test_publish_and_read);
	tcase_add_test(proto, test_concurrent_reader_never_sees_a_torn_update);
	suite_add_tcase(s, proto);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reftime_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
