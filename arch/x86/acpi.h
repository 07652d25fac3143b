/* ACPI static-table discovery: find the RSDP, walk the RSDT/XSDT, and pull out
 * what the hypervisor needs before it has an AML interpreter (it never will):
 * CPUs and interrupt controllers from the MADT, the PM timer, reset register and
 * SCI from the FADT.
 *
 * Firmware tables are untrusted input.  Everything is read through a
 * phys_reader, every length is checked before use, and a bad table is reported
 * and skipped rather than trusted.  Only the root table (RSDT/XSDT) is fatal,
 * because without it nothing else can be found. */
#ifndef HV_ARCH_X86_ACPI_H
#define HV_ARCH_X86_ACPI_H

#include "kernel/config.h"
#include "kernel/phys_read.h"
#include "kernel/types.h"

/* ---- Layouts (ACPI 6.5) ---------------------------------------------------- */

#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_SIG_RSDT "RSDT"
#define ACPI_SIG_XSDT "XSDT"
#define ACPI_SIG_MADT "APIC"
#define ACPI_SIG_FADT "FACP"

/* The ACPI 1.0 RSDP ends at `length`; the checksum covers those 20 bytes.  The
 * extended checksum covers `length` bytes of the whole structure. */
#define ACPI_RSDP_V1_LENGTH 20
#define ACPI_RSDP_V2_LENGTH 36

struct acpi_rsdp {
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	/* Valid only when revision >= 2. */
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} __packed;
STATIC_ASSERT(sizeof(struct acpi_rsdp) == ACPI_RSDP_V2_LENGTH, "RSDP layout");
STATIC_ASSERT(offsetof(struct acpi_rsdp, length) == ACPI_RSDP_V1_LENGTH, "RSDP v1 part");

struct acpi_table_header {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_table_header) == 36, "SDT header layout");

/* Generic Address Structure. */
#define ACPI_ADR_SPACE_SYSTEM_MEMORY 0
#define ACPI_ADR_SPACE_SYSTEM_IO 1

struct acpi_generic_address {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_generic_address) == 12, "GAS layout");

/* MADT. */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

#define ACPI_MADT_TYPE_LOCAL_APIC 0
#define ACPI_MADT_TYPE_IO_APIC 1
#define ACPI_MADT_TYPE_INTERRUPT_OVERRIDE 2
#define ACPI_MADT_TYPE_NMI_SOURCE 3
#define ACPI_MADT_TYPE_LOCAL_APIC_NMI 4
#define ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE 5
#define ACPI_MADT_TYPE_LOCAL_X2APIC 9
#define ACPI_MADT_TYPE_LOCAL_X2APIC_NMI 0xA

/* Local APIC / x2APIC flags. */
#define ACPI_MADT_ENABLED (1u << 0)
#define ACPI_MADT_ONLINE_CAPABLE (1u << 1)

/* Processor UID meaning "every processor" in the NMI structures. */
#define ACPI_MADT_NMI_ALL_UID8 0xFFu
#define ACPI_MADT_NMI_ALL_UID 0xFFFFFFFFu

struct acpi_table_madt {
	struct acpi_table_header header;
	u32 local_apic_address;
	u32 flags;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_table_madt) == 44, "MADT layout");

struct acpi_madt_subtable {
	u8 type;
	u8 length;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_subtable) == 2, "MADT subtable header");

struct acpi_madt_local_apic {
	struct acpi_madt_subtable h;
	u8 processor_uid;
	u8 apic_id;
	u32 flags;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_local_apic) == 8, "MADT type 0");

struct acpi_madt_io_apic {
	struct acpi_madt_subtable h;
	u8 io_apic_id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_io_apic) == 12, "MADT type 1");

struct acpi_madt_interrupt_override {
	struct acpi_madt_subtable h;
	u8 bus;
	u8 source;
	u32 gsi;
	u16 flags;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_interrupt_override) == 10, "MADT type 2");

struct acpi_madt_local_apic_nmi {
	struct acpi_madt_subtable h;
	u8 processor_uid;
	u16 flags;
	u8 lint;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_local_apic_nmi) == 6, "MADT type 4");

struct acpi_madt_local_apic_override {
	struct acpi_madt_subtable h;
	u16 reserved;
	u64 address;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_local_apic_override) == 12, "MADT type 5");

struct acpi_madt_local_x2apic {
	struct acpi_madt_subtable h;
	u16 reserved;
	u32 x2apic_id;
	u32 flags;
	u32 processor_uid;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_local_x2apic) == 16, "MADT type 9");

struct acpi_madt_local_x2apic_nmi {
	struct acpi_madt_subtable h;
	u16 flags;
	u32 processor_uid;
	u8 lint;
	u8 reserved[3];
} __packed;
STATIC_ASSERT(sizeof(struct acpi_madt_local_x2apic_nmi) == 12, "MADT type 0xA");

/* FADT.  Firmware may give a table shorter than this (an ACPI 1.0 FADT is 116
 * bytes); only the fields its length covers are meaningful. */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED_ACPI (1u << 20)
#define ACPI_FADT_V1_LENGTH 116

