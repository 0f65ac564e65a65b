//! Control files and cgroup directories through descriptors: one-shot writes and small
//! reads, mkdir with a lock, killing what is inside, and removal with a bounded retry.
//!
//! Locking (flock(2) on the cgroup's own directory, held while the container runs) is
//! how a live container's cgroup is told from one a SIGKILLed tinyctr left behind: the
//! kernel drops the lock when the holder dies. The parent directory is locked too, but
//! only around "mkdir ours, lock ours" and around a sweep of stale siblings, so a sweep
//! never sees a cgroup between its mkdir and its lock. No other file is ever written
//! outside the cgroups tinyctr created.
//!
//! A sweep kills nothing: a dead run's container died with it (PDEATHSIG kills its init,
//! and the kernel then every process of its PID namespace), so its cgroup is empty or
//! about to be. One that still holds processes was filled by someone else, and is left
//! alone: the kernel refuses to remove it.

use super::layout::PATH;
use crate::buf::Buf;
use crate::error::{push_errno, Error};
use core::ffi::CStr;
use core::mem::MaybeUninit;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FlockOperation, Mode, OFlags, RawDir, CWD};
use rustix::io::Errno;

/// Every cgroup tinyctr creates is called `tinyctr-<name>`; stale ones are found by it.
pub const PREFIX: &[u8] = b"tinyctr-";

/// Opens a directory for use as a `*at` base (and as a CLONE_INTO_CGROUP target).
pub fn open_dir(base: BorrowedFd<'_>, path: &CStr) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(base, path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
}

/// [`open_dir`] of an absolute path given as bytes (a cgroup the state recorded).
pub fn open_path(path: &[u8]) -> Result<OwnedFd, Errno> {
    let mut p: Buf<4096> = Buf::from(path);
    if p.overflowed() {
        return Err(Errno::NAMETOOLONG);
    }
    open_dir(CWD, p.as_cstr())
}

/// Calls `f` with each pid in the cgroup at `dir` (`cgroup.procs`): positive ones only,
/// never ourselves (a kill(-1) or kill(0) would hit far more).
pub fn each_pid(dir: BorrowedFd<'_>, f: &mut dyn FnMut(rustix::process::Pid)) {
    let Ok(fd) = rustix::fs::openat(dir, c"cgroup.procs", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()) else {
        return;
    };
    let me = rustix::process::getpid();
    let mut buf = [0u8; 256];
    let mut lines = crate::mountinfo::Lines::new(crate::mountinfo::FdSource(fd), &mut buf);
    while let Ok(Some(line)) = lines.next_line() {
        let pid = crate::limits::parse_uint(line).and_then(|p| i32::try_from(p).ok());
        if let Some(p) = pid.and_then(rustix::process::Pid::from_raw).filter(|&p| p != me) {
            f(p);
        }
    }
}

/// Removes the parents of a removed cgroup that tinyctr made: `path` is the first of
/// them, and it goes up while the directory is one this run `made` (its count of trailing
/// components) or carries tinyctr's mark, staying below its first `floor` bytes (the
/// mount point). Each is locked while it goes, as a run that makes its cgroup below
/// holds it locked, so the two never cross; the first one refused (in use, or not
/// tinyctr's) ends it.
pub fn remove_made_parents<const N: usize>(path: &mut Buf<N>, floor: usize, mut made: u8, fake: bool) {
    while path.len() > floor && !path.overflowed() {
        let Ok(p) = open_dir(CWD, path.as_cstr()) else { break };
        if made == 0 && !marked(p.as_fd()) {
            break;
        }
        made = made.saturating_sub(1);
        if lock(p.as_fd(), true).is_err() {
            break;
        }
        #[cfg(test)]
        if fake {
            fake_unpopulate(p.as_fd());
        }
        let _ = fake;
        if rustix::fs::unlinkat(CWD, path.as_cstr(), AtFlags::REMOVEDIR).is_err() {
            break;
        }
        let up = path.as_bytes().iter().rposition(|&b| b == b'/').unwrap_or(0);
        path.truncate(up);
    }
}

