/*
 * hv_synic: the per-VP Hv#1 interface (hyperv/hv_synic.h): SynIC MSRs, message
 * slots with MessagePending and EOM re-delivery, synthetic timers in one-shot,
 * periodic and direct modes, AutoEOI, the VP assist page with EOI assist, the
 * EOI/ICR/TPR MSRs, the frequency MSRs, VP_RUNTIME, GUEST_IDLE, and hostile
 * inputs.  Each RESULT names the section of the TLFS digest whose rule it
 * checks.
 *
 * Command line: `narrow` means the hypervisor runs with hv_features= turning
 * these features off: then every one of these MSRs must #GP (digest 1.4) and
 * nothing else is tested.  `no_eoi_assist` means it runs with
 * hv_features=-eoi_assist: only the EOI assist tests run, and the hypervisor
 * must never set "no EOI required".
 *
 * Every wait is bounded by TIME_REF_COUNT, so a missing interrupt is a FAIL,
 * never a hang.
 */
#include "guest.h"
#include "hv_tlfs.h"
#include "irq.h"
#include "lapic.h"

const char guest_name[] = "hv_synic";

/* Vectors: one per test, so a late interrupt from one cannot count in the next. */
#define VEC_SINT_MSG 0x62
#define VEC_SINT_PERIODIC 0x63
#define VEC_SINT_AUTO 0x74
#define VEC_DIRECT 0x70
#define VEC_IDLE 0x71
#define VEC_ICR 0x58
#define SINT_MSG 2
#define SINT_PERIODIC 3
#define SINT_AUTO 4
/* EOI assist (digest 7.6): priority classes matter here. */
#define VEC_EA 0x80       /* alone in service */
#define VEC_EA_MSR 0xB0   /* EOIed through the MSR while offered */
#define VEC_EA_MID 0xA0   /* ... then this one, with VEC_EA_LOW waiting */
#define VEC_EA_LOW 0x90
#define VEC_EA_OUTER 0xC0 /* interrupted by VEC_EA_INNER */
#define VEC_EA_INNER 0xD0
#define VEC_EA_HIGH 0xE0  /* VEC_EA_BELOW arrives while it is in service */
#define VEC_EA_BELOW 0x54
#define VEC_EA_SINT 0x78
#define SINT_EA 6

#define MS 10000ULL /* reference time units (100 ns) per millisecond */

struct message {
	volatile u32 type;
	volatile u8 payload_size;
	volatile u8 flags;
	u16 reserved;
	u64 origination;
	volatile u32 timer_index;
	u32 reserved2;
	volatile u64 expiration;
	volatile u64 delivery;
	u8 rest[256 - 40];
};

static struct message sim[16] __attribute__((aligned(4096)));
static u8 sief[4096] __attribute__((aligned(4096)));
static volatile u32 assist[1024] __attribute__((aligned(4096)));

static volatile u32 hits[256];
static volatile u64 hit_ref[256];
static volatile bool isr_seen_in_handler;

static u64 ref_now(void)
{
	return rdmsr(HV_MSR_TIME_REF_COUNT);
}

/* Waits with interrupts on until hits[vector] reaches n or `ms` pass.  The
 * polling reads TIME_REF_COUNT, so the VP exits and a skipped EOI is seen. */
static bool wait_hits(u32 vector, u32 n, u64 ms)
{
	u64 end = ref_now() + ms * MS;
	irq_enable();
	while (hits[vector] < n && ref_now() < end)
		cpu_relax();
	irq_disable();
	return hits[vector] >= n;
}

static void eoi_msr_handler(u32 vector)
{
	hits[vector]++;
	hit_ref[vector] = ref_now();
	wrmsr(HV_MSR_EOI, 0);
}

/* Periodic timer messages: empty the slot, EOM if more wait, EOI (digest 7.4). */
static void periodic_handler(u32 vector)
{
	hits[vector]++;
	sim[SINT_PERIODIC].type = 0;
	__asm__ volatile("mfence" ::: "memory");
	if (sim[SINT_PERIODIC].flags & HV_MSG_FLAG_PENDING)
		wrmsr(HV_MSR_EOM, 0);
	wrmsr(HV_MSR_EOI, 0);
}

/* AutoEOI: the vector must not be in service while its handler runs, and the
 * handler does not EOI (digest 7.6). */
static void auto_eoi_handler(u32 vector)
{
	hits[vector]++;
	isr_seen_in_handler = lapic_vector_bit(LAPIC_ISR, vector);
}

/* ---- EOI assist (digest 2.10, 7.6) ---------------------------------------------------- */

/* What each handler saw of ApicAssist bit 0, and whether it skipped its EOI. */
static volatile u32 ea_bit_seen[256], ea_skipped[256];
static volatile u32 ea_bits_seen_total; /* any handler, any time */

static void self_ipi(u32 vector)
{
	wrmsr(HV_MSR_ICR, ICR_ASSERT | ICR_SELF | ICR_FIXED | vector);
}

static bool assist_bit(void)
{
	bool on = assist[0] & HV_ASSIST_NO_EOI_REQUIRED;
	if (on)
		ea_bits_seen_total++;
	return on;
}

