//! config.json's `linux` section as plain data: namespaces to make or join, id mappings,
//! the cgroup path and resources, masked and read-only paths, sysctls, the root's
//! propagation, and the seccomp profile (to be compiled by the same code as the built-in
//! one). The resources reader also reads update's `--resources` document.
//!
//! Limits of the fixed-capacity lists here: [`MAX_IDMAPS`] lines per id map,
//! [`MAX_DEVICES`] device rules, [`MAX_SYSCTLS`] sysctls, [`MAX_RULES`] seccomp rules with
//! [`MAX_CONDS`] argument conditions among them. Syscall names, paths and architectures
//! are packed in place and have none.

use core::ffi::CStr;

use super::config::{abs_path, has_dot_component, list, mount_option, too_many, List};
use super::json::{self, Json, Str, StrList};
use super::names;
use crate::error::Result;
use crate::rootfs::dev::Node;
use rustix::fs::FileType;

/// Lines of a uid or gid map (the kernel takes 340 since 4.15; one is the usual).
pub const MAX_IDMAPS: usize = 32;
/// `resources.devices` (containerd writes 10; a privileged container 1).
pub const MAX_DEVICES: usize = 128;
pub const MAX_SYSCTLS: usize = 64;
/// `linux.devices` (containerd lists every node of the host's /dev for a privileged
/// container: about a hundred on a small host).
pub const MAX_NODES: usize = 256;
/// `seccomp.syscalls` (docker's profile has about 30 entries; a profile that gives each
/// syscall its own entry about 370).
pub const MAX_RULES: usize = 512;
/// Argument conditions over all rules (docker's profile has about 10).
pub const MAX_CONDS: usize = 256;

/// errno for `SCMP_ACT_ERRNO` without `errnoRet` (runc's and libseccomp's default).
const EPERM: u16 = 1;

#[derive(Clone, Copy, Default, Debug)]
pub struct Linux<'a> {
    pub namespaces: Namespaces<'a>,
    pub uid_mappings: List<IdMap, MAX_IDMAPS>,
    pub gid_mappings: List<IdMap, MAX_IDMAPS>,
    /// As written (`""`: absent); no `.` or `..` component.
    pub cgroups_path: Str<'a>,
    pub resources: Resources<'a>,
    /// Absolute paths.
    pub masked_paths: StrList<'a>,
    pub readonly_paths: StrList<'a>,
    pub sysctl: List<Sysctl<'a>, MAX_SYSCTLS>,
    /// `MS_PRIVATE`, `MS_SHARED`, `MS_SLAVE` or `MS_UNBINDABLE`, maybe with `MS_REC`; 0: absent.
    pub rootfs_propagation: u32,
    /// `enabled` when config.json has `linux.seccomp`.
    pub seccomp: Seccomp<'a>,
    /// `linux.devices`: nodes the init makes below /dev.
    pub devices: List<Node<'a>, MAX_NODES>,
    /// `timeOffsets`: CLOCK_MONOTONIC's and CLOCK_BOOTTIME's (seconds, nanoseconds) in
    /// a new time namespace, each when given.
    pub time_offsets: [Option<(i64, u32)>; 2],
}

/// Namespace types, in `names::NAMESPACES` order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ns {
    Pid,
    Network,
    Mount,
    Ipc,
    Uts,
    User,
    Cgroup,
    Time,
}

/// `linux.namespaces`: which types are listed, and the path of each one to join.
#[derive(Clone, Copy, Default, Debug)]
pub struct Namespaces<'a> {
    /// Bit `Ns as u8`: the type is listed (made new, or joined when it has a path).
    pub listed: u8,
    pub paths: [Str<'a>; 8],
}

impl<'a> Namespaces<'a> {
    pub fn has(&self, ns: Ns) -> bool {
        self.listed & 1 << ns as u8 != 0
    }

    /// The path to join, when the type is listed with one.
    pub fn path(&self, ns: Ns) -> Option<&'a CStr> {
        let p = self.paths[ns as usize];
        (self.has(ns) && !p.is_empty()).then_some(p.get())
    }

    /// The namespaces to join: each type listed with a path, and its `CLONE_NEW*` flag.
    pub fn joins(&self) -> impl Iterator<Item = (&'a CStr, u32)> + '_ {
        names::NS_FLAGS
            .iter()
            .enumerate()
            .filter(move |&(i, _)| self.listed & 1 << i != 0 && !self.paths[i].is_empty())
            .map(move |(i, &flag)| (self.paths[i].get(), flag))
    }

    /// The `CLONE_NEW*` flags of the namespaces to make (listed without a path).
    pub fn new_flags(&self) -> u32 {
        let mut f = 0;
        for (i, flag) in names::NS_FLAGS.iter().enumerate() {
            if self.listed & 1 << i != 0 && self.paths[i].is_empty() {
                f |= flag;
            }
        }
        f
    }
}

