/* ACPI static-table parsing.  See acpi.h for the contract; the rules that run
 * through this file:
 *  - nothing is dereferenced in place: every byte comes through phys_read, so a
 *    pointer into a hole or past the end of RAM is a failed read, not a fault;
 *  - a length is checked against what it must cover before any field behind it
 *    is used;
 *  - a bad table costs only that table (logged), except the root table. */
#include "arch/x86/acpi.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"

/* The RSDP has only ever been 36 bytes.  Leave room for a future revision to
 * append fields, but a length in the hundreds means we are looking at garbage,
 * and it also bounds the buffer we checksum it in. */
#define ACPI_RSDP_MAX_LENGTH 256

/* No real firmware table comes near this: the largest DSDTs of big servers are
 * a few hundred KiB.  A bigger length is corruption, and since every byte is
 * checksummed through the reader, trusting a 4 GiB length from a corrupt header
 * would make boot crawl across whatever lies behind it, device memory included. */
#define ACPI_TABLE_MAX_LENGTH (1u << 20)

/* Legacy BIOS areas the RSDP may live in (ACPI 5.2.5.1). */
#define BDA_EBDA_SEGMENT 0x40E
#define EBDA_SEARCH_LENGTH 1024
#define EBDA_LIMIT 0xA0000 /* the EBDA sits below the VGA hole */
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_END 0x100000
#define RSDP_ALIGN 16

#define TABLE_HDR_LEN ((u32)sizeof(struct acpi_table_header))

static u8 sum_bytes(const void *buf, size_t len)
{
	const u8 *p = buf;
	u8 sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return sum;
}

/* Firmware strings go into the log, so a corrupt one must not carry control
 * characters there. */
