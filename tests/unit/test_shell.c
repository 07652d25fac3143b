/* unit-sources: kernel/shell/shell.c kernel/shell/line_input.c kernel/shell/shell_fmt.c kernel/cmdline.c kernel/lib/format.c tests/unit/fake_printk.c */
/* The hypervisor shell's pure parts: tokenizer, command table dispatch with
 * argument-count checks, number and keyword arguments, help; the console
 * input logic (escape detector, line editor); and the text forms (hexdump,
 * flag names, segment attributes, CPU mode, the `regs` dump). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/shell/line_input.h"
#include "kernel/shell/shell.h"
#include "kernel/shell/shell_fmt.h"
#include "tests/unit/fake_printk.h"

/* ---- a fake shell ------------------------------------------------------------ */

static char out[16384];
static int out_lines;
static int calls;
static int last_argc;
static char last_args[SHELL_MAX_ARGS][64];

static void capture(void *ctx, const char *line)
{
	(void)ctx;
	ck_assert_msg(strlen(line) <= SHELL_OUT_LINE, "output line too long: %zu", strlen(line));
	ck_assert_msg(!strchr(line, '\n'), "a line end inside an output line");
	strncat(out, line, sizeof(out) - strlen(out) - 2);
	strcat(out, "\n");
	out_lines++;
}

static int cmd_record(struct shell *sh, int argc, char **argv)
{
	(void)sh;
	calls++;
	last_argc = argc;
	for (int i = 0; i < argc; i++)
		snprintf(last_args[i], sizeof(last_args[i]), "%s", argv[i]);
	return SHELL_OK;
}

static int cmd_num(struct shell *sh, int argc, char **argv)
{
	u64 v;
	(void)argc;
	if (!shell_arg_u64(sh, "vp", argv[1], 0, 3, &v))
		return SHELL_EUSAGE;
	shell_print(sh, "vp=%llu", (unsigned long long)v);
	return SHELL_OK;
}

static int cmd_mode(struct shell *sh, int argc, char **argv)
{
	static const char *const modes[] = {"on", "off", "dump", NULL};
	(void)argc;
	int m = shell_arg_choice(sh, "mode", argv[1], modes);
	if (m < 0)
		return SHELL_EUSAGE;
	shell_print(sh, "mode=%d", m);
	return SHELL_OK;
}

static int cmd_fail(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return shell_fail(sh, "could not do it (%d)", 42);
}

static int cmd_multi(struct shell *sh, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	shell_print(sh, "one\ntwo\n\nthree");
	shell_print(sh, "%s", big);
	return SHELL_OK;
}

static const struct shell_cmd cmds[] = {
	{"rec", "[a] [b]", "records its arguments", NULL, 0, 2, cmd_record},
	{"num", "<vp>", "takes a VP number", "The VP index, 0-3.\nSecond line.", 1, 1, cmd_num},
	{"mode", "on|off|dump", "takes a keyword", NULL, 1, 1, cmd_mode},
	{"fail", "", "always fails", NULL, 0, 0, cmd_fail},
	{"multi", "", "prints several lines", NULL, 0, 0, cmd_multi},
	{"many", "<a> <b> <c> <d> <e> <f> <g> <h> <i>", "takes nine", NULL, 0, 9, cmd_record},
};

static struct shell sh = {cmds, sizeof(cmds) / sizeof(cmds[0]), capture, NULL, NULL};

static void setup(void)
{
	out[0] = '\0';
	out_lines = 0;
	calls = 0;
	last_argc = 0;
	fake_printk_reset();
}

/* ---- tokenizer ---------------------------------------------------------------- */

