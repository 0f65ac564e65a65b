# rootfs.sh ROOT: put a busybox rootfs for --rootfs tests at ROOT/vm/rootfs, inside the
# guest's initramfs (run by initramfs.sh with BUSYBOX set). Only what the guest scripts
# need: the static busybox and its applet links, a marker file, and /escape (escape.c,
# built static here: a chroot-escape attempt); /proc, /sys and /dev are left for tinyctr
# to create, which is part of what the tests check.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$1/vm/rootfs
mkdir -p "$root/bin" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
echo "inside the rootfs" >"$root/marker"

# musl-gcc gives a 27 KB binary, glibc's static one 750 KB; either will do.
for cc in musl-gcc gcc; do
	command -v "$cc" >/dev/null || continue
	"$cc" -static -Os -o "$root/escape" "$here/escape.c" 2>/dev/null && break
	rm -f "$root/escape"
done
if [ ! -x "$root/escape" ]; then
	echo "rootfs.sh: no C compiler could build escape.c statically (apt-get install musl-tools)" >&2
	# CI must run every check; elsewhere the guest script says it skipped this one.
	case ${CI:-} in true | 1) exit 1 ;; esac
fi
