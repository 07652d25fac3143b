/*
 * CPU discovery from the ACPI MADT and AP start-up (smp.h).
 */
#include "smp.h"
#include "irq.h"
#include "lapic.h"

#define AP_STACK_SIZE 4096
#define EBDA_SEGMENT_PTR 0x40e
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000
#define MADT_LOCAL_APIC 0
#define MADT_LOCAL_X2APIC 9
#define MADT_ENABLED 1u
#define INIT_TO_SIPI_US 10000 /* SDM 9.4.4.1: 10 ms after INIT */
#define SIPI_TO_SIPI_US 200   /* and 200 us after each SIPI */
#define AP_CHECKIN_MS 200

struct acpi_header {
	char signature[4];
	u32 length;
	u8 revision, checksum;
	char oem_id[6], oem_table_id[8];
	u32 oem_revision, creator_id, creator_revision;
} __attribute__((packed));

struct mailbox {
	void (*volatile fn)(void *);
	void *volatile arg;
	volatile u32 calls_done;
};

int smp_cpu_count = 1;
u32 smp_apic_ids[SMP_MAX_CPUS];
volatile bool smp_cpu_online[SMP_MAX_CPUS];
static bool discovered;
static u32 trampoline_base;
static struct mailbox mailboxes[SMP_MAX_CPUS];
static u8 ap_stacks[SMP_MAX_CPUS][AP_STACK_SIZE] __attribute__((aligned(16)));
static volatile int ap_booting_cpu;

extern char smp_trampoline[], smp_trampoline_end[], smp_trampoline_gdtr[];
extern char gdt_ptr[];
u32 smp_ap_stack_top;
void smp_ap_main(void) __attribute__((noreturn));

/* ---- MADT ------------------------------------------------------------------------- */

static bool checksum_ok(const void *p, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum = (u8)(sum + ((const u8 *)p)[i]);
	return sum == 0;
}

static u32 rsdp_scan(u32 start, u32 end)
{
	for (u32 p = start; p + 20 <= end; p += 16)
		if (!memcmp((const void *)p, "RSD PTR ", 8) && checksum_ok((const void *)p, 20))
			return p;
	return 0;
}

/* A read from the BIOS data area; through asm because gcc takes a constant
 * pointer this close to 0 for a null dereference. */
static u16 low_read16(u32 addr)
{
	u16 v;
	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(addr));
	return v;
}

/* ACPI 5.2.5.1: the RSDP is in the first KiB of the EBDA or in E0000h-FFFFFh. */
static u32 rsdp_find(void)
{
	u32 ebda = (u32)low_read16(EBDA_SEGMENT_PTR) << 4;
	u32 p = 0;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		p = rsdp_scan(ebda, ebda + 1024);
	return p ? p : rsdp_scan(BIOS_AREA_START, BIOS_AREA_END);
}

static const struct acpi_header *madt_find(void)
{
	u32 rsdp = rsdp_find();
	if (!rsdp)
		return NULL;
	/* The RSDT (32-bit entries) is enough: the guests run below 4 GiB. */
	const struct acpi_header *rsdt = (const struct acpi_header *)*(const u32 *)(rsdp + 16);
	if (!rsdt || memcmp(rsdt->signature, "RSDT", 4))
		return NULL;
	const u32 *entry = (const u32 *)(rsdt + 1);
	u32 n = (rsdt->length - sizeof(*rsdt)) / 4;
	for (u32 i = 0; i < n; i++) {
		const struct acpi_header *t = (const struct acpi_header *)entry[i];
		if (t && !memcmp(t->signature, "APIC", 4))
			return t;
	}
	return NULL;
}

static void cpu_add(u32 apic_id)
{
	for (int i = 0; i < smp_cpu_count; i++)
		if (smp_apic_ids[i] == apic_id)
			return;
	if (smp_cpu_count < SMP_MAX_CPUS)
		smp_apic_ids[smp_cpu_count++] = apic_id;
}

