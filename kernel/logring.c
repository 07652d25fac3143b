/* Log ring (see kernel/logring.h). */
#include "kernel/logring.h"

void logring_init(struct logring *r, char *buf, u64 size)
{
	r->buf = buf;
	r->size = size;
	r->head = 0;
	r->tail = 0;
	r->lines_dropped = 0;
}

static char at(const struct logring *r, u64 pos)
{
	return r->buf[pos & (r->size - 1)];
}

/* Moves tail past the oldest line. */
static void drop_oldest(struct logring *r)
{
	while (r->tail < r->head) {
		char c = at(r, r->tail++);
		if (c == '\n')
			break;
	}
	r->lines_dropped++;
}

void logring_write(struct logring *r, const char *line, size_t len)
{
	u64 max = r->size / 2;
	bool add_newline = len == 0 || line[len - 1] != '\n';

	if (add_newline && len > 0 && len + 1 > max)
		len = max - 1;
	else if (!add_newline && len > max) {
		len = max - 1;
		add_newline = true;
	}
	u64 need = len + (add_newline ? 1 : 0);
	while (r->head + need - r->tail > r->size)
		drop_oldest(r);
	for (size_t i = 0; i < len; i++)
		r->buf[(r->head + i) & (r->size - 1)] = line[i];
	r->head += len;
	if (add_newline)
		r->buf[r->head++ & (r->size - 1)] = '\n';
}

u64 logring_last_lines(const struct logring *r, u64 n)
{
	u64 pos = r->head;

	if (n == 0)
		return r->head;
	/* Every line ends in '\n'; the (n+1)-th newline from the end, counting
	 * the final one, ends the line before the first one wanted. */
	u64 seen = 0;
	while (pos > r->tail) {
		if (at(r, pos - 1) == '\n' && pos != r->head) {
			if (++seen == n)
				return pos;
		}
		pos--;
	}
	return r->tail;
}

bool logring_read_line(const struct logring *r, u64 *pos, char *out, size_t out_size,
		       u64 *skipped)
{
	size_t n = 0;

	if (*pos < r->tail) {
		if (skipped)
			*skipped += r->tail - *pos;
		*pos = r->tail;
	}
	if (*pos >= r->head) {
		if (out_size)
			out[0] = '\0';
		return false;
	}
	while (*pos < r->head) {
		char c = at(r, (*pos)++);
		if (n + 1 < out_size)
			out[n++] = c;
		if (c == '\n')
			break;
	}
	if (out_size)
		out[n] = '\0';
	return true;
}
