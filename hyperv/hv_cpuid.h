/* What the partition is offered of the Hv#1 interface, and the CPUID leaves
 * 0x40000000-0x40000006 that tell the guest about it (TLFS "Feature and
 * Interface Discovery"; digest 1).  Pure logic: also built into the host unit
 * tests.
 *
 * One struct hv_features per partition is the single source of truth: the
 * CPUID leaves, the MSR gates (every synthetic MSR is #GP unless its privilege
 * bit is offered) and the hypercall gates all read it.  It is built from a table
 * of named features; the hypervisor command line can only narrow it:
 *
 *   hv_features=<item>[,<item>...]   items apply left to right
 *     -name     turn the feature off
 *     +name     turn it back on (only if this hypervisor offers it)
 *     name      same as +name
 *     all       every offered feature on        none   every feature off
 *     off       hide the whole interface (leaves read as zero, every
 *               synthetic MSR #GPs)               on     show it again
 *
 * e.g. "hv_features=-stimer,-tlbflush" or "hv_features=none,+hypercall,+vpindex".
 * After the items, features whose prerequisites are off are turned off too
 * (stimer needs synic and time, ...), each reported with one pr_info line.
 * Unknown names, empty items and "+name" for something this hypervisor does
 * not offer are reported with pr_warn ("hv_features: ...") and skipped. */
#ifndef HV_HYPERV_HV_CPUID_H
#define HV_HYPERV_HV_CPUID_H

#include "hyperv/hv_defs.h"
#include "kernel/types.h"

/* Named features (bit numbers of hv_features.on / .offered). */
enum hv_feature {
	HV_FEAT_HYPERCALL,	/* GUEST_OS_ID + HYPERCALL MSRs (AccessHypercallMsrs) */
	HV_FEAT_VPINDEX,	/* VP_INDEX MSR (AccessVpIndex) */
	HV_FEAT_RUNTIME,	/* VP_RUNTIME MSR */
	HV_FEAT_TIME,		/* TIME_REF_COUNT MSR */
	HV_FEAT_TSC_PAGE,	/* REFERENCE_TSC page */
	HV_FEAT_SYNIC,		/* SynIC MSRs */
	HV_FEAT_STIMER,		/* synthetic timers */
	HV_FEAT_STIMER_DIRECT,	/* stimer direct mode */
	HV_FEAT_VAPIC,		/* EOI/ICR/TPR MSRs, VP assist page, APIC-MSR hint */
	HV_FEAT_RESET,		/* RESET MSR and its hint */
	HV_FEAT_IDLE,		/* GUEST_IDLE MSR */
	HV_FEAT_FREQUENCIES,	/* TSC_FREQUENCY / APIC_FREQUENCY MSRs */
	HV_FEAT_CRASH,		/* crash MSRs */
	HV_FEAT_RELAXED,	/* relaxed-timing hint */
	HV_FEAT_TLBFLUSH,	/* local/remote TLB flush hypercall hints */
	HV_FEAT_IPI,		/* SendSyntheticClusterIpi hint */
	HV_FEAT_EX_MASKS,	/* Ex processor sets hint */
	HV_FEAT_XMM_INPUT,	/* XMM fast hypercall input */
	HV_FEAT_MSR_LOCK,	/* HYPERCALL MSR Locked bit */
	HV_FEAT_POST_MESSAGES,	/* HvCallPostMessage */
	HV_FEAT_SIGNAL_EVENTS,	/* HvCallSignalEvent */
	HV_FEAT_EXT_HYPERCALLS, /* HvExtCall* (QueryCapabilities) */
	HV_FEAT_AUTOEOI,	/* AutoEOI allowed; off = "deprecate AutoEOI" hint */
	HV_FEAT_XMM_OUTPUT,	/* XMM fast hypercall output (not offered yet) */
	HV_FEAT_TLBFLUSH_EXT,	/* extended GVA ranges in flush lists (not offered yet) */
	HV_FEAT_SINT_POLLING,	/* SINT polling mode (not offered yet) */
	HV_FEAT_EOI_ASSIST,	/* "no EOI required" in the VP assist page */
	HV_FEAT_COUNT
};

#define HV_FEAT(f) (1U << (f))

/* The features this hypervisor implements: the ceiling of every partition. */
#define HV_FEATURES_OFFERED                                                               \
	(HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_VPINDEX) | HV_FEAT(HV_FEAT_RUNTIME) |   \
	 HV_FEAT(HV_FEAT_TIME) | HV_FEAT(HV_FEAT_TSC_PAGE) | HV_FEAT(HV_FEAT_SYNIC) |         \
	 HV_FEAT(HV_FEAT_STIMER) | HV_FEAT(HV_FEAT_STIMER_DIRECT) | HV_FEAT(HV_FEAT_VAPIC) |  \
	 HV_FEAT(HV_FEAT_RESET) | HV_FEAT(HV_FEAT_IDLE) | HV_FEAT(HV_FEAT_FREQUENCIES) |      \
	 HV_FEAT(HV_FEAT_CRASH) | HV_FEAT(HV_FEAT_RELAXED) | HV_FEAT(HV_FEAT_TLBFLUSH) |      \
	 HV_FEAT(HV_FEAT_IPI) | HV_FEAT(HV_FEAT_EX_MASKS) | HV_FEAT(HV_FEAT_XMM_INPUT) |      \
	 HV_FEAT(HV_FEAT_MSR_LOCK) | HV_FEAT(HV_FEAT_POST_MESSAGES) |                         \
	 HV_FEAT(HV_FEAT_SIGNAL_EVENTS) | HV_FEAT(HV_FEAT_EXT_HYPERCALLS) |                   \
	 HV_FEAT(HV_FEAT_AUTOEOI) | HV_FEAT(HV_FEAT_EOI_ASSIST))

