/* The virtual IOAPIC (see vioapic.h for the model and its choices).
 *
 * State per pin is the redirection entry's writable bits plus remote IRR, the
 * logical input level, and a "held" bit for a message that was accepted but
 * found no room in the caller's effects.  Every path that may deliver ends in
 * pin_service, which decides from that state alone whether the pin sends now;
 * that keeps the invariant "an unmasked, asserted level pin with remote IRR
 * clear has either been delivered or is held" true after every call. */
#include "kernel/vm/vioapic.h"

#include "kernel/lib/string.h"

/* Bits of the low half the guest may write (datasheet 3.2.4): vector,
 * delivery mode, destination mode, polarity, trigger mode, mask.  Delivery
 * status (12) and remote IRR (14) are read-only, 31:17 reserved. */
#define RTE_WRITABLE_LOW                                                              \
	(VIOAPIC_RTE_VECTOR | VIOAPIC_RTE_DM | VIOAPIC_RTE_LOGICAL |                      \
	 VIOAPIC_RTE_ACTIVE_LOW | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED)

/* Bits of the entry written at power-up (the datasheet defines only the mask). */
#define RTE_RESET VIOAPIC_RTE_MASKED

/* ---- pin sets ---------------------------------------------------------------- */

static void pinset_add(struct vioapic_pinset *s, unsigned pin)
{
	s->bits[pin / 64] |= 1ULL << (pin % 64);
}

static void pinset_del(struct vioapic_pinset *s, unsigned pin)
{
	s->bits[pin / 64] &= ~(1ULL << (pin % 64));
}

/* ---- entry decoding ---------------------------------------------------------- */

static u8 rte_delivery(u64 rte)
{
	return (u8)((rte & VIOAPIC_RTE_DM) >> VIOAPIC_RTE_DM_SHIFT);
}

/* Writable bits of the high half: the destination, and on PCH-style parts
 * (version 0x20 and later) the extended destination ID in 55:48, which is
 * stored and read back but plays no part in xAPIC delivery. */
static u64 rte_writable_high(const struct vioapic *io)
{
	u64 bits = VIOAPIC_RTE_DEST;
	if (io->cfg.version >= VIOAPIC_VERSION_EOI_REG)
		bits |= VIOAPIC_RTE_EDID;
	return bits;
}

/* Does the pin follow the level rules (deliver while asserted, remote IRR)?
 * Only fixed and lowest-priority entries do: the datasheet requires edge for
 * SMI, NMI, INIT and ExtINT and treats NMI and INIT as edge even when the
 * trigger bit says level (3.2.4, delivery mode). */
static bool rte_level_rules(u64 rte)
{
	u8 dm = rte_delivery(rte);
	return (rte & VIOAPIC_RTE_LEVEL) && (dm == VLAPIC_DM_FIXED || dm == VLAPIC_DM_LOWEST);
}

static bool pin_valid(const struct vioapic *io, unsigned pin)
{
	return pin < io->cfg.pins;
}

/* ---- delivery ------------------------------------------------------------------ */

static void emit(struct vioapic_effects *fx, unsigned pin, u64 rte)
{
	struct vioapic_delivery *d = &fx->deliveries[fx->count++];
	memset(d, 0, sizeof(*d));
	d->pin = (u8)pin;
	d->msg.vector = (u8)(rte & VIOAPIC_RTE_VECTOR);
	d->msg.delivery = rte_delivery(rte);
	d->msg.shorthand = VLAPIC_SH_NONE;
	d->msg.logical = (rte & VIOAPIC_RTE_LOGICAL) != 0;
	d->msg.assert = true;
	d->msg.level = rte_level_rules(rte);
	d->msg.x2apic = false; /* an IOAPIC message carries an 8-bit destination */
	d->msg.dest = (u32)(rte >> VIOAPIC_RTE_DEST_SHIFT);
}

/* Sends whatever the pin's state says is due now, or holds it when the
 * effects are full.  Level-rule pins are due while asserted, unmasked and
 * without remote IRR; edge-rule pins when an edge was latched (held) and the
 * pin is still unmasked: a masked edge is lost (3.2.4, bit 16). */
