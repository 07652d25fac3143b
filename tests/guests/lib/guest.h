/*
 * Test-guest runtime: everything a scenario guest needs to run as a multiboot (v1)
 * kernel on bare QEMU/Bochs or inside the hypervisor, and to report results in a
 * form the scenario runner can match.
 *
 * A guest is one C file that defines
 *     const char guest_name[] = "hello";
 *     void guest_main(void);
 * The runtime enters 32-bit protected mode with its own GDT, stack and IDT, prints
 *     GUEST <name> START cmdline='<...>'
 * calls guest_main() and then guest_exit(), which prints
 *     GUEST <name> DONE passed=<n> failed=<m>
 * and ends the emulator (QEMU isa-debug-exit 0x20/0x21, Bochs "Shutdown" port).
 *
 * Each test prints exactly one line, RESULT <test> PASS or RESULT <test> FAIL <reason>.
 * Free-form diagnostics start with "# " so that nothing else looks like a result.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

/* Selectors of the runtime's GDT (lib/entry.S): SEL_CODE32, SEL_DATA32, SEL_CODE64,
 * SEL_CODE16 (base patched for the real-mode trampoline), SEL_DATA16. */
#include "selectors.h"
#define GDT_LIMIT  0x2f /* selectors from 0x30 up lie beyond the GDT */

/* Exit codes written to QEMU's isa-debug-exit port; QEMU exits with (code<<1)|1. */
#define GUEST_EXIT_PASS 0x20 /* QEMU status 65 */
#define GUEST_EXIT_FAIL 0x21 /* QEMU status 67 */

/* Exception vectors. */
enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
	VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
	VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19,
	VEC_VE = 20, VEC_CP = 21,
};

/* #PF error-code bits. */
#define PF_P    0x01
#define PF_W    0x02
#define PF_U    0x04
#define PF_RSVD 0x08
#define PF_ID   0x10

/* ---- defined by each guest -------------------------------------------------------- */
extern const char guest_name[];
void guest_main(void);

/* ---- console (COM1, polled 16550) ----------------------------------------------- */
void con_putc(char c);
void con_puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- string helpers -------------------------------------------------------------- */
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
/* 64-by-32 division without libgcc (this build has no 32-bit libgcc). */
u64 udivmod64(u64 n, u32 d, u32 *rem);

/* ---- multiboot information (copied at start; the original may be overwritten) ---- */
#define MMAP_MAX 64
#define MMAP_USABLE 1 /* multiboot type 1 = available RAM; everything else is reserved */
struct mem_region {
	u64 base, len;
	u32 type;
};
extern u32 mb_magic;                       /* EAX at entry: 0x2BADB002 */
extern u32 mb_flags;                       /* flags word of the info block (0 if none) */
extern struct mem_region mem_map[MMAP_MAX];
extern int mem_map_count;                  /* 0 when the loader gave no map */
extern bool mem_map_from_e820;             /* false: built from mem_lower/mem_upper */
extern bool bss_was_zero;                  /* the loader zeroed .bss as ELF requires */
/* Modules the loader handed over (multiboot info flag 3), strings copied. */
#define MODS_MAX 4
struct mb_module {
	u32 start, end;
	char string[64];
};
extern struct mb_module mb_mods[MODS_MAX];
extern int mb_mods_count;
const char *cmdline(void);                 /* full command line ("" if none) */
/* Whole-word flag on the command line ("hv" matches "x hv y", not "hv=1"). */
bool cmdline_has(const char *word);
/* key=value: copies value into buf; false when absent. */
bool cmdline_value(const char *key, char *buf, size_t size);
/* key=<decimal or 0x hex>; returns def when absent or malformed. */
u32 cmdline_u32(const char *key, u32 def);

/* Linker symbols: the loaded image including .bss and the stack. */
extern char __image_start[], __image_end[];

