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
//! 3. fsopen("overlay"), the three layers, create, fsmount, attach over DIR.
//!
//! Needs the new mount API (Linux 5.2). Allocation-free, like all of the child.

use core::ffi::CStr;
use linux_raw_sys::general::RAMFS_MAGIC;
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::fs::{Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags};

use super::{step, Failure};
use crate::buf::Buf;
use crate::cli::RunConfig;
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
const FS: u8 = 4;
const CREATE: u8 = 5;
const ATTACH: u8 = 6;

fn open_dir(path: &CStr) -> core::result::Result<OwnedFd, Errno> {
    rustix::fs::open(path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
}

/// Parent side, before clone: a kept layer's directory must exist and not be a ramfs.
pub fn check(layer: Layer<'_>) -> Result<()> {
    let Layer::Kept(dir) = layer else { return Ok(()) };
    let fd = open_dir(dir).map_err(|e| Error::sys("use the overlay directory", dir.to_bytes(), e))?;
    match rustix::fs::fstatfs(&fd) {
        Ok(st) if st.f_type as u32 == RAMFS_MAGIC => {
            let mut e = Error::usage(b"--overlay-dir: '");
            crate::error::push_shown(&mut e.msg, dir.to_bytes());
            e.msg.push(
                b"' is on a ramfs (an initramfs?), which cannot hold overlayfs's upper layer \
                  (no extended attributes); use a directory on tmpfs or a disk, or --overlay \
                  for a layer dropped at exit",
            );
            Err(e)
        }
        _ => Ok(()),
    }
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
    let at = |s: u8| move |e: Errno| (step::LAYER + s, e);
    let lower = open_dir(root).map_err(at(LOWER))?;
    let upper = match layer {
        Layer::Dropped => fresh(c"tmpfs", lacks_api).and_then(|t| {
            rustix::mount::move_mount(&t, c"", CWD, root, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH).map(|()| t)
        }),
        Layer::Kept(dir) => open_dir(dir),
    }
    .map_err(at(UPPER))?;
    for dir in [c"upper", c"work"] {
        match rustix::fs::mkdirat(&upper, dir, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(at(DIRS)(e)),
        }
    }
    let here = open_dir(c".").map_err(at(PROC))?;
    let proc = fresh(c"proc", lacks_api).map_err(at(PROC))?;
    rustix::process::fchdir(&proc).map_err(at(PROC))?;
    let fs = rustix::mount::fsopen(c"overlay", FsOpenFlags::FSOPEN_CLOEXEC).map_err(at(FS))?;
    let mut path = Buf::<40>::new();
    for (key, fd, sub) in
        [(c"lowerdir", &lower, &b""[..]), (c"upperdir", &upper, b"/upper"), (c"workdir", &upper, b"/work")]
    {
        path.clear();
        path.push(b"self/fd/").push_u64(fd.as_raw_fd() as u64).push(sub);
        rustix::mount::fsconfig_set_string(&fs, key, path.as_cstr()).map_err(at(CREATE))?;
    }
    rustix::mount::fsconfig_create(&fs).map_err(at(CREATE))?;
    let merged =
        rustix::mount::fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty()).map_err(at(CREATE))?;
    rustix::process::fchdir(&here).map_err(at(ATTACH))?;
    rustix::mount::move_mount(&merged, c"", CWD, root, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH).map_err(at(ATTACH))?;
    // The root switch takes the working directory: "." for DIR would name the directory
    // under the layer when DIR is "." or ends in "/.", the overlay's own root never does.
    rustix::process::fchdir(&merged).map_err(at(ATTACH))
}

/// Parent side: the one-line error for step `s` (from `step::LAYER`).
pub fn describe(cfg: &RunConfig<'_>, s: u8, errno: Errno) -> Option<Error> {
    let root = cfg.rootfs.map_or(&b""[..], CStr::to_bytes);
    let kept = match cfg.layer {
        Some(Layer::Kept(dir)) => dir.to_bytes(),
        _ => b"",
    };
    let (op, obj): (&str, &[u8]) = match s {
        LOWER => ("open the rootfs for the writable layer", root),
        UPPER if kept.is_empty() => ("mount the tmpfs of the writable layer over", root),
        UPPER => ("open the overlay directory", kept),
        DIRS if kept.is_empty() => ("create upper/ and work/ in the writable layer's tmpfs", b""),
        DIRS => ("create upper/ and work/ in", kept),
        PROC => ("mount a private proc for the writable layer", b""),
        FS => ("open overlayfs for the writable layer", b""),
        CREATE => ("mount overlayfs over", root),
        ATTACH => ("attach the writable layer over", root),
        _ => return None,
    };
    let e = Error::sys(op, obj, errno);
    Some(match (s, errno) {
        (_, Errno::NOSYS) => e.hint(b"the writable layer needs Linux 5.2 or later (the new mount API)"),
        (FS, Errno::NODEV) => e.hint(b"this kernel has no overlayfs: modprobe overlay"),
        (CREATE, Errno::BUSY) => e.hint(b"the overlay directory is in use by another container"),
        (CREATE, Errno::INVAL | Errno::LOOP | Errno::OPNOTSUPP) => e.hint(
            b"overlayfs refused these layers (the kernel log says why; is the overlay directory inside the rootfs?)",
        ),
        _ => e,
    })
}
