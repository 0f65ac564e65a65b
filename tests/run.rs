//! End-to-end tests of `tinyctr run`: real containers, as root, on this host.
//!
//! They need root (namespaces, mounts). Elsewhere they skip with a reason; under CI=true
//! a skip is a failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{stderr, stdout, wait_output};

const BIN: &str = env!("CARGO_BIN_EXE_tinyctr");

/// False (after saying why) when these tests cannot run here; panics in CI.
fn privileged() -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true: end-to-end tests must run as root, and this is not root");
        }
        eprintln!("skipped: end-to-end container tests need root");
    }
    root
}

fn tinyctr(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    c
}

/// Runs to completion (killing it after 30 s) and returns the output.
fn run(args: &[&str]) -> Output {
    let child = tinyctr(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_output(child, Duration::from_secs(30))
}

/// Runs `sh -c script` in a container and returns its stdout, asserting success.
fn sh(script: &str) -> String {
    let o = run(&["run", "/bin/sh", "-c", script]);
    assert!(o.status.success(), "exit {:?}, stderr: {}", o.status, stderr(&o));
    stdout(&o)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("tinyctr itself was killed by a signal")
}

#[test]
fn command_is_pid_1_with_its_own_hostname() {
    if !privileged() {
        return;
    }
    let host_before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(sh("echo $$"), "1\n");
    assert_eq!(sh("hostname"), "tinyctr\n");
    let o = run(&["run", "-h", "box", "hostname"]);
    assert_eq!(stdout(&o), "box\n");
    assert_eq!(std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(), host_before);
}

#[test]
fn fresh_proc_is_nosuid_nodev_noexec_and_shows_only_the_container() {
    if !privileged() {
        return;
    }
    let mounts = sh("cat /proc/self/mountinfo");
    // The fresh proc is mounted over the host's: the last /proc line is the one in use.
    let procs: Vec<&str> = mounts.lines().filter(|l| l.split(' ').nth(4) == Some("/proc")).collect();
    let top = procs.last().expect("no /proc mount");
    assert!(top.contains(" - proc "), "{top}");
    let opts = top.split(' ').nth(5).unwrap();
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(opts.split(',').any(|o| o == flag), "{flag} missing in {opts}");
    }
    // Only the container's processes: PID 1 (the shell; the glob forks nothing).
    assert_eq!(sh("echo /proc/[0-9]*"), "/proc/1\n");
}

#[test]
fn mounts_inside_stay_inside_and_the_host_is_intact() {
    if !privileged() {
        return;
    }
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = tempdir("mnt");
    let script = format!("mount -t tmpfs none {d} && touch {d}/inside && ls {d}", d = dir.display());
    // Mounting needs CAP_SYS_ADMIN, which a default container no longer has (tests/confine.rs
    // checks that it fails): --privileged keeps every capability.
    let o = run(&["run", "--privileged", "/bin/sh", "-c", &script]);
    assert!(o.status.success(), "exit {:?}, stderr: {}", o.status, stderr(&o));
    assert_eq!(stdout(&o), "inside\n");
    let after = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(before, after, "the host's mount table changed");
    assert!(!dir.join("inside").exists());
    // The host's /proc still works and still shows host processes.
    assert!(std::path::Path::new("/proc/1/status").exists());
    assert!(std::fs::read_to_string("/proc/self/status").unwrap().contains("Pid:"));
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn network_namespace_has_only_lo_and_it_is_up() {
    if !privileged() {
        return;
    }
    let links = sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
    assert_eq!(links, "lo\n");
    let flags = sh("cat /sys/class/net/lo/flags 2>/dev/null || ip -o link show lo");
    let up = match flags.trim().strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).unwrap() & 1 == 1,
        None => flags.contains("UP"),
    };
    assert!(up, "lo is not up: {flags}");
    // --net host keeps the host's interfaces.
    let host = std::fs::read_to_string("/proc/net/dev").unwrap().lines().count();
    let o = run(&["run", "--net", "host", "cat", "/proc/net/dev"]);
    assert_eq!(stdout(&o).lines().count(), host);
}

