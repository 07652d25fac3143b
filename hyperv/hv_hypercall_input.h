/* Hypercall input decoding and validation (TLFS "Hypercall Interface"; digest 3,
 * 4 and 8).  Pure logic: every function takes register values or the bytes of
 * the input block and returns an HV_STATUS; nothing here reads guest memory,
 * touches a VP or knows VMX/SVM.  Also built into the host unit tests.
 *
 * How the hypercall exit handler uses it:
 *  1. hv_hc_check(): CPL/mode, call code, privilege gate, input value, rep
 *     shape, fast-call register budget, GPA alignment and page crossing.  Its
 *     verdict is "inject #UD", "complete now with this status" or "proceed"
 *     with a plan: how many input bytes to copy, where output goes.
 *  2. The core copies the input: for a memory call plan.in_len bytes from the
 *     input GPA (after checking that they are guest RAM); for a fast call the
 *     registers, laid out as the TLFS register pairs (RDX, R8), XMM0, ...,
 *     XMM5, i.e. the qwords RDX, R8, XMM0.lo, XMM0.hi, ..., XMM5.hi (32-bit
 *     callers: EBX:ECX, EDI:ESI).  The first plan.in_len bytes are the input.
 *  3. The per-call decoder (hv_flush_decode, hv_ipi_decode, ...) turns the bytes
 *     into a request or an error status.
 *  4. The result value is hv_hc_result(status, reps completed).  A rep call
 *     that runs out of time budget leaves RIP on the VMCALL and writes
 *     hv_hc_with_rep_start(control, reps completed) back into RCX (digest 3.8).
 */
#ifndef HV_HYPERV_HV_HYPERCALL_INPUT_H
#define HV_HYPERV_HV_HYPERCALL_INPUT_H

#include "hyperv/hv_cpuid.h"
#include "hyperv/hv_defs.h"
#include "kernel/types.h"

/* ---- The input value (digest 3.3) --------------------------------------- */

struct hv_hc_input {
	u16 code;	/* 15:0 */
	bool fast;	/* 16 */
	u16 varhead;	/* 26:17, variable header size in qwords */
	bool nested;	/* 31 IsNested */
	u16 rep_count;	/* 43:32 */
	u16 rep_start;	/* 59:48 */
	u64 rsvdz;	/* the RsvdZ bits that were set (30:27, 47:44, 63:60) */
};

/* Splits the input value into its fields (always, even when it fails).
 * Returns HV_STATUS_INVALID_HYPERCALL_INPUT if a RsvdZ bit is set or IsNested
 * is set (this hypervisor does not run nested: digest 3.3), else SUCCESS. */
u16 hv_hc_decode(u64 control, struct hv_hc_input *in);

/* The input value with a new rep start index (bits 59:48), for continuation. */
u64 hv_hc_with_rep_start(u64 control, u16 rep_start);

/* The result value: 15:0 status, 43:32 reps completed (absolute, not relative
 * to the start index).  [DISPUTED #5] reserved bits are 63:44 (LNX, OVMM,
 * MSVM), not the TLFS table's "63:40". */
u64 hv_hc_result(u16 status, u16 reps_completed);

/* ---- What each implemented call looks like ------------------------------ */

enum hv_hc_kind {
	HV_HC_SIMPLE, /* rep count and start must be 0 */
	HV_HC_REP,    /* rep count >= 1, rep start < rep count */
};

struct hv_hc_info {
	u16 code;
	const char *name;	/* TLFS name */
	enum hv_hc_kind kind;
	bool variable;		/* accepts a variable header */
	u16 in_size;		/* simple: fixed input bytes; rep: header bytes */
	u16 out_size;		/* simple: output bytes */
	u16 in_elem;		/* rep: bytes per input element */
	u16 out_elem;		/* rep: bytes per output element */
	/* Gate: without these the call fails with HV_STATUS_ACCESS_DENIED (KVM's
	 * hv_check_hypercall_access; TLFS: ACCESS_DENIED wins). */
	u64 privileges;
	u32 recommendations;
};

/* The description of a call HV_HYPERCALLS lists (hv_hypercall_list.h), or NULL
 * (-> INVALID_HYPERCALL_CODE).  Constant time: it runs on every hypercall. */
const struct hv_hc_info *hv_hc_lookup(u16 code);

/* ---- Validation of one hypercall exit ----------------------------------- */

struct hv_hc_request {
	u64 control;	  /* RCX (x86: EDX:EAX) */
	u64 in_gpa;	  /* RDX (x86: EBX:ECX); memory calls only */
	u64 out_gpa;	  /* R8 (x86: EDI:ESI); memory calls only */
	u8 cpl;		  /* current privilege level of the caller */
	bool protected_mode; /* CR0.PE */
	bool long_mode;	  /* 64-bit convention: EFER.LMA && CS.L (digest 3.1) */
	u64 gpa_limit;	  /* first GPA past the partition's GPA space (1 << MAXPHYADDR) */
};

