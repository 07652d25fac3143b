/* unit-sources: svm/vmcb_check.c */
/* Each VMRUN consistency rule, broken on its own, is named; a good VMCB
 * passes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "svm/vmcb_check.h"

static struct vmcb vmcb;
static const struct vmcb_check_caps caps = {
	.phys_addr_bits = 40,
	.long_mode = true,
	.cr4_reserved = 0xFFFFFFFFFF000000ULL,
	.efer_reserved = ~0x7FFFULL,
};

static void good_vmcb(void)
{
	memset(&vmcb, 0, sizeof(vmcb));
	vmcb.save.efer = 1ULL << 12;
	vmcb.save.cr0 = 0x11;
	vmcb.save.dr6 = 0xFFFF0FF0;
	vmcb.save.dr7 = 0x400;
	vmcb.save.g_pat = 0x0007040600070406ULL;
	vmcb.save.cs.attrib = 0xC9B;
	vmcb.control.intercept_misc2 = 1;
	vmcb.control.guest_asid = 1;
	vmcb.control.np_enable = 1;
	vmcb.control.n_cr3 = 0x1000;
	vmcb.control.msrpm_base_pa = 0x2000;
	vmcb.control.iopm_base_pa = 0x4000;
}

static void expect(const char *needle)
{
	const char *r = vmcb_check(&vmcb, &caps);
	ck_assert_msg(r != NULL, "expected a failure mentioning '%s'", needle);
	ck_assert_msg(strstr(r, needle) != NULL, "got '%s', expected '%s'", r, needle);
}

START_TEST(good_passes)
{
	good_vmcb();
	ck_assert_ptr_null(vmcb_check(&vmcb, &caps));
	/* A proper long-mode state passes too. */
	vmcb.save.efer |= (1 << 8) | (1 << 10);
	vmcb.save.cr0 |= 1ULL << 31;
	vmcb.save.cr4 = 0x20;
	vmcb.save.cs.attrib = 0xA9B;
	ck_assert_ptr_null(vmcb_check(&vmcb, &caps));
}
END_TEST

START_TEST(each_rule_named)
{
	good_vmcb(); vmcb.save.efer = 0; expect("SVME");
	good_vmcb(); vmcb.save.cr0 |= 1ULL << 29; expect("CR0.NW");
	good_vmcb(); vmcb.save.cr0 |= 1ULL << 40; expect("CR0[63:32]");
	good_vmcb(); vmcb.save.cr3 = 1ULL << 45; expect("CR3");
	good_vmcb(); vmcb.save.cr4 = 1ULL << 30; expect("CR4");
	good_vmcb(); vmcb.save.dr6 |= 1ULL << 33; expect("DR6");
	good_vmcb(); vmcb.save.dr7 |= 1ULL << 33; expect("DR7");
	good_vmcb(); vmcb.save.efer |= 1ULL << 20; expect("EFER has a reserved");
	good_vmcb(); vmcb.save.efer |= 1 << 8; vmcb.save.cr0 |= 1ULL << 31; expect("CR4.PAE clear");
	good_vmcb(); vmcb.save.efer |= 1 << 8; vmcb.save.cr0 = 1ULL << 31; vmcb.save.cr4 = 0x20;
	expect("CR0.PE clear");
	good_vmcb(); vmcb.save.efer |= 1 << 8; vmcb.save.cr0 |= 1ULL << 31; vmcb.save.cr4 = 0x20;
	vmcb.save.cs.attrib = 0xE9B; expect("CS.L and CS.D");
	good_vmcb(); vmcb.save.cr0 = 1ULL << 31; expect("CR0.PG set with CR0.PE clear");
	good_vmcb(); vmcb.control.intercept_misc2 = 0; expect("VMRUN intercept");
	good_vmcb(); vmcb.control.msrpm_base_pa = (1ULL << 40) - 0x1000; expect("MSR permission map");
	good_vmcb(); vmcb.control.iopm_base_pa = (1ULL << 40) - 0x1000; expect("I/O permission map");
	good_vmcb(); vmcb.control.event_inject = (1ULL << 31) | (3 << 8) | 40; expect("EVENTINJ");
	good_vmcb(); vmcb.control.event_inject = (1ULL << 31) | (6 << 8); expect("EVENTINJ");
	good_vmcb(); vmcb.control.guest_asid = 0; expect("ASID");
	good_vmcb(); vmcb.control.n_cr3 = 1ULL << 44; expect("nCR3");
	good_vmcb(); vmcb.save.g_pat = 0x0007040600070402ULL; expect("G_PAT");
}
END_TEST

START_TEST(no_long_mode_cpu)
{
	struct vmcb_check_caps c = caps;
	c.long_mode = false;
	good_vmcb();
	vmcb.save.efer |= 1 << 8;
	const char *r = vmcb_check(&vmcb, &c);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(r, "without long mode"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmcb_check");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, good_passes);
	tcase_add_test(tc, each_rule_named);
	tcase_add_test(tc, no_long_mode_cpu);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
