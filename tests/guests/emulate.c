/*
 * emulate: accesses the hypervisor emulates that cross a page boundary.
 *
 * The hypervisor decodes and emulates an instruction whose memory operand touches
 * memory the SLAT does not map (docs/guest-policy.md). Such an operand may straddle
 * two guest-virtual pages whose frames are unrelated: RAM next to unbacked memory,
 * or two RAM frames that are not neighbours. Each byte must come from (go to) the
 * frame its own address translates to, and a fault on either page faults the whole
 * access, CR2 naming the faulting page, before anything is written (as the CPU does).
 *
 * With PAE paging on, two adjacent virtual pages (the window) are pointed at frames
 * and a dword at window+0xffe is read or written:
 *   - RAM then unbacked, unbacked then RAM (MOV);
 *   - RAM then a RAM frame that is not its neighbour (MOVS from the unbacked page,
 *     which makes the instruction exit);
 *   - second page not present: #PF for the second page, nothing written.
 * The RAM frames are three consecutive pages with different patterns, so a byte that
 * lands in the first frame's physical neighbour shows up.
 *
 * The unbacked page is unbacked=<addr>, else, with `hv`, the first page above the
 * highest usable RAM below 4 GiB, where the hypervisor's pool starts. Its empty-bus
 * value is measured first (all ones under the hypervisor; bare QEMU reads unassigned
 * memory as zeros, so `unbacked=0xe0000000` compares a bare run).
 */
#include "guest.h"

const char guest_name[] = "emulate";

#define PAGE 4096u
#define EDGE (PAGE - 2) /* a dword here has two bytes on each page */
#define PATTERN 0xa1b2c3d4u

static u8 ram[3][PAGE] __attribute__((aligned(PAGE)));
static u8 want[3][PAGE];
/* Only its virtual addresses are used: the tests point its PTEs elsewhere. */
static u8 window[2][PAGE] __attribute__((aligned(PAGE)));
static u32 unbacked;
static u8 empty; /* a byte of the unbacked page */

static void map(u32 va, u32 pa)
{
	*paging_pte(va) = pa | PTE_P | PTE_W;
	invlpg(va);
}

static void unmap(u32 va)
{
	*paging_pte(va) = 0;
	invlpg(va);
}

static void map_window(u32 first, u32 second)
{
	map((u32)window[0], first);
	if (second)
		map((u32)window[1], second);
	else
		unmap((u32)window[1]);
}

/* Each frame gets its own fill, and distinct bytes where a crossing dword lands. */
static void reset_ram(void)
{
	for (u32 i = 0; i < 3; i++) {
		memset(want[i], 0x11 * (i + 1), PAGE);
		want[i][0] = (u8)(0x40 + i * 0x10);
		want[i][1] = (u8)(0x41 + i * 0x10);
		want[i][EDGE] = (u8)(0x4e + i * 0x10);
		want[i][EDGE + 1] = (u8)(0x4f + i * 0x10);
		memcpy(ram[i], want[i], PAGE);
	}
}

static void check_ram(void)
{
	for (u32 i = 0; i < 3; i++) {
		for (u32 k = 0; k < PAGE; k++) {
			if (ram[i][k] != want[i][k]) {
				test_fail("frame %u (%08x) byte %03x is %02x, expected %02x", i,
					  (u32)ram[i], k, ram[i][k], want[i][k]);
				return;
			}
		}
	}
}

static u32 bytes(u8 b0, u8 b1, u8 b2, u8 b3)
{
	return b0 | (u32)b1 << 8 | (u32)b2 << 16 | (u32)b3 << 24;
}

/* Plain MOVs and a MOVS, in assembly so the compiler cannot split or widen them. */
struct access {
	u32 addr, value;
};

static void mov_read(void *arg)
{
	struct access *a = arg;
	__asm__ volatile("movl (%1), %0" : "=r"(a->value) : "r"(a->addr) : "memory");
}

static void mov_write(void *arg)
{
	struct access *a = arg;
	__asm__ volatile("movl %1, (%0)" ::"r"(a->addr), "r"(a->value) : "memory");
}

static void movs_from_unbacked(void *arg)
{
	struct access *a = arg;
	u32 src = unbacked, dst = a->addr;
	__asm__ volatile("cld; movsl" : "+S"(src), "+D"(dst) : : "memory");
}

static void run(void (*fn)(void *), struct access *a)
{
	struct trap t;
	int vec = trap_run(fn, a, &t);
	if (vec >= 0)
		test_fail("%s at eip %08x (error %x, cr2 %08x)", vector_name((u32)vec), t.eip,
			  t.error, t.cr2);
}

static void expect_pf(void (*fn)(void *), struct access *a, u32 error)
{
	struct trap t;
	int vec = trap_run(fn, a, &t);
	if (vec != VEC_PF) {
		test_fail("expected #PF, got %s", vec < 0 ? "none" : vector_name((u32)vec));
		return;
	}
	EXPECT_EQ(t.cr2, (u32)window[1]);
	EXPECT_EQ(t.error, error);
}