/* Linux's hv_apic_eoi_write: take the assist with one atomic exchange,
 * else EOI through the MSR.  True when the EOI was skipped. */
static bool eoi_assisted(void)
{
	if (__atomic_exchange_n(&assist[0], 0, __ATOMIC_SEQ_CST) & HV_ASSIST_NO_EOI_REQUIRED)
		return true;
	wrmsr(HV_MSR_EOI, 0);
	return false;
}

static void lazy_handler(u32 vector)
{
	hits[vector]++;
	if (assist_bit())
		ea_bit_seen[vector]++;
	if (eoi_assisted())
		ea_skipped[vector]++;
}

/* An edge-triggered self-IPI, alone in service: the bit is set; the guest
 * clears it instead of EOIing; the same vector is delivered again, which its
 * own ISR bit would block if the hypervisor had not done the EOI. */
static void eoi_assist_taken_test(bool offered)
{
	irq_set_handler(VEC_EA, lazy_handler);
	self_ipi(VEC_EA);
	bool got1 = wait_hits(VEC_EA, 1, 100);
	bool in_service = lapic_vector_bit(LAPIC_ISR, VEC_EA); /* an exit: settles */
	self_ipi(VEC_EA);
	bool got2 = wait_hits(VEC_EA, 2, 100);
	u32 want = offered ? 2 : 0;
	test_result(offered ? "eoi-assist-no-eoi-required-7.6" : "eoi-assist-never-set-7.6",
		    got1 && got2 && !in_service && ea_bit_seen[VEC_EA] == want &&
			    ea_skipped[VEC_EA] == want && !lapic_vector_bit(LAPIC_ISR, VEC_EA) &&
			    lapic_read(LAPIC_PPR) == 0 &&
			    (assist[0] & HV_ASSIST_NO_EOI_REQUIRED) == 0,
		    "hits %u, bit seen %u, skipped %u, in service between %d, PPR %x, assist %x",
		    hits[VEC_EA], ea_bit_seen[VEC_EA], ea_skipped[VEC_EA], in_service,
		    lapic_read(LAPIC_PPR), assist[0]);
}

/* EOI through the MSR while the bit is set: the hypervisor clears it, and
 * retires nothing a second time.  The second part makes a stale record
 * visible: VEC_EA_MID enters service with VEC_EA_LOW waiting (so it is not
 * offered), and its handler exits twice; an EOI "skipped" by the handler
 * before would retire VEC_EA_MID there. */
static struct {
	bool bit_at_entry, bit_after_eoi, isr_after_eoi, mid_bit, mid_in_service;
} ea_msr;

static void msr_eoi_while_set_handler(u32 vector)
{
	hits[vector]++;
	ea_msr.bit_at_entry = assist_bit();
	wrmsr(HV_MSR_EOI, 0);
	ea_msr.bit_after_eoi = assist_bit();
	ea_msr.isr_after_eoi = lapic_vector_bit(LAPIC_ISR, vector);
	/* Both wait in IRR until this handler returns (IF is clear). */
	self_ipi(VEC_EA_LOW);
	self_ipi(VEC_EA_MID);
}

static void mid_handler(u32 vector)
{
	hits[vector]++;
	ea_msr.mid_bit = assist_bit();
	(void)ref_now();
	ea_msr.mid_in_service = lapic_vector_bit(LAPIC_ISR, vector);
	wrmsr(HV_MSR_EOI, 0);
}

static void eoi_assist_msr_eoi_test(bool offered)
{
	irq_set_handler(VEC_EA_MSR, msr_eoi_while_set_handler);
	irq_set_handler(VEC_EA_MID, mid_handler);
	irq_set_handler(VEC_EA_LOW, lazy_handler);
	self_ipi(VEC_EA_MSR);
	bool got = wait_hits(VEC_EA_LOW, 1, 100);
	test_result(offered ? "eoi-assist-msr-eoi-clears-bit-7.6" : "eoi-assist-msr-eoi-never-set-7.6",
		    got && hits[VEC_EA_MSR] == 1 && hits[VEC_EA_MID] == 1 &&
			    ea_msr.bit_at_entry == offered && !ea_msr.bit_after_eoi &&
			    !ea_msr.isr_after_eoi && !ea_msr.mid_bit && ea_msr.mid_in_service &&
			    ea_bit_seen[VEC_EA_LOW] == (offered ? 1u : 0u) &&
			    !lapic_vector_bit(LAPIC_ISR, VEC_EA_LOW) && lapic_read(LAPIC_PPR) == 0,
		    "hits %u/%u/%u; bit at entry %d, after MSR EOI %d; in service after it %d; "
		    "mid: bit %d, in service %d; low: bit %u; PPR %x",
		    hits[VEC_EA_MSR], hits[VEC_EA_MID], hits[VEC_EA_LOW], ea_msr.bit_at_entry,
		    ea_msr.bit_after_eoi, ea_msr.isr_after_eoi, ea_msr.mid_bit, ea_msr.mid_in_service,
		    ea_bit_seen[VEC_EA_LOW], lapic_read(LAPIC_PPR));
}

