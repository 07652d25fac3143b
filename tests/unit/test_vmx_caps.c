/* unit-sources: vmx/vmx_caps.c vmx/vmx_diag.c kernel/lib/format.c */
/* The VMX capability decoding and VMCS control computation against made-up
 * capability MSR values: allowed-0/allowed-1 settings, TRUE_* versus the older
 * MSRs, a CPU lacking an optional feature, one lacking a required control
 * (the error must name it), EPT/VPID capability decoding, the CR0/CR4 masks,
 * the access-rights conversion, and the guest-state checker of the VM-entry
 * failure report.
 *
 * The baseline is what Bochs 2.7 reports for corei7_skylake_x (read from the
 * hypervisor's debug log), so the tests also pin down what we run with there. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_diag.h"

/* Bits spelled out here rather than taken from the code under test. */
#define BIT(n) (1u << (n))
#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_VMXE (1ULL << 13)

static struct vmx_msrs skylake(void)
{
	struct vmx_msrs m = {
		.basic = 0x00d810000000002bULL,
		.pinbased = 0x0000007f00000016ULL,
		.procbased = 0xf7f9fffe0401e172ULL,
		.exit = 0x007fffff00036dffULL,
		.entry = 0x0000ffff000011ffULL,
		.true_pinbased = 0x0000007f00000016ULL,
		.true_procbased = 0xf7f9fffe04006172ULL,
		.true_exit = 0x007fffff00036dfbULL,
		.true_entry = 0x0000ffff000011fbULL,
		.procbased2 = 0x02177fff00000000ULL,
		.misc = 0x00000000600401e0ULL,
		.cr0_fixed0 = 0x80000021ULL,
		.cr0_fixed1 = 0xffffffffULL,
		.cr4_fixed0 = 0x2000ULL,
		.cr4_fixed1 = 0x3727ffULL,
		.ept_vpid_cap = 0x00000f0106334141ULL,
	};
	return m;
}

static struct vmx_caps caps;
static char err[200];

static int compute(const struct vmx_msrs *m)
{
	memset(&caps, 0xA5, sizeof(caps)); /* stale contents must not leak through */
	return vmx_caps_compute(m, &caps, err, sizeof(err));
}

/* Clears allowed-1 bits of a control MSR (the high half). */
static void disallow(u64 *msr, u32 bits)
{
	*msr &= ~((u64)bits << 32);
}

/* Forces allowed-0 bits of a control MSR (the low half). */
static void force(u64 *msr, u32 bits)
{
	*msr |= bits;
	*msr |= (u64)bits << 32;
}

