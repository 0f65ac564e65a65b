//! `pause` and `resume`: the cgroup freezer. On the unified hierarchy every cgroup has
//! `cgroup.freeze`; on v1 the freezer is a hierarchy of its own, which `create` joins
//! as it joins every hierarchy (crate::oci::hierarchies), at the same cgroupsPath. A
//! hybrid host's container has both, and both are frozen. A frozen container's status
//! is `paused`.

use core::ffi::CStr;

use rustix::fd::{AsFd, OwnedFd};

use super::store::Record;
use crate::cgroup::fs;
use crate::error::{Error, Result};

/// Of the container's cgroup directories (one per line), the one on the unified
/// hierarchy (it has `cgroup.freeze`).
pub fn v2_dir(existing: &[u8]) -> Option<&[u8]> {
    existing
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .find(|l| fs::open_path(l).is_ok_and(|d| fs::exists(d.as_fd(), c"cgroup.freeze")))
}

/// Whether `dir` is a v2 cgroup (it has `cgroup.freeze`) or a v1 freezer one.
enum Kind {
    V2,
    V1,
}

fn kind(dir: &OwnedFd) -> Option<Kind> {
    if fs::exists(dir.as_fd(), c"cgroup.freeze") {
        Some(Kind::V2)
    } else if fs::exists(dir.as_fd(), c"freezer.state") {
        Some(Kind::V1)
    } else {
        None
    }
}

/// Freezes (or thaws) every freezable cgroup of the container, and waits until the
/// kernel says it is done. Errors when the container has none.
pub fn set(rec: &Record<'_>, id: &CStr, frozen: bool) -> Result<()> {
    let mut any = false;
    for dir in &rec.cgroups[..rec.n_cgroups] {
        let Ok(d) = fs::open_path(dir) else { continue };
        let (file, value, state): (&CStr, &[u8], &[u8]) = match (kind(&d), frozen) {
            (Some(Kind::V2), true) => (c"cgroup.freeze", b"1", b"frozen 1"),
            (Some(Kind::V2), false) => (c"cgroup.freeze", b"0", b"frozen 0"),
            (Some(Kind::V1), true) => (c"freezer.state", b"FROZEN", b"FROZEN"),
            (Some(Kind::V1), false) => (c"freezer.state", b"THAWED", b"THAWED"),
            (None, _) => continue,
        };
        any = true;
        fs::write_at(d.as_fd(), dir, file, value)?;
        // v1 goes through FREEZING, v2 reports in cgroup.events: wait (bounded) until
        // the whole cgroup is there, as runc does.
        let events = if matches!(kind(&d), Some(Kind::V2)) { c"cgroup.events" } else { c"freezer.state" };
        for _ in 0..2000 {
            let mut b = [0u8; 256];
            match fs::read(d.as_fd(), events, &mut b) {
                Ok(text) if text.split(|&c| c == b'\n').any(|l| l == state) => break,
                Ok(_) => fs::sleep_us(500),
                Err(_) => break,
            }
        }
    }
    if !any {
        let mut e = Error::usage(b"cannot pause container \"");
        crate::error::push_shown(&mut e.msg, id.to_bytes());
        e.msg.push(b"\": it has no freezer cgroup (no cgroup v2, no v1 freezer hierarchy)");
        return Err(e);
    }
    Ok(())
}

/// Whether the container's cgroups are frozen (its status is then `paused`).
pub fn frozen(rec: &Record<'_>) -> bool {
    rec.cgroups[..rec.n_cgroups].iter().any(|dir| {
        let Ok(d) = fs::open_path(dir) else { return false };
        let mut b = [0u8; 256];
        match kind(&d) {
            Some(Kind::V2) => fs::read(d.as_fd(), c"cgroup.freeze", &mut b).is_ok_and(|t| t.starts_with(b"1")),
            Some(Kind::V1) => fs::read(d.as_fd(), c"freezer.state", &mut b).is_ok_and(|t| !t.starts_with(b"THAWED")),
            None => false,
        }
    })
}
