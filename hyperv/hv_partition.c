/* See hyperv/hv_partition.h.  TLFS sections cited as in the digest. */
#include "hyperv/hv_partition.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "hyperv/hv_cpuid.h"
#include "hyperv/hv_defs.h"
#include "hyperv/hv_hypercalls.h"
#include "hyperv/hv_synic.h"
#include "hyperv/hv_reftime.h"
#include "kernel/layout.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/pages.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/gpa_view.h"

/* What this file implements; with the SynIC side (hv_synic.h) and the
 * hypercalls (hv_hypercalls.h) that is the whole offer: it never exceeds it. */
#define HV_IMPLEMENTED_BASE                                                              \
	(HV_FEAT(HV_FEAT_HYPERCALL) | HV_FEAT(HV_FEAT_VPINDEX) | HV_FEAT(HV_FEAT_TIME) |     \
	 HV_FEAT(HV_FEAT_TSC_PAGE) | HV_FEAT(HV_FEAT_CRASH) | HV_FEAT(HV_FEAT_MSR_LOCK) |    \
	 HV_FEAT(HV_FEAT_RELAXED))
#define HV_IMPLEMENTED (HV_IMPLEMENTED_BASE | HV_IMPLEMENTED_SYNIC | HV_IMPLEMENTED_HYPERCALLS)

#define VMMCALL_RET "\x0f\x01\xd9\xc3"
#define VMCALL_RET "\x0f\x01\xc1\xc3"
#define CRASH_PARAMS 5
/* Refused overlay moves logged before the rest go unlogged (a guest can
 * cause them at will). */
#define OVERLAY_LOG_LINES 16

struct hv_features hv_partition_features;
#define features hv_partition_features
static struct spinlock hv_lock = SPINLOCK_INIT;
static u64 guest_os_id;
static u64 hypercall_msr;
static u64 hypercall_page_hpa; /* hypervisor frame, filled once, never written after */
static u64 tsc_page_msr;
static struct hv_reference_tsc_page *tsc_page; /* hypervisor frame */
static u64 crash_params[CRASH_PARAMS];
static struct hv_reftime reftime;

void hv_partition_init(const char *spec)
{
	hv_features_init(&features, the_vm.vp_count, cpu_features.phys_addr_bits);
	features.offered &= HV_IMPLEMENTED;
	/* Recompute the register images for the narrowed offer. */
	for (int f = 0; f < HV_FEAT_COUNT; f++) {
		if (!(features.offered & HV_FEAT(f)))
			hv_features_set(&features, (enum hv_feature)f, false);
	}
	if (spec && *spec)
		hv_features_parse(&features, spec);

	u8 *page = pages_alloc(1);
	if (page) {
		const char *insn = strcmp(vm_backend->name, "vmx") == 0 ? VMCALL_RET : VMMCALL_RET;
		memcpy(page, insn, 4);
		hypercall_page_hpa = virt_to_phys(page);
	} else {
		printk(LOG_ERR, "hyperv: no frame for the hypercall page; hypercall MSRs withdrawn\n");
		hv_features_set(&features, HV_FEAT_HYPERCALL, false);
	}
	hv_reftime_init(&reftime, tsc_hz, rdtsc());
	/* The TSC page is published once: the TSC never changes rate here.  When
	 * the TSC is too slow for the page's precision (Bochs), the page says
	 * "invalid" and guests use TIME_REF_COUNT (digest 2.7). */
	tsc_page = pages_alloc(1);
	if (tsc_page)
		hv_reftime_page_publish(tsc_page, &reftime);
	else
		hv_features_set(&features, HV_FEAT_TSC_PAGE, false);
	char list[400];
	hv_features_format(&features, list, sizeof(list));
	printk(LOG_INFO, "hyperv: Hv#1 interface: %s\n", list);
}

bool hv_cpuid(u32 leaf, u32 out[4])
{
	if (leaf < HV_CPUID_VENDOR_AND_MAX_FUNCTIONS || leaf > 0x400000FF)
		return false;
	if (!hv_cpuid_leaf(&features, leaf, out))
		out[0] = out[1] = out[2] = out[3] = 0;
	return true;
}

void hv_partition_msrs(struct hv_partition_msrs *out)
{
	spin_lock(&hv_lock);
	out->guest_os_id = guest_os_id;
	out->hypercall = hypercall_msr;
	out->reference_tsc = tsc_page_msr;
	spin_unlock(&hv_lock);
}

