/* bool rdmsr_safe(u32 msr, u64 *value): RDMSR that turns the #GP of a missing
 * MSR into a false return (the trap handler resumes at the fixup).
 * bool wrmsr_safe(u32 msr, u64 value): the same for WRMSR (a missing MSR, a
 * reserved bit, a value the MSR refuses). */
	.text
	.globl rdmsr_safe
rdmsr_safe:
	mov %edi, %ecx
1:	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, (%rsi)
	mov $1, %eax
	ret
2:	xor %eax, %eax
	ret

	.globl wrmsr_safe
wrmsr_safe:
	mov %edi, %ecx
	mov %rsi, %rax
	mov %rsi, %rdx
	shr $32, %rdx
3:	wrmsr
	mov $1, %eax
	ret
4:	xor %eax, %eax
	ret

	.section .fixup_table, "a"
	.balign 8
	.quad 1b, 2b
	.quad 3b, 4b
