/* The virtual local APICs, wired in; see vp_apic.h.  Section numbers are
 * Intel SDM Vol. 3A chapter 11 unless they say otherwise. */
#include "kernel/vm/vp_apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "kernel/host_timer.h"
#include "kernel/mm/heap.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/emulate.h"
#include "kernel/vm/vlapic.h"
#include "kernel/vm/vp_ctl.h"
#include "hyperv/hv_synic.h"

/* How soon to look again at an NMI the guest could not take yet (it sat in
 * an interrupt shadow or its NMI handler and the CPU offers no window exit). */
#define NMI_RETRY_US 50

static struct vlapic *apic_of(struct vp *vp)
{
	return vp_bank(vp)->lapic;
}

/* Whoever holds the lock may have changed the APIC, so letting go of it
 * counts a change: vp_apic_prepare_entry keeps its last look while the count
 * stands still.  A remote sender's count is seen before the kick it sends
 * makes the VP exit. */
static void apic_lock(struct vp *vp)
{
	spin_lock(&vp->apic_lock);
}

static void apic_unlock(struct vp *vp)
{
	__atomic_store_n(&vp->apic_changes, vp->apic_changes + 1, __ATOMIC_RELAXED);
	spin_unlock(&vp->apic_lock);
}

bool vp_apic_create(struct vp *vp, struct vtl_bank *bank)
{
	/* The bus clock as a ratio of TSC ticks: tsc_hz / 10^4 over
	 * VP_APIC_BUS_HZ / 10^4, both well inside the 2^24 the model takes. */
	struct vlapic_config cfg = {
		.apic_id = vp->apic_id,
		.bsp = vp->index == 0,
		.x2apic = true,
		.tsc_deadline = true,
		.eoi_suppression = false,
		.cmci = false,
		.version = 0x14,
		.maxphyaddr = (u8)cpu_features.phys_addr_bits,
		.tsc_per_bus_num = (u32)MAX(tsc_hz / 10000, 1ULL),
		.tsc_per_bus_den = (u32)(VP_APIC_BUS_HZ / 10000),
	};
	struct vlapic *a = kzalloc(sizeof(*a));

	if (!a)
		return false;
	if (vlapic_init(a, &cfg) != VLAPIC_OK) {
		printk(LOG_ERR, "vp%u: the virtual APIC refused its configuration\n", vp->index);
		kfree(a);
		return false;
	}
	bank->lapic = a;
	return true;
}

/* ---- effects --------------------------------------------------------------------- */

static void apply_effects(struct vp *vp, const struct vlapic_effects *fx, u64 old_base)
{
	if (fx->flags & VLAPIC_FX_IPI)
		vm_apic_deliver(vp, &fx->ipi, false);
	if (fx->flags & VLAPIC_FX_EOI_BROADCAST)
		vm_ioapic_eoi(fx->eoi_vector);
	/* A SynIC message waiting for its slot is retried on the EOI of its
	 * SINT's vector (TLFS digest 7.3 step 4). */
	if (fx->flags & VLAPIC_FX_EOI)
		hv_vp_eoi(vp, fx->eoi_vector);
	if (fx->flags & VLAPIC_FX_BASE) {
		u64 base = vlapic_mmio_base(apic_of(vp));
		/* Only the platform's APIC page is trapped in the SLAT view (it is
		 * shared by all VPs); a base moved into RAM would not be seen. */
		if (base != old_base && base != VLAPIC_DEFAULT_BASE)
			printk(LOG_WARN, "vp%u: guest moved its APIC to %llx; only %llx is emulated\n",
			       vp->index, (unsigned long long)base,
			       (unsigned long long)VLAPIC_DEFAULT_BASE);
	}
	/* Timer (re)arming is picked up by vp_apic_arm_timer before the next
	 * entry, and FX_EVAL by the injection there. */
}

/* ---- registers from exits ------------------------------------------------------------ */

struct mmio_ctx {
	struct vp *vp;
	struct vlapic_effects fx;
};

static void apic_mmio_read(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	struct mmio_ctx *m = ctx;
	u32 offset = (u32)(gpa & 0xFFF);
	u32 reg = 0;

	/* Narrow reads see part of the aligned register; wider ones get the
	 * register and the slot's zero padding (11.4.1). */
	apic_lock(m->vp);
	int rc = vlapic_mmio_read(apic_of(m->vp), offset & ~3u, rdtsc(), &reg, &m->fx);
	apic_unlock(m->vp);
	if (rc != VLAPIC_OK)
		reg = 0;
	u64 v = (u64)reg >> ((offset & 3) * 8);
	*value = size >= 8 ? v : v & ((1ULL << (size * 8)) - 1);
}

