/* The partition's Hv#1 feature configuration, its command-line narrowing, the
 * CPUID leaves 0x40000000-0x40000006 and the synthetic-MSR gates (TLFS "Feature
 * and Interface Discovery", "Partition Privilege Flags"; digest 1 and 2.1). */
#include "hyperv/hv_cpuid.h"

#include "kernel/lib/string.h"
#include "kernel/printk.h"

/* One named feature: the CPUID bits it turns on, the bits it sets while it is
 * OFF (only the "deprecate AutoEOI" hint works that way) and the features it
 * cannot work without. */
struct hv_feature_desc {
	const char *name;
	u64 privileges;	  /* 0x40000003 EAX/EBX */
	u32 features_edx;	  /* 0x40000003 EDX */
	u32 recommendations;  /* 0x40000004 EAX */
	u32 recommended_when_off;
	u32 requires;	  /* HV_FEAT() set */
	const char *help;
};

static const struct hv_feature_desc feature_table[HV_FEAT_COUNT] = {
	[HV_FEAT_HYPERCALL] = {
		.name = "hypercall", .privileges = HV_ACCESS_HYPERCALL_MSRS,
		.help = "GUEST_OS_ID and HYPERCALL MSRs, hypercall page"},
	[HV_FEAT_VPINDEX] = {
		.name = "vpindex", .privileges = HV_ACCESS_VP_INDEX,
		.help = "VP_INDEX MSR"},
	[HV_FEAT_RUNTIME] = {
		.name = "runtime", .privileges = HV_ACCESS_VP_RUNTIME_REG,
		.help = "VP_RUNTIME MSR"},
	[HV_FEAT_TIME] = {
		.name = "time", .privileges = HV_ACCESS_PARTITION_REFERENCE_COUNTER,
		.help = "TIME_REF_COUNT MSR (partition reference counter)"},
	/* Guests fall back to TIME_REF_COUNT while the page's sequence is 0
	 * (TLFS "Reference TSC Page"), so the page needs the counter. */
	[HV_FEAT_TSC_PAGE] = {
		.name = "tsc_page", .privileges = HV_ACCESS_PARTITION_REFERENCE_TSC,
		.requires = HV_FEAT(HV_FEAT_TIME),
		.help = "REFERENCE_TSC page"},
	[HV_FEAT_SYNIC] = {
		.name = "synic", .privileges = HV_ACCESS_SYNIC_REGS,
		.help = "SynIC MSRs (SCONTROL, SIMP, SIEFP, EOM, SINT0-15)"},
	/* Timer expiry is a SynIC message and counts reference time (digest 7.8). */
	[HV_FEAT_STIMER] = {
		.name = "stimer", .privileges = HV_ACCESS_SYNTHETIC_TIMER_REGS,
		.requires = HV_FEAT(HV_FEAT_SYNIC) | HV_FEAT(HV_FEAT_TIME),
		.help = "synthetic timers STIMER0-3"},
	[HV_FEAT_STIMER_DIRECT] = {
		.name = "stimer_direct", .features_edx = HV_STIMER_DIRECT_MODE_AVAILABLE,
		.requires = HV_FEAT(HV_FEAT_STIMER),
		.help = "synthetic timer direct (APIC vector) mode"},
	/* AccessIntrCtrlRegs gates EOI/ICR/TPR and the VP assist page (digest
	 * 1.4); the hint tells the guest to use those MSRs (QEMU hv-vapic). */
	[HV_FEAT_VAPIC] = {
		.name = "vapic", .privileges = HV_ACCESS_INTR_CTRL_REGS,
		.recommendations = HV_X64_APIC_ACCESS_RECOMMENDED,
		.help = "EOI/ICR/TPR MSRs and VP assist page (APIC assist)"},
	[HV_FEAT_RESET] = {
		.name = "reset", .privileges = HV_ACCESS_RESET_REG,
		.recommendations = HV_X64_SYSTEM_RESET_RECOMMENDED,
		.help = "RESET MSR"},
	[HV_FEAT_IDLE] = {
		.name = "idle", .privileges = HV_ACCESS_GUEST_IDLE_REG,
		.features_edx = HV_X64_GUEST_IDLE_STATE_AVAILABLE,
		.help = "GUEST_IDLE MSR"},
	[HV_FEAT_FREQUENCIES] = {
		.name = "frequencies", .privileges = HV_ACCESS_FREQUENCY_REGS,
		.features_edx = HV_FEATURE_FREQUENCY_MSRS_AVAILABLE,
		.help = "TSC_FREQUENCY and APIC_FREQUENCY MSRs"},
	[HV_FEAT_CRASH] = {
		.name = "crash", .features_edx = HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE,
		.help = "crash MSRs (P0-P4, CRASH_CTL)"},
	[HV_FEAT_RELAXED] = {
		.name = "relaxed", .recommendations = HV_X64_RELAXED_TIMING_RECOMMENDED,
		.help = "relaxed-timing hint (guest disables its watchdogs)"},
	[HV_FEAT_TLBFLUSH] = {
		.name = "tlbflush",
		.recommendations = HV_X64_LOCAL_TLB_FLUSH_RECOMMENDED |
				   HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_VPINDEX),
		.help = "PV TLB flush hypercalls (local and remote flush hints)"},
	[HV_FEAT_IPI] = {
		.name = "ipi", .recommendations = HV_X64_CLUSTER_IPI_RECOMMENDED,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_VPINDEX),
		.help = "PV IPI hypercall (SendSyntheticClusterIpi)"},
	[HV_FEAT_EX_MASKS] = {
		.name = "ex_masks", .recommendations = HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_VPINDEX),
		.help = "sparse VP sets (the Ex flush and IPI hypercalls)"},
	[HV_FEAT_XMM_INPUT] = {
		.name = "xmm_input", .features_edx = HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL),
		.help = "XMM registers for fast hypercall input"},
	[HV_FEAT_MSR_LOCK] = {
		.name = "msr_lock", .features_edx = HV_X64_HYPERCALL_MSR_LOCK_AVAILABLE,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL),
		.help = "Locked bit of the HYPERCALL MSR"},
	[HV_FEAT_POST_MESSAGES] = {
		.name = "post_messages", .privileges = HV_POST_MESSAGES,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_SYNIC),
		.help = "HvCallPostMessage"},
	[HV_FEAT_SIGNAL_EVENTS] = {
		.name = "signal_events", .privileges = HV_SIGNAL_EVENTS,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_SYNIC),
		.help = "HvCallSignalEvent"},
	[HV_FEAT_EXT_HYPERCALLS] = {
		.name = "ext_hypercalls", .privileges = HV_ENABLE_EXTENDED_HYPERCALLS,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL),
		.help = "extended hypercalls (HvExtCallQueryCapabilities)"},
	/* AutoEOI is implemented, so the "deprecate AutoEOI" hint (digest 7.6)
	 * is only given when this feature is turned off, to test the guest's
	 * fallback. */
	[HV_FEAT_AUTOEOI] = {
		.name = "autoeoi", .recommended_when_off = HV_DEPRECATING_AEOI_RECOMMENDED,
		.help = "AutoEOI allowed (off: the 'deprecate AutoEOI' hint)"},
	[HV_FEAT_XMM_OUTPUT] = {
		.name = "xmm_output",
		.privileges = HV_FAST_HYPERCALL_OUTPUT,
		.features_edx = HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE,
		.requires = HV_FEAT(HV_FEAT_HYPERCALL),
		.help = "XMM registers for fast hypercall output"},
	[HV_FEAT_TLBFLUSH_EXT] = {
		.name = "tlbflush_ext",
		.privileges = HV_ENABLE_EXTENDED_GVA_RANGES_FLUSH,
		.features_edx = HV_FEATURE_EXT_GVA_RANGES_FLUSH,
		.requires = HV_FEAT(HV_FEAT_TLBFLUSH),
		.help = "extended GVA ranges (large pages) in flush lists"},
	[HV_FEAT_SINT_POLLING] = {
		.name = "sint_polling", .features_edx = HV_X64_SINT_POLLING_AVAILABLE,
		.requires = HV_FEAT(HV_FEAT_SYNIC),
		.help = "SINT polling mode"},
	/* EOI assist lives on the VP assist page (digest 2.10, 7.6).  Linux
	 * takes it in hv_apic_eoi_write, which it installs on vapic's "use the
	 * APIC MSRs" hint (0x40000004 EAX bit 3), so narrowing eoi_assist off
	 * keeps that hint and the guest's code path, and only stops the
	 * hypervisor from setting the bit.  Its own visible bit is 0x40000006
	 * EAX bit 0, "APIC overlay assist in use" (see update_registers). */
	[HV_FEAT_EOI_ASSIST] = {
		.name = "eoi_assist", .requires = HV_FEAT(HV_FEAT_VAPIC),
		.help = "EOI assist: 'no EOI required' in the VP assist page"},
};

