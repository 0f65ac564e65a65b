//! The OCI runtime's command line, runc's as containerd's shim uses it (OCI.md §4):
//! global options first (`--root DIR --log FILE --log-format json [--systemd-cgroup]`),
//! then the command, its options, and the container ID (and kill's signal).
//!
//! Errors go to stderr and, with `--log`, to that file as JSON lines (out::log_to);
//! the exit status of a failed command is 1, as runc's.

use core::ffi::CStr;

use rustix::fs::{Mode, OFlags};

use crate::error::{Error, Result};
use crate::sys::args::CArgs;

/// The commands, for main's dispatch.
const COMMANDS: &str = "create start state kill delete ps exec features spec pause resume update";
/// runc's commands tinyctr does not have (containerd asks for `checkpoint` and
/// `restore` on `ctr task checkpoint`): said so by name, before their options are
/// looked at, rather than "not an option".
const NOT_HERE: &str = "checkpoint restore events list run";

fn not_here(command: &[u8]) -> Error {
    let mut e = Error::usage(b"'");
    e.msg.push(command).push(b"' is a runc command tinyctr does not have");
    if command == b"checkpoint" || command == b"restore" {
        e.msg.push(b" (no checkpoint and restore: there is no CRIU here)");
    }
    e.msg.push(b"; its commands: create start state kill delete ps exec pause resume update features spec");
    e
}

/// Options that take a value (`--name value` or `--name=value`), by index in
/// [`Parsed::values`], and the switches, by bit in [`Parsed::flags`]. Matching names
/// by their index keeps the parser small (a match on byte strings compares byte by
/// byte).
const VALUED: &str = "root log log-format bundle pid-file console-socket format process b resources preserve-fds";
const FLAGS: &str = "systemd-cgroup no-pivot no-new-keyring all force detach a f d tty t";
const ROOT: usize = 0;
const LOG: usize = 1;
const LOG_FORMAT: usize = 2;
const BUNDLE: usize = 3;
const PID_FILE: usize = 4;
const CONSOLE: usize = 5;
const FORMAT: usize = 6;
const PROCESS: usize = 7;
/// `-b`, the short `--bundle`.
const B: usize = 8;
const RESOURCES: usize = 9;
const PRESERVE_FDS: usize = 10;
const ALL: u16 = 1 << 3 | 1 << 6;
const FORCE: u16 = 1 << 4 | 1 << 7;
const DETACH: u16 = 1 << 5 | 1 << 8;
/// exec's `--tty`/`-t` (conmon passes it with a terminal process): as if the process
/// said `terminal: true`.
const TTY: u16 = 1 << 9 | 1 << 10;

/// The options each command takes, in [`COMMANDS`] order: bits by index in [`VALUED`]
/// and in [`FLAGS`]. runc refuses any other (`state --force`), and so does tinyctr: an
/// option it would accept and ignore would say it did something.
const TAKES: [(u16, u16); 12] = [
    // create: bundle, pid-file, console-socket, b, preserve-fds; no-pivot, no-new-keyring.
    (1 << 3 | 1 << 4 | 1 << 5 | 1 << 8 | 1 << 10, 1 << 1 | 1 << 2),
    (0, 0),
    (0, 0),
    (0, ALL),
    (0, FORCE),
    (1 << 6, 0),
    // exec: pid-file, console-socket, process, preserve-fds; detach, tty.
    (1 << 4 | 1 << 5 | 1 << 7 | 1 << 10, DETACH | TTY),
    (0, 0),
    (1 << 3 | 1 << 8, 0),
    (0, 0),
    (0, 0),
    (1 << 9, 0),
];

/// Whether `command` takes option `(0, VALUED index)` or `(1, FLAGS index)`: --root,
/// --log, --log-format and --systemd-cgroup go with every command, and before it.
fn takes(command: &[u8], (kind, k): (usize, usize)) -> bool {
    let own = crate::words::position(COMMANDS, command).map_or((0, 0), |c| TAKES[c]);
    let (values, flags) = (own.0 | 0b111, own.1 | 1);
    [values, flags][kind] & 1 << k != 0
}