/* Leaf 0x40000000 EAX: highest leaf.  0x4000000A (nested) and everything above
 * 0x40000006 stay hidden (issue 6; windows-vsm.md 1.1). */
#define HV_CPUID_MAX_LEAF HV_CPUID_HARDWARE_FEATURES

/* Leaf 0x40000002: the version KVM and QEMU report ("Hyper-V 2016": build
 * 14393, version 10.0).  The digest gives no value; any is allowed (TLFS says
 * guests must not key behaviour off it). */
#define HV_CPUID_VERSION_BUILD 14393U
#define HV_CPUID_VERSION_MAJOR 10U
#define HV_CPUID_VERSION_MINOR 0U

struct hv_features {
	bool enabled;  /* false: "off", the interface is hidden */
	u32 offered;   /* HV_FEAT() set this hypervisor implements */
	u32 on;        /* HV_FEAT() set the partition gets; subset of offered */
	/* Register images, recomputed from `on` by every hv_features_* call.
	 * The core may adjust hw_features after hv_features_init (e.g. to
	 * report unrestricted guest on VMX). */
	u64 privileges;	 /* HV_PARTITION_PRIVILEGE_MASK: 0x40000003 EAX | EBX << 32 */
	u32 features_ecx;	 /* 0x40000003 ECX (power management: none) */
	u32 features_edx;	 /* 0x40000003 EDX */
	u32 recommendations; /* 0x40000004 EAX */
	u32 spin_retries;	 /* 0x40000004 EBX */
	u32 phys_addr_bits;	 /* 0x40000004 ECX[6:0] */
	u32 max_vps;	 /* 0x40000005 EAX */
	u32 max_lps;	 /* 0x40000005 EBX */
	u32 hw_features;	 /* 0x40000006 EAX */
};

/* Everything offered, on.  vp_count fills the implementation limits;
 * phys_addr_bits is the guest's MAXPHYADDR (0 = not reported). */
void hv_features_init(struct hv_features *f, u32 vp_count, u32 phys_addr_bits);

/* Applies a hv_features= value (syntax above).  NULL or "" changes nothing.
 * Returns the number of problems reported with pr_warn. */
int hv_features_parse(struct hv_features *f, const char *spec);

/* Turns one feature on (within .offered) or off and recomputes the register
 * images, prerequisites included.  Returns false for an unknown feature or
 * one that is not offered. */
bool hv_features_set(struct hv_features *f, enum hv_feature feat, bool on);

static inline bool hv_features_on(const struct hv_features *f, enum hv_feature feat)
{
	return f->enabled && (f->on & HV_FEAT(feat)) != 0;
}

/* The name used on the command line, or NULL for an out-of-range value. */
const char *hv_feature_name(enum hv_feature feat);

/* Writes "off", "none" or the comma-separated names of the features that are
 * on, truncated to fit and always terminated (len > 0).  Returns the length
 * of the full text. */
size_t hv_features_format(const struct hv_features *f, char *buf, size_t len);

/* Gate tests on the register images, for the MSR and hypercall handlers. */
static inline bool hv_has_privilege(const struct hv_features *f, u64 mask)
{
	return f->enabled && (f->privileges & mask) == mask;
}

static inline bool hv_has_feature_edx(const struct hv_features *f, u32 mask)
{
	return f->enabled && (f->features_edx & mask) == mask;
}

static inline bool hv_is_recommended(const struct hv_features *f, u32 mask)
{
	return f->enabled && (f->recommendations & mask) == mask;
}

/* Fills out[0..3] = EAX, EBX, ECX, EDX of leaf `leaf` for the guest.  Returns
 * false (and zeros) for leaves outside 0x40000000-0x400000FF, which are not
 * this module's; every leaf inside that range that is not described above, and
 * every leaf while the interface is off, reads as zeros. */
bool hv_cpuid_leaf(const struct hv_features *f, u32 leaf, u32 out[4]);

/* True when `msr` is a synthetic MSR of the TLFS base interface that this
 * partition is offered (TLFS: each MSR is available only with its privilege
 * bit; digest 1.4).  False means the access must #GP: either the gate is off
 * or the MSR is not one this hypervisor implements (e.g. SIRBP, the stats
 * pages, the reenlightenment MSRs). */
bool hv_msr_offered(const struct hv_features *f, u32 msr);

#endif