/// Writes `value` to control file `name` in one write(2), as cgroupfs requires.
pub fn write(dir: BorrowedFd<'_>, name: &CStr, value: &[u8]) -> Result<(), Errno> {
    let fd = rustix::fs::openat(dir, name, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty())?;
    loop {
        match rustix::io::write(&fd, value) {
            Err(Errno::INTR) => continue,
            Ok(n) if n == value.len() => return Ok(()),
            Ok(_) => return Err(Errno::IO),
            Err(e) => return Err(e),
        }
    }
}

/// Reads the start of control file `name` into `buf`, trailing whitespace removed.
/// One read(2): a control file is produced whole by one call into the kernel (a
/// seq_file), so asking again only to see the end of the file would be a wasted call.
pub fn read<'b>(dir: BorrowedFd<'_>, name: &CStr, buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let n = loop {
        match rustix::io::read(&fd, &mut *buf) {
            Err(Errno::INTR) => continue,
            r => break r?,
        }
    };
    let s = &buf[..n];
    let end = s.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    Ok(&s[..end])
}

pub fn exists(dir: BorrowedFd<'_>, name: &CStr) -> bool {
    rustix::fs::accessat(dir, name, rustix::fs::Access::EXISTS, AtFlags::empty()).is_ok()
}

/// The value of `key` in a `key value` per line file (`memory.events`, `memory.oom_control`).
pub fn keyed_value(text: &[u8], key: &[u8]) -> Option<u64> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let mut w = line.split(|&b| b == b' ');
        (w.next()? == key).then(|| crate::limits::parse_uint(w.next()?)).flatten()
    })
}

/// `write "VALUE" to "DIR/NAME": ENAME (text)`.
pub fn write_error(value: &[u8], dir: &[u8], name: &CStr, errno: Errno) -> Error {
    let mut e = Error::usage(b"write \"");
    crate::error::push_shown(&mut e.msg, value);
    e.msg.push(b"\" to \"").push(dir).push(b"/").push(name.to_bytes()).push(b"\": ");
    push_errno(&mut e.msg, errno);
    e
}

/// `OP "PATH": ENAME (text)`.
pub fn path_error(op: &str, path: &[u8], errno: Errno) -> Error {
    Error::sys(op, path, errno)
}

/// Writes and turns a failure into [`write_error`].
pub fn write_at(dir: BorrowedFd<'_>, dir_path: &[u8], name: &CStr, value: &[u8]) -> Result<(), Error> {
    write(dir, name, value).map_err(|e| write_error(value, dir_path, name, e))
}

/// Writes the decimal `v` to control file `name`; an error names the file and value.
#[inline(never)]
pub fn write_num(dir: BorrowedFd<'_>, dir_path: &[u8], name: &CStr, v: u64) -> Result<(), Error> {
    let mut val = Buf::<24>::new();
    val.push_u64(v);
    write_at(dir, dir_path, name, val.as_bytes())
}

/// Takes the exclusive lock of `fd`, waiting for it (`block`) or not.
pub fn lock(fd: BorrowedFd<'_>, block: bool) -> Result<(), Errno> {
    let op = if block { FlockOperation::LockExclusive } else { FlockOperation::NonBlockingLockExclusive };
    loop {
        match rustix::fs::flock(fd, op) {
            Err(Errno::INTR) => continue,
            r => return r,
        }
    }
}

/// The extended attribute that marks a `--cgroup-parent` directory tinyctr made, so that
/// whichever run ends last removes it (and never one the user made).
const MARK: &CStr = c"trusted.tinyctr";

/// Marks a directory tinyctr just made. Best effort: cgroupfs has had trusted xattrs since
/// Linux 3.15; without them, only the run that made a parent removes it.
pub fn mark(dir: BorrowedFd<'_>) {
    let _ = rustix::fs::fsetxattr(dir, MARK, b"1", rustix::fs::XattrFlags::empty());
}

