/* The crash path.  The first CPU to panic stops the others with an NMI, so the
 * machine state it prints is frozen, then dumps its registers and a stack trace,
 * every VP's state and the tail of every VP's exit trace, and halts (or, for
 * tests, ends the emulator run).  Nothing here may fault again: the stack walk
 * checks every frame pointer against this CPU's stacks.
 *
 * A VP's hardware context can only be read on its own CPU (a VMCS is current on
 * one CPU), so the stopped CPUs do not halt at once: each waits until the
 * panicking CPU asks it to print its VP, one at a time, and halts when the dump
 * is over. */
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
#include "kernel/vm/vm.h"

#define STACK_TRACE_DEPTH 16
/* How long the panicking CPU waits for the others to acknowledge the NMI. */
#define STOP_WAIT_SPINS 50000000ULL
/* How long it waits for a stopped CPU to print its VP, and how long a stopped
 * CPU waits for the end of the dump before it halts anyway. */
#define VP_DUMP_WAIT_SPINS 500000000ULL
#define STOPPED_WAIT_SPINS 20000000000ULL

static u32 panic_cpu = CPU_NONE;
static u32 cpus_stopped;
static u32 vp_dump_cpu = CPU_NONE; /* the stopped CPU asked to print its VP */
static bool dump_finished;

bool panic_in_progress(void)
{
	return __atomic_load_n(&panic_cpu, __ATOMIC_ACQUIRE) != CPU_NONE;
}

/* A stopped CPU: prints its VP when asked, halts when the dump is over. */
static __noreturn void stopped_wait(struct percpu *pc)
{
	for (u64 spins = 0; spins < STOPPED_WAIT_SPINS; spins++) {
		if (__atomic_load_n(&vp_dump_cpu, __ATOMIC_ACQUIRE) == pc->cpu_id) {
			vm_crash_dump_this_cpu();
			__atomic_store_n(&vp_dump_cpu, CPU_NONE, __ATOMIC_RELEASE);
		}
		if (__atomic_load_n(&dump_finished, __ATOMIC_ACQUIRE))
			break;
		cpu_relax();
	}
	cpu_halt_forever();
}

static __noreturn void stop_this_cpu(struct percpu *pc, const char *how, u64 rip, u64 rsp)
{
	irq_disable();
	/* Counted once, even if the NMI itself follows a stop from the VP loop. */
	if (!pc->stopped) {
		pc->stopped = 1;
		printk(LOG_ERR, "cpu %u stopped %s at RIP=%016llx RSP=%016llx\n", pc->cpu_id, how,
		       (unsigned long long)rip, (unsigned long long)rsp);
		__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_RELEASE);
	}
	stopped_wait(pc);
}

bool panic_nmi_stop(struct trap_frame *frame)
{
	struct percpu *pc = this_cpu();

	if (!panic_in_progress() || panic_cpu == pc->cpu_id)
		return false;
	stop_this_cpu(pc, "by NMI", frame->rip, frame->rsp);
}

void panic_stop_this_cpu(void)
{
	struct percpu *pc = this_cpu();

	if (!panic_in_progress() || panic_cpu == pc->cpu_id)
		return;
	stop_this_cpu(pc, "by NMI (a VM exit took it)", (u64)__builtin_return_address(0),
		      (u64)__builtin_frame_address(0));
}

/* Returns false if another CPU is already panicking (this one then just waits
 * for its NMI). */
static bool panic_claim(void)
{
	u32 expected = CPU_NONE;
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

/* Every VP's state, each printed by its own CPU, then the trace tails. */
static void dump_vps(void)
{
	u32 me = this_cpu_id();

	for (u32 cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		struct percpu *pc = percpu_table[cpu];
		if (!pc || !pc->online || !pc->vp)
			continue;
		if (cpu == me) {
			vm_crash_dump_this_cpu();
			continue;
		}
		if (!__atomic_load_n(&pc->stopped, __ATOMIC_ACQUIRE)) {
			printk(LOG_ERR, "vp on cpu %u: not shown, the CPU did not stop\n", cpu);
			continue;
		}
		__atomic_store_n(&vp_dump_cpu, cpu, __ATOMIC_RELEASE);
		u64 spins = 0;
		while (__atomic_load_n(&vp_dump_cpu, __ATOMIC_ACQUIRE) == cpu && spins++ < VP_DUMP_WAIT_SPINS)
			cpu_relax();
		if (__atomic_load_n(&vp_dump_cpu, __ATOMIC_ACQUIRE) == cpu) {
			__atomic_store_n(&vp_dump_cpu, CPU_NONE, __ATOMIC_RELEASE);
			printk(LOG_ERR, "vp on cpu %u: the CPU did not print it in time\n", cpu);
		}
	}
	vm_crash_dump_traces();
	__atomic_store_n(&dump_finished, true, __ATOMIC_RELEASE);
}

static __noreturn void panic_finish(void)
{
	dump_vps();
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