/* Nested: a higher-priority interrupt that arrives while another is in
 * service does not get the bit, and the outer one loses it. */
static struct {
	bool outer_bit, inner_bit, outer_in_service, outer_bit_after, inner_skipped, outer_skipped;
} ea_nest;

static void inner_handler(u32 vector)
{
	hits[vector]++;
	ea_nest.inner_bit = assist_bit();
	ea_nest.outer_in_service = lapic_vector_bit(LAPIC_ISR, VEC_EA_OUTER);
	ea_nest.inner_skipped = eoi_assisted();
}

static void outer_handler(u32 vector)
{
	hits[vector]++;
	ea_nest.outer_bit = assist_bit();
	self_ipi(VEC_EA_INNER);
	wait_hits(VEC_EA_INNER, 1, 100);
	ea_nest.outer_bit_after = assist_bit();
	ea_nest.outer_skipped = eoi_assisted();
}

static void eoi_assist_nested_test(bool offered)
{
	irq_set_handler(VEC_EA_OUTER, outer_handler);
	irq_set_handler(VEC_EA_INNER, inner_handler);
	self_ipi(VEC_EA_OUTER);
	bool got = wait_hits(VEC_EA_OUTER, 1, 200);
	test_result(offered ? "eoi-assist-nested-not-offered-7.6" : "eoi-assist-nested-never-set-7.6",
		    got && hits[VEC_EA_INNER] == 1 && ea_nest.outer_bit == offered &&
			    !ea_nest.inner_bit && ea_nest.outer_in_service &&
			    !ea_nest.outer_bit_after && !ea_nest.inner_skipped &&
			    !ea_nest.outer_skipped && !lapic_vector_bit(LAPIC_ISR, VEC_EA_OUTER) &&
			    !lapic_vector_bit(LAPIC_ISR, VEC_EA_INNER) && lapic_read(LAPIC_PPR) == 0,
		    "hits %u/%u; outer bit %d, then %d; inner bit %d, outer in service %d; "
		    "skipped outer %d inner %d; PPR %x",
		    hits[VEC_EA_OUTER], hits[VEC_EA_INNER], ea_nest.outer_bit, ea_nest.outer_bit_after,
		    ea_nest.inner_bit, ea_nest.outer_in_service, ea_nest.outer_skipped,
		    ea_nest.inner_skipped, lapic_read(LAPIC_PPR));
}

/* A lower-priority interrupt arriving while the bit is set withdraws it
 * (the EOI must trap, to let it in); once alone, it gets the bit itself. */
static struct {
	bool bit_before, bit_after, skipped;
} ea_low;

static void high_handler(u32 vector)
{
	hits[vector]++;
	ea_low.bit_before = assist_bit();
	self_ipi(VEC_EA_BELOW);
	ea_low.bit_after = assist_bit();
	ea_low.skipped = eoi_assisted();
}

static void eoi_assist_lower_arrives_test(bool offered)
{
	irq_set_handler(VEC_EA_HIGH, high_handler);
	irq_set_handler(VEC_EA_BELOW, lazy_handler);
	self_ipi(VEC_EA_HIGH);
	bool got = wait_hits(VEC_EA_BELOW, 1, 100);
	bool in_service = lapic_vector_bit(LAPIC_ISR, VEC_EA_BELOW);
	test_result(offered ? "eoi-assist-withdrawn-for-lower-7.6" : "eoi-assist-lower-never-set-7.6",
		    got && hits[VEC_EA_HIGH] == 1 && ea_low.bit_before == offered &&
			    !ea_low.bit_after && !ea_low.skipped &&
			    ea_bit_seen[VEC_EA_BELOW] == (offered ? 1u : 0u) &&
			    ea_skipped[VEC_EA_BELOW] == (offered ? 1u : 0u) && !in_service &&
			    lapic_read(LAPIC_PPR) == 0,
		    "hits %u/%u; high: bit %d then %d, skipped %d; below: bit %u skipped %u, "
		    "in service after %d",
		    hits[VEC_EA_HIGH], hits[VEC_EA_BELOW], ea_low.bit_before, ea_low.bit_after,
		    ea_low.skipped, ea_bit_seen[VEC_EA_BELOW], ea_skipped[VEC_EA_BELOW], in_service);
}

/* A skipped EOI still re-delivers SynIC messages (7.3 step 4): the second
 * timer message waits behind the first, the handler empties the slot and
 * skips its EOI, and writes no EOM; only the hypervisor's EOI at the next
 * exit can bring the second message in. */
static struct {
	bool first_bit, first_skipped, pending_seen;
	u32 index[2];
} ea_sint;

static void sint_lazy_handler(u32 vector)
{
	u32 n = hits[vector]++;
	struct message *m = &sim[SINT_EA];
	if (n == 0) {
		ea_sint.first_bit = assist_bit();
		u64 end = ref_now() + 100 * MS;
		while (!(m->flags & HV_MSG_FLAG_PENDING) && ref_now() < end)
			cpu_relax();
		ea_sint.pending_seen = m->flags & HV_MSG_FLAG_PENDING;
	}
	if (n < 2)
		ea_sint.index[n] = m->timer_index;
	m->type = 0;
	__asm__ volatile("mfence" ::: "memory");
	bool skipped = eoi_assisted();
	if (n == 0)
		ea_sint.first_skipped = skipped;
}

