# smoke.sh: the harness itself works: the guest has the layout it was asked for, and
# tinyctr starts. Other scripts can rely on the layouts checked here.
. /vm/lib.sh

check "tinyctr --version runs" "$TINYCTR" --version

# mounts FSTYPE: the mount points of that type, from the mount table (none in bare).
mounts() { awk -v t="$1" '$9 == t { print $5 }' /proc/self/mountinfo | tr '\n' ' '; }

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
check_eq vmhost "$(hostname)" "guest hostname"
