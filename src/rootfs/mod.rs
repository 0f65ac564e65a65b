//! `--rootfs DIR`: the container's own root directory tree.
//!
//! Three entry points, called by the lead's spawn and trampoline code:
//! - [`check`] (parent, before clone): DIR must exist and be a directory.
//! - [`enter`] (child, in the new mount namespace, after `/` was made `MS_REC|MS_PRIVATE`):
//!   switch the root to DIR ([`switch`]), then build what a container expects inside it:
//!   proc, a read-only sysfs, a minimal /dev ([`mounts`], [`dev`]), the masked and read-only
//!   paths docker masks by default ([`mask`]; not with --privileged), and with
//!   `--read-only` a read-only root. With `--overlay` the root is a writable layer over
//!   DIR ([`overlay`]); the volumes and tmpfs mounts ([`volume`], targets found by
//!   [`resolve`]) go in after /dev, before the masks and the read-only remount.
//! - [`mask_paths`] (child, without --rootfs): the same masks over the fresh /proc and the
//!   host's /sys, in the container's own mount namespace.
//! - [`describe`] (parent): turns the step number a failed `enter` reported into the
//!   operation and object of the one-line error (`volume::describe` has the volumes' and
//!   the layer's, steps 176 and up).
//!
//! Everything `enter` reaches runs between clone and execve: no allocation, no locks, no
//! panics, no formatting; syscalls, static tables and stack values only. A failure is a
//! step number (>= 64, so it never clashes with the trampoline's own steps) and an errno.
//!
//! After the switch every path is resolved inside the new root, so a symlink in DIR (say
//! `DIR/dev -> /etc`) can only ever point back into DIR: nothing in the host's tree is
//! mounted over or created by tinyctr.

pub mod cgroupfs;
#[cfg(feature = "oci")]
mod copyup;
pub mod dev;
mod mask;
mod mounts;
pub use mask::Lists;
pub use mounts::{mkdir_if_missing, Given, Standard};
pub mod overlay;
pub mod resolve;
mod switch;
pub mod volume;

use crate::words;
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
    /// Opening and checking the null device the masks bind.
    pub const NULL: u8 = 72;
    /// Making a node of an OCI config's `linux.devices`.
    pub const OCI_NODE: u8 = 73;
    /// Mounting the container's /sys/fs/cgroup (`cgroupfs`, an OCI config's `cgroup`).
    pub const CGROUPFS: u8 = 74;
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
    /// + 16 * operation + index of the mount (`volume::MAX` each): 176..240.
    pub const VOLUME: u8 = 176;
    /// + the writable layer's step (`overlay`).
    pub const LAYER: u8 = 240;
}

/// A failed step of [`enter`]: which one, and the errno the kernel gave.
pub type Failure = (u8, Errno);

/// Parent side, before clone: `root` must exist and be a directory. The error names it
/// and is a setup failure (status 125).
pub fn check(root: &CStr) -> crate::error::Result<()> {
    // An O_PATH open of a directory: the kernel itself says ENOENT or ENOTDIR.
    use rustix::fs::{Mode, OFlags};
    match rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(_) => Ok(()),
        Err(e) => Err(crate::error::Error::sys("use rootfs", root.to_bytes(), e)),
    }
}

/// Child side: makes `root` the container's `/` and populates it. Runs in the container's
/// own mount namespace, in place of the plain /proc mount, and only after `/` was made
/// MS_REC|MS_PRIVATE (which also proves `/` is a mount root: the initramfs detection in
/// [`switch`] relies on it). Allocation-free, lock-free, panic-free.
///
/// On return the working directory is the new `/`, and the umask is what it was.
///
/// With a writable layer, the root is the overlay over DIR ([`overlay`]); the volumes
/// ([`volume`]) are mounted after /proc, /sys and /dev, before the masks and the
/// read-only remount of the root (which leaves them writable unless they are `ro`).
#[inline(never)]
pub fn enter(
    root: &CStr,
    read_only: bool,
    plan: &volume::MountPlan<'_>,
    sources: volume::Sources,
    masks: bool,
) -> Result<(), Failure> {
    // Device nodes and mount points get exactly the modes asked for (a 0666 /dev/null even
    // under umask 022); the command inherits the caller's umask again below.
    let umask = rustix::process::umask(rustix::fs::Mode::empty());
    let done = populate(root, read_only, plan, sources, masks);
    rustix::process::umask(umask);
    done
}

/// Child side, without --rootfs: the masked and read-only paths over the fresh /proc
/// (already mounted) and the host's /sys, in the container's private mount namespace.
pub fn mask_paths() -> Result<(), Failure> {
    #[cfg(feature = "oci")]
    return mask::apply(None);
    #[cfg(not(feature = "oci"))]
    mask::apply()
}

