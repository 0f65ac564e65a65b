//! A cgroup of the unified hierarchy that no mount shows: where a `run` container's
//! device list goes on a host with no mounted hierarchy to take it (a bare initramfs
//! with nothing mounted; a v1 host without the devices hierarchy). fsmount(2) (Linux
//! 5.2) gives a mount of cgroup2 attached nowhere: the host's mount table does not
//! change, and the container's cgroup is reached through descriptors alone. Any kernel
//! with cgroups has the unified hierarchy, mounted or not, and a device program there
//! decides for every process in the cgroup whatever the v1 controllers are doing.
//!
//! Made below tinyctr's own cgroup of the hierarchy (`/proc/self/cgroup`'s `0::` line,
//! read through a detached procfs when /proc is not mounted either), locked and swept
//! as the others are (crate::cgroup::fs).

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{fsconfig_create, fsmount, fsopen, FsMountFlags, FsOpenFlags, MountAttrFlags};

use super::fs;
use super::layout::PATH;
use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::mountinfo;

const HINT: &[u8] = b"no mounted cgroup hierarchy has the devices controller and cgroup2 cannot be reached \
    (CONFIG_CGROUPS, Linux 5.2); mount one (mount -t cgroup2 none /sys/fs/cgroup), or pass --privileged";

pub struct Detached {
    /// tinyctr's own cgroup, open in the detached mount.
    own: OwnedFd,
    /// The container's, open and locked; `None` once removed.
    fd: Option<OwnedFd>,
    name: Buf<40>,
    /// `cgroup2:<own>/<name>`, for messages.
    path: Buf<PATH>,
}

/// A fresh mount of `fstype`, attached nowhere.
fn detached_mount(fstype: &CStr) -> core::result::Result<OwnedFd, Errno> {
    let fs = fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC)?;
    fsconfig_create(fs.as_fd())?;
    fsmount(fs.as_fd(), FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())
}

/// tinyctr's own cgroup of the unified hierarchy, from `/proc/self/cgroup`, or from a
/// procfs of our own when none is mounted.
fn own_path(out: &mut Buf<PATH>) -> core::result::Result<(), Errno> {
    let file = match rustix::fs::open(c"/proc/self/cgroup", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(f) => f,
        Err(_) => {
            let proc = detached_mount(c"proc")?;
            rustix::fs::openat(proc.as_fd(), c"self/cgroup", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?
        }
    };
    let mut buf = [0u8; 1024];
    let mut lines = mountinfo::Lines::new(mountinfo::FdSource(file), &mut buf);
    while let Some(line) = lines.next_line()? {
        if let Some(c) = mountinfo::parse_cgroup_line(line).filter(|c| c.id == b"0" && c.controllers.is_empty()) {
            out.push(c.path);
            // Outside our cgroup namespace: nothing of ours to nest below.
            let outside = c.path.split(|&b| b == b'/').any(|p| p == b"..");
            return if out.overflowed() || outside { Err(Errno::NOENT) } else { Ok(()) };
        }
    }
    Err(Errno::NOENT)
}

impl Detached {
    /// Makes `tinyctr-<pid>` below tinyctr's own unified cgroup; the device list goes in
    /// once the child exists ([`Detached::write_devices`]).
    #[inline(never)]
    pub fn create(pid: u32) -> Result<Detached> {
        let failed = |what: &str, e| Error::sys_hint(what, b"cgroup2", e, HINT);
        let root = detached_mount(c"cgroup2").map_err(|e| failed("mount", e))?;
        let mut own_at: Buf<PATH> = Buf::new();
        own_path(&mut own_at).map_err(|e| failed("find tinyctr's own cgroup of", e))?;
        // Relative to the mount's root, which is the root of our cgroup namespace.
        let rel = own_at.as_bytes().strip_prefix(b"/").unwrap_or(b"");
        let mut rel: Buf<PATH> = Buf::from(if rel.is_empty() { &b"."[..] } else { rel });
        let own = fs::open_dir(root.as_fd(), rel.as_cstr()).map_err(|e| failed("open tinyctr's own cgroup of", e))?;
        let mut name: Buf<40> = Buf::from(fs::PREFIX);
        name.push_u64(pid as u64);
        let mut path: Buf<PATH> = Buf::from(b"cgroup2:");
        path.push(own_at.as_bytes()).push(if own_at.as_bytes() == b"/" { b"" } else { b"/" }).push(name.as_bytes());
        fs::lock(own.as_fd(), true).map_err(|e| fs::path_error("lock cgroup", own_at.as_bytes(), e))?;
        let made = fs::make_locked(own.as_fd(), name.as_cstr(), false);
        let _ = fs::unlock(own.as_fd());
        let fd = made.map_err(|e| fs::path_error("create cgroup", path.as_bytes(), e))?;
        let d = Detached { own, fd: Some(fd), name, path };
        // `root` goes: the descriptors keep the mount alive, attached nowhere, until the
        // last of them is closed.
        drop(root);
        Ok(d)
    }

    /// For clone3's `CLONE_INTO_CGROUP`.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    /// docker's device list, as `Cgroup::write_devices`.
    pub fn write_devices(&self) -> Result<()> {
        let Some(fd) = self.fd.as_ref() else { return Ok(()) };
        super::devices::docker_default(fd.as_fd(), self.path.as_bytes(), true)
    }

    /// Places `pid` in it (a child not born inside: no clone3).
    pub fn attach(&self, pid: i32) -> Result<()> {
        let Some(fd) = self.fd.as_ref() else { return Ok(()) };
        let mut val = Buf::<24>::new();
        val.push_i64(pid as i64);
        fs::write(fd.as_fd(), c"cgroup.procs", val.as_bytes())
            .map_err(|e| fs::write_error(val.as_bytes(), self.path.as_bytes(), c"cgroup.procs", e))
    }

    /// Removes the cgroups dead runs left next to ours (see [`fs::sweep`]).
    pub fn sweep(&self) {
        if fs::lock(self.own.as_fd(), true).is_ok() {
            fs::sweep(self.own.as_fd(), false);
            let _ = fs::unlock(self.own.as_fd());
        }
    }

    /// Kills what is left in it and removes it. Idempotent; `Drop` calls it too.
    pub fn destroy(&mut self) -> Result<()> {
        let Some(lock) = self.fd.take() else { return Ok(()) };
        let res = fs::remove_tree(self.own.as_fd(), self.name.as_cstr(), false, 0, fs::Removal::Kill);
        drop(lock);
        res.map_err(|e| {
            Error::sys_hint(
                "remove cgroup",
                self.path.as_bytes(),
                e,
                b"processes are still in it; the next run removes it",
            )
        })
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        let _ = self.destroy();
    }
}
