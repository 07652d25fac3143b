/* unit-sources: kernel/mm/frame_alloc.c tests/unit/fake_printk.c */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/mm/frame_alloc.h"
#include "tests/unit/fake_printk.h"

/* Physical addresses here are plain numbers; the only memory the allocator
 * writes is the bitmap, a heap buffer of exactly the planned size standing in
 * for the physical range frame_alloc_place_bitmap picked. */
static struct frame_allocator fa;
static void *bitmap_mem;
static u64 bitmap_pa, bitmap_bytes;

static void setup(void)
{
	fake_printk_reset();
	memset(&fa, 0x5a, sizeof(fa));
	bitmap_mem = NULL;
}

static void teardown(void)
{
	free(bitmap_mem);
}

static void bring_up(const struct mem_region *m, u32 n, const struct frame_range *r, u32 nr)
{
	bitmap_bytes = frame_alloc_plan(&fa, m, n, r, nr);
	ck_assert_uint_gt(bitmap_bytes, 0);
	bitmap_pa = frame_alloc_place_bitmap(&fa, bitmap_bytes);
	ck_assert_uint_ne(bitmap_pa, 0);
	bitmap_mem = malloc(bitmap_bytes);
	frame_alloc_attach_bitmap(&fa, bitmap_mem);
	ck_assert(fa.live);
}

/* A PC-like map: low RAM, legacy holes, 32 MiB of RAM, firmware below 4 GiB,
 * 8 MiB above 4 GiB. */
static const struct mem_region pc_map[] = {
	{ 0x0, 0x9fc00, MEM_USABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0xf0000, 0x10000, MEM_RESERVED },
	{ 0x100000, 0x1f00000, MEM_USABLE },
	{ 0xfffc0000, 0x40000, MEM_RESERVED },
	{ 0x100000000ULL, 0x800000, MEM_USABLE },
};

/* First MiB, the image, a module and the boot information block, the last
 * two deliberately not page aligned. */
static const struct frame_range pc_reserved[] = {
	{ 0x0, 0x100000 },
	{ 0x100000, 0x300000 },
	{ 0x500123, 0x600005 },
	{ 0x700010, 0x700400 },
};

/* 512 + 255 + 6399 frames below 4 GiB, 2048 above, minus the bitmap. */
#define PC_FREE_BEFORE_BITMAP 9214ULL
#define PC_BITMAP_BYTES (0x100500ULL / 8)
#define PC_BITMAP_FRAMES ((PC_BITMAP_BYTES + 4095) / 4096)
#define PC_FREE (PC_FREE_BEFORE_BITMAP - PC_BITMAP_FRAMES)

static void pc_up(void)
{
	bring_up(pc_map, ARRAY_SIZE(pc_map), pc_reserved, ARRAY_SIZE(pc_reserved));
}

static bool in_range(u64 pa, u64 base, u64 end)
{
	return pa >= base && pa < end;
}

/* Everything a frame handed out must never be. */
static void assert_frame_allowed(u64 pa)
{
	ck_assert_uint_ne(pa, 0);
	ck_assert_uint_eq(pa % PAGE_SIZE, 0);
	ck_assert_uint_ge(pa, 0x100000);
	for (u32 i = 0; i < ARRAY_SIZE(pc_reserved); i++)
		ck_assert_msg(!in_range(pa, ALIGN_DOWN(pc_reserved[i].base, PAGE_SIZE),
					ALIGN_UP(pc_reserved[i].end, PAGE_SIZE)),
			      "reserved frame 0x%llx handed out", (unsigned long long)pa);
	ck_assert(!in_range(pa, bitmap_pa, bitmap_pa + ALIGN_UP(bitmap_bytes, PAGE_SIZE)));
	bool usable = false;
	for (u32 i = 0; i < ARRAY_SIZE(pc_map); i++) {
		if (in_range(pa, pc_map[i].base, pc_map[i].base + pc_map[i].len) &&
		    pa + PAGE_SIZE <= pc_map[i].base + pc_map[i].len)
			usable = pc_map[i].type == MEM_USABLE;
	}
	ck_assert_msg(usable, "frame 0x%llx is not usable RAM", (unsigned long long)pa);
}

/* Allocates single frames until none is left; returns how many, and stores
 * them in got[0..cap) when got is non-NULL (more than cap fails the test). */
static u64 drain(u64 *got, u64 cap, u64 max_end)
{
	u64 n = 0, pa;
	while ((pa = frame_alloc(&fa, 1, 0, max_end)) != 0) {
		if (got) {
			ck_assert_uint_lt(n, cap);
			got[n] = pa;
		}
		n++;
		ck_assert_uint_le(n, 1u << 22);
	}
	return n;
}

