/* unit-sources: kernel/vm/vioapic.c kernel/vm/vlapic_icr.c */
/* The virtual IOAPIC as pure logic: the MMIO window and the indirect
 * registers with their read-only and reserved bits (82093AA datasheet 3.1,
 * 3.2), edge and level delivery with masking (3.2.4 bits 15-16), remote IRR
 * and EOI by broadcast and by the version 0x20 EOI register, the effects the
 * integrator acts on, and what happens when they run out of room. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vm/vioapic.h"

/* Architectural values, spelled out here rather than taken from the code
 * under test. */
#define IOREGSEL 0x00
#define IOWIN 0x10
#define EOIR 0x40
#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_HI(pin) (0x10 + 2 * (pin) + 1)

#define DM(m) ((u32)(m) << 8)
#define LOGICAL (1u << 11)
#define DELIVS (1u << 12)
#define ACTIVE_LOW (1u << 13)
#define REMOTE_IRR (1u << 14)
#define LEVEL (1u << 15)
#define MASKED (1u << 16)
#define DEST(d) ((u32)(d) << 24) /* in the high half */

static struct vioapic IO;
static struct vioapic_effects FX;

static void mk(u8 version, u8 pins)
{
	struct vioapic_config c = { .id = 2, .version = version, .pins = pins };
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_OK);
	memset(&FX, 0, sizeof(FX));
}

static void setup(void)
{
	mk(0x20, 24);
}

static void fx_clear(void)
{
	memset(&FX, 0, sizeof(FX));
}

/* Through the MMIO window, as a guest would. */
static u32 rd(u8 reg)
{
	u32 v = 0xDEADBEEF;
	ck_assert_int_eq(vioapic_mmio_write(&IO, IOREGSEL, 4, reg, &FX), VIOAPIC_OK);
	ck_assert_int_eq(vioapic_mmio_read(&IO, IOWIN, 4, &v), VIOAPIC_OK);
	return v;
}

static void wr(u8 reg, u32 value)
{
	ck_assert_int_eq(vioapic_mmio_write(&IO, IOREGSEL, 4, reg, &FX), VIOAPIC_OK);
	ck_assert_int_eq(vioapic_mmio_write(&IO, IOWIN, 4, value, &FX), VIOAPIC_OK);
}

static void program(unsigned pin, u32 low, u8 dest)
{
	wr(RTE_HI(pin), DEST(dest));
	wr(RTE_LO(pin), low);
}

static void line(unsigned pin, bool asserted)
{
	ck_assert_int_eq(vioapic_set_line(&IO, pin, asserted, &FX), VIOAPIC_OK);
}

static bool changed(unsigned pin)
{
	return vioapic_pinset_has(&FX.rte_changed, pin);
}

static bool irr_cleared(unsigned pin)
{
	return vioapic_pinset_has(&FX.remote_irr_cleared, pin);
}

static struct vioapic_pin_state state(unsigned pin)
{
	struct vioapic_pin_state st;
	ck_assert_int_eq(vioapic_pin_get(&IO, pin, &st), VIOAPIC_OK);
	return st;
}

/* ---- configuration ---------------------------------------------------------------- */

START_TEST(test_config_limits)
{
	struct vioapic_config c = { .id = 0, .version = 0x11, .pins = 24 };
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_OK);
	c.pins = 0;
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_BAD_CONFIG);
	c.pins = 121; /* 0x10 + 2 * 121 no longer fits IOREGSEL */
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_BAD_CONFIG);
	c.pins = 120;
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_OK);
	c.id = 16;
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_BAD_CONFIG);
	c.id = 15;
	c.version = 0x10; /* the discrete 82489DX family is not modelled */
	ck_assert_int_eq(vioapic_init(&IO, &c), VIOAPIC_BAD_CONFIG);
	ck_assert_int_eq(vioapic_init(&IO, NULL), VIOAPIC_BAD_CONFIG);
}
END_TEST

START_TEST(test_reset_state)
{
	for (unsigned pin = 0; pin < 24; pin++) {
		ck_assert_uint_eq(rd(RTE_LO(pin)), MASKED);
		ck_assert_uint_eq(rd(RTE_HI(pin)), 0);
	}
	ck_assert_uint_eq(rd(REG_ID), 2u << 24);
	u32 sel = 0xDEADBEEF;
	vioapic_init(&IO, &(struct vioapic_config){ .id = 2, .version = 0x20, .pins = 24 });
	ck_assert_int_eq(vioapic_mmio_read(&IO, IOREGSEL, 4, &sel), VIOAPIC_OK);
	ck_assert_uint_eq(sel, 0);
}
END_TEST

/* ---- registers ---------------------------------------------------------------------- */