/* ---- tests ---------------------------------------------------------------------- */
void test_begin(const char *name);
/* Record a failure in the open test (the first reason is the one reported). */
void test_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print RESULT <name> PASS|FAIL <reason>; returns true on pass. */
bool test_end(void);
/* A whole test in one call. */
bool test_result(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool expect_true_(bool ok, const char *what, int line);
bool expect_eq_(u64 got, u64 want, const char *got_s, const char *want_s, int line);
#define EXPECT(cond)        expect_true_(!!(cond), #cond, __LINE__)
#define EXPECT_EQ(got, want) expect_eq_((u64)(got), (u64)(want), #got, #want, __LINE__)
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* "# ..." line */
extern int tests_passed, tests_failed;

/* Print the DONE line and end the emulator; never returns. */
__attribute__((noreturn)) void guest_exit(void);
/* Fatal: count a failure, print the reason and exit. */
__attribute__((noreturn, format(printf, 1, 2))) void guest_abort(const char *fmt, ...);

/* ---- expected exceptions (32-bit) --------------------------------------------------
 * trap_catch() works like setjmp: it arms a catch and returns 0. If an exception
 * arrives while armed, the handler fills *t, disarms, restores the registers and
 * stack of the trap_catch() call and makes it return 1 a second time; segment
 * registers are reset to the flat 32-bit ones. trap_uncatch() disarms when nothing
 * came. An exception with no catch armed is reported as UNEXPECTED and ends the guest.
 */
struct trap {
	u32 vector, error, eip, cs, eflags, cr2;
};
int trap_catch(struct trap *t) __attribute__((returns_twice));
void trap_uncatch(void);
/* Run fn(arg) with a catch armed: the vector caught, or -1 when fn returned normally. */
int trap_run(void (*fn)(void *), void *arg, struct trap *t);
/* RDMSR/WRMSR under trap_run (lib/msr_probe.c): true only for a #GP raised by the
 * instruction itself, so a test of a refused MSR cannot pass on some other fault. */
bool rdmsr_gp(u32 msr);
bool wrmsr_gp(u32 msr, u64 value);
const char *vector_name(u32 vector);
/* Install a different IDT register (the triple-fault guest loads a zero-limit one). */
void idt_load_raw(u32 base, u16 limit);
void idt_reload(void); /* back to the runtime's IDT */

/* ---- port I/O and CPU helpers ------------------------------------------------------ */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void cpuid(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u32 read_cr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u32 read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u32 read_cr4(void) { u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory"); }
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline u16 read_cs(void) { u16 v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline u32 mmio_read32(u32 addr) { return *(volatile u32 *)addr; }
static inline void mmio_write32(u32 addr, u32 v) { *(volatile u32 *)addr = v; }

#define CR0_PE   0x00000001u
#define CR0_EM   (1u << 2)
#define CR0_TS   (1u << 3)
#define CR0_PG   0x80000000u
#define CR4_PAE  0x00000020u
#define CR4_OSFXSR (1u << 9) /* with CR0.EM/TS clear: SSE runs instead of #UD/#NM */
#define MSR_EFER 0xc0000080u
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

/* ---- paging (lib/paging.c) -----------------------------------------------------------
 * One set of tables identity-maps 0-4 GiB: 2 MiB pages, except the first 2 MiB (where
 * the image lives) in 4 KiB pages so tests can change single pages. The same page
 * directories serve PAE paging (4-entry PDPT) and long mode (PML4 -> PDPT).
 */
#define PTE_P  0x001ull
#define PTE_W  0x002ull
#define PTE_PS 0x080ull
#define PTE_NX (1ull << 63)
void paging_init(void);          /* builds the tables; sets EFER.NXE when the CPU has NX */
bool paging_has_nx(void);
u64 *paging_pte(u32 va);         /* 4 KiB PTE of va (< 2 MiB), else NULL */
void paging_enable_pae(void);    /* 32-bit PAE paging on the identity map */
void paging_disable(void);
u32 paging_pae_cr3(void);
u32 paging_long_cr3(void);       /* PML4 */

/* ---- long mode (lib/transitions.S, lib/modes.c) ------------------------------------
 * lm_call() switches from 32-bit protected mode (paging on or off) to 64-bit long mode
 * on the identity map, calls the 64-bit function fn64 (assembly, SysV: arg in %rdi,
 * result in %eax), and comes back down to exactly the 32-bit state it was called in.
 * Exceptions in long mode go to a 64-bit IDT that records them in lm_trap; execution
 * resumes at lm_recover if it is non-zero (it is cleared on use), otherwise lm_call
 * returns LM_ABORTED.
 */
#define LM_ABORTED 0xffffffffu
struct lm_trap {
	u64 vector, error, rip, cr2;
	u32 count;
};
extern struct lm_trap lm_trap;
u32 lm_call(void (*fn64)(void), u32 arg, u32 cr3);
/* 64-bit probes in lib/transitions.S. */
struct lm_info {
	u64 efer, cr0, cr4, cs, wide; /* wide: a computation only 64-bit code can do */
};
void lm_probe_info(void);  /* arg: struct lm_info *; returns 0x64 */
void lm_probe_exec(void);  /* arg: address to jump to with recovery; returns 1 if trapped */
#define LM_WIDE_EXPECTED 0xefcdab8967452301ull /* bswap of 0x0123456789abcdef */

/* ---- real mode (lib/transitions.S, lib/modes.c) ------------------------------------
 * Copies a trampoline to `base` (16-byte aligned, below 1 MiB, 4 KiB of usable RAM),
 * leaves protected mode through a 16-bit protected-mode segment, runs in real mode with
 * CS=DS=SS=base>>4, prints msg on COM1 from there, records what it saw, and comes back up
 * to 32-bit protected mode. Paging must be off.
 */
struct real_mode_result {
	u16 cs, ds, ss;
	u32 cr0;
	u32 marker;          /* REAL_MARKER if the real-mode code ran to the end */
	u32 seg_readback;    /* a value read through a different segment:offset alias */
};
#define REAL_MARKER 0x4c414552u /* "REAL" */
#define REAL_ALIAS_VALUE 0x5a5aa5a5u
bool real_mode_roundtrip(u32 base, const char *msg, struct real_mode_result *out);
/* A 4 KiB usable area below 640 KiB for the trampoline, from the memory map (0 if none). */
u32 low_memory_area(void);

#endif
