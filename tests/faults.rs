//! Every setup step made to fail on purpose: the debug binary's fault switch
//! (`TINYCTR_DEBUG_FAULT=<point>`, src/fault.rs) makes that step fail with EIO. For every
//! point in `fault::NAMES`, a real container run with a memory limit must
//! - print exactly one line on stderr, starting `tinyctr: `, and nothing on stdout (the
//!   command never ran);
//! - exit 125 (tinyctr failed), or 126 for `child-exec` (exec failures are 126/127 by
//!   docker's convention, and EIO is not "not found");
//! - leave nothing behind: no `tinyctr-<pid>` cgroup in any hierarchy, the host's
//!   mountinfo unchanged, no process of the run alive.
//!
//! A point that is not wired into the code yet is a no-op: the run then succeeds, and
//! the test fails naming it.
//!
//! Needs root; elsewhere it skips saying why, and under CI=true a skip is a failure.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tinyctr::fault::NAMES;

mod common;
use common::{in_ci, tinyctr_cgroups};

const BIN: &str = env!("CARGO_BIN_EXE_tinyctr");
const BUSYBOX: &str = "/bin/busybox";

/// The checks look at the whole host (every cgroup, the mount table): one test at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn privileged() -> bool {
    common::require_root("faults tests")
}

/// The host's mount table without the fields that change on their own (none do for
/// mounts; the IDs are kept: a remount would change them).
fn mountinfo() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap()
}

/// Pids of processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(marker) {
                v.push(pid);
            }
        }
    }
    v
}

/// A minimal busybox rootfs for the `child-rootfs` point, removed on drop.
struct Rootfs(PathBuf);

impl Rootfs {
    fn new() -> Option<Rootfs> {
        if !Path::new(BUSYBOX).exists() {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("tinyctr-faults-rootfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::copy(BUSYBOX, dir.join("bin/busybox")).unwrap();
        for applet in ["sh", "echo", "sleep"] {
            symlink("busybox", dir.join("bin").join(applet)).unwrap();
        }
        Some(Rootfs(dir))
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tinyctr run ARGS` with `env` set, killing it after 20 s; returns its output and pid.
fn run(env: &[(&str, &str)], args: &[&str]) -> (Output, u32) {
    let mut c = Command::new(BIN);
    c.arg("run").args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let child = c.spawn().unwrap();
    let pid = child.id();
    (common::wait_output(child, Duration::from_secs(20)), pid)
}

/// What one armed point did, as a list of broken promises (empty: all kept).
fn check_point(name: &str, rootfs: Option<&Rootfs>) -> Vec<String> {
    let marker = format!("fault-{name}-{}", std::process::id());
    // A command that would print the marker and then linger: if it runs at all, stdout
    // shows it; if a process survives, the marker finds it.
    let script = format!("echo {marker}; sleep 0.01 || true # {marker}");
    let mut args: Vec<&str> = vec!["-m", "64m", "--pids-limit", "64"];
    let root;
    match name {
        "child-rootfs" => {
            let Some(r) = rootfs else { return vec!["no rootfs to test with".into()] };
            root = r.0.to_str().unwrap().to_owned();
            args.extend(["--rootfs", &root]);
        }
        "child-workdir" => args.extend(["-w", "/"]),
        _ => {}
    }
    args.extend(["/bin/sh", "-c", &script]);

    let mounts_before = mountinfo();
    let (o, pid) = run(&[("TINYCTR_DEBUG_FAULT", name)], &args);
    let mut broken = Vec::new();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let want = if name == "child-exec" { 126 } else { 125 };
    match o.status.code() {
        Some(c) if c == want => {}
        Some(0) => broken.push(format!("the run succeeded (exit 0): is point '{name}' wired into the code?")),
        c => broken.push(format!("exit {c:?}, expected {want}")),
    }
    if !(stderr.starts_with("tinyctr: ") && stderr.ends_with('\n') && stderr.lines().count() == 1) {
        broken.push(format!("stderr is not one 'tinyctr: ' line: {stderr:?}"));
    }
    if stdout.contains(&marker) {
        broken.push("the command ran".into());
    }
    // Give a killed child a moment to be reaped by the kernel before looking.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut left = processes_with(&marker);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        left = processes_with(&marker);
    }
    if !left.is_empty() {
        broken.push(format!("processes left: {left:?}"));
    }
    let own = format!("tinyctr-{pid}");
    let cgroups: Vec<PathBuf> = tinyctr_cgroups().into_iter().filter(|p| p.ends_with(&own)).collect();
    if !cgroups.is_empty() {
        broken.push(format!("cgroups left: {cgroups:?}"));
    }
    if mountinfo() != mounts_before {
        broken.push("the host's mountinfo changed".into());
    }
    broken
}

#[test]
fn every_fault_point_fails_cleanly_with_one_line() {
    if !privileged() {
        return;
    }
    let _serial = serial();
    let rootfs = Rootfs::new();
    assert!(rootfs.is_some() || !in_ci(), "CI=true: the child-rootfs point needs {BUSYBOX} (busybox-static)");
    let started = Instant::now();
    let mut failures = Vec::new();
    for &(name, _) in NAMES {
        if name == "child-rootfs" && rootfs.is_none() {
            eprintln!("skipped child-rootfs: no {BUSYBOX} to build a rootfs from (apt-get install busybox-static)");
            continue;
        }
        let broken = check_point(name, rootfs.as_ref());
        eprintln!("{name}: {}", if broken.is_empty() { "ok".to_owned() } else { broken.join("; ") });
        if !broken.is_empty() {
            failures.push(format!("{name}: {}", broken.join("; ")));
        }
    }
    if in_ci() {
        let all = tinyctr_cgroups();
        assert!(all.is_empty(), "CI=true: tinyctr cgroups exist after the fault runs: {all:?}");
    }
    eprintln!("{} fault points in {:?}", NAMES.len(), started.elapsed());
    assert!(failures.is_empty(), "fault points that broke a promise:\n{}", failures.join("\n"));
}

/// Without a fault armed, the same runs succeed: the failures above come from the
/// switch, not from the options used.
#[test]
fn the_same_runs_succeed_without_a_fault() {
    if !privileged() {
        return;
    }
    let _serial = serial();
    let marker = format!("nofault-{}", std::process::id());
    let script = format!("echo {marker}");
    let (o, _) = run(&[], &["-m", "64m", "--pids-limit", "64", "-w", "/", "/bin/sh", "-c", &script]);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), marker);
    if let Some(r) = Rootfs::new() {
        let (o, _) = run(&[], &["-m", "64m", "--rootfs", r.0.to_str().unwrap(), "/bin/sh", "-c", &script]);
        assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    }
    // An unknown point name arms nothing.
    let (o, _) = run(&[("TINYCTR_DEBUG_FAULT", "no-such-point")], &["/bin/sh", "-c", "true"]);
    assert_eq!(o.status.code(), Some(0));
}
