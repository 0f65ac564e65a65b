# oci.sh: the OCI runtime in the guest, on a bundle like the ones containerd makes
# (tests/vm/hooks/oci.sh): create, state, start, the program's exit, delete, and nothing
# left — in an initramfs with no containerd and no /run, on this layout's cgroups.
. /vm/lib.sh
O=/vm/tinyctr-oci
if [ ! -x "$O" ]; then
	skip "no OCI build in the initramfs (TINYCTR_OCI_BIN)"
	vm_finish
fi
oci() { "$O" --root /tmp/oci-state --log /tmp/oci.log --log-format json "$@"; }
# Until the state of container $1 says stopped (5 s at most): its init is no child of
# this shell (its parent, create, is gone), so no wait(1).
wait_stopped() {
	for _ in $(seq 100); do
		oci state "$1" 2>/dev/null | grep -q '"status":"stopped"' && return
		sleep 0.05
	done
}
# An agent in a microVM mounts /proc and a cgroup hierarchy before it runs containers
# (the runtime finds the init through /proc, and a container gets a cgroup): the bare
# layout's first instant has neither.
if [ "$VM_LAYOUT" = bare ]; then
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi

# The init inherits create's stdio, as a shim's pipes: files here, or a check that reads
# create's output would wait for the container's end.
oci create --bundle /vm/bundle --pid-file /tmp/init.pid c1 </dev/null >/tmp/c1.out 2>&1
check_eq "0" "$?" "create ($(cat /tmp/c1.out))"
pid=$(cat /tmp/init.pid 2>/dev/null)
check_match '*"status":"created"*' "$(oci state c1)" "state after create"
check "the init waits (pid $pid)" kill -0 "$pid"
check_eq "" "$(cat /vm/shared/out 2>/dev/null)" "the program has not run before start"
check "start" oci start c1
wait_stopped c1
check_match '*"status":"stopped"*' "$(oci state c1)" "state after the program ended"
check_match "hello from * pid 1*" "$(head -n 1 /vm/shared/out)" "the program ran as PID 1 of its own namespaces"
check_eq "0" "$(sed -n 2p /vm/shared/out)" "as root"
# containerd's device allow-list (deny all, then the usual nodes): a v1 devices cgroup,
# or on v2 a device program on the container's cgroup.
check_eq "refused" "$(cat /vm/shared/fuse)" "mknod of a device outside the allow-list"
check_eq "made" "$(cat /vm/shared/null)" "mknod of one inside it"
# config.json's cgroup mount: the container's own cgroups (the root of each mount, named
# as the host names it: the config lists no cgroup namespace, so the container is in
# the host's), read-only; v1 hierarchies in a tmpfs, else cgroup2 itself.
if [ -d /sys/fs/cgroup/memory ]; then want="/vmoci/c1 /sys/fs/cgroup/memory ro,"; else want="/vmoci/c1 /sys/fs/cgroup ro,"; fi
check_match "*$want*" "$(cat /vm/shared/cgroupfs 2>/dev/null)" "the container's /sys/fs/cgroup"
check "delete" oci delete c1
check_match "*does not exist*" "$(oci state c1 2>&1)" "no state after delete"

# pause and resume: the v1 freezer hierarchy (v1: create made the container's cgroup
# there, at its cgroupsPath), or cgroup.freeze on the unified hierarchy (v2, bare).
oci create --bundle /vm/bundle-sleep --pid-file /tmp/c2.pid c2 </dev/null >/tmp/c2.out 2>&1
check_eq "0" "$?" "create c2 ($(cat /tmp/c2.out))"
check "start c2" oci start c2
# The cgroupsPath is the container's cgroup in every hierarchy, with a limit there or
# not (its config sets only cpu shares): the limits of a pod cgroup above it hold it.
# Every v1 one, as runc: blkio, perf_event, net_cls, name=systemd... (metrics read them).
# On v2, each controller is enabled for it, and update sets a limit create had none of.
c2=$(cat /tmp/c2.pid)
elsewhere=$(grep -v '^0::' "/proc/$c2/cgroup" | grep -v ':/vmoci/c2$')
check_eq "" "$elsewhere" "the v1 hierarchies the container is not in"
if grep -q ' cgroup2 ' /proc/mounts; then
	check_eq "0::/vmoci/c2" "$(grep '^0::' "/proc/$c2/cgroup")" "the container's v2 cgroup"