enum hv_hc_verdict {
	HV_HC_PROCEED,	 /* run the call with plan */
	HV_HC_COMPLETE,	 /* write hv_hc_result(*status, 0), advance RIP */
	HV_HC_INJECT_UD, /* inject #UD, touch no register */
};

struct hv_hc_plan {
	struct hv_hc_input in;
	const struct hv_hc_info *info;
	u32 in_len;	/* input bytes: header + varhead * 8 + rep_count * in_elem */
	u32 out_len;	/* output bytes: out_size, or rep_count * out_elem */
	u32 out_offset; /* first output byte of this attempt (rep_start * out_elem) */
	u32 fast_out_pair; /* fast calls: register pair where output starts
			    * (0 = RDX:R8, 1 = XMM0, ...) */
	bool uses_xmm;	/* fast call that reads or writes XMM registers */
};

/* Checks, in this order (TLFS leaves the precedence open except that
 * ACCESS_DENIED must win; digest 3.7):
 *   CPL > 0 or real mode                          -> #UD (TLFS, KVM; digest 3.1)
 *   unknown call code                             -> INVALID_HYPERCALL_CODE
 *   gate (privilege/recommendation) not offered   -> ACCESS_DENIED
 *   RsvdZ bits or IsNested set                    -> INVALID_HYPERCALL_INPUT
 *   simple call with rep count/start != 0, rep call with rep count 0 or
 *   rep start >= rep count, variable header on a call without one
 *                                                 -> INVALID_HYPERCALL_INPUT
 *   fast input that needs XMM registers which are not offered (or a 32-bit
 *   caller)                                       -> #UD (TLFS, KVM; digest 3.5)
 *   fast input/output larger than the 7 register pairs, fast output without
 *   XMM output offered                            -> INVALID_HYPERCALL_INPUT (OVMM)
 *   memory call: input or output GPA not 8-byte aligned, list crossing a page
 *   boundary, or beyond gpa_limit                 -> INVALID_ALIGNMENT (TLFS; OVMM
 *                                                    uses INVALID_HYPERCALL_INPUT for
 *                                                    page crossing)
 * A GPA is not checked when its list is empty (digest 3.6).  Whether the
 * pages are RAM (not MMIO, not an overlay) is for the caller to check. */
enum hv_hc_verdict hv_hc_check(const struct hv_hc_request *req, const struct hv_features *f,
			       struct hv_hc_plan *plan, u16 *status);

/* The memory-call GPA rule alone: SUCCESS or INVALID_ALIGNMENT. */
u16 hv_hc_check_gpa(u64 gpa, u32 len, u64 gpa_limit);

/* ---- Processor sets (digest 4.2, 8.2, 8.3) ------------------------------ */

struct hv_vp_set {
	bool all;			/* every VP of the partition */
	u64 valid_banks;		/* ValidBanksMask */
	u64 bank[HV_MAX_SPARSE_VCPU_BANKS]; /* bank b = VPs 64b..64b+63; 0 if absent */
};

/* The legacy 64-bit ProcessorMask: bit i = VP i (VPs 0..63 only). */
void hv_vp_set_from_mask(u64 mask, struct hv_vp_set *set);

/* Parses an HV_VP_SET whose fixed part (Format, ValidBanksMask) starts at
 * buf[off] and whose BankContents are the `varhead` qwords right after it
 * (the variable header of the Ex calls).  Errors:
 *   Format other than SPARSE_4K (0) or ALL (1)     -> INVALID_PARAMETER
 *     ([DISPUTED #19] OVMM rejects ALL for flushes; TLFS and KVM accept it:
 *     accepted here)
 *   SPARSE_4K with varhead != popcount(mask), e.g. a mask claiming more banks
 *   than the variable header carries              -> INVALID_HYPERCALL_INPUT (KVM, OVMM)
 *   the buffer is shorter than the set             -> INVALID_HYPERCALL_INPUT
 * With ALL the mask and any bank qwords are ignored (KVM). */
u16 hv_vp_set_parse(const u8 *buf, size_t len, size_t off, u16 varhead, struct hv_vp_set *set);

bool hv_vp_set_contains(const struct hv_vp_set *set, u32 vp_index);

/* The first VP index >= from that is in the set and < vp_count, or -1. */
s32 hv_vp_set_next(const struct hv_vp_set *set, u32 from, u32 vp_count);

/* True when no VP below vp_count is in the set. */
bool hv_vp_set_empty(const struct hv_vp_set *set, u32 vp_count);

/* ---- GVA ranges of FlushVirtualAddressList(Ex) (digest 8.4) ------------- */

struct hv_gva_range {
	u64 base;	/* first byte (page aligned) */
	u64 pages;	/* number of pages of size 1 << page_shift, >= 1 */
	u8 page_shift;	/* 12, 21 or 30 */
	u64 last;	/* last byte covered, saturated at UINT64_MAX */
};

