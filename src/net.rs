//! The network namespace's loopback interface: a new namespace has `lo`, but down. One
//! SIOCSIFFLAGS ioctl on any socket brings it up; no netlink needed. An AF_UNIX socket
//! will do (the kernel hands interface ioctls on to the device layer for any family)
//! and is the cheapest to make; a kernel built without AF_UNIX gets an AF_INET one.

use rustix::io::Errno;
use rustix::net::{socket_with, AddressFamily, SocketFlags, SocketType};

pub fn loopback_up() -> Result<(), Errno> {
    let sock = |family| socket_with(family, SocketType::DGRAM, SocketFlags::CLOEXEC, None);
    let sock = match sock(AddressFamily::UNIX) {
        Err(Errno::AFNOSUPPORT) => sock(AddressFamily::INET)?,
        r => r?,
    };
    crate::sys::fresh_loopback_up(&sock)
}
