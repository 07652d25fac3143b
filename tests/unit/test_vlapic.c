/* unit-sources: kernel/vm/vlapic.c kernel/vm/vlapic_icr.c tests/unit/fake_printk.c */
/* The virtual local APIC as pure logic: priority rules (Intel SDM Vol. 3A
 * 11.8.3), IRR/ISR/TMR bookkeeping through accept/ack/EOI (11.8.4, 11.8.5),
 * ICR decoding and destination matching in both modes (11.6, 11.12.9-10),
 * the ESR (11.5.3), the LVT and the timer in its three modes (11.5.1,
 * 11.5.4), the register and MSR access rules (Table 11-1, 11.12.1) and the
 * IA32_APIC_BASE state machine (11.12.5). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vm/vlapic.h"
#include "tests/unit/fake_printk.h"

/* Architectural values, spelled out here rather than taken from the code
 * under test. */
#define R_ID 0x020
#define R_VER 0x030
#define R_TPR 0x080
#define R_APR 0x090
#define R_PPR 0x0A0
#define R_EOI 0x0B0
#define R_LDR 0x0D0
#define R_DFR 0x0E0
#define R_SVR 0x0F0
#define R_ISR 0x100
#define R_TMR 0x180
#define R_IRR 0x200
#define R_ESR 0x280
#define R_CMCI 0x2F0
#define R_ICRLO 0x300
#define R_ICRHI 0x310
#define R_TIMER 0x320
#define R_THERMAL 0x330
#define R_PERF 0x340
#define R_LINT0 0x350
#define R_LINT1 0x360
#define R_ERROR 0x370
#define R_TMICT 0x380
#define R_TMCCT 0x390
#define R_TDCR 0x3E0

#define MSR_BASE 0x1B
#define MSR_DEADLINE 0x6E0
#define X2(off) (0x800u + ((off) >> 4))
#define MSR_SELF_IPI 0x83F

#define BASE_BSP (1ULL << 8)
#define BASE_EXTD (1ULL << 10)
#define BASE_EN (1ULL << 11)
#define XAPIC_ON (0xFEE00000ULL | BASE_EN)
#define X2APIC_ON (0xFEE00000ULL | BASE_EN | BASE_EXTD)

#define MASKED (1u << 16)
#define PERIODIC (1u << 17)
#define DEADLINE (2u << 17)
#define LEVEL (1u << 15)
#define REMOTE_IRR (1u << 14)

#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)

/* ICR low fields. */
#define DM(m) ((u32)(m) << 8)
#define LOGICAL (1u << 11)
#define ASSERT (1u << 14)
#define TRIG_LEVEL (1u << 15)
#define SH(s) ((u32)(s) << 18)

static struct vlapic A, B;

/* 10 TSC ticks per bus-clock tick unless a test says otherwise. */
static struct vlapic_config cfg_of(u32 id)
{
	struct vlapic_config c = {
		.apic_id = id,
		.bsp = id == 0,
		.x2apic = true,
		.tsc_deadline = true,
		.eoi_suppression = true,
		.cmci = true,
		.tsc_per_bus_num = 10,
		.tsc_per_bus_den = 1,
	};
	return c;
}

static void mk(struct vlapic *a, u32 id)
{
	struct vlapic_config c = cfg_of(id);
	ck_assert_int_eq(vlapic_init(a, &c), VLAPIC_OK);
}

static u32 rd(struct vlapic *a, u32 off)
{
	u32 v = 0xDEADBEEF;
	ck_assert_int_eq(vlapic_mmio_read(a, off, 0, &v, NULL), VLAPIC_OK);
	return v;
}

static u32 rd_at(struct vlapic *a, u32 off, u64 now)
{
	u32 v = 0xDEADBEEF;
	ck_assert_int_eq(vlapic_mmio_read(a, off, now, &v, NULL), VLAPIC_OK);
	return v;
}

static struct vlapic_effects wr_at(struct vlapic *a, u32 off, u32 val, u64 now)
{
	struct vlapic_effects fx = { 0 };
	ck_assert_int_eq(vlapic_mmio_write(a, off, val, now, &fx), VLAPIC_OK);
	return fx;
}

static struct vlapic_effects wr(struct vlapic *a, u32 off, u32 val)
{
	return wr_at(a, off, val, 0);
}

static u64 mrd(struct vlapic *a, u32 msr)
{
	u64 v = 0xDEADBEEF;
	ck_assert_int_eq(vlapic_msr_read(a, msr, 0, &v, NULL), VLAPIC_OK);
	return v;
}

static struct vlapic_effects mwr_at(struct vlapic *a, u32 msr, u64 val, u64 now)
{
	struct vlapic_effects fx = { 0 };
	ck_assert_int_eq(vlapic_msr_write(a, msr, val, now, &fx), VLAPIC_OK);
	return fx;
}

static struct vlapic_effects mwr(struct vlapic *a, u32 msr, u64 val)
{
	return mwr_at(a, msr, val, 0);
}

static int mwr_rc(struct vlapic *a, u32 msr, u64 val)
{
	return vlapic_msr_write(a, msr, val, 0, NULL);
}

static int mrd_rc(struct vlapic *a, u32 msr)
{
	u64 v;
	return vlapic_msr_read(a, msr, 0, &v, NULL);
}

static void enable(struct vlapic *a)
{
	wr(a, R_SVR, 0x1FF);
}

static void to_x2apic(struct vlapic *a)
{
	mwr(a, MSR_BASE, X2APIC_ON | (a->apic_base & BASE_BSP));
}

static bool irr_has(struct vlapic *a, u8 v)
{
	return (rd(a, R_IRR + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool isr_has(struct vlapic *a, u8 v)
{
	return (rd(a, R_ISR + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static bool tmr_has(struct vlapic *a, u8 v)
{
	return (rd(a, R_TMR + (v / 32) * 0x10) >> (v % 32)) & 1;
}

static u32 esr_latch(struct vlapic *a)
{
	wr(a, R_ESR, 0);
	return rd(a, R_ESR);
}

static u8 ack(struct vlapic *a)
{
	u8 v = 0;
	ck_assert(vlapic_ack(a, &v));
	return v;
}

static void setup(void)
{
	fake_printk_reset();
	mk(&A, 0);
	mk(&B, 1);
}

/* ---- reset state and priorities ------------------------------------------- */

START_TEST(test_reset_state)
{
	/* 11.4.7.1 / 11.12.5.1: xAPIC mode at the default base, BSP flag. */
	ck_assert_uint_eq(mrd(&A, MSR_BASE), XAPIC_ON | BASE_BSP);
	ck_assert_uint_eq(mrd(&B, MSR_BASE), XAPIC_ON);
	ck_assert_int_eq(vlapic_mode(&A), VLAPIC_MODE_XAPIC);
	ck_assert_uint_eq(vlapic_mmio_base(&A), 0xFEE00000ULL);
	ck_assert_uint_eq(rd(&B, R_ID), 1u << 24);
	/* Version 0x14, 7 LVT entries (max 6), EOI-broadcast suppression. */
	ck_assert_uint_eq(rd(&A, R_VER), 0x14u | (6u << 16) | (1u << 24));
	ck_assert_uint_eq(rd(&A, R_SVR), 0xFF);
	ck_assert_uint_eq(rd(&A, R_DFR), 0xFFFFFFFFu);
	ck_assert_uint_eq(rd(&A, R_LDR), 0);
	ck_assert_uint_eq(rd(&A, R_TPR), 0);
	static const u32 lvts[] = { R_CMCI, R_TIMER, R_THERMAL, R_PERF, R_LINT0, R_LINT1, R_ERROR };
	for (unsigned i = 0; i < ARRAY_SIZE(lvts); i++)
		ck_assert_uint_eq(rd(&A, lvts[i]), MASKED);
	for (u32 i = 0; i < 8; i++) {
		ck_assert_uint_eq(rd(&A, R_IRR + i * 0x10), 0);
		ck_assert_uint_eq(rd(&A, R_ISR + i * 0x10), 0);
		ck_assert_uint_eq(rd(&A, R_TMR + i * 0x10), 0);
	}
	u64 d;
	ck_assert(!vlapic_timer_deadline(&A, &d));
}
END_TEST

START_TEST(test_config_checked)
{
	struct vlapic_config c = cfg_of(0);
	c.tsc_per_bus_num = 0;
	ck_assert_int_eq(vlapic_init(&A, &c), VLAPIC_BAD_CONFIG);
	c = cfg_of(0);
	c.tsc_per_bus_den = (1u << 24) + 1;
	ck_assert_int_eq(vlapic_init(&A, &c), VLAPIC_BAD_CONFIG);
	c = cfg_of(0);
	c.maxphyaddr = 60;
	ck_assert_int_eq(vlapic_init(&A, &c), VLAPIC_BAD_CONFIG);
	c = cfg_of(0);
	c.version = 0x15;
	c.cmci = false;
	c.eoi_suppression = false;
	ck_assert_int_eq(vlapic_init(&A, &c), VLAPIC_OK);
	ck_assert_uint_eq(rd(&A, R_VER), 0x15u | (5u << 16));
}
END_TEST

START_TEST(test_ppr_rules)
{
	/* 11.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0. */
	static const struct {
		u8 tpr;
		int isr; /* -1: ISR empty */
		u8 ppr;
	} cases[] = {
		{ 0x00, -1, 0x00 }, { 0x25, -1, 0x25 }, { 0x25, 0x31, 0x30 },
		{ 0x35, 0x31, 0x35 }, { 0x30, 0x3F, 0x30 }, { 0x4F, 0x80, 0x80 },
		{ 0xFF, 0xFE, 0xFF }, { 0x00, 0x10, 0x10 },
	};
	enable(&A);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		mk(&A, 0);
		enable(&A);
		if (cases[i].isr >= 0) {
			ck_assert(vlapic_accept_interrupt(&A, (u8)cases[i].isr, false, NULL));
			ck_assert_uint_eq(ack(&A), (u8)cases[i].isr);
		}
		wr(&A, R_TPR, cases[i].tpr);
		ck_assert_msg(vlapic_ppr(&A) == cases[i].ppr, "case %u: ppr %02x", i, vlapic_ppr(&A));
		ck_assert_uint_eq(rd(&A, R_PPR), cases[i].ppr);
	}
}
END_TEST

START_TEST(test_tpr_masks_classes)
{
	enable(&A);
	struct vlapic_effects fx = { 0 };
	ck_assert(vlapic_accept_interrupt(&A, 0x45, false, &fx));
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x45);
	/* Same class as TPR: blocked (strictly greater is required). */
	fx = wr(&A, R_TPR, 0x40);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	ck_assert_int_eq(vlapic_highest_irr(&A), 0x45);
	wr(&A, R_TPR, 0x3F);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x45);
	wr(&A, R_TPR, 0x50);
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	/* CR8 is TPR[7:4] (11.8.6). */
	ck_assert_uint_eq(vlapic_cr8_read(&A), 5);
	ck_assert_int_eq(vlapic_cr8_write(&A, 3, NULL), VLAPIC_OK);
	ck_assert_uint_eq(rd(&A, R_TPR), 0x30);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x45);
	ck_assert_int_eq(vlapic_cr8_write(&A, 0x10, NULL), VLAPIC_GP);
	ck_assert_uint_eq(rd(&A, R_TPR), 0x30);
	/* Only TPR bits 7:0 exist. */
	wr(&A, R_TPR, 0xFFFFFF12);
	ck_assert_uint_eq(rd(&A, R_TPR), 0x12);
}
END_TEST

START_TEST(test_isr_blocks_lower_classes)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x60, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x60);
	ck_assert(isr_has(&A, 0x60));
	ck_assert(!irr_has(&A, 0x60));
	/* Same class and lower classes wait behind the one in service. */
	vlapic_accept_interrupt(&A, 0x65, false, NULL);
	vlapic_accept_interrupt(&A, 0x55, false, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	ck_assert_uint_eq(vlapic_ppr(&A), 0x60);
	/* A higher class nests. */
	vlapic_accept_interrupt(&A, 0x71, false, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x71);
	ck_assert_uint_eq(ack(&A), 0x71);
	ck_assert(isr_has(&A, 0x60) && isr_has(&A, 0x71));
	ck_assert_uint_eq(vlapic_ppr(&A), 0x70);
	/* EOI retires the highest in service first. */
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert(fx.flags & VLAPIC_FX_EOI);
	ck_assert_uint_eq(fx.eoi_vector, 0x71);
	ck_assert(!isr_has(&A, 0x71) && isr_has(&A, 0x60));
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	fx = wr(&A, R_EOI, 0);
	ck_assert_uint_eq(fx.eoi_vector, 0x60);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x65);
	ck_assert_uint_eq(ack(&A), 0x65);
	/* 0x55 is a lower class than 0x65 in service. */
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	vlapic_eoi(&A, NULL);
	ck_assert_uint_eq(ack(&A), 0x55);
	vlapic_eoi(&A, NULL);
	for (u32 i = 0; i < 8; i++) {
		ck_assert_uint_eq(rd(&A, R_ISR + i * 0x10), 0);
		ck_assert_uint_eq(rd(&A, R_IRR + i * 0x10), 0);
	}
}
END_TEST