START_TEST(test_skylake_baseline)
{
	struct vmx_msrs m = skylake();
	ck_assert_int_eq(compute(&m), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(caps.revision, 0x2b);
	ck_assert_uint_eq(caps.region_size, 4096);
	ck_assert(!caps.addr_32bit);
	ck_assert_uint_eq(caps.vmcs_memtype, 6);
	ck_assert(caps.true_ctls);

	u32 pin = caps.ctl[VMX_CTL_PIN], proc = caps.ctl[VMX_CTL_PROC];
	u32 proc2 = caps.ctl[VMX_CTL_PROC2], ex = caps.ctl[VMX_CTL_EXIT];
	u32 en = caps.ctl[VMX_CTL_ENTRY];
	/* External-interrupt and NMI exiting, virtual NMIs (SDM 25.3: without
	 * them a guest's IRET never unblocks injected NMIs). */
	ck_assert_uint_eq(pin & (BIT(0) | BIT(3) | BIT(5)), BIT(0) | BIT(3) | BIT(5));
	ck_assert(!(pin & BIT(6))); /* preemption timer: discovered, not turned on */
	u32 want_proc = BIT(7) | BIT(10) | BIT(21) | BIT(25) | BIT(28) | BIT(29) | BIT(31);
	ck_assert_uint_eq(proc & want_proc, want_proc);
	/* The TRUE MSR lets CR3 accesses run without exits. */
	ck_assert(!(proc & (BIT(15) | BIT(16))));
	ck_assert(!(proc & (BIT(2) | BIT(12) | BIT(23) | BIT(24))));
	u32 want_proc2 = BIT(1) | BIT(3) | BIT(5) | BIT(7) | BIT(12) | BIT(20);
	ck_assert_uint_eq(proc2, want_proc2); /* no user-wait: Bochs does not offer it */
	u32 want_exit = BIT(2) | BIT(9) | BIT(18) | BIT(19) | BIT(20) | BIT(21);
	ck_assert_uint_eq(ex & want_exit, want_exit);
	ck_assert(!(ex & BIT(15))); /* interrupts stay pending in the APIC */
	ck_assert_uint_eq(en & (BIT(2) | BIT(14) | BIT(15)), BIT(2) | BIT(14) | BIT(15));
	ck_assert(!(en & BIT(9))); /* IA-32e mode guest starts clear */

	ck_assert(caps.vpid && caps.rdtscp && caps.invpcid && caps.xsaves);
	ck_assert(!caps.user_wait_pause);
	ck_assert(caps.virtual_nmis && caps.preemption_timer && !caps.mbec);
	ck_assert(caps.saves_lma);
	ck_assert(caps.activity_hlt && caps.activity_shutdown && caps.activity_wait_sipi);
	ck_assert(caps.zero_len_inject);
	ck_assert_uint_eq(caps.cr0_must1, CR0_NE);
	ck_assert_uint_eq(caps.cr0_must0, ~0xffffffffULL);
	ck_assert_uint_eq(caps.cr4_must1, CR4_VMXE);
	ck_assert_uint_eq(caps.cr4_must0, ~0x3727ffULL);
	ck_assert_int_eq(caps.flush_guest, VMX_FLUSH_INVVPID_SINGLE);
	ck_assert_int_eq(caps.flush_slat, VMX_FLUSH_INVEPT_SINGLE);
}
END_TEST

/* Every computed word respects both halves of its MSR. */
START_TEST(test_allowed_settings_respected)
{
	struct vmx_msrs m = skylake();
	/* Make some reserved bits default1 and take away an optional one. */
	force(&m.true_pinbased, BIT(1) | BIT(2));
	force(&m.true_exit, BIT(0));
	disallow(&m.procbased2, BIT(3));
	ck_assert_int_eq(compute(&m), 0);
	for (int w = 0; w < VMX_CTL_COUNT; w++) {
		ck_assert_uint_eq(vmx_ctl_violations(&caps, (enum vmx_ctl)w, caps.ctl[w]), 0);
		ck_assert_uint_eq(caps.ctl[w] & caps.allowed0[w], caps.allowed0[w]);
		ck_assert_uint_eq(caps.ctl[w] & ~caps.allowed1[w], 0);
	}
	ck_assert_uint_eq(caps.ctl[VMX_CTL_PIN] & (BIT(1) | BIT(2)), BIT(1) | BIT(2));
	ck_assert(caps.ctl[VMX_CTL_EXIT] & BIT(0));
	ck_assert(!caps.rdtscp);
	ck_assert(!(caps.ctl[VMX_CTL_PROC2] & BIT(3)));

	/* The violation helper reports both directions. */
	u32 v = vmx_ctl_violations(&caps, VMX_CTL_PIN, (caps.ctl[VMX_CTL_PIN] & ~BIT(1)) | BIT(9));
	ck_assert_uint_eq(v, BIT(1) | BIT(9));
}
END_TEST

/* Without IA32_VMX_BASIC bit 55 the older MSRs count, whose allowed-0 half
 * forces the CR3 exits on (A.3.2); the TRUE fields are ignored. */
START_TEST(test_non_true_controls)
{
	struct vmx_msrs m = skylake();
	m.basic &= ~(1ULL << 55);
	m.true_procbased = 0; /* would make every control impossible if used */
	m.true_pinbased = m.true_exit = m.true_entry = 0;
	ck_assert_int_eq(compute(&m), 0);
	ck_assert(!caps.true_ctls);
	ck_assert_uint_eq(caps.allowed0[VMX_CTL_PROC], 0x0401e172);
	ck_assert_uint_eq(caps.ctl[VMX_CTL_PROC] & (BIT(15) | BIT(16)), BIT(15) | BIT(16));
	ck_assert(caps.ctl[VMX_CTL_EXIT] & BIT(2));
	ck_assert(caps.ctl[VMX_CTL_ENTRY] & BIT(2));

	/* With bit 55 the same garbage TRUE values are used, and fail. */
	m.basic |= 1ULL << 55;
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "external-interrupt exiting"));
}
END_TEST

