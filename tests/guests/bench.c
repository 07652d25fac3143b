/*
 * bench: the exit-cost guest of `make bench` (tests/bench.py). It runs the same loops
 * on a bare emulator, QEMU or Bochs (the floor), and under the hypervisor, where each
 * operation is an exit:
 *
 *   empty   the loop alone (counter and branch): the floor of the measurement itself
 *   cpuid   CPUID leaf 0 (intercepted, answered by the CPUID policy)
 *   io      OUT to the console UART's scratch register, port 0x3ff (the hypervisor
 *           emulates its console UART; bare, it is a plain device access)
 *   npf     a 4-byte read from memory the hypervisor does not back (nested page fault
 *           or EPT violation, decoded and emulated as unbacked memory; bare, plain RAM)
 *   vmcall / vmmcall
 *           the hypercall instruction of the CPU's vendor (CPUID leaf 0): VMCALL
 *           (0F 01 C1) on Intel, VMMCALL (0F 01 D9) otherwise, the one that exits under
 *           VMX or SVM respectively. #UD both bare and under the hypervisor, which
 *           answers it with #UD until the guest enables the hypercall page (done
 *           only after this loop): exit + #UD injection + the guest's own minimal
 *           #UD handler. The other vendor's instruction would measure no exit: it is
 *           a plain #UD, which the hypervisor does not intercept.
 *
 * Each loop runs WARMUP times, then ITERATIONS times between two RDTSC, and prints
 *     BENCH <op> iterations=<n> ticks=<total> ticks_per_op=<total/n, one decimal>
 * Under QEMU `-icount shift=0,sleep=off`, and on Bochs with one CPU (`clock: sync=none`,
 * fixed `ips`), the TSC advances one tick per executed instruction, so these are
 * deterministic instruction counts, not time.
 *
 * Under the hypervisor (`hv` on the command line) the guest then enables the Hv#1
 * interface (GUEST_OS_ID, the hypercall page) and times more operations. Hypercalls
 * use the 32-bit convention through the hypercall page (TLFS 3.8), as a 32-bit OS
 * would:
 *
 *   hc_fast_null   HvCallNotifyLongSpinWait (0x0008), fast: the "null" hypercall. It is
 *                  advisory and its handler does nothing, so this is the hypercall path
 *                  alone: exit, decode, validate, dispatch, result, RIP advance
 *   hc_slow_null   the same call with its 8-byte input in memory: adds the checks on
 *                  the input GPA and the copy from guest memory
 *   msr_vp_index   RDMSR HV_X64_MSR_VP_INDEX (0x40000002)
 *   msr_time_ref   RDMSR HV_X64_MSR_TIME_REF_COUNT (0x40000020)
 *   flush_self     HvCallFlushVirtualAddressSpace (memory input), processor mask = VP 0
 *   ipi_self       HvCallSendSyntheticClusterIpi, fast, to VP 0 itself with IF set: the
 *                  call, the injection, the guest's handler and its EOI (through the
 *                  HV_X64_MSR_EOI MSR when AccessIntrCtrlRegs is offered, as an
 *                  enlightened guest does; otherwise the xAPIC EOI register)
 *   flush_all      the flush with HV_FLUSH_ALL_PROCESSORS
 *
 * With a second CPU in the MADT the guest starts it (VP 1) and VP 0 also times
 * operations on it, one at a time, with VP 1 in a known state each time (loop_vp1):
 *
 *   flush_other_halted   the flush with processor mask = VP 1 while VP 1 waits in HLT
 *   ipi_other_halted     the fast IPI to VP 1 while it waits in HLT, until VP 1's
 *                        handler has run (VP 0 spins on the handler's count)
 *   flush_other_running  the flush of VP 1 while it spins in guest code: the call
 *                        returns once VP 1 has left guest mode
 *   flush_all            (replaces the one above) all VPs, VP 1 spinning in guest code
 *   ipi_other_running    the IPI to VP 1 spinning in guest code, until its handler ran
 *
 * VP 1 waits in HLT while VP 0 times the one-VP rows. Every call's result must be
 * HV_STATUS_SUCCESS and every IPI must run its handler exactly once: each Hv#1 row is
 * also a RESULT. The bare machines have no Hv#1 interface; without `hv` the guest
 * skips this part.
 *
 * The npf address: `probe=<addr>` if given; otherwise the first reserved region of the
 * memory map that continues usable RAM upwards (under the hypervisor its pool lies
 * there; see isolation.c). It is printed as `BENCH npf_addr=0x...` so that bench.py
 * can hand the same address to the bare run. With `hv` the address must read all ones.
 */