bool smp_discover(void)
{
	static bool found;
	if (discovered)
		return found;
	discovered = true;
	u32 a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	smp_apic_ids[0] = b >> 24; /* the initial APIC ID of the BSP */
	smp_cpu_count = 1;
	smp_cpu_online[0] = true;
	const struct acpi_header *madt = madt_find();
	if (!madt)
		return false;
	found = true;
	/* Entries follow the header, the local APIC address and the flags (ACPI 5.2.12). */
	const u8 *p = (const u8 *)madt + sizeof(*madt) + 8, *end = (const u8 *)madt + madt->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		if (p[0] == MADT_LOCAL_APIC && p[1] >= 8 && (*(const u32 *)(p + 4) & MADT_ENABLED))
			cpu_add(p[3]);
		else if (p[0] == MADT_LOCAL_X2APIC && p[1] >= 16 &&
			 (*(const u32 *)(p + 8) & MADT_ENABLED))
			cpu_add(*(const u32 *)(p + 4));
		p += p[1];
	}
	return true;
}

/* ---- which CPU am I ---------------------------------------------------------------- */

int smp_this_cpu(void)
{
	u32 esp;
	__asm__ volatile("mov %%esp, %0" : "=r"(esp));
	u32 lo = (u32)ap_stacks;
	if (esp > lo && esp <= lo + sizeof(ap_stacks))
		return (int)((esp - lo - 1) / AP_STACK_SIZE);
	return 0;
}

/* ---- AP side ------------------------------------------------------------------------ */

void smp_ap_main(void)
{
	int cpu = ap_booting_cpu;
	irq_load();
	lapic_enter_xapic();
	struct mailbox *m = &mailboxes[cpu];
	smp_cpu_online[cpu] = true;
	irq_enable();
	for (;;) {
		void (*fn)(void *) = m->fn;
		if (fn) {
			fn(m->arg);
			m->fn = NULL;
			__asm__ volatile("" ::: "memory");
			m->calls_done++;
		}
		cpu_relax();
	}
}

/* ---- BSP side ------------------------------------------------------------------------ */

u32 smp_trampoline_base(void)
{
	return trampoline_base;
}

static bool start_one(int cpu)
{
	u32 id = smp_apic_ids[cpu];
	ap_booting_cpu = cpu;
	smp_ap_stack_top = (u32)ap_stacks[cpu] + AP_STACK_SIZE;
	__asm__ volatile("" ::: "memory");
	/* SDM 9.4.4.1: INIT, wait 10 ms, start-up, wait 200 us, start-up again (an AP
	 * that already runs ignores the second one). */
	lapic_send_ipi(id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
	tsc_delay_us(INIT_TO_SIPI_US);
	for (int i = 0; i < 2; i++) {
		lapic_send_ipi(id, ICR_STARTUP | (trampoline_base >> 12));
		tsc_delay_us(SIPI_TO_SIPI_US);
	}
	u64 deadline = tsc_after_us(AP_CHECKIN_MS * 1000ull);
	while (!smp_cpu_online[cpu] && !tsc_reached(deadline))
		cpu_relax();
	return smp_cpu_online[cpu];
}

int smp_start_aps(void)
{
	smp_discover();
	tsc_init();
	irq_init();
	if (!trampoline_base) {
		u32 size = (u32)(smp_trampoline_end - smp_trampoline);
		u32 base = low_memory_area();
		if (!base || size > 0x1000) {
			note("smp: no low memory for the AP trampoline");
			return 0;
		}
		memcpy((void *)base, smp_trampoline, size);
		memcpy((void *)(base + (u32)(smp_trampoline_gdtr - smp_trampoline)), gdt_ptr, 6);
		trampoline_base = base;
	}
	int started = 0;
	for (int cpu = 1; cpu < smp_cpu_count; cpu++) {
		if (smp_cpu_online[cpu] || start_one(cpu))
			started++;
		else
			note("smp: cpu %d (apic id %u) did not check in", cpu, smp_apic_ids[cpu]);
	}
	return started;
}

bool smp_call(int cpu, void (*fn)(void *), void *arg, u32 timeout_ms)
{
	if (cpu <= 0 || cpu >= smp_cpu_count || !smp_cpu_online[cpu])
		return false;
	struct mailbox *m = &mailboxes[cpu];
	u32 done = m->calls_done;
	m->arg = arg;
	__asm__ volatile("" ::: "memory");
	m->fn = fn;
	u64 deadline = tsc_after_us((u64)timeout_ms * 1000);
	while (m->calls_done == done) {
		if (tsc_reached(deadline))
			return false;
		cpu_relax();
	}
	return true;
}