static void eoi_assist_synic_test(void)
{
	irq_set_handler(VEC_EA_SINT, sint_lazy_handler);
	wrmsr(HV_MSR_SINT(SINT_EA), VEC_EA_SINT);
	wrmsr(HV_MSR_STIMER_CONFIG(0), HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(SINT_EA));
	wrmsr(HV_MSR_STIMER_CONFIG(1), HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(SINT_EA));
	u64 now = ref_now();
	wrmsr(HV_MSR_STIMER_COUNT(0), now + 1 * MS);
	wrmsr(HV_MSR_STIMER_COUNT(1), now + 3 * MS);
	bool got = wait_hits(VEC_EA_SINT, 2, 300);
	test_result("eoi-assist-synic-redelivery-7.6",
		    got && ea_sint.first_bit && ea_sint.first_skipped && ea_sint.pending_seen &&
			    ea_sint.index[0] == 0 && ea_sint.index[1] == 1,
		    "hits %u, first: bit %d skipped %d pending %d, timers %u then %u",
		    hits[VEC_EA_SINT], ea_sint.first_bit, ea_sint.first_skipped,
		    ea_sint.pending_seen, ea_sint.index[0], ea_sint.index[1]);
	wrmsr(HV_MSR_SINT(SINT_EA), HV_SINT_MASKED);
}

/* offered: the hypervisor runs with EOI assist (the default); otherwise
 * with hv_features=-eoi_assist, where the bit must never appear. */
static void eoi_assist_tests(bool offered)
{
	u32 a, b, c, d;
	cpuid(0x40000006, 0, &a, &b, &c, &d);
	u32 hw = a;
	cpuid(0x40000004, 0, &a, &b, &c, &d);
	u32 hints = a;
	cpuid(0x40000003, 0, &a, &b, &c, &d);
	test_result(offered ? "eoi-assist-offered-1.7" : "eoi-assist-not-offered-1.7",
		    !(hw & HV_HW_APIC_OVERLAY_ASSIST) == !offered && (hints & HV_HINT_APIC_MSRS) &&
			    (a & HV_PRIV_INTR_CTRL),
		    "0x40000006 EAX %08x, hints %08x, privileges %08x", hw, hints, a);
	assist[0] = 0xFFFFFFFF; /* RAM under the overlay */
	wrmsr(HV_MSR_VP_ASSIST_PAGE, (u32)assist | 1);
	ea_bits_seen_total = 0;
	eoi_assist_taken_test(offered);
	eoi_assist_msr_eoi_test(offered);
	eoi_assist_nested_test(offered);
	eoi_assist_lower_arrives_test(offered);
	if (offered)
		eoi_assist_synic_test();
	else
		test_result("eoi-assist-never-set-anywhere-7.6", ea_bits_seen_total == 0,
			    "the bit was seen set %u times", ea_bits_seen_total);
	wrmsr(HV_MSR_VP_ASSIST_PAGE, 0);
}

static void narrow_tests(void)
{
	static const u32 msrs[] = {HV_MSR_VP_RUNTIME,
				   HV_MSR_RESET,
				   HV_MSR_TSC_FREQUENCY,
				   HV_MSR_APIC_FREQUENCY,
				   HV_MSR_EOI,
				   HV_MSR_ICR,
				   HV_MSR_TPR,
				   HV_MSR_VP_ASSIST_PAGE,
				   HV_MSR_SCONTROL,
				   HV_MSR_SVERSION,
				   HV_MSR_SIEFP,
				   HV_MSR_SIMP,
				   HV_MSR_EOM,
				   HV_MSR_SINT(0),
				   HV_MSR_SINT(15),
				   HV_MSR_STIMER_CONFIG(0),
				   HV_MSR_STIMER_COUNT(3),
				   HV_MSR_GUEST_IDLE};
	u32 a, b, c, d;
	cpuid(0x40000003, 0, &a, &b, &c, &d);
	test_result("narrowed-privileges-1.4",
		    !(a & (HV_PRIV_VP_RUNTIME | HV_PRIV_SYNIC | HV_PRIV_STIMER | HV_PRIV_INTR_CTRL |
			   HV_PRIV_RESET | HV_PRIV_GUEST_IDLE | HV_PRIV_FREQUENCY)) &&
			    !(d & HV_FEAT_STIMER_DIRECT),
		    "privileges %08x edx %08x", a, d);
	u32 bad = 0;
	for (u32 i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		if (!rdmsr_gp(msrs[i]) || !wrmsr_gp(msrs[i], 0)) {
			note("MSR %x did not #GP", msrs[i]);
			bad++;
		}
	}
	test_result("msrs-gp-when-not-offered-1.4", bad == 0, "%u MSRs answered", bad);
}

