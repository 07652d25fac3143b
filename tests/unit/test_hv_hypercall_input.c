/* unit-sources: hyperv/hv_hypercall_input.c hyperv/hv_cpuid.c tests/unit/fake_printk.c */
/* Hypercall input decoding and validation (TLFS "Hypercall Interface"; digest
 * 3, 4, 8), with hostile inputs: reserved bits, rep counts and start indices out
 * of range, variable headers where none belong, misaligned and page-crossing
 * GPAs, fast calls too big for the registers, sparse VP sets whose bank mask
 * claims more banks than provided, bad formats, flags and vectors.
 * Readings of disputed/single-source points checked here:
 *  - [DISPUTED #5]  result value: reps completed in 43:32, 63:44 reserved;
 *  - [DISPUTED #18] empty non-Ex processor mask = all processors (KVM);
 *  - [DISPUTED #19] HV_GENERIC_SET_ALL accepted in flush-Ex (TLFS, KVM);
 *  - [DISPUTED #20] NON_GLOBAL_MAPPINGS_ONLY accepted on the List variants;
 *  - [DISPUTED #2]  GetVpIndexFromApicId elements are packed u32 (OVMM);
 *  - [DISPUTED #7]  IPI ProcessorMask is 8 bytes;
 *  - page crossing -> INVALID_ALIGNMENT (TLFS; OVMM says INVALID_HYPERCALL_INPUT);
 *  - IPI vector out of range -> INVALID_PARAMETER (OVMM; KVM says
 *    INVALID_HYPERCALL_INPUT). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyperv/hv_hypercall_input.h"
#include "hyperv/hv_hypercall_list.h"
#include "tests/unit/fake_printk.h"

#define GPA_LIMIT (1ULL << 39)

static struct hv_features f;
static struct hv_hc_request req;
static struct hv_hc_plan plan;
static u16 status;

static u64 control(u16 code, bool fast, u16 varhead, u16 count, u16 start)
{
	return (u64)code | (fast ? HV_HYPERCALL_FAST_BIT : 0) |
	       ((u64)varhead << HV_HYPERCALL_VARHEAD_SHIFT) |
	       ((u64)count << HV_HYPERCALL_REP_COUNT_SHIFT) |
	       ((u64)start << HV_HYPERCALL_REP_START_SHIFT);
}

static void setup(void)
{
	fake_printk_reset();
	hv_features_init(&f, 2, 39);
	memset(&req, 0, sizeof(req));
	req.long_mode = true;
	req.protected_mode = true;
	req.cpl = 0;
	req.in_gpa = 0x10000;
	req.out_gpa = 0x20000;
	req.gpa_limit = GPA_LIMIT;
	memset(&plan, 0xAA, sizeof(plan));
	status = 0xFFFF;
}

static enum hv_hc_verdict check(u64 ctl)
{
	req.control = ctl;
	return hv_hc_check(&req, &f, &plan, &status);
}

#define ASSERT_COMPLETE(ctl, want)                                                         \
	do {                                                                               \
		enum hv_hc_verdict v_ = check(ctl);                                        \
		ck_assert_msg(v_ == HV_HC_COMPLETE && status == (want),                    \
			      "control %#llx: verdict %d status %#x, want status %#x",     \
			      (unsigned long long)(ctl), v_, status, (unsigned)(want));   \
	} while (0)

#define ASSERT_PROCEED(ctl)                                                                \
	do {                                                                               \
		enum hv_hc_verdict v_ = check(ctl);                                        \
		ck_assert_msg(v_ == HV_HC_PROCEED, "control %#llx: verdict %d status %#x", \
			      (unsigned long long)(ctl), v_, status);                      \
	} while (0)

static void put64(u8 *buf, size_t off, u64 v)
{
	memcpy(buf + off, &v, 8);
}

static void put32(u8 *buf, size_t off, u32 v)
{
	memcpy(buf + off, &v, 4);
}

/* ---- input value ------------------------------------------------------- */

