/* Guest page-table walker; see guest_walk.h for the contract.  Section
 * numbers refer to the Intel SDM Vol. 3A, chapter 4 ("Paging"), unless said
 * otherwise. */
#include "kernel/vm/guest_walk.h"
#include "arch/x86/canonical.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

/* Architectural register bits the walk depends on.  Kept private: this file
 * must not include the hardware header that defines them for the host. */
#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PSE (1ULL << 4)
#define X86_CR4_PAE (1ULL << 5)
#define X86_CR4_LA57 (1ULL << 12)
#define X86_CR4_SMEP (1ULL << 20)
#define X86_CR4_SMAP (1ULL << 21)
#define X86_CR4_PKE (1ULL << 22)
#define X86_CR4_PKS (1ULL << 24)
#define X86_EFER_LME (1ULL << 8)
#define X86_EFER_LMA (1ULL << 10)
#define X86_EFER_NXE (1ULL << 11)
#define X86_RFLAGS_AC (1ULL << 18)

/* Bits hi..lo set; empty (0) when hi < lo, which happens at the edges, e.g.
 * "bits 51:M" with MAXPHYADDR = 52. */
static u64 bit_range(unsigned hi, unsigned lo)
{
	if (hi < lo || hi > 63)
		return 0;
	return (~0ULL >> (63 - hi)) & ~((1ULL << lo) - 1);
}

static bool is_long(enum guest_paging_mode mode)
{
	return mode == GW_MODE_4LEVEL || mode == GW_MODE_5LEVEL;
}

/* Per-mode shape (Table 4-2): the level CR3 points at, entry width, and how
 * many linear-address bits select an entry at each level. */
struct mode_shape {
	u8 top_level;
	u8 entry_size;
	u8 index_bits;
};

static const struct mode_shape shapes[] = {
	[GW_MODE_32BIT] = { 2, 4, 10 },
	/* The PDPT level has 4 entries, selected by bits 31:30; with the linear
	 * address truncated to 32 bits a 9-bit index yields the same. */
	[GW_MODE_PAE] = { 3, 8, 9 },
	[GW_MODE_4LEVEL] = { 4, 8, 9 },
	[GW_MODE_5LEVEL] = { 5, 8, 9 },
};

/* Table 4-1, plus the transitions the CPU refuses with #GP so that no guest
 * can be in them: PG without PE (MOV CR0, SDM Vol. 3A 2.5) and IA-32e mode
 * without PAE (SDM Vol. 3A 10.8.5); LMA is LME & PG by definition
 * (SDM Vol. 3A 2.2.1). */
static bool paging_mode(const struct guest_paging_regs *r, enum guest_paging_mode *mode)
{
	bool lma = r->efer & X86_EFER_LMA;
	bool lme = r->efer & X86_EFER_LME;

	if (!(r->cr0 & X86_CR0_PG)) {
		*mode = GW_MODE_NONE;
		return !lma;
	}
	if (!(r->cr0 & X86_CR0_PE) || lma != lme)
		return false;
	if (!(r->cr4 & X86_CR4_PAE)) {
		*mode = GW_MODE_32BIT;
		return !lma;
	}
	if (!lma)
		*mode = GW_MODE_PAE;
	else
		*mode = (r->cr4 & X86_CR4_LA57) ? GW_MODE_5LEVEL : GW_MODE_4LEVEL;
	return true;
}


/* Where the table CR3 points at lives (Tables 4-3, 4-7, 4-12).  The low CR3
 * bits are PCD/PWT or the PCID, and bits 63:M of a long-mode CR3 (LAM
 * controls, the no-flush bit) are not part of the address. */
static u64 root_table(enum guest_paging_mode mode, u64 cr3, unsigned m)
{
	switch (mode) {
	case GW_MODE_32BIT:
		return cr3 & 0xFFFFF000ULL;
	case GW_MODE_PAE:
		return cr3 & 0xFFFFFFE0ULL;
	default:
		return cr3 & bit_range(m - 1, 12);
	}
}

