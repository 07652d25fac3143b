/* SynIC message slots and event flags (TLFS "Synthetic Interrupt Controller";
 * digest 7.1-7.6).  The pages are guest memory that the guest reads and writes
 * concurrently with this code, so every access that is part of the handshake is
 * atomic: MessageType is read with acquire and written last with release, and
 * MessagePending / event flags are set with a locked OR. */
#include "hyperv/hv_synic_slot.h"

#include "kernel/lib/string.h"

void hv_synic_reset(struct hv_synic *s)
{
	for (u32 i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		struct hv_msg_node *n = s->head[i];

		while (n) {
			struct hv_msg_node *next = n->next;

			n->next = NULL;
			n->queued = false;
			n = next;
		}
		s->head[i] = s->tail[i] = NULL;
		s->sint[i] = HV_SYNIC_SINT_RESET_VALUE;
	}
	s->scontrol = 0;
	s->simp = 0;
	s->siefp = 0;
	s->sim = NULL;
	s->sief = NULL;
}

bool hv_synic_set_sint(struct hv_synic *s, u32 sint, u64 value)
{
	if (sint >= HV_SYNIC_SINT_COUNT)
		return false;
	/* TLFS: vectors 0-15 are invalid unless the SINT is masked (KVM: #GP). */
	if ((value & HV_SYNIC_SINT_VECTOR_MASK) < HV_SYNIC_FIRST_VALID_VECTOR &&
	    !(value & HV_SYNIC_SINT_MASKED))
		return false;
	s->sint[sint] = value;
	return true;
}

bool hv_synic_has_queued(const struct hv_synic *s, u32 sint)
{
	return sint < HV_SYNIC_SINT_COUNT && s->head[sint] != NULL;
}

static bool sint_signals(const struct hv_synic *s, u32 sint)
{
	return !(s->sint[sint] & (HV_SYNIC_SINT_MASKED | HV_SYNIC_SINT_POLLING));
}

static bool eligible(const struct hv_synic *s)
{
	return hv_synic_enabled(s) && s->sim != NULL;
}

static bool slot_empty(struct hv_message *slot)
{
	return __atomic_load_n(&slot->header.message_type, __ATOMIC_ACQUIRE) == HvMessageTypeNone;
}

/* Copies msg into an empty slot; MessageType goes last so that a guest that
 * polls the slot never sees a half-written message. */
static void fill_slot(struct hv_message *slot, const struct hv_message *msg, bool more_pending)
{
	slot->header.payload_size = msg->header.payload_size;
	slot->header.reserved = msg->header.reserved;
	slot->header.origination_id = msg->header.origination_id;
	__atomic_store_n(&slot->header.message_flags, more_pending ? HV_MESSAGE_FLAG_PENDING : 0,
			 __ATOMIC_RELAXED);
	memcpy(slot->payload, msg->payload, sizeof(slot->payload));
	__atomic_store_n(&slot->header.message_type, msg->header.message_type, __ATOMIC_RELEASE);
}

/* Delivers the oldest queued message of `sint` if its slot is free.  If the
 * slot is busy, makes sure MessagePending is set in it; and because the guest
 * may have emptied the slot between our look and that write (it clears
 * MessageType, then tests MessagePending: digest 7.4), looks once more after
 * setting the flag.  Either the guest sees the flag and writes EOM, or we see
 * the empty slot here: the message cannot get stuck. */
static u16 deliver_queued(struct hv_synic *s, u32 sint)
{
	struct hv_message *slot = &s->sim->sint_message[sint];
	struct hv_msg_node *n = s->head[sint];

	if (!n)
		return 0;
	if (!slot_empty(slot)) {
		__atomic_fetch_or(&slot->header.message_flags, HV_MESSAGE_FLAG_PENDING,
				  __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&slot->header.message_type, __ATOMIC_SEQ_CST) != HvMessageTypeNone)
			return 0;
	}
	s->head[sint] = n->next;
	if (!s->head[sint])
		s->tail[sint] = NULL;
	fill_slot(slot, &n->msg, s->head[sint] != NULL);
	n->next = NULL;
	n->queued = false;
	return sint_signals(s, sint) ? (u16)(1U << sint) : 0;
}

enum hv_post_result hv_synic_post(struct hv_synic *s, u32 sint, struct hv_msg_node *node,
				  u32 flags, u16 *raise)
{
	struct hv_message *slot;

	*raise = 0;
	if (sint >= HV_SYNIC_SINT_COUNT || node->queued ||
	    node->msg.header.message_type == HvMessageTypeNone ||
	    node->msg.header.payload_size > HV_MESSAGE_MAX_PAYLOAD_BYTE_COUNT)
		return HV_POST_INVALID;
	if (!eligible(s))
		return HV_POST_NOT_ELIGIBLE;

	slot = &s->sim->sint_message[sint];
	if (!s->head[sint] && slot_empty(slot)) {
		fill_slot(slot, &node->msg, false);
		*raise = sint_signals(s, sint) ? (u16)(1U << sint) : 0;
		return HV_POST_DELIVERED;
	}
	if (flags & HV_POST_NO_QUEUE)
		return HV_POST_DROPPED;

	node->next = NULL;
	node->queued = true;
	if (s->tail[sint])
		s->tail[sint]->next = node;
	else
		s->head[sint] = node;
	s->tail[sint] = node;

	/* Usually the slot is busy and this only sets MessagePending; if the
	 * guest emptied it meanwhile, the oldest message goes in now. */
	*raise = deliver_queued(s, sint);
	return node->queued ? HV_POST_QUEUED : HV_POST_DELIVERED;
}

bool hv_synic_slot_open(const struct hv_synic *s, u32 sint)
{
	return sint < HV_SYNIC_SINT_COUNT && eligible(s) && slot_empty(&s->sim->sint_message[sint]);
}

u16 hv_synic_eom(struct hv_synic *s)
{
	u16 raise = 0;

	if (!eligible(s))
		return 0;
	for (u32 i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		raise |= deliver_queued(s, i);
	return raise;
}

u16 hv_synic_eoi(struct hv_synic *s, u8 vector)
{
	u16 raise = 0;

	if (!eligible(s))
		return 0;
	for (u32 i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		if (hv_synic_sint_vector(s, i) != vector || hv_synic_sint_auto_eoi(s, i))
			continue;
		raise |= deliver_queued(s, i);
	}
	return raise;
}

u16 hv_synic_set_event_flag(struct hv_synic *s, u32 sint, u32 flag, u16 *raise)
{
	u8 bit, old;
	u8 *byte;

	*raise = 0;
	if (sint >= HV_SYNIC_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	if (!hv_synic_enabled(s) || !s->sief)
		return HV_STATUS_INVALID_SYNIC_STATE;
	if (s->sint[sint] & HV_SYNIC_SINT_MASKED)
		return HV_STATUS_INVALID_SYNIC_STATE;

	byte = &s->sief->sint_event_flags[sint].flags[flag / 8];
	bit = (u8)(1U << (flag % 8));
	old = __atomic_fetch_or(byte, bit, __ATOMIC_SEQ_CST);
	if (!(old & bit) && sint_signals(s, sint))
		*raise = (u16)(1U << sint);
	return HV_STATUS_SUCCESS;
}
