/* unit-sources: kernel/vm/linux_boot.c tests/unit/fake_printk.c */
/* The Linux boot protocol as pure logic (Documentation/arch/x86/boot.rst):
 * setup-header checks on hostile images, placement of the kernel, initrd and
 * boot block in guest RAM, the e820 table and boot_params as the kernel reads
 * them (offsets from zero-page.rst, spelled out here rather than taken from
 * the code under test). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/boot_info.h"
#include "kernel/vm/linux_boot.h"
#include "tests/unit/fake_printk.h"

/* Setup header offsets in the file (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
#define O_SETUP_SECTS 0x1F1
#define O_SYSSIZE 0x1F4
#define O_BOOT_FLAG 0x1FE
#define O_JUMP 0x200
#define O_HEADER 0x202
#define O_VERSION 0x206
#define O_TYPE_OF_LOADER 0x210
#define O_LOADFLAGS 0x211
#define O_CODE32_START 0x214
#define O_RAMDISK_IMAGE 0x218
#define O_RAMDISK_SIZE 0x21C
#define O_CMD_LINE_PTR 0x228
#define O_INITRD_ADDR_MAX 0x22C
#define O_KERNEL_ALIGNMENT 0x230
#define O_RELOCATABLE 0x234
#define O_XLOADFLAGS 0x236
#define O_CMDLINE_SIZE 0x238
#define O_PREF_ADDRESS 0x258
#define O_INIT_SIZE 0x260
/* boot_params offsets (zero-page.rst). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0

#define U MEM_USABLE
#define R MEM_RESERVED
#define A MEM_ACPI_RECLAIMABLE
#define N MEM_ACPI_NVS

static void put16(u8 *p, u64 off, u16 v)
{
	p[off] = (u8)v;
	p[off + 1] = (u8)(v >> 8);
}

static void put32(u8 *p, u64 off, u32 v)
{
	put16(p, off, (u16)v);
	put16(p, off + 2, (u16)(v >> 16));
}

static void put64(u8 *p, u64 off, u64 v)
{
	put32(p, off, (u32)v);
	put32(p, off + 4, (u32)(v >> 32));
}

static u32 get32(const u8 *p, u64 off)
{
	return (u32)p[off] | (u32)p[off + 1] << 8 | (u32)p[off + 2] << 16 | (u32)p[off + 3] << 24;
}

static u64 get64(const u8 *p, u64 off)
{
	return get32(p, off) | (u64)get32(p, off + 4) << 32;
}

/* A bzImage like Debian's 6.1 kernel: protocol 2.15, 39 setup sectors, 2 MiB
 * alignment, pref_address 16 MiB.  The protected-mode part is small here. */
#define IMG_SETUP_SECTS 39
#define IMG_SETUP_SIZE ((IMG_SETUP_SECTS + 1) * 512)
#define IMG_KERNEL_SIZE 0x3000
#define IMG_SIZE (IMG_SETUP_SIZE + IMG_KERNEL_SIZE)
#define IMG_INIT_SIZE 0x3f98000
#define IMG_HEADER_END 0x26C

static u8 *image;
static size_t image_size;

static void make_image(void)
{
	free(image);
	image_size = IMG_SIZE;
	image = calloc(1, image_size);
	ck_assert_ptr_nonnull(image);
	image[O_SETUP_SECTS] = IMG_SETUP_SECTS;
	put32(image, O_SYSSIZE, IMG_KERNEL_SIZE / 16);
	put16(image, O_BOOT_FLAG, 0xAA55);
	image[O_JUMP] = 0xEB;
	image[O_JUMP + 1] = IMG_HEADER_END - 0x202;
	memcpy(image + O_HEADER, "HdrS", 4);
	put16(image, O_VERSION, 0x020F);
	image[O_LOADFLAGS] = 0x01;
	put32(image, O_CODE32_START, 0x100000);
	put32(image, O_INITRD_ADDR_MAX, 0x7fffffff);
	put32(image, O_KERNEL_ALIGNMENT, 0x200000);
	image[O_RELOCATABLE] = 1;
	put16(image, O_XLOADFLAGS, 0x7F);
	put32(image, O_CMDLINE_SIZE, 2047);
	put64(image, O_PREF_ADDRESS, 0x1000000);
	put32(image, O_INIT_SIZE, IMG_INIT_SIZE);
	/* Recognisable protected-mode bytes. */
	for (u32 i = 0; i < IMG_KERNEL_SIZE; i++)
		image[IMG_SETUP_SIZE + i] = (u8)(i * 7 + 1);
}