/* Whether a present entry at this level maps a page rather than a table. */
static bool maps_page(enum guest_paging_mode mode, unsigned level, u64 e, u64 cr4, bool page_1g)
{
	if (level == 1)
		return true;
	if (!(e & GW_PTE_PS))
		return false;
	switch (mode) {
	case GW_MODE_32BIT:
		/* 4.3: PS is honoured only with CR4.PSE; otherwise it is ignored
		 * and the PDE references a page table. */
		return level == 2 && (cr4 & X86_CR4_PSE);
	case GW_MODE_PAE:
		return level == 2;
	default:
		/* PS in a PML4E/PML5E, or in a PDPTE without 1-GByte pages, is
		 * reserved; reserved_bits() has already faulted on it. */
		return level == 2 || (level == 3 && page_1g);
	}
}

/* Reserved bits of a present entry (4.3-4.5, summarised in 4.7's list of
 * RSVD conditions).  m is MAXPHYADDR. */
static u64 reserved_bits(enum guest_paging_mode mode, unsigned level, u64 e, u64 cr4, u64 efer,
			 unsigned m, bool page_1g)
{
	bool ps = e & GW_PTE_PS;
	/* XD is a reserved bit, not an ignored one, while EFER.NXE = 0. */
	u64 xd = (efer & X86_EFER_NXE) ? 0 : GW_PTE_XD;
	u64 r;

	switch (mode) {
	case GW_MODE_32BIT:
		/* Table 4-4: a 4-MByte PDE carries physical-address bits
		 * (M'-1):32 in bits (M'-20):13 (PSE-36), where M' = min(M, 40)
		 * because 32-bit paging produces at most 40-bit addresses; bit
		 * 21 and the PDE bits above that field are reserved.  Nothing
		 * else in 32-bit paging is reserved. */
		if (level == 2 && ps && (cr4 & X86_CR4_PSE))
			return bit_range(21, MIN(m, 40u) - 19);
		return 0;
	case GW_MODE_PAE:
		/* Table 4-8: PDPTEs have no R/W, U/S, A, PS or XD.  Bit 5 (A) is
		 * let through: QEMU TCG sets it in PAE PDPTEs when it walks them,
		 * and a CPU that loaded the PDPTE before that happened would not
		 * fault either, so refusing the walk would only break the guest. */
		if (level == 3)
			return bit_range(63, m) | bit_range(8, 6) | bit_range(2, 1);
		/* Tables 4-9..4-11: unlike 4-level paging, bits 62:M are
		 * reserved all the way up, not partly ignored. */
		r = bit_range(62, m) | xd;
		if (level == 2 && ps)
			r |= bit_range(20, 13); /* bit 12 is PAT, 20:13 reserved */
		return r;
	default:
		/* Tables 4-14..4-20: bits 62:52 are ignored (62:59 may hold a
		 * protection key) and only 51:M are reserved. */
		r = bit_range(51, m) | xd;
		if (level >= 4)
			r |= GW_PTE_PS;
		else if (level == 3 && ps)
			r |= page_1g ? bit_range(29, 13) : GW_PTE_PS;
		else if (level == 2 && ps)
			r |= bit_range(20, 13);
		return r;
	}
}

static bool read_entry(const struct phys_reader *mem, u64 gpa, unsigned size, u64 *out)
{
	if (size == 4) {
		u32 v;
		if (!phys_read(mem, gpa, &v, sizeof(v)))
			return false;
		*out = v;
		return true;
	}
	return phys_read(mem, gpa, out, sizeof(*out));
}

static bool is_supervisor(struct guest_access a)
{
	return !a.user || a.implicit;
}

/* The error-code bits that describe the access itself (4.7), common to every
 * #PF it raises.  I/D is set for fetches only where the CPU can fault a fetch
 * specifically: with SMEP, or with XD available (PAE/4-level and NXE). */