fn not_taken(command: &[u8], option: &[u8]) -> Error {
    if crate::words::position(NOT_HERE, command).is_some() {
        return not_here(command);
    }
    let mut e = Error::usage(b"command line: '");
    e.msg.push(option);
    match command.is_empty() {
        true => e.msg.push(b"' goes after the command"),
        false => e.msg.push(b"' is not an option of ").push(command),
    };
    e
}

/// Whether argv is an OCI command line: its first word is a command or a global option.
pub fn is_oci(args: CArgs<'_>) -> bool {
    let Some(first) = args.get(1).map(CStr::to_bytes) else { return false };
    crate::words::position(COMMANDS, first).is_some()
        || [&b"--root"[..], b"--log", b"--log-format", b"--systemd-cgroup"]
            .iter()
            .any(|o| first.strip_prefix(*o).is_some_and(|rest| rest.is_empty() || rest[0] == b'='))
}

/// What the command line said.
#[derive(Default)]
struct Parsed<'a> {
    values: [Option<&'a CStr>; 11],
    flags: u16,
    command: &'a [u8],
    /// ID, then kill's signal.
    pos: [Option<&'a CStr>; 2],
}

#[inline(never)]
fn parse(args: CArgs<'_>) -> Result<Parsed<'_>> {
    let mut p = Parsed::default();
    let mut npos = 0;
    let mut i = 1;
    let bad = |b: &[u8], why| crate::limits::bad_value(b"command line", b, why);
    while let Some(a) = args.get(i) {
        i += 1;
        let b = a.to_bytes();
        let Some(opt) = b.strip_prefix(b"--").or_else(|| b.strip_prefix(b"-")).filter(|o| !o.is_empty()) else {
            if p.command.is_empty() {
                p.command = b;
            } else if npos < 2 {
                p.pos[npos] = Some(a);
                npos += 1;
            } else {
                return Err(bad(b, "is one argument too many"));
            }
            continue;
        };
        let eq = opt.iter().position(|&c| c == b'=');
        let name = &opt[..eq.unwrap_or(opt.len())];
        // `-f` is ps's `--format` (runc's short form) and delete's `--force`.
        let valued = crate::words::position(VALUED, name).or((name == b"f" && p.command == b"ps").then_some(FORMAT));
        let flag = crate::words::position(FLAGS, name).filter(|_| eq.is_none());
        let taken = valued.map(|k| (0, k)).or(flag.map(|k| (1, k)));
        if taken.is_some_and(|t| !takes(p.command, t)) {
            return Err(not_taken(p.command, b));
        }
        if let Some(k) = valued {
            let v = match eq {
                // The value after `=`, NUL-terminated as the whole argument is.
                Some(eq) => CStr::from_bytes_with_nul(&a.to_bytes_with_nul()[b.len() - opt.len() + eq + 1..]).ok(),
                None => {
                    i += 1;
                    args.get(i - 1)
                }
            };
            p.values[k] = Some(v.ok_or_else(|| bad(b, "needs a value"))?);
        } else if let Some(f) = flag {
            // --no-pivot and --no-new-keyring change nothing here: tinyctr pivots where
            // the kernel allows (an initramfs root is moved and chrooted into by itself),
            // and never makes a session keyring. --systemd-cgroup: a cgroupsPath in the
            // systemd form is refused by name (there may be no systemd).
            p.flags |= 1 << f;
        } else if crate::words::position(NOT_HERE, p.command).is_some() {
            return Err(not_here(p.command));
        } else {
            return Err(bad(b, "is not an option tinyctr knows here"));
        }
    }
    if p.values[BUNDLE].is_none() {
        p.values[BUNDLE] = p.values[B];
    }
    for (k, allowed) in [(LOG_FORMAT, "json text"), (FORMAT, "json table")] {
        if let Some(v) = p.values[k].filter(|v| crate::words::position(allowed, v.to_bytes()).is_none()) {
            return Err(bad(v.to_bytes(), "is not a format tinyctr writes (json, or text or table)"));
        }
    }
    Ok(p)
}

/// Checks that descriptors 3 to 3+N-1 are open and clears their close-on-exec flag; N.
#[inline(never)]
fn pass_on(n: &[u8]) -> Result<u32> {
    let bad = |why| crate::limits::bad_value(b"--preserve-fds", n, why);
    let n = crate::limits::parse_uint(n).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| bad("is not a number"))?;
    for fd in 3..3u32.saturating_add(n) {
        // SAFETY: only flags are set, on a descriptor number the caller says it passed;
        // nothing here owns or closes it.
        #[allow(unsafe_code)]
        let f = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd as i32) };
        if rustix::io::fcntl_setfd(f, rustix::io::FdFlags::empty()).is_err() {
            let mut e = Error::usage(b"--preserve-fds: descriptor ");
            e.msg.push_u64(fd as u64).push(b" is not open (the caller must pass each of 3 to 3+N-1)");
            return Err(e);
        }
    }
    Ok(n)
}