#include "guest.h"
#include "hvcall.h"
#include "irq.h"
#include "lapic.h"
#include "smp.h"

const char guest_name[] = "bench";

#define WARMUP     100u
#define ITERATIONS 2000u
#define UART_SCR   0x3ffu /* COM1 + 7: scratch register */
#define PAGE       4096u
#define FOUR_GIB   0x100000000ull

/* Minimal #UD handler for the hypercall loop: skip the 3-byte instruction (VMCALL and
 * VMMCALL are both 3 bytes). */
void bench_ud_handler(void);
void site_vmmcall(void *);
void site_vmcall(void *);
__asm__(".text\n"
	".globl bench_ud_handler\n.type bench_ud_handler, @function\n"
	"bench_ud_handler:\n\taddl $3, (%esp)\n\tiret\n"
	".globl site_vmmcall\n.type site_vmmcall, @function\n"
	"site_vmmcall:\n\t.byte 0x0f, 0x01, 0xd9\n\tret\n"
	".globl site_vmcall\n.type site_vmcall, @function\n"
	"site_vmcall:\n\t.byte 0x0f, 0x01, 0xc1\n\tret\n");

struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

static struct idt_gate *idt_base(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) r;
	__asm__ volatile("sidt %0" : "=m"(r));
	return (struct idt_gate *)r.base;
}

static u32 npf_addr;

static u64 loop_empty(u32 n)
{
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		__asm__ volatile("" ::: "memory");
	return rdtsc() - t0;
}

static u64 loop_cpuid(u32 n)
{
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--) {
		u32 a = 0, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) :: "memory");
	}
	return rdtsc() - t0;
}

static u64 loop_io(u32 n)
{
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		outb(UART_SCR, (u8)i);
	return rdtsc() - t0;
}

static u64 loop_npf(u32 n)
{
	volatile u32 *p = (volatile u32 *)npf_addr;
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		(void)*p;
	return rdtsc() - t0;
}

static u64 loop_vmmcall(u32 n)
{
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		__asm__ volatile(".byte 0x0f, 0x01, 0xd9" ::: "memory");
	return rdtsc() - t0;
}

static u64 loop_vmcall(u32 n)
{
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		__asm__ volatile(".byte 0x0f, 0x01, 0xc1" ::: "memory");
	return rdtsc() - t0;
}

/* CPUID leaf 0 vendor "GenuineIntel": EBX, EDX, ECX = "Genu", "ineI", "ntel". */
static bool vendor_intel(void)
{
	u32 a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	return b == 0x756e6547u && d == 0x49656e69u && c == 0x6c65746eu;
}

static void measure(const char *name, u64 (*loop)(u32))
{
	loop(WARMUP);
	u64 ticks = loop(ITERATIONS);
	u32 rem;
	u64 tenths = udivmod64(ticks * 10, ITERATIONS, &rem);
	u32 frac;
	u64 whole = udivmod64(tenths, 10, &frac);
	printf("BENCH %s iterations=%u ticks=%llu ticks_per_op=%llu.%u\n", name, ITERATIONS,
	       ticks, whole, frac);
}

/* The first reserved region that continues usable RAM (below 4 GiB) upwards. */
static u32 find_reserved_above_ram(void)
{
	u64 top = 0;
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *r = &mem_map[i];
		if (r->type == MMAP_USABLE && r->base < FOUR_GIB && r->base + r->len > top)
			top = r->base + r->len;
	}
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *r = &mem_map[i];
		u64 lo = (r->base + PAGE - 1) & ~(u64)(PAGE - 1);
		if (r->type != MMAP_USABLE && r->base == top && lo + PAGE <= r->base + r->len &&
		    lo + PAGE <= FOUR_GIB)
			return (u32)lo;
	}
	return 0;
}

