//! `tinyctr create`: an OCI bundle's config.json turned into the same description a
//! `run` builds from its options ([`RunConfig`]), then the same parent and child, with
//! two differences the lifecycle needs: the child waits on the state directory's exec
//! fifo before execve (until `start`), and tinyctr exits once the child is ready,
//! leaving the container's cgroups and its state behind for `start`, `kill` and
//! `delete`.
//!
//! What of config.json is honoured (README has the list): process args, env, cwd,
//! user uid/gid/additionalGids, capabilities (the permitted set, also the bounding and
//! effective ones), rlimits, noNewPrivileges; root path and readonly; hostname; mounts:
//! the standard ones (proc, sysfs, /dev's tmpfs, devpts, shm) are the ones `--rootfs`
//! makes, binds and other tmpfs go through the volume code (safe target resolution);
//! namespaces, new or joined by path; cgroupsPath and the memory, cpu and pids
//! resources; masked and read-only paths (docker's own list when config.json has any).

use core::cell::{Cell, RefCell};
use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use rustix::fs::{Mode, OFlags, CWD};

use super::config::{Config, HookKind, Hooks, List, Mount, Process};
use super::json::StrList;
use super::linux::{IdMap, Ns, Seccomp};
use super::store::{self, Entry, Record};
use crate::buf::{Buf, Text};
use crate::cli::RunConfig;
use crate::confine::seccomp::SockFilter;
use crate::confine::Confine;
use crate::error::{push_shown, Error, Result};
use crate::limits::{CpuQuota, Limits};
use crate::rootfs::resolve::PATH_MAX;
use crate::rootfs::volume::{Kind, Mounts, Req};
use crate::sys::args::{split_slots, CArgs, PtrArray};
use crate::sys::Mapping;

/// Namespaces joined by path, at most.
const MAX_JOINS: usize = 8;

/// What `create` decided from config.json that `run`'s options cannot say.
pub struct Detached<'a> {
    pub confine: Confine,
    /// The process's environment, whole.
    pub env: CArgs<'a>,
    /// The exec fifo's read end, for the child.
    pub fifo: RawFd,
    /// `--preserve-fds`: how many descriptors from 3 the init keeps for the program.
    pub preserve_fds: u32,
    /// `CLONE_NEW*` of the namespaces to make.
    pub ns: u32,
    joins: [(RawFd, u32); MAX_JOINS],
    njoins: usize,
    /// A PID namespace to join (by path), and its path: tinyctr's own clone joins it
    /// ([`Detached::enter_for_init`]).
    pid_join: Option<(RawFd, &'a CStr)>,
    /// The console socket, connected, when the process has a terminal, and its size.
    pub console: Option<RawFd>,
    pub console_size: Option<(u16, u16)>,
    /// Set by the parent once the child is ready: its host pid.
    pub pid: Cell<i32>,
    /// The container's cgroup directories, one per line.
    cgroups: RefCell<Lines>,
    /// `linux.seccomp` (`enabled` when config.json has one).
    profile: &'a Seccomp<'a>,
    devices: &'a [super::linux::DeviceRule],
    hugepages: &'a [super::linux::Hugepage<'a>],
    unified: &'a [super::linux::CgroupFile<'a>],
    /// Mknod of the nodes of `linux.devices` that `devices` would not let the init make.
    mknod: List<super::linux::DeviceRule, { super::devices::MAX_MKNOD }>,
    /// The cgroupsPath (parent and name), where the other v1 hierarchies' cgroups go.
    cgroup_path: &'a [u8],
    /// Those, open until the init has joined them.
    extra: RefCell<[Option<OwnedFd>; super::hierarchies::MAX]>,
    /// `MS_*` propagation of every mount, set first in the new mount namespace.
    pub root_propagation: u32,
    /// `linux.sysctl`, checked: the init writes them.
    pub sysctls: &'a [super::linux::Sysctl<'a>],
    /// `domainname`: the init sets it in its UTS namespace; empty: left as it is.
    pub domainname: &'a CStr,
    /// `exec PROFILE` for the init's AppArmor attribute (crate::oci::lsm); empty: none.
    pub apparmor: &'a [u8],
    /// `linux.devices`, checked: the init makes them in /dev.
    pub nodes: &'a [crate::rootfs::dev::Node<'a>],
    /// The `cgroup` mount at /sys/fs/cgroup, if config.json has one.
    pub cgroupfs: Option<&'a crate::rootfs::cgroupfs::Table>,
    /// `linux.namespaces`' cgroup entry.
    pub cgroupns: crate::trampoline::CgroupNs,
    /// config.json's options for the filesystems every container gets ([`standard`]).
    pub standard: crate::rootfs::Standard<'a>,
    /// `linux.maskedPaths` and `linux.readonlyPaths`, as they are.
    pub masks: (&'a [u8], &'a [u8]),
    /// A new time namespace, with its offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME.
    time: Option<[Option<(i64, u32)>; 2]>,
    /// A new user namespace: its uid and gid maps (both non-empty), which the parent
    /// writes once the init exists ([`Detached::map_ids`]).
    idmaps: Option<(&'a [IdMap], &'a [IdMap])>,
    hooks: &'a Hooks<'a>,
    /// For the hooks' state: the ID, the bundle, the root, the annotations.
    id: &'a [u8],
    bundle: &'a [u8],
    rootfs: &'a [u8],
    annotations: &'a [u8],
}

/// Lines of text in a mapping of their own, with room for every cgroup directory a
/// container can have: those of the layout (at most `layout::PATH` bytes each) and the
/// other v1 hierarchies' (as long), so that none is ever cut short (the state would then
/// forget a cgroup `delete` must remove; a 2 KiB buffer could be filled by five long
/// cgroupsPaths). Only the pages written are memory: one, for the usual few hundred
/// bytes.
pub struct Lines {
    map: Mapping,
    len: usize,
}

impl Lines {
    const CAP: usize = (crate::cgroup::layout::MAX_HIERS + super::hierarchies::MAX) * (crate::cgroup::layout::PATH + 1);

    fn new() -> Result<Lines> {
        let map = Mapping::new(Self::CAP).map_err(|e| Error::sys("map memory for", b"the cgroup list", e))?;
        Ok(Lines { map, len: 0 })
    }

    /// Appends `line` and a newline (within CAP by construction; past it, nothing).
    fn push(&mut self, line: &[u8]) {
        let end = self.len + line.len() + 1;
        if let Some(dst) = self.map.bytes().get_mut(self.len..end) {
            dst[..line.len()].copy_from_slice(line);
            dst[line.len()] = b'\n';
            self.len = end;
        }
    }

    fn as_bytes(&mut self) -> &[u8] {
        &self.map.bytes()[..self.len]
    }
}

