//! A busybox rootfs built by a test in a temporary directory (from Debian's
//! busybox-static: no binary is committed), and the policy for tests that need one.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::in_ci;

/// Where Debian's busybox-static puts the static busybox.
pub const BUSYBOX: &str = "/bin/busybox";

/// False (after saying why) when rootfs tests cannot run here; panics in CI.
pub fn can_run() -> bool {
    let why = if !rustix::process::geteuid().is_root() {
        "containers with --rootfs need root"
    } else if !is_static_busybox(Path::new(BUSYBOX)) {
        "no static /bin/busybox to build a rootfs from (apt-get install busybox-static)"
    } else {
        return true;
    };
    if in_ci() {
        panic!("CI=true, so rootfs tests may not skip: {why}");
    }
    eprintln!("skipped: {why}");
    false
}

/// busybox (not busybox-static) is dynamically linked and would not run inside the
/// rootfs: a static ELF has no PT_INTERP program header.
pub fn is_static_busybox(p: &Path) -> bool {
    let Ok(b) = std::fs::read(p) else { return false };
    if b.len() < 64 || !b.starts_with(b"\x7fELF\x02") {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        const PT_INTERP: u32 = 3;
        b.get(o..o + 4).is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != PT_INTERP)
    })
}

/// A busybox rootfs in a fresh temporary directory, removed on drop (after unmounting
/// anything a broken run might have left, so a failing test leaves nothing behind).
pub struct Rootfs {
    pub dir: PathBuf,
}

impl Rootfs {
    pub fn new(name: &str) -> Rootfs {
        let dir = std::env::temp_dir().join(format!("tinyctr-rootfs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        std::fs::copy(BUSYBOX, dir.join("bin/busybox")).unwrap();
        let list = Command::new(BUSYBOX).arg("--list").output().unwrap();
        for applet in String::from_utf8(list.stdout).unwrap().lines() {
            let link = dir.join("bin").join(applet);
            if !link.exists() {
                symlink("busybox", link).unwrap();
            }
        }
        std::fs::write(dir.join("marker"), "inside\n").unwrap();
        Rootfs { dir }
    }

    pub fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        // Nothing should be mounted here (the container's mounts live and die in its own
        // namespace), but never let rm -r walk into a leaked /proc or /dev.
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut leaked: Vec<&str> =
            mi.lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(self.path())).collect();
        leaked.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in &leaked {
            let _ = rustix::mount::unmount(*m, rustix::mount::UnmountFlags::DETACH);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        assert!(leaked.is_empty() || std::thread::panicking(), "mounts leaked into the host: {leaked:?}");
    }
}
