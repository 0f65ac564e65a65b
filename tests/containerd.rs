//! The OCI runtime under containerd 1.6's runc-v2 shim, driven by `ctr`: a private
//! containerd (config from tests/containerd/config.toml, every path under a scratch
//! directory, CRI disabled; /work/shared/OCI.md §2.1), a busybox image built by
//! tests/containerd/build-image.sh and imported, and `ctr -n tinyctr-test run
//! --runc-binary RUNTIME --runc-root SCRATCH/runc-root --fifo-dir SCRATCH/fifo`.
//!
//! The runtime under test is `TINYCTR_OCI_RUNTIME` when set (`$(which runc)` for the
//! reference), else the tinyctr cargo built; always an absolute path, since the shim runs
//! it with containerd's PATH and the bundle as cwd.
//!
//! One containerd serves every case, run one after another in a single #[test] (two
//! cores; containers are heavy): each case is caught on its own, cleaned up on its own,
//! and followed by a check that nothing of the runtime is left — the namespace's state
//! directory under --runc-root is empty, no cgroup below /tinyctr-test in any hierarchy,
//! no mount under the scratch directory, no process in such a cgroup, no live shim of the
//! case. The test fails at the end naming every failed case. `TINYCTR_CTRD_CASES=a,b`
//! runs only the cases whose names contain one of those words. A guard stops containerd
//! (its process group, then any shim of its address), unmounts, removes the test's
//! cgroups and the scratch directory, also when the test fails.
//!
//! Without root, busybox-static or containerd the test skips and says why; under CI=true
//! it fails instead.
//!
//! Built only with the `oci` feature (`cargo test --features oci`, as README's test
//! command runs): without it the binary has no OCI commands.
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

const NS: &str = "tinyctr-test";
const IMAGE: &str = "docker.io/local/busybox:latest";
const CONFIG: &str = include_str!("containerd/config.toml");
const BUILD_IMAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/containerd/build-image.sh");
const LIMIT: Duration = Duration::from_secs(60);

