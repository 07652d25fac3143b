/* Guest-physical views: the vendor-neutral SLAT tree.  See gpa_view.h for the
 * rules a live tree obeys.
 *
 * Every modification runs twice over the same code: a dry run that only counts
 * the tables the operation will need, then the real run with exactly that many
 * tables allocated up front.  An allocation failure is therefore reported
 * before the first store, and the real run cannot fail half-way. */
#include "kernel/vm/gpa_view.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"

#define ENTRIES 512u
#define PA_LIMIT (1ULL << 52) /* architectural MAXPHYADDR ceiling */

enum op_kind {
	OP_MAP,
	OP_UNMAP,
	OP_PROTECT,
	OP_MEMTYPE,
};

struct op {
	enum op_kind kind;
	u64 start, end; /* guest-physical range */
	u64 delta;      /* hpa - gpa, modulo 2^64 (map) */
	u32 perms;      /* effective (map, protect) */
	enum gpa_memtype mt; /* map, memtype */
	bool dry;
	u64 need;    /* dry run: tables the real run will allocate */
	u64 reserve; /* real run: preallocated tables, linked through word 0 */
	bool flush;
};

/* A table being worked on.  In the dry run a table that does not exist yet is
 * virtual: its entries are synthesised from the entry it will replace (empty,
 * or a large leaf split into its 512 pieces). */
struct tbl {
	u64 pa; /* 0: virtual */
	u64 *ent;
	u64 fill; /* virtual: the replaced entry, one level up */
};

/* A decoded leaf. */
struct leaf {
	u64 hpa;
	u32 perms;
	enum gpa_memtype mt;
};

static inline u64 span(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * (level - 1));
}

static inline u32 slot(u64 gpa, int level)
{
	return (u32)(gpa >> (PAGE_SHIFT + 9 * (level - 1))) & (ENTRIES - 1);
}

static inline u64 *tptr(const struct gpa_view *v, u64 pa)
{
	return v->mem.table_ptr(v->mem.ctx, pa);
}

static inline enum gpa_entry_kind kind_of(const struct gpa_view *v, int level, u64 e)
{
	if (!e)
		return GPA_ENTRY_EMPTY;
	return v->fmt->is_leaf(v->flags, level, e) ? GPA_ENTRY_LEAF : GPA_ENTRY_TABLE;
}

static struct leaf leaf_decode(const struct gpa_view *v, int level, u64 e)
{
	struct leaf l = {
		.hpa = v->fmt->addr(v->flags, level, e),
		.perms = v->fmt->perms(v->flags, e),
		.mt = v->fmt->memtype(v->flags, e),
	};
	return l;
}

static u64 leaf_encode(const struct gpa_view *v, int level, struct leaf l)
{
	return v->fmt->leaf(v->flags, level, l.hpa, l.perms, l.mt);
}

static bool leaf_eq(struct leaf a, struct leaf b)
{
	return a.hpa == b.hpa && a.perms == b.perms && a.mt == b.mt;
}

/* Two entries of the same slot translate identically.  Compared decoded, so
 * that accessed/dirty bits set by the NPT walker do not count. */
static bool same_translation(const struct gpa_view *v, int level, u64 a, u64 b)
{
	if (a == b)
		return true;
	if (kind_of(v, level, a) != GPA_ENTRY_LEAF || kind_of(v, level, b) != GPA_ENTRY_LEAF)
		return false;
	return leaf_eq(leaf_decode(v, level, a), leaf_decode(v, level, b));
}

static inline bool leaf_ok(const struct gpa_view *v, int level)
{
	return v->leaf_levels & (1u << level);
}

/* Whether a CPU may hold something that replacing old by new makes stale.
 * Walkers never cache non-present entries.  A permission increase needs no
 * flush: an access that a stale, stricter entry refuses faults, and the fault
 * drops that entry before the retry (the SDM says so for EPT violations; KVM
 * relies on the same for NPT).  A page-size change is flushed even when every
 * translation stays the same, because stale large and fresh small TLB entries
 * for one address must not meet (SDM "Details of TLB Use", AMD erratum 383). */
static bool needs_flush(const struct gpa_view *v, int level, u64 old, u64 new)
{
	if (!old || !v->fmt->present(v->flags, old))
		return false;
	if (kind_of(v, level, old) == GPA_ENTRY_TABLE)
		return true; /* paging-structure caches may hold the old table */
	if (kind_of(v, level, new) != GPA_ENTRY_LEAF)
		return true;
	struct leaf a = leaf_decode(v, level, old), b = leaf_decode(v, level, new);
	return a.hpa != b.hpa || a.mt != b.mt || (a.perms & ~b.perms);
}

