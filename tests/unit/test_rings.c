/* unit-sources: kernel/logring.c kernel/vm/trace.c kernel/vm/exit_stats.c kernel/lib/format.c */
/* The shell's ring buffers and counters: the log ring (wrap-around, whole
 * lines only, readers that fall behind), the console-input SPSC ring (also
 * with a real second thread), the exit-trace ring (per-slot seqlock; a
 * concurrent writer never shows a torn record) and its text form, and the
 * top-N exit counters. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/lib/spsc_ring.h"
#include "kernel/logring.h"
#include "kernel/vm/exit_stats.h"
#include "kernel/vm/trace.h"
#include "kernel/vm/vm.h"

/* ---- log ring ------------------------------------------------------------------ */

static char ring_buf[256];
static struct logring lr;

static void lr_setup(void)
{
	memset(ring_buf, '#', sizeof(ring_buf));
	logring_init(&lr, ring_buf, sizeof(ring_buf));
}

static void put_line(const char *s)
{
	logring_write(&lr, s, strlen(s));
}

/* All lines from pos, concatenated. */
static void read_all(u64 pos, char *out, size_t size, u64 *skipped)
{
	char line[300];
	out[0] = '\0';
	while (logring_read_line(&lr, &pos, line, sizeof(line), skipped))
		strncat(out, line, size - strlen(out) - 1);
}

START_TEST(test_logring_basic)
{
	char all[1024];
	u64 pos = 0;
	char line[64];

	ck_assert(!logring_read_line(&lr, &pos, line, sizeof(line), NULL));
	ck_assert_str_eq(line, "");
	put_line("one\n");
	put_line("two"); /* the missing '\n' is added */
	put_line("");	 /* an empty line is one '\n' */
	read_all(0, all, sizeof(all), NULL);
	ck_assert_str_eq(all, "one\ntwo\n\n");
	ck_assert_uint_eq(lr.head, 9);
	ck_assert_uint_eq(logring_last_lines(&lr, 1), 8);
	ck_assert_uint_eq(logring_last_lines(&lr, 2), 4);
	ck_assert_uint_eq(logring_last_lines(&lr, 3), 0);
	ck_assert_uint_eq(logring_last_lines(&lr, 99), 0);
	ck_assert_uint_eq(logring_last_lines(&lr, 0), lr.head);
}
END_TEST

START_TEST(test_logring_wrap)
{
	char all[4096], want[4096] = "";
	char line[64];

	/* 100 lines of 12 bytes through a 256-byte ring. */
	for (int i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line %06d\n", i);
		put_line(line);
	}
	ck_assert_uint_le(lr.head - lr.tail, sizeof(ring_buf));
	read_all(0, all, sizeof(all), NULL);
	/* Whatever survived is whole lines, the newest last, in order. */
	int first = 100 - (int)strlen(all) / 12;
	for (int i = first; i < 100; i++) {
		snprintf(line, sizeof(line), "line %06d\n", i);
		strcat(want, line);
	}
	ck_assert_str_eq(all, want);
	ck_assert_int_eq(first, 100 - 256 / 12);
	ck_assert_uint_eq(lr.lines_dropped, (u64)first);
	/* The last 3 lines. */
	read_all(logring_last_lines(&lr, 3), all, sizeof(all), NULL);
	ck_assert_str_eq(all, "line 000097\nline 000098\nline 000099\n");
}
END_TEST

START_TEST(test_logring_reader_overtaken)
{
	char line[64];
	u64 pos = 0, skipped = 0;

	put_line("first line\n");
	put_line("second line\n");
	ck_assert(logring_read_line(&lr, &pos, line, sizeof(line), &skipped));
	ck_assert_str_eq(line, "first line\n");
	/* Writers wrap around the ring twice while the reader waits. */
	for (int i = 0; i < 60; i++)
		put_line("filler filler\n");
	ck_assert(logring_read_line(&lr, &pos, line, sizeof(line), &skipped));
	ck_assert_str_eq(line, "filler filler\n");
	ck_assert_uint_gt(skipped, 0);
	ck_assert_uint_eq(pos - 14, lr.tail); /* moved to the oldest whole line */
}
END_TEST

