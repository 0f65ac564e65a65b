//! The hand-written command-line parser: argv in, a plain `Command` out, before any
//! system call but the stat(2) of each `--device` node (crate::device). Nothing is
//! copied, every string in the result points into argv, but the device rules (the
//! devices cgroup's text, made from the node's numbers).
//!
//! Grammar: `tinyctr run [OPTIONS] COMMAND [ARG...]`. Options come before COMMAND; `--`
//! ends them; everything after COMMAND belongs to COMMAND. Long options take their value
//! as `--opt value` or `--opt=value`, short ones as `-o value` or `-ovalue`. The book's
//! Go-style spellings (`-cpushare`, `-cpuset`) are accepted beside docker's.

use core::ffi::CStr;

use crate::buf::Buf;
use crate::confine::{self, Asked};
use crate::error::{push_shown, Error, Result};
use crate::limits::{LimitKey, Limits};
use crate::rootfs::overlay::Layer;
use crate::rootfs::volume::{Mounts, Req, Syntax};
use crate::sys::args::CArgs;

pub const DEFAULT_HOSTNAME: &CStr = c"tinyctr";

pub enum Command<'a> {
    Run(RunConfig<'a>),
    Check,
    Help(Help),
    Version,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Help {
    Top,
    Run,
}

/// Everything `tinyctr run` was asked to do.
pub struct RunConfig<'a> {
    pub hostname: &'a CStr,
    pub workdir: Option<&'a CStr>,
    /// `--net host`: stay in the host's network namespace.
    pub host_net: bool,
    /// `--init`: PID 1 is tinyctr's own init, COMMAND its child.
    pub init: bool,
    pub rootfs: Option<&'a CStr>,
    pub read_only: bool,
    pub limits: Limits<'a>,
    /// `-v`, `--mount`, `--tmpfs`, in the order given.
    pub mounts: Mounts<'a>,
    /// `--overlay` / `--overlay-dir`: a writable layer over the rootfs.
    pub layer: Option<Layer<'a>>,
    /// Capabilities, user, rlimits, seccomp and masks as the options asked.
    pub confine: Asked<'a>,
    /// The rules of `--device` and `--device-cgroup-rule`, in order.
    pub devices: crate::device::Rules,
    /// How many `-e` options were given; their values are walked again by [`env_options`].
    pub env_count: usize,
    /// The option part of argv (between `run` and COMMAND), kept for [`env_options`].
    pub options: CArgs<'a>,
    /// COMMAND and its arguments; never empty.
    pub command: CArgs<'a>,
    /// Set by the OCI front end (`create`): what config.json decided in place of the
    /// docker-style options, and where the container waits for `start`.
    pub oci: Option<&'a crate::oci::create::Detached<'a>>,
}

impl<'a> RunConfig<'a> {
    /// [`RunConfig::oci`], as a constant `None` in a build without the OCI runtime, so
    /// that none of its code is in the binary.
    pub fn oci(&self) -> Option<&'a crate::oci::create::Detached<'a>> {
        if cfg!(feature = "oci") {
            self.oci
        } else {
            None
        }
    }
}

/// The options `run` knows. `Flag`s take no value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Opt {
    Hostname,
    Env,
    Workdir,
    Net,
    Init,
    Interactive,
    Rootfs,
    ReadOnly,
    Limit(LimitKey),
    Mount(Syntax),
    Overlay,
    OverlayDir,
    Confine(confine::Key),
    /// `--device` (false) or `--device-cgroup-rule` (true).
    Device(bool),
    Help,
}

impl Opt {
    fn takes_value(self) -> bool {
        match self {
            Opt::Confine(k) => k.takes_value(),
            o => !matches!(o, Opt::Init | Opt::Interactive | Opt::ReadOnly | Opt::Overlay | Opt::Help),
        }
    }
}

