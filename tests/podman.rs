//! The OCI runtime under podman 4.3 (Debian's, with conmon 2.1): rootful podman with every
//! path of its own under a scratch directory (storage root on the vfs driver, run root,
//! tmpdir, events file, containers.conf), `--runtime` the runtime under test with its
//! default state root (podman 4.3 passes `--runtime-flag root=` to create and start, not
//! to delete: runc and tinyctr alike then leave the container's cgroups and state), cgroupfs cgroups below /tinyctr-test-podman, no network
//! (`--network none`: no CNI or netavark needed), and a busybox image imported from a
//! tarball (no registry).
//!
//! podman drives the runtime through conmon, which differs from containerd's shim: it
//! passes no `--log` (errors are read from the runtime's stderr), `exec` gets `--tty`
//! along with a terminal process, `--read-only` puts tmpfs mounts with runc's
//! `tmpcopyup` on /run, /tmp and /var/tmp, every `--tmpfs` gets `tmpcopyup` too, and
//! `--preserve-fds` (socket activation) passes descriptors on. All three failed under
//! tinyctr before these cases existed. Each case checks what a podman
//! user sees; the same cases pass against runc (`TINYCTR_OCI_RUNTIME=$(which runc)`).
//!
//! One #[test] runs the cases one after another; after each, no container, no cgroup of
//! a container below /tinyctr-test-podman and no runtime state may be left. A guard
//! removes every container, unmounts what podman left under the scratch directory
//! (its shm mounts) and removes the cgroups, also when the test fails.
//! `TINYCTR_PODMAN_CASES=a,b` runs only the cases whose names contain one of those words.
//!
//! Without root, busybox-static or podman the test skips and says why; under CI=true it
//! fails instead. Built only with the `oci` feature.
#![cfg(feature = "oci")]

mod common;
#[path = "common/oci.rs"]
mod oci;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::rootfs;
use oci::*;

const IMAGE: &str = "localhost/tinyctr-test-busybox";
const CGROUP_PARENT: &str = "/tinyctr-test-podman";
const LIMIT: Duration = Duration::from_secs(60);

fn can_run() -> bool {
    if !common::require_root("the podman tests") || !rootfs::can_run() {
        return false;
    }
    if ["podman", "conmon", "buildah"].iter().all(|b| which(b).is_some()) {
        return true;
    }
    let why = "no podman, conmon or buildah on this host (apt-get install podman conmon buildah)";
    assert!(!common::in_ci(), "CI=true, so the podman tests may not skip: {why}");
    eprintln!("skipped: {why}");
    false
}

struct Podman {
    runtime: String,
    dir: Scratch,
    /// The runtime's default state root, and what it held before the test.
    state: PathBuf,
    before: Vec<OsString>,
}

impl Podman {
    fn start() -> Podman {
        let runtime = runtime();
        let state = PathBuf::from(if runtime.ends_with("/runc") { "/run/runc" } else { "/run/tinyctr" });
        let before = entries(&state);
        let p = Podman { runtime, dir: Scratch::new("podman"), state, before };
        // Neither the host's containers.conf nor its registries apply.
        // (Four capabilities by default, so that what is checked is not podman's build's.)
        let conf = "[containers]\ndefault_capabilities = [\"CHOWN\", \"KILL\", \"SETGID\", \"SETUID\"]\n";
        std::fs::write(p.dir.join("containers.conf"), conf).unwrap();
        std::fs::write(p.dir.join("registries.conf"), "unqualified-search-registries = []\n").unwrap();
        let tar = p.dir.join("busybox.tar");
        busybox_tar(&tar, |root| {
            // What a read-only container's copied-up /run and a --tmpfs's /srv start with.
            std::fs::create_dir_all(root.join("run/lock")).unwrap();
            std::fs::write(root.join("run/lock/kept"), "run\n").unwrap();
            std::fs::create_dir_all(root.join("srv/sub")).unwrap();
            std::fs::write(root.join("srv/sub/file"), "srv\n").unwrap();
        });
        let o = p.podman(&["import", "--change", "CMD=sh", tar.to_str().unwrap(), IMAGE]);
        assert!(o.status.success(), "podman import: {}", common::stderr(&o));
        p
    }

