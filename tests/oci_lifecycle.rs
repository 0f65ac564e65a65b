//! The runtime-spec lifecycle (create, start, state, kill, delete, plus ps, exec, pause
//! and resume) driven on a bundle without containerd, through the command line and the
//! global flags containerd's runc-v2 shim uses: `--root DIR --log FILE --log-format json`
//! first, then the command (see /work/shared/OCI.md §4).
//!
//! The runtime under test is `TINYCTR_OCI_RUNTIME` when set (`$(which runc)` checks the
//! tests against the reference), else the tinyctr cargo built. The test process is a
//! child subreaper, as the shim is: init and exec'd processes must be re-parented to it
//! when `create`/`exec` return, and it reaps them for their exit status.
//!
//! Each test has its own root, log, bundle (busybox rootfs + config.json made from
//! tests/fixtures/oci/ctr-run.json, the config `ctr run` writes) and cgroupsPath
//! `/tinyctr-test-<pid>-<case>/<id>`, and a guard that on the way out, failed or not,
//! runs `delete --force`, SIGKILLs every pid it learnt and removes that cgroup (and only
//! that one) from every hierarchy. After every `delete` the test checks that nothing is
//! left: `state` says `does not exist`, no ROOT/ID, no cgroup directory for the
//! cgroupsPath in any hierarchy, no process, no mount under the test's directory.
//!
//! Built only with the `oci` feature (`cargo test --features oci`, as README's test
//! command runs): without it the binary has no OCI commands.
#![cfg(feature = "oci")]

mod common;
#[path = "common/oci.rs"]
mod oci;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use common::rootfs::{self, Rootfs};
use oci::*;
use serde_json::{json, Value};

const CTR_RUN: &str = include_str!("fixtures/oci/ctr-run.json");
const WAIT: Duration = Duration::from_secs(10);

/// One container under test with everything it needs and the guard that removes it.
struct Case {
    rt: Runtime,
    id: String,
    cgroup: String,
    cgroup_parent: String,
    bundle: PathBuf,
    /// Host directory bind-mounted read-write at /shared in the container.
    shared: PathBuf,
    config: Value,
    /// Every pid the test learnt (init, exec'd processes): SIGKILLed and reaped at drop.
    pids: RefCell<Vec<i32>>,
    _rootfs: Rootfs,
    dir: Scratch,
}

impl Case {
    /// None (after saying why) when this host cannot run containers (not root, or no
    /// static busybox); under CI=true that is a failure.
    fn new(name: &str, args: &[&str]) -> Option<Case> {
        if !common::require_root("the OCI lifecycle tests") || !rootfs::can_run() {
            return None;
        }
        become_subreaper();
        let pid = std::process::id();
        let dir = Scratch::new(&format!("ocil-{name}"));
        let bundle = dir.join("bundle");
        std::fs::create_dir(&bundle).unwrap();
        let mut rootfs = Rootfs::new(&format!("ocil-{name}"));
        let in_bundle = bundle.join("rootfs");
        std::fs::rename(&rootfs.dir, &in_bundle).unwrap();
        rootfs.dir = in_bundle;
        std::fs::create_dir(rootfs.dir.join("shared")).unwrap();
        let shared = dir.join("shared");
        std::fs::create_dir(&shared).unwrap();
        let id = format!("{name}-{pid}");
        let cgroup_parent = format!("/tinyctr-test-{pid}-{name}");
        let cgroup = format!("{cgroup_parent}/{id}");

        let mut config: Value = serde_json::from_str(CTR_RUN).unwrap();
        config["process"]["args"] = json!(args);
        config["root"]["path"] = json!("rootfs");
        config["linux"]["cgroupsPath"] = json!(cgroup);
        config["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/shared", "type": "bind", "source": shared, "options": ["rbind", "rw"]
        }));
        let rt = Runtime::new(dir.join("root"), dir.join("log.json"));
        let c = Case {
            rt,
            id,
            cgroup,
            cgroup_parent,
            bundle,
            shared,
            config,
            pids: RefCell::default(),
            _rootfs: rootfs,
            dir,
        };
        c.write_config();
        Some(c)
    }

    fn write_config(&self) {
        std::fs::write(self.bundle.join("config.json"), serde_json::to_vec(&self.config).unwrap()).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    fn shared(&self, name: &str) -> PathBuf {
        self.shared.join(name)
    }

    /// The container's memory limit as its cgroup holds it (v1 or v2 file), trimmed.
    fn memory_limit(&self) -> Option<String> {
        cgroup_file(&self.cgroup, "memory.limit_in_bytes")
            .or_else(|| cgroup_file(&self.cgroup, "memory.max"))
            .map(|s| s.trim().to_owned())
    }

    fn log_error(&self) -> String {
        self.rt
            .last_error()
            .unwrap_or_else(|| panic!("the command failed but --log holds no error line: {:?}", self.file("log.json")))
    }

    /// `create --bundle B --pid-file P ID` with stdout/stderr going to files `stdout` and
    /// `stderr` of the test's directory (the container inherits them).
    fn create_as(&self, id: &str, pid_file: &str) -> ExitStatus {
        let b = self.bundle.to_str().unwrap().to_owned();
        let p = self.path(pid_file);
        let st = self.rt.run_stdio(
            &["create", "--bundle", &b, "--pid-file", p.to_str().unwrap(), id],
            &self.path("stdout"),
            &self.path("stderr"),
        );
        if let Ok(pid) = std::fs::read_to_string(&p).unwrap_or_default().trim().parse::<i32>() {
            watch(pid);
            self.pids.borrow_mut().push(pid);
        }
        st
    }

    /// Creates the container and returns init's pid (from the pid file).
    fn create(&self) -> i32 {
        let t = Instant::now();
        let before = log_lines(&self.rt.log).len();
        let st = self.create_as(&self.id, "init.pid");
        assert!(st.success(), "create failed ({st}): log {:?}, stderr {:?}", self.rt.last_error(), self.file("stderr"));
        assert!(t.elapsed() < WAIT, "create took {:?}", t.elapsed());
        let text = self.file("init.pid");
        let pid: i32 = text.trim().parse().unwrap_or_else(|_| panic!("pid file holds {text:?}"));
        assert!(pid > 1, "pid file holds {pid}");
        let errs: Vec<Value> =
            log_lines(&self.rt.log).into_iter().skip(before).filter(|v| v["level"] == "error").collect();
        assert!(errs.is_empty(), "create succeeded but logged errors: {errs:?}");
        pid
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.rt.run(args);
        assert!(
            o.status.success(),
            "`{}` failed ({}): log {:?}, stderr {:?}",
            args.join(" "),
            o.status,
            self.rt.last_error(),
            common::stderr(&o)
        );
        common::stdout(&o)
    }

    /// The command fails; its logged error message.
    fn fails(&self, args: &[&str]) -> String {
        let before = log_lines(&self.rt.log).len();
        let o = self.rt.run(args);
        assert!(!o.status.success(), "`{}` succeeded but must fail", args.join(" "));
        assert!(
            log_lines(&self.rt.log).len() > before,
            "`{}` failed without a --log line (the shim reports the log's last error)",
            args.join(" ")
        );
        self.log_error()
    }

    fn no_error_logged(&self, what: &str) {
        let errs: Vec<Value> = log_lines(&self.rt.log).into_iter().filter(|v| v["level"] == "error").collect();
        assert!(errs.is_empty(), "{what} succeeded but logged errors: {errs:?}");
    }

    fn status(&self) -> String {
        self.rt.status(&self.id)
    }

    fn wait_status(&self, want: &str) {
        let mut last = String::new();
        let ok = wait_until(WAIT, || {
            last = self.rt.state(&self.id).map(|s| s["status"].as_str().unwrap_or("").to_owned()).unwrap_or_default();
            last == want
        });
        assert!(ok, "state did not become {want:?} (last {last:?})");
    }

    fn wait_shared(&self, name: &str) -> String {
        let p = self.shared(name);
        assert!(
            wait_until(WAIT, || p.exists()),
            "the program did not write /shared/{name} (stdout {:?}, stderr {:?})",
            self.file("stdout"),
            self.file("stderr")
        );
        std::thread::sleep(Duration::from_millis(20));
        std::fs::read_to_string(p).unwrap()
    }

    /// The container's processes in one hierarchy (the memory one when there is one).
    fn procs(&self) -> Vec<i32> {
        let dirs = cgroup_dirs(&self.cgroup);
        let d = dirs.iter().find(|d| d.to_string_lossy().contains("/memory/")).or(dirs.first());
        let d = d.unwrap_or_else(|| panic!("no cgroup {} in any hierarchy", self.cgroup));
        std::fs::read_to_string(d.join("cgroup.procs")).unwrap().lines().map(|l| l.parse().unwrap()).collect()
    }

    /// `exec --process F --detach --pid-file P ID` for `args` (the rest of the process
    /// as config.json's), stdio to the files `exec.out`/`exec.err`; the new pid.
    /// The config's `process` with `args`, as `exec --process` reads it: its path.
    fn process_file(&self, tag: &str, args: &[&str]) -> PathBuf {
        let mut p = self.config["process"].clone();
        p["args"] = json!(args);
        let f = self.path(&format!("{tag}.process.json"));
        std::fs::write(&f, serde_json::to_vec(&p).unwrap()).unwrap();
        f
    }

    fn exec(&self, tag: &str, args: &[&str]) -> i32 {
        let f = self.process_file(tag, args);
        let pid_file = self.path(&format!("{tag}.pid"));
        let st = self.rt.run_stdio(
            &["exec", "--process", f.to_str().unwrap(), "--detach", "--pid-file", pid_file.to_str().unwrap(), &self.id],
            &self.path("exec.out"),
            &self.path("exec.err"),
        );
        assert!(st.success(), "exec failed ({st}): log {:?}, stderr {:?}", self.rt.last_error(), self.file("exec.err"));
        let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
        let pid: i32 = text.trim().parse().unwrap_or_else(|_| panic!("exec's pid file holds {text:?}"));
        watch(pid);
        self.pids.borrow_mut().push(pid);
        pid
    }

    /// After `delete`: nothing of the container is left.
    fn assert_gone(&self) {
        let before = log_lines(&self.rt.log).len();
        assert!(self.rt.state(&self.id).is_none(), "state still succeeds after delete");
        assert!(log_lines(&self.rt.log).len() > before, "state of a deleted container logged nothing");
        let e = self.log_error();
        assert!(e.contains("does not exist"), "state after delete: {e:?} lacks `does not exist`");
        let entry = self.rt.root.join(&self.id);
        assert!(!entry.exists(), "the state directory still has {}", entry.display());
        let left = cgroup_dirs(&self.cgroup);
        assert!(left.is_empty(), "cgroup directories left: {left:?}");
        for &pid in self.pids.borrow().iter() {
            let _ = reap(pid);
            assert!(!alive(pid), "pid {pid} still alive after delete: {}", proc_status(pid));
        }
        let m = mounts_below(self.dir.path());
        assert!(m.is_empty(), "mounts left in the host: {m:?}");
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = self.rt.run(&["delete", "--force", &self.id]);
        for &pid in self.pids.borrow().iter() {
            kill9(pid);
        }
        for &pid in self.pids.borrow().iter() {
            wait_until(Duration::from_secs(2), || !alive(pid));
        }
        remove_cgroup(&self.cgroup, Some(&self.cgroup_parent));
        unmount_below(self.dir.path());
    }
}

/// A program that says it started and then waits for /shared/go, exiting with `code`.
fn wait_for_go(code: i32) -> String {
    format!("echo hello; echo started > /shared/started; while [ ! -e /shared/go ]; do sleep 0.02; done; exit {code}")
}

/// create applies everything but process.args: init exists, is ours (re-parented to
/// the subreaper), sits in new namespaces and in the cgroup, and has not run the
/// program. start runs it; state follows created → running → stopped; the exit status
/// reaches the subreaper; delete leaves nothing.
#[test]
fn create_prepares_start_runs_state_follows_delete_cleans() {
    let prog = wait_for_go(7);
    let Some(c) = Case::new("lifecycle", &["sh", "-c", &prog]) else { return };
    let pid = c.create();

    let st = c.rt.state(&c.id).expect("state after create");
    assert!(st["ociVersion"].is_string(), "state without ociVersion: {st}");
    assert_eq!(st["id"], c.id.as_str(), "{st}");
    assert_eq!(st["status"], "created", "{st}");
    assert_eq!(st["pid"], pid, "state's pid is not the pid file's: {st}");
    assert_eq!(st["bundle"], c.bundle.to_str().unwrap(), "state's bundle must be the absolute bundle path: {st}");

    assert!(alive(pid), "init {pid} is not alive after create: {}", proc_status(pid));
    assert_eq!(
        ppid(pid),
        Some(std::process::id() as i32),
        "after create, init must be a child of the subreaper that ran create (the shim reaps it): {}",
        proc_status(pid)
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(!c.shared("started").exists(), "the program ran before start");
    assert_eq!(c.file("stdout"), "", "the program wrote before start");
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    assert!(!exe.to_string_lossy().ends_with("busybox"), "init exec'ed the program before start: {exe:?}");
    for n in ["mnt", "uts", "ipc", "net", "pid"] {
        assert_ne!(ns(&pid.to_string(), n), ns("self", n), "init is not in a new {n} namespace after create");
    }
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.lines().any(|l| l.ends_with(&format!(":{}", c.cgroup))),
        "init is not in cgroupsPath {} after create:\n{cg}",
        c.cgroup
    );
    assert!(!cgroup_dirs(&c.cgroup).is_empty());

    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("started"), "started\n");
    assert_eq!(c.file("stdout"), "hello\n", "the program's stdout must be create's fd 1");
    assert_eq!(c.status(), "running");
    assert_eq!(c.rt.state(&c.id).unwrap()["pid"], pid);
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    assert!(exe.to_string_lossy().ends_with("busybox"), "init pid is not the program after start: {exe:?}");

    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 7, "init's exit status, as the subreaper sees it");
    c.wait_status("stopped");

    c.ok(&["delete", &c.id]);
    c.no_error_logged("the whole lifecycle");
    c.assert_gone();
}

/// A second create with the ID of a live container fails, makes no process, and leaves
/// the first container as it was (it still starts and runs).
#[test]
fn create_twice_fails_and_leaves_the_first_intact() {
    let Some(c) = Case::new("twice", &["sh", "-c", "echo first > /shared/out"]) else { return };
    let pid = c.create();
    let st = c.create_as(&c.id, "second.pid");
    assert!(!st.success(), "a second create with the same ID succeeded");
    let e = c.log_error();
    assert!(!e.is_empty());
    let second = c.file("second.pid");
    if let Ok(p2) = second.trim().parse::<i32>() {
        assert!(p2 == pid || !alive(p2), "the failed create left process {p2}: {}", proc_status(p2));
    }
    assert_eq!(c.procs(), [pid], "the failed create changed the first container's cgroup");
    let s = c.rt.state(&c.id).expect("state of the first container");
    assert_eq!((s["status"].as_str(), s["pid"].as_i64()), (Some("created"), Some(pid as i64)), "{s}");
    assert!(alive(pid));

    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("out"), "first\n");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// start on a running or stopped container fails and changes nothing.
