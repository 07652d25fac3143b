/* Xen PVH start_info parser.
 *
 * Only the start_info header is essential: a wrong magic or an unreadable
 * header means we were not started the way we think, so the whole thing is
 * refused.  Everything hanging off it (modules, memory map, strings, RSDP) is
 * validated piece by piece; a bad piece is reported and dropped or clamped. */
#include "kernel/pvh.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"
#include "kernel/printk.h"

/* Reads a NUL-terminated string byte by byte, because its length is unknown
 * and the reader may refuse the byte after the terminator.  Keeps what was
 * read when the string is too long or runs into unreadable memory. */
static void read_string(const struct phys_reader *mem, u64 pa, char *dst, u32 size,
			const char *what)
{
	u32 n = 0;

	dst[0] = '\0';
	if (pa == 0)
		return;
	for (;;) {
		char c;
		if (n == size - 1) {
			pr_warn("pvh: %s at 0x%llx longer than %u bytes, truncated\n", what,
				(unsigned long long)pa, size - 1);
			break;
		}
		if (!phys_read(mem, pa + n, &c, 1)) {
			pr_warn("pvh: %s at 0x%llx unreadable after %u bytes, cut there\n", what,
				(unsigned long long)pa, n);
			break;
		}
		if (c == '\0')
			break;
		dst[n++] = c;
	}
	dst[n] = '\0';
}

static u32 normalize_type(u32 type)
{
	/* e820 types beyond the five we model (disabled, persistent memory, ...)
	 * must never be taken for RAM by the hypervisor. */
	if (type >= MEM_USABLE && type <= MEM_BAD)
		return type;
	return MEM_RESERVED;
}

static void parse_modules(const struct phys_reader *mem, u64 list, u32 nr, struct boot_info *out)
{
	if (nr == 0)
		return;
	if (list == 0) {
		pr_warn("pvh: %u modules announced without a module list, ignored\n", nr);
		return;
	}
	if (nr > BOOT_MAX_MODULES) {
		pr_warn("pvh: %u modules, only the first %u kept\n", nr, (unsigned)BOOT_MAX_MODULES);
		nr = BOOT_MAX_MODULES;
	}
	for (u32 i = 0; i < nr; i++) {
		u8 e[PVH_MODLIST_ENTRY_SIZE];
		u64 pa = list + (u64)i * PVH_MODLIST_ENTRY_SIZE;

		if (pa < list || !phys_read(mem, pa, e, sizeof(e))) {
			pr_warn("pvh: module list entry %u at 0x%llx unreadable, rest of list ignored\n",
				i, (unsigned long long)pa);
			return;
		}
		u64 start = load_u64(e);
		u64 size = load_u64(e + 8);
		u64 cmdline = load_u64(e + 16);
		if (start + size < start) {
			pr_warn("pvh: module %u [0x%llx, +0x%llx) wraps the address space, skipped\n",
				i, (unsigned long long)start, (unsigned long long)size);
			continue;
		}
		struct boot_module *m = &out->mods[out->mod_count++];
		m->start = start;
		m->end = start + size;
		read_string(mem, cmdline, m->cmdline, sizeof(m->cmdline), "module command line");
	}
}

static void parse_memmap(const struct phys_reader *mem, u64 map, u32 nr, struct boot_info *out)
{
	if (nr == 0 || map == 0) {
		pr_warn("pvh: no memory map (address 0x%llx, %u entries)\n", (unsigned long long)map,
			nr);
		return;
	}
	/* Empty entries are skipped without using a slot, so the slot limit alone
	 * would not bound the walk over an absurd entry count. */
	if (nr > PVH_MEMMAP_SCAN_MAX) {
		pr_warn("pvh: memory map claims %u entries, only the first %u read\n", nr,
			PVH_MEMMAP_SCAN_MAX);
		nr = PVH_MEMMAP_SCAN_MAX;
	}
	for (u32 i = 0; i < nr; i++) {
		u8 e[PVH_MEMMAP_ENTRY_SIZE];
		u64 pa = map + (u64)i * PVH_MEMMAP_ENTRY_SIZE;

		if (pa < map || !phys_read(mem, pa, e, sizeof(e))) {
			pr_warn("pvh: memory map entry %u at 0x%llx unreadable, rest of map ignored\n",
				i, (unsigned long long)pa);
			return;
		}
		u64 base = load_u64(e);
		u64 len = load_u64(e + 8);
		u32 type = load_u32(e + 16);
		if (len == 0)
			continue;
		if (out->mem_count >= BOOT_MAX_MEM_REGIONS) {
			pr_warn("pvh: memory map has %u entries, entries from %u on ignored\n", nr, i);
			return;
		}
		struct mem_region *r = &out->mem[out->mem_count++];
		r->base = base;
		r->len = len;
		r->type = normalize_type(type);
	}
}

