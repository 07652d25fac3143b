/* The SynIC message-slot and event-flag protocol (TLFS "Inter-Partition
 * Communication" / "Synthetic Interrupt Controller"; digest 7.1-7.6) as pure
 * logic over the two guest pages.  No APIC, no MSR decoding, no locking, no
 * VMX/SVM: the core maps the SIM/SIEF overlay frames, holds a per-SynIC lock
 * around every call here, and raises the interrupts this code asks for.  Also
 * built into the host unit tests.
 *
 * One struct hv_synic exists per VP per VTL (the TLFS makes the whole SynIC
 * VTL-private; digest 5.13), so it lives in the VTL bank.
 *
 * Messages.  A producer (a synthetic timer, a PostMessage port buffer, the
 * intercept path) owns a struct hv_msg_node and posts it to a SINT:
 *  - slot empty and nothing queued before it: the message is copied into the
 *    slot (MessageType written last) and the SINT is signalled;
 *  - slot busy: the node joins the SINT's FIFO (the SynIC owns it until it is
 *    delivered: node->queued), MessagePending is set in the message occupying
 *    the slot, and delivery is retried when the guest writes EOM or EOIs the
 *    SINT's vector (digest 7.3 step 4; the guest's side is 7.4).
 * A delivered message carries MessagePending itself when more are queued, so
 * the guest always knows to write EOM.
 *
 * Signalling.  Functions that can deliver return a mask of SINTs to interrupt
 * ("raise mask").  A SINT is never in it while Masked (the message stays in the
 * slot and the interrupt is lost, 7.3) or in Polling mode (no interrupt).  For
 * each SINT in the mask the core injects hv_synic_sint_vector() as an edge
 * interrupt, with an implicit EOI when hv_synic_sint_auto_eoi() (7.6): the ISR
 * bit is cleared at acceptance and the guest will not EOI it, so AutoEOI SINTs
 * are re-scanned only on EOM, never on an EOI.
 *
 * Event flags.  hv_synic_set_event_flag() sets flag n of a SINT's 2048-flag
 * array in the SIEF page atomically and signals only on a 0 -> 1 change (7.5). */
#ifndef HV_HYPERV_HV_SYNIC_SLOT_H
#define HV_HYPERV_HV_SYNIC_SLOT_H

#include "hyperv/hv_defs.h"
#include "kernel/types.h"

/* A message buffer owned by its producer. */
struct hv_msg_node {
	struct hv_msg_node *next;
	bool queued;	/* true while the SynIC holds it; do not touch or repost */
	struct hv_message msg;
};

struct hv_synic {
	/* MSR images (digest 2.11), kept by the MSR layer. */
	u64 scontrol;
	u64 simp;
	u64 siefp;
	u64 sint[HV_SYNIC_SINT_COUNT];
	/* The hypervisor's mappings of the overlay pages: non-NULL exactly
	 * while SIMP / SIEFP are enabled. */
	struct hv_message_page *sim;
	struct hv_synic_event_flags_page *sief;
	/* Messages waiting for their slot, per SINT, oldest first. */
	struct hv_msg_node *head[HV_SYNIC_SINT_COUNT];
	struct hv_msg_node *tail[HV_SYNIC_SINT_COUNT];
};

/* Reset values (digest 7.1): SCONTROL, SIMP, SIEFP 0, every SINT 0x10000
 * (masked), queues emptied (their nodes handed back: queued = false), pages
 * unmapped.  Clearing the pages themselves is the caller's job. */
void hv_synic_reset(struct hv_synic *s);

/* SINTx write check (digest 2.11): a vector below 16 is #GP unless Masked.
 * Returns false for #GP; otherwise stores the value.  Unmasking does not
 * re-raise a message already in the slot (its interrupt was lost, 7.3); the
 * guest drains with EOM. */
bool hv_synic_set_sint(struct hv_synic *s, u32 sint, u64 value);

static inline u8 hv_synic_sint_vector(const struct hv_synic *s, u32 sint)
{
	return (u8)(s->sint[sint] & HV_SYNIC_SINT_VECTOR_MASK);
}

static inline bool hv_synic_sint_auto_eoi(const struct hv_synic *s, u32 sint)
{
	return (s->sint[sint] & HV_SYNIC_SINT_AUTO_EOI) != 0;
}

static inline bool hv_synic_enabled(const struct hv_synic *s)
{
	return (s->scontrol & HV_X64_MSR_SCONTROL_ENABLE) != 0;
}

enum hv_post_result {
	HV_POST_DELIVERED,    /* in the slot now; *raise says whether to interrupt */
	HV_POST_QUEUED,	      /* slot busy: node queued, MessagePending set; retry on EOM/EOI */
	HV_POST_DROPPED,      /* slot busy and HV_POST_NO_QUEUE: nothing changed */
	HV_POST_NOT_ELIGIBLE, /* SCONTROL or SIMP disabled (sender: INVALID_SYNIC_STATE) */
	HV_POST_INVALID,      /* bad SINT, type 0, payload > 240 bytes, node already queued */
};

/* Flags of hv_synic_post(). */
#define HV_POST_NO_QUEUE 0x1U /* drop instead of queueing (KVM does so for
			       * periodic timer expirations, digest 7.3) */

/* Posts node->msg to `sint`.  The header's MessageFlags are owned by the
 * SynIC (MessagePending is computed); everything else is copied as given.
 * *raise receives the SINTs to interrupt (0 or 1 << sint). */
enum hv_post_result hv_synic_post(struct hv_synic *s, u32 sint, struct hv_msg_node *node,
				  u32 flags, u16 *raise);

/* The guest wrote EOM (digest 7.3, 7.4): deliver the oldest queued message of
 * every SINT whose slot is empty.  A no-op when nothing is queued.  Returns
 * the raise mask.  Also call it after SCONTROL or SIMP become enabled. */
u16 hv_synic_eom(struct hv_synic *s);

/* The guest EOIed `vector`: the same re-scan, limited to the SINTs that use
 * that vector without AutoEOI. */
u16 hv_synic_eoi(struct hv_synic *s, u8 vector);

/* True when a message to `sint` would go straight into its slot: the SynIC
 * and SIMP are enabled and the slot is empty. */
bool hv_synic_slot_open(const struct hv_synic *s, u32 sint);

/* True while `sint` has messages waiting for its slot. */
bool hv_synic_has_queued(const struct hv_synic *s, u32 sint);

/* Sets event flag `flag` of `sint` (digest 7.5).  Returns
 *   INVALID_PARAMETER    sint >= 16 or flag >= 2048
 *   INVALID_SYNIC_STATE  SCONTROL or SIEFP disabled, or the SINT is masked
 *                        ([DISPUTED #21 / 1-src]: TLFS's HvSignalEvent status;
 *                        the flag is then left alone)
 *   SUCCESS              *raise = 1 << sint if the flag went 0 -> 1 (and the
 *                        SINT is not polling), else 0
 */
u16 hv_synic_set_event_flag(struct hv_synic *s, u32 sint, u32 flag, u16 *raise);

#endif