bool hv_overlay_covers(u64 msr_value, u64 gpa)
{
	return (msr_value & HV_X64_MSR_OVERLAY_ENABLE) &&
	       ALIGN_DOWN(gpa, PAGE_SIZE) == (msr_value & HV_X64_MSR_OVERLAY_PAGE_MASK);
}

bool hv_overlay_at(u64 gpa)
{
	return hv_overlay_covers(hypercall_msr, gpa) || hv_overlay_covers(tsc_page_msr, gpa);
}

bool hv_any_overlay_at(u64 gpa)
{
	return hv_overlay_at(gpa) || hv_vp_overlay_at(gpa);
}

bool hv_overlay_move(struct vp *vp, struct gpa_view *view, const char *name, u64 old_msr,
		     u64 new_msr, u64 hpa, u32 perms)
{
	static u32 logged;
	u64 old_gpa = old_msr & HV_X64_MSR_OVERLAY_PAGE_MASK;
	u64 new_gpa = new_msr & HV_X64_MSR_OVERLAY_PAGE_MASK;
	bool old_on = old_msr & HV_X64_MSR_OVERLAY_ENABLE, new_on = new_msr & HV_X64_MSR_OVERLAY_ENABLE;
	bool moves = new_on && (!old_on || old_gpa != new_gpa);

	if (new_gpa >> cpu_features.phys_addr_bits)
		return false;
	if (moves && hv_any_overlay_at(new_gpa)) {
		if (log_budget(&logged, OVERLAY_LOG_LINES))
			printk(LOG_WARN, "vp%u: %s at %llx refused: another overlay page is there%s\n",
			       vp->index, name, (unsigned long long)new_gpa,
			       log_budget_note(&logged, OVERLAY_LOG_LINES));
		return false;
	}
	if (moves) {
		int rc = gpa_view_map(view, new_gpa, hpa, PAGE_SIZE, perms, GPA_MT_WB);
		if (rc < 0) {
			printk(LOG_WARN, "vp%u: cannot place the %s page at %llx (%d)\n", vp->index,
			       name, (unsigned long long)new_gpa, rc);
			return false;
		}
	}
	bool leaves = old_on && (!new_on || old_gpa != new_gpa);
	if (leaves)
		vm_view_restore_page(view, old_gpa);
	if (moves || leaves)
		vm_view_changed(vp);
	return true;
}

static int write_hypercall_msr(struct vp *vp, u64 value)
{
	if (hypercall_msr & HV_X64_MSR_HYPERCALL_LOCKED)
		return -1;
	if (value & HV_X64_MSR_HYPERCALL_RSVDP_MASK)
		return -1;
	if ((value & HV_X64_MSR_HYPERCALL_LOCKED) && !hv_features_on(&features, HV_FEAT_MSR_LOCK))
		return -1;
	/* Enable stays clear until the guest has said who it is. */
	if (!guest_os_id)
		value &= ~HV_X64_MSR_HYPERCALL_ENABLE;
	if (!hv_overlay_move(vp, vp_bank(vp)->view, "hypercall", hypercall_msr, value,
			     hypercall_page_hpa, GPA_PERM_R | GPA_PERM_X))
		return -1;
	hypercall_msr = value;
	return 0;
}

/* 100 ns units since the partition started (TLFS 12.4). */
static u64 time_ref_count(void)
{
	/* From the page's own formula while the page is valid, so that the two
	 * agree to the unit (as KVM does). */
	if (reftime.page_valid)
		return hv_reftime_tsc_page_value(rdtsc(), reftime.scale, reftime.offset);
	return hv_reftime_count(&reftime, rdtsc());
}

u64 hv_time_ref_count(void)
{
	return time_ref_count();
}

/* REFERENCE_TSC: the TSC page is a read-only overlay (digest 2.7). */
static int write_tsc_page_msr(struct vp *vp, u64 value)
{
	if (value & (PAGE_SIZE - 1) & ~1ULL)
		return -1;
	if (!hv_overlay_move(vp, vp_bank(vp)->view, "TSC", tsc_page_msr, value,
			     virt_to_phys(tsc_page), GPA_PERM_R))
		return -1;
	tsc_page_msr = value;
	return 0;
}

/* The MSRs this file answers for: 1 when msr is none of them, -1 when it is
 * one but its privilege is not offered (#GP), 0 to go on. */
