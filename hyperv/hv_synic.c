/* See hv_synic.h.  Section numbers are the TLFS digest's. */
#include "hyperv/hv_synic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "hyperv/hv_defs.h"
#include "hyperv/hv_partition.h"
#include "hyperv/hv_reftime.h"
#include "hyperv/hv_stimer.h"
#include "hyperv/hv_synic_slot.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/pages.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vm/gpa_view.h"
#include "kernel/vm/vlapic.h"
#include "kernel/vm/vp_apic.h"

/* Guest messages (HvCallPostMessage) a SINT holds while its slot is busy.
 * The TLFS gives each message port 16 buffers (7.5, 1-src); without ports a
 * SINT's share stands in for them. */
#define POST_BUFFERS_PER_SINT 4

/* SINT bits kept; the rest is RsvdP (2.11): ignored, reads back 0.  Bit 19
 * is RsvdP too ([DISPUTED #27]); Polling only when offered. */
#define SINT_DEFINED (HV_SYNIC_SINT_VECTOR_MASK | HV_SYNIC_SINT_MASKED | HV_SYNIC_SINT_AUTO_EOI)

struct hv_vp {
	struct vp *vp;
	struct vtl_bank *bank;
	/* Guards `synic` and the nodes it holds: other CPUs post and signal. */
	struct spinlock lock;
	struct hv_synic synic;
	/* The frames behind the overlays, allocated at first enable and kept. */
	struct hv_message_page *sim_frame;
	struct hv_synic_event_flags_page *sief_frame;
	struct hv_vp_assist_page *assist_frame;
	u64 assist_msr;
	/* Timers: the VP's own CPU only. */
	struct hv_stimer stimer[HV_SYNIC_STIMER_COUNT];
	u64 stimer_tsc[HV_SYNIC_STIMER_COUNT]; /* host deadline of an armed timer */
	u64 stimer_next; /* the earliest of stimer_tsc (0: none): one compare per exit */
	/* Periodic message-mode timers whose last expiry could not go in (the
	 * slot busy, the SynIC off, or the timer's own earlier message still
	 * queued): not armed until it can, so that a guest that leaves its
	 * slot full, with a period shorter than an exit, cannot keep the VP
	 * exiting for expiries that are all dropped. */
	u8 stimer_slot_wait;
	/* One message buffer per timer, so expiry never lacks one (7.7). */
	struct hv_msg_node stimer_msg[HV_SYNIC_STIMER_COUNT];
	struct hv_msg_node post_msg[HV_SYNIC_SINT_COUNT][POST_BUFFERS_PER_SINT];
	u32 auto_eoi[8]; /* vectors marked AutoEOI in the APIC, by us */
	bool idle;	 /* in GUEST_IDLE */
	bool eoi_assist_taken; /* the guest skipped an EOI once (logged) */
};

/* ---- per-VP state ---------------------------------------------------------------- */

static struct hv_vp *hv_in_bank(struct vtl_bank *bank)
{
	return bank ? __atomic_load_n(&bank->hv, __ATOMIC_ACQUIRE) : NULL;
}

static struct hv_vp *hv_of(struct vp *vp)
{
	return hv_in_bank(vp_bank(vp));
}

/* Creates the active bank's state on first use (own CPU only). */
static struct hv_vp *hv_get(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);

	if (hv)
		return hv;
	hv = kzalloc(sizeof(*hv));
	if (!hv) {
		printk(LOG_ERR, "vp%u: no memory for the Hv#1 per-VP state\n", vp->index);
		return NULL;
	}
	hv->vp = vp;
	hv->bank = vp_bank(vp);
	hv->lock = (struct spinlock)SPINLOCK_INIT;
	hv_synic_reset(&hv->synic);
	__atomic_store_n(&vp_bank(vp)->hv, hv, __ATOMIC_RELEASE);
	return hv;
}

/* Raises the SINTs in `raise` (vectors read under the lock by the caller). */
static void raise_vectors(struct vp *vp, const u8 *vectors, u16 raise)
{
	for (u32 i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		if (raise & (1U << i))
			vp_apic_raise(vp, vectors[i]);
	}
}

