#include "kernel/mm/pages.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/frame_alloc.h"
#include "kernel/mm/memmap.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

#define MAX_RESERVED (BOOT_MAX_MODULES + 6)
#define MAX_HV_RANGES 4

static struct frame_allocator frames;
static struct spinlock frames_lock = SPINLOCK_INIT;
static struct mem_region memmap[BOOT_MAX_MEM_REGIONS];
static u32 memmap_count;
/* Physical memory the hypervisor keeps for itself; everything else is the
 * guest's.  See pages_init. */
static struct frame_range hv_ranges[MAX_HV_RANGES];
static u32 hv_range_count;

const struct mem_region *pages_memmap(u32 *count)
{
	*count = memmap_count;
	return memmap;
}

/* Lowest address B such that the free frames in [B, 4 GiB) add up to bytes,
 * rounded down to 2 MiB so the guest's view can use large pages; 0 if there is
 * not that much. */
static u64 pool_boundary(u64 bytes)
{
	u64 have = 0;

	for (u32 i = frames.n_free; i-- > 0;) {
		u64 base = frames.free[i].base;
		u64 end = MIN(frames.free[i].end, BELOW_4G);
		if (base >= end)
			continue;
		if (have + (end - base) >= bytes)
			return ALIGN_DOWN(end - (bytes - have), 2 * MIB);
		have += end - base;
	}
	return 0;
}

static u64 pool_top_below_4g(void)
{
	for (u32 i = frames.n_free; i-- > 0;) {
		if (frames.free[i].base < BELOW_4G)
			return MIN(frames.free[i].end, BELOW_4G);
	}
	return 0;
}

const struct frame_range *pages_hv_ranges(u32 *count)
{
	*count = hv_range_count;
	return hv_ranges;
}

void pages_init(const struct boot_info *bi, u64 pool_bytes)
{
	struct frame_range reserved[MAX_RESERVED];
	u32 n = 0;

	memmap_count = memmap_sanitize(bi->mem, bi->mem_count, memmap, ARRAY_SIZE(memmap));
	if (memmap_count == 0)
		panic("the boot loader gave no usable memory map");

	/* Real-mode land: BIOS data, EBDA, the AP trampoline, and what guests
	 * expect to find free there. */
	reserved[n++] = (struct frame_range){0, 1 * MIB};
	reserved[n++] = (struct frame_range){image_load_phys,
					     image_virt_to_phys(__image_end)};
	if (bi->info_end > bi->info_start)
		reserved[n++] = (struct frame_range){bi->info_start, bi->info_end};
	for (u32 i = 0; i < bi->mod_count && n < MAX_RESERVED; i++)
		reserved[n++] = (struct frame_range){bi->mods[i].start, bi->mods[i].end};

	/* The hypervisor's pool is the top pool_bytes of free memory below 4 GiB
	 * (page tables and trampoline CR3 must stay below 4 GiB); guests keep the
	 * low memory PCs give them and everything above 4 GiB.  So: plan once to
	 * see what is free, find the boundary, then plan again with everything
	 * outside the pool reserved. */
	frame_alloc_plan(&frames, memmap, memmap_count, reserved, n);
	u64 boundary = pool_boundary(pool_bytes);
	if (!boundary)
		panic("not enough free memory below 4 GiB for the hypervisor's %llu MiB pool",
		      (unsigned long long)(pool_bytes / MIB));
	reserved[n++] = (struct frame_range){1 * MIB, boundary};
	reserved[n++] = (struct frame_range){BELOW_4G, FRAME_PHYS_LIMIT};
	hv_ranges[hv_range_count++] = (struct frame_range){boundary, pool_top_below_4g()};
	if (image_load_phys < boundary)
		hv_ranges[hv_range_count++] = (struct frame_range){
			ALIGN_DOWN(image_load_phys, PAGE_SIZE),
			ALIGN_UP(image_virt_to_phys(__image_end), PAGE_SIZE)};

	u64 bitmap_bytes = frame_alloc_plan(&frames, memmap, memmap_count, reserved, n);
	u64 bitmap_phys = frame_alloc_place_bitmap(&frames, bitmap_bytes);
	/* The boot stub's identity map covers only the first 4 GiB. */
	if (!bitmap_phys || bitmap_phys + bitmap_bytes > BELOW_4G)
		panic("no room below 4 GiB for the frame bitmap (%llu bytes)",
		      (unsigned long long)bitmap_bytes);
	frame_alloc_attach_bitmap(&frames, phys_to_virt(bitmap_phys));
	printk(LOG_INFO, "mem: %u map entries; hypervisor pool %llx-%llx (%llu MiB free), frame bitmap %llu KiB at %llx\n",
	       memmap_count, (unsigned long long)hv_ranges[0].base,
	       (unsigned long long)hv_ranges[0].end,
	       (unsigned long long)(frame_alloc_free_frames(&frames) * PAGE_SIZE / MIB),
	       (unsigned long long)(bitmap_bytes / 1024), (unsigned long long)bitmap_phys);
}

u64 pages_alloc_phys(u64 count, u64 max_end)
{
	u64 flags = spin_lock_irqsave(&frames_lock);
	u64 pa = frame_alloc(&frames, count, PAGE_SIZE, max_end);
	spin_unlock_irqrestore(&frames_lock, flags);
	if (pa)
		memset(phys_to_virt(pa), 0, count * PAGE_SIZE);
	return pa;
}

void *pages_alloc(u64 count)
{
	u64 pa = pages_alloc_phys(count, 0);
	return pa ? phys_to_virt(pa) : NULL;
}

void pages_free(void *p, u64 count)
{
	u64 flags = spin_lock_irqsave(&frames_lock);
	frame_free(&frames, virt_to_phys(p), count);
	spin_unlock_irqrestore(&frames_lock, flags);
}

u64 pages_free_count(void)
{
	return frame_alloc_free_frames(&frames);
}
