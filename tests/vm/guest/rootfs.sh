# rootfs.sh: --rootfs inside the initramfs. The guest's root is the kernel's `rootfs`,
# where pivot_root(2) answers EINVAL: tinyctr must notice and switch root anyway, with no
# flag, and the container must see nothing of the initramfs. /vm/rootfs is the busybox
# tree tests/vm/hooks/rootfs.sh put into the initramfs.
. /vm/lib.sh

R=/vm/rootfs
run() { "$TINYCTR" run "$@"; }
in_root() { "$TINYCTR" run -r "$R" /bin/sh -c "$1"; }

# shellcheck disable=SC2016 # expands in the inner sh
check "the guest's / is the initramfs (tmpfs or ramfs)" sh -c 't=$(stat -f -c %T /); [ "$t" = tmpfs ] || [ "$t" = ramfs ]'
[ -e /proc/self/mountinfo ] && before=$(cat /proc/self/mountinfo)

# The switch itself, and what can be seen from inside.
check_eq "inside the rootfs" "$(run -r "$R" /bin/cat /marker 2>&1)" "cat /marker inside the rootfs"
# What DIR holds, plus the mount points tinyctr creates there.
want=$( (ls -A "$R"; echo dev; echo proc; echo sys) | sort -u | tr '\n' ' ' | sed 's/ $//')
check_eq "$want" "$(in_root 'ls -A / | tr "\n" " "' | sed 's/ $//')" "/ holds the rootfs only"
check_eq "absent" "$(in_root 'test -e /vm/lib.sh || test -e /init || test -e /bin/tinyctr || echo absent')" \
	"initramfs files invisible"
check_eq "inside the rootfs" "$(in_root 'cd /.. && cat marker')" "/.. is the rootfs root"
check_eq "$want" "$(in_root 'ls -A /proc/1/root/ | tr "\n" " "' | sed 's/ $//')" \
	"PID 1's root is the rootfs"

# A container's root holds CAP_SYS_CHROOT: the classic chroot escape (escape.c) must land
# in DIR again, not in the initramfs. DIR's mount sits on the rootfs root, and ".." never
# leaves a stack of mounts each mounted on its parent's root.
if [ -x "$R/escape" ]; then
	# Control: from a plain chroot into DIR (no mount of its own) the same program does
	# get out, to the initramfs and its /init.
	check_match "* init *" " $(chroot "$R" /escape 2>&1 | tr '\n' ' ')" "control: escape.c escapes a plain chroot"
	check_eq "$want" "$(run -r "$R" /escape 2>&1 | sort | tr '\n' ' ' | sed 's/ $//')" \
		"a chroot escape stays in the rootfs"
else
	skip "chroot escape: /escape was not built (no static C compiler when the initramfs was made)"
fi

# Mount table: one /, and only what tinyctr mounted inside.
mi=$(in_root 'cat /proc/self/mountinfo')
check_eq 1 "$(echo "$mi" | awk '$5 == "/"' | wc -l)" "one root in the container's mountinfo"
stray=$(echo "$mi" | awk '{ print $5 }' | grep -vxE '/|/proc|/sys|/dev|/dev/pts|/dev/shm|/dev/mqueue|/sys/firmware|/proc/(acpi|asound|kcore|keys|latency_stats|timer_list|timer_stats|sched_debug|scsi|interrupts|bus|fs|irq|sys|sysrq-trigger)|/sys/devices/virtual/powercap' | tr '\n' ' ')
check_eq "" "$stray" "no initramfs mount in the container's mountinfo"
check_eq 1 "$(echo "$mi" | awk '$5 == "/proc"' | wc -l)" "one /proc, the container's"

# /dev, /sys, masks.
check_eq "null-ok 16 devpts tmpfs" \
	"$(in_root 'echo x >/dev/null && echo null-ok; head -c 16 /dev/urandom | wc -c; stat -f -c %T /dev/pts; stat -f -c %T /dev/shm' | tr '\n' ' ' | sed 's/ $//')" \
	"/dev nodes, devpts, shm"
check_eq "pts/ptmx /proc/self/fd" "$(in_root 'readlink /dev/ptmx; readlink /dev/fd' | tr '\n' ' ' | sed 's/ $//')" "/dev links"
check_status 1 "/sys is read-only" in_root 'touch /sys/x'
check_eq "0 0" "$(in_root 'cat /proc/keys | wc -c; ls -A /sys/firmware | wc -l' | tr '\n' ' ' | sed 's/ $//')" \
	"/proc/keys and /sys/firmware masked"
check_status 1 "/proc/sys is read-only" in_root 'echo x >/proc/sys/kernel/hostname'

# --read-only.
check_status 1 "--read-only refuses writes to /" run -r "$R" --read-only /bin/touch /newfile
check "no file left in the rootfs" test ! -e "$R/newfile"
check_eq "hi" "$(run -r "$R" --read-only /bin/sh -c 'echo hi >/dev/shm/f && echo x >/dev/null && cat /dev/shm/f' 2>&1)" \
	"--read-only keeps /dev and /dev/shm writable"

# Errors.
out=$(run -r /vm/nonexistent /bin/true 2>&1)
check_eq 125 "$?" "missing DIR is 125"
check_match '*"/vm/nonexistent"*' "$out" "missing DIR is named"
out=$(run -r "$R/marker" /bin/true 2>&1)
check_eq 125 "$?" "a file as DIR is 125"
check_match '*ENOTDIR*' "$out" "a file as DIR says ENOTDIR"
out=$(run -r "$R" tinyctr 2>&1)
check_eq 127 "$?" "a command missing inside the rootfs is 127"
check_match '*inside the rootfs*' "$out" "the 127 message says where it looked"

# With a memory limit: it holds (an OOM kill, 137) and leaves no cgroup behind.
if [ "$VM_LAYOUT" = bare ]; then
	skip "--rootfs with -m 64m: the bare layout has no cgroups"
else
	case $VM_LAYOUT in v2) cg=/sys/fs/cgroup ;; *) cg=/sys/fs/cgroup/memory ;; esac
	dirs_before=$(find "$cg" -mindepth 1 -maxdepth 1 -type d | sort)
	check_eq 1 "$(run -r "$R" -m 64m /bin/sh -c 'head -c 8m /dev/zero | tail -c 1 | wc -c' 2>&1)" \
		"-m 64m: a small allocation fits"
	check_status 137 "-m 64m: 100 MB in the rootfs is OOM-killed" \
		run -r "$R" -m 64m /bin/sh -c 'head -c 100m /dev/zero | sort >/dev/null'
	check_eq "$dirs_before" "$(find "$cg" -mindepth 1 -maxdepth 1 -type d | sort)" "-m 64m: no cgroup left behind"
fi

if [ -n "${before:-}" ]; then
	check_eq "$before" "$(cat /proc/self/mountinfo)" "the guest's mounts are untouched"
else
	skip "guest mount table comparison: no /proc in the $VM_LAYOUT layout"
fi
