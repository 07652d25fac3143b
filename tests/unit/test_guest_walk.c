/* unit-sources: kernel/vm/guest_walk.c kernel/lib/format.c tests/unit/fake_printk.c */
/* The guest page-table walker against hand-built tables in a fake guest RAM,
 * one group per paging mode, then the permission rules (SDM Vol. 3A 4.6) and
 * the exact #PF error codes (4.7), the A/D updater and the text form. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vm/guest_walk.h"

/* Architectural bits, spelled out here rather than taken from the code under
 * test. */
#define CR0_PE (1ULL << 0)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define CR4_PKE (1ULL << 22)
#define CR4_PKS (1ULL << 24)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define RFLAGS_AC (1ULL << 18)

#define P GW_PTE_P
#define RW GW_PTE_RW
#define US GW_PTE_US
#define PS GW_PTE_PS
#define XD GW_PTE_XD
#define TF (P | RW | US) /* a table entry that restricts nothing */

/* ---- fake guest RAM -------------------------------------------------------
 * [0, MEM_SIZE) is RAM; anything else is "not guest RAM".  The buffer is
 * exactly that big so ASan also catches a bypass of the reader. */
#define MEM_SIZE (64 * 4096u)

static u8 *mem;
static unsigned reads;

static bool fake_read(void *ctx, u64 pa, void *out, size_t len)
{
	(void)ctx;
	reads++;
	if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
		return false;
	memcpy(out, mem + pa, len);
	return true;
}

static const struct phys_reader reader = { fake_read, NULL };

static void w64(u64 pa, u64 v)
{
	ck_assert_uint_le(pa + 8, MEM_SIZE);
	memcpy(mem + pa, &v, 8);
}

static u64 r64(u64 pa)
{
	u64 v;
	memcpy(&v, mem + pa, 8);
	return v;
}

static void w32(u64 pa, u32 v)
{
	ck_assert_uint_le(pa + 4, MEM_SIZE);
	memcpy(mem + pa, &v, 4);
}

static u32 r32(u64 pa)
{
	u32 v;
	memcpy(&v, mem + pa, 4);
	return v;
}

static void set64(u64 pa, u64 bits) { w64(pa, r64(pa) | bits); }
static void clr64(u64 pa, u64 bits) { w64(pa, r64(pa) & ~bits); }

static struct guest_walk_caps caps;
static struct guest_paging_regs regs;
static struct guest_walk_result res;

static void setup(void)
{
	mem = calloc(1, MEM_SIZE);
	reads = 0;
	caps = (struct guest_walk_caps){ .maxphyaddr = 46, .page_1g = true };
	memset(&regs, 0, sizeof(regs));
	memset(&res, 0xa5, sizeof(res));
}

static void teardown(void)
{
	free(mem);
}

enum who { SUP, USR, IMPL };

static enum guest_walk_status walk(u64 gva, enum guest_access_kind kind, enum who who)
{
	struct guest_access a = { .kind = kind, .user = who != SUP, .implicit = who == IMPL };
	enum guest_walk_status st = guest_walk(&reader, &caps, &regs, gva, a, &res);
	ck_assert_int_eq(st, res.status);
	return st;
}

#define R GW_ACCESS_READ
#define W GW_ACCESS_WRITE
#define X GW_ACCESS_FETCH

/* Asserts a #PF with this exact error code and reason. */
#define ck_pf(ec, why)                                                                 \
	do {                                                                           \
		ck_assert_int_eq(res.status, GW_PAGE_FAULT);                           \
		ck_assert_msg(res.error_code == (ec), "error code 0x%x, want 0x%x",    \
			      res.error_code, (unsigned)(ec));                         \
		ck_assert_int_eq(res.reason, (why));                                   \
	} while (0)

/* ---- 4-level and 5-level layout ------------------------------------------ */
#define PML5 0x5000ULL
#define PML4 0x1000ULL
#define PDPT 0x2000ULL
#define PD 0x3000ULL
#define PT 0x4000ULL

static const u64 tables4[] = { 0, PT, PD, PDPT, PML4, PML5 };

static u64 idx9(u64 gva, unsigned level)
{
	return (gva >> (12 + 9 * (level - 1))) & 511;
}

/* Address of the entry for gva at a level of the standard layout. */
static u64 ent(u64 gva, unsigned level)
{
	return tables4[level] + 8 * idx9(gva, level);
}

static void long_mode(void)
{
	regs.cr0 = CR0_PE | CR0_PG | CR0_WP;
	regs.cr4 = CR4_PAE;
	regs.efer = EFER_LME | EFER_LMA | EFER_NXE;
	regs.cr3 = PML4;
}

static void five_level(void)
{
	long_mode();
	regs.cr4 |= CR4_LA57;
	regs.cr3 = PML5;
}

/* Maps gva to a 4K page at gpa with leaf flags, and links a PML5E too so the
 * same tables serve 5-level paging. */
static void map4k(u64 gva, u64 gpa, u64 flags)
{
	w64(ent(gva, 5), PML4 | TF);
	w64(ent(gva, 4), PDPT | TF);
	w64(ent(gva, 3), PD | TF);
	w64(ent(gva, 2), PT | TF);
	w64(ent(gva, 1), gpa | flags);
}

static void map2m(u64 gva, u64 gpa, u64 flags)
{
	w64(ent(gva, 4), PDPT | TF);
	w64(ent(gva, 3), PD | TF);
	w64(ent(gva, 2), gpa | PS | flags);
}

#define GVA 0x00007f1234567abcULL
#define PAGE 0x123456000ULL

