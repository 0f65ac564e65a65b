//! The OCI runtime's state directory: `--root DIR` (default `/run/tinyctr`) holds one
//! directory per container ID, `DIR/ID/`, with
//! - `state`: the record `create` writes (init's pid and start time, the bundle, the
//!   rootfs, the creation time, the cgroup directories), replaced atomically (rename);
//! - `exec.fifo`: exists from `create` until `start`; init blocks opening it for
//!   writing, `start` opens it for reading and removes it.
//!
//! The ID directory is flock(2)ed while a command changes it, so two commands on one
//! container never interleave. `delete --force` works from this directory alone: the
//! shim's cleanup repeats none of create's flags.
//!
//! A container's status is derived, not stored: init's pid is alive with the same start
//! time (so a recycled pid is not taken for it) and not a zombie → running, or created
//! while the fifo exists, or paused while its freezer says so; otherwise stopped.

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::buf::Buf;
use crate::error::{push_shown, Error, Result};

pub const DEFAULT_ROOT: &CStr = c"/run/tinyctr";
pub const STATE: &CStr = c"state";
const STATE_TMP: &CStr = c"state.tmp";
pub const FIFO: &CStr = c"exec.fifo";
/// config.json's `annotations` object as written, for `state` (absent: none).
pub const ANNOTATIONS: &CStr = c"annotations";
/// A copy of config.json, kept when it has `startContainer`, `poststart` or `poststop`
/// hooks (`start` and `delete` run them as they were at `create`).
pub const CONFIG: &CStr = c"config.json";
/// Hierarchies a record names a cgroup directory in: the layout's and the others
/// (every one `create` can join).
pub const MAX_CGROUPS: usize = crate::cgroup::layout::MAX_HIERS + super::hierarchies::MAX;

/// Room for reading one state file ([`Entry::write`] refuses one over 8 KiB), in an
/// anonymous mapping. In a command's frame it was two more stack pages that every
/// command touched (the stack is probed page by page) and its peak RSS counted; mapped,
/// only the page the record fills becomes resident. (In .bss it pushed musl's globals
/// onto a page of their own, which every command touches: create's peak +4 KiB.) Each
/// command reads one state, and the process ends soon after: the mapping is never
/// unmapped. Without memory for it, an empty slice, whose read fails as a state that
/// does not parse.
pub fn room() -> &'static mut [u8] {
    match crate::sys::Mapping::new(8192) {
        Ok(map) => map.leak(),
        Err(_) => &mut [],
    }
}

/// What `create` recorded. Strings borrow the buffer the record was read into.
#[derive(Default)]
pub struct Record<'a> {
    pub pid: i32,
    /// Init's start time in clock ticks since boot (/proc/PID/stat field 22).
    pub start: u64,
    /// Creation time, nanoseconds since the epoch.
    pub created: u64,
    pub bundle: &'a [u8],
    pub rootfs: &'a [u8],
    pub cgroups: [&'a [u8]; MAX_CGROUPS],
    pub n_cgroups: usize,
}

/// One container's directory, open and (for commands that change it) locked.
pub struct Entry {
    pub dir: OwnedFd,
}

/// An ID is a name in the state directory: letters, digits and `_+-.`, not `.` or `..`.
pub fn check_id(id: &[u8]) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 255
        && id != b"."
        && id != b".."
        && id.iter().all(|&c| c.is_ascii_alphanumeric() || b"_+-.".contains(&c));
    match ok {
        true => Ok(()),
        false => Err(named(b"invalid container ID '", id, b"' (letters, digits and _+-. only)")),
    }
}

fn named(a: &[u8], id: &[u8], b: &[u8]) -> Error {
    let mut e = Error::usage(a);
    push_shown(&mut e.msg, id);
    e.msg.push(b);
    e
}

/// `container "ID" does not exist`: the words containerd's shim matches.
pub fn missing(id: &[u8]) -> Error {
    named(b"container \"", id, b"\" does not exist")
}

fn open_root(root: &CStr, create: bool) -> Result<OwnedFd> {
    if create {
        mkdir_p(root).map_err(|e| Error::sys("create the state directory", root.to_bytes(), e))?;
    }
    rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::sys("open the state directory", root.to_bytes(), e))
}

