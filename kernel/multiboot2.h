/* Multiboot2 information block parser.  The block is loader-supplied input, so
 * every length in it is checked against the block's own total_size before any
 * byte behind it is read. */
#ifndef HV_KERNEL_MULTIBOOT2_H
#define HV_KERNEL_MULTIBOOT2_H

#include "kernel/boot_info.h"
#include "kernel/types.h"

/* Value a multiboot2 loader leaves in EAX when it jumps to the image. */
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Largest block accepted.  GRUB's block for a big UEFI machine (a few hundred
 * EFI memory descriptors, the e820 copy, ELF sections, framebuffer, ACPI
 * copies, module command lines) stays within a few tens of KiB; anything larger
 * is taken to be a corrupt total_size rather than a real block.  The boot code
 * must have at least this much mapped behind the block's address (or the exact
 * total_size, once known). */
#define MB2_INFO_MAX_SIZE (64u * 1024u)

/* Smallest valid block: the 8-byte header plus the 8-byte end tag. */
#define MB2_INFO_MIN_SIZE 16u

enum mb2_tag_type {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER_NAME = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_LOAD_BASE = 21,
};

/* Fills *out (zeroed first) from the block at mbi, whose physical address is
 * mbi_phys.  Only bytes [mbi, mbi + total_size) are read, and total_size is
 * itself capped at MB2_INFO_MAX_SIZE.  Returns 0 when the block was usable
 * (problems in single tags are reported and the tag skipped or clamped), a
 * negative value when its framing is broken and nothing in it can be trusted.
 * A block without a memory map is reported but still returns 0: what to do
 * without memory is the caller's decision. */
int mb2_parse(const void *mbi, u64 mbi_phys, struct boot_info *out);

#endif