START_TEST(test_irr_collapses)
{
	enable(&A);
	/* 11.8.4: at most one in IRR and one in ISR per vector. */
	vlapic_accept_interrupt(&A, 0x80, false, NULL);
	vlapic_accept_interrupt(&A, 0x80, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x80);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	vlapic_accept_interrupt(&A, 0x80, false, NULL);
	vlapic_accept_interrupt(&A, 0x80, false, NULL);
	ck_assert(irr_has(&A, 0x80) && isr_has(&A, 0x80));
	/* The one waiting is blocked by its own class in service. */
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	vlapic_eoi(&A, NULL);
	ck_assert_uint_eq(ack(&A), 0x80);
	vlapic_eoi(&A, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert(!isr_has(&A, 0x80));
}
END_TEST

START_TEST(test_ack_spurious)
{
	enable(&A);
	u8 v = 0;
	/* Nothing pending: the spurious vector, ISR untouched (11.9). */
	ck_assert(!vlapic_ack(&A, &v));
	ck_assert_uint_eq(v, 0xFF);
	/* Masked by TPR between INTR and INTA. */
	vlapic_accept_interrupt(&A, 0x41, false, NULL);
	wr(&A, R_TPR, 0x80);
	wr(&A, R_SVR, 0x1EF);
	ck_assert(!vlapic_ack(&A, &v));
	ck_assert_uint_eq(v, 0xEF);
	ck_assert(irr_has(&A, 0x41));
	ck_assert(!isr_has(&A, 0x41));
	/* The handler of a spurious interrupt does not EOI; if it did, there
	 * is nothing to retire. */
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
}
END_TEST

START_TEST(test_software_disabled)
{
	/* SVR bit 8 clear after reset: IRR held, nothing presented. */
	ck_assert(vlapic_accept_interrupt(&A, 0x50, false, NULL));
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	u8 v;
	ck_assert(!vlapic_ack(&A, &v));
	enable(&A);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x50);
	/* Unmask two entries, then software-disable: every mask comes back
	 * and cannot be cleared while disabled (11.4.7.2). */
	wr(&A, R_LINT0, 0x31);
	wr(&A, R_ERROR, 0xFE);
	ck_assert_uint_eq(rd(&A, R_LINT0), 0x31);
	wr(&A, R_SVR, 0xFF);
	ck_assert_uint_eq(rd(&A, R_LINT0), MASKED | 0x31);
	ck_assert_uint_eq(rd(&A, R_ERROR), MASKED | 0xFE);
	wr(&A, R_LINT1, 0x32);
	ck_assert_uint_eq(rd(&A, R_LINT1), MASKED | 0x32);
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	/* NMI still gets through. */
	vlapic_deliver(&A, VLAPIC_DM_NMI, 0, false, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), VLAPIC_EV_NMI);
	/* Re-enabling does not unmask. */
	enable(&A);
	ck_assert_uint_eq(rd(&A, R_LINT0), MASKED | 0x31);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x50);
}
END_TEST

START_TEST(test_apr)
{
	enable(&A);
	wr(&A, R_TPR, 0x45);
	/* TPR dominates: APR = TPR. */
	ck_assert_uint_eq(rd(&A, R_APR), 0x45);
	vlapic_accept_interrupt(&A, 0x62, false, NULL);
	/* A higher request raises it to that class. */
	ck_assert_uint_eq(rd(&A, R_APR), 0x60);
	ck_assert_uint_eq(ack(&A), 0x62);
	ck_assert_uint_eq(vlapic_apr(&A), 0x60);
	vlapic_eoi(&A, NULL);
	ck_assert_uint_eq(vlapic_apr(&A), 0x45);
}
END_TEST

/* ---- EOI and TMR ----------------------------------------------------------- */

START_TEST(test_level_eoi_broadcast)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x90, true, NULL);
	ck_assert(tmr_has(&A, 0x90));
	ck_assert_uint_eq(ack(&A), 0x90);
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert_uint_eq(fx.flags & (VLAPIC_FX_EOI | VLAPIC_FX_EOI_BROADCAST),
			  VLAPIC_FX_EOI | VLAPIC_FX_EOI_BROADCAST);
	ck_assert_uint_eq(fx.eoi_vector, 0x90);
	/* Edge: the EOI is reported but not broadcast. */
	vlapic_accept_interrupt(&A, 0x91, false, NULL);
	ck_assert(!tmr_has(&A, 0x91));
	ack(&A);
	fx = wr(&A, R_EOI, 0);
	ck_assert(fx.flags & VLAPIC_FX_EOI);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI_BROADCAST));
	ck_assert_uint_eq(fx.eoi_vector, 0x91);
}
END_TEST

START_TEST(test_tmr_follows_trigger)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0xA0, true, NULL);
	ck_assert(tmr_has(&A, 0xA0));
	/* 11.8.4: acceptance clears TMR for edge. */
	vlapic_accept_interrupt(&A, 0xA0, false, NULL);
	ck_assert(!tmr_has(&A, 0xA0));
	ack(&A);
	struct vlapic_effects fx = { 0 };
	vlapic_eoi(&A, &fx);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI_BROADCAST));
}
END_TEST

START_TEST(test_eoi_broadcast_suppression)
{
	/* SVR bit 12 (11.8.5): no broadcast, the guest EOIs the IOAPIC. */
	wr(&A, R_SVR, 0x11FF);
	ck_assert_uint_eq(rd(&A, R_SVR), 0x11FF);
	vlapic_accept_interrupt(&A, 0x90, true, NULL);
	ack(&A);
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert(fx.flags & VLAPIC_FX_EOI);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI_BROADCAST));
	/* Without the feature, bit 12 is reserved and the broadcast stays. */
	struct vlapic_config c = cfg_of(0);
	c.eoi_suppression = false;
	vlapic_init(&A, &c);
	wr(&A, R_SVR, 0x11FF);
	ck_assert_uint_eq(rd(&A, R_SVR), 0x01FF);
	ck_assert_uint_eq(rd(&A, R_VER) & (1u << 24), 0);
	vlapic_accept_interrupt(&A, 0x90, true, NULL);
	ack(&A);
	fx = wr(&A, R_EOI, 0);
	ck_assert(fx.flags & VLAPIC_FX_EOI_BROADCAST);
}
END_TEST

/* ---- ICR and IPIs ------------------------------------------------------------ */

START_TEST(test_icr_every_delivery_mode_xapic)
{
	enable(&A);
	static const u8 modes[] = { VLAPIC_DM_FIXED, VLAPIC_DM_LOWEST, VLAPIC_DM_SMI, VLAPIC_DM_NMI,
				    VLAPIC_DM_INIT,  VLAPIC_DM_STARTUP, VLAPIC_DM_EXTINT };
	for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
		struct vlapic_effects fx = wr(&A, R_ICRHI, 0x12000000);
		ck_assert(!(fx.flags & VLAPIC_FX_IPI)); /* the high half never sends */
		u32 lo = (0x40u + i) | DM(modes[i]) | ASSERT | (i & 1 ? LOGICAL : 0);
		fx = wr(&A, R_ICRLO, lo);
		ck_assert_msg(fx.flags & VLAPIC_FX_IPI, "mode %u", modes[i]);
		ck_assert_uint_eq(fx.ipi.delivery, modes[i]);
		ck_assert_uint_eq(fx.ipi.vector, 0x40 + i);
		ck_assert_uint_eq(fx.ipi.shorthand, VLAPIC_SH_NONE);
		ck_assert_int_eq(fx.ipi.logical, (i & 1) != 0);
		ck_assert(!fx.ipi.x2apic);
		ck_assert_uint_eq(fx.ipi.dest, 0x12);
		/* Read back, delivery status idle. */
		ck_assert_uint_eq(rd(&A, R_ICRLO), lo);
		ck_assert_uint_eq(rd(&A, R_ICRHI), 0x12000000);
		ck_assert_str_ne(vlapic_delivery_name(modes[i]), "reserved");
	}
	/* Delivery status is read-only; stray high bits are dropped. */
	wr(&A, R_ICRHI, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_ICRHI), 0xFF000000);
	wr(&A, R_ICRLO, 0x41 | (1u << 12) | (1u << 13) | (1u << 16));
	ck_assert_uint_eq(rd(&A, R_ICRLO), 0x41);
}
END_TEST

START_TEST(test_icr_shorthands_xapic)
{
	enable(&A);
	for (u32 sh = 0; sh < 4; sh++) {
		struct vlapic_effects fx = wr(&A, R_ICRLO, 0x30 | SH(sh) | ASSERT);
		ck_assert(fx.flags & VLAPIC_FX_IPI);
		ck_assert_uint_eq(fx.ipi.shorthand, sh);
	}
	/* Reserved delivery mode 011b sends nothing. */
	struct vlapic_effects fx = wr(&A, R_ICRLO, 0x30 | DM(3));
	ck_assert(!(fx.flags & VLAPIC_FX_IPI));
	ck_assert_str_eq(vlapic_delivery_name(3), "reserved");
}
END_TEST

