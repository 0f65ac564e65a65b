//! The OCI runtime under docker 20.10 (Debian's docker.io): a private dockerd (every path
//! under a scratch directory: data root, exec root, socket, pid file; its own managed
//! containerd; its default network on a bridge the test makes, no iptables; the vfs
//! storage driver; cgroups below
//! /tinyctr-test-docker) with the runtime added as `tinyctr` and made the default, a
//! busybox image imported from a tarball (no registry), and `docker -H unix://SOCK run`.
//!
//! docker writes config.json differently from ctr and CRI: a non-root `-u` gets the
//! bounding set alone, `--shm-size` is the size option of its /dev/shm tmpfs, HOME is left
//! to the runtime, the masked paths are docker's own list, /etc/resolv.conf, hostname and
//! hosts are binds. Each case checks what a docker user sees; the same cases pass against
//! runc (`TINYCTR_OCI_RUNTIME=$(which runc)`) except where runc cannot do the thing on this
//! host (`--privileged`: runc 1.1 fails on capabilities the host's bounding set lacks).
//!
//! One dockerd serves every case, one after another in a single #[test]; after each, no
//! container, no cgroup below /tinyctr-test-docker, and no runtime state may be left. A
//! guard stops dockerd (its process group: the managed containerd and the shims too),
//! unmounts what it left under the scratch directory and removes the cgroups, also when
//! the test fails. `TINYCTR_DOCKER_CASES=a,b` runs only the cases whose names contain
//! one of those words.
//!
//! Without root, busybox-static or docker.io the test skips and says why; under CI=true
//! it fails instead. Built only with the `oci` feature.
#![cfg(feature = "oci")]

mod common;
#[path = "common/oci.rs"]
mod oci;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::rootfs;
use oci::*;

const IMAGE: &str = "local/busybox";
/// The bridge of the test's own that dockerd's default network uses, and its subnet.
const BRIDGE: &str = "tinyctr-dk0";
const SUBNET: &str = "10.233.78";
const CGROUP_PARENT: &str = "/tinyctr-test-docker";
const LIMIT: Duration = Duration::from_secs(60);

