/* unit-sources: kernel/mm/memmap.c tests/unit/fake_printk.c */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/mm/memmap.h"
#include "tests/unit/fake_printk.h"

#define U MEM_USABLE
#define R MEM_RESERVED
#define A MEM_ACPI_RECLAIMABLE
#define N MEM_ACPI_NVS
#define B MEM_BAD

static struct mem_region out[256];

static void setup(void)
{
	fake_printk_reset();
	memset(out, 0xa5, sizeof(out));
}

static void expect(const struct mem_region *got, u32 n, const struct mem_region *want, u32 m)
{
	ck_assert_uint_eq(n, m);
	for (u32 i = 0; i < m; i++) {
		ck_assert_msg(got[i].base == want[i].base && got[i].len == want[i].len &&
				      got[i].type == want[i].type,
			      "region %u: got [0x%llx +0x%llx type %u], want [0x%llx +0x%llx type %u]",
			      i, (unsigned long long)got[i].base, (unsigned long long)got[i].len,
			      got[i].type, (unsigned long long)want[i].base,
			      (unsigned long long)want[i].len, want[i].type);
	}
}

#define RUN(in, want)                                                                   \
	expect(out, memmap_sanitize(in, ARRAY_SIZE(in), out, ARRAY_SIZE(out)), want, \
	       ARRAY_SIZE(want))

START_TEST(test_empty)
{
	ck_assert_uint_eq(memmap_sanitize(NULL, 0, out, 16), 0);
	struct mem_region in[] = { { 0x1000, 0, U }, { 0x5000, 0, R } };
	ck_assert_uint_eq(memmap_sanitize(in, 2, out, 16), 0);
}
END_TEST

START_TEST(test_clean_map_unchanged)
{
	struct mem_region in[] = {
		{ 0, 0x9fc00, U },
		{ 0x9fc00, 0x400, R },
		{ 0xf0000, 0x10000, R },
		{ 0x100000, 0x7ee0000, U },
		{ 0x7fe0000, 0x20000, A },
		{ 0xfffc0000, 0x40000, R },
	};
	RUN(in, in);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_unsorted_input)
{
	struct mem_region in[] = {
		{ 0x100000, 0x100000, U },
		{ 0x0, 0x1000, R },
		{ 0x300000, 0x1000, N },
	};
	struct mem_region want[] = {
		{ 0x0, 0x1000, R },
		{ 0x100000, 0x100000, U },
		{ 0x300000, 0x1000, N },
	};
	RUN(in, want);
}
END_TEST

START_TEST(test_zero_length_dropped)
{
	struct mem_region in[] = {
		{ 0x1000, 0x1000, U },
		{ 0x1800, 0, R }, /* would split the usable region if counted */
		{ 0x5000, 0, U },
	};
	struct mem_region want[] = { { 0x1000, 0x1000, U } };
	RUN(in, want);
}
END_TEST

START_TEST(test_reserved_inside_usable)
{
	struct mem_region in[] = {
		{ 0x100000, 0x1000000, U },
		{ 0x400000, 0x2000, R },
	};
	struct mem_region want[] = {
		{ 0x100000, 0x300000, U },
		{ 0x400000, 0x2000, R },
		{ 0x402000, 0xcfe000, U },
	};
	RUN(in, want);
}
END_TEST

START_TEST(test_partial_overlaps)
{
	/* Usable overlapping the start of ACPI, NVS overlapping its end. */
	struct mem_region in[] = {
		{ 0x1000, 0x3000, U },
		{ 0x3000, 0x3000, A },
		{ 0x5000, 0x2000, N },
	};
	struct mem_region want[] = {
		{ 0x1000, 0x2000, U },
		{ 0x3000, 0x2000, A },
		{ 0x5000, 0x2000, N },
	};
	RUN(in, want);
}
END_TEST

START_TEST(test_precedence_order_independent)
{
	static const u32 order[] = { U, A, R, N, B };
	for (u32 i = 0; i < 5; i++) {
		for (u32 j = 0; j < 5; j++) {
			struct mem_region in[2] = { { 0x1000, 0x1000, order[i] },
						    { 0x1000, 0x1000, order[j] } };
			ck_assert_uint_eq(memmap_sanitize(in, 2, out, 4), 1);
			ck_assert_uint_eq(out[0].type, order[MAX(i, j)]);
			ck_assert_uint_eq(out[0].base, 0x1000);
			ck_assert_uint_eq(out[0].len, 0x1000);
		}
	}
}
END_TEST

