/* unit-sources: hyperv/hv_stimer.c hyperv/hv_reftime.c tests/unit/fake_printk.c */
/* One synthetic timer (TLFS "Synthetic Timers"; digest 2.12, 7.8) as pure
 * logic: CONFIG/COUNT rules (AutoEnable, COUNT = 0, Enable without a target,
 * reserved bits, direct mode), one-shot and periodic expiry never early and
 * without catch-up bursts, and the reference-time to TSC conversion. */
#include <check.h>
#include <stdlib.h>

#include "hyperv/hv_stimer.h"

#define EN HV_STIMER_CONFIG_ENABLE
#define PER HV_STIMER_CONFIG_PERIODIC
#define AUTO HV_STIMER_CONFIG_AUTO_ENABLE
#define DIRECT HV_STIMER_CONFIG_DIRECT_MODE
#define SINT(n) ((u64)(n) << HV_STIMER_CONFIG_SINTX_SHIFT)
#define VEC(v) ((u64)(v) << HV_STIMER_CONFIG_APIC_VECTOR_SHIFT)

static struct hv_stimer T;

static void setup(void)
{
	hv_stimer_reset(&T);
}

START_TEST(test_oneshot_absolute_never_early)
{
	u64 exp, due;
	ck_assert(hv_stimer_write_config(&T, EN | SINT(2), 100, false));
	ck_assert(!hv_stimer_deadline(&T, &due)); /* COUNT 0: nothing armed */
	hv_stimer_write_count(&T, 500, 100);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, 500);
	ck_assert(!hv_stimer_expire(&T, 499, &exp));
	ck_assert(hv_stimer_expire(&T, 503, &exp));
	ck_assert_uint_eq(exp, 500);
	/* Firing clears Enable. */
	ck_assert(!(T.config & EN));
	ck_assert(!hv_stimer_expire(&T, 10000, &exp));
}
END_TEST

/* A period near 2^64 must never fire: now + period and due + period
 * saturate instead of wrapping into the past (found by the hv_fuzz guest). */
START_TEST(test_huge_period_never_fires)
{
	u64 exp, due;
	ck_assert(hv_stimer_write_config(&T, EN | PER | SINT(2), 1000, false));
	hv_stimer_write_count(&T, 0xFFFFFFFFFFFFFF00ULL, 1000);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, UINT64_MAX);
	ck_assert(!hv_stimer_expire(&T, 1001, &exp));
	ck_assert(!hv_stimer_expire(&T, 1ULL << 62, &exp));
	/* A period that fits once but not twice: one expiry, then never again. */
	hv_stimer_write_count(&T, 1ULL << 63, 0);
	ck_assert(hv_stimer_expire(&T, (1ULL << 63) + 5, &exp));
	ck_assert_uint_eq(exp, 1ULL << 63);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, UINT64_MAX);
	ck_assert(!hv_stimer_expire(&T, UINT64_MAX - 1, &exp));
}
END_TEST

START_TEST(test_oneshot_in_the_past_fires_at_once)
{
	u64 exp;
	ck_assert(hv_stimer_write_config(&T, AUTO | SINT(1), 0, false));
	hv_stimer_write_count(&T, 50, 1000);
	ck_assert(T.config & EN);
	ck_assert(hv_stimer_expire(&T, 1000, &exp));
	ck_assert_uint_eq(exp, 50);
}
END_TEST

START_TEST(test_count_zero_disables)
{
	u64 due;
	ck_assert(hv_stimer_write_config(&T, EN | AUTO | SINT(1), 0, false));
	hv_stimer_write_count(&T, 1000, 0);
	ck_assert(hv_stimer_deadline(&T, &due));
	hv_stimer_write_count(&T, 0, 10);
	ck_assert(!(T.config & EN));
	ck_assert(!hv_stimer_deadline(&T, &due));
}
END_TEST

START_TEST(test_no_auto_enable_needs_enable)
{
	u64 due;
	ck_assert(hv_stimer_write_config(&T, SINT(3), 0, false));
	hv_stimer_write_count(&T, 1000, 0);
	ck_assert(!(T.config & EN));
	ck_assert(!hv_stimer_deadline(&T, &due));
	ck_assert(hv_stimer_write_config(&T, EN | SINT(3), 5, false));
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, 1000);
}
END_TEST