/// False (after saying why) when this host cannot run the test; under CI=true a missing
/// piece is a failure.
fn can_run() -> bool {
    if !common::require_root("the containerd tests") || !rootfs::can_run() {
        return false;
    }
    let missing: Vec<&str> =
        ["containerd", "ctr", "containerd-shim-runc-v2"].into_iter().filter(|b| which(b).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("no {} on this host (apt-get install containerd)", missing.join(", "));
    assert!(!common::in_ci(), "CI=true, so the containerd tests may not skip: {why}");
    eprintln!("skipped: {why}");
    false
}

/// The private containerd, and everything the test made; dropping it removes it all.
struct Containerd {
    child: Option<Child>,
    runtime: String,
    address: String,
    runc_root: PathBuf,
    fifo: PathBuf,
    dir: Scratch,
}

impl Containerd {
    fn start() -> Containerd {
        let dir = Scratch::new("ctrd");
        let d = dir.path().to_str().unwrap().to_owned();
        for sub in ["logs", "opt", "runc-root", "fifo", "img"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("config.toml"), CONFIG.replace("@DIR@", &d)).unwrap();
        let log = std::fs::File::create(dir.join("logs/containerd.log")).unwrap();
        let mut c = Containerd {
            child: None,
            runtime: runtime(),
            address: format!("{d}/containerd.sock"),
            runc_root: dir.join("runc-root"),
            fifo: dir.join("fifo"),
            dir,
        };
        let child = Command::new(which("containerd").unwrap())
            .arg("--config")
            .arg(c.dir.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("containerd");
        c.child = Some(child);
        let up = wait_until(Duration::from_secs(20), || {
            Path::new(&c.address).exists() && c.ctr(&["version"]).status.success()
        });
        assert!(up, "containerd did not come up:\n{}", c.containerd_log_tail());

        let o = Command::new("bash").arg(BUILD_IMAGE).arg(c.dir.join("img")).output().unwrap();
        assert!(o.status.success(), "build-image.sh: {}", common::stderr(&o));
        let tar = c.dir.join("img/busybox-oci.tar");
        let o = c.ctr(&["images", "import", tar.to_str().unwrap()]);
        assert!(o.status.success(), "ctr images import: {}{}", common::stdout(&o), common::stderr(&o));
        c
    }

    fn containerd_log_tail(&self) -> String {
        let s = std::fs::read_to_string(self.dir.join("logs/containerd.log")).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn ctr_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(which("ctr").unwrap());
        c.args(["--address", &self.address, "-n", NS]).args(args);
        c
    }

    /// `ctr --address A -n tinyctr-test ARGS`, stdin /dev/null.
    fn ctr(&self, args: &[&str]) -> Output {
        captured(self.ctr_command(args), LIMIT)
    }

    /// The runtime options of `ctr run`.
    fn runtime_args(&self) -> Vec<String> {
        vec![
            "--runc-binary".into(),
            self.runtime.clone(),
            "--runc-root".into(),
            self.runc_root.to_str().unwrap().into(),
            "--fifo-dir".into(),
            self.fifo.to_str().unwrap().into(),
        ]
    }

    /// `ctr run [--rm|-d] RUNTIME-OPTIONS OPTS IMAGE ID ARGS`.
    fn run(&self, mode: &str, opts: &[&str], id: &str, args: &[&str]) -> Output {
        let ra = self.runtime_args();
        let mut v: Vec<&str> = vec!["run", mode];
        v.extend(ra.iter().map(String::as_str));
        v.extend_from_slice(opts);
        v.push(IMAGE);
        v.push(id);
        v.extend_from_slice(args);
        self.ctr(&v)
    }

    /// `ctr run --rm`, which must succeed with status `code`; its stdout.
    fn run_rm(&self, opts: &[&str], id: &str, args: &[&str], code: i32) -> String {
        let o = self.run("--rm", opts, id, args);
        exited_with(&format!("ctr run --rm {id}"), &o, code)
    }

    /// `ctr run -d ... ID ARGS`; the task's host pid.
    fn detached(&self, opts: &[&str], id: &str, args: &[&str]) -> i32 {
        let o = self.run("-d", opts, id, args);
        assert!(o.status.success(), "ctr run -d {id}: {}; {}", o.status, common::stderr(&o));
        let (pid, status) = self.task(id).unwrap_or_else(|| panic!("no task {id} after run -d"));
        assert_eq!(status, "RUNNING", "task {id} after run -d");
        pid
    }

    /// PID and STATUS of `ctr task ls` for `id`.
    fn task(&self, id: &str) -> Option<(i32, String)> {
        let o = self.ctr(&["task", "ls"]);
        common::stdout(&o).lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&id)).then(|| (f[1].parse().unwrap_or(0), f.get(2).unwrap_or(&"").to_string()))
        })
    }

    fn wait_task(&self, id: &str, want: &str) {
        let mut last = None;
        let ok = wait_until(Duration::from_secs(10), || {
            last = self.task(id);
            last.as_ref().is_some_and(|(_, s)| s == want)
        });
        assert!(ok, "task {id} did not become {want} (last {last:?})");
    }

    fn ok(&self, args: &[&str]) -> Output {
        succeeded("ctr", args, self.ctr(args))
    }

    /// A shell command line for `script -qec`: ctr with its address and namespace, then
    /// `args`, each single-quoted.
    fn ctr_line(&self, args: &[&str]) -> String {
        let ctr = which("ctr").unwrap();
        let mut v = vec![ctr.to_str().unwrap(), "--address", &self.address, "-n", NS];
        v.extend_from_slice(args);
        v.iter().map(|a| format!("'{}'", a.replace('\'', "'\\''"))).collect::<Vec<_>>().join(" ")
    }

    /// Runs ctr under `script -qec` (a pseudo-terminal, as `-t` needs); status and output.
    fn under_pty(&self, args: &[&str]) -> (Option<i32>, String) {
        let child = Command::new(which("script").expect("script (util-linux)"))
            .args(["-qec", &self.ctr_line(args), "/dev/null"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let o = common::wait_output(child, LIMIT);
        (o.status.code(), format!("{}{}", common::stdout(&o), common::stderr(&o)))
    }

    /// Best-effort removal of container `id` however far it got: SIGKILL to all, task
    /// delete, container rm; then the runtime's own `delete --force`, and the cgroup.
    fn remove(&self, id: &str) {
        if self.task(id).is_some() {
            let _ = self.ctr(&["task", "resume", id]);
            let _ = self.ctr(&["task", "kill", "-a", "-s", "SIGKILL", id]);
            wait_until(Duration::from_secs(5), || self.task(id).is_none_or(|(_, s)| s == "STOPPED"));
            let _ = self.ctr(&["task", "delete", "--force", id]);
        }
        let _ = self.ctr(&["container", "rm", id]);
        let ns_root = self.runc_root.join(NS);
        if ns_root.join(id).exists() {
            let _ = Command::new(&self.runtime)
                .arg("--root")
                .arg(&ns_root)
                .args(["delete", "--force", id])
                .stdin(Stdio::null())
                .output();
        }
        remove_cgroup(&format!("/{NS}/{id}"), None);
    }

    /// Live (non-zombie) shims of this containerd, with the id each serves.
    fn shims(&self) -> Vec<(i32, String)> {
        procs_where(|_, argv| {
            argv.first().is_some_and(|a| a.contains("containerd-shim")) && argv.iter().any(|a| a == &self.address)
        })
        .into_iter()
        .map(|(pid, argv)| {
            let id = argv.iter().position(|a| a == "-id").and_then(|i| argv.get(i + 1)).cloned().unwrap_or_default();
            (pid, id)
        })
        .collect()
    }

    /// Nothing of any container is left: checked after every case.
    fn assert_clean(&self) {
        let ns_root = self.runc_root.join(NS);
        let states: Vec<String> = std::fs::read_dir(&ns_root)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        assert!(states.is_empty(), "the runtime's state directory {} still holds {states:?}", ns_root.display());
        let mut cgs = Vec::new();
        for d in cgroup_dirs(&format!("/{NS}")) {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    cgs.push(e.path());
                }
            }
        }
        assert!(cgs.is_empty(), "cgroups left: {cgs:?}");
        let m = mounts_below(self.dir.path());
        assert!(m.is_empty(), "mounts left: {m:?}");
        let ps = procs_where(|pid, _| {
            std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|c| c.contains(&format!(":/{NS}/")))
        });
        assert!(ps.is_empty(), "processes left in /{NS} cgroups: {ps:?}");
        let rt = procs_where(|_, argv| argv.iter().any(|a| a.contains(self.runc_root.to_str().unwrap())));
        assert!(rt.is_empty(), "runtime processes left: {rt:?}");
        let mut shims = self.shims();
        if !shims.is_empty() {
            // A shim exits shortly after its task is deleted.
            wait_until(Duration::from_secs(5), || {
                shims = self.shims();
                shims.is_empty()
            });
        }
        assert!(shims.is_empty(), "shims left running: {shims:?}");
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        if self.child.is_some() {
            let o = self.ctr(&["container", "ls", "-q"]);
            for id in common::stdout(&o).lines().map(str::trim).filter(|l| !l.is_empty()) {
                self.remove(id);
            }
        }
        for (pid, _) in self.shims() {
            kill9(pid);
        }
        if let Some(mut child) = self.child.take() {
            if let Some(p) = rustix::process::Pid::from_raw(child.id() as i32) {
                let _ = rustix::process::kill_process_group(p, rustix::process::Signal::TERM);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if let Some(p) = rustix::process::Pid::from_raw(child.id() as i32) {
                let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
            }
            let _ = child.wait();
        }
        unmount_below(self.dir.path());
        for d in cgroup_dirs(&format!("/{NS}")) {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    remove_cgroup(&format!("/{NS}/{}", e.file_name().to_string_lossy()), None);
                }
            }
        }
        remove_cgroup(&format!("/{NS}"), None);
    }
}

