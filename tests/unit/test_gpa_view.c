/* unit-sources: kernel/vm/gpa_view.c svm/npt_format.c vmx/ept_format.c tests/unit/fake_printk.c */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/vm/gpa_view.h"
#include "svm/npt_format.h"
#include "vmx/ept_format.h"
#include "tests/unit/fake_printk.h"

/* ck_assert records a mark point (a write to Check's channel) even when it
 * passes, far too slow for the fake memory's callbacks and the model loops,
 * which run millions of times: they fail through this instead. */
#define REQUIRE(cond, ...)                          \
	do {                                        \
		if (!(cond))                        \
			ck_abort_msg(__VA_ARGS__);  \
	} while (0)

/* ---- fake physical memory ---------------------------------------------------
 * Tables come from a pool at fake physical addresses.  Every allocation, free
 * and entry store is logged in order; a shadow copy is kept up to date from the
 * store notifications alone, so comparing it with the real pool proves that no
 * store escaped the log.  Freed tables are poisoned and any later access
 * through table_ptr fails the test. */

#define POOL_TABLES 4096u
#define POOL_BASE 0xa000000000ULL
#define POISON 0xa5a5a5a5a5a5a5a5ULL
#define ADDR_MASK 0x000ffffffffff000ULL

enum ev_kind { EV_ALLOC, EV_FREE, EV_STORE };
struct ev {
	enum ev_kind kind;
	u64 pa;
	u64 val;
};

static struct {
	u64 (*ram)[512];
	u64 (*shadow)[512];
	u64 (*snap)[512];
	bool used[POOL_TABLES];
	bool snap_used[POOL_TABLES];
	u32 stack[POOL_TABLES];
	u32 n_free;
	long budget; /* allocations still allowed, < 0: unlimited */
	u64 allocs, frees;
	struct ev *log;
	size_t n_log, cap_log;
} fm;

static u32 pool_index(u64 pa)
{
	REQUIRE(pa >= POOL_BASE && pa < POOL_BASE + POOL_TABLES * 4096ULL,
		      "pa %#llx outside the pool", (unsigned long long)pa);
	return (u32)((pa - POOL_BASE) >> 12);
}

static void log_ev(enum ev_kind k, u64 pa, u64 val)
{
	if (fm.n_log == fm.cap_log) {
		fm.cap_log = fm.cap_log ? fm.cap_log * 2 : 4096;
		fm.log = realloc(fm.log, fm.cap_log * sizeof(*fm.log));
		REQUIRE(fm.log, "out of memory");
	}
	fm.log[fm.n_log++] = (struct ev){ k, pa, val };
}

static void watch_step(void);

static u64 fm_alloc(void *ctx)
{
	if (fm.budget == 0 || fm.n_free == 0)
		return 0;
	if (fm.budget > 0)
		fm.budget--;
	u32 i = fm.stack[--fm.n_free];
	REQUIRE(!fm.used[i], "free list corrupt");
	fm.used[i] = true;
	memset(fm.ram[i], 0, 4096);
	memset(fm.shadow[i], 0, 4096);
	fm.allocs++;
	u64 pa = POOL_BASE + (u64)i * 4096;
	log_ev(EV_ALLOC, pa, 0);
	return pa;
}

static void fm_free(void *ctx, u64 pa)
{
	REQUIRE(!(pa & 0xfff), "misaligned table %#llx", (unsigned long long)pa);
	u32 i = pool_index(pa);
	REQUIRE(fm.used[i], "double free of %#llx", (unsigned long long)pa);
	fm.used[i] = false;
	for (int k = 0; k < 512; k++)
		fm.ram[i][k] = fm.shadow[i][k] = POISON;
	fm.stack[fm.n_free++] = i;
	fm.frees++;
	log_ev(EV_FREE, pa, 0);
	/* Freeing a table that is still reachable shows up as a broken walk. */
	watch_step();
}

static u64 *fm_ptr(void *ctx, u64 pa)
{
	REQUIRE(!(pa & 0xfff), "misaligned table %#llx", (unsigned long long)pa);
	u32 i = pool_index(pa);
	REQUIRE(fm.used[i], "access to freed table %#llx", (unsigned long long)pa);
	return fm.ram[i];
}

static void fm_stored(void *ctx, u64 entry_pa, u64 val)
{
	u32 i = pool_index(entry_pa);
	u32 k = (u32)(entry_pa & 0xfff) / 8;
	REQUIRE(!(entry_pa & 7), "misaligned entry");
	REQUIRE(fm.used[i], "store to freed table %#llx", (unsigned long long)entry_pa);
	REQUIRE(fm.ram[i][k] == val, "hook value differs from memory");
	fm.shadow[i][k] = val;
	log_ev(EV_STORE, entry_pa, val);
	watch_step();
}

static const struct slat_mem fm_ops = {
	.alloc_table = fm_alloc,
	.free_table = fm_free,
	.table_ptr = fm_ptr,
	.stored = fm_stored,
	.ctx = NULL,
};

static u64 live_tables(void)
{
	return fm.allocs - fm.frees;
}

static void log_reset(void)
{
	fm.n_log = 0;
}

static size_t log_count(enum ev_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < fm.n_log; i++)
		n += fm.log[i].kind == k;
	return n;
}

/* The tables in use and their contents (free frames may be poisoned anew). */
static void snapshot(void)
{
	memcpy(fm.snap, fm.ram, POOL_TABLES * 4096ULL);
	memcpy(fm.snap_used, fm.used, sizeof(fm.used));
}

static bool unchanged_since_snapshot(void)
{
	if (memcmp(fm.snap_used, fm.used, sizeof(fm.used)))
		return false;
	for (u32 i = 0; i < POOL_TABLES; i++)
		if (fm.used[i] && memcmp(fm.snap[i], fm.ram[i], 4096))
			return false;
	return true;
}

static void assert_shadow_matches(void)
{
	for (u32 i = 0; i < POOL_TABLES; i++)
		if (fm.used[i])
			REQUIRE(memcmp(fm.ram[i], fm.shadow[i], 4096) == 0,
				      "table %u written behind the store hook", i);
}

/* ---- test-side view of the tree --------------------------------------------- */

static struct gpa_view view;

/* Entry i of the table at pa, read straight from the pool. */
static u64 E(u64 pa, u32 i)
{
	u32 t = pool_index(pa);
	REQUIRE(fm.used[t], "table %#llx is free", (unsigned long long)pa);
	return fm.ram[t][i];
}

static u64 table_of(u64 e)
{
	return e & ADDR_MASK;
}

/* Translation of one page as a fresh hardware walk would see it. */
struct tx {
	int state; /* 0 unmapped, 1 mapped, -1 walked into a non-table */
	u64 hpa;
	u32 perms;
	int mt;
};

static bool tx_eq(struct tx a, struct tx b)
{
	return a.state == b.state && a.hpa == b.hpa && a.perms == b.perms && a.mt == b.mt;
}

static struct tx xlate(u64 gpa)
{
	const struct slat_format *f = view.fmt;
	struct tx t = { 0, 0, 0, 0 };
	u64 pa = view.root;
	for (int level = f->levels; level >= 1; level--) {
		u32 ti = (u32)((pa - POOL_BASE) >> 12);
		if (pa < POOL_BASE || ti >= POOL_TABLES || !fm.used[ti]) {
			t.state = -1;
			return t;
		}
		u64 e = fm.ram[ti][(gpa >> (12 + 9 * (level - 1))) & 511];
		if (!e)
			return t;
		if (f->is_leaf(view.flags, level, e)) {
			t.state = 1;
			t.hpa = f->addr(view.flags, level, e) + (gpa & ((1ULL << (12 + 9 * (level - 1))) - 1));
			t.perms = f->perms(view.flags, e);
			t.mt = f->memtype(view.flags, e);
			return t;
		}
		pa = f->addr(view.flags, level, e);
	}
	t.state = -1;
	return t;
}

/* ---- write-order watch -------------------------------------------------------
 * While armed, every store and every free re-walks a set of sample pages.  A page outside the
 * operation's range must never change; a page inside may change once, from its
 * old translation to its new one, and never pass through anything else. */

#define WATCH_MAX 4096
static struct {
	bool on;
	u64 lo, hi;
	u32 n;
	u64 gpa[WATCH_MAX];
	struct tx before[WATCH_MAX], seen[WATCH_MAX];
	bool changed[WATCH_MAX];
	u64 stores;
	int violations;
	char first[256];
} w;

static void watch_add(u64 gpa)
{
	gpa &= ~0xfffULL;
	if (w.n < WATCH_MAX && gpa < view.gpa_limit)
		w.gpa[w.n++] = gpa;
}

static void watch_begin(u64 lo, u64 hi)
{
	w.lo = lo;
	w.hi = hi;
	w.stores = 0;
	w.violations = 0;
	w.first[0] = '\0';
	for (u32 k = 0; k < w.n; k++) {
		w.before[k] = xlate(w.gpa[k]);
		w.changed[k] = false;
		REQUIRE(w.before[k].state >= 0, "broken tree before the operation");
	}
	w.on = true;
}

static void watch_violation(u32 k, const char *what)
{
	if (!w.violations++)
		snprintf(w.first, sizeof(w.first), "store %llu: page %#llx %s",
			 (unsigned long long)w.stores, (unsigned long long)w.gpa[k], what);
}

