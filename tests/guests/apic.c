/*
 * apic: the local APIC as a guest OS uses it (SDM Vol. 3A chapter 11), in xAPIC mode
 * through the MMIO page and in x2APIC mode through MSRs 0x800+: ID, version, LDR/DFR,
 * the timer (one-shot, periodic, masked, TSC-deadline), self-IPIs, TPR/PPR masking,
 * nesting and EOI order, the spurious-vector register and the software-disabled
 * state, and IPIs between CPUs (fixed, logical, broadcast, NMI, lowest priority) with
 * the APs started by INIT-SIPI-SIPI (lib/smp.h).
 *
 * Results that a CPU's features rule out print "RESULT <test> SKIP <reason>".
 * Every wait is bounded by the TSC (calibrated against the PIT), so a missing
 * interrupt is a FAIL, never a hang.
 *
 * Command line: skip=<test>[,<test>] turns a test into a SKIP, for the bare emulators'
 * known deviations from the SDM (measured with run-bare.sh / run-bare-bochs.sh):
 *   QEMU 7.2 TCG: skip=apic-sw-disable-lvt-masked (software disable leaves the LVT
 *                 mask bits alone); it offers neither x2APIC nor TSC-deadline to EPYC.
 *   Bochs 2.7 corei7_skylake_x: skip=timer-tsc-deadline-msr-cleared (the MSR keeps
 *                 the deadline after the interrupt).
 * Under the hypervisor nothing is skipped: its APIC must follow the SDM.
 */
#include "guest.h"
#include "irq.h"
#include "lapic.h"
#include "smp.h"

const char guest_name[] = "apic";

/* Vectors: the priority class is vector[7:4] (SDM 11.8.3), so the tests pick vectors
 * by class. */
/* Each timer test has its own vector, so that a late interrupt from one test cannot
 * be counted by the next. */
#define VEC_TIMER        0x40 /* measuring; never unmasked */
#define VEC_ONE_SHOT     0x41
#define VEC_PERIODIC     0x42
#define VEC_MASKED       0x43
#define VEC_DEADLINE     0x44
#define VEC_X2_ONE_SHOT  0x45
#define VEC_SELF         0x50
#define VEC_TPR_LOW      0x55 /* class 5 */
#define VEC_TPR_HIGH     0x75 /* class 7 */
#define VEC_NEST_LOW     0x60 /* class 6 */
#define VEC_NEST_SAME    0x61 /* class 6: must wait for the EOI of 0x60 */
#define VEC_NEST_HIGH    0x90 /* class 9: preempts 0x60 */
#define VEC_SW_DISABLED  0x68
#define VEC_IPI          0xa0
#define VEC_IPI_BACK     0xa1
#define VEC_BROADCAST    0xa2
#define VEC_LOWEST       0xa3
#define VEC_LOGICAL      0xa4
#define VEC_SPURIOUS     0xff

#define PIC1_DATA        0x21
#define PIC2_DATA        0xa1

#define TIMER_PERIOD_US  2000
#define WAIT_MS          200   /* generous bound for anything that should be prompt */
#define AP_CALL_MS       500

/* Interrupts counted per CPU and vector by count_handler. */
static volatile u32 hits[SMP_MAX_CPUS][256];
static volatile u64 hit_tsc[256];   /* BSP only: the TSC when the vector last arrived */
static volatile u32 nmi_hits[SMP_MAX_CPUS];

static void count_handler(u32 vector)
{
	hits[smp_this_cpu()][vector]++;
	hit_tsc[vector] = rdtsc();
	lapic_eoi();
}

static void nmi_handler(u32 vector)
{
	/* NMIs are not tracked in the ISR: no EOI (SDM 11.8.4). */
	nmi_hits[smp_this_cpu()]++;
}

static void spurious_handler(u32 vector)
{
	/* A spurious interrupt sets no ISR bit and takes no EOI (SDM 11.9). */
	hits[smp_this_cpu()][vector]++;
}

static void skip(const char *name, const char *reason)
{
	printf("RESULT %s SKIP %s\n", name, reason);
}

/* Waits with IF set until hits[cpu][vector] reaches want; IF is clear again after. */
static bool wait_hits(int cpu, u32 vector, u32 want, u32 timeout_ms)
{
	u64 deadline = tsc_after_us((u64)timeout_ms * 1000);
	irq_enable();
	while (hits[cpu][vector] < want && !tsc_reached(deadline))
		cpu_relax();
	irq_disable();
	return hits[cpu][vector] >= want;
}

/* A short window with IF set in which nothing pending may be taken. */
static void open_window_us(u32 us)
{
	irq_enable();
	tsc_delay_us(us);
	irq_disable();
}

static void clear_hits(void)
{
	memset((void *)hits, 0, sizeof(hits));
	memset((void *)nmi_hits, 0, sizeof(nmi_hits));
}

/* Bounded wait for a bit to appear in the IRR (delivery to the own APIC is not
 * necessarily instantaneous). */
static bool wait_irr(u32 vector)
{
	u64 deadline = tsc_after_us(10000);
	while (!lapic_vector_bit(LAPIC_IRR, vector))
		if (tsc_reached(deadline))
			return false;
	return true;
}

static bool isr_empty(void)
{
	for (u32 i = 0; i < 8; i++)
		if (lapic_read((enum lapic_reg)(LAPIC_ISR + i * 0x10)))
			return false;
	return true;
}

