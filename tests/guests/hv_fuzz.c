/*
 * hv_fuzz: deterministic pseudo-random hostile inputs to the Hv#1 interface from
 * two VPs at once (issue 6: the conformance suite must include hostile inputs).
 * Both VPs hammer the hypercalls and every synthetic MSR with their own seeds; the
 * hypervisor must survive, every answer must be one the TLFS allows, and
 * afterwards a few plain uses of the interface must still work.  Section numbers
 * are the TLFS digest's (shared/spec/tlfs-digest.md).
 *
 * Command line: `iters=<n>` iterations per VP (default FUZZ_DEFAULT_ITERS: a
 * Bochs run well under a minute), `seed=<n>` (VP 1 uses a derived seed),
 * `batch64=<percent>` of VP 0's hypercall turns that run a batch of 64-bit calls
 * (default 10; 0 for none).  Each VP's input sequence depends only on the seed;
 * the interleaving of the two VPs does not.
 *
 * Hypercalls (3.3-3.9), four kinds, each checked for what the TLFS promises:
 *  - valid: a well-formed call of an implemented code (flush, IPI, spin wait,
 *    GetVpIndexFromApicId, ExtQueryCapabilities) with random fields: SUCCESS,
 *    all reps completed, the output right;
 *  - mutated: a valid call with exactly one thing wrong (a reserved control bit,
 *    a rep count on a simple call, a misaligned / page-crossing / out-of-range /
 *    non-RAM GPA, a reserved flag, a bad vector or VP set, a wrong partition, an
 *    unknown APIC ID, a fast call too big for its registers): the one status that
 *    error has;
 *  - unknown: a code no TLFS source defines: INVALID_HYPERCALL_CODE;
 *  - random: any control value (all 64 bits random, or random fields), random
 *    GPAs and buffer contents.
 * For every call: the status is one the TLFS defines (3.9), the reserved result
 * bits 31:16 and 63:44 are zero and reps completed <= rep count (3.4), no call
 * that breaks a rule of 3.5-3.7 succeeds, and EBX/ECX/ESI/EDI/EBP (32-bit) or
 * RBX/RSI/RDI/RBP/RDX/R8-R15/XMM0-5 (64-bit, VP 0 only, batches through lm_call
 * with XMM fast input) are preserved (3.5).  Continuations (3.8) leave RIP on
 * the VMCALL; the stub simply executes it again.
 *
 * MSRs 0x40000000-0x400000FF and 0x40000100-0x40000105 (2): random reads and
 * writes under a #GP catch; a MSR that is not offered, a write to a read-only
 * one, a read of EOI and reserved bits must #GP; accepted writes of per-VP MSRs
 * must read back; VP_INDEX, SVERSION, EOM, RESET, the frequencies read right and
 * TIME_REF_COUNT never goes back, across VPs too.  Synthetic timers and PV IPIs
 * with random vectors fire at will: the IDT takes any vector from 16 up, counts
 * and EOIs it; a VP flooded by interrupts (a direct-mode periodic timer) turns
 * its timers off (counted as a storm, reported as a note).
 *
 * What the fuzz never does, so that the guest survives its own inputs:
 *  - an output GPA (EDI:ESI / R8, also for fast calls) never points into the
 *    guest image outside the scratch pages: it is in the shared scratch pages,
 *    at the top of RAM, on the hypercall page, or invalid (beyond RAM or
 *    MAXPHYADDR, MMIO, misaligned, crossing a page); input GPAs go anywhere;
 *  - overlay MSRs (HYPERCALL, REFERENCE_TSC, SIMP, SIEFP, VP_ASSIST_PAGE) only
 *    get GPAs in the scratch pages or beyond RAM (never the APIC page), with or
 *    without reserved bits; HYPERCALL and GUEST_OS_ID writes happen under a lock
 *    that keeps the other VP's hypercalls out, and are undone at once; the
 *    HYPERCALL Locked bit is never set (it would freeze the page);
 *  - RESET bit 0 and CRASH_CTL bit 63 are never written (they end the
 *    partition) and no ICR write uses INIT or start-up delivery (they would
 *    reset the other VP);
 *  - GUEST_IDLE is read only with TPR 0 and the APIC timer armed to wake it.
 * Output GPAs in guest page 0 are kept out of memory-form calls (the guest's
 * own data could be there; inputs from page 0 are fuzzed), and periodic timers
 * are kept to periods of at least 100 ms (see stimer_tame).  The sanity-*
 * checks at the end issue a page-0 input, a huge and a tiny period: each of
 * them once crashed or stopped the hypervisor's VP.
 *
 * After the fuzz: VP_INDEX, a fast NotifyLongSpinWait, a flush of all
 * processors, PV IPIs both ways, TIME_REF_COUNT, the hypercall page, the guest's
 * own code and the scratch guard pages, the reference TSC page, the crash
 * parameters; then on VP 1 a periodic timer with a huge period, one with a
 * tiny period, and one with the shortest period whose own earlier message still
 * waits behind a busy slot, and last an input GPA in page 0.  A VP that stops
 * making progress is reported by the other with the inputs it was working on.
 */
#include "guest.h"
#include "hv_tlfs.h"
#include "irq.h"
#include "lapic.h"
#include "smp.h"

const char guest_name[] = "hv_fuzz";

#define FUZZ_DEFAULT_ITERS 3000
#define FUZZ_DEFAULT_SEED 0x5EED1234u
#define STALL_MS 30000	    /* no progress for this long: the VP hangs */
#define AP_CALL_MS 5000

/* ---- Hv#1 numbers only the fuzz needs (the rest are in hv_tlfs.h) -------------------
 * Kept here because no other guest sets or tests reserved bits this way. */
#define GUEST_OS_ID_VALUE 0x8100000000000000ull
#define OVERLAY_RSVD 0xFFEull	   /* 11:1 (2.7, 2.10, 2.11) */
#define HYPERCALL_RSVD 0xFFCull	   /* 11:2 (2.3) */
#define STIMER_RSVDZ 0xFFFFFFFFFFF0E000ull /* 15:13, 63:20 (2.12) */
#define CTL_NESTED (1ull << 31)
#define CTL_RSVD 0xF000F00078000000ull /* 30:27, 47:44, 63:60 (3.3) */
#define RESULT_RSVD 0xFFFFF000FFFF0000ull /* 31:16, 63:44 (3.4) */
#define FLUSH_FLAGS_VALID 0x7ull /* ALL_PROCESSORS, ALL_SPACES, NON_GLOBAL (8.1) */
#define PARTITION_SELF 0xFFFFFFFFFFFFFFFFull

/* Vectors the guest itself uses. */
#define VEC_WAKE 0xEE	   /* APIC timer that ends a GUEST_IDLE */
#define VEC_SANITY_IPI 0x61
#define VEC_SANITY_TIMER 0x62
#define VEC_SPURIOUS 0xFF
#define STORM_IRQS 300	   /* interrupts within one iteration: a storm */

/* ---- memory -------------------------------------------------------------------------
 * The scratch zone: guard pages at both ends (a pattern checked at the end), the
 * hypercall page's temporary home (used only under the write lock), one page per
 * VP for the outputs the valid calls check, and shared pages for random outputs
 * and overlays.  The guest itself never writes the pages in between. */
enum {
	SP_GUARD0,
	SP_HC_MOVE,
	SP_VALID_OUT0,
	SP_VALID_OUT1,
	SP_SHARED_FIRST,
	SP_SHARED_LAST = SP_SHARED_FIRST + 7,
	SP_GUARD1,
	SCRATCH_PAGES
};
#define GUARD_BYTE 0xC5
#define OUT_FILL 0xEE
static u8 scratch[SCRATCH_PAGES][4096] __attribute__((aligned(4096)));
static u8 hypercall_page[4096] __attribute__((aligned(4096)));
/* Per VP: two pages of input (a page-crossing input reads into the second). */
static u8 in_buf[2][2][4096] __attribute__((aligned(4096)));

static u32 page_of(u32 sp) { return (u32)scratch[sp]; }
extern char __bss_start[]; /* lib/guest.ld: .text, .rodata and .data end here */

/* ---- environment ------------------------------------------------------------------- */

static struct {
	u32 priv_lo, priv_hi, feat_edx, hints;
	u32 maxphy;
	u64 gpa_limit;
	u64 ram_top;	       /* end of the highest usable region */
	u32 top_scratch;       /* 16 free pages below ram_top (0: none) */
	u8 insn[4];	       /* the hypercall page's first bytes */
	u32 wake_ticks;	       /* APIC timer ticks in 200 us */
	u64 tsc_freq, apic_freq, caps;
	u32 apic_ids[2];
	u32 iters, seed;
	u32 batch64;	       /* % of VP 0's hypercall turns that are a 64-bit batch */
	bool xmm_in, xmm_out, direct, polling;
	u32 text_sum[128];     /* per 4 KiB page of .text/.rodata/.data */
	u32 text_pages;
} env;

static volatile bool hc_broken; /* the hypercall page could not be restored */

/* ---- per-VP state --------------------------------------------------------------------- */

enum check {
	CHK_STATUS_KNOWN,
	CHK_RESULT_RSVD,
	CHK_REPS,
	CHK_FORBIDDEN_SUCCESS,
	CHK_EXPECTED,
	CHK_OUTPUT,
	CHK_REGS,
	CHK_HC_FAULT,
	CHK_MSR_GP,
	CHK_MSR_READBACK,
	CHK_MSR_VALUE,
	CHK_TIME,
	CHK_HC_MSR,
	CHK_COUNT
};

static const char *const check_names[CHK_COUNT] = {
	[CHK_STATUS_KNOWN] = "fuzz-status-is-a-tlfs-status-3.9",
	[CHK_RESULT_RSVD] = "fuzz-result-reserved-bits-zero-3.4",
	[CHK_REPS] = "fuzz-reps-completed-3.4",
	[CHK_FORBIDDEN_SUCCESS] = "fuzz-no-success-for-invalid-calls-3.5-3.7",
	[CHK_EXPECTED] = "fuzz-valid-and-single-error-statuses-3.6-3.7",
	[CHK_OUTPUT] = "fuzz-output-of-valid-calls-4.19-4.23",
	[CHK_REGS] = "fuzz-registers-preserved-3.5",
	[CHK_HC_FAULT] = "fuzz-no-exception-from-hypercalls-3.1",
	[CHK_MSR_GP] = "fuzz-msr-gp-rules-2",
	[CHK_MSR_READBACK] = "fuzz-msr-readback-2",
	[CHK_MSR_VALUE] = "fuzz-msr-values-2",
	[CHK_TIME] = "fuzz-time-ref-count-monotonic-2.6",
	[CHK_HC_MSR] = "fuzz-hypercall-and-os-id-msrs-2.2-2.3",
};

struct check_state {
	u32 fails;
	char first[240];
};

enum mode { MODE_VALID, MODE_MUTATED, MODE_UNKNOWN, MODE_RANDOM, MODE_COUNT };
static const char *const mode_names[MODE_COUNT] = {"valid", "mutated", "unknown", "random"};

enum op { OP_NONE, OP_HC32, OP_HC64, OP_RDMSR, OP_WRMSR, OP_IDLE, OP_HC_MSR };
static const char *const op_names[] = {"none", "hypercall (32-bit)", "hypercall batch (64-bit)",
				       "rdmsr", "wrmsr", "GUEST_IDLE read", "HYPERCALL/OS ID MSR"};

#define NSTATUS 64
struct fuzz_cpu {
	u32 vp;
	u64 rng;
	volatile u32 iter;
	volatile u32 done;
	/* What the VP is doing right now, for a hang report. */
	volatile u32 op;
	volatile u64 op_a, op_b, op_c;
	/* Set by the trap handler for an exception at a known site. */
	volatile u32 hc_target;
	/* Where generated inputs and checked outputs go: the whole input page and
	 * output page, or one record's share of them in a 64-bit batch. */
	u32 in_win, in_win_len, out_win, out_win_len;
	volatile u32 faulted, fault_vec;
	/* Counts. */
	u32 hypercalls, hc64, status[NSTATUS + 1], modes[MODE_COUNT];
	u32 msr_reads, msr_writes, msr_gp, idles, hc_msr_ops, hc_moves, os_id_ops;
	u32 lm_nmi_aborts;
	volatile u32 irqs, nmis, storms, spurious, irq_burst;
	u64 storm_cfg[4], storm_cnt[4];
	u64 st_cfg[4], st_cnt[4]; /* what this VP last wrote to its timers */
	u64 last_runtime;
	u64 t_start, t_end;
	struct check_state chk[CHK_COUNT];
	/* An exception nobody expected (the VP stops). */
	volatile u32 fatal, fatal_vec, fatal_err, fatal_eip;
};
static struct fuzz_cpu cpus[2];
static volatile u32 irq_count[2][256];

static void fail(struct fuzz_cpu *c, enum check k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct fuzz_cpu *c, enum check k, const char *fmt, ...)
{
	struct check_state *s = &c->chk[k];
	if (s->fails++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		int n = snprintf(s->first, sizeof(s->first), "vp%u iter %u: ", c->vp, c->iter);
		vsnprintf(s->first + n, sizeof(s->first) - (size_t)n, fmt, ap);
		va_end(ap);
	}
}

/* ---- PRNG (xorshift64*, seeded through splitmix64) ---------------------------------- */

static u64 splitmix64(u64 *x)
{
	u64 z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static u64 rnd(struct fuzz_cpu *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545F4914F6CDD1Dull;
}

static u32 below(struct fuzz_cpu *c, u32 n)
{
	return (u32)(((rnd(c) >> 32) * (u64)n) >> 32);
}

static bool chance(struct fuzz_cpu *c, u32 percent)
{
	return below(c, 100) < percent;
}

static u32 popcount64(u64 x)
{
	u32 n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

static void put64(u8 *p, u32 off, u64 v) { memcpy(p + off, &v, 8); }
static void put32(u8 *p, u32 off, u32 v) { memcpy(p + off, &v, 4); }
static u64 get64(const u8 *p, u32 off)
{
	u64 v;
	memcpy(&v, p + off, 8);
	return v;
}

/* ---- exceptions and interrupts ---------------------------------------------------------
 * An IDT of 256 stubs (16 bytes apart) into fuzz_trap().  Vectors 16-255 are
 * taken as interrupts (they push no error code: #AC, #CP, #VC and #SX cannot
 * happen in this ring-0 guest), so a PV IPI or SINT vector anywhere from 16 up
 * is harmless.  #GP and #UD at the guest's own RDMSR/WRMSR sites and at the
 * hypercall page are recorded for the VP that took them and skipped; anything
 * else is fatal. */
struct fframe {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;
	u32 vector, error, eip, cs, eflags;
};
void fuzz_trap(struct fframe *f);
extern char fuzz_stubs[], fuzz_at_rdmsr[], fuzz_at_wrmsr[], fuzz_ret_landing[];
u64 fuzz_rdmsr(u32 msr);
void fuzz_wrmsr(u32 msr, u32 lo, u32 hi);

__asm__(".pushsection .text\n"
	".balign 16\n"
	".globl fuzz_stubs\n"
	"fuzz_stubs:\n"
	".set fzv, 0\n"
	".rept 256\n"
	".balign 16\n"
	".if (fzv == 8) || (fzv == 10) || (fzv == 11) || (fzv == 12) || (fzv == 13) || (fzv == 14)\n"
	".else\n"
	"\tpushl $0\n"
	".endif\n"
	"\tpushl $fzv\n"
	"\tjmp fuzz_common\n"
	".set fzv, fzv + 1\n"
	".endr\n"
	"fuzz_common:\n"
	"\tpushal\n"
	"\tcld\n"
	"\tpush %esp\n"
	"\tcall fuzz_trap\n"
	"\tadd $4, %esp\n"
	"\tpopal\n"
	"\tadd $8, %esp\n"
	"\tiret\n"
	/* u64 fuzz_rdmsr(u32 msr) / void fuzz_wrmsr(u32 msr, u32 lo, u32 hi) */
	".globl fuzz_rdmsr\n"
	"fuzz_rdmsr:\n"
	"\tmov 4(%esp), %ecx\n"
	".globl fuzz_at_rdmsr\n"
	"fuzz_at_rdmsr:\n"
	"\trdmsr\n"
	"\tret\n"
	".globl fuzz_wrmsr\n"
	"fuzz_wrmsr:\n"
	"\tmov 4(%esp), %ecx\n"
	"\tmov 8(%esp), %eax\n"
	"\tmov 12(%esp), %edx\n"
	".globl fuzz_at_wrmsr\n"
	"fuzz_at_wrmsr:\n"
	"\twrmsr\n"
	"\tret\n"
	".popsection\n");

struct gate32 {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));
static struct gate32 fuzz_idt[256] __attribute__((aligned(8)));

static void fuzz_idt_load(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) r = {sizeof(fuzz_idt) - 1, (u32)fuzz_idt};
	__asm__ volatile("lidt %0" ::"m"(r));
}

static void fuzz_idt_build(void)
{
	for (u32 v = 0; v < 256; v++) {
		u32 t = (u32)fuzz_stubs + 16 * v;
		fuzz_idt[v] = (struct gate32){(u16)t, SEL_CODE32, 0, 0x8e, (u16)(t >> 16)};
	}
}

static int this_vp(void)
{
	return smp_this_cpu() == 0 ? 0 : 1;
}

static bool offered_lo(u32 bit) { return env.priv_lo & bit; }

static void eoi(struct fuzz_cpu *c)
{
	/* Alternate between the APIC and the EOI MSR (2.9). */
	if (offered_lo(HV_PRIV_INTR_CTRL) && (c->irqs & 1))
		wrmsr(HV_MSR_EOI, 0);
	else
		lapic_eoi();
}