struct acpi_table_fadt {
	struct acpi_table_header header;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_generic_address reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 fadt_minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_generic_address x_pm1a_evt_blk;
	struct acpi_generic_address x_pm1b_evt_blk;
	struct acpi_generic_address x_pm1a_cnt_blk;
	struct acpi_generic_address x_pm1b_cnt_blk;
	struct acpi_generic_address x_pm2_cnt_blk;
	struct acpi_generic_address x_pm_tmr_blk;
	struct acpi_generic_address x_gpe0_blk;
	struct acpi_generic_address x_gpe1_blk;
	struct acpi_generic_address sleep_control_reg;
	struct acpi_generic_address sleep_status_reg;
	u64 hypervisor_vendor_identity;
} __packed;
STATIC_ASSERT(sizeof(struct acpi_table_fadt) == 276, "FADT layout");
STATIC_ASSERT(offsetof(struct acpi_table_fadt, pm_tmr_blk) == 76, "FADT PM_TMR_BLK");
STATIC_ASSERT(offsetof(struct acpi_table_fadt, flags) == 112, "FADT flags");
STATIC_ASSERT(offsetof(struct acpi_table_fadt, reset_reg) == 116, "FADT RESET_REG");
STATIC_ASSERT(offsetof(struct acpi_table_fadt, reset_value) == 128, "FADT RESET_VALUE");
STATIC_ASSERT(offsetof(struct acpi_table_fadt, x_dsdt) == 140, "FADT X_DSDT");
STATIC_ASSERT(offsetof(struct acpi_table_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR_BLK");

/* ---- What the parser keeps --------------------------------------------------- */

#define ACPI_MAX_TABLES 64
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_OVERRIDES 32
#define ACPI_MAX_NMIS 16

/* A table that passed validation (listed in the RSDT/XSDT). */
struct acpi_table_ref {
	char signature[5]; /* NUL-terminated, non-printable bytes replaced by '?' */
	u8 revision;
	u32 length;
	u64 phys;
};

struct acpi_cpu {
	u32 apic_id;
	u32 uid;        /* ACPI processor UID */
	u32 flags;      /* ACPI_MADT_ENABLED / ACPI_MADT_ONLINE_CAPABLE as given */
	bool enabled;   /* usable now; false for online-capable-but-disabled CPUs */
	bool x2apic;    /* came from a type 9 entry */
};

struct acpi_ioapic {
	u8 id;
	u32 address;
	u32 gsi_base;
};

struct acpi_override {
	u8 bus;
	u8 source; /* ISA IRQ */
	u32 gsi;
	u16 flags; /* MPS INTI polarity (bits 1:0) and trigger mode (bits 3:2) */
};

struct acpi_lapic_nmi {
	u32 uid;   /* ACPI_MADT_NMI_ALL_UID for every processor (also for type 4's 0xFF) */
	u16 flags; /* MPS INTI flags */
	u8 lint;   /* 0 or 1 */
	bool x2apic;
};

struct acpi_info {
	/* RSDP */
	u64 rsdp_phys;       /* 0 when the RSDP came as a copy */
	u8 revision;         /* RSDP revision: 0 for ACPI 1.0, 2 for 2.0+ */
	char oem_id[7];      /* NUL-terminated */
	u64 root_phys;       /* the RSDT or XSDT that was walked */
	bool root_is_xsdt;

	struct acpi_table_ref tables[ACPI_MAX_TABLES];
	u32 table_count;

	/* MADT */
	bool has_madt;
	u64 lapic_address;   /* after any type 5 override */
	u32 madt_flags;
	bool pcat_compat;    /* dual 8259s present: mask them */
	struct acpi_cpu cpus[HV_MAX_CPUS];
	u32 cpu_count;
	u32 cpus_dropped;    /* usable CPUs beyond HV_MAX_CPUS, not recorded */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	u32 ioapic_count;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	u32 override_count;
	struct acpi_lapic_nmi nmis[ACPI_MAX_NMIS];
	u32 nmi_count;

	/* FADT */
	bool has_fadt;
	u8 fadt_revision;
	u32 fadt_length;
	u32 fadt_flags;      /* 0 when the table is too short to hold them */
	u16 pm_timer_port;   /* 0 when there is no usable I/O-port PM timer */
	bool pm_timer_32bit; /* TMR_VAL_EXT: counter is 32 bits, else 24 */
	bool reset_supported;
	struct acpi_generic_address reset_reg;
	u8 reset_value;
	u16 sci_irq;
	u16 pm1a_cnt_port;   /* PM1a control block (I/O), 0 when absent */
	u64 dsdt_phys;
	u64 facs_phys;
};

/* Searches the BIOS areas for the RSDP: the first KiB of the EBDA, then
 * 0xE0000-0xFFFFF.  Returns 0 and the address on success, -1 when none is
 * found (the normal case on UEFI machines). */
int acpi_find_rsdp(const struct phys_reader *mem, u64 *rsdp_phys);

/* Parses the tables reachable from the RSDP, given either as a copy
 * (rsdp_copy/rsdp_copy_len, as multiboot2 supplies it; rsdp_phys may then be 0)
 * or by physical address (rsdp_copy NULL).  Fills *out.  Returns 0 on success,
 * even when individual tables were bad (they are logged and skipped), and -1
 * when the RSDP or the root table is unusable. */
int acpi_parse(const struct phys_reader *mem, u64 rsdp_phys, const u8 *rsdp_copy,
	       u32 rsdp_copy_len, struct acpi_info *out);

/* Boot log: tables, CPUs with their APIC ids, IOAPICs, overrides, FADT data. */
void acpi_log_summary(const struct acpi_info *info);

#endif
