/* The virtual local APIC; see vlapic.h for what is modelled.  Section numbers
 * are Intel SDM Vol. 3A chapter 11. */
#include "kernel/vm/vlapic.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"

/* A caller may pass fx = NULL when it does not care; give the code below
 * something to write to. */
#define FX_OR_SCRATCH(fx)                          \
	struct vlapic_effects fx##_scratch = { 0 }; \
	if (!(fx))                                 \
		(fx) = &fx##_scratch

/* ---- 256-bit vector sets, in register layout (ISR/TMR/IRR, 11.8.4) -------- */

static bool vec_test(const u32 *set, u8 v)
{
	return (set[v >> 5] >> (v & 31)) & 1u;
}

static void vec_set(u32 *set, u8 v)
{
	set[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(u32 *set, u8 v)
{
	set[v >> 5] &= ~(1u << (v & 31));
}

static int vec_highest(const u32 *set)
{
	for (int i = 7; i >= 0; i--)
		if (set[i])
			return i * 32 + 31 - __builtin_clz(set[i]);
	return -1;
}

/* True when v is the one vector in the set. */
static bool vec_only(const u32 *set, u8 v)
{
	for (u32 i = 0; i < 8; i++)
		if (set[i] != (i == (u32)(v >> 5) ? 1u << (v & 31) : 0))
			return false;
	return true;
}

/* ---- modes ----------------------------------------------------------------- */

enum vlapic_mode vlapic_mode(const struct vlapic *a)
{
	if (!(a->apic_base & VLAPIC_BASE_EN))
		return VLAPIC_MODE_DISABLED;
	return (a->apic_base & VLAPIC_BASE_EXTD) ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
}

static bool is_x2apic(const struct vlapic *a)
{
	return vlapic_mode(a) == VLAPIC_MODE_X2APIC;
}

static bool sw_enabled(const struct vlapic *a)
{
	return (a->svr & VLAPIC_SVR_ENABLE) != 0;
}

u64 vlapic_mmio_base(const struct vlapic *a)
{
	return a->apic_base & ~0xFFFULL;
}

u32 vlapic_id(const struct vlapic *a)
{
	return is_x2apic(a) ? a->cfg.apic_id : a->xapic_id >> 24;
}

/* Local APIC version register (11.4.8): version, "max LVT entry" = number of
 * LVT entries minus one, and bit 24 when EOI-broadcast suppression exists. */
static u32 version_reg(const struct vlapic *a)
{
	u32 max_lvt = a->cfg.cmci ? 6 : 5;
	return a->cfg.version | (max_lvt << 16) | (a->cfg.eoi_suppression ? 1u << 24 : 0);
}

/* ---- errors (11.5.3) ------------------------------------------------------- */

/* Errors accumulate in esr_pending until the guest writes the ESR.  The error
 * interrupt goes out through the LVT error entry whatever the entry's mask
 * says about collecting them ("errors are collected regardless of the mask").
 * An illegal vector in the error entry itself only records "receive illegal
 * vector" (11.5.2: no IRR bit below 16), which also ends the recursion. */
static void record_error(struct vlapic *a, u32 bits, struct vlapic_effects *fx)
{
	a->esr_pending |= bits;
	u32 lvt = a->lvt[VLAPIC_LVT_ERROR];
	if (lvt & VLAPIC_LVT_MASKED)
		return;
	u8 v = (u8)(lvt & VLAPIC_LVT_VECTOR);
	if (v < 16) {
		a->esr_pending |= VLAPIC_ESR_RECV_ILLEGAL_VECTOR;
		return;
	}
	vec_set(a->irr, v);
	vec_clear(a->tmr, v);
	fx->flags |= VLAPIC_FX_EVAL;
}

/* ---- priorities (11.8.3.1, 11.6.2.4) --------------------------------------- */

u8 vlapic_ppr(const struct vlapic *a)
{
	int isrv = vec_highest(a->isr);
	u32 isr_class = isrv < 0 ? 0 : (u32)isrv & 0xF0;

	/* PPR = TPR when TPR's class is at least the in-service class, else
	 * the in-service class with a zero subclass. */
	if ((a->tpr & 0xF0) >= isr_class)
		return (u8)a->tpr;
	return (u8)isr_class;
}

/* Arbitration priority, used only to pick a lowest-priority target.  The SDM
 * states: APR = TPR if TPR[7:4] >= IRRV[7:4] and TPR[7:4] > ISRV[7:4];
 * otherwise APR[7:4] is the highest of the classes involved (its text writes
 * "max(TPR[7:4] AND ISRV[7:4], IRRV[7:4])") with APR[3:0] = 0.  We take the
 * highest of the three classes, which ranks a busier APIC higher. */
u8 vlapic_apr(const struct vlapic *a)
{
	int irrv = vec_highest(a->irr), isrv = vec_highest(a->isr);
	u32 tpr_c = a->tpr & 0xF0;
	u32 irr_c = irrv < 0 ? 0 : (u32)irrv & 0xF0;
	u32 isr_c = isrv < 0 ? 0 : (u32)isrv & 0xF0;

	if (tpr_c >= irr_c && tpr_c > isr_c)
		return (u8)a->tpr;
	return (u8)MAX(tpr_c, MAX(irr_c, isr_c));
}

int vlapic_highest_irr(const struct vlapic *a)
{
	return vec_highest(a->irr);
}

int vlapic_highest_pending(const struct vlapic *a)
{
	/* 11.4.7.2: a software-disabled APIC holds IRR but presents nothing;
	 * a globally disabled one is not there at all. */
	if (vlapic_mode(a) == VLAPIC_MODE_DISABLED || !sw_enabled(a))
		return -1;
	int irrv = vec_highest(a->irr);
	if (irrv < 0)
		return -1;
	/* 11.8.3.1: only a class above PPR's class is dispensed. */
	if (((u32)irrv & 0xF0) > (u32)(vlapic_ppr(a) & 0xF0))
		return irrv;
	return -1;
}

bool vlapic_ack(struct vlapic *a, u8 *vector)
{
	int v = vlapic_highest_pending(a);
	if (v < 0) {
		/* 11.9: the interrupt was masked between INTR and INTA; the APIC
		 * dispenses the spurious vector and leaves the ISR alone, so the
		 * handler must not EOI. */
		*vector = (u8)(a->svr & VLAPIC_SVR_VECTOR);
		return false;
	}
	vec_clear(a->irr, (u8)v);
	/* AutoEOI (Hv#1, TLFS digest 7.6): the EOI happens at acceptance, so
	 * the vector never enters the ISR and nothing is broadcast.  It puts
	 * nothing in service either, so last_acked stays as it was. */
	if (!vec_test(a->auto_eoi, (u8)v)) {
		vec_set(a->isr, (u8)v);
		a->last_acked = (s16)v;
	}
	*vector = (u8)v;
	return true;
}

void vlapic_set_auto_eoi(struct vlapic *a, u8 vector, bool on)
{
	if (on)
		vec_set(a->auto_eoi, vector);
	else
		vec_clear(a->auto_eoi, vector);
}

bool vlapic_is_auto_eoi(const struct vlapic *a, u8 vector)
{
	return vec_test(a->auto_eoi, vector);
}

void vlapic_eoi(struct vlapic *a, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	a->last_acked = -1;
	/* 11.8.5: the EOI retires the highest-priority in-service vector,
	 * whatever the handler thinks it is serving. */
	int v = vec_highest(a->isr);
	if (v < 0)
		return;
	vec_clear(a->isr, (u8)v);
	fx->flags |= VLAPIC_FX_EOI | VLAPIC_FX_EVAL;
	fx->eoi_vector = (u8)v;
	if (!vec_test(a->tmr, (u8)v))
		return;
	/* Level-triggered: the EOI message goes to every IOAPIC unless the
	 * guest suppressed the broadcast in SVR bit 12 and will write the
	 * IOAPIC's EOI register itself (11.8.5, directed EOI). */
	if (!(a->cfg.eoi_suppression && (a->svr & VLAPIC_SVR_EOI_SUPPRESS)))
		fx->flags |= VLAPIC_FX_EOI_BROADCAST;
	/* A level-triggered LINT entry's remote IRR clears on the EOI for its
	 * vector (11.5.1, "Remote IRR flag"). */
	for (int i = VLAPIC_LVT_LINT0; i <= VLAPIC_LVT_LINT1; i++)
		if ((a->lvt[i] & VLAPIC_LVT_REMOTE_IRR) &&
		    (a->lvt[i] & VLAPIC_LVT_VECTOR) == (u32)v)
			a->lvt[i] &= ~VLAPIC_LVT_REMOTE_IRR;
}

/* The rule for offering EOI assist (TLFS digest 7.6 "no EOI required").
 * Vector v is offered for the coming entry when:
 *  - v is last_acked: the last acknowledgement put it in service and no EOI
 *    has happened since, so it is the highest in service and the guest's
 *    next EOI is the one that retires it (11.8.5);
 *  - v is the only vector in service.  The TLFS (and KVM) also let the
 *    highest of nested interrupts skip its EOI; this hypervisor keeps to
 *    Xen's stricter rule, under which a skipped EOI always empties the ISR
 *    and a nested interrupt, like the one it interrupted, EOIs through a
 *    trap.  Linux never nests interrupt handlers, so it loses nothing;
 *  - v is edge-triggered (TMR clear): a level-triggered EOI has to reach the
 *    IOAPICs (remote IRR) or a LINT entry at once, not at the next exit;
 *  - IRR is empty: the EOI would let a waiting interrupt in, and a skipped
 *    EOI is only seen at the next exit, which may be far away.
 * Everything that changes these conditions while the guest runs makes it
 * exit first: an interrupt sent to it kicks it, its timers expire through
 * the host timer, and its own EOI and ICR writes trap (a CR8 write need
 * not: no condition here depends on TPR).  The caller withdraws the
 * bit at every exit and settles what the guest did, and offers anew before
 * every entry: while an interrupt is in service, a guest that exits (say, to
 * read an MSR) keeps the assist for it, and one that does not exit until the
 * next interrupt has its skipped EOI done before that interrupt is looked
 * at. */
int vlapic_eoi_assist_offer(struct vlapic *a)
{
	int v = a->last_acked;

	a->eoi_assisted = -1;
	if (v < 0 || vlapic_mode(a) == VLAPIC_MODE_DISABLED || !vec_only(a->isr, (u8)v) ||
	    vec_test(a->tmr, (u8)v) || vec_highest(a->irr) >= 0)
		return -1;
	a->eoi_assisted = (s16)v;
	return v;
}

void vlapic_eoi_assist_settle(struct vlapic *a, bool skipped, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	int v = a->eoi_assisted;

	a->eoi_assisted = -1;
	/* Nothing but the guest's own EOI can change the ISR while it runs, and
	 * that traps; still, never retire anything but the vector offered. */
	if (skipped && v >= 0 && vec_highest(a->isr) == v)
		vlapic_eoi(a, fx);
}

/* ---- interrupts in ------------------------------------------------------------ */

bool vlapic_accept_interrupt(struct vlapic *a, u8 vector, bool level, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	if (vlapic_mode(a) == VLAPIC_MODE_DISABLED)
		return false;
	/* 11.5.2 / 11.5.3 bit 6: vectors 0-15 never reach IRR. */
	if (vector < 16) {
		record_error(a, VLAPIC_ESR_RECV_ILLEGAL_VECTOR, fx);
		return false;
	}
	/* 11.8.4: an interrupt already in IRR collapses into the same bit (one
	 * can wait in IRR while another is in service); TMR follows the
	 * trigger mode of the latest acceptance. */
	vec_set(a->irr, vector);
	if (level)
		vec_set(a->tmr, vector);
	else
		vec_clear(a->tmr, vector);
	fx->flags |= VLAPIC_FX_EVAL;
	return true;
}

void vlapic_deliver(struct vlapic *a, u8 delivery, u8 vector, bool level,
		    struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	if (vlapic_mode(a) == VLAPIC_MODE_DISABLED)
		return;
	u32 ev = 0;
	switch (delivery) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		vlapic_accept_interrupt(a, vector, level, fx);
		return;
	case VLAPIC_DM_NMI:
		ev = VLAPIC_EV_NMI;
		break;
	case VLAPIC_DM_INIT:
		ev = VLAPIC_EV_INIT;
		break;
	case VLAPIC_DM_STARTUP:
		ev = VLAPIC_EV_SIPI;
		a->sipi_vector = vector;
		break;
	case VLAPIC_DM_SMI:
		ev = VLAPIC_EV_SMI;
		break;
	case VLAPIC_DM_EXTINT:
		ev = VLAPIC_EV_EXTINT;
		break;
	default:
		return;
	}
	/* 11.4.7.2: even a software-disabled APIC takes these. */
	a->events |= ev;
	fx->flags |= VLAPIC_FX_EVAL;
}

bool vlapic_ipi_matches(const struct vlapic *target, const struct vlapic_ipi *ipi,
			bool target_is_sender)
{
	if (vlapic_mode(target) == VLAPIC_MODE_DISABLED)
		return false;
	struct vlapic_dest_regs r = {
		.x2apic = is_x2apic(target),
		.id = vlapic_id(target),
		.ldr = target->ldr,
		.dfr = target->dfr,
	};
	return vlapic_dest_match(&r, ipi, target_is_sender);
}

void vlapic_deliver_ipi(struct vlapic *target, const struct vlapic_ipi *ipi,
			struct vlapic_effects *fx)
{
	/* Table 11-3 note 2: the xAPIC sends every IPI edge-triggered, whatever
	 * the ICR's trigger mode bit says, so an IPI never sets TMR. */
	vlapic_deliver(target, ipi->delivery, ipi->vector, false, fx);
}

u32 vlapic_take_events(struct vlapic *a, u8 *sipi_vector)
{
	u32 ev = a->events;
	a->events = 0;
	if (sipi_vector)
		*sipi_vector = a->sipi_vector;
	return ev;
}

/* ---- the local vector table (11.5.1) ----------------------------------------- */

/* The bits software can change in each LVT entry.  Delivery status and
 * remote IRR are read-only; the timer and error entries have no delivery
 * mode (always fixed); bit 18 of the timer exists only with TSC-deadline. */
static u32 lvt_wmask(const struct vlapic *a, enum vlapic_lvt i)
{
	switch (i) {
	case VLAPIC_LVT_TIMER:
		return VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED | (1u << 17) |
		       (a->cfg.tsc_deadline ? 1u << 18 : 0);
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
		return VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM | VLAPIC_LVT_POLARITY | VLAPIC_LVT_LEVEL |
		       VLAPIC_LVT_MASKED;
	case VLAPIC_LVT_ERROR:
		return VLAPIC_LVT_VECTOR | VLAPIC_LVT_MASKED;
	default:
		return VLAPIC_LVT_VECTOR | VLAPIC_LVT_DM | VLAPIC_LVT_MASKED;
	}
}

static u32 lvt_readonly(enum vlapic_lvt i)
{
	if (i == VLAPIC_LVT_LINT0 || i == VLAPIC_LVT_LINT1)
		return VLAPIC_LVT_PENDING | VLAPIC_LVT_REMOTE_IRR;
	return VLAPIC_LVT_PENDING;
}

void vlapic_lvt_fire(struct vlapic *a, enum vlapic_lvt which, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	if ((unsigned)which >= VLAPIC_LVT_COUNT || vlapic_mode(a) == VLAPIC_MODE_DISABLED)
		return;
	if (which == VLAPIC_LVT_CMCI && !a->cfg.cmci)
		return;
	u32 lvt = a->lvt[which];
	if (lvt & VLAPIC_LVT_MASKED)
		return;
	u8 vector = (u8)(lvt & VLAPIC_LVT_VECTOR);
	u8 dm = (which == VLAPIC_LVT_TIMER || which == VLAPIC_LVT_ERROR)
			? VLAPIC_DM_FIXED
			: (u8)((lvt & VLAPIC_LVT_DM) >> 8);
	/* Only LINT0/1 have a trigger mode; only fixed delivery uses it. */
	bool level = (which == VLAPIC_LVT_LINT0 || which == VLAPIC_LVT_LINT1) &&
		     (lvt & VLAPIC_LVT_LEVEL) && dm == VLAPIC_DM_FIXED;

	switch (dm) {
	case VLAPIC_DM_FIXED:
		/* A level-triggered pin is not delivered again until the EOI
		 * for the accepted one clears remote IRR. */
		if (level && (lvt & VLAPIC_LVT_REMOTE_IRR))
			return;
		if (vlapic_accept_interrupt(a, vector, level, fx) && level)
			a->lvt[which] |= VLAPIC_LVT_REMOTE_IRR;
		break;
	case VLAPIC_DM_SMI:
	case VLAPIC_DM_NMI:
	case VLAPIC_DM_INIT:
	case VLAPIC_DM_EXTINT:
		vlapic_deliver(a, dm, vector, false, fx);
		break;
	default:
		return; /* reserved encodings deliver nothing */
	}
	/* Figure 11-8 note: on Pentium 4 and later a performance-monitoring
	 * interrupt sets its entry's mask bit; the PMI handler unmasks it. */
	if (which == VLAPIC_LVT_PERFMON)
		a->lvt[which] |= VLAPIC_LVT_MASKED;
}

/* ---- the timer (11.5.4) ---------------------------------------------------------- */

/* floor(x * m / d) and its ceiling, exact whenever m * d < 2^64 (the config
 * limits keep every product used here far below that) and the result fits. */
static u64 muldiv(u64 x, u64 m, u64 d)
{
	return (x / d) * m + (x % d) * m / d;
}

static u64 muldiv_ceil(u64 x, u64 m, u64 d)
{
	u64 r = (x % d) * m;
	return (x / d) * m + r / d + (r % d != 0);
}

/* Divide configuration register (Figure 11-10): bits 3,1,0 encode divide by
 * 2, 4, 8, 16, 32, 64, 128, and 111b divide by 1. */
static u32 timer_divisor(const struct vlapic *a)
{
	u32 code = (a->timer_divide & 3u) | ((a->timer_divide & 8u) >> 1);
	return code == 7 ? 1 : 2u << code;
}

/* The reserved mode 11b behaves as one-shot here (neither periodic nor
 * TSC-deadline). */
static u32 timer_mode(const struct vlapic *a)
{
	return a->lvt[VLAPIC_LVT_TIMER] & VLAPIC_LVT_TIMER_MODE;
}

/* One count is divisor bus-clock ticks, i.e. divisor * num / den TSC ticks. */
static u64 tsc_per_count_num(const struct vlapic *a)
{
	return (u64)timer_divisor(a) * a->cfg.tsc_per_bus_num;
}

static u64 timer_elapsed(const struct vlapic *a, u64 now)
{
	if (now <= a->timer_base)
		return 0;
	return muldiv(now - a->timer_base, a->cfg.tsc_per_bus_den, tsc_per_count_num(a));
}

/* The first TSC value at which `counts` counts have elapsed since the base. */
static u64 timer_tsc_after(const struct vlapic *a, u64 counts)
{
	return a->timer_base + muldiv_ceil(counts, tsc_per_count_num(a), a->cfg.tsc_per_bus_den);
}

static u32 timer_current(const struct vlapic *a, u64 now)
{
	if (!a->timer_running)
		return 0;
	u64 e = timer_elapsed(a, now);
	if (e < a->timer_count)
		return a->timer_count - (u32)e;
	/* Periodic mode reloads the initial count when it reaches zero; one-
	 * shot stays at zero until reprogrammed. */
	if (timer_mode(a) == VLAPIC_TIMER_PERIODIC)
		return a->timer_initial - (u32)((e - a->timer_count) % a->timer_initial);
	return 0;
}

bool vlapic_timer_deadline(const struct vlapic *a, u64 *deadline)
{
	if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE) {
		*deadline = a->tsc_deadline;
		return a->tsc_deadline != 0;
	}
	if (!a->timer_running)
		return false;
	*deadline = timer_tsc_after(a, a->timer_count);
	return true;
}

