//! End-to-end tests of `tinyctr run --rootfs DIR`: real containers in a busybox rootfs
//! built by each test (from the Debian package busybox-static; no binary is committed).
//!
//! They need root, and /bin/busybox from busybox-static (`.ci/run` installs it). Elsewhere
//! they skip and say why; under CI=true a skip is a failure.
//!
//! The initramfs case (pivot_root answers EINVAL, the automatic fallback) is tested in the
//! VM test bed: tests/vm_rootfs.rs and tests/vm/guest/rootfs.sh.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::rootfs::{can_run, Rootfs};
use common::{in_ci, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_tinyctr");
/// Running a shell script in a test's rootfs.
trait Sh {
    fn sh_with(&self, extra: &[&str], script: &str) -> Output;
    fn sh(&self, script: &str) -> String;
}

impl Sh for Rootfs {
    /// `tinyctr run [extra...] --rootfs DIR /bin/sh -c script`.
    fn sh_with(&self, extra: &[&str], script: &str) -> Output {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--rootfs", self.path(), "/bin/sh", "-c", script]);
        run(&args)
    }

    /// Runs `script` in the rootfs, asserting success; returns stdout.
    fn sh(&self, script: &str) -> String {
        let o = self.sh_with(&[], script);
        assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status, stdout(&o), stderr(&o));
        stdout(&o)
    }
}

fn run(args: &[&str]) -> Output {
    common::run_bin(BIN, args, Duration::from_secs(30))
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("tinyctr itself was killed by a signal")
}

/// Mount points of a mountinfo text (field 5).
fn mount_points(mountinfo: &str) -> Vec<String> {
    mountinfo.lines().filter_map(|l| l.split(' ').nth(4)).map(String::from).collect()
}

#[test]
fn files_outside_the_rootfs_are_invisible() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("outside");
    // A file next to DIR, and the host's own files: none of them may be reachable.
    let secret = r.dir.with_extension("secret");
    std::fs::write(&secret, "host only\n").unwrap();
    let script = format!(
        "cat /marker; ls -A / | tr '\\n' ' '; echo; \
         test -e {s} && echo SEEN {s}; test -e /etc/passwd && echo SEEN /etc/passwd; \
         test -e {bin} || echo no-host-binary; \
         cd /.. && pwd && cat marker; ls -A /proc/1/root/ | tr '\\n' ' '",
        s = secret.display(),
        bin = BIN,
    );
    let out = r.sh(&script);
    let _ = std::fs::remove_file(&secret);
    assert!(!out.contains("SEEN"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "inside");
    // What the rootfs holds, plus the mount points tinyctr created.
    assert_eq!(lines[1], "bin dev marker proc sys tmp ", "{out}");
    assert_eq!(lines[2], "no-host-binary");
    assert_eq!(lines[3], "/", "/.. is / itself");
    assert_eq!(lines[4], "inside");
    assert_eq!(lines[5], "bin dev marker proc sys tmp ", "PID 1's root is the rootfs");
}

#[test]
fn the_old_root_is_absent_from_mountinfo() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("mountinfo");
    let mi = r.sh("cat /proc/self/mountinfo");
    // Exactly one root, and it is DIR (the root field shows DIR's path in its filesystem).
    let roots: Vec<&str> = mi.lines().filter(|l| l.split(' ').nth(4) == Some("/")).collect();
    assert_eq!(roots.len(), 1, "{mi}");
    assert!(roots[0].split(' ').nth(3).unwrap().ends_with(r.dir.file_name().unwrap().to_str().unwrap()), "{mi}");
    // Every other mount is one tinyctr made inside the rootfs: nothing of the host's tree
    // (its /proc, /sys/fs/cgroup, /tmp...) came along.
    let ours = [
        "/proc",
        "/sys",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys/firmware",
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
        "/proc/interrupts",
        "/sys/devices/virtual/powercap",
    ];
    for m in mount_points(&mi) {
        assert!(m == "/" || ours.contains(&m.as_str()), "unexpected mount {m} in the container:\n{mi}");
    }
    let procs = mount_points(&mi).iter().filter(|m| *m == "/proc").count();
    assert_eq!(procs, 1, "one proc, the container's own:\n{mi}");
}

