/* Exit counters by key (see kernel/vm/exit_stats.h). */
#include "kernel/vm/exit_stats.h"
#include "kernel/lib/string.h"

static u32 hash(u64 key)
{
	/* Fibonacci hashing: the top bits of key * 2^64/phi. */
	return (u32)((key * 0x9E3779B97F4A7C15ULL) >> 59) & (KEY_COUNTER_SLOTS - 1);
}

void key_counter_add(struct key_counter *kc, u64 key)
{
	u32 h = hash(key);

	for (u32 i = 0; i < KEY_COUNTER_PROBES; i++) {
		struct key_count *s = &kc->slot[(h + i) & (KEY_COUNTER_SLOTS - 1)];
		if (s->count && s->key == key) {
			s->count++;
			return;
		}
		if (!s->count) {
			s->key = key;
			s->count = 1;
			return;
		}
	}
	kc->other++;
}

void key_counter_reset(struct key_counter *kc)
{
	memset(kc, 0, sizeof(*kc));
}

static bool before(const struct key_count *a, const struct key_count *b)
{
	return a->count > b->count || (a->count == b->count && a->key < b->key);
}

size_t key_counter_top(const struct key_counter *kc, struct key_count *out, size_t n)
{
	size_t filled = 0;

	for (u32 i = 0; i < KEY_COUNTER_SLOTS; i++) {
		struct key_count c = kc->slot[i];
		if (!c.count)
			continue;
		/* Insertion into the sorted prefix of at most n entries. */
		size_t pos = filled;
		while (pos > 0 && before(&c, &out[pos - 1]))
			pos--;
		if (pos >= n)
			continue;
		size_t last = filled < n ? filled : n - 1;
		for (size_t j = last; j > pos; j--)
			out[j] = out[j - 1];
		out[pos] = c;
		if (filled < n)
			filled++;
	}
	return filled;
}

u64 key_counter_total(const struct key_counter *kc)
{
	u64 total = kc->other;
	for (u32 i = 0; i < KEY_COUNTER_SLOTS; i++)
		total += kc->slot[i].count;
	return total;
}