impl Detached<'_> {
    pub fn joins(&self) -> &[(RawFd, u32)] {
        &self.joins[..self.njoins]
    }

    /// The namespaces the init is cloned into that tinyctr itself must enter first (the
    /// kernel moves only the caller's later children there), in `own` order: a new time
    /// namespace, whose offsets can be written only before a process is in it (unshare,
    /// then the offsets), and a PID namespace joined by path (docker's `--pid
    /// container:NAME`, a pod that shares its process namespace: the init is born in it,
    /// not as its PID 1). Returns tinyctr's own of each, for [`Detached::leave`] right
    /// after the clone, so the hooks that follow are the host's.
    #[inline(never)]
    pub fn enter_for_init(&self) -> Result<[Option<OwnedFd>; 2]> {
        let mut own: [Option<OwnedFd>; 2] = Default::default();
        for (slot, (wanted, file)) in own
            .iter_mut()
            .zip([(self.time.is_some(), c"/proc/self/ns/time"), (self.pid_join.is_some(), c"/proc/self/ns/pid")])
        {
            if wanted {
                *slot = Some(
                    rustix::fs::open(file, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                        .map_err(|e| Error::sys("open the namespace", file.to_bytes(), e))?,
                );
            }
        }
        if let Some(offsets) = self.time {
            crate::sys::unshare(linux_raw_sys::general::CLONE_NEWTIME).map_err(|e| {
                Error::sys_hint("unshare", b"a time namespace", e, b"the kernel needs CONFIG_TIME_NS (5.6 or later)")
            })?;
            let mut text: Buf<80> = Buf::new();
            // CLOCK_MONOTONIC and CLOCK_BOOTTIME by number, which every kernel with time
            // namespaces reads.
            for (clock, o) in [(1, offsets[0]), (7, offsets[1])] {
                if let Some((secs, nanos)) = o {
                    text.push_u64(clock).push(b" ").push_i64(secs).push(b" ").push_u64(nanos as u64).push(b"\n");
                }
            }
            if !text.is_empty() {
                let file = c"/proc/self/timens_offsets";
                crate::cgroup::fs::write(CWD, file, text.as_bytes())
                    .map_err(|e| Error::sys("set linux.timeOffsets in", file.to_bytes(), e))?;
            }
        }
        if let Some((target, path)) = self.pid_join {
            // SAFETY: `make` opened this namespace file and keeps it open until the
            // create is over; borrowed for the call only.
            #[allow(unsafe_code)]
            let target = unsafe { rustix::fd::BorrowedFd::borrow_raw(target) };
            // The type checked: a path to another kind of namespace fails (EINVAL).
            rustix::thread::move_into_link_name_space(target, Some(rustix::thread::LinkNameSpaceType::ProcessID))
                .map_err(|e| Error::sys("join the PID namespace", path.to_bytes(), e))?;
        }
        Ok(own)
    }

    /// Back to tinyctr's own namespaces ([`Detached::enter_for_init`]).
    pub fn leave(own: &[Option<OwnedFd>; 2]) -> Result<()> {
        for fd in own.iter().flatten() {
            rustix::thread::move_into_link_name_space(fd.as_fd(), None)
                .map_err(|e| Error::sys("return to", b"tinyctr's own time or PID namespace", e))?;
        }
        Ok(())
    }

    /// The init is made in a user namespace of its own.
    pub fn userns(&self) -> bool {
        self.idmaps.is_some()
    }

    /// Writes the init's uid and gid maps, from the host's user namespace: the init
    /// waits for them (trampoline) before anything it makes could be owned by an id the
    /// namespace has no name for. Each map goes in one write(2), as the kernel takes it.
    /// `setgroups` is left `allow`: tinyctr is the host's root, and the init sets the
    /// process's own groups (or none) as any container's. Then process.rlimits, from
    /// here (see `Rlimits::apply_to`).
    #[inline(never)]
    pub fn map_ids(&self, pid: i32) -> Result<()> {
        let Some((uids, gids)) = self.idmaps else { return Ok(()) };
        for (name, map) in [(&b"/uid_map"[..], uids), (b"/gid_map", gids)] {
            let mut path: Buf<40> = Buf::from(b"/proc/");
            path.push_u64(pid as u64).push(name);
            let mut text: Buf<{ super::linux::MAX_IDMAPS * 33 }> = Buf::new();
            for m in map {
                for (n, sep) in [(m.container, b" "), (m.host, b" "), (m.size, b"\n")] {
                    text.push_u64(n as u64).push(sep);
                }
            }
            crate::cgroup::fs::write(CWD, path.as_cstr(), text.as_bytes()).map_err(|e| {
                let hint: &[u8] = if e == rustix::io::Errno::INVAL { b"ranges that overlap, or over 340" } else { b"" };
                Error::sys_hint("write the user namespace's map", path.as_bytes(), e, hint)
            })?;
        }
        self.confine.rlimits.apply_to(pid).map_err(|(i, e)| {
            Error::sys("set the resource limit of the init in its user namespace", crate::confine::rlimit::name(i), e)
        })
    }

    pub fn add_cgroup(&self, path: &[u8]) {
        self.cgroups.borrow_mut().push(path);
    }

    /// The seccomp program config.json asks for, compiled into `out` (at least
    /// [`Detached::seccomp_room`] long); its length.
    pub fn seccomp(&self, out: &mut [SockFilter]) -> Result<usize> {
        match self.profile.enabled {
            true => super::seccomp::compile(self.profile, out),
            false => Ok(0),
        }
    }

    /// Instructions [`Detached::seccomp`] may write: 0 without a profile.
    pub fn seccomp_room(&self) -> usize {
        super::seccomp::max_len(self.profile)
    }

    /// Whether `prestart`, `createRuntime` or `createContainer` hooks run before the
    /// init enters the root (it then waits for the command before that, not after).
    pub fn root_hooks(&self) -> bool {
        [HookKind::Prestart, HookKind::CreateRuntime, HookKind::CreateContainer]
            .iter()
            .any(|&k| !self.hooks.get(k).is_empty())
    }

    /// After clone, before the init enters the root: the `prestart` hooks (deprecated,
    /// and run where runc runs them), then the `createRuntime` ones, then (in the init's
    /// namespaces) the `createContainer` ones, with the state of a container `creating`
    /// whose init is `pid`.
    pub fn before_root(&self, pid: i32) -> Result<()> {
        let s = super::emit::State {
            id: self.id,
            status: "creating",
            pid,
            bundle: self.bundle,
            rootfs: self.rootfs,
            created: crate::sys::clock::realtime(),
            annotations: self.annotations,
        };
        super::hooks::run(self.hooks, HookKind::Prestart, &s)?;
        super::hooks::run(self.hooks, HookKind::CreateRuntime, &s)?;
        super::hooks::run_at(self.hooks, HookKind::CreateContainer, &s, super::hooks::Place::Host)
    }

    /// Before clone, once the cgroups of the limits exist (`unified`: the v2 one, if
    /// any, and the length of its hierarchy's mount point): the container's cgroup in
    /// every other v1 hierarchy (cpuacct, blkio, freezer, devices, hugetlb...:
    /// crate::oci::hierarchies). The device allow-list (containerd always sends one:
    /// deny all, then the usual nodes) is written to the v1 devices cgroup, or else
    /// attached to the v2 cgroup as a device program; the huge page limits to the v1
    /// hugetlb cgroup, or else the v2 one. The init joins the v1 ones itself, first
    /// thing: their directories go into `out`; returns how many.
    pub fn prepare_cgroups(&self, unified: Option<(&[u8], usize)>, out: &mut [RawFd]) -> Result<usize> {
        let mut extra = self.extra.borrow_mut();
        let (rules, pages) = (self.devices, self.hugepages);
        let mut n = 0;
        let (mut devices_v1, mut hugetlb_v1) = (false, false);
        super::hierarchies::each(&mut |dir, options| {
            let devices = crate::mountinfo::has_word(options, b"devices") && !rules.is_empty();
            let hugetlb = crate::mountinfo::has_word(options, b"hugetlb") && !pages.is_empty();
            devices_v1 |= devices;
            hugetlb_v1 |= hugetlb;
            let fd = super::hierarchies::prepare(
                dir,
                self.cgroup_path,
                &mut |d, p| {
                    if devices {
                        super::devices::write_v1(d, p, rules, &self.mknod)?;
                    }
                    if hugetlb {
                        super::hugetlb::write_v1(d, p, pages)?;
                    }
                    Ok(())
                },
                &mut |p| self.add_cgroup(p),
            )?;
            // Room for every hierarchy `each` passes (MAX_CGROUP_JOINS counts them).
            let (Some(slot), Some(keep)) = (out.get_mut(n), extra.get_mut(n)) else {
                return Err(Error::usage(b"too many v1 cgroup hierarchies to join"));
            };
            *slot = fd.as_raw_fd();
            *keep = Some(fd);
            n += 1;
            Ok(())
        })?;
        match unified {
            Some((dir, _)) if !devices_v1 && !rules.is_empty() => super::devices::attach_v2(dir, rules, &self.mknod)?,
            _ => {}
        }
        match unified {
            _ if hugetlb_v1 || pages.is_empty() => {}
            Some((dir, from)) => super::hugetlb::write_v2(dir, from, pages)?,
            None => {
                return Err(Error::usage(
                    b"config.json: linux.resources.hugepageLimits: this host has no hugetlb cgroup (no v1 hierarchy, no cgroup v2)",
                ))
            }
        }
        if !self.unified.is_empty() {
            super::unified::write(unified.map(|(dir, _)| dir), self.unified, "config.json: linux.resources.")?;
        }
        Ok(n)
    }
}

