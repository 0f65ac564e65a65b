//! Helpers shared by the end-to-end test files: the root and CI policy, running the
//! binary under test with a time limit, and finding what tinyctr left in the cgroups.
#![allow(dead_code)]

use std::io::Read;

pub mod rootfs;
use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// The binary under test (the debug build `cargo test` makes).
pub const BIN_PATH: &str = env!("CARGO_BIN_EXE_tinyctr");

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// False (after saying why) when `what` cannot run here for want of root; under CI=true
/// a skip is a failure.
pub fn require_root(what: &str) -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    let why = format!("{what} run real containers, which needs root");
    assert!(!in_ci(), "CI=true, so {what} may not skip: {why}");
    eprintln!("skipped: {why}");
    false
}

/// Waits for `child` until `deadline`; kills it and panics after that (`limit` is
/// what the message says).
pub fn wait_status(child: &mut Child, deadline: Instant, limit: Duration) -> std::process::ExitStatus {
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tinyctr did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for `child` (killing it after `limit`) and collects its output; both pipes are
/// drained on threads so a chatty child cannot block on a full pipe.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_status(&mut child, deadline, limit);
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every `tinyctr*` directory in every cgroup hierarchy.
pub fn tinyctr_cgroups() -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with("tinyctr") {
                out.push(p.clone());
            }
            if depth < 8 {
                walk(&p, depth + 1, out);
            }
        }
    }
    let mut v = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), 0, &mut v);
    v
}

/// [`tinyctr_cgroups`] but those of a tinyctr still running (`tinyctr-<pid>` of a live
/// pid): every run makes a cgroup for its device list, so other tests' running
/// containers come and go; what a finished run left is what is found here.
#[allow(dead_code)]
pub fn left_cgroups() -> Vec<PathBuf> {
    tinyctr_cgroups()
        .into_iter()
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let pid = name.strip_prefix("tinyctr-").unwrap_or("");
            !(!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && Path::new("/proc").join(pid).exists())
        })
        .collect()
}

/// Runs `bin` with `args`, stdin from /dev/null, and collects its output (killing it after
/// `limit`).
pub fn run_bin(bin: &str, args: &[&str], limit: Duration) -> Output {
    let child = std::process::Command::new(bin)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_output(child, limit)
}
