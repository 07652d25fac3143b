/* Canonical linear addresses (SDM vol. 3A 4.5.1; 4.5 for 5-level paging):
 * bits 63 down to width - 1 all equal.  Pure, so the host unit tests and the
 * hardware-free walker can use it too. */
#ifndef HV_ARCH_X86_CANONICAL_H
#define HV_ARCH_X86_CANONICAL_H

#include "kernel/types.h"

static inline bool x86_canonical(u64 la, unsigned width)
{
	u64 top = la >> (width - 1);
	return top == 0 || top == (~0ULL >> (width - 1));
}

#endif
