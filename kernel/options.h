/* The hypervisor command line, parsed once at boot (docs in README.md). */
#ifndef HV_KERNEL_OPTIONS_H
#define HV_KERNEL_OPTIONS_H

#include "kernel/types.h"

enum debug_fault { DEBUG_FAULT_NONE, DEBUG_FAULT_PF, DEBUG_FAULT_UD, DEBUG_FAULT_GP, DEBUG_FAULT_DE };
enum x2apic_mode { X2APIC_AUTO, X2APIC_ON, X2APIC_OFF };

struct hv_options {
	u64 com;      /* 1-4 for COM1-COM4, or an I/O port */
	u64 baud;
	int loglevel; /* enum log_level */
	u64 maxcpus;
	u64 hv_mem; /* bytes kept for the hypervisor's own pool */
	int x2apic;   /* enum x2apic_mode */
	int debug_fault;
	bool debug_fault_late; /* take debug_fault on the last CPU while the guest runs */
	bool exit_when_ready;
	bool panic_exit;
	bool stop_exit;
	bool debug_bad_guest_state;
	char hv_features[128]; /* hyperv/hv_cpuid.h syntax */
	char hv_ports[256];    /* hyperv/hv_port_table.h syntax */
	bool shell;	     /* the escape and the hypervisor shell (default on) */
	u64 escape;	     /* the escape character (default 0x1d, Ctrl-]) */
	u64 escape_count;    /* typed this many times in a row (default 3) */
	bool trace;	     /* record exits from boot on (the shell's `trace on`) */
};

extern struct hv_options hv_options;

/* Returns the number of problems (each already reported). */
int options_parse(const char *cmdline);
u16 options_console_port(void);
void options_log_help(void);

#endif
