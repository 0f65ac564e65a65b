//! Whole-buffer reads and writes on a descriptor, retried on short transfers and EINTR.
//! Allocation-free: the trampoline uses them between clone and execve.

use rustix::fd::{AsFd, BorrowedFd};
use rustix::io::Errno;

/// Writes all of `bytes`.
pub fn write_all(fd: impl AsFd, bytes: &[u8]) -> Result<(), Errno> {
    write_all_fd(fd.as_fd(), bytes)
}

// One copy of each loop in the binary, whatever descriptor type the caller holds.
#[inline(never)]
fn write_all_fd(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Fills `buf` unless end-of-file comes first; returns how many bytes were read (fewer
/// than `buf.len()` only at end-of-file).
pub fn read_full(fd: impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
    read_full_fd(fd.as_fd(), buf)
}

fn read_full_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