/// The parsed `create` command line.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    pub bundle: &'a CStr,
    pub pid_file: Option<&'a CStr>,
    /// Where a relative `pid_file` is: the caller's working directory (create opens it
    /// before entering the bundle).
    pub pid_dir: Option<BorrowedFd<'a>>,
    pub console_socket: Option<&'a CStr>,
    /// `--preserve-fds N`: descriptors 3 to 3+N-1 pass on to the container's process.
    pub preserve_fds: u32,
    pub id: &'a CStr,
}

/// Creates container `a.id` from its bundle; the state goes below `root`.
#[inline(never)]
pub fn create(root: &CStr, a: &Args<'_>, host_env: CArgs<'_>) -> Result<()> {
    store::check_id(a.id.to_bytes())?;
    // A relative --pid-file is the caller's, as in runc: found from the directory create
    // was started in (held open, not spelled out: no path buffer on this stack).
    let here = match a.pid_file {
        Some(f) if !f.to_bytes().starts_with(b"/") => Some(
            rustix::fs::open(c".", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| Error::sys("resolve the pid file", f.to_bytes(), e))?,
        ),
        _ => None,
    };
    let a = &Args { pid_dir: here.as_ref().map(|d| d.as_fd()), ..*a };
    // As runc: the bundle is the working directory, so a relative root.path is found.
    rustix::process::chdir(a.bundle).map_err(|e| Error::sys("enter the bundle", a.bundle.to_bytes(), e))?;
    let mut doc = super::file::read_at(CWD, c"config.json")?;
    let cfg = super::config::parse_mapped(doc.bytes(), "config.json")?;
    // The bundle's path and the root's, in a mapping: two 4 KiB buffers in this frame
    // would be probed (made resident) page by page; there, only what is written is.
    let mut paths = crate::sys::MapBox::new(|| Paths {
        cwd: [0; PATH_MAX],
        root: Buf::new(),
        room: Scratch {
            table: crate::rootfs::cgroupfs::Table::EMPTY,
            parent: Buf::new(),
            transition: super::lsm::Transition::new(),
        },
    })
    .map_err(|e| Error::sys("map memory for the paths of", a.id.to_bytes(), e))?;
    let Paths { cwd, root: root_buf, room } = &mut *paths;
    let bundle = crate::sys::getcwd(cwd).map_err(|e| Error::sys("find the bundle's path", a.bundle.to_bytes(), e))?;
    let entry = Entry::create(root, a.id)?;
    let made = make(&entry, &cfg, bundle, root_buf, room, a, host_env);
    if made.is_err() {
        let _ = entry.remove(root, a.id);
    }
    made
}