START_TEST(test_4level_4k)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | US);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, PAGE | 0xabc);
	ck_assert_uint_eq(res.page_size, 4096);
	ck_assert_int_eq(res.mode, GW_MODE_4LEVEL);
	ck_assert_uint_eq(res.nlevels, 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(res.levels[i].level, 4 - i);
		ck_assert_uint_eq(res.levels[i].gpa, ent(GVA, 4 - i));
		ck_assert_uint_eq(res.levels[i].value, r64(ent(GVA, 4 - i)));
		ck_assert(res.levels[i].leaf == (i == 3));
	}
	ck_assert(res.translated && res.writable && res.user && res.executable);
	ck_assert_uint_eq(res.error_code, 0);
	ck_assert_uint_eq(reads, 4);
	/* No A flag anywhere yet; a read dirties nothing. */
	ck_assert_uint_eq(res.set_accessed, 0xF);
	ck_assert(!res.set_dirty);
	ck_assert_int_eq(walk(GVA, W, USR), GW_OK);
	ck_assert(res.set_dirty);
}
END_TEST

START_TEST(test_4level_upper_half)
{
	u64 gva = 0xffff800000201000ULL;
	long_mode();
	map4k(gva, 0x7000, P);
	ck_assert_int_eq(walk(gva + 0x10, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x7010);
	ck_assert_uint_eq(res.levels[0].gpa, PML4 + 8 * 256);
}
END_TEST

START_TEST(test_4level_2m)
{
	long_mode();
	map2m(GVA, 0x40000000, P | RW);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x40000000 | (GVA & 0x1fffff));
	ck_assert_uint_eq(res.page_size, 2 * MIB);
	ck_assert_uint_eq(res.nlevels, 3);
	ck_assert(res.levels[2].leaf);
	ck_assert(!res.user);
	ck_assert_uint_eq(res.pat_index, 0);
	/* Bit 12 of a large leaf is PAT, not an address bit. */
	set64(ent(GVA, 2), GW_PTE_PAT_LARGE | GW_PTE_PCD);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x40000000 | (GVA & 0x1fffff));
	ck_assert_uint_eq(res.pat_index, 6);
	ck_assert_int_eq(walk(GVA & ~0x1000ULL, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x40000000 | (GVA & 0x1fefff));
	/* ...but 20:13 are reserved. */
	set64(ent(GVA, 2), 1ULL << 13);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.reserved_bits, 1ULL << 13);
	ck_assert(!res.translated);
}
END_TEST

START_TEST(test_4k_pat_bit7)
{
	long_mode();
	map4k(GVA, PAGE, P | GW_PTE_PAT_4K | GW_PTE_PWT);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.pat_index, 5);
	ck_assert_uint_eq(res.page_size, 4096);
	ck_assert_uint_eq(res.gpa, PAGE | 0xabc);
}
END_TEST

START_TEST(test_4level_1g)
{
	long_mode();
	w64(ent(GVA, 4), PDPT | TF);
	w64(ent(GVA, 3), 0x80000000ULL | PS | P | RW | US);
	ck_assert_int_eq(walk(GVA, R, USR), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x80000000ULL | (GVA & 0x3fffffff));
	ck_assert_uint_eq(res.page_size, GIB);
	ck_assert_uint_eq(res.nlevels, 2);
	/* Without 1-GByte page support PS in a PDPTE is reserved. */
	caps.page_1g = false;
	ck_assert_int_eq(walk(GVA, R, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD | GW_PF_U, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.reserved_bits, PS);
	caps.page_1g = true;
	set64(ent(GVA, 3), 1ULL << 29);
	ck_assert_int_eq(walk(GVA, R, USR), GW_PAGE_FAULT);
	ck_assert_uint_eq(res.reserved_bits, 1ULL << 29);
}
END_TEST

START_TEST(test_not_present_each_level)
{
	long_mode();
	for (unsigned level = 4; level >= 1; level--) {
		memset(mem, 0, MEM_SIZE);
		map4k(GVA, PAGE, P | RW | US);
		clr64(ent(GVA, level), P);
		ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
		ck_pf(GW_PF_W | GW_PF_U, GW_FAULT_NOT_PRESENT);
		ck_assert_uint_eq(res.nlevels, 5 - level);
		ck_assert_uint_eq(res.levels[res.nlevels - 1].level, level);
		ck_assert(!res.translated);
		/* Reserved bits are not checked in a not-present entry. */
		set64(ent(GVA, level), 1ULL << 50 | PS);
		ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
		ck_pf(0, GW_FAULT_NOT_PRESENT);
	}
}
END_TEST

START_TEST(test_5level)
{
	u64 gva = 0x00abcdef12345678ULL; /* canonical only with 57 bits */
	five_level();
	map4k(gva, PAGE, P | RW);
	ck_assert_int_eq(walk(gva, R, SUP), GW_OK);
	ck_assert_int_eq(res.mode, GW_MODE_5LEVEL);
	ck_assert_uint_eq(res.gpa, PAGE | 0x678);
	ck_assert_uint_eq(res.nlevels, 5);
	ck_assert_uint_eq(res.levels[0].level, 5);
	ck_assert_uint_eq(res.levels[0].gpa, PML5 + 8 * idx9(gva, 5));
	/* PS is reserved in a PML5E and a PML4E. */
	set64(ent(gva, 5), PS);
	ck_assert_int_eq(walk(gva, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.nlevels, 1);
	clr64(ent(gva, 5), PS);
	set64(ent(gva, 4), PS);
	ck_assert_int_eq(walk(gva, R, SUP), GW_PAGE_FAULT);
	ck_assert_uint_eq(res.nlevels, 2);
	ck_assert_uint_eq(res.reserved_bits, PS);
	clr64(ent(gva, 4), PS);
	clr64(ent(gva, 5), P);
	ck_assert_int_eq(walk(gva, R, SUP), GW_PAGE_FAULT);
	ck_pf(0, GW_FAULT_NOT_PRESENT);
}
END_TEST

START_TEST(test_noncanonical)
{
	long_mode();
	reads = 0;
	ck_assert_int_eq(walk(0x0000800000000000ULL, R, SUP), GW_NONCANONICAL);
	ck_assert_int_eq(walk(0xffff7fffffffffffULL, R, SUP), GW_NONCANONICAL);
	ck_assert_int_eq(walk(0x8000000000000000ULL, X, USR), GW_NONCANONICAL);
	ck_assert_uint_eq(res.nlevels, 0);
	ck_assert_uint_eq(res.error_code, 0);
	ck_assert_uint_eq(reads, 0);
	/* The edges of the canonical halves are walked (and unmapped here). */
	ck_assert_int_eq(walk(0x00007fffffffffffULL, R, SUP), GW_PAGE_FAULT);
	ck_assert_int_eq(walk(0xffff800000000000ULL, R, SUP), GW_PAGE_FAULT);
	/* With LA57 the boundary moves to bit 56. */
	five_level();
	ck_assert_int_eq(walk(0x0000800000000000ULL, R, SUP), GW_PAGE_FAULT);
	ck_assert_int_eq(walk(0xff00000000000000ULL, R, SUP), GW_PAGE_FAULT);
	ck_assert_int_eq(walk(0x0100000000000000ULL, R, SUP), GW_NONCANONICAL);
	ck_assert_int_eq(walk(0xfeffffffffffffffULL, R, SUP), GW_NONCANONICAL);
}
END_TEST

START_TEST(test_write_read_only)
{
	long_mode();
	map4k(GVA, PAGE, P | US);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W, GW_FAULT_READ_ONLY);
	ck_assert(res.translated && !res.writable);
	ck_assert_uint_eq(res.gpa, PAGE | 0xabc);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W | GW_PF_U, GW_FAULT_READ_ONLY);
	/* CR0.WP = 0 lets supervisor writes through, never user writes. */
	regs.cr0 &= ~CR0_WP;
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	ck_assert(!res.writable);
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W | GW_PF_U, GW_FAULT_READ_ONLY);
}
END_TEST

