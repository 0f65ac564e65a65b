//! End-to-end tests of default confinement (issue 12): real containers, read back from
//! inside — the capability sets and NoNewPrivs in /proc/self/status, `id`, HOME, resource
//! limits, masked and read-only paths without --rootfs — and every bad input of the new
//! options (status 125, the exact line, nothing created).
//!
//! The seccomp filter itself is the seccomp branch's to test (tests/seccomp.rs); nothing
//! here depends on whether one is loaded.
//!
//! Needs root, and the static /bin/busybox of busybox-static for the --rootfs trees with
//! their own /etc/passwd and /etc/group. Elsewhere the tests skip and say why; under
//! CI=true a skip is a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::rootfs::Rootfs;
use common::{in_ci, stderr, stdout, tinyctr_cgroups};

const BIN: &str = env!("CARGO_BIN_EXE_tinyctr");
const BUSYBOX: &str = "/bin/busybox";
/// docker's 14 default capabilities.
const DEFAULT: &str = "00000000a80425fb";
const ZERO: &str = "0000000000000000";

fn can_run() -> bool {
    let why = if !rustix::process::geteuid().is_root() {
        "confined containers need root"
    } else if !Path::new(BUSYBOX).exists() {
        "no static /bin/busybox to build a rootfs from (apt-get install busybox-static)"
    } else {
        return true;
    };
    assert!(!in_ci(), "CI=true, so confine tests may not skip: {why}");
    eprintln!("skipped: {why}");
    false
}

fn run(args: &[&str]) -> Output {
    let all: Vec<&str> = std::iter::once("run").chain(args.iter().copied()).collect();
    common::run_bin(BIN, &all, Duration::from_secs(30))
}

/// `tinyctr run ARGS /bin/sh -c SCRIPT`, asserting success; returns stdout.
fn sh(args: &[&str], script: &str) -> String {
    let mut a = args.to_vec();
    a.extend(["/bin/sh", "-c", script]);
    let o = run(&a);
    assert!(o.status.success(), "{a:?}: exit {:?}\nstdout: {}\nstderr: {}", o.status, stdout(&o), stderr(&o));
    stdout(&o)
}

/// `tinyctr run ARGS /bin/sh -c SCRIPT` with the device list in a cgroup2 no mount
/// shows, as a bare initramfs gets it (a debug build's switch forces it here).
fn sh_detached(args: &[&str], script: &str) -> Output {
    let mut a = vec!["run"];
    a.extend(args);
    a.extend(["/bin/sh", "-c", script]);
    Command::new(BIN).args(&a).env("TINYCTR_DEBUG_DETACHED", "1").stdin(Stdio::null()).output().unwrap()
}

/// The `Cap*:` and `NoNewPrivs:` values of a status text, in /proc's order.
fn caps_of(status: &str) -> Vec<String> {
    let want = ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:"];
    want.iter()
        .map(|k| {
            let line = status.lines().find(|l| l.starts_with(k)).unwrap_or_else(|| panic!("no {k} in {status}"));
            line[k.len()..].trim().to_owned()
        })
        .collect()
}

/// The container's CapInh, CapPrm, CapEff, CapBnd, CapAmb and NoNewPrivs.
fn container_caps(args: &[&str]) -> Vec<String> {
    caps_of(&sh(args, "cat /proc/self/status"))
}

fn expect(inh: &str, prm: &str, eff: &str, bnd: &str, amb: &str, nnp: &str) -> Vec<String> {
    [inh, prm, eff, bnd, amb, nnp].iter().map(|s| s.to_string()).collect()
}

/// This test process's bounding set: what tinyctr (run by it) holds.
fn host_bounding() -> String {
    caps_of(&std::fs::read_to_string("/proc/self/status").unwrap())[3].clone()
}

#[test]
fn a_default_container_has_dockers_fourteen_capabilities() {
    if !can_run() {
        return;
    }
    assert_eq!(container_caps(&[]), expect(ZERO, DEFAULT, DEFAULT, DEFAULT, ZERO, "0"));
    // --init: the command and the init itself (the container's PID 1) are both confined.
    let out = sh(&["--init"], "cat /proc/self/status; echo ====; cat /proc/1/status");
    let (cmd, init) = out.split_once("====\n").unwrap();
    assert_eq!(caps_of(cmd), expect(ZERO, DEFAULT, DEFAULT, DEFAULT, ZERO, "0"));
    assert_eq!(caps_of(init), expect(ZERO, DEFAULT, DEFAULT, DEFAULT, ZERO, "0"));
}

