/* Partition creation: pick the backend, enable it on every CPU, build the
 * guest's memory map and SLAT view, create one VP per CPU and load the guest. */
#include "kernel/vm/vm.h"
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "hyperv/hv_partition.h"
#include "hyperv/hv_ports.h"
#include "kernel/layout.h"
#include "kernel/mm/frame_alloc.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/pages.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/options.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/gpa_view.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/loader.h"
#include "kernel/vm/vm_create.h"
#include "kernel/vm/vioapic_host.h"
#include "kernel/vm/vp_apic.h"
#include "kernel/vm/vp_ctl.h"
#include "kernel/vm/vp_flush.h"

struct vm the_vm;
static struct gpa_view vtl0_view;

/* SLAT tables come from the hypervisor's pool.  Freed tables may still sit in
 * other CPUs' paging-structure caches until the flush that follows, so they
 * are parked here and released by vm_slat_flushed(). */
#define DEFERRED_TABLES 64
static u64 deferred_tables[DEFERRED_TABLES];
static u32 deferred_count;
/* How long vm_view_changed waits for the VPs before it keeps the tables. */
#define VIEW_FLUSH_WAIT_US 20000

static u64 slat_alloc_table(void *ctx)
{
	(void)ctx;
	return pages_alloc_phys(1, 0);
}

static void slat_free_table(void *ctx, u64 pa)
{
	(void)ctx;
	if (deferred_count == DEFERRED_TABLES) {
		/* Better to leak a page than to hand out one a walker may still use. */
		printk(LOG_WARN, "slat: deferred-free list full; leaking table %llx\n",
		       (unsigned long long)pa);
		return;
	}
	deferred_tables[deferred_count++] = pa;
}

static u64 *slat_table_ptr(void *ctx, u64 pa)
{
	(void)ctx;
	return phys_to_virt(pa);
}

void vm_slat_flushed(void)
{
	while (deferred_count)
		pages_free(phys_to_virt(deferred_tables[--deferred_count]), 1);
}

void vm_view_changed(struct vp *self)
{
	struct vp_mask all = {0};

	for (u32 i = 0; i < the_vm.vp_count; i++) {
		__atomic_store_n(&the_vm.vps[i]->flush_pending, true, __ATOMIC_RELEASE);
		vp_mask_set(&all, i);
	}
	if (!deferred_count)
		return;
	/* Tables the change retired may sit in other CPUs' paging-structure
	 * caches until they flush: free them once every VP has passed an entry
	 * boundary (its flush_pending is served there) or is out of guest
	 * mode (it serves it before it enters).  A VP that does not leave
	 * guest mode in time keeps them parked for the next change. */
	if (vp_flush_vps(self, &all, NULL, VIEW_FLUSH_WAIT_US))
		vm_slat_flushed();
}

static const struct slat_mem slat_mem = {
	.alloc_table = slat_alloc_table,
	.free_table = slat_free_table,
	.table_ptr = slat_table_ptr,
};

static void slat_must(int rc, const char *what, u64 base, u64 len)
{
	if (rc < 0)
		panic("slat: %s %llx+%llx failed (%d)", what, (unsigned long long)base,
		      (unsigned long long)len, rc);
}

/* Pages of interrupt controllers the guest must not reach (not virtualised
 * yet): the LAPIC and every IOAPIC. */
#define CONTROLLER_PAGES_MAX 17
static u64 controller_pages[CONTROLLER_PAGES_MAX];
static u32 controller_page_count;

static bool is_controller_page(u64 page)
{
	for (u32 i = 0; i < controller_page_count; i++) {
		if (controller_pages[i] == page)
			return true;
	}
	return false;
}

/* The page held a 4 KiB overlay, so its table exists and putting the identity
 * mapping back allocates nothing: a failure is our bug, and ignoring it would
 * leave the guest a hypervisor frame at the old address. */
void vm_view_restore_page(struct gpa_view *view, u64 gpa)
{
	u64 page = ALIGN_DOWN(gpa, PAGE_SIZE);
	int rc;

	if (guest_mem_is_ram(&the_vm, page, PAGE_SIZE))
		rc = gpa_view_map(view, page, page, PAGE_SIZE, GPA_PERM_RWX, GPA_MT_WB);
	else if (page < 4 * GIB && !guest_mem_is_hv(page) && !is_controller_page(page))
		rc = gpa_view_map(view, page, page, PAGE_SIZE, GPA_PERM_RWX, GPA_MT_UC);
	else
		rc = gpa_view_unmap(view, page, PAGE_SIZE);
	slat_must(rc, "restore", page, PAGE_SIZE);
}

