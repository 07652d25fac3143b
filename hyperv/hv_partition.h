/* The Hv#1 interface of the partition, wired to the core: CPUID leaves,
 * synthetic MSRs and the hypercall exit.  Reaches VPs only through kernel/vm
 * calls, so it works on SVM and VMX alike.
 *
 * This file holds the partition-wide part: GUEST_OS_ID, HYPERCALL with its
 * overlay page, VP_INDEX, TIME_REF_COUNT, the REFERENCE_TSC page, the crash
 * MSRs (a guest crash notification prints through the same dump as a triple
 * fault) and the Locked bit of HYPERCALL.  The per-VP MSRs are in
 * hv_synic.c, the calls in hv_hypercalls.c and hv_ports.c; the offer is
 * narrowed to what those implement (HV_IMPLEMENTED). */
#ifndef HV_HYPERV_HV_PARTITION_H
#define HV_HYPERV_HV_PARTITION_H

#include "kernel/vm/exits.h"

/* Builds the partition's feature set (after vm_create made the VPs); spec is
 * the hv_features= command-line value (NULL: everything implemented). */
void hv_partition_init(const char *spec);
/* Leaves 0x40000000-0x400000FF: true when handled (out filled). */
bool hv_cpuid(u32 leaf, u32 out[4]);
/* Synthetic MSRs: 1 when msr is not a synthetic MSR at all, 0 on success,
 * -1 for #GP. */
int hv_msr_read(struct vp *vp, u32 msr, u64 *value);
int hv_msr_write(struct vp *vp, u32 msr, u64 value);
enum exit_action hv_hypercall_exit(struct vp *vp, struct vm_exit *exit);
/* The partition's feature set (what the guest was offered). */
struct hv_features;
extern struct hv_features hv_partition_features;
/* The guest enabled its hypercall page (and the interface is on). */
bool hv_hypercall_page_enabled(void);
/* TIME_REF_COUNT now: 100 ns units since the partition started (digest 2.6),
 * the value the guest reads; the synthetic timers count in it. */
u64 hv_time_ref_count(void);
/* The partition-wide MSR values, for the console. */
struct hv_partition_msrs {
	u64 guest_os_id, hypercall, reference_tsc;
};
void hv_partition_msrs(struct hv_partition_msrs *out);
/* Overlay pages (hypercall, TSC, SIM, SIEF, VP assist): a hypervisor frame
 * mapped over whatever the guest's GPA held, taken away again when disabled
 * or moved (TLFS 3.13, digest 2.3, 2.7, 7.1).  The MSRs keep Enable in bit 0
 * and the GPA in 63:12.  hv_overlay_move maps hpa (with perms) at the new
 * GPA before the old one is given back, so a failure leaves the old overlay
 * and the MSR as they were; then every VP flushes (vm_view_changed).  False
 * (the MSR write #GPs): a GPA beyond MAXPHYADDR, one another overlay holds
 * (overlaps are undefined: refused), or no memory for the map.  Callers hold
 * this file's lock (hv_vp_msr_moves_overlay), which serialises view changes;
 * reserved bits are theirs to check. */
struct gpa_view;
bool hv_overlay_move(struct vp *vp, struct gpa_view *view, const char *name, u64 old_msr,
		     u64 new_msr, u64 hpa, u32 perms);
/* The overlay MSR value msr_value covers gpa's page. */
bool hv_overlay_covers(u64 msr_value, u64 gpa);
/* True when gpa lies on the hypercall or TSC page (writes there #GP). */
bool hv_overlay_at(u64 gpa);
/* True when gpa lies on any overlay: those two or a VP's SIM, SIEF or VP
 * assist page (which the guest may write). */
bool hv_any_overlay_at(u64 gpa);

#endif
