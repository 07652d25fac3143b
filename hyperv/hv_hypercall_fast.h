/* Pure helpers of the hypercall exit (hyperv/hv_hypercalls.c) that need no VP:
 * the fast-call input block built from register values, and VP sets turned
 * into the partition's target list.  Also built into the host unit tests. */
#ifndef HV_HYPERV_HV_HYPERCALL_FAST_H
#define HV_HYPERV_HV_HYPERCALL_FAST_H

#include "hyperv/hv_hypercall_input.h"
#include "kernel/types.h"

/* Largest fast input: RDX, R8 and XMM0-XMM5 (digest 3.5). */
#define HV_HC_FAST_MAX_BYTES (HV_HYPERCALL_FAST_PAIRS_X64 * HV_HYPERCALL_FAST_PAIR_BYTES)

/* The registers a fast call reads.  64-bit callers: RDX, R8, then XMM0-5 as
 * qwords low half first.  32-bit callers have one pair only (TLFS 3.8): the
 * first qword is EBX:ECX, the second EDI:ESI; xmm is not used. */
struct hv_hc_fast_regs {
	u64 pair0[2];
	u64 xmm[12];
};

/* Lays out the first `len` bytes (<= HV_HC_FAST_MAX_BYTES) of the fast input
 * in the order of the TLFS register pairs, little-endian. */
void hv_hc_fast_input(const struct hv_hc_fast_regs *r, u8 *buf, u32 len);

/* Marks in words[] (bit i = VP index i, nwords * 64 bits) every VP of `set`
 * below vp_count, and returns how many.  Indexes the partition does not have
 * are ignored, as KVM does: the TLFS names no error for them. */
u32 hv_vp_set_to_mask(const struct hv_vp_set *set, u32 vp_count, u64 *words, u32 nwords);

/* HvCallGetVpIndexFromApicId's lookup: the VP index whose APIC ID is apic_id
 * (apic_ids[i] is VP i's), or -1. */
s32 hv_vp_index_of_apic_id(const u32 *apic_ids, u32 vp_count, u32 apic_id);

#endif
