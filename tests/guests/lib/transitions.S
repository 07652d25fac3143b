/*
 * Mode transitions: 32-bit protected mode <-> 64-bit long mode, and 32-bit protected
 * mode -> 16-bit protected mode -> real mode -> back up.
 *
 * All of this runs identity-mapped in the low 4 GiB, so the ELF32 file can carry the
 * .code64 parts: their absolute addresses fit in sign-extended 32-bit immediates.
 */
#include "selectors.h"

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE   0x00000001
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define REAL_MARKER 0x4c414552
#define REAL_ALIAS_VALUE 0x5a5aa5a5

	.section .text

/* ---- long mode ------------------------------------------------------------------
 * u32 lm_call_asm(u32 fn64, u32 arg, u32 cr3)
 * Saves CR0/CR3/CR4/EFER/IDTR, turns paging off (EFER.LME may only change then),
 * enables PAE + LME + paging on the given PML4, far-jumps to the 64-bit code segment
 * and calls fn64 with arg in %rdi. The way back: a far return to the 32-bit code
 * segment (compatibility mode), paging off (which clears EFER.LMA), then the saved
 * registers in an order that is legal (EFER before CR0.PG).
 */
	.code32
	.globl lm_call_asm
	.type lm_call_asm, @function
lm_call_asm:
	push %ebp
	mov %esp, %ebp
	push %ebx
	push %esi
	push %edi
	sidt lm_saved_idtr
	mov %cr0, %eax
	mov %eax, lm_saved_cr0
	mov %cr3, %eax
	mov %eax, lm_saved_cr3
	mov %cr4, %eax
	mov %eax, lm_saved_cr4
	mov $MSR_EFER, %ecx
	rdmsr
	mov %eax, lm_saved_efer
	mov %edx, lm_saved_efer + 4

	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov 16(%ebp), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $(CR0_PG | CR0_PE), %eax
	mov %eax, %cr0		/* IA-32e mode, still in 32-bit compatibility code */
	ljmp $SEL_CODE64, $lm_entry64

	.code64
lm_entry64:
	/* The upper halves of RSP/RBP are undefined after the switch: a 32-bit move
	 * zero-extends. */
	movl %esp, %esp
	movl %ebp, %ebp
	lidt lm_idtr(%rip)
	movl 12(%rbp), %edi	/* arg */
	movl 8(%rbp), %eax	/* fn64 */
	mov %rsp, lm_saved_rsp(%rip)
	call *%rax
lm_done64:
	movl %eax, lm_result(%rip)
	pushq $SEL_CODE32
	lea lm_back32(%rip), %rcx
	push %rcx
	lretq

	/* Where the 64-bit trap handler sends an exception nobody asked to recover. */
lm_abort64:
	mov lm_saved_rsp(%rip), %rsp
	movl $0xffffffff, %eax
	jmp lm_done64

	.code32
lm_back32:
	mov $SEL_DATA32, %cx
	mov %cx, %ds
	mov %cx, %es
	mov %cx, %fs
	mov %cx, %gs
	mov %cx, %ss
	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0		/* leaves long mode */
	mov $MSR_EFER, %ecx
	mov lm_saved_efer, %eax
	mov lm_saved_efer + 4, %edx
	wrmsr
	mov lm_saved_cr4, %eax
	mov %eax, %cr4
	mov lm_saved_cr3, %eax
	mov %eax, %cr3
	mov lm_saved_cr0, %eax
	mov %eax, %cr0
	lidt lm_saved_idtr
	mov lm_result, %eax
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
	.size lm_call_asm, . - lm_call_asm

/* ---- 64-bit exception stubs ---------------------------------------------------------
 * Record vector, error code, RIP and CR2 in lm_trap, then resume at lm_recover
 * (cleared on use) or, if none was set, at lm_abort64.
 */
	.code64
.macro STUB64 vec, has_error
	.balign 8
lm_stub_\vec:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp lm_trap_common
.endm

.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	STUB64 \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	STUB64 \v, 1
.endr

lm_trap_common:
	push %rax		/* frame: rax, vector, error, rip, cs, rflags, rsp, ss */
	mov 8(%rsp), %rax
	mov %rax, lm_trap(%rip)
	mov 16(%rsp), %rax
	mov %rax, lm_trap+8(%rip)
	mov 24(%rsp), %rax
	mov %rax, lm_trap+16(%rip)
	mov %cr2, %rax
	mov %rax, lm_trap+24(%rip)
	incl lm_trap+32(%rip)
	mov lm_recover(%rip), %rax
	test %rax, %rax
	jnz 1f
	mov $lm_abort64, %eax
1:	movq $0, lm_recover(%rip)
	mov %rax, 24(%rsp)
	pop %rax
	add $16, %rsp
	iretq

/* ---- 64-bit probes -------------------------------------------------------------- */

/* void lm_probe_info(struct lm_info *rdi): what long mode looks like from inside. */
	.globl lm_probe_info
	.type lm_probe_info, @function
lm_probe_info:
	mov $MSR_EFER, %ecx
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, 0(%rdi)
	mov %cr0, %rax
	mov %rax, 8(%rdi)
	mov %cr4, %rax
	mov %rax, 16(%rdi)
	xor %eax, %eax
	mov %cs, %ax
	mov %rax, 24(%rdi)
	movabs $0x0123456789abcdef, %rax
	bswap %rax		/* a 64-bit-only operation on a 64-bit register */
	mov %rax, 32(%rdi)
	mov $0x64, %eax
	ret
	.size lm_probe_info, . - lm_probe_info