/* Raises the SINTs in `raise` after the SynIC lock is dropped (nobody holds
 * two VPs' locks, and the APIC lock nests under none of ours); the vectors
 * are read while it is still held. */
static void unlock_and_raise(struct hv_vp *hv, u16 raise)
{
	u8 vectors[HV_SYNIC_SINT_COUNT];

	for (u32 i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		vectors[i] = hv_synic_sint_vector(&hv->synic, i);
	spin_unlock(&hv->lock);
	raise_vectors(hv->vp, vectors, raise);
}

/* EOM, or SCONTROL/SIMP enabled: deliver what waited (7.3 step 4). */
static void rescan(struct hv_vp *hv)
{
	spin_lock(&hv->lock);
	unlock_and_raise(hv, hv_synic_eom(&hv->synic));
}

/* ---- overlays (2.10, 2.11, 7.1) ---------------------------------------------------- */

bool hv_vp_overlay_at(u64 gpa)
{
	u64 page = ALIGN_DOWN(gpa, PAGE_SIZE);

	for (u32 i = 0; i < the_vm.vp_count; i++) {
		for (u32 v = 0; v < HV_VTL_COUNT; v++) {
			struct hv_vp *hv = hv_in_bank(the_vm.vps[i]->vtl[v]);
			if (hv && (hv_overlay_covers(hv->synic.simp, page) ||
				   hv_overlay_covers(hv->synic.siefp, page) ||
				   hv_overlay_covers(hv->assist_msr, page)))
				return true;
		}
	}
	return false;
}

/* Moves one of this VP's overlays from old_msr to new_msr (hv_overlay_move,
 * which the caller's lock serialises).  Returns false for #GP: reserved bits
 * 11:1 set (as for HYPERCALL and REFERENCE_TSC, and OVMM), or what
 * hv_overlay_move refuses.  *frame is allocated on first enable. */
static bool overlay_move(struct hv_vp *hv, const char *name, u64 old_msr, u64 new_msr,
			 void **frame)
{
	if (new_msr & HV_X64_MSR_OVERLAY_RSVDP_MASK)
		return false;
	if ((new_msr & HV_X64_MSR_OVERLAY_ENABLE) && !*frame) {
		*frame = pages_alloc(1);
		if (!*frame) {
			printk(LOG_ERR, "vp%u: no frame for the %s page\n", hv->vp->index, name);
			return false;
		}
	}
	u64 hpa = *frame ? virt_to_phys(*frame) : 0;
	return hv_overlay_move(hv->vp, hv->bank->view, name, old_msr, new_msr, hpa,
			       GPA_PERM_R | GPA_PERM_W);
}

/* ---- SynIC MSRs (2.11, 7) ---------------------------------------------------------- */

/* Keeps the APIC's AutoEOI set equal to the vectors of the SINTs with AutoEOI
 * (7.6; KVM keeps the same per-vector union).  Own CPU, MSR writes only. */
static void update_auto_eoi(struct hv_vp *hv)
{
	u32 want[8] = {0};

	for (u32 i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		if (hv_synic_sint_auto_eoi(&hv->synic, i)) {
			u8 v = hv_synic_sint_vector(&hv->synic, i);
			want[v >> 5] |= 1U << (v & 31);
		}
	}
	for (u32 v = 0; v < 256; v++) {
		bool on = (want[v >> 5] >> (v & 31)) & 1, was = (hv->auto_eoi[v >> 5] >> (v & 31)) & 1;
		if (on != was)
			vp_apic_set_auto_eoi(hv->vp, (u8)v, on);
	}
	memcpy(hv->auto_eoi, want, sizeof(want));
}

static int write_sint(struct hv_vp *hv, u32 sint, u64 value)
{
	u64 keep = SINT_DEFINED;

	if (hv_features_on(&hv_partition_features, HV_FEAT_SINT_POLLING))
		keep |= HV_SYNIC_SINT_POLLING;
	spin_lock(&hv->lock);
	bool ok = hv_synic_set_sint(&hv->synic, sint, value & keep);
	spin_unlock(&hv->lock);
	if (!ok) {
		printk(LOG_DEBUG, "vp%u: SINT%u <- %llx: vector below 16 while unmasked, #GP\n",
		       hv->vp->index, sint, (unsigned long long)value);
		return -1;
	}
	update_auto_eoi(hv);
	return 0;
}

static int write_simp(struct hv_vp *hv, u64 value)
{
	void *frame = hv->sim_frame;
	u64 old = hv->synic.simp;

	if (!overlay_move(hv, "SIM", old, value, &frame))
		return -1;
	hv->sim_frame = frame;
	/* A newly placed SIM page starts empty (KVM clears it on enable; the
	 * TLFS clears it at VP creation and reset). */
	if ((value & HV_X64_MSR_SIMP_ENABLE) && (!(old & HV_X64_MSR_SIMP_ENABLE) ||
						  (old ^ value) & HV_X64_MSR_OVERLAY_PAGE_MASK))
		memset(hv->sim_frame, 0, PAGE_SIZE);
	spin_lock(&hv->lock);
	hv->synic.simp = value;
	hv->synic.sim = (value & HV_X64_MSR_SIMP_ENABLE) ? hv->sim_frame : NULL;
	spin_unlock(&hv->lock);
	/* Messages queued while the page was off go in now. */
	rescan(hv);
	return 0;
}

static int write_siefp(struct hv_vp *hv, u64 value)
{
	void *frame = hv->sief_frame;
	u64 old = hv->synic.siefp;

	if (!overlay_move(hv, "SIEF", old, value, &frame))
		return -1;
	hv->sief_frame = frame;
	if ((value & HV_X64_MSR_SIEFP_ENABLE) && (!(old & HV_X64_MSR_SIEFP_ENABLE) ||
						   (old ^ value) & HV_X64_MSR_OVERLAY_PAGE_MASK))
		memset(hv->sief_frame, 0, PAGE_SIZE);
	spin_lock(&hv->lock);
	hv->synic.siefp = value;
	hv->synic.sief = (value & HV_X64_MSR_SIEFP_ENABLE) ? hv->sief_frame : NULL;
	spin_unlock(&hv->lock);
	return 0;
}

/* VP assist page (2.10): an overlay the guest reads and writes.  The
 * hypervisor uses ApicAssist for EOI assist (7.6, below); nothing else on
 * the page is used yet (the VTL control area comes with VSM).  The page only
 * moves during an exit, when the assist bit is never set (vp_apic.c
 * withdraws it first), so a move cannot strand a set bit. */
static int write_assist(struct hv_vp *hv, u64 value)
{
	void *frame = hv->assist_frame;
	u64 old = hv->assist_msr;

	if (!overlay_move(hv, "VP assist", old, value, &frame))
		return -1;
	hv->assist_frame = frame;
	if (value & HV_X64_MSR_VP_ASSIST_PAGE_ENABLE)
		__atomic_store_n(&hv->assist_frame->apic_assist, 0, __ATOMIC_RELAXED);
	hv->assist_msr = value;
	return 0;
}

/* EOI assist (7.6).  The guest takes the assist with an atomic exchange
 * (Linux: xchg(&apic_assist, 0) & 1; the TLFS: btr), so the hypervisor
 * changes bit 0 atomically too and leaves bits 31:1 (RsvdZ) to the guest;
 * this VP's guest is not running, but other VPs can reach the page. */
bool hv_vp_eoi_assist_ready(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);

	return hv && hv->assist_frame && (hv->assist_msr & HV_X64_MSR_VP_ASSIST_PAGE_ENABLE) &&
	       hv_features_on(&hv_partition_features, HV_FEAT_EOI_ASSIST);
}

