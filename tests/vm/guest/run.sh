# run.sh: the core of `tinyctr run` (issue 2) on this guest's host layout: PID 1, the
# hostname, a fresh /proc mounted nosuid,nodev,noexec, the exit statuses, mount
# isolation, and a host mount table unchanged afterwards (in bare: still nothing mounted).
# It first checks that the harness built the layout it was asked for.
. /vm/lib.sh
T=$TINYCTR

# --- the harness: this guest has the host layout asked for ---
# mounts FSTYPE: the guest host's mount points of that type, on one line.
mounts() { host_mounts | awk -v t="$1" '$2 == t { print $1 }' | tr '\n' ' '; }

case $VM_LAYOUT in
v2)
	check_eq "/sys/fs/cgroup " "$(mounts cgroup2)" "v2: cgroup2 at /sys/fs/cgroup"
	check_eq "" "$(mounts cgroup)" "v2: no v1 hierarchy"
	check_match "*memory*" "$(cat /sys/fs/cgroup/cgroup.controllers)" "v2: memory controller on cgroup2"
	;;
v1 | hybrid)
	v1=$(mounts cgroup)
	check_match "*/sys/fs/cgroup/cpu,cpuacct *" "$v1" "$VM_LAYOUT: cpu,cpuacct co-mounted"
	check_match "*/sys/fs/cgroup/memory *" "$v1" "$VM_LAYOUT: memory on v1"
	check_match "*/sys/fs/cgroup/pids *" "$v1" "$VM_LAYOUT: pids on v1"
	check_match "*/sys/fs/cgroup/cpuset *" "$v1" "$VM_LAYOUT: cpuset on v1"
	check_match "*/sys/fs/cgroup/systemd *" "$v1" "$VM_LAYOUT: name=systemd on v1"
	check "$VM_LAYOUT: /sys/fs/cgroup/cpu links to cpu,cpuacct" test -L /sys/fs/cgroup/cpu
	if [ "$VM_LAYOUT" = v1 ]; then
		check_eq "" "$(mounts cgroup2)" "v1: no cgroup2"
	else
		check_eq "/sys/fs/cgroup/unified " "$(mounts cgroup2)" "hybrid: cgroup2 at unified"
		check_eq "hugetlb" "$(cat /sys/fs/cgroup/unified/cgroup.controllers)" "hybrid: hugetlb on cgroup2 only"
	fi
	;;
bare)
	check_eq "" "$(ls -A /proc)" "bare: /proc empty"
	check_eq "" "$(ls -A /sys)" "bare: /sys empty"
	;;
esac
check "tinyctr --version runs" "$T" --version
check "modules load (insmod overlay)" insmod /lib/modules/overlay.ko
before=$(host_mounts)

# --- namespaces ---
# shellcheck disable=SC2016
check_eq 1 "$("$T" run /bin/sh -c 'echo $$')" "the command is PID 1"
check_eq cat "$("$T" run /bin/cat /proc/1/comm)" "the container's /proc shows its own PID namespace"
check_eq tinyctr "$("$T" run /bin/hostname)" "default hostname"
check_eq box "$("$T" run -h box /bin/hostname)" "-h sets the hostname"
check_eq eq "$("$T" run --hostname=eq /bin/hostname)" "--hostname=NAME sets the hostname"
check_eq vmhost "$(hostname)" "the host's hostname is unchanged"

# --- the container's /proc: the last /proc mount in its table is the fresh one ---
mi=$("$T" run /bin/cat /proc/self/mountinfo)
procline=$(echo "$mi" | awk '$5 == "/proc"' | tail -n 1)
opts=$(echo "$procline" | awk '{ print $6 }')
check_match "*proc proc*" "$procline" "a proc filesystem is mounted on /proc"
check_match "*nosuid*" "$opts" "/proc is nosuid"
check_match "*nodev*" "$opts" "/proc is nodev"
check_match "*noexec*" "$opts" "/proc is noexec"

# --- exit statuses (docker's convention) ---
check_status 0 "true exits 0" "$T" run /bin/true
check_status 7 "the command's own status" "$T" run /bin/sh -c 'exit 7'
check_status 125 "unknown option: 125" "$T" run --no-such-option /bin/true
check_status 125 "no command: 125" "$T" run
printf '#!/bin/sh\necho hi\n' >/tmp/notexec
chmod 644 /tmp/notexec
check_status 126 "not executable: 126" "$T" run /tmp/notexec
check_status 126 "a directory: 126" "$T" run /tmp
check_status 127 "no such file: 127" "$T" run /no/such/file
check_status 127 "not on PATH: 127" "$T" run no-such-command
err=$("$T" run /no/such/file 2>&1)
check_match "tinyctr: *" "$err" "the error names tinyctr"
check_eq 1 "$(echo "$err" | wc -l)" "the error is one line"

# 128+S: a PID 1 ignores signals it has no handler for, but not SIGKILL from the host.
if proc_open; then
	$T run /bin/sleep 30 &
	tpid=$!
	if cpid=$(child_of $tpid sleep); then
		kill -KILL "$cpid"
		wait $tpid
		check_eq 137 $? "killed by SIGKILL: 137"
	else
		fail "the container's sleep never showed up under tinyctr ($tpid)"
		kill -KILL $tpid
		wait $tpid
	fi
	proc_close
fi

# --- mount isolation (mounting needs CAP_SYS_ADMIN: only --privileged keeps it) ---
mkdir -p /tmp/iso
check_eq inside "$("$T" run --privileged /bin/sh -c 'mount -t tmpfs tmpfs /tmp/iso && touch /tmp/iso/inside && ls /tmp/iso')" \
	"a mount inside a --privileged container works"
check "a file on the container's mount is invisible on the host" test ! -e /tmp/iso/inside
$T run --privileged /bin/sh -c 'mount -t tmpfs tmpfs /proc' >/dev/null 2>&1
check_eq "$before" "$(host_mounts)" "the host's mount table is unchanged"
if [ "$VM_LAYOUT" = bare ]; then
	check_eq "/ rootfs
/dev devtmpfs
/tmp/vmproc proc" "$before" "bare: nothing mounted but / and /dev (and our probe)"
	check_eq "" "$(ls -A /proc)" "bare: /proc is still an empty directory"
else
	check_eq init "$(cat /proc/1/comm)" "the host's /proc is the host's"
fi