#[inline(never)]
fn make(
    entry: &Entry,
    cfg: &Config<'_>,
    bundle: &[u8],
    root_buf: &mut Buf<PATH_MAX>,
    room: &mut Scratch,
    a: &Args<'_>,
    host_env: CArgs<'_>,
) -> Result<()> {
    let Some(p) = cfg.process else { return Err(Error::usage(b"config.json: \"process\" is missing")) };
    let console = terminal(p.terminal, a.console_socket)?;
    let lx = &cfg.linux;
    // What tinyctr cannot do yet is refused by name, never skipped: a container without
    // the hook or the kernel setting it was made for is not that container.
    super::sysctl::check(lx)?;
    let apparmor = match super::lsm::check(&p, "config.json: process.", &mut room.transition)? {
        true => room.transition.as_bytes(),
        false => &[],
    };
    let new_time = lx.namespaces.has(Ns::Time) && lx.namespaces.path(Ns::Time).is_none();
    if !new_time && lx.time_offsets.iter().any(Option::is_some) {
        return Err(Error::usage(
            b"config.json: linux.timeOffsets: set, but linux.namespaces has no new \"time\" namespace",
        ));
    }
    let idmaps = user_namespace(lx)?;
    if lx.namespaces.path(Ns::Mount).is_some() {
        return Err(Error::usage(b"config.json: linux.namespaces: joining a mount namespace is not supported"));
    }
    // sethostname acts on the init's UTS namespace: without one of the container's own
    // (new, or joined by path) it would rename the caller's machine.
    if !(cfg.hostname.is_empty() && cfg.domainname.is_empty()) && !lx.namespaces.has(Ns::Uts) {
        return Err(Error::usage(
            b"config.json: hostname or domainname: set, but linux.namespaces has no \"uts\" namespace: it would rename the host (runc refuses it too)",
        ));
    }
    // The root switch, the mounts and the masks happen in the init's mount namespace:
    // without a new one they would happen to the caller's (the host's root pivoted away).
    if !lx.namespaces.has(Ns::Mount) {
        return Err(Error::usage(
            b"config.json: linux.namespaces: no \"mount\" namespace: the container's root is set up in a mount namespace of its own, which tinyctr never does without (runc refuses it too)",
        ));
    }
    let root = cfg.root.map(|r| r.path).ok_or_else(|| Error::usage(b"config.json: \"root\" is missing"))?;
    let rootfs = root_path(root_buf, bundle, root.get())?;

    // The fifo `start` writes to; the child holds its read end (see trampoline).
    rustix::fs::mkfifoat(&entry.dir, store::FIFO, Mode::from_raw_mode(0o600))
        .map_err(|e| Error::sys("create the exec fifo of", a.id.to_bytes(), e))?;
    let fifo =
        rustix::fs::openat(&entry.dir, store::FIFO, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| Error::sys("open the exec fifo of", a.id.to_bytes(), e))?;

    let mut ptrs = pointers(p.args, p.env)?;
    let (argv, env) = arrays(&mut ptrs, p.args, p.env, (rootfs, p.user.uid))?;

    let limits = limits(cfg, a.id, &mut room.parent)?;
    // Parent and name together, for the v1 freezer and devices cgroups: the cgroupsPath
    // as written (limits refused a trailing slash), or the ID.
    let cgroup_path = match lx.cgroups_path.get().to_bytes() {
        b"" => a.id.to_bytes(),
        p => p,
    };
    let mut opened: [Option<OwnedFd>; MAX_JOINS] = Default::default();
    let mut d = Detached {
        confine: confine(cfg),
        env: CArgs::from_array(&env),
        fifo: fifo.as_raw_fd(),
        preserve_fds: a.preserve_fds,
        console: console.as_ref().map(|c| c.as_raw_fd()),
        console_size: p.console_size,
        // (The cgroup namespace the init makes itself, a time namespace the parent:
        // Detached::enter_for_init.)
        ns: lx.namespaces.new_flags()
            & !(linux_raw_sys::general::CLONE_NEWCGROUP | linux_raw_sys::general::CLONE_NEWTIME),
        time: new_time.then_some(lx.time_offsets),
        joins: [(-1, 0); MAX_JOINS],
        njoins: 0,
        pid_join: None,
        pid: Cell::new(0),
        cgroups: RefCell::new(Lines::new()?),
        profile: &lx.seccomp,
        devices: &lx.resources.devices,
        hugepages: &lx.resources.hugepages,
        unified: &lx.resources.unified,
        mknod: super::devices::mknod_rules(&lx.resources.devices, &lx.devices)?,
        cgroup_path,
        extra: RefCell::new(Default::default()),
        sysctls: &lx.sysctl,
        domainname: cfg.domainname.get(),
        apparmor,
        nodes: &lx.devices,
        cgroupfs: cgroupfs(cfg, &mut room.table)?,
        cgroupns: {
            use crate::trampoline::CgroupNs;
            match (lx.namespaces.has(Ns::Cgroup), lx.namespaces.path(Ns::Cgroup)) {
                (false, _) => CgroupNs::Host,
                (true, None) => CgroupNs::New,
                (true, Some(_)) => CgroupNs::Joined,
            }
        },
        idmaps,
        standard: standard(cfg),
        masks: (lx.masked_paths.as_bytes(), lx.readonly_paths.as_bytes()),
        root_propagation: root_propagation(cfg)?,
        hooks: &cfg.hooks,
        id: a.id.to_bytes(),
        bundle,
        rootfs: rootfs.to_bytes(),
        annotations: cfg.annotations,
    };
    for (k, (path, flag)) in lx.namespaces.joins().enumerate() {
        if d.idmaps.is_some() {
            return Err(Error::usage(b"config.json: linux.namespaces: a namespace joined by path together with a new user namespace is not supported (the init has no privilege over the host's namespaces in its own)"));
        }
        let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| Error::sys("open the namespace", path.to_bytes(), e))?;
        if flag == linux_raw_sys::general::CLONE_NEWPID {
            d.pid_join = Some((fd.as_raw_fd(), path));
        } else {
            d.joins[d.njoins] = (fd.as_raw_fd(), flag);
            d.njoins += 1;
        }
        opened[k] = Some(fd);
    }

    // The mounts go straight into the description (no copy of their 1 KiB table on the
    // stack: every page of create's deepest frame chain is resident).
    let mut run = RunConfig {
        devices: crate::device::Rules::new(),
        hostname: cfg.hostname.get(),
        workdir: Some(p.cwd.get()),
        host_net: !lx.namespaces.has(Ns::Network),
        init: false,
        rootfs: Some(rootfs),
        read_only: cfg.root.is_some_and(|r| r.readonly),
        limits,
        mounts: Mounts::empty(),
        layer: None,
        confine: Default::default(),
        env_count: 0,
        options: CArgs::empty(),
        command: CArgs::from_array(&argv),
        oci: Some(&d),
    };
    for (i, m) in cfg.mounts.iter().enumerate() {
        mount(&mut run.mounts, i, m)?;
    }
    let status = match crate::spawn::run_detached(&run, host_env) {
        Ok(s) => s,
        Err(e) => {
            // The limits' cgroups are gone already; the other hierarchies' not.
            super::lifecycle::remove_cgroups(d.cgroups.borrow_mut().as_bytes());
            return Err(e);
        }
    };
    debug_assert_eq!(status, 0);
    drop(d.extra.take());
    let written = keep(entry, cfg, bundle, rootfs.to_bytes(), a, d.pid.get(), d.cgroups.borrow_mut().as_bytes());
    drop(fifo);
    written
}

/// A new user namespace's maps, when `linux.namespaces` lists one; what tinyctr cannot
/// do with one is refused by name. The init is cloned into it with the container's
/// other new namespaces (so they are its own: the init may mount proc, sysfs and the
/// cgroups there), which is why a namespace joined by path cannot go with it: the init
/// has no privilege over the host's namespaces once it is in its own.
fn user_namespace<'a>(lx: &'a super::linux::Linux<'a>) -> Result<Option<(&'a [IdMap], &'a [IdMap])>> {
    let refuse = |what: &[u8]| {
        let mut e = Error::usage(b"config.json: linux.");
        e.msg.push(what);
        Err(e)
    };
    let (uids, gids) = (&lx.uid_mappings[..], &lx.gid_mappings[..]);
    if !lx.namespaces.has(Ns::User) {
        return match uids.is_empty() && gids.is_empty() {
            true => Ok(None),
            false => refuse(b"uidMappings or gidMappings: set, but linux.namespaces has no \"user\" namespace (runc refuses it too)"),
        };
    }
    if lx.namespaces.path(Ns::User).is_some() {
        return refuse(b"namespaces: joining a user namespace by path is not supported");
    }
    if uids.is_empty() || gids.is_empty() {
        return refuse(b"uidMappings and gidMappings: a new user namespace needs both (runc refuses it too)");
    }
    Ok(Some((uids, gids)))
}

/// The container's /sys/fs/cgroup (crate::rootfs::cgroupfs), when config.json mounts
/// `cgroup` there: with its per-mount flags (`ro`, `nosuid`...); an option of another
/// kind is refused by name, as for a bind.
fn cgroupfs<'t>(
    cfg: &Config<'_>,
    t: &'t mut crate::rootfs::cgroupfs::Table,
) -> Result<Option<&'t crate::rootfs::cgroupfs::Table>> {
    let at = |m: &&Mount<'_>| m.fstype.get() == c"cgroup" && m.destination.get() == c"/sys/fs/cgroup";
    let Some((i, m)) = cfg.mounts.iter().enumerate().find(|(_, m)| at(m)) else { return Ok(None) };
    if !m.data.is_empty() {
        let mut e = bad_mount(i, b"options: '", m.data.to_bytes());
        e.msg.push(b"' is not a cgroup mount option tinyctr knows (leave it out)");
        return Err(e);
    }
    let flags = m.flags & (crate::rootfs::volume::PER_MOUNT | linux_raw_sys::general::MS_RDONLY);
    crate::rootfs::cgroupfs::plan(flags, t)?;
    Ok(Some(t))
}

/// `create`'s two paths and its other big buffers, in a mapping of their own (see
/// there): every page of create's deepest chain of stack frames is resident.
struct Paths {
    cwd: [u8; PATH_MAX],
    root: Buf<PATH_MAX>,
    room: Scratch,
}

