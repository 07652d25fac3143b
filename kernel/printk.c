/* printk: "[c<cpu>] <LEVEL> message".  Each call is formatted into one buffer
 * and written under the console lock, so lines never interleave.
 *
 * The serial line carries three streams: the log (whole lines), the guest's
 * output (whole lines, or a partial line such as a prompt) and the shell's
 * prompt line (the prompt and what the user typed so far).  The console keeps
 * track of which stream owns the unfinished line on the terminal; another
 * stream that wants to write first ends that line, so text from two streams
 * never shares a line.  A log line that arrives while the shell prompt is up
 * is printed on its own line and the prompt with the typed text is drawn
 * again below it. */
#include "kernel/printk.h"
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/logring.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/uart16550.h"

#define LINE_MAX 512
/* Lines up to this level go to the log ring even when the console hides
 * them, so `log` can show what loglevel=warn left out. */
#define LOG_RING_LEVEL LOG_INFO
#define LOG_RING_SIZE (32 * 1024)
#define PROMPT_MAX 16
#define PROMPT_INPUT_MAX 200

int console_loglevel = LOG_INFO;
static struct spinlock console_lock = SPINLOCK_INIT;
static bool console_panic;
static u32 plain_cpu = CPU_NONE;

enum stream { STREAM_NONE, STREAM_LOG, STREAM_GUEST, STREAM_SHELL };

/* All under console_lock. */
static struct {
	enum stream partial; /* owner of the unfinished line on the terminal */
	bool prompt_active;  /* the shell wants its prompt line shown */
	char prompt[PROMPT_MAX];
	char input[PROMPT_INPUT_MAX];
	u32 input_len;
} term;

static char log_buf[LOG_RING_SIZE];
static struct logring log_ring = {log_buf, LOG_RING_SIZE, 0, 0, 0};

void console_init(u16 port, u32 baud)
{
	uart_init(port, baud);
}

void console_enter_panic_mode(void)
{
	console_panic = true;
}

/* The CPU holding console_lock, so that an NMI handler interrupting that very
 * CPU in the middle of a line (the panic stop path prints) does not wait for
 * itself forever. */
#define NO_OWNER 0xFFFFFFFFu
static u32 console_owner = NO_OWNER;

/* Returns whether the lock was taken (false: this CPU already holds it, and
 * the nested output goes out unlocked, as a crash path's must). */
static bool console_lock_acquire(void)
{
	u32 me = this_cpu_id();

	if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me)
		return false;
	if (!console_panic) {
		spin_lock(&console_lock);
	} else {
		/* The holder may be a CPU we just stopped: wait a little, then
		 * take over. */
		bool taken = false;
		for (u32 i = 0; i < 1000000 && !taken; i++) {
			taken = spin_trylock(&console_lock);
			if (!taken)
				cpu_relax();
		}
		if (!taken) {
			spin_bust(&console_lock);
			spin_lock(&console_lock);
		}
	}
	__atomic_store_n(&console_owner, me, __ATOMIC_RELAXED);
	return true;
}

static void console_lock_release(bool taken)
{
	if (!taken)
		return;
	__atomic_store_n(&console_owner, NO_OWNER, __ATOMIC_RELAXED);
	spin_unlock(&console_lock);
}

/* Raw output; the caller holds the lock.  Tracks whether a line is open. */
static void put_raw(enum stream who, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
	if (len)
		term.partial = s[len - 1] == '\n' ? STREAM_NONE : who;
}

static void redraw_prompt(void)
{
	put_raw(STREAM_SHELL, term.prompt, strlen(term.prompt));
	put_raw(STREAM_SHELL, term.input, term.input_len);
	term.partial = STREAM_SHELL;
}

/* Writes text of one stream; ends another stream's open line first, and puts
 * the shell prompt back when the text closed its line. */
static void stream_write(enum stream who, const char *s, size_t len)
{
	if (!len)
		return;
	if (term.partial != STREAM_NONE && term.partial != who)
		put_raw(STREAM_NONE, "\n", 1);
	put_raw(who, s, len);
	if (term.partial == STREAM_NONE && term.prompt_active)
		redraw_prompt();
}

