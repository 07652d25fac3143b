/* Per-CPU data, reached through GS base.  The first field points to itself so
 * that one gs-relative load gives the structure's address. */
#ifndef HV_KERNEL_PERCPU_H
#define HV_KERNEL_PERCPU_H

#include "arch/x86/desc.h"
#include "kernel/config.h"
#include "kernel/host_timer.h"
#include "kernel/types.h"

typedef void (*smp_call_fn)(void *arg);
struct vp;

struct smp_call_slot {
	smp_call_fn fn;
	void *arg;
	u32 pending; /* set by the caller, cleared by the target when fn returned */
};

struct percpu {
	struct percpu *self;
	u32 cpu_id;
	u32 apic_id;
	u32 acpi_uid;
	u32 online;
	u64 stack_base;
	u64 stack_top;
	u64 ist_base[IST_COUNT];
	u32 trap_depth; /* nested exceptions on this CPU: a fault in the dump path */
	u32 stopped;
	struct smp_call_slot call;
	void *virt_cpu;  /* the backend's per-CPU state (host save areas) */
	struct vp *vp;   /* the VP this CPU runs */
	struct host_timer_cpu timer;
	struct tss64 tss __aligned(16);
	u64 gdt[GDT_ENTRIES] __aligned(16);
};

extern struct percpu *percpu_table[HV_MAX_CPUS];
extern u32 cpus_online;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static inline u32 this_cpu_id(void)
{
	return this_cpu()->cpu_id;
}

/* Points GS base at pc; must run before anything prints. */
void percpu_install(struct percpu *pc);

#endif
