/* Shell commands about the machine and the hypervisor itself: version, info,
 * log, loglevel, cpuid, rdmsr/wrmsr, reboot, guest. */
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "arch/x86/tsc.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/layout.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pages.h"
#include "kernel/options.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/shell/cmds.h"
#include "kernel/shell/console_mux.h"
#include "kernel/smp.h"
#include "kernel/uart16550.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/vp_ctl.h"

int cmd_version(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_print(sh, "hv %s (x86-64, freestanding C11, gcc %s), backend %s", HV_VERSION,
		    __VERSION__, vm_backend ? vm_backend->name : "none");
	return SHELL_OK;
}

static const char *const level_names[] = {"err", "warn", "info", "debug", NULL};

static u64 guest_ram_bytes(u32 *regions)
{
	u64 total = 0;
	*regions = 0;
	for (u32 i = 0; i < the_vm.mem_count; i++) {
		if (guest_mem_is_ram(&the_vm, the_vm.mem[i].base, the_vm.mem[i].len)) {
			total += the_vm.mem[i].len;
			(*regions)++;
		}
	}
	return total;
}

int cmd_info(struct shell *sh, int argc, char **argv)
{
	char up[32], features[160], esc[32];
	struct console_mux_stats st;
	u32 regions, traced = 0;
	u64 log_bytes, log_dropped;
	(void)argc;
	(void)argv;

	format_tsc_seconds(up, sizeof(up), rdtsc() - tsc_at_entry, tsc_hz);
	shell_print(sh, "hv %s, up %s, TSC %llu.%03llu MHz", HV_VERSION, up,
		    (unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz / 1000 % 1000));
	shell_print(sh, "cpu: %s, %s, family %x model %x stepping %x", cpu_features.vendor,
		    cpu_features.brand[0] ? cpu_features.brand : "(no brand)", cpu_features.family,
		    cpu_features.model, cpu_features.stepping);
	shell_print(sh, "cpus: %u online; the shell runs on cpu %u; %u VP(s)",
		    __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE), console_mux_cpu(), the_vm.vp_count);
	if (vm_backend) {
		vm_backend->describe(features, sizeof(features));
		shell_print(sh, "backend: %s", features);
	} else {
		shell_print(sh, "backend: none (this CPU offers %s)", cpu_virt_name());
	}
	u64 ram = guest_ram_bytes(&regions);
	shell_print(sh, "memory: guest RAM %llu MiB in %u regions; hypervisor pool %llu MiB, %llu KiB free",
		    (unsigned long long)(ram / MIB), regions,
		    (unsigned long long)(hv_options.hv_mem / MIB),
		    (unsigned long long)(pages_free_count() * PAGE_SIZE / 1024));
	console_mux_get_stats(&st);
	console_mux_escape_name(esc, sizeof(esc));
	shell_print(sh, "console: port %#x, escape %s, UART polled every %u us; received %llu bytes "
			"(guest %llu, %llu dropped; shell %llu, %llu dropped)",
		    uart_port(), esc, st.poll_us, (unsigned long long)st.rx_bytes,
		    (unsigned long long)st.guest_bytes, (unsigned long long)st.guest_dropped,
		    (unsigned long long)st.shell_bytes, (unsigned long long)st.shell_dropped);
	console_log_stats(&log_bytes, &log_dropped);
	shell_print(sh, "log: loglevel %s, ring holds %llu bytes, %llu older lines dropped",
		    level_names[console_loglevel & 3], (unsigned long long)log_bytes, (unsigned long long)log_dropped);
	for (u32 i = 0; i < the_vm.vp_count; i++)
		traced += the_vm.vps[i]->trace_on;
	shell_print(sh, "trace: on for %u of %u VP(s), %u exits per VP", traced, the_vm.vp_count,
		    TRACE_RING_SIZE);
	return SHELL_OK;
}

int cmd_log(struct shell *sh, int argc, char **argv)
{
	u64 n = 40, skipped = 0;
	char text[SHELL_OUT_LINE + 2];

	if (argc > 1) {
		if (shell_word_is(argv[1], "all"))
			n = ~0ULL;
		else if (!shell_arg_u64(sh, "n", argv[1], 1, 100000, &n))
			return SHELL_EUSAGE;
	}
	u64 pos = console_log_last(n);
	while (console_log_read(&pos, text, sizeof(text), &skipped)) {
		size_t len = strlen(text);
		if (len && text[len - 1] == '\n')
			text[len - 1] = '\0';
		shell_print(sh, "%s", text);
	}
	if (skipped)
		shell_print(sh, "log: %llu bytes were overwritten while this was printed",
			    (unsigned long long)skipped);
	return SHELL_OK;
}

