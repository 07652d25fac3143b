/* `hv`: the Hv#1 interface as the guest sees it, and the SynIC connections
 * the console adds and removes (hyperv/hv_ports.h). */
#include "hyperv/hv_cpuid.h"
#include "hyperv/hv_partition.h"
#include "hyperv/hv_ports.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/shell/cmds.h"

#define WRAP_COLUMNS 90

static void print_summary(struct shell *sh)
{
	struct hv_partition_msrs m;
	char list[400];

	hv_features_format(&hv_partition_features, list, sizeof(list));
	hv_partition_msrs(&m);
	/* Wrapped after a comma: the list is longer than an output line. */
	const char *rest = list;
	const char *label = "offered:";
	while (*rest) {
		size_t take = strlen(rest);
		if (take > WRAP_COLUMNS) {
			take = WRAP_COLUMNS;
			while (take > 1 && rest[take - 1] != ',')
				take--;
		}
		shell_print(sh, "%-8s %.*s", label, (int)take, rest);
		rest += take;
		label = "";
	}
	shell_print(sh, "GUEST_OS_ID %016llx  HYPERCALL %016llx (%s)  REFERENCE_TSC %016llx",
		    (unsigned long long)m.guest_os_id, (unsigned long long)m.hypercall,
		    hv_hypercall_page_enabled() ? "page enabled" : "no page",
		    (unsigned long long)m.reference_tsc);
}

static void print_ports(struct shell *sh)
{
	static struct hv_port ports[HV_PORTS_MAX];
	u32 n = hv_ports_snapshot(ports, HV_PORTS_MAX);

	if (n == 0)
		shell_print(sh, "no connections (hv port add <id> msg|event ...)");
	for (u32 i = 0; i < n; i++) {
		const struct hv_port *p = &ports[i];
		char flags[32] = "";
		if (p->kind == HV_PORT_EVENT)
			fmt_snprintf(flags, sizeof(flags), " flags %u-%u", p->first_flag,
				     p->first_flag + p->flag_count - 1);
		shell_print(sh, "connection 0x%06x  %-5s vp%u SINT%-2u%-16s delivered %llu refused %llu",
			    p->connection_id, hv_port_kind_name(p->kind), p->vp, p->sint, flags,
			    (unsigned long long)p->delivered, (unsigned long long)p->refused);
	}
	shell_print(sh, "posts/signals to unconnected ids: %u", hv_ports_unknown_count());
}

static int port_add(struct shell *sh, int argc, char **argv)
{
	struct hv_port p;
	const char *why = hv_port_parse(argc, argv, the_vm.vp_count, &p);

	if (why)
		return shell_usage(sh, "%s", why);
	why = hv_ports_add(&p);
	if (why)
		return shell_fail(sh, "%s", why);
	shell_print(sh, "connection %#x -> %s port of vp%u SINT%u", p.connection_id,
		    hv_port_kind_name(p.kind), p.vp, p.sint);
	return SHELL_OK;
}

int cmd_hv(struct shell *sh, int argc, char **argv)
{
	u64 id;

	if (argc == 1) {
		print_summary(sh);
		print_ports(sh);
		return SHELL_OK;
	}
	if (shell_word_is(argv[1], "ports") && argc == 2) {
		print_ports(sh);
		return SHELL_OK;
	}
	if (!shell_word_is(argv[1], "port") || argc < 3)
		return shell_usage(sh, "hv | hv ports | hv port add ... | hv port del <id>");
	if (shell_word_is(argv[2], "add"))
		return port_add(sh, argc - 3, argv + 3);
	if (shell_word_is(argv[2], "del") && argc == 4) {
		if (!shell_arg_u64(sh, "connection id", argv[3], 1, HV_CONNECTION_ID_MAX, &id))
			return SHELL_EUSAGE;
		if (!hv_ports_remove((u32)id))
			return shell_fail(sh, "connection %#llx is not connected", (unsigned long long)id);
		shell_print(sh, "connection %#llx removed", (unsigned long long)id);
		return SHELL_OK;
	}
	return shell_usage(sh, "hv port add <id> msg|event ... | hv port del <id>");
}
