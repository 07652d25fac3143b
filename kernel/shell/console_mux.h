/* The shared serial line's input side: who reads the UART, and where each
 * byte goes.
 *
 * Polling.  The console UART raises no interrupt we use, so someone must poll
 * it even while the guest never reads its own (emulated) UART, or the escape
 * would never be seen and the guest UART's receive interrupt never raised.
 * One CPU is the console CPU: the last CPU online.  Its host timer
 * (kernel/host_timer.h) fires every CONSOLE_POLL_IDLE_US, or every
 * CONSOLE_POLL_GUEST_US on a one-CPU machine; each tick is an exit of the
 * guest that CPU runs (or wakes it from HLT).  The interrupt drains the UART;
 * bytes for the shell make the VP loop run it between two exits (that VP's
 * guest waits meanwhile).  The guest's own reads of its RBR/LSR also poll, so
 * a guest that waits for input in a loop gets it at once.
 *
 * Routing.  Input goes to the guest by default.  The escape (escape= typed
 * escape_count= times in a row; default Ctrl-] three times) moves it to the
 * shell and back.  Bytes for the guest go into a FIFO that the guest's UART
 * emulation reads (LSR.DR shows it non-empty; a full FIFO drops bytes and
 * reports an overrun); bytes for the shell into the shell's FIFO.
 *
 * Locking.  The UART is drained under a trylock (a poller that finds it busy
 * lets the holder drain), so the timer interrupt never waits.  Each FIFO is a
 * single-producer single-consumer ring: the drainer produces; the guest UART
 * emulation (under its own lock) and the shell consume. */
#ifndef HV_KERNEL_SHELL_CONSOLE_MUX_H
#define HV_KERNEL_SHELL_CONSOLE_MUX_H

#include "kernel/types.h"

#define CONSOLE_POLL_IDLE_US 1000   /* two or more CPUs: 1 ms, below one 16550 FIFO at 115200 */
#define CONSOLE_POLL_GUEST_US 10000 /* one CPU shared with the guest: 10 ms */

/* Chooses the console CPU and starts polling; after vm_create.  With shell
 * off only the guest FIFO works (every byte goes to the guest). */
void console_mux_init(bool shell, u8 escape_char, u8 escape_count);
u32 console_mux_cpu(void);
bool console_mux_active(void);

/* Drains the physical UART.  Any CPU, any context (it never waits). */
void console_rx_poll(void);

/* The guest's side (kernel/vm/guest_uart.c). */
bool console_input_to_guest(void);
/* False from the escape until the shell has closed its prompt line: the guest
 * then holds back partial lines (a prompt) instead of cutting into it. */
bool console_guest_may_write_partial(void);
/* The shell has closed its prompt line after input went back to the guest. */
void console_shell_released_line(void);
bool console_guest_has_input(void);
int console_guest_getc(void); /* -1: nothing */
bool console_guest_overrun(void); /* true once after bytes were dropped */

/* The shell's side: runs pending console input through the shell.  Called in
 * thread context on every CPU's idle and VP-loop paths; returns at once on
 * CPUs that do not host the shell or when nothing waits. */
void console_mux_service(void);
/* From the shell: give input back to the guest (like the escape). */
void console_mux_to_guest(void);

struct console_mux_stats {
	u64 rx_bytes, guest_bytes, guest_dropped, shell_bytes, shell_dropped, escapes;
	u32 poll_us;
};
void console_mux_get_stats(struct console_mux_stats *out);
/* "Ctrl-] x3" for the banner and `info`. */
void console_mux_escape_name(char *buf, size_t size);

#endif
