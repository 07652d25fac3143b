/* The physical local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode. */
#ifndef HV_ARCH_X86_LAPIC_H
#define HV_ARCH_X86_LAPIC_H

#include "kernel/types.h"

/* Chooses the mode for every CPU (x2APIC when the CPU has it, unless the
 * command line says otherwise) and enables it on the boot CPU. */
void lapic_init_bsp(int x2apic_mode_option);
void lapic_init_cpu(void);
bool lapic_is_x2apic(void);
u64 lapic_mmio_base(void);

u32 lapic_id(void);
void lapic_eoi(void);
void lapic_send_fixed(u32 apic_id, u8 vector);
void lapic_send_init(u32 apic_id);
void lapic_send_startup(u32 apic_id, u8 page_vector);
void lapic_send_nmi_all_but_self(void);

/* This CPU's local APIC timer as a one-shot for kernel/host_timer.c: init
 * measures its rate against the TSC the first time (false if it cannot) and
 * sets the vector; oneshot fires once after about tsc_delta TSC ticks (at
 * least one timer tick, at most 2^32); stop cancels. */
bool lapic_timer_oneshot_init(u8 vector);
void lapic_timer_oneshot(u64 tsc_delta);
void lapic_timer_stop(void);
u32 lapic_timer_ticks_per_ms(void);

#endif
