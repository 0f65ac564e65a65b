//! The unified (v2) hierarchy: its control files (as consts), and enabling controllers
//! down the path; the limits themselves are written by [`super::knobs`]. See
//! Documentation/admin-guide/cgroup-v2.rst.
//!
//! A v2 controller works in a cgroup only if every ancestor enabled it in
//! `cgroup.subtree_control`; and a non-root cgroup that enables any controller there
//! must hold no process itself (the no-internal-process rule: EBUSY). The caller
//! handles that EBUSY (see `Cgroup::create`).

use super::fs::{self, write_error};
use super::layout::{ctl_mask, ALL_CTLS, CTLS, PATH};
use crate::buf::Buf;
use crate::error::Result;
use core::ffi::CStr;
use rustix::fd::AsFd;
use rustix::fs::CWD;
use rustix::io::Errno;

const SUBTREE_CONTROL: &CStr = c"cgroup.subtree_control";
pub const MEMORY_MAX: &CStr = c"memory.max";
pub const SWAP_MAX: &CStr = c"memory.swap.max";
pub const MEMORY_CURRENT: &CStr = c"memory.current";
pub const MEMORY_EVENTS: &CStr = c"memory.events";
pub const CPU_WEIGHT: &CStr = c"cpu.weight";
pub const CPU_MAX: &CStr = c"cpu.max";
pub const CPUSET_CPUS: &CStr = c"cpuset.cpus";
pub const CPUSET_CPUS_EFFECTIVE: &CStr = c"cpuset.cpus.effective";
pub const PIDS_MAX: &CStr = c"pids.max";

/// Enables the controllers in `need`, and `extra` (one controller's name, or empty:
/// one tinyctr does not drive itself, such as hugetlb for an OCI config), in
/// `cgroup.subtree_control` of every cgroup from `path[..from]` (the mount point) down
/// to `path` itself, writing only where one is missing. `Ok(Some(len))`: the
/// no-internal-process rule stopped it, the cgroup `path[..len]` holds processes (EBUSY).
#[inline(never)]
pub fn enable(path: &[u8], from: usize, need: u8, extra: &[u8]) -> Result<Option<usize>> {
    // Only the OCI runtime names one: `run` drives its own controllers alone.
    let extra = if cfg!(feature = "oci") { extra } else { b"" };
    // The device program needs no controller (layout::Ctl::Devices).
    let need = need & ALL_CTLS;
    let mut end = from;
    loop {
        let mut dir: Buf<PATH> = Buf::from(&path[..end]);
        let fd = fs::open_dir(CWD, dir.as_cstr()).map_err(|e| fs::path_error("open", dir.as_bytes(), e))?;
        let mut buf = [0u8; 256];
        let (have, extra_missing) = match fs::read(fd.as_fd(), SUBTREE_CONTROL, &mut buf) {
            Ok(list) => (ctl_mask(list), !extra.is_empty() && !list.split(|&b| b == b' ').any(|w| w == extra)),
            Err(_) => (0, !extra.is_empty()),
        };
        let missing = need & !have;
        if missing != 0 || extra_missing {
            let mut v = Buf::<80>::new();
            for c in CTLS.iter().filter(|c| missing & c.bit() != 0) {
                if !v.is_empty() {
                    v.push(b" ");
                }
                v.push(b"+").push_str(c.name());
            }
            if extra_missing {
                if !v.is_empty() {
                    v.push(b" ");
                }
                v.push(b"+").push(extra);
            }
            match fs::write(fd.as_fd(), SUBTREE_CONTROL, v.as_bytes()) {
                Ok(()) => {}
                Err(Errno::BUSY) => return Ok(Some(end)),
                Err(e) => return Err(write_error(v.as_bytes(), dir.as_bytes(), SUBTREE_CONTROL, e)),
            }
        }
        if end >= path.len() {
            return Ok(None);
        }
        end += 1;
        while end < path.len() && path[end] != b'/' {
            end += 1;
        }
    }
}
