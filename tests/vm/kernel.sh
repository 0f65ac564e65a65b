#!/bin/sh
# kernel.sh DIR: make DIR/vmlinux, the uncompressed Debian kernel the test VMs boot,
# and DIR/modules/*.ko, the few modules a guest may insmod (see MODULES).
#
# The kernel is the image that `linux-image-amd64` depends on, fetched with
# `apt-get download` and unpacked with `dpkg -x` (never installed on the host). We boot
# the uncompressed vmlinux, not the bzImage: under TCG the guest spends ~6 s just
# decompressing an xz bzImage, while qemu loads an ELF vmlinux directly (PVH entry).
# Idempotent: an existing DIR/vmlinux is kept, so a second run downloads nothing.
set -eu

# Features Debian builds as modules that guest tests may need (path under the
# kernel's module tree). Everything the harness itself needs is built in.
MODULES="kernel/fs/overlayfs/overlay.ko kernel/drivers/block/loop.ko"

dir=$1
have() { for m in $MODULES; do [ -f "$dir/modules/$(basename "$m")" ] || return 1; done; }
[ -s "$dir/vmlinux" ] && have && exit 0
mkdir -p "$dir"
work=$(mktemp -d "$dir/kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT

# linux-image-amd64 is a metapackage; its first Depends names the real image package.
image_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}
pkg=$(image_pkg)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	# A fresh machine (or container image) may have no package lists yet.
	apt-get update -qq >&2 || true
	pkg=$(image_pkg)
fi
if [ -z "$pkg" ]; then
	echo "kernel.sh: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2
	exit 1
fi
echo "kernel.sh: fetching $pkg" >&2
(cd "$work" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
dpkg -x "$deb" "$work/root"
bz=$(ls "$work"/root/boot/vmlinuz-* | head -n 1)
cp "$work"/root/boot/config-* "$dir/config" 2>/dev/null || true
basename "$deb" >"$dir/kernel-package"
mkdir -p "$work/modules"
for m in $MODULES; do
	cp "$work"/root/lib/modules/*/"$m" "$work/modules/"
done

# extract-vmlinux, rewritten: a bzImage is a small loader followed by the compressed
# kernel. Find each candidate compression magic, decompress from there (the loader and
# trailing bytes make the decompressor complain; ignore its status) and keep the first
# output that is an ELF file.
try() { # NAME MAGIC(grep -P) DECOMPRESSOR...
	name=$1 magic=$2
	shift 2
	command -v "$1" >/dev/null 2>&1 || return 1
	for off in $(LC_ALL=C grep -obUaP "$magic" "$bz" | cut -d: -f1); do
		tail -c "+$((off + 1))" "$bz" | "$@" >"$work/vmlinux" 2>/dev/null || true
		if [ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			echo "kernel.sh: vmlinux extracted ($name at offset $off)" >&2
			return 0
		fi
	done
	return 1
}
try xz '\xfd7zXZ\x00' xz -dc ||
	try gzip '\x1f\x8b\x08' gzip -dc ||
	try zstd '\x28\xb5\x2f\xfd' zstd -dc ||
	try lz4 '\x02\x21\x4c\x18' lz4 -dc ||
	try bzip2 'BZh' bzip2 -dc ||
	try lzma '\x5d\x00\x00\x00' xz -dc --format=lzma || {
	echo "kernel.sh: no known compressed kernel found in $bz" >&2
	exit 1
}
rm -rf "$dir/modules"
mv "$work/modules" "$dir/modules"
mv "$work/vmlinux" "$dir/vmlinux"
