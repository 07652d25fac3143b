#!/bin/bash
# Install the Debian packages the build and the tests need.  Silent and free when
# everything is already installed; otherwise `apt-get update` once, then install.
set -euo pipefail

packages=(qemu-system-x86 grub-pc-bin grub-common xorriso mtools bochs bochsbios
	vgabios check pkg-config python3 gcc make binutils libzydis-dev cpio)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q)
[ "$(id -u)" -eq 0 ] || apt=(sudo "${apt[@]}")
if ! "${apt[@]}" update >/dev/null ||
   ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null; then
	echo "deps: failed to install: ${missing[*]} (apt-get output above)" >&2
	exit 1
fi
