/* The per-CPU timer multiplexer; see host_timer.h. */
#include "kernel/host_timer.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "kernel/percpu.h"

static void reprogram(struct host_timer_cpu *t)
{
	u64 next = 0;

	for (u32 i = 0; i < HOST_TIMER_CLIENTS; i++) {
		if (t->deadline[i] && (!next || t->deadline[i] < next))
			next = t->deadline[i];
	}
	if (next == t->programmed)
		return;
	t->programmed = next;
	if (!next) {
		lapic_timer_stop();
		return;
	}
	u64 now = rdtsc();
	lapic_timer_oneshot(next > now ? next - now : 1);
}

static void host_timer_interrupt(struct trap_frame *frame)
{
	struct host_timer_cpu *t = &this_cpu()->timer;
	(void)frame;

	lapic_eoi();
	t->fired++;
	/* The APIC timer and the TSC disagree slightly: an early interrupt
	 * re-arms for the rest. */
	t->programmed = 0;
	u64 now = rdtsc();
	for (u32 i = 0; i < HOST_TIMER_CLIENTS; i++) {
		if (!t->deadline[i] || t->deadline[i] > now)
			continue;
		t->deadline[i] = 0;
		if (t->fn[i])
			t->fn[i]();
	}
	reprogram(t);
}

bool host_timer_init_cpu(void)
{
	struct host_timer_cpu *t = &this_cpu()->timer;
	u64 flags = irq_save();

	if (!t->ready) {
		trap_set_irq_handler(VEC_HOST_TIMER, host_timer_interrupt);
		t->ready = lapic_timer_oneshot_init(VEC_HOST_TIMER);
	}
	irq_restore(flags);
	return t->ready;
}

u64 host_timer_deadline(enum host_timer_client client)
{
	return this_cpu()->timer.deadline[client];
}

void host_timer_set(enum host_timer_client client, u64 deadline, host_timer_fn fn)
{
	struct host_timer_cpu *t = &this_cpu()->timer;
	u64 flags = irq_save();

	t->deadline[client] = deadline;
	t->fn[client] = fn;
	if (t->ready)
		reprogram(t);
	irq_restore(flags);
}
