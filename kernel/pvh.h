/* Xen PVH boot ABI (what QEMU's -kernel uses for a PVH ELF note): the loader
 * passes the physical address of an hvm_start_info structure in EBX.  Every
 * byte of it, and of everything it points to, is read through a phys_reader so
 * that a bad pointer is an error, not a fault. */
#ifndef HV_KERNEL_PVH_H
#define HV_KERNEL_PVH_H

#include "kernel/boot_info.h"
#include "kernel/phys_read.h"
#include "kernel/types.h"

#define PVH_START_MAGIC 0x336ec578u

/* Size of hvm_start_info: version 0 ends after rsdp_paddr, version 1 adds the
 * memory map fields. */
#define PVH_START_INFO_V0_SIZE 40u
#define PVH_START_INFO_V1_SIZE 56u
#define PVH_MODLIST_ENTRY_SIZE 32u
#define PVH_MEMMAP_ENTRY_SIZE 24u
/* Memory map entries examined at most; a real e820 has a few dozen. */
#define PVH_MEMMAP_SCAN_MAX 1024u

/* Fills *out (zeroed first) from the hvm_start_info at start_info_phys.
 * Returns 0 when the structure was usable (problems in the module list, memory
 * map, strings or RSDP are reported and the offending part skipped or
 * clamped), negative when the structure itself is unreadable or its magic is
 * wrong.  A start_info without a memory map is reported but still returns 0.
 * info_start/info_end cover the start_info structure only: everything it points
 * to is copied into *out. */
int pvh_parse(const struct phys_reader *mem, u64 start_info_phys, struct boot_info *out);

#endif
