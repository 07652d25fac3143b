/* AP trampoline: copied to a page below 1 MiB; an AP starts here in real mode
 * at CS = page >> 4, IP = 0 after the STARTUP IPI.  It goes through 32-bit
 * protected mode to long mode with the parameters the boot CPU patched into
 * the block at the end, then jumps to ap_entry(arg) on its own stack.  Code is
 * position independent: %ebx holds the page's physical address. */
#include "kernel/layout.h"

#define MSR_EFER 0xC0000080

	.section .trampoline, "a"
	.code16
	.globl trampoline_start
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ebx, %ebx
	mov %ax, %bx
	shl $4, %ebx
	lgdtl (tr_gdtr - trampoline_start)
	mov %cr0, %eax
	or $1, %eax			/* PE */
	mov %eax, %cr0
	ljmpl *(tr_far32 - trampoline_start)

	.code32
tr_protected:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov (tr_cr4 - trampoline_start)(%ebx), %eax
	mov %eax, %cr4
	mov (tr_cr3 - trampoline_start)(%ebx), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	mov (tr_efer - trampoline_start)(%ebx), %eax
	xor %edx, %edx
	wrmsr
	mov (tr_cr0 - trampoline_start)(%ebx), %eax
	mov %eax, %cr0
	ljmpl *(tr_far64 - trampoline_start)(%ebx)

	.code64
tr_long:
	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov (tr_stack - trampoline_start)(%rbx), %rsp
	mov (tr_arg - trampoline_start)(%rbx), %rdi
	xor %ebp, %ebp
	jmp *(tr_entry - trampoline_start)(%rbx)

	.balign 16
tr_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* SEL_CODE64 */
	.quad 0x00cf92000000ffff	/* SEL_DATA */
	.quad 0x00cf9a000000ffff	/* SEL_CODE32 */
tr_gdt_end:

/* Parameter block, filled in by kernel/smp.c.  Offsets are exported so the C
 * side needs no copy of this layout. */
	.balign 8
	.globl tr_gdtr, tr_far32, tr_far64, tr_cr0, tr_cr3, tr_cr4, tr_efer
	.globl tr_stack, tr_entry, tr_arg, tr_protected, tr_long, tr_gdt
tr_gdtr:	.short tr_gdt_end - tr_gdt - 1
		.long 0			/* physical address of tr_gdt */
		.short 0
tr_far32:	.long 0			/* physical address of tr_protected */
		.short SEL_CODE32
		.short 0
tr_far64:	.long 0			/* physical address of tr_long */
		.short SEL_CODE64
		.short 0
tr_cr0:		.long 0
tr_cr3:		.long 0
tr_cr4:		.long 0
tr_efer:	.long 0
tr_stack:	.quad 0
tr_entry:	.quad 0
tr_arg:		.quad 0
	.globl trampoline_end
trampoline_end:
