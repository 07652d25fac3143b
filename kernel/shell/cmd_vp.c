/* Shell commands about VPs: vps, regs, vmcs/vmcb, pause/resume, nmi, exits,
 * trace.  Everything that reads a VP's hardware context runs on the VP's own
 * CPU while the VP is paused (shell_vp_call). */
#include "arch/x86/tsc.h"
#include "kernel/console.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/heap.h"
#include "kernel/percpu.h"
#include "kernel/shell/cmds.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/vp_ctl.h"

#define TRACE_DUMP_DEFAULT 20
#define EXITS_TOP 5

int cmd_vps(struct shell *sh, int argc, char **argv)
{
	struct vp_snapshot s;
	char mode[64];
	(void)argc;
	(void)argv;

	if (!the_vm.vp_count)
		return shell_fail(sh, "there are no VPs (no virtualisation backend)");
	shell_print(sh, "vp  cpu apic state          VTL mode                                  rip               exits");
	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *vp = the_vm.vps[i];
		if (shell_vp_snapshot(sh, vp, &s) != SHELL_OK)
			continue;
		format_cpu_mode(mode, sizeof(mode), s.reg[VP_CR0], s.reg[VP_CR4], s.reg[VP_EFER],
				s.reg[VP_RFLAGS], s.seg[VP_CS].attr);
		shell_print(sh, "%-3u %-3u %-4u %-14s %-3u %-37s %016llx %llu", vp->index, vp->cpu,
			    vp->apic_id, vp_state_name(s.state, s.paused), s.vtl, mode,
			    (unsigned long long)s.reg[VP_RIP], (unsigned long long)s.exits);
	}
	return SHELL_OK;
}

int cmd_regs(struct shell *sh, int argc, char **argv)
{
	static struct vp_snapshot s;
	struct vp *vp = shell_arg_vp(sh, "vp", argv[1]);
	u64 vtl;

	if (!vp)
		return SHELL_EUSAGE;
	if (argc > 2) {
		if (!shell_arg_u64(sh, "vtl", argv[2], 0, HV_VTL_COUNT - 1, &vtl))
			return SHELL_EUSAGE;
		if (!vp->vtl[vtl])
			return shell_fail(sh, "vp%u has no VTL%llu (only VTL0 is set up)", vp->index,
					  (unsigned long long)vtl);
		if (vtl != vp->active_vtl)
			return shell_fail(sh, "VTL%llu is not active on vp%u; only the active VTL%u can be read",
					  (unsigned long long)vtl, vp->index, vp->active_vtl);
	}
	if (shell_vp_snapshot(sh, vp, &s) != SHELL_OK)
		return SHELL_EFAIL;
	vp_snapshot_print(&s, shell_emit_line, sh);
	return SHELL_OK;
}

static void backend_dump(struct vp *vp, void *arg)
{
	(void)arg;
	/* The backend prints through printk; without the log prefix here, as
	 * it is the answer to a command. */
	printk_set_plain_cpu(vp->cpu);
	vm_backend->dump(vp);
	printk_set_plain_cpu(CPU_NONE);
}

static int hw_dump(struct shell *sh, const char *argv1, const char *want, const char *other_cmd)
{
	if (!vm_backend)
		return shell_fail(sh, "no virtualisation backend on this machine");
	if (strcmp(vm_backend->name, want) != 0)
		return shell_fail(sh, "this machine uses %s, not %s; try `%s <vp>`", vm_backend->name,
				  want, other_cmd);
	struct vp *vp = shell_arg_vp(sh, "vp", argv1);
	if (!vp)
		return SHELL_EUSAGE;
	return shell_vp_call(sh, vp, backend_dump, NULL);
}

int cmd_vmcs(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return hw_dump(sh, argv[1], "vmx", "vmcb");
}

int cmd_vmcb(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	return hw_dump(sh, argv[1], "svm", "vmcs");
}

