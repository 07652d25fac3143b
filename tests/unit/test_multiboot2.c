/* unit-sources: kernel/multiboot2.c tests/unit/fake_printk.c */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/lib/string.h"
#include "kernel/multiboot2.h"
#include "tests/unit/fake_printk.h"

/* ---- block builder -----------------------------------------------------
 * Tags are assembled in a scratch buffer; mb_finish copies them into a heap
 * block of exactly total_size bytes so that ASan flags any read past it. */
struct mb {
	u8 buf[256 * 1024];
	u32 len;
};

static struct mb *mb_new(void)
{
	struct mb *b = calloc(1, sizeof(*b));
	b->len = 8;
	return b;
}

static void put32(struct mb *b, u32 v)
{
	memcpy(b->buf + b->len, &v, 4);
	b->len += 4;
}

static void put64(struct mb *b, u64 v)
{
	memcpy(b->buf + b->len, &v, 8);
	b->len += 8;
}

static void put_bytes(struct mb *b, const void *p, u32 n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void pad8(struct mb *b)
{
	while (b->len % 8)
		b->buf[b->len++] = 0;
}

/* A tag whose size field says exactly what follows. */
static void mb_tag(struct mb *b, u32 type, const void *payload, u32 n)
{
	put32(b, type);
	put32(b, 8 + n);
	put_bytes(b, payload, n);
	pad8(b);
}

/* A tag whose size field may lie about its payload. */
static void mb_tag_sized(struct mb *b, u32 type, u32 size, const void *payload, u32 n)
{
	put32(b, type);
	put32(b, size);
	put_bytes(b, payload, n);
	pad8(b);
}

static void mb_str(struct mb *b, u32 type, const char *s)
{
	mb_tag(b, type, s, (u32)strlen(s) + 1);
}

static void mb_end(struct mb *b)
{
	put32(b, 0);
	put32(b, 8);
}

static void mb_module(struct mb *b, u32 start, u32 end, const char *cmd)
{
	u32 n = (u32)strlen(cmd) + 1;
	put32(b, MB2_TAG_MODULE);
	put32(b, 16 + n);
	put32(b, start);
	put32(b, end);
	put_bytes(b, cmd, n);
	pad8(b);
}

struct ent {
	u64 base, len;
	u32 type;
};

static void mb_mmap(struct mb *b, u32 esize, const struct ent *e, u32 n)
{
	put32(b, MB2_TAG_MMAP);
	put32(b, 16 + esize * n);
	put32(b, esize);
	put32(b, 0);
	for (u32 i = 0; i < n; i++) {
		u32 start = b->len;
		put64(b, e[i].base);
		put64(b, e[i].len);
		put32(b, e[i].type);
		put32(b, 0);
		while (b->len < start + esize)
			b->buf[b->len++] = 0xee;
	}
	pad8(b);
}

/* Blocks in tests that count warnings carry a map, so that "no memory map"
 * does not add to the count. */
static void mb_some_mmap(struct mb *b)
{
	struct ent e = { 0x100000, 0x1000000, MEM_USABLE };
	mb_mmap(b, 24, &e, 1);
}

static void make_rsdp(u8 *r, u32 len, u8 tag)
{
	memset(r, tag, len);
	memcpy(r, "RSD PTR ", 8);
}

/* Copies the block out at exactly `total` bytes (normally b->len) and
 * stores `declared` as total_size. */
static u8 *mb_finish_as(struct mb *b, u32 total, u32 declared)
{
	memcpy(b->buf, &declared, 4);
	memset(b->buf + 4, 0, 4);
	u8 *blk = malloc(total ? total : 1);
	memcpy(blk, b->buf, total);
	free(b);
	return blk;
}

static u8 *mb_finish(struct mb *b)
{
	return mb_finish_as(b, b->len, b->len);
}

static struct boot_info bi;

static void setup(void)
{
	fake_printk_reset();
	memset(&bi, 0xa5, sizeof(bi));
}

#define PHYS 0x10000ULL

static int parse(u8 *blk)
{
	int r = mb2_parse(blk, PHYS, &bi);
	free(blk);
	return r;
}

/* ---- good blocks ------------------------------------------------------- */

START_TEST(test_magic_value)
{
	ck_assert_uint_eq(MB2_BOOTLOADER_MAGIC, 0x36d76289u);
}
END_TEST

START_TEST(test_full_good_block)
{
	struct mb *b = mb_new();
	struct ent map[] = {
		{ 0, 0x9fc00, MEM_USABLE },
		{ 0x9fc00, 0x400, MEM_RESERVED },
		{ 0x100000, 0x7ee0000, MEM_USABLE },
		{ 0x7fe0000, 0x20000, MEM_ACPI_RECLAIMABLE },
	};
	u8 old[20], new[36];
	make_rsdp(old, 20, 0x11);
	make_rsdp(new, 36, 0x22);
	u32 base = 0x200000;

	mb_str(b, MB2_TAG_CMDLINE, "console=ttyS0 hv.debug");
	mb_str(b, MB2_TAG_LOADER_NAME, "GRUB 2.06");
	mb_module(b, 0x400000, 0x480123, "guest.bin root=/dev/vda");
	mb_module(b, 0x500000, 0x500000, "");
	mb_tag(b, 99, "unknown!", 8);
	mb_mmap(b, 24, map, 4);
	mb_tag(b, MB2_TAG_ACPI_OLD, old, 20);
	mb_tag(b, MB2_TAG_ACPI_NEW, new, 36);
	mb_tag(b, MB2_TAG_LOAD_BASE, &base, 4);
	mb_end(b);
	u32 total = b->len;

	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_int_eq(fake_printk_problems(), 0);
	ck_assert_str_eq(bi.cmdline, "console=ttyS0 hv.debug");
	ck_assert_str_eq(bi.loader_name, "GRUB 2.06");
	ck_assert_uint_eq(bi.mod_count, 2);
	ck_assert_uint_eq(bi.mods[0].start, 0x400000);
	ck_assert_uint_eq(bi.mods[0].end, 0x480123);
	ck_assert_str_eq(bi.mods[0].cmdline, "guest.bin root=/dev/vda");
	ck_assert_uint_eq(bi.mods[1].start, 0x500000);
	ck_assert_uint_eq(bi.mods[1].end, 0x500000);
	ck_assert_str_eq(bi.mods[1].cmdline, "");
	ck_assert_uint_eq(bi.mem_count, 4);
	for (u32 i = 0; i < 4; i++) {
		ck_assert_uint_eq(bi.mem[i].base, map[i].base);
		ck_assert_uint_eq(bi.mem[i].len, map[i].len);
		ck_assert_uint_eq(bi.mem[i].type, map[i].type);
	}
	ck_assert_uint_eq(bi.rsdp_len, 36);
	ck_assert_mem_eq(bi.rsdp, new, 36);
	ck_assert_uint_eq(bi.rsdp_phys, 0);
	ck_assert(bi.load_base_valid);
	ck_assert_uint_eq(bi.load_base, 0x200000);
	ck_assert_uint_eq(bi.info_start, PHYS);
	ck_assert_uint_eq(bi.info_end, PHYS + total);
}
END_TEST

START_TEST(test_minimal_block)
{
	struct mb *b = mb_new();
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert_uint_eq(bi.mod_count, 0);
	ck_assert_str_eq(bi.cmdline, "");
	ck_assert(!bi.load_base_valid);
	ck_assert_uint_eq(bi.rsdp_len, 0);
	ck_assert_uint_eq(bi.info_end - bi.info_start, 16);
	ck_assert(fake_printk_contains("mb2: no memory map"));
}
END_TEST

START_TEST(test_wide_mmap_entries)
{
	/* entry_size 32: the parser must step by entry_size, not by 24. */
	struct mb *b = mb_new();
	struct ent map[] = {
		{ 0x1000, 0x1000, MEM_USABLE },
		{ 0x100000, 0x100000, MEM_ACPI_NVS },
		{ 0x200000, 0x300000, MEM_BAD },
	};
	mb_mmap(b, 32, map, 3);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 3);
	ck_assert_uint_eq(bi.mem[2].base, 0x200000);
	ck_assert_uint_eq(bi.mem[2].len, 0x300000);
	ck_assert_uint_eq(bi.mem[2].type, MEM_BAD);
	ck_assert_uint_eq(bi.mem[1].type, MEM_ACPI_NVS);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_old_rsdp_only_and_order)
{
	u8 old[20], new[36];
	make_rsdp(old, 20, 0x11);
	make_rsdp(new, 36, 0x22);

	struct mb *b = mb_new();
	mb_tag(b, MB2_TAG_ACPI_OLD, old, 20);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.rsdp_len, 20);
	ck_assert_mem_eq(bi.rsdp, old, 20);

	/* The new copy wins even when the old one comes after it. */
	b = mb_new();
	mb_tag(b, MB2_TAG_ACPI_NEW, new, 36);
	mb_tag(b, MB2_TAG_ACPI_OLD, old, 20);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.rsdp_len, 36);
	ck_assert_mem_eq(bi.rsdp, new, 36);
}
END_TEST