static void timer_report(const struct vlapic *a, struct vlapic_effects *fx)
{
	u64 d;
	if (vlapic_timer_deadline(a, &d)) {
		fx->flags = (fx->flags & ~VLAPIC_FX_TIMER_STOP) | VLAPIC_FX_TIMER_ARM;
		fx->timer_deadline = d;
	} else {
		fx->flags = (fx->flags & ~VLAPIC_FX_TIMER_ARM) | VLAPIC_FX_TIMER_STOP;
		fx->timer_deadline = 0;
	}
}

/* Brings the timer up to `now`: delivers the expiry that is due, once, and
 * reports the new timer state if that changed it.  Every access that depends
 * on the timer's state calls this first, so an expiry the host timer has not
 * announced yet is never lost or reordered behind a reprogramming. */
static void timer_catch_up(struct vlapic *a, u64 now, struct vlapic_effects *fx)
{
	if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE) {
		/* 11.5.4.1: the interrupt comes when TSC >= the deadline; the
		 * timer then disarms itself and the MSR reads 0. */
		if (a->tsc_deadline && now >= a->tsc_deadline) {
			a->tsc_deadline = 0;
			vlapic_lvt_fire(a, VLAPIC_LVT_TIMER, fx);
			timer_report(a, fx);
		}
		return;
	}
	if (!a->timer_running)
		return;
	u64 e = timer_elapsed(a, now);
	if (e < a->timer_count)
		return;
	/* The count reached zero (the mask only suppresses the interrupt). */
	vlapic_lvt_fire(a, VLAPIC_LVT_TIMER, fx);
	if (timer_mode(a) != VLAPIC_TIMER_PERIODIC) {
		a->timer_running = false;
		timer_report(a, fx);
		return;
	}
	/* Periodic: rebase on the last reload at or before now, so the phase is
	 * kept and periods missed while nobody looked collapse into the one
	 * interrupt (IRR holds one per vector anyway). */
	u64 reloads = (e - a->timer_count) / a->timer_initial;
	u64 counts = a->timer_count + reloads * a->timer_initial;
	a->timer_base = timer_tsc_after(a, counts);
	a->timer_count = a->timer_initial;
	timer_report(a, fx);
}

