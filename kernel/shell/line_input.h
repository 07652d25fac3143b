/* Console input logic: the escape that moves input between the guest and the
 * hypervisor shell, and the shell's line editor.  Pure logic (no hardware,
 * no locks): the caller owns the state and serialises calls; the unit tests
 * drive it byte by byte. */
#ifndef HV_KERNEL_SHELL_LINE_INPUT_H
#define HV_KERNEL_SHELL_LINE_INPUT_H

#include "kernel/types.h"

/* ---- escape detector ------------------------------------------------------
 * The escape is one character typed `needed` times in a row (default Ctrl-]
 * three times).  Escape characters are held back while a sequence may be
 * forming; any other byte releases them unchanged, so a guest still receives
 * a lone Ctrl-] (and a pair) exactly as typed. */
#define ESCAPE_MAX_COUNT 8

struct escape_detector {
	u8 ch;
	u8 needed; /* 0: no escape, everything passes */
	u8 seen;
};

void escape_init(struct escape_detector *e, u8 ch, u8 needed);

/* Feeds one byte.  Returns true when it completed the escape (the held bytes
 * are consumed).  Otherwise out[0..*nout) are the bytes to pass on: any held
 * escape characters, then c itself unless c is being held.  out must have room
 * for ESCAPE_MAX_COUNT bytes. */
bool escape_feed(struct escape_detector *e, u8 c, u8 *out, size_t *nout);

/* ---- line editor ------------------------------------------------------------
 * Printable ASCII is collected up to LINE_INPUT_MAX characters.  Enter is CR or
 * LF (CR LF counts once).  Backspace/DEL erase a character, Ctrl-W a word,
 * Ctrl-U the line; Ctrl-C abandons the line.  Terminal escape sequences (arrow
 * keys: ESC [ ... final byte, ESC O x) and other control characters are
 * swallowed. */
#define LINE_INPUT_MAX 160

enum line_event {
	LINE_NONE,    /* nothing to show */
	LINE_ECHO,    /* echo the character (*n = 1) */
	LINE_ERASE,   /* erase *n characters before the cursor */
	LINE_BELL,    /* refused: the line is full */
	LINE_DONE,    /* a complete line is in line_input_text() */
	LINE_CANCEL,  /* the line was abandoned (Ctrl-C) */
};

struct line_input {
	char buf[LINE_INPUT_MAX + 1];
	u32 len;
	bool after_cr;
	u8 esc;	/* terminal escape-sequence state */
};

void line_input_reset(struct line_input *l);
enum line_event line_input_feed(struct line_input *l, u8 c, u32 *n);
/* The current line, NUL-terminated.  After LINE_DONE or LINE_CANCEL the caller
 * reads it (if it wants) and calls line_input_reset(). */
const char *line_input_text(const struct line_input *l);

#endif