START_TEST(test_id_ver_arb)
{
	ck_assert_uint_eq(rd(REG_VER), 0x00170020u); /* 24 pins: max entry 0x17 */
	ck_assert_uint_eq(rd(REG_ARB), 2u << 24);

	/* Only ID[27:24] is writable; ARB follows the ID (3.2.3). */
	wr(REG_ID, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(REG_ID), 0x0F000000u);
	ck_assert_uint_eq(rd(REG_ARB), 0x0F000000u);
	wr(REG_ID, 0x05000000);
	ck_assert_uint_eq(rd(REG_ID), 0x05000000u);
	ck_assert_uint_eq(rd(REG_ARB), 0x05000000u);

	/* VER and ARB are read-only. */
	wr(REG_VER, 0xFFFFFFFF);
	wr(REG_ARB, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(REG_VER), 0x00170020u);
	ck_assert_uint_eq(rd(REG_ARB), 0x05000000u);

	mk(0x11, 120);
	ck_assert_uint_eq(rd(REG_VER), 0x00770011u);
}
END_TEST

START_TEST(test_ioregsel)
{
	u32 v;
	/* Bits 31:8 are reserved: only the index is kept. */
	ck_assert_int_eq(vioapic_mmio_write(&IO, IOREGSEL, 4, 0xABCD0112, &FX), VIOAPIC_OK);
	ck_assert_int_eq(vioapic_mmio_read(&IO, IOREGSEL, 4, &v), VIOAPIC_OK);
	ck_assert_uint_eq(v, 0x12);
	/* A byte access to the index works too. */
	ck_assert_int_eq(vioapic_mmio_write(&IO, IOREGSEL, 1, 0x01, &FX), VIOAPIC_OK);
	ck_assert_int_eq(vioapic_mmio_read(&IO, IOREGSEL, 1, &v), VIOAPIC_OK);
	ck_assert_uint_eq(v, 0x01);
	ck_assert_int_eq(vioapic_mmio_read(&IO, IOWIN, 4, &v), VIOAPIC_OK);
	ck_assert_uint_eq(v, 0x00170020u);
}
END_TEST

START_TEST(test_ioregsel_names_no_register)
{
	u8 none[] = { 0x03, 0x0F, RTE_LO(24), RTE_HI(24), 0x80, 0xFF };
	for (unsigned i = 0; i < sizeof(none); i++) {
		u32 v = 0xDEADBEEF;
		ck_assert_int_eq(vioapic_mmio_write(&IO, IOREGSEL, 4, none[i], &FX), VIOAPIC_OK);
		ck_assert_int_eq(vioapic_mmio_read(&IO, IOWIN, 4, &v), VIOAPIC_NO_REGISTER);
		ck_assert_uint_eq(v, 0);
		ck_assert_int_eq(vioapic_mmio_write(&IO, IOWIN, 4, 0xFFFFFFFF, &FX),
				 VIOAPIC_NO_REGISTER);
	}
	/* Nothing was written anywhere. */
	for (unsigned pin = 0; pin < 24; pin++)
		ck_assert_uint_eq(rd(RTE_LO(pin)), MASKED);
	ck_assert(vioapic_pinset_empty(&FX.rte_changed));

	/* With 120 pins the table reaches the top of the index space. */
	mk(0x20, 120);
	wr(RTE_HI(119), DEST(0xAB));
	ck_assert_uint_eq(rd(0xFF), DEST(0xAB));
	ck_assert_uint_eq(rd(0xFE), MASKED);
}
END_TEST

START_TEST(test_mmio_undecoded)
{
	struct { u32 offset, size; } bad[] = {
		{ 0x04, 4 }, { 0x08, 4 }, { 0x14, 4 }, { 0x20, 4 }, { 0x30, 4 },
		{ 0x44, 4 }, { 0xFFC, 4 }, { 0x1000, 4 }, { IOWIN, 1 }, { IOWIN, 2 },
		{ IOWIN, 8 }, { IOREGSEL, 2 }, { IOREGSEL, 8 }, { EOIR, 8 }, { 0x01, 1 },
	};
	wr(RTE_LO(0), 0x31);
	fx_clear();
	ck_assert_int_eq(vioapic_mmio_write(&IO, IOREGSEL, 4, RTE_LO(0), &FX), VIOAPIC_OK);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u32 v = 0xDEADBEEF;
		ck_assert_int_eq(vioapic_mmio_read(&IO, bad[i].offset, bad[i].size, &v),
				 VIOAPIC_BAD_ACCESS);
		ck_assert_uint_eq(v, 0);
		ck_assert_int_eq(vioapic_mmio_write(&IO, bad[i].offset, bad[i].size, 0x99, &FX),
				 VIOAPIC_BAD_ACCESS);
	}
	/* IOREGSEL and the entry are untouched. */
	ck_assert_uint_eq(rd(RTE_LO(0)), 0x31);
	ck_assert(vioapic_pinset_empty(&FX.rte_changed));
	ck_assert_uint_eq(FX.count, 0);
}
END_TEST

