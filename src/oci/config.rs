//! config.json as plain data: [`parse`] turns a bundle's configuration into a [`Config`]
//! whose strings are C strings in the document's own buffer ([`Str`], a `&CStr` that is
//! `""` when absent, and [`StrList`]; see `json.rs`: nothing is copied, nothing
//! allocated). The same readers serve exec's process file
//! ([`parse_process`]) and update's resources ([`super::linux::parse_resources`]).
//!
//! What it honours is what containerd's `ctr run` and CRI write (OCI.md §5.2, §5.3): root,
//! hostname, process, mounts, hooks, annotations (kept as raw JSON for the state), and the
//! `linux` section (`linux.rs`). A member it does not know is skipped, as the spec says; a
//! member it knows with a bad value is an error naming its path, before anything is made.
//!
//! Lists of strings (args, env, mount options, masked paths, seccomp names...) have no
//! limit: they are packed in place. Lists of objects and numbers are fixed-capacity
//! arrays inside the `Config`, with an error past their limit: [`MAX_MOUNTS`] mounts,
//! [`MAX_GIDS`] additional groups, [`MAX_HOOKS`] hooks of each kind, and the limits of
//! `linux.rs`.

use super::json::{self, Json, Str, StrList};
use super::linux::Linux;
use super::names;
use crate::error::Result;

pub const MAX_MOUNTS: usize = 128;
/// `process.user.additionalGids` (Kubernetes adds a few supplemental groups and fsGroup).
pub const MAX_GIDS: usize = 64;
/// Hooks of each kind (the NVIDIA toolkit, the usual user, adds one).
pub const MAX_HOOKS: usize = 8;

pub use crate::sys::list::List;

/// Reads an array of objects into `list` (emptied first), each element by `f`.
pub(super) fn list<'a, T: Copy + Default, const N: usize>(
    j: &mut Json<'a>,
    list: &mut List<T, N>,
    f: fn(&mut Json<'a>, &mut T),
) {
    list.clear();
    let mut e = j.elements();
    while e.next(j).is_some() {
        let mut t = T::default();
        f(j, &mut t);
        if !list.push(t) {
            return too_many(j, N);
        }
    }
}

pub(super) fn too_many(j: &mut Json<'_>, n: usize) {
    j.fail_num("one too many: tinyctr takes at most", n as u64)
}

pub(super) use crate::rootfs::dev::has_dot_component;

/// A string that must be an absolute path, or empty (as good as absent).
pub(super) fn abs_path<'a>(j: &mut Json<'a>) -> Str<'a> {
    let p = j.str();
    if !matches!(p.to_bytes().first(), None | Some(b'/')) {
        j.fail_val("not an absolute path:", p.get().to_bytes());
    }
    p
}

/// Everything config.json says that tinyctr honours.
#[derive(Default)]
pub struct Config<'a> {
    pub oci_version: Str<'a>,
    pub root: Option<Root<'a>>,
    /// `""`: absent (runc sets none then).
    pub hostname: Str<'a>,
    /// The UTS namespace's NIS domain name (runtime-spec 1.1); `""`: left as it is.
    pub domainname: Str<'a>,
    pub process: Option<Process<'a>>,
    /// In order.
    pub mounts: List<Mount<'a>, MAX_MOUNTS>,
    pub linux: Linux<'a>,
    pub hooks: Hooks<'a>,
    /// The `annotations` object as written (valid JSON; empty when absent), for the state.
    pub annotations: &'a [u8],
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Root<'a> {
    /// Relative to the bundle, or absolute.
    pub path: Str<'a>,
    pub readonly: bool,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Process<'a> {
    pub terminal: bool,
    pub user: User,
    /// Never empty.
    pub args: StrList<'a>,
    pub env: StrList<'a>,
    /// Absolute.
    pub cwd: Str<'a>,
    /// `None`: the object is absent (runc then leaves the capabilities alone).
    pub capabilities: Option<Caps>,
    /// At most one per resource.
    pub rlimits: List<Rlimit, 16>,
    pub no_new_privileges: bool,
    /// -1000..=1000.
    pub oom_score_adj: Option<i32>,
    /// The AppArmor profile to run under (crate::oci::lsm).
    pub apparmor_profile: Str<'a>,
    /// An SELinux label: refused (crate::oci::lsm).
    pub selinux_label: Str<'a>,
    /// `consoleSize`: rows and columns of the terminal (crate::oci::console).
    pub console_size: Option<(u16, u16)>,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct User {
    /// Never `u32::MAX`: that is `(uid_t)-1`, "unchanged", to setresuid.
    pub uid: u32,
    pub gid: u32,
    pub umask: Option<u32>,
    pub additional_gids: List<u32, MAX_GIDS>,
}