static u32 access_error_bits(const struct guest_walk_result *res, const struct guest_paging_regs *r)
{
	u32 ec = 0;

	if (res->access.kind == GW_ACCESS_WRITE)
		ec |= GW_PF_W;
	if (!is_supervisor(res->access))
		ec |= GW_PF_U;
	if (res->access.kind == GW_ACCESS_FETCH &&
	    ((r->cr4 & X86_CR4_SMEP) || (res->mode != GW_MODE_32BIT && (r->efer & X86_EFER_NXE))))
		ec |= GW_PF_ID;
	return ec;
}

static enum guest_walk_status page_fault(struct guest_walk_result *res, const struct guest_paging_regs *r,
					 u32 extra, enum guest_fault_reason reason)
{
	res->error_code = access_error_bits(res, r) | extra;
	res->reason = reason;
	return res->status = GW_PAGE_FAULT;
}

/* Protection keys (4.6.2): for data accesses with 4-/5-level paging, a
 * user-mode address is checked against PKRU when CR4.PKE = 1, a supervisor-mode
 * address against IA32_PKRS when CR4.PKS = 1, whoever makes the access.  AD
 * forbids any data access; WD forbids writes by user-mode accesses, and by
 * supervisor-mode accesses only when CR0.WP = 1. */
static bool pkey_denies(const struct guest_walk_result *res, const struct guest_paging_regs *r)
{
	if (!res->has_pkey || res->access.kind == GW_ACCESS_FETCH)
		return false;
	if (!(r->cr4 & (res->user ? X86_CR4_PKE : X86_CR4_PKS)))
		return false;
	u32 rights = (res->user ? r->pkru : r->pkrs) >> (2 * res->pkey);
	bool ad = rights & 1;
	bool wd = rights & 2;
	return ad || (wd && res->access.kind == GW_ACCESS_WRITE &&
		      (!is_supervisor(res->access) || (r->cr0 & X86_CR0_WP)));
}

/* Access rights of a completed translation (4.6.1).  "User-mode address" means
 * U/S = 1 at every level; SMAP blocks supervisor data accesses to such
 * addresses unless the access is explicit and RFLAGS.AC = 1. */
static enum guest_walk_status check_rights(struct guest_walk_result *res, const struct guest_paging_regs *r)
{
	struct guest_access a = res->access;
	bool sup = is_supervisor(a);
	bool wp = r->cr0 & X86_CR0_WP;
	enum guest_fault_reason why = GW_FAULT_NONE;

	if (!sup && !res->user)
		why = GW_FAULT_USER_SUPERVISOR;
	else if (sup && res->user && a.kind != GW_ACCESS_FETCH && (r->cr4 & X86_CR4_SMAP) &&
		 (a.implicit || !(r->rflags & X86_RFLAGS_AC)))
		why = GW_FAULT_SMAP;
	else if (sup && res->user && a.kind == GW_ACCESS_FETCH && (r->cr4 & X86_CR4_SMEP))
		why = GW_FAULT_SMEP;
	/* Supervisor writes ignore R/W while CR0.WP = 0; user writes never do. */
	else if (a.kind == GW_ACCESS_WRITE && !res->writable && (!sup || wp))
		why = GW_FAULT_READ_ONLY;
	else if (a.kind == GW_ACCESS_FETCH && !res->executable)
		why = GW_FAULT_XD;

	/* PK is reported whenever the key forbids the access, even alongside
	 * another violation (4.7, PK flag). */
	bool pk = pkey_denies(res, r);
	if (pk && why == GW_FAULT_NONE)
		why = GW_FAULT_PKEY;
	if (why == GW_FAULT_NONE)
		return res->status = GW_OK;
	return page_fault(res, r, GW_PF_P | (pk ? GW_PF_PK : 0), why);
}

/* 4.8: every entry used for the translation gets A (PAE PDPTEs have none),
 * the entry that maps the page gets D on a write.  Reported only for accesses
 * that succeed; what a CPU does to A flags on a faulting walk is partly
 * model-specific, and nothing should be written for it anyway. */