void vlapic_timer_update(struct vlapic *a, u64 now, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	timer_catch_up(a, now, fx);
	timer_report(a, fx);
}

static void timer_write_initial(struct vlapic *a, u32 value, u64 now, struct vlapic_effects *fx)
{
	timer_catch_up(a, now, fx);
	/* 11.5.4.1: in TSC-deadline mode writes to the initial count are
	 * ignored. */
	if (timer_mode(a) != VLAPIC_TIMER_TSC_DEADLINE) {
		/* 11.5.4: a write (re)starts the count-down from the new value;
		 * a write of 0 stops the timer. */
		a->timer_initial = value;
		a->timer_running = value != 0;
		a->timer_base = now;
		a->timer_count = value;
	}
	timer_report(a, fx);
}

static void timer_write_divide(struct vlapic *a, u32 value, u64 now, struct vlapic_effects *fx)
{
	timer_catch_up(a, now, fx);
	/* The SDM does not say what a divide change does to a running count;
	 * keep the current count and count on from it at the new rate. */
	if (a->timer_running) {
		a->timer_count = timer_current(a, now);
		a->timer_base = now;
	}
	a->timer_divide = value & 0xBu;
	timer_report(a, fx);
}

static void timer_write_lvt(struct vlapic *a, u32 value, u64 now, struct vlapic_effects *fx)
{
	timer_catch_up(a, now, fx);
	u32 old_mode = timer_mode(a);
	a->lvt[VLAPIC_LVT_TIMER] = value;
	/* 11.5.4.1: a write that changes the timer mode disarms the timer. */
	if (timer_mode(a) != old_mode) {
		a->timer_running = false;
		a->tsc_deadline = 0;
	}
	timer_report(a, fx);
}