START_TEST(test_logring_long_and_partial)
{
	char big[400], all[1024], line[8];
	u64 pos = 0;

	memset(big, 'x', sizeof(big));
	/* Longer than half the ring: cut to 127 bytes plus '\n'. */
	logring_write(&lr, big, sizeof(big));
	ck_assert_uint_eq(lr.head, sizeof(ring_buf) / 2);
	read_all(0, all, sizeof(all), NULL);
	ck_assert_uint_eq(strlen(all), 128);
	ck_assert_int_eq(all[127], '\n');
	/* Also when it does end in '\n'. */
	big[sizeof(big) - 1] = '\n';
	logring_write(&lr, big, sizeof(big));
	ck_assert_uint_eq(lr.head - lr.tail, 256); /* two such lines fill it exactly */
	/* A small output buffer gets a terminated prefix; the reader still
	 * moves to the next line. */
	put_line("abcdefghijkl\n");
	pos = logring_last_lines(&lr, 1);
	ck_assert(logring_read_line(&lr, &pos, line, sizeof(line), NULL));
	ck_assert_str_eq(line, "abcdefg");
	ck_assert_uint_eq(pos, lr.head);
}
END_TEST

/* ---- SPSC ring ------------------------------------------------------------------------ */

START_TEST(test_spsc_basic)
{
	u16 buf[8], v;
	struct spsc_ring r;

	spsc_init(&r, buf, 8);
	ck_assert(!spsc_pop(&r, &v));
	ck_assert_uint_eq(spsc_space(&r), 8);
	for (u16 i = 0; i < 8; i++)
		ck_assert(spsc_push(&r, (u16)(0x100 + i)));
	ck_assert(!spsc_push(&r, 1));
	ck_assert_uint_eq(spsc_count(&r), 8);
	ck_assert_uint_eq(spsc_space(&r), 0);
	for (u16 i = 0; i < 8; i++) {
		ck_assert(spsc_pop(&r, &v));
		ck_assert_uint_eq(v, 0x100 + i);
	}
	ck_assert(!spsc_pop(&r, &v));
	/* Indices keep counting past the u32 wrap. */
	r.head = r.tail = 0xFFFFFFFEu;
	for (u16 i = 0; i < 5; i++)
		ck_assert(spsc_push(&r, i));
	ck_assert_uint_eq(spsc_count(&r), 5);
	for (u16 i = 0; i < 5; i++) {
		ck_assert(spsc_pop(&r, &v));
		ck_assert_uint_eq(v, i);
	}
}
END_TEST

#define SPSC_ITEMS 50000
static struct spsc_ring spsc_shared;
static u16 spsc_shared_buf[64];

static void *spsc_producer(void *arg)
{
	(void)arg;
	for (u32 i = 0; i < SPSC_ITEMS;) {
		if (spsc_push(&spsc_shared, (u16)i))
			i++;
		else
			sched_yield(); /* a loaded test machine may run both on one core */
	}
	return NULL;
}

START_TEST(test_spsc_threads)
{
	pthread_t t;
	u16 v;

	spsc_init(&spsc_shared, spsc_shared_buf, 64);
	ck_assert_int_eq(pthread_create(&t, NULL, spsc_producer, NULL), 0);
	for (u32 i = 0; i < SPSC_ITEMS;) {
		if (!spsc_pop(&spsc_shared, &v)) {
			sched_yield();
			continue;
		}
		ck_assert_uint_eq(v, (u16)i);
		i++;
	}
	pthread_join(t, NULL);
	ck_assert(!spsc_pop(&spsc_shared, &v));
}
END_TEST

/* ---- trace ring ------------------------------------------------------------------------- */

static struct trace_rec recs[8];
static struct trace_ring tr;

static void tr_setup(void)
{
	trace_ring_init(&tr, recs, 8);
}

static void record(u64 rip)
{
	struct trace_rec *r = trace_ring_begin(&tr);
	r->rip = rip;
	r->reason = VM_EXIT_CPUID;
	trace_ring_publish(&tr, r);
}

START_TEST(test_trace_ring_wrap)
{
	struct trace_rec out;

	ck_assert_uint_eq(trace_ring_head(&tr), 0);
	ck_assert(!trace_ring_read(&tr, 0, &out));
	for (u64 i = 0; i < 20; i++)
		record(0x1000 + i);
	ck_assert_uint_eq(trace_ring_head(&tr), 20);
	ck_assert_uint_eq(trace_ring_oldest(&tr), 12);
	for (u64 i = 0; i < 12; i++)
		ck_assert(!trace_ring_read(&tr, i, &out)); /* overwritten */
	for (u64 i = 12; i < 20; i++) {
		ck_assert(trace_ring_read(&tr, i, &out));
		ck_assert_uint_eq(out.rip, 0x1000 + i);
		ck_assert_uint_eq(out.seq, i + 1);
	}
	ck_assert(!trace_ring_read(&tr, 20, &out)); /* not written yet */
}
END_TEST