/// Whether `dir` carries tinyctr's mark.
pub fn marked(dir: BorrowedFd<'_>) -> bool {
    rustix::fs::fgetxattr(dir, MARK, &mut [0u8; 4]).is_ok()
}

/// Drops the lock of `fd`.
pub fn unlock(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    rustix::fs::flock(fd, FlockOperation::Unlock)
}

/// Creates cgroup `name` below `parent` (which the caller holds locked) and returns its
/// directory, locked. An existing one whose lock is free was left by a dead run: it is
/// removed and made anew (EBUSY if someone else's processes keep it). One whose lock is
/// held belongs to a running container: EEXIST.
pub fn make_locked(parent: BorrowedFd<'_>, name: &CStr, fake: bool) -> Result<OwnedFd, Errno> {
    for _ in 0..2 {
        match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
            Ok(()) => {
                #[cfg(test)]
                if fake {
                    fake_populate(parent, name);
                }
                let fd = open_dir(parent, name)?;
                lock(fd.as_fd(), false)?;
                return Ok(fd);
            }
            Err(Errno::EXIST) => {
                let old = open_dir(parent, name)?;
                // Free: a dead run's. Its removal takes the lock itself (on a
                // descriptor of its own, which ours would block), and the parent's lock
                // we hold keeps anyone from taking it meanwhile.
                match lock(old.as_fd(), false) {
                    Err(Errno::WOULDBLOCK) => return Err(Errno::EXIST),
                    Err(e) => return Err(e),
                    Ok(()) => {
                        drop(old);
                        remove_tree(parent, name, fake, 0, Removal::IfEmpty)?
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(Errno::EXIST)
}

/// Removes every `tinyctr-*` cgroup below `parent` whose lock is free (a dead run's),
/// with the empty cgroups below it whose locks are free too: a live container below one
/// (a --cgroup-parent named tinyctr-*) keeps it, and what leads to it, alive. The caller
/// holds `parent` locked. Best effort: what cannot be removed now is left for the next run.
#[inline(never)]
pub fn sweep(parent: BorrowedFd<'_>, fake: bool) {
    // `parent` was just opened and never read: list it from the start, no second open.
    let mut buf = [MaybeUninit::<u8>::uninit(); 2048];
    let mut entries = RawDir::new(parent, &mut buf);
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        if name.to_bytes().starts_with(PREFIX) {
            let _ = remove_tree(parent, name, fake, 0, Removal::IfEmpty);
        }
    }
}

/// Calls `f` with the name of each directory in `dir` (not `.` or `..`) until it returns
/// true; true if it did. One listing of a fresh descriptor, so that a caller that changes
/// `dir` and starts again never reads a listing from before the change.
/// [`each_pid`] of `dir` and of every cgroup below it, depth-first to [`MAX_DEPTH`]: a
/// container may make cgroups of its own (systemd or a nested runtime inside it), whose
/// processes are still the container's (`ps`, `kill --all`).
pub fn each_pid_below(dir: BorrowedFd<'_>, depth: usize, f: &mut dyn FnMut(rustix::process::Pid)) {
    each_pid(dir, f);
    if depth < MAX_DEPTH {
        child_dirs(dir, &mut |name| {
            if let Ok(d) = open_dir(dir, name) {
                each_pid_below(d.as_fd(), depth + 1, f);
            }
            false
        });
    }
}

fn child_dirs(dir: BorrowedFd<'_>, f: &mut dyn FnMut(&CStr) -> bool) -> bool {
    let Ok(list) = open_dir(dir, c".") else { return false };
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = RawDir::new(list.as_fd(), &mut buf);
    while let Some(Ok(e)) = entries.next() {
        let n = e.file_name();
        if e.file_type() == rustix::fs::FileType::Directory && n != c"." && n != c".." && f(n) {
            return true;
        }
    }
    false
}

/// How deep `remove_tree` follows cgroups a container created inside its own.
const MAX_DEPTH: usize = 8;

/// What `remove_tree` does to a cgroup that still holds processes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Our own container's: kill them, and wait for them to go.
    Kill,
    /// A dead run's, found by a sweep: give up at once, and at any cgroup whose lock is
    /// held (a running container's, or a parent a run is making one below).
    IfEmpty,
}

/// Removes cgroup `name` below `parent`: removes its child cgroups depth-first, then
/// itself. With [`Removal::Kill`] it kills the processes in them first; processes take
/// a moment to leave a cgroup after SIGKILL (rmdir answers EBUSY until then), so this
/// retries with growing pauses, about 3 s in all, before giving up.
pub fn remove_tree(parent: BorrowedFd<'_>, name: &CStr, fake: bool, depth: usize, how: Removal) -> Result<(), Errno> {
    // A dead run's cgroup goes only under its own lock, held until it is gone. A running
    // container holds its cgroup's; a run making one holds the parent's from mkdir until
    // its new cgroup is locked: so nothing live is below, nor appears while this removes
    // it. (A look for locks beforehand, then the removal, raced with such a run: its new,
    // still empty cgroup went, seen in CI as ENOENT writing its device list.)
    let _held = match how {
        Removal::Kill => None,
        Removal::IfEmpty => match open_dir(parent, name) {
            Ok(d) => match lock(d.as_fd(), false) {
                Ok(()) => Some(d),
                Err(Errno::WOULDBLOCK) => return Err(Errno::BUSY),
                Err(e) => return Err(e),
            },
            Err(Errno::NOENT) => return Ok(()),
            Err(e) => return Err(e),
        },
    };
    // The common case first: the container's init has exited and with it every process
    // of its PID namespace, and it made no cgroups of its own. One rmdir, nothing to list
    // or kill (this saves a dozen syscalls on every run).
    match rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(Errno::BUSY | Errno::NOTEMPTY) => remove_tree_slow(parent, name, fake, depth, how),
        Err(e) => Err(e),
    }
}

/// [`remove_tree`] once a plain rmdir was refused: kill, remove children, retry.
fn remove_tree_slow(parent: BorrowedFd<'_>, name: &CStr, fake: bool, depth: usize, how: Removal) -> Result<(), Errno> {
    let mut pause_us = 100u64;
    let mut last = Errno::BUSY;
    for _ in 0..200 {
        let dir = match open_dir(parent, name) {
            Ok(d) => d,
            Err(Errno::NOENT) => return Ok(()),
            Err(e) => return Err(e),
        };
        if !fake && how == Removal::Kill {
            kill_all(dir.as_fd());
        }
        if depth < MAX_DEPTH {
            remove_children(dir.as_fd(), fake, depth, how);
        }
        #[cfg(test)]
        if fake {
            fake_unpopulate(dir.as_fd());
        }
        drop(dir);
        match rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
            Ok(()) | Err(Errno::NOENT) => return Ok(()),
            Err(e @ (Errno::BUSY | Errno::NOTEMPTY)) if how == Removal::Kill => last = e,
            Err(e) => return Err(e),
        }
        sleep_us(pause_us);
        pause_us = (pause_us * 2).min(20_000);
    }
    Err(last)
}