/// Long names (after `--`), space-separated, with their options in [`LONG_OPTS`] (one
/// string instead of a `&str` per name: 16 bytes of pointer each).
const LONG: &str = "hostname env workdir net network init interactive tty rootfs read-only volume mount \
tmpfs overlay overlay-dir memory memory-swap cpu-shares cpus cpuset-cpus pids-limit \
name cgroup-parent cap-add cap-drop privileged security-opt user group-add ulimit device \
device-cgroup-rule help";
const LONG_OPTS: [Opt; 33] = [
    Opt::Hostname,
    Opt::Env,
    Opt::Workdir,
    Opt::Net,
    Opt::Net,
    Opt::Init,
    Opt::Interactive,
    Opt::Interactive,
    Opt::Rootfs,
    Opt::ReadOnly,
    Opt::Mount(Syntax::Volume),
    Opt::Mount(Syntax::Mount),
    Opt::Mount(Syntax::Tmpfs),
    Opt::Overlay,
    Opt::OverlayDir,
    Opt::Limit(LimitKey::Memory),
    Opt::Limit(LimitKey::MemorySwap),
    Opt::Limit(LimitKey::CpuShares),
    Opt::Limit(LimitKey::Cpus),
    Opt::Limit(LimitKey::CpusetCpus),
    Opt::Limit(LimitKey::PidsLimit),
    Opt::Limit(LimitKey::Name),
    Opt::Limit(LimitKey::CgroupParent),
    Opt::Confine(confine::Key::CapAdd),
    Opt::Confine(confine::Key::CapDrop),
    Opt::Confine(confine::Key::Privileged),
    Opt::Confine(confine::Key::SecurityOpt),
    Opt::Confine(confine::Key::User),
    Opt::Confine(confine::Key::GroupAdd),
    Opt::Confine(confine::Key::Ulimit),
    Opt::Device(false),
    Opt::Device(true),
    Opt::Help,
];

/// The book's Go-flag spellings: one dash, a whole word.
const BOOK: &str = "cpushare cpuset";
const BOOK_OPTS: [Opt; 2] = [Opt::Limit(LimitKey::CpuShares), Opt::Limit(LimitKey::CpusetCpus)];

const SHORT: &[(u8, Opt)] = &[
    (b'h', Opt::Hostname),
    (b'e', Opt::Env),
    (b'w', Opt::Workdir),
    (b'm', Opt::Limit(LimitKey::Memory)),
    (b'c', Opt::Limit(LimitKey::CpuShares)),
    (b'r', Opt::Rootfs),
    (b'v', Opt::Mount(Syntax::Volume)),
    (b'i', Opt::Interactive),
    (b't', Opt::Interactive),
    (b'u', Opt::Confine(confine::Key::User)),
];

/// One option occurrence: what it is, how the user spelled it, and its value.
struct Occurrence<'a> {
    opt: Opt,
    spelled: &'a [u8],
    value: Option<&'a CStr>,
}

/// Walks the options of `run`, stopping at COMMAND (or after `--`).
struct Options<'a> {
    args: CArgs<'a>,
    pos: usize,
    done: bool,
}

impl<'a> Options<'a> {
    fn new(args: CArgs<'a>) -> Self {
        Options { args, pos: 0, done: false }
    }

    /// Index in `args` where COMMAND starts (valid once the walk returned `None`).
    fn command_start(&self) -> usize {
        self.pos
    }

    fn next(&mut self) -> Option<Result<Occurrence<'a>>> {
        if self.done {
            return None;
        }
        let Some(arg) = self.args.get(self.pos) else {
            self.done = true;
            return None;
        };
        let bytes = arg.to_bytes();
        if bytes == b"--" {
            self.pos += 1;
            self.done = true;
            return None;
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            // COMMAND (a lone "-" is a command name too, like a file called "-").
            self.done = true;
            return None;
        }
        self.pos += 1;
        Some(self.parse_one(arg))
    }

    #[inline(never)]
    fn parse_one(&mut self, arg: &'a CStr) -> Result<Occurrence<'a>> {
        let bytes = arg.to_bytes();
        if bytes.starts_with(b"--") {
            let (name, inline) = split_eq(arg, 2);
            return match lookup(LONG, &LONG_OPTS, name) {
                Some(opt) => self.finish(opt, &bytes[..2 + name.len()], inline),
                None => Err(unknown(&bytes[..2 + name.len()])),
            };
        }
        let body = &bytes[1..];
        // A whole-word single-dash spelling: the book's flags.
        let (name, inline) = split_eq(arg, 1);
        if let Some(opt) = lookup(BOOK, &BOOK_OPTS, name) {
            return self.finish(opt, &bytes[..1 + name.len()], inline);
        }
        // Clustered -i/-t (`-ti`, `-it`, `-i`, `-t`).
        if body.iter().all(|&c| c == b'i' || c == b't') {
            return Ok(Occurrence { opt: Opt::Interactive, spelled: bytes, value: None });
        }
        let Some(&(_, opt)) = SHORT.iter().find(|(c, _)| *c == body[0]) else {
            return Err(unknown(bytes));
        };
        let spelled = &bytes[..2];
        if !opt.takes_value() {
            return Err(unknown(bytes));
        }
        if body.len() > 1 {
            // `-m64m`: the value is attached; it is the tail of the same C string.
            let tail = &arg.to_bytes_with_nul()[2..];
            let value = CStr::from_bytes_until_nul(tail).map_err(|_| unknown(bytes))?;
            return Ok(Occurrence { opt, spelled, value: Some(value) });
        }
        self.finish(opt, spelled, None)
    }

    fn finish(&mut self, opt: Opt, spelled: &'a [u8], inline: Option<&'a CStr>) -> Result<Occurrence<'a>> {
        if !opt.takes_value() {
            if inline.is_some() {
                return Err(opt_error(spelled, b"takes no value"));
            }
            return Ok(Occurrence { opt, spelled, value: None });
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let v = self.args.get(self.pos).ok_or_else(|| opt_error(spelled, b"needs a value"))?;
                self.pos += 1;
                v
            }
        };
        Ok(Occurrence { opt, spelled, value: Some(value) })
    }
}