static void note_ad(struct guest_walk_result *res)
{
	for (unsigned i = 0; i < res->nlevels; i++) {
		const struct guest_walk_entry *e = &res->levels[i];
		if (res->mode == GW_MODE_PAE && e->level == 3)
			continue;
		if (!(e->value & GW_PTE_A))
			res->set_accessed |= (u8)(1u << i);
	}
	const struct guest_walk_entry *leaf = &res->levels[res->nlevels - 1];
	res->set_dirty = res->access.kind == GW_ACCESS_WRITE && !(leaf->value & GW_PTE_D);
}

/* The page a leaf maps and its memory-type index.  4-MByte PDEs spread the
 * address over bits 31:22 and (PSE-36) 20:13; larger-than-4K leaves keep PAT
 * in bit 12, which is why it is masked out of the address (4.9.2). */
static void leaf_page(struct guest_walk_result *res, u64 e, unsigned level, unsigned m)
{
	const struct mode_shape *s = &shapes[res->mode];
	u64 size = 1ULL << (PAGE_SHIFT + s->index_bits * (level - 1));
	u64 base;
	bool pat;

	if (res->mode == GW_MODE_32BIT && level == 2)
		base = (e & 0xFFC00000ULL) | (((e >> 13) & 0xFF) << 32);
	else if (res->mode == GW_MODE_32BIT)
		base = e & 0xFFFFF000ULL;
	else
		base = e & bit_range(m - 1, 12) & ~(size - 1);
	pat = level == 1 ? (e & GW_PTE_PAT_4K) : (e & GW_PTE_PAT_LARGE);

	res->translated = true;
	res->page_size = size;
	res->gpa = base | (res->gva & (size - 1));
	res->pat_index = (u8)((pat ? 4 : 0) | ((e & GW_PTE_PCD) ? 2 : 0) | ((e & GW_PTE_PWT) ? 1 : 0));
	if (is_long(res->mode))
		res->pkey = (u8)((e >> 59) & 0xF);
}

static enum guest_walk_status walk_tables(const struct phys_reader *mem, const struct guest_walk_caps *caps,
					  const struct guest_paging_regs *r, struct guest_walk_result *res)
{
	const struct mode_shape *s = &shapes[res->mode];
	unsigned m = caps->maxphyaddr;
	u64 table = root_table(res->mode, r->cr3, m);
	bool nxe = (r->efer & X86_EFER_NXE) && res->mode != GW_MODE_32BIT;
	bool rw = true, us = true, xd = false;

	res->has_pkey = is_long(res->mode) && (r->cr4 & (X86_CR4_PKE | X86_CR4_PKS));

	for (unsigned level = s->top_level; level >= 1; level--) {
		unsigned shift = PAGE_SHIFT + s->index_bits * (level - 1);
		u64 index = (res->gva >> shift) & ((1ULL << s->index_bits) - 1);
		bool pae_pdpte = res->mode == GW_MODE_PAE && level == 3;
		struct guest_walk_entry *ent = &res->levels[res->nlevels];
		u64 e;

		ent->gpa = table + index * s->entry_size;
		ent->level = (u8)level;
		if (pae_pdpte && r->pdptes) {
			e = r->pdptes[index];
			ent->from_regs = true;
		} else if (!read_entry(mem, ent->gpa, s->entry_size, &e)) {
			res->unreadable_gpa = ent->gpa;
			*ent = (struct guest_walk_entry){ 0 };
			return res->status = GW_TABLE_UNREADABLE;
		}
		ent->value = e;
		res->nlevels++;

		if (!(e & GW_PTE_P))
			return page_fault(res, r, 0, GW_FAULT_NOT_PRESENT);

		u64 rsvd = e & reserved_bits(res->mode, level, e, r->cr4, r->efer, m, caps->page_1g);
		if (rsvd) {
			res->reserved_bits = rsvd;
			/* A present PDPTE with reserved bits never reaches a
			 * walk: loading it into the PDPTE registers is a #GP
			 * (4.4.1). */
			if (pae_pdpte)
				return res->status = GW_BAD_PDPTE;
			return page_fault(res, r, GW_PF_P | GW_PF_RSVD, GW_FAULT_RESERVED);
		}

		/* 4.6.1: R/W and U/S combine by AND and XD by OR over every
		 * entry that controls the translation; PAE PDPTEs have none
		 * of them. */
		if (!pae_pdpte) {
			rw = rw && (e & GW_PTE_RW);
			us = us && (e & GW_PTE_US);
			xd = xd || (nxe && (e & GW_PTE_XD));
		}

		if (maps_page(res->mode, level, e, r->cr4, caps->page_1g)) {
			ent->leaf = true;
			res->writable = rw;
			res->user = us;
			res->executable = !xd;
			leaf_page(res, e, level, m);
			if (check_rights(res, r) == GW_OK)
				note_ad(res);
			return res->status;
		}
		table = res->mode == GW_MODE_32BIT ? (e & 0xFFFFF000ULL) : (e & bit_range(m - 1, 12));
	}
	/* Unreachable: level 1 always maps a page. */
	return res->status = GW_BAD_REGS;
}