/// A relative `--pid-file` names a file in the caller's working directory (runc's
/// reading), not in the bundle that create then works in.
#[test]
fn a_relative_pid_file_is_the_callers() {
    let Some(c) = Case::new("relpid", &["true"]) else { return };
    let caller = c.path("caller");
    std::fs::create_dir(&caller).unwrap();
    let b = c.bundle.to_str().unwrap().to_owned();
    let mut cmd = c.rt.command(&["create", "--bundle", &b, "--pid-file", "rel.pid", &c.id]);
    cmd.current_dir(&caller).stdin(std::process::Stdio::null());
    cmd.stdout(std::fs::File::create(c.path("stdout")).unwrap());
    cmd.stderr(std::fs::File::create(c.path("stderr")).unwrap());
    let st = cmd.status().unwrap();
    let text = std::fs::read_to_string(caller.join("rel.pid")).unwrap_or_default();
    if let Ok(pid) = text.trim().parse::<i32>() {
        watch(pid);
        c.pids.borrow_mut().push(pid);
    }
    assert!(st.success(), "create failed ({st}): {:?}", c.file("stderr"));
    assert!(!c.bundle.join("rel.pid").exists(), "the pid file went into the bundle");
    let pid: i32 =
        text.trim().parse().unwrap_or_else(|_| panic!("the pid file in the caller's directory holds {text:?}"));
    let s = c.rt.state(&c.id).expect("state");
    assert_eq!(s["pid"].as_i64(), Some(pid as i64), "{s}");
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

#[test]
fn start_twice_and_after_exit_fails() {
    let prog = wait_for_go(0);
    let Some(c) = Case::new("start2", &["sh", "-c", &prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let e = c.fails(&["start", &c.id]);
    eprintln!("start of a running container: {e}");
    assert_eq!(c.status(), "running");
    assert_eq!(c.rt.state(&c.id).unwrap()["pid"], pid);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.file("stdout"), "hello\n", "a second start ran the program again");

    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.wait_status("stopped");
    let e = c.fails(&["start", &c.id]);
    eprintln!("start of a stopped container: {e}");
    assert_eq!(c.status(), "stopped");
    assert_eq!(c.file("stdout"), "hello\n");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// kill in the created state (SIGKILL as the number the shim sends) ends init before it
/// ever runs the program; start then fails; kill of the stopped container fails with
/// words the shim maps to "process already finished"; delete works.
#[test]
fn kill_created_then_start_and_kill_fail() {
    let Some(c) = Case::new("killcreated", &["sh", "-c", "echo ran > /shared/ran"]) else { return };
    let pid = c.create();
    c.ok(&["kill", &c.id, "9"]);
    assert_eq!(wait_exit(pid, WAIT), 137, "init after kill ID 9");
    c.wait_status("stopped");
    let e = c.fails(&["start", &c.id]);
    eprintln!("start after init was killed: {e}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(!c.shared("ran").exists(), "the program ran although init was killed before start");

    let e = c.fails(&["kill", &c.id, "9"]);
    assert!(
        e.contains("not running") || e.contains("process already finished"),
        "kill of a stopped container: {e:?} must contain `not running` or `process already finished` (the shim's words)"
    );
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// kill in the running state: signals by number (as the shim sends them), name and
/// SIG-name (as runtime-tools does) reach init's handlers; SIGTERM ends it with its
/// handler's status.
#[test]
fn kill_running_by_number_and_name() {
    let prog = "trap 'echo usr1 >> /shared/sigs' USR1; trap 'exit 42' TERM; echo > /shared/ready; \
                while :; do sleep 0.02; done";
    let Some(c) = Case::new("killrun", &["sh", "-c", prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("ready");
    for (n, sig) in ["10", "USR1", "SIGUSR1"].iter().enumerate() {
        c.ok(&["kill", &c.id, sig]);
        let p = c.shared("sigs");
        assert!(
            wait_until(WAIT, || std::fs::read_to_string(&p).unwrap_or_default().lines().count() == n + 1),
            "kill ID {sig}: the USR1 handler did not run"
        );
    }
    assert_eq!(c.status(), "running");
    c.ok(&["kill", &c.id, "15"]);
    assert_eq!(wait_exit(pid, WAIT), 42, "init after kill ID 15");
    c.wait_status("stopped");
    let e = c.fails(&["kill", &c.id, "15"]);
    assert!(e.contains("not running") || e.contains("process already finished"), "{e:?}");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// kill --all ID 9 (what the shim sends for `task kill -a` and when init exits without
/// its own PID namespace) ends every process of the container, exec'd ones too.
#[test]
fn kill_all_ends_every_process() {
    let prog = wait_for_go(0);
    let Some(c) = Case::new("killall", &["sh", "-c", &prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let epid = c.exec("sleeper", &["sleep", "1000"]);
    c.ok(&["kill", "--all", &c.id, "9"]);
    assert_eq!(wait_exit(epid, WAIT), 137, "the exec'd process after kill --all");
    assert_eq!(wait_exit(pid, WAIT), 137, "init after kill --all");
    c.wait_status("stopped");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// delete of a running container without --force fails and leaves it running;
/// delete --force kills it (SIGKILL) and removes everything.
#[test]
fn delete_running_needs_force() {
    let prog = wait_for_go(0);
    let Some(c) = Case::new("delrun", &["sh", "-c", &prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let e = c.fails(&["delete", &c.id]);
    eprintln!("delete of a running container: {e}");
    assert_eq!(c.status(), "running");
    assert!(alive(pid));
    c.ok(&["delete", "--force", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 137, "init after delete --force");
    c.assert_gone();
}

/// delete (without --force) of a created container: runtime-spec says it must fail,
/// runc deletes it, killing init. This test asserts runc's behaviour because containerd
/// depends on it: the shim's createdState.Delete (a task created but never started,
/// e.g. after a failed start, or a client that deletes it) calls `delete ID` with no
/// --force and reports any error not containing `does not exist`.
#[test]
fn delete_created_removes_it_as_runc_does() {
    let Some(c) = Case::new("delcreated", &["sh", "-c", "echo ran > /shared/ran"]) else { return };
    let pid = c.create();
    c.ok(&["delete", &c.id]);
    assert!(wait_until(WAIT, || !alive(pid)), "init survived delete: {}", proc_status(pid));
    assert!(!c.shared("ran").exists(), "the program ran");
    c.assert_gone();
}

/// Every command on an ID that does not exist fails with `does not exist` in a --log
/// JSON line (level, msg, RFC 3339 time), the words the shim matches; delete --force of
/// one (the shim's cleanup after a failed create) succeeds, as runc's does, or says the
/// same.
#[test]
fn unknown_id_does_not_exist() {
    let Some(c) = Case::new("unknown", &["true"]) else { return };
    let ghost = format!("ghost-{}", std::process::id());
    let proc_file = c.path("p.json");
    std::fs::write(&proc_file, serde_json::to_vec(&c.config["process"]).unwrap()).unwrap();
    let pf = c.path("ghost.pid");
    let cmds: Vec<Vec<&str>> = vec![
        vec!["state", &ghost],
        vec!["start", &ghost],
        vec!["kill", &ghost, "9"],
        vec!["kill", "--all", &ghost, "9"],
        vec!["delete", &ghost],
        vec!["pause", &ghost],
        vec!["resume", &ghost],
        vec!["ps", "--format", "json", &ghost],
        vec!["exec", "--process", proc_file.to_str().unwrap(), "--detach", "--pid-file", pf.to_str().unwrap(), &ghost],
    ];
    let mut bad = Vec::new();
    for args in &cmds {
        let before = log_lines(&c.rt.log).len();
        let o = c.rt.run(args);
        let lines = log_lines(&c.rt.log);
        let new: Vec<&Value> = lines[before..].iter().collect();
        let err = new.iter().rev().find(|v| v["level"] == "error").and_then(|v| v["msg"].as_str());
        if o.status.success() || !err.is_some_and(|m| m.contains("does not exist")) {
            bad.push(format!("`{}`: {} , logged {new:?}", args.join(" "), o.status));
        }
        for v in &new {
            assert!(
                v.get("time").is_some(),
                "a --log line without time (the shim accepts that, but tinyctr, like runc, writes one): {v}"
            );
        }
    }
    assert!(bad.is_empty(), "commands on an unknown ID must fail with `does not exist` logged:\n{}", bad.join("\n"));
    assert!(!pf.exists(), "exec on an unknown ID wrote a pid file");

    let before = log_lines(&c.rt.log).len();
    let o = c.rt.run(&["delete", "--force", &ghost]);
    if !o.status.success() {
        let e = c.log_error();
        assert!(log_lines(&c.rt.log).len() > before && e.contains("does not exist"), "delete --force: {e:?}");
    }
    assert!(!c.rt.root.join(&ghost).exists());
}

/// A config.json that is not JSON, is cut short, or has a wrong type: create fails with
/// a logged error and leaves nothing (no state, no cgroup, no process); the ID is then
/// free for a good config.
#[test]
fn bad_config_fails_and_leaves_nothing() {
    let Some(mut c) = Case::new("badcfg", &["sh", "-c", "echo good > /shared/out"]) else { return };
    let good = serde_json::to_string(&c.config).unwrap();
    let bad = [
        ("not JSON", "this is not json".to_owned()),
        ("cut short", good[..good.len() / 2].to_owned()),
        ("process.args is a number", good.replacen("\"args\":[", "\"args\":5,\"x\":[", 1)),
        ("empty", String::new()),
    ];
    for (what, text) in &bad {
        std::fs::write(c.bundle.join("config.json"), text).unwrap();
        let before = log_lines(&c.rt.log).len();
        let st = c.create_as(&c.id, &format!("{}.pid", what.replace(' ', "_")));
        assert!(!st.success(), "create with a config.json that is {what} succeeded");
        assert!(log_lines(&c.rt.log).len() > before, "create with a config that is {what}: no --log line");
        eprintln!("config {what}: {}", c.log_error());
        assert!(!c.rt.root.join(&c.id).exists(), "config {what}: state directory entry left");
        assert!(cgroup_dirs(&c.cgroup).is_empty(), "config {what}: cgroup left");
        assert!(c.rt.state(&c.id).is_none(), "config {what}: state succeeds");
        for &p in c.pids.borrow().iter() {
            let _ = reap(p);
            assert!(!alive(p), "config {what}: process {p} left");
        }
    }
    c.config = serde_json::from_str(&good).unwrap();
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("out"), "good\n");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// `process.capabilities.ambient` for a non-root user: the program keeps those across
/// execve (before, the ambient set was always emptied and a non-root program had none).
#[test]
fn ambient_capabilities_reach_a_non_root_program() {
    let Some(mut c) = Case::new("ambient", &["grep", "-E", "^Cap(Inh|Prm|Eff|Amb)", "/proc/self/status"]) else {
        return;
    };
    c.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    c.config["process"]["capabilities"]["inheritable"] = json!(["CAP_NET_BIND_SERVICE"]);
    c.config["process"]["capabilities"]["ambient"] = json!(["CAP_NET_BIND_SERVICE"]);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    let want =
        "CapInh:\t0000000000000400\nCapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n";
    assert_eq!(c.file("stdout"), want);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A bind's `nosuid`, `nodev`, `noexec`, atime mode and `nosymfollow` are set on it
/// (they were dropped), through each kernel path: mount_setattr, the remount of kernels
/// before 5.12, and the legacy mount of kernels before 5.2 (debug builds can pretend:
/// TINYCTR_DEBUG_KERNEL); a tmpfs's too (`strictatime`, `nodiratime` were dropped).
#[test]
fn a_binds_nosuid_nodev_noexec_are_set() {
    for (tag, kernel) in [("setattr", ""), ("remount", "5.11"), ("legacy", "5.1")] {
        if !kernel.is_empty() && std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
            continue;
        }
        let prog = "grep -E ' /(shared|scratch) ' /proc/self/mounts > /shared/out.tmp; mv /shared/out.tmp /shared/out";
        let Some(mut c) = Case::new(&format!("bindfl{tag}"), &["sh", "-c", prog]) else { return };
        let mounts = c.config["mounts"].as_array_mut().unwrap();
        let m = mounts.last_mut().unwrap();
        m["options"] = json!(["rbind", "rw", "nosuid", "nodev", "noexec", "noatime", "nosymfollow"]);
        mounts.push(json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "strictatime", "nodiratime", "mode=755"]}));
        c.write_config();
        let b = c.bundle.to_str().unwrap().to_owned();
        let p = c.path("init.pid");
        let mut cmd = c.rt.command(&["create", "--bundle", &b, "--pid-file", p.to_str().unwrap(), &c.id]);
        cmd.env("TINYCTR_DEBUG_KERNEL", kernel).stdin(std::process::Stdio::null());
        cmd.stdout(std::fs::File::create(c.path("stdout")).unwrap());
        cmd.stderr(std::fs::File::create(c.path("stderr")).unwrap());
        let st = cmd.status().unwrap();
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        if let Ok(pid) = text.trim().parse::<i32>() {
            watch(pid);
            c.pids.borrow_mut().push(pid);
        }
        assert!(st.success(), "{tag}: create failed ({st}): {:?}", c.file("stderr"));
        c.ok(&["start", &c.id]);
        let lines = c.wait_shared("out");
        let opts = |at: &str| -> Vec<String> {
            let line = lines.lines().find(|l| l.split_whitespace().nth(1) == Some(at));
            let line = line.unwrap_or_else(|| panic!("{tag}: no {at} in {lines:?}"));
            line.split_whitespace().nth(3).unwrap().split(',').map(str::to_owned).collect()
        };
        let shared = opts("/shared");
        for want in ["rw", "nosuid", "nodev", "noexec", "noatime", "nosymfollow"] {
            assert!(shared.iter().any(|o| o == want), "{tag}: /shared is mounted {shared:?}, without {want}");
        }
        // strictatime is the absence of relatime and noatime.
        let scratch = opts("/scratch");
        assert!(scratch.iter().any(|o| o == "nodiratime"), "{tag}: /scratch is mounted {scratch:?}");
        assert!(!scratch.iter().any(|o| o == "relatime" || o == "noatime"), "{tag}: /scratch is {scratch:?}");
        let pid: i32 = text.trim().parse().unwrap();
        assert_eq!(wait_exit(pid, WAIT), 0);
        c.ok(&["delete", &c.id]);
        c.assert_gone();
    }
}

/// `linux.devices` (Kubernetes' device plugins, a privileged container's host nodes):
/// each node is made in the container's /dev with its type, numbers, mode and owner,
/// directories included; one tinyctr made already (/dev/null) is replaced, as runc
/// replaces it. A path outside
/// /dev, and a device without numbers, are refused by name. (They were ignored.)
#[test]
fn linux_devices_are_made_in_dev() {
    let prog = "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse /dev/dri/card9 /dev/myfifo /dev/null > /shared/out.tmp; \
                mv /shared/out.tmp /shared/out";
    let Some(mut c) = Case::new("devnodes", &["sh", "-c", prog]) else { return };
    c.config["linux"]["devices"] = json!([
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o660, "uid": 1000, "gid": 1000},
        {"path": "/dev/dri/card9", "type": "c", "major": 226, "minor": 9},
        {"path": "/dev/myfifo", "type": "p"},
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600},
    ]);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let out = c.wait_shared("out");
    let want = "/dev/fuse character special file a:e5 660 1000:1000\n\
                /dev/dri/card9 character special file e2:9 666 0:0\n\
                /dev/myfifo fifo 0:0 666 0:0\n\
                /dev/null character special file 1:3 600 0:0\n";
    assert_eq!(out, want);
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
    // runc makes a node anywhere in the rootfs (through the image's symlinks, with its
    // own checks); tinyctr only in its /dev.
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    for (devices, words) in [
        (json!([{"path": "/etc/evil", "type": "c", "major": 1, "minor": 3}]), "linux.devices[0].path"),
        (json!([{"path": "/dev/../etc/x", "type": "c", "major": 1, "minor": 3}]), "linux.devices[0].path"),
        (json!([{"path": "/dev/x", "type": "c", "major": 1}]), "major and minor"),
        (json!([{"path": "/dev/x", "type": "x", "major": 1, "minor": 3}]), "linux.devices[0].type"),
    ] {
        c.config["linux"]["devices"] = devices;
        c.write_config();
        let st = c.create_as(&c.id, "init.pid");
        assert!(!st.success(), "create accepted {}", c.config["linux"]["devices"]);
        let e = c.log_error();
        assert!(e.contains(words), "{e:?} does not name {words}");
        assert!(
            !c.rt.root.join(&c.id).exists() && cgroup_dirs(&c.cgroup).is_empty(),
            "the refused create left something"
        );
    }
}

/// A config.json without a mount namespace is refused: the init sets the root up in its
/// own mount namespace, and without a new one it pivoted the caller's (the host's root,
/// found in this session). The create runs inside `unshare --mount`, so that a
/// regression cannot reach the machine running the tests.
#[test]
fn a_config_without_a_mount_namespace_is_refused() {
    let Some(mut c) = Case::new("nomnt", &["true"]) else { return };
    c.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "mount");
    c.write_config();
    let b = c.bundle.to_str().unwrap().to_owned();
    let p = c.path("init.pid");
    let create = c.rt.command(&["create", "--bundle", &b, "--pid-file", p.to_str().unwrap(), &c.id]);
    let st = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private"])
        .arg(create.get_program())
        .args(create.get_args())
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(c.path("stdout")).unwrap())
        .stderr(std::fs::File::create(c.path("stderr")).unwrap())
        .status()
        .unwrap();
    if let Ok(pid) = std::fs::read_to_string(&p).unwrap_or_default().trim().parse::<i32>() {
        watch(pid);
        c.pids.borrow_mut().push(pid);
    }
    assert!(!st.success(), "create without a mount namespace succeeded");
    if std::env::var("TINYCTR_OCI_RUNTIME").is_err() {
        assert!(c.log_error().contains("no \"mount\" namespace"), "{}", c.log_error());
    }
    assert!(!p.exists(), "a pid file was written");
    assert!(!c.rt.root.join(&c.id).exists() && cgroup_dirs(&c.cgroup).is_empty(), "the refused create left something");
    c.assert_gone();
}

/// `hostname` without a UTS namespace of the container's is refused: sethostname would
/// have renamed the caller's machine (found in this session). Inside `unshare --uts`, so
/// that a regression renames nothing but that namespace.
#[test]
fn a_hostname_without_a_uts_namespace_is_refused() {
    let Some(mut c) = Case::new("nouts", &["true"]) else { return };
    c.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "uts");
    c.config["hostname"] = json!("renamed-by-tinyctr");
    c.write_config();
    let b = c.bundle.to_str().unwrap().to_owned();
    let p = c.path("init.pid");
    let create = c.rt.command(&["create", "--bundle", &b, "--pid-file", p.to_str().unwrap(), &c.id]);
    let create = format!(
        "'{}' {} </dev/null >'{}' 2>&1; echo $?; hostname",
        create.get_program().to_str().unwrap(),
        create.get_args().map(|a| format!("'{}'", a.to_str().unwrap())).collect::<Vec<_>>().join(" "),
        c.path("stdout").display()
    );
    let out = std::process::Command::new("unshare").args(["--uts", "sh", "-c", &create]).output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Ok(pid) = std::fs::read_to_string(&p).unwrap_or_default().trim().parse::<i32>() {
        watch(pid);
        c.pids.borrow_mut().push(pid);
        let _ = c.rt.run(&["delete", "--force", &c.id]);
    }
    let mut lines = out.lines();
    assert_ne!(lines.next(), Some("0"), "create with a hostname and no uts namespace succeeded");
    assert_ne!(lines.next(), Some("renamed-by-tinyctr"), "the caller's hostname was changed");
    if std::env::var("TINYCTR_OCI_RUNTIME").is_err() {
        assert!(c.log_error().contains("no \"uts\" namespace"), "{}", c.log_error());
    }
    c.assert_gone();
}

/// `process.user.umask` is the program's umask (it was parsed and dropped).
#[test]
fn the_umask_is_the_configs() {
    let Some(mut c) =
        Case::new("umask", &["sh", "-c", "umask > /shared/out.tmp; touch /shared/f; mv /shared/out.tmp /shared/out"])
    else {
        return;
    };
    c.config["process"]["user"]["umask"] = json!(0o077);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("out"), "0077\n");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(c.shared("f")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a file the program made: {mode:o}");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// Host mounts made for a test, lazily unmounted in reverse order when it ends (even on
/// a failed assertion).
struct HostMounts(Vec<PathBuf>);

impl HostMounts {
    fn run(&mut self, args: &[&str], target: &Path) {
        let st = std::process::Command::new("mount").args(args).arg(target).status().unwrap();
        assert!(st.success(), "mount {args:?} {target:?}: {st}");
        self.0.push(target.to_owned());
    }
}

impl Drop for HostMounts {
    fn drop(&mut self) {
        for t in self.0.iter().rev() {
            let _ = std::process::Command::new("umount").arg("-l").arg(t).status();
        }
    }
}

/// mountPropagation HostToContainer as CRI writes it: `rootfsPropagation` rslave and
/// a bind with `rslave`. A mount the host makes below the bind's source after start
/// appears in the container (with private propagation it would not).
#[test]
fn an_rslave_bind_sees_what_the_host_mounts_later() {
    let prog = "for i in $(seq 400); do [ -e /shared/sub/marker ] && { echo seen > /shared/out; exit 0; }; \
                sleep 0.02; done; echo unseen > /shared/out";
    let Some(mut c) = Case::new("rslave", &["sh", "-c", prog]) else { return };
    // This host's mounts are private (no systemd): the source is made a shared mount of
    // its own, as a kubelet's volume directories are.
    let mut host = HostMounts(Vec::new());
    let shared = c.shared.clone();
    host.run(&["--bind", shared.to_str().unwrap()], &shared);
    host.run(&["--make-shared"], &shared);
    std::fs::create_dir(shared.join("sub")).unwrap();
    c.config["linux"]["rootfsPropagation"] = json!("rslave");
    let m = c.config["mounts"].as_array_mut().unwrap().last_mut().unwrap();
    assert_eq!(m["destination"], "/shared");
    m["options"] = json!(["rbind", "rw", "rslave"]);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    host.run(&["-t", "tmpfs", "tmpfs"], &shared.join("sub"));
    std::fs::write(shared.join("sub/marker"), "").unwrap();
    assert_eq!(c.wait_shared("out"), "seen\n", "the host's new mount did not reach the container");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    drop(host);
    c.assert_gone();
}

/// mountPropagation Bidirectional as CRI writes it (a CSI driver's): `rootfsPropagation`
/// rshared and a bind with `rshared` of a shared host directory. A mount the container
/// makes below the bind reaches the host, and nothing else does: not its root, proc,
/// /dev or masks, and no host mount is lost when the old root is detached (its mounts
/// are peers of the host's; unmounting them unmounts the host's unless they are made
/// slaves first). In a mount namespace of the test's own whose mounts are all shared,
/// as a systemd host's are, so that a regression unmounts only there.
#[test]
fn an_rshared_bind_takes_the_containers_mounts_to_the_host() {
    let prog =
        "mkdir -p /shared/inner && mount -t tmpfs tm /shared/inner && echo hi > /shared/inner/f && touch /shared/done";
    let Some(mut c) = Case::new("rshared", &["sh", "-c", prog]) else { return };
    c.config["linux"]["rootfsPropagation"] = json!("rshared");
    let m = c.config["mounts"].as_array_mut().unwrap().last_mut().unwrap();
    assert_eq!(m["destination"], "/shared");
    m["options"] = json!(["rbind", "rw", "rshared"]);
    for set in ["bounding", "effective", "permitted"] {
        c.config["process"]["capabilities"][set].as_array_mut().unwrap().push(json!("CAP_SYS_ADMIN"));
    }
    c.write_config();
    let cmd = |args: &[&str]| {
        let c = c.rt.command(args);
        let mut words = vec![c.get_program().to_str().unwrap().to_owned()];
        words.extend(c.get_args().map(|a| a.to_str().unwrap().to_owned()));
        words.join(" ")
    };
    let (b, p, d, out) = (c.bundle.display(), c.path("init.pid"), c.shared.display(), c.path("sandbox"));
    std::fs::create_dir(&out).unwrap();
    let out = out.display();
    let script = format!(
        "mount --bind {d} {d} && mount --make-shared {d} || exit 9\n\
         awk '{{print $5}}' /proc/self/mountinfo | sort > {out}/before\n\
         {create} </dev/null >{out}/create 2>&1 || exit 10\n\
         {start} || exit 11\n\
         for i in $(seq 250); do [ -e {d}/done ] && break; sleep 0.02; done\n\
         cat {pid_file} > {out}/pid; cat {d}/inner/f > {out}/f 2>&1\n\
         {delete} --force {id}\n\
         awk '{{print $5}}' /proc/self/mountinfo | sort > {out}/after\n\
         umount {d}/inner; umount {d}\n",
        create = cmd(&["create", "--bundle", &b.to_string(), "--pid-file", p.to_str().unwrap(), &c.id]),
        start = cmd(&["start", &c.id]),
        delete = cmd(&["delete"]),
        id = c.id,
        pid_file = p.display(),
    );
    let st = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "shared", "sh", "-c", &script])
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    if let Ok(pid) = c.file("sandbox/pid").trim().parse::<i32>() {
        watch(pid);
        c.pids.borrow_mut().push(pid);
        assert_eq!(wait_exit(pid, WAIT), 0);
    }
    assert!(st.success(), "the sandbox's script: {st}; create said {:?}", c.file("sandbox/create"));
    assert_eq!(c.file("sandbox/f"), "hi\n", "the container's mount did not reach the host");
    // Every host mount is still there, and what is new is the container's mount, once
    // per host mount that shows the directory: the source's bind and, since a bind
    // of a shared mount is its peer, the mount it was made from (`/` here), as with runc.
    let (before, after) = (c.file("sandbox/before"), c.file("sandbox/after"));
    let mut new: Vec<&str> = after.lines().collect();
    for m in before.lines() {
        let i = new.iter().position(|&n| n == m).unwrap_or_else(|| panic!("the host lost its mount {m}"));
        new.remove(i);
    }
    let inner = format!("{d}/inner");
    assert!(!new.is_empty() && new.iter().all(|&n| n == inner), "new host mounts: {new:?}");
    c.assert_gone();
}

/// A program that does not exist: create fails (runc: `exec: "/nonexistent": stat ...`)
/// or start does or init exits 127 — in every case the words name it and nothing is
/// left after delete --force.
#[test]
fn missing_program_is_reported_and_leaves_nothing() {
    let Some(c) = Case::new("noprog", &["/nonexistent"]) else { return };
    let st = c.create_as(&c.id, "init.pid");
    let how = if !st.success() {
        let e = c.log_error();
        assert!(e.contains("/nonexistent"), "create's error does not name the program: {e:?}");
        assert!(cgroup_dirs(&c.cgroup).is_empty(), "failed create left its cgroup");
        assert!(!c.rt.root.join(&c.id).exists(), "failed create left its state");
        format!("create failed: {e}")
    } else {
        let pid: i32 = c.file("init.pid").trim().parse().unwrap();
        let o = c.rt.run(&["start", &c.id]);
        if !o.status.success() {
            let e = c.log_error();
            assert!(e.contains("/nonexistent"), "start's error does not name the program: {e:?}");
            format!("start failed: {e}")
        } else {
            assert_eq!(wait_exit(pid, WAIT), 127);
            assert!(c.file("stderr").contains("/nonexistent"), "stderr: {:?}", c.file("stderr"));
            format!("init exited 127: {}", c.file("stderr"))
        }
    };
    eprintln!("missing program: {how}");
    let _ = c.rt.run(&["delete", "--force", &c.id]);
    c.assert_gone();
}

/// A config.json over 1 MB (20,000 environment variables, 2,000 annotations): create
/// either works (and the program sees the last variable) or fails cleanly.
#[test]
fn a_1mb_config_works_or_fails_cleanly() {
    let Some(mut c) = Case::new("big", &["sh", "-c", "echo \"$VAR_19999\" > /shared/out; sleep 1000"]) else {
        return;
    };
    let env = c.config["process"]["env"].as_array_mut().unwrap();
    for i in 0..20_000 {
        env.push(json!(format!("VAR_{i}=value {i} \"quoted\" é")));
    }
    let notes: serde_json::Map<String, Value> =
        (0..2_000).map(|i| (format!("io.example/note-{i}"), json!("x".repeat(200)))).collect();
    c.config["annotations"] = Value::Object(notes);
    c.write_config();
    let size = std::fs::metadata(c.bundle.join("config.json")).unwrap().len();
    assert!(size > 1_000_000, "{size}");
    let st = c.create_as(&c.id, "init.pid");
    if !st.success() {
        let e = c.log_error();
        eprintln!("1 MB config refused: {e}");
        assert!(!c.rt.root.join(&c.id).exists() && cgroup_dirs(&c.cgroup).is_empty(), "refusal left state");
        return;
    }
    let pid: i32 = c.file("init.pid").trim().parse().unwrap();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("out"), "value 19999 \"quoted\" é\n");
    let s = c.rt.state(&c.id).unwrap();
    if let Some(a) = s.get("annotations").filter(|a| !a.is_null()) {
        assert_eq!(a["io.example/note-1999"], json!("x".repeat(200)), "state's annotations");
    }
    c.ok(&["delete", "--force", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 137);
    c.assert_gone();
}

/// `ps --format json ID` prints a JSON array of the container's host pids: init's, and
/// an exec'd process's; `-f json` is the same (runc's short form; delete's `-f` stays
/// `--force`).
#[test]
fn ps_lists_host_pids_as_json() {
    let prog = wait_for_go(0);
    let Some(c) = Case::new("ps", &["sh", "-c", &prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let out = c.ok(&["ps", "--format", "json", &c.id]);
    let v: Vec<i64> = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("ps output {out:?}: {e}"));
    assert!(v.contains(&(pid as i64)), "ps {v:?} lacks init {pid}");
    let epid = c.exec("sleeper", &["sleep", "1000"]);
    for format in [["--format", "json"], ["-f", "json"]] {
        let out = c.ok(&["ps", format[0], format[1], &c.id]);
        let v: Vec<i64> = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("ps {format:?}: {out:?}: {e}"));
        assert!(v.contains(&(pid as i64)) && v.contains(&(epid as i64)), "ps {v:?} lacks init {pid} or exec {epid}");
    }
    c.ok(&["delete", "-f", &c.id]);
    c.assert_gone();
}

/// `exec --process F --detach --pid-file P ID` adds a process in the container's
/// namespaces and cgroup, re-parented to the subreaper (so the shim gets its status),
/// on exec's own stdio (not init's).
#[test]
fn exec_joins_the_container() {
    let prog = wait_for_go(0);
    let Some(c) = Case::new("exec", &["sh", "-c", &prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let epid = c.exec(
        "e1",
        &["sh", "-c", "echo exec-out; echo exec-err >&2; while [ ! -e /shared/go2 ]; do sleep 0.02; done; exit 5"],
    );
    assert!(wait_until(WAIT, || c.file("exec.out") == "exec-out\n"), "exec's stdout: {:?}", c.file("exec.out"));
    assert_eq!(c.file("exec.err"), "exec-err\n");
    assert_eq!(ppid(epid), Some(std::process::id() as i32), "exec'd process not re-parented to the subreaper");
    for n in ["mnt", "uts", "ipc", "net", "pid", "cgroup"] {
        assert_eq!(
            ns(&epid.to_string(), n),
            ns(&pid.to_string(), n),
            "the exec'd process is not in init's {n} namespace"
        );
    }
    let cg = |p: i32| std::fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap();
    assert_eq!(cg(epid), cg(pid), "the exec'd process is not in init's cgroups");
    let procs = c.procs();
    assert!(procs.contains(&epid), "{procs:?}");
    assert_eq!(c.file("stdout"), "hello\n", "exec wrote to init's stdout");
    std::fs::write(c.shared("go2"), "").unwrap();
    assert_eq!(wait_exit(epid, WAIT), 5, "the exec'd process's status, as the subreaper sees it");
    assert_eq!(c.status(), "running", "init must not be affected by the exec'd process's exit");
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// pause freezes every process (state `paused`, a counter stops), resume thaws them,
/// and delete --force of a paused container still removes it.
#[test]
fn pause_resume_and_force_delete_paused() {
    let prog = "i=0; while :; do i=$((i+1)); echo $i > /shared/count.tmp; mv /shared/count.tmp /shared/count; \
                sleep 0.02; done";
    let Some(c) = Case::new("pause", &["sh", "-c", prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("count");
    let count = || std::fs::read_to_string(c.shared("count")).unwrap_or_default().trim().parse::<u64>().unwrap_or(0);
    c.ok(&["pause", &c.id]);
    assert_eq!(c.status(), "paused");
    let a = count();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(), a, "the container ran while paused");
    c.ok(&["resume", &c.id]);
    assert_eq!(c.status(), "running");
    assert!(wait_until(WAIT, || count() > a + 2), "the container did not run after resume");
    c.ok(&["pause", &c.id]);
    c.ok(&["delete", "--force", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 137, "init after delete --force of a paused container");
    c.assert_gone();
}

/// `features` prints one JSON object with the OCI versions (containerd 2.x calls it);
/// `spec --bundle B` writes a config.json it would run, and refuses to overwrite it.
#[test]
fn features_and_spec() {
    let Some(c) = Case::new("feat", &["true"]) else { return };
    let out = c.ok(&["features"]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("features is not JSON ({e}): {out:?}"));
    assert!(v["ociVersionMin"].is_string() && v["ociVersionMax"].is_string(), "{v}");
    let b = c.path("specb");
    std::fs::create_dir(&b).unwrap();
    c.ok(&["spec", "--bundle", b.to_str().unwrap()]);
    let text = std::fs::read_to_string(b.join("config.json")).unwrap();
    let s: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("spec's config.json ({e}): {text}"));
    assert_eq!(s["process"]["args"], json!(["sh"]), "{s}");
    assert_eq!(s["root"]["path"], "rootfs", "{s}");
    let o = c.rt.run(&["spec", "--bundle", b.to_str().unwrap()]);
    assert!(!o.status.success(), "spec overwrote an existing config.json");
    assert_eq!(std::fs::read_to_string(b.join("config.json")).unwrap(), text);
}

/// An option another command takes is refused, as runc refuses it, naming it and the
/// command (it was accepted and ignored: `state --force`, `create --tty`); the global
/// ones go anywhere.
#[test]
fn each_command_takes_its_own_options() {
    let Some(c) = Case::new("opts", &["true"]) else { return };
    for (args, want) in [
        (&["state", "--force", "x"][..], "'--force' is not an option of state"),
        (&["create", "--tty", "--bundle", "/nonexistent", "x"], "'--tty' is not an option of create"),
        (&["kill", "--detach", "x"], "'--detach' is not an option of kill"),
        (&["delete", "--process", "p", "x"], "'--process' is not an option of delete"),
    ] {
        let o = c.rt.run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        if runtime().contains("tinyctr") {
            assert!(c.log_error().contains(want), "{args:?}: {}", c.log_error());
        }
    }
    let o = c.rt.run(&["state", "--log-format=json", "nope"]);
    assert!(!o.status.success() && c.log_error().contains("does not exist"), "{}", c.log_error());
}

/// The pty master sent over `--console-socket` (one message, one SCM_RIGHTS fd), as
/// the shim receives it: accepted only after `create` returned.
fn recv_console(listener: &std::os::unix::net::UnixListener) -> (std::fs::File, usize) {
    use rustix::fd::IntoRawFd;
    use rustix::io::IoSliceMut;
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    use std::mem::MaybeUninit;
    use std::os::fd::{AsRawFd, FromRawFd};
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + WAIT;
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("nothing connected to the console socket: {e}"),
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut buf = [0u8; 4096];
    // SAFETY: `stream` outlives the borrow (rustix without std has its own fd types).
    let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(stream.as_raw_fd()) };
    let r = rustix::net::recvmsg(fd, &mut [IoSliceMut::new(&mut buf)], &mut anc, RecvFlags::CMSG_CLOEXEC)
        .expect("recvmsg on the console socket");
    let mut fds: Vec<rustix::fd::OwnedFd> = Vec::new();
    for m in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(f) = m {
            fds.extend(f);
        }
    }
    assert_eq!(fds.len(), 1, "the console socket message must carry exactly one fd (got {})", fds.len());
    // SAFETY: the fd was just received and is owned by nothing else.
    (unsafe { std::fs::File::from_raw_fd(fds.pop().unwrap().into_raw_fd()) }, r.bytes)
}

/// `create --console-socket PATH` with process.terminal: the runtime connects to the
/// shim's listener and sends the pty master; the program's stdin/stdout are the pty
/// (`tty` prints /dev/pts/N), of process.consoleSize's size (`ctr run -t` sets it from
/// its terminal) from the start, its output arrives on the master, and its status
/// reaches the subreaper.
#[test]
fn console_socket_passes_the_pty_master() {
    let prog = "tty; [ -t 0 ] && echo stdin-is-a-tty; echo size $(stty size); exit 3";
    let Some(mut c) = Case::new("console", &["sh", "-c", prog]) else {
        return;
    };
    c.config["process"]["terminal"] = json!(true);
    c.config["process"]["consoleSize"] = json!({"height": 33, "width": 111});
    c.write_config();
    let sock = c.path("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let b = c.bundle.to_str().unwrap().to_owned();
    let pf = c.path("init.pid");
    let st = c.rt.run_stdio(
        &[
            "create",
            "--bundle",
            &b,
            "--pid-file",
            pf.to_str().unwrap(),
            "--console-socket",
            sock.to_str().unwrap(),
            &c.id,
        ],
        &c.path("stdout"),
        &c.path("stderr"),
    );
    let pid: i32 = c.file("init.pid").trim().parse().unwrap_or(0);
    if pid > 0 {
        watch(pid);
        c.pids.borrow_mut().push(pid);
    }
    assert!(st.success(), "create --console-socket failed: {:?}, stderr {:?}", c.rt.last_error(), c.file("stderr"));
    let (master, bytes) = recv_console(&listener);
    assert!(bytes < 4096, "{bytes}");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut out = Vec::new();
        let mut master = master;
        let mut buf = [0u8; 1024];
        // EIO once the last slave fd is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    });
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 3, "init's status with a terminal");
    let t = Instant::now();
    while !reader.is_finished() && t.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(reader.is_finished(), "the pty master never saw EOF/EIO: a slave fd leaked outside the container");
    let out = reader.join().unwrap();
    assert!(out.contains("/dev/pts/") && out.contains("stdin-is-a-tty"), "output on the pty master: {out:?}");
    assert!(out.contains("size 33 111"), "the terminal is not consoleSize's size: {out:?}");
    assert_eq!(c.file("stdout"), "", "with a terminal nothing goes to create's stdout");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// `update --resources -` (LinuxResources JSON on stdin, as the shim sends `task
/// update`) and `--resources FILE` change the running container's memory, cpu and pids
/// limits in its cgroups; a bad document changes nothing and names the bad value.
#[test]
fn update_changes_limits() {
    let Some(mut c) = Case::new("update", &["sleep", "1000"]) else { return };
    // swap is memory plus swap, as runc reads it: 128 MiB in all, 64 MiB of it swap.
    c.config["linux"]["resources"]["memory"] = json!({"limit": 67108864, "swap": 134217728});
    c.config["linux"]["resources"]["pids"] = json!({"limit": 100});
    c.config["linux"]["resources"]["cpu"] = json!({"shares": 1024});
    c.write_config();
    c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.memory_limit().unwrap(), "67108864");
    let swap = cgroup_file(&c.cgroup, "memory.memsw.limit_in_bytes").or_else(|| {
        cgroup_file(&c.cgroup, "memory.swap.max").map(|s| (s.trim().parse::<u64>().unwrap() + 67108864).to_string())
    });
    assert_eq!(swap.expect("swap is not accounted here").trim(), "134217728", "memory plus swap");
    let doc =
        r#"{"memory":{"limit":134217728},"cpu":{"shares":512,"quota":50000,"period":100000},"pids":{"limit":50}}"#;
    let mut child =
        c.rt.command(&["update", "--resources", "-", &c.id])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(doc.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "update: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(c.memory_limit().unwrap(), "134217728");
    assert_eq!(cgroup_file(&c.cgroup, "pids.max").unwrap().trim(), "50");
    match cgroup_file(&c.cgroup, "cpu.shares") {
        Some(shares) => {
            assert_eq!(shares.trim(), "512");
            assert_eq!(cgroup_file(&c.cgroup, "cpu.cfs_quota_us").unwrap().trim(), "50000");
        }
        None => assert_eq!(cgroup_file(&c.cgroup, "cpu.max").unwrap().trim(), "50000 100000"),
    }
    let bad = c.dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"memory":{"limit":"lots"}}"#).unwrap();
    let e = c.fails(&["update", "--resources", bad.to_str().unwrap(), &c.id]);
    assert!(e.contains("memory.limit"), "{e:?}");
    assert_eq!(c.memory_limit().unwrap(), "134217728");
    c.ok(&["delete", "--force", &c.id]);
    c.assert_gone();
}

/// The cgroupsPath is the container's cgroup in every hierarchy, also where config.json
/// sets no limit: Kubernetes' pod cgroup above it holds the pod's memory and pids
/// limits, and on v1 a hierarchy the init is not put in leaves it in the caller's cgroup
/// there (the shim's), outside those limits. (Until this was fixed, a container with
/// only a memory limit had its pids and cpu in the caller's cgroups.)
#[test]
fn the_cgroups_path_is_joined_in_every_hierarchy() {
    let Some(mut c) = Case::new("everyh", &["sleep", "1000"]) else { return };
    c.config["linux"]["resources"] = json!({"memory": {"limit": 67108864}});
    c.write_config();
    let pid = c.create();
    let ours = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let init = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let mut checked = 0;
    for line in ours.lines() {
        let (id_ctls, _) = line.rsplit_once(':').unwrap();
        let ctls = id_ctls.split_once(':').unwrap().1;
        // Every hierarchy mounted here, as runc joins them: the limits' ones, v2's, and
        // cpuacct, blkio, freezer, devices, name=systemd and the like (a named one other
        // than systemd's is nobody's business).
        let joined = match ctls {
            "" => hierarchies().iter().any(|h| h.join("cgroup.controllers").exists()),
            _ if ctls.starts_with("name=") && ctls != "name=systemd" => false,
            _ => v1_mounted(ctls),
        };
        if !joined {
            continue;
        }
        let theirs = init.lines().find(|l| l.rsplit_once(':').unwrap().0 == id_ctls);
        assert_eq!(theirs, Some(&*format!("{id_ctls}:{}", c.cgroup)), "init's cgroups:\n{init}");
        checked += 1;
    }
    assert!(checked >= 1, "no hierarchy checked: {ours}");
    // Hence update can set a limit create had none of.
    let doc = c.dir.path().join("res.json");
    std::fs::write(&doc, r#"{"pids":{"limit":50},"cpu":{"shares":512}}"#).unwrap();
    c.ok(&["update", "--resources", doc.to_str().unwrap(), &c.id]);
    assert_eq!(cgroup_file(&c.cgroup, "pids.max").unwrap().trim(), "50");
    let weight = cgroup_file(&c.cgroup, "cpu.shares").or_else(|| cgroup_file(&c.cgroup, "cpu.weight"));
    assert!(matches!(weight.as_deref().map(str::trim), Some("512" | "20")), "cpu: {weight:?}");
    assert_eq!(c.memory_limit().unwrap(), "67108864", "the update changed the memory limit it did not name");
    // Huge page limits: on a v1 hugetlb hierarchy (joined, as every one) they are set;
    // where hugetlb is v2 and create enabled it for none (this host: it would take the
    // hierarchy's root), refused by name, and nothing of that update is applied.
    std::fs::write(&doc, r#"{"pids":{"limit":60},"hugepageLimits":[{"pageSize":"2MB","limit":2097152}]}"#).unwrap();
    let o = c.rt.run(&["update", "--resources", doc.to_str().unwrap(), &c.id]);
    let file = format!("{}/hugetlb.2MB.limit_in_bytes", c.cgroup);
    if v1_mounted("hugetlb") && Path::new("/proc/sys/vm/nr_hugepages").exists() {
        assert!(o.status.success(), "update with hugepageLimits: {:?}", c.rt.last_error());
        assert_eq!(cgroup_file(&c.cgroup, "hugetlb.2MB.limit_in_bytes").unwrap().trim(), "2097152", "{file}");
    } else if std::env::var("TINYCTR_OCI_RUNTIME").is_err() {
        assert!(!o.status.success(), "update with hugepageLimits and no hugetlb cgroup succeeded");
        assert!(c.log_error().contains("no hugetlb cgroup"), "{}", c.log_error());
        assert_eq!(cgroup_file(&c.cgroup, "pids.max").unwrap().trim(), "50", "a refused update changed pids.max");
    }
    c.ok(&["delete", "--force", &c.id]);
    c.assert_gone();
}

/// config.json's `cgroup` mount at /sys/fs/cgroup (runc spec, docker and CRI put it
/// there; it was dropped: the container saw an empty directory, and a JVM or Go program
/// the host's memory and CPUs): each hierarchy this host mounts at its root is there,
/// read-only as asked, showing the container's own cgroup (the limits it was given; the
/// mount's root a prefix of the container's /proc/self/cgroup path, which is how the JVM
/// pairs them); writable without `ro`; absent when config.json has no such mount; an
/// option of another kind refused by name.
#[test]
fn the_cgroup_mount_shows_the_containers_own_cgroups() {
    let prog = "cat /proc/self/mountinfo > /shared/mi; cat /proc/self/cgroup > /shared/cg; \
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max > /shared/mem 2>/dev/null; \
        cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max > /shared/pids 2>/dev/null; \
        for f in /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max; do [ -e $f ] && echo 5 2>>/shared/err > $f; done; \
        touch /sys/fs/cgroup/x 2>>/shared/err; echo done > /shared/done";
    let cgroup_mount = |options: &[&str]| json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": options});
    let run = |tag: &str, mount: Option<Value>| -> Option<(String, String, String, String, String)> {
        let mut c = Case::new(tag, &["sh", "-c", prog])?;
        c.config["linux"]["resources"] = json!({"memory": {"limit": 67108864}, "pids": {"limit": 77}});
        if let Some(m) = mount {
            c.config["mounts"].as_array_mut().unwrap().push(m);
        }
        c.write_config();
        let pid = c.create();
        c.ok(&["start", &c.id]);
        c.wait_shared("done");
        assert_eq!(wait_exit(pid, WAIT), 0, "{tag}: stderr {:?}", c.file("stderr"));
        let read = |n: &str| std::fs::read_to_string(c.shared(n)).unwrap_or_default();
        let got = (read("mi"), read("cg"), read("mem"), read("pids"), read("err"));
        c.ok(&["delete", &c.id]);
        c.assert_gone();
        Some(got)
    };
    // (fstype, mount point, root, per-mount options, super options) of the cgroup mounts.
    fn cgroup_mounts(mi: &str) -> Vec<(String, String, String, String, String)> {
        mi.lines()
            .filter_map(|l| {
                let (pre, post) = l.split_once(" - ")?;
                let pre: Vec<&str> = pre.split(' ').collect();
                let post: Vec<&str> = post.split(' ').collect();
                (post[0] == "cgroup" || post[0] == "cgroup2").then(|| {
                    let s = |x: &str| x.to_owned();
                    (s(post[0]), s(pre[4]), s(pre[3]), s(pre[5]), s(post.get(2).copied().unwrap_or("")))
                })
            })
            .collect()
    }
    let ro = ["nosuid", "noexec", "nodev", "relatime", "ro"];
    let Some((mi, cg, mem, pids, err)) = run("cgfsro", Some(cgroup_mount(&ro))) else { return };
    let inside = cgroup_mounts(&mi);
    let sys = mi.lines().find(|l| l.split(' ').nth(4) == Some("/sys")).unwrap_or_default();
    assert!(sys.split(' ').nth(5).is_some_and(|o| o.starts_with("ro,")), "/sys with ro: {sys}");
    // What the host has: v1 hierarchies at their root (named ones only name=systemd),
    // and cgroup2.
    let host: Vec<_> = cgroup_mounts(&std::fs::read_to_string("/proc/self/mountinfo").unwrap())
        .into_iter()
        .filter(|(fs, _, root, _, sup)| {
            root == "/" && (fs == "cgroup2" || !sup.contains("name=") || sup.contains("name=systemd"))
        })
        .collect();
    let v1 = host.iter().any(|h| h.0 == "cgroup");
    for (fs, at, _, _, sup) in &host {
        let name = at.rsplit('/').next().unwrap();
        if fs == "cgroup2" && v1 && std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
            continue; // runc leaves a hybrid host's cgroup2 out
        }
        let want = match (fs.as_str(), v1) {
            ("cgroup2", false) => "/sys/fs/cgroup".to_owned(),
            _ => format!("/sys/fs/cgroup/{name}"),
        };
        let ctls = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .split(',')
                .filter(|w| !["rw", "ro", "xattr"].contains(w) && !w.starts_with("release_agent="))
                .map(str::to_owned)
                .collect();
            v.sort();
            v
        };
        let found = inside.iter().find(|m| m.1 == want && &m.0 == fs);
        let m = found.unwrap_or_else(|| panic!("no {fs} at {want} in the container:\n{mi}"));
        assert_eq!(ctls(&m.4), ctls(sup), "{want}: another hierarchy than the host's {at}");
        assert!(m.3.split(',').next() == Some("ro"), "{want} is mounted {}, not read-only", m.3);
        // The JVM's pairing: the container's cgroup of that hierarchy, as
        // /proc/self/cgroup shows it inside, is below the mount's root.
        let line = cg.lines().find(|l| {
            let (id_ctls, _) = l.rsplit_once(':').unwrap();
            let c = id_ctls.split_once(':').unwrap().1;
            if fs == "cgroup2" {
                c.is_empty()
            } else {
                ctls(c) == ctls(sup)
            }
        });
        let path = line
            .unwrap_or_else(|| panic!("no line for {at} in the container's /proc/self/cgroup:\n{cg}"))
            .rsplit_once(':')
            .unwrap()
            .1;
        assert!(
            path.starts_with(m.2.as_str()),
            "{want}: root {} is not a prefix of the container's cgroup {path}",
            m.2
        );
    }
    assert!(!inside.is_empty() && inside.iter().all(|m| m.1.starts_with("/sys/fs/cgroup")), "{inside:?}");
    // Through the mounts, the container's own limits.
    assert_eq!(mem.split_whitespace().next(), Some("67108864"), "memory limit read inside: {mem:?}");
    assert_eq!(pids.split_whitespace().next(), Some("77"), "pids limit read inside: {pids:?}");
    // The limit file, and (tinyctr: runc leaves its tmpfs writable) a new file.
    let refused = if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() { 1 } else { 2 };
    assert_eq!(err.matches("Read-only file system").count(), refused, "writes inside: {err:?}");

    if std::env::var("TINYCTR_OCI_RUNTIME").is_err() {
        // Without `ro`, read-write: a privileged pod's, whose sysfs CRI mounts without
        // `ro` too (kube-proxy writes /sys/module). (It was read-only whatever the config
        // said.) The per-mount flag is what is checked.
        let sysfs = json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "rw"]});
        let Some(mut c) = Case::new("cgfsrw", &["sh", "-c", "cat /proc/self/mountinfo > /shared/mi"]) else { return };
        for m in c.config["mounts"].as_array_mut().unwrap().iter_mut().filter(|m| m["destination"] == "/sys") {
            *m = sysfs.clone();
        }
        c.config["mounts"].as_array_mut().unwrap().push(cgroup_mount(&["nosuid", "noexec", "nodev"]));
        c.write_config();
        let pid = c.create();
        c.ok(&["start", &c.id]);
        assert_eq!(wait_exit(pid, WAIT), 0, "cgfsrw: stderr {:?}", c.file("stderr"));
        let mi = c.wait_shared("mi");
        c.ok(&["delete", &c.id]);
        c.assert_gone();
        let rw = cgroup_mounts(&mi);
        assert!(!rw.is_empty() && rw.iter().all(|m| m.3.starts_with("rw,")), "{rw:?}");
        let sys = mi.lines().find(|l| l.split(' ').nth(4) == Some("/sys")).unwrap_or_default();
        assert!(
            sys.split(' ').nth(5).is_some_and(|o| o.starts_with("rw,")) && sys.contains(" - sysfs sysfs rw"),
            "/sys: {sys}"
        );
    }
    // No such mount in config.json (ctr run's spec): none.
    let Some((mi, ..)) = run("cgfsnone", None) else { return };
    assert!(cgroup_mounts(&mi).is_empty(), "a cgroup mount config.json did not ask for:\n{mi}");

    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    let Some(mut c) = Case::new("cgfsbad", &["true"]) else { return };
    let mounts = c.config["mounts"].as_array_mut().unwrap();
    mounts.push(cgroup_mount(&["ro", "memory"]));
    let i = mounts.len() - 1;
    c.write_config();
    let st = c.create_as(&c.id, "init.pid");
    assert!(!st.success(), "a cgroup mount with data options was accepted");
    let e = c.log_error();
    assert!(e.contains(&format!("mounts[{i}]")) && e.contains("'memory' is not a cgroup mount option"), "{e}");
    assert!(
        !c.rt.root.join(&c.id).exists() && cgroup_dirs(&c.cgroup).is_empty(),
        "a refused create left state or cgroups"
    );
}

/// The cgroup namespace is the one config.json asks for: none listed (`ctr run`, docker
/// on a v1 host), the runtime's own, as the spec says (the container always had a new
/// one), with /proc/self/cgroup naming the host's paths and the `cgroup` mount still
/// showing the container's cgroup, its root that path (what runc's binds show); listed,
/// a new one rooted there; listed with a path, that one.
#[test]
fn the_cgroup_namespace_is_the_configs() {
    let prog = "{ grep -E '^[0-9]+:(memory)?:' /proc/self/cgroup | sort | tail -1 | cut -d: -f3; \
        grep -E ' /sys/fs/cgroup(/memory)? ' /proc/self/mountinfo | grep -v ' - tmpfs ' | cut -d' ' -f4; \
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; } > /shared/out.tmp; \
        mv /shared/out.tmp /shared/out; exec sleep 1000";
    let cgroup_mount = json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                              "options": ["ro", "nosuid", "nodev", "noexec"]});
    // (The container's memory cgroup as it names it, its cgroup mount's root, the limit
    // read there; its cgroup namespace.)
    let run = |tag: &str, ns_entry: Option<Value>| -> Option<(String, String)> {
        let mut c = Case::new(tag, &["sh", "-c", prog])?;
        c.config["linux"]["resources"] = json!({"memory": {"limit": 67108864}});
        c.config["mounts"].as_array_mut().unwrap().push(cgroup_mount.clone());
        if let Some(n) = ns_entry {
            c.config["linux"]["namespaces"].as_array_mut().unwrap().push(n);
        }
        c.write_config();
        let pid = c.create();
        c.ok(&["start", &c.id]);
        let out = c.wait_shared("out");
        let theirs = ns(&pid.to_string(), "cgroup");
        c.ok(&["delete", "--force", &c.id]);
        c.assert_gone();
        Some((out.replace(&c.cgroup, "CG"), theirs))
    };
    let ours = ns("self", "cgroup");
    let Some((out, theirs)) = run("cgnshost", None) else { return };
    assert_eq!(theirs, ours, "no cgroup namespace listed, yet the container has one of its own");
    assert_eq!(out, "CG\nCG\n67108864\n", "the host's path, the mount's root and the limit inside");
    let Some((out, theirs)) = run("cgnsnew", Some(json!({"type": "cgroup"}))) else { return };
    assert_ne!(theirs, ours, "a new cgroup namespace was listed");
    assert_eq!(out, "/\n/\n67108864\n");
    // Joined by path: a process of the host's in a cgroup namespace of its own.
    let mut other = Command::new("unshare").args(["-C", "sleep", "100"]).spawn().expect("unshare -C");
    let other_pid = other.id().to_string();
    assert!(wait_until(WAIT, || ns(&other_pid, "cgroup") != ours), "unshare -C made no cgroup namespace");
    let path = format!("/proc/{other_pid}/ns/cgroup");
    let joined = run("cgnsjoin", Some(json!({"type": "cgroup", "path": path})));
    let want = ns(&other_pid, "cgroup");
    let _ = other.kill();
    let _ = other.wait();
    let Some((_, theirs)) = joined else { return };
    assert_eq!(theirs, want, "the cgroup namespace named by path was not joined");
}

/// Whether the v1 hierarchy of `ctls` (as /proc/self/cgroup names it) is mounted at
/// its root here.
fn v1_mounted(ctls: &str) -> bool {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mi.lines().any(|l| {
        let Some((pre, post)) = l.split_once(" - ") else { return false };
        let post: Vec<&str> = post.split(' ').collect();
        let root = pre.split(' ').nth(3);
        post[0] == "cgroup" && root == Some("/") && ctls.split(',').all(|c| post[2].split(',').any(|o| o == c))
    })
}

/// A long cgroupsPath in every hierarchy: the state keeps each directory whole, so
/// `delete` removes them all (seven of 400 bytes did not fit the 2 KiB the list had);
/// and a last component longer than a file name is refused (it was cut to 79 bytes).
#[test]
fn a_long_cgroups_path_is_removed_whole() {
    let Some(mut c) = Case::new("longcg", &["true"]) else { return };
    let dir: String = std::iter::repeat_n("abcdefghij", 6).collect();
    let deep: Vec<String> = (0..6).map(|i| format!("{dir}{i}")).collect();
    c.cgroup = format!("{}/{}/{}", c.cgroup_parent, deep.join("/"), c.id);
    c.config["linux"]["cgroupsPath"] = json!(c.cgroup);
    c.write_config();
    let pid = c.create();
    assert!(cgroup_dirs(&c.cgroup).len() >= 2, "{:?}", cgroup_dirs(&c.cgroup));
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    let name: String = std::iter::repeat_n("abcdefghij", 26).collect();
    c.config["linux"]["cgroupsPath"] = json!(format!("{}/{name}", c.cgroup_parent));
    c.write_config();
    assert!(!c.create_as(&c.id, "init.pid").success(), "a 260-byte cgroup name was taken");
    assert!(c.log_error().contains("ENAMETOOLONG"), "{}", c.log_error());
    assert!(!c.rt.root.join(&c.id).exists(), "the refused create left its state");
}

/// CVE-2019-5736 on the OCI path: between create and start the container's init is
/// tinyctr itself, waiting. It must run from the sealed in-memory copy (not the file on
/// disk), which nobody can write to, not even the host's root; after start it is the
/// container's program. (tinyctr only; runc uses a cloned binary of its own.)
#[test]
fn created_init_runs_from_a_sealed_copy() {
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    let Some(c) = Case::new("sealed", &["true"]) else { return };
    let pid = c.create();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(exe.to_string_lossy().starts_with("/memfd:"), "the waiting init runs {exe:?}, not the sealed copy");
    let w = std::fs::OpenOptions::new().write(true).open(format!("/proc/{pid}/exe"));
    assert!(w.is_err(), "the sealed copy opened for writing");
    let append = std::fs::OpenOptions::new().append(true).open(format!("/proc/{pid}/exe"));
    assert!(append.is_err(), "the sealed copy opened for appending");
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A descriptor the caller leaves open without close-on-exec (the shim leaves one:
/// OCI.md §4) never reaches the container: it sees only 0, 1 and 2 (CVE-2024-21626's
/// class). Also for an exec'd process.
#[test]
fn leaked_descriptors_do_not_reach_the_container() {
    let prog = "ls /proc/self/fd > /shared/fds; while [ ! -e /shared/go ]; do sleep 0.02; done";
    let Some(c) = Case::new("leak", &["sh", "-c", prog]) else { return };
    let f = std::fs::File::open("/etc/hostname").unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: `f` is open and outlives the borrow (dropped at the end).
    let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(f.as_raw_fd()) };
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty()).unwrap();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("fds");
    // ls's own listing of /proc/self/fd is its 3.
    assert_eq!(c.wait_shared("fds").split_whitespace().collect::<Vec<_>>(), ["0", "1", "2", "3"]);
    let epid = c.exec("e1", &["sh", "-c", "ls /proc/self/fd > /shared/efds"]);
    assert_eq!(wait_exit(epid, WAIT), 0);
    assert_eq!(c.wait_shared("efds").split_whitespace().collect::<Vec<_>>(), ["0", "1", "2", "3"]);
    drop(f);
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// process.oomScoreAdj (CRI sets one per pod) reaches the container's processes; hooks
/// and sysctls, which tinyctr cannot honour yet, are refused by name and leave nothing.
#[test]
fn oom_score_adj_is_set_and_host_sysctls_are_refused() {
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    let Some(mut c) = Case::new("oomadj", &["sh", "-c", "cat /proc/self/oom_score_adj > /shared/adj"]) else {
        return;
    };
    // Positive: lowering it needs CAP_SYS_RESOURCE, which this host's bounding set lacks.
    c.config["process"]["oomScoreAdj"] = json!(500);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("adj").trim(), "500");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
    for (key, value, words) in [
        // A parameter of no namespace of the container's would change the host.
        ("linux.sysctl", json!({"vm.swappiness": "10"}), "\"vm.swappiness\" is not in a namespace"),
        ("linux.sysctl", json!({"net/../../../etc/passwd": "x"}), "is not a kernel parameter's name"),
        ("linux.sysctl", json!({"kernel.shmmni": "1"}), "\"kernel.shmmni\" needs the container's own namespace"),
    ] {
        if value.get("kernel.shmmni").is_some() {
            let ns = c.config["linux"]["namespaces"].as_array_mut().unwrap();
            ns.retain(|n| n["type"] != "ipc");
        }
        c.config["linux"]["sysctl"] = value;
        c.write_config();
        let st = c.create_as(&c.id, "refused.pid");
        assert!(!st.success(), "{key}: create succeeded");
        let e = c.log_error();
        assert!(e.contains(words), "{key}: {e:?}");
        c.assert_gone();
        c.config["linux"].as_object_mut().unwrap().remove("sysctl");
    }
}

/// `linux.sysctl` as CRI writes it for a pod: each value is set in the container's own
/// namespaces (read back inside) and the host's stay as they were.
#[test]
fn sysctls_are_set_in_the_containers_namespaces_only() {
    let host = |p: &str| std::fs::read_to_string(p).unwrap().trim().to_string();
    let (port, rmid) =
        (host("/proc/sys/net/ipv4/ip_unprivileged_port_start"), host("/proc/sys/kernel/shm_rmid_forced"));
    let prog = "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced \
                /proc/sys/net/core/somaxconn > /shared/sysctl";
    let Some(mut c) = Case::new("sysctl", &["sh", "-c", prog]) else { return };
    let want_rmid = if rmid == "1" { "0" } else { "1" };
    c.config["linux"]["sysctl"] = json!({
        "net.ipv4.ip_unprivileged_port_start": "0",
        "kernel.shm_rmid_forced": want_rmid,
        "net/core/somaxconn": "777",
    });
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("sysctl").split_whitespace().collect::<Vec<_>>(), ["0", want_rmid, "777"]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    assert_eq!(host("/proc/sys/net/ipv4/ip_unprivileged_port_start"), port, "the host's value changed");
    assert_eq!(host("/proc/sys/kernel/shm_rmid_forced"), rmid, "the host's value changed");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A network namespace `create` makes has `lo` up (the runtime brings it up from outside
/// while the init mounts); one joined by path is left as it is, as runc leaves it.
#[test]
fn loopback_is_up_in_a_new_network_namespace_and_untouched_in_a_joined_one() {
    let prog = "cat /sys/class/net/lo/flags > /shared/lo";
    let Some(c) = Case::new("lo-new", &["sh", "-c", prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("lo").trim(), "0x9", "lo is not UP|LOOPBACK");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();

    // A namespace of our own making, lo down, joined by path.
    struct Holder(std::process::Child);
    impl Drop for Holder {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let holder = Holder(std::process::Command::new("unshare").args(["--net", "sleep", "60"]).spawn().unwrap());
    let ns = format!("/proc/{}/ns/net", holder.0.id());
    while std::fs::read_link(&ns).ok() == std::fs::read_link("/proc/self/ns/net").ok() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let Some(mut c) = Case::new("lo-joined", &["sh", "-c", prog]) else { return };
    for n in c.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if n["type"] == "network" {
            n["path"] = json!(ns);
        }
    }
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let flags = c.wait_shared("lo");
    drop(holder);
    assert_eq!(flags.trim(), "0x8", "a joined namespace's lo was changed");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// `linux.seccomp` confines init and exec'd processes alike: containerd's default profile
/// with `mkdir` and `mkdirat` moved from its allow-list to a rule of their own (ERRNO 38,
/// ENOSYS), and noNewPrivileges off (the filter is then loaded while CAP_SYS_ADMIN is
/// still held, before the capabilities are dropped). Both processes see the errno and
/// `Seccomp: 2`; reads and writes the profile allows still work.
#[test]
fn seccomp_profile_confines_init_and_exec() {
    let ctr: Value = serde_json::from_str(include_str!("fixtures/oci/ctr-run-seccomp.json")).unwrap();
    let mut profile = ctr["linux"]["seccomp"].clone();
    let allowed = profile["syscalls"][0]["names"].as_array_mut().unwrap();
    allowed.retain(|n| n != "mkdir" && n != "mkdirat");
    profile["syscalls"]
        .as_array_mut()
        .unwrap()
        .push(json!({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}));
    let probe = |tag: &str| {
        format!(
            "if mkdir /shared/{tag}.d 2>/shared/{tag}.err; then echo made; else echo refused; fi > /shared/{tag}.tmp; \
             grep '^Seccomp:' /proc/self/status >> /shared/{tag}.tmp; mv /shared/{tag}.tmp /shared/{tag}"
        )
    };
    let prog = format!("{}; {}", probe("init"), wait_for_go(0));
    let Some(mut c) = Case::new("seccomp", &["sh", "-c", &prog]) else { return };
    c.config["linux"]["seccomp"] = profile;
    c.config["process"]["noNewPrivileges"] = json!(false);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("init"), "refused\nSeccomp:\t2\n");
    let err = std::fs::read_to_string(c.shared("init.err")).unwrap();
    assert!(err.contains("Function not implemented"), "mkdir's error: {err:?}");
    assert!(!c.shared("init.d").exists());
    let epid = c.exec("e1", &["sh", "-c", &probe("exec")]);
    assert_eq!(wait_exit(epid, WAIT), 0);
    assert_eq!(c.wait_shared("exec"), "refused\nSeccomp:\t2\n");
    let err = std::fs::read_to_string(c.shared("exec.err")).unwrap();
    assert!(err.contains("Function not implemented"), "exec'd mkdir's error: {err:?}");
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// linux.resources.devices (containerd's allow-list: deny all, then the usual nodes) on
/// a v1 host: the container joins the devices hierarchy with those rules, so it cannot
/// make (CAP_MKNOD notwithstanding) a node for a device outside the list, while it can
/// for one inside it, and /dev/null and /dev/zero work.
#[test]
fn device_allow_list_is_enforced_on_v1() {
    if !std::path::Path::new("/sys/fs/cgroup/devices/devices.list").exists() {
        eprintln!("device_allow_list_is_enforced_on_v1: no v1 devices hierarchy here");
        return;
    }
    // c 10:229 is /dev/fuse, not in the list; c 1:3 (null) is, with m.
    let prog = "mknod /tmp/fuse c 10 229 2> /shared/fuse; mknod /tmp/null c 1 3 && echo made > /shared/made; \
                head -c 4 /dev/zero | wc -c > /shared/zero; echo ok > /dev/null && echo ok > /shared/null";
    let Some(c) = Case::new("devices", &["sh", "-c", prog]) else { return };
    let pid = c.create();
    let list = cgroup_file(&c.cgroup, "devices.list").expect("no devices cgroup for the container");
    assert!(list.contains("c 1:3 rwm") && !list.contains("a *:* rwm"), "devices.list: {list:?}");
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    let fuse = std::fs::read_to_string(c.shared("fuse")).unwrap_or_default();
    assert!(fuse.contains("not permitted"), "mknod of c 10:229: {fuse:?}");
    assert_eq!(std::fs::read_to_string(c.shared("made")).unwrap_or_default().trim(), "made");
    assert_eq!(std::fs::read_to_string(c.shared("zero")).unwrap_or_default().trim(), "4");
    assert_eq!(std::fs::read_to_string(c.shared("null")).unwrap_or_default().trim(), "ok");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A stopped container whose processes did not all end with its init (it has no PID
/// namespace of its own, so a child outlives it) is still removed whole by `delete`:
/// what is left is killed and every cgroup goes. (`delete` of a stopped container tries
/// a plain rmdir of each cgroup first and takes the long way, thaw and kill, only when
/// one is refused.)
#[test]
fn delete_kills_what_outlives_an_init_without_a_pid_namespace() {
    let prog = "sleep 1000 & echo $! > /shared/child; exit 0";
    let Some(mut c) = Case::new("leftover", &["sh", "-c", prog]) else { return };
    c.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "pid");
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    let child: i32 =
        std::fs::read_to_string(c.shared("child")).unwrap_or_default().trim().parse().expect("no child pid");
    c.pids.borrow_mut().push(child);
    assert!(alive(child), "the child did not outlive the init: {}", proc_status(child));
    assert_eq!(c.rt.state(&c.id).unwrap()["status"], "stopped");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// `crun spec`'s allow-list is deny-all alone. The init joins its devices cgroup (v1)
/// before it makes /dev, so this works only because the runtime-spec's default nodes are
/// allowed after config.json's rules (as runc appends them): create succeeds, the init
/// is in the devices cgroup from create on, the defaults open, anything else is refused.
#[test]
fn deny_all_devices_still_gives_the_default_nodes() {
    if !std::path::Path::new("/sys/fs/cgroup/devices/devices.list").exists() {
        eprintln!("deny_all_devices_still_gives_the_default_nodes: no v1 devices hierarchy here");
        return;
    }
    let prog = "mknod /tmp/fuse c 10 229 2> /shared/fuse; echo ok > /dev/null && echo ok > /shared/null; \
                head -c 3 /dev/urandom | wc -c > /shared/urandom";
    let Some(mut c) = Case::new("denyall", &["sh", "-c", prog]) else { return };
    c.config["linux"]["resources"]["devices"] = json!([{"allow": false, "access": "rwm"}]);
    c.write_config();
    let pid = c.create();
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.lines().any(|l| l.contains(":devices:") && l.ends_with(&c.cgroup)),
        "init is not in its devices cgroup after create:\n{cg}"
    );
    let list = cgroup_file(&c.cgroup, "devices.list").expect("no devices cgroup for the container");
    assert!(list.contains("c 1:9 rwm") && list.contains("c 136:* rwm") && !list.contains("a *:*"), "{list:?}");
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0);
    // runc also appends mknod of any node (`c *:* m`), which tinyctr leaves out.
    if std::env::var("TINYCTR_OCI_RUNTIME").is_err() {
        let fuse = std::fs::read_to_string(c.shared("fuse")).unwrap_or_default();
        assert!(fuse.contains("not permitted"), "mknod of c 10:229 under deny-all: {fuse:?}");
    }
    assert_eq!(std::fs::read_to_string(c.shared("null")).unwrap_or_default().trim(), "ok");
    assert_eq!(std::fs::read_to_string(c.shared("urandom")).unwrap_or_default().trim(), "3");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A hook that copies its stdin (the state) to `DIR/NAME.json`, then runs `then`.
fn state_hook(dir: &Path, name: &str, then: &str) -> Value {
    let script = format!("cat > {}/{name}.json; {then}", dir.display());
    json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]})
}

fn read_state(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} hook's stdin is not the state JSON ({e}): {text:?}"))
}

/// prestart and createRuntime run in the runtime's namespaces while the init waits in
/// its own, before it enters the root (a mount they make into the rootfs directory of
/// the init's mount namespace, as the NVIDIA hook does, is in the container); poststart
/// runs once started, poststop once deleted; each reads the state of that moment.
#[test]
fn hooks_run_at_their_points_with_the_state() {
    let prog = "grep -c ' /hookmnt tmpfs' /proc/mounts > /shared/mnt";
    let Some(mut c) = Case::new("hooks", &["sh", "-c", prog]) else { return };
    let out = c.path("hooks");
    std::fs::create_dir(&out).unwrap();
    std::fs::create_dir(c.bundle.join("rootfs/hookmnt")).unwrap();
    let rootfs = c.bundle.join("rootfs");
    let mount = format!(
        "pid=$(sed -n 's/.*\"pid\":\\([0-9]*\\).*/\\1/p' {}/createRuntime.json); \
         nsenter -t $pid -m mount -t tmpfs -o size=1m hooktmp {}/hookmnt",
        out.display(),
        rootfs.display()
    );
    c.config["hooks"] = json!({
        "prestart": [state_hook(&out, "prestart", "true")],
        "createRuntime": [state_hook(&out, "createRuntime", &mount)],
        "poststart": [state_hook(&out, "poststart", "true")],
        "poststop": [state_hook(&out, "poststop", "true")],
    });
    c.write_config();
    let pid = c.create();
    for name in ["prestart", "createRuntime"] {
        let s = read_state(&out, name);
        assert_eq!((s["status"].as_str(), s["pid"].as_i64()), (Some("creating"), Some(pid as i64)), "{name}: {s}");
        assert_eq!(s["id"], c.id.as_str(), "{name}: {s}");
        assert_eq!(s["bundle"], c.bundle.to_str().unwrap(), "{name}: {s}");
    }
    // runc 1.1 runs poststart at create, with the state `created` (its `start()` is
    // create's); the spec says after the program is started.
    let spec_poststart = std::env::var("TINYCTR_OCI_RUNTIME").is_err();
    if spec_poststart {
        assert!(!out.join("poststart.json").exists(), "poststart ran at create");
    }
    c.ok(&["start", &c.id]);
    let s = read_state(&out, "poststart");
    if spec_poststart {
        assert_eq!((s["status"].as_str(), s["pid"].as_i64()), (Some("running"), Some(pid as i64)), "poststart: {s}");
    }
    assert_eq!(c.wait_shared("mnt").trim(), "1", "the createRuntime hook's mount is not in the container");
    assert_eq!(wait_exit(pid, WAIT), 0);
    assert!(!out.join("poststop.json").exists(), "poststop ran before delete");
    c.ok(&["delete", &c.id]);
    assert_eq!(read_state(&out, "poststop")["status"], "stopped");
    c.assert_gone();
}

/// A prestart or createRuntime hook that fails or outlives its timeout fails create,
/// which names it and leaves nothing; one that runs inside the container is refused; a
/// poststart hook that fails is a warning and the container runs on.
#[test]
fn failing_hooks_fail_create_or_warn() {
    let Some(mut c) = Case::new("hookfail", &["sh", "-c", "echo ran > /shared/ran"]) else { return };
    let failing = json!({"path": "/bin/sh", "args": ["sh", "-c", "echo broken >&2; exit 3"]});
    let hanging = json!({"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1});
    for (hooks, words) in [
        (json!({"prestart": [failing]}), "hooks.prestart[0] \"/bin/sh\" failed with status 3: broken"),
        (
            json!({"createRuntime": [hanging]}),
            "hooks.createRuntime[0] \"/bin/sleep\" did not finish within its timeout of 1 s",
        ),
        (json!({"createRuntime": [{"path": "/no/such/hook"}]}), "\"/no/such/hook\" could not be executed"),
        (
            json!({"createContainer": [{"path": "/bin/false"}]}),
            "hooks.createContainer[0] \"/bin/false\" failed with status 1",
        ),
    ] {
        c.config["hooks"] = hooks;
        c.write_config();
        let started = Instant::now();
        let st = c.create_as(&c.id, "refused.pid");
        assert!(!st.success(), "create with {words:?} succeeded");
        assert!(started.elapsed() < Duration::from_secs(10), "create waited {:?}", started.elapsed());
        let e = c.log_error();
        assert!(e.contains(words), "{e:?} lacks {words:?}");
        c.assert_gone();
    }
    assert!(!c.shared("ran").exists(), "the program ran although create failed");
    c.config["hooks"] = json!({"poststart": [{"path": "/bin/false"}]});
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("ran").trim(), "ran");
    assert_eq!(wait_exit(pid, WAIT), 0);
    let warned = log_lines(&c.rt.log).iter().any(|v| {
        v["level"] == "warning"
            && v["msg"].as_str().is_some_and(|m| m.contains("hooks.poststart[0] \"/bin/false\" failed"))
    });
    assert!(warned, "no warning for the failed poststart hook in {:?}", c.file("log.json"));
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// createContainer and startContainer run in the init's namespaces (its network
/// namespace here, and its PID namespace: the hook's parent is not on the host);
/// startContainer resolves its path in the container and sees its root.
#[test]
fn container_hooks_run_in_the_containers_namespaces() {
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    let Some(mut c) = Case::new("inhooks", &["sh", "-c", "echo ran > /shared/ran"]) else { return };
    let out = c.path("inhooks");
    std::fs::create_dir(&out).unwrap();
    let create = format!("readlink /proc/self/ns/net > {}/create.net", out.display());
    c.config["hooks"] = json!({
        "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", create]}],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat /marker > /shared/start; readlink /proc/self/ns/net >> /shared/start"]}],
    });
    c.write_config();
    let pid = c.create();
    let net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap().to_string_lossy().into_owned();
    assert_eq!(std::fs::read_to_string(out.join("create.net")).unwrap_or_default().trim(), net);
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("ran").trim(), "ran");
    let start = std::fs::read_to_string(c.shared("start")).unwrap_or_default();
    assert_eq!(start.lines().collect::<Vec<_>>(), ["inside", net.as_str()], "startContainer's view: {start:?}");
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// Whether this host's kernel runs AppArmor.
fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled").is_ok_and(|s| s.starts_with('Y'))
}

/// `process.apparmorProfile` and `process.selinuxLabel` are never dropped (CRI puts an
/// AppArmor profile into every container on a host that has AppArmor): a profile this
/// host cannot apply fails create and exec by name, before anything is made (runc
/// fails too); `unconfined` where AppArmor is off is what every process is; an SELinux
/// label is refused. (The profile applied for real: tests/vm/guest/apparmor.sh, in a
/// guest whose kernel has AppArmor.)
#[test]
fn lsm_settings_are_applied_or_refused() {
    let Some(mut c) = Case::new("lsm", &["sleep", "1000"]) else { return };
    let tinyctr = std::env::var("TINYCTR_OCI_RUNTIME").is_err();
    let profile_words = if apparmor_enabled() { "it is not loaded" } else { "AppArmor is not enabled on this host" };
    for (field, value, words) in [
        ("apparmorProfile", "tinyctr-no-such-profile", profile_words),
        ("selinuxLabel", "system_u:system_r:container_t:s0", "SELinux labels are not supported"),
    ] {
        c.config["process"][field] = json!(value);
        c.write_config();
        let st = c.create_as(&c.id, "refused.pid");
        assert!(!st.success(), "{field} {value:?}: create succeeded");
        if tinyctr {
            let e = c.log_error();
            assert!(e.contains(field) || e.contains("AppArmor profile"), "{field}: {e:?}");
            assert!(e.contains(value) && e.contains(words), "{field}: {e:?}");
        }
        c.assert_gone();
        c.config["process"].as_object_mut().unwrap().remove(field);
    }
    if !tinyctr {
        return; // runc refuses `unconfined` too where AppArmor is off
    }
    // `tinyctr check` says which of the two this host is.
    let out = std::process::Command::new(&c.rt.bin).arg("check").output().unwrap();
    let want = if apparmor_enabled() { "apparmor:   yes" } else { "apparmor:   no" };
    assert!(String::from_utf8_lossy(&out.stdout).contains(want), "check: {:?}", String::from_utf8_lossy(&out.stdout));
    if !apparmor_enabled() {
        c.config["process"]["apparmorProfile"] = json!("unconfined");
    }
    c.write_config();
    c.create();
    c.ok(&["start", &c.id]);
    // exec's process JSON: the same refusal, and nothing started.
    let mut p = c.config["process"].clone();
    p["args"] = json!(["true"]);
    p["apparmorProfile"] = json!("tinyctr-no-such-profile");
    let f = c.path("lsm.process.json");
    std::fs::write(&f, serde_json::to_vec(&p).unwrap()).unwrap();
    let o = c.rt.run(&["exec", "--process", f.to_str().unwrap(), "--detach", &c.id]);
    assert!(!o.status.success(), "exec with an unusable AppArmor profile succeeded");
    let e = c.log_error();
    assert!(e.contains("tinyctr-no-such-profile") && e.contains(profile_words), "exec: {e:?}");
    assert_eq!(c.procs().len(), 1, "exec started something");
    c.ok(&["delete", "--force", &c.id]);
    c.assert_gone();
}

/// The container's cgroup on the unified hierarchy, if this host has one.
fn unified_dir(cgroup: &str) -> Option<PathBuf> {
    cgroup_dirs(cgroup).into_iter().find(|d| d.join("cgroup.controllers").exists())
}

/// `linux.resources.unified` (the kubelet sends `memory.oom.group` on every cgroup v2
/// node): each file written as given into the container's v2 cgroup, at create and at
/// update; a file that cgroup lacks (memory is v1 on a hybrid host) fails create by
/// name and leaves nothing; a key that is a path is refused by the parser. Without a
/// unified hierarchy at all, refused. (runc refuses `unified` on a hybrid host such as
/// this one outright, "cannot use unified on cgroup v1": there the test checks tinyctr
/// only.)
#[test]
fn unified_cgroup_files_are_written_or_refused() {
    let Some(mut c) = Case::new("unified", &["sleep", "1000"]) else { return };
    let tinyctr = std::env::var("TINYCTR_OCI_RUNTIME").is_err();
    let has_v2 = hierarchies().iter().any(|h| h.join("cgroup.controllers").exists());
    let hybrid = has_v2 && hierarchies().iter().any(|h| !h.join("cgroup.controllers").exists());
    if hybrid && !tinyctr {
        return;
    }
    c.config["linux"]["resources"] = json!({"unified": {"cgroup.max.depth": "3"}});
    c.write_config();
    if !has_v2 {
        assert!(!c.create_as(&c.id, "init.pid").success(), "unified on a host without cgroup v2");
        if tinyctr {
            assert!(c.log_error().contains("needs cgroup v2"), "{}", c.log_error());
        }
        c.assert_gone();
        return;
    }
    c.create();
    let dir = unified_dir(&c.cgroup).expect("the container's v2 cgroup");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap().trim().to_string();
    assert_eq!(read("cgroup.max.depth"), "3");
    let doc = c.path("res.json");
    std::fs::write(&doc, r#"{"unified":{"cgroup.max.descendants":"7"}}"#).unwrap();
    c.ok(&["update", "--resources", doc.to_str().unwrap(), &c.id]);
    assert_eq!(read("cgroup.max.descendants"), "7");
    let memory_v2 = dir.join("memory.max").exists();
    c.ok(&["delete", "--force", &c.id]);
    c.assert_gone();

    // memory.oom.group: written where memory is on the unified hierarchy, else refused.
    c.config["linux"]["resources"] = json!({"unified": {"memory.oom.group": "1"}});
    c.write_config();
    if memory_v2 {
        c.create();
        assert_eq!(
            std::fs::read_to_string(unified_dir(&c.cgroup).unwrap().join("memory.oom.group")).unwrap().trim(),
            "1"
        );
        c.ok(&["delete", "--force", &c.id]);
    } else {
        assert!(!c.create_as(&c.id, "oom.pid").success(), "memory.oom.group without memory on v2 succeeded");
        if tinyctr {
            let e = c.log_error();
            assert!(e.contains("memory.oom.group") && e.contains("ENOENT"), "{e}");
        }
    }
    c.assert_gone();

    if tinyctr {
        c.config["linux"]["resources"] = json!({"unified": {"../../cgroup.procs": "1"}});
        c.write_config();
        assert!(!c.create_as(&c.id, "bad.pid").success(), "a unified key that is a path was accepted");
        assert!(c.log_error().contains("is not a cgroup v2 file name"), "{}", c.log_error());
        c.assert_gone();
    }
}

/// The resources `run` has no option for (docker's --memory-swappiness,
/// --oom-kill-disable, --cpu-rt-period, the CFS burst, SCHED_IDLE, net_cls): each in
/// the container's cgroup that has its file, at create and at update; one no cgroup of
/// the container has a file for (cgroup v2 has no swappiness; this host mounts no
/// net_cls) fails by its JSON path and leaves nothing; block I/O, RDMA, kernel memory
/// and net_prio settings are refused, never dropped.
#[test]
fn cgroup_settings_beyond_runs_options_are_written_or_refused() {
    let Some(mut c) = Case::new("controls", &["sleep", "1000"]) else { return };
    let tinyctr = std::env::var("TINYCTR_OCI_RUNTIME").is_err();
    let v1_memory = v1_mounted("memory");
    let v1_cpu = v1_mounted("cpu");
    // cpu.idle came with runc 1.2: Debian's runc 1.1 leaves it out.
    let mut res = if tinyctr { json!({"cpu": {"idle": 1}}) } else { json!({"cpu": {}}) };
    if v1_memory {
        res["memory"] = json!({"swappiness": 30, "disableOOMKiller": true, "reservation": 33554432});
    }
    if v1_cpu {
        res["cpu"]["realtimePeriod"] = json!(500000);
    }
    c.config["linux"]["resources"] = res;
    c.write_config();
    c.create();
    let file = |f: &str| cgroup_file(&c.cgroup, f).map(|s| s.trim().to_string());
    if tinyctr {
        assert_eq!(file("cpu.idle").as_deref(), Some("1"), "cpu.idle");
    }
    if v1_memory {
        assert_eq!(file("memory.swappiness").as_deref(), Some("30"));
        assert_eq!(file("memory.soft_limit_in_bytes").as_deref(), Some("33554432"), "memory.reservation");
        assert!(file("memory.oom_control").unwrap().contains("oom_kill_disable 1"), "{:?}", file("memory.oom_control"));
        // runc 1.1's update leaves swappiness alone.
        let doc = c.path("res.json");
        std::fs::write(&doc, r#"{"memory":{"swappiness":40}}"#).unwrap();
        c.ok(&["update", "--resources", doc.to_str().unwrap(), &c.id]);
        if tinyctr {
            assert_eq!(file("memory.swappiness").as_deref(), Some("40"), "after update");
        }
    }
    if v1_cpu {
        assert_eq!(file("cpu.rt_period_us").as_deref(), Some("500000"));
    }
    c.ok(&["delete", "--force", &c.id]);
    c.assert_gone();

    let refusals = [
        (json!({"network": {"classID": 1048577}}), "network.classID: no cgroup of the container has net_cls.classid"),
        (json!({"blockIO": {"weight": 500}}), "block I/O weights are not supported"),
        // A throttle of a character device (/dev/null's numbers): the kernel's refusal,
        // naming the file (block_io_throttles_go_to_the_containers_cgroup has real ones).
        (
            json!({"blockIO": {"throttleReadBpsDevice": [{"major": 1, "minor": 3, "rate": 1}]}}),
            "blkio.throttle.read_bps_device",
        ),
        (json!({"rdma": {"mlx5_0": {"hcaHandles": 3}}}), "RDMA limits are not supported"),
        (json!({"memory": {"kernel": 1048576}}), "kernel memory limits are not supported"),
        (json!({"network": {"priorities": [{"name": "eth0", "priority": 5}]}}), "net_prio"),
    ];
    for (res, words) in refusals {
        // net_cls where this host mounts it: written, not refused.
        if res.pointer("/network/classID").is_some() && v1_mounted("net_cls") {
            continue;
        }
        c.config["linux"]["resources"] = res.clone();
        c.write_config();
        let st = c.create_as(&c.id, "refused.pid");
        if tinyctr {
            assert!(!st.success(), "{res}: create succeeded");
            assert!(c.log_error().contains(words), "{res}: {}", c.log_error());
        } else if st.success() {
            let _ = c.rt.run(&["delete", "--force", &c.id]);
        }
        c.assert_gone();
    }
    // Empty or zero values ask for nothing, and pass.
    c.config["linux"]["resources"] =
        json!({"blockIO": {"weight": 0, "weightDevice": []}, "rdma": {}, "network": {"priorities": []}});
    c.write_config();
    c.create();
    c.ok(&["delete", "--force", &c.id]);
    c.assert_gone();
}

/// `domainname` (runtime-spec 1.1) is set in the container's UTS namespace, and the
/// host's stays as it was. (Debian's runc 1.1 predates the field: tinyctr only.)
#[test]
fn domainname_is_set_in_the_containers_uts_namespace() {
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap();
    let Some(mut c) = Case::new("domain", &["sh", "-c", "cat /proc/sys/kernel/domainname > /shared/dn"]) else {
        return;
    };
    c.config["domainname"] = json!("tinyctr.test");
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("dn").trim(), "tinyctr.test");
    assert_eq!(wait_exit(pid, WAIT), 0);
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap(), host, "the host's domain name changed");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A process the container moved into a cgroup of its own below the container's (as
/// systemd or a nested runtime inside it does) is still the container's: `ps` lists it
/// and `kill --all` reaches it; delete removes the sub-cgroups too.
#[test]
fn ps_and_kill_all_reach_the_containers_sub_cgroups() {
    let prog = wait_for_go(0);
    let Some(c) = Case::new("subcg", &["sh", "-c", &prog]) else { return };
    let pid = c.create();
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let epid = c.exec("sub", &["sleep", "1000"]);
    // The move, done from here as the container would do it: in every hierarchy.
    for d in cgroup_dirs(&c.cgroup) {
        let sub = d.join("inner");
        std::fs::create_dir(&sub).unwrap();
        // A new v1 cpuset takes no process before it has CPUs and memory nodes.
        for f in ["cpuset.cpus", "cpuset.mems"] {
            if let (Ok(v), true) = (std::fs::read_to_string(d.join(f)), d.join("tasks").exists()) {
                std::fs::write(sub.join(f), v.trim()).unwrap();
            }
        }
        std::fs::write(sub.join("cgroup.procs"), epid.to_string()).unwrap();
    }
    let out = c.ok(&["ps", "--format", "json", &c.id]);
    let v: Vec<i64> = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("ps output {out:?}: {e}"));
    assert!(v.contains(&(pid as i64)) && v.contains(&(epid as i64)), "ps {v:?} lacks init {pid} or {epid}");
    c.ok(&["kill", "--all", &c.id, "9"]);
    assert_eq!(wait_exit(epid, WAIT), 137, "the process in the sub-cgroup after kill --all");
    assert_eq!(wait_exit(pid, WAIT), 137, "init after kill --all");
    c.wait_status("stopped");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A user namespace (`linux.namespaces` "user" with uid and gid maps, what `ctr run
/// --uidmap` writes): the init's maps are config.json's, it is root of its namespace
/// with the config's capabilities there and none over the host (a host root's file in
/// the image stays unwritable, and what it makes belongs to the mapped host id), proc,
/// sysfs, /dev (the host's nodes, bound: mknod is refused there) and the cgroup mount
/// work, and `exec` joins that namespace as a mapped non-root user. Then bad configs:
/// each refused before anything is made, with the reason in --log.
#[test]
fn a_user_namespace_maps_the_containers_ids() {
    use std::os::unix::fs::MetadataExt;
    const HOST: u32 = 100000;
    let prog = "id -u > /shared/uid; id -g > /shared/gid; grep CapEff /proc/self/status > /shared/caps; \
        echo x > /dev/null && echo ok > /shared/null; \
        (echo x > /etc/host-owned) 2>/shared/denied; echo mine > /shared/made; \
        cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max > /shared/mem 2>/dev/null; \
        ulimit -Hn > /shared/nofile; stat -c '%F %t:%T' /dev/fuse > /shared/fuse; echo started > /shared/started; \
        while [ ! -e /shared/go ]; do sleep 0.02; done";
    let Some(mut c) = Case::new("userns", &["sh", "-c", prog]) else { return };
    let map = json!([{"containerID": 0, "hostID": HOST, "size": 65536}]);
    c.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    c.config["linux"]["uidMappings"] = map.clone();
    c.config["linux"]["gidMappings"] = map.clone();
    c.config["linux"]["resources"] = json!({"memory": {"limit": 67108864}});
    // A device plugin's node: mknod is refused in the namespace, the host's is bound.
    c.config["linux"]["devices"] = json!([{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]);
    c.config["mounts"].as_array_mut().unwrap().push(
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "nodev", "noexec"]}),
    );
    // process.rlimits reach the init (tinyctr sets them from the host too: a hard limit
    // above its own, which the init could not raise in its namespace, is checked in the
    // VM guest, since this host's bounding set lacks CAP_SYS_RESOURCE).
    let nofile = 1000;
    c.config["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": 512}]);
    c.write_config();
    // The image belongs to the mapped root (as containerd's remapped snapshot does),
    // but for one file of the host's root.
    let rootfs = c.bundle.join("rootfs");
    let chown = std::process::Command::new("chown")
        .args(["-R", &format!("{HOST}:{HOST}")])
        .arg(&rootfs)
        .arg(&c.shared)
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("etc/host-owned"), "host\n").unwrap();

    let pid = c.create();
    let map_of = |p: i32, f: &str| std::fs::read_to_string(format!("/proc/{p}/{f}")).unwrap();
    let words = |s: String| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(words(map_of(pid, "uid_map")), ["0", "100000", "65536"]);
    assert_eq!(words(map_of(pid, "gid_map")), ["0", "100000", "65536"]);
    assert_ne!(ns(&pid.to_string(), "user"), ns("self", "user"), "the init is in the host's user namespace");
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let read = |n: &str| std::fs::read_to_string(c.shared(n)).unwrap_or_default();
    assert_eq!((read("uid").trim(), read("gid").trim()), ("0", "0"), "not root of its namespace");
    // ctr-run.json's capabilities: docker's default set.
    assert_eq!(read("caps").trim(), "CapEff:\t00000000a80425fb");
    assert_eq!(read("null"), "ok\n", "/dev/null is not usable");
    assert!(read("denied").contains("Permission denied"), "the host root's file was writable: {:?}", read("denied"));
    assert_eq!(std::fs::read_to_string(rootfs.join("etc/host-owned")).unwrap(), "host\n");
    let made = std::fs::metadata(c.shared("made")).unwrap();
    assert_eq!((made.uid(), made.gid()), (HOST, HOST), "what the container's root makes is not the mapped id's");
    assert_eq!(read("mem").trim(), "67108864", "the cgroup mount does not show the container's limit");
    assert_eq!(read("nofile").trim(), nofile.to_string(), "process.rlimits' hard limit");
    assert_eq!(read("fuse").trim(), "character special file a:e5", "linux.devices' node");
    let status = |p: i32| std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
    assert!(status(pid).lines().any(|l| l.starts_with("Uid:\t100000\t")), "{}", status(pid));

    // exec as a mapped non-root user: in the same user namespace, host uid HOST + 1000.
    c.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    let epid = c.exec("e1", &["sh", "-c", "id -u; cat /proc/self/uid_map; sleep 5"]);
    assert!(wait_until(WAIT, || c.file("exec.out").lines().count() >= 2), "exec's output: {:?}", c.file("exec.out"));
    assert_eq!(words(c.file("exec.out")), ["1000", "0", "100000", "65536"]);
    assert_eq!(ns(&epid.to_string(), "user"), ns(&pid.to_string(), "user"), "exec did not join the user namespace");
    assert!(status(epid).lines().any(|l| l.starts_with("Uid:\t101000\t")), "{}", status(epid));
    kill9(epid);
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();

    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return; // what follows is tinyctr's
    }
    // Without clone3 (a kernel before 5.3; the debug build's switch): the user namespace
    // comes with the PID one in clone(2), the rest is unshared inside it.
    let _ = std::fs::remove_file(c.shared("go"));
    let _ = std::fs::remove_file(c.shared("started"));
    let b = c.bundle.to_str().unwrap().to_owned();
    let p = c.path("fallback.pid");
    let st =
        c.rt.command(&["create", "--bundle", &b, "--pid-file", p.to_str().unwrap(), &c.id])
            .env("TINYCTR_DEBUG_NO_CLONE3", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(c.path("fallback.out")).unwrap())
            .stderr(std::fs::File::create(c.path("fallback.err")).unwrap())
            .status()
            .unwrap();
    assert!(st.success(), "create without clone3: {:?}", c.rt.last_error());
    let fpid: i32 = std::fs::read_to_string(&p).unwrap().trim().parse().unwrap();
    watch(fpid);
    c.pids.borrow_mut().push(fpid);
    assert_eq!(words(map_of(fpid, "uid_map")), ["0", "100000", "65536"], "without clone3");
    for n in ["pid", "mnt", "net", "ipc", "uts"] {
        assert_ne!(ns(&fpid.to_string(), n), ns("self", n), "without clone3: the {n} namespace is the host's");
    }
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let uid = std::fs::read_to_string(c.shared("uid")).unwrap_or_default();
    assert_eq!(uid.trim(), "0", "without clone3: not root of its namespace");
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(fpid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();

    let good = c.config.clone();
    type Change<'a> = &'a dyn Fn(&mut Value);
    let bad: [(&str, Change, &str); 6] = [
        (
            "maps without the namespace",
            &|v| v["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "user"),
            "has no \"user\" namespace",
        ),
        ("no gid map", &|v| v["linux"]["gidMappings"] = json!([]), "needs both"),
        (
            "joined by path",
            &|v| {
                for n in v["linux"]["namespaces"].as_array_mut().unwrap() {
                    if n["type"] == "user" {
                        n["path"] = json!("/proc/1/ns/user");
                    }
                }
            },
            "joining a user namespace by path",
        ),
        (
            "with a joined network namespace",
            &|v| {
                let ns = v["linux"]["namespaces"].as_array_mut().unwrap();
                ns.retain(|n| n["type"] != "network");
                ns.push(json!({"type": "network", "path": "/proc/self/ns/net"}));
            },
            "together with a new user namespace",
        ),
        (
            "overlapping ranges",
            &|v| {
                v["linux"]["uidMappings"] = json!([
                    {"containerID": 0, "hostID": HOST, "size": 100},
                    {"containerID": 50, "hostID": HOST + 500, "size": 100}
                ])
            },
            "ranges that overlap",
        ),
        (
            "no container id 0",
            &|v| v["linux"]["uidMappings"] = json!([{"containerID": 1, "hostID": HOST, "size": 100}]),
            "must map id 0",
        ),
    ];
    for (what, change, want) in bad {
        c.config = good.clone();
        change(&mut c.config);
        c.write_config();
        let st = c.create_as(&c.id, "bad.pid");
        assert!(!st.success(), "create with {what} succeeded");
        let e = c.log_error();
        assert!(e.contains(want), "{what}: {e:?} lacks {want:?}");
        assert!(!c.rt.root.join(&c.id).exists() && cgroup_dirs(&c.cgroup).is_empty(), "{what}: something left");
        assert!(c.rt.state(&c.id).is_none(), "{what}: state succeeds");
    }
}

/// A time namespace (`linux.namespaces` "time" with `linux.timeOffsets`, as CRIU's
/// restore and clock tests use it): the init's CLOCK_BOOTTIME (/proc/uptime) is the
/// host's plus the offset, `exec` joins the same namespace, hooks and the host keep
/// their clocks; offsets without the namespace are refused.
#[test]
fn a_time_namespace_offsets_the_clocks() {
    let prog = "cat /proc/uptime > /shared/uptime; readlink /proc/self/ns/time > /shared/ns; \
        echo started > /shared/started; while [ ! -e /shared/go ]; do sleep 0.02; done";
    let Some(mut c) = Case::new("timens", &["sh", "-c", prog]) else { return };
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return; // Debian 12's runc 1.1 has no time namespaces (1.2 has)
    }
    if !std::path::Path::new("/proc/self/ns/time").exists() {
        assert!(!common::in_ci(), "CI=true: this kernel has no time namespaces");
        return eprintln!("skipped: no time namespaces in this kernel");
    }
    c.config["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "time"}));
    c.config["linux"]["timeOffsets"] =
        json!({"boottime": {"secs": 86400, "nanosecs": 0}, "monotonic": {"secs": 3600, "nanosecs": 0}});
    c.write_config();
    let uptime =
        || -> f64 { std::fs::read_to_string("/proc/uptime").unwrap().split(' ').next().unwrap().parse().unwrap() };
    let pid = c.create();
    assert_ne!(ns(&pid.to_string(), "time"), ns("self", "time"), "the init is in the host's time namespace");
    c.ok(&["start", &c.id]);
    c.wait_shared("started");
    let host = uptime();
    let inside: f64 = std::fs::read_to_string(c.shared("uptime")).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((inside - host - 86400.0).abs() < 5.0, "uptime inside {inside}, host {host}");
    assert_eq!(std::fs::read_to_string(c.shared("ns")).unwrap().trim(), ns(&pid.to_string(), "time"));
    let epid = c.exec("e1", &["sh", "-c", "cat /proc/uptime; readlink /proc/self/ns/time"]);
    assert_eq!(wait_exit(epid, WAIT), 0);
    let out = c.file("exec.out");
    let e: f64 = out.split(' ').next().unwrap_or("0").parse().unwrap_or(0.0);
    assert!((e - uptime() - 86400.0).abs() < 5.0, "exec's uptime {out:?}");
    assert!(out.contains(&ns(&pid.to_string(), "time")), "exec is not in the init's time namespace: {out:?}");
    assert!((uptime() - host).abs() < 5.0, "the host's clock moved");
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();

    c.config["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "time");
    c.write_config();
    assert!(!c.create_as(&c.id, "bad.pid").success(), "timeOffsets without a time namespace accepted");
    assert!(c.log_error().contains("no new \"time\" namespace"), "{}", c.log_error());
    assert!(!c.rt.root.join(&c.id).exists() && cgroup_dirs(&c.cgroup).is_empty(), "the refused create left something");
}

/// `linux.resources.cpu.mems` (the kubelet's memory manager pins Guaranteed pods to NUMA
/// nodes): written into the container's cpuset cgroup (v1, or the v2 one), and by
/// `update`; a node the host lacks fails create naming the file and the nodes there are,
/// and leaves nothing.
#[test]
fn cpu_mems_go_to_the_cpuset_cgroup() {
    let Some(mut c) = Case::new("mems", &["sleep", "100"]) else { return };
    let have = cgroup_dirs("/").into_iter().any(|d| d.join("cpuset.mems").exists());
    if !have {
        assert!(!common::in_ci(), "CI=true: this host has no cpuset cgroup");
        return eprintln!("skipped: no cpuset cgroup here");
    }
    c.config["linux"]["resources"] = json!({"cpu": {"mems": "0"}});
    c.write_config();
    let pid = c.create();
    let mems = || cgroup_file(&c.cgroup, "cpuset.mems").map(|s| s.trim().to_owned());
    assert_eq!(mems().as_deref(), Some("0"), "cpuset.mems after create");
    let st = c.rt.command(&["update", "--resources", "-", &c.id]).stdin(std::process::Stdio::piped()).spawn().map(
        |mut ch| {
            use std::io::Write;
            ch.stdin.take().unwrap().write_all(br#"{"cpu":{"mems":"0"}}"#).unwrap();
            ch.wait().unwrap()
        },
    );
    assert!(st.unwrap().success(), "update with cpu.mems: {:?}", c.rt.last_error());
    assert_eq!(mems().as_deref(), Some("0"));
    kill9(pid);
    assert_eq!(wait_exit(pid, WAIT), 137);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return; // the message is tinyctr's
    }
    c.config["linux"]["resources"] = json!({"cpu": {"mems": "63"}});
    c.write_config();
    assert!(!c.create_as(&c.id, "bad.pid").success(), "a memory node the host lacks accepted");
    let e = c.log_error();
    assert!(e.contains("cpuset.mems") && e.contains("memory nodes available are"), "{e}");
    assert!(c.rt.state(&c.id).is_none() && cgroup_dirs(&c.cgroup).is_empty(), "the failed create left something");
}

/// config.json's own options for the filesystems every container gets: docker's
/// `--shm-size` is the `size=` of its /dev/shm mount (tinyctr mounted its own 64 MiB
/// one), the source names it as runc's mount does (`shm`), /dev's size is the config's.
#[test]
fn the_standard_mounts_take_the_configs_options() {
    // Each line: the mount point, then what follows the separator (type, source, options).
    let prog = "sed 's/^[^ ]* [^ ]* [^ ]* [^ ]* \\([^ ]*\\) .* - /\\1 /' /proc/self/mountinfo > /shared/out.tmp; \
        mv /shared/out.tmp /shared/out";
    let Some(mut c) = Case::new("stdmounts", &["sh", "-c", prog]) else { return };
    for m in c.config["mounts"].as_array_mut().unwrap() {
        match m["destination"].as_str().unwrap() {
            "/dev/shm" => m["options"] = json!(["nosuid", "noexec", "nodev", "mode=1777", "size=8388608"]),
            "/dev" => m["options"] = json!(["nosuid", "strictatime", "mode=755", "size=2048k"]),
            "/dev/mqueue" => m["source"] = json!("mq"),
            _ => {}
        }
    }
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let lines = c.wait_shared("out");
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    let line = |at: &str| {
        lines.lines().find(|l| l.split(' ').next() == Some(at)).unwrap_or_else(|| panic!("no {at}: {lines}"))
    };
    assert_eq!(line("/dev/shm"), "/dev/shm tmpfs shm rw,size=8192k", "{lines}");
    assert!(line("/dev").starts_with("/dev tmpfs tmpfs rw,size=2048k,mode=755"), "{lines}");
    assert!(line("/dev/mqueue").starts_with("/dev/mqueue mqueue mq rw"), "{lines}");
    assert!(line("/sys").starts_with("/sys sysfs sysfs ro"), "{lines}");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// `--preserve-fds N` (podman passes a systemd socket activation's descriptors so; it
/// was refused as an unknown option): descriptors 3 to 3+N-1 of `create` reach the
/// container's program, open across its execve, and those of `exec` its process; none
/// of tinyctr's own above them does. A count whose descriptor is not open is refused,
/// naming it, before anything is made (else one of tinyctr's would take its number).
#[test]
fn preserve_fds_pass_descriptors_on() {
    let prog = "for f in 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$f ] && printf \"$f \"; done; echo; cat <&3; cat <&4; \
        while [ ! -e /shared/go ]; do sleep 0.02; done";
    let Some(c) = Case::new("keepfds", &["sh", "-c", prog]) else { return };
    for (name, text) in [("three", "three\n"), ("four", "four\n")] {
        std::fs::write(c.path(name), text).unwrap();
    }
    // The runtime's command line, run by a shell that opens the files named first.
    let with_fds = |args: &[&str], files: &[&str], out: &str| -> ExitStatus {
        let redirect: Vec<String> =
            files.iter().enumerate().map(|(i, f)| format!("{}<{}", i + 3, c.path(f).display())).collect();
        let open = |p: PathBuf| std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
        exec_with(&c.rt.command(args), &redirect.join(" "))
            .stdin(std::process::Stdio::null())
            .stdout(open(c.path(out)))
            .stderr(open(c.path(&format!("{out}.err"))))
            .status()
            .unwrap()
    };
    let b = c.bundle.to_str().unwrap().to_owned();
    let pid_file = c.path("init.pid");
    let create = ["create", "--bundle", &b, "--pid-file", pid_file.to_str().unwrap(), "--preserve-fds", "2", &c.id];
    // Descriptor 4 missing: refused, and nothing made. (runc 1.1 passes on whatever of
    // its own took the number: its --log file.)
    if runtime().contains("tinyctr") {
        assert!(!with_fds(&create, &["three"], "stdout").success(), "--preserve-fds 2 with 4 closed was accepted");
        let e = c.log_error();
        assert!(e.contains("--preserve-fds: descriptor 4 is not open"), "{e}");
        assert!(c.rt.state(&c.id).is_none() && cgroup_dirs(&c.cgroup).is_empty(), "a refused create left something");
    }

    assert!(with_fds(&create, &["three", "four"], "stdout").success(), "create: {:?}", c.rt.last_error());
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    watch(pid);
    c.pids.borrow_mut().push(pid);
    c.ok(&["start", &c.id]);
    assert!(wait_until(WAIT, || c.file("stdout").ends_with("four\n")), "the program's output: {:?}", c.file("stdout"));
    assert_eq!(c.file("stdout"), "3 4 \nthree\nfour\n");

    let prog = "for f in 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$f ] && printf \"$f \"; done; echo; cat <&3";
    let f = c.process_file("e1", &["sh", "-c", prog]);
    let exec = ["exec", "--process", f.to_str().unwrap(), "--preserve-fds", "1", &c.id];
    assert!(with_fds(&exec, &["four"], "exec.out").success(), "exec: {:?}", c.rt.last_error());
    assert_eq!(c.file("exec.out"), "3 \nfour\n");
    std::fs::write(c.shared("go"), "").unwrap();
    assert_eq!(wait_exit(pid, WAIT), 0);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A config that puts another kind of mount where tinyctr mounts its own /dev/shm
/// (docker's `--ipc container:X` and `--ipc shareable` bind a host directory there) gets
/// that mount alone: no tmpfs of tinyctr's lies hidden below it.
#[test]
fn a_bind_at_dev_shm_replaces_the_tmpfs() {
    let prog = "{ grep -c ' /dev/shm ' /proc/self/mountinfo; cat /dev/shm/seg; } > /shared/out.tmp; \
        mv /shared/out.tmp /shared/out";
    let Some(mut c) = Case::new("shmbind", &["sh", "-c", prog]) else { return };
    let shm = c.bundle.join("shm");
    std::fs::create_dir_all(&shm).unwrap();
    std::fs::write(shm.join("seg"), "shared\n").unwrap();
    let at = c.config["mounts"].as_array().unwrap().iter().position(|m| m["destination"] == "/dev/shm").unwrap();
    c.config["mounts"][at] = json!({"destination": "/dev/shm", "type": "bind", "source": shm,
                                     "options": ["rbind", "nosuid", "noexec", "nodev", "rprivate"]});
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let out = c.wait_shared("out");
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    assert_eq!(out, "1\nshared\n");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// `maskedPaths` and `readonlyPaths` are the config's, exactly (docker's own list was
/// applied whenever one was there): a path docker does not mask is masked when listed
/// (a file in /proc, a directory of the image), one docker masks is not when left out
/// (docker 20.10 and containerd do not list /proc/interrupts), and a read-only path
/// outside /proc keeps its mount's other flags.
#[test]
fn masked_and_read_only_paths_are_the_configs() {
    let prog =
        "{ wc -c < /proc/cpuinfo; ls /secret | wc -l; wc -c < /proc/interrupts | grep -qv '^0$' && echo interrupts; \
        touch /data/x 2>/dev/null || echo data-ro; touch /tmp/y && echo tmp-rw; \
        grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6; } > /shared/out.tmp; mv /shared/out.tmp /shared/out";
    let Some(mut c) = Case::new("masklists", &["sh", "-c", prog]) else { return };
    let rootfs = c.bundle.join("rootfs");
    std::fs::create_dir_all(rootfs.join("secret")).unwrap();
    std::fs::write(rootfs.join("secret/key"), "k").unwrap();
    std::fs::create_dir_all(rootfs.join("data")).unwrap();
    c.config["linux"]["maskedPaths"] = json!(["/proc/kcore", "/proc/cpuinfo", "/secret", "/no/such/path"]);
    c.config["linux"]["readonlyPaths"] = json!(["/proc/sys", "/data", "/no/such/dir"]);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let out = c.wait_shared("out");
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    // The image's root is the bundle's directory, bound without nosuid and the like: the
    // read-only bind of /data keeps that (a remount with proc's flags would add them).
    assert_eq!(out, "0\n0\ninterrupts\ndata-ro\ntmp-rw\nro,relatime\n");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// docker gives a non-root user (`docker run -u 1000`) its bounding set alone, with no
/// permitted or effective set: the bounding set is the config's (it was cut to the
/// permitted set, so a setuid or file-capability program such as ping got nothing).
#[test]
fn the_bounding_set_is_the_configs_for_a_non_root_user() {
    let Some(mut c) = Case::new("bounding", &["grep", "-E", "^Cap(Prm|Eff|Bnd)", "/proc/self/status"]) else {
        return;
    };
    c.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    c.config["process"]["capabilities"] = json!({"bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_KILL"]});
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    assert_eq!(c.file("stdout"), "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000002021\n");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A process whose environment has no HOME gets its user's home from the container's
/// /etc/passwd, `/` without an entry (runc's and crun's rule; docker, containerd and CRI
/// leave it to the runtime); one that sets HOME keeps it. For exec too.
#[test]
fn home_comes_from_the_containers_passwd() {
    let prog = "echo \"$HOME\" > /shared/out.tmp; mv /shared/out.tmp /shared/out; sleep 30";
    let Some(mut c) = Case::new("home", &["sh", "-c", prog]) else { return };
    let etc = c.bundle.join("rootfs/etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("passwd"), "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&c.shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    c.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    assert_eq!(c.wait_shared("out"), "/home/u\n");
    let cases: [(&str, u32, Option<&str>, &str); 3] =
        [("root", 0, None, "/root\n"), ("nobody", 4242, None, "/\n"), ("set", 1000, Some("HOME=/x"), "/x\n")];
    for (tag, uid, env, want) in cases {
        let mut p = c.config["process"].clone();
        p["user"] = json!({"uid": uid, "gid": uid});
        if let Some(e) = env {
            p["env"].as_array_mut().unwrap().push(json!(e));
        }
        p["args"] =
            json!(["sh", "-c", format!("echo \"$HOME\" > /shared/{tag}.tmp; mv /shared/{tag}.tmp /shared/{tag}")]);
        let f = c.path(&format!("{tag}.process.json"));
        std::fs::write(&f, serde_json::to_vec(&p).unwrap()).unwrap();
        let pid_file = c.path(&format!("{tag}.pid"));
        c.ok(&["exec", "--process", f.to_str().unwrap(), "--detach", "--pid-file", pid_file.to_str().unwrap(), &c.id]);
        let epid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        watch(epid);
        c.pids.borrow_mut().push(epid);
        assert_eq!(c.wait_shared(tag), want, "exec as {uid} with {env:?}");
    }
    kill9(pid);
    assert_eq!(wait_exit(pid, WAIT), 128 + 9);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
}

/// A PID namespace joined by path (docker's `--pid container:NAME`, Kubernetes'
/// shareProcessNamespace): the init is born in it, not as its PID 1, and sees the other
/// container's processes, which see it; tinyctr itself stays in its own (the hooks it
/// runs afterwards are the host's); delete leaves the other container running. A path
/// to another kind of namespace is refused by the kernel, named. (It was refused.)
#[test]
fn a_pid_namespace_joined_by_path_is_shared() {
    let Some(a) = Case::new("pidjoin-a", &["sleep", "60"]) else { return };
    let a_pid = a.create();
    a.ok(&["start", &a.id]);
    let ns_path = format!("/proc/{a_pid}/ns/pid");
    let prog = "{ echo $$; readlink /proc/self/ns/pid; ps -o args | grep -c '^sleep 60'; } > /shared/out.tmp; \
        mv /shared/out.tmp /shared/out; sleep 60";
    let Some(mut b) = Case::new("pidjoin-b", &["sh", "-c", prog]) else { return };
    for n in b.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if n["type"] == "pid" {
            n["path"] = json!(ns_path);
        }
    }
    b.write_config();
    let b_pid = b.create();
    assert_eq!(ns(&b_pid.to_string(), "pid"), ns(&a_pid.to_string(), "pid"), "the init is not in the joined namespace");
    assert_eq!(
        std::fs::read_link("/proc/self/ns/pid_for_children").unwrap(),
        std::fs::read_link("/proc/self/ns/pid").unwrap()
    );
    b.ok(&["start", &b.id]);
    let out = b.wait_shared("out");
    let lines: Vec<&str> = out.lines().collect();
    assert_ne!(lines[0], "1", "the init is PID 1 of the joined namespace: {out:?}");
    assert_eq!(lines[1], ns(&a_pid.to_string(), "pid"), "{out:?}");
    assert_eq!(lines[2], "1", "the other container's process is not seen: {out:?}");
    b.ok(&["kill", &b.id, "KILL"]);
    assert_eq!(wait_exit(b_pid, WAIT), 128 + 9);
    b.ok(&["delete", &b.id]);
    b.assert_gone();
    assert!(alive(a_pid), "deleting the joining container killed the other one");

    // A network namespace's file given as the PID one.
    let Some(mut bad) = Case::new("pidjoin-bad", &["true"]) else { return };
    for n in bad.config["linux"]["namespaces"].as_array_mut().unwrap() {
        if n["type"] == "pid" {
            n["path"] = json!(format!("/proc/{a_pid}/ns/net"));
        }
    }
    bad.write_config();
    let st = bad.create_as(&bad.id, "init.pid");
    assert!(!st.success(), "a network namespace joined as the PID one");
    if runtime().contains("tinyctr") {
        let e = bad.log_error();
        assert!(e.contains(&format!("join the PID namespace \"/proc/{a_pid}/ns/net\": EINVAL")), "{e}");
    }
    assert!(bad.rt.state(&bad.id).is_none(), "a failed create left its state");
    a.ok(&["kill", &a.id, "KILL"]);
    assert_eq!(wait_exit(a_pid, WAIT), 128 + 9);
    a.ok(&["delete", &a.id]);
    a.assert_gone();
}

/// A tmpfs's options go to the kernel as written (docker's `--tmpfs /run:uid=1000`,
/// `nr_inodes=`, `huge=`: only size and mode were taken, the rest refused); one the
/// kernel does not know fails create, naming the mount, and leaves nothing.
#[test]
fn a_tmpfs_takes_its_options_as_written() {
    let prog = "{ stat -c '%a %u %g' /scratch; grep ' /scratch ' /proc/self/mountinfo | sed 's/.* - //'; } \
        > /shared/out.tmp; mv /shared/out.tmp /shared/out";
    let Some(mut c) = Case::new("tmpfsopts", &["sh", "-c", prog]) else { return };
    let mount = json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev", "mode=700", "uid=1000", "gid=1001", "nr_inodes=100", "size=1m"]});
    c.config["mounts"].as_array_mut().unwrap().push(mount);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let out = c.wait_shared("out");
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    assert_eq!(out, "700 1000 1001\ntmpfs tmpfs rw,size=1024k,nr_inodes=100,mode=700,uid=1000,gid=1001\n");
    c.ok(&["delete", &c.id]);
    c.assert_gone();

    let Some(mut bad) = Case::new("tmpfsbad", &["true"]) else { return };
    let mount = json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["bogus=1"]});
    bad.config["mounts"].as_array_mut().unwrap().push(mount);
    bad.write_config();
    let st = bad.create_as(&bad.id, "init.pid");
    assert!(!st.success(), "a tmpfs option the kernel does not know was accepted");
    if runtime().contains("tinyctr") {
        let e = bad.log_error();
        assert!(e.contains("/scratch") && e.contains("EINVAL") && e.contains("tmpfs refused an option"), "{e}");
    }
    assert!(bad.rt.state(&bad.id).is_none(), "a failed create left its state");
    assert!(cgroup_dirs(&bad.cgroup).is_empty(), "a failed create left its cgroup");
}

/// `tmpcopyup` (runc's extension: podman and CRI-O put it on a read-only container's
/// /run, /tmp and /var/tmp, podman on every `--tmpfs`; tinyctr passed it to the kernel,
/// which refused it): the tmpfs starts with a copy of the image's directory below it, directories,
/// files, symbolic links (not followed) and fifos with their modes and owners, writable,
/// or read-only with `ro`; the image's directory is unchanged. On a bind it is refused
/// by name; a copy that does not fit fails create, saying so, and leaves nothing.
#[test]
fn tmpcopyup_fills_the_tmpfs_with_what_it_covers() {
    let prog = "{ cd /srv && find . | sort | while read f; do stat -c '%n %A %u:%g %s' \"$f\"; done; \
        readlink link; cat lock/sub/f; echo new > lock/new && echo written; touch /ro/x 2>/dev/null || echo ro; \
        cat /ro/kept; grep -E ' /(srv|ro) ' /proc/self/mountinfo | cut -d' ' -f5,6,9 | sort; } > /shared/out.tmp; \
        mv /shared/out.tmp /shared/out";
    let Some(mut c) = Case::new("copyup", &["sh", "-c", prog]) else { return };
    let root = c.bundle.join("rootfs");
    let run = root.join("srv");
    std::fs::create_dir_all(run.join("lock/sub")).unwrap();
    std::fs::write(run.join("lock/sub/f"), "data\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", run.join("link")).unwrap();
    let sh = |cmd: &str| assert!(Command::new("sh").args(["-c", cmd]).status().unwrap().success(), "{cmd}");
    sh(&format!("cd {} && chmod 4755 lock/sub/f && chown 1000:1001 lock && chmod 0750 lock", run.display()));
    // (runc 1.1 copies no fifo: it fails on one.)
    let fifo = runtime().contains("tinyctr");
    if fifo {
        sh(&format!("mkfifo {}/fifo", run.display()));
    }
    std::fs::create_dir_all(root.join("ro")).unwrap();
    std::fs::write(root.join("ro/kept"), "kept\n").unwrap();
    let tmpfs = |dst: &str, extra: &[&str]| {
        let mut o = vec!["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"];
        o.extend_from_slice(extra);
        json!({"destination": dst, "type": "tmpfs", "source": "tmpfs", "options": o})
    };
    c.config["mounts"].as_array_mut().unwrap().extend([tmpfs("/srv", &[]), tmpfs("/ro", &["ro"])]);
    c.write_config();
    let pid = c.create();
    c.ok(&["start", &c.id]);
    let out = c.wait_shared("out");
    assert_eq!(wait_exit(pid, WAIT), 0, "stderr {:?}", c.file("stderr"));
    let want =
        ". drwxr-xr-x 0:0 100\n./fifo prw-r--r-- 0:0 0\n./link lrwxrwxrwx 0:0 11\n./lock drwxr-x--- 1000:1001 60\n\
        ./lock/sub drwxr-xr-x 0:0 60\n./lock/sub/f -rwsr-xr-x 0:0 5\n/etc/passwd\ndata\nwritten\nro\nkept\n\
        /ro ro,nosuid,nodev,relatime tmpfs\n/srv rw,nosuid,nodev,relatime tmpfs\n";
    // (The root's mode and size are the tmpfs's own: runc's too.)
    let strip = |s: &str| s.lines().skip(1).filter(|l| fifo || !l.starts_with("./fifo")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&out), strip(want), "{out}");
    c.ok(&["delete", &c.id]);
    c.assert_gone();
    assert!(!run.join("lock/new").exists(), "the copy wrote through to the image");

    if !runtime().contains("tinyctr") {
        return;
    }
    let Some(mut bad) = Case::new("copyupbind", &["true"]) else { return };
    let mount = json!({"destination": "/x", "type": "bind", "source": "/tmp", "options": ["rbind", "tmpcopyup"]});
    bad.config["mounts"].as_array_mut().unwrap().push(mount);
    bad.write_config();
    assert!(!bad.create_as(&bad.id, "init.pid").success(), "tmpcopyup on a bind was accepted");
    let e = bad.log_error();
    assert!(e.contains("'tmpcopyup' is not a bind mount option"), "{e}");

    let Some(mut full) = Case::new("copyupfull", &["true"]) else { return };
    std::fs::create_dir_all(full.bundle.join("rootfs/big")).unwrap();
    std::fs::write(full.bundle.join("rootfs/big/f"), vec![7u8; 256 * 1024]).unwrap();
    full.config["mounts"].as_array_mut().unwrap().push(tmpfs("/big", &["size=64k"]));
    full.write_config();
    assert!(!full.create_as(&full.id, "init.pid").success(), "a copy larger than the tmpfs passed");
    let e = full.log_error();
    assert!(e.contains("/big") && e.contains("ENOSPC") && e.contains("does not fit the tmpfs"), "{e}");
    assert!(
        full.rt.state(&full.id).is_none() && cgroup_dirs(&full.cgroup).is_empty(),
        "a failed create left state or a cgroup"
    );

    // Sixteen levels of directories below the mount point are copied, not seventeen.
    for (levels, ok) in [(16, true), (17, false)] {
        let Some(mut deep) = Case::new(&format!("copyup{levels}"), &["true"]) else { return };
        std::fs::create_dir_all(deep.bundle.join("rootfs/deep").join(vec!["d"; levels].join("/"))).unwrap();
        deep.config["mounts"].as_array_mut().unwrap().push(tmpfs("/deep", &[]));
        deep.write_config();
        let st = deep.create_as(&deep.id, "init.pid");
        assert_eq!(st.success(), ok, "{levels} levels: {:?}", deep.rt.last_error());
        match ok {
            true => drop(deep.ok(&["delete", "--force", &deep.id])),
            false => {
                let e = deep.log_error();
                assert!(e.contains("ELOOP") && e.contains("at most 16 levels"), "{e}");
            }
        }
        deep.assert_gone();
    }
}

/// `linux.resources.blockIO` throttles (nerdctl's `--device-read-bps` and the like): each
/// device's rate in the container's blkio (v1) or io.max (v2, the VM guests), changed by
/// `update`; a device the kernel will not throttle fails create naming the file; weights
/// are refused by name.
#[test]
fn block_io_throttles_go_to_the_containers_cgroup() {
    let Some(mut c) = Case::new("blkio", &["sleep", "100"]) else { return };
    // A disk of this machine's (a partition or a character device is refused by the kernel).
    let disk = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with("loop"))
        .find_map(|e| std::fs::read_to_string(e.path().join("dev")).ok());
    let v1 = v1_mounted("blkio");
    let Some(disk) = disk.filter(|_| v1) else {
        assert!(!common::in_ci(), "CI=true: no disk or no v1 blkio hierarchy here (the VM guest checks v2)");
        return eprintln!("skipped: no disk or no v1 blkio here");
    };
    let (major, minor) = disk.trim().split_once(':').unwrap();
    let (major, minor): (u32, u32) = (major.parse().unwrap(), minor.parse().unwrap());
    let dev = |rate: u64| json!([{"major": major, "minor": minor, "rate": rate}]);
    c.config["linux"]["resources"] =
        json!({"blockIO": {"throttleReadBpsDevice": dev(1048576), "throttleWriteIOPSDevice": dev(100)}});
    c.write_config();
    let pid = c.create();
    let file = |f: &str| cgroup_file(&c.cgroup, f).map(|s| s.trim().to_owned());
    assert_eq!(file("blkio.throttle.read_bps_device"), Some(format!("{major}:{minor} 1048576")));
    assert_eq!(file("blkio.throttle.write_iops_device"), Some(format!("{major}:{minor} 100")));
    let doc = c.path("res.json");
    std::fs::write(&doc, json!({"blockIO": {"throttleReadBpsDevice": dev(2097152)}}).to_string()).unwrap();
    c.ok(&["update", "--resources", doc.to_str().unwrap(), &c.id]);
    // (runc 1.1's update leaves the throttles alone.)
    if std::env::var("TINYCTR_OCI_RUNTIME").is_err() {
        assert_eq!(file("blkio.throttle.read_bps_device"), Some(format!("{major}:{minor} 2097152")), "after update");
    }
    kill9(pid);
    assert_eq!(wait_exit(pid, WAIT), 137);
    c.ok(&["delete", &c.id]);
    c.assert_gone();
    if std::env::var("TINYCTR_OCI_RUNTIME").is_ok() {
        return; // the messages are tinyctr's
    }
    // /dev/null's numbers: a character device, which blkio has no queue for.
    c.config["linux"]["resources"] =
        json!({"blockIO": {"throttleReadBpsDevice": [{"major": 1, "minor": 3, "rate": 1}]}});
    c.write_config();
    assert!(!c.create_as(&c.id, "bad.pid").success(), "a throttle of a character device accepted");
    assert!(c.log_error().contains("blkio.throttle.read_bps_device"), "{}", c.log_error());
    assert!(c.rt.state(&c.id).is_none() && cgroup_dirs(&c.cgroup).is_empty(), "the failed create left something");
    c.config["linux"]["resources"] = json!({"blockIO": {"weight": 500}});
    c.write_config();
    assert!(!c.create_as(&c.id, "w.pid").success(), "a block I/O weight accepted");
    assert!(
        c.log_error().contains("linux.resources.blockIO.weight: block I/O weights are not supported"),
        "{}",
        c.log_error()
    );
}
