//! The minimal /dev (on the tmpfs [`super::mounts`] put there): the character devices
//! every program may expect, and the links into /dev/pts and /proc.
//!
//! The nodes are made with mknod(2) rather than bind-mounted from the host's /dev: after
//! the root switch the host's /dev is out of reach, and an initramfs may have none.
//! tinyctr runs as real root, so CAP_MKNOD is there (in an OCI config's user namespace it
//! is not: [`populate_bound`]); whether a node may be *opened* is the devices cgroup's call,
//! as for a bind.

use core::ffi::CStr;
#[cfg(feature = "oci")]
use rustix::fd::{AsFd, OwnedFd};
#[cfg(feature = "oci")]
use rustix::fs::{AtFlags, OFlags};
use rustix::fs::{FileType, Mode, CWD};
#[cfg(feature = "oci")]
use rustix::io::Errno;

use super::{step, Failure};
#[cfg(feature = "oci")]
use crate::buf::Buf;
use crate::words::cstrs;

/// The same set as runc's default devices (`words::cstrs`), with the (major, minor) of
/// each in [`NUMBERS`] (from the kernel's devices.txt).
pub const NODES: &[u8] = b"/dev/null\0/dev/zero\0/dev/full\0/dev/random\0/dev/urandom\0/dev/tty\0";
pub static NUMBERS: [(u8, u8); 6] = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0)];

/// The symlinks (`words::cstrs`), each pointing to its entry of [`LINK_TARGETS`].
pub const LINKS: &[u8] = b"/dev/ptmx\0/dev/fd\0/dev/stdin\0/dev/stdout\0/dev/stderr\0";
/// What each of [`LINKS`] points to.
pub const LINK_TARGETS: &[u8] = b"pts/ptmx\0/proc/self/fd\0/proc/self/fd/0\0/proc/self/fd/1\0/proc/self/fd/2\0";

/// Creates [`NODES`] (mode 0666: the caller cleared the umask) and [`LINKS`].
pub fn populate() -> Result<(), Failure> {
    for (i, (path, &(major, minor))) in cstrs(NODES).zip(&NUMBERS).enumerate() {
        let dev = rustix::fs::makedev(major as u32, minor as u32);
        rustix::fs::mknodat(CWD, path, FileType::CharacterDevice, Mode::from_raw_mode(0o666), dev)
            .map_err(|e| (step::NODE + i as u8, e))?;
    }
    links()
}

/// [`populate`] for a container in a user namespace (an OCI config's), where mknod of a
/// device is refused (it takes CAP_MKNOD in the host's namespace): the host's own nodes,
/// bound over empty files, as runc gives them. `host` is the host's root (opened before
/// the root switch, whose old root is still attached then): each node is cloned from
/// there (open_tree) and attached (move_mount).
#[cfg(feature = "oci")]
#[inline(never)]
pub fn populate_bound(host: rustix::fd::BorrowedFd<'_>) -> Result<(), Failure> {
    for (i, path) in cstrs(NODES).enumerate() {
        rustix::fs::mknodat(CWD, path, FileType::RegularFile, Mode::from_raw_mode(0o666), 0)
            .and_then(|()| bind_host_node(host, path, CWD, path))
            .map_err(|e| (step::NODE + i as u8, e))?;
    }
    links()
}

/// Binds the host's node at the absolute `path` (below `host`, the host's root) over the
/// file `name` of `dir`: a clone of it (open_tree), attached there (move_mount).
#[cfg(feature = "oci")]
fn bind_host_node(host: rustix::fd::BorrowedFd<'_>, path: &CStr, dir: impl AsFd, name: &CStr) -> Result<(), Errno> {
    use rustix::mount::{MoveMountFlags, OpenTreeFlags};
    let rel = CStr::from_bytes_with_nul(&path.to_bytes_with_nul()[1..]).map_err(|_| Errno::INVAL)?;
    let tree = rustix::mount::open_tree(host, rel, OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC)?;
    rustix::mount::move_mount(&tree, c"", dir, name, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH)
}

