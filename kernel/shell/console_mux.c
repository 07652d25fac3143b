/* Console input: polling and routing (see kernel/shell/console_mux.h). */
#include "kernel/shell/console_mux.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "kernel/host_timer.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spsc_ring.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/shell/line_input.h"
#include "kernel/shell/shell_main.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/uart16550.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/vp_ctl.h"

#define GUEST_FIFO_SIZE 1024
#define SHELL_FIFO_SIZE 512
/* Shell-FIFO items above the byte range. */
#define EV_ENTER_SHELL 0x100
#define EV_LEAVE_SHELL 0x101
/* Room kept in the shell FIFO for the two events. */
#define SHELL_FIFO_RESERVE 2
/* Bytes drained per poll: bounds the time spent in the timer interrupt. */
#define RX_BUDGET 64

static struct {
	bool ready;	/* input goes through the FIFOs (after init) */
	bool shell;	/* the escape and the shell are on */
	u32 cpu;	/* the console CPU */
	u32 poll_us;
	u64 poll_tsc; /* poll_us in TSC ticks */
	struct spinlock rx_lock; /* trylock only, from the pollers */
	struct escape_detector esc;
	bool to_shell;	/* where input goes now (changed under rx_lock) */
	bool shell_owns_line; /* from the escape until the shell has let go of the terminal */
	struct spsc_ring guest_in, shell_in;
	u16 guest_buf[GUEST_FIFO_SIZE], shell_buf[SHELL_FIFO_SIZE];
	u32 pending;	/* the shell FIFO has items (a hint for the idle path) */
	u32 overrun;	/* guest bytes were dropped since the guest last saw LSR */
	struct console_mux_stats stats;
	u32 busy;	/* the shell is running a command (no re-entry) */
} mux = {.cpu = CPU_NONE, .rx_lock = SPINLOCK_INIT};

u32 console_mux_cpu(void)
{
	return mux.cpu;
}

bool console_mux_active(void)
{
	return mux.shell;
}

bool console_input_to_guest(void)
{
	return !__atomic_load_n(&mux.to_shell, __ATOMIC_ACQUIRE);
}

bool console_guest_may_write_partial(void)
{
	return !__atomic_load_n(&mux.shell_owns_line, __ATOMIC_ACQUIRE);
}

void console_shell_released_line(void)
{
	if (!__atomic_load_n(&mux.to_shell, __ATOMIC_ACQUIRE))
		__atomic_store_n(&mux.shell_owns_line, false, __ATOMIC_RELEASE);
}

/* Tells the console CPU that shell input waits. */
static void notify_shell(void)
{
	__atomic_store_n(&mux.pending, 1, __ATOMIC_RELEASE);
	struct percpu *pc = mux.cpu < HV_MAX_CPUS ? percpu_table[mux.cpu] : NULL;
	if (pc && pc->vp)
		__atomic_fetch_or(&pc->vp->requests, VP_REQ_SHELL, __ATOMIC_ACQ_REL);
}

static void to_guest(u8 c)
{
	mux.stats.guest_bytes++;
	if (!spsc_push(&mux.guest_in, c)) {
		mux.stats.guest_dropped++;
		__atomic_store_n(&mux.overrun, 1, __ATOMIC_RELEASE);
	}
	guest_uart_input_ready(); /* for its receive interrupt */
}

static void to_shell(u8 c)
{
	mux.stats.shell_bytes++;
	if (spsc_space(&mux.shell_in) <= SHELL_FIFO_RESERVE || !spsc_push(&mux.shell_in, c))
		mux.stats.shell_dropped++;
}

/* Under rx_lock. */
static void switch_target(bool shell)
{
	if (shell)
		__atomic_store_n(&mux.shell_owns_line, true, __ATOMIC_RELEASE);
	__atomic_store_n(&mux.to_shell, shell, __ATOMIC_RELEASE);
	/* The events always fit: bytes leave SHELL_FIFO_RESERVE slots free, and
	 * the shell consumes the previous event before a new switch can follow
	 * (else the FIFO held two, and the two cancel out). */
	spsc_push(&mux.shell_in, shell ? EV_ENTER_SHELL : EV_LEAVE_SHELL);
	mux.stats.escapes++;
	notify_shell();
}

static void feed(u8 c)
{
	u8 out[ESCAPE_MAX_COUNT];
	size_t n;

	mux.stats.rx_bytes++;
	if (mux.shell && escape_feed(&mux.esc, c, out, &n)) {
		switch_target(!mux.to_shell);
		return;
	}
	if (!mux.shell) {
		out[0] = c;
		n = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (mux.to_shell)
			to_shell(out[i]);
		else
			to_guest(out[i]);
	}
	if (mux.to_shell && n)
		notify_shell();
}