START_TEST(test_plan_and_counts)
{
	u64 bytes = frame_alloc_plan(&fa, pc_map, ARRAY_SIZE(pc_map), pc_reserved,
				     ARRAY_SIZE(pc_reserved));
	ck_assert_uint_eq(bytes, PC_BITMAP_BYTES);
	ck_assert_uint_eq(bytes % 8, 0);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE_BEFORE_BITMAP);
	u64 pa = frame_alloc_place_bitmap(&fa, bytes);
	/* Lowest range that holds it: right after the image. */
	ck_assert_uint_eq(pa, 0x300000);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);
	bitmap_mem = malloc(bytes);
	frame_alloc_attach_bitmap(&fa, bitmap_mem);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_reserved_never_handed_out)
{
	pc_up();
	u64 *got = malloc(PC_FREE * sizeof(u64));
	u64 n = drain(got, PC_FREE, 0);
	ck_assert_uint_eq(n, PC_FREE);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 0);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, 0), 0);

	/* Every frame allowed, none twice. */
	u8 *seen = calloc(1, (0x100800000ULL >> PAGE_SHIFT));
	for (u64 i = 0; i < n; i++) {
		assert_frame_allowed(got[i]);
		ck_assert(!seen[got[i] >> PAGE_SHIFT]);
		seen[got[i] >> PAGE_SHIFT] = 1;
	}
	free(seen);
	free(got);
}
END_TEST

START_TEST(test_frame_zero_never_handed_out)
{
	/* Nothing reserved by the caller: frame 0 is still excluded, because 0
	 * is the failure value. */
	struct mem_region m[] = { { 0x0, 0x10000, MEM_USABLE } };
	bring_up(m, 1, NULL, 0);
	ck_assert_uint_eq(bitmap_pa, 0x1000);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 14);
	u64 got[16];
	ck_assert_uint_eq(drain(got, ARRAY_SIZE(got), 0), 14);
	for (u32 i = 0; i < 14; i++)
		ck_assert_uint_eq(got[i], 0x2000 + i * PAGE_SIZE);
}
END_TEST

START_TEST(test_alignment)
{
	pc_up();
	u64 a = frame_alloc(&fa, 1, 2 * MIB, 0);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_eq(a % (2 * MIB), 0);
	assert_frame_allowed(a);

	u64 b = frame_alloc(&fa, 16, 64 * 1024, 0);
	ck_assert_uint_ne(b, 0);
	ck_assert_uint_eq(b % (64 * 1024), 0);
	for (u64 i = 0; i < 16; i++)
		assert_frame_allowed(b + i * PAGE_SIZE);

	/* The only 1 GiB aligned usable frame is at 4 GiB. */
	ck_assert_uint_eq(frame_alloc(&fa, 1, GIB, 0), 4 * GIB);
	ck_assert_uint_eq(frame_alloc(&fa, 1, GIB, 0), 0);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 4 * GIB, 0), 0);
	/* 2 MiB run that must start 2 MiB aligned: [0x100200000, +2M) is free. */
	u64 c = frame_alloc(&fa, 512, 2 * MIB, 0);
	ck_assert_uint_eq(c % (2 * MIB), 0);
	ck_assert_uint_ge(c, 0x800000);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE - 1 - 16 - 1 - 512);
}
END_TEST

START_TEST(test_alignment_with_odd_base)
{
	/* Managed memory starts at an odd frame, so bit index and physical
	 * frame number disagree about alignment. */
	struct mem_region m[] = { { 0x103000, 0x200000, MEM_USABLE } };
	bring_up(m, 1, NULL, 0);
	for (int i = 0; i < 20; i++) {
		u64 pa = frame_alloc(&fa, 3, 0x8000, 0);
		ck_assert_uint_ne(pa, 0);
		ck_assert_uint_eq(pa % 0x8000, 0);
		ck_assert_uint_ge(pa, 0x103000 + PAGE_SIZE);
	}
}
END_TEST

START_TEST(test_bad_alignment_rejected)
{
	pc_up();
	ck_assert_uint_eq(frame_alloc(&fa, 1, 3000, 0), 0);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0x3000, 0), 0);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0x800, 0), 0);
	ck_assert_int_eq(fake_printk_problems(), 3);
	ck_assert(fake_printk_contains("frame: alignment"));
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);
	ck_assert_uint_ne(frame_alloc(&fa, 1, 0, 0), 0);
}
END_TEST

