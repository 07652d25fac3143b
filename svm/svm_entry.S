/* void svm_vmrun(u64 vmcb_pa, u64 host_vmsave_pa, u64 *gpr)
 *
 * VMRUN itself saves and restores only part of the host state (AMD APM Vol. 2,
 * 15.5.1); FS, GS (and their bases: our per-CPU pointer), TR, LDTR and the
 * SYSCALL/SYSENTER MSRs move with VMLOAD/VMSAVE.  So: VMLOAD the guest's, run,
 * VMSAVE the guest's, VMLOAD the host's back.  Nothing here may touch %gs
 * between VMRUN and the final VMLOAD.
 *
 * GIF is cleared around the sequence; host interrupts are enabled so that a
 * physical interrupt arriving while the guest runs causes an INTR exit (it is
 * then held by GIF until the host turns interrupts back on). */
#include "kernel/vm/gpr_asm.h"

	.text
	.globl svm_vmrun
svm_vmrun:
	push %rbp
	mov %rsp, %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdx			/* -48(%rbp): gpr array */
	push %rsi			/* -56(%rbp): host VMSAVE area */
	push %rdi			/* -64(%rbp): VMCB */

	clgi
	sti

	mov %rdx, %rax
	GPRS_LOAD %rax
	push GPR_RBP(%rax)
	mov -64(%rbp), %rax		/* still addressable: rbp is the host's */
	pop %rbp

	vmload %rax
	vmrun %rax
	vmsave %rax

	/* Guest GPRs are live; the host's RSP survived VMRUN.  Recover the frame
	 * pointer from the stack (VMCB, host area, gpr array sit below it). */
	push %rbp
	mov 24(%rsp), %rbp		/* gpr array (pushed rdx) */
	GPRS_STORE %rbp
	pop %rax			/* guest rbp */
	mov %rax, GPR_RBP(%rbp)

	mov 8(%rsp), %rax		/* host VMSAVE area */
	vmload %rax

	cli
	stgi

	add $24, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
