/* printf-style formatting; see format.h for the exact contract.
 *
 * Every directive is parsed completely before any argument is fetched: only
 * once the conversion character is known to be valid are the '*' arguments
 * and the value read.  That is what lets an unknown conversion be echoed
 * without disturbing the argument list for the directives after it. */
#include <limits.h>

#include "kernel/lib/format.h"

enum {
	F_MINUS = 1u << 0,
	F_PLUS = 1u << 1,
	F_SPACE = 1u << 2,
	F_ALT = 1u << 3,
	F_ZERO = 1u << 4,
};

enum len_mod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct spec {
	unsigned flags;
	int width;
	int prec; /* < 0: not given */
	bool width_star;
	bool prec_star;
	enum len_mod len;
	char conv;
};

/* Output position keeps counting past the end of the buffer so the caller
 * learns the untruncated length. */
struct sink {
	char *buf;
	size_t size;
	size_t pos;
};

static void put(struct sink *s, char c)
{
	if (s->pos + 1 < s->size)
		s->buf[s->pos] = c;
	s->pos++;
}

static void put_rep(struct sink *s, char c, size_t n)
{
	while (n--)
		put(s, c);
}

static void put_mem(struct sink *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(s, p[i]);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Saturates instead of overflowing: an absurd width in a format string is a
 * bug in the caller, not a reason for undefined behaviour here. */
static const char *parse_decimal(const char *p, int *out)
{
	int v = 0;

	while (is_digit(*p)) {
		int d = *p++ - '0';
		v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
	}
	*out = v;
	return p;
}

/* p points just past the '%'.  Returns the position after the conversion
 * character, or NULL when the string ends inside the directive. */
static const char *parse_spec(const char *p, struct spec *sp)
{
	sp->flags = 0;
	sp->width = 0;
	sp->prec = -1;
	sp->width_star = false;
	sp->prec_star = false;
	sp->len = LEN_NONE;

	for (;; p++) {
		if (*p == '-')
			sp->flags |= F_MINUS;
		else if (*p == '+')
			sp->flags |= F_PLUS;
		else if (*p == ' ')
			sp->flags |= F_SPACE;
		else if (*p == '#')
			sp->flags |= F_ALT;
		else if (*p == '0')
			sp->flags |= F_ZERO;
		else
			break;
	}

	if (*p == '*') {
		sp->width_star = true;
		p++;
	} else {
		p = parse_decimal(p, &sp->width);
	}

	if (*p == '.') {
		p++;
		if (*p == '*') {
			sp->prec_star = true;
			p++;
		} else {
			p = parse_decimal(p, &sp->prec);
		}
	}

	switch (*p) {
	case 'h':
		p++;
		sp->len = LEN_H;
		if (*p == 'h') {
			p++;
			sp->len = LEN_HH;
		}
		break;
	case 'l':
		p++;
		sp->len = LEN_L;
		if (*p == 'l') {
			p++;
			sp->len = LEN_LL;
		}
		break;
	case 'z':
		p++;
		sp->len = LEN_Z;
		break;
	case 't':
		p++;
		sp->len = LEN_T;
		break;
	case 'j':
		p++;
		sp->len = LEN_J;
		break;
	default:
		break;
	}

	if (*p == '\0')
		return NULL;
	sp->conv = *p++;
	return p;
}

static bool spec_known(const struct spec *sp)
{
	switch (sp->conv) {
	case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
		return true;
	case 's': case 'c': case 'p':
		/* %ls / %lc would be wide characters, which we do not have; reading
		 * a wchar_t* as char* would print nonsense, so refuse instead. */
		return sp->len == LEN_NONE;
	default:
		return false;
	}
}

/* The '*' arguments come before the value, in the order width, precision. */
static void fetch_stars(struct spec *sp, va_list *ap)
{
	if (sp->width_star) {
		int w = va_arg(*ap, int);
		if (w < 0) {
			/* C: a negative '*' width means '-' and its magnitude. */
			sp->flags |= F_MINUS;
			w = w == INT_MIN ? INT_MAX : -w;
		}
		sp->width = w;
	}
	if (sp->prec_star) {
		int pr = va_arg(*ap, int);
		sp->prec = pr < 0 ? -1 : pr; /* negative means "not given" */
	}
}

static s64 fetch_signed(enum len_mod len, va_list *ap)
{
	switch (len) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		/* There is no named signed size_t; the bits are what matter. */
		return (s64)va_arg(*ap, size_t);
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	case LEN_NONE:
	default:
		return va_arg(*ap, int);
	}
}

static u64 fetch_unsigned(enum len_mod len, va_list *ap)
{
	switch (len) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_T:
		return (u64)va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	case LEN_NONE:
	default:
		return va_arg(*ap, unsigned int);
	}
}

static size_t width_pad(const struct spec *sp, size_t used)
{
	size_t w = (size_t)sp->width;
	return w > used ? w - used : 0;
}

