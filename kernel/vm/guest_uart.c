/* The guest's view of the hypervisor's console UART: an emulated 16550 (polled
 * mode).  Guest output is collected per line and written to the shared serial
 * line whole, so a guest line never mixes with a hypervisor log line (those
 * start with "[c<cpu>]"; guest lines carry no prefix).
 *
 * A partial line (a prompt) goes out when the guest starts waiting for input:
 * when it reads RBR, or reads LSR twice without writing in between (an output
 * loop reads LSR once per byte; an input loop polls it) while no input waits.
 * While the console's input goes to the hypervisor shell, partial lines wait
 * for their end so they cannot cut into the shell's prompt line.
 *
 * Input comes from the console multiplexer's FIFO (kernel/shell/console_mux.h):
 * LSR.DR is set while it holds a byte, LSR.OE once after bytes were dropped. */
#include "kernel/console.h"
#include "kernel/options.h"
#include "kernel/shell/console_mux.h"
#include "kernel/spinlock.h"
#include "kernel/uart16550.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/vm_create.h"

#define REG_DATA 0 /* RBR/THR, DLL with DLAB */
#define REG_IER 1  /* DLM with DLAB */
#define REG_IIR 2  /* FCR on write */
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_NO_INTERRUPT 0x01
#define IIR_FIFO_ENABLED 0xC0
#define MSR_DCD_DSR_CTS 0xB0
#define LINE_MAX 160

static struct {
	struct spinlock lock;
	u16 base;
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	char line[LINE_MAX];
	u32 len;
	u32 lsr_polls; /* LSR reads since the last THR write */
} uart = {.lock = SPINLOCK_INIT, .dll = 1};

u16 uart_port_for_guest(void)
{
	return uart_port();
}

void guest_uart_setup(struct vp *vp)
{
	(void)vp;
	uart.base = uart_port();
}

bool guest_uart_claims(u16 port)
{
	return port >= uart.base && port < uart.base + 8;
}

static void flush_locked(void)
{
	if (uart.len)
		console_write_guest(uart.line, uart.len);
	uart.len = 0;
}

/* A partial line, when nothing forbids it (see the header comment). */
static void flush_partial_locked(void)
{
	if (console_guest_may_write_partial())
		flush_locked();
}

void guest_uart_flush(void)
{
	spin_lock(&uart.lock);
	flush_locked();
	spin_unlock(&uart.lock);
}

static void transmit(u8 c)
{
	uart.lsr_polls = 0;
	uart.line[uart.len++] = (char)c;
	if (c == '\n' || uart.len == LINE_MAX)
		flush_locked();
}

static u8 line_status(void)
{
	/* The transmitter is always ready: output goes straight to a buffer. */
	u8 lsr = LSR_THRE | LSR_TEMT;

	if (console_guest_has_input())
		lsr |= LSR_DR;
	else if (++uart.lsr_polls >= 2 && uart.len)
		flush_partial_locked(); /* polling for input: show the prompt */
	if (console_guest_overrun())
		lsr |= LSR_OE;
	return lsr;
}

static u8 uart_read(u32 reg)
{
	bool dlab = uart.lcr & LCR_DLAB;
	int c;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			return uart.dll;
		/* A guest waiting for input shows its prompt first. */
		flush_partial_locked();
		c = console_guest_getc();
		return c < 0 ? 0 : (u8)c;
	case REG_IER:
		return dlab ? uart.dlm : uart.ier;
	case REG_IIR:
		return (uart.fcr & 1 ? IIR_FIFO_ENABLED : 0) | IIR_NO_INTERRUPT;
	case REG_LCR:
		return uart.lcr;
	case REG_MCR:
		return uart.mcr;
	case REG_LSR:
		return line_status();
	case REG_MSR:
		return MSR_DCD_DSR_CTS;
	default:
		return uart.scr;
	}
}

static void uart_write(u32 reg, u8 v)
{
	bool dlab = uart.lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			uart.dll = v;
		else
			transmit(v);
		break;
	case REG_IER:
		if (dlab)
			uart.dlm = v;
		else
			uart.ier = v & 0x0F;
		break;
	case REG_IIR:
		uart.fcr = v;
		break;
	case REG_LCR:
		uart.lcr = v;
		break;
	case REG_MCR:
		uart.mcr = v & 0x1F;
		break;
	case REG_SCR:
		uart.scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

void guest_uart_io(u16 port, bool in, u32 *value)
{
	u32 reg = port - uart.base;

	spin_lock(&uart.lock);
	if (in)
		*value = uart_read(reg);
	else
		uart_write(reg, (u8)*value);
	spin_unlock(&uart.lock);
}
