#!/bin/bash
# Build a BIOS GRUB rescue ISO: the one place the project makes GRUB ISOs.
#   tools/mkiso.sh OUT.iso HV.ELF "HV_CMDLINE" [MODULE_FILE "MODULE_CMDLINE"]...
#       boots the hypervisor through multiboot2, with its modules (module2);
#   tools/mkiso.sh --multiboot OUT.iso KERNEL.ELF "CMDLINE" [MODULE_FILE "MODULE_CMDLINE"]...
#       boots a multiboot (v1) kernel directly, e.g. a test guest on a bare emulator
#       (tests/guests/run-bare-bochs.sh, tests/bench.py).
# GRUB talks on COM1 at 115200 and boots the only entry at once.  The module
# files are copied to /boot/<basename> in the ISO.
set -euo pipefail

# The two kinds differ only in GRUB's loader and module commands.
loader=multiboot2 modcmd=module2 kernel=hv.elf
if [ "${1-}" = --multiboot ]; then
	loader=multiboot modcmd=module kernel=guest.elf
	shift
fi
if [ $# -lt 3 ] || [ $(( ($# - 3) % 2 )) -ne 0 ]; then
	echo "usage: $0 [--multiboot] OUT.iso KERNEL.ELF \"CMDLINE\" [MODULE_FILE \"MODULE_CMDLINE\"]..." >&2
	exit 2
fi
out=$1 elf=$2 cmdline=$3
shift 3

# GRUB's script parser would expand $, ;, { and friends: single-quote the words
# that have them.  GRUB's loader escapes quotes and backslashes in what it passes
# on, so those cannot reach the kernel unchanged: refuse them.
grub_words() {
	local words w res=()
	case $1 in *[\'\"\\]*)
		echo "mkiso: quotes and backslashes do not pass through GRUB: $1" >&2
		exit 2
	esac
	read -r -a words <<<"$1"
	for w in "${words[@]}"; do
		if [[ $w =~ ^[A-Za-z0-9_=,.:/+@%-]+$ ]]; then res+=("$w"); else res+=("'$w'"); fi
	done
	echo "${res[*]}"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkiso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/iso/boot/grub"
cp "$elf" "$tmp/iso/boot/$kernel"

kernel_args=$(grub_words "$cmdline")
cfg=$tmp/iso/boot/grub/grub.cfg
cat >"$cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "${kernel%.elf}" {
	$loader /boot/$kernel $kernel_args
CFG
while [ $# -gt 0 ]; do
	name=$(basename "$1")
	if [ -e "$tmp/iso/boot/$name" ]; then
		echo "mkiso: two files would be /boot/$name" >&2
		exit 2
	fi
	cp "$1" "$tmp/iso/boot/$name"
	mod_args=$(grub_words "$2")
	printf '\t%s /boot/%s %s\n' "$modcmd" "$name" "$mod_args" >>"$cfg"
	shift 2
done
echo "}" >>"$cfg"

# Only the modules this config needs, and no locales/fonts/themes: under a second.
if ! grub-mkrescue -d /usr/lib/grub/i386-pc -o "$tmp/out.iso" "$tmp/iso" \
	--install-modules="$loader normal serial terminal boot configfile iso9660 biosdisk part_msdos" \
	--locales= --fonts= --themes= >"$tmp/log" 2>&1; then
	cat "$tmp/log" >&2
	echo "mkiso: grub-mkrescue failed" >&2
	exit 1
fi
mv "$tmp/out.iso" "$out"
