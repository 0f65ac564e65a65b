#!/bin/bash
# cgns.sh COMMAND...: run COMMAND where crun 1.8 accepts the cgroup layout, and
# where every runtime's cgroups land below our own.
#
# Must be started as `unshare --mount --cgroup --propagation private cgns.sh ...`
# (a private mount namespace and a cgroup namespace rooted at our own cgroups).
# This host is hybrid: cgroup v1 hierarchies plus a cgroup2 mount at
# /sys/fs/cgroup/unified that crun refuses ("cgroups in hybrid mode not
# supported"). Here we replace /sys/fs/cgroup by a fresh tmpfs holding only the
# v1 hierarchies, each mounted again from inside the cgroup namespace, so each
# mount's root is our own cgroup (memory: /process_api/<id>, elsewhere /).
# Whatever a runtime creates under /sys/fs/cgroup/<ctl>/ is then a child of our
# own cgroup, never a sibling, and nothing outside the namespace changes.
# COMMAND itself runs in the child cgroup "driver" of that root (see below).
set -euo pipefail
[ "$(readlink /proc/self/ns/cgroup)" != "$(readlink /proc/1/ns/cgroup)" ] || {
	echo "cgns.sh: not in a private cgroup namespace (run it under unshare -m -C)" >&2
	exit 1
}
# Each v1 hierarchy as "mountpoint options" (options minus rw/relatime noise).
mapfile -t v1 < <(awk '$0 ~ / - cgroup / {
	split($0, half, " - "); split(half[2], f, " ");
	n = split(f[3], o, ","); opts = "";
	for (i = 1; i <= n; i++) if (o[i] != "rw" && o[i] != "ro" && o[i] != "relatime")
		opts = opts (opts ? "," : "") o[i];
	split(half[1], g, " "); print g[5], opts }' /proc/self/mountinfo)
[ ${#v1[@]} -gt 0 ] || { echo "cgns.sh: no cgroup v1 hierarchy mounted" >&2; exit 1; }
umount -R /sys/fs/cgroup 2>/dev/null || umount -l /sys/fs/cgroup
mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup
for line in "${v1[@]}"; do
	mnt=${line%% *} opts=${line#* }
	case $mnt in /sys/fs/cgroup/*) ;; *) continue ;; esac
	mkdir -p "$mnt"
	case ,$opts, in *,name=*) opts=none,$opts ;; esac
	mount -t cgroup -o "$opts" cgroup "$mnt"
done
# Run COMMAND one level down, in a "driver" cgroup, so the namespace's root cgroup
# holds no process: a runtime that wrongly kills "every process in its cgroup's
# parent" (crun was seen to kill the benchmark once, in the middle of its cleanup)
# then finds nobody there.
for h in /sys/fs/cgroup/*/; do
	mkdir -p "$h/driver"
	if [ -f "$h/cpuset.cpus" ]; then
		cat "$h/cpuset.cpus" >"$h/driver/cpuset.cpus"
		cat "$h/cpuset.mems" >"$h/driver/cpuset.mems"
	fi
	echo $$ >"$h/driver/cgroup.procs"
done
exec "$@"