START_TEST(test_tags_after_end_ignored)
{
	struct mb *b = mb_new();
	mb_str(b, MB2_TAG_CMDLINE, "first");
	mb_end(b);
	mb_str(b, MB2_TAG_LOADER_NAME, "after end");
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_str_eq(bi.cmdline, "first");
	ck_assert_str_eq(bi.loader_name, "");
}
END_TEST

/* ---- broken framing: refused ------------------------------------------- */

START_TEST(test_null_block)
{
	ck_assert_int_lt(mb2_parse(NULL, PHYS, &bi), 0);
	ck_assert(fake_printk_contains("mb2:"));
}
END_TEST

START_TEST(test_total_size_too_small)
{
	/* total_size 8 is only the header: no room for an end tag. */
	struct mb *b = mb_new();
	ck_assert_int_lt(parse(mb_finish(b)), 0);
	ck_assert(fake_printk_contains("below the minimum"));

	b = mb_new();
	ck_assert_int_lt(parse(mb_finish_as(b, 8, 0)), 0);
}
END_TEST

START_TEST(test_total_size_absurd)
{
	/* Only 16 bytes exist; a parser trusting total_size would overread. */
	struct mb *b = mb_new();
	mb_end(b);
	ck_assert_int_lt(parse(mb_finish_as(b, 16, 0xfffffff0u)), 0);
	ck_assert(fake_printk_contains("exceeds the limit"));

	b = mb_new();
	mb_end(b);
	ck_assert_int_lt(parse(mb_finish_as(b, 16, MB2_INFO_MAX_SIZE + 8)), 0);
}
END_TEST

