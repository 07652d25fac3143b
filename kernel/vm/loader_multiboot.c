/* Multiboot (v1) guest loader (Multiboot Specification 0.6.96).  The kernel
 * comes as a GRUB module; its segments are copied to the guest-physical
 * addresses it asks for, which must be guest RAM. */
#include "kernel/vm/loader.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pages.h"
#include "kernel/printk.h"
#include "kernel/vm/guest_mem.h"

#define MB1_HEADER_MAGIC 0x1BADB002u
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB1_SEARCH_LIMIT 8192
#define MB1_FLAG_ADDRESS_FIELDS (1u << 16)

#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MODS (1u << 3)
#define MBI_FLAG_MMAP (1u << 6)
#define MBI_FLAG_LOADER_NAME (1u << 9)

/* Where the information block goes: conventional memory that PCs always have
 * and that multiboot kernels (loaded at 1 MiB or above) leave alone. */
#define MBI_GPA 0x10000
#define MBI_MAX 0x8000

struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
} __packed;

struct mb1_mmap_entry {
	u32 size;
	u64 base;
	u64 len;
	u32 type;
} __packed;

struct elf32_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf32_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

#define ELF_PT_LOAD 1
#define ELF_EM_386 3

const struct boot_module *loader_find_module(const struct boot_info *bi, const char *role,
					     const char **args)
{
	size_t n = strlen(role);
	for (u32 i = 0; i < bi->mod_count; i++) {
		const char *c = bi->mods[i].cmdline;
		if (strncmp(c, role, n) == 0 && (c[n] == '\0' || c[n] == ' ')) {
			c += n;
			while (*c == ' ')
				c++;
			*args = c;
			return &bi->mods[i];
		}
	}
	return NULL;
}

/* Lowest and highest guest-physical byte the kernel occupies, so the
 * information block can be kept clear of it. */
static u64 loaded_lo, loaded_hi;

/* Copies into guest RAM after checking the destination really is guest RAM
 * (never the hypervisor's frames, never a device). */
static bool place(struct vm *vm, u64 gpa, const u8 *src, u64 filesz, u64 memsz)
{
	if (memsz == 0)
		return true;
	/* Page 0 is not in the host's identity map (kernel/layout.h); no
	 * multiboot kernel is linked there. */
	if (gpa < PAGE_SIZE || !guest_mem_is_ram(vm, gpa, memsz)) {
		printk(LOG_ERR, "multiboot: segment %llx-%llx is not guest RAM above page 0\n",
		       (unsigned long long)gpa, (unsigned long long)(gpa + memsz));
		return false;
	}
	loaded_lo = MIN(loaded_lo, gpa);
	loaded_hi = MAX(loaded_hi, gpa + memsz);
	memmove(phys_to_virt(gpa), src, filesz);
	memset((u8 *)phys_to_virt(gpa) + filesz, 0, memsz - filesz);
	return true;
}

static bool load_aout_kludge(struct vm *vm, const u8 *image, u64 size, u64 header_off,
			     const struct mb1_header *h, u32 *entry)
{
	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > header_off) {
		printk(LOG_ERR, "multiboot: header address fields are inconsistent\n");
		return false;
	}
	u64 file_off = header_off - (h->header_addr - h->load_addr);
	u64 load_end = h->load_end_addr ? h->load_end_addr : h->load_addr + (size - file_off);
	u64 bss_end = h->bss_end_addr ? h->bss_end_addr : load_end;
	if (load_end < h->load_addr || bss_end < load_end || load_end - h->load_addr > size - file_off) {
		printk(LOG_ERR, "multiboot: load range runs past the module\n");
		return false;
	}
	*entry = h->entry_addr;
	return place(vm, h->load_addr, image + file_off, load_end - h->load_addr,
		     bss_end - h->load_addr);
}

static bool load_elf32(struct vm *vm, const u8 *image, u64 size, u32 *entry)
{
	const struct elf32_ehdr *eh = (const void *)image;

	if (size < sizeof(*eh) || memcmp(eh->ident, "\x7f" "ELF", 4) != 0 || eh->ident[4] != 1) {
		printk(LOG_ERR, "multiboot: not an ELF32 image and no address fields in the header\n");
		return false;
	}
	if (eh->machine != ELF_EM_386 || eh->phentsize < sizeof(struct elf32_phdr) ||
	    eh->phoff > size || (u64)eh->phnum * eh->phentsize > size - eh->phoff) {
		printk(LOG_ERR, "multiboot: bad ELF header (machine %u, %u program headers)\n",
		       eh->machine, eh->phnum);
		return false;
	}
	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = (const void *)(image + eh->phoff + i * eh->phentsize);
		if (ph->type != ELF_PT_LOAD)
			continue;
		if (ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset) {
			printk(LOG_ERR, "multiboot: ELF segment %u runs past the file\n", i);
			return false;
		}
		if (!place(vm, ph->paddr, image + ph->offset, ph->filesz, ph->memsz))
			return false;
	}
	*entry = eh->entry;
	return true;
}