/// One line of a uid or gid map.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct IdMap {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Resources<'a> {
    pub memory: Memory,
    pub cpu: Cpu<'a>,
    /// `pids.limit`; 0 or less: unlimited.
    pub pids_limit: Option<i64>,
    /// The device allowlist, in order (the last matching rule wins).
    pub devices: List<DeviceRule, MAX_DEVICES>,
    /// `hugepageLimits`: the kubelet sends one for every page size the node has (limit 0
    /// for those the pod did not ask for).
    pub hugepages: List<Hugepage<'a>, MAX_HUGEPAGE_SIZES>,
    /// `unified`: cgroup v2 files and their values, written as given (crate::oci::unified).
    pub unified: List<CgroupFile<'a>, MAX_UNIFIED>,
    /// The settings `run` has no option for (crate::oci::controls), in
    /// [`super::controls::CONTROLS`] order; `None`: absent.
    pub controls: [Option<u64>; super::controls::N],
    /// `blockIO`'s throttleReadBpsDevice, throttleWriteBpsDevice, throttleReadIOPSDevice
    /// and throttleWriteIOPSDevice, in that order.
    pub throttles: [List<Throttle, MAX_THROTTLES>; 4],
}

/// Devices each blockIO throttle list may name.
pub const MAX_THROTTLES: usize = 16;

/// One block device's rate (bytes or operations per second; 0: no limit).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Throttle {
    pub major: u32,
    pub minor: u32,
    pub rate: u64,
}

/// `unified` entries at most.
pub const MAX_UNIFIED: usize = 32;

/// One `unified` entry: a file of the container's v2 cgroup (`memory.oom.group`) and
/// what to write there.
#[derive(Clone, Copy, Default, Debug)]
pub struct CgroupFile<'a> {
    pub key: Str<'a>,
    pub value: Str<'a>,
}

/// Page sizes a config may limit (x86 has two, arm64 four).
pub const MAX_HUGEPAGE_SIZES: usize = 8;

/// One `hugepageLimits` entry.
#[derive(Clone, Copy, Default, Debug)]
pub struct Hugepage<'a> {
    /// As the kernel names it in hugetlb's files: digits and KB, MB, GB, TB or PB.
    pub page_size: Str<'a>,
    /// Bytes.
    pub limit: u64,
}

/// Bytes; -1 is unlimited.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Memory {
    pub limit: Option<i64>,
    pub reservation: Option<i64>,
    /// Memory plus swap (the v1 memsw meaning, as in runc).
    pub swap: Option<i64>,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Cpu<'a> {
    pub shares: Option<u64>,
    /// Microseconds per period; -1 is unlimited.
    pub quota: Option<i64>,
    pub period: Option<u64>,
    /// CPU and memory-node lists (`0-2,4`), checked; `""`: absent.
    pub cpus: Str<'a>,
    pub mems: Str<'a>,
}

pub use crate::cgroup::devices::{DeviceRule, MKNOD, READ, WRITE};

#[derive(Clone, Copy, Default, Debug)]
pub struct Sysctl<'a> {
    /// As written: `net.ipv4.ip_forward` (or with slashes).
    pub key: Str<'a>,
    pub value: Str<'a>,
}

/// What a seccomp rule does (`SCMP_ACT_*`; `KILL` is `KillThread`).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub enum Action {
    #[default]
    KillThread,
    KillProcess,
    Trap,
    /// With the rule's errno.
    Errno,
    Log,
    Allow,
}

/// By position in `names::SECCOMP_ACTIONS`.
const ACTIONS: [Action; 7] = [
    Action::KillThread,
    Action::KillThread,
    Action::KillProcess,
    Action::Trap,
    Action::Errno,
    Action::Log,
    Action::Allow,
];

/// The filter compiler's own condition types: what config.json says is what it compiles.
pub use crate::confine::seccomp::{Cond, Op};

const OPS: [Op; 7] = [Op::Ne, Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt, Op::MaskedEq];

