/* Trap dispatch: exceptions are fatal in the hypervisor, interrupts go to the
 * handler registered for their vector. */
#include "arch/x86/trap.h"
#include "arch/x86/lapic.h"
#include "kernel/panic.h"
#include "kernel/printk.h"

static irq_handler_fn irq_handlers[256];

/* Instructions allowed to fault, each with where to resume (rdmsr_safe). */
struct fixup {
	u64 insn;
	u64 resume;
};
extern const struct fixup __fixup_start[], __fixup_end[];

static bool apply_fixup(struct trap_frame *frame)
{
	for (const struct fixup *f = __fixup_start; f < __fixup_end; f++) {
		if (f->insn == frame->rip) {
			frame->rip = f->resume;
			return true;
		}
	}
	return false;
}

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization exception",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security exception", "reserved 31",
};

const char *trap_vector_name(u64 vector)
{
	return vector < 32 ? exception_names[vector] : "interrupt";
}

void trap_set_irq_handler(u8 vector, irq_handler_fn fn)
{
	irq_handlers[vector] = fn;
}

void trap_dispatch(struct trap_frame *frame)
{
	u64 v = frame->vector;

	if (v == VEC_NMI) {
		if (!panic_nmi_stop(frame))
			panic_exception(frame);
		return;
	}
	if (v < VEC_FIRST_IRQ) {
		if (v == 13 && apply_fixup(frame))
			return;
		panic_exception(frame);
	}
	if (irq_handlers[v]) {
		irq_handlers[v](frame);
		return;
	}
	/* Spurious interrupts need no EOI (SDM Vol. 3A, 11.9). */
	if (v == VEC_SPURIOUS)
		return;
	printk(LOG_WARN, "trap: unexpected interrupt vector 0x%llx at RIP=%llx\n",
	       (unsigned long long)v, (unsigned long long)frame->rip);
	lapic_eoi();
}