/* ---- registers ------------------------------------------------------------------------ */

static u32 cpuid_initial_apic_id(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

/* CPUID leaf 0Bh EDX is the full x2APIC ID, when the leaf exists. */
static bool cpuid_x2apic_id(u32 *id)
{
	u32 a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	if (a < 0xb)
		return false;
	cpuid(0xb, 0, &a, &b, &c, &d);
	if (!b)
		return false; /* leaf not implemented (EBX[15:0] = 0 at sub-leaf 0) */
	*id = d;
	return true;
}

static void test_xapic_mode(void)
{
	test_begin("xapic-mode");
	lapic_enter_xapic();
	u64 base = rdmsr(MSR_APIC_BASE);
	note("IA32_APIC_BASE %llx", base);
	EXPECT(base & APIC_BASE_EN);
	EXPECT(!(base & APIC_BASE_EXTD));
	EXPECT(base & APIC_BASE_BSP);
	/* SDM 11.4.1: the default base is FEE00000h and nothing here moves it. */
	EXPECT_EQ((u32)base & APIC_BASE_ADDR_MASK, 0xfee00000u);
	test_end();
}

static void test_xapic_id_version(void)
{
	test_begin("xapic-id");
	/* SDM 11.4.6: xAPIC ID in bits 31:24, equal to the initial APIC ID after reset. */
	u32 id = lapic_read(LAPIC_ID);
	EXPECT_EQ(id >> 24, cpuid_initial_apic_id());
	EXPECT_EQ(smp_apic_ids[0], cpuid_initial_apic_id());
	test_end();

	test_begin("xapic-version");
	/* SDM 11.4.8: version 1xh = integrated APIC; max LVT entry 3..6 (at least
	 * timer, LINT0/1, error; AMD and Intel add thermal/perf/CMCI). */
	u32 v = lapic_read(LAPIC_VERSION);
	note("version register %08x", v);
	EXPECT((v & 0xf0) == 0x10);
	u32 max_lvt = (v >> 16) & 0xff;
	EXPECT(max_lvt >= 3 && max_lvt <= 6);
	test_end();
}

static void test_xapic_ldr_dfr(void)
{
	test_begin("xapic-ldr-dfr");
	/* SDM 11.6.2.2: flat model is DFR[31:28] = 1111b, cluster 0000b; the rest of the
	 * DFR reads as ones. The LDR's logical ID is bits 31:24; 23:0 are reserved. */
	lapic_write(LAPIC_DFR, 0xffffffffu);
	EXPECT_EQ(lapic_read(LAPIC_DFR), 0xffffffffu);
	lapic_write(LAPIC_LDR, 0x5a000000u);
	EXPECT_EQ(lapic_read(LAPIC_LDR) & 0xff000000u, 0x5a000000u);
	lapic_write(LAPIC_DFR, 0x0fffffffu);
	EXPECT_EQ(lapic_read(LAPIC_DFR), 0x0fffffffu);
	lapic_write(LAPIC_DFR, 0xffffffffu);
	lapic_write(LAPIC_LDR, 1u << 24); /* CPU 0's bit for the logical tests */
	test_end();
}

static void test_svr(void)
{
	test_begin("svr-spurious-vector");
	/* SDM 11.9: the spurious vector is bits 7:0 (all writable on P6 and later). */
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLED | 0xef);
	EXPECT_EQ(lapic_read(LAPIC_SVR) & 0x1ff, SVR_APIC_ENABLED | 0xef);
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLED | VEC_SPURIOUS);
	EXPECT_EQ(lapic_read(LAPIC_SVR) & 0x1ff, SVR_APIC_ENABLED | VEC_SPURIOUS);
	test_end();
}

/* Command line skip=<test>[,<test>...]: a known deviation of a bare emulator, e.g.
 * QEMU TCG (7.2) does not mask the LVT on software disable. */
