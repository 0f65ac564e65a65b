//! The commands on a created container, from its state alone: `start`, `state`,
//! `kill`, `delete`, `ps`. Each opens the container's state directory (locked while it
//! changes anything), reads the record `create` wrote, and tells the container's status
//! from it: `stopped` once the init's pid no longer names a live process that started
//! when the record says (pids are reused), `created` while the exec fifo is there (the
//! init waits on it), `running` otherwise.

use core::ffi::CStr;

use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;

use super::config::HookKind;
use super::store::{self, Entry, Record};
use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{push_shown, Error, Result};

fn status(entry: &Entry, rec: &Record<'_>) -> &'static str {
    match (store::alive(rec), entry.waiting()) {
        (false, _) => "stopped",
        (true, true) => "created",
        (true, false) if super::freezer::frozen(rec) => "paused",
        (true, false) => "running",
    }
}

/// `pause ID` / `resume ID`: freezes or thaws a running (or paused) container.
// Not inlined into the command dispatch, whose frame every command's stack starts with.
#[inline(never)]
pub fn pause(root: &CStr, id: &CStr, frozen: bool) -> Result<()> {
    let entry = Entry::open(root, id, true)?;
    let rec = read(&entry, id)?;
    let want = if frozen { "running" } else { "paused" };
    let status = status(&entry, &rec);
    if status != want {
        let mut e = Error::usage(if frozen { b"cannot pause container \"" } else { b"cannot resume container \"" });
        push_shown(&mut e.msg, id.to_bytes());
        e.msg.push(b"\": it is ").push(status.as_bytes()).push(b", not ").push(want.as_bytes());
        return Err(e);
    }
    super::freezer::set(&rec, id, frozen)
}

/// The container's state record, read into [`store::room`].
fn read(entry: &Entry, id: &CStr) -> Result<Record<'static>> {
    entry.read(store::room()).map_err(|e| Error::sys("read the state of", id.to_bytes(), e))
}

fn not_running(id: &CStr, what: &[u8]) -> Error {
    let mut e = Error::usage(what);
    e.msg.push(b" \"");
    push_shown(&mut e.msg, id.to_bytes());
    e.msg.push(b"\": container not running");
    e
}

/// `start ID`: lets the waiting init go on to execve.
#[inline(never)]
pub fn start(root: &CStr, id: &CStr) -> Result<()> {
    let entry = Entry::open(root, id, true)?;
    let rec = read(&entry, id)?;
    if !entry.waiting() {
        let mut e = Error::usage(b"cannot start container \"");
        push_shown(&mut e.msg, id.to_bytes());
        e.msg.push(b"\": it was started already (");
        e.msg.push(status(&entry, &rec).as_bytes()).push(b")");
        return Err(e);
    }
    // Non-blocking: with no reader (the init died) the open fails with ENXIO at once.
    let fifo =
        rustix::fs::openat(&entry.dir, store::FIFO, OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty());
    let fifo = match fifo {
        Ok(f) if store::alive(&rec) => f,
        Ok(_) | Err(Errno::NXIO) => return Err(not_running(id, b"cannot start container")),
        Err(e) => return Err(Error::sys("open the exec fifo of", id.to_bytes(), e)),
    };
    // In the container's namespaces, before the program is released; a failure stops it.
    if let Err(e) = saved_hooks(&entry, &rec, id, HookKind::StartContainer, "created") {
        sigkill(rec.pid);
        return Err(e);
    }
    // Unlinked first: once the init runs, the container is `running`, never `created`.
    rustix::fs::unlinkat(&entry.dir, store::FIFO, AtFlags::empty())
        .map_err(|e| Error::sys("remove the exec fifo of", id.to_bytes(), e))?;
    crate::fdio::write_all(&fifo, b"0").map_err(|e| Error::sys("start", id.to_bytes(), e))?;
    if let Err(e) = saved_hooks(&entry, &rec, id, HookKind::Poststart, "running") {
        super::hooks::warn(e);
    }
    Ok(())
}

/// The `startContainer`, `poststart` or `poststop` hooks of the config.json `create`
/// kept (none kept: none to run), with the container's state as `status` says.
#[inline(never)]
fn saved_hooks(entry: &Entry, rec: &Record<'_>, id: &CStr, kind: HookKind, status: &str) -> Result<()> {
    let Ok(mut doc) = super::file::read_at(entry.dir.as_fd(), store::CONFIG) else { return Ok(()) };
    let cfg = super::config::parse_mapped(doc.bytes(), "config.json")?;
    let mut notes = None;
    let s = state_of(entry, rec, id, status, &mut notes);
    let place = match kind {
        HookKind::StartContainer => super::hooks::Place::Container,
        _ => super::hooks::Place::Runtime,
    };
    super::hooks::run_at(&cfg.hooks, kind, &s, place)
}

