/* The guest's view of the hypervisor's console UART: an emulated 16550 with
 * interrupts (the register model is kernel/vm/uart16550_regs.c; this file
 * connects it to the console and to the interrupt line).
 *
 * Output.  Guest output is collected per line and written to the shared
 * serial line whole, so a guest line never mixes with a hypervisor log line
 * (those start with "[c<cpu>]"; guest lines carry no prefix).  A partial line
 * (a prompt) goes out when the guest starts waiting for input: when it reads
 * RBR, or reads LSR twice without writing in between (an output loop reads
 * LSR once per byte; an input loop polls it) while no input waits, or, for an
 * interrupt-driven driver, when it turns the THRE interrupt off (Linux's 8250
 * does so once its transmit buffer is empty).  While the console's input goes
 * to the hypervisor shell, partial lines wait for their end so they cannot
 * cut into the shell's prompt line.  Bytes written in loopback never leave
 * the UART.
 *
 * Input.  Bytes come from the console multiplexer's FIFO
 * (kernel/shell/console_mux.h), one at a time: the receiver takes the next
 * byte only once it has none, so the multiplexer's FIFO plays the part of the
 * line and a guest's FIFO reset discards at most one typed byte.  A byte
 * dropped by the multiplexer shows as an overrun (LSR.OE).
 *
 * Interrupt line.  The integrator's sink hears every change of the board's
 * IRQ line (INTR gated by MCR.OUT2).  The level is evaluated at the end of
 * every locked section: after each register access and after input arrives.
 *
 * Locking.  One spinlock, taken with interrupts off, from VP exit handlers on
 * any CPU and from the console CPU's timer interrupt (guest_uart_input_ready,
 * through console_rx_poll).  The two paths call into each other: a register
 * access reads the multiplexer's FIFO, which may drain the physical UART and
 * announce the byte it queues; the announcement comes while the access still
 * holds the lock.  So guest_uart_input_ready never waits for the lock: it
 * raises input_arrived and takes the lock only if it is free; whoever holds
 * the lock looks at input_arrived again after releasing it (unlock_settled).
 * The flag is set before the trylock and read after the unlock, each side
 * with a full barrier between, so one of the two always sees the other. */
#include "kernel/console.h"
#include "kernel/options.h"
#include "kernel/shell/console_mux.h"
#include "kernel/spinlock.h"
#include "kernel/uart16550.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/uart16550_regs.h"
#include "kernel/vm/vm_create.h"

#define LINE_MAX 160

static struct {
	struct spinlock lock;
	bool set_up;
	u16 base;
	struct uart16550 regs;
	void (*irq_sink)(bool asserted);
	bool irq_asserted; /* the level the sink last heard */
	u32 input_arrived; /* input came while the lock was held (see the top) */
	char line[LINE_MAX];
	u32 len;
	u32 lsr_polls; /* LSR reads since the last THR write */
} uart = {.lock = SPINLOCK_INIT};

u16 uart_port_for_guest(void)
{
	return uart_port();
}

static void flush_locked(void)
{
	if (uart.len)
		console_write_guest(uart.line, uart.len);
	uart.len = 0;
}

/* A partial line, when nothing forbids it (see the top). */
static void flush_partial_locked(void)
{
	if (console_guest_may_write_partial())
		flush_locked();
}

static void transmit(u8 c)
{
	uart.lsr_polls = 0;
	uart.line[uart.len++] = (char)c;
	if (c == '\n' || uart.len == LINE_MAX)
		flush_locked();
}

/* Brings the receiver up to date with the console: an overrun the
 * multiplexer reported, and the next byte if the receiver has none.  In
 * loopback the receiver is cut off from the line; input waits. */
static void receive_locked(void)
{
	if (console_guest_overrun())
		uart16550_line_overrun(&uart.regs);
	if (uart16550_loopback(&uart.regs) || !uart16550_rx_empty(&uart.regs))
		return;
	int c = console_guest_getc();
	if (c >= 0)
		uart16550_receive(&uart.regs, (u8)c);
}

