//! Signal masks and signalfd, through raw syscalls (rustix keeps these in its private
//! runtime module). The kernel's sigset on x86_64 is one u64: bit (signo - 1).

use rustix::fd::{AsRawFd, FromRawFd, OwnedFd};
use rustix::io::Errno;

use super::check;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);
    /// Every signal (SIGKILL and SIGSTOP bits are ignored by the kernel).
    pub const ALL: SigSet = SigSet(!0);

    pub const fn of(signals: &[u32]) -> SigSet {
        let mut m = 0u64;
        let mut i = 0;
        while i < signals.len() {
            m |= 1 << (signals[i] - 1);
            i += 1;
        }
        SigSet(m)
    }

    pub fn has(&self, signo: u32) -> bool {
        (1..=64).contains(&signo) && self.0 & (1 << (signo - 1)) != 0
    }
}

const SIG_BLOCK: usize = 0;
const SIG_SETMASK: usize = 2;

fn sigprocmask(how: usize, set: &SigSet) -> Result<SigSet, Errno> {
    let mut old = SigSet(0);
    // SAFETY: both pointers reference live SigSets of the kernel's sigset size (8 bytes).
    check(unsafe {
        sc::syscall4(sc::nr::RT_SIGPROCMASK, how, set as *const SigSet as usize, &mut old as *mut SigSet as usize, 8)
    })?;
    Ok(old)
}

/// Adds `set` to the blocked signals; returns the previous mask.
pub fn block(set: SigSet) -> Result<SigSet, Errno> {
    sigprocmask(SIG_BLOCK, &set)
}

/// Replaces the blocked-signal mask.
pub fn set_mask(set: SigSet) -> Result<SigSet, Errno> {
    sigprocmask(SIG_SETMASK, &set)
}

/// A close-on-exec signalfd for `set` (which must already be blocked).
pub fn signalfd(set: SigSet) -> Result<OwnedFd, Errno> {
    const SFD_CLOEXEC: usize = 0o2000000;
    // SAFETY: -1 asks for a new descriptor; `set` is a live 8-byte sigset.
    let fd =
        check(unsafe { sc::syscall4(sc::nr::SIGNALFD4, usize::MAX, &set as *const SigSet as usize, 8, SFD_CLOEXEC) })?;
    // SAFETY: the kernel just created this descriptor and we are its only owner.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// One signal read from a signalfd.
#[derive(Clone, Copy, Debug)]
pub struct SigInfo {
    pub signo: u32,
    /// `si_code`: SI_USER for kill(2), SI_KERNEL for signals the kernel generates, such
    /// as the terminal's Ctrl-C.
    pub code: i32,
    pub pid: i32,
}

/// `si_code` of a signal the kernel sent (e.g. the tty driver's SIGINT on Ctrl-C).
pub const SI_KERNEL: i32 = 0x80;

/// Reads one pending signal from a signalfd.
pub fn read_signal(fd: &OwnedFd) -> Result<SigInfo, Errno> {
    // struct signalfd_siginfo is 128 bytes: ssi_signo (u32) at 0, ssi_errno at 4,
    // ssi_code (i32) at 8, ssi_pid (u32) at 12.
    let mut info = [0u8; 128];
    let n = rustix::io::read(fd, &mut info)?;
    if n < 16 {
        return Err(Errno::INVAL);
    }
    let word = |i: usize| [info[i], info[i + 1], info[i + 2], info[i + 3]];
    Ok(SigInfo {
        signo: u32::from_ne_bytes(word(0)),
        code: i32::from_ne_bytes(word(8)),
        pid: i32::from_ne_bytes(word(12)),
    })
}

/// `kill(pid, sig)` with a raw signal number (rustix's `Signal` cannot name every one,
/// and --init forwards them all).
pub fn kill(pid: i32, signo: u32) -> Result<(), Errno> {
    // SAFETY: kill takes plain integers.
    check(unsafe { sc::syscall2(sc::nr::KILL, pid as usize, signo as usize) }).map(|_| ())
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)` with a raw signal number.
pub fn pidfd_kill(pidfd: &OwnedFd, signo: u32) -> Result<(), Errno> {
    // SAFETY: plain integers and a NULL siginfo, which the kernel fills in itself.
    check(unsafe { sc::syscall4(sc::nr::PIDFD_SEND_SIGNAL, pidfd.as_raw_fd() as usize, signo as usize, 0, 0) })
        .map(|_| ())
}

/// Resets the disposition of `signo` to SIG_DFL. execve keeps ignored signals ignored, so
/// the trampoline resets them: a container must not inherit a SIG_IGN'd SIGINT.
pub fn reset_default(signo: u32) {
    // struct kernel_sigaction: handler, flags, restorer, mask — all zero means SIG_DFL.
    let act = [0u64; 4];
    // SAFETY: `act` is a valid kernel_sigaction; old action is not requested.
    let _ = unsafe { sc::syscall4(sc::nr::RT_SIGACTION, signo as usize, act.as_ptr() as usize, 0, 8) };
}
