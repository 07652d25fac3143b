/* unit-sources: kernel/pvh.c tests/unit/fake_printk.c */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/lib/string.h"
#include "kernel/pvh.h"
#include "tests/unit/fake_printk.h"

/* ---- fake physical memory ----------------------------------------------
 * One readable window [FAKE_BASE, FAKE_BASE + size); every read outside it
 * fails, as an unmapped address would.  The window is a heap buffer of exactly
 * that size so ASan also sees any bypass of the reader. */
#define FAKE_BASE 0x100000ULL
#define FAKE_SIZE 0x10000u

struct fake_mem {
	u8 *buf;
	u64 size;
	unsigned reads;
};

static struct fake_mem fm;
static struct boot_info bi;

static bool fake_read(void *ctx, u64 pa, void *out, size_t len)
{
	struct fake_mem *m = ctx;
	m->reads++;
	if (pa < FAKE_BASE || pa - FAKE_BASE > m->size || len > m->size - (pa - FAKE_BASE))
		return false;
	memcpy(out, m->buf + (pa - FAKE_BASE), len);
	return true;
}

static const struct phys_reader reader = { fake_read, &fm };

static void setup(void)
{
	fake_printk_reset();
	fm.size = FAKE_SIZE;
	fm.buf = calloc(1, FAKE_SIZE);
	fm.reads = 0;
	memset(&bi, 0xa5, sizeof(bi));
}

static void teardown(void)
{
	free(fm.buf);
}

static void w32(u64 pa, u32 v)
{
	memcpy(fm.buf + (pa - FAKE_BASE), &v, 4);
}

static void w64(u64 pa, u64 v)
{
	memcpy(fm.buf + (pa - FAKE_BASE), &v, 8);
}

static void wstr(u64 pa, const char *s)
{
	memcpy(fm.buf + (pa - FAKE_BASE), s, strlen(s) + 1);
}

/* Layout used by most tests. */
#define SI (FAKE_BASE + 0x0)
#define CMDLINE (FAKE_BASE + 0x100)
#define MODLIST (FAKE_BASE + 0x1000)
#define MODCMD (FAKE_BASE + 0x2000)
#define MEMMAP (FAKE_BASE + 0x3000)
#define RSDP (FAKE_BASE + 0x4000)

static void start_info(u64 at, u32 version, u32 nr_mod, u64 modlist, u64 cmdline, u64 rsdp,
		       u64 memmap, u32 nr_map)
{
	w32(at, PVH_START_MAGIC);
	w32(at + 4, version);
	w32(at + 8, 0);
	w32(at + 12, nr_mod);
	w64(at + 16, modlist);
	w64(at + 24, cmdline);
	w64(at + 32, rsdp);
	if (version >= 1) {
		w64(at + 40, memmap);
		w32(at + 48, nr_map);
		w32(at + 52, 0);
	}
}

static void module(u32 i, u64 pa, u64 size, u64 cmd)
{
	u64 e = MODLIST + i * 32ULL;
	w64(e, pa);
	w64(e + 8, size);
	w64(e + 16, cmd);
	w64(e + 24, 0);
}

static void map_entry(u64 map, u32 i, u64 base, u64 len, u32 type)
{
	u64 e = map + i * 24ULL;
	w64(e, base);
	w64(e + 8, len);
	w32(e + 16, type);
	w32(e + 20, 0);
}

static void rsdp_at(u64 pa, u8 revision)
{
	u8 r[36];
	memset(r, 0x5a, sizeof(r));
	memcpy(r, "RSD PTR ", 8);
	r[15] = revision;
	memcpy(fm.buf + (pa - FAKE_BASE), r, revision >= 2 ? 36 : 20);
}

static void basic_map(void)
{
	map_entry(MEMMAP, 0, 0, 0x9fc00, 1);
	map_entry(MEMMAP, 1, 0x9fc00, 0x400, 2);
	map_entry(MEMMAP, 2, 0x100000, 0x1ff00000, 1);
	map_entry(MEMMAP, 3, 0xfffc0000, 0x40000, 2);
}