/* "<vp>" or "all": fills which[] and returns the count, 0 after an error. */
static u32 vp_or_all(struct shell *sh, const char *arg, struct vp **which)
{
	if (!the_vm.vp_count) {
		shell_fail(sh, "there are no VPs (no virtualisation backend)");
		return 0;
	}
	if (shell_word_is(arg, "all")) {
		for (u32 i = 0; i < the_vm.vp_count; i++)
			which[i] = the_vm.vps[i];
		return the_vm.vp_count;
	}
	struct vp *vp = shell_arg_vp(sh, "vp", arg);
	if (!vp)
		return 0;
	which[0] = vp;
	return 1;
}

int cmd_pause(struct shell *sh, int argc, char **argv)
{
	struct vp *which[HV_MAX_CPUS];
	u32 n = vp_or_all(sh, argv[1], which);
	int rc = SHELL_OK;
	(void)argc;

	if (!n)
		return SHELL_EUSAGE;
	for (u32 i = 0; i < n; i++) {
		struct vp *vp = which[i];
		if (vp_pause_requested(vp)) {
			shell_print(sh, "vp%u was already paused", vp->index);
			continue;
		}
		if (vp_pause(vp, SHELL_PAUSE_TIMEOUT_US)) {
			shell_print(sh, "vp%u paused", vp->index);
		} else {
			shell_print(sh, "pause: vp%u did not stop within %u ms; the request stays until `resume %u`",
				    vp->index, SHELL_PAUSE_TIMEOUT_US / 1000, vp->index);
			rc = SHELL_EFAIL;
		}
	}
	return rc;
}

int cmd_resume(struct shell *sh, int argc, char **argv)
{
	struct vp *which[HV_MAX_CPUS];
	u32 n = vp_or_all(sh, argv[1], which);
	(void)argc;

	if (!n)
		return SHELL_EUSAGE;
	for (u32 i = 0; i < n; i++) {
		struct vp *vp = which[i];
		if (!vp_pause_requested(vp)) {
			shell_print(sh, "vp%u was not paused", vp->index);
			continue;
		}
		vp_resume(vp);
		shell_print(sh, "vp%u resumed", vp->index);
	}
	return SHELL_OK;
}

struct nmi_req {
	int result; /* 0 queued, 1 woke a halted VP, -1 not running a guest */
	u8 state;
};

static void inject_nmi(struct vp *vp, void *arg)
{
	struct nmi_req *r = arg;
	static const struct vp_event nmi = {VP_EVENT_NMI, 2, false, 0};

	r->state = (u8)vp->state;
	if (vp->state != VP_RUNNING && vp->state != VP_HALTED) {
		r->result = -1;
		return;
	}
	r->result = vp->state == VP_HALTED;
	/* An NMI ends a HLT on real hardware too. */
	vp->state = VP_RUNNING;
	vp_inject(vp, &nmi);
}

int cmd_nmi(struct shell *sh, int argc, char **argv)
{
	static struct nmi_req req;
	struct vp *vp = shell_arg_vp(sh, "vp", argv[1]);
	(void)argc;

	if (!vp)
		return SHELL_EUSAGE;
	if (shell_vp_call(sh, vp, inject_nmi, &req) != SHELL_OK)
		return SHELL_EFAIL;
	if (req.result < 0)
		return shell_fail(sh, "vp%u is not running a guest (%s); nothing injected", vp->index,
				  vp_state_name(req.state, false));
	shell_print(sh, "nmi: queued for vp%u%s; it is delivered at the next VM entry%s", vp->index,
		    req.result ? " (which was halted: it runs again)" : "",
		    vp_pause_requested(vp) ? " (after `resume`)" : "");
	return SHELL_OK;
}

/* ---- exits ------------------------------------------------------------------------------ */

static void reset_counters(struct vp *vp, void *arg)
{
	(void)arg;
	vp->exits = 0;
	memset(vp->exits_by_reason, 0, sizeof(vp->exits_by_reason));
	key_counter_reset(&vp->msr_exits);
	key_counter_reset(&vp->io_exits);
	key_counter_reset(&vp->hypercall_exits);
}

