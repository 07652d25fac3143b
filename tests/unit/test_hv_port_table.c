/* unit-sources: hyperv/hv_port_table.c kernel/cmdline.c kernel/lib/string.c tests/unit/fake_printk.c */
/* The connection table behind HvCallPostMessage/HvCallSignalEvent
 * (hyperv/hv_port_table.c): the console's and command line's port syntax, each
 * range check, duplicate and full-table refusals, removal, and the
 * comma/colon list of hv_ports=. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hyperv/hv_port_table.h"

static struct hv_port_table T;

static void setup(void)
{
	memset(&T, 0, sizeof(T));
}

/* Parses a space-separated line the way the shell hands words over. */
static const char *parse(const char *line, u32 vp_count, struct hv_port *p)
{
	static char buf[128];
	char *argv[8];
	int argc = 0;

	strncpy(buf, line, sizeof(buf) - 1);
	for (char *tok = strtok(buf, " "); tok && argc < 8; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	return hv_port_parse(argc, argv, vp_count, p);
}

START_TEST(test_message_port)
{
	struct hv_port p;
	ck_assert_ptr_null(parse("0x10 msg 1 2", 2, &p));
	ck_assert_uint_eq(p.connection_id, 0x10);
	ck_assert_int_eq(p.kind, HV_PORT_MESSAGE);
	ck_assert_uint_eq(p.vp, 1);
	ck_assert_uint_eq(p.sint, 2);
	ck_assert_uint_eq(p.flag_count, 0);
}
END_TEST

START_TEST(test_event_port)
{
	struct hv_port p;
	ck_assert_ptr_null(parse("5 event 0 15 2040 8", 1, &p));
	ck_assert_int_eq(p.kind, HV_PORT_EVENT);
	ck_assert_uint_eq(p.sint, 15);
	ck_assert_uint_eq(p.first_flag, 2040);
	ck_assert_uint_eq(p.flag_count, 8);
}
END_TEST

START_TEST(test_refusals)
{
	struct hv_port p;
	/* Each one value away from a good line. */
	ck_assert_ptr_nonnull(parse("0 msg 0 0", 1, &p));	     /* id 0 */
	ck_assert_ptr_nonnull(parse("0x1000000 msg 0 0", 1, &p)); /* beyond 24 bits */
	ck_assert_ptr_null(parse("0xffffff msg 0 0", 1, &p));
	ck_assert_ptr_nonnull(parse("1 msg 1 0", 1, &p));	     /* no VP 1 */
	ck_assert_ptr_nonnull(parse("1 msg 0 16", 1, &p));	     /* SINT 16 */
	ck_assert_ptr_nonnull(parse("1 mesg 0 0", 1, &p));	     /* kind */
	ck_assert_ptr_nonnull(parse("1 msg 0", 1, &p));	     /* too few */
	ck_assert_ptr_nonnull(parse("1 msg 0 0 0 1", 1, &p));     /* event words on msg */
	ck_assert_ptr_nonnull(parse("1 event 0 0 0", 1, &p));     /* no count */
	ck_assert_ptr_nonnull(parse("1 event 0 0 0 0", 1, &p));   /* zero flags */
	ck_assert_ptr_nonnull(parse("1 event 0 0 2040 9", 1, &p)); /* past flag 2047 */
	ck_assert_ptr_null(parse("1 event 0 0 0 2048", 1, &p));
	ck_assert_ptr_nonnull(parse("1 event 0 0 2048 1", 1, &p));
	ck_assert_ptr_nonnull(parse("x msg 0 0", 1, &p));
	ck_assert_ptr_nonnull(parse("1", 1, &p));
}
END_TEST

START_TEST(test_add_find_remove)
{
	struct hv_port p;
	ck_assert_ptr_null(parse("7 msg 0 1", 1, &p));
	p.delivered = 99; /* counters start at 0 whatever the caller had */
	ck_assert_ptr_null(hv_port_table_add(&T, &p));
	ck_assert_ptr_nonnull(hv_port_table_add(&T, &p)); /* the id is taken */
	struct hv_port *f = hv_port_table_find(&T, 7);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->delivered, 0);
	ck_assert_ptr_null(hv_port_table_find(&T, 8));
	ck_assert(hv_port_table_remove(&T, 7));
	ck_assert(!hv_port_table_remove(&T, 7));
	ck_assert_ptr_null(hv_port_table_find(&T, 7));
}
END_TEST

START_TEST(test_table_full)
{
	struct hv_port p;
	ck_assert_ptr_null(parse("1 msg 0 0", 1, &p));
	for (u32 i = 1; i <= HV_PORTS_MAX; i++) {
		p.connection_id = i;
		ck_assert_ptr_null(hv_port_table_add(&T, &p));
	}
	p.connection_id = HV_PORTS_MAX + 1;
	ck_assert_ptr_nonnull(hv_port_table_add(&T, &p));
	/* Removing from the middle keeps every other one findable. */
	ck_assert(hv_port_table_remove(&T, 3));
	for (u32 i = 1; i <= HV_PORTS_MAX; i++)
		ck_assert(i == 3 ? !hv_port_table_find(&T, i) : !!hv_port_table_find(&T, i));
	ck_assert_ptr_null(hv_port_table_add(&T, &p));
}
END_TEST

START_TEST(test_list)
{
	u32 bad;
	ck_assert_ptr_null(hv_port_table_add_list(&T, "1:msg:1:2,0x20:event:0:3:8:4", 2, &bad));
	ck_assert_uint_eq(T.count, 2);
	ck_assert_int_eq(hv_port_table_find(&T, 0x20)->kind, HV_PORT_EVENT);
	ck_assert_uint_eq(hv_port_table_find(&T, 0x20)->first_flag, 8);
	/* The second entry is bad: the first stays, the third is not reached. */
	setup();
	ck_assert_ptr_nonnull(hv_port_table_add_list(&T, "1:msg:0:2,2:msg:5:2,3:msg:0:1", 2, &bad));
	ck_assert_uint_eq(bad, 1);
	ck_assert_uint_eq(T.count, 1);
	/* Duplicates within a list, empty entries, too many words. */
	setup();
	ck_assert_ptr_nonnull(hv_port_table_add_list(&T, "1:msg:0:2,1:msg:0:3", 1, &bad));
	ck_assert_uint_eq(bad, 1);
	setup();
	ck_assert_ptr_nonnull(hv_port_table_add_list(&T, "1:msg:0:2,", 1, &bad));
	setup();
	ck_assert_ptr_nonnull(hv_port_table_add_list(&T, "1:event:0:0:0:1:2:3:4", 1, &bad));
}
END_TEST

static Suite *port_table_suite(void)
{
	Suite *s = suite_create("hv_port_table");
	TCase *tc = tcase_create("ports");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_message_port);
	tcase_add_test(tc, test_event_port);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_add_find_remove);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(port_table_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
