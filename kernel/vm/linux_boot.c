/* The Linux x86 boot protocol as pure logic; see linux_boot.h. */
#include "kernel/vm/linux_boot.h"
#include "kernel/boot_info.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"
#include "kernel/printk.h"

/* Bounds this loader puts on values the protocol leaves open, so that a
 * corrupt header cannot ask for absurd amounts of memory. */
#define LINUX_ALIGNMENT_MIN PAGE_SIZE
#define LINUX_ALIGNMENT_MAX GIB
#define LINUX_INIT_SIZE_MAX GIB
/* The 32-bit entry runs with paging off: the kernel and boot_params must be
 * reachable with 32-bit addresses. */
#define LINUX_32BIT_LIMIT (4 * GIB)
/* Conventional memory below the EBDA: Linux (5.13 and later) reserves the whole
 * first MiB from its allocator, and boot loaders have always put the zero page
 * and command line there. */
#define LINUX_LOW_BLOCK_LOWEST 0x10000ULL
#define LINUX_LOW_BLOCK_LIMIT 0xA0000ULL
/* Anything the kernel, the initrd or the fallback boot block may use sits above
 * the real-mode area. */
#define LINUX_HIGH_LOWEST MIB

#define LINUX_MAX_AVOID (BOOT_MAX_MODULES + 4)

/* ---- The image ------------------------------------------------------------ */


static bool is_power_of_two(u64 v)
{
	return v && !(v & (v - 1));
}

bool linux_image_parse(const u8 *file, u64 size, struct linux_image *out)
{
	const u64 magic_end = LINUX_SETUP_HEADER_OFFSET +
			      offsetof(struct linux_setup_header, version) + sizeof(u16);
	const u64 needed_end = LINUX_SETUP_HEADER_OFFSET +
			       offsetof(struct linux_setup_header, init_size) + sizeof(u32);
	struct linux_setup_header h;

	if (!file || size < magic_end) {
		printk(LOG_ERR, "linux: the %llu-byte module is too short to hold a setup header\n",
		       (unsigned long long)size);
		return false;
	}
	u16 boot_flag = load_u16(file + LINUX_SETUP_HEADER_OFFSET +
				offsetof(struct linux_setup_header, boot_flag));
	u32 magic = load_u32(file + LINUX_SETUP_HEADER_OFFSET +
				offsetof(struct linux_setup_header, header));
	if (boot_flag != LINUX_BOOT_FLAG || magic != LINUX_HEADER_MAGIC) {
		printk(LOG_ERR, "linux: not a bzImage (boot flag %x, no \"HdrS\" at 0x202)\n",
		       boot_flag);
		return false;
	}
	u16 version = load_u16(file + LINUX_SETUP_HEADER_OFFSET +
				offsetof(struct linux_setup_header, version));
	if (version < LINUX_PROTOCOL_MIN) {
		printk(LOG_ERR, "linux: boot protocol %u.%02u is older than the 2.12 this loader needs\n",
		       version >> 8, version & 0xFF);
		return false;
	}
	u64 header_end = 0x202 + (u64)file[LINUX_HEADER_JUMP_OFFSET];
	if (header_end < needed_end || header_end > LINUX_HEADER_LIMIT || header_end > size) {
		printk(LOG_ERR, "linux: setup header ends at %llx (needs %llx-%x, file %llu bytes)\n",
		       (unsigned long long)header_end, (unsigned long long)needed_end,
		       LINUX_HEADER_LIMIT, (unsigned long long)size);
		return false;
	}
	/* Fields past the header's end (a kernel older than the struct) read as 0. */
	memset(&h, 0, sizeof(h));
	memcpy(&h, file + LINUX_SETUP_HEADER_OFFSET,
	       MIN(header_end - LINUX_SETUP_HEADER_OFFSET, (u64)sizeof(h)));

	u32 sects = h.setup_sects ? h.setup_sects : LINUX_SETUP_SECTS_DEFAULT;
	u64 setup_size = (u64)(sects + 1) * LINUX_SECTOR_SIZE;
	if (setup_size < header_end || setup_size >= size) {
		printk(LOG_ERR, "linux: setup_sects %u puts the kernel at %llx, outside the %llu-byte file\n",
		       h.setup_sects, (unsigned long long)setup_size, (unsigned long long)size);
		return false;
	}
	u64 kernel_size = size - setup_size;
	if ((u64)h.syssize * 16 > kernel_size) {
		printk(LOG_ERR, "linux: truncated image: syssize says %llu bytes of kernel, the file has %llu\n",
		       (unsigned long long)h.syssize * 16, (unsigned long long)kernel_size);
		return false;
	}
	if (!(h.loadflags & LINUX_LOADED_HIGH)) {
		printk(LOG_ERR, "linux: loadflags %x: not a bzImage (a zImage loads at 0x10000)\n",
		       h.loadflags);
		return false;
	}
	if (!h.relocatable_kernel) {
		printk(LOG_ERR, "linux: the kernel is not relocatable; this loader cannot promise it a fixed address\n");
		return false;
	}
	if (!is_power_of_two(h.kernel_alignment) || h.kernel_alignment < LINUX_ALIGNMENT_MIN ||
	    h.kernel_alignment > LINUX_ALIGNMENT_MAX) {
		printk(LOG_ERR, "linux: kernel_alignment %x is not a power of two from 4 KiB to 1 GiB\n",
		       h.kernel_alignment);
		return false;
	}
	if (h.init_size < kernel_size || h.init_size > LINUX_INIT_SIZE_MAX) {
		printk(LOG_ERR, "linux: init_size %x is smaller than the %llu-byte kernel or above 1 GiB\n",
		       h.init_size, (unsigned long long)kernel_size);
		return false;
	}
	/* A relocatable kernel loaded below pref_address (LOAD_PHYSICAL_ADDR)
	 * still decompresses there, so that is the lowest usable load address. */
	u64 pref = h.pref_address ? h.pref_address : LINUX_HIGH_LOWEST;
	if (pref > LINUX_32BIT_LIMIT) {
		printk(LOG_ERR, "linux: pref_address %llx is above 4 GiB\n", (unsigned long long)pref);
		return false;
	}
	pref = ALIGN_UP(pref, h.kernel_alignment);
	if (pref + h.init_size > LINUX_32BIT_LIMIT) {
		printk(LOG_ERR, "linux: pref_address %llx + init_size %x does not fit below 4 GiB\n",
		       (unsigned long long)pref, h.init_size);
		return false;
	}

	*out = (struct linux_image){
		.protocol = version,
		.header_end = (u32)header_end,
		.kernel_offset = setup_size,
		.kernel_size = kernel_size,
		.alignment = h.kernel_alignment,
		.init_size = h.init_size,
		.pref_address = pref,
		.initrd_limit = (u64)h.initrd_addr_max + 1,
		.cmdline_max = h.cmdline_size,
		.xloadflags = h.xloadflags,
		.loadflags = h.loadflags,
	};
	return true;
}

