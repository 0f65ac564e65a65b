//! `--console-socket`: the container's terminal. The parent connects to the socket the
//! shim listens on (a host path, so before the root switch); the child, once its own
//! devpts is mounted, opens a pseudo-terminal there, sends the master over the socket
//! (one message, one `SCM_RIGHTS` descriptor, as containerd's shim wants), and makes the
//! slave its controlling terminal and its fds 0, 1 and 2.

use core::ffi::CStr;
use core::mem::MaybeUninit;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketType};

use crate::error::{Error, Result};

/// Parent side: a stream socket connected to `path`.
pub fn connect(path: &CStr) -> Result<OwnedFd> {
    let fail = |e| Error::sys("connect to the console socket", path.to_bytes(), e);
    let addr = SocketAddrUnix::new(path).map_err(fail)?;
    let sock =
        rustix::net::socket_with(AddressFamily::UNIX, SocketType::STREAM, rustix::net::SocketFlags::CLOEXEC, None)
            .map_err(fail)?;
    rustix::net::connect(&sock, &addr).map_err(fail)?;
    Ok(sock)
}

/// Child side, allocation-free: the pty, sized as `size` says (rows, columns:
/// `process.consoleSize`, which `ctr run -t` sets from its own terminal; the shim
/// resizes it later, but the program may look first), its master sent over `sock`
/// (then closed), the slave as the controlling terminal and stdio. Runs in the
/// container's mount namespace, so `/dev/ptmx` is its own devpts's.
pub fn attach(sock: RawFd, size: Option<(u16, u16)>) -> core::result::Result<(), Errno> {
    use rustix::pty::OpenptFlags;
    let master = rustix::fs::open(
        c"/dev/ptmx",
        rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    rustix::pty::unlockpt(&master)?;
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
    if let Some((rows, cols)) = size {
        crate::sys::set_window_size(master.as_fd(), rows, cols)?;
    }
    // SAFETY: the parent connected this socket for the child; it is closed below.
    #[allow(unsafe_code)]
    let sock = unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(sock) };
    send_fd(sock.as_fd(), master.as_fd())?;
    drop((sock, master));
    rustix::process::setsid()?;
    rustix::process::ioctl_tiocsctty(&slave)?;
    rustix::stdio::dup2_stdin(&slave)?;
    rustix::stdio::dup2_stdout(&slave)?;
    rustix::stdio::dup2_stderr(&slave)?;
    Ok(())
}

fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> core::result::Result<(), Errno> {
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    control.push(SendAncillaryMessage::ScmRights(&fds));
    // The data is only a name; the shim reads the descriptor.
    let name = [rustix::io::IoSlice::new(b"/dev/ptmx")];
    rustix::net::sendmsg(sock, &name, &mut control, SendFlags::empty()).map(|_| ())
}
