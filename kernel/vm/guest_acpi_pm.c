/* The guest's ACPI sleep requests.  The PM1a control register stays the
 * machine's (the guest powers the machine off itself), but the hypervisor
 * watches it: a write with SLP_EN (ACPI 6.5, 4.8.3.2.1) prints a summary of
 * the partition's exits first, so a serial log of a guest that shut down
 * says what the run cost. */
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "kernel/lib/format.h"
#include "arch/x86/tsc.h"
#include "kernel/printk.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/exits.h"

#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN (1u << 13)

static u16 pm1a_cnt_port;

void guest_acpi_pm_setup(u16 port)
{
	pm1a_cnt_port = port;
}

void guest_acpi_pm_intercept(struct vp *vp)
{
	if (!pm1a_cnt_port)
		return;
	vm_backend->intercept_io(vp, pm1a_cnt_port, true);
	vm_backend->intercept_io(vp, (u16)(pm1a_cnt_port + 1), true);
}

bool guest_acpi_pm_claims(u16 port)
{
	return pm1a_cnt_port && (port == pm1a_cnt_port || port == pm1a_cnt_port + 1);
}

static void summary(u32 slp_typ)
{
	u64 total = 0;

	guest_uart_flush();
	printk(LOG_INFO, "hv: guest requests ACPI sleep (SLP_TYP %u); exits so far:\n", slp_typ);
	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *vp = the_vm.vps[i];
		char line[400];
		size_t len = 0;
		total += vp->exits;
		line[0] = 0;
		for (u32 r = 0; r < VM_EXIT_REASON_COUNT; r++) {
			if (vp->exits_by_reason[r] && len < sizeof(line))
				len += fmt_snprintf(line + len, sizeof(line) - len, " %s=%llu",
						    vm_exit_reason_name((enum vm_exit_reason)r),
						    (unsigned long long)vp->exits_by_reason[r]);
		}
		printk(LOG_INFO, "hv:   vp%u: %llu exits:%s\n", vp->index,
		       (unsigned long long)vp->exits, line);
	}
	printk(LOG_INFO, "hv:   all VPs: %llu exits\n", (unsigned long long)total);
}

/* The whole access, as the guest made it: the register is 16 bits wide and
 * the device may not take it in bytes. */
void guest_acpi_pm_io(u16 port, u8 size, bool in, u32 *value)
{
	if (in) {
		*value = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
		return;
	}
	/* SLP_EN is bit 13: in the high byte of a byte write to port + 1. */
	u32 cnt = port == pm1a_cnt_port ? *value : *value << 8;
	if (size > 1 || port != pm1a_cnt_port) {
		if (cnt & PM1_CNT_SLP_EN)
			summary((cnt >> PM1_CNT_SLP_TYP_SHIFT) & 7);
	}
	if (size == 1)
		outb(port, (u8)*value);
	else if (size == 2)
		outw(port, (u16)*value);
	else
		outl(port, *value);
}