START_TEST(test_decode_fields)
{
	struct hv_hc_input in;

	ck_assert_uint_eq(hv_hc_decode(control(0x14, true, 3, 5, 2), &in), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(in.code, 0x14);
	ck_assert(in.fast);
	ck_assert_uint_eq(in.varhead, 3);
	ck_assert_uint_eq(in.rep_count, 5);
	ck_assert_uint_eq(in.rep_start, 2);
	ck_assert(!in.nested);
	/* Field maxima. */
	ck_assert_uint_eq(hv_hc_decode(control(0xFFFF, false, 0x3FF, 0xFFF, 0xFFF), &in),
			  HV_STATUS_SUCCESS);
	ck_assert_uint_eq(in.code, 0xFFFF);
	ck_assert(!in.fast);
	ck_assert_uint_eq(in.varhead, 0x3FF);
	ck_assert_uint_eq(in.rep_count, 0xFFF);
	ck_assert_uint_eq(in.rep_start, 0xFFF);
	ck_assert_uint_eq(in.rsvdz, 0);
}
END_TEST

static const int rsvdz_bits[] = {27, 28, 29, 30, 44, 45, 46, 47, 60, 61, 62, 63};

START_TEST(test_decode_reserved_bits)
{
	struct hv_hc_input in;
	int bit = rsvdz_bits[_i];
	u64 ctl = control(HvCallFlushVirtualAddressSpace, false, 0, 0, 0) | HV_BIT(bit);

	ck_assert_uint_eq(hv_hc_decode(ctl, &in), HV_STATUS_INVALID_HYPERCALL_INPUT);
	ck_assert_uint_eq(in.rsvdz, HV_BIT(bit));
	ck_assert_uint_eq(in.code, HvCallFlushVirtualAddressSpace); /* still decoded */
	/* Through the full check as well. */
	setup();
	ASSERT_COMPLETE(ctl, HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_decode_nested_bit)
{
	struct hv_hc_input in;
	u64 ctl = control(HvCallSignalEvent, true, 0, 0, 0) | HV_HYPERCALL_NESTED_BIT;

	ck_assert_uint_eq(hv_hc_decode(ctl, &in), HV_STATUS_INVALID_HYPERCALL_INPUT);
	ck_assert(in.nested);
	ck_assert_uint_eq(in.rsvdz, 0);
	ASSERT_COMPLETE(ctl, HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_rep_start_rewrite)
{
	u64 ctl = control(0x3, true, 2, 100, 7) | HV_BIT(63);
	u64 out = hv_hc_with_rep_start(ctl, 55);

	ck_assert_uint_eq(out, control(0x3, true, 2, 100, 55) | HV_BIT(63));
	/* Only 12 bits exist; nothing spills into the reserved nibble. */
	ck_assert_uint_eq(hv_hc_with_rep_start(0, 0xFFFF), 0x0FFF000000000000ULL);
	ck_assert_uint_eq(hv_hc_with_rep_start(control(1, 0, 0, 0, 0xFFF), 0), 1);
}
END_TEST

START_TEST(test_result_value)
{
	ck_assert_uint_eq(hv_hc_result(HV_STATUS_SUCCESS, 0), 0);
	ck_assert_uint_eq(hv_hc_result(HV_STATUS_INVALID_ALIGNMENT, 0x123), 0x0000012300000004ULL);
	/* Bits 63:44 stay reserved (zero) even for an out-of-range count. */
	ck_assert_uint_eq(hv_hc_result(HV_STATUS_SUCCESS, 0xFFFF), 0x00000FFF00000000ULL);
	ck_assert_uint_eq(hv_hc_result(0xFFFF, 0) >> 16, 0);
}
END_TEST

/* ---- call table --------------------------------------------------------- */

START_TEST(test_lookup)
{
	const struct hv_hc_info *i;

	i = hv_hc_lookup(HvCallFlushVirtualAddressListEx);
	ck_assert_ptr_nonnull(i);
	ck_assert_int_eq(i->kind, HV_HC_REP);
	ck_assert(i->variable);
	ck_assert_uint_eq(i->in_size, 32);
	ck_assert_uint_eq(i->in_elem, 8);
	ck_assert_str_eq(i->name, "HvCallFlushVirtualAddressListEx");
	i = hv_hc_lookup(HvCallSendSyntheticClusterIpi);
	ck_assert_ptr_nonnull(i);
	ck_assert_uint_eq(i->in_size, 16);
	ck_assert(!i->variable);
	i = hv_hc_lookup(HvExtCallQueryCapabilities);
	ck_assert_ptr_nonnull(i);
	ck_assert_uint_eq(i->out_size, 8);
	ck_assert_uint_eq(i->in_size, 0);
	static const u16 unknown[] = {0, HvCallSwitchVirtualAddressSpace, HvCallVtlCall,
				      HvCallGetVpRegisters, HvCallFlushGuestPhysicalAddressSpace,
				      HvExtCallGetBootZeroedMemory, 0x7FFF, 0xFFFF};
	for (size_t k = 0; k < ARRAY_SIZE(unknown); k++)
		ck_assert_ptr_null(hv_hc_lookup(unknown[k]));
}
END_TEST

#define LISTED_CODE(code_, ...) code_,
static const u16 listed[] = {HV_HYPERCALLS(LISTED_CODE)};

static bool is_listed(u32 code)
{
	for (size_t k = 0; k < ARRAY_SIZE(listed); k++) {
		if (listed[k] == code)
			return true;
	}
	return false;
}

/* The slot index is dense over two ranges; every code, also those between the
 * ranges, past the extended one and in empty slots, must find its own entry
 * or none. */
START_TEST(test_lookup_every_code)
{
	u32 found = 0, base_max = 0, ext_max = HV_EXT_CALL_FIRST;

	for (u32 code = 0; code <= 0xFFFF; code++) {
		const struct hv_hc_info *i = hv_hc_lookup((u16)code);

		if (!is_listed(code)) {
			ck_assert_msg(i == NULL, "code %#x is not listed but looks up", code);
			continue;
		}
		ck_assert_msg(i != NULL, "listed code %#x does not look up", code);
		ck_assert_uint_eq(i->code, code);
		ck_assert_ptr_nonnull(i->name);
		ck_assert_uint_eq(hv_hc_slot((u16)code), HV_HC_SLOT(code));
		found++;
		if (code < HV_EXT_CALL_FIRST)
			base_max = code;
		else
			ext_max = code;
	}
	ck_assert_uint_eq(found, ARRAY_SIZE(listed));
	/* The spans end at the highest listed codes, so the table stays small. */
	ck_assert_uint_eq(HV_HC_BASE_SLOTS, base_max + 1);
	ck_assert_uint_eq(HV_HC_EXT_SLOTS, ext_max - HV_EXT_CALL_FIRST + 1);
	ck_assert_uint_eq(hv_hc_slot((u16)(base_max + 1)), HV_HC_SLOTS);
	ck_assert_uint_eq(hv_hc_slot(HV_EXT_CALL_FIRST - 1), HV_HC_SLOTS);
	ck_assert_uint_eq(hv_hc_slot((u16)(ext_max + 1)), HV_HC_SLOTS);
	ck_assert_uint_eq(hv_hc_slot(0xFFFF), HV_HC_SLOTS);
}
END_TEST

/* ---- hv_hc_check ---------------------------------------------------------- */

START_TEST(test_cpl_and_real_mode_ud)
{
	req.cpl = 3;
	ck_assert_int_eq(check(control(HvCallSignalEvent, true, 0, 0, 0)), HV_HC_INJECT_UD);
	ck_assert_int_eq(check(control(0x7777, false, 0, 0, 0)), HV_HC_INJECT_UD);
	req.cpl = 0;
	req.protected_mode = false;
	ck_assert_int_eq(check(control(HvCallSignalEvent, true, 0, 0, 0)), HV_HC_INJECT_UD);
	req.protected_mode = true;
	req.cpl = 1;
	ck_assert_int_eq(check(control(HvCallSignalEvent, true, 0, 0, 0)), HV_HC_INJECT_UD);
}
END_TEST

START_TEST(test_unknown_code)
{
	ASSERT_COMPLETE(control(0x0777, false, 0, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE);
	ASSERT_COMPLETE(control(HvCallVtlCall, false, 0, 0, 0), HV_STATUS_INVALID_HYPERCALL_CODE);
	ASSERT_COMPLETE(control(HvExtCallMemoryHeatHint, false, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_CODE);
	/* An unknown code is reported as such even with reserved bits set. */
	ASSERT_COMPLETE(control(0x0777, false, 0, 0, 0) | HV_BIT(62),
			HV_STATUS_INVALID_HYPERCALL_CODE);
	/* Empty slots of the call table, the gap between its base and extended
	 * ranges, and codes past both. */
	static const u16 unlisted[] = {0,
				       HvCallGetVpIndexFromApicId + 1,
				       0x4000,
				       HV_EXT_CALL_FIRST - 1,
				       HvExtCallGetBootZeroedMemory,
				       0xFFFF};
	for (size_t k = 0; k < ARRAY_SIZE(unlisted); k++) {
		ASSERT_COMPLETE(control(unlisted[k], false, 0, 0, 0),
				HV_STATUS_INVALID_HYPERCALL_CODE);
		ASSERT_COMPLETE(control(unlisted[k], true, 0, 1, 0),
				HV_STATUS_INVALID_HYPERCALL_CODE);
	}
	/* Without EnableExtendedHypercalls an unknown extended code is still
	 * unknown, and a known one is denied. */
	ck_assert_int_eq(hv_features_parse(&f, "-ext_hypercalls"), 0);
	ASSERT_COMPLETE(control(HvExtCallGetBootZeroedMemory, false, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_CODE);
	ASSERT_COMPLETE(control(HvExtCallQueryCapabilities, false, 0, 0, 0),
			HV_STATUS_ACCESS_DENIED);
}
END_TEST

struct gate_case {
	const char *spec;
	u16 code;
	u16 reps;
};

static const struct gate_case gates[] = {
	{"-tlbflush", HvCallFlushVirtualAddressSpace, 0},
	{"-tlbflush", HvCallFlushVirtualAddressList, 1},
	{"-tlbflush", HvCallFlushVirtualAddressSpaceEx, 0},
	{"-ex_masks", HvCallFlushVirtualAddressSpaceEx, 0},
	{"-ex_masks", HvCallFlushVirtualAddressListEx, 1},
	{"-ex_masks", HvCallSendSyntheticClusterIpiEx, 0},
	{"-ipi", HvCallSendSyntheticClusterIpi, 0},
	{"-ipi", HvCallSendSyntheticClusterIpiEx, 0},
	{"-post_messages", HvCallPostMessage, 0},
	{"-signal_events", HvCallSignalEvent, 0},
	{"-synic", HvCallSignalEvent, 0},
	{"-ext_hypercalls", HvExtCallQueryCapabilities, 0},
	{"off", HvCallFlushVirtualAddressSpace, 0},
};

START_TEST(test_gates)
{
	const struct gate_case *c = &gates[_i];
	u64 ctl = control(c->code, false, 0, c->reps, 0);

	ASSERT_PROCEED(ctl);
	ck_assert_int_eq(hv_features_parse(&f, c->spec), 0);
	ASSERT_COMPLETE(ctl, HV_STATUS_ACCESS_DENIED);
	/* ACCESS_DENIED wins over a malformed input value (TLFS). */
	ASSERT_COMPLETE(ctl | HV_BIT(45), HV_STATUS_ACCESS_DENIED);
}
END_TEST

START_TEST(test_ungated_calls)
{
	/* Advisory / informational calls stay available with everything off
	 * except the interface itself. */
	ck_assert_int_eq(hv_features_parse(&f, "none"), 0);
	ASSERT_PROCEED(control(HvCallNotifyLongSpinWait, true, 0, 0, 0));
	ASSERT_PROCEED(control(HvCallGetVpIndexFromApicId, false, 0, 1, 0));
	ck_assert_int_eq(hv_features_parse(&f, "-ex_masks"), 0);
	ASSERT_COMPLETE(control(HvCallSendSyntheticClusterIpi, true, 0, 0, 0),
			HV_STATUS_ACCESS_DENIED);
}
END_TEST

START_TEST(test_rep_shape)
{
	/* Simple calls: any rep count or start index is invalid. */
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressSpace, false, 0, 1, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressSpace, false, 0, 0, 1),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallSignalEvent, true, 0, 0xFFF, 0xFFF),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* Rep calls: count >= 1, start < count. */
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, false, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, false, 0, 4, 4),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, false, 0, 4, 0xFFF),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, false, 0, 0, 3),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressList, false, 0, 4, 3));
	ck_assert_uint_eq(plan.in_len, 24 + 4 * 8);
	ck_assert_uint_eq(plan.out_len, 0);
	/* Variable headers only where the call has one. */
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressSpace, false, 1, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, false, 0x3FF, 1, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallSendSyntheticClusterIpi, true, 1, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressSpaceEx, false, 2, 0, 0));
	ck_assert_uint_eq(plan.in_len, 32 + 16);
}
END_TEST

