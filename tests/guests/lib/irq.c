/*
 * The 256-entry IDT of irq.h. Vectors 0-31 point at the runtime's exception stubs
 * (lib/trap.S), the rest at lib/irq_stubs.S.
 */
#include "irq.h"

#define IRQ_STUB_SIZE 16
#define IDT_INTERRUPT_GATE_32 0x8e /* present, DPL 0, 32-bit interrupt gate: IF cleared */
#define EFLAGS_IF (1u << 9)

struct irq_frame {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
	u32 vector, eip, cs, eflags;
};

struct idt_gate32 {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

extern const u32 trap_stubs[32];
extern char irq_stubs[];
void irq_dispatch(struct irq_frame *f);

static struct idt_gate32 idt_full[256] __attribute__((aligned(8)));
static irq_handler_fn irq_handlers[256];
static bool idt_built;
volatile u32 irq_unhandled[256];
volatile u32 irq_phantoms;

static void gate_set(u32 vector, u32 target)
{
	idt_full[vector] = (struct idt_gate32){ (u16)target, SEL_CODE32, 0, IDT_INTERRUPT_GATE_32,
						(u16)(target >> 16) };
}

static u32 irq_stub(u32 vector)
{
	return (u32)irq_stubs + vector * IRQ_STUB_SIZE;
}

void irq_load(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) r = { sizeof(idt_full) - 1, (u32)idt_full };
	__asm__ volatile("lidt %0" ::"m"(r));
}

void irq_init(void)
{
	if (!idt_built) {
		for (u32 v = 0; v < 256; v++)
			gate_set(v, v < 32 ? trap_stubs[v] : irq_stub(v));
		idt_built = true;
	}
	irq_load();
}

void irq_set_handler(u32 vector, irq_handler_fn fn)
{
	if (vector >= 256 || (vector < 32 && vector != VEC_NMI))
		guest_abort("irq_set_handler: vector %u is an exception", vector);
	irq_handlers[vector] = fn;
	if (vector == VEC_NMI)
		gate_set(vector, fn ? irq_stub(vector) : trap_stubs[vector]);
}

void irq_dispatch(struct irq_frame *f)
{
	/* No CPU delivers a maskable interrupt to code running with IF clear, and
	 * the hypervisor refuses to inject one so (svm_run).  QEMU TCG does: an
	 * interrupt it injected at VMRUN stays in its exception_index and is
	 * delivered again, inside the handler, if the vCPU's time slice ends
	 * before the next exception (docs/emulator-bugs.md).  It has no APIC
	 * state behind it: running the handler would count it twice and EOI
	 * someone else's vector. */
	if (f->vector != VEC_NMI && !(f->eflags & EFLAGS_IF)) {
		irq_phantoms++;
		return;
	}
	irq_handler_fn fn = irq_handlers[f->vector & 0xff];
	if (fn)
		fn(f->vector);
	else
		irq_unhandled[f->vector & 0xff]++;
}