static u64 ent_load(const struct gpa_view *v, const struct tbl *t, int level, u32 i)
{
	if (t->pa)
		return __atomic_load_n(&t->ent[i], __ATOMIC_RELAXED);
	if (!t->fill)
		return 0;
	struct leaf l = leaf_decode(v, level + 1, t->fill);
	l.hpa += i * span(level);
	return leaf_encode(v, level, l);
}

/* The only way entries are written.  Release order keeps the filling of a new
 * table ahead of the store that links it: x86 never reorders stores, but the
 * compiler would. */
static void ent_store(struct gpa_view *v, struct op *op, struct tbl *t, int level, u32 i,
		      u64 old, u64 new)
{
	__atomic_store_n(&t->ent[i], new, __ATOMIC_RELEASE);
	if (needs_flush(v, level, old, new))
		op->flush = true;
	if (v->mem.stored)
		v->mem.stored(v->mem.ctx, t->pa + i * sizeof(u64), new);
}

static void free_subtree(struct gpa_view *v, u64 pa, int level)
{
	if (level > 1) {
		u64 *ent = tptr(v, pa);
		for (u32 i = 0; i < ENTRIES; i++) {
			u64 e = __atomic_load_n(&ent[i], __ATOMIC_RELAXED);
			if (kind_of(v, level, e) == GPA_ENTRY_TABLE)
				free_subtree(v, v->fmt->addr(v->flags, level, e), level - 1);
		}
	}
	v->mem.free_table(v->mem.ctx, pa);
}

/* ---- table reserve -------------------------------------------------------- */

static int reserve_fill(struct gpa_view *v, struct op *op, u64 n)
{
	for (; n; n--) {
		u64 pa = v->mem.alloc_table(v->mem.ctx);
		if (!pa)
			return -GPA_ENOMEM;
		/* The table is private until taken, so its first word can hold the
		 * link; reserve_take zeroes it again. */
		tptr(v, pa)[0] = op->reserve;
		op->reserve = pa;
	}
	return 0;
}

static void reserve_release(struct gpa_view *v, struct op *op)
{
	while (op->reserve) {
		u64 pa = op->reserve;
		u64 *ent = tptr(v, pa);
		op->reserve = ent[0];
		ent[0] = 0;
		v->mem.free_table(v->mem.ctx, pa);
	}
}

static u64 reserve_take(struct gpa_view *v, struct op *op)
{
	u64 pa = op->reserve;
	if (!pa) {
		/* The dry run and the real run disagree: a bug, but not one worth
		 * corrupting the tree over. */
		pr_err("gpa_view: table reserve ran dry\n");
		return v->mem.alloc_table(v->mem.ctx);
	}
	u64 *ent = tptr(v, pa);
	op->reserve = ent[0];
	ent[0] = 0;
	return pa;
}

/* A new, unreachable table standing in for entry `fill` of the level above:
 * empty, or the large leaf's 512 pieces.  False only if allocation failed
 * despite the reserve. */
static bool tbl_new(struct gpa_view *v, struct op *op, struct tbl *c, int level, u64 fill)
{
	c->fill = fill;
	if (op->dry) {
		op->need++;
		c->pa = 0;
		c->ent = NULL;
		return true;
	}
	c->pa = reserve_take(v, op);
	if (!c->pa)
		return false;
	c->ent = tptr(v, c->pa);
	if (fill) {
		struct tbl virt = { .pa = 0, .ent = NULL, .fill = fill };
		for (u32 i = 0; i < ENTRIES; i++)
			ent_store(v, op, c, level, i, 0, ent_load(v, &virt, level, i));
	}
	return true;
}

static void tbl_of_entry(const struct gpa_view *v, struct tbl *c, int level, u64 e)
{
	c->pa = v->fmt->addr(v->flags, level, e);
	c->ent = tptr(v, c->pa);
	c->fill = 0;
}

static bool tbl_empty(const struct tbl *c)
{
	for (u32 i = 0; i < ENTRIES; i++)
		if (__atomic_load_n(&c->ent[i], __ATOMIC_RELAXED))
			return false;
	return true;
}

/* Whether table c (entries of `level`) is 512 leaves that one leaf of the
 * level above can express; if so *merged is that leaf. */