START_TEST(test_plan_sizes)
{
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressListEx, false, 2, 3, 1));
	ck_assert_ptr_eq(plan.info, hv_hc_lookup(HvCallFlushVirtualAddressListEx));
	ck_assert_uint_eq(plan.in_len, 32 + 2 * 8 + 3 * 8);
	ck_assert_uint_eq(plan.in.rep_start, 1);
	ASSERT_PROCEED(control(HvCallGetVpIndexFromApicId, false, 0, 2, 1));
	ck_assert_uint_eq(plan.in_len, 16 + 2 * 4);
	ck_assert_uint_eq(plan.out_len, 2 * 4);
	ck_assert_uint_eq(plan.out_offset, 4);
	ASSERT_PROCEED(control(HvExtCallQueryCapabilities, false, 0, 0, 0));
	ck_assert_uint_eq(plan.in_len, 0);
	ck_assert_uint_eq(plan.out_len, 8);
	ASSERT_PROCEED(control(HvCallPostMessage, false, 0, 0, 0));
	ck_assert_uint_eq(plan.in_len, 256);
	ck_assert(!plan.uses_xmm);
}
END_TEST

struct gpa_case {
	u16 code;
	u16 reps;
	u64 in_gpa, out_gpa;
	u16 want; /* SUCCESS = proceed */
};

static const struct gpa_case gpa_cases[] = {
	{HvCallFlushVirtualAddressSpace, 0, 0x10004, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallFlushVirtualAddressSpace, 0, 0x10001, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallFlushVirtualAddressSpace, 0, 0x10FF8, 0, HV_STATUS_INVALID_ALIGNMENT}, /* crosses */
	{HvCallFlushVirtualAddressSpace, 0, 0x10FF0, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallFlushVirtualAddressSpace, 0, 0x10FE8, 0, HV_STATUS_SUCCESS}, /* ends at page end */
	{HvCallFlushVirtualAddressSpace, 0, 0x10FE8, 0x3, HV_STATUS_SUCCESS}, /* no output */
	{HvCallFlushVirtualAddressSpace, 0, GPA_LIMIT, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallFlushVirtualAddressSpace, 0, GPA_LIMIT - 16, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallFlushVirtualAddressSpace, 0, GPA_LIMIT - 24, 0, HV_STATUS_SUCCESS},
	{HvCallFlushVirtualAddressSpace, 0, 0xFFFFFFFFFFFFFFF8ULL, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallPostMessage, 0, 0x10F08, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallPostMessage, 0, 0x10F00, 0, HV_STATUS_SUCCESS},
	/* Rep lists: the whole list must fit in the page. */
	{HvCallFlushVirtualAddressList, 509, 0x10000, 0, HV_STATUS_SUCCESS},
	{HvCallFlushVirtualAddressList, 510, 0x10000, 0, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallFlushVirtualAddressList, 0xFFF, 0x10000, 0, HV_STATUS_INVALID_ALIGNMENT},
	/* Output checked like input; ignored when the call has none. */
	{HvExtCallQueryCapabilities, 0, 0x3, 0x20004, HV_STATUS_INVALID_ALIGNMENT},
	{HvExtCallQueryCapabilities, 0, 0x3, 0x20FF8, HV_STATUS_SUCCESS},
	{HvExtCallQueryCapabilities, 0, 0x3, GPA_LIMIT, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallGetVpIndexFromApicId, 1, 0x10000, 0x20FFC, HV_STATUS_INVALID_ALIGNMENT},
	{HvCallGetVpIndexFromApicId, 1, 0x10000, 0x20FF8, HV_STATUS_SUCCESS},
	{HvCallGetVpIndexFromApicId, 1, 0x10FF0, 0x20000, HV_STATUS_INVALID_ALIGNMENT},
};

START_TEST(test_gpa_rules)
{
	const struct gpa_case *c = &gpa_cases[_i];
	u64 ctl = control(c->code, false, 0, c->reps, 0);

	req.in_gpa = c->in_gpa;
	req.out_gpa = c->out_gpa;
	if (c->want == HV_STATUS_SUCCESS)
		ASSERT_PROCEED(ctl);
	else
		ASSERT_COMPLETE(ctl, c->want);
	/* The same call made fast never looks at the GPAs. */
	if (c->code == HvCallFlushVirtualAddressSpace) {
		ASSERT_PROCEED(ctl | HV_HYPERCALL_FAST_BIT);
	}
}
END_TEST

