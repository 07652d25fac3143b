#include "kernel/percpu.h"
#include "arch/x86/cpu.h"

struct percpu *percpu_table[HV_MAX_CPUS];
u32 cpus_online;

void percpu_install(struct percpu *pc)
{
	pc->self = pc;
	wrmsr(MSR_GS_BASE, (u64)pc);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}
