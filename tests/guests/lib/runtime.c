/*
 * Runtime core: start-up (multiboot information, IDT), test bookkeeping and results,
 * exception dispatch, and the exit routine.
 */
#include "guest.h"
#include "irq.h"

#define MB_BOOT_MAGIC 0x2badb002u
#define MBI_MEM       (1u << 0)
#define MBI_CMDLINE   (1u << 2)
#define MBI_MODS      (1u << 3)
#define MBI_MMAP      (1u << 6)

#define QEMU_EXIT_PORT  0xf4
#define BOCHS_SHUT_PORT 0x8900

struct trap_frame;
void guest_start(u32 magic, u32 mbi_addr) __attribute__((noreturn));
void trap_dispatch(struct trap_frame *f);
void console_init(void);
__attribute__((noreturn)) void trap_resume(void);

extern const u32 trap_stubs[32];
extern u32 catch_armed;
extern struct trap *catch_info;
extern u32 bss_was_zero_raw;

u32 mb_magic;
u32 mb_flags;
struct mem_region mem_map[MMAP_MAX];
int mem_map_count;
bool mem_map_from_e820;
bool bss_was_zero;
static char cmdline_buf[1024];

#define MAX_NOTES_PER_TEST 10

int tests_passed, tests_failed;
static const char *cur_test;
static int cur_failures;
static char cur_reason[200];

/* ---- multiboot information ---------------------------------------------------------
 * Only what the guests use is copied out (command line, memory map) before anything
 * else runs: the isolation guest overwrites all usable RAM, the info block included.
 */

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap_entry {
	u32 size; /* of the rest of the entry: the next one starts at +size+4 */
	u64 base, len;
	u32 type;
} __attribute__((packed));

struct mb_module mb_mods[MODS_MAX];
int mb_mods_count;

static void parse_multiboot(u32 magic, u32 addr)
{
	mb_magic = magic;
	if (magic != MB_BOOT_MAGIC || !addr)
		return;
	const struct mb_info *mbi = (const struct mb_info *)addr;
	mb_flags = mbi->flags;
	if (mb_flags & MBI_CMDLINE && mbi->cmdline) {
		const char *s = (const char *)mbi->cmdline;
		size_t i = 0;
		for (; s[i] && i + 1 < sizeof(cmdline_buf); i++)
			cmdline_buf[i] = s[i];
		cmdline_buf[i] = '\0';
	}
	if (mb_flags & MBI_MODS && mbi->mods_addr) {
		const u32 *m = (const u32 *)mbi->mods_addr; /* start, end, string, reserved */
		for (u32 i = 0; i < mbi->mods_count && mb_mods_count < MODS_MAX; i++, m += 4) {
			struct mb_module *d = &mb_mods[mb_mods_count++];
			d->start = m[0];
			d->end = m[1];
			size_t k = 0;
			const char *str = (const char *)m[2];
			for (; str && str[k] && k + 1 < sizeof(d->string); k++)
				d->string[k] = str[k];
			d->string[k] = '\0';
		}
	}
	if (mb_flags & MBI_MMAP) {
		u32 p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
		while (p + sizeof(struct mb_mmap_entry) <= end && mem_map_count < MMAP_MAX) {
			const struct mb_mmap_entry *e = (const struct mb_mmap_entry *)p;
			if (e->size < 20)
				break; /* malformed: would not advance past base/len/type */
			mem_map[mem_map_count++] = (struct mem_region){ e->base, e->len, e->type };
			p += e->size + 4;
		}
		mem_map_from_e820 = true;
	} else if (mb_flags & MBI_MEM) {
		/* No map: the two classic fields describe low memory and memory above 1 MiB. */
		mem_map[0] = (struct mem_region){ 0, (u64)mbi->mem_lower * 1024, MMAP_USABLE };
		mem_map[1] = (struct mem_region){ 0x100000, (u64)mbi->mem_upper * 1024, MMAP_USABLE };
		mem_map_count = 2;
	}
}

const char *cmdline(void)
{
	return cmdline_buf;
}

