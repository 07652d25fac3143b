/* unit-sources: kernel/cmdline.c tests/unit/fake_printk.c */
/* Command-line parser: accepted syntax, and every kind of malformed input
 * being reported (through the fake log) while leaving its target alone. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "tests/unit/fake_printk.h"

#define DEFAULT_BAUD 9600
#define DEFAULT_MEM 12345
#define DEFAULT_CPUS 4

static bool opt_debug;
static bool opt_quiet;
static u64 opt_baud;
static u64 opt_mem;
static u64 opt_cpus;
static char opt_console[8];
static char opt_name[16];
static int opt_mode;

static const char *const modes[] = { "auto", "vmx", "svm", NULL };

static const struct cmdline_opt opts[] = {
	{ .name = "debug", .type = OPT_FLAG, .target = &opt_debug, .help = "verbose log" },
	{ .name = "quiet", .type = OPT_FLAG, .target = &opt_quiet, .help = "less log" },
	{ .name = "baud", .type = OPT_UINT, .target = &opt_baud, .min = 300, .max = 115200,
	  .help = "serial speed" },
	{ .name = "mem", .type = OPT_UINT, .target = &opt_mem, .min = 0, .max = UINT64_MAX,
	  .help = "memory limit" },
	{ .name = "cpus", .type = OPT_UINT, .target = &opt_cpus, .min = 1, .max = 64,
	  .help = "CPUs to start" },
	{ .name = "console", .type = OPT_STRING, .target = opt_console,
	  .size = sizeof(opt_console), .help = "log device" },
	{ .name = "name", .type = OPT_STRING, .target = opt_name, .size = sizeof(opt_name),
	  .help = "guest name" },
	{ .name = "mode", .type = OPT_ENUM, .target = &opt_mode, .choices = modes,
	  .help = "virtualization backend" },
};

static void setup(void)
{
	opt_debug = false;
	opt_quiet = true;
	opt_baud = DEFAULT_BAUD;
	opt_mem = DEFAULT_MEM;
	opt_cpus = DEFAULT_CPUS;
	strcpy(opt_console, "vga");
	strcpy(opt_name, "guest0");
	opt_mode = -1;
	fake_printk_reset();
}

static int parse(const char *line)
{
	return cmdline_parse(line, opts, ARRAY_SIZE(opts));
}

static void assert_defaults(void)
{
	ck_assert(!opt_debug);
	ck_assert(opt_quiet);
	ck_assert_uint_eq(opt_baud, DEFAULT_BAUD);
	ck_assert_uint_eq(opt_mem, DEFAULT_MEM);
	ck_assert_uint_eq(opt_cpus, DEFAULT_CPUS);
	ck_assert_str_eq(opt_console, "vga");
	ck_assert_str_eq(opt_name, "guest0");
	ck_assert_int_eq(opt_mode, -1);
}

static void assert_clean(int ret)
{
	ck_assert_msg(ret == 0 && fake_printk_problems() == 0, "returned %d, log: %s", ret,
		      fake_printk_text());
}

/* ---- good paths ---------------------------------------------------------- */

START_TEST(test_empty_lines)
{
	assert_clean(parse(""));
	assert_clean(parse("   \t  \r\n"));
	assert_clean(cmdline_parse(NULL, opts, ARRAY_SIZE(opts)));
	assert_clean(cmdline_parse("", NULL, 0));
	assert_defaults();
	ck_assert_str_eq(fake_printk_text(), "");
}
END_TEST

START_TEST(test_bare_flag)
{
	assert_clean(parse("debug"));
	ck_assert(opt_debug);
}
END_TEST

struct flag_case {
	const char *line;
	bool want;
};

static const struct flag_case flag_cases[] = {
	{ "quiet=on", true },     { "quiet=1", true },     { "quiet=yes", true },
	{ "quiet=true", true },   { "quiet=ON", true },    { "quiet=Yes", true },
	{ "quiet=\"on\"", true }, { "debug=on debug", true },
	{ "quiet=off", false },   { "quiet=0", false },    { "quiet=no", false },
	{ "quiet=false", false }, { "quiet=OFF", false },  { "quiet=False", false },
	{ "quiet quiet=no", false },
};

