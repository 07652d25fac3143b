/* The partition's connection table (hv_port_table.h) with its lock, and the
 * routing of HvCallPostMessage / HvCallSignalEvent through it into a VP's
 * SynIC (digest 4.14, 4.15).  Callable from any CPU. */
#ifndef HV_HYPERV_HV_PORTS_H
#define HV_HYPERV_HV_PORTS_H

#include "hyperv/hv_port_table.h"

/* Adds the ports of the hv_ports= command-line list (NULL or "": none); a
 * bad entry is logged with why, and the ones before it stay. */
void hv_ports_init(const char *spec);

/* For the console: NULL or why not. */
const char *hv_ports_add(const struct hv_port *p);
bool hv_ports_remove(u32 connection_id);
/* Copies up to max ports (with their counters) to out; returns how many. */
u32 hv_ports_snapshot(struct hv_port *out, u32 max);
/* Posts and signals that named a connection nobody connected. */
u32 hv_ports_unknown_count(void);

/* The calls' effects, after their input was decoded and checked
 * (hv_post_message_decode, hv_signal_event_decode).  Return an HV_STATUS:
 * INVALID_CONNECTION_ID (nothing connected), INVALID_PORT_ID (the port is of
 * the other kind), INVALID_PARAMETER (signal: flag beyond the port's range),
 * else what the receiving SynIC says (hv_synic_post_message,
 * hv_synic_signal_event). */
u16 hv_ports_post(u32 sender_vp, u32 connection_id, u32 message_type, u32 payload_size,
		  const void *payload);
u16 hv_ports_signal(u32 sender_vp, u32 connection_id, u16 flag_number);

#endif
