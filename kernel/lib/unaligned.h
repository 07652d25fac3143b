/* Loads of little-endian values at any alignment from untrusted byte blocks
 * (boot information, hypercall input).  The builtin keeps them free of
 * undefined behaviour and still compiles to plain loads in the freestanding
 * image, where memcpy would be a real call. */
#ifndef HV_KERNEL_LIB_UNALIGNED_H
#define HV_KERNEL_LIB_UNALIGNED_H

#include "kernel/types.h"

static inline u16 load_u16(const u8 *p)
{
	u16 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline u32 load_u32(const u8 *p)
{
	u32 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline u64 load_u64(const u8 *p)
{
	u64 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

#endif
