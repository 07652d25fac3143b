/* Integer ALU semantics for the instruction emulator: results and RFLAGS as
 * the CPU computes them (SDM Vol. 1, 3.4.3 and each instruction's page).
 * Pure logic, checked against the host CPU in tests/unit/test_x86_alu.c. */
#ifndef HV_KERNEL_VM_X86_ALU_H
#define HV_KERNEL_VM_X86_ALU_H

#include "kernel/types.h"

#define X86_FLAG_CF (1ULL << 0)
#define X86_FLAG_PF (1ULL << 2)
#define X86_FLAG_AF (1ULL << 4)
#define X86_FLAG_ZF (1ULL << 6)
#define X86_FLAG_SF (1ULL << 7)
#define X86_FLAG_DF (1ULL << 10)
#define X86_FLAG_OF (1ULL << 11)
#define X86_FLAGS_ARITH (X86_FLAG_CF | X86_FLAG_PF | X86_FLAG_AF | X86_FLAG_ZF | X86_FLAG_SF | X86_FLAG_OF)

/* op is enum x86_alu (ADD OR ADC SBB AND SUB XOR CMP); size 1, 2, 4 or 8.
 * Returns the result (CMP: the difference, which callers discard) and
 * updates the six arithmetic flags in *rflags.  AF after a logical operation
 * is architecturally undefined; this returns it cleared. */
u64 x86_alu(unsigned op, u64 a, u64 b, unsigned size, u64 *rflags);
/* TEST: AND without a result. */
void x86_test(u64 a, u64 b, unsigned size, u64 *rflags);
/* Truncates to size bytes. */
u64 x86_truncate(u64 v, unsigned size);
/* Sign-extends the low size bytes. */
u64 x86_sign_extend(u64 v, unsigned size);

#endif
