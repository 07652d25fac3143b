/* Guest-physical views: one second-level address translation (SLAT) tree per
 * VTL, built for AMD NPT or Intel EPT.  The tree logic is vendor neutral; a
 * backend supplies the entry format (struct slat_format, svm/npt_format.c and
 * vmx/ept_format.c) and the caller supplies table memory (struct slat_mem), so
 * the same code runs in the hypervisor and in host unit tests.
 *
 * Levels are numbered like the SDM counts them from the bottom: level 1 entries
 * map 4 KiB, level 2 entries 2 MiB, level 3 entries 1 GiB, level 4 is the root
 * (PML4).  A view with 4 levels translates guest-physical addresses below
 * 2^48; host-physical addresses may use the architectural 52 bits.
 *
 * Concurrency: a view is not locked internally.  Callers serialise every call
 * on one view (modifications and lookups alike).  Hardware walkers on other CPUs
 * may use the tables at any moment, so every change is published such that a
 * walker sees, for each 4 KiB page, either its old or its new translation and
 * never an intermediate one:
 *   - a large page is split by filling a new table completely (including the
 *     requested change) while it is unreachable, then replacing the large entry
 *     with one 64-bit store;
 *   - 512 equal neighbours are merged by storing the large leaf over the table
 *     pointer in one 64-bit store, and only then is the table freed.
 * Hardware may keep using a table it cached until the next flush: see
 * slat_mem.free_table.
 *
 * Accessed/dirty flags: views are meant to run without EPT A/D (EPTP bit 6
 * clear).  NPT always sets A/D; the tree ignores those bits when comparing
 * entries and may drop them when it rewrites an entry, which is harmless as
 * nothing here uses them. */
#ifndef HV_KERNEL_VM_GPA_VIEW_H
#define HV_KERNEL_VM_GPA_VIEW_H

#include "kernel/types.h"

/* Permission bits.  The values are the TLFS's HV_MAP_GPA_* bits, so VSM
 * protection masks pass through unchanged.  A format that cannot tell kernel
 * from user execution (EPT without mode-based execute control, NPT) treats
 * either X bit as both. */
#define GPA_PERM_R 0x1u
#define GPA_PERM_W 0x2u
#define GPA_PERM_XK 0x4u /* supervisor-mode (kernel) execute */
#define GPA_PERM_XU 0x8u /* user-mode execute */
#define GPA_PERM_X (GPA_PERM_XK | GPA_PERM_XU)
#define GPA_PERM_RW (GPA_PERM_R | GPA_PERM_W)
#define GPA_PERM_RX (GPA_PERM_R | GPA_PERM_X)
#define GPA_PERM_RWX (GPA_PERM_R | GPA_PERM_W | GPA_PERM_X)
#define GPA_PERM_ALL GPA_PERM_RWX

/* Memory types, numbered as the SDM numbers them for MTRRs, PAT and EPT.  The
 * type is the host's opinion of the range; both formats leave the guest's PAT
 * in force on top of it (EPT combines them like MTRR and PAT unless
 * EPT_FMT_IPAT_WB says otherwise), so WB means "as the guest chooses". */
enum gpa_memtype {
	GPA_MT_UC = 0,
	GPA_MT_WC = 1,
	GPA_MT_WT = 4,
	GPA_MT_WP = 5,
	GPA_MT_WB = 6,
};

/* Errors, returned negated. */
enum gpa_view_error {
	GPA_EINVAL = 1, /* misaligned address or size, size 0, unknown bits or flags */
	GPA_ERANGE,     /* beyond the view's or the physical address width, or wraps */
	GPA_EPERM,      /* permission set the format cannot express (EPT misconfiguration) */
	GPA_EMEMTYPE,   /* memory type the format cannot express */
	GPA_ENOMEM,     /* table allocation failed; the tree is unchanged */
	GPA_ENOENT,     /* lookup/walk: nothing mapped there */
};

/* Positive result of map/unmap/protect/set_memtype: a translation that other
 * CPUs may have cached was reduced, removed, moved or changed page size, or a
 * table was unlinked.  Flush (INVEPT / TLB_CONTROL) before relying on the new
 * state and before any freed table is reused. */
#define GPA_VIEW_FLUSH 1

/* View flags for capabilities the CPU may lack (bits 0-7), then flags that only
 * one format understands (bits 8-31, declared in its header). */
#define GPA_VIEW_NO_2M (1u << 0)
#define GPA_VIEW_NO_1G (1u << 1)
#define GPA_VIEW_GENERIC_FLAGS (GPA_VIEW_NO_2M | GPA_VIEW_NO_1G)

#define GPA_VIEW_MAX_LEVELS 5

/* A backend's entry codec.  `flags` is the view's flag word.  Conventions the
 * tree relies on:
 *   - the value 0 is an empty slot, and no encoder ever returns 0;
 *   - every non-zero entry is either a table pointer or a leaf; a leaf with no
 *     permissions is a non-present entry that still records its address and
 *     memory type (so protections can be lifted again and lookups can tell a
 *     protected page from a hole);
 *   - encoding a decoded leaf at the same level yields the same entry. */