START_TEST(test_total_size_at_limit)
{
	static u8 filler[MB2_INFO_MAX_SIZE];
	struct mb *b = mb_new();
	/* header 8 + tag header 8 + filler + end 8 == MB2_INFO_MAX_SIZE */
	mb_tag(b, 77, filler, MB2_INFO_MAX_SIZE - 24);
	mb_str(b, MB2_TAG_CMDLINE, "x");
	ck_assert_uint_gt(b->len, MB2_INFO_MAX_SIZE);
	ck_assert_int_lt(parse(mb_finish(b)), 0);

	b = mb_new();
	mb_tag(b, 77, filler, MB2_INFO_MAX_SIZE - 24);
	mb_end(b);
	ck_assert_uint_eq(b->len, MB2_INFO_MAX_SIZE);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.info_end - bi.info_start, MB2_INFO_MAX_SIZE);
}
END_TEST

START_TEST(test_misaligned_block)
{
	struct mb *b = mb_new();
	mb_end(b);
	u8 *blk = mb_finish(b);
	ck_assert_int_lt(mb2_parse(blk, PHYS + 4, &bi), 0);
	ck_assert(fake_printk_contains("not 8-byte aligned"));
	free(blk);
}
END_TEST

START_TEST(test_tag_size_below_header)
{
	for (u32 size = 0; size < 8; size++) {
		fake_printk_reset();
		struct mb *b = mb_new();
		mb_str(b, MB2_TAG_CMDLINE, "ok");
		put32(b, 42);
		put32(b, size);
		mb_end(b);
		ck_assert_int_lt(parse(mb_finish(b)), 0);
		ck_assert(fake_printk_contains("< 8"));
	}
}
END_TEST