START_TEST(test_optional_vpid_missing)
{
	struct vmx_msrs m = skylake();
	disallow(&m.procbased2, BIT(5));
	ck_assert_int_eq(compute(&m), 0);
	ck_assert(!caps.vpid);
	ck_assert(!(caps.ctl[VMX_CTL_PROC2] & BIT(5)));
	/* Without VPID, entries and exits flush linear mappings themselves. */
	ck_assert_int_eq(caps.flush_guest, VMX_FLUSH_NONE);
	ck_assert_int_eq(caps.flush_slat, VMX_FLUSH_INVEPT_SINGLE);
}
END_TEST

START_TEST(test_optional_flush_fallbacks)
{
	struct vmx_msrs m = skylake();
	m.ept_vpid_cap &= ~(1ULL << 41); /* no single-context INVVPID */
	ck_assert_int_eq(compute(&m), 0);
	ck_assert_int_eq(caps.flush_guest, VMX_FLUSH_INVVPID_ALL);

	m.ept_vpid_cap &= ~((1ULL << 32) | (1ULL << 42)); /* no INVVPID at all */
	ck_assert_int_eq(compute(&m), 0);
	ck_assert(!caps.invvpid.invvpid && !caps.invvpid.all && !caps.invvpid.addr);
	ck_assert_int_eq(caps.flush_guest, VMX_FLUSH_INVEPT_SINGLE);

	m.ept_vpid_cap &= ~(1ULL << 25); /* no single-context INVEPT */
	ck_assert_int_eq(compute(&m), 0);
	ck_assert_int_eq(caps.flush_guest, VMX_FLUSH_INVEPT_ALL);
	ck_assert_int_eq(caps.flush_slat, VMX_FLUSH_INVEPT_ALL);
}
END_TEST

START_TEST(test_optional_instruction_controls)
{
	struct vmx_msrs m = skylake();
	disallow(&m.procbased2, BIT(12) | BIT(20));
	m.procbased2 |= (u64)BIT(26) << 32; /* a CPU with TPAUSE/UMWAIT */
	ck_assert_int_eq(compute(&m), 0);
	ck_assert(!caps.invpcid && !caps.xsaves && caps.user_wait_pause);
	ck_assert(caps.ctl[VMX_CTL_PROC2] & BIT(26));
}
END_TEST

struct required_case {
	enum vmx_ctl word;
	u32 bit;
	const char *name;
};

static const struct required_case required_cases[] = {
	{VMX_CTL_PIN, BIT(0), "\"external-interrupt exiting\" pin-based"},
	{VMX_CTL_PIN, BIT(3), "\"NMI exiting\""},
	{VMX_CTL_PROC, BIT(7), "\"HLT exiting\""},
	{VMX_CTL_PROC, BIT(21), "\"use TPR shadow\""},
	{VMX_CTL_PROC, BIT(25), "\"use I/O bitmaps\""},
	{VMX_CTL_PROC, BIT(28), "\"use MSR bitmaps\""},
	{VMX_CTL_PROC, BIT(31), "\"activate secondary controls\""},
	{VMX_CTL_PROC2, BIT(1), "\"enable EPT\" secondary processor-based control (bit 1)"},
	{VMX_CTL_PROC2, BIT(7), "\"unrestricted guest\" secondary processor-based control (bit 7)"},
	{VMX_CTL_EXIT, BIT(9), "\"host address-space size\" VM-exit"},
	{VMX_CTL_EXIT, BIT(21), "\"load IA32_EFER\" VM-exit"},
	{VMX_CTL_EXIT, BIT(18), "\"save IA32_PAT\""},
	{VMX_CTL_ENTRY, BIT(9), "\"IA-32e mode guest\" VM-entry"},
	{VMX_CTL_ENTRY, BIT(15), "\"load IA32_EFER\" VM-entry"},
};

START_TEST(test_required_missing)
{
	const struct required_case *rc = &required_cases[_i];
	struct vmx_msrs m = skylake();
	u64 *msr[VMX_CTL_COUNT] = {
		[VMX_CTL_PIN] = &m.true_pinbased, [VMX_CTL_PROC] = &m.true_procbased,
		[VMX_CTL_PROC2] = &m.procbased2, [VMX_CTL_EXIT] = &m.true_exit,
		[VMX_CTL_ENTRY] = &m.true_entry,
	};
	disallow(msr[rc->word], rc->bit);
	/* "activate secondary controls" is read from the non-TRUE MSR as well. */
	if (rc->word == VMX_CTL_PROC)
		disallow(&m.procbased, rc->bit);
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_msg(strstr(err, rc->name), "error '%s' does not name %s", err, rc->name);
	ck_assert_ptr_nonnull(strstr(err, "cannot set"));
}
END_TEST

