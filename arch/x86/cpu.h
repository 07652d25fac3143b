/* CPU primitives: CPUID, MSRs, control registers, TSC and friends. */
#ifndef HV_ARCH_X86_CPU_H
#define HV_ARCH_X86_CPU_H

#include "kernel/types.h"

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)

#define CR4_PAE (1ULL << 5)
#define CR4_PGE (1ULL << 7)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXSAVE (1ULL << 18)

#define RFLAGS_IF (1ULL << 9)

#define MSR_APIC_BASE 0x1B
#define MSR_FEATURE_CONTROL 0x3A
#define MSR_EFER 0xC0000080
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102

#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

#define DEFINE_CR_ACCESSORS(n)                                                    \
	static inline u64 read_cr##n(void)                                        \
	{                                                                         \
		u64 v;                                                            \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                 \
		return v;                                                         \
	}                                                                         \
	static inline void write_cr##n(u64 v)                                     \
	{                                                                         \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");          \
	}
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

/* XSETBV needs CR4.OSXSAVE set in the executing mode (the host sets it at
 * boot when the CPU has XSAVE, so that guests' XCR0 writes can be completed
 * on their behalf). */
static inline void xsetbv(u32 index, u64 value)
{
	__asm__ volatile("xsetbv" ::"c"(index), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline u64 read_rflags(void)
{
	u64 f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Returns the previous RFLAGS.IF state for irq_restore. */
static inline u64 irq_save(void)
{
	u64 f = read_rflags();
	irq_disable();
	return f & RFLAGS_IF;
}

static inline void irq_restore(u64 saved_if)
{
	if (saved_if)
		irq_enable();
}

static inline void invlpg(const void *va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

static inline __noreturn void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

/* RDMSR that reports a #GP (no such MSR) as false instead of faulting. */
bool rdmsr_safe(u32 msr, u64 *value);
/* WRMSR that reports a #GP (no such MSR, a refused value) as false. */
bool wrmsr_safe(u32 msr, u64 value);

/* What the boot CPU offers, read once by cpu_features_detect(). */
struct cpu_features {
	char vendor[13];
	char brand[49];
	u32 family, model, stepping;
	u32 max_leaf, max_ext_leaf;
	bool nx, pdpe1gb, x2apic, tsc_invariant, vmx, svm, hypervisor, xsave;
	u32 phys_addr_bits;
};

extern struct cpu_features cpu_features;
void cpu_features_detect(void);
/* "vmx", "svm" or "none": what this CPU offers for the backends. */
const char *cpu_virt_name(void);

#endif