static void update_irq_line_locked(void)
{
	bool level = uart16550_irq_line(&uart.regs);

	if (level == uart.irq_asserted)
		return;
	uart.irq_asserted = level;
	if (uart.irq_sink)
		uart.irq_sink(level);
}

/* Ends every locked section: takes in input that arrived meanwhile, tells
 * the sink about the line, releases the lock, and goes again if input was
 * announced after the last look (see the top). */
static void unlock_settled(void)
{
	for (;;) {
		/* An exchange, not a store: the flag must be clear before the
		 * multiplexer's FIFO is read (x86 may otherwise let the read pass
		 * the store). */
		__atomic_exchange_n(&uart.input_arrived, 0, __ATOMIC_SEQ_CST);
		receive_locked();
		update_irq_line_locked();
		spin_unlock(&uart.lock);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&uart.input_arrived, __ATOMIC_RELAXED) || !spin_trylock(&uart.lock))
			return;
	}
}

void guest_uart_setup(struct vp *vp)
{
	(void)vp;
	u64 flags = irq_save();
	spin_lock(&uart.lock);
	uart.base = uart_port();
	uart16550_init(&uart.regs);
	__atomic_store_n(&uart.set_up, true, __ATOMIC_RELEASE);
	unlock_settled();
	irq_restore(flags);
}

bool guest_uart_claims(u16 port)
{
	return port >= uart.base && port < uart.base + UART16550_REG_COUNT;
}

void guest_uart_set_irq_sink(void (*sink)(bool asserted))
{
	u64 flags = irq_save();
	spin_lock(&uart.lock);
	uart.irq_sink = sink;
	uart.irq_asserted = false; /* the sink hears the line if it is up now */
	unlock_settled();
	irq_restore(flags);
}

void guest_uart_input_ready(void)
{
	if (!__atomic_load_n(&uart.set_up, __ATOMIC_ACQUIRE))
		return;
	u64 flags = irq_save();
	__atomic_store_n(&uart.input_arrived, 1, __ATOMIC_SEQ_CST);
	if (spin_trylock(&uart.lock))
		unlock_settled();
	irq_restore(flags);
}

void guest_uart_flush(void)
{
	u64 flags = irq_save();
	spin_lock(&uart.lock);
	flush_locked();
	unlock_settled();
	irq_restore(flags);
}

static u8 uart_read(u32 reg)
{
	bool dlab = uart.regs.lcr & UART16550_LCR_DLAB;

	/* A guest waiting for input shows its prompt first. */
	if (reg == UART16550_REG_DATA && !dlab)
		flush_partial_locked();
	u8 v = uart16550_read(&uart.regs, reg);
	if (reg == UART16550_REG_LSR && !(v & UART16550_LSR_DR) && ++uart.lsr_polls >= 2 && uart.len)
		flush_partial_locked(); /* polling for input: show the prompt */
	return v;
}

static void uart_write(u32 reg, u8 v)
{
	u8 ier_before = uart.regs.ier;
	u8 tx;

	if (uart16550_write(&uart.regs, reg, v, &tx))
		transmit(tx);
	/* An interrupt-driven driver has sent all it had. */
	if ((ier_before & UART16550_IER_ETBEI) && !(uart.regs.ier & UART16550_IER_ETBEI))
		flush_partial_locked();
}

void guest_uart_io(u16 port, bool in, u32 *value)
{
	u32 reg = port - uart.base;
	u64 flags = irq_save();

	spin_lock(&uart.lock);
	if (in) {
		/* Input that waits is in the receiver before the guest looks
		 * (without the console CPU's timer, guest reads are what polls
		 * the console). */
		receive_locked();
		*value = uart_read(reg);
	} else {
		uart_write(reg, (u8)*value);
	}
	unlock_settled();
	irq_restore(flags);
}