START_TEST(test_read_only_upper_level)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | US);
	clr64(ent(GVA, 3), RW); /* R/W is ANDed over all levels */
	ck_assert_int_eq(walk(GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W, GW_FAULT_READ_ONLY);
	ck_assert(!res.writable && res.user);
	ck_assert_int_eq(walk(GVA, R, USR), GW_OK);
}
END_TEST

START_TEST(test_user_to_supervisor)
{
	long_mode();
	for (unsigned level = 4; level >= 1; level--) {
		map4k(GVA, PAGE, P | RW | US);
		clr64(ent(GVA, level), US);
		ck_assert_int_eq(walk(GVA, R, USR), GW_PAGE_FAULT);
		ck_pf(GW_PF_P | GW_PF_U, GW_FAULT_USER_SUPERVISOR);
		ck_assert(!res.user && res.translated);
		ck_assert_int_eq(walk(GVA, X, USR), GW_PAGE_FAULT);
		ck_pf(GW_PF_P | GW_PF_U | GW_PF_ID, GW_FAULT_USER_SUPERVISOR);
		ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
		/* An implicit access at CPL 3 is a supervisor access. */
		ck_assert_int_eq(walk(GVA, R, IMPL), GW_OK);
	}
}
END_TEST

START_TEST(test_nx)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | US);
	set64(ent(GVA, 2), XD); /* XD is ORed over all levels */
	ck_assert_int_eq(walk(GVA, X, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_ID, GW_FAULT_XD);
	ck_assert(!res.executable);
	ck_assert_int_eq(walk(GVA, X, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_U | GW_PF_ID, GW_FAULT_XD);
	ck_assert_int_eq(walk(GVA, R, USR), GW_OK);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	/* With EFER.NXE = 0 the XD bit is reserved: every access faults. */
	regs.efer &= ~EFER_NXE;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.reserved_bits, XD);
	ck_assert_uint_eq(res.nlevels, 3);
	/* ...and a fetch then carries no I/D (no SMEP, no NXE). */
	ck_assert_int_eq(walk(GVA, X, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
	clr64(ent(GVA, 2), XD);
	ck_assert_int_eq(walk(GVA, X, SUP), GW_OK);
	ck_assert(res.executable);
}
END_TEST

START_TEST(test_id_flag_rules)
{
	long_mode();
	regs.efer &= ~EFER_NXE;
	ck_assert_int_eq(walk(GVA, X, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_U, GW_FAULT_NOT_PRESENT);
	regs.cr4 |= CR4_SMEP;
	ck_assert_int_eq(walk(GVA, X, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_U | GW_PF_ID, GW_FAULT_NOT_PRESENT);
	regs.cr4 &= ~CR4_SMEP;
	regs.efer |= EFER_NXE;
	ck_assert_int_eq(walk(GVA, X, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_ID, GW_FAULT_NOT_PRESENT);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(0, GW_FAULT_NOT_PRESENT);
}
END_TEST

START_TEST(test_smep)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | US);
	ck_assert_int_eq(walk(GVA, X, SUP), GW_OK);
	regs.cr4 |= CR4_SMEP;
	ck_assert_int_eq(walk(GVA, X, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_ID, GW_FAULT_SMEP);
	/* SMEP is about fetches only, and only from user-mode addresses. */
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_int_eq(walk(GVA, X, USR), GW_OK);
	clr64(ent(GVA, 1), US);
	ck_assert_int_eq(walk(GVA, X, SUP), GW_OK);
	/* I/D is set with SMEP even when NXE is off. */
	set64(ent(GVA, 1), US);
	regs.efer &= ~EFER_NXE;
	ck_assert_int_eq(walk(GVA, X, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_ID, GW_FAULT_SMEP);
}
END_TEST

START_TEST(test_smap)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | US);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	regs.cr4 |= CR4_SMAP;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P, GW_FAULT_SMAP);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W, GW_FAULT_SMAP);
	/* RFLAGS.AC lifts SMAP for explicit accesses only. */
	regs.rflags = RFLAGS_AC | 0x2;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	ck_assert_int_eq(walk(GVA, R, IMPL), GW_PAGE_FAULT);
	ck_pf(GW_PF_P, GW_FAULT_SMAP); /* implicit at CPL 3: U/S = 0 */
	/* SMAP does not cover fetches or user-mode accesses. */
	regs.rflags = 0x2;
	ck_assert_int_eq(walk(GVA, X, SUP), GW_OK);
	ck_assert_int_eq(walk(GVA, W, USR), GW_OK);
	/* Supervisor pages are unaffected. */
	clr64(ent(GVA, 4), US);
	ck_assert_int_eq(walk(GVA, R, IMPL), GW_OK);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	/* AC does not override R/W under CR0.WP. */
	map4k(GVA, PAGE, P | US);
	regs.rflags = RFLAGS_AC;
	ck_assert_int_eq(walk(GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W, GW_FAULT_READ_ONLY);
	/* Without SMAP an implicit access to a user page is fine. */
	regs.cr4 &= ~CR4_SMAP;
	regs.rflags = 0;
	ck_assert_int_eq(walk(GVA, R, IMPL), GW_OK);
}
END_TEST

START_TEST(test_reserved_above_maxphyaddr)
{
	long_mode();
	caps.maxphyaddr = 36;
	map4k(GVA, PAGE | (1ULL << 40), P);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.reserved_bits, 1ULL << 40);
	ck_assert_uint_eq(res.nlevels, 4);
	caps.maxphyaddr = 46;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, PAGE | (1ULL << 40) | 0xabc);
	/* Bit 51 is reserved below MAXPHYADDR 52 but an address bit at 52. */
	map4k(GVA, PAGE | (1ULL << 51), P);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	caps.maxphyaddr = 52;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, PAGE | (1ULL << 51) | 0xabc);
	/* In 4-level paging bits 62:52 are ignored, not reserved. */
	map4k(GVA, PAGE | (0x7FFULL << 52), P);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, PAGE | 0xabc);
	/* A reserved bit in a top-level entry stops the walk there. */
	caps.maxphyaddr = 40;
	map4k(GVA, PAGE, P);
	set64(ent(GVA, 4), 1ULL << 45);
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD | GW_PF_W | GW_PF_U, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.nlevels, 1);
}
END_TEST