/* ---- Hv#1 (under the hypervisor only) -------------------------------------------- */

#define SPIN_COUNT 1u /* NotifyLongSpinWait's argument: advisory, any value */
#define VEC_BENCH_IPI 0x61u
#define VP_SELF_MASK (1ull << 0) /* VP 0 measures */
#define VP_OTHER_MASK (1ull << 1)

#define VP1_WAIT_US 100000u /* bound on every wait for VP 1 */
/* After VP 1 has gone round its HLT loop again, what it still runs before it sleeps
 * (its HLT exit, the hypervisor's halt path) takes a few thousand ticks; this much
 * more is ample on both emulators. */
#define HALT_SETTLE_TICKS 20000u
/* Then a further wait of 0 to this many ticks, different each time (see loop_vp1):
 * two of the 1 ms console polls on Bochs at 3 M ips. */
#define PHASE_SPREAD_TICKS 6000u

/* The memory inputs, one block per timed call so that a loop only passes an address:
 * 8-byte aligned and inside one page (TLFS 3.6). */
static struct {
	u64 spin_wait[1];     /* HvCallNotifyLongSpinWait: SpinCount */
	u64 flush_self[3];    /* FlushVirtualAddressSpace: AddressSpace, Flags, ProcessorMask */
	u64 flush_all[3];
	u64 flush_other[3];
} hc_in __attribute__((aligned(PAGE)));

/* The call the next loop_hypercall() times, and the calls of it that did not return
 * HV_STATUS_SUCCESS with no reps (a result other than 0). */
static struct {
	u64 control, in, out;
} timed_call;
static u32 timed_call_failures;
static u32 timed_msr;
static bool eoi_by_msr;
static volatile u32 ipi_hits[SMP_MAX_CPUS];

static u64 loop_hypercall(u32 n)
{
	u64 control = timed_call.control, in = timed_call.in, out = timed_call.out;
	u32 failures = 0;
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		failures += hvcall(control, in, out) != 0;
	u64 ticks = rdtsc() - t0;
	timed_call_failures += failures;
	return ticks;
}

static u64 loop_rdmsr(u32 n)
{
	u32 msr = timed_msr;
	u64 t0 = rdtsc();
	for (u32 i = n; i; i--)
		(void)rdmsr(msr);
	return rdtsc() - t0;
}

static void bench_ipi_handler(u32 vector)
{
	(void)vector;
	ipi_hits[smp_this_cpu()]++;
	if (eoi_by_msr)
		wrmsr(HV_MSR_EOI, 0);
	else
		lapic_eoi();
}

/* Times one hypercall and checks that every call of it, warm-up included, succeeded.
 * in and out are what the registers carry: GPAs for a memory call, the two input
 * qwords for a fast one. */
static void measure_call(const char *name, u64 control, u64 in, u64 out)
{
	timed_call.control = control;
	timed_call.in = in;
	timed_call.out = out;
	timed_call_failures = 0;
	measure(name, loop_hypercall);
	test_result(name, timed_call_failures == 0, "%u of %u calls did not succeed",
		    timed_call_failures, WARMUP + ITERATIONS);
}

static void measure_rdmsr(const char *name, u32 msr)
{
	timed_msr = msr;
	measure(name, loop_rdmsr);
}

static void flush_input(u64 *block, u64 flags, u64 processor_mask)
{
	block[0] = 0; /* AddressSpace: a hint, any value (TLFS 8.1) */
	block[1] = flags;
	block[2] = processor_mask;
}

/* ---- the rows with VP 1 ----
 * VP 1 runs one of two loops, each counting its passes, until told to stop: it waits
 * in HLT (IF set) or spins in guest code. After each timed operation VP 0 waits,
 * untimed, until VP 1 is back in that state (a new pass; for HLT also the way down
 * to sleep), so that every operation meets VP 1 in the same state: the rows are the
 * cost of one operation, not how fast VP 1 gets through a stream of them. */