#[derive(Clone, Copy, Default, Debug)]
pub struct Seccomp<'a> {
    /// config.json has a profile; nothing else here is set when it has none.
    pub enabled: bool,
    pub default_action: Action,
    /// For `default_action == Errno`: `defaultErrnoRet`, or EPERM.
    pub default_errno: u16,
    /// Bit N: architecture N of `names::SECCOMP_ARCHS` is listed (bits 0-2: x86_64, x86, x32).
    pub archs: u32,
    pub rules: List<SyscallRule<'a>, MAX_RULES>,
    /// The conditions of every rule, each rule's together ([`Seccomp::conds`]).
    pub all_conds: List<Cond, MAX_CONDS>,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct SyscallRule<'a> {
    /// Syscall names as written (an unknown one is the compiler's to ignore, as runc does).
    pub names: StrList<'a>,
    pub action: Action,
    /// For `Errno`: `errnoRet`, or EPERM.
    pub errno: u16,
    first: u16,
    count: u16,
}

impl Seccomp<'_> {
    /// The conditions of `rule`: all must hold for its action to apply.
    pub fn conds(&self, rule: &SyscallRule<'_>) -> &[Cond] {
        self.all_conds.get(rule.first as usize..(rule.first + rule.count) as usize).unwrap_or(&[])
    }
}