START_TEST(test_tag_runs_past_total_size)
{
	struct mb *b = mb_new();
	mb_str(b, MB2_TAG_CMDLINE, "ok");
	/* Claims 64 bytes of payload, but the block ends after 8 more bytes. */
	mb_tag_sized(b, MB2_TAG_LOADER_NAME, 8 + 64, "GRUB", 5);
	ck_assert_int_lt(parse(mb_finish(b)), 0);
	ck_assert(fake_printk_contains("runs past total_size"));

	/* Same with a memory map whose size covers entries that are not there. */
	b = mb_new();
	struct ent e = { 0x100000, 0x100000, MEM_USABLE };
	mb_mmap(b, 24, &e, 1);
	u32 mmap_size_off = 8 + 4;
	u32 big = 16 + 24 * 10;
	memcpy(b->buf + mmap_size_off, &big, 4);
	mb_end(b);
	ck_assert_int_lt(parse(mb_finish(b)), 0);
}
END_TEST

START_TEST(test_truncated_tag_header)
{
	/* total_size leaves 4 bytes where the next tag header would start. */
	struct mb *b = mb_new();
	mb_str(b, MB2_TAG_CMDLINE, "ok");
	put32(b, 0);
	ck_assert_int_lt(parse(mb_finish(b)), 0);
	ck_assert(fake_printk_contains("tag header at offset"));
}
END_TEST

START_TEST(test_overlapping_tags)
{
	/* A memory map tag whose size stops after its entry_size/version: the
	 * walk then lands inside the entries and must not take an entry for a
	 * well-formed tag.  The entry base 0x100000 reads as type 0x100000,
	 * size 0 -> refused. */
	struct mb *b = mb_new();
	struct ent e[2] = { { 0x100000, 0x1000000, MEM_USABLE }, { 0x2000000, 0x1000, 2 } };
	mb_mmap(b, 24, e, 2);
	u32 small = 16;
	memcpy(b->buf + 12, &small, 4);
	mb_end(b);
	ck_assert_int_lt(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
}
END_TEST

/* ---- damaged tags: accepted with a warning ----------------------------- */

START_TEST(test_missing_end_tag)
{
	struct mb *b = mb_new();
	mb_str(b, MB2_TAG_CMDLINE, "no end");
	struct ent e = { 0x100000, 0x100000, MEM_USABLE };
	mb_mmap(b, 24, &e, 1);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert(fake_printk_contains("no end tag"));
	ck_assert_str_eq(bi.cmdline, "no end");
	ck_assert_uint_eq(bi.mem_count, 1);
}
END_TEST

START_TEST(test_end_tag_bad_size)
{
	struct mb *b = mb_new();
	u8 zero[8] = { 0 };
	mb_tag(b, MB2_TAG_END, zero, 8);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert(fake_printk_contains("end tag has size 16"));
}
END_TEST

START_TEST(test_mmap_entry_size_too_small)
{
	struct mb *b = mb_new();
	struct ent e[2] = { { 0x100000, 0x1000000, MEM_USABLE }, { 0, 0x1000, 1 } };
	mb_mmap(b, 24, e, 2);
	u32 es = 16;
	memcpy(b->buf + 16, &es, 4);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert(fake_printk_contains("entry_size 16 is invalid"));
}
END_TEST

START_TEST(test_mmap_entry_size_not_multiple_of_8)
{
	struct mb *b = mb_new();
	struct ent e[2] = { { 0x100000, 0x1000000, MEM_USABLE }, { 0, 0x1000, 1 } };
	mb_mmap(b, 28, e, 2);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert(fake_printk_contains("entry_size 28 is invalid"));
}
END_TEST

START_TEST(test_mmap_partial_entry)
{
	/* Two full entries plus 16 stray bytes at the very end of the block. */
	struct mb *b = mb_new();
	struct ent e[3] = { { 0x1000, 0x1000, 1 }, { 0x3000, 0x1000, 2 }, { 0x5000, 0x1000, 1 } };
	mb_mmap(b, 24, e, 3);
	u32 size = 16 + 24 * 2 + 16;
	memcpy(b->buf + 12, &size, 4);
	b->len = 8 + size;
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 2);
	ck_assert_uint_eq(bi.mem[1].base, 0x3000);
	ck_assert(fake_printk_contains("16 trailing bytes"));
}
END_TEST

START_TEST(test_mmap_tag_too_short)
{
	struct mb *b = mb_new();
	u32 es = 24;
	mb_tag(b, MB2_TAG_MMAP, &es, 4);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 0);
	ck_assert(fake_printk_contains("memory map tag payload of 4 bytes"));
}
END_TEST