bool linux_cmdline_fits(const struct linux_image *img, u64 len)
{
	if (len > img->cmdline_max) {
		printk(LOG_ERR, "linux: the command line has %llu bytes; the kernel takes at most %u\n",
		       (unsigned long long)len, img->cmdline_max);
		return false;
	}
	return true;
}

/* ---- Placement ------------------------------------------------------------ */

static u64 region_end(const struct guest_mem_region *r)
{
	return r->len > ~0ULL - r->base ? ~0ULL : r->base + r->len;
}

/* True when [base, end) is covered by MEM_USABLE regions.  The map need not be
 * sorted or merged: each step looks for a region that continues the run. */
static bool range_usable(const struct guest_mem_region *mem, u32 n, u64 base, u64 end)
{
	u64 cur = base;

	while (cur < end) {
		bool advanced = false;
		for (u32 i = 0; i < n; i++) {
			if (mem[i].type == MEM_USABLE && mem[i].base <= cur && cur < region_end(&mem[i])) {
				cur = region_end(&mem[i]);
				advanced = true;
			}
		}
		if (!advanced)
			return false;
	}
	return true;
}

static bool range_overlaps(const struct linux_range *a, u32 n, u64 base, u64 end)
{
	for (u32 i = 0; i < n; i++) {
		if (a[i].base < end && base < a[i].end)
			return true;
	}
	return false;
}

static bool place_fits(const struct guest_mem_region *mem, u32 mem_count,
		       const struct linux_range *avoid, u32 avoid_count,
		       const struct linux_place_request *req, u64 base)
{
	if (base & (req->align - 1) || base < req->lowest || base > req->limit ||
	    req->size > req->limit - base)
		return false;
	return range_usable(mem, mem_count, base, base + req->size) &&
	       !range_overlaps(avoid, avoid_count, base, base + req->size);
}

/* Lowest first, the best address is the lowest bound, a RAM region's start or
 * an avoided range's end, rounded up to the alignment; highest first, the
 * limit, a region's end or an avoided range's start, less the size and rounded
 * down.  (If the best address moved by one alignment step were also free, one
 * of these would lie in between.)  So only those candidates are tried. */