START_TEST(test_check_gpa_direct)
{
	ck_assert_uint_eq(hv_hc_check_gpa(0x3, 0, GPA_LIMIT), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(hv_hc_check_gpa(0, 4096, GPA_LIMIT), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(hv_hc_check_gpa(0, 4097, GPA_LIMIT), HV_STATUS_INVALID_ALIGNMENT);
	ck_assert_uint_eq(hv_hc_check_gpa(8, 4096, GPA_LIMIT), HV_STATUS_INVALID_ALIGNMENT);
	ck_assert_uint_eq(hv_hc_check_gpa(0xFFFFFFFFFFFFF000ULL, 8, UINT64_MAX),
			  HV_STATUS_SUCCESS);
	ck_assert_uint_eq(hv_hc_check_gpa(0xFFFFFFFFFFFFFFF8ULL, 8, UINT64_MAX),
			  HV_STATUS_INVALID_ALIGNMENT);
	ck_assert_uint_eq(hv_hc_check_gpa(0x1000, 8, 0), HV_STATUS_INVALID_ALIGNMENT);
}
END_TEST

START_TEST(test_fast_calls)
{
	/* 16 bytes fit RDX:R8: no XMM needed, even without XMM input. */
	ASSERT_PROCEED(control(HvCallSendSyntheticClusterIpi, true, 0, 0, 0));
	ck_assert(!plan.uses_xmm);
	ASSERT_PROCEED(control(HvCallSignalEvent, true, 0, 0, 0));
	/* 24 bytes need XMM0. */
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressSpace, true, 0, 0, 0));
	ck_assert(plan.uses_xmm);
	/* 112 bytes is the limit: 24 + 11 entries fits, 12 do not. */
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressList, true, 0, 11, 0));
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, true, 0, 12, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressSpaceEx, true, 10, 0, 0));
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressSpaceEx, true, 11, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressListEx, true, 0x3FF, 1, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallPostMessage, true, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* Output in registers needs XMM output, which is not offered. */
	ASSERT_COMPLETE(control(HvExtCallQueryCapabilities, true, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	ASSERT_COMPLETE(control(HvCallGetVpIndexFromApicId, true, 0, 1, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_fast_without_xmm)
{
	ck_assert_int_eq(hv_features_parse(&f, "-xmm_input"), 0);
	ck_assert_int_eq(check(control(HvCallFlushVirtualAddressSpace, true, 0, 0, 0)),
			 HV_HC_INJECT_UD);
	ck_assert_int_eq(check(control(HvCallFlushVirtualAddressListEx, true, 1, 2, 0)),
			 HV_HC_INJECT_UD);
	ASSERT_PROCEED(control(HvCallSendSyntheticClusterIpi, true, 0, 0, 0));
	/* Too big even for XMM: a status, not #UD. */
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressList, true, 0, 40, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* 32-bit callers have one register pair and no XMM convention. */
	ck_assert_int_eq(hv_features_parse(&f, "+xmm_input"), 0);
	req.long_mode = false;
	ASSERT_PROCEED(control(HvCallSendSyntheticClusterIpi, true, 0, 0, 0));
	ASSERT_COMPLETE(control(HvCallFlushVirtualAddressSpace, true, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_fast_output_pairs)
{
	/* Pretend XMM output is offered to check where output would start:
	 * in the pair after the input, input rounded up to 16 bytes (TLFS). */
	f.features_edx |= HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE;
	ASSERT_PROCEED(control(HvExtCallQueryCapabilities, true, 0, 0, 0));
	ck_assert_uint_eq(plan.fast_out_pair, 0); /* RDX:R8 */
	ck_assert(plan.uses_xmm);
	ASSERT_PROCEED(control(HvCallGetVpIndexFromApicId, true, 0, 1, 0));
	ck_assert_uint_eq(plan.fast_out_pair, 2); /* 20 input bytes -> output in XMM1 */
	/* Input plus output beyond 7 pairs. */
	ASSERT_PROCEED(control(HvCallGetVpIndexFromApicId, true, 0, 12, 0)); /* 64 + 48 */
	ASSERT_COMPLETE(control(HvCallGetVpIndexFromApicId, true, 0, 14, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
	req.long_mode = false;
	ASSERT_COMPLETE(control(HvExtCallQueryCapabilities, true, 0, 0, 0),
			HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

/* ---- processor sets -------------------------------------------------------- */

static u8 buf[4096 + 64];

START_TEST(test_legacy_mask)
{
	struct hv_vp_set s;

	hv_vp_set_from_mask(0x51, &s); /* TLFS example: VPs 0, 4, 6 */
	ck_assert(hv_vp_set_contains(&s, 0));
	ck_assert(hv_vp_set_contains(&s, 4));
	ck_assert(hv_vp_set_contains(&s, 6));
	ck_assert(!hv_vp_set_contains(&s, 1));
	ck_assert(!hv_vp_set_contains(&s, 64));
	ck_assert(!hv_vp_set_contains(&s, 0xFFFFFFFF));
	ck_assert_int_eq(hv_vp_set_next(&s, 0, 64), 0);
	ck_assert_int_eq(hv_vp_set_next(&s, 1, 64), 4);
	ck_assert_int_eq(hv_vp_set_next(&s, 5, 64), 6);
	ck_assert_int_eq(hv_vp_set_next(&s, 7, 64), -1);
	ck_assert_int_eq(hv_vp_set_next(&s, 1, 5), 4);
	ck_assert_int_eq(hv_vp_set_next(&s, 1, 4), -1);
	ck_assert(hv_vp_set_empty(&s, 0));
	hv_vp_set_from_mask(1ULL << 63, &s);
	ck_assert_int_eq(hv_vp_set_next(&s, 0, 64), 63);
	ck_assert(hv_vp_set_empty(&s, 63));
}
END_TEST

START_TEST(test_sparse_set_tlfs_example)
{
	struct hv_vp_set s;

	/* TLFS: {0, 5, 130} = mask 0x5, banks {0x21, 0x4}. */
	put64(buf, 8, HV_GENERIC_SET_SPARSE_4K);
	put64(buf, 16, 0x5);
	put64(buf, 24, 0x21);
	put64(buf, 32, 0x4);
	ck_assert_uint_eq(hv_vp_set_parse(buf, 40, 8, 2, &s), HV_STATUS_SUCCESS);
	ck_assert(!s.all);
	static const u32 in[] = {0, 5, 130};
	static const u32 out[] = {1, 4, 6, 63, 64, 69, 128, 129, 131, 191, 4095};
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		ck_assert(hv_vp_set_contains(&s, in[i]));
	for (size_t i = 0; i < ARRAY_SIZE(out); i++)
		ck_assert_msg(!hv_vp_set_contains(&s, out[i]), "VP %u", out[i]);
	ck_assert_int_eq(hv_vp_set_next(&s, 0, 200), 0);
	ck_assert_int_eq(hv_vp_set_next(&s, 1, 200), 5);
	ck_assert_int_eq(hv_vp_set_next(&s, 6, 200), 130);
	ck_assert_int_eq(hv_vp_set_next(&s, 131, 200), -1);
	ck_assert_int_eq(hv_vp_set_next(&s, 6, 130), -1); /* VP 130 does not exist */
}
END_TEST

START_TEST(test_sparse_set_all_banks)
{
	struct hv_vp_set s;

	put64(buf, 0, HV_GENERIC_SET_SPARSE_4K);
	put64(buf, 8, ~0ULL);
	for (int b = 0; b < 64; b++)
		put64(buf, 16 + 8 * b, 1ULL << b);
	ck_assert_uint_eq(hv_vp_set_parse(buf, 16 + 64 * 8, 0, 64, &s), HV_STATUS_SUCCESS);
	for (u32 b = 0; b < 64; b++) {
		ck_assert(hv_vp_set_contains(&s, 65 * b));
		ck_assert(!hv_vp_set_contains(&s, 65 * b + 1));
	}
	ck_assert(hv_vp_set_contains(&s, 4095));
	ck_assert(!hv_vp_set_contains(&s, 4096));
	ck_assert_int_eq(hv_vp_set_next(&s, 4000, 100000), 62 * 65);
	ck_assert_int_eq(hv_vp_set_next(&s, 62 * 65 + 1, 100000), 4095);
	/* One byte short of the last bank. */
	ck_assert_uint_eq(hv_vp_set_parse(buf, 16 + 64 * 8 - 1, 0, 64, &s),
			  HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

struct bad_set_case {
	u64 format, mask;
	u16 varhead;
	size_t len; /* bytes available from offset 0 */
	u16 want;
};

static const struct bad_set_case bad_sets[] = {
	{HV_GENERIC_SET_SPARSE_4K, 0x7, 2, 64, HV_STATUS_INVALID_HYPERCALL_INPUT}, /* claims 3 */
	{HV_GENERIC_SET_SPARSE_4K, 0x1, 2, 64, HV_STATUS_INVALID_HYPERCALL_INPUT}, /* claims 1 of 2 */
	{HV_GENERIC_SET_SPARSE_4K, ~0ULL, 1, 64, HV_STATUS_INVALID_HYPERCALL_INPUT},
	{HV_GENERIC_SET_SPARSE_4K, 0x3, 2, 31, HV_STATUS_INVALID_HYPERCALL_INPUT}, /* buffer short */
	{HV_GENERIC_SET_SPARSE_4K, 0x0, 0, 15, HV_STATUS_INVALID_HYPERCALL_INPUT}, /* no header */
	{HV_GENERIC_SET_SPARSE_4K, 0x0, 0x3FF, 64, HV_STATUS_INVALID_HYPERCALL_INPUT},
	{2, 0x1, 1, 64, HV_STATUS_INVALID_PARAMETER},
	{~0ULL, 0x0, 0, 64, HV_STATUS_INVALID_PARAMETER},
	{HV_GENERIC_SET_ALL, 0x0, 0x3FF, 64, HV_STATUS_INVALID_HYPERCALL_INPUT}, /* still bounded */
};

START_TEST(test_sparse_set_hostile)
{
	const struct bad_set_case *c = &bad_sets[_i];
	struct hv_vp_set s;

	memset(buf, 0xFF, 64);
	put64(buf, 0, c->format);
	put64(buf, 8, c->mask);
	ck_assert_uint_eq(hv_vp_set_parse(buf, c->len, 0, c->varhead, &s), c->want);
}
END_TEST

START_TEST(test_set_all_and_empty)
{
	struct hv_vp_set s;

	put64(buf, 0, HV_GENERIC_SET_ALL);
	put64(buf, 8, 0x1234); /* mask and bank qwords are ignored with ALL */
	put64(buf, 16, 0);
	ck_assert_uint_eq(hv_vp_set_parse(buf, 24, 0, 1, &s), HV_STATUS_SUCCESS);
	ck_assert(s.all);
	ck_assert(hv_vp_set_contains(&s, 4095));
	ck_assert_int_eq(hv_vp_set_next(&s, 7, 8), 7);
	ck_assert_int_eq(hv_vp_set_next(&s, 8, 8), -1);
	ck_assert_int_eq(hv_vp_set_next(&s, 0, 1000000), 0);
	/* An empty sparse set is valid and names nobody. */
	put64(buf, 0, HV_GENERIC_SET_SPARSE_4K);
	put64(buf, 8, 0);
	ck_assert_uint_eq(hv_vp_set_parse(buf, 16, 0, 0, &s), HV_STATUS_SUCCESS);
	ck_assert(hv_vp_set_empty(&s, 4096));
	ck_assert(!hv_vp_set_contains(&s, 0));
	/* Offset past the end. */
	ck_assert_uint_eq(hv_vp_set_parse(buf, 16, 17, 0, &s), HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

/* ---- GVA ranges --------------------------------------------------------------- */

START_TEST(test_gva_simple)
{
	struct hv_gva_range r;

	hv_gva_range_decode(0x12345000ULL, false, &r);
	ck_assert_uint_eq(r.base, 0x12345000ULL);
	ck_assert_uint_eq(r.pages, 1);
	ck_assert_uint_eq(r.page_shift, 12);
	ck_assert_uint_eq(r.last, 0x12345FFFULL);
	hv_gva_range_decode(0x12345FFFULL, false, &r);
	ck_assert_uint_eq(r.pages, 4096);
	ck_assert_uint_eq(r.last, 0x12345000ULL + 4096ULL * 4096 - 1);
	/* Bit 11 is just part of the count in the simple format. */
	hv_gva_range_decode(0x800, false, &r);
	ck_assert_uint_eq(r.pages, 0x801);
	ck_assert_uint_eq(r.page_shift, 12);
	/* Ranges running off the top of the address space saturate. */
	hv_gva_range_decode(0xFFFFFFFFFFFFF005ULL, false, &r);
	ck_assert_uint_eq(r.base, 0xFFFFFFFFFFFFF000ULL);
	ck_assert_uint_eq(r.pages, 6);
	ck_assert_uint_eq(r.last, UINT64_MAX);
	hv_gva_range_decode(0xFFFFFFFFFFFFF000ULL, false, &r);
	ck_assert_uint_eq(r.last, UINT64_MAX);
	hv_gva_range_decode(0xFFFFFFFFFFFFEFFFULL, false, &r);
	ck_assert_uint_eq(r.last, UINT64_MAX);
}
END_TEST

START_TEST(test_gva_extended)
{
	struct hv_gva_range r;

	hv_gva_range_decode(0x7000ULL | 0x7FF, true, &r); /* 2048 small pages */
	ck_assert_uint_eq(r.base, 0x7000);
	ck_assert_uint_eq(r.pages, 2048);
	ck_assert_uint_eq(r.page_shift, 12);
	hv_gva_range_decode(0x40000000ULL | HV_GVA_RANGE_EXT_LARGE_PAGE | 3, true, &r);
	ck_assert_uint_eq(r.base, 0x40000000ULL);
	ck_assert_uint_eq(r.pages, 4);
	ck_assert_uint_eq(r.page_shift, 21);
	ck_assert_uint_eq(r.last, 0x40000000ULL + 4 * (2ULL << 20) - 1);
	hv_gva_range_decode(0xC0000000ULL | HV_GVA_RANGE_EXT_LARGE_PAGE |
				    HV_GVA_RANGE_EXT_PAGE_SIZE_1G,
			    true, &r);
	ck_assert_uint_eq(r.base, 0xC0000000ULL);
	ck_assert_uint_eq(r.pages, 1);
	ck_assert_uint_eq(r.page_shift, 30);
	/* A 1 GiB entry naming an address inside the page covers the page;
	 * reserved bits 20:13 do not move it. */
	hv_gva_range_decode(0xC0200000ULL | HV_GVA_RANGE_EXT_LARGE_PAGE |
				    HV_GVA_RANGE_EXT_PAGE_SIZE_1G | HV_GVA_RANGE_EXT_LARGE_RSVD_MASK,
			    true, &r);
	ck_assert_uint_eq(r.base, 0xC0000000ULL);
	hv_gva_range_decode(~0ULL, true, &r);
	ck_assert_uint_eq(r.page_shift, 30);
	ck_assert_uint_eq(r.pages, 2048);
	ck_assert_uint_eq(r.last, UINT64_MAX);
}
END_TEST

/* ---- flush decoding ----------------------------------------------------------- */

static struct hv_hc_input mkin(u16 code, u16 varhead, u16 count, u16 start)
{
	struct hv_hc_input in;
	ck_assert_uint_eq(hv_hc_decode(control(code, false, varhead, count, start), &in),
			  HV_STATUS_SUCCESS);
	return in;
}

START_TEST(test_flush_space)
{
	struct hv_flush_request r;
	struct hv_hc_input in = mkin(HvCallFlushVirtualAddressSpace, 0, 0, 0);

	memset(buf, 0, 64);
	put64(buf, 0, 0xABCD000);
	put64(buf, 8, HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY);
	put64(buf, 16, 0x3);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 24, false, &r), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(r.address_space, 0xABCD000);
	ck_assert(r.non_global_only);
	ck_assert(!r.all_address_spaces);
	ck_assert(!r.list);
	ck_assert(hv_vp_set_contains(&r.targets, 1));
	ck_assert(!hv_vp_set_contains(&r.targets, 2));
	/* ALL_PROCESSORS overrides the mask. */
	put64(buf, 8, HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 24, false, &r), HV_STATUS_SUCCESS);
	ck_assert(r.targets.all);
	ck_assert(r.all_address_spaces);
	/* [DISPUTED #18] an empty mask flushes everybody. */
	put64(buf, 8, 0);
	put64(buf, 16, 0);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 24, false, &r), HV_STATUS_SUCCESS);
	ck_assert(r.targets.all);
	/* Short input. */
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 23, false, &r),
			  HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* Not a flush call. */
	in = mkin(HvCallSignalEvent, 0, 0, 0);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 24, false, &r),
			  HV_STATUS_INVALID_HYPERCALL_CODE);
}
END_TEST

struct flag_case {
	u16 code;
	u64 flags;
	bool ext_offered;
	u16 want;
};

static const struct flag_case flag_cases[] = {
	{HvCallFlushVirtualAddressSpace, HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, true,
	 HV_STATUS_INVALID_PARAMETER},
	{HvCallFlushVirtualAddressList, HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, false,
	 HV_STATUS_INVALID_PARAMETER},
	{HvCallFlushVirtualAddressList, HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, true, HV_STATUS_SUCCESS},
	{HvCallFlushVirtualAddressList, HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, false,
	 HV_STATUS_SUCCESS}, /* [DISPUTED #20] */
	{HvCallFlushVirtualAddressSpace, HV_FLUSH_USE_TARGET_VTL, false, HV_STATUS_INVALID_PARAMETER},
	{HvCallFlushVirtualAddressSpace, HV_FLUSH_TARGET_VTL0, false, HV_STATUS_INVALID_PARAMETER},
	{HvCallFlushVirtualAddressList, HV_FLUSH_TARGET_VTL1, false, HV_STATUS_INVALID_PARAMETER},
	{HvCallFlushVirtualAddressSpace, HV_BIT(63), false, HV_STATUS_INVALID_PARAMETER},
	{HvCallFlushVirtualAddressSpace, 0x7, false, HV_STATUS_SUCCESS},
};

START_TEST(test_flush_flags)
{
	const struct flag_case *c = &flag_cases[_i];
	struct hv_flush_request r;
	bool list = c->code == HvCallFlushVirtualAddressList;
	struct hv_hc_input in = mkin(c->code, 0, list ? 1 : 0, 0);

	memset(buf, 0, 64);
	put64(buf, 8, c->flags);
	put64(buf, 16, 1);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 32, c->ext_offered, &r), c->want);
}
END_TEST

START_TEST(test_flush_list_ex)
{
	struct hv_flush_request r;
	struct hv_gva_range g;
	struct hv_hc_input in = mkin(HvCallFlushVirtualAddressListEx, 2, 3, 1);

	memset(buf, 0, 128);
	put64(buf, 0, 0x5000);
	put64(buf, 8, 0);
	put64(buf, 16, HV_GENERIC_SET_SPARSE_4K);
	put64(buf, 24, 0x6); /* banks 1 and 2 */
	put64(buf, 32, 0x1); /* VP 64 */
	put64(buf, 40, 0x8); /* VP 131 */
	put64(buf, 48, 0x1000);		/* entry 0 (before rep start) */
	put64(buf, 56, 0x2000 | 0x2);	/* entry 1 */
	put64(buf, 64, 0xFFFFF000 | 0xFFF); /* entry 2 */
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 72, false, &r), HV_STATUS_SUCCESS);
	ck_assert(r.list);
	ck_assert(hv_vp_set_contains(&r.targets, 64));
	ck_assert(hv_vp_set_contains(&r.targets, 131));
	ck_assert(!hv_vp_set_contains(&r.targets, 0));
	ck_assert_uint_eq(r.gva_offset, 48);
	ck_assert_uint_eq(r.gva_first, 1);
	ck_assert_uint_eq(r.gva_end, 3);
	ck_assert_uint_eq(hv_flush_gva(&r, buf, 72, 1, &g), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(g.base, 0x2000);
	ck_assert_uint_eq(g.pages, 3);
	ck_assert_uint_eq(hv_flush_gva(&r, buf, 72, 2, &g), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(g.base, 0xFFFFF000);
	ck_assert_uint_eq(g.pages, 4096);
	/* Outside [rep start, rep count) or the buffer. */
	ck_assert_uint_eq(hv_flush_gva(&r, buf, 72, 0, &g), HV_STATUS_INVALID_HYPERCALL_INPUT);
	ck_assert_uint_eq(hv_flush_gva(&r, buf, 72, 3, &g), HV_STATUS_INVALID_HYPERCALL_INPUT);
	ck_assert_uint_eq(hv_flush_gva(&r, buf, 71, 2, &g), HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* The list must be in the buffer. */
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 71, false, &r),
			  HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* Bank mask claiming three banks with two provided. */
	put64(buf, 24, 0x7);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 72, false, &r),
			  HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* ALL format: the bank qwords are skipped, the GVA list still starts
	 * after the variable header. */
	put64(buf, 16, HV_GENERIC_SET_ALL);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 72, false, &r), HV_STATUS_SUCCESS);
	ck_assert(r.targets.all);
	ck_assert_uint_eq(r.gva_offset, 48);
	/* Unknown format. */
	put64(buf, 16, 5);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 72, false, &r), HV_STATUS_INVALID_PARAMETER);
	/* A non-Ex list must not carry a variable header. */
	struct hv_hc_input bad = mkin(HvCallFlushVirtualAddressList, 1, 1, 0);
	ck_assert_uint_eq(hv_flush_decode(&bad, buf, 72, false, &r),
			  HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* A flush-space request has no list. */
	struct hv_hc_input sp = mkin(HvCallFlushVirtualAddressSpace, 0, 0, 0);
	memset(buf, 0, 32);
	ck_assert_uint_eq(hv_flush_decode(&sp, buf, 24, false, &r), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(hv_flush_gva(&r, buf, 24, 0, &g), HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_flush_ex_empty_set)
{
	struct hv_flush_request r;
	struct hv_hc_input in = mkin(HvCallFlushVirtualAddressSpaceEx, 0, 0, 0);

	memset(buf, 0, 64);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 32, false, &r), HV_STATUS_SUCCESS);
	ck_assert(!r.targets.all);
	ck_assert(hv_vp_set_empty(&r.targets, 4096));
	put64(buf, 8, HV_FLUSH_ALL_PROCESSORS);
	ck_assert_uint_eq(hv_flush_decode(&in, buf, 32, false, &r), HV_STATUS_SUCCESS);
	ck_assert(r.targets.all);
}
END_TEST