static void apic_mmio_write(void *ctx, u64 gpa, unsigned size, u64 value)
{
	struct mmio_ctx *m = ctx;
	u32 offset = (u32)(gpa & 0xFFF);

	/* 11.4.1: registers are written with aligned 32-bit stores; anything
	 * else is undefined, and is dropped here. */
	if ((offset & 3) || size < 4) {
		printk(LOG_DEBUG, "vp%u: %u-byte APIC write at offset %x dropped\n", m->vp->index,
		       size, offset);
		return;
	}
	apic_lock(m->vp);
	vlapic_mmio_write(apic_of(m->vp), offset, (u32)value, rdtsc(), &m->fx);
	apic_unlock(m->vp);
}

bool vp_apic_mmio(struct vp *vp, struct vm_exit *exit, enum exit_action *action)
{
	struct vlapic *a = apic_of(vp);
	u64 gpa = exit->slat.gpa;

	if (vlapic_mode(a) != VLAPIC_MODE_XAPIC || ALIGN_DOWN(gpa, PAGE_SIZE) != vlapic_mmio_base(a))
		return false;
	if (exit->slat.access & SLAT_ACCESS_EXEC)
		return false; /* executing the APIC page: the caller stops the guest */

	struct mmio_ctx m = {.vp = vp};
	struct mmio_ops ops = {apic_mmio_read, apic_mmio_write, &m};
	u64 old_base = vlapic_mmio_base(a);

	*action = emulate_mmio_exit(vp, exit, gpa, &ops, "the APIC page");
	apply_effects(vp, &m.fx, old_base);
	return true;
}

int vp_apic_msr_read(struct vp *vp, u32 msr, u64 *value)
{
	struct vlapic_effects fx = {0};

	if (!vlapic_msr_is_apic(msr))
		return 1;
	apic_lock(vp);
	int rc = vlapic_msr_read(apic_of(vp), msr, rdtsc(), value, &fx);
	apic_unlock(vp);
	apply_effects(vp, &fx, 0);
	return rc == VLAPIC_OK ? 0 : -1;
}

int vp_apic_msr_write(struct vp *vp, u32 msr, u64 value)
{
	struct vlapic_effects fx = {0};

	if (!vlapic_msr_is_apic(msr))
		return 1;
	apic_lock(vp);
	u64 old_base = vlapic_mmio_base(apic_of(vp));
	int rc = vlapic_msr_write(apic_of(vp), msr, value, rdtsc(), &fx);
	apic_unlock(vp);
	if (rc != VLAPIC_OK)
		return -1;
	apply_effects(vp, &fx, old_base);
	return 0;
}

int vp_apic_reg_read(struct vp *vp, u32 reg, u64 *value)
{
	struct vlapic_effects fx = {0};

	apic_lock(vp);
	int rc = vlapic_reg_read(apic_of(vp), reg, rdtsc(), value, &fx);
	apic_unlock(vp);
	apply_effects(vp, &fx, 0);
	return rc == VLAPIC_OK ? 0 : -1;
}

int vp_apic_reg_write(struct vp *vp, u32 reg, u64 value)
{
	struct vlapic_effects fx = {0};

	apic_lock(vp);
	u64 old_base = vlapic_mmio_base(apic_of(vp));
	int rc = vlapic_reg_write(apic_of(vp), reg, value, rdtsc(), &fx);
	apic_unlock(vp);
	if (rc != VLAPIC_OK)
		return -1;
	apply_effects(vp, &fx, old_base);
	return 0;
}

void vp_apic_set_auto_eoi(struct vp *vp, u8 vector, bool on)
{
	apic_lock(vp);
	vlapic_set_auto_eoi(apic_of(vp), vector, on);
	apic_unlock(vp);
}

/* ---- messages between APICs ------------------------------------------------------------ */

