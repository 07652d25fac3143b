/* The log ring: the most recent hypervisor log lines, kept in memory so that
 * the shell's `log` command can replay them (lines the console's loglevel hid
 * included).
 *
 * Pure logic: a byte ring over a caller-supplied power-of-two buffer, also
 * compiled into the host unit tests.
 *
 * Positions are 64-bit byte counts since the ring was created, so they never
 * wrap in practice: `head` is where the next line goes, `tail` the start of
 * the oldest line still complete in the buffer.  A writer that needs room
 * moves `tail` forward over whole lines, so tail is always at a line start and
 * a reader never sees half a line at the old end.
 *
 * Concurrency: the ring has no lock of its own.  Writers and readers serialise
 * on one external lock (printk uses the console lock).  A reader copies one
 * line per lock hold with logring_read_line() and keeps only its position, so
 * printing a long replay never holds the lock; if writers overtook it in the
 * meantime, the next read skips forward to the oldest complete line and says
 * how many bytes were lost. */
#ifndef HV_KERNEL_LOGRING_H
#define HV_KERNEL_LOGRING_H

#include "kernel/types.h"

struct logring {
	char *buf;
	u64 size; /* power of two */
	u64 head; /* position of the next byte written */
	u64 tail; /* position of the oldest complete line */
	u64 lines_dropped; /* lines pushed out by newer ones */
};

/* size must be a power of two, at least 64. */
void logring_init(struct logring *r, char *buf, u64 size);

/* Appends one line.  A missing final '\n' is added; a line longer than half
 * the ring is cut to that length (its end replaced by '\n'). */
void logring_write(struct logring *r, const char *line, size_t len);

/* Position of the first of the last n lines (the oldest line when there are
 * fewer). */
u64 logring_last_lines(const struct logring *r, u64 n);

/* Copies the line at *pos into out (at most out_size - 1 bytes, always
 * terminated, the '\n' included when it fits) and moves *pos to the next line.
 * Returns false at the end of the log.  When *pos has been overwritten it first
 * moves to the oldest line and adds the bytes skipped to *skipped (if given). */
bool logring_read_line(const struct logring *r, u64 *pos, char *out, size_t out_size,
		       u64 *skipped);

#endif