static void static_msr_tests(void)
{
	u32 a, b, c, d;
	cpuid(0x40000003, 0, &a, &b, &c, &d);
	note("privileges %08x:%08x features edx %08x", b, a, d);
	test_result("privileges-offered-1.4",
		    (a & (HV_PRIV_VP_RUNTIME | HV_PRIV_SYNIC | HV_PRIV_STIMER | HV_PRIV_INTR_CTRL |
			  HV_PRIV_RESET | HV_PRIV_GUEST_IDLE | HV_PRIV_FREQUENCY)) ==
				    (HV_PRIV_VP_RUNTIME | HV_PRIV_SYNIC | HV_PRIV_STIMER |
				     HV_PRIV_INTR_CTRL | HV_PRIV_RESET | HV_PRIV_GUEST_IDLE |
				     HV_PRIV_FREQUENCY) &&
			    (d & HV_FEAT_STIMER_DIRECT),
		    "privileges %08x edx %08x", a, d);
	test_result("sversion-2.11", rdmsr(HV_MSR_SVERSION) == 1 && wrmsr_gp(HV_MSR_SVERSION, 1),
		    "SVERSION %llx", rdmsr(HV_MSR_SVERSION));
	bool sints_reset = true;
	for (u32 i = 0; i < 16; i++)
		sints_reset &= rdmsr(HV_MSR_SINT(i)) == HV_SINT_MASKED;
	test_result("sint-reset-value-7.1",
		    sints_reset && rdmsr(HV_MSR_SCONTROL) == 0 && rdmsr(HV_MSR_SIMP) == 0 &&
			    rdmsr(HV_MSR_STIMER_CONFIG(0)) == 0,
		    "SINT0 %llx SCONTROL %llx", rdmsr(HV_MSR_SINT(0)), rdmsr(HV_MSR_SCONTROL));
	test_result("sint-low-vector-gp-2.11",
		    wrmsr_gp(HV_MSR_SINT(1), 0x0F) &&
			    !wrmsr_gp(HV_MSR_SINT(1), 0x0F | HV_SINT_MASKED),
		    "SINT1 %llx", rdmsr(HV_MSR_SINT(1)));
	wrmsr(HV_MSR_SINT(1), HV_SINT_MASKED);
	test_result("eom-reads-zero-2.11", rdmsr(HV_MSR_EOM) == 0, "EOM %llx", rdmsr(HV_MSR_EOM));
	test_result("simp-reserved-bits-gp-2.11",
		    wrmsr_gp(HV_MSR_SIMP, (u32)sim | 1 | 0x10) &&
			    wrmsr_gp(HV_MSR_SIEFP, (u32)sief | 0x2),
		    "no #GP");
	test_result("simp-beyond-maxphyaddr-gp-2.11", wrmsr_gp(HV_MSR_SIMP, (1ULL << 52) | 1),
		    "no #GP");
	u64 tsc_hz = rdmsr(HV_MSR_TSC_FREQUENCY), apic_hz = rdmsr(HV_MSR_APIC_FREQUENCY);
	note("TSC_FREQUENCY %llu APIC_FREQUENCY %llu", tsc_hz, apic_hz);
	test_result("frequencies-2.8",
		    tsc_hz > 1000000 && apic_hz == 100000000ULL &&
			    wrmsr_gp(HV_MSR_TSC_FREQUENCY, 1) && wrmsr_gp(HV_MSR_APIC_FREQUENCY, 1),
		    "TSC %llu APIC %llu", tsc_hz, apic_hz);
	u64 r0 = rdmsr(HV_MSR_VP_RUNTIME);
	tsc_delay_us(1000);
	u64 r1 = rdmsr(HV_MSR_VP_RUNTIME);
	test_result("vp-runtime-2.1", r1 > r0 && wrmsr_gp(HV_MSR_VP_RUNTIME, 0), "%llu then %llu",
		    r0, r1);
	test_result("reset-msr-2.5", rdmsr(HV_MSR_RESET) == 0 && wrmsr_gp(HV_MSR_RESET, 2) &&
					     !wrmsr_gp(HV_MSR_RESET, 0),
		    "RESET %llx", rdmsr(HV_MSR_RESET));
	test_result("guest-idle-write-gp-2.14", wrmsr_gp(HV_MSR_GUEST_IDLE, 0), "no #GP");
	test_result("stimer-config-reserved-gp-2.12",
		    wrmsr_gp(HV_MSR_STIMER_CONFIG(0), HV_STIMER_SINT(2) | (1ULL << 13)) &&
			    wrmsr_gp(HV_MSR_STIMER_CONFIG(0), HV_STIMER_SINT(2) | (1ULL << 40)) &&
			    wrmsr_gp(HV_MSR_STIMER_CONFIG(0),
				     HV_STIMER_DIRECT | HV_STIMER_VECTOR(0x0F) | HV_STIMER_ENABLE),
		    "no #GP");
	wrmsr(HV_MSR_STIMER_CONFIG(0), HV_STIMER_ENABLE | HV_STIMER_AUTO_ENABLE);
	test_result("stimer-enable-without-sint-7.8",
		    rdmsr(HV_MSR_STIMER_CONFIG(0)) == HV_STIMER_AUTO_ENABLE, "CONFIG %llx",
		    rdmsr(HV_MSR_STIMER_CONFIG(0)));
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
}

