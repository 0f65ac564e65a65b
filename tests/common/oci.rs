//! Helpers for the tests that drive an OCI runtime binary the way containerd's runc-v2
//! shim does (tests/oci_lifecycle.rs, tests/containerd.rs): which binary is under test,
//! its `--log` JSON lines, the cgroup directories a cgroupsPath names in every hierarchy,
//! the processes a test must reap or kill, and the case loop of the daemon-driven tests
//! (tests/containerd.rs, tests/docker.rs). Declared from those files with
//! `#[path = "common/oci.rs"] mod oci;` next to `mod common;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitOptions, WaitStatus};

use crate::common::{wait_output, BIN_PATH};

/// The OCI runtime under test: `TINYCTR_OCI_RUNTIME` when set (e.g. `$(which runc)`, to
/// check the tests against the reference), else the tinyctr that cargo built. Always an
/// absolute path: containerd's shim runs it with its own PATH and cwd.
pub fn runtime() -> String {
    match std::env::var("TINYCTR_OCI_RUNTIME") {
        Ok(p) if !p.is_empty() => {
            let abs = std::fs::canonicalize(&p).unwrap_or_else(|e| panic!("TINYCTR_OCI_RUNTIME={p}: {e}"));
            abs.to_str().unwrap().to_owned()
        }
        _ => BIN_PATH.to_owned(),
    }
}

/// The test process becomes a child subreaper, as containerd's shim is: after `create`
/// exits, init (and every `exec --detach` process) must be re-parented to it. Like the
/// shim, it reaps them as soon as they end, on a thread of its own: a PID namespace's
/// init does not finish dying while an exec'd process of that namespace is an unreaped
/// zombie of ours, so a `delete --force` would wait for it in vain. Only pids given to
/// `watch` are reaped (the test's other children are std's to wait for); `wait_exit`
/// reads the statuses. Idempotent.
pub fn become_subreaper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        rustix::process::set_child_subreaper(Some(rustix::process::getpid())).unwrap();
        std::thread::spawn(|| loop {
            reap_watched();
            std::thread::sleep(Duration::from_millis(5));
        });
    });
}

/// Pids the reaper thread waits for (init and exec'd processes the test learnt).
static WATCHED: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Exit statuses the reaper collected, by pid.
static EXITED: Mutex<Vec<(i32, WaitStatus)>> = Mutex::new(Vec::new());

/// Has the reaper thread reap `pid` (a process re-parented to us) when it ends.
pub fn watch(pid: i32) {
    let mut w = WATCHED.lock().unwrap();
    if !w.contains(&pid) {
        w.push(pid);
    }
}

fn reap_watched() {
    let mut w = WATCHED.lock().unwrap();
    w.retain(|&pid| match rustix::process::waitpid(Pid::from_raw(pid), WaitOptions::NOHANG) {
        Ok(Some((_, st))) => {
            EXITED.lock().unwrap().push((pid, st));
            false
        }
        Ok(None) => true,
        // Not (or no longer) our child: nothing to reap.
        Err(_) => false,
    });
}

/// A directory of the test's own, removed (after unmounting anything below it, deepest
/// first) when dropped, also when the test fails.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("tinyctr-{tag}-{}", std::process::id()));
        unmount_below(&d);
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        unmount_below(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Mount points in this mount namespace at or below `dir` (a mount a runtime leaked into
/// the host).
pub fn mounts_below(dir: &Path) -> Vec<String> {
    let d = dir.to_str().unwrap();
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mi.lines().filter(|l| l.contains(d)).filter_map(|l| l.split(' ').nth(4)).map(str::to_owned).collect()
}

/// Lazily unmounts every mount at or below `dir`, deepest first.
pub fn unmount_below(dir: &Path) {
    let mut ms: Vec<String> = mounts_below(dir).into_iter().filter(|m| m.starts_with(dir.to_str().unwrap())).collect();
    ms.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in &ms {
        let _ = rustix::mount::unmount(m.as_str(), rustix::mount::UnmountFlags::DETACH);
    }
}

/// Mount points of every cgroup hierarchy (v1 and v2) in this mount namespace.
pub fn hierarchies() -> Vec<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mi.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let fstype = post.split(' ').next()?;
            (fstype == "cgroup" || fstype == "cgroup2").then(|| PathBuf::from(pre.split(' ').nth(4).unwrap()))
        })
        .collect()
}