/// Capability sets as masks: bit N is capability N (`names::CAPS`). A set that is absent
/// is empty.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Caps {
    pub bounding: u64,
    pub effective: u64,
    pub inheritable: u64,
    pub permitted: u64,
    pub ambient: u64,
}

#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// `RLIMIT_*` number.
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Mount<'a> {
    pub destination: Str<'a>,
    /// `""` when absent (as for `bind`, which needs none).
    pub fstype: Str<'a>,
    pub source: Str<'a>,
    /// The `MS_*` flags the options set (runc's reading: in order, `ro` sets, `rw` clears).
    pub flags: u32,
    /// `MS_PRIVATE`/`MS_SHARED`/`MS_SLAVE`/`MS_UNBINDABLE`, with `MS_REC` for the `r`
    /// forms: the last propagation option, applied after the mount. 0: none.
    pub propagation: u32,
    /// The options that are not flags, joined by commas: filesystem data (`""`: none).
    pub data: Str<'a>,
    /// `tmpcopyup` (runc's extension, crate::rootfs::copyup); `notmpcopyup` clears it.
    pub copy_up: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HookKind {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Hook<'a> {
    /// Absolute.
    pub path: Str<'a>,
    pub args: StrList<'a>,
    pub env: StrList<'a>,
    /// Seconds, at least 1.
    pub timeout: Option<u32>,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Hooks<'a> {
    kinds: [List<Hook<'a>, MAX_HOOKS>; 6],
}

impl<'a> Hooks<'a> {
    pub fn get(&self, kind: HookKind) -> &[Hook<'a>] {
        &self.kinds[kind as usize]
    }

    /// Whether config.json lists any hook at all.
    pub fn any(&self) -> bool {
        self.kinds.iter().any(|k| !k.is_empty())
    }
}

/// Parses config.json in `buf` (`doc` names it in messages).
#[inline(never)]
pub fn parse<'a>(buf: &'a mut [u8], doc: &'static str) -> Result<Config<'a>> {
    let mut c = Config::default();
    parse_into(buf, doc, &mut c)?;
    Ok(c)
}

/// [`parse`] into a mapping of its own, so that the config never sits on the stack: what
/// the runtime's own commands use ([`parse`] is for the tests and the fuzz target).
pub fn parse_mapped<'a>(buf: &'a mut [u8], doc: &'static str) -> Result<crate::sys::MapBox<Config<'a>>> {
    let mut c = crate::sys::MapBox::new(Config::default)
        .map_err(|e| crate::error::Error::sys("map memory for", doc.as_bytes(), e))?;
    parse_into(buf, doc, &mut c)?;
    Ok(c)
}

/// [`parse`] into `c` (a default one), which the caller owns: a `Config` is tens of
/// kilobytes, and every move of one would touch as many pages of stack again.
#[inline(never)]
pub fn parse_into<'a>(buf: &'a mut [u8], doc: &'static str, c: &mut Config<'a>) -> Result<()> {
    json::read(buf, doc, |j| {
        let mut m = j.members("ociVersion root hostname process mounts linux hooks annotations domainname", 0);
        while let Some(i) = m.next(j) {
            match i {
                0 => c.oci_version = j.str(),
                1 => {
                    let r = c.root.insert(Root::default());
                    let mut m = j.members("path readonly", 1);
                    while let Some(i) = m.next(j) {
                        match i {
                            0 => r.path = j.str(),
                            _ => r.readonly = j.bool(),
                        }
                    }
                    if r.path.is_empty() {
                        j.fail("\"path\" is empty");
                    }
                }
                2 => c.hostname = j.str(),
                3 => process(j, c.process.insert(Process::default())),
                4 => list(j, &mut c.mounts, mount),
                5 => super::linux::linux(j, &mut c.linux),
                6 => {
                    let mut m = j.members(names::HOOKS, 0);
                    while let Some(i) = m.next(j) {
                        list(j, &mut c.hooks.kinds[i], hook);
                    }
                }
                7 => c.annotations = j.raw_object(),
                _ => c.domainname = j.str(),
            }
        }
    })
}

