/*
 * C side of the mode transitions in transitions.S: the 64-bit IDT for lm_call(), and the
 * real-mode round trip (copying the trampoline to low memory, reading its results).
 */
#include "guest.h"

struct lm_gate {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, reserved;
} __attribute__((packed));

extern const u32 lm_stubs[32];
extern struct {
	u16 limit;
	u64 base;
} __attribute__((packed)) lm_idtr;
u32 lm_call_asm(u32 fn64, u32 arg, u32 cr3);

static struct lm_gate idt64[32] __attribute__((aligned(16)));

u32 lm_call(void (*fn64)(void), u32 arg, u32 cr3)
{
	if (!lm_idtr.limit) {
		for (int v = 0; v < 32; v++) {
			u32 a = lm_stubs[v];
			/* 64-bit interrupt gate, DPL 0, no IST: same stack, like the 32-bit IDT. */
			idt64[v] = (struct lm_gate){ (u16)a, SEL_CODE64, 0, 0x8e, (u16)(a >> 16), 0, 0 };
		}
		lm_idtr.base = (u32)idt64;
		lm_idtr.limit = sizeof(idt64) - 1;
	}
	return lm_call_asm((u32)fn64, arg, cr3);
}

/* ---- real mode ------------------------------------------------------------------- */

/* The trampoline in transitions.S; offsets into it locate its data fields in the copy. */
extern char rm_start[], rm_end[], rm_msg[], rm_res_cs[], rm_res_ds[], rm_res_ss[],
	rm_res_cr0[], rm_res_marker[], rm_res_alias[];
extern char gdt[];
void rm_enter(u32 base);

#define RM_MSG_MAX 96

u32 low_memory_area(void)
{
	/* Prefer 0x8000 (free on every PC after boot); else the lowest 4 KiB of usable
	 * RAM between 4 KiB and 640 KiB that the map offers. */
	u32 best = 0;
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *r = &mem_map[i];
		if (r->type != MMAP_USABLE || r->base >= 0xa0000)
			continue;
		u32 lo = (u32)r->base, hi = (u32)(r->base + r->len > 0xa0000 ? 0xa0000 : r->base + r->len);
		if (lo < 0x1000)
			lo = 0x1000;
		lo = (lo + 0xfff) & ~0xfffu;
		if (lo + 0x1000 > hi)
			continue;
		if (lo <= 0x8000 && 0x9000 <= hi)
			return 0x8000;
		if (!best || lo < best)
			best = lo;
	}
	return best;
}

static void gdt_set_base(u32 sel, u32 base)
{
	u8 *d = (u8 *)gdt + sel;
	d[2] = (u8)base;
	d[3] = (u8)(base >> 8);
	d[4] = (u8)(base >> 16);
	d[7] = (u8)(base >> 24);
}

bool real_mode_roundtrip(u32 base, const char *msg, struct real_mode_result *out)
{
	u32 size = (u32)(rm_end - rm_start);
	if ((base & 0xf) || base + 0x1000 > 0xa0000 || size > 0xc00 || (read_cr0() & CR0_PG))
		return false;
	memcpy((void *)base, rm_start, size);
	char *m = (char *)base + (rm_msg - rm_start);
	size_t n = strlen(msg);
	if (n > RM_MSG_MAX - 3)
		n = RM_MSG_MAX - 3;
	memcpy(m, msg, n);
	memcpy(m + n, "\r\n", 3);
	gdt_set_base(SEL_CODE16, base);
	rm_enter(base);
	const u8 *b = (const u8 *)base;
#define FIELD(type, sym) (*(const type *)(b + ((sym) - rm_start)))
	*out = (struct real_mode_result){
		.cs = FIELD(u16, rm_res_cs),
		.ds = FIELD(u16, rm_res_ds),
		.ss = FIELD(u16, rm_res_ss),
		.cr0 = FIELD(u32, rm_res_cr0),
		.marker = FIELD(u32, rm_res_marker),
		.seg_readback = FIELD(u32, rm_res_alias),
	};
#undef FIELD
	return true;
}