START_TEST(test_trace_ring_in_progress)
{
	struct trace_rec out;

	record(1);
	struct trace_rec *r = trace_ring_begin(&tr);
	r->rip = 2;
	/* Begun, not published: invisible.  The older record is still there. */
	ck_assert(!trace_ring_read(&tr, 1, &out));
	ck_assert(trace_ring_read(&tr, 0, &out));
	trace_ring_publish(&tr, r);
	ck_assert(trace_ring_read(&tr, 1, &out));
	ck_assert(!(out.flags & TRACE_F_DONE));
	/* Completing the newest record after the handler. */
	trace_ring_reopen(r);
	ck_assert(!trace_ring_read(&tr, 1, &out));
	r->flags |= TRACE_F_DONE;
	r->value = 77;
	trace_ring_publish(&tr, r);
	ck_assert(trace_ring_read(&tr, 1, &out));
	ck_assert_uint_eq(out.value, 77);
	ck_assert(out.flags & TRACE_F_DONE);
	/* A new record clears the whole slot. */
	for (int i = 0; i < 8; i++)
		record(3);
	ck_assert(trace_ring_read(&tr, 9, &out));
	ck_assert_uint_eq(out.value, 0);
}
END_TEST

/* A writer thread fills records whose fields all equal the index; readers
 * must never see a mixture. */
#define TRACE_WRITES 100000
static struct trace_rec stress_recs[4];
static struct trace_ring stress;
static volatile int stress_done, stress_reading;

static void *trace_writer(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stress_reading, __ATOMIC_ACQUIRE))
		sched_yield();
	for (u64 i = 0; i < TRACE_WRITES; i++) {
		struct trace_rec *r = trace_ring_begin(&stress);
		r->tsc = r->rip = r->qual = r->addr = r->value = i;
		trace_ring_publish(&stress, r);
	}
	__atomic_store_n(&stress_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_trace_ring_concurrent)
{
	pthread_t t;
	u64 ok = 0;

	trace_ring_init(&stress, stress_recs, 4);
	stress_done = 0;
	stress_reading = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, trace_writer, NULL), 0);
	__atomic_store_n(&stress_reading, 1, __ATOMIC_RELEASE);
	/* One more pass after the writer is done: then every slot reads. */
	for (int last = 0; last < 2; last += __atomic_load_n(&stress_done, __ATOMIC_ACQUIRE)) {
		u64 head = trace_ring_head(&stress);
		for (u64 i = trace_ring_oldest(&stress); i < head; i++) {
			struct trace_rec out;
			if (!trace_ring_read(&stress, i, &out))
				continue;
			ck_assert_uint_eq(out.tsc, i);
			ck_assert_uint_eq(out.rip, i);
			ck_assert_uint_eq(out.qual, i);
			ck_assert_uint_eq(out.addr, i);
			ck_assert_uint_eq(out.value, i);
			ok++;
		}
		sched_yield();
	}
	pthread_join(t, NULL);
	ck_assert_uint_gt(ok, 0);
}
END_TEST

static void fmt(const struct trace_rec *r, char *buf, size_t size)
{
	trace_format(r, 41, 1000, 1000000, buf, size);
}

START_TEST(test_trace_format)
{
	char buf[256];
	struct trace_rec r;

	memset(&r, 0, sizeof(r));
	r.tsc = 1000 + 2500000; /* 2.5 s at 1 MHz */
	r.rip = 0x101234;
	r.reason = VM_EXIT_IO;
	r.hw_reason = 0x7b;
	r.qual = 0x3f80010;
	r.info = 0x3f8;
	r.info2 = 1;
	r.value = 'A';
	r.flags = TRACE_F_DONE;
	fmt(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "#41 t=2.500000s VTL0 rip=101234 io out port 0x3f8 size 1 <- 0x41 'A' [hw 0x7b q 0x3f80010]");

	r.flags = TRACE_F_DONE | TRACE_F_IO_IN;
	r.info = 0x3fd;
	r.value = 0x61;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, " io in port 0x3fd size 1 -> 0x61 'a' ["));

	memset(&r, 0, sizeof(r));
	r.reason = VM_EXIT_MSR_READ;
	r.info = 0x1b;
	r.flags = TRACE_F_DONE | TRACE_F_EVENT;
	r.event_type = VP_EVENT_EXCEPTION;
	r.event_vector = 13;
	r.event_has_error = 1;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "tsc=0 VTL0 rip=0 rdmsr msr 0x1b inject #GP(0) [hw 0 q 0]"));

	r.flags = TRACE_F_DONE;
	r.value = 0xd01;
	r.info = 0xc0000080;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "rdmsr msr 0xc0000080 -> 0xd01 ["));

	memset(&r, 0, sizeof(r));
	r.reason = VM_EXIT_CPUID;
	r.info = 0x80000001;
	r.info2 = 0;
	r.value = 0x0000000100000002ULL;
	r.value2 = 0x0000000400000003ULL;
	r.flags = TRACE_F_DONE;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "cpuid leaf 0x80000001.0x0 -> 00000002 00000001 00000003 00000004 ["));

	memset(&r, 0, sizeof(r));
	r.reason = VM_EXIT_SLAT_VIOLATION;
	r.addr = 0xfee00000;
	r.info2 = 2;
	r.qual2 = 0xfee00000;
	r.flags = TRACE_F_DONE;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "slat-violation gpa 0xfee00000 write (not mapped) [hw 0 q 0 q2 0xfee00000]"));

	memset(&r, 0, sizeof(r));
	r.reason = VM_EXIT_TRIPLE_FAULT;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "triple-fault (handler not finished)"));
	r.reason = VM_EXIT_HLT;
	r.flags = TRACE_F_DONE;
	r.action = 1;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "hlt -> vp halted"));
	r.reason = 250;
	fmt(&r, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, " ? -> vp halted"));

	/* snprintf-like truncation. */
	char small[12];
	trace_format(&r, 41, 0, 0, small, sizeof(small));
	ck_assert_str_eq(small, "#41 tsc=0 V");
}
END_TEST