static void deliver_to(struct vp *target, const struct vlapic_ipi *msg, bool level, bool ipi)
{
	struct vlapic_effects fx = {0};

	apic_lock(target);
	if (ipi)
		vlapic_deliver_ipi(apic_of(target), msg, &fx);
	else
		vlapic_deliver(apic_of(target), msg->delivery, msg->vector, level, &fx);
	apic_unlock(target);
	/* The target notices at its next exit; make that now. */
	if ((fx.flags & VLAPIC_FX_EVAL) && target != this_cpu()->vp)
		vp_kick(target);
}

void vm_apic_deliver(struct vp *sender, const struct vlapic_ipi *msg, bool level)
{
	struct vp *lowest = NULL;
	u8 lowest_apr = 0xFF;

	for (u32 i = 0; i < the_vm.vp_count; i++) {
		struct vp *t = the_vm.vps[i];
		/* Only reads: every VP's entry keeps its look at its APIC
		 * (apic_unlock would make each one look again for an IPI that
		 * deliver_to, which does count, may not even send it). */
		spin_lock(&t->apic_lock);
		bool match = vlapic_ipi_matches(apic_of(t), msg, t == sender);
		u8 apr = match ? vlapic_apr(apic_of(t)) : 0xFF;
		spin_unlock(&t->apic_lock);
		if (!match)
			continue;
		/* Lowest priority goes to one APIC: the lowest arbitration
		 * priority, the first VP on a tie (11.6.2.4; the focus processor
		 * check is not modelled). */
		if (msg->delivery == VLAPIC_DM_LOWEST) {
			if (!lowest || apr < lowest_apr) {
				lowest = t;
				lowest_apr = apr;
			}
			continue;
		}
		deliver_to(t, msg, level, sender != NULL);
	}
	if (lowest)
		deliver_to(lowest, msg, level, sender != NULL);
}

void vp_apic_raise(struct vp *vp, u8 vector)
{
	struct vlapic_ipi msg = {.vector = vector, .delivery = VLAPIC_DM_FIXED, .assert = true};

	deliver_to(vp, &msg, false, false);
}

/* ---- the VP loop's side ---------------------------------------------------------------- */

/* The state INIT leaves a processor in, then started by a SIPI at
 * vector:0000 in real mode (SDM Vol. 3A 10.1.1 Table 10-1, 8.4.4.1). */
static void start_at_sipi(struct vp *vp, u8 vector)
{
	struct segment code = {(u16)(vector << 8), 0x9B, 0xFFFF, (u64)vector << 12};
	struct segment data = {0, 0x93, 0xFFFF, 0};
	struct segment ldtr = {0, 0x82, 0xFFFF, 0};
	struct segment tr = {0, 0x8B, 0xFFFF, 0};
	struct segment table = {0, 0, 0xFFFF, 0};

	vm_backend->cancel_events(vp);
	vp_set_reg(vp, VP_EFER, 0);
	vp_set_reg(vp, VP_CR4, 0);
	vp_set_reg(vp, VP_CR0, CR0_CD | CR0_NW | CR0_ET);
	vp_set_reg(vp, VP_CR3, 0);
	vp_set_reg(vp, VP_CR2, 0);
	vp_set_reg(vp, VP_DR7, 0x400);
	vp_set_reg(vp, VP_RFLAGS, 0x2);
	vp_set_reg(vp, VP_RIP, 0);
	vp_set_seg(vp, VP_CS, &code);
	for (enum vp_seg s = VP_ES; s <= VP_GS; s++) {
		if (s != VP_CS)
			vp_set_seg(vp, s, &data);
	}
	vp_set_seg(vp, VP_LDTR, &ldtr);
	vp_set_seg(vp, VP_TR, &tr);
	vp_set_seg(vp, VP_GDTR, &table);
	vp_set_seg(vp, VP_IDTR, &table);
	for (int r = 0; r < VP_GPR_COUNT; r++)
		vp->gpr[r] = 0;
	/* EDX holds the processor signature after INIT (Table 10-1). */
	vp->gpr[VP_RDX] = cpuid(1).eax;
	vp->nmi_pending = false;
}