START_TEST(test_rte_readonly_and_reserved_bits)
{
	/* Low half: 12 (delivery status) and 14 (remote IRR) are read-only,
	 * 31:17 reserved. */
	wr(RTE_LO(3), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(RTE_LO(3)), 0x0001AFFFu);
	wr(RTE_LO(3), DELIVS | REMOTE_IRR | 0x40);
	ck_assert_uint_eq(rd(RTE_LO(3)), 0x40);

	/* High half on version 0x20: destination and the PCH's extended
	 * destination ID (55:48); 47:32 reserved. */
	wr(RTE_HI(3), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(RTE_HI(3)), 0xFFFF0000u);

	/* On the 82093AA everything below 63:56 is reserved. */
	mk(0x11, 24);
	wr(RTE_HI(3), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(RTE_HI(3)), 0xFF000000u);
	wr(RTE_LO(3), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(RTE_LO(3)), 0x0001AFFFu);
}
END_TEST

START_TEST(test_rte_halves_independent)
{
	wr(RTE_HI(5), DEST(0x7E));
	wr(RTE_LO(5), 0x45 | DM(VLAPIC_DM_LOWEST) | LOGICAL | ACTIVE_LOW | LEVEL | MASKED);
	ck_assert_uint_eq(rd(RTE_HI(5)), DEST(0x7E));
	wr(RTE_LO(5), 0x46);
	ck_assert_uint_eq(rd(RTE_HI(5)), DEST(0x7E));
	wr(RTE_HI(5), DEST(0x01));
	ck_assert_uint_eq(rd(RTE_LO(5)), 0x46);
	/* The neighbours saw nothing. */
	ck_assert_uint_eq(rd(RTE_LO(4)), MASKED);
	ck_assert_uint_eq(rd(RTE_HI(4)), 0);
	ck_assert_uint_eq(rd(RTE_LO(6)), MASKED);

	wr(RTE_LO(5), 0x45 | DM(VLAPIC_DM_LOWEST) | LOGICAL | ACTIVE_LOW | LEVEL | MASKED);
	struct vioapic_pin_state st = state(5);
	ck_assert_uint_eq(st.vector, 0x45);
	ck_assert_uint_eq(st.delivery, VLAPIC_DM_LOWEST);
	ck_assert(st.logical && st.active_low && st.level && st.masked);
	ck_assert(!st.remote_irr && !st.held && !st.asserted);
	ck_assert_uint_eq(st.dest, 0x01);
}
END_TEST

START_TEST(test_changed_pins)
{
	wr(RTE_LO(2), MASKED); /* the reset value again: no change */
	wr(RTE_HI(2), 0);
	ck_assert(vioapic_pinset_empty(&FX.rte_changed));

	wr(RTE_LO(2), MASKED | 0x30);
	ck_assert(changed(2));
	ck_assert(!changed(1) && !changed(3));
	fx_clear();
	wr(RTE_HI(7), DEST(3));
	ck_assert(changed(7));
	fx_clear();
	/* Bits the guest cannot write change nothing. */
	wr(RTE_LO(2), MASKED | 0x30 | DELIVS | REMOTE_IRR | 0x00FE0000);
	wr(RTE_HI(2), 0x0000FFFF);
	ck_assert(vioapic_pinset_empty(&FX.rte_changed));

	/* Remote IRR moving on its own is not an entry change. */
	program(9, 0x50 | LEVEL, 0);
	fx_clear();
	line(9, true);
	ck_assert_uint_eq(FX.count, 1);
	vioapic_eoi(&IO, 0x50, &FX);
	ck_assert(vioapic_pinset_empty(&FX.rte_changed));
	ck_assert(irr_cleared(9));

	/* A pin in the second word of the set. */
	mk(0x20, 120);
	wr(RTE_LO(100), 0x31);
	ck_assert(changed(100));
	ck_assert(!changed(36));
	ck_assert(FX.rte_changed.bits[0] == 0);
}
END_TEST

/* ---- delivery ---------------------------------------------------------------------- */