/// Splits `-name=value` / `--name=value` after `skip` dashes: the name, and the value as
/// the C string that follows `=` (it shares argv's terminating NUL).
fn split_eq(arg: &CStr, skip: usize) -> (&[u8], Option<&CStr>) {
    let bytes = &arg.to_bytes()[skip..];
    match bytes.iter().position(|&c| c == b'=') {
        Some(i) => {
            let tail = &arg.to_bytes_with_nul()[skip + i + 1..];
            (&bytes[..i], CStr::from_bytes_until_nul(tail).ok())
        }
        None => (bytes, None),
    }
}

fn lookup(names: &str, opts: &[Opt], name: &[u8]) -> Option<Opt> {
    crate::words::position(names, name).and_then(|i| opts.get(i).copied())
}

fn unknown(spelled: &[u8]) -> Error {
    let mut e = Error::usage(b"unknown option '");
    push_shown(&mut e.msg, spelled);
    e.msg.push(b"' (see tinyctr run --help)");
    e
}

fn opt_error(spelled: &[u8], what: &[u8]) -> Error {
    let mut e = Error::usage(spelled);
    e.msg.push(b": ").push(what);
    e
}

pub(crate) fn value_error(spelled: &[u8], value: &CStr, what: &[u8]) -> Error {
    let mut e = Error::usage(spelled);
    e.msg.push(b": '");
    push_shown(&mut e.msg, value.to_bytes());
    e.msg.push(b"' ").push(what);
    e
}

/// Parses the whole argv (argv[0] included).
pub fn parse<'a>(argv: CArgs<'a>) -> Result<Command<'a>> {
    let Some(sub) = argv.get(1) else {
        return Err(Error::usage(
            b"no command given (usage: tinyctr run [OPTIONS] COMMAND [ARG...]; see tinyctr --help)",
        ));
    };
    match sub.to_bytes() {
        b"run" => parse_run(argv.tail(2)),
        b"check" => match argv.get(2) {
            None => Ok(Command::Check),
            Some(x) => Err(extra("check", x)),
        },
        b"--help" | b"-h" | b"help" => Ok(Command::Help(match argv.get(2).map(CStr::to_bytes) {
            Some(b"run") => Help::Run,
            _ => Help::Top,
        })),
        b"--version" | b"-V" | b"version" => Ok(Command::Version),
        other => {
            let mut e = Error::usage(b"unknown command '");
            push_shown(&mut e.msg, other);
            e.msg.push(b"' (commands: run, check, help; see tinyctr --help)");
            Err(e)
        }
    }
}

fn extra(cmd: &str, arg: &CStr) -> Error {
    let mut e = Error::usage(cmd.as_bytes());
    e.msg.push(b": unexpected argument '");
    push_shown(&mut e.msg, arg.to_bytes());
    e.msg.push(b"'");
    e
}