/* ---- key counters ------------------------------------------------------------------------- */

START_TEST(test_key_counter)
{
	static struct key_counter kc;
	struct key_count top[4];

	key_counter_reset(&kc);
	ck_assert_uint_eq(key_counter_top(&kc, top, 4), 0);
	for (int i = 0; i < 10; i++)
		key_counter_add(&kc, 0xc0000080);
	for (int i = 0; i < 5; i++)
		key_counter_add(&kc, 0x1b | EXIT_KEY_WRITE);
	for (int i = 0; i < 5; i++)
		key_counter_add(&kc, 0x10);
	key_counter_add(&kc, 0x3f8);
	key_counter_add(&kc, 0x3f9);
	ck_assert_uint_eq(key_counter_top(&kc, top, 4), 4);
	ck_assert_uint_eq(top[0].key, 0xc0000080);
	ck_assert_uint_eq(top[0].count, 10);
	ck_assert_uint_eq(top[1].key, 0x10); /* ties: smaller key first */
	ck_assert_uint_eq(top[2].key, 0x1b | EXIT_KEY_WRITE);
	ck_assert_uint_eq(top[3].key, 0x3f8);
	ck_assert_uint_eq(key_counter_top(&kc, top, 1), 1);
	ck_assert_uint_eq(top[0].key, 0xc0000080);
	ck_assert_uint_eq(key_counter_total(&kc), 22);

	/* Many more keys than slots: the table fills (as far as the probe limit
	 * lets it), the rest is counted as other, nothing is lost. */
	key_counter_reset(&kc);
	for (u64 k = 0; k < 1000; k++)
		key_counter_add(&kc, k * 0x1000);
	u32 used = 0;
	for (u32 i = 0; i < KEY_COUNTER_SLOTS; i++)
		used += kc.slot[i].count != 0;
	ck_assert_uint_ge(used, KEY_COUNTER_SLOTS / 2);
	ck_assert_uint_eq(kc.other, 1000 - used);
	ck_assert_uint_eq(key_counter_total(&kc), 1000);
	/* Every key that got a slot keeps counting there. */
	key_counter_add(&kc, 0);
	ck_assert_uint_eq(kc.other, 1000 - used);
	ck_assert_uint_eq(key_counter_top(&kc, top, 1), 1);
	ck_assert_uint_eq(top[0].key, 0);
	ck_assert_uint_eq(top[0].count, 2);
}
END_TEST

static Suite *rings_suite(void)
{
	Suite *s = suite_create("rings");
	TCase *log = tcase_create("logring");
	tcase_add_checked_fixture(log, lr_setup, NULL);
	tcase_add_test(log, test_logring_basic);
	tcase_add_test(log, test_logring_wrap);
	tcase_add_test(log, test_logring_reader_overtaken);
	tcase_add_test(log, test_logring_long_and_partial);
	suite_add_tcase(s, log);

	TCase *spsc = tcase_create("spsc");
	tcase_add_test(spsc, test_spsc_basic);
	tcase_add_test(spsc, test_spsc_threads);
	suite_add_tcase(s, spsc);

	TCase *trace = tcase_create("trace");
	tcase_add_checked_fixture(trace, tr_setup, NULL);
	tcase_add_test(trace, test_trace_ring_wrap);
	tcase_add_test(trace, test_trace_ring_in_progress);
	tcase_add_test(trace, test_trace_ring_concurrent);
	tcase_add_test(trace, test_trace_format);
	suite_add_tcase(s, trace);

	TCase *kc = tcase_create("key_counter");
	tcase_add_test(kc, test_key_counter);
	suite_add_tcase(s, kc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rings_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
