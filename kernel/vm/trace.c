/* Exit trace ring and record formatting (see kernel/vm/trace.h). */
#include "kernel/vm/trace.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/vm/vm.h"

void trace_ring_init(struct trace_ring *r, struct trace_rec *recs, u32 size_pow2)
{
	memset(recs, 0, sizeof(*recs) * size_pow2);
	r->recs = recs;
	r->mask = size_pow2 - 1;
	r->head = 0;
}

struct trace_rec *trace_ring_begin(struct trace_ring *r)
{
	u64 index = r->head;
	struct trace_rec *rec = &r->recs[index & r->mask];

	__atomic_store_n(&rec->seq, 0, __ATOMIC_RELAXED);
	/* The cleared number is visible before any field changes. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memset((u8 *)rec + sizeof(rec->seq), 0, sizeof(*rec) - sizeof(rec->seq));
	__atomic_store_n(&r->head, index + 1, __ATOMIC_RELEASE);
	return rec;
}

void trace_ring_publish(struct trace_ring *r, struct trace_rec *rec)
{
	/* Only the newest record is ever written, and it has index head - 1. */
	__atomic_store_n(&rec->seq, r->head, __ATOMIC_RELEASE);
}

void trace_ring_reopen(struct trace_rec *rec)
{
	__atomic_store_n(&rec->seq, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

u64 trace_ring_head(const struct trace_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

u64 trace_ring_oldest(const struct trace_ring *r)
{
	u64 head = trace_ring_head(r);
	u64 size = (u64)r->mask + 1;
	return head > size ? head - size : 0;
}

bool trace_ring_read(const struct trace_ring *r, u64 index, struct trace_rec *out)
{
	const struct trace_rec *rec = &r->recs[index & r->mask];

	if (__atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE) != index + 1)
		return false;
	memcpy(out, rec, sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&rec->seq, __ATOMIC_RELAXED) == index + 1 && out->seq == index + 1;
}

/* ---- formatting ------------------------------------------------------------ */

static const char *const reason_names[] = {
#define TRACE_REASON_NAME(name, text) [VM_EXIT_##name] = text,
	VM_EXIT_REASONS(TRACE_REASON_NAME)
#undef TRACE_REASON_NAME
};

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#9", "#TS", "#NP",
	"#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23",
	"#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

static void put_time(struct fmt_buf *o, u64 tsc, u64 base, u64 hz)
{
	if (!hz || tsc < base) {
		fmt_buf_put(o, "tsc=%llu", (unsigned long long)tsc);
		return;
	}
	u64 ticks = tsc - base;
	u64 secs = ticks / hz;
	u64 usecs = (ticks % hz) * 1000000ULL / hz;
	fmt_buf_put(o, "t=%llu.%06llus", (unsigned long long)secs, (unsigned long long)usecs);
}

static void put_char_hint(struct fmt_buf *o, u64 v, u32 size)
{
	if (size == 1 && v >= 0x20 && v < 0x7F)
		fmt_buf_put(o, " '%c'", (char)v);
	else if (size == 1 && v == '\n')
		fmt_buf_put(o, " '\\n'");
	else if (size == 1 && v == '\r')
		fmt_buf_put(o, " '\\r'");
}

static void put_event(struct fmt_buf *o, const struct trace_rec *t)
{
	switch (t->event_type) {
	case VP_EVENT_NMI:
		fmt_buf_put(o, " inject NMI");
		break;
	case VP_EVENT_EXCEPTION:
		fmt_buf_put(o, " inject %s", exception_names[t->event_vector & 31]);
		if (t->event_has_error)
			fmt_buf_put(o, "(%#x)", t->event_error);
		break;
	case VP_EVENT_EXTINT:
		fmt_buf_put(o, " inject interrupt %#x", t->event_vector);
		break;
	default:
		fmt_buf_put(o, " inject software interrupt %#x", t->event_vector);
		break;
	}
}

static void put_details(struct fmt_buf *o, const struct trace_rec *t)
{
	bool done = t->flags & TRACE_F_DONE;
	bool injected = t->flags & TRACE_F_EVENT;

	switch (t->reason) {
	case VM_EXIT_CPUID:
		fmt_buf_put(o, " leaf 0x%x.0x%x", t->info, t->info2);
		if (done)
			fmt_buf_put(o, " -> %08x %08x %08x %08x", (u32)t->value, (u32)(t->value >> 32),
			    (u32)t->value2, (u32)(t->value2 >> 32));
		break;
	case VM_EXIT_MSR_READ:
		fmt_buf_put(o, " msr %#x", t->info);
		if (done && !injected)
			fmt_buf_put(o, " -> %#llx", (unsigned long long)t->value);
		break;
	case VM_EXIT_MSR_WRITE:
		fmt_buf_put(o, " msr %#x <- %#llx", t->info, (unsigned long long)t->value);
		break;
	case VM_EXIT_IO: {
		bool in = t->flags & TRACE_F_IO_IN;
		fmt_buf_put(o, " %s%s port %#x size %u", in ? "in" : "out",
		    t->flags & TRACE_F_IO_STRING ? (t->flags & TRACE_F_IO_REP ? " rep-string" : " string")
						 : "",
		    t->info, t->info2);
		if (t->flags & TRACE_F_IO_STRING)
			break;
		if (!in || done) {
			fmt_buf_put(o, " %s %#llx", in ? "->" : "<-", (unsigned long long)t->value);
			put_char_hint(o, t->value, t->info2);
		}
		break;
	}
	case VM_EXIT_SLAT_VIOLATION:
	case VM_EXIT_SLAT_MISCONFIG:
		fmt_buf_put(o, " gpa %#llx %s%s%s", (unsigned long long)t->addr,
		    t->info2 & SLAT_ACCESS_EXEC	   ? "exec"
		    : t->info2 & SLAT_ACCESS_WRITE ? "write"
						   : "read",
		    t->info2 & SLAT_ACCESS_USER ? " user" : "",
		    t->flags & TRACE_F_SLAT_PRESENT ? " (mapped, not permitted)" : " (not mapped)");
		break;
	case VM_EXIT_HYPERCALL:
		fmt_buf_put(o, " code %#x", t->info);
		if (done && !injected)
			fmt_buf_put(o, " -> %#llx", (unsigned long long)t->value);
		break;
	case VM_EXIT_EXCEPTION:
		fmt_buf_put(o, " %s", exception_names[t->info & 31]);
		if (t->info2)
			fmt_buf_put(o, " error %#x", t->info2);
		break;
	default:
		break;
	}
	if (injected)
		put_event(o, t);
	if (!done)
		fmt_buf_put(o, " (handler not finished)");
	else if (t->action == 1)
		fmt_buf_put(o, " -> vp halted");
	else if (t->action == 2)
		fmt_buf_put(o, " -> partition stopped");
}

void trace_format(const struct trace_rec *t, u64 index, u64 tsc_base, u64 tsc_hz, char *buf,
		  size_t size)
{
	struct fmt_buf o = fmt_buf_init(buf, size);
	const char *name = t->reason < VM_EXIT_REASON_COUNT ? reason_names[t->reason] : "?";

	if (size)
		buf[0] = '\0';
	fmt_buf_put(&o, "#%llu ", (unsigned long long)index);
	put_time(&o, t->tsc, tsc_base, tsc_hz);
	fmt_buf_put(&o, " VTL%u rip=%llx %s", t->vtl, (unsigned long long)t->rip, name);
	put_details(&o, t);
	fmt_buf_put(&o, " [hw %#x q %#llx", t->hw_reason, (unsigned long long)t->qual);
	if (t->qual2)
		fmt_buf_put(&o, " q2 %#llx", (unsigned long long)t->qual2);
	fmt_buf_put(&o, "]");
}
