/* Bringing up the other CPUs, and running a function on another CPU. */
#ifndef HV_KERNEL_SMP_H
#define HV_KERNEL_SMP_H

#include "arch/x86/acpi.h"
#include "kernel/percpu.h"

/* Allocates the boot CPU's per-CPU area (stacks, IST) and installs it. */
void smp_init_bsp(u32 apic_id);
/* Starts every enabled CPU of the MADT (up to maxcpus) through INIT-SIPI-SIPI.
 * Returns the number of CPUs online, the boot CPU included. */
u32 smp_boot_aps(const struct acpi_info *acpi, u32 maxcpus);
/* Runs fn(arg) on cpu and waits for it to return.  0 on success, -1 if the
 * CPU does not exist or did not answer in time. */
int smp_call_on(u32 cpu, smp_call_fn fn, void *arg);
/* Checks the cross-call path on every CPU; returns how many answered. */
u32 smp_selftest(void);

/* Called with interrupts disabled each time an idle CPU wakes up (after the
 * interrupt that woke it was handled): serves requests that must run in
 * thread context, such as the shell.  NULL: nothing to do. */
extern void (*smp_idle_hook)(void);

#endif