START_TEST(test_mmap_zero_length_and_unknown_types)
{
	struct mb *b = mb_new();
	struct ent e[] = {
		{ 0x1000, 0, MEM_USABLE },
		{ 0x100000, 0x100000, 7 },
		{ 0x200000, 0x100000, 0 },
		{ 0x300000, 0x100000, MEM_USABLE },
	};
	mb_mmap(b, 24, e, 4);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, 3);
	ck_assert_uint_eq(bi.mem[0].base, 0x100000);
	ck_assert_uint_eq(bi.mem[0].type, MEM_RESERVED);
	ck_assert_uint_eq(bi.mem[1].type, MEM_RESERVED);
	ck_assert_uint_eq(bi.mem[2].type, MEM_USABLE);
}
END_TEST

START_TEST(test_mmap_too_many_entries)
{
	static struct ent e[200];
	for (u32 i = 0; i < 200; i++) {
		e[i].base = (u64)i * 0x10000;
		e[i].len = 0x8000;
		e[i].type = (i % 2) ? MEM_RESERVED : MEM_USABLE;
	}
	struct mb *b = mb_new();
	mb_mmap(b, 24, e, 200);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mem_count, BOOT_MAX_MEM_REGIONS);
	ck_assert_uint_eq(bi.mem[127].base, 127 * 0x10000ULL);
	ck_assert(fake_printk_contains("more than 128 entries"));
}
END_TEST

START_TEST(test_duplicate_tags)
{
	struct mb *b = mb_new();
	struct ent e1 = { 0x100000, 0x100000, MEM_USABLE };
	struct ent e2 = { 0x900000, 0x100000, MEM_USABLE };
	u8 new[36];
	make_rsdp(new, 36, 0x33);
	u32 lb1 = 0x200000, lb2 = 0x300000;
	mb_str(b, MB2_TAG_CMDLINE, "first");
	mb_str(b, MB2_TAG_CMDLINE, "second");
	mb_str(b, MB2_TAG_LOADER_NAME, "A");
	mb_str(b, MB2_TAG_LOADER_NAME, "B");
	mb_mmap(b, 24, &e1, 1);
	mb_mmap(b, 24, &e2, 1);
	mb_tag(b, MB2_TAG_ACPI_NEW, new, 36);
	new[9] = 0x44;
	mb_tag(b, MB2_TAG_ACPI_NEW, new, 36);
	mb_tag(b, MB2_TAG_LOAD_BASE, &lb1, 4);
	mb_tag(b, MB2_TAG_LOAD_BASE, &lb2, 4);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_str_eq(bi.cmdline, "first");
	ck_assert_str_eq(bi.loader_name, "A");
	ck_assert_uint_eq(bi.mem_count, 1);
	ck_assert_uint_eq(bi.mem[0].base, 0x100000);
	ck_assert_uint_eq(bi.rsdp[9], 0x33);
	ck_assert_uint_eq(bi.load_base, 0x200000);
	ck_assert_int_eq(fake_printk_problems(), 5);
	ck_assert(fake_printk_contains("duplicate command line"));
	ck_assert(fake_printk_contains("duplicate memory map"));
}
END_TEST

START_TEST(test_module_end_before_start)
{
	struct mb *b = mb_new();
	mb_module(b, 0x500000, 0x400000, "backwards");
	mb_module(b, 0x600000, 0x700000, "fine");
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mod_count, 1);
	ck_assert_str_eq(bi.mods[0].cmdline, "fine");
	ck_assert(fake_printk_contains("ends before it starts"));
}
END_TEST

START_TEST(test_module_too_short_and_no_string)
{
	struct mb *b = mb_new();
	u32 only_start = 0x400000;
	mb_tag(b, MB2_TAG_MODULE, &only_start, 4);
	u32 range[2] = { 0x400000, 0x401000 };
	mb_tag(b, MB2_TAG_MODULE, range, 8);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mod_count, 1);
	ck_assert_uint_eq(bi.mods[0].end, 0x401000);
	ck_assert_str_eq(bi.mods[0].cmdline, "");
	ck_assert(fake_printk_contains("module tag payload of 4 bytes"));
	ck_assert(fake_printk_contains("not NUL-terminated"));
}
END_TEST

