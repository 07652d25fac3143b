/*
 * echo: an interactive guest for the console scenarios (tests/scenarios/console.toml).
 *
 * Prints the prompt "echo> ", reads characters from COM1 by polling LSR.DR and reading
 * RBR (no interrupts), echoes them as a terminal would, and for each line (ended by CR
 * or LF; CR LF counts once) prints "ECHO <line>".  Lines with a meaning:
 *   quit   ends the guest with its DONE line;
 *   spin   spins without touching the UART (or causing any exit) until an NMI comes,
 *          so the hypervisor must poll the UART on its own to see the escape.
 * An NMI (the hypervisor shell's `nmi` command) prints "echo: NMI received" and the
 * guest carries on.  Command line: `paging` turns on PAE paging (identity map; the
 * first 2 MiB in 4 KiB pages) first, so the shell's `gva` has tables to walk; `sti`
 * sets RFLAGS.IF (nothing interrupts this guest: no device is programmed), because
 * Bochs 2.7's VMX turns a host interrupt into a VM exit only while the guest has IF
 * set, and `spin` must still be interruptible there.
 *
 * So a scenario can prove that input reaches the guest, before and after a session in
 * the hypervisor shell, and that the guest kept running meanwhile.
 */
#include "guest.h"

const char guest_name[] = "echo";

#define COM1 0x3f8
#define UART_RBR 0
#define UART_LSR 5
#define LSR_DR 0x01
#define LINE_MAX 120

static int lines, nmis;
static volatile bool spinning;

static u8 read_char(void)
{
	while (!(inb(COM1 + UART_LSR) & LSR_DR))
		__asm__ volatile("pause");
	return inb(COM1 + UART_RBR);
}

/* An NMI handler's IRET ends NMI blocking; the catch below never returns
 * through one, so do it here (an IRET to the next instruction). */
static void unblock_nmi(void)
{
	__asm__ volatile("pushfl; pushl %%cs; pushl $1f; iretl; 1:" ::: "memory");
}

void guest_main(void)
{
	static char line[LINE_MAX + 1];
	static int len;
	static bool after_cr;
	struct trap t;

	if (cmdline_has("paging")) {
		paging_init();
		paging_enable_pae();
		printf("echo: PAE paging on, cr3=%08x\n", read_cr3());
	}
	if (cmdline_has("sti"))
		__asm__ volatile("sti");
	printf("echo: type a line; `quit` ends\n");
	con_puts("echo> ");
	for (;;) {
		/* Armed for the whole iteration: an NMI can come at any point. */
		if (trap_catch(&t)) {
			if (t.vector != VEC_NMI)
				guest_abort("unexpected %s at eip %08x", vector_name(t.vector), t.eip);
			unblock_nmi();
			nmis++;
			if (spinning) {
				spinning = false;
				printf("echo: NMI received (%d so far), spinning stopped\n", nmis);
			} else {
				printf("\necho: NMI received (%d so far)\n", nmis);
			}
			con_puts("echo> ");
			con_puts(line);
			continue;
		}
		while (spinning)
			__asm__ volatile("" ::: "memory");
		u8 c = read_char();
		if (c == '\n' && after_cr) {
			after_cr = false;
			continue;
		}
		after_cr = c == '\r';
		if (c == '\r' || c == '\n') {
			con_putc('\n');
			line[len] = '\0';
			printf("ECHO %s\n", line);
			lines++;
			if (!strcmp(line, "quit"))
				break;
			if (!strcmp(line, "spin")) {
				printf("echo: spinning until an NMI\n");
				spinning = true;
			}
			len = 0;
			line[0] = '\0';
			if (!spinning)
				con_puts("echo> ");
			continue;
		}
		if ((c == 0x7f || c == 0x08) && len) {
			line[--len] = '\0';
			con_puts("\b \b");
			continue;
		}
		if (c < 0x20 || c > 0x7e || len == LINE_MAX)
			continue;
		line[len++] = (char)c;
		line[len] = '\0';
		con_putc((char)c);
	}
	trap_uncatch();
	test_result("echo-lines", lines >= 2, "only %d line(s) before quit", lines);
}
