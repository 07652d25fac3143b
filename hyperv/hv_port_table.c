/* Connections to SynIC ports: the table and its text form (see
 * hv_port_table.h). */
#include "hyperv/hv_port_table.h"
#include "kernel/cmdline.h"
#include "kernel/lib/string.h"

/* The longest command-line list accepted, and the most words in one port. */
#define PORT_LIST_MAX 256
#define PORT_WORDS_MAX 8

static bool number(const char *word, u64 max, u64 *out)
{
	return parse_u64(word, strlen(word), out) && *out <= max;
}

const char *hv_port_kind_name(enum hv_port_kind kind)
{
	return kind == HV_PORT_EVENT ? "event" : "msg";
}

const char *hv_port_parse(int argc, char *const *argv, u32 vp_count, struct hv_port *out)
{
	u64 conn, vp, sint, first = 0, count = 0;

	memset(out, 0, sizeof(*out));
	if (argc < 2)
		return "expected <connection-id> msg|event <vp> <sint> [<first-flag> <flag-count>]";
	if (!number(argv[0], HV_CONNECTION_ID_MAX, &conn) || conn == 0)
		return "the connection id is a number from 1 to 0xffffff";
	if (strcmp(argv[1], "msg") == 0) {
		if (argc != 4)
			return "a message port is <connection-id> msg <vp> <sint>";
		out->kind = HV_PORT_MESSAGE;
	} else if (strcmp(argv[1], "event") == 0) {
		if (argc != 6)
			return "an event port is <connection-id> event <vp> <sint> <first-flag> <flag-count>";
		out->kind = HV_PORT_EVENT;
	} else {
		return "the port kind is msg or event";
	}
	if (!number(argv[2], 0xFFFFFFFF, &vp) || vp >= vp_count)
		return "no VP has that index";
	if (!number(argv[3], HV_SYNIC_SINT_COUNT - 1, &sint))
		return "the SINT is 0-15";
	if (out->kind == HV_PORT_EVENT) {
		if (!number(argv[4], HV_EVENT_FLAGS_COUNT - 1, &first))
			return "the first flag is 0-2047";
		if (!number(argv[5], HV_EVENT_FLAGS_COUNT, &count) || count == 0 ||
		    first + count > HV_EVENT_FLAGS_COUNT)
			return "the flags must be 1 or more, within the SINT's 2048";
	}
	out->connection_id = (u32)conn;
	out->vp = (u32)vp;
	out->sint = (u8)sint;
	out->first_flag = (u16)first;
	out->flag_count = (u16)count;
	return NULL;
}

struct hv_port *hv_port_table_find(struct hv_port_table *t, u32 connection_id)
{
	for (u32 i = 0; i < t->count; i++) {
		if (t->ports[i].connection_id == connection_id)
			return &t->ports[i];
	}
	return NULL;
}

const char *hv_port_table_add(struct hv_port_table *t, const struct hv_port *p)
{
	if (hv_port_table_find(t, p->connection_id))
		return "that connection id is already connected";
	if (t->count >= HV_PORTS_MAX)
		return "the port table is full";
	t->ports[t->count] = *p;
	t->ports[t->count].delivered = 0;
	t->ports[t->count].refused = 0;
	t->count++;
	return NULL;
}

bool hv_port_table_remove(struct hv_port_table *t, u32 connection_id)
{
	struct hv_port *p = hv_port_table_find(t, connection_id);

	if (!p)
		return false;
	*p = t->ports[--t->count];
	return true;
}

/* Splits s in place at each sep into at most max words; returns how many,
 * or -1 when there are more. */
static int split(char *s, char sep, char **words, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return -1;
		words[n++] = s;
		char *end = strchr(s, sep);
		if (!end)
			return n;
		*end = '\0';
		s = end + 1;
	}
}

const char *hv_port_table_add_list(struct hv_port_table *t, const char *spec, u32 vp_count,
				   u32 *bad_index)
{
	char buf[PORT_LIST_MAX];
	char *ports[HV_PORTS_MAX];
	char *words[PORT_WORDS_MAX];

	*bad_index = 0;
	if (strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
		return "the list is too long";
	int n = split(buf, ',', ports, HV_PORTS_MAX);
	if (n < 0)
		return "more ports than the table holds";
	for (int i = 0; i < n; i++) {
		struct hv_port p;
		const char *why;
		*bad_index = (u32)i;
		int argc = split(ports[i], ':', words, PORT_WORDS_MAX);
		if (argc < 0)
			return "too many words in a port";
		why = hv_port_parse(argc, words, vp_count, &p);
		if (!why)
			why = hv_port_table_add(t, &p);
		if (why)
			return why;
	}
	return NULL;
}
