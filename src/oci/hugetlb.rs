//! `linux.resources.hugepageLimits`: how many bytes of each huge page size the
//! container may take. The kubelet sends a limit for every page size the node has, 0
//! for those the pod did not ask for, so that no pod takes huge pages another asked
//! for; a runtime that dropped them would let it. v1: `hugetlb.SIZE.limit_in_bytes` in
//! the container's cgroup of the hugetlb hierarchy (crate::oci::hierarchies); v2:
//! `hugetlb.SIZE.max` in its unified cgroup, once hugetlb is enabled down to it. Where
//! the kernel has them (5.7 and later), the reservation limits (`.rsvd.`) too, as runc
//! writes them: without them a mapping's reserved but untouched pages escape the limit.

use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::CWD;
use rustix::io::Errno;

use super::linux::Hugepage;
use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{Error, Result};

/// v1: the limits, in the hugetlb cgroup `dir` (at `path`).
#[inline(never)]
pub fn write_v1(dir: BorrowedFd<'_>, path: &[u8], limits: &[Hugepage<'_>]) -> Result<()> {
    write(dir, path, limits, b".limit_in_bytes", b".rsvd.limit_in_bytes")
}

/// v2: enables hugetlb from the hierarchy's mount point (`path[..from]`) down to the
/// container's parent, then writes the limits in the container's cgroup `path`.
#[inline(never)]
pub fn write_v2(path: &[u8], from: usize, limits: &[Hugepage<'_>]) -> Result<()> {
    let parent = &path[..path.iter().rposition(|&c| c == b'/').unwrap_or(0).max(from)];
    if let Some(len) = crate::cgroup::v2::enable(parent, from, 0, b"hugetlb")? {
        return Err(Error::sys_hint(
            "enable hugetlb in",
            &parent[..len],
            Errno::BUSY,
            b"that cgroup holds processes, and cgroup v2 then gives its children no controller",
        ));
    }
    let mut p: Buf<4096> = Buf::from(path);
    let dir = fs::open_dir(CWD, p.as_cstr()).map_err(|e| fs::path_error("open cgroup", path, e))?;
    write(dir.as_fd(), path, limits, b".max", b".rsvd.max")
}

/// `update`: which kind of hugetlb cgroup `dir` is (`Some(true)`: v1), by its files for
/// `limits`' first page size; `None` if it has none (not a hugetlb cgroup, or v2 with
/// hugetlb not enabled for it: create had no limits then).
pub fn kind(dir: BorrowedFd<'_>, limits: &[Hugepage<'_>]) -> Option<bool> {
    let size = limits.first()?.page_size.get().to_bytes();
    let has = |suffix: &[u8]| {
        let mut name: Buf<64> = Buf::new();
        name.push(b"hugetlb.").push(size).push(suffix);
        fs::exists(dir, name.as_cstr())
    };
    match (has(b".limit_in_bytes"), has(b".max")) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// `update`: the limits, in a cgroup of the `kind` found.
pub fn write_kind(dir: BorrowedFd<'_>, path: &[u8], limits: &[Hugepage<'_>], v1: bool) -> Result<()> {
    match v1 {
        true => write_v1(dir, path, limits),
        false => write(dir, path, limits, b".max", b".rsvd.max"),
    }
}

fn write(dir: BorrowedFd<'_>, path: &[u8], limits: &[Hugepage<'_>], file: &[u8], rsvd: &[u8]) -> Result<()> {
    for h in limits {
        let mut value: Buf<24> = Buf::new();
        value.push_u64(h.limit);
        let size = h.page_size.get().to_bytes();
        let mut name: Buf<64> = Buf::new();
        name.push(b"hugetlb.").push(size).push(file);
        if let Err(e) = fs::write(dir, name.as_cstr(), value.as_bytes()) {
            let err = fs::write_error(value.as_bytes(), path, name.as_cstr(), e);
            return Err(match e {
                Errno::NOENT => err.hint(b"is that a page size this kernel has? (ls /sys/kernel/mm/hugepages)"),
                _ => err,
            });
        }
        name.clear();
        name.push(b"hugetlb.").push(size).push(rsvd);
        match fs::write(dir, name.as_cstr(), value.as_bytes()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(fs::write_error(value.as_bytes(), path, name.as_cstr(), e)),
        }
    }
    Ok(())
}