START_TEST(test_good_v1)
{
	start_info(SI, 1, 2, MODLIST, CMDLINE, RSDP, MEMMAP, 4);
	wstr(CMDLINE, "console=ttyS0 hv.debug");
	module(0, 0x800000, 0x12345, MODCMD);
	module(1, 0x900000, 0x1000, 0);
	wstr(MODCMD, "guest.bin quiet");
	basic_map();
	rsdp_at(RSDP, 2);

	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_int_eq(fake_printk_problems(), 0);
	ck_assert_str_eq(bi.cmdline, "console=ttyS0 hv.debug");
	ck_assert_str_eq(bi.loader_name, "");
	ck_assert_uint_eq(bi.mod_count, 2);
	ck_assert_uint_eq(bi.mods[0].start, 0x800000);
	ck_assert_uint_eq(bi.mods[0].end, 0x812345);
	ck_assert_str_eq(bi.mods[0].cmdline, "guest.bin quiet");
	ck_assert_uint_eq(bi.mods[1].end, 0x901000);
	ck_assert_str_eq(bi.mods[1].cmdline, "");
	ck_assert_uint_eq(bi.mem_count, 4);
	ck_assert_uint_eq(bi.mem[2].base, 0x100000);
	ck_assert_uint_eq(bi.mem[2].len, 0x1ff00000);
	ck_assert_uint_eq(bi.mem[2].type, MEM_USABLE);
	ck_assert_uint_eq(bi.mem[3].type, MEM_RESERVED);
	ck_assert_uint_eq(bi.rsdp_phys, RSDP);
	ck_assert_uint_eq(bi.rsdp_len, 36);
	ck_assert_mem_eq(bi.rsdp, fm.buf + (RSDP - FAKE_BASE), 36);
	ck_assert_uint_eq(bi.info_start, SI);
	ck_assert_uint_eq(bi.info_end, SI + 56);
	ck_assert(!bi.load_base_valid);
}
END_TEST

START_TEST(test_rsdp_v1_at_end_of_memory)
{
	/* A 20-byte RSDP that ends exactly where readable memory ends: reading
	 * 36 bytes first would fail. */
	u64 rsdp = FAKE_BASE + FAKE_SIZE - 20;
	start_info(SI, 1, 0, 0, 0, rsdp, MEMMAP, 4);
	basic_map();
	rsdp_at(rsdp, 0);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_int_eq(fake_printk_problems(), 0);
	ck_assert_uint_eq(bi.rsdp_len, 20);
	ck_assert_uint_eq(bi.rsdp_phys, rsdp);
	ck_assert_mem_eq(bi.rsdp, "RSD PTR ", 8);
}
END_TEST

START_TEST(test_rsdp_v2_truncated)
{
	u64 rsdp = FAKE_BASE + FAKE_SIZE - 24;
	start_info(SI, 1, 0, 0, 0, rsdp, MEMMAP, 4);
	basic_map();
	rsdp_at(rsdp, 0);
	fm.buf[rsdp - FAKE_BASE + 15] = 2;
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.rsdp_len, 20);
	ck_assert(fake_printk_contains("v2 part is unreadable"));
}
END_TEST

START_TEST(test_rsdp_bad)
{
	start_info(SI, 1, 0, 0, 0, RSDP, MEMMAP, 4);
	basic_map();
	memcpy(fm.buf + (RSDP - FAKE_BASE), "RSD PTX ", 8);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.rsdp_len, 0);
	ck_assert_uint_eq(bi.rsdp_phys, 0);
	ck_assert(fake_printk_contains("signature"));

	fake_printk_reset();
	start_info(SI, 1, 0, 0, 0, 0xdead0000, MEMMAP, 4);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.rsdp_phys, 0);
	ck_assert(fake_printk_contains("RSDP at 0xdead0000 unreadable"));
}
END_TEST