#[test]
fn cap_add_cap_drop_privileged_and_no_new_privileges() {
    if !can_run() {
        return;
    }
    assert_eq!(container_caps(&["--cap-drop", "ALL"]), expect(ZERO, ZERO, ZERO, ZERO, ZERO, "0"));
    let with_admin = "00000000a82425fb";
    assert_eq!(
        container_caps(&["--cap-add", "SYS_ADMIN"]),
        expect(ZERO, with_admin, with_admin, with_admin, ZERO, "0")
    );
    // docker's spellings: any case, CAP_ optional; drop ALL then add.
    let two = "0000000000001001"; // CHOWN | NET_ADMIN
    assert_eq!(
        container_caps(&["--cap-drop=all", "--cap-add", "net_admin", "--cap-add=CAP_CHOWN"]),
        expect(ZERO, two, two, two, ZERO, "0")
    );
    let no_chown = "00000000a80425fa";
    assert_eq!(container_caps(&["--cap-drop", "cap_chown"]), expect(ZERO, no_chown, no_chown, no_chown, ZERO, "0"));
    let host = host_bounding();
    assert_eq!(container_caps(&["--privileged"]), expect(ZERO, &host, &host, &host, ZERO, "0"));
    assert_eq!(container_caps(&["--cap-add", "ALL"]), expect(ZERO, &host, &host, &host, ZERO, "0"));
    assert_eq!(
        container_caps(&["--security-opt", "no-new-privileges"]),
        expect(ZERO, DEFAULT, DEFAULT, DEFAULT, ZERO, "1")
    );
    for v in ["no-new-privileges=true", "no-new-privileges:true"] {
        assert_eq!(container_caps(&["--security-opt", v])[5], "1", "{v}");
    }
    assert_eq!(container_caps(&["--security-opt", "no-new-privileges=false"])[5], "0");
}

#[test]
fn a_non_root_user_keeps_the_bounding_set_only() {
    if !can_run() {
        return;
    }
    assert_eq!(container_caps(&["-u", "1000"]), expect(ZERO, ZERO, ZERO, DEFAULT, ZERO, "0"));
    assert_eq!(
        container_caps(&["-u", "1000", "--security-opt", "no-new-privileges"]),
        expect(ZERO, ZERO, ZERO, DEFAULT, ZERO, "1")
    );
    // --init -u: the command is uid 1000 without capabilities.
    assert_eq!(container_caps(&["--init", "-u", "1000"]), expect(ZERO, ZERO, ZERO, DEFAULT, ZERO, "0"));
}