START_TEST(test_enable_without_target_reads_disabled)
{
	u64 due;
	ck_assert(hv_stimer_write_config(&T, EN | AUTO, 0, false));
	ck_assert(!(T.config & EN));
	hv_stimer_write_count(&T, 100, 0);
	ck_assert(!(T.config & EN));
	ck_assert(!hv_stimer_deadline(&T, &due));
	/* Direct mode needs no SINT. */
	ck_assert(hv_stimer_write_config(&T, EN | DIRECT | VEC(0x40), 0, true));
	ck_assert(T.config & EN);
	ck_assert(hv_stimer_direct(&T));
	ck_assert_uint_eq(hv_stimer_vector(&T), 0x40);
}
END_TEST

START_TEST(test_config_refusals)
{
	ck_assert(!hv_stimer_write_config(&T, EN | SINT(1) | (1ULL << 13), 0, true));
	ck_assert(!hv_stimer_write_config(&T, EN | SINT(1) | (1ULL << 20), 0, true));
	ck_assert(!hv_stimer_write_config(&T, EN | DIRECT | VEC(0x40), 0, false));
	ck_assert(!hv_stimer_write_config(&T, EN | DIRECT | VEC(0x0F), 0, true));
	ck_assert_uint_eq(T.config, 0);
	/* Lazy is accepted (and changes nothing here). */
	ck_assert(hv_stimer_write_config(&T, EN | HV_STIMER_CONFIG_LAZY | SINT(1), 0, false));
}
END_TEST

START_TEST(test_periodic_period_from_enable)
{
	u64 exp, due;
	ck_assert(hv_stimer_write_config(&T, PER | AUTO | SINT(1), 0, false));
	hv_stimer_write_count(&T, 100, 1000);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, 1100);
	ck_assert(!hv_stimer_expire(&T, 1099, &exp));
	ck_assert(hv_stimer_expire(&T, 1100, &exp));
	ck_assert_uint_eq(exp, 1100);
	ck_assert(T.config & EN);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, 1200); /* phase kept when on time */
	ck_assert(hv_stimer_expire(&T, 1250, &exp));
	ck_assert_uint_eq(exp, 1200);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, 1300);
}
END_TEST

/* Missed periods are skipped: one expiry, then a full period from now. */
START_TEST(test_periodic_no_catch_up)
{
	u64 exp, due;
	ck_assert(hv_stimer_write_config(&T, EN | PER | SINT(1), 0, false));
	hv_stimer_write_count(&T, 100, 0);
	ck_assert(hv_stimer_expire(&T, 1050, &exp));
	ck_assert_uint_eq(exp, 100);
	ck_assert(hv_stimer_deadline(&T, &due));
	ck_assert_uint_eq(due, 1150);
	ck_assert(!hv_stimer_expire(&T, 1100, &exp));
}
END_TEST

START_TEST(test_tsc_deadline_conversion)
{
	/* 1 GHz TSC: 100 ticks per unit; rounded up, never early. */
	ck_assert_uint_eq(hv_stimer_tsc_deadline(1010, 1000, 5000, 1000000000ULL), 5000 + 1000);
	ck_assert_uint_eq(hv_stimer_tsc_deadline(900, 1000, 5000, 1000000000ULL), 5000);
	/* 3 MHz (Bochs-like): 0.3 ticks per unit, ceil. */
	ck_assert_uint_eq(hv_stimer_tsc_deadline(1001, 1000, 0, 3000000ULL), 1);
	ck_assert_uint_eq(hv_stimer_tsc_deadline(1010, 1000, 0, 3000000ULL), 3);
	/* Far away: capped at a day, no overflow. */
	u64 d = hv_stimer_tsc_deadline(UINT64_MAX, 0, 0, 4000000000ULL);
	ck_assert_uint_eq(d, 86400ULL * 4000000000ULL);
}
END_TEST

static Suite *stimer_suite(void)
{
	Suite *s = suite_create("hv_stimer");
	TCase *tc = tcase_create("stimer");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_oneshot_absolute_never_early);
	tcase_add_test(tc, test_oneshot_in_the_past_fires_at_once);
	tcase_add_test(tc, test_huge_period_never_fires);
	tcase_add_test(tc, test_count_zero_disables);
	tcase_add_test(tc, test_no_auto_enable_needs_enable);
	tcase_add_test(tc, test_enable_without_target_reads_disabled);
	tcase_add_test(tc, test_config_refusals);
	tcase_add_test(tc, test_periodic_period_from_enable);
	tcase_add_test(tc, test_periodic_no_catch_up);
	tcase_add_test(tc, test_tsc_deadline_conversion);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stimer_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
