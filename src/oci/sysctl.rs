//! `linux.sysctl`: kernel parameters set inside the container, as CRI sets them per pod
//! (`net.ipv4.ip_unprivileged_port_start`, `net.core.somaxconn`, `kernel.shm_rmid_forced`).
//!
//! Only a parameter that belongs to one of the container's own namespaces can be set: a
//! write to any other `/proc/sys` file would change the host. As runc: `net.*` needs the
//! container's network namespace, the System V IPC ones and `fs.mqueue.*` its IPC
//! namespace, `kernel.hostname` and `kernel.domainname` its UTS namespace; a namespace
//! joined by path must not be tinyctr's own (the host's). [`check`] refuses the rest
//! before anything is created.
//!
//! The init writes them ([`write_all`]) through the `/proc/sys` it still sees before
//! entering the root: a `/proc/sys` file acts on the namespaces of the process that
//! opens it, and the container's read-only `/proc/sys` is mounted only later.

use core::ffi::CStr;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::linux::{Linux, Ns, Sysctl};
use crate::buf::Buf;
use crate::error::{push_shown, Error, Result};

/// The System V IPC parameters (`ipc_sysctls`), namespaced with the IPC namespace.
const IPC: [&[u8]; 8] = [
    b"kernel.msgmax",
    b"kernel.msgmnb",
    b"kernel.msgmni",
    b"kernel.sem",
    b"kernel.shmall",
    b"kernel.shmmax",
    b"kernel.shmmni",
    b"kernel.shm_rmid_forced",
];

/// The namespace a parameter (in dotted form) belongs to, if any.
fn namespace_of(dotted: &[u8]) -> Option<Ns> {
    if dotted.starts_with(b"net.") {
        Some(Ns::Network)
    } else if dotted.starts_with(b"fs.mqueue.") || IPC.contains(&dotted) {
        Some(Ns::Ipc)
    } else if dotted == b"kernel.hostname" || dotted == b"kernel.domainname" {
        Some(Ns::Uts)
    } else {
        None
    }
}

/// The key's file below `/proc/sys`: a key with a slash is a path already (so that an
/// interface name with a dot, `net/ipv4/conf/eth0.100/rp_filter`, can be said); otherwise
/// each dot is a slash.
fn relative(key: &[u8], out: &mut Buf<256>) {
    let slashes = key.contains(&b'/');
    for &c in key {
        out.push(&[if c == b'.' && !slashes { b'/' } else { c }]);
    }
}

/// Refuses, naming the key, every sysctl that is not in one of the container's own
/// namespaces, and every key that is not a plain path below `/proc/sys`.
pub fn check(lx: &Linux<'_>) -> Result<()> {
    for s in lx.sysctl.iter() {
        let key = s.key.get().to_bytes();
        let mut rel: Buf<256> = Buf::new();
        relative(key, &mut rel);
        let bad_path =
            rel.overflowed() || rel.as_bytes().split(|&c| c == b'/').any(|c| matches!(c, b"" | b"." | b".."));
        if bad_path {
            return Err(refused(key, b"is not a kernel parameter's name"));
        }
        // Classified in dotted form, however it was written.
        let mut dotted: Buf<256> = Buf::new();
        for &c in rel.as_bytes() {
            dotted.push(&[if c == b'/' { b'.' } else { c }]);
        }
        let Some(ns) = namespace_of(dotted.as_bytes()) else {
            return Err(refused(
                key,
                b"is not in a namespace of the container's own: setting it would change the host",
            ));
        };
        if !lx.namespaces.has(ns) {
            return Err(refused(key, b"needs the container's own namespace of its kind in linux.namespaces"));
        }
        if let Some(path) = lx.namespaces.path(ns) {
            if is_own(path, ns) {
                return Err(refused(key, b"would change the host: the namespace joined is tinyctr's own"));
            }
        }
    }
    Ok(())
}

/// True when the namespace file `path` is the namespace tinyctr itself is in.
fn is_own(path: &CStr, ns: Ns) -> bool {
    let own: &CStr = match ns {
        Ns::Network => c"/proc/self/ns/net",
        Ns::Ipc => c"/proc/self/ns/ipc",
        _ => c"/proc/self/ns/uts",
    };
    match (rustix::fs::stat(path), rustix::fs::stat(own)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev && a.st_ino == b.st_ino,
        _ => false,
    }
}

fn refused(key: &[u8], why: &[u8]) -> Error {
    let mut e = Error::usage(b"config.json: linux.sysctl: \"");
    push_shown(&mut e.msg, key);
    e.msg.push(b"\" ").push(why);
    e
}

/// The texts of the init's failure to write them (`run` never gets there: a build
/// without the OCI runtime has none of them).
pub fn describe(errno: Errno) -> (&'static str, &'static [u8], &'static [u8]) {
    if !cfg!(feature = "oci") {
        return ("", b"", b"");
    }
    let hint: &[u8] = match errno {
        Errno::NOENT => b"a key this kernel does not have",
        Errno::INVAL => b"a value the kernel refuses",
        _ => b"",
    };
    ("set the kernel parameters of", b"config.json (linux.sysctl)", hint)
}

/// The init, in its namespaces and before it enters the root: writes each value as it
/// is. Allocation-free.
pub fn write_all(list: &[Sysctl<'_>]) -> core::result::Result<(), Errno> {
    for s in list {
        let mut path: Buf<256> = Buf::from(b"/proc/sys/");
        let mut rel: Buf<256> = Buf::new();
        relative(s.key.get().to_bytes(), &mut rel);
        path.push(rel.as_bytes());
        if path.overflowed() {
            return Err(Errno::NAMETOOLONG);
        }
        let fd = rustix::fs::open(path.as_cstr(), OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
        crate::fdio::write_all(&fd, s.value.get().to_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_files_and_namespaces() {
        let rel = |k: &[u8]| {
            let mut b: Buf<256> = Buf::new();
            relative(k, &mut b);
            String::from_utf8(b.as_bytes().to_vec()).unwrap()
        };
        assert_eq!(rel(b"net.ipv4.ip_forward"), "net/ipv4/ip_forward");
        assert_eq!(rel(b"net/ipv4/conf/eth0.100/rp_filter"), "net/ipv4/conf/eth0.100/rp_filter");
        assert_eq!(namespace_of(b"net.core.somaxconn"), Some(Ns::Network));
        assert_eq!(namespace_of(b"kernel.shm_rmid_forced"), Some(Ns::Ipc));
        assert_eq!(namespace_of(b"fs.mqueue.msg_max"), Some(Ns::Ipc));
        assert_eq!(namespace_of(b"kernel.domainname"), Some(Ns::Uts));
        assert_eq!(namespace_of(b"kernel.shm"), None, "a prefix of an IPC name is not one");
        assert_eq!(namespace_of(b"vm.swappiness"), None);
        assert_eq!(namespace_of(b"kernel.pid_max"), None);
    }
}
