/*
 * hello: the smallest end-to-end check. The guest starts, prints, sees the multiboot
 * information it was given, and its exit status reaches the runner.
 *
 * Command line: `fail` adds a test that fails on purpose (exit status 67 on QEMU),
 * to check that a failure is reported as one.  `modules=N` checks that N modules
 * came with the multiboot information, each in usable RAM clear of the image,
 * with its string, and starting with the bytes "HVMOD".
 */
#include "guest.h"

const char guest_name[] = "hello";

void guest_main(void)
{
	printf("hello from the %s test guest\n", guest_name);

	test_result("multiboot-magic", mb_magic == 0x2badb002u, "EAX at entry was 0x%x", mb_magic);

	/* ELF: memory between a segment's file size and its memory size reads zero. */
	test_result("bss-zeroed", bss_was_zero, "the loader left non-zero bytes in .bss");

	test_begin("memory-map");
	u64 usable = 0;
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *r = &mem_map[i];
		note("map %016llx-%016llx type %u", r->base, r->base + r->len - 1, r->type);
		if (r->type == MMAP_USABLE)
			usable += r->len;
	}
	note("%d regions (%s), %llu KiB usable", mem_map_count,
	     mem_map_from_e820 ? "memory map" : "mem_lower/mem_upper", usable >> 10);
	EXPECT(mem_map_count > 0);
	/* The image itself must lie in usable RAM. */
	bool inside = false;
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *r = &mem_map[i];
		if (r->type == MMAP_USABLE && r->base <= (u32)__image_start &&
		    r->base + r->len >= (u32)__image_end)
			inside = true;
	}
	EXPECT(inside);
	test_end();

	test_begin("protected-mode");
	EXPECT(read_cr0() & CR0_PE);
	EXPECT_EQ(read_cs(), SEL_CODE32);
	test_end();

	u32 want_mods = cmdline_u32("modules", 0xFFFFFFFFu);
	if (want_mods != 0xFFFFFFFFu) {
		test_begin("modules");
		EXPECT_EQ((u32)mb_mods_count, want_mods);
		for (int m = 0; m < mb_mods_count; m++) {
			const struct mb_module *mod = &mb_mods[m];
			note("module %d %08x-%08x '%s'", m, mod->start, mod->end, mod->string);
			EXPECT(mod->end > mod->start);
			EXPECT(mod->end <= (u32)__image_start || mod->start >= (u32)__image_end);
			bool in_ram = false;
			for (int i = 0; i < mem_map_count; i++) {
				const struct mem_region *r = &mem_map[i];
				if (r->type == MMAP_USABLE && r->base <= mod->start &&
				    r->base + r->len >= mod->end)
					in_ram = true;
			}
			EXPECT(in_ram);
			EXPECT(mod->end - mod->start >= 5 &&
			       ((const char *)mod->start)[0] == 'H' && ((const char *)mod->start)[4] == 'D');
			EXPECT(mod->string[0] != '\0');
		}
		test_end();
	}

	if (cmdline_has("fail"))
		test_result("deliberate-failure", false, "the command line asked for a failure");
}
