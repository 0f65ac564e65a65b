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
    MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME,
    MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, MS_BIND, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID,
    MS_NOSYMFOLLOW, MS_RDONLY, MS_REC, MS_RELATIME, MS_STRICTATIME, PROC_SUPER_MAGIC,
};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use super::mounts::{mount, remount_adding};
use super::overlay::{self, Layer};
use super::resolve::{self, Create};
use super::{step, Failure};
use crate::buf::Buf;
use crate::cli::RunConfig;
use crate::error::{push_shown, Error, Result};
use crate::sys::args::CArgs;
use crate::words;

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
    /// The [`PER_MOUNT`] flags asked for (a bind: added to its source's; only OCI mounts
    /// ask), and for a tmpfs any other `MS_*` flag of its own; tmpfs only: the size in
    /// bytes (0: the kernel's default, half of RAM) and the mode of its root (None: 1777).
    pub flags: u32,
    pub size: u64,
    pub mode: Option<u32>,
    /// A bind's propagation once attached (`MS_PRIVATE`, `MS_SLAVE` or `MS_UNBINDABLE`,
    /// with `MS_REC`: an OCI mount's option); 0: as its source's (the namespace's).
    pub propagation: u32,
    /// An OCI tmpfs's options as config.json gives them (docker's `--tmpfs
    /// /run:uid=1000,nr_inodes=1k`), for the kernel to read; `None`: `size` and `mode`.
    #[cfg(feature = "oci")]
    pub data: Option<&'a CStr>,
    /// An OCI tmpfs's `tmpcopyup`: it starts with a copy of what it covers (super::copyup).
    #[cfg(feature = "oci")]
    pub copy_up: bool,
}

/// The flags a mount has of its own, not its filesystem's (those a bind remount or
/// mount_setattr sets): nosuid, nodev, noexec, the atime mode, nodiratime, nosymfollow.
pub const PER_MOUNT: u32 =
    MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW;

impl Req<'_> {
    pub const EMPTY: Req<'static> = Req {
        kind: Kind::Bind,
        source: b"",
        target: b"",
        read_only: false,
        flags: 0,
        size: 0,
        mode: None,
        propagation: 0,
        #[cfg(feature = "oci")]
        data: None,
        #[cfg(feature = "oci")]
        copy_up: false,
    };
}

/// Which option spelled a mount (bits, for [`KEYS`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Syntax {
    Volume = 1,
    Mount = 2,
    Tmpfs = 4,
}

/// What an option that adds a mount says beyond [`MAX`].
pub const TOO_MANY: &[u8] = b": more than 16 mounts (-v, --mount, --tmpfs and --device together)";

/// The mounts of one run, in the order given.
pub struct Mounts<'a> {
    reqs: [Req<'a>; MAX],
    len: usize,
}

impl<'a> Mounts<'a> {
    /// No mounts. A function, not a const: a const's image would be 900 bytes of
    /// placeholders in the binary, filled here by a loop instead.
    pub fn empty() -> Mounts<'static> {
        Mounts { reqs: core::array::from_fn(|_| Req::EMPTY), len: 0 }
    }

    /// Appends a mount an OCI config.json describes; false when the list is full.
    pub fn push(&mut self, req: Req<'a>) -> bool {
        let Some(slot) = self.reqs.get_mut(self.len) else { return false };
        *slot = req;
        self.len += 1;
        true
    }

    pub fn as_slice(&self) -> &[Req<'a>] {
        &self.reqs[..self.len]
    }

    /// Parses one option's value and appends it; the error names the option and value.
    #[inline(never)]
    pub fn add(&mut self, syntax: Syntax, spelled: &[u8], value: &'a CStr) -> Result<()> {
        let v = value.to_bytes();
        let mut e = Error::usage(spelled);
        let Some(slot) = self.reqs.get_mut(self.len) else {
            e.msg.push(TOO_MANY);
            return Err(e);
        };
        let Bad(part, why) = match parse(syntax, v) {
            Ok(req) => {
                *slot = req;
                self.len += 1;
                return Ok(());
            }
            Err(bad) => bad,
        };
        e.msg.push(b": '");
        push_shown(&mut e.msg, v);
        e.msg.push(b"'");
        if !part.is_empty() {
            e.msg.push(b": '");
            push_shown(&mut e.msg, part);
            e.msg.push(b"'");
        }
        let why = match why {
            // parse_size's own words, asked again (an error path).
            Why::Size => crate::limits::parse_size(part).err(),
            _ => words::nth(WHY, why as usize),
        };
        e.msg.push(b" ").push_str(why.unwrap_or(""));
        Err(e)
    }
}

/// What is wrong with a value: the offending part (may be empty) and why.
#[derive(Debug, PartialEq, Eq)]
struct Bad<'a>(&'a [u8], Why);

