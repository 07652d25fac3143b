/* SMP bring-up (SDM Vol. 3A, 9.4 "Multiple-processor initialization"): one AP
 * at a time, because they share the trampoline's parameter block. */
#include "kernel/smp.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/pages.h"
#include "kernel/mm/paging.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

#define CPU_STACK_SIZE (16 * 1024)
#define AP_START_TIMEOUT_US 1000000 /* generous: emulators are slow */
#define CROSS_CALL_TIMEOUT_US 1000000
/* The trampoline page: below 1 MiB (the SIPI vector is the page number) and
 * in memory the firmware reports usable. */
#define TRAMPOLINE_MIN 0x1000
#define TRAMPOLINE_MAX 0x9F000

extern char trampoline_start[], trampoline_end[];
extern char tr_gdtr[], tr_far32[], tr_far64[], tr_cr0[], tr_cr3[], tr_cr4[], tr_efer[];
extern char tr_stack[], tr_entry[], tr_arg[], tr_protected[], tr_long[], tr_gdt[];

static struct spinlock call_lock = SPINLOCK_INIT;
void (*smp_idle_hook)(void);

static struct percpu *percpu_alloc(u32 cpu_id, u32 apic_id, u32 uid)
{
	struct percpu *pc = kzalloc(sizeof(*pc));
	u8 *stack = pages_alloc(CPU_STACK_SIZE / PAGE_SIZE);

	if (!pc || !stack)
		panic("out of memory for cpu %u's per-CPU area", cpu_id);
	pc->cpu_id = cpu_id;
	pc->apic_id = apic_id;
	pc->acpi_uid = uid;
	pc->stack_base = (u64)stack;
	pc->stack_top = (u64)stack + CPU_STACK_SIZE;
	for (u32 i = 0; i < IST_COUNT; i++) {
		u8 *ist = pages_alloc(IST_STACK_SIZE / PAGE_SIZE);
		if (!ist)
			panic("out of memory for cpu %u's IST stacks", cpu_id);
		pc->ist_base[i] = (u64)ist;
	}
	percpu_table[cpu_id] = pc;
	return pc;
}

static void cross_call_interrupt(struct trap_frame *frame)
{
	struct percpu *pc = this_cpu();
	(void)frame;

	if (__atomic_load_n(&pc->call.pending, __ATOMIC_ACQUIRE)) {
		pc->call.fn(pc->call.arg);
		__atomic_store_n(&pc->call.pending, 0, __ATOMIC_RELEASE);
	}
	lapic_eoi();
}

/* Until the heap exists the boot CPU runs on the boot stack with a static area;
 * the boot stack is in .bss and recorded so stack traces can walk it. */
static struct percpu bsp_percpu;
static u8 bsp_ist_stacks[IST_COUNT][IST_STACK_SIZE] __aligned(16);
extern char boot_stack[], boot_stack_top[];

void smp_init_bsp(u32 apic_id)
{
	struct percpu *pc = &bsp_percpu;

	pc->cpu_id = 0;
	pc->apic_id = apic_id;
	pc->stack_base = (u64)boot_stack;
	pc->stack_top = (u64)boot_stack_top;
	for (u32 i = 0; i < IST_COUNT; i++)
		pc->ist_base[i] = (u64)bsp_ist_stacks[i];
	pc->online = 1;
	percpu_table[0] = pc;
	percpu_install(pc);
	cpus_online = 1;
	idt_init();
	desc_init_cpu(pc);
	trap_set_irq_handler(VEC_CROSS_CALL, cross_call_interrupt);
}

void ap_entry(struct percpu *pc);
void ap_entry(struct percpu *pc)
{
	percpu_install(pc);
	desc_init_cpu(pc);
	lapic_init_cpu();
	if (lapic_id() != pc->apic_id)
		printk(LOG_WARN, "smp: cpu %u reports apic id %u, MADT said %u\n", pc->cpu_id,
		       lapic_id(), pc->apic_id);
	__atomic_store_n(&pc->online, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cpus_online, 1, __ATOMIC_ACQ_REL);
	printk(LOG_INFO, "smp: cpu %u online (apic id %u)\n", pc->cpu_id, pc->apic_id);
	/* Idle until asked to do something; sti;hlt cannot lose a wake-up because
	 * interrupts are only recognised after the instruction following sti. */
	for (;;) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		void (*hook)(void) = __atomic_load_n(&smp_idle_hook, __ATOMIC_ACQUIRE);
		if (hook)
			hook();
	}
}

static u64 trampoline_pick_page(void)
{
	u32 n;
	const struct mem_region *map = pages_memmap(&n);

	for (u32 i = 0; i < n; i++) {
		if (map[i].type != MEM_USABLE)
			continue;
		u64 start = ALIGN_UP(MAX(map[i].base, (u64)TRAMPOLINE_MIN), PAGE_SIZE);
		u64 end = MIN(map[i].base + map[i].len, (u64)TRAMPOLINE_MAX);
		if (start + PAGE_SIZE <= end)
			return start;
	}
	return 0;
}

#define TR_OFFSET(sym) ((u64)(sym) - (u64)trampoline_start)

static void trampoline_write32(u8 *page, const char *field, u32 value)
{
	memcpy(page + TR_OFFSET(field), &value, sizeof(value));
}

static void trampoline_write64(u8 *page, const char *field, u64 value)
{
	memcpy(page + TR_OFFSET(field), &value, sizeof(value));
}