START_TEST(test_flag_values)
{
	const struct flag_case *c = &flag_cases[_i];
	/* Start each flag opposite to the expected result so the write shows. */
	opt_quiet = opt_debug = !c->want;
	assert_clean(parse(c->line));
	bool got = strncmp(c->line, "debug", 5) == 0 ? opt_debug : opt_quiet;
	ck_assert_msg(got == c->want, "'%s' gave %d", c->line, got);
}
END_TEST

struct uint_case {
	const char *line;
	u64 *target;
	u64 want;
};

static const struct uint_case uint_cases[] = {
	{ "baud=115200", &opt_baud, 115200 },
	{ "baud=300", &opt_baud, 300 },
	{ "baud=0x4b00", &opt_baud, 19200 },
	{ "cpus=007", &opt_cpus, 7 }, /* decimal despite the leading zero */
	{ "cpus=64", &opt_cpus, 64 },
	{ "cpus=1", &opt_cpus, 1 },
	{ "mem=0", &opt_mem, 0 },
	{ "mem=0x1000", &opt_mem, 0x1000 },
	{ "mem=0XdeadBEEF", &opt_mem, 0xdeadbeef },
	{ "mem=4k", &opt_mem, 4096 },
	{ "mem=16M", &opt_mem, 16ULL << 20 },
	{ "mem=2g", &opt_mem, 2ULL << 30 },
	{ "mem=0x10K", &opt_mem, 16ULL << 10 },
	{ "mem=18446744073709551615", &opt_mem, UINT64_MAX },
	{ "mem=0xffffffffffffffff", &opt_mem, UINT64_MAX },
	{ "mem=17179869183G", &opt_mem, 17179869183ULL << 30 },
	{ "mem=\"42\"", &opt_mem, 42 },
};

START_TEST(test_uint_values)
{
	const struct uint_case *c = &uint_cases[_i];
	assert_clean(parse(c->line));
	ck_assert_msg(*c->target == c->want, "'%s' gave %llu", c->line,
		      (unsigned long long)*c->target);
}
END_TEST

START_TEST(test_strings)
{
	assert_clean(parse("console=ttyS0"));
	ck_assert_str_eq(opt_console, "ttyS0");
	assert_clean(parse("console=1234567")); /* exactly fills the 8-byte buffer */
	ck_assert_str_eq(opt_console, "1234567");
	assert_clean(parse("name=\"a b\tc\""));
	ck_assert_str_eq(opt_name, "a b\tc");
	assert_clean(parse("name=a=b"));
	ck_assert_str_eq(opt_name, "a=b");
	assert_clean(parse("name=\"\""));
	ck_assert_str_eq(opt_name, "");
	assert_clean(parse("name=\"x=\\y\""));
	ck_assert_str_eq(opt_name, "x=\\y");
}
END_TEST

START_TEST(test_enum)
{
	assert_clean(parse("mode=svm"));
	ck_assert_int_eq(opt_mode, 2);
	assert_clean(parse("mode=auto"));
	ck_assert_int_eq(opt_mode, 0);
	assert_clean(parse("mode=VMX"));
	ck_assert_int_eq(opt_mode, 1);
	assert_clean(parse("mode=\"svm\""));
	ck_assert_int_eq(opt_mode, 2);
}
END_TEST

START_TEST(test_many_tokens_and_blanks)
{
	assert_clean(parse("  debug\tbaud=38400   mode=vmx \n name=\"x y\"\r\nconsole=com1 quiet=no  "));
	ck_assert(opt_debug);
	ck_assert(!opt_quiet);
	ck_assert_uint_eq(opt_baud, 38400);
	ck_assert_int_eq(opt_mode, 1);
	ck_assert_str_eq(opt_name, "x y");
	ck_assert_str_eq(opt_console, "com1");
	ck_assert_uint_eq(opt_mem, DEFAULT_MEM);
}
END_TEST