/* ---- resets ------------------------------------------------------------------------ */

/* Register values after power-up, RESET or INIT (11.4.7.1, 11.4.7.3,
 * 11.12.5.1).  The APIC ID and IA32_APIC_BASE are the caller's business. */
static void regs_reset(struct vlapic *a)
{
	a->tpr = 0;
	a->svr = 0xFF;
	a->dfr = 0xFFFFFFFFu;
	/* In x2APIC mode the LDR is not software's: it is always the value
	 * derived from the x2APIC ID (11.12.10.2). */
	a->ldr = is_x2apic(a) ? vlapic_x2apic_ldr(a->cfg.apic_id) : 0;
	memset(a->isr, 0, sizeof(a->isr));
	memset(a->tmr, 0, sizeof(a->tmr));
	memset(a->irr, 0, sizeof(a->irr));
	a->esr = a->esr_pending = 0;
	a->icr_lo = a->icr_hi = 0;
	for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
		a->lvt[i] = VLAPIC_LVT_MASKED;
	a->timer_initial = a->timer_divide = 0;
	a->timer_running = false;
	a->timer_base = 0;
	a->timer_count = 0;
	a->tsc_deadline = 0;
	a->last_acked = -1;
}

int vlapic_init(struct vlapic *a, const struct vlapic_config *cfg)
{
	const u32 ratio_max = 1u << 24;

	if (cfg->tsc_per_bus_num == 0 || cfg->tsc_per_bus_num > ratio_max ||
	    cfg->tsc_per_bus_den == 0 || cfg->tsc_per_bus_den > ratio_max)
		return VLAPIC_BAD_CONFIG;
	if (cfg->maxphyaddr != 0 && (cfg->maxphyaddr < 32 || cfg->maxphyaddr > 52))
		return VLAPIC_BAD_CONFIG;

	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	a->eoi_assisted = -1;
	if (!a->cfg.version)
		a->cfg.version = 0x14; /* integrated APIC (11.4.8) */
	if (!a->cfg.maxphyaddr)
		a->cfg.maxphyaddr = 36;
	/* 11.12.5.1: out of RESET the APIC is enabled in xAPIC mode, and the
	 * xAPIC ID is the low 8 bits of the x2APIC ID. */
	a->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (cfg->bsp ? VLAPIC_BASE_BSP : 0);
	a->xapic_id = (cfg->apic_id & 0xFFu) << 24;
	regs_reset(a);
	return VLAPIC_OK;
}