static void watch_step(void)
{
	if (!w.on)
		return;
	w.stores++;
	for (u32 k = 0; k < w.n; k++) {
		struct tx t = xlate(w.gpa[k]);
		if (t.state < 0) {
			watch_violation(k, "walks through a non-table");
			continue;
		}
		if (w.changed[k] ? tx_eq(t, w.seen[k]) : tx_eq(t, w.before[k]))
			continue;
		if (w.gpa[k] < w.lo || w.gpa[k] >= w.hi)
			watch_violation(k, "changed outside the operation's range");
		else if (w.changed[k])
			watch_violation(k, "went through an intermediate translation");
		w.changed[k] = true;
		w.seen[k] = t;
	}
}

/* Ends the watch: returns how many stores it saw. */
static u64 watch_end(void)
{
	w.on = false;
	ck_assert_msg(w.violations == 0, "%d write-order violations, first: %s", w.violations, w.first);
	u64 n = w.stores;
	w.n = 0;
	return n;
}

/* ---- tree invariants ---------------------------------------------------------
 * Every reachable table is allocated, no non-root table is empty or could be
 * one large leaf, every entry is in the codec's canonical form.  Returns the
 * number of tables reachable. */

static u64 check_subtree(u64 pa, int level, bool is_root)
{
	const struct slat_format *f = view.fmt;
	u64 n = 1;
	bool all_zero = true, mergeable = (view.leaf_levels & (1u << (level + 1))) != 0;
	u64 first_hpa = 0;
	u32 first_perms = 0;
	int first_mt = 0;
	for (u32 i = 0; i < 512; i++) {
		u64 e = E(pa, i);
		if (e)
			all_zero = false;
		if (!e) {
			mergeable = false;
			continue;
		}
		if (!f->is_leaf(view.flags, level, e)) {
			REQUIRE(level > 1, "table pointer at level 1");
			u64 c = f->addr(view.flags, level, e);
			REQUIRE(e == f->table(view.flags, c), "non-canonical table entry %#llx", (unsigned long long)e);
			mergeable = false;
			n += check_subtree(c, level - 1, false);
			continue;
		}
		REQUIRE(view.leaf_levels & (1u << level), "leaf at level %d", level);
		u64 hpa = f->addr(view.flags, level, e);
		u32 p = f->perms(view.flags, e);
		int mt = f->memtype(view.flags, e);
		REQUIRE(e == f->leaf(view.flags, level, hpa, p, (enum gpa_memtype)mt), "non-canonical leaf %#llx", (unsigned long long)e);
		if (i == 0) {
			first_hpa = hpa;
			first_perms = p;
			first_mt = mt;
			if (hpa & ((1ULL << (12 + 9 * level)) - 1))
				mergeable = false;
		} else if (hpa != first_hpa + ((u64)i << (12 + 9 * (level - 1))) || p != first_perms ||
			   mt != first_mt) {
			mergeable = false;
		}
	}
	if (!is_root) {
		REQUIRE(!all_zero, "empty table left at level %d", level);
		REQUIRE(!mergeable, "mergeable table left at level %d", level);
	}
	return n;
}

static void check_tree(void)
{
	u64 n = check_subtree(view.root, view.fmt->levels, true);
	ck_assert_uint_eq(n, live_tables());
}

/* ---- fixture -------------------------------------------------------------- */

static void setup(void)
{
	fake_printk_reset();
	memset(&fm, 0, sizeof(fm));
	fm.ram = malloc(POOL_TABLES * 4096ULL);
	fm.shadow = malloc(POOL_TABLES * 4096ULL);
	fm.snap = malloc(POOL_TABLES * 4096ULL);
	ck_assert(fm.ram && fm.shadow && fm.snap);
	memset(fm.ram, 0x5a, POOL_TABLES * 4096ULL);
	memcpy(fm.shadow, fm.ram, POOL_TABLES * 4096ULL);
	for (u32 i = 0; i < POOL_TABLES; i++)
		fm.stack[i] = POOL_TABLES - 1 - i;
	fm.n_free = POOL_TABLES;
	fm.budget = -1;
	memset(&w, 0, sizeof(w));
	memset(&view, 0, sizeof(view));
}

static void teardown(void)
{
	free(fm.ram);
	free(fm.shadow);
	free(fm.snap);
	free(fm.log);
}

static void up(const struct slat_format *f, u32 flags)
{
	ck_assert_int_eq(gpa_view_init(&view, f, flags, &fm_ops), 0);
	ck_assert_uint_eq(live_tables(), 1);
}

/* Table pointer of the entry at `level` on the way to gpa (level 4 = root's entry). */
static u64 entry_at(u64 gpa, int level)
{
	u64 pa = view.root;
	for (int l = view.fmt->levels; l > level; l--) {
		u64 e = E(pa, (gpa >> (12 + 9 * (l - 1))) & 511);
		ck_assert_msg(e && !view.fmt->is_leaf(view.flags, l, e), "no table at level %d", l);
		pa = table_of(e);
	}
	return E(pa, (gpa >> (12 + 9 * (level - 1))) & 511);
}

static u64 table_at(u64 gpa, int level)
{
	u64 pa = view.root;
	for (int l = view.fmt->levels; l > level; l--)
		pa = table_of(E(pa, (gpa >> (12 + 9 * (l - 1))) & 511));
	return pa;
}

static u32 count_nonzero(u64 pa)
{
	u32 n = 0;
	for (u32 i = 0; i < 512; i++)
		n += E(pa, i) != 0;
	return n;
}

static void expect_lookup(u64 gpa, u64 hpa, u32 perms, enum gpa_memtype mt, int level)
{
	struct gpa_mapping m;
	ck_assert_int_eq(gpa_view_lookup(&view, gpa, &m), 0);
	ck_assert_uint_eq(m.hpa, hpa);
	ck_assert_uint_eq(m.perms, perms);
	ck_assert_int_eq(m.memtype, mt);
	ck_assert_int_eq(m.level, level);
}

/* ---- the two codecs, spelled out bit by bit ---------------------------------- */

struct codec {
	const struct slat_format *f;
	u32 flags;
	u64 table;   /* bits of a table pointer */
	u64 rwx, rw, rx, r; /* permission bits of a WB leaf, memtype bits included */
	u64 large;   /* PS / bit 7 */
	u64 noacc_wb; /* no-access WB leaf */
	u64 uc_rw;   /* RW leaf, UC */
	u64 wt_rw;   /* RW leaf, WT */
};

static const struct codec codecs[] = {
	/* NPT: P|RW|US on tables; leaves P|US(|RW), NX = bit 63, WB = PAT index 0,
	 * WT = PWT, UC = PCD|PWT, no access = bit 9 with P clear. */
	{ &npt_format, 0, 0x7, 0x7, 0x8000000000000007ULL, 0x5, 0x8000000000000005ULL, 0x80, 0x200,
	  0x800000000000001fULL, 0x800000000000000fULL },
	/* EPT: R|W|X on tables; leaves bits 2:0, memtype in 5:3 (WB 6, UC 0, WT 4),
	 * no access = bit 11. */
	{ &ept_format, 0, 0x7, 0x37, 0x33, 0x35, 0x31, 0x80, 0x830, 0x03, 0x23 },
};

#define CODEC (&codecs[_i])

START_TEST(test_map_4k_exact)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x5000, 0x1000, GPA_PERM_RWX, GPA_MT_WB), 0);
	u64 pml4 = view.root;
	u64 e4 = E(pml4, 0);
	u64 pdpt = table_of(e4);
	ck_assert_uint_eq(e4, pdpt | CODEC->table);
	u64 e3 = E(pdpt, 0);
	u64 pd = table_of(e3);
	ck_assert_uint_eq(e3, pd | CODEC->table);
	u64 e2 = E(pd, 0);
	u64 pt = table_of(e2);
	ck_assert_uint_eq(e2, pt | CODEC->table);
	ck_assert_uint_eq(E(pt, 1), 0x5000 | CODEC->rwx);
	ck_assert_uint_eq(count_nonzero(pml4) + count_nonzero(pdpt) + count_nonzero(pd) +
				  count_nonzero(pt), 4);
	ck_assert_uint_eq(live_tables(), 4);
	expect_lookup(0x1abc, 0x5abc, GPA_PERM_RWX, GPA_MT_WB, 1);
	ck_assert_int_eq(gpa_view_lookup(&view, 0x2000, NULL), -GPA_ENOENT);
	ck_assert_int_eq(gpa_view_lookup(&view, 0x0, NULL), -GPA_ENOENT);
	check_tree();
}
END_TEST

START_TEST(test_map_2m_1g_exact)
{
	up(CODEC->f, CODEC->flags);
	/* 2 MiB: gpa 1G+2M -> hpa 2G+4M, read-only. */
	ck_assert_int_eq(gpa_view_map(&view, 0x40200000, 0x80400000, 0x200000, GPA_PERM_R, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0x40200000, 2), 0x80400000 | CODEC->r | CODEC->large);
	/* 1 GiB: gpa 3G -> hpa 5G, read/write. */
	ck_assert_int_eq(gpa_view_map(&view, 0xc0000000, 0x140000000, 0x40000000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0xc0000000, 3), 0x140000000 | CODEC->rw | CODEC->large);
	ck_assert_uint_eq(count_nonzero(table_at(0, 3)), 2);
	ck_assert_uint_eq(count_nonzero(table_at(0x40000000, 2)), 1);
	ck_assert_uint_eq(live_tables(), 3);
	expect_lookup(0x40212345, 0x80412345, GPA_PERM_R, GPA_MT_WB, 2);
	expect_lookup(0xc0000000 + 0x3fffffff, 0x140000000 + 0x3fffffff, GPA_PERM_RW, GPA_MT_WB, 3);
	check_tree();
}
END_TEST

