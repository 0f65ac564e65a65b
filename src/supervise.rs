//! The parent after the container started: forward the usual signals to it, wait for it,
//! and turn its end into tinyctr's exit status (N, or 128+S for a signal S).

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{waitid, waitpid, Pid, WaitId, WaitIdOptions, WaitOptions, WaitStatus};

use crate::sys::signal::{self, SigInfo, SigSet};

/// Signals a user sends to "the container" and that tinyctr passes on, plus SIGCHLD (to
/// learn the container ended) and SIGPIPE (so a closed pipe is an EPIPE, not our death).
pub const HANDLED: [u32; 9] = {
    use linux_raw_sys::general::*;
    [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGPIPE]
};

/// [`HANDLED`] as a mask: blocked before clone and read from a signalfd.
pub const BLOCKED: SigSet = SigSet::of(&HANDLED);

/// Of those, the ones forwarded: not SIGCHLD or SIGPIPE, and not what the terminal sent
/// (Ctrl-C, Ctrl-\, a resize, a hangup): the tty driver signals the whole foreground
/// process group, which the container shares with tinyctr, so it has its own copy
/// already and forwarding would deliver it twice.
fn forwarded(info: SigInfo) -> bool {
    use linux_raw_sys::general::*;
    info.signo != SIGCHLD && info.signo != SIGPIPE && info.code != signal::SI_KERNEL
}

/// The container's init as the parent knows it.
pub struct Container {
    pub pid: i32,
    pub pidfd: Option<OwnedFd>,
}

impl Container {
    pub fn kill(&self, signo: u32) {
        let _ = match &self.pidfd {
            Some(fd) => signal::pidfd_kill(fd, signo),
            None => signal::kill(self.pid, signo),
        };
    }

    /// Reaps the container if it has exited.
    pub fn try_wait(&self) -> Result<Option<u8>, Errno> {
        if let Some(fd) = &self.pidfd {
            let st = waitid(WaitId::PidFd(fd.as_fd()), WaitIdOptions::EXITED | WaitIdOptions::NOHANG)?;
            return Ok(st.map(|s| status_code(s.exit_status(), s.terminating_signal())));
        }
        let pid = Pid::from_raw(self.pid).ok_or(Errno::SRCH)?;
        Ok(waitpid(Some(pid), WaitOptions::NOHANG)?.map(|(_, st)| exit_code(st)))
    }

    /// Kills and reaps: used when setup fails after clone.
    pub fn kill_and_reap(&self) {
        self.kill(linux_raw_sys::general::SIGKILL);
        while let Err(Errno::INTR) | Ok(None) = self.wait_blocking() {}
    }

    fn wait_blocking(&self) -> Result<Option<u8>, Errno> {
        let pid = Pid::from_raw(self.pid).ok_or(Errno::SRCH)?;
        Ok(waitpid(Some(pid), WaitOptions::empty())?.map(|(_, st)| exit_code(st)))
    }
}

/// Waits for the container, forwarding signals read from `sfd` (a signalfd for
/// [`BLOCKED`]); returns its exit status.
#[inline(never)]
pub fn wait(c: &Container, sfd: &OwnedFd) -> u8 {
    loop {
        // The container may have ended before we got here: its SIGCHLD is then pending in
        // the signalfd, so reading first loses nothing.
        match signal::read_signal(sfd) {
            Ok(info) if forwarded(info) => c.kill(info.signo),
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => {
                // No signalfd: fall back to a plain blocking wait.
                loop {
                    match c.wait_blocking() {
                        Ok(Some(code)) => return code,
                        Err(Errno::INTR) | Ok(None) => {}
                        Err(_) => return crate::error::EXIT_SETUP,
                    }
                }
            }
        }
        match c.try_wait() {
            Ok(Some(code)) => return code,
            Ok(None) | Err(Errno::INTR) => {}
            Err(_) => return crate::error::EXIT_SETUP,
        }
    }
}

/// N for `exit(N)`, 128+S for death by signal S (the shell's convention).
pub fn exit_code(st: WaitStatus) -> u8 {
    status_code(st.exit_status(), st.terminating_signal())
}

fn status_code(exit: Option<i32>, signal: Option<i32>) -> u8 {
    match (exit, signal) {
        (Some(code), _) => code as u8,
        (None, Some(sig)) => 128u8.wrapping_add(sig as u8),
        (None, None) => crate::error::EXIT_SETUP,
    }
}