static bool skipped_by_cmdline(const char *name)
{
	char list[160];
	if (!cmdline_value("skip", list, sizeof(list)))
		return false;
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = p;
		while (*end && *end != ',')
			end++;
		if ((size_t)(end - p) == n && !strncmp(p, name, n)) {
			skip(name, "skip= on the command line");
			return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

/* ---- timer ---------------------------------------------------------------------------- */

static u32 timer_ticks_per_ms;

/* How fast the timer counts at divide-by-1, measured against the TSC. */
static bool timer_measure(const char *prefix)
{
	char name[40];
	snprintf(name, sizeof(name), "%stimer-counts", prefix);
	test_begin(name);
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
	u32 c0 = lapic_read(LAPIC_TIMER_CURRENT);
	tsc_delay_us(1000);
	u32 c1 = lapic_read(LAPIC_TIMER_CURRENT);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	timer_ticks_per_ms = c0 - c1;
	note("APIC timer: %u ticks per ms at divide-by-1 (TSC %llu per ms%s)", timer_ticks_per_ms,
	     tsc_per_ms, tsc_calibrated ? "" : ", uncalibrated");
	EXPECT(c1 < c0);
	EXPECT_EQ(lapic_read(LAPIC_TIMER_CURRENT), 0);
	return test_end() && timer_ticks_per_ms;
}

static u32 timer_count_for_us(u32 us)
{
	u32 count = (u32)udivmod64((u64)timer_ticks_per_ms * us, 1000, NULL);
	return count ? count : 1;
}

static void test_timer_one_shot(const char *name, u32 vector)
{
	test_begin(name);
	clear_hits();
	u32 count = timer_count_for_us(TIMER_PERIOD_US);
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONE_SHOT | vector);
	lapic_write(LAPIC_TIMER_INITIAL, count);
	if (!wait_hits(0, vector, 1, WAIT_MS)) {
		test_fail("no timer interrupt within %u ms (count %u, current %u)", WAIT_MS, count,
			  lapic_read(LAPIC_TIMER_CURRENT));
	} else {
		/* SDM 11.5.4: one-shot counts to zero, interrupts once and stays at zero. */
		EXPECT_EQ(lapic_read(LAPIC_TIMER_CURRENT), 0);
		open_window_us(3 * TIMER_PERIOD_US);
		EXPECT_EQ(hits[0][vector], 1);
	}
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	test_end();
}

static void test_timer_periodic(void)
{
	test_begin("timer-periodic");
	clear_hits();
	u32 count = timer_count_for_us(TIMER_PERIOD_US);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | VEC_PERIODIC);
	lapic_write(LAPIC_TIMER_INITIAL, count);
	if (!wait_hits(0, VEC_PERIODIC, 4, WAIT_MS)) {
		test_fail("%u periodic interrupts within %u ms, expected 4", hits[0][VEC_PERIODIC], WAIT_MS);
	} else {
		/* SDM 11.5.4: periodic mode reloads the initial count at zero. */
		u32 cur = lapic_read(LAPIC_TIMER_CURRENT);
		EXPECT(cur > 0 && cur <= count);
		EXPECT_EQ(lapic_read(LAPIC_TIMER_INITIAL), count);
		/* Writing 0 to the initial count stops the timer in either mode. */
		lapic_write(LAPIC_TIMER_INITIAL, 0);
		u32 seen = hits[0][VEC_PERIODIC];
		open_window_us(3 * TIMER_PERIOD_US);
		/* One tick may have been pending when the write landed. */
		EXPECT(hits[0][VEC_PERIODIC] <= seen + 1);
		EXPECT_EQ(lapic_read(LAPIC_TIMER_CURRENT), 0);
	}
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	test_end();
}

static void test_timer_masked(void)
{
	test_begin("timer-masked");
	clear_hits();
	/* SDM 11.5.1: the mask bit inhibits the interrupt; the counter still runs down. */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONE_SHOT | VEC_MASKED);
	lapic_write(LAPIC_TIMER_INITIAL, timer_count_for_us(TIMER_PERIOD_US));
	/* Wait for zero rather than a fixed time: the measured rate is only an estimate
	 * (under TCG the TSC and the timer drift apart). */
	u64 deadline = tsc_after_us(WAIT_MS * 1000);
	irq_enable();
	while (lapic_read(LAPIC_TIMER_CURRENT) && !tsc_reached(deadline))
		cpu_relax();
	tsc_delay_us(TIMER_PERIOD_US);
	irq_disable();
	EXPECT_EQ(lapic_read(LAPIC_TIMER_CURRENT), 0);
	EXPECT_EQ(hits[0][VEC_MASKED], 0);
	EXPECT(!lapic_vector_bit(LAPIC_IRR, VEC_MASKED));
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	test_end();
}

static void test_timer_tsc_deadline(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID1_ECX_TSC_DEADLINE)) {
		skip("timer-tsc-deadline", "CPUID.1:ECX[24] (TSC-deadline) not offered");
		skip("timer-tsc-deadline-msr-cleared", "CPUID.1:ECX[24] (TSC-deadline) not offered");
		skip("timer-tsc-deadline-disarm", "CPUID.1:ECX[24] (TSC-deadline) not offered");
		return;
	}
	test_begin("timer-tsc-deadline");
	clear_hits();
	/* SDM 11.5.4.1: mode 10b in the LVT, then the deadline in IA32_TSC_DEADLINE. In
	 * xAPIC mode the MMIO write must be ordered before the WRMSR with MFENCE. */
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VEC_DEADLINE);
	__asm__ volatile("mfence" ::: "memory");
	u64 deadline = tsc_after_us(TIMER_PERIOD_US);
	wrmsr(MSR_TSC_DEADLINE, deadline);
	/* In this mode the current count reads 0. */
	EXPECT_EQ(lapic_read(LAPIC_TIMER_CURRENT), 0);
	u64 deadline_after_fire = ~0ull;
	if (!wait_hits(0, VEC_DEADLINE, 1, WAIT_MS)) {
		test_fail("no interrupt within %u ms of arming", WAIT_MS);
	} else {
		EXPECT(hit_tsc[VEC_DEADLINE] >= deadline);
		deadline_after_fire = rdmsr(MSR_TSC_DEADLINE);
		open_window_us(2 * TIMER_PERIOD_US);
		EXPECT_EQ(hits[0][VEC_DEADLINE], 1);
	}
	bool fired = test_end();

	if (!skipped_by_cmdline("timer-tsc-deadline-msr-cleared")) {
		/* "When the timer generates an interrupt, it disarms itself and clears the
		 * IA32_TSC_DEADLINE MSR" (SDM 11.5.4.1). */
		if (fired)
			test_result("timer-tsc-deadline-msr-cleared", deadline_after_fire == 0,
				    "IA32_TSC_DEADLINE reads %llx after the interrupt",
				    deadline_after_fire);
		else
			skip("timer-tsc-deadline-msr-cleared", "the deadline did not fire");
	}

	test_begin("timer-tsc-deadline-disarm");
	clear_hits();
	wrmsr(MSR_TSC_DEADLINE, tsc_after_us(TIMER_PERIOD_US));
	wrmsr(MSR_TSC_DEADLINE, 0); /* writing 0 disarms */
	open_window_us(3 * TIMER_PERIOD_US);
	EXPECT_EQ(hits[0][VEC_DEADLINE], 0);
	/* A deadline already in the past fires at once. */
	wrmsr(MSR_TSC_DEADLINE, 1);
	if (!wait_hits(0, VEC_DEADLINE, 1, WAIT_MS))
		test_fail("a deadline in the past did not fire");
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	test_end();
}