START_TEST(test_table_outside_ram)
{
	long_mode();
	map4k(GVA, PAGE, P);
	w64(ent(GVA, 3), 0x80000000ULL | TF);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_TABLE_UNREADABLE);
	ck_assert_uint_eq(res.unreadable_gpa, 0x80000000ULL + 8 * idx9(GVA, 2));
	ck_assert_uint_eq(res.nlevels, 2);
	ck_assert(!res.translated);
	ck_assert_uint_eq(res.error_code, 0);
	/* CR3 itself outside RAM. */
	regs.cr3 = 0x7fff000;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_TABLE_UNREADABLE);
	ck_assert_uint_eq(res.unreadable_gpa, 0x7fff000 + 8 * idx9(GVA, 4));
	ck_assert_uint_eq(res.nlevels, 0);
}
END_TEST

START_TEST(test_paging_off)
{
	regs.cr0 = CR0_PE;
	regs.cr3 = 0xdead000; /* never used */
	reads = 0;
	ck_assert_int_eq(walk(0x123456789ULL, W, USR), GW_OK);
	ck_assert_int_eq(res.mode, GW_MODE_NONE);
	ck_assert_uint_eq(res.gva, 0x23456789);
	ck_assert_uint_eq(res.gpa, 0x23456789);
	ck_assert(res.translated && res.writable && res.user && res.executable);
	ck_assert_uint_eq(res.nlevels, 0);
	ck_assert_uint_eq(res.page_size, 4096); /* callers split accesses by it */
	ck_assert_uint_eq(reads, 0);
	regs.cr0 = 0; /* real mode */
	ck_assert_int_eq(walk(0xffff0, X, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0xffff0);
}
END_TEST

START_TEST(test_bad_regs)
{
	long_mode();
	map4k(GVA, PAGE, P);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	regs.cr4 &= ~CR4_PAE; /* long mode requires PAE */
	ck_assert_int_eq(walk(GVA, R, SUP), GW_BAD_REGS);
	long_mode();
	regs.efer &= ~EFER_LMA; /* LMA must equal LME while paging */
	ck_assert_int_eq(walk(GVA, R, SUP), GW_BAD_REGS);
	long_mode();
	regs.cr0 &= ~CR0_PE; /* PG needs PE */
	ck_assert_int_eq(walk(GVA, R, SUP), GW_BAD_REGS);
	long_mode();
	regs.cr0 &= ~CR0_PG; /* LMA without paging */
	ck_assert_int_eq(walk(GVA, R, SUP), GW_BAD_REGS);
	long_mode();
	caps.maxphyaddr = 53;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_BAD_REGS);
	caps.maxphyaddr = 31;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_BAD_REGS);
	ck_assert(!res.translated);
}
END_TEST

/* ---- PAE ------------------------------------------------------------------- */
/* The PDPT is 32-byte aligned, deliberately not page aligned. */
#define PAE_PDPT 0x6020ULL
#define PAE_PD 0x7000ULL
#define PAE_PT 0x8000ULL
#define PAE_GVA 0xC0345678ULL

static void pae_mode(void)
{
	regs.cr0 = CR0_PE | CR0_PG | CR0_WP;
	regs.cr4 = CR4_PAE;
	regs.efer = EFER_NXE;
	regs.cr3 = PAE_PDPT;
}

static u64 pae_ent(u64 gva, unsigned level)
{
	switch (level) {
	case 3:
		return PAE_PDPT + 8 * ((gva >> 30) & 3);
	case 2:
		return PAE_PD + 8 * idx9(gva, 2);
	default:
		return PAE_PT + 8 * idx9(gva, 1);
	}
}

static void pae_map4k(u64 gva, u64 gpa, u64 flags)
{
	w64(pae_ent(gva, 3), PAE_PD | P); /* R/W, U/S are reserved in a PDPTE */
	w64(pae_ent(gva, 2), PAE_PT | TF);
	w64(pae_ent(gva, 1), gpa | flags);
}

