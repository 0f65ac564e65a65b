//! VM tests: tinyctr inside a minimal VM, on each host cgroup layout a user can have.
//!
//! Each test names a host layout (`v2`, `v1`, `hybrid`, `bare`) and a guest script
//! (`tests/vm/guest/NAME.sh`); `tests/vm/vm.sh` does the rest: it builds the release
//! binary, fetches the Debian kernel and busybox-static once (cached in target/vm/),
//! packs the initramfs, boots qemu, and returns the script's status. The console output
//! is shown when a test fails (and always with `--nocapture`).
//!
//! To add a test: write `tests/vm/guest/NAME.sh` (copy hello.sh; helpers in lib.sh) and
//! add one line below, `vm_test!(NAME: v2, v1, hybrid, bare);` with the layouts it
//! should run in. Test names are `NAME::LAYOUT`, so `cargo test --test vm NAME` or
//! `cargo test --test vm hybrid` pick a subset.
//!
//! Without qemu these tests skip and say why; under CI=true they fail instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// What preparing the VM bed came to, once per test process.
enum Bed {
    /// The initramfs image `vm.sh prepare` made for this process (it names it by the
    /// hash of its contents, so a concurrent prepare elsewhere cannot swap it under us).
    Ready(String),
    /// Nothing to boot on this machine (no qemu): the tests skip, saying this.
    Skip(String),
    Failed(String),
}

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

fn have_qemu() -> bool {
    Command::new("sh").args(["-c", "command -v qemu-system-x86_64"]).output().is_ok_and(|o| o.status.success())
}

/// Builds tinyctr, the kernel, the initramfs and the KVM verdict once for all tests
/// (vm.sh caches them across runs and locks against other processes).
fn bed() -> &'static Bed {
    static BED: OnceLock<Bed> = OnceLock::new();
    BED.get_or_init(|| {
        if !have_qemu() {
            return Bed::Skip("qemu-system-x86_64 not found (apt-get install qemu-system-x86)".into());
        }
        match Command::new(vm_sh()).arg("prepare").output() {
            Ok(out) if out.status.success() => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                Bed::Ready(stdout.lines().last().unwrap_or_default().to_owned())
            }
            Ok(out) => Bed::Failed(format!("vm.sh prepare failed:\n{}", text(&out))),
            Err(e) => Bed::Failed(format!("cannot run {}: {e}", vm_sh().display())),
        }
    })
}

/// Boots a guest with `layout` and runs `tests/vm/guest/<script>.sh` in it; panics
/// with the whole console output unless the script reports status 0.
pub fn boot(layout: &str, script: &str) {
    let image = match bed() {
        Bed::Ready(image) => image,
        Bed::Skip(why) if !in_ci() => {
            eprintln!("skipped VM test {script} in {layout}: {why}");
            return;
        }
        Bed::Skip(why) => panic!("CI=true, so VM tests may not skip: {why}"),
        Bed::Failed(why) => panic!("{why}"),
    };
    let out = Command::new(vm_sh())
        .args(["boot", layout, script])
        .env("TINYCTR_VM_INITRAMFS", image)
        .output()
        .expect("run vm.sh boot");
    let console = text(&out);
    // The result line is the guest's own word; vm.sh's status also covers hangs and panics.
    let passed = out.status.success() && console.lines().any(|l| l == "TINYCTR-VM-RESULT: 0");
    assert!(passed, "VM test {script} in {layout} failed (vm.sh status {:?}); console:\n{console}", out.status.code());
    println!("{console}");
}

/// `vm_test!(NAME: LAYOUT, ...)`: one `#[test]` per layout, named `NAME::LAYOUT`,
/// running `tests/vm/guest/NAME.sh` in a guest with that layout.
macro_rules! vm_test {
    ($script:ident : $($layout:ident),+ $(,)?) => {
        mod $script {
            $(
                #[test]
                fn $layout() {
                    super::boot(stringify!($layout), stringify!($script));
                }
            )+
        }
    };
}

// `tinyctr run` (issue 2) on every host layout: PID 1, hostname, /proc flags, exit
// statuses, mount isolation; in bare it runs with nothing mounted and leaves nothing.
// It also checks that each layout is what the harness claims.
vm_test!(run: v2, v1, hybrid, bare);

// `tinyctr run --init`: signals forwarded (SIGTERM stops `sleep 100` with 143), zombies reaped.
vm_test!(init: v2, v1, hybrid, bare);

// Cgroup limits (issue 4): each limit read back from the host side, OOM → 137, nothing
// left; the v2 self-move out of a cgroup that holds processes; `tinyctr check`.
vm_test!(cgroup: v2, v1, hybrid, bare);

// --rootfs inside the initramfs (issue 5): pivot_root answers EINVAL on the kernel's
// rootfs, and the automatic move+chroot fallback must hide the initramfs all the same.
vm_test!(rootfs: bare, v2, v1);

// Volumes, tmpfs and the writable layer (issue 13) in the initramfs: the layer over a
// ramfs image, without the host's /proc (bare), and overlayfs loaded from its module.
vm_test!(volume: bare, v2);

// Default confinement (issue 12): docker's capability sets, no_new_privs, -u, masks
// without --rootfs, mount refused.
vm_test!(confine: bare, v1, v2);

// runc's escape classes (issue 15) where the binary sits on the writable initramfs: the
// CVE-2019-5736 racer against run and --init, a leaked descriptor as the workdir.
vm_test!(escape: bare, v2);

// The OCI runtime (the `--features oci` build) on a containerd-style bundle: create,
// state, start, the device allow-list, pause and resume, kill, delete, nothing left, in
// the users' real setting (bare initramfs, with a cgroup2 mounted), on v1 (devices and
// freezer hierarchies) and v2 (a device program, cgroup.freeze).
vm_test!(oci: bare, v1, v2);

// An OCI process's AppArmor profile (process.apparmorProfile), applied for real: this
// host's kernel has no AppArmor, Debian's guest kernel does.
vm_test!(apparmor: bare);
