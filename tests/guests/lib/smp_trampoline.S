/*
 * AP start-up trampoline. A start-up IPI with vector V starts the AP in real mode
 * at CS = V << 8 (base V << 12), IP = 0 (SDM Vol. 3A 9.4.4). smp.c copies
 * smp_trampoline..smp_trampoline_end to that page and fills in smp_trampoline_gdtr.
 * The code is position-independent (offsets from smp_trampoline with DS = CS) up to
 * the far jump, which names the 32-bit entry in the image by its absolute address.
 */
#include "selectors.h"

#define CR0_PE 0x00000001
#define CR0_NW 0x20000000
#define CR0_CD 0x40000000

	.section .text
	.code16
	.balign 16
	.globl smp_trampoline
smp_trampoline:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	/* lgdtl: a 32-bit base in 16-bit code. */
	lgdtl (smp_trampoline_gdtr - smp_trampoline)
	/* The AP comes out of INIT with caching disabled (CR0 = 60000010h, SDM Vol. 3A Table 10-1);
	 * turn it on, as the BSP's firmware did for the BSP. */
	mov %cr0, %eax
	and $~(CR0_CD | CR0_NW), %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $smp_ap_pm32

	.balign 4
	.word 0
	.globl smp_trampoline_gdtr
smp_trampoline_gdtr:
	.word 0
	.long 0
	.globl smp_trampoline_end
smp_trampoline_end:

	.code32
smp_ap_pm32:
	mov $SEL_DATA32, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	/* The BSP starts one AP at a time and sets this before the INIT IPI. */
	mov smp_ap_stack_top, %esp
	xor %ebp, %ebp
	pushl $0		/* known EFLAGS */
	popfl
	call smp_ap_main	/* never returns */
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