START_TEST(test_tokenize)
{
	char line[] = "  regs\t 0   1 ";
	char *argv[4];
	const char *why;
	ck_assert_int_eq(shell_tokenize(line, argv, 4, &why), 3);
	ck_assert_str_eq(argv[0], "regs");
	ck_assert_str_eq(argv[1], "0");
	ck_assert_str_eq(argv[2], "1");

	char empty[] = " \t ";
	ck_assert_int_eq(shell_tokenize(empty, argv, 4, &why), 0);
	char none[] = "";
	ck_assert_int_eq(shell_tokenize(none, argv, 4, &why), 0);

	char many[] = "a b c d e";
	ck_assert_int_eq(shell_tokenize(many, argv, 4, &why), -1);
	ck_assert_ptr_nonnull(why);
	char exact[] = "a b c d";
	ck_assert_int_eq(shell_tokenize(exact, argv, 4, &why), 4);
}
END_TEST

/* ---- dispatch -------------------------------------------------------------------- */

START_TEST(test_execute_dispatch)
{
	ck_assert_int_eq(shell_execute(&sh, "rec x y"), SHELL_OK);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(last_argc, 3);
	ck_assert_str_eq(last_args[1], "x");
	ck_assert_str_eq(last_args[2], "y");
	/* Command names match in any case. */
	ck_assert_int_eq(shell_execute(&sh, "REC"), SHELL_OK);
	ck_assert_int_eq(calls, 2);
	/* Empty and blank lines do nothing and print nothing. */
	ck_assert_int_eq(shell_execute(&sh, ""), SHELL_OK);
	ck_assert_int_eq(shell_execute(&sh, "   "), SHELL_OK);
	ck_assert_int_eq(out_lines, 0);
}
END_TEST

START_TEST(test_execute_unknown)
{
	ck_assert_int_eq(shell_execute(&sh, "frobnicate 1 2"), SHELL_EUNKNOWN);
	ck_assert_ptr_nonnull(strstr(out, "unknown command 'frobnicate'"));
	ck_assert_ptr_nonnull(strstr(out, "help"));
	/* A prefix is not a command. */
	ck_assert_int_eq(shell_execute(&sh, "re"), SHELL_EUNKNOWN);
	ck_assert_int_eq(calls, 0);
}
END_TEST

START_TEST(test_execute_arg_count)
{
	ck_assert_int_eq(shell_execute(&sh, "num"), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "num: missing argument"));
	ck_assert_ptr_nonnull(strstr(out, "usage: num <vp>"));
	out[0] = '\0';
	ck_assert_int_eq(shell_execute(&sh, "rec 1 2 3"), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "rec: too many arguments"));
	ck_assert_int_eq(calls, 0);
	out[0] = '\0';
	ck_assert_int_eq(shell_execute(&sh, "fail x"), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "usage: fail\n"));
	/* More words than SHELL_MAX_ARGS. */
	out[0] = '\0';
	ck_assert_int_eq(shell_execute(&sh, "many 1 2 3 4 5 6 7 8 9 10"), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "too many arguments"));
	ck_assert_int_eq(shell_execute(&sh, "many 1 2 3 4 5 6 7 8 9"), SHELL_OK);
	ck_assert_int_eq(last_argc, 10);
}
END_TEST

START_TEST(test_execute_long_input)
{
	char line[SHELL_MAX_LINE + 10];
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	ck_assert_int_eq(shell_execute(&sh, line), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "longer than"));

	/* An argument longer than SHELL_MAX_ARG_LEN. */
	char arg[100] = "rec ";
	memset(arg + 4, '7', SHELL_MAX_ARG_LEN + 1);
	arg[4 + SHELL_MAX_ARG_LEN + 1] = '\0';
	out[0] = '\0';
	ck_assert_int_eq(shell_execute(&sh, arg), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "rec: argument 1 is longer than"));
	ck_assert_int_eq(calls, 0);
	arg[4 + SHELL_MAX_ARG_LEN] = '\0';
	ck_assert_int_eq(shell_execute(&sh, arg), SHELL_OK);
}
END_TEST