/// Why a value is refused: entry `why as usize` of [`WHY`] (a byte at each of the twenty
/// places that refuse, where a `&str` would be sixteen), or for [`Why::Size`] what
/// `parse_size` says of the part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Why {
    NoDst,
    NoSrc,
    VolumeMode,
    MountKey,
    TmpfsOption,
    NeedsValue,
    TakesNoValue,
    NamedVolume,
    MountType,
    Readonly,
    Octal,
    NeedsTarget,
    EmptyDst,
    RelativeDst,
    RootDst,
    TooLong,
    RelativeSrc,
    TmpfsOnly,
    NeedsSource,
    TmpfsSource,
    NeedsType,
    Size,
}

/// The texts of [`Why`], in its order (`words::nth`).
const WHY: &str = "has no DST: anonymous volumes are not supported (use SRC:DST[:ro])|\
    has no SRC (use SRC:DST[:ro])|\
    is not a volume mode (ro or rw)|\
    is not a --mount key (type, source, target, readonly, tmpfs-size, tmpfs-mode)|\
    is not a tmpfs option (ro, rw, [no]exec, [no]suid, [no]dev, size=, mode=)|\
    needs a value|\
    takes no value|\
    is not supported: named volumes are not (type=bind or tmpfs)|\
    is not a mount type (bind or tmpfs)|\
    is not a readonly value (true or false)|\
    is not an octal mode (try 1777)|\
    needs target=DST|\
    has an empty DST (the path in the container)|\
    is not an absolute path in the container|\
    is the container's root|\
    is too long for a path|\
    is not an absolute host path: named volumes are not supported|\
    is for type=tmpfs only|\
    needs source=SRC (an absolute host path)|\
    gives a tmpfs a source|\
    needs type=bind or type=tmpfs (named volumes are not supported)|";

/// docker's defaults for a tmpfs: `rw,noexec,nosuid,nodev`.
const TMPFS_FLAGS: u32 = MS_NOSUID | MS_NODEV | MS_NOEXEC;

/// The key words of the three syntaxes (docker's spellings: `-v`'s and `--tmpfs`'s
/// words after the paths, `--mount`'s `key=value`s), with [`KEY_CODES`]: which key each
/// is, times 8, plus the syntaxes that take it.
static KEY_NAMES: &str = "type source src target dst destination readonly ro rw tmpfs-size tmpfs-mode size mode exec noexec suid nosuid dev nodev";
static KEY_CODES: [u8; 19] = {
    const V: u8 = Syntax::Volume as u8;
    const M: u8 = Syntax::Mount as u8;
    const T: u8 = Syntax::Tmpfs as u8;
    const fn k(key: u8, syntaxes: u8) -> u8 {
        key << 3 | syntaxes
    }
    [
        k(K_TYPE, M),
        k(K_SOURCE, M),
        k(K_SOURCE, M),
        k(K_TARGET, M),
        k(K_TARGET, M),
        k(K_TARGET, M),
        k(K_RO, M),
        k(K_RO, V | M | T),
        k(K_RW, V | T),
        k(K_SIZE, M),
        k(K_MODE, M),
        k(K_SIZE, T),
        k(K_MODE, T),
        k(K_FLAG, T),
        k(K_FLAG + 1, T),
        k(K_FLAG + 2, T),
        k(K_FLAG + 3, T),
        k(K_FLAG + 4, T),
        k(K_FLAG + 5, T),
    ]
};
// Keys; K_SOURCE..=TARGET, K_SIZE and K_MODE take a value, K_RO may (`readonly=false`).
const K_TYPE: u8 = 0;
const K_SOURCE: u8 = 1;
const K_TARGET: u8 = 2;
const K_RO: u8 = 3;
const K_RW: u8 = 4;
const K_SIZE: u8 = 5;
const K_MODE: u8 = 6;
/// exec, noexec, suid, nosuid, dev, nodev: K_FLAG + 2 * which + (1 if it sets the bit).
const K_FLAG: u8 = 7;
const FLAG_BITS: [u32; 3] = [MS_NOEXEC, MS_NOSUID, MS_NODEV];

fn split_once(s: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&c| c == sep) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