START_TEST(test_edge_delivery)
{
	program(4, 0x34, 0x03);
	fx_clear();
	line(4, true);
	ck_assert_uint_eq(FX.count, 1);
	struct vioapic_delivery *d = &FX.deliveries[0];
	ck_assert_uint_eq(d->pin, 4);
	ck_assert_uint_eq(d->msg.vector, 0x34);
	ck_assert_uint_eq(d->msg.delivery, VLAPIC_DM_FIXED);
	ck_assert_uint_eq(d->msg.shorthand, VLAPIC_SH_NONE);
	ck_assert(!d->msg.logical);
	ck_assert(!d->msg.level);
	ck_assert(d->msg.assert);
	ck_assert(!d->msg.x2apic);
	ck_assert_uint_eq(d->msg.dest, 0x03);

	/* Staying asserted, restating it, or falling delivers nothing. */
	line(4, true);
	line(4, false);
	line(4, false);
	ck_assert_uint_eq(FX.count, 1);
	/* No remote IRR for an edge entry, so no EOI bookkeeping. */
	ck_assert_uint_eq(rd(RTE_LO(4)), 0x34);
	vioapic_eoi(&IO, 0x34, &FX);
	ck_assert(vioapic_pinset_empty(&FX.remote_irr_cleared));
	ck_assert_uint_eq(FX.count, 1);

	/* Each pulse is one interrupt. */
	ck_assert_int_eq(vioapic_pulse(&IO, 4, &FX), VIOAPIC_OK);
	ck_assert_int_eq(vioapic_pulse(&IO, 4, &FX), VIOAPIC_OK);
	ck_assert_uint_eq(FX.count, 3);
	ck_assert(!state(4).asserted);
}
END_TEST

START_TEST(test_edge_masked_is_lost)
{
	program(4, 0x34 | MASKED, 0);
	fx_clear();
	vioapic_pulse(&IO, 4, &FX);
	line(4, true); /* a rising edge left standing while masked */
	ck_assert_uint_eq(FX.count, 0);
	wr(RTE_LO(4), 0x34);
	ck_assert_uint_eq(FX.count, 0); /* unmasking does not bring it back */
	line(4, false);
	line(4, true);
	ck_assert_uint_eq(FX.count, 1);
}
END_TEST

START_TEST(test_level_delivery_and_eoi)
{
	program(10, 0x61 | LEVEL | LOGICAL, 0x0C);
	fx_clear();
	line(10, true);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].pin, 10);
	ck_assert_uint_eq(FX.deliveries[0].msg.vector, 0x61);
	ck_assert(FX.deliveries[0].msg.level);
	ck_assert(FX.deliveries[0].msg.logical);
	ck_assert_uint_eq(FX.deliveries[0].msg.dest, 0x0C);
	ck_assert_uint_eq(rd(RTE_LO(10)), 0x61 | LEVEL | LOGICAL | REMOTE_IRR);

	/* Remote IRR blocks the line, whatever it does meanwhile. */
	line(10, false);
	line(10, true);
	ck_assert_uint_eq(FX.count, 1);

	/* Another vector's EOI does nothing. */
	vioapic_eoi(&IO, 0x62, &FX);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(state(10).remote_irr);
	ck_assert(vioapic_pinset_empty(&FX.remote_irr_cleared));

	/* The EOI clears remote IRR; the line is still asserted: again. */
	vioapic_eoi(&IO, 0x61, &FX);
	ck_assert(irr_cleared(10));
	ck_assert_uint_eq(FX.count, 2);
	ck_assert_uint_eq(FX.deliveries[1].msg.vector, 0x61);
	ck_assert(state(10).remote_irr);

	/* Deasserted before the EOI: cleared and quiet. */
	fx_clear();
	line(10, false);
	vioapic_eoi(&IO, 0x61, &FX);
	ck_assert(irr_cleared(10));
	ck_assert_uint_eq(FX.count, 0);
	ck_assert(!state(10).remote_irr);
	ck_assert_uint_eq(rd(RTE_LO(10)), 0x61 | LEVEL | LOGICAL);

	/* A second EOI finds nothing to clear. */
	fx_clear();
	vioapic_eoi(&IO, 0x61, &FX);
	ck_assert(vioapic_pinset_empty(&FX.remote_irr_cleared));
}
END_TEST

START_TEST(test_level_pulse)
{
	/* The pattern for a physical level pin: one pulse per host interrupt,
	 * and an EOI does not re-deliver by itself. */
	program(16, 0x71 | LEVEL, 0);
	fx_clear();
	ck_assert_int_eq(vioapic_pulse(&IO, 16, &FX), VIOAPIC_OK);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(state(16).remote_irr);
	ck_assert(!state(16).asserted);
	vioapic_eoi(&IO, 0x71, &FX);
	ck_assert(irr_cleared(16));
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_int_eq(vioapic_pulse(&IO, 16, &FX), VIOAPIC_OK);
	ck_assert_uint_eq(FX.count, 2);
}
END_TEST

