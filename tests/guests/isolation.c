/*
 * isolation: the guest owns all the RAM its memory map calls usable, and nothing of
 * the hypervisor is reachable.
 *
 * 1. Fill every usable page below 4 GiB (except this image, which holds the stack)
 *    with a pattern that depends on the page's address, then verify it all. Aliasing
 *    (two guest pages backed by one frame) or memory the hypervisor still writes to
 *    shows up as a mismatch.
 * 2. The hypervisor marks its own frames reserved in the guest's map, and a guest
 *    access there must behave like unbacked memory: reads all ones, writes dropped.
 *    - Reserved regions inside the span of usable RAM (above 1 MiB, below the top of
 *      the highest usable region): on QEMU and Bochs only the hypervisor creates
 *      those (e.g. its image loaded low), so every probed page must be unbacked.
 *    - Reserved regions continuing usable RAM upwards without a gap: the hypervisor's
 *      pool (the top of free memory below 4 GiB) lies there, next to firmware areas
 *      that are real memory (SeaBIOS's high area). Their pages are classified
 *      (unbacked / backed / other; a backed page gets its old value back).
 *    With `hv` on the command line at least one probed page must be unbacked; without
 *    `hv` (bare machine) the test only reports what it finds.
 *    probe=<addr> also probes 16 pages from addr and requires them unbacked (to check
 *    the probe on bare Bochs, which reads unbacked memory as all ones, or to aim at a
 *    known hypervisor address).
 *    A few pages per region are probed, each logged once by the hypervisor.
 *
 * Runs with paging off, so the whole low 4 GiB is directly addressable.
 */
#include "guest.h"

const char guest_name[] = "isolation";

#define PAGE 4096u
#define FOUR_GIB 0x100000000ull
#define PROBE_PAGES_PER_REGION 8

static u32 page_pattern(u32 page)
{
	/* Different for every page, never 0 or all ones. */
	return (page ^ 0x5a5a5a5au) * 2654435761u | 0x00010000u;
}

/* rep stosl / repe scasl: the emulators execute string instructions far faster than
 * an equivalent C loop (TCG and Bochs both special-case them). */
static void fill_page(u32 addr, u32 value)
{
	u32 count = PAGE / 4;
	__asm__ volatile("rep stosl" : "+D"(addr), "+c"(count) : "a"(value) : "memory");
}

/* Returns the number of dwords left after the first mismatch (0: page intact). */
static u32 check_page(u32 addr, u32 value)
{
	u32 count = PAGE / 4;
	__asm__ volatile("repe scasl\n\tjz 1f\n\tinc %1\n1:"
			 : "+D"(addr), "+c"(count)
			 : "a"(value)
			 : "memory", "cc");
	return count;
}

struct range {
	u32 lo, hi; /* [lo, hi), page aligned */
};

/* Usable RAM below 4 GiB minus the image, as page-aligned ranges. */
static int usable_ranges(struct range *out, int max)
{
	u32 img_lo = (u32)__image_start & ~(PAGE - 1);
	u32 img_hi = ((u32)__image_end + PAGE - 1) & ~(PAGE - 1);
	int n = 0;
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *r = &mem_map[i];
		if (r->type != MMAP_USABLE || r->base >= FOUR_GIB)
			continue;
		u64 end = r->base + r->len > FOUR_GIB ? FOUR_GIB : r->base + r->len;
		u32 lo = (u32)((r->base + PAGE - 1) & ~(u64)(PAGE - 1));
		u32 hi = (u32)(end & ~(u64)(PAGE - 1));
		if (end == FOUR_GIB)
			hi = 0xfffff000u; /* keep hi representable; the last page is never RAM */
		if (lo >= hi)
			continue;
		/* cut the image out */
		if (img_lo < hi && img_hi > lo) {
			if (lo < img_lo && n < max)
				out[n++] = (struct range){ lo, img_lo };
			if (img_hi < hi && n < max)
				out[n++] = (struct range){ img_hi, hi };
		} else if (n < max) {
			out[n++] = (struct range){ lo, hi };
		}
	}
	return n;
}

