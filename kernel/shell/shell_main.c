/* The hypervisor shell on the console CPU: the command table, the prompt and
 * line editing, and what the commands share (VP arguments, snapshots taken on
 * the VP's own CPU, guest-RAM checks, hexdumps).  docs/console.md is the
 * command reference. */
#include "kernel/shell/shell_main.h"
#include "arch/x86/cpu.h"
#include "kernel/console.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/percpu.h"
#include "kernel/shell/cmds.h"
#include "kernel/shell/console_mux.h"
#include "kernel/shell/line_input.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/vp_ctl.h"

#define PROMPT "hv> "

const struct acpi_info *shell_acpi;

/* The table: one row per command, in the order `help` lists them. */
static const struct shell_cmd commands[] = {
	{"help", "[command]", "list the commands, or explain one", NULL, 0, 1, cmd_help},
	{"version", "", "hypervisor version and build", NULL, 0, 0, cmd_version},
	{"info", "", "CPUs, backend and its features, memory, console, uptime", NULL, 0, 0,
	 cmd_info},
	{"vps", "", "one line per VP: state, VTL, CPU mode, RIP, exits", NULL, 0, 0, cmd_vps},
	{"regs", "<vp> [vtl]", "the full register set of a VP",
	 "GPRs, RIP, RFLAGS, control registers, EFER, debug registers, segments with\n"
	 "base/limit/attributes, descriptor tables, SYSENTER/SYSCALL MSRs, and the last\n"
	 "event the hypervisor injected.  The VP is paused while it is read.", 1, 2, cmd_regs},
	{"vmcs", "<vp>", "the VP's VMCS, decoded (Intel VMX)", NULL, 1, 1, cmd_vmcs},
	{"vmcb", "<vp>", "the VP's VMCB, decoded (AMD SVM)", NULL, 1, 1, cmd_vmcb},
	{"mem", "<gpa> [len]", "hexdump of guest-physical memory",
	 "len is 1-4096 bytes (default 64).  Only guest RAM is shown: MMIO and the\n"
	 "hypervisor's own memory are refused.", 1, 2, cmd_mem},
	{"vmem", "<vp> <gva> [len]", "hexdump of guest-virtual memory, through the VP's page tables",
	 "len is 1-4096 bytes (default 64); the dump stops at the first page that does\n"
	 "not translate, and says why.", 2, 3, cmd_vmem},
	{"gva", "<vp> <gva>", "walk the guest page tables, then the SLAT, every level", NULL, 2, 2,
	 cmd_gva},
	{"slat", "<gpa> [vp]", "the SLAT entries and permissions for a GPA (default vp 0)", NULL,
	 1, 2, cmd_slat},
	{"exits", "[vp] [reset]", "exit counts by reason; top MSRs, I/O ports, hypercalls",
	 "Without vp: every VP.  reset zeroes the counters (on the VP's own CPU).", 0, 2,
	 cmd_exits},
	{"trace", "on|off|dump [n] [vp]", "per-VP ring of recent exits, decoded",
	 "trace on / trace off [vp]: start or stop recording (every VP by default).\n"
	 "trace dump [n] [vp]: the last n exits (default 20, at most 256) of each VP:\n"
	 "reason, RIP, MSR/port and value, CPUID leaf and answer, SLAT GPA, injected\n"
	 "event, TSC time since boot, the hardware exit code and qualification.", 1, 3,
	 cmd_trace},
	{"pause", "<vp|all>", "keep a VP out of the guest until `resume`", NULL, 1, 1, cmd_pause},
	{"resume", "<vp|all>", "let a paused VP run again", NULL, 1, 1, cmd_resume},
	{"nmi", "<vp>", "inject an NMI into the guest on that VP", NULL, 1, 1, cmd_nmi},
	{"log", "[n|all]", "replay the last n log lines (default 40) from the log ring",
	 "The ring keeps lines up to loglevel info even when the console shows fewer.", 0, 1,
	 cmd_log},
	{"loglevel", "[err|warn|info|debug]", "show or set the console log level", NULL, 0, 1,
	 cmd_loglevel},
	{"hv", "[ports | port add ... | port del <id>]", "the Hv#1 interface and its SynIC connections",
	 "hv: the features offered, GUEST_OS_ID, the hypercall and TSC pages, the\n"
	 "connections.  A connection leads HvCallPostMessage/HvCallSignalEvent of a\n"
	 "ConnectionId to a port in one VP's SynIC:\n"
	 "  hv port add <id> msg <vp> <sint>\n"
	 "  hv port add <id> event <vp> <sint> <first-flag> <flag-count>\n"
	 "  hv port del <id>\n"
	 "The command line's hv_ports= adds them at boot.", 0, 8, cmd_hv},
	{"cpuid", "<leaf> [subleaf]", "CPUID on this CPU, and what VP 0's guest sees", NULL, 1, 2,
	 cmd_cpuid},
	{"rdmsr", "<msr> [cpu]", "read a host MSR (default: this CPU)", NULL, 1, 2, cmd_rdmsr},
	{"wrmsr", "<msr> <value> [cpu]", "write a host MSR (default: this CPU)",
	 "A #GP from the CPU is reported, not fatal.  MSRs the hypervisor depends on\n"
	 "(EFER, GS base, APIC base and x2APIC, PAT and MTRRs, TSC, SVM/VMX control)\n"
	 "are refused.", 2, 3, cmd_wrmsr},
	{"reboot", "", "reset the machine (ACPI reset register, port 0xcf9, keyboard controller)",
	 NULL, 0, 0, cmd_reboot},
	{"guest", "", "give console input back to the guest (like the escape)", NULL, 0, 0,
	 cmd_guest},
};