struct slat_format {
	const char *name;
	u8 levels;      /* paging levels of the tree (4) */
	u8 leaf_levels; /* bit n set: level-n leaves exist (bit 1 always) */
	u32 flags_valid; /* format-specific flags it understands */
	/* What an entry made for `perms` would grant (>= 0), or -GPA_EPERM when
	 * the request cannot be expressed and must be refused. */
	int (*perms_effective)(u32 flags, u32 perms);
	bool (*memtype_ok)(u32 flags, enum gpa_memtype mt);
	/* hpa aligned to the level's page size; perms already effective. */
	u64 (*leaf)(u32 flags, int level, u64 hpa, u32 perms, enum gpa_memtype mt);
	u64 (*table)(u32 flags, u64 table_pa);
	bool (*present)(u32 flags, u64 e); /* would the hardware walker use it */
	bool (*is_leaf)(u32 flags, int level, u64 e); /* e non-zero */
	u64 (*addr)(u32 flags, int level, u64 e);     /* leaf page or next table */
	u32 (*perms)(u32 flags, u64 e);                /* leaves only */
	enum gpa_memtype (*memtype)(u32 flags, u64 e); /* leaves only */
};

/* Table memory, supplied by the caller. */
struct slat_mem {
	/* A zeroed 4 KiB table: its physical address, or 0 when out of memory. */
	u64 (*alloc_table)(void *ctx);
	/* Called right after the table was unlinked (or was never linked).  Other
	 * CPUs' walkers may still hold it in paging-structure caches until the
	 * flush the operation reported (GPA_VIEW_FLUSH), so the implementation
	 * must not recycle the frame before that flush, e.g. keep a deferred list
	 * that the flush path releases.  Tables that were never linked come back
	 * the same way; holding them until the next flush costs nothing. */
	void (*free_table)(void *ctx, u64 pa);
	/* The 512 entries of the table at pa (the identity in the hypervisor). */
	u64 *(*table_ptr)(void *ctx, u64 pa);
	/* Optional: called after every store to a table entry, with the entry's
	 * physical address and the value stored.  The unit tests record the order
	 * of stores with it. */
	void (*stored)(void *ctx, u64 entry_pa, u64 value);
	void *ctx;
};

struct gpa_view {
	const struct slat_format *fmt;
	struct slat_mem mem;
	u32 flags;
	u8 leaf_levels; /* the format's, minus what the flags rule out */
	u64 root;       /* physical address of the top table, 0 when not live */
	u64 gpa_limit;  /* first guest-physical address the tree cannot map */
};

/* A leaf's translation of one address. */
struct gpa_mapping {
	u64 hpa;   /* host-physical address of the looked-up byte */
	u32 perms; /* what the entry grants (0: mapped but no access) */
	enum gpa_memtype memtype;
	int level; /* of the leaf: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB */
};

enum gpa_entry_kind {
	GPA_ENTRY_EMPTY,
	GPA_ENTRY_TABLE,
	GPA_ENTRY_LEAF,
};

/* One step of a walk, for the debug shell's "slat <gpa>". */
struct gpa_walk_step {
	int level;
	u32 index;    /* slot in the table */
	u64 table_pa; /* table holding the entry */
	u64 entry;    /* raw value */
	enum gpa_entry_kind kind;
};

struct gpa_walk {
	int depth; /* valid steps; step[0] is the root's entry */
	struct gpa_walk_step step[GPA_VIEW_MAX_LEVELS];
	struct gpa_mapping map; /* valid when the walk returned 0 */
};

/* Allocates the root.  flags: GPA_VIEW_* plus the format's own.  Returns 0,
 * -GPA_EINVAL for unknown flags, -GPA_ENOMEM. */
int gpa_view_init(struct gpa_view *v, const struct slat_format *fmt, u32 flags,
		  const struct slat_mem *mem);
/* Frees every table.  No CPU may use the view any more, and freed tables
 * follow the slat_mem.free_table rule. */
void gpa_view_destroy(struct gpa_view *v);
/* Physical address of the root table, for the EPTP or nCR3. */
u64 gpa_view_root(const struct gpa_view *v);

/* The modifying calls take 4 KiB-aligned gpa/hpa/size, size > 0, and return a
 * negative error with the tree untouched, 0, or GPA_VIEW_FLUSH.  They never
 * leave a table that could be a large page or an empty table behind. */

/* Maps [gpa, gpa+size) to [hpa, hpa+size), replacing whatever was mapped
 * there, with the largest pages that the alignment of gpa and hpa and the
 * format allow.  perms may be 0 (mapped, no access). */
int gpa_view_map(struct gpa_view *v, u64 gpa, u64 hpa, u64 size, u32 perms,
		 enum gpa_memtype mt);
int gpa_view_unmap(struct gpa_view *v, u64 gpa, u64 size);
/* Changes the permissions of the mapped pages in the range; holes stay holes. */
int gpa_view_protect(struct gpa_view *v, u64 gpa, u64 size, u32 perms);
/* Changes the memory type of the mapped pages in the range; holes stay holes. */
int gpa_view_set_memtype(struct gpa_view *v, u64 gpa, u64 size, enum gpa_memtype mt);

/* What an entry made for perms would grant in this view (>= 0), or
 * -GPA_EINVAL/-GPA_EPERM when map/protect would refuse perms. */
int gpa_view_perms_effective(const struct gpa_view *v, u32 perms);

/* 0 and *m filled when gpa is mapped (perhaps with no access), -GPA_ENOENT in a
 * hole, -GPA_ERANGE beyond the view.  gpa need not be aligned. */
int gpa_view_lookup(const struct gpa_view *v, u64 gpa, struct gpa_mapping *m);
/* Like lookup, and records every entry on the way in *w (also on -GPA_ENOENT). */
int gpa_view_walk(const struct gpa_view *v, u64 gpa, struct gpa_walk *w);

/* "RWKU" with '-' for missing bits; buf holds at least 5 bytes. */
void gpa_perms_str(u32 perms, char *buf);
const char *gpa_memtype_name(enum gpa_memtype mt);

#endif
