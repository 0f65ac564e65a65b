//! `--init`: a tiny PID 1 for the container, in the spirit of catatonit and tini.
//!
//! A process that is PID 1 of a namespace gets no signal it has not installed a handler
//! for (a bare `sleep 100` ignores SIGTERM and Ctrl-C). This init blocks every signal,
//! reads them from a signalfd, forwards each to COMMAND (its only direct child), reaps
//! every zombie that is reparented to it, and exits with COMMAND's status (or 128+signal)
//! as soon as COMMAND ends — the kernel then kills whatever is left in the namespace.
//!
//! Runs in the trampoline's process: still no allocation.

use core::ffi::CStr;

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::process::{waitpid, WaitOptions};

use crate::supervise::exit_code;
use crate::sys::args::PtrArray;
use crate::sys::signal::{self, SigSet};
use crate::sys::{clone_fork, Forked};
use crate::trampoline::{fail, restore_signals, Step};

pub fn run(cmd: &CStr, path: &[u8], argv: &PtrArray<'_>, env: &PtrArray<'_>, err_tx: OwnedFd) -> ! {
    let sfd = match signal::block(SigSet::ALL).and_then(|_| signal::signalfd(SigSet::ALL)) {
        Ok(fd) => fd,
        Err(e) => fail(&err_tx, Step::InitFork as u8, e),
    };
    let child = match clone_fork(0) {
        Ok(Forked::Child) => {
            drop(sfd);
            if let Err(e) = restore_signals() {
                fail(&err_tx, Step::SignalMask as u8, e);
            }
            let e = crate::exec::exec(cmd, path, argv, env);
            fail(&err_tx, Step::Exec as u8, e)
        }
        Ok(Forked::Parent { pid, .. }) => pid,
        Err(e) => fail(&err_tx, Step::InitFork as u8, e),
    };
    // Only the command reports exec failures now; the parent sees EOF once it has exec'd.
    drop(err_tx);
    crate::sys::exit(supervise(&sfd, child) as i32)
}

/// Forwards signals to `child` and reaps zombies until `child` exits; returns its status.
fn supervise(sfd: &OwnedFd, child: i32) -> u8 {
    loop {
        let signo = match signal::read_signal(sfd) {
            // What the terminal sent reached COMMAND too (same foreground process group):
            // forwarding it would deliver it twice. Signals tinyctr forwards are SI_USER.
            Ok(info) if info.code == signal::SI_KERNEL && info.signo != linux_raw_sys::general::SIGCHLD => continue,
            Ok(info) => info.signo,
            Err(Errno::INTR) => continue,
            // Without the signalfd we cannot go on supervising: keep reaping, blocking.
            Err(_) => return reap_blocking(child),
        };
        if signo != linux_raw_sys::general::SIGCHLD {
            let _ = signal::kill(child, signo);
            continue;
        }
        // SIGCHLDs coalesce: reap everything that is ready.
        loop {
            match waitpid(None, WaitOptions::NOHANG) {
                Ok(Some((pid, status))) if pid.as_raw_nonzero().get() == child => return exit_code(status),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}

fn reap_blocking(child: i32) -> u8 {
    loop {
        match waitpid(None, WaitOptions::empty()) {
            Ok(Some((pid, status))) if pid.as_raw_nonzero().get() == child => return exit_code(status),
            Ok(_) | Err(Errno::INTR) => {}
            Err(_) => return crate::error::EXIT_SETUP,
        }
    }
}