START_TEST(test_page_size_from_alignment)
{
	up(CODEC->f, CODEC->flags);
	/* gpa 2M-aligned, hpa only 4K-aligned: 4 MiB of 4 KiB pages. */
	ck_assert_int_eq(gpa_view_map(&view, 0x200000, 0x12345000, 0x400000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(count_nonzero(table_at(0x200000, 1)), 512);
	ck_assert_uint_eq(count_nonzero(table_at(0x400000, 1)), 512);
	ck_assert_uint_eq(entry_at(0x200000, 1), 0x12345000 | CODEC->rw);
	ck_assert_uint_eq(entry_at(0x5ff000, 1), (0x12345000 + 0x3ff000) | CODEC->rw);
	/* hpa 2M-aligned but gpa only 4K-aligned: 4 KiB pages again. */
	ck_assert_int_eq(gpa_view_map(&view, 0x40001000, 0x80200000, 0x200000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0x40001000, 1), 0x80200000 | CODEC->rw);
	ck_assert_uint_eq(entry_at(0x401ff000, 1), (0x80200000 + 0x1fe000) | CODEC->rw);
	ck_assert_uint_eq(entry_at(0x40200000, 1), (0x80200000 + 0x1ff000) | CODEC->rw);
	/* gpa 1G-aligned, hpa 2M-aligned: 2 MiB pages. */
	ck_assert_int_eq(gpa_view_map(&view, 0x80000000, 0x200200000, 0x40000000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(count_nonzero(table_at(0x80000000, 2)), 512);
	ck_assert_uint_eq(entry_at(0x80000000, 2), 0x200200000 | CODEC->rw | CODEC->large);
	ck_assert_uint_eq(entry_at(0xbfe00000, 2), (0x200200000 + 0x3fe00000) | CODEC->rw | CODEC->large);
	check_tree();
}
END_TEST

START_TEST(test_page_size_flags)
{
	up(CODEC->f, CODEC->flags | GPA_VIEW_NO_1G);
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x40000000, 0x40000000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(count_nonzero(table_at(0x40000000, 2)), 512);
	ck_assert_uint_eq(entry_at(0x40000000, 2), 0x40000000 | CODEC->rw | CODEC->large);
	check_tree();
	gpa_view_destroy(&view);
	ck_assert_uint_eq(live_tables(), 0);

	up(CODEC->f, CODEC->flags | GPA_VIEW_NO_1G | GPA_VIEW_NO_2M);
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x40000000, 0x800000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(live_tables(), 1 + 1 + 1 + 4);
	ck_assert_uint_eq(entry_at(0x407ff000, 1), 0x407ff000 | CODEC->rw);
	check_tree();
}
END_TEST

START_TEST(test_straddle_2m_1g)
{
	up(CODEC->f, CODEC->flags);
	/* [1G - 2M - 8K, 1G + 2M + 8K) onto hpa + 4G: 2 x 4K, 2M, | 2M, 2 x 4K. */
	const u64 off = 0x100000000ULL, lo = 0x40000000 - 0x200000 - 0x2000;
	ck_assert_int_eq(gpa_view_map(&view, lo, lo + off, 0x400000 + 0x4000, GPA_PERM_RWX, GPA_MT_WB), 0);
	u64 pt_lo = table_at(lo, 1);
	ck_assert_uint_eq(count_nonzero(pt_lo), 2);
	ck_assert_uint_eq(E(pt_lo, 510), (lo + off) | CODEC->rwx);
	ck_assert_uint_eq(E(pt_lo, 511), (lo + off + 0x1000) | CODEC->rwx);
	u64 pd0 = table_at(0, 2), pd1 = table_at(0x40000000, 2);
	ck_assert_uint_eq(count_nonzero(pd0), 2);
	ck_assert_uint_eq(E(pd0, 510), pt_lo | CODEC->table);
	ck_assert_uint_eq(E(pd0, 511), (0x3fe00000 + off) | CODEC->rwx | CODEC->large);
	ck_assert_uint_eq(count_nonzero(pd1), 2);
	ck_assert_uint_eq(E(pd1, 0), (0x40000000 + off) | CODEC->rwx | CODEC->large);
	u64 pt_hi = table_at(0x40200000, 1);
	ck_assert_uint_eq(E(pd1, 1), pt_hi | CODEC->table);
	ck_assert_uint_eq(count_nonzero(pt_hi), 2);
	ck_assert_uint_eq(E(pt_hi, 0), (0x40200000 + off) | CODEC->rwx);
	ck_assert_uint_eq(E(pt_hi, 1), (0x40201000 + off) | CODEC->rwx);
	ck_assert_uint_eq(live_tables(), 1 + 1 + 2 + 2);
	check_tree();

	/* [2G - 4K, 3G + 2M + 4K) identity: 4K, 1G, 2M, 4K. */
	const u64 a = 0x80000000 - 0x1000;
	ck_assert_int_eq(gpa_view_map(&view, a, a, 0x40000000 + 0x200000 + 0x2000, GPA_PERM_R, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(a, 1), a | CODEC->r);
	ck_assert_uint_eq(entry_at(0x80000000, 3), 0x80000000 | CODEC->r | CODEC->large);
	ck_assert_uint_eq(entry_at(0xc0000000, 2), 0xc0000000 | CODEC->r | CODEC->large);
	ck_assert_uint_eq(entry_at(0xc0200000, 1), 0xc0200000 | CODEC->r);
	ck_assert_uint_eq(count_nonzero(table_at(0xc0200000, 1)), 1);
	check_tree();
}
END_TEST

/* Watches every 4K page of the 2M around gpa, one page in every other 2M of
 * its 1G, and a few pages outside. */
static void watch_neighbourhood(u64 gpa)
{
	u64 m2 = gpa & ~0x1fffffULL, g1 = gpa & ~0x3fffffffULL;
	for (u64 p = m2; p < m2 + 0x200000; p += 0x1000)
		watch_add(p);
	for (u64 p = g1; p < g1 + 0x40000000; p += 0x200000)
		if (p != m2)
			watch_add(p + ((p >> 9) & 0x1ff000));
	watch_add(g1 - 0x1000);
	watch_add(g1 + 0x40000000);
}

START_TEST(test_split_1g_and_merge_back)
{
	up(CODEC->f, CODEC->flags);
	const u64 g = 0x40000000, h = 0x140000000, page = g + 0x12345000;
	ck_assert_int_eq(gpa_view_map(&view, g, h, 0x40000000, GPA_PERM_RWX, GPA_MT_WB), 0);
	u64 pdpt = table_at(g, 3);
	ck_assert_uint_eq(live_tables(), 2);

	log_reset();
	watch_neighbourhood(page);
	watch_begin(page, page + 0x1000);
	ck_assert_int_eq(gpa_view_protect(&view, page, 0x1000, GPA_PERM_R), GPA_VIEW_FLUSH);
	watch_end();

	/* 1G -> 512 x 2M, the 2M holding the page -> 512 x 4K. */
	u64 e3 = E(pdpt, 1);
	u64 pd = table_of(e3);
	ck_assert_uint_eq(e3, pd | CODEC->table);
	const u32 i2 = 0x91, i1 = 0x145; /* 0x12345000 = 0x91 * 2M + 0x145 * 4K */
	for (u32 i = 0; i < 512; i++)
		if (i != i2)
			ck_assert_uint_eq(E(pd, i), (h + i * 0x200000ULL) | CODEC->rwx | CODEC->large);
	u64 pt = table_of(E(pd, i2));
	ck_assert_uint_eq(E(pd, i2), pt | CODEC->table);
	for (u32 i = 0; i < 512; i++) {
		u64 hpa = h + i2 * 0x200000ULL + i * 0x1000ULL;
		ck_assert_uint_eq(E(pt, i), hpa | (i == i1 ? CODEC->r : CODEC->rwx));
	}
	ck_assert_uint_eq(live_tables(), 4);
	expect_lookup(page, h + 0x12345000, GPA_PERM_R, GPA_MT_WB, 1);
	expect_lookup(page - 0x1000, h + 0x12344000, GPA_PERM_RWX, GPA_MT_WB, 1);
	expect_lookup(page + 0x1000, h + 0x12346000, GPA_PERM_RWX, GPA_MT_WB, 1);
	expect_lookup(g, h, GPA_PERM_RWX, GPA_MT_WB, 2);

	/* The log: two allocations, both new tables filled, then exactly one store
	 * to the live PDPT slot, last. */
	ck_assert_uint_eq(log_count(EV_ALLOC), 2);
	ck_assert_uint_eq(log_count(EV_FREE), 0);
	ck_assert_uint_eq(fm.log[fm.n_log - 1].kind, EV_STORE);
	ck_assert_uint_eq(fm.log[fm.n_log - 1].pa, pdpt + 8);
	for (size_t i = 0; i + 1 < fm.n_log; i++)
		ck_assert(fm.log[i].kind != EV_STORE || table_of(fm.log[i].pa) == pd ||
			  table_of(fm.log[i].pa) == pt);
	assert_shadow_matches();
	check_tree();

	/* Back to RWX: the 4K table and then the 2M table collapse. */
	log_reset();
	watch_neighbourhood(page);
	watch_begin(page, page + 0x1000);
	ck_assert_int_eq(gpa_view_protect(&view, page, 0x1000, GPA_PERM_RWX), GPA_VIEW_FLUSH);
	watch_end();
	ck_assert_uint_eq(E(pdpt, 1), h | CODEC->rwx | CODEC->large);
	ck_assert_uint_eq(live_tables(), 2);
	ck_assert_uint_eq(fm.allocs, 4);
	ck_assert_uint_eq(fm.frees, 2);
	/* Each table is freed only after the store that unlinked it. */
	size_t pd_store = 0, pd_free = 0, pdpt_store = 0, pt_free = 0;
	for (size_t i = 0; i < fm.n_log; i++) {
		const struct ev *x = &fm.log[i];
		if (x->kind == EV_STORE && x->pa == pd + 8 * i2)
			pd_store = i + 1;
		if (x->kind == EV_STORE && x->pa == pdpt + 8)
			pdpt_store = i + 1;
		if (x->kind == EV_FREE && x->pa == pt)
			pt_free = i + 1;
		if (x->kind == EV_FREE && x->pa == pd)
			pd_free = i + 1;
	}
	ck_assert(pd_store && pt_free && pdpt_store && pd_free);
	ck_assert_uint_lt(pd_store, pt_free);
	ck_assert_uint_lt(pdpt_store, pd_free);
	assert_shadow_matches();
	check_tree();
}
END_TEST

START_TEST(test_unmap_middle)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x200000, 0x200000, 0x200000, GPA_PERM_RW, GPA_MT_WB), 0);
	u64 base_tables = live_tables();
	log_reset();
	watch_neighbourhood(0x300000);
	watch_begin(0x300000, 0x301000);
	ck_assert_int_eq(gpa_view_unmap(&view, 0x300000, 0x1000), GPA_VIEW_FLUSH);
	watch_end();
	u64 pt = table_at(0x300000, 1);
	ck_assert_uint_eq(count_nonzero(pt), 511);
	ck_assert_uint_eq(E(pt, 256), 0);
	ck_assert_int_eq(gpa_view_lookup(&view, 0x300000, NULL), -GPA_ENOENT);
	expect_lookup(0x2ff000, 0x2ff000, GPA_PERM_RW, GPA_MT_WB, 1);
	expect_lookup(0x301000, 0x301000, GPA_PERM_RW, GPA_MT_WB, 1);
	/* Remapping the hole as it was restores the 2M leaf. */
	ck_assert_int_eq(gpa_view_map(&view, 0x300000, 0x300000, 0x1000, GPA_PERM_RW, GPA_MT_WB), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x200000, 2), 0x200000 | CODEC->rw | CODEC->large);
	ck_assert_uint_eq(live_tables(), base_tables);
	check_tree();

	/* Unmap 2M + 8K out of the middle of a 1G page. */
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x40000000, 0x40000000, GPA_PERM_RX, GPA_MT_WB), 0);
	const u64 lo = 0x40000000 + 0x10000000 - 0x1000;
	log_reset();
	watch_neighbourhood(lo);
	watch_neighbourhood(lo + 0x202000);
	watch_begin(lo, lo + 0x202000);
	ck_assert_int_eq(gpa_view_unmap(&view, lo, 0x202000), GPA_VIEW_FLUSH);
	watch_end();
	ck_assert_int_eq(gpa_view_lookup(&view, lo, NULL), -GPA_ENOENT);
	ck_assert_int_eq(gpa_view_lookup(&view, lo + 0x201000, NULL), -GPA_ENOENT);
	expect_lookup(lo - 0x1000, lo - 0x1000, GPA_PERM_RX, GPA_MT_WB, 1);
	expect_lookup(lo + 0x202000, lo + 0x202000, GPA_PERM_RX, GPA_MT_WB, 1);
	expect_lookup(0x40000000, 0x40000000, GPA_PERM_RX, GPA_MT_WB, 2);
	ck_assert_uint_eq(entry_at(0x50000000, 2), 0);
	check_tree();

	/* Unmapping everything frees every table but the root. */
	ck_assert_int_eq(gpa_view_unmap(&view, 0, 0x80000000), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(live_tables(), 1);
	ck_assert_uint_eq(count_nonzero(view.root), 0);
	/* Unmapping a hole changes nothing and needs no flush. */
	log_reset();
	ck_assert_int_eq(gpa_view_unmap(&view, 0x1000, 0x1000), 0);
	ck_assert_uint_eq(fm.n_log, 0);
}
END_TEST

