/* Exit handlers: one per neutral exit reason, called from the dispatch table
 * in kernel/vm/vp_run.c. */
#ifndef HV_KERNEL_VM_EXITS_H
#define HV_KERNEL_VM_EXITS_H

#include "kernel/vm/vm.h"

enum exit_action {
	EXIT_RESUME,	/* enter the guest again */
	EXIT_HALT,	/* the VP waits (HLT) */
	EXIT_STOP,	/* the partition was stopped */
};

typedef enum exit_action (*exit_handler_fn)(struct vp *vp, struct vm_exit *exit);

/* Advances RIP past the exiting instruction, decoding it when the hardware
 * gave no length.  Stops the partition if the instruction cannot be read. */
enum exit_action exit_skip_instruction(struct vp *vp, struct vm_exit *exit);
/* Length of the instruction at the guest's CS:RIP, 0 if it cannot be decoded. */
u8 exit_instruction_length(struct vp *vp, const struct vm_exit *exit);

void cpuid_for_guest(struct vp *vp, u32 leaf, u32 subleaf, u32 out[4]);

enum exit_action exit_cpuid(struct vp *vp, struct vm_exit *exit);
enum exit_action exit_msr_read(struct vp *vp, struct vm_exit *exit);
enum exit_action exit_msr_write(struct vp *vp, struct vm_exit *exit);
enum exit_action exit_io(struct vp *vp, struct vm_exit *exit);
enum exit_action exit_slat_violation(struct vp *vp, struct vm_exit *exit);
enum exit_action exit_xsetbv(struct vp *vp, struct vm_exit *exit);
enum exit_action exit_invd(struct vp *vp, struct vm_exit *exit);

void msr_policy_apply(struct vp *vp);
void guest_uart_setup(struct vp *vp);
bool guest_uart_claims(u16 port);
void guest_uart_io(u16 port, bool in, u32 *value);
void guest_uart_flush(void);
/* The emulated UART's interrupt output (kernel/vm/guest_uart.c).  The sink
 * hears every change of the IRQ line's level, once per change.  It is called
 * with the UART's lock held and interrupts off, on any CPU, from VP exit
 * handlers and from the console CPU's timer interrupt (then with the console
 * multiplexer's receive lock held too); it must not call back into the UART
 * or console input.  Set once by the integrator; the sink hears the current
 * level at once if the line is up. */
void guest_uart_set_irq_sink(void (*sink)(bool asserted));
/* Console input was queued for the guest (kernel/shell/console_mux.c): the
 * UART takes it in and re-evaluates its interrupt line.  Any CPU, any
 * context; never waits for the UART's lock. */
void guest_uart_input_ready(void);
bool guest_pic_claims(u16 port);
void guest_acpi_pm_setup(u16 pm1a_cnt_port);
void guest_acpi_pm_intercept(struct vp *vp);
bool guest_acpi_pm_claims(u16 port);
void guest_acpi_pm_io(u16 port, u8 size, bool in, u32 *value);
void guest_pic_io(u16 port, bool in, u32 *value);

#endif