void vlapic_reset_init(struct vlapic *a, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	/* 11.12.5.1: INIT keeps the mode and the ID register (8 or 32 bits)
	 * and initialises everything else.  Pending events are kept: the SIPI
	 * that follows an INIT may already be waiting. */
	regs_reset(a);
	fx->flags |= VLAPIC_FX_EVAL;
	timer_report(a, fx);
}

/* ---- IA32_APIC_BASE (11.4.4, 11.12.5) ----------------------------------------------- */

static int apic_base_write(struct vlapic *a, u64 value, struct vlapic_effects *fx)
{
	u64 reserved = (~0ULL << a->cfg.maxphyaddr) | 0xFFULL | (1ULL << 9) |
		       (a->cfg.x2apic ? 0 : VLAPIC_BASE_EXTD);
	if (value & reserved) {
		pr_debug("vlapic %u: IA32_APIC_BASE %llx sets reserved bits\n", a->cfg.apic_id,
			 (unsigned long long)value);
		return VLAPIC_GP;
	}

	enum vlapic_mode old = vlapic_mode(a), new;
	bool en = value & VLAPIC_BASE_EN, extd = value & VLAPIC_BASE_EXTD;
	/* 11.12.5: EXTD=1 with EN=0 is the invalid state; x2APIC can only be
	 * entered from xAPIC mode and only left towards disabled. */
	if (extd && !en)
		return VLAPIC_GP;
	new = !en ? VLAPIC_MODE_DISABLED : extd ? VLAPIC_MODE_X2APIC : VLAPIC_MODE_XAPIC;
	if ((old == VLAPIC_MODE_X2APIC && new == VLAPIC_MODE_XAPIC) ||
	    (old == VLAPIC_MODE_DISABLED && new == VLAPIC_MODE_X2APIC)) {
		pr_debug("vlapic %u: illegal APIC mode transition %d -> %d\n", a->cfg.apic_id,
			 old, new);
		return VLAPIC_GP;
	}

	u64 old_base = a->apic_base;
	a->apic_base = value;
	if (new != old) {
		if (new == VLAPIC_MODE_DISABLED) {
			/* 11.4.3: disabling may return the APIC to its
			 * power-up state; we always do, so nothing stale
			 * survives a later re-enable.  Both IDs persist. */
			regs_reset(a);
			a->events = 0;
			timer_report(a, fx);
		} else if (new == VLAPIC_MODE_X2APIC) {
			/* xAPIC -> x2APIC: the x2APIC ID is the initial one and
			 * the LDR is derived from it; other registers keep
			 * their values (their extended fields are undefined;
			 * clear the ICR destination rather than widen it). */
			a->ldr = vlapic_x2apic_ldr(a->cfg.apic_id);
			a->icr_hi = 0;
		}
		fx->flags |= VLAPIC_FX_EVAL;
	}
	if (new != old || (old_base ^ value) & ~0xFFFULL)
		fx->flags |= VLAPIC_FX_BASE;
	return VLAPIC_OK;
}