START_TEST(test_output_lines)
{
	ck_assert_int_eq(shell_execute(&sh, "multi"), SHELL_OK);
	/* one, two, (empty), three, and the long line cut to SHELL_OUT_LINE. */
	ck_assert_int_eq(out_lines, 5);
	ck_assert(strncmp(out, "one\ntwo\n\nthree\nxxx", 18) == 0);
	out[0] = '\0';
	ck_assert_int_eq(shell_execute(&sh, "fail"), SHELL_EFAIL);
	ck_assert_str_eq(out, "fail: could not do it (42)\n");
}
END_TEST

/* ---- number and keyword arguments ------------------------------------------------- */

static const struct {
	const char *line, *want;
	int rc;
} num_cases[] = {
	{"num 0", "vp=0\n", SHELL_OK},
	{"num 3", "vp=3\n", SHELL_OK},
	{"num 0x3", "vp=3\n", SHELL_OK},
	{"num 0X2", "vp=2\n", SHELL_OK},
	{"num 4", "num: vp 4 is out of range (0-3)\n", SHELL_EUSAGE},
	{"num 0x10", "num: vp 0x10 is out of range (0-3)\n", SHELL_EUSAGE},
	{"num -1", "num: vp '-1' is not a number (decimal, or hex with 0x)\n", SHELL_EUSAGE},
	{"num abc", "num: vp 'abc' is not a number (decimal, or hex with 0x)\n", SHELL_EUSAGE},
	{"num 0x", "num: vp '0x' is not a number (decimal, or hex with 0x)\n", SHELL_EUSAGE},
	{"num 1.5", "num: vp '1.5' is not a number (decimal, or hex with 0x)\n", SHELL_EUSAGE},
	{"num 18446744073709551616", "num: vp '18446744073709551616' is not a number (decimal, or hex with 0x)\n", SHELL_EUSAGE},
	{"num 0x10000000000000000", "num: vp '0x10000000000000000' is not a number (decimal, or hex with 0x)\n", SHELL_EUSAGE},
	{"num 18446744073709551615", "num: vp 18446744073709551615 is out of range (0-3)\n", SHELL_EUSAGE},
	{"num 1K", "num: vp 1K is out of range (0-3)\n", SHELL_EUSAGE},
	{"mode on", "mode=0\n", SHELL_OK},
	{"mode DUMP", "mode=2\n", SHELL_OK},
	{"mode dum", "mode: mode 'dum' is not one of on|off|dump\n", SHELL_EUSAGE},
	{"mode onn", "mode: mode 'onn' is not one of on|off|dump\n", SHELL_EUSAGE},
};

START_TEST(test_number_args)
{
	ck_assert_int_eq(shell_execute(&sh, num_cases[_i].line), num_cases[_i].rc);
	ck_assert_str_eq(out, num_cases[_i].want);
}
END_TEST

START_TEST(test_arg_u64_ranges)
{
	u64 v = 77;
	sh.current = "mem";
	ck_assert(shell_arg_u64(&sh, "len", "4K", 1, 4096, &v));
	ck_assert_uint_eq(v, 4096);
	ck_assert(!shell_arg_u64(&sh, "len", "4097", 1, 4096, &v));
	ck_assert_uint_eq(v, 4096); /* untouched on failure */
	ck_assert(shell_arg_u64(&sh, "gpa", "0xffffffffffffffff", 0, UINT64_MAX, &v));
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert(!shell_arg_u64(&sh, "len", "0", 1, 4096, &v));
	ck_assert_ptr_nonnull(strstr(out, "mem: len 0 is out of range (1-4096)"));
	out[0] = '\0';
	ck_assert(!shell_arg_u64(&sh, "msr", "0x100000000", 0, 0xFFFFFFFF, &v));
	ck_assert_ptr_nonnull(strstr(out, "out of range (0-0xffffffff)"));
	sh.current = NULL;
}
END_TEST