/// Live processes (pid, argv) for which `f` holds.
fn procs_where(f: impl Fn(i32, &[String]) -> bool) -> Vec<(i32, Vec<String>)> {
    let me = std::process::id() as i32;
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if pid == me || !alive(pid) {
            continue;
        }
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let argv: Vec<String> =
            raw.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        if f(pid, &argv) {
            v.push((pid, argv));
        }
    }
    v
}

/// The cgroup file of container `id` in whichever hierarchy has it.
fn cg(id: &str, file: &str) -> Option<String> {
    cgroup_file(&format!("/{NS}/{id}"), file).map(|s| s.trim().to_owned())
}

type Case = fn(&Containerd, &str);

/// Output and exit status pass through: `sh -c 'echo hello; exit 3'` prints hello and
/// ctr exits 3; a plain `true` exits 0.
fn case_output_and_exit_code(c: &Containerd, id: &str) {
    let out = c.run_rm(&[], id, &["sh", "-c", "echo hello; echo to-stderr >&2; exit 3"], 3);
    assert_eq!(out, "hello\n");
    let t = Instant::now();
    assert_eq!(c.run_rm(&[], id, &["true"], 0), "");
    eprintln!("    ctr run --rm true: {:?}", t.elapsed());
}

/// `--env` adds to the image's environment (PATH from the image config).
fn case_env(c: &Containerd, id: &str) {
    let out =
        c.run_rm(&["--env", "FOO=bar", "--env", "SPACED=a b c"], id, &["sh", "-c", "echo \"$FOO|$SPACED|$PATH\""], 0);
    assert_eq!(out, "bar|a b c|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
}

/// `--cwd` sets process.cwd.
fn case_cwd(c: &Containerd, id: &str) {
    assert_eq!(c.run_rm(&["--cwd", "/tmp"], id, &["pwd"], 0), "/tmp\n");
}

/// `--user 1000:1000`: ctr 1.6's `run` has no --user (OCI.md notes it), so the user is
/// set where ctr has the flag, `task exec --user` (the exec process JSON's user), and the
/// init runs as root.
fn case_user(c: &Containerd, id: &str) {
    c.detached(&[], id, &["sleep", "1000"]);
    let o = c.ok(&["task", "exec", "--exec-id", "u1", "--user", "1000:1000", id, "sh", "-c", "id -u; id -g; id -G"]);
    assert_eq!(common::stdout(&o), "1000\n1000\n1000\n", "exec --user 1000:1000");
    let o = c.ok(&["task", "exec", "--exec-id", "u2", id, "id", "-u"]);
    assert_eq!(common::stdout(&o), "0\n");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);
}

