//! `exec --process FILE [--detach] [--pid-file P] ID`: one more process in a running
//! container. tinyctr joins the init's PID namespace for its children (setns on itself
//! changes only where they are born), opens the container's cgroups and forks; the
//! child moves itself into those cgroups, joins the other namespaces, enters the working directory, confines
//! itself as the process JSON says (capabilities, user, rlimits, no_new_privs), loads the
//! container's seccomp filter (compiled again from the bundle's config.json, as runc
//! gives exec'd processes the container's filter) and execs. tinyctr waits only for
//! that execve (the error pipe closes on success), writes the pid file and exits; the
//! shim, a subreaper, reaps the process.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::pipe::{pipe_with, PipeFlags};

use super::store::{self, Entry};
use crate::buf::Buf;
use crate::confine::seccomp::SockFilter;
use crate::error::{Error, Result};
use crate::fdio::read_full;
use crate::sys::args::{split_filters, CArgs};
use crate::sys::{clone_fork, Forked, Mapping};
use crate::trampoline::{decode, fail, RECORD_LEN};

pub struct Args<'a> {
    pub process: &'a CStr,
    pub pid_file: Option<&'a CStr>,
    pub console_socket: Option<&'a CStr>,
    /// Without it, tinyctr waits for the process and exits with its status.
    pub detach: bool,
    /// `--tty`: a terminal whatever the process says (runc's reading without --process;
    /// conmon passes it with a process that asks for one anyway).
    pub tty: bool,
    /// `--preserve-fds N`: descriptors 3 to 3+N-1 pass on to the process.
    pub preserve_fds: u32,
    pub id: &'a CStr,
}

/// The namespaces the child joins, in this order (the mount namespace last: the others'
/// files were opened before, but its own root and cwd change with it), after the user
/// and time namespaces when the container has its own.
const JOIN: [&CStr; 5] = [c"ipc", c"uts", c"net", c"cgroup", c"mnt"];

/// Child steps (their errnos travel in the trampoline's record).
const STEP_JOIN: u8 = 1;
const STEP_CWD: u8 = 2;
const STEP_EXEC: u8 = 3;
const STEP_CGROUP: u8 = 4;
const STEP_CONSOLE: u8 = 5;
const STEP_APPARMOR: u8 = 6;

