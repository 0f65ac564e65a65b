//! config.json's `hooks`. In the runtime's own namespaces: `prestart` and
//! `createRuntime` (by `create`, once the container's namespaces exist and before its
//! init enters the root, so a hook can still mount into the rootfs directory: the init's
//! recursive copy of it takes those mounts along), `poststart` (by `start`, once the
//! program is released) and `poststop` (by `delete`, once the container is gone).
//!
//! Each hook is `path` executed with `args` as its argv (just `path` when there are
//! none) and `env` as its whole environment, the container's state JSON on stdin, its
//! stdout and stderr captured (the start of them goes into the error of a failed hook:
//! create's own stdio is the container's, which a hook must not write to), no other
//! descriptor of tinyctr's, and `timeout` seconds before it is killed. A failed
//! `prestart` or `createRuntime` hook fails `create` (which then removes everything, as
//! the spec says); a failed `poststart` or `poststop` hook is a warning in `--log`, and
//! the lifecycle goes on.
//!
//! `createContainer` (by `create`, after `createRuntime`, before the root switch) and
//! `startContainer` (by `start`, before the program is released) run in the container's
//! namespaces: the hook's process joins every namespace of the init (mount last) and
//! forks once more, so that the hook itself is in the container's PID namespace too.
//! A `createContainer` path resolves on the host (it is opened before joining), a
//! `startContainer` one in the container, as the spec says. Either failing fails its
//! command; `start` then kills the init.

use core::ffi::CStr;

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::pipe::{pipe_with, PipeFlags};

use super::config::{Hook, HookKind, Hooks};
use super::emit::{Out, State};
use crate::buf::Buf;
use crate::error::{push_shown, Error, Result};
use crate::sys::args::PtrArray;
use crate::sys::{clone_fork, Forked, Mapping};

/// Where a hook runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// tinyctr's own namespaces.
    Runtime,
    /// The namespaces of the container's init (its pid in the state), the path resolved
    /// before (`Host`) or after (`Container`) joining them.
    Host,
    Container,
}

/// Runs the hooks of `kind` in order, each with `state` on stdin; the first that fails
/// ends the list with its error.
pub fn run(hooks: &Hooks<'_>, kind: HookKind, state: &State<'_>) -> Result<()> {
    run_at(hooks, kind, state, Place::Runtime)
}

/// [`run`], the hooks running at `place`.
#[inline(never)]
pub fn run_at(hooks: &Hooks<'_>, kind: HookKind, state: &State<'_>, place: Place) -> Result<()> {
    let hooks = hooks.get(kind);
    if hooks.is_empty() {
        return Ok(());
    }
    let mut map = Mapping::new(super::emit::state_room(state))
        .map_err(|e| Error::sys("map memory for the state of", state.id, e))?;
    let mut o = Out::new(map.bytes());
    super::emit::state(state, &mut o);
    let json = o.done().unwrap_or(b"");
    let name = super::names::words(super::names::HOOKS).nth(kind as usize).unwrap_or(b"");
    for (i, h) in hooks.iter().enumerate() {
        one(h, json, place, state.pid).map_err(|mut e| {
            let mut m: Buf<1024> = Buf::from(b"hooks.");
            m.push(name).push(b"[").push_u64(i as u64).push(b"] ");
            m.push(e.msg.as_bytes());
            e.msg.clear();
            e.msg.push(m.as_bytes());
            e
        })?;
    }
    Ok(())
}

/// A failed `poststart` or `poststop` hook: a warning, in `--log` and on stderr.
pub fn warn(mut e: Error) {
    e.msg.push(b" (a warning: the lifecycle goes on)");
    crate::out::warn(&e);
}