START_TEST(test_word_is)
{
	ck_assert(shell_word_is("Reset", "reset"));
	ck_assert(!shell_word_is("rese", "reset"));
	ck_assert(!shell_word_is("resets", "reset"));
	ck_assert(shell_word_is("", ""));
}
END_TEST

/* ---- help ---------------------------------------------------------------------------- */

START_TEST(test_help)
{
	ck_assert_int_eq(shell_help(&sh, NULL), SHELL_OK);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		ck_assert_ptr_nonnull(strstr(out, cmds[i].help));
	ck_assert_ptr_nonnull(strstr(out, "num <vp>"));
	out[0] = '\0';
	ck_assert_int_eq(shell_help(&sh, "num"), SHELL_OK);
	ck_assert_str_eq(out, "usage: num <vp>\ntakes a VP number\nThe VP index, 0-3.\nSecond line.\n");
	out[0] = '\0';
	ck_assert_int_eq(shell_help(&sh, "nope"), SHELL_EUSAGE);
	ck_assert_ptr_nonnull(strstr(out, "no command 'nope'"));
}
END_TEST

/* ---- escape detector ------------------------------------------------------------------ */

static void feed_all(struct escape_detector *e, const char *in, size_t n, char *passed,
		     int *switches)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		u8 o[ESCAPE_MAX_COUNT];
		size_t no;
		if (escape_feed(e, (u8)in[i], o, &no)) {
			(*switches)++;
			passed[len++] = '|';
		}
		for (size_t j = 0; j < no; j++)
			passed[len++] = (char)o[j];
	}
	passed[len] = '\0';
}

START_TEST(test_escape)
{
	struct escape_detector e;
	char passed[64];
	int sw = 0;

	escape_init(&e, 0x1d, 3);
	feed_all(&e, "ab\x1d\x1d\x1d" "cd", 7, passed, &sw);
	ck_assert_int_eq(sw, 1);
	ck_assert_str_eq(passed, "ab|cd");

	/* One or two escape characters followed by something else pass unchanged. */
	sw = 0;
	feed_all(&e, "\x1dx\x1d\x1dy", 5, passed, &sw);
	ck_assert_int_eq(sw, 0);
	ck_assert_str_eq(passed, "\x1dx\x1d\x1dy");

	/* Six in a row: two switches (there and back). */
	sw = 0;
	feed_all(&e, "\x1d\x1d\x1d\x1d\x1d\x1d", 6, passed, &sw);
	ck_assert_int_eq(sw, 2);
	ck_assert_str_eq(passed, "||");

	/* Four: one switch and one held character, released by the next byte. */
	sw = 0;
	feed_all(&e, "\x1d\x1d\x1d\x1dq", 5, passed, &sw);
	ck_assert_int_eq(sw, 1);
	ck_assert_str_eq(passed, "|\x1dq");

	/* Count 1, another character. */
	escape_init(&e, 0x01, 1);
	sw = 0;
	feed_all(&e, "a\x01" "b", 3, passed, &sw);
	ck_assert_int_eq(sw, 1);
	ck_assert_str_eq(passed, "a|b");

	/* Disabled: everything passes. */
	escape_init(&e, 0x1d, 0);
	sw = 0;
	feed_all(&e, "\x1d\x1d\x1d", 3, passed, &sw);
	ck_assert_int_eq(sw, 0);
	ck_assert_str_eq(passed, "\x1d\x1d\x1d");

	/* Counts above the maximum are clamped, and the held bytes still fit. */
	escape_init(&e, 'z', 200);
	ck_assert_int_eq(e.needed, ESCAPE_MAX_COUNT);
	sw = 0;
	feed_all(&e, "zzzzzzz!", 8, passed, &sw);
	ck_assert_int_eq(sw, 0);
	ck_assert_str_eq(passed, "zzzzzzz!");
}
END_TEST

/* ---- line editor ----------------------------------------------------------------------- */

/* Feeds s; returns what a terminal would show, with '<' per erased char,
 * '!' for a bell, '^C' for a cancel and '$' for each completed line. */
