/* The hypervisor's physical memory: one frame allocator for the whole machine,
 * built at boot from the loader's memory map. */
#ifndef HV_KERNEL_MM_PAGES_H
#define HV_KERNEL_MM_PAGES_H

#include "kernel/boot_info.h"
#include "kernel/types.h"

#define BELOW_4G (4ULL * GIB)

/* Sanitizes the map, sets aside the hypervisor's pool (the top pool_bytes of
 * free memory below 4 GiB) and starts the allocator on it.  Panics if there is
 * not enough memory. */
void pages_init(const struct boot_info *bi, u64 pool_bytes);

/* Physical address of count zeroed, contiguous frames, or 0.  max_end = 0 means
 * anywhere; BELOW_4G for structures 32-bit code must reach. */
u64 pages_alloc_phys(u64 count, u64 max_end);
void *pages_alloc(u64 count);
void pages_free(void *p, u64 count);
u64 pages_free_count(void);

/* Physical ranges the hypervisor owns (its pool and, when loaded low, its
 * image): guests must never see them as RAM. */
struct frame_range;
const struct frame_range *pages_hv_ranges(u32 *count);

/* The sanitized machine memory map. */
const struct mem_region *pages_memmap(u32 *count);

#endif
