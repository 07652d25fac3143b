/* Command-line parser; the syntax and error policy are described in cmdline.h.
 *
 * Values are never copied before they are validated: the parser works on
 * (pointer, length) slices of the original string and writes a target only
 * once the whole value is known to be good, which is what keeps targets
 * unchanged on error. */
#include "kernel/cmdline.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"

enum num_status { NUM_OK, NUM_EMPTY, NUM_JUNK, NUM_OVERFLOW };

/* A slice of the command line; not NUL-terminated. */
struct slice {
	const char *p;
	size_t len;
};

static bool is_blank(char c)
{
	/* CR/LF too: command lines read from a config file often keep them. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool slice_eq(struct slice s, const char *str)
{
	return strlen(str) == s.len && memcmp(s.p, str, s.len) == 0;
}

static bool slice_eq_nocase(struct slice s, const char *str)
{
	if (strlen(str) != s.len)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		if (lower(s.p[i]) != lower(str[i]))
			return false;
	}
	return true;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Distinguishes "not a number" from "too large" so the log can say which.
 * Junk wins over overflow: "99999999999999999999x" is reported as junk. */
static enum num_status parse_number(const char *s, size_t len, u64 *out)
{
	unsigned shift = 0;
	unsigned base = 10;
	size_t i = 0;
	u64 v = 0;
	bool overflow = false;

	if (len == 0)
		return NUM_EMPTY;

	switch (lower(s[len - 1])) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	default:
		break;
	}
	if (shift)
		len--;

	if (len >= 2 && s[0] == '0' && lower(s[1]) == 'x') {
		base = 16;
		i = 2;
	}
	if (i == len)
		return NUM_JUNK; /* "0x", "K", "0xM": a prefix or suffix without digits */

	for (; i < len; i++) {
		int d = digit_value(s[i]);
		if (d < 0 || (unsigned)d >= base)
			return NUM_JUNK;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			overflow = true;
		else
			v = v * base + (unsigned)d;
	}
	if (overflow || v > (UINT64_MAX >> shift))
		return NUM_OVERFLOW;
	*out = v << shift;
	return NUM_OK;
}

bool parse_u64(const char *s, size_t len, u64 *out)
{
	return parse_number(s, len, out) == NUM_OK;
}

/* Joins the choices of an enum option into buf, truncating with "..." rather
 * than failing: the list is only ever used in a log line. */
static void join_choices(char *buf, size_t size, const char *const *choices, const char *sep)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!choices)
		return;
	for (size_t i = 0; choices[i]; i++) {
		size_t sl = i ? strlen(sep) : 0;
		size_t cl = strlen(choices[i]);
		if (used + sl + cl + 4 > size) { /* keep room for "..." and NUL */
			if (used + 4 <= size)
				memcpy(buf + used, "...", 4);
			return;
		}
		memcpy(buf + used, sep, sl);
		memcpy(buf + used + sl, choices[i], cl);
		used += sl + cl;
		buf[used] = '\0';
	}
}

static const struct cmdline_opt *find_opt(struct slice key, const struct cmdline_opt *opts,
					  size_t n_opts)
{
	for (size_t i = 0; i < n_opts; i++) {
		if (opts[i].name && slice_eq(key, opts[i].name))
			return &opts[i];
	}
	return NULL;
}

static const char *const bool_true[] = { "on", "1", "yes", "true", NULL };
static const char *const bool_false[] = { "off", "0", "no", "false", NULL };

static int match_word(struct slice v, const char *const *words)
{
	for (int i = 0; words && words[i]; i++) {
		if (slice_eq_nocase(v, words[i]))
			return i;
	}
	return -1;
}

/* Returns 1 if a problem was reported, 0 if the option was applied.
 * has_value distinguishes "key" from "key="; quoted distinguishes key=""
 * (an explicit empty string) from key= (a forgotten value). */