enum vp1_state { VP1_HALTED, VP1_RUNNING };
static volatile bool vp1_stop, vp1_in_loop;
static volatile u32 vp1_passes;
static enum vp1_state vp1_state;
static u64 vp1_wait_ticks;
static u32 vp1_waits_timed_out;
static bool timed_call_is_ipi; /* wait for VP 1's handler: part of the timed operation */

static void vp1_halt_loop(void *arg)
{
	(void)arg;
	vp1_in_loop = true;
	for (;;) {
		irq_disable();
		if (vp1_stop)
			break;
		vp1_passes++;
		/* STI's shadow covers HLT: an interrupt that came after the check wakes it. */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	vp1_in_loop = false;
	irq_enable();
}

static void vp1_spin_loop(void *arg)
{
	(void)arg;
	vp1_in_loop = true;
	while (!vp1_stop) {
		vp1_passes++;
		cpu_relax();
	}
	vp1_in_loop = false;
}

/* Spins until *word differs from old or VP1_WAIT_US passed; false on timeout. */
static bool wait_change(volatile u32 *word, u32 old)
{
	u64 deadline = rdtsc() + vp1_wait_ticks;
	while (*word == old) {
		if (rdtsc() > deadline) {
			vp1_waits_timed_out++;
			return false;
		}
		cpu_relax();
	}
	return true;
}

static void spin_ticks(u64 ticks)
{
	u64 until = rdtsc() + ticks;
	while (rdtsc() < until)
		cpu_relax();
}

/* 0 .. PHASE_SPREAD_TICKS - 1 from a fixed linear congruential sequence, so that
 * repeated runs stay identical. */
static u32 phase_spread_ticks(void)
{
	static u32 state = 1;
	state = state * 1103515245u + 12345u;
	return (state >> 8) % PHASE_SPREAD_TICKS;
}

/* The timed call against VP 1, one at a time: only the call (and, for an IPI, the wait
 * for VP 1's handler) is timed.  Between two calls an untimed wait of varying length:
 * what a call costs depends on what VP 1's CPU is doing when it arrives (its periodic
 * console poll, where it is in Bochs's lockstep), and with a fixed gap every call would
 * meet the same moment, so the average would change with the length of unrelated
 * code.  Spread over those moments it stays put (within about 1%). */
static u64 loop_vp1(u32 n)
{
	u64 control = timed_call.control, in = timed_call.in, out = timed_call.out;
	u32 failures = 0;
	u64 ticks = 0;
	/* A flush does not wake a halted VP 1 (it flushes before it next enters). */
	bool wakes_vp1 = timed_call_is_ipi || vp1_state == VP1_RUNNING;

	for (u32 i = n; i; i--) {
		u32 hits = ipi_hits[1], passes = vp1_passes;
		u64 t0 = rdtsc();
		failures += hvcall(control, in, out) != 0;
		if (timed_call_is_ipi)
			wait_change(&ipi_hits[1], hits);
		ticks += rdtsc() - t0;
		if (wakes_vp1 && vp1_state == VP1_HALTED) {
			/* Woken, it goes round once more (maybe already has) and halts. */
			wait_change(&vp1_passes, passes);
			spin_ticks(HALT_SETTLE_TICKS);
		} else if (wakes_vp1) {
			/* A pass that starts now runs in guest mode, after the operation. */
			wait_change(&vp1_passes, vp1_passes);
		}
		spin_ticks(phase_spread_ticks());
	}
	timed_call_failures += failures;
	return ticks;
}

static void measure_vp1(const char *name, u64 control, u64 in, u64 out)
{
	u32 hits = ipi_hits[1];
	timed_call.control = control;
	timed_call.in = in;
	timed_call.out = out;
	timed_call_is_ipi = (control & HVCALL_CODE_MASK) == HV_CALL_SEND_IPI;
	timed_call_failures = 0;
	vp1_waits_timed_out = 0;
	measure(name, loop_vp1);
	u32 want_hits = timed_call_is_ipi ? WARMUP + ITERATIONS : 0;
	test_result(name,
		    !timed_call_failures && !vp1_waits_timed_out && ipi_hits[1] - hits == want_hits,
		    "%u calls failed, %u waits for VP 1 timed out, its handler ran %u times (want %u)",
		    timed_call_failures, vp1_waits_timed_out, ipi_hits[1] - hits, want_hits);
}

/* Moves VP 1 into `state`: stops its loop (a PV IPI wakes it from HLT), then starts
 * the other through the lib's mailbox. */
static bool vp1_enter(enum vp1_state state)
{
	if (vp1_in_loop) {
		vp1_stop = true;
		hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, VEC_BENCH_IPI, VP_OTHER_MASK);
		u64 deadline = rdtsc() + vp1_wait_ticks;
		while (vp1_in_loop && rdtsc() < deadline)
			cpu_relax();
		if (vp1_in_loop)
			return false;
	}
	vp1_stop = false;
	vp1_state = state;
	u32 passes = vp1_passes;
	/* Timeout 0: returns at once, VP 1 stays in the loop. */
	smp_call(1, state == VP1_HALTED ? vp1_halt_loop : vp1_spin_loop, NULL, 0);
	if (!wait_change(&vp1_passes, passes))
		return false;
	if (state == VP1_HALTED)
		spin_ticks(HALT_SETTLE_TICKS);
	return true;
}