/// The container's state as `state` shows it, with `status`; `notes` holds the
/// annotations file it borrows (read here).
fn state_of<'b>(
    entry: &Entry,
    rec: &Record<'b>,
    id: &'b CStr,
    status: &'b str,
    notes: &'b mut Option<super::file::Doc>,
) -> super::emit::State<'b> {
    *notes = super::file::read_at(entry.dir.as_fd(), store::ANNOTATIONS).ok();
    super::emit::State {
        id: id.to_bytes(),
        status,
        pid: if status == "stopped" { 0 } else { rec.pid },
        bundle: rec.bundle,
        rootfs: rec.rootfs,
        created: (rec.created as i64, 0),
        annotations: notes.as_mut().map_or(&b""[..], |d| d.bytes()),
    }
}

/// `state ID`: the runtime spec's state JSON on stdout.
#[inline(never)]
pub fn state(root: &CStr, id: &CStr) -> Result<()> {
    let entry = Entry::open(root, id, false)?;
    let rec = read(&entry, id)?;
    let mut notes = None;
    let s = state_of(&entry, &rec, id, status(&entry, &rec), &mut notes);
    let mut out = crate::sys::Mapping::new(super::emit::state_room(&s))
        .map_err(|e| Error::sys("map memory for the state of", id.to_bytes(), e))?;
    let mut o = super::emit::Out::new(out.bytes());
    super::emit::state(&s, &mut o);
    o.raw(b"\n");
    crate::out::print(o.done().unwrap_or(b""));
    Ok(())
}

/// Signal names, numbered from 1 (`kill ID TERM`, `SIGTERM` or `15`).
const SIGNALS: &str = "HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP \
TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS";

pub fn parse_signal(s: &[u8]) -> Result<u32> {
    let n = match crate::limits::parse_uint(s) {
        Some(n) => Some(n),
        None => {
            let name = s.strip_prefix(b"SIG").unwrap_or(s);
            let mut up: Buf<16> = Buf::new();
            for &c in name {
                up.push(&[c.to_ascii_uppercase()]);
            }
            crate::words::position(SIGNALS, up.as_bytes()).map(|i| i as u64 + 1)
        }
    };
    match n {
        Some(n @ 1..=64) => Ok(n as u32),
        _ => Err(crate::limits::bad_value(b"kill", s, "is not a signal (a number, or a name like TERM or SIGKILL)")),
    }
}

/// `kill [--all] ID SIGNAL`: the init, or with `--all` every process of its cgroup.
#[inline(never)]
pub fn kill(root: &CStr, id: &CStr, signo: u32, all: bool) -> Result<()> {
    let entry = Entry::open(root, id, false)?;
    let rec = read(&entry, id)?;
    if all {
        let mut any = false;
        each_pid(&rec, &mut |pid| {
            any |= crate::sys::signal::kill(pid, signo).is_ok();
        });
        if any || !store::alive(&rec) {
            return Ok(());
        }
    }
    // A pidfd, then the start time again: the signal reaches this init and never a
    // process that got its pid since.
    let fd = pidfd(rec.pid).filter(|_| store::alive(&rec));
    match fd {
        Some(fd) => crate::sys::signal::pidfd_kill(&fd, signo).map_err(|e| match e {
            Errno::SRCH => not_running(id, b"cannot signal container"),
            e => Error::sys("signal the init of", id.to_bytes(), e),
        }),
        None => Err(not_running(id, b"cannot signal container")),
    }
}

/// SIGKILL to the init `pid`, through a pidfd (nothing if it is already gone).
fn sigkill(pid: i32) {
    if let Some(fd) = pidfd(pid) {
        let _ = crate::sys::signal::pidfd_kill(&fd, linux_raw_sys::general::SIGKILL);
    }
}

pub(super) fn pidfd(pid: i32) -> Option<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(pid)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// Every pid in the container's first cgroup and the cgroups below it (every hierarchy
/// holds the same processes; a container's own sub-cgroups hold some of them).
fn each_pid(rec: &Record<'_>, f: &mut dyn FnMut(i32)) {
    let Some(dir) = rec.cgroups[..rec.n_cgroups].first() else { return };
    if let Ok(d) = fs::open_path(dir) {
        fs::each_pid_below(d.as_fd(), 0, &mut |p| f(p.as_raw_nonzero().get()));
    }
}

/// `ps --format json ID`: the container's host pids as a JSON array (`table`: one per
/// line under a `PID` heading).
#[inline(never)]
pub fn ps(root: &CStr, id: &CStr, json: bool) -> Result<()> {
    let entry = Entry::open(root, id, false)?;
    let rec = read(&entry, id)?;
    let mut out: Buf<4096> = Buf::from(if json { b"[" } else { b"PID\n" });
    let mut first = true;
    each_pid(&rec, &mut |pid| {
        if json && !first {
            out.push(b",");
        }
        first = false;
        out.push_u64(pid as u64);
        if !json {
            out.push(b"\n");
        }
    });
    if json {
        out.push(b"]\n");
    }
    crate::out::print(out.as_bytes());
    Ok(())
}

