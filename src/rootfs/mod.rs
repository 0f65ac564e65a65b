//! `--rootfs DIR`: the container's own root directory tree.
//!
//! Three entry points, called by the lead's spawn and trampoline code:
//! - [`check`] (parent, before clone): DIR must exist and be a directory.
//! - [`enter`] (child, in the new mount namespace, after `/` was made `MS_REC|MS_PRIVATE`):
//!   switch the root to DIR ([`switch`]), then build what a container expects inside it:
//!   proc, a read-only sysfs, a minimal /dev ([`mounts`], [`dev`]), the masked and read-only
//!   paths runc masks by default ([`mask`]), and with `--read-only` a read-only root.
//! - [`describe`] (parent): turns the step number a failed `enter` reported into the
//!   operation and object of the one-line error.
//!
//! Everything `enter` reaches runs between clone and execve: no allocation, no locks, no
//! panics, no formatting; syscalls, static tables and stack values only. A failure is a
//! step number (>= 64, so it never clashes with the trampoline's own steps) and an errno.
//!
//! After the switch every path is resolved inside the new root, so a symlink in DIR (say
//! `DIR/dev -> /etc`) can only ever point back into DIR: nothing in the host's tree is
//! mounted over or created by tinyctr.

mod dev;
mod mask;
mod mounts;
mod switch;

use core::ffi::CStr;
use rustix::io::Errno;

/// Step numbers reported by [`enter`]. The fixed steps come first; table-driven steps are
/// a base plus the index of the entry in its table (each table has fewer than 16 entries).
pub(crate) mod step {
    pub const BIND: u8 = 64;
    pub const ENTER: u8 = 65;
    pub const PIVOT: u8 = 66;
    pub const DETACH_OLD: u8 = 67;
    pub const MOVE: u8 = 68;
    pub const CHROOT: u8 = 69;
    pub const CHDIR_ROOT: u8 = 70;
    pub const READ_ONLY_ROOT: u8 = 71;
    /// + index in `mounts::MOUNTS`: creating the mount point.
    pub const MKDIR: u8 = 80;
    /// + index in `mounts::MOUNTS`: the mount itself.
    pub const MOUNT: u8 = 96;
    /// + index in `dev::NODES`.
    pub const NODE: u8 = 112;
    /// + index in `dev::LINKS`.
    pub const LINK: u8 = 128;
    /// + index in `mask::MASKED`.
    pub const MASK: u8 = 144;
    /// + index in `mask::READ_ONLY`.
    pub const READ_ONLY: u8 = 160;
    /// One past the last step.
    pub const END: u8 = 176;
}

/// A failed step of [`enter`]: which one, and the errno the kernel gave.
pub type Failure = (u8, Errno);

/// Parent side, before clone: `root` must exist and be a directory. The error names it
/// and is a setup failure (status 125).
pub fn check(root: &CStr) -> crate::error::Result<()> {
    let st = rustix::fs::stat(root).map_err(|e| crate::error::Error::sys("use rootfs", root.to_bytes(), e))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Directory {
        return Err(crate::error::Error::sys("use rootfs", root.to_bytes(), Errno::NOTDIR));
    }
    Ok(())
}

/// Child side: makes `root` the container's `/` and populates it. Runs in the container's
/// own mount namespace (whose mounts are all private), in place of the plain /proc mount.
/// Allocation-free, lock-free, panic-free.
///
/// On return the working directory is the new `/`, and the umask is what it was.
pub fn enter(root: &CStr, read_only: bool) -> Result<(), Failure> {
    switch::into(root)?;
    // Device nodes and mount points get exactly the modes asked for (a 0666 /dev/null even
    // under umask 022); the command inherits the caller's umask again below.
    let umask = rustix::process::umask(rustix::fs::Mode::empty());
    let done = populate(read_only);
    rustix::process::umask(umask);
    done
}

fn populate(read_only: bool) -> Result<(), Failure> {
    mounts::mount_all()?;
    dev::populate()?;
    mask::apply()?;
    if read_only {
        // Last, so the mount points above could still be created in DIR. Only the root
        // mount turns read-only: /proc, /dev and /dev/shm are mounts of their own.
        mounts::remount_read_only(c"/").map_err(|e| (step::READ_ONLY_ROOT, e))?;
    }
    Ok(())
}

