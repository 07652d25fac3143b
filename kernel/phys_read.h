/* Read access to physical memory for parsers that must not touch hardware.
 * The hypervisor passes a reader over its identity map; unit tests pass one over
 * a fake memory.  A reader returns false when [pa, pa+len) is not readable, and
 * parsers treat that as malformed input. */
#ifndef HV_KERNEL_PHYS_READ_H
#define HV_KERNEL_PHYS_READ_H

#include "kernel/types.h"

typedef bool (*phys_read_fn)(void *ctx, u64 pa, void *buf, size_t len);

struct phys_reader {
	phys_read_fn read;
	void *ctx;
};

static inline bool phys_read(const struct phys_reader *r, u64 pa, void *buf, size_t len)
{
	/* Refuse wrap-around before the reader sees it. */
	if (len && pa + len - 1 < pa)
		return false;
	return r->read(r->ctx, pa, buf, len);
}

#endif
