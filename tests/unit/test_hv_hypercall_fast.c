/* unit-sources: hyperv/hv_hypercall_fast.c hyperv/hv_hypercall_input.c hyperv/hv_cpuid.c tests/unit/fake_printk.c */
/* The pure parts of the hypercall exit (hyperv/hv_hypercall_fast.c) and of the
 * PV flush protocol (kernel/vm/vp_flush.h): the fast input block in the TLFS
 * register-pair order (digest 3.5), VP sets turned into the partition's
 * targets (indexes it does not have are dropped), the APIC ID lookup of
 * GetVpIndexFromApicId (4.19), and the wrap-safe flush generations. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hyperv/hv_hypercall_fast.h"
#include "kernel/vm/vp_flush.h"
#include "tests/unit/fake_printk.h"

static u64 ld64(const u8 *p)
{
	u64 v;
	memcpy(&v, p, 8);
	return v;
}

START_TEST(fast_input_pair_order)
{
	struct hv_hc_fast_regs r = {.pair0 = {0x1111111111111111ULL, 0x2222222222222222ULL}};
	u8 buf[HV_HC_FAST_MAX_BYTES];

	for (int i = 0; i < 12; i++)
		r.xmm[i] = 0xA000000000000000ULL + (u64)i;
	memset(buf, 0xEE, sizeof(buf));
	hv_hc_fast_input(&r, buf, sizeof(buf));
	ck_assert_uint_eq(ld64(buf), 0x1111111111111111ULL);	  /* RDX */
	ck_assert_uint_eq(ld64(buf + 8), 0x2222222222222222ULL); /* R8 */
	ck_assert_uint_eq(ld64(buf + 16), 0xA000000000000000ULL); /* XMM0 low */
	ck_assert_uint_eq(ld64(buf + 24), 0xA000000000000001ULL); /* XMM0 high */
	ck_assert_uint_eq(ld64(buf + 104), 0xA00000000000000BULL); /* XMM5 high */
}
END_TEST

START_TEST(fast_input_copies_only_len)
{
	struct hv_hc_fast_regs r = {.pair0 = {0x0102030405060708ULL, 0x1112131415161718ULL}};
	u8 buf[32];

	memset(buf, 0xEE, sizeof(buf));
	hv_hc_fast_input(&r, buf, 12);
	ck_assert_uint_eq(buf[0], 0x08); /* little-endian */
	ck_assert_uint_eq(buf[8], 0x18);
	ck_assert_uint_eq(buf[11], 0x15);
	ck_assert_uint_eq(buf[12], 0xEE);
}
END_TEST

START_TEST(vp_set_mask_drops_missing_vps)
{
	struct hv_vp_set set;
	u64 words[2];

	hv_vp_set_from_mask(0x8000000000000013ULL, &set); /* VPs 0, 1, 4, 63 */
	ck_assert_uint_eq(hv_vp_set_to_mask(&set, 4, words, 2), 2);
	ck_assert_uint_eq(words[0], 0x3);
	ck_assert_uint_eq(words[1], 0);
	ck_assert_uint_eq(hv_vp_set_to_mask(&set, 64, words, 2), 4);
	ck_assert_uint_eq(words[0], 0x8000000000000013ULL);
}
END_TEST

START_TEST(vp_set_mask_all_and_sparse)
{
	struct hv_vp_set set = {.all = true};
	u64 words[2];

	ck_assert_uint_eq(hv_vp_set_to_mask(&set, 3, words, 2), 3);
	ck_assert_uint_eq(words[0], 0x7);
	memset(&set, 0, sizeof(set));
	set.valid_banks = 0x2;
	set.bank[1] = 0x5; /* VPs 64 and 66 */
	ck_assert_uint_eq(hv_vp_set_to_mask(&set, 128, words, 2), 2);
	ck_assert_uint_eq(words[0], 0);
	ck_assert_uint_eq(words[1], 0x5);
	/* A partition of 65 VPs has VP 64 but not 66. */
	ck_assert_uint_eq(hv_vp_set_to_mask(&set, 65, words, 2), 1);
	ck_assert_uint_eq(words[1], 0x1);
	/* More VPs than the mask holds: capped, never written past. */
	ck_assert_uint_eq(hv_vp_set_to_mask(&set, 4096, words, 1), 0);
}
END_TEST

START_TEST(apic_id_lookup)
{
	const u32 ids[] = {0, 2, 4, 6};

	ck_assert_int_eq(hv_vp_index_of_apic_id(ids, 4, 4), 2);
	ck_assert_int_eq(hv_vp_index_of_apic_id(ids, 4, 0), 0);
	ck_assert_int_eq(hv_vp_index_of_apic_id(ids, 4, 1), -1);
	ck_assert_int_eq(hv_vp_index_of_apic_id(ids, 2, 4), -1); /* beyond vp_count */
}
END_TEST

START_TEST(flush_generations_wrap)
{
	ck_assert(vp_flush_gen_reached(5, 5));
	ck_assert(vp_flush_gen_reached(6, 5));
	ck_assert(!vp_flush_gen_reached(4, 5));
	ck_assert(vp_flush_gen_reached(1, 0xFFFFFFFFu));  /* served wrapped past wanted */
	ck_assert(!vp_flush_gen_reached(0xFFFFFFFFu, 1)); /* wanted wrapped, not yet served */
}
END_TEST

START_TEST(vp_mask_bits)
{
	struct vp_mask m = {0};

	vp_mask_set(&m, 0);
	vp_mask_set(&m, HV_MAX_CPUS - 1);
	vp_mask_set(&m, HV_MAX_CPUS); /* out of range: ignored */
	ck_assert(vp_mask_test(&m, 0));
	ck_assert(vp_mask_test(&m, HV_MAX_CPUS - 1));
	ck_assert(!vp_mask_test(&m, 1));
	ck_assert(!vp_mask_test(&m, HV_MAX_CPUS));
}
END_TEST

static Suite *fast_suite(void)
{
	Suite *s = suite_create("hv_hypercall_fast");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, fast_input_pair_order);
	tcase_add_test(tc, fast_input_copies_only_len);
	tcase_add_test(tc, vp_set_mask_drops_missing_vps);
	tcase_add_test(tc, vp_set_mask_all_and_sparse);
	tcase_add_test(tc, apic_id_lookup);
	tcase_add_test(tc, flush_generations_wrap);
	tcase_add_test(tc, vp_mask_bits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fast_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