static u8 *trampoline_install(u64 page_phys)
{
	u8 *page = phys_to_virt(page_phys);
	u64 size = (u64)(trampoline_end - trampoline_start);

	BUG_ON(size > PAGE_SIZE);
	memcpy(page, trampoline_start, size);
	trampoline_write32(page, tr_gdtr + 2, (u32)(page_phys + TR_OFFSET(tr_gdt)));
	trampoline_write32(page, tr_far32, (u32)(page_phys + TR_OFFSET(tr_protected)));
	trampoline_write32(page, tr_far64, (u32)(page_phys + TR_OFFSET(tr_long)));
	/* The APs get exactly the boot CPU's paging setup. */
	trampoline_write32(page, tr_cr0, (u32)read_cr0());
	trampoline_write32(page, tr_cr3, (u32)paging_root());
	trampoline_write32(page, tr_cr4, (u32)read_cr4());
	trampoline_write32(page, tr_efer, (u32)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE | EFER_SCE)));
	trampoline_write64(page, tr_entry, (u64)ap_entry);
	return page;
}

static bool start_ap(u8 *tramp, u64 tramp_phys, struct percpu *pc)
{
	trampoline_write64(tramp, tr_stack, pc->stack_top);
	trampoline_write64(tramp, tr_arg, (u64)pc);

	lapic_send_init(pc->apic_id);
	udelay(10000);
	for (int sipi = 0; sipi < 2; sipi++) {
		lapic_send_startup(pc->apic_id, (u8)(tramp_phys >> PAGE_SHIFT));
		u64 deadline = tsc_deadline_us(sipi == 0 ? 200 : AP_START_TIMEOUT_US);
		while (!tsc_passed(deadline)) {
			if (__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE))
				return true;
			cpu_relax();
		}
	}
	return __atomic_load_n(&pc->online, __ATOMIC_ACQUIRE);
}

u32 smp_boot_aps(const struct acpi_info *acpi, u32 maxcpus)
{
	u32 bsp_apic = lapic_id();
	u64 tramp_phys = trampoline_pick_page();
	u32 next_id = 1;

	BUG_ON(paging_root() >= BELOW_4G);
	if (!tramp_phys) {
		printk(LOG_ERR, "smp: no usable page below 1 MiB for the AP trampoline\n");
		return cpus_online;
	}
	u8 *tramp = trampoline_install(tramp_phys);

	for (u32 i = 0; i < acpi->cpu_count; i++) {
		const struct acpi_cpu *c = &acpi->cpus[i];
		if (!c->enabled || c->apic_id == bsp_apic)
			continue;
		if (next_id >= maxcpus) {
			printk(LOG_INFO, "smp: maxcpus=%u reached; apic id %u stays parked\n", maxcpus,
			       c->apic_id);
			continue;
		}
		if (!lapic_is_x2apic() && c->apic_id > 0xFE) {
			printk(LOG_WARN, "smp: apic id %u needs x2APIC; not started\n", c->apic_id);
			continue;
		}
		struct percpu *pc = percpu_alloc(next_id, c->apic_id, c->uid);
		if (!start_ap(tramp, tramp_phys, pc)) {
			printk(LOG_ERR, "smp: cpu with apic id %u did not come up\n", c->apic_id);
			percpu_table[next_id] = NULL;
			continue;
		}
		next_id++;
	}
	/* The page goes back to the real-mode area that guests will own. */
	memset(tramp, 0, PAGE_SIZE);
	return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

int smp_call_on(u32 cpu, smp_call_fn fn, void *arg)
{
	struct percpu *target = cpu < HV_MAX_CPUS ? percpu_table[cpu] : NULL;

	if (!target || !target->online)
		return -1;
	if (target == this_cpu()) {
		fn(arg);
		return 0;
	}
	spin_lock(&call_lock);
	target->call.fn = fn;
	target->call.arg = arg;
	__atomic_store_n(&target->call.pending, 1, __ATOMIC_RELEASE);
	lapic_send_fixed(target->apic_id, VEC_CROSS_CALL);
	u64 deadline = tsc_deadline_us(CROSS_CALL_TIMEOUT_US);
	int result = 0;
	while (__atomic_load_n(&target->call.pending, __ATOMIC_ACQUIRE)) {
		if (tsc_passed(deadline)) {
			/* Leave the slot pending; the call may still run later. */
			result = -1;
			break;
		}
		cpu_relax();
	}
	spin_unlock(&call_lock);
	return result;
}

struct selftest_report {
	u32 apic_id;
	u32 cpu_id;
};

static void selftest_on_cpu(void *arg)
{
	struct selftest_report *r = arg;
	r->apic_id = lapic_id();
	r->cpu_id = this_cpu_id();
}

u32 smp_selftest(void)
{
	u32 ok = 0;

	for (u32 cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		struct percpu *pc = percpu_table[cpu];
		struct selftest_report r = {0xFFFFFFFFu, 0xFFFFFFFFu};
		if (!pc || !pc->online)
			continue;
		if (smp_call_on(cpu, selftest_on_cpu, &r) != 0) {
			printk(LOG_ERR, "smp: cpu %u did not answer a cross-call\n", cpu);
			continue;
		}
		if (r.cpu_id != cpu || r.apic_id != pc->apic_id) {
			printk(LOG_ERR, "smp: cross-call to cpu %u ran on cpu %u (apic %u)\n", cpu,
			       r.cpu_id, r.apic_id);
			continue;
		}
		ok++;
	}
	return ok;
}
