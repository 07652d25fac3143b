/* Interrupt Command Register decoding and IPI destination matching for the
 * virtual local APIC (Intel SDM Vol. 3A 11.6.1, 11.6.2, 11.12.9, 11.12.10).
 *
 * Pure logic: an ICR value in, a decoded message out; a decoded message and
 * the addressing registers of one APIC in, "does this APIC accept it" out.
 * The same matching serves IPIs and, with shorthand NONE, any other message
 * that carries an APIC destination (an IOAPIC redirection entry or an MSI). */
#ifndef HV_KERNEL_VM_VLAPIC_ICR_H
#define HV_KERNEL_VM_VLAPIC_ICR_H

#include "kernel/types.h"

/* ICR fields (SDM Figure 11-12; Figure 11-28 for x2APIC).  In xAPIC mode the
 * high half sits at MMIO 0x310 and carries the destination in bits 63:56; in
 * x2APIC mode the ICR is one 64-bit MSR with a 32-bit destination in 63:32. */
#define VLAPIC_ICR_VECTOR 0xFFu
#define VLAPIC_ICR_DM_SHIFT 8
#define VLAPIC_ICR_DM (7u << 8)
#define VLAPIC_ICR_LOGICAL (1u << 11)
#define VLAPIC_ICR_BUSY (1u << 12) /* delivery status, read-only */
#define VLAPIC_ICR_ASSERT (1u << 14) /* "level": 0 only for INIT de-assert */
#define VLAPIC_ICR_TRIGGER_LEVEL (1u << 15)
#define VLAPIC_ICR_SH_SHIFT 18
#define VLAPIC_ICR_SH (3u << 18)
#define VLAPIC_ICR_XAPIC_DEST_SHIFT 56

/* Delivery modes, as encoded in the ICR, the LVT and interrupt messages. */
enum vlapic_delivery {
	VLAPIC_DM_FIXED = 0,
	VLAPIC_DM_LOWEST = 1,
	VLAPIC_DM_SMI = 2,
	VLAPIC_DM_RESERVED3 = 3, /* "remote read" on the P6; reserved since */
	VLAPIC_DM_NMI = 4,
	VLAPIC_DM_INIT = 5,
	VLAPIC_DM_STARTUP = 6,
	VLAPIC_DM_EXTINT = 7,
};

enum vlapic_shorthand {
	VLAPIC_SH_NONE = 0,
	VLAPIC_SH_SELF = 1,
	VLAPIC_SH_ALL_INCL = 2, /* all including self */
	VLAPIC_SH_ALL_EXCL = 3, /* all excluding self */
};

/* Destinations that address every APIC (SDM 11.6.2.1, 11.12.9). */
#define VLAPIC_XAPIC_BROADCAST 0xFFu
#define VLAPIC_X2APIC_BROADCAST 0xFFFFFFFFu

/* One decoded interrupt message. */
struct vlapic_ipi {
	u8 vector;       /* for STARTUP: the start page number */
	u8 delivery;     /* enum vlapic_delivery */
	u8 shorthand;    /* enum vlapic_shorthand */
	bool logical;    /* destination mode: logical (true) or physical */
	bool assert;     /* ICR bit 14, as written */
	bool level;      /* trigger mode bit 15, as written (see below) */
	bool x2apic;     /* dest is a 32-bit x2APIC destination, else 8-bit */
	u32 dest;        /* meaningful only with shorthand NONE */
};

/* Decodes an ICR value.  x2apic selects where the destination is: bits 63:32
 * (x2APIC) or 63:56 (xAPIC).  Nothing is validated here; the vector and the
 * trigger mode are reported as written. */
void vlapic_icr_decode(u64 icr, bool x2apic, struct vlapic_ipi *ipi);

/* The inverse, for tests and for the integrator's own messages. */
u64 vlapic_icr_encode(const struct vlapic_ipi *ipi);

/* INIT with the level bit clear and the trigger mode level: the "INIT level
 * de-assert" synchronisation message.  Pentium 4 and later processors do not
 * support it (SDM 11.6.1, delivery mode 101), so the virtual APIC never sends
 * it; Linux still writes it between INIT and SIPI. */
bool vlapic_ipi_is_init_deassert(const struct vlapic_ipi *ipi);

/* The registers of one APIC that destination matching reads. */
struct vlapic_dest_regs {
	bool x2apic;  /* the APIC is in x2APIC mode */
	u32 id;       /* physical ID: 8-bit xAPIC ID or 32-bit x2APIC ID */
	u32 ldr;      /* xAPIC: logical ID in bits 31:24; x2APIC: the LDR */
	u32 dfr;      /* xAPIC only: model in bits 31:28 (1111b flat, 0 cluster) */
};

/* Does the APIC described by t accept the message?  is_sender says whether t
 * is the APIC that sent it (for the shorthands).  A message with shorthand
 * NONE can address the sender too, as on hardware.
 *
 * Mixed xAPIC/x2APIC systems are not defined by the SDM; here the broadcast
 * value follows the message's width and everything else the target's mode. */
bool vlapic_dest_match(const struct vlapic_dest_regs *t, const struct vlapic_ipi *ipi,
		       bool is_sender);

/* The logical x2APIC ID hardware derives from the x2APIC ID (SDM 11.12.10.2):
 * cluster = ID[19:4] in bits 31:16, and bit ID[3:0] set in bits 15:0. */
u32 vlapic_x2apic_ldr(u32 x2apic_id);

/* "fixed", "lowest", "smi", "nmi", "init", "startup", "extint", "reserved". */
const char *vlapic_delivery_name(u8 delivery);

#endif