START_TEST(test_pae_4k)
{
	pae_mode();
	caps.maxphyaddr = 36;
	pae_map4k(PAE_GVA, 0x345678000ULL, P | RW | US);
	ck_assert_int_eq(walk(PAE_GVA, W, USR), GW_OK);
	ck_assert_int_eq(res.mode, GW_MODE_PAE);
	ck_assert_uint_eq(res.gpa, 0x345678678ULL); /* above 4 GiB */
	ck_assert_uint_eq(res.nlevels, 3);
	ck_assert_uint_eq(res.levels[0].level, 3);
	ck_assert_uint_eq(res.levels[0].gpa, PAE_PDPT + 24);
	ck_assert(!res.levels[0].from_regs);
	ck_assert(res.user && res.writable); /* the PDPTE has no U/S or R/W */
	/* PDPTEs have no A flag. */
	ck_assert_uint_eq(res.set_accessed, 0x6);
	/* Linear addresses are 32 bits outside long mode. */
	ck_assert_int_eq(walk(0xABC00000000ULL | PAE_GVA, R, USR), GW_OK);
	ck_assert_uint_eq(res.gva, PAE_GVA);
	ck_assert_uint_eq(res.gpa, 0x345678678ULL);
}
END_TEST

START_TEST(test_pae_2m)
{
	pae_mode();
	pae_map4k(PAE_GVA, 0, P);
	w64(pae_ent(PAE_GVA, 2), 0x1400000ULL | PS | P | GW_PTE_PAT_LARGE);
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x1400000ULL | (PAE_GVA & 0x1fffff));
	ck_assert_uint_eq(res.page_size, 2 * MIB);
	ck_assert_uint_eq(res.pat_index, 4);
	ck_assert_uint_eq(res.nlevels, 2);
	/* CR4.PSE plays no part in PAE paging. */
	regs.cr4 |= CR4_PSE;
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.page_size, 2 * MIB);
	set64(pae_ent(PAE_GVA, 2), 1ULL << 20);
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
}
END_TEST

START_TEST(test_pae_pdpte)
{
	u64 pdptes[4] = { 0, 0, 0, 0 };
	pae_mode();
	pae_map4k(PAE_GVA, 0x9000, P);
	/* Not present: an ordinary #PF. */
	clr64(pae_ent(PAE_GVA, 3), P);
	ck_assert_int_eq(walk(PAE_GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_W, GW_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(res.nlevels, 1);
	/* Reserved bits (R/W, U/S, 8:6, 63:M, XD too) mean the CR3 load
	 * would have failed, which is not a #PF. */
	const u64 bad[] = { RW, US, PS, 1ULL << 8, XD, 1ULL << 50 };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		w64(pae_ent(PAE_GVA, 3), PAE_PD | P | bad[i]);
		ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_BAD_PDPTE);
		ck_assert_uint_eq(res.reserved_bits, bad[i]);
		ck_assert_uint_eq(res.error_code, 0);
	}
	/* PWT/PCD and the ignored bits 11:9 are fine, and so is A, which QEMU
	 * TCG sets in PDPTEs (see reserved_bits()). */
	w64(pae_ent(PAE_GVA, 3), PAE_PD | P | GW_PTE_PWT | GW_PTE_PCD | (7ULL << 9));
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_OK);
	w64(pae_ent(PAE_GVA, 3), PAE_PD | P | GW_PTE_A);
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_OK);
	/* The PDPTE registers win over memory when supplied. */
	w64(pae_ent(PAE_GVA, 3), 0);
	pdptes[3] = PAE_PD | P;
	regs.pdptes = pdptes;
	reads = 0;
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x9678);
	ck_assert(res.levels[0].from_regs);
	ck_assert_uint_eq(res.levels[0].value, PAE_PD | P);
	ck_assert_uint_eq(reads, 2);
	pdptes[3] = 0;
	ck_assert_int_eq(walk(PAE_GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(0, GW_FAULT_NOT_PRESENT);
}
END_TEST

START_TEST(test_pae_reserved_and_nx)
{
	pae_mode();
	caps.maxphyaddr = 36;
	pae_map4k(PAE_GVA, 0x9000, P | RW | US);
	/* Unlike 4-level paging, PAE reserves bits 62:M outright. */
	set64(pae_ent(PAE_GVA, 1), 1ULL << 62);
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD | GW_PF_U, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.reserved_bits, 1ULL << 62);
	clr64(pae_ent(PAE_GVA, 1), 1ULL << 62);
	set64(pae_ent(PAE_GVA, 1), 1ULL << 36);
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_PAGE_FAULT);
	ck_assert_uint_eq(res.reserved_bits, 1ULL << 36);
	clr64(pae_ent(PAE_GVA, 1), 1ULL << 36);
	/* XD works with NXE and is reserved without it. */
	set64(pae_ent(PAE_GVA, 1), XD);
	ck_assert_int_eq(walk(PAE_GVA, X, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_U | GW_PF_ID, GW_FAULT_XD);
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_OK);
	regs.efer = 0;
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD | GW_PF_U, GW_FAULT_RESERVED);
}
END_TEST

START_TEST(test_pae_user_supervisor)
{
	pae_mode();
	pae_map4k(PAE_GVA, 0x9000, P | RW);
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_U, GW_FAULT_USER_SUPERVISOR);
	set64(pae_ent(PAE_GVA, 1), US);
	clr64(pae_ent(PAE_GVA, 2), RW);
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_OK);
	ck_assert_int_eq(walk(PAE_GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W, GW_FAULT_READ_ONLY);
}
END_TEST

/* ---- 32-bit paging ------------------------------------------------------------ */
#define PD32 0x9000ULL
#define PT32 0xA000ULL
#define GVA32 0xC0801234ULL

static void mode32(void)
{
	regs.cr0 = CR0_PE | CR0_PG | CR0_WP;
	regs.cr4 = 0;
	regs.efer = 0;
	regs.cr3 = PD32 | 0x18; /* PWT/PCD are not address bits */
}

static u64 pde32(u64 gva) { return PD32 + 4 * (gva >> 22); }
static u64 pte32(u64 gva) { return PT32 + 4 * ((gva >> 12) & 1023); }