START_TEST(test_icr_x2apic)
{
	enable(&A);
	to_x2apic(&A);
	static const u8 modes[] = { VLAPIC_DM_FIXED, VLAPIC_DM_LOWEST, VLAPIC_DM_SMI, VLAPIC_DM_NMI,
				    VLAPIC_DM_INIT,  VLAPIC_DM_STARTUP, VLAPIC_DM_EXTINT };
	for (unsigned i = 0; i < ARRAY_SIZE(modes); i++) {
		for (u32 sh = 0; sh < 4; sh++) {
			u64 icr = ((u64)0x12345678 << 32) | 0x50u | DM(modes[i]) | ASSERT | SH(sh) |
				  (sh == 0 && (i & 1) ? LOGICAL : 0);
			struct vlapic_effects fx = mwr(&A, X2(R_ICRLO), icr);
			ck_assert(fx.flags & VLAPIC_FX_IPI);
			ck_assert_uint_eq(fx.ipi.delivery, modes[i]);
			ck_assert_uint_eq(fx.ipi.shorthand, sh);
			ck_assert_uint_eq(fx.ipi.vector, 0x50);
			ck_assert(fx.ipi.x2apic);
			ck_assert_uint_eq(fx.ipi.dest, 0x12345678);
			ck_assert_int_eq(fx.ipi.logical, sh == 0 && (i & 1));
			ck_assert_uint_eq(mrd(&A, X2(R_ICRLO)), icr);
		}
	}
	/* Reserved ICR bits 13, 17:16, 31:20 are #GP; bit 12 is ignored. */
	ck_assert_int_eq(mwr_rc(&A, X2(R_ICRLO), 0x50 | (1u << 13)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_ICRLO), 0x50 | (1u << 16)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_ICRLO), 0x50 | (1u << 20)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_ICRLO), 0x50 | (1u << 31)), VLAPIC_GP);
	struct vlapic_effects fx = mwr(&A, X2(R_ICRLO), 0x51 | (1u << 12));
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert_uint_eq(mrd(&A, X2(R_ICRLO)), 0x51);
	/* No ICR high MSR in x2APIC mode. */
	ck_assert_int_eq(mwr_rc(&A, X2(R_ICRHI), 0), VLAPIC_GP);
	ck_assert_int_eq(mrd_rc(&A, X2(R_ICRHI)), VLAPIC_GP);
}
END_TEST

START_TEST(test_init_deassert_not_sent)
{
	enable(&A);
	/* Linux's INIT assert, then de-assert, then SIPI. */
	struct vlapic_effects fx = wr(&A, R_ICRLO, DM(VLAPIC_DM_INIT) | ASSERT | TRIG_LEVEL);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert(fx.ipi.level && fx.ipi.assert);
	fx = wr(&A, R_ICRLO, DM(VLAPIC_DM_INIT) | TRIG_LEVEL);
	ck_assert(!(fx.flags & VLAPIC_FX_IPI));
	fx = wr(&A, R_ICRLO, DM(VLAPIC_DM_STARTUP) | ASSERT | 0x9A);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert_uint_eq(fx.ipi.vector, 0x9A);
	struct vlapic_ipi ipi = { .delivery = VLAPIC_DM_INIT, .level = true };
	ck_assert(vlapic_ipi_is_init_deassert(&ipi));
	ipi.assert = true;
	ck_assert(!vlapic_ipi_is_init_deassert(&ipi));
}
END_TEST

START_TEST(test_send_illegal_vector)
{
	enable(&A);
	struct vlapic_effects fx = wr(&A, R_ICRLO, 0x05 | ASSERT);
	ck_assert(!(fx.flags & VLAPIC_FX_IPI));
	ck_assert_uint_eq(esr_latch(&A), ESR_SEND_ILLEGAL);
	fx = wr(&A, R_ICRLO, 0x0F | DM(VLAPIC_DM_LOWEST) | ASSERT);
	ck_assert(!(fx.flags & VLAPIC_FX_IPI));
	ck_assert_uint_eq(esr_latch(&A), ESR_SEND_ILLEGAL);
	/* NMI and INIT ignore the vector field. */
	fx = wr(&A, R_ICRLO, 0x00 | DM(VLAPIC_DM_NMI) | ASSERT);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert_uint_eq(esr_latch(&A), 0);
	/* Vector 16 is the first legal one. */
	fx = wr(&A, R_ICRLO, 0x10 | ASSERT);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert_uint_eq(esr_latch(&A), 0);
}
END_TEST

START_TEST(test_icr_encode_decode)
{
	static const u64 samples[] = {
		0x0000000000004030ULL, 0x12000000000C4AFEULL, 0xFF00000000084D00ULL,
		0x0300000000004E9AULL, 0x0100000000008C21ULL,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(samples); i++) {
		struct vlapic_ipi ipi;
		vlapic_icr_decode(samples[i], false, &ipi);
		ck_assert_uint_eq(vlapic_icr_encode(&ipi), samples[i]);
		vlapic_icr_decode(samples[i] | 0x00ABCDEF00000000ULL, true, &ipi);
		ck_assert_uint_eq(ipi.dest, (u32)((samples[i] | 0x00ABCDEF00000000ULL) >> 32));
		ck_assert_uint_eq(vlapic_icr_encode(&ipi), samples[i] | 0x00ABCDEF00000000ULL);
	}
	struct vlapic_ipi ipi;
	vlapic_icr_decode(0x12000000000C4AFEULL, false, &ipi);
	ck_assert_uint_eq(ipi.vector, 0xFE);
	ck_assert_uint_eq(ipi.delivery, VLAPIC_DM_SMI);
	ck_assert(ipi.logical);
	ck_assert(ipi.assert);
	ck_assert(!ipi.level);
	ck_assert_uint_eq(ipi.shorthand, VLAPIC_SH_ALL_EXCL);
	ck_assert_uint_eq(ipi.dest, 0x12);
}
END_TEST

START_TEST(test_self_ipi_x2apic)
{
	enable(&A);
	to_x2apic(&A);
	/* 11.12.11: SELF IPI = fixed, edge, to self. */
	struct vlapic_effects fx = mwr(&A, MSR_SELF_IPI, 0x40);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert_uint_eq(fx.ipi.shorthand, VLAPIC_SH_SELF);
	ck_assert_uint_eq(fx.ipi.delivery, VLAPIC_DM_FIXED);
	ck_assert_uint_eq(fx.ipi.vector, 0x40);
	ck_assert(vlapic_ipi_matches(&A, &fx.ipi, true));
	ck_assert(!vlapic_ipi_matches(&A, &fx.ipi, false));
	vlapic_deliver_ipi(&A, &fx.ipi, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x40);
	/* Write-only, reserved bits 31:8, illegal vector. */
	ck_assert_int_eq(mrd_rc(&A, MSR_SELF_IPI), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, MSR_SELF_IPI, 0x140), VLAPIC_GP);
	fx = mwr(&A, MSR_SELF_IPI, 0x03);
	ck_assert(!(fx.flags & VLAPIC_FX_IPI));
	mwr(&A, X2(R_ESR), 0);
	ck_assert_uint_eq(mrd(&A, X2(R_ESR)), ESR_SEND_ILLEGAL);
	/* xAPIC mode has no SELF IPI register: 0x3F0 is reserved. */
	mk(&B, 1);
	enable(&B);
	wr(&B, 0x3F0, 0x40);
	ck_assert_int_eq(vlapic_highest_irr(&B), -1);
	ck_assert_uint_eq(esr_latch(&B), ESR_ILLEGAL_REG);
}
END_TEST

START_TEST(test_xapic_self_shorthand)
{
	enable(&A);
	struct vlapic_effects fx = wr(&A, R_ICRLO, 0x66 | SH(VLAPIC_SH_SELF) | ASSERT);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert(vlapic_ipi_matches(&A, &fx.ipi, true));
	ck_assert(!vlapic_ipi_matches(&B, &fx.ipi, false));
	vlapic_deliver_ipi(&A, &fx.ipi, NULL);
	ck_assert_uint_eq(ack(&A), 0x66);
}
END_TEST

START_TEST(test_ipi_delivered_edge)
{
	enable(&A);
	enable(&B);
	/* Table 11-3 note 2: a level-triggered fixed IPI goes out as edge. */
	struct vlapic_effects fx = wr(&A, R_ICRHI, 1u << 24);
	fx = wr(&A, R_ICRLO, 0x77 | ASSERT | TRIG_LEVEL);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert(vlapic_ipi_matches(&B, &fx.ipi, false));
	ck_assert(!vlapic_ipi_matches(&A, &fx.ipi, true));
	vlapic_deliver_ipi(&B, &fx.ipi, NULL);
	ck_assert(irr_has(&B, 0x77));
	ck_assert(!tmr_has(&B, 0x77));
}
END_TEST

START_TEST(test_ipi_end_to_end)
{
	/* Four APICs; A (id 0) sends to all-excluding-self, then to id 2. */
	static struct vlapic cpus[4];
	for (u32 i = 0; i < 4; i++) {
		mk(&cpus[i], i);
		enable(&cpus[i]);
	}
	struct vlapic_effects fx = wr(&cpus[0], R_ICRLO, 0xC1 | SH(VLAPIC_SH_ALL_EXCL) | ASSERT);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	for (u32 i = 0; i < 4; i++)
		if (vlapic_ipi_matches(&cpus[i], &fx.ipi, i == 0))
			vlapic_deliver_ipi(&cpus[i], &fx.ipi, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&cpus[0]), -1);
	for (u32 i = 1; i < 4; i++)
		ck_assert_int_eq(vlapic_highest_pending(&cpus[i]), 0xC1);
	wr(&cpus[0], R_ICRHI, 2u << 24);
	fx = wr(&cpus[0], R_ICRLO, DM(VLAPIC_DM_NMI) | ASSERT);
	int hits = 0;
	for (u32 i = 0; i < 4; i++)
		if (vlapic_ipi_matches(&cpus[i], &fx.ipi, i == 0)) {
			vlapic_deliver_ipi(&cpus[i], &fx.ipi, NULL);
			hits++;
		}
	ck_assert_int_eq(hits, 1);
	ck_assert_uint_eq(vlapic_take_events(&cpus[2], NULL), VLAPIC_EV_NMI);
	ck_assert_uint_eq(vlapic_take_events(&cpus[1], NULL), 0);
}
END_TEST

/* ---- destination matching ------------------------------------------------------ */

static struct vlapic_ipi ipi_to(u32 dest, bool logical, bool x2)
{
	struct vlapic_ipi ipi = { .vector = 0x40, .dest = dest, .logical = logical, .x2apic = x2 };
	return ipi;
}

START_TEST(test_physical_xapic)
{
	mk(&A, 3);
	struct vlapic_ipi ipi = ipi_to(3, false, false);
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	ck_assert(vlapic_ipi_matches(&A, &ipi, true)); /* no shorthand: self too */
	ipi.dest = 4;
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
	ipi.dest = 0xFF;
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	/* The xAPIC ID register is writable and is what matching uses. */
	wr(&A, R_ID, 0x07000000);
	ck_assert_uint_eq(vlapic_id(&A), 7);
	ipi.dest = 7;
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	ipi.dest = 3;
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
	/* A 32-bit destination cannot reach an 8-bit ID beyond 0xFF. */
	ipi = ipi_to(0x107, false, true);
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
}
END_TEST

