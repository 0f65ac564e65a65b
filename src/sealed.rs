//! A sealed in-memory copy of tinyctr's own binary, for commands whose processes run
//! inside a container (CVE-2019-5736).
//!
//! While a process of tinyctr runs in a container's namespaces, a process of the
//! container can reach tinyctr's binary through `/proc/PID/exe`, and if the container's
//! command is a `#!/proc/self/exe` script the kernel even runs that binary as the
//! container's command. Whoever holds such a reference can write the file as soon as no
//! process executes it any more (the kernel refuses writes to a running executable,
//! ETXTBSY, and nothing else). `run` never gets there: its host process executes the
//! binary until every process of the container is dead (see tests/escape.rs). A command
//! that leaves a container behind once it exits does, and first re-executes itself from
//! a copy in a memfd sealed against any write: `/proc/PID/exe` then names that copy,
//! which nobody can change and which goes with the last process that uses it.
//!
//! runc 1.2's zero-copy way was tried and measured (fourteenth session): the file seen
//! through a detached overlayfs of its directory with no upper layer. It is no faster:
//! the copy is saved, but closing the detached mount's descriptor dissolves its
//! anonymous mount namespace, which waits for an expedited RCU grace period (perf:
//! namespace_unlock -> synchronize_rcu_expedited); a fork + re-exec + exit took 364 us
//! against the memfd's 370 (a plain exec 228), a whole lifecycle 4.77 ms against 4.69.
//! And its code (+1.1 KB) took the OCI build into a 54th page of text, create's peak RSS
//! to 256 KiB.

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{MemfdFlags, Mode, OFlags, SealFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::sys::args::CArgs;

/// Every seal a memfd can take that keeps its bytes as they are.
const SEALS: SealFlags = SealFlags::SEAL.union(SealFlags::SHRINK).union(SealFlags::GROW).union(SealFlags::WRITE);

/// Where the running binary comes from.
pub enum Origin {
    /// A memfd whose contents can no longer change.
    Sealed,
    /// A file; `read_only` when its filesystem is mounted read-only.
    File { read_only: bool },
}

fn open_self() -> core::result::Result<OwnedFd, Errno> {
    rustix::fs::open(c"/proc/self/exe", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
}

/// Where the running binary comes from (it needs /proc).
pub fn origin() -> core::result::Result<Origin, Errno> {
    let exe = open_self()?;
    match rustix::fs::fcntl_get_seals(&exe) {
        Ok(s) if s.contains(SEALS) => Ok(Origin::Sealed),
        // EINVAL: not a memfd; or a memfd someone could still write.
        _ => {
            let read_only = rustix::fs::fstatfs(&exe)?.f_flags & linux_raw_sys::general::MS_RDONLY as i64 != 0;
            Ok(Origin::File { read_only })
        }
    }
}

/// Unless the binary already runs from a sealed copy, makes one and executes it with the
/// same arguments and environment; returns only when no re-exec was needed. `argv` and
/// `envp` must be the arrays `main` was given (they are passed on as they are).
pub fn ensure(argv: CArgs<'_>, envp: CArgs<'_>) -> Result<()> {
    let exe = open_self().map_err(|e| {
        Error::sys_hint("open tinyctr's own binary", b"/proc/self/exe", e, b"a sealed copy needs /proc mounted")
    })?;
    if rustix::fs::fcntl_get_seals(&exe).is_ok_and(|s| s.contains(SEALS)) {
        return Ok(());
    }
    let copy = seal(&exe).map_err(|e| Error::sys("make a sealed copy of", b"/proc/self/exe", e))?;
    drop(exe);
    let e = crate::sys::execveat_empty(copy.as_fd(), argv, envp);
    Err(Error::sys("execute the sealed copy of", b"/proc/self/exe", e))
}

/// A memfd holding the bytes of `exe`, sealed.
fn seal(exe: &OwnedFd) -> core::result::Result<OwnedFd, Errno> {
    let len = rustix::fs::fstat(exe)?.st_size as usize;
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    // MFD_EXEC (6.3) says out loud that this memfd is for executing (kernels with
    // vm.memfd_noexec set would otherwise refuse, and others log a warning); older
    // kernels do not know the flag and answer EINVAL.
    let mfd = match rustix::fs::memfd_create(c"tinyctr", flags | MemfdFlags::EXEC) {
        Err(Errno::INVAL) => rustix::fs::memfd_create(c"tinyctr", flags)?,
        r => r?,
    };
    let mut done = 0;
    while done < len {
        match rustix::fs::sendfile(&mfd, exe, None, len - done)? {
            0 => return Err(Errno::IO),
            n => done += n,
        }
    }
    rustix::fs::fcntl_add_seals(&mfd, SEALS)?;
    Ok(mfd)
}

/// `check`'s line about it.
pub fn describe() {
    use crate::out::print;
    print(b"binary:     ");
    match origin() {
        Ok(Origin::Sealed) => print(b"a sealed in-memory copy (nothing can rewrite it)"),
        Ok(Origin::File { read_only: true }) => print(b"a file on a read-only filesystem"),
        Ok(Origin::File { read_only: false }) => {
            print(b"a writable file (a run keeps it busy, so unwritable, while its container lives)")
        }
        Err(e) => {
            print(b"unknown (");
            crate::check::errno(e);
            print(b")")
        }
    };
    print(b"\n");
}
