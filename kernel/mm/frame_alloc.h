/* Physical 4 KiB frame allocator: a bitmap with one bit per frame between the
 * lowest and the highest free frame.  Pure logic: it never touches physical
 * memory itself, the caller maps the bitmap and hands over a pointer.
 *
 * Bring-up happens in three steps because the bitmap must live in memory the
 * allocator is about to manage:
 *   bytes = frame_alloc_plan(fa, map, n, reserved, n_reserved);
 *   pa    = frame_alloc_place_bitmap(fa, bytes);
 *   ...map [pa, pa + bytes) somewhere...
 *   frame_alloc_attach_bitmap(fa, mapped_pointer);
 * after which frame_alloc/frame_free work.  Not thread-safe: callers on several
 * CPUs need their own lock. */
#ifndef HV_KERNEL_MM_FRAME_ALLOC_H
#define HV_KERNEL_MM_FRAME_ALLOC_H

#include "kernel/boot_info.h"
#include "kernel/types.h"

/* Free ranges remembered from the plan.  Besides seeding the bitmap they tell
 * frame_free which frames can ever be legitimately freed. */
#define FRAME_MAX_RANGES 128

/* Memory at or above this is ignored: it is the architectural maximum physical
 * address width, so a map entry beyond it is bogus and would only inflate the
 * bitmap. */
#define FRAME_PHYS_LIMIT (1ULL << 52)

struct frame_range {
	u64 base; /* inclusive, page aligned */
	u64 end;  /* exclusive, page aligned */
};

struct frame_allocator {
	struct frame_range free[FRAME_MAX_RANGES]; /* sorted, disjoint, non-adjacent */
	u32 n_free;
	u64 *bitmap;      /* bit set = frame not available */
	u64 bitmap_bytes; /* size the bitmap needs */
	u64 base_frame;   /* frame number of bit 0 */
	u64 frames;       /* bits covered */
	u64 free_frames;
	u64 hint;         /* bit index where the next search starts */
	bool live;
};

/* Resets *fa and computes the free memory: MEM_USABLE regions of mem shrunk
 * to whole pages, minus every region of another type (so an unsanitized map is
 * still safe), minus the reserved ranges (widened to whole pages), minus frame
 * 0 (physical address 0 is the failure value of frame_alloc).  Keeping the
 * first MiB, the image, the modules and the boot information out is the
 * caller's job, through reserved.  Returns the bitmap size in bytes (a multiple
 * of 8), 0 when there is no free memory. */
u64 frame_alloc_plan(struct frame_allocator *fa, const struct mem_region *mem, u32 n,
		     const struct frame_range *reserved, u32 n_reserved);

/* Takes page-aligned physical space for a bitmap of `bytes` (at least what
 * frame_alloc_plan returned) out of the lowest free range that holds it and
 * returns its address, or 0 when none is big enough. */
u64 frame_alloc_place_bitmap(struct frame_allocator *fa, u64 bytes);

/* Hands over the mapped bitmap (8-byte aligned, frame_alloc_plan's size) and
 * makes the allocator live. */
void frame_alloc_attach_bitmap(struct frame_allocator *fa, void *bitmap);

/* Allocates count contiguous frames whose first address is a multiple of
 * align (a power of two >= PAGE_SIZE; 0 means PAGE_SIZE) and whose end is at
 * or below max_end (0 = no limit).  Returns the physical address, or 0 when no
 * such run is free. */
u64 frame_alloc(struct frame_allocator *fa, u64 count, u64 align, u64 max_end);

/* Returns count frames starting at phys.  A call that covers any frame not
 * currently allocated (double free, never-free memory, outside the managed
 * range, misaligned address) is reported and ignored as a whole. */
void frame_free(struct frame_allocator *fa, u64 phys, u64 count);

u64 frame_alloc_free_frames(const struct frame_allocator *fa);

#endif