static void setup(void)
{
	fake_printk_reset();
	make_image();
}

static void teardown(void)
{
	free(image);
	image = NULL;
}

static bool parse(struct linux_image *img)
{
	return linux_image_parse(image, image_size, img);
}

static void expect_refused(const char *why)
{
	struct linux_image img;
	fake_printk_reset();
	ck_assert(!parse(&img));
	ck_assert_msg(fake_printk_contains(why), "log lacks '%s': %s", why, fake_printk_text());
	ck_assert_int_eq(fake_printk_problems(), 1);
}

/* ---- Header checks -------------------------------------------------------- */

START_TEST(test_valid_image)
{
	struct linux_image img;
	ck_assert(parse(&img));
	ck_assert_int_eq(fake_printk_problems(), 0);
	ck_assert_uint_eq(img.protocol, 0x020F);
	ck_assert_uint_eq(img.header_end, IMG_HEADER_END);
	ck_assert_uint_eq(img.kernel_offset, IMG_SETUP_SIZE);
	ck_assert_uint_eq(img.kernel_size, IMG_KERNEL_SIZE);
	ck_assert_uint_eq(img.alignment, 0x200000);
	ck_assert_uint_eq(img.init_size, IMG_INIT_SIZE);
	ck_assert_uint_eq(img.pref_address, 0x1000000);
	ck_assert_uint_eq(img.initrd_limit, 0x80000000ULL);
	ck_assert_uint_eq(img.cmdline_max, 2047);
	ck_assert_uint_eq(img.xloadflags, 0x7F);
}
END_TEST

START_TEST(test_truncated_files)
{
	struct linux_image img;
	/* Every prefix shorter than setup + kernel is refused (the last ones by
	 * syssize), and none is read past its end (ASan watches). */
	for (size_t len = 0; len < IMG_SIZE; len += (len < 0x300 ? 1 : 97)) {
		u8 *copy = malloc(len ? len : 1);
		memcpy(copy, image, len);
		fake_printk_reset();
		ck_assert_msg(!linux_image_parse(copy, len, &img), "accepted a %zu-byte prefix", len);
		ck_assert_int_eq(fake_printk_problems(), 1);
		free(copy);
	}
	ck_assert(!linux_image_parse(NULL, 0, &img));
	image_size = 0x100;
	expect_refused("too short");
	image_size = IMG_SIZE - 1;
	expect_refused("truncated image");
}
END_TEST

START_TEST(test_bad_magic)
{
	image[O_HEADER + 3] = 'Z';
	expect_refused("not a bzImage");
	make_image();
	put16(image, O_BOOT_FLAG, 0x55AA);
	expect_refused("not a bzImage");
}
END_TEST

START_TEST(test_old_protocol)
{
	struct linux_image img;
	put16(image, O_VERSION, 0x020B);
	expect_refused("2.11 is older than the 2.12");
	put16(image, O_VERSION, 0x0204);
	expect_refused("older");
	put16(image, O_VERSION, 0x020C);
	ck_assert(parse(&img));
}
END_TEST

START_TEST(test_header_length)
{
	/* The jump byte says where the header ends: before init_size or past
	 * boot_params' room for it is refused. */
	image[O_JUMP + 1] = 0x264 - 0x202 - 1;
	expect_refused("setup header ends at");
	image[O_JUMP + 1] = 0x290 - 0x202 + 1;
	expect_refused("setup header ends at");
	struct linux_image img;
	image[O_JUMP + 1] = 0x290 - 0x202;
	ck_assert(parse(&img));
	ck_assert_uint_eq(img.header_end, 0x290);
}
END_TEST

START_TEST(test_setup_sects)
{
	struct linux_image img;
	/* 0 means 4. */
	image[O_SETUP_SECTS] = 0;
	ck_assert(parse(&img));
	ck_assert_uint_eq(img.kernel_offset, 5 * 512);
	ck_assert_uint_eq(img.kernel_size, IMG_SIZE - 5 * 512);
	/* 255 sectors are 128 KiB: beyond this file. */
	image[O_SETUP_SECTS] = 255;
	expect_refused("setup_sects 255");
	/* Exactly the whole file: no protected-mode kernel left. */
	image_size = IMG_SETUP_SIZE;
	image[O_SETUP_SECTS] = IMG_SETUP_SECTS;
	expect_refused("setup_sects 39");
}
END_TEST

