//! seccomp(2): loading a filter program into the calling thread, and asking whether the
//! kernel can load one at all. Raw syscalls, callable between clone and execve.

use rustix::io::Errno;

use super::check;
use crate::confine::seccomp::SockFilter;

// <linux/seccomp.h> and <linux/prctl.h> (linux-raw-sys has no seccomp module).
const SECCOMP_SET_MODE_FILTER: usize = 1;
const SECCOMP_MODE_FILTER: usize = 2;
const PR_SET_SECCOMP: usize = 22;

/// struct sock_fprog.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, 0, prog)`, or on kernels before 3.17 (ENOSYS)
/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)`: the same operation. The kernel
/// copies the program; EACCES unless the caller has CAP_SYS_ADMIN or no_new_privs.
/// <https://man7.org/linux/man-pages/man2/seccomp.2.html>
pub fn set_filter(prog: &[SockFilter]) -> Result<(), Errno> {
    let len = u16::try_from(prog.len()).map_err(|_| Errno::INVAL)?;
    let fprog = SockFprog { len, filter: prog.as_ptr() };
    let p = &fprog as *const SockFprog as usize;
    // SAFETY: `fprog` points to `len` valid instructions; both live across the call and
    // the kernel only reads them (it copies the program before returning).
    match check(unsafe { sc::syscall3(sc::nr::SECCOMP, SECCOMP_SET_MODE_FILTER, 0, p) }) {
        Err(Errno::NOSYS) => {}
        r => return r.map(drop),
    }
    // SAFETY: as above; prctl reads the same struct.
    check(unsafe { sc::syscall3(sc::nr::PRCTL, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, p) }).map(drop)
}

/// Whether the kernel has CONFIG_SECCOMP_FILTER, asked the way libseccomp asks: loading
/// a filter from a NULL program. With filters built in, the kernel fails at copying the
/// program in (EFAULT) before it looks at privileges or installs anything; without them
/// the mode is refused (EINVAL), and without seccomp at all the call is unknown (ENOSYS,
/// and prctl answers EINVAL). `prctl(PR_GET_SECCOMP)` would not tell: it succeeds when
/// only the strict mode is built in.
pub fn filters_available() -> bool {
    // SAFETY: a NULL program is never dereferenced: the kernel's copy from it just fails.
    let r = check(unsafe { sc::syscall3(sc::nr::SECCOMP, SECCOMP_SET_MODE_FILTER, 0, 0) });
    if r == Err(Errno::NOSYS) {
        // SAFETY: as above, through the older interface.
        let r = check(unsafe { sc::syscall3(sc::nr::PRCTL, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0) });
        return r == Err(Errno::FAULT);
    }
    r == Err(Errno::FAULT)
}