START_TEST(test_logical_flat)
{
	wr(&A, R_LDR, 0x04000000);
	ck_assert_uint_eq(rd(&A, R_LDR), 0x04000000);
	struct vlapic_ipi ipi = ipi_to(0x05, true, false);
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	ipi.dest = 0x0A;
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
	ipi.dest = 0xFF;
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	/* No logical ID: not even the all-ones MDA reaches it. */
	ck_assert(!vlapic_ipi_matches(&B, &ipi, false));
	/* Physical 0x04 is not logical 0x04. */
	ipi = ipi_to(0x04, false, false);
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
}
END_TEST

START_TEST(test_logical_cluster)
{
	wr(&A, R_DFR, 0x0FFFFFFF); /* cluster model */
	ck_assert_uint_eq(rd(&A, R_DFR), 0x0FFFFFFF);
	wr(&A, R_LDR, 0x21000000); /* cluster 2, member bit 0 */
	static const struct {
		u8 mda;
		bool match;
	} cases[] = {
		{ 0x21, true },  { 0x23, true },  { 0x2F, true },  { 0x22, false },
		{ 0x31, false }, { 0x11, false }, { 0xF1, true },  { 0xFF, true },
		{ 0x20, false }, { 0xF2, false },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vlapic_ipi ipi = ipi_to(cases[i].mda, true, false);
		ck_assert_msg(vlapic_ipi_matches(&A, &ipi, false) == cases[i].match, "mda %02x",
			      cases[i].mda);
	}
	/* An undefined model matches nothing. */
	wr(&A, R_DFR, 0x5FFFFFFF);
	struct vlapic_ipi ipi = ipi_to(0x21, true, false);
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
}
END_TEST

START_TEST(test_x2apic_cluster)
{
	mk(&A, 0x23);
	enable(&A);
	/* Before the switch the LDR is software's; after it, derived. */
	wr(&A, R_LDR, 0x80000000);
	to_x2apic(&A);
	ck_assert_uint_eq(mrd(&A, X2(R_LDR)), (0x2u << 16) | (1u << 3));
	ck_assert_int_eq(mwr_rc(&A, X2(R_LDR), 0), VLAPIC_GP);
	ck_assert_uint_eq(mrd(&A, X2(R_ID)), 0x23);
	static const struct {
		u32 dest;
		bool logical, match;
	} cases[] = {
		{ 0x00020008, true, true },  { 0x00020009, true, true },  { 0x0002FFFF, true, true },
		{ 0x00020004, true, false }, { 0x00030008, true, false }, { 0x00000008, true, false },
		{ 0xFFFFFFFF, true, true },  { 0x23, false, true },       { 0x24, false, false },
		{ 0xFFFFFFFF, false, true }, { 0xFF, false, false },      { 0x00020008, false, false },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vlapic_ipi ipi = ipi_to(cases[i].dest, cases[i].logical, true);
		ck_assert_msg(vlapic_ipi_matches(&A, &ipi, false) == cases[i].match, "dest %x/%d",
			      cases[i].dest, cases[i].logical);
	}
}
END_TEST

START_TEST(test_x2apic_ldr_derivation)
{
	ck_assert_uint_eq(vlapic_x2apic_ldr(0), 0x00000001);
	ck_assert_uint_eq(vlapic_x2apic_ldr(15), 0x00008000);
	ck_assert_uint_eq(vlapic_x2apic_ldr(16), 0x00010001);
	ck_assert_uint_eq(vlapic_x2apic_ldr(0x12345), 0x12340020);
}
END_TEST

START_TEST(test_shorthand_match)
{
	struct vlapic_ipi ipi = ipi_to(9, false, false);
	ipi.shorthand = VLAPIC_SH_SELF;
	ck_assert(vlapic_ipi_matches(&A, &ipi, true));
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
	ipi.shorthand = VLAPIC_SH_ALL_INCL;
	ck_assert(vlapic_ipi_matches(&A, &ipi, true));
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	ipi.shorthand = VLAPIC_SH_ALL_EXCL;
	ck_assert(!vlapic_ipi_matches(&A, &ipi, true));
	ck_assert(vlapic_ipi_matches(&A, &ipi, false));
	/* A globally disabled APIC is not on the bus. */
	mwr(&A, MSR_BASE, 0xFEE00000);
	ck_assert(!vlapic_ipi_matches(&A, &ipi, false));
	ck_assert(!vlapic_accept_interrupt(&A, 0x40, false, NULL));
	vlapic_deliver(&A, VLAPIC_DM_NMI, 0, false, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), 0);
}
END_TEST

/* ---- ESR -------------------------------------------------------------------------- */

START_TEST(test_esr_write_then_read)
{
	u32 v;
	/* A reserved register: reads 0, logs "illegal register address". */
	ck_assert_int_eq(vlapic_mmio_read(&A, 0x010, 0, &v, NULL), VLAPIC_OK);
	ck_assert_uint_eq(v, 0);
	/* 11.5.3: reads show what the last write latched, not live errors. */
	ck_assert_uint_eq(rd(&A, R_ESR), 0);
	wr(&A, R_ESR, 0xFFFFFFFF); /* the value written does not matter */
	ck_assert_uint_eq(rd(&A, R_ESR), ESR_ILLEGAL_REG);
	ck_assert_uint_eq(rd(&A, R_ESR), ESR_ILLEGAL_REG);
	wr(&A, R_ESR, 0);
	ck_assert_uint_eq(rd(&A, R_ESR), 0);
}
END_TEST

START_TEST(test_receive_illegal_vector)
{
	enable(&A);
	for (u32 v = 0; v < 16; v++) {
		ck_assert(!vlapic_accept_interrupt(&A, (u8)v, false, NULL));
		ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	}
	ck_assert_uint_eq(esr_latch(&A), ESR_RECV_ILLEGAL);
	ck_assert(vlapic_accept_interrupt(&A, 16, false, NULL));
	ck_assert_uint_eq(esr_latch(&A), 0);
}
END_TEST

START_TEST(test_error_interrupt)
{
	enable(&A);
	wr(&A, R_ERROR, 0xFE);
	struct vlapic_effects fx = { 0 };
	vlapic_accept_interrupt(&A, 3, false, &fx);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0xFE);
	ck_assert_uint_eq(esr_latch(&A), ESR_RECV_ILLEGAL);
	/* Masked: errors are still collected, no interrupt. */
	ack(&A);
	vlapic_eoi(&A, NULL);
	wr(&A, R_ERROR, MASKED | 0xFE);
	wr(&A, R_ICRLO, 0x01 | ASSERT);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(esr_latch(&A), ESR_SEND_ILLEGAL);
	/* An illegal vector in the error entry itself only adds bit 6. */
	wr(&A, R_ERROR, 0x02);
	rd(&A, 0x040);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(esr_latch(&A), ESR_ILLEGAL_REG | ESR_RECV_ILLEGAL);
}
END_TEST

/* ---- register access rules ------------------------------------------------------ */

START_TEST(test_xapic_reserved_registers)
{
	static const u32 reserved[] = { 0x000, 0x010, 0x040, 0x050, 0x060, 0x070, 0x290,
					0x2A0, 0x2E0, 0x3A0, 0x3B0, 0x3D0, 0x3F0, 0x400, 0xFF0 };
	for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++) {
		u32 v = 0x1234;
		ck_assert_int_eq(vlapic_mmio_read(&A, reserved[i], 0, &v, NULL), VLAPIC_OK);
		ck_assert_uint_eq(v, 0);
		ck_assert_msg(esr_latch(&A) == ESR_ILLEGAL_REG, "read %x", reserved[i]);
		ck_assert_int_eq(vlapic_mmio_write(&A, reserved[i], 0xFFFFFFFF, 0, NULL), VLAPIC_OK);
		ck_assert_msg(esr_latch(&A) == ESR_ILLEGAL_REG, "write %x", reserved[i]);
	}
	/* Without CMCI its LVT slot is reserved too. */
	struct vlapic_config c = cfg_of(0);
	c.cmci = false;
	vlapic_init(&A, &c);
	rd(&A, R_CMCI);
	ck_assert_uint_eq(esr_latch(&A), ESR_ILLEGAL_REG);
	ck_assert_uint_eq((rd(&A, R_VER) >> 16) & 0xFF, 5);
}
END_TEST

START_TEST(test_xapic_readonly_and_writeonly)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x42, true, NULL);
	u32 ver = rd(&A, R_VER);
	/* Writes to read-only registers are ignored, without an error. */
	wr(&A, R_VER, 0);
	wr(&A, R_PPR, 0xFF);
	wr(&A, R_APR, 0xFF);
	wr(&A, R_IRR + 0x20, 0);
	wr(&A, R_TMR + 0x20, 0);
	wr(&A, R_ISR + 0x20, 0xFFFFFFFF);
	wr(&A, R_TMCCT, 1234);
	wr(&A, 0x0C0, 1); /* remote read */
	ck_assert_uint_eq(rd(&A, R_VER), ver);
	ck_assert(irr_has(&A, 0x42) && tmr_has(&A, 0x42));
	ck_assert_uint_eq(rd(&A, R_ISR + 0x20), 0);
	ck_assert_uint_eq(rd(&A, R_TMCCT), 0);
	ck_assert_uint_eq(rd(&A, 0x0C0), 0);
	/* EOI is write-only: a read returns 0 and retires nothing. */
	ack(&A);
	ck_assert_uint_eq(rd(&A, R_EOI), 0);
	ck_assert(isr_has(&A, 0x42));
	ck_assert_uint_eq(esr_latch(&A), 0);
}
END_TEST

START_TEST(test_xapic_alignment)
{
	u32 v = 1;
	ck_assert_int_eq(vlapic_mmio_read(&A, R_TPR + 1, 0, &v, NULL), VLAPIC_UNALIGNED);
	ck_assert_int_eq(vlapic_mmio_write(&A, R_TPR + 2, 0xFF, 0, NULL), VLAPIC_UNALIGNED);
	ck_assert_uint_eq(rd(&A, R_TPR), 0);
	/* Bytes 4-15 of a slot: 0, writes ignored, no error. */
	wr(&A, R_TPR, 0x20);
	ck_assert_uint_eq(rd(&A, R_TPR + 4), 0);
	wr(&A, R_TPR + 8, 0x99);
	ck_assert_uint_eq(rd(&A, R_TPR), 0x20);
	ck_assert_uint_eq(esr_latch(&A), 0);
	ck_assert_int_eq(vlapic_mmio_read(&A, 0x1000, 0, &v, NULL), VLAPIC_NOT_APIC);
}
END_TEST

START_TEST(test_xapic_write_masks)
{
	wr(&A, R_LDR, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_LDR), 0xFF000000);
	wr(&A, R_DFR, 0);
	ck_assert_uint_eq(rd(&A, R_DFR), 0x0FFFFFFF);
	wr(&A, R_ID, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_ID), 0xFF000000);
	wr(&A, R_SVR, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_SVR), 0x13FF);
	/* LVT: read-only delivery status and remote IRR, per-entry fields. */
	wr(&A, R_LINT0, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_LINT0), 0x1A7FF);
	wr(&A, R_ERROR, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_ERROR), 0x100FF);
	wr(&A, R_THERMAL, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_THERMAL), 0x107FF);
	wr(&A, R_TIMER, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_TIMER), 0x700FF);
	wr(&A, R_TDCR, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(&A, R_TDCR), 0xB);
	/* Without TSC-deadline, timer bit 18 does not exist. */
	struct vlapic_config c = cfg_of(0);
	c.tsc_deadline = false;
	vlapic_init(&A, &c);
	enable(&A);
	wr(&A, R_TIMER, DEADLINE | 0x40);
	ck_assert_uint_eq(rd(&A, R_TIMER), 0x40);
}
END_TEST