fi
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	check_match "*memory*pids*" "$(cat /sys/fs/cgroup/vmoci/c2/cgroup.controllers)" "the controllers of the container's v2 cgroup"
fi
# linux.resources.hugepageLimits: the v1 hugetlb hierarchy, or the v2 cgroup (hugetlb
# enabled down to it), with the reservation limit beside it.
hl=$(cat /sys/fs/cgroup/hugetlb/vmoci/c2/hugetlb.2MB.limit_in_bytes /sys/fs/cgroup/vmoci/c2/hugetlb.2MB.max 2>/dev/null)
check_eq "4194304" "$hl" "the 2MB huge page limit"
hl=$(cat /sys/fs/cgroup/hugetlb/vmoci/c2/hugetlb.2MB.rsvd.limit_in_bytes /sys/fs/cgroup/vmoci/c2/hugetlb.2MB.rsvd.max 2>/dev/null)
check_eq "4194304" "$hl" "the 2MB huge page reservation limit"
echo '{"pids":{"limit":50},"memory":{"limit":67108864},"hugepageLimits":[{"pageSize":"2MB","limit":8388608}]}' |
	oci update --resources - c2 >/tmp/upd.out 2>&1
check_eq "0" "$?" "update of limits create had none of ($(cat /tmp/upd.out))"
pm=$(cat /sys/fs/cgroup/pids/vmoci/c2/pids.max /sys/fs/cgroup/vmoci/c2/pids.max 2>/dev/null)
check_eq "50" "$pm" "pids.max after update"
hl=$(cat /sys/fs/cgroup/hugetlb/vmoci/c2/hugetlb.2MB.limit_in_bytes /sys/fs/cgroup/vmoci/c2/hugetlb.2MB.max 2>/dev/null)
check_eq "8388608" "$hl" "the 2MB huge page limit after update"
# blockIO throttles: a loop device's rate in blkio (v1) or io.max (v2).
check "insmod loop" insmod /lib/modules/loop.ko
dd if=/dev/zero of=/tmp/disk bs=1024 count=1024 2>/dev/null
check "losetup" losetup /dev/loop0 /tmp/disk
mm=$(cat /sys/block/loop0/dev)
echo "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":${mm%:*},\"minor\":${mm#*:},\"rate\":1048576}]}}" |
	oci update --resources - c2 >/tmp/upd.out 2>&1
check_eq "0" "$?" "update with a read throttle ($(cat /tmp/upd.out))"
got=$(cat /sys/fs/cgroup/blkio/vmoci/c2/blkio.throttle.read_bps_device /sys/fs/cgroup/vmoci/c2/io.max 2>/dev/null)
check_match "$mm*1048576*" "$got" "the loop device's read throttle"
losetup -d /dev/loop0
# memory.reservation: v1's soft limit, or v2's memory.low (as runc writes it).
echo '{"memory":{"limit":67108864,"reservation":33554432}}' | oci update --resources - c2 >/tmp/upd.out 2>&1
check_eq "0" "$?" "update with a memory reservation ($(cat /tmp/upd.out))"
low=$(cat /sys/fs/cgroup/memory/vmoci/c2/memory.soft_limit_in_bytes /sys/fs/cgroup/vmoci/c2/memory.low 2>/dev/null)
check_eq "33554432" "$low" "the memory reservation"
# linux.resources.unified, as the kubelet sends it on a v2 node; refused without v2.
echo '{"unified":{"memory.oom.group":"1"}}' | oci update --resources - c2 >/tmp/upd.out 2>&1
st=$?
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	check_eq "0" "$st" "update with unified ($(cat /tmp/upd.out))"
	check_eq "1" "$(cat /sys/fs/cgroup/vmoci/c2/memory.oom.group 2>&1)" "memory.oom.group after update"
