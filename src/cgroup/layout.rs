//! Where each controller tinyctr drives lives on this host: the cgroup layout, detected
//! once from `/proc/self/cgroup` (our own cgroup in each hierarchy) and
//! `/proc/self/mountinfo` (where each hierarchy is mounted, and which cgroup its mount
//! shows at the mount point).
//!
//! The cases, all handled by the same two scans:
//! - **v1**: one `cgroup` mount per hierarchy, its controllers in the super options
//!   (`rw,cpu,cpuacct`); `/proc/self/cgroup` has a `N:ctl,ctl:/path` line for each.
//! - **v2**: one `cgroup2` mount; the `0::/path` line; the controllers are those its
//!   root's `cgroup.controllers` lists.
//! - **hybrid**: both. A controller bound to a v1 hierarchy is driven there; the unified
//!   hierarchy only for the controllers it really lists (often none, or just hugetlb).
//! - **nested containers**: a mount's root field is the cgroup shown at its mount point
//!   (`/docker/<id>`), so our directory is the mount point plus our path *relative to
//!   that root*; a cgroup outside every mount of its hierarchy is unusable.
//!
//! Paths carry a prefix (empty on the host) so tests can point the whole layout into a
//! temporary directory of fake control files.

use crate::buf::Buf;
use crate::mountinfo::{self, FdSource, Lines, Source};
use core::ffi::CStr;
use rustix::fs::{Mode, OFlags, CWD};
use rustix::io::Errno;

/// Capacity of every cgroup path buffer. Longer paths are refused (ENAMETOOLONG).
pub const PATH: usize = 512;
/// Hierarchies tracked: one per controller we drive, plus the unified one.
pub const MAX_HIERS: usize = 6;

/// The controllers tinyctr drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctl {
    Memory,
    Cpu,
    Cpuset,
    Pids,
    /// Not a limit: the device list a `run` container gets (super::devices). On v2 it
    /// is no controller to enable but a program any cgroup takes, so the unified
    /// hierarchy always has it.
    Devices,
}

/// The controllers of limits.
pub const CTLS: [Ctl; 4] = [Ctl::Memory, Ctl::Cpu, Ctl::Cpuset, Ctl::Pids];
/// The bits of all of them.
pub const ALL_CTLS: u8 = (1 << CTLS.len()) - 1;
/// Those a layout tracks: the limits' and the devices one.
pub const TRACKED: [Ctl; 5] = [Ctl::Memory, Ctl::Cpu, Ctl::Cpuset, Ctl::Pids, Ctl::Devices];