/* End to end: a fast FlushVirtualAddressListEx as the registers carry it. */
START_TEST(test_fast_flush_from_registers)
{
	/* RDX, R8, XMM0.lo, XMM0.hi, XMM1.lo, ... as the core gathers them. */
	u64 regs[14] = {0};
	struct hv_flush_request r;
	struct hv_gva_range g;

	regs[0] = 0x7000;			/* RDX: address space */
	regs[1] = HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY; /* R8: flags */
	regs[2] = HV_GENERIC_SET_SPARSE_4K;	/* XMM0.lo */
	regs[3] = 0x1;				/* XMM0.hi: bank 0 */
	regs[4] = 0x2;				/* XMM1.lo: VP 1 */
	regs[5] = 0x400000 | 1;			/* XMM1.hi: GVA entry 0 */
	regs[6] = 0x800000;			/* XMM2.lo: GVA entry 1 */
	ASSERT_PROCEED(control(HvCallFlushVirtualAddressListEx, true, 1, 2, 0));
	ck_assert(plan.uses_xmm);
	ck_assert_uint_eq(plan.in_len, 32 + 8 + 16);
	ck_assert_uint_eq(hv_flush_decode(&plan.in, (const u8 *)regs, plan.in_len, false, &r),
			  HV_STATUS_SUCCESS);
	ck_assert(hv_vp_set_contains(&r.targets, 1));
	ck_assert(!hv_vp_set_contains(&r.targets, 0));
	ck_assert_uint_eq(hv_flush_gva(&r, (const u8 *)regs, plan.in_len, 0, &g), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(g.base, 0x400000);
	ck_assert_uint_eq(g.pages, 2);
	ck_assert_uint_eq(hv_flush_gva(&r, (const u8 *)regs, plan.in_len, 1, &g), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(g.base, 0x800000);
}
END_TEST

/* ---- IPI ------------------------------------------------------------------------ */

START_TEST(test_ipi)
{
	struct hv_ipi_request r;
	struct hv_hc_input in = mkin(HvCallSendSyntheticClusterIpi, 0, 0, 0);

	memset(buf, 0, 64);
	put32(buf, 0, 0x30);
	put64(buf, 8, 0x2);
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(r.vector, 0x30);
	ck_assert(hv_vp_set_contains(&r.targets, 1));
	ck_assert(!hv_vp_set_contains(&r.targets, 0));
	ck_assert(!r.targets.all);
	static const u32 vectors[] = {0x10, 0xFF};
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		put32(buf, 0, vectors[i]);
		ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_SUCCESS);
	}
	static const u32 bad_vectors[] = {0, 2, 0x0F, 0x100, 0x1030, 0xFFFFFFFF};
	for (size_t i = 0; i < ARRAY_SIZE(bad_vectors); i++) {
		put32(buf, 0, bad_vectors[i]);
		ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_INVALID_PARAMETER);
	}
	put32(buf, 0, 0x30);
	/* HV_INPUT_VTL: UseTargetVtl passes through; reserved bits do not. */
	buf[4] = HV_INPUT_VTL_USE_TARGET | 1;
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(r.target_vtl, 0x11);
	buf[4] = 0x20;
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_INVALID_PARAMETER);
	buf[4] = 0;
	for (int b = 5; b < 8; b++) {
		buf[b] = 1;
		ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_INVALID_PARAMETER);
		buf[b] = 0;
	}
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 15, &r), HV_STATUS_INVALID_HYPERCALL_INPUT);
	in = mkin(HvCallFlushVirtualAddressSpace, 0, 0, 0);
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 16, &r), HV_STATUS_INVALID_HYPERCALL_CODE);
}
END_TEST

