/* TSC frequency: CPUID leaf 0x15 (crystal ratio) or 0x16 (base MHz) when the CPU
 * gives them, checked against a measurement (PIT channel 2, else the ACPI PM
 * timer), which is used when CPUID gives nothing or disagrees. */
#include "arch/x86/tsc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "kernel/printk.h"

#define PIT_HZ 1193182ULL
#define PIT_CH2_DATA 0x42
#define PIT_MODE 0x43
#define PIT_CH2_GATE_PORT 0x61
#define PIT_CH2_GATE (1u << 0)
#define PIT_SPEAKER (1u << 1)
#define PIT_CH2_OUT (1u << 5)
#define PIT_MODE_CH2_LOHI_ONESHOT 0xB0
#define CALIBRATE_MS 10
#define PM_TIMER_HZ 3579545ULL

/* Polling loops give up after this many reads: a missing timer reads constant. */
#define CALIBRATE_SPIN_LIMIT 50000000ULL

u64 tsc_hz;
u64 tsc_at_entry;

static u64 tsc_from_cpuid(const char **source)
{
	if (cpu_features.max_leaf >= 0x15) {
		struct cpuid_regs r = cpuid(0x15);
		u64 crystal = r.ecx;
		if (crystal == 0 && cpu_features.max_leaf >= 0x16 && r.eax)
			crystal = (u64)(cpuid(0x16).eax & 0xFFFF) * 1000000ULL * r.eax / r.ebx;
		if (r.eax && r.ebx && crystal) {
			*source = "cpuid 0x15";
			return crystal * r.ebx / r.eax;
		}
	}
	if (cpu_features.max_leaf >= 0x16) {
		u64 mhz = cpuid(0x16).eax & 0xFFFF;
		if (mhz) {
			*source = "cpuid 0x16";
			return mhz * 1000000ULL;
		}
	}
	return 0;
}

static u64 tsc_measure_pit(void)
{
	u64 count = PIT_HZ * CALIBRATE_MS / 1000;
	u8 gate = inb(PIT_CH2_GATE_PORT);

	outb(PIT_CH2_GATE_PORT, (gate & ~PIT_SPEAKER) & ~PIT_CH2_GATE);
	outb(PIT_MODE, PIT_MODE_CH2_LOHI_ONESHOT);
	outb(PIT_CH2_DATA, count & 0xFF);
	outb(PIT_CH2_DATA, (count >> 8) & 0xFF);
	/* Raising the gate starts the count; OUT goes high when it reaches zero. */
	outb(PIT_CH2_GATE_PORT, ((gate & ~PIT_SPEAKER) | PIT_CH2_GATE));
	u64 start = rdtsc();
	u64 spins = 0;
	while (!(inb(PIT_CH2_GATE_PORT) & PIT_CH2_OUT)) {
		if (++spins > CALIBRATE_SPIN_LIMIT)
			return 0;
	}
	u64 end = rdtsc();
	outb(PIT_CH2_GATE_PORT, gate);
	return (end - start) * 1000 / CALIBRATE_MS;
}

static u64 tsc_measure_pm_timer(u16 port, bool is_32bit)
{
	u32 mask = is_32bit ? 0xFFFFFFFFu : 0xFFFFFFu;
	u64 want = PM_TIMER_HZ * CALIBRATE_MS / 1000;
	u32 first = inl(port) & mask;
	u64 start = rdtsc();
	u64 spins = 0;
	u32 now;

	do {
		now = inl(port) & mask;
		if (++spins > CALIBRATE_SPIN_LIMIT)
			return 0;
	} while (((now - first) & mask) < want);
	u64 end = rdtsc();
	u64 elapsed_ticks = (now - first) & mask;
	return (end - start) * PM_TIMER_HZ / elapsed_ticks;
}

/* Best of three: an emulator or SMI stretching one window only makes the TSC
 * look faster. */
static u64 tsc_measure(u16 pm_timer_port, bool pm_timer_32bit, const char **source)
{
	u64 hz = 0;

	for (int i = 0; i < 3; i++) {
		u64 m = tsc_measure_pit();
		if (m && (!hz || m < hz))
			hz = m;
	}
	*source = "PIT";
	if (!hz && pm_timer_port) {
		hz = tsc_measure_pm_timer(pm_timer_port, pm_timer_32bit);
		*source = "ACPI PM timer";
	}
	return hz;
}

void tsc_init(u16 pm_timer_port, bool pm_timer_32bit)
{
	const char *source = NULL, *measured_source = NULL;
	u64 hz = tsc_from_cpuid(&source);
	u64 measured = tsc_measure(pm_timer_port, pm_timer_32bit, &measured_source);

	/* CPUID's figure is exact on hardware, but emulators report a nominal
	 * frequency their TSC does not run at (Bochs ticks at its ips setting):
	 * a measurement that disagrees by more than a quarter wins. */
	if (hz && measured && (measured * 4 < hz * 3 || measured * 4 > hz * 5)) {
		printk(LOG_INFO, "tsc: %s says %llu MHz but the %s measures %llu MHz; using the measurement\n",
		       source, (unsigned long long)(hz / 1000000), measured_source,
		       (unsigned long long)(measured / 1000000));
		hz = 0;
	}
	if (!hz) {
		hz = measured;
		source = measured_source;
	}
	if (!hz) {
		hz = 1000000000ULL;
		source = "a guess (no timer answered)";
		printk(LOG_WARN, "tsc: could not measure the TSC; delays will be wrong\n");
	}
	tsc_hz = hz;
	printk(LOG_INFO, "tsc: %llu.%03llu MHz from %s%s\n", (unsigned long long)(hz / 1000000),
	       (unsigned long long)(hz / 1000 % 1000), source,
	       cpu_features.tsc_invariant ? ", invariant" : "");
}

u64 tsc_deadline_us(u64 us)
{
	return rdtsc() + us * (tsc_hz / 1000000);
}

bool tsc_passed(u64 deadline)
{
	return (s64)(rdtsc() - deadline) >= 0;
}

void udelay(u64 us)
{
	u64 deadline = tsc_deadline_us(us);
	while (!tsc_passed(deadline))
		cpu_relax();
}