START_TEST(test_level_masked_then_unmasked)
{
	program(11, 0x62 | LEVEL | MASKED, 0);
	fx_clear();
	line(11, true);
	ck_assert_uint_eq(FX.count, 0);
	ck_assert(!state(11).remote_irr);
	wr(RTE_LO(11), 0x62 | LEVEL);
	ck_assert(changed(11));
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(state(11).remote_irr);

	/* Masked while in service: the EOI clears remote IRR but the pin is
	 * quiet until unmasked. */
	fx_clear();
	wr(RTE_LO(11), 0x62 | LEVEL | MASKED);
	vioapic_eoi(&IO, 0x62, &FX);
	ck_assert(irr_cleared(11));
	ck_assert_uint_eq(FX.count, 0);
	wr(RTE_LO(11), 0x62 | LEVEL);
	ck_assert_uint_eq(FX.count, 1);

	/* Asserted and deasserted while masked: nothing on unmask. */
	program(12, 0x63 | LEVEL | MASKED, 0);
	fx_clear();
	line(12, true);
	line(12, false);
	wr(RTE_LO(12), 0x63 | LEVEL);
	ck_assert_uint_eq(FX.count, 0);
}
END_TEST

START_TEST(test_eoi_shared_vector)
{
	/* Two level pins on one vector: one EOI serves both. */
	program(1, 0x80 | LEVEL, 0);
	program(2, 0x80 | LEVEL, 1);
	program(3, 0x81 | LEVEL, 0);
	fx_clear();
	line(1, true);
	line(2, true);
	line(3, true);
	ck_assert_uint_eq(FX.count, 3);
	fx_clear();
	line(2, false);
	vioapic_eoi(&IO, 0x80, &FX);
	ck_assert(irr_cleared(1) && irr_cleared(2) && !irr_cleared(3));
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].pin, 1);
	ck_assert(state(3).remote_irr);
}
END_TEST

START_TEST(test_eoi_register_v20)
{
	program(10, 0x61 | LEVEL, 0);
	fx_clear();
	line(10, true);
	ck_assert(state(10).remote_irr);
	line(10, false);
	/* Bits 7:0 carry the vector; the rest is ignored. */
	ck_assert_int_eq(vioapic_mmio_write(&IO, EOIR, 4, 0xFFFFFF62, &FX), VIOAPIC_OK);
	ck_assert(state(10).remote_irr);
	ck_assert_int_eq(vioapic_mmio_write(&IO, EOIR, 4, 0xFFFFFF61, &FX), VIOAPIC_OK);
	ck_assert(!state(10).remote_irr);
	ck_assert(irr_cleared(10));
	u32 v = 0xDEADBEEF;
	ck_assert_int_eq(vioapic_mmio_read(&IO, EOIR, 4, &v), VIOAPIC_OK);
	ck_assert_uint_eq(v, 0);

	/* Still asserted: the EOI register re-delivers like a broadcast EOI. */
	fx_clear();
	line(10, true);
	vioapic_mmio_write(&IO, EOIR, 4, 0x61, &FX);
	ck_assert_uint_eq(FX.count, 2);
}
END_TEST

START_TEST(test_eoi_register_absent_v11)
{
	mk(0x11, 24);
	program(10, 0x61 | LEVEL, 0);
	fx_clear();
	line(10, true);
	line(10, false);
	u32 v = 0xDEADBEEF;
	ck_assert_int_eq(vioapic_mmio_write(&IO, EOIR, 4, 0x61, &FX), VIOAPIC_BAD_ACCESS);
	ck_assert_int_eq(vioapic_mmio_read(&IO, EOIR, 4, &v), VIOAPIC_BAD_ACCESS);
	ck_assert_uint_eq(v, 0);
	ck_assert(state(10).remote_irr);
	ck_assert(vioapic_pinset_empty(&FX.remote_irr_cleared));
	/* The broadcast EOI still works. */
	vioapic_eoi(&IO, 0x61, &FX);
	ck_assert(!state(10).remote_irr);
}
END_TEST

START_TEST(test_edge_switch_clears_remote_irr)
{
	/* Linux's EOI on a version 0x11 IOAPIC: mask, make edge, restore. */
	mk(0x11, 24);
	program(10, 0x61 | LEVEL, 0);
	fx_clear();
	line(10, true);
	ck_assert(state(10).remote_irr);
	fx_clear();
	wr(RTE_LO(10), 0x61 | MASKED);
	ck_assert(irr_cleared(10));
	ck_assert(changed(10));
	ck_assert_uint_eq(rd(RTE_LO(10)), 0x61 | MASKED);
	wr(RTE_LO(10), 0x61 | LEVEL);
	/* Still asserted, so the restored level entry fires again. */
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(FX.deliveries[0].msg.level);
	ck_assert(state(10).remote_irr);

	/* Rewriting a level entry as level keeps remote IRR. */
	fx_clear();
	wr(RTE_LO(10), 0x61 | LEVEL | MASKED);
	ck_assert(state(10).remote_irr);
	ck_assert(!irr_cleared(10));
}
END_TEST

START_TEST(test_edge_to_level_while_asserted)
{
	program(6, 0x44, 0);
	fx_clear();
	line(6, true);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(!state(6).remote_irr);
	/* Made level with the line high: the level rules see it asserted. */
	wr(RTE_LO(6), 0x44 | LEVEL);
	ck_assert_uint_eq(FX.count, 2);
	ck_assert(FX.deliveries[1].msg.level);
	ck_assert(state(6).remote_irr);
}
END_TEST

