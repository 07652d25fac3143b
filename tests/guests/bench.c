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
 *           VMX or SVM respectively. #UD both bare and under the hypervisor (no
 *           hypercall interface yet): exit + #UD injection + the guest's own minimal
 *           #UD handler. The other vendor's instruction would measure no exit: it is
 *           a plain #UD, which the hypervisor does not intercept.
 *
 * Each loop runs WARMUP times, then ITERATIONS times between two RDTSC, and prints
 *     BENCH <op> iterations=<n> ticks=<total> ticks_per_op=<total/n, one decimal>
 * Under QEMU `-icount shift=0,sleep=off`, and on Bochs with one CPU (`clock: sync=none`,
 * fixed `ips`), the TSC advances one tick per executed instruction, so these are
 * deterministic instruction counts, not time.
 *
 * The npf address: `probe=<addr>` if given; otherwise the first reserved region of the
 * memory map that continues usable RAM upwards (under the hypervisor its pool lies
 * there; see isolation.c). It is printed as `BENCH npf_addr=0x...` so that bench.py
 * can hand the same address to the bare run. With `hv` the address must read all ones.
 */
#include "guest.h"

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
}
