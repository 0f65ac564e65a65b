//! What a container should not read or change, as runc masks it by default: kernel
//! memory, keyrings, timers and scheduler internals, firmware tables are masked; the
//! sysctls, SysRq and a few kernel-wide /proc directories are made read-only.
//!
//! A masked file gets /dev/null bound over it (reads give nothing, writes vanish); a
//! masked directory gets an empty read-only tmpfs. Paths the kernel does not have (no
//! ACPI, no SCSI, no sched_debug) are skipped: there is nothing to hide.

use core::ffi::CStr;
use linux_raw_sys::general::{MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC};
use rustix::io::Errno;

use super::mounts::{mount, remount_read_only};
use super::{step, Failure};

/// runc's default masked paths.
pub static MASKED: [&CStr; 10] = [
    c"/proc/acpi",
    c"/proc/asound",
    c"/proc/kcore",
    c"/proc/keys",
    c"/proc/latency_stats",
    c"/proc/timer_list",
    c"/proc/timer_stats",
    c"/proc/sched_debug",
    c"/proc/scsi",
    c"/sys/firmware",
];

/// runc's default read-only paths.
pub static READ_ONLY: [&CStr; 5] = [c"/proc/bus", c"/proc/fs", c"/proc/irq", c"/proc/sys", c"/proc/sysrq-trigger"];

pub fn apply() -> Result<(), Failure> {
    for (i, path) in MASKED.iter().enumerate() {
        mask(path).map_err(|e| (step::MASK + i as u8, e))?;
    }
    for (i, path) in READ_ONLY.iter().enumerate() {
        read_only(path).map_err(|e| (step::READ_ONLY + i as u8, e))?;
    }
    Ok(())
}

/// Binds /dev/null over a file; the kernel refuses that over a directory (ENOTDIR: a bind
/// must keep the type), which then gets the empty tmpfs. Cheaper than a stat first.
fn mask(path: &CStr) -> Result<(), Errno> {
    match mount(c"/dev/null", path, c"none", MS_BIND, None) {
        Err(Errno::NOTDIR) => mount(c"tmpfs", path, c"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
        Err(Errno::NOENT) => Ok(()),
        r => r,
    }
}

/// Binds `path` onto itself, then makes that bind read-only.
fn read_only(path: &CStr) -> Result<(), Errno> {
    match mount(path, path, c"none", MS_BIND | MS_REC, None) {
        Ok(()) => remount_read_only(path),
        Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e),
    }
}