/// `-v SRC:DST[:ro|rw]`, `--tmpfs DST[:OPTS]` (OPTS mount(8) words) and `--mount
/// type=bind|tmpfs,...` (docker's keys; values cannot hold commas), in one pass: the
/// paths at the front, then the comma-separated words through [`KEYS`].
fn parse(syntax: Syntax, v: &[u8]) -> core::result::Result<Req<'_>, Bad<'_>> {
    let mut req = Req { flags: TMPFS_FLAGS, ..Req::EMPTY };
    let (mut kind, mut src, mut dst, mut words) = (None, None, None, v);
    if syntax == Syntax::Volume {
        let (s, rest) = split_once(v, b':');
        let rest = rest.ok_or(Bad(b"", Why::NoDst))?;
        (kind, src) = (Some(Kind::Bind), Some(s));
        let (d, w) = split_once(rest, b':');
        (dst, words) = (Some(d), w.unwrap_or(b""));
        if s.is_empty() {
            return Err(Bad(b"", Why::NoSrc));
        }
    } else if syntax == Syntax::Tmpfs {
        let (d, w) = split_once(v, b':');
        (kind, dst, words) = (Some(Kind::Tmpfs), Some(d), w.unwrap_or(b""));
    }
    let mut tmpfs_only: &[u8] = b"";
    let mut rest = words;
    while !rest.is_empty() {
        let (word, tail) = split_once(rest, b',');
        rest = tail.unwrap_or(b"");
        let (name, val) = split_once(word, b'=');
        if word.is_empty() {
            continue;
        }
        let code = match crate::words::position(KEY_NAMES, name) {
            Some(i) if KEY_CODES[i] & syntax as u8 != 0 => KEY_CODES[i] >> 3,
            _ => {
                return Err(Bad(
                    name,
                    match syntax {
                        Syntax::Volume => Why::VolumeMode,
                        Syntax::Mount => Why::MountKey,
                        Syntax::Tmpfs => Why::TmpfsOption,
                    },
                ))
            }
        };
        let takes = code <= K_TARGET || code == K_SIZE || code == K_MODE;
        let val = match val {
            Some(v) if takes || code == K_RO && syntax == Syntax::Mount => v,
            None if !takes => b"",
            _ => return Err(Bad(word, if takes { Why::NeedsValue } else { Why::TakesNoValue })),
        };
        match code {
            K_TYPE => {
                kind = match crate::words::position("bind tmpfs volume", val) {
                    Some(0) => Some(Kind::Bind),
                    Some(1) => Some(Kind::Tmpfs),
                    Some(_) => return Err(Bad(val, Why::NamedVolume)),
                    None => return Err(Bad(val, Why::MountType)),
                }
            }
            K_SOURCE => src = Some(val),
            K_TARGET => dst = Some(val),
            K_RO | K_RW => {
                // The leading space makes an empty word first: `ro`, `readonly` alone.
                req.read_only = match crate::words::position(" true 1 false 0", val) {
                    Some(i) => i < 3 && code == K_RO,
                    None => return Err(Bad(word, Why::Readonly)),
                }
            }
            K_SIZE => {
                req.size = crate::limits::parse_size(val).map_err(|_| Bad(val, Why::Size))?;
                tmpfs_only = name;
            }
            K_MODE => {
                // An octal mode, 7777 at most.
                let mut mode = 0u32;
                for &c in val {
                    if !(b'0'..=b'7').contains(&c) || mode >= 0o1000 {
                        return Err(Bad(val, Why::Octal));
                    }
                    mode = mode * 8 + (c - b'0') as u32;
                }
                if val.is_empty() {
                    return Err(Bad(val, Why::Octal));
                }
                req.mode = Some(mode);
                tmpfs_only = name;
            }
            _ => {
                let f = code - K_FLAG;
                let bit = FLAG_BITS[(f / 2) as usize];
                req.flags = if f & 1 != 0 { req.flags | bit } else { req.flags & !bit };
            }
        }
    }
    let dst = dst.ok_or(Bad(b"", Why::NeedsTarget))?;
    req.target = match dst {
        b"" => return Err(Bad(b"", Why::EmptyDst)),
        _ if !dst.starts_with(b"/") => return Err(Bad(dst, Why::RelativeDst)),
        _ if dst.iter().all(|&c| c == b'/') => return Err(Bad(dst, Why::RootDst)),
        _ if dst.len() >= resolve::PATH_MAX => return Err(Bad(b"", Why::TooLong)),
        _ => dst,
    };
    match (kind, src) {
        (Some(Kind::Bind), Some(src)) if !src.starts_with(b"/") => Err(Bad(src, Why::RelativeSrc)),
        (Some(Kind::Bind), _) if !tmpfs_only.is_empty() => Err(Bad(tmpfs_only, Why::TmpfsOnly)),
        (Some(Kind::Bind), Some(src)) => Ok(Req { kind: Kind::Bind, source: src, flags: 0, ..req }),
        (Some(Kind::Bind), None) => Err(Bad(b"", Why::NeedsSource)),
        (Some(Kind::Tmpfs), None) => Ok(Req { kind: Kind::Tmpfs, ..req }),
        (Some(Kind::Tmpfs), Some(_)) => Err(Bad(b"", Why::TmpfsSource)),
        (None, _) => Err(Bad(b"", Why::NeedsType)),
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
    /// An OCI config's `linux.devices`, made in /dev (`run` has none).
    pub nodes: &'a [super::dev::Node<'a>],
    /// An OCI config's `cgroup` mount at /sys/fs/cgroup (`run` has none).
    pub cgroupfs: Option<&'a super::cgroupfs::Table>,
    /// An OCI config's own options for the filesystems every container gets.
    pub standard: Option<&'a super::Standard<'a>>,
    /// An OCI config's masked and read-only paths (`None`: docker's).
    pub masks: super::Lists<'a>,
    /// An OCI config's new user namespace: /dev's nodes are the host's, bound
    /// (`dev::populate`), and the init waits for its id maps (trampoline).
    pub userns: bool,
    /// An OCI config's shared root propagation: the root and the old one are kept from
    /// the host's peer groups (`switch`).
    pub shared: bool,
    pub layer: Option<Layer<'a>>,
    pub lacks: u8,
}

