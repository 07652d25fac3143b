/* Hypercall input decoding and validation (TLFS "Hypercall Interface" and the
 * pages of the individual hypercalls; digest 3, 4, 8).  See the header for the
 * order of checks and the readings chosen for disputed points. */
#include "hyperv/hv_hypercall_input.h"
#include "hyperv/hv_hypercall_list.h"

#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

/* No __builtin_popcountll: without -mpopcnt gcc calls libgcc, which the image
 * does not link. */
static u32 popcount64(u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (u32)((x * 0x0101010101010101ULL) >> 56);
}

/* ---- Input and result values (digest 3.3, 3.4) ---------------------------- */

u16 hv_hc_decode(u64 control, struct hv_hc_input *in)
{
	in->code = (u16)(control & HV_HYPERCALL_CODE_MASK);
	in->fast = (control & HV_HYPERCALL_FAST_BIT) != 0;
	in->varhead = (u16)((control & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_SHIFT);
	in->nested = (control & HV_HYPERCALL_NESTED_BIT) != 0;
	in->rep_count = (u16)((control & HV_HYPERCALL_REP_COUNT_MASK) >> HV_HYPERCALL_REP_COUNT_SHIFT);
	in->rep_start = (u16)((control & HV_HYPERCALL_REP_START_MASK) >> HV_HYPERCALL_REP_START_SHIFT);
	in->rsvdz = control & HV_HYPERCALL_RSVDZ_MASK;
	if (in->rsvdz || in->nested)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

u64 hv_hc_with_rep_start(u64 control, u16 rep_start)
{
	control &= ~HV_HYPERCALL_REP_START_MASK;
	return control | (((u64)rep_start << HV_HYPERCALL_REP_START_SHIFT) &
			  HV_HYPERCALL_REP_START_MASK);
}

u64 hv_hc_result(u16 status, u16 reps_completed)
{
	return (u64)status | (((u64)reps_completed << HV_HYPERCALL_RESULT_REPS_SHIFT) &
			      HV_HYPERCALL_RESULT_REPS_MASK);
}

/* ---- Call table ---------------------------------------------------------- */

/* Unlisted slots stay zero: a NULL name marks them (code 0 is a slot too). */
#define HC_INFO(code_, handler_, ...) \
	[HV_HC_SLOT(code_)] = {.code = code_, .name = #code_, __VA_ARGS__},
static const struct hv_hc_info hc_table[HV_HC_SLOTS] = {HV_HYPERCALLS(HC_INFO)};

const struct hv_hc_info *hv_hc_lookup(u16 code)
{
	u32 slot = hv_hc_slot(code);

	if (slot >= HV_HC_SLOTS || !hc_table[slot].name)
		return NULL;
	return &hc_table[slot];
}

/* ---- Validation (digest 3.5-3.7) ---------------------------------------- */

u16 hv_hc_check_gpa(u64 gpa, u32 len, u64 gpa_limit)
{
	if (len == 0) /* TLFS: the pointer is ignored when there is no list */
		return HV_STATUS_SUCCESS;
	if (gpa & 7)
		return HV_STATUS_INVALID_ALIGNMENT;
	if ((gpa & (HV_PAGE_SIZE - 1)) + len > HV_PAGE_SIZE)
		return HV_STATUS_INVALID_ALIGNMENT;
	/* Written so that gpa + len cannot wrap past 2^64. */
	if (gpa >= gpa_limit || len > gpa_limit - gpa)
		return HV_STATUS_INVALID_ALIGNMENT;
	return HV_STATUS_SUCCESS;
}

static u32 pairs(u32 bytes)
{
	return (bytes + HV_HYPERCALL_FAST_PAIR_BYTES - 1) / HV_HYPERCALL_FAST_PAIR_BYTES;
}

static bool gate_open(const struct hv_hc_info *info, const struct hv_features *f)
{
	return hv_has_privilege(f, info->privileges) &&
	       hv_is_recommended(f, info->recommendations);
}

static u16 check_shape(const struct hv_hc_input *in, const struct hv_hc_info *info)
{
	if (info->kind == HV_HC_SIMPLE) {
		if (in->rep_count || in->rep_start)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
	} else {
		if (in->rep_count == 0 || in->rep_start >= in->rep_count)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
	}
	if (in->varhead && !info->variable)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

enum hv_hc_verdict hv_hc_check(const struct hv_hc_request *req, const struct hv_features *f,
			       struct hv_hc_plan *plan, u16 *status)
{
	const struct hv_hc_info *info;
	u16 st;

	memset(plan, 0, sizeof(*plan));
	*status = HV_STATUS_SUCCESS;

	/* TLFS: hypercalls from CPL > 0 or real mode raise #UD (digest 3.1). */
	if (req->cpl != 0 || !req->protected_mode)
		return HV_HC_INJECT_UD;

	st = hv_hc_decode(req->control, &plan->in);
	info = hv_hc_lookup(plan->in.code);
	plan->info = info;
	if (!info) {
		*status = HV_STATUS_INVALID_HYPERCALL_CODE;
		return HV_HC_COMPLETE;
	}
	if (!gate_open(info, f)) {
		*status = HV_STATUS_ACCESS_DENIED;
		return HV_HC_COMPLETE;
	}
	if (st == HV_STATUS_SUCCESS)
		st = check_shape(&plan->in, info);
	if (st != HV_STATUS_SUCCESS) {
		*status = st;
		return HV_HC_COMPLETE;
	}

	if (info->kind == HV_HC_SIMPLE) {
		plan->in_len = info->in_size + plan->in.varhead * 8U;
		plan->out_len = info->out_size;
	} else {
		plan->in_len = info->in_size + plan->in.varhead * 8U +
			       (u32)plan->in.rep_count * info->in_elem;
		plan->out_len = (u32)plan->in.rep_count * info->out_elem;
		plan->out_offset = (u32)plan->in.rep_start * info->out_elem;
	}

	if (plan->in.fast) {
		u32 avail = req->long_mode ? HV_HYPERCALL_FAST_PAIRS_X64 : HV_HYPERCALL_FAST_PAIRS_X86;
		u32 in_pairs = pairs(plan->in_len);
		u32 out_pairs = pairs(plan->out_len);
		bool xmm_in = req->long_mode && hv_has_feature_edx(f, HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE);
		bool xmm_out = req->long_mode &&
			       hv_has_feature_edx(f, HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE);

		if (in_pairs > avail || (out_pairs && in_pairs + out_pairs > avail)) {
			*status = HV_STATUS_INVALID_HYPERCALL_INPUT;
			return HV_HC_COMPLETE;
		}
		/* Input beyond RDX:R8 is the XMM convention: #UD unless offered. */
		if (in_pairs > 1 && !xmm_in)
			return HV_HC_INJECT_UD;
		/* Output in registers exists only as XMM fast output (OVMM refuses
		 * it otherwise: INVALID_HYPERCALL_INPUT). */
		if (out_pairs && !xmm_out) {
			*status = HV_STATUS_INVALID_HYPERCALL_INPUT;
			return HV_HC_COMPLETE;
		}
		plan->fast_out_pair = in_pairs;
		plan->uses_xmm = in_pairs > 1 || out_pairs > 0;
		return HV_HC_PROCEED;
	}

	st = hv_hc_check_gpa(req->in_gpa, plan->in_len, req->gpa_limit);
	if (st == HV_STATUS_SUCCESS)
		st = hv_hc_check_gpa(req->out_gpa, plan->out_len, req->gpa_limit);
	if (st != HV_STATUS_SUCCESS) {
		*status = st;
		return HV_HC_COMPLETE;
	}
	return HV_HC_PROCEED;
}

/* ---- Processor sets ------------------------------------------------------- */

void hv_vp_set_from_mask(u64 mask, struct hv_vp_set *set)
{
	memset(set, 0, sizeof(*set));
	set->valid_banks = 1;
	set->bank[0] = mask;
}

u16 hv_vp_set_parse(const u8 *buf, size_t len, size_t off, u16 varhead, struct hv_vp_set *set)
{
	u64 format, mask;

	memset(set, 0, sizeof(*set));
	if (off > len || len - off < sizeof(struct hv_vp_set_header))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if ((len - off - sizeof(struct hv_vp_set_header)) / 8 < varhead)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	format = load_u64(buf + off);
	mask = load_u64(buf + off + 8);

	if (format == HV_GENERIC_SET_ALL) {
		set->all = true;
		return HV_STATUS_SUCCESS;
	}
	if (format != HV_GENERIC_SET_SPARSE_4K)
		return HV_STATUS_INVALID_PARAMETER;
	if (popcount64(mask) != varhead)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;

	set->valid_banks = mask;
	const u8 *contents = buf + off + sizeof(struct hv_vp_set_header);
	for (u32 b = 0, i = 0; b < HV_MAX_SPARSE_VCPU_BANKS; b++) {
		if (mask & HV_BIT(b))
			set->bank[b] = load_u64(contents + 8 * i++);
	}
	return HV_STATUS_SUCCESS;
}

bool hv_vp_set_contains(const struct hv_vp_set *set, u32 vp_index)
{
	u32 b = vp_index / HV_VCPUS_PER_SPARSE_BANK;

	if (set->all)
		return true;
	if (b >= HV_MAX_SPARSE_VCPU_BANKS)
		return false;
	return (set->bank[b] >> (vp_index % HV_VCPUS_PER_SPARSE_BANK)) & 1;
}

s32 hv_vp_set_next(const struct hv_vp_set *set, u32 from, u32 vp_count)
{
	if (vp_count > HV_MAX_VP_INDEX + 1)
		vp_count = HV_MAX_VP_INDEX + 1;
	if (from >= vp_count)
		return -1;
	if (set->all)
		return (s32)from;
	/* Banks past the last VP's hold nobody this partition has. */
	u32 last_bank = (vp_count - 1) / HV_VCPUS_PER_SPARSE_BANK;
	for (u32 b = from / HV_VCPUS_PER_SPARSE_BANK; b <= last_bank; b++) {
		u64 bits = set->bank[b];

		if (b == from / HV_VCPUS_PER_SPARSE_BANK)
			bits &= ~0ULL << (from % HV_VCPUS_PER_SPARSE_BANK);
		if (!bits)
			continue;
		u32 vp = b * HV_VCPUS_PER_SPARSE_BANK + (u32)__builtin_ctzll(bits);
		return vp < vp_count ? (s32)vp : -1;
	}
	return -1;
}

bool hv_vp_set_empty(const struct hv_vp_set *set, u32 vp_count)
{
	return hv_vp_set_next(set, 0, vp_count) < 0;
}

/* ---- GVA ranges ------------------------------------------------------------ */

void hv_gva_range_decode(u64 entry, bool extended, struct hv_gva_range *r)
{
	if (!extended) {
		r->page_shift = HV_PAGE_SHIFT;
		r->base = entry & ~HV_GVA_RANGE_SIMPLE_PAGES_MASK;
		r->pages = (entry & HV_GVA_RANGE_SIMPLE_PAGES_MASK) + 1;
	} else if (!(entry & HV_GVA_RANGE_EXT_LARGE_PAGE)) {
		r->page_shift = HV_PAGE_SHIFT;
		r->base = entry & ~0xFFFULL;
		r->pages = (entry & HV_GVA_RANGE_EXT_PAGES_MASK) + 1;
	} else {
		r->page_shift = (entry & HV_GVA_RANGE_EXT_PAGE_SIZE_1G) ? 30 : 21;
		/* 63:21 carry the address; a 1 GiB page starts at its alignment. */
		r->base = (entry >> HV_GVA_RANGE_EXT_LARGE_ADDR_SHIFT) << HV_GVA_RANGE_EXT_LARGE_ADDR_SHIFT;
		r->base &= ~((1ULL << r->page_shift) - 1);
		r->pages = (entry & HV_GVA_RANGE_EXT_PAGES_MASK) + 1;
	}
	/* last = base + pages * size - 1, saturated instead of wrapping. */
	u64 room = UINT64_MAX - r->base; /* bytes after base */
	u64 max_pages = (room >> r->page_shift) + 1;
	if (r->pages > max_pages)
		r->last = UINT64_MAX;
	else
		r->last = r->base + ((r->pages << r->page_shift) - 1);
}

/* ---- TLB flush ------------------------------------------------------------- */

static bool is_flush_code(u16 code, bool *ex, bool *list)
{
	switch (code) {
	case HvCallFlushVirtualAddressSpace:
		*ex = false, *list = false;
		return true;
	case HvCallFlushVirtualAddressList:
		*ex = false, *list = true;
		return true;
	case HvCallFlushVirtualAddressSpaceEx:
		*ex = true, *list = false;
		return true;
	case HvCallFlushVirtualAddressListEx:
		*ex = true, *list = true;
		return true;
	default:
		return false;
	}
}

u16 hv_flush_decode(const struct hv_hc_input *in, const u8 *buf, size_t len,
		    bool extended_ranges_offered, struct hv_flush_request *req)
{
	bool ex, list;
	u64 allowed = HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES |
		      HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY;
	size_t fixed;
	u16 st;

	memset(req, 0, sizeof(*req));
	if (!is_flush_code(in->code, &ex, &list))
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	fixed = ex ? sizeof(struct hv_flush_virtual_address_space_ex)
		   : sizeof(struct hv_flush_virtual_address_space);
	if (len < fixed || (!ex && in->varhead))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;

	req->address_space = load_u64(buf);
	req->flags = load_u64(buf + 8);
	req->list = list;
	if (list && extended_ranges_offered)
		allowed |= HV_FLUSH_USE_EXTENDED_RANGE_FORMAT;
	if (req->flags & ~allowed)
		return HV_STATUS_INVALID_PARAMETER;
	req->all_address_spaces = (req->flags & HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES) != 0;
	req->non_global_only = (req->flags & HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY) != 0;
	req->extended_ranges = (req->flags & HV_FLUSH_USE_EXTENDED_RANGE_FORMAT) != 0;

	if (ex) {
		st = hv_vp_set_parse(buf, len, 16, in->varhead, &req->targets);
		if (st != HV_STATUS_SUCCESS)
			return st;
	} else {
		u64 mask = load_u64(buf + 16);
		hv_vp_set_from_mask(mask, &req->targets);
		if (mask == 0) /* [DISPUTED #18]: empty mask = all (KVM) */
			req->targets.all = true;
	}
	if (req->flags & HV_FLUSH_ALL_PROCESSORS)
		req->targets.all = true;

	if (list) {
		/* KVM skips `varhead` qwords even for Format ALL (digest 8.3). */
		req->gva_offset = (u32)fixed + in->varhead * 8U;
		req->gva_first = in->rep_start;
		req->gva_end = in->rep_count;
		if (in->rep_count == 0 || in->rep_start >= in->rep_count ||
		    req->gva_offset + (size_t)in->rep_count * 8 > len)
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
	}
	return HV_STATUS_SUCCESS;
}

u16 hv_flush_gva(const struct hv_flush_request *req, const u8 *buf, size_t len, u16 index,
		 struct hv_gva_range *r)
{
	size_t off = req->gva_offset + (size_t)index * 8;

	if (!req->list || index < req->gva_first || index >= req->gva_end || off + 8 > len)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	hv_gva_range_decode(load_u64(buf + off), req->extended_ranges, r);
	return HV_STATUS_SUCCESS;
}

/* ---- PV IPI ----------------------------------------------------------------- */

u16 hv_ipi_decode(const struct hv_hc_input *in, const u8 *buf, size_t len,
		  struct hv_ipi_request *req)
{
	bool ex;

	memset(req, 0, sizeof(*req));
	if (in->code == HvCallSendSyntheticClusterIpi)
		ex = false;
	else if (in->code == HvCallSendSyntheticClusterIpiEx)
		ex = true;
	else
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	if (len < (ex ? sizeof(struct hv_send_synthetic_cluster_ipi_ex)
		      : sizeof(struct hv_send_synthetic_cluster_ipi)) ||
	    (!ex && in->varhead))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;

	req->vector = load_u32(buf);
	req->target_vtl = buf[4];
	if (req->vector < HV_IPI_LOW_VECTOR || req->vector > HV_IPI_HIGH_VECTOR)
		return HV_STATUS_INVALID_PARAMETER;
	if ((req->target_vtl & HV_INPUT_VTL_RSVDZ_MASK) || buf[5] || load_u16(buf + 6))
		return HV_STATUS_INVALID_PARAMETER;
	if (ex)
		return hv_vp_set_parse(buf, len, 8, in->varhead, &req->targets);
	hv_vp_set_from_mask(load_u64(buf + 8), &req->targets);
	return HV_STATUS_SUCCESS;
}

/* ---- Messages and events ---------------------------------------------------- */

u16 hv_post_message_decode(const u8 *buf, size_t len, struct hv_post_message_request *req)
{
	memset(req, 0, sizeof(*req));
	if (len < sizeof(struct hv_post_message_input))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	req->connection_id = load_u32(buf);
	req->message_type = load_u32(buf + 8);
	req->payload_size = load_u32(buf + 12);
	req->payload = buf + offsetof(struct hv_post_message_input, payload);
	if (load_u32(buf + 4))
		return HV_STATUS_INVALID_PARAMETER;
	if (req->message_type == HvMessageTypeNone ||
	    (req->message_type & HV_MESSAGE_TYPE_HYPERVISOR_MASK))
		return HV_STATUS_INVALID_PARAMETER;
	if (req->payload_size > HV_MESSAGE_MAX_PAYLOAD_BYTE_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}

u16 hv_signal_event_decode(const u8 *buf, size_t len, struct hv_signal_event_request *req)
{
	memset(req, 0, sizeof(*req));
	if (len < sizeof(struct hv_signal_event_input))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	req->connection_id = load_u32(buf);
	req->flag_number = load_u16(buf + 4);
	if (load_u16(buf + 6))
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}

/* ---- GetVpIndexFromApicId ------------------------------------------------------ */

u16 hv_get_vp_index_decode(const u8 *buf, size_t len, u8 *target_vtl)
{
	if (len < sizeof(struct hv_get_vp_index_from_apic_id_header))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	*target_vtl = buf[8];
	if (load_u64(buf) != HV_PARTITION_ID_SELF)
		return HV_STATUS_INVALID_PARTITION_ID;
	for (u32 i = 9; i < 16; i++) {
		if (buf[i])
			return HV_STATUS_INVALID_PARAMETER;
	}
	if (*target_vtl & HV_INPUT_VTL_RSVDZ_MASK)
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}

u16 hv_get_vp_index_apic_id(const u8 *buf, size_t len, u16 index, u32 *apic_id)
{
	size_t off = sizeof(struct hv_get_vp_index_from_apic_id_header) + (size_t)index * 4;

	if (off + 4 > len)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	*apic_id = load_u32(buf + off);
	return HV_STATUS_SUCCESS;
}