/* ---- the register file ------------------------------------------------------------------ */

#define ACC_R 1u
#define ACC_W 2u

/* Who may do what to register index offset/16, per mode (Table 11-1 for
 * xAPIC, Table 11-6 for x2APIC).  No access bits: reserved. */
static const struct {
	u8 xapic, x2apic;
} reg_access[64] = {
	[0x02] = { ACC_R | ACC_W, ACC_R },         /* ID: read-only in x2APIC */
	[0x03] = { ACC_R, ACC_R },                 /* version */
	[0x08] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* TPR */
	[0x09] = { ACC_R, 0 },                     /* APR: not in x2APIC */
	[0x0A] = { ACC_R, ACC_R },                 /* PPR */
	[0x0B] = { ACC_W, ACC_W },                 /* EOI */
	[0x0C] = { ACC_R, 0 },                     /* remote read */
	[0x0D] = { ACC_R | ACC_W, ACC_R },         /* LDR: derived in x2APIC */
	[0x0E] = { ACC_R | ACC_W, 0 },             /* DFR: gone in x2APIC */
	[0x0F] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* SVR */
	[0x10 ... 0x27] = { ACC_R, ACC_R },        /* ISR, TMR, IRR */
	[0x28] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* ESR */
	[0x2F] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* LVT CMCI (if present) */
	[0x30] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* ICR (64-bit in x2APIC) */
	[0x31] = { ACC_R | ACC_W, 0 },             /* ICR high: merged in x2APIC */
	[0x32 ... 0x37] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* LVT timer..error */
	[0x38] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* initial count */
	[0x39] = { ACC_R, ACC_R },                 /* current count */
	[0x3E] = { ACC_R | ACC_W, ACC_R | ACC_W }, /* divide configuration */
	[0x3F] = { 0, ACC_W },                     /* SELF IPI: x2APIC only */
};

static u8 access_of(const struct vlapic *a, u32 idx, bool x2)
{
	if (idx >= ARRAY_SIZE(reg_access))
		return 0;
	if (idx == 0x2F && !a->cfg.cmci)
		return 0;
	return x2 ? reg_access[idx].x2apic : reg_access[idx].xapic;
}

/* Register index -> LVT entry, or -1. */
static int lvt_of(u32 idx)
{
	if (idx == 0x2F)
		return VLAPIC_LVT_CMCI;
	if (idx >= 0x32 && idx <= 0x37)
		return VLAPIC_LVT_TIMER + (int)(idx - 0x32);
	return -1;
}

static u32 svr_wmask(const struct vlapic *a)
{
	return VLAPIC_SVR_VECTOR | VLAPIC_SVR_ENABLE | VLAPIC_SVR_FOCUS_OFF |
	       (a->cfg.eoi_suppression ? VLAPIC_SVR_EOI_SUPPRESS : 0);
}

/* ICR bits software writes; bit 12 (delivery status) is read-only. */
#define ICR_LO_WMASK                                                                   \
	(VLAPIC_ICR_VECTOR | VLAPIC_ICR_DM | VLAPIC_ICR_LOGICAL | VLAPIC_ICR_ASSERT | \
	 VLAPIC_ICR_TRIGGER_LEVEL | VLAPIC_ICR_SH)

/* x2APIC reserved-bit checking (11.12.1.3): a WRMSR that sets a bit outside
 * this mask is #GP.  Read-only fields (delivery status, remote IRR) are not
 * reserved and are ignored, as is the ICR's delivery status: Intel ignores it
 * in x2APIC mode, so only bits 13, 17:16 and 31:20 of the ICR are checked. */
static u64 x2apic_write_ok(const struct vlapic *a, u32 idx)
{
	int lvt = lvt_of(idx);
	if (lvt >= 0)
		return lvt_wmask(a, (enum vlapic_lvt)lvt) | lvt_readonly((enum vlapic_lvt)lvt);
	switch (idx) {
	case 0x08:
		return 0xFF; /* TPR bits 31:8 reserved */
	case 0x0F:
		return svr_wmask(a);
	case 0x30:
		return 0xFFFFFFFF00000000ULL | ICR_LO_WMASK | VLAPIC_ICR_BUSY;
	case 0x38:
		return 0xFFFFFFFFu;
	case 0x3E:
		return 0xBu;
	case 0x3F:
		return 0xFFu;
	default:
		return 0; /* EOI and ESR: only zero may be written */
	}
}

static void send_ipi(struct vlapic *a, u64 icr, struct vlapic_effects *fx)
{
	struct vlapic_ipi ipi;
	vlapic_icr_decode(icr, is_x2apic(a), &ipi);
	/* Pentium 4 and later do not support INIT level de-assert, and the
	 * remote-read mode is gone: nothing is sent. */
	if (vlapic_ipi_is_init_deassert(&ipi) || ipi.delivery == VLAPIC_DM_RESERVED3)
		return;
	/* 11.5.3 bit 5: a fixed or lowest-priority IPI with vector 0-15 is an
	 * error on the sending side.  Receivers would only refuse it, so it is
	 * not sent at all. */
	if ((ipi.delivery == VLAPIC_DM_FIXED || ipi.delivery == VLAPIC_DM_LOWEST) &&
	    ipi.vector < 16) {
		record_error(a, VLAPIC_ESR_SEND_ILLEGAL_VECTOR, fx);
		return;
	}
	fx->ipi = ipi;
	fx->flags |= VLAPIC_FX_IPI;
}

