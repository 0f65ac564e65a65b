# oci.sh ROOT: the build with the OCI runtime at ROOT/vm/tinyctr-oci (TINYCTR_OCI_BIN, set
# by vm.sh prepare), and a bundle for it at ROOT/vm/bundle: a busybox rootfs and a
# config.json as containerd's `ctr run` writes one (tests/fixtures/oci/ctr-run.json), its
# root relative to the bundle and its cgroupsPath /vmoci/c1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${TINYCTR_OCI_BIN:-}" ]; then
	echo "oci.sh: TINYCTR_OCI_BIN is not set: the oci guest will skip" >&2
	case ${CI:-} in true | 1) exit 1 ;; esac
	exit 0
fi
cp "$TINYCTR_OCI_BIN" "$1/vm/tinyctr-oci"
chmod 755 "$1/vm/tinyctr-oci"
b=$1/vm/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/shared" "$b/rootfs/etc" "$1/vm/bundle-sleep" "$1/vm/bundle-aa" "$1/vm/bundle-userns"
cp "$BUSYBOX" "$b/rootfs/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ -e "$b/rootfs/bin/$applet" ] || ln -s busybox "$b/rootfs/bin/$applet"
done
python3 - "$here/../../fixtures/oci/ctr-run.json" "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": "rootfs"}
c["process"]["args"] = ["sh", "-c", "echo hello from $(hostname) pid $$ > /shared/out; id -u >> /shared/out; "
                         "mknod /tmp/fuse c 10 229 2>/dev/null && echo made > /shared/fuse || echo refused > /shared/fuse; "
                         "mknod /tmp/null c 1 3 && echo made > /shared/null; "
                         "grep ' /sys/fs/cgroup' /proc/self/mountinfo | cut -d' ' -f4-6 > /shared/cgroupfs; exit 7"]
c["process"]["env"] = ["PATH=/bin"]
c["linux"]["cgroupsPath"] = "/vmoci/c1"
c["mounts"].append({"destination": "/shared", "type": "bind", "source": "/vm/shared", "options": ["rbind", "rw"]})
# As runc spec, docker and CRI write it (ctr run does not).
c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                    "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
json.dump(c, open(sys.argv[2], "w"))
# A second bundle on the same rootfs (its guest path), whose program waits: for pause
# and resume.
c["root"] = {"path": "/vm/bundle/rootfs"}
c["process"]["args"] = ["sleep", "1000"]
c["linux"]["cgroupsPath"] = "/vmoci/c2"
# As the kubelet sends them: a limit for every page size the node has.
c["linux"]["resources"]["hugepageLimits"] = [{"pageSize": "2MB", "limit": 4194304}]
json.dump(c, open(sys.argv[2].replace("/bundle/", "/bundle-sleep/"), "w"))
del c["linux"]["resources"]["hugepageLimits"]
# A third, whose process asks for the AppArmor profile of hooks/apparmor.profile
# (guest/apparmor.sh), and a process file for exec with it.
c["process"]["apparmorProfile"] = "tinyctr-test"
c["process"]["args"] = ["sh", "-c", "cat /proc/self/attr/apparmor/current > /shared/aa; "
                         "if cat /etc/hostname >/dev/null 2>&1; then echo read; else echo denied; fi >> /shared/aa"]
c["linux"]["cgroupsPath"] = "/vmoci/aa"
json.dump(c, open(sys.argv[2].replace("/bundle/", "/bundle-aa/"), "w"))
c["process"]["args"] = ["sh", "-c", "cat /proc/self/attr/apparmor/current > /shared/aa-exec"]
json.dump(c["process"], open(sys.argv[2].replace("/bundle/config.json", "/aa-exec.json"), "w"))
# A fourth, in a user namespace (what `ctr run --uidmap` writes), on a copy of the rootfs
# the guest gives to the mapped root (guest/oci.sh), with a /shared that root owns.
del c["process"]["apparmorProfile"]
m = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["namespaces"].append({"type": "user"})
c["linux"]["uidMappings"] = m
c["linux"]["gidMappings"] = m
c["linux"]["cgroupsPath"] = "/vmoci/un"
c["root"] = {"path": "/tmp/userns-rootfs"}
c["mounts"] = [x for x in c["mounts"] if x["destination"] != "/shared"]
c["mounts"].append({"destination": "/shared", "type": "bind", "source": "/tmp/userns-shared", "options": ["rbind", "rw"]})
c["process"]["args"] = ["sh", "-c", "id -u > /shared/out; cat /proc/self/uid_map >> /shared/out; "
                         "echo x > /dev/null && echo null-ok >> /shared/out; touch /shared/made; ulimit -Hn > /shared/nofile"]
# A hard limit above the guest's (4096): only the host's root may raise it, from outside.
c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 8192, "soft": 1024}]
json.dump(c, open(sys.argv[2].replace("/bundle/", "/bundle-userns/"), "w"))
PY
echo tinyctr-test >"$b/rootfs/etc/hostname"
# The profile, compiled here: the guest has no apparmor_parser.
if command -v apparmor_parser >/dev/null 2>&1; then
	apparmor_parser -Q -S "$here/apparmor.profile" >"$1/vm/apparmor.bin" 2>/dev/null
else
	echo "oci.sh: no apparmor_parser (apt-get install apparmor): the apparmor guest will skip" >&2
	case ${CI:-} in true | 1) exit 1 ;; esac
fi
mkdir -p "$1/vm/shared"