impl MountPlan<'_> {
    /// Whether to do without `feature` (a constant false in release builds).
    pub fn lacks(&self, feature: u8) -> bool {
        cfg!(debug_assertions) && self.lacks & feature != 0
    }
}

/// Parent side, before clone: the child's part of the plan, and the checks that can be
/// made up front (the layer's directory, whose lock comes back with it: the caller holds
/// it for the run, and the child, which never returns there, never closes it). A run with
/// none of this costs nothing here.
#[inline(never)]
pub fn plan<'a>(cfg: &'a RunConfig<'a>, host_env: CArgs<'_>) -> Result<(MountPlan<'a>, Option<OwnedFd>)> {
    let mut lacks = 0;
    if cfg!(debug_assertions) && (cfg.layer.is_some() || cfg.mounts.len > 0) {
        lacks = match crate::env::lookup(host_env, b"TINYCTR_DEBUG_KERNEL").map(CStr::to_bytes) {
            Some(b"TINYCTR_DEBUG_KERNEL=5.11") => LACKS_SETATTR,
            Some(b"TINYCTR_DEBUG_KERNEL=5.5") => LACKS_SETATTR | LACKS_OPENAT2,
            Some(b"TINYCTR_DEBUG_KERNEL=5.1") => LACKS_SETATTR | LACKS_OPENAT2 | LACKS_MOUNT_API,
            _ => 0,
        };
    }
    let layer_lock = match cfg.layer {
        Some(layer) => overlay::check(layer)?,
        None => None,
    };
    let nodes = cfg.oci().map_or(&[][..], |o| o.nodes);
    let cgroupfs = if cfg!(feature = "oci") { cfg.oci().and_then(|o| o.cgroupfs) } else { None };
    let standard = if cfg!(feature = "oci") { cfg.oci().map(|o| &o.standard) } else { None };
    let masks = if cfg!(feature = "oci") { cfg.oci().map(|o| o.masks) } else { None };
    let userns = cfg!(feature = "oci") && cfg.oci().is_some_and(|o| o.userns());
    let shared =
        cfg!(feature = "oci") && cfg.oci().is_some_and(|o| o.root_propagation & linux_raw_sys::general::MS_SHARED != 0);
    let list = cfg.mounts.as_slice();
    let plan = MountPlan { list, nodes, cgroupfs, standard, masks, userns, shared, layer: cfg.layer, lacks };
    Ok((plan, layer_lock))
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

/// Child, in the new mount namespace (private), before the root switch.
#[inline(never)]
pub fn open_sources(plan: &MountPlan<'_>) -> core::result::Result<Sources, Failure> {
    let mut s = Sources { fds: Default::default(), dir: [false; MAX], legacy: plan.lacks(LACKS_MOUNT_API) };
    for (i, r) in plan.list.iter().enumerate().filter(|(_, r)| r.kind == Kind::Bind) {
        let (fd, dir) = open_source(r.source, &mut s.legacy).map_err(|e| (step::VOLUME + SOURCE * 16 + i as u8, e))?;
        (s.fds[i], s.dir[i]) = (Some(fd), dir);
    }
    Ok(s)
}

/// A clone of the mount tree at `path` (or, with `legacy`, an O_PATH descriptor), and
/// whether it is a directory. ENOSYS from open_tree turns `legacy` on.
#[inline(never)]
fn open_source(path: &[u8], legacy: &mut bool) -> core::result::Result<(OwnedFd, bool), Errno> {
    let mut buf = [0u8; resolve::PATH_MAX + 1];
    let path = resolve::copy_c_str(&mut buf, path)?;
    let tree = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC | OpenTreeFlags::AT_RECURSIVE;
    let fd = match if *legacy { Err(Errno::NOSYS) } else { rustix::mount::open_tree(CWD, path, tree) } {
        Err(Errno::NOSYS) => {
            *legacy = true;
            rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?
        }
        other => other?,
    };
    let dir = FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode).is_dir();
    Ok((fd, dir))
}

