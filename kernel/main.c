/* Boot order.  Each step only uses what the steps before it set up; the order
 * is the documentation of the dependencies (docs/architecture.md). */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/emu_exit.h"
#include "arch/x86/lapic.h"
#include "arch/x86/pic.h"
#include "arch/x86/tsc.h"
#include "kernel/boot_info.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pages.h"
#include "kernel/mm/paging.h"
#include "kernel/multiboot2.h"
#include "kernel/host_timer.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/pvh.h"
#include "kernel/shell/console_mux.h"
#include "kernel/shell/shell_main.h"
#include "kernel/smp.h"
#include "kernel/uart16550.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vm_create.h"
#include "kernel/vm/vp_ctl.h"
#include "kernel/mm/heap.h"

u64 image_load_phys = IMAGE_LINK_PHYS;

static struct boot_info boot_info;
static struct acpi_info acpi;

/* Physical memory through the identity map, refusing what it does not cover. */
static bool identity_read(void *ctx, u64 pa, void *buf, size_t len)
{
	u64 limit = paging_identity_limit();
	u64 lowest = PAGE_SIZE; /* page 0 is unmapped in the host page tables */
	(void)ctx;
	if (limit == 0) {
		/* Still on the boot stub's tables: 4 GiB, page 0 included (QEMU puts
		 * the PVH memory map there). */
		limit = 4 * GIB;
		lowest = 0;
	}
	if (pa < lowest || pa >= limit || len > limit - pa)
		return false;
	memcpy(buf, phys_to_virt(pa), len);
	return true;
}

static const struct phys_reader identity_reader = {identity_read, NULL};

static void parse_boot_info(u32 magic, u64 info_phys)
{
	int rc;

	if (magic == MB2_BOOTLOADER_MAGIC)
		rc = mb2_parse(phys_to_virt(info_phys), info_phys, &boot_info);
	else
		rc = pvh_parse(&identity_reader, info_phys, &boot_info);
	if (rc < 0)
		panic("the boot loader's information block at %llx is unusable",
		      (unsigned long long)info_phys);
	if (!boot_info.loader_name[0])
		strlcpy(boot_info.loader_name, magic == MB2_BOOTLOADER_MAGIC ? "multiboot2" : "PVH",
			sizeof(boot_info.loader_name));
}

static void acpi_init(void)
{
	u64 rsdp = boot_info.rsdp_phys;

	if (!rsdp && !boot_info.rsdp_len && acpi_find_rsdp(&identity_reader, &rsdp) < 0)
		panic("no ACPI RSDP: the hypervisor needs the MADT to find the CPUs");
	if (acpi_parse(&identity_reader, rsdp, boot_info.rsdp_len ? boot_info.rsdp : NULL,
		       boot_info.rsdp_len, &acpi) < 0)
		panic("the ACPI tables are unusable");
	acpi_log_summary(&acpi);
	if (!acpi.has_madt)
		panic("no MADT: cannot enumerate CPUs");
}

static __attribute__((noinline)) void debug_fault(int kind)
{
	/* Through volatile pointers so the compiler emits the faulting access
	 * instead of reasoning about undefined behaviour. */
	static volatile u64 zero;
	volatile u64 *unmapped = (volatile u64 *)(zero + 0x10);

	printk(LOG_INFO, "hv: debug_fault: taking a deliberate exception now\n");
	switch (kind) {
	case DEBUG_FAULT_PF:
		*unmapped = 0xdead;
		break;
	case DEBUG_FAULT_UD:
		__asm__ volatile("ud2");
		break;
	case DEBUG_FAULT_GP:
		wrmsr(0xFFFFFFFF, 0); /* no such MSR */
		break;
	case DEBUG_FAULT_DE:
		__asm__ volatile("divq %2" ::"a"(1ULL), "d"(0ULL), "r"(zero) : "cc");
		break;
	}
	panic("debug_fault %d returned", kind);
}

/* debug_fault_late: the last CPU takes the fault in its timer interrupt a
 * while after the guest started, so the crash dump has a running VP to show.
 * "A while" is both some time and some guest exits: in emulators guest
 * progress per millisecond varies a thousandfold. */
#define LATE_FAULT_DELAY_US 50000
#define LATE_FAULT_POLL_US 1000
#define LATE_FAULT_MIN_EXITS 64

static void late_fault_tick(void)
{
	if (!the_vm.vp_count ||
	    __atomic_load_n(&the_vm.vps[0]->exits, __ATOMIC_RELAXED) >= LATE_FAULT_MIN_EXITS)
		debug_fault(hv_options.debug_fault);
	host_timer_set(HOST_TIMER_DEBUG, tsc_deadline_us(LATE_FAULT_POLL_US), late_fault_tick);
}

static void late_fault_arm_here(void *arg)
{
	(void)arg;
	if (host_timer_init_cpu())
		host_timer_set(HOST_TIMER_DEBUG, tsc_deadline_us(LATE_FAULT_DELAY_US), late_fault_tick);
}

