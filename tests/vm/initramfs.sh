#!/bin/sh
# initramfs.sh DIR TINYCTR: make the guest's whole root filesystem and print its path,
# DIR/initramfs/KEY.cpio (DIR/initramfs.cpio links to the latest).
#
# It holds only busybox-static (Debian's /bin/busybox, fetched with `apt-get download`
# and `dpkg -x`, plus a symlink per applet), the static tinyctr binary, our /init, the
# guest assert library, every guest test script, and the kernel modules kernel.sh kept
# (in /lib/modules, for `insmod`), so one image serves every test.
# Uncompressed newc cpio: nothing for a TCG guest to decompress.
#
# Hooks: each tests/vm/hooks/*.sh runs as `sh HOOK ROOT` with ROOT the staging directory
# and BUSYBOX the static busybox, to add files a test needs (e.g. a rootfs for --rootfs).
#
# Rebuilt only when its inputs change: the key is a sha256 over tinyctr, busybox, the
# modules and everything under tests/vm/ that goes in (init, lib.sh, guest/, hooks/).
# Images are named by key, so a test process boots the image its own prepare made even
# when another process (another binary, edited scripts) prepares meanwhile; images
# unused for two hours are removed.
set -eu

dir=$1 tinyctr=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"

if [ ! -s "$dir/busybox" ]; then
	work=$(mktemp -d "$dir/busybox.XXXXXX")
	(cd "$work" && apt-get download -q busybox-static 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
	deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "initramfs.sh: apt-get download busybox-static failed" >&2; rm -rf "$work"; exit 1; }
	dpkg -x "$deb" "$work/root"
	mv "$work/root/bin/busybox" "$dir/busybox"
	rm -rf "$work"
fi
busybox=$dir/busybox

key=$({
	sha256sum "$tinyctr" "$busybox" "$here/init" "$here/lib.sh" "$here/initramfs.sh" ${TINYCTR_OCI_BIN:+"$TINYCTR_OCI_BIN"}
	find "$here/guest" "$here/hooks" "$dir/modules" -type f | LC_ALL=C sort | xargs -r sha256sum
} | sed 's/ .*//' | sha256sum | cut -c1-16)
img=$dir/initramfs/$key.cpio
mkdir -p "$dir/initramfs"
latest() {
	ln -sfn "initramfs/$key.cpio" "$dir/initramfs.cpio.new"
	mv -T "$dir/initramfs.cpio.new" "$dir/initramfs.cpio"
	find "$dir/initramfs" -name '*.cpio' -mmin +120 -delete
	echo "$img"
}
if [ -s "$img" ]; then
	touch "$img"
	latest
	exit 0
fi

root=$(mktemp -d "$dir/initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
	"$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/root" "$root/etc" "$root/vm/guest" \
	"$root/lib/modules"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cp "$tinyctr" "$root/bin/tinyctr"
cp "$here/init" "$root/init"
cp "$here/lib.sh" "$root/vm/lib.sh"
cp "$here"/guest/*.sh "$root/vm/guest/"
cp "$dir"/modules/*.ko "$root/lib/modules/" 2>/dev/null || true
chmod 755 "$root/init" "$root/bin/tinyctr"
# The kernel opens /dev/console for /init before we can mount devtmpfs; its built-in
# initramfs has the node, but provide it where we may (mknod needs root).
mknod "$root/dev/console" c 5 1 2>/dev/null || true
for hook in "$here"/hooks/*.sh; do
	[ -f "$hook" ] || continue
	BUSYBOX=$busybox sh "$hook" "$root" || { echo "initramfs.sh: hook $hook failed" >&2; exit 1; }
done

(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$img.tmp"
mv "$img.tmp" "$img"
latest