else
	check_eq "1" "$st" "update with unified on a v1 host fails"
	check_match "*needs a cgroup v2*" "$(cat /tmp/upd.out)" "and says why"
fi
# Settings `run` has no option for: net_cls's class and swappiness on v1; refused by
# name where no cgroup of the container has the file (v2).
echo '{"network":{"classID":1048577},"memory":{"swappiness":10}}' | oci update --resources - c2 >/tmp/upd.out 2>&1
st=$?
if [ -d /sys/fs/cgroup/net_cls ]; then
	check_eq "0" "$st" "update of classID and swappiness ($(cat /tmp/upd.out))"
	check_eq "1048577" "$(cat /sys/fs/cgroup/net_cls/vmoci/c2/net_cls.classid 2>&1)" "net_cls.classid after update"
	check_eq "10" "$(cat /sys/fs/cgroup/memory/vmoci/c2/memory.swappiness 2>&1)" "memory.swappiness after update"
else
	check_eq "1" "$st" "update of classID and swappiness without v1 fails"
	check_match "*memory.swappiness: no cgroup of the container has memory.swappiness*" "$(cat /tmp/upd.out)" "naming the setting"
fi
check "pause" oci pause c2
check_match '*"status":"paused"*' "$(oci state c2)" "state after pause"
if [ -d /sys/fs/cgroup/freezer ]; then
	check_eq "FROZEN" "$(cat /sys/fs/cgroup/freezer/vmoci/c2/freezer.state 2>&1)" "v1 freezer.state after pause"
else
	check_match "*frozen 1*" "$(cat /sys/fs/cgroup/vmoci/c2/cgroup.events 2>&1)" "cgroup.events after pause"
fi
check "resume" oci resume c2
check_match '*"status":"running"*' "$(oci state c2)" "state after resume"
check "kill" oci kill c2 KILL
wait_stopped c2
check_match '*"status":"stopped"*' "$(oci state c2)" "state after kill"
check "delete c2" oci delete c2
# A huge page size the kernel does not have fails create after every hierarchy's cgroup
# was made: all of them go again, and the error names the file.
mkdir -p /tmp/bundle-hp
sed 's/"pageSize": *"2MB"/"pageSize": "3MB"/' /vm/bundle-sleep/config.json >/tmp/bundle-hp/config.json
oci create --bundle /tmp/bundle-hp --pid-file /tmp/hp.pid hp </dev/null >/tmp/hp.out 2>&1
check_eq "1" "$?" "create with a 3MB huge page limit fails"
check_match "*hugetlb.3MB*" "$(cat /tmp/hp.out)" "naming the file"
check_match "*does not exist*" "$(oci state hp 2>&1)" "no state left"
# A user namespace: the mapped root on a rootfs it owns; the init is uid 0 inside and
# 100000 outside, /dev/null (the guest's, bound) works, what it makes is 100000's.
cp -a /vm/bundle/rootfs /tmp/userns-rootfs
mkdir -p /tmp/userns-shared
chown -R 100000:100000 /tmp/userns-rootfs /tmp/userns-shared
oci create --bundle /vm/bundle-userns --pid-file /tmp/un.pid un </dev/null >/tmp/un.out 2>&1
check_eq "0" "$?" "create in a user namespace ($(cat /tmp/un.out))"
check_match "*100000*65536*" "$(cat /proc/$(cat /tmp/un.pid)/uid_map 2>&1)" "the init's uid map"
check "start un" oci start un
wait_stopped un
check_match "0*0*100000*65536*null-ok" "$(cat /tmp/userns-shared/out 2>&1)" "root of its user namespace, /dev/null usable"
check_eq "100000" "$(stat -c %u /tmp/userns-shared/made 2>&1)" "what it made belongs to the mapped id"
check_eq "8192" "$(cat /tmp/userns-shared/nofile 2>&1)" "a hard limit above the runtime's own, set from the host"
check "delete un" oci delete un
left=$(find /sys/fs/cgroup -type d -path '*vmoci*' 2>/dev/null)
check_eq "" "$left" "no cgroup left"
check_eq "" "$(ls -A /tmp/oci-state 2>/dev/null)" "no state directory left"
vm_finish