START_TEST(test_x2apic_msr_rules)
{
	enable(&A);
	/* Not in x2APIC mode yet: every x2APIC MSR is #GP. */
	ck_assert_int_eq(mrd_rc(&A, X2(R_TPR)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_TPR), 0), VLAPIC_GP);
	ck_assert_int_eq(mrd_rc(&A, 0x10), VLAPIC_NOT_APIC);
	ck_assert(!vlapic_msr_is_apic(0x10));
	ck_assert(vlapic_msr_is_apic(0x8FF) && vlapic_msr_is_apic(0x1B) && vlapic_msr_is_apic(0x6E0));
	to_x2apic(&A);
	ck_assert_uint_eq(mrd(&A, X2(R_ID)), 0);
	ck_assert_uint_eq(mrd(&A, X2(R_VER)), 0x14u | (6u << 16) | (1u << 24));
	/* Reserved addresses (Table 11-6): APR, RRD, DFR, ICR high, gaps. */
	static const u32 reserved[] = { 0x800, 0x801, 0x804, 0x807, 0x809, 0x80C, 0x80E,
					0x829, 0x82E, 0x831, 0x83A, 0x83D, 0x840, 0x8FF };
	for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++) {
		ck_assert_msg(mrd_rc(&A, reserved[i]) == VLAPIC_GP, "read %x", reserved[i]);
		ck_assert_msg(mwr_rc(&A, reserved[i], 0) == VLAPIC_GP, "write %x", reserved[i]);
	}
	/* Read-only registers: WRMSR is #GP. */
	static const u32 ro[] = { 0x802, 0x803, 0x80A, 0x80D, 0x810, 0x817, 0x818, 0x820, 0x827, 0x839 };
	for (unsigned i = 0; i < ARRAY_SIZE(ro); i++) {
		ck_assert_int_eq(mrd_rc(&A, ro[i]), VLAPIC_OK);
		ck_assert_msg(mwr_rc(&A, ro[i], 0) == VLAPIC_GP, "write %x", ro[i]);
	}
	/* EOI: write-only, only zero. ESR: only zero. */
	ck_assert_int_eq(mrd_rc(&A, X2(R_EOI)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_EOI), 1), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_EOI), 0), VLAPIC_OK);
	ck_assert_int_eq(mwr_rc(&A, X2(R_ESR), 4), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_ESR), 0), VLAPIC_OK);
	/* Reserved bits, including bits 63:32 of 32-bit registers. */
	ck_assert_int_eq(mwr_rc(&A, X2(R_TPR), 0x100), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_TPR), 1ULL << 32), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_TDCR), 0x4), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_SVR), 0x1FF | (1u << 10)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_ERROR), 0x100FE | DM(4)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_TMICT), 1ULL << 32), VLAPIC_GP);
	ck_assert_uint_eq(mrd(&A, X2(R_TPR)), 0);
	/* Legal writes land. */
	mwr(&A, X2(R_TPR), 0x3C);
	ck_assert_uint_eq(mrd(&A, X2(R_TPR)), 0x3C);
	mwr(&A, X2(R_LINT1), 0x400 | (1u << 12) | REMOTE_IRR); /* NMI; RO bits ignored */
	ck_assert_uint_eq(mrd(&A, X2(R_LINT1)), 0x400);
	/* The MMIO page is not the APIC's any more. */
	u32 v;
	ck_assert_int_eq(vlapic_mmio_read(&A, R_TPR, 0, &v, NULL), VLAPIC_NOT_APIC);
	ck_assert_int_eq(vlapic_mmio_write(&A, R_TPR, 0, 0, NULL), VLAPIC_NOT_APIC);
}
END_TEST

/* ---- IA32_APIC_BASE ------------------------------------------------------------------- */

START_TEST(test_apic_base_transitions)
{
	struct vlapic_effects fx;
	/* Reserved bits: 7:0, 9, at and above MAXPHYADDR (36 by default). */
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, XAPIC_ON | 1), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, XAPIC_ON | (1u << 9)), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, XAPIC_ON | (1ULL << 36)), VLAPIC_GP);
	/* EXTD without EN is the invalid state. */
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, 0xFEE00000ULL | BASE_EXTD), VLAPIC_GP);
	/* xAPIC -> x2APIC. */
	fx = mwr(&B, MSR_BASE, X2APIC_ON);
	ck_assert(fx.flags & VLAPIC_FX_BASE);
	ck_assert_int_eq(vlapic_mode(&B), VLAPIC_MODE_X2APIC);
	/* x2APIC -> xAPIC is illegal; state unchanged. */
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, XAPIC_ON), VLAPIC_GP);
	ck_assert_int_eq(vlapic_mode(&B), VLAPIC_MODE_X2APIC);
	/* x2APIC -> disabled -> (not x2APIC) -> xAPIC. */
	fx = mwr(&B, MSR_BASE, 0xFEE00000ULL);
	ck_assert(fx.flags & VLAPIC_FX_BASE);
	ck_assert_int_eq(vlapic_mode(&B), VLAPIC_MODE_DISABLED);
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, X2APIC_ON), VLAPIC_GP);
	ck_assert_int_eq(vlapic_mode(&B), VLAPIC_MODE_DISABLED);
	u32 v;
	ck_assert_int_eq(vlapic_mmio_read(&B, R_ID, 0, &v, NULL), VLAPIC_NOT_APIC);
	mwr(&B, MSR_BASE, XAPIC_ON);
	ck_assert_int_eq(vlapic_mode(&B), VLAPIC_MODE_XAPIC);
	ck_assert_uint_eq(rd(&B, R_ID), 1u << 24);
	/* Moving the page. */
	fx = mwr(&B, MSR_BASE, 0xFED00000ULL | BASE_EN);
	ck_assert(fx.flags & VLAPIC_FX_BASE);
	ck_assert_uint_eq(vlapic_mmio_base(&B), 0xFED00000ULL);
	fx = mwr(&B, MSR_BASE, 0xFED00000ULL | BASE_EN);
	ck_assert(!(fx.flags & VLAPIC_FX_BASE));
	/* Without x2APIC support EXTD is reserved. */
	struct vlapic_config c = cfg_of(1);
	c.x2apic = false;
	vlapic_init(&B, &c);
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, X2APIC_ON), VLAPIC_GP);
	/* A wider MAXPHYADDR allows a higher base. */
	c = cfg_of(1);
	c.maxphyaddr = 40;
	vlapic_init(&B, &c);
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, (1ULL << 39) | BASE_EN), VLAPIC_OK);
	ck_assert_int_eq(mwr_rc(&B, MSR_BASE, (1ULL << 40) | BASE_EN), VLAPIC_GP);
}
END_TEST

START_TEST(test_disable_resets)
{
	enable(&A);
	wr(&A, R_TPR, 0x20);
	wr(&A, R_LINT0, 0x700);
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	wr_at(&A, R_TIMER, 0x40, 0);
	wr_at(&A, R_TMICT, 1000, 0);
	struct vlapic_effects fx = mwr(&A, MSR_BASE, 0xFEE00000ULL | BASE_BSP);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	mwr(&A, MSR_BASE, XAPIC_ON | BASE_BSP);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(rd(&A, R_SVR), 0xFF);
	ck_assert_uint_eq(rd(&A, R_TPR), 0);
	ck_assert_uint_eq(rd(&A, R_LINT0), MASKED);
	ck_assert_uint_eq(rd(&A, R_TMICT), 0);
	ck_assert_uint_eq(mrd(&A, MSR_BASE), XAPIC_ON | BASE_BSP);
}
END_TEST

START_TEST(test_x2apic_switch_keeps_state)
{
	mk(&A, 0x105);
	enable(&A);
	ck_assert_uint_eq(rd(&A, R_ID), 0x05000000); /* low 8 bits of the x2APIC ID */
	wr(&A, R_ID, 0x09000000);
	wr(&A, R_TPR, 0x31);
	wr(&A, R_LINT1, 0x400);
	vlapic_accept_interrupt(&A, 0x80, false, NULL);
	to_x2apic(&A);
	/* The x2APIC ID is the initial ID, not the rewritten xAPIC one. */
	ck_assert_uint_eq(mrd(&A, X2(R_ID)), 0x105);
	ck_assert_uint_eq(vlapic_id(&A), 0x105);
	ck_assert_uint_eq(mrd(&A, X2(R_LDR)), vlapic_x2apic_ldr(0x105));
	ck_assert_uint_eq(mrd(&A, X2(R_TPR)), 0x31);
	ck_assert_uint_eq(mrd(&A, X2(R_SVR)), 0x1FF);
	ck_assert_uint_eq(mrd(&A, X2(R_LINT1)), 0x400);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x80);
}
END_TEST

START_TEST(test_init_reset)
{
	mk(&A, 0x21);
	enable(&A);
	to_x2apic(&A);
	mwr(&A, X2(R_TPR), 0x40);
	vlapic_accept_interrupt(&A, 0x60, false, NULL);
	vlapic_deliver(&A, VLAPIC_DM_STARTUP, 0x9F, false, NULL);
	mwr_at(&A, X2(R_TIMER), 0x30, 0);
	mwr_at(&A, X2(R_TMICT), 10, 0);
	struct vlapic_effects fx = { 0 };
	vlapic_reset_init(&A, &fx);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	/* 11.12.5.1: INIT keeps x2APIC mode and the ID, resets the rest. */
	ck_assert_int_eq(vlapic_mode(&A), VLAPIC_MODE_X2APIC);
	ck_assert_uint_eq(mrd(&A, X2(R_ID)), 0x21);
	ck_assert_uint_eq(mrd(&A, X2(R_LDR)), vlapic_x2apic_ldr(0x21));
	ck_assert_uint_eq(mrd(&A, X2(R_TPR)), 0);
	ck_assert_uint_eq(mrd(&A, X2(R_SVR)), 0xFF);
	ck_assert_uint_eq(mrd(&A, X2(R_TIMER)), MASKED);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	/* A SIPI that was already waiting survives. */
	u8 sipi = 0;
	ck_assert_uint_eq(vlapic_take_events(&A, &sipi), VLAPIC_EV_SIPI);
	ck_assert_uint_eq(sipi, 0x9F);
	/* xAPIC: the (rewritten) ID register survives INIT too. */
	mk(&B, 1);
	wr(&B, R_ID, 0x0A000000);
	wr(&B, R_LDR, 0x01000000);
	vlapic_reset_init(&B, NULL);
	ck_assert_uint_eq(rd(&B, R_ID), 0x0A000000);
	ck_assert_uint_eq(rd(&B, R_LDR), 0);
	ck_assert_uint_eq(rd(&B, R_DFR), 0xFFFFFFFF);
}
END_TEST

/* ---- local interrupts and events ------------------------------------------------------- */

