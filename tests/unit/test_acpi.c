/* unit-sources: arch/x86/acpi.c tests/unit/fake_printk.c */
/* ACPI table parsing against a fake physical memory made of a few sparse
 * chunks; reads outside them fail, as a hole in the real map would. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "tests/unit/fake_printk.h"

/* ---- Fake physical memory ------------------------------------------------------ */

struct chunk {
	u64 base;
	size_t size;
	u8 *data;
};

static struct chunk chunks[8];
static int nchunks;
/* Reads touching [poison_lo, poison_hi) are recorded, to prove the parser never
 * looks at bytes it has no business reading. */
static u64 poison_lo, poison_hi;
static bool poison_hit;

#define LOW_BASE 0x0ULL
#define EBDA_BASE 0x9FC00ULL
#define BIOS_BASE 0xE0000ULL
#define TBL_BASE 0x7FE0000ULL
#define TBL_SIZE 0x20000ULL
#define HIGH_BASE 0x100000000ULL
#define UNMAPPED 0x40000000ULL

static bool fake_read(void *ctx, u64 pa, void *buf, size_t len)
{
	(void)ctx;
	if (pa < poison_hi && pa + len > poison_lo)
		poison_hit = true;
	for (int i = 0; i < nchunks; i++) {
		struct chunk *c = &chunks[i];
		if (pa >= c->base && len <= c->size && pa - c->base <= c->size - len) {
			memcpy(buf, c->data + (pa - c->base), len);
			return true;
		}
	}
	return false;
}

static const struct phys_reader mem = { fake_read, NULL };

static void mem_add(u64 base, size_t size)
{
	ck_assert_int_lt(nchunks, (int)ARRAY_SIZE(chunks));
	chunks[nchunks].base = base;
	chunks[nchunks].size = size;
	chunks[nchunks].data = calloc(1, size);
	ck_assert_ptr_nonnull(chunks[nchunks].data);
	nchunks++;
}

static void mem_free_all(void)
{
	for (int i = 0; i < nchunks; i++)
		free(chunks[i].data);
	nchunks = 0;
}

static u8 *ptr(u64 pa, size_t len)
{
	for (int i = 0; i < nchunks; i++) {
		struct chunk *c = &chunks[i];
		if (pa >= c->base && pa + len <= c->base + c->size)
			return c->data + (pa - c->base);
	}
	ck_abort_msg("test bug: 0x%llx is not in fake memory", (unsigned long long)pa);
	return NULL;
}

static void poke(u64 pa, const void *src, size_t len)
{
	memcpy(ptr(pa, len), src, len);
}

static void poke16(u64 pa, u16 v)
{
	poke(pa, &v, sizeof(v));
}

static void poke32(u64 pa, u32 v)
{
	poke(pa, &v, sizeof(v));
}

static struct acpi_info info;

static void setup(void)
{
	fake_printk_reset();
	mem_add(LOW_BASE, 0x1000);
	mem_add(EBDA_BASE, 0x400);
	mem_add(BIOS_BASE, 0x20000);
	mem_add(TBL_BASE, TBL_SIZE);
	mem_add(HIGH_BASE, 0x10000);
	poison_lo = poison_hi = 0;
	poison_hit = false;
	memset(&info, 0xA5, sizeof(info));
}

static void teardown(void)
{
	mem_free_all();
}

/* ---- Table builders -------------------------------------------------------------- */

static u8 sum8(const u8 *p, size_t n)
{
	u8 s = 0;
	while (n--)
		s = (u8)(s + *p++);
	return s;
}

static void make_rsdp(u8 *dst, u8 rev, u32 rsdt, u64 xsdt)
{
	struct acpi_rsdp r;
	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, "HVTEST", 6);
	r.revision = rev;
	r.rsdt_address = rsdt;
	r.length = 36;
	r.xsdt_address = xsdt;
	r.checksum = (u8)-sum8((u8 *)&r, 20);
	r.extended_checksum = (u8)-sum8((u8 *)&r, 36);
	memcpy(dst, &r, rev >= 2 ? 36 : 20);
}

static void put_header(u64 pa, const char *sig, u32 len, u8 rev)
{
	struct acpi_table_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.signature, sig, 4);
	h.length = len;
	h.revision = rev;
	memcpy(h.oem_id, "HVTEST", 6);
	poke(pa, &h, sizeof(h));
}

static void fix_checksum(u64 pa)
{
	struct acpi_table_header *h = (void *)ptr(pa, sizeof(*h));
	u32 len = h->length;
	u8 *p = ptr(pa, len);
	p[offsetof(struct acpi_table_header, checksum)] = 0;
	p[offsetof(struct acpi_table_header, checksum)] = (u8)-sum8(p, len);
}

static void corrupt_checksum(u64 pa)
{
	ptr(pa, sizeof(struct acpi_table_header))[offsetof(struct acpi_table_header, checksum)] ^= 0x55;
}

static void make_root(u64 pa, bool xsdt, const u64 *tables, int n)
{
	u32 esz = xsdt ? 8 : 4;
	put_header(pa, xsdt ? "XSDT" : "RSDT", 36 + esz * (u32)n, 1);
	for (int i = 0; i < n; i++) {
		if (xsdt)
			poke(pa + 36 + 8 * (u64)i, &tables[i], 8);
		else
			poke32(pa + 36 + 4 * (u64)i, (u32)tables[i]);
	}
	fix_checksum(pa);
}

/* A plain table with nothing the parser looks inside. */
static void make_dummy(u64 pa, const char *sig, u32 len)
{
	put_header(pa, sig, len, 1);
	fix_checksum(pa);
}

struct madt_b {
	u64 pa;
	u32 len;
};

static void madt_begin(struct madt_b *b, u64 pa, u32 lapic, u32 flags)
{
	struct acpi_table_madt m;
	memset(&m, 0, sizeof(m));
	m.local_apic_address = lapic;
	m.flags = flags;
	poke(pa, &m, sizeof(m));
	b->pa = pa;
	b->len = sizeof(m);
}

static void madt_raw(struct madt_b *b, const void *e, size_t n)
{
	poke(b->pa + b->len, e, n);
	b->len += (u32)n;
}