static void consider(const struct guest_mem_region *mem, u32 mem_count,
		     const struct linux_range *avoid, u32 avoid_count,
		     const struct linux_place_request *req, u64 candidate, bool *found, u64 *best)
{
	if (!place_fits(mem, mem_count, avoid, avoid_count, req, candidate))
		return;
	if (!*found || (req->highest_first ? candidate > *best : candidate < *best))
		*best = candidate;
	*found = true;
}

static u64 below(u64 end, u64 size, u64 align)
{
	/* ~0 never fits: no nonzero size ends at or below it. */
	return end >= size ? ALIGN_DOWN(end - size, align) : ~0ULL;
}

bool linux_find_place(const struct guest_mem_region *mem, u32 mem_count,
		      const struct linux_range *avoid, u32 avoid_count,
		      const struct linux_place_request *req, u64 *out)
{
	bool found = false;
	u64 best = 0;

	if (req->size == 0 || !is_power_of_two(req->align))
		return false;
	if (req->preferred && place_fits(mem, mem_count, avoid, avoid_count, req, req->preferred)) {
		*out = req->preferred;
		return true;
	}
	if (req->highest_first) {
		consider(mem, mem_count, avoid, avoid_count, req,
			 below(req->limit, req->size, req->align), &found, &best);
		for (u32 i = 0; i < mem_count; i++)
			consider(mem, mem_count, avoid, avoid_count, req,
				 below(region_end(&mem[i]), req->size, req->align), &found, &best);
		for (u32 i = 0; i < avoid_count; i++)
			consider(mem, mem_count, avoid, avoid_count, req,
				 below(avoid[i].base, req->size, req->align), &found, &best);
	} else {
		consider(mem, mem_count, avoid, avoid_count, req, ALIGN_UP(req->lowest, req->align),
			 &found, &best);
		for (u32 i = 0; i < mem_count; i++)
			consider(mem, mem_count, avoid, avoid_count, req,
				 ALIGN_UP(mem[i].base, req->align), &found, &best);
		for (u32 i = 0; i < avoid_count; i++)
			consider(mem, mem_count, avoid, avoid_count, req,
				 ALIGN_UP(avoid[i].end, req->align), &found, &best);
	}
	if (found)
		*out = best;
	return found;
}

u64 linux_boot_block_size(u64 cmdline_len)
{
	return ALIGN_UP(LINUX_BLOCK_CMDLINE + cmdline_len + 1, PAGE_SIZE);
}

bool linux_plan_layout(const struct linux_layout_input *in, struct linux_layout *out)
{
	const struct linux_image *img = in->img;
	struct linux_range avoid[LINUX_MAX_AVOID];
	u32 n = 0;

	if (in->module_count > LINUX_MAX_AVOID - 2) {
		printk(LOG_ERR, "linux: %u boot modules; at most %u are supported\n", in->module_count,
		       LINUX_MAX_AVOID - 2);
		return false;
	}
	for (u32 i = 0; i < in->module_count; i++)
		avoid[n++] = in->modules[i];
	*out = (struct linux_layout){0};

	if (in->initrd_size) {
		u64 base = in->initrd_base, end = base + in->initrd_size;
		if (end > base && end <= img->initrd_limit &&
		    range_usable(in->mem, in->mem_count, base, end)) {
			out->initrd = base;
		} else {
			struct linux_place_request req = {
				.size = in->initrd_size,
				.align = PAGE_SIZE,
				.lowest = LINUX_HIGH_LOWEST,
				.limit = MIN(img->initrd_limit, LINUX_32BIT_LIMIT),
				.highest_first = true,
			};
			if (!linux_find_place(in->mem, in->mem_count, avoid, n, &req, &out->initrd)) {
				printk(LOG_ERR, "linux: no room for the %llu KiB initrd in guest RAM below %llx\n",
				       (unsigned long long)(in->initrd_size / 1024),
				       (unsigned long long)req.limit);
				return false;
			}
			out->initrd_moves = true;
		}
		avoid[n++] = (struct linux_range){out->initrd, out->initrd + in->initrd_size};
	}

	struct linux_place_request kreq = {
		.size = img->init_size,
		.align = img->alignment,
		.lowest = img->pref_address,
		.limit = LINUX_32BIT_LIMIT,
		.preferred = img->pref_address,
	};
	if (!linux_find_place(in->mem, in->mem_count, avoid, n, &kreq, &out->kernel)) {
		printk(LOG_ERR, "linux: no %llu MiB of free guest RAM aligned to %llx between %llx and 4 GiB for the kernel\n",
		       (unsigned long long)(img->init_size / MIB), (unsigned long long)img->alignment,
		       (unsigned long long)img->pref_address);
		return false;
	}
	avoid[n++] = (struct linux_range){out->kernel, out->kernel + img->init_size};

	struct linux_place_request breq = {
		.size = in->boot_block_size,
		.align = PAGE_SIZE,
		.lowest = LINUX_LOW_BLOCK_LOWEST,
		.limit = LINUX_LOW_BLOCK_LIMIT,
		.highest_first = true,
	};
	if (!linux_find_place(in->mem, in->mem_count, avoid, n, &breq, &out->boot_block)) {
		breq.lowest = LINUX_HIGH_LOWEST;
		breq.limit = LINUX_32BIT_LIMIT;
		if (!linux_find_place(in->mem, in->mem_count, avoid, n, &breq, &out->boot_block)) {
			printk(LOG_ERR, "linux: no room for boot_params and the command line below 4 GiB\n");
			return false;
		}
	}
	return true;
}

