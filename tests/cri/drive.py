#!/usr/bin/env python3
"""Kubernetes' path to the OCI runtime, without a kubelet: tests/cri.rs runs

    tests/cri/drive.py RUNTIME SCRATCH BUSYBOX

which starts a private containerd 1.6 with its CRI plugin (every path under SCRATCH,
the runtime handler `tinyctr` naming RUNTIME as the runc v2 shim's BinaryName, a CNI
bridge of its own), imports a busybox image and a pause image built from BUSYBOX, and
drives a pod through CRI's gRPC API as the kubelet does (the messages of api.proto
here): RunPodSandbox, CreateContainer, StartContainer, ExecSync, UpdateContainerResources,
StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox. It checks what a
kubelet relies on: the container in the pause container's network, IPC and UTS
namespaces, in its own PID one, in its cgroup below the pod's with the pod spec's
limits, its user, env, cwd, read-only mount, seccomp, logs, exit codes; and that
nothing is left afterwards. One line per check ("ok: ..."); the first failed check is
"FAIL: ..." and status 1. Everything it started or made is removed on the way out,
also on failure.
"""
import json
import os
import signal
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_IMAGE = os.path.join(HERE, "..", "containerd", "build-image.sh")
BUSYBOX_IMAGE = "docker.io/local/busybox:latest"
PAUSE_IMAGE = "docker.io/local/pause:latest"
# A pause that a stop's SIGTERM ends (sh as PID 1 would ignore it without the trap).
PAUSE_CMD = '["sh","-c","trap \\"exit 0\\" TERM INT; while :; do sleep 3600 & wait $!; done"]'
BRIDGE = "tinyctr-cri0"
SUBNET = "10.233.77"
CONFIG = """version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[debug]
  level = "debug"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{d}/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "{pause}"
    disable_apparmor = true
    # The pause container's oom_score_adj is -998, and lowering one needs
    # CAP_SYS_RESOURCE, which a host's bounding set can lack (this development host's
    # does; runc fails there too): containerd then clamps it to its own.
    restrict_oom_score_adj = {restrict}
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "tinyctr"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tinyctr]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.tinyctr.options]
          BinaryName = "{runtime}"
          Root = "{d}/runc-root"
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "{d}/cni"
"""
CNI = {
    "cniVersion": "0.4.0",
    "name": "tinyctr-cri",
    "plugins": [{
        "type": "bridge", "bridge": BRIDGE, "isGateway": False, "ipMasq": False,
        "ipam": {"type": "host-local", "ranges": [[{"subnet": SUBNET + ".0/24"}]], "dataDir": None},
    }],
}


class Failed(Exception):
    pass


def check(cond, what, got=None):
    if not cond:
        raise Failed(what + ("" if got is None else f": got {got!r}"))
    print("ok:", what, flush=True)


