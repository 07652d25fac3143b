/* GDT, TSS and IDT. */
#include "arch/x86/desc.h"
#include "arch/x86/trap.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/percpu.h"

struct idt_gate {
	u16 offset_low;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_high;
	u32 reserved;
} __packed;
STATIC_ASSERT(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct table_ptr {
	u16 limit;
	u64 base;
} __packed;

#define GATE_INTERRUPT_PRESENT 0x8E /* P=1, DPL=0, 64-bit interrupt gate */

static struct idt_gate idt[256] __aligned(16);

static void idt_set(u8 vector, u64 handler, u8 ist)
{
	struct idt_gate *g = &idt[vector];
	g->offset_low = handler & 0xFFFF;
	g->selector = SEL_CODE64;
	g->ist = ist;
	g->type_attr = GATE_INTERRUPT_PRESENT;
	g->offset_mid = (handler >> 16) & 0xFFFF;
	g->offset_high = handler >> 32;
	g->reserved = 0;
}

void idt_init(void)
{
	for (u32 v = 0; v < 256; v++)
		idt_set((u8)v, trap_stub_table[v], 0);
	/* These three can arrive on a broken or overflowing stack: give them their
	 * own, so that the dump still gets printed. */
	idt_set(VEC_NMI, trap_stub_table[VEC_NMI], IST_NMI);
	idt_set(VEC_DOUBLE_FAULT, trap_stub_table[VEC_DOUBLE_FAULT], IST_DOUBLE_FAULT);
	idt_set(VEC_MACHINE_CHECK, trap_stub_table[VEC_MACHINE_CHECK], IST_MACHINE_CHECK);
}

void desc_init_cpu(struct percpu *pc)
{
	u64 tss = (u64)&pc->tss;

	memset(&pc->tss, 0, sizeof(pc->tss));
	for (u32 i = 0; i < IST_COUNT; i++)
		pc->tss.ist[i] = pc->ist_base[i] + IST_STACK_SIZE;
	pc->tss.iomap_base = sizeof(pc->tss); /* no I/O bitmap */

	pc->gdt[0] = 0;
	pc->gdt[SEL_CODE64 / 8] = 0x00af9a000000ffffULL;
	pc->gdt[SEL_DATA / 8] = 0x00cf92000000ffffULL;
	pc->gdt[SEL_CODE32 / 8] = 0x00cf9a000000ffffULL;
	/* 64-bit available TSS descriptor (type 9), 16 bytes. */
	pc->gdt[SEL_TSS / 8] = (sizeof(pc->tss) - 1) | ((tss & 0xFFFFFF) << 16) |
			       (0x89ULL << 40) | (((tss >> 24) & 0xFF) << 56);
	pc->gdt[SEL_TSS / 8 + 1] = tss >> 32;

	struct table_ptr gdtr = {sizeof(pc->gdt) - 1, (u64)pc->gdt};
	struct table_ptr idtr = {sizeof(idt) - 1, (u64)idt};

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "i"((u64)SEL_CODE64), "r"(SEL_DATA), "r"(SEL_TSS), "m"(idtr)
			 : "rax", "memory");
	/* Reloading GS's selector would clear its base; it keeps the null selector
	 * and the base set through the MSR. */
}
