//! The writable layer over `--rootfs DIR` (`--overlay`, `--overlay-dir LAYER`): an
//! overlayfs whose lower layer is DIR, so the container can write anywhere while DIR
//! itself stays as it was, byte for byte (even the /proc, /sys and /dev mount points
//! tinyctr creates go into the layer).
//!
//! The upper layer is a fresh tmpfs by default, gone with the container's mount
//! namespace; `--overlay-dir LAYER` keeps it in `LAYER/upper` (with overlayfs's
//! `LAYER/work`), on the host, for the next run. A ramfs cannot hold an upper layer
//! (no extended attributes: the initramfs case), which [`check`] says before anything
//! starts; the default tmpfs works there.
//!
//! How, in the child, in its private mount namespace, before the root switch (which then
//! finds the overlay on top of DIR and makes it the root):
//! 1. `O_PATH` descriptors of DIR and of the upper directory's home (the tmpfs comes
//!    from fsopen/fsmount and is attached over DIR: overlayfs before 6.15 takes layers
//!    only from mounts in the caller's namespace; DIR's own contents stay reachable
//!    through the descriptor, which names the directory under the tmpfs).
//! 2. The layers are named to overlayfs as `self/fd/N` paths, relative to the working
//!    directory, which is for that moment a private, detached proc instance: no host
//!    /proc needed (an initramfs may have none), and no user path in the options (a `,`
//!    or `:` in DIR could not break them).
//! 3. fsopen("overlay"), the three layers, create, fsmount, attach over DIR, and enter it
//!    (the working directory is the container's root-to-be).
//!
//! Needs the new mount API (Linux 5.2). Allocation-free, like all of the child.

use core::ffi::CStr;
use linux_raw_sys::general::RAMFS_MAGIC;
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags};

use super::{step, Failure};
use crate::buf::Buf;
use crate::error::{Error, Result};

/// Where the upper layer lives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Layer<'a> {
    /// A tmpfs, dropped at exit (`--overlay`).
    Dropped,
    /// `LAYER/upper` and `LAYER/work`, kept (`--overlay-dir LAYER`).
    Kept(&'a CStr),
}

/// Steps, from `step::LAYER`.
const LOWER: u8 = 0;
const UPPER: u8 = 1;
const DIRS: u8 = 2;
const PROC: u8 = 3;
pub const FS: u8 = 4;
pub const CREATE: u8 = 5;
const ATTACH: u8 = 6;

/// The object a step's error names: the rootfs, the kept layer's directory, none.
pub const ROOT: u8 = 0;
pub const KEPT: u8 = 1;
const NONE: u8 = 2;

/// What each step was doing (`words::nth`), and its object (for `volume::describe`).
pub const OPS: &str = "open the rootfs for the writable layer|make the upper layer of the writable layer|\
    create upper/ and work/ in|mount a private proc for the writable layer|open overlayfs|\
    mount overlayfs over|attach the writable layer over|";
pub static OBJECTS: [u8; 7] = [ROOT, KEPT, KEPT, NONE, NONE, ROOT, ROOT];

fn open_dir(path: &CStr) -> core::result::Result<OwnedFd, Errno> {
    rustix::fs::open(path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
}

/// Parent side, before clone: a kept layer's directory must exist, not be a ramfs, and
/// not be in use. It is locked (flock) for the run: overlayfs lets two mounts share an
/// upper layer (with a warning in the kernel log), and what each then sees is undefined.
/// The lock goes with the returned descriptor, which the parent holds until the end.
pub fn check(layer: Layer<'_>) -> Result<Option<OwnedFd>> {
    let Layer::Kept(dir) = layer else { return Ok(None) };
    let obj = dir.to_bytes();
    let fd = rustix::fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::sys("use the overlay directory", obj, e))?;
    let why: &[u8] = match (
        rustix::fs::fstatfs(&fd),
        rustix::fs::flock(&fd, rustix::fs::FlockOperation::NonBlockingLockExclusive),
    ) {
        (Ok(st), _) if st.f_type as u32 == RAMFS_MAGIC => {
            b"' is on a ramfs, which cannot hold overlayfs's upper layer (no extended attributes): use tmpfs or a disk"
        }
        (_, Err(Errno::WOULDBLOCK)) => b"' is in use by another container",
        _ => return Ok(Some(fd)),
    };
    let mut e = Error::usage(b"--overlay-dir: '");
    crate::error::push_shown(&mut e.msg, obj);
    e.msg.push(why);
    Err(e)
}

/// A new, detached instance of `fstype` with its default options. `lacks_api` (debug
/// builds pretending to be before 5.2) answers ENOSYS as such a kernel would.
fn fresh(fstype: &CStr, lacks_api: bool) -> core::result::Result<OwnedFd, Errno> {
    if lacks_api {
        return Err(Errno::NOSYS);
    }
    let fs = rustix::mount::fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC)?;
    rustix::mount::fsconfig_create(&fs)?;
    rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())
}

/// Child side: mounts the writable layer over `root` (in this namespace only) and makes
/// its root the working directory.
pub fn mount(root: &CStr, layer: Layer<'_>, lacks_api: bool) -> core::result::Result<(), Failure> {
    let mut at = LOWER;
    build(root, layer, lacks_api, &mut at).map_err(|e| (step::LAYER + at, e))
}

#[inline(never)]
fn build(root: &CStr, layer: Layer<'_>, lacks_api: bool, at: &mut u8) -> core::result::Result<(), Errno> {
    // Both attaches go through DIR's descriptor: a mount made on a covered directory goes
    // on top of what covers it, so the tmpfs lands on DIR and the overlay on top of both.
    let lower = open_dir(root)?;
    *at = UPPER;
    let empty = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
    let upper = match layer {
        Layer::Dropped => {
            let t = fresh(c"tmpfs", lacks_api)?;
            rustix::mount::move_mount(&t, c"", &lower, c"", empty)?;
            t
        }
        Layer::Kept(dir) => open_dir(dir)?,
    };
    *at = DIRS;
    for dir in [c"upper", c"work"] {
        match rustix::fs::mkdirat(&upper, dir, Mode::from_raw_mode(0o755)) {
            Err(Errno::EXIST) => {}
            r => r?,
        }
    }
    *at = PROC;
    let proc = fresh(c"proc", lacks_api)?;
    rustix::process::fchdir(&proc)?;
    *at = FS;
    let fs = rustix::mount::fsopen(c"overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    *at = CREATE;
    let mut path = Buf::<40>::new();
    for (key, fd, sub) in
        [(c"lowerdir", &lower, &b""[..]), (c"upperdir", &upper, b"/upper"), (c"workdir", &upper, b"/work")]
    {
        path.clear();
        path.push(b"self/fd/").push_u64(fd.as_raw_fd() as u64).push(sub);
        rustix::mount::fsconfig_set_string(&fs, key, path.as_cstr())?;
    }
    rustix::mount::fsconfig_create(&fs)?;
    let merged = rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())?;
    *at = ATTACH;
    rustix::mount::move_mount(&merged, c"", &lower, c"", empty)?;
    // The root switch takes the working directory: "." for DIR would name the directory
    // under the layer when DIR is "." or ends in "/.", the overlay's own root never does.
    rustix::process::fchdir(&merged)
}