void hv_vp_eoi_assist_set(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);

	if (hv && hv->assist_frame)
		__atomic_fetch_or(&hv->assist_frame->apic_assist,
				  HV_VP_ASSIST_APIC_ASSIST_NO_EOI_REQUIRED, __ATOMIC_SEQ_CST);
}

bool hv_vp_eoi_assist_withdraw(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);

	if (!hv || !hv->assist_frame)
		return false;
	u32 old = __atomic_fetch_and(&hv->assist_frame->apic_assist,
				     ~HV_VP_ASSIST_APIC_ASSIST_NO_EOI_REQUIRED, __ATOMIC_SEQ_CST);
	bool taken = !(old & HV_VP_ASSIST_APIC_ASSIST_NO_EOI_REQUIRED);
	/* Once per VP, so a log shows whether the guest uses it at all. */
	if (taken && !hv->eoi_assist_taken) {
		hv->eoi_assist_taken = true;
		printk(LOG_INFO, "vp%u: the guest takes EOI assist (skipped an EOI)\n", vp->index);
	}
	return taken;
}

/* ---- synthetic timers (2.12, 7.7, 7.8) ------------------------------------------------ */

static u64 ref_now(void)
{
	return hv_time_ref_count();
}

static void stimer_set_tsc(struct hv_vp *hv, u32 i, u64 tsc)
{
	u64 next = 0;

	hv->stimer_tsc[i] = tsc;
	for (u32 k = 0; k < HV_SYNIC_STIMER_COUNT; k++) {
		u64 d = hv->stimer_tsc[k];
		if (d && (!next || d < next))
			next = d;
	}
	hv->stimer_next = next;
}