    /// `podman` with the scratch directory's paths and the runtime under test.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(which("podman").unwrap());
        let at = |sub: &str| self.dir.join(sub).to_str().unwrap().to_owned();
        c.args(["--root", &at("storage"), "--runroot", &at("run"), "--tmpdir", &at("tmp")])
            .args(["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"])
            .args(["--runtime", &self.runtime])
            .args(args)
            // conmon writes files (an `oom` marker) into the directory it starts in.
            .current_dir(self.dir.path())
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .env("CONTAINERS_REGISTRIES_CONF", self.dir.join("registries.conf"));
        c
    }

    fn podman(&self, args: &[&str]) -> Output {
        captured(self.command(args), LIMIT)
    }

    /// `podman ARGS`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        common::stdout(&succeeded("podman", args, self.podman(args)))
    }

    /// The options every container gets: no network, our cgroup parent, limits the
    /// runtime can set.
    fn with_defaults<'a>(&'a self, mut v: Vec<&'a str>, opts: &[&'a str]) -> Vec<&'a str> {
        v.extend(["--network", "none", "--cgroup-parent", CGROUP_PARENT]);
        // podman asks for nofile and nproc limits of 1048576 by default, above the hard
        // limits conmon passes on: raising one takes CAP_SYS_RESOURCE, which this host's
        // bounding set lacks (runc fails the same).
        v.extend(["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]);
        v.extend_from_slice(opts);
        v
    }

    /// `podman run --rm OPTS IMAGE sh -c PROG`, which must exit with `code`; its stdout.
    fn run_sh(&self, opts: &[&str], prog: &str, code: i32) -> String {
        let mut v = self.with_defaults(vec!["run", "--rm"], opts);
        v.extend([IMAGE, "sh", "-c", prog]);
        let o = self.podman(&v);
        exited_with(&format!("podman run {opts:?} sh -c {prog:?}"), &o, code)
    }

    /// `podman run -d --name NAME IMAGE sh -c PROG`.
    fn detached(&self, name: &str, prog: &str) {
        let mut v = self.with_defaults(vec!["run", "-d", "--name", name], &[]);
        v.extend([IMAGE, "sh", "-c", prog]);
        self.ok(&v);
    }

    fn remove_all(&self) {
        let _ = self.podman(&["rm", "-af", "-t", "0"]);
    }

    /// No container, no container's cgroup below the parent (conmon's own, `conmon`,
    /// is podman's), no runtime state.
    fn assert_clean(&self) {
        let ps = self.ok(&["ps", "-aq"]);
        assert!(ps.trim().is_empty(), "containers left: {ps:?}");
        let cgs: Vec<_> = cgroup_dirs(CGROUP_PARENT)
            .iter()
            .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "conmon")
            .map(|e| e.path())
            .collect();
        assert!(cgs.is_empty(), "cgroups left: {cgs:?}");
        let states: Vec<_> = entries(&self.state).into_iter().filter(|e| !self.before.contains(e)).collect();
        assert!(states.is_empty(), "runtime state left in {}: {states:?}", self.state.display());
    }
}

fn entries(dir: &Path) -> Vec<OsString> {
    std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name()).collect()
}

