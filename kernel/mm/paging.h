/* The hypervisor's own page tables. */
#ifndef HV_KERNEL_MM_PAGING_H
#define HV_KERNEL_MM_PAGING_H

#include "kernel/types.h"

/* Builds the final host page tables and switches to them:
 * - RAM and the first 4 GiB identity-mapped with large pages, never executable
 *   (except the real-mode area the AP trampoline runs from), device ranges
 *   uncached, page 0 unmapped so that NULL dereferences fault (and mapped at
 *   PAGE0_ALIAS_VBASE instead, for guest memory accesses);
 * - the image in the higher half: text read-only and executable, rodata
 *   read-only, data and bss writable and non-executable. */
void paging_init(void);
/* Highest identity-mapped physical address (exclusive). */
u64 paging_identity_limit(void);
/* CR3 value for CPUs that start in 32-bit mode (always below 4 GiB). */
u64 paging_root(void);

#endif