static int apply(const struct cmdline_opt *o, bool has_value, struct slice v, bool quoted)
{
	int vl = (int)v.len;

	if (o->type == OPT_FLAG && !has_value) {
		*(bool *)o->target = true;
		return 0;
	}
	if (!has_value || (v.len == 0 && !(quoted && o->type == OPT_STRING))) {
		pr_warn("cmdline: option '%s': missing value\n", o->name);
		return 1;
	}

	switch (o->type) {
	case OPT_FLAG:
		if (match_word(v, bool_true) >= 0) {
			*(bool *)o->target = true;
		} else if (match_word(v, bool_false) >= 0) {
			*(bool *)o->target = false;
		} else {
			pr_warn("cmdline: option '%s': value '%.*s' is not a boolean "
				"(use on/off, yes/no, true/false or 1/0)\n", o->name, vl, v.p);
			return 1;
		}
		return 0;

	case OPT_UINT: {
		u64 n = 0;
		switch (parse_number(v.p, v.len, &n)) {
		case NUM_OK:
			break;
		case NUM_OVERFLOW:
			pr_warn("cmdline: option '%s': value '%.*s' is too large\n", o->name, vl, v.p);
			return 1;
		case NUM_EMPTY:
		case NUM_JUNK:
		default:
			pr_warn("cmdline: option '%s': value '%.*s' is not a number\n", o->name, vl, v.p);
			return 1;
		}
		if (n < o->min || n > o->max) {
			pr_warn("cmdline: option '%s': value '%.*s' is out of range [%llu, %llu]\n",
				o->name, vl, v.p, (unsigned long long)o->min,
				(unsigned long long)o->max);
			return 1;
		}
		*(u64 *)o->target = n;
		return 0;
	}

	case OPT_STRING:
		if (v.len >= o->size) {
			pr_warn("cmdline: option '%s': value is too long (%zu characters, at most %zu)\n",
				o->name, v.len, o->size ? o->size - 1 : 0);
			return 1;
		}
		memcpy(o->target, v.p, v.len);
		((char *)o->target)[v.len] = '\0';
		return 0;

	case OPT_ENUM: {
		int idx = match_word(v, o->choices);
		if (idx < 0) {
			char list[160];
			join_choices(list, sizeof(list), o->choices, ", ");
			pr_warn("cmdline: option '%s': value '%.*s' is not one of: %s\n",
				o->name, vl, v.p, list);
			return 1;
		}
		*(int *)o->target = idx;
		return 0;
	}

	default:
		pr_warn("cmdline: option '%s': unsupported option type %d\n", o->name, (int)o->type);
		return 1;
	}
}

/* Handles one blank-delimited token (quotes already balanced). */
static int parse_token(struct slice tok, const struct cmdline_opt *opts, size_t n_opts)
{
	struct slice key = { tok.p, 0 };
	struct slice val = { NULL, 0 };
	bool has_value = false;
	bool quoted = false;
	int tl = (int)tok.len;

	while (key.len < tok.len && tok.p[key.len] != '=')
		key.len++;
	if (key.len < tok.len) {
		has_value = true;
		val.p = tok.p + key.len + 1;
		val.len = tok.len - key.len - 1;
	}

	if (key.len == 0) {
		pr_warn("cmdline: missing option name in '%.*s'\n", tl, tok.p);
		return 1;
	}

	const struct cmdline_opt *o = find_opt(key, opts, n_opts);
	if (!o) {
		pr_warn("cmdline: unknown option '%.*s'\n", (int)key.len, key.p);
		return 1;
	}

	/* Quotes are only meaningful around the whole value; anywhere else they
	 * are more likely a typo than intended literal characters. */
	size_t nq = 0;
	for (size_t i = 0; i < val.len; i++)
		nq += val.p[i] == '"';
	if (nq) {
		if (nq != 2 || val.len < 2 || val.p[0] != '"' || val.p[val.len - 1] != '"') {
			pr_warn("cmdline: option '%s': misplaced quote in value '%.*s'\n", o->name,
				(int)val.len, val.p);
			return 1;
		}
		val.p++;
		val.len -= 2;
		quoted = true;
	}

	return apply(o, has_value, val, quoted);
}

int cmdline_parse(const char *cmdline, const struct cmdline_opt *opts, size_t n_opts)
{
	const char *p = cmdline;
	int problems = 0;

	if (!p)
		return 0;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;

		/* A blank inside double quotes does not end the token. */
		const char *start = p;
		bool in_quote = false;
		while (*p && (in_quote || !is_blank(*p))) {
			if (*p == '"')
				in_quote = !in_quote;
			p++;
		}
		struct slice tok = { start, (size_t)(p - start) };

		if (in_quote) {
			pr_warn("cmdline: unterminated quote in '%.*s' (rest of the line ignored)\n",
				(int)tok.len, tok.p);
			problems++;
			break;
		}
		problems += parse_token(tok, opts, n_opts);
	}
	return problems;
}

void cmdline_print_help(const struct cmdline_opt *opts, size_t n_opts)
{
	for (size_t i = 0; i < n_opts; i++) {
		const struct cmdline_opt *o = &opts[i];
		const char *help = o->help ? o->help : "";
		char list[160];

		switch (o->type) {
		case OPT_FLAG:
			pr_info("  %s[=on|off]  %s\n", o->name, help);
			break;
		case OPT_UINT:
			pr_info("  %s=<%llu..%llu>  %s\n", o->name, (unsigned long long)o->min,
				(unsigned long long)o->max, help);
			break;
		case OPT_STRING:
			pr_info("  %s=<text, at most %zu characters>  %s\n", o->name,
				o->size ? o->size - 1 : 0, help);
			break;
		case OPT_ENUM:
			join_choices(list, sizeof(list), o->choices, "|");
			pr_info("  %s=%s  %s\n", o->name, list, help);
			break;
		default:
			pr_info("  %s  %s\n", o->name, help);
			break;
		}
	}
}
