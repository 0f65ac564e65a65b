//! The control files of cgroup v1 hierarchies (as consts), and the cpuset a new v1
//! cgroup must be given; the limits themselves are written by [`super::knobs`].
//!
//! Kernel quirk this file exists for (Documentation/admin-guide/cgroup-v1/): a new cpuset
//! cgroup starts with empty `cpuset.cpus` and `cpuset.mems`, and a task cannot join it
//! until both are set (ENOSPC): copy them from the parent first.
//!
//! And the one this file's [`join_self`] exists for: a write of another process's pid to
//! `cgroup.procs` (or `tasks`) takes the kernel's global threadgroup lock for writing, a
//! percpu rwsem whose write side waits for an RCU grace period after a quiet moment
//! (6-8 ms measured here, against 0.02 ms). A thread that writes `0` to `tasks` moves
//! only itself and takes no such lock (kernel/cgroup/cgroup.c, cgroup_procs_write_start:
//! "If we migrate a single thread ... we can skip the global lock", since 5.19). The
//! container's init is a single thread until execve, so moving that thread moves the
//! whole process: it joins its v1 cgroups itself.

use super::fs::{self, write_at, write_error};
use crate::error::{Error, Result};
use core::ffi::CStr;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

pub const MEMORY_LIMIT: &CStr = c"memory.limit_in_bytes";
pub const MEMSW_LIMIT: &CStr = c"memory.memsw.limit_in_bytes";
pub const MEMORY_USAGE: &CStr = c"memory.usage_in_bytes";
pub const OOM_CONTROL: &CStr = c"memory.oom_control";
pub const CPU_SHARES: &CStr = c"cpu.shares";
pub const CFS_PERIOD: &CStr = c"cpu.cfs_period_us";
pub const CFS_QUOTA: &CStr = c"cpu.cfs_quota_us";
pub const CPUSET_CPUS: &CStr = c"cpuset.cpus";
const CPUSET_MEMS: &CStr = c"cpuset.mems";
const CPUSET_EFFECTIVE_CPUS: &CStr = c"cpuset.effective_cpus";
const CPUSET_EFFECTIVE_MEMS: &CStr = c"cpuset.effective_mems";
pub const PIDS_MAX: &CStr = c"pids.max";

/// Moves the calling thread, the only thread of its process, into the v1 cgroup `dir`
/// (see the module's notes). Allocation-free: the container's init calls it.
pub fn join_self(dir: BorrowedFd<'_>) -> core::result::Result<(), Errno> {
    fs::write(dir, c"tasks", b"0")
}

/// Adds `; the cgroup already uses N bytes (FILE)` to a failed memory write.
pub fn usage_hint(mut err: Error, dir: BorrowedFd<'_>, file: &CStr) -> Error {
    let mut buf = [0u8; 32];
    if let Some(used) = fs::read(dir, file, &mut buf).ok().and_then(crate::limits::parse_uint) {
        err.msg.push(b"; the cgroup already uses ").push_u64(used).push(b" bytes (").push(file.to_bytes()).push(b")");
    }
    err
}

/// Fills a new cpuset cgroup from its parent: `cpuset.mems` always, `cpuset.cpus` unless
/// the user gave a list. A list outside the parent's CPUs fails with EINVAL: the hint
/// names the CPUs available.
pub fn init_cpuset(dir: BorrowedFd<'_>, path: &[u8], parent: BorrowedFd<'_>, cpus: Option<&[u8]>) -> Result<()> {
    let mut mems = [0u8; 256];
    let mems = parent_value(parent, CPUSET_MEMS, CPUSET_EFFECTIVE_MEMS, &mut mems);
    write_at(dir, path, CPUSET_MEMS, mems)?;
    let mut avail = [0u8; 256];
    let avail = parent_value(parent, CPUSET_CPUS, CPUSET_EFFECTIVE_CPUS, &mut avail);
    match cpus {
        None => write_at(dir, path, CPUSET_CPUS, avail),
        Some(list) => fs::write(dir, CPUSET_CPUS, list).map_err(|e| cpuset_error(list, path, CPUSET_CPUS, e, avail)),
    }
}

/// A parent's cpuset value, or its effective one when the configured one is empty.
fn parent_value<'b>(parent: BorrowedFd<'_>, file: &CStr, effective: &CStr, buf: &'b mut [u8; 256]) -> &'b [u8] {
    let n = fs::read(parent, file, buf).map_or(0, |v| v.len());
    if n > 0 {
        return &buf[..n];
    }
    fs::read(parent, effective, buf).unwrap_or(b"")
}

/// A failed `cpuset.cpus` write, with the CPUs available as the hint.
pub fn cpuset_error(list: &[u8], path: &[u8], file: &CStr, e: Errno, avail: &[u8]) -> Error {
    let mut err = write_error(list, path, file, e);
    // EINVAL: not within the parent's CPUs; ERANGE: beyond the CPUs this machine has.
    if (e == Errno::INVAL || e == Errno::RANGE) && !avail.is_empty() {
        err.msg.push(b"; the CPUs available here are ").push(avail);
    }
    err
}
