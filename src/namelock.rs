//! `--name`: one running container per name, on the whole host.
//!
//! A run's cgroups are `tinyctr-NAME` in the hierarchies of the controllers it asks for,
//! so two runs of one name with different limits (`--pids-limit` and `-m`) never meet
//! there. The name itself is held instead by an abstract unix socket, `@tinyctr/NAME`,
//! bound for as long as the run lasts: binding is atomic (a second bind is EADDRINUSE),
//! the kernel releases it when its holder dies however it dies, and it leaves nothing
//! behind to clean up. Abstract names belong to a network namespace: runs started in
//! the same one (tinyctr's own, not the container's) share them.

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{socket_with, AddressFamily, SocketFlags, SocketType};

/// Takes `name` for this run; held until the descriptor is dropped. EADDRINUSE: another
/// run holds it. Where no socket can be made at all (`None`), the cgroups' own locks are
/// the only check left, as before.
#[inline(never)]
pub fn take(name: &[u8]) -> Result<Option<OwnedFd>, Errno> {
    let Ok(sock) = socket_with(AddressFamily::UNIX, SocketType::DGRAM, SocketFlags::CLOEXEC, None) else {
        return Ok(None);
    };
    match crate::sys::bind_abstract(&sock, b"tinyctr/", name) {
        Ok(()) => Ok(Some(sock)),
        Err(Errno::ADDRINUSE) => Err(Errno::ADDRINUSE),
        Err(_) => Ok(None),
    }
}
