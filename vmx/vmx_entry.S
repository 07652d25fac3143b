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

#include "kernel/vm/gpr_asm.h"

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
	mov GPR_RBP(%rax), %rbp
	GPRS_LOAD %rax
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
	mov %rbp, GPR_RBP(%rax)
	GPRS_STORE %rax
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
