# volume.sh: volumes, tmpfs mounts and the writable layer (issue 13) in a guest whose
# root is the initramfs (--rootfs takes the move+chroot path there). The writable layer
# goes over an image on a ramfs, and a kept layer on a ramfs must be refused with the
# reason (no extended attributes). overlayfs is a module in Debian's kernel: first the
# run without it must say `modprobe overlay`, then the guest loads it from /lib/modules
# (kernel.sh keeps overlay.ko). In bare nothing is mounted: the layer must not need the
# host's /proc.
. /vm/lib.sh

run() { "$TINYCTR" run "$@"; }
T=/tmp/vol
IMG=$T/img
mkdir -p "$T/src" "$T/target"
echo host >"$T/src/f"
# The image: a copy of the busybox tree the rootfs hook put in, with a hostile symlink.
cp -a /vm/rootfs "$IMG"
ln -s /etc "$IMG/data"
ln -s ../../.. "$IMG/up"
# The image's checksum: every path with its type, mode, owner, and content.
image_sum() {
	(cd "$IMG" && find . | sort | while read -r f; do
		stat -c '%n %F %a %u %g' "$f"
		if [ -L "$f" ]; then readlink "$f"; elif [ -f "$f" ]; then sha256sum <"$f"; fi
	done) | sha256sum
}
before=$(host_mounts)

# Without --rootfs: a host path covered in the container only.
echo own >"$T/target/f"
check_eq "host" "$(run -v "$T/src:$T/target" cat "$T/target/f" 2>&1)" "-v without --rootfs shows the volume"
check_eq "own" "$(cat "$T/target/f")" "the host path itself is untouched"

# With --rootfs in the initramfs.
check_eq "host" "$(run -r "$IMG" -v "$T/src:/data/v" sh -c 'cat /data/v/f; echo w >/data/v/out' 2>&1)" \
	"a volume through /data -> /etc"
check_eq "w" "$(cat "$T/src/out" 2>&1)" "the write reached the host"
check "the target went into the image's /etc" test -d "$IMG/etc/v"
check "nothing was made in the guest's /etc" test ! -e /etc/v
check_eq "host" "$(run -r "$IMG" -v "$T/src:/up/out" cat /out/f 2>&1)" "a volume through /up -> ../../.."
check "the target went into the image's root" test -d "$IMG/out"
check "nothing was made in the guest's root" test ! -e /out
# The rootfs hook's image has /escape, a program: a directory cannot go on it.
out=$(run -r "$IMG" -v "$T/src:/escape" true 2>&1)
check_match "*mount on \"/escape\"*a file goes on a file, a directory on a directory" "$out" "a directory onto a file says so"
out=$(run -r "$IMG" -v "$T/src:/ro:ro" sh -c 'echo x >/ro/f' 2>&1)
check_match "*Read-only file system*" "$out" "ro refuses writes"
check_eq "host" "$(cat "$T/src/f")" "the ro source is unchanged"
check_eq "host" "$(run -r "$IMG" -v "$T/src/f:/etc/file" cat /etc/file 2>&1)" "a file volume"
mi=$(run -r "$IMG" --tmpfs /t:size=1m,mode=700 sh -c 'grep " /t " /proc/self/mountinfo; stat -c %a /t' 2>&1)
check_match "* /t rw,nosuid,nodev,noexec*size=1024k,mode=700* 700" "$(echo "$mi" | tr '\n' ' ' | sed 's/ $//')" "tmpfs size and mode"
out=$(run -r "$IMG" --read-only -v "$T/src:/rw" sh -c 'echo y >/rw/g && cat /rw/g; touch /no' 2>&1)
check_match "y*Read-only file system*" "$(echo "$out" | tr '\n' ' ')" "--read-only keeps a rw volume writable"
out=$(run -v /nonexistent:/x true 2>&1)
check_eq "125 tinyctr: open the volume source \"/nonexistent\": ENOENT (No such file or directory); a bind source must exist (tinyctr creates nothing on the host)" \
	"$? $out" "a missing source is one line, 125"
out=$(run -v data:/x true 2>&1)
check_match "*named volumes are not supported*" "$out" "a named volume is refused"

# The writable layer, over a pristine copy of the image on a ramfs (the initramfs case);
# first without overlayfs in the kernel.
mkdir -p "$T/ram"
mount -t ramfs ramfs "$T/ram"
IMG=$T/ram/img
cp -a /vm/rootfs "$IMG"
sum=$(image_sum)
if grep -qw overlay /proc/filesystems 2>/dev/null; then
	skip "overlayfs is already in this kernel"
else
	out=$(run -r "$IMG" --overlay true 2>&1)
	check_eq "125" "$?" "no overlayfs: status 125"
	check_match "*ENODEV*modprobe overlay*" "$out" "no overlayfs: says modprobe overlay"
fi
check "insmod overlay.ko" insmod /lib/modules/overlay.ko
out=$(run -r "$IMG" --overlay -v "$T/src:/mnt/v" --tmpfs /tmp sh -c \
	'echo changed >/marker; echo new >/new; rm /bin/ls; mkdir /d; cat /marker /new /mnt/v/f; stat -f -c %t /' 2>&1)
check_eq "changed new host 794c7630" "$(echo "$out" | tr '\n' ' ' | sed 's/ $//')" "the layer takes writes (over a ramfs image)"
check_eq "$sum" "$(image_sum)" "the image is unchanged after the layer"
check "not even the mount points were made in the image" test ! -e "$IMG/proc" -a ! -e "$IMG/mnt"
check_eq "inside the rootfs" "$(run -r "$IMG" --overlay cat /marker 2>&1)" "a dropped layer is gone at exit"
# A kept layer: not on the initramfs (a ramfs), which says why; on a tmpfs it works.
mkdir -p "$T/keep-ram"
mount -t ramfs ramfs "$T/keep-ram"
out=$(run -r "$IMG" --overlay-dir "$T/keep-ram" true 2>&1)
check_eq "125" "$?" "a kept layer on ramfs: 125"
check_match "*is on a ramfs*no extended attributes*" "$out" "a kept layer on ramfs says why"
mkdir -p "$T/keep"
mount -t tmpfs tmpfs "$T/keep"
check_eq "" "$(run -r "$IMG" --overlay-dir "$T/keep" sh -c 'echo kept >/k' 2>&1)" "a kept layer on tmpfs"
check_eq "kept" "$(cat "$T/keep/upper/k" 2>&1)" "the kept layer holds the write"
check_eq "kept" "$(run -r "$IMG" --overlay-dir "$T/keep" cat /k 2>&1)" "the next run sees it"
umount "$T/keep"
umount "$T/keep-ram"
check_eq "$sum" "$(image_sum)" "the image is still unchanged"
umount "$T/ram"

check_eq "$before" "$(host_mounts)" "the guest's mount table is as it was"
