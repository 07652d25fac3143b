/* The exit trace: a per-VP ring of the most recent exits with what the
 * hypervisor did about them (MSR/port and value, CPUID leaf and answer, SLAT
 * GPA, hypercall code and result, injected event, TSC time), so `trace dump`
 * and the crash dumps can explain a single misbehaving exit in context.
 *
 * Recording is cheap: the VP loop fills one small fixed-size record (no
 * formatting) before the handler and completes it after; with tracing off the
 * cost is one well-predicted branch per exit.  Formatting happens only when a
 * record is printed (trace_format()).
 *
 * Concurrency: one writer per ring, the VP's own CPU.  Readers on any CPU
 * (the shell, a crash dump) never lock: each slot carries a sequence number
 * that the writer zeroes before changing the slot and sets to index + 1 after;
 * a reader copies the slot and keeps the copy only if the number was index + 1
 * both before and after (a per-slot seqlock).  A slot overwritten while it was
 * read is reported as lost, never shown torn.
 *
 * Pure logic apart from the VP-loop helpers in vp_run.c: the ring, the record
 * and its formatting are compiled into the host unit tests. */
#ifndef HV_KERNEL_VM_TRACE_H
#define HV_KERNEL_VM_TRACE_H

#include "kernel/types.h"

/* Per-VP records; a power of two. */
#define TRACE_RING_SIZE 256

/* trace_rec.flags */
#define TRACE_F_DONE 0x01	/* the handler finished: result fields are valid */
#define TRACE_F_EVENT 0x02	/* the handler queued an event for the guest */
#define TRACE_F_IO_IN 0x04
#define TRACE_F_IO_STRING 0x08
#define TRACE_F_IO_REP 0x10
#define TRACE_F_SLAT_PRESENT 0x20

struct trace_rec {
	u64 seq;	/* index + 1 when valid, 0 while being written */
	u64 tsc;	/* at the exit */
	u64 rip;	/* of the exiting instruction */
	u64 qual, qual2; /* the backend's raw qualification fields */
	u64 addr;	/* SLAT: faulting GPA */
	u64 value;	/* MSR value, I/O data, CPUID EAX:EBX, hypercall result (RAX) */
	u64 value2;	/* CPUID ECX:EDX */
	u32 hw_reason;	/* VMCB exit code / VMX basic exit reason */
	u32 info;	/* MSR index, port, CPUID leaf, exception vector, hypercall code */
	u32 info2;	/* I/O size, CPUID subleaf, exception error code, SLAT access bits */
	u8 reason;	/* enum vm_exit_reason */
	u8 vtl;
	u8 action;	/* enum exit_action of the handler */
	u8 flags;	/* TRACE_F_* */
	u8 event_type;	/* enum vp_event_type, with TRACE_F_EVENT */
	u8 event_vector;
	u8 event_has_error;
	u8 pad;
	u32 event_error;
};

struct trace_ring {
	struct trace_rec *recs;
	u32 mask;	/* size - 1 */
	u64 head;	/* records ever started; the next index */
};

void trace_ring_init(struct trace_ring *r, struct trace_rec *recs, u32 size_pow2);

/* Writer side (the owning CPU only).  begin returns the slot for the next
 * index with seq cleared; publish makes it visible; reopen/publish again
 * updates a slot that is still the newest (to add results after the handler). */
struct trace_rec *trace_ring_begin(struct trace_ring *r);
void trace_ring_publish(struct trace_ring *r, struct trace_rec *rec);
void trace_ring_reopen(struct trace_rec *rec);

/* Reader side (any CPU).  Copies record `index` into *out; false when it was
 * never written, has been overwritten, or is being written right now. */
bool trace_ring_read(const struct trace_ring *r, u64 index, struct trace_rec *out);
/* Index one past the newest record. */
u64 trace_ring_head(const struct trace_ring *r);
/* The oldest index still in the ring. */
u64 trace_ring_oldest(const struct trace_ring *r);

/* One line describing the record, without a line end (at most size-1 chars).
 * tsc_hz and tsc_base turn the TSC into seconds since tsc_base (tsc_hz 0:
 * raw ticks).  The exit-reason names come from vm_exit_reason_name(). */
void trace_format(const struct trace_rec *rec, u64 index, u64 tsc_base, u64 tsc_hz,
		  char *buf, size_t size);

#endif