START_TEST(test_memtype)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x200000, 0x600000, 0x200000, GPA_PERM_RW, GPA_MT_WB), 0);
	log_reset();
	watch_neighbourhood(0x3ff000);
	watch_begin(0x3ff000, 0x400000);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x3ff000, 0x1000, GPA_MT_UC), GPA_VIEW_FLUSH);
	watch_end();
	ck_assert_uint_eq(entry_at(0x3ff000, 1), 0x7ff000 | CODEC->uc_rw);
	ck_assert_uint_eq(entry_at(0x3fe000, 1), 0x7fe000 | CODEC->rw);
	expect_lookup(0x3ff000, 0x7ff000, GPA_PERM_RW, GPA_MT_UC, 1);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x200000, 0x1000, GPA_MT_WT), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x200000, 1), 0x600000 | CODEC->wt_rw);
	expect_lookup(0x200000, 0x600000, GPA_PERM_RW, GPA_MT_WT, 1);
	/* Setting the same type again is free. */
	log_reset();
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x200000, 0x1000, GPA_MT_WT), 0);
	ck_assert_uint_eq(fm.n_log, 0);
	/* Holes stay holes. */
	log_reset();
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x0, 0x200000, GPA_MT_UC), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x0, 0x200000, GPA_PERM_R), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x8000000000ULL, 0x40000000, GPA_PERM_R), 0);
	ck_assert_uint_eq(fm.n_log, 0);
	ck_assert_int_eq(gpa_view_lookup(&view, 0x1000, NULL), -GPA_ENOENT);
	/* All back to WB: one 2M leaf again. */
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x0, 0x400000, GPA_MT_WB), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x200000, 2), 0x600000 | CODEC->rw | CODEC->large);
	ck_assert_uint_eq(live_tables(), 3);
	/* The whole 2M to UC in place. */
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x200000, 0x200000, GPA_MT_UC), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x200000, 2), 0x600000 | CODEC->uc_rw | CODEC->large);
	check_tree();
}
END_TEST

START_TEST(test_memtype_per_format)
{
	up(&npt_format, 0);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0, 0x1000, GPA_PERM_RW, GPA_MT_WB), 0);
	snapshot();
	log_reset();
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0, 0x1000, GPA_MT_WC), -GPA_EMEMTYPE);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0, 0x1000, GPA_MT_WP), -GPA_EMEMTYPE);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x1000, 0x1000, GPA_PERM_RW, GPA_MT_WC), -GPA_EMEMTYPE);
	ck_assert_uint_eq(fm.n_log, 0);
	ck_assert(unchanged_since_snapshot());
	gpa_view_destroy(&view);

	up(&ept_format, 0);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0, 0x1000, GPA_PERM_RW, GPA_MT_WC), 0);
	ck_assert_uint_eq(entry_at(0, 1), 0x0b);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x1000, 0x1000, GPA_PERM_RW, GPA_MT_WP), 0);
	ck_assert_uint_eq(entry_at(0x1000, 1), 0x102b);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0, 0x1000, (enum gpa_memtype)2), -GPA_EINVAL);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0, 0x1000, (enum gpa_memtype)7), -GPA_EINVAL);
	gpa_view_destroy(&view);

	/* Ignore-PAT goes on WB leaves only. */
	up(&ept_format, EPT_FMT_IPAT_WB);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0, 0x1000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0, 1), 0x73);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x1000, 0x1000, GPA_PERM_RW, GPA_MT_UC), 0);
	ck_assert_uint_eq(entry_at(0x1000, 1), 0x1003);
	expect_lookup(0, 0, GPA_PERM_RW, GPA_MT_WB, 1);
	check_tree();
}
END_TEST