START_TEST(test_not_relocatable)
{
	image[O_RELOCATABLE] = 0;
	expect_refused("not relocatable");
}
END_TEST

START_TEST(test_not_loaded_high)
{
	image[O_LOADFLAGS] = 0;
	expect_refused("zImage");
}
END_TEST

START_TEST(test_alignment)
{
	static const u32 bad[] = {0, 0x300000, 0x800, 0x80000000u};
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
		put32(image, O_KERNEL_ALIGNMENT, bad[i]);
		expect_refused("kernel_alignment");
	}
	/* pref_address is rounded up to the alignment. */
	struct linux_image img;
	put32(image, O_KERNEL_ALIGNMENT, 0x400000);
	put64(image, O_PREF_ADDRESS, 0x1200000);
	ck_assert(parse(&img));
	ck_assert_uint_eq(img.pref_address, 0x1400000);
}
END_TEST

START_TEST(test_init_size_and_pref_address)
{
	put32(image, O_INIT_SIZE, IMG_KERNEL_SIZE - 1);
	expect_refused("init_size");
	put32(image, O_INIT_SIZE, 0x40000001);
	expect_refused("init_size");
	put32(image, O_INIT_SIZE, IMG_INIT_SIZE);
	put64(image, O_PREF_ADDRESS, 0x100000000ULL + 0x1000000);
	expect_refused("pref_address");
	put64(image, O_PREF_ADDRESS, 0xFE000000ULL);
	expect_refused("does not fit below 4 GiB");
	/* pref_address 0: the kernel may go anywhere from 1 MiB up. */
	struct linux_image img;
	put64(image, O_PREF_ADDRESS, 0);
	put32(image, O_KERNEL_ALIGNMENT, 0x100000);
	ck_assert(parse(&img));
	ck_assert_uint_eq(img.pref_address, 0x100000);
}
END_TEST

/* Random corruption of the header area never crashes the parser, and whatever
 * it accepts is consistent with the file. */
START_TEST(test_random_corruption)
{
	srand(1234);
	for (int round = 0; round < 20000; round++) {
		make_image();
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++)
			image[0x1F0 + rand() % 0x80] = (u8)rand();
		image_size = (rand() % 8) ? IMG_SIZE : (size_t)(rand() % IMG_SIZE);
		struct linux_image img;
		fake_printk_reset();
		if (!parse(&img)) {
			ck_assert_int_eq(fake_printk_problems(), 1);
			continue;
		}
		ck_assert_uint_eq(img.kernel_offset + img.kernel_size, image_size);
		ck_assert(img.header_end <= image_size && img.header_end <= 0x290);
		ck_assert(img.kernel_offset >= img.header_end);
		ck_assert(img.init_size >= img.kernel_size);
		ck_assert((img.alignment & (img.alignment - 1)) == 0);
		ck_assert(img.pref_address % img.alignment == 0);
		ck_assert(img.pref_address + img.init_size <= 4 * GIB);
	}
}
END_TEST

START_TEST(test_cmdline_length)
{
	struct linux_image img;
	ck_assert(parse(&img));
	ck_assert(linux_cmdline_fits(&img, 0));
	ck_assert(linux_cmdline_fits(&img, 2047));
	ck_assert_int_eq(fake_printk_problems(), 0);
	ck_assert(!linux_cmdline_fits(&img, 2048));
	ck_assert(fake_printk_contains("at most 2047"));
	put32(image, O_CMDLINE_SIZE, 0);
	ck_assert(parse(&img));
	ck_assert(linux_cmdline_fits(&img, 0));
	ck_assert(!linux_cmdline_fits(&img, 1));
	/* The boot block: boot_params page, then GDT, RSDP and the command line
	 * with its NUL in whole pages. */
	ck_assert_uint_eq(linux_boot_block_size(0), 0x2000);
	ck_assert_uint_eq(linux_boot_block_size(0x1000 - 0x80 - 1), 0x2000);
	ck_assert_uint_eq(linux_boot_block_size(0x1000 - 0x80), 0x3000);
}
END_TEST

/* ---- Placement ------------------------------------------------------------ */

/* QEMU with 256 MiB, GRUB boot: the hypervisor's pool and image at the top. */
static const struct guest_mem_region qemu_map[] = {
	{0, 0x9fc00, U},
	{0x9fc00, 0x400, R},
	{0xf0000, 0x10000, R},
	{0x100000, 0xDF00000, U},	/* up to 0xE000000 */
	{0xE000000, 0x1FE0000, R},	/* hypervisor pool and image, to the end of RAM */
	{0xFFFC0000, 0x40000, R},
};