int cmd_loglevel(struct shell *sh, int argc, char **argv)
{
	if (argc == 1) {
		shell_print(sh, "loglevel %s", level_names[console_loglevel & 3]);
		return SHELL_OK;
	}
	u64 v;
	int level = -1;
	if (argv[1][0] >= '0' && argv[1][0] <= '9') {
		if (!shell_arg_u64(sh, "level", argv[1], LOG_ERR, LOG_DEBUG, &v))
			return SHELL_EUSAGE;
		level = (int)v;
	} else {
		level = shell_arg_choice(sh, "level", argv[1], level_names);
		if (level < 0)
			return SHELL_EUSAGE;
	}
	console_loglevel = level;
	shell_print(sh, "loglevel %s", level_names[level]);
	return SHELL_OK;
}

struct cpuid_req {
	u32 leaf, subleaf;
	u32 out[4];
};

static void guest_cpuid(struct vp *vp, void *arg)
{
	struct cpuid_req *r = arg;
	cpuid_for_guest(vp, r->leaf, r->subleaf, r->out);
}

int cmd_cpuid(struct shell *sh, int argc, char **argv)
{
	static struct cpuid_req req;
	u64 leaf, sub = 0;

	if (!shell_arg_u64(sh, "leaf", argv[1], 0, 0xFFFFFFFF, &leaf))
		return SHELL_EUSAGE;
	if (argc > 2 && !shell_arg_u64(sh, "subleaf", argv[2], 0, 0xFFFFFFFF, &sub))
		return SHELL_EUSAGE;
	struct cpuid_regs r = cpuid_count((u32)leaf, (u32)sub);
	shell_print(sh, "host cpu %u:  cpuid 0x%x.0x%x: eax=%08x ebx=%08x ecx=%08x edx=%08x",
		    this_cpu_id(), (u32)leaf, (u32)sub, r.eax, r.ebx, r.ecx, r.edx);
	if (!the_vm.vp_count)
		return SHELL_OK;
	req.leaf = (u32)leaf;
	req.subleaf = (u32)sub;
	if (shell_vp_call(sh, the_vm.vps[0], guest_cpuid, &req) != SHELL_OK)
		return SHELL_EFAIL;
	shell_print(sh, "guest (vp0): cpuid 0x%x.0x%x: eax=%08x ebx=%08x ecx=%08x edx=%08x", (u32)leaf,
		    (u32)sub, req.out[0], req.out[1], req.out[2], req.out[3]);
	return SHELL_OK;
}

/* ---- host MSRs -------------------------------------------------------------------- */

/* MSRs a write to which could take the hypervisor down: its own paging and
 * per-CPU pointer, the APIC it uses, caching, the TSC it times with, and the
 * virtualisation controls. */
static const struct {
	u32 first, last;
	const char *why;
} msr_refused[] = {
	{0x10, 0x10, "the TSC (all timing relies on it)"},
	{0x1b, 0x1b, "the APIC base"},
	{0x3a, 0x3a, "FEATURE_CONTROL"},
	{0x1a0, 0x1a0, "MISC_ENABLE (can turn NX off under the page tables)"},
	{0x200, 0x2ff, "MTRRs and PAT (host caching)"},
	{0x480, 0x493, "the VMX capability MSRs"},
	{0x6e0, 0x6e0, "the TSC deadline"},
	{0x800, 0x8ff, "the x2APIC"},
	{0xc0000080, 0xc0000080, "EFER (long mode, NX)"},
	{0xc0000100, 0xc0000101, "FS/GS base (GS holds the per-CPU pointer)"},
	{0xc0010010, 0xc0010010, "SYSCFG (memory configuration)"},
	{0xc0010114, 0xc0010117, "SVM control (VM_CR, VM_HSAVE_PA)"},
};

struct msr_req {
	u32 msr;
	u64 value;
	bool write, ok;
};

static void msr_on_cpu(void *arg)
{
	struct msr_req *r = arg;
	r->ok = r->write ? wrmsr_safe(r->msr, r->value) : rdmsr_safe(r->msr, &r->value);
}

static int msr_cpu_arg(struct shell *sh, int argc, char **argv, int index, u32 *cpu)
{
	u64 c = this_cpu_id();

	if (argc > index) {
		if (!shell_arg_u64(sh, "cpu", argv[index], 0, HV_MAX_CPUS - 1, &c))
			return SHELL_EUSAGE;
		if (!percpu_table[c] || !percpu_table[c]->online)
			return shell_usage(sh, "cpu %llu is not online", (unsigned long long)c);
	}
	*cpu = (u32)c;
	return SHELL_OK;
}