STATIC_ASSERT(HV_FEAT_COUNT <= 32, "features are bits of a u32");
STATIC_ASSERT((HV_FEATURES_OFFERED >> HV_FEAT_COUNT) == 0, "offered set names real features");

const char *hv_feature_name(enum hv_feature feat)
{
	if ((unsigned)feat >= HV_FEAT_COUNT)
		return NULL;
	return feature_table[feat].name;
}

/* Drops features whose prerequisites are off until nothing changes (chains
 * such as time -> stimer -> stimer_direct need several rounds). */
static void drop_unmet(struct hv_features *f, bool report)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (u32 i = 0; i < HV_FEAT_COUNT; i++) {
			const struct hv_feature_desc *d = &feature_table[i];
			u32 missing = d->requires & ~f->on;

			if (!(f->on & HV_FEAT(i)) || !missing)
				continue;
			f->on &= ~HV_FEAT(i);
			changed = true;
			if (!report)
				continue;
			for (u32 j = 0; j < HV_FEAT_COUNT; j++) {
				if (missing & HV_FEAT(j)) {
					pr_info("hv_features: '%s' needs '%s', turned off\n", d->name,
						feature_table[j].name);
					break;
				}
			}
		}
	}
}

/* Rebuilds the register images from f->on. */
static void update_registers(struct hv_features *f)
{
	f->privileges = 0;
	f->features_edx = 0;
	f->recommendations = 0;
	for (u32 i = 0; i < HV_FEAT_COUNT; i++) {
		const struct hv_feature_desc *d = &feature_table[i];

		if (f->on & HV_FEAT(i)) {
			f->privileges |= d->privileges;
			f->features_edx |= d->features_edx;
			f->recommendations |= d->recommendations;
		} else {
			f->recommendations |= d->recommended_when_off;
		}
	}
	/* APIC overlay assist is "in use" exactly when the hypervisor sets
	 * the VP assist page's EOI assist bit; MSR bitmaps and SLAT are always
	 * used (digest 1.7). */
	f->hw_features &= ~HV_X64_APIC_OVERLAY_ASSIST_IN_USE;
	if (f->on & HV_FEAT(HV_FEAT_EOI_ASSIST))
		f->hw_features |= HV_X64_APIC_OVERLAY_ASSIST_IN_USE;
}

