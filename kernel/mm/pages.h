/* The hypervisor's physical memory: one frame allocator for the whole machine,
 * built at boot from the loader's memory map. */
#ifndef HV_KERNEL_MM_PAGES_H
#define HV_KERNEL_MM_PAGES_H

#include "kernel/boot_info.h"
#include "kernel/types.h"

#define BELOW_4G (4ULL * GIB)

/* Sanitizes the map, reserves what must never be handed out, and starts the
 * allocator.  Panics if no memory is left. */
void pages_init(const struct boot_info *bi);

/* Physical address of count zeroed, contiguous frames, or 0.  max_end = 0 means
 * anywhere; BELOW_4G for structures 32-bit code must reach. */
u64 pages_alloc_phys(u64 count, u64 max_end);
void *pages_alloc(u64 count);
void pages_free(void *p, u64 count);
u64 pages_free_count(void);

/* The sanitized machine memory map. */
const struct mem_region *pages_memmap(u32 *count);

#endif