static bool tbl_mergeable(const struct gpa_view *v, const struct tbl *c, int level, u64 *merged)
{
	if (!leaf_ok(v, level + 1))
		return false;
	u64 e = __atomic_load_n(&c->ent[0], __ATOMIC_RELAXED);
	if (kind_of(v, level, e) != GPA_ENTRY_LEAF)
		return false;
	struct leaf first = leaf_decode(v, level, e);
	if (first.hpa & (span(level + 1) - 1))
		return false;
	for (u32 i = 1; i < ENTRIES; i++) {
		e = __atomic_load_n(&c->ent[i], __ATOMIC_RELAXED);
		if (kind_of(v, level, e) != GPA_ENTRY_LEAF)
			return false;
		struct leaf l = leaf_decode(v, level, e);
		struct leaf want = first;
		want.hpa += i * span(level);
		if (!leaf_eq(l, want))
			return false;
	}
	*merged = leaf_encode(v, level + 1, first);
	return true;
}

/* Links the freshly built table c into slot i of t (level `level`), or, if c
 * ended up empty or mergeable, stores what it collapses to and drops it.  c
 * was never reachable, so it can be freed at once. */
static void tbl_install(struct gpa_view *v, struct op *op, struct tbl *t, int level, u32 i,
			u64 old, struct tbl *c)
{
	u64 new;
	if (tbl_empty(c))
		new = 0;
	else if (!tbl_mergeable(v, c, level - 1, &new)) {
		ent_store(v, op, t, level, i, old, v->fmt->table(v->flags, c->pa));
		return;
	}
	if (!same_translation(v, level, old, new))
		ent_store(v, op, t, level, i, old, new);
	v->mem.free_table(v->mem.ctx, c->pa);
}

/* After changing the live table c behind slot i: collapse it if it became
 * empty or mergeable.  The store comes first, the free after it. */
static void tbl_tidy(struct gpa_view *v, struct op *op, struct tbl *t, int level, u32 i,
		     u64 old, struct tbl *c)
{
	u64 new;
	if (tbl_empty(c))
		new = 0;
	else if (!tbl_mergeable(v, c, level - 1, &new))
		return;
	ent_store(v, op, t, level, i, old, new);
	v->mem.free_table(v->mem.ctx, c->pa);
}

static u64 map_leaf(const struct gpa_view *v, const struct op *op, int level, u64 eb)
{
	struct leaf l = { .hpa = eb + op->delta, .perms = op->perms, .mt = op->mt };
	return leaf_encode(v, level, l);
}

static bool map_leaf_fits(const struct gpa_view *v, const struct op *op, int level, u64 eb)
{
	return leaf_ok(v, level) && !((eb + op->delta) & (span(level) - 1));
}

static void walk_table(struct gpa_view *v, struct op *op, struct tbl *t, int level, u64 base);

/* Applies op to the slot of table t that maps [eb, eb + span(level)). */
static void do_slot(struct gpa_view *v, struct op *op, struct tbl *t, int level, u32 i, u64 eb)
{
	u64 sp = span(level);
	u64 old = ent_load(v, t, level, i);
	enum gpa_entry_kind kind = kind_of(v, level, old);
	bool full = op->start <= eb && op->end >= eb + sp;
	struct tbl c;

	if (kind == GPA_ENTRY_TABLE) {
		if (full && (op->kind == OP_UNMAP || (op->kind == OP_MAP && map_leaf_fits(v, op, level, eb)))) {
			if (op->dry)
				return;
			ent_store(v, op, t, level, i, old, op->kind == OP_UNMAP ? 0 : map_leaf(v, op, level, eb));
			free_subtree(v, v->fmt->addr(v->flags, level, old), level - 1);
			return;
		}
		tbl_of_entry(v, &c, level, old);
		walk_table(v, op, &c, level - 1, eb);
		if (!op->dry)
			tbl_tidy(v, op, t, level, i, old, &c);
		return;
	}

	if (kind == GPA_ENTRY_EMPTY && op->kind != OP_MAP)
		return;
	if (kind == GPA_ENTRY_LEAF && op->kind != OP_UNMAP) {
		/* Can the change be made to this leaf as it stands?  Always for
		 * protect and memtype; for map when the leaf already points where
		 * the new mapping would. */
		struct leaf l = leaf_decode(v, level, old);
		bool in_place = true;
		if (op->kind == OP_PROTECT) {
			l.perms = op->perms;
		} else if (op->kind == OP_MEMTYPE) {
			l.mt = op->mt;
		} else {
			in_place = l.hpa == eb + op->delta;
			l.perms = op->perms;
			l.mt = op->mt;
		}
		if (in_place) {
			u64 new = leaf_encode(v, level, l);
			/* Already as asked: no store, and no split of a large page. */
			if (same_translation(v, level, old, new))
				return;
			if (full) {
				if (!op->dry)
					ent_store(v, op, t, level, i, old, new);
				return;
			}
		}
	}
	if (full && op->kind == OP_UNMAP) {
		if (!op->dry)
			ent_store(v, op, t, level, i, old, 0);
		return;
	}
	if (full && op->kind == OP_MAP && map_leaf_fits(v, op, level, eb)) {
		if (!op->dry)
			ent_store(v, op, t, level, i, old, map_leaf(v, op, level, eb));
		return;
	}

	/* The slot needs a table below it: build it off-line, complete with the
	 * change, and publish it with one store.  A fully covered slot is rebuilt
	 * from scratch; a partly covered leaf is split so its other pieces keep
	 * their translation. */
	if (!tbl_new(v, op, &c, level - 1, full ? 0 : old))
		return;
	walk_table(v, op, &c, level - 1, eb);
	if (!op->dry)
		tbl_install(v, op, t, level, i, old, &c);
}