/// `--memory-limit 67108864 --cpus 0.5` reach the container's cgroup (memory limit,
/// CFS quota/period), and a program that needs more memory is OOM-killed: exit 137.
fn case_limits_and_oom(c: &Containerd, id: &str) {
    let pid = c.detached(&["--memory-limit", "67108864", "--cpus", "0.5"], id, &["sleep", "1000"]);
    let mem = cg(id, "memory.limit_in_bytes").or_else(|| cg(id, "memory.max"));
    assert_eq!(mem.as_deref(), Some("67108864"), "memory limit of /{NS}/{id}");
    match (cg(id, "cpu.cfs_quota_us"), cg(id, "cpu.cfs_period_us"), cg(id, "cpu.max")) {
        (Some(q), Some(p), _) => assert_eq!((q.as_str(), p.as_str()), ("50000", "100000"), "cfs quota, period"),
        (_, _, Some(m)) => assert_eq!(m, "50000 100000", "cpu.max"),
        other => panic!("no CFS quota file for /{NS}/{id}: {other:?}"),
    }
    let incg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(incg.lines().any(|l| l.ends_with(&format!(":/{NS}/{id}"))), "init not in /{NS}/{id}:\n{incg}");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);

    let o = c.run(
        "--rm",
        &["--memory-limit", "67108864"],
        id,
        &["dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"],
    );
    assert_eq!(o.status.code(), Some(137), "dd bs=100M under a 64 MiB limit: {}; {}", o.status, common::stderr(&o));
}

/// `-t` (under `script`, a pty): the process's stdin is a terminal, `tty` names
/// /dev/pts/N (the runtime passed the pty master through --console-socket), and the
/// exit status still comes back.
fn case_tty(c: &Containerd, id: &str) {
    let ra = c.runtime_args();
    let mut args: Vec<&str> = vec!["run", "--rm", "-t"];
    args.extend(ra.iter().map(String::as_str));
    args.extend([IMAGE, id, "sh", "-c", "tty; [ -t 0 ] && echo stdin-is-a-tty; exit 5"]);
    let (code, out) = c.under_pty(&args);
    assert_eq!(code, Some(5), "ctr run -t: {out:?}");
    assert!(out.contains("/dev/pts/"), "tty inside `ctr run -t` printed {out:?}");
    assert!(out.contains("stdin-is-a-tty"), "stdin is not a terminal: {out:?}");
}

