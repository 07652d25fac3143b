/* Descriptor tables: the per-CPU GDT with its TSS, and the shared IDT. */
#ifndef HV_ARCH_X86_DESC_H
#define HV_ARCH_X86_DESC_H

#include "kernel/types.h"

/* IST slots (1-based as the IDT gate encodes them). */
#define IST_NMI 1
#define IST_DOUBLE_FAULT 2
#define IST_MACHINE_CHECK 3
#define IST_COUNT 3
#define IST_STACK_SIZE 8192

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
STATIC_ASSERT(sizeof(struct tss64) == 104, "TSS layout");

#define GDT_ENTRIES 6 /* null, code64, data, code32, tss (two slots) */

struct percpu;
/* Builds and loads this CPU's GDT and TSS, reloads segments, loads the IDT. */
void desc_init_cpu(struct percpu *pc);
/* Fills the shared IDT once, on the boot CPU. */
void idt_init(void);

#endif