static void ram_then_unbacked(void)
{
	u32 w = (u32)window[0] + EDGE;
	struct access a = {w, 0};

	test_begin("cross-read-ram-unbacked");
	reset_ram();
	map_window((u32)ram[0], unbacked);
	run(mov_read, &a);
	EXPECT_EQ(a.value, bytes(want[0][EDGE], want[0][EDGE + 1], empty, empty));
	check_ram();
	test_end();

	test_begin("cross-write-ram-unbacked");
	a.value = PATTERN;
	run(mov_write, &a);
	want[0][EDGE] = 0xd4;
	want[0][EDGE + 1] = 0xc3;
	check_ram(); /* frame 1, frame 0's neighbour, unchanged */
	test_end();
}

static void unbacked_then_ram(void)
{
	u32 w = (u32)window[0] + EDGE;
	struct access a = {w, 0};

	test_begin("cross-read-unbacked-ram");
	reset_ram();
	map_window(unbacked, (u32)ram[2]);
	run(mov_read, &a);
	EXPECT_EQ(a.value, bytes(empty, empty, want[2][0], want[2][1]));
	check_ram();
	test_end();

	test_begin("cross-write-unbacked-ram");
	a.value = PATTERN;
	run(mov_write, &a);
	want[2][0] = 0xb2;
	want[2][1] = 0xa1;
	check_ram();
	test_end();
}

static void ram_then_other_ram(void)
{
	struct access a = {(u32)window[0] + EDGE, 0};

	test_begin("cross-movs-ram-ram");
	reset_ram();
	map_window((u32)ram[0], (u32)ram[2]);
	run(movs_from_unbacked, &a);
	want[0][EDGE] = want[0][EDGE + 1] = empty;
	want[2][0] = want[2][1] = empty;
	check_ram(); /* frame 1 lies between them and keeps its bytes */
	test_end();
}

static void second_page_missing(void)
{
	struct access a = {(u32)window[0] + EDGE, PATTERN};

	test_begin("cross-fault-read");
	reset_ram();
	map_window(unbacked, 0);
	expect_pf(mov_read, &a, 0);
	test_end();

	test_begin("cross-fault-write");
	expect_pf(mov_write, &a, PF_W);
	test_end();

	/* With RAM as the first page the write must leave it untouched. */
	test_begin("cross-fault-movs");
	map_window((u32)ram[0], 0);
	expect_pf(movs_from_unbacked, &a, PF_W);
	check_ram();
	test_end();
}

/* The first page above the highest usable RAM below 4 GiB. */
static u32 above_ram(void)
{
	u64 top = 0;
	for (int i = 0; i < mem_map_count; i++) {
		u64 end = mem_map[i].base + mem_map[i].len;
		if (mem_map[i].type == MMAP_USABLE && mem_map[i].base < 0x100000000ull && end > top)
			top = end;
	}
	return top >= 0x100000000ull ? 0 : (u32)((top + PAGE - 1) & ~(u64)(PAGE - 1));
}

/* Reads one value everywhere and drops writes, as an empty bus does. */
static bool looks_unbacked(u32 page, u32 *value)
{
	u32 v = mmio_read32(page);
	mmio_write32(page + 0x100, ~v);
	*value = v;
	return (v == 0 || v == 0xffffffffu) && mmio_read32(page + 0x100) == v &&
	       mmio_read32(page + PAGE - 4) == v;
}

void guest_main(void)
{
	char buf[24];
	bool hv = cmdline_has("hv");
	unbacked = cmdline_value("unbacked", buf, sizeof(buf)) ? cmdline_u32("unbacked", 0) & ~(PAGE - 1)
								 : hv ? above_ram() : 0;
	if (!unbacked) {
		note("no unbacked page (give unbacked=<addr>): nothing tested");
		return;
	}
	if (!paging_pte((u32)window[1]) || !paging_pte((u32)ram[2]))
		guest_abort("the test pages lie above 2 MiB");

	u32 value;
	test_begin("unbacked-page");
	if (!looks_unbacked(unbacked, &value))
		test_fail("%08x is not unbacked: reads %08x", unbacked, value);
	if (hv)
		EXPECT_EQ(value, 0xffffffffu);
	note("unbacked page %08x reads %08x; RAM frames at %08x, window at %08x", unbacked, value,
	     (u32)ram[0], (u32)window[0]);
	if (!test_end())
		return;
	empty = (u8)value;

	paging_enable_pae();
	ram_then_unbacked();
	unbacked_then_ram();
	ram_then_other_ram();
	second_page_missing();
	map((u32)window[0], (u32)window[0]);
	map((u32)window[1], (u32)window[1]);
	paging_disable();
}
