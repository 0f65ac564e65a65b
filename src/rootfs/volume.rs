//! Volumes and tmpfs mounts: `-v/--volume SRC:DST[:ro|rw]`, `--mount type=bind|tmpfs,...`
//! and `--tmpfs DST[:OPTS]`, docker's three spellings, parsed in the parent into one
//! fixed-size list of [`Req`]s (in the order given: a later mount may land inside an
//! earlier one), then mounted by the child.
//!
//! The child works in two halves, because a source is a host path and a target a
//! container path:
//! - [`open_sources`], before the root switch: each bind source is cloned with
//!   `open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)` (Linux 5.2), a detached copy of its mount
//!   tree that outlives the host's root going away; before 5.2 it is an `O_PATH` fd, and
//!   the old root stays attached until the binds are made (see [`needs_old_root`]).
//! - [`mount_all`], after it (and after /proc, /sys and /dev): each target is resolved
//!   inside the container's root ([`super::resolve`]), created if missing (with
//!   `--rootfs` only: without one the targets are host paths, and tinyctr creates nothing
//!   on the host), refused if it is the root itself (EBUSY) or on procfs (EPERM), and the
//!   mount made *through the descriptor*: `move_mount` of the clone onto it, or
//!   `mount(2)` onto `/proc/self/fd/N` for tmpfs and before 5.2.
//!
//! `ro` on a bind is `mount_setattr(MOUNT_ATTR_RDONLY, AT_RECURSIVE)` on the clone before
//! it is attached (5.12; docker's `rro`), else a bind remount that keeps the source's
//! nosuid, nodev and noexec. Everything happens in the container's private mount
//! namespace: the host's mount table never changes.
//!
//! A failure is a step number `step::VOLUME + op * 16 + index` (see [`describe`]), which
//! is why there are at most [`MAX`] mounts.

use core::ffi::CStr;
use linux_raw_sys::general::{
    MOUNT_ATTR_RDONLY, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, PROC_SUPER_MAGIC,
};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, Stat, CWD};
use rustix::io::Errno;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use super::mounts::{mount, remount_read_only};
use super::overlay::{self, Layer};
use super::resolve::{self, Create};
use super::{step, Failure};
use crate::buf::Buf;
use crate::cli::RunConfig;
use crate::error::{push_errno, push_shown, Error, Result};
use crate::sys::args::CArgs;

/// Most mounts in one run (`-v`, `--mount` and `--tmpfs` together).
pub const MAX: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Bind,
    Tmpfs,
}

/// One mount, as parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Req<'a> {
    pub kind: Kind,
    /// Bind: the host path, absolute. Tmpfs: empty.
    pub source: &'a [u8],
    /// Where it goes in the container, absolute.
    pub target: &'a [u8],
    pub read_only: bool,
    /// Tmpfs only: `MS_NOSUID | MS_NODEV | MS_NOEXEC` as asked, the size in bytes (0:
    /// the kernel's default, half of RAM) and the mode of its root (None: 1777).
    pub flags: u32,
    pub size: u64,
    pub mode: Option<u32>,
}

impl Req<'_> {
    const EMPTY: Req<'static> =
        Req { kind: Kind::Bind, source: b"", target: b"", read_only: false, flags: 0, size: 0, mode: None };
}

/// Which option spelled a mount.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Syntax {
    Volume,
    Mount,
    Tmpfs,
}

/// The mounts of one run, in the order given.
pub struct Mounts<'a> {
    reqs: [Req<'a>; MAX],
    len: usize,
}

impl<'a> Mounts<'a> {
    pub const EMPTY: Mounts<'static> = Mounts { reqs: [Req::EMPTY; MAX], len: 0 };

    pub fn as_slice(&self) -> &[Req<'a>] {
        &self.reqs[..self.len]
    }