START_TEST(test_last_wins)
{
	assert_clean(parse("baud=19200 baud=57600"));
	ck_assert_uint_eq(opt_baud, 57600);
	assert_clean(parse("debug debug=off"));
	ck_assert(!opt_debug);
	assert_clean(parse("name=first name=\"second one\""));
	ck_assert_str_eq(opt_name, "second one");
	assert_clean(parse("mode=vmx mode=auto"));
	ck_assert_int_eq(opt_mode, 0);
}
END_TEST

/* A bad repeat does not undo the good value before it. */
START_TEST(test_bad_repeat_keeps_earlier_value)
{
	ck_assert_int_eq(parse("baud=19200 baud=12x"), 1);
	ck_assert_uint_eq(opt_baud, 19200);
	ck_assert_int_eq(parse("console=ttyS1 console=waytoolongvalue"), 1);
	ck_assert_str_eq(opt_console, "ttyS1");
	ck_assert_int_eq(fake_printk_problems(), 2);
}
END_TEST

/* ---- malformed input: one report each, nothing changed -------------------- */

struct bad_case {
	const char *line;
	const char *msg; /* must appear in the log */
};

static const struct bad_case bad_cases[] = {
	{ "foo", "cmdline: unknown option 'foo'" },
	{ "foo=bar", "cmdline: unknown option 'foo'" },
	{ "Debug", "cmdline: unknown option 'Debug'" },
	{ "debu", "cmdline: unknown option 'debu'" },
	{ "debugx=1", "cmdline: unknown option 'debugx'" },
	{ "\"debug\"", "cmdline: unknown option '\"debug\"'" },
	{ "=5", "cmdline: missing option name in '=5'" },
	{ "=", "cmdline: missing option name in '='" },
	{ "baud=12x", "cmdline: option 'baud': value '12x' is not a number" },
	{ "baud=-1", "option 'baud': value '-1' is not a number" },
	{ "baud=+5", "option 'baud': value '+5' is not a number" },
	{ "baud=1.5", "option 'baud': value '1.5' is not a number" },
	{ "baud=1e3", "option 'baud': value '1e3' is not a number" },
	{ "baud=0b101", "option 'baud': value '0b101' is not a number" },
	{ "mem=0xZZ", "option 'mem': value '0xZZ' is not a number" },
	{ "mem=0x", "option 'mem': value '0x' is not a number" },
	{ "mem=0x12g3", "option 'mem': value '0x12g3' is not a number" },
	{ "mem=K", "option 'mem': value 'K' is not a number" },
	{ "mem=1KB", "option 'mem': value '1KB' is not a number" },
	{ "mem=1T", "option 'mem': value '1T' is not a number" },
	{ "mem=1_000", "option 'mem': value '1_000' is not a number" },
	{ "mem=99999999999999999999", "option 'mem': value '99999999999999999999' is too large" },
	{ "mem=18446744073709551616", "option 'mem': value '18446744073709551616' is too large" },
	{ "mem=0x10000000000000000", "option 'mem': value '0x10000000000000000' is too large" },
	{ "mem=17179869184G", "option 'mem': value '17179869184G' is too large" },
	{ "mem=0xffffffffffffffffK", "is too large" },
	{ "baud=299", "option 'baud': value '299' is out of range [300, 115200]" },
	{ "baud=115201", "option 'baud': value '115201' is out of range [300, 115200]" },
	{ "cpus=0", "option 'cpus': value '0' is out of range [1, 64]" },
	{ "cpus=1K", "option 'cpus': value '1K' is out of range [1, 64]" },
	{ "baud=", "cmdline: option 'baud': missing value" },
	{ "baud", "cmdline: option 'baud': missing value" },
	{ "baud=\"\"", "cmdline: option 'baud': missing value" },
	{ "console=", "cmdline: option 'console': missing value" },
	{ "console", "cmdline: option 'console': missing value" },
	{ "mode=", "cmdline: option 'mode': missing value" },
	{ "mode", "cmdline: option 'mode': missing value" },
	{ "debug=", "cmdline: option 'debug': missing value" },
	{ "debug=maybe", "option 'debug': value 'maybe' is not a boolean" },
	{ "debug=2", "option 'debug': value '2' is not a boolean" },
	{ "debug=onn", "option 'debug': value 'onn' is not a boolean" },
	{ "console=12345678", "option 'console': value is too long (8 characters, at most 7)" },
	{ "console=\"a b c d e\"", "option 'console': value is too long (9 characters, at most 7)" },
	{ "mode=kvm", "option 'mode': value 'kvm' is not one of: auto, vmx, svm" },
	{ "mode=vmxx", "option 'mode': value 'vmxx' is not one of: auto, vmx, svm" },
	{ "mode=0", "option 'mode': value '0' is not one of" },
	{ "name=\"abc def", "cmdline: unterminated quote in 'name=\"abc def'" },
	{ "name=\"abc baud=300 debug", "unterminated quote" },
	{ "foo=\"", "unterminated quote" },
	{ "\"", "unterminated quote" },
	{ "name=ab\"c d\"", "option 'name': misplaced quote in value 'ab\"c d\"'" },
	{ "name=\"a b\"c", "option 'name': misplaced quote in value '\"a b\"c'" },
	{ "name=\"a\"\"b\"", "option 'name': misplaced quote" },
	{ "baud=\"9600", "unterminated quote" },
};