/* The host deadline for timer i after it was (re)armed. */
static void stimer_schedule(struct hv_vp *hv, u32 i, u64 now_ref)
{
	u64 due;

	if ((hv->stimer_slot_wait & (1U << i)) || !hv_stimer_deadline(&hv->stimer[i], &due)) {
		stimer_set_tsc(hv, i, 0);
		return;
	}
	stimer_set_tsc(hv, i, hv_stimer_tsc_deadline(due, now_ref, rdtsc(), tsc_hz));
}

static void stimer_deliver(struct hv_vp *hv, u32 i, u64 expiration, u64 now_ref)
{
	struct hv_stimer *t = &hv->stimer[i];

	if (hv_stimer_direct(t)) {
		vp_apic_raise(hv->vp, hv_stimer_vector(t));
		return;
	}
	struct hv_msg_node *node = &hv->stimer_msg[i];
	u32 sint = hv_stimer_sint(t);
	bool periodic = hv_stimer_periodic(t);

	spin_lock(&hv->lock);
	/* The previous expiry still waits for its slot: it stands for this
	 * one too (one buffer per timer, 7.7).  That can be a one-shot's
	 * message from before the timer was rewritten as periodic, so a
	 * periodic timer rests here too: re-armed instead, a period shorter
	 * than an exit expired again at every entry and the VP never ran. */
	if (node->queued) {
		if (periodic)
			hv->stimer_slot_wait |= (u8)(1U << i);
		spin_unlock(&hv->lock);
		return;
	}
	memset(&node->msg, 0, sizeof(node->msg));
	node->msg.header.message_type = HvMessageTypeTimerExpired;
	node->msg.header.payload_size = sizeof(struct hv_timer_message_payload);
	struct hv_timer_message_payload p = {
		.timer_index = i, .expiration_time = expiration, .delivery_time = now_ref};
	memcpy(node->msg.payload, &p, sizeof(p));
	u16 raise = 0;
	/* A periodic expiry that finds the slot busy is dropped (KVM; 7.3
	 * step 4), and the timer rests until the slot can take one (so does a
	 * timer whose SynIC or SIMP is off). */
	enum hv_post_result posted =
		hv_synic_post(&hv->synic, sint, node, periodic ? HV_POST_NO_QUEUE : 0, &raise);
	if (periodic && (posted == HV_POST_DROPPED || posted == HV_POST_NOT_ELIGIBLE))
		hv->stimer_slot_wait |= (u8)(1U << i);
	u8 vector = hv_synic_sint_vector(&hv->synic, sint);
	spin_unlock(&hv->lock);
	if (raise)
		vp_apic_raise(hv->vp, vector);
}

/* Re-arms the resting timers whose slot the guest emptied and whose own
 * message went in; missed periods are skipped (hv_stimer_expire). */