/* Appends to the information block; false when it would overflow. */
struct mbi_builder {
	u8 *base;
	u32 used;
};

static u32 mbi_add(struct mbi_builder *b, const void *data, u32 len)
{
	u32 at = ALIGN_UP(b->used, 8);
	if (at + len > MBI_MAX)
		return 0;
	memcpy(b->base + at, data, len);
	b->used = at + len;
	return MBI_GPA + at;
}

/* A module handed to the guest: where it now lives in guest RAM, and its
 * string (the module2 command line after the role word). */
struct guest_module {
	u32 start, end;
	const char *string;
};

#define GUEST_MODULES_MAX BOOT_MAX_MODULES

static bool build_mbi(struct vm *vm, const char *args, u64 image_lo, u64 image_hi,
		      const struct guest_module *mods, u32 nmods)
{
	struct mbi_builder b = {phys_to_virt(MBI_GPA), 0};
	struct mb1_info info;
	static const char loader_name[] = "hv " "multiboot loader";

	if (!guest_mem_is_ram(vm, MBI_GPA, MBI_MAX) || (image_lo < MBI_GPA + MBI_MAX && MBI_GPA < image_hi)) {
		printk(LOG_ERR, "multiboot: no room for the information block at %x\n", MBI_GPA);
		return false;
	}
	memset(&info, 0, sizeof(info));
	b.used = sizeof(info);
	info.flags = MBI_FLAG_MEM | MBI_FLAG_CMDLINE | MBI_FLAG_MMAP | MBI_FLAG_LOADER_NAME |
		     MBI_FLAG_MODS;
	info.cmdline = mbi_add(&b, args, (u32)strlen(args) + 1);
	info.boot_loader_name = mbi_add(&b, loader_name, sizeof(loader_name));
	/* Module entries: start, end, string, reserved (Multiboot 0.6.96, 3.3). */
	u32 entries[GUEST_MODULES_MAX * 4];
	for (u32 i = 0; i < nmods; i++) {
		entries[i * 4 + 0] = mods[i].start;
		entries[i * 4 + 1] = mods[i].end;
		entries[i * 4 + 2] = mbi_add(&b, mods[i].string, (u32)strlen(mods[i].string) + 1);
		entries[i * 4 + 3] = 0;
		if (!entries[i * 4 + 2])
			return false;
	}
	info.mods_count = nmods;
	info.mods_addr = nmods ? mbi_add(&b, entries, nmods * 16) : 0;
	if (nmods && !info.mods_addr)
		return false;

	u32 mmap_start = ALIGN_UP(b.used, 8);
	b.used = mmap_start;
	for (u32 i = 0; i < vm->mem_count; i++) {
		const struct guest_mem_region *r = &vm->mem[i];
		struct mb1_mmap_entry e = {sizeof(e) - 4, r->base, r->len, r->type};
		if (r->type == MEM_USABLE && r->base == 0)
			info.mem_lower = (u32)(MIN(r->len, 640 * 1024ULL) / 1024);
		if (r->type == MEM_USABLE && r->base <= MIB && r->base + r->len > MIB)
			info.mem_upper = (u32)(MIN(r->base + r->len - MIB, 0xFFFFFFFFULL * 1024) / 1024);
		if (b.used + sizeof(e) > MBI_MAX)
			return false;
		memcpy(b.base + b.used, &e, sizeof(e));
		b.used += sizeof(e);
	}
	info.mmap_addr = MBI_GPA + mmap_start;
	info.mmap_length = b.used - mmap_start;
	if (!info.cmdline || !info.boot_loader_name)
		return false;
	memcpy(b.base, &info, sizeof(info));
	return true;
}

/* The guest's own modules: every module2 line whose role is "module".  All of
 * them are copied aside first (GRUB may have put one where another is about to
 * go), then laid out page-aligned right after the kernel, in guest RAM. */
