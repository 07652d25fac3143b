/* Instruction emulation for guest accesses the SLAT does not back: the
 * hypervisor's own frames and holes (reads all ones, writes dropped), and
 * later emulated devices.  The device side is a pair of callbacks. */
#ifndef HV_KERNEL_VM_EMULATE_H
#define HV_KERNEL_VM_EMULATE_H

#include "kernel/vm/exits.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/x86_decode.h"

struct mmio_ops {
	/* size is 1, 2, 4 or 8, or 1 to 7 for the part of an access that
	 * crosses a page; value is zero-extended on read. */
	void (*read)(void *ctx, u64 gpa, unsigned size, u64 *value);
	void (*write)(void *ctx, u64 gpa, unsigned size, u64 value);
	void *ctx;
};

enum emulate_result {
	EMULATE_DONE,	     /* RIP advanced */
	EMULATE_RETRY,	     /* partly done (REP budget), or an exception was injected */
	EMULATE_UNSUPPORTED, /* the instruction is not one we emulate */
	EMULATE_FETCH_FAILED,
};

/* CPU mode of the guest's current code segment, for the decoder. */
enum x86_cpu_mode vp_code_mode(struct vp *vp);
/* Reads and decodes the instruction at CS:RIP.  Returns the decoder status
 * (or X86_DECODE_TRUNCATED when the bytes could not be read). */
int vp_fetch_decode(struct vp *vp, const struct vm_exit *exit, struct x86_insn *insn);

/* Emulates the instruction at RIP, whose memory operand at mmio_gpa (the
 * faulting page) goes to ops. */
enum emulate_result emulate_mmio(struct vp *vp, const struct vm_exit *exit, u64 mmio_gpa,
				 const struct mmio_ops *ops, struct x86_insn *insn);

/* emulate_mmio for an exit handler: EXIT_RESUME when the instruction was
 * emulated (or an exception injected); otherwise stops the partition, naming
 * what the guest touched ("the APIC page", "unbacked memory"...). */
enum exit_action emulate_mmio_exit(struct vp *vp, const struct vm_exit *exit, u64 mmio_gpa,
				   const struct mmio_ops *ops, const char *what);

#endif