static void apply(struct hv_features *f, bool report)
{
	f->on &= f->offered;
	drop_unmet(f, report);
	update_registers(f);
}

void hv_features_init(struct hv_features *f, u32 vp_count, u32 phys_addr_bits)
{
	memset(f, 0, sizeof(*f));
	f->enabled = true;
	f->offered = HV_FEATURES_OFFERED;
	f->on = f->offered;
	/* VPs are pinned one per CPU and never preempted, so a long spin is
	 * never worth a hypercall: "never notify" (digest 1.5). */
	f->spin_retries = HV_SPINLOCK_RETRIES_NEVER;
	f->phys_addr_bits = phys_addr_bits & HV_CPUID_PHYS_ADDR_BITS_MASK;
	f->max_vps = vp_count;
	f->max_lps = vp_count;
	f->hw_features = HV_X64_MSR_BITMAPS_IN_USE | HV_X64_SLAT_IN_USE;
	apply(f, false);
}

bool hv_features_set(struct hv_features *f, enum hv_feature feat, bool on)
{
	if ((unsigned)feat >= HV_FEAT_COUNT || (on && !(f->offered & HV_FEAT(feat))))
		return false;
	if (on)
		f->on |= HV_FEAT(feat);
	else
		f->on &= ~HV_FEAT(feat);
	apply(f, false);
	return true;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(tok, word, len) == 0;
}

static int lookup(const char *tok, size_t len)
{
	for (int i = 0; i < HV_FEAT_COUNT; i++) {
		if (token_is(tok, len, feature_table[i].name))
			return i;
	}
	return -1;
}

