/* printk: "[c<cpu>] <LEVEL> message".  Each call is formatted into one buffer
 * and written under the console lock, so lines never interleave. */
#include "kernel/printk.h"
#include "kernel/console.h"
#include "kernel/lib/format.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/uart16550.h"

#define LINE_MAX 512

int console_loglevel = LOG_INFO;
static struct spinlock console_lock = SPINLOCK_INIT;
static bool console_panic;

void console_init(u16 port, u32 baud)
{
	uart_init(port, baud);
}

void console_enter_panic_mode(void)
{
	console_panic = true;
}

static void console_lock_acquire(void)
{
	if (!console_panic) {
		spin_lock(&console_lock);
		return;
	}
	/* The holder may be a CPU we just stopped: wait a little, then take over. */
	for (u32 i = 0; i < 1000000; i++) {
		if (spin_trylock(&console_lock))
			return;
		cpu_relax();
	}
	spin_bust(&console_lock);
	spin_lock(&console_lock);
}

void console_write(const char *s, size_t len)
{
	u64 flags = irq_save();
	console_lock_acquire();
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
	spin_unlock(&console_lock);
	irq_restore(flags);
}

static const char *const level_tags[] = {
	[LOG_ERR] = "ERROR ",
	[LOG_WARN] = "WARN ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug ",
};

static size_t finish_line(char *line, size_t n)
{
	if (n > LINE_MAX - 2)
		n = LINE_MAX - 2;
	if (n == 0 || line[n - 1] != '\n')
		line[n++] = '\n';
	line[n] = '\0';
	return n;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[LINE_MAX];
	int n;

	if (level > console_loglevel)
		return;
	if (level < LOG_ERR || level > LOG_DEBUG)
		level = LOG_ERR;
	n = fmt_snprintf(line, sizeof(line), "[c%u] %s", this_cpu_id(), level_tags[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	int m = fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
	console_write(line, finish_line(line, len));
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void printk_plain(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int m = fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	console_write(line, finish_line(line, m > 0 ? (size_t)m : 0));
}