static void madt_lapic(struct madt_b *b, u8 uid, u8 id, u32 flags)
{
	struct acpi_madt_local_apic e = { { ACPI_MADT_TYPE_LOCAL_APIC, 8 }, uid, id, flags };
	madt_raw(b, &e, sizeof(e));
}

static void madt_x2apic(struct madt_b *b, u32 id, u32 flags, u32 uid)
{
	struct acpi_madt_local_x2apic e = { { ACPI_MADT_TYPE_LOCAL_X2APIC, 16 }, 0, id, flags, uid };
	madt_raw(b, &e, sizeof(e));
}

static void madt_ioapic(struct madt_b *b, u8 id, u32 addr, u32 gsi)
{
	struct acpi_madt_io_apic e = { { ACPI_MADT_TYPE_IO_APIC, 12 }, id, 0, addr, gsi };
	madt_raw(b, &e, sizeof(e));
}

static void madt_iso(struct madt_b *b, u8 src, u32 gsi, u16 flags)
{
	struct acpi_madt_interrupt_override e = {
		{ ACPI_MADT_TYPE_INTERRUPT_OVERRIDE, 10 }, 0, src, gsi, flags
	};
	madt_raw(b, &e, sizeof(e));
}

static void madt_nmi(struct madt_b *b, u8 uid, u16 flags, u8 lint)
{
	struct acpi_madt_local_apic_nmi e = { { ACPI_MADT_TYPE_LOCAL_APIC_NMI, 6 }, uid, flags, lint };
	madt_raw(b, &e, sizeof(e));
}

static void madt_x2nmi(struct madt_b *b, u32 uid, u16 flags, u8 lint)
{
	struct acpi_madt_local_x2apic_nmi e = {
		{ ACPI_MADT_TYPE_LOCAL_X2APIC_NMI, 12 }, flags, uid, lint, { 0, 0, 0 }
	};
	madt_raw(b, &e, sizeof(e));
}

static void madt_lapic_override(struct madt_b *b, u64 addr)
{
	struct acpi_madt_local_apic_override e = {
		{ ACPI_MADT_TYPE_LOCAL_APIC_OVERRIDE, 12 }, 0, addr
	};
	madt_raw(b, &e, sizeof(e));
}

/* Finishes the MADT with header length b->len (or len_override when non-zero,
 * to cut a table short of what was written). */
static u64 madt_end(struct madt_b *b, u32 len_override)
{
	u32 len = len_override ? len_override : b->len;
	put_header(b->pa, "APIC", len, 5);
	fix_checksum(b->pa);
	return b->pa;
}

static void fadt_init(struct acpi_table_fadt *f)
{
	memset(f, 0, sizeof(*f));
}

/* Writes the first len bytes of f (the whole struct image is written so that
 * the bytes past len hold plausible-looking data that must not be used). */
static u64 put_fadt(u64 pa, struct acpi_table_fadt *f, u32 len, u8 rev)
{
	poke(pa, f, sizeof(*f));
	put_header(pa, "FACP", len, rev);
	fix_checksum(pa);
	return pa;
}

/* Addresses of the tables tests build. */
#define RSDT_PA (TBL_BASE + 0x0000)
#define XSDT_PA (HIGH_BASE + 0x100)
#define FADT_PA (TBL_BASE + 0x1000)
#define MADT_PA (TBL_BASE + 0x2000)
#define MADT2_PA (TBL_BASE + 0x3000)
#define MISC_PA (TBL_BASE + 0x4000)

static int parse_copy(const u8 *rsdp, u32 len)
{
	return acpi_parse(&mem, 0, rsdp, len, &info);
}

/* A small two-CPU MADT. */
static u64 simple_madt(u64 pa, u8 id0, u8 id1)
{
	struct madt_b b;
	madt_begin(&b, pa, 0xFEE00000, ACPI_MADT_PCAT_COMPAT);
	madt_lapic(&b, 0, id0, ACPI_MADT_ENABLED);
	madt_lapic(&b, 1, id1, ACPI_MADT_ENABLED);
	return madt_end(&b, 0);
}

static u64 simple_fadt(u64 pa)
{
	struct acpi_table_fadt f;
	fadt_init(&f);
	f.pm_tmr_blk = 0x608;
	f.sci_int = 9;
	return put_fadt(pa, &f, ACPI_FADT_V1_LENGTH, 1);
}

/* RSDT -> {FADT, MADT}; returns a v1 RSDP copy in rsdp. */
static void simple_rsdt_world(u8 *rsdp)
{
	u64 t[2] = { simple_fadt(FADT_PA), simple_madt(MADT_PA, 0, 1) };
	make_root(RSDT_PA, false, t, 2);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
}

/* ---- RSDP search ------------------------------------------------------------------ */

START_TEST(rsdp_found_in_ebda_first)
{
	u64 pa = 0;
	poke16(0x40E, (u16)(EBDA_BASE >> 4));
	make_rsdp(ptr(EBDA_BASE + 0x40, 20), 0, (u32)RSDT_PA, 0);
	make_rsdp(ptr(0xF0000, 36), 2, (u32)RSDT_PA, XSDT_PA);
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), 0);
	ck_assert_uint_eq(pa, EBDA_BASE + 0x40);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(rsdp_found_in_bios_area)
{
	u64 pa = 0;
	poke16(0x40E, 0); /* no EBDA */
	make_rsdp(ptr(0xF5A30, 36), 2, (u32)RSDT_PA, XSDT_PA);
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), 0);
	ck_assert_uint_eq(pa, 0xF5A30);
}
END_TEST

START_TEST(rsdp_bogus_ebda_segment_still_searches_bios)
{
	u64 pa = 0;
	poke16(0x40E, 0xFFFF); /* would put the EBDA at 0xFFFF0 */
	make_rsdp(ptr(0xE0010, 20), 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), 0);
	ck_assert_uint_eq(pa, 0xE0010);
}
END_TEST

START_TEST(rsdp_unaligned_not_found)
{
	u64 pa = 0x1234;
	make_rsdp(ptr(0xE0008, 20), 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), -1);
}
END_TEST

