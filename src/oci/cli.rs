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
const COMMANDS: &str = "create start state kill delete ps exec features spec";

/// Options of the commands: name, whether it takes a value. One word each in
/// [`OPTIONS`], with `=` after those that take one.
const OPTIONS: &str = "root= log= log-format= systemd-cgroup bundle= b= pid-file= console-socket= no-pivot \
no-new-keyring all a force f format= process= detach d";

/// Whether argv is an OCI command line: its first word is a command or a global option.
pub fn is_oci(args: CArgs<'_>) -> bool {
    let Some(first) = args.get(1).map(CStr::to_bytes) else { return false };
    crate::words::position(COMMANDS, first).is_some()
        || [&b"--root"[..], b"--log", b"--log-format", b"--systemd-cgroup"].iter().any(|o| first.starts_with(o))
}

/// What the command line said.
#[derive(Default)]
struct Parsed<'a> {
    root: Option<&'a CStr>,
    log: Option<&'a CStr>,
    bundle: Option<&'a CStr>,
    pid_file: Option<&'a CStr>,
    console_socket: Option<&'a CStr>,
    all: bool,
    force: bool,
    format: Option<&'a CStr>,
    process: Option<&'a CStr>,
    detach: bool,
    command: &'a [u8],
    /// ID, then kill's signal.
    pos: [Option<&'a CStr>; 2],
}

fn parse(args: CArgs<'_>) -> Result<Parsed<'_>> {
    let mut p = Parsed::default();
    let mut npos = 0;
    let mut i = 1;
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
                return Err(crate::limits::bad_value(b"command line", b, "is one argument too many"));
            }
            continue;
        };
        let (name, inline) = match opt.iter().position(|&c| c == b'=') {
            Some(eq) => (&opt[..eq], Some(&a.to_bytes_with_nul()[b.len() - opt.len() + eq + 1..])),
            None => (opt, None),
        };
        let mut word: crate::buf::Buf<24> = crate::buf::Buf::from(name);
        let valued = crate::words::position(OPTIONS, word.push(b"=").as_bytes());
        let flag = crate::words::position(OPTIONS, name);
        let value = match (valued, inline) {
            (Some(_), Some(v)) => CStr::from_bytes_with_nul(v).ok(),
            (Some(_), None) => {
                i += 1;
                args.get(i - 1)
            }
            (None, _) => None,
        };
        let unknown = || crate::limits::bad_value(b"command line", b, "is not an option tinyctr knows here");
        match (name, value, flag) {
            (b"root", Some(v), _) => p.root = Some(v),
            (b"log", Some(v), _) => p.log = Some(v),
            (b"log-format", Some(v), _) if v.to_bytes() == b"json" || v.to_bytes() == b"text" => {}
            (b"systemd-cgroup", _, Some(_)) if inline.is_none() => {}
            (b"bundle" | b"b", Some(v), _) => p.bundle = Some(v),
            (b"pid-file", Some(v), _) => p.pid_file = Some(v),
            (b"console-socket", Some(v), _) => p.console_socket = Some(v),
            // runc's switches that change nothing here: tinyctr always pivots where the
            // kernel allows (the initramfs case moves and chroots by itself), and never
            // makes a session keyring.
            (b"no-pivot" | b"no-new-keyring", None, Some(_)) => {}
            (b"all" | b"a", None, Some(_)) => p.all = true,
            (b"process", Some(v), _) => p.process = Some(v),
            (b"detach" | b"d", None, Some(_)) => p.detach = true,
            (b"force" | b"f", None, Some(_)) => p.force = true,
            (b"format", Some(v), _) if v.to_bytes() == b"json" || v.to_bytes() == b"table" => p.format = Some(v),
            (_, None, None) if valued.is_some() => {
                return Err(crate::limits::bad_value(b"command line", b, "needs a value"));
            }
            _ => return Err(unknown()),
        }
    }
    Ok(p)
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

fn run(args: CArgs<'_>, host_env: CArgs<'_>) -> Result<u8> {
    let p = parse(args)?;
    if let Some(log) = p.log {
        // Appended to, as runc does; made if missing (containerd reads it after a failure).
        let fd = rustix::fs::open(
            log,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| Error::sys("open the log file", log.to_bytes(), e))?;
        crate::out::log_to(fd);
    }
    let root = p.root.unwrap_or(super::store::DEFAULT_ROOT);
    let id = || {
        p.pos[0].ok_or_else(|| {
            let mut e = Error::usage(p.command);
            e.msg.push(b": no container ID given");
            e
        })
    };
    let done = match p.command {
        b"create" => {
            // Before anything else: the container's processes must never be able to
            // reach this binary's file (CVE-2019-5736), so run from a sealed copy.
            crate::sealed::ensure(args, host_env)?;
            let a = super::create::Args {
                bundle: p.bundle.unwrap_or(c"."),
                pid_file: p.pid_file,
                console_socket: p.console_socket,
                id: id()?,
            };
            super::create::create(root, &a, host_env)
        }
        b"start" => super::lifecycle::start(root, id()?),
        b"state" => super::lifecycle::state(root, id()?),
        b"kill" => {
            let sig = p.pos[1]
                .map_or(Ok(linux_raw_sys::general::SIGTERM), |s| super::lifecycle::parse_signal(s.to_bytes()))?;
            super::lifecycle::kill(root, id()?, sig, p.all)
        }
        b"delete" => super::lifecycle::delete(root, id()?, p.force),
        b"ps" => super::lifecycle::ps(root, id()?, p.format.is_some_and(|f| f.to_bytes() == b"json")),
        b"exec" => {
            crate::sealed::ensure(args, host_env)?;
            if p.console_socket.is_some() {
                return Err(Error::usage(b"exec: --console-socket (a terminal) is not supported yet"));
            }
            let process = p.process.ok_or_else(|| Error::usage(b"exec: --process FILE is missing"))?;
            let a = super::exec::Args { process, pid_file: p.pid_file, detach: p.detach, id: id()? };
            return super::exec::exec(root, &a);
        }
        b"features" => {
            super::spec::features();
            Ok(())
        }
        b"spec" => super::spec::write(p.bundle),
        b"" => Err(Error::usage(b"no command given after the global options")),
        other => Err(crate::limits::bad_value(
            b"command line",
            other,
            "is not a command (create start state kill delete ps exec features spec)",
        )),
    };
    done.map(|()| 0)
}