fn remove_children(dir: BorrowedFd<'_>, fake: bool, depth: usize, how: Removal) {
    // Each pass reads the directory afresh and removes the first child cgroup found, so
    // no listing is ever used after the directory changed under it.
    for _ in 0..1000 {
        let mut child: Buf<PATH> = Buf::new();
        child_dirs(dir, &mut |n| {
            child.push(n.to_bytes());
            true
        });
        if child.is_empty() || remove_tree(dir, child.as_cstr(), fake, depth + 1, how).is_err() {
            return;
        }
    }
}

/// Kills every process in the cgroup at `dir`: `cgroup.kill` (v2, Linux 5.14+) takes
/// its whole subtree at once; otherwise each pid in `cgroup.procs` gets SIGKILL.
pub fn kill_all(dir: BorrowedFd<'_>) {
    if write(dir, c"cgroup.kill", b"1").is_ok() {
        return;
    }
    each_pid(dir, &mut |p| {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    });
}

pub fn sleep_us(us: u64) {
    let t = rustix::thread::Timespec { tv_sec: (us / 1_000_000) as i64, tv_nsec: ((us % 1_000_000) * 1000) as i64 };
    let _ = rustix::thread::nanosleep(&t);
}

/// What [`mkdir_p`] runs for each directory it made: `(dir, parent, dir_path)`.
pub type OnCreate<'a> = dyn FnMut(BorrowedFd<'_>, BorrowedFd<'_>, &[u8]) -> Result<(), Error> + 'a;

