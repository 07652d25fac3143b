/* Records kernel log output in memory; uses the host C library to format so
 * that it does not depend on the code under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/printk.h"
#include "tests/unit/fake_printk.h"

static char log_text[1 << 16];
static size_t log_used;
static int log_problems;

void fake_printk_reset(void)
{
	log_used = 0;
	log_text[0] = '\0';
	log_problems = 0;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	if (level <= LOG_WARN)
		log_problems++;
	if (log_used >= sizeof(log_text) - 1)
		return;
	int n = vsnprintf(log_text + log_used, sizeof(log_text) - log_used, fmt, ap);
	if (n > 0)
		log_used += (size_t)n;
	if (log_used >= sizeof(log_text))
		log_used = sizeof(log_text) - 1;
	/* HV_UNIT_VERBOSE=1 echoes the log, handy when a test fails. */
	if (getenv("HV_UNIT_VERBOSE") && n > 0)
		fputs(log_text + log_used - (size_t)MIN((size_t)n, log_used), stderr);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

bool fake_printk_contains(const char *needle)
{
	return strstr(log_text, needle) != NULL;
}

int fake_printk_problems(void)
{
	return log_problems;
}

const char *fake_printk_text(void)
{
	return log_text;
}