static void parse_rsdp(const struct phys_reader *mem, u64 pa, struct boot_info *out)
{
	u8 buf[36];

	if (pa == 0)
		return;
	/* Read the v1 part first: a v1 RSDP may sit right at the end of readable
	 * memory, so the 36-byte read is only attempted when the revision says
	 * the extension exists. */
	if (!phys_read(mem, pa, buf, 20)) {
		pr_warn("pvh: RSDP at 0x%llx unreadable, ignored\n", (unsigned long long)pa);
		return;
	}
	if (memcmp(buf, "RSD PTR ", 8) != 0) {
		pr_warn("pvh: no 'RSD PTR ' signature at 0x%llx, RSDP ignored\n",
			(unsigned long long)pa);
		return;
	}
	u32 len = 20;
	if (buf[15] >= 2) {
		if (phys_read(mem, pa, buf, 36))
			len = 36;
		else
			pr_warn("pvh: RSDP revision %u at 0x%llx but its v2 part is unreadable\n",
				buf[15], (unsigned long long)pa);
	}
	memcpy(out->rsdp, buf, len);
	out->rsdp_len = len;
	out->rsdp_phys = pa;
}

int pvh_parse(const struct phys_reader *mem, u64 start_info_phys, struct boot_info *out)
{
	u8 si[PVH_START_INFO_V1_SIZE];

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!mem || !mem->read) {
		pr_err("pvh: no memory reader\n");
		return -1;
	}
	if (start_info_phys == 0) {
		pr_err("pvh: start_info address is 0\n");
		return -1;
	}
	if (!phys_read(mem, start_info_phys, si, PVH_START_INFO_V0_SIZE)) {
		pr_err("pvh: start_info at 0x%llx unreadable\n", (unsigned long long)start_info_phys);
		return -1;
	}
	u32 magic = load_u32(si);
	if (magic != PVH_START_MAGIC) {
		pr_err("pvh: start_info magic 0x%x, expected 0x%x\n", magic, PVH_START_MAGIC);
		return -1;
	}
	u32 version = load_u32(si + 4);
	u32 size = PVH_START_INFO_V0_SIZE;
	if (version >= 1) {
		/* Later versions only append fields, so they are read as version 1. */
		if (!phys_read(mem, start_info_phys + PVH_START_INFO_V0_SIZE,
			       si + PVH_START_INFO_V0_SIZE,
			       PVH_START_INFO_V1_SIZE - PVH_START_INFO_V0_SIZE)) {
			pr_err("pvh: start_info version %u at 0x%llx truncated\n", version,
			       (unsigned long long)start_info_phys);
			return -1;
		}
		size = PVH_START_INFO_V1_SIZE;
		if (version > 1)
			pr_info("pvh: start_info version %u, reading the version 1 fields\n", version);
	}

	u32 nr_modules = load_u32(si + 12);
	u64 modlist = load_u64(si + 16);
	u64 cmdline = load_u64(si + 24);
	u64 rsdp = load_u64(si + 32);

	read_string(mem, cmdline, out->cmdline, sizeof(out->cmdline), "command line");
	parse_modules(mem, modlist, nr_modules, out);
	parse_rsdp(mem, rsdp, out);
	if (version >= 1)
		parse_memmap(mem, load_u64(si + 40), load_u32(si + 48), out);
	else
		pr_warn("pvh: start_info version 0 carries no memory map\n");

	out->info_start = start_info_phys;
	out->info_end = start_info_phys + size;
	return 0;
}
