//! The descriptors a container may hold: its standard 0, 1 and 2, nothing else.
//!
//! tinyctr's caller may have left descriptors open without close-on-exec (a shell's
//! `3<file`, a supervisor's socket), and tinyctr itself holds some while the child is
//! cloned (the cgroup directories, the name lock). Close-on-exec is not enough: the
//! child changes to the working directory *before* execve, and a working directory of
//! `/proc/self/fd/N` naming a host directory puts the container outside its root (runc's
//! CVE-2024-21626, through a leaked cgroup descriptor). So the child closes every
//! descriptor above 2 but its failure pipe before it changes directory, and afterwards
//! checks that its working directory is reachable from its root.
//!
//! Runs in the child: no allocation, syscalls and stack buffers only.

use rustix::fd::{AsFd, RawFd};
use rustix::io::Errno;

/// Closes every descriptor from 3 up except `keep`. One or two `close_range` calls; on
/// kernels before 5.9, the entries of `/proc/self/fd` one by one (the container's /proc
/// is mounted by then).
pub fn close_all_but(keep: RawFd) -> Result<(), Errno> {
    let keep = keep as u32;
    let below = match keep {
        0..=3 => Ok(()),
        k => crate::sys::close_range(3, k - 1),
    };
    match below.and_then(|()| crate::sys::close_range(keep.saturating_add(1).max(3), u32::MAX)) {
        Err(Errno::NOSYS) => close_listed(keep as RawFd),
        r => r,
    }
}

fn close_listed(keep: RawFd) -> Result<(), Errno> {
    use core::mem::MaybeUninit;
    use rustix::fs::{Mode, OFlags, RawDir};
    let dir = rustix::fs::open(c"/proc/self/fd", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let own = rustix::fd::AsRawFd::as_raw_fd(&dir);
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = RawDir::new(dir.as_fd(), &mut buf);
    while let Some(e) = entries.next() {
        let e = e?;
        let n = e.file_name().to_bytes().iter().try_fold(0 as RawFd, |n, &c| match c {
            b'0'..=b'9' => n.checked_mul(10)?.checked_add((c - b'0') as RawFd),
            _ => None,
        });
        match n {
            Some(fd) if fd > 2 && fd != keep && fd != own => {
                crate::sys::close_raw(fd);
            }
            _ => {}
        }
    }
    Ok(())
}

/// True when the working directory is reachable from the root (the kernel's getcwd
/// says `(unreachable)` otherwise, or ENOENT for a directory that was removed).
pub fn workdir_inside_root() -> bool {
    // PATH_MAX: the kernel builds the whole path before it answers ERANGE, so a smaller
    // buffer would need a second call for ordinary paths.
    let mut buf = [0u8; 4096];
    crate::sys::getcwd(&mut buf).is_ok() && buf[0] == b'/'
}