/// Runs the OCI command in `args`; returns the exit status.
pub fn main(args: CArgs<'_>, host_env: CArgs<'_>) -> u8 {
    match run(args, host_env) {
        Ok(status) => status,
        Err(e) => {
            crate::out::report(&e);
            1
        }
    }
}

#[inline(never)]
fn run(args: CArgs<'_>, host_env: CArgs<'_>) -> Result<u8> {
    let parsed = parse(args);
    // containerd reads a failed command's error in the log: opened for a bad command
    // line too, found by a plain look for `--log` (the parse stopped at the error).
    let log = match &parsed {
        Ok(p) => p.values[LOG],
        Err(_) => (1..).map_while(|i| args.get(i).map(|a| (a, args.get(i + 1)))).find_map(|(a, next)| {
            let b = a.to_bytes_with_nul();
            match b.strip_prefix(b"--log") {
                Some(b"\0") => next,
                Some([b'=', v @ ..]) => CStr::from_bytes_with_nul(v).ok(),
                _ => None,
            }
        }),
    };
    // `--preserve-fds N` (podman passes a systemd socket activation's descriptors so):
    // before anything is opened, the log included, each of 3 to 3+N-1 must be open, or
    // one of tinyctr's own would take its number and reach the container; made to survive
    // the sealed re-exec. (Its error goes to the log once that is open.)
    let keep = parsed.as_ref().ok().and_then(|p| p.values[PRESERVE_FDS]);
    let preserve_fds = keep.map_or(Ok(0), |v| pass_on(v.to_bytes()));
    if let Some(log) = log {
        // Appended to, as runc does; made if missing (containerd reads it after a failure).
        let fd = rustix::fs::open(
            log,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| Error::sys("open the log file", log.to_bytes(), e))?;
        crate::out::log_to(fd);
    }
    // (A reference: a second copy of the parse would deepen every command's stack.)
    let Ok(p) = &parsed else { return parsed.map(|_| 0) };
    let root = p.values[ROOT].unwrap_or(super::store::DEFAULT_ROOT);
    let which = crate::words::position(COMMANDS, p.command);
    // Every command but features and spec names a container: checked once, here (one
    // error path instead of one per command keeps this frame, which every command's
    // stack starts with, small).
    let id = match (p.pos[0], which) {
        (Some(id), _) => id,
        (None, Some(7 | 8) | None) => c"",
        (None, Some(_)) => {
            let mut e = Error::usage(p.command);
            e.msg.push(b": no container ID given");
            return Err(e);
        }
    };
    let preserve_fds = preserve_fds?;
    let done = match which {
        Some(0) => {
            // Before anything else: the container's processes must never be able to
            // reach this binary's file (CVE-2019-5736), so run from a sealed copy.
            crate::sealed::ensure(args, host_env)?;
            let a = super::create::Args {
                bundle: p.values[BUNDLE].unwrap_or(c"."),
                pid_file: p.values[PID_FILE],
                pid_dir: None,
                console_socket: p.values[CONSOLE],
                preserve_fds,
                id,
            };
            super::create::create(root, &a, host_env)
        }
        Some(1) => super::lifecycle::start(root, id),
        Some(2) => super::lifecycle::state(root, id),
        Some(3) => {
            let sig = p.pos[1]
                .map_or(Ok(linux_raw_sys::general::SIGTERM), |s| super::lifecycle::parse_signal(s.to_bytes()))?;
            super::lifecycle::kill(root, id, sig, p.flags & ALL != 0)
        }
        Some(4) => super::lifecycle::delete(root, id, p.flags & FORCE != 0),
        Some(5) => super::lifecycle::ps(root, id, p.values[FORMAT].is_some_and(|f| f.to_bytes() == b"json")),
        Some(6) => {
            crate::sealed::ensure(args, host_env)?;
            let process = p.values[PROCESS].ok_or_else(|| Error::usage(b"exec: --process FILE is missing"))?;
            let a = super::exec::Args {
                process,
                pid_file: p.values[PID_FILE],
                console_socket: p.values[CONSOLE],
                detach: p.flags & DETACH != 0,
                tty: p.flags & TTY != 0,
                preserve_fds,
                id,
            };
            return super::exec::exec(root, &a);
        }
        Some(7) => {
            super::spec::features();
            Ok(())
        }
        Some(8) => super::spec::write(p.values[BUNDLE]),
        Some(9) => super::lifecycle::pause(root, id, true),
        Some(10) => super::lifecycle::pause(root, id, false),
        Some(11) => super::lifecycle::update(root, id, p.values[RESOURCES].unwrap_or(c"-")),
        _ if p.command.is_empty() => Err(Error::usage(b"no command given after the global options")),
        _ if crate::words::position(NOT_HERE, p.command).is_some() => Err(not_here(p.command)),
        _ => Err(crate::limits::bad_value(
            b"command line",
            p.command,
            "is not a command (create start state kill delete ps exec pause resume update features spec)",
        )),
    };
    done.map(|()| 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn oci(words: &[&str]) -> bool {
        let owned: Vec<CString> =
            std::iter::once("tinyctr").chain(words.iter().copied()).map(|w| CString::new(w).unwrap()).collect();
        let ptrs: Vec<*const core::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        is_oci(CArgs::from_test(&ptrs))
    }

    /// A global option is one by its whole name (or `NAME=VALUE`): `--rootfs` is `run`'s,
    /// not `--root` with a tail.
    #[test]
    fn oci_command_lines_are_told_by_their_first_word() {
        assert!(oci(&["--root", "/r", "state", "x"]) && oci(&["--root=/r", "state", "x"]));
        assert!(oci(&["--log-format", "json", "kill", "x"]) && oci(&["create", "x"]) && oci(&["--systemd-cgroup"]));
        assert!(!oci(&["--rootfs", "/img", "sh"]) && !oci(&["--logx"]) && !oci(&["run", "sh"]) && !oci(&[]));
    }

    /// runc's commands tinyctr lacks are named as such, also with options of theirs.
    #[test]
    fn runc_commands_tinyctr_lacks_are_named() {
        let words = ["tinyctr", "--root", "/r", "checkpoint", "--image-path", "/i", "c1"];
        let owned: Vec<CString> = words.iter().map(|w| CString::new(*w).unwrap()).collect();
        let ptrs: Vec<*const core::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        let e = parse(CArgs::from_test(&ptrs)).err().expect("parsed");
        let msg = String::from_utf8_lossy(e.msg.as_bytes()).into_owned();
        assert!(msg.starts_with("'checkpoint' is a runc command tinyctr does not have (no checkpoint"), "{msg}");
    }
}