static void walk_table(struct gpa_view *v, struct op *op, struct tbl *t, int level, u64 base)
{
	u64 sp = span(level);
	u64 lo = MAX(op->start, base);
	u64 hi = MIN(op->end, base + ENTRIES * sp);
	for (u64 eb = ALIGN_DOWN(lo, sp); eb < hi; eb += sp)
		do_slot(v, op, t, level, slot(eb, level), eb);
}

static int run(struct gpa_view *v, struct op *op)
{
	struct tbl root = { .pa = v->root, .ent = tptr(v, v->root), .fill = 0 };
	op->dry = true;
	op->need = 0;
	op->reserve = 0;
	op->flush = false;
	walk_table(v, op, &root, v->fmt->levels, 0);
	if (reserve_fill(v, op, op->need) < 0) {
		reserve_release(v, op);
		return -GPA_ENOMEM;
	}
	op->dry = false;
	walk_table(v, op, &root, v->fmt->levels, 0);
	if (op->reserve)
		pr_err("gpa_view: tables reserved but not used\n");
	reserve_release(v, op);
	return op->flush ? GPA_VIEW_FLUSH : 0;
}

/* ---- API ------------------------------------------------------------------ */

int gpa_view_init(struct gpa_view *v, const struct slat_format *fmt, u32 flags,
		  const struct slat_mem *mem)
{
	memset(v, 0, sizeof(*v));
	if (flags & ~(GPA_VIEW_GENERIC_FLAGS | fmt->flags_valid))
		return -GPA_EINVAL;
	if (fmt->levels < 2 || fmt->levels > GPA_VIEW_MAX_LEVELS || !(fmt->leaf_levels & 2))
		return -GPA_EINVAL;
	v->fmt = fmt;
	v->mem = *mem;
	v->flags = flags;
	/* Leaves above level 3 do not exist on x86; the root never holds one. */
	v->leaf_levels = fmt->leaf_levels & 0xe;
	if (flags & GPA_VIEW_NO_2M)
		v->leaf_levels &= ~(1u << 2);
	if (flags & GPA_VIEW_NO_1G)
		v->leaf_levels &= ~(1u << 3);
	v->gpa_limit = span(fmt->levels) * ENTRIES;
	v->root = mem->alloc_table(mem->ctx);
	if (!v->root)
		return -GPA_ENOMEM;
	return 0;
}

void gpa_view_destroy(struct gpa_view *v)
{
	if (v->root)
		free_subtree(v, v->root, v->fmt->levels);
	v->root = 0;
}

u64 gpa_view_root(const struct gpa_view *v)
{
	return v->root;
}

int gpa_view_perms_effective(const struct gpa_view *v, u32 perms)
{
	if (perms & ~GPA_PERM_ALL)
		return -GPA_EINVAL;
	return v->fmt->perms_effective(v->flags, perms);
}

static int check_range(const struct gpa_view *v, u64 gpa, u64 size)
{
	if (!v->root)
		return -GPA_EINVAL;
	if (!size || (gpa | size) & (PAGE_SIZE - 1))
		return -GPA_EINVAL;
	if (gpa + size < gpa || gpa + size > v->gpa_limit)
		return -GPA_ERANGE;
	return 0;
}

static int check_memtype(const struct gpa_view *v, enum gpa_memtype mt)
{
	switch (mt) {
	case GPA_MT_UC:
	case GPA_MT_WC:
	case GPA_MT_WT:
	case GPA_MT_WP:
	case GPA_MT_WB:
		break;
	default:
		return -GPA_EINVAL;
	}
	return v->fmt->memtype_ok(v->flags, mt) ? 0 : -GPA_EMEMTYPE;
}

