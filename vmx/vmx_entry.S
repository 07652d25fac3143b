/* int vmx_enter(u64 *gpr, u64 launched)
 *
 * Enters the guest of the current VMCS with VMLAUNCH (launched == 0) or
 * VMRESUME and returns
 *   0  after a VM exit (guest GPRs saved into gpr[], encoding order RAX..R15),
 *   1  VMfailInvalid (no current VMCS),
 *   2  VMfailValid (the VM-instruction error field says why).
 * A VM-entry failure that loads guest state first (invalid guest state, MSR
 * loading, machine check) is a VM exit with bit 31 of the exit reason set,
 * so it returns 0.
 *
 * VMX saves and loads no GPR except RSP and RIP (SDM 28.5, 27.3.2): the host's
 * RSP comes back from HOST_RSP, written here just before entry so that it
 * points at the saved gpr pointer, and the CPU resumes at vmx_exit_entry
 * (HOST_RIP) with RFLAGS = 2 (interrupts off) and every other GPR holding the
 * guest's value.  The guest's RSP lives in the VMCS; the caller syncs
 * gpr[RSP] with it.  CR2, DR0-3 and DR6 are not switched: the guest owns them
 * (the host takes no page faults and uses no breakpoints). */
/* VMCS_HOST_RSP; vmx.c asserts it matches vmcs.h. */
#define VMCS_HOST_RSP_ENC 0x6C14

#define GPR_RAX 0
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
	.globl vmx_enter
	.type vmx_enter, @function
vmx_enter:
	push %rbp
	mov %rsp, %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	push %rdi			/* (%rsp) at VM exit: the gpr array */

	mov $VMCS_HOST_RSP_ENC, %eax
	vmwrite %rsp, %rax
	jbe .Lhost_rsp_failed

	/* The MOVs below leave the flags alone: ZF still says launched == 0. */
	cmp $0, %rsi
	mov %rdi, %rax
	mov GPR_RCX(%rax), %rcx
	mov GPR_RDX(%rax), %rdx
	mov GPR_RBX(%rax), %rbx
	mov GPR_RBP(%rax), %rbp
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
	mov GPR_RAX(%rax), %rax
	jne 1f
	vmlaunch
	jmp .Lentry_failed
1:	vmresume

	/* Still here: VMfailInvalid (CF=1) or VMfailValid (ZF=1).  The GPRs hold
	 * guest values; RSP is still ours. */
.Lentry_failed:
	mov $2, %eax
	mov $1, %ecx
	cmovc %ecx, %eax
	add $8, %rsp			/* the gpr pointer */
	jmp .Lreturn

.Lhost_rsp_failed:
	mov $2, %eax
	mov $1, %ecx
	cmovc %ecx, %eax
	add $8, %rsp
	jmp .Lreturn

	.globl vmx_exit_entry
	.type vmx_exit_entry, @function
vmx_exit_entry:
	push %rax			/* guest RAX */
	mov 8(%rsp), %rax		/* the gpr array */
	mov %rcx, GPR_RCX(%rax)
	mov %rdx, GPR_RDX(%rax)
	mov %rbx, GPR_RBX(%rax)
	mov %rbp, GPR_RBP(%rax)
	mov %rsi, GPR_RSI(%rax)
	mov %rdi, GPR_RDI(%rax)
	mov %r8, GPR_R8(%rax)
	mov %r9, GPR_R9(%rax)
	mov %r10, GPR_R10(%rax)
	mov %r11, GPR_R11(%rax)
	mov %r12, GPR_R12(%rax)
	mov %r13, GPR_R13(%rax)
	mov %r14, GPR_R14(%rax)
	mov %r15, GPR_R15(%rax)
	popq GPR_RAX(%rax)
	add $8, %rsp			/* the gpr pointer */
	xor %eax, %eax

.Lreturn:
	popfq				/* the caller's IF, not the exit's RFLAGS = 2 */
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size vmx_enter, . - vmx_enter
