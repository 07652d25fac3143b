/* The machine's IOAPICs, programmed by the hypervisor on the guest's behalf
 * (kernel/vm/vioapic_host.c).  Register interface: 82093AA datasheet 3.0. */
#ifndef HV_ARCH_X86_IOAPIC_H
#define HV_ARCH_X86_IOAPIC_H

#include "kernel/types.h"

#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_RTE(pin) (0x10 + 2 * (pin))

/* Redirection entry bits (datasheet 3.2.4). */
#define IOAPIC_RTE_VECTOR 0xFFULL
#define IOAPIC_RTE_POLARITY_LOW (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ULL << 14)
#define IOAPIC_RTE_LEVEL (1ULL << 15)
#define IOAPIC_RTE_MASKED (1ULL << 16)
#define IOAPIC_RTE_DEST_SHIFT 56

u32 ioapic_read(u64 base, u32 reg);
void ioapic_write(u64 base, u32 reg, u32 value);
u64 ioapic_read_rte(u64 base, u32 pin);
/* Writes the high half first so that an unmasked entry never points at a
 * stale destination. */
void ioapic_write_rte(u64 base, u32 pin, u64 rte);
void ioapic_set_masked(u64 base, u32 pin, bool masked);
/* Redirection entries the IOAPIC has (max redirection entry + 1). */
u32 ioapic_pin_count(u64 base);

#endif