START_TEST(test_ept_permissions)
{
	up(&ept_format, 0);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0x10000, 0x1000, GPA_PERM_RW, GPA_MT_WB), 0);
	snapshot();
	log_reset();
	/* Write-only and write+execute are misconfigurations; execute-only needs
	 * the capability. */
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0, 0x1000, GPA_PERM_W, GPA_MT_WB), -GPA_EPERM);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0, 0x1000, GPA_PERM_W | GPA_PERM_X, GPA_MT_WB), -GPA_EPERM);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_W), -GPA_EPERM);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_X), -GPA_EPERM);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_XU), -GPA_EPERM);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, 0x10), -GPA_EINVAL);
	ck_assert_uint_eq(fm.n_log, 0);
	ck_assert(unchanged_since_snapshot());
	/* Without MBEC either X bit is both. */
	ck_assert_int_eq(gpa_view_perms_effective(&view, GPA_PERM_R | GPA_PERM_XK), GPA_PERM_RX);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_R | GPA_PERM_XU), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0, 1), 0x10035);
	expect_lookup(0, 0x10000, GPA_PERM_RX, GPA_MT_WB, 1);
	/* No access: not present, but the mapping is remembered. */
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, 0), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0, 1), 0x10830);
	ck_assert(!ept_format.present(0, 0x10830));
	expect_lookup(0, 0x10000, 0, GPA_MT_WB, 1);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_RW), 0);
	ck_assert_uint_eq(entry_at(0, 1), 0x10033);
	gpa_view_destroy(&view);

	up(&ept_format, EPT_FMT_XONLY);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0x10000, 0x1000, GPA_PERM_XK, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0, 1), 0x10034);
	expect_lookup(0, 0x10000, GPA_PERM_X, GPA_MT_WB, 1);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_W | GPA_PERM_X), -GPA_EPERM);
	gpa_view_destroy(&view);

	/* Mode-based execute: bit 2 kernel, bit 10 user; tables grant both. */
	up(&ept_format, EPT_FMT_MBEC | EPT_FMT_XONLY);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0x10000, 0x1000, GPA_PERM_R | GPA_PERM_XK, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0, 1), 0x10035);
	ck_assert_uint_eq(entry_at(0, 2), table_at(0, 1) | 0x407);
	ck_assert_uint_eq(entry_at(0, 4), table_at(0, 3) | 0x407);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x11000, 0x1000, GPA_PERM_R | GPA_PERM_XU, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0x1000, 1), 0x11431);
	ck_assert_int_eq(gpa_view_map(&view, 0x2000, 0x12000, 0x1000, GPA_PERM_XU, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0x2000, 1), 0x12430);
	ck_assert(ept_format.present(EPT_FMT_MBEC, 0x12430));
	ck_assert(!ept_format.present(0, 0x12430));
	expect_lookup(0x2000, 0x12000, GPA_PERM_XU, GPA_MT_WB, 1);
	ck_assert_int_eq(gpa_view_map(&view, 0x3000, 0x13000, 0x1000, GPA_PERM_RWX, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0x3000, 1), 0x13437);
	/* Dropping user execute is a reduction. */
	ck_assert_int_eq(gpa_view_protect(&view, 0x3000, 0x1000, GPA_PERM_RW | GPA_PERM_XK), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x3000, 1), 0x13037);
	check_tree();
}
END_TEST

START_TEST(test_npt_permissions)
{
	up(&npt_format, 0);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0x10000, 0x1000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_uint_eq(entry_at(0, 1), 0x8000000000010007ULL);
	/* Read-less requests grant nothing: a non-present entry that keeps the
	 * mapping. */
	ck_assert_int_eq(gpa_view_perms_effective(&view, GPA_PERM_W), 0);
	ck_assert_int_eq(gpa_view_perms_effective(&view, GPA_PERM_X), 0);
	ck_assert_int_eq(gpa_view_perms_effective(&view, GPA_PERM_W | GPA_PERM_XU), 0);
	ck_assert_int_eq(gpa_view_perms_effective(&view, GPA_PERM_R | GPA_PERM_XU), GPA_PERM_RX);
	ck_assert_int_eq(gpa_view_protect(&view, 0, 0x1000, GPA_PERM_W), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0, 1), 0x10200);
	expect_lookup(0, 0x10000, 0, GPA_MT_WB, 1);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x11000, 0x1000, GPA_PERM_X, GPA_MT_UC), 0);
	ck_assert_uint_eq(entry_at(0x1000, 1), 0x11218);
	expect_lookup(0x1000, 0x11000, 0, GPA_MT_UC, 1);
	/* Either X bit clears NX and grants both. */
	ck_assert_int_eq(gpa_view_protect(&view, 0x1000, 0x1000, GPA_PERM_R | GPA_PERM_XK), 0);
	ck_assert_uint_eq(entry_at(0x1000, 1), 0x1101d);
	expect_lookup(0x1000, 0x11000, GPA_PERM_RX, GPA_MT_UC, 1);
	ck_assert_int_eq(gpa_view_protect(&view, 0x1000, 0x1000, GPA_PERM_R), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x1000, 1), 0x800000000001101dULL);
	/* A large no-access page keeps PS. */
	ck_assert_int_eq(gpa_view_map(&view, 0x200000, 0x400000, 0x200000, 0, GPA_MT_WT), 0);
	ck_assert_uint_eq(entry_at(0x200000, 2), 0x400288);
	expect_lookup(0x200000, 0x400000, 0, GPA_MT_WT, 2);
	check_tree();
}
END_TEST

START_TEST(test_npt_user_bit_everywhere)
{
	up(&npt_format, 0);
	const u64 gpas[] = { 0x1000, 0x40200000, 0x80000000, 0x8000000000ULL + 0x3000 };
	const u64 sizes[] = { 0x1000, 0x200000, 0x40000000, 0x1000 };
	for (u32 k = 0; k < ARRAY_SIZE(gpas); k++)
		ck_assert_int_eq(gpa_view_map(&view, gpas[k], gpas[k], sizes[k], GPA_PERM_R, GPA_MT_WB), 0);
	for (u32 k = 0; k < ARRAY_SIZE(gpas); k++) {
		struct gpa_walk wk;
		ck_assert_int_eq(gpa_view_walk(&view, gpas[k], &wk), 0);
		ck_assert_int_eq(wk.depth, 4 - (sizes[k] == 0x200000) - 2 * (sizes[k] == 0x40000000));
		for (int s = 0; s < wk.depth; s++) {
			u64 e = wk.step[s].entry;
			ck_assert_uint_eq(e & (NPT_P | NPT_US), NPT_P | NPT_US);
			if (wk.step[s].kind == GPA_ENTRY_TABLE)
				ck_assert_uint_eq(e & (NPT_RW | NPT_NX), NPT_RW);
			else
				ck_assert_uint_eq(e & (NPT_RW | NPT_NX), NPT_NX);
		}
	}
	check_tree();
}
END_TEST

START_TEST(test_walk_and_lookup)
{
	up(CODEC->f, CODEC->flags);
	const u64 gpa = 0x8040201000ULL; /* slots 1, 1, 1, 1 */
	ck_assert_int_eq(gpa_view_map(&view, gpa, 0x777000, 0x1000, GPA_PERM_RW, GPA_MT_UC), 0);
	struct gpa_walk wk;
	ck_assert_int_eq(gpa_view_walk(&view, gpa + 0x123, &wk), 0);
	ck_assert_int_eq(wk.depth, 4);
	u64 pa = view.root;
	for (int s = 0; s < 4; s++) {
		ck_assert_int_eq(wk.step[s].level, 4 - s);
		ck_assert_uint_eq(wk.step[s].index, 1);
		ck_assert_uint_eq(wk.step[s].table_pa, pa);
		ck_assert_uint_eq(wk.step[s].entry, E(pa, 1));
		ck_assert_int_eq(wk.step[s].kind, s < 3 ? GPA_ENTRY_TABLE : GPA_ENTRY_LEAF);
		pa = table_of(wk.step[s].entry);
	}
	ck_assert_uint_eq(wk.step[3].entry, 0x777000 | CODEC->uc_rw);
	ck_assert_uint_eq(wk.map.hpa, 0x777123);
	ck_assert_uint_eq(wk.map.perms, GPA_PERM_RW);
	ck_assert_int_eq(wk.map.memtype, GPA_MT_UC);
	ck_assert_int_eq(wk.map.level, 1);

	/* A hole two levels down: the walk stops at the empty entry. */
	ck_assert_int_eq(gpa_view_walk(&view, 0x8000000000ULL, &wk), -GPA_ENOENT);
	ck_assert_int_eq(wk.depth, 2);
	ck_assert_int_eq(wk.step[0].kind, GPA_ENTRY_TABLE);
	ck_assert_int_eq(wk.step[1].kind, GPA_ENTRY_EMPTY);
	ck_assert_uint_eq(wk.step[1].index, 0);
	ck_assert_int_eq(gpa_view_walk(&view, 0, &wk), -GPA_ENOENT);
	ck_assert_int_eq(wk.depth, 1);
	ck_assert_int_eq(gpa_view_walk(&view, 1ULL << 48, &wk), -GPA_ERANGE);
	ck_assert_int_eq(gpa_view_lookup(&view, ~0ULL, NULL), -GPA_ERANGE);

	char buf[5];
	gpa_perms_str(GPA_PERM_R | GPA_PERM_XU, buf);
	ck_assert_str_eq(buf, "R--U");
	gpa_perms_str(GPA_PERM_RWX, buf);
	ck_assert_str_eq(buf, "RWKU");
	ck_assert_str_eq(gpa_memtype_name(GPA_MT_WB), "WB");
	ck_assert_str_eq(gpa_memtype_name((enum gpa_memtype)3), "??");
}
END_TEST

