/*
 * Local APIC access for test guests (lib/lapic.c): one interface over both the xAPIC
 * (MMIO at the IA32_APIC_BASE address) and the x2APIC (MSR 0x800 + offset / 16),
 * SDM Vol. 3A chapter 11. The mode is kept per CPU (lib/smp.h numbers the CPUs), so
 * after lapic_enter_x2apic() on one CPU, only that CPU uses MSRs.
 *
 * Register names below are the xAPIC MMIO offsets (SDM Table 11-1); the x2APIC MSR is
 * derived from them (SDM Table 11-6), except that the x2APIC ICR is one 64-bit MSR.
 */
#ifndef LAPIC_H
#define LAPIC_H

#include "guest.h"

#define MSR_APIC_BASE        0x1b
#define APIC_BASE_BSP        (1u << 8)
#define APIC_BASE_EXTD       (1u << 10) /* x2APIC mode */
#define APIC_BASE_EN         (1u << 11) /* global enable */
#define APIC_BASE_ADDR_MASK  0xfffff000u
#define MSR_TSC_DEADLINE     0x6e0
#define MSR_X2APIC_FIRST     0x800
#define MSR_X2APIC_ICR       0x830
#define MSR_X2APIC_SELF_IPI  0x83f

#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_EDX_APIC         (1u << 9)

enum lapic_reg {
	LAPIC_ID = 0x20,
	LAPIC_VERSION = 0x30,
	LAPIC_TPR = 0x80,
	LAPIC_PPR = 0xa0,
	LAPIC_EOI = 0xb0,
	LAPIC_LDR = 0xd0,
	LAPIC_DFR = 0xe0,   /* xAPIC only */
	LAPIC_SVR = 0xf0,
	LAPIC_ISR = 0x100,  /* 8 registers, 0x10 apart */
	LAPIC_TMR = 0x180,
	LAPIC_IRR = 0x200,
	LAPIC_ESR = 0x280,
	LAPIC_ICR_LOW = 0x300,
	LAPIC_ICR_HIGH = 0x310, /* xAPIC only */
	LAPIC_LVT_TIMER = 0x320,
	LAPIC_LVT_LINT0 = 0x350,
	LAPIC_LVT_LINT1 = 0x360,
	LAPIC_LVT_ERROR = 0x370,
	LAPIC_TIMER_INITIAL = 0x380,
	LAPIC_TIMER_CURRENT = 0x390,
	LAPIC_TIMER_DIVIDE = 0x3e0,
};

#define SVR_APIC_ENABLED      (1u << 8)
#define LVT_MASKED            (1u << 16)
#define LVT_TIMER_ONE_SHOT    (0u << 17)
#define LVT_TIMER_PERIODIC    (1u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define TIMER_DIVIDE_BY_1     0xb

/* ICR (SDM 11.6.1). */
#define ICR_FIXED          (0u << 8)
#define ICR_LOWEST         (1u << 8)
#define ICR_NMI            (4u << 8)
#define ICR_INIT           (5u << 8)
#define ICR_STARTUP        (6u << 8)
#define ICR_LOGICAL        (1u << 11)
#define ICR_BUSY           (1u << 12) /* delivery status, xAPIC only */
#define ICR_ASSERT         (1u << 14)
#define ICR_LEVEL          (1u << 15)
#define ICR_SELF           (1u << 18)
#define ICR_ALL            (2u << 18)
#define ICR_ALL_BUT_SELF   (3u << 18)

bool lapic_present(void);           /* CPUID.1:EDX[9] */
bool lapic_x2apic_offered(void);    /* CPUID.1:ECX[21] */
/* Globally enable the APIC in xAPIC mode (from disabled or x2APIC, through disabled
 * as SDM 11.12.5 requires), software-enable it with spurious vector 0xff, TPR 0. */
void lapic_enter_xapic(void);
/* xAPIC -> x2APIC (SDM 11.12.5: EXTD set while EN is set). */
void lapic_enter_x2apic(void);
bool lapic_in_x2apic(void);         /* the mode this CPU uses */
u32 lapic_mmio_base(void);

u32 lapic_read(enum lapic_reg reg);
void lapic_write(enum lapic_reg reg, u32 value);
u32 lapic_id(void);                 /* xAPIC: ID[31:24]; x2APIC: the 32-bit ID */
void lapic_eoi(void);
/* Send an IPI: dest is an APIC ID or logical destination (ignored with a shorthand).
 * xAPIC: waits (bounded) for delivery status to clear; false if it never did. */
bool lapic_send_ipi(u32 dest, u32 icr_low);
/* Bit `vector` of the 256-bit ISR/IRR/TMR starting at `base` (LAPIC_ISR, ...). */
bool lapic_vector_bit(enum lapic_reg base, u32 vector);

#endif
