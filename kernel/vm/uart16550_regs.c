/* The 16550's registers and interrupt logic (see uart16550_regs.h). */
#include "kernel/vm/uart16550_regs.h"

/* The far end of the line: a terminal with carrier, data set ready and clear
 * to send, and no ring. */
#define MODEM_INPUTS_READY (UART16550_MSR_DCD | UART16550_MSR_DSR | UART16550_MSR_CTS)
/* FCR bits other than the self-clearing resets; bits 5:4 are reserved. */
#define FCR_KEPT (UART16550_FCR_ENABLE | UART16550_FCR_DMA_MODE | UART16550_FCR_TRIGGER)

void uart16550_init(struct uart16550 *u)
{
	*u = (struct uart16550){
		.dll = 1,
		.modem_inputs = MODEM_INPUTS_READY,
		/* THR starts empty; the interrupt still needs ETBEI to show. */
		.thre_pending = true,
	};
}

bool uart16550_loopback(const struct uart16550 *u)
{
	return u->mcr & UART16550_MCR_LOOP;
}

bool uart16550_rx_empty(const struct uart16550 *u)
{
	return u->rx_count == 0;
}

static bool fifos_enabled(const struct uart16550 *u)
{
	return u->fcr & UART16550_FCR_ENABLE;
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* Into the receiver: from the line, or from THR in loopback. */
static void rx_push(struct uart16550 *u, u8 byte)
{
	u32 capacity = fifos_enabled(u) ? UART16550_RX_FIFO_SIZE : 1;

	if (u->rx_count == capacity) {
		u->overrun = true;
		/* "The character in the shift register is overwritten, but it is
		 * not transferred to the FIFO"; without FIFOs the RBR itself is
		 * overwritten (datasheet, LSR bit 1). */
		if (!fifos_enabled(u))
			u->rx[u->rx_head] = byte;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART16550_RX_FIFO_SIZE] = byte;
	u->rx_count++;
}

static u8 rx_pop(struct uart16550 *u)
{
	if (!u->rx_count)
		return 0;
	u8 byte = u->rx[u->rx_head];
	u->rx_head = (u8)((u->rx_head + 1) % UART16550_RX_FIFO_SIZE);
	u->rx_count--;
	return byte;
}

void uart16550_receive(struct uart16550 *u, u8 byte)
{
	if (!uart16550_loopback(u))
		rx_push(u, byte);
}

void uart16550_line_overrun(struct uart16550 *u)
{
	u->overrun = true;
}

/* MSR bits 7:4.  In loopback the modem control outputs feed the inputs
 * inside the chip: DTR to DSR, RTS to CTS, OUT1 to RI, OUT2 to DCD
 * (datasheet, MCR bit 4). */
static u8 modem_status(const struct uart16550 *u)
{
	if (!uart16550_loopback(u))
		return u->modem_inputs;
	u8 s = 0;
	if (u->mcr & UART16550_MCR_DTR)
		s |= UART16550_MSR_DSR;
	if (u->mcr & UART16550_MCR_RTS)
		s |= UART16550_MSR_CTS;
	if (u->mcr & UART16550_MCR_OUT1)
		s |= UART16550_MSR_RI;
	if (u->mcr & UART16550_MCR_OUT2)
		s |= UART16550_MSR_DCD;
	return s;
}

/* The deltas of MSR bits 3:0 for a change of the status bits: CTS, DSR and
 * DCD on any change, RI only on its trailing edge (on to off). */
static u8 modem_deltas(u8 before, u8 after)
{
	u8 changed = before ^ after;
	u8 d = 0;

	if (changed & UART16550_MSR_CTS)
		d |= UART16550_MSR_DCTS;
	if (changed & UART16550_MSR_DSR)
		d |= UART16550_MSR_DDSR;
	if ((before & UART16550_MSR_RI) && !(after & UART16550_MSR_RI))
		d |= UART16550_MSR_TERI;
	if (changed & UART16550_MSR_DCD)
		d |= UART16550_MSR_DDCD;
	return d;
}

/* The highest-priority enabled source (datasheet Table "Interrupt Control
 * Functions"): line status, then received data, then THR empty, then modem
 * status. */
static u8 pending_source(const struct uart16550 *u)
{
	if ((u->ier & UART16550_IER_ELSI) && u->overrun)
		return UART16550_IIR_RLS;
	if ((u->ier & UART16550_IER_ERBFI) && u->rx_count)
		return UART16550_IIR_RDA;
	if ((u->ier & UART16550_IER_ETBEI) && u->thre_pending)
		return UART16550_IIR_THRE;
	if ((u->ier & UART16550_IER_EDSSI) && u->msr_deltas)
		return UART16550_IIR_MSR;
	return UART16550_IIR_NONE;
}

u8 uart16550_iir(const struct uart16550 *u)
{
	return (u8)((fifos_enabled(u) ? UART16550_IIR_FIFOS : 0) | pending_source(u));
}

bool uart16550_intr(const struct uart16550 *u)
{
	return pending_source(u) != UART16550_IIR_NONE;
}

bool uart16550_irq_line(const struct uart16550 *u)
{
	return !uart16550_loopback(u) && (u->mcr & UART16550_MCR_OUT2) && uart16550_intr(u);
}

static u8 line_status(struct uart16550 *u)
{
	u8 lsr = UART16550_LSR_THRE | UART16550_LSR_TEMT;

	if (u->rx_count)
		lsr |= UART16550_LSR_DR;
	if (u->overrun)
		lsr |= UART16550_LSR_OE;
	u->overrun = false; /* OE and its interrupt clear on the LSR read */
	return lsr;
}

u8 uart16550_read(struct uart16550 *u, u32 reg)
{
	bool dlab = u->lcr & UART16550_LCR_DLAB;
	u8 v;

	switch (reg) {
	case UART16550_REG_DATA:
		return dlab ? u->dll : rx_pop(u);
	case UART16550_REG_IER:
		return dlab ? u->dlm : u->ier;
	case UART16550_REG_IIR:
		v = uart16550_iir(u);
		/* Reading IIR clears a THRE interrupt only when IIR names it. */
		if ((v & UART16550_IIR_ID_MASK) == UART16550_IIR_THRE)
			u->thre_pending = false;
		return v;
	case UART16550_REG_LCR:
		return u->lcr;
	case UART16550_REG_MCR:
		return u->mcr;
	case UART16550_REG_LSR:
		return line_status(u);
	case UART16550_REG_MSR:
		v = (u8)(modem_status(u) | u->msr_deltas);
		u->msr_deltas = 0;
		return v;
	case UART16550_REG_SCR:
		return u->scr;
	default:
		return 0xFF;
	}
}

static void write_ier(struct uart16550 *u, u8 value)
{
	u8 before = u->ier;

	u->ier = value & 0x0F; /* bits 7:4 are always 0 */
	/* Enabling ETBEI while THR is empty (it always is) raises the THRE
	 * interrupt; Linux's 8250 startup checks this. */
	if (!(before & UART16550_IER_ETBEI) && (u->ier & UART16550_IER_ETBEI))
		u->thre_pending = true;
}

static void write_fcr(struct uart16550 *u, u8 value)
{
	bool was_enabled = fifos_enabled(u);

	/* "Bit 0 must be 1 when other FCR bits are written to or they will not
	 * be programmed." */
	if (value & UART16550_FCR_ENABLE)
		u->fcr = value & FCR_KEPT;
	else
		u->fcr &= (u8)~UART16550_FCR_ENABLE;
	/* Switching between FIFO and 16450 mode empties the FIFOs. */
	if (fifos_enabled(u) != was_enabled)
		rx_clear(u);
	/* The resets only act while the FIFOs are on.  The transmitter FIFO is
	 * always empty here, so its reset has nothing to do. */
	if ((value & UART16550_FCR_ENABLE) && (value & UART16550_FCR_RX_RESET))
		rx_clear(u);
}

static void write_mcr(struct uart16550 *u, u8 value)
{
	u8 before = modem_status(u);

	u->mcr = value & UART16550_MCR_MASK;
	u->msr_deltas |= modem_deltas(before, modem_status(u));
}

bool uart16550_write(struct uart16550 *u, u32 reg, u8 value, u8 *tx)
{
	bool dlab = u->lcr & UART16550_LCR_DLAB;

	switch (reg) {
	case UART16550_REG_DATA:
		if (dlab) {
			u->dll = value;
			return false;
		}
		/* The write clears the THRE interrupt, and the byte moves on at
		 * once, leaving THR empty: the interrupt is due again. */
		u->thre_pending = true;
		if (uart16550_loopback(u)) {
			rx_push(u, value); /* the transmitter feeds the receiver */
			return false;
		}
		*tx = value;
		return true;
	case UART16550_REG_IER:
		if (dlab)
			u->dlm = value;
		else
			write_ier(u, value);
		return false;
	case UART16550_REG_IIR:
		write_fcr(u, value);
		return false;
	case UART16550_REG_LCR:
		u->lcr = value;
		return false;
	case UART16550_REG_MCR:
		write_mcr(u, value);
		return false;
	case UART16550_REG_SCR:
		u->scr = value;
		return false;
	default: /* LSR and MSR are read-only */
		return false;
	}
}
