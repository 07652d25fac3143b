#include "kernel/uart16550.h"
#include "arch/x86/io.h"

/* Register offsets and bits (National Semiconductor PC16550D data sheet). */
#define UART_THR 0
#define UART_RBR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE 0x40

/* Bounded wait for the transmitter: a missing UART reads 0xFF (looks empty),
 * a wedged one must not hang the hypervisor. */
#define UART_TX_SPIN_LIMIT 100000

static u16 uart_base = COM1_PORT;

void uart_init(u16 port, u32 baud)
{
	u32 divisor = baud ? UART_CLOCK_HZ / baud : 1;

	if (divisor == 0)
		divisor = 1;
	uart_base = port;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, divisor & 0xFF);
	outb(port + UART_DLM, (divisor >> 8) & 0xFF);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, MCR_DTR_RTS_OUT2);
}

void uart_putc(char c)
{
	for (u32 i = 0; i < UART_TX_SPIN_LIMIT; i++) {
		if (inb(uart_base + UART_LSR) & LSR_THR_EMPTY)
			break;
	}
	outb(uart_base + UART_THR, (u8)c);
}

int uart_getc(void)
{
	if (!(inb(uart_base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(uart_base + UART_RBR);
}

u16 uart_port(void)
{
	return uart_base;
}

void uart_drain(void)
{
	for (u32 i = 0; i < UART_TX_SPIN_LIMIT; i++) {
		if (inb(uart_base + UART_LSR) & LSR_TX_IDLE)
			return;
	}
}