enum guest_walk_status guest_walk(const struct phys_reader *mem, const struct guest_walk_caps *caps,
				  const struct guest_paging_regs *regs, u64 gva,
				  struct guest_access access, struct guest_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	res->access = access;
	res->gva = gva;

	if (!paging_mode(regs, &res->mode) || caps->maxphyaddr < 32 || caps->maxphyaddr > 52)
		return res->status = GW_BAD_REGS;

	/* Outside IA-32e mode linear addresses are 32 bits wide (4.1.1). */
	if (!is_long(res->mode))
		res->gva = gva & 0xFFFFFFFFULL;
	/* Non-canonical: #GP/#SS, raised before any translation. */
	else if (!x86_canonical(gva, res->mode == GW_MODE_5LEVEL ? 57 : 48))
		return res->status = GW_NONCANONICAL;

	if (res->mode == GW_MODE_NONE) {
		/* No paging has no pages, but callers split multi-byte accesses
		 * by page_size, so report the 4 KiB granule rather than 0. */
		res->translated = true;
		res->gpa = res->gva;
		res->page_size = PAGE_SIZE;
		res->writable = res->user = res->executable = true;
		return res->status = GW_OK;
	}
	return walk_tables(mem, caps, regs, res);
}

enum guest_pte_update guest_walk_set_ad(const struct guest_walk_result *res,
					const struct guest_pte_writer *w)
{
	if (res->status != GW_OK || res->mode == GW_MODE_NONE)
		return GW_UPDATE_FAILED;
	unsigned size = shapes[res->mode].entry_size;
	for (unsigned i = 0; i < res->nlevels; i++) {
		const struct guest_walk_entry *e = &res->levels[i];
		u64 want = e->value;
		if (res->set_accessed & (1u << i))
			want |= GW_PTE_A;
		if (e->leaf && res->set_dirty)
			want |= GW_PTE_D;
		if (want == e->value)
			continue;
		enum guest_pte_update u = w->cmpxchg(w->ctx, e->gpa, e->value, want, size);
		if (u != GW_UPDATE_OK)
			return u;
	}
	return GW_UPDATE_OK;
}

/* ---- text form ---------------------------------------------------------- */

const char *guest_paging_mode_name(enum guest_paging_mode mode)
{
	static const char *const names[] = {
		[GW_MODE_NONE] = "paging off",
		[GW_MODE_32BIT] = "32-bit paging",
		[GW_MODE_PAE] = "PAE paging",
		[GW_MODE_4LEVEL] = "4-level paging",
		[GW_MODE_5LEVEL] = "5-level paging",
	};
	return (unsigned)mode < ARRAY_SIZE(names) ? names[mode] : "?";
}

const char *guest_walk_status_name(enum guest_walk_status status)
{
	static const char *const names[] = {
		[GW_OK] = "ok",
		[GW_PAGE_FAULT] = "#PF",
		[GW_NONCANONICAL] = "#GP (non-canonical)",
		[GW_TABLE_UNREADABLE] = "table outside guest RAM",
		[GW_BAD_PDPTE] = "bad PDPTE",
		[GW_BAD_REGS] = "inconsistent registers",
	};
	return (unsigned)status < ARRAY_SIZE(names) ? names[status] : "?";
}

