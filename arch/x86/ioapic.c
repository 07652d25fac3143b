/* Physical IOAPIC access.  IOREGSEL and IOWIN are a pair, so every access
 * holds one lock (all IOAPICs share it: they are rarely touched). */
#include "arch/x86/ioapic.h"
#include "arch/x86/cpu.h"
#include "kernel/spinlock.h"

#define IOREGSEL 0x00
#define IOWIN 0x10

static struct spinlock ioapic_lock = SPINLOCK_INIT;

static u32 read_locked(u64 base, u32 reg)
{
	*(volatile u32 *)(base + IOREGSEL) = reg;
	return *(volatile u32 *)(base + IOWIN);
}

static void write_locked(u64 base, u32 reg, u32 value)
{
	*(volatile u32 *)(base + IOREGSEL) = reg;
	*(volatile u32 *)(base + IOWIN) = value;
}

u32 ioapic_read(u64 base, u32 reg)
{
	u64 flags = irq_save();
	spin_lock(&ioapic_lock);
	u32 v = read_locked(base, reg);
	spin_unlock(&ioapic_lock);
	irq_restore(flags);
	return v;
}

void ioapic_write(u64 base, u32 reg, u32 value)
{
	u64 flags = irq_save();
	spin_lock(&ioapic_lock);
	write_locked(base, reg, value);
	spin_unlock(&ioapic_lock);
	irq_restore(flags);
}

u64 ioapic_read_rte(u64 base, u32 pin)
{
	u64 flags = irq_save();
	spin_lock(&ioapic_lock);
	u64 lo = read_locked(base, IOAPIC_REG_RTE(pin));
	u64 hi = read_locked(base, IOAPIC_REG_RTE(pin) + 1);
	spin_unlock(&ioapic_lock);
	irq_restore(flags);
	return lo | (hi << 32);
}

void ioapic_write_rte(u64 base, u32 pin, u64 rte)
{
	u64 flags = irq_save();
	spin_lock(&ioapic_lock);
	/* Mask while the halves disagree. */
	write_locked(base, IOAPIC_REG_RTE(pin), (u32)IOAPIC_RTE_MASKED);
	write_locked(base, IOAPIC_REG_RTE(pin) + 1, (u32)(rte >> 32));
	write_locked(base, IOAPIC_REG_RTE(pin), (u32)rte);
	spin_unlock(&ioapic_lock);
	irq_restore(flags);
}

void ioapic_set_masked(u64 base, u32 pin, bool masked)
{
	u64 flags = irq_save();
	spin_lock(&ioapic_lock);
	u32 lo = read_locked(base, IOAPIC_REG_RTE(pin));
	lo = masked ? lo | (u32)IOAPIC_RTE_MASKED : lo & ~(u32)IOAPIC_RTE_MASKED;
	write_locked(base, IOAPIC_REG_RTE(pin), lo);
	spin_unlock(&ioapic_lock);
	irq_restore(flags);
}

u32 ioapic_pin_count(u64 base)
{
	return ((ioapic_read(base, IOAPIC_REG_VERSION) >> 16) & 0xFF) + 1;
}
