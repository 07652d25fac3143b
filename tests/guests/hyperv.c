/*
 * hyperv: the Hv#1 interface as far as the hypervisor implements it today
 * (hyperv/hv_partition.h).  Each test names the TLFS section (digest numbering)
 * whose rule it checks.  Command line: `crash` ends with a crash notification
 * through the crash MSRs (the hypervisor must dump and stop the partition).
 */
#include "guest.h"
#include "hvcall.h"

const char guest_name[] = "hyperv";

void site_poke(void *);

/* Pages of guest RAM the hypercall page and the TSC page are laid over. */
static u8 overlay_target[4096] __attribute__((aligned(4096)));
static volatile u32 tsc_target[1024] __attribute__((aligned(4096)));

/* High 64 bits of a 64x64 product, from 32-bit pieces (no libgcc here). */
static u64 mul_high(u64 a, u64 b)
{
	u64 al = (u32)a, ah = a >> 32, bl = (u32)b, bh = b >> 32;
	u64 ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	u64 mid = (ll >> 32) + (u32)lh + (u32)hl;
	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* The guest's side of the TSC page (TLFS 12.7): sequence, scale, offset,
 * sequence again; 0 means "use the MSR". */
static bool tsc_page_read(u64 *value)
{
	for (;;) {
		u32 seq = tsc_target[0];
		if (seq == 0)
			return false;
		u64 scale = ((u64)tsc_target[3] << 32) | tsc_target[2];
		u64 offset = ((u64)tsc_target[5] << 32) | tsc_target[4];
		u64 now = mul_high(rdtsc(), scale) + offset;
		if (tsc_target[0] == seq) {
			*value = now;
			return true;
		}
	}
}

static void tsc_page_test(void)
{
	u32 a, b, c, d;
	cpuid(0x40000003, 0, &a, &b, &c, &d);
	if (!(a & HV_PRIV_REFERENCE_TSC)) {
		test_result("tsc-page-2.7", false, "AccessPartitionReferenceTsc not offered");
		return;
	}
	tsc_target[0] = 0xA5A5A5A5;
	wrmsr(HV_MSR_REFERENCE_TSC, (u32)tsc_target | 1);
	test_result("tsc-page-msr-2.7", rdmsr(HV_MSR_REFERENCE_TSC) == ((u32)tsc_target | 1),
		    "REFERENCE_TSC %llx", rdmsr(HV_MSR_REFERENCE_TSC));
	u64 before = rdmsr(HV_MSR_TIME_REF_COUNT), page_value = 0;
	bool valid = tsc_page_read(&page_value);
	u64 after = rdmsr(HV_MSR_TIME_REF_COUNT);
	if (valid)
		test_result("tsc-page-agrees-with-time-ref-count-2.7",
			    before <= page_value && page_value <= after,
			    "MSR %llu, page %llu, MSR %llu", before, page_value, after);
	else
		/* A TSC too slow for the page's precision (Bochs): the page must
		 * say so with sequence 0, and the MSR still counts. */
		test_result("tsc-page-invalid-falls-back-2.7", after > before && tsc_target[0] == 0,
			    "sequence %u, MSR %llu then %llu", tsc_target[0], before, after);
	struct trap t;
	test_result("tsc-page-write-gp-2.7", trap_run(site_poke, (void *)tsc_target, &t) == VEC_GP,
		    "writing the TSC page did not #GP");
	wrmsr(HV_MSR_REFERENCE_TSC, 0);
	test_result("tsc-page-removed-2.7", tsc_target[0] == 0xA5A5A5A5, "RAM under it reads %08x",
		    tsc_target[0]);
}

/* arg: the address to write one byte to */
__asm__(".text\n"
	".globl site_poke\nsite_poke:\n\tmov 4(%esp), %eax\n\tmovb $0x90, (%eax)\n\tret\n");

void guest_main(void)
{
	u32 a, b, c, d;
	char sig[13];

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	test_result("cpuid-vendor-1.2", a >= 0x40000005 && strcmp(sig, "Microsoft Hv") == 0,
		    "max %08x vendor '%s'", a, sig);
	cpuid(0x40000001, 0, &a, &b, &c, &d);
	test_result("cpuid-interface-1.3", a == 0x31237648, "interface %08x, want Hv#1", a);
	cpuid(0x40000003, 0, &a, &b, &c, &d);
	note("privileges %08x:%08x features edx %08x", b, a, d);
	u32 privileges = a;
	test_result("cpuid-privileges-1.4",
		    (a & (HV_PRIV_HYPERCALL_MSRS | HV_PRIV_VP_INDEX | HV_PRIV_REF_COUNTER)) ==
				(HV_PRIV_HYPERCALL_MSRS | HV_PRIV_VP_INDEX | HV_PRIV_REF_COUNTER) &&
			    (d & HV_FEAT_CRASH_MSRS),
		    "privileges %08x edx %08x", a, d);
	cpuid(0x4000000A, 0, &a, &b, &c, &d);
	test_result("cpuid-nested-leaf-hidden", (a | b | c | d) == 0, "0x4000000A not zero");

	test_result("vp-index-2.4", rdmsr(HV_MSR_VP_INDEX) == 0, "VP_INDEX %llu",
		    rdmsr(HV_MSR_VP_INDEX));
	test_result("vp-index-read-only-2.1", wrmsr_gp(HV_MSR_VP_INDEX, 1), "write did not #GP");
	/* The SynIC itself is tested by tests/guests/hv_synic.c; here only its
	 * gate: absent privilege, #GP (digest 1.4). */
	if (!(privileges & HV_PRIV_SYNIC))
		test_result("synic-not-offered-gp-2.1", wrmsr_gp(HV_MSR_SCONTROL, 1),
			    "SCONTROL write did not #GP");

	u64 t0 = rdmsr(HV_MSR_TIME_REF_COUNT);
	for (volatile u32 i = 0; i < 200000; i++)
		;
	u64 t1 = rdmsr(HV_MSR_TIME_REF_COUNT);
	test_result("time-ref-count-2.6", t1 > t0, "TIME_REF_COUNT %llu then %llu", t0, t1);
	test_result("time-ref-count-read-only-2.1", wrmsr_gp(HV_MSR_TIME_REF_COUNT, 0),
		    "write did not #GP");

	u32 page = (u32)overlay_target;
	overlay_target[0] = 0x5A;
	/* 2.3: Enable stays clear while GUEST_OS_ID is 0. */
	wrmsr(HV_MSR_GUEST_OS_ID, 0);
	wrmsr(HV_MSR_HYPERCALL, page | HV_HYPERCALL_ENABLE);
	test_result("hypercall-needs-os-id-2.3", !(rdmsr(HV_MSR_HYPERCALL) & HV_HYPERCALL_ENABLE),
		    "HYPERCALL %llx", rdmsr(HV_MSR_HYPERCALL));
	test_result("hypercall-reserved-bits-gp-2.3", wrmsr_gp(HV_MSR_HYPERCALL, page | 0x4),
		    "no #GP");

	wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000000000000ULL); /* an open-source OS id */
	test_result("guest-os-id-2.2", rdmsr(HV_MSR_GUEST_OS_ID) == 0x8100000000000000ULL,
		    "read back");
	wrmsr(HV_MSR_HYPERCALL, page | HV_HYPERCALL_ENABLE);
	test_result("hypercall-enabled-2.3",
		    rdmsr(HV_MSR_HYPERCALL) == (page | HV_HYPERCALL_ENABLE), "HYPERCALL %llx",
		    rdmsr(HV_MSR_HYPERCALL));
	const u8 *p = overlay_target;
	bool amd = p[2] == 0xd9, intel = p[2] == 0xc1;
	test_result("hypercall-page-contents-3.13", p[0] == 0x0f && p[1] == 0x01 && (amd || intel) && p[3] == 0xc3,
		    "page starts %02x %02x %02x %02x", p[0], p[1], p[2], p[3]);

	/* This guest places the page itself (the tests above): lib/hvcall
	 * calls through it once told where it is. */
	hvcall_page_addr = page;
	u64 r = hvcall(0x7777, 0, 0);
	test_result("unknown-call-code-3.7", hvcall_status(r) == HV_STATUS_INVALID_HYPERCALL_CODE,
		    "result %llx", r);
	r = hvcall(0x0008 | HVCALL_FAST, 100, 0); /* fast NotifyLongSpinWait */
	test_result("notify-long-spin-wait-4.4", hvcall_status(r) == 0, "result %llx", r);

	struct trap t;
	test_result("hypercall-page-write-gp-2.3", trap_run(site_poke, overlay_target, &t) == VEC_GP,
		    "writing the overlay did not #GP");

	wrmsr(HV_MSR_HYPERCALL, page);
	test_result("overlay-removed-2.3", overlay_target[0] == 0x5A, "RAM under the overlay reads %02x",
		    overlay_target[0]);

	tsc_page_test();

	if (cmdline_has("crash")) {
		for (u32 i = 0; i < 5; i++)
			wrmsr(HV_MSR_CRASH_P0 + i, 0x1000 + i);
		printf("hyperv: reporting a crash now\n");
		wrmsr(HV_MSR_CRASH_CTL, 1ULL << 63);
		test_result("crash-notify-stops-the-partition", false, "the guest is still running");
	}
}
