#!/bin/bash
# oci-bundle.sh DIR TINY_TRUE: build the OCI bundles crun and runc run in the benchmark.
#
# DIR/rootfs          busybox-static (true, sleep, sh) + TINY_TRUE as /bin/tiny-true,
#                     read-only and shared by every container
# DIR/true/           config.json from `crun spec`, args /bin/true, no terminal
# DIR/tiny/           the same running /bin/tiny-true (peak RSS runs)
# DIR/sleep/          the same running `sleep 1000` (idle containers for the load test)
# Everything else is `crun spec`'s default (pid, net, ipc, uts, mount namespaces;
# no cgroupsPath: with the cgroupfs manager both runtimes then use /<container id>,
# relative to the cgroup namespace the benchmark runs in, i.e. below our own cgroup).
set -euo pipefail
dir=$1 tiny=$2
busybox=$(command -v busybox)
file -L "$busybox" | grep -q 'statically linked' || {
	echo "oci-bundle: $busybox is not static (apt-get install busybox-static)" >&2
	exit 1
}
rm -rf "$dir"
mkdir -p "$dir/rootfs"/{bin,proc,dev,sys,tmp,etc}
cp "$busybox" "$dir/rootfs/bin/busybox"
for a in true sleep sh; do ln -s busybox "$dir/rootfs/bin/$a"; done
cp "$tiny" "$dir/rootfs/bin/tiny-true"
spec=$(mktemp -d)
(cd "$spec" && crun spec)
for name in true tiny sleep; do
	mkdir -p "$dir/$name"
	python3 - "$spec/config.json" "$dir/$name/config.json" "$dir/rootfs" "$name" <<'PY'
import json, sys
src, dst, rootfs, name = sys.argv[1:]
c = json.load(open(src))
c["process"]["terminal"] = False
c["process"]["args"] = {"true": ["/bin/true"], "tiny": ["/bin/tiny-true"],
                        "sleep": ["/bin/sleep", "1000"]}[name]
c["root"] = {"path": rootfs, "readonly": True}
json.dump(c, open(dst, "w"), indent=1)
PY
done
rm -rf "$spec"
