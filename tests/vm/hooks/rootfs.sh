# rootfs.sh ROOT: put a busybox rootfs for --rootfs tests at ROOT/vm/rootfs, inside the
# guest's initramfs (run by initramfs.sh with BUSYBOX set). Only what the guest scripts
# need: the static busybox and its applet links; /proc, /sys and /dev are left for
# tinyctr to create, which is part of what the tests check.
set -eu
root=$1/vm/rootfs
mkdir -p "$root/bin" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo "inside the rootfs" >"$root/marker"