void console_rx_poll(void)
{
	if (!mux.ready)
		return;
	u64 flags = irq_save();
	if (spin_trylock(&mux.rx_lock)) {
		for (u32 i = 0; i < RX_BUDGET; i++) {
			int c = uart_getc();
			if (c < 0)
				break;
			feed((u8)c);
		}
		spin_unlock(&mux.rx_lock);
	}
	irq_restore(flags);
}

bool console_guest_has_input(void)
{
	if (!mux.ready)
		return false;
	if (!spsc_count(&mux.guest_in))
		console_rx_poll();
	return spsc_count(&mux.guest_in) != 0;
}

int console_guest_getc(void)
{
	u16 v;

	if (!mux.ready)
		return uart_getc();
	if (!spsc_count(&mux.guest_in))
		console_rx_poll();
	return spsc_pop(&mux.guest_in, &v) ? v : -1;
}

bool console_guest_overrun(void)
{
	return __atomic_exchange_n(&mux.overrun, 0, __ATOMIC_ACQ_REL);
}

void console_mux_to_guest(void)
{
	u64 flags = irq_save();
	spin_lock(&mux.rx_lock);
	if (mux.to_shell) {
		switch_target(false);
		mux.esc.seen = 0;
	}
	spin_unlock(&mux.rx_lock);
	irq_restore(flags);
}

void console_mux_service(void)
{
	u16 item;

	if (this_cpu_id() != mux.cpu || !__atomic_load_n(&mux.pending, __ATOMIC_ACQUIRE))
		return;
	if (__atomic_exchange_n(&mux.busy, 1, __ATOMIC_ACQUIRE))
		return; /* a command is running further down this stack */
	__atomic_store_n(&mux.pending, 0, __ATOMIC_RELEASE);
	while (spsc_pop(&mux.shell_in, &item)) {
		if (item == EV_ENTER_SHELL)
			shell_enter();
		else if (item == EV_LEAVE_SHELL)
			shell_leave();
		else
			shell_input((u8)item);
	}
	__atomic_store_n(&mux.busy, 0, __ATOMIC_RELEASE);
}

/* Runs in the host timer interrupt on the console CPU. */
static void console_tick(void)
{
	host_timer_set(HOST_TIMER_CONSOLE, rdtsc() + mux.poll_tsc, console_tick);
	console_rx_poll();
}

static void start_timer(void *arg)
{
	bool *ok = arg;
	*ok = host_timer_init_cpu();
	if (*ok)
		host_timer_set(HOST_TIMER_CONSOLE, rdtsc() + mux.poll_tsc, console_tick);
}

void console_mux_escape_name(char *buf, size_t size)
{
	u8 c = mux.esc.ch;

	if (!mux.shell) {
		fmt_snprintf(buf, size, "none (shell=off)");
		return;
	}
	if (c < 0x20)
		fmt_snprintf(buf, size, "Ctrl-%c x%u", (char)(c + '@'), mux.esc.needed);
	else if (c < 0x7F)
		fmt_snprintf(buf, size, "'%c' x%u", (char)c, mux.esc.needed);
	else
		fmt_snprintf(buf, size, "byte 0x%02x x%u", c, mux.esc.needed);
}

void console_mux_get_stats(struct console_mux_stats *out)
{
	*out = mux.stats;
	out->poll_us = mux.poll_us;
}

void console_mux_init(bool shell, u8 escape_char, u8 escape_count)
{
	char esc[32];
	u32 last = 0;

	for (u32 cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		if (percpu_table[cpu] && percpu_table[cpu]->online)
			last = cpu;
	}
	spsc_init(&mux.guest_in, mux.guest_buf, GUEST_FIFO_SIZE);
	spsc_init(&mux.shell_in, mux.shell_buf, SHELL_FIFO_SIZE);
	escape_init(&mux.esc, escape_char, escape_count);
	mux.shell = shell && escape_count > 0;
	mux.cpu = last;
	mux.poll_us = last == 0 ? CONSOLE_POLL_GUEST_US : CONSOLE_POLL_IDLE_US;
	shell_init();
	vp_ctl_init();
	__atomic_store_n(&smp_idle_hook, vp_ctl_idle, __ATOMIC_RELEASE);
	__atomic_store_n(&mux.ready, true, __ATOMIC_RELEASE);
	/* The poll runs with the shell off too: guest input raises the emulated
	 * UART's interrupt only when someone looks at the line. */
	mux.poll_tsc = tsc_hz / 1000000 * mux.poll_us;
	bool ok = false;
	if (smp_call_on(last, start_timer, &ok) < 0 || !ok) {
		printk(LOG_WARN, "console: no timer on cpu %u; input is read only when the guest reads its UART\n",
		       last);
		return;
	}
	if (!mux.shell) {
		printk(LOG_INFO, "console: shell off; all input goes to the guest (UART polled every %u us)\n",
		       mux.poll_us);
		return;
	}
	console_mux_escape_name(esc, sizeof(esc));
	printk(LOG_INFO, "console: shell on cpu %u (UART polled every %u us); %s switches input between the guest and the shell\n",
	       last, mux.poll_us, esc);
}