#[test]
fn dev_nodes_work_and_pts_is_a_new_devpts() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("dev");
    let out = r.sh("echo x >/dev/null && echo null-ok; \
         head -c 16 /dev/urandom | wc -c; head -c 16 /dev/random | wc -c; head -c 5 /dev/zero | wc -c; \
         echo x 2>/dev/null >/dev/full || echo full-refuses; \
         stat -f -c %T /dev/pts; stat -f -c %T /dev/shm; stat -f -c %T /dev; \
         readlink /dev/ptmx; readlink /dev/fd; readlink /dev/stdin; readlink /dev/stdout; readlink /dev/stderr; \
         test -c /dev/pts/ptmx && echo ptmx-ok; test -c /dev/tty && echo tty-ok; \
         echo hi >/dev/shm/x && cat /dev/shm/x; \
         stat -c %a /dev/null");
    let want = "null-ok\n16\n16\n5\nfull-refuses\ndevpts\ntmpfs\ntmpfs\n\
                pts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\n\
                ptmx-ok\ntty-ok\nhi\n666\n";
    assert_eq!(out, want);
    // A new instance: the pts mount is not the host's (its options say newinstance's mode).
    let mi = r.sh("grep ' /dev/pts ' /proc/self/mountinfo");
    assert!(mi.contains("ptmxmode=666"), "{mi}");
}

#[test]
fn sys_is_read_only_and_proc_is_nosuid_nodev_noexec() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("sys");
    let mi = r.sh("cat /proc/self/mountinfo");
    let opts = |point: &str| -> String {
        mi.lines()
            .find(|l| l.split(' ').nth(4) == Some(point))
            .unwrap_or_else(|| panic!("no {point} in\n{mi}"))
            .split(' ')
            .nth(5)
            .unwrap()
            .to_string()
    };
    assert!(opts("/sys").split(',').any(|o| o == "ro"), "{mi}");
    for flag in ["nosuid", "nodev", "noexec"] {
        assert!(opts("/proc").split(',').any(|o| o == flag), "{flag} missing on /proc:\n{mi}");
    }
    let o = r.sh_with(&[], "touch /sys/x");
    assert_ne!(code(&o), 0);
}

#[test]
fn masked_paths_cannot_be_read_and_kernel_knobs_are_read_only() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("mask");
    // Files read as empty; directories are empty; each only if the kernel has it.
    let out = r.sh(
        "for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/timer_stats; do \
           [ -e $f ] && echo $f $(cat $f | wc -c); done; \
         for d in /proc/acpi /proc/scsi /proc/asound /sys/firmware; do \
           [ -e $d ] && echo $d $(ls -A $d | wc -l); done; true",
    );
    for line in out.lines() {
        assert!(line.ends_with(" 0"), "{line} is readable:\n{out}");
    }
    assert!(out.contains("/proc/keys 0"), "{out}");
    assert!(out.contains("/sys/firmware 0"), "{out}");
    // /proc/sys is read-only (hostname lives in the container's own UTS namespace, so
    // even a wrong success would not touch the host).
    let o = r.sh_with(&[], "echo other >/proc/sys/kernel/hostname");
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("Read-only"), "{}", stderr(&o));
    let mi = r.sh("cat /proc/self/mountinfo");
    for p in ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"] {
        if let Some(l) = mi.lines().find(|l| l.split(' ').nth(4) == Some(p)) {
            assert!(l.split(' ').nth(5).unwrap().split(',').any(|o| o == "ro"), "{p} not ro: {l}");
        } else {
            assert!(!Path::new(p).exists(), "{p} exists on the host but is not read-only inside:\n{mi}");
        }
    }
}

#[test]
fn read_only_refuses_writes_while_proc_dev_and_shm_work() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("ro");
    let o = r.sh_with(&["--read-only"], "touch /newfile");
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("Read-only file system"), "{}", stderr(&o));
    assert!(!r.dir.join("newfile").exists());
    let o = r.sh_with(
        &["--read-only"],
        "echo x >/dev/null && echo hi >/dev/shm/f && cat /dev/shm/f && head -c 3 /dev/zero | wc -c && \
         cat /proc/self/stat >/dev/null && echo proc-ok && touch /tmp/x 2>/dev/null || echo tmp-ro",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n3\nproc-ok\ntmp-ro\n");
    // Without --read-only the same rootfs is writable.
    r.sh("touch /newfile");
    assert!(r.dir.join("newfile").exists());
}