fn can_run() -> bool {
    if !common::require_root("the docker tests") || !rootfs::can_run() {
        return false;
    }
    let missing: Vec<&str> = ["dockerd", "docker"].into_iter().filter(|b| which(b).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("no {} on this host (apt-get install docker.io)", missing.join(", "));
    assert!(!common::in_ci(), "CI=true, so the docker tests may not skip: {why}");
    eprintln!("skipped: {why}");
    false
}

struct Docker {
    child: Option<Child>,
    runtime: String,
    host: String,
    dir: Scratch,
}

impl Docker {
    fn start() -> Docker {
        let dir = Scratch::new("docker");
        for sub in ["data", "exec", "img"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        // docker's default network, on a bridge of ours (not docker0, which a host may
        // have): containers get a veth and an address, and config.json docker's
        // libnetwork prestart hook (`/proc/DOCKERD/exe libnetwork-setkey`).
        let _ = Command::new("ip").args(["link", "del", BRIDGE]).output();
        for args in [
            vec!["link", "add", BRIDGE, "type", "bridge"],
            vec!["addr", "add", &format!("{SUBNET}.1/24"), "dev", BRIDGE],
            vec!["link", "set", BRIDGE, "up"],
        ] {
            let o = Command::new("ip").args(&args).output().expect("ip (iproute2)");
            assert!(o.status.success(), "ip {args:?}: {}", common::stderr(&o));
        }
        let mut d = Docker {
            child: None,
            runtime: runtime(),
            host: format!("unix://{}", dir.join("docker.sock").display()),
            dir,
        };
        let child = Command::new(which("dockerd").unwrap())
            .arg("--data-root")
            .arg(d.dir.join("data"))
            .arg("--exec-root")
            .arg(d.dir.join("exec"))
            .arg("--pidfile")
            .arg(d.dir.join("dockerd.pid"))
            .args(["-H", &d.host, "--bridge", BRIDGE, "--iptables=false", "--ip6tables=false", "--ip-masq=false"])
            .args(["--storage-driver=vfs", "--exec-opt", "native.cgroupdriver=cgroupfs"])
            .args(["--cgroup-parent", CGROUP_PARENT, "--containerd-namespace", "tinyctr-test-docker"])
            .args(["--containerd-plugins-namespace", "tinyctr-test-docker-plugins"])
            .arg("--add-runtime")
            .arg(format!("tinyctr={}", d.runtime))
            .args(["--default-runtime", "tinyctr"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("dockerd");
        d.child = Some(child);
        let up = wait_until(Duration::from_secs(30), || d.docker(&["version"]).status.success());
        assert!(up, "dockerd did not come up:\n{}", d.log_tail());

        let tar = d.dir.join("img/busybox.tar");
        busybox_tar(&tar, |_| {});
        let o = d.docker(&["import", "-c", "ENV PATH=/bin", "-c", "CMD [\"sh\"]", tar.to_str().unwrap(), IMAGE]);
        assert!(o.status.success(), "docker import: {}", common::stderr(&o));
        d
    }

    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(which("docker").unwrap());
        c.args(["-H", &self.host]).args(args).env_remove("DOCKER_HOST").env("DOCKER_CONFIG", self.dir.join("client"));
        c
    }

    /// `docker -H SOCK ARGS`, stdin /dev/null.
    fn docker(&self, args: &[&str]) -> Output {
        captured(self.command(args), LIMIT)
    }

    /// `docker ARGS`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        common::stdout(&succeeded("docker", args, self.docker(args)))
    }

    /// `docker run --rm OPTS IMAGE sh -c PROG`, which must exit with `code`; its stdout.
    fn run_sh(&self, opts: &[&str], prog: &str, code: i32) -> String {
        let mut v = vec!["run", "--rm"];
        v.extend_from_slice(opts);
        v.extend([IMAGE, "sh", "-c", prog]);
        let o = self.docker(&v);
        exited_with(&format!("docker run {opts:?} sh -c {prog:?}"), &o, code)
    }

    /// `docker run -d --name NAME OPTS IMAGE ARGS`.
    fn detached(&self, name: &str, opts: &[&str], args: &[&str]) {
        let mut v = vec!["run", "-d", "--name", name];
        v.extend_from_slice(opts);
        v.push(IMAGE);
        v.extend_from_slice(args);
        self.ok(&v);
    }

    fn remove_all(&self) {
        let ids = self.docker(&["ps", "-aq"]);
        for id in common::stdout(&ids).split_whitespace() {
            let _ = self.docker(&["rm", "-f", id]);
        }
    }

    /// Nothing of any container is left: no container, no cgroup below the parent, no
    /// runtime state directory.
    fn assert_clean(&self) {
        let ps = common::stdout(&self.docker(&["ps", "-aq"]));
        assert!(ps.trim().is_empty(), "containers left: {ps:?}");
        let mut cgs = Vec::new();
        for d in cgroup_dirs(CGROUP_PARENT) {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    cgs.push(e.path());
                }
            }
        }
        assert!(cgs.is_empty(), "cgroups left: {cgs:?}");
        // The shim's --root for the runtime: exec root/runtime-runc/NAMESPACE/ID.
        let states: Vec<PathBuf> = std::fs::read_dir(self.dir.join("exec/runtime-runc"))
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|ns| std::fs::read_dir(ns.path()).into_iter().flatten().flatten().map(|e| e.path()))
            .collect();
        assert!(states.is_empty(), "runtime state left: {states:?}");
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.remove_all();
        }
        if let Some(mut child) = self.child.take() {
            let pid = rustix::process::Pid::from_raw(child.id() as i32);
            // dockerd stops its managed containerd and unmounts its netns files on TERM.
            if let Some(p) = pid {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::TERM);
            }
            let deadline = Instant::now() + Duration::from_secs(15);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if let Some(p) = pid {
                let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
            }
            let _ = child.wait();
        }
        unmount_below(self.dir.path());
        let _ = Command::new("ip").args(["link", "del", BRIDGE]).output();
        for d in cgroup_dirs(CGROUP_PARENT) {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    remove_cgroup(&format!("{CGROUP_PARENT}/{}", e.file_name().to_string_lossy()), None);
                }
            }
        }
        remove_cgroup(CGROUP_PARENT, None);
    }
}