START_TEST(test_layered_overlaps)
{
	/* Five nested regions, strongest innermost, listed weakest last. */
	struct mem_region in[] = {
		{ 0x4000, 0x1000, B },
		{ 0x3000, 0x3000, N },
		{ 0x2000, 0x5000, R },
		{ 0x1000, 0x7000, A },
		{ 0x0000, 0x9000, U },
	};
	struct mem_region want[] = {
		{ 0x0000, 0x1000, U }, { 0x1000, 0x1000, A }, { 0x2000, 0x1000, R },
		{ 0x3000, 0x1000, N }, { 0x4000, 0x1000, B }, { 0x5000, 0x1000, N },
		{ 0x6000, 0x1000, R }, { 0x7000, 0x1000, A }, { 0x8000, 0x1000, U },
	};
	RUN(in, want);
}
END_TEST

START_TEST(test_merge_adjacent_same_type)
{
	struct mem_region in[] = {
		{ 0x3000, 0x1000, U },
		{ 0x1000, 0x1000, U },
		{ 0x2000, 0x1000, U },
		{ 0x4000, 0x1000, R },
		{ 0x5000, 0x1000, R },
		{ 0x6000, 0x1000, U },
		{ 0x8000, 0x1000, U }, /* hole before it: not merged */
	};
	struct mem_region want[] = {
		{ 0x1000, 0x3000, U },
		{ 0x4000, 0x2000, R },
		{ 0x6000, 0x1000, U },
		{ 0x8000, 0x1000, U },
	};
	RUN(in, want);
}
END_TEST

START_TEST(test_duplicates_and_contained)
{
	struct mem_region in[] = {
		{ 0x100000, 0x100000, U },
		{ 0x100000, 0x100000, U },
		{ 0x140000, 0x1000, U },
		{ 0x100000, 0x80000, U },
	};
	struct mem_region want[] = { { 0x100000, 0x100000, U } };
	RUN(in, want);
}
END_TEST

START_TEST(test_holes_stay_holes)
{
	struct mem_region in[] = {
		{ 0x0, 0x9fc00, U },
		{ 0x100000, 0x100000, U },
		{ 0x100000000ULL, 0x40000000ULL, U },
	};
	RUN(in, in);
}
END_TEST

START_TEST(test_wrapping_region_clamped)
{
	struct mem_region in[] = {
		{ 0xfffffffffffff000ULL, 0x2000, R },
		{ 0x1000, 0x1000, U },
	};
	struct mem_region want[] = {
		{ 0x1000, 0x1000, U },
		{ 0xfffffffffffff000ULL, 0xfff, R },
	};
	RUN(in, want);
	ck_assert(fake_printk_contains("memmap: region 0xfffffffffffff000 + 0x2000 wraps"));

	/* A wrapping usable region must still lose to a reserved one inside it. */
	fake_printk_reset();
	struct mem_region in2[] = {
		{ 0xffff000000000000ULL, ~0ULL, U },
		{ 0xffff000000001000ULL, 0x1000, B },
	};
	struct mem_region want2[] = {
		{ 0xffff000000000000ULL, 0x1000, U },
		{ 0xffff000000001000ULL, 0x1000, B },
		{ 0xffff000000002000ULL, ~0ULL - 0xffff000000002000ULL, U },
	};
	RUN(in2, want2);
	ck_assert_int_eq(fake_printk_problems(), 1);
}
END_TEST

START_TEST(test_unknown_types_are_reserved)
{
	struct mem_region in[] = {
		{ 0x1000, 0x3000, U },
		{ 0x2000, 0x1000, 7 },    /* e.g. persistent memory */
		{ 0x5000, 0x1000, 0 },
		{ 0x6000, 0x1000, R },    /* merges with the type-0 region */
		{ 0x8000, 0x2000, A },
		{ 0x8000, 0x1000, 12 },   /* beats reclaimable like reserved does */
	};
	struct mem_region want[] = {
		{ 0x1000, 0x1000, U }, { 0x2000, 0x1000, R }, { 0x3000, 0x1000, U },
		{ 0x5000, 0x2000, R }, { 0x8000, 0x1000, R }, { 0x9000, 0x1000, A },
	};
	RUN(in, want);
}
END_TEST