#[inline(never)]
pub(super) fn linux<'a>(j: &mut Json<'a>, l: &mut Linux<'a>) {
    const NAMES: &str = "namespaces uidMappings gidMappings cgroupsPath resources maskedPaths readonlyPaths \
sysctl rootfsPropagation seccomp devices mountLabel intelRdt personality timeOffsets";
    let mut m = j.members(NAMES, 0);
    while let Some(i) = m.next(j) {
        match i {
            0 => {
                let ns = &mut l.namespaces;
                *ns = Namespaces::default();
                let mut e = j.elements();
                while e.next(j).is_some() {
                    let (mut t, mut path) = (0, Str::default());
                    let mut m = j.members("type path", 1);
                    while let Some(i) = m.next(j) {
                        match i {
                            0 => t = j.name(names::NAMESPACES, "", "unknown namespace type"),
                            _ => path = abs_path(j),
                        }
                    }
                    if ns.listed & 1 << t != 0 {
                        return j.fail("names a type an earlier entry names");
                    }
                    ns.listed |= 1 << t;
                    ns.paths[t] = path;
                }
            }
            1 => list(j, &mut l.uid_mappings, idmap),
            2 => list(j, &mut l.gid_mappings, idmap),
            3 => {
                let p = j.cstr();
                if has_dot_component(p.to_bytes()) {
                    return j.fail_val("has a . or .. component:", p.to_bytes());
                }
                l.cgroups_path = p.into();
            }
            4 => resources(j, &mut l.resources),
            5 => l.masked_paths = j.str_list(true),
            6 => l.readonly_paths = j.str_list(true),
            7 => {
                l.sysctl.clear();
                let mut m = j.members("", 0);
                while m.next(j).is_some() {
                    let key = j.key().unwrap_or(c"");
                    let value = j.cstr();
                    if key.is_empty() {
                        return j.fail("is not a sysctl name");
                    }
                    if !l.sysctl.push(Sysctl { key: key.into(), value: value.into() }) {
                        return too_many(j, MAX_SYSCTLS);
                    }
                }
            }
            8 => {
                let (mut flags, mut p) = (0, 0);
                let s = j.cstr().to_bytes();
                if !mount_option(s, &mut flags, &mut p) || p == 0 {
                    return j.fail_val("not a propagation type", s);
                }
                l.rootfs_propagation = p;
            }
            9 => seccomp(j, &mut l.seccomp),
            10 => list(j, &mut l.devices, node),
            // Settings tinyctr has no writer for: refused when they ask for anything,
            // never dropped (the SELinux process label is refused in process: lsm.rs).
            11 => {
                let s = j.cstr().to_bytes();
                if !s.is_empty() {
                    return j.fail_val("SELinux mount labels are not supported (leave it out):", s);
                }
            }
            12 => {
                j.skip();
                return j.fail("Intel RDT (resctrl) is not supported (leave it out)");
            }
            14 => {
                let mut m = j.members("monotonic boottime", 0);
                while let Some(c) = m.next(j) {
                    let (mut secs, mut nanos) = (0, 0);
                    let mut o = j.members("secs nanosecs", 0);
                    while let Some(k) = o.next(j) {
                        match k {
                            0 => secs = j.int(-(1 << 62), 1 << 62),
                            _ => nanos = j.int(0, 999_999_999) as u32,
                        }
                    }
                    l.time_offsets[c] = Some((secs, nanos));
                }
            }
            _ => {
                let mut m = j.members("domain flags", 0);
                while let Some(i) = m.next(j) {
                    match i {
                        0 => {
                            let d = j.cstr().to_bytes();
                            if d != b"LINUX" {
                                return j.fail_val("is not supported (only LINUX, the default):", d);
                            }
                        }
                        _ => {
                            if !j.str_list(false).is_empty() {
                                return j.fail("personality flags are not supported (leave them out)");
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One of `linux.devices`. Only nodes below /dev are made: that is where containerd
/// and Kubernetes' device plugins put them, and /dev is tinyctr's own tmpfs, so no path
/// of the image is written through.
#[inline(never)]
fn node<'a>(j: &mut Json<'a>, n: &mut Node<'a>) {
    const KINDS: [FileType; 4] =
        [FileType::CharacterDevice, FileType::CharacterDevice, FileType::BlockDevice, FileType::Fifo];
    let (mut major, mut minor) = (None, None);
    let mut m = j.members("type path major minor fileMode uid gid", 3);
    while let Some(i) = m.next(j) {
        match i {
            0 => n.kind = KINDS[j.name("c u b p", "", "not a device type (c, u, b or p):") % 4],
            1 => {
                let p = j.cstr();
                let b = p.to_bytes();
                if !crate::rootfs::dev::below_dev(b) {
                    return j
                        .fail_val("is not below /dev/ (or has a . or .. component), where tinyctr makes nodes:", b);
                }
                n.path = p;
            }
            2 => major = Some(j.u32()),
            3 => minor = Some(j.u32()),
            // The permission bits (a writer that adds the type's S_IFMT bits means the same).
            4 => n.mode = j.u32() & 0o7777,
            5 => n.uid = j.u32(),
            _ => n.gid = j.u32(),
        }
    }
    match (major, minor) {
        (Some(a), Some(b)) => n.dev = rustix::fs::makedev(a, b),
        _ if n.kind == FileType::Fifo => {}
        _ => j.fail("needs major and minor for a device"),
    }
}

#[inline(never)]
fn idmap(j: &mut Json<'_>, m: &mut IdMap) {
    let mut ms = j.members("containerID hostID size", 7);
    while let Some(i) = ms.next(j) {
        let v = j.u32();
        match i {
            0 => m.container = v,
            1 => m.host = v,
            _ if v == 0 => return j.fail("must be at least 1"),
            _ => m.size = v,
        }
    }
}

/// Parses a `LinuxResources` object alone (update's `--resources` document).
pub fn parse_resources<'a>(buf: &'a mut [u8], doc: &'static str) -> Result<Resources<'a>> {
    json::read(buf, doc, |j| {
        let mut r = Resources::default();
        resources(j, &mut r);
        r
    })
}

#[inline(never)]
fn resources<'a>(j: &mut Json<'a>, r: &mut Resources<'a>) {
    let mut m = j.members("memory cpu pids devices hugepageLimits unified network blockIO rdma", 0);
    while let Some(i) = m.next(j) {
        match i {
            0 => {
                let mut m = j.members(
                    "limit reservation swap swappiness disableOOMKiller kernel kernelTCP useHierarchy checkBeforeUpdate",
                    0,
                );
                while let Some(i) = m.next(j) {
                    use super::controls::Control;
                    match i {
                        0..=2 => {
                            let v = Some(j.int(-1, i64::MAX));
                            match i {
                                0 => r.memory.limit = v,
                                1 => {
                                    r.memory.reservation = v;
                                    let soft = v.filter(|&v| v > 0).map(|v| v as u64);
                                    r.controls[Control::Reservation as usize] = soft;
                                }
                                _ => r.memory.swap = v,
                            }
                        }
                        3 => r.controls[Control::Swappiness as usize] = Some(j.uint(100)),
                        4 => r.controls[Control::NoOomKill as usize] = j.bool().then_some(1),
                        // Kernel memory has no limit of its own since Linux 5.4 (v1's
                        // kmem.limit_in_bytes is gone in 6.x): a limit asked for is refused.
                        5 | 6 => {
                            if j.int(-1, i64::MAX) > 0 {
                                return j.fail(
                                    "kernel memory limits are not supported (the kernel dropped them; leave it out)",
                                );
                            }
                        }
                        // The kernel's defaults (hierarchical accounting; no pre-check).
                        _ => {
                            j.bool();
                        }
                    }
                }
            }
            1 => {
                let mut m = j.members("shares quota period cpus mems realtimeRuntime realtimePeriod burst idle", 0);
                while let Some(i) = m.next(j) {
                    use super::controls::Control;
                    match i {
                        0 => r.cpu.shares = Some(j.u64()),
                        1 => r.cpu.quota = Some(j.int(-1, i64::MAX)),
                        2 => r.cpu.period = Some(j.u64()),
                        3 => r.cpu.cpus = cpu_list(j),
                        4 => r.cpu.mems = cpu_list(j),
                        5 => r.controls[Control::RtRuntime as usize] = Some(j.int(-1, i64::MAX) as u64),
                        6 => r.controls[Control::RtPeriod as usize] = Some(j.u64()),
                        7 => r.controls[Control::Burst as usize] = Some(j.u64()),
                        _ => r.controls[Control::Idle as usize] = Some(j.uint(1)),
                    }
                }
            }
            2 => {
                let mut m = j.members("limit", 1);
                while m.next(j).is_some() {
                    r.pids_limit = Some(j.int(i64::MIN, i64::MAX));
                }
            }
            3 => list(j, &mut r.devices, device),
            4 => list(j, &mut r.hugepages, hugepage),
            6 => {
                let mut m = j.members("classID priorities", 0);
                while let Some(i) = m.next(j) {
                    match i {
                        0 => r.controls[super::controls::Control::ClassId as usize] = Some(j.uint(u32::MAX as u64)),
                        _ => {
                            if j.elements().next(j).is_some() {
                                return j.fail("network priorities (net_prio) are not supported (leave them out)");
                            }
                        }
                    }
                }
            }
            // The throttles (crate::oci::controls::write_throttles); weights, which
            // take BFQ and a conversion on v2, are refused when they ask for anything.
            7 => {
                const NAMES: &str = "throttleReadBpsDevice throttleWriteBpsDevice throttleReadIOPSDevice \
throttleWriteIOPSDevice weight leafWeight weightDevice";
                let mut m = j.members(NAMES, 0);
                while let Some(i) = m.next(j) {
                    let asks = match i {
                        0..=3 => {
                            list(j, &mut r.throttles[i], throttle);
                            false
                        }
                        4 | 5 => j.u64() > 0,
                        _ => j.elements().next(j).is_some(),
                    };
                    if asks {
                        return j.fail("block I/O weights are not supported (leave them out; throttles are)");
                    }
                }
            }
            5 => {
                r.unified.clear();
                let mut m = j.members("", 0);
                while m.next(j).is_some() {
                    let key = j.key().unwrap_or(c"");
                    let value = j.cstr();
                    if !cgroup_file_name(key.to_bytes()) {
                        return j.fail_val("is not a cgroup v2 file name (controller.file):", key.to_bytes());
                    }
                    if !r.unified.push(CgroupFile { key: key.into(), value: value.into() }) {
                        return too_many(j, MAX_UNIFIED);
                    }
                }
            }
            _ => {
                if j.members("", 0).next(j).is_some() {
                    return j.fail("RDMA limits are not supported (leave them out)");
                }
            }
        }
    }
}

/// A control file's name as cgroup v2 spells them: a controller (lower case letters
/// and `_`), a dot, then letters, digits, `_` and dots. Never a path: no slash, no
/// leading dot, so the file is always in the container's own cgroup.
fn cgroup_file_name(key: &[u8]) -> bool {
    let Some(dot) = key.iter().position(|&c| c == b'.') else { return false };
    let (ctl, rest) = (&key[..dot], &key[dot + 1..]);
    key.len() <= 64
        && !ctl.is_empty()
        && ctl.iter().all(|&c| c.is_ascii_lowercase() || c == b'_')
        && !rest.is_empty()
        && rest.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
}

fn throttle(j: &mut Json<'_>, t: &mut Throttle) {
    let mut m = j.members("major minor rate", 7);
    while let Some(i) = m.next(j) {
        match i {
            0 => t.major = j.u32(),
            1 => t.minor = j.u32(),
            _ => t.rate = j.u64(),
        }
    }
}

#[inline(never)]
fn hugepage<'a>(j: &mut Json<'a>, h: &mut Hugepage<'a>) {
    let mut m = j.members("pageSize limit", 3);
    while let Some(i) = m.next(j) {
        match i {
            0 => {
                let s = j.cstr();
                let b = s.to_bytes();
                let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let unit = &b[digits..];
                if digits == 0 || b.len() > 16 || !matches!(unit, b"KB" | b"MB" | b"GB" | b"TB" | b"PB") {
                    return j.fail_val("is not a page size (digits, then KB, MB, GB, TB or PB):", b);
                }
                h.page_size = s.into();
            }
            _ => h.limit = j.u64(),
        }
    }
}

fn cpu_list<'a>(j: &mut Json<'a>) -> Str<'a> {
    let s = j.cstr();
    if let (false, Err(what)) = (s.is_empty(), crate::limits::check_cpu_list(s.to_bytes())) {
        j.fail_val(what, s.to_bytes());
    }
    s.into()
}

#[inline(never)]
fn device(j: &mut Json<'_>, d: &mut DeviceRule) {
    (d.kind, d.major, d.minor, d.access) = (b'a', -1, -1, READ | WRITE | MKNOD);
    let mut m = j.members("allow type major minor access", 1);
    while let Some(i) = m.next(j) {
        match i {
            0 => d.allow = j.bool(),
            1 => d.kind = b"abc"[j.name("a b c", "", "not a device type (a, b or c):") % 3],
            2 => d.major = j.int(-1, u32::MAX as i64),
            3 => d.minor = j.int(-1, u32::MAX as i64),
            _ => {
                let s = j.cstr().to_bytes();
                let mut a = 0;
                for &c in s {
                    match b"rwm".iter().position(|&x| x == c) {
                        Some(bit) => a |= 1 << bit,
                        None => return j.fail_val("not device access (r, w, m):", s),
                    }
                }
                // "" is all, as absent is (crun reads it so too).
                d.access = if a == 0 { READ | WRITE | MKNOD } else { a };
            }
        }
    }
}

fn action(j: &mut Json<'_>) -> Action {
    ACTIONS[j.name(names::SECCOMP_ACTIONS, "SCMP_ACT_", "unknown or unsupported seccomp action") % 7]
}

/// An errno for `SCMP_ACT_ERRNO` (the kernel's MAX_ERRNO is 4095).
fn errno(j: &mut Json<'_>) -> u16 {
    j.uint(4095) as u16
}

#[inline(never)]
fn seccomp<'a>(j: &mut Json<'a>, s: &mut Seccomp<'a>) {
    (s.enabled, s.default_errno) = (true, EPERM);
    let mut m = j.members("defaultAction defaultErrnoRet architectures syscalls", 1);
    while let Some(i) = m.next(j) {
        match i {
            0 => s.default_action = action(j),
            1 => s.default_errno = errno(j),
            2 => s.archs = j.name_mask(names::SECCOMP_ARCHS, "SCMP_ARCH_", "unknown architecture") as u32,
            _ => {
                s.rules.clear();
                s.all_conds.clear();
                let mut e = j.elements();
                while e.next(j).is_some() {
                    let mut r = SyscallRule { errno: EPERM, first: s.all_conds.len() as u16, ..Default::default() };
                    rule(j, &mut r, &mut s.all_conds);
                    if !s.rules.push(r) {
                        return too_many(j, MAX_RULES);
                    }
                }
            }
        }
    }
}

#[inline(never)]
fn rule<'a>(j: &mut Json<'a>, r: &mut SyscallRule<'a>, conds: &mut List<Cond, MAX_CONDS>) {
    let mut m = j.members("names action errnoRet args", 3);
    while let Some(i) = m.next(j) {
        match i {
            0 => r.names = j.str_list(false),
            1 => r.action = action(j),
            2 => r.errno = errno(j),
            _ => {
                conds.truncate(r.first as usize);
                let mut e = j.elements();
                while e.next(j).is_some() {
                    let mut c = Cond::default();
                    let mut m = j.members("index value valueTwo op", 1 | 2 | 8);
                    while let Some(i) = m.next(j) {
                        match i {
                            0 => c.arg = j.uint(5) as u8,
                            1 => c.value = j.u64(),
                            2 => c.value_two = j.u64(),
                            _ => c.op = OPS[j.name(names::SECCOMP_OPS, "SCMP_CMP_", "unknown operator") % 7],
                        }
                    }
                    if !conds.push(c) {
                        return too_many(j, MAX_CONDS);
                    }
                }
            }
        }
    }
    r.count = conds.len() as u16 - r.first;
}