/* ---- self-IPI, TPR, nesting ------------------------------------------------------------ */

static void test_self_ipi(const char *name, u32 dest, u32 icr, bool self_ipi_msr)
{
	test_begin(name);
	clear_hits();
	if (self_ipi_msr)
		wrmsr(MSR_X2APIC_SELF_IPI, VEC_SELF); /* SDM 11.12.11 */
	else if (!lapic_send_ipi(dest, icr | ICR_FIXED | VEC_SELF))
		test_fail("ICR delivery status stayed busy");
	/* IF is clear: the IPI must wait in the IRR. */
	EXPECT(wait_irr(VEC_SELF));
	EXPECT_EQ(hits[0][VEC_SELF], 0);
	if (!wait_hits(0, VEC_SELF, 1, WAIT_MS))
		test_fail("not delivered once IF was set");
	EXPECT_EQ(hits[0][VEC_SELF], 1);
	EXPECT(!lapic_vector_bit(LAPIC_IRR, VEC_SELF));
	EXPECT(isr_empty());
	test_end();
}

static volatile u32 ppr_in_handler, ppr_equal_class;

static void tpr_high_handler(u32 vector)
{
	hits[0][vector]++;
	/* SDM 11.8.3.1: PPR[7:4] = max(TPR[7:4], ISRV[7:4]); the low nibble is TPR's when
	 * TPR[7:4] >= ISRV[7:4], else 0. */
	ppr_in_handler = lapic_read(LAPIC_PPR);
	u32 tpr = lapic_read(LAPIC_TPR);
	lapic_write(LAPIC_TPR, 0x7a); /* same class as the in-service 0x75 */
	ppr_equal_class = lapic_read(LAPIC_PPR);
	lapic_write(LAPIC_TPR, tpr);
	lapic_eoi();
}

static void test_tpr(const char *prefix)
{
	char name[40];
	snprintf(name, sizeof(name), "%stpr-masking", prefix);
	test_begin(name);
	clear_hits();
	/* SDM 11.8.3: a fixed interrupt is taken only if its class is above PPR's. */
	lapic_write(LAPIC_TPR, 0x65);
	EXPECT_EQ(lapic_read(LAPIC_TPR) & 0xff, 0x65);
	EXPECT_EQ(lapic_read(LAPIC_PPR) & 0xff, 0x65);
	lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_TPR_LOW);
	EXPECT(wait_irr(VEC_TPR_LOW));
	open_window_us(1000);
	EXPECT_EQ(hits[0][VEC_TPR_LOW], 0);
	lapic_write(LAPIC_TPR, 0x50); /* equal class: still held */
	open_window_us(1000);
	EXPECT_EQ(hits[0][VEC_TPR_LOW], 0);
	EXPECT(lapic_vector_bit(LAPIC_IRR, VEC_TPR_LOW));
	lapic_write(LAPIC_TPR, 0x40); /* now below: taken */
	if (!wait_hits(0, VEC_TPR_LOW, 1, WAIT_MS))
		test_fail("not taken after TPR dropped below its class");
	EXPECT(!lapic_vector_bit(LAPIC_IRR, VEC_TPR_LOW));
	lapic_write(LAPIC_TPR, 0);
	test_end();

	snprintf(name, sizeof(name), "%stpr-ppr", prefix);
	test_begin(name);
	clear_hits();
	ppr_in_handler = ppr_equal_class = 0xdead;
	irq_set_handler(VEC_TPR_HIGH, tpr_high_handler);
	lapic_write(LAPIC_TPR, 0x23);
	lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_TPR_HIGH);
	if (!wait_hits(0, VEC_TPR_HIGH, 1, WAIT_MS)) {
		test_fail("vector 0x75 not taken with TPR 0x23");
	} else {
		EXPECT_EQ(ppr_in_handler, 0x70);
		EXPECT_EQ(ppr_equal_class, 0x7a);
	}
	EXPECT_EQ(lapic_read(LAPIC_PPR) & 0xff, 0x23);
	irq_set_handler(VEC_TPR_HIGH, count_handler);
	lapic_write(LAPIC_TPR, 0);
	test_end();
}

#define NEST_LOG_MAX 8
static volatile u32 nest_log[NEST_LOG_MAX], nest_log_len;
static volatile bool nest_isr_low_and_high, nest_isr_after_high_eoi, nest_same_pending,
	nest_high_ran;
static volatile u32 nest_ppr_high;

static void nest_log_add(u32 what)
{
	if (nest_log_len < NEST_LOG_MAX)
		nest_log[nest_log_len++] = what;
}