static void apic_msr_tests(void)
{
	wrmsr(HV_MSR_TPR, 0x20);
	bool tpr_ok = rdmsr(HV_MSR_TPR) == 0x20 && lapic_read(LAPIC_TPR) == 0x20;
	wrmsr(HV_MSR_TPR, 0);
	test_result("tpr-msr-2.9",
		    tpr_ok && wrmsr_gp(HV_MSR_TPR, 0x100) && lapic_read(LAPIC_TPR) == 0, "TPR %llx",
		    rdmsr(HV_MSR_TPR));
	test_result("eoi-msr-write-only-2.9",
		    rdmsr_gp(HV_MSR_EOI) && wrmsr_gp(HV_MSR_EOI, 1ULL << 32), "no #GP");
	/* A self-IPI through the ICR MSR, retired through the EOI MSR. */
	irq_set_handler(VEC_ICR, eoi_msr_handler);
	wrmsr(HV_MSR_ICR, ICR_ASSERT | ICR_SELF | ICR_FIXED | VEC_ICR);
	bool got = wait_hits(VEC_ICR, 1, 100);
	test_result("icr-eoi-msrs-2.9", got && !lapic_vector_bit(LAPIC_ISR, VEC_ICR),
		    "hits %u, ISR %d", hits[VEC_ICR], lapic_vector_bit(LAPIC_ISR, VEC_ICR));
}

static void synic_enable(void)
{
	memset(sim, 0xEE, sizeof(sim)); /* RAM under the overlay */
	wrmsr(HV_MSR_SIMP, (u32)sim | 1);
	wrmsr(HV_MSR_SIEFP, (u32)sief | 1);
	wrmsr(HV_MSR_SCONTROL, 1);
	test_result("simp-overlay-cleared-7.1",
		    rdmsr(HV_MSR_SIMP) == ((u32)sim | 1) && sim[0].type == 0 && sim[15].type == 0,
		    "SIMP %llx slot0 type %x", rdmsr(HV_MSR_SIMP), sim[0].type);
	test_result("overlays-overlap-gp-7.1", wrmsr_gp(HV_MSR_SIEFP, (u32)sim | 1),
		    "SIEFP over the SIM page accepted");
	/* The partition's overlays refuse the SynIC's pages too (found by the
	 * hv_fuzz guest: the TSC page used to take the SIM page's GPA). */
	test_result("tsc-page-over-sim-gp-7.1",
		    wrmsr_gp(HV_MSR_REFERENCE_TSC, (u32)sim | 1) &&
			    rdmsr(HV_MSR_SIMP) == ((u32)sim | 1),
		    "REFERENCE_TSC over the SIM page accepted");
	sim[9].origination = 0x1234;
	test_result("simp-rw-7.1", sim[9].origination == 0x1234, "the SIM page is not writable");
	sim[9].origination = 0;
}

/* One-shot message timer: expiry never early, the message's fields, Enable
 * cleared (digest 7.7, 7.8); then a second expiry finding the slot busy sets
 * MessagePending and is delivered after EOM (7.3, 7.4). */
static void stimer_message_tests(void)
{
	irq_set_handler(VEC_SINT_MSG, eoi_msr_handler);
	wrmsr(HV_MSR_SINT(SINT_MSG), VEC_SINT_MSG);
	wrmsr(HV_MSR_STIMER_CONFIG(0), HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(SINT_MSG));
	u64 due = ref_now() + 2 * MS;
	wrmsr(HV_MSR_STIMER_COUNT(0), due);
	test_result("stimer-auto-enable-7.8", rdmsr(HV_MSR_STIMER_CONFIG(0)) & HV_STIMER_ENABLE,
		    "CONFIG %llx", rdmsr(HV_MSR_STIMER_CONFIG(0)));
	bool got = wait_hits(VEC_SINT_MSG, 1, 200);
	struct message *m = &sim[SINT_MSG];
	test_result("stimer-oneshot-message-7.7",
		    got && m->type == HV_MSG_TIMER_EXPIRED && m->payload_size == 24 &&
			    m->timer_index == 0 && m->expiration == due && m->delivery >= due &&
			    m->origination == 0,
		    "hits %u type %x size %u index %u exp %llu (due %llu) delivery %llu",
		    hits[VEC_SINT_MSG], m->type, m->payload_size, m->timer_index, m->expiration,
		    due, m->delivery);
	test_result("stimer-never-early-7.8", got && hit_ref[VEC_SINT_MSG] >= due,
		    "interrupt at %llu, due %llu", hit_ref[VEC_SINT_MSG], due);
	test_result("stimer-oneshot-disables-7.8",
		    !(rdmsr(HV_MSR_STIMER_CONFIG(0)) & HV_STIMER_ENABLE), "CONFIG %llx",
		    rdmsr(HV_MSR_STIMER_CONFIG(0)));

	/* The slot is still full: timer 1 expires into it. */
	wrmsr(HV_MSR_STIMER_CONFIG(1), HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(SINT_MSG));
	u64 due1 = ref_now() + 1 * MS;
	wrmsr(HV_MSR_STIMER_COUNT(1), due1);
	u64 end = ref_now() + 100 * MS;
	while (!(m->flags & HV_MSG_FLAG_PENDING) && ref_now() < end)
		cpu_relax();
	test_result("message-pending-set-7.3",
		    (m->flags & HV_MSG_FLAG_PENDING) && m->timer_index == 0 &&
			    hits[VEC_SINT_MSG] == 1,
		    "flags %x index %u hits %u", m->flags, m->timer_index, hits[VEC_SINT_MSG]);
	m->type = 0;
	__asm__ volatile("mfence" ::: "memory");
	wrmsr(HV_MSR_EOM, 0);
	got = wait_hits(VEC_SINT_MSG, 2, 100);
	test_result("eom-redelivers-7.4",
		    got && m->type == HV_MSG_TIMER_EXPIRED && m->timer_index == 1 &&
			    m->expiration == due1 && !(m->flags & HV_MSG_FLAG_PENDING),
		    "hits %u type %x index %u flags %x", hits[VEC_SINT_MSG], m->type,
		    m->timer_index, m->flags);
	m->type = 0;
	wrmsr(HV_MSR_EOM, 0); /* nothing queued: a no-op */
	test_result("eom-empty-noop-7.3", !wait_hits(VEC_SINT_MSG, 3, 5) && m->type == 0,
		    "hits %u", hits[VEC_SINT_MSG]);
}