fn parse_run(args: CArgs<'_>) -> Result<Command<'_>> {
    let mut cfg = RunConfig {
        hostname: DEFAULT_HOSTNAME,
        workdir: None,
        host_net: false,
        init: false,
        rootfs: None,
        read_only: false,
        limits: Limits::default(),
        mounts: Mounts::empty(),
        layer: None,
        confine: Asked::default(),
        devices: crate::device::Rules::new(),
        env_count: 0,
        options: args,
        command: CArgs::empty(),
        oci: None,
    };
    let mut renamed = false;
    let mut opts = Options::new(args);
    while let Some(occ) = opts.next() {
        let occ = occ?;
        let spelled = occ.spelled;
        // `finish` guarantees a value for every option that takes one.
        let value = occ.value.unwrap_or(c"");
        match occ.opt {
            Opt::Help => return Ok(Command::Help(Help::Run)),
            Opt::Hostname => {
                let n = value.to_bytes().len();
                // HOST_NAME_MAX is 64; sethostname answers EINVAL beyond it.
                if n == 0 || n > 64 {
                    return Err(value_error(spelled, value, b"is not a valid hostname (1 to 64 bytes)"));
                }
                cfg.hostname = value;
            }
            Opt::Env => {
                if env_key(value.to_bytes()).is_empty() {
                    return Err(value_error(spelled, value, b"has no variable name (use KEY=VALUE or KEY)"));
                }
                cfg.env_count += 1;
            }
            Opt::Workdir => {
                if value.to_bytes().is_empty() {
                    return Err(value_error(spelled, value, b"is not a directory path"));
                }
                cfg.workdir = Some(value);
            }
            Opt::Net => match value.to_bytes() {
                b"host" => cfg.host_net = true,
                b"none" | b"private" => cfg.host_net = false,
                _ => return Err(value_error(spelled, value, b"is not a network mode (host, or none: the default)")),
            },
            Opt::Init => cfg.init = true,
            Opt::Interactive => {}
            Opt::Rootfs => {
                if value.to_bytes().is_empty() {
                    return Err(value_error(spelled, value, b"is not a directory path"));
                }
                cfg.rootfs = Some(value);
            }
            Opt::ReadOnly => cfg.read_only = true,
            Opt::Mount(syntax) => cfg.mounts.add(syntax, spelled, value)?,
            Opt::Overlay => cfg.layer = Some(Layer::Dropped),
            Opt::OverlayDir => {
                if value.to_bytes().is_empty() {
                    return Err(value_error(spelled, value, b"is not a directory path"));
                }
                cfg.layer = Some(Layer::Kept(value));
            }
            Opt::Limit(key) => {
                // The limits module quotes the option as typed in its own messages.
                cfg.limits.set(key, spelled, value)?;
            }
            Opt::Confine(key) => cfg.confine.set(key, spelled, value)?,
            Opt::Device(rule) => {
                // The node, bound into the container's /dev (without --rootfs, onto itself
                // in the host's: it is there already).
                if let Some((host, ctr)) = cfg.devices.add(spelled, value, rule)? {
                    renamed |= host != ctr;
                    if !cfg.mounts.push(Req { source: host, target: ctr, ..Req::EMPTY }) {
                        let mut e = Error::usage(spelled);
                        e.msg.push(crate::rootfs::volume::TOO_MANY);
                        return Err(e);
                    }
                }
            }
        }
    }
    cfg.limits.validate()?;
    // docker's device list, unless --privileged (which gets every device).
    cfg.limits.devices = !cfg.confine.privileged;
    if cfg.read_only && cfg.rootfs.is_none() {
        return Err(Error::usage(b"--read-only: needs --rootfs DIR (it makes the container's own root read-only)"));
    }
    if cfg.rootfs.is_none() && renamed {
        return Err(Error::usage(
            b"--device: HOST:CONTAINER needs --rootfs DIR (without, the container sees the host's /dev)",
        ));
    }
    if cfg.layer.is_some() && cfg.rootfs.is_none() {
        return Err(Error::usage(b"--overlay: needs --rootfs DIR (the writable layer goes over DIR)"));
    }
    cfg.command = args.tail(opts.command_start());
    if cfg.command.is_empty() {
        return Err(Error::usage(b"run: no command given (usage: tinyctr run [OPTIONS] COMMAND [ARG...])"));
    }
    Ok(Command::Run(cfg))
}

/// The name part of `KEY=VALUE` (all of it when there is no `=`).
pub fn env_key(entry: &[u8]) -> &[u8] {
    match entry.iter().position(|&c| c == b'=') {
        Some(i) => &entry[..i],
        None => entry,
    }
}

/// Calls `f` with the value of each `-e`/`--env` option, in order. Only valid on the
/// options of a `RunConfig` that parsed successfully.
pub fn env_options<'a>(options: CArgs<'a>, mut f: impl FnMut(&'a CStr)) {
    values_of(options, &mut |o, v| {
        if o == Opt::Env {
            f(v)
        }
    })
}

/// Fills `out` with the `--group-add` values, in order; returns how many (the parser
/// allows no more than `out` holds, `confine::user::MAX_GROUPS`).
pub fn group_adds<'a: 'o, 'o>(options: CArgs<'a>, out: &mut [&'o CStr]) -> usize {
    let mut n = 0;
    values_of(options, &mut |o, v| {
        if let (Opt::Confine(confine::Key::GroupAdd), Some(slot)) = (o, out.get_mut(n)) {
            *slot = v;
            n += 1;
        }
    });
    n
}

/// Calls `f` with each option that has a value, and the value, in order.
#[inline(never)]
fn values_of<'a>(options: CArgs<'a>, f: &mut dyn FnMut(Opt, &'a CStr)) {
    let mut opts = Options::new(options);
    while let Some(Ok(occ)) = opts.next() {
        if let Some(v) = occ.value {
            f(occ.opt, v);
        }
    }
}

/// `--version` text.
pub fn version() -> Buf<64> {
    let mut b = Buf::new();
    b.push(b"tinyctr ").push_str(env!("CARGO_PKG_VERSION")).push(b"\n");
    b
}

/// The OCI runtime's commands, in a build that has them (a macro: `concat!` takes
/// literals only).
#[cfg(feature = "oci")]
macro_rules! help_oci {
    () => {
        "  tinyctr [--root DIR] [--log FILE] [--log-format json] COMMAND [OPTIONS] ID
                                           the OCI runtime (runc's command line, for
                                           containerd): create --bundle B [--pid-file P]
                                           [--console-socket S], start, state, kill
                                           [--all] ID [SIG], delete [--force], ps, exec
                                           --process F [--detach], pause, resume,
                                           update --resources F|-, features, spec
"
    };
}
#[cfg(not(feature = "oci"))]
macro_rules! help_oci {
    () => {
        ""
    };
}

pub const HELP_TOP: &str = concat!(
    "\
tinyctr: a container runtime in one small static file

Usage:
  tinyctr run [OPTIONS] COMMAND [ARG...]   run COMMAND as PID 1 of new namespaces
  tinyctr check                            say whether this kernel can run containers
  tinyctr --help | help [run]              this text, or the options of run
  tinyctr --version
",
    help_oci!(),
    "
Exit status of run: the command's own, 128+S if a signal S killed it (137 after an
out-of-memory kill), 125 if tinyctr failed, 126 if the command cannot be executed,
127 if it was not found.
"
);