START_TEST(test_validation)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x40000000, 0x40000000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x1000, 0x1000, GPA_PERM_RW, GPA_MT_WB), 0);
	snapshot();
	u64 allocs = fm.allocs;
	log_reset();
	const u64 top = 1ULL << 48;
	struct {
		int op; /* 0 map, 1 unmap, 2 protect, 3 memtype */
		u64 gpa, hpa, size;
		u32 perms;
		int mt;
		int err;
	} bad[] = {
		{ 0, 0x40000800, 0x40000000, 0x1000, GPA_PERM_R, GPA_MT_WB, -GPA_EINVAL },
		{ 0, 0x40000000, 0x40000010, 0x1000, GPA_PERM_R, GPA_MT_WB, -GPA_EINVAL },
		{ 0, 0x40000000, 0x40000000, 0x1001, GPA_PERM_R, GPA_MT_WB, -GPA_EINVAL },
		{ 0, 0x40000000, 0x40000000, 0, GPA_PERM_R, GPA_MT_WB, -GPA_EINVAL },
		{ 0, ~0xfffULL, 0, 0x2000, GPA_PERM_R, GPA_MT_WB, -GPA_ERANGE },
		{ 0, top - 0x1000, 0, 0x2000, GPA_PERM_R, GPA_MT_WB, -GPA_ERANGE },
		{ 0, top, 0, 0x1000, GPA_PERM_R, GPA_MT_WB, -GPA_ERANGE },
		{ 0, 0x40000000, (1ULL << 52) - 0x1000, 0x2000, GPA_PERM_R, GPA_MT_WB, -GPA_ERANGE },
		{ 0, 0x40000000, ~0xfffULL, 0x2000, GPA_PERM_R, GPA_MT_WB, -GPA_ERANGE },
		{ 0, 0x40000000, 0, 0x1000, 0x10, GPA_MT_WB, -GPA_EINVAL },
		{ 0, 0x40000000, 0, 0x1000, GPA_PERM_R, 3, -GPA_EINVAL },
		{ 0, 0x40000000, 0, 0x1000, GPA_PERM_R, 8, -GPA_EINVAL },
		{ 1, 0x40000000, 0, 0x800, 0, 0, -GPA_EINVAL },
		{ 1, 0x40000000, 0, 0, 0, 0, -GPA_EINVAL },
		{ 1, top - 0x1000, 0, 0x2000, 0, 0, -GPA_ERANGE },
		{ 1, ~0xfffULL, 0, 0x1000, 0, 0, -GPA_ERANGE },
		{ 2, 0x40000001, 0, 0x1000, GPA_PERM_R, 0, -GPA_EINVAL },
		{ 2, 0x40000000, 0, 0x1000, 0xff, 0, -GPA_EINVAL },
		{ 2, ~0xfffULL, 0, 0x2000, GPA_PERM_R, 0, -GPA_ERANGE },
		{ 3, 0x40000000, 0, 0x1000, 0, 2, -GPA_EINVAL },
		{ 3, 0x40000000, 0, 0x10, 0, GPA_MT_UC, -GPA_EINVAL },
		{ 3, top, 0, 0x1000, 0, GPA_MT_UC, -GPA_ERANGE },
	};
	for (u32 k = 0; k < ARRAY_SIZE(bad); k++) {
		int r;
		switch (bad[k].op) {
		case 0:
			r = gpa_view_map(&view, bad[k].gpa, bad[k].hpa, bad[k].size, bad[k].perms,
					 (enum gpa_memtype)bad[k].mt);
			break;
		case 1:
			r = gpa_view_unmap(&view, bad[k].gpa, bad[k].size);
			break;
		case 2:
			r = gpa_view_protect(&view, bad[k].gpa, bad[k].size, bad[k].perms);
			break;
		default:
			r = gpa_view_set_memtype(&view, bad[k].gpa, bad[k].size, (enum gpa_memtype)bad[k].mt);
			break;
		}
		ck_assert_msg(r == bad[k].err, "case %u: got %d, want %d", k, r, bad[k].err);
		ck_assert_msg(fm.n_log == 0, "case %u touched the tree", k);
		ck_assert(unchanged_since_snapshot());
		ck_assert_uint_eq(fm.allocs, allocs);
	}
	/* Unknown flags and a dead view. */
	struct gpa_view v2;
	ck_assert_int_eq(gpa_view_init(&v2, &npt_format, EPT_FMT_MBEC, &fm_ops), -GPA_EINVAL);
	ck_assert_int_eq(gpa_view_init(&v2, &ept_format, 1u << 20, &fm_ops), -GPA_EINVAL);
	ck_assert_int_eq(gpa_view_map(&v2, 0, 0, 0x1000, GPA_PERM_R, GPA_MT_WB), -GPA_EINVAL);
	ck_assert_uint_eq(fm.allocs, allocs);
	fm.budget = 0;
	ck_assert_int_eq(gpa_view_init(&v2, &npt_format, 0, &fm_ops), -GPA_ENOMEM);
	ck_assert_int_eq(fake_printk_problems(), 0);
	check_tree();
}
END_TEST

START_TEST(test_out_of_memory_leaves_tree_unchanged)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x40000000, 0x40000000, GPA_PERM_RWX, GPA_MT_WB), 0);
	snapshot();
	u64 live = live_tables();
	/* Protecting one page inside the 1G page needs two tables. */
	for (long budget = 0; budget < 2; budget++) {
		fm.budget = budget;
		log_reset();
		ck_assert_int_eq(gpa_view_protect(&view, 0x40001000, 0x1000, GPA_PERM_R), -GPA_ENOMEM);
		ck_assert_uint_eq(log_count(EV_STORE), 0);
		ck_assert_uint_eq(live_tables(), live);
		ck_assert(unchanged_since_snapshot());
	}
	/* A misaligned 6M map at 2G needs a PD and a PT for each of the 4 2M
	 * slots it touches. */
	fm.budget = 3;
	ck_assert_int_eq(gpa_view_map(&view, 0x80001000, 0x2000, 0x600000, GPA_PERM_R, GPA_MT_WB), -GPA_ENOMEM);
	ck_assert_uint_eq(live_tables(), live);
	ck_assert(unchanged_since_snapshot());
	fm.budget = -1;
	ck_assert_int_eq(gpa_view_map(&view, 0x80001000, 0x2000, 0x600000, GPA_PERM_R, GPA_MT_WB), 0);
	ck_assert_uint_eq(live_tables(), live + 1 + 4);
	ck_assert_int_eq(gpa_view_protect(&view, 0x40001000, 0x1000, GPA_PERM_R), GPA_VIEW_FLUSH);
	ck_assert_int_eq(fake_printk_problems(), 0);
	check_tree();
}
END_TEST

START_TEST(test_flush_reporting)
{
	up(CODEC->f, CODEC->flags);
	/* New mappings and permission increases need no flush. */
	ck_assert_int_eq(gpa_view_map(&view, 0, 0, 0x400000, GPA_PERM_R, GPA_MT_WB), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x1000, 0x1000, GPA_PERM_RW), GPA_VIEW_FLUSH); /* split */
	ck_assert_int_eq(gpa_view_protect(&view, 0x2000, 0x1000, GPA_PERM_RW), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x200000, 0x200000, GPA_PERM_RWX), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x200000, 0x200000, GPA_PERM_RWX), 0);
	/* Reductions, moves, type changes and removals do. */
	ck_assert_int_eq(gpa_view_protect(&view, 0x2000, 0x1000, GPA_PERM_R), GPA_VIEW_FLUSH);
	ck_assert_int_eq(gpa_view_map(&view, 0x3000, 0x9000, 0x1000, GPA_PERM_R, GPA_MT_WB), GPA_VIEW_FLUSH);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x3000, 0x1000, GPA_MT_UC), GPA_VIEW_FLUSH);
	ck_assert_int_eq(gpa_view_unmap(&view, 0x3000, 0x1000), GPA_VIEW_FLUSH);
	/* A no-access page may lose more without a flush: nothing was cached. */
	ck_assert_int_eq(gpa_view_protect(&view, 0x4000, 0x1000, 0), GPA_VIEW_FLUSH);
	ck_assert_int_eq(gpa_view_set_memtype(&view, 0x4000, 0x1000, GPA_MT_UC), 0);
	ck_assert_int_eq(gpa_view_unmap(&view, 0x4000, 0x1000), 0);
	/* Remapping identically is a no-op, even inside a large page. */
	log_reset();
	ck_assert_int_eq(gpa_view_map(&view, 0x300000, 0x300000, 0x1000, GPA_PERM_RWX, GPA_MT_WB), 0);
	ck_assert_int_eq(gpa_view_map(&view, 0x200000, 0x200000, 0x200000, GPA_PERM_RWX, GPA_MT_WB), 0);
	ck_assert_uint_eq(fm.n_log, 0);
	check_tree();
}
END_TEST

