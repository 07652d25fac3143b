/* The image's own string/memory primitives (the host tests use the C
 * library's).  gcc emits calls to memcpy/memset/memmove/memcmp on its own
 * (struct copies, zero initialisers), so these must keep exact C semantics.
 *
 * Two hazards specific to implementing these functions:
 *  - gcc's loop-distribution pass recognises a byte loop as "a memset" and
 *    replaces it with a call to memset, even with -ffreestanding, which would
 *    make memset call itself forever.  NO_LIBCALL turns that pass off.
 *  - Word-wide accesses go through a may_alias type so they stay correct even
 *    if the build ever drops -fno-strict-aliasing.
 * No SSE is available (-mgeneral-regs-only), so 8-byte words are the widest
 * useful unit. */
#include "kernel/lib/string.h"
#include "kernel/types.h"

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

typedef u64 __attribute__((may_alias)) word_t;
#define WORD sizeof(word_t)

static inline bool word_aligned(const void *p)
{
	return ((uintptr_t)p & (WORD - 1)) == 0;
}

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	/* Going word-wide only pays when both sides can be aligned together. */
	if (n >= 2 * WORD && (((uintptr_t)d ^ (uintptr_t)s) & (WORD - 1)) == 0) {
		while (!word_aligned(d)) {
			*d++ = *s++;
			n--;
		}
		for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
			*(word_t *)d = *(const word_t *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	/* A forward copy is safe whenever the destination does not start inside
	 * the source (compared as integers: the pointers may be unrelated).  That
	 * includes dst below an overlapping src, which relies on the memcpy above
	 * copying strictly upwards and loading each word before storing it. */
	if ((uintptr_t)d - (uintptr_t)s >= n)
		return memcpy(dst, src, n);

	/* dst overlaps the tail of src: copy from the end. */
	d += n;
	s += n;
	if (n >= 2 * WORD && (((uintptr_t)d ^ (uintptr_t)s) & (WORD - 1)) == 0) {
		while (!word_aligned(d)) {
			*--d = *--s;
			n--;
		}
		for (; n >= WORD; n -= WORD) {
			d -= WORD;
			s -= WORD;
			*(word_t *)d = *(const word_t *)s;
		}
	}
	while (n--)
		*--d = *--s;
	return dst;
}

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;
	u8 byte = (u8)c;

	if (n >= 2 * WORD) {
		word_t pattern = (u64)byte * 0x0101010101010101ULL;
		while (!word_aligned(d)) {
			*d++ = byte;
			n--;
		}
		for (; n >= WORD; n -= WORD, d += WORD)
			*(word_t *)d = pattern;
	}
	while (n--)
		*d++ = byte;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a;
	const u8 *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

/* C compares strings as unsigned char, so bytes >= 0x80 sort after ASCII. */
int strcmp(const char *a, const char *b)
{
	const u8 *x = (const u8 *)a;
	const u8 *y = (const u8 *)b;

	while (*x && *x == *y) {
		x++;
		y++;
	}
	return (int)*x - (int)*y;
}

int strncmp(const char *a, const char *b, size_t n)
{
	const u8 *x = (const u8 *)a;
	const u8 *y = (const u8 *)b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return (int)*x - (int)*y;
		if (!*x)
			break;
	}
	return 0;
}

/* The terminator counts as part of the string, so strchr(s, 0) finds it. */
char *strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