pub const HELP_RUN: &str = "\
Usage: tinyctr run [OPTIONS] COMMAND [ARG...]
COMMAND runs as PID 1 of new UTS, PID, mount, IPC, net and cgroup namespaces
with a fresh /proc. Options come first; -- ends them; --opt=value, -ovalue work.

  -h, --hostname NAME     hostname (default tinyctr)
  -e, --env KEY[=VALUE]   set a variable, or copy KEY from ours (repeatable)
  -w, --workdir DIR       working directory (default: ours; / with --rootfs)
  --net host|none         the host's network, or a new one with lo (default)
  --init                  a tiny PID 1 that forwards signals and reaps zombies
  -r, --rootfs DIR        DIR as the container's root
  --read-only             the root read-only (with --rootfs)
  -i, -t, -ti             accepted; tinyctr always runs in the foreground
Mounts, in the order given:
  -v, --volume SRC:DST[:ro|rw]   bind host path SRC at DST
  --mount type=bind,source=SRC,target=DST[,readonly]
  --mount type=tmpfs,target=DST[,tmpfs-size=SIZE][,tmpfs-mode=MODE]
  --tmpfs DST[:OPTS]      a tmpfs (rw,noexec,nosuid,nodev; size=, mode=)
  --overlay               a writable layer over the rootfs, dropped at exit
  --overlay-dir LAYER     the same, kept in LAYER