START_TEST(test_bad_input)
{
	const struct bad_case *c = &bad_cases[_i];
	int ret = parse(c->line);
	ck_assert_msg(ret == 1, "'%s' returned %d", c->line, ret);
	ck_assert_msg(fake_printk_problems() == 1, "'%s': %d problems logged: %s", c->line,
		      fake_printk_problems(), fake_printk_text());
	ck_assert_msg(fake_printk_contains(c->msg), "'%s': log lacks \"%s\", has: %s", c->line,
		      c->msg, fake_printk_text());
	assert_defaults();
}
END_TEST

START_TEST(test_parsing_continues_after_problems)
{
	int ret = parse("foo baud=12x debug bar=1 mode=kvm cpus=8 console=waytoolong name=ok");
	ck_assert_int_eq(ret, 5);
	ck_assert_int_eq(fake_printk_problems(), 5);
	ck_assert(opt_debug);
	ck_assert_uint_eq(opt_cpus, 8);
	ck_assert_str_eq(opt_name, "ok");
	ck_assert_uint_eq(opt_baud, DEFAULT_BAUD);
	ck_assert_int_eq(opt_mode, -1);
	ck_assert_str_eq(opt_console, "vga");
	ck_assert(fake_printk_contains("unknown option 'foo'"));
	ck_assert(fake_printk_contains("unknown option 'bar'"));
}
END_TEST

/* Everything before the unterminated quote still applies; everything after
 * it was swallowed by the quote and is ignored. */
START_TEST(test_unterminated_quote_swallows_rest)
{
	ck_assert_int_eq(parse("debug name=\"abc baud=300"), 1);
	ck_assert(opt_debug);
	ck_assert_uint_eq(opt_baud, DEFAULT_BAUD);
	ck_assert_str_eq(opt_name, "guest0");
	ck_assert(fake_printk_contains("rest of the line ignored"));
}
END_TEST

START_TEST(test_string_buffer_of_size_zero_and_one)
{
	char tiny[1] = { 'x' };
	char none[1] = { 'y' };
	const struct cmdline_opt t[] = {
		{ .name = "t", .type = OPT_STRING, .target = tiny, .size = sizeof(tiny) },
		{ .name = "z", .type = OPT_STRING, .target = none, .size = 0 },
	};
	ck_assert_int_eq(cmdline_parse("t=\"\"", t, 2), 0);
	ck_assert_int_eq(tiny[0], '\0');
	ck_assert_int_eq(cmdline_parse("t=a", t, 2), 1);
	ck_assert(fake_printk_contains("option 't': value is too long (1 characters, at most 0)"));
	ck_assert_int_eq(cmdline_parse("z=\"\"", t, 2), 1);
	ck_assert_int_eq(none[0], 'y');
}
END_TEST