/* Finds a whole word (up to a space or the end) starting with `key`; *after points
 * behind the key. */
static const char *find_word(const char *key, size_t keylen, bool want_eq)
{
	const char *p = cmdline_buf;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		size_t n = (size_t)(p - w);
		if (want_eq) {
			if (n > keylen && !strncmp(w, key, keylen) && w[keylen] == '=')
				return w + keylen + 1;
		} else if (n == keylen && !strncmp(w, key, keylen)) {
			return w;
		}
	}
	return NULL;
}

bool cmdline_has(const char *word)
{
	return find_word(word, strlen(word), false) != NULL;
}

bool cmdline_value(const char *key, char *buf, size_t size)
{
	const char *v = find_word(key, strlen(key), true);
	if (!v || !size)
		return false;
	size_t i = 0;
	for (; v[i] && v[i] != ' ' && i + 1 < size; i++)
		buf[i] = v[i];
	buf[i] = '\0';
	return true;
}

u32 cmdline_u32(const char *key, u32 def)
{
	char buf[24];
	if (!cmdline_value(key, buf, sizeof(buf)) || !buf[0])
		return def;
	u32 v = 0, base = 10;
	const char *p = buf;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	if (!*p)
		return def;
	for (; *p; p++) {
		u32 d;
		if (*p >= '0' && *p <= '9')
			d = (u32)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (u32)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (u32)(*p - 'A' + 10);
		else
			return def;
		v = v * base + d;
	}
	return v;
}

/* ---- IDT ------------------------------------------------------------------------ */

struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(8)));

static void idt_load(const void *base, u16 limit)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) r = { limit, (u32)base };
	__asm__ volatile("lidt %0" ::"m"(r));
}

static void idt_init(void)
{
	for (int v = 0; v < 32; v++) {
		u32 a = trap_stubs[v];
		/* 32-bit interrupt gate, DPL 0: IF stays clear inside handlers. */
		idt[v] = (struct idt_gate){ (u16)a, SEL_CODE32, 0, 0x8e, (u16)(a >> 16) };
	}
	idt_load(idt, sizeof(idt) - 1);
}

void idt_load_raw(u32 base, u16 limit)
{
	idt_load((const void *)base, limit);
}

void idt_reload(void)
{
	idt_load(idt, sizeof(idt) - 1);
}

/* ---- start ------------------------------------------------------------------------ */

void guest_start(u32 magic, u32 mbi_addr)
{
	bss_was_zero = bss_was_zero_raw != 0;
	parse_multiboot(magic, mbi_addr);
	idt_init();
	console_init();
	printf("GUEST %s START cmdline='%s'\n", guest_name, cmdline_buf);
	if (magic != MB_BOOT_MAGIC)
		note("multiboot magic is %x, not %x", magic, MB_BOOT_MAGIC);
	guest_main();
	guest_exit();
}

/* ---- results ------------------------------------------------------------------------ */

void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	con_puts("# ");
	vprintf(fmt, ap);
	con_putc('\n');
	va_end(ap);
}

void test_begin(const char *name)
{
	if (cur_test)
		test_end();
	cur_test = name;
	cur_failures = 0;
	cur_reason[0] = '\0';
}

static void vfail(const char *fmt, va_list ap)
{
	char reason[sizeof(cur_reason)];
	vsnprintf(reason, sizeof(reason), fmt, ap);
	/* A result line must stay one line. */
	for (char *p = reason; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (!cur_test)
		test_begin("setup");
	if (!cur_failures++)
		memcpy(cur_reason, reason, sizeof(reason));
	/* Each failure gets a diagnostic line, up to a limit: a broken memory probe
	 * could otherwise flood the serial line. */
	if (cur_failures <= MAX_NOTES_PER_TEST)
		printf("# %s: %s\n", cur_test, reason);
	else if (cur_failures == MAX_NOTES_PER_TEST + 1)
		printf("# %s: further failures not shown\n", cur_test);
}

void test_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(fmt, ap);
	va_end(ap);
}