/// `delete [--force] ID`: a stopped or created container (a created one's init is
/// killed, as runc does), or with `--force` a running one too; then its cgroups and
/// state are removed.
#[inline(never)]
pub fn delete(root: &CStr, id: &CStr, force: bool) -> Result<()> {
    let entry = Entry::open(root, id, true)?;
    // A record that cannot be read is a create that died half-way: nothing to stop.
    if let Ok(rec) = entry.read(store::room()) {
        let status = status(&entry, &rec);
        if (status == "running" || status == "paused") && !force {
            let mut e = Error::usage(b"cannot delete container \"");
            push_shown(&mut e.msg, id.to_bytes());
            e.msg.push(b"\" that is not stopped: ").push(status.as_bytes()).push(b" (use --force)");
            return Err(e);
        }
        destroy(&rec, status == "stopped");
        if let Err(e) = saved_hooks(&entry, &rec, id, HookKind::Poststop, "stopped") {
            super::hooks::warn(e);
        }
    }
    entry.remove(root, id).map_err(|e| Error::sys("remove the state of", id.to_bytes(), e))
}

/// Kills what is left of the container and removes its cgroups, with the parents
/// tinyctr made for them (they carry its mark) once empty. `stopped`: the caller has
/// just seen the init dead, which it stays (its pid, if reused, has another start
/// time), so /proc need not be asked again.
#[inline(never)]
pub fn destroy(rec: &Record<'_>, stopped: bool) {
    let alive = !stopped && store::alive(rec);
    // Stopped: every process of a container with its own PID namespace died with its
    // init, so its cgroups are empty and each goes at its first rmdir. Only when one is
    // still in use (no PID namespace of its own) is the rest done the long way.
    let cgroups = &rec.cgroups[..rec.n_cgroups];
    if !alive && cgroups.iter().all(|dir| remove_cgroup(dir, fs::Removal::IfEmpty)) {
        return;
    }
    // A frozen task dies of SIGKILL only once thawed (v1).
    let _ = super::freezer::set(rec, c"", false);
    if alive {
        sigkill(rec.pid);
    }
    for dir in cgroups {
        remove_cgroup(dir, fs::Removal::Kill);
    }
}

/// Removes each cgroup of `dirs` (one path per line) as [`destroy`] does.
pub fn remove_cgroups(dirs: &[u8]) {
    for dir in dirs.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        remove_cgroup(dir, fs::Removal::Kill);
    }
}

/// Removes the cgroup `dir` (with `Removal::Kill` after killing what is left in it;
/// with `Removal::IfEmpty` only if nothing is), then the parents tinyctr made for it;
/// whether it is gone.
fn remove_cgroup(dir: &[u8], how: fs::Removal) -> bool {
    let Some(slash) = dir.iter().rposition(|&c| c == b'/') else { return true };
    let mut name: Buf<256> = Buf::from(&dir[slash + 1..]);
    let Ok(parent) = fs::open_path(&dir[..slash]) else { return how == fs::Removal::Kill };
    // A stopped container's own cgroup first goes by a plain rmdir: no other run's lock
    // can be on it, so the one a sweep's removal takes (fs::remove_tree) is not needed.
    let plain = how == fs::Removal::IfEmpty
        && rustix::fs::unlinkat(parent.as_fd(), name.as_cstr(), rustix::fs::AtFlags::REMOVEDIR).is_ok();
    let gone = plain || fs::remove_tree(parent.as_fd(), name.as_cstr(), false, 0, how).is_ok();
    // Then the parents tinyctr made for it: they carry its mark (the hierarchy's root
    // never does), asked of the directory open already (usually the answer is no).
    if gone && fs::marked(parent.as_fd()) {
        drop(parent);
        let mut path: Buf<4096> = Buf::from(&dir[..slash]);
        fs::remove_made_parents(&mut path, 0, 0, false);
    }
    gone
}

