/* TSC frequency and delays. */
#ifndef HV_ARCH_X86_TSC_H
#define HV_ARCH_X86_TSC_H

#include "kernel/types.h"

extern u64 tsc_hz;
extern u64 tsc_at_entry;

/* pm_timer_port: ACPI PM timer (0 when absent), used when CPUID gives no
 * frequency and the PIT measurement fails. */
void tsc_init(u16 pm_timer_port, bool pm_timer_32bit);
void udelay(u64 microseconds);
/* A deadline this many microseconds from now, for bounded waits. */
u64 tsc_deadline_us(u64 microseconds);
bool tsc_passed(u64 deadline);

#endif