static void type(struct line_input *l, const char *s, size_t n, char *shown, char *line_out)
{
	size_t len = strlen(shown);
	for (size_t i = 0; i < n; i++) {
		u32 k;
		switch (line_input_feed(l, (u8)s[i], &k)) {
		case LINE_ECHO:
			ck_assert_uint_eq(k, 1);
			shown[len++] = s[i];
			break;
		case LINE_ERASE:
			while (k--)
				shown[len++] = '<';
			break;
		case LINE_BELL:
			shown[len++] = '!';
			break;
		case LINE_DONE:
			strcpy(line_out, line_input_text(l));
			line_input_reset(l);
			shown[len++] = '$';
			break;
		case LINE_CANCEL:
			line_input_reset(l);
			shown[len++] = '^';
			shown[len++] = 'C';
			break;
		case LINE_NONE:
			break;
		}
	}
	shown[len] = '\0';
}

#define TYPE(l, lit, shown, line) type(l, lit, sizeof(lit) - 1, shown, line)

START_TEST(test_line_editor)
{
	struct line_input l = {0};
	char shown[512] = "", line[LINE_INPUT_MAX + 1] = "";

	line_input_reset(&l);
	TYPE(&l, "regs 0\r", shown, line);
	ck_assert_str_eq(line, "regs 0");
	ck_assert_str_eq(shown, "regs 0$");

	/* CR LF is one Enter; a lone LF is one too. */
	shown[0] = '\0';
	TYPE(&l, "\nvps\n", shown, line);
	ck_assert_str_eq(shown, "vps$");
	ck_assert_str_eq(line, "vps");

	/* Backspace and DEL; erasing an empty line shows nothing. */
	shown[0] = '\0';
	TYPE(&l, "\x7fhelo\x08p\x7f\x7fp\x7flp\r", shown, line);
	ck_assert_str_eq(line, "help");

	/* Ctrl-U erases the line, Ctrl-W the last word (and blanks before it). */
	shown[0] = '\0';
	TYPE(&l, "abc\x15xyz\r", shown, line);
	ck_assert_str_eq(shown, "abc<<<xyz$");
	ck_assert_str_eq(line, "xyz");
	shown[0] = '\0';
	TYPE(&l, "mem 0x1000  \x17" "0x2000\r", shown, line);
	ck_assert_str_eq(line, "mem 0x2000");
	ck_assert_str_eq(shown, "mem 0x1000  <<<<<<<<0x2000$");

	/* Ctrl-C abandons the line. */
	shown[0] = '\0';
	line[0] = '\0';
	TYPE(&l, "reboot\x03", shown, line);
	ck_assert_str_eq(shown, "reboot^C");
	ck_assert_str_eq(line_input_text(&l), "");

	/* Arrow keys and other sequences are swallowed; control bytes ignored. */
	shown[0] = '\0';
	TYPE(&l, "a\x1b[A\x1b[1;5Cb\x1bOPc\x01\x1d\t\xff" "d\r", shown, line);
	ck_assert_str_eq(line, "abcd");
	ck_assert_str_eq(shown, "abcd$");
}
END_TEST

START_TEST(test_line_editor_full)
{
	struct line_input l = {0};
	char in[LINE_INPUT_MAX + 3], shown[LINE_INPUT_MAX + 16] = "", line[LINE_INPUT_MAX + 1];

	line_input_reset(&l);
	memset(in, 'q', sizeof(in));
	type(&l, in, sizeof(in), shown, line);
	ck_assert_uint_eq(l.len, LINE_INPUT_MAX);
	ck_assert_int_eq(shown[LINE_INPUT_MAX], '!');
	ck_assert_int_eq(shown[LINE_INPUT_MAX + 2], '!');
	TYPE(&l, "\r", shown, line);
	ck_assert_uint_eq(strlen(line), LINE_INPUT_MAX);
}
END_TEST