impl Drop for Podman {
    fn drop(&mut self) {
        self.remove_all();
        unmount_below(self.dir.path());
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

/// Output and the exit status pass through; podman's default container: root, the
/// capabilities containers.conf gives (CHOWN, KILL, SETGID, SETUID), seccomp, the container in the host's cgroup namespace (podman on a v1
/// host lists none) with /proc/self/cgroup naming its host path.
fn case_default(p: &Podman) {
    assert_eq!(p.run_sh(&[], "echo hello; exit 3", 3), "hello\n");
    let prog = "id -u; grep -E '^Cap(Eff|Bnd)|^Seccomp:' /proc/self/status; \
        grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3 | sed 's/libpod-.*/libpod/'";
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory").is_dir();
    let cg = if v1 { format!("{CGROUP_PARENT}/libpod\n") } else { String::new() };
    let want = format!("0\nCapEff:\t00000000000000e1\nCapBnd:\t00000000000000e1\nSeccomp:\t2\n{cg}");
    assert_eq!(p.run_sh(&[], prog, 0), want);
}

/// `--read-only`: the root is read-only; /run, /tmp and /var/tmp are tmpfs mounts podman
/// marks `tmpcopyup`, so /run still holds what the image has there, writable.
fn case_read_only(p: &Podman) {
    let prog =
        "touch /x 2>/dev/null || echo root-ro; cat /run/lock/kept; echo w > /run/lock/new && cat /run/lock/new; \
        grep -cE ' /(run|tmp|var/tmp) [^-]* - tmpfs ' /proc/self/mountinfo";
    assert_eq!(p.run_sh(&["--read-only"], prog, 0), "root-ro\nrun\nw\n3\n");
}

/// `--tmpfs /srv:size=1m`: a tmpfs of that size, starting with the image's /srv.
fn case_tmpfs(p: &Podman) {
    let prog = "cat /srv/sub/file; df -k /srv | tail -1 | awk '{print $2}'";
    assert_eq!(p.run_sh(&["--tmpfs", "/srv:size=1m"], prog, 0), "srv\n1024\n");
}

/// `exec`, with -u, -w and -e, its status; `exec -t` (conmon passes `--tty`): a terminal.
fn case_exec(p: &Podman) {
    p.detached("t-exec", "exec sleep 60");
    let o = p.podman(&[
        "exec",
        "-u",
        "1000",
        "-w",
        "/tmp",
        "-e",
        "X=1",
        "t-exec",
        "sh",
        "-c",
        "echo $(id -u) $PWD $X; exit 4",
    ]);
    assert_eq!((o.status.code(), common::stdout(&o)), (Some(4), "1000 /tmp 1\n".to_owned()), "{}", common::stderr(&o));
    assert_eq!(p.ok(&["exec", "-t", "t-exec", "sh", "-c", "tty"]).trim(), "/dev/pts/0");
}

/// A detached container: `top`, `pause` and `unpause`, `kill -s` (to PID 1, which has a
/// handler), `stop` with its grace period (the program's TERM trap runs), `logs`, `restart`.
fn case_lifecycle(p: &Podman) {
    let prog =
        "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 7' TERM; echo started; while :; do sleep 0.1; done";
    p.detached("t-life", prog);
    assert!(wait_until(LIMIT, || p.ok(&["logs", "t-life"]) == "started\n"), "no output: {}", p.ok(&["logs", "t-life"]));
    let top = p.ok(&["top", "t-life", "pid", "args"]);
    assert!(top.lines().any(|l| l.trim_start().starts_with("1 ") && l.contains("trap")), "{top}");
    let status = || p.ok(&["inspect", "-f", "{{.State.Status}}", "t-life"]).trim().to_owned();
    p.ok(&["pause", "t-life"]);
    assert_eq!(status(), "paused");
    p.ok(&["unpause", "t-life"]);
    assert_eq!(status(), "running");
    p.ok(&["kill", "-s", "USR1", "t-life"]);
    assert!(wait_until(LIMIT, || p.ok(&["logs", "t-life"]).contains("got-usr1")), "{}", p.ok(&["logs", "t-life"]));
    p.ok(&["stop", "-t", "5", "t-life"]);
    assert_eq!(p.ok(&["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "t-life"]).trim(), "exited 7");
    assert!(p.ok(&["logs", "t-life"]).ends_with("got-term\n"), "{}", p.ok(&["logs", "t-life"]));
    p.ok(&["restart", "-t", "1", "t-life"]);
    assert_eq!(status(), "running");
    p.ok(&["rm", "-f", "-t", "0", "t-life"]);
}

/// `--memory` (an OOM kill is 137), `--pids-limit` and `--cpus` read back inside; `-u`;
/// `--uidmap`/`--gidmap` (a user namespace).
fn case_limits_and_users(p: &Podman) {
    p.run_sh(&["--memory", "20m"], "x=a; while :; do x=$x$x; done", 137);
    let prog = "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; \
        cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max";
    assert_eq!(p.run_sh(&["--pids-limit", "33", "--cpus", "0.5"], prog, 0), "33\n50000\n");
    assert_eq!(p.run_sh(&["-u", "1000"], "id -u; echo $HOME", 0), "1000\n/tmp\n");
    let maps = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"];
    assert_eq!(p.run_sh(&maps, "id -u; cat /proc/self/uid_map | tr -s ' '", 0), "0\n 0 100000 65536\n");
}

/// `--preserve-fds 1` (what podman does with a systemd socket activation's LISTEN_FDS):
/// podman's descriptor 3 is the program's, and nothing more is.
fn case_preserve_fds(p: &Podman) {
    std::fs::write(p.dir.join("fd3"), "passed\n").unwrap();
    let mut v = p.with_defaults(vec!["run", "--rm", "--preserve-fds", "1"], &[]);
    let prog = "cat <&3; for f in 4 5 6 7 8 9; do [ -e /proc/$$/fd/$f ] && echo leaked $f; done; true";
    v.extend([IMAGE, "sh", "-c", prog]);
    // (podman runs in the scratch directory, which holds fd3.)
    let o = captured(exec_with(&p.command(&v), "3<fd3"), LIMIT);
    assert_eq!((o.status.code(), common::stdout(&o)), (Some(0), "passed\n".to_owned()), "{}", common::stderr(&o));
}

/// `buildah bud` on podman's storage: each RUN step of a Containerfile runs through the
/// runtime (create, start, state, delete: buildah drives it without conmon), WORKDIR
/// included; the image it tags runs under podman.
fn case_buildah(p: &Podman) {
    let ctx = p.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    let file = format!("FROM {IMAGE}\nRUN echo built > /built && id -u >> /built\nWORKDIR /srv\nRUN pwd >> /built\n");
    std::fs::write(ctx.join("Containerfile"), file).unwrap();
    let at = |sub: &str| p.dir.join(sub).to_str().unwrap().to_owned();
    let o = Command::new(which("buildah").unwrap())
        .args(["--root", &at("storage"), "--runroot", &at("run"), "--storage-driver", "vfs"])
        .args(["bud", "--runtime", &p.runtime, "--network", "none", "--cgroupns", "host", "--isolation", "oci"])
        .args(["-t", "localhost/tinyctr-test-built", ctx.to_str().unwrap()])
        .current_dir(p.dir.path())
        .env("CONTAINERS_CONF", p.dir.join("containers.conf"))
        .env("CONTAINERS_REGISTRIES_CONF", p.dir.join("registries.conf"))
        .output()
        .unwrap();
    assert!(o.status.success(), "buildah bud: {}\n{}", common::stdout(&o), common::stderr(&o));
    let mut v = p.with_defaults(vec!["run", "--rm"], &[]);
    v.extend(["localhost/tinyctr-test-built", "cat", "/built"]);
    assert_eq!(p.ok(&v), "built\n0\n/srv\n");
    p.ok(&["rmi", "localhost/tinyctr-test-built"]);
}

const CASES: &[Case<Podman>] = &[
    ("default", case_default),
    ("read_only", case_read_only),
    ("tmpfs", case_tmpfs),
    ("exec", case_exec),
    ("lifecycle", case_lifecycle),
    ("limits_and_users", case_limits_and_users),
    ("preserve_fds", case_preserve_fds),
    ("buildah", case_buildah),
];

#[test]
fn podman_runs_containers_through_the_runtime() {
    if !can_run() {
        return;
    }
    let t0 = Instant::now();
    let p = Podman::start();
    eprintln!("image imported: {:?}; runtime {}", t0.elapsed(), p.runtime);
    run_cases(&p, "TINYCTR_PODMAN_CASES", CASES, Podman::remove_all, Podman::assert_clean);
}
