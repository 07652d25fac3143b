/* The VP loop: enter the guest, dispatch the exit to its handler, repeat.
 * The dispatch is a table indexed by the neutral exit reason; a reason with no
 * handler stops the partition with a full dump, never the hypervisor.
 *
 * Between exits the loop also honours requests from other CPUs (pause, work,
 * console input for the shell: kernel/vm/vp_ctl.h), counts exits by reason,
 * MSR, port and hypercall code, and, with `trace on`, records each exit in the
 * VP's trace ring (kernel/vm/trace.h).  With no request pending and tracing
 * off this costs a few loads and predictable branches per exit, plus a small
 * table update for MSR, I/O and hypercall exits (about 17 and 35 instructions,
 * `make bench`). */
#include "arch/x86/cpu.h"
#include "arch/x86/emu_exit.h"
#include "arch/x86/tsc.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/vm/backend.h"
#include "hyperv/hv_partition.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/vp_apic.h"
#include "kernel/vm/vp_ctl.h"
#include "kernel/vm/vp_flush.h"
#include "kernel/host_timer.h"

/* Exits of the trace printed by vm_stop and by a panic. */
#define STOP_TRACE_TAIL 16

static enum exit_action exit_inject_ud(struct vp *vp, struct vm_exit *exit)
{
	(void)exit;
	vp_inject_ud(vp);
	return EXIT_RESUME;
}

static enum exit_action exit_external_interrupt(struct vp *vp, struct vm_exit *exit)
{
	(void)vp;
	(void)exit;
	/* The interrupt is pending on this CPU: open a window to take it. */
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return EXIT_RESUME;
}

static enum exit_action exit_nmi(struct vp *vp, struct vm_exit *exit)
{
	(void)vp;
	(void)exit;
	/* SVM delivers the NMI to the host once GIF is set again, so a panic's
	 * stop request is handled there.  A VMX NMI exit consumes the NMI: stop
	 * here instead. */
	if (panic_in_progress())
		panic_stop_this_cpu();
	return EXIT_RESUME;
}

/* HLT: the VP sleeps until an interrupt it can take, an NMI, INIT or SIPI
 * (SDM Vol. 2A, HLT). */
static enum exit_action exit_hlt(struct vp *vp, struct vm_exit *exit)
{
	enum exit_action a = exit_skip_instruction(vp, exit);
	if (a != EXIT_RESUME)
		return a;
	if (vp_apic_wakeup_pending(vp))
		return EXIT_RESUME;
	if (!(vp_get_reg(vp, VP_RFLAGS) & RFLAGS_IF)) {
		guest_uart_flush();
		printk(LOG_INFO, "vp%u: guest halted with interrupts disabled at %llx\n", vp->index,
		       (unsigned long long)vp_get_reg(vp, VP_RIP));
	}
	return EXIT_HALT;
}

/* A physical INIT reached this CPU: the host's (nothing sends one today).
 * The guest's own INITs are APIC messages (kernel/vm/vp_apic.c). */
static enum exit_action exit_init(struct vp *vp, struct vm_exit *exit)
{
	(void)exit;
	printk(LOG_WARN, "vp%u: physical INIT signal ignored\n", vp->index);
	return EXIT_RESUME;
}

static enum exit_action exit_triple_fault(struct vp *vp, struct vm_exit *exit)
{
	vm_stop(vp, "guest triple fault", exit);
}

static enum exit_action exit_invalid_state(struct vp *vp, struct vm_exit *exit)
{
	vm_stop(vp, "VM entry failed: invalid guest state", exit);
}

static enum exit_action exit_unhandled(struct vp *vp, struct vm_exit *exit)
{
	vm_stop(vp, "unhandled exit", exit);
}

static enum exit_action exit_ignore(struct vp *vp, struct vm_exit *exit)
{
	(void)vp;
	(void)exit;
	return EXIT_RESUME;
}