static void resume_slot_waiters(struct hv_vp *hv)
{
	for (u32 i = 0; i < HV_SYNIC_STIMER_COUNT; i++) {
		if (!(hv->stimer_slot_wait & (1U << i)))
			continue;
		u32 sint = hv_stimer_sint(&hv->stimer[i]);
		spin_lock(&hv->lock);
		bool open = !hv->stimer_msg[i].queued && hv_synic_slot_open(&hv->synic, sint);
		spin_unlock(&hv->lock);
		if (!open)
			continue;
		hv->stimer_slot_wait &= (u8)~(1U << i);
		stimer_schedule(hv, i, ref_now());
	}
}

void hv_vp_poll(struct vp *vp, u64 now)
{
	struct hv_vp *hv = hv_of(vp);
	u64 now_ref = 0;
	bool have_ref = false;

	if (!hv)
		return;
	if (hv->stimer_slot_wait)
		resume_slot_waiters(hv);
	if (!hv->stimer_next || now < hv->stimer_next)
		return;
	for (u32 i = 0; i < HV_SYNIC_STIMER_COUNT; i++) {
		u64 expiration;

		if (!hv->stimer_tsc[i] || now < hv->stimer_tsc[i])
			continue;
		if (!have_ref) {
			now_ref = ref_now();
			have_ref = true;
		}
		if (hv_stimer_expire(&hv->stimer[i], now_ref, &expiration))
			stimer_deliver(hv, i, expiration, now_ref);
		/* Also when not due yet: the host deadline was capped or rounded. */
		stimer_schedule(hv, i, now_ref);
	}
}

u64 hv_vp_next_deadline(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);
	return hv ? hv->stimer_next : 0;
}

static int write_stimer(struct hv_vp *hv, u32 msr, u64 value)
{
	u32 i = (msr - HV_X64_MSR_STIMER0_CONFIG) / 2;
	bool is_config = ((msr - HV_X64_MSR_STIMER0_CONFIG) & 1) == 0;
	u64 now_ref = ref_now();

	if (is_config) {
		bool direct = hv_features_on(&hv_partition_features, HV_FEAT_STIMER_DIRECT);
		if (!hv_stimer_write_config(&hv->stimer[i], value, now_ref, direct)) {
			printk(LOG_DEBUG, "vp%u: STIMER%u_CONFIG <- %llx refused (#GP)\n",
			       hv->vp->index, i, (unsigned long long)value);
			return -1;
		}
	} else {
		hv_stimer_write_count(&hv->stimer[i], value, now_ref);
	}
	/* A rewritten timer starts afresh, resting or not. */
	hv->stimer_slot_wait &= (u8)~(1U << i);
	stimer_schedule(hv, i, now_ref);
	return 0;
}

/* ---- the rest ------------------------------------------------------------------------ */

void hv_vp_eoi(struct vp *vp, u8 vector)
{
	struct hv_vp *hv = hv_of(vp);

	if (!hv)
		return;
	spin_lock(&hv->lock);
	unlock_and_raise(hv, hv_synic_eoi(&hv->synic, vector));
}

bool hv_vp_idle(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);
	return hv && hv->idle;
}

void hv_vp_woken(struct vp *vp)
{
	struct hv_vp *hv = hv_of(vp);
	if (hv)
		hv->idle = false;
}

bool hv_vp_msr_moves_overlay(u32 msr)
{
	return msr == HV_X64_MSR_SIMP || msr == HV_X64_MSR_SIEFP || msr == HV_X64_MSR_VP_ASSIST_PAGE;
}

static bool is_ours(u32 msr)
{
	switch (msr) {
	case HV_X64_MSR_VP_RUNTIME:
	case HV_X64_MSR_RESET:
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
	case HV_X64_MSR_EOI:
	case HV_X64_MSR_ICR:
	case HV_X64_MSR_TPR:
	case HV_X64_MSR_VP_ASSIST_PAGE:
	case HV_X64_MSR_SCONTROL:
	case HV_X64_MSR_SVERSION:
	case HV_X64_MSR_SIEFP:
	case HV_X64_MSR_SIMP:
	case HV_X64_MSR_EOM:
	case HV_X64_MSR_GUEST_IDLE:
		return true;
	default:
		return (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) ||
		       (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT);
	}
}