START_TEST(rsdp_bad_v1_checksum_skipped)
{
	u64 pa = 0;
	make_rsdp(ptr(0xE0000, 20), 0, (u32)RSDT_PA, 0);
	ptr(0xE0000, 20)[8] ^= 1;
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), -1);
	ck_assert(fake_printk_contains("acpi: RSDP at 0xe0000: bad checksum"));

	fake_printk_reset();
	make_rsdp(ptr(0xE1000, 20), 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), 0);
	ck_assert_uint_eq(pa, 0xE1000);
	ck_assert_int_eq(fake_printk_problems(), 1);
}
END_TEST

START_TEST(rsdp_bad_v2_checksum_rejected)
{
	u64 pa = 0;
	u8 *p = ptr(0xE0000, 36);
	make_rsdp(p, 2, (u32)RSDT_PA, XSDT_PA);
	p[offsetof(struct acpi_rsdp, extended_checksum)] ^= 1; /* v1 part still fine */
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), -1);
	ck_assert(fake_printk_contains("bad extended checksum"));

	/* The same copy handed over by a loader is refused too. */
	fake_printk_reset();
	ck_assert_int_eq(parse_copy(p, 36), -1);
	ck_assert(fake_printk_contains("bad extended checksum"));
}
END_TEST

START_TEST(rsdp_v2_absurd_length_rejected)
{
	u64 pa = 0;
	struct acpi_rsdp r;
	make_rsdp((u8 *)&r, 2, (u32)RSDT_PA, XSDT_PA);
	r.length = 0x100000;
	r.checksum = 0;
	r.checksum = (u8)-sum8((u8 *)&r, 20);
	poke(0xE0000, &r, sizeof(r));
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), -1);
	ck_assert(fake_printk_contains("implausible length"));
}
END_TEST

START_TEST(rsdp_not_found_in_unmapped_memory)
{
	u64 pa = 0;
	mem_free_all();
	mem_add(LOW_BASE, 0x1000); /* only the BDA exists */
	poke16(0x40E, (u16)(EBDA_BASE >> 4));
	ck_assert_int_eq(acpi_find_rsdp(&mem, &pa), -1);
	ck_assert_int_eq(acpi_find_rsdp(NULL, &pa), -1);
	ck_assert_int_eq(acpi_find_rsdp(&mem, NULL), -1);
}
END_TEST

/* ---- RSDP and root table choice ---------------------------------------------------- */

START_TEST(parse_v1_copy_uses_rsdt)
{
	u8 rsdp[20];
	simple_rsdt_world(rsdp);
	ck_assert_int_eq(parse_copy(rsdp, sizeof(rsdp)), 0);
	ck_assert(!info.root_is_xsdt);
	ck_assert_uint_eq(info.root_phys, RSDT_PA);
	ck_assert_uint_eq(info.rsdp_phys, 0);
	ck_assert_uint_eq(info.revision, 0);
	ck_assert_str_eq(info.oem_id, "HVTEST");
	ck_assert_uint_eq(info.table_count, 2);
	ck_assert_str_eq(info.tables[0].signature, "FACP");
	ck_assert_uint_eq(info.tables[0].phys, FADT_PA);
	ck_assert_str_eq(info.tables[1].signature, "APIC");
	ck_assert_uint_eq(info.tables[1].phys, MADT_PA);
	ck_assert(info.has_madt && info.has_fadt);
	ck_assert_uint_eq(info.cpu_count, 2);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(parse_by_physical_address)
{
	u8 rsdp[20];
	simple_rsdt_world(rsdp);
	poke(0xE0040, rsdp, sizeof(rsdp));
	ck_assert_int_eq(acpi_parse(&mem, 0xE0040, NULL, 0, &info), 0);
	ck_assert_uint_eq(info.rsdp_phys, 0xE0040);
	ck_assert_uint_eq(info.cpu_count, 2);

	ck_assert_int_eq(acpi_parse(&mem, UNMAPPED, NULL, 0, &info), -1);
	ck_assert(fake_printk_contains("not readable"));
}
END_TEST

START_TEST(parse_prefers_xsdt)
{
	u8 rsdp[36];
	u64 rt[1] = { simple_madt(MADT_PA, 7, 8) };
	struct madt_b b;
	madt_begin(&b, HIGH_BASE + 0x1000, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_lapic(&b, 1, 1, ACPI_MADT_ENABLED);
	madt_lapic(&b, 2, 2, ACPI_MADT_ENABLED);
	u64 xt[1] = { madt_end(&b, 0) };
	make_root(RSDT_PA, false, rt, 1);
	make_root(XSDT_PA, true, xt, 1);
	make_rsdp(rsdp, 2, (u32)RSDT_PA, XSDT_PA);

	ck_assert_int_eq(parse_copy(rsdp, sizeof(rsdp)), 0);
	ck_assert(info.root_is_xsdt);
	ck_assert_uint_eq(info.root_phys, XSDT_PA);
	ck_assert_uint_eq(info.cpu_count, 3);
	ck_assert_uint_eq(info.tables[0].phys, HIGH_BASE + 0x1000);
	ck_assert_uint_eq(info.revision, 2);
}
END_TEST

START_TEST(parse_rsdt_when_xsdt_absent_or_rev0)
{
	u8 rsdp[36];
	u8 buf[20];
	simple_rsdt_world(buf);

	make_rsdp(rsdp, 2, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, sizeof(rsdp)), 0);
	ck_assert(!info.root_is_xsdt);
	ck_assert_uint_eq(info.cpu_count, 2);

	/* A 1.0 RSDP has no XSDT field; whatever follows it must not be used. */
	make_rsdp(rsdp, 2, (u32)RSDT_PA, UNMAPPED);
	rsdp[15] = 0;
	rsdp[8] = 0;
	rsdp[8] = (u8)-sum8(rsdp, 20);
	ck_assert_int_eq(parse_copy(rsdp, sizeof(rsdp)), 0);
	ck_assert(!info.root_is_xsdt);
	ck_assert_uint_eq(info.root_phys, RSDT_PA);

	/* A revision-2 RSDP cut to 20 bytes by the loader still gives the RSDT. */
	fake_printk_reset();
	make_rsdp(rsdp, 2, (u32)RSDT_PA, XSDT_PA);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(!info.root_is_xsdt);
	ck_assert(fake_printk_contains("using the RSDT"));
}
END_TEST

START_TEST(parse_bad_rsdp_copy)
{
	u8 rsdp[20];
	simple_rsdt_world(rsdp);

	ck_assert_int_eq(parse_copy(rsdp, 10), -1);
	ck_assert(fake_printk_contains("only 10 bytes"));

	rsdp[0] = 'X';
	rsdp[8] = (u8)(rsdp[8] - ('X' - 'R'));
	ck_assert_int_eq(parse_copy(rsdp, 20), -1);
	ck_assert(fake_printk_contains("bad signature"));

	simple_rsdt_world(rsdp);
	rsdp[16] ^= 0x10;
	ck_assert_int_eq(parse_copy(rsdp, 20), -1);
	ck_assert(fake_printk_contains("RSDP copy: bad checksum"));

	ck_assert_int_eq(acpi_parse(&mem, 0, NULL, 0, &info), -1);
	ck_assert_int_eq(acpi_parse(NULL, 0, rsdp, 20, &info), -1);
	ck_assert_int_eq(acpi_parse(&mem, 0, rsdp, 20, NULL), -1);
}
END_TEST

START_TEST(parse_bad_rsdt_is_fatal)
{
	u8 rsdp[20];
	simple_rsdt_world(rsdp);
	corrupt_checksum(RSDT_PA);
	ck_assert_int_eq(parse_copy(rsdp, 20), -1);
	ck_assert(fake_printk_contains("RSDT at 0x7fe0000: bad checksum"));
	ck_assert(fake_printk_contains("no usable RSDT/XSDT"));
	ck_assert(!info.has_madt);
}
END_TEST

START_TEST(parse_rsdt_unmapped_or_wrong_signature_is_fatal)
{
	u8 rsdp[20];
	make_rsdp(rsdp, 0, (u32)UNMAPPED, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), -1);
	ck_assert(fake_printk_contains("not readable"));

	fake_printk_reset();
	simple_rsdt_world(rsdp);
	make_rsdp(rsdp, 0, (u32)MADT_PA, 0); /* points at a valid table of the wrong kind */
	ck_assert_int_eq(parse_copy(rsdp, 20), -1);
	ck_assert(fake_printk_contains("expected RSDT"));

	fake_printk_reset();
	make_rsdp(rsdp, 0, 0, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), -1);
	ck_assert(fake_printk_contains("no usable RSDT/XSDT"));
}
END_TEST