START_TEST(test_bad_magic)
{
	start_info(SI, 1, 0, 0, 0, 0, MEMMAP, 4);
	w32(SI, 0x336ec579);
	ck_assert_int_lt(pvh_parse(&reader, SI, &bi), 0);
	ck_assert(fake_printk_contains("pvh: start_info magic"));
	ck_assert_uint_eq(bi.mem_count, 0);
}
END_TEST

START_TEST(test_start_info_unreadable)
{
	ck_assert_int_lt(pvh_parse(&reader, 0, &bi), 0);
	ck_assert_int_lt(pvh_parse(&reader, 0x5000, &bi), 0);
	ck_assert_int_lt(pvh_parse(&reader, FAKE_BASE + FAKE_SIZE - 20, &bi), 0);
	/* Address-space wrap must be refused before the reader is asked. */
	ck_assert_int_lt(pvh_parse(&reader, ~0ULL - 15, &bi), 0);
	ck_assert_int_eq(fake_printk_problems(), 4);
}
END_TEST

START_TEST(test_version0)
{
	/* A v0 structure in the last 40 readable bytes: the v1 fields must not
	 * be read. */
	u64 si = FAKE_BASE + FAKE_SIZE - 40;
	start_info(si, 0, 0, 0, CMDLINE, 0, 0, 0);
	wstr(CMDLINE, "v0");
	ck_assert_int_eq(pvh_parse(&reader, si, &bi), 0);
	ck_assert_str_eq(bi.cmdline, "v0");
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert_uint_eq(bi.info_end - bi.info_start, 40);
	ck_assert(fake_printk_contains("version 0 carries no memory map"));
}
END_TEST

START_TEST(test_version1_truncated)
{
	u64 si = FAKE_BASE + FAKE_SIZE - 40;
	start_info(si, 0, 0, 0, 0, 0, 0, 0);
	w32(si + 4, 1);
	ck_assert_int_lt(pvh_parse(&reader, si, &bi), 0);
	ck_assert(fake_printk_contains("truncated"));
}
END_TEST

START_TEST(test_future_version)
{
	start_info(SI, 7, 0, 0, 0, 0, MEMMAP, 4);
	basic_map();
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mem_count, 4);
	ck_assert_uint_eq(bi.info_end - bi.info_start, 56);
}
END_TEST

START_TEST(test_no_memmap)
{
	start_info(SI, 1, 0, 0, 0, 0, 0, 0);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert(fake_printk_contains("pvh: no memory map"));

	fake_printk_reset();
	start_info(SI, 1, 0, 0, 0, 0, 0xabc00000, 3);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert(fake_printk_contains("memory map entry 0"));
}
END_TEST

START_TEST(test_memmap_runs_off_memory)
{
	/* Two entries fit before the end of readable memory, the count says 10. */
	u64 map = FAKE_BASE + FAKE_SIZE - 2 * 24;
	start_info(SI, 1, 0, 0, 0, 0, map, 10);
	map_entry(map, 0, 0x100000, 0x100000, 1);
	map_entry(map, 1, 0x200000, 0x100000, 2);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mem_count, 2);
	ck_assert(fake_printk_contains("entry 2"));
}
END_TEST

START_TEST(test_memmap_absurd_count)
{
	/* Memory full of empty entries and a count of 4 billion: the walk must be
	 * bounded by the scan limit, not by the slot limit. */
	start_info(SI, 1, 0, 0, 0, 0, FAKE_BASE + 0x400, 0xffffffffu);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert(fake_printk_contains("only the first 1024 read"));
	ck_assert_uint_lt(fm.reads, PVH_MEMMAP_SCAN_MAX + 16);
}
END_TEST

