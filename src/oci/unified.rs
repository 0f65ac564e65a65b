//! `linux.resources.unified`: files of the container's cgroup v2 directory and the
//! values to write there, as given, after every other limit (so they win, as in runc).
//! The kubelet sends `memory.oom.group: "1"` for every container on a cgroup v2 node
//! (an OOM kill then takes the whole container, not one of its processes), and
//! `memory.high` with its MemoryQoS feature. Only a file of the container's own cgroup
//! can be named (linux.rs checks the key); one the cgroup lacks (its controller is not
//! enabled there, or the host has no such file) fails the command by name, so that no
//! setting is ever dropped. A host without cgroup v2 refuses them.

use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::CWD;
use rustix::io::Errno;

use super::linux::CgroupFile;
use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{Error, Result};

/// Writes every entry into the v2 cgroup at `path` (`None`: the host has none). Out of
/// line: its path buffer stays off the stack of a create that has no such entries.
#[inline(never)]
pub fn write(path: Option<&[u8]>, files: &[CgroupFile<'_>], at: &str) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let Some(path) = path else {
        let mut e = Error::usage(at.as_bytes());
        e.msg.push(b"unified: needs cgroup v2, and this host has no unified hierarchy");
        return Err(e);
    };
    let mut p: Buf<4096> = Buf::from(path);
    let dir = fs::open_dir(CWD, p.as_cstr()).map_err(|e| fs::path_error("open cgroup", path, e))?;
    write_at(dir.as_fd(), path, files)
}

/// [`write`] into the open cgroup `dir`.
pub fn write_at(dir: BorrowedFd<'_>, path: &[u8], files: &[CgroupFile<'_>]) -> Result<()> {
    for f in files {
        let (name, value) = (f.key.get(), f.value.get().to_bytes());
        if let Err(e) = fs::write(dir, name, value) {
            let err = fs::write_error(value, path, name, e);
            return Err(match e {
                Errno::NOENT => err.hint(b"the container's cgroup has no such file: is its controller enabled there?"),
                _ => err,
            });
        }
    }
    Ok(())
}
