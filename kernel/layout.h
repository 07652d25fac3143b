/* Where the image lives.  The 64-bit image is linked at a fixed higher-half
 * address and may be loaded at any 2 MiB-aligned physical address: GRUB places
 * it high (multiboot2 relocatable tag) so that guests keep the low memory PCs
 * give them; QEMU's PVH loader uses the link address.  RAM itself is reached
 * through an identity map, so a frame's physical address is also its pointer. */
#ifndef HV_KERNEL_LAYOUT_H
#define HV_KERNEL_LAYOUT_H

#define KERNEL_VBASE 0xFFFFFFFF80000000
/* Physical page 0, which the identity map leaves out so that a NULL
 * dereference faults, is reached here when a guest's memory is accessed
 * (kernel/vm/guest_mem.c): guests own that page like any other. */
#define PAGE0_ALIAS_VBASE (KERNEL_VBASE - 0x1000)
/* Physical address the image is linked for; the boot stub measures how far the
 * loader moved it. */
#define IMAGE_LINK_PHYS 0x200000
/* The loader must keep this alignment so that the boot stub can map the image
 * with 2 MiB pages. */
#define IMAGE_ALIGN 0x200000

#define BOOT_STACK_SIZE 16384

/* GDT selectors shared by the boot stub, the AP trampoline and the per-CPU GDT. */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
#define SEL_TSS 0x20

#ifndef __ASSEMBLY__
#include "kernel/types.h"

extern char __image_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
	__data_start[], __image_end[], __boot_start[], __boot_end[];

/* Physical address the image was actually loaded at (set by the boot stub). */
extern u64 image_load_phys;

static inline u64 image_virt_to_phys(const void *p)
{
	return (u64)p - KERNEL_VBASE - IMAGE_LINK_PHYS + image_load_phys;
}

static inline void *phys_to_virt(u64 pa)
{
	return (void *)pa;
}

static inline u64 virt_to_phys(const void *p)
{
	u64 v = (u64)p;
	return v >= KERNEL_VBASE ? image_virt_to_phys(p) : v;
}
#endif

#endif
