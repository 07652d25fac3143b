/* Local APIC register access (SDM Vol. 3A, chapter 11). */
#include "arch/x86/lapic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "kernel/options.h"
#include "kernel/printk.h"

#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_EN (1ULL << 11)
#define APIC_BASE_ADDR_MASK 0x000FFFFFFFFFF000ULL

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + (offset >> 4). */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3E0
#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_ICR 0x830

#define SVR_APIC_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define TIMER_DIVIDE_BY_16 0x3
#define TIMER_CALIBRATE_US 100

#define ICR_DELIVERY_FIXED (0u << 8)
#define ICR_DELIVERY_NMI (4u << 8)
#define ICR_DELIVERY_INIT (5u << 8)
#define ICR_DELIVERY_STARTUP (6u << 8)
#define ICR_DELIVERY_PENDING (1u << 12) /* xAPIC only */
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_DEST_ALL_BUT_SELF (3u << 18)

/* Bounded: a wedged ICR must not hang the panic path. */
#define ICR_SPIN_LIMIT 10000000

static bool use_x2apic;
static u64 mmio_base;

static u32 lapic_read(u32 reg)
{
	if (use_x2apic)
		return (u32)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return *(volatile u32 *)(mmio_base + reg);
}

static void lapic_write(u32 reg, u32 value)
{
	if (use_x2apic)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), value);
	else
		*(volatile u32 *)(mmio_base + reg) = value;
}

bool lapic_is_x2apic(void)
{
	return use_x2apic;
}

u64 lapic_mmio_base(void)
{
	return mmio_base;
}

void lapic_init_bsp(int option)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	mmio_base = base & APIC_BASE_ADDR_MASK;
	use_x2apic = cpu_features.x2apic && option != X2APIC_OFF;
	if (option == X2APIC_ON && !cpu_features.x2apic)
		printk(LOG_WARN, "lapic: x2apic=on but this CPU has no x2APIC; using xAPIC\n");
	/* Firmware may already have switched to x2APIC; leaving it is only legal via
	 * a full disable (SDM 11.12.5), which we do not do. */
	if (base & APIC_BASE_EXTD)
		use_x2apic = true;
	lapic_init_cpu();
	printk(LOG_INFO, "lapic: %s mode, base %llx, version %x, boot cpu apic id %u\n",
	       use_x2apic ? "x2APIC" : "xAPIC", (unsigned long long)mmio_base,
	       lapic_read(LAPIC_VERSION), lapic_id());
}

void lapic_init_cpu(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);

	base |= APIC_BASE_EN;
	if (use_x2apic)
		base |= APIC_BASE_EXTD;
	wrmsr(MSR_APIC_BASE, base);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLE | VEC_SPURIOUS);
	/* Clear stale errors: the ESR is cleared by a write before a read. */
	lapic_write(LAPIC_ESR, 0);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(LAPIC_ID);
	return use_x2apic ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static void lapic_send_icr(u32 dest, u32 low)
{
	if (use_x2apic) {
		wrmsr(X2APIC_MSR_ICR, ((u64)dest << 32) | low);
		return;
	}
	lapic_write(LAPIC_ICR_HIGH, dest << 24);
	lapic_write(LAPIC_ICR_LOW, low);
	for (u32 i = 0; i < ICR_SPIN_LIMIT; i++) {
		if (!(lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING))
			return;
		cpu_relax();
	}
	printk(LOG_WARN, "lapic: IPI to apic %u (icr %x) still pending\n", dest, low);
}

void lapic_send_fixed(u32 apic_id, u8 vector)
{
	lapic_send_icr(apic_id, ICR_DELIVERY_FIXED | ICR_LEVEL_ASSERT | vector);
}

void lapic_send_init(u32 apic_id)
{
	lapic_send_icr(apic_id, ICR_DELIVERY_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
	/* The de-assert only matters to pre-Pentium 4 APICs, but is harmless; x2APIC
	 * has no such message. */
	if (!use_x2apic)
		lapic_send_icr(apic_id, ICR_DELIVERY_INIT | ICR_TRIGGER_LEVEL);
}

void lapic_send_startup(u32 apic_id, u8 page_vector)
{
	lapic_send_icr(apic_id, ICR_DELIVERY_STARTUP | ICR_LEVEL_ASSERT | page_vector);
}

void lapic_send_nmi_all_but_self(void)
{
	lapic_send_icr(0, ICR_DELIVERY_NMI | ICR_LEVEL_ASSERT | ICR_DEST_ALL_BUT_SELF);
}

/* Timer ticks per millisecond at divide-by-16; the same on every CPU (the
 * timer runs from the bus or core crystal clock, SDM 11.5.4). */
static u32 timer_ticks_per_ms;

static bool timer_calibrate(u8 vector)
{
	if (timer_ticks_per_ms)
		return true;
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | vector);
	lapic_write(LAPIC_TIMER_INITIAL, 0xFFFFFFFFu);
	udelay(TIMER_CALIBRATE_US);
	u32 elapsed = 0xFFFFFFFFu - lapic_read(LAPIC_TIMER_CURRENT);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	timer_ticks_per_ms = (u32)((u64)elapsed * 1000 / TIMER_CALIBRATE_US);
	return timer_ticks_per_ms != 0;
}

bool lapic_timer_oneshot_init(u8 vector)
{
	if (!timer_calibrate(vector))
		return false;
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
	lapic_write(LAPIC_LVT_TIMER, vector);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	return true;
}

void lapic_timer_oneshot(u64 tsc_delta)
{
	/* tsc_delta * ticks_per_ms / tsc_per_ms, without overflowing for the
	 * deltas that matter (up to minutes at GHz rates). */
	u64 tsc_per_ms = tsc_hz / 1000 ? tsc_hz / 1000 : 1;
	u64 count;
	if (tsc_delta > (~0ULL >> 1) / (timer_ticks_per_ms + 1))
		count = 0xFFFFFFFFu;
	else
		count = tsc_delta * timer_ticks_per_ms / tsc_per_ms;
	if (count == 0)
		count = 1;
	if (count > 0xFFFFFFFFu)
		count = 0xFFFFFFFFu;
	lapic_write(LAPIC_TIMER_INITIAL, (u32)count);
}

void lapic_timer_stop(void)
{
	lapic_write(LAPIC_TIMER_INITIAL, 0);
}

u32 lapic_timer_ticks_per_ms(void)
{
	return timer_ticks_per_ms;
}
