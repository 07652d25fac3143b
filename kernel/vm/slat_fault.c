/* SLAT violations.  Platform policy: a guest access to memory nobody backs
 * (the hypervisor's own frames, holes in the physical map, controllers the
 * hypervisor keeps to itself) behaves like unbacked memory on a PC bus: reads
 * return all ones, writes are dropped.  Each such page is logged once. */
#include "hyperv/hv_partition.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vm/emulate.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/vioapic_host.h"
#include "kernel/vm/vp_apic.h"

#define LOGGED_PAGES 256

static struct {
	struct spinlock lock;
	u64 pages[LOGGED_PAGES];
	u32 count;
	bool full_reported;
} logged = {.lock = SPINLOCK_INIT};

/* True the first time a page is seen (and while there is room to remember). */
static bool first_touch(u64 page)
{
	bool first = true;
	spin_lock(&logged.lock);
	for (u32 i = 0; i < logged.count; i++) {
		if (logged.pages[i] == page) {
			first = false;
			break;
		}
	}
	if (first && logged.count < LOGGED_PAGES) {
		logged.pages[logged.count++] = page;
	} else if (first) {
		first = !logged.full_reported;
		logged.full_reported = true;
	}
	spin_unlock(&logged.lock);
	return first;
}

static void unbacked_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	(void)ctx;
	(void)gpa;
	*value = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

static void unbacked_write(void *ctx, u64 gpa, unsigned size, u64 value)
{
	(void)ctx;
	(void)gpa;
	(void)size;
	(void)value;
}

static const struct mmio_ops unbacked_ops = {unbacked_read, unbacked_write, NULL};

enum exit_action exit_slat_violation(struct vp *vp, struct vm_exit *exit)
{
	u64 gpa = exit->slat.gpa;
	u64 page = ALIGN_DOWN(gpa, PAGE_SIZE);
	enum exit_action action;

	if (vp_apic_mmio(vp, exit, &action) || vioapic_host_mmio(vp, exit, &action))
		return action;
	if (exit->slat.access & SLAT_ACCESS_EXEC)
		vm_stop(vp, "guest executed from memory it does not own", exit);
	/* Overlay pages are read+execute; a write is the guest's mistake (#GP, as
	 * Microsoft's hypervisor answers it). */
	if ((exit->slat.access & SLAT_ACCESS_WRITE) && hv_overlay_at(gpa)) {
		vp_inject_gp(vp);
		return EXIT_RESUME;
	}
	if (first_touch(page)) {
		const char *what = guest_mem_is_hv(gpa) ? "hypervisor memory" : "unbacked memory";
		if (logged.count == LOGGED_PAGES && logged.full_reported)
			printk(LOG_WARN, "vp%u: more unbacked pages touched; no longer logging each\n",
			       vp->index);
		else
			printk(LOG_WARN, "vp%u: guest %s %s at gpa %llx (rip %llx): reads all ones, writes dropped\n",
			       vp->index, exit->slat.access & SLAT_ACCESS_WRITE ? "write to" : "read from",
			       what, (unsigned long long)gpa, (unsigned long long)vp_get_reg(vp, VP_RIP));
	}
	return emulate_mmio_exit(vp, exit, gpa, &unbacked_ops, "unbacked memory");
}
