/* The virtual IOAPIC: the register interface and delivery rules of one I/O
 * APIC (Intel 82093AA datasheet, section 3; the ICH/PCH "I/O APIC" chapters
 * for the version 0x20 parts with the EOI register).
 *
 * Pure logic.  Nothing here touches hardware, takes a lock or logs.  Every
 * entry point works on one struct vioapic and reports in a struct
 * vioapic_effects what the integrator has to do: hand interrupt messages to
 * the virtual local APICs, reprogram the physical pin behind a redirection
 * entry the guest changed, unmask a physical level pin whose virtual remote
 * IRR cleared.
 *
 * Inputs are line changes on pins.  vioapic_set_line takes the *logical*
 * level: true means "the interrupt is asserted", after the pin's polarity.
 * The polarity bit (13) is stored and reported (vioapic_pin_get) but never
 * inverts anything here, because only the caller knows whether it is
 * forwarding an electrical level or "an interrupt happened".  When the guest
 * flips the polarity of an emulated line whose electrical level is fixed, the
 * caller recomputes the logical level and calls vioapic_set_line again.
 *
 * Delivery (datasheet 3.2.4, bits 8-16):
 *  - Edge pins deliver on a rising edge.  A rising edge on a masked pin is
 *    lost.
 *  - Level pins with fixed or lowest-priority delivery deliver while the line
 *    is asserted, the pin is unmasked and remote IRR is clear; delivering sets
 *    remote IRR, an EOI with the pin's vector clears it, and a pin still
 *    asserted then delivers again.  A pin unmasked while asserted delivers.
 *  - SMI, NMI, INIT and ExtINT are edge messages whatever the trigger mode bit
 *    says (the datasheet requires edge for them and treats them as edge): they
 *    deliver on a rising edge, never set remote IRR, and the message's level
 *    is false (so an INIT never looks like an "INIT level de-assert").
 *  - The reserved delivery modes (011b, 110b) deliver nothing; the effects say
 *    so (VIOAPIC_FX_RESERVED_DM) so the caller can log.
 *  - Writing a redirection entry with the trigger mode set to edge clears its
 *    remote IRR.  Real parts behave so and Linux depends on it: on a version
 *    0x11 IOAPIC (no EOI register) it clears a stuck remote IRR by switching
 *    the pin to edge and back.
 *
 * Physically backed level pins: the host sees an interrupt when the pin
 * asserts but never when it deasserts.  Forward each host interrupt with
 * vioapic_pulse (assert then deassert) while keeping the physical pin masked
 * until the effects report the pin in remote_irr_cleared; the physical IOAPIC
 * then raises it again if the device still asserts.  Holding such a line
 * asserted with vioapic_set_line instead would re-deliver at every EOI.
 *
 * Delivery status (bit 12) reads 1 while a message is held back because the
 * effects had no room for it (see struct vioapic_effects). */
#ifndef HV_KERNEL_VM_VIOAPIC_H
#define HV_KERNEL_VM_VIOAPIC_H

#include "kernel/types.h"
#include "kernel/vm/vlapic_icr.h"

/* ---- architectural constants ---------------------------------------------- */

/* MMIO offsets within the IOAPIC's page (datasheet 3.1; PCH EOI register). */
#define VIOAPIC_MMIO_IOREGSEL 0x00u
#define VIOAPIC_MMIO_IOWIN 0x10u
#define VIOAPIC_MMIO_EOI 0x40u /* version >= 0x20 only */
#define VIOAPIC_MMIO_SIZE 0x1000u

/* Indirect registers selected by IOREGSEL[7:0] (datasheet Table 2). */
#define VIOAPIC_REG_ID 0x00u
#define VIOAPIC_REG_VER 0x01u
#define VIOAPIC_REG_ARB 0x02u
#define VIOAPIC_REG_RTE0 0x10u /* pin n: low half 0x10 + 2n, high half + 1 */

#define VIOAPIC_ID_SHIFT 24
#define VIOAPIC_ID_MASK (0xFu << 24) /* IOAPICID[27:24], the only writable bits */
#define VIOAPIC_VER_MAX_RTE_SHIFT 16 /* IOAPICVER[23:16]: pin count - 1 */

