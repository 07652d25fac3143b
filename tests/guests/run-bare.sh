#!/bin/bash
# Run one test guest on bare QEMU (TCG, -cpu EPYC, no hypervisor) for comparison with
# runs under the hypervisor.
#   tests/guests/run-bare.sh GUEST.elf "CMDLINE" [SMP]
# The guest's serial output goes to stdout (or to the file $LOG if set); the last
# line printed is "exit status N": 65 = all tests passed, 67 = some failed, 0 = QEMU
# stopped without the exit device (e.g. a triple fault with -no-reboot), 124 = the
# guest hung past $TIMEOUT seconds (default 60).  The script exits with that status.
# Extra QEMU arguments can be passed in $QEMU_ARGS (e.g. QEMU_ARGS="-m 512").
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
	echo "usage: $0 GUEST.elf \"CMDLINE\" [SMP]" >&2
	exit 2
fi
elf=$1 cmdline=${2-} smp=${3-1}
if [ ! -f "$elf" ]; then
	echo "$0: $elf not found (make guests)" >&2
	exit 2
fi

serial=stdio
[ -n "${LOG-}" ] && serial="file:$LOG"
# -nodefaults: the same device set as the scenario runner's machines.
# shellcheck disable=SC2086
timeout "${TIMEOUT:-60}" qemu-system-x86_64 -accel tcg -cpu EPYC -smp "$smp" -m 256 \
	-display none -no-reboot -nodefaults -serial "$serial" -monitor none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$elf" -append "$cmdline" ${QEMU_ARGS-} </dev/null \
	2> >(grep -v "TCG doesn't support requested feature" >&2)
status=$?
echo "exit status $status"
exit $status
