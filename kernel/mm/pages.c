#include "kernel/mm/pages.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/frame_alloc.h"
#include "kernel/mm/memmap.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

#define MAX_RESERVED (BOOT_MAX_MODULES + 4)

static struct frame_allocator frames;
static struct spinlock frames_lock = SPINLOCK_INIT;
static struct mem_region memmap[BOOT_MAX_MEM_REGIONS];
static u32 memmap_count;

const struct mem_region *pages_memmap(u32 *count)
{
	*count = memmap_count;
	return memmap;
}

void pages_init(const struct boot_info *bi)
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

	u64 bitmap_bytes = frame_alloc_plan(&frames, memmap, memmap_count, reserved, n);
	u64 bitmap_phys = frame_alloc_place_bitmap(&frames, bitmap_bytes);
	/* The boot stub's identity map covers only the first 4 GiB. */
	if (!bitmap_phys || bitmap_phys + bitmap_bytes > BELOW_4G)
		panic("no room below 4 GiB for the frame bitmap (%llu bytes)",
		      (unsigned long long)bitmap_bytes);
	frame_alloc_attach_bitmap(&frames, phys_to_virt(bitmap_phys));
	printk(LOG_INFO, "mem: %u map entries, %llu MiB free, frame bitmap %llu KiB at %llx\n",
	       memmap_count, (unsigned long long)(frame_alloc_free_frames(&frames) * PAGE_SIZE / MIB),
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
