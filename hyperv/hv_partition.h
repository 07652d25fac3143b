/* The Hv#1 interface of the partition, wired to the core: CPUID leaves,
 * synthetic MSRs and the hypercall exit.  Reaches VPs only through kernel/vm
 * calls, so it works on SVM and VMX alike.
 *
 * Implemented today (the partition's offer is narrowed to exactly this):
 * GUEST_OS_ID, HYPERCALL with its overlay page, VP_INDEX, TIME_REF_COUNT, the
 * REFERENCE_TSC page, the crash MSRs (a guest crash notification prints
 * through the same dump as a triple fault), the Locked bit of HYPERCALL, and
 * hypercalls that need no interrupts: NotifyLongSpinWait; everything else
 * answers HV_STATUS_INVALID_HYPERCALL_CODE.  SynIC, timers, PV TLB flush and
 * PV IPIs need the virtual APIC and guest SMP and come with them. */
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
/* True when gpa lies on a hypervisor overlay page (writes there #GP). */
bool hv_overlay_at(u64 gpa);

#endif