static u64 place(const struct guest_mem_region *mem, u32 n, const struct linux_range *avoid,
		 u32 na, struct linux_place_request req)
{
	u64 at = 0xdead;
	ck_assert(linux_find_place(mem, n, avoid, na, &req, &at));
	return at;
}

START_TEST(test_place_preferred)
{
	struct linux_place_request req = {.size = 0x3f98000, .align = 0x200000, .lowest = 0x1000000,
					  .limit = 4 * GIB, .preferred = 0x1000000};
	ck_assert_uint_eq(place(qemu_map, ARRAY_SIZE(qemu_map), NULL, 0, req), 0x1000000);
}
END_TEST

START_TEST(test_place_overlap_moves_up_aligned)
{
	struct linux_place_request req = {.size = 0x3f98000, .align = 0x200000, .lowest = 0x1000000,
					  .limit = 4 * GIB, .preferred = 0x1000000};
	/* A module in the middle of the preferred range: the kernel goes to the
	 * first 2 MiB boundary after it. */
	struct linux_range mods[] = {{0x2345000, 0x2346001}, {0x100000, 0x200000}};
	ck_assert_uint_eq(place(qemu_map, ARRAY_SIZE(qemu_map), mods, 2, req), 0x2400000);
	/* Touching ranges do not overlap. */
	struct linux_range touching[] = {{0x1000000 + 0x3f98000, 0x5000000}, {0xF00000, 0x1000000}};
	ck_assert_uint_eq(place(qemu_map, ARRAY_SIZE(qemu_map), touching, 2, req), 0x1000000);
}
END_TEST

START_TEST(test_place_hole_and_unaligned_region)
{
	/* RAM with a hole at the preferred address and a region starting off
	 * alignment. */
	static const struct guest_mem_region map[] = {
		{0x100000, 0x1000000, U},	/* 1-17 MiB: too small past 16 MiB */
		{0x1100000, 0x100000, R},
		{0x1234000, 0x8000000, U},
	};
	struct linux_place_request req = {.size = 0x2000000, .align = 0x200000, .lowest = 0x1000000,
					  .limit = 4 * GIB, .preferred = 0x1000000};
	ck_assert_uint_eq(place(map, ARRAY_SIZE(map), NULL, 0, req), 0x1400000);
}
END_TEST

START_TEST(test_place_never_in_acpi_or_reserved)
{
	static const struct guest_mem_region map[] = {
		{0x100000, 0x1F00000, A},
		{0x2000000, 0x1000000, N},
		{0x3000000, 0x1000000, R},
		{0x4000000, 0x1000000, U},
	};
	struct linux_place_request req = {.size = 0x800000, .align = 0x200000, .lowest = 0x100000,
					  .limit = 4 * GIB, .preferred = 0x1000000};
	ck_assert_uint_eq(place(map, ARRAY_SIZE(map), NULL, 0, req), 0x4000000);
}
END_TEST

START_TEST(test_place_no_room)
{
	struct linux_place_request req = {.size = 0xE000000, .align = 0x200000, .lowest = 0x1000000,
					  .limit = 4 * GIB, .preferred = 0x1000000};
	u64 at;
	ck_assert(!linux_find_place(qemu_map, ARRAY_SIZE(qemu_map), NULL, 0, &req, &at));
	/* The limit counts: RAM above 4 GiB is no use to the 32-bit entry. */
	static const struct guest_mem_region high[] = {
		{0x100000, 0x1000000, U}, {0x100000000ULL, 0x40000000, U},
	};
	req.size = 0x2000000;
	ck_assert(!linux_find_place(high, ARRAY_SIZE(high), NULL, 0, &req, &at));
	req.limit = ~0ULL;
	ck_assert(linux_find_place(high, ARRAY_SIZE(high), NULL, 0, &req, &at));
	ck_assert_uint_eq(at, 0x100000000ULL);
	/* A zero size or a bad alignment is a caller bug, never a placement. */
	req.size = 0;
	ck_assert(!linux_find_place(high, ARRAY_SIZE(high), NULL, 0, &req, &at));
	req.size = 0x1000;
	req.align = 0x3000;
	ck_assert(!linux_find_place(high, ARRAY_SIZE(high), NULL, 0, &req, &at));
}
END_TEST