bool test_end(void)
{
	if (!cur_test)
		return true;
	bool ok = cur_failures == 0;
	if (ok) {
		tests_passed++;
		printf("RESULT %s PASS\n", cur_test);
	} else {
		tests_failed++;
		if (cur_failures > 1)
			printf("RESULT %s FAIL %s (+%d more)\n", cur_test, cur_reason, cur_failures - 1);
		else
			printf("RESULT %s FAIL %s\n", cur_test, cur_reason);
	}
	cur_test = NULL;
	return ok;
}

bool test_result(const char *name, bool ok, const char *fmt, ...)
{
	test_begin(name);
	if (!ok) {
		va_list ap;
		va_start(ap, fmt);
		vfail(fmt, ap);
		va_end(ap);
	}
	return test_end();
}

bool expect_true_(bool ok, const char *what, int line)
{
	if (!ok)
		test_fail("expected %s (line %d)", what, line);
	return ok;
}

bool expect_eq_(u64 got, u64 want, const char *got_s, const char *want_s, int line)
{
	if (got != want)
		test_fail("%s is 0x%llx, expected %s = 0x%llx (line %d)", got_s, got, want_s, want, line);
	return got == want;
}

void guest_exit(void)
{
	static const char shutdown[] = "Shutdown";
	if (cur_test)
		test_end();
	if (irq_phantoms)
		printf("# irq: %u interrupts arrived with IF clear and were dropped "
		       "(an emulator's, see lib/irq.c)\n", irq_phantoms);
	printf("GUEST %s DONE passed=%d failed=%d\n", guest_name, tests_passed, tests_failed);
	/* QEMU's isa-debug-exit ends QEMU at once with status (code << 1) | 1. */
	outb(QEMU_EXIT_PORT, tests_failed ? GUEST_EXIT_FAIL : GUEST_EXIT_PASS);
	/* Bochs has no such device but quits on this string. */
	for (const char *p = shutdown; *p; p++)
		outb(BOCHS_SHUT_PORT, (u8)*p);
	note("no emulator exit device; halting");
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_abort(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char reason[160];
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (cur_test)
		test_fail("aborted: %s", reason);
	else
		tests_failed++;
	printf("GUEST %s ABORT %s\n", guest_name, reason);
	guest_exit();
}

/* ---- exceptions ------------------------------------------------------------------- */

struct trap_frame {
	u32 es, ds;
	u32 edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
	u32 vector, error;
	u32 eip, cs, eflags; /* pushed by the CPU (same privilege: no SS:ESP) */
};

static const char *const vector_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
	"#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP", "vector 22", "vector 23", "vector 24", "vector 25", "vector 26",
	"vector 27", "#HV", "#VC", "#SX", "vector 31",
};

const char *vector_name(u32 vector)
{
	return vector < 32 ? vector_names[vector] : "vector >31";
}

void trap_dispatch(struct trap_frame *f)
{
	u32 cr2 = read_cr2();
	if (catch_armed) {
		catch_armed = 0;
		/* The CS slot's upper half is not guaranteed to be zero. */
		*catch_info = (struct trap){ f->vector, f->error, f->eip, f->cs & 0xffff, f->eflags,
					     cr2 };
		trap_resume();
	}
	printf("GUEST %s UNEXPECTED EXCEPTION %s vector=%u error=0x%x eip=%08x cs=%04x "
	       "eflags=%08x cr0=%08x cr2=%08x cr3=%08x cr4=%08x\n",
	       guest_name, vector_name(f->vector), f->vector, f->error, f->eip, f->cs & 0xffff,
	       f->eflags, read_cr0(), cr2, read_cr3(), read_cr4());
	printf("# eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x esp=%08x\n",
	       f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp, (u32)(f + 1));
	guest_abort("unexpected exception %s at eip %08x", vector_name(f->vector), f->eip);
}

void trap_uncatch(void)
{
	catch_armed = 0;
}

int trap_run(void (*fn)(void *), void *arg, struct trap *t)
{
	if (trap_catch(t) == 0) {
		fn(arg);
		trap_uncatch();
		return -1;
	}
	return (int)t->vector;
}
