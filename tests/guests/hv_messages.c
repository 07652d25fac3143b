/*
 * hv_messages: HvCallPostMessage and HvCallSignalEvent (hyperv/hv_ports.c) on
 * two VPs.  Each RESULT names the TLFS rule it checks, numbered as in the
 * digest (shared/spec/tlfs-digest.md 4.14, 4.15, 7.3, 7.5).
 *
 * The hypervisor's command line connects (hv_ports=, tests/scenarios/guests.toml):
 *   0x10 -> message port, VP 1 SINT 2        0x11 -> message port, VP 0 SINT 2
 *   0x20 -> event port, VP 1 SINT 3, flags 8-11
 *   0x21 -> event port, VP 0 SINT 5 (which this guest leaves masked), flags 0-15
 * A message or event must arrive in the SynIC of the VP the port belongs to,
 * with the handler running on that VP.
 *
 * Command line: `narrow` means the hypervisor runs with
 * hv_features=-post_messages,-signal_events: the privileges are clear and both
 * calls answer ACCESS_DENIED.
 */
#include "guest.h"
#include "hvcall.h"
#include "irq.h"
#include "lapic.h"
#include "smp.h"

const char guest_name[] = "hv_messages";

#define CONN_MSG_AP 0x10
#define CONN_MSG_BSP 0x11
#define CONN_EVT_AP 0x20
#define CONN_EVT_BSP_MASKED 0x21
#define EVT_AP_FIRST_FLAG 8
#define EVT_AP_FLAGS 4

#define SINT_MSG 2
#define SINT_EVT 3
#define VEC_SINT_MSG 0x62
#define VEC_SINT_EVT 0x63

#define AP_CALL_MS 2000
#define WAIT_US 2000000
#define LOG_MAX 16

struct message {
	volatile u32 type;
	volatile u8 payload_size;
	volatile u8 flags;
	u16 reserved;
	u64 origination;
	u8 payload[240];
};

/* One SIM and one SIEF page per VP: overlays of two VPs may not share a GPA. */
static struct message sim_page[2][16] __attribute__((aligned(4096)));
static u8 sief_page[2][4096] __attribute__((aligned(4096)));
static u8 in_page[4096] __attribute__((aligned(4096)));

/* What the handlers saw, per CPU. */
struct seen_message {
	u32 type;
	u8 size;
	u64 origination;
	u8 payload[16];
};
static volatile u32 msg_count[2], evt_count[2];
static struct seen_message msg_log[2][LOG_MAX];
static volatile u32 evt_flags_seen[2]; /* flags 0-31 of SINT_EVT */
static bool ap_up;

/* ---- the SynIC side ------------------------------------------------------------- */

/* TLFS 7.3: take the message, free the slot, then EOM if another one waits. */
static void msg_handler(u32 vector)
{
	int cpu = smp_this_cpu() & 1;
	struct message *slot = &sim_page[cpu][SINT_MSG];
	u32 n = msg_count[cpu];

	(void)vector;
	if (n < LOG_MAX) {
		struct seen_message *s = &msg_log[cpu][n];
		s->type = slot->type;
		s->size = slot->payload_size;
		s->origination = slot->origination;
		memcpy(s->payload, slot->payload, sizeof(s->payload));
	}
	u8 flags = slot->flags;
	slot->type = 0;
	__asm__ volatile("mfence" ::: "memory");
	if (flags & HV_MSG_FLAG_PENDING)
		wrmsr(HV_MSR_EOM, 0);
	msg_count[cpu] = n + 1;
	lapic_eoi();
}

/* TLFS 7.5: the flags are the guest's to clear. */
static void evt_handler(u32 vector)
{
	int cpu = smp_this_cpu() & 1;
	volatile u8 *flags = &sief_page[cpu][SINT_EVT * 256];
	u32 seen = 0;

	(void)vector;
	for (u32 i = 0; i < 4; i++)
		seen |= (u32)__atomic_exchange_n(&flags[i], 0, __ATOMIC_SEQ_CST) << (8 * i);
	evt_flags_seen[cpu] |= seen;
	evt_count[cpu]++;
	lapic_eoi();
}