    /// Parses one option's value and appends it; the error names the option and value.
    pub fn add(&mut self, syntax: Syntax, spelled: &[u8], value: &'a CStr) -> Result<()> {
        let v = value.to_bytes();
        let req = match syntax {
            Syntax::Volume => parse_volume(v),
            Syntax::Mount => parse_mount(v),
            Syntax::Tmpfs => parse_tmpfs(v),
        };
        let req = req.map_err(|bad| {
            let mut e = Error::usage(spelled);
            e.msg.push(b": '");
            push_shown(&mut e.msg, v);
            e.msg.push(b"'");
            if !bad.part.is_empty() {
                e.msg.push(b": '");
                push_shown(&mut e.msg, bad.part);
                e.msg.push(b"'");
            }
            e.msg.push(b" ").push_str(bad.why);
            e
        })?;
        let Some(slot) = self.reqs.get_mut(self.len) else {
            let mut e = Error::usage(spelled);
            e.msg.push(b": more than 16 mounts (-v, --mount and --tmpfs together)");
            return Err(e);
        };
        *slot = req;
        self.len += 1;
        Ok(())
    }
}

/// What is wrong with a value: the offending part (may be empty) and why.
#[derive(Debug, PartialEq, Eq)]
struct Bad<'a> {
    part: &'a [u8],
    why: &'static str,
}

fn bad<'a>(part: &'a [u8], why: &'static str) -> Bad<'a> {
    Bad { part, why }
}

type Parsed<'a> = core::result::Result<Req<'a>, Bad<'a>>;

/// docker's defaults for a tmpfs: `rw,noexec,nosuid,nodev`.
const TMPFS_FLAGS: u32 = MS_NOSUID | MS_NODEV | MS_NOEXEC;

fn split_once(s: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&c| c == sep) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// `SRC:DST[:MODE]`, MODE a comma list of `ro` or `rw`.
fn parse_volume(v: &[u8]) -> Parsed<'_> {
    let (src, rest) = split_once(v, b':');
    let Some(rest) = rest else {
        return Err(bad(b"", "has no DST: anonymous volumes are not supported (use SRC:DST[:ro])"));
    };
    if src.is_empty() {
        return Err(bad(b"", "has no SRC (use SRC:DST[:ro])"));
    }
    if src[0] != b'/' {
        return Err(bad(src, "is not an absolute host path: named volumes are not supported"));
    }
    let (dst, mode) = split_once(rest, b':');
    let mut req = Req { kind: Kind::Bind, source: src, target: check_target(dst)?, ..Req::EMPTY };
    let mut seen = false;
    for word in mode.unwrap_or(b"rw").split(|&c| c == b',') {
        req.read_only = match word {
            b"ro" if !seen => true,
            b"rw" if !seen => false,
            _ => return Err(bad(word, "is not a volume mode (one of ro or rw)")),
        };
        seen = true;
    }
    Ok(req)
}

