/* The shell's commands (cmd_*.c) and what they share.  Internal to
 * kernel/shell/. */
#ifndef HV_KERNEL_SHELL_CMDS_H
#define HV_KERNEL_SHELL_CMDS_H

#include "arch/x86/acpi.h"
#include "kernel/shell/shell.h"
#include "kernel/shell/shell_fmt.h"
#include "kernel/vm/vm.h"

/* How long the shell waits for a VP to stop, and for it to run a request. */
#define SHELL_PAUSE_TIMEOUT_US 1000000
#define SHELL_CALL_TIMEOUT_US 2000000
/* Largest hexdump (`mem`, `vmem`). */
#define SHELL_DUMP_MAX 4096
#define SHELL_DUMP_DEFAULT 64

extern const struct acpi_info *shell_acpi;

/* The VP named by arg (an index below the_vm.vp_count), or NULL after an
 * error line. */
struct vp *shell_arg_vp(struct shell *sh, const char *what, const char *arg);
/* Pauses vp (unless the user already did), runs fn on its CPU, resumes it.
 * Returns SHELL_OK, or SHELL_EFAIL after saying why nothing was read.  fn's
 * results must live in static storage (a late call may still write them). */
int shell_vp_call(struct shell *sh, struct vp *vp, void (*fn)(struct vp *vp, void *arg),
		  void *arg);
/* Register snapshot of vp through shell_vp_call; paused shows the user's
 * pause (the shell's own brief one does not count). */
int shell_vp_snapshot(struct shell *sh, struct vp *vp, struct vp_snapshot *out);
/* Guest RAM check for mem/vmem with an explanation when false. */
bool shell_gpa_readable(struct shell *sh, u64 gpa, u64 len);
void shell_hexdump(struct shell *sh, u64 addr, const u8 *data, size_t len);
/* Line callback for the fmt_line_fn / guest_walk_line_fn printers. */
void shell_emit_line(void *sh, const char *line);
const char *msr_name(u32 msr);

int cmd_help(struct shell *sh, int argc, char **argv);
int cmd_version(struct shell *sh, int argc, char **argv);
int cmd_info(struct shell *sh, int argc, char **argv);
int cmd_log(struct shell *sh, int argc, char **argv);
int cmd_loglevel(struct shell *sh, int argc, char **argv);
int cmd_reboot(struct shell *sh, int argc, char **argv);
int cmd_cpuid(struct shell *sh, int argc, char **argv);
int cmd_rdmsr(struct shell *sh, int argc, char **argv);
int cmd_wrmsr(struct shell *sh, int argc, char **argv);
int cmd_guest(struct shell *sh, int argc, char **argv);
int cmd_hv(struct shell *sh, int argc, char **argv);

int cmd_vps(struct shell *sh, int argc, char **argv);
int cmd_regs(struct shell *sh, int argc, char **argv);
int cmd_vmcs(struct shell *sh, int argc, char **argv);
int cmd_vmcb(struct shell *sh, int argc, char **argv);
int cmd_pause(struct shell *sh, int argc, char **argv);
int cmd_resume(struct shell *sh, int argc, char **argv);
int cmd_nmi(struct shell *sh, int argc, char **argv);
int cmd_exits(struct shell *sh, int argc, char **argv);
int cmd_trace(struct shell *sh, int argc, char **argv);

int cmd_mem(struct shell *sh, int argc, char **argv);
int cmd_vmem(struct shell *sh, int argc, char **argv);
int cmd_gva(struct shell *sh, int argc, char **argv);
int cmd_slat(struct shell *sh, int argc, char **argv);

#endif
