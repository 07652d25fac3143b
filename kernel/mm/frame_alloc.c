/* Physical frame allocator: free ranges computed once from the memory map,
 * then a bitmap for the actual bookkeeping.  The range list is kept after the
 * bitmap goes live so frame_free can tell "never free" frames (holes, reserved
 * memory, the bitmap itself) from allocated ones; both have their bit set. */
#include "kernel/mm/frame_alloc.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"

#define ADDR_MAX (~0ULL)
#define NOT_FOUND (~0ULL)

/* ---- free range list (planning phase) ---------------------------------- */

static void range_remove(struct frame_allocator *fa, u32 i)
{
	for (u32 j = i; j + 1 < fa->n_free; j++)
		fa->free[j] = fa->free[j + 1];
	fa->n_free--;
}

static bool range_insert(struct frame_allocator *fa, u32 at, u64 base, u64 end)
{
	if (fa->n_free >= FRAME_MAX_RANGES)
		return false;
	for (u32 j = fa->n_free; j > at; j--)
		fa->free[j] = fa->free[j - 1];
	fa->free[at].base = base;
	fa->free[at].end = end;
	fa->n_free++;
	return true;
}

/* Sort by base and fuse overlapping or touching ranges, so that any run of
 * free frames lies inside exactly one range. */
static void ranges_normalize(struct frame_allocator *fa)
{
	for (u32 i = 1; i < fa->n_free; i++) {
		struct frame_range r = fa->free[i];
		u32 j = i;
		while (j > 0 && fa->free[j - 1].base > r.base) {
			fa->free[j] = fa->free[j - 1];
			j--;
		}
		fa->free[j] = r;
	}
	u32 i = 0;
	while (i + 1 < fa->n_free) {
		if (fa->free[i + 1].base <= fa->free[i].end) {
			fa->free[i].end = MAX(fa->free[i].end, fa->free[i + 1].end);
			range_remove(fa, i + 1);
		} else {
			i++;
		}
	}
}

/* Removes [base, end) (already page aligned) from the free ranges. */
static void ranges_subtract(struct frame_allocator *fa, u64 base, u64 end)
{
	u32 i = 0;

	while (i < fa->n_free) {
		struct frame_range *r = &fa->free[i];
		if (end <= r->base || base >= r->end) {
			i++;
			continue;
		}
		if (base <= r->base && end >= r->end) {
			range_remove(fa, i);
			continue;
		}
		if (base > r->base && end < r->end) {
			u64 old_end = r->end;
			r->end = base;
			if (!range_insert(fa, i + 1, end, old_end))
				pr_warn("frame: more than %u free ranges, [0x%llx, 0x%llx) not used\n",
					FRAME_MAX_RANGES, (unsigned long long)end,
					(unsigned long long)old_end);
			return;
		}
		if (base <= r->base)
			r->base = end;
		else
			r->end = base;
		i++;
	}
}

/* Widens [base, end) to whole pages, saturating at the top of the address
 * space instead of wrapping to 0. */
static void subtract_widened(struct frame_allocator *fa, u64 base, u64 end)
{
	u64 b = ALIGN_DOWN(base, PAGE_SIZE);
	u64 e = end > (ADDR_MAX & PAGE_MASK) ? ADDR_MAX : ALIGN_UP(end, PAGE_SIZE);
	ranges_subtract(fa, b, e);
}

static u64 region_end(const struct mem_region *r)
{
	u64 end = r->base + r->len;
	return end < r->base ? ADDR_MAX : end;
}