/* ---- boot_params ---------------------------------------------------------- */

static u32 e820_type(u32 type)
{
	switch (type) {
	case MEM_USABLE:
		return LINUX_E820_RAM;
	case MEM_ACPI_RECLAIMABLE:
		return LINUX_E820_ACPI;
	case MEM_ACPI_NVS:
		return LINUX_E820_NVS;
	case MEM_BAD:
		return LINUX_E820_UNUSABLE;
	default:
		return LINUX_E820_RESERVED;
	}
}

u32 linux_build_e820(const struct guest_mem_region *mem, u32 mem_count,
		     struct linux_e820_entry *out, u32 max)
{
	u32 n = 0;

	for (u32 i = 0; i < mem_count; i++) {
		if (mem[i].len == 0)
			continue;
		u32 type = e820_type(mem[i].type);
		if (n && out[n - 1].type == type && out[n - 1].addr + out[n - 1].size == mem[i].base) {
			out[n - 1].size += mem[i].len;
			continue;
		}
		if (n == max) {
			/* The map is sorted: what is lost is the top, so memory only
			 * shrinks; a dropped reserved range becomes a hole, never RAM. */
			printk(LOG_WARN, "linux: the guest map needs more than %u e820 entries; dropping those from %llx up\n",
			       max, (unsigned long long)mem[i].base);
			break;
		}
		out[n++] = (struct linux_e820_entry){mem[i].base, mem[i].len, type};
	}
	return n;
}

void linux_build_boot_params(struct linux_boot_params *bp, const u8 *file,
			     const struct linux_image *img, const struct linux_boot_values *v,
			     const struct guest_mem_region *mem, u32 mem_count)
{
	memset(bp, 0, sizeof(*bp));
	/* "copy the setup header from the kernel image (from offset 0x01f1 to the
	 * end of the header)" -- boot.rst, 32-bit boot protocol.  header_end was
	 * checked against both the file and boot_params' room for the header. */
	memcpy((u8 *)bp + LINUX_SETUP_HEADER_OFFSET, file + LINUX_SETUP_HEADER_OFFSET,
	       img->header_end - LINUX_SETUP_HEADER_OFFSET);

	struct linux_setup_header *h = &bp->hdr;
	h->type_of_loader = LINUX_LOADER_TYPE_UNDEFINED;
	/* The protected-mode entry is the load address; the kernel reads
	 * code32_start back to find where it was put. */
	h->code32_start = (u32)v->kernel;
	/* No real-mode setup code runs, so its heap and the obsolete segment
	 * flag mean nothing; the kernel picks its own KASLR flag. */
	h->loadflags &= (u8)~(LINUX_CAN_USE_HEAP | LINUX_KEEP_SEGMENTS | LINUX_KASLR_FLAG);
	h->heap_end_ptr = 0;
	h->cmd_line_ptr = (u32)v->cmdline;
	bp->ext_cmd_line_ptr = (u32)(v->cmdline >> 32);
	/* Set even without an initrd, so that nothing left in the image's copy
	 * of these fields can pass for one. */
	u64 initrd = v->initrd_size ? v->initrd : 0;
	h->ramdisk_image = (u32)initrd;
	bp->ext_ramdisk_image = (u32)(initrd >> 32);
	h->ramdisk_size = (u32)v->initrd_size;
	bp->ext_ramdisk_size = (u32)(v->initrd_size >> 32);
	bp->e820_entries = (u8)linux_build_e820(mem, mem_count, bp->e820_table,
						LINUX_E820_MAX_ENTRIES);
	bp->acpi_rsdp_addr = v->rsdp;
}