static void copy_printable(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		dst[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	dst[n] = '\0';
}

/* ---- Small string building for log lines ------------------------------------
 * The log lines are assembled here rather than with a long format string because
 * their length depends on how many CPUs/tables there are. */

struct strbuf {
	char s[112];
	u32 len;
};

static void sb_reset(struct strbuf *b, u32 len)
{
	b->len = len;
	b->s[len] = '\0';
}

static void sb_str(struct strbuf *b, const char *str)
{
	while (*str && b->len + 1 < sizeof(b->s))
		b->s[b->len++] = *str++;
	b->s[b->len] = '\0';
}

static void sb_num(struct strbuf *b, u64 v, unsigned base)
{
	char digits[24];
	int n = 0;
	if (base == 16)
		sb_str(b, "0x");
	do {
		unsigned d = (unsigned)(v % base);
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n > 0 && b->len + 1 < sizeof(b->s))
		b->s[b->len++] = digits[--n];
	b->s[b->len] = '\0';
}

/* A log line of space-separated tokens that wraps onto a new line (repeating its
 * prefix) instead of truncating. */
struct logline {
	struct strbuf b;
	u32 prefix_len;
};

static void ll_init(struct logline *l, const char *prefix)
{
	sb_reset(&l->b, 0);
	sb_str(&l->b, prefix);
	l->prefix_len = l->b.len;
}

static void ll_flush(struct logline *l)
{
	if (l->b.len > l->prefix_len)
		pr_info("%s\n", l->b.s);
	sb_reset(&l->b, l->prefix_len);
}

static void ll_token(struct logline *l, const struct strbuf *tok)
{
	if (l->b.len + 1 + tok->len + 1 > sizeof(l->b.s))
		ll_flush(l);
	sb_str(&l->b, " ");
	sb_str(&l->b, tok->s);
}

/* ---- RSDP -------------------------------------------------------------------- */

static void rsdp_label(struct strbuf *b, u64 where)
{
	sb_reset(b, 0);
	if (where) {
		sb_str(b, "at ");
		sb_num(b, where, 16);
	} else {
		sb_str(b, "copy");
	}
}

/* Checks an RSDP image of `avail` bytes.  *ext is set when the 2.0 fields (XSDT
 * address) were verified and may be used; an RSDP whose 2.0 part cannot be
 * verified because too little of it is available is still good for the RSDT. */
static bool rsdp_validate(const u8 *buf, u32 avail, u64 where, bool *ext)
{
	struct acpi_rsdp r;
	struct strbuf label;

	rsdp_label(&label, where);
	*ext = false;
	if (avail < ACPI_RSDP_V1_LENGTH) {
		pr_err("acpi: RSDP %s: only %u bytes, need %u\n", label.s, avail,
		       ACPI_RSDP_V1_LENGTH);
		return false;
	}
	memset(&r, 0, sizeof(r));
	memcpy(&r, buf, MIN(avail, (u32)sizeof(r)));
	if (memcmp(r.signature, ACPI_RSDP_SIGNATURE, sizeof(r.signature)) != 0) {
		pr_err("acpi: RSDP %s: bad signature\n", label.s);
		return false;
	}
	if (sum_bytes(buf, ACPI_RSDP_V1_LENGTH) != 0) {
		pr_warn("acpi: RSDP %s: bad checksum, ignored\n", label.s);
		return false;
	}
	if (r.revision < 2)
		return true;
	if (avail < ACPI_RSDP_V2_LENGTH) {
		pr_warn("acpi: RSDP %s: revision %u but only %u bytes available, using the RSDT\n",
			label.s, (unsigned)r.revision, avail);
		return true;
	}
	if (r.length < ACPI_RSDP_V2_LENGTH || r.length > ACPI_RSDP_MAX_LENGTH) {
		pr_warn("acpi: RSDP %s: implausible length %u, ignored\n", label.s, r.length);
		return false;
	}
	if (r.length > avail) {
		pr_warn("acpi: RSDP %s: length %u but only %u bytes available, using the RSDT\n",
			label.s, r.length, avail);
		return true;
	}
	if (sum_bytes(buf, r.length) != 0) {
		pr_warn("acpi: RSDP %s: bad extended checksum, ignored\n", label.s);
		return false;
	}
	*ext = true;
	return true;
}

/* Reads as much of the RSDP at pa as its own fields say exists, into buf
 * (ACPI_RSDP_MAX_LENGTH bytes).  Returns false only when not even the 1.0 part
 * is readable; a shorter *avail is left for rsdp_validate to judge. */
static bool rsdp_read_phys(const struct phys_reader *mem, u64 pa, u8 *buf, u32 *avail)
{
	struct acpi_rsdp r;

	if (!phys_read(mem, pa, buf, ACPI_RSDP_V1_LENGTH))
		return false;
	*avail = ACPI_RSDP_V1_LENGTH;
	memcpy(&r, buf, ACPI_RSDP_V1_LENGTH);
	if (r.revision < 2 || !phys_read(mem, pa, buf, ACPI_RSDP_V2_LENGTH))
		return true;
	*avail = ACPI_RSDP_V2_LENGTH;
	memcpy(&r, buf, ACPI_RSDP_V2_LENGTH);
	if (r.length > ACPI_RSDP_V2_LENGTH && r.length <= ACPI_RSDP_MAX_LENGTH &&
	    phys_read(mem, pa, buf, r.length))
		*avail = r.length;
	return true;
}

static bool rsdp_scan(const struct phys_reader *mem, u64 start, u64 end, u64 *found)
{
	u8 buf[ACPI_RSDP_MAX_LENGTH];

	for (u64 pa = start; pa < end; pa += RSDP_ALIGN) {
		char sig[8];
		u32 avail;
		bool ext;

		/* Most of the area is unmapped in tests and BIOS code in reality;
		 * only a signature match is worth more reads. */
		if (!phys_read(mem, pa, sig, sizeof(sig)) ||
		    memcmp(sig, ACPI_RSDP_SIGNATURE, sizeof(sig)) != 0)
			continue;
		if (!rsdp_read_phys(mem, pa, buf, &avail))
			continue;
		if (rsdp_validate(buf, avail, pa, &ext)) {
			*found = pa;
			return true;
		}
	}
	return false;
}

int acpi_find_rsdp(const struct phys_reader *mem, u64 *rsdp_phys)
{
	u16 seg;

	if (!mem || !rsdp_phys)
		return -1;
	if (phys_read(mem, BDA_EBDA_SEGMENT, &seg, sizeof(seg))) {
		u64 ebda = (u64)seg << 4;
		/* A zero or out-of-range segment means there is no EBDA (or the BDA
		 * is not what we think); the BIOS area is still worth searching. */
		if (ebda >= 0x400 && ebda < EBDA_LIMIT &&
		    rsdp_scan(mem, ebda, MIN(ebda + EBDA_SEARCH_LENGTH, (u64)EBDA_LIMIT),
			      rsdp_phys))
			return 0;
	}
	if (rsdp_scan(mem, BIOS_AREA_START, BIOS_AREA_END, rsdp_phys))
		return 0;
	return -1;
}

/* ---- Tables ------------------------------------------------------------------ */

/* Reads and validates the table header at pa and checksums the whole table.
 * expect, when non-NULL, is the required signature.  On success *h holds the
 * header, whose length is then known to be sane and fully readable. */
static bool table_check(const struct phys_reader *mem, u64 pa, const char *expect,
			struct acpi_table_header *h)
{
	char sig[5];
	u8 chunk[128];
	u8 sum = 0;

	if (!phys_read(mem, pa, h, sizeof(*h))) {
		pr_warn("acpi: table at 0x%llx is not readable, skipped\n",
			(unsigned long long)pa);
		return false;
	}
	copy_printable(sig, h->signature, 4);
	if (expect && memcmp(h->signature, expect, 4) != 0) {
		pr_warn("acpi: expected %s at 0x%llx, found '%s'\n", expect,
			(unsigned long long)pa, sig);
		return false;
	}
	if (h->length < TABLE_HDR_LEN) {
		pr_warn("acpi: %s at 0x%llx: length %u is shorter than its header, skipped\n",
			sig, (unsigned long long)pa, h->length);
		return false;
	}
	if (h->length > ACPI_TABLE_MAX_LENGTH) {
		pr_warn("acpi: %s at 0x%llx: absurd length %u (limit %u), skipped\n", sig,
			(unsigned long long)pa, h->length, ACPI_TABLE_MAX_LENGTH);
		return false;
	}
	for (u32 off = 0; off < h->length;) {
		u32 n = MIN(h->length - off, (u32)sizeof(chunk));
		if (!phys_read(mem, pa + off, chunk, n)) {
			pr_warn("acpi: %s at 0x%llx: length %u runs into unreadable memory, skipped\n",
				sig, (unsigned long long)pa, h->length);
			return false;
		}
		sum = (u8)(sum + sum_bytes(chunk, n));
		off += n;
	}
	if (sum != 0) {
		pr_warn("acpi: %s at 0x%llx: bad checksum, skipped\n", sig,
			(unsigned long long)pa);
		return false;
	}
	return true;
}

/* ---- MADT -------------------------------------------------------------------- */

struct madt_state {
	u32 ioapics_dropped;
	u32 overrides_dropped;
	u32 nmis_dropped;
	bool lapic_override;
	u64 lapic_override_addr;
};

static u32 madt_min_length(u8 type)
{
	switch (type) {
	case ACPI_MADT_TYPE_LOCAL_APIC:
		return sizeof(struct acpi_madt_local_apic);
	case ACPI_MADT_TYPE_IO_APIC:
		return sizeof(struct acpi_madt_io_apic);
	case ACPI_MADT_TYPE_INTERRUPT_OVERRIDE:
		return sizeof(struct acpi_madt_interrupt_override);
	case ACPI_MADT_TYPE_LOCAL_APIC_NMI:
		return sizeof(struct acpi_madt_local_apic_nmi);
	case ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE:
		return sizeof(struct acpi_madt_local_apic_override);
	case ACPI_MADT_TYPE_LOCAL_X2APIC:
		return sizeof(struct acpi_madt_local_x2apic);
	case ACPI_MADT_TYPE_LOCAL_X2APIC_NMI:
		return sizeof(struct acpi_madt_local_x2apic_nmi);
	default:
		/* Types we skip need only be walkable. */
		return sizeof(struct acpi_madt_subtable);
	}
}

static void madt_add_cpu(struct acpi_info *out, u32 apic_id, u32 uid, u32 flags,
			 bool x2apic)
{
	bool enabled = flags & ACPI_MADT_ENABLED;

	/* Neither enabled nor online-capable: the firmware says never to use it.
	 * Such entries are common padding (often with made-up ids), so they are
	 * dropped before the duplicate check rather than reported. */
	if (!enabled && !(flags & ACPI_MADT_ONLINE_CAPABLE)) {
		pr_debug("acpi: CPU APIC id %u (uid %u) is disabled, ignored\n", apic_id, uid);
		return;
	}
	/* 0xFF is the xAPIC broadcast id and ~0 the x2APIC one: no CPU can own them. */
	if ((!x2apic && apic_id == 0xFF) || (x2apic && apic_id == 0xFFFFFFFFu)) {
		pr_warn("acpi: CPU uid %u has the broadcast APIC id 0x%x, ignored\n", uid,
			apic_id);
		return;
	}
	/* xAPIC and x2APIC ids are one namespace, so a type 9 entry repeating a
	 * type 0 entry is a duplicate too. */
	for (u32 i = 0; i < out->cpu_count; i++) {
		if (out->cpus[i].apic_id == apic_id) {
			pr_warn("acpi: duplicate APIC id %u (uid %u, first uid %u), ignored\n",
				apic_id, uid, out->cpus[i].uid);
			return;
		}
	}
	if (out->cpu_count >= HV_MAX_CPUS) {
		out->cpus_dropped++;
		return;
	}
	struct acpi_cpu *c = &out->cpus[out->cpu_count++];
	c->apic_id = apic_id;
	c->uid = uid;
	c->flags = flags;
	c->enabled = enabled;
	c->x2apic = x2apic;
}

static void madt_add_nmi(struct acpi_info *out, struct madt_state *st, u32 uid, u16 flags,
			 u8 lint, bool x2apic)
{
	if (lint > 1) {
		pr_warn("acpi: MADT: local APIC NMI on LINT%u does not exist, ignored\n",
			(unsigned)lint);
		return;
	}
	if (out->nmi_count >= ACPI_MAX_NMIS) {
		st->nmis_dropped++;
		return;
	}
	struct acpi_lapic_nmi *n = &out->nmis[out->nmi_count++];
	n->uid = uid;
	n->flags = flags;
	n->lint = lint;
	n->x2apic = x2apic;
}

union madt_entry {
	struct acpi_madt_subtable h;
	struct acpi_madt_local_apic lapic;
	struct acpi_madt_io_apic ioapic;
	struct acpi_madt_interrupt_override iso;
	struct acpi_madt_local_apic_nmi nmi;
	struct acpi_madt_local_apic_override lapic_ovr;
	struct acpi_madt_local_x2apic x2apic;
	struct acpi_madt_local_x2apic_nmi x2nmi;
};

static void madt_entry(struct acpi_info *out, struct madt_state *st, const union madt_entry *e)
{
	switch (e->h.type) {
	case ACPI_MADT_TYPE_LOCAL_APIC:
		madt_add_cpu(out, e->lapic.apic_id, e->lapic.processor_uid, e->lapic.flags, false);
		break;
	case ACPI_MADT_TYPE_LOCAL_X2APIC:
		madt_add_cpu(out, e->x2apic.x2apic_id, e->x2apic.processor_uid, e->x2apic.flags,
			     true);
		break;
	case ACPI_MADT_TYPE_IO_APIC:
		if (out->ioapic_count >= ACPI_MAX_IOAPICS) {
			st->ioapics_dropped++;
			break;
		}
		out->ioapics[out->ioapic_count].id = e->ioapic.io_apic_id;
		out->ioapics[out->ioapic_count].address = e->ioapic.address;
		out->ioapics[out->ioapic_count].gsi_base = e->ioapic.gsi_base;
		out->ioapic_count++;
		break;
	case ACPI_MADT_TYPE_INTERRUPT_OVERRIDE:
		if (out->override_count >= ACPI_MAX_OVERRIDES) {
			st->overrides_dropped++;
			break;
		}
		out->overrides[out->override_count].bus = e->iso.bus;
		out->overrides[out->override_count].source = e->iso.source;
		out->overrides[out->override_count].gsi = e->iso.gsi;
		out->overrides[out->override_count].flags = e->iso.flags;
		out->override_count++;
		break;
	case ACPI_MADT_TYPE_LOCAL_APIC_NMI:
		madt_add_nmi(out, st,
			     e->nmi.processor_uid == ACPI_MADT_NMI_ALL_UID8 ? ACPI_MADT_NMI_ALL_UID
									    : e->nmi.processor_uid,
			     e->nmi.flags, e->nmi.lint, false);
		break;
	case ACPI_MADT_TYPE_LOCAL_X2APIC_NMI:
		madt_add_nmi(out, st, e->x2nmi.processor_uid, e->x2nmi.flags, e->x2nmi.lint, true);
		break;
	case ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE:
		/* Applied after the walk: the entry may come after the CPUs. */
		st->lapic_override = true;
		st->lapic_override_addr = e->lapic_ovr.address;
		break;
	default:
		break;
	}
}

static void parse_madt(const struct phys_reader *mem, u64 pa, u32 len, struct acpi_info *out)
{
	struct acpi_table_madt m;
	struct madt_state st;

	if (len < sizeof(m)) {
		pr_warn("acpi: MADT at 0x%llx: length %u too short for its fixed fields, skipped\n",
			(unsigned long long)pa, len);
		return;
	}
	if (!phys_read(mem, pa, &m, sizeof(m))) {
		pr_warn("acpi: MADT at 0x%llx is not readable, skipped\n", (unsigned long long)pa);
		return;
	}
	memset(&st, 0, sizeof(st));
	out->has_madt = true;
	out->lapic_address = m.local_apic_address;
	out->madt_flags = m.flags;
	out->pcat_compat = m.flags & ACPI_MADT_PCAT_COMPAT;

	for (u32 off = sizeof(m); off < len;) {
		union madt_entry e;
		u32 left = len - off;

		if (left < sizeof(e.h)) {
			pr_warn("acpi: MADT: %u stray bytes at offset %u, stopping\n", left, off);
			break;
		}
		if (!phys_read(mem, pa + off, &e.h, sizeof(e.h))) {
			pr_warn("acpi: MADT: entry at offset %u is not readable, stopping\n", off);
			break;
		}
		if (e.h.length == 0) {
			pr_warn("acpi: MADT: entry type %u at offset %u has length 0, stopping\n",
				(unsigned)e.h.type, off);
			break;
		}
		if (e.h.length > left) {
			pr_warn("acpi: MADT: entry type %u at offset %u runs past the end of the table (length %u, %u bytes left), stopping\n",
				(unsigned)e.h.type, off, (unsigned)e.h.length, left);
			break;
		}
		if (e.h.length < madt_min_length(e.h.type)) {
			pr_warn("acpi: MADT: entry type %u at offset %u has length %u, shorter than %u, stopping\n",
				(unsigned)e.h.type, off, (unsigned)e.h.length,
				madt_min_length(e.h.type));
			break;
		}
		/* Entries longer than we know are later revisions appending fields;
		 * only the part we understand is read. */
		u32 elen = e.h.length;
		memset(&e, 0, sizeof(e));
		if (!phys_read(mem, pa + off, &e, MIN((u32)sizeof(e), elen))) {
			pr_warn("acpi: MADT: entry at offset %u is not readable, stopping\n", off);
			break;
		}
		madt_entry(out, &st, &e);
		off += elen;
	}

	if (st.lapic_override)
		out->lapic_address = st.lapic_override_addr;
	if (out->cpus_dropped)
		pr_warn("acpi: %u CPUs beyond HV_MAX_CPUS (%u) ignored\n", out->cpus_dropped,
			(unsigned)HV_MAX_CPUS);
	if (st.ioapics_dropped)
		pr_warn("acpi: %u IOAPICs beyond %u ignored\n", st.ioapics_dropped,
			(unsigned)ACPI_MAX_IOAPICS);
	if (st.overrides_dropped)
		pr_warn("acpi: %u interrupt overrides beyond %u ignored\n", st.overrides_dropped,
			(unsigned)ACPI_MAX_OVERRIDES);
	if (st.nmis_dropped)
		pr_warn("acpi: %u local APIC NMI entries beyond %u ignored\n", st.nmis_dropped,
			(unsigned)ACPI_MAX_NMIS);
}

/* ---- FADT -------------------------------------------------------------------- */

/* True when a FADT of length len holds all of field. */
#define FADT_HAS(len, field)                                                              \
	(offsetof(struct acpi_table_fadt, field) +                                        \
		 sizeof(((struct acpi_table_fadt *)0)->field) <=                          \
	 (len))

/* Prefers the 64-bit address (ACPI 2.0+) and reports firmware that gives two
 * different ones, since then one of them is wrong and we may be picking it. */
static u64 fadt_pick_addr(const char *what, u64 addr32, u64 addr64)
{
	if (addr64 && addr32 && addr64 != addr32)
		pr_warn("acpi: FADT %s address 0x%llx and X_%s 0x%llx differ, using X_%s\n", what,
			(unsigned long long)addr32, what, (unsigned long long)addr64, what);
	return addr64 ? addr64 : addr32;
}

static void parse_fadt(const struct phys_reader *mem, u64 pa, u32 len, struct acpi_info *out)
{
	struct acpi_table_fadt f;
	u64 port = 0;

	/* Zero-filled first so the fields past a short table read as absent; the
	 * FADT_HAS checks below keep a field straddling the end from being used. */
	memset(&f, 0, sizeof(f));
	if (!phys_read(mem, pa, &f, MIN(len, (u32)sizeof(f)))) {
		pr_warn("acpi: FADT at 0x%llx is not readable, skipped\n", (unsigned long long)pa);
		return;
	}
	out->has_fadt = true;
	out->fadt_revision = f.header.revision;
	out->fadt_length = len;
	if (len < ACPI_FADT_V1_LENGTH)
		pr_warn("acpi: FADT length %u is shorter than ACPI 1.0's %u, using only the fields it covers\n",
			len, (unsigned)ACPI_FADT_V1_LENGTH);

	if (FADT_HAS(len, flags))
		out->fadt_flags = f.flags;

	if (FADT_HAS(len, x_pm_tmr_blk) && f.x_pm_tmr_blk.address) {
		if (f.x_pm_tmr_blk.space_id == ACPI_ADR_SPACE_SYSTEM_IO)
			port = f.x_pm_tmr_blk.address;
		else
			pr_debug("acpi: X_PM_TMR_BLK is in address space %u, not I/O; trying PM_TMR_BLK\n",
				 (unsigned)f.x_pm_tmr_blk.space_id);
	}
	if (!port && FADT_HAS(len, pm_tmr_blk))
		port = f.pm_tmr_blk;
	if (port > 0xFFFF) {
		pr_warn("acpi: FADT PM timer at 0x%llx is not an I/O port, ignored\n",
			(unsigned long long)port);
		port = 0;
	}
	out->pm_timer_port = (u16)port;
	out->pm_timer_32bit = port && (out->fadt_flags & ACPI_FADT_TMR_VAL_EXT);

	if (out->fadt_flags & ACPI_FADT_RESET_REG_SUP) {
		if (!FADT_HAS(len, reset_reg) || !FADT_HAS(len, reset_value)) {
			pr_warn("acpi: FADT sets RESET_REG_SUP but its length %u does not cover RESET_REG, ignored\n",
				len);
		} else if (!f.reset_reg.address) {
			pr_warn("acpi: FADT sets RESET_REG_SUP with a zero RESET_REG address, ignored\n");
		} else {
			out->reset_supported = true;
			out->reset_reg = f.reset_reg;
			out->reset_value = f.reset_value;
		}
	}

	if (FADT_HAS(len, pm1a_cnt_blk) && f.pm1a_cnt_blk <= 0xFFFF)
		out->pm1a_cnt_port = (u16)f.pm1a_cnt_blk;
	if (FADT_HAS(len, sci_int))
		out->sci_irq = f.sci_int;
	out->dsdt_phys = fadt_pick_addr("DSDT", FADT_HAS(len, dsdt) ? f.dsdt : 0,
					FADT_HAS(len, x_dsdt) ? f.x_dsdt : 0);
	out->facs_phys = fadt_pick_addr("FIRMWARE_CTRL",
					FADT_HAS(len, firmware_ctrl) ? f.firmware_ctrl : 0,
					FADT_HAS(len, x_firmware_ctrl) ? f.x_firmware_ctrl : 0);
}

/* ---- Root table walk ---------------------------------------------------------- */

static void handle_table(const struct phys_reader *mem, u64 pa, struct acpi_info *out,
			 u32 *unlisted)
{
	struct acpi_table_header h;

	if (!table_check(mem, pa, NULL, &h))
		return;
	if (out->table_count < ACPI_MAX_TABLES) {
		struct acpi_table_ref *t = &out->tables[out->table_count++];
		copy_printable(t->signature, h.signature, 4);
		t->revision = h.revision;
		t->length = h.length;
		t->phys = pa;
	} else {
		(*unlisted)++;
	}

	/* A second MADT/FADT would double every CPU or overwrite the first FADT's
	 * data with whichever came last; the first one wins. */
	if (memcmp(h.signature, ACPI_SIG_MADT, 4) == 0) {
		if (out->has_madt)
			pr_warn("acpi: second MADT at 0x%llx ignored\n", (unsigned long long)pa);
		else
			parse_madt(mem, pa, h.length, out);
	} else if (memcmp(h.signature, ACPI_SIG_FADT, 4) == 0) {
		if (out->has_fadt)
			pr_warn("acpi: second FADT at 0x%llx ignored\n", (unsigned long long)pa);
		else
			parse_fadt(mem, pa, h.length, out);
	}
}

static bool walk_root(const struct phys_reader *mem, u64 pa, bool xsdt, struct acpi_info *out)
{
	const char *sig = xsdt ? ACPI_SIG_XSDT : ACPI_SIG_RSDT;
	u32 entry_size = xsdt ? 8 : 4;
	struct acpi_table_header h;
	u32 unlisted = 0;

	if (!table_check(mem, pa, sig, &h))
		return false;
	out->root_phys = pa;
	out->root_is_xsdt = xsdt;

	u32 body = h.length - TABLE_HDR_LEN;
	if (body % entry_size)
		pr_warn("acpi: %s length %u is not a whole number of entries, ignoring its last %u bytes\n",
			sig, h.length, body % entry_size);

	/* The count comes from the validated length, so no entry beyond the
	 * table is ever read. */
	for (u32 i = 0; i < body / entry_size; i++) {
		u64 entry_pa = pa + TABLE_HDR_LEN + (u64)i * entry_size;
		u64 table = 0;

		if (xsdt) {
			if (!phys_read(mem, entry_pa, &table, sizeof(table)))
				break;
		} else {
			u32 t32;
			if (!phys_read(mem, entry_pa, &t32, sizeof(t32)))
				break;
			table = t32;
		}
		if (!table) {
			pr_warn("acpi: %s entry %u is null, skipped\n", sig, i);
			continue;
		}
		handle_table(mem, table, out, &unlisted);
	}
	if (unlisted)
		pr_warn("acpi: %u tables beyond %u not listed\n", unlisted, (unsigned)ACPI_MAX_TABLES);
	return true;
}

int acpi_parse(const struct phys_reader *mem, u64 rsdp_phys, const u8 *rsdp_copy,
	       u32 rsdp_copy_len, struct acpi_info *out)
{
	u8 buf[ACPI_RSDP_MAX_LENGTH];
	u32 avail;
	struct acpi_rsdp r;
	bool ext;

	if (!mem || !out)
		return -1;
	memset(out, 0, sizeof(*out));

	if (rsdp_copy && rsdp_copy_len) {
		avail = MIN(rsdp_copy_len, (u32)sizeof(buf));
		memcpy(buf, rsdp_copy, avail);
	} else if (rsdp_phys) {
		if (!rsdp_read_phys(mem, rsdp_phys, buf, &avail)) {
			pr_err("acpi: RSDP at 0x%llx is not readable\n",
			       (unsigned long long)rsdp_phys);
			return -1;
		}
	} else {
		pr_err("acpi: no RSDP\n");
		return -1;
	}
	if (!rsdp_validate(buf, avail, rsdp_copy && rsdp_copy_len ? 0 : rsdp_phys, &ext))
		return -1;
	memset(&r, 0, sizeof(r));
	memcpy(&r, buf, MIN(avail, (u32)sizeof(r)));

	out->rsdp_phys = rsdp_phys;
	out->revision = r.revision;
	copy_printable(out->oem_id, r.oem_id, sizeof(r.oem_id));

	bool ok = false;
	if (ext && r.xsdt_address) {
		ok = walk_root(mem, r.xsdt_address, true, out);
		/* The RSDT lists the same tables with 32-bit pointers, so a broken
		 * XSDT need not cost us ACPI altogether. */
		if (!ok && r.rsdt_address) {
			pr_warn("acpi: XSDT unusable, falling back to the RSDT\n");
			ok = walk_root(mem, r.rsdt_address, false, out);
		}
	} else if (r.rsdt_address) {
		ok = walk_root(mem, r.rsdt_address, false, out);
	}
	if (!ok) {
		pr_err("acpi: no usable RSDT/XSDT, ACPI tables ignored\n");
		return -1;
	}
	if (!out->has_madt)
		pr_warn("acpi: no MADT, CPUs and IOAPICs unknown\n");
	return 0;
}

/* ---- Boot log ----------------------------------------------------------------- */

void acpi_log_summary(const struct acpi_info *info)
{
	struct logline line;
	struct strbuf tok;
	u32 enabled = 0;

	rsdp_label(&tok, info->rsdp_phys);
	pr_info("acpi: RSDP %s, revision %u, OEM '%s'; %s at 0x%llx\n", tok.s,
		(unsigned)info->revision, info->oem_id, info->root_is_xsdt ? "XSDT" : "RSDT",
		(unsigned long long)info->root_phys);

	ll_init(&line, "acpi: tables:");
	for (u32 i = 0; i < info->table_count; i++) {
		sb_reset(&tok, 0);
		sb_str(&tok, info->tables[i].signature);
		sb_str(&tok, "@");
		sb_num(&tok, info->tables[i].phys, 16);
		ll_token(&line, &tok);
	}
	ll_flush(&line);

	if (info->has_madt) {
		for (u32 i = 0; i < info->cpu_count; i++)
			enabled += info->cpus[i].enabled;
		pr_info("acpi: local APIC at 0x%llx, %u CPUs (%u enabled, %u over the limit)%s\n",
			(unsigned long long)info->lapic_address, info->cpu_count, enabled,
			info->cpus_dropped, info->pcat_compat ? ", 8259 PICs present" : "");
		ll_init(&line, "acpi: APIC ids:");
		for (u32 i = 0; i < info->cpu_count; i++) {
			sb_reset(&tok, 0);
			sb_num(&tok, info->cpus[i].apic_id, 10);
			if (!info->cpus[i].enabled)
				sb_str(&tok, "(off)");
			ll_token(&line, &tok);
		}
		ll_flush(&line);
		for (u32 i = 0; i < info->ioapic_count; i++)
			pr_info("acpi: IOAPIC id %u at 0x%x, GSI base %u\n",
				(unsigned)info->ioapics[i].id, info->ioapics[i].address,
				info->ioapics[i].gsi_base);
		ll_init(&line, "acpi: overrides:");
		for (u32 i = 0; i < info->override_count; i++) {
			sb_reset(&tok, 0);
			sb_str(&tok, "irq");
			sb_num(&tok, info->overrides[i].source, 10);
			sb_str(&tok, "->gsi");
			sb_num(&tok, info->overrides[i].gsi, 10);
			if (info->overrides[i].flags) {
				sb_str(&tok, "/");
				sb_num(&tok, info->overrides[i].flags, 16);
			}
			ll_token(&line, &tok);
		}
		ll_flush(&line);
	}
	if (info->has_fadt)
		pr_info("acpi: PM timer port 0x%x (%s), SCI %u, reset register %s, DSDT 0x%llx\n",
			(unsigned)info->pm_timer_port, info->pm_timer_32bit ? "32-bit" : "24-bit",
			(unsigned)info->sci_irq, info->reset_supported ? "yes" : "no",
			(unsigned long long)info->dsdt_phys);
}