/// `run -d`, then `task exec` without and with `-t`: output, exit status, the exec'd
/// process in the container's namespaces.
fn case_exec(c: &Containerd, id: &str) {
    let pid = c.detached(&[], id, &["sleep", "1000"]);
    let o = c.ctr(&["task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo hi; echo err >&2; exit 4"]);
    assert_eq!(o.status.code(), Some(4), "task exec status: {}", common::stderr(&o));
    assert_eq!(common::stdout(&o), "hi\n");
    assert!(common::stderr(&o).contains("err"), "{:?}", common::stderr(&o));
    let prog = "for n in net mnt pid ipc uts; do readlink /proc/self/ns/$n; done";
    let o = c.ok(&["task", "exec", "--exec-id", "e2", id, "sh", "-c", prog]);
    let want: String = ["net", "mnt", "pid", "ipc", "uts"].iter().map(|n| ns(&pid.to_string(), n) + "\n").collect();
    assert_eq!(common::stdout(&o), want, "the exec'd process is not in init's namespaces");
    let (code, out) = c.under_pty(&["task", "exec", "-t", "--exec-id", "e3", id, "tty"]);
    assert_eq!(code, Some(0), "task exec -t tty: {out:?}");
    assert!(out.contains("/dev/pts/"), "tty in `task exec -t` printed {out:?}");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);
}

/// `task ps` lists host pids: init's among them (runtime `ps --format json`).
fn case_ps(c: &Containerd, id: &str) {
    let pid = c.detached(&[], id, &["sh", "-c", "sleep 1000 & wait"]);
    let mut out = String::new();
    let ok = wait_until(Duration::from_secs(5), || {
        out = common::stdout(&c.ok(&["task", "ps", id]));
        out.lines().skip(1).count() >= 2
    });
    let pids: Vec<i32> = out.lines().skip(1).filter_map(|l| l.split_whitespace().next()?.parse().ok()).collect();
    assert!(ok && pids.contains(&pid), "task ps {out:?} lacks init {pid} or its child");
    for p in &pids {
        let cgr = std::fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap_or_default();
        assert!(cgr.contains(&format!(":/{NS}/{id}")), "task ps listed {p}, not in the container's cgroup");
    }
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);
}

/// `task kill` (SIGTERM, sent as 15) reaches init's handler; its status comes back at
/// `task delete`.
fn case_kill(c: &Containerd, id: &str) {
    c.detached(&[], id, &["sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.05; done"]);
    std::thread::sleep(Duration::from_millis(200));
    c.ok(&["task", "kill", id]);
    c.wait_task(id, "STOPPED");
    let o = c.ok(&["task", "delete", id]);
    assert!(common::stderr(&o).contains("exit code 42"), "task delete after SIGTERM: {:?}", common::stderr(&o));
    c.ok(&["container", "rm", id]);
}

/// `task pause` freezes the container (PAUSED, freezer FROZEN), `task resume` thaws it.
fn case_pause_resume(c: &Containerd, id: &str) {
    c.detached(&[], id, &["sleep", "1000"]);
    c.ok(&["task", "pause", id]);
    c.wait_task(id, "PAUSED");
    let frozen = cg(id, "freezer.state").map(|s| s == "FROZEN").or_else(|| cg(id, "cgroup.freeze").map(|s| s == "1"));
    assert_eq!(frozen, Some(true), "the container's cgroup is not frozen");
    c.ok(&["task", "resume", id]);
    c.wait_task(id, "RUNNING");
    let thawed = cg(id, "freezer.state").map(|s| s == "THAWED").or_else(|| cg(id, "cgroup.freeze").map(|s| s == "0"));
    assert_eq!(thawed, Some(true), "the container's cgroup is still frozen");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);
}

/// PID 1 ignores SIGTERM without a handler; `task kill -a -s SIGKILL` (kill --all ID 9)
/// ends it: exit 137 at `task delete`.
fn case_kill_all(c: &Containerd, id: &str) {
    c.detached(&[], id, &["sh", "-c", "sleep 1000 & sleep 1000"]);
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    let o = c.ok(&["task", "delete", id]);
    assert!(common::stderr(&o).contains("exit code 137"), "task delete after SIGKILL: {:?}", common::stderr(&o));
    c.ok(&["container", "rm", id]);
}