/* ---- text forms ---------------------------------------------------------------------------- */

START_TEST(test_hexdump)
{
	char buf[128];
	const u8 data[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff};
	size_t n = hexdump_line(buf, sizeof(buf), 0x100000, data, 16);
	ck_assert_str_eq(buf, "0000000000100000: 7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 ff  |.ELF............|");
	ck_assert_uint_eq(n, strlen(buf));
	/* A short line keeps the ASCII column where it is. */
	hexdump_line(buf, sizeof(buf), 0xfffffffffffffffcULL, (const u8 *)"hi!\n", 4);
	char want[128];
	snprintf(want, sizeof(want), "fffffffffffffffc: 68 69 21 0a%*s  |hi!.|", 12 * 3 + 1, "");
	ck_assert_str_eq(buf, want);
	/* More than 16 bytes: only 16 shown. */
	u8 big[40];
	memset(big, 'A', sizeof(big));
	hexdump_line(buf, sizeof(buf), 0, big, sizeof(big));
	ck_assert_ptr_nonnull(strstr(buf, "|AAAAAAAAAAAAAAAA|"));
	/* Truncation behaves like snprintf. */
	char small[10];
	n = hexdump_line(small, sizeof(small), 0x1234, data, 16);
	ck_assert_str_eq(small, "000000000");
	ck_assert_uint_eq(n, strlen("0000000000001234: 7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 ff  |.ELF............|"));
	n = hexdump_line(NULL, 0, 0, data, 0);
	ck_assert_uint_eq(n, 17 + 16 * 3 + 1 + 3 + 1);
}
END_TEST

START_TEST(test_bits)
{
	char buf[128];
	format_bits(buf, sizeof(buf), 0x80000011, cr0_bits);
	ck_assert_str_eq(buf, "PE ET PG");
	format_bits(buf, sizeof(buf), 0x246, rflags_bits);
	ck_assert_str_eq(buf, "PF ZF IF");
	format_bits(buf, sizeof(buf), 0x2, rflags_bits);
	ck_assert_str_eq(buf, "");
	format_bits(buf, sizeof(buf), 0xd01, efer_bits);
	ck_assert_str_eq(buf, "SCE LME LMA NXE");
	format_bits(buf, sizeof(buf), (1ULL << 63) | 0x500, efer_bits);
	ck_assert_str_eq(buf, "LME LMA 0x8000000000000000");
	format_bits(buf, sizeof(buf), 0x20 | (1 << 12), cr4_bits);
	ck_assert_str_eq(buf, "PAE LA57");
}
END_TEST

START_TEST(test_segment_attr)
{
	char buf[96];
	format_segment_attr(buf, sizeof(buf), 0xa9b, false); /* 64-bit code, G L, accessed */
	ck_assert_str_eq(buf, "code XR accessed, DPL0, L, G");
	format_segment_attr(buf, sizeof(buf), 0xc93, false);
	ck_assert_str_eq(buf, "data RW accessed, DPL0, D/B, G");
	format_segment_attr(buf, sizeof(buf), 0x0f3, false);
	ck_assert_str_eq(buf, "data RW accessed, DPL3");
	format_segment_attr(buf, sizeof(buf), 0x08b, false);
	ck_assert_str_eq(buf, "TSS busy, DPL0");
	format_segment_attr(buf, sizeof(buf), 0x082, false);
	ck_assert_str_eq(buf, "LDT, DPL0");
	format_segment_attr(buf, sizeof(buf), 0x000, false);
	ck_assert_str_eq(buf, "not present");
	ck_assert_uint_eq(format_segment_attr(buf, sizeof(buf), 0x9b, true), 0);
}
END_TEST

