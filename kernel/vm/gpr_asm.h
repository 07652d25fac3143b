/* The guest GPR array (struct vp's gpr[], indexed by enum vp_reg in
 * instruction-encoding order) as the backends' entry code sees it: byte
 * offsets, and the loads and stores both VMRUN and VMLAUNCH paths share.
 * RAX, RSP and RBP are left to each backend (VMRUN needs RAX for the VMCB
 * address, the VMCS and VMCB hold RSP, and RBP frames the host stack).
 * kernel/vm/vp.c asserts that the offsets match enum vp_reg. */
#ifndef HV_KERNEL_VM_GPR_ASM_H
#define HV_KERNEL_VM_GPR_ASM_H

#define GPR_RAX 0
#define GPR_RCX 8
#define GPR_RDX 16
#define GPR_RBX 24
#define GPR_RSP 32
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

#ifdef __ASSEMBLY__
/* Loads RCX, RDX, RBX, RSI, RDI, R8-R15 from the array at \base (which must
 * not be one of them). */
.macro GPRS_LOAD base
	mov GPR_RCX(\base), %rcx
	mov GPR_RDX(\base), %rdx
	mov GPR_RBX(\base), %rbx
	mov GPR_RSI(\base), %rsi
	mov GPR_RDI(\base), %rdi
	mov GPR_R8(\base), %r8
	mov GPR_R9(\base), %r9
	mov GPR_R10(\base), %r10
	mov GPR_R11(\base), %r11
	mov GPR_R12(\base), %r12
	mov GPR_R13(\base), %r13
	mov GPR_R14(\base), %r14
	mov GPR_R15(\base), %r15
.endm

/* Stores the same registers into the array at \base. */
.macro GPRS_STORE base
	mov %rcx, GPR_RCX(\base)
	mov %rdx, GPR_RDX(\base)
	mov %rbx, GPR_RBX(\base)
	mov %rsi, GPR_RSI(\base)
	mov %rdi, GPR_RDI(\base)
	mov %r8, GPR_R8(\base)
	mov %r9, GPR_R9(\base)
	mov %r10, GPR_R10(\base)
	mov %r11, GPR_R11(\base)
	mov %r12, GPR_R12(\base)
	mov %r13, GPR_R13(\base)
	mov %r14, GPR_R14(\base)
	mov %r15, GPR_R15(\base)
.endm
#endif

#endif