START_TEST(test_ipi_ex)
{
	struct hv_ipi_request r;
	struct hv_hc_input in = mkin(HvCallSendSyntheticClusterIpiEx, 1, 0, 0);

	memset(buf, 0, 64);
	put32(buf, 0, 0xFE);
	put64(buf, 8, HV_GENERIC_SET_SPARSE_4K);
	put64(buf, 16, 0x2); /* bank 1 */
	put64(buf, 24, 0x2); /* VP 65 */
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 32, &r), HV_STATUS_SUCCESS);
	ck_assert(hv_vp_set_contains(&r.targets, 65));
	ck_assert(!hv_vp_set_contains(&r.targets, 1));
	/* Mask claims two banks, one provided. */
	put64(buf, 16, 0x3);
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 32, &r), HV_STATUS_INVALID_HYPERCALL_INPUT);
	put64(buf, 8, HV_GENERIC_SET_ALL);
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 32, &r), HV_STATUS_SUCCESS);
	ck_assert(r.targets.all);
	put64(buf, 8, 7);
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 32, &r), HV_STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(hv_ipi_decode(&in, buf, 23, &r), HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

/* ---- messages, events, GetVpIndexFromApicId -------------------------------------- */

START_TEST(test_post_message)
{
	struct hv_post_message_request r;

	memset(buf, 0, 256);
	put32(buf, 0, 0x2A);
	put32(buf, 8, 1);
	put32(buf, 12, 240);
	buf[16] = 0x5A;
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(r.connection_id, 0x2A);
	ck_assert_uint_eq(r.message_type, 1);
	ck_assert_uint_eq(r.payload_size, 240);
	ck_assert_ptr_eq(r.payload, buf + 16);
	put32(buf, 12, 241);
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_INVALID_PARAMETER);
	put32(buf, 12, 0xFFFFFFFF);
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_INVALID_PARAMETER);
	put32(buf, 12, 8);
	put32(buf, 8, 0);
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_INVALID_PARAMETER);
	put32(buf, 8, HvMessageTypeTimerExpired); /* hypervisor-only type */
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_INVALID_PARAMETER);
	put32(buf, 8, 0x7FFFFFFF);
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_SUCCESS);
	put32(buf, 4, 1);
	ck_assert_uint_eq(hv_post_message_decode(buf, 256, &r), HV_STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(hv_post_message_decode(buf, 255, &r), HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_signal_event)
{
	struct hv_signal_event_request r;

	memset(buf, 0, 8);
	put32(buf, 0, 0x123456);
	buf[4] = 0x34;
	buf[5] = 0x12;
	ck_assert_uint_eq(hv_signal_event_decode(buf, 8, &r), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(r.connection_id, 0x123456);
	ck_assert_uint_eq(r.flag_number, 0x1234);
	buf[7] = 1;
	ck_assert_uint_eq(hv_signal_event_decode(buf, 8, &r), HV_STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(hv_signal_event_decode(buf, 7, &r), HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

START_TEST(test_get_vp_index)
{
	u8 vtl = 0xEE;
	u32 apic = 0;

	memset(buf, 0, 32);
	put64(buf, 0, HV_PARTITION_ID_SELF);
	put32(buf, 16, 7);
	put32(buf, 20, 0xFFFFFFFE);
	ck_assert_uint_eq(hv_get_vp_index_decode(buf, 24, &vtl), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(vtl, 0);
	ck_assert_uint_eq(hv_get_vp_index_apic_id(buf, 24, 0, &apic), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(apic, 7);
	ck_assert_uint_eq(hv_get_vp_index_apic_id(buf, 24, 1, &apic), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(apic, 0xFFFFFFFE);
	ck_assert_uint_eq(hv_get_vp_index_apic_id(buf, 24, 2, &apic),
			  HV_STATUS_INVALID_HYPERCALL_INPUT);
	buf[8] = HV_INPUT_VTL_USE_TARGET;
	ck_assert_uint_eq(hv_get_vp_index_decode(buf, 24, &vtl), HV_STATUS_SUCCESS);
	ck_assert_uint_eq(vtl, HV_INPUT_VTL_USE_TARGET);
	buf[8] = 0x40;
	ck_assert_uint_eq(hv_get_vp_index_decode(buf, 24, &vtl), HV_STATUS_INVALID_PARAMETER);
	buf[8] = 0;
	buf[15] = 1;
	ck_assert_uint_eq(hv_get_vp_index_decode(buf, 24, &vtl), HV_STATUS_INVALID_PARAMETER);
	buf[15] = 0;
	put64(buf, 0, 0);
	ck_assert_uint_eq(hv_get_vp_index_decode(buf, 24, &vtl), HV_STATUS_INVALID_PARTITION_ID);
	ck_assert_uint_eq(hv_get_vp_index_decode(buf, 15, &vtl), HV_STATUS_INVALID_HYPERCALL_INPUT);
}
END_TEST

/* ---- random hostile input --------------------------------------------------------- */

static u64 rng = 88172645463325252ULL;

static u64 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random control values, GPAs and input bytes: no crash (ASan/UBSan watch),
 * and whatever is accepted respects the TLFS limits. */
START_TEST(test_random_inputs)
{
	static const u16 codes[] = {
		HvCallFlushVirtualAddressSpace, HvCallFlushVirtualAddressList,
		HvCallFlushVirtualAddressSpaceEx, HvCallFlushVirtualAddressListEx,
		HvCallSendSyntheticClusterIpi, HvCallSendSyntheticClusterIpiEx,
		HvCallNotifyLongSpinWait, HvCallPostMessage, HvCallSignalEvent,
		HvCallGetVpIndexFromApicId, HvExtCallQueryCapabilities, 0x1234};
	int proceeded = 0;

	for (int i = 0; i < 200000; i++) {
		u64 ctl = rnd();
		if (i % 4)
			ctl = (ctl & ~0xFFFFULL & ~HV_HYPERCALL_RSVDZ_MASK & ~HV_HYPERCALL_NESTED_BIT) |
			      codes[rnd() % ARRAY_SIZE(codes)];
		if (i % 3 == 0)
			ctl &= ~(HV_HYPERCALL_REP_COUNT_MASK | HV_HYPERCALL_REP_START_MASK |
				 HV_HYPERCALL_VARHEAD_MASK) |
			       (rnd() & 0x0003000300060000ULL);
		req.control = ctl;
		req.in_gpa = rnd() & (i % 2 ? 0xFFFFF : ~0ULL);
		req.out_gpa = rnd() & 0xFFFFF;
		req.long_mode = rnd() % 8 != 0;
		enum hv_hc_verdict v = hv_hc_check(&req, &f, &plan, &status);
		if (v != HV_HC_PROCEED)
			continue;
		proceeded++;
		ck_assert_ptr_nonnull(plan.info);
		ck_assert_uint_eq(plan.in.rsvdz, 0);
		ck_assert(!plan.in.nested);
		if (plan.info->kind == HV_HC_REP)
			ck_assert(plan.in.rep_start < plan.in.rep_count);
		else
			ck_assert(plan.in.rep_count == 0 && plan.in.rep_start == 0);
		if (plan.in.fast) {
			ck_assert_uint_le(plan.in_len + plan.out_len, 112);
		} else {
			ck_assert_uint_le(plan.in_len, 4096);
			ck_assert(plan.in_len == 0 || (req.in_gpa & 7) == 0);
			ck_assert(plan.in_len == 0 ||
				  (req.in_gpa & 0xFFF) + plan.in_len <= 4096);
		}
		/* Feed random bytes of exactly that length to the decoders. */
		u8 *in = malloc(plan.in_len ? plan.in_len : 1);
		for (u32 k = 0; k < plan.in_len; k++)
			in[k] = (u8)rnd();
		if (rnd() % 2 && plan.in_len >= 24)
			memset(in + 8, 0, 16 < plan.in_len - 8 ? 16 : plan.in_len - 8);
		struct hv_flush_request fr;
		struct hv_ipi_request ir;
		struct hv_gva_range g;
		if (hv_flush_decode(&plan.in, in, plan.in_len, rnd() % 2, &fr) == HV_STATUS_SUCCESS &&
		    fr.list) {
			for (u16 k = fr.gva_first; k < fr.gva_end; k++) {
				ck_assert_uint_eq(hv_flush_gva(&fr, in, plan.in_len, k, &g),
						  HV_STATUS_SUCCESS);
				ck_assert_uint_ge(g.last, g.base);
			}
		}
		if (hv_ipi_decode(&plan.in, in, plan.in_len, &ir) == HV_STATUS_SUCCESS)
			ck_assert(ir.vector >= 0x10 && ir.vector <= 0xFF);
		free(in);
	}
	ck_assert_int_gt(proceeded, 1000);
}
END_TEST

static Suite *hc_suite(void)
{
	Suite *s = suite_create("hv_hypercall_input");

	TCase *value = tcase_create("input value");
	tcase_add_checked_fixture(value, setup, NULL);
	tcase_add_test(value, test_decode_fields);
	tcase_add_loop_test(value, test_decode_reserved_bits, 0, (int)ARRAY_SIZE(rsvdz_bits));
	tcase_add_test(value, test_decode_nested_bit);
	tcase_add_test(value, test_rep_start_rewrite);
	tcase_add_test(value, test_result_value);
	tcase_add_test(value, test_lookup);
	tcase_add_test(value, test_lookup_every_code);
	suite_add_tcase(s, value);

	TCase *chk = tcase_create("check");
	tcase_add_checked_fixture(chk, setup, NULL);
	tcase_add_test(chk, test_cpl_and_real_mode_ud);
	tcase_add_test(chk, test_unknown_code);
	tcase_add_loop_test(chk, test_gates, 0, (int)ARRAY_SIZE(gates));
	tcase_add_test(chk, test_ungated_calls);
	tcase_add_test(chk, test_rep_shape);
	tcase_add_test(chk, test_plan_sizes);
	tcase_add_loop_test(chk, test_gpa_rules, 0, (int)ARRAY_SIZE(gpa_cases));
	tcase_add_test(chk, test_check_gpa_direct);
	tcase_add_test(chk, test_fast_calls);
	tcase_add_test(chk, test_fast_without_xmm);
	tcase_add_test(chk, test_fast_output_pairs);
	suite_add_tcase(s, chk);

	TCase *sets = tcase_create("processor sets");
	tcase_add_checked_fixture(sets, setup, NULL);
	tcase_add_test(sets, test_legacy_mask);
	tcase_add_test(sets, test_sparse_set_tlfs_example);
	tcase_add_test(sets, test_sparse_set_all_banks);
	tcase_add_loop_test(sets, test_sparse_set_hostile, 0, (int)ARRAY_SIZE(bad_sets));
	tcase_add_test(sets, test_set_all_and_empty);
	suite_add_tcase(s, sets);

	TCase *calls = tcase_create("calls");
	tcase_add_checked_fixture(calls, setup, NULL);
	tcase_add_test(calls, test_gva_simple);
	tcase_add_test(calls, test_gva_extended);
	tcase_add_test(calls, test_flush_space);
	tcase_add_loop_test(calls, test_flush_flags, 0, (int)ARRAY_SIZE(flag_cases));
	tcase_add_test(calls, test_flush_list_ex);
	tcase_add_test(calls, test_flush_ex_empty_set);
	tcase_add_test(calls, test_fast_flush_from_registers);
	tcase_add_test(calls, test_ipi);
	tcase_add_test(calls, test_ipi_ex);
	tcase_add_test(calls, test_post_message);
	tcase_add_test(calls, test_signal_event);
	tcase_add_test(calls, test_get_vp_index);
	suite_add_tcase(s, calls);

	TCase *fuzz = tcase_create("hostile");
	tcase_add_checked_fixture(fuzz, setup, NULL);
	tcase_set_timeout(fuzz, 120);
	tcase_add_test(fuzz, test_random_inputs);
	suite_add_tcase(s, fuzz);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hc_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
