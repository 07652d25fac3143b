/* The serial console: the one line that carries the hypervisor's log. */
#ifndef HV_KERNEL_CONSOLE_H
#define HV_KERNEL_CONSOLE_H

#include "kernel/types.h"

void console_init(u16 port, u32 baud);
/* Writes whole lines atomically with respect to other CPUs. */
void console_write(const char *s, size_t len);
/* After a panic has stopped the other CPUs, a lock held by one of them must not
 * silence the dump. */
void console_enter_panic_mode(void);

extern int console_loglevel;

/* A line with no CPU prefix, for lines scripts parse (the ready line). */
void printk_plain(const char *fmt, ...) __printf(1, 2);

#endif
