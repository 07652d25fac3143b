#include "kernel/vm/x86_alu.h"

u64 x86_truncate(u64 v, unsigned size)
{
	return size >= 8 ? v : v & ((1ULL << (size * 8)) - 1);
}

u64 x86_sign_extend(u64 v, unsigned size)
{
	if (size >= 8)
		return v;
	unsigned shift = 64 - size * 8;
	return (u64)((s64)(v << shift) >> shift);
}

static u64 sign_bit(unsigned size)
{
	return 1ULL << (size * 8 - 1);
}

/* PF reflects the low byte only, set for an even number of ones. */
static bool parity_even(u64 v)
{
	u8 b = (u8)v;
	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

static void set_szp(u64 r, unsigned size, u64 *f)
{
	if (r == 0)
		*f |= X86_FLAG_ZF;
	if (r & sign_bit(size))
		*f |= X86_FLAG_SF;
	if (parity_even(r))
		*f |= X86_FLAG_PF;
}

u64 x86_alu(unsigned op, u64 a, u64 b, unsigned size, u64 *rflags)
{
	u64 f = *rflags & ~X86_FLAGS_ARITH;
	u64 carry_in = (*rflags & X86_FLAG_CF) ? 1 : 0;
	u64 r;

	a = x86_truncate(a, size);
	b = x86_truncate(b, size);
	switch (op) {
	case 0: /* ADD */
	case 2: /* ADC */ {
		u64 c = op == 2 ? carry_in : 0;
		r = x86_truncate(a + b + c, size);
		/* Carry out of the top bit: compare in a width that cannot overflow. */
		bool cf = size >= 8 ? (r < a || (c && r == a)) : ((a + b + c) >> (size * 8)) != 0;
		if (cf)
			f |= X86_FLAG_CF;
		if (~(a ^ b) & (a ^ r) & sign_bit(size))
			f |= X86_FLAG_OF;
		if ((a ^ b ^ r) & 0x10)
			f |= X86_FLAG_AF;
		break;
	}
	case 3: /* SBB */
	case 5: /* SUB */
	case 7: /* CMP */ {
		u64 c = op == 3 ? carry_in : 0;
		r = x86_truncate(a - b - c, size);
		if (a < b || (c && a == b))
			f |= X86_FLAG_CF;
		if ((a ^ b) & (a ^ r) & sign_bit(size))
			f |= X86_FLAG_OF;
		if ((a ^ b ^ r) & 0x10)
			f |= X86_FLAG_AF;
		break;
	}
	case 1: /* OR */
		r = a | b;
		break;
	case 4: /* AND */
		r = a & b;
		break;
	default: /* 6: XOR */
		r = a ^ b;
		break;
	}
	set_szp(r, size, &f);
	*rflags = f;
	return r;
}

void x86_test(u64 a, u64 b, unsigned size, u64 *rflags)
{
	x86_alu(4, a, b, size, rflags);
}
