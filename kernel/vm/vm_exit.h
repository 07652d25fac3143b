/* The vendor-neutral VM exit.  A backend decodes its hardware exit (VMCB exit
 * code, VMCS exit reason) into this structure; the core's dispatch table calls
 * one handler per reason.  Handlers never see VMCB or VMCS fields. */
#ifndef HV_KERNEL_VM_VM_EXIT_H
#define HV_KERNEL_VM_VM_EXIT_H

#include "kernel/types.h"

#define VM_EXIT_REASONS(X)                                                        \
	X(NONE, "none")                                                           \
	X(CPUID, "cpuid")                                                         \
	X(MSR_READ, "rdmsr")                                                      \
	X(MSR_WRITE, "wrmsr")                                                     \
	X(IO, "io")                                                               \
	X(SLAT_VIOLATION, "slat-violation")                                       \
	X(SLAT_MISCONFIG, "slat-misconfig")                                       \
	X(HYPERCALL, "hypercall")                                                 \
	X(HLT, "hlt")                                                             \
	X(EXCEPTION, "exception")                                                 \
	X(EXTERNAL_INTERRUPT, "external-interrupt")                              \
	X(NMI, "nmi")                                                             \
	X(INIT, "init")                                                           \
	X(SIPI, "sipi")                                                           \
	X(TRIPLE_FAULT, "triple-fault")                                           \
	X(INVALID_STATE, "invalid-guest-state")                                   \
	X(VIRT_INSN, "virtualization-instruction")                                \
	X(INTERRUPT_WINDOW, "interrupt-window")                                   \
	X(NMI_WINDOW, "nmi-window")                                               \
	X(CR_ACCESS, "cr-access")                                                 \
	X(XSETBV, "xsetbv")                                                       \
	X(INVD, "invd")                                                           \
	X(INVLPG, "invlpg")                                                       \
	X(PAUSE, "pause")                                                         \
	X(MONITOR_MWAIT, "monitor-mwait")                                         \
	X(PREEMPTION_TIMER, "preemption-timer")                                   \
	X(UNHANDLED, "unhandled")

enum vm_exit_reason {
#define VM_EXIT_ENUM(name, text) VM_EXIT_##name,
	VM_EXIT_REASONS(VM_EXIT_ENUM)
#undef VM_EXIT_ENUM
	VM_EXIT_REASON_COUNT
};

const char *vm_exit_reason_name(enum vm_exit_reason r);

/* Access kinds of a SLAT violation. */
#define SLAT_ACCESS_READ (1u << 0)
#define SLAT_ACCESS_WRITE (1u << 1)
#define SLAT_ACCESS_EXEC (1u << 2)
#define SLAT_ACCESS_USER (1u << 3)

struct vm_exit {
	enum vm_exit_reason reason;
	u64 hw_reason;     /* backend's own code, for logs */
	u64 qualification; /* backend's raw qualification, for logs */
	u64 qualification2;
	/* Length of the exiting instruction when the hardware told us (VMX always,
	 * SVM with next-RIP save); 0 means the core must decode it. */
	u8 insn_len;
	/* Instruction bytes the hardware fetched (SVM decode assists); 0 if none. */
	u8 insn_bytes_len;
	u8 insn_bytes[15];
	union {
		struct {
			u16 port;
			u8 size; /* 1, 2 or 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u32 index;
		} msr;
		struct {
			u64 gpa;
			u64 gva;
			bool gva_valid;
			u32 access; /* SLAT_ACCESS_* */
			bool present; /* a translation existed: a permission violation */
		} slat;
		struct {
			u8 vector;
			bool has_error_code;
			u32 error_code;
		} exception;
		struct {
			u8 cr;
			bool write;
		} cr;
		struct {
			u8 vector; /* SIPI: start page */
		} sipi;
		struct {
			/* Filled by the handler (hyperv/hv_hypercalls.c), which
			 * knows the calling convention: RCX or EAX. */
			u16 code;
		} hypercall;
	};
};

#endif
