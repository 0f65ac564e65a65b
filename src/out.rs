//! Writing to stdout and stderr without std: whole buffers, retried on short writes and
//! EINTR, errors ignored (there is nowhere left to report them).

use core::sync::atomic::{AtomicI32, Ordering};

use crate::fdio::write_all;

pub fn print(bytes: &[u8]) {
    let _ = write_all(crate::sys::std_fd(1), bytes);
}

pub fn eprint(bytes: &[u8]) {
    let _ = write_all(crate::sys::std_fd(2), bytes);
}

/// The OCI commands' `--log` file (-1: none): errors also go there, as the JSON lines
/// containerd reads (it shows the last error's `msg`; `create`'s stderr is lost).
static LOG: AtomicI32 = AtomicI32::new(-1);

/// Sends every later [`report`] to `fd` as well, as a JSON line. The descriptor is
/// never closed: it lives as long as the process.
pub fn log_to(fd: rustix::fd::OwnedFd) {
    LOG.store(rustix::fd::IntoRawFd::into_raw_fd(fd), Ordering::Relaxed);
}

/// Prints `tinyctr: <msg>` and a newline on stderr in one write.
pub fn report(err: &crate::error::Error) {
    report_as("error", err)
}

/// [`report`] at level `warning` in the `--log` file (an OCI hook that failed where
/// the lifecycle goes on).
pub fn warn(err: &crate::error::Error) {
    report_as("warning", err)
}

fn report_as(level: &str, err: &crate::error::Error) {
    let line = err.line();
    eprint(line.as_bytes());
    let fd = LOG.load(Ordering::Relaxed);
    if cfg!(feature = "oci") && fd >= 0 {
        let mut buf = [0u8; 2048];
        let mut o = crate::oci::emit::Out::new(&mut buf);
        let msg = line.as_bytes();
        let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
        crate::oci::emit::log_line(level, msg, crate::sys::clock::realtime().0, &mut o);
        if let Some(text) = o.done() {
            // SAFETY: `fd` came from log_to's OwnedFd, which gave up ownership for the
            // rest of the process.
            #[allow(unsafe_code)]
            let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
            let _ = write_all(fd, text);
        }
    }
}
