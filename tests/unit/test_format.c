/* unit-sources: kernel/lib/format.c */
/* fmt_snprintf is checked against the host C library wherever C defines the
 * result; the places where we deliberately differ (%p, NULL %s, unknown
 * conversions) have their own expected strings. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/lib/format.h"

#define BUF 1024

/* Formats with both implementations into buffers pre-filled with junk, so a
 * missing terminator shows up as a mismatch. */
static void check_same_v(int line, const char *fmt, va_list ap)
{
	char want[BUF], got[BUF];
	va_list ap2;

	memset(want, 'W', sizeof(want));
	memset(got, 'G', sizeof(got));
	va_copy(ap2, ap);
	int wn = vsnprintf(want, sizeof(want), fmt, ap);
	int gn = fmt_vsnprintf(got, sizeof(got), fmt, ap2);
	va_end(ap2);
	ck_assert_msg(wn == gn && strcmp(want, got) == 0,
		      "line %d: format \"%s\": libc returned %d \"%s\", we returned %d \"%s\"",
		      line, fmt, wn, want, gn, got);
}

static void __printf(2, 3) check_same_at(int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_same_v(line, fmt, ap);
	va_end(ap);
}
#define check_same(...) check_same_at(__LINE__, __VA_ARGS__)

/* The same without format checking, for literals gcc would (rightly) warn
 * about but whose behaviour C still defines. */
static void check_same_unchecked_at(int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	check_same_v(line, fmt, ap);
	va_end(ap);
}
#define check_same_unchecked(...) check_same_unchecked_at(__LINE__, __VA_ARGS__)

/* Runs both implementations at every buffer size from 0 to a little past the
 * full length.  Buffers are malloc'ed at exactly that size so AddressSanitizer
 * catches a single byte written past the end; size 0 uses a NULL buffer. */
static void __printf(1, 2) check_truncation(const char *fmt, ...)
{
	va_list ap, a1, a2;
	va_start(ap, fmt);
	va_copy(a1, ap);
	int full = vsnprintf(NULL, 0, fmt, a1);
	va_end(a1);
	ck_assert_int_gt(full, 0);

	for (size_t size = 0; size <= (size_t)full + 3; size++) {
		char *want = size ? malloc(size) : NULL;
		char *got = size ? malloc(size) : NULL;
		if (size) {
			memset(want, 'W', size);
			memset(got, 'G', size);
		}
		va_copy(a1, ap);
		va_copy(a2, ap);
		int wn = vsnprintf(want, size, fmt, a1);
		int gn = fmt_vsnprintf(got, size, fmt, a2);
		va_end(a1);
		va_end(a2);
		ck_assert_msg(gn == wn, "\"%s\" size %zu: returned %d, libc %d", fmt, size, gn, wn);
		ck_assert_int_eq(gn, full);
		if (size) {
			/* Bytes past the terminator are unspecified; compare up to it. */
			size_t used = MIN(size, (size_t)full + 1);
			ck_assert_msg(memcmp(want, got, used) == 0, "\"%s\" size %zu: got \"%s\" want \"%s\"",
				      fmt, size, got, want);
			ck_assert_int_eq(got[used - 1], '\0');
		}
		free(want);
		free(got);
	}
	va_end(ap);
}

/* fmt_vsnprintf into out[]; returns its result.  Deliberately without the
 * format attribute: the tests of our own extensions (NULL %s, unknown
 * conversions) pass what gcc would reject for the C library. */
static char out[BUF];
static int ours_n(size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	memset(out, 'G', sizeof(out));
	int n = fmt_vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return n;
}
#define ours(...) ours_n(sizeof(out), __VA_ARGS__)

/* ---- integers: cross products of formats and values ---------------------- */

static const char *const int_fmts[] = {
	"%d", "%i", "%5d", "%-5d", "%05d", "%+d", "% d", "%+5d", "%-+5d", "% 05d",
	"%+05d", "%.0d", "%.1d", "%.3d", "%8.3d", "%-8.3d", "%08.3d", "%+.3d", "%#d",
	"%-05d", "%0-5d", "% +d", "%+ d", "%010d", "%1d", "%12i", "[%d]", "%.12d",
	"%-+12.5d", "% 12d", "%00005d", "%.0i", "%3.0d", "%+.0d", "% .0d",
};
static const int int_vals[] = {
	0, 1, -1, 7, -7, 42, -42, 99, 100, -100, 12345, -12345, 1000000,
	INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1,
};