/// Child, after the root switch and the container's own /proc: makes every mount of the
/// plan, in order. `in_rootfs`: missing targets may be created (they are in the image,
/// or in the writable layer over it). The sources are closed on return, so no host
/// descriptor reaches the command.
pub fn mount_all(plan: &MountPlan<'_>, sources: Sources, in_rootfs: bool) -> core::result::Result<(), Failure> {
    if plan.list.is_empty() {
        return Ok(());
    }
    // Which operation on which mount failed, for the step number.
    let mut at = (TARGET, 0);
    mount_each(plan, &sources, in_rootfs, &mut at).map_err(|e| (step::VOLUME + at.0 * 16 + at.1 as u8, e))
}

fn mount_each(
    plan: &MountPlan<'_>,
    sources: &Sources,
    in_rootfs: bool,
    at: &mut (u8, usize),
) -> core::result::Result<(), Errno> {
    let root = rustix::fs::open(c"/", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let root = (fstat(&root)?, root);
    let mut no_setattr = plan.lacks(LACKS_SETATTR);
    let openat2 = !plan.lacks(LACKS_OPENAT2);
    for (i, r) in plan.list.iter().enumerate() {
        *at = (TARGET, i);
        let create = match (in_rootfs, r.kind) {
            (false, _) => Create::No,
            (true, Kind::Bind) if !sources.dir[i] => Create::File,
            (true, _) => Create::Dir,
        };
        let target = open_target(&root, r.target, create, openat2)?;
        at.0 = MOUNT;
        let Some(src) = sources.fds[i].as_ref() else {
            #[cfg(feature = "oci")]
            if r.copy_up {
                copy_up(r, &root, &target, openat2)?;
                continue;
            }
            mount_tmpfs(r, &target)?;
            continue;
        };
        let add = bind_flags(r);
        if !sources.legacy {
            // Read-only before it is attached, for the whole tree, keeping every other
            // flag; the remount after is for kernels before 5.12.
            let mut remount = false;
            if add != 0 {
                at.0 = READ_ONLY;
                let set = match no_setattr {
                    true => Err(Errno::NOSYS),
                    false => {
                        let (set, clear) = setattr_of(add);
                        crate::sys::mountapi::set_tree_attr(src, set, clear)
                    }
                };
                match set {
                    Err(Errno::NOSYS) => (no_setattr, remount) = (true, true),
                    r => r?,
                }
                at.0 = MOUNT;
            }
            let empty = MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH;
            rustix::mount::move_mount(src, c"", &target, c"", empty)?;
            at.0 = READ_ONLY;
            // The clone is attached now: its descriptor names the new mount's root.
            if remount {
                remount_adding(fd_path(src).as_cstr(), add)?;
            }
            at.0 = MOUNT;
            propagate(fd_path(src).as_cstr(), r.propagation)?;
            continue;
        }
        mount(fd_path(src).as_cstr(), fd_path(&target).as_cstr(), c"none", MS_BIND | MS_REC, None)?;
        if add != 0 || r.propagation != 0 {
            // The target's descriptor names what the bind now covers: find the new mount
            // again, and check it is the source's root before changing it.
            at.0 = READ_ONLY;
            let top = open_target(&root, r.target, Create::No, openat2)?;
            if fstat(&top)? != fstat(src)? {
                return Err(Errno::BUSY);
            }
            if add != 0 {
                remount_adding(fd_path(&top).as_cstr(), add)?;
            }
            at.0 = MOUNT;
            propagate(fd_path(&top).as_cstr(), r.propagation)?;
        }
    }
    Ok(())
}

/// What a bind adds to its source's mount flags (`MS_*`): `ro`, and an OCI mount's
/// [`PER_MOUNT`] ones.
fn bind_flags(r: &Req<'_>) -> u32 {
    (r.read_only as u32 * MS_RDONLY) | (r.flags & PER_MOUNT)
}

/// `MS_*` per-mount flags as mount_setattr's bits to set and to clear: ro, nosuid,
/// nodev and noexec are the same bits; an atime mode replaces the mount's (the kernel
/// wants the whole atime field cleared with it); relatime is the field's zero.
fn setattr_of(ms: u32) -> (u64, u64) {
    const _: () = assert!(
        MOUNT_ATTR_RDONLY == MS_RDONLY
            && linux_raw_sys::general::MOUNT_ATTR_NOSUID == MS_NOSUID
            && linux_raw_sys::general::MOUNT_ATTR_NODEV == MS_NODEV
            && linux_raw_sys::general::MOUNT_ATTR_NOEXEC == MS_NOEXEC
    );
    let mut set = ms & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
    for (ms_bit, attr) in [(MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW), (MS_NODIRATIME, MOUNT_ATTR_NODIRATIME)] {
        if ms & ms_bit != 0 {
            set |= attr;
        }
    }
    let atime = [
        (MS_NOATIME, MOUNT_ATTR_NOATIME),
        (MS_STRICTATIME, MOUNT_ATTR_STRICTATIME),
        (MS_RELATIME, MOUNT_ATTR_RELATIME),
    ]
    .into_iter()
    .find(|&(b, _)| ms & b != 0);
    let clear = match atime {
        Some((_, attr)) => {
            set |= attr;
            MOUNT_ATTR__ATIME
        }
        None => 0,
    };
    (set as u64, clear as u64)
}

/// Sets the propagation type `flags` (`MS_*`, 0: none asked) on the mount at `path`.
fn propagate(path: &CStr, flags: u32) -> core::result::Result<(), Errno> {
    match flags {
        0 => Ok(()),
        f => rustix::mount::mount_change(path, rustix::mount::MountPropagationFlags::from_bits_retain(f)),
    }
}

/// The target, resolved inside `root`, and never the root itself or a place in /proc
/// (the mounts after it go through /proc/self/fd, and procfs files are the kernel's).
fn open_target(
    root: &((u64, u64), OwnedFd),
    path: &[u8],
    create: Create,
    openat2: bool,
) -> core::result::Result<OwnedFd, Errno> {
    let fd = resolve::open_in_root(root.1.as_fd(), path, create, openat2)?;
    if fstat(&fd)? == root.0 {
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
    #[cfg(feature = "oci")]
    if let Some(given) = r.data {
        return mount(c"tmpfs", fd_path(target).as_cstr(), c"tmpfs", flags, Some(given));
    }
    let data = if data.is_empty() { None } else { Some(data.as_cstr()) };
    mount(c"tmpfs", fd_path(target).as_cstr(), c"tmpfs", flags, data)
}

/// A `tmpcopyup` tmpfs: the directory it covers, opened before (a mount hides it from
/// paths, not from a descriptor), copied into it once mounted; read-only only after.
#[cfg(feature = "oci")]
#[inline(never)]
fn copy_up(
    r: &Req<'_>,
    root: &((u64, u64), OwnedFd),
    target: &OwnedFd,
    openat2: bool,
) -> core::result::Result<(), Errno> {
    let dir = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let below = rustix::fs::openat(target, c".", dir, Mode::empty())?;
    mount_tmpfs(&Req { read_only: false, ..*r }, target)?;
    // The new mount, found again by its path inside the root: it must be a tmpfs other
    // than what it covers (nothing of the container runs yet; this checks the walk).
    let top = open_target(root, r.target, Create::No, openat2)?;
    if fstat(&top)? == fstat(&below)? || rustix::fs::fstatfs(&top)?.f_type as u32 != linux_raw_sys::general::TMPFS_MAGIC
    {
        return Err(Errno::BUSY);
    }
    super::copyup::copy(below, rustix::fs::openat(&top, c".", dir, Mode::empty())?)?;
    match r.read_only {
        true => remount_adding(fd_path(&top).as_cstr(), MS_RDONLY),
        false => Ok(()),
    }
}

/// tmpfs's options: `size=BYTES,mode=OCTAL`, either or neither.
#[inline(never)]
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
        let sep: &[u8] = if data.is_empty() { b"mode=" } else { b",mode=" };
        data.push(sep).push(&octal);
    }
    data
}