/* A CPU that insists on a control we do not handle is refused by name. */
START_TEST(test_forced_control_refused)
{
	struct vmx_msrs m = skylake();
	force(&m.true_procbased, BIT(12));
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "forces on the \"RDTSC exiting\""));

	m = skylake();
	force(&m.true_exit, BIT(15));
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "acknowledge interrupt on exit"));

	/* Forced CR3 exits are handled (emulated), so they are accepted. */
	m = skylake();
	force(&m.true_procbased, BIT(15) | BIT(16));
	ck_assert_int_eq(compute(&m), 0);
}
END_TEST

START_TEST(test_ept_caps_decoding)
{
	struct vmx_msrs m = skylake();
	ck_assert_int_eq(compute(&m), 0);
	ck_assert(caps.ept.exec_only && caps.ept.walk4 && !caps.ept.walk5);
	ck_assert(caps.ept.mt_uc && caps.ept.mt_wb);
	ck_assert(caps.ept.page_2m && caps.ept.page_1g);
	ck_assert(caps.ept.invept && caps.ept.invept_single && caps.ept.invept_all);
	ck_assert(caps.ept.ad && !caps.ept.advanced_info);
	ck_assert(caps.invvpid.invvpid && caps.invvpid.addr && caps.invvpid.single &&
		  caps.invvpid.all && caps.invvpid.single_globals);

	/* A Westmere-like EPT: no 1G pages, no A/D, 2M only. */
	m.ept_vpid_cap &= ~((1ULL << 17) | (1ULL << 21) | (1ULL << 0));
	m.ept_vpid_cap |= 1ULL << 22;
	ck_assert_int_eq(compute(&m), 0);
	ck_assert(caps.ept.page_2m && !caps.ept.page_1g && !caps.ept.ad && !caps.ept.exec_only);
	ck_assert(caps.ept.advanced_info);

	/* INVEPT types mean nothing without bit 20. */
	m = skylake();
	m.ept_vpid_cap &= ~(1ULL << 20);
	ck_assert_int_eq(compute(&m), -1);
	ck_assert(!caps.ept.invept_single && !caps.ept.invept_all);
	ck_assert_ptr_nonnull(strstr(err, "INVEPT"));
}
END_TEST

START_TEST(test_ept_requirements)
{
	struct vmx_msrs m = skylake();
	m.ept_vpid_cap &= ~(1ULL << 6);
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "4-level"));

	m = skylake();
	m.ept_vpid_cap &= ~(1ULL << 14);
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "write-back"));

	m = skylake();
	m.ept_vpid_cap &= ~((1ULL << 25) | (1ULL << 26));
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "INVEPT"));
}
END_TEST

START_TEST(test_secondary_msr_ignored_without_activation)
{
	struct vmx_msrs m = skylake();
	disallow(&m.procbased, BIT(31));
	disallow(&m.true_procbased, BIT(31));
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_uint_eq(caps.allowed1[VMX_CTL_PROC2], 0);
	ck_assert_ptr_nonnull(strstr(err, "activate secondary controls"));
}
END_TEST

START_TEST(test_basic_fields)
{
	struct vmx_msrs m = skylake();
	m.basic = (m.basic & ~(0x1FFFULL << 32)) | (1024ULL << 32) | (1ULL << 48);
	ck_assert_int_eq(compute(&m), 0);
	ck_assert_uint_eq(caps.region_size, 1024);
	ck_assert(caps.addr_32bit);

	m.basic &= ~(0x1FFFULL << 32);
	ck_assert_int_eq(compute(&m), -1);
	ck_assert_ptr_nonnull(strstr(err, "0-byte VMCS"));
}
END_TEST

START_TEST(test_cr_masks)
{
	struct vmx_msrs m = skylake();
	ck_assert_int_eq(compute(&m), 0);
	/* NE is forced; PE and PG are free with unrestricted guest; the upper
	 * half of CR0 is reserved. */
	ck_assert_uint_eq(vmx_cr0_guest_host_mask(&caps, false), CR0_NE | ~0xffffffffULL);
	ck_assert_uint_eq(vmx_cr0_guest_host_mask(&caps, true), CR0_NE | CR0_PG | ~0xffffffffULL);
	ck_assert_uint_eq(vmx_cr4_guest_host_mask(&caps), CR4_VMXE | ~0x3727ffULL);
	ck_assert(!(vmx_cr4_guest_host_mask(&caps) & CR4_PAE));
}
END_TEST

