/* Text forms for the shell and the crash dumps (see kernel/shell/shell_fmt.h). */
#include "kernel/shell/shell_fmt.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

size_t hexdump_line(char *buf, size_t size, u64 addr, const u8 *data, size_t n)
{
	struct fmt_buf o = fmt_buf_init(buf, size);

	if (n > HEXDUMP_BYTES_PER_LINE)
		n = HEXDUMP_BYTES_PER_LINE;
	fmt_buf_put(&o, "%016llx:", (unsigned long long)addr);
	for (size_t i = 0; i < HEXDUMP_BYTES_PER_LINE; i++) {
		if (i == 8)
			fmt_buf_put(&o, " ");
		if (i < n)
			fmt_buf_put(&o, " %02x", data[i]);
		else
			fmt_buf_put(&o, "   ");
	}
	fmt_buf_put(&o, "  |");
	for (size_t i = 0; i < n; i++)
		fmt_buf_put(&o, "%c", data[i] >= 0x20 && data[i] < 0x7F ? (char)data[i] : '.');
	fmt_buf_put(&o, "|");
	return o.len;
}

const struct bit_name rflags_bits[] = {
	{1ULL << 0, "CF"}, {1ULL << 1, NULL}, {1ULL << 2, "PF"}, {1ULL << 4, "AF"},
	{1ULL << 6, "ZF"}, {1ULL << 7, "SF"}, {1ULL << 8, "TF"}, {1ULL << 9, "IF"},
	{1ULL << 10, "DF"}, {1ULL << 11, "OF"}, {1ULL << 14, "NT"}, {1ULL << 16, "RF"},
	{1ULL << 17, "VM"}, {1ULL << 18, "AC"}, {1ULL << 19, "VIF"}, {1ULL << 20, "VIP"},
	{1ULL << 21, "ID"}, {0, NULL},
};

const struct bit_name cr0_bits[] = {
	{1ULL << 0, "PE"}, {1ULL << 1, "MP"}, {1ULL << 2, "EM"}, {1ULL << 3, "TS"},
	{1ULL << 4, "ET"}, {1ULL << 5, "NE"}, {1ULL << 16, "WP"}, {1ULL << 18, "AM"},
	{1ULL << 29, "NW"}, {1ULL << 30, "CD"}, {1ULL << 31, "PG"}, {0, NULL},
};

const struct bit_name cr4_bits[] = {
	{1ULL << 0, "VME"}, {1ULL << 1, "PVI"}, {1ULL << 2, "TSD"}, {1ULL << 3, "DE"},
	{1ULL << 4, "PSE"}, {1ULL << 5, "PAE"}, {1ULL << 6, "MCE"}, {1ULL << 7, "PGE"},
	{1ULL << 8, "PCE"}, {1ULL << 9, "OSFXSR"}, {1ULL << 10, "OSXMMEXCPT"},
	{1ULL << 11, "UMIP"}, {1ULL << 12, "LA57"}, {1ULL << 13, "VMXE"}, {1ULL << 14, "SMXE"},
	{1ULL << 16, "FSGSBASE"}, {1ULL << 17, "PCIDE"}, {1ULL << 18, "OSXSAVE"},
	{1ULL << 19, "KL"}, {1ULL << 20, "SMEP"}, {1ULL << 21, "SMAP"}, {1ULL << 22, "PKE"},
	{1ULL << 23, "CET"}, {1ULL << 24, "PKS"}, {0, NULL},
};

const struct bit_name efer_bits[] = {
	{1ULL << 0, "SCE"}, {1ULL << 8, "LME"}, {1ULL << 10, "LMA"}, {1ULL << 11, "NXE"},
	{1ULL << 12, "SVME"}, {1ULL << 13, "LMSLE"}, {1ULL << 14, "FFXSR"}, {1ULL << 15, "TCE"},
	{0, NULL},
};

size_t format_bits(char *buf, size_t size, u64 value, const struct bit_name *names)
{
	struct fmt_buf o = fmt_buf_init(buf, size);
	u64 rest = value;

	for (const struct bit_name *b = names; b->bit; b++) {
		if (!(value & b->bit) || !b->name)
			continue;
		fmt_buf_put(&o, "%s%s", o.len ? " " : "", b->name);
		rest &= ~b->bit;
	}
	/* Bits that are always one (RFLAGS bit 1) have a NULL name: not news. */
	for (const struct bit_name *b = names; b->bit; b++) {
		if (!b->name)
			rest &= ~b->bit;
	}
	if (rest)
		fmt_buf_put(&o, "%s%#llx", o.len ? " " : "", (unsigned long long)rest);
	return o.len;
}

