# confine.sh: default confinement (issue 12) on this guest's host layout: docker's 14
# capabilities in the bounding, permitted and effective sets (inheritable and ambient
# empty), no_new_privs off unless asked, a non-root -u with the bounding set only,
# --cap-drop ALL, --privileged with the guest's whole bounding set, masked and read-only
# paths without --rootfs, mount refused, and the guest's mount table unchanged.
# (The seccomp filter is the seccomp branch's guest script.)
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
check "tinyctr check: confinement works" sh -c "'$T' check | grep -q '^confine:    yes'"

check_eq "$before" "$(host_mounts)" "the guest's mount table is unchanged"