START_TEST(test_max_end)
{
	pc_up();
	u64 pa = frame_alloc(&fa, 4, 0, 0x400000);
	ck_assert_uint_ne(pa, 0);
	ck_assert_uint_le(pa + 4 * PAGE_SIZE, 0x400000);

	/* Nothing below 3 MiB is free (first MiB, image). */
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, 0x300000), 0);

	/* max_end not on a page boundary: the frame must end at or below it. */
	u64 first = 0x300000 + PC_BITMAP_FRAMES * PAGE_SIZE + 4 * PAGE_SIZE;
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, first + PAGE_SIZE - 1), 0);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, first + PAGE_SIZE), first);

	/* Drain everything below 4 GiB; memory above remains. */
	u64 n = drain(NULL, 0, 4 * GIB);
	ck_assert_uint_eq(n, PC_FREE - 2048 - 5);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 2048);
	u64 hi = frame_alloc(&fa, 1, 0, 0);
	ck_assert_uint_ge(hi, 4 * GIB);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, 4 * GIB), 0);
}
END_TEST

START_TEST(test_exhaustion)
{
	struct mem_region m[] = { { 0x100000, 0x20000, MEM_USABLE } }; /* 32 frames */
	bring_up(m, 1, NULL, 0);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 31);
	ck_assert_uint_eq(frame_alloc(&fa, 32, 0, 0), 0);
	ck_assert_uint_eq(frame_alloc(&fa, ~0ULL, 0, 0), 0);
	u64 all = frame_alloc(&fa, 31, 0, 0);
	ck_assert_uint_eq(all, 0x101000);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, 0), 0);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 0);

	/* Fragmentation: 15 frames free, but never two in a row. */
	for (u64 i = 1; i < 31; i += 2)
		frame_free(&fa, all + i * PAGE_SIZE, 1);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 15);
	ck_assert_uint_eq(frame_alloc(&fa, 2, 0, 0), 0);
	ck_assert_uint_ne(frame_alloc(&fa, 1, 0, 0), 0);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_double_free)
{
	pc_up();
	u64 p = frame_alloc(&fa, 1, 0, 0);
	frame_free(&fa, p, 1);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);
	ck_assert_int_eq(fake_printk_problems(), 0);
	frame_free(&fa, p, 1);
	ck_assert(fake_printk_contains("frame: double free"));
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);

	/* Half of a range already freed: the whole call is refused. */
	fake_printk_reset();
	u64 q = frame_alloc(&fa, 4, 0, 0);
	frame_free(&fa, q, 2);
	frame_free(&fa, q, 4);
	ck_assert_int_eq(fake_printk_problems(), 1);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE - 2);
	frame_free(&fa, q + 2 * PAGE_SIZE, 2);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);
	ck_assert_int_eq(fake_printk_problems(), 1);
	/* And the state is intact: everything can still be allocated once. */
	ck_assert_uint_eq(drain(NULL, 0, 0), PC_FREE);
}
END_TEST

START_TEST(test_free_outside_managed_memory)
{
	pc_up();
	u64 p = frame_alloc(&fa, 1, 0, 0);
	struct {
		u64 pa, count;
		const char *msg;
	} bad[] = {
		{ 0x200000, 1, "outside managed memory" },       /* image */
		{ 0x500000, 1, "outside managed memory" },       /* widened module */
		{ 0x300000, 1, "outside managed memory" },       /* the bitmap */
		{ 0x9000000, 1, "outside managed memory" },      /* hole */
		{ 0x1000, 1, "outside managed memory" },         /* first MiB */
		{ 0x200000000ULL, 1, "outside managed memory" }, /* beyond the end */
		{ 0x1fff000, 2, "outside managed memory" },      /* runs into the hole */
		{ p, ~0ULL, "outside managed memory" },          /* absurd count */
		{ p + 0x10, 1, "unaligned" },
		{ p, 0, "zero frames" },
	};
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
		fake_printk_reset();
		frame_free(&fa, bad[i].pa, bad[i].count);
		ck_assert_msg(fake_printk_contains(bad[i].msg), "case %u: log was '%s'", i,
			      fake_printk_text());
		ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE - 1);
	}
	frame_free(&fa, p, 1);
	u64 *got = malloc(PC_FREE * sizeof(u64));
	ck_assert_uint_eq(drain(got, PC_FREE, 0), PC_FREE);
	for (u64 i = 0; i < PC_FREE; i++)
		assert_frame_allowed(got[i]);
	free(got);
}
END_TEST