/* The list of choices in the message is cut short rather than overflowing. */
START_TEST(test_enum_long_choice_list)
{
	static const char *const many[] = {
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		"cccccccccccccccccccccccccccccc", "dddddddddddddddddddddddddddddd",
		"eeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "ffffffffffffffffffffffffffffff",
		"gggggggggggggggggggggggggggggg", NULL,
	};
	int v = 99;
	const struct cmdline_opt o[] = {
		{ .name = "e", .type = OPT_ENUM, .target = &v, .choices = many },
	};
	ck_assert_int_eq(cmdline_parse("e=x", o, 1), 1);
	ck_assert(fake_printk_contains("is not one of: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbb"));
	ck_assert(fake_printk_contains("..."));
	ck_assert(!fake_printk_contains("gggggggggggggggggggggggggggggg"));
	ck_assert_int_eq(v, 99);
	ck_assert_int_eq(cmdline_parse("e=gggggggggggggggggggggggggggggg", o, 1), 0);
	ck_assert_int_eq(v, 6);
}
END_TEST

START_TEST(test_help)
{
	cmdline_print_help(opts, ARRAY_SIZE(opts));
	ck_assert_int_eq(fake_printk_problems(), 0);
	ck_assert(fake_printk_contains("debug[=on|off]  verbose log"));
	ck_assert(fake_printk_contains("baud=<300..115200>  serial speed"));
	ck_assert(fake_printk_contains("console=<text, at most 7 characters>  log device"));
	ck_assert(fake_printk_contains("mode=auto|vmx|svm  virtualization backend"));
}
END_TEST

/* Random lines over an alphabet rich in syntax characters: the parser must
 * never crash (ASan/UBSan watch), must report exactly as many problems as it
 * returns, and must leave every string target terminated. */
static u64 rng_state = 0x243f6a8885a308d3ULL;
static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

START_TEST(test_random_lines)
{
	static const char *const pieces[] = {
		"debug", "baud", "mem", "mode", "console", "name", "cpus", "quiet", "=", "=",
		"\"", " ", "\t", "0x", "1", "9", "99999999999", "K", "G", "on", "vmx", "x", "-",
		"abcdefgh",
	};

	for (int i = 0; i < 5000; i++) {
		char line[128];
		size_t n = 0;
		int parts = (int)(rng() % 12);
		for (int j = 0; j < parts; j++) {
			const char *p = pieces[rng() % ARRAY_SIZE(pieces)];
			size_t l = strlen(p);
			if (n + l >= sizeof(line))
				break;
			memcpy(line + n, p, l);
			n += l;
		}
		line[n] = '\0';

		fake_printk_reset();
		int ret = parse(line);
		ck_assert_msg(ret >= 0 && ret == fake_printk_problems(),
			      "'%s' returned %d but logged %d problems", line, ret,
			      fake_printk_problems());
		ck_assert(memchr(opt_console, '\0', sizeof(opt_console)) != NULL);
		ck_assert(memchr(opt_name, '\0', sizeof(opt_name)) != NULL);
		ck_assert(opt_baud >= 300 && opt_baud <= 115200);
		ck_assert(opt_cpus >= 1 && opt_cpus <= 64);
		ck_assert(opt_mode >= -1 && opt_mode <= 2);
	}
}
END_TEST

/* ---- parse_u64 on its own ------------------------------------------------ */

struct num_case {
	const char *s;
	u64 want;
};

static const struct num_case good_numbers[] = {
	{ "0", 0 },
	{ "42", 42 },
	{ "0000", 0 },
	{ "0x0", 0 },
	{ "0x1f", 0x1f },
	{ "0XAbC", 0xabc },
	{ "0xFFFFffffFFFFffff", UINT64_MAX },
	{ "18446744073709551615", UINT64_MAX },
	{ "1K", 1024 },
	{ "1k", 1024 },
	{ "3M", 3ULL << 20 },
	{ "2G", 2ULL << 30 },
	{ "0x10k", 16384 },
	{ "0K", 0 },
	{ "17179869183G", 17179869183ULL << 30 },
	{ "17592186044415M", 17592186044415ULL << 20 },
};

