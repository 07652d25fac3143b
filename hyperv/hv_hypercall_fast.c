/* See hyperv/hv_hypercall_fast.h. */
#include "hyperv/hv_hypercall_fast.h"
#include "kernel/lib/string.h"

void hv_hc_fast_input(const struct hv_hc_fast_regs *r, u8 *buf, u32 len)
{
	u64 q[2 + 12];

	q[0] = r->pair0[0];
	q[1] = r->pair0[1];
	memcpy(&q[2], r->xmm, sizeof(r->xmm));
	if (len > HV_HC_FAST_MAX_BYTES)
		len = HV_HC_FAST_MAX_BYTES;
	/* x86 is little-endian: the qwords' bytes are the input's bytes. */
	memcpy(buf, q, len);
}

u32 hv_vp_set_to_mask(const struct hv_vp_set *set, u32 vp_count, u64 *words, u32 nwords)
{
	u32 n = 0;

	memset(words, 0, nwords * sizeof(u64));
	if (vp_count > nwords * 64)
		vp_count = nwords * 64;
	for (s32 vp = hv_vp_set_next(set, 0, vp_count); vp >= 0;
	     vp = hv_vp_set_next(set, (u32)vp + 1, vp_count)) {
		words[vp / 64] |= 1ULL << (vp % 64);
		n++;
	}
	return n;
}

s32 hv_vp_index_of_apic_id(const u32 *apic_ids, u32 vp_count, u32 apic_id)
{
	for (u32 i = 0; i < vp_count; i++) {
		if (apic_ids[i] == apic_id)
			return (s32)i;
	}
	return -1;
}