int hv_vp_msr_read(struct vp *vp, u32 msr, u64 *value)
{
	if (!is_ours(msr))
		return 1;
	*value = 0;
	/* Partition-wide and APIC ones first: no per-VP state needed. */
	switch (msr) {
	case HV_X64_MSR_VP_RUNTIME:
		/* 100 ns of VP run time.  A VP owns its CPU and is never
		 * descheduled, so its run time is the partition's age (time
		 * halted included: documented approximation). */
		*value = ref_now();
		return 0;
	case HV_X64_MSR_RESET:
		return 0; /* reads 0 (2.5) */
	case HV_X64_MSR_TSC_FREQUENCY:
		*value = tsc_hz;
		return 0;
	case HV_X64_MSR_APIC_FREQUENCY:
		*value = VP_APIC_BUS_HZ;
		return 0;
	case HV_X64_MSR_EOI:
		return -1; /* write-only (2.9) */
	case HV_X64_MSR_ICR:
		return vp_apic_reg_read(vp, VLAPIC_REG_ICR_LO, value);
	case HV_X64_MSR_TPR:
		return vp_apic_reg_read(vp, VLAPIC_REG_TPR, value);
	case HV_X64_MSR_SVERSION:
		*value = HV_SYNIC_VERSION_1;
		return 0;
	case HV_X64_MSR_EOM:
		return 0; /* write-only trigger; reads 0 (2.11) */
	case HV_X64_MSR_GUEST_IDLE: {
		/* 2.14: the read idles the VP until any interrupt, even with
		 * RFLAGS.IF clear; the VP loop sleeps it after this exit. */
		struct hv_vp *hv = hv_get(vp);
		if (!hv)
			return -1;
		hv->idle = true;
		vp->state = VP_HALTED;
		return 0;
	}
	default:
		break;
	}
	struct hv_vp *hv = hv_of(vp);
	if (!hv)
		return msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15
			       ? (*value = HV_SYNIC_SINT_RESET_VALUE, 0)
			       : 0; /* reset values: all 0 but the SINTs */
	if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15) {
		*value = hv->synic.sint[msr - HV_X64_MSR_SINT0];
		return 0;
	}
	if (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT) {
		const struct hv_stimer *t = &hv->stimer[(msr - HV_X64_MSR_STIMER0_CONFIG) / 2];
		*value = ((msr - HV_X64_MSR_STIMER0_CONFIG) & 1) ? t->count : t->config;
		return 0;
	}
	switch (msr) {
	case HV_X64_MSR_VP_ASSIST_PAGE: *value = hv->assist_msr; break;
	case HV_X64_MSR_SCONTROL: *value = hv->synic.scontrol; break;
	case HV_X64_MSR_SIEFP: *value = hv->synic.siefp; break;
	case HV_X64_MSR_SIMP: *value = hv->synic.simp; break;
	default: return -1;
	}
	return 0;
}