static void write_line(void *ctx, const char *line)
{
	char buf[SHELL_OUT_LINE + 2];
	size_t n = strlcpy(buf, line, sizeof(buf) - 1);
	(void)ctx;
	n = MIN(n, sizeof(buf) - 2);
	buf[n++] = '\n';
	console_write(buf, n);
}

static struct shell sh = {commands, ARRAY_SIZE(commands), write_line, NULL, NULL};
static struct line_input line;
static bool in_shell;

int cmd_help(struct shell *s, int argc, char **argv)
{
	return shell_help(s, argc > 1 ? argv[1] : NULL);
}

void shell_init(void)
{
	line_input_reset(&line);
}

void shell_set_acpi(const struct acpi_info *acpi)
{
	shell_acpi = acpi;
}

void shell_enter(void)
{
	char esc[32];

	in_shell = true;
	line_input_reset(&line);
	console_mux_escape_name(esc, sizeof(esc));
	shell_print(&sh, "hv: console input goes to the hypervisor shell (%s: back to the guest; `help`: commands)",
		    esc);
	console_prompt_show(PROMPT);
}

void shell_leave(void)
{
	if (!in_shell)
		return;
	in_shell = false;
	console_prompt_end("");
	shell_print(&sh, "hv: console input goes to the guest again");
	console_shell_released_line();
	/* A partial guest line held back while the shell had the line. */
	guest_uart_flush();
}

static void run_line(const char *text)
{
	/* Commands may wait for other CPUs: let interrupts (cross-calls, the
	 * console timer) in meanwhile. */
	u64 flags = irq_save();
	irq_enable();
	shell_execute(&sh, text);
	irq_restore(flags);
}

void shell_input(u8 c)
{
	char ch = (char)c;
	u32 n;

	if (!in_shell)
		return;
	switch (line_input_feed(&line, c, &n)) {
	case LINE_ECHO:
		console_prompt_input(&ch, 1);
		break;
	case LINE_ERASE:
		console_prompt_erase(n);
		break;
	case LINE_DONE: {
		char text[LINE_INPUT_MAX + 1];
		strlcpy(text, line_input_text(&line), sizeof(text));
		line_input_reset(&line);
		console_prompt_end("");
		run_line(text);
		if (in_shell && !console_input_to_guest())
			console_prompt_show(PROMPT);
		break;
	}
	case LINE_CANCEL:
		line_input_reset(&line);
		console_prompt_end("^C");
		console_prompt_show(PROMPT);
		break;
	default:
		break;
	}
}

/* ---- what the commands share ------------------------------------------------- */

void shell_emit_line(void *ctx, const char *text)
{
	shell_print(ctx, "%s", text);
}

struct vp *shell_arg_vp(struct shell *s, const char *what, const char *arg)
{
	u64 index;

	if (!the_vm.vp_count) {
		shell_fail(s, "there are no VPs (no virtualisation backend)");
		return NULL;
	}
	if (!shell_arg_u64(s, what, arg, 0, the_vm.vp_count - 1, &index))
		return NULL;
	return the_vm.vps[index];
}

int shell_vp_call(struct shell *s, struct vp *vp, void (*fn)(struct vp *vp, void *arg), void *arg)
{
	bool user_paused = vp_pause_requested(vp);

	if (!vp_pause(vp, SHELL_PAUSE_TIMEOUT_US)) {
		if (!user_paused)
			vp_resume(vp);
		return shell_fail(s, "vp%u did not stop within %u ms; nothing was read", vp->index,
				  SHELL_PAUSE_TIMEOUT_US / 1000);
	}
	int rc = vp_call(vp, fn, arg, SHELL_CALL_TIMEOUT_US);
	if (!user_paused)
		vp_resume(vp);
	if (rc == VP_CALL_BUSY)
		return shell_fail(s, "vp%u has not finished an earlier request; try again later",
				  vp->index);
	if (rc == VP_CALL_TIMEOUT)
		return shell_fail(s, "vp%u did not answer within %u ms", vp->index,
				  SHELL_CALL_TIMEOUT_US / 1000);
	return SHELL_OK;
}

