/* AMD NPT entry codec; see npt_format.h for the permission mapping. */
#include "svm/npt_format.h"

static inline u64 page_mask(int level)
{
	return ~((1ULL << (PAGE_SHIFT + 9 * (level - 1))) - 1);
}

static int npt_perms_effective(u32 flags, u32 perms)
{
	if (!(perms & GPA_PERM_R))
		return 0;
	u32 eff = GPA_PERM_R | (perms & GPA_PERM_W);
	if (perms & GPA_PERM_X)
		eff |= GPA_PERM_X;
	return (int)eff;
}

static bool npt_memtype_ok(u32 flags, enum gpa_memtype mt)
{
	return mt == GPA_MT_WB || mt == GPA_MT_WT || mt == GPA_MT_UC;
}

/* PAT index 0/1/3 of the power-on host PAT; index 2 (UC-) is never written. */
static u64 npt_mt_bits(enum gpa_memtype mt)
{
	switch (mt) {
	case GPA_MT_WT:
		return NPT_PWT;
	case GPA_MT_UC:
		return NPT_PCD | NPT_PWT;
	default:
		return 0;
	}
}

static u64 npt_leaf(u32 flags, int level, u64 hpa, u32 perms, enum gpa_memtype mt)
{
	u64 e = (hpa & NPT_ADDR_MASK) | npt_mt_bits(mt);
	if (level > 1)
		e |= NPT_PS;
	if (!perms)
		return e | NPT_SW_NOACCESS;
	e |= NPT_P | NPT_US;
	if (perms & GPA_PERM_W)
		e |= NPT_RW;
	if (!(perms & GPA_PERM_X))
		e |= NPT_NX;
	return e;
}

static u64 npt_table(u32 flags, u64 pa)
{
	return (pa & NPT_ADDR_MASK) | NPT_P | NPT_RW | NPT_US;
}

static bool npt_present(u32 flags, u64 e)
{
	return e & NPT_P;
}

/* Table pointers are always present, so anything else non-zero and not
 * present is a no-access leaf. */
static bool npt_is_leaf(u32 flags, int level, u64 e)
{
	if (!(e & NPT_P) || level == 1)
		return true;
	return level <= 3 && (e & NPT_PS);
}

static u64 npt_addr(u32 flags, int level, u64 e)
{
	/* Bit 12 of a large leaf is its PAT bit, not address. */
	if (level > 1 && npt_is_leaf(flags, level, e))
		return e & NPT_ADDR_MASK & page_mask(level);
	return e & NPT_ADDR_MASK;
}

static u32 npt_perms(u32 flags, u64 e)
{
	if (!(e & NPT_P))
		return 0;
	u32 p = GPA_PERM_R;
	if (e & NPT_RW)
		p |= GPA_PERM_W;
	if (!(e & NPT_NX))
		p |= GPA_PERM_X;
	return p;
}

static enum gpa_memtype npt_memtype(u32 flags, u64 e)
{
	if (e & NPT_PCD)
		return GPA_MT_UC; /* index 2 (UC-) is treated as UC */
	return e & NPT_PWT ? GPA_MT_WT : GPA_MT_WB;
}

const struct slat_format npt_format = {
	.name = "npt",
	.levels = 4,
	.leaf_levels = (1u << 1) | (1u << 2) | (1u << 3),
	.flags_valid = 0,
	.perms_effective = npt_perms_effective,
	.memtype_ok = npt_memtype_ok,
	.leaf = npt_leaf,
	.table = npt_table,
	.present = npt_present,
	.is_leaf = npt_is_leaf,
	.addr = npt_addr,
	.perms = npt_perms,
	.memtype = npt_memtype,
};
