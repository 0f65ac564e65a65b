//! Fault injection for tests, in debug builds only: `TINYCTR_DEBUG_FAULT=<point>` makes
//! that setup step fail with EIO, so tests can prove every failure gives its one-line
//! error, status 125, and leaves nothing behind. Release builds compile all of it away
//! (`cfg!(debug_assertions)` is a constant), so the shipped binary has no such switch.
//!
//! The armed point is kept in an atomic, read by the parent and (after clone, in its copy
//! of memory) by the child: no `static mut`, no allocation.

use core::sync::atomic::{AtomicU8, Ordering};

use rustix::io::Errno;

use crate::sys::args::CArgs;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Point {
    Map = 1,
    CgroupCreate,
    CgroupLimit,
    CgroupAttach,
    Pipe,
    Signalfd,
    Clone,
    ChildCgroupNs,
    ChildPrivate,
    ChildProc,
    ChildRootfs,
    ChildHostname,
    Loopback,
    ChildWorkdir,
    ChildExec,
    ChildFds,
    ChildMask,
    ChildConfine,
}

/// The names tests use, in `Point` order.
pub const NAMES: &[(&str, Point)] = &[
    ("map", Point::Map),
    ("cgroup-create", Point::CgroupCreate),
    ("cgroup-limit", Point::CgroupLimit),
    ("cgroup-attach", Point::CgroupAttach),
    ("pipe", Point::Pipe),
    ("signalfd", Point::Signalfd),
    ("clone", Point::Clone),
    ("child-cgroupns", Point::ChildCgroupNs),
    ("child-private", Point::ChildPrivate),
    ("child-proc", Point::ChildProc),
    ("child-rootfs", Point::ChildRootfs),
    ("child-hostname", Point::ChildHostname),
    ("loopback", Point::Loopback),
    ("child-workdir", Point::ChildWorkdir),
    ("child-exec", Point::ChildExec),
    ("child-fds", Point::ChildFds),
    ("child-mask", Point::ChildMask),
    ("child-confine", Point::ChildConfine),
];

static ARMED: AtomicU8 = AtomicU8::new(0);

/// Reads `TINYCTR_DEBUG_FAULT` from the environment (debug builds only).
pub fn arm(env: CArgs<'_>) {
    if !cfg!(debug_assertions) {
        return;
    }
    let Some(entry) = crate::env::lookup(env, b"TINYCTR_DEBUG_FAULT") else {
        return;
    };
    let value = &entry.to_bytes()[b"TINYCTR_DEBUG_FAULT=".len()..];
    if let Some(&(_, p)) = NAMES.iter().find(|(n, _)| n.as_bytes() == value) {
        ARMED.store(p as u8, Ordering::Relaxed);
    }
}

/// `Err(EIO)` if `p` is the armed fault point.
#[inline]
pub fn check(p: Point) -> Result<(), Errno> {
    if cfg!(debug_assertions) && ARMED.load(Ordering::Relaxed) == p as u8 {
        return Err(Errno::IO);
    }
    Ok(())
}
