/*
 * hv_hypercalls: the Hv#1 hypercalls on two VPs (hyperv/hv_hypercalls.c).  Each
 * RESULT names the TLFS rule it checks, numbered as in the digest
 * (shared/spec/tlfs-digest.md): success and error paths of the flush, IPI,
 * GetVpIndexFromApicId, NotifyLongSpinWait and ExtQueryCapabilities calls; PV
 * IPIs that must run their handler on the target VP; and PV TLB flushes that
 * must drop a stale translation the other VP holds.
 *
 * The TLB test: the AP reads a page through a virtual address and keeps
 * reading it; the BSP points that address's PTE at another page *without*
 * INVLPG, checks that the AP still sees the old page (the stale entry is
 * there), asks the hypervisor to flush the AP, and then the AP must see the new
 * page.  On QEMU, a hypervisor that neither kicks the AP nor waits for it
 * fails the last step; the emulators drop every guest translation when a VP
 * exits, so a kicked AP always sees the new page and a wrongly aimed
 * per-page flush goes unnoticed there.
 *
 * Most calls use the 32-bit convention (TLFS 3.8); the XMM fast input runs in
 * 64-bit mode through lm_call() (lib/transitions.S).
 */
#include "guest.h"
#include "hvcall.h"
#include "irq.h"
#include "lapic.h"
#include "smp.h"

const char guest_name[] = "hv_hypercalls";

#define VEC_PV_IPI 0x61
#define STALE_WAIT_US 50
#define AP_CALL_MS 2000

static u8 in_page[4096] __attribute__((aligned(4096)));
static u8 out_page[4096] __attribute__((aligned(4096)));
/* The TLB test's two pages: the window address is page_a's. */
static volatile u32 page_a[1024] __attribute__((aligned(4096)));
static volatile u32 page_b[1024] __attribute__((aligned(4096)));

static bool ap_up;
static volatile u32 ipi_hits[SMP_MAX_CPUS];

/* ---- calling the hypervisor -------------------------------------------------------- */

static u64 hc_mem(u64 control)
{
	return hvcall(control, (u32)in_page, (u32)out_page);
}

static void put64(u8 *p, u32 off, u64 v) { memcpy(p + off, &v, 8); }

/* FlushVirtualAddressSpace input (digest 4.3) in in_page. */
static void flush_input(u64 space, u64 flags, u64 mask)
{
	memset(in_page, 0, sizeof(in_page));
	put64(in_page, 0, space);
	put64(in_page, 8, flags);
	put64(in_page, 16, mask);
}

/* The Ex form: HV_VP_SET at 16 with `banks` bank qwords (digest 8.3). */
static void flush_ex_input(u64 flags, u64 format, u64 valid_banks, const u64 *bank, u32 banks)
{
	memset(in_page, 0, sizeof(in_page));
	put64(in_page, 0, 0);
	put64(in_page, 8, flags);
	put64(in_page, 16, format);
	put64(in_page, 24, valid_banks);
	for (u32 i = 0; i < banks; i++)
		put64(in_page, 32 + 8 * i, bank[i]);
}

/* ---- the AP's side ------------------------------------------------------------------ */

static void ipi_handler(u32 vector)
{
	(void)vector;
	ipi_hits[smp_this_cpu()]++;
	lapic_eoi();
}

static void ap_paging_on(void *arg)
{
	(void)arg;
	paging_enable_pae();
}

static void ap_invlpg(void *arg)
{
	invlpg((u32)arg);
}

/* TLB probe: phases set by the BSP. */
static volatile u32 tlb_phase, tlb_ap_first, tlb_ap_last, tlb_ap_after;

static void ap_tlb_probe(void *arg)
{
	(void)arg;
	tlb_ap_first = page_a[0]; /* through the window: caches the translation */
	tlb_ap_last = tlb_ap_first;
	tlb_phase = 1;
	u64 deadline = tsc_after_us(5000000);
	/* Keep the translation in use until the BSP says the flush returned. */
	while (tlb_phase < 3 && !tsc_reached(deadline))
		tlb_ap_last = page_a[0];
	tlb_ap_after = page_a[0];
	tlb_phase = 4;
}