/// `--with-ns network:/proc/PID/ns/net` joins another container's network namespace.
fn case_with_ns(c: &Containerd, id: &str) {
    let other = format!("{id}-net");
    let pid = c.detached(&[], &other, &["sleep", "1000"]);
    let want = ns(&pid.to_string(), "net");
    assert_ne!(want, ns("self", "net"));
    let arg = format!("network:/proc/{pid}/ns/net");
    let out = c.run_rm(&["--with-ns", &arg], id, &["readlink", "/proc/self/ns/net"], 0);
    assert_eq!(out.trim(), want, "--with-ns {arg}");
    let out = c.run_rm(&[], id, &["readlink", "/proc/self/ns/net"], 0);
    assert_ne!(out.trim(), want, "without --with-ns the container must get a new network namespace");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", &other]);
    c.wait_task(&other, "STOPPED");
    c.ok(&["task", "delete", &other]);
    c.ok(&["container", "rm", &other]);
}

/// More of `ctr run`'s flags in one container: `--read-only`, `--cap-add`/`--cap-drop`,
/// `--allow-new-privs` (noNewPrivileges false; ctr's default is true), `--no-pivot`,
/// `--cpu-shares`, `--device`, `--annotation`, `--env-file`.
fn case_flags(c: &Containerd, id: &str) {
    let env_file = c.dir.join("env-file");
    std::fs::write(&env_file, "FROM_FILE=yes\n").unwrap();
    let flags = [
        "--read-only",
        "--cap-add",
        "CAP_SYS_TIME",
        "--cap-drop",
        "CAP_NET_RAW",
        "--allow-new-privs",
        "--no-pivot",
        "--cpu-shares",
        "512",
        "--device",
        "/dev/fuse",
        "--annotation",
        "tinyctr.test=1",
        "--env-file",
        env_file.to_str().unwrap(),
    ];
    let prog = "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; touch /x 2>&1; echo $FROM_FILE; \
                ls -l /dev/fuse | cut -c1";
    let out = c.run_rm(&flags, id, &["sh", "-c", prog], 0);
    let lines: Vec<&str> = out.lines().collect();
    // ctr's default set (as tests/fixtures/oci/ctr-run.json), + SYS_TIME (25), - NET_RAW (13).
    let caps = u64::from_str_radix(lines[0].trim_start_matches("CapEff:").trim(), 16).unwrap();
    assert_eq!(caps, (0xa80425fb_u64 | 1 << 25) & !(1 << 13), "CapEff: {out:?}");
    assert_eq!(lines[1].split_whitespace().nth(1), Some("0"), "NoNewPrivs with --allow-new-privs: {out:?}");
    assert!(lines[2].contains("Read-only file system"), "--read-only: {out:?}");
    assert_eq!(lines[3], "yes", "--env-file: {out:?}");
    assert_eq!(lines[4], "c", "--device /dev/fuse: {out:?}");
}

/// `--net-host`: no network namespace in config.json; the container is in the host's
/// (its sysfs shows the host's interfaces), the rest of its namespaces its own.
fn case_net_host(c: &Containerd, id: &str) {
    let out = c.run_rm(
        &["--net-host"],
        id,
        &["sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/mnt; ls /sys/class/net"],
        0,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first().copied(), Some(ns("self", "net").as_str()), "--net-host: {out:?}");
    assert_ne!(lines.get(1).copied(), Some(ns("self", "mnt").as_str()), "--net-host: its own mount namespace");
    let host: Vec<String> =
        std::fs::read_dir("/sys/class/net").unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    let inside: Vec<&str> = lines[2..].iter().flat_map(|l| l.split_whitespace()).collect();
    assert!(host.iter().all(|h| inside.contains(&h.as_str())), "the host's interfaces {host:?}, inside {inside:?}");
}