START_TEST(test_round_trip)
{
	pc_up();
	/* Mixed sizes until nothing fits, then free all, then again. */
	for (int round = 0; round < 2; round++) {
		static u64 pa[20000], cnt[20000];
		u32 n = 0;
		u64 total = 0;
		static const u64 sizes[] = { 1, 3, 8, 1, 17, 2 };
		for (u32 k = 0;; k++) {
			u64 c = sizes[k % ARRAY_SIZE(sizes)];
			u64 p = frame_alloc(&fa, c, 0, 0);
			if (!p) {
				if (c == 1)
					break;
				continue;
			}
			pa[n] = p;
			cnt[n++] = c;
			total += c;
			ck_assert_uint_lt(n, 20000);
		}
		ck_assert_uint_eq(total, PC_FREE);
		ck_assert_uint_eq(frame_alloc_free_frames(&fa), 0);
		for (u32 i = 0; i < n; i++)
			frame_free(&fa, pa[i], cnt[i]);
		ck_assert_uint_eq(frame_alloc_free_frames(&fa), PC_FREE);
		ck_assert_int_eq(fake_printk_problems(), 0);
	}
	/* After the round trips every range is one free run again. */
	ck_assert_uint_eq(frame_alloc(&fa, 6399, 0, 0), 0x701000);
	ck_assert_uint_eq(frame_alloc(&fa, 2048, 0, 0), 4 * GIB);
	ck_assert_uint_eq(frame_alloc(&fa, 512 - PC_BITMAP_FRAMES, 0, 0), 0x321000);
	ck_assert_uint_eq(frame_alloc(&fa, 255, 0, 0), 0x601000);
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), 0);
}
END_TEST

START_TEST(test_unsanitized_map)
{
	/* Overlapping reserved/NVS entries inside usable RAM, a sub-page NVS
	 * entry and an unaligned usable region. */
	struct mem_region m[] = {
		{ 0x100000, 0xf00000, MEM_USABLE },
		{ 0x400000, 0x100000, MEM_RESERVED },
		{ 0x800010, 0x8, MEM_ACPI_NVS },
		{ 0x2000800, 0x2800, MEM_USABLE },
		{ 0x5000000, 0x1000, 9 },
		{ 0x4fff000, 0x3000, MEM_USABLE },
	};
	bring_up(m, ARRAY_SIZE(m), NULL, 0);
	/* 0xf00 frames - 256 reserved - 1 NVS page; 2 frames of the unaligned
	 * region; 2 of the last region around the unknown-type page; minus the
	 * bitmap page. */
	u64 expect = 0xf00 - 0x100 - 1 + 2 + 2 - 1;
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), expect);
	u64 got[4096];
	ck_assert_uint_eq(drain(got, ARRAY_SIZE(got), 0), expect);
	for (u64 i = 0; i < expect; i++) {
		ck_assert(!in_range(got[i], 0x400000, 0x500000));
		ck_assert_uint_ne(got[i], 0x800000);
		ck_assert_uint_ne(got[i], 0x5000000);
		ck_assert_uint_ne(got[i], 0x2000000);
		ck_assert_uint_ne(got[i], 0x2003000);
	}
}
END_TEST

START_TEST(test_not_live_and_bad_plans)
{
	struct mem_region m[] = { { 0x100000, 0x100000, MEM_USABLE } };
	ck_assert_uint_gt(frame_alloc_plan(&fa, m, 1, NULL, 0), 0);
	ck_assert_uint_eq(frame_alloc(&fa, 1, 0, 0), 0);
	frame_free(&fa, 0x101000, 1);
	ck_assert_int_eq(fake_printk_problems(), 2);
	/* Bitmap space smaller than the plan asked for. */
	ck_assert_uint_eq(frame_alloc_place_bitmap(&fa, 0), 0);
	ck_assert_int_eq(fake_printk_problems(), 3);

	/* No usable memory at all, or all of it reserved. */
	fake_printk_reset();
	struct mem_region r[] = { { 0x100000, 0x100000, MEM_RESERVED } };
	ck_assert_uint_eq(frame_alloc_plan(&fa, r, 1, NULL, 0), 0);
	struct frame_range all = { 0, 0x300000 };
	ck_assert_uint_eq(frame_alloc_plan(&fa, m, 1, &all, 1), 0);
	ck_assert_int_eq(fake_printk_problems(), 2);

	/* A backwards reserved range is reported. */
	fake_printk_reset();
	struct frame_range backwards = { 0x180000, 0x170000 };
	ck_assert_uint_gt(frame_alloc_plan(&fa, m, 1, &backwards, 1), 0);
	ck_assert(fake_printk_contains("ends before it starts"));

	/* A usable region beyond the physical address limit is ignored. */
	fake_printk_reset();
	struct mem_region far[] = { { 0x100000, 0x100000, MEM_USABLE },
				    { 1ULL << 60, 0x100000, MEM_USABLE } };
	ck_assert_uint_eq(frame_alloc_plan(&fa, far, 2, NULL, 0), 8 * 4);
	ck_assert(fake_printk_contains("physical address limit"));
}
END_TEST