/// `mkdir -p` with mode 0711 for what it makes.
fn mkdir_p(path: &CStr) -> core::result::Result<(), Errno> {
    let bytes = path.to_bytes();
    let mut b: Buf<4096> = Buf::new();
    for (i, _) in bytes.iter().enumerate().filter(|&(i, &c)| c == b'/' && i > 0).chain([(bytes.len(), &b'/')]) {
        b.clear();
        b.push(&bytes[..i]);
        if b.overflowed() {
            return Err(Errno::NAMETOOLONG);
        }
        crate::rootfs::mkdir_if_missing(b.as_cstr(), 0o711)?;
    }
    Ok(())
}

/// The ID directory's lock, waited for (the cgroups' flock helper).
fn lock(dir: BorrowedFd<'_>) -> core::result::Result<(), Errno> {
    crate::cgroup::fs::lock(dir, true)
}

impl Entry {
    /// Makes `ROOT/ID`, locked; an existing ID is refused and left as it is.
    pub fn create(root: &CStr, id: &CStr) -> Result<Entry> {
        check_id(id.to_bytes())?;
        let r = open_root(root, true)?;
        match rustix::fs::mkdirat(&r, id, Mode::from_raw_mode(0o711)) {
            Ok(()) => {}
            Err(Errno::EXIST) => return Err(named(b"container \"", id.to_bytes(), b"\" already exists")),
            Err(e) => return Err(Error::sys("create the state of", id.to_bytes(), e)),
        }
        let dir = open_dir(&r, id).map_err(|e| Error::sys("open the state of", id.to_bytes(), e))?;
        lock(dir.as_fd()).map_err(|e| Error::sys("lock the state of", id.to_bytes(), e))?;
        Ok(Entry { dir })
    }

    /// Opens `ROOT/ID`, locked when `locked`.
    pub fn open(root: &CStr, id: &CStr, locked: bool) -> Result<Entry> {
        check_id(id.to_bytes())?;
        let r = match open_root(root, false) {
            Ok(r) => r,
            Err(_) if !rustix::fs::access(root, rustix::fs::Access::EXISTS).is_ok() => {
                return Err(missing(id.to_bytes()))
            }
            Err(e) => return Err(e),
        };
        let dir = match open_dir(&r, id) {
            Ok(d) => d,
            Err(Errno::NOENT) => return Err(missing(id.to_bytes())),
            Err(e) => return Err(Error::sys("open the state of", id.to_bytes(), e)),
        };
        if locked {
            lock(dir.as_fd()).map_err(|e| Error::sys("lock the state of", id.to_bytes(), e))?;
        }
        Ok(Entry { dir })
    }

    /// Writes `rec` as the state, atomically.
    pub fn write(&self, rec: &Record<'_>) -> core::result::Result<(), Errno> {
        let mut b: Buf<8192> = Buf::new();
        b.push(b"pid ").push_u64(rec.pid as u64).push(b"\nstart ").push_u64(rec.start);
        b.push(b"\ncreated ").push_u64(rec.created);
        b.push(b"\nbundle ").push(rec.bundle).push(b"\nrootfs ").push(rec.rootfs);
        for c in &rec.cgroups[..rec.n_cgroups] {
            b.push(b"\ncgroup ").push(c);
        }
        b.push(b"\n");
        if b.overflowed() {
            return Err(Errno::NAMETOOLONG);
        }
        write_file(&self.dir, STATE_TMP, b.as_bytes())?;
        rustix::fs::renameat(&self.dir, STATE_TMP, &self.dir, STATE)
    }

    /// Reads the state into `buf`.
    pub fn read<'b>(&self, buf: &'b mut [u8]) -> core::result::Result<Record<'b>, Errno> {
        let fd = rustix::fs::openat(&self.dir, STATE, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
        let n = crate::fdio::read_full(&fd, buf)?;
        parse(&buf[..n]).ok_or(Errno::INVAL)
    }

    /// Whether init still waits for `start`.
    pub fn waiting(&self) -> bool {
        rustix::fs::statat(&self.dir, FIFO, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// Removes the directory and what is in it.
    pub fn remove(self, root: &CStr, id: &CStr) -> core::result::Result<(), Errno> {
        for f in [STATE, STATE_TMP, FIFO, ANNOTATIONS, CONFIG] {
            match rustix::fs::unlinkat(&self.dir, f, AtFlags::empty()) {
                Ok(()) | Err(Errno::NOENT) => {}
                Err(e) => return Err(e),
            }
        }
        let r = rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        rustix::fs::unlinkat(&r, id, AtFlags::REMOVEDIR)
    }
}

/// Writes `name` in `dir` whole (made or truncated, owner-only).
pub fn write_file(dir: &OwnedFd, name: &CStr, text: &[u8]) -> core::result::Result<(), Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    crate::fdio::write_all(&fd, text)
}

