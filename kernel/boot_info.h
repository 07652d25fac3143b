/* What the hypervisor keeps from its boot loader.  The multiboot2 information
 * block (or the PVH start_info) lives in memory the frame allocator will hand
 * out, so everything needed later is copied into this structure first. */
#ifndef HV_KERNEL_BOOT_INFO_H
#define HV_KERNEL_BOOT_INFO_H

#include "kernel/types.h"

#define BOOT_MAX_MEM_REGIONS 128
#define BOOT_MAX_MODULES 16
#define BOOT_CMDLINE_MAX 1024
#define BOOT_MODULE_CMDLINE_MAX 256
#define BOOT_LOADER_NAME_MAX 64

/* Values of the multiboot2 / e820 memory-map types. */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	u64 base;
	u64 len;
	u32 type;
};

struct boot_module {
	u64 start; /* physical, inclusive */
	u64 end;   /* physical, exclusive */
	char cmdline[BOOT_MODULE_CMDLINE_MAX];
};

struct boot_info {
	char cmdline[BOOT_CMDLINE_MAX];
	char loader_name[BOOT_LOADER_NAME_MAX];

	struct mem_region mem[BOOT_MAX_MEM_REGIONS];
	u32 mem_count;

	struct boot_module mods[BOOT_MAX_MODULES];
	u32 mod_count;

	/* Copy of the RSDP the loader found (v1: 20 bytes, v2: 36 bytes).
	 * rsdp_len == 0 when the loader gave none. */
	u8 rsdp[36];
	u32 rsdp_len;
	/* Physical address of the RSDP when the loader gave one (PVH does, multiboot2
	 * only gives a copy); 0 when unknown. */
	u64 rsdp_phys;

	/* Physical range of the loader's information block, so the frame allocator
	 * leaves it alone until it has been parsed. */
	u64 info_start;
	u64 info_end;

	/* Physical address the image was loaded at (multiboot2 tag 21 when the
	 * loader relocated us); 0 when the loader did not say. */
	u64 load_base;
	bool load_base_valid;
};

#endif
