/* The virtual local APIC: the register state of one local APIC and the rules
 * that tie it together (Intel SDM Vol. 3A chapter 11).  One per VP per VTL
 * bank.
 *
 * Pure logic.  Nothing here touches hardware, knows VMX or SVM, or takes a
 * lock.  Every entry point works on one struct vlapic and reports what the
 * rest of the hypervisor has to do in a struct vlapic_effects instead of doing
 * it: send an IPI, tell the IOAPICs about an EOI, (re)arm or stop the host
 * timer behind the APIC timer, re-evaluate interrupt injection, move the MMIO
 * trap.  Time is the caller's: functions that need it take "now" in guest TSC
 * ticks.
 *
 * Guest-visible failures are return codes: VLAPIC_GP means "inject #GP(0)".
 *
 * What is modelled, and where it knowingly differs from a real APIC:
 *  - xAPIC MMIO registers (Table 11-1) and x2APIC MSRs 0x800-0x8FF (Table 11-6)
 *    with their access rules: reserved xAPIC registers set ESR bit 7 and read
 *    0; reserved MSRs, reads of write-only and writes of read-only MSRs, and
 *    non-zero reserved bits in x2APIC writes are #GP.
 *  - IA32_APIC_BASE (0x1B) with the state machine of 11.12.5, and
 *    IA32_TSC_DEADLINE (0x6E0).
 *  - IRR/ISR/TMR, TPR/PPR/APR, EOI with EOI-broadcast suppression, the ESR,
 *    the spurious vector, the LVT with its masking rules, the timer in
 *    one-shot, periodic and TSC-deadline modes.
 *  - Fixed and lowest-priority interrupts go through IRR/ISR.  NMI, INIT,
 *    SIPI, SMI and ExtINT are latched as events for the integrator (they are
 *    not APIC state, the VP acts on them).
 *  - Not modelled: delivery status (always idle), the remote read register
 *    (reads 0), focus processor checking (SVR bit 9 is kept but has no
 *    effect), APIC bus arbitration.  IPIs are delivered edge-triggered as the
 *    Pentium 4 and later do (Table 11-3, note 2). */
#ifndef HV_KERNEL_VM_VLAPIC_H
#define HV_KERNEL_VM_VLAPIC_H

#include "kernel/types.h"
#include "kernel/vm/vlapic_icr.h"

/* ---- architectural constants ---------------------------------------------- */

#define VLAPIC_MSR_APIC_BASE 0x1Bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6E0u
#define VLAPIC_MSR_X2APIC_FIRST 0x800u
#define VLAPIC_MSR_X2APIC_LAST 0x8FFu

/* IA32_APIC_BASE (SDM Figure 11-5). */
#define VLAPIC_BASE_BSP (1ULL << 8)
#define VLAPIC_BASE_EXTD (1ULL << 10)
#define VLAPIC_BASE_EN (1ULL << 11)
#define VLAPIC_DEFAULT_BASE 0xFEE00000ULL

/* xAPIC MMIO offsets (SDM Table 11-1); the x2APIC MSR is 0x800 + offset/16. */
#define VLAPIC_REG_ID 0x020u
#define VLAPIC_REG_VERSION 0x030u
#define VLAPIC_REG_TPR 0x080u
#define VLAPIC_REG_APR 0x090u
#define VLAPIC_REG_PPR 0x0A0u
#define VLAPIC_REG_EOI 0x0B0u
#define VLAPIC_REG_RRD 0x0C0u
#define VLAPIC_REG_LDR 0x0D0u
#define VLAPIC_REG_DFR 0x0E0u
#define VLAPIC_REG_SVR 0x0F0u
#define VLAPIC_REG_ISR0 0x100u
#define VLAPIC_REG_TMR0 0x180u
#define VLAPIC_REG_IRR0 0x200u
#define VLAPIC_REG_ESR 0x280u
#define VLAPIC_REG_LVT_CMCI 0x2F0u
#define VLAPIC_REG_ICR_LO 0x300u
#define VLAPIC_REG_ICR_HI 0x310u
#define VLAPIC_REG_LVT_TIMER 0x320u
#define VLAPIC_REG_LVT_THERMAL 0x330u
#define VLAPIC_REG_LVT_PERFMON 0x340u
#define VLAPIC_REG_LVT_LINT0 0x350u
#define VLAPIC_REG_LVT_LINT1 0x360u
#define VLAPIC_REG_LVT_ERROR 0x370u
#define VLAPIC_REG_TIMER_INITIAL 0x380u
#define VLAPIC_REG_TIMER_CURRENT 0x390u
#define VLAPIC_REG_TIMER_DIVIDE 0x3E0u
#define VLAPIC_REG_SELF_IPI 0x3F0u /* x2APIC only: MSR 0x83F */