def run(*args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def has_sys_resource():
    bnd = next(l for l in open("/proc/self/status") if l.startswith("CapBnd:"))
    return int(bnd.split()[1], 16) >> 24 & 1 == 1


def proc_status(pid):
    """/proc/PID/status as {field: value}."""
    return dict(l.split(":\t", 1) for l in open(f"/proc/{pid}/status").read().splitlines() if ":\t" in l)


def hierarchies():
    """Every cgroup mount point: (fstype, mount point)."""
    out = []
    for line in open("/proc/self/mountinfo"):
        pre, post = line.split(" - ", 1)
        fstype = post.split()[0]
        if fstype in ("cgroup", "cgroup2"):
            out.append(pre.split()[4])
    return out


def cgroup_file(path, name):
    for h in hierarchies():
        try:
            return open(os.path.join(h, path.lstrip("/"), name)).read().strip()
        except OSError:
            pass
    return None


def cgroup_lines(pid):
    """/proc/PID/cgroup as {controllers: path}."""
    out = {}
    for line in open(f"/proc/{pid}/cgroup"):
        _, ctls, path = line.rstrip("\n").split(":", 2)
        out[ctls] = path
    return out


class Pod:
    def __init__(self, runtime, scratch, busybox):
        self.runtime, self.d, self.busybox = runtime, scratch, busybox
        # Named for the caller (tests/cri.rs checks that none is left).
        self.top = f"/tinyctr-cri-{os.getppid()}"
        self.ctrd = None
        self.sandboxes, self.containers = [], []

    def ctr(self, *args):
        return run("ctr", "-a", f"{self.d}/containerd.sock", "-n", "k8s.io", *args)

    def start(self):
        d = self.d
        for sub in ("cni", "ipam", "logs", "data", "gen", "img"):
            os.makedirs(f"{d}/{sub}", exist_ok=True)
        with open(f"{d}/config.toml", "w") as f:
            restrict = "false" if has_sys_resource() else "true"
            f.write(CONFIG.format(d=d, pause=PAUSE_IMAGE, runtime=self.runtime, restrict=restrict))
        cni = json.loads(json.dumps(CNI))
        cni["plugins"][0]["ipam"]["dataDir"] = f"{d}/ipam"
        with open(f"{d}/cni/10-tinyctr.conflist", "w") as f:
            json.dump(cni, f)
        from grpc_tools import protoc

        rc = protoc.main(["protoc", f"-I{HERE}", f"--python_out={d}/gen", f"--grpc_python_out={d}/gen",
                          os.path.join(HERE, "api.proto")])
        check(rc == 0, "the CRI stubs compile from tests/cri/api.proto", rc)
        sys.path.insert(0, f"{d}/gen")
        global pb, grpc
        import grpc
        import api_pb2 as pb
        import api_pb2_grpc as rpc

        log = open(f"{d}/containerd.log", "w")
        self.ctrd = subprocess.Popen(["containerd", "--config", f"{d}/config.toml"], stdout=log, stderr=log,
                                     start_new_session=True)
        deadline = time.time() + 30
        while not os.path.exists(f"{d}/containerd.sock") and time.time() < deadline:
            time.sleep(0.05)
        check(os.path.exists(f"{d}/containerd.sock"), "containerd is up (with its CRI plugin)")
        for name, cmd, file in ((BUSYBOX_IMAGE, '["sh"]', "busybox.tar"), (PAUSE_IMAGE, PAUSE_CMD, "pause.tar")):
            env = dict(os.environ, IMAGE_NAME=name, IMAGE_CMD=cmd, IMAGE_FILE=file)
            b = run("bash", BUILD_IMAGE, f"{d}/img", self.busybox, env=env)
            check(b.returncode == 0, f"image {name} built", b.stderr)
            i = self.ctr("images", "import", f"{d}/img/{file}")
            check(i.returncode == 0, f"image {name} imported", i.stderr)
        self.rt = rpc.RuntimeServiceStub(grpc.insecure_channel(f"unix://{d}/containerd.sock"))
        for _ in range(100):
            try:
                v = self.rt.Version(pb.VersionRequest(version="v1"), timeout=5)
                break
            except grpc.RpcError:
                time.sleep(0.1)
        check(v.runtime_name == "containerd", "the CRI answers", v)

    def stop(self):
        """Everything this run started or made, removed; errors are not checks here."""
        for cid in self.containers:
            try:
                self.rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=30)
            except Exception as e:
                print("cleanup: RemoveContainer:", e)
        for sid in self.sandboxes:
            try:
                self.rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid), timeout=30)
                self.rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid), timeout=30)
            except Exception as e:
                print("cleanup: pod sandbox:", e)
        if self.ctrd:
            try:
                os.killpg(self.ctrd.pid, signal.SIGTERM)
                self.ctrd.wait(timeout=15)
            except Exception:
                os.killpg(self.ctrd.pid, signal.SIGKILL)
        # Shims outlive containerd by design; those of this run's address go.
        run("pkill", "-KILL", "-f", f"containerd-shim-runc-v2 .*-address {self.d}/containerd.sock")
        for h in hierarchies():
            top = os.path.join(h, self.top.lstrip("/"))
            for root, dirs, _ in sorted(os.walk(top, topdown=False), key=lambda w: -len(w[0])):
                try:
                    for p in open(os.path.join(root, "cgroup.procs")).read().split():
                        os.kill(int(p), signal.SIGKILL)
                except OSError:
                    pass
                for _ in range(50):
                    try:
                        os.rmdir(root)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.02)
        run("ip", "link", "del", BRIDGE)
        mounts = [l.split()[4] for l in open("/proc/self/mountinfo") if l.split()[4].startswith(self.d)]
        for m in sorted(mounts, key=len, reverse=True):
            run("umount", "-l", m)

    def run_pod(self, config):
        """RunPodSandbox with the tinyctr handler: the pod's ID (removed on the way out)."""
        req = pb.RunPodSandboxRequest(config=config, runtime_handler="tinyctr")
        sid = self.rt.RunPodSandbox(req, timeout=60).pod_sandbox_id
        self.sandboxes.append(sid)
        return sid

    def start_container(self, sid, cfg, pod, what):
        """CreateContainer and StartContainer, checked running: its ID and host pid."""
        req = pb.CreateContainerRequest(pod_sandbox_id=sid, config=cfg, sandbox_config=pod)
        cid = self.rt.CreateContainer(req, timeout=60).container_id
        self.containers.append(cid)
        check(bool(cid), f"CreateContainer: {what}")
        self.rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=60)
        cs = self.rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid, verbose=True), timeout=30)
        check(cs.status.state == pb.CONTAINER_RUNNING, f"StartContainer: {what} runs", cs.status)
        return cid, json.loads(cs.info["info"])["pid"]

    def remove(self, sid, cid):
        """RemoveContainer (stopped), then StopPodSandbox and RemovePodSandbox."""
        self.rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=60)
        self.containers.remove(cid)
        self.rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sid), timeout=60)
        self.rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sid), timeout=60)
        self.sandboxes.remove(sid)

    def state_left(self):
        """What is left in the runtime's state root for the k8s.io namespace."""
        state = f"{self.d}/runc-root/k8s.io"
        return os.listdir(state) if os.path.isdir(state) else []

    def pod_config(self, name, privileged=False, share_pid=False):
        ns = pb.NamespaceOption(network=pb.POD, pid=pb.POD if share_pid else pb.CONTAINER, ipc=pb.POD)
        sec = pb.LinuxSandboxSecurityContext(namespace_options=ns, privileged=privileged)
        return pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=f"uid-{name}", namespace="default"),
            hostname=name, log_directory=f"{self.d}/logs",
            linux=pb.LinuxPodSandboxConfig(cgroup_parent=f"{self.top}/{name}", security_context=sec))