static void nest_high_handler(u32 vector)
{
	nest_log_add(vector);
	nest_isr_low_and_high = lapic_vector_bit(LAPIC_ISR, VEC_NEST_LOW) &&
				lapic_vector_bit(LAPIC_ISR, VEC_NEST_HIGH);
	nest_ppr_high = lapic_read(LAPIC_PPR);
	/* SDM 11.8.5: EOI retires the highest-priority in-service vector. */
	lapic_eoi();
	nest_isr_after_high_eoi = lapic_vector_bit(LAPIC_ISR, VEC_NEST_LOW) &&
				  !lapic_vector_bit(LAPIC_ISR, VEC_NEST_HIGH);
	nest_high_ran = true;
}

static void nest_low_handler(u32 vector)
{
	nest_log_add(vector);
	lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_NEST_SAME);
	lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_NEST_HIGH);
	/* Let the higher class in; the same class must stay pending. */
	u64 deadline = tsc_after_us(WAIT_MS * 1000);
	irq_enable();
	while (!nest_high_ran && !tsc_reached(deadline))
		cpu_relax();
	tsc_delay_us(500);
	irq_disable();
	nest_same_pending = lapic_vector_bit(LAPIC_IRR, VEC_NEST_SAME);
	nest_log_add(0x100 | vector);
	lapic_eoi();
}

static void nest_same_handler(u32 vector)
{
	nest_log_add(vector);
	lapic_eoi();
}

static void test_nesting(void)
{
	test_begin("eoi-nesting");
	clear_hits();
	nest_log_len = 0;
	nest_isr_low_and_high = nest_isr_after_high_eoi = nest_same_pending = nest_high_ran = false;
	irq_set_handler(VEC_NEST_LOW, nest_low_handler);
	irq_set_handler(VEC_NEST_SAME, nest_same_handler);
	irq_set_handler(VEC_NEST_HIGH, nest_high_handler);
	lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_NEST_LOW);
	u64 deadline = tsc_after_us(WAIT_MS * 1000);
	irq_enable();
	while (nest_log_len < 4 && !tsc_reached(deadline))
		cpu_relax();
	irq_disable();
	/* Expected: low enters, high nests inside it, low leaves, then the same-class
	 * vector that waited for low's EOI. */
	static const u32 want[4] = { VEC_NEST_LOW, VEC_NEST_HIGH, 0x100 | VEC_NEST_LOW,
				     VEC_NEST_SAME };
	char got[64] = "";
	for (u32 i = 0, n = 0; i < nest_log_len; i++)
		n += (u32)snprintf(got + n, sizeof(got) - n, " %x", nest_log[i]);
	bool order = nest_log_len == 4;
	for (u32 i = 0; order && i < 4; i++)
		order = nest_log[i] == want[i];
	if (!order)
		test_fail("handler order%s, expected 60 90 160 61", got);
	EXPECT(nest_isr_low_and_high);
	EXPECT(nest_isr_after_high_eoi);
	EXPECT_EQ(nest_ppr_high & 0xf0, 0x90);
	EXPECT(nest_same_pending);
	EXPECT(isr_empty());
	irq_set_handler(VEC_NEST_LOW, count_handler);
	irq_set_handler(VEC_NEST_SAME, count_handler);
	irq_set_handler(VEC_NEST_HIGH, count_handler);
	test_end();
}

static void test_software_disable(void)
{
	test_begin("apic-sw-disable-holds");
	clear_hits();
	lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VEC_SW_DISABLED);
	EXPECT(wait_irr(VEC_SW_DISABLED));
	/* SDM 11.4.7.2: with SVR[8] clear, pending interrupts "are held and require
	 * masking or handling by the CPU": the IRR keeps them (IF stays clear here;
	 * whether the CPU may still take one is left open, and emulators differ). */
	lapic_write(LAPIC_SVR, VEC_SPURIOUS);
	EXPECT_EQ(lapic_read(LAPIC_SVR) & 0x1ff, VEC_SPURIOUS);
	tsc_delay_us(1000);
	EXPECT(lapic_vector_bit(LAPIC_IRR, VEC_SW_DISABLED));
	EXPECT_EQ(hits[0][VEC_SW_DISABLED], 0);
	test_end();

	if (!skipped_by_cmdline("apic-sw-disable-lvt-masked")) {
		test_begin("apic-sw-disable-lvt-masked");
		/* ... and every LVT mask bit is set and cannot be cleared. */
		EXPECT(lapic_read(LAPIC_LVT_TIMER) & LVT_MASKED);
		EXPECT(lapic_read(LAPIC_LVT_LINT0) & LVT_MASKED);
		EXPECT(lapic_read(LAPIC_LVT_ERROR) & LVT_MASKED);
		lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_ONE_SHOT | VEC_TIMER);
		EXPECT(lapic_read(LAPIC_LVT_TIMER) & LVT_MASKED);
		EXPECT_EQ(lapic_read(LAPIC_LVT_TIMER) & 0xff, VEC_TIMER);
		test_end();
	}

	test_begin("apic-sw-reenable-delivers");
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLED | VEC_SPURIOUS);
	if (!wait_hits(0, VEC_SW_DISABLED, 1, WAIT_MS))
		test_fail("the held interrupt was not taken after re-enabling");
	test_end();
}

/* ---- IPIs between CPUs ------------------------------------------------------------------ */

struct ap_report {
	u32 apic_id, cpuid_id, x2apic_base, ldr, tpr;
	bool send_ok;
};
static struct ap_report ap_reports[SMP_MAX_CPUS];

