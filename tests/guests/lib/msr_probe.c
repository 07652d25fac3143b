/*
 * Probing an MSR for #GP (see guest.h).  The access runs under trap_run(), and
 * only a #GP whose EIP is the RDMSR/WRMSR itself counts: a #GP raised anywhere
 * else (a bad stub, a stray fault in the call) would otherwise pass for the
 * MSR's refusal.
 */
#include "guest.h"

void msr_probe_rdmsr(void *), msr_probe_wrmsr(void *);
extern char msr_probe_at_rdmsr[], msr_probe_at_wrmsr[];
/* arg: u32 {msr, lo, hi}.  EBX is callee-saved, so the write stub keeps it. */
__asm__(".pushsection .text\n"
	".globl msr_probe_rdmsr\nmsr_probe_rdmsr:\n"
	"\tmov 4(%esp), %eax\n\tmov (%eax), %ecx\n"
	".globl msr_probe_at_rdmsr\nmsr_probe_at_rdmsr: rdmsr\n\tret\n"
	".globl msr_probe_wrmsr\nmsr_probe_wrmsr:\n"
	"\tpush %ebx\n\tmov 8(%esp), %ebx\n\tmov (%ebx), %ecx\n"
	"\tmov 4(%ebx), %eax\n\tmov 8(%ebx), %edx\n"
	".globl msr_probe_at_wrmsr\nmsr_probe_at_wrmsr: wrmsr\n\tpop %ebx\n\tret\n"
	".popsection\n");

bool rdmsr_gp(u32 msr)
{
	u32 arg[3] = {msr, 0, 0};
	struct trap t;
	return trap_run(msr_probe_rdmsr, arg, &t) == VEC_GP && t.eip == (u32)msr_probe_at_rdmsr;
}

bool wrmsr_gp(u32 msr, u64 value)
{
	u32 arg[3] = {msr, (u32)value, (u32)(value >> 32)};
	struct trap t;
	return trap_run(msr_probe_wrmsr, arg, &t) == VEC_GP && t.eip == (u32)msr_probe_at_wrmsr;
}