int gpa_view_map(struct gpa_view *v, u64 gpa, u64 hpa, u64 size, u32 perms,
		 enum gpa_memtype mt)
{
	int r = check_range(v, gpa, size);
	if (r < 0)
		return r;
	if (hpa & (PAGE_SIZE - 1))
		return -GPA_EINVAL;
	if (hpa + size < hpa || hpa + size > PA_LIMIT)
		return -GPA_ERANGE;
	int eff = gpa_view_perms_effective(v, perms);
	if (eff < 0)
		return eff;
	r = check_memtype(v, mt);
	if (r < 0)
		return r;
	struct op op = {
		.kind = OP_MAP, .start = gpa, .end = gpa + size, .delta = hpa - gpa,
		.perms = (u32)eff, .mt = mt,
	};
	return run(v, &op);
}

int gpa_view_unmap(struct gpa_view *v, u64 gpa, u64 size)
{
	int r = check_range(v, gpa, size);
	if (r < 0)
		return r;
	struct op op = { .kind = OP_UNMAP, .start = gpa, .end = gpa + size };
	return run(v, &op);
}

int gpa_view_protect(struct gpa_view *v, u64 gpa, u64 size, u32 perms)
{
	int r = check_range(v, gpa, size);
	if (r < 0)
		return r;
	int eff = gpa_view_perms_effective(v, perms);
	if (eff < 0)
		return eff;
	struct op op = { .kind = OP_PROTECT, .start = gpa, .end = gpa + size, .perms = (u32)eff };
	return run(v, &op);
}

int gpa_view_set_memtype(struct gpa_view *v, u64 gpa, u64 size, enum gpa_memtype mt)
{
	int r = check_range(v, gpa, size);
	if (r < 0)
		return r;
	r = check_memtype(v, mt);
	if (r < 0)
		return r;
	struct op op = { .kind = OP_MEMTYPE, .start = gpa, .end = gpa + size, .mt = mt };
	return run(v, &op);
}

int gpa_view_walk(const struct gpa_view *v, u64 gpa, struct gpa_walk *w)
{
	memset(w, 0, sizeof(*w));
	if (!v->root || gpa >= v->gpa_limit)
		return -GPA_ERANGE;
	u64 pa = v->root;
	for (int level = v->fmt->levels; level >= 1; level--) {
		struct gpa_walk_step *s = &w->step[w->depth++];
		s->level = level;
		s->index = slot(gpa, level);
		s->table_pa = pa;
		s->entry = __atomic_load_n(&tptr(v, pa)[s->index], __ATOMIC_RELAXED);
		s->kind = kind_of(v, level, s->entry);
		if (s->kind == GPA_ENTRY_EMPTY)
			return -GPA_ENOENT;
		if (s->kind == GPA_ENTRY_LEAF) {
			struct leaf l = leaf_decode(v, level, s->entry);
			w->map.hpa = l.hpa + (gpa & (span(level) - 1));
			w->map.perms = l.perms;
			w->map.memtype = l.mt;
			w->map.level = level;
			return 0;
		}
		pa = v->fmt->addr(v->flags, level, s->entry);
	}
	/* A format whose level-1 entries are not leaves: nothing sensible maps. */
	pr_err("gpa_view: %s level-1 entry is not a leaf\n", v->fmt->name);
	return -GPA_ENOENT;
}

int gpa_view_lookup(const struct gpa_view *v, u64 gpa, struct gpa_mapping *m)
{
	struct gpa_walk w;
	int r = gpa_view_walk(v, gpa, &w);
	if (r == 0 && m)
		*m = w.map;
	return r;
}

void gpa_perms_str(u32 perms, char *buf)
{
	buf[0] = perms & GPA_PERM_R ? 'R' : '-';
	buf[1] = perms & GPA_PERM_W ? 'W' : '-';
	buf[2] = perms & GPA_PERM_XK ? 'K' : '-';
	buf[3] = perms & GPA_PERM_XU ? 'U' : '-';
	buf[4] = '\0';
}

const char *gpa_memtype_name(enum gpa_memtype mt)
{
	switch (mt) {
	case GPA_MT_UC:
		return "UC";
	case GPA_MT_WC:
		return "WC";
	case GPA_MT_WT:
		return "WT";
	case GPA_MT_WP:
		return "WP";
	case GPA_MT_WB:
		return "WB";
	}
	return "??";
}
