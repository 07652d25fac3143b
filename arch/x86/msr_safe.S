/* bool rdmsr_safe(u32 msr, u64 *value): RDMSR that turns the #GP of a missing
 * MSR into a false return (the trap handler resumes at the fixup). */
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

	.section .fixup_table, "a"
	.balign 8
	.quad 1b, 2b