fn open_dir(base: &OwnedFd, name: &CStr) -> core::result::Result<OwnedFd, Errno> {
    rustix::fs::openat(
        base,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// The record in `text`; `None` if it is not one `write` made.
pub fn parse(text: &[u8]) -> Option<Record<'_>> {
    let mut r = Record::default();
    let num = crate::limits::parse_uint;
    for line in text.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let sp = line.iter().position(|&c| c == b' ')?;
        let (k, v) = (&line[..sp], &line[sp + 1..]);
        match k {
            b"pid" => r.pid = i32::try_from(num(v)?).ok()?,
            b"start" => r.start = num(v)?,
            b"created" => r.created = num(v)?,
            b"bundle" => r.bundle = v,
            b"rootfs" => r.rootfs = v,
            b"cgroup" => {
                *r.cgroups.get_mut(r.n_cgroups)? = v;
                r.n_cgroups += 1;
            }
            _ => {}
        }
    }
    (r.pid > 0).then_some(r)
}

/// A process as /proc/PID/stat shows it: its state letter and start time.
pub struct Proc {
    pub state: u8,
    pub start: u64,
}

/// /proc/PID/stat of `pid`, if it exists.
pub fn proc_stat(pid: i32) -> Option<Proc> {
    let mut path: Buf<32> = Buf::from(b"/proc/");
    path.push_u64(pid as u64).push(b"/stat");
    let fd = rustix::fs::openat(CWD, path.as_cstr(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let mut buf = [0u8; 1024];
    let n = crate::fdio::read_full(&fd, &mut buf).ok()?;
    parse_stat(&buf[..n])
}

/// Field 3 (state) and field 22 (starttime) of a stat line; the command name in field 2
/// may hold spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_stat(line: &[u8]) -> Option<Proc> {
    let close = line.iter().rposition(|&c| c == b')')?;
    let mut fields = line[close + 1..].split(|&c| c == b' ').filter(|f| !f.is_empty());
    let state = *fields.next()?.first()?;
    // After the state (field 3) come fields 4..; starttime is field 22.
    let start = fields.nth(22 - 4)?;
    let start = crate::limits::parse_uint(start)?;
    Some(Proc { state, start })
}

/// True when `rec`'s init is alive: the same process (start time) and not a zombie.
pub fn alive(rec: &Record<'_>) -> bool {
    proc_stat(rec.pid).is_some_and(|p| p.start == rec.start && p.state != b'Z' && p.state != b'X')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(check_id(b"t1").is_ok());
        assert!(check_id(b"a_b-c.d+e").is_ok());
        for bad in [&b""[..], b".", b"..", b"a/b", b"a b", b"\n"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_record_round_trips() {
        let mut cgroups = [&b""[..]; MAX_CGROUPS];
        cgroups[0] = b"/sys/fs/cgroup/memory/default/t1";
        cgroups[1] = b"/sys/fs/cgroup/pids/default/t1";
        let rec = Record {
            pid: 4242,
            start: 123456,
            created: 1_764_637_200_123_456_789,
            bundle: b"/b/x",
            rootfs: b"/b/x/rootfs",
            cgroups,
            n_cgroups: 2,
        };
        let dir = std::env::temp_dir().join(format!("tinyctr-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = std::ffi::CString::new(dir.join("root").to_str().unwrap()).unwrap();
        let e = Entry::create(&root, c"t1").ok().expect("created");
        assert!(Entry::create(&root, c"t1").is_err(), "an existing ID is refused");
        e.write(&rec).unwrap();
        let mut buf = [0u8; 8192];
        let got = e.read(&mut buf).unwrap();
        assert_eq!((got.pid, got.start, got.created), (4242, 123456, rec.created));
        assert_eq!((got.bundle, got.rootfs, got.n_cgroups), (&b"/b/x"[..], &b"/b/x/rootfs"[..], 2));
        assert_eq!(got.cgroups[1], b"/sys/fs/cgroup/pids/default/t1");
        e.remove(&root, c"t1").unwrap();
        let err = Entry::open(&root, c"t1", false).err().unwrap();
        assert_eq!(err.msg.as_bytes(), b"container \"t1\" does not exist");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stat_lines() {
        let line = b"4242 (a) b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        let p = parse_stat(line).unwrap();
        assert_eq!((p.state, p.start), (b'S', 987654));
        let me = proc_stat(std::process::id() as i32).unwrap();
        assert!(me.start > 0 && b"RS".contains(&me.state));
        assert!(parse(b"pid x\n").is_none());
        assert!(parse(b"").is_none());
    }
}
