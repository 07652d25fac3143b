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

/* Starts this CPU's local APIC timer in periodic mode, raising vector every
 * period_us microseconds (the timer's rate is measured against the TSC the
 * first time).  Returns false when the timer could not be calibrated. */
bool lapic_timer_periodic(u8 vector, u32 period_us);

#endif