START_TEST(test_32bit_4k)
{
	mode32();
	w32(pde32(GVA32), (u32)(PT32 | TF));
	w32(pte32(GVA32), 0xFFFFF000u | P | RW | US | GW_PTE_PAT_4K);
	ck_assert_int_eq(walk(GVA32, W, USR), GW_OK);
	ck_assert_int_eq(res.mode, GW_MODE_32BIT);
	ck_assert_uint_eq(res.gpa, 0xFFFFF234u);
	ck_assert_uint_eq(res.page_size, 4096);
	ck_assert_uint_eq(res.pat_index, 4);
	ck_assert_uint_eq(res.nlevels, 2);
	ck_assert_uint_eq(res.levels[0].gpa, pde32(GVA32));
	ck_assert_uint_eq(res.levels[1].gpa, pte32(GVA32));
	ck_assert_uint_eq(res.levels[1].value, r32(pte32(GVA32)));
	ck_assert(res.executable);
	/* Without CR4.PSE the PS bit is ignored: still a page table. */
	w32(pde32(GVA32), (u32)(PT32 | TF | PS));
	ck_assert_int_eq(walk(GVA32, R, USR), GW_OK);
	ck_assert_uint_eq(res.page_size, 4096);
	ck_assert_uint_eq(res.nlevels, 2);
	/* Not present at either level. */
	w32(pte32(GVA32), 0xFFFFF000u);
	ck_assert_int_eq(walk(GVA32, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_W, GW_FAULT_NOT_PRESENT);
	w32(pde32(GVA32), 0);
	ck_assert_int_eq(walk(GVA32, R, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_U, GW_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(res.nlevels, 1);
}
END_TEST

START_TEST(test_32bit_4m_and_pse36)
{
	mode32();
	regs.cr4 = CR4_PSE;
	w32(pde32(GVA32), 0xC0C00000u | P | RW | PS);
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0xC0C00000u | (GVA32 & 0x3fffff));
	ck_assert_uint_eq(res.page_size, 4 * MIB);
	ck_assert_uint_eq(res.nlevels, 1);
	/* PSE-36: PDE bits 20:13 are physical-address bits 39:32. */
	caps.maxphyaddr = 40;
	w32(pde32(GVA32), 0xC0C00000u | (0xABu << 13) | P | PS | (u32)GW_PTE_PAT_LARGE);
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0xABC0C00000ULL | (GVA32 & 0x3fffff));
	ck_assert_uint_eq(res.pat_index, 4);
	ck_assert_int_eq(walk(0xC0800234ULL, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0xABC0C00234ULL);
	/* Above MAXPHYADDR those bits are reserved... */
	caps.maxphyaddr = 36;
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
	ck_assert_uint_eq(res.reserved_bits, 0xA0u << 13);
	w32(pde32(GVA32), 0xC0C00000u | (0xBu << 13) | P | PS);
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0xBC0C00000ULL | (GVA32 & 0x3fffff));
	/* ...and bit 21 always is, even when M is larger than 40. */
	caps.maxphyaddr = 52;
	w32(pde32(GVA32), 0xC0C00000u | (0xFFu << 13) | P | PS);
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa >> 32, 0xFF);
	w32(pde32(GVA32), 0xC0C00000u | (1u << 21) | P | PS);
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_PAGE_FAULT);
	ck_assert_uint_eq(res.reserved_bits, 1u << 21);
}
END_TEST

START_TEST(test_32bit_no_xd)
{
	mode32();
	regs.efer = EFER_NXE; /* no effect without PAE */
	w32(pde32(GVA32), (u32)(PT32 | TF));
	w32(pte32(GVA32), 0x80000000u | P | US); /* bit 31 is an address bit */
	ck_assert_int_eq(walk(GVA32, X, USR), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x80000234u);
	ck_assert(res.executable);
	ck_assert_int_eq(walk(GVA32, W, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W | GW_PF_U, GW_FAULT_READ_ONLY);
	/* I/D comes only from SMEP in 32-bit paging. */
	w32(pte32(GVA32), 0);
	ck_assert_int_eq(walk(GVA32, X, SUP), GW_PAGE_FAULT);
	ck_pf(0, GW_FAULT_NOT_PRESENT);
	regs.cr4 |= CR4_SMEP;
	ck_assert_int_eq(walk(GVA32, X, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_ID, GW_FAULT_NOT_PRESENT);
	/* Linear addresses are truncated to 32 bits. */
	w32(pte32(GVA32), 0x5000u | P);
	ck_assert_int_eq(walk(0x100000000ULL | GVA32, R, SUP), GW_OK);
	ck_assert_uint_eq(res.gpa, 0x5234u);
}
END_TEST

/* ---- protection keys --------------------------------------------------------- */
#define KEY(k) ((u64)(k) << 59)

START_TEST(test_pkeys_user)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | US | KEY(5));
	regs.pkru = 1u << (2 * 5); /* AD5 */
	ck_assert_int_eq(walk(GVA, R, USR), GW_OK); /* CR4.PKE still 0 */
	ck_assert(!res.has_pkey);
	regs.cr4 |= CR4_PKE;
	ck_assert_int_eq(walk(GVA, R, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_U | GW_PF_PK, GW_FAULT_PKEY);
	ck_assert(res.has_pkey);
	ck_assert_uint_eq(res.pkey, 5);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT); /* supervisor too */
	ck_pf(GW_PF_P | GW_PF_PK, GW_FAULT_PKEY);
	ck_assert_int_eq(walk(GVA, X, USR), GW_OK); /* never fetches */
	/* WD5: user writes always, supervisor writes only with CR0.WP. */
	regs.pkru = 2u << (2 * 5);
	ck_assert_int_eq(walk(GVA, R, USR), GW_OK);
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W | GW_PF_U | GW_PF_PK, GW_FAULT_PKEY);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W | GW_PF_PK, GW_FAULT_PKEY);
	regs.cr0 &= ~CR0_WP;
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	/* Another key's rights do not matter. */
	regs.pkru = ~(3u << (2 * 5));
	regs.cr0 |= CR0_WP;
	ck_assert_int_eq(walk(GVA, W, USR), GW_OK);
	/* PK is reported alongside another violation. */
	regs.pkru = 2u << (2 * 5);
	clr64(ent(GVA, 1), RW);
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_W | GW_PF_U | GW_PF_PK, GW_FAULT_READ_ONLY);
}
END_TEST

