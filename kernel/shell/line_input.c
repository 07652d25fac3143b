/* Escape detector and line editor (see kernel/shell/line_input.h). */
#include "kernel/shell/line_input.h"

void escape_init(struct escape_detector *e, u8 ch, u8 needed)
{
	e->ch = ch;
	e->needed = needed > ESCAPE_MAX_COUNT ? ESCAPE_MAX_COUNT : needed;
	e->seen = 0;
}

bool escape_feed(struct escape_detector *e, u8 c, u8 *out, size_t *nout)
{
	*nout = 0;
	if (e->needed && c == e->ch) {
		if (++e->seen == e->needed) {
			e->seen = 0;
			return true;
		}
		return false;
	}
	for (; e->seen; e->seen--)
		out[(*nout)++] = e->ch;
	out[(*nout)++] = c;
	return false;
}

enum {
	ESC_NONE,
	ESC_START,	/* after ESC */
	ESC_CSI,	/* after ESC [ : parameters until a final byte */
	ESC_SS3,	/* after ESC O : one more byte */
};

#define CH_CTRL_C 0x03
#define CH_BS 0x08
#define CH_LF 0x0A
#define CH_CR 0x0D
#define CH_CTRL_U 0x15
#define CH_CTRL_W 0x17
#define CH_ESC 0x1B
#define CH_DEL 0x7F

void line_input_reset(struct line_input *l)
{
	l->len = 0;
	l->buf[0] = '\0';
	l->esc = ESC_NONE;
	/* after_cr survives: the LF of a CR LF may still be on its way. */
}

const char *line_input_text(const struct line_input *l)
{
	return l->buf;
}

static bool swallow_escape(struct line_input *l, u8 c)
{
	switch (l->esc) {
	case ESC_START:
		l->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
		return true;
	case ESC_CSI:
		if (c >= 0x40 && c <= 0x7E)
			l->esc = ESC_NONE;
		return true;
	case ESC_SS3:
		l->esc = ESC_NONE;
		return true;
	default:
		return false;
	}
}

enum line_event line_input_feed(struct line_input *l, u8 c, u32 *n)
{
	bool after_cr = l->after_cr;

	*n = 0;
	l->after_cr = false;
	if (swallow_escape(l, c))
		return LINE_NONE;
	switch (c) {
	case CH_CR:
		l->after_cr = true;
		return LINE_DONE;
	case CH_LF:
		return after_cr ? LINE_NONE : LINE_DONE;
	case CH_BS:
	case CH_DEL:
		if (!l->len)
			return LINE_NONE;
		l->buf[--l->len] = '\0';
		*n = 1;
		return LINE_ERASE;
	case CH_CTRL_U:
		*n = l->len;
		l->len = 0;
		l->buf[0] = '\0';
		return *n ? LINE_ERASE : LINE_NONE;
	case CH_CTRL_W: {
		u32 end = l->len;
		while (l->len && l->buf[l->len - 1] == ' ')
			l->len--;
		while (l->len && l->buf[l->len - 1] != ' ')
			l->len--;
		l->buf[l->len] = '\0';
		*n = end - l->len;
		return *n ? LINE_ERASE : LINE_NONE;
	}
	case CH_CTRL_C:
		return LINE_CANCEL;
	case CH_ESC:
		l->esc = ESC_START;
		return LINE_NONE;
	default:
		break;
	}
	if (c < 0x20 || c > 0x7E)
		return LINE_NONE;
	if (l->len >= LINE_INPUT_MAX)
		return LINE_BELL;
	l->buf[l->len++] = (char)c;
	l->buf[l->len] = '\0';
	*n = 1;
	return LINE_ECHO;
}