#[test]
fn the_hosts_mounts_are_untouched() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("host");
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    // Mounting needs CAP_SYS_ADMIN: only --privileged keeps it.
    let o = r.sh_with(&["--privileged"], "mount -t tmpfs none /tmp && touch /tmp/x && ls /dev /proc >/dev/null");
    assert!(o.status.success(), "{}", stderr(&o));
    let o = r.sh_with(&["--read-only"], "true");
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(before, after, "the host's mount table changed");
    // DIR itself got only the empty mount points.
    for d in ["proc", "sys", "dev"] {
        assert_eq!(std::fs::read_dir(r.dir.join(d)).unwrap().count(), 0, "{d} not empty on the host");
    }
}

#[test]
fn a_relative_dir_and_dot_work() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("relative");
    let parent = r.dir.parent().unwrap();
    let name = r.dir.file_name().unwrap().to_str().unwrap();
    for (cwd, arg) in
        [(parent, name.to_string()), (r.dir.as_path(), ".".to_string()), (r.dir.as_path(), "./".to_string())]
    {
        let o = Command::new(BIN)
            .current_dir(cwd)
            .args(["run", "-r", &arg, "/bin/cat", "/marker"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "-r {arg} in {}: {}", cwd.display(), stderr(&o));
        assert_eq!(stdout(&o), "inside\n");
    }
}

#[test]
fn workdir_defaults_to_root_and_can_be_set() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("workdir");
    assert_eq!(r.sh("pwd"), "/\n");
    let o = run(&["run", "-r", r.path(), "-w", "/tmp", "/bin/pwd"]);
    assert_eq!(stdout(&o), "/tmp\n", "{}", stderr(&o));
}

#[test]
fn a_missing_or_non_directory_rootfs_is_125_naming_it() {
    if !can_run() {
        return;
    }
    let missing = std::env::temp_dir().join(format!("tinyctr-rootfs-missing-{}", std::process::id()));
    let o = run(&["run", "--rootfs", missing.to_str().unwrap(), "/bin/true"]);
    assert_eq!(code(&o), 125);
    let e = stderr(&o);
    assert!(e.contains(&format!("\"{}\"", missing.display())) && e.contains("ENOENT"), "{e}");
    assert_eq!(e.lines().count(), 1, "one line: {e}");

    let file = missing.with_extension("file");
    std::fs::write(&file, "").unwrap();
    let o = run(&["run", "-r", file.to_str().unwrap(), "/bin/true"]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(code(&o), 125);
    let e = stderr(&o);
    assert!(e.contains(&format!("\"{}\"", file.display())) && e.contains("ENOTDIR"), "{e}");
}

#[test]
fn a_command_missing_inside_the_rootfs_is_127() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("missing-cmd");
    // Present on the host, absent in the rootfs: it must be looked up inside.
    for cmd in ["bash", "/usr/bin/env", "no-such-command"] {
        let o = run(&["run", "-r", r.path(), cmd]);
        assert_eq!(code(&o), 127, "{cmd}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(cmd) && e.contains("inside the rootfs"), "{e}");
    }
    let o = run(&["run", "-r", r.path(), "/marker"]);
    assert_eq!(code(&o), 126, "not executable: {}", stderr(&o));
}

/// The container's memory cgroup directory's parent: tinyctr's own memory cgroup
/// (nested creation, see DESIGN.md), on cgroup v1 or v2.
fn own_memory_cgroup() -> Option<PathBuf> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    for l in cg.lines() {
        let mut f = l.splitn(3, ':');
        let (_, ctrls, path) = (f.next()?, f.next()?, f.next()?);
        let v1 = ctrls.split(',').any(|c| c == "memory");
        let v2 = ctrls.is_empty();
        for m in mi.lines() {
            let (pre, post) = m.split_once(" - ")?;
            let fstype = post.split(' ').next()?;
            let point = pre.split(' ').nth(4)?;
            let opts = post.split(' ').nth(2).unwrap_or("");
            let hit = (v1 && fstype == "cgroup" && opts.split(',').any(|o| o == "memory"))
                || (v2 && fstype == "cgroup2" && {
                    let c = std::fs::read_to_string(
                        Path::new(point).join(path.trim_start_matches('/')).join("cgroup.controllers"),
                    )
                    .unwrap_or_default();
                    c.split_whitespace().any(|w| w == "memory")
                });
            if hit {
                return Some(Path::new(point).join(path.trim_start_matches('/')));
            }
        }
    }
    None
}