#[test]
fn sysv_ipc_of_the_host_is_invisible() {
    if !privileged() {
        return;
    }
    let out = Command::new("ipcmk").args(["-M", "4096"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let id: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let inside = sh("cat /proc/sysvipc/shm | tail -n +2 | wc -l");
    let _ = Command::new("ipcrm").args(["-m", &id]).status();
    assert!(!id.is_empty(), "ipcmk failed: {text}");
    assert_eq!(inside.trim(), "0");
}

#[test]
fn cgroup_namespace_is_rooted_at_the_container() {
    if !privileged() {
        return;
    }
    for line in sh("cat /proc/self/cgroup").lines() {
        assert!(line.ends_with(":/"), "not rooted: {line}");
    }
}

#[test]
fn environment_is_clean_plus_e() {
    if !privileged() {
        return;
    }
    let o = tinyctr(&["run", "-e", "A=1 2", "-e", "KEPT", "-e", "UNSET_HERE", "-e", "HOME=/home/x", "env"])
        .env_clear()
        .env("KEPT", "yes")
        .env("SECRET", "no")
        .env("TERM", "xterm-test")
        .output()
        .unwrap();
    let mut env: Vec<String> = stdout(&o).lines().map(String::from).collect();
    env.sort();
    assert_eq!(
        env,
        [
            "A=1 2",
            "HOME=/home/x",
            "HOSTNAME=tinyctr",
            "KEPT=yes",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm-test",
        ]
    );
    // The last of several values wins.
    let o = run(&["run", "-e", "X=1", "-e", "X=2", "printenv", "X"]);
    assert_eq!(stdout(&o), "2\n");
}

#[test]
fn workdir_default_and_given() {
    if !privileged() {
        return;
    }
    let o = tinyctr(&["run", "pwd"]).current_dir("/usr").output().unwrap();
    assert_eq!(stdout(&o), "/usr\n");
    let o = run(&["run", "-w", "/tmp", "pwd"]);
    assert_eq!(stdout(&o), "/tmp\n");
    let o = run(&["run", "-w", "/does/not/exist", "pwd"]);
    assert_eq!(code(&o), 125);
    assert_eq!(
        stderr(&o),
        "tinyctr: change to working directory \"/does/not/exist\": ENOENT (No such file or directory)\n"
    );
}

#[test]
fn path_lookup_and_arguments_with_spaces() {
    if !privileged() {
        return;
    }
    let o = run(&["run", "printf", "[%s]", "a b", "", " c ", "-m", "5"]);
    assert_eq!(stdout(&o), "[a b][][ c ][-m][5]");
    let o = run(&["run", "-e", "PATH=/nowhere", "printf", "x"]);
    assert_eq!(code(&o), 127, "lookup uses the container's PATH");
    let o = run(&["run", "/bin/echo", "-m", "5"]);
    assert_eq!(stdout(&o), "-m 5\n");
}

#[test]
fn exit_statuses_follow_docker() {
    if !privileged() {
        return;
    }
    assert_eq!(code(&run(&["run", "true"])), 0);
    assert_eq!(code(&run(&["run", "sh", "-c", "exit 42"])), 42);
    let o = run(&["run", "no-such-command-xyz"]);
    assert_eq!(code(&o), 127);
    assert!(stderr(&o).starts_with("tinyctr: execute \"no-such-command-xyz\": ENOENT"), "{}", stderr(&o));
    let dir = tempdir("exec");
    let file = dir.join("data");
    std::fs::write(&file, "not a program\n").unwrap();
    let o = run(&["run", file.to_str().unwrap()]);
    assert_eq!(code(&o), 126);
    assert!(stderr(&o).contains("EACCES"), "{}", stderr(&o));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = run(&["run", file.to_str().unwrap()]);
    assert_eq!(code(&o), 126);
    assert!(stderr(&o).contains("ENOEXEC"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
    let o = run(&["run", "--bogus", "true"]);
    assert_eq!(code(&o), 125);
    assert_eq!(stderr(&o), "tinyctr: unknown option '--bogus' (see tinyctr run --help)\n");
    assert_eq!(code(&run(&["run"])), 125);
    // Killed by a signal: 128+S. PID 1 cannot be killed from inside its namespace, so the
    // command is a child of --init's PID 1.
    assert_eq!(code(&run(&["run", "--init", "sh", "-c", "kill -KILL $$"])), 137);
    assert_eq!(code(&run(&["run", "--init", "sh", "-c", "kill -SEGV $$"])), 139);
}

#[test]
fn help_and_version() {
    let o = run(&["--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("tinyctr run [OPTIONS] COMMAND"));
    let o = run(&["run", "--help"]);
    assert!(stdout(&o).contains("--hostname") && stdout(&o).contains("foreground"));
    let o = run(&["--version"]);
    assert!(stdout(&o).starts_with("tinyctr "));
}

/// Starts `args` with piped stdout, waits for its first line (the container is up).
fn start(args: &[&str]) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = tinyctr(args).stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    (child, out)
}

fn wait_for(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, sig).unwrap();
}

#[test]
fn sigterm_is_forwarded_to_a_trapping_shell() {
    if !privileged() {
        return;
    }
    let (mut child, mut out) =
        start(&["run", "sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.01; done"]);
    signal(&child, rustix::process::Signal::TERM);
    let st = wait_for(&mut child, Duration::from_secs(5));
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(st.code(), Some(3));
}

#[test]
fn init_stops_sleep_on_sigterm_and_reaps_zombies() {
    if !privileged() {
        return;
    }
    let (mut child, _out) = start(&["run", "--init", "sh", "-c", "echo ready; exec sleep 100"]);
    let t = Instant::now();
    signal(&child, rustix::process::Signal::TERM);
    let st = wait_for(&mut child, Duration::from_secs(5));
    assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    assert_eq!(st.code(), Some(143));
    // Orphans are reparented to the init and reaped: none stays a zombie.
    let out = sh_init(
        "for i in 1 2 3 4 5; do (sleep 0.01 &) ; done; sleep 0.3; grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l",
    );
    assert_eq!(out.trim(), "0");
}

fn sh_init(script: &str) -> String {
    let o = run(&["run", "--init", "sh", "-c", script]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn sigkill_of_tinyctr_leaves_no_orphan() {
    if !privileged() {
        return;
    }
    // A unique sleep time makes the container's process easy to find.
    let marker = format!("sleep 1000.{}", std::process::id());
    let script = format!("echo ready; exec {marker}");
    let (mut child, _out) = start(&["run", "sh", "-c", &script]);
    assert!(pgrep(&marker), "the container did not start");
    signal(&child, rustix::process::Signal::KILL);
    wait_for(&mut child, Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(5);
    while pgrep(&marker) {
        assert!(Instant::now() < deadline, "the container outlived tinyctr");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pgrep(pattern: &str) -> bool {
    Command::new("pgrep").args(["-f", pattern]).stdout(Stdio::null()).status().unwrap().success()
}

#[test]
fn stdin_passes_through_and_big_output_arrives_intact() {
    if !privileged() {
        return;
    }
    let mut child =
        tinyctr(&["run", "sh", "-c", "tr a-z A-Z"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"hello\nworld\n").unwrap();
    let o = wait_output_stdout(child);
    assert_eq!(o, "HELLO\nWORLD\n");

    let o = run(&["run", "seq", "1", "200000"]);
    let text = stdout(&o);
    let mut n = 0u32;
    for line in text.lines() {
        n += 1;
        assert_eq!(line.parse::<u32>().unwrap(), n);
    }
    assert_eq!(n, 200_000);
}

fn wait_output_stdout(mut child: Child) -> String {
    let mut s = String::new();
    child.stdout.take().unwrap().read_to_string(&mut s).unwrap();
    assert!(child.wait().unwrap().success());
    s
}

#[test]
fn fifty_containers_in_parallel() {
    if !privileged() {
        return;
    }
    let children: Vec<Child> = (0..50)
        .map(|i| {
            tinyctr(&["run", "-h", &format!("c{i}"), "sh", "-c", "echo $$ $(hostname)"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let o = wait_output(c, Duration::from_secs(60));
        assert!(o.status.success(), "container {i}: {}", stderr(&o));
        assert_eq!(stdout(&o), format!("1 c{i}\n"));
    }
}

#[test]
fn clone3_fallback_path_works() {
    if !privileged() {
        return;
    }
    // Debug builds (which `cargo test` runs) honour this switch; see spawn.rs.
    let o = tinyctr(&[
        "run",
        "sh",
        "-c",
        "echo $$ $(hostname); cat /proc/net/dev | tail -n +3 | wc -l; cat /sys/class/net/lo/flags; cat /proc/self/cgroup",
    ])
    .env("TINYCTR_DEBUG_NO_CLONE3", "1")
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1 tinyctr"));
    assert_eq!(lines.next(), Some("1"), "only lo in the network namespace");
    // The child brings `lo` up itself here (clone3 did not make the namespace).
    assert_eq!(lines.next(), Some("0x9"), "lo is UP|LOOPBACK");
    assert!(lines.all(|l| l.ends_with(":/")), "{text}");
    // And the proof it took the fallback: strace sees clone, not clone3.
    if Command::new("strace").arg("-V").output().is_ok() {
        let o = Command::new("strace")
            .args(["-f", "-e", "trace=clone,clone3", BIN, "run", "true"])
            .env("TINYCTR_DEBUG_NO_CLONE3", "1")
            .output()
            .unwrap();
        let trace = stderr(&o);
        assert!(trace.contains("clone(") && trace.contains("CLONE_NEWPID") && !trace.contains("clone3("), "{trace}");
    }
}

/// A fresh empty directory under /tmp.
fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tinyctr-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir(&d).unwrap();
    d
}