#define VLAPIC_MSR(reg) (VLAPIC_MSR_X2APIC_FIRST + ((reg) >> 4))

/* Spurious-interrupt vector register (SDM Figure 11-23). */
#define VLAPIC_SVR_VECTOR 0xFFu
#define VLAPIC_SVR_ENABLE (1u << 8)
#define VLAPIC_SVR_FOCUS_OFF (1u << 9)
#define VLAPIC_SVR_EOI_SUPPRESS (1u << 12)

/* LVT entries (SDM Figure 11-8). */
#define VLAPIC_LVT_VECTOR 0xFFu
#define VLAPIC_LVT_DM (7u << 8)
#define VLAPIC_LVT_PENDING (1u << 12) /* delivery status, read-only */
#define VLAPIC_LVT_POLARITY (1u << 13)
#define VLAPIC_LVT_REMOTE_IRR (1u << 14)
#define VLAPIC_LVT_LEVEL (1u << 15)
#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_TIMER_MODE (3u << 17)
#define VLAPIC_TIMER_ONESHOT (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_TSC_DEADLINE (2u << 17)

/* Error status register bits (SDM 11.5.3). */
#define VLAPIC_ESR_REDIRECTABLE_IPI (1u << 4)
#define VLAPIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REGISTER (1u << 7)

/* ---- configuration and state ---------------------------------------------- */

/* What the APIC is built as; fixed for its lifetime (see vlapic_init). */
struct vlapic_config {
	u32 apic_id;          /* initial APIC ID (x2APIC ID; low 8 bits in xAPIC) */
	bool bsp;             /* IA32_APIC_BASE.BSP at reset */
	bool x2apic;          /* x2APIC offered (CPUID.1:ECX[21]); else EXTD is reserved */
	bool tsc_deadline;    /* TSC-deadline timer offered (CPUID.1:ECX[24]) */
	bool eoi_suppression; /* version bit 24: SVR bit 12 is implemented */
	bool cmci;            /* LVT CMCI present: 7 LVT entries instead of 6 */
	u8 version;           /* version register bits 7:0; 0 means 0x14 */
	u8 maxphyaddr;        /* reserved bits of IA32_APIC_BASE; 0 means 36 */
	/* The timer's bus clock: num/den guest TSC ticks per bus-clock tick,
	 * each in 1..2^24 (e.g. 3 GHz TSC over a 100 MHz bus: 30/1). */
	u32 tsc_per_bus_num, tsc_per_bus_den;
};

enum vlapic_mode {
	VLAPIC_MODE_DISABLED, /* IA32_APIC_BASE.EN = 0 */
	VLAPIC_MODE_XAPIC,
	VLAPIC_MODE_X2APIC,
};

enum vlapic_lvt {
	VLAPIC_LVT_CMCI,
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERFMON,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_LVT_COUNT,
};

/* Events that bypass IRR/ISR (SDM 11.6.1 delivery modes, 11.5.1 LVT). */
#define VLAPIC_EV_NMI (1u << 0)
#define VLAPIC_EV_INIT (1u << 1)
#define VLAPIC_EV_SIPI (1u << 2)
#define VLAPIC_EV_SMI (1u << 3)
#define VLAPIC_EV_EXTINT (1u << 4) /* ask the 8259 for the vector */

