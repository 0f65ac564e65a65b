//! Writing to stdout and stderr without std: whole buffers, retried on short writes and
//! EINTR, errors ignored (there is nowhere left to report them).

use rustix::fd::BorrowedFd;

fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

pub fn print(bytes: &[u8]) {
    write_all(crate::sys::std_fd(1), bytes)
}

pub fn eprint(bytes: &[u8]) {
    write_all(crate::sys::std_fd(2), bytes)
}

/// Prints `tinyctr: <msg>` and a newline on stderr in one write.
pub fn report(err: &crate::error::Error) {
    eprint(err.line().as_bytes())
}