START_TEST(test_pkeys_supervisor)
{
	long_mode();
	map4k(GVA, PAGE, P | RW | KEY(3));
	regs.pkrs = 1u << (2 * 3);
	regs.pkru = 0xFFFFFFFFu;
	regs.cr4 |= CR4_PKE; /* PKRU does not govern supervisor pages */
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	regs.cr4 |= CR4_PKS;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_PAGE_FAULT);
	ck_pf(GW_PF_P | GW_PF_PK, GW_FAULT_PKEY);
	ck_assert_uint_eq(res.pkey, 3);
	/* Protection keys do not exist outside 4-/5-level paging. */
	pae_mode();
	regs.cr4 |= CR4_PKE | CR4_PKS;
	pae_map4k(PAE_GVA, 0x9000, P | RW | US);
	ck_assert_int_eq(walk(PAE_GVA, R, USR), GW_OK);
	ck_assert(!res.has_pkey);
}
END_TEST

/* ---- A/D updater ----------------------------------------------------------- */
struct cx_log {
	unsigned calls;
	bool fail;
};

static enum guest_pte_update fake_cmpxchg(void *ctx, u64 gpa, u64 expected, u64 desired, unsigned size)
{
	struct cx_log *log = ctx;
	log->calls++;
	if (log->fail || gpa + size > MEM_SIZE)
		return GW_UPDATE_FAILED;
	u64 cur = size == 4 ? r32(gpa) : r64(gpa);
	if (cur != expected)
		return GW_UPDATE_CHANGED;
	if (size == 4)
		w32(gpa, (u32)desired);
	else
		w64(gpa, desired);
	return GW_UPDATE_OK;
}

START_TEST(test_set_ad)
{
	struct cx_log log = { 0, false };
	struct guest_pte_writer w = { fake_cmpxchg, &log };

	long_mode();
	map4k(GVA, PAGE, P | RW);
	set64(ent(GVA, 3), GW_PTE_A); /* already accessed: left alone */
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	ck_assert_uint_eq(res.set_accessed, 0xD);
	ck_assert(res.set_dirty);
	ck_assert_int_eq(guest_walk_set_ad(&res, &w), GW_UPDATE_OK);
	ck_assert_uint_eq(log.calls, 3);
	for (unsigned level = 1; level <= 4; level++)
		ck_assert(r64(ent(GVA, level)) & GW_PTE_A);
	ck_assert(r64(ent(GVA, 1)) & GW_PTE_D);
	ck_assert(!(r64(ent(GVA, 2)) & GW_PTE_D));
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	ck_assert_uint_eq(res.set_accessed, 0);
	ck_assert(!res.set_dirty);

	/* The guest changes an entry between walk and update. */
	clr64(ent(GVA, 1), GW_PTE_A | GW_PTE_D);
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	set64(ent(GVA, 1), GW_PTE_G);
	ck_assert_int_eq(guest_walk_set_ad(&res, &w), GW_UPDATE_CHANGED);
	ck_assert(!(r64(ent(GVA, 1)) & GW_PTE_D));

	log.fail = true;
	ck_assert_int_eq(walk(GVA, W, SUP), GW_OK);
	ck_assert_int_eq(guest_walk_set_ad(&res, &w), GW_UPDATE_FAILED);

	/* Nothing is written for a walk that faulted. */
	log.fail = false;
	log.calls = 0;
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	ck_assert_uint_eq(res.set_accessed, 0);
	ck_assert_int_eq(guest_walk_set_ad(&res, &w), GW_UPDATE_FAILED);
	ck_assert_uint_eq(log.calls, 0);
}
END_TEST

START_TEST(test_set_ad_32bit)
{
	struct cx_log log = { 0, false };
	struct guest_pte_writer w = { fake_cmpxchg, &log };
	mode32();
	w32(pde32(GVA32), (u32)(PT32 | TF));
	w32(pte32(GVA32), 0x5000u | P | RW);
	w32(pte32(GVA32) + 4, 0xFFFFFFFFu); /* a 64-bit write would clobber this */
	ck_assert_int_eq(walk(GVA32, W, SUP), GW_OK);
	ck_assert_int_eq(guest_walk_set_ad(&res, &w), GW_UPDATE_OK);
	ck_assert_uint_eq(r32(pte32(GVA32)), 0x5000u | P | RW | GW_PTE_A | GW_PTE_D);
	ck_assert_uint_eq(r32(pde32(GVA32)), (u32)(PT32 | TF | GW_PTE_A));
	ck_assert_uint_eq(r32(pte32(GVA32) + 4), 0xFFFFFFFFu);
}
END_TEST

/* ---- text form --------------------------------------------------------------- */
struct lines {
	unsigned n;
	char text[4096];
};

static void collect(void *ctx, const char *line)
{
	struct lines *l = ctx;
	ck_assert_ptr_null(strchr(line, '\n'));
	l->n++;
	strncat(l->text, line, sizeof(l->text) - strlen(l->text) - 2);
	strcat(l->text, "|");
}

START_TEST(test_print_ok)
{
	struct lines l = { 0, "" };
	long_mode();
	map4k(GVA, PAGE, P | RW | US | XD | KEY(9));
	regs.cr4 |= CR4_PKE;
	ck_assert_int_eq(walk(GVA, R, USR), GW_OK);
	guest_walk_print(&res, collect, &l);
	/* header, 4 entries, translation, A/D */
	ck_assert_uint_eq(l.n, 7);
	ck_assert_ptr_nonnull(strstr(l.text, "gva 0x00007f1234567abc: 4-level paging, user read"));
	ck_assert_ptr_nonnull(strstr(l.text, "PML4E @ 0x00000000000017f0 = 0x0000000000002007  P RW U|"));
	ck_assert_ptr_nonnull(strstr(l.text, "PTE   @ 0x0000000000004b38 = 0x"));
	ck_assert_ptr_nonnull(strstr(l.text, " XD PK=9|"));
	ck_assert_ptr_nonnull(strstr(l.text, "-> gpa 0x0000000123456abc, 4K page, RW user no-exec, PAT index 0, key 9"));
	ck_assert_ptr_nonnull(strstr(l.text, "A/D: would set PML4E.A PDPTE.A PDE.A PTE.A|"));
}
END_TEST