/// The directories the absolute cgroupsPath `path` names that exist, in any hierarchy.
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let rel = path.trim_start_matches('/');
    hierarchies().into_iter().map(|h| h.join(rel)).filter(|d| d.is_dir()).collect()
}

/// `file` (e.g. `memory.limit_in_bytes`) of the cgroup `path` in whichever hierarchy has it.
pub fn cgroup_file(path: &str, file: &str) -> Option<String> {
    cgroup_dirs(path).into_iter().find_map(|d| std::fs::read_to_string(d.join(file)).ok())
}

/// Removes the cgroup `path` (which the calling test's own config named: never call it
/// for another) and, when empty, its parent `parent` too, in every hierarchy: processes
/// still in it are thawed and SIGKILLed first.
pub fn remove_cgroup(path: &str, parent: Option<&str>) {
    let dirs = cgroup_dirs(path);
    for d in &dirs {
        let fz = d.join("freezer.state");
        if std::fs::read_to_string(&fz).is_ok_and(|s| s.trim() != "THAWED") {
            let _ = std::fs::write(&fz, "THAWED");
        }
        if d.join("cgroup.freeze").exists() {
            let _ = std::fs::write(d.join("cgroup.freeze"), "0");
        }
        for pid in cgroup_procs(d) {
            kill9(pid);
        }
    }
    for d in &dirs {
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::remove_dir(d).is_err() && d.exists() && Instant::now() < deadline {
            for pid in cgroup_procs(d) {
                kill9(pid);
                reap(pid);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    if let Some(p) = parent {
        // The directories between the parent and the cgroup, deepest first (a test's
        // cgroupsPath may be several levels below its parent), then the parent.
        let rel = path.strip_prefix(p).unwrap_or("").trim_matches('/');
        let mut levels: Vec<&str> = rel.split('/').collect();
        levels.pop();
        while !levels.is_empty() {
            for d in cgroup_dirs(&format!("{p}/{}", levels.join("/"))) {
                let _ = std::fs::remove_dir(d);
            }
            levels.pop();
        }
        for d in cgroup_dirs(p) {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn cgroup_procs(d: &Path) -> Vec<i32> {
    std::fs::read_to_string(d.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// SIGKILL to `pid` (a process the test started or was given the pid of).
pub fn kill9(pid: i32) {
    if let Some(p) = Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(p, Signal::KILL);
    }
}

/// The status of `pid` if the reaper thread has reaped it.
pub fn reap(pid: i32) -> Option<WaitStatus> {
    EXITED.lock().unwrap().iter().find(|(p, _)| *p == pid).map(|(_, st)| *st)
}

/// Waits (up to `limit`) for our re-parented child `pid` to end; its status as a shell
/// shows it (the exit code, or 128 + the signal).
pub fn wait_exit(pid: i32, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = reap(pid) {
            if let Some(c) = st.exit_status() {
                return c;
            }
            if let Some(s) = st.terminating_signal() {
                return 128 + s;
            }
        }
        assert!(Instant::now() < deadline, "pid {pid} did not end within {limit:?} ({})", proc_status(pid));
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The process exists and is neither a zombie nor reaped.
pub fn alive(pid: i32) -> bool {
    if reap(pid).is_some() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// `Name`, `State` and `PPid` of /proc/PID/status, for failure messages.
pub fn proc_status(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| {
            s.lines()
                .filter(|l| l.starts_with("Name") || l.starts_with("State") || l.starts_with("PPid"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|_| format!("no /proc/{pid}"))
}

pub fn ppid(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix("PPid:")).and_then(|v| v.trim().parse().ok())
}

/// The `/proc/PID/ns/NAME` link (`net:[4026531840]`).
pub fn ns(pid: &str, name: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{name}"))
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_else(|e| panic!("/proc/{pid}/ns/{name}: {e}"))
}

/// Polls `f` every 10 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// RFC 3339 date-time as Go's time.RFC3339 parses it: `2006-01-02T15:04:05[.frac](Z|±hh:mm)`.
pub fn is_rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || !(b[10] == b'T' || b[10] == b't')
        || !(digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19))
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    match &b[i..] {
        [b'Z'] | [b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// The lines of a `--log-format json` log, each checked to be what the shim parses: a
/// JSON object with string `level` and `msg` and, when present, an RFC 3339 `time`.
pub fn log_lines(log: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("--log line is not JSON ({e}): {l:?}"));
            assert!(v.is_object(), "--log line is not a JSON object: {l:?}");
            assert!(v["level"].is_string(), "--log line without a string level: {l:?}");
            assert!(v["msg"].is_string(), "--log line without a string msg: {l:?}");
            if let Some(t) = v.get("time") {
                assert!(t.as_str().is_some_and(is_rfc3339), "--log time is not RFC 3339 (Go's time.RFC3339): {l:?}");
            }
            v
        })
        .collect()
}

/// The last `level == "error"` message of the log (the one the shim reports), if any.
pub fn last_error(log: &Path) -> Option<String> {
    log_lines(log).iter().rev().find(|v| v["level"] == "error").map(|v| v["msg"].as_str().unwrap().to_owned())
}

/// The runtime binary with the global flags the shim always passes first, in its order:
/// `--root ROOT --log LOG --log-format json`.
pub struct Runtime {
    pub bin: String,
    pub root: PathBuf,
    pub log: PathBuf,
}

impl Runtime {
    pub fn new(root: PathBuf, log: PathBuf) -> Runtime {
        Runtime { bin: runtime(), root, log }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root).arg("--log").arg(&self.log).args(["--log-format", "json"]).args(args);
        // Not the bundle: root.path must be resolved against --bundle, not the cwd.
        c.current_dir("/");
        c
    }

    /// Runs a command that leaves no process holding its stdio (state, start, kill...).
    pub fn run(&self, args: &[&str]) -> Output {
        let child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.bin));
        wait_output(child, Duration::from_secs(30))
    }

    /// Runs `create` or `exec`, whose stdio the container process inherits: stdin
    /// /dev/null, stdout and stderr appended to the given files (so nothing waits on a
    /// pipe the container holds). Its status.
    pub fn run_stdio(&self, args: &[&str], stdout: &Path, stderr: &Path) -> ExitStatus {
        let open = |p: &Path| std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
        let mut child = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(open(stdout))
            .stderr(open(stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", self.bin));
        let limit = Duration::from_secs(30);
        super::common::wait_status(&mut child, Instant::now() + limit, limit)
    }

    pub fn last_error(&self) -> Option<String> {
        last_error(&self.log)
    }

    /// `state ID` parsed, or None when it fails.
    pub fn state(&self, id: &str) -> Option<serde_json::Value> {
        let o = self.run(&["state", id]);
        if !o.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&o.stdout);
        Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("state {id} is not JSON ({e}): {text:?}")))
    }

    pub fn status(&self, id: &str) -> String {
        let s = self.state(id).unwrap_or_else(|| {
            panic!("state {id} failed: {:?}", self.last_error());
        });
        s["status"].as_str().unwrap_or_else(|| panic!("state without a status: {s}")).to_owned()
    }
}

/// `name` found in PATH (or /usr/sbin, /sbin, /usr/bin: root's usual extras).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

/// The words of the comma-separated list in env `var` (`TINYCTR_CTRD_CASES=a,b`): the
/// cases to run are those whose names contain one; none set, every case.
pub fn selected_cases(var: &str) -> impl Fn(&str) -> bool {
    let only: Vec<String> = std::env::var(var)
        .map(|v| v.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    move |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()))
}

/// Runs `f`, a failed assertion caught as its message.
pub fn caught(f: impl FnOnce()) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// `cmd` run by a shell that first applies `redirect` (`3<FILE 4<FILE`: descriptors the
/// command is to find open, as a caller of `--preserve-fds` passes them), in `cmd`'s
/// directory and with its environment.
pub fn exec_with(cmd: &Command, redirect: &str) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(format!("exec \"$@\" {redirect}")).arg("sh").arg(cmd.get_program()).args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        sh.current_dir(d);
    }
    sh.envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
    sh
}

/// A daemon's client command (`ctr`, `docker`, `podman`) run with stdin /dev/null and
/// its stdout and stderr captured, within `limit`.
pub fn captured(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    wait_output(child.unwrap_or_else(|e| panic!("{:?}: {e}", cmd.get_program())), limit)
}

/// `o` of `tool ARGS`, which must have succeeded: else a panic with its status and output.
pub fn succeeded(tool: &str, args: &[&str], o: Output) -> Output {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        o.status.success(),
        "{tool} {}: {}; stdout {:?}; stderr {:?}",
        args.join(" "),
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

/// Asserts that the client command `what` exited with status `code`; its stdout.
pub fn exited_with(what: &str, o: &Output, code: i32) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(
        o.status.code(),
        Some(code),
        "{what}: {} (want {code}); stdout {:?}; stderr {:?}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// A daemon test's case: its name and what it does with the daemon.
pub type Case<D> = (&'static str, fn(&D));

/// The case loop of a daemon's test (docker, podman): each case `var` selects, then
/// `tidy` (removes what the case made, whatever happened) and `clean` (checks nothing is
/// left); at the end a panic names every case that failed.
pub fn run_cases<D>(d: &D, var: &str, cases: &[Case<D>], tidy: impl Fn(&D), clean: impl Fn(&D)) {
    let wanted = selected_cases(var);
    let t0 = Instant::now();
    let mut failed = Vec::new();
    for &(name, case) in cases {
        if !wanted(name) {
            continue;
        }
        let t = Instant::now();
        let ran = caught(|| case(d));
        tidy(d);
        let left = caught(|| clean(d));
        let verdict = verdict(&ran, &left);
        eprintln!("case {name}: {verdict} ({:?})", t.elapsed());
        if ran.is_err() || left.is_err() {
            failed.push(format!("{name}: {verdict}"));
        }
    }
    eprintln!("all cases: {:?}", t0.elapsed());
    assert!(failed.is_empty(), "{} case(s) failed:\n{}", failed.len(), failed.join("\n"));
}

/// A busybox image's filesystem, as a tarball at `tar` for `docker import` and `podman
/// import`: an applet link each, root and user 1000 (home /tmp), a 1777 /tmp; `extra`
/// adds to the tree before it is packed.
pub fn busybox_tar(tar: &Path, extra: impl FnOnce(&Path)) {
    let r = crate::common::rootfs::Rootfs::new("image");
    let root = &r.dir;
    for sub in ["etc", "root"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\n")
        .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\nuser:x:1000:\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    extra(root);
    let o = Command::new("tar").arg("-C").arg(root).arg("-cf").arg(tar).arg(".").output().unwrap();
    assert!(o.status.success(), "tar: {}", String::from_utf8_lossy(&o.stderr));
}

/// A case's verdict from its run and the check that nothing was left after it.
pub fn verdict(ran: &Result<(), String>, clean: &Result<(), String>) -> String {
    match (ran, clean) {
        (Ok(()), Ok(())) => "ok".to_owned(),
        (Err(e), _) => format!("FAILED: {e}"),
        (Ok(()), Err(e)) => format!("FAILED (left something behind): {e}"),
    }
}