/// What [`make`] fills in that would otherwise be kilobytes of its frame.
struct Scratch {
    /// The cgroup mount's steps (crate::rootfs::cgroupfs).
    table: crate::rootfs::cgroupfs::Table,
    /// The cgroupsPath up to its last component ([`limits`]).
    parent: Buf<{ CGROUPS_PATH_MAX + 1 }>,
    transition: super::lsm::Transition,
}

/// The root's path, `root` or (relative) `bundle/root`, as a C string in `out`; one
/// longer than `out` is refused (it was cut short before: another directory).
fn root_path<'r>(out: &'r mut Text, bundle: &[u8], root: &CStr) -> Result<&'r CStr> {
    if !root.to_bytes().starts_with(b"/") {
        out.push(bundle).push(b"/");
    }
    out.push(root.to_bytes());
    if out.overflowed() {
        return Err(Error::sys("find the root", root.to_bytes(), rustix::io::Errno::NAMETOOLONG));
    }
    Ok(out.as_cstr())
}

/// Once the init waits: its OOM score, the state, config.json for the later hooks, the
/// annotations and the pid file; on a failure, the container is destroyed. Out of line:
/// its buffers are not on the stack while the container is made.
#[inline(never)]
fn keep(
    entry: &Entry,
    cfg: &Config<'_>,
    bundle: &[u8],
    rootfs: &[u8],
    a: &Args<'_>,
    pid: i32,
    cgroups: &[u8],
) -> Result<()> {
    let start = store::proc_stat(pid).map_or(0, |s| s.start);
    let mut rec =
        Record { pid, start, created: crate::sys::clock::realtime().0 as u64, bundle, rootfs, ..Default::default() };
    // Never more lines than the record has room for: one per hierarchy joined, and
    // MAX_CGROUPS counts every one create can join (a forgotten one would outlive delete).
    for (slot, line) in rec.cgroups.iter_mut().zip(cgroups.split(|&c| c == b'\n').filter(|l| !l.is_empty())) {
        *slot = line;
        rec.n_cgroups += 1;
    }
    // The cgroup settings `run` has none of, in the cgroups the init is in now, before
    // its program runs; then the OOM killer's preference (CRI sets it per pod),
    // inherited by all the container's processes: set on the init while it waits.
    let controls = &cfg.linux.resources.controls;
    let at = "config.json: linux.resources.";
    let dirs = &rec.cgroups[..rec.n_cgroups];
    let oom = super::controls::write(dirs, controls, at)
        .and_then(|()| super::controls::write_mems(dirs, cfg.linux.resources.cpu.mems.get().to_bytes(), at))
        .and_then(|()| super::controls::write_throttles(dirs, &cfg.linux.resources.throttles, at))
        .and_then(|()| match cfg.process.and_then(|p| p.oom_score_adj) {
            Some(adj) => oom_score_adj(pid, adj),
            None => Ok(()),
        });
    let written = oom
        .and_then(|()| entry.write(&rec).map_err(|e| Error::sys("write the state of", a.id.to_bytes(), e)))
        .and_then(|()| keep_config(entry, cfg, a.id))
        .and_then(|()| match cfg.annotations {
            b"" => Ok(()),
            text => store::write_file(&entry.dir, store::ANNOTATIONS, text)
                .map_err(|e| Error::sys("write the state of", a.id.to_bytes(), e)),
        });
    let written = written.and_then(|()| match a.pid_file {
        Some(f) => write_pid(a.pid_dir.unwrap_or(CWD), f, pid),
        None => Ok(()),
    });
    if written.is_err() {
        super::lifecycle::destroy(&rec, false);
    }
    written
}

/// With `startContainer`, `poststart` or `poststop` hooks, a copy of config.json in the
/// state directory: `start` and `delete` run them as they were at `create` (the parsed copy here has its
/// strings unescaped in place, so the file is read again; the working directory is the
/// bundle).
fn keep_config(entry: &Entry, cfg: &Config<'_>, id: &CStr) -> Result<()> {
    if [HookKind::StartContainer, HookKind::Poststart, HookKind::Poststop].iter().all(|&k| cfg.hooks.get(k).is_empty())
    {
        return Ok(());
    }
    let mut doc = super::file::read_at(CWD, c"config.json")?;
    store::write_file(&entry.dir, store::CONFIG, doc.bytes())
        .map_err(|e| Error::sys("write the state of", id.to_bytes(), e))
}

/// The console socket, connected, when the process has a terminal (runc's rules: a
/// terminal needs the socket, and the socket a terminal).
pub(super) fn terminal(terminal: bool, socket: Option<&CStr>) -> Result<Option<OwnedFd>> {
    match (terminal, socket) {
        (true, Some(s)) => super::console::connect(s).map(Some),
        (false, None) => Ok(None),
        (true, None) => Err(Error::usage(b"process.terminal is true: a terminal needs --console-socket")),
        (false, Some(_)) => Err(Error::usage(b"--console-socket needs process.terminal set to true")),
    }
}

fn oom_score_adj(pid: i32, adj: i32) -> Result<()> {
    let mut path: Buf<40> = Buf::from(b"/proc/");
    path.push_u64(pid as u64).push(b"/oom_score_adj");
    let mut v: Buf<16> = Buf::new();
    if adj < 0 {
        v.push(b"-");
    }
    v.push_u64(adj.unsigned_abs() as u64);
    crate::cgroup::fs::write(CWD, path.as_cstr(), v.as_bytes()).map_err(|e| {
        let hint: &[u8] = if e == rustix::io::Errno::ACCESS { b"a value below 0 needs CAP_SYS_RESOURCE" } else { b"" };
        Error::sys_hint("set process.oomScoreAdj in", path.as_bytes(), e, hint)
    })
}

/// A mapping with one pointer slot per string of `args` and `env`, their NULLs, a slot
/// for a HOME the environment may lack and room for its text ([`arrays`]).
pub(super) fn pointers(args: StrList<'_>, env: StrList<'_>) -> Result<Mapping> {
    Mapping::new((args.len() + env.len() + 3) * core::mem::size_of::<usize>() + HOME_ROOM)
        .map_err(|e| Error::sys("map memory for", b"config.json", e))
}

/// `args` and `env` as execve's pointer arrays, both in `map` (from [`pointers`]): one
/// mapping, since each is a page of memory at least. Without a HOME in `env`, the home of
/// `user`'s uid in the container's /etc/passwd under its root is added, its text after
/// the pointers (in their page, unless the environment is long): runc's and crun's rule,
/// `/` without an entry; docker, containerd and CRI leave HOME to the runtime.
pub(super) fn arrays<'a>(
    map: &'a mut Mapping,
    args: StrList<'a>,
    env: StrList<'a>,
    user: (&CStr, u32),
) -> Result<(PtrArray<'a>, PtrArray<'a>)> {
    let too_many = || Error::usage(b"config.json: too many strings");
    let (argv, rest) = split_slots(map.bytes(), args.len() + 1).ok_or_else(too_many)?;
    let (envp, text) = split_slots(rest, env.len() + 2).ok_or_else(too_many)?;
    let (mut a, mut e) = (PtrArray::new(argv), PtrArray::new(envp));
    for s in args.iter() {
        a.push(s);
    }
    for s in env.iter() {
        e.push(s);
    }
    if crate::env::lookup(crate::sys::args::CArgs::from_array(&e), b"HOME").is_none() {
        if let Some(h) = crate::confine::user::home_of(user.0, user.1, text) {
            e.push(h);
        }
    }
    Ok((a, e))
}