/* The Hv#1 rows of one VP: the null calls, the MSR reads, the local flush and the IPI
 * to itself. */
static void measure_hv_one_vp(void)
{
	measure_call("hc_fast_null", HV_CALL_NOTIFY_LONG_SPIN_WAIT | HVCALL_FAST, SPIN_COUNT, 0);
	measure_call("hc_slow_null", HV_CALL_NOTIFY_LONG_SPIN_WAIT, (u32)hc_in.spin_wait, 0);
	u64 vp_index = rdmsr(HV_MSR_VP_INDEX);
	measure_rdmsr("msr_vp_index", HV_MSR_VP_INDEX);
	test_result("msr_vp_index", vp_index == 0, "VP_INDEX reads %llu on VP 0", vp_index);
	u64 ref_before = rdmsr(HV_MSR_TIME_REF_COUNT);
	measure_rdmsr("msr_time_ref", HV_MSR_TIME_REF_COUNT);
	u64 ref_after = rdmsr(HV_MSR_TIME_REF_COUNT);
	test_result("msr_time_ref", ref_after > ref_before,
		    "TIME_REF_COUNT did not advance over the loop: %llu, then %llu", ref_before,
		    ref_after);
	measure_call("flush_self", HV_CALL_FLUSH_SPACE, (u32)hc_in.flush_self, 0);

	u32 before = ipi_hits[0];
	irq_enable();
	measure_call("ipi_self", HV_CALL_SEND_IPI | HVCALL_FAST, VEC_BENCH_IPI, VP_SELF_MASK);
	irq_disable();
	test_result("ipi_self_handled", ipi_hits[0] - before == WARMUP + ITERATIONS,
		    "the handler ran %u times for %u IPIs", ipi_hits[0] - before,
		    WARMUP + ITERATIONS);
}