static const exit_handler_fn exit_handlers[VM_EXIT_REASON_COUNT] = {
	[VM_EXIT_CPUID] = exit_cpuid,
	[VM_EXIT_MSR_READ] = exit_msr_read,
	[VM_EXIT_MSR_WRITE] = exit_msr_write,
	[VM_EXIT_IO] = exit_io,
	[VM_EXIT_SLAT_VIOLATION] = exit_slat_violation,
	[VM_EXIT_HYPERCALL] = hv_hypercall_exit,
	[VM_EXIT_HLT] = exit_hlt,
	[VM_EXIT_EXTERNAL_INTERRUPT] = exit_external_interrupt,
	[VM_EXIT_NMI] = exit_nmi,
	[VM_EXIT_INIT] = exit_init,
	[VM_EXIT_TRIPLE_FAULT] = exit_triple_fault,
	[VM_EXIT_INVALID_STATE] = exit_invalid_state,
	[VM_EXIT_VIRT_INSN] = exit_inject_ud,
	[VM_EXIT_MONITOR_MWAIT] = exit_inject_ud,
	[VM_EXIT_XSETBV] = exit_xsetbv,
	[VM_EXIT_INVD] = exit_invd,
	[VM_EXIT_PAUSE] = exit_ignore,
	/* The windows only make the VP exit; injection happens before entry. */
	[VM_EXIT_INTERRUPT_WINDOW] = exit_ignore,
	[VM_EXIT_NMI_WINDOW] = exit_ignore,
	[VM_EXIT_PREEMPTION_TIMER] = exit_ignore,
};

static void print_seg(const char *name, const struct segment *s)
{
	printk(LOG_ERR, "  %-4s sel=%04x base=%016llx limit=%08x attr=%03x\n", name, s->selector,
	       (unsigned long long)s->base, s->limit, s->attr);
}

void vp_dump_state(struct vp *vp, const struct vm_exit *exit)
{
	static const char *const gpr_names[VP_GPR_COUNT] = {
		"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
		"R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"};
	static const char *const seg_names[VP_SEG_COUNT] = {
		"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR", "GDTR", "IDTR"};

	printk(LOG_ERR, "---- vp%u (apic %u, VTL%u) state ----\n", vp->index, vp->apic_id,
	       vp->active_vtl);
	if (exit)
		printk(LOG_ERR, "  exit: %s (hw %llx) qual %llx qual2 %llx insn_len %u\n",
		       vm_exit_reason_name(exit->reason), (unsigned long long)exit->hw_reason,
		       (unsigned long long)exit->qualification,
		       (unsigned long long)exit->qualification2, exit->insn_len);
	for (int i = 0; i < VP_GPR_COUNT; i += 4)
		printk(LOG_ERR, "  %s=%016llx %s=%016llx %s=%016llx %s=%016llx\n", gpr_names[i],
		       (unsigned long long)vp->gpr[i], gpr_names[i + 1],
		       (unsigned long long)vp->gpr[i + 1], gpr_names[i + 2],
		       (unsigned long long)vp->gpr[i + 2], gpr_names[i + 3],
		       (unsigned long long)vp->gpr[i + 3]);
	printk(LOG_ERR, "  RIP=%016llx RFLAGS=%016llx EFER=%016llx\n",
	       (unsigned long long)vp_get_reg(vp, VP_RIP),
	       (unsigned long long)vp_get_reg(vp, VP_RFLAGS),
	       (unsigned long long)vp_get_reg(vp, VP_EFER));
	printk(LOG_ERR, "  CR0=%016llx CR2=%016llx CR3=%016llx CR4=%016llx CR8=%llx\n",
	       (unsigned long long)vp_get_reg(vp, VP_CR0), (unsigned long long)vp_get_reg(vp, VP_CR2),
	       (unsigned long long)vp_get_reg(vp, VP_CR3), (unsigned long long)vp_get_reg(vp, VP_CR4),
	       (unsigned long long)vp_get_reg(vp, VP_CR8));
	printk(LOG_ERR, "  DR6=%016llx DR7=%016llx PAT=%016llx\n",
	       (unsigned long long)vp_get_reg(vp, VP_DR6), (unsigned long long)vp_get_reg(vp, VP_DR7),
	       (unsigned long long)vp_get_reg(vp, VP_PAT));
	for (int s = 0; s < VP_SEG_COUNT; s++) {
		struct segment seg;
		vp_get_seg(vp, (enum vp_seg)s, &seg);
		print_seg(seg_names[s], &seg);
	}
	printk(LOG_ERR, "  exits so far: %llu\n", (unsigned long long)vp->exits);
	vm_backend->dump(vp);
}