static void pattern_test(void)
{
	struct range ranges[MMAP_MAX * 2];
	int n = usable_ranges(ranges, MMAP_MAX * 2);
	u64 pages = 0;

	test_begin("ram-pattern");
	if (!n)
		test_fail("the memory map has no usable RAM besides the image");
	for (int i = 0; i < n; i++) {
		note("filling %08x-%08x", ranges[i].lo, ranges[i].hi - 1);
		for (u32 p = ranges[i].lo; p < ranges[i].hi; p += PAGE)
			fill_page(p, page_pattern(p));
		pages += (ranges[i].hi - ranges[i].lo) / PAGE;
	}
	u32 bad = 0;
	for (int i = 0; i < n; i++) {
		for (u32 p = ranges[i].lo; p < ranges[i].hi; p += PAGE) {
			u32 left = check_page(p, page_pattern(p));
			if (!left)
				continue;
			u32 at = p + PAGE - 4 * left;
			if (!bad++)
				test_fail("at %08x: read %08x, wrote %08x", at, mmio_read32(at),
					  page_pattern(p));
		}
	}
	note("%llu pages (%llu MiB) written and verified, %u bad", pages, pages >> 8, bad);
	if (bad > 1)
		note("%u pages differ", bad);
	test_end();
}

enum page_kind { PAGE_UNBACKED, PAGE_BACKED, PAGE_OTHER };
static const char *const kind_names[] = { "unbacked", "backed", "other" };

/* Probe one page without changing it: unbacked (every read all ones, writes dropped),
 * backed (a write sticks: it is memory; the old value is put back) or other (writes
 * dropped but reads not all ones: ROM or a device). */
static enum page_kind probe_page(u32 page, char *detail, size_t size)
{
	static const u32 offsets[] = { 0, 4, 0x800, PAGE - 4 };
	u32 bad_at = 0, bad_val = 0xffffffffu;
	for (u32 i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		u32 v = mmio_read32(page + offsets[i]);
		if (v != 0xffffffffu && bad_val == 0xffffffffu)
			bad_at = offsets[i], bad_val = v;
	}
	u8 byte = *(volatile u8 *)(page + 0x201);
	volatile u32 *cell = (volatile u32 *)(page + 0x100);
	u32 old = *cell;
	*cell = 0x12345678u;
	u32 back = *cell;
	if (back == 0x12345678u) {
		*cell = old;
		snprintf(detail, size, "a write stuck");
		return PAGE_BACKED;
	}
	if (bad_val != 0xffffffffu || byte != 0xff || back != 0xffffffffu) {
		snprintf(detail, size, "reads %08x at +0x%x, byte %02x, after a write %08x", bad_val,
			 bad_at, byte, back);
		return PAGE_OTHER;
	}
	detail[0] = '\0';
	return PAGE_UNBACKED;
}

/* Probes up to `max` pages of [lo, hi) (first, last, evenly spaced); counts kinds.
 * must_be_unbacked: every page that is not unbacked fails the open test. */
static void probe_range(u32 lo, u32 hi, u32 max, bool must_be_unbacked, u32 counts[3])
{
	u32 npages = (hi - lo) / PAGE;
	u32 n = npages < max ? npages : max;
	for (u32 k = 0; k < n; k++) {
		u32 idx = n > 1 ? (u32)udivmod64((u64)k * (npages - 1), n - 1, NULL) : 0;
		u32 page = lo + idx * PAGE;
		char detail[80];
		enum page_kind kind = probe_page(page, detail, sizeof(detail));
		counts[kind]++;
		if (kind != PAGE_UNBACKED && must_be_unbacked)
			test_fail("reserved page %08x is %s: %s", page, kind_names[kind], detail);
	}
}

static bool is_usable(int i)
{
	return mem_map[i].type == MMAP_USABLE;
}

/* Reserved regions between 1 MiB and 4 GiB, page-aligned inwards. */
static bool reserved_range(int i, u32 *lo, u32 *hi)
{
	const struct mem_region *r = &mem_map[i];
	if (is_usable(i) || r->base < 0x100000 || r->base >= FOUR_GIB)
		return false;
	u64 end = r->base + r->len > FOUR_GIB ? FOUR_GIB - PAGE : r->base + r->len;
	*lo = (u32)((r->base + PAGE - 1) & ~(u64)(PAGE - 1));
	*hi = (u32)(end & ~(u64)(PAGE - 1));
	return *lo < *hi;
}