impl Ctl {
    pub fn name(self) -> &'static str {
        match self {
            Ctl::Memory => "memory",
            Ctl::Cpu => "cpu",
            Ctl::Cpuset => "cpuset",
            Ctl::Pids => "pids",
            Ctl::Devices => "devices",
        }
    }

    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The bits of our controllers named in a list of exact words, comma-separated (super
/// options, `/proc/self/cgroup`) or space-separated (`cgroup.controllers`,
/// `cgroup.subtree_control`): `cpu` is not `cpuset` nor `cpuacct`. Neither kind of list
/// has the other separator inside a word (mountinfo escapes spaces), so one split serves
/// both.
pub fn ctl_mask(list: &[u8]) -> u8 {
    let mut m = 0;
    for w in list.split(|&b| b == b',' || b.is_ascii_whitespace()) {
        for c in TRACKED {
            if w == c.name().as_bytes() {
                m |= c.bit();
            }
        }
    }
    m
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// One hierarchy we are in.
pub struct Hier {
    pub version: Version,
    /// v1: our controllers bound to it; v2: those its root's `cgroup.controllers` lists.
    pub ctls: u8,
    /// Our cgroup in it, as `/proc/self/cgroup` says.
    pub cgroup_path: Buf<PATH>,
    /// Our own cgroup's directory: prefix + mount point (unescaped) + our path relative
    /// to the mount's root; empty if no mount shows our cgroup.
    pub own: Buf<PATH>,
    /// How much of `own` is the mount point (kept once: every buffer here is stack).
    mount_len: usize,
}

impl Hier {
    const EMPTY: Hier = Hier { version: Version::V1, ctls: 0, cgroup_path: Buf::new(), own: Buf::new(), mount_len: 0 };

    /// Prefix + mount point; empty if no mount shows our cgroup.
    pub fn mount(&self) -> &[u8] {
        &self.own.as_bytes()[..self.mount_len]
    }

    pub fn mounted(&self) -> bool {
        self.mount_len > 0
    }
}

/// Where a controller is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// In hierarchy `hiers[i]`, mounted.
    At(usize),
    /// Bound to v1 hierarchy `hiers[i]`, but no mount of it shows our cgroup.
    NotMounted(usize),
    /// No hierarchy has it.
    Absent,
}

pub struct Layout {
    pub hiers: [Hier; MAX_HIERS],
    pub n: usize,
    /// Index of the unified hierarchy in `hiers`, if the kernel reported one.
    pub unified: Option<usize>,
    /// Tests only: directories are plain ones in a tmpfs, so tinyctr fills each new
    /// "cgroup" with the control files its parent has, as the kernel would.
    pub fake: bool,
}

impl Layout {
    /// No hierarchy yet. The layout is filled in place, where the caller keeps it: it is
    /// some kilobytes, and every copy of it would be stack pages to fault in.
    pub const EMPTY: Layout = Layout { hiers: [Hier::EMPTY; MAX_HIERS], n: 0, unified: None, fake: false };

    /// The layout of the running host: reads `/proc/self/cgroup` and `/proc/self/mountinfo`,
    /// and the unified hierarchy's `cgroup.controllers` unless v1 hierarchies have every
    /// controller of `want` (a v1 binding wins, so the unified list could not matter).
    /// Expects an empty layout.
    pub fn detect(&mut self, want: u8) -> Result<(), (&'static CStr, Errno)> {
        const CG: &CStr = c"/proc/self/cgroup";
        const MI: &CStr = c"/proc/self/mountinfo";
        let open = |p| rustix::fs::open(p, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty());
        let cg = open(CG).map_err(|e| (CG, e))?;
        let mi = open(MI).map_err(|e| (MI, e))?;
        self.parse_into(FdSource(cg), FdSource(mi), b"").map_err(|e| (MI, e))?;
        if want & Ctl::Devices.bit() == 0 {
            self.forget_devices();
        }
        let on_v1 = self.hiers[..self.n].iter().filter(|h| h.version == Version::V1).fold(0, |m, h| m | h.ctls);
        if want & !on_v1 & ALL_CTLS != 0 {
            self.read_unified_controllers();
        }
        Ok(())
    }

    /// A run that wants no device list (an OCI container, whose config.json's list
    /// crate::oci writes itself, with the other v1 hierarchies): the devices hierarchy
    /// is none of the layout's business.
    fn forget_devices(&mut self) {
        let dev = Ctl::Devices.bit();
        let mut i = 0;
        while i < self.n {
            let h = &mut self.hiers[i];
            h.ctls &= !dev;
            if h.version == Version::V1 && h.ctls == 0 {
                self.hiers[i..self.n].rotate_left(1);
                self.n -= 1;
                self.unified = self.unified.map(|u| if u > i { u - 1 } else { u });
            } else {
                i += 1;
            }
        }
    }

    /// The layout described by the two texts, with every mount point under `prefix`.
    /// Does not read `cgroup.controllers`; see [`Layout::read_unified_controllers`].
    pub fn parse<A: Source, B: Source>(cgroup: A, mountinfo: B, prefix: &[u8]) -> Result<Layout, Errno> {
        let mut l = Layout::EMPTY;
        l.parse_into(cgroup, mountinfo, prefix)?;
        Ok(l)
    }

    /// [`Layout::parse`] into an empty layout.
    pub fn parse_into<A: Source, B: Source>(&mut self, cgroup: A, mountinfo: B, prefix: &[u8]) -> Result<(), Errno> {
        let l = self;
        let mut buf = [0u8; 4096];
        let mut lines = Lines::new(cgroup, &mut buf);
        while let Some(line) = lines.next_line()? {
            let Some(c) = mountinfo::parse_cgroup_line(line) else { continue };
            // Inside a cgroup namespace, a cgroup outside it shows as `/../x`: unusable.
            if c.path.split(|&b| b == b'/').any(|p| p == b"..") {
                continue;
            }
            let (version, ctls) = match (c.id, c.controllers) {
                (b"0", b"") if l.unified.is_none() => (Version::V2, Ctl::Devices.bit()),
                _ => match ctl_mask(c.controllers) {
                    0 => continue,
                    m => (Version::V1, m),
                },
            };
            if l.n == MAX_HIERS {
                break;
            }
            let h = &mut l.hiers[l.n];
            h.version = version;
            h.ctls = ctls;
            h.cgroup_path.clear();
            h.cgroup_path.push(c.path);
            if h.cgroup_path.overflowed() {
                continue; // unusable: leave it out
            }
            if version == Version::V2 {
                l.unified = Some(l.n);
            }
            l.n += 1;
        }

        let mut lines = Lines::new(mountinfo, &mut buf);
        let mut root = [0u8; PATH];
        let mut point = [0u8; PATH];
        // Once every hierarchy has its mount, later lines change nothing: stop reading. The
        // kernel writes mountinfo as it is read (6 µs a line here), and on a busy host,
        // hundreds of container mounts come after the cgroup ones, made at boot.
        while !l.hiers[..l.n].iter().all(|h| h.mounted()) {
            let Some(line) = lines.next_line()? else { break };
            let Some(m) = mountinfo::parse_mount(line) else { continue };
            let (version, mask) = match m.fstype {
                b"cgroup" => (Version::V1, ctl_mask(m.super_options)),
                b"cgroup2" => (Version::V2, 0),
                _ => continue,
            };
            let (Some(root), Some(point)) =
                (mountinfo::unescape(m.root, &mut root), mountinfo::unescape(m.mount_point, &mut point))
            else {
                continue;
            };
            for h in l.hiers[..l.n].iter_mut() {
                let same = match version {
                    Version::V1 => h.version == Version::V1 && h.ctls & mask != 0,
                    Version::V2 => h.version == Version::V2,
                };
                // The first mount of the hierarchy that shows our cgroup wins.
                if !same || h.mounted() || !mountinfo::is_below(h.cgroup_path.as_bytes(), root) {
                    continue;
                }
                h.own.push(prefix).push(point);
                h.mount_len = h.own.len();
                h.own.push(mountinfo::relative(h.cgroup_path.as_bytes(), root));
                if h.own.overflowed() || h.mount_len == 0 {
                    h.own.clear();
                    h.mount_len = 0;
                }
            }
        }
        Ok(())
    }

    /// Fills the unified hierarchy's controller bits from its root's `cgroup.controllers`.
    pub fn read_unified_controllers(&mut self) {
        let Some(i) = self.unified else { return };
        let h = &mut self.hiers[i];
        if !h.mounted() {
            return;
        }
        let mut path: Buf<PATH> = Buf::new();
        path.push(h.mount()).push(b"/cgroup.controllers");
        let mut buf = [0u8; 256];
        if let Ok(list) = super::fs::read(CWD, path.as_cstr(), &mut buf) {
            h.ctls = ctl_mask(list) | Ctl::Devices.bit();
        }
    }

    /// Which hierarchy drives `ctl`: a v1 one if the controller is bound to v1, else the
    /// unified one if it lists the controller.
    pub fn find(&self, ctl: Ctl) -> Found {
        let mut unmounted = None;
        for (i, h) in self.hiers[..self.n].iter().enumerate() {
            if h.version == Version::V1 && h.ctls & ctl.bit() != 0 {
                if h.mounted() {
                    return Found::At(i);
                }
                unmounted = Some(i);
            }
        }
        if let Some(i) = unmounted {
            return Found::NotMounted(i);
        }
        match self.unified {
            Some(i) if self.hiers[i].mounted() && self.hiers[i].ctls & ctl.bit() != 0 => Found::At(i),
            _ => Found::Absent,
        }
    }

    /// Whether a mounted hierarchy drives `ctl`.
    pub fn hosts(&self, ctl: Ctl) -> bool {
        matches!(self.find(ctl), Found::At(_))
    }

    /// The mounted unified hierarchy, if any.
    pub fn unified_mounted(&self) -> Option<usize> {
        self.unified.filter(|&i| self.hiers[i].mounted())
    }

    /// `v1`, `v2`, `hybrid` or `none`, by which kinds of hierarchy are mounted.
    pub fn kind(&self) -> &'static str {
        let v1 = self.hiers[..self.n].iter().any(|h| h.version == Version::V1 && h.mounted());
        match (v1, self.unified_mounted().is_some()) {
            (true, true) => "hybrid",
            (true, false) => "v1",
            (false, true) => "v2",
            (false, false) => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mountinfo::SliceSource;

    fn layout(cg: &[u8], mi: &[u8], prefix: &str) -> Layout {
        Layout::parse(SliceSource { data: cg, chunk: 5 }, SliceSource { data: mi, chunk: 13 }, prefix.as_bytes())
            .unwrap()
    }

    fn own(l: &Layout, c: Ctl) -> String {
        match l.find(c) {
            Found::At(i) => String::from_utf8(l.hiers[i].own.as_bytes().to_vec()).unwrap(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn this_host_is_hybrid_with_v1_controllers() {
        let l = layout(
            include_bytes!("../../tests/fixtures/hybrid-thishost.cgroup"),
            include_bytes!("../../tests/fixtures/hybrid-thishost.mountinfo"),
            "",
        );
        assert_eq!(l.kind(), "hybrid");
        assert_eq!(own(&l, Ctl::Memory), "/sys/fs/cgroup/memory/process_api/12a97ad057586e028ec9e7e30d5a2a20");
        assert_eq!(own(&l, Ctl::Cpu), "/sys/fs/cgroup/cpu");
        assert_eq!(own(&l, Ctl::Cpuset), "/sys/fs/cgroup/cpuset");
        assert_eq!(own(&l, Ctl::Pids), "/sys/fs/cgroup/pids");
        let u = l.unified_mounted().unwrap();
        assert_eq!(l.hiers[u].own.as_bytes(), b"/sys/fs/cgroup/unified");
    }

    #[test]
    fn systemd_hybrid_with_comounted_cpu() {
        let l = layout(
            include_bytes!("../../tests/fixtures/hybrid-ubuntu2004.cgroup"),
            include_bytes!("../../tests/fixtures/hybrid-ubuntu2004.mountinfo"),
            "/tmp/x",
        );
        assert_eq!(l.kind(), "hybrid");
        assert_eq!(own(&l, Ctl::Cpu), "/tmp/x/sys/fs/cgroup/cpu,cpuacct/user.slice");
        assert_eq!(own(&l, Ctl::Memory), "/tmp/x/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope");
        assert_eq!(own(&l, Ctl::Pids), "/tmp/x/sys/fs/cgroup/pids/user.slice/user-1000.slice/session-2.scope");
        assert_eq!(own(&l, Ctl::Cpuset), "/tmp/x/sys/fs/cgroup/cpuset");
        let u = l.unified_mounted().unwrap();
        assert_eq!(
            l.hiers[u].own.as_bytes(),
            b"/tmp/x/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope"
        );
    }

    #[test]
    fn pure_v1_with_reordered_controller_names() {
        let l = layout(
            include_bytes!("../../tests/fixtures/v1-centos7.cgroup"),
            include_bytes!("../../tests/fixtures/v1-centos7.mountinfo"),
            "",
        );
        assert_eq!(l.kind(), "v1");
        assert_eq!(own(&l, Ctl::Cpu), "/sys/fs/cgroup/cpu,cpuacct/user.slice");
        assert_eq!(own(&l, Ctl::Pids), "/sys/fs/cgroup/pids/user.slice");
        assert_eq!(l.unified_mounted(), None);
    }

    #[test]
    fn pure_v2_controllers_come_from_cgroup_controllers() {
        let mut l = layout(
            include_bytes!("../../tests/fixtures/v2-debian12.cgroup"),
            include_bytes!("../../tests/fixtures/v2-debian12.mountinfo"),
            "",
        );
        assert_eq!(l.kind(), "v2");
        assert_eq!(l.find(Ctl::Memory), Found::Absent, "nothing read yet");
        let u = l.unified.unwrap();
        l.hiers[u].ctls = ctl_mask(b"cpuset cpu io memory hugetlb pids rdma misc\n");
        assert_eq!(own(&l, Ctl::Memory), "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope");
        assert_eq!(l.find(Ctl::Pids), Found::At(u));
    }

    #[test]
    fn nested_container_mount_root_is_stripped() {
        let l = layout(
            include_bytes!("../../tests/fixtures/nested-docker-v1.cgroup"),
            include_bytes!("../../tests/fixtures/nested-docker-v1.mountinfo"),
            "",
        );
        assert_eq!(own(&l, Ctl::Memory), "/sys/fs/cgroup/memory/inner");
        assert_eq!(own(&l, Ctl::Cpu), "/sys/fs/cgroup/cpu,cpuacct");
        assert_eq!(own(&l, Ctl::Pids), "/sys/fs/cgroup/pids");
        let u = l.unified_mounted().unwrap();
        assert_eq!(l.hiers[u].own.as_bytes(), b"/sys/fs/cgroup/unified");
    }

    #[test]
    fn cgroup_namespace_and_escaped_mount_point() {
        let l = layout(
            include_bytes!("../../tests/fixtures/nested-cgroupns-v2.cgroup"),
            include_bytes!("../../tests/fixtures/nested-cgroupns-v2.mountinfo"),
            "",
        );
        // The first cgroup2 mount showing our cgroup wins.
        let u = l.unified_mounted().unwrap();
        assert_eq!(l.hiers[u].own.as_bytes(), b"/sys/fs/cgroup");
        // Only the escaped mount: unescaped.
        let mi = b"619 612 0:69 / /mnt/my\\040cgroup\\134dir rw,relatime shared:7 master:1 - cgroup2 cgroup2 rw\n";
        let l = layout(b"0::/a\n", mi, "");
        assert_eq!(l.hiers[0].own.as_bytes(), b"/mnt/my cgroup\\dir/a");
    }

    #[test]
    fn cgroup_outside_every_mount_is_not_mounted() {
        let mi = b"40 31 0:32 /docker/x /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        let l = layout(b"4:memory:/other\n", mi, "");
        assert_eq!(l.find(Ctl::Memory), Found::NotMounted(0));
        assert_eq!(l.find(Ctl::Pids), Found::Absent);
        assert_eq!(l.kind(), "none");
        // A cgroup namespace shows paths outside it as /../x: not below "/x" either.
        let l = layout(b"0::/../sibling\n", b"1 2 0:1 / /c rw - cgroup2 cgroup2 rw\n", "");
        assert_eq!(l.unified_mounted(), None);
    }

    #[test]
    fn garbage_in_either_file_is_skipped() {
        let l = layout(
            b"junk\n4:memory:\n::\n0::/\n",
            b"junk line\n1 2 3\n30 21 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "",
        );
        assert_eq!(l.kind(), "v2");
    }

    /// A source that allows that many reads, then fails them with EIO.
    struct Tripwire<'a>(SliceSource<'a>, usize);

    impl Source for Tripwire<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
            match self.1 {
                0 => Err(Errno::IO),
                _ => {
                    self.1 -= 1;
                    self.0.read(buf)
                }
            }
        }
    }

    #[test]
    fn mountinfo_is_read_only_until_every_hierarchy_is_found() {
        // The first read (4 KiB) holds the cgroup mounts; a second, into the 500 container
        // mounts after them, would fail.
        let mut mi = b"30 21 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
            31 21 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
            .to_vec();
        for i in 0..500 {
            mi.extend(format!("{} 27 0:{i} / /run/containers/{i}/rootfs rw - overlay overlay rw\n", 100 + i).bytes());
        }
        let cg = b"4:memory:/a\n0::/b\n";
        let l = Layout::parse(SliceSource::new(cg), Tripwire(SliceSource::new(&mi), 1), b"").unwrap();
        assert_eq!(own(&l, Ctl::Memory), "/sys/fs/cgroup/memory/a");
        // A hierarchy with no mount still reads to the end (the tripwire then fires).
        let cg = b"4:memory:/a\n3:pids:/\n";
        assert_eq!(Layout::parse(SliceSource::new(cg), Tripwire(SliceSource::new(&mi), 1), b"").err(), Some(Errno::IO));
    }
}
