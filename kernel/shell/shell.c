/* The shell's core (see kernel/shell/shell.h). */
#include "kernel/shell/shell.h"
#include "kernel/cmdline.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int shell_tokenize(char *line, char **argv, int max, const char **why)
{
	int argc = 0;
	char *p = line;

	*why = NULL;
	for (;;) {
		while (is_blank(*p))
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == max) {
			*why = "too many arguments";
			return -1;
		}
		argv[argc++] = p;
		while (*p && !is_blank(*p))
			p++;
	}
	return argc;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool shell_word_is(const char *arg, const char *word)
{
	for (; *arg && *word; arg++, word++) {
		if (lower(*arg) != lower(*word))
			return false;
	}
	return *arg == *word;
}

const struct shell_cmd *shell_find(const struct shell *sh, const char *name)
{
	for (size_t i = 0; i < sh->ncmds; i++) {
		if (shell_word_is(name, sh->cmds[i].name))
			return &sh->cmds[i];
	}
	return NULL;
}

static void emit_text(struct shell *sh, const char *text)
{
	char line[SHELL_OUT_LINE + 1];
	size_t n = 0;

	for (const char *p = text;; p++) {
		if (*p == '\n' || *p == '\0') {
			line[n] = '\0';
			if (*p == '\n' || n)
				sh->write_line(sh->ctx, line);
			n = 0;
			if (!*p)
				break;
			continue;
		}
		if (n < SHELL_OUT_LINE)
			line[n++] = *p;
	}
}

static void vprint(struct shell *sh, const char *prefix, const char *fmt, va_list ap)
{
	char text[1024];
	int n = 0;

	if (prefix)
		n = fmt_snprintf(text, sizeof(text), "%s: ", prefix);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = 0;
	fmt_vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	emit_text(sh, text);
}

void shell_print(struct shell *sh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(sh, NULL, fmt, ap);
	va_end(ap);
}

int shell_usage(struct shell *sh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(sh, sh->current ? sh->current : "shell", fmt, ap);
	va_end(ap);
	return SHELL_EUSAGE;
}

int shell_fail(struct shell *sh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(sh, sh->current ? sh->current : "shell", fmt, ap);
	va_end(ap);
	return SHELL_EFAIL;
}

bool shell_arg_u64(struct shell *sh, const char *what, const char *arg, u64 min, u64 max,
		   u64 *out)
{
	u64 v;

	if (!parse_u64(arg, strlen(arg), &v)) {
		shell_usage(sh, "%s '%s' is not a number (decimal, or hex with 0x)", what, arg);
		return false;
	}
	if (v < min || v > max) {
		if (max < 0x10000)
			shell_usage(sh, "%s %s is out of range (%llu-%llu)", what, arg,
				    (unsigned long long)min, (unsigned long long)max);
		else
			shell_usage(sh, "%s %s is out of range (%#llx-%#llx)", what, arg,
				    (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

int shell_arg_choice(struct shell *sh, const char *what, const char *arg,
		     const char *const *choices)
{
	char list[160];
	size_t n = 0;

	for (int i = 0; choices[i]; i++) {
		if (shell_word_is(arg, choices[i]))
			return i;
	}
	list[0] = '\0';
	for (int i = 0; choices[i] && n < sizeof(list); i++) {
		int m = fmt_snprintf(list + n, sizeof(list) - n, "%s%s", i ? "|" : "", choices[i]);
		if (m < 0)
			break;
		n += (size_t)m;
	}
	shell_usage(sh, "%s '%s' is not one of %s", what, arg, list);
	return -1;
}

static void print_usage_line(struct shell *sh, const struct shell_cmd *c)
{
	shell_print(sh, "usage: %s%s%s", c->name, c->params[0] ? " " : "", c->params);
}

int shell_help(struct shell *sh, const char *name)
{
	if (!name) {
		size_t width = 0;
		for (size_t i = 0; i < sh->ncmds; i++) {
			size_t w = strlen(sh->cmds[i].name) + 1 + strlen(sh->cmds[i].params);
			if (w > width)
				width = w;
		}
		for (size_t i = 0; i < sh->ncmds; i++) {
			char head[64];
			const struct shell_cmd *c = &sh->cmds[i];
			fmt_snprintf(head, sizeof(head), "%s %s", c->name, c->params);
			shell_print(sh, "  %-*s  %s", (int)width, head, c->help);
		}
		shell_print(sh, "Numbers are decimal or 0x hex (K/M/G suffixes allowed); "
				"`help <command>` for details.");
		return SHELL_OK;
	}
	const struct shell_cmd *c = shell_find(sh, name);
	if (!c)
		return shell_usage(sh, "no command '%s'; `help` lists them", name);
	print_usage_line(sh, c);
	shell_print(sh, "%s", c->help);
	if (c->detail)
		shell_print(sh, "%s", c->detail);
	return SHELL_OK;
}

int shell_execute(struct shell *sh, const char *input)
{
	char line[SHELL_MAX_LINE + 1];
	char *argv[SHELL_MAX_ARGS];
	const char *why;
	size_t len = strnlen(input, SHELL_MAX_LINE + 1);

	sh->current = NULL;
	if (len > SHELL_MAX_LINE) {
		shell_print(sh, "shell: line longer than %d characters; ignored", SHELL_MAX_LINE);
		return SHELL_EUSAGE;
	}
	memcpy(line, input, len + 1);
	int argc = shell_tokenize(line, argv, SHELL_MAX_ARGS, &why);
	if (argc == 0)
		return SHELL_OK;
	if (argc < 0) {
		shell_print(sh, "shell: %s (at most %d words)", why, SHELL_MAX_ARGS);
		return SHELL_EUSAGE;
	}
	const struct shell_cmd *c = shell_find(sh, argv[0]);
	if (!c) {
		shell_print(sh, "shell: unknown command '%s'; `help` lists the commands", argv[0]);
		return SHELL_EUNKNOWN;
	}
	sh->current = c->name;
	for (int i = 1; i < argc; i++) {
		if (strlen(argv[i]) > SHELL_MAX_ARG_LEN) {
			shell_usage(sh, "argument %d is longer than %d characters", i,
				    SHELL_MAX_ARG_LEN);
			return SHELL_EUSAGE;
		}
	}
	int nargs = argc - 1;
	if (nargs < c->min_args || nargs > c->max_args) {
		if (nargs < c->min_args)
			shell_usage(sh, "missing argument");
		else
			shell_usage(sh, "too many arguments");
		print_usage_line(sh, c);
		return SHELL_EUSAGE;
	}
	int rc = c->fn(sh, argc, argv);
	sh->current = NULL;
	return rc;
}