static void pin_service(struct vioapic *io, unsigned pin, struct vioapic_effects *fx)
{
	u64 rte = io->rte[pin];
	bool masked = (rte & VIOAPIC_RTE_MASKED) != 0;
	bool due;

	if (rte_level_rules(rte))
		due = vioapic_pinset_has(&io->asserted, pin) && !masked &&
		      !(rte & VIOAPIC_RTE_REMOTE_IRR);
	else
		due = vioapic_pinset_has(&io->held, pin) && !masked;

	if (!due) {
		pinset_del(&io->held, pin);
		return;
	}
	u8 dm = rte_delivery(rte);
	if (dm == VLAPIC_DM_RESERVED3 || dm == VLAPIC_DM_STARTUP) {
		/* 011b and 110b are reserved in the redirection table. */
		pinset_del(&io->held, pin);
		fx->flags |= VIOAPIC_FX_RESERVED_DM;
		return;
	}
	if (fx->count >= VIOAPIC_FX_MAX_DELIVERIES) {
		/* Delivery status "send pending" until the caller flushes. */
		pinset_add(&io->held, pin);
		fx->flags |= VIOAPIC_FX_MORE;
		return;
	}
	emit(fx, pin, rte);
	pinset_del(&io->held, pin);
	/* Remote IRR: "set when local APIC(s) accept the level interrupt"
	 * (3.2.4, bit 14).  The message is handed out now; the model assumes it
	 * is accepted. */
	if (rte_level_rules(rte))
		io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
}