/* Versions: 0x11 is the 82093AA, 0x20 and later have the EOI register. */
#define VIOAPIC_VERSION_82093AA 0x11u
#define VIOAPIC_VERSION_EOI_REG 0x20u

/* Redirection table entry (datasheet 3.2.4), as one 64-bit value. */
#define VIOAPIC_RTE_VECTOR 0xFFULL
#define VIOAPIC_RTE_DM_SHIFT 8
#define VIOAPIC_RTE_DM (7ULL << 8)          /* enum vlapic_delivery */
#define VIOAPIC_RTE_LOGICAL (1ULL << 11)    /* destination mode */
#define VIOAPIC_RTE_DELIVS (1ULL << 12)     /* delivery status, read-only */
#define VIOAPIC_RTE_ACTIVE_LOW (1ULL << 13) /* polarity */
#define VIOAPIC_RTE_REMOTE_IRR (1ULL << 14) /* read-only */
#define VIOAPIC_RTE_LEVEL (1ULL << 15)      /* trigger mode */
#define VIOAPIC_RTE_MASKED (1ULL << 16)
#define VIOAPIC_RTE_EDID_SHIFT 48           /* PCH: extended destination ID, 55:48 */
#define VIOAPIC_RTE_EDID (0xFFULL << 48)
#define VIOAPIC_RTE_DEST_SHIFT 56
#define VIOAPIC_RTE_DEST (0xFFULL << 56)

/* 0x10 + 2 * 120 = 0x100: more pins would not fit the 8-bit IOREGSEL. */
#define VIOAPIC_MAX_PINS 120u

/* ---- configuration and state ---------------------------------------------- */

struct vioapic_config {
	u8 id;      /* IOAPIC ID at reset, 0..15 */
	u8 version; /* 0x11 or more; >= 0x20 adds the EOI register and EDID bits */
	u8 pins;    /* 1..VIOAPIC_MAX_PINS; real parts have 24 */
};

/* A set of pins, bit n for pin n. */
struct vioapic_pinset {
	u64 bits[2];
};

static inline bool vioapic_pinset_has(const struct vioapic_pinset *s, unsigned pin)
{
	return pin < 128 && (s->bits[pin / 64] >> (pin % 64)) & 1;
}

static inline bool vioapic_pinset_empty(const struct vioapic_pinset *s)
{
	return !(s->bits[0] | s->bits[1]);
}

struct vioapic {
	struct vioapic_config cfg;
	u8 ioregsel;                 /* IOREGSEL[7:0]; bits 31:8 are reserved */
	u8 id;                       /* IOAPICID[27:24]; ARB follows it */
	/* Writable bits as the guest wrote them, plus remote IRR.  Delivery
	 * status is never stored: it is "held" below. */
	u64 rte[VIOAPIC_MAX_PINS];
	struct vioapic_pinset asserted; /* logical input level of each pin */
	struct vioapic_pinset held;     /* accepted, waiting for room in the effects */
};

/* ---- what the caller has to do ---------------------------------------------- */

/* Room for the messages of one call.  A line change or a register write
 * delivers at most one; only an EOI can deliver more (every asserted level
 * pin sharing the vector).  What does not fit is held (delivery status 1) and
 * VIOAPIC_FX_MORE is set: act on the effects, zero them, and call
 * vioapic_flush until VIOAPIC_FX_MORE stays clear.  Nothing is ever lost and
 * no remote IRR is set for a message that was not handed out. */
#define VIOAPIC_FX_MAX_DELIVERIES 8u

#define VIOAPIC_FX_MORE (1u << 0)        /* messages held back: call vioapic_flush */
#define VIOAPIC_FX_RESERVED_DM (1u << 1) /* a pin with delivery mode 011b/110b fired: dropped */

struct vioapic_delivery {
	u8 pin;
	/* Shorthand NONE, 8-bit destination (RTE[63:56]), assert set.  level
	 * is the trigger mode of a fixed/lowest level pin, false otherwise. */
	struct vlapic_ipi msg;
};

/* Effects accumulate: zero the struct before the first call and act on it
 * before it fills up (after every call is simplest).  Every function that
 * takes one needs it (never NULL): an EOI or a line change always has
 * something to say. */