START_TEST(parse_bad_xsdt_falls_back_to_rsdt)
{
	u8 rsdp[36];
	u8 v1[20];
	simple_rsdt_world(v1);
	u64 xt[1] = { MADT_PA };
	make_root(XSDT_PA, true, xt, 1);
	corrupt_checksum(XSDT_PA);
	make_rsdp(rsdp, 2, (u32)RSDT_PA, XSDT_PA);
	ck_assert_int_eq(parse_copy(rsdp, 36), 0);
	ck_assert(!info.root_is_xsdt);
	ck_assert(info.has_fadt);
	ck_assert(fake_printk_contains("falling back to the RSDT"));

	/* Both bad: nothing left. */
	corrupt_checksum(RSDT_PA);
	ck_assert_int_eq(parse_copy(rsdp, 36), -1);
}
END_TEST

START_TEST(root_entries_beyond_length_never_read)
{
	u8 rsdp[20];
	u64 t[2] = { simple_madt(MADT_PA, 0, 1), simple_fadt(FADT_PA) };
	make_root(RSDT_PA, false, t, 2);
	/* Shrink the RSDT to one entry and a half: the FADT pointer (second
	 * entry) is partly outside the table now. */
	ptr(RSDT_PA, 36)[4] = 36 + 4 + 2;
	fix_checksum(RSDT_PA);
	poison_lo = RSDT_PA + 36 + 4 + 2;
	poison_hi = RSDT_PA + 36 + 8;
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);

	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(!poison_hit);
	ck_assert(info.has_madt);
	ck_assert(!info.has_fadt);
	ck_assert_uint_eq(info.table_count, 1);
	ck_assert(fake_printk_contains("not a whole number of entries"));
}
END_TEST

START_TEST(root_null_entry_skipped)
{
	u8 rsdp[20];
	u64 t[3] = { 0, simple_madt(MADT_PA, 0, 1), simple_fadt(FADT_PA) };
	make_root(RSDT_PA, false, t, 3);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(fake_printk_contains("RSDT entry 0 is null"));
	ck_assert(info.has_madt && info.has_fadt);
}
END_TEST

/* ---- Bad tables ----------------------------------------------------------------- */

START_TEST(table_bad_checksum_skipped)
{
	u8 rsdp[20];
	simple_rsdt_world(rsdp);
	corrupt_checksum(MADT_PA);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(!info.has_madt);
	ck_assert_uint_eq(info.cpu_count, 0);
	ck_assert(info.has_fadt);
	ck_assert_uint_eq(info.table_count, 1);
	ck_assert(fake_printk_contains("APIC at 0x7fe2000: bad checksum"));
	ck_assert(fake_printk_contains("no MADT"));
}
END_TEST

START_TEST(table_header_length_too_short)
{
	u8 rsdp[20];
	u64 t[2] = { MISC_PA, simple_fadt(FADT_PA) };
	put_header(MISC_PA, "APIC", 20, 1);
	fix_checksum(MISC_PA);
	make_root(RSDT_PA, false, t, 2);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(!info.has_madt);
	ck_assert(info.has_fadt);
	ck_assert(fake_printk_contains("length 20 is shorter than its header"));
}
END_TEST

START_TEST(table_absurd_length)
{
	u8 rsdp[20];
	u64 t[2] = { simple_madt(MADT_PA, 0, 1), simple_fadt(FADT_PA) };
	ptr(MADT_PA, 36)[7] = 0x10; /* length 0x10000000 + the real one */
	make_root(RSDT_PA, false, t, 2);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	poison_lo = MADT_PA + 36;
	poison_hi = MADT_PA + 0x1000;
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(!poison_hit);
	ck_assert(!info.has_madt);
	ck_assert(info.has_fadt);
	ck_assert(fake_printk_contains("absurd length"));
}
END_TEST

