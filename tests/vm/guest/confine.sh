# confine.sh: default confinement (issue 12) on this guest's host layout: docker's 14
# capabilities in the bounding, permitted and effective sets (inheritable and ambient
# empty), no_new_privs off unless asked, a non-root -u with the bounding set only,
# --cap-drop ALL, --privileged with the guest's whole bounding set, masked and read-only
# paths without --rootfs, mount refused, and the guest's mount table unchanged.
# docker's seccomp filter in mode 2, also for --init's command; none with --privileged or
# seccomp=unconfined; a refused call (unshare of a user namespace) is EPERM.
. /vm/lib.sh
T=$TINYCTR
before=$(host_mounts)
DEFAULT=00000000a80425fb
ZERO=0000000000000000

# caps ARGS...: the container's "CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs" values.
caps() {
	"$T" run "$@" /bin/sh -c 'while read -r k v; do case $k in Cap*:|NoNewPrivs:) printf "%s " "$v" ;; esac; done </proc/self/status' 2>&1 | sed 's/ $//'
}

check_eq "$ZERO $DEFAULT $DEFAULT $DEFAULT $ZERO 0" "$(caps)" "default: docker's 14 capabilities"
check_eq "$ZERO $ZERO $ZERO $ZERO $ZERO 0" "$(caps --cap-drop ALL)" "--cap-drop ALL: none"
check_eq "$ZERO 00000000a82425fb 00000000a82425fb 00000000a82425fb $ZERO 0" "$(caps --cap-add sys_admin)" \
	"--cap-add sys_admin"
check_eq "$ZERO $ZERO $ZERO $DEFAULT $ZERO 0" "$(caps -u 1000)" "-u 1000: the bounding set only"
check_eq "$ZERO $DEFAULT $DEFAULT $DEFAULT $ZERO 1" "$(caps --security-opt no-new-privileges)" \
	"--security-opt no-new-privileges"
check_eq "$ZERO $DEFAULT $DEFAULT $DEFAULT $ZERO 0" "$(caps --init)" "--init: the command is confined too"
proc_open && {
	bnd=$(awk '$1 == "CapBnd:" { print $2 }' "$PROC/self/status")
	proc_close
	check_eq "$ZERO $bnd $bnd $bnd $ZERO 0" "$(caps --privileged)" "--privileged: the guest's bounding set"
}
check_eq "1000 0 0" "$("$T" run -u 1000 /bin/sh -c 'echo $(id -u) $(id -g) $(id -G)' 2>&1)" "-u 1000: uid 1000, gid 0, group 0"

seccomp() { "$T" run "$@" /bin/sh -c 'while read -r k v; do [ "$k" = Seccomp: ] && echo "$v"; done </proc/self/status' 2>&1; }
check_eq 2 "$(seccomp)" "default: docker's seccomp filter"
check_eq 2 "$(seccomp --init)" "--init: the command is filtered too"
check_eq 0 "$(seccomp --privileged)" "--privileged: no filter"
check_eq 0 "$(seccomp --security-opt seccomp=unconfined)" "seccomp=unconfined: no filter"
check_match "*Operation not permitted*" "$("$T" run /bin/busybox unshare -U /bin/true 2>&1)" "unshare -U is refused (EPERM)"

# Masked and read-only paths, without --rootfs: over the fresh /proc and the guest's /sys.
check_eq 0 "$("$T" run /bin/sh -c 'wc -c </proc/kcore' 2>&1)" "/proc/kcore is masked"
check_eq 0 "$("$T" run /bin/sh -c 'wc -c </proc/keys' 2>&1)" "/proc/keys is masked"
check_status 1 "/proc/sys is read-only" "$T" run /bin/sh -c 'echo x >/proc/sys/kernel/hostname'
if [ -d /sys/firmware ]; then
	check_eq 0 "$("$T" run /bin/sh -c 'ls -A /sys/firmware | wc -l' 2>&1)" "/sys/firmware is masked"
else
	skip "/sys/firmware: this layout has no /sys"
fi
check_eq 1 "$("$T" run /bin/sh -c 'grep -c " /proc/kcore " /proc/self/mountinfo')" "the kcore mask is a mount of the container"
check_eq 0 "$("$T" run --privileged /bin/sh -c 'grep -c " /proc/kcore " /proc/self/mountinfo')" "--privileged: no masks"

# No CAP_SYS_ADMIN: mount(2) is refused by the kernel itself.
if out=$("$T" run /bin/mount -t tmpfs none /tmp 2>&1); then
	fail "mount in a default container succeeded"
else
	check_match "*denied*" "$out" "mount is refused in a default container"
fi
# docker's device list: a node of a device outside it (/dev/kmsg, c 1:11, readable by
# the guest's root) can be made but not opened; the usual nodes work; --privileged gets
# every device. In bare, with nothing mounted, the list is in a cgroup2 no mount shows.
kmsg() {
	"$T" run "$@" /bin/sh -c 'mknod /tmp/k c 1 11 || exit 9; if head -n 1 /tmp/k >/dev/null 2>&1; then echo opened; else echo denied; fi; rm -f /tmp/k' 2>&1
}
# (Reading it takes CAP_SYSLOG too where dmesg_restrict is on, as in Debian's kernels: the
# checks that should read it add the capability, so only the list can deny.)
check_eq denied "$(kmsg --cap-add SYSLOG)" "default: a device outside docker's list is made but not opened"
check_eq opened "$(kmsg --privileged)" "--privileged: every device"
check_eq opened "$(kmsg --cap-add SYSLOG --device-cgroup-rule 'c 1:11 r')" "--device-cgroup-rule: that device is allowed"
check_eq denied "$(kmsg --cap-add SYSLOG --device-cgroup-rule 'c 1:11 w')" "--device-cgroup-rule: only the access asked for"
check_eq "opened denied" "$("$T" run --cap-add SYSLOG --device /dev/kmsg:r /bin/sh -c 'head -n 1 /dev/kmsg >/dev/null 2>&1 && echo opened; (echo x >/dev/kmsg) 2>/dev/null && echo written || echo denied' 2>&1 | tr '\n' ' ' | sed 's/ $//')" \
	"--device /dev/kmsg:r: read, not written"
check_eq "4 4 ok" "$("$T" run /bin/sh -c 'echo $(head -c 4 /dev/urandom | wc -c) $(head -c 4 /dev/zero | wc -c) $(echo x >/dev/null && echo ok)' 2>&1)" \
	"default: urandom, zero and null work"
cg2=/tmp/vmcg2
mkdir -p $cg2
if grep -q ' cgroup2 ' /proc/mounts 2>/dev/null || mount -t cgroup2 none $cg2 2>/dev/null; then
	left=$(find /sys/fs/cgroup $cg2 -name 'tinyctr-*' 2>/dev/null)
	check_eq "" "$left" "no cgroup of tinyctr's is left"
	umount $cg2 2>/dev/null
else
	fail "mount cgroup2 to look for leftovers"
fi

check "tinyctr check: confinement works" sh -c "'$T' check | grep -q '^confine:    yes'"

check_eq "$before" "$(host_mounts)" "the guest's mount table is unchanged"