def host_devices():
    """The host's device nodes as containerd gives them to a privileged container:
    {path: "c MAJOR:MINOR"} (outside /dev/pts, /dev/shm, /dev/mqueue; and without
    /dev/console and /dev/ptmx, which containerd 1.6 leaves out: runc's /dev lacks them
    as tinyctr's does)."""
    out = {}
    for root, dirs, files in os.walk("/dev"):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/dev/pts", "/dev/shm", "/dev/mqueue")]
        for f in files:
            path = os.path.join(root, f)
            st = os.lstat(path)
            kind = "c" if stat.S_ISCHR(st.st_mode) else "b" if stat.S_ISBLK(st.st_mode) else None
            if kind and path not in ("/dev/console", "/dev/ptmx"):
                out[path] = f"{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    return out


def privileged(p):
    """A privileged pod: every capability of the host's bounding set, no seccomp, and
    every device node of the host's /dev (containerd lists each in linux.devices; about a
    hundred here); and a Bidirectional hostPath, as a CSI driver's node plugin has: what
    it mounts there reaches the host."""
    pod = p.pod_config("privpod", privileged=True)
    sid = p.run_pod(pod)
    ns = pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
    # containerd wants the source on a shared mount (this host's are private: no systemd),
    # as the kubelet makes its directory; the Prober's cleanup unmounts what is below p.d.
    bidi = f"{p.d}/bidi"
    os.makedirs(bidi)
    for args in (["--bind", bidi, bidi], ["--make-shared", bidi]):
        r = run("mount", *args)
        check(r.returncode == 0, f"mount {args}", r.stderr)
    cfg = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="priv"), image=pb.ImageSpec(image=BUSYBOX_IMAGE),
        command=["sleep", "1000"], log_path="priv.log",
        mounts=[pb.Mount(container_path="/bidi", host_path=bidi, propagation=pb.PROPAGATION_BIDIRECTIONAL)],
        linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(namespace_options=ns,
                                                                                       privileged=True)))
    cid, cpid = p.start_container(sid, cfg, pod, "a privileged container")
    r = p.rt.ExecSync(pb.ExecSyncRequest(container_id=cid, timeout=20, cmd=[
        "sh", "-c", "mkdir /bidi/in && mount -t tmpfs csi /bidi/in && echo from-the-pod > /bidi/in/f"]), timeout=60)
    check(r.exit_code == 0, "a mount in its Bidirectional hostPath", r.stderr)
    got = open(f"{bidi}/in/f").read() if os.path.exists(f"{bidi}/in/f") else None
    check(got == "from-the-pod\n", "reaches the host", got)
    fields, ours = proc_status(cpid), proc_status("self")
    check(fields["CapEff"] == ours["CapBnd"], "with every capability the host has", fields["CapEff"])
    check(fields["Seccomp"].strip() == "0", "and no seccomp filter", fields["Seccomp"])
    r = p.rt.ExecSync(pb.ExecSyncRequest(container_id=cid, timeout=20, cmd=[
        "sh", "-c", "find /dev -path /dev/pts -prune -o -path /dev/shm -prune -o -path /dev/mqueue -prune -o "
                    "\\( -type c -o -type b \\) -exec stat -c '%n %F %t:%T' {} +"]), timeout=60)
    inside = {}
    for line in r.stdout.decode().splitlines():
        path, rest = line.split(" ", 1)
        kind = "c" if "character" in rest else "b"
        mm = rest.rsplit(" ", 1)[1].split(":")
        inside[path] = f"{kind} {int(mm[0], 16)}:{int(mm[1], 16)}"
    host = host_devices()
    missing = {k: v for k, v in host.items() if inside.get(k) != v}
    check(len(host) > 10 and not missing, f"the {len(host)} device nodes of the host's /dev are in its /dev", missing)
    p.rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=0), timeout=60)
    p.remove(sid, cid)
    check(not p.state_left(), "nothing of it is left", p.state_left())


