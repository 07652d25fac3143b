/* Table-driven parser for the hypervisor command line.  Pure logic: also built
 * natively into the host unit tests.
 *
 * Syntax: tokens separated by blanks (space, tab, CR, LF).  Each token is
 *   key            sets an OPT_FLAG option to true
 *   key=value      value ends at the next blank
 *   key="v a l"    a double-quoted value may contain blanks; no escapes
 * Keys are case-sensitive.  A repeated key is applied again, so the last good
 * value wins.  key="" gives an OPT_STRING the empty string; key= with nothing
 * after it is always a missing value.
 *
 * Anything wrong (unknown key, missing/malformed value, number out of range,
 * unterminated quote, string longer than its buffer, enum value not in the
 * list) produces one pr_warn line starting "cmdline: " and leaves that
 * option's target untouched; parsing then carries on with the next token. */
#ifndef HV_KERNEL_CMDLINE_H
#define HV_KERNEL_CMDLINE_H

#include "kernel/types.h"

enum cmdline_opt_type {
	OPT_FLAG,   /* target: bool*.  Values: on/off 1/0 yes/no true/false (any case) */
	OPT_UINT,   /* target: u64*.   Syntax of parse_u64, within [min, max] */
	OPT_STRING, /* target: char[size], always NUL-terminated on success */
	OPT_ENUM,   /* target: int*, receives the index in choices (matched in any case) */
};

struct cmdline_opt {
	const char *name;
	enum cmdline_opt_type type;
	void *target;
	size_t size;                /* OPT_STRING: size of the target buffer */
	u64 min, max;               /* OPT_UINT: inclusive range */
	const char *const *choices; /* OPT_ENUM: NULL-terminated */
	const char *help;
};

/* Returns the number of problems reported (0 when everything was accepted).
 * A NULL cmdline is treated as empty. */
int cmdline_parse(const char *cmdline, const struct cmdline_opt *opts, size_t n_opts);

/* Logs one pr_info line per option: name, the value syntax, and its help. */
void cmdline_print_help(const struct cmdline_opt *opts, size_t n_opts);

/* Parses exactly len bytes of s (no terminator needed) as an unsigned number:
 * decimal ("4096"; leading zeros do not mean octal) or hex ("0x1000", "0X1f"),
 * optionally followed by one binary-size suffix K, M or G (either case:
 * "16M" = 16 << 20, "0x10k" = 16 << 10).  Rejects empty input, signs,
 * blanks, any other character, and values that do not fit in 64 bits
 * (before or after the suffix).  *out is written only on success. */
bool parse_u64(const char *s, size_t len, u64 *out);

#endif