START_TEST(test_names)
{
	char buf[128];
	ck_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_PROC2, 7), "unrestricted guest");
	ck_assert_ptr_null(vmx_ctl_bit_name(VMX_CTL_PIN, 1));
	ck_assert_ptr_null(vmx_ctl_bit_name(VMX_CTL_COUNT, 0));
	ck_assert_str_eq(vmx_ctl_bits_str(VMX_CTL_ENTRY, BIT(9) | BIT(15) | BIT(0), buf, sizeof(buf)),
			 "bit 0, IA-32e mode guest, load IA32_EFER");
	ck_assert_str_eq(vmx_ctl_bits_str(VMX_CTL_ENTRY, 0, buf, sizeof(buf)), "");
	/* Truncation keeps a terminated string. */
	vmx_ctl_bits_str(VMX_CTL_PROC, ~0u, buf, 20);
	ck_assert_uint_lt(strlen(buf), 20);
	ck_assert_str_eq(vmx_insn_error_name(7), "VM entry with invalid control field(s)");
	ck_assert_str_eq(vmx_insn_error_name(8), "VM entry with invalid host-state field(s)");
	ck_assert_str_eq(vmx_insn_error_name(14), "unknown error number");
	ck_assert_str_eq(vmx_insn_error_name(1000), "unknown error number");
	ck_assert_str_eq(vmx_exit_reason_name(33), "VM-entry failure due to invalid guest state");
	ck_assert_str_eq(vmx_exit_reason_name(48), "EPT violation");
	ck_assert_str_eq(vmx_exit_reason_name(35), "?");
	ck_assert_str_eq(vmx_entry_failure_qual_name(4), "invalid VMCS link pointer");
	ck_assert_str_eq(vmx_flush_method_name(VMX_FLUSH_INVEPT_ALL), "INVEPT all-context");
}
END_TEST

START_TEST(test_access_rights)
{
	/* Flat 32-bit code: G, D/B, P, S, type B. */
	ck_assert_uint_eq(vmx_ar_to_attr(0xC09B), 0xC9B);
	ck_assert_uint_eq(vmx_attr_to_ar(0xC9B), 0xC09B);
	/* 64-bit code: L in bit 13 of the AR, bit 9 of the compact form. */
	ck_assert_uint_eq(vmx_ar_to_attr(0xA09B), 0xA9B);
	ck_assert_uint_eq(vmx_attr_to_ar(0xA9B), 0xA09B);
	/* Unusable reads back as not present... */
	ck_assert_uint_eq(vmx_ar_to_attr(0x1C093), 0xC13);
	ck_assert_uint_eq(vmx_ar_to_attr(0x10000), 0);
	/* ...and not present is written as unusable, keeping the rest (SS.DPL). */
	ck_assert_uint_eq(vmx_attr_to_ar(0), 0x10000);
	ck_assert_uint_eq(vmx_attr_to_ar(0x60), 0x10060);
	for (u32 attr = 0; attr < 0x1000; attr++) {
		if (attr & 0x80)
			ck_assert_uint_eq(vmx_ar_to_attr(vmx_attr_to_ar((u16)attr)), attr);
	}
}
END_TEST

/* ---- the guest-state checker ------------------------------------------------ */
static struct vmx_guest_state good_state(void)
{
	struct vmx_guest_state g = {
		.cr0 = CR0_PE | CR0_ET | CR0_NE,
		.cr4 = CR4_VMXE,
		.dr7 = 0x400,
		.rip = 0x101000,
		.rflags = 2,
		.pat = 0x0007040600070406ULL,
		.link_pointer = ~0ULL,
		.entry_ctl = BIT(2) | BIT(14) | BIT(15),
		.proc2_ctl = BIT(1) | BIT(7),
		.gdtr_limit = 0xFFFF,
		.idtr_limit = 0x3FF,
	};
	for (int i = 0; i < 6; i++)
		g.seg[i] = (struct vmx_guest_seg){0x10, 0xFFFFFFFF, 0xC093, 0};
	g.seg[VMX_SEG_CS] = (struct vmx_guest_seg){0x08, 0xFFFFFFFF, 0xC09B, 0};
	g.seg[VMX_SEG_LDTR] = (struct vmx_guest_seg){0, 0xFFFF, 0x10000, 0};
	g.seg[VMX_SEG_TR] = (struct vmx_guest_seg){0, 0xFFFF, 0x8B, 0};
	return g;
}