START_TEST(test_write_order_remap_and_replace)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x40000000, 0x40000000, GPA_PERM_RW, GPA_MT_WB), 0);
	/* Move one 4K page of the 1G page elsewhere. */
	const u64 p = 0x40000000 + 0x3ff000;
	watch_neighbourhood(p);
	watch_begin(p, p + 0x1000);
	ck_assert_int_eq(gpa_view_map(&view, p, 0x9000000, 0x1000, GPA_PERM_RW, GPA_MT_WB), GPA_VIEW_FLUSH);
	watch_end();
	expect_lookup(p, 0x9000000, GPA_PERM_RW, GPA_MT_WB, 1);
	expect_lookup(p - 0x1000, p - 0x1000, GPA_PERM_RW, GPA_MT_WB, 1);
	/* Restrict a 4 MiB window across the split 2M boundary. */
	watch_neighbourhood(0x40200000);
	watch_neighbourhood(0x40400000);
	watch_begin(0x40300000, 0x40700000);
	ck_assert_int_eq(gpa_view_protect(&view, 0x40300000, 0x400000, GPA_PERM_R), GPA_VIEW_FLUSH);
	watch_end();
	check_tree();
	/* Replace the whole 1G (tables and all) by a single leaf elsewhere. */
	u64 live = live_tables();
	watch_neighbourhood(p);
	watch_neighbourhood(0x40500000);
	watch_begin(0x40000000, 0x80000000);
	ck_assert_int_eq(gpa_view_map(&view, 0x40000000, 0x100000000, 0x40000000, GPA_PERM_RX, GPA_MT_WB), GPA_VIEW_FLUSH);
	watch_end();
	ck_assert_uint_eq(live_tables(), live - 3);
	ck_assert_uint_eq(entry_at(0x40000000, 3), 0x100000000 | CODEC->rx | CODEC->large);
	check_tree();
	assert_shadow_matches();
}
END_TEST

