/*
 * External interrupts and NMIs for test guests (lib/irq.c, lib/irq_stubs.S).
 *
 * irq_init() replaces the runtime's 32-entry IDT with a full 256-entry one on the
 * calling CPU: vectors 0-31 keep the runtime's exception stubs (so trap_run() works
 * as before), every vector from 32 up gets a stub that calls the handler registered
 * with irq_set_handler(). A vector without a handler is counted in irq_unhandled[]
 * and otherwise ignored (no EOI: the test that caused it should see it in the ISR).
 * A maskable vector that interrupted code with IF clear is counted in irq_phantoms and
 * dropped: only a buggy emulator delivers one (see irq_dispatch).
 * NMI (vector 2) can be given a handler too; the other exception vectors cannot.
 *
 * Handlers run on the interrupted CPU's stack with IF clear (interrupt gates) and
 * must send the local APIC EOI themselves: tests of the APIC need to choose when.
 */
#ifndef IRQ_H
#define IRQ_H

#include "guest.h"

typedef void (*irq_handler_fn)(u32 vector);

void irq_init(void);                                /* build the IDT (once), load it */
void irq_load(void);                                /* load the built IDT (APs) */
void irq_set_handler(u32 vector, irq_handler_fn fn); /* fn NULL: back to the default */
extern volatile u32 irq_unhandled[256];
/* Interrupts that arrived with IF clear (an emulator's, see irq_dispatch): not handled. */
extern volatile u32 irq_phantoms;

static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* ---- time (lib/tsc.c) --------------------------------------------------------------
 * The TSC, calibrated once against PIT channel 2, bounds every wait: on QEMU TCG and
 * Bochs its rate is whatever the emulator makes it, so no fixed constant would do.
 */
extern u64 tsc_per_ms;          /* TSC ticks per millisecond (a guess if the PIT failed) */
extern bool tsc_calibrated;     /* false: the PIT never counted down */
void tsc_init(void);
u64 tsc_after_us(u64 us);       /* the TSC value `us` microseconds from now */
static inline bool tsc_reached(u64 when) { return rdtsc() >= when; }
void tsc_delay_us(u64 us);

#endif