/* Layout: [spaces] [sign or 0x] [zeros] digits [spaces]. */
static void emit_int(struct sink *s, const struct spec *sp, u64 mag, bool neg)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	const char *set = sp->conv == 'X' ? upper : lower;
	unsigned base = 10;
	char digits[24]; /* 22 octal digits cover 2^64 - 1 */
	size_t nd = 0;
	char prefix[2];
	size_t np = 0;

	if (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p')
		base = 16;
	else if (sp->conv == 'o')
		base = 8;

	/* C: a value of zero with precision zero produces no digits at all. */
	if (!(mag == 0 && sp->prec == 0)) {
		u64 v = mag;
		do {
			digits[sizeof(digits) - 1 - nd++] = set[v % base];
			v /= base;
		} while (v);
	}
	const char *dp = digits + sizeof(digits) - nd;

	if (sp->conv == 'd' || sp->conv == 'i') {
		if (neg)
			prefix[np++] = '-';
		else if (sp->flags & F_PLUS)
			prefix[np++] = '+';
		else if (sp->flags & F_SPACE)
			prefix[np++] = ' ';
	} else if (sp->conv == 'p' ||
		   ((sp->conv == 'x' || sp->conv == 'X') && (sp->flags & F_ALT) && mag != 0)) {
		prefix[np++] = '0';
		prefix[np++] = sp->conv == 'X' ? 'X' : 'x';
	}

	size_t zeros = 0;
	if (sp->prec > 0 && (size_t)sp->prec > nd)
		zeros = (size_t)sp->prec - nd;
	/* '#' with o only guarantees a leading zero; it adds one only if the
	 * digits and precision did not already supply it. */
	if (sp->conv == 'o' && (sp->flags & F_ALT) && zeros == 0 && (nd == 0 || dp[0] != '0'))
		zeros = 1;
	/* The '0' flag is ignored with '-' or an explicit precision. */
	if ((sp->flags & F_ZERO) && !(sp->flags & F_MINUS) && sp->prec < 0)
		zeros += width_pad(sp, np + zeros + nd);

	size_t pad = width_pad(sp, np + zeros + nd);
	if (!(sp->flags & F_MINUS))
		put_rep(s, ' ', pad);
	put_mem(s, prefix, np);
	put_rep(s, '0', zeros);
	put_mem(s, dp, nd);
	if (sp->flags & F_MINUS)
		put_rep(s, ' ', pad);
}

static void emit_text(struct sink *s, const struct spec *sp, const char *p, size_t n)
{
	size_t pad = width_pad(sp, n);

	if (!(sp->flags & F_MINUS))
		put_rep(s, ' ', pad);
	put_mem(s, p, n);
	if (sp->flags & F_MINUS)
		put_rep(s, ' ', pad);
}

static void emit_string(struct sink *s, const struct spec *sp, const char *str)
{
	if (!str)
		str = "(null)";
	/* With a precision the argument need not be terminated, so never look
	 * further than the precision allows. */
	size_t limit = sp->prec < 0 ? (size_t)-1 : (size_t)sp->prec;
	size_t n = 0;
	while (n < limit && str[n])
		n++;
	emit_text(s, sp, str, n);
}

static void emit_conversion(struct sink *s, struct spec *sp, va_list *ap)
{
	switch (sp->conv) {
	case 'd':
	case 'i': {
		s64 v = fetch_signed(sp->len, ap);
		/* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
		u64 mag = v < 0 ? (u64)0 - (u64)v : (u64)v;
		emit_int(s, sp, mag, v < 0);
		break;
	}
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		emit_int(s, sp, fetch_unsigned(sp->len, ap), false);
		break;
	case 'p': {
		u64 v = (u64)(uintptr_t)va_arg(*ap, void *);
		sp->prec = 16;
		emit_int(s, sp, v, false);
		break;
	}
	case 's':
		emit_string(s, sp, va_arg(*ap, const char *));
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);
		emit_text(s, sp, &c, 1);
		break;
	}
	default:
		break;
	}
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size, .pos = 0 };
	va_list args;

	/* A private copy can be passed to helpers by pointer, which a va_list
	 * parameter (an array type on x86-64) cannot portably be. */
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&s, *fmt++);
			continue;
		}

		const char *start = fmt;
		struct spec sp;
		const char *next = parse_spec(fmt + 1, &sp);
		if (!next) {
			while (*start)
				put(&s, *start++);
			break;
		}
		fmt = next;
		if (sp.conv == '%') {
			/* Must not consume a '*' argument: "%*%" has no value. */
			put(&s, '%');
			continue;
		}
		if (!spec_known(&sp)) {
			put_mem(&s, start, (size_t)(next - start));
			continue;
		}
		fetch_stars(&sp, &args);
		emit_conversion(&s, &sp, &args);
	}
	va_end(args);

	if (size > 0)
		buf[s.pos < size ? s.pos : size - 1] = '\0';
	return s.pos > INT_MAX ? -1 : (int)s.pos;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

struct fmt_buf fmt_buf_init(char *buf, size_t size)
{
	if (size)
		buf[0] = '\0';
	return (struct fmt_buf){buf, size, 0};
}

void fmt_buf_put(struct fmt_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->len < b->size ? b->size - b->len : 0;

	va_start(ap, fmt);
	int n = fmt_vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}
