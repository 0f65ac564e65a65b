//! Cgroup limits end to end: real containers, as root, on this host. Each limit is read
//! back from the host while the container runs, and shown to bite (OOM kill, fork bomb,
//! half a CPU, cpuset); bad values fail with 125; no cgroup directory is left behind
//! after success, failure, SIGKILL of tinyctr (after the next run) and 50 parallel runs.
//!
//! Every test names its container (`--name t<pid>-<test>`), so its directories are
//! `tinyctr-t<pid>-<test>` in every hierarchy; a guard removes whatever a failing test
//! left. They need root; elsewhere they skip with a reason; under CI=true a skip fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;
use common::wait_output;

const BIN: &str = env!("CARGO_BIN_EXE_tinyctr");
const ROOT: &str = "/sys/fs/cgroup";

/// Tests that measure time or load the machine run one at a time.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// False (after saying why) when these tests cannot run here; panics in CI.
fn privileged() -> bool {
    let root = rustix::process::geteuid().is_root();
    let mounted = Path::new(ROOT).join("cgroup.procs").exists()
        || Path::new(ROOT).join("pids").exists()
        || Path::new(ROOT).join("memory").exists();
    let why = match (root, mounted) {
        (false, _) => "cgroup tests need root",
        (true, false) => "no cgroup hierarchy is mounted under /sys/fs/cgroup",
        (true, true) => return true,
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true: cgroup tests may not skip, but {why}");
    }
    eprintln!("skipped: {why}");
    false
}

/// A container name unique to this test process, and a guard that removes whatever
/// cgroup of that name is left (killing its processes) when the test ends, pass or fail.
struct Name(String);

impl Name {
    fn new(test: &str) -> Name {
        let n = Name(format!("t{}-{test}", std::process::id()));
        n.cleanup();
        n
    }

    fn dir_name(&self) -> String {
        format!("tinyctr-{}", self.0)
    }

    /// Every directory of this container's cgroup, in every hierarchy.
    fn dirs(&self) -> Vec<PathBuf> {
        find_named(Path::new(ROOT), &self.dir_name(), 0)
    }

    /// The container's directory in the hierarchy mounted at `/sys/fs/cgroup/<h>`.
    fn dir_in(&self, h: &str) -> PathBuf {
        self.dirs()
            .into_iter()
            .find(|d| d.strip_prefix(ROOT).is_ok_and(|r| r.starts_with(h)))
            .unwrap_or_else(|| panic!("no {} cgroup for {} (have {:?})", h, self.0, self.dirs()))
    }

    fn cleanup(&self) {
        for d in self.dirs() {
            remove_cgroup(&d);
        }
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        self.cleanup();
    }
}

fn find_named(dir: &Path, name: &str, depth: usize) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for e in entries.flatten() {
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let p = e.path();
        if e.file_name() == name {
            found.push(p);
        } else if depth < 5 {
            found.extend(find_named(&p, name, depth + 1));
        }
    }
    found
}

/// Kills what is in a cgroup and removes it, children first (test cleanup only).
fn remove_cgroup(d: &Path) {
    if let Ok(entries) = std::fs::read_dir(d) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup(&e.path());
            }
        }
    }
    for _ in 0..100 {
        for pid in read(&d.join("cgroup.procs")).split_whitespace() {
            let _ = Command::new("kill").args(["-9", pid]).status();
        }
        if std::fs::remove_dir(d).is_ok() || !d.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default().trim().to_string()
}

fn tinyctr(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Runs to completion (killing it after `limit`) and returns the output.
fn run_for(args: &[&str], limit: Duration) -> Output {
    let child = tinyctr(args).spawn().unwrap();
    wait_output(child, limit)
}

fn run(args: &[&str]) -> Output {
    run_for(args, Duration::from_secs(30))
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn describe(o: &Output) -> String {
    format!("status {:?}\nstdout: {}\nstderr: {}", o.status, text(&o.stdout), text(&o.stderr))
}

/// Starts a container whose command prints `ready` and then waits for stdin to close;
/// returns once it is ready. (Dropping the `Child` closes stdin, so a failing test does
/// not leave it behind.)
fn start_waiting(args: &[&str]) -> Child {
    let script = "echo ready; read x; exit 0".to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["sh", "-c", &script]);
    let mut c = Command::new(BIN);
    c.args(&all).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "container did not start: {args:?}");
    child
}