static int msr_gate(u32 msr)
{
	bool ours = (msr >= 0x40000000 && msr <= 0x400000FF) ||
		    (msr >= HV_X64_MSR_CRASH_P0 && msr <= HV_X64_MSR_CRASH_CTL);
	if (!ours)
		return 1;
	return hv_msr_offered(&features, msr) ? 0 : -1;
}

int hv_msr_read(struct vp *vp, u32 msr, u64 *value)
{
	int gate = msr_gate(msr);
	if (gate)
		return gate;
	/* The per-VP MSRs (SynIC, timers, VP assist, APIC MSRs, idle) keep
	 * their own state and locks (hv_synic.h). */
	int rc = hv_vp_msr_read(vp, msr, value);
	if (rc <= 0)
		return rc;
	/* Constant or per-VP values need no lock (the reference time's
	 * parameters never change after init). */
	switch (msr) {
	case HV_X64_MSR_VP_INDEX: *value = vp->index; return 0;
	case HV_X64_MSR_TIME_REF_COUNT: *value = time_ref_count(); return 0;
	case HV_X64_MSR_CRASH_CTL: *value = HV_CRASH_CTL_CRASH_NOTIFY; return 0;
	default: break;
	}
	spin_lock(&hv_lock);
	rc = 0;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID: *value = guest_os_id; break;
	case HV_X64_MSR_HYPERCALL: *value = hypercall_msr; break;
	case HV_X64_MSR_REFERENCE_TSC: *value = tsc_page_msr; break;
	default:
		if (msr >= HV_X64_MSR_CRASH_P0 && msr <= HV_X64_MSR_CRASH_P4)
			*value = crash_params[msr - HV_X64_MSR_CRASH_P0];
		else
			rc = -1;
	}
	spin_unlock(&hv_lock);
	return rc;
}

static void crash_notify(struct vp *vp)
{
	printk(LOG_ERR, "hv: guest crash reported through the crash MSRs: "
			"P0=%llx P1=%llx P2=%llx P3=%llx P4=%llx\n",
	       (unsigned long long)crash_params[0], (unsigned long long)crash_params[1],
	       (unsigned long long)crash_params[2], (unsigned long long)crash_params[3],
	       (unsigned long long)crash_params[4]);
	spin_unlock(&hv_lock);
	vm_stop(vp, "guest crash notification", NULL);
}

int hv_msr_write(struct vp *vp, u32 msr, u64 value)
{
	int gate = msr_gate(msr);
	if (gate)
		return gate;
	int rc;
	/* hv_lock serialises every change of the shared SLAT view, so per-VP
	 * overlay moves take it too; the other per-VP MSRs do without. */
	if (hv_vp_msr_moves_overlay(msr)) {
		spin_lock(&hv_lock);
		rc = hv_vp_msr_write(vp, msr, value);
		spin_unlock(&hv_lock);
		return rc;
	}
	rc = hv_vp_msr_write(vp, msr, value);
	if (rc <= 0)
		return rc;
	spin_lock(&hv_lock);
	rc = 0;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		guest_os_id = value;
		/* Clearing the OS id disables the hypercall page (TLFS 3.13). */
		if (!value && (hypercall_msr & HV_X64_MSR_HYPERCALL_ENABLE) &&
		    !(hypercall_msr & HV_X64_MSR_HYPERCALL_LOCKED))
			rc = write_hypercall_msr(vp, hypercall_msr & ~HV_X64_MSR_HYPERCALL_ENABLE);
		break;
	case HV_X64_MSR_HYPERCALL:
		rc = write_hypercall_msr(vp, value);
		break;
	case HV_X64_MSR_REFERENCE_TSC:
		rc = write_tsc_page_msr(vp, value);
		break;
	case HV_X64_MSR_CRASH_CTL:
		if (value & HV_CRASH_CTL_CRASH_NOTIFY)
			crash_notify(vp); /* does not return */
		break;
	default:
		if (msr >= HV_X64_MSR_CRASH_P0 && msr <= HV_X64_MSR_CRASH_P4)
			crash_params[msr - HV_X64_MSR_CRASH_P0] = value;
		else
			rc = -1; /* read-only: VP_INDEX, TIME_REF_COUNT (digest 2.1) */
	}
	spin_unlock(&hv_lock);
	return rc;
}

bool hv_hypercall_page_enabled(void)
{
	return hv_features_on(&features, HV_FEAT_HYPERCALL) &&
	       (__atomic_load_n(&hypercall_msr, __ATOMIC_RELAXED) & HV_X64_MSR_HYPERCALL_ENABLE);
}
