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
bool guest_pic_claims(u16 port);
void guest_pic_io(u16 port, bool in, u32 *value);

#endif
