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
#define GPR_RCX 8
#define GPR_RDX 16
#define GPR_RBX 24
#define GPR_RBP 40
#define GPR_RSI 48
#define GPR_RDI 56
#define GPR_R8 64
#define GPR_R9 72
#define GPR_R10 80
#define GPR_R11 88
#define GPR_R12 96
#define GPR_R13 104
#define GPR_R14 112
#define GPR_R15 120

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
	mov GPR_RCX(%rax), %rcx
	mov GPR_RDX(%rax), %rdx
	mov GPR_RBX(%rax), %rbx
	mov GPR_RSI(%rax), %rsi
	mov GPR_RDI(%rax), %rdi
	mov GPR_R8(%rax), %r8
	mov GPR_R9(%rax), %r9
	mov GPR_R10(%rax), %r10
	mov GPR_R11(%rax), %r11
	mov GPR_R12(%rax), %r12
	mov GPR_R13(%rax), %r13
	mov GPR_R14(%rax), %r14
	mov GPR_R15(%rax), %r15
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
	mov %rcx, GPR_RCX(%rbp)
	mov %rdx, GPR_RDX(%rbp)
	mov %rbx, GPR_RBX(%rbp)
	mov %rsi, GPR_RSI(%rbp)
	mov %rdi, GPR_RDI(%rbp)
	mov %r8, GPR_R8(%rbp)
	mov %r9, GPR_R9(%rbp)
	mov %r10, GPR_R10(%rbp)
	mov %r11, GPR_R11(%rbp)
	mov %r12, GPR_R12(%rbp)
	mov %r13, GPR_R13(%rbp)
	mov %r14, GPR_R14(%rbp)
	mov %r15, GPR_R15(%rbp)
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