/// docker's `--mount` keys for the two types tinyctr has (values cannot hold commas).
fn parse_mount(v: &[u8]) -> Parsed<'_> {
    let (mut kind, mut src, mut dst) = (None, None, None);
    let mut req = Req { flags: TMPFS_FLAGS, ..Req::EMPTY };
    let mut tmpfs_key: &[u8] = b"";
    for item in v.split(|&c| c == b',') {
        let (key, val) = split_once(item, b'=');
        let val = val.unwrap_or(b"");
        match key {
            b"type" => {
                kind = Some(match val {
                    b"bind" => Kind::Bind,
                    b"tmpfs" => Kind::Tmpfs,
                    b"volume" => return Err(bad(val, "is not supported: named volumes are not (type=bind or tmpfs)")),
                    _ => return Err(bad(val, "is not a mount type (bind or tmpfs)")),
                })
            }
            b"source" | b"src" => src = Some(val),
            b"target" | b"dst" | b"destination" => dst = Some(val),
            b"readonly" | b"ro" => {
                req.read_only = match val {
                    b"" | b"true" | b"1" => true,
                    b"false" | b"0" => false,
                    _ => return Err(bad(item, "is not a readonly value (true or false)")),
                }
            }
            b"tmpfs-size" => (req.size, tmpfs_key) = (parse_size(val)?, key),
            b"tmpfs-mode" => (req.mode, tmpfs_key) = (Some(parse_mode(val)?), key),
            _ => return Err(bad(key, "is not a --mount key (type, source, target, readonly, tmpfs-size, tmpfs-mode)")),
        }
    }
    req.target = check_target(dst.ok_or(bad(b"", "needs target=DST"))?)?;
    match kind {
        Some(Kind::Bind) => {
            let src = src.ok_or(bad(b"", "needs source=SRC (an absolute host path)"))?;
            if !src.starts_with(b"/") {
                return Err(bad(src, "is not an absolute host path"));
            }
            if !tmpfs_key.is_empty() {
                return Err(bad(tmpfs_key, "is for type=tmpfs only"));
            }
            Ok(Req { kind: Kind::Bind, source: src, flags: 0, ..req })
        }
        Some(Kind::Tmpfs) if src.is_some() => Err(bad(b"", "has a source, which a tmpfs does not take")),
        Some(Kind::Tmpfs) => Ok(Req { kind: Kind::Tmpfs, ..req }),
        None => Err(bad(b"", "needs type=bind or type=tmpfs (named volumes are not supported)")),
    }
}

/// `DST[:OPTS]`, OPTS a comma list of mount(8) words tmpfs takes.
fn parse_tmpfs(v: &[u8]) -> Parsed<'_> {
    let (dst, opts) = split_once(v, b':');
    let mut req = Req { kind: Kind::Tmpfs, target: check_target(dst)?, flags: TMPFS_FLAGS, ..Req::EMPTY };
    for word in opts.unwrap_or(b"").split(|&c| c == b',').filter(|w| !w.is_empty()) {
        let (key, val) = split_once(word, b'=');
        match (key, val) {
            (b"ro", None) => req.read_only = true,
            (b"rw", None) => req.read_only = false,
            (b"size", Some(val)) => req.size = parse_size(val)?,
            (b"mode", Some(val)) => req.mode = Some(parse_mode(val)?),
            _ => {
                let (flag, on) = match key.strip_prefix(b"no") {
                    Some(k) => (k, true),
                    None => (key, false),
                };
                let bit = match flag {
                    b"exec" if val.is_none() => MS_NOEXEC,
                    b"suid" if val.is_none() => MS_NOSUID,
                    b"dev" if val.is_none() => MS_NODEV,
                    _ => {
                        return Err(bad(
                            word,
                            "is not a tmpfs option (ro, rw, [no]exec, [no]suid, [no]dev, size=, mode=)",
                        ))
                    }
                };
                req.flags = if on { req.flags | bit } else { req.flags & !bit };
            }
        }
    }
    Ok(req)
}

/// DST: absolute, not the root, and short enough for the kernel.
fn check_target(dst: &[u8]) -> core::result::Result<&[u8], Bad<'_>> {
    if dst.is_empty() {
        return Err(bad(b"", "has an empty DST (the path in the container)"));
    }
    if !dst.starts_with(b"/") {
        return Err(bad(dst, "is not an absolute path in the container"));
    }
    if dst.iter().all(|&c| c == b'/') {
        return Err(bad(dst, "is the container's root, which a mount cannot cover"));
    }
    if dst.len() >= 4096 {
        return Err(bad(b"", "is longer than a path can be (4095 bytes)"));
    }
    Ok(dst)
}

fn parse_size(s: &[u8]) -> core::result::Result<u64, Bad<'_>> {
    crate::limits::parse_size(s).map_err(|why| bad(s, why))
}

/// An octal file mode, 7777 at most.
fn parse_mode(s: &[u8]) -> core::result::Result<u32, Bad<'_>> {
    let ok = !s.is_empty() && s.len() <= 5 && s.iter().all(|c| (b'0'..=b'7').contains(c));
    let mode = s.iter().fold(0u32, |m, &c| m * 8 + (c - b'0') as u32);
    if ok && mode <= 0o7777 {
        Ok(mode)
    } else {
        Err(bad(s, "is not an octal mode (try 1777)"))
    }
}

