/* Intel EPT entry codec; see ept_format.h for the rules it follows. */
#include "vmx/ept_format.h"

static inline u64 page_mask(int level)
{
	return ~((1ULL << (PAGE_SHIFT + 9 * (level - 1))) - 1);
}

/* Bits that make an entry present (SDM: "an EPT paging-structure entry is
 * present if any of bits 2:0 is 1", plus bit 10 with MBEC). */
static inline u64 presence_bits(u32 flags)
{
	return EPT_R | EPT_W | EPT_X | (flags & EPT_FMT_MBEC ? EPT_XU : 0);
}

static int ept_perms_effective(u32 flags, u32 perms)
{
	if (!(flags & EPT_FMT_MBEC) && (perms & GPA_PERM_X))
		perms |= GPA_PERM_X;
	if (!(perms & GPA_PERM_R)) {
		/* SDM "EPT Misconfigurations": write-only and write+execute always,
		 * execute-only unless supported. */
		if (perms & GPA_PERM_W)
			return -GPA_EPERM;
		if ((perms & GPA_PERM_X) && !(flags & EPT_FMT_XONLY))
			return -GPA_EPERM;
	}
	return (int)perms;
}

static bool ept_memtype_ok(u32 flags, enum gpa_memtype mt)
{
	return mt == GPA_MT_UC || mt == GPA_MT_WC || mt == GPA_MT_WT || mt == GPA_MT_WP ||
	       mt == GPA_MT_WB;
}

static u64 ept_leaf(u32 flags, int level, u64 hpa, u32 perms, enum gpa_memtype mt)
{
	u64 e = (hpa & EPT_ADDR_MASK) | ((u64)mt << EPT_MT_SHIFT);
	if (mt == GPA_MT_WB && (flags & EPT_FMT_IPAT_WB))
		e |= EPT_IPAT;
	if (level > 1)
		e |= EPT_LARGE;
	if (!perms)
		return e | EPT_SW_NOACCESS;
	if (perms & GPA_PERM_R)
		e |= EPT_R;
	if (perms & GPA_PERM_W)
		e |= EPT_W;
	if (flags & EPT_FMT_MBEC) {
		if (perms & GPA_PERM_XK)
			e |= EPT_X;
		if (perms & GPA_PERM_XU)
			e |= EPT_XU;
	} else if (perms & GPA_PERM_X) {
		e |= EPT_X;
	}
	return e;
}

static u64 ept_table(u32 flags, u64 pa)
{
	return (pa & EPT_ADDR_MASK) | presence_bits(flags);
}

static bool ept_present(u32 flags, u64 e)
{
	return e & presence_bits(flags);
}

static bool ept_is_leaf(u32 flags, int level, u64 e)
{
	if (!ept_present(flags, e) || level == 1)
		return true;
	return level <= 3 && (e & EPT_LARGE);
}

static u64 ept_addr(u32 flags, int level, u64 e)
{
	if (level > 1 && ept_is_leaf(flags, level, e))
		return e & EPT_ADDR_MASK & page_mask(level);
	return e & EPT_ADDR_MASK;
}

static u32 ept_perms(u32 flags, u64 e)
{
	u32 p = 0;
	if (e & EPT_R)
		p |= GPA_PERM_R;
	if (e & EPT_W)
		p |= GPA_PERM_W;
	if (flags & EPT_FMT_MBEC) {
		if (e & EPT_X)
			p |= GPA_PERM_XK;
		if (e & EPT_XU)
			p |= GPA_PERM_XU;
	} else if (e & EPT_X) {
		p |= GPA_PERM_X;
	}
	return p;
}

static enum gpa_memtype ept_memtype(u32 flags, u64 e)
{
	return (enum gpa_memtype)((e & EPT_MT_MASK) >> EPT_MT_SHIFT);
}

const struct slat_format ept_format = {
	.name = "ept",
	.levels = 4,
	.leaf_levels = (1u << 1) | (1u << 2) | (1u << 3),
	.flags_valid = EPT_FMT_MBEC | EPT_FMT_XONLY | EPT_FMT_IPAT_WB,
	.perms_effective = ept_perms_effective,
	.memtype_ok = ept_memtype_ok,
	.leaf = ept_leaf,
	.table = ept_table,
	.present = ept_present,
	.is_leaf = ept_is_leaf,
	.addr = ept_addr,
	.perms = ept_perms,
	.memtype = ept_memtype,
};

u64 ept_eptp(u64 root_pa)
{
	/* Bits 2:0 memory type of the structures (6 = WB), bits 5:3 walk length
	 * minus one. */
	return (root_pa & EPT_ADDR_MASK) | ((u64)GPA_MT_WB) | (3ULL << 3);
}
