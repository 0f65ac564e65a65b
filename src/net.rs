//! The network namespace's loopback interface: a new namespace has `lo`, but down. One
//! SIOCSIFFLAGS ioctl on any socket brings it up; no netlink needed.

use rustix::io::Errno;
use rustix::net::{socket_with, AddressFamily, SocketFlags, SocketType};

pub fn loopback_up() -> Result<(), Errno> {
    let sock = socket_with(AddressFamily::INET, SocketType::DGRAM, SocketFlags::CLOEXEC, None)?;
    crate::sys::interface_up(&sock, b"lo")
}