/* A VP flooded by its own synthetic timers (a direct-mode periodic timer with
 * a tiny period): note what they were and turn them off. */
static void storm_break(struct fuzz_cpu *c)
{
	if (!offered_lo(HV_PRIV_STIMER))
		return;
	for (u32 i = 0; i < 4; i++) {
		if (c->storms == 0) {
			c->storm_cfg[i] = rdmsr(HV_MSR_STIMER_CONFIG(i));
			c->storm_cnt[i] = rdmsr(HV_MSR_STIMER_COUNT(i));
		}
		wrmsr(HV_MSR_STIMER_CONFIG(i), 0);
	}
	c->storms++;
	c->irq_burst = 0;
}

void fuzz_trap(struct fframe *f)
{
	int vp = this_vp();
	struct fuzz_cpu *c = &cpus[vp];
	u32 v = f->vector;

	if (v == VEC_GP || v == VEC_UD) {
		if (f->eip == (u32)fuzz_at_rdmsr || f->eip == (u32)fuzz_at_wrmsr) {
			if (f->eip == (u32)fuzz_at_rdmsr)
				f->eax = f->edx = 0;
			c->fault_vec = v;
			c->faulted = 1;
			f->eip += 2; /* RDMSR and WRMSR are 0F 32 / 0F 30 */
			return;
		}
		if (c->hc_target && f->eip == c->hc_target) {
			/* At the hypercall page's VMCALL: return from the page. */
			c->fault_vec = v;
			c->faulted = 1;
			f->eax = f->edx = 0xFFFFFFFF;
			f->eip = (u32)fuzz_ret_landing;
			return;
		}
	}
	if (v == VEC_NMI) {
		c->nmis++;
		return;
	}
	if (v >= 16) {
		c->irqs++;
		c->irq_burst++;
		irq_count[vp][v]++;
		/* 0xFF is also the spurious vector, which must not be EOIed. */
		if (v == VEC_SPURIOUS && !lapic_vector_bit(LAPIC_ISR, v))
			c->spurious++;
		else
			eoi(c);
		if (c->irq_burst > STORM_IRQS)
			storm_break(c);
		return;
	}
	c->fatal_vec = v;
	c->fatal_err = f->error;
	c->fatal_eip = f->eip;
	c->fatal = 1;
	if (vp == 0) {
		printf("GUEST %s UNEXPECTED EXCEPTION %s vector=%u error=0x%x eip=%08x on vp0 "
		       "(doing %s: %llx %llx %llx)\n",
		       guest_name, vector_name(v), v, f->error, f->eip, op_names[c->op], c->op_a,
		       c->op_b, c->op_c);
		guest_abort("unexpected exception %s at eip %08x", vector_name(v), f->eip);
	}
	/* The AP stops; vp0 reports it. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- the hypercall page's lock ---------------------------------------------------------
 * HYPERCALL and GUEST_OS_ID are partition-wide: while one VP moves or disables
 * the page, the other must not be inside it. */
static volatile u32 hc_readers, hc_writer;

static void hc_read_lock(void)
{
	for (;;) {
		while (hc_writer)
			cpu_relax();
		__atomic_fetch_add(&hc_readers, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&hc_writer, __ATOMIC_SEQ_CST))
			return;
		__atomic_fetch_sub(&hc_readers, 1, __ATOMIC_SEQ_CST);
	}
}

static void hc_read_unlock(void)
{
	__atomic_fetch_sub(&hc_readers, 1, __ATOMIC_SEQ_CST);
}