void vp_apic_update(struct vp *vp)
{
	struct vlapic *a = apic_of(vp);
	struct vlapic_effects fx = {0};
	u64 now = rdtsc();
	u8 sipi_vector = 0;

	/* Hv#1 synthetic timers first: an expiry may raise an interrupt. */
	hv_vp_poll(vp, now);
	/* The common exit has no expired timer, no event and a running VP: no
	 * lock.  Reading events unlocked is safe: a sender sets them under the
	 * lock and then kicks this CPU, so one missed here makes the next
	 * entry exit (or the next HLT return) at once and is seen then. */
	bool timer_due = vp->apic_deadline && now >= vp->apic_deadline;
	if (!timer_due && !__atomic_load_n(&a->events, __ATOMIC_RELAXED) &&
	    vp->state != VP_HALTED)
		return;
	apic_lock(vp);
	if (timer_due)
		vlapic_timer_update(a, now, &fx);
	u32 events = a->events ? vlapic_take_events(a, &sipi_vector) : 0;
	if (events & VLAPIC_EV_INIT)
		vlapic_reset_init(a, &fx);
	apic_unlock(vp);

	if (events & VLAPIC_EV_INIT) {
		/* An INIT parks the processor until a SIPI (8.4.1); the BSP would
		 * restart its firmware instead, which no guest here relies on. */
		if (vp->index == 0) {
			printk(LOG_WARN, "vp0: INIT to the boot processor ignored\n");
		} else {
			printk(LOG_DEBUG, "vp%u: INIT: waiting for SIPI\n", vp->index);
			vm_backend->cancel_events(vp);
			vp->nmi_pending = false;
			vp->state = VP_WAIT_FOR_SIPI;
		}
	}
	if ((events & VLAPIC_EV_SIPI) && vp->state == VP_WAIT_FOR_SIPI) {
		printk(LOG_INFO, "vp%u: started by SIPI at %x:0000\n", vp->index, sipi_vector << 8);
		start_at_sipi(vp, sipi_vector);
		vp->state = VP_RUNNING;
	}
	if ((events & VLAPIC_EV_NMI) && vp->state != VP_WAIT_FOR_SIPI)
		vp->nmi_pending = true;
	if (events & (VLAPIC_EV_SMI | VLAPIC_EV_EXTINT))
		printk(LOG_DEBUG, "vp%u: %s message dropped (no SMM, no 8259 vectors)\n", vp->index,
		       events & VLAPIC_EV_SMI ? "SMI" : "ExtINT");
	if (vp->state == VP_HALTED && vp_apic_wakeup_pending(vp)) {
		vp->state = VP_RUNNING;
		hv_vp_woken(vp);
	}
	if (fx.flags & (VLAPIC_FX_IPI | VLAPIC_FX_EOI_BROADCAST))
		apply_effects(vp, &fx, vlapic_mmio_base(a));
}

bool vp_apic_wakeup_pending(struct vp *vp)
{
	if (vp->nmi_pending)
		return true;
	/* Hv#1 GUEST_IDLE wakes on any interrupt, even with RFLAGS.IF clear
	 * (TLFS digest 2.14); HLT needs IF. */
	if (!(vp_get_reg(vp, VP_RFLAGS) & RFLAGS_IF) && !hv_vp_idle(vp))
		return false;
	apic_lock(vp);
	bool pending = vlapic_highest_pending(apic_of(vp)) >= 0;
	apic_unlock(vp);
	return pending;
}

/* Arms the host timer for the earliest of the APIC timer (apic_deadline,
 * read under the APIC lock by the caller), the Hv#1 timers and an NMI retry;
 * touches the hardware only when that changed. */
static void arm_host_timer(struct vp *vp, u64 apic_deadline)
{
	u64 deadline = apic_deadline;

	vp->apic_deadline = apic_deadline;
	u64 hv_deadline = hv_vp_next_deadline(vp);
	if (hv_deadline && (!deadline || hv_deadline < deadline))
		deadline = hv_deadline;
	if (vp->nmi_pending) {
		u64 retry = rdtsc() + tsc_hz / 1000000 * NMI_RETRY_US;
		if (!deadline || retry < deadline)
			deadline = retry;
	}
	/* The timer's own record, not a copy: it reads 0 once it fired. */
	if (deadline != host_timer_deadline(HOST_TIMER_VP))
		host_timer_set(HOST_TIMER_VP, deadline, NULL);
}

static u64 apic_timer_deadline(struct vp *vp)
{
	u64 deadline;
	return vlapic_timer_deadline(apic_of(vp), &deadline) ? deadline : 0;
}

void vp_apic_arm_timer(struct vp *vp)
{
	apic_lock(vp);
	u64 deadline = apic_timer_deadline(vp);
	apic_unlock(vp);
	arm_host_timer(vp, deadline);
}

