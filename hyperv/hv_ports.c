/* The partition's connections and the message/event routing through them
 * (see hv_ports.h, hv_port_table.h). */
#include "hyperv/hv_ports.h"
#include "hyperv/hv_synic.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vm/vm.h"

/* A guest that keeps posting to nothing should not flood the console: the
 * first few are logged, the rest only counted (`hv ports` shows the count). */
#define UNKNOWN_LOG_LINES 8

static struct hv_port_table table;
static struct spinlock ports_lock = SPINLOCK_INIT;
static u32 unknown_count; /* log_budget counter: every miss counts */

void hv_ports_init(const char *spec)
{
	u32 bad;

	if (!spec || !*spec)
		return;
	spin_lock(&ports_lock);
	const char *why = hv_port_table_add_list(&table, spec, the_vm.vp_count, &bad);
	spin_unlock(&ports_lock);
	if (why)
		printk(LOG_ERR, "hyperv: hv_ports=%s: port %u: %s (later ones ignored)\n", spec, bad,
		       why);
	for (u32 i = 0; i < table.count; i++) {
		const struct hv_port *p = &table.ports[i];
		char flags[32] = "";
		if (p->kind == HV_PORT_EVENT)
			fmt_snprintf(flags, sizeof(flags), ", flags %u-%u", p->first_flag,
				     p->first_flag + p->flag_count - 1);
		printk(LOG_INFO, "hyperv: connection %#x -> %s port of vp%u, SINT%u%s\n",
		       p->connection_id, hv_port_kind_name(p->kind), p->vp, p->sint, flags);
	}
}

const char *hv_ports_add(const struct hv_port *p)
{
	spin_lock(&ports_lock);
	const char *why = hv_port_table_add(&table, p);
	spin_unlock(&ports_lock);
	return why;
}

bool hv_ports_remove(u32 connection_id)
{
	spin_lock(&ports_lock);
	bool found = hv_port_table_remove(&table, connection_id);
	spin_unlock(&ports_lock);
	return found;
}

u32 hv_ports_snapshot(struct hv_port *out, u32 max)
{
	spin_lock(&ports_lock);
	u32 n = table.count < max ? table.count : max;
	memcpy(out, table.ports, n * sizeof(*out));
	spin_unlock(&ports_lock);
	return n;
}

u32 hv_ports_unknown_count(void)
{
	return __atomic_load_n(&unknown_count, __ATOMIC_RELAXED);
}

/* A post or signal named a connection nobody made: counted, and logged
 * within the budget. */
static void note_unknown(u32 sender_vp, const char *call, u32 connection_id)
{
	if (log_budget(&unknown_count, UNKNOWN_LOG_LINES))
		printk(LOG_INFO, "vp%u: %s: connection %#x is not connected (hv port add)%s\n",
		       sender_vp, call, connection_id,
		       log_budget_note(&unknown_count, UNKNOWN_LOG_LINES));
}

static void count(struct hv_port *p, u16 status)
{
	if (status == HV_STATUS_SUCCESS)
		p->delivered++;
	else
		p->refused++;
}

/* The table's lock is held across the delivery, so a port cannot go away
 * half way; the SynIC's own lock nests inside it, and the interrupt it
 * raises is raised after that lock is dropped (hv_synic.c). */
u16 hv_ports_post(u32 sender_vp, u32 connection_id, u32 message_type, u32 payload_size,
		  const void *payload)
{
	struct hv_message msg;
	u16 status;

	spin_lock(&ports_lock);
	struct hv_port *p = hv_port_table_find(&table, connection_id);
	if (!p) {
		status = HV_STATUS_INVALID_CONNECTION_ID;
	} else if (p->kind != HV_PORT_MESSAGE) {
		status = HV_STATUS_INVALID_PORT_ID;
		count(p, status);
	} else {
		memset(&msg, 0, sizeof(msg));
		msg.header.message_type = message_type;
		msg.header.payload_size = (u8)payload_size;
		msg.header.origination_id = p->connection_id;
		memcpy(msg.payload, payload, payload_size);
		status = (u16)hv_synic_post_message(the_vm.vps[p->vp], p->sint, &msg,
						    (u32)sizeof(msg.header) + payload_size);
		count(p, status);
	}
	spin_unlock(&ports_lock);
	if (!p)
		note_unknown(sender_vp, "HvCallPostMessage", connection_id);
	return status;
}

u16 hv_ports_signal(u32 sender_vp, u32 connection_id, u16 flag_number)
{
	u16 status;

	spin_lock(&ports_lock);
	struct hv_port *p = hv_port_table_find(&table, connection_id);
	if (!p) {
		status = HV_STATUS_INVALID_CONNECTION_ID;
	} else {
		if (p->kind != HV_PORT_EVENT)
			status = HV_STATUS_INVALID_PORT_ID;
		else if (flag_number >= p->flag_count)
			status = HV_STATUS_INVALID_PARAMETER;
		else
			status = (u16)hv_synic_signal_event(the_vm.vps[p->vp], p->sint,
							    (u32)p->first_flag + flag_number);
		count(p, status);
	}
	spin_unlock(&ports_lock);
	if (!p)
		note_unknown(sender_vp, "HvCallSignalEvent", connection_id);
	return status;
}
