//! The minimal /dev (on the tmpfs [`super::mounts`] put there): the character devices
//! every program may expect, and the links into /dev/pts and /proc.
//!
//! The nodes are made with mknod(2) rather than bind-mounted from the host's /dev: after
//! the root switch the host's /dev is out of reach, and an initramfs may have none.
//! tinyctr runs as real root (no user namespace), so CAP_MKNOD is there; whether a node
//! may be *opened* is the devices cgroup's call, as for a bind.

use rustix::fs::{FileType, Mode, CWD};

use super::{step, Failure};
use crate::words::cstrs;

/// The same set as runc's default devices (`words::cstrs`), with the (major, minor) of
/// each in [`NUMBERS`] (from the kernel's devices.txt).
pub const NODES: &[u8] = b"/dev/null\0/dev/zero\0/dev/full\0/dev/random\0/dev/urandom\0/dev/tty\0";
pub static NUMBERS: [(u8, u8); 6] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0)];

/// The symlinks (`words::cstrs`), each pointing to its entry of [`LINK_TARGETS`].
pub const LINKS: &[u8] = b"/dev/ptmx\0/dev/fd\0/dev/stdin\0/dev/stdout\0/dev/stderr\0";
/// What each of [`LINKS`] points to.
pub const LINK_TARGETS: &[u8] = b"pts/ptmx\0/proc/self/fd\0/proc/self/fd/0\0/proc/self/fd/1\0/proc/self/fd/2\0";

/// Creates [`NODES`] (mode 0666: the caller cleared the umask) and [`LINKS`].
pub fn populate() -> Result<(), Failure> {
    for (i, (path, &(major, minor))) in cstrs(NODES).zip(&NUMBERS).enumerate() {
        let dev = rustix::fs::makedev(major as u32, minor as u32);
        rustix::fs::mknodat(CWD, path, FileType::CharacterDevice, Mode::from_raw_mode(0o666), dev)
            .map_err(|e| (step::NODE + i as u8, e))?;
    }
    for (i, (target, link)) in cstrs(LINK_TARGETS).zip(cstrs(LINKS)).enumerate() {
        rustix::fs::symlink(target, link).map_err(|e| (step::LINK + i as u8, e))?;
    }
    Ok(())
}
