/* 32-bit entry from GRUB (multiboot2) or QEMU (PVH), to 64-bit C.
 *
 * Neither loader gives a stack, and GRUB may have moved the image, so the stub
 * first learns its own load address with a call/pop on a 4-byte scratch stack
 * borrowed from a reserved field of the loader's info block (the multiboot2
 * header's reserved word at +4, hvm_start_info.reserved at +0x34).  From then on
 * every reference to the stub's own data is "linked address + delta" in %ebp. */
#include "kernel/layout.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289
#define PVH_START_MAGIC 0x336ec578

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)

#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define LARGE_PAGE (2 * 1024 * 1024)

#define COM1 0x3F8

	.section .boot.text, "ax"
	.code32
	.globl boot_entry32
boot_entry32:
	cli
	cld
	mov %eax, %edi			/* loader magic (multiboot2) */
	mov %ebx, %esi			/* loader info block */
	cmp $MB2_BOOTLOADER_MAGIC, %eax
	je 1f
	cmpl $PVH_START_MAGIC, (%ebx)
	jne boot_unknown_loader
	lea 0x38(%ebx), %esp
	jmp 2f
1:	lea 8(%ebx), %esp
2:	call 3f
3:	pop %ebp
	sub $3b, %ebp			/* ebp = load address - link address */
	lea boot_stack32_top(%ebp), %esp

	/* The loader honoured our 2 MiB alignment?  The page tables below need it. */
	test $(IMAGE_ALIGN - 1), %ebp
	jz 4f
	lea msg_unaligned(%ebp), %ebx
	jmp boot_fail
4:
	/* Long mode present? */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb 5f
	mov $0x80000001, %eax
	cpuid
	test $(1 << 29), %edx
	jnz 6f
5:	lea msg_no_long_mode(%ebp), %ebx
	jmp boot_fail
6:
	/* Identity map of the first 4 GiB with 2 MiB pages: the C code reaches the
	 * loader's info block, the UART-less early world and ACPI through it until
	 * it builds the real host page tables. */
	lea boot_pd_low(%ebp), %ebx
	xor %ecx, %ecx
7:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_RW | PTE_PS), %eax
	mov %eax, (%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 7b

	lea boot_pdpt_low(%ebp), %ebx
	lea boot_pd_low(%ebp), %eax
	or $(PTE_P | PTE_RW), %eax
	xor %ecx, %ecx
8:	mov %eax, (%ebx, %ecx, 8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 8b

	/* The image in the higher half: KERNEL_VBASE + link address -> load address. */
	lea boot_pd_high(%ebp), %ebx
	mov $(IMAGE_LINK_PHYS >> 21), %ecx
	lea IMAGE_LINK_PHYS(%ebp), %eax
	or $(PTE_P | PTE_RW | PTE_PS), %eax
9:	mov %eax, (%ebx, %ecx, 8)
	add $LARGE_PAGE, %eax
	inc %ecx
	cmp $__image_end_pd_index, %ecx
	jb 9b

	lea boot_pdpt_high(%ebp), %ebx
	lea boot_pd_high(%ebp), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, (510 * 8)(%ebx)

	lea boot_pml4(%ebp), %ebx
	lea boot_pdpt_low(%ebp), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, (%ebx)
	lea boot_pdpt_high(%ebp), %eax
	or $(PTE_P | PTE_RW), %eax
	mov %eax, (511 * 8)(%ebx)

	/* Long mode: PAE, LME, then paging. */
	mov %ebx, %cr3
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_WP | CR0_PE), %eax
	mov %eax, %cr0

	/* GRUB leaves its own GDT behind; load ours before touching segments. */
	lea boot_gdt(%ebp), %eax
	mov %eax, (boot_gdtr + 2)(%ebp)
	lgdt boot_gdtr(%ebp)
	lea boot_entry64(%ebp), %eax
	push $SEL_CODE64
	push %eax
	lret

/* Unknown loader: no stack, no delta; say so on COM1 with immediates only. */
boot_unknown_loader:
	mov $COM1, %dx
	mov $'?', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
10:	hlt
	jmp 10b

/* %ebx: message (NUL-terminated).  COM1 may not be initialised (PVH); the
 * bytes still reach emulators, and on hardware GRUB set it up. */
boot_fail:
	mov $COM1, %dx
11:	movb (%ebx), %al
	test %al, %al
	jz 12f
	out %al, %dx
	inc %ebx
	jmp 11b
12:	hlt
	jmp 12b

	.code64
boot_entry64:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $boot_stack_top, %rsp
	xor %ebp, %ebp			/* terminates stack traces; delta moves to rdx */
	mov %edi, %edi			/* magic */
	mov %esi, %esi			/* info block physical address */
	lea 3b(%rip), %rdx
	sub $3b, %rdx			/* load delta, again, now in 64 bits */
	movabs $kernel_entry, %rax
	call *%rax
13:	cli
	hlt
	jmp 13b

	.section .boot.data, "aw"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* SEL_CODE64 */
	.quad 0x00cf92000000ffff	/* SEL_DATA */
	.quad 0x00cf9a000000ffff	/* SEL_CODE32 */
boot_gdt_end:
	.balign 8
	.short 0
boot_gdtr:
	.short boot_gdt_end - boot_gdt - 1
	.long 0

msg_unaligned:
	.asciz "hv: loaded at an address that is not 2 MiB aligned; cannot map the image\n"
msg_no_long_mode:
	.asciz "hv: this CPU has no long mode (x86-64); the hypervisor cannot run\n"

	.section .boot.bss, "aw", @nobits
	.balign 4096
boot_pml4:	.skip 4096
boot_pdpt_low:	.skip 4096
boot_pd_low:	.skip 4096 * 4
boot_pdpt_high:	.skip 4096
boot_pd_high:	.skip 4096
boot_stack32:	.skip 256
boot_stack32_top:

	.section .bss
	.balign 16
	.globl boot_stack, boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