/// Parses a process object alone (exec's `--process` file).
#[inline(never)]
pub fn parse_process<'a>(buf: &'a mut [u8], doc: &'static str) -> Result<Process<'a>> {
    json::read(buf, doc, |j| {
        let mut p = Process::default();
        process(j, &mut p);
        p
    })
}

#[inline(never)]
fn process<'a>(j: &mut Json<'a>, p: &mut Process<'a>) {
    const NAMES: &str = "terminal user args env cwd capabilities rlimits noNewPrivileges oomScoreAdj apparmorProfile \
selinuxLabel scheduler ioPriority execCPUAffinity consoleSize";
    let mut m = j.members(NAMES, 1 << 2 | 1 << 4);
    while let Some(i) = m.next(j) {
        match i {
            0 => p.terminal = j.bool(),
            1 => user(j, &mut p.user),
            2 => p.args = j.str_list(false),
            3 => p.env = j.str_list(false),
            4 => p.cwd = abs_path(j),
            5 => {
                let c = p.capabilities.insert(Caps::default());
                let mut m = j.members("bounding effective inheritable permitted ambient", 0);
                while let Some(i) = m.next(j) {
                    let mask = j.name_mask(names::CAPS, "CAP_", "unknown capability");
                    match i {
                        0 => c.bounding = mask,
                        1 => c.effective = mask,
                        2 => c.inheritable = mask,
                        3 => c.permitted = mask,
                        _ => c.ambient = mask,
                    }
                }
            }
            6 => {
                list(j, &mut p.rlimits, rlimit);
                let mut seen = 0u32;
                for r in p.rlimits.iter() {
                    if seen & 1 << r.resource != 0 {
                        return j.fail_val("names a resource twice:", names::word(names::RLIMITS, r.resource as usize));
                    }
                    seen |= 1 << r.resource;
                }
            }
            7 => p.no_new_privileges = j.bool(),
            8 => p.oom_score_adj = Some(j.int(-1000, 1000) as i32),
            9 => p.apparmor_profile = j.str(),
            10 => p.selinux_label = j.str(),
            // Runtime-spec 1.1 and 1.2 settings tinyctr has no writer for: refused,
            // never dropped (containerd 1.6 sets none of them).
            11 => return j.fail("a scheduling policy (process.scheduler) is not supported (leave it out)"),
            12 => return j.fail("an I/O priority (process.ioPriority) is not supported (leave it out)"),
            13 => return j.fail("exec CPU affinity (process.execCPUAffinity) is not supported (leave it out)"),
            _ => {
                let (mut rows, mut cols) = (0, 0);
                let mut m = j.members("height width", 3);
                while let Some(i) = m.next(j) {
                    match i {
                        0 => rows = j.uint(u16::MAX as u64) as u16,
                        _ => cols = j.uint(u16::MAX as u64) as u16,
                    }
                }
                p.console_size = Some((rows, cols));
            }
        }
    }
    if p.args.is_empty() || p.cwd.is_empty() {
        j.fail(if p.cwd.is_empty() { "\"cwd\" is empty" } else { "\"args\" is empty" });
    }
}