static void clear_remote_irr(struct vioapic *io, unsigned pin, struct vioapic_effects *fx)
{
	if (!(io->rte[pin] & VIOAPIC_RTE_REMOTE_IRR))
		return;
	io->rte[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
	pinset_add(&fx->remote_irr_cleared, pin);
}

/* ---- life cycle ---------------------------------------------------------------- */

int vioapic_init(struct vioapic *io, const struct vioapic_config *cfg)
{
	if (!cfg || cfg->pins == 0 || cfg->pins > VIOAPIC_MAX_PINS || cfg->id > 0xF ||
	    cfg->version < VIOAPIC_VERSION_82093AA)
		return VIOAPIC_BAD_CONFIG;
	memset(io, 0, sizeof(*io));
	io->cfg = *cfg;
	io->id = cfg->id;
	for (unsigned pin = 0; pin < cfg->pins; pin++)
		io->rte[pin] = RTE_RESET;
	return VIOAPIC_OK;
}

void vioapic_reset(struct vioapic *io, struct vioapic_effects *fx)
{
	u64 writable = RTE_WRITABLE_LOW | rte_writable_high(io);

	io->ioregsel = 0;
	io->id = io->cfg.id;
	for (unsigned pin = 0; pin < io->cfg.pins; pin++) {
		clear_remote_irr(io, pin, fx);
		if ((io->rte[pin] ^ RTE_RESET) & writable)
			pinset_add(&fx->rte_changed, pin);
		io->rte[pin] = RTE_RESET;
		pinset_del(&io->held, pin);
	}
}

/* ---- indirect registers (datasheet 3.2) ---------------------------------------- */

/* The pin a redirection-table register index names, or -1. */
static int rte_pin_of(const struct vioapic *io, u8 reg)
{
	if (reg < VIOAPIC_REG_RTE0)
		return -1;
	unsigned pin = (unsigned)(reg - VIOAPIC_REG_RTE0) / 2;
	return pin_valid(io, pin) ? (int)pin : -1;
}

int vioapic_reg_read(const struct vioapic *io, u8 reg, u32 *value)
{
	*value = 0;
	switch (reg) {
	case VIOAPIC_REG_ID:
		*value = (u32)io->id << VIOAPIC_ID_SHIFT;
		return VIOAPIC_OK;
	case VIOAPIC_REG_VER:
		/* Bit 15 (pin assertion register, PCH) reads 0: not offered. */
		*value = io->cfg.version | ((u32)(io->cfg.pins - 1) << VIOAPIC_VER_MAX_RTE_SHIFT);
		return VIOAPIC_OK;
	case VIOAPIC_REG_ARB:
		/* 3.2.3: loaded from the ID whenever the ID is written, so it
		 * always equals it here (there is no APIC bus to arbitrate). */
		*value = (u32)io->id << VIOAPIC_ID_SHIFT;
		return VIOAPIC_OK;
	}
	int pin = rte_pin_of(io, reg);
	if (pin < 0)
		return VIOAPIC_NO_REGISTER;
	u64 rte = io->rte[pin];
	if (vioapic_pinset_has(&io->held, (unsigned)pin))
		rte |= VIOAPIC_RTE_DELIVS;
	*value = (reg - VIOAPIC_REG_RTE0) & 1 ? (u32)(rte >> 32) : (u32)rte;
	return VIOAPIC_OK;
}

static void rte_write_low(struct vioapic *io, unsigned pin, u32 value,
			  struct vioapic_effects *fx)
{
	u64 old = io->rte[pin];
	u64 rte = (old & ~RTE_WRITABLE_LOW) | (value & RTE_WRITABLE_LOW);

	io->rte[pin] = rte;
	if ((old ^ rte) & RTE_WRITABLE_LOW)
		pinset_add(&fx->rte_changed, pin);
	/* Remote IRR has no meaning for edge entries (3.2.4, bit 14); parts
	 * clear it when the entry is made edge, and Linux's EOI for IOAPICs
	 * without an EOI register relies on that. */
	if (!(rte & VIOAPIC_RTE_LEVEL))
		clear_remote_irr(io, pin, fx);
	/* Unmasking an asserted level pin, or making an asserted pin level,
	 * delivers now; a held message sees its new entry. */
	pin_service(io, pin, fx);
}

static void rte_write_high(struct vioapic *io, unsigned pin, u32 value,
			   struct vioapic_effects *fx)
{
	u64 writable = rte_writable_high(io);
	u64 old = io->rte[pin];
	u64 rte = (old & ~writable) | (((u64)value << 32) & writable);

	io->rte[pin] = rte;
	if (old != rte)
		pinset_add(&fx->rte_changed, pin);
}

int vioapic_reg_write(struct vioapic *io, u8 reg, u32 value, struct vioapic_effects *fx)
{
	switch (reg) {
	case VIOAPIC_REG_ID:
		io->id = (u8)((value & VIOAPIC_ID_MASK) >> VIOAPIC_ID_SHIFT);
		return VIOAPIC_OK;
	case VIOAPIC_REG_VER:
	case VIOAPIC_REG_ARB:
		return VIOAPIC_OK; /* read-only */
	}
	int pin = rte_pin_of(io, reg);
	if (pin < 0)
		return VIOAPIC_NO_REGISTER;
	if ((reg - VIOAPIC_REG_RTE0) & 1)
		rte_write_high(io, (unsigned)pin, value, fx);
	else
		rte_write_low(io, (unsigned)pin, value, fx);
	return VIOAPIC_OK;
}

/* ---- MMIO (datasheet 3.1) -------------------------------------------------------- */

static bool has_eoi_register(const struct vioapic *io)
{
	return io->cfg.version >= VIOAPIC_VERSION_EOI_REG;
}

int vioapic_mmio_read(struct vioapic *io, u32 offset, u32 size, u32 *value)
{
	*value = 0;
	if (offset == VIOAPIC_MMIO_IOREGSEL && (size == 4 || size == 1)) {
		*value = io->ioregsel;
		return VIOAPIC_OK;
	}
	if (offset == VIOAPIC_MMIO_IOWIN && size == 4)
		return vioapic_reg_read(io, io->ioregsel, value);
	if (offset == VIOAPIC_MMIO_EOI && size == 4 && has_eoi_register(io))
		return VIOAPIC_OK; /* write-only: reads 0 */
	return VIOAPIC_BAD_ACCESS;
}

int vioapic_mmio_write(struct vioapic *io, u32 offset, u32 size, u32 value,
		       struct vioapic_effects *fx)
{
	if (offset == VIOAPIC_MMIO_IOREGSEL && (size == 4 || size == 1)) {
		io->ioregsel = (u8)value; /* bits 31:8 reserved */
		return VIOAPIC_OK;
	}
	if (offset == VIOAPIC_MMIO_IOWIN && size == 4)
		return vioapic_reg_write(io, io->ioregsel, value, fx);
	if (offset == VIOAPIC_MMIO_EOI && size == 4 && has_eoi_register(io)) {
		/* Bits 7:0 are the vector; matching entries clear remote IRR
		 * and resample their input, as a broadcast EOI would. */
		vioapic_eoi(io, (u8)value, fx);
		return VIOAPIC_OK;
	}
	return VIOAPIC_BAD_ACCESS;
}

/* ---- interrupts in -------------------------------------------------------------- */

int vioapic_set_line(struct vioapic *io, unsigned pin, bool asserted,
		     struct vioapic_effects *fx)
{
	if (!pin_valid(io, pin))
		return VIOAPIC_BAD_PIN;
	bool was = vioapic_pinset_has(&io->asserted, pin);
	if (was == asserted)
		return VIOAPIC_OK;
	if (asserted)
		pinset_add(&io->asserted, pin);
	else
		pinset_del(&io->asserted, pin);

	if (rte_level_rules(io->rte[pin])) {
		pin_service(io, pin, fx);
	} else if (asserted && !(io->rte[pin] & VIOAPIC_RTE_MASKED)) {
		/* A rising edge on an unmasked pin is latched; on a masked pin
		 * it is "not delivered or held pending" (3.2.4, bit 16). */
		pinset_add(&io->held, pin);
		pin_service(io, pin, fx);
	}
	return VIOAPIC_OK;
}

int vioapic_pulse(struct vioapic *io, unsigned pin, struct vioapic_effects *fx)
{
	int rc = vioapic_set_line(io, pin, true, fx);
	if (rc != VIOAPIC_OK)
		return rc;
	return vioapic_set_line(io, pin, false, fx);
}

void vioapic_eoi(struct vioapic *io, u8 vector, struct vioapic_effects *fx)
{
	for (unsigned pin = 0; pin < io->cfg.pins; pin++) {
		u64 rte = io->rte[pin];
		if (!(rte & VIOAPIC_RTE_REMOTE_IRR) || (rte & VIOAPIC_RTE_VECTOR) != vector)
			continue;
		clear_remote_irr(io, pin, fx);
		pin_service(io, pin, fx);
	}
}

void vioapic_flush(struct vioapic *io, struct vioapic_effects *fx)
{
	for (unsigned pin = 0; pin < io->cfg.pins; pin++)
		if (vioapic_pinset_has(&io->held, pin))
			pin_service(io, pin, fx);
}

/* ---- for the integrator -------------------------------------------------------- */

int vioapic_pin_get(const struct vioapic *io, unsigned pin, struct vioapic_pin_state *st)
{
	if (!pin_valid(io, pin))
		return VIOAPIC_BAD_PIN;
	u64 rte = io->rte[pin];
	memset(st, 0, sizeof(*st));
	st->vector = (u8)(rte & VIOAPIC_RTE_VECTOR);
	st->delivery = rte_delivery(rte);
	st->logical = (rte & VIOAPIC_RTE_LOGICAL) != 0;
	st->active_low = (rte & VIOAPIC_RTE_ACTIVE_LOW) != 0;
	st->level = (rte & VIOAPIC_RTE_LEVEL) != 0;
	st->masked = (rte & VIOAPIC_RTE_MASKED) != 0;
	st->remote_irr = (rte & VIOAPIC_RTE_REMOTE_IRR) != 0;
	st->held = vioapic_pinset_has(&io->held, pin);
	st->asserted = vioapic_pinset_has(&io->asserted, pin);
	st->dest = (u8)(rte >> VIOAPIC_RTE_DEST_SHIFT);
	return VIOAPIC_OK;
}
