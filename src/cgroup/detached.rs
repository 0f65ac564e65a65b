//! A cgroup of the unified hierarchy that no mount shows: where a `run` container's
//! device list goes on a host with no mounted hierarchy to take it (a bare initramfs
//! with nothing mounted; a v1 host without the devices hierarchy). fsmount(2) (Linux
//! 5.2) gives a mount of cgroup2 attached nowhere: the host's mount table does not
//! change, and the container's cgroup is reached through descriptors alone. Any kernel
//! with cgroups has the unified hierarchy, mounted or not, and a device program there
//! decides for every process in the cgroup whatever the v1 controllers are doing.
//!
//! A new mount of cgroup2 made in the initial cgroup namespace sets the hierarchy's
//! root options for the whole machine to its own (the kernel's
//! apply_cgroup_root_flags): a plain one would clear systemd's `nsdelegate` and
//! `memory_recursiveprot` wherever they are set, in a mount namespace we cannot see.
//! So tinyctr first takes a cgroup namespace of its own (for its own process only; the
//! container unshares another one anyway), where a mount changes nothing of the kind
//! and is rooted at tinyctr's own cgroup: the container's is made right there, below
//! it, locked and swept as the others are (crate::cgroup::fs), and no `/proc` is needed
//! to find where that is.

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::mount::{fsconfig_create, fsmount, fsopen, FsMountFlags, FsOpenFlags, MountAttrFlags};

use super::fs;
use super::layout::PATH;
use crate::buf::Buf;
use crate::error::{Error, Result};

const HINT: &[u8] = b"no mounted cgroup hierarchy has the devices controller and cgroup2 cannot be reached \
    (CONFIG_CGROUPS, Linux 5.2); mount one (mount -t cgroup2 none /sys/fs/cgroup), or pass --privileged";

pub struct Detached {
    /// tinyctr's own cgroup: the root of the detached mount.
    own: OwnedFd,
    /// The container's, open and locked; `None` once removed.
    fd: Option<OwnedFd>,
    name: Buf<40>,
    /// For messages.
    path: Buf<PATH>,
}

/// A fresh mount of `fstype`, attached nowhere.
fn detached_mount(fstype: &CStr) -> core::result::Result<OwnedFd, Errno> {
    let fs = fsopen(fstype, FsOpenFlags::FSOPEN_CLOEXEC)?;
    fsconfig_create(fs.as_fd())?;
    fsmount(fs.as_fd(), FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())
}

impl Detached {
    /// Makes `tinyctr-<pid>` below tinyctr's own unified cgroup; the device list goes in
    /// once the child exists ([`Detached::write_devices`]).
    #[inline(never)]
    pub fn create(pid: u32) -> Result<Detached> {
        let failed = |what: &str, e| Error::sys_hint(what, b"cgroup2", e, HINT);
        crate::sys::unshare(linux_raw_sys::general::CLONE_NEWCGROUP)
            .map_err(|e| failed("take a cgroup namespace for", e))?;
        // The mount's root is the namespace's: tinyctr's own cgroup.
        // (fsmount's descriptor is an O_PATH one, which flock(2) refuses: the directory
        // itself is opened through it.)
        let own =
            detached_mount(c"cgroup2").and_then(|m| fs::open_dir(m.as_fd(), c".")).map_err(|e| failed("mount", e))?;
        let mut name: Buf<40> = Buf::from(fs::PREFIX);
        name.push_u64(pid as u64);
        let mut path: Buf<PATH> = Buf::from(b"cgroup2 (tinyctr's own cgroup)/");
        path.push(name.as_bytes());
        let own_at = b"cgroup2 (tinyctr's own cgroup)";
        fs::lock(own.as_fd(), true).map_err(|e| fs::path_error("lock cgroup", own_at, e))?;
        let made = fs::make_locked(own.as_fd(), name.as_cstr(), false);
        let _ = fs::unlock(own.as_fd());
        let fd = made.map_err(|e| fs::path_error("create cgroup", path.as_bytes(), e))?;
        // The descriptors keep the mount alive, attached nowhere, until the last of them
        // is closed.
        Ok(Detached { own, fd: Some(fd), name, path })
    }

    /// For clone3's `CLONE_INTO_CGROUP`.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    /// docker's device list, as `Cgroup::write_devices`.
    pub fn write_devices(&self, extra: &[crate::device::Line]) -> Result<()> {
        let Some(fd) = self.fd.as_ref() else { return Ok(()) };
        super::devices::docker_default(fd.as_fd(), self.path.as_bytes(), true, extra)
    }

    /// Places `pid` in it (a child not born inside: no clone3).
    pub fn attach(&self, pid: i32) -> Result<()> {
        let Some(fd) = self.fd.as_ref() else { return Ok(()) };
        fs::write_num(fd.as_fd(), self.path.as_bytes(), c"cgroup.procs", pid as u64)
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