static void synic_on(void *arg)
{
	int cpu = smp_this_cpu() & 1;

	(void)arg;
	wrmsr(HV_MSR_SIMP, (u32)sim_page[cpu] | 1);
	wrmsr(HV_MSR_SIEFP, (u32)sief_page[cpu] | 1);
	wrmsr(HV_MSR_SINT(SINT_MSG), VEC_SINT_MSG);
	wrmsr(HV_MSR_SINT(SINT_EVT), VEC_SINT_EVT);
	wrmsr(HV_MSR_SCONTROL, 1);
}

static bool wait_count(volatile u32 *counter, u32 want)
{
	u64 deadline = tsc_after_us(WAIT_US);
	irq_enable();
	while (*counter < want && !tsc_reached(deadline))
		cpu_relax();
	irq_disable();
	return *counter >= want;
}

/* ---- calls ------------------------------------------------------------------------ */

/* HV_INPUT_POST_MESSAGE (digest 4.14) in in_page. */
static void post_input(u32 connection, u32 rsvd, u32 type, u32 size, const char *text)
{
	memset(in_page, 0, 256);
	memcpy(in_page + 0, &connection, 4);
	memcpy(in_page + 4, &rsvd, 4);
	memcpy(in_page + 8, &type, 4);
	memcpy(in_page + 12, &size, 4);
	if (text)
		memcpy(in_page + 16, text, strlen(text));
}

static u64 post(u32 connection, u32 type, u32 size, const char *text)
{
	post_input(connection, 0, type, size, text);
	return hvcall(HV_CALL_POST_MESSAGE, (u32)in_page, 0);
}

/* Fast form (digest 4.15): RDX = ConnectionId | FlagNumber << 32 | RsvdZ << 48. */
static u64 signal_fast(u32 connection, u32 flag, u32 rsvd)
{
	return hvcall(HV_CALL_SIGNAL_EVENT | HVCALL_FAST,
		      connection | ((u64)flag << 32) | ((u64)rsvd << 48), 0);
}

/* ---- tests ------------------------------------------------------------------------ */

static void narrow_tests(void)
{
	hvcall_expect("post-message-not-offered-4.14", post(CONN_MSG_AP, 1, 0, NULL),
		      HV_STATUS_ACCESS_DENIED);
	hvcall_expect("signal-event-not-offered-4.15", signal_fast(CONN_EVT_AP, 0, 0),
		      HV_STATUS_ACCESS_DENIED);
}

static void before_synic_tests(void)
{
	/* Neither VP has enabled its SynIC yet. */
	hvcall_expect("post-message-synic-disabled-4.14", post(CONN_MSG_AP, 1, 4, "abcd"),
		      HV_STATUS_INVALID_SYNIC_STATE);
	hvcall_expect("signal-event-synic-disabled-4.15", signal_fast(CONN_EVT_AP, 0, 0),
		      HV_STATUS_INVALID_SYNIC_STATE);
}

static void post_to_ap_test(void)
{
	static const char text[] = "hello, vp1!!";
	u32 before = msg_count[1];

	u64 r = post(CONN_MSG_AP, 0x12345, sizeof(text) - 1, text);
	bool arrived = wait_count(&msg_count[1], before + 1);
	const struct seen_message *s = &msg_log[1][before < LOG_MAX ? before : 0];
	test_begin("post-message-to-ap-4.14");
	EXPECT_EQ(hvcall_status(r), HV_STATUS_SUCCESS);
	EXPECT(arrived);
	EXPECT_EQ(s->type, 0x12345);
	EXPECT_EQ(s->size, sizeof(text) - 1);
	EXPECT_EQ(s->origination, CONN_MSG_AP);
	EXPECT(memcmp(s->payload, text, sizeof(text) - 1) == 0);
	EXPECT_EQ(msg_count[0], 0); /* not on the sender */
	test_end();
}