START_TEST(test_too_many_modules)
{
	struct mb *b = mb_new();
	for (u32 i = 0; i < 20; i++)
		mb_module(b, 0x1000000 + i * 0x1000, 0x1000800 + i * 0x1000, "m");
	mb_some_mmap(b);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.mod_count, BOOT_MAX_MODULES);
	ck_assert_uint_eq(bi.mods[15].start, 0x1000000 + 15 * 0x1000);
	/* One warning, not one per extra module. */
	ck_assert_int_eq(fake_printk_problems(), 1);
}
END_TEST

START_TEST(test_unterminated_string_at_block_end)
{
	/* No end tag and no padding: the string's last byte is the block's last
	 * byte, so looking one byte further for a NUL trips ASan. */
	struct mb *b = mb_new();
	put32(b, MB2_TAG_CMDLINE);
	put32(b, 8 + 3);
	put_bytes(b, "abc", 3);
	ck_assert_uint_eq(b->len, 19);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_str_eq(bi.cmdline, "abc");
	ck_assert(fake_printk_contains("command line is not NUL-terminated"));
}
END_TEST

START_TEST(test_long_strings_truncated)
{
	static char big[3000];
	memset(big, 'q', sizeof(big) - 1);
	struct mb *b = mb_new();
	mb_str(b, MB2_TAG_CMDLINE, big);
	mb_str(b, MB2_TAG_LOADER_NAME, big);
	mb_module(b, 0x100000, 0x200000, big);
	mb_some_mmap(b);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	ck_assert_uint_eq(strlen(bi.loader_name), BOOT_LOADER_NAME_MAX - 1);
	ck_assert_uint_eq(strlen(bi.mods[0].cmdline), BOOT_MODULE_CMDLINE_MAX - 1);
	ck_assert_int_eq(fake_printk_problems(), 3);
}
END_TEST

START_TEST(test_acpi_tags_damaged)
{
	u8 r[36];
	make_rsdp(r, 36, 0x55);
	struct mb *b = mb_new();
	mb_tag(b, MB2_TAG_ACPI_NEW, r, 30); /* too short for v2 */
	r[0] = 'X';
	mb_tag(b, MB2_TAG_ACPI_OLD, r, 20); /* wrong signature */
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert_uint_eq(bi.rsdp_len, 0);
	ck_assert(fake_printk_contains("holds 30 bytes, needs 36"));
	ck_assert(fake_printk_contains("signature"));
}
END_TEST

START_TEST(test_load_base_too_short)
{
	struct mb *b = mb_new();
	u16 half = 0x20;
	mb_tag(b, MB2_TAG_LOAD_BASE, &half, 2);
	mb_end(b);
	ck_assert_int_eq(parse(mb_finish(b)), 0);
	ck_assert(!bi.load_base_valid);
	ck_assert(fake_printk_contains("load base tag payload of 2 bytes"));
}
END_TEST

/* ---- mutation run ------------------------------------------------------
 * Random corruption of a good block: whatever happens, the parser must stay
 * inside the block (ASan) and leave a self-consistent boot_info. */