void console_write(const char *s, size_t len)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	stream_write(STREAM_LOG, s, len);
	console_lock_release(held);
	irq_restore(flags);
}

void console_write_guest(const char *s, size_t len)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	stream_write(STREAM_GUEST, s, len);
	console_lock_release(held);
	irq_restore(flags);
}

void console_prompt_show(const char *prompt)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	strlcpy(term.prompt, prompt, sizeof(term.prompt));
	term.input_len = 0;
	term.prompt_active = true;
	if (term.partial != STREAM_NONE)
		put_raw(STREAM_NONE, "\n", 1);
	redraw_prompt();
	console_lock_release(held);
	irq_restore(flags);
}

void console_prompt_input(const char *s, size_t n)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	if (term.prompt_active) {
		n = MIN(n, (size_t)(PROMPT_INPUT_MAX - term.input_len));
		memcpy(term.input + term.input_len, s, n);
		term.input_len += (u32)n;
		if (term.partial == STREAM_SHELL) {
			put_raw(STREAM_SHELL, s, n);
		} else {
			if (term.partial != STREAM_NONE)
				put_raw(STREAM_NONE, "\n", 1);
			redraw_prompt();
		}
	}
	console_lock_release(held);
	irq_restore(flags);
}

void console_prompt_erase(u32 n)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	n = MIN(n, term.input_len);
	term.input_len -= n;
	if (term.partial == STREAM_SHELL) {
		for (u32 i = 0; i < n; i++)
			put_raw(STREAM_SHELL, "\b \b", 3);
	} else if (term.prompt_active) {
		if (term.partial != STREAM_NONE)
			put_raw(STREAM_NONE, "\n", 1);
		redraw_prompt();
	}
	console_lock_release(held);
	irq_restore(flags);
}

void console_prompt_end(const char *tail)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	term.prompt_active = false;
	if (term.partial == STREAM_SHELL) {
		put_raw(STREAM_SHELL, tail, strlen(tail));
		put_raw(STREAM_NONE, "\n", 1);
	}
	console_lock_release(held);
	irq_restore(flags);
}

void printk_set_plain_cpu(u32 cpu)
{
	__atomic_store_n(&plain_cpu, cpu, __ATOMIC_RELEASE);
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

/* One log line: into the ring and, when print, onto the console, under one
 * hold of the lock so the ring has the console's order. */
static void log_line(const char *line, size_t len, bool ring, bool print)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	if (ring)
		logring_write(&log_ring, line, len);
	if (print)
		stream_write(STREAM_LOG, line, len);
	console_lock_release(held);
	irq_restore(flags);
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[LINE_MAX];
	int n = 0;
	bool print = level <= console_loglevel;

	if (!print && level > LOG_RING_LEVEL)
		return;
	if (level < LOG_ERR || level > LOG_DEBUG)
		level = LOG_ERR;
	u32 cpu = this_cpu_id();
	bool plain = cpu == __atomic_load_n(&plain_cpu, __ATOMIC_ACQUIRE);
	if (plain && !print)
		return;
	if (!plain)
		n = fmt_snprintf(line, sizeof(line), "[c%u] %s", cpu, level_tags[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	int m = fmt_vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
	log_line(line, finish_line(line, len), !plain, print);
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
	log_line(line, finish_line(line, m > 0 ? (size_t)m : 0), true, true);
}

bool console_log_read(u64 *pos, char *out, size_t size, u64 *skipped)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	bool more = logring_read_line(&log_ring, pos, out, size, skipped);
	console_lock_release(held);
	irq_restore(flags);
	return more;
}

u64 console_log_last(u64 lines)
{
	u64 flags = irq_save();
	bool held = console_lock_acquire();
	u64 pos = logring_last_lines(&log_ring, lines);
	console_lock_release(held);
	irq_restore(flags);
	return pos;
}

void console_log_stats(u64 *bytes, u64 *lines_dropped)
{
	*bytes = log_ring.head - log_ring.tail;
	*lines_dropped = log_ring.lines_dropped;
}
