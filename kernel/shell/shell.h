/* The hypervisor shell's core: a table of commands ({name, params, help, fn},
 * as in ACRN's shell), the tokenizer, argument-count checking, argument
 * parsing with clear errors, and help.  Pure logic: output goes through a
 * line callback, so the unit tests run commands against a fake table and
 * check every line printed.  The commands themselves are in cmd_*.c. */
#ifndef HV_KERNEL_SHELL_SHELL_H
#define HV_KERNEL_SHELL_SHELL_H

#include "kernel/types.h"

#define SHELL_MAX_ARGS 10	   /* the command name included */
#define SHELL_MAX_LINE 160	   /* characters in an input line */
#define SHELL_MAX_ARG_LEN 40	   /* characters in one argument */
#define SHELL_OUT_LINE 200	   /* characters in one output line */

struct shell;

/* Returns SHELL_OK or a negative SHELL_E* code; the command has printed why. */
typedef int (*shell_cmd_fn)(struct shell *sh, int argc, char **argv);

struct shell_cmd {
	const char *name;
	const char *params;	/* "<vp> [vtl]": what `help` shows after the name */
	const char *help;	/* one line for the command list */
	const char *detail;	/* more lines for `help <cmd>` ('\n'-separated), or NULL */
	u8 min_args, max_args;	/* arguments after the name */
	shell_cmd_fn fn;
};

enum {
	SHELL_OK = 0,
	SHELL_EUSAGE = -1,	/* bad arguments */
	SHELL_EFAIL = -2,	/* the command could not do it */
	SHELL_EUNKNOWN = -3,	/* no such command */
};

struct shell {
	const struct shell_cmd *cmds;
	size_t ncmds;
	/* Receives each output line, without a line end. */
	void (*write_line)(void *ctx, const char *line);
	void *ctx;
	/* The command being run, for error messages. */
	const char *current;
};

/* Splits line in place at blanks (space, tab) into argv.  Returns the number
 * of words (0 for an empty line), or -1 when there are more than max words
 * (*why says so).  Only printable ASCII reaches the shell, so there is no
 * quoting. */
int shell_tokenize(char *line, char **argv, int max, const char **why);

const struct shell_cmd *shell_find(const struct shell *sh, const char *name);

/* Runs one input line: tokenizes it, finds the command, checks the argument
 * count and calls it.  Lines longer than SHELL_MAX_LINE and arguments longer
 * than SHELL_MAX_ARG_LEN are refused.  Returns what the command returned. */
int shell_execute(struct shell *sh, const char *line);

/* Prints formatted text; '\n' separates lines and long lines are cut at
 * SHELL_OUT_LINE characters. */
void shell_print(struct shell *sh, const char *fmt, ...) __printf(2, 3);
/* "<command>: <message>" and returns SHELL_EUSAGE, for `return shell_usage(...)`. */
int shell_usage(struct shell *sh, const char *fmt, ...) __printf(2, 3);
/* "<command>: <message>" and returns SHELL_EFAIL. */
int shell_fail(struct shell *sh, const char *fmt, ...) __printf(2, 3);

/* Parses a number (decimal, 0x hex, optional K/M/G suffix: parse_u64) in
 * [min, max].  On failure prints "<command>: <what> '<arg>' ..." and returns
 * false. */
bool shell_arg_u64(struct shell *sh, const char *what, const char *arg, u64 min, u64 max,
		   u64 *out);
/* Index of arg in the NULL-terminated choices (exact, case-insensitive), or -1
 * after printing the valid choices. */
int shell_arg_choice(struct shell *sh, const char *what, const char *arg,
		     const char *const *choices);
/* Case-insensitive equality, for optional keyword arguments. */
bool shell_word_is(const char *arg, const char *word);

/* `help` (the list) or `help <cmd>` (usage and details). */
int shell_help(struct shell *sh, const char *name);

#endif
