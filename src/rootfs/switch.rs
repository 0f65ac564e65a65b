//! Switching the root: DIR becomes the container's `/`, and the old root disappears from
//! the container's view.
//!
//! The usual way: bind DIR onto itself recursively (pivot_root(2) needs a mount point),
//! `pivot_root(".", ".")` from inside it, which stacks the old root on top of the new one,
//! then detach-unmount `.` to drop the old root and every mount under it.
//!
//! The initramfs case: when the namespace's root mount is the kernel's `rootfs` (an
//! initramfs that was never switch_root'ed away), pivot_root(2) answers EINVAL because
//! that mount has no parent. We check that this is really the case (see
//! [`root_is_initramfs`]) and then do what switch_root(8) and runc's `--no-pivot` do:
//! move the DIR mount onto `/` and chroot into it. The initramfs stays the namespace's
//! root mount, *under* DIR's mount, with the guest's own /proc, /sys, /dev still mounted
//! in it; no path the container resolves reaches them: `/..` is `/`, mountinfo lists
//! nothing above the root, and even the classic chroot escape (chroot into a subdirectory,
//! walk `..`) comes back to DIR, because `..` from the root of a mount that sits on its
//! parent's root climbs the whole stack to the namespace's root and lands on the top
//! mount again (tests/vm/guest/rootfs.sh checks this, with a control that does escape a
//! plain chroot). See the README's --rootfs section for what this does not guarantee.

use core::ffi::CStr;
use rustix::fs::CWD;
use rustix::io::Errno;
use rustix::mount::{MountPropagationFlags, MoveMountFlags, OpenTreeFlags, UnmountFlags};

use super::{step, Failure};

/// Makes `root` the calling process's `/` and working directory. `keep_old`: leave the
/// old root attached (volumes before Linux 5.2 bind from it); the answer says whether
/// there is one for [`detach_old`] to take away later.
pub fn into(root: &CStr, keep_old: bool, shared: bool) -> Result<bool, Failure> {
    if cfg!(feature = "oci") && shared {
        private_parent(root).map_err(|e| (step::BIND, e))?;
    }
    bind_and_enter(root)?;
    let old = match rustix::process::pivot_root(c".", c".") {
        // The old root is now mounted on top of the new one, at "."; detaching it
        // takes the host's whole tree out of this namespace's view.
        Ok(()) if keep_old => true,
        Ok(()) => {
            detach_old(shared)?;
            false
        }
        Err(Errno::INVAL) if root_is_initramfs() => {
            // The bind of DIR (our cwd) goes onto the rootfs root; then a chroot makes it
            // ours. Nothing to detach: the rootfs cannot be unmounted.
            rustix::mount::mount_move(c".", c"/").map_err(|e| (step::MOVE, e))?;
            rustix::process::chroot(c".").map_err(|e| (step::CHROOT, e))?;
            false
        }
        Err(e) => return Err((step::PIVOT, e)),
    };
    rustix::process::chdir(c"/").map_err(|e| (step::CHDIR_ROOT, e))?;
    Ok(old)
}

/// Detaches the old root stacked on the new one after pivot_root (the working directory
/// is the new root; an unmount of "." takes the topmost mount there).
/// With shared propagation (an OCI config's) the old root's mounts are still peers of
/// the host's: an unmount of them would unmount the host's too (runc's "bork the
/// machine"), so they turn slaves first.
pub fn detach_old(shared: bool) -> Result<(), Failure> {
    if cfg!(feature = "oci") && shared {
        rustix::mount::mount_change(c".", MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC)
            .map_err(|e| (step::DETACH_OLD, e))?;
    }
    rustix::mount::unmount(c".", UnmountFlags::DETACH).map_err(|e| (step::DETACH_OLD, e))
}

/// With shared propagation: the mount that holds `root` (the nearest ancestor that is a
/// mount's root) made private, not recursively, as runc does. Else the bind of `root`
/// would join that mount's peer group: the host would get it, and every mount the
/// container makes inside it; and pivot_root refuses a new root or parent that is shared.
#[cfg(feature = "oci")]
fn private_parent(root: &CStr) -> Result<(), Errno> {
    let mut path = [0u8; crate::rootfs::resolve::PATH_MAX];
    let bytes = root.to_bytes();
    let mut len = bytes.len().min(path.len() - 1);
    path[..len].copy_from_slice(&bytes[..len]);
    loop {
        path[len] = 0;
        let at = CStr::from_bytes_until_nul(&path).map_err(|_| Errno::INVAL)?;
        match rustix::mount::mount_change(at, MountPropagationFlags::PRIVATE) {
            // Not a mount's root: its parent directory.
            Err(Errno::INVAL) if len > 1 => len = path[..len].iter().rposition(|&c| c == b'/').unwrap_or(0).max(1),
            r => return r,
        }
    }
}

#[cfg(not(feature = "oci"))]
fn private_parent(_: &CStr) -> Result<(), Errno> {
    Ok(())
}

/// Binds `root` onto itself (recursively, so mounts under DIR come along) and makes the
/// working directory the root of that new mount.
///
/// `chdir(DIR)` after a plain bind would land on the new mount only when DIR's last
/// component is a name: for `.` or `dir/.` the lookup does not cross onto a mount, and
/// pivot_root would then say EINVAL. So the bind is made with open_tree(2) (a detached
/// clone of the tree) + move_mount(2), and we fchdir into the clone itself. Kernels
/// before 5.2 lack those calls: there we fall back to mount(2) + chdir(2).
fn bind_and_enter(root: &CStr) -> Result<(), Failure> {
    let flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_RECURSIVE;
    match rustix::mount::open_tree(CWD, root, flags) {
        Ok(tree) => {
            rustix::mount::move_mount(&tree, c"", CWD, root, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH)
                .map_err(|e| (step::BIND, e))?;
            rustix::process::fchdir(&tree).map_err(|e| (step::ENTER, e))
        }
        Err(Errno::NOSYS) => {
            rustix::mount::mount_bind_recursive(root, root).map_err(|e| (step::BIND, e))?;
            rustix::process::chdir(root).map_err(|e| (step::ENTER, e))
        }
        Err(e) => Err((step::BIND, e)),
    }
}

/// True when the root we could not pivot away from is the initramfs: `/` is a ramfs or
/// tmpfs, and it is the namespace's root mount. The second half needs no syscall: the
/// trampoline made `/` MS_REC|MS_PRIVATE before calling us, which the kernel allows only
/// when `/` is the root of a mount (else EINVAL: e.g. when tinyctr itself runs chroot'ed
/// into a subdirectory). With `/` a mount root, our new root a fresh attached bind mount
/// and no mount shared, the one reason left for pivot_root's EINVAL is that the root
/// mount has no parent, i.e. it is the kernel's `rootfs`. Any other EINVAL (on any other
/// filesystem) is reported as it is. Should that precondition ever go, check
/// STATX_ATTR_MOUNT_ROOT of `/` here (tests/rootfs.rs covers the chroot case).
fn root_is_initramfs() -> bool {
    const RAMFS_MAGIC: u64 = linux_raw_sys::general::RAMFS_MAGIC as u64;
    const TMPFS_MAGIC: u64 = linux_raw_sys::general::TMPFS_MAGIC as u64;
    rustix::fs::statfs(c"/").is_ok_and(|s| matches!(s.f_type as u64, RAMFS_MAGIC | TMPFS_MAGIC))
}