/* Identity map: devices below 4 GiB uncached, guest RAM write-back, the
 * hypervisor's frames and the interrupt controllers (not virtualised yet: a
 * guest that could program them could send INIT to our CPUs) not mapped. */
static void build_vtl0_view(struct vm *vm, const struct acpi_info *acpi)
{
	u32 flags = cpu_features.pdpe1gb ? 0 : GPA_VIEW_NO_1G;
	u32 nhv;
	const struct frame_range *hv = pages_hv_ranges(&nhv);

	if (gpa_view_init(&vtl0_view, vm_backend->slat_format(), flags, &slat_mem) < 0)
		panic("slat: cannot create the guest-physical view");
	slat_must(gpa_view_map(&vtl0_view, 0, 0, 4 * GIB, GPA_PERM_RWX, GPA_MT_UC), "map", 0,
		  4 * GIB);
	for (u32 i = 0; i < vm->mem_count; i++) {
		const struct guest_mem_region *r = &vm->mem[i];
		/* Partial pages at the edges (e.g. RAM ending at 0x9FC00) keep the
		 * uncached mapping of the page they share with a device range. */
		u64 base = ALIGN_UP(r->base, PAGE_SIZE);
		u64 end = ALIGN_DOWN(r->base + r->len, PAGE_SIZE);
		if (end > base && guest_mem_is_ram(vm, r->base, r->len))
			slat_must(gpa_view_map(&vtl0_view, base, base, end - base, GPA_PERM_RWX,
					       GPA_MT_WB),
				  "map RAM", base, end - base);
	}
	for (u32 i = 0; i < nhv; i++) {
		u64 base = ALIGN_DOWN(hv[i].base, PAGE_SIZE);
		u64 end = ALIGN_UP(hv[i].end, PAGE_SIZE);
		slat_must(gpa_view_unmap(&vtl0_view, base, end - base), "unmap", base, end - base);
	}
	controller_pages[controller_page_count++] = lapic_mmio_base();
	for (u32 i = 0; i < acpi->ioapic_count && controller_page_count < CONTROLLER_PAGES_MAX; i++)
		controller_pages[controller_page_count++] = ALIGN_DOWN(acpi->ioapics[i].address, PAGE_SIZE);
	for (u32 i = 0; i < controller_page_count; i++)
		slat_must(gpa_view_unmap(&vtl0_view, controller_pages[i], PAGE_SIZE),
			  "unmap interrupt controller", controller_pages[i], PAGE_SIZE);
	vm_slat_flushed(); /* nothing has run on this view yet */
}

static void enable_on_cpu(void *arg)
{
	int *failures = arg;
	if (vm_backend->cpu_enable() < 0)
		__atomic_fetch_add(failures, 1, __ATOMIC_RELAXED);
}

struct bank_create_req {
	struct vp *vp;
	int rc;
};

/* Hardware contexts are made on their own CPU: a VMCS must be loaded there. */
static void create_bank_on_cpu(void *arg)
{
	struct bank_create_req *req = arg;
	struct vp *vp = req->vp;
	struct vtl_bank *bank = vp->vtl[0];

	req->rc = vm_backend->bank_create(vp, bank);
	if (req->rc < 0)
		return;
	if (!vp_apic_create(vp, bank)) {
		req->rc = -1;
		return;
	}
	vm_backend->bank_set_slat_root(vp, bank, gpa_view_root(bank->view));
	msr_policy_apply(vp);
	for (u16 p = 0; p < 8; p++)
		vm_backend->intercept_io(vp, (u16)(uart_port_for_guest() + p), true);
	static const u16 pic_ports[] = {0x20, 0x21, 0xA0, 0xA1};
	for (u32 i = 0; i < ARRAY_SIZE(pic_ports); i++)
		vm_backend->intercept_io(vp, pic_ports[i], true);
	guest_acpi_pm_intercept(vp);
	this_cpu()->vp = vp;
}

static struct vp *vp_create(struct vm *vm, u32 cpu)
{
	struct percpu *pc = percpu_table[cpu];
	struct vp *vp = kzalloc(sizeof(*vp));
	struct vtl_bank *bank = kzalloc(sizeof(*bank));