static bool place_modules(struct vm *vm, const struct boot_info *bi, struct guest_module *out,
			  u32 *count)
{
	struct staged_module {
		u8 *copy;
		u64 size, pages;
		const char *string;
	} tmp[GUEST_MODULES_MAX];
	u32 n = 0;
	bool ok = true;

	for (u32 i = 0; i < bi->mod_count && n < GUEST_MODULES_MAX; i++) {
		const char *c = bi->mods[i].cmdline;
		if (strncmp(c, "module", 6) != 0 || (c[6] != ' ' && c[6] != '\0'))
			continue;
		c += 6;
		while (*c == ' ')
			c++;
		u64 size = bi->mods[i].end - bi->mods[i].start;
		u64 pages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
		u8 *copy = pages ? pages_alloc(pages) : NULL;
		if (!copy && pages) {
			printk(LOG_ERR, "multiboot: no room to stage module '%s' (%llu KiB)\n", c,
			       (unsigned long long)(size / 1024));
			ok = false;
			break;
		}
		if (size)
			memcpy(copy, phys_to_virt(bi->mods[i].start), size);
		tmp[n++] = (struct staged_module){copy, size, pages, c};
	}
	u64 at = ALIGN_UP(loaded_hi, PAGE_SIZE);
	for (u32 i = 0; i < n; i++) {
		u64 end = at + MAX(tmp[i].size, (u64)1);
		if (ok && (end > 0xFFFFFFFFULL || !guest_mem_is_ram(vm, at, end - at))) {
			printk(LOG_ERR, "multiboot: module '%s' does not fit in guest RAM at %llx\n",
			       tmp[i].string, (unsigned long long)at);
			ok = false;
		}
		if (ok) {
			memcpy(phys_to_virt(at), tmp[i].copy, tmp[i].size);
			out[i] = (struct guest_module){(u32)at, (u32)(at + tmp[i].size), tmp[i].string};
			at = ALIGN_UP(at + tmp[i].size, PAGE_SIZE);
		}
		if (tmp[i].pages)
			pages_free(tmp[i].copy, tmp[i].pages);
	}
	*count = ok ? n : 0;
	return ok;
}

bool multiboot_load(struct vm *vm, struct vp *vp, const struct boot_info *bi,
		    const struct boot_module *mod, const char *args)
{
	u64 size = mod->end - mod->start;
	struct guest_module mods[GUEST_MODULES_MAX];
	u32 nmods = 0;

	/* Work from a private copy: GRUB may have put the module right where the
	 * kernel wants to be loaded. */
	u64 pages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
	u8 *image = pages ? pages_alloc(pages) : NULL;
	if (!image) {
		printk(LOG_ERR, "multiboot: cannot copy the %llu KiB module (hv_mem too small?)\n",
		       (unsigned long long)(size / 1024));
		return false;
	}
	memcpy(image, phys_to_virt(mod->start), size);

	const struct mb1_header *h = NULL;
	u64 header_off = 0;
	for (u64 off = 0; off + sizeof(*h) <= MIN(size, (u64)MB1_SEARCH_LIMIT); off += 4) {
		const struct mb1_header *c = (const void *)(image + off);
		if (c->magic == MB1_HEADER_MAGIC && c->magic + c->flags + c->checksum == 0) {
			h = c;
			header_off = off;
			break;
		}
	}
	bool ok = false;
	u32 entry = 0;
	loaded_lo = ~0ULL;
	loaded_hi = 0;
	if (!h) {
		printk(LOG_ERR, "multiboot: no multiboot header in the first 8 KiB of the module\n");
	} else if (h->flags & MB1_FLAG_ADDRESS_FIELDS) {
		ok = load_aout_kludge(vm, image, size, header_off, h, &entry);
	} else {
		ok = load_elf32(vm, image, size, &entry);
	}
	pages_free(image, pages);
	if (!ok || !place_modules(vm, bi, mods, &nmods) ||
	    !build_mbi(vm, args, loaded_lo, loaded_hi, mods, nmods))
		return false;

	vp_set_reg(vp, VP_RIP, entry);
	vp->gpr[VP_RAX] = MB1_BOOTLOADER_MAGIC;
	vp->gpr[VP_RBX] = MBI_GPA;
	printk(LOG_INFO, "multiboot: guest loaded, entry %x, command line '%s', %u module(s)\n",
	       entry, args, nmods);
	return true;
}
