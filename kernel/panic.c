/* The crash path.  The first CPU to panic stops the others with an NMI, so the
 * machine state it prints is frozen, then dumps its registers and a stack trace
 * and halts (or, for tests, ends the emulator run).  Nothing here may fault
 * again: the stack walk checks every frame pointer against this CPU's stacks. */
#include "kernel/panic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/emu_exit.h"
#include "arch/x86/lapic.h"
#include "kernel/console.h"
#include "kernel/layout.h"
#include "kernel/lib/format.h"
#include "kernel/options.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"

#define NO_CPU 0xFFFFFFFFu
#define STACK_TRACE_DEPTH 16
/* How long the panicking CPU waits for the others to acknowledge the NMI. */
#define STOP_WAIT_SPINS 50000000ULL

static u32 panic_cpu = NO_CPU;
static u32 cpus_stopped;

bool panic_in_progress(void)
{
	return __atomic_load_n(&panic_cpu, __ATOMIC_ACQUIRE) != NO_CPU;
}

bool panic_nmi_stop(struct trap_frame *frame)
{
	struct percpu *pc = this_cpu();

	if (!panic_in_progress() || panic_cpu == pc->cpu_id)
		return false;
	pc->stopped = 1;
	printk(LOG_ERR, "cpu %u stopped by NMI at RIP=%016llx RSP=%016llx\n", pc->cpu_id,
	       (unsigned long long)frame->rip, (unsigned long long)frame->rsp);
	__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

/* Returns false if another CPU is already panicking (this one then just waits
 * for its NMI). */
static bool panic_claim(void)
{
	u32 expected = NO_CPU;
	u32 me = this_cpu_id();

	irq_disable();
	if (__atomic_compare_exchange_n(&panic_cpu, &expected, me, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		return true;
	return expected == me; /* a fault inside our own panic: keep going */
}

static void stop_other_cpus(void)
{
	u32 others = __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);

	if (others <= 1)
		return;
	others--;
	lapic_send_nmi_all_but_self();
	for (u64 i = 0; i < STOP_WAIT_SPINS; i++) {
		if (__atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE) >= others)
			break;
		cpu_relax();
	}
	/* The stopped CPUs printed under the console lock; from now on only we print. */
	console_enter_panic_mode();
	if (cpus_stopped < others)
		printk(LOG_ERR, "panic: only %u of %u other CPUs acknowledged the stop NMI\n",
		       cpus_stopped, others);
}

static __noreturn void panic_finish(void)
{
	printk(LOG_ERR, "hv: all CPUs stopped\n");
	if (hv_options.panic_exit)
		emu_exit(EMU_EXIT_PANIC);
	cpu_halt_forever();
}

static bool frame_on_stack(const struct percpu *pc, u64 addr)
{
	if (addr & 7)
		return false;
	if (addr >= pc->stack_base && addr + 16 <= pc->stack_top)
		return true;
	for (u32 i = 0; i < IST_COUNT; i++) {
		if (addr >= pc->ist_base[i] && addr + 16 <= pc->ist_base[i] + IST_STACK_SIZE)
			return true;
	}
	return false;
}

static void print_stack_trace(u64 rip, u64 rbp)
{
	const struct percpu *pc = this_cpu();

	printk(LOG_ERR, "stack trace (addr2line -e build/hv.elf <addr>):\n");
	printk(LOG_ERR, "  #0 %016llx\n", (unsigned long long)rip);
	for (u32 depth = 1; depth < STACK_TRACE_DEPTH && frame_on_stack(pc, rbp); depth++) {
		const u64 *frame = (const u64 *)rbp;
		u64 ret = frame[1];
		if (ret < (u64)__text_start || ret >= (u64)__text_end)
			break;
		printk(LOG_ERR, "  #%u %016llx\n", depth, (unsigned long long)ret);
		if (frame[0] <= rbp) /* frames must move up the stack */
			break;
		rbp = frame[0];
	}
}

static void dump_frame(const struct trap_frame *f)
{
	printk(LOG_ERR, "RIP=%016llx CS=%04llx RFLAGS=%016llx\n", (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags);
	printk(LOG_ERR, "RSP=%016llx SS=%04llx ERROR=%016llx\n", (unsigned long long)f->rsp,
	       (unsigned long long)f->ss, (unsigned long long)f->error_code);
	printk(LOG_ERR, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n",
	       (unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx,
	       (unsigned long long)f->rdx);
	printk(LOG_ERR, "RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n",
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi, (unsigned long long)f->rbp,
	       (unsigned long long)f->r8);
	printk(LOG_ERR, "R9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n",
	       (unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11,
	       (unsigned long long)f->r12);
	printk(LOG_ERR, "R13=%016llx R14=%016llx R15=%016llx\n", (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
}

static void dump_control_registers(void)
{
	printk(LOG_ERR, "CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx\n",
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	printk(LOG_ERR, "EFER=%016llx GS_BASE=%016llx image@%016llx\n",
	       (unsigned long long)rdmsr(MSR_EFER), (unsigned long long)rdmsr(MSR_GS_BASE),
	       (unsigned long long)image_load_phys);
}

void panic_exception(struct trap_frame *f)
{
	struct percpu *pc = this_cpu();

	if (++pc->trap_depth > 2) {
		/* Faulting while dumping a fault: print the bare minimum and stop. */
		printk(LOG_ERR, "nested exception %llu at RIP=%016llx; halting\n",
		       (unsigned long long)f->vector, (unsigned long long)f->rip);
		cpu_halt_forever();
	}
	if (!panic_claim())
		cpu_halt_forever();
	stop_other_cpus();
	printk(LOG_ERR, "==== EXCEPTION %s (vector %llu) on cpu %u, apic %u ====\n",
	       trap_vector_name(f->vector), (unsigned long long)f->vector, pc->cpu_id,
	       pc->apic_id);
	dump_frame(f);
	dump_control_registers();
	print_stack_trace(f->rip, f->rbp);
	panic_finish();
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!panic_claim())
		cpu_halt_forever();
	stop_other_cpus();
	printk(LOG_ERR, "==== PANIC on cpu %u: %s ====\n", this_cpu_id(), msg);
	dump_control_registers();
	/* Start from our caller: panic's own frame adds nothing. */
	const u64 *frame = __builtin_frame_address(0);
	print_stack_trace(frame[1], frame[0]);
	panic_finish();
}