START_TEST(test_print_faults)
{
	struct lines l = { 0, "" };
	long_mode();
	map4k(GVA, PAGE, P | US);
	ck_assert_int_eq(walk(GVA, W, USR), GW_PAGE_FAULT);
	guest_walk_print(&res, collect, &l);
	ck_assert_ptr_nonnull(strstr(l.text, "#PF error code 0x7 [ P W U ]: write to read-only page"));

	memset(&l, 0, sizeof(l));
	w64(ent(GVA, 2), 0);
	ck_assert_int_eq(walk(GVA, X, SUP), GW_PAGE_FAULT);
	guest_walk_print(&res, collect, &l);
	ck_assert_uint_eq(l.n, 1 + 3 + 1);
	ck_assert_ptr_nonnull(strstr(l.text, "PDE   @ 0x0000000000003d10 = 0x0000000000000000  not-present|"));
	ck_assert_ptr_nonnull(strstr(l.text, "#PF error code 0x10 [ I/D ]: not present"));

	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(walk(0x0000900000000000ULL, R, SUP), GW_NONCANONICAL);
	guest_walk_print(&res, collect, &l);
	ck_assert_ptr_nonnull(strstr(l.text, "#GP: non-canonical"));

	memset(&l, 0, sizeof(l));
	regs.cr3 = 0x10000000;
	ck_assert_int_eq(walk(GVA, R, SUP), GW_TABLE_UNREADABLE);
	guest_walk_print(&res, collect, &l);
	ck_assert_ptr_nonnull(strstr(l.text, "at gpa 0x00000000100007f0 is not in guest RAM"));

	memset(&l, 0, sizeof(l));
	mode32();
	regs.cr4 = CR4_PSE;
	w32(pde32(GVA32), 0xC0C00000u | (1u << 21) | P | PS);
	ck_assert_int_eq(walk(GVA32, R, SUP), GW_PAGE_FAULT);
	guest_walk_print(&res, collect, &l);
	ck_assert_ptr_nonnull(strstr(l.text, "= 0xc0e00081  P RO S PS|"));
	ck_assert_ptr_nonnull(strstr(l.text, "[ P RSVD ]: reserved bit set (bits 0x200000)"));
}
END_TEST

START_TEST(test_format_buffer)
{
	char big[2048], small[40];
	long_mode();
	map4k(GVA, PAGE, P | RW);
	ck_assert_int_eq(walk(GVA, R, SUP), GW_OK);
	size_t n = guest_walk_format(&res, big, sizeof(big));
	ck_assert_uint_eq(n, strlen(big));
	ck_assert_uint_gt(n, 100);
	ck_assert_int_eq(big[n - 1], '\n');
	ck_assert_ptr_nonnull(strstr(big, "4-level paging, supervisor read\n  PML4E @ "));
	/* Truncation: terminated, and the full length still reported. */
	memset(small, 'x', sizeof(small));
	ck_assert_uint_eq(guest_walk_format(&res, small, sizeof(small)), n);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(memcmp(small, big, sizeof(small) - 1), 0);
	ck_assert_uint_eq(guest_walk_format(&res, NULL, 0), n);
	/* Paging off and inconsistent registers have a text form too. */
	regs.cr0 = CR0_PE;
	regs.efer = 0;
	walk(0x1234, R, SUP);
	guest_walk_format(&res, big, sizeof(big));
	ck_assert_ptr_nonnull(strstr(big, "paging off"));
	ck_assert_ptr_nonnull(strstr(big, "-> gpa 0x0000000000001234 (no paging)"));
	regs.efer = EFER_LMA;
	ck_assert_int_eq(walk(0x1234, R, SUP), GW_BAD_REGS);
	guest_walk_format(&res, big, sizeof(big));
	ck_assert_ptr_nonnull(strstr(big, "no state the CPU can be in"));
}
END_TEST

static Suite *guest_walk_suite(void)
{
	Suite *s = suite_create("guest_walk");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_4level_4k);
	tcase_add_test(tc, test_4level_upper_half);
	tcase_add_test(tc, test_4level_2m);
	tcase_add_test(tc, test_4k_pat_bit7);
	tcase_add_test(tc, test_4level_1g);
	tcase_add_test(tc, test_not_present_each_level);
	tcase_add_test(tc, test_5level);
	tcase_add_test(tc, test_noncanonical);
	tcase_add_test(tc, test_write_read_only);
	tcase_add_test(tc, test_read_only_upper_level);
	tcase_add_test(tc, test_user_to_supervisor);
	tcase_add_test(tc, test_nx);
	tcase_add_test(tc, test_id_flag_rules);
	tcase_add_test(tc, test_smep);
	tcase_add_test(tc, test_smap);
	tcase_add_test(tc, test_reserved_above_maxphyaddr);
	tcase_add_test(tc, test_table_outside_ram);
	tcase_add_test(tc, test_paging_off);
	tcase_add_test(tc, test_bad_regs);
	tcase_add_test(tc, test_pae_4k);
	tcase_add_test(tc, test_pae_2m);
	tcase_add_test(tc, test_pae_pdpte);
	tcase_add_test(tc, test_pae_reserved_and_nx);
	tcase_add_test(tc, test_pae_user_supervisor);
	tcase_add_test(tc, test_32bit_4k);
	tcase_add_test(tc, test_32bit_4m_and_pse36);
	tcase_add_test(tc, test_32bit_no_xd);
	tcase_add_test(tc, test_pkeys_user);
	tcase_add_test(tc, test_pkeys_supervisor);
	tcase_add_test(tc, test_set_ad);
	tcase_add_test(tc, test_set_ad_32bit);
	tcase_add_test(tc, test_print_ok);
	tcase_add_test(tc, test_print_faults);
	tcase_add_test(tc, test_format_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_walk_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