static void print_top(struct shell *sh, const char *title, const struct key_counter *kc,
		      int kind)
{
	struct key_count top[EXITS_TOP];
	char line[SHELL_OUT_LINE];
	size_t n = key_counter_top(kc, top, EXITS_TOP), len;

	if (!n)
		return;
	len = (size_t)fmt_snprintf(line, sizeof(line), "  top %s:", title);
	for (size_t i = 0; i < n && len < sizeof(line); i++) {
		u32 k = (u32)top[i].key;
		bool flag = top[i].key & EXIT_KEY_WRITE; /* = EXIT_KEY_IN */
		const char *name = kind == 0 ? msr_name(k) : NULL;
		int m;
		if (kind == 0)
			m = fmt_snprintf(line + len, sizeof(line) - len, " %s %#x%s%s%s=%llu",
					 flag ? "wrmsr" : "rdmsr", k, name ? "(" : "", name ? name : "",
					 name ? ")" : "", (unsigned long long)top[i].count);
		else if (kind == 1)
			m = fmt_snprintf(line + len, sizeof(line) - len, " %s %#x=%llu",
					 flag ? "in" : "out", k, (unsigned long long)top[i].count);
		else
			m = fmt_snprintf(line + len, sizeof(line) - len, " code %#x=%llu", k,
					 (unsigned long long)top[i].count);
		if (m < 0)
			break;
		len += (size_t)m;
	}
	if (kc->other)
		fmt_snprintf(line + MIN(len, sizeof(line) - 1), sizeof(line) - MIN(len, sizeof(line) - 1),
			     " (and %llu from keys not tracked)", (unsigned long long)kc->other);
	shell_print(sh, "%s", line);
}

static void print_exits(struct shell *sh, struct vp *vp)
{
	u64 total = vp->exits;
	u32 order[VM_EXIT_REASON_COUNT], n = 0;

	shell_print(sh, "vp%u: %llu exits", vp->index, (unsigned long long)total);
	for (u32 r = 0; r < VM_EXIT_REASON_COUNT; r++) {
		if (vp->exits_by_reason[r])
			order[n++] = r;
	}
	/* Largest first. */
	for (u32 i = 1; i < n; i++) {
		for (u32 j = i; j > 0 && vp->exits_by_reason[order[j]] > vp->exits_by_reason[order[j - 1]]; j--) {
			u32 t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	}
	for (u32 i = 0; i < n; i++) {
		u64 c = vp->exits_by_reason[order[i]];
		u64 permille = total ? c * 1000 / total : 0;
		shell_print(sh, "  %-28s %12llu %3llu.%llu%%", vm_exit_reason_name(order[i]),
			    (unsigned long long)c, (unsigned long long)(permille / 10),
			    (unsigned long long)(permille % 10));
	}
	print_top(sh, "MSRs", &vp->msr_exits, 0);
	print_top(sh, "I/O ports", &vp->io_exits, 1);
	print_top(sh, "hypercalls", &vp->hypercall_exits, 2);
}

int cmd_exits(struct shell *sh, int argc, char **argv)
{
	struct vp *only = NULL;
	bool reset = false;

	if (!the_vm.vp_count)
		return shell_fail(sh, "there are no VPs (no virtualisation backend)");
	for (int i = 1; i < argc; i++) {
		if (shell_word_is(argv[i], "reset") && !reset) {
			reset = true;
			continue;
		}
		if (only || (argv[i][0] < '0' || argv[i][0] > '9'))
			return shell_usage(sh, "'%s' is neither a VP number nor `reset`", argv[i]);
		only = shell_arg_vp(sh, "vp", argv[i]);
		if (!only)
			return SHELL_EUSAGE;
	}
	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *vp = the_vm.vps[i];
		if (only && vp != only)
			continue;
		if (reset) {
			if (shell_vp_call(sh, vp, reset_counters, NULL) == SHELL_OK)
				shell_print(sh, "vp%u: exit counters reset", vp->index);
			continue;
		}
		print_exits(sh, vp);
	}
	return SHELL_OK;
}