fn subdirs(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn rootfs_with_a_memory_limit_holds_it_and_cleans_up() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("memory");
    let Some(cg) = own_memory_cgroup() else {
        if in_ci() {
            panic!("CI=true: no memory cgroup found for this process");
        }
        eprintln!("skipped: no memory controller here");
        return;
    };
    let before = subdirs(&cg);
    // A small allocation fits.
    let o = r.sh_with(&["-m", "64m"], "head -c 8m /dev/zero | tail -c 1 | wc -c");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n");
    // busybox sort holds its one 100 MB line in memory: it cannot fit in 64 MiB, and
    // the OOM kill shows as the shell's 128+9. (There is no swap here to hide in; with
    // swap, --memory-swap 64m would be needed as well.)
    let o = r.sh_with(&["-m", "64m"], "head -c 100m /dev/zero | sort >/dev/null");
    assert_eq!(code(&o), 137, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
    let after = subdirs(&cg);
    assert_eq!(before, after, "cgroup directories left behind in {}", cg.display());
}

/// The initramfs fallback is taken only for the real thing: started chroot'ed into a
/// subdirectory of a tmpfs (also "not a mount point" to pivot_root, also EINVAL, also a
/// tmpfs magic), tinyctr must report pivot_root's EINVAL rather than move-and-chroot.
#[test]
fn a_chroot_into_a_tmpfs_subdirectory_is_not_taken_for_an_initramfs() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("chroot");
    let top = r.dir.with_extension("tmpfs");
    std::fs::create_dir_all(&top).unwrap();
    // In a mount namespace of its own (so nothing outlives the test): a tmpfs, a
    // subdirectory holding tinyctr and a copy of the rootfs, and a chroot into it.
    let script = format!(
        "set -e; mount -t tmpfs none {t}; mkdir {t}/sub; cp {bin} {t}/sub/tinyctr; cp -a {r} {t}/sub/r; \
         chroot {t}/sub /tinyctr run -r /r /bin/true",
        t = top.display(),
        bin = BIN,
        r = r.path()
    );
    let o = Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]).output().unwrap();
    let _ = std::fs::remove_dir(&top);
    assert_eq!(code(&o), 125, "stdout: {} stderr: {}", stdout(&o), stderr(&o));
    // Today the trampoline's `make / private` already says EINVAL there (`/` is not a
    // mount point); either way the answer must be that EINVAL, never a switched root.
    let e = stderr(&o);
    assert!(e.contains("EINVAL") && !e.contains("initramfs"), "{e}");
}

/// Not a check by itself: run *inside* a container by
/// `a_chroot_escape_from_the_container_stays_in_the_rootfs` (this test binary is a static
/// musl executable, so it runs in the busybox rootfs). It does the classic chroot escape —
/// chroot into a subdirectory without entering it, walk `..` from the old root, chroot
/// there — and prints what `/` then holds.
#[test]
fn escape_helper() {
    if std::env::var_os("TINYCTR_ESCAPE").is_none() {
        return;
    }
    std::fs::create_dir_all("/tmp/e").unwrap();
    rustix::process::chroot("/tmp/e").unwrap();
    for _ in 0..64 {
        rustix::process::chdir("..").unwrap();
    }
    rustix::process::chroot(".").unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir("/").unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    println!("\nESCAPED TO: {}", names.join(" "));
}

/// A container's root (it holds CAP_SYS_CHROOT) trying the chroot escape ends up in DIR
/// again: DIR's mount sits right on the old root's mount, and `..` never leaves a stack of
/// mounts that are each mounted on their parent's root. The same holds for the initramfs
/// fallback (checked by hand in the VM; see /work/notes/rootfs-report.md).
#[test]
fn a_chroot_escape_from_the_container_stays_in_the_rootfs() {
    if !can_run() {
        return;
    }
    let r = Rootfs::new("escape");
    std::fs::copy(std::env::current_exe().unwrap(), r.dir.join("escape")).unwrap();
    let o = run(&[
        "run",
        "-r",
        r.path(),
        "-e",
        "TINYCTR_ESCAPE=1",
        "/escape",
        "--exact",
        "escape_helper",
        "--nocapture",
        "--test-threads=1",
    ]);
    let out = stdout(&o);
    let line = out.lines().find_map(|l| l.strip_prefix("ESCAPED TO: "));
    assert_eq!(line, Some("bin dev escape marker proc sys tmp"), "status {:?}\n{out}\n{}", o.status, stderr(&o));
}
