//! What a container should not read or change, as docker masks it by default (runc's
//! ten masked paths plus moby's `/proc/interrupts` and `/sys/devices/virtual/powercap`;
//! not moby's per-CPU `thermal_throttle` directories, which would need a walk over the
//! CPUs for throttle counters, on no machine tinyctr has met): kernel memory, keyrings,
//! timers, interrupt counts, scheduler internals, firmware tables and power meters are
//! masked; the sysctls, SysRq and a few kernel-wide /proc directories are made read-only. Applied with --rootfs over
//! its fresh /proc and /sys, and without one over the fresh /proc and the host's /sys —
//! always in the container's own mount namespace (made private first), so the host's
//! mount table never changes. `--privileged` skips all of it.
//!
//! A masked file gets the null device bound over it (reads give nothing, writes vanish);
//! a masked directory an empty read-only tmpfs — one instance, bound over every masked
//! directory after the first (a bind is cheaper than a new superblock). Paths the kernel
//! does not have (no ACPI, no SCSI, no sched_debug) are skipped: there is nothing to hide.
//!
//! The null device is opened first (`O_PATH|O_NOFOLLOW`), checked to be char 1:3, and
//! bound through `/proc/self/fd/N`: without --rootfs `/dev` is the host's, which a root
//! container can change, and a `/dev/null` swapped for a symlink must not make a masked
//! path a writable view of something else (runc's CVE-2025-31133).

use core::ffi::CStr;
#[cfg(not(feature = "oci"))]
use linux_raw_sys::general::MS_REMOUNT;
use linux_raw_sys::general::{MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC};
use rustix::io::Errno;

use super::mounts::mount;
use super::{step, Failure};
use crate::buf::Buf;
use crate::words::cstrs;

/// Docker's default masked paths: runc's ten, then moby's additions.
pub const MASKED: &[u8] = b"/proc/acpi\0/proc/asound\0/proc/kcore\0/proc/keys\0/proc/latency_stats\0\
    /proc/timer_list\0/proc/timer_stats\0/proc/sched_debug\0/proc/scsi\0/sys/firmware\0/proc/interrupts\0\
    /sys/devices/virtual/powercap\0";

/// Which entries of [`MASKED`] the kernel makes directories (bit = index). A guess that
/// turns out wrong costs one more mount call: the kernel refuses to bind a file over a
/// directory or the reverse (ENOTDIR), and the other kind is tried.
const DIRS: u16 = 1 << 0 | 1 << 1 | 1 << 8 | 1 << 9 | 1 << 11;

/// Docker's default read-only paths.
pub const READ_ONLY: &[u8] = b"/proc/bus\0/proc/fs\0/proc/irq\0/proc/sys\0/proc/sysrq-trigger\0";

/// An OCI config's `maskedPaths` and `readonlyPaths`, each a string of NUL-terminated
/// paths (as [`MASKED`]); `None`: docker's.
pub type Lists<'a> = Option<(&'a [u8], &'a [u8])>;

/// Masks, then makes read-only, in the current mount namespace (with /proc mounted).
pub fn apply(#[cfg(feature = "oci")] lists: Lists<'_>) -> Result<(), Failure> {
    #[cfg(feature = "oci")]
    let (masked, read_only_paths) = lists.unwrap_or((MASKED, READ_ONLY));
    #[cfg(not(feature = "oci"))]
    let (masked, read_only_paths) = (MASKED, READ_ONLY);
    let null = open_null().map_err(|e| (step::NULL, e))?;
    let mut fd_path: Buf<24> = Buf::new();
    fd_path.push(b"/proc/self/fd/").push_u64(rustix::fd::AsRawFd::as_raw_fd(&null) as u64);
    let mut m = Masker { null: fd_path.as_cstr(), dir: None };
    for (i, path) in cstrs(masked).enumerate() {
        m.mask(path, is_dir(path, i)).map_err(|e| (step_of(step::MASK, i), e))?;
    }
    drop(null);
    for (i, path) in cstrs(read_only_paths).enumerate() {
        read_only(path).map_err(|e| (step_of(step::READ_ONLY, i), e))?;
    }
    Ok(())
}