static void report_known_names(void)
{
	char buf[400];
	size_t used = 0;

	buf[0] = '\0';
	for (u32 i = 0; i < HV_FEAT_COUNT; i++) {
		size_t n = strlen(feature_table[i].name);

		if (used + n + 3 >= sizeof(buf))
			break;
		if (used) {
			buf[used++] = ',';
			buf[used++] = ' ';
		}
		memcpy(buf + used, feature_table[i].name, n);
		used += n;
		buf[used] = '\0';
	}
	pr_info("hv_features: known features: %s (and all, none, on, off)\n", buf);
}

enum item_result { ITEM_OK, ITEM_BAD, ITEM_UNKNOWN };

/* Applies one item of the list to f->on / f->enabled. */
static enum item_result apply_item(struct hv_features *f, const char *tok, size_t len)
{
	bool add = true;
	int feat;

	if (len == 0) {
		pr_warn("hv_features: empty item\n");
		return ITEM_BAD;
	}
	if (token_is(tok, len, "all")) {
		f->on = f->offered;
		return ITEM_OK;
	}
	if (token_is(tok, len, "none")) {
		f->on = 0;
		return ITEM_OK;
	}
	if (token_is(tok, len, "off")) {
		f->enabled = false;
		return ITEM_OK;
	}
	if (token_is(tok, len, "on")) {
		f->enabled = true;
		return ITEM_OK;
	}
	if (tok[0] == '-' || tok[0] == '+') {
		add = tok[0] == '+';
		tok++;
		len--;
		if (len == 0) {
			pr_warn("hv_features: '%c' without a feature name\n", add ? '+' : '-');
			return ITEM_BAD;
		}
	}
	feat = lookup(tok, len);
	if (feat < 0) {
		pr_warn("hv_features: unknown feature '%.*s'\n", (int)len, tok);
		return ITEM_UNKNOWN;
	}
	if (!add) {
		f->on &= ~HV_FEAT(feat);
		return ITEM_OK;
	}
	if (!(f->offered & HV_FEAT(feat))) {
		pr_warn("hv_features: '%s' is not offered by this hypervisor\n",
			feature_table[feat].name);
		return ITEM_BAD;
	}
	f->on |= HV_FEAT(feat);
	return ITEM_OK;
}

int hv_features_parse(struct hv_features *f, const char *spec)
{
	int problems = 0;
	bool unknown = false;

	if (!spec || *spec == '\0')
		return 0;
	for (const char *p = spec;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		enum item_result r = apply_item(f, p, len);

		if (r != ITEM_OK)
			problems++;
		if (r == ITEM_UNKNOWN)
			unknown = true;
		if (!end)
			break;
		p = end + 1;
	}
	if (unknown)
		report_known_names();
	apply(f, true);
	return problems;
}

size_t hv_features_format(const struct hv_features *f, char *buf, size_t len)
{
	size_t total = 0;

	if (len)
		buf[0] = '\0';
#define PUT(s)                                                          \
	do {                                                            \
		size_t n_ = strlen(s);                                  \
		if (len && total < len - 1) {                           \
			size_t room_ = len - 1 - total;                 \
			size_t c_ = n_ < room_ ? n_ : room_;            \
			memcpy(buf + total, (s), c_);                   \
			buf[total + c_] = '\0';                         \
		}                                                       \
		total += n_;                                            \
	} while (0)
	if (!f->enabled) {
		PUT("off");
		return total;
	}
	if (!f->on) {
		PUT("none");
		return total;
	}
	for (u32 i = 0; i < HV_FEAT_COUNT; i++) {
		if (!(f->on & HV_FEAT(i)))
			continue;
		if (total)
			PUT(",");
		PUT(feature_table[i].name);
	}
#undef PUT
	return total;
}