static void ap_identify(void *arg)
{
	struct ap_report *r = &ap_reports[smp_this_cpu()];
	r->apic_id = lapic_id();
	r->cpuid_id = cpuid_initial_apic_id();
	r->ldr = lapic_read(LAPIC_LDR);
	r->x2apic_base = (u32)rdmsr(MSR_APIC_BASE);
}

/* Flat logical mode: CPU n owns bit n of the 8-bit logical ID (SDM 11.6.2.2). */
static void ap_set_logical(void *arg)
{
	lapic_write(LAPIC_DFR, 0xffffffffu);
	lapic_write(LAPIC_LDR, 1u << (24 + smp_this_cpu()));
}

static void ap_send_to_bsp(void *arg)
{
	ap_reports[smp_this_cpu()].send_ok = lapic_send_ipi(smp_apic_ids[0], ICR_FIXED | VEC_IPI_BACK);
}

static void ap_set_tpr(void *arg)
{
	lapic_write(LAPIC_TPR, (u32)arg);
}

static void ap_enter_x2apic(void *arg)
{
	lapic_enter_x2apic();
	ap_identify(arg);
}

static void ipi_skip_all(const char *prefix, const char *reason)
{
	static const char *const names[] = { "ipi-fixed-bsp-to-ap", "ipi-fixed-ap-to-bsp",
					     "ipi-broadcast", "ipi-nmi", "ipi-logical",
					     "ipi-lowest-priority" };
	char name[48];
	for (u32 i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", prefix, names[i]);
		skip(name, reason);
	}
}

static bool wait_ap_hits(int cpu, u32 vector, u32 want)
{
	u64 deadline = tsc_after_us(WAIT_MS * 1000);
	while (hits[cpu][vector] < want && !tsc_reached(deadline))
		cpu_relax();
	return hits[cpu][vector] >= want;
}

static bool wait_nmis(int cpu, u32 want)
{
	u64 deadline = tsc_after_us(WAIT_MS * 1000);
	while (nmi_hits[cpu] < want && !tsc_reached(deadline))
		cpu_relax();
	return nmi_hits[cpu] >= want;
}

/* The IPI tests, in whichever mode every CPU is in; x2: logical IDs are the x2APIC
 * cluster IDs derived from the APIC ID (SDM 11.12.10.2), else flat xAPIC bits. */
static void ipi_tests(const char *prefix, bool x2)
{
	char name[48];
	int aps = smp_cpu_count - 1;

	snprintf(name, sizeof(name), "%sipi-fixed-bsp-to-ap", prefix);
	test_begin(name);
	clear_hits();
	for (int cpu = 1; cpu <= aps; cpu++) {
		if (!lapic_send_ipi(smp_apic_ids[cpu], ICR_FIXED | VEC_IPI))
			test_fail("ICR stayed busy sending to cpu %d", cpu);
		if (!wait_ap_hits(cpu, VEC_IPI, 1))
			test_fail("cpu %d (apic %u) did not take vector %x", cpu, smp_apic_ids[cpu], VEC_IPI);
	}
	EXPECT_EQ(hits[0][VEC_IPI], 0);
	test_end();

	snprintf(name, sizeof(name), "%sipi-fixed-ap-to-bsp", prefix);
	test_begin(name);
	clear_hits();
	for (int cpu = 1; cpu <= aps; cpu++) {
		ap_reports[cpu].send_ok = false;
		if (!smp_call(cpu, ap_send_to_bsp, NULL, AP_CALL_MS))
			test_fail("cpu %d did not run the call", cpu);
		else if (!ap_reports[cpu].send_ok)
			test_fail("cpu %d: ICR stayed busy", cpu);
		if (!wait_hits(0, VEC_IPI_BACK, (u32)cpu, WAIT_MS))
			test_fail("the BSP did not get cpu %d's IPI", cpu);
	}
	test_end();

	snprintf(name, sizeof(name), "%sipi-broadcast", prefix);
	test_begin(name);
	clear_hits();
	lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_FIXED | VEC_BROADCAST);
	for (int cpu = 1; cpu <= aps; cpu++)
		if (!wait_ap_hits(cpu, VEC_BROADCAST, 1))
			test_fail("cpu %d did not get the broadcast", cpu);
	open_window_us(1000);
	EXPECT_EQ(hits[0][VEC_BROADCAST], 0); /* "excluding self" */
	for (int cpu = 1; cpu <= aps; cpu++)
		EXPECT_EQ(hits[cpu][VEC_BROADCAST], 1);
	test_end();

	snprintf(name, sizeof(name), "%sipi-nmi", prefix);
	test_begin(name);
	clear_hits();
	for (int cpu = 1; cpu <= aps; cpu++) {
		/* SDM 11.6.1: delivery mode NMI ignores the vector field. Twice: the IRET
		 * of the first handler must unblock NMIs (SDM 6.7.1). */
		for (u32 round = 1; round <= 2; round++) {
			lapic_send_ipi(smp_apic_ids[cpu], ICR_NMI);
			if (!wait_nmis(cpu, round)) {
				test_fail("cpu %d's NMI handler did not run for NMI %u", cpu, round);
				break;
			}
		}
	}
	EXPECT_EQ(nmi_hits[0], 0);
	test_end();

	snprintf(name, sizeof(name), "%sipi-logical", prefix);
	test_begin(name);
	clear_hits();
	for (int cpu = 1; cpu <= aps; cpu++) {
		u32 dest;
		if (x2) {
			/* Logical x2APIC ID: cluster (ID[19:4]) in 31:16, 1 << ID[3:0] below. */
			u32 id = smp_apic_ids[cpu];
			dest = ((id >> 4) << 16) | (1u << (id & 0xf));
		} else {
			dest = 1u << cpu;
		}
		lapic_send_ipi(dest, ICR_LOGICAL | ICR_FIXED | VEC_LOGICAL);
		if (!wait_ap_hits(cpu, VEC_LOGICAL, 1))
			test_fail("cpu %d did not get its logical-destination IPI (dest %x)", cpu, dest);
	}
	EXPECT_EQ(hits[0][VEC_LOGICAL], 0);
	test_end();

	snprintf(name, sizeof(name), "%sipi-lowest-priority", prefix);
	if (x2) {
		/* x2APIC has no flat model and lowest-priority there is model specific. */
		skip(name, "not tested in x2APIC mode");
		return;
	}
	test_begin(name);
	clear_hits();
	/* SDM 11.6.2.4: one CPU of the destination set takes it (which one is model
	 * specific, so only "exactly one" is checked). Raise the BSP's TPR to make the
	 * AP the natural choice. */
	lapic_write(LAPIC_TPR, 0x80);
	for (int cpu = 1; cpu <= aps; cpu++)
		smp_call(cpu, ap_set_tpr, (void *)0, AP_CALL_MS);
	u32 all = (1u << smp_cpu_count) - 1;
	lapic_send_ipi(all, ICR_LOGICAL | ICR_LOWEST | VEC_LOWEST);
	u64 deadline = tsc_after_us(WAIT_MS * 1000);
	u32 total = 0;
	irq_enable();
	while (!tsc_reached(deadline)) {
		total = 0;
		for (int cpu = 0; cpu < smp_cpu_count; cpu++)
			total += hits[cpu][VEC_LOWEST];
		if (total)
			break;
		cpu_relax();
	}
	lapic_write(LAPIC_TPR, 0); /* the BSP may take it only now (it outranks TPR 0x80) */
	tsc_delay_us(2000);
	irq_disable();
	total = 0;
	for (int cpu = 0; cpu < smp_cpu_count; cpu++) {
		total += hits[cpu][VEC_LOWEST];
		if (hits[cpu][VEC_LOWEST])
			note("lowest priority: cpu %d took it", cpu);
	}
	if (total != 1)
		test_fail("%u CPUs took the lowest-priority interrupt, expected 1", total);
	test_end();
}

