//! The container's view of mounts, done in the trampoline (inside the new mount
//! namespace): make every mount private, then replace /proc with one of the new PID
//! namespace. Allocation-free.

use rustix::io::Errno;
use rustix::mount::{mount, mount_change, unmount, MountFlags, MountPropagationFlags, UnmountFlags};

/// `mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)`: systemd makes every mount shared, so
/// without this the container's mounts (its /proc first) would propagate to the host —
/// the book's worst bug.
pub fn make_private() -> Result<(), Errno> {
    mount_change(c"/", MountPropagationFlags::REC | MountPropagationFlags::PRIVATE)
}

/// A fresh proc for the new PID namespace on /proc, nosuid,nodev,noexec.
///
/// The host's /proc is detached first (MNT_DETACH, with whatever is mounted below it), so
/// the container's mount table has one /proc and unmounting it cannot uncover the host's.
/// EINVAL there just means nothing was mounted on /proc (an initramfs that never mounted it).
pub fn mount_proc() -> Result<(), Errno> {
    match unmount(c"/proc", UnmountFlags::DETACH) {
        Ok(()) | Err(Errno::INVAL) => {}
        Err(e) => return Err(e),
    }
    // NULL data, not "": with "" the kernel copies a whole page on every mount.
    mount(c"proc", c"/proc", c"proc", MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC, None)
}