void vp_dump_trace(struct vp *vp, u32 n)
{
	char text[200];
	struct trace_rec rec;

	if (!vp->trace.recs) {
		printk(LOG_ERR, "---- vp%u: no exit trace (boot with `trace`, or `trace on` in the shell) ----\n",
		       vp->index);
		return;
	}
	u64 head = trace_ring_head(&vp->trace);
	u64 first = MAX(trace_ring_oldest(&vp->trace), head > n ? head - n : 0);
	if (!head) {
		printk(LOG_ERR, "---- vp%u: no exits traced ----\n", vp->index);
		return;
	}
	printk(LOG_ERR, "---- vp%u: last %llu of %llu traced exits (trace %s) ----\n", vp->index,
	       (unsigned long long)(head - first), (unsigned long long)head,
	       vp->trace_on ? "on" : "off");
	for (u64 i = first; i < head; i++) {
		if (!trace_ring_read(&vp->trace, i, &rec))
			continue;
		trace_format(&rec, i, tsc_at_entry, tsc_hz, text, sizeof(text));
		printk(LOG_ERR, "  %s\n", text);
	}
}

void vm_crash_dump_this_cpu(void)
{
	struct vp *vp = this_cpu()->vp;

	if (vp && vm_backend)
		vp_dump_state(vp, NULL);
}

void vm_crash_dump_traces(void)
{
	u32 traced = 0;

	for (u32 i = 0; i < the_vm.vp_count; i++) {
		if (the_vm.vps[i]->trace.recs) {
			vp_dump_trace(the_vm.vps[i], STOP_TRACE_TAIL);
			traced++;
		}
	}
	if (the_vm.vp_count && !traced)
		printk(LOG_ERR, "---- no exit trace (boot with `trace`, or `trace on` in the shell) ----\n");
}

void vm_stop(struct vp *vp, const char *why, const struct vm_exit *exit)
{
	guest_uart_flush();
	the_vm.stopped = true;
	printk(LOG_ERR, "hv: %s on vp%u: partition stopped\n", why, vp->index);
	vp_dump_state(vp, exit);
	vp_dump_trace(vp, STOP_TRACE_TAIL);
	for (u32 i = 0; i < the_vm.vp_count; i++)
		the_vm.vps[i]->state = VP_STOPPED;
	if (hv_options.stop_exit)
		emu_exit(EMU_EXIT_GUEST_STOPPED);
	/* The shell can still look at the remains: this CPU keeps serving
	 * requests (and hosts the shell on a one-CPU machine). */
	__atomic_store_n(&vp->in_loop, false, __ATOMIC_RELEASE);
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		vp_ctl_idle();
	}
}

/* ---- exit accounting and tracing ------------------------------------------ */

static u64 io_mask(u8 size)
{
	return size >= 4 ? 0xFFFFFFFFULL : (1ULL << (8 * size)) - 1;
}

static u64 edx_eax(const struct vp *vp)
{
	return (vp->gpr[VP_RAX] & 0xFFFFFFFFULL) | (vp->gpr[VP_RDX] << 32);
}

/* Before the handler: what the exit asked for. */
static struct trace_rec *trace_exit(struct vp *vp, const struct vm_exit *e)
{
	struct trace_rec *t = trace_ring_begin(&vp->trace);

	t->tsc = rdtsc();
	t->rip = vp_get_reg(vp, VP_RIP);
	t->qual = e->qualification;
	t->qual2 = e->qualification2;
	t->hw_reason = (u32)e->hw_reason;
	t->reason = (u8)e->reason;
	t->vtl = vp->active_vtl;
	switch (e->reason) {
	case VM_EXIT_CPUID:
		t->info = (u32)vp->gpr[VP_RAX];
		t->info2 = (u32)vp->gpr[VP_RCX];
		break;
	case VM_EXIT_MSR_READ:
		t->info = e->msr.index;
		break;
	case VM_EXIT_MSR_WRITE:
		t->info = e->msr.index;
		t->value = edx_eax(vp);
		break;
	case VM_EXIT_IO:
		t->info = e->io.port;
		t->info2 = e->io.size;
		t->flags = (e->io.in ? TRACE_F_IO_IN : 0) | (e->io.string ? TRACE_F_IO_STRING : 0) |
			   (e->io.rep ? TRACE_F_IO_REP : 0);
		if (!e->io.in)
			t->value = vp->gpr[VP_RAX] & io_mask(e->io.size);
		break;
	case VM_EXIT_SLAT_VIOLATION:
	case VM_EXIT_SLAT_MISCONFIG:
		t->addr = e->slat.gpa;
		t->info2 = e->slat.access;
		if (e->slat.present)
			t->flags = TRACE_F_SLAT_PRESENT;
		break;
	case VM_EXIT_EXCEPTION:
		t->info = e->exception.vector;
		t->info2 = e->exception.error_code;
		break;
	default:
		break;
	}
	trace_ring_publish(&vp->trace, t);
	return t;
}

