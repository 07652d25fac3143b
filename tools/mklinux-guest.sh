#!/bin/bash
# Builds the demo Linux guest from Debian packages, on any machine with apt:
# Debian's stock kernel (linux-image-amd64) and a busybox initramfs whose init
# mounts /proc and /sys, prints the marker line
#   HV-LINUX-MARKER cpus=<N>
# with the number of CPUs Linux sees, and then either powers off through ACPI
# (kernel command line contains hv_test=poweroff) or gives a shell on the
# console.
#   tools/mklinux-guest.sh OUTDIR      -> OUTDIR/vmlinuz, OUTDIR/initrd.img
set -euo pipefail

out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ "$out/initrd.img" -nt "$0" ]; then
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mklinux.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# The meta-package names the current kernel; fetch that one and busybox.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^  Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
	apt-get update -qq >/dev/null
	kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/^  Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
fi
[ -n "$kpkg" ] || { echo "mklinux: cannot resolve linux-image-amd64" >&2; exit 1; }
# apt-get download runs as _apt when it can; a private, writable dir avoids the warning.
chmod 777 "$work"
apt-get download -qq "$kpkg" busybox-static >/dev/null 2>&1 || apt-get download "$kpkg" busybox-static
dpkg-deb -x ./linux-image-*.deb kernel
dpkg-deb -x ./busybox-static_*.deb bb
cp kernel/boot/vmlinuz-* "$out/vmlinuz.tmp"

root=$work/root
mkdir -p "$root"/{bin,sbin,proc,sys,dev,etc,tmp}
cp bb/bin/busybox "$root/bin/busybox"
for app in sh mount umount cat echo grep sleep poweroff reboot ls dmesg uname; do
	ln -s busybox "$root/bin/$app"
done
cat >"$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
cpus=$(grep -c '^processor' /proc/cpuinfo)
echo "HV-LINUX-MARKER cpus=$cpus"
if grep -q 'hv_test=poweroff' /proc/cmdline; then
	echo "HV-LINUX-POWEROFF"
	poweroff -f
fi
echo "Linux guest shell (poweroff -f to stop)"
exec sh </dev/console >/dev/console 2>&1
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.img.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "mklinux: $kpkg -> $out/vmlinuz, $out/initrd.img"