#[inline(never)]
pub fn exec(root: &CStr, a: &Args<'_>) -> Result<u8> {
    let entry = Entry::open(root, a.id, false)?;
    let rec = entry.read(store::room()).map_err(|e| Error::sys("read the state of", a.id.to_bytes(), e))?;
    if !store::alive(&rec) || entry.waiting() {
        let mut e = Error::usage(b"cannot exec in container \"");
        crate::error::push_shown(&mut e.msg, a.id.to_bytes());
        e.msg.push(b"\": container not running");
        return Err(e);
    }
    let mut doc = super::file::read_at(rustix::fs::CWD, a.process)?;
    let p = super::config::parse_process(doc.bytes(), "process.json")?;
    let mut transition = super::lsm::Transition::new();
    let apparmor = match super::lsm::check(&p, "process: ", &mut transition)? {
        true => transition.as_bytes(),
        false => &[],
    };
    let console = super::create::terminal(p.terminal || a.tty, a.console_socket)?;
    let mut conf = super::create::confine_process(&p, false);
    let mut filter_map = container_filter(&rec)?;
    let filter = match &mut filter_map {
        Some((map, n)) => split_filters(map.bytes(), *n).map_or(&[][..], |(f, _)| &*f),
        None => &[],
    };
    conf.seccomp = !filter.is_empty();
    // The container's root, with its mounts, for the passwd a missing HOME comes from.
    let mut root: Buf<32> = Buf::new();
    root.push(b"/proc/").push_u64(rec.pid as u64).push(b"/root");
    let mut ptrs = super::create::pointers(p.args, p.env)?;
    let (argv, env) = super::create::arrays(&mut ptrs, p.args, p.env, (root.as_cstr(), p.user.uid))?;
    let path = crate::env::lookup(CArgs::from_array(&env), b"PATH").map_or(&b""[..], |e| &e.to_bytes()[5..]);

    // Every namespace file of the init, opened before anything changes.
    let ns = |name: &CStr| open_ns(rec.pid, name);
    let pid_ns = ns(c"pid")?;
    let mut joins: [Option<OwnedFd>; 7] = Default::default();
    for (slot, name) in joins[2..].iter_mut().zip(JOIN) {
        *slot = Some(ns(name)?);
    }
    // A container in a user namespace of its own: that one first (then tinyctr's child
    // has every privilege over the others, and none over the host). One cannot join
    // the user namespace one is in (EINVAL): a container without its own is left out;
    // so is a time namespace that is ours (a kernel before 5.6 has no file for it).
    for (slot, name) in joins.iter_mut().zip([c"user", c"time"]) {
        let theirs = match ns(name) {
            Ok(fd) => fd,
            Err(_) if name == c"time" => continue,
            Err(e) => return Err(e),
        };
        let mut path: Buf<24> = Buf::from(b"/proc/self/ns/");
        path.push(name.to_bytes());
        let same = rustix::fs::stat(path.as_cstr())
            .and_then(|ours| rustix::fs::fstat(&theirs).map(|t| (ours.st_ino, ours.st_dev) == (t.st_ino, t.st_dev)));
        if !same.unwrap_or(false) {
            *slot = Some(theirs);
        }
    }
    rustix::thread::move_into_link_name_space(pid_ns.as_fd(), None)
        .map_err(|e| Error::sys("join the PID namespace of", a.id.to_bytes(), e))?;
    // The v1 ones the child joins itself; on a v2 one (no `tasks`) it is born, with
    // clone3, where the kernel supports it.
    let mut cgroups: [Option<OwnedFd>; store::MAX_CGROUPS] = Default::default();
    let mut unified: Option<OwnedFd> = None;
    for (slot, dir) in cgroups.iter_mut().zip(&rec.cgroups[..rec.n_cgroups]) {
        let d = crate::cgroup::fs::open_path(dir).map_err(|e| Error::sys("open the cgroup", dir, e))?;
        match unified.is_none() && !crate::cgroup::fs::exists(d.as_fd(), c"tasks") {
            true => unified = Some(d),
            false => *slot = Some(d),
        }
    }
    let (err_rx, err_tx) = pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::sys("create a pipe", b"", e))?;
    // Not dumpable until execve: while the child runs tinyctr's code in the container's
    // PID namespace, no process there may open its /proc/PID/exe (CVE-2019-5736).
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| Error::sys("set tinyctr not dumpable", b"", e))?;
    let into = unified.as_ref().map(|d| d.as_raw_fd());
    let forked = match crate::sys::clone3(0, into) {
        // ENOSYS: before 5.3 (clone3), E2BIG/EINVAL: before 5.7 (CLONE_INTO_CGROUP);
        // EPERM: a seccomp profile of the caller's. The child then joins it itself.
        Err(Errno::NOSYS | Errno::TOOBIG | Errno::INVAL | Errno::PERM) => {
            if let Some(slot) = cgroups.iter_mut().find(|c| c.is_none()) {
                *slot = unified.take();
            }
            clone_fork(0)
        }
        r => r,
    };
    let pid = match forked.map_err(|e| Error::sys("fork into container", a.id.to_bytes(), e))? {
        Forked::Child => {
            drop(err_rx);
            let raw: [RawFd; 7] = core::array::from_fn(|i| joins[i].as_ref().map_or(-1, |f| f.as_raw_fd()));
            let cg: [RawFd; store::MAX_CGROUPS] =
                core::array::from_fn(|i| cgroups[i].as_ref().map_or(-1, |f| f.as_raw_fd()));
            let console = console.as_ref().map(|c| c.as_raw_fd());
            let io = (console, p.console_size, a.preserve_fds);
            child(&err_tx, &cg, &raw, io, &p.cwd, apparmor, &conf, filter, &argv, &env, path)
        }
        Forked::Parent { pid, .. } => pid,
    };
    drop((err_tx, cgroups, unified));
    // The error pipe closes at execve; a record says which step failed.
    let mut r = [0u8; RECORD_LEN];
    if let Ok(RECORD_LEN) = read_full(&err_rx, &mut r) {
        let _ = rustix::process::waitpid(rustix::process::Pid::from_raw(pid), rustix::process::WaitOptions::empty());
        let (step, errno) = decode(&r);
        return Err(describe(step, errno, &conf, argv.iter().next().map_or(b"", |c| c.to_bytes()), apparmor));
    }
    if let Some(f) = a.pid_file {
        super::create::write_pid(rustix::fs::CWD, f, pid)?;
    }
    if a.detach {
        return Ok(0);
    }
    let pid = rustix::process::Pid::from_raw(pid);
    loop {
        match rustix::process::waitpid(pid, rustix::process::WaitOptions::empty()) {
            Ok(Some((_, st))) => return Ok(crate::supervise::exit_code(st)),
            Err(Errno::INTR) => continue,
            _ => return Ok(1),
        }
    }
}

