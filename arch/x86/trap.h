/* Interrupt and exception entry. */
#ifndef HV_ARCH_X86_TRAP_H
#define HV_ARCH_X86_TRAP_H

#include "kernel/types.h"

/* Saved by arch/x86/trap_entry.S; field order mirrors the push order. */
struct trap_frame {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;
};

#define VEC_DIVIDE_ERROR 0
#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14
#define VEC_MACHINE_CHECK 18
#define VEC_FIRST_IRQ 32

/* Vectors the hypervisor uses for itself. */
#define VEC_HOST_TIMER 0xE0    /* the per-CPU one-shot timer (kernel/host_timer.h) */
#define VEC_CROSS_CALL 0xF0
#define VEC_VP_KICK 0xF1       /* makes a VP leave the guest to see a request */
#define VEC_SPURIOUS 0xFF

typedef void (*irq_handler_fn)(struct trap_frame *frame);

void trap_set_irq_handler(u8 vector, irq_handler_fn fn);
const char *trap_vector_name(u64 vector);

void trap_dispatch(struct trap_frame *frame);
extern const u64 trap_stub_table[256];

#endif
