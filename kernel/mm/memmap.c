/* Memory map sanitizer.
 *
 * Sweep over the distinct region boundaries in increasing order: between two
 * consecutive boundaries no region starts or ends, so one type decides the
 * whole slice.  Finding each next boundary by a linear scan keeps the function
 * free of scratch buffers (it runs before any allocator exists) at O(n^2) cost,
 * which is nothing for maps of a few hundred entries. */
#include "kernel/mm/memmap.h"
#include "kernel/printk.h"

#define ADDR_MAX (~0ULL)

static u32 normalize_type(u32 type)
{
	if (type >= MEM_USABLE && type <= MEM_BAD)
		return type;
	return MEM_RESERVED;
}

/* Higher rank wins an overlap.  Usable memory loses to everything, since
 * handing out memory that firmware also claims is the one unrecoverable
 * mistake; reclaimable ACPI tables lose to plain reserved because they are
 * only reusable once parsed; NVS must survive sleep states; bad RAM must
 * never be touched at all. */
static int type_rank(u32 type)
{
	switch (type) {
	case MEM_USABLE:
		return 0;
	case MEM_ACPI_RECLAIMABLE:
		return 1;
	case MEM_RESERVED:
		return 2;
	case MEM_ACPI_NVS:
		return 3;
	case MEM_BAD:
		return 4;
	default:
		return 2;
	}
}

/* Exclusive end of a region, clamped to the top of the address space. */
static u64 region_end(const struct mem_region *r)
{
	u64 end = r->base + r->len;
	return end < r->base ? ADDR_MAX : end;
}

u32 memmap_sanitize(const struct mem_region *in, u32 n, struct mem_region *out, u32 max_out)
{
	u32 count = 0;
	bool any = false;
	u64 cur = 0;

	for (u32 i = 0; i < n; i++) {
		if (in[i].len == 0)
			continue;
		if (in[i].base + in[i].len < in[i].base)
			pr_warn("memmap: region 0x%llx + 0x%llx wraps, clamped to the top of memory\n",
				(unsigned long long)in[i].base, (unsigned long long)in[i].len);
		if (!any || in[i].base < cur)
			cur = in[i].base;
		any = true;
	}
	if (!any)
		return 0;

	for (;;) {
		/* Next boundary strictly above cur: it closes the slice [cur, next). */
		bool found = false;
		u64 next = ADDR_MAX;
		for (u32 i = 0; i < n; i++) {
			if (in[i].len == 0)
				continue;
			u64 b = in[i].base, e = region_end(&in[i]);
			if (b > cur && b <= next) {
				next = b;
				found = true;
			}
			if (e > cur && e <= next) {
				next = e;
				found = true;
			}
		}
		if (!found)
			break;

		int best = -1;
		u32 best_type = 0;
		for (u32 i = 0; i < n; i++) {
			if (in[i].len == 0)
				continue;
			if (in[i].base <= cur && region_end(&in[i]) >= next) {
				u32 t = normalize_type(in[i].type);
				if (type_rank(t) > best) {
					best = type_rank(t);
					best_type = t;
				}
			}
		}

		if (best >= 0) {
			struct mem_region *prev = count ? &out[count - 1] : NULL;
			if (prev && prev->type == best_type && prev->base + prev->len == cur) {
				prev->len += next - cur;
			} else if (count < max_out) {
				out[count].base = cur;
				out[count].len = next - cur;
				out[count].type = best_type;
				count++;
			} else {
				pr_warn("memmap: more than %u regions after sanitizing, dropped everything from 0x%llx on\n",
					max_out, (unsigned long long)cur);
				break;
			}
		}
		cur = next;
	}
	return count;
}
