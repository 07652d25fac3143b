/* 16550 UART on an I/O port: the hypervisor's debug console. */
#ifndef HV_KERNEL_UART16550_H
#define HV_KERNEL_UART16550_H

#include "kernel/types.h"

#define COM1_PORT 0x3F8
#define COM2_PORT 0x2F8
#define COM3_PORT 0x3E8
#define COM4_PORT 0x2E8
#define UART_CLOCK_HZ 115200

void uart_init(u16 port, u32 baud);
void uart_putc(char c);
/* Returns -1 when no byte is waiting. */
int uart_getc(void);
u16 uart_port(void);
/* Waits (bounded) until every byte written has left the transmitter: an
 * emulator that is about to quit drops whatever is still queued. */
void uart_drain(void);

#endif