static void arm_late_fault(void)
{
	u32 late_cpu = 0;

	for (u32 cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		if (percpu_table[cpu] && percpu_table[cpu]->online)
			late_cpu = cpu;
	}
	printk(LOG_INFO, "hv: debug_fault_late: cpu %u takes the fault in %u ms\n", late_cpu,
	       LATE_FAULT_DELAY_US / 1000);
	if (smp_call_on(late_cpu, late_fault_arm_here, NULL) < 0)
		printk(LOG_WARN, "hv: debug_fault_late: cpu %u did not answer\n", late_cpu);
}

/* `trace` on the command line: every VP records its exits from the start. */
static void trace_at_boot(void)
{
	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *vp = the_vm.vps[i];
		struct trace_rec *recs = kzalloc(sizeof(*recs) * TRACE_RING_SIZE);
		if (!recs) {
			printk(LOG_WARN, "hv: no memory for vp%u's exit trace\n", i);
			continue;
		}
		trace_ring_init(&vp->trace, recs, TRACE_RING_SIZE);
		vp->trace_on = true;
	}
	printk(LOG_INFO, "hv: exit trace on (%u exits per VP)\n", TRACE_RING_SIZE);
}

void kernel_entry(u32 magic, u64 info_phys, u64 load_delta);
void kernel_entry(u32 magic, u64 info_phys, u64 load_delta)
{
	tsc_at_entry = rdtsc();
	image_load_phys = IMAGE_LINK_PHYS + load_delta;

	cpu_features_detect();
	/* Firmware may leave the caches off (Bochs's BIOS leaves CD=NW=1); and
	 * CR4.OSXSAVE lets the hypervisor complete a guest's XSETBV.  The APs
	 * copy both from here through the trampoline. */
	write_cr0(read_cr0() & ~(CR0_CD | CR0_NW));
	if (cpu_features.xsave)
		write_cr4(read_cr4() | CR4_OSXSAVE);
	smp_init_bsp(0);
	console_init(COM1_PORT, 115200);
	printk_plain("\n");
	printk(LOG_INFO, "hv: booting hypervisor %s (%s entry, image at %llx)\n", HV_VERSION,
	       magic == MB2_BOOTLOADER_MAGIC ? "multiboot2" : "PVH",
	       (unsigned long long)image_load_phys);

	parse_boot_info(magic, info_phys);
	int problems = options_parse(boot_info.cmdline);
	console_loglevel = hv_options.loglevel;
	if (options_console_port() != COM1_PORT || hv_options.baud != 115200) {
		printk(LOG_INFO, "hv: console moves to port %x at %llu baud\n",
		       options_console_port(), (unsigned long long)hv_options.baud);
		console_init(options_console_port(), (u32)hv_options.baud);
	}
	printk(LOG_INFO, "hv: loader '%s', command line '%s'\n", boot_info.loader_name,
	       boot_info.cmdline);
	if (problems) {
		printk(LOG_WARN, "hv: %d command-line problem(s); known options:\n", problems);
		options_log_help();
	}
	printk(LOG_INFO, "cpu: %s, %s, family %x model %x stepping %x, %u-bit physical\n",
	       cpu_features.vendor, cpu_features.brand[0] ? cpu_features.brand : "(no brand)",
	       cpu_features.family, cpu_features.model, cpu_features.stepping,
	       cpu_features.phys_addr_bits);

	pic_disable();
	pages_init(&boot_info, hv_options.hv_mem);
	paging_init();
	acpi_init();
	lapic_init_bsp(hv_options.x2apic);
	this_cpu()->apic_id = lapic_id();
	tsc_init(acpi.pm_timer_port, acpi.pm_timer_32bit);

	u32 cpus = smp_boot_aps(&acpi, (u32)hv_options.maxcpus);
	u32 answered = smp_selftest();
	if (answered != cpus)
		panic("only %u of %u CPUs answered the cross-call self-test", answered, cpus);
	printk(LOG_INFO, "smp: %u CPU(s) online, cross-call round trip ok on all\n", cpus);

	bool late_fault = hv_options.debug_fault_late && cpus > 1;
	if (hv_options.debug_fault != DEBUG_FAULT_NONE && !late_fault)
		debug_fault(hv_options.debug_fault);

	bool have_vm = vm_create(&acpi, &boot_info);
	if (have_vm && hv_options.trace)
		trace_at_boot();
	shell_set_acpi(&acpi);
	console_mux_init(hv_options.shell, (u8)hv_options.escape, (u8)hv_options.escape_count);

	u64 tsc_ready = rdtsc();
	printk(LOG_INFO, "hv: boot tsc_at_entry=%llu tsc_at_ready=%llu\n",
	       (unsigned long long)tsc_at_entry, (unsigned long long)tsc_ready);
	printk_plain("hv: ready cpus=%u mem_free_mib=%llu virt=%s\n", cpus,
		     (unsigned long long)(pages_free_count() * PAGE_SIZE / MIB),
		     have_vm ? vm_backend->name : cpu_virt_name());
	if (hv_options.exit_when_ready)
		emu_exit(EMU_EXIT_READY);
	if (late_fault && hv_options.debug_fault != DEBUG_FAULT_NONE)
		arm_late_fault();

	if (have_vm) {
		vm_start_aps();
		vp_run_loop(the_vm.vps[0]);
	}
	/* No guest: the boot CPU idles like the others, serving cross-calls
	 * (and the shell, when it is the only CPU). */
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		vp_ctl_idle();
	}
}
