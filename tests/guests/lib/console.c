/*
 * COM1 output (polled 16550) and a small printf.
 *
 * Polling only: the hypervisor emulates this UART for the guest in polled mode, and a
 * test guest never enables interrupts. The transmit wait is bounded so that a UART
 * that never reports "empty" slows the guest down instead of hanging it.
 */
#include "guest.h"

#define COM1     0x3f8
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void console_init(void);

void console_init(void)
{
	outb(COM1 + UART_IER, 0x00);  /* no interrupts */
	outb(COM1 + UART_LCR, 0x80);  /* DLAB: divisor follows */
	outb(COM1 + UART_DLL, 1);     /* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03);  /* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0x07);  /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03);  /* DTR, RTS; OUT2 off: no IRQ line */
}

static void uart_put(char c)
{
	for (u32 spin = 0; spin < 1000000; spin++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_THR, (u8)c);
}

void con_putc(char c)
{
	/* CRLF so an interactive terminal shows lines; the runner strips the CR. */
	if (c == '\n')
		uart_put('\r');
	uart_put(c);
}

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

/* ---- strings ------------------------------------------------------------------ */

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (u8)*a - (u8)*b;
	}
	return 0;
}

/* gcc may emit calls to these four for struct copies and initialisers. */
void *memset(void *d, int c, size_t n)
{
	u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *p = d;
	const u8 *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *p = a, *q = b;
	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

/* The 32-bit build has no libgcc (no multilib here), so u64 / u32 is done as two
 * DIVs: high half first, then remainder:low half, which cannot overflow. */
u64 udivmod64(u64 n, u32 d, u32 *rem)
{
	u32 hi = (u32)(n >> 32), lo = (u32)n;
	u32 qhi = hi / d, r = hi % d, qlo;
	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	if (rem)
		*rem = r;
	return ((u64)qhi << 32) | qlo;
}

/* ---- formatted output ------------------------------------------------------------
 * %c %s %d %i %u %x %X %p %%, flags '-' and '0', a width, and the length modifiers
 * l (32-bit here), ll (64-bit) and z.
 */

struct sink {
	char *buf;     /* NULL: console */
	size_t size, len;
};

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		con_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void emit_padded(struct sink *s, const char *str, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left && pad == '0' && n && (*str == '-')) {
		/* zero padding goes between the sign and the digits */
		emit(s, *str++);
		n--;
	}
	if (!left)
		while (fill--> 0)
			emit(s, pad);
	while (n--)
		emit(s, *str++);
	if (left)
		while (fill--> 0)
			emit(s, ' ');
}

static int format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(s, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int longs = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			if (*fmt == 'l')
				longs++;
			fmt++;
		}
		char tmp[24];
		char *end = tmp + sizeof(tmp), *p = end;
		u64 v;
		bool neg = false;
		u32 base = 10;
		const char *digits = "0123456789abcdef";
		switch (*fmt) {
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			emit_padded(s, tmp, 1, width, left, ' ');
			continue;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			emit_padded(s, str, strlen(str), width, left, ' ');
			continue;
		}
		case 'd':
		case 'i': {
			s64 x = longs >= 2 ? va_arg(ap, s64) : va_arg(ap, s32);
			neg = x < 0;
			v = neg ? -(u64)x : (u64)x;
			break;
		}
		case 'p':
			v = (u32)va_arg(ap, void *);
			base = 16;
			emit(s, '0');
			emit(s, 'x');
			break;
		case 'X':
			digits = "0123456789ABCDEF";
			/* fall through */
		case 'x':
			base = 16;
			/* fall through */
		case 'u':
			v = longs >= 2 ? va_arg(ap, u64) : va_arg(ap, u32);
			break;
		case '%':
			emit(s, '%');
			continue;
		case '\0':
			return (int)s->len;
		default:
			emit(s, '%');
			emit(s, *fmt);
			continue;
		}
		do {
			u32 r;
			v = udivmod64(v, base, &r);
			*--p = digits[r];
		} while (v);
		if (neg)
			*--p = '-';
		emit_padded(s, p, (size_t)(end - p), width, left, pad);
	}
	return (int)s->len;
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0, 0, 0 };
	return format(&s, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0 };
	int n = format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
