/* printf-style formatting without the C library, for the log and the debug
 * shell.  Pure logic: also compiled natively into the host unit tests, which
 * compare it with the host's snprintf.
 *
 * Behaves like C99 snprintf for: conversions d i u x X o p s c %; flags - 0 + space #;
 * width and precision, either of which may be '*'; length modifiers hh h l ll z t j.
 * No floating point (the image is built without SSE).
 *
 * Where this differs from (or pins down what C leaves undefined in) snprintf:
 *  - %p is always "0x" and 16 lowercase hex digits, NULL included, so pointers
 *    line up in the log.  Width and '-' apply; other flags are ignored.
 *  - a NULL %s argument prints "(null)" (precision still limits it).
 *  - an unknown or incomplete conversion ("%y", "%-5q", a lone trailing '%')
 *    is copied to the output literally and consumes no argument, so a typo in
 *    a format string cannot make us read a garbage vararg.
 *  - "%%" prints '%' and ignores any flags/width between the two '%'.
 *  - if the full output would exceed INT_MAX characters the return value is -1
 *    (the buffer is still filled and terminated as far as it goes). */
#ifndef HV_KERNEL_LIB_FORMAT_H
#define HV_KERNEL_LIB_FORMAT_H

#include <stdarg.h>
#include "kernel/types.h"

/* Writes at most size-1 characters plus a terminating NUL (when size > 0) and
 * returns the length the full output would have had.  buf may be NULL when
 * size is 0, which makes this a length query. */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Appends formatted text to a buffer, snprintf-style: len counts what would
 * have been written, so callers detect truncation; the text in buf is always
 * terminated when size > 0. */
struct fmt_buf {
	char *buf;
	size_t size, len;
};

struct fmt_buf fmt_buf_init(char *buf, size_t size);
void fmt_buf_put(struct fmt_buf *b, const char *fmt, ...) __printf(2, 3);

#endif
