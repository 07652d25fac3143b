/*
 * 32-bit exception entry and the setjmp-like catch used for expected exceptions.
 *
 * Every vector 0-31 has a stub that pushes a dummy error code where the CPU pushes
 * none, then the vector, so trap_dispatch() sees one frame layout (struct
 * trap_frame in runtime.c). All gates are interrupt gates at CPL 0: no stack switch,
 * so the frame sits on the guest's own stack and a catch can simply drop it.
 */
#include "selectors.h"

	.code32
	.section .text

.macro STUB vec, has_error
	.balign 8
trap_stub_\vec:
	.if \has_error == 0
	pushl $0
	.endif
	pushl $\vec
	jmp trap_common
.endm

/* Vectors whose exceptions push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC,
 * #CP, #VC, #SX. */
.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	STUB \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	STUB \v, 1
.endr

trap_common:
	pushal
	push %ds
	push %es
	/* The faulting code may have had odd data segments (e.g. while testing). */
	mov $SEL_DATA32, %ax
	mov %ax, %ds
	mov %ax, %es
	cld
	push %esp		/* struct trap_frame * */
	call trap_dispatch	/* returns only for exceptions that may resume */
	add $4, %esp
	pop %es
	pop %ds
	popal
	add $8, %esp		/* vector and error code */
	iret

	.section .rodata
	.balign 4
	.globl trap_stubs
trap_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_stub_\v
.endr

/*
 * int trap_catch(struct trap *t): save what a C caller expects to find again
 * (callee-saved registers, stack pointer, return address), arm, return 0.
 */
	.section .text
	.globl trap_catch
	.type trap_catch, @function
trap_catch:
	mov 4(%esp), %eax
	mov %eax, catch_info
	mov (%esp), %ecx
	mov %ecx, catch_eip
	lea 4(%esp), %ecx	/* the stack pointer after our ret */
	mov %ecx, catch_esp
	mov %ebx, catch_ebx
	mov %esi, catch_esi
	mov %edi, catch_edi
	mov %ebp, catch_ebp
	movl $1, catch_armed
	xor %eax, %eax
	ret
	.size trap_catch, . - trap_catch

/*
 * void trap_resume(void): called by trap_dispatch (with the catch already disarmed
 * and *catch_info filled) to make trap_catch return 1. The exception frame and the
 * handler's own stack are simply abandoned.
 */
	.globl trap_resume
	.type trap_resume, @function
trap_resume:
	mov $SEL_DATA32, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov catch_esp, %esp
	mov catch_ebx, %ebx
	mov catch_esi, %esi
	mov catch_edi, %edi
	mov catch_ebp, %ebp
	mov $1, %eax
	jmp *catch_eip
	.size trap_resume, . - trap_resume

	.section .bss
	.balign 4
	.globl catch_armed, catch_info
catch_armed:	.long 0
catch_info:	.long 0
catch_eip:	.long 0
catch_esp:	.long 0
catch_ebx:	.long 0
catch_esi:	.long 0
catch_edi:	.long 0
catch_ebp:	.long 0

	.section .note.GNU-stack, "", @progbits