START_TEST(test_cpu_mode)
{
	char buf[96];
	format_cpu_mode(buf, sizeof(buf), 0x10, 0, 0, 2, 0x93);
	ck_assert_str_eq(buf, "real mode");
	format_cpu_mode(buf, sizeof(buf), 0x11, 0, 0, 2, 0xc9b);
	ck_assert_str_eq(buf, "protected mode, 32-bit, no paging");
	format_cpu_mode(buf, sizeof(buf), 0x80000011, 0x20, 0, 2, 0xc9b);
	ck_assert_str_eq(buf, "protected mode, 32-bit, PAE paging");
	format_cpu_mode(buf, sizeof(buf), 0x80000011, 0, 0, 2, 0xc9b);
	ck_assert_str_eq(buf, "protected mode, 32-bit, 32-bit paging");
	format_cpu_mode(buf, sizeof(buf), 0x80000011, 0x20, 0x500, 2, 0xa9b);
	ck_assert_str_eq(buf, "long mode, 64-bit, 4-level paging");
	format_cpu_mode(buf, sizeof(buf), 0x80000011, 0x1020, 0x500, 2, 0xa9b);
	ck_assert_str_eq(buf, "long mode, 64-bit, 5-level paging");
	format_cpu_mode(buf, sizeof(buf), 0x80000011, 0x20, 0x500, 2, 0xc9b);
	ck_assert_str_eq(buf, "compatibility mode, 32-bit, 4-level paging");
	format_cpu_mode(buf, sizeof(buf), 0x11, 0, 0, 0x20002, 0xf3);
	ck_assert_str_eq(buf, "virtual-8086 mode, no paging");
	format_cpu_mode(buf, sizeof(buf), 0x11, 0, 0, 2, 0x9b);
	ck_assert_str_eq(buf, "protected mode, 16-bit, no paging");
}
END_TEST

START_TEST(test_event_and_time)
{
	char buf[64];
	struct vp_event ev = {VP_EVENT_EXCEPTION, 13, true, 0};
	format_event(buf, sizeof(buf), &ev);
	ck_assert_str_eq(buf, "#GP(0)");
	ev = (struct vp_event){VP_EVENT_EXCEPTION, 6, false, 0};
	format_event(buf, sizeof(buf), &ev);
	ck_assert_str_eq(buf, "#UD");
	ev = (struct vp_event){VP_EVENT_NMI, 2, false, 0};
	format_event(buf, sizeof(buf), &ev);
	ck_assert_str_eq(buf, "NMI");
	ev = (struct vp_event){VP_EVENT_EXTINT, 0x30, false, 0};
	format_event(buf, sizeof(buf), &ev);
	ck_assert_str_eq(buf, "interrupt 0x30");

	format_tsc_seconds(buf, sizeof(buf), 3500000000ULL * 12 + 1750000000ULL, 3500000000ULL);
	ck_assert_str_eq(buf, "12.500000 s");
	format_tsc_seconds(buf, sizeof(buf), UINT64_MAX, 1000000000ULL);
	ck_assert_str_eq(buf, "18446744073.709551 s");
	format_tsc_seconds(buf, sizeof(buf), 5, 0);
	ck_assert_str_eq(buf, "? s");
	ck_assert_str_eq(vp_state_name(VP_RUNNING, false), "running");
	ck_assert_str_eq(vp_state_name(VP_RUNNING, true), "paused");
	ck_assert_str_eq(vp_state_name(VP_WAIT_FOR_SIPI, false), "wait-for-SIPI");
	ck_assert_str_eq(vp_state_name(200, false), "?");
}
END_TEST

static char regs_text[8192];
static int regs_lines;

static void regs_capture(void *ctx, const char *line)
{
	(void)ctx;
	ck_assert_msg(strlen(line) < 200, "line too long: %s", line);
	strcat(regs_text, line);
	strcat(regs_text, "\n");
	regs_lines++;
}