/* Keeps the guest's CR8 (the backend's TPR shadow) equal to TPR[7:4]. */
static void sync_cr8_in(struct vp *vp, u8 tpr)
{
	u8 cr8 = tpr >> 4;
	if (cr8 != vp->cr8_shadow) {
		vp_set_reg(vp, VP_CR8, cr8);
		vp->cr8_shadow = cr8;
	}
}

/* EOI assist (Hv#1, TLFS digest 7.6; the rule is vlapic_eoi_assist_offer's):
 * the "no EOI required" bit is set only while the guest runs.  At the exit
 * it is withdrawn, and if the guest had cleared it (it skipped its EOI), the
 * EOI is done now, before anything else looks at the APIC, with what an EOI
 * triggers (SynIC re-delivery; never an IOAPIC EOI: only edge-triggered
 * vectors are offered).  A guest that did EOI through the MSR or the APIC
 * page finds the bit clear after that exit, and nothing is retired twice. */
static void settle_eoi_assist(struct vp *vp, struct vlapic *a)
{
	struct vlapic_effects fx = {0};
	bool skipped = hv_vp_eoi_assist_withdraw(vp);

	apic_lock(vp);
	vlapic_eoi_assist_settle(a, skipped, &fx);
	apic_unlock(vp);
	if (fx.flags & VLAPIC_FX_EOI)
		apply_effects(vp, &fx, vlapic_mmio_base(a));
}

void vp_apic_after_exit(struct vp *vp)
{
	struct vlapic *a = apic_of(vp);

	/* Only this CPU writes eoi_assisted, so it is read without the lock. */
	if (a->eoi_assisted >= 0)
		settle_eoi_assist(vp, a);
	u8 cr8 = (u8)vp_get_reg(vp, VP_CR8);

	if (cr8 == vp->cr8_shadow)
		return;
	vp->cr8_shadow = cr8;
	apic_lock(vp);
	vlapic_cr8_write(a, cr8, NULL);
	apic_unlock(vp);
}

void vp_apic_prepare_entry(struct vp *vp)
{
	struct vlapic *a = apic_of(vp);
	bool want_window = false;

	if (vp->nmi_pending && vm_backend->nmi_allowed(vp)) {
		struct vp_event ev = {VP_EVENT_NMI, 2, false, 0};
		vp_inject(vp, &ev);
		vp->nmi_pending = false;
	}
	if (vp->nmi_pending != vp->nmi_window) {
		vm_backend->set_nmi_window(vp, vp->nmi_pending);
		vp->nmi_window = vp->nmi_pending;
	}
	/* The common entry: nothing was pending or in service at the last look
	 * and nobody has held the lock since, so its answers (no injection, no
	 * window, no EOI assist, CR8, the APIC timer) all still hold. */
	if (vp->apic_settled &&
	    __atomic_load_n(&vp->apic_changes, __ATOMIC_ACQUIRE) == vp->apic_changes_seen) {
		arm_host_timer(vp, vp->apic_deadline);
		return;
	}
	spin_lock(&vp->apic_lock);
	vp->apic_changes_seen = vp->apic_changes;
	if (vlapic_highest_pending(a) >= 0) {
		u8 vector;
		if (vm_backend->irq_allowed(vp)) {
			/* INTA: IRR to ISR, the vector to the guest (11.8.4). */
			if (vlapic_ack(a, &vector)) {
				struct vp_event ev = {VP_EVENT_EXTINT, vector, false, 0};
				vp_inject(vp, &ev);
			}
		}
		/* Another one behind it, or none could go in: exit as soon as
		 * the guest can take one. */
		want_window = vlapic_highest_pending(a) >= 0;
	}
	/* EOI assist (see settle_eoi_assist): only once an interrupt is in
	 * service, and only for a VP whose assist page is on. */
	int assisted = -1;
	if (a->last_acked >= 0 && hv_vp_eoi_assist_ready(vp))
		assisted = vlapic_eoi_assist_offer(a);
	u8 tpr = (u8)a->tpr;
	u64 timer_deadline = apic_timer_deadline(vp);
	vp->apic_settled = !want_window && a->last_acked < 0;
	spin_unlock(&vp->apic_lock);
	if (assisted >= 0)
		hv_vp_eoi_assist_set(vp);
	vm_backend->set_irq_window(vp, want_window);
	sync_cr8_in(vp, tpr);
	arm_host_timer(vp, timer_deadline);
}
