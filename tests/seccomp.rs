//! End-to-end tests of the default seccomp filter: real containers, as root.
//!
//! A probe (tests/seccomp-probe.c, built with `gcc -static` into a temporary directory)
//! runs inside a default container and makes the calls docker's profile denies; each must
//! fail with the profile's errno. Ordinary programs must still work, and the container
//! must show `Seccomp: 2` in /proc/self/status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod common;
use common::{require_root, stderr, stdout, BIN_PATH};

const EPERM: &str = "1";
const ENOSYS: &str = "38";

fn run(args: &[&str]) -> Output {
    common::run_bin(BIN_PATH, args, Duration::from_secs(60))
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: exit {:?}, stderr: {}", o.status, stderr(&o));
    stdout(&o)
}

/// The probe, built for this test; its directory goes when the test ends, pass or fail.
struct Probe {
    dir: PathBuf,
}

impl Probe {
    /// `None` (after saying why) when there is no C compiler; under CI=true that fails.
    fn build(tag: &str) -> Option<Probe> {
        let dir = std::env::temp_dir().join(format!("tinyctr-seccomp-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let probe = Probe { dir };
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seccomp-probe.c");
        let built = Command::new("gcc").args(["-static", "-O2", "-o"]).arg(probe.path()).arg(&src).output();
        match built {
            Ok(o) if o.status.success() => Some(probe),
            other => {
                let why = format!("cannot build the probe with gcc -static: {other:?}");
                assert!(!common::in_ci(), "CI=true, so the seccomp tests may not skip: {why}");
                eprintln!("skipped: {why}");
                None
            }
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("probe")
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The probe's "NAME ERRNO" lines.
fn probe_results(args: &[&str], probe: &Probe) -> Vec<(String, String)> {
    let path = probe.path();
    let mut all: Vec<&str> = args.to_vec();
    all.push(path.to_str().unwrap());
    let out = ok(&all);
    out.lines()
        .map(|l| {
            let (name, errno) = l.rsplit_once(' ').unwrap_or_else(|| panic!("probe said {l:?}"));
            (name.to_string(), errno.to_string())
        })
        .collect()
}

/// What a default container answers each probe: docker's profile, plus tinyctr's refusal
/// of the i386 and x32 ABIs and its ENOSYS for numbers above the profile's.
const EXPECTED: &[(&str, &str)] = &[
    ("keyctl", EPERM),
    ("add_key", EPERM),
    ("request_key", EPERM),
    ("kexec_load", EPERM),
    ("init_module", EPERM),
    ("open_by_handle_at", EPERM),
    ("bpf", EPERM),
    ("perf_event_open", EPERM),
    ("unshare_newuser", EPERM),
    ("mount", EPERM),
    ("reboot", EPERM),
    ("swapon", EPERM),
    ("int80", EPERM),
    ("x32_getpid", EPERM),
    ("clone3", ENOSYS),
    ("socket_vsock", EPERM),
    ("socket_alg", EPERM),
    ("socket_unix", "0"),
    ("personality_query", "0"),
    ("personality_no_aslr", EPERM),
    ("getppid", "0"),
    ("syscall_500", ENOSYS),
];

fn assert_default_answers(got: &[(String, String)]) {
    let got: Vec<(&str, &str)> = got.iter().map(|(n, e)| (n.as_str(), e.as_str())).collect();
    assert_eq!(got, EXPECTED, "probe results (NAME ERRNO) differ from the profile's");
}

#[test]
fn default_container_gets_the_profiles_errno_for_denied_calls() {
    if !require_root("the seccomp tests") {
        return;
    }
    let Some(probe) = Probe::build("deny") else { return };
    assert_default_answers(&probe_results(&["run"], &probe));
    // Under --init the filter is on before init forks the command: same answers.
    assert_default_answers(&probe_results(&["run", "--init"], &probe));
}

#[test]
fn default_container_shows_seccomp_mode_2() {
    if !require_root("the seccomp tests") {
        return;
    }
    let status = ok(&["run", "cat", "/proc/self/status"]);
    assert!(status.contains("\nSeccomp:\t2\n"), "{status}");
    assert!(status.contains("\nSeccomp_filters:\t1\n"), "{status}");
    assert!(status.contains("\nNoNewPrivs:\t0\n"), "docker leaves no_new_privs off: {status}");
    // --init (PID 1) and its command are both filtered.
    let both = ok(&["run", "--init", "/bin/sh", "-c", "grep ^Seccomp: /proc/1/status /proc/self/status"]);
    assert_eq!(both.matches("Seccomp:\t2").count(), 2, "{both}");
}

#[test]
fn ordinary_programs_still_work_in_a_default_container() {
    if !require_root("the seccomp tests") {
        return;
    }
    assert_eq!(ok(&["run", "busybox", "sh", "-c", "echo a | busybox tr a b"]), "b\n");
    assert_eq!(ok(&["run", "--init", "busybox", "sh", "-c", "echo a | busybox tr a b"]), "b\n");
    let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let threads = "import threading\n\
                   out = []\n\
                   ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]\n\
                   [t.start() for t in ts]\n\
                   [t.join() for t in ts]\n\
                   print(sorted(out) == list(range(8)))";
    assert_eq!(ok(&["run", python, "-c", threads]), "True\n");
    let Some(probe) = Probe::build("ordinary") else { return };
    let path = probe.path();
    assert_eq!(ok(&["run", path.to_str().unwrap(), "forkexec"]), "forked and exec'd\n");
}

/// The opt-outs: `--privileged` and `--security-opt seccomp=unconfined` load no filter.
#[test]
fn privileged_and_unconfined_containers_have_no_filter() {
    if !require_root("the seccomp tests") {
        return;
    }
    for opts in [&["--privileged"][..], &["--security-opt", "seccomp=unconfined"]] {
        let mut args = vec!["run"];
        args.extend_from_slice(opts);
        args.extend(["cat", "/proc/self/status"]);
        let status = ok(&args);
        assert!(status.contains("\nSeccomp:\t0\n"), "{opts:?}: {status}");
    }
    let Some(probe) = Probe::build("unconfined") else { return };
    let got = probe_results(&["run", "--security-opt", "seccomp=unconfined"], &probe);
    let clone3 = got.iter().find(|(n, _)| n == "clone3").unwrap();
    assert_eq!(clone3.1, "22", "unconfined, clone3(NULL, 0) reaches the kernel (EINVAL)");
}
