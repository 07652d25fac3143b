/* Kernel log.  Every line carries a level and the CPU it was printed on; lines
 * from different CPUs never interleave inside a line.  Pure logic files may call
 * printk: the unit tests link a fake that records the text. */
#ifndef HV_KERNEL_PRINTK_H
#define HV_KERNEL_PRINTK_H

#include <stdarg.h>
#include "kernel/types.h"

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void printk(int level, const char *fmt, ...) __printf(2, 3);
void vprintk(int level, const char *fmt, va_list ap);

#define pr_err(...) printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...) printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

/* For log lines a guest can cause at will (a refused hypercall, a bad MSR
 * value): true for the first `max` calls on this counter, then false, so a
 * guest cannot flood the console.  *used keeps counting; pass it to
 * log_budget_note to say once that the rest go unlogged. */
static inline bool log_budget(u32 *used, u32 max)
{
	return __atomic_fetch_add(used, 1, __ATOMIC_RELAXED) < max;
}

/* "; further ones are not logged" on the last line log_budget allows. */
static inline const char *log_budget_note(const u32 *used, u32 max)
{
	return __atomic_load_n(used, __ATOMIC_RELAXED) == max ? "; further ones are not logged" : "";
}

#endif
