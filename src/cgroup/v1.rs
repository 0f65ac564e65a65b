//! Limits on cgroup v1 hierarchies: one small writer per knob, file names as consts.
//!
//! Kernel quirks this file exists for (Documentation/admin-guide/cgroup-v1/):
//! - a new cpuset cgroup starts with empty `cpuset.cpus` and `cpuset.mems`, and a task
//!   cannot join it until both are set (ENOSPC): copy them from the parent first;
//! - `memory.memsw.limit_in_bytes` (memory+swap) may never be below
//!   `memory.limit_in_bytes`, so memory is written first, then memsw; memsw exists only
//!   where the kernel accounts swap.

use super::fs::{self, write_at, write_error};
use super::Target;
use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::limits::{Limits, Swap};
use core::ffi::CStr;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

const MEMORY_LIMIT: &CStr = c"memory.limit_in_bytes";
const MEMSW_LIMIT: &CStr = c"memory.memsw.limit_in_bytes";
const MEMORY_USAGE: &CStr = c"memory.usage_in_bytes";
const OOM_CONTROL: &CStr = c"memory.oom_control";
const CPU_SHARES: &CStr = c"cpu.shares";
const CFS_PERIOD: &CStr = c"cpu.cfs_period_us";
const CFS_QUOTA: &CStr = c"cpu.cfs_quota_us";
const CPUSET_CPUS: &CStr = c"cpuset.cpus";
const CPUSET_MEMS: &CStr = c"cpuset.mems";
const CPUSET_EFFECTIVE_CPUS: &CStr = c"cpuset.effective_cpus";
const CPUSET_EFFECTIVE_MEMS: &CStr = c"cpuset.effective_mems";
const PIDS_MAX: &CStr = c"pids.max";

use super::layout::Ctl;

/// Writes the limits of the controllers in `ctls` (those this hierarchy drives for this
/// run). `cpuset_here` says the hierarchy has the cpuset controller, even if no cpuset
/// limit was asked: a co-mounted `cpu,cpuset` cgroup still needs its cpus and mems.
#[inline(never)]
pub fn write_limits(t: &Target<'_>, ctls: u8, cpuset_here: bool, limits: &Limits<'_>) -> Result<()> {
    if cpuset_here {
        init_cpuset(t.fd, t.path, t.parent, limits.cpuset_cpus.map(CStr::to_bytes))?;
    }
    if ctls & Ctl::Memory.bit() != 0 {
        if let Some(mem) = limits.memory {
            memory(t, mem, limits.memory_swap)?;
        }
    }
    if ctls & Ctl::Cpu.bit() != 0 {
        if let Some(shares) = limits.cpu_shares {
            fs::write_num(t.fd, t.path, CPU_SHARES, shares)?;
        }
        if let Some(q) = limits.cpus {
            for (file, v) in [(CFS_PERIOD, q.period), (CFS_QUOTA, q.quota)] {
                fs::write_num(t.fd, t.path, file, v).map_err(|e| match fs::exists(t.fd, file) {
                    true => e,
                    false => e.hint(b"this kernel has no CPU bandwidth control (CONFIG_CFS_BANDWIDTH)"),
                })?;
            }
        }
    }
    if ctls & Ctl::Pids.bit() != 0 {
        if let Some(n) = limits.pids {
            fs::write_num(t.fd, t.path, PIDS_MAX, n)?;
        }
    }
    Ok(())
}

/// `memory.limit_in_bytes`, then `memory.memsw.limit_in_bytes` where swap is accounted:
/// the memory limit by default (no swap beyond it), `-1` for unlimited swap, or the
/// total the user gave.
#[inline(never)]
fn memory(t: &Target<'_>, mem: u64, swap: Option<Swap>) -> Result<()> {
    let mut val = write_memory_limit(t, MEMORY_LIMIT, MEMORY_USAGE, mem)?;
    let total: &[u8] = match swap {
        None => val.as_bytes(),
        Some(Swap::Unlimited) => b"-1",
        Some(Swap::Total(n)) => {
            val.clear();
            val.push_u64(n).as_bytes()
        }
    };
    write_swap_limit(t, MEMSW_LIMIT, total, swap, b"boot it with swapaccount=1")
}

/// Writes a swap limit (v1 memory+swap, v2 swap alone) straight away: the file is
/// missing where swap is not accounted, which the failed open tells as well as a
/// separate look would. Only a `--memory-swap` total the user asked for then fails,
/// naming the file and how to get it (`fix`).
pub fn write_swap_limit(t: &Target<'_>, file: &CStr, value: &[u8], swap: Option<Swap>, fix: &[u8]) -> Result<()> {
    match fs::write(t.fd, file, value) {
        Ok(()) => Ok(()),
        Err(Errno::NOENT) if !matches!(swap, Some(Swap::Total(_))) => Ok(()),
        Err(Errno::NOENT) => {
            let mut e = Error::usage(b"--memory-swap: this kernel does not account swap (no ");
            e.msg.push(file.to_bytes()).push(b" in \"").push(t.path).push(b"\"); ").push(fix);
            e.msg.push(b", or leave --memory-swap out");
            Err(e)
        }
        Err(e) => Err(fs::write_error(value, t.path, file, e)),
    }
}

/// Adds `; the cgroup already uses N bytes (FILE)` to a failed memory write.
pub fn usage_hint(mut err: Error, dir: BorrowedFd<'_>, file: &CStr) -> Error {
    let mut buf = [0u8; 32];
    if let Some(used) = fs::read(dir, file, &mut buf).ok().and_then(crate::limits::parse_uint) {
        err.msg.push(b"; the cgroup already uses ").push_u64(used).push(b" bytes (").push(file.to_bytes()).push(b")");
    }
    err
}

/// Writes the memory limit `mem` to `limit` (v1 `memory.limit_in_bytes`, v2
/// `memory.max`) and returns the value as written. EBUSY means the cgroup already uses
/// more: the error then says how much, from `usage`.
pub fn write_memory_limit(t: &Target<'_>, limit: &CStr, usage: &CStr, mem: u64) -> Result<Buf<24>> {
    let mut val = Buf::<24>::new();
    val.push_u64(mem);
    fs::write(t.fd, limit, val.as_bytes()).map_err(|e| {
        let err = write_error(val.as_bytes(), t.path, limit, e);
        match e {
            Errno::BUSY => usage_hint(err, t.fd, usage),
            _ => err,
        }
    })?;
    Ok(val)
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

/// The `oom_kill` count of `memory.oom_control` (Linux 4.13+).
pub fn oom_kills(dir: BorrowedFd<'_>) -> Option<u64> {
    let mut buf = [0u8; 512];
    fs::keyed_value(fs::read(dir, OOM_CONTROL, &mut buf).ok()?, b"oom_kill")
}