/// `/proc/self/fd/N`: the path of what `fd` holds, for the calls that take only paths.
fn fd_path(fd: &OwnedFd) -> Buf<32> {
    let mut b = Buf::new();
    b.push(b"/proc/self/fd/").push_u64(fd.as_raw_fd() as u64);
    b
}

/// What each range of steps was doing (`words::nth`); SOURCE's object is the source, the
/// others' the target.
const OPS: &str = "open the volume source|resolve the mount target|mount on|make read-only the mount on|";

/// Hint keys besides the operations: a target without --rootfs, a step of the layer
/// (`LAYER + its step`), any step of the layer.
const HOST_TARGET: u8 = 4;
/// An OCI tmpfs's mount, with hints of its own ([`TMPFS_HINTS`]).
#[cfg(feature = "oci")]
const TMPFS: u8 = 5;
const LAYER: u8 = 8;

/// Where an OCI tmpfs's mount fails: its options go to the kernel as written, and a
/// `tmpcopyup` copy must fit.
#[cfg(feature = "oci")]
const TMPFS_HINTS: [(Errno, &str); 3] = [
    (Errno::INVAL, "tmpfs refused an option (config.json's are passed on as written)"),
    (Errno::NOSPC, "tmpcopyup: what the directory holds does not fit the tmpfs"),
    (Errno::LOOP, "tmpcopyup copies at most 16 levels of directories"),
];
const ANY_LAYER: u8 = 7;

