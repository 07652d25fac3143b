/* One timer per CPU, shared by the clients that need a wake-up on that CPU:
 * the console poll (on the console CPU) and the VP's virtual APIC timer.
 *
 * Each client holds at most one deadline in TSC ticks; the CPU's local APIC
 * timer runs one-shot towards the earliest.  Deadlines are per CPU and only
 * touched on their own CPU with interrupts off, so nothing here locks. */
#ifndef HV_KERNEL_HOST_TIMER_H
#define HV_KERNEL_HOST_TIMER_H

#include "kernel/types.h"

enum host_timer_client {
	HOST_TIMER_CONSOLE, /* console input poll (kernel/shell/console_mux.c) */
	HOST_TIMER_VP,      /* the VP's virtual APIC timer (kernel/vm/vp_apic.c) */
	HOST_TIMER_DEBUG,   /* debug_fault_late (kernel/main.c) */
	HOST_TIMER_CLIENTS,
};

typedef void (*host_timer_fn)(void);

struct host_timer_cpu {
	bool ready;
	u64 deadline[HOST_TIMER_CLIENTS]; /* 0: not armed */
	host_timer_fn fn[HOST_TIMER_CLIENTS];
	u64 programmed;			  /* deadline the APIC timer runs to; 0: none */
	u64 fired;			  /* interrupts taken (the shell's `info`) */
};

/* Sets up this CPU's timer; false when the local APIC timer cannot be used. */
bool host_timer_init_cpu(void);
/* Arms (deadline != 0) or cancels (0) a client on this CPU.  fn runs in the
 * timer interrupt once rdtsc() >= deadline; it may re-arm.  NULL fn: the
 * interrupt only wakes the CPU (or makes its VP exit). */
void host_timer_set(enum host_timer_client client, u64 deadline, host_timer_fn fn);
/* The deadline `client` is armed to on this CPU (0: none; a fired one reads
 * 0).  With interrupts off, so that the timer interrupt cannot change it
 * under the caller (the VP loop compares before it re-arms). */
u64 host_timer_deadline(enum host_timer_client client);

#endif