START_TEST(test_lint_delivery_modes)
{
	enable(&A);
	/* Virtual wire: LINT0 ExtINT, LINT1 NMI (MP spec configuration). */
	wr(&A, R_LINT0, 0x700);
	wr(&A, R_LINT1, 0x400);
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT0, NULL);
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT1, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), VLAPIC_EV_EXTINT | VLAPIC_EV_NMI);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), 0);
	/* Masked sources deliver nothing. */
	wr(&A, R_LINT1, MASKED | 0x400);
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT1, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), 0);
	/* Thermal as SMI, CMCI as fixed. */
	wr(&A, R_THERMAL, 0x200);
	vlapic_lvt_fire(&A, VLAPIC_LVT_THERMAL, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), VLAPIC_EV_SMI);
	wr(&A, R_CMCI, 0x55);
	vlapic_lvt_fire(&A, VLAPIC_LVT_CMCI, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x55);
	/* A reserved delivery mode delivers nothing. */
	wr(&A, R_LINT1, 0x100 | 0x66);
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT1, NULL);
	ck_assert(!irr_has(&A, 0x66));
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), 0);
}
END_TEST

START_TEST(test_lint_level_remote_irr)
{
	enable(&A);
	wr(&A, R_LINT0, LEVEL | 0x70);
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT0, NULL);
	ck_assert(irr_has(&A, 0x70) && tmr_has(&A, 0x70));
	ck_assert(rd(&A, R_LINT0) & REMOTE_IRR);
	ck_assert_uint_eq(ack(&A), 0x70);
	/* Not delivered again while remote IRR is set. */
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT0, NULL);
	ck_assert(!irr_has(&A, 0x70));
	/* Remote IRR survives a write of the entry. */
	wr(&A, R_LINT0, LEVEL | 0x70);
	ck_assert(rd(&A, R_LINT0) & REMOTE_IRR);
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert(fx.flags & VLAPIC_FX_EOI_BROADCAST);
	ck_assert(!(rd(&A, R_LINT0) & REMOTE_IRR));
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT0, NULL);
	ck_assert(irr_has(&A, 0x70));
}
END_TEST

START_TEST(test_perfmon_masks_itself)
{
	enable(&A);
	wr(&A, R_PERF, 0x400); /* PMI as NMI, as Linux programs it */
	vlapic_lvt_fire(&A, VLAPIC_LVT_PERFMON, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), VLAPIC_EV_NMI);
	ck_assert_uint_eq(rd(&A, R_PERF), MASKED | 0x400);
	vlapic_lvt_fire(&A, VLAPIC_LVT_PERFMON, NULL);
	ck_assert_uint_eq(vlapic_take_events(&A, NULL), 0);
}
END_TEST

START_TEST(test_deliver_events)
{
	struct vlapic_effects fx = { 0 };
	vlapic_deliver(&A, VLAPIC_DM_INIT, 0, false, &fx);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	vlapic_deliver(&A, VLAPIC_DM_STARTUP, 0x10, false, NULL);
	vlapic_deliver(&A, VLAPIC_DM_STARTUP, 0x9A, false, NULL);
	vlapic_deliver(&A, VLAPIC_DM_SMI, 0, false, NULL);
	vlapic_deliver(&A, VLAPIC_DM_RESERVED3, 0x40, false, NULL);
	u8 sipi = 0;
	ck_assert_uint_eq(vlapic_take_events(&A, &sipi),
			  VLAPIC_EV_INIT | VLAPIC_EV_SIPI | VLAPIC_EV_SMI);
	ck_assert_uint_eq(sipi, 0x9A);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	/* Lowest priority lands like fixed on the chosen APIC. */
	vlapic_deliver(&A, VLAPIC_DM_LOWEST, 0x44, true, NULL);
	ck_assert(irr_has(&A, 0x44) && tmr_has(&A, 0x44));
}
END_TEST

START_TEST(test_null_effects)
{
	/* fx may be NULL everywhere. */
	enable(&A);
	vlapic_accept_interrupt(&A, 0x40, false, NULL);
	ack(&A);
	vlapic_eoi(&A, NULL);
	u32 v;
	ck_assert_int_eq(vlapic_mmio_write(&A, R_ICRLO, 0x40, 0, NULL), VLAPIC_OK);
	ck_assert_int_eq(vlapic_mmio_write(&A, R_TMICT, 5, 0, NULL), VLAPIC_OK);
	ck_assert_int_eq(vlapic_mmio_read(&A, R_TMCCT, 1000, &v, NULL), VLAPIC_OK);
	vlapic_timer_update(&A, 2000, NULL);
	vlapic_lvt_fire(&A, VLAPIC_LVT_LINT0, NULL);
	ck_assert_int_eq(vlapic_cr8_write(&A, 1, NULL), VLAPIC_OK);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

/* ---- the timer ---------------------------------------------------------------------------- */

START_TEST(test_timer_oneshot)
{
	enable(&A);
	/* Divide by 2 (TDCR 0): 2 bus ticks = 20 TSC ticks per count. */
	wr(&A, R_TIMER, 0x40);
	struct vlapic_effects fx = wr_at(&A, R_TMICT, 100, 1000);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(fx.timer_deadline, 1000 + 100 * 20);
	ck_assert_uint_eq(rd_at(&A, R_TMICT, 1000), 100);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 1000), 100);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 1019), 100);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 1020), 99);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 1200), 90);
	fx = (struct vlapic_effects){ 0 };
	vlapic_timer_update(&A, 2999, &fx);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 2999), 1);
	fx = (struct vlapic_effects){ 0 };
	vlapic_timer_update(&A, 3000, &fx);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	ck_assert(!(fx.flags & VLAPIC_FX_TIMER_ARM));
	ck_assert_uint_eq(ack(&A), 0x40);
	vlapic_eoi(&A, NULL);
	/* It fires once and stays at zero. */
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 5000), 0);
	vlapic_timer_update(&A, 100000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	u64 d;
	ck_assert(!vlapic_timer_deadline(&A, &d));
}
END_TEST

START_TEST(test_timer_expiry_seen_by_register_access)
{
	enable(&A);
	wr(&A, R_TDCR, 0xB); /* divide by 1: 10 TSC per count */
	wr(&A, R_TIMER, 0x41);
	wr_at(&A, R_TMICT, 10, 0);
	/* Nobody called vlapic_timer_update; reprogramming after the expiry
	 * must not lose the interrupt the expiry raised. */
	struct vlapic_effects fx = wr_at(&A, R_TMICT, 10, 150);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert(irr_has(&A, 0x41));
	ck_assert_uint_eq(fx.timer_deadline, 250);
}
END_TEST

START_TEST(test_timer_periodic)
{
	enable(&A);
	wr(&A, R_TDCR, 0xB); /* divide by 1 */
	wr(&A, R_TIMER, PERIODIC | 0x42);
	struct vlapic_effects fx = wr_at(&A, R_TMICT, 10, 500);
	ck_assert_uint_eq(fx.timer_deadline, 600);
	fx = (struct vlapic_effects){ 0 };
	vlapic_timer_update(&A, 600, &fx);
	ck_assert(irr_has(&A, 0x42));
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(fx.timer_deadline, 700);
	/* Reloaded: counting down from the initial count again. */
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 600), 10);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 630), 7);
	ack(&A);
	vlapic_eoi(&A, NULL);
	/* Three periods missed: one interrupt, phase kept. */
	fx = (struct vlapic_effects){ 0 };
	vlapic_timer_update(&A, 950, &fx);
	ck_assert_uint_eq(ack(&A), 0x42);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(fx.timer_deadline, 1000);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 950), 5);
	/* Reading the current count across a boundary never shows 0, and the
	 * read reports the expiry it caught up with and the new deadline. */
	u32 v;
	fx = (struct vlapic_effects){ 0 };
	ck_assert_int_eq(vlapic_mmio_read(&A, R_TMCCT, 1000, &v, &fx), VLAPIC_OK);
	ck_assert_uint_eq(v, 10);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(fx.timer_deadline, 1100);
	ck_assert(irr_has(&A, 0x42));
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 1099), 1);
}
END_TEST

START_TEST(test_timer_masked_keeps_counting)
{
	enable(&A);
	wr(&A, R_TDCR, 0xB);
	wr(&A, R_TIMER, MASKED | PERIODIC | 0x43);
	wr_at(&A, R_TMICT, 10, 0);
	struct vlapic_effects fx = { 0 };
	vlapic_timer_update(&A, 100, &fx);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(fx.timer_deadline, 200);
	/* Unmasking is not a mode change: the next period fires. */
	wr_at(&A, R_TIMER, PERIODIC | 0x43, 150);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	vlapic_timer_update(&A, 200, NULL);
	ck_assert(irr_has(&A, 0x43));
	/* Masked one-shot: expires silently. */
	mk(&A, 0);
	enable(&A);
	wr(&A, R_TIMER, MASKED | 0x44);
	wr_at(&A, R_TMICT, 1, 0);
	vlapic_timer_update(&A, 1000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 1000), 0);
	u64 d;
	ck_assert(!vlapic_timer_deadline(&A, &d));
}
END_TEST

START_TEST(test_timer_divide_values)
{
	/* Figure 11-10: TDCR bits 3,1,0. */
	static const struct {
		u32 tdcr, divisor;
	} cases[] = {
		{ 0x0, 2 },  { 0x1, 4 },  { 0x2, 8 },   { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xA, 128 }, { 0xB, 1 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		mk(&A, 0);
		enable(&A);
		wr(&A, R_TIMER, 0x45);
		wr(&A, R_TDCR, cases[i].tdcr | 0x4); /* bit 2 is reserved */
		ck_assert_uint_eq(rd(&A, R_TDCR), cases[i].tdcr);
		struct vlapic_effects fx = wr_at(&A, R_TMICT, 3, 7);
		ck_assert_msg(fx.timer_deadline == 7 + 3 * 10 * cases[i].divisor, "tdcr %x: %llu",
			      cases[i].tdcr, (unsigned long long)fx.timer_deadline);
		ck_assert_uint_eq(rd_at(&A, R_TMCCT, 7 + 10 * cases[i].divisor), 2);
	}
}
END_TEST

START_TEST(test_timer_fractional_ratio)
{
	/* 1.5 TSC ticks per bus tick, divide by 1. */
	struct vlapic_config c = cfg_of(0);
	c.tsc_per_bus_num = 3;
	c.tsc_per_bus_den = 2;
	vlapic_init(&A, &c);
	enable(&A);
	wr(&A, R_TDCR, 0xB);
	wr(&A, R_TIMER, 0x46);
	struct vlapic_effects fx = wr_at(&A, R_TMICT, 3, 100);
	ck_assert_uint_eq(fx.timer_deadline, 105); /* ceil(4.5) */
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 101), 3);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 102), 2);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 104), 1);
	vlapic_timer_update(&A, 104, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	vlapic_timer_update(&A, 105, NULL);
	ck_assert(irr_has(&A, 0x46));
	/* A very long count with a large ratio does not overflow. */
	c.tsc_per_bus_num = 1u << 24;
	c.tsc_per_bus_den = 3;
	vlapic_init(&A, &c);
	enable(&A);
	wr(&A, R_TDCR, 0xA); /* divide by 128 */
	wr(&A, R_TIMER, 0x46);
	fx = wr_at(&A, R_TMICT, 0xFFFFFFFF, 0);
	u64 expect = (0xFFFFFFFFULL * 128 * (1ULL << 24) + 2) / 3;
	ck_assert_uint_eq(fx.timer_deadline, expect);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, expect / 2), 0xFFFFFFFFu - 0xFFFFFFFFu / 2);
}
END_TEST

