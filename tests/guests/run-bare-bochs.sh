#!/bin/bash
# Run one test guest on bare Bochs (no hypervisor), booted by GRUB's multiboot (v1)
# loader from a throwaway ISO, for comparison with runs under the hypervisor.
#   tests/guests/run-bare-bochs.sh GUEST.elf "CMDLINE" [CPUS]
# $CPU picks the Bochs model (default ryzen; e.g. CPU=corei7_skylake_x).  The serial
# log goes to stdout (and stays in $LOG if set).  Bochs's own exit code is always 1,
# so the script judges the log: it prints "result: pass" (DONE with failed=0),
# "result: fail" (DONE with failures), "result: shutdown without DONE" or
# "result: no shutdown (...)", and exits 0 only for a pass.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
	echo "usage: $0 GUEST.elf \"CMDLINE\" [CPUS]" >&2
	exit 2
fi
elf=$(realpath "$1") cmdline=${2-} cpus=${3-1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bare-bochs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$(dirname "$0")/../../tools/mkiso.sh" --multiboot "$tmp/guest.iso" "$elf" "$cmdline" || exit 2

log=${LOG:-$tmp/serial.log}
: >"$log"
cat >"$tmp/bochsrc" <<RC
megs: 256
cpu: model=${CPU:-ryzen}, count=$cpus, ips=3000000, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$tmp/guest.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$log
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
panic: action=fatal
display_library: rfb, options="timeout=0"
log: $tmp/bochs.log
RC
echo c >"$tmp/debugger.rc"
(cd "$tmp" && timeout "${TIMEOUT:-120}" bochs-bin -q -f bochsrc -rc debugger.rc \
	</dev/null >"$tmp/console.log" 2>&1)
status=$?
tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | grep -v '^$' | grep -av "^[[:space:]]*$"
panic=$(grep -ao '>>PANIC<< .*' "$tmp/bochs.log" | head -1)
if [ $status -eq 124 ]; then
	echo "result: no shutdown (timeout)"
	exit 1
elif grep -aq "DONE passed=[0-9]* failed=0" "$log"; then
	echo "result: pass"
	exit 0
elif grep -aq "DONE passed=" "$log"; then
	echo "result: fail"
	exit 1
elif [[ $panic == *"Shutdown port: shutdown requested"* ]]; then
	echo "result: shutdown without DONE"
	exit 1
else
	echo "result: no shutdown (${panic:-bochs exit status $status})"
	exit 1
fi