/// The permitted, effective and bounding sets.
const CAPS: &str = "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status";

/// Docker's 14 capabilities as a mask.
const DOCKER_CAPS: &str = "00000000a80425fb";

type Case = fn(&Docker);

/// Output and the exit status pass through; the default container: root, HOME=/root
/// (from the image's passwd: docker leaves HOME to the runtime), docker's capabilities,
/// seccomp filter, masked and read-only paths, a 64 MiB /dev/shm.
fn case_default(d: &Docker) {
    assert_eq!(d.run_sh(&[], "echo hello; exit 3", 3), "hello\n");
    let prog = format!(
        "id; echo HOME=$HOME; {CAPS}; grep Seccomp: /proc/self/status; wc -c < /proc/timer_list; \
         grep ' /proc/sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1; df -k /dev/shm | tail -1 | awk '{{print $2}}'"
    );
    let want = format!(
        "uid=0(root) gid=0(root) groups=0(root)\nHOME=/root\nCapPrm:\t{DOCKER_CAPS}\nCapEff:\t{DOCKER_CAPS}\n\
         CapBnd:\t{DOCKER_CAPS}\nSeccomp:\t2\n0\nro\n65536\n"
    );
    assert_eq!(d.run_sh(&[], &prog, 0), want);
}

/// `-u 1000`: docker writes the bounding set alone; the user has no capabilities, the
/// bounding set is docker's (a setuid or file-capability program may still use it);
/// HOME is the user's from the image's passwd. `-u 4242` (no entry): HOME=/.
fn case_user(d: &Docker) {
    let want =
        format!("1000:1000 HOME=/tmp\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t{DOCKER_CAPS}\n");
    assert_eq!(d.run_sh(&["-u", "1000"], &format!("echo $(id -u):$(id -g) HOME=$HOME; {CAPS}"), 0), want);
    assert_eq!(d.run_sh(&["-u", "4242"], "echo HOME=$HOME", 0), "HOME=/\n");
    assert_eq!(d.run_sh(&["-u", "1000", "-e", "HOME=/x"], "echo HOME=$HOME", 0), "HOME=/x\n");
}

/// `--shm-size`, `--tmpfs` with a size and an owner, `--read-only`, `-v ...:ro`, `-w`, `-e`, `--hostname`.
fn case_mounts_and_options(d: &Docker) {
    let vol = d.dir.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::write(vol.join("f"), "from the host\n").unwrap();
    let v = format!("{}:/vol:ro", vol.display());
    let opts = [
        "--shm-size",
        "8m",
        "--tmpfs",
        "/run:size=1m,uid=1000",
        "--read-only",
        "-v",
        &v,
        "-w",
        "/vol",
        "-e",
        "FOO=bar",
        "--hostname",
        "box",
    ];
    let prog = "df -k /dev/shm /run | tail -2 | awk '{print $2}'; touch /x 2>/dev/null || echo root-ro; \
        cat f; touch f 2>/dev/null || echo vol-ro; touch /run/y && echo run-rw; stat -c %u /run; pwd; echo $FOO; hostname";
    let want = "8192\n1024\nroot-ro\nfrom the host\nvol-ro\nrun-rw\n1000\n/vol\nbar\nbox\n";
    assert_eq!(d.run_sh(&opts, prog, 0), want);
}