def shared_pid(p):
    """A pod with shareProcessNamespace (NamespaceOption pid=POD): containerd puts the
    container into the pause container's PID namespace by path; it sees the pause process
    as PID 1, and is not PID 1 itself."""
    pod = p.pod_config("sharepid", share_pid=True)
    sid = p.run_pod(pod)
    st = p.rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid, verbose=True), timeout=30)
    spid = json.loads(st.info["info"])["pid"]
    ns = pb.NamespaceOption(network=pb.POD, pid=pb.POD, ipc=pb.POD)
    cfg = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="sharer"), image=pb.ImageSpec(image=BUSYBOX_IMAGE),
        command=["sleep", "1000"], log_path="sharer.log",
        linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))
    cid, cpid = p.start_container(sid, cfg, pod, "a container of a pod that shares its PID namespace")
    same = os.readlink(f"/proc/{cpid}/ns/pid") == os.readlink(f"/proc/{spid}/ns/pid")
    check(same, "is in the pause container's PID namespace")
    r = p.rt.ExecSync(pb.ExecSyncRequest(container_id=cid, timeout=20, cmd=[
        "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ps -o args | grep -c '^sleep 1000$'"]), timeout=60)
    out = r.stdout.decode().splitlines()
    check(r.exit_code == 0 and len(out) == 2 and out[0].startswith("sh -c trap") and out[1] == "1",
          "sees the pause process as PID 1, and its own", r.stdout + r.stderr)
    p.rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=0), timeout=60)
    p.remove(sid, cid)
    check(not p.state_left(), "nothing of it is left", p.state_left())