/* After the handler: what came of it. */
static void trace_result(struct vp *vp, struct trace_rec *t, const struct vm_exit *e,
			 enum exit_action a, u64 events_before)
{
	trace_ring_reopen(t);
	t->flags |= TRACE_F_DONE;
	t->action = (u8)a;
	switch (e->reason) {
	case VM_EXIT_CPUID:
		t->value = (vp->gpr[VP_RAX] & 0xFFFFFFFFULL) | (vp->gpr[VP_RBX] << 32);
		t->value2 = (vp->gpr[VP_RCX] & 0xFFFFFFFFULL) | (vp->gpr[VP_RDX] << 32);
		break;
	case VM_EXIT_MSR_READ:
		t->value = edx_eax(vp);
		break;
	case VM_EXIT_IO:
		if (e->io.in)
			t->value = vp->gpr[VP_RAX] & io_mask(e->io.size);
		break;
	case VM_EXIT_HYPERCALL:
		t->info = e->hypercall.code;
		t->value = vp->gpr[VP_RAX];
		break;
	default:
		break;
	}
	if (vp->events_injected != events_before) {
		t->flags |= TRACE_F_EVENT;
		t->event_type = (u8)vp->last_event.type;
		t->event_vector = vp->last_event.vector;
		t->event_has_error = vp->last_event.has_error_code;
		t->event_error = vp->last_event.error_code;
	}
	trace_ring_publish(&vp->trace, t);
}

static void count_keyed_exit(struct vp *vp, const struct vm_exit *e)
{
	switch (e->reason) {
	case VM_EXIT_MSR_READ:
		key_counter_add(&vp->msr_exits, e->msr.index);
		break;
	case VM_EXIT_MSR_WRITE:
		key_counter_add(&vp->msr_exits, e->msr.index | EXIT_KEY_WRITE);
		break;
	case VM_EXIT_IO:
		key_counter_add(&vp->io_exits, e->io.port | (e->io.in ? EXIT_KEY_IN : 0));
		break;
	case VM_EXIT_HYPERCALL:
		key_counter_add(&vp->hypercall_exits, e->hypercall.code);
		break;
	default:
		break;
	}
}

struct vp *vp_this(void)
{
	return this_cpu()->vp;
}

void vp_run_loop(struct vp *vp)
{
	struct vm_exit exit;

	__atomic_store_n(&vp->in_loop, true, __ATOMIC_RELEASE);
	host_timer_init_cpu();
	for (;;) {
		if (__builtin_expect(__atomic_load_n(&vp->requests, __ATOMIC_ACQUIRE) != 0, 0))
			vp_ctl_service(vp);
		vp_apic_update(vp);
		if (vp->state != VP_RUNNING) {
			/* Halted or waiting for SIPI: the APIC timer, a kick from a
			 * CPU that sent this VP something, or a request wakes it;
			 * sti;hlt cannot miss one (the STI shadow covers HLT). */
			if (vp->state == VP_HALTED)
				vp_apic_arm_timer(vp);
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		vp_apic_prepare_entry(vp);
		/* Marks the VP in guest mode, then queues the flushes asked of
		 * it (PV TLB flush from other VPs, the core's SLAT flag); the
		 * order is what makes a remote flush synchronous (vp_flush.h). */
		vp_flush_before_entry(vp);
		vm_backend->run(vp, &exit);
		vp_flush_after_exit(vp);
		vp_apic_after_exit(vp);
		vp->exits++;
		vp->exits_by_reason[exit.reason]++;
		struct trace_rec *t = NULL;
		u64 events_before = vp->events_injected;
		if (__builtin_expect(__atomic_load_n(&vp->trace_on, __ATOMIC_ACQUIRE), 0))
			t = trace_exit(vp, &exit);
		exit_handler_fn handler = exit_handlers[exit.reason];
		if (!handler)
			handler = exit_unhandled;
		enum exit_action a = handler(vp, &exit);
		/* After the handler: a hypercall's code is known only then. */
		count_keyed_exit(vp, &exit);
		if (t)
			trace_result(vp, t, &exit, a, events_before);
		if (a == EXIT_HALT)
			vp->state = VP_HALTED;
	}
}