size_t format_segment_attr(char *buf, size_t size, u16 attr, bool system_table)
{
	struct fmt_buf o = fmt_buf_init(buf, size);
	u32 type = SEG_ATTR_TYPE(attr);

	if (system_table)
		return 0;
	if (!(attr & SEG_ATTR_P)) {
		fmt_buf_put(&o, "not present");
		return o.len;
	}
	if (attr & SEG_ATTR_S) {
		if (type & 8)
			fmt_buf_put(&o, "code X%s%s", type & 2 ? "R" : "", type & 4 ? " conforming" : "");
		else
			fmt_buf_put(&o, "data R%s%s", type & 2 ? "W" : "", type & 4 ? " expand-down" : "");
		if (type & 1)
			fmt_buf_put(&o, " accessed");
	} else {
		switch (type) {
		case 2:
			fmt_buf_put(&o, "LDT");
			break;
		case 1:
		case 9:
			fmt_buf_put(&o, "TSS available");
			break;
		case 3:
		case 11:
			fmt_buf_put(&o, "TSS busy");
			break;
		default:
			fmt_buf_put(&o, "system type %u", type);
			break;
		}
	}
	fmt_buf_put(&o, ", DPL%u", SEG_ATTR_DPL(attr));
	if (attr & SEG_ATTR_L)
		fmt_buf_put(&o, ", L");
	if (attr & SEG_ATTR_DB)
		fmt_buf_put(&o, ", D/B");
	if (attr & SEG_ATTR_G)
		fmt_buf_put(&o, ", G");
	return o.len;
}

#define CR0_PE_BIT (1ULL << 0)
#define CR0_PG_BIT (1ULL << 31)
#define CR4_PAE_BIT (1ULL << 5)
#define CR4_LA57_BIT (1ULL << 12)
#define EFER_LMA_BIT (1ULL << 10)
#define RFLAGS_VM_BIT (1ULL << 17)

size_t format_cpu_mode(char *buf, size_t size, u64 cr0, u64 cr4, u64 efer, u64 rflags,
		       u16 cs_attr)
{
	struct fmt_buf o = fmt_buf_init(buf, size);

	if (!(cr0 & CR0_PE_BIT)) {
		fmt_buf_put(&o, "real mode");
		return o.len;
	}
	if (efer & EFER_LMA_BIT) {
		if (cs_attr & SEG_ATTR_L)
			fmt_buf_put(&o, "long mode, 64-bit");
		else
			fmt_buf_put(&o, "compatibility mode, %s", cs_attr & SEG_ATTR_DB ? "32-bit" : "16-bit");
	} else if (rflags & RFLAGS_VM_BIT) {
		fmt_buf_put(&o, "virtual-8086 mode");
	} else {
		fmt_buf_put(&o, "protected mode, %s", cs_attr & SEG_ATTR_DB ? "32-bit" : "16-bit");
	}
	if (!(cr0 & CR0_PG_BIT))
		fmt_buf_put(&o, ", no paging");
	else if (efer & EFER_LMA_BIT)
		fmt_buf_put(&o, ", %s paging", cr4 & CR4_LA57_BIT ? "5-level" : "4-level");
	else
		fmt_buf_put(&o, ", %s paging", cr4 & CR4_PAE_BIT ? "PAE" : "32-bit");
	return o.len;
}

const char *vp_state_name(u8 state, bool paused)
{
	if (paused)
		return "paused";
	switch (state) {
	case VP_RUNNING:
		return "running";
	case VP_HALTED:
		return "halted";
	case VP_WAIT_FOR_SIPI:
		return "wait-for-SIPI";
	case VP_STOPPED:
		return "stopped";
	default:
		return "?";
	}
}

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#9", "#TS", "#NP",
	"#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

size_t format_event(char *buf, size_t size, const struct vp_event *ev)
{
	struct fmt_buf o = fmt_buf_init(buf, size);

	switch (ev->type) {
	case VP_EVENT_NMI:
		fmt_buf_put(&o, "NMI");
		break;
	case VP_EVENT_EXCEPTION:
		fmt_buf_put(&o, "%s", exception_names[ev->vector & 31]);
		if (ev->has_error_code)
			fmt_buf_put(&o, "(%#x)", ev->error_code);
		break;
	case VP_EVENT_EXTINT:
		fmt_buf_put(&o, "interrupt %#x", ev->vector);
		break;
	default:
		fmt_buf_put(&o, "software interrupt %#x", ev->vector);
		break;
	}
	return o.len;
}

size_t format_tsc_seconds(char *buf, size_t size, u64 ticks, u64 hz)
{
	struct fmt_buf o = fmt_buf_init(buf, size);

	if (!hz) {
		fmt_buf_put(&o, "? s");
		return o.len;
	}
	fmt_buf_put(&o, "%llu.%06llu s", (unsigned long long)(ticks / hz),
	    (unsigned long long)((ticks % hz) * 1000000ULL / hz));
	return o.len;
}

