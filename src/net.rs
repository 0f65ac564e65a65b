//! The network namespace's loopback interface: a new namespace has `lo`, but down. One
//! SIOCSIFFLAGS ioctl on any socket brings it up; no netlink needed. An AF_UNIX socket
//! will do (the kernel hands interface ioctls on to the device layer for any family)
//! and is the cheapest to make; a kernel built without AF_UNIX gets an AF_INET one.
//!
//! Bringing `lo` up is the dearest single step of a run (~0.15 ms here: the kernel adds
//! its addresses and routes for IPv4 and IPv6), so when clone3 made the namespace the
//! parent does it ([`loopback_up_from_outside`]), on the other core, while the child
//! mounts; the child reads the command only after it. A socket belongs to the namespace
//! it was made in: the parent steps into the child's namespace for the `socket` call
//! only, and the ioctl on that socket acts there.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{socket_with, AddressFamily, SocketFlags, SocketType};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};

/// `lo` up in the caller's own network namespace (the child's fallback path, after it
/// unshared one itself).
pub fn loopback_up() -> Result<(), Errno> {
    crate::sys::fresh_loopback_up(&socket()?)
}

/// `lo` up in the network namespace of the process `pidfd` (PID `pid`) names, the
/// caller staying in its own, which it finds through a socket of its own (no /proc
/// needed: tinyctr may run in a chroot without one). setns takes a pidfd from Linux 5.8;
/// before that (EINVAL) the child's namespace is opened through /proc. ESRCH: the child
/// has already ended.
pub fn loopback_up_from_outside(pidfd: BorrowedFd<'_>, pid: i32) -> Result<(), Errno> {
    use rustix::fs::{open, Mode, OFlags};
    let own = crate::sys::socket_netns(&socket()?)?;
    match move_into_link_name_space(pidfd, Some(LinkNameSpaceType::Network)) {
        Err(Errno::INVAL) => {
            let mut path: crate::buf::Buf<32> = crate::buf::Buf::new();
            path.push(b"/proc/").push_u64(pid as u64).push(b"/ns/net");
            // A child that already ended has no namespaces to show (ENOENT): as ESRCH.
            let ns = open(path.as_cstr(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).map_err(|e| {
                if e == Errno::NOENT {
                    Errno::SRCH
                } else {
                    e
                }
            })?;
            move_into_link_name_space(ns.as_fd(), Some(LinkNameSpaceType::Network))?
        }
        r => r?,
    }
    let sock = socket();
    // Back home whatever happened: nothing else of the parent's may run in there.
    move_into_link_name_space(own.as_fd(), Some(LinkNameSpaceType::Network))?;
    crate::sys::fresh_loopback_up(&sock?)
}

fn socket() -> Result<OwnedFd, Errno> {
    let sock = |family| socket_with(family, SocketType::DGRAM, SocketFlags::CLOEXEC, None);
    match sock(AddressFamily::UNIX) {
        Err(Errno::AFNOSUPPORT) => sock(AddressFamily::INET),
        r => r,
    }
}
