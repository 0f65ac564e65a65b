//! Ctrl-C in a terminal, on a real pseudo-terminal as a shell would run tinyctr: the
//! container shares tinyctr's foreground process group, so the terminal's SIGINT reaches
//! it directly, a trapping container handles it and goes on, and `--init` stops a
//! `sleep` with 130. tinyctr (and its --init) do not forward what the terminal sent; a
//! second copy usually coalesces with the first and cannot be seen reliably, so the
//! count below catches it only when it lands after the first was handled.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::os::fd::FromRawFd;

use rustix::fd::{IntoRawFd, OwnedFd};
use rustix::pty::{grantpt, ioctl_tiocgptpeer, openpt, unlockpt, OpenptFlags};

mod common;

/// A `Stdio` on a duplicate of `fd` (rustix without std has its own `OwnedFd`).
fn stdio(fd: &OwnedFd) -> Stdio {
    // SAFETY: a fresh duplicate, owned by the Stdio from here on.
    unsafe { Stdio::from_raw_fd(rustix::io::dup(fd).unwrap().into_raw_fd()) }
}

/// Runs `tinyctr ARGS` as the session leader of a new pseudo-terminal, types Ctrl-C once
/// `ready` has been printed, and returns everything the terminal showed and the status.
fn run_on_tty(args: &[&str]) -> (String, Option<i32>) {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let slave: OwnedFd = ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    let mut cmd = Command::new(common::BIN_PATH);
    cmd.args(args).stdin(stdio(&slave)).stdout(stdio(&slave)).stderr(stdio(&slave));
    drop(slave);
    // SAFETY: between fork and exec the closure only makes two system calls (setsid and
    // the TIOCSCTTY ioctl on descriptor 0), both async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            let io = |e: rustix::io::Errno| std::io::Error::from_raw_os_error(e.raw_os_error());
            rustix::process::setsid().map_err(io)?;
            rustix::process::ioctl_tiocsctty(rustix::stdio::stdin()).map_err(io)?;
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // SAFETY: a fresh duplicate of the master, owned by the File from here on.
    let mut file = unsafe { std::fs::File::from_raw_fd(rustix::io::dup(&master).unwrap().into_raw_fd()) };
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut typed = false;
    let mut buf = [0u8; 256];
    loop {
        // Non-blocking-ish read: poll the master with a short timeout.
        let mut fds = [rustix::event::PollFd::new(&master, rustix::event::PollFlags::IN)];
        let ts = rustix::event::Timespec { tv_sec: 0, tv_nsec: 20_000_000 };
        if rustix::event::poll(&mut fds, Some(&ts)).unwrap_or(0) > 0 {
            match file.read(&mut buf) {
                Ok(0) | Err(_) => {}
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        if !typed && String::from_utf8_lossy(&seen).contains("ready") {
            // Give the shell a moment to enter its wait.
            std::thread::sleep(Duration::from_millis(100));
            rustix::io::write(&master, b"\x03").unwrap();
            typed = true;
        }
        if let Some(st) = child.try_wait().unwrap() {
            // Drain what is left.
            while rustix::event::poll(&mut fds, Some(&ts)).unwrap_or(0) > 0 {
                match file.read(&mut buf) {
                    Ok(n) if n > 0 => seen.extend_from_slice(&buf[..n]),
                    _ => break,
                }
            }
            return (String::from_utf8_lossy(&seen).into_owned(), st.code());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no exit within 10 s; terminal showed: {:?}", String::from_utf8_lossy(&seen));
        }
    }
}

#[test]
fn ctrl_c_reaches_a_trapping_container_which_goes_on() {
    if !common::require_root("tty tests") {
        return;
    }
    let script = "trap 'echo INT' INT; echo ready; sleep 1; sleep 1; echo done";
    let (screen, code) = run_on_tty(&["run", "sh", "-c", script]);
    assert_eq!(screen.matches("INT").count(), 1, "{screen:?}");
    assert!(screen.contains("done"), "{screen:?}");
    assert_eq!(code, Some(0));
}

#[test]
fn ctrl_c_under_init_reaches_the_command() {
    if !common::require_root("tty tests") {
        return;
    }
    let script = "trap 'echo INT' INT; echo ready; sleep 1; echo done";
    let (screen, code) = run_on_tty(&["run", "--init", "sh", "-c", script]);
    assert_eq!(screen.matches("INT").count(), 1, "{screen:?}");
    assert_eq!(code, Some(0));
    let (_, code) = run_on_tty(&["run", "--init", "sh", "-c", "echo ready; exec sleep 100"]);
    assert_eq!(code, Some(130), "sleep ends on the terminal's SIGINT");
}