/* u32 lm_probe_exec(u64 target in rdi): call target with recovery armed. Returns
 * 1 if an exception came (details in lm_trap), 0 if the target returned. */
	.globl lm_probe_exec
	.type lm_probe_exec, @function
lm_probe_exec:
	mov $2f, %eax
	mov %rax, lm_recover(%rip)
	mov %rsp, lm_probe_rsp(%rip)
	call *%rdi
	movq $0, lm_recover(%rip)
	xor %eax, %eax
	ret
2:	mov lm_probe_rsp(%rip), %rsp
	mov $1, %eax
	ret
	.size lm_probe_exec, . - lm_probe_exec

	.section .rodata
	.balign 4
	.globl lm_stubs
lm_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long lm_stub_\v
.endr

/* ---- real mode ------------------------------------------------------------------
 * void rm_enter(u32 base): the trampoline rm_start..rm_end has been copied to base
 * (16-byte aligned, below 640 KiB) and SEL_CODE16's base set to it. Paging is off.
 */
	.section .text
	.code32
	.globl rm_enter
	.type rm_enter, @function
rm_enter:
	push %ebp
	push %ebx
	push %esi
	push %edi
	mov 20(%esp), %eax
	sidt rm_saved_idtr
	sgdt (rm_gdtr - rm_start)(%eax)	/* the copy reloads our GDT from real mode */
	mov %esp, rm_saved_esp
	mov %eax, %ebx
	shr $4, %ebx			/* real-mode segment of the copy */
	ljmp $SEL_CODE16, $0		/* 16-bit protected mode at base + 0 */
pm32_back:
	mov $SEL_DATA32, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov rm_saved_esp, %esp
	lidt rm_saved_idtr
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
	.size rm_enter, . - rm_enter

	/* Position-independent 16-bit code: it runs from the copy, with offsets from
	 * rm_start; only the final far jump names an absolute (32-bit) address. */
	.code16
	.balign 16
	.globl rm_start
rm_start:
	/* 16-bit protected mode. Load data segments with 64 KiB limits, so that real
	 * mode inherits proper limits, then drop PE. */
	mov $SEL_DATA16, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov %cr0, %eax
	and $~CR0_PE, %eax
	mov %eax, %cr0
	/* Real mode, but CS still holds the protected-mode descriptor until a far
	 * transfer. The stack must be real before the far return uses it. */
	mov %bx, %ss
	mov $0x1000, %sp
	push %bx
	pushw $(rm_real - rm_start)
	lretw
rm_real:
	mov %bx, %ds
	mov %bx, %es
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	lidt (rm_ivt - rm_start)
	mov %cs, (rm_res_cs - rm_start)
	mov %ds, (rm_res_ds - rm_start)
	mov %ss, (rm_res_ss - rm_start)
	mov %cr0, %eax
	mov %eax, (rm_res_cr0 - rm_start)
	/* Real-mode addressing is segment * 16 + offset: ES = DS + 1 reaches the same
	 * byte with an offset 16 lower. */
	movl $REAL_ALIAS_VALUE, (rm_alias_slot - rm_start)
	mov %bx, %ax
	inc %ax
	mov %ax, %es
	mov %es:(rm_alias_slot - rm_start - 16), %eax
	mov %eax, (rm_res_alias - rm_start)
	/* Print the message through COM1, polled as in protected mode. */
	mov $(rm_msg - rm_start), %si
1:	lodsb
	test %al, %al
	jz 4f
	mov %al, %cl
	mov $0x3fd, %dx
	mov $0xffff, %di
2:	in %dx, %al
	test $0x20, %al
	jnz 3f
	dec %di
	jnz 2b
3:	mov $0x3f8, %dx
	mov %cl, %al
	out %al, %dx
	jmp 1b
4:	movl $REAL_MARKER, (rm_res_marker - rm_start)
	/* Back up: the runtime's GDT (32-bit base: lgdtl), PE, far jump to 32-bit code. */
	lgdtl (rm_gdtr - rm_start)
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $pm32_back

	.balign 4
rm_ivt:		.word 0x3ff
		.long 0
	.balign 4
rm_gdtr:	.word 0
		.long 0
	.balign 4
	.globl rm_res_cr0, rm_res_marker, rm_res_alias, rm_res_cs, rm_res_ds, rm_res_ss, rm_msg
rm_res_cr0:	.long 0
rm_res_marker:	.long 0
rm_res_alias:	.long 0
rm_alias_slot:	.long 0
rm_res_cs:	.word 0
rm_res_ds:	.word 0
rm_res_ss:	.word 0
	.balign 4
rm_msg:		.space 96
	.globl rm_end
rm_end:
	.code32

	.section .data
	.balign 8
	.globl lm_idtr
	.word 0, 0, 0
lm_idtr:	.word 0		/* limit, then 64-bit base: filled by modes.c */
		.quad 0

	.section .bss
	.balign 8
	.globl lm_trap, lm_recover
lm_trap:	.space 40	/* struct lm_trap */
lm_recover:	.quad 0
lm_saved_rsp:	.quad 0
lm_probe_rsp:	.quad 0
lm_saved_efer:	.quad 0
lm_saved_cr0:	.long 0
lm_saved_cr3:	.long 0
lm_saved_cr4:	.long 0
lm_result:	.long 0
	.balign 4
	.word 0
lm_saved_idtr:	.word 0
		.long 0
rm_saved_esp:	.long 0
	.balign 4
	.word 0
rm_saved_idtr:	.word 0
		.long 0

	.section .note.GNU-stack, "", @progbits