static u32 reg_read(struct vlapic *a, u32 idx, u64 now, struct vlapic_effects *fx)
{
	int lvt = lvt_of(idx);
	if (lvt >= 0) {
		if (lvt == VLAPIC_LVT_TIMER)
			timer_catch_up(a, now, fx);
		return a->lvt[lvt];
	}
	if (idx >= 0x10 && idx < 0x18)
		return a->isr[idx - 0x10];
	if (idx >= 0x18 && idx < 0x20)
		return a->tmr[idx - 0x18];
	if (idx >= 0x20 && idx < 0x28)
		return a->irr[idx - 0x20];
	switch (idx) {
	case 0x02:
		return is_x2apic(a) ? a->cfg.apic_id : a->xapic_id;
	case 0x03:
		return version_reg(a);
	case 0x08:
		return a->tpr;
	case 0x09:
		return vlapic_apr(a);
	case 0x0A:
		return vlapic_ppr(a);
	case 0x0D:
		return a->ldr;
	case 0x0E:
		return a->dfr; /* stored with bits 27:0 as ones */
	case 0x0F:
		return a->svr;
	case 0x28:
		return a->esr;
	case 0x30:
		return a->icr_lo; /* delivery status always idle */
	case 0x31:
		return a->icr_hi;
	case 0x38:
		return a->timer_initial;
	case 0x39:
		/* 11.5.4.1: always 0 in TSC-deadline mode (never running). */
		timer_catch_up(a, now, fx);
		return timer_current(a, now);
	case 0x3E:
		return a->timer_divide;
	default:
		return 0; /* EOI (write-only) and the remote read register */
	}
}

static void reg_write(struct vlapic *a, u32 idx, u64 value, u64 now, struct vlapic_effects *fx)
{
	u32 v = (u32)value;
	int lvt = lvt_of(idx);
	if (lvt >= 0) {
		u32 nv = (v & lvt_wmask(a, (enum vlapic_lvt)lvt)) |
			 (a->lvt[lvt] & lvt_readonly((enum vlapic_lvt)lvt));
		/* 11.4.7.2: while software-disabled the mask bits stay set. */
		if (!sw_enabled(a))
			nv |= VLAPIC_LVT_MASKED;
		if (lvt == VLAPIC_LVT_TIMER)
			timer_write_lvt(a, nv, now, fx);
		else
			a->lvt[lvt] = nv;
		return;
	}
	switch (idx) {
	case 0x02:
		a->xapic_id = v & 0xFF000000u; /* xAPIC only (x2APIC: read-only) */
		break;
	case 0x08:
		a->tpr = v & 0xFFu;
		fx->flags |= VLAPIC_FX_EVAL;
		break;
	case 0x0B:
		vlapic_eoi(a, fx);
		break;
	case 0x0D:
		a->ldr = v & 0xFF000000u;
		break;
	case 0x0E:
		a->dfr = (v & 0xF0000000u) | 0x0FFFFFFFu;
		break;
	case 0x0F:
		a->svr = v & svr_wmask(a);
		/* 11.4.7.2: software-disabling sets every LVT mask bit. */
		if (!sw_enabled(a))
			for (int i = 0; i < VLAPIC_LVT_COUNT; i++)
				a->lvt[i] |= VLAPIC_LVT_MASKED;
		fx->flags |= VLAPIC_FX_EVAL;
		break;
	case 0x28:
		/* 11.5.3: a write latches the errors seen since the previous
		 * write into what reads return, and starts collecting anew. */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case 0x30:
		a->icr_lo = v & ICR_LO_WMASK;
		if (is_x2apic(a))
			a->icr_hi = (u32)(value >> 32);
		/* Writing the low half sends (11.6.1). */
		send_ipi(a, ((u64)a->icr_hi << 32) | a->icr_lo, fx);
		break;
	case 0x31:
		a->icr_hi = v & 0xFF000000u;
		break;
	case 0x38:
		timer_write_initial(a, v, now, fx);
		break;
	case 0x3E:
		timer_write_divide(a, v, now, fx);
		break;
	case 0x3F:
		/* 11.12.11: SELF IPI = fixed, edge, self shorthand. */
		send_ipi(a, (v & 0xFFu) | ((u32)VLAPIC_SH_SELF << VLAPIC_ICR_SH_SHIFT), fx);
		break;
	default:
		break;
	}
}

/* ---- MMIO (xAPIC) ------------------------------------------------------------------------ */

/* Returns the register index for an aligned in-page offset, or -1 for the
 * unused bytes 4-15 of a 16-byte slot. */
static int mmio_check(const struct vlapic *a, u32 offset, int *rc)
{
	if (vlapic_mode(a) != VLAPIC_MODE_XAPIC || offset >= 0x1000) {
		/* 11.12.2: in x2APIC mode the MMIO page behaves as for a
		 * globally disabled APIC. */
		*rc = VLAPIC_NOT_APIC;
		return -1;
	}
	if (offset & 3) {
		*rc = VLAPIC_UNALIGNED;
		return -1;
	}
	*rc = VLAPIC_OK;
	if (offset & 0xC)
		return -1;
	return (int)(offset >> 4);
}