/* Mutual flushes: the AP flushes the BSP while the BSP flushes the AP. */
static volatile u32 mutual_go, mutual_ap_done, mutual_ap_bad;

static void ap_mutual_flush(void *arg)
{
	(void)arg;
	while (!mutual_go)
		cpu_relax();
	for (u32 i = 0; i < 200; i++) {
		/* A private input block: in_page belongs to the BSP. */
		static u8 ap_in[24] __attribute__((aligned(8)));
		u64 mask = 1; /* VP 0 */
		memset(ap_in, 0, sizeof(ap_in));
		memcpy(ap_in + 16, &mask, 8);
		u64 r = hvcall(HV_CALL_FLUSH_SPACE, (u32)ap_in, 0);
		if (hvcall_status(r) != HV_STATUS_SUCCESS)
			mutual_ap_bad++;
	}
	mutual_ap_done = 1;
}

/* ---- flush calls: shapes and errors ------------------------------------------------ */

static void flush_tests(void)
{
	u64 r;

	flush_input(0, 0, 1);
	hvcall_expect("flush-space-self-4.3", hc_mem(HV_CALL_FLUSH_SPACE), HV_STATUS_SUCCESS);
	flush_input(0, HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_SPACES | HV_FLUSH_NON_GLOBAL, 0);
	hvcall_expect("flush-space-all-processors-8.1", hc_mem(HV_CALL_FLUSH_SPACE),
		      HV_STATUS_SUCCESS);
	flush_input(0, 0, 0); /* [DISPUTED #18]: empty mask = all (KVM) */
	hvcall_expect("flush-space-empty-mask-8.2", hc_mem(HV_CALL_FLUSH_SPACE), HV_STATUS_SUCCESS);
	flush_input(0, 0x20, 1);
	hvcall_expect("flush-reserved-flag-8.1", hc_mem(HV_CALL_FLUSH_SPACE),
		      HV_STATUS_INVALID_PARAMETER);
	flush_input(0, 0, 1);
	hvcall_expect("flush-reserved-control-bit-3.3", hc_mem(HV_CALL_FLUSH_SPACE | (1ull << 30)),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	hvcall_expect("flush-simple-with-rep-count-3.7",
		      hc_mem(HV_CALL_FLUSH_SPACE | HVCALL_REP_COUNT(1)),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	hvcall_expect("flush-varhead-on-non-ex-3.7",
		      hc_mem(HV_CALL_FLUSH_SPACE | HVCALL_VARHEAD(1)),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	r = hvcall(HV_CALL_FLUSH_SPACE, (u32)in_page + 4, 0);
	hvcall_expect("flush-misaligned-input-3.6", r, HV_STATUS_INVALID_ALIGNMENT);
	r = hvcall(HV_CALL_FLUSH_SPACE, (u32)in_page + 4096 - 16, 0);
	hvcall_expect("flush-input-crosses-page-3.6", r, HV_STATUS_INVALID_ALIGNMENT);
	r = hvcall(HV_CALL_FLUSH_SPACE, 0xF0000000ull, 0); /* below 4 GiB, not RAM */
	hvcall_expect("flush-input-not-ram-3.6", r, HV_STATUS_INVALID_ALIGNMENT);
	r = hvcall(HV_CALL_FLUSH_SPACE, 1ull << 52, 0); /* beyond any MAXPHYADDR */
	hvcall_expect("flush-input-beyond-gpa-space-3.6", r, HV_STATUS_INVALID_ALIGNMENT);
	/* 24 bytes do not fit the one register pair a 32-bit caller has. */
	hvcall_expect("flush-fast-too-big-for-32-bit-3.5",
		      hvcall(HV_CALL_FLUSH_SPACE | HVCALL_FAST, 0, 1),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);

	/* List: 24-byte header, then GVA ranges (63:12 page, 11:0 additional pages). */
	flush_input(0, 0, 0x3);
	put64(in_page, 24, (u32)page_a);
	put64(in_page, 32, 0x40000000ull | 0xFFF); /* 4096 pages */
	put64(in_page, 40, 0xFFFFFFFFFFFFF000ull);  /* top page: no wrap */
	r = hc_mem(HV_CALL_FLUSH_LIST | HVCALL_REP_COUNT(3));
	test_result("flush-list-4.3", hvcall_status(r) == HV_STATUS_SUCCESS && hvcall_reps(r) == 3,
		    "result %llx, want success with 3 reps", r);
	r = hc_mem(HV_CALL_FLUSH_LIST | HVCALL_REP_COUNT(3) | HVCALL_REP_START(1));
	test_result("flush-list-rep-start-3.4",
		    hvcall_status(r) == HV_STATUS_SUCCESS && hvcall_reps(r) == 3,
		    "result %llx: reps completed are absolute", r);
	hvcall_expect("flush-list-rep-start-past-count-3.7",
		      hc_mem(HV_CALL_FLUSH_LIST | HVCALL_REP_COUNT(2) | HVCALL_REP_START(2)),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	hvcall_expect("flush-list-rep-count-0-3.7", hc_mem(HV_CALL_FLUSH_LIST),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	hvcall_expect("flush-list-overflows-page-3.6",
		      hc_mem(HV_CALL_FLUSH_LIST | HVCALL_REP_COUNT(600)),
		      HV_STATUS_INVALID_ALIGNMENT);

	/* Ex: sparse sets, ALL, bad format, a bank mask the header does not carry. */
	u64 bank[2] = {0x3, 0};
	flush_ex_input(0, 0, 1, bank, 1);
	hvcall_expect("flush-ex-sparse-8.3", hc_mem(HV_CALL_FLUSH_SPACE_EX | HVCALL_VARHEAD(1)),
		      HV_STATUS_SUCCESS);
	flush_ex_input(0, 1, 0, bank, 0);
	hvcall_expect("flush-ex-format-all-8.3", hc_mem(HV_CALL_FLUSH_SPACE_EX), HV_STATUS_SUCCESS);
	flush_ex_input(0, 2, 1, bank, 1);
	hvcall_expect("flush-ex-bad-format-8.3", hc_mem(HV_CALL_FLUSH_SPACE_EX | HVCALL_VARHEAD(1)),
		      HV_STATUS_INVALID_PARAMETER);
	flush_ex_input(0, 0, 0x3, bank, 1);
	hvcall_expect("flush-ex-banks-beyond-varhead-8.3",
		      hc_mem(HV_CALL_FLUSH_SPACE_EX | HVCALL_VARHEAD(1)),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	bank[1] = 0x1; /* bank 1 = VPs 64..127: none exists, nothing to do */
	flush_ex_input(0, 0, 0x3, bank, 2);
	hvcall_expect("flush-ex-vps-beyond-partition-8.3",
		      hc_mem(HV_CALL_FLUSH_SPACE_EX | HVCALL_VARHEAD(2)), HV_STATUS_SUCCESS);
	flush_ex_input(0, 0, 1, bank, 1);
	put64(in_page, 40, (u32)page_a);
	put64(in_page, 48, (u32)page_b);
	r = hc_mem(HV_CALL_FLUSH_LIST_EX | HVCALL_VARHEAD(1) | HVCALL_REP_COUNT(2));
	test_result("flush-list-ex-4.3",
		    hvcall_status(r) == HV_STATUS_SUCCESS && hvcall_reps(r) == 2,
		    "result %llx, want success with 2 reps", r);
}

/* ---- PV TLB flush that must really flush -------------------------------------------- */

enum flush_way { BY_SPACE, BY_LIST_EX, BY_XMM_FAST };

static u32 xmm_flush_list_ex_ap(void);

static void tlb_flush_test(const char *name, enum flush_way way)
{
	u64 *pte = paging_pte((u32)page_a);
	u64 old_pte;

	if (!ap_up || !pte) {
		test_result(name, false, ap_up ? "page_a lies above 2 MiB" : "the AP is not up");
		return;
	}
	old_pte = *pte;
	page_a[0] = 0xAAAA0000u | (u32)way;
	page_b[0] = 0xBBBB0000u | (u32)way;
	tlb_phase = 0;
	smp_call(1, ap_invlpg, (void *)page_a, AP_CALL_MS); /* start from a clean slate */
	smp_call(1, ap_tlb_probe, NULL, 0);		    /* asynchronous: returns at once */
	u64 deadline = tsc_after_us(2000000);
	while (tlb_phase != 1 && !tsc_reached(deadline))
		cpu_relax();
	test_begin(name);
	if (tlb_phase != 1) {
		test_fail("the AP never read the page");
		test_end();
		return;
	}
	EXPECT_EQ(tlb_ap_first, page_a[0]);
	/* Repoint the window without INVLPG: the AP's TLB still has page_a. */
	*pte = (old_pte & ~0xFFFFF000ull) | (u32)page_b;
	__asm__ volatile("mfence" ::: "memory");
	tlb_phase = 2;
	/* Short: any exit of the AP (its CPU's 1 ms console poll) may drop the
	 * stale entry on an emulator, and then this run proves less. */
	tsc_delay_us(STALE_WAIT_US);
	bool stale = tlb_ap_last == (0xAAAA0000u | (u32)way);
	u64 r = 0;
	if (way == BY_SPACE) {
		flush_input(0x12345000, 0, 1ull << 1); /* AddressSpace is a hint: any CR3 */
		r = hc_mem(HV_CALL_FLUSH_SPACE);
	} else if (way == BY_LIST_EX) {
		u64 bank = 1ull << 1;
		flush_ex_input(0, 0, 1, &bank, 1);
		put64(in_page, 40, (u32)page_a);
		r = hc_mem(HV_CALL_FLUSH_LIST_EX | HVCALL_VARHEAD(1) | HVCALL_REP_COUNT(1));
	} else {
		r = xmm_flush_list_ex_ap();
	}
	tlb_phase = 3;
	deadline = tsc_after_us(2000000);
	while (tlb_phase != 4 && !tsc_reached(deadline))
		cpu_relax();
	EXPECT_EQ(hvcall_status(r), HV_STATUS_SUCCESS);
	EXPECT_EQ(tlb_phase, 4);
	EXPECT_EQ(tlb_ap_after, 0xBBBB0000u | (u32)way);
	if (!stale)
		note("%s: the AP already saw the new page before the flush (this machine did not "
		     "keep the stale entry), so this run proves less", name);
	else
		note("%s: the AP held the stale translation until the flush", name);
	test_end();
	*pte = old_pte;
	invlpg((u32)page_a);
	smp_call(1, ap_invlpg, (void *)page_a, AP_CALL_MS);
}

static void mutual_flush_test(void)
{
	if (!ap_up) {
		test_result("flush-mutual-no-deadlock-8.5", false, "the AP is not up");
		return;
	}
	mutual_go = 0;
	mutual_ap_done = 0;
	mutual_ap_bad = 0;
	smp_call(1, ap_mutual_flush, NULL, 0);
	mutual_go = 1;
	u32 bad = 0;
	for (u32 i = 0; i < 200; i++) {
		flush_input(0, 0, 1ull << 1);
		if (hvcall_status(hc_mem(HV_CALL_FLUSH_SPACE)) != HV_STATUS_SUCCESS)
			bad++;
	}
	u64 deadline = tsc_after_us(5000000);
	while (!mutual_ap_done && !tsc_reached(deadline))
		cpu_relax();
	test_result("flush-mutual-no-deadlock-8.5", mutual_ap_done && !bad && !mutual_ap_bad,
		    "AP done %u, failures BSP %u AP %u", mutual_ap_done, bad, mutual_ap_bad);
}

/* ---- PV IPIs ---------------------------------------------------------------------- */

static bool wait_hits(int cpu, u32 want)
{
	u64 deadline = tsc_after_us(500000);
	while (ipi_hits[cpu] < want && !tsc_reached(deadline))
		cpu_relax();
	return ipi_hits[cpu] >= want;
}

static void ipi_tests(void)
{
	u64 r;
	u32 before;

	/* Fast form, one register pair: EBX:ECX = vector | TargetVtl, EDI:ESI = mask. */
	before = ipi_hits[0];
	irq_enable();
	r = hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, VEC_PV_IPI, 1);
	bool self_ok = wait_hits(0, before + 1);
	test_result("ipi-fast-self-4.5", hvcall_status(r) == HV_STATUS_SUCCESS && self_ok,
		    "result %llx, handler ran %u times", r, ipi_hits[0] - before);
	if (ap_up) {
		before = ipi_hits[1];
		r = hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, VEC_PV_IPI, 1ull << 1);
		bool ok = wait_hits(1, before + 1);
		test_result("ipi-fast-to-ap-4.5", hvcall_status(r) == HV_STATUS_SUCCESS && ok,
			    "result %llx, AP handler ran %u times", r, ipi_hits[1] - before);
		/* Memory form to both VPs. */
		u32 b0 = ipi_hits[0], b1 = ipi_hits[1];
		memset(in_page, 0, 16);
		put64(in_page, 0, VEC_PV_IPI);
		put64(in_page, 8, 0x3);
		r = hc_mem(HV_CALL_SEND_IPI);
		bool both = wait_hits(0, b0 + 1) && wait_hits(1, b1 + 1);
		test_result("ipi-memory-both-vps-4.5",
			    hvcall_status(r) == HV_STATUS_SUCCESS && both,
			    "result %llx, hits %u/%u", r, ipi_hits[0] - b0, ipi_hits[1] - b1);
		/* Ex: sparse set with only the AP. */
		b0 = ipi_hits[0];
		b1 = ipi_hits[1];
		memset(in_page, 0, 32);
		put64(in_page, 0, VEC_PV_IPI);
		put64(in_page, 8, 0);	   /* HV_GENERIC_SET_SPARSE_4K */
		put64(in_page, 16, 1);	   /* bank 0 */
		put64(in_page, 24, 1ull << 1);
		r = hc_mem(HV_CALL_SEND_IPI_EX | HVCALL_VARHEAD(1));
		bool ap_only = wait_hits(1, b1 + 1);
		tsc_delay_us(2000);
		test_result("ipi-ex-sparse-to-ap-4.5",
			    hvcall_status(r) == HV_STATUS_SUCCESS && ap_only && ipi_hits[0] == b0,
			    "result %llx, hits BSP %u AP %u", r, ipi_hits[0] - b0, ipi_hits[1] - b1);
	} else {
		test_result("ipi-fast-to-ap-4.5", false, "the AP is not up");
	}
	irq_disable();

	hvcall_expect("ipi-vector-below-0x10-4.5", hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, 0x0F, 1),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("ipi-vector-above-0xff-4.5", hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, 0x100, 1),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("ipi-reserved-vtl-bits-4.2",
		      hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, VEC_PV_IPI | (0xE0ull << 32), 1),
		      HV_STATUS_INVALID_PARAMETER);
	hvcall_expect("ipi-other-vtl-4.5",
		      hvcall(HV_CALL_SEND_IPI | HVCALL_FAST, VEC_PV_IPI | (0x11ull << 32), 1),
		      HV_STATUS_INVALID_PARAMETER);
	memset(in_page, 0, 32);
	put64(in_page, 0, VEC_PV_IPI);
	put64(in_page, 8, 7); /* no such format */
	put64(in_page, 16, 1);
	put64(in_page, 24, 1);
	hvcall_expect("ipi-ex-bad-format-8.3", hc_mem(HV_CALL_SEND_IPI_EX | HVCALL_VARHEAD(1)),
		      HV_STATUS_INVALID_PARAMETER);
	put64(in_page, 8, 0);
	put64(in_page, 16, 0x7); /* three banks, one qword of header */
	hvcall_expect("ipi-ex-banks-beyond-varhead-8.3",
		      hc_mem(HV_CALL_SEND_IPI_EX | HVCALL_VARHEAD(1)),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
	hvcall_expect("ipi-rep-count-3.7",
		      hvcall(HV_CALL_SEND_IPI | HVCALL_FAST | HVCALL_REP_COUNT(1), VEC_PV_IPI, 1),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
}

/* ---- the other calls ---------------------------------------------------------------- */

static void other_call_tests(void)
{
	u64 r;
	u32 out[2];

	/* GetVpIndexFromApicId: header {PartitionId SELF, TargetVtl, padding}, u32 APIC IDs. */
	memset(in_page, 0, 32);
	put64(in_page, 0, ~0ull);
	memcpy(in_page + 16, &smp_apic_ids[0], 4);
	memcpy(in_page + 20, &smp_apic_ids[smp_cpu_count > 1 ? 1 : 0], 4);
	memset(out_page, 0xFF, 8);
	r = hc_mem(HV_CALL_GET_VP_INDEX | HVCALL_REP_COUNT(2));
	memcpy(out, out_page, 8);
	test_result("get-vp-index-from-apic-id-4.19",
		    hvcall_status(r) == HV_STATUS_SUCCESS && hvcall_reps(r) == 2 && out[0] == 0 &&
			    out[1] == (smp_cpu_count > 1 ? 1u : 0u),
		    "result %llx, VP indexes %u %u", r, out[0], out[1]);
	u32 bogus = 0xFE;
	memcpy(in_page + 20, &bogus, 4);
	r = hc_mem(HV_CALL_GET_VP_INDEX | HVCALL_REP_COUNT(2));
	test_result("get-vp-index-unknown-apic-id-4.19",
		    hvcall_status(r) == HV_STATUS_INVALID_PARAMETER && hvcall_reps(r) == 1,
		    "result %llx, want INVALID_PARAMETER after 1 rep", r);
	put64(in_page, 0, 0);
	hvcall_expect("get-vp-index-bad-partition-4.19",
		      hc_mem(HV_CALL_GET_VP_INDEX | HVCALL_REP_COUNT(1)),
		      HV_STATUS_INVALID_PARTITION_ID);
	put64(in_page, 0, ~0ull);
	r = hvcall(HV_CALL_GET_VP_INDEX | HVCALL_REP_COUNT(1), (u32)in_page, 0xF0000000ull);
	hvcall_expect("get-vp-index-output-not-ram-3.6", r, HV_STATUS_INVALID_ALIGNMENT);
	r = hvcall(HV_CALL_GET_VP_INDEX | HVCALL_REP_COUNT(1), (u32)in_page, (u32)out_page + 2);
	hvcall_expect("get-vp-index-output-misaligned-3.6", r, HV_STATUS_INVALID_ALIGNMENT);
	hvcall_expect("get-vp-index-simple-form-3.7", hc_mem(HV_CALL_GET_VP_INDEX),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);

	hvcall_expect("notify-long-spin-wait-4.4",
		      hvcall(HV_CALL_NOTIFY_LONG_SPIN_WAIT | HVCALL_FAST, 5, 0), HV_STATUS_SUCCESS);
	hvcall_expect(
		"notify-long-spin-wait-rep-3.7",
		hvcall(HV_CALL_NOTIFY_LONG_SPIN_WAIT | HVCALL_FAST | HVCALL_REP_COUNT(1), 5, 0),
		HV_STATUS_INVALID_HYPERCALL_INPUT);

	memset(out_page, 0xFF, 8);
	r = hc_mem(HV_CALL_EXT_QUERY_CAPS);
	u64 caps;
	memcpy(&caps, out_page, 8);
	test_result("ext-query-capabilities-3.10",
		    hvcall_status(r) == HV_STATUS_SUCCESS && caps == 0,
		    "result %llx, capabilities %llx", r, caps);
	hvcall_expect("ext-unknown-call-3.10", hc_mem(0x8002), HV_STATUS_INVALID_HYPERCALL_CODE);
	/* PostMessage and SignalEvent: tests/guests/hv_messages.c.  With no
	 * connection configured (this scenario has no hv_ports=), every id is
	 * unknown. */
	hvcall_expect("signal-event-no-connections-4.15",
		      hvcall(HV_CALL_SIGNAL_EVENT | HVCALL_FAST, 1, 0),
		      HV_STATUS_INVALID_CONNECTION_ID);
}

/* ---- XMM fast input (64-bit) ------------------------------------------------------ */

/* Block the 64-bit stub reads: the input value, RDX, R8, XMM0-5, the page. */
struct xmm_call {
	u64 control, rdx, r8;
	u64 xmm[12];
	u64 page;
	u64 result;
} __attribute__((packed));
static struct xmm_call xc __attribute__((aligned(16)));
void xmm_hypercall64(void);

__asm__(".pushsection .text\n"
	".code64\n"
	".globl xmm_hypercall64\n"
	"xmm_hypercall64:\n"
	"\tpush %rbx\n"
	"\tmovdqu 24(%rdi), %xmm0\n\tmovdqu 40(%rdi), %xmm1\n\tmovdqu 56(%rdi), %xmm2\n"
	"\tmovdqu 72(%rdi), %xmm3\n\tmovdqu 88(%rdi), %xmm4\n\tmovdqu 104(%rdi), %xmm5\n"
	"\tmov %rdi, %rbx\n"
	"\tmov 0(%rbx), %rcx\n\tmov 8(%rbx), %rdx\n\tmov 16(%rbx), %r8\n"
	"\tcall *120(%rbx)\n"
	"\tmov %rax, 128(%rbx)\n"
	"\txor %eax, %eax\n"
	"\tpop %rbx\n"
	"\tret\n"
	".code32\n"
	".popsection\n");

static u64 xmm_call(void)
{
	xc.page = hvcall_page_addr;
	write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
	write_cr4(read_cr4() | CR4_OSFXSR);
	paging_init();
	if (lm_call(xmm_hypercall64, (u32)&xc, paging_long_cr3()) == LM_ABORTED)
		return ~0ull;
	return xc.result;
}

/* FlushVirtualAddressListEx with XMM input: RDX AddressSpace, R8 Flags,
 * XMM0 = {Format, ValidBanksMask}, XMM1.lo = bank 0 (the AP), XMM1.hi = GVA
 * (digest 8.7): 48 bytes, three register pairs. */
static u32 xmm_flush_list_ex_ap(void)
{
	memset(&xc, 0, sizeof(xc));
	xc.control = HV_CALL_FLUSH_LIST_EX | HVCALL_FAST | HVCALL_VARHEAD(1) | HVCALL_REP_COUNT(1);
	xc.xmm[0] = 0;
	xc.xmm[1] = 1;
	xc.xmm[2] = 1ull << 1;
	xc.xmm[3] = (u32)page_a;
	return (u32)xmm_call();
}

static void xmm_tests(bool offered)
{
	if (!offered) {
		test_result("xmm-fast-input-3.5", false, "CPUID 0x40000003 EDX[4] clear");
		return;
	}
	/* SendSyntheticClusterIpiEx: RDX vector, R8 Format, XMM0 = {ValidBanksMask,
	 * bank 0}: 32 bytes, two pairs. */
	memset(&xc, 0, sizeof(xc));
	xc.control = HV_CALL_SEND_IPI_EX | HVCALL_FAST | HVCALL_VARHEAD(1);
	xc.rdx = VEC_PV_IPI;
	xc.r8 = 0;
	xc.xmm[0] = 1;
	xc.xmm[1] = ap_up ? 0x3 : 0x1;
	u32 b0 = ipi_hits[0], b1 = ipi_hits[1];
	u64 r = xmm_call();
	irq_enable();
	bool ok = wait_hits(0, b0 + 1) && (!ap_up || wait_hits(1, b1 + 1));
	irq_disable();
	test_result("xmm-fast-input-ipi-ex-3.5", hvcall_status(r) == HV_STATUS_SUCCESS && ok,
		    "result %llx, hits BSP %u AP %u", r, ipi_hits[0] - b0, ipi_hits[1] - b1);
	/* Too much for RDX, R8 and six XMM registers: 7 pairs hold 112 bytes. */
	memset(&xc, 0, sizeof(xc));
	xc.control = HV_CALL_FLUSH_LIST | HVCALL_FAST | HVCALL_REP_COUNT(12); /* 24 + 96 bytes */
	xc.xmm[0] = 1;
	r = xmm_call();
	hvcall_expect("xmm-fast-input-too-big-3.5", r, HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* Output in registers needs XMM fast output, which is not offered. */
	memset(&xc, 0, sizeof(xc));
	xc.control = HV_CALL_EXT_QUERY_CAPS | HVCALL_FAST;
	hvcall_expect("xmm-fast-output-not-offered-3.5", xmm_call(),
		      HV_STATUS_INVALID_HYPERCALL_INPUT);
}

/* ---- main ------------------------------------------------------------------------ */

void guest_main(void)
{
	u32 a, b, c, d;

	cpuid(0x40000004, 0, &a, &b, &c, &d);
	u32 hints = a;
	cpuid(0x40000003, 0, &a, &b, &c, &d);
	note("hints %08x privileges %08x:%08x features edx %08x", hints, b, a, d);
	test_result("cpuid-flush-ipi-hints-1.5",
		    (hints & (HV_HINT_REMOTE_FLUSH | HV_HINT_CLUSTER_IPI | HV_HINT_EX_MASKS)) ==
			    (HV_HINT_REMOTE_FLUSH | HV_HINT_CLUSTER_IPI | HV_HINT_EX_MASKS),
		    "hints %08x", hints);
	bool xmm_offered = d & HV_FEAT_XMM_INPUT;
	test_result("cpuid-xmm-input-and-ext-hypercalls-1.4",
		    xmm_offered && (b & HV_PRIV_EBX_EXT_HYPERCALLS), "edx %08x ebx %08x", d, b);

	tsc_init();
	irq_init();
	irq_set_handler(VEC_PV_IPI, ipi_handler);
	/* The firmware's 8259s stay masked: only the APIC's interrupts arrive. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_enter_xapic();
	smp_discover();
	if (smp_cpu_count >= 2 && smp_start_aps() >= 1)
		ap_up = true;
	test_result("two-vps-up", ap_up, "%d CPU(s) in the MADT", smp_cpu_count);

	hvcall_enable();

	flush_tests();
	ipi_tests();
	other_call_tests();

	paging_enable_pae();
	if (ap_up)
		smp_call(1, ap_paging_on, NULL, AP_CALL_MS);
	tlb_flush_test("pv-flush-space-drops-stale-tlb-8.5", BY_SPACE);
	tlb_flush_test("pv-flush-list-ex-drops-stale-tlb-8.5", BY_LIST_EX);
	if (xmm_offered)
		tlb_flush_test("pv-flush-xmm-fast-drops-stale-tlb-8.7", BY_XMM_FAST);
	mutual_flush_test();
	xmm_tests(xmm_offered);

	u32 unhandled = 0;
	for (u32 v = 0; v < 256; v++)
		unhandled += irq_unhandled[v];
	test_result("no-stray-interrupts", unhandled == 0, "%u unhandled", unhandled);
}