/// Kernel features a debug build can pretend are missing (`TINYCTR_DEBUG_KERNEL=5.11`,
/// `5.5` or `5.1`), so tests can take every fallback on a kernel that has them all.
pub const LACKS_SETATTR: u8 = 1;
pub const LACKS_OPENAT2: u8 = 2;
pub const LACKS_MOUNT_API: u8 = 4;

/// What the child needs for the mounts: the list, the writable layer, and (debug builds)
/// the kernel features to do without.
#[derive(Clone, Copy)]
pub struct MountPlan<'a> {
    pub list: &'a [Req<'a>],
    pub layer: Option<Layer<'a>>,
    pub lacks: u8,
}

/// Parent side, before clone: the child's part of the plan, and the checks that can be
/// made up front (the layer's directory). A run with none of this costs nothing here.
pub fn plan<'a>(cfg: &'a RunConfig<'a>, host_env: CArgs<'_>) -> Result<MountPlan<'a>> {
    let mut lacks = 0;
    if cfg!(debug_assertions) && (cfg.layer.is_some() || cfg.mounts.len > 0) {
        lacks = match crate::env::lookup(host_env, b"TINYCTR_DEBUG_KERNEL").map(CStr::to_bytes) {
            Some(b"TINYCTR_DEBUG_KERNEL=5.11") => LACKS_SETATTR,
            Some(b"TINYCTR_DEBUG_KERNEL=5.5") => LACKS_SETATTR | LACKS_OPENAT2,
            Some(b"TINYCTR_DEBUG_KERNEL=5.1") => LACKS_SETATTR | LACKS_OPENAT2 | LACKS_MOUNT_API,
            _ => 0,
        };
    }
    if let Some(layer) = cfg.layer {
        overlay::check(layer)?;
    }
    Ok(MountPlan { list: cfg.mounts.as_slice(), layer: cfg.layer, lacks })
}

/// Each bind's source, opened before the root switch (None for a tmpfs), and whether it
/// is a directory (a missing target is made to match).
pub struct Sources {
    fds: [Option<OwnedFd>; MAX],
    dir: [bool; MAX],
    /// No `open_tree` (before 5.2): `fds` are O_PATH descriptors of host paths.
    legacy: bool,
}

impl Sources {
    /// True when a source is a plain O_PATH descriptor: binding from it needs its mount
    /// to be in our namespace, so the old root must stay until [`mount_all`] is done.
    pub fn needs_old_root(&self) -> bool {
        self.legacy && self.fds.iter().any(Option::is_some)
    }
}

/// Operations of a mount, each with a range of [`MAX`] steps from `step::VOLUME`.
const SOURCE: u8 = 0;
const TARGET: u8 = 1;
const MOUNT: u8 = 2;
const READ_ONLY: u8 = 3;

fn at(op: u8, i: usize) -> impl Fn(Errno) -> Failure {
    move |e| (step::VOLUME + op * MAX as u8 + i as u8, e)
}