START_TEST(table_pointer_into_unmapped_memory)
{
	u8 rsdp[36];
	u64 t[3] = { UNMAPPED, 0xFFFFFFFFFFFFFFF0ULL, simple_madt(MADT_PA, 0, 1) };
	make_root(XSDT_PA, true, t, 3);
	make_rsdp(rsdp, 2, 0, XSDT_PA);
	ck_assert_int_eq(parse_copy(rsdp, 36), 0);
	ck_assert(fake_printk_contains("table at 0x40000000 is not readable"));
	ck_assert(fake_printk_contains("table at 0xfffffffffffffff0 is not readable"));
	ck_assert(info.has_madt);
	ck_assert_uint_eq(info.table_count, 1);
}
END_TEST

START_TEST(table_running_into_unmapped_memory)
{
	u8 rsdp[20];
	u64 end_pa = TBL_BASE + TBL_SIZE - 64; /* header readable, body not */
	u64 t[2] = { end_pa, simple_fadt(FADT_PA) };
	put_header(end_pa, "SSDT", 4096, 1);
	make_root(RSDT_PA, false, t, 2);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert(fake_printk_contains("SSDT at 0x7ffffc0: length 4096 runs into unreadable memory"));
	ck_assert_uint_eq(info.table_count, 1);
	ck_assert(info.has_fadt);
}
END_TEST

START_TEST(table_list_overflow_still_parses)
{
	u8 rsdp[20];
	u64 t[ACPI_MAX_TABLES + 6];
	int n = (int)ARRAY_SIZE(t);
	for (int i = 0; i < n - 1; i++) {
		t[i] = MISC_PA + 64 * (u64)i;
		make_dummy(t[i], "SSDT", 40);
	}
	t[n - 1] = simple_madt(MADT_PA, 0, 1);
	make_root(RSDT_PA, false, t, n);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert_uint_eq(info.table_count, ACPI_MAX_TABLES);
	ck_assert(info.has_madt);
	ck_assert(fake_printk_contains("6 tables beyond 64 not listed"));
}
END_TEST

START_TEST(second_madt_ignored)
{
	u8 rsdp[20];
	u64 t[2] = { simple_madt(MADT_PA, 0, 1), simple_madt(MADT2_PA, 4, 5) };
	make_root(RSDT_PA, false, t, 2);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);
	ck_assert_uint_eq(info.cpu_count, 2);
	ck_assert_uint_eq(info.cpus[1].apic_id, 1);
	ck_assert(fake_printk_contains("second MADT"));
	ck_assert_uint_eq(info.table_count, 2);
}
END_TEST

/* ---- MADT --------------------------------------------------------------------- */

static int parse_with_madt(u64 madt_pa)
{
	static u8 rsdp[20];
	u64 t[1] = { madt_pa };
	make_root(RSDT_PA, false, t, 1);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	return parse_copy(rsdp, 20);
}

START_TEST(madt_all_entry_types)
{
	struct madt_b b;
	const u8 unknown[6] = { 0x10, 6, 1, 2, 3, 4 };
	madt_begin(&b, MADT_PA, 0xFEE00000, ACPI_MADT_PCAT_COMPAT);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_ioapic(&b, 8, 0xFEC00000, 0);
	madt_lapic(&b, 1, 2, ACPI_MADT_ENABLED);
	madt_x2apic(&b, 300, ACPI_MADT_ENABLED, 2);
	madt_ioapic(&b, 9, 0xFEC01000, 24);
	madt_iso(&b, 0, 2, 0);
	madt_iso(&b, 9, 9, 0xD);
	madt_raw(&b, unknown, sizeof(unknown));
	madt_nmi(&b, 0xFF, 5, 1);
	madt_x2nmi(&b, 2, 0, 0);
	madt_lapic_override(&b, 0xFEE10000ULL);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);

	ck_assert(info.has_madt);
	ck_assert_uint_eq(info.lapic_address, 0xFEE10000ULL);
	ck_assert(info.pcat_compat);
	ck_assert_uint_eq(info.madt_flags, ACPI_MADT_PCAT_COMPAT);

	ck_assert_uint_eq(info.cpu_count, 3);
	ck_assert_uint_eq(info.cpus_dropped, 0);
	ck_assert_uint_eq(info.cpus[0].apic_id, 0);
	ck_assert_uint_eq(info.cpus[1].apic_id, 2);
	ck_assert_uint_eq(info.cpus[1].uid, 1);
	ck_assert(!info.cpus[1].x2apic);
	ck_assert_uint_eq(info.cpus[2].apic_id, 300);
	ck_assert_uint_eq(info.cpus[2].uid, 2);
	ck_assert(info.cpus[2].x2apic);
	ck_assert(info.cpus[0].enabled && info.cpus[1].enabled && info.cpus[2].enabled);

	ck_assert_uint_eq(info.ioapic_count, 2);
	ck_assert_uint_eq(info.ioapics[0].id, 8);
	ck_assert_uint_eq(info.ioapics[0].address, 0xFEC00000);
	ck_assert_uint_eq(info.ioapics[0].gsi_base, 0);
	ck_assert_uint_eq(info.ioapics[1].id, 9);
	ck_assert_uint_eq(info.ioapics[1].gsi_base, 24);

	ck_assert_uint_eq(info.override_count, 2);
	ck_assert_uint_eq(info.overrides[0].source, 0);
	ck_assert_uint_eq(info.overrides[0].gsi, 2);
	ck_assert_uint_eq(info.overrides[1].source, 9);
	ck_assert_uint_eq(info.overrides[1].gsi, 9);
	ck_assert_uint_eq(info.overrides[1].flags, 0xD);
	ck_assert_uint_eq(info.overrides[1].bus, 0);

	ck_assert_uint_eq(info.nmi_count, 2);
	ck_assert_uint_eq(info.nmis[0].uid, ACPI_MADT_NMI_ALL_UID);
	ck_assert_uint_eq(info.nmis[0].flags, 5);
	ck_assert_uint_eq(info.nmis[0].lint, 1);
	ck_assert(!info.nmis[0].x2apic);
	ck_assert_uint_eq(info.nmis[1].uid, 2);
	ck_assert_uint_eq(info.nmis[1].lint, 0);
	ck_assert(info.nmis[1].x2apic);

	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(madt_longer_entries_accepted)
{
	/* A later revision may append fields; the known part is still used. */
	struct madt_b b;
	u8 e[12] = { ACPI_MADT_TYPE_LOCAL_APIC, 12, 3, 4, ACPI_MADT_ENABLED, 0, 0, 0, 0xEE, 0xEE, 0xEE, 0xEE };
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_raw(&b, e, sizeof(e));
	madt_lapic(&b, 5, 6, ACPI_MADT_ENABLED);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);
	ck_assert_uint_eq(info.cpu_count, 2);
	ck_assert_uint_eq(info.cpus[0].apic_id, 4);
	ck_assert_uint_eq(info.cpus[0].uid, 3);
	ck_assert_uint_eq(info.cpus[1].apic_id, 6);
	ck_assert(!info.pcat_compat);
}
END_TEST