/// Closes the container's stdin so it exits, and returns its status.
fn finish(mut child: Child) -> ExitStatus {
    drop(child.stdin.take());
    let limit = Duration::from_secs(20);
    common::wait_status(&mut child, Instant::now() + limit, limit)
}

fn assert_gone(n: &Name) {
    let left = n.dirs();
    assert!(left.is_empty(), "cgroup directories left behind: {left:?}");
}

/// The memory hierarchy directory tinyctr's own cgroup is in (the container's parent).
fn own_memory_cgroup() -> PathBuf {
    let cg = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = cg.lines().find_map(|l| l.split_once(":memory:").map(|(_, p)| p.to_string())).unwrap_or_default();
    PathBuf::from(format!("{ROOT}/memory{path}"))
}

fn v1_has(h: &str) -> bool {
    Path::new(ROOT).join(h).join("cgroup.procs").exists()
}

#[test]
fn every_limit_is_read_back_from_the_host() {
    if !privileged() {
        return;
    }
    let n = Name::new("readback");
    let child = start_waiting(&[
        "run",
        "--name",
        &n.0,
        "-m",
        "48m",
        "--memory-swap",
        "96m",
        "-c",
        "512",
        "--cpus",
        "0.5",
        "--cpuset-cpus",
        "0",
        "--pids-limit",
        "30",
    ]);
    let pid_in = |d: &Path| read(&d.join("cgroup.procs"));
    if v1_has("memory") {
        let m = n.dir_in("memory");
        assert!(m.starts_with(own_memory_cgroup()), "{m:?} is below tinyctr's own memory cgroup");
        assert_eq!(read(&m.join("memory.limit_in_bytes")), "50331648");
        assert_eq!(read(&m.join("memory.memsw.limit_in_bytes")), "100663296");
        assert!(!pid_in(&m).is_empty());
    }
    if v1_has("cpu") {
        let c = n.dir_in("cpu");
        assert_eq!(read(&c.join("cpu.shares")), "512");
        assert_eq!(read(&c.join("cpu.cfs_period_us")), "100000");
        assert_eq!(read(&c.join("cpu.cfs_quota_us")), "50000");
        assert!(!pid_in(&c).is_empty());
    }
    if v1_has("cpuset") {
        let c = n.dir_in("cpuset");
        assert_eq!(read(&c.join("cpuset.cpus")), "0");
        assert_eq!(read(&c.join("cpuset.mems")), read(&c.parent().unwrap().join("cpuset.mems")));
    }
    if v1_has("pids") {
        let p = n.dir_in("pids");
        assert_eq!(read(&p.join("pids.max")), "30");
        let pids = pid_in(&p);
        // The same process in every hierarchy, the unified one included.
        for d in n.dirs() {
            assert_eq!(pid_in(&d), pids, "{d:?}");
        }
    }
    if Path::new(ROOT).join("memory.max").exists() || Path::new(ROOT).join("cgroup.subtree_control").exists() {
        // A v2 host: the same limits in v2 form.
        let d = n.dirs().into_iter().next().unwrap();
        if d.join("memory.max").exists() {
            assert_eq!(read(&d.join("memory.max")), "50331648");
            assert_eq!(read(&d.join("memory.swap.max")), "50331648");
            assert_eq!(read(&d.join("cpu.weight")), "59");
            assert_eq!(read(&d.join("cpu.max")), "50000 100000");
            assert_eq!(read(&d.join("pids.max")), "30");
        }
    }
    let st = finish(child);
    assert_eq!(st.code(), Some(0));
    assert_gone(&n);
}