START_TEST(test_timer_stop_and_restart)
{
	enable(&A);
	wr(&A, R_TDCR, 0xB);
	wr(&A, R_TIMER, 0x47);
	wr_at(&A, R_TMICT, 50, 0);
	/* A write during the count-down restarts it with the new value. */
	struct vlapic_effects fx = wr_at(&A, R_TMICT, 20, 300);
	ck_assert_uint_eq(fx.timer_deadline, 500);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 300), 20);
	/* 0 stops it. */
	fx = wr_at(&A, R_TMICT, 0, 400);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	vlapic_timer_update(&A, 10000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 10000), 0);
}
END_TEST

START_TEST(test_timer_divide_change_midcount)
{
	enable(&A);
	wr(&A, R_TDCR, 0xB); /* 10 TSC per count */
	wr(&A, R_TIMER, 0x48);
	wr_at(&A, R_TMICT, 100, 0);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 400), 60);
	/* Divide by 2 from here: the remaining 60 counts take 1200 ticks. */
	struct vlapic_effects fx = wr_at(&A, R_TDCR, 0x0, 400);
	ck_assert_uint_eq(fx.timer_deadline, 1600);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 420), 59);
}
END_TEST

START_TEST(test_timer_illegal_vector)
{
	enable(&A);
	wr(&A, R_TIMER, 0x05);
	wr_at(&A, R_TMICT, 1, 0);
	vlapic_timer_update(&A, 1000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(esr_latch(&A), ESR_RECV_ILLEGAL);
}
END_TEST

START_TEST(test_tsc_deadline)
{
	enable(&A);
	struct vlapic_effects fx = wr_at(&A, R_TIMER, DEADLINE | 0x49, 0);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	fx = mwr_at(&A, MSR_DEADLINE, 5000, 1000);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(fx.timer_deadline, 5000);
	ck_assert_uint_eq(mrd(&A, MSR_DEADLINE), 5000);
	/* Initial count ignored, current count 0 (11.5.4.1). */
	wr_at(&A, R_TMICT, 77, 1000);
	ck_assert_uint_eq(rd(&A, R_TMICT), 0);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 2000), 0);
	vlapic_timer_update(&A, 4999, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	fx = (struct vlapic_effects){ 0 };
	vlapic_timer_update(&A, 5000, &fx);
	ck_assert(irr_has(&A, 0x49));
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	/* Fired: disarmed and the MSR reads 0. */
	ck_assert_uint_eq(mrd(&A, MSR_DEADLINE), 0);
	/* Rearm, then disarm with 0. */
	mwr_at(&A, MSR_DEADLINE, 9000, 6000);
	fx = mwr_at(&A, MSR_DEADLINE, 0, 6001);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	ack(&A);
	vlapic_eoi(&A, NULL);
	vlapic_timer_update(&A, 10000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
}
END_TEST

START_TEST(test_tsc_deadline_in_past)
{
	enable(&A);
	wr(&A, R_TIMER, DEADLINE | 0x4A);
	struct vlapic_effects fx = mwr_at(&A, MSR_DEADLINE, 100, 5000);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x4A);
	ck_assert_uint_eq(mrd(&A, MSR_DEADLINE), 0);
	/* Equal counts as reached ("equals or exceeds"). */
	ack(&A);
	mwr_at(&A, MSR_DEADLINE, 6000, 6000);
	ck_assert(irr_has(&A, 0x4A));
}
END_TEST

START_TEST(test_tsc_deadline_outside_mode)
{
	enable(&A);
	wr(&A, R_TIMER, 0x4B); /* one-shot */
	struct vlapic_effects fx = mwr_at(&A, MSR_DEADLINE, 100, 50);
	ck_assert(!(fx.flags & (VLAPIC_FX_TIMER_ARM | VLAPIC_FX_EVAL)));
	ck_assert_uint_eq(mrd(&A, MSR_DEADLINE), 0);
	vlapic_timer_update(&A, 1000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	/* Without the feature the MSR does not exist, and x2APIC rejects the
	 * mode bit as reserved. */
	struct vlapic_config c = cfg_of(0);
	c.tsc_deadline = false;
	vlapic_init(&A, &c);
	ck_assert_int_eq(mwr_rc(&A, MSR_DEADLINE, 1), VLAPIC_GP);
	ck_assert_int_eq(mrd_rc(&A, MSR_DEADLINE), VLAPIC_GP);
	enable(&A);
	to_x2apic(&A);
	ck_assert_int_eq(mwr_rc(&A, X2(R_TIMER), DEADLINE | 0x4B), VLAPIC_GP);
	ck_assert_int_eq(mwr_rc(&A, X2(R_TIMER), PERIODIC | 0x4B), VLAPIC_OK);
}
END_TEST

START_TEST(test_timer_mode_change_disarms)
{
	enable(&A);
	wr(&A, R_TDCR, 0xB);
	wr(&A, R_TIMER, 0x4C);
	wr_at(&A, R_TMICT, 100, 0);
	/* One-shot -> periodic: disarmed (11.5.4.1). */
	struct vlapic_effects fx = wr_at(&A, R_TIMER, PERIODIC | 0x4C, 10);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	vlapic_timer_update(&A, 100000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	ck_assert_uint_eq(rd_at(&A, R_TMCCT, 20), 0);
	/* Deadline armed, then back to one-shot: disarmed, MSR cleared. */
	wr(&A, R_TIMER, DEADLINE | 0x4C);
	mwr_at(&A, MSR_DEADLINE, 500000, 200000);
	fx = wr_at(&A, R_TIMER, 0x4C, 200001);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_STOP);
	wr(&A, R_TIMER, DEADLINE | 0x4C);
	ck_assert_uint_eq(mrd(&A, MSR_DEADLINE), 0);
	vlapic_timer_update(&A, 600000, NULL);
	ck_assert_int_eq(vlapic_highest_irr(&A), -1);
	/* Rewriting the same mode (e.g. to unmask) keeps it armed. */
	mwr_at(&A, MSR_DEADLINE, 700000, 600000);
	fx = wr_at(&A, R_TIMER, DEADLINE | 0x4D, 600001);
	ck_assert(fx.flags & VLAPIC_FX_TIMER_ARM);
	ck_assert_uint_eq(fx.timer_deadline, 700000);
	vlapic_timer_update(&A, 700000, NULL);
	ck_assert(irr_has(&A, 0x4D));
}
END_TEST

START_TEST(test_timer_x2apic_msrs)
{
	enable(&A);
	to_x2apic(&A);
	mwr(&A, X2(R_TDCR), 0xB);
	mwr(&A, X2(R_TIMER), PERIODIC | 0x4E);
	struct vlapic_effects fx = mwr_at(&A, X2(R_TMICT), 4, 1000);
	ck_assert_uint_eq(fx.timer_deadline, 1040);
	u64 v;
	ck_assert_int_eq(vlapic_msr_read(&A, X2(R_TMCCT), 1015, &v, NULL), VLAPIC_OK);
	ck_assert_uint_eq(v, 3);
	ck_assert_uint_eq(mrd(&A, X2(R_TMICT)), 4);
}
END_TEST


/* ---- Hv#1 additions: AutoEOI and register access by offset ------------------ */

/* TLFS digest 7.6: an AutoEOI vector is acknowledged without entering the
 * ISR, so it neither blocks lower classes nor needs (or takes) an EOI. */
START_TEST(test_auto_eoi_ack_skips_isr)
{
	enable(&A);
	vlapic_set_auto_eoi(&A, 0x50, true);
	ck_assert(vlapic_is_auto_eoi(&A, 0x50));
	ck_assert(!vlapic_is_auto_eoi(&A, 0x51));
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x50);
	ck_assert(!irr_has(&A, 0x50));
	ck_assert(!isr_has(&A, 0x50));
	ck_assert_uint_eq(vlapic_ppr(&A), 0);
	/* A lower class is deliverable at once. */
	vlapic_accept_interrupt(&A, 0x30, false, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x30);
	ck_assert_uint_eq(ack(&A), 0x30);
	ck_assert(isr_has(&A, 0x30));
	/* The guest's EOI retires 0x30, the ordinary vector. */
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert(fx.flags & VLAPIC_FX_EOI);
	ck_assert_uint_eq(fx.eoi_vector, 0x30);
	/* Nothing left to retire. */
	fx = wr(&A, R_EOI, 0);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
}
END_TEST

/* AutoEOI is the hypervisor's configuration: INIT keeps it; turning it off
 * brings back the ordinary ISR behaviour. */
START_TEST(test_auto_eoi_survives_init_and_clears)
{
	enable(&A);
	vlapic_set_auto_eoi(&A, 0x60, true);
	vlapic_reset_init(&A, NULL);
	ck_assert(vlapic_is_auto_eoi(&A, 0x60));
	vlapic_set_auto_eoi(&A, 0x60, false);
	enable(&A);
	vlapic_accept_interrupt(&A, 0x60, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x60);
	ck_assert(isr_has(&A, 0x60));
}
END_TEST

/* An interrupt in service still blocks an AutoEOI vector of a lower or equal
 * class (11.8.3.1 is unchanged); a higher one goes through without the ISR. */
START_TEST(test_auto_eoi_respects_ppr)
{
	enable(&A);
	vlapic_set_auto_eoi(&A, 0x41, true);
	vlapic_accept_interrupt(&A, 0x45, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x45);
	vlapic_accept_interrupt(&A, 0x41, false, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), -1);
	vlapic_set_auto_eoi(&A, 0x91, true);
	vlapic_accept_interrupt(&A, 0x91, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x91);
	ck_assert(!isr_has(&A, 0x91));
	ck_assert(isr_has(&A, 0x45));
}
END_TEST

/* Register access by offset works in both modes (Hv#1 EOI/ICR/TPR MSRs,
 * digest 2.9): TPR, EOI, and the 64-bit ICR with the destination in 63:32
 * (xAPIC: 63:56), which sends. */