fn populate(
    root: &CStr,
    read_only: bool,
    plan: &volume::MountPlan<'_>,
    sources: volume::Sources,
    masks: bool,
) -> Result<(), Failure> {
    let root = match plan.layer {
        // The overlay is attached over DIR and is the working directory.
        Some(layer) => overlay::mount(root, layer, plan.lacks(volume::LACKS_MOUNT_API)).map(|()| c".")?,
        None => root,
    };
    #[cfg(feature = "oci")]
    let host_root = match plan.userns {
        true => Some(
            rustix::fs::open(c"/", rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC, rustix::fs::Mode::empty())
                .map_err(|e| (step::NODE, e))?,
        ),
        false => None,
    };
    // In a user namespace the kernel mounts a proc or sysfs only where one is already
    // fully visible in the mount namespace (mount_too_revealing): the old root's stay
    // attached until those are mounted (and /dev's nodes are bound from it).
    let keep_old = sources.needs_old_root() || cfg!(feature = "oci") && plan.userns;
    let old_root = switch::into(root, keep_old, plan.shared)?;
    #[cfg(feature = "oci")]
    mounts::mount_all(plan.standard)?;
    #[cfg(not(feature = "oci"))]
    mounts::mount_all()?;
    if cfg!(feature = "oci") {
        if let Some(t) = plan.cgroupfs {
            cgroupfs::mount_all(t)?;
        }
    }
    #[cfg(feature = "oci")]
    match host_root.as_ref() {
        Some(host) => dev::populate_bound(rustix::fd::AsFd::as_fd(host))?,
        None => dev::populate()?,
    }
    #[cfg(not(feature = "oci"))]
    dev::populate()?;
    #[cfg(feature = "oci")]
    dev::make(plan.nodes, host_root.as_ref().map(rustix::fd::AsFd::as_fd))?;
    volume::mount_all(plan, sources, true)?;
    if old_root {
        switch::detach_old(plan.shared)?;
    }
    if masks {
        #[cfg(feature = "oci")]
        mask::apply(plan.masks)?;
        #[cfg(not(feature = "oci"))]
        mask::apply()?;
    }
    if read_only {
        // Last, so the mount points above could still be created in DIR. Only the root
        // mount turns read-only: /proc, /dev and /dev/shm are mounts of their own.
        mounts::remount_read_only(c"/").map_err(|e| (step::READ_ONLY_ROOT, e))?;
    }
    Ok(())
}

/// The operation of each fixed step, from `step::BIND` on (`words::nth`).
const FIXED: &str = "bind-mount the rootfs|enter the rootfs|pivot_root into the rootfs|\
detach the old root from|move onto the initramfs root|chroot into the rootfs|enter / of the rootfs|\
remount read-only|";

/// The operation of each table-driven range, from `step::MKDIR` on (16 steps each).
const RANGES: &str = "create the mount point|mount in the rootfs on|create the device|\
create the symlink|mask|make read-only|";

/// The object of entry `i` of table-driven range `range`.
#[inline(never)]
fn object(range: usize, i: usize) -> Option<&'static CStr> {
    match range {
        0 | 1 => mounts::MOUNTS.get(i).map(|m| m.target),
        2 => words::cstrs(dev::NODES).nth(i),
        3 => words::cstrs(dev::LINKS).nth(i),
        4 => words::cstrs(mask::MASKED).nth(i),
        5 => words::cstrs(mask::READ_ONLY).nth(i),
        _ => None,
    }
}

/// Parent side, OCI: [`describe`] for a failed mask or read-only step, naming the path of
/// config.json's list (the last step of a range stands for its entry and those after).
pub fn describe_masks<'a>(step: u8, lists: (&'a [u8], &'a [u8])) -> Option<(&'static str, &'a [u8])> {
    let (list, op) = match step & !15 {
        step::MASK => (lists.0, "mask"),
        step::READ_ONLY => (lists.1, "make read-only"),
        _ => return None,
    };
    words::cstrs(list).nth((step & 15) as usize).map(|p| (op, p.to_bytes()))
}

/// Parent side: the operation and object of a failed step, for the one-line error. An
/// empty object means "the rootfs path itself" (the caller puts DIR there).
pub fn describe(step: u8) -> (&'static str, &'static [u8]) {
    if step == step::NULL {
        return ("open the null device (char 1:3) to mask paths with", b"/dev/null");
    }
    if cfg!(feature = "oci") && step == step::OCI_NODE {
        return ("create a node of config.json's linux.devices in", b"/dev");
    }
    if cfg!(feature = "oci") && step == step::CGROUPFS {
        return ("mount the container's cgroup filesystems at", b"/sys/fs/cgroup");
    }
    if let Some(op) = words::nth(FIXED, step.wrapping_sub(step::BIND) as usize) {
        return (op, b"");
    }
    let range = step.wrapping_sub(step::MKDIR) as usize >> 4;
    match (words::nth(RANGES, range), object(range, (step & 15) as usize)) {
        (Some(op), Some(obj)) => (op, obj.to_bytes()),
        _ => ("set up the rootfs", b""),
    }
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
            step::NULL,
        ];
        let mut reportable: Vec<u8> = fixed.to_vec();
        if cfg!(feature = "oci") {
            reportable.push(step::OCI_NODE);
            reportable.push(step::CGROUPFS);
        }
        for i in 0..mounts::MOUNTS.len() as u8 {
            reportable.push(step::MKDIR + i);
            reportable.push(step::MOUNT + i);
        }
        reportable.extend((0..words::cstrs(dev::NODES).count() as u8).map(|i| step::NODE + i));
        reportable.extend((0..words::cstrs(dev::LINKS).count() as u8).map(|i| step::LINK + i));
        reportable.extend((0..words::cstrs(mask::MASKED).count() as u8).map(|i| step::MASK + i));
        reportable.extend((0..words::cstrs(mask::READ_ONLY).count() as u8).map(|i| step::READ_ONLY + i));
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
        let count = |list| words::cstrs(list).count();
        for n in
            [mounts::MOUNTS.len(), count(dev::NODES), count(dev::LINKS), count(mask::MASKED), count(mask::READ_ONLY)]
        {
            assert!(n <= 16);
        }
        // `populate` pairs these up; a missing partner would drop an entry unseen.
        assert_eq!(count(dev::NODES), dev::NUMBERS.len());
        assert_eq!(count(dev::LINKS), count(dev::LINK_TARGETS));
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
