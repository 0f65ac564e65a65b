//! Cgroup limits in minimal VMs, on each host layout a user can have: `v2` (cgroup2
//! only), `v1` (one hierarchy per controller, cpu,cpuacct co-mounted), `hybrid` (v1 plus
//! cgroup2 at /sys/fs/cgroup/unified holding only hugetlb, like the development host)
//! and `bare` (nothing mounted). The checks are in tests/vm/guest/cgroup.sh.
//!
//! Same harness as tests/vm.rs (`tests/vm/vm.sh prepare`, then `boot LAYOUT SCRIPT`);
//! without qemu these tests skip and say why, under CI=true they fail instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn vm_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/vm.sh")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn text(out: &Output) -> String {
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    s
}

/// Ok when the bed is ready, Err(why) to skip; panics when preparing failed, or when
/// CI=true forbids the skip.
fn prepared() -> Result<(), String> {
    static BED: OnceLock<Result<(), (bool, String)>> = OnceLock::new();
    let r = BED.get_or_init(|| {
        let qemu = Command::new("sh").args(["-c", "command -v qemu-system-x86_64"]).output();
        if !qemu.is_ok_and(|o| o.status.success()) {
            return Err((true, "qemu-system-x86_64 not found (apt-get install qemu-system-x86)".into()));
        }
        match Command::new(vm_sh()).arg("prepare").output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err((false, format!("vm.sh prepare failed:\n{}", text(&out)))),
            Err(e) => Err((false, format!("cannot run {}: {e}", vm_sh().display()))),
        }
    });
    match r {
        Ok(()) => Ok(()),
        Err((true, why)) if !in_ci() => Err(why.clone()),
        Err((true, why)) => panic!("CI=true, so VM tests may not skip: {why}"),
        Err((false, why)) => panic!("{why}"),
    }
}

fn boot(layout: &str) {
    if let Err(why) = prepared() {
        eprintln!("skipped VM test cgroup in {layout}: {why}");
        return;
    }
    let out = Command::new(vm_sh()).args(["boot", layout, "cgroup"]).output().expect("run vm.sh boot");
    let console = text(&out);
    let passed = out.status.success() && console.lines().any(|l| l == "TINYCTR-VM-RESULT: 0");
    assert!(passed, "VM test cgroup in {layout} failed (vm.sh status {:?}); console:\n{console}", out.status.code());
    println!("{console}");
}

#[test]
fn cgroup_v2() {
    boot("v2");
}

#[test]
fn cgroup_v1() {
    boot("v1");
}

#[test]
fn cgroup_hybrid() {
    boot("hybrid");
}

#[test]
fn cgroup_bare() {
    boot("bare");
}
