#include "kernel/options.h"
#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "kernel/printk.h"
#include "kernel/uart16550.h"

struct hv_options hv_options = {
	.com = 1,
	.baud = 115200,
	.loglevel = LOG_INFO,
	.maxcpus = HV_MAX_CPUS,
	.hv_mem = 32 * MIB,
	.x2apic = X2APIC_AUTO,
	.debug_fault = DEBUG_FAULT_NONE,
	.shell = true,
	.escape = 0x1d,
	.escape_count = 3,
};

static const char *const loglevel_names[] = {"err", "warn", "info", "debug", NULL};
static const char *const debug_fault_names[] = {"none", "pf", "ud", "gp", "de", NULL};
static const char *const x2apic_names[] = {"auto", "on", "off", NULL};

static const struct cmdline_opt option_table[] = {
	{.name = "com", .type = OPT_UINT, .target = &hv_options.com, .min = 1, .max = 0xFFFF,
	 .help = "console UART: 1-4 for COM1-COM4, or an I/O port (default 1)"},
	{.name = "baud", .type = OPT_UINT, .target = &hv_options.baud, .min = 50, .max = 115200,
	 .help = "console speed in bit/s (default 115200)"},
	{.name = "loglevel", .type = OPT_ENUM, .target = &hv_options.loglevel,
	 .choices = loglevel_names, .help = "err|warn|info|debug (default info)"},
	{.name = "maxcpus", .type = OPT_UINT, .target = &hv_options.maxcpus, .min = 1,
	 .max = HV_MAX_CPUS, .help = "bring up at most this many CPUs"},
	{.name = "hv_mem", .type = OPT_UINT, .target = &hv_options.hv_mem, .min = 8 * MIB,
	 .max = 2 * GIB, .help = "memory the hypervisor keeps for itself (default 32M; K/M/G suffixes)"},
	{.name = "x2apic", .type = OPT_ENUM, .target = &hv_options.x2apic,
	 .choices = x2apic_names, .help = "auto|on|off: physical APIC mode (default auto)"},
	{.name = "debug_fault", .type = OPT_ENUM, .target = &hv_options.debug_fault,
	 .choices = debug_fault_names,
	 .help = "none|pf|ud|gp|de: take this exception on purpose after boot (tests the crash dump)"},
	{.name = "debug_fault_late", .type = OPT_FLAG, .target = &hv_options.debug_fault_late,
	 .help = "take debug_fault on the last CPU 50 ms after the guest started (2+ CPUs, shell on: its timer wakes that CPU), so the crash dump shows running VPs"},
	{.name = "exit_when_ready", .type = OPT_FLAG, .target = &hv_options.exit_when_ready,
	 .help = "after the ready line, end the emulator run (QEMU isa-debug-exit, Bochs port 0x8900)"},
	{.name = "panic_exit", .type = OPT_FLAG, .target = &hv_options.panic_exit,
	 .help = "after a panic dump, end the emulator run instead of halting"},
	{.name = "stop_exit", .type = OPT_FLAG, .target = &hv_options.stop_exit,
	 .help = "when the partition stops (guest triple fault, failed entry, unhandled exit), end the emulator run with code 0x12"},
	{.name = "shell", .type = OPT_FLAG, .target = &hv_options.shell,
	 .help = "on|off: the escape switches console input to the hypervisor shell (default on)"},
	{.name = "escape", .type = OPT_UINT, .target = &hv_options.escape, .min = 1, .max = 0xFF,
	 .help = "the escape character's code (default 0x1d, Ctrl-])"},
	{.name = "escape_count", .type = OPT_UINT, .target = &hv_options.escape_count, .min = 1,
	 .max = 8, .help = "how many times in a row the escape is typed (default 3)"},
	{.name = "trace", .type = OPT_FLAG, .target = &hv_options.trace,
	 .help = "record every VP's exits from boot on (the shell's `trace on`; crash dumps show them)"},
	{.name = "hv_features", .type = OPT_STRING, .target = hv_options.hv_features,
	 .size = sizeof(hv_options.hv_features),
	 .help = "narrow the Hv#1 interface: e.g. -crash, none,+hypercall, or off"},
	{.name = "hv_ports", .type = OPT_STRING, .target = hv_options.hv_ports,
	 .size = sizeof(hv_options.hv_ports),
	 .help = "SynIC connections for PostMessage/SignalEvent: <id>:msg:<vp>:<sint> or <id>:event:<vp>:<sint>:<first-flag>:<count>, comma-separated (also `hv port add`)"},
	{.name = "debug_bad_guest_state", .type = OPT_FLAG,
	 .target = &hv_options.debug_bad_guest_state,
	 .help = "give VP 0 an impossible CR0 (PG without PE) to show the failed-entry report"},
};

int options_parse(const char *cmdline)
{
	return cmdline_parse(cmdline, option_table, ARRAY_SIZE(option_table));
}

u16 options_console_port(void)
{
	static const u16 com_ports[] = {COM1_PORT, COM2_PORT, COM3_PORT, COM4_PORT};

	if (hv_options.com >= 1 && hv_options.com <= 4)
		return com_ports[hv_options.com - 1];
	return (u16)hv_options.com;
}

void options_log_help(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_table); i++)
		printk(LOG_INFO, "  %-16s %s\n", option_table[i].name, option_table[i].help);
}