START_TEST(test_polarity_only_reported)
{
	program(4, 0x34 | ACTIVE_LOW, 0);
	fx_clear();
	line(4, true);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(state(4).active_low);
	ck_assert(state(4).asserted);
	/* Flipping the polarity is an entry change, not a line change. */
	fx_clear();
	wr(RTE_LO(4), 0x34);
	ck_assert(changed(4));
	ck_assert_uint_eq(FX.count, 0);
	ck_assert(state(4).asserted);
}
END_TEST

START_TEST(test_edge_only_delivery_modes)
{
	/* NMI programmed level: treated as edge, no remote IRR, message edge. */
	program(2, 0x00 | DM(VLAPIC_DM_NMI) | LEVEL, 0xFF);
	fx_clear();
	line(2, true);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].msg.delivery, VLAPIC_DM_NMI);
	ck_assert(!FX.deliveries[0].msg.level);
	ck_assert_uint_eq(FX.deliveries[0].msg.dest, 0xFF);
	ck_assert(!state(2).remote_irr);
	vioapic_eoi(&IO, 0x00, &FX);
	ck_assert_uint_eq(FX.count, 1); /* held high: no repeat */
	line(2, false);
	line(2, true);
	ck_assert_uint_eq(FX.count, 2);

	/* INIT programmed level must not look like an INIT de-assert. */
	program(3, DM(VLAPIC_DM_INIT) | LEVEL, 1);
	fx_clear();
	vioapic_pulse(&IO, 3, &FX);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(!vlapic_ipi_is_init_deassert(&FX.deliveries[0].msg));

	/* ExtINT and SMI go out with their mode. */
	program(0, DM(VLAPIC_DM_EXTINT), 0);
	program(1, DM(VLAPIC_DM_SMI), 0);
	fx_clear();
	vioapic_pulse(&IO, 0, &FX);
	vioapic_pulse(&IO, 1, &FX);
	ck_assert_uint_eq(FX.count, 2);
	ck_assert_uint_eq(FX.deliveries[0].msg.delivery, VLAPIC_DM_EXTINT);
	ck_assert_uint_eq(FX.deliveries[1].msg.delivery, VLAPIC_DM_SMI);
}
END_TEST

START_TEST(test_reserved_delivery_modes)
{
	program(5, 0x40 | DM(3), 0);
	program(6, 0x41 | DM(6) | LEVEL, 0);
	fx_clear();
	vioapic_pulse(&IO, 5, &FX);
	ck_assert_uint_eq(FX.count, 0);
	ck_assert(FX.flags & VIOAPIC_FX_RESERVED_DM);
	fx_clear();
	line(6, true);
	ck_assert_uint_eq(FX.count, 0);
	ck_assert(FX.flags & VIOAPIC_FX_RESERVED_DM);
	ck_assert(!state(6).remote_irr);
	/* Fixing the entry lets the still-asserted level line through. */
	fx_clear();
	wr(RTE_LO(6), 0x41 | LEVEL);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert(!(FX.flags & VIOAPIC_FX_RESERVED_DM));
}
END_TEST

START_TEST(test_message_routes_to_lapic)
{
	/* The message is ready for vlapic_dest_match: logical flat dest 0x0C
	 * reaches logical IDs 0x04 and 0x08, not 0x01. */
	program(9, 0x51 | DM(VLAPIC_DM_LOWEST) | LOGICAL, 0x0C);
	fx_clear();
	vioapic_pulse(&IO, 9, &FX);
	ck_assert_uint_eq(FX.count, 1);
	struct vlapic_dest_regs t = { .x2apic = false, .id = 0, .dfr = 0xFFFFFFFF };
	t.ldr = 0x04u << 24;
	ck_assert(vlapic_dest_match(&t, &FX.deliveries[0].msg, false));
	t.ldr = 0x08u << 24;
	ck_assert(vlapic_dest_match(&t, &FX.deliveries[0].msg, false));
	t.ldr = 0x01u << 24;
	ck_assert(!vlapic_dest_match(&t, &FX.deliveries[0].msg, false));
}
END_TEST

/* ---- out of range -------------------------------------------------------------------- */