/// `--memory`, `--pids-limit`, `--cpus`, `--ulimit`, `--cap-drop`/`--cap-add`,
/// `--security-opt no-new-privileges`, `--oom-score-adj`.
fn case_limits_and_confinement(d: &Docker) {
    let opts = [
        "--memory",
        "32m",
        "--pids-limit",
        "10",
        "--cpus",
        "0.5",
        "--ulimit",
        "nofile=100:200",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "NET_ADMIN",
        "--security-opt",
        "no-new-privileges",
        "--oom-score-adj",
        "500",
    ];
    let prog = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max \
        /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; \
        ulimit -n; ulimit -Hn; grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status; cat /proc/self/oom_score_adj";
    let got = d.run_sh(&opts, prog, 0);
    assert!(got.starts_with("33554432\n10\n"), "{got}");
    assert!(got.ends_with("100\n200\nCapBnd:\t0000000000001000\nNoNewPrivs:\t1\n500\n"), "{got}");
}

/// A long-running container: exec (as root and as a user, HOME), top, pause/unpause,
/// update, stop (SIGTERM reaches the shell's trap, status 3), start again, restart, rm.
fn case_lifecycle(d: &Docker) {
    let prog = "trap 'echo got TERM; exit 3' TERM; while true; do sleep 0.1; done";
    d.detached("t-life", &[], &["sh", "-c", prog]);
    assert_eq!(d.ok(&["exec", "t-life", "sh", "-c", "echo $HOME; id -u"]), "/root\n0\n");
    assert_eq!(d.ok(&["exec", "-u", "1000", "t-life", "sh", "-c", "echo $HOME; id -u"]), "/tmp\n1000\n");
    let top = d.ok(&["top", "t-life"]);
    assert!(top.contains("while true"), "docker top: {top}");
    d.ok(&["pause", "t-life"]);
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.Status}}", "t-life"]), "paused\n");
    d.ok(&["unpause", "t-life"]);
    d.ok(&["update", "--memory", "64m", "--memory-swap", "128m", "t-life"]);
    let mem = d.ok(&[
        "exec",
        "t-life",
        "sh",
        "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ]);
    assert_eq!(mem, "67108864\n");
    d.ok(&["stop", "-t", "5", "t-life"]);
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.ExitCode}}", "t-life"]), "3\n");
    assert!(d.ok(&["logs", "t-life"]).contains("got TERM"));
    d.ok(&["start", "t-life"]);
    d.ok(&["restart", "-t", "1", "t-life"]);
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.Running}}", "t-life"]), "true\n");
    d.ok(&["rm", "-f", "t-life"]);
}

/// `-it` under a pty (`script`), `--init` (docker-init as PID 1), stdin with `-i`.
fn case_tty_init_stdin(d: &Docker) {
    let line =
        format!("'{}' -H '{}' run --rm -it {IMAGE} sh -c 'tty; exit 4'", which("docker").unwrap().display(), d.host);
    let child = Command::new(which("script").expect("script (util-linux)"))
        .args(["-qec", &line, "/dev/null"])
        .env("DOCKER_CONFIG", d.dir.join("client"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = common::wait_output(child, LIMIT);
    assert_eq!(o.status.code(), Some(4), "docker run -it: {:?} {:?}", common::stdout(&o), common::stderr(&o));
    assert!(common::stdout(&o).contains("/dev/pts/0"), "{:?}", common::stdout(&o));
    let ps = d.run_sh(&["--init"], "ps -o pid,args | sed -n 2p", 0);
    assert!(ps.contains("1 /sbin/docker-init"), "{ps}");
    let mut c = d.command(&["run", "--rm", "-i", IMAGE, "tr", "a-z", "A-Z"]);
    let mut child = c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"through stdin\n").unwrap();
    let o = common::wait_output(child, LIMIT);
    assert_eq!(common::stdout(&o), "THROUGH STDIN\n", "{}", common::stderr(&o));
}

/// `--privileged`: every capability the runtime holds, no seccomp filter, no masks,
/// sysfs read-write. (runc 1.1 fails here: it asks for capabilities this host's
/// bounding set lacks.)
fn case_privileged(d: &Docker) {
    if d.runtime.ends_with("/runc") {
        return;
    }
    let prog = "grep Seccomp: /proc/self/status; wc -c < /proc/timer_list | grep -qv '^0$' && echo timer_list; \
        grep ' /sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1";
    assert_eq!(d.run_sh(&["--privileged"], prog, 0), "Seccomp:\t0\ntimer_list\nrw\n");
}

/// `--ipc shareable` then `--ipc container:`, `--pid container:`, `--network container:`:
/// the second container is in the first's namespaces (the PID one joined by path), and
/// sees its processes and its /dev/shm: the bind docker puts there, with no tmpfs of the
/// runtime's below it.
fn case_shared_namespaces(d: &Docker) {
    d.detached("t-share", &["--ipc", "shareable"], &["sh", "-c", "echo x > /dev/shm/mark; exec sleep 60"]);
    let mut pid = String::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            pid = d.ok(&["inspect", "-f", "{{.State.Pid}}", "t-share"]).trim().to_owned();
            pid != "0"
        }),
        "no pid for t-share"
    );
    let opts = ["--ipc", "container:t-share", "--pid", "container:t-share", "--network", "container:t-share"];
    let prog = "cat /dev/shm/mark; grep -c ' /dev/shm ' /proc/self/mountinfo; ps -o args | grep -c '^sleep 60'; \
        for n in ipc pid net; do readlink /proc/self/ns/$n; done";
    let want: String = ["ipc", "pid", "net"].iter().map(|n| ns(&pid, n) + "\n").collect();
    assert_eq!(d.run_sh(&opts, prog, 0), format!("x\n1\n1\n{want}"));
    d.ok(&["rm", "-f", "t-share"]);
}