static void measure_hv(void)
{
	u32 a, b, c, d;

	cpuid(HV_CPUID_INTERFACE, 0, &a, &b, &c, &d);
	if (!test_result("hv1-interface", a == HV_CPUID_INTERFACE_HV1, "CPUID 0x40000001 EAX %08x",
			 a))
		return;
	cpuid(HV_CPUID_FEATURES, 0, &a, &b, &c, &d);
	eoi_by_msr = a & HV_PRIV_INTR_CTRL;
	printf("BENCH eoi=%s\n", eoi_by_msr ? "msr" : "xapic");

	hvcall_enable();
	if (!test_result("hypercall-page-enabled", rdmsr(HV_MSR_HYPERCALL) & HV_HYPERCALL_ENABLE,
			 "HYPERCALL MSR reads %llx", rdmsr(HV_MSR_HYPERCALL)))
		return;
	hc_in.spin_wait[0] = SPIN_COUNT;
	flush_input(hc_in.flush_self, 0, VP_SELF_MASK);
	flush_input(hc_in.flush_all, HV_FLUSH_ALL_PROCESSORS, 0);
	flush_input(hc_in.flush_other, 0, VP_OTHER_MASK);

	irq_init();
	irq_set_handler(VEC_BENCH_IPI, bench_ipi_handler);
	/* The firmware's 8259s stay masked: only the APIC's interrupts arrive. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_enter_xapic();
	smp_discover();
	if (smp_cpu_count < 2) {
		measure_hv_one_vp();
		measure_call("flush_all", HV_CALL_FLUSH_SPACE, (u32)hc_in.flush_all, 0);
		return;
	}

	if (!test_result("two-vps-up", smp_start_aps() >= 1, "VP 1 did not start"))
		return;
	vp1_wait_ticks = udivmod64((u64)VP1_WAIT_US * tsc_per_ms, 1000, NULL);
	/* VP 1 halted: the one-VP rows have the emulator to themselves. */
	if (!test_result("vp1-halted", vp1_enter(VP1_HALTED), "VP 1 did not start its HLT loop"))
		return;
	measure_hv_one_vp();
	measure_vp1("flush_other_halted", HV_CALL_FLUSH_SPACE, (u32)hc_in.flush_other, 0);
	measure_vp1("ipi_other_halted", HV_CALL_SEND_IPI | HVCALL_FAST, VEC_BENCH_IPI,
		    VP_OTHER_MASK);
	if (!test_result("vp1-running", vp1_enter(VP1_RUNNING), "VP 1 did not start spinning"))
		return;
	measure_vp1("flush_other_running", HV_CALL_FLUSH_SPACE, (u32)hc_in.flush_other, 0);
	measure_vp1("flush_all", HV_CALL_FLUSH_SPACE, (u32)hc_in.flush_all, 0);
	measure_vp1("ipi_other_running", HV_CALL_SEND_IPI | HVCALL_FAST, VEC_BENCH_IPI,
		    VP_OTHER_MASK);
}

void guest_main(void)
{
	bool hv = cmdline_has("hv");

	npf_addr = cmdline_u32("probe", 0);
	if (!npf_addr)
		npf_addr = find_reserved_above_ram();
	printf("BENCH npf_addr=0x%x\n", npf_addr);
	if (!npf_addr)
		guest_abort("no probe= and no reserved region right above usable RAM");
	if (hv) {
		u32 v = mmio_read32(npf_addr);
		test_result("npf-target-unbacked", v == 0xffffffffu,
			    "%08x reads %08x, not all ones: not hypervisor memory", npf_addr, v);
	}

	/* The hypercall instruction that exits on this vendor. It must raise #UD at the
	 * instruction before the handler below may skip it. */
	bool intel = vendor_intel();
	const char *hc = intel ? "vmcall" : "vmmcall";
	struct trap t;
	int vec = trap_run(intel ? site_vmcall : site_vmmcall, NULL, &t);
	test_result(intel ? "vmcall-ud" : "vmmcall-ud", vec == VEC_UD, "%s gave %s",
		    intel ? "VMCALL" : "VMMCALL",
		    vec < 0 ? "no exception" : vector_name((u32)vec));

	measure("empty", loop_empty);
	measure("cpuid", loop_cpuid);
	measure("io", loop_io);
	measure("npf", loop_npf);
	if (vec == VEC_UD) {
		struct idt_gate *ud = &idt_base()[VEC_UD];
		struct idt_gate saved = *ud;
		u32 h = (u32)bench_ud_handler;
		*ud = (struct idt_gate){ (u16)h, SEL_CODE32, 0, 0x8e, (u16)(h >> 16) };
		measure(hc, intel ? loop_vmcall : loop_vmmcall);
		*ud = saved;
	}
	/* Last: with the hypercall page enabled VMCALL/VMMCALL no longer raise #UD. */
	if (hv)
		measure_hv();
}
