/* The guest's IOAPICs wired to the machine's; see vioapic_host.c. */
#ifndef HV_KERNEL_VM_VIOAPIC_HOST_H
#define HV_KERNEL_VM_VIOAPIC_HOST_H

#include "arch/x86/acpi.h"
#include "kernel/vm/exits.h"

/* Models every IOAPIC of the MADT, masks their physical pins, and installs
 * the host vectors; uart_port names the console UART the guest shares. */
void vioapic_host_init(const struct acpi_info *acpi, u16 uart_port);
/* A SLAT violation on an IOAPIC page: emulated here (false: not one). */
bool vioapic_host_mmio(struct vp *vp, struct vm_exit *exit, enum exit_action *action);
/* The emulated console UART's interrupt output (any CPU, any lock but ours). */
void vm_ioapic_set_uart_line(bool asserted);
/* Physical interrupts forwarded so far. */
u64 vioapic_host_forwarded(void);

#endif