static void smp_tests(void)
{
	bool madt = smp_discover();
	note("MADT %s, %d CPU(s)", madt ? "found" : "not found", smp_cpu_count);
	if (smp_cpu_count < 2) {
		skip("smp-start-aps", madt ? "one CPU in the MADT" : "no ACPI MADT");
		ipi_skip_all("", "one CPU");
		return;
	}
	test_begin("smp-start-aps");
	int started = smp_start_aps();
	note("trampoline at %x, %d of %d APs started", smp_trampoline_base(), started,
	     smp_cpu_count - 1);
	EXPECT_EQ(started, smp_cpu_count - 1);
	for (int cpu = 1; cpu < smp_cpu_count && started == smp_cpu_count - 1; cpu++) {
		if (!smp_call(cpu, ap_identify, NULL, AP_CALL_MS)) {
			test_fail("cpu %d does not answer", cpu);
			continue;
		}
		const struct ap_report *r = &ap_reports[cpu];
		EXPECT_EQ(r->apic_id, smp_apic_ids[cpu]);
		EXPECT_EQ(r->cpuid_id, smp_apic_ids[cpu] & 0xff);
		EXPECT(!(r->x2apic_base & APIC_BASE_BSP));
		smp_call(cpu, ap_set_logical, NULL, AP_CALL_MS);
	}
	if (!test_end()) {
		ipi_skip_all("", "the APs did not start");
		return;
	}
	ipi_tests("", false);
}

/* ---- x2APIC ---------------------------------------------------------------------------- */