struct vlapic {
	struct vlapic_config cfg;
	u64 apic_base;        /* IA32_APIC_BASE as the guest reads it */
	u32 xapic_id;         /* xAPIC ID register (ID in bits 31:24) */
	u32 tpr, ldr, dfr, svr;
	u32 isr[8], tmr[8], irr[8]; /* 256-bit sets, register layout */
	/* Vectors acknowledged with an implicit EOI (Hv#1 SynIC AutoEOI, TLFS
	 * digest 7.6): not APIC state, so INIT and RESET keep it. */
	u32 auto_eoi[8];
	/* EOI assist bookkeeping (Hv#1, TLFS digest 7.6; vlapic_eoi_assist_offer),
	 * not APIC state.  last_acked: the vector the last acknowledgement put
	 * in service, as long as no EOI has happened since (else -1).
	 * eoi_assisted: the vector the guest may skip the EOI of during the
	 * entry under way (-1: none); only the VP's own CPU touches it. */
	s16 last_acked;
	s16 eoi_assisted;
	u32 esr;              /* what a read returns (latched by the last write) */
	u32 esr_pending;      /* errors seen since the last ESR write */
	u32 icr_lo, icr_hi;   /* xAPIC halves; x2APIC uses icr_hi as bits 63:32 */
	u32 lvt[VLAPIC_LVT_COUNT];
	u32 timer_initial;    /* initial-count register */
	u32 timer_divide;     /* divide configuration register */
	/* One-shot/periodic: the counter held timer_count at timer_base (TSC)
	 * and counts down from there; periodic reloads timer_initial. */
	bool timer_running;
	u64 timer_base;
	u32 timer_count;
	u64 tsc_deadline;     /* IA32_TSC_DEADLINE; 0 = disarmed */
	u32 events;           /* VLAPIC_EV_* not yet taken */
	u8 sipi_vector;
};

/* ---- what the caller has to do ---------------------------------------------- */

#define VLAPIC_FX_EVAL (1u << 0)          /* IRR/ISR/TPR/SVR/events changed: re-evaluate injection */
#define VLAPIC_FX_IPI (1u << 1)           /* deliver fx->ipi (the sender included, if it matches) */
#define VLAPIC_FX_EOI (1u << 2)           /* fx->eoi_vector left the ISR */
#define VLAPIC_FX_EOI_BROADCAST (1u << 3) /* ... and was level-triggered: EOI to every IOAPIC */
#define VLAPIC_FX_TIMER_ARM (1u << 4)     /* call vlapic_timer_update at TSC >= fx->timer_deadline */
#define VLAPIC_FX_TIMER_STOP (1u << 5)    /* no timer deadline pending any more */
#define VLAPIC_FX_BASE (1u << 6)          /* mode or MMIO base changed: remap trap, MSR intercepts */

/* Effects accumulate: zero the struct before the first call, act on it after
 * each call that may send an IPI (there is room for one).  TIMER_ARM and
 * TIMER_STOP are exclusive; the later one wins. */
struct vlapic_effects {
	u32 flags;
	struct vlapic_ipi ipi;
	u8 eoi_vector;
	u64 timer_deadline;
};

/* Return codes. */
#define VLAPIC_OK 0
#define VLAPIC_GP (-1)        /* inject #GP(0); the access had no effect */
#define VLAPIC_NOT_APIC (-2)  /* MMIO: the APIC does not decode it in this mode
			       * (x2APIC or disabled: SDM 11.12.2), handle as if
			       * no APIC were there.  MSR: not an APIC MSR. */
#define VLAPIC_UNALIGNED (-3) /* MMIO offset not 4-byte aligned (SDM 11.4.1) */
#define VLAPIC_BAD_CONFIG (-4)

/* ---- life cycle ---------------------------------------------------------------- */