static void post_error_tests(void)
{
	hvcall_expect("post-message-unknown-connection-4.14", post(0x99, 1, 0, NULL),
		      HV_STATUS_INVALID_CONNECTION_ID);
	/* Bits above the 24-bit id are not part of any connection. */
	hvcall_expect("post-message-connection-high-bits-4.14",
		      post(0x01000000 | CONN_MSG_AP, 1, 0, NULL), HV_STATUS_INVALID_CONNECTION_ID);
	hvcall_expect("post-message-to-event-port-4.14", post(CONN_EVT_AP, 1, 0, NULL),
		      HV_STATUS_INVALID_PORT_ID);
	hvcall_expect("post-message-type-zero-4.14", post(CONN_MSG_AP, 0, 0, NULL),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("post-message-hypervisor-type-4.14", post(CONN_MSG_AP, 0x80000001, 0, NULL),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("post-message-payload-241-4.14", post(CONN_MSG_AP, 1, 241, NULL),
		      HV_STATUS_INVALID_PARAMETER);
	post_input(CONN_MSG_AP, 1, 1, 0, NULL);
	hvcall_expect("post-message-reserved-word-4.14",
		      hvcall(HV_CALL_POST_MESSAGE, (u32)in_page, 0), HV_STATUS_INVALID_PARAMETER);
	post_input(CONN_MSG_AP, 0, 1, 0, NULL);
	hvcall_expect("post-message-fast-3.5",
		      hvcall(HV_CALL_POST_MESSAGE | HVCALL_FAST, CONN_MSG_AP, 1),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	hvcall_expect("post-message-rep-3.7",
		      hvcall(HV_CALL_POST_MESSAGE | HVCALL_REP_COUNT(1), (u32)in_page, 0),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* 256 bytes from in_page + 8 cross into the next page. */
	hvcall_expect("post-message-input-crosses-page-3.6",
		      hvcall(HV_CALL_POST_MESSAGE, (u32)in_page + 3848, 0),
		      HV_STATUS_INVALID_ALIGNMENT);
	u32 errors_arrived = msg_count[1];
	test_result("post-message-errors-deliver-nothing-4.14", !wait_count(&msg_count[1], errors_arrived + 1),
		    "a refused post arrived");
}

/* With IF clear the BSP cannot take its SINT: the first post fills the slot,
 * later ones queue until the SynIC has no buffer left (TLFS 7.3: the caller
 * gets INSUFFICIENT_BUFFERS and retries later).  Once IF is set, the handler
 * drains them through EOM, each in the order it was posted. */
static void queue_test(void)
{
	u32 accepted = 0;
	u64 r = 0;

	for (u32 i = 1; i <= 16; i++) {
		char text[8] = "msg #";
		text[5] = (char)('a' + i);
		r = post(CONN_MSG_BSP, 0x100 + i, 6, text);
		if (hvcall_status(r) != HV_STATUS_SUCCESS)
			break;
		accepted++;
	}
	test_result("post-message-insufficient-buffers-4.14",
		    hvcall_status(r) == HV_STATUS_INSUFFICIENT_BUFFERS && accepted >= 2,
		    "%u accepted, then status %#x", accepted, hvcall_status(r));
	test_result("post-message-first-in-slot-7.3",
		    sim_page[0][SINT_MSG].type == 0x101 &&
			    (sim_page[0][SINT_MSG].flags & HV_MSG_FLAG_PENDING),
		    "slot type %#x flags %#x", sim_page[0][SINT_MSG].type,
		    sim_page[0][SINT_MSG].flags);
	bool all = wait_count(&msg_count[0], accepted);
	test_begin("post-message-queue-drains-in-order-7.4");
	EXPECT(all);
	EXPECT_EQ(msg_count[0], accepted);
	for (u32 i = 0; i < accepted && i < LOG_MAX; i++) {
		EXPECT_EQ(msg_log[0][i].type, 0x101 + i);
		EXPECT_EQ(msg_log[0][i].payload[5], 'a' + 1 + i);
	}
	test_end();
	hvcall_expect("post-message-after-drain-4.14", post(CONN_MSG_BSP, 0x200, 0, NULL),
		      HV_STATUS_SUCCESS);
	wait_count(&msg_count[0], accepted + 1);
}

static void signal_tests(void)
{
	u32 before = evt_count[1];
	evt_flags_seen[1] = 0;
	u64 r = signal_fast(CONN_EVT_AP, 2, 0);
	bool arrived = wait_count(&evt_count[1], before + 1);
	test_result("signal-event-fast-to-ap-4.15",
		    hvcall_status(r) == HV_STATUS_SUCCESS && arrived &&
			    evt_flags_seen[1] == 1u << (EVT_AP_FIRST_FLAG + 2),
		    "result %llx, arrived %d, flags seen %08x", r, arrived, evt_flags_seen[1]);

	/* The memory form: ConnectionId @0, FlagNumber @4, RsvdZ @6. */
	before = evt_count[1];
	evt_flags_seen[1] = 0;
	memset(in_page, 0, 8);
	u32 conn = CONN_EVT_AP;
	u16 flag = EVT_AP_FLAGS - 1;
	memcpy(in_page, &conn, 4);
	memcpy(in_page + 4, &flag, 2);
	r = hvcall(HV_CALL_SIGNAL_EVENT, (u32)in_page, 0);
	arrived = wait_count(&evt_count[1], before + 1);
	test_result("signal-event-memory-to-ap-4.15",
		    hvcall_status(r) == HV_STATUS_SUCCESS && arrived &&
			    evt_flags_seen[1] == 1u << (EVT_AP_FIRST_FLAG + EVT_AP_FLAGS - 1),
		    "result %llx, arrived %d, flags seen %08x", r, arrived, evt_flags_seen[1]);

	hvcall_expect("signal-event-flag-beyond-port-4.15", signal_fast(CONN_EVT_AP, EVT_AP_FLAGS, 0),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("signal-event-reserved-bits-4.15", signal_fast(CONN_EVT_AP, 0, 1),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("signal-event-to-message-port-4.15", signal_fast(CONN_MSG_AP, 0, 0),
		      HV_STATUS_INVALID_PORT_ID);
	hvcall_expect("signal-event-unknown-connection-4.15", signal_fast(0x77, 0, 0),
		      HV_STATUS_INVALID_CONNECTION_ID);
	hvcall_expect("signal-event-masked-sint-4.15", signal_fast(CONN_EVT_BSP_MASKED, 0, 0),
		      HV_STATUS_INVALID_SYNIC_STATE);
	hvcall_expect(
		"signal-event-rep-3.7",
		hvcall(HV_CALL_SIGNAL_EVENT | HVCALL_FAST | HVCALL_REP_COUNT(1), CONN_EVT_AP, 0),
		HV_STATUS_INVALID_HYPERCALL_INPUT);
}

void guest_main(void)
{
	u32 a, b, c, d;

	cpuid(0x40000003, 0, &a, &b, &c, &d);
	bool narrow = cmdline_has("narrow");
	u32 privs = b & (HV_PRIV_EBX_POST_MESSAGES | HV_PRIV_EBX_SIGNAL_EVENTS);
	test_result("cpuid-post-signal-privileges-1.4",
		    narrow ? privs == 0
			   : privs == (HV_PRIV_EBX_POST_MESSAGES | HV_PRIV_EBX_SIGNAL_EVENTS),
		    "privileges EBX %08x", b);

	tsc_init();
	irq_init();
	irq_set_handler(VEC_SINT_MSG, msg_handler);
	irq_set_handler(VEC_SINT_EVT, evt_handler);
	outb(0x21, 0xff); /* the 8259s stay masked */
	outb(0xa1, 0xff);
	lapic_enter_xapic();
	smp_discover();
	if (smp_cpu_count >= 2 && smp_start_aps() >= 1)
		ap_up = true;
	test_result("two-vps-up", ap_up, "%d CPU(s) in the MADT", smp_cpu_count);
	hvcall_enable();

	if (narrow) {
		narrow_tests();
		return;
	}
	before_synic_tests();
	if (!ap_up || !smp_call(1, synic_on, NULL, AP_CALL_MS)) {
		test_result("ap-synic-on", false, "the AP did not enable its SynIC");
		return;
	}
	synic_on(NULL);
	post_to_ap_test();
	post_error_tests();
	queue_test();
	signal_tests();

	u32 unhandled = 0;
	for (u32 v = 0; v < 256; v++)
		unhandled += irq_unhandled[v];
	test_result("no-stray-interrupts", unhandled == 0, "%u unhandled", unhandled);
}
