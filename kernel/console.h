/* The serial console: the one line that carries the hypervisor's log, the
 * guest's console and the hypervisor shell (kernel/printk.c; input in
 * kernel/shell/console_mux.h). */
#ifndef HV_KERNEL_CONSOLE_H
#define HV_KERNEL_CONSOLE_H

#include "kernel/types.h"

void console_init(u16 port, u32 baud);
/* Writes whole lines atomically with respect to other CPUs. */
void console_write(const char *s, size_t len);
/* The guest's output: whole lines or a partial one (a prompt).  Never shares
 * a terminal line with the log or the shell. */
void console_write_guest(const char *s, size_t len);
/* After a panic has stopped the other CPUs, a lock held by one of them must not
 * silence the dump. */
void console_enter_panic_mode(void);

extern int console_loglevel;

/* A line with no CPU prefix, for lines scripts parse (the ready line). */
void printk_plain(const char *fmt, ...) __printf(1, 2);

/* Lines printk writes on this CPU (CPU_NONE: none) go out without the
 * "[c<cpu>] LEVEL" prefix and stay out of the log ring: the shell sets it
 * around a backend dump it asked that CPU for. */
void printk_set_plain_cpu(u32 cpu);

/* The shell's prompt line.  show starts a fresh line with the prompt; input
 * echoes typed characters; erase takes n back; end closes the line (tail, e.g.
 * "^C", is written after the input).  While the prompt is up, any other text
 * goes on lines of its own and the prompt is drawn again below it. */
void console_prompt_show(const char *prompt);
void console_prompt_input(const char *s, size_t n);
void console_prompt_erase(u32 n);
void console_prompt_end(const char *tail);

/* The log ring (kernel/logring.h), read one line per call without holding the
 * console lock between calls. */
bool console_log_read(u64 *pos, char *out, size_t size, u64 *skipped);
u64 console_log_last(u64 lines);
void console_log_stats(u64 *bytes, u64 *lines_dropped);

#endif