START_TEST(test_out_of_range_pins)
{
	struct vioapic_pin_state st;
	ck_assert_int_eq(vioapic_set_line(&IO, 24, true, &FX), VIOAPIC_BAD_PIN);
	ck_assert_int_eq(vioapic_set_line(&IO, 1000, true, &FX), VIOAPIC_BAD_PIN);
	ck_assert_int_eq(vioapic_pulse(&IO, 24, &FX), VIOAPIC_BAD_PIN);
	ck_assert_int_eq(vioapic_pin_get(&IO, 24, &st), VIOAPIC_BAD_PIN);
	ck_assert_int_eq(vioapic_pin_get(&IO, 23, &st), VIOAPIC_OK);
	ck_assert_uint_eq(FX.count, 0);
	ck_assert(vioapic_pinset_empty(&FX.rte_changed));
	ck_assert(!vioapic_pinset_has(&FX.rte_changed, 500));

	/* Pins beyond a small table are not there even in the 120-pin space. */
	mk(0x20, 4);
	ck_assert_int_eq(vioapic_set_line(&IO, 4, true, &FX), VIOAPIC_BAD_PIN);
	ck_assert_uint_eq(rd(REG_VER), 0x00030020u);
	u32 v;
	vioapic_mmio_write(&IO, IOREGSEL, 4, RTE_LO(4), &FX);
	ck_assert_int_eq(vioapic_mmio_read(&IO, IOWIN, 4, &v), VIOAPIC_NO_REGISTER);

	/* The last pin of the largest table works, in the second set word. */
	mk(0x20, 120);
	program(119, 0xEE, 0x02);
	fx_clear();
	vioapic_pulse(&IO, 119, &FX);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].pin, 119);
	ck_assert_int_eq(vioapic_set_line(&IO, 120, true, &FX), VIOAPIC_BAD_PIN);
}
END_TEST

/* ---- effects capacity ---------------------------------------------------------------- */

/* Pins 0..n-1, level, one vector, all asserted and in service. */
static void many_level_pins_in_service(unsigned n, u8 vector)
{
	for (unsigned pin = 0; pin < n; pin++) {
		program(pin, vector | LEVEL, (u8)pin);
		fx_clear();
		line(pin, true);
		ck_assert_uint_eq(FX.count, 1);
	}
	fx_clear();
}

START_TEST(test_eoi_overflow_held_then_flushed)
{
	ck_assert_uint_eq(VIOAPIC_FX_MAX_DELIVERIES, 8);
	many_level_pins_in_service(11, 0x90);

	vioapic_eoi(&IO, 0x90, &FX);
	ck_assert_uint_eq(FX.count, 8);
	ck_assert(FX.flags & VIOAPIC_FX_MORE);
	for (unsigned pin = 0; pin < 11; pin++)
		ck_assert(irr_cleared(pin));
	for (unsigned i = 0; i < 8; i++)
		ck_assert_uint_eq(FX.deliveries[i].pin, i);
	/* The rest wait with delivery status set and no remote IRR. */
	for (unsigned pin = 8; pin < 11; pin++) {
		ck_assert_uint_eq(rd(RTE_LO(pin)), 0x90 | LEVEL | DELIVS);
		ck_assert(state(pin).held);
	}
	ck_assert(state(7).remote_irr && !state(7).held);

	fx_clear();
	vioapic_flush(&IO, &FX);
	ck_assert_uint_eq(FX.count, 3);
	ck_assert(!(FX.flags & VIOAPIC_FX_MORE));
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(FX.deliveries[i].pin, 8 + i);
		ck_assert_uint_eq(FX.deliveries[i].msg.dest, 8 + i);
	}
	for (unsigned pin = 0; pin < 11; pin++) {
		ck_assert(state(pin).remote_irr);
		ck_assert(!state(pin).held);
	}
	/* Nothing left. */
	fx_clear();
	vioapic_flush(&IO, &FX);
	ck_assert_uint_eq(FX.count, 0);
}
END_TEST

START_TEST(test_overflow_over_several_flushes)
{
	many_level_pins_in_service(20, 0x90);
	vioapic_eoi(&IO, 0x90, &FX);
	unsigned total = FX.count, rounds = 0;
	while (FX.flags & VIOAPIC_FX_MORE) {
		fx_clear();
		vioapic_flush(&IO, &FX);
		total += FX.count;
		ck_assert_uint_le(++rounds, 3);
	}
	ck_assert_uint_eq(total, 20);
	ck_assert_uint_eq(rounds, 2);
}
END_TEST

START_TEST(test_held_level_withdrawn)
{
	many_level_pins_in_service(10, 0x90);
	vioapic_eoi(&IO, 0x90, &FX);
	ck_assert(state(9).held);
	/* The device withdraws before there is room: nothing is sent. */
	fx_clear();
	line(9, false);
	ck_assert(!state(9).held);
	ck_assert_uint_eq(rd(RTE_LO(9)), 0x90 | LEVEL);
	vioapic_flush(&IO, &FX);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].pin, 8);
}
END_TEST