static const char *const level_names[] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

static const char *const reason_names[] = {
	[GW_FAULT_NONE] = "",
	[GW_FAULT_NOT_PRESENT] = "not present",
	[GW_FAULT_RESERVED] = "reserved bit set",
	[GW_FAULT_USER_SUPERVISOR] = "user access to supervisor page",
	[GW_FAULT_SMAP] = "SMAP",
	[GW_FAULT_SMEP] = "SMEP",
	[GW_FAULT_READ_ONLY] = "write to read-only page",
	[GW_FAULT_XD] = "fetch from execute-disabled page",
	[GW_FAULT_PKEY] = "protection key",
};

struct line {
	char buf[192];
	size_t len;
};

static void __printf(2, 3) add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = MIN(l->len + (size_t)n, sizeof(l->buf) - 1);
}

static void flush(struct line *l, guest_walk_line_fn emit, void *ctx)
{
	emit(ctx, l->buf);
	l->len = 0;
	l->buf[0] = '\0';
}

/* Only the bits that mean something in this kind of entry are decoded. */
static void add_entry_flags(struct line *l, enum guest_paging_mode mode, const struct guest_walk_entry *e)
{
	u64 v = e->value;

	if (!(v & GW_PTE_P)) {
		add(l, " not-present");
		return;
	}
	add(l, " P");
	if (mode == GW_MODE_PAE && e->level == 3) {
		add(l, "%s%s%s", (v & GW_PTE_PWT) ? " PWT" : "", (v & GW_PTE_PCD) ? " PCD" : "",
		    e->from_regs ? " (PDPTE register)" : "");
		return;
	}
	add(l, "%s%s%s%s%s", (v & GW_PTE_RW) ? " RW" : " RO", (v & GW_PTE_US) ? " U" : " S",
	    (v & GW_PTE_PWT) ? " PWT" : "", (v & GW_PTE_PCD) ? " PCD" : "", (v & GW_PTE_A) ? " A" : "");
	/* Bit 7 is PS above the PTE level, shown even where it is reserved or
	 * ignored, since that is often why a walk went wrong. */
	if (e->level > 1 && (v & GW_PTE_PS))
		add(l, " PS");
	if (e->leaf) {
		bool large = e->level > 1;
		add(l, "%s%s%s", (v & GW_PTE_D) ? " D" : "", (v & GW_PTE_G) ? " G" : "",
		    (v & (large ? GW_PTE_PAT_LARGE : GW_PTE_PAT_4K)) ? " PAT" : "");
	}
	if (mode != GW_MODE_32BIT && (v & GW_PTE_XD))
		add(l, " XD");
	if (e->leaf && is_long(mode) && ((v >> 59) & 0xF))
		add(l, " PK=%u", (unsigned)((v >> 59) & 0xF));
}

static const char *access_name(struct guest_access a)
{
	static const char *const kinds[][3] = {
		{ "supervisor read", "supervisor write", "supervisor fetch" },
		{ "user read", "user write", "user fetch" },
		{ "implicit supervisor read", "implicit supervisor write", "implicit supervisor fetch" },
	};
	unsigned who = a.implicit ? 2 : a.user ? 1 : 0;
	return (unsigned)a.kind < 3 ? kinds[who][a.kind] : "?";
}

static const char *size_name(u64 size)
{
	switch (size) {
	case 4096:
		return "4K";
	case 2 * MIB:
		return "2M";
	case 4 * MIB:
		return "4M";
	case GIB:
		return "1G";
	default:
		return "?";
	}
}

