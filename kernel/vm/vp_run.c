/* The VP loop: enter the guest, dispatch the exit to its handler, repeat.
 * The dispatch is a table indexed by the neutral exit reason; a reason with no
 * handler stops the partition with a full dump, never the hypervisor. */
#include "arch/x86/cpu.h"
#include "arch/x86/emu_exit.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/exits.h"

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
	/* The NMI is delivered to the host once GIF is set again; a panicking
	 * CPU's stop request is handled there. */
	return EXIT_RESUME;
}

static enum exit_action exit_hlt(struct vp *vp, struct vm_exit *exit)
{
	enum exit_action a = exit_skip_instruction(vp, exit);
	if (a != EXIT_RESUME)
		return a;
	if (!(vp_get_reg(vp, VP_RFLAGS) & RFLAGS_IF)) {
		guest_uart_flush();
		printk(LOG_INFO, "vp%u: guest halted with interrupts disabled at %llx\n", vp->index,
		       (unsigned long long)vp_get_reg(vp, VP_RIP));
		return EXIT_HALT;
	}
	/* Interrupts are not forwarded to guests yet, so a HLT with interrupts
	 * enabled returns at once, as it would after a spurious wake-up. */
	return EXIT_RESUME;
}

static enum exit_action exit_init(struct vp *vp, struct vm_exit *exit)
{
	(void)exit;
	printk(LOG_WARN, "vp%u: INIT signal ignored (no guest APIC yet)\n", vp->index);
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
	/* Until the Hyper-V interface exists, VMCALL/VMMCALL are #UD like on a
	 * machine without a hypervisor. */
	[VM_EXIT_HYPERCALL] = exit_inject_ud,
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

void vm_stop(struct vp *vp, const char *why, const struct vm_exit *exit)
{
	guest_uart_flush();
	the_vm.stopped = true;
	printk(LOG_ERR, "hv: %s on vp%u: partition stopped\n", why, vp->index);
	vp_dump_state(vp, exit);
	for (u32 i = 0; i < the_vm.vp_count; i++)
		the_vm.vps[i]->state = VP_STOPPED;
	if (hv_options.stop_exit)
		emu_exit(EMU_EXIT_GUEST_STOPPED);
	for (;;)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

struct vp *vp_this(void)
{
	return this_cpu()->vp;
}

void vp_run_loop(struct vp *vp)
{
	struct vm_exit exit;

	for (;;) {
		if (vp->state != VP_RUNNING) {
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		if (vp->flush_pending) {
			vp->flush_pending = false;
			vm_backend->flush_tlb(vp, TLB_FLUSH_GUEST_SLAT);
		}
		vm_backend->run(vp, &exit);
		vp->exits++;
		vp->exits_by_reason[exit.reason]++;
		exit_handler_fn handler = exit_handlers[exit.reason];
		if (!handler)
			handler = exit_unhandled;
		enum exit_action a = handler(vp, &exit);
		if (a == EXIT_HALT)
			vp->state = VP_HALTED;
	}
}