static void reserved_test(bool hv)
{
	/* The span of usable RAM: up to the end of the highest usable region (< 4 GiB). */
	u64 top = 0;
	for (int i = 0; i < mem_map_count; i++)
		if (is_usable(i) && mem_map[i].base < FOUR_GIB &&
		    mem_map[i].base + mem_map[i].len > top)
			top = mem_map[i].base + mem_map[i].len;
	if (top > FOUR_GIB)
		top = FOUR_GIB;

	test_begin("reserved-unbacked");
	u32 counts[3] = { 0, 0, 0 };
	int inside = 0, above = 0;

	/* Inside the span: on these platforms only the hypervisor makes such holes, so
	 * every probed page must be unbacked. */
	for (int i = 0; i < mem_map_count; i++) {
		u32 lo, hi;
		if (!reserved_range(i, &lo, &hi) || lo >= top)
			continue;
		if (hi > top)
			hi = (u32)top;
		inside++;
		u32 c[3] = { 0, 0, 0 };
		probe_range(lo, hi, PROBE_PAGES_PER_REGION, true, c);
		note("reserved %08x-%08x (type %u) inside usable RAM: %u unbacked, %u backed, "
		     "%u other", lo, hi - 1, mem_map[i].type, c[0], c[1], c[2]);
		for (int k = 0; k < 3; k++)
			counts[k] += c[k];
	}

	/* Reserved regions that continue usable RAM upwards without a gap (the
	 * hypervisor's pool at the top of RAM ends up here, but so does firmware data
	 * such as SeaBIOS's high area): classified, not asserted page by page. */
	u64 edge = top;
	for (bool grew = true; grew;) {
		grew = false;
		for (int i = 0; i < mem_map_count; i++) {
			u32 lo, hi;
			if (!reserved_range(i, &lo, &hi) || mem_map[i].base != edge)
				continue;
			above++;
			u32 c[3] = { 0, 0, 0 };
			probe_range(lo, hi, PROBE_PAGES_PER_REGION, false, c);
			note("reserved %08x-%08x (type %u) above usable RAM: %u unbacked, %u backed, "
			     "%u other", lo, hi - 1, mem_map[i].type, c[0], c[1], c[2]);
			for (int k = 0; k < 3; k++)
				counts[k] += c[k];
			edge = mem_map[i].base + mem_map[i].len;
			grew = edge < FOUR_GIB;
			break;
		}
	}

	char buf[24];
	if (cmdline_value("probe", buf, sizeof(buf))) {
		u32 at = cmdline_u32("probe", 0) & ~(PAGE - 1);
		u32 c[3] = { 0, 0, 0 };
		probe_range(at, at + 16 * PAGE, 16, true, c);
		note("probe=%08x: %u unbacked, %u backed, %u other", at, c[0], c[1], c[2]);
		counts[PAGE_UNBACKED] += c[PAGE_UNBACKED];
	}

	note("%d reserved region(s) inside usable RAM, %d right above it; %u unbacked page(s)",
	     inside, above, counts[PAGE_UNBACKED]);
	if (hv && !counts[PAGE_UNBACKED])
		test_fail("'hv' given but no reserved page reads as unbacked memory");
	test_end();
}

void guest_main(void)
{
	bool hv = cmdline_has("hv");
	pattern_test();
	reserved_test(hv);
	/* The RAM pattern must have survived the probes of the reserved range. */
	test_begin("ram-still-intact");
	struct range ranges[MMAP_MAX * 2];
	int n = usable_ranges(ranges, MMAP_MAX * 2);
	u32 bad = 0;
	for (int i = 0; i < n; i++)
		for (u32 p = ranges[i].lo; p < ranges[i].hi; p += PAGE)
			if (check_page(p, page_pattern(p)) && !bad++)
				test_fail("page %08x changed after the reserved-range probes", p);
	test_end();
}