def scenario(p):
    pod = p.pod_config("tinypod")
    sid = p.run_pod(pod)
    st = p.rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid, verbose=True), timeout=30)
    check(st.status.state == pb.SANDBOX_READY, "RunPodSandbox: the pod is ready", st.status)
    check(st.status.network.ip.startswith(SUBNET + "."), "the pod has its CNI address", st.status.network.ip)
    spid = json.loads(st.info["info"])["pid"]

    with open(f"{p.d}/data/hello", "w") as f:
        f.write("from the host\n")
    ns = pb.NamespaceOption(network=pb.POD, pid=pb.CONTAINER, ipc=pb.POD)
    lim = pb.LinuxContainerResources(cpu_shares=512, cpu_quota=50000, cpu_period=100000,
                                     memory_limit_in_bytes=64 << 20, oom_score_adj=500)
    sec = pb.LinuxContainerSecurityContext(namespace_options=ns, run_as_user=pb.Int64Value(value=1000),
                                           seccomp=pb.SecurityProfile(profile_type=pb.SecurityProfile.RuntimeDefault))
    cfg = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="c1"), image=pb.ImageSpec(image=BUSYBOX_IMAGE),
        command=["sh", "-c"], args=["echo started as $(id -u); exec sleep 1000"],
        working_dir="/tmp", envs=[pb.KeyValue(key="GREETING", value="hello")], log_path="c1.log",
        mounts=[pb.Mount(container_path="/data", host_path=f"{p.d}/data", readonly=True)],
        linux=pb.LinuxContainerConfig(resources=lim, security_context=sec))
    cid, cpid = p.start_container(sid, cfg, pod, "the container")

    for n in ("net", "ipc", "uts"):
        check(os.readlink(f"/proc/{cpid}/ns/{n}") == os.readlink(f"/proc/{spid}/ns/{n}"),
              f"the container is in the pause container's {n} namespace")
    check(os.readlink(f"/proc/{cpid}/ns/pid") != os.readlink(f"/proc/{spid}/ns/pid"),
          "and in a PID namespace of its own")
    cgroup = f"{p.top}/tinypod/{cid}"
    lines = cgroup_lines(cpid)
    for ctls, path in lines.items():
        if ctls in ("", "memory", "pids") or "cpu" in ctls.split(","):
            if ctls == "" and not any(os.path.exists(os.path.join(h, "cgroup.controllers")) for h in hierarchies()):
                continue
            check(path == cgroup, f"its {ctls or 'v2'} cgroup is the pod's child", path)
    check(cgroup_file(cgroup, "memory.limit_in_bytes") in ("67108864",) or cgroup_file(cgroup, "memory.max") == "67108864",
          "the memory limit is the spec's")
    quota = cgroup_file(cgroup, "cpu.cfs_quota_us") or (cgroup_file(cgroup, "cpu.max") or "").split(" ")[0]
    check(quota == "50000", "the CPU quota is the spec's", quota)
    fields = proc_status(cpid)
    check(fields["Uid"].split()[0] == "1000", "it runs as the spec's user", fields["Uid"])
    check(fields["CapEff"].strip() == "0000000000000000", "a non-root user has no effective capability", fields["CapEff"])
    check(fields["Seccomp"].strip() == "2", "under containerd's default seccomp profile", fields["Seccomp"])
    check(open(f"/proc/{cpid}/oom_score_adj").read().strip() == "500", "with the spec's OOM score adjustment")

    def exec_sync(cmd):
        return p.rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=20), timeout=60)

    r = exec_sync(["sh", "-c", "echo $GREETING; pwd; id -u; cat /data/hello; hostname"])
    want = "hello\n/tmp\n1000\nfrom the host\ntinypod\n"
    check(r.exit_code == 0 and r.stdout.decode() == want, "ExecSync: env, cwd, user, the bind, the pod's hostname",
          (r.exit_code, r.stdout, r.stderr))
    r = exec_sync(["sh", "-c", "touch /data/x"])
    check(r.exit_code != 0, "the read-only bind refuses a write", (r.exit_code, r.stderr))
    r = exec_sync(["sh", "-c", "exit 3"])
    check(r.exit_code == 3, "ExecSync's exit code", r.exit_code)
    log = ""
    for _ in range(50):
        log = open(f"{p.d}/logs/c1.log").read() if os.path.exists(f"{p.d}/logs/c1.log") else ""
        if "started" in log:
            break
        time.sleep(0.1)
    check(" stdout F started as 1000" in log, "the container's output is in its CRI log", log)

    upd = pb.LinuxContainerResources(cpu_shares=512, cpu_quota=50000, cpu_period=100000,
                                     memory_limit_in_bytes=128 << 20)
    p.rt.UpdateContainerResources(pb.UpdateContainerResourcesRequest(container_id=cid, linux=upd), timeout=30)
    mem = cgroup_file(cgroup, "memory.limit_in_bytes") or cgroup_file(cgroup, "memory.max")
    check(mem == "134217728", "UpdateContainerResources changes the memory limit", mem)
    # What a JVM or Go program in the pod reads to size itself: CRI's /sys/fs/cgroup mount
    # shows the container's own cgroup, read-only.
    r = exec_sync(["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null;"
                   " grep -c ' /sys/fs/cgroup[/ ].* ro,' /proc/self/mountinfo"])
    out = r.stdout.decode().split()
    check(r.exit_code == 0 and out[:1] == ["134217728"] and int(out[-1]) >= 1,
          "inside, /sys/fs/cgroup shows the container's memory limit, read-only", (r.exit_code, r.stdout, r.stderr))

    p.rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=2), timeout=60)
    cs = p.rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=30)
    check(cs.status.state == pb.CONTAINER_EXITED and cs.status.exit_code == 137,
          "StopContainer: sleep ignored SIGTERM as PID 1, the grace period ended it with SIGKILL", cs.status)
    p.remove(sid, cid)
    check(not os.path.exists(f"/proc/{spid}") and not os.path.exists(f"/proc/{cpid}"), "no process of the pod is left")
    check(not p.state_left(), "no runtime state is left", p.state_left())
    left = [h for h in hierarchies() for c in (cgroup, f"{p.top}/tinypod/{sid}")
            if os.path.isdir(os.path.join(h, c.lstrip("/")))]
    check(not left, "no container cgroup is left", left)


def main():
    runtime, scratch, busybox = sys.argv[1:4]
    p = Pod(runtime, scratch, busybox)
    try:
        p.start()
        scenario(p)
        privileged(p)
        shared_pid(p)
    except Failed as e:
        print("FAIL:", e, flush=True)
        return 1
    except Exception as e:
        print("FAIL:", type(e).__name__, e, flush=True)
        return 1
    finally:
        p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
