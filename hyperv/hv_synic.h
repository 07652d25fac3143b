/* The per-VP part of the Hv#1 interface: the synthetic interrupt controller
 * (SynIC), the four synthetic timers, the VP assist page and the per-VP MSRs
 * around the local APIC (TLFS "Synthetic Interrupt Controller", "Timers",
 * "Virtual Processor Assist Page", "Virtual Interrupt Controller"; digest
 * 2.8-2.14 and 7).
 *
 * Everything here is private to one VTL of one VP (digest 5.13), so it lives
 * in a struct hv_vp hanging off the VTL bank (struct vtl_bank.hv), created the
 * first time the guest touches one of these MSRs on that VP.  Only the VP's
 * own CPU changes MSR state and runs the timers; other CPUs only post
 * messages and signal events into it, under the SynIC lock.
 *
 * The SIM, SIEF and VP assist pages are overlays: a hypervisor frame per VP
 * mapped over the guest's GPA while enabled, the guest's page back when
 * disabled (as the hypercall page, digest 2.3, 7.1).  The SLAT view is shared
 * by every VP of a VTL, so these pages are visible at their GPA to all VPs;
 * a GPA already used by another overlay (any VP's, the hypercall page, the
 * TSC page) is refused with #GP (the TLFS calls overlapping overlays
 * undefined). */
#ifndef HV_HYPERV_HV_SYNIC_H
#define HV_HYPERV_HV_SYNIC_H

#include "hyperv/hv_cpuid.h"
#include "kernel/vm/vm.h"

/* The features hv_synic.c implements (see HV_IMPLEMENTED in hv_partition.c).
 * Not offered: SINT polling mode, the time-unhalted timer. */
#define HV_IMPLEMENTED_SYNIC                                                                 \
	(HV_FEAT(HV_FEAT_RUNTIME) | HV_FEAT(HV_FEAT_SYNIC) | HV_FEAT(HV_FEAT_STIMER) |           \
	 HV_FEAT(HV_FEAT_STIMER_DIRECT) | HV_FEAT(HV_FEAT_VAPIC) | HV_FEAT(HV_FEAT_RESET) |      \
	 HV_FEAT(HV_FEAT_IDLE) | HV_FEAT(HV_FEAT_FREQUENCIES) | HV_FEAT(HV_FEAT_AUTOEOI) |       \
	 HV_FEAT(HV_FEAT_EOI_ASSIST))

/* The MSRs this file answers for (after hv_partition.c's feature gate):
 * VP_RUNTIME, RESET, TSC/APIC_FREQUENCY, EOI/ICR/TPR, VP_ASSIST_PAGE,
 * SCONTROL..EOM, SINT0-15, STIMER0-3, GUEST_IDLE.  Return 1 when msr is none
 * of them, 0 when done, -1 for #GP.  On the VP's own CPU. */
int hv_vp_msr_read(struct vp *vp, u32 msr, u64 *value);
int hv_vp_msr_write(struct vp *vp, u32 msr, u64 value);
/* True for the MSRs whose write may change the SLAT view (SIMP, SIEFP,
 * VP_ASSIST_PAGE): the caller serialises those with every other overlay
 * change (hv_partition.c's lock). */
bool hv_vp_msr_moves_overlay(u32 msr);
/* True when gpa lies on any VP's SIM, SIEF or VP assist overlay. */
bool hv_vp_overlay_at(u64 gpa);

/* For the hypercalls (HvCallPostMessage, HvCallSignalEvent; digest 4.14,
 * 4.15, 7.3, 7.5), from any CPU, into target's VTL0 SynIC.  Return an
 * HV_STATUS:
 *   post_message: INVALID_PARAMETER (sint >= 16, len > 240, message type 0
 *   or with bit 31 set: those are the hypervisor's), INVALID_SYNIC_STATE
 *   (SynIC or SIMP disabled), INSUFFICIENT_BUFFERS (the slot is busy and the
 *   SINT already holds its share of queued messages), SUCCESS (delivered or
 *   queued).  msg is a whole HV_MESSAGE (header + payload, `len` bytes of
 *   it, at least the header); MessageFlags are the SynIC's.
 *   signal_event: INVALID_PARAMETER (sint >= 16, flag >= 2048),
 *   INVALID_SYNIC_STATE (SynIC or SIEFP disabled, SINT masked), SUCCESS. */
int hv_synic_signal_event(struct vp *target, u32 sint, u32 flag);
int hv_synic_post_message(struct vp *target, u32 sint, const void *msg, u32 len);

/* Called by the VP loop on the VP's own CPU (kernel/vm/vp_apic.c): expire
 * the VP's synthetic timers due by now (TSC), and the next TSC deadline it
 * has (0: none). */
void hv_vp_poll(struct vp *vp, u64 now);
u64 hv_vp_next_deadline(struct vp *vp);
/* The guest EOIed `vector` (kernel/vm/vp_apic.c): queued messages of the
 * SINTs on that vector get another try. */
void hv_vp_eoi(struct vp *vp, u8 vector);
/* EOI assist: bit 0 "no EOI required" of the VP assist page's ApicAssist
 * (digest 2.10, 7.6), for kernel/vm/vp_apic.c, which decides when (see
 * vlapic_eoi_assist_offer); on the VP's own CPU.
 *   ready: the partition offers EOI assist and this VP's assist page is on;
 *   set: before an entry, tells the guest it may skip its next EOI;
 *   withdraw: after the exit, clears the bit; true when the guest had
 *   cleared it already, i.e. skipped its EOI. */
bool hv_vp_eoi_assist_ready(struct vp *vp);
void hv_vp_eoi_assist_set(struct vp *vp);
bool hv_vp_eoi_assist_withdraw(struct vp *vp);
/* The VP sleeps in GUEST_IDLE (any interrupt wakes it, even with IF = 0),
 * and the VP loop woke it. */
bool hv_vp_idle(struct vp *vp);
void hv_vp_woken(struct vp *vp);

#endif