START_TEST(test_parse_u64_good)
{
	const struct num_case *c = &good_numbers[_i];
	u64 v = 777;
	ck_assert_msg(parse_u64(c->s, strlen(c->s), &v), "'%s' rejected", c->s);
	ck_assert_msg(v == c->want, "'%s' gave %llu", c->s, (unsigned long long)v);
}
END_TEST

static const char *const bad_numbers[] = {
	"", "x", "0x", "0X", "-1", "+1", " 1", "1 ", "1.0", "18446744073709551616",
	"0x10000000000000000", "99999999999999999999999999", "1KK", "K", "k", "1T",
	"0b101", "0xg", "1_000", "0x 1", "12a", "a12", "0x1G0", "17179869184G",
	"17592186044416M", "0xffffffffffffffffK", "G1", "0xK", "\"1\"",
};

START_TEST(test_parse_u64_bad)
{
	const char *s = bad_numbers[_i];
	u64 v = 777;
	ck_assert_msg(!parse_u64(s, strlen(s), &v), "'%s' accepted as %llu", s,
		      (unsigned long long)v);
	ck_assert_uint_eq(v, 777);
}
END_TEST

/* Exactly len bytes are read; nothing needs to be terminated. */
START_TEST(test_parse_u64_length)
{
	u64 v = 0;
	ck_assert(parse_u64("12345", 3, &v));
	ck_assert_uint_eq(v, 123);
	ck_assert(parse_u64("0x1fzz", 4, &v));
	ck_assert_uint_eq(v, 0x1f);
	ck_assert(parse_u64("4K and more", 2, &v));
	ck_assert_uint_eq(v, 4096);

	char *raw = malloc(3); /* unterminated: ASan flags any read past it */
	memcpy(raw, "0x7", 3);
	ck_assert(parse_u64(raw, 3, &v));
	ck_assert_uint_eq(v, 7);
	free(raw);

	v = 5;
	ck_assert(!parse_u64(NULL, 0, &v));
	ck_assert(!parse_u64("1\0" "2", 3, &v));
	ck_assert(!parse_u64("12", 0, &v));
	ck_assert_uint_eq(v, 5);
}
END_TEST

static Suite *cmdline_suite(void)
{
	Suite *s = suite_create("cmdline");

	TCase *good = tcase_create("good");
	tcase_add_checked_fixture(good, setup, NULL);
	tcase_add_test(good, test_empty_lines);
	tcase_add_test(good, test_bare_flag);
	tcase_add_loop_test(good, test_flag_values, 0, (int)ARRAY_SIZE(flag_cases));
	tcase_add_loop_test(good, test_uint_values, 0, (int)ARRAY_SIZE(uint_cases));
	tcase_add_test(good, test_strings);
	tcase_add_test(good, test_enum);
	tcase_add_test(good, test_many_tokens_and_blanks);
	tcase_add_test(good, test_last_wins);
	tcase_add_test(good, test_help);
	suite_add_tcase(s, good);

	TCase *bad = tcase_create("bad");
	tcase_add_checked_fixture(bad, setup, NULL);
	tcase_add_loop_test(bad, test_bad_input, 0, (int)ARRAY_SIZE(bad_cases));
	tcase_add_test(bad, test_bad_repeat_keeps_earlier_value);
	tcase_add_test(bad, test_parsing_continues_after_problems);
	tcase_add_test(bad, test_unterminated_quote_swallows_rest);
	tcase_add_test(bad, test_string_buffer_of_size_zero_and_one);
	tcase_add_test(bad, test_enum_long_choice_list);
	tcase_add_test(bad, test_random_lines);
	suite_add_tcase(s, bad);

	TCase *num = tcase_create("parse_u64");
	tcase_add_loop_test(num, test_parse_u64_good, 0, (int)ARRAY_SIZE(good_numbers));
	tcase_add_loop_test(num, test_parse_u64_bad, 0, (int)ARRAY_SIZE(bad_numbers));
	tcase_add_test(num, test_parse_u64_length);
	suite_add_tcase(s, num);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmdline_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