START_TEST(madt_disabled_cpus)
{
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_lapic(&b, 1, 1, 0);                        /* unusable: dropped */
	madt_lapic(&b, 2, 2, ACPI_MADT_ONLINE_CAPABLE); /* hot-addable: kept, off */
	madt_x2apic(&b, 400, 0, 3);                     /* unusable: dropped */
	madt_x2apic(&b, 401, ACPI_MADT_ONLINE_CAPABLE, 4);
	madt_lapic(&b, 5, 1, ACPI_MADT_ENABLED); /* id 1 was never taken */
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);

	ck_assert_uint_eq(info.cpu_count, 4);
	ck_assert_uint_eq(info.cpus[0].apic_id, 0);
	ck_assert(info.cpus[0].enabled);
	ck_assert_uint_eq(info.cpus[1].apic_id, 2);
	ck_assert(!info.cpus[1].enabled);
	ck_assert_uint_eq(info.cpus[1].flags, ACPI_MADT_ONLINE_CAPABLE);
	ck_assert_uint_eq(info.cpus[2].apic_id, 401);
	ck_assert(!info.cpus[2].enabled);
	ck_assert_uint_eq(info.cpus[3].apic_id, 1);
	ck_assert(info.cpus[3].enabled);
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

START_TEST(madt_duplicate_and_broadcast_ids)
{
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 1, ACPI_MADT_ENABLED);
	madt_lapic(&b, 1, 1, ACPI_MADT_ENABLED);
	madt_x2apic(&b, 1, ACPI_MADT_ENABLED, 2);
	madt_lapic(&b, 3, 0xFF, ACPI_MADT_ENABLED);
	madt_x2apic(&b, 0xFFFFFFFF, ACPI_MADT_ENABLED, 4);
	madt_lapic(&b, 5, 3, ACPI_MADT_ENABLED);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);

	ck_assert_uint_eq(info.cpu_count, 2);
	ck_assert_uint_eq(info.cpus[0].apic_id, 1);
	ck_assert_uint_eq(info.cpus[0].uid, 0);
	ck_assert(!info.cpus[0].x2apic);
	ck_assert_uint_eq(info.cpus[1].apic_id, 3);
	ck_assert(fake_printk_contains("duplicate APIC id 1 (uid 1"));
	ck_assert(fake_printk_contains("duplicate APIC id 1 (uid 2"));
	ck_assert(fake_printk_contains("broadcast APIC id 0xff,"));
	ck_assert(fake_printk_contains("broadcast APIC id 0xffffffff"));
	ck_assert_int_eq(fake_printk_problems(), 4);
}
END_TEST

START_TEST(madt_more_cpus_than_supported)
{
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	for (u32 i = 0; i < HV_MAX_CPUS + 6; i++)
		madt_x2apic(&b, i * 2, ACPI_MADT_ENABLED, i);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);
	ck_assert_uint_eq(info.cpu_count, HV_MAX_CPUS);
	ck_assert_uint_eq(info.cpus_dropped, 6);
	ck_assert_uint_eq(info.cpus[HV_MAX_CPUS - 1].apic_id, (HV_MAX_CPUS - 1) * 2);
	ck_assert(fake_printk_contains("6 CPUs beyond HV_MAX_CPUS"));
}
END_TEST

START_TEST(madt_other_limits)
{
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	for (u32 i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
		madt_ioapic(&b, (u8)i, 0xFEC00000 + 0x1000 * i, 24 * i);
	for (u32 i = 0; i < ACPI_MAX_OVERRIDES + 3; i++)
		madt_iso(&b, (u8)i, i, 0);
	for (u32 i = 0; i < ACPI_MAX_NMIS + 4; i++)
		madt_nmi(&b, (u8)i, 0, 1);
	madt_nmi(&b, 0, 0, 2); /* LINT2 does not exist */
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);
	ck_assert_uint_eq(info.ioapic_count, ACPI_MAX_IOAPICS);
	ck_assert_uint_eq(info.override_count, ACPI_MAX_OVERRIDES);
	ck_assert_uint_eq(info.nmi_count, ACPI_MAX_NMIS);
	ck_assert(fake_printk_contains("2 IOAPICs beyond 16"));
	ck_assert(fake_printk_contains("3 interrupt overrides beyond 32"));
	ck_assert(fake_printk_contains("4 local APIC NMI entries beyond 16"));
	ck_assert(fake_printk_contains("LINT2 does not exist"));
}
END_TEST

START_TEST(madt_entry_length_zero)
{
	struct madt_b b;
	const u8 zero[2] = { ACPI_MADT_TYPE_LOCAL_APIC, 0 };
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_raw(&b, zero, sizeof(zero));
	madt_lapic(&b, 1, 1, ACPI_MADT_ENABLED);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);
	ck_assert(info.has_madt);
	ck_assert_uint_eq(info.cpu_count, 1);
	ck_assert(fake_printk_contains("offset 52 has length 0, stopping"));
}
END_TEST

START_TEST(madt_entry_runs_past_end)
{
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_ioapic(&b, 1, 0xFEC00000, 0);
	/* The table ends 6 bytes into the 12-byte IOAPIC entry. */
	poison_lo = MADT_PA + b.len - 6;
	poison_hi = MADT_PA + b.len;
	ck_assert_int_eq(parse_with_madt(madt_end(&b, b.len - 6)), 0);
	ck_assert(!poison_hit);
	ck_assert_uint_eq(info.cpu_count, 1);
	ck_assert_uint_eq(info.ioapic_count, 0);
	ck_assert(fake_printk_contains("runs past the end of the table (length 12, 6 bytes left)"));
}
END_TEST

START_TEST(madt_stray_trailing_byte)
{
	struct madt_b b;
	const u8 stray = 0;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_raw(&b, &stray, 1);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);
	ck_assert_uint_eq(info.cpu_count, 1);
	ck_assert(fake_printk_contains("1 stray bytes"));
}
END_TEST