void guest_walk_print(const struct guest_walk_result *res, guest_walk_line_fn emit, void *ctx)
{
	struct line l = { .len = 0 };
	bool wide = res->mode != GW_MODE_32BIT;

	add(&l, "gva 0x%016llx: %s, %s", (unsigned long long)res->gva, guest_paging_mode_name(res->mode),
	    access_name(res->access));
	flush(&l, emit, ctx);

	for (unsigned i = 0; i < res->nlevels && i < GW_MAX_LEVELS; i++) {
		const struct guest_walk_entry *e = &res->levels[i];
		add(&l, "  %-5s @ 0x%016llx = 0x%0*llx ", level_names[e->level < 6 ? e->level : 0],
		    (unsigned long long)e->gpa, wide ? 16 : 8, (unsigned long long)e->value);
		add_entry_flags(&l, res->mode, e);
		flush(&l, emit, ctx);
	}

	if (res->translated) {
		if (res->mode == GW_MODE_NONE)
			add(&l, "  -> gpa 0x%016llx (no paging)", (unsigned long long)res->gpa);
		else
			add(&l, "  -> gpa 0x%016llx, %s page, %s %s %s, PAT index %u",
			    (unsigned long long)res->gpa, size_name(res->page_size), res->writable ? "RW" : "RO",
			    res->user ? "user" : "supervisor", res->executable ? "exec" : "no-exec",
			    res->pat_index);
		if (res->has_pkey)
			add(&l, ", key %u", res->pkey);
		flush(&l, emit, ctx);
	}

	switch (res->status) {
	case GW_OK:
		if (res->set_accessed || res->set_dirty) {
			add(&l, "  A/D: would set");
			for (unsigned i = 0; i < res->nlevels; i++)
				if (res->set_accessed & (1u << i))
					add(&l, " %s.A", level_names[res->levels[i].level]);
			if (res->set_dirty)
				add(&l, " %s.D", level_names[res->levels[res->nlevels - 1].level]);
			flush(&l, emit, ctx);
		}
		break;
	case GW_PAGE_FAULT: {
		u32 ec = res->error_code;
		add(&l, "  #PF error code 0x%x [%s%s%s%s%s%s ]: %s", ec, (ec & GW_PF_P) ? " P" : "",
		    (ec & GW_PF_W) ? " W" : "", (ec & GW_PF_U) ? " U" : "", (ec & GW_PF_RSVD) ? " RSVD" : "",
		    (ec & GW_PF_ID) ? " I/D" : "", (ec & GW_PF_PK) ? " PK" : "",
		    (unsigned)res->reason < ARRAY_SIZE(reason_names) ? reason_names[res->reason] : "?");
		if (res->reason == GW_FAULT_RESERVED)
			add(&l, " (bits 0x%llx)", (unsigned long long)res->reserved_bits);
		flush(&l, emit, ctx);
		break;
	}
	case GW_NONCANONICAL:
		add(&l, "  #GP: non-canonical address");
		flush(&l, emit, ctx);
		break;
	case GW_TABLE_UNREADABLE:
		add(&l, "  paging structure at gpa 0x%016llx is not in guest RAM",
		    (unsigned long long)res->unreadable_gpa);
		flush(&l, emit, ctx);
		break;
	case GW_BAD_PDPTE:
		add(&l, "  PDPTE reserved bits 0x%llx set: loading CR3 would have raised #GP",
		    (unsigned long long)res->reserved_bits);
		flush(&l, emit, ctx);
		break;
	case GW_BAD_REGS:
		add(&l, "  CR0/CR4/EFER or MAXPHYADDR describe no state the CPU can be in");
		flush(&l, emit, ctx);
		break;
	}
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t len; /* keeps counting past the end, like snprintf */
};

static void buf_line(void *ctx, const char *line)
{
	struct buf_sink *s = ctx;
	size_t n = strlen(line);
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? line[i] : '\n';
		if (s->len + 1 < s->size)
			s->buf[s->len] = c;
		s->len++;
	}
}

size_t guest_walk_format(const struct guest_walk_result *res, char *buf, size_t size)
{
	struct buf_sink s = { buf, size, 0 };
	guest_walk_print(res, buf_line, &s);
	if (size)
		buf[MIN(s.len, size - 1)] = '\0';
	return s.len;
}
