//! The limits, written into a new cgroup: one writer for both versions, each knob's file
//! (consts in [`super::v1`] and [`super::v2`]) and value chosen by the hierarchy's
//! version, so the checks and errors around every write exist once.
//!
//! Kernel quirks (Documentation/admin-guide/cgroup-v1/, cgroup-v2.rst):
//! - v1 `memory.memsw.limit_in_bytes` (memory+swap) may never be below
//!   `memory.limit_in_bytes`, so memory is written first, then memsw; v2 limits swap
//!   alone (`memory.swap.max`), so docker's total becomes `total - memory`. Either file
//!   exists only where the kernel accounts swap.
//! - a new v1 cpuset cgroup must be given its cpus and mems ([`super::v1::init_cpuset`]).

use super::fs::{self, write_at, write_error};
use super::layout::{Ctl, Version};
use super::{v1, v2, Target};
use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::limits::{Limits, Swap};
use core::ffi::CStr;
use rustix::io::Errno;

/// Writes the limits of the controllers in `ctls` (those this hierarchy drives for this
/// run). `cpuset_here` says a v1 hierarchy has the cpuset controller, even if no cpuset
/// limit was asked: a co-mounted `cpu,cpuset` cgroup still needs its cpus and mems.
#[inline(never)]
pub fn write_limits(t: &Target<'_>, version: Version, ctls: u8, cpuset_here: bool, limits: &Limits<'_>) -> Result<()> {
    let v2 = version == Version::V2;
    let cpus = limits.cpuset_cpus.map(CStr::to_bytes);
    if !v2 && cpuset_here {
        v1::init_cpuset(t.fd, t.path, t.parent, cpus)?;
    }
    if let (true, true, Some(list)) = (v2, ctls & Ctl::Cpuset.bit() != 0, cpus) {
        fs::write(t.fd, v2::CPUSET_CPUS, list).map_err(|e| {
            let mut avail = [0u8; 256];
            let avail = fs::read(t.parent, v2::CPUSET_CPUS_EFFECTIVE, &mut avail).unwrap_or(b"");
            v1::cpuset_error(list, t.path, v2::CPUSET_CPUS, e, avail)
        })?;
    }
    if ctls & Ctl::Memory.bit() != 0 {
        if let Some(mem) = limits.memory {
            memory(t, v2, mem, limits.memory_swap)?;
        }
    }
    if ctls & Ctl::Cpu.bit() != 0 {
        if let Some(shares) = limits.cpu_shares {
            let (file, v) = match v2 {
                true => (v2::CPU_WEIGHT, super::weight::shares_to_weight(shares)),
                false => (v1::CPU_SHARES, shares),
            };
            fs::write_num(t.fd, t.path, file, v)?;
        }
        if let Some(q) = limits.cpus {
            if v2 {
                let mut v = Buf::<24>::new();
                v.push_u64(q.quota).push(b" ").push_u64(q.period);
                write_at(t.fd, t.path, v2::CPU_MAX, v.as_bytes())?;
            } else {
                for (file, v) in [(v1::CFS_PERIOD, q.period), (v1::CFS_QUOTA, q.quota)] {
                    fs::write_num(t.fd, t.path, file, v).map_err(|mut e| {
                        if !fs::exists(t.fd, file) {
                            e.msg.push(b"; this kernel has no CPU bandwidth control (CONFIG_CFS_BANDWIDTH)");
                        }
                        e
                    })?;
                }
            }
        }
    }
    if ctls & Ctl::Pids.bit() != 0 {
        if let Some(n) = limits.pids {
            // The same file name in both versions.
            fs::write_num(t.fd, t.path, v1::PIDS_MAX, n)?;
        }
    }
    // The device list is written once the child exists (Cgroup::write_devices).
    Ok(())
}

/// The memory limit (v1 `memory.limit_in_bytes`, v2 `memory.max`; EBUSY means the
/// cgroup already uses more, and the error says how much), then the swap limit where
/// swap is accounted: by default none beyond the memory limit, unlimited for `-1`, or
/// the total the user gave.
#[inline(never)]
fn memory(t: &Target<'_>, v2: bool, mem: u64, swap: Option<Swap>) -> Result<()> {
    let (limit, usage) = match v2 {
        true => (v2::MEMORY_MAX, v2::MEMORY_CURRENT),
        false => (v1::MEMORY_LIMIT, v1::MEMORY_USAGE),
    };
    let mut val = Buf::<24>::new();
    val.push_u64(mem);
    let mut written = fs::write(t.fd, limit, val.as_bytes());
    if let (Err(Errno::INVAL), false) = (written, v2) {
        // v1 refuses a memory limit above the memory+swap one (a new limit raised on a
        // live cgroup, by `update`): that one goes up first, to the same value, and is
        // set as asked below. A new cgroup's is unlimited, so `run` never gets here.
        if fs::write(t.fd, v1::MEMSW_LIMIT, val.as_bytes()).is_ok() {
            written = fs::write(t.fd, limit, val.as_bytes());
        }
    }
    written.map_err(|e| {
        let err = write_error(val.as_bytes(), t.path, limit, e);
        match e {
            Errno::BUSY => v1::usage_hint(err, t.fd, usage),
            _ => err,
        }
    })?;
    let (file, value): (&CStr, &[u8]) = match (v2, swap) {
        (false, None) => (v1::MEMSW_LIMIT, val.as_bytes()),
        (false, Some(Swap::Unlimited)) => (v1::MEMSW_LIMIT, b"-1"),
        (true, None) => (v2::SWAP_MAX, b"0"),
        (true, Some(Swap::Unlimited)) => (v2::SWAP_MAX, b"max"),
        (_, Some(Swap::Total(n))) => {
            val.clear();
            match v2 {
                true => (v2::SWAP_MAX, val.push_u64(n.saturating_sub(mem)).as_bytes()),
                false => (v1::MEMSW_LIMIT, val.push_u64(n).as_bytes()),
            }
        }
    };
    // Written straight away: the file is missing where swap is not accounted, which the
    // failed open tells as well as a separate look would. Only a `--memory-swap` total
    // the user asked for then fails, naming the file and how to get it.
    match fs::write(t.fd, file, value) {
        Ok(()) => Ok(()),
        Err(Errno::NOENT) if !matches!(swap, Some(Swap::Total(_))) => Ok(()),
        Err(Errno::NOENT) => {
            let mut e = Error::usage(b"--memory-swap: this kernel does not account swap (no ");
            e.msg.push(file.to_bytes()).push(b" in \"").push(t.path).push(b"\"); ");
            e.msg.push(match v2 {
                true => b"it needs CONFIG_MEMCG_SWAP (and swapaccount=1 before 5.8)",
                false => b"boot it with swapaccount=1",
            });
            e.msg.push(b", or leave --memory-swap out");
            Err(e)
        }
        Err(e) => Err(write_error(value, t.path, file, e)),
    }
}

/// The `oom_kill` count: v1 `memory.oom_control` (Linux 4.13+), v2 `memory.events`
/// (which counts the whole subtree).
pub fn oom_kills(dir: rustix::fd::BorrowedFd<'_>, version: Version) -> Option<u64> {
    let file = match version {
        Version::V1 => v1::OOM_CONTROL,
        Version::V2 => v2::MEMORY_EVENTS,
    };
    let mut buf = [0u8; 512];
    fs::keyed_value(fs::read(dir, file, &mut buf).ok()?, b"oom_kill")
}