static void x2apic_tests(bool aps_up)
{
	if (!lapic_x2apic_offered()) {
		static const char *const names[] = {
			"x2apic-mode", "x2apic-id", "x2apic-ldr", "x2apic-xapic-only-gp",
			"x2apic-timer-one-shot", "x2apic-self-ipi", "x2apic-self-ipi-msr",
			"x2apic-tpr-masking", "x2apic-tpr-ppr",
		};
		for (u32 i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			skip(names[i], "CPUID.1:ECX[21] (x2APIC) not offered");
		ipi_skip_all("x2apic-", "CPUID.1:ECX[21] (x2APIC) not offered");
		return;
	}
	test_begin("x2apic-mode");
	/* SDM 11.12.1: from xAPIC mode, set EXTD with EN still set. */
	lapic_enter_x2apic();
	u64 base = rdmsr(MSR_APIC_BASE);
	EXPECT((base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD));
	/* SDM 11.12.5: EXTD without EN is an invalid state: #GP. */
	EXPECT(wrmsr_gp(MSR_APIC_BASE, (base & ~(u64)APIC_BASE_EN) | APIC_BASE_EXTD));
	/* ... and so is x2APIC -> xAPIC without passing through disabled. */
	EXPECT(wrmsr_gp(MSR_APIC_BASE, base & ~(u64)APIC_BASE_EXTD));
	EXPECT_EQ(rdmsr(MSR_APIC_BASE), base);
	/* Going to x2APIC mode keeps the software enable and the spurious vector. */
	EXPECT_EQ(lapic_read(LAPIC_SVR) & 0x1ff, SVR_APIC_ENABLED | VEC_SPURIOUS);
	test_end();

	test_begin("x2apic-id");
	/* SDM 11.12.5.1: the x2APIC ID is the full 32-bit ID, CPUID.0Bh:EDX. */
	u32 id = lapic_id(), leaf_b_id;
	if (cpuid_x2apic_id(&leaf_b_id))
		EXPECT_EQ(id, leaf_b_id);
	EXPECT_EQ(id & 0xff, cpuid_initial_apic_id());
	/* The ID is read-only in x2APIC mode (SDM Table 11-6): writes #GP. */
	EXPECT(wrmsr_gp(MSR_X2APIC_FIRST + (LAPIC_ID >> 4), id));
	u32 version = lapic_read(LAPIC_VERSION);
	EXPECT((version & 0xf0) == 0x10);
	test_end();

	test_begin("x2apic-ldr");
	/* SDM 11.12.10.2: LDR = cluster (ID[19:4]) << 16 | 1 << ID[3:0], read-only. */
	u32 want_ldr = ((id >> 4) << 16) | (1u << (id & 0xf));
	EXPECT_EQ(lapic_read(LAPIC_LDR), want_ldr);
	EXPECT(wrmsr_gp(MSR_X2APIC_FIRST + (LAPIC_LDR >> 4), 0));
	test_end();

	test_begin("x2apic-xapic-only-gp");
	/* DFR and ICR high do not exist in x2APIC mode (SDM Table 11-6). */
	EXPECT(rdmsr_gp(MSR_X2APIC_FIRST + (LAPIC_DFR >> 4)));
	EXPECT(rdmsr_gp(MSR_X2APIC_FIRST + (LAPIC_ICR_HIGH >> 4)));
	/* SELF IPI is write-only. */
	EXPECT(rdmsr_gp(MSR_X2APIC_SELF_IPI));
	test_end();

	if (timer_ticks_per_ms)
		test_timer_one_shot("x2apic-timer-one-shot", VEC_X2_ONE_SHOT);
	else
		skip("x2apic-timer-one-shot", "the timer did not count in xAPIC mode");
	test_self_ipi("x2apic-self-ipi", 0, ICR_SELF, false);
	test_self_ipi("x2apic-self-ipi-msr", 0, 0, true);
	test_tpr("x2apic-");

	if (smp_cpu_count < 2 || !aps_up) {
		ipi_skip_all("x2apic-", smp_cpu_count < 2 ? "one CPU" : "the APs did not start");
		return;
	}
	test_begin("x2apic-ap-mode");
	for (int cpu = 1; cpu < smp_cpu_count; cpu++) {
		if (!smp_call(cpu, ap_enter_x2apic, NULL, AP_CALL_MS)) {
			test_fail("cpu %d did not answer", cpu);
			continue;
		}
		const struct ap_report *r = &ap_reports[cpu];
		u32 ap_id = smp_apic_ids[cpu];
		EXPECT(r->x2apic_base & APIC_BASE_EXTD);
		EXPECT_EQ(r->apic_id, ap_id);
		EXPECT_EQ(r->ldr, ((ap_id >> 4) << 16) | (1u << (ap_id & 0xf)));
	}
	if (test_end())
		ipi_tests("x2apic-", true);
	else
		ipi_skip_all("x2apic-", "the APs did not enter x2APIC mode");
}

void guest_main(void)
{
	if (!lapic_present()) {
		test_result("apic-present", false, "CPUID.1:EDX[9] clear: no local APIC");
		return;
	}
	tsc_init();
	irq_init();
	for (u32 v = 32; v < 256; v++)
		irq_set_handler(v, count_handler);
	irq_set_handler(VEC_SPURIOUS, spurious_handler);
	irq_set_handler(VEC_NMI, nmi_handler);
	/* The firmware leaves the 8259 PICs programmed (IRQ0 at vector 8) and LINT0 in
	 * ExtINT mode: mask both PICs so that IF=1 brings only the APIC's own interrupts. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	smp_discover();

	test_xapic_mode();
	test_xapic_id_version();
	test_xapic_ldr_dfr();
	test_svr();
	if (timer_measure("")) {
		test_timer_one_shot("timer-one-shot", VEC_ONE_SHOT);
		test_timer_periodic();
		test_timer_masked();
	} else {
		skip("timer-one-shot", "the timer does not count");
		skip("timer-periodic", "the timer does not count");
		skip("timer-masked", "the timer does not count");
	}
	test_timer_tsc_deadline();
	test_self_ipi("self-ipi", 0, ICR_SELF, false);
	test_self_ipi("self-ipi-by-id", smp_apic_ids[0], 0, false);
	test_tpr("");
	test_nesting();
	test_software_disable();
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);

	smp_tests();
	bool aps_up = smp_cpu_count > 1 && smp_cpu_online[smp_cpu_count - 1];
	x2apic_tests(aps_up);

	u32 unhandled = 0;
	for (u32 v = 0; v < 256; v++)
		unhandled += irq_unhandled[v];
	test_result("no-stray-interrupts", unhandled == 0 && hits[0][VEC_SPURIOUS] == 0,
		    "%u unhandled, %u spurious", unhandled, hits[0][VEC_SPURIOUS]);
}
