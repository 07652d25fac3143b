/* The C string/memory primitives.  The hypervisor image supplies its own
 * implementations (kernel/lib/string.c); host unit tests get the C library's,
 * which have the same prototypes. */
#ifndef HV_KERNEL_LIB_STRING_H
#define HV_KERNEL_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* Copies at most size-1 bytes and always terminates (when size > 0).
 * Returns strlen(src), so truncation is visible to the caller. */
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
