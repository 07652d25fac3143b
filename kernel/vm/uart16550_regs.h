/* The register model of one 16550 UART as a guest sees it (National
 * Semiconductor PC16550D datasheet): the registers, the receiver FIFO, the
 * interrupt logic of its Table "Interrupt Control Functions", loopback, and
 * the PC board's gating of the interrupt line by MCR.OUT2.
 *
 * Pure logic.  Nothing here knows the console, takes a lock or touches
 * hardware; the caller (kernel/vm/guest_uart.c) feeds received bytes in with
 * uart16550_receive, sends what uart16550_write hands back, and re-reads
 * uart16550_irq_line after every call to see whether the line moved.
 *
 * What is modelled, and where it knowingly differs from the chip:
 *  - The transmitter is infinitely fast: a byte written to THR leaves at
 *    once, so THR and the transmitter are always empty (LSR.THRE and
 *    LSR.TEMT always read 1) and the THRE interrupt is raised again by every
 *    THR write.
 *  - The receiver FIFO holds 16 bytes with FCR.0 set, one (the RBR) without.
 *    Any byte waiting raises the "received data available" interrupt; the
 *    trigger level (FCR bits 7:6) is kept but not used, and the character
 *    timeout (IIR 0x0C) is never reported in its place.  Linux's 8250 driver
 *    handles both alike.
 *  - Outside loopback the modem inputs are those of a terminal that is always
 *    ready: DCD, DSR and CTS on, RI off.  They never change, so the modem
 *    status deltas only move in loopback.
 *  - No parity, framing or break errors exist; only overrun sets an error. */
#ifndef HV_KERNEL_VM_UART16550_REGS_H
#define HV_KERNEL_VM_UART16550_REGS_H

#include "kernel/types.h"

/* Register offsets from the base port (datasheet Table II). */
#define UART16550_REG_DATA 0 /* RBR on read, THR on write; DLL with LCR.DLAB */
#define UART16550_REG_IER 1  /* DLM with LCR.DLAB */
#define UART16550_REG_IIR 2  /* FCR on write */
#define UART16550_REG_LCR 3
#define UART16550_REG_MCR 4
#define UART16550_REG_LSR 5
#define UART16550_REG_MSR 6
#define UART16550_REG_SCR 7
#define UART16550_REG_COUNT 8

#define UART16550_IER_ERBFI 0x01 /* received data available (and timeout) */
#define UART16550_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART16550_IER_ELSI 0x04	 /* receiver line status */
#define UART16550_IER_EDSSI 0x08 /* modem status */

/* IIR bits 3:0 name the pending source; bit 0 set means none. */
#define UART16550_IIR_NONE 0x01
#define UART16550_IIR_RLS 0x06
#define UART16550_IIR_RDA 0x04
#define UART16550_IIR_TIMEOUT 0x0C
#define UART16550_IIR_THRE 0x02
#define UART16550_IIR_MSR 0x00
#define UART16550_IIR_ID_MASK 0x0F
#define UART16550_IIR_FIFOS 0xC0 /* both set while FCR.0 is */

#define UART16550_FCR_ENABLE 0x01
#define UART16550_FCR_RX_RESET 0x02
#define UART16550_FCR_TX_RESET 0x04
#define UART16550_FCR_DMA_MODE 0x08
#define UART16550_FCR_TRIGGER 0xC0

#define UART16550_LCR_DLAB 0x80

#define UART16550_MCR_DTR 0x01
#define UART16550_MCR_RTS 0x02
#define UART16550_MCR_OUT1 0x04
#define UART16550_MCR_OUT2 0x08
#define UART16550_MCR_LOOP 0x10
#define UART16550_MCR_MASK 0x1F

#define UART16550_LSR_DR 0x01
#define UART16550_LSR_OE 0x02
#define UART16550_LSR_THRE 0x20
#define UART16550_LSR_TEMT 0x40

#define UART16550_MSR_DCTS 0x01
#define UART16550_MSR_DDSR 0x02
#define UART16550_MSR_TERI 0x04
#define UART16550_MSR_DDCD 0x08
#define UART16550_MSR_DELTAS 0x0F
#define UART16550_MSR_CTS 0x10
#define UART16550_MSR_DSR 0x20
#define UART16550_MSR_RI 0x40
#define UART16550_MSR_DCD 0x80

#define UART16550_RX_FIFO_SIZE 16

struct uart16550 {
	u8 ier, lcr, mcr, fcr, scr, dll, dlm;
	u8 modem_inputs;   /* MSR bits 7:4 outside loopback */
	u8 msr_deltas;     /* MSR bits 3:0 until MSR is read */
	bool overrun;      /* LSR.OE until LSR is read */
	bool thre_pending; /* the THRE interrupt, apart from IER.ETBEI */
	u8 rx[UART16550_RX_FIFO_SIZE];
	u8 rx_head, rx_count;
};

/* The state after a master reset (datasheet Table IV), with a divisor of 1
 * (115200 baud) in place of the chip's undefined one. */
void uart16550_init(struct uart16550 *u);

/* A guest read of register reg (0-7), with its side effects: RBR pops the
 * FIFO, LSR clears OE, MSR clears the deltas, IIR clears a THRE interrupt
 * it reports. */
u8 uart16550_read(struct uart16550 *u, u32 reg);
/* A guest write.  Returns true and sets *tx when a byte is to go out on the
 * line (a THR write outside loopback). */
bool uart16550_write(struct uart16550 *u, u32 reg, u8 value, u8 *tx);

/* A byte arrived from the line.  Ignored in loopback, where the receiver is
 * cut off from the line.  A full FIFO keeps its bytes and sets OE; without
 * FIFOs the new byte replaces the unread one and sets OE. */
void uart16550_receive(struct uart16550 *u, u8 byte);
/* Bytes were lost before they reached the UART: report them as an overrun. */
void uart16550_line_overrun(struct uart16550 *u);

bool uart16550_loopback(const struct uart16550 *u);
bool uart16550_rx_empty(const struct uart16550 *u);
/* The IIR value, without the side effect of reading it. */
u8 uart16550_iir(const struct uart16550 *u);
/* The chip's INTR output: some enabled source is pending. */
bool uart16550_intr(const struct uart16550 *u);
/* The board's IRQ line: INTR through the buffer that OUT2 enables.  Loopback
 * forces OUT2 inactive at the pin, so the line is quiet there. */
bool uart16550_irq_line(const struct uart16550 *u);

#endif