START_TEST(madt_entry_shorter_than_type)
{
	struct madt_b b;
	const u8 short_ioapic[8] = { ACPI_MADT_TYPE_IO_APIC, 8, 1, 0, 0, 0, 0xC0, 0xFE };
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_raw(&b, short_ioapic, sizeof(short_ioapic));
	madt_lapic(&b, 1, 1, ACPI_MADT_ENABLED);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 0)), 0);
	ck_assert_uint_eq(info.cpu_count, 1);
	ck_assert_uint_eq(info.ioapic_count, 0);
	ck_assert(fake_printk_contains("has length 8, shorter than 12"));
}
END_TEST

START_TEST(madt_shorter_than_fixed_fields)
{
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, 0);
	ck_assert_int_eq(parse_with_madt(madt_end(&b, 40)), 0);
	ck_assert(!info.has_madt);
	ck_assert_uint_eq(info.table_count, 1);
	ck_assert(fake_printk_contains("too short for its fixed fields"));
}
END_TEST

/* ---- FADT --------------------------------------------------------------------- */

static int parse_with_fadt(u64 fadt_pa)
{
	static u8 rsdp[20];
	u64 t[1] = { fadt_pa };
	make_root(RSDT_PA, false, t, 1);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	return parse_copy(rsdp, 20);
}

static void gas(struct acpi_generic_address *g, u8 space, u8 width, u64 addr)
{
	memset(g, 0, sizeof(*g));
	g->space_id = space;
	g->bit_width = width;
	g->address = addr;
}

START_TEST(fadt_full)
{
	struct acpi_table_fadt f;
	fadt_init(&f);
	f.pm_tmr_blk = 0x608;
	gas(&f.x_pm_tmr_blk, ACPI_ADR_SPACE_SYSTEM_IO, 32, 0xB008);
	f.flags = ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP;
	gas(&f.reset_reg, ACPI_ADR_SPACE_SYSTEM_IO, 8, 0xCF9);
	f.reset_value = 6;
	f.sci_int = 9;
	f.dsdt = 0x7FE5000;
	f.x_dsdt = 0x7FE5000;
	f.x_firmware_ctrl = 0x7FE6000;
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, sizeof(f), 6)), 0);

	ck_assert(info.has_fadt);
	ck_assert_uint_eq(info.fadt_revision, 6);
	ck_assert_uint_eq(info.fadt_length, 276);
	ck_assert_uint_eq(info.pm_timer_port, 0xB008);
	ck_assert(info.pm_timer_32bit);
	ck_assert(info.reset_supported);
	ck_assert_uint_eq(info.reset_reg.space_id, ACPI_ADR_SPACE_SYSTEM_IO);
	ck_assert_uint_eq(info.reset_reg.address, 0xCF9);
	ck_assert_uint_eq(info.reset_value, 6);
	ck_assert_uint_eq(info.sci_irq, 9);
	ck_assert_uint_eq(info.dsdt_phys, 0x7FE5000);
	ck_assert_uint_eq(info.facs_phys, 0x7FE6000);
	ck_assert_int_eq(fake_printk_problems(), 1); /* "no MADT" */
	ck_assert(fake_printk_contains("no MADT"));
}
END_TEST

START_TEST(fadt_revision1_short_gives_pm_timer)
{
	struct acpi_table_fadt f;
	fadt_init(&f);
	f.pm_tmr_blk = 0x808;
	f.flags = ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP;
	f.sci_int = 9;
	f.dsdt = 0x7FE5000;
	f.firmware_ctrl = 0x7FE6000;
	/* Past the 116 bytes: data that a careless parser would pick up. */
	gas(&f.reset_reg, ACPI_ADR_SPACE_SYSTEM_IO, 8, 0xCF9);
	gas(&f.x_pm_tmr_blk, ACPI_ADR_SPACE_SYSTEM_IO, 32, 0xDEAD);
	f.x_dsdt = 0x12345000;
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, ACPI_FADT_V1_LENGTH, 1)), 0);

	ck_assert(info.has_fadt);
	ck_assert_uint_eq(info.pm_timer_port, 0x808);
	ck_assert(info.pm_timer_32bit);
	ck_assert(!info.reset_supported);
	ck_assert_uint_eq(info.sci_irq, 9);
	ck_assert_uint_eq(info.dsdt_phys, 0x7FE5000);
	ck_assert_uint_eq(info.facs_phys, 0x7FE6000);
	ck_assert(fake_printk_contains("does not cover RESET_REG"));
	ck_assert(!fake_printk_contains("shorter than ACPI 1.0"));
}
END_TEST

START_TEST(fadt_truncated_below_v1)
{
	struct acpi_table_fadt f;
	fadt_init(&f);
	f.pm_tmr_blk = 0x808;
	f.flags = ACPI_FADT_TMR_VAL_EXT; /* at 112: beyond the table */
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, 80, 1)), 0);
	ck_assert(info.has_fadt);
	ck_assert_uint_eq(info.pm_timer_port, 0x808);
	ck_assert(!info.pm_timer_32bit);
	ck_assert_uint_eq(info.fadt_flags, 0);
	ck_assert(fake_printk_contains("FADT length 80 is shorter than ACPI 1.0"));

	/* PM_TMR_BLK only half inside the table must not be used. */
	fake_printk_reset();
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, 78, 1)), 0);
	ck_assert(info.has_fadt);
	ck_assert_uint_eq(info.pm_timer_port, 0);

	/* Nothing but the header. */
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, 36, 1)), 0);
	ck_assert(info.has_fadt);
	ck_assert_uint_eq(info.pm_timer_port, 0);
	ck_assert_uint_eq(info.sci_irq, 0);
}
END_TEST

START_TEST(fadt_pm_timer_address_spaces)
{
	struct acpi_table_fadt f;
	fadt_init(&f);
	f.pm_tmr_blk = 0x608;
	gas(&f.x_pm_tmr_blk, ACPI_ADR_SPACE_SYSTEM_MEMORY, 32, 0xFED00000);
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, sizeof(f), 5)), 0);
	ck_assert_uint_eq(info.pm_timer_port, 0x608);

	gas(&f.x_pm_tmr_blk, ACPI_ADR_SPACE_SYSTEM_IO, 32, 0x12345);
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, sizeof(f), 5)), 0);
	ck_assert_uint_eq(info.pm_timer_port, 0);
	ck_assert(fake_printk_contains("not an I/O port"));
}
END_TEST