static void stimer_periodic_test(void)
{
	irq_set_handler(VEC_SINT_PERIODIC, periodic_handler);
	wrmsr(HV_MSR_SINT(SINT_PERIODIC), VEC_SINT_PERIODIC);
	wrmsr(HV_MSR_STIMER_CONFIG(2),
	      HV_STIMER_PERIODIC | HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(SINT_PERIODIC));
	u64 start = ref_now();
	wrmsr(HV_MSR_STIMER_COUNT(2), 2 * MS);
	wait_hits(VEC_SINT_PERIODIC, 1000, 20);
	u64 elapsed = ref_now() - start;
	wrmsr(HV_MSR_STIMER_COUNT(2), 0); /* COUNT 0 stops it (7.8) */
	u32 n = hits[VEC_SINT_PERIODIC];
	bool stopped = !(rdmsr(HV_MSR_STIMER_CONFIG(2)) & HV_STIMER_ENABLE);
	wait_hits(VEC_SINT_PERIODIC, n + 1, 10);
	u32 rem;
	u64 most = udivmod64(elapsed, 2 * MS, &rem);
	test_result("stimer-periodic-7.8",
		    n >= 3 && n <= most && stopped && hits[VEC_SINT_PERIODIC] <= n + 1,
		    "%u expirations in %llu units (at most %llu), stopped %d, later %u", n, elapsed,
		    most, stopped, hits[VEC_SINT_PERIODIC]);
}

static void stimer_direct_test(void)
{
	irq_set_handler(VEC_DIRECT, eoi_msr_handler);
	wrmsr(HV_MSR_STIMER_CONFIG(3),
	      HV_STIMER_DIRECT | HV_STIMER_VECTOR(VEC_DIRECT) | HV_STIMER_AUTO_ENABLE);
	u64 due = ref_now() + 1 * MS;
	wrmsr(HV_MSR_STIMER_COUNT(3), due);
	bool got = wait_hits(VEC_DIRECT, 1, 200);
	test_result("stimer-direct-mode-7.8", got && hit_ref[VEC_DIRECT] >= due,
		    "hits %u at %llu due %llu", hits[VEC_DIRECT], hit_ref[VEC_DIRECT], due);
}

static void auto_eoi_test(void)
{
	irq_set_handler(VEC_SINT_AUTO, auto_eoi_handler);
	wrmsr(HV_MSR_SINT(SINT_AUTO), VEC_SINT_AUTO | HV_SINT_AUTO_EOI);
	wrmsr(HV_MSR_STIMER_CONFIG(0), HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(SINT_AUTO));
	wrmsr(HV_MSR_STIMER_COUNT(0), ref_now() + 1 * MS);
	bool got = wait_hits(VEC_SINT_AUTO, 1, 200);
	test_result("auto-eoi-7.6",
		    got && !isr_seen_in_handler && !lapic_vector_bit(LAPIC_ISR, VEC_SINT_AUTO) &&
			    lapic_read(LAPIC_PPR) == 0 &&
			    sim[SINT_AUTO].type == HV_MSG_TIMER_EXPIRED,
		    "hits %u, ISR in handler %d, PPR %x", hits[VEC_SINT_AUTO], isr_seen_in_handler,
		    lapic_read(LAPIC_PPR));
	sim[SINT_AUTO].type = 0;
	wrmsr(HV_MSR_SINT(SINT_AUTO), HV_SINT_MASKED);
}