/// `--uidmap 0:100000:65536 --gidmap 0:100000:65536`: a user namespace (ctr chowns a
/// copy of the image's snapshot to the mapped ids). The task is root of its namespace and
/// host uid 100000 outside; what it makes is the container root's; `task exec` joins
/// the namespace, with and without a terminal; and the usual cleanup check follows.
fn case_userns(c: &Containerd, id: &str) {
    let maps = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"];
    let pid = c.detached(&maps, id, &["sleep", "1000"]);
    let read = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/{f}")).unwrap_or_default();
    assert_eq!(read("uid_map").split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    assert_eq!(read("gid_map").split_whitespace().collect::<Vec<_>>(), ["0", "100000", "65536"]);
    assert!(read("status").lines().any(|l| l.starts_with("Uid:\t100000\t")), "{}", read("status"));
    assert_ne!(ns(&pid.to_string(), "user"), ns("self", "user"));
    let script = "id -u; touch /tmp/made && stat -c %u /tmp/made; cat /proc/self/uid_map; readlink /proc/self/ns/user";
    let o = c.ok(&["task", "exec", "--exec-id", "u1", id, "sh", "-c", script]);
    let out = common::stdout(&o);
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(words[..5], ["0", "0", "0", "100000", "65536"], "exec in the user namespace: {out:?}");
    assert_eq!(words.get(5).copied(), Some(ns(&pid.to_string(), "user").as_str()), "exec's user namespace");
    // A terminal: the pty is the container's devpts's, whose gid=5 is the namespace's.
    let (code, out) = c.under_pty(&["task", "exec", "-t", "--exec-id", "u2", id, "sh", "-c", "tty; id -u"]);
    assert_eq!(code, Some(0), "task exec -t in the user namespace: {out:?}");
    assert!(out.contains("/dev/pts/") && out.contains('0'), "task exec -t printed {out:?}");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);
}

/// `--mount type=bind,src=...,dst=...,options=rbind:ro` (destination absent from the
/// image: the runtime makes it) is read-only; `rbind:rw` writes reach the host.
fn case_bind_mounts(c: &Containerd, id: &str) {
    let ro = c.dir.join("bind-ro");
    let rw = c.dir.join("bind-rw");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::create_dir_all(&rw).unwrap();
    std::fs::write(ro.join("f"), "from-host\n").unwrap();
    let m1 = format!("type=bind,src={},dst=/data/ro,options=rbind:ro", ro.display());
    let m2 = format!("type=bind,src={},dst=/data/rw,options=rbind:rw", rw.display());
    let out = c.run_rm(
        &["--mount", &m1, "--mount", &m2],
        id,
        &["sh", "-c", "cat /data/ro/f; if echo x > /data/ro/new; then echo writable; else echo read-only; fi; echo w > /data/rw/new"],
        0,
    );
    assert_eq!(out, "from-host\nread-only\n");
    assert!(!ro.join("new").exists());
    assert_eq!(std::fs::read_to_string(rw.join("new")).unwrap(), "w\n");
}

/// `--seccomp` (ctr's default profile) confines: Seccomp: 2 in /proc/self/status, and
/// `unshare -U` (allowed without the profile: no capability is needed for a user
/// namespace) fails. Without it, no filter at all.
fn case_seccomp(c: &Containerd, id: &str) {
    let prog = "grep '^Seccomp:' /proc/self/status; if unshare -U true; then echo allowed; else echo blocked; fi";
    let out = c.run_rm(&[], id, &["sh", "-c", prog], 0);
    assert_eq!(out, "Seccomp:\t0\nallowed\n", "without --seccomp");
    let out = c.run_rm(&["--seccomp"], id, &["sh", "-c", prog], 0);
    assert_eq!(out, "Seccomp:\t2\nblocked\n", "with --seccomp");
}

/// A program that does not exist: ctr fails with the runtime's own error (read by the
/// shim from --log) naming it, and nothing is left (the shim's `delete --force`).
fn case_missing_program(c: &Containerd, id: &str) {
    let o = c.run("--rm", &[], id, &["/nonexistent"]);
    let err = common::stderr(&o);
    assert!(!o.status.success(), "ctr run of /nonexistent succeeded");
    assert!(err.contains("/nonexistent"), "ctr's error does not carry the runtime's words: {err:?}");
    assert!(
        !err.contains("unable to retrieve OCI runtime error"),
        "the shim could not read the runtime's --log: {err:?}"
    );
    let _ = c.ctr(&["container", "rm", id]);
}