START_TEST(test_reg_access_either_mode)
{
	u64 v;
	enable(&A);
	ck_assert_int_eq(vlapic_reg_write(&A, R_TPR, 0x20, 0, NULL), VLAPIC_OK);
	ck_assert_int_eq(vlapic_reg_read(&A, R_TPR, 0, &v, NULL), VLAPIC_OK);
	ck_assert_uint_eq(v, 0x20);
	struct vlapic_effects fx = {0};
	ck_assert_int_eq(vlapic_reg_write(&A, R_ICRLO, (0x03ULL << 56) | 0x4031, 0, &fx), VLAPIC_OK);
	ck_assert(fx.flags & VLAPIC_FX_IPI);
	ck_assert_uint_eq(fx.ipi.vector, 0x31);
	ck_assert_uint_eq(fx.ipi.dest, 3);
	ck_assert_int_eq(vlapic_reg_read(&A, R_ICRLO, 0, &v, NULL), VLAPIC_OK);
	ck_assert_uint_eq(v, (0x03ULL << 56) | 0x4031);
	/* EOI is write-only; in x2APIC mode the same calls work. */
	ck_assert_int_eq(vlapic_reg_read(&A, R_EOI, 0, &v, NULL), VLAPIC_GP);
	to_x2apic(&A);
	vlapic_accept_interrupt(&A, 0x70, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x70);
	memset(&fx, 0, sizeof(fx));
	ck_assert_int_eq(vlapic_reg_write(&A, R_EOI, 0, 0, &fx), VLAPIC_OK);
	ck_assert_uint_eq(fx.eoi_vector, 0x70);
	memset(&fx, 0, sizeof(fx));
	ck_assert_int_eq(vlapic_reg_write(&A, R_ICRLO, (5ULL << 32) | 0x4032, 0, &fx), VLAPIC_OK);
	ck_assert_uint_eq(fx.ipi.dest, 5);
	/* A hardware-disabled APIC has no registers. */
	mk(&B, 1);
	mwr(&B, MSR_BASE, B.apic_base & ~(1ULL << 11));
	ck_assert_int_eq(vlapic_reg_write(&B, R_TPR, 0x20, 0, NULL), VLAPIC_GP);
}
END_TEST

/* ---- Hv#1 EOI assist (TLFS digest 7.6) ------------------------------------------ */

/* The guest skipped the EOI: the settle does it, with the EOI's effects
 * (SynIC re-delivery hangs off VLAPIC_FX_EOI) and no IOAPIC broadcast. */
START_TEST(test_eoi_assist_skipped_eoi_is_done_at_settle)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x50);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x50);
	struct vlapic_effects fx = {0};
	vlapic_eoi_assist_settle(&A, true, &fx);
	ck_assert(fx.flags & VLAPIC_FX_EOI);
	ck_assert(fx.flags & VLAPIC_FX_EVAL);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI_BROADCAST));
	ck_assert_uint_eq(fx.eoi_vector, 0x50);
	ck_assert(!isr_has(&A, 0x50));
	ck_assert_uint_eq(vlapic_ppr(&A), 0);
	/* Nothing is in service, so nothing is offered, and a second settle
	 * retires nothing. */
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	memset(&fx, 0, sizeof(fx));
	vlapic_eoi_assist_settle(&A, true, &fx);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
	/* The same vector is deliverable again (without the EOI, the ISR bit
	 * would block its own class). */
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	ck_assert_int_eq(vlapic_highest_pending(&A), 0x50);
}
END_TEST

/* The guest did not take it: the vector stays in service, is offered again
 * at the next entry (an exit in the middle of a handler keeps the assist),
 * and an ordinary EOI ends the offers: only one EOI ever happens. */
START_TEST(test_eoi_assist_not_taken_then_ordinary_eoi)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	ack(&A);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x50);
	struct vlapic_effects fx = {0};
	vlapic_eoi_assist_settle(&A, false, &fx);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
	ck_assert(isr_has(&A, 0x50));
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x50);
	vlapic_eoi_assist_settle(&A, false, NULL);
	fx = wr(&A, R_EOI, 0);
	ck_assert_uint_eq(fx.eoi_vector, 0x50);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	/* A lower vector that entered service before the EOI is not retired
	 * by a stale settle. */
	vlapic_accept_interrupt(&A, 0x30, false, NULL);
	vlapic_accept_interrupt(&A, 0x20, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x30);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1); /* 0x20 waits */
	memset(&fx, 0, sizeof(fx));
	vlapic_eoi_assist_settle(&A, true, &fx);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
	ck_assert(isr_has(&A, 0x30));
}
END_TEST

/* Level-triggered vectors are never offered: their EOI must reach the
 * IOAPIC at once. */
START_TEST(test_eoi_assist_level_not_offered)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x50, true, NULL);
	ack(&A);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	struct vlapic_effects fx = {0};
	vlapic_eoi_assist_settle(&A, true, &fx);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
	ck_assert(isr_has(&A, 0x50));
}
END_TEST

/* Anything waiting in IRR (below, or arriving later) stops the offer: the
 * EOI would let it in. */
START_TEST(test_eoi_assist_irr_waiting_not_offered)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	vlapic_accept_interrupt(&A, 0x30, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x50);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	wr(&A, R_EOI, 0);
	ck_assert_uint_eq(ack(&A), 0x30);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x30);
	vlapic_eoi_assist_settle(&A, false, NULL);
	/* One arrives while 0x30 is in service: withdrawn at the next entry. */
	vlapic_accept_interrupt(&A, 0x21, false, NULL);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
}
END_TEST

/* Nested: the interrupt that nests is not offered (two in service), nor is
 * the one it interrupted once it is alone again (an EOI came between). */
START_TEST(test_eoi_assist_nested_not_offered)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x30, false, NULL);
	ack(&A);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x30);
	vlapic_eoi_assist_settle(&A, false, NULL);
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x50);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	struct vlapic_effects fx = wr(&A, R_EOI, 0);
	ck_assert_uint_eq(fx.eoi_vector, 0x50);
	ck_assert(isr_has(&A, 0x30));
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
}
END_TEST

/* AutoEOI puts nothing in service: alone it is not offered, and nested in a
 * handler it leaves that handler's offer as it was. */
START_TEST(test_eoi_assist_auto_eoi)
{
	enable(&A);
	vlapic_set_auto_eoi(&A, 0x91, true);
	vlapic_accept_interrupt(&A, 0x91, false, NULL);
	ack(&A);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	vlapic_accept_interrupt(&A, 0x30, false, NULL);
	ack(&A);
	vlapic_accept_interrupt(&A, 0x91, false, NULL);
	ck_assert_uint_eq(ack(&A), 0x91);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x30);
}
END_TEST

/* INIT empties the ISR: nothing is offered after it, and a settle whose
 * vector has left the ISR retires nothing. */
START_TEST(test_eoi_assist_init_and_stale_settle)
{
	enable(&A);
	vlapic_accept_interrupt(&A, 0x50, false, NULL);
	ack(&A);
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), 0x50);
	vlapic_reset_init(&A, NULL);
	enable(&A);
	struct vlapic_effects fx = {0};
	vlapic_eoi_assist_settle(&A, true, &fx);
	ck_assert(!(fx.flags & VLAPIC_FX_EOI));
	ck_assert_int_eq(vlapic_eoi_assist_offer(&A), -1);
	/* A fresh APIC offers nothing either. */
	ck_assert_int_eq(vlapic_eoi_assist_offer(&B), -1);
}
END_TEST

static Suite *vlapic_suite(void)
{
	Suite *s = suite_create("vlapic");
	TCase *tc;

	tc = tcase_create("priority");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_config_checked);
	tcase_add_test(tc, test_ppr_rules);
	tcase_add_test(tc, test_tpr_masks_classes);
	tcase_add_test(tc, test_isr_blocks_lower_classes);
	tcase_add_test(tc, test_irr_collapses);
	tcase_add_test(tc, test_ack_spurious);
	tcase_add_test(tc, test_software_disabled);
	tcase_add_test(tc, test_apr);
	suite_add_tcase(s, tc);

	tc = tcase_create("eoi");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_level_eoi_broadcast);
	tcase_add_test(tc, test_tmr_follows_trigger);
	tcase_add_test(tc, test_eoi_broadcast_suppression);
	suite_add_tcase(s, tc);

	tc = tcase_create("icr");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_icr_every_delivery_mode_xapic);
	tcase_add_test(tc, test_icr_shorthands_xapic);
	tcase_add_test(tc, test_icr_x2apic);
	tcase_add_test(tc, test_init_deassert_not_sent);
	tcase_add_test(tc, test_send_illegal_vector);
	tcase_add_test(tc, test_icr_encode_decode);
	tcase_add_test(tc, test_self_ipi_x2apic);
	tcase_add_test(tc, test_xapic_self_shorthand);
	tcase_add_test(tc, test_ipi_delivered_edge);
	tcase_add_test(tc, test_ipi_end_to_end);
	suite_add_tcase(s, tc);

	tc = tcase_create("destination");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_physical_xapic);
	tcase_add_test(tc, test_logical_flat);
	tcase_add_test(tc, test_logical_cluster);
	tcase_add_test(tc, test_x2apic_cluster);
	tcase_add_test(tc, test_x2apic_ldr_derivation);
	tcase_add_test(tc, test_shorthand_match);
	suite_add_tcase(s, tc);

	tc = tcase_create("esr");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_esr_write_then_read);
	tcase_add_test(tc, test_receive_illegal_vector);
	tcase_add_test(tc, test_error_interrupt);
	suite_add_tcase(s, tc);

	tc = tcase_create("registers");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_xapic_reserved_registers);
	tcase_add_test(tc, test_xapic_readonly_and_writeonly);
	tcase_add_test(tc, test_xapic_alignment);
	tcase_add_test(tc, test_xapic_write_masks);
	tcase_add_test(tc, test_x2apic_msr_rules);
	tcase_add_test(tc, test_apic_base_transitions);
	tcase_add_test(tc, test_disable_resets);
	tcase_add_test(tc, test_x2apic_switch_keeps_state);
	tcase_add_test(tc, test_init_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("local");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_lint_delivery_modes);
	tcase_add_test(tc, test_lint_level_remote_irr);
	tcase_add_test(tc, test_perfmon_masks_itself);
	tcase_add_test(tc, test_deliver_events);
	tcase_add_test(tc, test_null_effects);
	suite_add_tcase(s, tc);

	tc = tcase_create("timer");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_timer_oneshot);
	tcase_add_test(tc, test_timer_expiry_seen_by_register_access);
	tcase_add_test(tc, test_timer_periodic);
	tcase_add_test(tc, test_timer_masked_keeps_counting);
	tcase_add_test(tc, test_timer_divide_values);
	tcase_add_test(tc, test_timer_fractional_ratio);
	tcase_add_test(tc, test_timer_stop_and_restart);
	tcase_add_test(tc, test_timer_divide_change_midcount);
	tcase_add_test(tc, test_timer_illegal_vector);
	tcase_add_test(tc, test_tsc_deadline);
	tcase_add_test(tc, test_tsc_deadline_in_past);
	tcase_add_test(tc, test_tsc_deadline_outside_mode);
	tcase_add_test(tc, test_timer_mode_change_disarms);
	tcase_add_test(tc, test_timer_x2apic_msrs);
	suite_add_tcase(s, tc);

	tc = tcase_create("hv");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_auto_eoi_ack_skips_isr);
	tcase_add_test(tc, test_auto_eoi_survives_init_and_clears);
	tcase_add_test(tc, test_auto_eoi_respects_ppr);
	tcase_add_test(tc, test_reg_access_either_mode);
	tcase_add_test(tc, test_eoi_assist_skipped_eoi_is_done_at_settle);
	tcase_add_test(tc, test_eoi_assist_not_taken_then_ordinary_eoi);
	tcase_add_test(tc, test_eoi_assist_level_not_offered);
	tcase_add_test(tc, test_eoi_assist_irr_waiting_not_offered);
	tcase_add_test(tc, test_eoi_assist_nested_not_offered);
	tcase_add_test(tc, test_eoi_assist_auto_eoi);
	tcase_add_test(tc, test_eoi_assist_init_and_stale_settle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vlapic_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