/// The texts of [`HINTS`] (`words::nth`).
const HINT_TEXTS: &str = "a bind source must exist (tinyctr creates nothing on the host)|\
    without --rootfs a target must exist (tinyctr creates nothing on the host)|\
    it is the container's root|it is in /proc, where tinyctr mounts nothing|\
    too many symbolic links, or a /proc magic link|a file goes on a file, a directory on a directory|\
    the target changed while it was mounted|this kernel has no overlayfs: modprobe overlay|\
    the overlay directory is in use|the writable layer needs Linux 5.2 (the new mount API)|";

/// Hints where the errno alone would mislead: (key, errno, entry of [`HINT_TEXTS`]).
static HINTS: [(u8, u8, u8); 11] = {
    use linux_raw_sys::errno::*;
    [
        (SOURCE, ENOENT as u8, 0),
        (HOST_TARGET, ENOENT as u8, 1),
        (TARGET, EBUSY as u8, 2),
        (TARGET, EPERM as u8, 3),
        (TARGET, ELOOP as u8, 4),
        (MOUNT, ENOTDIR as u8, 5),
        // What move_mount says for a file onto a directory, or the reverse.
        (MOUNT, EINVAL as u8, 5),
        (READ_ONLY, EBUSY as u8, 6),
        (LAYER + overlay::FS, ENODEV as u8, 7),
        (LAYER + overlay::CREATE, EBUSY as u8, 8),
        (ANY_LAYER, ENOSYS as u8, 9),
    ]
};