/// `mkdir -p` of `path` below its first `from` bytes (which must exist), counting in
/// `created` the trailing components it made, for removal in reverse even after a
/// failure. `on_create(dir, parent, dir_path)` runs for each new directory (v1 cpuset
/// fills `cpus` and `mems` there).
#[inline(never)]
pub fn mkdir_p(
    path: &[u8],
    from: usize,
    fake: bool,
    created: &mut u8,
    // `dyn`: one copy of this function for every caller (a generic one cost ~650 B each).
    on_create: &mut OnCreate<'_>,
) -> Result<(), Error> {
    let mut end = from;
    while end < path.len() {
        end += 1;
        while end < path.len() && path[end] != b'/' {
            end += 1;
        }
        let mut here: Buf<PATH> = Buf::from(&path[..end]);
        match rustix::fs::mkdirat(CWD, here.as_cstr(), Mode::from_raw_mode(0o755)) {
            Ok(()) => *created += 1,
            Err(Errno::EXIST) => continue,
            Err(e) => return Err(path_error("create cgroup", here.as_bytes(), e)),
        }
        let slash = path[..end].iter().rposition(|&b| b == b'/').unwrap_or(0);
        let mut parent: Buf<PATH> = Buf::from(&path[..slash]);
        let pfd = open_dir(CWD, parent.as_cstr()).map_err(|e| path_error("open", parent.as_bytes(), e))?;
        #[cfg(test)]
        if fake {
            fake_populate(pfd.as_fd(), Buf::<256>::from(&path[slash + 1..end]).as_cstr());
        }
        let _ = fake;
        let dfd = open_dir(CWD, here.as_cstr()).map_err(|e| path_error("open", here.as_bytes(), e))?;
        mark(dfd.as_fd());
        on_create(dfd.as_fd(), pfd.as_fd(), here.as_bytes())?;
    }
    Ok(())
}

/// Tests: gives a new directory the control files of its parent (empty), as cgroupfs
/// gives every new cgroup its files.
#[cfg(test)]
pub fn fake_populate(parent: BorrowedFd<'_>, name: &CStr) {
    let Ok(dir) = open_dir(parent, name) else { return };
    let Ok(list) = open_dir(parent, c".") else { return };
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(list.as_fd(), &mut buf);
    while let Some(Ok(e)) = entries.next() {
        if e.file_type() == rustix::fs::FileType::RegularFile {
            let _ = rustix::fs::openat(
                &dir,
                e.file_name(),
                OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o644),
            );
        }
    }
}

/// Tests: empties a fake cgroup of its files so rmdir works as on cgroupfs.
#[cfg(test)]
pub fn fake_unpopulate(dir: BorrowedFd<'_>) {
    let Ok(list) = open_dir(dir, c".") else { return };
    let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
    let mut entries = RawDir::new(list.as_fd(), &mut buf);
    while let Some(Ok(e)) = entries.next() {
        if e.file_type() == rustix::fs::FileType::RegularFile {
            let _ = rustix::fs::unlinkat(dir, e.file_name(), AtFlags::empty());
        }
    }
}
