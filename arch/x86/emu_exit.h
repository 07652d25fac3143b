/* Ending an emulator run from inside: QEMU's isa-debug-exit device and Bochs's
 * shutdown port.  Only used behind explicit command-line flags (tests). */
#ifndef HV_ARCH_X86_EMU_EXIT_H
#define HV_ARCH_X86_EMU_EXIT_H

#include "kernel/types.h"

#define EMU_EXIT_READY 0x10
#define EMU_EXIT_PANIC 0x11
#define EMU_EXIT_GUEST_STOPPED 0x12

__noreturn void emu_exit(u8 code);

#endif