static void line(fmt_line_fn emit, void *ctx, const char *fmt, ...) __printf(3, 4);
static void line(fmt_line_fn emit, void *ctx, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(ctx, buf);
}

#define X(v) ((unsigned long long)(v))
/* " [names]", or nothing when no bit is set. */
#define BRACKETS(names) (names)[0] ? " [" : "", (names), (names)[0] ? "]" : ""

void vp_snapshot_print(const struct vp_snapshot *s, fmt_line_fn emit, void *ctx)
{
	static const char *const gpr_names[VP_GPR_COUNT] = {
		"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
		"R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"};
	static const char *const seg_names[VP_SEG_COUNT] = {
		"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR", "GDTR", "IDTR"};
	char mode[80], bits[120], attr[80];

	format_cpu_mode(mode, sizeof(mode), s->reg[VP_CR0], s->reg[VP_CR4], s->reg[VP_EFER],
			s->reg[VP_RFLAGS], s->seg[VP_CS].attr);
	line(emit, ctx, "vp%u (cpu %u, apic %u) VTL%u %s: %s, CPL %u", s->index, s->cpu,
	     s->apic_id, s->vtl, vp_state_name(s->state, s->paused), mode,
	     SEG_ATTR_DPL(s->seg[VP_SS].attr));
	for (int i = 0; i < VP_GPR_COUNT; i += 4)
		line(emit, ctx, "  %s=%016llx %s=%016llx %s=%016llx %s=%016llx", gpr_names[i],
		     X(s->gpr[i]), gpr_names[i + 1], X(s->gpr[i + 1]), gpr_names[i + 2],
		     X(s->gpr[i + 2]), gpr_names[i + 3], X(s->gpr[i + 3]));
	format_bits(bits, sizeof(bits), s->reg[VP_RFLAGS], rflags_bits);
	line(emit, ctx, "  RIP=%016llx RFLAGS=%016llx%s%s%s", X(s->reg[VP_RIP]),
	     X(s->reg[VP_RFLAGS]), BRACKETS(bits));
	format_bits(bits, sizeof(bits), s->reg[VP_CR0], cr0_bits);
	line(emit, ctx, "  CR0=%016llx%s%s%s", X(s->reg[VP_CR0]), BRACKETS(bits));
	line(emit, ctx, "  CR2=%016llx CR3=%016llx CR8=%llx", X(s->reg[VP_CR2]),
	     X(s->reg[VP_CR3]), X(s->reg[VP_CR8]));
	format_bits(bits, sizeof(bits), s->reg[VP_CR4], cr4_bits);
	line(emit, ctx, "  CR4=%016llx%s%s%s", X(s->reg[VP_CR4]), BRACKETS(bits));
	format_bits(bits, sizeof(bits), s->reg[VP_EFER], efer_bits);
	line(emit, ctx, "  EFER=%016llx%s%s%s", X(s->reg[VP_EFER]), BRACKETS(bits));
	line(emit, ctx, "  DR6=%016llx DR7=%016llx PAT=%016llx", X(s->reg[VP_DR6]),
	     X(s->reg[VP_DR7]), X(s->reg[VP_PAT]));
	for (int i = 0; i < VP_SEG_COUNT; i++) {
		const struct segment *g = &s->seg[i];
		bool table = i == VP_GDTR || i == VP_IDTR;
		if (table) {
			line(emit, ctx, "  %-4s           base=%016llx limit=%08x", seg_names[i],
			     X(g->base), g->limit);
			continue;
		}
		format_segment_attr(attr, sizeof(attr), g->attr, false);
		line(emit, ctx, "  %-4s sel=%04x base=%016llx limit=%08x attr=%03x %s", seg_names[i],
		     g->selector, X(g->base), g->limit, g->attr, attr);
	}
	line(emit, ctx, "  SYSENTER_CS=%llx SYSENTER_ESP=%016llx SYSENTER_EIP=%016llx",
	     X(s->reg[VP_SYSENTER_CS]), X(s->reg[VP_SYSENTER_ESP]), X(s->reg[VP_SYSENTER_EIP]));
	line(emit, ctx, "  STAR=%016llx LSTAR=%016llx CSTAR=%016llx", X(s->reg[VP_STAR]),
	     X(s->reg[VP_LSTAR]), X(s->reg[VP_CSTAR]));
	line(emit, ctx, "  SFMASK=%016llx KERNEL_GS_BASE=%016llx", X(s->reg[VP_SFMASK]),
	     X(s->reg[VP_KERNEL_GS_BASE]));
	if (s->events_injected) {
		format_event(bits, sizeof(bits), &s->last_event);
		line(emit, ctx, "  exits=%llu; events injected=%llu, the last one %s", X(s->exits),
		     X(s->events_injected), bits);
	} else {
		line(emit, ctx, "  exits=%llu; no event injected so far", X(s->exits));
	}
}