START_TEST(test_place_highest_first)
{
	struct linux_place_request req = {.size = 0x101000, .align = 0x1000, .lowest = 0x100000,
					  .limit = 0x80000000, .highest_first = true};
	/* Highest end of RAM below the limit is the pool's start. */
	ck_assert_uint_eq(place(qemu_map, ARRAY_SIZE(qemu_map), NULL, 0, req),
			  0xE000000 - 0x101000);
	struct linux_range mods[] = {{0xDF00000, 0xE000000}};
	ck_assert_uint_eq(place(qemu_map, ARRAY_SIZE(qemu_map), mods, 1, req),
			  0xDF00000 - 0x101000);
	/* The limit caps it. */
	req.limit = 0x4000800;
	ck_assert_uint_eq(place(qemu_map, ARRAY_SIZE(qemu_map), NULL, 0, req),
			  ALIGN_DOWN(0x4000800 - 0x101000, 0x1000));
}
END_TEST

/* Unsorted, split and overlapping maps with random avoid lists: the answer is
 * the one a scan of every aligned address gives. */
START_TEST(test_place_against_oracle)
{
	srand(99);
	for (int round = 0; round < 3000; round++) {
		struct guest_mem_region map[6];
		struct linux_range avoid[4];
		u32 n = 1 + rand() % 6, na = rand() % 5;
		for (u32 i = 0; i < n; i++) {
			u64 base = (u64)(rand() % 256) * 0x800;
			map[i] = (struct guest_mem_region){base, (u64)(rand() % 96) * 0x800,
							   rand() % 4 ? U : R};
		}
		for (u32 i = 0; i < na; i++) {
			u64 base = (u64)(rand() % 0x20000) * 8;
			avoid[i] = (struct linux_range){base, base + (u64)(rand() % 0x4000) * 8};
		}
		struct linux_place_request req = {
			.size = 0x800 + (u64)(rand() % 32) * 0x800,
			.align = 0x1000ULL << (rand() % 3),
			.lowest = (u64)(rand() % 64) * 0x800,
			.limit = 0x20000 + (u64)(rand() % 224) * 0x800,
			.preferred = rand() % 2 ? (u64)(rand() % 64) * 0x1000 : 0,
			.highest_first = rand() % 2,
		};
		/* Oracle: every aligned address in [0, 1 MiB). */
		bool want_found = false;
		u64 want = 0;
		for (u64 at = 0; at < 0x100000; at += req.align) {
			bool ok = at >= req.lowest && at + req.size <= req.limit;
			for (u64 b = at; ok && b < at + req.size; b += 0x800) {
				/* Usable: some usable region holds this 2 KiB granule (all
				 * bounds here are multiples of 2 KiB). */
				bool covered = false;
				for (u32 i = 0; i < n; i++)
					covered |= map[i].type == U && map[i].base <= b &&
						   b < map[i].base + map[i].len;
				ok = covered;
			}
			for (u32 i = 0; ok && i < na; i++)
				ok = !(avoid[i].base < at + req.size && at < avoid[i].end);
			if (!ok)
				continue;
			if (req.preferred && req.preferred == at) {
				want = at;
				want_found = true;
				break;
			}
			if (!want_found || req.highest_first)
				want = at;
			want_found = true;
		}
		u64 got = 0;
		bool found = linux_find_place(map, n, avoid, na, &req, &got);
		ck_assert_msg(found == want_found && (!found || got == want),
			      "round %d: got %d %llx, want %d %llx", round, found,
			      (unsigned long long)got, want_found, (unsigned long long)want);
	}
}
END_TEST

static struct linux_layout_input layout_input(const struct linux_image *img,
					      const struct linux_range *mods, u32 nmods,
					      u64 initrd_base, u64 initrd_size)
{
	return (struct linux_layout_input){
		.mem = qemu_map, .mem_count = ARRAY_SIZE(qemu_map),
		.modules = mods, .module_count = nmods, .img = img,
		.initrd_base = initrd_base, .initrd_size = initrd_size,
		.boot_block_size = linux_boot_block_size(100),
	};
}

static bool overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