static void hc_write_lock(void)
{
	for (;;) {
		u32 expected = 0;
		if (__atomic_compare_exchange_n(&hc_writer, &expected, 1, false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			break;
		cpu_relax();
	}
	while (__atomic_load_n(&hc_readers, __ATOMIC_SEQ_CST))
		cpu_relax();
}

static void hc_write_unlock(void)
{
	__atomic_store_n(&hc_writer, 0, __ATOMIC_SEQ_CST);
}

/* ---- MSR access under the catch ----------------------------------------------------------- */

static u64 msr_read(struct fuzz_cpu *c, u32 msr, bool *gp)
{
	c->faulted = 0;
	u64 v = fuzz_rdmsr(msr);
	*gp = c->faulted && c->fault_vec == VEC_GP;
	if (c->faulted && c->fault_vec != VEC_GP)
		fail(c, CHK_MSR_GP, "rdmsr %x raised %s", msr, vector_name(c->fault_vec));
	return v;
}

static bool msr_write(struct fuzz_cpu *c, u32 msr, u64 v)
{
	c->faulted = 0;
	fuzz_wrmsr(msr, (u32)v, (u32)(v >> 32));
	if (c->faulted && c->fault_vec != VEC_GP)
		fail(c, CHK_MSR_GP, "wrmsr %x <- %llx raised %s", msr, v, vector_name(c->fault_vec));
	return c->faulted && c->fault_vec == VEC_GP; /* true: #GP */
}

/* ---- TIME_REF_COUNT across VPs (2.6) ------------------------------------------------------- */

static volatile u32 ref_lock;
static u64 ref_max;

static u64 ref_max_get(void)
{
	while (__atomic_exchange_n(&ref_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	u64 v = ref_max;
	__atomic_store_n(&ref_lock, 0, __ATOMIC_RELEASE);
	return v;
}

static void ref_max_put(u64 v)
{
	while (__atomic_exchange_n(&ref_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	if (v > ref_max)
		ref_max = v;
	__atomic_store_n(&ref_lock, 0, __ATOMIC_RELEASE);
}

/* A read must not be below any value a VP read before it started. */
static void time_check(struct fuzz_cpu *c, u64 v, u64 before)
{
	if (v < before)
		fail(c, CHK_TIME, "TIME_REF_COUNT %llu after a read of %llu", v, before);
	ref_max_put(v);
}

static u64 time_read(struct fuzz_cpu *c)
{
	u64 before = ref_max_get();
	u64 v = rdmsr(HV_MSR_TIME_REF_COUNT);
	time_check(c, v, before);
	return v;
}

/* ---- GPAs ---------------------------------------------------------------------------------- */

static bool in_scratch(u64 a)
{
	return (a >= (u32)scratch && a < (u32)scratch + sizeof(scratch)) ||
	       (env.top_scratch && a >= env.top_scratch && a < env.top_scratch + 16 * 4096);
}

/* A value in an output register must not name the guest's own memory (its image
 * holds code, stacks and data) unless it is a scratch page. */
static u64 sanitize_out(u64 v)
{
	if (v >= (u32)__image_start && v < (u32)__image_end && !in_scratch(v) &&
	    (v & ~0xFFFull) != (u32)hypercall_page)
		v |= 1ull << 52;
	return v;
}

static u32 shared_page(struct fuzz_cpu *c)
{
	return page_of(SP_SHARED_FIRST + below(c, SP_SHARED_LAST - SP_SHARED_FIRST + 1));
}

/* Beyond RAM, but not in the APIC/IOAPIC window (an overlay there would take the
 * guest's APIC away). */
static u64 beyond_ram(struct fuzz_cpu *c)
{
	if (chance(c, 50) && env.ram_top + 0x01000000 < 0xE0000000ull)
		return env.ram_top + 4096ull * below(c, 4096);
	if (env.maxphy > 33)
		return 0x100000000ull + 4096ull * below(c, 1u << 20);
	return env.ram_top + 4096;
}

static u64 beyond_phys(struct fuzz_cpu *c)
{
	switch (below(c, 4)) {
	case 0: return env.gpa_limit;
	case 1: return env.gpa_limit + ((rnd(c) & 0xFFFFFFF) << 12);
	case 2: return 1ull << 52;
	default: return (rnd(c) | (1ull << 63)) & ~0xFFFull;
	}
}

static u64 gen_in_gpa(struct fuzz_cpu *c)
{
	u32 base = (u32)in_buf[c->vp][0];
	u32 r = below(c, 100);
	if (r < 40) return base + 8 * below(c, 512);
	if (r < 46) return base + below(c, 4096);			 /* unaligned */
	if (r < 52) return base + 4096 - 8 * (1 + below(c, 8));	 /* crosses */
	if (r < 58) return rnd(c);
	if (r < 62) return beyond_ram(c);
	if (r < 65) return env.ram_top - 8 * (1 + below(c, 512));
	if (r < 68) return (u32)hypercall_page + 8 * below(c, 512);
	if (r < 71) return 0xFEE00000u + 8 * below(c, 512);
	if (r < 73) return 0xFEC00000u + 8 * below(c, 512);
	if (r < 75) return 0xF0000000u;
	if (r < 79) return ((u32)__image_start + below(c, (u32)(__image_end - __image_start))) & ~7u;
	if (r < 83) return shared_page(c) + 8 * below(c, 512);
	if (r < 85) return 0;
	if (r < 89) return beyond_phys(c);
	if (r < 91) return 0xFFFFFFFFFFFFFFF8ull;
	if (r < 95) return (u32)in_buf[c->vp ^ 1][0] + 8 * below(c, 512);
	return 0xFFFFF000u + 8 * below(c, 512);
}

static u64 gen_out_gpa(struct fuzz_cpu *c)
{
	u32 r = below(c, 100);
	if (r < 40) return shared_page(c) + 8 * below(c, 512);
	if (r < 47) return shared_page(c) + below(c, 4096);
	if (r < 52) return shared_page(c) + 4096 - 8 * (1 + below(c, 8));
	if (r < 58) return sanitize_out(rnd(c));
	if (r < 64) return beyond_ram(c) + 8 * below(c, 512);
	if (r < 68 && env.top_scratch) return env.top_scratch + 8 * below(c, 16 * 512);
	if (r < 72) return (u32)hypercall_page + 8 * below(c, 512);
	if (r < 76) return 0xFEE00000u + 8 * below(c, 512);
	if (r < 79) return 0xFEC00000u + 8 * below(c, 512);
	if (r < 82) return 0xF0000000u;
	if (r < 90) return beyond_phys(c);
	if (r < 94) return 0xFFFFFFFFFFFFFFF8ull;
	return sanitize_out(rnd(c) & 0xFFFFFFFFull);
}

/* Not RAM for the hypervisor: MMIO windows and anything above the memory map. */
static bool gpa_not_ram(u64 g, u32 len)
{
	u64 end = g + len;
	if (g >= env.ram_top || end > env.ram_top)
		return true;
	return (g >= 0xFEC00000u && g < 0xFF000000u) || (end > 0xFEC00000u && g < 0xFF000000u);
}

/* A GPA the hypervisor must refuse for `len` bytes of parameters (3.6). */
static const char *gpa_rule(u64 g, u32 len)
{
	if (g & 7)
		return "misaligned";
	if ((g & 0xFFF) + len > 4096)
		return "crosses a page";
	if (g >= env.gpa_limit || len > env.gpa_limit - g)
		return "beyond MAXPHYADDR";
	if (gpa_not_ram(g, len))
		return "not RAM";
	return NULL;
}

/* ---- the calls --------------------------------------------------------------------------- */

enum gate { G_NONE, G_FLUSH, G_FLUSH_EX, G_IPI, G_IPI_EX, G_EXT, G_POST, G_SIGNAL };

struct code_info {
	u16 code;
	bool rep, variable;
	u16 in_size;
	u8 in_elem, out_size, out_elem;
	u8 gate;
	const char *name;
};

/* Sizes from the TLFS hypercall pages (digest 4.3-4.5, 4.14, 4.15, 4.19 with
 * [DISPUTED #2] 4-byte elements, 4.23). */
static const struct code_info codes[] = {
	{HV_CALL_FLUSH_SPACE, false, false, 24, 0, 0, 0, G_FLUSH, "FlushVirtualAddressSpace"},
	{HV_CALL_FLUSH_LIST, true, false, 24, 8, 0, 0, G_FLUSH, "FlushVirtualAddressList"},
	{HV_CALL_NOTIFY_LONG_SPIN_WAIT, false, false, 8, 0, 0, 0, G_NONE, "NotifyLongSpinWait"},
	{HV_CALL_SEND_IPI, false, false, 16, 0, 0, 0, G_IPI, "SendSyntheticClusterIpi"},
	{HV_CALL_FLUSH_SPACE_EX, false, true, 32, 0, 0, 0, G_FLUSH_EX, "FlushVirtualAddressSpaceEx"},
	{HV_CALL_FLUSH_LIST_EX, true, true, 32, 8, 0, 0, G_FLUSH_EX, "FlushVirtualAddressListEx"},
	{HV_CALL_SEND_IPI_EX, false, true, 24, 0, 0, 0, G_IPI_EX, "SendSyntheticClusterIpiEx"},
	{HV_CALL_POST_MESSAGE, false, false, 256, 0, 0, 0, G_POST, "PostMessage"},
	{HV_CALL_SIGNAL_EVENT, false, false, 8, 0, 0, 0, G_SIGNAL, "SignalEvent"},
	{HV_CALL_GET_VP_INDEX, true, false, 16, 4, 0, 4, G_NONE, "GetVpIndexFromApicId"},
	{HV_CALL_EXT_QUERY_CAPS, false, false, 0, 0, 8, 0, G_EXT, "ExtQueryCapabilities"},
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

static const struct code_info *code_lookup(u16 code)
{
	for (u32 i = 0; i < NCODES; i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

static bool gate_open(const struct code_info *ci)
{
	switch (ci->gate) {
	case G_FLUSH: return env.hints & HV_HINT_REMOTE_FLUSH;
	case G_FLUSH_EX:
		return (env.hints & (HV_HINT_REMOTE_FLUSH | HV_HINT_EX_MASKS)) ==
		       (HV_HINT_REMOTE_FLUSH | HV_HINT_EX_MASKS);
	case G_IPI: return env.hints & HV_HINT_CLUSTER_IPI;
	case G_IPI_EX:
		return (env.hints & (HV_HINT_CLUSTER_IPI | HV_HINT_EX_MASKS)) ==
		       (HV_HINT_CLUSTER_IPI | HV_HINT_EX_MASKS);
	case G_EXT: return env.priv_hi & HV_PRIV_EBX_EXT_HYPERCALLS;
	case G_POST: return env.priv_hi & HV_PRIV_EBX_POST_MESSAGES;
	case G_SIGNAL: return env.priv_hi & HV_PRIV_EBX_SIGNAL_EVENTS;
	default: return true;
	}
}

/* Codes no TLFS source defines (digest 4.1): the only answer is
 * INVALID_HYPERCALL_CODE. */
static bool code_undefined(u16 code)
{
	return code == 0 || (code >= 0x0200 && code < 0x8000) || (code >= 0x8100 && code != 0xC001);
}

static u16 undefined_code(struct fuzz_cpu *c)
{
	switch (below(c, 4)) {
	case 0: return 0;
	case 1: return (u16)(0x0200 + below(c, 0x7E00));
	case 2: return (u16)(0x8100 + below(c, 0x3F00));
	default: return (u16)(0xC002 + below(c, 0x3FFE));
	}
}

/* One hypercall as issued, and what is known about its answer. */
struct hc {
	u64 control, in, out; /* in/out: GPAs, or a fast call's first two qwords */
	u64 xmm[12];
	bool long_mode;
	u8 mode;
	const char *mutation;
	u8 n_expect;
	u16 expect[2];
	s32 expect_reps; /* -1: not known */
	const struct code_info *info;
	/* Output to check after SUCCESS. */
	u32 out_kind; /* 0 none, 1 VP indexes, 2 capabilities */
	u32 out_addr;
	u16 out_rep_start, out_rep_count;
};

static u32 ctl_code(u64 ctl) { return (u32)(ctl & 0xFFFF); }
static bool ctl_fast(u64 ctl) { return ctl & HVCALL_FAST; }
static u32 ctl_varhead(u64 ctl) { return (u32)((ctl >> 17) & 0x3FF); }
static u32 ctl_rep_count(u64 ctl) { return (u32)((ctl >> 32) & 0xFFF); }
static u32 ctl_rep_start(u64 ctl) { return (u32)((ctl >> 48) & 0xFFF); }

static u32 in_len_of(const struct code_info *ci, u64 ctl)
{
	u32 n = ci->in_size + 8 * ctl_varhead(ctl);
	if (ci->rep)
		n += ctl_rep_count(ctl) * ci->in_elem;
	return n;
}

static u32 out_len_of(const struct code_info *ci, u64 ctl)
{
	return ci->out_size + (ci->rep ? ctl_rep_count(ctl) * ci->out_elem : 0);
}

static u64 rand_mask(struct fuzz_cpu *c)
{
	switch (below(c, 6)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 2;
	case 3: return 3;
	case 4: return ~0ull;
	default: return rnd(c);
	}
}

/* n distinct random bits of 64. */
static u64 rand_bits(struct fuzz_cpu *c, u32 n)
{
	u64 m = 0;
	while (popcount64(m) < n)
		m |= 1ull << below(c, 64);
	return m;
}

/* A valid input for `ci` at p; returns the varhead it needs. */
static u32 valid_input(struct fuzz_cpu *c, const struct code_info *ci, u8 *p, u32 reps)
{
	u32 varhead = 0, off;
	switch (ci->code) {
	case HV_CALL_FLUSH_SPACE:
	case HV_CALL_FLUSH_LIST:
		put64(p, 0, rnd(c));
		put64(p, 8, rnd(c) & FLUSH_FLAGS_VALID);
		put64(p, 16, rand_mask(c));
		for (u32 i = 0; i < reps; i++)
			put64(p, 24 + 8 * i, rnd(c));
		return 0;
	case HV_CALL_FLUSH_SPACE_EX:
	case HV_CALL_FLUSH_LIST_EX:
		put64(p, 0, rnd(c));
		put64(p, 8, rnd(c) & FLUSH_FLAGS_VALID);
		if (chance(c, 20)) {
			put64(p, 16, 1); /* HV_GENERIC_SET_ALL */
			put64(p, 24, 0);
		} else {
			varhead = below(c, 4);
			put64(p, 16, 0); /* HV_GENERIC_SET_SPARSE_4K */
			put64(p, 24, rand_bits(c, varhead));
			for (u32 i = 0; i < varhead; i++)
				put64(p, 32 + 8 * i, rand_mask(c));
		}
		off = 32 + 8 * varhead;
		for (u32 i = 0; i < reps; i++)
			put64(p, off + 8 * i, rnd(c));
		return varhead;
	case HV_CALL_SEND_IPI:
		put32(p, 0, 0x10 + below(c, 0xF0));
		put32(p, 4, chance(c, 20) ? 0x10 : 0); /* UseTargetVtl with VTL0: the caller's */
		put64(p, 8, rand_mask(c));
		return 0;
	case HV_CALL_SEND_IPI_EX:
		put32(p, 0, 0x10 + below(c, 0xF0));
		put32(p, 4, 0);
		if (chance(c, 20)) {
			put64(p, 8, 1);
			put64(p, 16, 0);
		} else {
			varhead = below(c, 3);
			put64(p, 8, 0);
			put64(p, 16, rand_bits(c, varhead));
			for (u32 i = 0; i < varhead; i++)
				put64(p, 24 + 8 * i, rand_mask(c));
		}
		return varhead;
	case HV_CALL_NOTIFY_LONG_SPIN_WAIT:
		put64(p, 0, rnd(c));
		return 0;
	case HV_CALL_GET_VP_INDEX:
		put64(p, 0, PARTITION_SELF);
		put64(p, 8, chance(c, 20) ? 0x10 : 0);
		for (u32 i = 0; i < reps; i++)
			put32(p, 16 + 4 * i, env.apic_ids[below(c, 2)]);
		return 0;
	default:
		return 0;
	}
}

/* Random fields for any code: mostly the shape the code expects, with random
 * values that are often wrong. */
static void random_input(struct fuzz_cpu *c, u16 code, u8 *p, u32 len)
{
	for (u32 i = 0; i < len; i += 8)
		put64(p, i, rnd(c));
	switch (code) {
	case HV_CALL_FLUSH_SPACE:
	case HV_CALL_FLUSH_LIST:
	case HV_CALL_FLUSH_SPACE_EX:
	case HV_CALL_FLUSH_LIST_EX:
		if (chance(c, 70))
			put64(p, 8, rnd(c) & FLUSH_FLAGS_VALID);
		if (code >= HV_CALL_FLUSH_SPACE_EX && chance(c, 70))
			put64(p, 16, below(c, 3));
		if (code >= HV_CALL_FLUSH_SPACE_EX && chance(c, 50))
			put64(p, 24, rand_bits(c, below(c, 4)));
		else if (chance(c, 50))
			put64(p, 16, rand_mask(c));
		break;
	case HV_CALL_SEND_IPI:
	case HV_CALL_SEND_IPI_EX:
		if (chance(c, 70))
			put32(p, 0, chance(c, 90) ? 0x10 + below(c, 0xF0) : below(c, 0x20));
		if (chance(c, 70))
			put32(p, 4, chance(c, 80) ? 0 : below(c, 256));
		if (code == HV_CALL_SEND_IPI_EX && chance(c, 70))
			put64(p, 8, below(c, 3));
		if (code == HV_CALL_SEND_IPI_EX && chance(c, 50))
			put64(p, 16, rand_bits(c, below(c, 4)));
		else if (chance(c, 50))
			put64(p, 8, rand_mask(c));
		break;
	case HV_CALL_POST_MESSAGE:
		/* Connections 1-4 exist when the scenario connects them (hv_ports=). */
		if (chance(c, 70))
			put32(p, 0, chance(c, 60) ? 1 + below(c, 4) : below(c, 64));
		if (chance(c, 70))
			put32(p, 4, 0);
		if (chance(c, 70))
			put32(p, 8, chance(c, 80) ? 1 + below(c, 0x1000) : (u32)rnd(c));
		if (chance(c, 70))
			put32(p, 12, below(c, 300));
		break;
	case HV_CALL_SIGNAL_EVENT:
		if (chance(c, 70))
			put32(p, 0, chance(c, 60) ? 1 + below(c, 4) : below(c, 64));
		if (chance(c, 70))
			put32(p, 4, below(c, 4096) & (chance(c, 80) ? 0xFFFF : 0xFFFFFFFF));
		break;
	case HV_CALL_GET_VP_INDEX:
		if (chance(c, 80))
			put64(p, 0, PARTITION_SELF);
		if (chance(c, 70))
			put64(p, 8, 0);
		for (u32 i = 16; i + 4 <= len && i < 16 + 64; i += 4)
			if (chance(c, 60))
				put32(p, i, env.apic_ids[below(c, 2)]);
		break;
	default:
		break;
	}
}

static void expect1(struct hc *h, u16 st)
{
	h->expect[0] = st;
	h->n_expect = 1;
}

static const struct code_info *pick_valid_code(struct fuzz_cpu *c)
{
	static const u16 valid[] = {HV_CALL_FLUSH_SPACE, HV_CALL_FLUSH_LIST, HV_CALL_NOTIFY_LONG_SPIN_WAIT,
				    HV_CALL_SEND_IPI, HV_CALL_FLUSH_SPACE_EX, HV_CALL_FLUSH_LIST_EX,
				    HV_CALL_SEND_IPI_EX, HV_CALL_GET_VP_INDEX, HV_CALL_EXT_QUERY_CAPS};
	for (;;) {
		const struct code_info *ci = code_lookup(valid[below(c, sizeof(valid) / 2)]);
		if (gate_open(ci))
			return ci;
	}
}

/* Where an input of `len` bytes goes in this VP's input window (aligned). */
static u32 place_input(struct fuzz_cpu *c, u32 len)
{
	u32 room = len <= c->in_win_len ? (c->in_win_len - len) / 8 + 1 : 1;
	return c->in_win + 8 * below(c, room);
}

/* A valid call of ci: input in the VP's buffer (or registers), output in its
 * checked page. */
static void make_valid(struct fuzz_cpu *c, struct hc *h, const struct code_info *ci)
{
	u8 local[512];
	u32 reps = 0, max_fast = h->long_mode ? 112 : 16;

	h->info = ci;
	if (ci->rep)
		reps = 1 + below(c, ci->code == HV_CALL_GET_VP_INDEX ? 8 : 16);
	memset(local, 0, sizeof(local));
	u32 varhead = valid_input(c, ci, local, reps);
	u64 ctl = ci->code | HVCALL_VARHEAD(varhead);
	if (ci->rep) {
		ctl |= HVCALL_REP_COUNT(reps);
		if (chance(c, 30))
			ctl |= HVCALL_REP_START(below(c, reps));
	}
	u32 in_len = in_len_of(ci, ctl), out_len = out_len_of(ci, ctl);
	bool fast = out_len == 0 && in_len <= max_fast && chance(c, 50);
	if (fast) {
		ctl |= HVCALL_FAST;
		h->in = get64(local, 0);
		h->out = get64(local, 8);
		for (u32 i = 0; i < 12; i++)
			h->xmm[i] = get64(local, 16 + 8 * i);
		if (!h->long_mode)
			h->out = sanitize_out(h->out);
	} else {
		u32 at = place_input(c, in_len);
		memcpy((void *)at, local, in_len < sizeof(local) ? in_len : sizeof(local));
		h->in = in_len ? at : gen_in_gpa(c); /* no input: the pointer is ignored (3.6) */
		if (out_len) {
			u32 off = 8 * below(c, (c->out_win_len - out_len - 8) / 8);
			h->out = c->out_win + off;
			memset((void *)c->out_win, OUT_FILL, c->out_win_len);
			h->out_addr = c->out_win + off;
			h->out_kind = ci->code == HV_CALL_GET_VP_INDEX ? 1 : 2;
			h->out_rep_start = (u16)ctl_rep_start(ctl);
			h->out_rep_count = (u16)reps;
		} else {
			h->out = gen_out_gpa(c);
			if (!h->long_mode)
				h->out = sanitize_out(h->out);
		}
	}
	h->control = ctl;
	expect1(h, HV_STATUS_SUCCESS);
	h->expect_reps = ci->rep ? (s32)reps : 0;
}

/* One error in a valid call: the status that error has (3.5-3.7, 4.x). */
static void mutate(struct fuzz_cpu *c, struct hc *h)
{
	const struct code_info *ci = h->info;
	u64 ctl = h->control;
	bool fast = ctl_fast(ctl);
	u32 in_len = in_len_of(ci, ctl), out_len = out_len_of(ci, ctl);
	u32 reps = ctl_rep_count(ctl);
	/* The input bytes in memory (none for a fast call or a call without input). */
	u8 *p = fast || !in_len ? NULL : (u8 *)(u32)h->in;

	h->out_kind = 0;
	h->expect_reps = -1;
	for (u32 tries = 0; tries < 20; tries++) {
		switch (below(c, 16)) {
		case 0: {
			static const u8 rsvd_bits[] = {27, 28, 29, 30, 44, 45, 46, 47, 60, 61, 62, 63};
			h->control = ctl | (1ull << rsvd_bits[below(c, sizeof(rsvd_bits))]);
			h->mutation = "reserved control bit";
			expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
			return;
		}
		case 1:
			if (ci->rep)
				continue;
			h->control = ctl | (chance(c, 50) ? HVCALL_REP_COUNT(1 + below(c, 4095))
							  : HVCALL_REP_START(1 + below(c, 4095)));
			h->mutation = "rep count/start on a simple call";
			expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
			return;
		case 2:
			if (!ci->rep)
				continue;
			if (chance(c, 50)) {
				h->control = ctl & ~(HVCALL_REP_COUNT(0xFFF) | HVCALL_REP_START(0xFFF));
				h->mutation = "rep count 0";
			} else {
				h->control = (ctl & ~HVCALL_REP_START(0xFFF)) |
					     HVCALL_REP_START(reps + below(c, 4096 - reps));
				h->mutation = "rep start >= rep count";
			}
			expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
			return;
		case 3:
			if (ci->variable)
				continue;
			h->control = ctl | HVCALL_VARHEAD(1 + below(c, 1023));
			h->mutation = "varhead on a fixed-size call";
			/* The longer input may now cross a page: precedence is undefined. */
			h->expect[0] = HV_STATUS_INVALID_HYPERCALL_INPUT;
			h->expect[1] = HV_STATUS_INVALID_ALIGNMENT;
			h->n_expect = fast ? 1 : 2;
			return;
		case 4:
			if (fast || !in_len)
				continue;
			h->in += 1 + below(c, 7);
			h->mutation = "misaligned input GPA";
			expect1(h, HV_STATUS_INVALID_ALIGNMENT);
			return;
		case 5:
			if (fast || in_len <= 8)
				continue;
			h->in = (u32)in_buf[c->vp][0] + 4096 - 8 * (1 + below(c, (in_len - 1) / 8));
			h->mutation = "input crosses a page";
			expect1(h, HV_STATUS_INVALID_ALIGNMENT);
			return;
		case 6:
			if (fast || !in_len)
				continue;
			h->in = beyond_phys(c) + 8 * below(c, 256);
			h->mutation = "input beyond MAXPHYADDR";
			expect1(h, HV_STATUS_INVALID_ALIGNMENT);
			return;
		case 7:
			if (fast || !in_len)
				continue;
			h->in = chance(c, 50) ? 0xFEE00000u : beyond_ram(c);
			h->mutation = "input not RAM";
			expect1(h, HV_STATUS_INVALID_ALIGNMENT);
			return;
		case 8:
			if (fast || !out_len)
				continue;
			switch (below(c, 4)) {
			case 0: h->out += 1 + below(c, 7); h->mutation = "misaligned output GPA"; break;
			case 1:
				if (out_len <= 8)
					continue;
				/* The last qword of the page: the rest spills over. */
				h->out = page_of(c->vp ? SP_VALID_OUT1 : SP_VALID_OUT0) + 4096 - 8;
				h->mutation = "output crosses a page";
				break;
			case 2: h->out = beyond_phys(c); h->mutation = "output beyond MAXPHYADDR"; break;
			default: h->out = chance(c, 50) ? 0xFEE00000u : beyond_ram(c); h->mutation = "output not RAM"; break;
			}
			expect1(h, HV_STATUS_INVALID_ALIGNMENT);
			return;
		case 9: {
			u32 max_fast = h->long_mode ? 112 : 16;
			if (fast || in_len <= max_fast)
				continue;
			/* The registers hold the first bytes; the rest does not fit. */
			h->control = ctl | HVCALL_FAST;
			h->in = get64(p, 0);
			h->out = h->long_mode ? get64(p, 8) : sanitize_out(get64(p, 8));
			for (u32 i = 0; i < 12; i++)
				h->xmm[i] = get64(p, 16 + 8 * i);
			h->mutation = "fast input larger than the registers";
			expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
			return;
		}
		case 10:
			if (fast || !out_len || env.xmm_out)
				continue;
			h->control = ctl | HVCALL_FAST;
			h->in = p ? get64(p, 0) : 0;
			h->out = p ? get64(p, 8) : 0;
			for (u32 i = 0; i < 12; i++)
				h->xmm[i] = p ? get64(p, 16 + 8 * i) : 0;
			h->mutation = "fast call with output";
			expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
			return;
		case 11:
			if (ci->gate != G_FLUSH && ci->gate != G_FLUSH_EX)
				continue;
			{
				u64 bit = 1ull << (4 + below(c, 60));
				if (fast)
					h->out |= bit; /* Flags is the second qword */
				else
					put64(p, 8, get64(p, 8) | bit);
			}
			h->mutation = "reserved flush flag";
			expect1(h, HV_STATUS_INVALID_PARAMETER);
			return;
		case 12:
			if (ci->gate != G_IPI && ci->gate != G_IPI_EX)
				continue;
			{
				u32 vec = chance(c, 50) ? below(c, 16) : 0x100 + below(c, 0x7FFFFF00);
				if (fast)
					h->in = (h->in & ~0xFFFFFFFFull) | vec;
				else
					put32(p, 0, vec);
			}
			h->mutation = "IPI vector outside 16-255";
			expect1(h, HV_STATUS_INVALID_PARAMETER);
			return;
		case 13:
			if (ci->gate != G_IPI && ci->gate != G_IPI_EX)
				continue;
			{
				/* HV_INPUT_VTL reserved bits, another VTL, or the reserved bytes 5-7. */
				u64 bad;
				switch (below(c, 3)) {
				case 0: bad = (u64)(0x20u << below(c, 3)) << 32; break;
				case 1: bad = (u64)(0x11 + below(c, 15)) << 32; break;
				default: bad = (u64)(1 + below(c, 0xFFFFFF)) << 40; break;
				}
				if (fast) {
					h->in = (h->in & 0xFFFFFFFFull) | bad;
				} else {
					u64 q = get64(p, 0);
					put64(p, 0, (q & 0xFFFFFFFFull) | bad);
				}
			}
			h->mutation = "IPI target VTL / reserved bytes";
			expect1(h, HV_STATUS_INVALID_PARAMETER);
			return;
		case 14:
			if (ci->gate != G_FLUSH_EX && ci->gate != G_IPI_EX)
				continue;
			{
				u32 fmt_off = ci->gate == G_FLUSH_EX ? 16 : 8;
				if (fast) {
					/* Format sits in R8 (IPI Ex) or XMM0.low (flush Ex). */
					if (chance(c, 50)) {
						u64 v = 2 + below(c, 1000);
						if (ci->gate == G_IPI_EX)
							h->out = v;
						else
							h->xmm[0] = v;
						h->mutation = "VP set format not 0/1";
						expect1(h, HV_STATUS_INVALID_PARAMETER);
						return;
					}
					u64 *fmtp = ci->gate == G_IPI_EX ? &h->out : &h->xmm[0];
					u64 *maskp = ci->gate == G_IPI_EX ? &h->xmm[0] : &h->xmm[1];
					if (*fmtp != 0 || popcount64(*maskp) >= 64)
						continue;
					u64 extra;
					do
						extra = 1ull << below(c, 64);
					while (*maskp & extra);
					*maskp |= extra;
				} else {
					if (chance(c, 50)) {
						put64(p, fmt_off, 2 + below(c, 1000));
						h->mutation = "VP set format not 0/1";
						expect1(h, HV_STATUS_INVALID_PARAMETER);
						return;
					}
					u64 mask = get64(p, fmt_off + 8);
					if (get64(p, fmt_off) != 0 || popcount64(mask) >= 64)
						continue;
					u64 extra;
					do
						extra = 1ull << below(c, 64);
					while (mask & extra);
					put64(p, fmt_off + 8, mask | extra);
				}
				h->mutation = "ValidBanksMask does not match varhead";
				expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
				return;
			}
		case 15:
			if (ci->code != HV_CALL_GET_VP_INDEX || fast)
				continue;
			switch (below(c, 3)) {
			case 0:
				put64(p, 0, chance(c, 50) ? 0 : rnd(c) & ~1ull);
				h->mutation = "partition not SELF";
				expect1(h, HV_STATUS_INVALID_PARTITION_ID);
				return;
			case 1:
				put64(p, 8, get64(p, 8) | ((u64)(1 + below(c, 255)) << (8 * (1 + below(c, 7)))));
				h->mutation = "reserved header bytes";
				expect1(h, HV_STATUS_INVALID_PARAMETER);
				return;
			default: {
				u32 start = ctl_rep_start(ctl);
				u32 j = start + below(c, reps - start);
				put32(p, 16 + 4 * j, 0x1000 + below(c, 0x10000)); /* no VP has it */
				h->mutation = "unknown APIC ID";
				expect1(h, HV_STATUS_INVALID_PARAMETER);
				h->expect_reps = (s32)j;
				return;
			}
			}
		}
	}
	/* Nothing applied: a reserved control bit always does. */
	h->control = ctl | (1ull << 30);
	h->mutation = "reserved control bit 30";
	expect1(h, HV_STATUS_INVALID_HYPERCALL_INPUT);
}

static void make_unknown(struct fuzz_cpu *c, struct hc *h)
{
	u64 ctl = undefined_code(c);
	if (chance(c, 50))
		ctl |= HVCALL_FAST;
	h->info = NULL;
	h->in = gen_in_gpa(c);
	h->out = gen_out_gpa(c);
	for (u32 i = 0; i < 12; i++)
		h->xmm[i] = rnd(c);
	h->expect[0] = HV_STATUS_INVALID_HYPERCALL_CODE;
	h->n_expect = 1;
	if (chance(c, 40)) {
		/* Anything else in the control: then a shape error is as good. */
		ctl |= rnd(c) & ~0xFFFFull & ~HVCALL_FAST;
		h->expect[1] = HV_STATUS_INVALID_HYPERCALL_INPUT;
		h->n_expect = 2;
	}
	h->control = ctl;
	h->expect_reps = 0;
}

static void make_random(struct fuzz_cpu *c, struct hc *h)
{
	static const u16 known[] = {HV_CALL_FLUSH_SPACE, HV_CALL_FLUSH_LIST, HV_CALL_NOTIFY_LONG_SPIN_WAIT,
				    HV_CALL_SEND_IPI, HV_CALL_FLUSH_SPACE_EX, HV_CALL_FLUSH_LIST_EX,
				    HV_CALL_SEND_IPI_EX, HV_CALL_POST_MESSAGE, HV_CALL_SIGNAL_EVENT,
				    HV_CALL_GET_VP_INDEX, HV_CALL_EXT_QUERY_CAPS};
	u64 ctl;
	if (chance(c, 25)) {
		ctl = rnd(c);
	} else {
		u16 code = chance(c, 75) ? known[below(c, sizeof(known) / 2)]
					 : (chance(c, 50) ? (u16)rnd(c) : (u16)below(c, 0x120));
		ctl = code;
		if (chance(c, 50))
			ctl |= HVCALL_FAST;
		u32 r = below(c, 10);
		ctl |= HVCALL_VARHEAD(r < 7 ? 0 : r < 9 ? below(c, 5) : below(c, 1024));
		r = below(c, 20);
		u32 count = r < 10 ? 0 : r < 17 ? below(c, 17) : below(c, 4096);
		ctl |= HVCALL_REP_COUNT(count);
		r = below(c, 10);
		ctl |= HVCALL_REP_START(r < 7 ? 0 : r < 9 ? (count ? below(c, count) : 0) : below(c, 4096));
		if (chance(c, 10))
			ctl |= 1ull << (27 + below(c, 4) + (below(c, 3) == 0 ? 0 : below(c, 2) ? 17 : 33));
		if (chance(c, 3))
			ctl |= CTL_NESTED;
	}
	h->control = ctl;
	h->info = code_lookup((u16)ctl_code(ctl));
	/* Buffer contents: the code's shape with random values. */
	u32 len = h->info ? in_len_of(h->info, ctl) : 256;
	if (len > c->in_win_len)
		len = c->in_win_len;
	if (chance(c, 60)) {
		u32 at = place_input(c, len);
		random_input(c, (u16)ctl_code(ctl), (u8 *)at, len);
		h->in = at;
	} else {
		h->in = gen_in_gpa(c);
	}
	h->out = gen_out_gpa(c);
	if (ctl_fast(ctl)) {
		u8 local[128];
		random_input(c, (u16)ctl_code(ctl), local, sizeof(local));
		if (chance(c, 70)) {
			h->in = get64(local, 0);
			h->out = get64(local, 8);
		}
		for (u32 i = 0; i < 12; i++)
			h->xmm[i] = chance(c, 70) ? get64(local, 16 + 8 * i) : rnd(c);
	}
	if (!h->long_mode)
		h->out = sanitize_out(h->out);
	h->n_expect = 0;
	h->expect_reps = -1;
}

static void gen_call(struct fuzz_cpu *c, struct hc *h, bool long_mode)
{
	memset(h, 0, sizeof(*h));
	h->long_mode = long_mode;
	h->mutation = "";
	u32 r = below(c, 100);
	if (r < 20) {
		h->mode = MODE_VALID;
		make_valid(c, h, pick_valid_code(c));
	} else if (r < 50) {
		h->mode = MODE_MUTATED;
		make_valid(c, h, pick_valid_code(c));
		mutate(c, h);
	} else if (r < 60) {
		h->mode = MODE_UNKNOWN;
		make_unknown(c, h);
	} else {
		h->mode = MODE_RANDOM;
		make_random(c, h);
	}
	/* EDI:ESI / R8: an output GPA, or for a fast call data that a wrong
	 * hypervisor could still take for one. */
	h->out = sanitize_out(h->out);
	/* Output into guest page 0 is kept out (input from it is fuzzed: the
	 * hypervisor once took a #PF reading it through its own unmapped page 0;
	 * sanity_page0() checks that again at the end). */
	if (!ctl_fast(h->control) && h->out < 4096)
		h->out |= 1ull << 52;
}

/* Which rule of 3.5-3.7 makes SUCCESS impossible for this call, if any. */
static const char *success_forbidden(const struct hc *h)
{
	u64 ctl = h->control;
	const struct code_info *ci = h->info;
	if (ctl & CTL_RSVD)
		return "reserved control bits";
	if (code_undefined((u16)ctl_code(ctl)))
		return "undefined call code";
	if (!ci)
		return NULL;
	if (!gate_open(ci))
		return "call not offered (CPUID)";
	if (!ci->rep && (ctl_rep_count(ctl) || ctl_rep_start(ctl)))
		return "rep count on a simple call";
	if (ci->rep && (ctl_rep_count(ctl) == 0 || ctl_rep_start(ctl) >= ctl_rep_count(ctl)))
		return "bad rep count/start";
	if (!ci->variable && ctl_varhead(ctl))
		return "varhead on a fixed-size call";
	u32 in_len = in_len_of(ci, ctl), out_len = out_len_of(ci, ctl);
	if (ctl_fast(ctl)) {
		if (in_len > (h->long_mode ? 112u : 16u))
			return "fast input larger than the registers";
		if (out_len && !(h->long_mode && env.xmm_out))
			return "fast call with output";
		return NULL;
	}
	static char why[64];
	const char *r;
	if (in_len && (r = gpa_rule(h->in, in_len))) {
		snprintf(why, sizeof(why), "input GPA %s", r);
		return why;
	}
	if (out_len && (r = gpa_rule(h->out, out_len))) {
		snprintf(why, sizeof(why), "output GPA %s", r);
		return why;
	}
	return NULL;
}

/* ---- status names (3.9) ----------------------------------------------------------------- */

static const struct {
	u16 code;
	const char *name;
} statuses[] = {
	{0x0000, "success"}, {0x0002, "invalid_hypercall_code"}, {0x0003, "invalid_hypercall_input"},
	{0x0004, "invalid_alignment"}, {0x0005, "invalid_parameter"}, {0x0006, "access_denied"},
	{0x0007, "invalid_partition_state"}, {0x0008, "operation_denied"},
	{0x0009, "unknown_property"}, {0x000A, "property_value_out_of_range"},
	{0x000B, "insufficient_memory"}, {0x000C, "partition_too_deep"},
	{0x000D, "invalid_partition_id"}, {0x000E, "invalid_vp_index"}, {0x0010, "not_found"},
	{0x0011, "invalid_port_id"}, {0x0012, "invalid_connection_id"},
	{0x0013, "insufficient_buffers"}, {0x0014, "not_acknowledged"},
	{0x0015, "invalid_vp_state"}, {0x0016, "acknowledged"},
	{0x0017, "invalid_save_restore_state"}, {0x0018, "invalid_synic_state"},
	{0x0019, "object_in_use"}, {0x001A, "invalid_proximity_domain_info"}, {0x001B, "no_data"},
	{0x001C, "inactive"}, {0x001D, "no_resources"}, {0x001E, "feature_unavailable"},
	{0x001F, "partial_packet"}, {0x0020, "processor_feature_not_supported"},
	{0x0030, "processor_cache_line_flush_size_incompatible"}, {0x0033, "insufficient_buffer"},
	{0x0037, "incompatible_processor"}, {0x0038, "insufficient_device_domains"},
	{0x003C, "cpuid_feature_validation_error"}, {0x003D, "cpuid_xsave_feature_validation_error"},
	{0x003E, "processor_startup_timeout"}, {0x003F, "smx_enabled"},
	{0x0041, "invalid_lp_index"}, {0x0050, "invalid_register_value"},
	{0x0051, "invalid_vtl_state"}, {0x0055, "nx_not_detected"}, {0x0057, "invalid_device_id"},
	{0x0058, "invalid_device_state"}, {0x0059, "pending_page_requests"},
	{0x0060, "page_request_invalid"}, {0x0065, "key_already_exists"},
	{0x0066, "device_already_in_domain"}, {0x006F, "invalid_cpu_group_id"},
	{0x0070, "invalid_cpu_group_state"}, {0x0071, "operation_failed"},
	{0x0072, "not_allowed_with_nested_virt_active"}, {0x0073, "insufficient_root_memory"},
	{0x0074, "event_buffer_already_freed"}, {0x0078, "timeout"}, {0x0079, "call_pending"},
	{0x0086, "vtl_already_enabled"}, {0x0087, "unknown_register_name"},
};
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))
_Static_assert(NSTATUSES <= NSTATUS, "status histogram too small");

static int status_index(u16 st)
{
	for (u32 i = 0; i < NSTATUSES; i++)
		if (statuses[i].code == st)
			return (int)i;
	return -1;
}

/* ---- issuing and judging ------------------------------------------------------------------ */

/* 32-bit convention (TLFS 3.8 of the digest's 3.5): EDX:EAX input value, EBX:ECX
 * input GPA, EDI:ESI output GPA, result in EDX:EAX.  The stub reports which of
 * EBX, ECX, ESI, EDI, EBP changed. */
struct call32 {
	u32 ctl_lo, ctl_hi, in_lo, in_hi, out_lo, out_hi, page, res_lo, res_hi, mismatch;
};
void fuzz_hc32(struct call32 *k);
__asm__(".pushsection .text\n"
	".globl fuzz_hc32\n"
	"fuzz_hc32:\n"
	"\tpush %ebp\n\tpush %ebx\n\tpush %esi\n\tpush %edi\n"
	"\tmov 20(%esp), %eax\n"
	"\tpush %eax\n"
	"\tpushl 24(%eax)\n"
	"\tmov 8(%eax), %ecx\n\tmov 12(%eax), %ebx\n\tmov 16(%eax), %esi\n"
	"\tmov 20(%eax), %edi\n\tmov 4(%eax), %edx\n\tmov $0x5a5aa5a5, %ebp\n"
	"\tmov 0(%eax), %eax\n"
	"\tcall *(%esp)\n"
	"\tadd $4, %esp\n"
	"\txchg %eax, (%esp)\n"
	"\tmov %edx, 32(%eax)\n"
	"\txor %edx, %edx\n"
	"\tcmp 8(%eax), %ecx\n\tje 1f\n\tor $2, %edx\n1:\n"
	"\tcmp 12(%eax), %ebx\n\tje 2f\n\tor $1, %edx\n2:\n"
	"\tcmp 16(%eax), %esi\n\tje 3f\n\tor $4, %edx\n3:\n"
	"\tcmp 20(%eax), %edi\n\tje 4f\n\tor $8, %edx\n4:\n"
	"\tcmp $0x5a5aa5a5, %ebp\n\tje 5f\n\tor $16, %edx\n5:\n"
	"\tmov %edx, 36(%eax)\n"
	"\tpop %edx\n"
	"\tmov %edx, 28(%eax)\n"
	"\tpop %edi\n\tpop %esi\n\tpop %ebx\n\tpop %ebp\n"
	"\tret\n"
	/* Where a #UD/#GP at the page's VMCALL resumes: returns from the page. */
	".globl fuzz_ret_landing\n"
	"fuzz_ret_landing:\n"
	"\tret\n"
	".popsection\n");

static u64 hc32(struct fuzz_cpu *c, u32 page, u64 ctl, u64 in, u64 out, u32 *mismatch)
{
	struct call32 k = {(u32)ctl, (u32)(ctl >> 32), (u32)in, (u32)(in >> 32), (u32)out,
			   (u32)(out >> 32), page, 0, 0, 0};
	c->faulted = 0;
	c->hc_target = page;
	fuzz_hc32(&k);
	c->hc_target = 0;
	*mismatch = k.mismatch;
	return ((u64)k.res_hi << 32) | k.res_lo;
}

static void describe(const struct hc *h, char *buf, size_t n)
{
	bool m = h->mutation[0];
	int k = snprintf(buf, n, "%s%s call%s%s%s ctl=%016llx %s=%016llx %s=%016llx",
			 h->long_mode ? "64-bit " : "", mode_names[h->mode], m ? " (" : "",
			 h->mutation, m ? ")" : "", h->control, ctl_fast(h->control) ? "q0" : "in",
			 h->in, ctl_fast(h->control) ? "q1" : "out", h->out);
	if (ctl_fast(h->control) && h->long_mode && k > 0 && (size_t)k < n)
		snprintf(buf + k, n - (size_t)k, " xmm0=%016llx:%016llx", h->xmm[1], h->xmm[0]);
	else if (!ctl_fast(h->control) && k > 0 && (size_t)k < n && h->in >= (u32)in_buf &&
		 h->in + 24 <= (u32)in_buf + sizeof(in_buf))
		snprintf(buf + k, n - (size_t)k, " input %016llx %016llx %016llx",
			 get64((const u8 *)(u32)h->in, 0), get64((const u8 *)(u32)h->in, 8),
			 get64((const u8 *)(u32)h->in, 16));
}

static void check_output(struct fuzz_cpu *c, const struct hc *h, const char *d)
{
	const u8 *o = (const u8 *)h->out_addr;
	if (h->out_kind == 2) {
		u64 caps = get64(o, 0);
		if (caps != env.caps)
			fail(c, CHK_OUTPUT, "%s: capabilities %llx, want %llx", d, caps, env.caps);
		return;
	}
	/* GetVpIndexFromApicId: element i at index i from rep start (3.7); the
	 * ones before rep start and after the list are untouched. */
	const u8 *in = (const u8 *)(u32)h->in;
	for (u32 i = 0; i < (u32)h->out_rep_count + 2; i++) {
		u32 got;
		memcpy(&got, o + 4 * i, 4);
		u32 want = 0xEEEEEEEEu;
		if (i >= h->out_rep_start && i < h->out_rep_count) {
			u32 apic;
			memcpy(&apic, in + 16 + 4 * i, 4);
			want = apic == env.apic_ids[0] ? 0 : 1;
		}
		if (got != want) {
			fail(c, CHK_OUTPUT, "%s: output element %u is %08x, want %08x", d, i, got, want);
			return;
		}
	}
}

static void judge(struct fuzz_cpu *c, const struct hc *h, u64 r, bool faulted, u32 fault_vec,
		  u32 regs)
{
	u16 st = (u16)r;
	u32 reps = (u32)(r >> 32) & 0xFFF;
	char d[180];

	c->hypercalls++;
	c->modes[h->mode]++;
	if (faulted) {
		describe(h, d, sizeof(d));
		fail(c, CHK_HC_FAULT, "%s at the VMCALL: %s", vector_name(fault_vec), d);
		return;
	}
	int si = status_index(st);
	c->status[si < 0 ? NSTATUS : si]++;
	describe(h, d, sizeof(d));
	if (si < 0)
		fail(c, CHK_STATUS_KNOWN, "status 0x%x: %s", st, d);
	if (r & RESULT_RSVD)
		fail(c, CHK_RESULT_RSVD, "result %016llx: %s", r, d);
	u32 count = ctl_rep_count(h->control);
	if (reps > count)
		fail(c, CHK_REPS, "%u reps completed of %u: %s", reps, count, d);
	else if (st == HV_STATUS_SUCCESS && h->info && h->info->rep && reps != count)
		fail(c, CHK_REPS, "SUCCESS after %u of %u reps: %s", reps, count, d);
	else if (h->info && !h->info->rep && reps)
		fail(c, CHK_REPS, "%u reps completed by a simple call: %s", reps, d);
	else if (st == HV_STATUS_INVALID_HYPERCALL_CODE && reps)
		fail(c, CHK_REPS, "%u reps completed with INVALID_HYPERCALL_CODE: %s", reps, d);
	const char *why = success_forbidden(h);
	if (st == HV_STATUS_SUCCESS && why)
		fail(c, CHK_FORBIDDEN_SUCCESS, "SUCCESS despite %s: %s", why, d);
	if (h->n_expect) {
		bool ok = st == h->expect[0] || (h->n_expect > 1 && st == h->expect[1]);
		if (!ok)
			fail(c, CHK_EXPECTED, "status 0x%x, want 0x%x%s: %s", st, h->expect[0],
			     h->n_expect > 1 ? " or another" : "", d);
		else if (h->expect_reps >= 0 && reps != (u32)h->expect_reps)
			fail(c, CHK_EXPECTED, "%u reps completed, want %d: %s", reps, h->expect_reps, d);
	}
	if (regs)
		fail(c, CHK_REGS, "registers changed (mask 0x%x: %s): %s", regs,
		     h->long_mode ? "RDX R8 XMM0-5 RBX RSI RDI RBP R9-R15" : "EBX ECX ESI EDI EBP",
		     d);
	if (st == HV_STATUS_SUCCESS && h->out_kind && h->n_expect)
		check_output(c, h, d);
}

/* Checks after a call whose output GPA was the hypercall page: the page's
 * instructions must be intact. */
static void check_hypercall_page(struct fuzz_cpu *c, const struct hc *h)
{
	if ((h->out & ~0xFFFull) != (u32)hypercall_page || ctl_fast(h->control))
		return;
	if (memcmp(hypercall_page, env.insn, 4) != 0) {
		char d[180];
		describe(h, d, sizeof(d));
		fail(c, CHK_HC_FAULT, "the hypercall page changed to %02x %02x %02x %02x after: %s",
		     hypercall_page[0], hypercall_page[1], hypercall_page[2], hypercall_page[3], d);
		hc_broken = true;
	}
}

static void hc_op32(struct fuzz_cpu *c)
{
	struct hc h;
	u32 regs;
	gen_call(c, &h, false);
	hc_read_lock();
	c->op = OP_HC32;
	c->op_a = h.control;
	c->op_b = h.in;
	c->op_c = h.out;
	u64 r = hc32(c, (u32)hypercall_page, h.control, h.in, h.out, &regs);
	bool faulted = c->faulted;
	check_hypercall_page(c, &h);
	hc_read_unlock();
	c->op = OP_NONE;
	judge(c, &h, r, faulted, c->fault_vec, regs);
}

/* ---- 64-bit batches with XMM fast input (VP 0) ------------------------------------------------- */

struct rec64 {
	u64 control, rdx, r8, xmm[12];			  /* 0 */
	u64 result, rdx_after, r8_after, xmm_after[12]; /* 120 */
	u64 gpr_mismatch, done;				  /* 240 */
};
_Static_assert(sizeof(struct rec64) == 256, "rec64 layout is the assembly's");
#define BATCH64 8
struct batch64 {
	u64 count, page;
	struct rec64 rec[BATCH64];
};
static struct batch64 batch __attribute__((aligned(16)));
static struct hc batch_hc[BATCH64];
void fuzz_batch64(void);

/* RBX RSI RDI RBP R9-R15 get these before each call and must keep them. */
#define PAT64(n) "$0x5a5a00000000a5" #n
__asm__(".pushsection .text\n"
	".code64\n"
	".globl fuzz_batch64\n"
	"fuzz_batch64:\n"
	"\tpush %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
	"\tpush %rdi\n\tpushq $0\n"
	"10:\tmov 8(%rsp), %rdi\n\tmov (%rsp), %rax\n\tcmp 0(%rdi), %rax\n\tjae 19f\n"
	"\tshl $8, %rax\n\tlea 16(%rdi,%rax), %rsi\n"
	"\tpushq 8(%rdi)\n\tpush %rsi\n"
	"\tmovdqu 24(%rsi), %xmm0\n\tmovdqu 40(%rsi), %xmm1\n\tmovdqu 56(%rsi), %xmm2\n"
	"\tmovdqu 72(%rsi), %xmm3\n\tmovdqu 88(%rsi), %xmm4\n\tmovdqu 104(%rsi), %xmm5\n"
	"\tmov 0(%rsi), %rcx\n\tmov 8(%rsi), %rdx\n\tmov 16(%rsi), %r8\n"
	"\tmovabs " PAT64(01) ", %rbx\n\tmovabs " PAT64(02) ", %rsi\n"
	"\tmovabs " PAT64(03) ", %rdi\n\tmovabs " PAT64(04) ", %rbp\n"
	"\tmovabs " PAT64(09) ", %r9\n\tmovabs " PAT64(10) ", %r10\n"
	"\tmovabs " PAT64(11) ", %r11\n\tmovabs " PAT64(12) ", %r12\n"
	"\tmovabs " PAT64(13) ", %r13\n\tmovabs " PAT64(14) ", %r14\n"
	"\tmovabs " PAT64(15) ", %r15\n"
	"\tcall *8(%rsp)\n"
	"\txchg %rax, (%rsp)\n"
	"\tmov %rdx, 128(%rax)\n\tmov %r8, 136(%rax)\n"
	"\tmovdqu %xmm0, 144(%rax)\n\tmovdqu %xmm1, 160(%rax)\n\tmovdqu %xmm2, 176(%rax)\n"
	"\tmovdqu %xmm3, 192(%rax)\n\tmovdqu %xmm4, 208(%rax)\n\tmovdqu %xmm5, 224(%rax)\n"
	"\txor %edx, %edx\n"
	"\tmovabs " PAT64(01) ", %rcx\n\tcmp %rcx, %rbx\n\tje 21f\n\tor $1, %edx\n21:\n"
	"\tmovabs " PAT64(02) ", %rcx\n\tcmp %rcx, %rsi\n\tje 22f\n\tor $2, %edx\n22:\n"
	"\tmovabs " PAT64(03) ", %rcx\n\tcmp %rcx, %rdi\n\tje 23f\n\tor $4, %edx\n23:\n"
	"\tmovabs " PAT64(04) ", %rcx\n\tcmp %rcx, %rbp\n\tje 24f\n\tor $8, %edx\n24:\n"
	"\tmovabs " PAT64(09) ", %rcx\n\tcmp %rcx, %r9\n\tje 25f\n\tor $16, %edx\n25:\n"
	"\tmovabs " PAT64(10) ", %rcx\n\tcmp %rcx, %r10\n\tje 26f\n\tor $32, %edx\n26:\n"
	"\tmovabs " PAT64(11) ", %rcx\n\tcmp %rcx, %r11\n\tje 27f\n\tor $64, %edx\n27:\n"
	"\tmovabs " PAT64(12) ", %rcx\n\tcmp %rcx, %r12\n\tje 28f\n\tor $128, %edx\n28:\n"
	"\tmovabs " PAT64(13) ", %rcx\n\tcmp %rcx, %r13\n\tje 29f\n\tor $256, %edx\n29:\n"
	"\tmovabs " PAT64(14) ", %rcx\n\tcmp %rcx, %r14\n\tje 30f\n\tor $512, %edx\n30:\n"
	"\tmovabs " PAT64(15) ", %rcx\n\tcmp %rcx, %r15\n\tje 31f\n\tor $1024, %edx\n31:\n"
	"\tmov %rdx, 240(%rax)\n"
	"\tpop %rcx\n\tmov %rcx, 120(%rax)\n\tmovq $1, 248(%rax)\n"
	"\tadd $8, %rsp\n\tincq (%rsp)\n\tjmp 10b\n"
	"19:\tadd $16, %rsp\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n"
	"\txor %eax, %eax\n\tret\n"
	".code32\n"
	".popsection\n");

static void hc_batch64(struct fuzz_cpu *c)
{
	memset(&batch, 0, sizeof(batch));
	batch.count = BATCH64;
	batch.page = (u32)hypercall_page;
	for (u32 i = 0; i < BATCH64; i++) {
		struct hc *h = &batch_hc[i];
		/* Each record its own share of the buffers: they all run later. */
		c->in_win = (u32)in_buf[c->vp][0] + i * (4096 / BATCH64);
		c->in_win_len = 4096 / BATCH64;
		c->out_win = page_of(c->vp ? SP_VALID_OUT1 : SP_VALID_OUT0) + i * (4096 / BATCH64);
		c->out_win_len = 4096 / BATCH64;
		gen_call(c, h, true);
		struct rec64 *r = &batch.rec[i];
		r->control = h->control;
		r->rdx = h->in;
		r->r8 = h->out;
		memcpy(r->xmm, h->xmm, sizeof(r->xmm));
	}
	c->in_win = (u32)in_buf[c->vp][0];
	c->in_win_len = 4096;
	c->out_win = page_of(c->vp ? SP_VALID_OUT1 : SP_VALID_OUT0);
	c->out_win_len = 4096;
	u32 traps = lm_trap.count;
	hc_read_lock();
	c->op = OP_HC64;
	c->op_a = batch.rec[0].control;
	c->op_b = (u32)&batch;
	c->op_c = 0;
	irq_disable(); /* the 64-bit IDT has the exception vectors only */
	u32 rc = lm_call(fuzz_batch64, (u32)&batch, paging_long_cr3());
	irq_enable();
	hc_read_unlock();
	c->op = OP_NONE;
	for (u32 i = 0; i < BATCH64; i++) {
		struct hc *h = &batch_hc[i];
		struct rec64 *r = &batch.rec[i];
		if (!r->done) {
			if (rc == LM_ABORTED && lm_trap.count != traps && lm_trap.vector == VEC_NMI) {
				c->lm_nmi_aborts++; /* an NMI from a fuzzed ICR write */
			} else if (rc == LM_ABORTED) {
				char d[180];
				describe(h, d, sizeof(d));
				fail(c, CHK_HC_FAULT, "%s at rip %llx in the 64-bit batch: %s",
				     vector_name((u32)lm_trap.vector), lm_trap.rip, d);
			}
			break;
		}
		u32 regs = (u32)r->gpr_mismatch;
		if (r->rdx_after != r->rdx)
			regs |= 1u << 16;
		if (r->r8_after != r->r8)
			regs |= 1u << 17;
		if (memcmp(r->xmm_after, r->xmm, sizeof(r->xmm)))
			regs |= 1u << 18;
		c->hc64++;
		judge(c, h, r->result, false, 0, regs);
	}
}

/* ---- MSRs ---------------------------------------------------------------------------------- */

enum msr_kind {
	MK_UNKNOWN, MK_GUEST_OS_ID, MK_HYPERCALL, MK_VP_INDEX, MK_RESET, MK_VP_RUNTIME,
	MK_TIME_REF, MK_REF_TSC, MK_TSC_FREQ, MK_APIC_FREQ, MK_EOI, MK_ICR, MK_TPR, MK_ASSIST,
	MK_SCONTROL, MK_SVERSION, MK_SIEFP, MK_SIMP, MK_EOM, MK_SINT, MK_STIMER_CONFIG,
	MK_STIMER_COUNT, MK_IDLE, MK_CRASH_P, MK_CRASH_CTL
};

/* Every number the hypervisor may implement; the TLFS names a few more
 * (NPIEP 0x40, SIRBP 0x85, power 0xC1-0xD3, stats 0xE0-0xE3, debugger
 * 0xF1-0xFF) whose features are not offered: like numbers nobody defines,
 * those must #GP. */
static enum msr_kind msr_kind_of(u32 msr)
{
	switch (msr) {
	case HV_MSR_GUEST_OS_ID: return MK_GUEST_OS_ID;
	case HV_MSR_HYPERCALL: return MK_HYPERCALL;
	case HV_MSR_VP_INDEX: return MK_VP_INDEX;
	case HV_MSR_RESET: return MK_RESET;
	case HV_MSR_VP_RUNTIME: return MK_VP_RUNTIME;
	case HV_MSR_TIME_REF_COUNT: return MK_TIME_REF;
	case HV_MSR_REFERENCE_TSC: return MK_REF_TSC;
	case HV_MSR_TSC_FREQUENCY: return MK_TSC_FREQ;
	case HV_MSR_APIC_FREQUENCY: return MK_APIC_FREQ;
	case HV_MSR_EOI: return MK_EOI;
	case HV_MSR_ICR: return MK_ICR;
	case HV_MSR_TPR: return MK_TPR;
	case HV_MSR_VP_ASSIST_PAGE: return MK_ASSIST;
	case HV_MSR_SCONTROL: return MK_SCONTROL;
	case HV_MSR_SVERSION: return MK_SVERSION;
	case HV_MSR_SIEFP: return MK_SIEFP;
	case HV_MSR_SIMP: return MK_SIMP;
	case HV_MSR_EOM: return MK_EOM;
	case HV_MSR_GUEST_IDLE: return MK_IDLE;
	case HV_MSR_CRASH_CTL: return MK_CRASH_CTL;
	default: break;
	}
	if (msr >= HV_MSR_SINT(0) && msr <= HV_MSR_SINT(15))
		return MK_SINT;
	if (msr >= HV_MSR_STIMER_CONFIG(0) && msr <= HV_MSR_STIMER_COUNT(3))
		return (msr - HV_MSR_STIMER_CONFIG(0)) & 1 ? MK_STIMER_COUNT : MK_STIMER_CONFIG;
	if (msr >= HV_MSR_CRASH_P0 && msr < HV_MSR_CRASH_CTL)
		return MK_CRASH_P;
	return MK_UNKNOWN;
}

static bool msr_offered(enum msr_kind k)
{
	switch (k) {
	case MK_GUEST_OS_ID:
	case MK_HYPERCALL: return offered_lo(HV_PRIV_HYPERCALL_MSRS);
	case MK_VP_INDEX: return offered_lo(HV_PRIV_VP_INDEX);
	case MK_RESET: return offered_lo(HV_PRIV_RESET);
	case MK_VP_RUNTIME: return offered_lo(HV_PRIV_VP_RUNTIME);
	case MK_TIME_REF: return offered_lo(HV_PRIV_REF_COUNTER);
	case MK_REF_TSC: return offered_lo(HV_PRIV_REFERENCE_TSC);
	case MK_TSC_FREQ:
	case MK_APIC_FREQ: return offered_lo(HV_PRIV_FREQUENCY);
	case MK_EOI:
	case MK_ICR:
	case MK_TPR:
	case MK_ASSIST: return offered_lo(HV_PRIV_INTR_CTRL);
	case MK_SCONTROL:
	case MK_SVERSION:
	case MK_SIEFP:
	case MK_SIMP:
	case MK_EOM:
	case MK_SINT: return offered_lo(HV_PRIV_SYNIC);
	case MK_STIMER_CONFIG:
	case MK_STIMER_COUNT: return offered_lo(HV_PRIV_STIMER);
	case MK_IDLE: return offered_lo(HV_PRIV_GUEST_IDLE);
	case MK_CRASH_P:
	case MK_CRASH_CTL: return env.feat_edx & HV_FEAT_CRASH_MSRS;
	default: return false;
	}
}

static u32 pick_msr(struct fuzz_cpu *c)
{
	static const u16 impl[] = {0x00, 0x01, 0x02, 0x03, 0x10, 0x20, 0x21, 0x22, 0x23, 0x70, 0x71,
				   0x72, 0x73, 0x80, 0x81, 0x82, 0x83, 0x84, 0x90, 0x95, 0x9F, 0xB0,
				   0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xF0, 0x100, 0x105};
	u32 r = below(c, 100);
	if (r < 45)
		return 0x40000000u + impl[below(c, sizeof(impl) / 2)];
	if (r < 85)
		return 0x40000000u + below(c, 256);
	return 0x40000100u + below(c, 6);
}

/* An overlay MSR value (2.7, 2.10, 2.11): a scratch page or beyond RAM, with or
 * without Enable and reserved bits; never the guest's own memory. */
static u64 gen_overlay(struct fuzz_cpu *c)
{
	u64 v;
	u32 r = below(c, 100);
	if (r < 50)
		v = shared_page(c);
	else if (r < 65)
		v = beyond_ram(c);
	else if (r < 80)
		v = beyond_phys(c);
	else if (r < 90)
		v = 0;
	else
		v = sanitize_out(rnd(c) & ~0xFFFull); /* whatever RAM it hits is not the guest's */
	if (v && (v & ~0xFFFull) < env.ram_top && !in_scratch(v))
		v = shared_page(c);
	if (v && chance(c, 70)) /* GPA 0 only ever disables */
		v |= HV_OVERLAY_ENABLE;
	if (chance(c, 20))
		v |= (rnd(c) & OVERLAY_RSVD) | 2;
	return v;
}

static u64 gen_value(struct fuzz_cpu *c, enum msr_kind k)
{
	u32 r = below(c, 100);
	u64 v;
	switch (k) {
	case MK_RESET:
		/* Bit 0 resets the partition: never. */
		v = chance(c, 50) ? 0 : rnd(c) >> below(c, 64);
		return v & ~1ull;
	case MK_CRASH_CTL:
		/* Bit 63 reports a guest crash and stops the partition: never. */
		return (chance(c, 50) ? 0 : rnd(c)) & ~HV_CRASH_NOTIFY;
	case MK_REF_TSC:
	case MK_ASSIST:
	case MK_SIMP:
	case MK_SIEFP:
		return gen_overlay(c);
	case MK_ICR: {
		/* No INIT (5) or start-up (6): they would take the other VP away. */
		static const u8 modes[] = {0, 0, 0, 0, 1, 1, 2, 3, 4, 7};
		u32 lo = below(c, 256) | (u32)modes[below(c, sizeof(modes))] << 8;
		if (chance(c, 80) && ((lo >> 8) & 7) <= 1)
			lo = (lo & ~0xFFu) | (0x20 + below(c, 0xE0));
		lo |= below(c, 4) << 18;	       /* shorthand */
		lo |= (u32)chance(c, 30) << 11;	       /* logical */
		lo |= (u32)chance(c, 80) << 14;	       /* assert */
		lo |= (u32)chance(c, 10) << 15;	       /* level */
		if (chance(c, 15))
			lo |= (u32)rnd(c) & 0xFFF32000u; /* reserved bits */
		u64 hi = chance(c, 70) ? (u64)below(c, 256) << 24 : (u64)(u32)rnd(c);
		return lo | hi << 32;
	}
	case MK_TPR:
		return r < 70 ? below(c, 256) : rnd(c) >> below(c, 64);
	case MK_EOI:
		return r < 60 ? 0 : rnd(c) >> below(c, 64);
	case MK_SINT:
		if (r < 55) {
			v = below(c, 256);
			if (chance(c, 40)) v |= HV_SINT_MASKED;
			if (chance(c, 30)) v |= HV_SINT_AUTO_EOI;
			if (chance(c, 10)) v |= HV_SINT_POLLING;
			if (chance(c, 20)) v |= rnd(c) & ~0x7FFFFull; /* RsvdP: ignored */
			return v;
		}
		return r < 75 ? HV_SINT_MASKED : rnd(c);
	case MK_STIMER_CONFIG:
		if (r < 60) {
			v = (rnd(c) & 0xF) | (u64)below(c, 256) << 4 | (u64)below(c, 16) << 16;
			if (chance(c, 40)) v |= HV_STIMER_DIRECT;
			if (chance(c, 20)) v |= rnd(c) & STIMER_RSVDZ;
			return v;
		}
		return r < 80 ? 0 : rnd(c);
	case MK_STIMER_COUNT: {
		u64 now = offered_lo(HV_PRIV_REF_COUNTER) ? rdmsr(HV_MSR_TIME_REF_COUNT) : 0;
		if (r < 30) return now + 10000 + below(c, 200000);	/* 1-20 ms ahead */
		if (r < 45) return rnd(c);
		if (r < 55) return 0;
		if (r < 62) return 1 + below(c, 100);			/* 100 ns periods */
		if (r < 80) return 10000 + below(c, 200000);
		if (r < 90) return now > 1000 ? now - below(c, 1000) : 1;
		return ~0ull - below(c, 1u << 20);
	}
	default:
		if (r < 30) return 0;
		if (r < 50) return 1ull << below(c, 64);
		if (r < 60) return below(c, 16);
		return rnd(c);
	}
}

/* Periodic timers are kept to periods of at least 100 ms.  Two hypervisor
 * bugs this guest found are fixed: a period near 2^64 wrapped the first
 * deadline into the past (sanity-stimer-huge-period-does-not-fire-7.8), and a
 * message-mode period shorter than a VM exit on Bochs VMX left the VP no time
 * to run (sanity-stimer-tiny-period-vp-keeps-running-7.8).  The shadow of
 * what was written keeps every timer that is or may become periodic inside
 * the range. */
/* 100 ms, not less: on Bochs one expiry costs ~2 ms of reference time in VM
 * exits, so four 10 ms timers nearly stop a VP even without the bugs. */
#define PERIOD_MIN 1000000ull
static bool period_tame(u64 count)
{
	return count == 0 || count >= PERIOD_MIN;
}

static u64 stimer_tame(struct fuzz_cpu *c, enum msr_kind k, u32 msr, u64 v)
{
	u32 i = (msr - HV_MSR_STIMER_CONFIG(0)) / 2;
	if (k == MK_STIMER_COUNT && (c->st_cfg[i] & HV_STIMER_PERIODIC) && !period_tame(v))
		v = PERIOD_MIN + (rnd(c) & 0xFFFFFF);
	if (k == MK_STIMER_CONFIG && (v & HV_STIMER_PERIODIC) && !period_tame(c->st_cnt[i]))
		v &= ~HV_STIMER_PERIODIC;
	return v;
}

/* 1: the write must #GP, 0: it must not, -1: either (2, 7). */
static int write_must_gp(enum msr_kind k, u64 v)
{
	u64 gpa = v & ~0xFFFull;
	switch (k) {
	case MK_VP_INDEX:
	case MK_VP_RUNTIME:
	case MK_TIME_REF:
	case MK_TSC_FREQ:
	case MK_APIC_FREQ:
	case MK_SVERSION:
	case MK_IDLE:
		return 1; /* read-only (2.1, 2.14) */
	case MK_RESET: return (v & ~1ull) != 0;	/* 63:1 RsvdZ (2.5) */
	case MK_EOI: return (v >> 32) != 0;	/* 63:32 RsvdZ (2.9) */
	case MK_TPR: return (v >> 8) != 0;	/* 63:8 RsvdZ (2.9) */
	case MK_SINT: return (v & 0xFF) < 16 && !(v & HV_SINT_MASKED); /* 2.11 */
	case MK_SIMP:
	case MK_SIEFP:
	case MK_ASSIST:
	case MK_REF_TSC:
		if ((v & OVERLAY_RSVD) || gpa >= env.gpa_limit)
			return 1;
		return (v & HV_OVERLAY_ENABLE) ? -1 : 0; /* another overlay may be there */
	case MK_STIMER_CONFIG:
		if (v & STIMER_RSVDZ)
			return 1;
		if ((v & HV_STIMER_DIRECT) && (!env.direct || ((v >> 4) & 0xFF) < 16))
			return 1;
		return 0;
	case MK_STIMER_COUNT:
	case MK_SCONTROL:
	case MK_EOM:
	case MK_CRASH_P:
		return 0;
	default:
		return -1;
	}
}

static void check_read(struct fuzz_cpu *c, enum msr_kind k, u32 msr, u64 v, u64 before)
{
	switch (k) {
	case MK_VP_INDEX:
		if (v != c->vp)
			fail(c, CHK_MSR_VALUE, "VP_INDEX reads %llu", v);
		break;
	case MK_SVERSION:
		if (v != 1)
			fail(c, CHK_MSR_VALUE, "SVERSION reads %llx", v);
		break;
	case MK_EOM:
	case MK_RESET:
		if (v != 0)
			fail(c, CHK_MSR_VALUE, "MSR %x reads %llx, want 0", msr, v);
		break;
	case MK_TSC_FREQ:
		if (v != env.tsc_freq)
			fail(c, CHK_MSR_VALUE, "TSC_FREQUENCY %llu, was %llu", v, env.tsc_freq);
		break;
	case MK_APIC_FREQ:
		if (v != env.apic_freq)
			fail(c, CHK_MSR_VALUE, "APIC_FREQUENCY %llu, was %llu", v, env.apic_freq);
		break;
	case MK_TIME_REF:
		time_check(c, v, before);
		break;
	case MK_VP_RUNTIME:
		if (v < c->last_runtime)
			fail(c, CHK_MSR_VALUE, "VP_RUNTIME %llu after %llu", v, c->last_runtime);
		c->last_runtime = v;
		break;
	case MK_CRASH_CTL:
		if (!(v & HV_CRASH_NOTIFY))
			fail(c, CHK_MSR_VALUE, "CRASH_CTL reads %llx: CrashNotify not offered", v);
		break;
	default:
		break;
	}
}

/* What an accepted write of a per-VP MSR reads back as. */
static bool readback_rule(enum msr_kind k, u64 v, u64 *want, u64 *mask)
{
	*mask = ~0ull;
	switch (k) {
	case MK_SINT:
		*want = v & (0xFFull | HV_SINT_MASKED | HV_SINT_AUTO_EOI | (env.polling ? HV_SINT_POLLING : 0));
		return true;
	case MK_SCONTROL: *want = v & 1; return true;
	case MK_TPR:
	case MK_SIMP:
	case MK_SIEFP:
	case MK_ASSIST:
	case MK_STIMER_COUNT:
		*want = v;
		return true;
	case MK_STIMER_CONFIG:
		/* Enable may drop at once (no SINT, or a one-shot already due: 7.8). */
		*want = v & ~HV_STIMER_ENABLE;
		*mask = ~HV_STIMER_ENABLE;
		return true;
	default:
		return false;
	}
}

/* GUEST_IDLE (2.14): the read sleeps the VP until an interrupt, even with IF
 * clear; the APIC timer (TPR 0) is armed first so that one comes. */
static void idle_op(struct fuzz_cpu *c)
{
	irq_disable();
	if (offered_lo(HV_PRIV_INTR_CTRL))
		wrmsr(HV_MSR_TPR, 0);
	else
		lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	lapic_write(LAPIC_LVT_TIMER, VEC_WAKE);
	lapic_write(LAPIC_TIMER_INITIAL, env.wake_ticks); /* 200 us */
	c->op = OP_IDLE;
	bool gp;
	msr_read(c, HV_MSR_GUEST_IDLE, &gp);
	c->op = OP_NONE;
	irq_enable();
	c->idles++;
	if (gp)
		fail(c, CHK_MSR_GP, "GUEST_IDLE read #GP although offered");
}

static void hc_call_check(struct fuzz_cpu *c, u32 page, const char *where)
{
	u32 regs;
	u64 r = hc32(c, page, HV_CALL_NOTIFY_LONG_SPIN_WAIT | HVCALL_FAST, 1, 0, &regs);
	if (c->faulted || (u16)r != HV_STATUS_SUCCESS)
		fail(c, CHK_HC_MSR, "NotifyLongSpinWait through the page at %08x (%s): %s result %llx",
		     page, where, c->faulted ? vector_name(c->fault_vec) : "", r);
}

/* Puts the page back home; false if that failed (then nothing can call). */
static bool hc_restore(struct fuzz_cpu *c)
{
	u64 home = (u32)hypercall_page | HV_OVERLAY_ENABLE;
	bool gp1 = msr_write(c, HV_MSR_GUEST_OS_ID, GUEST_OS_ID_VALUE);
	bool gp2 = msr_write(c, HV_MSR_HYPERCALL, home);
	u64 rb = rdmsr(HV_MSR_HYPERCALL);
	if (gp1 || gp2 || rb != home) {
		fail(c, CHK_HC_MSR, "restoring the hypercall page: #GP %d/%d, HYPERCALL reads %llx",
		     gp1, gp2, rb);
		hc_broken = true;
		return false;
	}
	return true;
}

/* HYPERCALL (2.3), under the write lock: move, disable or refuse, then restore. */
static void hypercall_msr_op(struct fuzz_cpu *c)
{
	u32 move = page_of(SP_HC_MOVE);
	u64 v;
	u32 r = below(c, 100);
	if (r < 40) v = move | HV_OVERLAY_ENABLE;
	else if (r < 48) v = move;
	else if (r < 58) v = move | HV_OVERLAY_ENABLE | ((rnd(c) & HYPERCALL_RSVD) | 4);
	else if (r < 68) v = beyond_phys(c) | HV_OVERLAY_ENABLE;
	else if (r < 76) v = (u32)hypercall_page | HV_OVERLAY_ENABLE | ((rnd(c) & HYPERCALL_RSVD) | 8);
	else if (r < 84) v = (u32)hypercall_page;
	else if (r < 92) v = beyond_ram(c) | HV_OVERLAY_ENABLE;
	else v = (chance(c, 50) ? move : beyond_phys(c)) | (rnd(c) & 0xFFFull & ~HV_HYPERCALL_LOCKED);
	c->op = OP_HC_MSR;
	c->op_a = HV_MSR_HYPERCALL;
	c->op_b = v;
	bool gp = msr_write(c, HV_MSR_HYPERCALL, v);
	bool must = (v & HYPERCALL_RSVD) || (v & ~0xFFFull) >= env.gpa_limit;
	if (must && !gp)
		fail(c, CHK_MSR_GP, "HYPERCALL <- %llx accepted (reserved bits or beyond MAXPHYADDR)", v);
	if (!must && gp)
		fail(c, CHK_HC_MSR, "HYPERCALL <- %llx refused", v);
	if (!gp) {
		u64 rb = rdmsr(HV_MSR_HYPERCALL);
		if (rb != v)
			fail(c, CHK_HC_MSR, "HYPERCALL <- %llx reads back %llx", v, rb);
		if (v == (move | HV_OVERLAY_ENABLE)) {
			if (memcmp((void *)move, env.insn, 4) != 0)
				fail(c, CHK_HC_MSR, "the moved hypercall page holds %02x %02x %02x %02x",
				     ((u8 *)move)[0], ((u8 *)move)[1], ((u8 *)move)[2],
				     ((u8 *)move)[3]);
			else
				hc_call_check(c, move, "moved");
			c->hc_moves++;
		}
	}
	if (hc_restore(c))
		hc_call_check(c, (u32)hypercall_page, "restored");
	c->op = OP_NONE;
}

/* GUEST_OS_ID (2.2), under the write lock: 0 disables the hypercall page, and
 * HYPERCALL cannot enable it again until the OS has an id (2.3). */
static void os_id_op(struct fuzz_cpu *c)
{
	u64 v = chance(c, 30) ? 0 : chance(c, 30) ? GUEST_OS_ID_VALUE + below(c, 100) : rnd(c);
	u64 home = (u32)hypercall_page | HV_OVERLAY_ENABLE;
	c->op = OP_HC_MSR;
	c->op_a = HV_MSR_GUEST_OS_ID;
	c->op_b = v;
	c->os_id_ops++;
	if (msr_write(c, HV_MSR_GUEST_OS_ID, v))
		fail(c, CHK_HC_MSR, "GUEST_OS_ID <- %llx refused", v);
	u64 rb = rdmsr(HV_MSR_GUEST_OS_ID), hc = rdmsr(HV_MSR_HYPERCALL);
	if (rb != v)
		fail(c, CHK_HC_MSR, "GUEST_OS_ID <- %llx reads back %llx", v, rb);
	if (v == 0) {
		if (hc & HV_OVERLAY_ENABLE)
			fail(c, CHK_HC_MSR, "GUEST_OS_ID 0 left HYPERCALL enabled (%llx)", hc);
		if (msr_write(c, HV_MSR_HYPERCALL, home))
			fail(c, CHK_HC_MSR, "HYPERCALL <- %llx with GUEST_OS_ID 0 refused", home);
		hc = rdmsr(HV_MSR_HYPERCALL);
		if (hc & HV_OVERLAY_ENABLE)
			fail(c, CHK_HC_MSR, "HYPERCALL enabled (%llx) while GUEST_OS_ID is 0", hc);
	} else if (hc != home) {
		fail(c, CHK_HC_MSR, "GUEST_OS_ID <- %llx changed HYPERCALL to %llx", v, hc);
	}
	if (hc_restore(c))
		hc_call_check(c, (u32)hypercall_page, "after GUEST_OS_ID");
	c->op = OP_NONE;
}

static void msr_op(struct fuzz_cpu *c)
{
	u32 msr = pick_msr(c);
	enum msr_kind k = msr_kind_of(msr);
	bool offered = msr_offered(k);
	bool gp;

	if (chance(c, 50)) {
		if (k == MK_IDLE && offered) {
			idle_op(c);
			return;
		}
		bool locked = k == MK_GUEST_OS_ID || k == MK_HYPERCALL;
		if (locked)
			hc_read_lock(); /* a stable page to compare with */
		c->op = OP_RDMSR;
		c->op_a = msr;
		u64 before = ref_max_get();
		u64 v = msr_read(c, msr, &gp);
		c->op = OP_NONE;
		c->msr_reads++;
		c->msr_gp += gp;
		bool want_gp = !offered || k == MK_EOI;
		if (gp != want_gp)
			fail(c, CHK_MSR_GP, "rdmsr %x %s, want %s", msr, gp ? "#GP" : "no #GP",
			     want_gp ? "#GP" : "a value");
		if (!gp)
			check_read(c, k, msr, v, before);
		if (locked) {
			u64 want = k == MK_HYPERCALL ? ((u32)hypercall_page | HV_OVERLAY_ENABLE)
						     : GUEST_OS_ID_VALUE;
			if (!gp && v != want)
				fail(c, CHK_HC_MSR, "MSR %x reads %llx, want %llx", msr, v, want);
			hc_read_unlock();
		}
		return;
	}
	if (offered && (k == MK_GUEST_OS_ID || k == MK_HYPERCALL)) {
		hc_write_lock();
		c->hc_msr_ops++;
		if (k == MK_HYPERCALL)
			hypercall_msr_op(c);
		else
			os_id_op(c);
		hc_write_unlock();
		return;
	}
	u64 v = gen_value(c, k);
	bool timer = offered && (k == MK_STIMER_COUNT || k == MK_STIMER_CONFIG);
	if (timer)
		v = stimer_tame(c, k, msr, v);
	c->op = OP_WRMSR;
	c->op_a = msr;
	c->op_b = v;
	c->op_c = 0;
	/* For a hang report: the timer's other half. */
	if (offered && k == MK_STIMER_COUNT)
		c->op_c = rdmsr(msr - 1);
	else if (offered && k == MK_STIMER_CONFIG)
		c->op_c = rdmsr(msr + 1);
	/* IF clear: a storm break or timer expiry must not come between the write
	 * and its read-back. */
	irq_disable();
	gp = msr_write(c, msr, v);
	int must = offered ? write_must_gp(k, v) : 1;
	u64 want, mask, rb = 0;
	bool rb_rule = !gp && offered && readback_rule(k, v, &want, &mask);
	if (rb_rule)
		rb = rdmsr(msr);
	irq_enable();
	if (timer && !gp) {
		u32 i = (msr - HV_MSR_STIMER_CONFIG(0)) / 2;
		if (k == MK_STIMER_COUNT)
			c->st_cnt[i] = v;
		else
			c->st_cfg[i] = v;
	}
	c->op = OP_NONE;
	c->msr_writes++;
	c->msr_gp += gp;
	if (must == 1 && !gp)
		fail(c, CHK_MSR_GP, "wrmsr %x <- %llx accepted, want #GP", msr, v);
	else if (must == 0 && gp)
		fail(c, CHK_MSR_GP, "wrmsr %x <- %llx #GP, want accepted", msr, v);
	if (rb_rule && (rb & mask) != want)
		fail(c, CHK_MSR_READBACK, "wrmsr %x <- %llx reads back %llx, want %llx", msr, v, rb,
		     want);
}

/* ---- the fuzz loop -------------------------------------------------------------------------- */

static void fuzz_loop(struct fuzz_cpu *c)
{
	fuzz_idt_load();
	c->t_start = offered_lo(HV_PRIV_REF_COUNTER) ? rdmsr(HV_MSR_TIME_REF_COUNT) : 0;
	irq_enable();
	for (c->iter = 0; c->iter < env.iters; c->iter++) {
		c->irq_burst = 0;
		u32 r = below(c, 100);
		if (r < 55 && !hc_broken) {
			if (c->vp == 0 && env.xmm_in && chance(c, env.batch64))
				hc_batch64(c);
			else
				hc_op32(c);
		} else if (r < 97) {
			msr_op(c);
		} else if (offered_lo(HV_PRIV_REF_COUNTER)) {
			time_read(c);
		}
	}
	irq_disable();
	c->t_end = offered_lo(HV_PRIV_REF_COUNTER) ? rdmsr(HV_MSR_TIME_REF_COUNT) : 0;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
}

static void print_inflight(const struct fuzz_cpu *c)
{
	printf("# vp%u stopped at iteration %u doing %s: %016llx %016llx %016llx%s; "
	       "interrupts %u (%u in this iteration), storms %u\n",
	       c->vp, c->iter, op_names[c->op], c->op_a, c->op_b, c->op_c,
	       c->fatal ? " (after an exception)" : "", c->irqs, c->irq_burst, c->storms);
	if (c->fatal)
		printf("# vp%u took %s error %x at eip %08x\n", c->vp, vector_name(c->fatal_vec),
		       c->fatal_err, c->fatal_eip);
	printf("# vp%u timers as last written (CONFIG/COUNT): %llx/%llx %llx/%llx %llx/%llx %llx/%llx\n",
	       c->vp, c->st_cfg[0], c->st_cnt[0], c->st_cfg[1], c->st_cnt[1], c->st_cfg[2],
	       c->st_cnt[2], c->st_cfg[3], c->st_cnt[3]);
	if (c->op == OP_HC32 && !ctl_fast(c->op_a) && c->op_b >= (u32)in_buf &&
	    c->op_b + 32 <= (u32)in_buf + sizeof(in_buf)) {
		const u8 *p = (const u8 *)(u32)c->op_b;
		printf("# input: %016llx %016llx %016llx %016llx\n", get64(p, 0), get64(p, 8),
		       get64(p, 16), get64(p, 24));
	}
	if (c->op == OP_HC64)
		for (u32 i = 0; i < BATCH64; i++)
			printf("# 64-bit call %u: ctl=%016llx rdx=%016llx r8=%016llx done=%llu\n", i,
			       batch.rec[i].control, batch.rec[i].rdx, batch.rec[i].r8,
			       batch.rec[i].done);
}

/* Waits for w to finish; false when it made no progress for STALL_MS. */
static bool wait_done(struct fuzz_cpu *w)
{
	u32 last = w->iter;
	u64 stall = tsc_after_us(STALL_MS * 1000ull);
	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
		if (w->iter != last) {
			last = w->iter;
			stall = tsc_after_us(STALL_MS * 1000ull);
		}
		if (tsc_reached(stall))
			return false;
		cpu_relax();
	}
	return true;
}

static void ap_fuzz(void *arg)
{
	(void)arg;
	fuzz_loop(&cpus[1]);
	irq_enable(); /* the AP's idle loop runs with IF set */
	/* Watch VP 0: if it hangs, nobody else can say so. */
	if (!wait_done(&cpus[0])) {
		printf("GUEST %s HANG: vp0 made no progress for %u ms\n", guest_name, STALL_MS);
		print_inflight(&cpus[0]);
		guest_abort("vp0 hangs at iteration %u", cpus[0].iter);
	}
}

static void ap_idt(void *arg)
{
	(void)arg;
	fuzz_idt_load();
}

/* ---- reports ----------------------------------------------------------------------------------- */

static void print_counts(const char *who, const u32 *status, u32 hypercalls)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "FUZZ %s hypercalls=%u statuses:", who, hypercalls);
	for (u32 i = 0; i <= NSTATUS && n > 0 && (size_t)n < sizeof(line); i++) {
		if (!status[i] || (i >= NSTATUSES && i != NSTATUS))
			continue;
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%u",
			      i == NSTATUS ? "other" : statuses[i].name, status[i]);
	}
	printf("%s\n", line);
}

static void report(bool ap_ran)
{
	u32 total[NSTATUS + 1] = {0}, hcs = 0;
	for (u32 v = 0; v < (ap_ran ? 2u : 1u); v++) {
		struct fuzz_cpu *c = &cpus[v];
		char who[8];
		snprintf(who, sizeof(who), "vp%u", v);
		u32 ms = (u32)udivmod64(c->t_end - c->t_start, 10000, NULL);
		printf("FUZZ %s iters=%u time=%ums hypercalls=%u (64-bit %u, nmi-aborted batches %u) "
		       "modes: valid=%u mutated=%u unknown=%u random=%u\n",
		       who, c->iter, ms, c->hypercalls, c->hc64, c->lm_nmi_aborts,
		       c->modes[MODE_VALID], c->modes[MODE_MUTATED], c->modes[MODE_UNKNOWN],
		       c->modes[MODE_RANDOM]);
		printf("FUZZ %s msrs: reads=%u writes=%u gp=%u guest_idle=%u hypercall/os_id=%u "
		       "(page moves %u, os id %u) interrupts=%u nmis=%u spurious=%u storms=%u\n",
		       who, c->msr_reads, c->msr_writes, c->msr_gp, c->idles, c->hc_msr_ops,
		       c->hc_moves, c->os_id_ops, c->irqs, c->nmis, c->spurious, c->storms);
		print_counts(who, c->status, c->hypercalls);
		if (c->storms)
			note("%s: %u interrupt storm(s); first with STIMER config/count %llx/%llx "
			     "%llx/%llx %llx/%llx %llx/%llx",
			     who, c->storms, c->storm_cfg[0], c->storm_cnt[0], c->storm_cfg[1],
			     c->storm_cnt[1], c->storm_cfg[2], c->storm_cnt[2], c->storm_cfg[3],
			     c->storm_cnt[3]);
		for (u32 i = 0; i <= NSTATUS; i++)
			total[i] += c->status[i];
		hcs += c->hypercalls;
	}
	print_counts("all", total, hcs);
	for (u32 k = 0; k < CHK_COUNT; k++) {
		u32 f0 = cpus[0].chk[k].fails, f1 = ap_ran ? cpus[1].chk[k].fails : 0;
		if (f0 + f1 == 0) {
			test_result(check_names[k], true, "%s", "");
			continue;
		}
		const char *first = f0 ? cpus[0].chk[k].first : cpus[1].chk[k].first;
		if (f0 && f1)
			note("%s: also %s", check_names[k], cpus[1].chk[k].first);
		test_result(check_names[k], false, "%u failure(s); first: %s", f0 + f1, first);
	}
}

/* ---- after the fuzz ---------------------------------------------------------------------------- */

static void vp_cleanup(void)
{
	irq_disable();
	if (offered_lo(HV_PRIV_STIMER))
		for (u32 i = 0; i < 4; i++) {
			wrmsr(HV_MSR_STIMER_CONFIG(i), 0);
			wrmsr(HV_MSR_STIMER_COUNT(i), 0);
		}
	if (offered_lo(HV_PRIV_SYNIC)) {
		for (u32 i = 0; i < 16; i++)
			wrmsr(HV_MSR_SINT(i), HV_SINT_MASKED);
		wrmsr(HV_MSR_SCONTROL, 0);
		wrmsr(HV_MSR_SIMP, 0);
		wrmsr(HV_MSR_SIEFP, 0);
	}
	if (offered_lo(HV_PRIV_INTR_CTRL)) {
		wrmsr(HV_MSR_VP_ASSIST_PAGE, 0);
		wrmsr(HV_MSR_TPR, 0);
	}
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_WAKE);
	irq_enable();
}

static struct {
	u64 vp_index, spin, flush;
	u32 spin_faulted;
} ap_sane;

static void ap_cleanup(void *arg)
{
	(void)arg;
	vp_cleanup();
}

static void sane_calls(struct fuzz_cpu *c, u64 *vp_index, u64 *spin, u64 *flush)
{
	u32 regs;
	static u8 flush_in[2][24] __attribute__((aligned(8)));
	u8 *in = flush_in[c->vp];
	*vp_index = rdmsr(HV_MSR_VP_INDEX);
	*spin = hc32(c, (u32)hypercall_page, HV_CALL_NOTIFY_LONG_SPIN_WAIT | HVCALL_FAST, 100, 0, &regs);
	if (c->faulted)
		*spin = ~0ull;
	memset(in, 0, 24);
	put64(in, 8, HV_FLUSH_ALL_PROCESSORS);
	*flush = hc32(c, (u32)hypercall_page, HV_CALL_FLUSH_SPACE, (u32)in, 0, &regs);
	if (c->faulted)
		*flush = ~0ull;
}

static void ap_sane_calls(void *arg)
{
	(void)arg;
	sane_calls(&cpus[1], &ap_sane.vp_index, &ap_sane.spin, &ap_sane.flush);
}

static void ap_send_ipi(void *arg)
{
	u32 regs;
	(void)arg;
	ap_sane.spin = hc32(&cpus[1], (u32)hypercall_page, HV_CALL_SEND_IPI | HVCALL_FAST,
			    VEC_SANITY_IPI, 1, &regs);
}

static volatile u32 ref_go, ref_ap_bad, ref_ap_done;
static void ap_ref_reads(void *arg)
{
	(void)arg;
	while (!ref_go)
		cpu_relax();
	u32 bad0 = cpus[1].chk[CHK_TIME].fails;
	for (u32 i = 0; i < 500; i++)
		time_read(&cpus[1]);
	ref_ap_bad = cpus[1].chk[CHK_TIME].fails - bad0;
	ref_ap_done = 1;
}

static bool wait_irq(u32 vp, u32 vec, u32 want)
{
	u64 end = tsc_after_us(500000);
	while (irq_count[vp][vec] < want && !tsc_reached(end))
		cpu_relax();
	return irq_count[vp][vec] >= want;
}

static u32 page_sum(const u8 *p)
{
	u32 s = 0x811C9DC5u;
	for (u32 i = 0; i < 4096; i += 4) {
		u32 w;
		memcpy(&w, p + i, 4);
		s = (s ^ w) * 0x01000193u;
	}
	return s;
}

static void image_sums(u32 *out)
{
	for (u32 i = 0; i < env.text_pages; i++)
		out[i] = page_sum((const u8 *)__image_start + 4096 * i);
}

/* ((a * b) >> 64) for the TSC page formula (2.7) without 128-bit types. */
static u64 mulhi64(u64 a, u64 b)
{
	u64 al = (u32)a, ah = a >> 32, bl = (u32)b, bh = b >> 32;
	u64 ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	u64 mid = (ll >> 32) + (u32)lh + (u32)hl;
	return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

static void sanity(bool ap_ok)
{
	struct fuzz_cpu *c = &cpus[0];
	u64 vp_index, spin, flush;

	vp_cleanup();
	if (ap_ok)
		smp_call(1, ap_cleanup, NULL, AP_CALL_MS);
	if (offered_lo(HV_PRIV_REFERENCE_TSC))
		wrmsr(HV_MSR_REFERENCE_TSC, 0);
	tsc_delay_us(20000); /* stray interrupts from the fuzz land now */

	sane_calls(c, &vp_index, &spin, &flush);
	bool ap_called = ap_ok && smp_call(1, ap_sane_calls, NULL, AP_CALL_MS);
	test_result("sanity-vp-index-2.4",
		    vp_index == 0 && (!ap_ok || (ap_called && ap_sane.vp_index == 1)),
		    "vp0 reads %llu, vp1 reads %llu (ran %d)", vp_index, ap_sane.vp_index, ap_called);
	test_result("sanity-notify-long-spin-wait-4.4",
		    spin == HV_STATUS_SUCCESS && (!ap_ok || ap_sane.spin == HV_STATUS_SUCCESS),
		    "vp0 result %llx, vp1 result %llx", spin, ap_sane.spin);
	test_result("sanity-flush-all-processors-8.1",
		    flush == HV_STATUS_SUCCESS && (!ap_ok || ap_sane.flush == HV_STATUS_SUCCESS),
		    "vp0 result %llx, vp1 result %llx", flush, ap_sane.flush);

	/* PV IPIs both ways (4.5). */
	u32 regs;
	irq_enable();
	u32 before = irq_count[1][VEC_SANITY_IPI];
	u64 r = hc32(c, (u32)hypercall_page, HV_CALL_SEND_IPI | HVCALL_FAST, VEC_SANITY_IPI, 2, &regs);
	bool arrived = ap_ok && wait_irq(1, VEC_SANITY_IPI, before + 1);
	test_result("sanity-pv-ipi-vp0-to-vp1-4.5", (u16)r == HV_STATUS_SUCCESS && arrived,
		    "result %llx, vp1 took the vector %u times%s", r,
		    irq_count[1][VEC_SANITY_IPI] - before, ap_ok ? "" : " (vp1 not available)");
	before = irq_count[0][VEC_SANITY_IPI];
	ap_sane.spin = ~0ull;
	bool sent = ap_ok && smp_call(1, ap_send_ipi, NULL, AP_CALL_MS);
	arrived = sent && wait_irq(0, VEC_SANITY_IPI, before + 1);
	test_result("sanity-pv-ipi-vp1-to-vp0-4.5",
		    sent && (u16)ap_sane.spin == HV_STATUS_SUCCESS && arrived,
		    "result %llx, vp0 took the vector %u times%s", ap_sane.spin,
		    irq_count[0][VEC_SANITY_IPI] - before, ap_ok ? "" : " (vp1 not available)");

	/* TIME_REF_COUNT read by both VPs at once (2.6). */
	if (offered_lo(HV_PRIV_REF_COUNTER)) {
		u32 bad0 = c->chk[CHK_TIME].fails;
		ref_go = 0;
		ref_ap_bad = 0;
		ref_ap_done = !ap_ok;
		if (ap_ok)
			smp_call(1, ap_ref_reads, NULL, 0);
		ref_go = 1;
		for (u32 i = 0; i < 500; i++)
			time_read(c);
		u64 end = tsc_after_us(5000000);
		while (!ref_ap_done && !tsc_reached(end))
			cpu_relax();
		u32 bad = c->chk[CHK_TIME].fails - bad0 + ref_ap_bad;
		test_result("sanity-time-ref-count-monotonic-2.6", bad == 0,
			    "%u reads went back in time", bad);
	}

	/* The hypercall page, the guest's own code and data, the guard pages. */
	u64 hc = rdmsr(HV_MSR_HYPERCALL);
	test_result("sanity-hypercall-page-intact-2.3",
		    hc == ((u32)hypercall_page | HV_OVERLAY_ENABLE) &&
			    memcmp(hypercall_page, env.insn, 4) == 0,
		    "HYPERCALL %llx, page %02x %02x %02x %02x", hc, hypercall_page[0],
		    hypercall_page[1], hypercall_page[2], hypercall_page[3]);
	u32 sums[128];
	image_sums(sums);
	int bad_page = -1;
	for (u32 i = 0; i < env.text_pages && bad_page < 0; i++)
		if (sums[i] != env.text_sum[i])
			bad_page = (int)i;
	int bad_guard = -1;
	for (u32 i = 0; i < 4096 && bad_guard < 0; i++)
		if (scratch[SP_GUARD0][i] != GUARD_BYTE || scratch[SP_GUARD1][i] != GUARD_BYTE)
			bad_guard = (int)i;
	test_result("sanity-guest-memory-intact", bad_page < 0 && bad_guard < 0,
		    "image page at %08x changed / guard byte %d changed",
		    bad_page < 0 ? 0 : (u32)__image_start + 4096 * (u32)bad_page, bad_guard);

	/* Crash parameters read back (2.13). */
	if (env.feat_edx & HV_FEAT_CRASH_MSRS) {
		bool ok = true;
		for (u32 i = 0; i < 5; i++) {
			u64 v = 0x1234567800000000ull | i;
			wrmsr(HV_MSR_CRASH_P0 + i, v);
			ok &= rdmsr(HV_MSR_CRASH_P0 + i) == v;
			wrmsr(HV_MSR_CRASH_P0 + i, 0);
		}
		test_result("sanity-crash-parameters-2.13", ok, "a crash parameter did not read back");
	}

	/* The reference TSC page (2.7) in a scratch page. */
	if (offered_lo(HV_PRIV_REFERENCE_TSC)) {
		u32 page = page_of(SP_SHARED_FIRST);
		wrmsr(HV_MSR_REFERENCE_TSC, page | HV_OVERLAY_ENABLE);
		const volatile u8 *p = (const volatile u8 *)page;
		u32 seq = *(const volatile u32 *)p;
		u64 ref = rdmsr(HV_MSR_TIME_REF_COUNT), mine = 0;
		bool ok = rdmsr(HV_MSR_REFERENCE_TSC) == (page | HV_OVERLAY_ENABLE);
		if (seq != 0 && seq != 0xFFFFFFFF) {
			u64 scale = get64((const u8 *)p, 8), offset = get64((const u8 *)p, 16);
			mine = mulhi64(rdtsc(), scale) + offset;
			u64 ref2 = rdmsr(HV_MSR_TIME_REF_COUNT);
			ok &= mine + 100000 >= ref && mine <= ref2 + 100000; /* within 10 ms */
		} else {
			note("the reference TSC page is invalid (sequence %u): TIME_REF_COUNT only", seq);
		}
		wrmsr(HV_MSR_REFERENCE_TSC, 0);
		test_result("sanity-reference-tsc-page-2.7", ok,
			    "sequence %u, page time %llu, TIME_REF_COUNT %llu", seq, mine, ref);
	}
}

/* ---- synthetic timers that hurt the hypervisor -----------------------------------------
 * Run on VP 1 with VP 0 watching, because on VMX the VP may not come back: a
 * periodic timer whose period is shorter than a VM exit and entry (or one that
 * fires at every entry) leaves the guest no time to run.  Each test ends by
 * turning its timer off; if it never gets there, VP 0 says so. */

static volatile u32 st_done, st_fired, st_spins;
static volatile u64 st_elapsed;

struct stimer_case {
	u64 config, count;
	u32 ms;
};

static void ap_stimer_case(void *arg)
{
	const struct stimer_case *t = arg;
	u32 before = irq_count[1][VEC_SANITY_TIMER], spins = 0;
	irq_enable();
	wrmsr(HV_MSR_STIMER_CONFIG(3), t->config & ~HV_STIMER_ENABLE);
	wrmsr(HV_MSR_STIMER_COUNT(3), t->count);
	u64 start = rdmsr(HV_MSR_TIME_REF_COUNT);
	wrmsr(HV_MSR_STIMER_CONFIG(3), t->config);
	while (rdmsr(HV_MSR_TIME_REF_COUNT) - start < t->ms * 10000ull)
		spins++;
	wrmsr(HV_MSR_STIMER_CONFIG(3), 0);
	wrmsr(HV_MSR_STIMER_COUNT(3), 0);
	st_elapsed = rdmsr(HV_MSR_TIME_REF_COUNT) - start;
	st_fired = irq_count[1][VEC_SANITY_TIMER] - before;
	st_spins = spins;
	st_done = 1;
}

/* false: VP 1 did not finish (it is lost for anything after). */
static bool stimer_case(struct stimer_case *t, u32 timeout_ms)
{
	st_done = 0;
	st_fired = st_spins = 0;
	smp_call(1, ap_stimer_case, t, 0);
	u64 end = tsc_after_us(timeout_ms * 1000ull);
	while (!st_done && !tsc_reached(end))
		cpu_relax();
	return st_done;
}

/* A SIM page of its own for stimer_queued_case: no overlay of the fuzz is
 * ever there (they stay in the scratch pages or beyond RAM). */
static u8 sanity_sim[4096] __attribute__((aligned(4096)));
static volatile u32 st_setup;
#define SANITY_SINT 6
#define MSG_PENDING 1u

/* Waits up to 100 ms of reference time for the slot's MessageType (flag
 * false) or MessagePending (flag true). */
static bool slot_wait(const volatile u8 *slot, bool flag)
{
	u64 start = rdmsr(HV_MSR_TIME_REF_COUNT);
	while (rdmsr(HV_MSR_TIME_REF_COUNT) - start < 1000000) {
		if (flag ? (slot[5] & MSG_PENDING) : *(const volatile u32 *)slot != 0)
			return true;
	}
	return false;
}

static void ap_stimer_queued_case(void *arg)
{
	(void)arg;
	volatile u8 *sim = sanity_sim, *slot = sim + SANITY_SINT * 256;
	irq_enable();
	for (u32 i = 0; i < 4; i++)
		wrmsr(HV_MSR_STIMER_CONFIG(i), 0);
	for (u32 i = 0; i < 16; i++)
		wrmsr(HV_MSR_SINT(i), HV_SINT_MASKED);
	/* A newly placed SIM page starts empty; what the fuzz left queued
	 * comes in now and at each EOM, and is thrown away. */
	wrmsr(HV_MSR_SIMP, 0);
	wrmsr(HV_MSR_SIMP, (u32)sanity_sim | HV_OVERLAY_ENABLE);
	wrmsr(HV_MSR_SCONTROL, 1);
	for (u32 round = 0; round < 64; round++) {
		bool any = false;
		for (u32 i = 0; i < 16; i++) {
			if (*(volatile u32 *)(sim + i * 256)) {
				*(volatile u32 *)(sim + i * 256) = 0;
				any = true;
			}
		}
		wrmsr(HV_MSR_EOM, 0);
		if (!any)
			break;
	}
	wrmsr(HV_MSR_SINT(SANITY_SINT), VEC_SANITY_TIMER);
	/* Two one-shots due at once: the first fills the slot, the second's
	 * message waits behind it (MessagePending, 7.3). */
	const u64 sint = (u64)SANITY_SINT << 16;
	bool ok = true;
	for (u32 n = 0; n < 2 && ok; n++) {
		wrmsr(HV_MSR_STIMER_CONFIG(3), 0);
		wrmsr(HV_MSR_STIMER_COUNT(3), rdmsr(HV_MSR_TIME_REF_COUNT));
		wrmsr(HV_MSR_STIMER_CONFIG(3), sint | HV_STIMER_ENABLE);
		ok = slot_wait(slot, n == 1);
	}
	st_setup = ok;
	/* The same timer as a periodic one with the shortest period (100 ns,
	 * shorter than any exit): its message is still queued, so no expiry
	 * can go in until the guest empties the slot. */
	wrmsr(HV_MSR_STIMER_CONFIG(3), 0);
	wrmsr(HV_MSR_STIMER_COUNT(3), 1);
	wrmsr(HV_MSR_STIMER_CONFIG(3), sint | HV_STIMER_PERIODIC | HV_STIMER_ENABLE);
	u64 start = rdmsr(HV_MSR_TIME_REF_COUNT);
	while (rdmsr(HV_MSR_TIME_REF_COUNT) - start < 20 * 10000ull)
		;
	wrmsr(HV_MSR_STIMER_CONFIG(3), 0);
	wrmsr(HV_MSR_STIMER_COUNT(3), 0);
	/* The queued message comes in at the EOM; leave it all off. */
	wrmsr(HV_MSR_SINT(SANITY_SINT), HV_SINT_MASKED);
	*(volatile u32 *)slot = 0;
	wrmsr(HV_MSR_EOM, 0);
	*(volatile u32 *)slot = 0;
	wrmsr(HV_MSR_SCONTROL, 0);
	wrmsr(HV_MSR_SIMP, 0);
	st_done = 1;
}

/* false: VP 1 did not finish (it is lost for anything after). */
static bool stimer_queued_case(u32 timeout_ms)
{
	st_done = st_setup = 0;
	smp_call(1, ap_stimer_queued_case, NULL, 0);
	u64 end = tsc_after_us(timeout_ms * 1000ull);
	while (!st_done && !tsc_reached(end))
		cpu_relax();
	return st_done;
}

static bool sanity_stimers(bool ap_ok)
{
	if (!offered_lo(HV_PRIV_STIMER) || !env.direct || !offered_lo(HV_PRIV_REF_COUNTER))
		return ap_ok;
	const u64 direct = HV_STIMER_DIRECT | ((u64)VEC_SANITY_TIMER << 4);
	/* A period of ~2^64 x 100 ns: the first expiry is a period after the timer
	 * is enabled (7.8, "COUNT may wrap; wrapping has no effect"), so nothing
	 * fires within 50 ms. */
	struct stimer_case huge = {direct | HV_STIMER_PERIODIC | HV_STIMER_ENABLE,
				   0xFFFFFFFFFFFFFF00ull, 50};
	bool done = ap_ok && stimer_case(&huge, 10000);
	test_result("sanity-stimer-huge-period-does-not-fire-7.8", done && st_fired == 0,
		    "vp1: STIMER3 CONFIG %llx COUNT %llx: %s, fired %u times in %llu units",
		    huge.config, huge.count, !ap_ok ? "vp1 not available"
					     : done ? "finished" : "never came back (livelock)",
		    st_fired, st_elapsed);
	ap_ok = done;
	/* The same for a one-shot due at the end of time. */
	struct stimer_case end = {direct | HV_STIMER_ENABLE, ~0ull, 20};
	done = ap_ok && stimer_case(&end, 10000);
	test_result("sanity-stimer-oneshot-at-end-of-time-7.8", done && st_fired == 0,
		    "vp1: STIMER3 CONFIG %llx COUNT %llx: %s, fired %u times", end.config, end.count,
		    done ? "finished" : "did not finish", st_fired);
	ap_ok = done;
	/* A periodic message timer with a 5.7 us period and its slot never
	 * emptied (every expiry after the first is dropped, 7.3): the VP must
	 * still run (the hypervisor may skip expirations, 7.8), here 20 ms of
	 * TIME_REF_COUNT spinning and then turning the timer off.  The fuzz
	 * found this one: CONFIG 0x90627 (SINT 9, lazy, periodic), COUNT 0x39. */
	struct stimer_case tiny = {0x90627, 0x39, 20};
	done = ap_ok && stimer_case(&tiny, 10000);
	test_result("sanity-stimer-tiny-period-vp-keeps-running-7.8", done,
		    "vp1: STIMER3 CONFIG %llx COUNT %llx: %s (%u loop turns)", tiny.config,
		    tiny.count, done ? "finished" : "never came back within 10 s (livelock)",
		    st_spins);
	ap_ok = done;
	if (!offered_lo(HV_PRIV_SYNIC))
		return ap_ok;
	/* The case above, made on purpose: the fuzz had left a one-shot's
	 * expiry message queued behind a busy slot, and the timer rewritten as
	 * periodic expired again at every entry instead of waiting for it. */
	done = ap_ok && stimer_queued_case(10000);
	test_result("sanity-stimer-tiny-period-behind-queued-message-7.7", done && st_setup,
		    "vp1: %s", !ap_ok ? "not available"
			       : !done ? "never came back within 10 s (livelock)"
				       : "could not queue a timer message behind a busy slot");
	return done;
}

/* Input GPA 0 is ordinary guest RAM (3.6): a NotifyLongSpinWait reading its
 * 8 bytes from there succeeds.  Last, because the hypervisor used to crash on
 * it (see the TODO in gen_call). */
static void sanity_page0(void)
{
	u32 regs;
	note("next: 32-bit hypercall EDX:EAX=0000000000000008 (NotifyLongSpinWait, memory form) "
	     "EBX:ECX=0 (input GPA 0) EDI:ESI=0");
	u64 r = hc32(&cpus[0], (u32)hypercall_page, HV_CALL_NOTIFY_LONG_SPIN_WAIT, 0, 0, &regs);
	test_result("sanity-input-gpa-in-page-0-3.6", !cpus[0].faulted && r == HV_STATUS_SUCCESS,
		    "ctl=0008 in=0 out=0: result %llx%s", r, cpus[0].faulted ? " (exception)" : "");
}

/* ---- main ------------------------------------------------------------------------------------ */

static bool env_init(void)
{
	u32 a, b, cc, d;
	cpuid(0x40000000, 0, &a, &b, &cc, &d);
	if (a < 0x40000005 || b != 0x7263694D) {
		test_result("hv-present-1.1", false, "no Microsoft Hv leaves");
		return false;
	}
	cpuid(0x40000003, 0, &a, &b, &cc, &d);
	env.priv_lo = a;
	env.priv_hi = b;
	env.feat_edx = d;
	cpuid(0x40000004, 0, &a, &b, &cc, &d);
	env.hints = a;
	cpuid(0x80000000, 0, &a, &b, &cc, &d);
	env.maxphy = 36;
	if (a >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &cc, &d);
		env.maxphy = a & 0xFF;
	}
	env.gpa_limit = 1ull << env.maxphy;
	env.xmm_in = env.feat_edx & HV_FEAT_XMM_INPUT;
	env.xmm_out = env.feat_edx & HV_FEAT_XMM_OUTPUT;
	env.direct = env.feat_edx & HV_FEAT_STIMER_DIRECT;
	env.polling = env.feat_edx & HV_FEAT_SINT_POLLING;
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *m = &mem_map[i];
		if (m->type == MMAP_USABLE && m->base + m->len > env.ram_top)
			env.ram_top = m->base + m->len;
	}
	for (int i = 0; i < mem_map_count; i++) {
		const struct mem_region *m = &mem_map[i];
		u64 s = env.ram_top - 16 * 4096;
		if (m->type == MMAP_USABLE && m->base <= s && m->base + m->len >= env.ram_top &&
		    s >= (u32)__image_end && env.ram_top <= 0x100000000ull)
			env.top_scratch = (u32)s;
	}
	env.tsc_freq = offered_lo(HV_PRIV_FREQUENCY) ? rdmsr(HV_MSR_TSC_FREQUENCY) : 0;
	env.apic_freq = offered_lo(HV_PRIV_FREQUENCY) ? rdmsr(HV_MSR_APIC_FREQUENCY) : 100000000ull;
	if (!env.apic_freq)
		env.apic_freq = 100000000ull;
	env.wake_ticks = (u32)udivmod64(env.apic_freq, 5000, NULL);
	note("privileges %08x:%08x features edx %08x hints %08x maxphyaddr %u ram_top %llx "
	     "top scratch %08x",
	     env.priv_hi, env.priv_lo, env.feat_edx, env.hints, env.maxphy, env.ram_top,
	     env.top_scratch);
	return true;
}

void guest_main(void)
{
	if (!env_init())
		return;
	env.iters = cmdline_u32("iters", FUZZ_DEFAULT_ITERS);
	env.seed = cmdline_u32("seed", FUZZ_DEFAULT_SEED);
	env.batch64 = cmdline_u32("batch64", 10);

	tsc_init();
	irq_init();
	outb(0x21, 0xff); /* the 8259s stay masked: only the APIC's interrupts */
	outb(0xa1, 0xff);
	lapic_enter_xapic();
	smp_discover();
	bool ap_up = smp_cpu_count >= 2 && smp_start_aps() >= 1;
	test_result("two-vps-up", ap_up, "%d CPU(s) in the MADT", smp_cpu_count);
	env.apic_ids[0] = smp_apic_ids[0];
	env.apic_ids[1] = smp_apic_ids[ap_up ? 1 : 0];

	if (!offered_lo(HV_PRIV_HYPERCALL_MSRS)) {
		test_result("hypercall-msrs-offered-1.4", false, "privileges %08x", env.priv_lo);
		return;
	}
	wrmsr(HV_MSR_GUEST_OS_ID, GUEST_OS_ID_VALUE);
	wrmsr(HV_MSR_HYPERCALL, (u32)hypercall_page | HV_OVERLAY_ENABLE);
	memcpy(env.insn, hypercall_page, 4);
	note("hypercall page: %02x %02x %02x %02x", env.insn[0], env.insn[1], env.insn[2],
	     env.insn[3]);
	if (env.insn[0] != 0x0F || env.insn[1] != 0x01 || env.insn[3] != 0xC3) {
		test_result("hypercall-page-2.3", false, "the page holds %02x %02x %02x %02x",
			    env.insn[0], env.insn[1], env.insn[2], env.insn[3]);
		return;
	}

	/* The state the fuzz starts from. */
	memset(scratch, 0, sizeof(scratch));
	memset(scratch[SP_GUARD0], GUARD_BYTE, 4096);
	memset(scratch[SP_GUARD1], GUARD_BYTE, 4096);
	for (u32 v = 0; v < 2; v++) {
		cpus[v].vp = v;
		cpus[v].in_win = (u32)in_buf[v][0];
		cpus[v].in_win_len = 4096;
		cpus[v].out_win = page_of(v ? SP_VALID_OUT1 : SP_VALID_OUT0);
		cpus[v].out_win_len = 4096;
		u64 s = ((u64)env.seed << 32) ^ (v ? 0xA5A5A5A5A5A5A5A5ull : 0) ^ 0x1234567ull;
		cpus[v].rng = splitmix64(&s) | 1;
		for (u32 i = 0; i < sizeof(in_buf[v]); i += 8)
			put64(in_buf[v][0], i, rnd(&cpus[v]));
	}
	if (env.priv_hi & HV_PRIV_EBX_EXT_HYPERCALLS) {
		u32 regs;
		memset(scratch[SP_VALID_OUT0], OUT_FILL, 8);
		u64 r = hc32(&cpus[0], (u32)hypercall_page, HV_CALL_EXT_QUERY_CAPS, 0,
			     page_of(SP_VALID_OUT0), &regs);
		env.caps = get64(scratch[SP_VALID_OUT0], 0);
		note("ExtQueryCapabilities: result %llx, capabilities %llx", r, env.caps);
	}
	if (env.xmm_in) {
		write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
		write_cr4(read_cr4() | CR4_OSFXSR);
		paging_init();
		batch.count = 0;
		lm_call(fuzz_batch64, (u32)&batch, paging_long_cr3()); /* first use sets lm_idtr */
	}
	fuzz_idt_build();
	fuzz_idt_load();
	if (ap_up)
		smp_call(1, ap_idt, NULL, AP_CALL_MS);
	env.text_pages = ((u32)__bss_start - (u32)__image_start + 4095) / 4096;
	if (env.text_pages > 128)
		env.text_pages = 128;
	image_sums(env.text_sum);
	if (offered_lo(HV_PRIV_REF_COUNTER))
		ref_max_put(rdmsr(HV_MSR_TIME_REF_COUNT));

	printf("FUZZ seed=0x%x iters=%u per VP, %s\n", env.seed, env.iters,
	       ap_up ? "2 VPs" : "1 VP");
	if (ap_up)
		smp_call(1, ap_fuzz, NULL, 0); /* asynchronous */
	fuzz_loop(&cpus[0]);
	/* Wait with IF set, as VP 1 does: VP 1's flushes need this VP out of
	 * guest mode, and on Bochs VMX a VP that was entered with IF clear
	 * takes no exit for the kick (docs/emulator-bugs.md). */
	irq_enable();
	bool ap_ok = true;
	if (ap_up && !wait_done(&cpus[1])) {
		printf("GUEST %s HANG: vp1 made no progress for %u ms\n", guest_name, STALL_MS);
		print_inflight(&cpus[1]);
		ap_ok = false;
	}
	test_result("fuzz-both-vps-finished", ap_up && ap_ok, "vp1 %s at iteration %u",
		    ap_up ? "stalled" : "absent", cpus[1].iter);
	report(ap_up && ap_ok);
	sanity(ap_up && ap_ok);
	sanity_stimers(ap_up && ap_ok);
	sanity_page0();
}
