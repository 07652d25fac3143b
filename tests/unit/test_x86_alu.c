/* unit-sources: kernel/vm/x86_alu.c */
/* The emulator's ALU against the host CPU: every operation, every size, on
 * edge values and random ones, comparing the result and the six arithmetic
 * flags with what the real instruction produced. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernel/vm/x86_alu.h"

#define FLAGS_COMPARED X86_FLAGS_ARITH

/* Runs op on the host at the given size with CF preset; returns the result and
 * the flags afterwards. */
#define HOST_OP(insn, suffix, reg, type)                                           \
	static u64 host_##insn##suffix(u64 a, u64 b, bool cf, u64 *flags)          \
	{                                                                          \
		type x = (type)a, y = (type)b;                                     \
		u64 f;                                                             \
		__asm__ volatile("bt $0, %[c]\n\t" #insn #suffix " %" reg "[y], %" reg "[x]\n\t" \
				 "pushfq\n\tpopq %[f]"                             \
				 : [x] "+r"(x), [f] "=r"(f)                         \
				 : [y] "r"(y), [c] "r"((u64)cf)                      \
				 : "cc");                                          \
		*flags = f;                                                        \
		return (u64)x;                                                     \
	}

#define HOST_OPS(insn)                \
	HOST_OP(insn, b, "b", uint8_t)  \
	HOST_OP(insn, w, "w", uint16_t) \
	HOST_OP(insn, l, "k", uint32_t) \
	HOST_OP(insn, q, "q", uint64_t)

HOST_OPS(add)
HOST_OPS(or)
HOST_OPS(adc)
HOST_OPS(sbb)
HOST_OPS(and)
HOST_OPS(sub)
HOST_OPS(xor)
HOST_OPS(cmp)

typedef u64 (*host_fn)(u64, u64, bool, u64 *);

/* Indexed by enum x86_alu, then by log2(size). */
static const host_fn host_ops[8][4] = {
	{host_addb, host_addw, host_addl, host_addq}, {host_orb, host_orw, host_orl, host_orq},
	{host_adcb, host_adcw, host_adcl, host_adcq}, {host_sbbb, host_sbbw, host_sbbl, host_sbbq},
	{host_andb, host_andw, host_andl, host_andq}, {host_subb, host_subw, host_subl, host_subq},
	{host_xorb, host_xorw, host_xorl, host_xorq}, {host_cmpb, host_cmpw, host_cmpl, host_cmpq},
};

static const u64 edges[] = {0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
			    0x80000000, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
			    0xFFFFFFFFFFFFFFFF, 0x0F, 0x10};

static int compare(unsigned op, unsigned sz_log, u64 a, u64 b, bool cf)
{
	unsigned size = 1u << sz_log;
	u64 host_flags, emu_flags = cf ? X86_FLAG_CF : 0;
	u64 host_r = host_ops[op][sz_log](a, b, cf, &host_flags);
	u64 emu_r = x86_alu(op, a, b, size, &emu_flags);
	u64 mask = FLAGS_COMPARED;
	/* AF is undefined after logical operations. */
	if (op == 1 || op == 4 || op == 6)
		mask &= ~X86_FLAG_AF;
	if (op != 7 && x86_truncate(host_r, size) != emu_r)
		return 1;
	return (host_flags & mask) != (emu_flags & mask);
}

START_TEST(alu_edges_match_host)
{
	unsigned op = (unsigned)_i;
	int bad = 0;
	for (unsigned s = 0; s < 4; s++)
		for (unsigned i = 0; i < sizeof(edges) / 8; i++)
			for (unsigned j = 0; j < sizeof(edges) / 8; j++)
				for (int cf = 0; cf < 2; cf++)
					bad += compare(op, s, edges[i], edges[j], cf);
	ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(alu_random_match_host)
{
	unsigned op = (unsigned)_i;
	int bad = 0;
	srand(1234 + op);
	for (int n = 0; n < 20000; n++) {
		u64 a = ((u64)rand() << 33) ^ ((u64)rand() << 11) ^ (u64)rand();
		u64 b = ((u64)rand() << 35) ^ ((u64)rand() << 7) ^ (u64)rand();
		bad += compare(op, (unsigned)n & 3, a, b, n & 4);
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(test_is_and_without_result)
{
	u64 f = X86_FLAG_CF | X86_FLAG_OF;
	x86_test(0xF0, 0x0F, 1, &f);
	ck_assert(f & X86_FLAG_ZF);
	ck_assert(!(f & (X86_FLAG_CF | X86_FLAG_OF)));
	f = 0;
	x86_test(0x80, 0x80, 1, &f);
	ck_assert(f & X86_FLAG_SF);
}
END_TEST

START_TEST(sign_extend_and_truncate)
{
	ck_assert_uint_eq(x86_sign_extend(0x80, 1), 0xFFFFFFFFFFFFFF80ULL);
	ck_assert_uint_eq(x86_sign_extend(0x7FFF, 2), 0x7FFF);
	ck_assert_uint_eq(x86_sign_extend(0x80000000, 4), 0xFFFFFFFF80000000ULL);
	ck_assert_uint_eq(x86_truncate(0x1234567890ULL, 4), 0x34567890);
	ck_assert_uint_eq(x86_truncate(~0ULL, 8), ~0ULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("x86_alu");
	TCase *tc = tcase_create("alu");
	tcase_add_loop_test(tc, alu_edges_match_host, 0, 8);
	tcase_add_loop_test(tc, alu_random_match_host, 0, 8);
	tcase_add_test(tc, test_is_and_without_result);
	tcase_add_test(tc, sign_extend_and_truncate);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