/* Masked SINT: the message lands, no interrupt (7.3 step 2). */
static void masked_sint_test(void)
{
	wrmsr(HV_MSR_SINT(5), HV_SINT_MASKED | 0x75);
	wrmsr(HV_MSR_STIMER_CONFIG(0), HV_STIMER_AUTO_ENABLE | HV_STIMER_SINT(5));
	u64 due = ref_now() + 1 * MS;
	wrmsr(HV_MSR_STIMER_COUNT(0), due);
	bool irq = wait_hits(0x75, 1, 10);
	test_result("masked-sint-message-only-7.3", !irq && sim[5].type == HV_MSG_TIMER_EXPIRED,
		    "hits %u type %x", hits[0x75], sim[5].type);
	sim[5].type = 0;
}

/* GUEST_IDLE with IF = 0: the read returns once an interrupt is pending (2.14). */
static void guest_idle_test(void)
{
	irq_set_handler(VEC_IDLE, eoi_msr_handler);
	wrmsr(HV_MSR_STIMER_CONFIG(3),
	      HV_STIMER_DIRECT | HV_STIMER_VECTOR(VEC_IDLE) | HV_STIMER_AUTO_ENABLE);
	u64 due = ref_now() + 3 * MS;
	irq_disable();
	wrmsr(HV_MSR_STIMER_COUNT(3), due);
	rdmsr(HV_MSR_GUEST_IDLE);
	u64 woke = ref_now();
	bool pending = lapic_vector_bit(LAPIC_IRR, VEC_IDLE);
	bool got = wait_hits(VEC_IDLE, 1, 100);
	test_result("guest-idle-wakes-with-if-clear-2.14", woke >= due && pending && got,
		    "woke at %llu due %llu, pending %d, hits %u", woke, due, pending, hits[VEC_IDLE]);
}

static void assist_test(void)
{
	assist[0] = 0x11111111;
	assist[1] = 0x22222222;
	test_result("vp-assist-reserved-gp-2.10", wrmsr_gp(HV_MSR_VP_ASSIST_PAGE, (u32)assist | 3),
		    "no #GP");
	wrmsr(HV_MSR_VP_ASSIST_PAGE, (u32)assist | 1);
	bool on = rdmsr(HV_MSR_VP_ASSIST_PAGE) == ((u32)assist | 1) && assist[0] == 0;
	assist[1] = 0x5A5A5A5A;
	bool rw = assist[1] == 0x5A5A5A5A;
	wrmsr(HV_MSR_VP_ASSIST_PAGE, 0);
	test_result("vp-assist-overlay-2.10", on && rw && assist[1] == 0x22222222,
		    "enabled %d rw %d RAM back %08x", on, rw, assist[1]);
}

static void synic_disable_test(void)
{
	wrmsr(HV_MSR_SCONTROL, 0);
	wrmsr(HV_MSR_SIEFP, 0);
	wrmsr(HV_MSR_SIMP, 0);
	test_result("simp-removed-7.1", sim[0].type == 0xEEEEEEEE, "RAM under SIMP reads %08x",
		    sim[0].type);
}

/* Placing an overlay in a large-page region splits the hypervisor's SLAT
 * mapping and removing it merges it back, retiring a table; 200 rounds must
 * not run out of room to retire them (the scenario rejects the hypervisor's
 * "deferred-free list full" line: tables must be freed once the VPs have
 * flushed).  The page at 8 MiB is guest RAM this guest does not use. */
#define OVERLAY_CHURN_GPA 0x800000u
#define OVERLAY_CHURN_ROUNDS 200
static void overlay_churn_test(void)
{
	volatile u32 *ram = (volatile u32 *)OVERLAY_CHURN_GPA;
	ram[0] = 0x12345678;
	u32 placed = 0;
	for (u32 i = 0; i < OVERLAY_CHURN_ROUNDS; i++) {
		wrmsr(HV_MSR_SIMP, OVERLAY_CHURN_GPA | 1);
		placed += ram[0] == 0; /* the SIM page, not the RAM */
		wrmsr(HV_MSR_SIMP, 0);
	}
	test_result("overlay-churn-frees-tables-7.1", placed == OVERLAY_CHURN_ROUNDS && ram[0] == 0x12345678,
		    "%u of %u placements seen, RAM back %08x", placed, OVERLAY_CHURN_ROUNDS, ram[0]);
}

void guest_main(void)
{
	u32 a, b, c, d;

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (a < 0x40000005 || b != 0x7263694D) {
		test_result("hv-present-1.1", false, "no Microsoft Hv leaves");
		return;
	}
	if (cmdline_has("narrow")) {
		narrow_tests();
		return;
	}
	tsc_init();
	irq_init();
	outb(0x21, 0xff); /* mask the 8259s: only the APIC's interrupts */
	outb(0xa1, 0xff);
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLED | 0xff);

	if (cmdline_has("no_eoi_assist")) {
		eoi_assist_tests(false);
		return;
	}
	static_msr_tests();
	apic_msr_tests();
	synic_enable();
	stimer_message_tests();
	stimer_periodic_test();
	stimer_direct_test();
	auto_eoi_test();
	masked_sint_test();
	guest_idle_test();
	assist_test();
	eoi_assist_tests(true);
	synic_disable_test();
	overlay_churn_test();
}