static int msr_run(struct shell *sh, u32 cpu, struct msr_req *r)
{
	if (smp_call_on(cpu, msr_on_cpu, r) < 0)
		return shell_fail(sh, "cpu %u did not answer", cpu);
	return SHELL_OK;
}

int cmd_rdmsr(struct shell *sh, int argc, char **argv)
{
	static struct msr_req req;
	u64 msr;
	u32 cpu;

	if (!shell_arg_u64(sh, "msr", argv[1], 0, 0xFFFFFFFF, &msr) ||
	    msr_cpu_arg(sh, argc, argv, 2, &cpu) != SHELL_OK)
		return SHELL_EUSAGE;
	req = (struct msr_req){(u32)msr, 0, false, false};
	if (msr_run(sh, cpu, &req) != SHELL_OK)
		return SHELL_EFAIL;
	const char *name = msr_name((u32)msr);
	if (!req.ok)
		return shell_fail(sh, "msr %#x%s%s%s on cpu %u: #GP (the CPU has no such MSR)",
				  (u32)msr, name ? " (" : "", name ? name : "", name ? ")" : "", cpu);
	shell_print(sh, "msr %#x%s%s%s on cpu %u = 0x%016llx", (u32)msr, name ? " (" : "",
		    name ? name : "", name ? ")" : "", cpu, (unsigned long long)req.value);
	return SHELL_OK;
}

int cmd_wrmsr(struct shell *sh, int argc, char **argv)
{
	static struct msr_req req;
	u64 msr, value;
	u32 cpu;

	if (!shell_arg_u64(sh, "msr", argv[1], 0, 0xFFFFFFFF, &msr) ||
	    !shell_arg_u64(sh, "value", argv[2], 0, ~0ULL, &value) ||
	    msr_cpu_arg(sh, argc, argv, 3, &cpu) != SHELL_OK)
		return SHELL_EUSAGE;
	for (size_t i = 0; i < ARRAY_SIZE(msr_refused); i++) {
		if (msr >= msr_refused[i].first && msr <= msr_refused[i].last)
			return shell_fail(sh, "msr %#x is %s; the shell will not write it", (u32)msr,
					  msr_refused[i].why);
	}
	req = (struct msr_req){(u32)msr, value, true, false};
	if (msr_run(sh, cpu, &req) != SHELL_OK)
		return SHELL_EFAIL;
	if (!req.ok)
		return shell_fail(sh, "msr %#x <- %#llx on cpu %u: #GP (no such MSR, or the value was refused)",
				  (u32)msr, (unsigned long long)value, cpu);
	shell_print(sh, "msr %#x <- %#llx on cpu %u: done", (u32)msr, (unsigned long long)value, cpu);
	return SHELL_OK;
}

/* ---- reboot ---------------------------------------------------------------------------- */

#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1
#define PORT_RESET_CONTROL 0xCF9
#define RESET_CONTROL_HARD 0x06
#define PORT_KBC_COMMAND 0x64
#define KBC_PULSE_RESET 0xFE

static void reset_wait(void)
{
	udelay(100000); /* a reset that works never comes back from here */
}

int cmd_reboot(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const struct acpi_info *a = shell_acpi;

	if (a && a->reset_supported && (a->reset_reg.space_id == ACPI_SPACE_IO ||
					a->reset_reg.space_id == ACPI_SPACE_MEMORY)) {
		shell_print(sh, "reboot: ACPI reset register (%s %#llx <- %#x)",
			    a->reset_reg.space_id == ACPI_SPACE_IO ? "port" : "memory",
			    (unsigned long long)a->reset_reg.address, a->reset_value);
		uart_drain();
		if (a->reset_reg.space_id == ACPI_SPACE_IO)
			outb((u16)a->reset_reg.address, a->reset_value);
		else if (a->reset_reg.address < 4 * GIB)
			*(volatile u8 *)phys_to_virt(a->reset_reg.address) = a->reset_value;
		reset_wait();
	}
	shell_print(sh, "reboot: reset control register (port 0xcf9 <- 0x6)");
	uart_drain();
	outb(PORT_RESET_CONTROL, RESET_CONTROL_HARD);
	reset_wait();
	shell_print(sh, "reboot: keyboard controller (port 0x64 <- 0xfe)");
	uart_drain();
	outb(PORT_KBC_COMMAND, KBC_PULSE_RESET);
	reset_wait();
	return shell_fail(sh, "the machine did not reset; it keeps running");
}

int cmd_guest(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	(void)argc;
	(void)argv;
	console_mux_to_guest();
	return SHELL_OK;
}