START_TEST(test_held_edge)
{
	/* Effects left to fill across calls: the ninth edge is held. */
	for (unsigned pin = 0; pin < 9; pin++)
		program(pin, 0x20 + pin, 0);
	fx_clear();
	for (unsigned pin = 0; pin < 9; pin++)
		vioapic_pulse(&IO, pin, &FX);
	ck_assert_uint_eq(FX.count, 8);
	ck_assert(FX.flags & VIOAPIC_FX_MORE);
	ck_assert_uint_eq(rd(RTE_LO(8)), 0x28 | DELIVS);
	/* Another edge while held coalesces with it. */
	vioapic_pulse(&IO, 8, &FX);
	fx_clear();
	vioapic_flush(&IO, &FX);
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].msg.vector, 0x28);
	ck_assert_uint_eq(rd(RTE_LO(8)), 0x28);

	/* A held edge masked before the flush is lost, like a masked edge. */
	fx_clear();
	FX.count = VIOAPIC_FX_MAX_DELIVERIES;
	vioapic_pulse(&IO, 8, &FX);
	ck_assert(state(8).held);
	fx_clear();
	wr(RTE_LO(8), 0x28 | MASKED);
	ck_assert(!state(8).held);
	wr(RTE_LO(8), 0x28);
	vioapic_flush(&IO, &FX);
	ck_assert_uint_eq(FX.count, 0);
}
END_TEST

START_TEST(test_held_sees_new_entry)
{
	program(8, 0x28, 1);
	fx_clear();
	FX.count = VIOAPIC_FX_MAX_DELIVERIES;
	vioapic_pulse(&IO, 8, &FX);
	fx_clear();
	wr(RTE_HI(8), DEST(2));
	ck_assert_uint_eq(FX.count, 0);
	wr(RTE_LO(8), 0x29);
	/* The low-half write has room now and sends the held message. */
	ck_assert_uint_eq(FX.count, 1);
	ck_assert_uint_eq(FX.deliveries[0].msg.vector, 0x29);
	ck_assert_uint_eq(FX.deliveries[0].msg.dest, 2);
}
END_TEST

/* ---- reset ---------------------------------------------------------------------------- */

START_TEST(test_reset_keeps_lines)
{
	program(3, 0x33 | LEVEL, 1);
	program(4, 0x34, 0);
	fx_clear();
	line(3, true);
	line(4, true);
	wr(REG_ID, 0x09000000);
	fx_clear();
	vioapic_reset(&IO, &FX);
	ck_assert(changed(3) && changed(4) && !changed(5));
	ck_assert(irr_cleared(3));
	ck_assert_uint_eq(FX.count, 0);
	ck_assert_uint_eq(rd(RTE_LO(3)), MASKED);
	ck_assert_uint_eq(rd(RTE_HI(3)), 0);
	ck_assert_uint_eq(rd(REG_ID), 2u << 24);
	ck_assert(state(3).asserted && state(4).asserted);
	/* The still-asserted level line delivers once programmed again. */
	fx_clear();
	program(3, 0x33 | LEVEL, 1);
	ck_assert_uint_eq(FX.count, 1);
}
END_TEST

static Suite *vioapic_suite(void)
{
	Suite *s = suite_create("vioapic");
	TCase *tc = tcase_create("registers");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_config_limits);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_id_ver_arb);
	tcase_add_test(tc, test_ioregsel);
	tcase_add_test(tc, test_ioregsel_names_no_register);
	tcase_add_test(tc, test_mmio_undecoded);
	tcase_add_test(tc, test_rte_readonly_and_reserved_bits);
	tcase_add_test(tc, test_rte_halves_independent);
	tcase_add_test(tc, test_changed_pins);
	tcase_add_test(tc, test_reset_keeps_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("delivery");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_edge_delivery);
	tcase_add_test(tc, test_edge_masked_is_lost);
	tcase_add_test(tc, test_level_delivery_and_eoi);
	tcase_add_test(tc, test_level_pulse);
	tcase_add_test(tc, test_level_masked_then_unmasked);
	tcase_add_test(tc, test_eoi_shared_vector);
	tcase_add_test(tc, test_eoi_register_v20);
	tcase_add_test(tc, test_eoi_register_absent_v11);
	tcase_add_test(tc, test_edge_switch_clears_remote_irr);
	tcase_add_test(tc, test_edge_to_level_while_asserted);
	tcase_add_test(tc, test_polarity_only_reported);
	tcase_add_test(tc, test_edge_only_delivery_modes);
	tcase_add_test(tc, test_reserved_delivery_modes);
	tcase_add_test(tc, test_message_routes_to_lapic);
	tcase_add_test(tc, test_out_of_range_pins);
	suite_add_tcase(s, tc);

	tc = tcase_create("capacity");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_eoi_overflow_held_then_flushed);
	tcase_add_test(tc, test_overflow_over_several_flushes);
	tcase_add_test(tc, test_held_level_withdrawn);
	tcase_add_test(tc, test_held_edge);
	tcase_add_test(tc, test_held_sees_new_entry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vioapic_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