/// Room for the `HOME=` entry [`arrays`] adds (a home as long as a path can be).
const HOME_ROOM: usize = 4096 + 6;

/// Capabilities, user and rlimits as config.json says: each capability set as written (a
/// capability tinyctr itself lacks is left out, as runc does for `--privileged`).
fn confine(cfg: &Config<'_>) -> Confine {
    let lx = &cfg.linux;
    let masks = !lx.masked_paths.is_empty() || !lx.readonly_paths.is_empty();
    let mut c = confine_process(&cfg.process.unwrap_or_default(), masks);
    c.seccomp = lx.seccomp.enabled;
    c
}

/// The confinement of one process (the container's, or one `exec` adds).
#[inline(never)]
pub(super) fn confine_process(p: &Process<'_>, masks: bool) -> Confine {
    let held = crate::confine::caps::held(true);
    let given = p.capabilities;
    let caps = given.map_or(held, |c| c.permitted & held);
    // The kernel keeps the inheritable set within the bounding one (dropped first) and
    // the ambient within permitted and inheritable.
    let bounding = given.map_or(held, |c| c.bounding & held);
    let ambient = given.map_or(0, |c| c.ambient & caps & bounding);
    #[cfg_attr(not(feature = "oci"), allow(unused_variables))]
    let sets = crate::confine::Sets {
        bounding,
        effective: given.map_or(held, |c| c.effective & caps),
        inheritable: given.map_or(0, |c| c.inheritable & bounding) | ambient,
    };
    let mut ids = crate::confine::user::Ids::ROOT;
    ids.uid = p.user.uid;
    ids.gid = p.user.gid;
    for &g in p.user.additional_gids.iter() {
        ids.add_group(g);
    }
    let mut rlimits = crate::confine::rlimit::Rlimits::default();
    for r in p.rlimits.iter() {
        rlimits.set |= 1 << r.resource;
        rlimits.soft[r.resource as usize] = r.soft;
        rlimits.hard[r.resource as usize] = r.hard;
    }
    let umask = p.user.umask;
    Confine {
        caps,
        no_new_privs: p.no_new_privileges,
        seccomp: false,
        masks,
        ids,
        rearm: false,
        rlimits,
        umask,
        ambient,
        #[cfg(feature = "oci")]
        sets,
    }
}

/// The propagation of every mount of the container's namespace, set first (runc's
/// reading): `linux.rootfsPropagation`, always recursive (a plain `slave` would leave the
/// mounts below `/` shared with the host's, and the container's mounts would reach it);
/// without it, slave where a mount asks for slave propagation (a bind's `rslave` needs
/// its source still a slave of the host's), private otherwise. Shared (CRI's for a pod
/// with a Bidirectional mount, a CSI driver's) keeps the copies of the host's mounts in
/// their peer groups, so a bind of a shared host directory is a peer of it and what the
/// container mounts inside reaches the host; the root itself is made private all the
/// same (rootfs::switch), so nothing else the container mounts does.
fn root_propagation(cfg: &Config<'_>) -> Result<u32> {
    use linux_raw_sys::general::{MS_PRIVATE, MS_REC, MS_SLAVE};
    match cfg.linux.rootfs_propagation {
        // (rprivate, which CRI puts on every bind, needs nothing of the root.)
        0 if cfg.mounts.iter().any(|m| m.propagation & MS_SLAVE != 0) => Ok(MS_REC | MS_SLAVE),
        0 => Ok(MS_REC | MS_PRIVATE),
        p => Ok(p | MS_REC),
    }
}

/// The longest `linux.cgroupsPath` taken.
const CGROUPS_PATH_MAX: usize = 1024;

/// `linux.cgroupsPath` (absolute from each hierarchy's root; absent or empty: `/ID`)
/// and the resources. `parent` holds the path up to its last component.
#[inline(never)]
fn limits<'a>(cfg: &Config<'a>, id: &'a CStr, parent: &'a mut Buf<{ CGROUPS_PATH_MAX + 1 }>) -> Result<Limits<'a>> {
    let lx = &cfg.linux;
    let path = lx.cgroups_path.get();
    let bytes = path.to_bytes();
    let bad = |why: &[u8]| {
        let mut e = Error::usage(b"config.json: linux.cgroupsPath: ");
        push_shown(&mut e.msg, bytes);
        e.msg.push(why);
        e
    };
    if !bytes.is_empty() && !bytes.starts_with(b"/") {
        return Err(bad(b" is not absolute (the systemd form slice:prefix:name is not supported)"));
    }
    if super::config::has_dot_component(bytes) || bytes.len() > CGROUPS_PATH_MAX {
        return Err(bad(b" has a . or .. component, or is too long"));
    }
    let trimmed = bytes.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    let mut l = Limits::default();
    match bytes[..trimmed].iter().rposition(|&c| c == b'/') {
        Some(i) => {
            parent.push(&bytes[..i.max(1)]);
            let tail = &path.to_bytes_with_nul()[i + 1..];
            // `/ns/id/` ends in a slash: the name is then copied without it.
            l.name = CStr::from_bytes_with_nul(tail).ok().filter(|_| trimmed == bytes.len());
            if l.name.is_none() {
                return Err(bad(b" ends in a slash"));
            }
        }
        None => {
            parent.push(b"/");
            l.name = Some(id);
        }
    }
    l.cgroup_parent = Some(parent.as_cstr());
    resources(&mut l, &lx.resources, "config.json: linux.resources.")?;
    l.exact = true;
    Ok(l)
}

/// The memory, cpu and pids resources as cgroup limits (also `update`'s); `at` names
/// the resources object in errors (`config.json: linux.resources.`, or `resources: `).
pub(super) fn resources<'a>(l: &mut Limits<'a>, r: &super::linux::Resources<'a>, at: &str) -> Result<()> {
    let bad = |field: &[u8], why: &[u8]| {
        let mut e = Error::usage(at.as_bytes());
        e.msg.push(field).push(why);
        e
    };
    if let Some(m) = r.memory.limit.filter(|&m| m > 0) {
        l.memory = Some(m as u64);
    }
    // memory plus swap (runc's reading; 0 is unset, -1 no limit on swap): without it the
    // container gets no swap beyond its memory limit, as with `run -m`.
    match (r.memory.swap.filter(|&s| s != 0), l.memory) {
        (None, _) => {}
        (Some(_), None) => {
            return Err(bad(b"memory.swap", b" needs memory.limit: it is the limit of memory plus swap"))
        }
        (Some(-1), Some(_)) => l.memory_swap = Some(crate::limits::Swap::Unlimited),
        (Some(s), Some(m)) if (s as u64) < m => {
            return Err(bad(b"memory.swap", b" is less than memory.limit: it is the limit of memory plus swap"))
        }
        (Some(s), Some(_)) => l.memory_swap = Some(crate::limits::Swap::Total(s as u64)),
    }
    if let Some(s) = r.cpu.shares.filter(|&s| s > 0) {
        l.cpu_shares = Some(s.clamp(2, 262_144));
    }
    if let Some(q) = r.cpu.quota.filter(|&q| q > 0) {
        l.cpus = Some(CpuQuota { quota: q as u64, period: r.cpu.period.unwrap_or(100_000) });
    }
    if !r.cpu.cpus.is_empty() {
        l.cpuset_cpus = Some(r.cpu.cpus.get());
    }
    if let Some(n) = r.pids_limit.filter(|&n| n > 0) {
        l.pids = Some(n as u64);
    }
    Ok(())
}