/* ---- trace -------------------------------------------------------------------------------- */

static bool trace_alloc(struct shell *sh, struct vp *vp)
{
	if (vp->trace.recs)
		return true;
	struct trace_rec *recs = kzalloc(sizeof(*recs) * TRACE_RING_SIZE);
	if (!recs) {
		shell_fail(sh, "no memory for vp%u's trace ring", vp->index);
		return false;
	}
	trace_ring_init(&vp->trace, recs, TRACE_RING_SIZE);
	return true;
}

static void trace_dump_vp(struct shell *sh, struct vp *vp, u64 n)
{
	char text[SHELL_OUT_LINE];
	struct trace_rec rec;
	u64 lost = 0;

	if (!vp->trace.recs) {
		shell_print(sh, "vp%u: never traced (`trace on`)", vp->index);
		return;
	}
	u64 head = trace_ring_head(&vp->trace);
	u64 first = MAX(trace_ring_oldest(&vp->trace), head > n ? head - n : 0);
	if (!head) {
		shell_print(sh, "vp%u: no exits traced yet (trace %s)", vp->index,
			    vp->trace_on ? "on" : "off");
		return;
	}
	shell_print(sh, "vp%u: exits %llu-%llu of %llu traced (trace %s)", vp->index,
		    (unsigned long long)first, (unsigned long long)(head ? head - 1 : 0),
		    (unsigned long long)head, vp->trace_on ? "on" : "off");
	for (u64 i = first; i < head; i++) {
		if (!trace_ring_read(&vp->trace, i, &rec)) {
			lost++;
			continue;
		}
		trace_format(&rec, i, tsc_at_entry, tsc_hz, text, sizeof(text));
		shell_print(sh, "  %s", text);
	}
	if (lost)
		shell_print(sh, "  (%llu records skipped: overwritten or being written)",
			    (unsigned long long)lost);
}

int cmd_trace(struct shell *sh, int argc, char **argv)
{
	static const char *const modes[] = {"on", "off", "dump", NULL};
	int mode = shell_arg_choice(sh, "mode", argv[1], modes);
	struct vp *only = NULL;
	u64 n = TRACE_DUMP_DEFAULT;

	if (mode < 0)
		return SHELL_EUSAGE;
	if (!the_vm.vp_count)
		return shell_fail(sh, "there are no VPs (no virtualisation backend)");
	if (mode == 2) {
		if (argc > 2 && !shell_arg_u64(sh, "n", argv[2], 1, TRACE_RING_SIZE, &n))
			return SHELL_EUSAGE;
		if (argc > 3 && !(only = shell_arg_vp(sh, "vp", argv[3])))
			return SHELL_EUSAGE;
	} else {
		if (argc > 3)
			return shell_usage(sh, "trace on|off takes at most a VP number");
		if (argc > 2 && !(only = shell_arg_vp(sh, "vp", argv[2])))
			return SHELL_EUSAGE;
	}
	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *vp = the_vm.vps[i];
		if (only && vp != only)
			continue;
		if (mode == 2) {
			/* Paused, the VP has finished every exit it recorded; if it does
			 * not stop, the records are read as they are. */
			bool user_paused = vp_pause_requested(vp);
			vp_pause(vp, SHELL_PAUSE_TIMEOUT_US);
			trace_dump_vp(sh, vp, n);
			if (!user_paused)
				vp_resume(vp);
			continue;
		}
		if (mode == 0 && !trace_alloc(sh, vp))
			return SHELL_EFAIL;
		/* The VP's CPU reads the flag at each exit; the ring is ready first. */
		__atomic_store_n(&vp->trace_on, mode == 0, __ATOMIC_RELEASE);
		shell_print(sh, "vp%u: trace %s", vp->index, mode == 0 ? "on" : "off");
	}
	return SHELL_OK;
}