START_TEST(test_layout_typical)
{
	struct linux_image img;
	struct linux_layout lay;
	ck_assert(parse(&img));
	/* GRUB's modules: the bzImage and the initrd, high in RAM. */
	struct linux_range mods[] = {{0xD000000, 0xD7DD000}, {0xD7DD000, 0xD8DA000}};
	struct linux_layout_input in = layout_input(&img, mods, 2, 0xD7DD000, 0xFD000);
	ck_assert(linux_plan_layout(&in, &lay));
	ck_assert_uint_eq(lay.kernel, 0x1000000);
	ck_assert_uint_eq(lay.initrd, 0xD7DD000);
	ck_assert(!lay.initrd_moves);
	/* Boot block: highest fit in conventional memory below the EBDA. */
	ck_assert_uint_eq(lay.boot_block, 0x9f000 - 0x2000);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_layout_kernel_avoids_modules_and_initrd)
{
	struct linux_image img;
	struct linux_layout lay;
	ck_assert(parse(&img));
	struct linux_range mods[] = {{0x1800000, 0x2000000}, {0x5000000, 0x5100000}};
	struct linux_layout_input in = layout_input(&img, mods, 2, 0x5000000, 0x100000);
	ck_assert(linux_plan_layout(&in, &lay));
	ck_assert_uint_eq(lay.kernel, 0x5200000);
	ck_assert(!overlap(lay.kernel, img.init_size, 0x1800000, 0x800000));
	ck_assert(!overlap(lay.kernel, img.init_size, lay.initrd, 0x100000));
}
END_TEST

START_TEST(test_layout_initrd_moves)
{
	struct linux_image img;
	struct linux_layout lay;
	/* initrd_addr_max 64 MiB - 1 and the initrd lies above it. */
	put32(image, O_INITRD_ADDR_MAX, 0x3FFFFFF);
	ck_assert(parse(&img));
	struct linux_range mods[] = {{0x8000000, 0x8100000}};
	struct linux_layout_input in = layout_input(&img, mods, 1, 0x8000000, 0x100000);
	ck_assert(linux_plan_layout(&in, &lay));
	ck_assert(lay.initrd_moves);
	ck_assert_uint_eq(lay.initrd, 0x4000000 - 0x100000);
	/* The kernel then avoids the new place too. */
	ck_assert(!overlap(lay.kernel, img.init_size, lay.initrd, 0x100000));
	ck_assert_uint_eq(lay.kernel % img.alignment, 0);

	/* An initrd in the hypervisor's memory (reserved in the guest map) moves
	 * even though it is below the limit. */
	put32(image, O_INITRD_ADDR_MAX, 0x7FFFFFFF);
	ck_assert(parse(&img));
	struct linux_range mods2[] = {{0xF000000, 0xF100000}};
	in = layout_input(&img, mods2, 1, 0xF000000, 0x100000);
	ck_assert(linux_plan_layout(&in, &lay));
	ck_assert(lay.initrd_moves);
	ck_assert_uint_eq(lay.initrd, 0xE000000 - 0x100000);
}
END_TEST

START_TEST(test_layout_no_room)
{
	struct linux_image img;
	struct linux_layout lay;
	ck_assert(parse(&img));
	/* Modules all over the RAM above 16 MiB. */
	struct linux_range mods[] = {{0x2000000, 0x2001000}, {0x5000000, 0x5001000},
				     {0x8000000, 0x8001000}, {0xB000000, 0xB001000}};
	struct linux_layout_input in = layout_input(&img, mods, 4, 0, 0);
	ck_assert(!linux_plan_layout(&in, &lay));
	ck_assert(fake_printk_contains("for the kernel"));
	/* An initrd too big for the RAM below its limit. */
	fake_printk_reset();
	put32(image, O_INITRD_ADDR_MAX, 0xFFFFFF);
	ck_assert(parse(&img));
	in = layout_input(&img, NULL, 0, 0x8000000, 0x1000000);
	ck_assert(!linux_plan_layout(&in, &lay));
	ck_assert(fake_printk_contains("initrd"));
}
END_TEST

START_TEST(test_layout_boot_block_fallback)
{
	/* No conventional memory: the boot block goes high, clear of the rest. */
	static const struct guest_mem_region map[] = {
		{0x100000, 0x7F00000, U},
	};
	struct linux_image img;
	struct linux_layout lay;
	ck_assert(parse(&img));
	struct linux_layout_input in = layout_input(&img, NULL, 0, 0, 0);
	in.mem = map;
	in.mem_count = ARRAY_SIZE(map);
	ck_assert(linux_plan_layout(&in, &lay));
	ck_assert_uint_eq(lay.boot_block, 0x8000000 - in.boot_block_size);
	ck_assert(!overlap(lay.boot_block, in.boot_block_size, lay.kernel, img.init_size));
}
END_TEST