START_TEST(test_destroy_frees_everything)
{
	up(CODEC->f, CODEC->flags);
	ck_assert_int_eq(gpa_view_map(&view, 0x1000, 0x1000, 0x3ff000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_int_eq(gpa_view_map(&view, 0x8000000000ULL, 0x40000000, 0x40000000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x8000100000ULL, 0x1000, GPA_PERM_R), GPA_VIEW_FLUSH);
	ck_assert_uint_gt(live_tables(), 6);
	check_tree();
	gpa_view_destroy(&view);
	ck_assert_uint_eq(live_tables(), 0);
	ck_assert_uint_eq(gpa_view_root(&view), 0);
	ck_assert_int_eq(gpa_view_map(&view, 0, 0, 0x1000, GPA_PERM_R, GPA_MT_WB), -GPA_EINVAL);
	gpa_view_destroy(&view);
}
END_TEST

/* Encoding then decoding any leaf gives it back, and only no-access leaves are
 * non-present. */
START_TEST(test_codec_round_trip)
{
	static const struct {
		const struct slat_format *f;
		u32 flags;
	} cases[] = {
		{ &npt_format, 0 },
		{ &ept_format, 0 },
		{ &ept_format, EPT_FMT_MBEC | EPT_FMT_XONLY },
		{ &ept_format, EPT_FMT_IPAT_WB | EPT_FMT_XONLY },
	};
	static const enum gpa_memtype mts[] = { GPA_MT_UC, GPA_MT_WC, GPA_MT_WT, GPA_MT_WP, GPA_MT_WB };
	for (u32 c = 0; c < ARRAY_SIZE(cases); c++) {
		const struct slat_format *f = cases[c].f;
		u32 fl = cases[c].flags;
		for (int level = 1; level <= 3; level++) {
			u64 hpa = (0xfedcba9876543000ULL & 0x000ffffffffff000ULL) &
				  ~((1ULL << (12 + 9 * (level - 1))) - 1);
			for (u32 p = 0; p < 16; p++) {
				int eff = f->perms_effective(fl, p);
				if (eff < 0)
					continue;
				for (u32 m = 0; m < ARRAY_SIZE(mts); m++) {
					if (!f->memtype_ok(fl, mts[m]))
						continue;
					u64 e = f->leaf(fl, level, hpa, (u32)eff, mts[m]);
					ck_assert_uint_ne(e, 0);
					ck_assert(f->is_leaf(fl, level, e));
					ck_assert_uint_eq(f->addr(fl, level, e), hpa);
					ck_assert_uint_eq(f->perms(fl, e), (u32)eff);
					ck_assert_int_eq(f->memtype(fl, e), mts[m]);
					ck_assert(f->present(fl, e) == (eff != 0));
					ck_assert_int_eq(f->perms_effective(fl, (u32)eff), eff);
				}
			}
		}
		u64 t = f->table(fl, 0x123456789000ULL);
		for (int level = 2; level <= 4; level++) {
			ck_assert(f->present(fl, t));
			ck_assert(!f->is_leaf(fl, level, t));
			ck_assert_uint_eq(f->addr(fl, level, t), 0x123456789000ULL);
		}
	}
	/* NPT hardware may set accessed/dirty: they change nothing decoded. */
	u64 e = npt_format.leaf(0, 2, 0x200000, GPA_PERM_RW, GPA_MT_WB) | NPT_A | NPT_D;
	ck_assert_uint_eq(npt_format.addr(0, 2, e), 0x200000);
	ck_assert_uint_eq(npt_format.perms(0, e), GPA_PERM_RW);
	ck_assert_uint_eq(ept_eptp(0x5000), 0x501e);
}
END_TEST

/* A view whose NPT walker set accessed/dirty bits still merges and matches. */
START_TEST(test_npt_accessed_dirty_ignored)
{
	up(&npt_format, 0);
	ck_assert_int_eq(gpa_view_map(&view, 0x200000, 0x200000, 0x200000, GPA_PERM_RW, GPA_MT_WB), 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x200000, 0x1000, GPA_PERM_R), GPA_VIEW_FLUSH);
	u64 pt = table_at(0x200000, 1);
	for (u32 i = 0; i < 512; i++)
		fm.ram[pool_index(pt)][i] |= NPT_A | NPT_D;
	memcpy(fm.shadow[pool_index(pt)], fm.ram[pool_index(pt)], 4096);
	log_reset();
	ck_assert_int_eq(gpa_view_protect(&view, 0x201000, 0x1000, GPA_PERM_RW), 0);
	ck_assert_uint_eq(fm.n_log, 0);
	ck_assert_int_eq(gpa_view_protect(&view, 0x200000, 0x1000, GPA_PERM_RW), GPA_VIEW_FLUSH);
	ck_assert_uint_eq(entry_at(0x200000, 2), 0x200000 | 0x87 | NPT_NX);
	ck_assert_uint_eq(live_tables(), 3);
}
END_TEST

/* ---- randomized model test ---------------------------------------------------- */

struct variant {
	const struct slat_format *f;
	u32 flags;
	u64 seed;
};

static const struct variant variants[] = {
	{ &npt_format, 0, 0x1234567 },
	{ &npt_format, GPA_VIEW_NO_1G, 0x2345678 },
	{ &ept_format, 0, 0x3456789 },
	{ &ept_format, EPT_FMT_MBEC | EPT_FMT_XONLY | EPT_FMT_IPAT_WB, 0x456789a },
	{ &ept_format, GPA_VIEW_NO_2M | GPA_VIEW_NO_1G | EPT_FMT_MBEC, 0x56789ab },
};

#define WBASE (511ULL << 30) /* straddles the 512 GiB root-slot boundary */
#define WSIZE (2ULL << 30)
#define WEND (WBASE + WSIZE)
#define WPAGES (WSIZE >> 12)
#ifndef N_OPS
#define N_OPS 3000
#endif

struct mpage {
	u64 hpa;
	u8 perms;
	u8 mt;
	bool mapped;
};

static u64 rng_state;

static u64 rnd(void)
{
	/* xorshift64*: reproducible whatever the C library. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* The permission rules restated independently of the codecs. */
static int model_perms(const struct variant *va, u32 p)
{
	if (p & ~GPA_PERM_ALL)
		return -GPA_EINVAL;
	if (va->f == &npt_format) {
		if (!(p & GPA_PERM_R))
			return 0;
		return (int)(GPA_PERM_R | (p & GPA_PERM_W) | (p & GPA_PERM_X ? GPA_PERM_X : 0));
	}
	if (!(va->flags & EPT_FMT_MBEC) && (p & GPA_PERM_X))
		p |= GPA_PERM_X;
	if (!(p & GPA_PERM_R) && (p & GPA_PERM_W))
		return -GPA_EPERM;
	if (!(p & GPA_PERM_R) && (p & GPA_PERM_X) && !(va->flags & EPT_FMT_XONLY))
		return -GPA_EPERM;
	return (int)p;
}

static int model_mt(const struct variant *va, int mt)
{
	if (mt != GPA_MT_UC && mt != GPA_MT_WC && mt != GPA_MT_WT && mt != GPA_MT_WP && mt != GPA_MT_WB)
		return -GPA_EINVAL;
	if (va->f == &npt_format && (mt == GPA_MT_WC || mt == GPA_MT_WP))
		return -GPA_EMEMTYPE;
	return 0;
}

static void compare_page(const struct mpage *model, u64 gpa)
{
	struct gpa_mapping m;
	int r = gpa_view_lookup(&view, gpa, &m);
	if (gpa < WBASE || gpa >= WEND) {
		REQUIRE(r == -GPA_ENOENT, "page %#llx outside the window is mapped", (unsigned long long)gpa);
		return;
	}
	const struct mpage *mp = &model[(gpa - WBASE) >> 12];
	if (!mp->mapped) {
		REQUIRE(r == -GPA_ENOENT, "page %#llx should be a hole", (unsigned long long)gpa);
		return;
	}
	REQUIRE(r == 0, "page %#llx should be mapped", (unsigned long long)gpa);
	REQUIRE(m.hpa == mp->hpa && m.perms == mp->perms && (int)m.memtype == mp->mt,
		      "page %#llx: tree %#llx/%x/%d, model %#llx/%x/%d", (unsigned long long)gpa,
		      (unsigned long long)m.hpa, m.perms, m.memtype, (unsigned long long)mp->hpa,
		      mp->perms, mp->mt);
}

static u64 pick_gran(void)
{
	u64 r = rnd() % 100;
	return r < 55 ? 0x1000 : r < 93 ? 0x200000 : 0x40000000;
}

START_TEST(test_random_model)
{
	const struct variant *va = &variants[_i];
	rng_state = va->seed;
	up(va->f, va->flags);
	struct mpage *model = calloc(WPAGES, sizeof(*model));
	ck_assert_ptr_nonnull(model);
	static const int mts[] = { GPA_MT_UC, GPA_MT_WC, GPA_MT_WT, GPA_MT_WP, GPA_MT_WB };
	static const u32 common_perms[] = { 0, GPA_PERM_R, GPA_PERM_RW, GPA_PERM_RX, GPA_PERM_RWX };
	u64 flushes = 0, watched = 0, stores = 0;

	for (int n = 0; n < N_OPS; n++) {
		u64 g = pick_gran();
		u64 start = WBASE + (rnd() % (WSIZE / g)) * g;
		u64 max_n = g == 0x1000 ? 600 : g == 0x200000 ? 5 : 2;
		u64 size = (1 + rnd() % max_n) * g;
		if (rnd() % 4 == 0)
			start += (rnd() % 8) * 0x1000;
		if (rnd() % 4 == 0)
			size += (rnd() % 8) * 0x1000;
		if (start >= WEND)
			start = WEND - 0x1000;
		if (start + size > WEND)
			size = WEND - start;
		int kind = (int)(rnd() % 100);
		kind = kind < 40 ? 0 : kind < 55 ? 1 : kind < 85 ? 2 : 3;
		u64 g2 = pick_gran();
		u64 hpa = ((1 + rnd() % 64) << 30) + (rnd() % (0x40000000 / g2)) * g2 + (start & (g2 - 1));
		u32 perms = rnd() % 5 < 3 ? common_perms[rnd() % 5] : (u32)(rnd() % 16);
		int mt = rnd() % 10 < 6 ? GPA_MT_WB : mts[rnd() % 5];
		bool misalign = rnd() % 50 == 0;
		if (misalign)
			start += 0x800;

		/* Expected outcome, in the order the API checks. */
		int want = misalign ? -GPA_EINVAL : 0;
		int eff = 0;
		if (!want && (kind == 0 || kind == 2)) {
			eff = model_perms(va, perms);
			if (eff < 0)
				want = eff;
		}
		if (!want && (kind == 0 || kind == 3))
			want = model_mt(va, mt);

		bool watch = !want && size <= (64ULL << 20);
		if (watch) {
			for (int d = -1; d <= 1; d++) {
				watch_add(start + (u64)(d * 0x1000));
				watch_add(start + size + (u64)(d * 0x1000));
			}
			watch_add(start & ~0x1fffffULL);
			watch_add((start & ~0x1fffffULL) + 0x1ff000);
			watch_add((start + size - 1) & ~0x1fffffULL);
			watch_add(((start + size - 1) & ~0x1fffffULL) + 0x1ff000);
			watch_add(start & ~0x3fffffffULL);
			watch_add((start & ~0x3fffffffULL) + 0x3ffff000);
			for (int k = 0; k < 8; k++)
				watch_add(WBASE + (rnd() % WPAGES) * 0x1000);
			watch_begin(start, start + size);
			watched++;
		}
		log_reset();
		int r;
		switch (kind) {
		case 0:
			r = gpa_view_map(&view, start, hpa, size, perms, (enum gpa_memtype)mt);
			break;
		case 1:
			r = gpa_view_unmap(&view, start, size);
			break;
		case 2:
			r = gpa_view_protect(&view, start, size, perms);
			break;
		default:
			r = gpa_view_set_memtype(&view, start, size, (enum gpa_memtype)mt);
			break;
		}
		if (watch)
			watch_end();
		stores += log_count(EV_STORE);

		if (want) {
			ck_assert_msg(r == want, "op %d kind %d: got %d want %d", n, kind, r, want);
			ck_assert_uint_eq(fm.n_log, 0);
			continue;
		}
		ck_assert_msg(r == 0 || r == GPA_VIEW_FLUSH, "op %d kind %d failed: %d", n, kind, r);
		flushes += r == GPA_VIEW_FLUSH;

		/* Apply to the model; note whether a present page lost anything. */
		bool changed = false, must_flush = false;
		for (u64 gpa = start; gpa < start + size; gpa += 0x1000) {
			struct mpage *mp = &model[(gpa - WBASE) >> 12];
			struct mpage nw = *mp;
			switch (kind) {
			case 0:
				nw.mapped = true;
				nw.hpa = hpa + (gpa - start);
				nw.perms = (u8)eff;
				nw.mt = (u8)mt;
				break;
			case 1:
				nw.mapped = false;
				nw.hpa = 0;
				nw.perms = 0;
				nw.mt = 0;
				break;
			case 2:
				if (nw.mapped)
					nw.perms = (u8)eff;
				break;
			default:
				if (nw.mapped)
					nw.mt = (u8)mt;
				break;
			}
			bool same = nw.mapped == mp->mapped && nw.hpa == mp->hpa && nw.perms == mp->perms &&
				    nw.mt == mp->mt;
			if (!same) {
				changed = true;
				if (mp->mapped && mp->perms &&
				    (!nw.mapped || nw.hpa != mp->hpa || nw.mt != mp->mt || (mp->perms & ~nw.perms)))
					must_flush = true;
			}
			*mp = nw;
		}
		if (must_flush)
			ck_assert_msg(r == GPA_VIEW_FLUSH, "op %d: a reduction did not ask for a flush", n);
		if (!changed) {
			ck_assert_msg(r == 0, "op %d: no-op asked for a flush", n);
			ck_assert_msg(fm.n_log == 0, "op %d: no-op touched the tree", n);
		}

		/* Pages in and around the range, sampled when the range is big. */
		u64 lo = start >= WBASE + 0x200000 ? start - 0x200000 : WBASE;
		u64 hi = MIN(start + size + 0x200000, WEND);
		u64 step = MAX((hi - lo) / 4096, 1ULL) << 12;
		for (u64 gpa = lo; gpa < hi; gpa += step)
			compare_page(model, gpa);
		compare_page(model, start);
		compare_page(model, start + size - 0x1000);

		if (n % 250 == 249) {
			for (u64 i = 0; i < WPAGES; i++)
				compare_page(model, WBASE + (i << 12));
			check_tree();
			assert_shadow_matches();
		}
	}
	for (u64 i = 0; i < WPAGES; i++)
		compare_page(model, WBASE + (i << 12));
	compare_page(model, WBASE - 0x1000);
	compare_page(model, WEND);
	check_tree();
	assert_shadow_matches();
	ck_assert_int_eq(fake_printk_problems(), 0);
	/* The mix must really have exercised flushes, watching and stores. */
	ck_assert_uint_gt(flushes, N_OPS / 10);
	ck_assert_uint_gt(watched, N_OPS / 2);
	ck_assert_uint_gt(stores, N_OPS);
	gpa_view_destroy(&view);
	ck_assert_uint_eq(live_tables(), 0);
	free(model);
}
END_TEST

static Suite *gpa_view_suite(void)
{
	Suite *s = suite_create("gpa_view");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	int nc = (int)ARRAY_SIZE(codecs);
	tcase_add_loop_test(tc, test_map_4k_exact, 0, nc);
	tcase_add_loop_test(tc, test_map_2m_1g_exact, 0, nc);
	tcase_add_loop_test(tc, test_page_size_from_alignment, 0, nc);
	tcase_add_loop_test(tc, test_page_size_flags, 0, nc);
	tcase_add_loop_test(tc, test_straddle_2m_1g, 0, nc);
	tcase_add_loop_test(tc, test_split_1g_and_merge_back, 0, nc);
	tcase_add_loop_test(tc, test_unmap_middle, 0, nc);
	tcase_add_loop_test(tc, test_memtype, 0, nc);
	tcase_add_test(tc, test_memtype_per_format);
	tcase_add_test(tc, test_ept_permissions);
	tcase_add_test(tc, test_npt_permissions);
	tcase_add_test(tc, test_npt_user_bit_everywhere);
	tcase_add_loop_test(tc, test_walk_and_lookup, 0, nc);
	tcase_add_loop_test(tc, test_validation, 0, nc);
	tcase_add_loop_test(tc, test_out_of_memory_leaves_tree_unchanged, 0, nc);
	tcase_add_loop_test(tc, test_flush_reporting, 0, nc);
	tcase_add_loop_test(tc, test_write_order_remap_and_replace, 0, nc);
	tcase_add_loop_test(tc, test_destroy_frees_everything, 0, nc);
	tcase_add_test(tc, test_codec_round_trip);
	tcase_add_test(tc, test_npt_accessed_dirty_ignored);
	suite_add_tcase(s, tc);

	TCase *rm = tcase_create("random");
	tcase_add_checked_fixture(rm, setup, teardown);
	tcase_set_timeout(rm, 600);
	tcase_add_loop_test(rm, test_random_model, 0, (int)ARRAY_SIZE(variants));
	suite_add_tcase(s, rm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gpa_view_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