static void take_snapshot(struct vp *vp, void *arg)
{
	struct vp_snapshot *s = arg;

	memset(s, 0, sizeof(*s));
	s->index = vp->index;
	s->cpu = vp->cpu;
	s->apic_id = vp->apic_id;
	s->vtl = vp->active_vtl;
	s->state = (u8)vp->state;
	memcpy(s->gpr, vp->gpr, sizeof(s->gpr));
	for (int r = VP_GPR_COUNT; r < VP_REG_COUNT; r++)
		s->reg[r] = vp_get_reg(vp, (enum vp_reg)r);
	for (int g = 0; g < VP_SEG_COUNT; g++)
		vp_get_seg(vp, (enum vp_seg)g, &s->seg[g]);
	s->exits = vp->exits;
	s->events_injected = vp->events_injected;
	s->last_event = vp->last_event;
}

int shell_vp_snapshot(struct shell *s, struct vp *vp, struct vp_snapshot *out)
{
	static struct vp_snapshot snap;
	bool user_paused = vp_pause_requested(vp);
	int rc = shell_vp_call(s, vp, take_snapshot, &snap);

	if (rc == SHELL_OK) {
		*out = snap;
		out->paused = user_paused;
	}
	return rc;
}

bool shell_gpa_readable(struct shell *s, u64 gpa, u64 len)
{
	if (gpa + len < gpa) {
		shell_usage(s, "%#llx + %#llx wraps around the address space", (unsigned long long)gpa,
			    (unsigned long long)len);
		return false;
	}
	for (u64 a = gpa; a < gpa + len; a = ALIGN_DOWN(a, PAGE_SIZE) + PAGE_SIZE) {
		u64 n = MIN(gpa + len, ALIGN_DOWN(a, PAGE_SIZE) + PAGE_SIZE) - a;
		if (guest_mem_is_hv(a)) {
			shell_fail(s, "gpa %#llx is the hypervisor's own memory; refused",
				   (unsigned long long)a);
			return false;
		}
		if (!guest_mem_is_ram(&the_vm, a, n)) {
			shell_fail(s, "gpa %#llx is not guest RAM (MMIO, reserved or absent); refused",
				   (unsigned long long)a);
			return false;
		}
		if (a + n < a)
			break;
	}
	return true;
}

void shell_hexdump(struct shell *s, u64 addr, const u8 *data, size_t len)
{
	char text[100];

	for (size_t off = 0; off < len; off += HEXDUMP_BYTES_PER_LINE) {
		hexdump_line(text, sizeof(text), addr + off, data + off,
			     MIN((size_t)HEXDUMP_BYTES_PER_LINE, len - off));
		shell_print(s, "%s", text);
	}
}

static const struct {
	u32 msr;
	const char *name;
} msr_names[] = {
	{0x10, "TSC"}, {0x1b, "APIC_BASE"}, {0x3a, "FEATURE_CONTROL"}, {0x8b, "BIOS_SIGN_ID"},
	{0xfe, "MTRRCAP"}, {0x174, "SYSENTER_CS"}, {0x175, "SYSENTER_ESP"},
	{0x176, "SYSENTER_EIP"}, {0x179, "MCG_CAP"}, {0x17a, "MCG_STATUS"}, {0x1a0, "MISC_ENABLE"},
	{0x1d9, "DEBUGCTL"}, {0x277, "PAT"}, {0x2ff, "MTRR_DEF_TYPE"}, {0x6e0, "TSC_DEADLINE"},
	{0xda0, "XSS"}, {0xc0000080, "EFER"}, {0xc0000081, "STAR"}, {0xc0000082, "LSTAR"},
	{0xc0000083, "CSTAR"}, {0xc0000084, "SFMASK"}, {0xc0000100, "FS_BASE"},
	{0xc0000101, "GS_BASE"}, {0xc0000102, "KERNEL_GS_BASE"}, {0xc0000103, "TSC_AUX"},
	{0xc0010114, "VM_CR"}, {0xc0010117, "VM_HSAVE_PA"}, {0x40000000, "HV_GUEST_OS_ID"},
	{0x40000001, "HV_HYPERCALL"}, {0x40000002, "HV_VP_INDEX"},
};

const char *msr_name(u32 msr)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_names); i++) {
		if (msr_names[i].msr == msr)
			return msr_names[i].name;
	}
	if (msr >= 0x200 && msr < 0x270)
		return "MTRR";
	if (msr >= 0x800 && msr < 0x900)
		return "x2APIC";
	return NULL;
}