u64 frame_alloc_plan(struct frame_allocator *fa, const struct mem_region *mem, u32 n,
		     const struct frame_range *reserved, u32 n_reserved)
{
	memset(fa, 0, sizeof(*fa));

	for (u32 i = 0; i < n; i++) {
		if (mem[i].type != MEM_USABLE || mem[i].len == 0)
			continue;
		u64 end = MIN(region_end(&mem[i]), FRAME_PHYS_LIMIT);
		if (mem[i].base >= end) {
			pr_warn("frame: usable region at 0x%llx is beyond the physical address limit, ignored\n",
				(unsigned long long)mem[i].base);
			continue;
		}
		u64 b = ALIGN_UP(mem[i].base, PAGE_SIZE);
		u64 e = ALIGN_DOWN(end, PAGE_SIZE);
		if (b >= e)
			continue;
		if (fa->n_free >= FRAME_MAX_RANGES) {
			/* Merging may free slots again: try that before giving up. */
			ranges_normalize(fa);
			if (fa->n_free >= FRAME_MAX_RANGES) {
				pr_warn("frame: more than %u usable regions, [0x%llx, 0x%llx) not used\n",
					FRAME_MAX_RANGES, (unsigned long long)b,
					(unsigned long long)e);
				continue;
			}
		}
		fa->free[fa->n_free].base = b;
		fa->free[fa->n_free].end = e;
		fa->n_free++;
	}
	ranges_normalize(fa);

	/* Address 0 doubles as frame_alloc's failure value. */
	ranges_subtract(fa, 0, PAGE_SIZE);
	/* Whatever else the map says about a range beats "usable"; this makes an
	 * unsanitized map with overlaps safe too. */
	for (u32 i = 0; i < n; i++)
		if (mem[i].type != MEM_USABLE && mem[i].len != 0)
			subtract_widened(fa, mem[i].base, region_end(&mem[i]));
	for (u32 i = 0; i < n_reserved; i++) {
		if (reserved[i].end < reserved[i].base) {
			pr_err("frame: reserved range [0x%llx, 0x%llx) ends before it starts, ignored\n",
			       (unsigned long long)reserved[i].base,
			       (unsigned long long)reserved[i].end);
			continue;
		}
		if (reserved[i].end != reserved[i].base)
			subtract_widened(fa, reserved[i].base, reserved[i].end);
	}

	if (fa->n_free == 0) {
		pr_err("frame: no free memory left after reservations\n");
		return 0;
	}
	for (u32 i = 0; i < fa->n_free; i++)
		fa->free_frames += (fa->free[i].end - fa->free[i].base) >> PAGE_SHIFT;
	fa->base_frame = fa->free[0].base >> PAGE_SHIFT;
	fa->frames = (fa->free[fa->n_free - 1].end >> PAGE_SHIFT) - fa->base_frame;
	/* Whole 64-bit words, because the bitmap is scanned a word at a time. */
	fa->bitmap_bytes = ALIGN_UP(fa->frames, 64) / 8;
	return fa->bitmap_bytes;
}

u64 frame_alloc_place_bitmap(struct frame_allocator *fa, u64 bytes)
{
	if (fa->live) {
		pr_err("frame: bitmap placed after the allocator went live\n");
		return 0;
	}
	if (bytes == 0 || bytes < fa->bitmap_bytes || bytes > FRAME_PHYS_LIMIT) {
		pr_err("frame: bitmap size %llu bytes is wrong, the plan needs %llu\n",
		       (unsigned long long)bytes, (unsigned long long)fa->bitmap_bytes);
		return 0;
	}
	u64 size = ALIGN_UP(bytes, PAGE_SIZE);
	for (u32 i = 0; i < fa->n_free; i++) {
		struct frame_range *r = &fa->free[i];
		if (r->end - r->base < size)
			continue;
		u64 pa = r->base;
		r->base += size;
		if (r->base == r->end)
			range_remove(fa, i);
		fa->free_frames -= size >> PAGE_SHIFT;
		return pa;
	}
	pr_err("frame: no free range holds the %llu-byte bitmap\n", (unsigned long long)bytes);
	return 0;
}

/* ---- bitmap (live phase) ----------------------------------------------- */

static void bits_assign(u64 *bm, u64 start, u64 n, bool set)
{
	while (n) {
		u64 bit = start % 64;
		u64 chunk = MIN(64 - bit, n);
		u64 mask = chunk == 64 ? ~0ULL : ((1ULL << chunk) - 1) << bit;
		if (set)
			bm[start / 64] |= mask;
		else
			bm[start / 64] &= ~mask;
		start += chunk;
		n -= chunk;
	}
}

/* First index in [i, limit) whose bit equals `set`, or limit.  Words holding
 * only the other value are skipped whole. */
static u64 bits_find(const u64 *bm, u64 i, u64 limit, bool set)
{
	u64 skip = set ? 0 : ~0ULL;

	while (i < limit) {
		u64 word = bm[i / 64];
		if (i % 64 == 0 && word == skip) {
			i += 64;
			continue;
		}
		if (((word >> (i % 64)) & 1) == (u64)set)
			return i;
		i++;
	}
	return limit;
}