fn links() -> Result<(), Failure> {
    for (i, (target, link)) in cstrs(LINK_TARGETS).zip(cstrs(LINKS)).enumerate() {
        rustix::fs::symlink(target, link).map_err(|e| (step::LINK + i as u8, e))?;
    }
    Ok(())
}

/// A node an OCI config lists (`linux.devices`), made below the container's /dev.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    /// Absolute, below `/dev/`, no `.` or `..` component ([`below_dev`], checked by the
    /// parser).
    pub path: &'a CStr,
    /// A character or block device, or a FIFO.
    pub kind: FileType,
    pub dev: u64,
    /// Permission bits (the umask is cleared while /dev is made).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Default for Node<'_> {
    /// What an entry of `linux.devices` says when it leaves a field out: mode 0666, owned
    /// by root.
    fn default() -> Self {
        Node { path: c"", kind: FileType::CharacterDevice, dev: 0, mode: 0o666, uid: 0, gid: 0 }
    }
}

/// Whether `path` names something below /dev/ with no `.` or `..` component: where
/// tinyctr makes nodes (/dev is its own tmpfs, so no path of the image is written through).
pub fn below_dev(path: &[u8]) -> bool {
    path.len() > 5 && path.starts_with(b"/dev/") && !has_dot_component(path)
}

/// Whether a component of `path` is `.` or `..`.
pub fn has_dot_component(path: &[u8]) -> bool {
    path.split(|&c| c == b'/').any(|c| c == b"." || c == b"..")
}

/// Makes each of `nodes` below /dev (the fresh tmpfs), with the directories they need.
/// One that is there already (/dev/null and the like, made above; all of /dev is
/// tinyctr's) is replaced, as runc lets the config's entry win. The walk never follows
/// a symlink (/dev/fd is one, into /proc). In a user namespace (`host`: the host's root,
/// see [`populate_bound`]) the host's node at the same path is bound instead, as runc
/// does: its type, numbers, mode and owner are the host's.
#[cfg(feature = "oci")]
pub fn make(nodes: &[Node<'_>], host: Option<rustix::fd::BorrowedFd<'_>>) -> Result<(), Failure> {
    for n in nodes {
        node(n, host).map_err(|e| (step::OCI_NODE, e))?;
    }
    Ok(())
}

#[cfg(feature = "oci")]
fn node(n: &Node<'_>, host: Option<rustix::fd::BorrowedFd<'_>>) -> Result<(), Errno> {
    let dir_flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY;
    let mut dir: OwnedFd = rustix::fs::open(c"/dev", dir_flags, Mode::empty())?;
    let rest = n.path.to_bytes().strip_prefix(b"/dev/").ok_or(Errno::INVAL)?;
    let mut parts = rest.split(|&c| c == b'/').filter(|c| !c.is_empty()).peekable();
    while let Some(part) = parts.next() {
        let mut name: Buf<256> = Buf::from(part);
        if name.overflowed() {
            return Err(Errno::NAMETOOLONG);
        }
        if parts.peek().is_some() {
            match rustix::fs::mkdirat(&dir, name.as_cstr(), Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
            dir = rustix::fs::openat(&dir, name.as_cstr(), dir_flags, Mode::empty())?;
            continue;
        }
        let (kind, mode, dev) = match host {
            Some(_) => (FileType::RegularFile, Mode::from_raw_mode(0o666), 0),
            None => (n.kind, Mode::from_raw_mode(n.mode & 0o7777), n.dev),
        };
        let made = match rustix::fs::mknodat(&dir, name.as_cstr(), kind, mode, dev) {
            Err(Errno::EXIST) => rustix::fs::unlinkat(&dir, name.as_cstr(), AtFlags::empty())
                .and_then(|()| rustix::fs::mknodat(&dir, name.as_cstr(), kind, mode, dev)),
            made => made,
        };
        made?;
        if let Some(host) = host {
            return bind_host_node(host, n.path, &dir, name.as_cstr());
        }
        if n.uid != 0 || n.gid != 0 {
            let (uid, gid) = (rustix::fs::Uid::from_raw(n.uid), rustix::fs::Gid::from_raw(n.gid));
            rustix::fs::chownat(dir.as_fd(), name.as_cstr(), Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW)?;
        }
    }
    Ok(())
}