bool hv_cpuid_leaf(const struct hv_features *f, u32 leaf, u32 out[4])
{
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf < HV_CPUID_RANGE_FIRST || leaf > HV_CPUID_RANGE_FIRST + 0xFF)
		return false;
	if (!f->enabled)
		return true;

	switch (leaf) {
	case HV_CPUID_VENDOR_AND_MAX_FUNCTIONS: /* TLFS: max leaf, vendor (digest 1.1) */
		out[0] = HV_CPUID_MAX_LEAF;
		out[1] = HV_CPUID_VENDOR_EBX;
		out[2] = HV_CPUID_VENDOR_ECX;
		out[3] = HV_CPUID_VENDOR_EDX;
		break;
	case HV_CPUID_INTERFACE: /* "Hv#1"; EBX-EDX reserved (digest 1.2) */
		out[0] = HV_CPUID_INTERFACE_HV1;
		break;
	case HV_CPUID_VERSION: /* build; major.minor; SP; branch.number (digest 1.3) */
		out[0] = HV_CPUID_VERSION_BUILD;
		out[1] = (HV_CPUID_VERSION_MAJOR << 16) | HV_CPUID_VERSION_MINOR;
		break;
	case HV_CPUID_FEATURES: /* privilege mask, power, features (digest 1.4) */
		out[0] = (u32)f->privileges;
		out[1] = (u32)(f->privileges >> 32);
		out[2] = f->features_ecx;
		out[3] = f->features_edx;
		break;
	case HV_CPUID_ENLIGHTENMENT_INFO: /* hints, spin count, PA bits (digest 1.5) */
		out[0] = f->recommendations;
		out[1] = f->spin_retries;
		out[2] = f->phys_addr_bits & HV_CPUID_PHYS_ADDR_BITS_MASK;
		break;
	case HV_CPUID_IMPLEMENTATION_LIMITS: /* max VPs, LPs, vectors (digest 1.6) */
		out[0] = f->max_vps;
		out[1] = f->max_lps;
		break;
	case HV_CPUID_HARDWARE_FEATURES: /* hardware features in use (digest 1.7) */
		out[0] = f->hw_features;
		break;
	default: /* 0x40000007-0x400000FF: hidden (0x4000000A included) */
		break;
	}
	return true;
}

/* Which gate each synthetic MSR sits behind (digest 1.4 "Gates" column and
 * 2.1; KVM's hv_check_msr_access uses the same mapping).  TSC/APIC_FREQUENCY
 * need only AccessFrequencyRegs, as in KVM; the "frequencies" feature turns
 * on the matching EDX bit 8 together with it anyway. */
struct hv_msr_gate {
	u32 first, last;
	u64 privileges;
	u32 features_edx;
};

static const struct hv_msr_gate msr_gates[] = {
	{HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL, HV_ACCESS_HYPERCALL_MSRS, 0},
	{HV_X64_MSR_VP_INDEX, HV_X64_MSR_VP_INDEX, HV_ACCESS_VP_INDEX, 0},
	{HV_X64_MSR_RESET, HV_X64_MSR_RESET, HV_ACCESS_RESET_REG, 0},
	{HV_X64_MSR_VP_RUNTIME, HV_X64_MSR_VP_RUNTIME, HV_ACCESS_VP_RUNTIME_REG, 0},
	{HV_X64_MSR_TIME_REF_COUNT, HV_X64_MSR_TIME_REF_COUNT,
	 HV_ACCESS_PARTITION_REFERENCE_COUNTER, 0},
	{HV_X64_MSR_REFERENCE_TSC, HV_X64_MSR_REFERENCE_TSC, HV_ACCESS_PARTITION_REFERENCE_TSC, 0},
	{HV_X64_MSR_TSC_FREQUENCY, HV_X64_MSR_APIC_FREQUENCY, HV_ACCESS_FREQUENCY_REGS, 0},
	{HV_X64_MSR_EOI, HV_X64_MSR_VP_ASSIST_PAGE, HV_ACCESS_INTR_CTRL_REGS, 0},
	{HV_X64_MSR_SCONTROL, HV_X64_MSR_EOM, HV_ACCESS_SYNIC_REGS, 0},
	{HV_X64_MSR_SINT0, HV_X64_MSR_SINT15, HV_ACCESS_SYNIC_REGS, 0},
	{HV_X64_MSR_STIMER0_CONFIG, HV_X64_MSR_STIMER3_COUNT, HV_ACCESS_SYNTHETIC_TIMER_REGS, 0},
	{HV_X64_MSR_GUEST_IDLE, HV_X64_MSR_GUEST_IDLE, HV_ACCESS_GUEST_IDLE_REG, 0},
	{HV_X64_MSR_CRASH_P0, HV_X64_MSR_CRASH_CTL, 0, HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE},
};

bool hv_msr_offered(const struct hv_features *f, u32 msr)
{
	if (!f->enabled)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(msr_gates); i++) {
		const struct hv_msr_gate *g = &msr_gates[i];

		if (msr < g->first || msr > g->last)
			continue;
		return hv_has_privilege(f, g->privileges) && hv_has_feature_edx(f, g->features_edx);
	}
	return false;
}