/// The container is in its cgroupsPath in every hierarchy, as runc puts it: the shim
/// loads the container's cgroups from the init's /proc/PID/cgroup, so `ctr task metrics`
/// (and the kubelet's stats) read what that names. On a v1 host with cpuacct or blkio in
/// a hierarchy of their own (this one), a container left in the shim's cgroup there
/// reported the host's CPU time since boot as its own.
fn case_metrics(c: &Containerd, id: &str) {
    let started = Instant::now();
    let pid = c.detached(&[], id, &["sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000"]);
    let incg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let outside: Vec<&str> = incg
        .lines()
        .filter(|l| l.split(':').nth(1).is_some_and(|ctl| !ctl.is_empty()))
        .filter(|l| !l.ends_with(&format!(":/{NS}/{id}")))
        .collect();
    assert!(outside.is_empty(), "init not in /{NS}/{id} in these hierarchies: {outside:?}");
    let out = common::stdout(&c.ok(&["task", "metrics", id]));
    let usage: Option<u64> = out
        .lines()
        .find_map(|l| l.strip_prefix("cpuacct.usage ").or_else(|| l.strip_prefix("cpu.usage_usec ")))
        .and_then(|v| v.trim().parse().ok());
    // Nanoseconds on v1 (cpuacct.usage), microseconds on v2: either way no more than two
    // CPUs' worth of the container's lifetime.
    let bound = started.elapsed().as_nanos() as u64 * 2;
    assert!(usage.is_some_and(|u| u > 0 && u <= bound), "task metrics CPU usage {usage:?} (bound {bound}):\n{out}");
    c.ok(&["task", "kill", "-a", "-s", "SIGKILL", id]);
    c.wait_task(id, "STOPPED");
    c.ok(&["task", "delete", id]);
    c.ok(&["container", "rm", id]);
}

const CASES: &[(&str, Case)] = &[
    ("output_and_exit_code", case_output_and_exit_code),
    ("env", case_env),
    ("cwd", case_cwd),
    ("user", case_user),
    ("limits_and_oom", case_limits_and_oom),
    ("tty", case_tty),
    ("exec", case_exec),
    ("ps", case_ps),
    ("kill", case_kill),
    ("pause_resume", case_pause_resume),
    ("kill_all", case_kill_all),
    ("with_ns", case_with_ns),
    ("bind_mounts", case_bind_mounts),
    ("seccomp", case_seccomp),
    ("missing_program", case_missing_program),
    ("metrics", case_metrics),
    ("userns", case_userns),
    ("net_host", case_net_host),
    ("flags", case_flags),
];

#[test]
fn ctr_runs_containers_through_the_runtime() {
    if !can_run() {
        return;
    }
    let wanted = selected_cases("TINYCTR_CTRD_CASES");
    let t0 = Instant::now();
    let c = Containerd::start();
    eprintln!("containerd up, image imported: {:?}; runtime {}", t0.elapsed(), c.runtime);
    let mut failed = Vec::new();
    for &(name, case) in CASES {
        if !wanted(name) {
            continue;
        }
        let id = format!("c-{}", name.replace('_', "-"));
        let t = Instant::now();
        let ran = caught(|| case(&c, &id));
        // Whatever happened, remove what the case made; then check nothing is left.
        c.remove(&id);
        c.remove(&format!("{id}-net"));
        let clean = caught(|| c.assert_clean());
        let verdict = verdict(&ran, &clean);
        eprintln!("case {name}: {verdict} ({:?})", t.elapsed());
        if ran.is_err() || clean.is_err() {
            failed.push(format!("{name}: {verdict}"));
            // Leave the next case a clean slate (the state entries are in our scratch).
            for (pid, _) in c.shims() {
                kill9(pid);
            }
            for e in std::fs::read_dir(c.runc_root.join(NS)).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir_all(e.path());
            }
            for d in cgroup_dirs(&format!("/{NS}")) {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) {
                        remove_cgroup(&format!("/{NS}/{}", e.file_name().to_string_lossy()), None);
                    }
                }
            }
        }
    }
    eprintln!("all cases: {:?}", t0.elapsed());
    assert!(failed.is_empty(), "{} case(s) failed:\n{}", failed.len(), failed.join("\n"));
}