/// tinyctr's own inheritable and ambient capabilities (here set by setpriv) must not
/// reach the container: with an inheritable cap, a root container would get it back at
/// execve even after the bounding drop (CVE-2022-24769).
#[test]
fn inheritable_and_ambient_capabilities_do_not_leak_in() {
    if !can_run() {
        return;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        assert!(!in_ci(), "CI=true: setpriv (util-linux) is needed");
        eprintln!("skipped: no setpriv");
        return;
    }
    let o = Command::new("setpriv")
        .args(["--inh-caps", "+sys_admin,+net_raw", "--ambient-caps", "+sys_admin,+net_raw", BIN, "run"])
        .args(["/bin/cat", "/proc/self/status"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(caps_of(&stdout(&o)), expect(ZERO, DEFAULT, DEFAULT, DEFAULT, ZERO, "0"));
}

/// Supplementary groups of tinyctr itself never reach the container.
#[test]
fn no_supplementary_group_leaks_in() {
    if !can_run() {
        return;
    }
    let o = Command::new("setpriv")
        .args(["--groups", "4,27,100", BIN, "run", "/bin/sh", "-c", "grep Groups /proc/self/status"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim_end(), "Groups:");
}

/// A default container has no CAP_SYS_ADMIN, so it cannot mount (this holds without any
/// seccomp filter: the kernel itself refuses).
#[test]
fn mount_fails_in_a_default_container() {
    if !can_run() {
        return;
    }
    let o = run(&["/bin/busybox", "mount", "-t", "tmpfs", "none", "/mnt"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("Operation not permitted") || stderr(&o).contains("ermission denied"),
        "{}",
        stderr(&o)
    );
    // Nor change what the host's root can (sethostname is in our own UTS namespace and
    // CAP_SYS_ADMIN-gated too).
    let o = run(&["/bin/busybox", "hostname", "other"]);
    assert_ne!(o.status.code(), Some(0), "{}", stdout(&o));
    // With --privileged it works, inside the container's own namespace.
    assert_eq!(sh(&["--privileged"], "mount -t tmpfs none /mnt && echo mounted"), "mounted\n");
}

/// A file with capabilities gains them from the bounding set, for a non-root user too,
/// also under no_new_privs (docker ≥ 25 keeps permitted = the set for that reason), but
/// never one outside the bounding set.
#[test]
fn file_capabilities_work_within_the_bounding_set() {
    if !can_run() {
        return;
    }
    let dir = TempDir::new("filecaps");
    std::fs::copy(BUSYBOX, dir.0.join("busybox")).unwrap();
    let setcap = Command::new("setcap").args(["cap_net_raw+ep"]).arg(dir.0.join("busybox")).output();
    if !setcap.is_ok_and(|o| o.status.success()) {
        assert!(!in_ci(), "CI=true: setcap (libcap2-bin) is needed and must work on {}", dir.0.display());
        eprintln!("skipped: setcap is missing or does not work here");
        return;
    }
    let bb = dir.0.join("busybox");
    let bb = bb.to_str().unwrap();
    // The shell builtin reads its own status: the capped busybox itself.
    let script = "while read k v; do case $k in CapEff:) echo $v ;; esac; done </proc/self/status";
    let eff = |extra: &[&str]| {
        let mut a = extra.to_vec();
        a.extend([bb, "sh", "-c", script]);
        let o = run(&a);
        assert!(o.status.success(), "{a:?}: {}", stderr(&o));
        stdout(&o).trim().to_owned()
    };
    assert_eq!(eff(&["-u", "1000"]), "0000000000002000");
    assert_eq!(eff(&["-u", "1000", "--security-opt", "no-new-privileges"]), "0000000000002000");
    // Outside the bounding set the kernel refuses to run a capability-dumb binary (one
    // whose file effective bit is set) rather than run it without (capabilities(7),
    // "safety checking"): execve answers EPERM, which is 126.
    let o = run(&["-u", "1000", "--cap-drop", "NET_RAW", bb, "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert!(stderr(&o).contains("EPERM"), "{}", stderr(&o));
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("tinyctr-confine-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
bob:x:1000:1000:Bob:/home/bob:/bin/sh
alice:x:1001:100:Alice:/home/alice:/bin/sh
";
const GROUP: &str = "root:x:0:
users:x:100:
bob:x:1000:
wheel:x:10:bob,alice
audio:x:29:alice
video:x:44:carol,bob
";

/// A busybox rootfs with our own /etc/passwd and /etc/group (either may be left out).
fn rootfs(name: &str, passwd: Option<&str>, group: Option<&str>) -> Rootfs {
    let r = Rootfs::new(&format!("confine-{name}"));
    std::fs::create_dir_all(r.dir.join("etc")).unwrap();
    if let Some(p) = passwd {
        std::fs::write(r.dir.join("etc/passwd"), p).unwrap();
    }
    if let Some(g) = group {
        std::fs::write(r.dir.join("etc/group"), g).unwrap();
    }
    r
}

/// `id` and HOME in the rootfs `r` with `args`.
fn id_in(r: &Rootfs, args: &[&str]) -> String {
    let mut a = vec!["--rootfs", r.path()];
    a.extend_from_slice(args);
    sh(&a, "id; echo HOME=$HOME").trim_end().to_owned()
}

#[test]
fn users_and_groups_come_from_the_containers_files() {
    if !can_run() {
        return;
    }
    let r = rootfs("users", Some(PASSWD), Some(GROUP));
    // By name: gid, HOME and the supplementary groups that list bob.
    assert_eq!(
        id_in(&r, &["-u", "bob"]),
        "uid=1000(bob) gid=1000(bob) groups=10(wheel),44(video),1000(bob)\nHOME=/home/bob"
    );
    // By uid, the same entry; by uid:gid, that gid and no memberships (docker's rule).
    assert_eq!(
        id_in(&r, &["-u", "1000"]),
        "uid=1000(bob) gid=1000(bob) groups=10(wheel),44(video),1000(bob)\nHOME=/home/bob"
    );
    assert_eq!(id_in(&r, &["-u", "1000:29"]), "uid=1000(bob) gid=29(audio) groups=29(audio)\nHOME=/home/bob");
    assert_eq!(id_in(&r, &["--user=alice:video"]), "uid=1001(alice) gid=44(video) groups=44(video)\nHOME=/home/alice");
    // A uid with no entry: gid 0, HOME=/.
    assert_eq!(id_in(&r, &["-u", "4242"]), "uid=4242 gid=0(root) groups=0(root)\nHOME=/");
    // --group-add, by name and number, with and without -u.
    assert_eq!(
        id_in(&r, &["-u", "alice", "--group-add", "video", "--group-add", "7"]),
        "uid=1001(alice) gid=100(users) groups=7,10(wheel),29(audio),44(video),100(users)\nHOME=/home/alice"
    );
    assert_eq!(id_in(&r, &["--group-add", "audio"]), "uid=0(root) gid=0(root) groups=29(audio)\nHOME=/root");
    // -e HOME wins over passwd.
    assert_eq!(id_in(&r, &["-u", "bob", "-e", "HOME=/elsewhere"]).lines().last(), Some("HOME=/elsewhere"));
    // Without -u: root, HOME=/root, no supplementary groups.
    assert_eq!(id_in(&r, &[]), "uid=0(root) gid=0(root)\nHOME=/root");
}

#[test]
fn numeric_ids_work_without_passwd_or_group() {
    if !can_run() {
        return;
    }
    let r = rootfs("nofiles", None, None);
    assert_eq!(id_in(&r, &["-u", "1000"]), "uid=1000 gid=0 groups=0\nHOME=/");
    assert_eq!(id_in(&r, &["-u", "1000:1000", "--group-add", "5"]), "uid=1000 gid=1000 groups=5,1000\nHOME=/");
}

/// Without --rootfs the host's /etc/passwd is the container's.
#[test]
fn without_rootfs_the_hosts_passwd_is_used() {
    if !can_run() {
        return;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let Some(entry) = passwd.lines().map(|l| l.split(':').collect::<Vec<_>>()).find(|f| f.len() >= 6 && f[2] != "0")
    else {
        eprintln!("skipped: the host's /etc/passwd has no non-root user");
        return;
    };
    let out = sh(&["-u", entry[0]], "echo $(id -u) $(id -g) $HOME");
    assert_eq!(
        out.trim_end(),
        format!("{} {} {}", entry[2], entry[3], if entry[5].is_empty() { "/" } else { entry[5] })
    );
}

/// (soft, hard) of each `Max ...` line of /proc/self/limits read inside a container.
fn limits_in(args: &[&str]) -> Vec<(String, String, String)> {
    sh(args, "cat /proc/self/limits")
        .lines()
        .skip(1)
        .map(|l| {
            // The name is padded to 26 columns, the soft and hard limits to 21.
            let (name, rest) = l.split_at(26);
            let mut f = rest.split_whitespace();
            (name.trim().to_owned(), f.next().unwrap().to_owned(), f.next().unwrap().to_owned())
        })
        .collect()
}

fn limit(all: &[(String, String, String)], name: &str) -> (String, String) {
    let (_, s, h) = all.iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("no {name}"));
    (s.clone(), h.clone())
}

fn pair(s: &str, h: &str) -> (String, String) {
    (s.to_owned(), h.to_owned())
}

#[test]
fn ulimits_are_set() {
    if !can_run() {
        return;
    }
    let l = limits_in(&["--ulimit", "nofile=100:200", "--ulimit", "core=0", "--ulimit", "nproc=500:600"]);
    assert_eq!(limit(&l, "Max open files"), pair("100", "200"));
    assert_eq!(limit(&l, "Max core file size"), pair("0", "0"));
    assert_eq!(limit(&l, "Max processes"), pair("500", "600"));
    // The last value of a name wins; -1 and unlimited are no limit.
    let l = limits_in(&[
        "--ulimit",
        "nofile=50",
        "--ulimit",
        "nofile=64",
        "--ulimit",
        "cpu=-1",
        "--ulimit",
        "fsize=10:unlimited",
    ]);
    assert_eq!(limit(&l, "Max open files"), pair("64", "64"));
    assert_eq!(limit(&l, "Max cpu time"), pair("unlimited", "unlimited"));
    assert_eq!(limit(&l, "Max file size"), pair("10", "unlimited"));
    // The shell's view agrees.
    assert_eq!(
        sh(&["--ulimit", "nofile=77:88", "--ulimit", "core=1024"], "ulimit -n; ulimit -Hn; ulimit -c"),
        "77\n88\n2\n"
    );
}

/// Raising a hard limit above tinyctr's own needs CAP_SYS_RESOURCE; where tinyctr lacks
/// it (as on the development machine), the child's failure is one line and a 125.
#[test]
fn a_hard_limit_above_tinyctrs_own_is_refused_clearly_without_cap_sys_resource() {
    if !can_run() {
        return;
    }
    let bnd = u64::from_str_radix(&host_bounding(), 16).unwrap();
    if bnd & (1 << 24) != 0 {
        eprintln!("skipped: tinyctr holds CAP_SYS_RESOURCE here, so any hard limit can be raised");
        return;
    }
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let hard: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    let v = format!("nofile={}:{}", hard, hard + 1);
    let o = run(&["--ulimit", &v, "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        "tinyctr: set the resource limit \"nofile\": EPERM (Operation not permitted); raising a hard limit above tinyctr's own needs CAP_SYS_RESOURCE\n"
    );
}

/// The masks without --rootfs: over the fresh /proc and the host's /sys, in the
/// container's own mount namespace only.
#[test]
fn masked_and_read_only_paths_without_rootfs() {
    if !can_run() {
        return;
    }
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    // Whichever masked files this kernel has read empty inside.
    for f in ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/interrupts", "/proc/sched_debug"] {
        if Path::new(f).exists() {
            assert_eq!(sh(&[], &format!("wc -c <{f}")).trim(), "0", "{f} is not masked");
        }
    }
    if Path::new("/sys/firmware").exists() {
        assert_eq!(sh(&[], "ls -A /sys/firmware | wc -l").trim(), "0", "/sys/firmware is not masked");
        let o = run(&["/bin/sh", "-c", "touch /sys/firmware/x"]);
        assert_ne!(o.status.code(), Some(0), "the /sys/firmware mask is writable");
    }
    // /proc/sys and sysrq-trigger are read-only (EROFS: root would otherwise write them).
    for (f, v) in [("/proc/sys/kernel/hostname", "x"), ("/proc/sysrq-trigger", "h")] {
        if !Path::new(f).exists() {
            continue;
        }
        let o = run(&["/bin/sh", "-c", &format!("echo {v} >{f}")]);
        assert_ne!(o.status.code(), Some(0), "{f} is writable");
        assert!(stderr(&o).contains("Read-only file system"), "{f}: {}", stderr(&o));
    }
    let mi = sh(&[], "cat /proc/self/mountinfo");
    for m in ["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger"] {
        if let Some(l) = mi.lines().find(|l| l.split(' ').nth(4) == Some(m)) {
            assert!(l.split(' ').nth(5).unwrap().split(',').any(|o| o == "ro"), "{m} not read-only: {l}");
        }
    }
    // --privileged: none of it.
    let mi = sh(&["--privileged"], "cat /proc/self/mountinfo");
    for m in ["/proc/sys", "/proc/keys", "/sys/firmware", "/proc/acpi"] {
        assert!(!mi.lines().any(|l| l.split(' ').nth(4) == Some(m)), "{m} masked under --privileged");
    }
    assert_eq!(std::fs::read_to_string("/proc/self/mountinfo").unwrap(), before, "the host's mount table changed");
}

/// Every bad value of every new option: 125, one line naming it, nothing created.
#[test]
fn bad_input_is_125_with_one_line_naming_the_value() {
    if !can_run() {
        return;
    }
    let r = rootfs("bad", Some(PASSWD), Some(GROUP));
    let bare = rootfs("bare", None, None);
    let root = r.path();
    let bare_root = bare.path();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["--cap-add", "FLY"], "--cap-add: 'FLY' is not a capability (e.g. NET_ADMIN, cap_sys_time, ALL; see capabilities(7))".into()),
        (vec!["--cap-drop", ""], "--cap-drop: '' is not a capability (e.g. NET_ADMIN, cap_sys_time, ALL; see capabilities(7))".into()),
        (vec!["--cap-drop=CAP_"], "--cap-drop: 'CAP_' is not a capability (e.g. NET_ADMIN, cap_sys_time, ALL; see capabilities(7))".into()),
        (vec!["--privileged=true"], "--privileged: takes no value".into()),
        (vec!["--security-opt", "apparmor=unconfined"], "--security-opt: 'apparmor=unconfined' is not supported (known: no-new-privileges, seccomp=unconfined)".into()),
        (vec!["--security-opt", "seccomp=/etc/profile.json"], "--security-opt: 'seccomp=/etc/profile.json' is not supported: only seccomp=unconfined is, for now".into()),
        (vec!["--security-opt", "no-new-privileges=maybe"], "--security-opt: 'no-new-privileges=maybe' is not no-new-privileges[=true|false]".into()),
        (vec!["-u", ""], "-u: '' is not NAME|UID[:GROUP|GID]".into()),
        (vec!["--user", ":1000"], "--user: ':1000' is not NAME|UID[:GROUP|GID]".into()),
        (vec!["-u", "1000:"], "-u: '1000:' is not NAME|UID[:GROUP|GID]".into()),
        (vec!["-u", "2147483648"], "-u: '2147483648' has an id above 2147483647".into()),
        (vec!["--rootfs", root, "-u", "carol"], format!("--user: no user 'carol' in {root}/etc/passwd")),
        (vec!["--rootfs", root, "-u", "bob:staff"], format!("--user: no group 'staff' in {root}/etc/group")),
        (vec!["--rootfs", root, "--group-add", "staff"], format!("--group-add: no group 'staff' in {root}/etc/group")),
        (vec!["--rootfs", bare_root, "-u", "bob"], format!("--user: no user 'bob' in {bare_root}/etc/passwd (no such file)")),
        (vec!["--rootfs", bare_root, "--group-add", "audio"], format!("--group-add: no group 'audio' in {bare_root}/etc/group (no such file)")),
        (vec!["-u", "tinyctr-no-such-user"], "--user: no user 'tinyctr-no-such-user' in /etc/passwd".into()),
        (vec!["--group-add", ""], "--group-add: '' is not a group name or GID".into()),
        (vec!["--group-add", "99999999999"], "--group-add: '99999999999' has an id above 2147483647".into()),
        (vec!["--ulimit", "nofile"], "--ulimit: 'nofile' is not NAME=SOFT[:HARD] (e.g. nofile=1024:2048)".into()),
        (vec!["--ulimit", "nofile=x"], "--ulimit: 'nofile=x' has a limit that is not a number, -1 or unlimited".into()),
        (vec!["--ulimit", "nofile=1:2:3"], "--ulimit: 'nofile=1:2:3' has a limit that is not a number, -1 or unlimited".into()),
        (vec!["--ulimit", "nofile=20:10"], "--ulimit: 'nofile=20:10' has a soft limit above the hard limit".into()),
        (vec!["--ulimit", "files=10"], "--ulimit: 'files=10' has an unknown limit name (cpu fsize data stack core rss nproc nofile memlock as locks sigpending msgqueue nice rtprio rttime)".into()),
    ];
    let sixty_five: Vec<&str> = (0..65).flat_map(|_| ["--group-add", "7"]).collect();
    let mut all = cases;
    // As the last word, a value is missing.
    let o = run(&["--cap-add"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(125), "tinyctr: --cap-add: needs a value\n".to_owned()));
    all.push((sixty_five, "--group-add: '7' is one group too many (64 at most)".into()));
    // A capability tinyctr itself lacks (CAP_SYS_RESOURCE on the development machine).
    let bnd = u64::from_str_radix(&host_bounding(), 16).unwrap();
    let names = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    let lacking = names.iter().enumerate().find(|(i, _)| bnd & (1 << i) == 0).map(|(_, n)| *n);
    let lacking_arg;
    if let Some(n) = lacking {
        lacking_arg = n.to_lowercase();
        all.push((
            vec!["--cap-add", &lacking_arg],
            format!("--cap-add: CAP_{n}: tinyctr itself does not hold it (see tinyctr check)"),
        ));
    } else {
        eprintln!("note: tinyctr holds every capability here; the missing-capability case is not checked");
    }
    let cgroups_before = common::left_cgroups();
    let mounts_before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let marker = format!("ran-{}", std::process::id());
    for (args, want) in &all {
        let mut a = args.clone();
        // -m: a cgroup would be made if tinyctr got that far.
        a.extend(["-m", "64m", "/bin/sh", "-c", &marker]);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(125), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), format!("tinyctr: {want}\n"), "{args:?}");
        assert_eq!(stdout(&o), "", "{args:?}");
    }
    assert_eq!(common::left_cgroups(), cgroups_before, "a cgroup was left");
    assert_eq!(std::fs::read_to_string("/proc/self/mountinfo").unwrap(), mounts_before);
}

#[test]
fn check_reports_confinement() {
    if !can_run() {
        return;
    }
    let o = Command::new(BIN).arg("check").output().unwrap();
    let out = stdout(&o);
    assert!(out.contains("\nseccomp:    yes (filters can be loaded)\n"), "{out}");
    assert!(out.contains(&format!("\ncaps:       bounding set {}", host_bounding())), "{out}");
    assert!(out.contains("\nconfine:    yes (capabilities dropped and set, no_new_privs set)\n"), "{out}");
}

/// A uid or gid switch makes the kernel forget PR_SET_PDEATHSIG: the child arms it again,
/// so a SIGKILLed tinyctr still takes a non-root container with it.
#[test]
fn sigkill_of_tinyctr_kills_a_non_root_container_too() {
    if !can_run() {
        return;
    }
    // The last: no -u, but tinyctr itself runs with another egid, which the switch to
    // gid 0 changes (setpriv execs tinyctr in its own place).
    for (i, user) in ["1000", "0:1000", ""].iter().enumerate() {
        let marker = format!("sleep 1000.{}{i}", std::process::id());
        let script = format!("echo ready; exec {marker}");
        let mut cmd = match *user {
            "" => {
                let mut c = Command::new("setpriv");
                c.args(["--egid", "100", "--keep-groups", BIN, "run", "/bin/sh", "-c", &script]);
                c
            }
            u => {
                let mut c = Command::new(BIN);
                c.args(["run", "-u", u, "/bin/sh", "-c", &script]);
                c
            }
        };
        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line, "ready\n");
        let pgrep = || Command::new("pgrep").args(["-f", &marker]).stdout(Stdio::null()).status().unwrap().success();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !pgrep() {
            assert!(std::time::Instant::now() < deadline, "-u {user}: the container did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while pgrep() {
            if std::time::Instant::now() > deadline {
                let _ = Command::new("pkill").args(["-KILL", "-f", &marker]).status();
                panic!("-u {user}: the container outlived tinyctr");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A loop device over a file holding a marker, detached again on drop: a host disk
/// that tests can make and read without touching a real one.
struct LoopDev {
    dev: String,
    file: PathBuf,
}

impl LoopDev {
    fn new() -> LoopDev {
        // One file per device: tests of this binary make theirs at the same time.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let file = std::env::temp_dir().join(format!("tinyctr-loop-{}-{n}", std::process::id()));
        let mut data = b"HOST-DISK-MARKER".to_vec();
        data.resize(1 << 20, 0);
        std::fs::write(&file, data).unwrap();
        let o = Command::new("losetup").args(["-f", "--show"]).arg(&file).output().expect("losetup (util-linux)");
        assert!(o.status.success(), "losetup: {}", String::from_utf8_lossy(&o.stderr));
        LoopDev { dev: String::from_utf8(o.stdout).unwrap().trim().to_owned(), file }
    }

    /// `major minor` of the device.
    fn numbers(&self) -> (u32, u32) {
        use std::os::unix::fs::MetadataExt;
        let rdev = std::fs::metadata(&self.dev).unwrap().rdev();
        (rustix::fs::major(rdev), rustix::fs::minor(rdev))
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
        let _ = std::fs::remove_file(&self.file);
    }
}

/// The escape a device list closes: a container's root holds CAP_MKNOD and
/// CAP_DAC_OVERRIDE, so without one it reads (and could write) any host disk, through
/// the host's /dev or a node it makes itself, with or without a rootfs. docker's list
/// denies that and keeps the usual nodes; --privileged gets every device, as in docker.
/// The v1 devices hierarchy takes the list on this host; the detached cgroup2 (a host
/// with none mounted, a bare initramfs) is forced by a debug switch and holds as well.
#[test]
fn a_default_container_cannot_open_a_host_disk() {
    if !can_run() {
        return;
    }
    let disk = LoopDev::new();
    let (major, minor) = disk.numbers();
    let dev = &disk.dev;
    let exploit = format!(
        "for d in {dev} /tmp/disk; do \
           if head -c 16 $d 2>/dev/null | grep -q MARKER; then echo read $d; else echo denied $d; fi; \
         done"
    );
    let make = format!("mknod /tmp/disk b {major} {minor} && {exploit}; rm -f /tmp/disk");
    let denied = format!("denied {dev}\ndenied /tmp/disk\n");
    assert_eq!(sh(&[], &make), denied, "a default container");
    assert_eq!(sh(&["--privileged"], &make), format!("read {dev}\nread /tmp/disk\n"), "--privileged");
    // Dropping capabilities is no way around it, nor is the rootfs (the node made on the
    // image's own filesystem).
    let r = Rootfs::new("devices");
    let in_root = format!(
        "mknod /disk b {major} {minor} && (head -c 16 /disk | grep -q MARKER && echo read || echo denied); rm /disk"
    );
    assert_eq!(sh(&["-r", r.path()], &in_root), "denied\n", "with a rootfs");
    assert_eq!(sh(&["-r", r.path(), "--privileged"], &in_root), "read\n", "with a rootfs, --privileged");
    // The nodes docker lets a container use still work: read, written, made.
    let usual = "head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c; head -c 4 /dev/random | wc -c; \
                 echo x > /dev/null && echo null; (echo x > /dev/full) 2>&1 | grep -c 'not permitted'; \
                 mknod /tmp/n c 1 3 && echo x > /tmp/n && echo made; rm -f /tmp/n";
    assert_eq!(sh(&[], usual), "4\n4\n4\nnull\n0\nmade\n");
    // The same list from a cgroup2 no mount shows, as a bare initramfs gets it.
    let o = sh_detached(&[], &make);
    assert_eq!(stdout(&o), denied, "the detached cgroup2: {}", stderr(&o));
    let o = sh_detached(&[], usual);
    assert_eq!(stdout(&o), "4\n4\n4\nnull\n0\nmade\n", "the detached cgroup2: {}", stderr(&o));
    assert!(!tinyctr_cgroups().iter().any(|p| p.to_string_lossy().contains(&format!("-{}", std::process::id()))));
}

/// docker's `--device` and `--device-cgroup-rule`: a host device the list denies is
/// usable when asked for, with the access asked for and no more; with --rootfs its node
/// is there, at the path asked for. Through the v1 list and through a v2 program (the
/// detached cgroup2, forced), which then holds rules made at run time.
#[test]
fn device_options_let_a_container_use_a_host_device() {
    if !can_run() {
        return;
    }
    let disk = LoopDev::new();
    let (major, minor) = disk.numbers();
    let dev = disk.dev.as_str();
    let probe = |path: &str| {
        format!(
            "if head -c 16 {path} 2>/dev/null | grep -q MARKER; then echo read; else echo denied; fi; \
             if (printf HOST-DISK-MARKER > {path}) 2>/dev/null; then echo written; else echo unwritten; fi"
        )
    };
    for detached in [false, true] {
        let what = if detached { "detached cgroup2" } else { "v1 devices" };
        let go = |args: &[&str], script: &str| match detached {
            false => sh(args, script),
            true => {
                let o = sh_detached(args, script);
                assert!(o.status.success(), "{what} {args:?}: {}", stderr(&o));
                stdout(&o)
            }
        };
        assert_eq!(go(&[], &probe(dev)), "denied\nunwritten\n", "{what}: no option");
        let device = format!("--device={dev}");
        assert_eq!(go(&[&device], &probe(dev)), "read\nwritten\n", "{what}: --device");
        let read_only = format!("--device={dev}:r");
        assert_eq!(go(&[&read_only], &probe(dev)), "read\nunwritten\n", "{what}: --device :r");
        // A rule alone: for a node the container makes itself.
        let rule = format!("b {major}:{minor} r");
        let made = format!("mknod /tmp/d b {major} {minor} && {{ {}; }}; rm -f /tmp/d", probe("/tmp/d"));
        assert_eq!(go(&["--device-cgroup-rule", &rule], &made), "read\nunwritten\n", "{what}: a rule");
        assert_eq!(go(&["--device-cgroup-rule", "b *:* rw"], &made), "read\nwritten\n", "{what}: b *:*");
        assert_eq!(go(&["--device-cgroup-rule", "c *:* rw"], &made), "denied\nunwritten\n", "{what}: c *:*");
        assert_eq!(go(&["--device-cgroup-rule", "a *:* rwm"], &made), "read\nwritten\n", "{what}: a *:* rwm");
        // Other devices stay denied, the usual ones usable.
        let other = format!("{}; echo x > /dev/null && echo null", probe("/dev/kmsg"));
        assert_eq!(go(&[&device], &other), "denied\nunwritten\nnull\n", "{what}: others");
    }
    // With a rootfs the node is the host's, bound where asked (directories made).
    let r = Rootfs::new("device");
    let renamed = format!("--device={dev}:/dev/disks/xvda:rw");
    let script = format!("stat -c '%F %t:%T' /dev/disks/xvda; {}", probe("/dev/disks/xvda"));
    let want = format!("block special file {major:x}:{minor:x}\nread\nwritten\n");
    assert_eq!(sh(&["-r", r.path(), &renamed], &script), want);
    assert!(!r.dir.join("dev/disks").exists(), "the node went into the rootfs directory");
    // --privileged: every device, the node still made.
    assert_eq!(sh(&["-r", r.path(), "--privileged", &renamed], &probe("/dev/disks/xvda")), "read\nwritten\n");
}

/// Bad `--device` and `--device-cgroup-rule` values: a 125 naming the value before
/// anything is made.
#[test]
fn bad_device_options_are_125_and_leave_nothing() {
    if !can_run() {
        return;
    }
    let before = common::left_cgroups();
    let seventeen: Vec<String> = (0..17).map(|_| "--device-cgroup-rule=c 1:3 r".to_owned()).collect();
    let seventeen: Vec<&str> = seventeen.iter().map(String::as_str).collect();
    let cases: [(&[&str], &str); 9] = [
        (&["--device", "/dev/tinyctr-none"], "tinyctr: use the --device node \"/dev/tinyctr-none\": ENOENT (No such file or directory)\n"),
        (&["--device", "/dev/pts"], "tinyctr: use the --device node \"/dev/pts\": ENODEV (No such device); not a device node (name each of a directory)\n"),
        (&["--device", "/dev/null:/null"], "tinyctr: --device: '/dev/null:/null' is not HOST[:CONTAINER][:PERMS] (CONTAINER below /dev/; PERMS of r, w, m)\n"),
        (&["--device", "/dev/null:/dev/../x"], "tinyctr: --device: '/dev/null:/dev/../x' is not HOST[:CONTAINER][:PERMS] (CONTAINER below /dev/; PERMS of r, w, m)\n"),
        (&["--device", "/dev/null:rx"], "tinyctr: --device: '/dev/null:rx' is not HOST[:CONTAINER][:PERMS] (CONTAINER below /dev/; PERMS of r, w, m)\n"),
        (&["--device", "/dev/null:/dev/n"], "tinyctr: --device: HOST:CONTAINER needs --rootfs DIR (without, the container sees the host's /dev)\n"),
        (&["--device-cgroup-rule", "a 1:3 r"], "tinyctr: --device-cgroup-rule: 'a 1:3 r' is not TYPE MAJOR:MINOR ACCESS (e.g. 'c 10:232 rwm')\n"),
        (&["--device-cgroup-rule=c 1:3"], "tinyctr: --device-cgroup-rule: 'c 1:3' is not TYPE MAJOR:MINOR ACCESS (e.g. 'c 10:232 rwm')\n"),
        (&seventeen, "tinyctr: --device-cgroup-rule: 'c 1:3 r' is one too many (16 at most)\n"),
    ];
    for (args, want) in cases {
        let mut a = args.to_vec();
        a.push("/bin/true");
        let o = run(&a);
        assert_eq!(o.status.code(), Some(125), "{args:?}");
        assert_eq!(stderr(&o), want, "{args:?}");
    }
    assert_eq!(common::left_cgroups(), before);
}

/// On a v1 host the container's devices cgroup holds docker's list exactly (the same
/// set `docker run` shows in devices.list), and goes with the container.
#[test]
fn the_device_list_is_dockers() {
    if !can_run() {
        return;
    }
    let Some(devices) = ["/sys/fs/cgroup/devices"].into_iter().map(Path::new).find(|p| p.join("devices.list").exists())
    else {
        assert!(!in_ci(), "CI=true: this host (v1/hybrid) has a devices hierarchy");
        eprintln!("skipped: no v1 devices hierarchy");
        return;
    };
    let name = format!("devlist{}", std::process::id());
    let script = format!("cat {}/tinyctr-{name}/devices.list", devices.display());
    let mut got: Vec<String> = sh(&["--name", &name], &script).lines().map(str::to_owned).collect();
    got.sort();
    let mut want: Vec<String> = [
        "c *:* m",
        "b *:* m",
        "c 1:3 rwm",
        "c 1:5 rwm",
        "c 1:7 rwm",
        "c 1:8 rwm",
        "c 1:9 rwm",
        "c 5:0 rwm",
        "c 5:1 rwm",
        "c 5:2 rwm",
        "c 10:200 rwm",
        "c 136:* rwm",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(!devices.join(format!("tinyctr-{name}")).exists(), "the devices cgroup was left");
    // --privileged makes none.
    let o = run(&["--privileged", "--name", &name, "/bin/sh", "-c", &script]);
    assert_ne!(o.status.code(), Some(0), "a devices cgroup for --privileged: {}", stdout(&o));
}

/// Where the device list's cgroup cannot be made (a read-only cgroupfs, as inside a
/// container), the run is a 125 that says what the cgroup was for and what goes without
/// it, never a run without the list; --privileged runs.
#[test]
fn a_device_list_that_cannot_be_made_is_a_clear_125() {
    if !can_run() {
        return;
    }
    let devices = Path::new("/sys/fs/cgroup/devices");
    if !devices.join("devices.list").exists() {
        assert!(!in_ci(), "CI=true: this host (v1/hybrid) has a devices hierarchy");
        eprintln!("skipped: no v1 devices hierarchy");
        return;
    }
    // In a mount namespace of the test's own: the host's cgroupfs stays writable.
    let script = format!(
        "mount -o remount,bind,ro {d} && {BIN} run /bin/true; echo \"status $?\"; {BIN} run --privileged /bin/true; echo \"status $?\"",
        d = devices.display()
    );
    let o = Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]).output().unwrap();
    assert_eq!(stdout(&o), "status 125\nstatus 0\n", "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with("tinyctr: create cgroup \"/sys/fs/cgroup/devices/tinyctr-")
            && err.ends_with(
                ": EROFS (Read-only file system); it is for docker's device list (--privileged goes without)\n"
            )
            && err.lines().count() == 1,
        "{err}"
    );
}