int vlapic_mmio_read(struct vlapic *a, u32 offset, u64 now, u32 *value,
		     struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	int rc, idx = mmio_check(a, offset, &rc);
	*value = 0;
	if (idx < 0)
		return rc;
	u8 acc = access_of(a, (u32)idx, false);
	if (!acc) {
		/* 11.5.3 bit 7: a reserved register of the 4-KiB space. */
		record_error(a, VLAPIC_ESR_ILLEGAL_REGISTER, fx);
		return VLAPIC_OK;
	}
	if (acc & ACC_R)
		*value = reg_read(a, (u32)idx, now, fx);
	return VLAPIC_OK;
}

int vlapic_mmio_write(struct vlapic *a, u32 offset, u32 value, u64 now,
		      struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	int rc, idx = mmio_check(a, offset, &rc);
	if (idx < 0)
		return rc;
	u8 acc = access_of(a, (u32)idx, false);
	if (!acc) {
		record_error(a, VLAPIC_ESR_ILLEGAL_REGISTER, fx);
		return VLAPIC_OK;
	}
	/* Writes to read-only registers are ignored (Table 11-1). */
	if (acc & ACC_W)
		reg_write(a, (u32)idx, value, now, fx);
	return VLAPIC_OK;
}

/* ---- MSRs ------------------------------------------------------------------------------------ */

bool vlapic_msr_is_apic(u32 msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST);
}

int vlapic_msr_read(struct vlapic *a, u32 msr, u64 now, u64 *value, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	*value = 0;
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*value = a->apic_base;
		return VLAPIC_OK;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (!a->cfg.tsc_deadline)
			return VLAPIC_GP;
		/* 11.5.4.1: reads 0 outside TSC-deadline mode. */
		if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE) {
			timer_catch_up(a, now, fx);
			*value = a->tsc_deadline;
		}
		return VLAPIC_OK;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
		return VLAPIC_NOT_APIC;
	/* 11.12.2: the x2APIC MSRs exist only in x2APIC mode; reserved ones
	 * and reads of write-only ones are #GP (11.12.1.2). */
	u32 idx = msr - VLAPIC_MSR_X2APIC_FIRST;
	if (!is_x2apic(a) || !(access_of(a, idx, true) & ACC_R))
		return VLAPIC_GP;
	if (idx == 0x30)
		*value = ((u64)a->icr_hi << 32) | a->icr_lo;
	else
		*value = reg_read(a, idx, now, fx);
	return VLAPIC_OK;
}

int vlapic_msr_write(struct vlapic *a, u32 msr, u64 value, u64 now, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	if (msr == VLAPIC_MSR_APIC_BASE)
		return apic_base_write(a, value, fx);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (!a->cfg.tsc_deadline)
			return VLAPIC_GP;
		/* 11.5.4.1: ignored outside TSC-deadline mode; 0 disarms; a
		 * deadline already passed fires at once. */
		if (timer_mode(a) == VLAPIC_TIMER_TSC_DEADLINE) {
			a->tsc_deadline = value;
			timer_catch_up(a, now, fx);
			timer_report(a, fx);
		}
		return VLAPIC_OK;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST)
		return VLAPIC_NOT_APIC;
	u32 idx = msr - VLAPIC_MSR_X2APIC_FIRST;
	if (!is_x2apic(a) || !(access_of(a, idx, true) & ACC_W))
		return VLAPIC_GP;
	/* 11.12.1.3: bits 63:32 of every register but the ICR, and the
	 * reserved bits within, must be zero. */
	if (value & ~x2apic_write_ok(a, idx))
		return VLAPIC_GP;
	reg_write(a, idx, value, now, fx);
	return VLAPIC_OK;
}

/* ---- by offset, either mode (Hv#1 EOI/ICR/TPR MSRs) ------------------------------------------ */

int vlapic_reg_read(struct vlapic *a, u32 reg, u64 now, u64 *value, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	u32 idx = reg >> 4;
	*value = 0;
	if (vlapic_mode(a) == VLAPIC_MODE_DISABLED || (reg & 0xF) || reg >= 0x1000)
		return VLAPIC_GP;
	if (idx == VLAPIC_REG_ICR_LO >> 4) {
		*value = ((u64)a->icr_hi << 32) | a->icr_lo;
		return VLAPIC_OK;
	}
	if (!(access_of(a, idx, is_x2apic(a)) & ACC_R))
		return VLAPIC_GP;
	*value = reg_read(a, idx, now, fx);
	return VLAPIC_OK;
}

int vlapic_reg_write(struct vlapic *a, u32 reg, u64 value, u64 now, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	u32 idx = reg >> 4;
	if (vlapic_mode(a) == VLAPIC_MODE_DISABLED || (reg & 0xF) || reg >= 0x1000)
		return VLAPIC_GP;
	if (!(access_of(a, idx, is_x2apic(a)) & ACC_W))
		return VLAPIC_GP;
	/* The xAPIC keeps the destination in ICR high (bits 31:24); the 64-bit
	 * form carries it in 63:32 like x2APIC.  reg_write sends on the low half. */
	if (idx == VLAPIC_REG_ICR_LO >> 4 && !is_x2apic(a))
		a->icr_hi = (u32)(value >> 32) & 0xFF000000u;
	reg_write(a, idx, value, now, fx);
	return VLAPIC_OK;
}

/* ---- CR8 (11.8.6) ------------------------------------------------------------------------------ */

u64 vlapic_cr8_read(const struct vlapic *a)
{
	return (a->tpr >> 4) & 0xFu;
}

int vlapic_cr8_write(struct vlapic *a, u64 cr8, struct vlapic_effects *fx)
{
	FX_OR_SCRATCH(fx);
	/* CR8[63:4] are reserved (#GP); CR8[3:0] is TPR[7:4], TPR[3:0] = 0. */
	if (cr8 & ~0xFULL)
		return VLAPIC_GP;
	a->tpr = (u32)(cr8 << 4);
	fx->flags |= VLAPIC_FX_EVAL;
	return VLAPIC_OK;
}
