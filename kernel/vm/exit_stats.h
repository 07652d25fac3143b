/* Exit counters by key (MSR index and direction, I/O port and direction,
 * hypercall code), for the shell's `exits`: which few MSRs or ports cause most
 * exits.  A small open-addressing table per kind and VP; keys that do not fit
 * (no free slot within KEY_COUNTER_PROBES of their hash) go to one `other`
 * counter, so counting never allocates, never fails and costs a few compares.
 *
 * Concurrency: only the VP's own CPU counts; readers on other CPUs see each
 * 64-bit counter whole (aligned loads) but not a consistent set, which is fine
 * for statistics.  Reset runs on the VP's CPU (the shell asks it to).
 *
 * Pure logic: compiled into the host unit tests. */
#ifndef HV_KERNEL_VM_EXIT_STATS_H
#define HV_KERNEL_VM_EXIT_STATS_H

#include "kernel/types.h"

#define KEY_COUNTER_SLOTS 32 /* a power of two */
/* Slots looked at per key: bounds the cost per exit when a guest uses many
 * different keys (a hypercall loop with a changing RCX): those go to `other`. */
#define KEY_COUNTER_PROBES 4

struct key_count {
	u64 key;
	u64 count; /* 0: slot unused */
};

struct key_counter {
	struct key_count slot[KEY_COUNTER_SLOTS];
	u64 other; /* counts of keys that found no free slot */
};

/* Key layouts. */
#define EXIT_KEY_WRITE (1ULL << 32)	/* MSR write (else read) */
#define EXIT_KEY_IN (1ULL << 32)	/* port read (else write) */

void key_counter_add(struct key_counter *kc, u64 key);
void key_counter_reset(struct key_counter *kc);
/* The n largest counts, largest first (ties: smaller key first).  Returns how
 * many were filled. */
size_t key_counter_top(const struct key_counter *kc, struct key_count *out, size_t n);
u64 key_counter_total(const struct key_counter *kc);

#endif
