/*
 * Multiboot (v1) header and 32-bit entry of every test guest.
 *
 * The image is an ELF32 linked at 1 MiB, so the loader (QEMU -kernel, GRUB, the
 * hypervisor's multiboot loader) places it from the ELF program headers and the
 * a.out-kludge address fields are not needed (flag bit 16 clear).
 */
#include "selectors.h"

#define MB_MAGIC 0x1BADB002
/* bit 0: page-align modules; bit 1: pass mem_lower/mem_upper and the memory map. */
#define MB_FLAGS 0x00000003

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text
	.code32
	.globl _start
	.type _start, @function
_start:
	/* The loader leaves its own CS/DS and no stack: touch nothing segment-relative
	 * until our GDT is in. Flat loader segments make these absolute loads valid. */
	cli
	cld
	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	mov $SEL_DATA32, %cx
	mov %cx, %ds
	mov %cx, %es
	mov %cx, %fs
	mov %cx, %gs
	mov %cx, %ss

	/* Record whether the loader zeroed .bss (the ELF memsz beyond filesz must read
	 * as zero; the hello guest reports it), then zero it ourselves so the runtime
	 * works either way. Nothing may be on the stack yet: the stack is in .bss.
	 * EAX (magic) and EBX (info pointer) must survive. */
	mov %eax, %esi
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	repe scasb
	je 2f
	movl $0, bss_was_zero_raw
2:	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov %esi, %eax

	mov $stack_top, %esp
	xor %ebp, %ebp
	pushl $0		/* known EFLAGS: IF, DF, AC, NT clear */
	popfl
	push %ebx		/* multiboot info (physical = linear, flat segments) */
	push %eax		/* magic */
	call guest_start	/* never returns */
3:	cli
	hlt
	jmp 3b
	.size _start, . - _start

	.section .data
	.balign 4
	.globl bss_was_zero_raw
bss_was_zero_raw:
	.long 1

	/* The runtime's GDT. Accessed bits are preset so the CPU never has to write
	 * the table. The 16-bit code segment's base is patched for the real-mode
	 * trampoline; everything else is flat. */
	.balign 16
	.globl gdt
gdt:
	.quad 0				/* 0x00 null */
	.quad 0x00cf9b000000ffff	/* 0x08 code32: base 0, 4 GiB, D=1 */
	.quad 0x00cf93000000ffff	/* 0x10 data32: base 0, 4 GiB, writable */
	.quad 0x00af9b000000ffff	/* 0x18 code64: L=1, D=0 */
	.quad 0x00009b000000ffff	/* 0x20 code16: base patched, 64 KiB, D=0 */
	.quad 0x000093000000ffff	/* 0x28 data16: base 0, 64 KiB (real-mode limits) */
gdt_end:
	.globl gdt_ptr
	.balign 4
	.word 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
stack_bottom:
	.space 32768
	.globl stack_top
stack_top:

	.section .note.GNU-stack, "", @progbits