/// The failure step of entry `i` of a list: an OCI config's may be longer than the 16
/// steps of its range, whose last then stands for the rest.
fn step_of(base: u8, i: usize) -> u8 {
    if cfg!(feature = "oci") {
        base + i.min(15) as u8
    } else {
        base + i as u8
    }
}

/// Whether to guess `path`, entry `i` of the masked list, a directory: as [`DIRS`] says
/// for docker's; an OCI config's path by the docker path it is, a file otherwise.
#[cfg(feature = "oci")]
fn is_dir(path: &CStr, _: usize) -> bool {
    let i = cstrs(MASKED).position(|m| m == path).unwrap_or(16);
    DIRS as u32 & 1 << i != 0
}

#[cfg(not(feature = "oci"))]
fn is_dir(_: &CStr, i: usize) -> bool {
    DIRS & (1 << i) != 0
}

/// The null device as an `O_PATH` descriptor, checked to be char 1:3 (ENODEV if not).
fn open_null() -> Result<rustix::fd::OwnedFd, Errno> {
    use rustix::fs::{FileType, Mode, OFlags};
    let fd = rustix::fs::open(c"/dev/null", OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())?;
    let st = rustix::fs::fstat(&fd)?;
    let is_null = FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(st.st_rdev) == 1
        && rustix::fs::minor(st.st_rdev) == 3;
    if is_null {
        Ok(fd)
    } else {
        Err(Errno::NODEV)
    }
}

struct Masker<'a, 'p> {
    /// `/proc/self/fd/N` of the checked null device.
    null: &'a CStr,
    /// The first masked directory, once its tmpfs is mounted: the source of later binds.
    dir: Option<&'p CStr>,
}

impl<'p> Masker<'_, 'p> {
    /// Masks `path` (guessed a directory if `dir`); a missing path is skipped.
    fn mask(&mut self, path: &'p CStr, dir: bool) -> Result<(), Errno> {
        match self.mount_as(path, dir) {
            Err(Errno::NOTDIR) => self.mount_as(path, !dir),
            r => r,
        }
        .or_else(|e| if e == Errno::NOENT { Ok(()) } else { Err(e) })
    }

    fn mount_as(&mut self, path: &'p CStr, dir: bool) -> Result<(), Errno> {
        match (dir, self.dir) {
            (false, _) => mount(self.null, path, c"none", MS_BIND, None),
            (true, Some(first)) => mount(first, path, c"none", MS_BIND, None),
            (true, None) => {
                mount(c"tmpfs", path, c"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)?;
                self.dir = Some(path);
                Ok(())
            }
        }
    }
}

/// Binds `path` onto itself, then makes that bind read-only. Every docker read-only path
/// is in the container's fresh proc, which tinyctr mounted nosuid,nodev,noexec (with or
/// without --rootfs): the remount keeps exactly those, without a statfs to learn them.
/// An OCI config's path may be anywhere, in a mount of other flags: the remount keeps
/// the ones its mount has.
fn read_only(path: &CStr) -> Result<(), Errno> {
    match mount(path, path, c"none", MS_BIND | MS_REC, None) {
        #[cfg(feature = "oci")]
        Ok(()) => super::mounts::remount_adding(path, MS_RDONLY),
        #[cfg(not(feature = "oci"))]
        Ok(()) => mount(c"none", path, c"none", MS_BIND | MS_REMOUNT | MS_RDONLY | PROC_FLAGS, None),
        Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The flags of the container's proc mount (`mount::mount_proc`, `mounts::MOUNTS[0]`).
#[cfg(not(feature = "oci"))]
const PROC_FLAGS: u32 = MS_NOSUID | MS_NODEV | MS_NOEXEC;
