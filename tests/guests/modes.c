/*
 * modes: processor-mode transitions inside the guest.
 *
 *   32-bit protected (paging off) -> PAE paging (NX: an instruction fetch from an NX
 *   page is #PF with I/D) -> long mode (NX again, with the 64-bit IDT) -> back to PAE
 *   -> paging off -> 16-bit protected -> real mode (prints from there via COM1)
 *   -> 32-bit protected again -> long mode once more.
 *
 * A hypervisor must follow every one of these (CR0/CR4/EFER writes, far jumps between
 * code segments of different sizes, real-mode segment semantics).
 */
#include "guest.h"

const char guest_name[] = "modes";

/* The page an NX fetch is attempted from: filled with UD2 so that, if NX were
 * ignored, the fetch would show up as #UD rather than run off somewhere. */
static u8 nx_page[4096] __attribute__((aligned(4096)));

static void call_address(void *target)
{
	((void (*)(void))target)();
}

static bool check_nx_fault(u32 vector, u64 error, u64 ip, u64 cr2)
{
	bool ok = EXPECT_EQ(vector, VEC_PF);
	ok &= EXPECT_EQ(error, PF_P | PF_ID);
	ok &= EXPECT_EQ(ip, (u32)nx_page);
	ok &= EXPECT_EQ(cr2, (u32)nx_page);
	return ok;
}

static void protected32(const char *test)
{
	test_begin(test);
	u32 cr0 = read_cr0();
	EXPECT(cr0 & CR0_PE);
	EXPECT(!(cr0 & CR0_PG));
	EXPECT_EQ(read_cs(), SEL_CODE32);
	EXPECT(!(rdmsr(MSR_EFER) & EFER_LMA));
	test_end();
}

static void long_mode(const char *test)
{
	struct lm_info info = { 0 };
	test_begin(test);
	u32 r = lm_call(lm_probe_info, (u32)&info, paging_long_cr3());
	if (r != 0x64) {
		test_fail("lm_call returned 0x%x (exception %s in long mode, rip %llx)", r,
			  vector_name((u32)lm_trap.vector), lm_trap.rip);
	} else {
		EXPECT(info.efer & EFER_LMA);
		EXPECT(info.efer & EFER_LME);
		EXPECT(info.cr0 & CR0_PG);
		EXPECT(info.cr4 & CR4_PAE);
		EXPECT_EQ(info.cs, SEL_CODE64);
		EXPECT_EQ(info.wide, LM_WIDE_EXPECTED);
	}
	test_end();
}

void guest_main(void)
{
	u32 a, b, c, d;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	if (!(d & (1u << 29)))
		guest_abort("the CPU has no long mode");

	protected32("protected32");

	/* PAE paging on the identity map. */
	paging_init();
	memset(nx_page, 0, sizeof(nx_page));
	for (u32 i = 0; i + 1 < sizeof(nx_page); i += 2)
		nx_page[i] = 0x0f, nx_page[i + 1] = 0x0b; /* ud2 */
	u64 *pte = paging_pte((u32)nx_page);
	if (!pte)
		guest_abort("nx_page %p is outside the 4 KiB-mapped range", (void *)nx_page);
	*pte |= PTE_NX;

	test_begin("pae-paging");
	paging_enable_pae();
	EXPECT(read_cr0() & CR0_PG);
	EXPECT(read_cr4() & CR4_PAE);
	EXPECT_EQ(read_cr3(), paging_pae_cr3());
	volatile u32 probe = 0x1234abcd;
	EXPECT_EQ(probe, 0x1234abcd);
	test_end();

	test_begin("pae-nx");
	if (!paging_has_nx()) {
		test_fail("CPUID reports no NX");
	} else {
		EXPECT(rdmsr(MSR_EFER) & EFER_NXE);
		struct trap t;
		int v = trap_run(call_address, nx_page, &t);
		if (v < 0)
			test_fail("fetch from the NX page did not fault");
		else
			check_nx_fault(t.vector, t.error, t.eip, t.cr2);
	}
	test_end();

	/* Long mode from PAE paging: lm_call turns paging off, sets LME, back on. */
	long_mode("long-mode");

	test_begin("long-mode-nx");
	u32 before = lm_trap.count;
	u32 r = lm_call(lm_probe_exec, (u32)nx_page, paging_long_cr3());
	if (r == 0)
		test_fail("fetch from the NX page in long mode did not fault");
	else if (r != 1)
		test_fail("lm_call returned 0x%x", r);
	else {
		EXPECT_EQ(lm_trap.count, before + 1);
		check_nx_fault((u32)lm_trap.vector, lm_trap.error, lm_trap.rip, lm_trap.cr2);
	}
	test_end();

	test_begin("back-to-pae");
	EXPECT(read_cr0() & CR0_PG);
	EXPECT_EQ(read_cr3(), paging_pae_cr3());
	EXPECT(!(rdmsr(MSR_EFER) & EFER_LMA));
	EXPECT(!(rdmsr(MSR_EFER) & EFER_LME));
	EXPECT_EQ(read_cs(), SEL_CODE32);
	probe = 0x5678;
	EXPECT_EQ(probe, 0x5678);
	test_end();

	paging_disable();
	protected32("paging-off");

	/* Down to real mode and back. */
	test_begin("real-mode");
	u32 low = low_memory_area();
	struct real_mode_result rm;
	if (!low) {
		test_fail("no usable 4 KiB below 640 KiB for the trampoline");
	} else if (!real_mode_roundtrip(low, "REALMODE hello from real mode", &rm)) {
		test_fail("real_mode_roundtrip refused base %x", low);
	} else {
		note("trampoline at 0x%x: real-mode cs=%04x ds=%04x ss=%04x cr0=%08x", low, rm.cs,
		     rm.ds, rm.ss, rm.cr0);
		EXPECT_EQ(rm.marker, REAL_MARKER);
		EXPECT_EQ(rm.cs, low >> 4);
		EXPECT_EQ(rm.ds, low >> 4);
		EXPECT_EQ(rm.ss, low >> 4);
		EXPECT(!(rm.cr0 & CR0_PE));
		EXPECT(!(rm.cr0 & CR0_PG));
		EXPECT_EQ(rm.seg_readback, REAL_ALIAS_VALUE);
	}
	test_end();

	protected32("protected32-again");
	test_begin("exceptions-after-real-mode");
	struct trap t;
	int v = trap_run(call_address, nx_page, &t); /* paging off: the UD2 bytes run */
	EXPECT_EQ(v, VEC_UD);
	EXPECT_EQ(t.eip, (u32)nx_page);
	test_end();

	long_mode("long-mode-again");
	protected32("protected32-final");
}