/// Parent side: the one-line error for a step of this module or of [`overlay`].
#[inline(never)]
#[cold]
pub fn describe(cfg: &RunConfig<'_>, step: u8, errno: Errno) -> Option<Error> {
    let (op, obj, key) = if step >= step::LAYER {
        let s = step - step::LAYER;
        let op = words::nth(overlay::OPS, s as usize)?;
        let obj = match (overlay::OBJECTS.get(s as usize)?, cfg.layer) {
            (&overlay::ROOT, _) => cfg.rootfs,
            (&overlay::KEPT, Some(Layer::Kept(dir))) => Some(dir),
            _ => None,
        };
        (op, obj.map_or(&b""[..], CStr::to_bytes), LAYER + s)
    } else {
        let n = step.checked_sub(step::VOLUME)?;
        let r = cfg.mounts.as_slice().get((n & 15) as usize)?;
        let op = n >> 4;
        let key = if op == TARGET && cfg.rootfs.is_none() { HOST_TARGET } else { op };
        #[cfg(feature = "oci")]
        let key = if op == MOUNT && r.kind == Kind::Tmpfs { TMPFS } else { key };
        (words::nth(OPS, op as usize)?, if op == SOURCE { r.source } else { r.target }, key)
    };
    // The hints of a host target are a target's too; ANY_LAYER's go with every layer step.
    let any = match key {
        HOST_TARGET => TARGET,
        LAYER.. => ANY_LAYER,
        _ => key,
    };
    let hint = HINTS.iter().find(|h| (h.0 == key || h.0 == any) && h.1 as i32 == errno.raw_os_error());
    let hint = hint.and_then(|h| words::nth(HINT_TEXTS, h.2 as usize)).unwrap_or("");
    #[cfg(feature = "oci")]
    let hint = match key {
        TMPFS => TMPFS_HINTS.iter().find(|h| h.0 == errno).map_or("", |h| h.1),
        _ => hint,
    };
    Some(Error::sys_hint(op, obj, errno, hint.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn add(syntax: Syntax, v: &str) -> core::result::Result<Req<'static>, String> {
        let v: &'static CStr = Box::leak(CString::new(v).unwrap().into_boxed_c_str());
        let mut m = Mounts::empty();
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
        assert_eq!(add(Syntax::Volume, "/a:/b:ro,rw"), Ok(bind("/a", "/b", false)));
        assert_eq!(add(Syntax::Volume, "/a b:/c d:rw"), Ok(bind("/a b", "/c d", false)));
        for (v, msg) in [
            ("/data", "-x: '/data' has no DST: anonymous volumes are not supported (use SRC:DST[:ro])"),
            (":/b", "-x: ':/b' has no SRC (use SRC:DST[:ro])"),
            ("data:/b", "-x: 'data:/b': 'data' is not an absolute host path: named volumes are not supported"),
            ("/a:b", "-x: '/a:b': 'b' is not an absolute path in the container"),
            ("/a:", "-x: '/a:' has an empty DST (the path in the container)"),
            ("/a://", "-x: '/a://': '//' is the container's root"),
            ("/a:/b:rx", "-x: '/a:/b:rx': 'rx' is not a volume mode (ro or rw)"),
            ("/a:/b:ro:x", "-x: '/a:/b:ro:x': 'ro:x' is not a volume mode (ro or rw)"),
            ("/a:/b:size=1", "-x: '/a:/b:size=1': 'size' is not a volume mode (ro or rw)"),
            ("/a:/b:ro=1", "-x: '/a:/b:ro=1': 'ro=1' takes no value"),
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
            ("type=bind,src=/a,dst=", "has an empty DST"),
            ("type=bind,src=/a,dst=/b,readonly=maybe", "'readonly=maybe' is not a readonly value"),
            ("type=bind,src,dst=/b", "'src' needs a value"),
            ("type=bind,src=/a,dst=/b,rw", "'rw' is not a --mount key"),
            ("type=bind,src=/a,dst=/b,tmpfs-size=1m", "'tmpfs-size' is for type=tmpfs only"),
            ("type=tmpfs,src=/a,dst=/b", "gives a tmpfs a source"),
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
            ("/t:uid=0", "'uid' is not a tmpfs option"),
            ("/t:exec=1", "'exec=1' takes no value"),
            ("/t:ro=1", "'ro=1' takes no value"),
            ("/t:size", "'size' needs a value"),
            ("/t:tmpfs-size=1m", "'tmpfs-size' is not a tmpfs option"),
        ] {
            let got = add(Syntax::Tmpfs, v).unwrap_err();
            assert!(got.contains(msg), "{v}: {got}");
        }
    }

    #[test]
    fn at_most_max_mounts() {
        let mut m = Mounts::empty();
        for _ in 0..MAX {
            assert!(m.add(Syntax::Tmpfs, b"--tmpfs", c"/t").is_ok());
        }
        let Err(e) = m.add(Syntax::Tmpfs, b"--tmpfs", c"/t") else { panic!("a 17th mount") };
        assert_eq!(e.msg.as_bytes(), b"--tmpfs: more than 16 mounts (-v, --mount, --tmpfs and --device together)");
        assert_eq!(m.as_slice().len(), MAX);
    }

    fn config<'a>(mounts: Mounts<'a>, rootfs: Option<&'a CStr>, layer: Option<Layer<'a>>) -> RunConfig<'a> {
        RunConfig {
            devices: crate::device::Rules::new(),
            hostname: c"h",
            workdir: None,
            host_net: false,
            init: false,
            rootfs,
            read_only: false,
            limits: Default::default(),
            mounts,
            layer,
            confine: Default::default(),
            env_count: 0,
            options: CArgs::empty(),
            command: CArgs::empty(),
            oci: None,
        }
    }

    fn line(e: Option<Error>) -> String {
        String::from_utf8_lossy(e.expect("no text for a step").line().as_bytes()).trim_end().to_owned()
    }

    /// Every step the child can report for these mounts has its own text naming the
    /// source or target; steps past the list, or of no operation, have none.
    #[test]
    fn every_step_is_described() {
        let mut m = Mounts::empty();
        assert!(m.add(Syntax::Volume, b"-v", c"/src:/dst").is_ok());
        assert!(m.add(Syntax::Tmpfs, b"--tmpfs", c"/t").is_ok());
        let cfg = config(m, None, None);
        let d = |op: u8, i: u8, e| describe(&cfg, step::VOLUME + op * 16 + i, e);
        assert_eq!(
            line(d(SOURCE, 0, Errno::NOENT)),
            "tinyctr: open the volume source \"/src\": ENOENT (No such file or directory); a bind source must exist (tinyctr creates nothing on the host)"
        );
        assert!(line(d(TARGET, 1, Errno::NOENT))
            .contains("\"/t\": ENOENT (No such file or directory); without --rootfs a target must exist"));
        assert!(line(d(TARGET, 0, Errno::LOOP)).ends_with("too many symbolic links, or a /proc magic link"));
        assert!(line(d(MOUNT, 1, Errno::INVAL)).starts_with("tinyctr: mount on \"/t\": EINVAL"));
        assert!(line(d(READ_ONLY, 0, Errno::BUSY))
            .ends_with("EBUSY (Device or resource busy); the target changed while it was mounted"));
        for op in 0..4 {
            assert!(d(op, 2, Errno::IO).is_none() && d(op, 15, Errno::IO).is_none());
        }
        assert!(describe(&cfg, step::VOLUME - 1, Errno::IO).is_none());
        let cfg = config(Mounts::empty(), Some(c"/img"), Some(Layer::Kept(c"/keep")));
        let l = |s: u8, e| line(describe(&cfg, step::LAYER + s, e));
        assert_eq!(
            l(overlay::FS, Errno::NODEV),
            "tinyctr: open overlayfs: ENODEV (No such device); this kernel has no overlayfs: modprobe overlay"
        );
        assert!(l(0, Errno::NOSYS)
            .contains("\"/img\": ENOSYS (Function not implemented); the writable layer needs Linux 5.2"));
        assert!(l(1, Errno::NOENT).contains("\"/keep\""));
        for s in 0..overlay::OBJECTS.len() as u8 {
            assert!(l(s, Errno::IO).contains(": EIO"));
        }
        assert!(describe(&cfg, step::LAYER + overlay::OBJECTS.len() as u8, Errno::IO).is_none());
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