struct vioapic_effects {
	u32 flags;
	u32 count;                                  /* entries used in deliveries */
	struct vioapic_delivery deliveries[VIOAPIC_FX_MAX_DELIVERIES];
	/* The guest changed a writable bit of the pin's redirection entry
	 * (either half): reprogram the physical pin from vioapic_pin_get. */
	struct vioapic_pinset rte_changed;
	/* Remote IRR went from 1 to 0 (EOI, EOI register, switch to edge):
	 * unmask the physical level pin. */
	struct vioapic_pinset remote_irr_cleared;
};

/* Return codes. */
#define VIOAPIC_OK 0
#define VIOAPIC_BAD_ACCESS (-1)  /* MMIO offset or size the IOAPIC does not
				  * decode: the read returned 0, the write did
				  * nothing */
#define VIOAPIC_NO_REGISTER (-2) /* IOWIN access while IOREGSEL names no
				  * register: read 0, write ignored */
#define VIOAPIC_BAD_PIN (-3)     /* pin >= the configured pin count */
#define VIOAPIC_BAD_CONFIG (-4)

/* ---- life cycle ---------------------------------------------------------------- */

/* Power-up state: every entry masked, edge, active high, vector 0,
 * destination 0 (the datasheet defines only the mask bit at reset); all lines
 * deasserted.  Fails on a config it cannot honour. */
int vioapic_init(struct vioapic *io, const struct vioapic_config *cfg);

/* A platform reset: the registers go back to the power-up state, the line
 * levels (inputs from outside) are kept.  Pins whose entry changed are
 * reported. */
void vioapic_reset(struct vioapic *io, struct vioapic_effects *fx);

/* ---- register access ------------------------------------------------------------ */

/* An access to offset (within the 4-KiB page) of size bytes.  Decoded:
 * 4-byte accesses to IOREGSEL, IOWIN and (version >= 0x20) the EOI register,
 * and 1-byte accesses to IOREGSEL (an 8-bit index on the PCH).  The EOI
 * register is write-only and reads 0. */
int vioapic_mmio_read(struct vioapic *io, u32 offset, u32 size, u32 *value);
int vioapic_mmio_write(struct vioapic *io, u32 offset, u32 size, u32 value,
		       struct vioapic_effects *fx);

/* The indirect registers, as IOWIN reaches them with IOREGSEL = reg. */
int vioapic_reg_read(const struct vioapic *io, u8 reg, u32 *value);
int vioapic_reg_write(struct vioapic *io, u8 reg, u32 value, struct vioapic_effects *fx);

/* ---- interrupts in ---------------------------------------------------------------- */

/* The logical level of a pin's input changed (or was restated: no change, no
 * effect). */
int vioapic_set_line(struct vioapic *io, unsigned pin, bool asserted,
		     struct vioapic_effects *fx);

/* Assert then deassert: one edge interrupt, or one level interrupt whose line
 * the model does not keep asserted (see "physically backed level pins"). */
int vioapic_pulse(struct vioapic *io, unsigned pin, struct vioapic_effects *fx);

/* The broadcast EOI of a local APIC for a level-triggered vector: clears
 * remote IRR on every pin with this vector; those still asserted and
 * unmasked deliver again.  A write to the EOI register does the same. */
void vioapic_eoi(struct vioapic *io, u8 vector, struct vioapic_effects *fx);

/* Hands out messages held back by VIOAPIC_FX_MORE (lowest pin first). */
void vioapic_flush(struct vioapic *io, struct vioapic_effects *fx);

/* ---- for the integrator -------------------------------------------------------- */

/* One redirection entry, decoded. */
struct vioapic_pin_state {
	u8 vector;
	u8 delivery;     /* enum vlapic_delivery */
	bool logical;    /* destination mode */
	bool active_low; /* polarity, only reported */
	bool level;      /* trigger mode bit as written */
	bool masked;
	bool remote_irr;
	bool held;       /* delivery status */
	bool asserted;   /* the logical input level */
	u8 dest;         /* RTE[63:56] */
};

int vioapic_pin_get(const struct vioapic *io, unsigned pin, struct vioapic_pin_state *st);

#endif