/// `update --resources FILE ID` (`-`: stdin, as the shim passes it): new memory, cpu and
/// pids limits, written to the container's cgroups as `create` writes them.
// Not inlined into the command dispatch, whose frame every command's stack starts with.
#[inline(never)]
pub fn update(root: &CStr, id: &CStr, resources: &CStr) -> Result<()> {
    use crate::cgroup::layout::{ctl_mask, Ctl, Version};
    let entry = Entry::open(root, id, true)?;
    let rec = read(&entry, id)?;
    if !store::alive(&rec) {
        return Err(not_running(id, b"cannot update container"));
    }
    let mut doc = match resources.to_bytes() {
        b"-" => super::file::read_fd(crate::sys::std_fd(0), b"the resources on stdin")?,
        _ => super::file::read_at(CWD, resources)?,
    };
    let r = super::linux::parse_resources(doc.bytes(), "resources")?;
    let mut limits = crate::limits::Limits::default();
    super::create::resources(&mut limits, &r, "resources: ")?;
    // Each cgroup's version and controllers, first: a limit none of them can take is
    // refused before anything changes, never dropped in silence.
    let mut found: [Option<(OwnedFd, Version, u8)>; store::MAX_CGROUPS] = Default::default();
    let mut have = 0;
    for (dir, slot) in rec.cgroups[..rec.n_cgroups].iter().zip(found.iter_mut()) {
        let Ok(fd) = fs::open_path(dir) else { continue };
        let mut text = [0u8; 256];
        let (version, ctls) = match fs::read(fd.as_fd(), c"cgroup.controllers", &mut text) {
            Ok(list) => (Version::V2, ctl_mask(list)),
            Err(_) => {
                let mut ctls = 0;
                for (file, c) in [
                    (c"memory.limit_in_bytes", Ctl::Memory),
                    (c"cpu.shares", Ctl::Cpu),
                    (c"pids.max", Ctl::Pids),
                    (c"cpuset.cpus", Ctl::Cpuset),
                ] {
                    if fs::exists(fd.as_fd(), file) {
                        ctls |= c.bit();
                    }
                }
                (Version::V1, ctls)
            }
        };
        have |= ctls;
        *slot = Some((fd, version, ctls));
    }
    let missing = crate::cgroup::needed(&limits) & !have;
    if let Some(c) = crate::cgroup::layout::CTLS.iter().find(|c| missing & c.bit() != 0) {
        let mut e = Error::usage(b"cannot update container \"");
        push_shown(&mut e.msg, id.to_bytes());
        e.msg.push(b"\": it has no ").push(c.name().as_bytes());
        e.msg.push(b" cgroup to change (this host has no hierarchy of that controller, or its kernel would not enable it there); nothing was changed");
        return Err(e);
    }
    // The huge page limits: in the cgroup that has hugetlb's files.
    let pages = &r.hugepages[..];
    let hugetlb = found.iter().zip(&rec.cgroups[..rec.n_cgroups]).find_map(|(slot, dir)| {
        let (fd, _, _) = slot.as_ref()?;
        Some((fd.as_fd(), *dir, super::hugetlb::kind(fd.as_fd(), pages)?))
    });
    if hugetlb.is_none() && !pages.is_empty() {
        let mut e = Error::usage(b"cannot update container \"");
        push_shown(&mut e.msg, id.to_bytes());
        e.msg.push(b"\": it has no hugetlb cgroup with that page size to change (create had no huge page limits, or the kernel has no such size); nothing was changed");
        return Err(e);
    }
    // `unified`: into the v2 cgroup.
    let v2 = found.iter().zip(&rec.cgroups[..rec.n_cgroups]).find_map(|(slot, dir)| match slot {
        Some((fd, Version::V2, _)) => Some((fd.as_fd(), *dir)),
        _ => None,
    });
    if v2.is_none() && !r.unified.is_empty() {
        let mut e = Error::usage(b"cannot update container \"");
        push_shown(&mut e.msg, id.to_bytes());
        e.msg.push(b"\": unified needs a cgroup v2 cgroup, and it has none; nothing was changed");
        return Err(e);
    }
    // Those `run` has no option for, after every refusal above: refused before anything
    // is written when the container has no cgroup for one (they touch no limit below).
    super::controls::write(&rec.cgroups[..rec.n_cgroups], &r.controls, "resources: ")?;
    super::controls::write_mems(&rec.cgroups[..rec.n_cgroups], r.cpu.mems.get().to_bytes(), "resources: ")?;
    super::controls::write_throttles(&rec.cgroups[..rec.n_cgroups], &r.throttles, "resources: ")?;
    for (dir, slot) in rec.cgroups[..rec.n_cgroups].iter().zip(found.iter()) {
        let slash = dir.iter().rposition(|&c| c == b'/').unwrap_or(0);
        let (Some((fd, version, ctls)), Ok(parent)) = (slot, fs::open_path(&dir[..slash])) else { continue };
        let t = crate::cgroup::Target { fd: fd.as_fd(), path: dir, parent: parent.as_fd() };
        crate::cgroup::knobs::write_limits(&t, *version, *ctls, false, &limits)?;
    }
    if let Some((fd, dir, v1)) = hugetlb {
        super::hugetlb::write_kind(fd, dir, pages, v1)?;
    }
    if let Some((fd, dir)) = v2 {
        super::unified::write_at(fd, dir, &r.unified)?;
    }
    Ok(())
}