fn one(h: &Hook<'_>, state: &[u8], place: Place, init: i32) -> Result<()> {
    let path = h.path.get();
    let shown = |what: &[u8]| {
        let mut e = Error::usage(b"\"");
        push_shown(&mut e.msg, path.to_bytes());
        e.msg.push(b"\" ").push(what);
        e
    };
    // argv and envp, pointer arrays in a mapping of their own (no allocator).
    let n_args = h.args.len().max(1);
    let mut ptrs = Mapping::new((n_args + 1 + h.env.len() + 1) * core::mem::size_of::<usize>())
        .map_err(|e| Error::sys("map memory for the hook", path.to_bytes(), e))?;
    let (argv_slots, rest) = crate::sys::args::split_slots(ptrs.bytes(), n_args + 1)
        .ok_or_else(|| Error::sys("lay out the hook", path.to_bytes(), Errno::NOMEM))?;
    let (env_slots, _) = crate::sys::args::split_slots(rest, h.env.len() + 1)
        .ok_or_else(|| Error::sys("lay out the hook", path.to_bytes(), Errno::NOMEM))?;
    let mut argv = PtrArray::new(argv_slots);
    if h.args.is_empty() {
        argv.push(path);
    }
    for a in h.args.iter() {
        argv.push(a);
    }
    let mut env = PtrArray::new(env_slots);
    for v in h.env.iter() {
        env.push(v);
    }

    let pipe = |f| pipe_with(f).map_err(|e| Error::sys("create a pipe for the hook", path.to_bytes(), e));
    let (in_rx, in_tx) = pipe(PipeFlags::CLOEXEC)?;
    let (out_rx, out_tx) = pipe(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
    // The whole state goes into the pipe before the hook starts: a hook that never reads
    // it cannot block us. Beyond the default 64 KiB (big annotations), a bigger pipe.
    if state.len() > 65536 {
        let _ = rustix::pipe::fcntl_setpipe_size(&in_tx, state.len());
    }
    crate::fdio::write_all(&in_tx, state).map_err(|e| Error::sys("pass the state to the hook", path.to_bytes(), e))?;
    drop(in_tx);
    // Inside the container: the init's namespace files, opened now (its /proc entry is
    // not there once the mount namespace is joined), and a host path opened before too.
    let mut ns: [Option<OwnedFd>; 6] = Default::default();
    let mut exe: Option<OwnedFd> = None;
    if place != Place::Runtime {
        for (slot, name) in ns.iter_mut().zip(NAMESPACES) {
            *slot = Some(super::exec::open_ns(init, name)?);
        }
        if place == Place::Host {
            let fd = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| Error::sys("open the hook", path.to_bytes(), e))?;
            exe = Some(fd);
        }
    }
    let pid = match clone_fork(0).map_err(|e| Error::sys("start the hook", path.to_bytes(), e))? {
        Forked::Child => child(&in_rx, &out_tx, path, exe.as_ref(), &ns, &argv, &env),
        Forked::Parent { pid, .. } => pid,
    };
    drop((ns, exe));
    drop((in_rx, out_tx));
    let mut out = [0u8; 160];
    let (status, n) = wait(pid, &out_rx, h.timeout, &mut out);
    let output = |mut e: Error| {
        let text = out[..n].split(|&c| c == b'\n').find(|l| !l.is_empty()).unwrap_or(b"");
        if !text.is_empty() {
            e.msg.push(b": ");
            push_shown(&mut e.msg, text);
        }
        e
    };
    match status {
        Some(0) => Ok(()),
        Some(127) if n == 0 => Err(shown(b"could not be executed (status 127)")),
        Some(code) if code < 128 => {
            let mut e = shown(b"failed with status ");
            e.msg.push_u64(code as u64);
            Err(output(e))
        }
        Some(code) => {
            let mut e = shown(b"was killed by signal ");
            e.msg.push_u64((code - 128) as u64);
            Err(output(e))
        }
        None => {
            let mut e = shown(b"did not finish within its timeout of ");
            e.msg.push_u64(h.timeout.unwrap_or(0) as u64).push(b" s (killed)");
            Err(output(e))
        }
    }
}

/// The namespaces a hook inside the container joins, in this order (mount last: the
/// others' files are opened before, and its own root changes with it).
const NAMESPACES: [&CStr; 6] = [c"ipc", c"uts", c"net", c"cgroup", c"pid", c"mnt"];

