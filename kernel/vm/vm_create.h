/* Partition set-up, called once from the boot sequence. */
#ifndef HV_KERNEL_VM_VM_CREATE_H
#define HV_KERNEL_VM_VM_CREATE_H

#include "arch/x86/acpi.h"
#include "kernel/boot_info.h"

/* Returns false (after saying why) when this machine cannot run guests. */
bool vm_create(const struct acpi_info *acpi, const struct boot_info *bi);
/* Lets every application processor's CPU enter its VP loop (they wait
 * there for the guest's SIPI); called once the boot sequence is done. */
void vm_start_aps(void);
/* From a CPU's idle loop: enters this CPU's VP loop once started. */
void vm_enter_if_started(void);
/* Releases SLAT tables retired before the last TLB flush. */
void vm_slat_flushed(void);
/* The I/O port base of the UART that the guest shares with our console. */
u16 uart_port_for_guest(void);

#endif