/* Power-up/RESET state (SDM 11.4.7.1, 11.12.5.1): xAPIC mode, base 0xFEE00000,
 * software-disabled, every LVT masked.  Fails on a config it cannot honour. */
int vlapic_init(struct vlapic *a, const struct vlapic_config *cfg);

/* An INIT (SDM 11.4.7.3, 11.12.5.1): every register back to its reset value
 * except the APIC ID and IA32_APIC_BASE; the mode is kept. */
void vlapic_reset_init(struct vlapic *a, struct vlapic_effects *fx);

enum vlapic_mode vlapic_mode(const struct vlapic *a);
u64 vlapic_mmio_base(const struct vlapic *a);
/* The physical ID destinations are matched against: the 32-bit x2APIC ID in
 * x2APIC mode, the xAPIC ID register's 8 bits otherwise. */
u32 vlapic_id(const struct vlapic *a);

/* ---- register access ------------------------------------------------------------ */

/* xAPIC MMIO: offset within the 4-KiB page, 4-byte aligned, a 32-bit access.
 * Bytes 4-15 of each 16-byte slot read 0 and ignore writes. */
int vlapic_mmio_read(struct vlapic *a, u32 offset, u64 now, u32 *value,
		     struct vlapic_effects *fx);
int vlapic_mmio_write(struct vlapic *a, u32 offset, u32 value, u64 now,
		      struct vlapic_effects *fx);

/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8FF.  Any other
 * MSR returns VLAPIC_NOT_APIC. */
bool vlapic_msr_is_apic(u32 msr);
int vlapic_msr_read(struct vlapic *a, u32 msr, u64 now, u64 *value, struct vlapic_effects *fx);
int vlapic_msr_write(struct vlapic *a, u32 msr, u64 value, u64 now, struct vlapic_effects *fx);

/* Register access by xAPIC offset in either mode (Hv#1's EOI/ICR/TPR MSRs,
 * TLFS digest 2.9, reach the APIC whatever its mode).  The register must be
 * readable/writable in the current mode's table; VLAPIC_REG_ICR_LO takes and
 * gives the whole 64-bit ICR (destination in bits 63:32 as in x2APIC; in
 * xAPIC mode bits 63:56 are the 8-bit destination).  A hardware-disabled
 * APIC answers VLAPIC_GP. */
int vlapic_reg_read(struct vlapic *a, u32 reg, u64 now, u64 *value, struct vlapic_effects *fx);
int vlapic_reg_write(struct vlapic *a, u32 reg, u64 value, u64 now, struct vlapic_effects *fx);

/* MOV to/from CR8 (SDM 11.8.6): CR8[3:0] is TPR[7:4].  Bits 63:4 set is #GP. */
u64 vlapic_cr8_read(const struct vlapic *a);
int vlapic_cr8_write(struct vlapic *a, u64 cr8, struct vlapic_effects *fx);

/* ---- interrupts in ---------------------------------------------------------------- */

/* A fixed or lowest-priority interrupt that chose this APIC (SDM 11.8.4): sets
 * IRR, and TMR for level (clears it for edge).  Vectors 0-15 are refused with
 * ESR "receive illegal vector" (11.5.2).  Returns whether IRR was set. */
bool vlapic_accept_interrupt(struct vlapic *a, u8 vector, bool level,
			     struct vlapic_effects *fx);

/* Any delivery mode: fixed/lowest go to vlapic_accept_interrupt, NMI, INIT,
 * SIPI, SMI and ExtINT become events.  A disabled APIC accepts nothing. */
void vlapic_deliver(struct vlapic *a, u8 delivery, u8 vector, bool level,
		    struct vlapic_effects *fx);

/* IPI routing: does target accept ipi (target_is_sender for the shorthands)?
 * A hardware-disabled APIC matches nothing.  Deliver to every target that
 * matches, except that lowest priority goes to one of them (the one with the
 * lowest vlapic_apr, or any). */
bool vlapic_ipi_matches(const struct vlapic *target, const struct vlapic_ipi *ipi,
			bool target_is_sender);
