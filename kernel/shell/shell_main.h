/* The hypervisor shell on the console CPU: prompt, line editing, the command
 * table.  console_mux calls these in thread context on the console CPU. */
#ifndef HV_KERNEL_SHELL_SHELL_MAIN_H
#define HV_KERNEL_SHELL_SHELL_MAIN_H

#include "arch/x86/acpi.h"
#include "kernel/types.h"

void shell_init(void);
/* The reset register for `reboot` (main.c keeps the ACPI tables). */
void shell_set_acpi(const struct acpi_info *acpi);
void shell_enter(void);	/* input now goes to the shell */
void shell_leave(void);	/* input goes to the guest again */
void shell_input(u8 c);	/* one byte typed at the shell */

#endif