int hv_vp_msr_write(struct vp *vp, u32 msr, u64 value)
{
	if (!is_ours(msr))
		return 1;
	switch (msr) {
	case HV_X64_MSR_VP_RUNTIME:
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
	case HV_X64_MSR_SVERSION:
	case HV_X64_MSR_GUEST_IDLE:
		return -1; /* read-only (2.1) */
	case HV_X64_MSR_RESET:
		if (value & ~HV_X64_MSR_RESET_BIT)
			return -1; /* 63:1 RsvdZ */
		if (value & HV_X64_MSR_RESET_BIT) {
			/* No partition reset exists yet: stop it, saying why. */
			printk(LOG_ERR, "hv: vp%u asked for a partition reset (RESET MSR); "
					"reset is not implemented, stopping the partition\n",
			       vp->index);
			vm_stop(vp, "guest reset request", NULL);
		}
		return 0;
	case HV_X64_MSR_EOI:
		/* 31:0 the EOI value (ignored, as by the APIC), 63:32 RsvdZ (2.9). */
		if (value & HV_X64_MSR_EOI_RSVDZ_MASK)
			return -1;
		return vp_apic_reg_write(vp, VLAPIC_REG_EOI, 0);
	case HV_X64_MSR_ICR:
		return vp_apic_reg_write(vp, VLAPIC_REG_ICR_LO, value);
	case HV_X64_MSR_TPR:
		if (value & HV_X64_MSR_TPR_RSVDZ_MASK)
			return -1;
		return vp_apic_reg_write(vp, VLAPIC_REG_TPR, value);
	default:
		break;
	}

	struct hv_vp *hv = hv_get(vp);
	if (!hv)
		return -1;
	if (msr >= HV_X64_MSR_SINT0 && msr <= HV_X64_MSR_SINT15)
		return write_sint(hv, msr - HV_X64_MSR_SINT0, value);
	if (msr >= HV_X64_MSR_STIMER0_CONFIG && msr <= HV_X64_MSR_STIMER3_COUNT)
		return write_stimer(hv, msr, value);
	switch (msr) {
	case HV_X64_MSR_VP_ASSIST_PAGE:
		return write_assist(hv, value);
	case HV_X64_MSR_SCONTROL:
		/* 63:1 RsvdP: ignored.  Enabling delivers what waited (7.3). */
		spin_lock(&hv->lock);
		hv->synic.scontrol = value & HV_X64_MSR_SCONTROL_ENABLE;
		spin_unlock(&hv->lock);
		rescan(hv);
		return 0;
	case HV_X64_MSR_SIEFP:
		return write_siefp(hv, value);
	case HV_X64_MSR_SIMP:
		return write_simp(hv, value);
	case HV_X64_MSR_EOM:
		/* Any value; a no-op when nothing waits (7.3 step 4, 7.4). */
		rescan(hv);
		return 0;
	default:
		return -1;
	}
}

/* ---- for the hypercalls ------------------------------------------------------------- */

int hv_synic_signal_event(struct vp *target, u32 sint, u32 flag)
{
	struct hv_vp *hv = hv_in_bank(target->vtl[0]);

	if (sint >= HV_SYNIC_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	if (!hv)
		return HV_STATUS_INVALID_SYNIC_STATE;
	u16 raise = 0;
	spin_lock(&hv->lock);
	u16 status = hv_synic_set_event_flag(&hv->synic, sint, flag, &raise);
	unlock_and_raise(hv, raise);
	return status;
}

int hv_synic_post_message(struct vp *target, u32 sint, const void *msg, u32 len)
{
	struct hv_vp *hv = hv_in_bank(target->vtl[0]);
	const struct hv_message *m = msg;
	int status = HV_STATUS_SUCCESS;

	if (sint >= HV_SYNIC_SINT_COUNT || len < sizeof(struct hv_message_header) ||
	    len > sizeof(struct hv_message) || m->header.message_type == HvMessageTypeNone ||
	    (m->header.message_type & HV_MESSAGE_TYPE_HYPERVISOR_MASK) ||
	    m->header.payload_size > HV_MESSAGE_MAX_PAYLOAD_BYTE_COUNT ||
	    sizeof(struct hv_message_header) + m->header.payload_size > len)
		return HV_STATUS_INVALID_PARAMETER;
	if (!hv)
		return HV_STATUS_INVALID_SYNIC_STATE;
	u16 raise = 0;
	struct hv_msg_node *node = NULL;
	spin_lock(&hv->lock);
	for (u32 b = 0; b < POST_BUFFERS_PER_SINT && !node; b++) {
		if (!hv->post_msg[sint][b].queued)
			node = &hv->post_msg[sint][b];
	}
	if (!node) {
		status = HV_STATUS_INSUFFICIENT_BUFFERS;
	} else {
		memset(&node->msg, 0, sizeof(node->msg));
		memcpy(&node->msg, m, len);
		switch (hv_synic_post(&hv->synic, sint, node, 0, &raise)) {
		case HV_POST_DELIVERED:
		case HV_POST_QUEUED:
			break;
		case HV_POST_NOT_ELIGIBLE:
			status = HV_STATUS_INVALID_SYNIC_STATE;
			break;
		default:
			status = HV_STATUS_INVALID_PARAMETER;
			break;
		}
	}
	unlock_and_raise(hv, raise);
	return status;
}