/* ---- e820 and boot_params ------------------------------------------------- */

START_TEST(test_e820_types_and_merge)
{
	static const struct guest_mem_region map[] = {
		{0, 0x9fc00, U},
		{0x9fc00, 0x400, R},
		{0xf0000, 0x10000, R},
		{0x100000, 0x100000, U},
		{0x200000, 0x0, U},		/* empty: dropped */
		{0x200000, 0x300000, U},	/* adjacent, same type: merged */
		{0x500000, 0x10000, A},
		{0x510000, 0x10000, N},
		{0x520000, 0x1000, MEM_BAD},
		{0x521000, 0x1000, 77},		/* unknown type: reserved */
		{0x522000, 0x1000, R},		/* merges with the unknown one */
		{0xE000000, 0x2000000, R},	/* the hypervisor's memory */
	};
	struct linux_e820_entry out[16];
	u32 n = linux_build_e820(map, ARRAY_SIZE(map), out, 16);
	static const struct linux_e820_entry want[] = {
		{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xf0000, 0x10000, 2}, {0x100000, 0x400000, 1},
		{0x500000, 0x10000, 3}, {0x510000, 0x10000, 4}, {0x520000, 0x1000, 5},
		{0x521000, 0x2000, 2}, {0xE000000, 0x2000000, 2},
	};
	ck_assert_uint_eq(n, ARRAY_SIZE(want));
	for (u32 i = 0; i < n; i++)
		ck_assert_msg(out[i].addr == want[i].addr && out[i].size == want[i].size &&
				      out[i].type == want[i].type,
			      "entry %u: %llx+%llx type %u", i, (unsigned long long)out[i].addr,
			      (unsigned long long)out[i].size, out[i].type);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(test_e820_too_many)
{
	static struct guest_mem_region map[150];
	for (u32 i = 0; i < ARRAY_SIZE(map); i++)
		map[i] = (struct guest_mem_region){(u64)i * 0x2000, 0x1000, i % 2 ? R : U};
	struct linux_e820_entry out[LINUX_E820_MAX_ENTRIES];
	ck_assert_uint_eq(linux_build_e820(map, ARRAY_SIZE(map), out, LINUX_E820_MAX_ENTRIES),
			  LINUX_E820_MAX_ENTRIES);
	ck_assert_uint_eq(out[127].addr, 127 * 0x2000);
	ck_assert(fake_printk_contains("more than 128 e820 entries"));
}
END_TEST

START_TEST(test_boot_params)
{
	struct linux_image img;
	ck_assert(parse(&img));
	static struct linux_boot_params bp;
	memset(&bp, 0xCC, sizeof(bp));
	struct linux_boot_values v = {
		.kernel = 0x1000000,
		.cmdline = 0x1234509d080ULL,	/* above 4 GiB: ext_cmd_line_ptr */
		.initrd = 0x1ABCD000ULL | (2ULL << 32),
		.initrd_size = 0x100000000ULL + 0x4567,
		.rsdp = 0xF52A0,
	};
	linux_build_boot_params(&bp, image, &img, &v, qemu_map, ARRAY_SIZE(qemu_map));
	const u8 *raw = (const u8 *)&bp;

	/* The setup header is the file's, but for what a loader must set. */
	for (u32 off = 0x1F1; off < IMG_HEADER_END; off++) {
		if (off == O_TYPE_OF_LOADER || (off >= O_CODE32_START && off < O_RAMDISK_SIZE + 4) ||
		    (off >= O_CMD_LINE_PTR && off < O_CMD_LINE_PTR + 4))
			continue;
		ck_assert_msg(raw[off] == image[off], "header byte %x changed", off);
	}
	ck_assert_uint_eq(raw[O_TYPE_OF_LOADER], 0xFF);
	ck_assert_uint_eq(get32(raw, O_CODE32_START), 0x1000000);
	ck_assert_uint_eq(get32(raw, O_CMD_LINE_PTR), 0x4509d080);
	ck_assert_uint_eq(get32(raw, BP_EXT_CMD_LINE_PTR), 0x123);
	ck_assert_uint_eq(get32(raw, O_RAMDISK_IMAGE), 0x1ABCD000);
	ck_assert_uint_eq(get32(raw, BP_EXT_RAMDISK_IMAGE), 2);
	ck_assert_uint_eq(get32(raw, O_RAMDISK_SIZE), 0x4567);
	ck_assert_uint_eq(get32(raw, BP_EXT_RAMDISK_SIZE), 1);
	ck_assert_uint_eq(get64(raw, BP_ACPI_RSDP_ADDR), 0xF52A0);
	ck_assert_uint_eq(raw[O_LOADFLAGS], 0x01);

	ck_assert_uint_eq(raw[BP_E820_ENTRIES], ARRAY_SIZE(qemu_map));
	for (u32 i = 0; i < ARRAY_SIZE(qemu_map); i++) {
		const u8 *e = raw + BP_E820_TABLE + 20 * i;
		ck_assert_uint_eq(get64(e, 0), qemu_map[i].base);
		ck_assert_uint_eq(get64(e, 8), qemu_map[i].len);
		ck_assert_uint_eq(get32(e, 16), qemu_map[i].type == U ? 1 : 2);
	}
	/* Everything else is zero: the sentinel at 0x1EF, the rest of the
	 * header area and the fields before it. */
	ck_assert_uint_eq(raw[0x1EF], 0);
	for (u32 off = IMG_HEADER_END; off < 0x290; off++)
		ck_assert_uint_eq(raw[off], 0);
	for (u32 off = 0; off < BP_ACPI_RSDP_ADDR; off++)
		ck_assert_uint_eq(raw[off], 0);
	for (u32 off = BP_E820_TABLE + 20 * ARRAY_SIZE(qemu_map); off < 4096; off++)
		ck_assert_uint_eq(raw[off], 0);
}
END_TEST

START_TEST(test_boot_params_without_initrd)
{
	struct linux_image img;
	ck_assert(parse(&img));
	/* A loader's own flags in the image are cleared; a value planted in the
	 * image's ramdisk fields does not survive when there is no initrd. */
	image[O_LOADFLAGS] = 0x01 | 0x02 | 0x40 | 0x80;
	put32(image, O_RAMDISK_IMAGE, 0x12345678);
	ck_assert(parse(&img));
	static struct linux_boot_params bp;
	struct linux_boot_values v = {.kernel = 0x2000000, .cmdline = 0x9d080};
	linux_build_boot_params(&bp, image, &img, &v, qemu_map, ARRAY_SIZE(qemu_map));
	const u8 *raw = (const u8 *)&bp;
	ck_assert_uint_eq(raw[O_LOADFLAGS], 0x01);
	ck_assert_uint_eq(get32(raw, O_RAMDISK_IMAGE), 0);
	ck_assert_uint_eq(get32(raw, O_RAMDISK_SIZE), 0);
	ck_assert_uint_eq(get32(raw, BP_EXT_CMD_LINE_PTR), 0);
	ck_assert_uint_eq(get64(raw, BP_ACPI_RSDP_ADDR), 0);
}
END_TEST

static Suite *linux_boot_suite(void)
{
	Suite *s = suite_create("linux_boot");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_valid_image);
	tcase_add_test(tc, test_truncated_files);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_old_protocol);
	tcase_add_test(tc, test_header_length);
	tcase_add_test(tc, test_setup_sects);
	tcase_add_test(tc, test_not_relocatable);
	tcase_add_test(tc, test_not_loaded_high);
	tcase_add_test(tc, test_alignment);
	tcase_add_test(tc, test_init_size_and_pref_address);
	tcase_add_test(tc, test_random_corruption);
	tcase_add_test(tc, test_cmdline_length);
	tcase_add_test(tc, test_place_preferred);
	tcase_add_test(tc, test_place_overlap_moves_up_aligned);
	tcase_add_test(tc, test_place_hole_and_unaligned_region);
	tcase_add_test(tc, test_place_never_in_acpi_or_reserved);
	tcase_add_test(tc, test_place_no_room);
	tcase_add_test(tc, test_place_highest_first);
	tcase_add_test(tc, test_place_against_oracle);
	tcase_add_test(tc, test_layout_typical);
	tcase_add_test(tc, test_layout_kernel_avoids_modules_and_initrd);
	tcase_add_test(tc, test_layout_initrd_moves);
	tcase_add_test(tc, test_layout_no_room);
	tcase_add_test(tc, test_layout_boot_block_fallback);
	tcase_add_test(tc, test_e820_types_and_merge);
	tcase_add_test(tc, test_e820_too_many);
	tcase_add_test(tc, test_boot_params);
	tcase_add_test(tc, test_boot_params_without_initrd);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(linux_boot_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
