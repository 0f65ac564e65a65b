//! The filesystems mounted inside the new root: proc, a read-only sysfs, and the tmpfs,
//! devpts, shm and mqueue instances that make up /dev. One table, mounted in order; the
//! mount point is created first when DIR lacks it.

use core::ffi::CStr;
use linux_raw_sys::general::{
    MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY, MS_REMOUNT, MS_STRICTATIME,
};
use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::mount::MountFlags;

use super::{step, Failure};

pub struct Mount {
    pub target: &'static CStr,
    pub fstype: &'static CStr,
    pub flags: u32,
    /// Mount options; `None` passes NULL (with "" the kernel would copy a page for nothing).
    pub data: Option<&'static CStr>,
}

/// What runc mounts by default, in mount order (/dev before the mounts inside it).
pub static MOUNTS: [Mount; 6] = [
    Mount { target: c"/proc", fstype: c"proc", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: None },
    // A new sysfs instance shows the container's own network namespace; mounting it
    // needs CAP_SYS_ADMIN over that namespace, which a root-run tinyctr has.
    Mount { target: c"/sys", fstype: c"sysfs", flags: MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, data: None },
    // Not nodev: it holds the device nodes. Same size cap as runc's.
    Mount { target: c"/dev", fstype: c"tmpfs", flags: MS_NOSUID | MS_STRICTATIME, data: Some(c"mode=755,size=65536k") },
    // A new devpts instance: the container's ptys are its own, and its /dev/ptmx (a link
    // to pts/ptmx) opens this instance's multiplexer. gid 5 is the usual tty group.
    Mount {
        target: c"/dev/pts",
        fstype: c"devpts",
        flags: MS_NOSUID | MS_NOEXEC,
        data: Some(c"newinstance,ptmxmode=0666,mode=0620,gid=5"),
    },
    Mount {
        target: c"/dev/shm",
        fstype: c"tmpfs",
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
        data: Some(c"mode=1777,size=65536k"),
    },
    // The IPC namespace's POSIX message queues (docker and containerd mount it): an
    // mqueue mount shows those of the namespace of the process that makes it, ours.
    Mount { target: c"/dev/mqueue", fstype: c"mqueue", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: None },
];

/// An OCI config's own source, flags and data for an entry of [`MOUNTS`]: runc mounts
/// what config.json says (docker's `--shm-size` is the size of its /dev/shm, a privileged
/// pod's sysfs is read-write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Given<'a> {
    pub source: &'a CStr,
    pub flags: u32,
    pub data: Option<&'a CStr>,
}

impl Given<'_> {
    /// The config mounts something else at the entry's target: [`mount_all`] leaves it.
    pub const ELSEWHERE: Given<'static> = Given { source: c"", flags: 0, data: None };
}

/// [`Given`]s by index in [`MOUNTS`]; `None`: tinyctr's own entry.
pub type Standard<'a> = [Option<Given<'a>>; 6];

/// Mounts every entry of [`MOUNTS`] (as `given` overrides them), creating missing mount
/// points.
pub fn mount_all(#[cfg(feature = "oci")] given: Option<&Standard<'_>>) -> Result<(), Failure> {
    for (i, m) in MOUNTS.iter().enumerate() {
        #[cfg(feature = "oci")]
        let (source, flags, data) = match given.and_then(|g| g[i]) {
            Some(g) if g.source.is_empty() => continue,
            Some(g) => (g.source, g.flags, g.data),
            None => (m.fstype, m.flags, m.data),
        };
        #[cfg(not(feature = "oci"))]
        let (source, flags, data) = (m.fstype, m.flags, m.data);
        let i = i as u8;
        mkdir_if_missing(m.target, 0o755).map_err(|e| (step::MKDIR + i, e))?;
        mount(source, m.target, m.fstype, flags, data).map_err(|e| (step::MOUNT + i, e))?;
    }
    Ok(())
}

/// Makes the mount at `path` read-only, keeping its nosuid, nodev and noexec (a remount
/// sets the per-mount flags to exactly those given). `statfs`'s ST_NOSUID, ST_NODEV and
/// ST_NOEXEC have the values of the MS_ flags.
pub fn remount_read_only(path: &CStr) -> Result<(), Errno> {
    remount_adding(path, MS_RDONLY)
}

/// Remounts the bind at `path` with `add` (`MS_RDONLY` and per-mount flags: nosuid,
/// nodev, noexec, atime, nosymfollow) on top of the nosuid/nodev/noexec/nosymfollow it
/// has (a bind remount that leaves one out clears it, or fails where the source's mount
/// locks it).
pub fn remount_adding(path: &CStr, add: u32) -> Result<(), Errno> {
    let st = rustix::fs::statfs(path)?.f_flags as u32;
    // ST_NOSYMFOLLOW (include/linux/statfs.h) is not MS_NOSYMFOLLOW's bit. The atime mode
    // needs no keeping: a remount that names none keeps the mount's.
    const ST_NOSYMFOLLOW: u32 = 0x2000;
    let keep = st & (MS_NOSUID | MS_NODEV | MS_NOEXEC) | if st & ST_NOSYMFOLLOW != 0 { MS_NOSYMFOLLOW } else { 0 };
    mount(c"none", path, c"none", MS_BIND | MS_REMOUNT | add | keep, None)
}

/// `mkdir(path, mode)`, where an existing entry is fine (the mount that follows says so if
/// it is not a directory).
pub fn mkdir_if_missing(path: &CStr, mode: u32) -> Result<(), Errno> {
    match rustix::fs::mkdir(path, Mode::from_raw_mode(mode)) {
        Ok(()) | Err(Errno::EXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `mount(2)`; source and fstype are ignored by the kernel for binds, moves and remounts.
pub fn mount(source: &CStr, target: &CStr, fstype: &CStr, flags: u32, data: Option<&CStr>) -> Result<(), Errno> {
    rustix::mount::mount(source, target, fstype, MountFlags::from_bits_retain(flags), data)
}
