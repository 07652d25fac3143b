/* Fatal errors: dump what explains the failure, stop every CPU, never reboot. */
#ifndef HV_KERNEL_PANIC_H
#define HV_KERNEL_PANIC_H

#include "arch/x86/trap.h"
#include "kernel/types.h"

__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* An exception or NMI the hypervisor did not expect. */
__noreturn void panic_exception(struct trap_frame *frame);
/* NMI handler: stops this CPU if another one is panicking. Returns false when
 * no panic is in progress (the NMI was unexpected). */
bool panic_nmi_stop(struct trap_frame *frame);
/* The same from the VP loop, for an NMI a VM exit consumed (VMX); returns at
 * once when no panic is in progress. */
void panic_stop_this_cpu(void);
bool panic_in_progress(void);

#define BUG_ON(cond)                                                              \
	do {                                                                      \
		if (cond)                                                         \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);     \
	} while (0)

#endif
