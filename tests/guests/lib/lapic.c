/*
 * Local APIC access (lapic.h). Paging is off in the test guests, so the xAPIC page is
 * reached at its physical address, which must lie below 4 GiB.
 */
#include "lapic.h"
#include "smp.h"

#define ICR_BUSY_SPINS 1000000u

static bool cpu_x2apic[SMP_MAX_CPUS];
static u32 xapic_base = 0xfee00000u;

bool lapic_present(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return d & CPUID1_EDX_APIC;
}

bool lapic_x2apic_offered(void)
{
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return c & CPUID1_ECX_X2APIC;
}

bool lapic_in_x2apic(void)
{
	return cpu_x2apic[smp_this_cpu()];
}

u32 lapic_mmio_base(void)
{
	return xapic_base;
}

void lapic_enter_xapic(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);
	if (base & APIC_BASE_EXTD) {
		/* x2APIC -> xAPIC directly is an invalid transition (#GP); go through
		 * disabled, which also resets the APIC state (SDM 11.12.5). */
		base &= ~(u64)(APIC_BASE_EXTD | APIC_BASE_EN);
		wrmsr(MSR_APIC_BASE, base);
	}
	base |= APIC_BASE_EN;
	wrmsr(MSR_APIC_BASE, base);
	xapic_base = (u32)base & APIC_BASE_ADDR_MASK;
	cpu_x2apic[smp_this_cpu()] = false;
	lapic_write(LAPIC_SVR, SVR_APIC_ENABLED | 0xff);
	lapic_write(LAPIC_TPR, 0);
}

void lapic_enter_x2apic(void)
{
	u64 base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_EN)) {
		base |= APIC_BASE_EN;
		wrmsr(MSR_APIC_BASE, base);
	}
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	cpu_x2apic[smp_this_cpu()] = true;
}

u32 lapic_read(enum lapic_reg reg)
{
	if (lapic_in_x2apic())
		return (u32)rdmsr(MSR_X2APIC_FIRST + ((u32)reg >> 4));
	return mmio_read32(xapic_base + reg);
}

void lapic_write(enum lapic_reg reg, u32 value)
{
	if (lapic_in_x2apic())
		wrmsr(MSR_X2APIC_FIRST + ((u32)reg >> 4), value);
	else
		mmio_write32(xapic_base + reg, value);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(LAPIC_ID);
	return lapic_in_x2apic() ? id : id >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

bool lapic_send_ipi(u32 dest, u32 icr_low)
{
	if (lapic_in_x2apic()) {
		/* One 64-bit write; no delivery status in x2APIC mode (SDM 11.12.9). */
		wrmsr(MSR_X2APIC_ICR, ((u64)dest << 32) | icr_low);
		return true;
	}
	/* The write to the low half sends (SDM 11.6.1), so the destination goes first. */
	mmio_write32(xapic_base + LAPIC_ICR_HIGH, dest << 24);
	mmio_write32(xapic_base + LAPIC_ICR_LOW, icr_low);
	for (u32 spin = 0; spin < ICR_BUSY_SPINS; spin++)
		if (!(mmio_read32(xapic_base + LAPIC_ICR_LOW) & ICR_BUSY))
			return true;
	return false;
}

bool lapic_vector_bit(enum lapic_reg base, u32 vector)
{
	u32 word = lapic_read((enum lapic_reg)(base + (vector / 32) * 0x10));
	return word & (1u << (vector % 32));
}