/// config.json's source, flags and data of its mounts of the filesystems every container
/// gets (the last of each, as the kernel would show it), by index in [`STANDARD`].
fn standard<'a>(cfg: &Config<'a>) -> crate::rootfs::Standard<'a> {
    use linux_raw_sys::general::{MS_BIND, MS_REC, MS_REMOUNT};
    let mut given = crate::rootfs::Standard::default();
    for m in cfg.mounts.iter() {
        let (ty, dst) = (m.fstype.get().to_bytes(), m.destination.get().to_bytes());
        let Some(k) = STANDARD.iter().position(|&(_, d)| d == dst) else { continue };
        let Some(slot) = given.get_mut(k) else { continue };
        let (data, source) = (m.data.get(), m.source.get());
        *slot = Some(match STANDARD[k].0 == ty {
            true => crate::rootfs::Given {
                source: if source.is_empty() { m.fstype.get() } else { source },
                flags: m.flags & !(MS_BIND | MS_REC | MS_REMOUNT),
                data: (!data.is_empty()).then_some(data),
            },
            // Another kind of mount in its place (docker's `--ipc container:X` binds the
            // other container's /dev/shm there): the config's own, mounted with the
            // binds; tinyctr's would only lie hidden below it. Not /dev itself, nor /proc
            // and /sys: what tinyctr puts into them (device nodes, masks) needs its own.
            false if k >= 3 => crate::rootfs::Given::ELSEWHERE,
            false => continue,
        });
    }
    given
}

/// The filesystems every container gets, by type and destination: those of
/// `rootfs::mounts::MOUNTS` in its order, then the cgroup mount.
const STANDARD: [(&[u8], &[u8]); 7] = [
    (b"proc", b"/proc"),
    (b"sysfs", b"/sys"),
    (b"tmpfs", b"/dev"),
    (b"devpts", b"/dev/pts"),
    (b"tmpfs", b"/dev/shm"),
    (b"mqueue", b"/dev/mqueue"),
    (b"cgroup", b"/sys/fs/cgroup"),
];

/// One entry of `mounts`. The filesystems every container gets (proc, sysfs, /dev's
/// tmpfs, devpts, shm, mqueue) are those `--rootfs` mounts; binds and other tmpfs
/// mounts go through the volume code; anything else is refused by name.
#[inline(never)]
fn mount<'a>(out: &mut Mounts<'a>, i: usize, m: &Mount<'a>) -> Result<()> {
    let m = *m;
    use crate::rootfs::volume::PER_MOUNT;
    use linux_raw_sys::general::{MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT};
    let dst = m.destination.get().to_bytes();
    let ty = m.fstype.get().to_bytes();
    if STANDARD.contains(&(ty, dst)) {
        return Ok(());
    }
    let bind = m.flags & MS_BIND != 0 || ty == b"bind";
    // A bind takes no filesystem data: an option that is no flag tinyctr knows (a typo of
    // `nosuid`, an `idmap`) would be dropped by the kernel, and the mount be other than
    // asked.
    if bind && (!m.data.is_empty() || m.copy_up) {
        let data = if m.copy_up { b"tmpcopyup" } else { m.data.to_bytes() };
        let mut e = bad_mount(i, b"options: '", data);
        e.msg.push(b"' is not a bind mount option tinyctr knows (leave it out)");
        return Err(e);
    }
    let req = match (bind, ty) {
        (true, _) => Req {
            kind: Kind::Bind,
            source: m.source.get().to_bytes(),
            target: dst,
            read_only: m.flags & MS_RDONLY != 0,
            // Set on the bind once made (it keeps what its source's mount has). The
            // filesystem's own flags (sync, dirsync, lazytime, ...) are the source's: a
            // bind cannot change them, as with runc.
            flags: m.flags & PER_MOUNT,
            size: 0,
            mode: None,
            propagation: m.propagation,
            #[cfg(feature = "oci")]
            data: None,
            #[cfg(feature = "oci")]
            copy_up: false,
        },
        // Its options as written, for the kernel to read (uid=, gid=, nr_inodes=, huge=...:
        // runc passes them on too); one it does not know fails the mount, named.
        (false, b"tmpfs") => Req {
            kind: Kind::Tmpfs,
            source: b"",
            target: dst,
            read_only: m.flags & MS_RDONLY != 0,
            flags: m.flags & !(MS_RDONLY | MS_BIND | MS_REC | MS_REMOUNT),
            size: 0,
            mode: None,
            // A new tmpfs under the container's private or slave tree is private.
            propagation: 0,
            #[cfg(feature = "oci")]
            data: (!m.data.is_empty()).then(|| m.data.get()),
            #[cfg(feature = "oci")]
            copy_up: m.copy_up,
        },
        _ => return Err(bad_mount(i, b"type: not supported: ", ty)),
    };
    if req.kind == Kind::Bind && !req.source.starts_with(b"/") {
        return Err(bad_mount(i, b"source: not an absolute path: ", req.source));
    }
    if !dst.starts_with(b"/") {
        return Err(bad_mount(i, b"destination: not an absolute path: ", dst));
    }
    if !out.push(req) {
        return Err(bad_mount(i, b"one too many: tinyctr takes at most 16 binds and tmpfs mounts", b""));
    }
    Ok(())
}

fn bad_mount(i: usize, what: &[u8], value: &[u8]) -> Error {
    let mut e = Error::usage(b"config.json: mounts[");
    e.msg.push_u64(i as u64).push(b"].").push(what);
    push_shown(&mut e.msg, value);
    e
}

