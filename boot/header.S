/* Multiboot2 header and Xen PVH note: the two ways this image is started.
 * GRUB reads the multiboot2 header (it must sit 8-byte aligned in the first
 * 32 KiB of the file); QEMU's -kernel accepts an ELF64 only with the PVH note. */
#include "kernel/layout.h"

#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_TAG_END 0
#define MB2_TAG_INFO_REQUEST 1
#define MB2_TAG_RELOCATABLE 10
#define MB2_TAG_OPTIONAL 1

/* Information tags we ask for (see kernel/multiboot2.c). */
#define MB2_INFO_CMDLINE 1
#define MB2_INFO_MODULES 3
#define MB2_INFO_MMAP 6
#define MB2_INFO_ACPI_OLD 14
#define MB2_INFO_ACPI_NEW 15
#define MB2_INFO_LOAD_BASE 21

#define MB2_RELOC_PREFER_HIGH 2

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	.balign 8
mb2_info_request:
	.short MB2_TAG_INFO_REQUEST
	.short 0
	.long mb2_info_request_end - mb2_info_request
	.long MB2_INFO_CMDLINE
	.long MB2_INFO_MODULES
	.long MB2_INFO_MMAP
	.long MB2_INFO_ACPI_OLD
	.long MB2_INFO_ACPI_NEW
	.long MB2_INFO_LOAD_BASE
mb2_info_request_end:

	/* Let GRUB move us high, out of the low memory guests expect.  The stub
	 * runs in 32-bit mode and maps the image with 2 MiB pages, so stay below
	 * 3 GiB (clear of the usual PCI hole) and 2 MiB aligned. */
	.balign 8
	.short MB2_TAG_RELOCATABLE
	.short MB2_TAG_OPTIONAL
	.long 24
	.long 0x00200000		/* min_addr */
	.long 0xC0000000		/* max_addr */
	.long IMAGE_ALIGN		/* align */
	.long MB2_RELOC_PREFER_HIGH

	.balign 8
	.short MB2_TAG_END
	.short 0
	.long 8
mb2_header_end:

/* PVH: XEN_ELFNOTE_PHYS32_ENTRY (18), the 32-bit physical entry point. */
	.section .note.Xen, "a"
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long boot_entry32