START_TEST(fadt_conflicting_dsdt_addresses)
{
	struct acpi_table_fadt f;
	fadt_init(&f);
	f.dsdt = 0x7FE5000;
	f.x_dsdt = 0x7FE7000;
	f.flags = ACPI_FADT_RESET_REG_SUP; /* with a zero RESET_REG */
	ck_assert_int_eq(parse_with_fadt(put_fadt(FADT_PA, &f, sizeof(f), 5)), 0);
	ck_assert_uint_eq(info.dsdt_phys, 0x7FE7000);
	ck_assert(fake_printk_contains("X_DSDT"));
	ck_assert(!info.reset_supported);
	ck_assert(fake_printk_contains("zero RESET_REG address"));
}
END_TEST

/* ---- Log summary ---------------------------------------------------------------- */

static bool lines_shorter_than(const char *text, size_t max)
{
	size_t run = 0;
	for (; *text; text++) {
		run = *text == '\n' ? 0 : run + 1;
		if (run >= max)
			return false;
	}
	return true;
}

START_TEST(log_summary_lines)
{
	u8 rsdp[20];
	struct madt_b b;
	madt_begin(&b, MADT_PA, 0xFEE00000, ACPI_MADT_PCAT_COMPAT);
	madt_lapic(&b, 0, 0, ACPI_MADT_ENABLED);
	madt_lapic(&b, 1, 2, ACPI_MADT_ONLINE_CAPABLE);
	madt_x2apic(&b, 300, ACPI_MADT_ENABLED, 2);
	for (u32 i = 0; i < 40; i++)
		madt_x2apic(&b, 1000000 + i, ACPI_MADT_ENABLED, 3 + i);
	madt_ioapic(&b, 8, 0xFEC00000, 0);
	madt_iso(&b, 0, 2, 0);
	madt_iso(&b, 9, 9, 0xD);
	u64 t[2] = { simple_fadt(FADT_PA), madt_end(&b, 0) };
	make_root(RSDT_PA, false, t, 2);
	make_rsdp(rsdp, 0, (u32)RSDT_PA, 0);
	ck_assert_int_eq(parse_copy(rsdp, 20), 0);

	fake_printk_reset();
	acpi_log_summary(&info);
	ck_assert(fake_printk_contains("RSDP copy, revision 0, OEM 'HVTEST'; RSDT at 0x7fe0000"));
	ck_assert(fake_printk_contains("tables: FACP@0x7fe1000 APIC@0x7fe2000"));
	ck_assert(fake_printk_contains("43 CPUs (42 enabled"));
	ck_assert(fake_printk_contains("APIC ids: 0 2(off) 300 1000000"));
	ck_assert(fake_printk_contains("1000039"));
	ck_assert(fake_printk_contains("IOAPIC id 8 at 0xfec00000, GSI base 0"));
	ck_assert(fake_printk_contains("overrides: irq0->gsi2 irq9->gsi9/0xd"));
	ck_assert(fake_printk_contains("PM timer port 0x608 (24-bit), SCI 9"));
	ck_assert(lines_shorter_than(fake_printk_text(), 120));
	ck_assert_int_eq(fake_printk_problems(), 0);
}
END_TEST

/* ---- Runner --------------------------------------------------------------------- */

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc;

	tc = tcase_create("rsdp");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rsdp_found_in_ebda_first);
	tcase_add_test(tc, rsdp_found_in_bios_area);
	tcase_add_test(tc, rsdp_bogus_ebda_segment_still_searches_bios);
	tcase_add_test(tc, rsdp_unaligned_not_found);
	tcase_add_test(tc, rsdp_bad_v1_checksum_skipped);
	tcase_add_test(tc, rsdp_bad_v2_checksum_rejected);
	tcase_add_test(tc, rsdp_v2_absurd_length_rejected);
	tcase_add_test(tc, rsdp_not_found_in_unmapped_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("root");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse_v1_copy_uses_rsdt);
	tcase_add_test(tc, parse_by_physical_address);
	tcase_add_test(tc, parse_prefers_xsdt);
	tcase_add_test(tc, parse_rsdt_when_xsdt_absent_or_rev0);
	tcase_add_test(tc, parse_bad_rsdp_copy);
	tcase_add_test(tc, parse_bad_rsdt_is_fatal);
	tcase_add_test(tc, parse_rsdt_unmapped_or_wrong_signature_is_fatal);
	tcase_add_test(tc, parse_bad_xsdt_falls_back_to_rsdt);
	tcase_add_test(tc, root_entries_beyond_length_never_read);
	tcase_add_test(tc, root_null_entry_skipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, table_bad_checksum_skipped);
	tcase_add_test(tc, table_header_length_too_short);
	tcase_add_test(tc, table_absurd_length);
	tcase_add_test(tc, table_pointer_into_unmapped_memory);
	tcase_add_test(tc, table_running_into_unmapped_memory);
	tcase_add_test(tc, table_list_overflow_still_parses);
	tcase_add_test(tc, second_madt_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("madt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, madt_all_entry_types);
	tcase_add_test(tc, madt_longer_entries_accepted);
	tcase_add_test(tc, madt_disabled_cpus);
	tcase_add_test(tc, madt_duplicate_and_broadcast_ids);
	tcase_add_test(tc, madt_more_cpus_than_supported);
	tcase_add_test(tc, madt_other_limits);
	tcase_add_test(tc, madt_entry_length_zero);
	tcase_add_test(tc, madt_entry_runs_past_end);
	tcase_add_test(tc, madt_stray_trailing_byte);
	tcase_add_test(tc, madt_entry_shorter_than_type);
	tcase_add_test(tc, madt_shorter_than_fixed_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("fadt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fadt_full);
	tcase_add_test(tc, fadt_revision1_short_gives_pm_timer);
	tcase_add_test(tc, fadt_truncated_below_v1);
	tcase_add_test(tc, fadt_pm_timer_address_spaces);
	tcase_add_test(tc, fadt_conflicting_dsdt_addresses);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, log_summary_lines);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acpi_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
