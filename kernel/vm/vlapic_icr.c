/* ICR decoding and destination matching; see vlapic_icr.h. */
#include "kernel/vm/vlapic_icr.h"

void vlapic_icr_decode(u64 icr, bool x2apic, struct vlapic_ipi *ipi)
{
	u32 lo = (u32)icr;

	ipi->vector = (u8)(lo & VLAPIC_ICR_VECTOR);
	ipi->delivery = (u8)((lo & VLAPIC_ICR_DM) >> VLAPIC_ICR_DM_SHIFT);
	ipi->shorthand = (u8)((lo & VLAPIC_ICR_SH) >> VLAPIC_ICR_SH_SHIFT);
	ipi->logical = (lo & VLAPIC_ICR_LOGICAL) != 0;
	ipi->assert = (lo & VLAPIC_ICR_ASSERT) != 0;
	ipi->level = (lo & VLAPIC_ICR_TRIGGER_LEVEL) != 0;
	ipi->x2apic = x2apic;
	/* SDM 11.6.1: xAPIC destination in bits 63:56; 11.12.9: the x2APIC
	 * ICR widens it to bits 63:32. */
	ipi->dest = x2apic ? (u32)(icr >> 32) : (u32)(icr >> VLAPIC_ICR_XAPIC_DEST_SHIFT);
}

u64 vlapic_icr_encode(const struct vlapic_ipi *ipi)
{
	u64 lo = (u64)ipi->vector | ((u64)(ipi->delivery & 7u) << VLAPIC_ICR_DM_SHIFT) |
		 ((u64)(ipi->shorthand & 3u) << VLAPIC_ICR_SH_SHIFT) |
		 (ipi->logical ? VLAPIC_ICR_LOGICAL : 0) | (ipi->assert ? VLAPIC_ICR_ASSERT : 0) |
		 (ipi->level ? VLAPIC_ICR_TRIGGER_LEVEL : 0);
	u64 hi = ipi->x2apic ? (u64)ipi->dest << 32
			     : (u64)(ipi->dest & 0xFFu) << VLAPIC_ICR_XAPIC_DEST_SHIFT;
	return lo | hi;
}

bool vlapic_ipi_is_init_deassert(const struct vlapic_ipi *ipi)
{
	return ipi->delivery == VLAPIC_DM_INIT && !ipi->assert && ipi->level;
}

u32 vlapic_x2apic_ldr(u32 x2apic_id)
{
	return ((x2apic_id >> 4) << 16) | (1u << (x2apic_id & 0xFu));
}

/* Logical destination, xAPIC (SDM 11.6.2.2).  The 8-bit message destination
 * address (MDA) is compared with LDR[31:24] under the DFR's model:
 *  - flat (DFR[31:28] = 1111b): accept when MDA AND logical ID is non-zero,
 *    so MDA 0xFF reaches every APIC that has a logical ID;
 *  - cluster (0000b): MDA[7:4] selects the cluster, MDA[3:0] the members;
 *    an all-ones MDA "guarantees a match on all clusters", so cluster 15
 *    matches any cluster.
 * Other models are undefined and match nothing. */
static bool xapic_logical_match(const struct vlapic_dest_regs *t, u8 mda)
{
	u8 logical_id = (u8)(t->ldr >> 24);

	switch (t->dfr >> 28) {
	case 0xF:
		return (mda & logical_id) != 0;
	case 0x0: {
		u8 cluster = mda >> 4;
		if (cluster != 0xF && cluster != (logical_id >> 4))
			return false;
		return (mda & logical_id & 0x0F) != 0;
	}
	default:
		return false;
	}
}

/* Logical destination, x2APIC (SDM 11.12.10.1): only the cluster model
 * exists.  Destination[31:16] must equal the cluster ID in LDR[31:16] and
 * destination[15:0] must share a bit with LDR[15:0]. */
static bool x2apic_logical_match(const struct vlapic_dest_regs *t, u32 dest)
{
	return (dest >> 16) == (t->ldr >> 16) && (dest & t->ldr & 0xFFFFu) != 0;
}

bool vlapic_dest_match(const struct vlapic_dest_regs *t, const struct vlapic_ipi *ipi,
		       bool is_sender)
{
	/* Shorthands replace the destination field altogether (11.6.1). */
	switch (ipi->shorthand) {
	case VLAPIC_SH_SELF:
		return is_sender;
	case VLAPIC_SH_ALL_INCL:
		return true;
	case VLAPIC_SH_ALL_EXCL:
		return !is_sender;
	default:
		break;
	}

	/* All-ones is a broadcast: FFFF_FFFFH in both x2APIC destination modes
	 * (11.12.9), 0xFF in xAPIC physical mode (11.6.2.1).  An xAPIC logical
	 * 0xFF is left to the model's own rule below (11.6.2.2), which is how
	 * the SDM describes the broadcast there. */
	if (ipi->x2apic && ipi->dest == VLAPIC_X2APIC_BROADCAST)
		return true;
	if (!ipi->x2apic && (ipi->dest & 0xFFu) == VLAPIC_XAPIC_BROADCAST &&
	    (!ipi->logical || t->x2apic))
		return true;

	if (t->x2apic) {
		if (!ipi->logical)
			return ipi->dest == t->id;
		return x2apic_logical_match(t, ipi->dest);
	}
	/* An xAPIC target only has 8 destination bits to compare. */
	if (ipi->x2apic && ipi->dest > 0xFFu)
		return false;
	if (!ipi->logical)
		return (ipi->dest & 0xFFu) == (t->id & 0xFFu);
	return xapic_logical_match(t, (u8)ipi->dest);
}

const char *vlapic_delivery_name(u8 delivery)
{
	static const char *const names[8] = {
		[VLAPIC_DM_FIXED] = "fixed",     [VLAPIC_DM_LOWEST] = "lowest",
		[VLAPIC_DM_SMI] = "smi",         [VLAPIC_DM_RESERVED3] = "reserved",
		[VLAPIC_DM_NMI] = "nmi",         [VLAPIC_DM_INIT] = "init",
		[VLAPIC_DM_STARTUP] = "startup", [VLAPIC_DM_EXTINT] = "extint",
	};
	return delivery < 8 ? names[delivery] : "reserved";
}