Limits (cgroups; none asked, none touched):
  -m, --memory SIZE       memory limit (64m, 1g)
  --memory-swap SIZE      memory plus swap (-1: unlimited)
  -c, --cpu-shares N      relative CPU weight (also -cpushare)
  --cpus DECIMAL          CPU quota (0.5)
  --cpuset-cpus LIST      CPUs allowed (0-2,4; also -cpuset)
  --pids-limit N          most processes
  --name NAME             the cgroup's name (one run per name)
  --cgroup-parent PATH    the cgroup below PATH, not below tinyctr's own
Confinement (default: docker's capabilities, seccomp profile and masked paths):
  -u, --user USER[:GROUP] run as NAME or UID (the container's passwd and group)
  --group-add GROUP       a supplementary group (repeatable)
  --cap-add CAP, --cap-drop CAP   change the capabilities (repeatable; ALL)
  --privileged            every capability and device, no seccomp, no masks
  --security-opt OPT      no-new-privileges[=true|false] or seccomp=unconfined
  --ulimit NAME=SOFT[:HARD]  a resource limit (nofile, nproc, core...; -1: none)
  --device HOST[:DST][:rwm]  a host device (its node at DST in /dev: --rootfs)
  --device-cgroup-rule RULE  allow devices (c 10:232 rwm; b 8:* r)
";

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// `tinyctr run --help` names every option (the aliases `network`, `interactive`
    /// and `tty` are spelled `--net`, `-i` and `-t` there) within 80 columns.
    #[test]
    fn help_names_every_option() {
        for name in LONG.split(' ').filter(|n| !["network", "interactive", "tty", "help"].contains(n)) {
            assert!(HELP_RUN.contains(&format!("--{name}")), "--{name} is not in the help");
        }
        for (c, _) in SHORT {
            assert!(HELP_RUN.contains(&format!("-{}", *c as char)), "-{} is not in the help", *c as char);
        }
        for book in BOOK.split(' ') {
            assert!(HELP_RUN.contains(&format!("-{book}")), "-{book}");
        }
        assert!(HELP_RUN.lines().all(|l| l.len() <= 80));
    }

    /// Parses `words` as argv (with argv[0] = "tinyctr") and hands the result to `f`.
    fn with_parsed<R>(words: &[&str], f: impl FnOnce(Result<Command<'_>>) -> R) -> R {
        let owned: Vec<CString> =
            std::iter::once("tinyctr").chain(words.iter().copied()).map(|w| CString::new(w).unwrap()).collect();
        let ptrs: Vec<*const core::ffi::c_char> = owned.iter().map(|c| c.as_ptr()).collect();
        f(parse(CArgs::from_test(&ptrs)))
    }

    fn run_ok<R>(words: &[&str], f: impl FnOnce(&RunConfig<'_>) -> R) -> R {
        let words: Vec<&str> = std::iter::once("run").chain(words.iter().copied()).collect();
        with_parsed(&words, |r| match r {
            Ok(Command::Run(cfg)) => f(&cfg),
            Ok(_) => panic!("not a run"),
            Err(e) => panic!("error: {}", String::from_utf8_lossy(e.msg.as_bytes())),
        })
    }

    fn err_text(words: &[&str]) -> String {
        let words: Vec<&str> = std::iter::once("run").chain(words.iter().copied()).collect();
        with_parsed(&words, |r| match r {
            Err(e) => {
                assert_eq!(e.status, 125);
                String::from_utf8_lossy(e.line().as_bytes()).into_owned()
            }
            Ok(_) => panic!("expected an error for {words:?}"),
        })
    }

    fn words(a: CArgs<'_>) -> Vec<String> {
        a.iter().map(|c| c.to_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn packed_tables_line_up() {
        assert_eq!(LONG.split(' ').count(), LONG_OPTS.len());
        assert_eq!(BOOK.split(' ').count(), BOOK_OPTS.len());
        assert_eq!(lookup(LONG, &LONG_OPTS, b"help"), Some(Opt::Help));
        assert_eq!(lookup(LONG, &LONG_OPTS, b"network"), Some(Opt::Net));
    }

    #[test]
    fn defaults() {
        run_ok(&["/bin/sh"], |c| {
            assert_eq!(c.hostname, c"tinyctr");
            assert!(c.workdir.is_none() && !c.host_net && !c.init && c.rootfs.is_none());
            assert_eq!(words(c.command), ["/bin/sh"]);
            assert_eq!(c.env_count, 0);
            // The device list needs a cgroup; no limit is set.
            assert!(c.limits.devices && c.limits.wants_cgroup() && c.limits.memory.is_none());
        });
    }

    #[test]
    fn everything_after_command_is_its_own() {
        run_ok(&["/bin/echo", "-m", "5"], |c| assert_eq!(words(c.command), ["/bin/echo", "-m", "5"]));
        run_ok(&["--", "-weird", "x"], |c| assert_eq!(words(c.command), ["-weird", "x"]));
        run_ok(&["-h", "box", "--", "ls"], |c| {
            assert_eq!(c.hostname, c"box");
            assert_eq!(words(c.command), ["ls"]);
        });
    }

    #[test]
    fn every_option_both_forms() {
        for args in [
            &["-h", "a", "-w", "/tmp", "--net", "host", "--init", "-e", "A=1", "-e", "B", "true"][..],
            &["--hostname=a", "--workdir=/tmp", "--network=host", "--init", "--env=A=1", "--env", "B", "true"][..],
            &["-ha", "-w/tmp", "--net=host", "--init", "-eA=1", "-eB", "true"][..],
        ] {
            run_ok(args, |c| {
                assert_eq!(c.hostname, c"a");
                assert_eq!(c.workdir, Some(c"/tmp"));
                assert!(c.host_net && c.init);
                assert_eq!(c.env_count, 2);
                let mut envs = Vec::new();
                env_options(c.options, |v| envs.push(v.to_str().unwrap().to_owned()));
                assert_eq!(envs, ["A=1", "B"]);
                assert_eq!(words(c.command), ["true"]);
            });
        }
    }

    #[test]
    fn interactive_flags_are_accepted() {
        for f in ["-i", "-t", "-ti", "-it", "--interactive", "--tty", "-iti"] {
            run_ok(&[f, "sh"], |c| assert_eq!(words(c.command), ["sh"]));
        }
    }

    #[test]
    fn rootfs_options() {
        run_ok(&["-r", "/srv/root", "--read-only", "sh"], |c| {
            assert_eq!(c.rootfs, Some(c"/srv/root"));
            assert!(c.read_only);
        });
        assert!(err_text(&["--read-only", "sh"]).contains("needs --rootfs"));
    }

    #[test]
    fn mount_options_in_order() {
        run_ok(
            &["-v", "/a:/b:ro", "--volume=/c:/d", "--mount", "type=tmpfs,dst=/t", "--tmpfs", "/u", "-v/e:/f", "sh"],
            |c| {
                let targets: Vec<&[u8]> = c.mounts.as_slice().iter().map(|r| r.target).collect();
                assert_eq!(targets, [&b"/b"[..], b"/d", b"/t", b"/u", b"/f"]);
                assert!(c.mounts.as_slice()[0].read_only && c.layer.is_none());
            },
        );
        run_ok(&["-r", "/r", "--overlay", "sh"], |c| assert_eq!(c.layer, Some(Layer::Dropped)));
        run_ok(&["-r", "/r", "--overlay-dir", "/k", "sh"], |c| assert_eq!(c.layer, Some(Layer::Kept(c"/k"))));
        assert_eq!(
            err_text(&["--overlay", "sh"]),
            "tinyctr: --overlay: needs --rootfs DIR (the writable layer goes over DIR)\n"
        );
        assert!(err_text(&["-r", "/r", "--overlay-dir", "", "sh"]).contains("is not a directory path"));
        assert!(err_text(&["--overlay=x", "sh"]).contains("takes no value"));
        assert_eq!(
            err_text(&["-v", "x:/y", "sh"]),
            "tinyctr: -v: 'x:/y': 'x' is not an absolute host path: named volumes are not supported\n"
        );
        assert!(err_text(&["--mount", "type=bind,src=/a", "sh"])
            .starts_with("tinyctr: --mount: 'type=bind,src=/a' needs target=DST"));
    }

    #[test]
    fn limit_options_reach_limits() {
        run_ok(&["-m", "64m", "-cpushare", "512", "-cpuset=0", "--pids-limit=10", "sh"], |c| {
            assert_eq!(c.limits.memory, Some(64 << 20));
            assert_eq!(c.limits.cpu_shares, Some(512));
            assert_eq!(c.limits.cpuset_cpus, Some(c"0"));
            assert_eq!(c.limits.pids, Some(10));
            assert!(c.limits.wants_cgroup());
        });
        assert!(err_text(&["-m", "64x", "sh"]).contains("'64x'"));
    }

    #[test]
    fn confinement_options_reach_asked() {
        let args = [
            "--cap-add",
            "net_admin",
            "--cap-drop=CAP_CHOWN",
            "--privileged",
            "--security-opt",
            "no-new-privileges",
            "--security-opt=seccomp=unconfined",
            "-u",
            "bob:staff",
            "--group-add",
            "audio",
            "--group-add=10",
            "--ulimit",
            "nofile=10:20",
            "sh",
        ];
        run_ok(&args, |c| {
            let a = &c.confine;
            assert_eq!((a.caps.add, a.caps.drop), (1 << 12, 1));
            assert!(a.privileged && a.no_new_privs && a.unconfined);
            assert_eq!(a.user, Some(c"bob:staff"));
            assert_eq!(a.group_adds, 2);
            let mut adds = [c""; 4];
            assert_eq!(group_adds(c.options, &mut adds), 2);
            assert_eq!(adds[..2], [c"audio", c"10"]);
            assert_eq!((a.rlimits.soft[7], a.rlimits.hard[7]), (10, 20));
            assert_eq!(words(c.command), ["sh"]);
        });
        run_ok(&["-u1000", "--user=0", "id"], |c| assert_eq!(c.confine.user, Some(c"0")));
        run_ok(&["sh"], |c| {
            let a = &c.confine;
            assert!(a.caps.is_empty() && !a.privileged && !a.no_new_privs && !a.unconfined && a.user.is_none());
            assert_eq!((a.group_adds, a.rlimits.set), (0, 0));
        });
        assert_eq!(err_text(&["--privileged=1", "sh"]), "tinyctr: --privileged: takes no value\n");
        assert_eq!(err_text(&["--cap-add"]), "tinyctr: --cap-add: needs a value\n");
        assert!(err_text(&["--cap-drop", "nope", "sh"]).starts_with("tinyctr: --cap-drop: 'nope' is not a capability"));
        assert!(err_text(&["-u", "", "sh"]).contains("-u: '' is not NAME|UID[:GROUP|GID]"));
        assert!(err_text(&["--ulimit", "x=1", "sh"]).contains("--ulimit: 'x=1' has an unknown limit name"));
        assert!(err_text(&["--security-opt", "label=disable", "sh"]).contains("'label=disable' is not supported"));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert_eq!(err_text(&["--bogus", "sh"]), "tinyctr: unknown option '--bogus' (see tinyctr run --help)\n");
        assert_eq!(err_text(&["-x", "sh"]), "tinyctr: unknown option '-x' (see tinyctr run --help)\n");
        assert_eq!(err_text(&["-h"]), "tinyctr: -h: needs a value\n");
        assert_eq!(err_text(&["--hostname"]), "tinyctr: --hostname: needs a value\n");
        assert_eq!(err_text(&["--init=1", "sh"]), "tinyctr: --init: takes no value\n");
        assert!(err_text(&[]).contains("run: no command given"));
        assert!(err_text(&["-h", "x", "--"]).contains("no command given"));
        assert!(err_text(&["--net", "bridge", "sh"]).contains("'bridge' is not a network mode"));
        assert!(err_text(&["-e", "=x", "sh"]).contains("no variable name"));
        assert!(err_text(&["-h", &"x".repeat(65), "sh"]).contains("not a valid hostname"));
        assert!(err_text(&["-h", "", "sh"]).contains("not a valid hostname"));
    }

    #[test]
    fn top_level_commands() {
        with_parsed(&["--help"], |r| assert!(matches!(r, Ok(Command::Help(Help::Top)))));
        with_parsed(&["help"], |r| assert!(matches!(r, Ok(Command::Help(Help::Top)))));
        with_parsed(&["help", "run"], |r| assert!(matches!(r, Ok(Command::Help(Help::Run)))));
        with_parsed(&["run", "--help"], |r| assert!(matches!(r, Ok(Command::Help(Help::Run)))));
        with_parsed(&["--version"], |r| assert!(matches!(r, Ok(Command::Version))));
        with_parsed(&["check"], |r| assert!(matches!(r, Ok(Command::Check))));
        with_parsed(&[], |r| assert!(r.is_err()));
        with_parsed(&["frobnicate"], |r| assert!(r.is_err()));
        with_parsed(&["check", "x"], |r| assert!(r.is_err()));
    }
}
