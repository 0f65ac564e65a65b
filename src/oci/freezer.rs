//! `pause` and `resume`: the cgroup freezer; and how `create` prepares a v1 hierarchy
//! its limits did not put it in (the freezer, and the devices controller: devices.rs)
//! for the init to join.
//!
//! The freezer: On the unified hierarchy every cgroup has
//! `cgroup.freeze`; on v1 the freezer is a hierarchy of its own, which `create` joins
//! as well (the limits alone would not put the container there), at the same
//! cgroupsPath. A frozen container's status is `paused`.

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, CWD};

use super::store::Record;
use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{Error, Result};

/// The mount point of the v1 hierarchy of `controller`, from /proc/self/mountinfo.
fn v1_mount(controller: &[u8], out: &mut Buf<4096>) -> bool {
    let Ok(fd) = rustix::fs::open(c"/proc/self/mountinfo", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) else {
        return false;
    };
    let mut buf = [0u8; 1024];
    let mut lines = crate::mountinfo::Lines::new(crate::mountinfo::FdSource(fd), &mut buf);
    while let Ok(Some(line)) = lines.next_line() {
        let Some(m) = crate::mountinfo::parse_mount(line) else { continue };
        if m.fstype == b"cgroup" && crate::mountinfo::has_word(m.super_options, controller) && m.root == b"/" {
            crate::mountinfo::unescape_each(m.mount_point, |b| {
                out.push(&[b]);
            });
            return !out.overflowed();
        }
    }
    false
}

/// `create`, before clone: makes the cgroup of the v1 hierarchy of `controller` at
/// `path` (the cgroupsPath, from the hierarchy's root) with its parents (marked, as the
/// other hierarchies' are), hands its directory to `out`, and has `setup` write the new
/// cgroup's files; returns it open, for the init to join itself before anything else
/// (cgroup::v1::join_self: a move by pid would wait for an RCU grace period). `None`,
/// and nothing done, where that hierarchy is not mounted.
pub fn prepare_v1(
    controller: &[u8],
    path: &[u8],
    setup: &mut dyn FnMut(BorrowedFd<'_>, &[u8]) -> Result<()>,
    out: &mut dyn FnMut(&[u8]),
) -> Result<Option<OwnedFd>> {
    let mut dir: Buf<4096> = Buf::new();
    if !v1_mount(controller, &mut dir) {
        return Ok(None);
    }
    let from = dir.len();
    for c in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
        dir.push(b"/").push(c);
    }
    let mut made = 0;
    fs::mkdir_p(dir.as_bytes(), from, false, &mut made, &mut |_, _, _| Ok(()))?;
    out(dir.as_bytes());
    let d = fs::open_dir(CWD, dir.as_cstr()).map_err(|e| fs::path_error("open cgroup", dir.as_bytes(), e))?;
    setup(d.as_fd(), dir.as_bytes())?;
    Ok(Some(d))
}

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