#[test]
fn the_container_sees_its_own_cgroup_as_root() {
    if !privileged() {
        return;
    }
    let n = Name::new("cgns");
    let o = run(&["run", "--name", &n.0, "--pids-limit", "10", "cat", "/proc/self/cgroup"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    for line in text(&o.stdout).lines() {
        assert!(line.ends_with(":/"), "cgroup namespace not rooted at the container's cgroup: {line}");
    }
    assert_gone(&n);
}

#[test]
fn memory_hog_is_oom_killed_with_137_and_a_message() {
    if !privileged() {
        return;
    }
    let n = Name::new("oom");
    let o = run(&["run", "--name", &n.0, "-m", "32m", "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"]);
    assert_eq!(code(&o), 137, "{}", describe(&o));
    assert!(
        text(&o.stderr).contains("tinyctr: the container was killed: out of memory (limit 32 MiB)"),
        "{}",
        describe(&o)
    );
    assert_gone(&n);
    // Within the limit, the same command succeeds and no OOM is reported.
    let o = run(&["run", "--name", &n.0, "-m", "64m", "dd", "if=/dev/zero", "of=/dev/null", "bs=8M", "count=1"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert!(!text(&o.stderr).contains("out of memory"), "{}", describe(&o));
    assert_gone(&n);
}

#[test]
fn fork_bomb_is_held_by_pids_limit_and_the_run_ends() {
    if !privileged() {
        return;
    }
    let _g = heavy();
    let n = Name::new("forkbomb");
    // A bounded bomb (harmless even if the limit failed): a subshell starts 500
    // sleepers, of which only the limit's worth can exist (dash gives up at the first
    // refused fork); PID 1 then spins a moment on builtins alone (it cannot fork
    // either) and exits, which takes the sleepers with it.
    let script = "(i=0; while [ $i -lt 500 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null; \
                  i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done";
    let start = Instant::now();
    let child = tinyctr(&["run", "--name", &n.0, "--pids-limit", "20", "sh", "-c", script]).spawn().unwrap();
    // Watch the pids cgroup from the host while it runs: peak and refused forks.
    let dir = n.dir_name();
    let watcher = std::thread::spawn(move || {
        let (mut peak, mut refused) = (0u64, 0u64);
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end {
            let dirs = find_named(&Path::new(ROOT).join("pids"), &dir, 0);
            for d in &dirs {
                peak = peak.max(read(&d.join("pids.current")).parse().unwrap_or(0));
                peak = peak.max(read(&d.join("pids.peak")).parse().unwrap_or(0));
                let ev = read(&d.join("pids.events"));
                refused = refused.max(ev.strip_prefix("max ").and_then(|v| v.parse().ok()).unwrap_or(0));
            }
            if dirs.is_empty() && refused > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (peak, refused)
    });
    let o = wait_output(child, Duration::from_secs(60));
    let (peak, refused) = watcher.join().unwrap();
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(text(&o.stdout).trim(), "done");
    assert!(peak <= 20, "pids reached {peak} under --pids-limit 20");
    assert!(refused > 0, "no fork was refused: the limit did not bite (peak {peak})");
    assert!(start.elapsed() < Duration::from_secs(30), "the run took {:?}", start.elapsed());
    assert_gone(&n);
}

/// CPU time (user + system, in clock ticks) of a process, from /proc/PID/stat.
fn cpu_ticks(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat; `after` starts at field 3.
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

#[test]
fn a_busy_loop_under_cpus_half_gets_about_half_a_cpu() {
    if !privileged() {
        return;
    }
    let _g = heavy();
    let n = Name::new("cpus");
    let mut child =
        tinyctr(&["run", "--name", &n.0, "--cpus", "0.5", "sh", "-c", "while :; do :; done"]).spawn().unwrap();
    // The container's PID 1, seen from the host.
    let mut pid = String::new();
    for _ in 0..500 {
        if let Some(d) = n.dirs().into_iter().next() {
            pid = read(&d.join("cgroup.procs"));
            if !pid.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!pid.is_empty(), "the container did not start");
    std::thread::sleep(Duration::from_millis(300));
    let (t0, c0) = (Instant::now(), cpu_ticks(&pid));
    std::thread::sleep(Duration::from_secs(3));
    let (t1, c1) = (Instant::now(), cpu_ticks(&pid));
    let share = (c1 - c0) as f64 / 100.0 / (t1 - t0).as_secs_f64();
    // Killing PID 1 ends the run with 128 + 9.
    let _ = Command::new("kill").args(["-9", &pid]).status();
    let st = common::wait_status(&mut child, Instant::now() + Duration::from_secs(20), Duration::from_secs(20));
    assert_eq!(st.code(), Some(137));
    assert!((0.35..=0.6).contains(&share), "a busy loop under --cpus 0.5 got {share:.2} CPU");
    assert_gone(&n);
}

#[test]
fn cpuset_shows_in_cpus_allowed_list() {
    if !privileged() {
        return;
    }
    let n = Name::new("cpuset");
    let o = run(&["run", "--name", &n.0, "--cpuset-cpus", "0", "grep", "Cpus_allowed_list", "/proc/self/status"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_eq!(text(&o.stdout).split_whitespace().nth(1), Some("0"), "{}", describe(&o));
    // The book's spelling works too.
    let o = run(&["run", "--name", &n.0, "-cpuset", "0", "grep", "Cpus_allowed_list", "/proc/self/status"]);
    assert_eq!(text(&o.stdout).split_whitespace().nth(1), Some("0"), "{}", describe(&o));
    assert_gone(&n);
}

#[test]
fn bad_values_are_125_and_leave_nothing() {
    if !privileged() {
        return;
    }
    let n = Name::new("bad");
    let cases: &[(&[&str], &str)] = &[
        (&["-m", "64x"], "tinyctr: -m: '64x' is not a size (try 64m)"),
        (&["--memory", "0"], "tinyctr: --memory: '0' is not a size: it must be more than 0"),
        (&["--memory", "1.5g"], "whole number"),
        (&["-m", "-5m"], "must be positive"),
        (&["--memory-swap", "64m"], "--memory-swap needs --memory"),
        (&["-m", "64m", "--memory-swap", "32m"], "is less than --memory"),
        (&["--cpus", "0"], "tinyctr: --cpus: '0' is too few CPUs"),
        (&["--cpus", "abc"], "is not a number of CPUs"),
        (&["-c", "1"], "is not a CPU share"),
        (&["--cpuset-cpus", "3-1"], "is not a CPU list"),
        (&["--pids-limit", "0"], "is not a number of processes"),
        (&["--name", "../x"], "is not a name"),
        (&["--cgroup-parent", "a/../b"], "is not a cgroup path"),
    ];
    for (opts, want) in cases {
        let mut args = vec!["run", "--name", &n.0];
        args.extend_from_slice(opts);
        args.push("true");
        let o = run(&args);
        assert_eq!(code(&o), 125, "{opts:?}: {}", describe(&o));
        assert!(text(&o.stderr).contains(want), "{opts:?}: want {want:?}: {}", describe(&o));
        assert_eq!(text(&o.stderr).lines().count(), 1, "one line: {}", describe(&o));
    }
    // A CPU outside those available: refused by the kernel, named with a hint.
    let ncpu = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let cpu = (ncpu + 7).to_string();
    let o = run(&["run", "--name", &n.0, "--cpuset-cpus", &cpu, "true"]);
    assert_eq!(code(&o), 125, "{}", describe(&o));
    let e = text(&o.stderr);
    assert!(e.contains(&format!("write \"{cpu}\" to \"")) && e.contains("cpuset.cpus\": E"), "{e}");
    assert!(e.contains("the CPUs available here are "), "{e}");
    assert_gone(&n);
}

#[test]
fn nothing_is_left_after_success_or_failure() {
    if !privileged() {
        return;
    }
    let n = Name::new("left");
    let o = run(&["run", "--name", &n.0, "-m", "64m", "--pids-limit", "10", "--cpus", "1", "true"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_gone(&n);
    let o = run(&["run", "--name", &n.0, "-m", "64m", "--pids-limit", "10", "sh", "-c", "exit 3"]);
    assert_eq!(code(&o), 3, "{}", describe(&o));
    assert_gone(&n);
    let o = run(&["run", "--name", &n.0, "-m", "64m", "--pids-limit", "10", "/no/such/command"]);
    assert_eq!(code(&o), 127, "{}", describe(&o));
    assert_gone(&n);
}

#[test]
fn a_name_in_use_is_refused() {
    if !privileged() {
        return;
    }
    let n = Name::new("dup");
    let first = start_waiting(&["run", "--name", &n.0, "--pids-limit", "10"]);
    // The same limits, and other ones (whose cgroups would be in other hierarchies).
    for limits in [&["--pids-limit", "10"][..], &["-m", "32m"], &["--cpu-shares", "512"]] {
        let o = run(&[&["run", "--name", &n.0][..], limits, &["true"]].concat());
        assert_eq!(code(&o), 125, "{limits:?}: {}", describe(&o));
        assert!(
            text(&o.stderr).contains(&format!("--name: '{}' is in use by a running container", n.0)),
            "{}",
            describe(&o)
        );
    }
    // The refused run left the running one alone.
    assert!(!n.dirs().is_empty());
    assert_eq!(finish(first).code(), Some(0));
    assert_gone(&n);
}

#[test]
fn sigkill_of_tinyctr_leaves_a_cgroup_the_next_run_removes() {
    if !privileged() {
        return;
    }
    let n = Name::new("sigkill");
    let mut victim =
        tinyctr(&["run", "--name", &n.0, "-m", "64m", "--pids-limit", "10", "sleep", "60"]).spawn().unwrap();
    for _ in 0..500 {
        if n.dirs().iter().any(|d| !read(&d.join("cgroup.procs")).is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();
    // The container dies with tinyctr; its directories stay (nobody was left to remove them).
    std::thread::sleep(Duration::from_millis(200));
    let left = n.dirs();
    if left.is_empty() {
        // A run of another test (they run in parallel, below the same cgroup) swept them
        // already: the very behaviour under test, only sooner.
        eprintln!("sigkill test: a concurrent run swept the killed run's cgroups first");
        return;
    }
    // The next run, with the same hierarchies but another name, sweeps them.
    let other = Name::new("sigkill-next");
    let o = run(&["run", "--name", &other.0, "-m", "64m", "--pids-limit", "10", "true"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert_gone(&n);
    assert_gone(&other);
}

/// Issue 11's sequence: killed runs used hierarchies (pids) the next run (`-m` alone)
/// makes no cgroup in; it removes their leftovers there too. Then the same for runs
/// that used pids alone, which share no hierarchy with the next run at all.
#[test]
fn killed_runs_leave_nothing_in_hierarchies_the_next_run_does_not_use() {
    if !privileged() || !v1_has("pids") || !v1_has("memory") {
        return;
    }
    let _g = heavy();
    // Unnamed, as a user runs them: their cgroups are `tinyctr-<pid>`. Each killed run
    // sweeps the one before it, so what stays is the last one's.
    let mut dead = Vec::new();
    let guard = Dead(&mut dead);
    let pids_root = Path::new(ROOT).join("pids");
    for (runs, limits) in [(20, &["-m", "32m", "--pids-limit", "32"][..]), (1, &["--pids-limit", "32"][..])] {
        for _ in 0..runs {
            let mut args = vec!["run"];
            args.extend_from_slice(limits);
            args.extend_from_slice(&["sleep", "30"]);
            let mut victim = tinyctr(&args).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(300));
            victim.kill().unwrap(); // SIGKILL
            victim.wait().unwrap();
            guard.0.push(format!("tinyctr-{}", victim.id()));
        }
        std::thread::sleep(Duration::from_millis(200));
        let left = || -> Vec<PathBuf> { guard.0.iter().flat_map(|n| find_named(Path::new(ROOT), n, 0)).collect() };
        let before = left();
        assert!(
            before.iter().any(|d| d.starts_with(&pids_root)),
            "the last killed run left its pids cgroup: {before:?}"
        );
        let o = run(&["run", "-m", "16m", "true"]);
        assert_eq!(code(&o), 0, "{}", describe(&o));
        let after = left();
        assert!(after.is_empty(), "after {limits:?} runs, left behind by a run with -m alone: {after:?}");
    }
}

/// Removes the named cgroups when a test ends, pass or fail.
struct Dead<'a>(&'a mut Vec<String>);

impl Drop for Dead<'_> {
    fn drop(&mut self) {
        for n in self.0.iter() {
            for d in find_named(Path::new(ROOT), n, 0) {
                remove_cgroup(&d);
            }
        }
    }
}

#[test]
fn a_stale_cgroup_is_removed_once_empty_and_nothing_in_it_is_killed() {
    if !privileged() || !v1_has("pids") {
        return;
    }
    let n = Name::new("stale");
    // A dead run's leftovers as the kernel leaves them cannot hold a process (the
    // container's PID namespace died with its init); one that does was filled by someone
    // else. Fake that: a `tinyctr-*` cgroup with a live process and nobody holding its lock.
    let d = Path::new(ROOT).join("pids").join(n.dir_name());
    std::fs::create_dir(&d).unwrap();
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(d.join("cgroup.procs"), sleeper.id().to_string()).unwrap();
    let other = Name::new("stale-next");
    let o = run(&["run", "--name", &other.0, "--pids-limit", "10", "true"]);
    let alive = sleeper.try_wait().unwrap().is_none();
    let kept = d.exists();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert!(alive && kept, "the sweep killed a process, or removed a cgroup that holds one");
    // Empty now, as a dead run's cgroup is: the next run removes it.
    for _ in 0..100 {
        if std::fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let o = run(&["run", "--name", &other.0, "--pids-limit", "10", "true"]);
    let swept = !d.exists();
    remove_cgroup(&d);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert!(swept, "the empty stale cgroup was removed");
}

#[test]
fn cpus_beyond_the_machine_are_refused() {
    if !privileged() {
        return;
    }
    let o = run(&["run", "--cpus", "100000", "true"]);
    assert_eq!(code(&o), 125, "{}", describe(&o));
    assert!(text(&o.stderr).starts_with("tinyctr: --cpus: more than the "), "{}", describe(&o));
}

#[test]
fn a_tinyctr_named_cgroup_tinyctr_did_not_make_is_never_touched() {
    if !privileged() || !v1_has("pids") {
        return;
    }
    // Someone else's cgroup that only looks like a leftover: a `tinyctr-` name, no lock
    // held, a live process, but not made by tinyctr (no mark).
    let n = Name::new("foreign");
    let d = Path::new(ROOT).join("pids").join(n.dir_name());
    std::fs::create_dir(&d).unwrap();
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(d.join("cgroup.procs"), sleeper.id().to_string()).unwrap();
    let o = run(&["run", "--pids-limit", "10", "true"]);
    let o2 = run(&["run", "--name", &n.0, "--pids-limit", "10", "true"]);
    let alive = sleeper.try_wait().unwrap().is_none();
    let kept = d.exists();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    remove_cgroup(&d);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    assert!(alive && kept, "a cgroup tinyctr did not make was swept");
    assert_eq!(code(&o2), 125, "its name is refused, not taken over: {}", describe(&o2));
}

#[test]
fn fifty_parallel_runs_all_succeed_and_leave_nothing() {
    if !privileged() {
        return;
    }
    let _g = heavy();
    let names: Vec<Name> = (0..50).map(|i| Name::new(&format!("par{i}"))).collect();
    let children: Vec<Child> = names
        .iter()
        .map(|n| {
            tinyctr(&["run", "--name", &n.0, "-m", "32m", "--pids-limit", "20", "--cpus", "1", "true"]).spawn().unwrap()
        })
        .collect();
    let outs: Vec<Output> = children.into_iter().map(|c| wait_output(c, Duration::from_secs(60))).collect();
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(code(o), 0, "run {i}: {}", describe(o));
    }
    for n in &names {
        assert_gone(n);
    }
    // And 50 more with default (pid-based) names.
    let children: Vec<Child> =
        (0..50).map(|_| tinyctr(&["run", "--pids-limit", "20", "-m", "32m", "true"]).spawn().unwrap()).collect();
    for c in children {
        let o = wait_output(c, Duration::from_secs(60));
        assert_eq!(code(&o), 0, "{}", describe(&o));
    }
}

#[test]
fn cgroup_parent_is_used_and_removed() {
    if !privileged() || !v1_has("pids") {
        return;
    }
    let n = Name::new("parent");
    let parent = format!("tinyctr-test-parent-{}", std::process::id());
    let child =
        start_waiting(&["run", "--name", &n.0, "--pids-limit", "7", "--cgroup-parent", &format!("/{parent}/sub")]);
    let d = Path::new(ROOT).join("pids").join(&parent).join("sub").join(n.dir_name());
    assert_eq!(read(&d.join("pids.max")), "7");
    assert_eq!(finish(child).code(), Some(0));
    assert!(!Path::new(ROOT).join("pids").join(&parent).exists(), "the parents tinyctr made are removed");
    assert_gone(&n);
}

#[test]
fn a_cgroup_parent_shared_by_concurrent_runs_is_removed_by_the_last() {
    if !privileged() || !v1_has("pids") {
        return;
    }
    let _g = heavy();
    // Runs that start and end at overlapping moments under one --cgroup-parent that none
    // of them found: whichever made it, the last one out removes it, and none fails
    // because another removed it under its feet.
    let parent = format!("tinyctr-test-shared-{}", std::process::id());
    let top = Path::new(ROOT).join("pids").join(&parent);
    let arg = format!("/{parent}/sub");
    let mut failed = Vec::new();
    for round in 0..4 {
        let children: Vec<Child> = (0..12)
            .map(|i| {
                let pause = format!("0.0{}", (i + round) % 5);
                tinyctr(&["run", "--cgroup-parent", &arg, "--pids-limit", "9", "sleep", &pause]).spawn().unwrap()
            })
            .collect();
        for c in children {
            let o = wait_output(c, Duration::from_secs(60));
            if code(&o) != 0 {
                failed.push(describe(&o));
            }
        }
    }
    let left = top.exists();
    remove_cgroup(&top);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(!left, "the shared parent was left behind");
}

#[test]
fn check_reports_the_layout_and_succeeds() {
    if !privileged() {
        return;
    }
    let o = run(&["check"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    let out = text(&o.stdout);
    for want in ["kernel:", "clone3:", "namespaces:", "cgroups:", "memory", "cpuset", "pids", "result:"] {
        assert!(out.contains(want), "{want} missing: {out}");
    }
    assert!(["v1", "v2", "hybrid"].iter().any(|k| out.contains(&format!("cgroups:    {k}"))), "{out}");
}

#[test]
fn no_limit_touches_no_cgroup() {
    if !privileged() {
        return;
    }
    // Without limits, the container stays in tinyctr's own cgroups.
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let o = run(&["run", "cat", "/proc/self/cgroup"]);
    assert_eq!(code(&o), 0, "{}", describe(&o));
    // Inside its cgroup namespace it sees `/` everywhere; the memory line of the host
    // shows tinyctr's own cgroup (not a tinyctr-* one) when read from the host side.
    assert!(!own.contains("tinyctr-"));
    assert!(!text(&o.stdout).contains("tinyctr-"), "{}", describe(&o));
}