START_TEST(test_memmap_too_many_and_odd_entries)
{
	start_info(SI, 1, 0, 0, 0, 0, MEMMAP, 300);
	map_entry(MEMMAP, 0, 0x1000, 0, 1); /* empty: dropped */
	map_entry(MEMMAP, 1, 0x2000, 0x1000, 7); /* PMEM: not RAM for us */
	map_entry(MEMMAP, 2, 0x3000, 0x1000, 0);
	for (u32 i = 3; i < 300; i++)
		map_entry(MEMMAP, i, 0x10000ULL * i, 0x1000, 1);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mem_count, BOOT_MAX_MEM_REGIONS);
	ck_assert_uint_eq(bi.mem[0].base, 0x2000);
	ck_assert_uint_eq(bi.mem[0].type, MEM_RESERVED);
	ck_assert_uint_eq(bi.mem[1].type, MEM_RESERVED);
	ck_assert_uint_eq(bi.mem[2].type, MEM_USABLE);
	ck_assert_uint_eq(bi.mem[127].base, 0x10000ULL * 128);
	ck_assert(fake_printk_contains("entries from 129 on ignored"));
}
END_TEST

START_TEST(test_modules_damaged)
{
	start_info(SI, 1, 4, MODLIST, 0, 0, MEMMAP, 4);
	basic_map();
	module(0, 0x800000, 0x1000, MODCMD);
	module(1, ~0ULL - 0xfff, 0x2000, 0); /* wraps */
	module(2, 0x900000, 0, 0x7777000); /* empty, cmdline unreadable */
	module(3, 0xa00000, 0x3000, 0);
	wstr(MODCMD, "one");
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mod_count, 3);
	ck_assert_str_eq(bi.mods[0].cmdline, "one");
	ck_assert_uint_eq(bi.mods[1].start, 0x900000);
	ck_assert_uint_eq(bi.mods[1].end, 0x900000);
	ck_assert_str_eq(bi.mods[1].cmdline, "");
	ck_assert_uint_eq(bi.mods[2].end, 0xa03000);
	ck_assert(fake_printk_contains("wraps"));
	ck_assert(fake_printk_contains("module command line at 0x7777000 unreadable"));
}
END_TEST

START_TEST(test_modules_too_many_or_missing_list)
{
	start_info(SI, 1, 40, MODLIST, 0, 0, MEMMAP, 4);
	basic_map();
	for (u32 i = 0; i < 40; i++)
		module(i, 0x1000000 + i * 0x10000ULL, 0x1000, 0);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mod_count, BOOT_MAX_MODULES);
	ck_assert_uint_eq(bi.mods[15].start, 0x1000000 + 15 * 0x10000ULL);
	ck_assert(fake_printk_contains("40 modules"));

	fake_printk_reset();
	start_info(SI, 1, 3, 0, 0, 0, MEMMAP, 4);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mod_count, 0);
	ck_assert(fake_printk_contains("without a module list"));

	/* A list that runs off readable memory after one entry. */
	fake_printk_reset();
	u64 list = FAKE_BASE + FAKE_SIZE - 32;
	start_info(SI, 1, 3, list, 0, 0, MEMMAP, 4);
	w64(list, 0x400000);
	w64(list + 8, 0x1000);
	w64(list + 16, 0);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(bi.mod_count, 1);
	ck_assert(fake_printk_contains("module list entry 1"));
}
END_TEST

START_TEST(test_cmdline_unterminated_at_end_of_memory)
{
	u64 cmd = FAKE_BASE + FAKE_SIZE - 5;
	start_info(SI, 1, 0, 0, cmd, 0, MEMMAP, 4);
	basic_map();
	memcpy(fm.buf + (cmd - FAKE_BASE), "hello", 5);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_str_eq(bi.cmdline, "hello");
	ck_assert(fake_printk_contains("unreadable after 5 bytes"));
}
END_TEST