START_TEST(test_output_clamped)
{
	struct mem_region in[10];
	for (u32 i = 0; i < 10; i++) {
		in[i].base = 0x10000ULL * i;
		in[i].len = 0x1000;
		in[i].type = (i % 2) ? U : R;
	}
	u32 n = memmap_sanitize(in, 10, out, 4);
	ck_assert_uint_eq(n, 4);
	for (u32 i = 0; i < 4; i++)
		ck_assert_uint_eq(out[i].base, 0x10000ULL * i);
	/* Nothing written beyond max_out. */
	ck_assert_uint_eq(out[4].base, 0xa5a5a5a5a5a5a5a5ULL);
	ck_assert(fake_printk_contains("more than 4 regions"));

	fake_printk_reset();
	ck_assert_uint_eq(memmap_sanitize(in, 10, out, 0), 0);
	ck_assert_int_eq(fake_printk_problems(), 1);

	/* A merge at the limit needs no new slot and must not warn. */
	fake_printk_reset();
	struct mem_region two[] = { { 0x1000, 0x1000, U }, { 0x2000, 0x1000, U } };
	ck_assert_uint_eq(memmap_sanitize(two, 2, out, 1), 1);
	ck_assert_uint_eq(out[0].len, 0x2000);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_messy_firmware_map)
{
	/* Holes, overlaps, duplicates and an unsorted tail, the way buggy
	 * firmware reports them. */
	struct mem_region in[] = {
		{ 0x0, 0xa0000, U },
		{ 0x9f000, 0x1000, R },          /* EBDA overlapping low RAM */
		{ 0xe0000, 0x20000, R },
		{ 0x100000, 0x3ff00000, U },
		{ 0x3fff0000, 0x10000, A },      /* ACPI tables at the top of RAM */
		{ 0x3fff0000, 0x10000, U },      /* ...also claimed usable */
		{ 0x100000000ULL, 0x80000000ULL, U },
		{ 0xfec00000, 0x1000, R },
		{ 0xfee00000, 0x1000, R },
		{ 0x120000000ULL, 0x1000, B },
		{ 0x20000000, 0, R },
	};
	struct mem_region want[] = {
		{ 0x0, 0x9f000, U },
		{ 0x9f000, 0x1000, R },
		{ 0xe0000, 0x20000, R },
		{ 0x100000, 0x3fef0000, U },
		{ 0x3fff0000, 0x10000, A },
		{ 0xfec00000, 0x1000, R },
		{ 0xfee00000, 0x1000, R },
		{ 0x100000000ULL, 0x20000000ULL, U },
		{ 0x120000000ULL, 0x1000, B },
		{ 0x120001000ULL, 0x5ffff000ULL, U },
	};
	RUN(in, want);
}
END_TEST

/* Brute-force comparison on random maps: at every boundary-adjacent point the
 * output type must equal the strongest input type covering it. */
static int rank(u32 t)
{
	switch (t) {
	case U: return 0;
	case A: return 1;
	case N: return 3;
	case B: return 4;
	default: return 2;
	}
}

static u32 norm(u32 t)
{
	return (t >= 1 && t <= 5) ? t : R;
}

static u32 oracle(const struct mem_region *in, u32 n, u64 pt)
{
	int best = -1;
	u32 type = 0;
	for (u32 i = 0; i < n; i++) {
		if (in[i].len && pt >= in[i].base && pt - in[i].base < in[i].len &&
		    rank(in[i].type) > best) {
			best = rank(in[i].type);
			type = norm(in[i].type);
		}
	}
	return type;
}

static u32 lookup(const struct mem_region *m, u32 n, u64 pt)
{
	for (u32 i = 0; i < n; i++)
		if (pt >= m[i].base && pt - m[i].base < m[i].len)
			return m[i].type;
	return 0;
}

START_TEST(test_random_against_oracle)
{
	srand(4321);
	for (int iter = 0; iter < 3000; iter++) {
		struct mem_region in[24];
		u32 n = 1 + (u32)(rand() % 24);
		for (u32 i = 0; i < n; i++) {
			in[i].base = (u64)(rand() % 64) * 0x1000;
			in[i].len = (u64)(rand() % 16) * 0x1000;
			in[i].type = (u32)(rand() % 7);
		}
		u32 m = memmap_sanitize(in, n, out, 256);
		ck_assert_uint_le(m, 2 * n);
		for (u32 i = 0; i < m; i++) {
			ck_assert_uint_gt(out[i].len, 0);
			ck_assert(out[i].type >= 1 && out[i].type <= 5);
			if (i) {
				u64 prev_end = out[i - 1].base + out[i - 1].len;
				ck_assert_uint_le(prev_end, out[i].base);
				ck_assert(prev_end != out[i].base || out[i - 1].type != out[i].type);
			}
		}
		for (u64 pt = 0; pt < 80 * 0x1000; pt += 0x800)
			ck_assert_uint_eq(lookup(out, m, pt), oracle(in, n, pt));
	}
}
END_TEST

static Suite *memmap_suite(void)
{
	Suite *s = suite_create("memmap");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_clean_map_unchanged);
	tcase_add_test(tc, test_unsorted_input);
	tcase_add_test(tc, test_zero_length_dropped);
	tcase_add_test(tc, test_reserved_inside_usable);
	tcase_add_test(tc, test_partial_overlaps);
	tcase_add_test(tc, test_precedence_order_independent);
	tcase_add_test(tc, test_layered_overlaps);
	tcase_add_test(tc, test_merge_adjacent_same_type);
	tcase_add_test(tc, test_duplicates_and_contained);
	tcase_add_test(tc, test_holes_stay_holes);
	tcase_add_test(tc, test_wrapping_region_clamped);
	tcase_add_test(tc, test_unknown_types_are_reserved);
	tcase_add_test(tc, test_output_clamped);
	tcase_add_test(tc, test_messy_firmware_map);
	tcase_add_test(tc, test_random_against_oracle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(memmap_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
