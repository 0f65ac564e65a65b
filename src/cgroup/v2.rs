//! Limits on the unified (v2) hierarchy: enabling controllers down the path, then one
//! small writer per knob. See Documentation/admin-guide/cgroup-v2.rst.
//!
//! A v2 controller works in a cgroup only if every ancestor enabled it in
//! `cgroup.subtree_control`; and a non-root cgroup that enables any controller there
//! must hold no process itself (the no-internal-process rule: EBUSY). The caller
//! handles that EBUSY (see `Cgroup::create`).

use super::fs::{self, write_at, write_error};
use super::layout::{ctl_mask_spaces, Ctl, CTLS, PATH};
use super::Target;
use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::limits::{Limits, Swap};
use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::CWD;
use rustix::io::Errno;

const SUBTREE_CONTROL: &CStr = c"cgroup.subtree_control";
const MEMORY_MAX: &CStr = c"memory.max";
const SWAP_MAX: &CStr = c"memory.swap.max";
const MEMORY_CURRENT: &CStr = c"memory.current";
const MEMORY_EVENTS: &CStr = c"memory.events";
const CPU_WEIGHT: &CStr = c"cpu.weight";
const CPU_MAX: &CStr = c"cpu.max";
const CPUSET_CPUS: &CStr = c"cpuset.cpus";
const CPUSET_CPUS_EFFECTIVE: &CStr = c"cpuset.cpus.effective";
const PIDS_MAX: &CStr = c"pids.max";

/// Why enabling controllers stopped.
pub enum EnableError {
    /// The no-internal-process rule: the cgroup `path[..len]` holds processes.
    Busy {
        len: usize,
    },
    Other(Error),
}

/// Enables the controllers in `need` in `cgroup.subtree_control` of every cgroup from
/// `path[..from]` (the mount point) down to `path` itself, writing only where one is
/// missing.
#[inline(never)]
pub fn enable(path: &[u8], from: usize, need: u8) -> core::result::Result<(), EnableError> {
    let mut end = from;
    loop {
        let mut dir: Buf<PATH> = Buf::from(&path[..end]);
        let fd = fs::open_dir(CWD, dir.as_cstr())
            .map_err(|e| EnableError::Other(fs::path_error("open", dir.as_bytes(), e)))?;
        let mut buf = [0u8; 256];
        let have = fs::read(fd.as_fd(), SUBTREE_CONTROL, &mut buf).map_or(0, ctl_mask_spaces);
        let missing = need & !have;
        if missing != 0 {
            let mut v = Buf::<80>::new();
            for c in CTLS.iter().filter(|c| missing & c.bit() != 0) {
                if !v.is_empty() {
                    v.push(b" ");
                }
                v.push(b"+").push_str(c.name());
            }
            match fs::write(fd.as_fd(), SUBTREE_CONTROL, v.as_bytes()) {
                Ok(()) => {}
                Err(Errno::BUSY) => return Err(EnableError::Busy { len: end }),
                Err(e) => {
                    return Err(EnableError::Other(write_error(v.as_bytes(), dir.as_bytes(), SUBTREE_CONTROL, e)))
                }
            }
        }
        if end >= path.len() {
            return Ok(());
        }
        end += 1;
        while end < path.len() && path[end] != b'/' {
            end += 1;
        }
    }
}

#[inline(never)]
pub fn write_limits(t: &Target<'_>, ctls: u8, limits: &Limits<'_>) -> Result<()> {
    if ctls & Ctl::Cpuset.bit() != 0 {
        if let Some(list) = limits.cpuset_cpus.map(CStr::to_bytes) {
            fs::write(t.fd, CPUSET_CPUS, list).map_err(|e| {
                let mut avail = [0u8; 256];
                let avail = fs::read(t.parent, CPUSET_CPUS_EFFECTIVE, &mut avail).unwrap_or(b"");
                super::v1::cpuset_error(list, t.path, CPUSET_CPUS, e, avail)
            })?;
        }
    }
    if ctls & Ctl::Memory.bit() != 0 {
        if let Some(mem) = limits.memory {
            memory(t, mem, limits.memory_swap)?;
        }
    }
    if ctls & Ctl::Cpu.bit() != 0 {
        if let Some(shares) = limits.cpu_shares {
            let w = super::weight::shares_to_weight(shares);
            fs::write_num(t.fd, t.path, CPU_WEIGHT, w)?;
        }
        if let Some(q) = limits.cpus {
            let mut v = Buf::<24>::new();
            v.push_u64(q.quota).push(b" ").push_u64(q.period);
            write_at(t.fd, t.path, CPU_MAX, v.as_bytes())?;
        }
    }
    if ctls & Ctl::Pids.bit() != 0 {
        if let Some(n) = limits.pids {
            fs::write_num(t.fd, t.path, PIDS_MAX, n)?;
        }
    }
    Ok(())
}

/// `memory.max`, then `memory.swap.max` where swap is accounted. v2 limits swap alone,
/// so docker's memory+swap total becomes `total - memory`; by default 0 (no swap
/// beyond the memory limit), `max` for `--memory-swap -1`.
#[inline(never)]
fn memory(t: &Target<'_>, mem: u64, swap: Option<Swap>) -> Result<()> {
    let mut val = super::v1::write_memory_limit(t, MEMORY_MAX, MEMORY_CURRENT, mem)?;
    val.clear();
    let v: &[u8] = match swap {
        None => b"0",
        Some(Swap::Unlimited) => b"max",
        Some(Swap::Total(n)) => val.push_u64(n.saturating_sub(mem)).as_bytes(),
    };
    super::v1::write_swap_limit(t, SWAP_MAX, v, swap, b"it needs CONFIG_MEMCG_SWAP (and swapaccount=1 before 5.8)")
}

/// The `oom_kill` count of `memory.events` (it counts the whole subtree).
pub fn oom_kills(dir: BorrowedFd<'_>) -> Option<u64> {
    let mut buf = [0u8; 512];
    fs::keyed_value(fs::read(dir, MEMORY_EVENTS, &mut buf).ok()?, b"oom_kill")
}