/// A uid or gid: `u32::MAX` is refused, as it means "leave unchanged" to the kernel.
fn id(j: &mut Json<'_>) -> u32 {
    j.uint(u32::MAX as u64 - 1) as u32
}

#[inline(never)]
fn user(j: &mut Json<'_>, u: &mut User) {
    let mut m = j.members("uid gid umask additionalGids", 0);
    while let Some(i) = m.next(j) {
        match i {
            0 => u.uid = id(j),
            1 => u.gid = id(j),
            2 => u.umask = Some(j.uint(0o777) as u32),
            _ => {
                u.additional_gids.clear();
                let mut e = j.elements();
                while e.next(j).is_some() {
                    let g = id(j);
                    if !u.additional_gids.push(g) {
                        return too_many(j, MAX_GIDS);
                    }
                }
            }
        }
    }
}

#[inline(never)]
fn rlimit(j: &mut Json<'_>, r: &mut Rlimit) {
    let mut m = j.members("type soft hard", 7);
    while let Some(i) = m.next(j) {
        match i {
            0 => r.resource = j.name(names::RLIMITS, "RLIMIT_", "unknown resource") as u32,
            1 => r.soft = j.u64(),
            _ => r.hard = j.u64(),
        }
    }
    if r.soft > r.hard {
        j.fail("the soft limit is above the hard one");
    }
}

#[inline(never)]
fn mount<'a>(j: &mut Json<'a>, m: &mut Mount<'a>) {
    let mut ms = j.members("destination type source options uidMappings gidMappings", 1);
    while let Some(i) = ms.next(j) {
        match i {
            0 => m.destination = j.str(),
            1 => m.fstype = j.str(),
            2 => m.source = j.str(),
            // Runtime-spec 1.1's idmapped mounts: no user namespaces here, so refused.
            4 | 5 => {
                if j.elements().next(j).is_some() {
                    return j.fail("idmapped mounts are not supported (leave the mappings out)");
                }
            }
            _ => {
                (m.flags, m.propagation) = (0, 0);
                let mut s = j.strings(b',');
                while let Some(o) = s.next(j) {
                    match o {
                        b"tmpcopyup" => m.copy_up = true,
                        b"notmpcopyup" => m.copy_up = false,
                        _ if !mount_option(o, &mut m.flags, &mut m.propagation) => s.keep(j),
                        _ => {}
                    }
                }
                m.data = s.finish(j).joined();
            }
        }
    }
    if m.destination.is_empty() {
        j.fail("\"destination\" is empty");
    }
}

/// Applies mount option `o` if it is a flag or a propagation type (true); false for
/// filesystem data.
pub fn mount_option(o: &[u8], flags: &mut u32, propagation: &mut u32) -> bool {
    let Some(i) = names::find(names::MOUNT_OPTIONS, "", o) else { return false };
    let c = names::MOUNT_CODES[i];
    let bit = 1u32 << (c & 31);
    let rec = if c & names::REC != 0 { linux_raw_sys::general::MS_REC } else { 0 };
    if c & names::PROPAGATION != 0 {
        *propagation = bit | rec;
    } else if c & names::CLEAR != 0 {
        *flags &= !bit;
    } else {
        *flags |= bit | rec;
    }
    true
}

#[inline(never)]
fn hook<'a>(j: &mut Json<'a>, h: &mut Hook<'a>) {
    let mut m = j.members("path args env timeout", 1);
    while let Some(i) = m.next(j) {
        match i {
            0 => h.path = abs_path(j),
            1 => h.args = j.str_list(false),
            2 => h.env = j.str_list(false),
            _ => match j.u32() {
                0 => return j.fail("must be at least 1 (seconds)"),
                t => h.timeout = Some(t),
            },
        }
    }
    if h.path.is_empty() {
        j.fail("\"path\" is empty");
    }
}