static int check(const struct vmx_guest_state *g, const char **first)
{
	const char *out[8] = {0};
	int n = vmx_check_guest_state(g, &caps, out, 8);
	*first = out[0] ? out[0] : "";
	return n;
}

START_TEST(test_guest_state_good)
{
	struct vmx_msrs m = skylake();
	const char *first;
	ck_assert_int_eq(compute(&m), 0);
	struct vmx_guest_state g = good_state();
	ck_assert_msg(check(&g, &first) == 0, "unexpected: %s", first);

	/* Real mode under unrestricted guest is fine too. */
	g.cr0 = CR0_ET | CR0_NE;
	for (int i = 0; i < 6; i++)
		g.seg[i] = (struct vmx_guest_seg){0x1000, 0xFFFF, 0x93, 0x10000};
	ck_assert_msg(check(&g, &first) == 0, "unexpected: %s", first);

	/* So is long mode. */
	g = good_state();
	g.cr0 |= CR0_PG;
	g.cr4 |= CR4_PAE;
	g.efer = (1ULL << 8) | (1ULL << 10);
	g.entry_ctl |= BIT(9);
	g.seg[VMX_SEG_CS].ar = 0xA09B;
	g.rip = 0xFFFFFFFF80001000ULL;
	ck_assert_msg(check(&g, &first) == 0, "unexpected: %s", first);
}
END_TEST

START_TEST(test_guest_state_broken)
{
	struct vmx_msrs m = skylake();
	const char *first;
	ck_assert_int_eq(compute(&m), 0);

	struct vmx_guest_state g = good_state();
	g.seg[VMX_SEG_TR].ar = 0x10000;
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "TR must be usable"));

	g = good_state();
	g.cr4 = 0;
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "VMXE"));

	g = good_state();
	g.cr0 &= ~CR0_NE;
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "NE must be 1"));

	g = good_state();
	g.rflags = 0;
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "RFLAGS"));

	g = good_state();
	g.link_pointer = 0;
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "link pointer"));

	g = good_state();
	g.efer = 1ULL << 10; /* LMA without the entry control */
	ck_assert_int_ge(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "LMA must equal the IA-32e"));

	g = good_state();
	g.entry_ctl |= BIT(9); /* IA-32e mode guest with paging off */
	ck_assert_int_ge(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "CR0.PG=1 and CR4.PAE=1"));

	g = good_state();
	g.seg[VMX_SEG_DS].ar = 0xC092; /* not accessed */
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "accessed"));

	g = good_state();
	g.seg[VMX_SEG_CS].limit = 0xFFFFF; /* G=1 with a limit not ending in FFF */
	g.seg[VMX_SEG_CS].limit = 0xFFFF0;
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "CS limit"));

	g = good_state();
	g.interruptibility = INTR_BLOCKING_STI; /* with IF=0 */
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "blocking by STI"));

	g = good_state();
	g.pat = 0x0007040600070402ULL; /* type 2 is reserved */
	ck_assert_int_eq(check(&g, &first), 1);
	ck_assert_ptr_nonnull(strstr(first, "IA32_PAT"));

	/* Several problems: all counted, only `max` stored. */
	g = good_state();
	g.rflags = 0;
	g.link_pointer = 0;
	g.cr4 = 0;
	const char *two[2];
	ck_assert_int_eq(vmx_check_guest_state(&g, &caps, two, 2), 3);
}
END_TEST

static Suite *vmx_caps_suite(void)
{
	Suite *s = suite_create("vmx_caps");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_skylake_baseline);
	tcase_add_test(tc, test_allowed_settings_respected);
	tcase_add_test(tc, test_non_true_controls);
	tcase_add_test(tc, test_optional_vpid_missing);
	tcase_add_test(tc, test_optional_flush_fallbacks);
	tcase_add_test(tc, test_optional_instruction_controls);
	tcase_add_loop_test(tc, test_required_missing, 0, (int)(sizeof(required_cases) / sizeof(required_cases[0])));
	tcase_add_test(tc, test_forced_control_refused);
	tcase_add_test(tc, test_ept_caps_decoding);
	tcase_add_test(tc, test_ept_requirements);
	tcase_add_test(tc, test_secondary_msr_ignored_without_activation);
	tcase_add_test(tc, test_basic_fields);
	tcase_add_test(tc, test_cr_masks);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_access_rights);
	tcase_add_test(tc, test_guest_state_good);
	tcase_add_test(tc, test_guest_state_broken);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vmx_caps_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
