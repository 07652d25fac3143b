/*
 * Interrupt stubs for vectors 0-255 (used for 2 and 32-255; see irq.h). Each stub
 * is 16 bytes long, so irq.c finds stub N at irq_stubs + 16 * N. External interrupts
 * and NMIs push no error code, so the frame is: pushal, vector, EIP, CS, EFLAGS.
 */
#include "selectors.h"

	.code32
	.section .text
	.balign 16
	.globl irq_stubs
irq_stubs:
	.set irq_vec, 0
	.rept 256
	.balign 16
	pushl $irq_vec
	jmp irq_common
	.set irq_vec, irq_vec + 1
	.endr

irq_common:
	pushal
	cld
	push %esp		/* struct irq_frame * */
	call irq_dispatch
	add $4, %esp
	popal
	add $4, %esp		/* vector */
	iret

	.section .note.GNU-stack, "", @progbits