void frame_alloc_attach_bitmap(struct frame_allocator *fa, void *bitmap)
{
	if (!bitmap || ((uintptr_t)bitmap & 7)) {
		pr_err("frame: bitmap pointer 0x%llx unusable\n", (unsigned long long)(uintptr_t)bitmap);
		return;
	}
	if (fa->live) {
		pr_err("frame: bitmap attached twice\n");
		return;
	}
	fa->bitmap = bitmap;
	/* Everything starts taken, padding bits of the last word included, so
	 * only the planned free ranges can ever be found free. */
	memset(fa->bitmap, 0xff, fa->bitmap_bytes);
	fa->free_frames = 0;
	for (u32 i = 0; i < fa->n_free; i++) {
		u64 first = (fa->free[i].base >> PAGE_SHIFT) - fa->base_frame;
		u64 count = (fa->free[i].end - fa->free[i].base) >> PAGE_SHIFT;
		bits_assign(fa->bitmap, first, count, false);
		fa->free_frames += count;
	}
	fa->hint = 0;
	fa->live = true;
}

/* First index >= from (and below limit) where count free frames start at a
 * physical frame number that is a multiple of align_frames. */
static u64 find_run(const struct frame_allocator *fa, u64 from, u64 limit, u64 count,
		    u64 align_frames)
{
	u64 i = from;

	for (;;) {
		i = bits_find(fa->bitmap, i, limit, false);
		i = ALIGN_UP(fa->base_frame + i, align_frames) - fa->base_frame;
		if (i >= limit || limit - i < count)
			return NOT_FOUND;
		u64 used = bits_find(fa->bitmap, i, i + count, true);
		if (used == i + count)
			return i;
		i = used + 1;
	}
}

u64 frame_alloc(struct frame_allocator *fa, u64 count, u64 align, u64 max_end)
{
	if (!fa->live) {
		pr_err("frame: allocation before the bitmap was attached\n");
		return 0;
	}
	if (count == 0) {
		pr_warn("frame: allocation of zero frames\n");
		return 0;
	}
	if (align == 0)
		align = PAGE_SIZE;
	if (align < PAGE_SIZE || (align & (align - 1))) {
		pr_err("frame: alignment 0x%llx is not a power of two >= 4 KiB\n",
		       (unsigned long long)align);
		return 0;
	}

	u64 limit = fa->frames;
	if (max_end) {
		u64 end_frame = max_end >> PAGE_SHIFT;
		if (end_frame <= fa->base_frame)
			return 0;
		limit = MIN(limit, end_frame - fa->base_frame);
	}
	if (count > limit || count > fa->free_frames)
		return 0;

	u64 align_frames = align >> PAGE_SHIFT;
	u64 i = find_run(fa, fa->hint, limit, count, align_frames);
	if (i == NOT_FOUND && fa->hint != 0)
		i = find_run(fa, 0, limit, count, align_frames);
	if (i == NOT_FOUND)
		return 0;

	bits_assign(fa->bitmap, i, count, true);
	fa->free_frames -= count;
	fa->hint = i + count < fa->frames ? i + count : 0;
	return (fa->base_frame + i) << PAGE_SHIFT;
}

void frame_free(struct frame_allocator *fa, u64 phys, u64 count)
{
	if (!fa->live) {
		pr_err("frame: free of 0x%llx before the bitmap was attached\n",
		       (unsigned long long)phys);
		return;
	}
	if (phys & (PAGE_SIZE - 1)) {
		pr_err("frame: free of unaligned address 0x%llx ignored\n", (unsigned long long)phys);
		return;
	}
	if (count == 0) {
		pr_warn("frame: free of zero frames at 0x%llx\n", (unsigned long long)phys);
		return;
	}

	/* Allocations never span two ranges (ranges are never adjacent), so a
	 * legitimate free lies inside one of them. */
	const struct frame_range *r = NULL;
	for (u32 k = 0; k < fa->n_free; k++) {
		if (phys >= fa->free[k].base && phys < fa->free[k].end) {
			r = &fa->free[k];
			break;
		}
	}
	if (!r || count > (r->end - phys) >> PAGE_SHIFT) {
		pr_err("frame: free of 0x%llx (%llu frames) outside managed memory ignored\n",
		       (unsigned long long)phys, (unsigned long long)count);
		return;
	}

	u64 i = (phys >> PAGE_SHIFT) - fa->base_frame;
	u64 clear = bits_find(fa->bitmap, i, i + count, false);
	if (clear != i + count) {
		pr_err("frame: double free of 0x%llx (%llu frames): frame 0x%llx is not allocated, ignored\n",
		       (unsigned long long)phys, (unsigned long long)count,
		       (unsigned long long)((fa->base_frame + clear) << PAGE_SHIFT));
		return;
	}
	bits_assign(fa->bitmap, i, count, false);
	fa->free_frames += count;
}

u64 frame_alloc_free_frames(const struct frame_allocator *fa)
{
	return fa->free_frames;
}