/* Simple format: 63:12 GVA page number, 11:0 additional pages (1..4096 pages).
 * Extended format (HV_FLUSH_USE_EXTENDED_RANGE_FORMAT): 10:0 additional pages,
 * 11 LargePage; for large pages 12 selects 1 GiB (else 2 MiB) and 63:21 hold the
 * address bits; reserved bits 20:13 are ignored (flushing more is harmless). */
void hv_gva_range_decode(u64 entry, bool extended, struct hv_gva_range *r);

/* ---- TLB flush hypercalls (digest 4.3, 8) -------------------------------- */

struct hv_flush_request {
	u64 address_space;
	u64 flags;
	bool all_address_spaces;	/* HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES */
	bool non_global_only;		/* HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY */
	bool extended_ranges;		/* HV_FLUSH_USE_EXTENDED_RANGE_FORMAT */
	bool list;			/* a List variant: flush only the ranges */
	struct hv_vp_set targets;
	u32 gva_offset;			/* byte offset of GVA entry 0 in the input */
	u16 gva_first, gva_end;		/* entries [rep_start, rep_count) */
};

/* Decodes the input of HvCallFlushVirtualAddressSpace/List(Ex) after
 * hv_hc_check() accepted it.  Flags: bits other than ALL_PROCESSORS,
 * ALL_VIRTUAL_ADDRESS_SPACES, NON_GLOBAL_MAPPINGS_ONLY (and, for the List
 * variants when `extended_ranges_offered`, USE_EXTENDED_RANGE_FORMAT) ->
 * INVALID_PARAMETER (digest 8.1 recommendation; the target-VTL bits are [1-src]
 * and rejected until VSM).  NON_GLOBAL_MAPPINGS_ONLY on a List variant is
 * accepted ([DISPUTED #20]: TLFS calls it invalid, OVMM accepts; the flush is
 * then simply complete).  An empty non-Ex ProcessorMask means all processors
 * ([DISPUTED #18]: KVM, for Windows Server 2012; OVMM rejects).  An empty Ex
 * sparse set targets nobody and succeeds (KVM). */
u16 hv_flush_decode(const struct hv_hc_input *in, const u8 *buf, size_t len,
		    bool extended_ranges_offered, struct hv_flush_request *req);

/* Entry `index` (gva_first <= index < gva_end) of a List request. */
u16 hv_flush_gva(const struct hv_flush_request *req, const u8 *buf, size_t len, u16 index,
		 struct hv_gva_range *r);

/* ---- PV IPI (digest 4.5) -------------------------------------------------- */

struct hv_ipi_request {
	u32 vector;
	u8 target_vtl;	/* raw HV_INPUT_VTL; the caller checks it against its VTLs */
	struct hv_vp_set targets;
};

/* Decodes HvCallSendSyntheticClusterIpi(Ex).  Vector outside 0x10..0xFF ->
 * INVALID_PARAMETER (TLFS "must be between 0x10 and 0xFF"; OVMM's status.  KVM
 * answers INVALID_HYPERCALL_INPUT).  HV_INPUT_VTL RsvdZ bits or the padding
 * bytes 5..7 set -> INVALID_PARAMETER (OVMM rejects reserved fields so). */
u16 hv_ipi_decode(const struct hv_hc_input *in, const u8 *buf, size_t len,
		  struct hv_ipi_request *req);

/* ---- Messages and events (digest 4.14, 4.15) ------------------------------ */

struct hv_post_message_request {
	u32 connection_id;
	u32 message_type;
	u32 payload_size;
	const u8 *payload; /* points into buf */
};

/* HvCallPostMessage: message type 0 or with bit 31 set, or payload size > 240
 * -> INVALID_PARAMETER (TLFS); RsvdZ word set -> INVALID_PARAMETER. */
u16 hv_post_message_decode(const u8 *buf, size_t len, struct hv_post_message_request *req);

struct hv_signal_event_request {
	u32 connection_id;
	u16 flag_number;
};

/* HvCallSignalEvent: RsvdZ (bytes 6..7) set -> INVALID_PARAMETER.  The flag
 * number is checked against the port's flag count by the caller. */
u16 hv_signal_event_decode(const u8 *buf, size_t len, struct hv_signal_event_request *req);

/* ---- GetVpIndexFromApicId (digest 4.19) ------------------------------------ */

/* Header: PartitionId must be HV_PARTITION_ID_SELF (else INVALID_PARTITION_ID),
 * TargetVtl is returned raw, padding must be 0 (else INVALID_PARAMETER). */
u16 hv_get_vp_index_decode(const u8 *buf, size_t len, u8 *target_vtl);

/* APIC ID element `index`.  [DISPUTED #2] elements are packed u32 (OVMM), not
 * the TLFS's 8-byte padded form; Linux and KVM only ever use rep count 1. */
u16 hv_get_vp_index_apic_id(const u8 *buf, size_t len, u16 index, u32 *apic_id);

#endif
