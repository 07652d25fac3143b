/* Text forms for the shell and the crash dumps: hexdump lines, register sets
 * with decoded flags, segment attributes, the guest's CPU mode.  Pure logic
 * (compiled into the host unit tests); every function writes into a caller's
 * buffer, snprintf-style, or calls a line callback. */
#ifndef HV_KERNEL_SHELL_SHELL_FMT_H
#define HV_KERNEL_SHELL_SHELL_FMT_H

#include "kernel/types.h"
#include "kernel/vm/vm.h"

#define HEXDUMP_BYTES_PER_LINE 16

/* "0000000000100000: 7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF............|"
 * for n <= 16 bytes at addr (a short last line keeps the columns).  Returns the
 * length the full line needs, like snprintf. */
size_t hexdump_line(char *buf, size_t size, u64 addr, const u8 *data, size_t n);

/* Names of the set bits, space separated ("PE ET PG"), from a table ending in
 * {0, NULL}; set bits without a name are shown as one hex remainder ("0x300"). */
struct bit_name {
	u64 bit;
	const char *name;
};
size_t format_bits(char *buf, size_t size, u64 value, const struct bit_name *names);
extern const struct bit_name rflags_bits[], cr0_bits[], cr4_bits[], efer_bits[];

/* "code XR", "data RW", "LDT", "TSS64-busy", ... then DPL, P, L, D/B, G. */
size_t format_segment_attr(char *buf, size_t size, u16 attr, bool system_table);

/* Everything `regs` prints about one VP, captured on the VP's own CPU. */
struct vp_snapshot {
	u32 index, cpu, apic_id;
	u8 vtl;
	u8 state;	/* enum vp_state */
	bool paused;
	u64 gpr[VP_GPR_COUNT];
	u64 reg[VP_REG_COUNT]; /* indices VP_RIP.. as in enum vp_reg; GPR slots unused */
	struct segment seg[VP_SEG_COUNT];
	u64 exits;
	u64 events_injected;
	struct vp_event last_event;
};

/* "real mode", "protected mode, 32-bit, no paging", "long mode, 64-bit, 4-level
 * paging", "compatibility mode, 32-bit", "virtual-8086 mode". */
size_t format_cpu_mode(char *buf, size_t size, u64 cr0, u64 cr4, u64 efer, u64 rflags,
		       u16 cs_attr);
const char *vp_state_name(u8 state, bool paused);
/* "#GP(0)", "NMI", "interrupt 0x30". */
size_t format_event(char *buf, size_t size, const struct vp_event *ev);

typedef void (*fmt_line_fn)(void *ctx, const char *line);
/* The register dump of `regs`, one call per line. */
void vp_snapshot_print(const struct vp_snapshot *s, fmt_line_fn emit, void *ctx);

/* "12.345678 s" from a TSC difference (hz 0: "? s"). */
size_t format_tsc_seconds(char *buf, size_t size, u64 ticks, u64 hz);

#endif