START_TEST(test_regs_format)
{
	struct vp_snapshot s;
	memset(&s, 0, sizeof(s));
	s.index = 1;
	s.cpu = 1;
	s.apic_id = 2;
	s.state = VP_RUNNING;
	for (int i = 0; i < VP_GPR_COUNT; i++)
		s.gpr[i] = 0x1111111111111111ULL * (u64)(i % 15 + 1);
	s.reg[VP_RIP] = 0xffffffff81000000ULL;
	s.reg[VP_RFLAGS] = 0x246;
	s.reg[VP_CR0] = 0x80050033;
	s.reg[VP_CR4] = 0x3506f0;
	s.reg[VP_EFER] = 0xd01;
	s.seg[VP_CS] = (struct segment){0x10, 0xa9b, 0xffffffff, 0};
	s.seg[VP_SS] = (struct segment){0x18, 0xc93, 0xffffffff, 0};
	s.seg[VP_GDTR] = (struct segment){0, 0, 0x7f, 0xfffffe0000001000ULL};
	s.exits = 1234;
	s.events_injected = 2;
	s.last_event = (struct vp_event){VP_EVENT_EXCEPTION, 14, true, 2};
	regs_text[0] = '\0';
	regs_lines = 0;
	vp_snapshot_print(&s, regs_capture, NULL);
	ck_assert_ptr_nonnull(strstr(regs_text, "vp1 (cpu 1, apic 2) VTL0 running: long mode, 64-bit, 4-level paging, CPL 0\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  RAX=1111111111111111 RCX=2222222222222222 RDX=3333333333333333 RBX=4444444444444444\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "R15=1111111111111111\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  RIP=ffffffff81000000 RFLAGS=0000000000000246 [PF ZF IF]\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  CR0=0000000080050033 [PE MP ET NE WP AM PG]\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  EFER=0000000000000d01 [SCE LME LMA NXE]\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  CS   sel=0010 base=0000000000000000 limit=ffffffff attr=a9b code XR accessed, DPL0, L, G\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  GDTR           base=fffffe0000001000 limit=0000007f\n"));
	ck_assert_ptr_nonnull(strstr(regs_text, "  exits=1234; events injected=2, the last one #PF(0x2)\n"));
	ck_assert_int_eq(regs_lines, 1 + 4 + 1 + 4 + 1 + 10 + 3 + 1);
	s.paused = true;
	s.events_injected = 0;
	regs_text[0] = '\0';
	vp_snapshot_print(&s, regs_capture, NULL);
	ck_assert_ptr_nonnull(strstr(regs_text, "VTL0 paused:"));
	ck_assert_ptr_nonnull(strstr(regs_text, "no event injected so far"));
}
END_TEST

static Suite *shell_suite(void)
{
	Suite *s = suite_create("shell");
	TCase *core = tcase_create("core");
	tcase_add_checked_fixture(core, setup, NULL);
	tcase_add_test(core, test_tokenize);
	tcase_add_test(core, test_execute_dispatch);
	tcase_add_test(core, test_execute_unknown);
	tcase_add_test(core, test_execute_arg_count);
	tcase_add_test(core, test_execute_long_input);
	tcase_add_test(core, test_output_lines);
	tcase_add_loop_test(core, test_number_args, 0, (int)(sizeof(num_cases) / sizeof(num_cases[0])));
	tcase_add_test(core, test_arg_u64_ranges);
	tcase_add_test(core, test_word_is);
	tcase_add_test(core, test_help);
	suite_add_tcase(s, core);

	TCase *input = tcase_create("input");
	tcase_add_test(input, test_escape);
	tcase_add_test(input, test_line_editor);
	tcase_add_test(input, test_line_editor_full);
	suite_add_tcase(s, input);

	TCase *fmt = tcase_create("format");
	tcase_add_test(fmt, test_hexdump);
	tcase_add_test(fmt, test_bits);
	tcase_add_test(fmt, test_segment_attr);
	tcase_add_test(fmt, test_cpu_mode);
	tcase_add_test(fmt, test_event_and_time);
	tcase_add_test(fmt, test_regs_format);
	suite_add_tcase(s, fmt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(shell_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
