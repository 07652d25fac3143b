/* Each VP's virtual local APIC (kernel/vm/vlapic.h) wired into the machine:
 * register access from MMIO and MSR exits, interrupt messages between VPs,
 * injection into the guest at entry, the APIC timer on the host timer, and
 * INIT/SIPI.
 *
 * The APIC lives in the VP's active VTL bank.  Its own CPU touches it at
 * exits and entries; other CPUs only deliver messages into it.  Both hold
 * vp->apic_lock, and nobody holds two VPs' locks at once. */
#ifndef HV_KERNEL_VM_VP_APIC_H
#define HV_KERNEL_VM_VP_APIC_H

#include "kernel/vm/exits.h"
#include "kernel/vm/vlapic_icr.h"
#include "kernel/vm/vm.h"

/* The APIC timer's input clock the guest sees (CPUID leaf 0x15 is not
 * changed; Hv#1's APIC_FREQUENCY reports this). */
#define VP_APIC_BUS_HZ 100000000ULL

/* Builds the bank's APIC in its power-up state; false on a bad config. */
bool vp_apic_create(struct vp *vp, struct vtl_bank *bank);

/* A SLAT violation on the APIC page in xAPIC mode: emulated here.  False
 * when gpa is not this VP's APIC page. */
bool vp_apic_mmio(struct vp *vp, struct vm_exit *exit, enum exit_action *action);

/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8FF.
 * Returns 1 when msr is not an APIC MSR, 0 when done, -1 for #GP. */
int vp_apic_msr_read(struct vp *vp, u32 msr, u64 *value);
int vp_apic_msr_write(struct vp *vp, u32 msr, u64 value);

/* The VP loop's side, on the VP's own CPU. */
/* Takes expired timers and INIT/SIPI/NMI events; may change vp->state. */
void vp_apic_update(struct vp *vp);
/* Before an entry: injects what is deliverable or asks for a window, offers
 * Hv#1 EOI assist (TLFS digest 7.6) when the rule allows, and arms the host
 * timer for the APIC timer. */
void vp_apic_prepare_entry(struct vp *vp);
/* After an exit, before its handler: withdraws EOI assist and does the EOI
 * the guest skipped, then picks up a TPR the guest changed through CR8. */
void vp_apic_after_exit(struct vp *vp);
/* Something wakes a halted VP: an NMI, INIT, SIPI, or (with RFLAGS.IF) a
 * deliverable interrupt. */
bool vp_apic_wakeup_pending(struct vp *vp);
/* Arms the host timer for what this VP waits on (before it halts). */
void vp_apic_arm_timer(struct vp *vp);

/* Delivers an interrupt message to every VP it addresses (an IPI from
 * sender, or with sender NULL a message from an IOAPIC).  level: the
 * trigger mode to record in TMR (IOAPIC level-triggered pins). */
void vm_apic_deliver(struct vp *sender, const struct vlapic_ipi *msg, bool level);

/* A fixed, edge-triggered interrupt the hypervisor itself raises in vp's
 * APIC (Hv#1 SynIC and timers); any CPU. */
void vp_apic_raise(struct vp *vp, u8 vector);

/* Marks a vector AutoEOI in vp's APIC (the Hv#1 SynIC's AutoEOI SINTs,
 * TLFS digest 7.6); any CPU. */
void vp_apic_set_auto_eoi(struct vp *vp, u8 vector, bool on);

/* APIC registers by xAPIC offset (VLAPIC_REG_*) in either APIC mode, for
 * Hv#1's EOI/ICR/TPR MSRs (digest 2.9); ICR is 64-bit.  On the VP's own CPU.
 * 0 when done, -1 for #GP (hardware-disabled APIC, wrong direction). */
int vp_apic_reg_read(struct vp *vp, u32 reg, u64 *value);
int vp_apic_reg_write(struct vp *vp, u32 reg, u64 value);

/* The local APIC's EOI broadcast for a level-triggered vector (implemented
 * by the IOAPIC side, kernel/vm/vioapic_host.c). */
void vm_ioapic_eoi(u8 vector);

#endif
