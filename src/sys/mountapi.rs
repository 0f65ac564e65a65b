//! The one call of the new mount API rustix does not wrap: `mount_setattr(2)` (Linux
//! 5.12), which changes the flags of a whole mount tree at once. rustix already covers
//! the rest of what volumes use (`openat2`, `open_tree`, `move_mount`, `fsopen`,
//! `fsconfig`, `fsmount`). Callable from the child: a raw syscall, no allocation.

use linux_raw_sys::general::{mount_attr, AT_EMPTY_PATH, AT_RECURSIVE};
use rustix::fd::{AsFd, AsRawFd};
use rustix::io::Errno;

/// `mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, {attr_set, attr_clr}, sizeof)`:
/// clears the `MOUNT_ATTR_*` bits in `attr_clr` and sets those in `attr_set` on the mount
/// `fd` refers to (an `open_tree` clone, attached or not) and on every mount below it,
/// leaving all other flags as they are.
/// ENOSYS before 5.12.
/// <https://man7.org/linux/man-pages/man2/mount_setattr.2.html>
#[inline(never)]
pub fn set_tree_attr(fd: impl AsFd, attr_set: u64, attr_clr: u64) -> Result<(), Errno> {
    let attr = mount_attr { attr_set, attr_clr, propagation: 0, userns_fd: 0 };
    // SAFETY: the path is a valid empty C string and `attr` a valid mount_attr whose size
    // we pass; both live across the call, which only reads them. The fd is borrowed.
    let ret = unsafe {
        sc::syscall5(
            sc::nr::MOUNT_SETATTR,
            fd.as_fd().as_raw_fd() as usize,
            c"".as_ptr() as usize,
            (AT_EMPTY_PATH | AT_RECURSIVE) as usize,
            &attr as *const mount_attr as usize,
            core::mem::size_of::<mount_attr>(),
        )
    };
    super::check(ret).map(|_| ())
}
