/* The partition's connections: what the ConnectionId of HvCallPostMessage and
 * HvCallSignalEvent reaches (TLFS "Inter-Partition Communication"; digest
 * 4.14, 4.15, 7.3, 7.5).
 *
 * In Hyper-V the root partition creates ports in a partition's SynIC
 * (HvCallCreatePort) and connects senders to them (HvCallConnectPort).  Here
 * there is one partition and no root, so the hypervisor's operator plays the
 * root: the command line (`hv_ports=`) and the console (`hv port add`) connect
 * a ConnectionId to a port in one VP's VTL0 SynIC.  A message port names a
 * SINT; an event port names a SINT and a range of its event flags (the
 * FlagNumber of a signal is relative to the first).  A guest's post or signal
 * thus comes back into its own partition, which is what a SynIC driver needs
 * to be tested against (as QEMU's hyperv-testdev does for KVM).  A port's id
 * is its connection's id: ports and connections are one to one here.
 *
 * Pure logic (table and parsing), built into the host unit tests; the
 * partition's table and its lock are in hv_ports.c. */
#ifndef HV_HYPERV_HV_PORT_TABLE_H
#define HV_HYPERV_HV_PORT_TABLE_H

#include "hyperv/hv_defs.h"
#include "kernel/types.h"

#define HV_PORTS_MAX 16
/* HV_CONNECTION_ID: a 24-bit id; the bits above it are reserved (digest
 * 4.14), so no connection can have them set. */
#define HV_CONNECTION_ID_MAX 0xFFFFFFu

enum hv_port_kind {
	HV_PORT_MESSAGE = 1,
	HV_PORT_EVENT = 2,
};

struct hv_port {
	u32 connection_id;
	enum hv_port_kind kind;
	u32 vp;		 /* VP index of the receiving SynIC */
	u8 sint;
	u16 first_flag;	 /* event ports: flags first_flag .. +flag_count-1 */
	u16 flag_count;
	u64 delivered;	 /* posts/signals that returned SUCCESS */
	u64 refused;	 /* ... that returned anything else */
};

struct hv_port_table {
	struct hv_port ports[HV_PORTS_MAX];
	u32 count;
};

/* Parses one port from words, as the console gives them:
 *   <connection-id> msg   <vp> <sint>
 *   <connection-id> event <vp> <sint> <first-flag> <flag-count>
 * Numbers as everywhere on the command line and console (parse_u64: decimal
 * or 0x hex, with an optional K/M/G suffix).  Checks each value's range (vp below
 * vp_count, sint below 16, a flag range inside the 2048 flags of a SINT,
 * connection id 1..0xFFFFFF).  Returns NULL, or why the words are refused. */
const char *hv_port_parse(int argc, char *const *argv, u32 vp_count, struct hv_port *out);

/* Adds a parsed port.  NULL, or why not (table full, id taken). */
const char *hv_port_table_add(struct hv_port_table *t, const struct hv_port *p);
/* Removes a connection; false when there was none. */
bool hv_port_table_remove(struct hv_port_table *t, u32 connection_id);
/* The port of a connection, or NULL. */
struct hv_port *hv_port_table_find(struct hv_port_table *t, u32 connection_id);

/* Adds every port of a command-line list: ports separated by ',', words by
 * ':', e.g. "1:msg:1:2,5:event:0:3:0:16".  Stops at the first bad one and
 * returns why (with *bad_index its position from 0); NULL when all were
 * added. */
const char *hv_port_table_add_list(struct hv_port_table *t, const char *spec, u32 vp_count,
				   u32 *bad_index);

/* "msg" or "event". */
const char *hv_port_kind_name(enum hv_port_kind kind);

#endif