void vlapic_deliver_ipi(struct vlapic *target, const struct vlapic_ipi *ipi,
			struct vlapic_effects *fx);

/* A local interrupt source asserts (LINT0/LINT1 pins, thermal, perfmon, CMCI;
 * the timer and error entries are driven from inside).  Delivered as the LVT
 * entry says; nothing happens while it is masked. */
void vlapic_lvt_fire(struct vlapic *a, enum vlapic_lvt which, struct vlapic_effects *fx);

/* Takes (and clears) the pending VLAPIC_EV_* events; *sipi_vector is the page
 * of the last SIPI when VLAPIC_EV_SIPI is set. */
u32 vlapic_take_events(struct vlapic *a, u8 *sipi_vector);

/* ---- interrupts out: the CPU side ---------------------------------------------- */

/* Highest vector in IRR, or -1 (for TPR-threshold style hardware assists). */
int vlapic_highest_irr(const struct vlapic *a);

/* The vector the APIC presents to the CPU now, or -1: the highest IRR vector
 * whose priority class is above PPR's (11.8.3.1), when the APIC is enabled in
 * IA32_APIC_BASE and in SVR (11.4.7.2: a software-disabled APIC holds its
 * pending interrupts). */
int vlapic_highest_pending(const struct vlapic *a);

/* INTA: the CPU takes the interrupt (11.8.4): the highest pending vector moves
 * from IRR to ISR and is returned with true.  If nothing is deliverable any
 * more, the APIC answers with the spurious vector and touches nothing (11.9);
 * *vector is SVR[7:0] and the result false.  Call when injecting. */
bool vlapic_ack(struct vlapic *a, u8 *vector);

/* Marks `vector` as AutoEOI (Hv#1, digest 7.6): vlapic_ack hands it to the
 * CPU without setting its ISR bit, so it needs no EOI and does not raise PPR.
 * The hypervisor's SynIC decides which vectors; the guest cannot see the set. */
void vlapic_set_auto_eoi(struct vlapic *a, u8 vector, bool on);
bool vlapic_is_auto_eoi(const struct vlapic *a, u8 vector);

/* End of interrupt (11.8.5): the highest ISR bit clears. */
void vlapic_eoi(struct vlapic *a, struct vlapic_effects *fx);

/* EOI assist (Hv#1 "no EOI required", TLFS digest 7.6): the guest may skip
 * the EOI of an interrupt and tell the hypervisor by clearing a bit, which
 * the hypervisor reads at the next exit.  The caller sets that bit only
 * while the guest runs: offer before an entry (after injection), settle
 * after the exit that ended it.
 *
 * vlapic_eoi_assist_offer returns the vector whose EOI may be skipped during
 * this entry, or -1, and records it for the settle.  The rule is in
 * vlapic.c (in short: the interrupt last acknowledged, alone in service,
 * edge-triggered, with nothing waiting in IRR and no EOI since).
 * vlapic_eoi_assist_settle: `skipped` says the guest cleared the bit instead
 * of writing EOI; the EOI is then done here, effects included (SynIC
 * re-delivery through VLAPIC_FX_EOI).  Either way the record is dropped. */
int vlapic_eoi_assist_offer(struct vlapic *a);
void vlapic_eoi_assist_settle(struct vlapic *a, bool skipped, struct vlapic_effects *fx);

u8 vlapic_ppr(const struct vlapic *a);
u8 vlapic_apr(const struct vlapic *a);

/* ---- the timer ---------------------------------------------------------------------- */

/* Delivers whatever expired by now (one interrupt however many periods were
 * missed; periodic mode keeps its phase) and reports the next deadline.  Call
 * when the host timer armed from VLAPIC_FX_TIMER_ARM fires; calling it early
 * or often is harmless. */
void vlapic_timer_update(struct vlapic *a, u64 now, struct vlapic_effects *fx);

/* The next TSC value at which vlapic_timer_update has work, if any. */
bool vlapic_timer_deadline(const struct vlapic *a, u64 *deadline);

#endif