/// Child, in the new mount namespace (private), before the root switch.
pub fn open_sources(plan: &MountPlan<'_>) -> core::result::Result<Sources, Failure> {
    let mut s = Sources { fds: Default::default(), dir: [false; MAX], legacy: plan.lacks & LACKS_MOUNT_API != 0 };
    for (i, r) in plan.list.iter().enumerate().filter(|(_, r)| r.kind == Kind::Bind) {
        let tree = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_RECURSIVE;
        let fd = match if s.legacy { Err(Errno::NOSYS) } else { rustix::mount::open_tree(CWD, r.source, tree) } {
            Err(Errno::NOSYS) => {
                s.legacy = true;
                rustix::fs::open(r.source, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
            }
            other => other,
        }
        .map_err(at(SOURCE, i))?;
        s.dir[i] = FileType::from_raw_mode(rustix::fs::fstat(&fd).map_err(at(SOURCE, i))?.st_mode).is_dir();
        s.fds[i] = Some(fd);
    }
    Ok(s)
}

/// Child, after the root switch and the container's own /proc: makes every mount of the
/// plan, in order. `in_rootfs`: missing targets may be created (they are in the image,
/// or in the writable layer over it). The sources are closed on return, so no host
/// descriptor reaches the command.
pub fn mount_all(plan: &MountPlan<'_>, sources: Sources, in_rootfs: bool) -> core::result::Result<(), Failure> {
    if plan.list.is_empty() {
        return Ok(());
    }
    let root = rustix::fs::open(c"/", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .and_then(|fd| rustix::fs::fstat(&fd).map(|st| (fd, st)))
        .map_err(at(TARGET, 0))?;
    let mut no_setattr = plan.lacks & LACKS_SETATTR != 0;
    for (i, r) in plan.list.iter().enumerate() {
        let create = match (in_rootfs, r.kind) {
            (false, _) => Create::No,
            (true, Kind::Bind) if !sources.dir[i] => Create::File,
            (true, _) => Create::Dir,
        };
        let target = open_target(&root, r.target, create, plan.lacks).map_err(at(TARGET, i))?;
        let src = sources.fds[i].as_ref();
        match (r.kind, src) {
            (Kind::Tmpfs, _) => mount_tmpfs(r, &target).map_err(at(MOUNT, i))?,
            (Kind::Bind, Some(src)) if !sources.legacy => {
                // Read-only before it is attached, for the whole tree, keeping every other
                // flag; the remount after is for kernels before 5.12.
                let mut remount = false;
                if r.read_only {
                    match if no_setattr {
                        Err(Errno::NOSYS)
                    } else {
                        crate::sys::mountapi::set_tree_attr(src, MOUNT_ATTR_RDONLY as u64)
                    } {
                        Ok(()) => {}
                        Err(Errno::NOSYS) => (no_setattr, remount) = (true, true),
                        Err(e) => return Err(at(READ_ONLY, i)(e)),
                    }
                }
                let empty = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
                rustix::mount::move_mount(src, c"", &target, c"", empty).map_err(at(MOUNT, i))?;
                // The clone is attached now: its descriptor names the new mount's root.
                if remount {
                    remount_read_only(fd_path(src).as_cstr()).map_err(at(READ_ONLY, i))?;
                }
            }
            (Kind::Bind, Some(src)) => {
                mount(fd_path(src).as_cstr(), fd_path(&target).as_cstr(), c"none", MS_BIND | MS_REC, None)
                    .map_err(at(MOUNT, i))?;
                if r.read_only {
                    // The target's descriptor names what the bind now covers: find the new
                    // mount again, and check it is the source's root before remounting.
                    let top = open_target(&root, r.target, Create::No, plan.lacks).map_err(at(READ_ONLY, i))?;
                    let (a, b) = (fstat(&top), fstat(src));
                    if a.map_err(at(READ_ONLY, i))? != b.map_err(at(READ_ONLY, i))? {
                        return Err(at(READ_ONLY, i)(Errno::STALE));
                    }
                    remount_read_only(fd_path(&top).as_cstr()).map_err(at(READ_ONLY, i))?;
                }
            }
            (Kind::Bind, None) => return Err(at(SOURCE, i)(Errno::BADF)),
        }
    }
    Ok(())
}

/// The target, resolved inside `root`, and never the root itself or a place in /proc
/// (the mounts after it go through /proc/self/fd, and procfs files are the kernel's).
fn open_target(root: &(OwnedFd, Stat), path: &[u8], create: Create, lacks: u8) -> core::result::Result<OwnedFd, Errno> {
    let fd = resolve::open_in_root(root.0.as_fd(), path, create, lacks & LACKS_OPENAT2 == 0)?;
    if fstat(&fd)? == fstat(&root.0)? {
        return Err(Errno::BUSY);
    }
    if rustix::fs::fstatfs(&fd)?.f_type as u32 == PROC_SUPER_MAGIC {
        return Err(Errno::PERM);
    }
    Ok(fd)
}

/// Device and inode: the identity of a file.
fn fstat(fd: impl AsFd) -> core::result::Result<(u64, u64), Errno> {
    rustix::fs::fstat(fd).map(|st| (st.st_dev, st.st_ino))
}

fn mount_tmpfs(r: &Req<'_>, target: &OwnedFd) -> core::result::Result<(), Errno> {
    let mut data = tmpfs_data(r);
    let flags = r.flags | if r.read_only { MS_RDONLY } else { 0 };
    let data = if data.is_empty() { None } else { Some(data.as_cstr()) };
    mount(c"tmpfs", fd_path(target).as_cstr(), c"tmpfs", flags, data)
}

/// tmpfs's options: `size=BYTES,mode=OCTAL`, either or neither.
fn tmpfs_data(r: &Req<'_>) -> Buf<48> {
    let mut data = Buf::new();
    if r.size != 0 {
        data.push(b"size=").push_u64(r.size);
    }
    if let Some(mode) = r.mode {
        let mut octal = [b'0'; 4];
        for (k, d) in octal.iter_mut().rev().enumerate() {
            *d += (mode >> (3 * k) & 7) as u8;
        }
        data.push(if data.is_empty() { b"mode=" } else { b",mode=" }).push(&octal);
    }
    data
}

/// `/proc/self/fd/N`: the path of what `fd` holds, for the calls that take only paths.
fn fd_path(fd: &OwnedFd) -> Buf<32> {
    let mut b = Buf::new();
    b.push(b"/proc/self/fd/").push_u64(fd.as_raw_fd() as u64);
    b
}

/// Parent side: the one-line error for a step of this module or of [`overlay`].
pub fn describe(cfg: &RunConfig<'_>, step: u8, errno: Errno) -> Option<Error> {
    if step >= step::LAYER {
        return overlay::describe(cfg, step - step::LAYER, errno);
    }
    let n = step.checked_sub(step::VOLUME)?;
    let r = cfg.mounts.as_slice().get((n & 15) as usize)?;
    let (mut e, hint): (Error, &[u8]) = match n >> 4 {
        SOURCE => (
            Error::sys("open the volume source", r.source, errno),
            match errno {
                Errno::NOENT => b"a bind source must exist (tinyctr creates nothing on the host)",
                _ => b"",
            },
        ),
        TARGET => (
            Error::sys("resolve the mount target", r.target, errno),
            match errno {
                Errno::NOENT if cfg.rootfs.is_none() => {
                    b"without --rootfs the target must exist: it is a host path, and tinyctr creates nothing on the host"
                }
                Errno::BUSY => b"it is the container's root directory, which a mount cannot cover",
                Errno::PERM => b"it is in /proc, where tinyctr mounts nothing",
                Errno::LOOP => b"too many symbolic links, or a /proc magic link",
                Errno::ROFS => b"its parent is read-only: create it in the image first",
                _ => b"",
            },
        ),
        op @ (MOUNT | READ_ONLY) => {
            let mut e = Error::usage(if op == MOUNT { b"mount " } else { b"make read-only " });
            match r.kind {
                Kind::Tmpfs => e.msg.push(b"the tmpfs"),
                Kind::Bind => {
                    e.msg.push(b"the volume \"");
                    push_shown(&mut e.msg, r.source);
                    e.msg.push(b"\"")
                }
            };
            e.msg.push(b" on \"");
            push_shown(&mut e.msg, r.target);
            e.msg.push(b"\": ");
            push_errno(&mut e.msg, errno);
            let hint: &[u8] = match errno {
                Errno::NOTDIR | Errno::ISDIR => b"a file goes on a file, a directory on a directory",
                Errno::STALE => b"the target changed while it was mounted",
                Errno::INVAL if r.kind == Kind::Tmpfs => b"the kernel refused the size or mode",
                _ => b"",
            };
            (e, hint)
        }
        _ => return None,
    };
    if !hint.is_empty() {
        e = e.hint(hint);
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn add(syntax: Syntax, v: &str) -> core::result::Result<Req<'static>, String> {
        let v: &'static CStr = Box::leak(CString::new(v).unwrap().into_boxed_c_str());
        let mut m = Mounts::EMPTY;
        match m.add(syntax, b"-x", v) {
            Ok(()) => Ok(m.as_slice()[0]),
            Err(e) => {
                assert_eq!(e.status, 125);
                Err(String::from_utf8_lossy(e.msg.as_bytes()).into_owned())
            }
        }
    }

    fn bind(src: &'static str, dst: &'static str, ro: bool) -> Req<'static> {
        Req { kind: Kind::Bind, source: src.as_bytes(), target: dst.as_bytes(), read_only: ro, ..Req::EMPTY }
    }

    fn tmpfs(dst: &'static str, flags: u32, size: u64, mode: Option<u32>, ro: bool) -> Req<'static> {
        Req { kind: Kind::Tmpfs, target: dst.as_bytes(), flags, size, mode, read_only: ro, ..Req::EMPTY }
    }

    #[test]
    fn volumes() {
        assert_eq!(add(Syntax::Volume, "/a:/b"), Ok(bind("/a", "/b", false)));
        assert_eq!(add(Syntax::Volume, "/a:/b:ro"), Ok(bind("/a", "/b", true)));
        assert_eq!(add(Syntax::Volume, "/a b:/c d:rw"), Ok(bind("/a b", "/c d", false)));
        for (v, msg) in [
            ("/data", "-x: '/data' has no DST: anonymous volumes are not supported (use SRC:DST[:ro])"),
            (":/b", "-x: ':/b' has no SRC (use SRC:DST[:ro])"),
            ("data:/b", "-x: 'data:/b': 'data' is not an absolute host path: named volumes are not supported"),
            ("/a:b", "-x: '/a:b': 'b' is not an absolute path in the container"),
            ("/a:", "-x: '/a:' has an empty DST (the path in the container)"),
            ("/a://", "-x: '/a://': '//' is the container's root, which a mount cannot cover"),
            ("/a:/b:rx", "-x: '/a:/b:rx': 'rx' is not a volume mode (one of ro or rw)"),
            ("/a:/b:ro,rw", "-x: '/a:/b:ro,rw': 'rw' is not a volume mode (one of ro or rw)"),
            ("/a:/b:ro:x", "-x: '/a:/b:ro:x': 'ro:x' is not a volume mode (one of ro or rw)"),
        ] {
            assert_eq!(add(Syntax::Volume, v).unwrap_err(), msg);
        }
    }

    #[test]
    fn mount_options() {
        assert_eq!(add(Syntax::Mount, "type=bind,source=/a,target=/b"), Ok(bind("/a", "/b", false)));
        assert_eq!(add(Syntax::Mount, "type=bind,src=/a,dst=/b,readonly"), Ok(bind("/a", "/b", true)));
        assert_eq!(add(Syntax::Mount, "destination=/b,ro=true,source=/a,type=bind"), Ok(bind("/a", "/b", true)));
        assert_eq!(add(Syntax::Mount, "type=bind,src=/a,dst=/b,readonly=0"), Ok(bind("/a", "/b", false)));
        assert_eq!(add(Syntax::Mount, "type=tmpfs,dst=/t"), Ok(tmpfs("/t", TMPFS_FLAGS, 0, None, false)));
        assert_eq!(
            add(Syntax::Mount, "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770,readonly"),
            Ok(tmpfs("/t", TMPFS_FLAGS, 64 << 20, Some(0o1770), true))
        );
        for (v, msg) in [
            ("source=/a,target=/b", "needs type=bind or type=tmpfs (named volumes are not supported)"),
            ("type=volume,src=x,dst=/b", "'volume' is not supported: named volumes are not (type=bind or tmpfs)"),
            ("type=npipe,dst=/b", "'npipe' is not a mount type (bind or tmpfs)"),
            ("type=bind,src=/a,dst=/b,bind-propagation=shared", "'bind-propagation' is not a --mount key"),
            ("type=bind,dst=/b", "needs source=SRC (an absolute host path)"),
            ("type=bind,src=rel,dst=/b", "'rel' is not an absolute host path"),
            ("type=bind,src=/a", "needs target=DST"),
            ("type=bind,src=/a,dst=b", "'b' is not an absolute path in the container"),
            ("type=bind,src=/a,dst=/b,readonly=maybe", "'readonly=maybe' is not a readonly value"),
            ("type=bind,src=/a,dst=/b,tmpfs-size=1m", "'tmpfs-size' is for type=tmpfs only"),
            ("type=tmpfs,src=/a,dst=/b", "has a source, which a tmpfs does not take"),
            ("type=tmpfs,dst=/b,tmpfs-size=12q", "'12q' is not a size (try 64m)"),
            ("type=tmpfs,dst=/b,tmpfs-mode=999", "'999' is not an octal mode (try 1777)"),
            ("type=tmpfs,dst=/b,tmpfs-mode=17777", "'17777' is not an octal mode (try 1777)"),
        ] {
            let got = add(Syntax::Mount, v).unwrap_err();
            assert!(got.contains(msg), "{v}: {got}");
        }
    }

    #[test]
    fn tmpfs_options() {
        assert_eq!(add(Syntax::Tmpfs, "/t"), Ok(tmpfs("/t", TMPFS_FLAGS, 0, None, false)));
        assert_eq!(
            add(Syntax::Tmpfs, "/t:size=1g,mode=700,exec,ro"),
            Ok(tmpfs("/t", MS_NOSUID | MS_NODEV, 1 << 30, Some(0o700), true))
        );
        assert_eq!(add(Syntax::Tmpfs, "/t:suid,dev,noexec,rw"), Ok(tmpfs("/t", MS_NOEXEC, 0, None, false)));
        for (v, msg) in [
            ("t", "'t' is not an absolute path in the container"),
            ("/", "'/' is the container's root"),
            ("/t:size=lots", "'lots' is not a size (try 64m)"),
            ("/t:size=0", "'0' is not a size: it must be more than 0"),
            ("/t:mode=8", "'8' is not an octal mode"),
            ("/t:uid=0", "'uid=0' is not a tmpfs option"),
            ("/t:exec=1", "'exec=1' is not a tmpfs option"),
            ("/t:ro=1", "'ro=1' is not a tmpfs option"),
        ] {
            let got = add(Syntax::Tmpfs, v).unwrap_err();
            assert!(got.contains(msg), "{v}: {got}");
        }
    }

    #[test]
    fn at_most_max_mounts() {
        let mut m = Mounts::EMPTY;
        for _ in 0..MAX {
            assert!(m.add(Syntax::Tmpfs, b"--tmpfs", c"/t").is_ok());
        }
        let Err(e) = m.add(Syntax::Tmpfs, b"--tmpfs", c"/t") else { panic!("a 17th mount") };
        assert_eq!(e.msg.as_bytes(), b"--tmpfs: more than 16 mounts (-v, --mount and --tmpfs together)");
        assert_eq!(m.as_slice().len(), MAX);
    }

    #[test]
    fn tmpfs_data_for_the_kernel() {
        let text = |size, mode| String::from_utf8(tmpfs_data(&tmpfs("/t", 0, size, mode, false)).as_bytes().to_vec());
        assert_eq!(text(0, None).unwrap(), "");
        assert_eq!(text(1 << 20, None).unwrap(), "size=1048576");
        assert_eq!(text(0, Some(0o755)).unwrap(), "mode=0755");
        assert_eq!(text(65536, Some(0o1777)).unwrap(), "size=65536,mode=1777");
    }
}