START_TEST(test_signed_int)
{
	for (size_t f = 0; f < ARRAY_SIZE(int_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(int_vals); v++)
			check_same(int_fmts[f], int_vals[v]);
}
END_TEST

static const char *const uint_fmts[] = {
	"%u", "%x", "%X", "%o", "%#x", "%#X", "%#o", "%5u", "%-5x", "%05o", "%#08x",
	"%#-8x", "%#.0x", "%#.0o", "%.0u", "%.0x", "%.0o", "%#5.3o", "%#.8x", "%8.4X",
	"%+u", "% u", "%+x", "%#10.0o", "%#o|%#x", "%-#12X|", "%#012o", "%#3o", "%#.3o",
	"%#.1o", "%#x", "%#08.0X", "%0.0x",
};
static const unsigned uint_vals[] = {
	0, 1, 7, 8, 15, 16, 255, 256, 0777, 01000, 0x7fffffff, 0x80000000u, UINT_MAX,
	0xdeadbeef, 01234567,
};

START_TEST(test_unsigned_int)
{
	for (size_t f = 0; f < ARRAY_SIZE(uint_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(uint_vals); v++)
			check_same(uint_fmts[f], uint_vals[v], uint_vals[v]);
}
END_TEST

static const char *const ll_fmts[] = {
	"%lld", "%lli", "%+lld", "% lld", "%25lld", "%-25lld|", "%025lld", "%.20lld",
	"%+025lld", "%-+25lld|", "%.0lld", "%21.20lld",
};
static const long long ll_vals[] = {
	0, 1, -1, INT64_MAX, INT64_MIN, INT64_MIN + 1, (long long)INT_MIN - 1,
	(long long)UINT_MAX + 1, 1000000000000LL, -999999999999999999LL,
};

START_TEST(test_long_long)
{
	for (size_t f = 0; f < ARRAY_SIZE(ll_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(ll_vals); v++)
			check_same(ll_fmts[f], ll_vals[v]);
}
END_TEST

static const char *const ull_fmts[] = {
	"%llu", "%llx", "%llX", "%llo", "%#llx", "%#llo", "%30llu", "%-30llx|", "%030llo",
	"%.25llu", "%#.0llx", "%#30.24llX", "%+llu", "%#-30llo|",
};
static const unsigned long long ull_vals[] = {
	0, 1, UINT64_MAX, 1ULL << 63, (1ULL << 63) - 1, 0x0123456789abcdefULL,
	0xfedcba9876543210ULL, 10000000000000000000ULL, 0x100000000ULL,
};

START_TEST(test_unsigned_long_long)
{
	for (size_t f = 0; f < ARRAY_SIZE(ull_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(ull_vals); v++)
			check_same(ull_fmts[f], ull_vals[v]);
}
END_TEST

/* hh and h take an int and must narrow it, in both signednesses. */
static const char *const short_fmts[] = {
	"%hhd", "%hhi", "%hd", "%+hhd", "%5hd", "%hhu", "%hhx", "%hu", "%ho", "%#hx",
	"%hhX", "%-6hhd|", "%05hu", "%.4hhx",
};
static const int short_vals[] = {
	0, 1, -1, 127, 128, 255, 256, -128, -129, 32767, 32768, 65535, 65536, -32768,
	-32769, INT_MAX, INT_MIN, 0x12345678,
};

START_TEST(test_short_and_char_lengths)
{
	for (size_t f = 0; f < ARRAY_SIZE(short_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(short_vals); v++)
			check_same(short_fmts[f], short_vals[v]);
}
END_TEST

START_TEST(test_other_lengths)
{
	check_same("%ld|%lu|%lx|%li", LONG_MIN, ULONG_MAX, 0xabcUL, LONG_MAX);
	check_same("%zu|%zx|%zd|%zX", (size_t)SIZE_MAX, (size_t)0x1234, (long)-5, (size_t)255);
	check_same("%td|%td|%ti", (ptrdiff_t)-5, (ptrdiff_t)PTRDIFF_MIN, (ptrdiff_t)PTRDIFF_MAX);
	check_same("%jd|%ju|%jx|%jo", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX,
		   (uintmax_t)0xabcdef, (uintmax_t)8);
	check_same("%hhd|%hhu|%hd|%hu", (signed char)-128, (unsigned char)255, (short)-32768,
		   (unsigned short)65535);
	check_same("%d %ld %lld %hd %hhd %zu %jd", 1, 2L, 3LL, (short)4, (signed char)5,
		   (size_t)6, (intmax_t)7);
}
END_TEST

START_TEST(test_int64_min)
{
	ck_assert_int_eq(ours("%lld", (long long)INT64_MIN), 20);
	ck_assert_str_eq(out, "-9223372036854775808");
	ck_assert_int_eq(ours("%jd", (intmax_t)INT64_MIN), 20);
	ck_assert_str_eq(out, "-9223372036854775808");
	ck_assert_int_eq(ours("%ld", (long)INT64_MIN), 20);
	ck_assert_str_eq(out, "-9223372036854775808");
	ck_assert_int_eq(ours("%d", INT_MIN), 11);
	ck_assert_str_eq(out, "-2147483648");
	ck_assert_int_eq(ours("%llu", (unsigned long long)UINT64_MAX), 20);
	ck_assert_str_eq(out, "18446744073709551615");
	ck_assert_int_eq(ours("%llo", (unsigned long long)UINT64_MAX), 22);
	ck_assert_str_eq(out, "1777777777777777777777");
	ck_assert_int_eq(ours("%#llo", (unsigned long long)UINT64_MAX), 23);
	ck_assert_str_eq(out, "01777777777777777777777");
}
END_TEST

/* ---- strings and characters ---------------------------------------------- */

static const char *const str_fmts[] = {
	"%s", "%10s", "%-10s|", "%.0s", "%.2s", "%10.2s", "%-10.2s|", "%.20s", "%1s",
	"[%s]", "%-1s", "%.5s", "%3.5s", "%+s", "% s", "%#s",
};
static const char *const str_vals[] = {
	"", "a", "hello", "hello, world!", "tab\there", "\xe9\xff", "%d not a directive",
	"exactly10!",
};

START_TEST(test_strings)
{
	for (size_t f = 0; f < ARRAY_SIZE(str_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(str_vals); v++)
			check_same(str_fmts[f], str_vals[v]);
}
END_TEST

/* A precision lets the argument be an unterminated array; reading one byte
 * past it is an ASan error. */
START_TEST(test_string_precision_does_not_overread)
{
	char *raw = malloc(4);
	memcpy(raw, "abcd", 4);
	ck_assert_int_eq(ours("%.4s|", raw), 5);
	ck_assert_str_eq(out, "abcd|");
	ck_assert_int_eq(ours("%.*s|", 3, raw), 4);
	ck_assert_str_eq(out, "abc|");
	free(raw);
}
END_TEST

START_TEST(test_null_string)
{
	ck_assert_int_eq(ours("%s", (char *)NULL), 6);
	ck_assert_str_eq(out, "(null)");
	ck_assert_int_eq(ours("[%8s]", (char *)NULL), 10);
	ck_assert_str_eq(out, "[  (null)]");
	ck_assert_int_eq(ours("[%-8s]", (char *)NULL), 10);
	ck_assert_str_eq(out, "[(null)  ]");
	ck_assert_int_eq(ours("[%.3s]", (char *)NULL), 5);
	ck_assert_str_eq(out, "[(nu]");
}
END_TEST

static const char *const char_fmts[] = { "%c", "%3c", "%-3c|", "[%c]", "%1c", "%.0c" };
static const int char_vals[] = { 'a', 'Z', ' ', '%', 0x7f, 0xe9, 0x141 };

START_TEST(test_chars)
{
	for (size_t f = 0; f < ARRAY_SIZE(char_fmts); f++)
		for (size_t v = 0; v < ARRAY_SIZE(char_vals); v++)
			check_same(char_fmts[f], char_vals[v]);
}
END_TEST

/* %c of 0 writes a NUL into the middle of the output and still counts it. */
START_TEST(test_char_nul)
{
	char want[16], got[16];
	int wn = snprintf(want, sizeof(want), "a%cb%3c", 0, 0);
	int gn = fmt_snprintf(got, sizeof(got), "a%cb%3c", 0, 0);
	ck_assert_int_eq(gn, 6);
	ck_assert_int_eq(gn, wn);
	ck_assert_mem_eq(got, want, 7);
}
END_TEST

/* ---- '*' width and precision --------------------------------------------- */

START_TEST(test_star)
{
	check_same("%*d", 5, 42);
	check_same("%-*d|", 5, 42);
	check_same("%*d|", -5, 42);    /* negative width: left-justify */
	check_same("%0*d", -5, 42);    /* ... which also cancels '0' */
	check_same("%.*d", 3, 7);
	check_same("%.*d", -1, 7);     /* negative precision: as if absent */
	check_same_unchecked("%0.*d", -1, 7); /* ... and so '0' applies again */
	check_same_unchecked("%05.*d", -3, 7);
	check_same("%*.*d", 8, 3, -7);
	check_same("%*.*s|", -8, 2, "hello");
	check_same("%.*s", 3, "abcdef");
	check_same("%.*s", -1, "abc");
	check_same("%*s|%-*s|", 4, "a", 4, "b");
	check_same("%*c|", 3, 'x');
	check_same("%*u", 0, 5u);
	check_same("%*.*llx|%s", 20, 18, 0xabcULL, "after");
	check_same("%.*d", 0, 0);
	check_same("%*d", 1, 123456);
}
END_TEST

/* ---- mixed formats and plain text ------------------------------------------ */

/* Each is called with one dummy argument, which printf ignores, so the
 * table can hold formats without any directive. */
static const char *const plain_fmts[] = {
	"", "plain text", "100%%", "%%d", "%%%%", "a%%b%%c", "tab\tnewline\n",
	"\xe9\xff high bytes",
};

START_TEST(test_plain_text)
{
	for (size_t f = 0; f < ARRAY_SIZE(plain_fmts); f++)
		check_same(plain_fmts[f], 0);
}
END_TEST

START_TEST(test_mixed)
{
	check_same("%d %s %c %x %%", 1, "two", '3', 4u);
	check_same("%s=%lld (%#llx)", "x", -5LL, 0xffULL);
	check_same("%5s|%-5d|%05u|%+.2d|%%|%o", "ab", -3, 17u, 4, 8u);
	check_same("cpu%u: vmexit %s at %#llx, qual %#x", 3u, "EPT_VIOLATION",
		   0xffffffff81000000ULL, 0x181u);
	check_same("%c%c%c%s%d", 'a', 'b', 'c', "", 0);
	check_same("[%-20s][%20s]", "left", "right");
}
END_TEST

/* Pseudo-random specs over flags, width, precision, length and conversion,
 * with the argument passed at exactly the type the length modifier names. */
static u64 rng_state = 0x9e3779b97f4a7c15ULL;
static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static u64 interesting(void)
{
	static const u64 edges[] = {
		0, 1, 2, 7, 8, 9, 10, 15, 16, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL, INT64_MAX,
		(u64)INT64_MIN, UINT64_MAX, UINT64_MAX - 1,
	};
	u64 r = rng();
	switch (r % 3) {
	case 0:
		return edges[(r >> 8) % ARRAY_SIZE(edges)];
	case 1:
		return (u64)0 - edges[(r >> 8) % ARRAY_SIZE(edges)];
	default:
		return rng() >> (rng() % 64);
	}
}

static void check_random_int(const char *len, char conv, u64 v)
{
	char fmt[64];
	static const char flags[] = "-+ #0";
	size_t n = 0;

	fmt[n++] = '%';
	for (int i = 0; i < 5; i++)
		if (rng() % 4 == 0)
			fmt[n++] = flags[i];
	if (rng() % 2)
		n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, "%u", (unsigned)(rng() % 30));
	if (rng() % 2)
		n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, ".%u", (unsigned)(rng() % 30));
	snprintf(fmt + n, sizeof(fmt) - n, "%s%c|", len, conv);

	bool sgn = conv == 'd' || conv == 'i';
	/* hh and h arguments arrive promoted to int; the wide value checks the
	 * narrowing. */
	if (!strcmp(len, "") || !strcmp(len, "hh") || !strcmp(len, "h"))
		sgn ? check_same_at(__LINE__, fmt, (int)v) : check_same_at(__LINE__, fmt, (unsigned)v);
	else if (!strcmp(len, "l"))
		sgn ? check_same_at(__LINE__, fmt, (long)v) : check_same_at(__LINE__, fmt, (unsigned long)v);
	else if (!strcmp(len, "ll"))
		sgn ? check_same_at(__LINE__, fmt, (long long)v)
		    : check_same_at(__LINE__, fmt, (unsigned long long)v);
	else if (!strcmp(len, "j"))
		sgn ? check_same_at(__LINE__, fmt, (intmax_t)v) : check_same_at(__LINE__, fmt, (uintmax_t)v);
	else if (!strcmp(len, "z"))
		sgn ? check_same_at(__LINE__, fmt, (long)v) : check_same_at(__LINE__, fmt, (size_t)v);
	else
		sgn ? check_same_at(__LINE__, fmt, (ptrdiff_t)v) : check_same_at(__LINE__, fmt, (size_t)v);
}

START_TEST(test_random_integer_specs)
{
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "j", "z", "t" };
	static const char convs[] = "diuxXo";

	for (int i = 0; i < 20000; i++)
		check_random_int(lens[rng() % ARRAY_SIZE(lens)], convs[rng() % 6], interesting());
}
END_TEST

START_TEST(test_random_string_specs)
{
	static const char *const strs[] = { "", "x", "hello", "a longer string of text" };

	for (int i = 0; i < 3000; i++) {
		char fmt[32];
		unsigned w = (unsigned)(rng() % 30), p = (unsigned)(rng() % 30);
		const char *minus = rng() % 2 ? "-" : "";
		switch (rng() % 4) {
		case 0:
			snprintf(fmt, sizeof(fmt), "%%%s%us|", minus, w);
			break;
		case 1:
			snprintf(fmt, sizeof(fmt), "%%%s.%us|", minus, p);
			break;
		case 2:
			snprintf(fmt, sizeof(fmt), "%%%s%u.%us|", minus, w, p);
			break;
		default:
			snprintf(fmt, sizeof(fmt), "%%%s%uc|", minus, w);
			check_same_at(__LINE__, fmt, (int)('!' + rng() % 90));
			continue;
		}
		check_same_at(__LINE__, fmt, strs[rng() % ARRAY_SIZE(strs)]);
	}
}
END_TEST

/* ---- buffer sizes -------------------------------------------------------- */

START_TEST(test_truncation_every_size)
{
	check_truncation("%s", "hello world");
	check_truncation("%d|%x", -12345, 0xabcu);
	check_truncation("%-8s|%8.3d|%c", "ab", -5, 'z');
	check_truncation("%lld", (long long)INT64_MIN);
	check_truncation("%#llo and text after", (unsigned long long)UINT64_MAX);
	check_truncation("x");
}
END_TEST

START_TEST(test_size_zero_null_buffer)
{
	ck_assert_int_eq(fmt_snprintf(NULL, 0, "%d", 12345), 5);
	ck_assert_int_eq(fmt_snprintf(NULL, 0, "%500d", 1), 500);
	ck_assert_int_eq(fmt_snprintf(NULL, 0, "%s-%s", "abc", "de"), 6);
	ck_assert_int_eq(fmt_snprintf(NULL, 0, "%p", (void *)1), 18);

	/* size 0 with a real buffer must not touch it either. */
	char b[4] = "xyz";
	ck_assert_int_eq(fmt_snprintf(b, 0, "%s", "abc"), 3);
	ck_assert_str_eq(b, "xyz");
}
END_TEST

START_TEST(test_size_one_is_just_terminator)
{
	char b[2] = { 'x', 'y' };
	ck_assert_int_eq(fmt_snprintf(b, 1, "%d", 42), 2);
	ck_assert_int_eq(b[0], '\0');
	ck_assert_int_eq(b[1], 'y');
}
END_TEST

/* ---- our own definitions: %p and unknown conversions --------------------- */

START_TEST(test_pointer)
{
	ck_assert_int_eq(ours("%p", (void *)0), 18);
	ck_assert_str_eq(out, "0x0000000000000000");
	ck_assert_int_eq(ours("%p", (void *)0xdeadbeefUL), 18);
	ck_assert_str_eq(out, "0x00000000deadbeef");
	ck_assert_int_eq(ours("%p", (void *)UINTPTR_MAX), 18);
	ck_assert_str_eq(out, "0xffffffffffffffff");
	ck_assert_int_eq(ours("[%20p]", (void *)0x1234), 22);
	ck_assert_str_eq(out, "[  0x0000000000001234]");
	ck_assert_int_eq(ours("[%-20p]", (void *)0x1234), 22);
	ck_assert_str_eq(out, "[0x0000000000001234  ]");
	ck_assert_int_eq(ours("%p %p", (void *)1, (void *)0xABCDEF0123456789UL), 37);
	ck_assert_str_eq(out, "0x0000000000000001 0xabcdef0123456789");

	/* Agrees with libc's explicit 0x%016 formatting for arbitrary values. */
	for (int i = 0; i < 1000; i++) {
		char want[32];
		uintptr_t v = (uintptr_t)interesting();
		snprintf(want, sizeof(want), "0x%016jx", (uintmax_t)v);
		ours("%p", (void *)v);
		ck_assert_str_eq(out, want);
	}
}
END_TEST

struct literal_case {
	const char *fmt;
	const char *want;
};

/* Formats reached through a pointer so the compiler does not reject them;
 * each is called with 7 as its only argument, which shows whether the
 * unknown directive consumed it. */
static const struct literal_case unknown_cases[] = {
	{ "%y", "%y" },
	{ "a%yb%dc", "a%yb7c" },
	{ "%-5q%d", "%-5q7" },
	{ "%*y%d", "%*y7" },
	{ "%.*k%d", "%.*k7" },
	{ "%n%d", "%n7" },
	{ "%f%d", "%f7" },
	{ "%Lf%d", "%Lf7" },
	{ "%lp%d", "%lp7" },
	{ "%ls%d", "%ls7" },
	{ "%hc%d", "%hc7" },
	{ "%lld%lq", "7%lq" },
	{ "%5%%d", "%7" },
	{ "%*%%d", "%7" },
	{ "abc%", "abc%" },
	{ "%", "%" },
	{ "%d%", "7%" },
	{ "abc%-0", "abc%-0" },
	{ "%l", "%l" },
	{ "%hh", "%hh" },
	{ "%12.4", "%12.4" },
	{ "%d%*", "7%*" },
};

START_TEST(test_unknown_conversions)
{
	const struct literal_case *c = &unknown_cases[_i];
	int n = ours(c->fmt, 7);
	ck_assert_msg(strcmp(out, c->want) == 0, "format \"%s\": got \"%s\", want \"%s\"", c->fmt,
		      out, c->want);
	ck_assert_int_eq(n, (int)strlen(c->want));
}
END_TEST

/* The echoed directive is output like any other text: it is truncated by a
 * small buffer and counted in the return value. */
START_TEST(test_unknown_conversion_truncated)
{
	ck_assert_int_eq(ours_n(4, "%q%s", "abcdef"), 8);
	ck_assert_str_eq(out, "%qa");
}
END_TEST

/* fmt_buf appends, counts what it could not store, and stays terminated. */
START_TEST(test_fmt_buf_appends_and_truncates)
{
	char buf[8];
	struct fmt_buf b = fmt_buf_init(buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	fmt_buf_put(&b, "%s", "abc");
	fmt_buf_put(&b, "%d", 42);
	ck_assert_str_eq(buf, "abc42");
	ck_assert_uint_eq(b.len, 5);
	fmt_buf_put(&b, "%s", "xyzw");
	ck_assert_str_eq(buf, "abc42xy");
	ck_assert_uint_eq(b.len, 9);
	fmt_buf_put(&b, "%s", "more");
	ck_assert_str_eq(buf, "abc42xy");
	ck_assert_uint_eq(b.len, 13);
	struct fmt_buf empty = fmt_buf_init(NULL, 0);
	fmt_buf_put(&empty, "%s", "counted");
	ck_assert_uint_eq(empty.len, 7);
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("libc");

	tcase_add_test(tc, test_signed_int);
	tcase_add_test(tc, test_fmt_buf_appends_and_truncates);
	tcase_add_test(tc, test_unsigned_int);
	tcase_add_test(tc, test_long_long);
	tcase_add_test(tc, test_unsigned_long_long);
	tcase_add_test(tc, test_short_and_char_lengths);
	tcase_add_test(tc, test_other_lengths);
	tcase_add_test(tc, test_int64_min);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_string_precision_does_not_overread);
	tcase_add_test(tc, test_chars);
	tcase_add_test(tc, test_char_nul);
	tcase_add_test(tc, test_star);
	tcase_add_test(tc, test_plain_text);
	tcase_add_test(tc, test_mixed);
	tcase_add_test(tc, test_random_integer_specs);
	tcase_add_test(tc, test_random_string_specs);
	tcase_add_test(tc, test_truncation_every_size);
	tcase_add_test(tc, test_size_zero_null_buffer);
	tcase_add_test(tc, test_size_one_is_just_terminator);
	suite_add_tcase(s, tc);

	TCase *own = tcase_create("own");
	tcase_add_test(own, test_null_string);
	tcase_add_test(own, test_pointer);
	tcase_add_loop_test(own, test_unknown_conversions, 0, (int)ARRAY_SIZE(unknown_cases));
	tcase_add_test(own, test_unknown_conversion_truncated);
	suite_add_tcase(s, own);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(format_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