/// Parent side: the operation and object of a failed step, for the one-line error. An
/// empty object means "the rootfs path itself" (the caller puts DIR there).
pub fn describe(step: u8) -> (&'static str, &'static [u8]) {
    use step::*;
    let i = (step & 15) as usize;
    let found = match step {
        BIND => Some(("bind-mount onto itself the rootfs", &b""[..])),
        ENTER => Some(("enter the rootfs", &b""[..])),
        PIVOT => Some(("pivot_root into the rootfs", &b""[..])),
        DETACH_OLD => Some(("detach the old root after pivot_root into", &b""[..])),
        MOVE => Some(("move onto the initramfs root the rootfs", &b""[..])),
        CHROOT => Some(("chroot into the rootfs", &b""[..])),
        CHDIR_ROOT => Some(("change directory to the new root", &b"/"[..])),
        READ_ONLY_ROOT => Some(("remount read-only (--read-only) the rootfs", &b""[..])),
        MKDIR..MOUNT => mounts::MOUNTS.get(i).map(|m| ("create in the rootfs the mount point", m.target.to_bytes())),
        MOUNT..NODE => mounts::MOUNTS.get(i).map(|m| (m.what, m.target.to_bytes())),
        NODE..LINK => dev::NODES.get(i).map(|n| ("create in the rootfs the device node", n.path.to_bytes())),
        LINK..MASK => dev::LINKS.get(i).map(|l| ("create in the rootfs the symlink", l.1.to_bytes())),
        MASK..READ_ONLY => mask::MASKED.get(i).map(|p| ("mask in the rootfs", p.to_bytes())),
        READ_ONLY..END => mask::READ_ONLY.get(i).map(|p| ("make read-only in the rootfs", p.to_bytes())),
        _ => None,
    };
    found.unwrap_or(("set up the rootfs", b""))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every step `enter` can report has its own text; nothing else does.
    #[test]
    fn every_step_is_described() {
        let generic = describe(0);
        assert_eq!(generic, ("set up the rootfs", &b""[..]));
        let fixed = [
            step::BIND,
            step::ENTER,
            step::PIVOT,
            step::DETACH_OLD,
            step::MOVE,
            step::CHROOT,
            step::CHDIR_ROOT,
            step::READ_ONLY_ROOT,
        ];
        let mut reportable: Vec<u8> = fixed.to_vec();
        for i in 0..mounts::MOUNTS.len() as u8 {
            reportable.push(step::MKDIR + i);
            reportable.push(step::MOUNT + i);
        }
        reportable.extend((0..dev::NODES.len() as u8).map(|i| step::NODE + i));
        reportable.extend((0..dev::LINKS.len() as u8).map(|i| step::LINK + i));
        reportable.extend((0..mask::MASKED.len() as u8).map(|i| step::MASK + i));
        reportable.extend((0..mask::READ_ONLY.len() as u8).map(|i| step::READ_ONLY + i));
        for s in 0..=255u8 {
            let d = describe(s);
            if reportable.contains(&s) {
                assert!(s >= 64, "step {s} clashes with the trampoline's");
                assert_ne!(d, generic, "step {s} has no text");
                assert!(d.1.is_empty() || d.1.starts_with(b"/"), "step {s}: object {:?}", d.1);
            } else {
                assert_eq!(d, generic, "step {s} is described but never reported");
            }
        }
    }

    #[test]
    fn tables_fit_their_step_ranges() {
        for n in [mounts::MOUNTS.len(), dev::NODES.len(), dev::LINKS.len(), mask::MASKED.len(), mask::READ_ONLY.len()] {
            assert!(n <= 16);
        }
    }

    #[test]
    fn check_names_the_directory() {
        let e = check(c"/nonexistent/tinyctr-rootfs").expect_err("missing dir accepted");
        assert_eq!(e.status, crate::error::EXIT_SETUP);
        assert_eq!(
            e.line().as_bytes(),
            &b"tinyctr: use rootfs \"/nonexistent/tinyctr-rootfs\": ENOENT (No such file or directory)\n"[..]
        );
        let e = check(c"/proc/self/status").expect_err("file accepted");
        assert!(e.line().as_bytes().ends_with(b"ENOTDIR (Not a directory)\n"));
        assert!(check(c"/").is_ok());
    }
}
