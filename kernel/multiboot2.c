/* Multiboot2 information block parser.
 *
 * Policy: the walk over the tags is trusted only while every tag's size agrees
 * with total_size.  A size that cannot be right (smaller than a tag header, or
 * running past the block) means either it or total_size is corrupt and we cannot
 * tell which, so the whole block is refused.  Problems confined to one tag (a
 * payload too short for its type, a bad memory-map entry size, an unterminated
 * string, too many entries) only cost that tag or its excess, with a warning. */
#include "kernel/multiboot2.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"
#include "kernel/printk.h"

struct mb2_state {
	struct boot_info *out;
	bool seen_cmdline;
	bool seen_loader;
	bool seen_mmap;
	bool seen_acpi_old;
	bool seen_acpi_new;
	bool seen_load_base;
	bool mods_clamped;
};

/* Copies a string that must end inside [src, src + len).  An unterminated one
 * is cut at the tag end rather than dropped: its bytes are still inside the
 * block, only its terminator is missing. */
static void copy_tag_string(char *dst, u32 dst_size, const u8 *src, u32 len, const char *what)
{
	u32 n = 0;

	while (n < len && src[n] != '\0')
		n++;
	if (n == len)
		pr_warn("mb2: %s is not NUL-terminated inside its tag, cut at %u bytes\n", what, n);
	if (n >= dst_size) {
		pr_warn("mb2: %s is %u bytes long, truncated to %u\n", what, n, dst_size - 1);
		n = dst_size - 1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool rsdp_signature_ok(const u8 *p)
{
	return memcmp(p, "RSD PTR ", 8) == 0;
}

static u32 normalize_type(u32 type)
{
	/* Types beyond the five the spec names are "reserved"; folding them here
	 * means nothing downstream can mistake an unknown type for RAM. */
	if (type >= MEM_USABLE && type <= MEM_BAD)
		return type;
	return MEM_RESERVED;
}

static void parse_module(struct mb2_state *st, const u8 *p, u32 len)
{
	struct boot_info *out = st->out;

	if (len < 8) {
		pr_warn("mb2: module tag payload of %u bytes is too short, skipped\n", len);
		return;
	}
	u32 start = load_u32(p);
	u32 end = load_u32(p + 4);
	if (end < start) {
		pr_warn("mb2: module [0x%x, 0x%x) ends before it starts, skipped\n", start, end);
		return;
	}
	if (out->mod_count >= BOOT_MAX_MODULES) {
		if (!st->mods_clamped)
			pr_warn("mb2: more than %u modules, extra modules ignored\n",
				(unsigned)BOOT_MAX_MODULES);
		st->mods_clamped = true;
		return;
	}
	struct boot_module *m = &out->mods[out->mod_count++];
	m->start = start;
	m->end = end;
	copy_tag_string(m->cmdline, sizeof(m->cmdline), p + 8, len - 8, "module command line");
}

static void parse_mmap(struct mb2_state *st, const u8 *p, u32 len)
{
	struct boot_info *out = st->out;

	if (st->seen_mmap) {
		pr_warn("mb2: duplicate memory map tag ignored\n");
		return;
	}
	st->seen_mmap = true;
	if (len < 8) {
		pr_warn("mb2: memory map tag payload of %u bytes is too short, skipped\n", len);
		return;
	}
	u32 esize = load_u32(p);
	u32 version = load_u32(p + 4);
	/* Entries are read at multiples of entry_size; anything below the 24
	 * bytes we read, or not keeping entries 8-byte aligned, is not a layout
	 * any loader produces. */
	if (esize < 24 || esize % 8 != 0) {
		pr_warn("mb2: memory map entry_size %u is invalid, memory map ignored\n", esize);
		return;
	}
	if (version != 0)
		pr_warn("mb2: memory map entry_version %u, reading the version 0 fields\n", version);

	u32 bytes = len - 8;
	u32 count = bytes / esize;
	if (bytes % esize)
		pr_warn("mb2: memory map has %u trailing bytes after %u entries, ignored\n",
			bytes % esize, count);

	const u8 *e = p + 8;
	for (u32 i = 0; i < count; i++, e += esize) {
		u64 base = load_u64(e);
		u64 rlen = load_u64(e + 8);
		u32 type = load_u32(e + 16);

		/* Empty entries carry no information and would only use up slots. */
		if (rlen == 0)
			continue;
		if (out->mem_count >= BOOT_MAX_MEM_REGIONS) {
			pr_warn("mb2: memory map has more than %u entries, entries from %u on ignored\n",
				(unsigned)BOOT_MAX_MEM_REGIONS, i);
			break;
		}
		struct mem_region *r = &out->mem[out->mem_count++];
		r->base = base;
		r->len = rlen;
		r->type = normalize_type(type);
	}
}

static void parse_acpi(struct mb2_state *st, u32 type, const u8 *p, u32 len)
{
	struct boot_info *out = st->out;
	bool is_new = type == MB2_TAG_ACPI_NEW;
	u32 need = is_new ? 36 : 20;
	bool *seen = is_new ? &st->seen_acpi_new : &st->seen_acpi_old;

	if (*seen) {
		pr_warn("mb2: duplicate ACPI %s RSDP tag ignored\n", is_new ? "new" : "old");
		return;
	}
	*seen = true;
	if (len < need) {
		pr_warn("mb2: ACPI %s RSDP tag holds %u bytes, needs %u, skipped\n",
			is_new ? "new" : "old", len, need);
		return;
	}
	if (!rsdp_signature_ok(p)) {
		pr_warn("mb2: ACPI %s RSDP copy lacks the 'RSD PTR ' signature, skipped\n",
			is_new ? "new" : "old");
		return;
	}
	/* GRUB commonly passes both; the v2 copy leads to the XSDT and wins
	 * whichever order the tags come in. */
	if (!is_new && out->rsdp_len == 36)
		return;
	memcpy(out->rsdp, p, need);
	out->rsdp_len = need;
}

static void parse_tag(struct mb2_state *st, u32 type, const u8 *p, u32 len)
{
	struct boot_info *out = st->out;

	switch (type) {
	case MB2_TAG_CMDLINE:
		if (st->seen_cmdline) {
			pr_warn("mb2: duplicate command line tag ignored\n");
			return;
		}
		st->seen_cmdline = true;
		copy_tag_string(out->cmdline, sizeof(out->cmdline), p, len, "command line");
		return;
	case MB2_TAG_LOADER_NAME:
		if (st->seen_loader) {
			pr_warn("mb2: duplicate boot loader name tag ignored\n");
			return;
		}
		st->seen_loader = true;
		copy_tag_string(out->loader_name, sizeof(out->loader_name), p, len,
				"boot loader name");
		return;
	case MB2_TAG_MODULE:
		parse_module(st, p, len);
		return;
	case MB2_TAG_MMAP:
		parse_mmap(st, p, len);
		return;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		parse_acpi(st, type, p, len);
		return;
	case MB2_TAG_LOAD_BASE:
		if (st->seen_load_base) {
			pr_warn("mb2: duplicate image load base tag ignored\n");
			return;
		}
		st->seen_load_base = true;
		if (len < 4) {
			pr_warn("mb2: image load base tag payload of %u bytes is too short, skipped\n",
				len);
			return;
		}
		out->load_base = load_u32(p);
		out->load_base_valid = true;
		return;
	default:
		pr_debug("mb2: tag type %u (%u bytes) skipped\n", type, len);
		return;
	}
}

int mb2_parse(const void *mbi, u64 mbi_phys, struct boot_info *out)
{
	const u8 *b = mbi;
	struct mb2_state st = { .out = out };

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!mbi) {
		pr_err("mb2: no information block\n");
		return -1;
	}
	if (mbi_phys & 7) {
		pr_err("mb2: information block at 0x%llx is not 8-byte aligned\n",
		       (unsigned long long)mbi_phys);
		return -1;
	}

	u32 total = load_u32(b);
	if (total < MB2_INFO_MIN_SIZE) {
		pr_err("mb2: total_size %u is below the minimum of %u\n", total, MB2_INFO_MIN_SIZE);
		return -1;
	}
	if (total > MB2_INFO_MAX_SIZE) {
		pr_err("mb2: total_size %u exceeds the limit of %u, block refused\n", total,
		       MB2_INFO_MAX_SIZE);
		return -1;
	}
	if (mbi_phys + total < mbi_phys) {
		pr_err("mb2: information block at 0x%llx wraps the address space\n",
		       (unsigned long long)mbi_phys);
		return -1;
	}

	bool end_seen = false;
	u32 off = 8;
	while (off < total) {
		if (total - off < 8) {
			pr_err("mb2: tag header at offset %u runs past total_size %u\n", off, total);
			return -1;
		}
		u32 type = load_u32(b + off);
		u32 size = load_u32(b + off + 4);
		if (size < 8) {
			pr_err("mb2: tag type %u at offset %u has size %u < 8\n", type, off, size);
			return -1;
		}
		if (size > total - off) {
			pr_err("mb2: tag type %u at offset %u (size %u) runs past total_size %u\n",
			       type, off, size, total);
			return -1;
		}
		if (type == MB2_TAG_END) {
			if (size != 8)
				pr_warn("mb2: end tag has size %u instead of 8\n", size);
			end_seen = true;
			break;
		}
		parse_tag(&st, type, b + off + 8, size - 8);
		/* Both values are at most MB2_INFO_MAX_SIZE, so this cannot wrap; if
		 * the padding runs past total the loop simply ends. */
		off += (size + 7) & ~7u;
	}
	if (!end_seen)
		pr_warn("mb2: no end tag inside total_size %u, using the tags before it\n", total);
	if (!st.seen_mmap)
		pr_warn("mb2: no memory map tag\n");

	out->info_start = mbi_phys;
	out->info_end = mbi_phys + total;
	return 0;
}