/// docker's default network on the test's bridge: the container has an address of the
/// subnet (set up by docker's libnetwork prestart hook, which the runtime runs) and
/// reaches the gateway; /etc/hosts names it.
fn case_bridge_network(d: &Docker) {
    let prog = format!("ip -o -4 addr show eth0 | grep -o '{SUBNET}\\.[0-9]*/24'; ping -c1 -W2 {SUBNET}.1 >/dev/null && echo reached; \
        grep -c \"^{SUBNET}\\.\" /etc/hosts");
    let out = d.run_sh(&[], &prog, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() == 3 && lines[0].starts_with(SUBNET) && lines[1] == "reached" && lines[2] == "1", "{out:?}");
}

/// `--device-read-bps` (a disk of the host's): the throttle is in the container's blkio
/// cgroup, as it reads it. On a host without a v1 blkio hierarchy or a disk: nothing to
/// check here (the VM guests check v2's io.max).
fn case_block_io_throttle(d: &Docker) {
    let disk = std::fs::read_dir("/sys/block").into_iter().flatten().flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let dev = std::fs::read_to_string(e.path().join("dev")).ok()?;
        (!name.starts_with("loop") && Path::new("/dev").join(&name).exists()).then(|| (name, dev.trim().to_owned()))
    });
    let Some((name, mm)) = disk.filter(|_| Path::new("/sys/fs/cgroup/blkio").is_dir()) else {
        return eprintln!("    no disk or no v1 blkio hierarchy here: the throttle is not checked");
    };
    let opt = format!("/dev/{name}:1mb");
    let got = d.run_sh(&["--device-read-bps", &opt], "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device", 0);
    assert_eq!(got, format!("{mm} 1048576\n"));
}

const CASES: &[(&str, Case)] = &[
    ("default", case_default),
    ("user", case_user),
    ("mounts_and_options", case_mounts_and_options),
    ("limits_and_confinement", case_limits_and_confinement),
    ("lifecycle", case_lifecycle),
    ("tty_init_stdin", case_tty_init_stdin),
    ("privileged", case_privileged),
    ("shared_namespaces", case_shared_namespaces),
    ("bridge_network", case_bridge_network),
    ("block_io_throttle", case_block_io_throttle),
];

#[test]
fn docker_runs_containers_through_the_runtime() {
    if !can_run() {
        return;
    }
    let t0 = Instant::now();
    let d = Docker::start();
    eprintln!("dockerd up, image imported: {:?}; runtime {}", t0.elapsed(), d.runtime);
    run_cases(&d, "TINYCTR_DOCKER_CASES", CASES, Docker::remove_all, Docker::assert_clean);
}