START_TEST(test_cmdline_too_long)
{
	start_info(SI, 1, 1, MODLIST, FAKE_BASE + 0x8000, 0, MEMMAP, 4);
	basic_map();
	memset(fm.buf + 0x8000, 'x', 5000); /* NUL far beyond every buffer */
	module(0, 0x400000, 0x1000, FAKE_BASE + 0x8000);
	ck_assert_int_eq(pvh_parse(&reader, SI, &bi), 0);
	ck_assert_uint_eq(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	ck_assert_uint_eq(strlen(bi.mods[0].cmdline), BOOT_MODULE_CMDLINE_MAX - 1);
	ck_assert_int_eq(fake_printk_problems(), 2);
	/* Reading stops at the buffer size, not at the (distant) NUL. */
	ck_assert_uint_lt(fm.reads, BOOT_CMDLINE_MAX + BOOT_MODULE_CMDLINE_MAX + 64);
}
END_TEST

START_TEST(test_random_corruption)
{
	start_info(SI, 1, 2, MODLIST, CMDLINE, RSDP, MEMMAP, 4);
	wstr(CMDLINE, "console=ttyS0");
	module(0, 0x800000, 0x12345, MODCMD);
	module(1, 0x900000, 0x1000, 0);
	wstr(MODCMD, "guest");
	basic_map();
	rsdp_at(RSDP, 2);
	u8 *tmpl = malloc(FAKE_SIZE);
	memcpy(tmpl, fm.buf, FAKE_SIZE);
	static const u64 hot[] = { SI, MODLIST, MEMMAP, RSDP };

	srand(99);
	int ok = 0, bad = 0;
	for (int iter = 0; iter < 5000; iter++) {
		memcpy(fm.buf, tmpl, FAKE_SIZE);
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++) {
			u64 at = hot[rand() % 4] - FAKE_BASE + (u64)(rand() % 64);
			fm.buf[at] ^= (u8)(1u << (rand() % 8));
		}
		memset(&bi, 0xa5, sizeof(bi));
		int r = pvh_parse(&reader, SI, &bi);
		ck_assert(r == 0 || r == -1);
		ck_assert_uint_le(bi.mem_count, BOOT_MAX_MEM_REGIONS);
		ck_assert_uint_le(bi.mod_count, BOOT_MAX_MODULES);
		ck_assert_uint_lt(strnlen(bi.cmdline, sizeof(bi.cmdline)), sizeof(bi.cmdline));
		for (u32 m = 0; m < bi.mod_count; m++)
			ck_assert_uint_le(bi.mods[m].start, bi.mods[m].end);
		ck_assert(bi.rsdp_len == 0 || bi.rsdp_len == 20 || bi.rsdp_len == 36);
		if (r == 0)
			ok++;
		else
			bad++;
	}
	free(tmpl);
	ck_assert_int_gt(ok, 100);
	ck_assert_int_gt(bad, 10);
}
END_TEST

static Suite *pvh_suite(void)
{
	Suite *s = suite_create("pvh");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_good_v1);
	tcase_add_test(tc, test_rsdp_v1_at_end_of_memory);
	tcase_add_test(tc, test_rsdp_v2_truncated);
	tcase_add_test(tc, test_rsdp_bad);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_start_info_unreadable);
	tcase_add_test(tc, test_version0);
	tcase_add_test(tc, test_version1_truncated);
	tcase_add_test(tc, test_future_version);
	tcase_add_test(tc, test_no_memmap);
	tcase_add_test(tc, test_memmap_runs_off_memory);
	tcase_add_test(tc, test_memmap_absurd_count);
	tcase_add_test(tc, test_memmap_too_many_and_odd_entries);
	tcase_add_test(tc, test_modules_damaged);
	tcase_add_test(tc, test_modules_too_many_or_missing_list);
	tcase_add_test(tc, test_cmdline_unterminated_at_end_of_memory);
	tcase_add_test(tc, test_cmdline_too_long);
	tcase_add_test(tc, test_random_corruption);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pvh_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