/// The namespace `name` (`net`, `mnt`...) of process `pid`, its /proc file open.
pub(super) fn open_ns(pid: i32, name: &CStr) -> Result<OwnedFd> {
    let mut path: Buf<64> = Buf::from(b"/proc/");
    path.push_u64(pid as u64).push(b"/ns/").push(name.to_bytes());
    rustix::fs::open(path.as_cstr(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::sys("open the namespace", path.as_bytes(), e))
}

/// The container's seccomp program, from config.json in its bundle (`None`: it has no
/// profile), in a mapping of its own: the mapping and the program's length. Its own
/// function: the parsed config (42 KiB) and the compiler's scratch leave the stack here.
#[inline(never)]
fn container_filter(rec: &store::Record<'_>) -> Result<Option<(Mapping, usize)>> {
    let mut path: Buf<4200> = Buf::from(rec.bundle);
    path.push(b"/config.json");
    let mut doc = super::file::read_at(rustix::fs::CWD, path.as_cstr())?;
    let cfg = super::config::parse_mapped(doc.bytes(), "config.json")?;
    let s = &cfg.linux.seccomp;
    if !s.enabled {
        return Ok(None);
    }
    let room = super::seccomp::max_len(s);
    let mut map = Mapping::new(room * core::mem::size_of::<SockFilter>())
        .map_err(|e| Error::sys("map memory for", b"the seccomp filter", e))?;
    let out =
        split_filters(map.bytes(), room).ok_or_else(|| Error::sys("lay out", b"the seccomp filter", Errno::NOMEM))?.0;
    let n = super::seccomp::compile(s, out)?;
    Ok(Some((map, n)))
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn child(
    err: &OwnedFd,
    cgroups: &[RawFd; store::MAX_CGROUPS],
    joins: &[RawFd; 7],
    // The console socket and the terminal's size; how many descriptors from 3 pass on.
    (console, console_size, preserve): (Option<RawFd>, Option<(u16, u16)>, u32),
    cwd: &CStr,
    apparmor: &[u8],
    conf: &crate::confine::Confine,
    filter: &[SockFilter],
    argv: &crate::sys::args::PtrArray<'_>,
    env: &crate::sys::args::PtrArray<'_>,
    path: &[u8],
) -> ! {
    let at = |s: u8| move |e: Errno| (s, e);
    let run = || -> core::result::Result<Errno, (u8, Errno)> {
        // Into the cgroups first: only then anything of the container's. A v1 one by a
        // thread's self-move (cgroup::v1::join_self: no RCU grace period to wait for); a
        // v2 one, which has no `tasks`, through cgroup.procs.
        for &fd in cgroups.iter().filter(|&&fd| fd >= 0) {
            // SAFETY: opened by the parent before the fork; borrowed for the call only.
            #[allow(unsafe_code)]
            let dir = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
            match crate::cgroup::v1::join_self(dir) {
                Err(Errno::NOENT) => crate::cgroup::fs::write(dir, c"cgroup.procs", b"0"),
                r => r,
            }
            .map_err(at(STEP_CGROUP))?;
        }
        for &fd in joins.iter().filter(|&&fd| fd >= 0) {
            // SAFETY: opened by the parent before the fork; borrowed for the call only.
            #[allow(unsafe_code)]
            let ns = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
            rustix::thread::move_into_link_name_space(ns, None).map_err(at(STEP_JOIN))?;
        }
        if let Some(sock) = console {
            super::console::attach(sock, console_size).map_err(at(STEP_CONSOLE))?;
        }
        crate::fds::close_all_but(3 + preserve, &[err.as_raw_fd()]).map_err(at(STEP_JOIN))?;
        rustix::process::chdir(cwd).map_err(at(STEP_CWD))?;
        if !crate::fds::workdir_inside_root() {
            return Err((STEP_CWD, Errno::XDEV));
        }
        // In the container's /proc (its mount namespace is joined): at the execve below.
        if !apparmor.is_empty() {
            super::lsm::set_exec(apparmor).map_err(at(STEP_APPARMOR))?;
        }
        crate::confine::apply(conf, filter)?;
        crate::trampoline::restore_signals().map_err(at(STEP_EXEC))?;
        let cmd = argv.iter().next().ok_or((STEP_EXEC, Errno::INVAL))?;
        Ok(crate::exec::exec(cmd, path, argv, env))
    };
    match run() {
        Ok(e) => fail(err, STEP_EXEC, e),
        Err((s, e)) => fail(err, s, e),
    }
}

fn describe(step: u8, errno: Errno, conf: &crate::confine::Confine, cmd: &[u8], apparmor: &[u8]) -> Error {
    if let Some(e) = crate::confine::describe(step, errno, conf) {
        return e;
    }
    match step {
        STEP_JOIN => Error::sys("join the container's namespaces", b"", errno),
        STEP_CWD => Error::sys("change to working directory", b"", errno),
        STEP_CGROUP => Error::sys("move the process into", b"the container's cgroups", errno),
        STEP_CONSOLE => Error::sys("set up the terminal", b"/dev/ptmx", errno),
        STEP_APPARMOR => Error::sys("apply the AppArmor profile", apparmor.get(5..).unwrap_or(b""), errno),
        _ => Error::sys("execute", cmd, errno),
    }
}
