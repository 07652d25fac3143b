/* Turns a firmware/loader memory map into one the rest of the hypervisor can
 * trust, and later hand to the guest as its e820. */
#ifndef HV_KERNEL_MM_MEMMAP_H
#define HV_KERNEL_MM_MEMMAP_H

#include "kernel/boot_info.h"
#include "kernel/types.h"

/* Writes to out (at most max_out entries) a map sorted by base, without
 * overlaps or empty regions, and returns its length.
 *  - Zero-length input regions are dropped.
 *  - A region whose base + len wraps is clamped to end at 2^64 - 1.
 *  - Where regions overlap, the most restrictive type wins:
 *    BAD > ACPI_NVS > RESERVED > ACPI_RECLAIMABLE > USABLE.  Types outside
 *    enum mem_type count (and are emitted) as MEM_RESERVED.
 *  - Touching regions of the same type are merged.
 *  - Address ranges no input region covers stay holes (not usable).
 * When the result needs more than max_out entries the lowest max_out are kept
 * and a warning printed; dropping the top only loses memory, never turns a
 * reserved range into RAM.  in and out must not overlap.  O(n^2) time, no
 * extra memory. */
u32 memmap_sanitize(const struct mem_region *in, u32 n, struct mem_region *out, u32 max_out);

#endif
