//! Writing to stdout and stderr without std: whole buffers, retried on short writes and
//! EINTR, errors ignored (there is nowhere left to report them).

use crate::fdio::write_all;

pub fn print(bytes: &[u8]) {
    let _ = write_all(crate::sys::std_fd(1), bytes);
}

pub fn eprint(bytes: &[u8]) {
    let _ = write_all(crate::sys::std_fd(2), bytes);
}

/// Prints `tinyctr: <msg>` and a newline on stderr in one write.
pub fn report(err: &crate::error::Error) {
    eprint(err.line().as_bytes())
}