/// Writes the init's pid, as runc does (no newline).
pub(super) fn write_pid(dir: BorrowedFd<'_>, path: &CStr, pid: i32) -> Result<()> {
    let mut b: Buf<16> = Buf::new();
    b.push_u64(pid as u64);
    let fd = rustix::fs::openat(
        dir,
        path,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|e| Error::sys("write the pid file", path.to_bytes(), e))?;
    crate::fdio::write_all(fd.as_fd(), b.as_bytes()).map_err(|e| Error::sys("write the pid file", path.to_bytes(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str, f: impl FnOnce(&Config<'_>)) {
        let mut buf = json.as_bytes().to_vec();
        let c = super::super::config::parse(&mut buf, "config.json").unwrap_or_else(|e| panic!("{}", line(e)));
        f(&c)
    }

    fn line(e: Error) -> String {
        String::from_utf8_lossy(e.line().as_bytes()).trim_end().to_owned()
    }

    /// root.path: absolute as it is, relative below the bundle; one that does not fit
    /// is refused, never cut short (it was: the container got another directory).
    #[test]
    fn root_path_joins_or_refuses() {
        let got = |root: &CStr| root_path(&mut Buf::<32>::new(), b"/b/bundle", root).map(|c| c.to_bytes().to_vec());
        assert_eq!(got(c"rootfs").ok(), Some(b"/b/bundle/rootfs".to_vec()));
        assert_eq!(got(c"/abs/root").ok(), Some(b"/abs/root".to_vec()));
        // 9 + 1 + 22 + NUL is 33 bytes: one too many.
        let e = got(c"rootfs-with-a-long-nam").map_err(line).unwrap_err();
        assert!(e.contains("\"rootfs-with-a-long-nam\": ENAMETOOLONG"), "{e}");
        assert_eq!(got(c"rootfs-with-a-long-na").ok().map(|v| v.len()), Some(31));
    }

    /// linux.resources.memory: limit, swap (memory plus swap; -1 no limit; 0 unset) and
    /// the refused soft limit and memory nodes, each error naming its path.
    #[test]
    fn memory_swap_and_reservation() {
        use crate::limits::Swap;
        const M: u64 = 64 << 20;
        type Want = core::result::Result<(Option<u64>, Option<Swap>), &'static str>;
        let cases: [(&str, Want); 8] = [
            (r#"{"memory":{"limit":67108864}}"#, Ok((Some(M), None))),
            (r#"{"memory":{"limit":67108864,"swap":0}}"#, Ok((Some(M), None))),
            (r#"{"memory":{"limit":67108864,"swap":-1}}"#, Ok((Some(M), Some(Swap::Unlimited)))),
            (r#"{"memory":{"limit":67108864,"swap":134217728}}"#, Ok((Some(M), Some(Swap::Total(2 * M))))),
            (
                r#"{"memory":{"limit":67108864,"swap":1048576}}"#,
                Err("linux.resources.memory.swap is less than memory.limit"),
            ),
            (r#"{"memory":{"swap":134217728}}"#, Err("linux.resources.memory.swap needs memory.limit")),
            // A soft limit: written by `keep`, with the other controls.
            (r#"{"memory":{"limit":67108864,"reservation":33554432}}"#, Ok((Some(M), None))),
            // Memory nodes: written by `keep`, into the cgroup (controls::write_mems).
            (r#"{"cpu":{"mems":"0"}}"#, Ok((None, None))),
        ];
        for (res, want) in cases {
            let json = format!(r#"{{"linux":{{"resources":{res}}}}}"#);
            config(&json, |c| {
                let mut parent = Buf::new();
                match (limits(c, c"id", &mut parent), want) {
                    (Ok(l), Ok((mem, swap))) => assert_eq!((l.memory, l.memory_swap), (mem, swap), "{res}"),
                    (Err(e), Err(words)) => {
                        let l = line(e);
                        assert!(l.contains(words), "{res}: {l}")
                    }
                    (Ok(_), Err(_)) => panic!("{res}: accepted"),
                    (Err(e), Ok(_)) => panic!("{res}: {}", line(e)),
                }
            });
        }
    }

    /// cgroupsPath: absolute from each hierarchy's root, its last component the cgroup's
    /// name, the rest its parent; absent or `/` means `/ID`; the rest refused by name.
    #[test]
    fn cgroups_path() {
        // JSON, and the parent and name it gives, or words of the error.
        type Want = core::result::Result<(&'static str, &'static str), &'static str>;
        let cases: [(&str, Want); 6] = [
            (r#"{"linux":{"cgroupsPath":"/ns/c1"}}"#, Ok(("/ns", "c1"))),
            (r#"{"linux":{"cgroupsPath":"/kubepods/burstable/pod1/c2"}}"#, Ok(("/kubepods/burstable/pod1", "c2"))),
            (r#"{"linux":{"cgroupsPath":"/c3"}}"#, Ok(("/", "c3"))),
            (r#"{}"#, Ok(("/", "id"))),
            (r#"{"linux":{"cgroupsPath":"system.slice:cri:c4"}}"#, Err("is not absolute")),
            (r#"{"linux":{"cgroupsPath":"/ns/c5/"}}"#, Err("ends in a slash")),
        ];
        for (json, want) in cases {
            config(json, |c| {
                let mut parent = Buf::new();
                match (limits(c, c"id", &mut parent), want) {
                    (Ok(l), Ok((p, n))) => {
                        assert_eq!(l.cgroup_parent.unwrap().to_bytes(), p.as_bytes(), "{json}");
                        assert_eq!(l.name.unwrap().to_bytes(), n.as_bytes(), "{json}");
                        assert!(l.exact, "{json}");
                    }
                    (Err(e), Err(words)) => assert!(line(e).contains(words), "{json}"),
                    (Ok(_), Err(_)) => panic!("{json}: accepted"),
                    (Err(e), Ok(_)) => panic!("{json}: {}", line(e)),
                }
            });
        }
        // `..` never gets this far: the reader refuses it, naming the path.
        let mut bad = br#"{"linux":{"cgroupsPath":"/ns/../../etc"}}"#.to_vec();
        let Err(e) = super::super::config::parse(&mut bad, "config.json") else { panic!("'..' accepted") };
        assert!(line(e).contains("linux.cgroupsPath: has a . or .. component"));
    }

    /// The filesystems every container gets are left to [`standard`]; binds and other
    /// tmpfs mounts become volume requests with their flags (a tmpfs with its options as
    /// written); other types are refused by name.
    #[test]
    fn mounts() {
        let json = r#"{"mounts":[
            {"destination":"/proc","type":"proc","source":"proc"},
            {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]},
            {"destination":"/data","type":"bind","source":"/srv/data","options":["rbind","ro"]},
            {"destination":"/run","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","size=65536k","mode=755"]},
            {"destination":"/old","source":"/srv/old","options":["bind"]}
        ]}"#;
        config(json, |c| {
            let mut m = Mounts::empty();
            for (i, mt) in c.mounts.iter().enumerate() {
                mount(&mut m, i, mt).unwrap_or_else(|e| panic!("{}", line(e)));
            }
            let r = m.as_slice();
            assert_eq!(r.len(), 3);
            assert_eq!(
                (r[0].kind, r[0].source, r[0].target, r[0].read_only),
                (Kind::Bind, &b"/srv/data"[..], &b"/data"[..], true)
            );
            assert_eq!((r[1].kind, r[1].target), (Kind::Tmpfs, &b"/run"[..]));
            #[cfg(feature = "oci")]
            assert_eq!(r[1].data, Some(c"size=65536k,mode=755"), "a tmpfs's options go to the kernel as written");
            use linux_raw_sys::general::{MS_NODEV, MS_NOSUID};
            assert_eq!(r[1].flags, MS_NOSUID | MS_NODEV);
            assert_eq!((r[2].kind, r[2].source, r[2].read_only), (Kind::Bind, &b"/srv/old"[..], false));
        });
        for (json, words) in [
            (r#"{"mounts":[{"destination":"/x","type":"nfs","source":"h:/x"}]}"#, "mounts[0].type: not supported: nfs"),
            (
                r#"{"mounts":[{"destination":"/x","type":"bind","source":"rel"}]}"#,
                "mounts[0].source: not an absolute path",
            ),
            (
                r#"{"mounts":[{"destination":"/x","type":"bind","source":"/y","options":["rbind","nosiud"]}]}"#,
                "mounts[0].options: 'nosiud' is not a bind mount option tinyctr knows",
            ),
        ] {
            config(json, |c| {
                let mut m = Mounts::empty();
                let Err(e) = mount(&mut m, 0, &c.mounts[0]) else { panic!("{json}: accepted") };
                let l = line(e);
                assert!(l.contains(words), "{json}: {l}");
            });
        }
    }
}