START_TEST(test_random_corruption)
{
	struct mb *good = mb_new();
	struct ent map[] = {
		{ 0, 0x9fc00, 1 }, { 0x100000, 0x1000000, 1 }, { 0xfee00000, 0x1000, 2 },
	};
	u8 new[36];
	make_rsdp(new, 36, 0x66);
	mb_str(good, MB2_TAG_CMDLINE, "console=ttyS0");
	mb_module(good, 0x400000, 0x500000, "mod");
	mb_mmap(good, 24, map, 3);
	mb_tag(good, MB2_TAG_ACPI_NEW, new, 36);
	mb_end(good);
	u32 len = good->len;
	u8 *tmpl = malloc(len);
	memcpy(tmpl, good->buf, len);
	memcpy(tmpl, &len, 4);
	free(good);

	static u8 scratch[MB2_INFO_MAX_SIZE];
	srand(1234);
	int refused = 0, accepted = 0;
	for (int iter = 0; iter < 20000; iter++) {
		memset(scratch, 0, sizeof(scratch));
		memcpy(scratch, tmpl, len);
		if (rand() % 8 == 0) {
			u32 cut = 8 + (u32)rand() % (len - 8);
			memcpy(scratch, &cut, 4);
		}
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++)
			scratch[rand() % len] ^= (u8)(1u << (rand() % 8));
		if (rand() % 4 == 0) {
			u32 t = (u32)rand() % (len + 64);
			memcpy(scratch, &t, 4);
		}
		/* The block handed over is exactly as long as it claims to be
		 * (only its first 8 bytes when the claim is absurd), so any read
		 * past total_size is an ASan error. */
		u32 t;
		memcpy(&t, scratch, 4);
		u32 n = t > MB2_INFO_MAX_SIZE ? 8 : MAX(t, 8u);
		u8 *blk = malloc(n);
		memcpy(blk, scratch, n);
		memset(&bi, 0xa5, sizeof(bi));
		int r = mb2_parse(blk, PHYS, &bi);
		free(blk);
		ck_assert(r == 0 || r == -1);
		ck_assert_uint_le(bi.mem_count, BOOT_MAX_MEM_REGIONS);
		ck_assert_uint_le(bi.mod_count, BOOT_MAX_MODULES);
		ck_assert_uint_lt(strnlen(bi.cmdline, sizeof(bi.cmdline)), sizeof(bi.cmdline));
		ck_assert_uint_lt(strnlen(bi.loader_name, sizeof(bi.loader_name)),
				  sizeof(bi.loader_name));
		ck_assert(bi.rsdp_len == 0 || bi.rsdp_len == 20 || bi.rsdp_len == 36);
		for (u32 m = 0; m < bi.mod_count; m++) {
			ck_assert_uint_le(bi.mods[m].start, bi.mods[m].end);
			ck_assert_uint_lt(strnlen(bi.mods[m].cmdline, BOOT_MODULE_CMDLINE_MAX),
					  BOOT_MODULE_CMDLINE_MAX);
		}
		if (r == 0) {
			ck_assert_uint_eq(bi.info_end - bi.info_start, n);
			accepted++;
		} else {
			refused++;
		}
	}
	free(tmpl);
	/* Both outcomes must actually have been exercised. */
	ck_assert_int_gt(accepted, 100);
	ck_assert_int_gt(refused, 100);
}
END_TEST

static Suite *mb2_suite(void)
{
	Suite *s = suite_create("multiboot2");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_magic_value);
	tcase_add_test(tc, test_full_good_block);
	tcase_add_test(tc, test_minimal_block);
	tcase_add_test(tc, test_wide_mmap_entries);
	tcase_add_test(tc, test_old_rsdp_only_and_order);
	tcase_add_test(tc, test_tags_after_end_ignored);
	tcase_add_test(tc, test_null_block);
	tcase_add_test(tc, test_total_size_too_small);
	tcase_add_test(tc, test_total_size_absurd);
	tcase_add_test(tc, test_total_size_at_limit);
	tcase_add_test(tc, test_misaligned_block);
	tcase_add_test(tc, test_tag_size_below_header);
	tcase_add_test(tc, test_tag_runs_past_total_size);
	tcase_add_test(tc, test_truncated_tag_header);
	tcase_add_test(tc, test_overlapping_tags);
	tcase_add_test(tc, test_missing_end_tag);
	tcase_add_test(tc, test_end_tag_bad_size);
	tcase_add_test(tc, test_mmap_entry_size_too_small);
	tcase_add_test(tc, test_mmap_entry_size_not_multiple_of_8);
	tcase_add_test(tc, test_mmap_partial_entry);
	tcase_add_test(tc, test_mmap_tag_too_short);
	tcase_add_test(tc, test_mmap_zero_length_and_unknown_types);
	tcase_add_test(tc, test_mmap_too_many_entries);
	tcase_add_test(tc, test_duplicate_tags);
	tcase_add_test(tc, test_module_end_before_start);
	tcase_add_test(tc, test_module_too_short_and_no_string);
	tcase_add_test(tc, test_too_many_modules);
	tcase_add_test(tc, test_unterminated_string_at_block_end);
	tcase_add_test(tc, test_long_strings_truncated);
	tcase_add_test(tc, test_acpi_tags_damaged);
	tcase_add_test(tc, test_load_base_too_short);
	tcase_add_test(tc, test_random_corruption);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mb2_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