	if (!vp || !bank)
		panic("out of memory for VP %u", cpu);
	vp->index = cpu;
	vp->cpu = cpu;
	vp->apic_id = pc->apic_id;
	vp->vm = vm;
	vp->apic_lock = (struct spinlock)SPINLOCK_INIT;
	/* The boot VP starts the guest; the others wait for its INIT-SIPI-SIPI
	 * as application processors do. */
	vp->state = cpu == 0 ? VP_RUNNING : VP_WAIT_FOR_SIPI;
	bank->vtl = 0;
	bank->view = &vtl0_view;
	vp->vtl[0] = bank;
	struct bank_create_req req = {vp, -1};
	if (smp_call_on(cpu, create_bank_on_cpu, &req) < 0 || req.rc < 0)
		panic("cannot create the hardware context of VP %u", cpu);
	return vp;
}

bool vm_create(const struct acpi_info *acpi, const struct boot_info *bi)
{
	struct vm *vm = &the_vm;
	char features[160];
	int failures = 0;

	vm_backend = vm_backend_select();
	if (!vm_backend) {
		printk(LOG_WARN, "vm: this CPU offers neither VMX nor SVM; no guest can run\n");
		return false;
	}
	for (u32 cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		if (percpu_table[cpu] && percpu_table[cpu]->online &&
		    smp_call_on(cpu, enable_on_cpu, &failures) < 0)
			failures++;
	}
	if (failures) {
		printk(LOG_ERR, "vm: %s could not be enabled on %d CPU(s)\n", vm_backend->name,
		       failures);
		vm_backend = NULL;
		return false;
	}
	vm_backend->describe(features, sizeof(features));
	printk(LOG_INFO, "vm: backend %s\n", features);

	guest_mem_build_map(vm);
	for (u32 i = 0; i < vm->mem_count; i++)
		printk(LOG_DEBUG, "vm: guest map %016llx-%016llx type %u\n",
		       (unsigned long long)vm->mem[i].base,
		       (unsigned long long)(vm->mem[i].base + vm->mem[i].len), vm->mem[i].type);
	build_vtl0_view(vm, acpi);
	guest_acpi_pm_setup(acpi->pm1a_cnt_port);

	for (u32 cpu = 0; cpu < HV_MAX_CPUS; cpu++) {
		if (percpu_table[cpu] && percpu_table[cpu]->online)
			vm->vps[vm->vp_count++] = vp_create(vm, cpu);
	}
	guest_uart_setup(vm->vps[0]);
	vioapic_host_init(acpi, uart_port_for_guest());
	guest_uart_set_irq_sink(vm_ioapic_set_uart_line);
	hv_partition_init(hv_options.hv_features);
	hv_ports_init(hv_options.hv_ports);

	/* The guest is the first module whose role word says what it is: a
	 * Linux bzImage, or a multiboot kernel. */
	const char *args = "";
	const struct boot_module *linux_mod = loader_find_module(bi, "linux", &args);
	const struct boot_module *mod = linux_mod;
	bool loaded = false;
	if (linux_mod) {
		loaded = linux_load(vm, vm->vps[0], bi, linux_mod, args);
	} else {
		mod = loader_find_module(bi, "multiboot", &args);
		if (mod)
			loaded = multiboot_load(vm, vm->vps[0], bi, mod, args);
	}
	if (!mod) {
		printk(LOG_INFO, "vm: no guest module (module2 ... linux|multiboot <args>); VPs stay idle\n");
		vm->vps[0]->state = VP_STOPPED;
	} else if (!loaded) {
		printk(LOG_ERR, "vm: the guest could not be loaded; VPs stay idle\n");
		vm->vps[0]->state = VP_STOPPED;
	}
	if (hv_options.debug_bad_guest_state) {
		/* Two impossible CR0 combinations, so that every entry check trips on
		 * one: SVM refuses NW without CD, VMX refuses PG without PE. */
		printk(LOG_WARN, "vm: debug_bad_guest_state: VP 0 gets CR0 = PG|NW|ET (no PE, no CD)\n");
		vp_set_reg(vm->vps[0], VP_CR0, CR0_PG | CR0_NW | CR0_ET);
	}
	printk(LOG_INFO, "vm: partition with %u VP(s), %u guest memory regions\n", vm->vp_count,
	       vm->mem_count);
	return true;
}

void vm_start_aps(void)
{
	__atomic_store_n(&the_vm.started, true, __ATOMIC_RELEASE);
	for (u32 i = 1; i < the_vm.vp_count; i++)
		vp_kick(the_vm.vps[i]);
}

void vm_enter_if_started(void)
{
	struct vp *vp = this_cpu()->vp;

	if (vp && __atomic_load_n(&the_vm.started, __ATOMIC_ACQUIRE) && !the_vm.stopped &&
	    !__atomic_load_n(&vp->in_loop, __ATOMIC_ACQUIRE))
		vp_run_loop(vp);
}
