/*
 * Multiprocessor support for test guests (lib/smp.c, lib/smp_trampoline.S).
 *
 * The CPUs come from the ACPI MADT (enabled Processor Local APIC and Local x2APIC
 * entries). smp_start_aps() wakes each AP with INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4.1)
 * into a real-mode trampoline copied below 1 MiB, which enters 32-bit protected mode
 * on the runtime's GDT, gives the AP its own stack, loads the IDT of lib/irq.h,
 * enables its local APIC in xAPIC mode and leaves it polling a mailbox with IF set.
 * The BSP hands it work with smp_call().
 *
 * APs must not print or use trap_run(): the console and the catch are not shared
 * safely. They report through memory that the BSP checks.
 */
#ifndef SMP_H
#define SMP_H

#include "guest.h"

#define SMP_MAX_CPUS 8

/* Reads the MADT (once); false when there is none. CPU 0 is the caller (the BSP). */
bool smp_discover(void);
extern int smp_cpu_count;              /* 1 when there is no MADT */
extern u32 smp_apic_ids[SMP_MAX_CPUS]; /* by CPU number */

/* Starts every AP the MADT lists; the number of APs that checked in. The BSP's
 * local APIC must be enabled (lib/lapic.h) and IF clear or harmless. */
int smp_start_aps(void);
extern volatile bool smp_cpu_online[SMP_MAX_CPUS];
u32 smp_trampoline_base(void);         /* where the trampoline was copied (0: not yet) */

/* The CPU number of the caller, found from its stack (works in any APIC mode). */
int smp_this_cpu(void);

/* Runs fn(arg) on AP `cpu` from its idle loop (IF set there) and waits up to
 * timeout_ms for it to return; false on timeout. */
bool smp_call(int cpu, void (*fn)(void *), void *arg, u32 timeout_ms);

#endif
