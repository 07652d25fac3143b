#include "arch/x86/emu_exit.h"
#include "arch/x86/cpu.h"
#include "arch/x86/io.h"
#include "kernel/printk.h"
#include "kernel/uart16550.h"

#define QEMU_DEBUG_EXIT_PORT 0xF4
#define BOCHS_SHUTDOWN_PORT 0x8900

void emu_exit(u8 code)
{
	static const char shutdown[] = "Shutdown";

	printk(LOG_INFO, "hv: emulator exit code=0x%x\n", code);
	uart_drain();
	/* QEMU exits with status (code << 1) | 1. */
	outb(QEMU_DEBUG_EXIT_PORT, code);
	for (const char *p = shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (u8)*p);
	/* Neither device present: a real machine. */
	printk(LOG_WARN, "hv: no emulator exit device; halting\n");
	cpu_halt_forever();
}
