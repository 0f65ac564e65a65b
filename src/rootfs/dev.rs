//! The minimal /dev (on the tmpfs [`super::mounts`] put there): the character devices
//! every program may expect, and the links into /dev/pts and /proc.
//!
//! The nodes are made with mknod(2) rather than bind-mounted from the host's /dev: after
//! the root switch the host's /dev is out of reach, and an initramfs may have none.
//! tinyctr runs as real root (no user namespace), so CAP_MKNOD is there; whether a node
//! may be *opened* is the devices cgroup's call, as for a bind.

use core::ffi::CStr;
use rustix::fs::{FileType, Mode, CWD};

use super::{step, Failure};

pub struct Node {
    pub path: &'static CStr,
    major: u32,
    minor: u32,
}

const fn node(path: &'static CStr, major: u32, minor: u32) -> Node {
    Node { path, major, minor }
}

/// The same set as runc's default devices (major/minor from the kernel's devices.txt).
pub static NODES: [Node; 6] = [
    node(c"/dev/null", 1, 3),
    node(c"/dev/zero", 1, 5),
    node(c"/dev/full", 1, 7),
    node(c"/dev/random", 1, 8),
    node(c"/dev/urandom", 1, 9),
    node(c"/dev/tty", 5, 0),
];

/// (link target, link path).
pub static LINKS: [(&CStr, &CStr); 5] = [
    (c"pts/ptmx", c"/dev/ptmx"),
    (c"/proc/self/fd", c"/dev/fd"),
    (c"/proc/self/fd/0", c"/dev/stdin"),
    (c"/proc/self/fd/1", c"/dev/stdout"),
    (c"/proc/self/fd/2", c"/dev/stderr"),
];

/// Creates [`NODES`] (mode 0666: the caller cleared the umask) and [`LINKS`].
pub fn populate() -> Result<(), Failure> {
    for (i, n) in NODES.iter().enumerate() {
        let dev = rustix::fs::makedev(n.major, n.minor);
        rustix::fs::mknodat(CWD, n.path, FileType::CharacterDevice, Mode::from_raw_mode(0o666), dev)
            .map_err(|e| (step::NODE + i as u8, e))?;
    }
    for (i, (target, link)) in LINKS.iter().enumerate() {
        rustix::fs::symlink(*target, *link).map_err(|e| (step::LINK + i as u8, e))?;
    }
    Ok(())
}
