/* One stub per vector: push a dummy error code where the CPU pushes none, push
 * the vector, save every GPR, call trap_dispatch(frame). */
#include "kernel/layout.h"

	.altmacro
	.macro TRAP_STUB n
	.balign 16
trap_stub_\n:
	/* Vectors that push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
	.if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
	.endm

	.macro TRAP_STUB_ADDR n
	.quad trap_stub_\n
	.endm

	.text
	.set vec, 0
	.rept 256
	TRAP_STUB %vec
	.set vec, vec + 1
	.endr

trap_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	cld
	mov %rsp, %rdi
	call trap_dispatch
	popq %rax
	popq %rbx
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	add $16, %rsp			/* vector and error code */
	iretq

	.section .rodata
	.balign 8
	.globl trap_stub_table
trap_stub_table:
	.set vec, 0
	.rept 256
	TRAP_STUB_ADDR %vec
	.set vec, vec + 1
	.endr