/// The hook's process: stdin from `rx`, stdout and stderr into `tx`, nothing else open,
/// no signal blocked or caught; with `ns`, in the init's namespaces (and forked once
/// more, into its PID namespace); `exe`, the hook opened beforehand. Never returns.
fn child(
    rx: &OwnedFd,
    tx: &OwnedFd,
    path: &CStr,
    exe: Option<&OwnedFd>,
    ns: &[Option<OwnedFd>; 6],
    argv: &PtrArray<'_>,
    env: &PtrArray<'_>,
) -> ! {
    let mut ok = rustix::stdio::dup2_stdin(rx).is_ok()
        && rustix::stdio::dup2_stdout(tx).is_ok()
        && rustix::stdio::dup2_stderr(tx).is_ok();
    let keep: [RawFd; 7] = core::array::from_fn(|i| match i {
        0 => exe.map_or(-1, |f| f.as_raw_fd()),
        i => ns[i - 1].as_ref().map_or(-1, |f| f.as_raw_fd()),
    });
    ok = ok && crate::fds::close_all_but(3, &keep).is_ok() && crate::trampoline::restore_signals().is_ok();
    if ok && ns[0].is_some() {
        for fd in ns.iter().flatten() {
            ok = ok && rustix::thread::move_into_link_name_space(fd.as_fd(), None).is_ok();
        }
        // setns of a PID namespace places only the children there.
        ok = ok
            && match clone_fork(0) {
                Ok(Forked::Child) => true,
                Ok(Forked::Parent { pid, .. }) => crate::sys::exit(reap(pid).unwrap_or(127) as i32),
                Err(_) => false,
            };
    }
    if ok {
        let _ = match exe {
            Some(fd) => crate::sys::execveat_empty(
                fd.as_fd(),
                crate::sys::args::CArgs::from_array(argv),
                crate::sys::args::CArgs::from_array(env),
            ),
            None => crate::sys::args::execve(path, argv, env),
        };
    }
    crate::sys::exit(127)
}

/// Waits for the hook `pid`, reading its output into `out` meanwhile (the rest is
/// drained and dropped); at the timeout, kills it. Returns its status (128+N for a
/// signal; `None`: timed out) and the bytes kept.
fn wait(pid: i32, out_rx: &OwnedFd, timeout: Option<u32>, out: &mut [u8]) -> (Option<u8>, usize) {
    let deadline = timeout.map(|t| crate::sys::clock::realtime().0 + t as i64);
    let mut n = 0;
    let mut open = true;
    let pidfd = super::lifecycle::pidfd(pid);
    loop {
        let left = deadline.map(|d| d - crate::sys::clock::realtime().0);
        if left.is_some_and(|l| l < 0) {
            let _ = crate::sys::signal::kill(pid, linux_raw_sys::general::SIGKILL);
            let _ = reap(pid);
            return (None, n);
        }
        // A second at a time (the deadline is in whole seconds); its last one in tenths.
        let ts = left.map(|l| match l {
            0 => rustix::event::Timespec { tv_sec: 0, tv_nsec: 100_000_000 },
            l => rustix::event::Timespec { tv_sec: l.min(1), tv_nsec: 0 },
        });
        let mut fds = [
            PollFd::new(out_rx, if open { PollFlags::IN } else { PollFlags::empty() }),
            PollFd::from_borrowed_fd(pidfd.as_ref().map_or(out_rx.as_fd(), |p| p.as_fd()), PollFlags::IN),
        ];
        let nfds = if pidfd.is_some() { 2 } else { 1 };
        match poll(&mut fds[..nfds], ts.as_ref()) {
            Err(Errno::INTR) => continue,
            Err(_) => return (reap(pid), n),
            Ok(_) => {}
        }
        let (out_ready, done) = (fds[0].revents(), nfds == 2 && !fds[1].revents().is_empty());
        if open && !out_ready.is_empty() {
            let mut chunk = [0u8; 512];
            match rustix::io::read(out_rx, &mut chunk) {
                Ok(0) | Err(Errno::BADF) => open = false,
                Ok(k) => {
                    let take = k.min(out.len() - n);
                    out[n..n + take].copy_from_slice(&chunk[..take]);
                    n += take;
                }
                Err(_) => {}
            }
        }
        // Without a pidfd (a kernel before 5.3), the output's end is the sign.
        if done || (pidfd.is_none() && !open) {
            return (reap(pid), n);
        }
    }
}

fn reap(pid: i32) -> Option<u8> {
    let pid = rustix::process::Pid::from_raw(pid)?;
    loop {
        match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty()) {
            Ok(Some((_, st))) => return Some(crate::supervise::exit_code(st)),
            Err(Errno::INTR) => continue,
            _ => return Some(crate::error::EXIT_SETUP),
        }
    }
}