START_TEST(test_too_many_ranges)
{
	/* 300 reserved pages punched into one region need more ranges than the
	 * allocator keeps: the excess memory is dropped, never a reserved page
	 * handed out. */
	struct mem_region m[] = { { 0x100000, 600 * PAGE_SIZE, MEM_USABLE } };
	static struct frame_range res[300];
	for (u32 i = 0; i < 300; i++) {
		res[i].base = 0x100000 + (2 * i + 1) * PAGE_SIZE;
		res[i].end = res[i].base + PAGE_SIZE;
	}
	bring_up(m, 1, res, 300);
	ck_assert(fake_printk_contains("more than 128 free ranges"));
	u64 got[600];
	u64 n = drain(got, ARRAY_SIZE(got), 0);
	ck_assert_uint_gt(n, 100);
	ck_assert_uint_le(n, FRAME_MAX_RANGES);
	for (u64 i = 0; i < n; i++)
		ck_assert_uint_eq(((got[i] - 0x100000) >> PAGE_SHIFT) % 2, 0);
}
END_TEST

START_TEST(test_random_stress)
{
	struct mem_region m[] = {
		{ 0x100000, 0x80000, MEM_USABLE },
		{ 0x200000, 0x40000, MEM_USABLE },
		{ 0x203000, 0x2000, MEM_RESERVED },
		{ 0x400000, 0x100000, MEM_USABLE },
	};
	bring_up(m, ARRAY_SIZE(m), NULL, 0);
	u64 initial = frame_alloc_free_frames(&fa);
	static u8 owner[0x500];
	memset(owner, 0, sizeof(owner));
	struct {
		u64 pa, count;
	} live[512];
	u32 n_live = 0;
	u64 used = 0;

	srand(7);
	for (int iter = 0; iter < 20000; iter++) {
		if (n_live < 512 && (rand() % 3 != 0 || n_live == 0)) {
			u64 count = 1 + (u64)(rand() % 8);
			u64 align = PAGE_SIZE << (rand() % 4);
			u64 max_end = rand() % 4 ? 0 : 0x100000 + (u64)(rand() % 0x400) * PAGE_SIZE;
			u64 pa = frame_alloc(&fa, count, align, max_end);
			if (!pa)
				continue;
			ck_assert_uint_eq(pa % align, 0);
			if (max_end)
				ck_assert_uint_le(pa + count * PAGE_SIZE, max_end);
			for (u64 f = 0; f < count; f++) {
				u64 fr = (pa >> PAGE_SHIFT) + f;
				ck_assert_uint_lt(fr, ARRAY_SIZE(owner));
				ck_assert(!owner[fr]);
				ck_assert(fr < 0x203 || fr >= 0x205);
				owner[fr] = 1;
			}
			live[n_live].pa = pa;
			live[n_live++].count = count;
			used += count;
		} else {
			u32 k = (u32)rand() % n_live;
			frame_free(&fa, live[k].pa, live[k].count);
			for (u64 f = 0; f < live[k].count; f++)
				owner[(live[k].pa >> PAGE_SHIFT) + f] = 0;
			used -= live[k].count;
			live[k] = live[--n_live];
		}
		ck_assert_uint_eq(frame_alloc_free_frames(&fa), initial - used);
	}
	while (n_live) {
		frame_free(&fa, live[n_live - 1].pa, live[n_live - 1].count);
		n_live--;
	}
	ck_assert_uint_eq(frame_alloc_free_frames(&fa), initial);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("frame_alloc");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plan_and_counts);
	tcase_add_test(tc, test_reserved_never_handed_out);
	tcase_add_test(tc, test_frame_zero_never_handed_out);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_alignment_with_odd_base);
	tcase_add_test(tc, test_bad_alignment_rejected);
	tcase_add_test(tc, test_max_end);
	tcase_add_test(tc, test_exhaustion);
	tcase_add_test(tc, test_double_free);
	tcase_add_test(tc, test_free_outside_managed_memory);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_unsanitized_map);
	tcase_add_test(tc, test_not_live_and_bad_plans);
	tcase_add_test(tc, test_too_many_ranges);
	tcase_add_test(tc, test_random_stress);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(frame_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
