//! The container's cgroups: created below tinyctr's own cgroup (or `--cgroup-parent`) in
//! each hierarchy that drives a requested controller, limits written before the child
//! exists, the child placed in them, and everything removed afterwards.
//!
//! One run's cgroup is `tinyctr-<name>` (default `tinyctr-<pid>`) in every hierarchy it
//! uses. It is flock(2)ed while the container runs: a cgroup whose lock is free was left
//! by a run that died (SIGKILL), and the next run removes it ("sweep"). Besides the
//! hierarchies of the controllers asked for, nothing is created; with no controller
//! asked for (`--name` or `--cgroup-parent` alone) the unified hierarchy, or else a v1
//! one, gets the cgroup as the anchor of the name and the lock. (An OCI `cgroupsPath` is
//! the exception: that cgroup is made in every hierarchy, see `Plan::new`.) On v2, clone3 starts the
//! child inside its cgroup (`CLONE_INTO_CGROUP`), and `cgroup.kill` empties it.
//!
//! tinyctr never writes a control file of a cgroup it did not create, with two v2
//! exceptions the kernel imposes: enabling controllers in `cgroup.subtree_control` of
//! the ancestors, and (when that answers EBUSY because tinyctr's own cgroup holds it)
//! moving tinyctr itself into a leaf below its own cgroup. Neither happens on a host
//! whose v2 hierarchy drives no controller tinyctr needs.

pub mod detached;
pub mod devices;
pub mod fs;
pub mod knobs;
pub mod layout;
pub mod v1;
pub mod v2;
pub mod weight;

use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::fault::{self, Point};
use crate::limits::Limits;
use core::ffi::CStr;
use layout::{Ctl, Found, Layout, Version, ALL_CTLS, CTLS, MAX_HIERS, PATH, TRACKED};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::CWD;
use rustix::io::Errno;

/// A container cgroup directory and its parent, as the limit writers see them.
pub struct Target<'a> {
    pub fd: BorrowedFd<'a>,
    /// For messages.
    pub path: &'a [u8],
    pub parent: BorrowedFd<'a>,
}

/// One container cgroup directory.
struct Dir {
    version: Version,
    /// Index of its hierarchy in the layout.
    hier: usize,
    /// `<parent>/tinyctr-<name>`.
    path: Buf<PATH>,
    /// Open and locked while it exists; `None` before mkdir and after removal.
    fd: Option<OwnedFd>,
    /// The parent directory, open (not locked) for [`Cgroup::sweep`].
    parent: Option<OwnedFd>,
    /// Trailing components of the parent path this run made (`--cgroup-parent`).
    created_parents: u8,
    /// With `--cgroup-parent`, the length of the mount point in `path`: the components
    /// after it that tinyctr made (this run or another) are removed when empty.
    parents_from: usize,
}

impl Dir {
    const fn new() -> Dir {
        Dir {
            version: Version::V1,
            hier: 0,
            path: Buf::new(),
            fd: None,
            parent: None,
            created_parents: 0,
            parents_from: 0,
        }
    }
}

/// The v2 leaf tinyctr moved itself into (the no-internal-process rule), and the
/// hierarchy root it leaves for at the end.
struct Leaf {
    path: Buf<PATH>,
    mount: Buf<PATH>,
    _lock: OwnedFd,
}

pub struct Cgroup {
    dirs: [Dir; MAX_HIERS],
    n: usize,
    memory: Option<u64>,
    /// Index in `dirs` of the memory controller's cgroup.
    mem: Option<usize>,
    /// Index in `dirs` of the unified-hierarchy cgroup.
    unified: Option<usize>,
    /// Index in `dirs` of the cgroup that gets the device list.
    dev: Option<usize>,
    leaf: Option<Leaf>,
    /// `--name`: the name, held for the run (see [`crate::namelock`]).
    name_lock: Option<OwnedFd>,
    /// The `oom_kill` count, read by [`Cgroup::read_oom_kills`] before removal.
    oom: Option<u64>,
    fake: bool,
}

/// `--cpus` beyond the CPUs this process may run on would be a quota the kernel accepts
/// and can never grant: refuse it, as docker does, saying how many there are.
fn check_cpus(limits: &Limits<'_>) -> Result<()> {
    let Some(q) = limits.cpus else { return Ok(()) };
    let Ok(set) = rustix::thread::sched_getaffinity(None) else { return Ok(()) };
    let n = set.count() as u64;
    if n > 0 && q.quota > n * q.period {
        let mut e = Error::usage(b"--cpus: more than the ");
        e.msg.push_u64(n).push(b" CPUs available here (at most ").push_u64(n).push(b")");
        return Err(e);
    }
    Ok(())
}

/// The controllers `limits` needs.
pub fn needed(limits: &Limits<'_>) -> u8 {
    let mut m = 0;
    if limits.memory.is_some() || limits.memory_swap.is_some() {
        m |= Ctl::Memory.bit();
    }
    if limits.cpu_shares.is_some() || limits.cpus.is_some() {
        m |= Ctl::Cpu.bit();
    }
    if limits.cpuset_cpus.is_some() {
        m |= Ctl::Cpuset.bit();
    }
    if limits.pids.is_some() {
        m |= Ctl::Pids.bit();
    }
    if limits.devices {
        m |= Ctl::Devices.bit();
    }
    m
}

/// Fills the empty `layout` with this host's, for a run with `limits`: reads
/// `/proc/self/cgroup` and `/proc/self/mountinfo`. Refuses an impossible `--cpus` first.
pub fn detect(layout: &mut Layout, limits: &Limits<'_>) -> Result<()> {
    check_cpus(limits)?;
    // An OCI cgroupsPath gets every controller the unified hierarchy has (Plan::new).
    let want = needed(limits) | if limits.in_every_hierarchy() { ALL_CTLS } else { 0 };
    layout.detect(want).map_err(|(file, e)| {
        Error::sys_hint("read", file.to_bytes(), e, b"cgroup limits need /proc mounted (mount -t proc proc /proc)")
    })
}

/// Where a run's cgroups go, decided before anything is created: which hierarchies get
/// one, with which controllers to drive. Every "this controller is missing" error comes
/// from here, before the child exists.
pub struct Plan<'a> {
    pub layout: &'a Layout,
    ctls: [u8; MAX_HIERS],
    used: [bool; MAX_HIERS],
    /// The hierarchy joined with no controller to drive, skipped when not writable: the
    /// anchor of the name and the lock when no controller is used, or a hybrid host's
    /// unified one for an OCI cgroupsPath.
    anchor: Option<usize>,
    /// The unified hierarchy's controllers an OCI cgroupsPath gets beyond its limits',
    /// enabled where the kernel lets them be (a best effort, as runc's).
    more_v2: u8,
}

impl<'a> Plan<'a> {
    /// The plan for the controllers `limits` needs.
    pub fn new(layout: &'a Layout, limits: &Limits<'_>) -> Result<Plan<'a>> {
        let mut plan = Plan::for_ctls(layout, needed(limits))?;
        if limits.in_every_hierarchy() {
            plan.join_every_hierarchy();
        }
        Ok(plan)
    }

    /// An OCI `cgroupsPath` is the container's cgroup in every hierarchy, as runc makes
    /// it, not only in those its own limits use: the limits that hold it are often its
    /// parent's (Kubernetes' pod cgroup, `/kubepods/.../pod<uid>`, has the pod's memory
    /// and pids limits; the container's cgroup below it may have none), and on v1 a
    /// hierarchy the container is not put in leaves it in the caller's cgroup there,
    /// outside those limits, and its usage counted as the shim's. (`update` can then
    /// also set a limit that `create` had none of.) The unified hierarchy of a hybrid
    /// host is joined too, when writable, as the anchor is. On v2 the one cgroup is made
    /// anyway; there every controller the hierarchy has is enabled for it, so that its
    /// usage is counted in its own files (containerd's metrics read `memory.stat` there)
    /// and `update` finds each one. Those beyond its limits' are a best effort: a kernel
    /// may refuse one (`cpu` with real-time tasks about), and runc ignores that too.
    fn join_every_hierarchy(&mut self) {
        for (i, h) in self.layout.hiers[..self.layout.n].iter().enumerate() {
            // The devices hierarchy is crate::oci::hierarchies' (with config.json's list).
            if h.version == Version::V1 && h.mounted() && h.ctls & ALL_CTLS != 0 {
                self.used[i] = true;
            }
        }
        if let Some(u) = self.layout.unified_mounted() {
            self.more_v2 = self.layout.hiers[u].ctls & !self.ctls[u] & ALL_CTLS;
            if !self.used[u] {
                self.anchor = Some(u);
            }
        }
    }

    /// For `tinyctr check`: every controller the layout has.
    pub fn probe(layout: &'a Layout) -> Result<Plan<'a>> {
        let all = TRACKED.iter().filter(|&&c| matches!(layout.find(c), Found::At(_))).fold(0, |m, c| m | c.bit());
        Plan::for_ctls(layout, all)
    }

    fn for_ctls(layout: &'a Layout, need: u8) -> Result<Plan<'a>> {
        let mut ctls = [0u8; MAX_HIERS];
        let mut used = [false; MAX_HIERS];
        for c in TRACKED.iter().copied().filter(|c| need & c.bit() != 0) {
            match layout.find(c) {
                Found::At(i) => {
                    ctls[i] |= c.bit();
                    used[i] = true;
                }
                Found::NotMounted(i) => return Err(missing(c, Some(layout.hiers[i].cgroup_path.as_bytes()))),
                Found::Absent => return Err(missing(c, None)),
            }
        }
        // The unified hierarchy drives only the controllers it really has (on a hybrid
        // host like this one, hugetlb at most): a cgroup there with no controller to
        // drive would cost a mkdir and an rmdir per run for nothing. It anchors the name
        // and the lock only when no controller is asked for (--name or --cgroup-parent
        // alone).
        let anchor = match layout.unified_mounted() {
            _ if used.iter().any(|&u| u) => None,
            Some(u) => Some(u),
            None => [Ctl::Pids, Ctl::Memory, Ctl::Cpu, Ctl::Cpuset]
                .iter()
                .find_map(|&c| match layout.find(c) {
                    Found::At(i) => Some(i),
                    _ => None,
                })
                .map(Some)
                .ok_or_else(|| {
                    Error::usage(
                        b"--name and --cgroup-parent need a cgroup, and no cgroup hierarchy is mounted; \
                        mount one: mount -t cgroup2 none /sys/fs/cgroup",
                    )
                })?,
        };
        Ok(Plan { layout, ctls, used, anchor, more_v2: 0 })
    }
}

impl Cgroup {
    /// No cgroup yet. Like the layout, a `Cgroup` is filled in place by
    /// [`Cgroup::create`], never moved: it is kilobytes of stack. (Not a `const`: the
    /// descriptors' `None` is not all zeros, so that would be a 4 KB image in the binary.)
    #[inline(never)]
    pub fn empty() -> Cgroup {
        Cgroup {
            dirs: [const { Dir::new() }; MAX_HIERS],
            n: 0,
            memory: None,
            mem: None,
            unified: None,
            dev: None,
            leaf: None,
            name_lock: None,
            oom: None,
            fake: false,
        }
    }

    /// Creates the container's cgroups as `plan` says, locks them and writes every limit
    /// of `limits`; `pid` (tinyctr's) names them and the v2 leaf. Expects an empty
    /// `Cgroup`. On error, removes what it created. Stale cgroups of dead runs are left
    /// for [`Cgroup::sweep`].
    pub fn create(&mut self, plan: &Plan<'_>, limits: &Limits<'_>, pid: u32) -> Result<()> {
        let layout = plan.layout;
        // NAME_MAX and its NUL: an OCI cgroupsPath's last component can be that long.
        let mut name: Buf<256> = Buf::from(if limits.exact { b"" } else { fs::PREFIX });
        match limits.name {
            Some(n) => name.push(n.to_bytes()),
            None => name.push_u64(pid as u64),
        };
        if name.overflowed() {
            return Err(Error::sys("create cgroup", limits.name.map_or(b"", |n| n.to_bytes()), Errno::NAMETOOLONG));
        }
        // One run per name on the host, whatever hierarchies each one's limits use.
        if let Some(n) = limits.name.filter(|_| !limits.exact) {
            self.name_lock = crate::namelock::take(n.to_bytes()).map_err(|_| in_use(b"", limits.name))?;
        }
        self.memory = limits.memory;
        self.fake = layout.fake;
        // The anchor is there only when no hierarchy is used, or as an OCI cgroupsPath's
        // unified one: either way, in layout order.
        for (i, (&used, &ctls)) in plan.used.iter().zip(&plan.ctls).enumerate().take(layout.n) {
            if !used && plan.anchor != Some(i) {
                continue;
            }
            if let Err(e) = self.add(layout, i, ctls, &mut name, limits, pid, !used) {
                let _ = self.destroy();
                return Err(e);
            }
            if cfg!(feature = "oci") && plan.more_v2 != 0 && layout.unified == Some(i) && self.unified.is_some() {
                enable_more(&layout.hiers[i], limits.cgroup_parent, plan.more_v2);
            }
        }
        Ok(())
    }

    /// Removes stale cgroups that dead runs left next to ours (see [`fs::sweep`]), under
    /// each parent's lock. Called once the container is on its way: it is nobody's
    /// business on the path to the container's start.
    ///
    /// A dead run's cgroups are in the hierarchies *its* limits used, which need not be
    /// ours (`--pids-limit` then, `-m` now): every hierarchy of the layout is looked at,
    /// where this run would put its cgroup. cgroupfs counts a directory's subdirectories
    /// in its link count (2 + N), so one stat per hierarchy tells whether there is
    /// anything to list: 3 where ours is there, 2 where it is not.
    #[inline(never)]
    pub fn sweep(&self, plan: &Plan<'_>, limits: &Limits<'_>) {
        let layout = plan.layout;
        for (i, h) in layout.hiers[..layout.n].iter().enumerate() {
            if !h.mounted() {
                continue;
            }
            let opened = self.dirs[..self.n].iter().find(|d| d.hier == i).and_then(|d| d.parent.as_ref());
            let opened = opened.map(|p| p.as_fd());
            let own = 2 + opened.is_some() as u64;
            let mut path = parent_dir(h, limits.cgroup_parent);
            let busy = match opened {
                Some(p) => rustix::fs::fstat(p).map(|st| st.st_nlink),
                None => rustix::fs::stat(path.as_cstr()).map(|st| st.st_nlink),
            };
            if !busy.is_ok_and(|n| n > own) {
                continue;
            }
            let fresh;
            let p = match opened {
                Some(p) => p,
                None => match fs::open_dir(CWD, path.as_cstr()) {
                    Ok(fd) => {
                        fresh = fd;
                        fresh.as_fd()
                    }
                    Err(_) => continue,
                },
            };
            if fs::lock(p, true).is_ok() {
                fs::sweep(p, self.fake);
                let _ = fs::unlock(p);
            }
        }
    }

    /// Creates the container's cgroup in hierarchy `i` and writes the limits of `ctls`
    /// there. An `optional` one (the unified anchor with no controller to drive) is
    /// skipped when its parent is not writable (a read-only cgroup mount).
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn add(
        &mut self,
        layout: &Layout,
        i: usize,
        ctls: u8,
        name: &mut Buf<256>,
        limits: &Limits<'_>,
        pid: u32,
        optional: bool,
    ) -> Result<()> {
        let h = &layout.hiers[i];
        let mut parent = parent_dir(h, limits.cgroup_parent);
        if optional {
            // The parent may not exist yet (--cgroup-parent): a read-only mount shows at
            // its mount point already.
            let mut probe: Buf<PATH> = Buf::from(match limits.cgroup_parent {
                Some(_) => h.mount(),
                None => parent.as_bytes(),
            });
            if rustix::fs::access(probe.as_cstr(), rustix::fs::Access::WRITE_OK).is_err() {
                return Ok(());
            }
        }
        let d = self.n;
        self.n += 1;
        let dir = &mut self.dirs[d];
        dir.version = h.version;
        dir.hier = i;
        dir.path.push(parent.as_bytes()).push(b"/").push(name.as_bytes());
        if dir.path.overflowed() {
            return Err(Error::sys("create cgroup", parent.as_bytes(), Errno::NAMETOOLONG));
        }
        let shared = limits.cgroup_parent.is_some();
        if shared {
            dir.parents_from = h.mount().len();
        }
        let mut attempts = 0;
        let (pfd, fd) = loop {
            attempts += 1;
            // A --cgroup-parent that another run made can vanish under us (that run
            // removed it as it ended, empty at that moment): ENOENT means "make it again".
            let again = |e: Errno| shared && e == Errno::NOENT && attempts < 4;
            if shared {
                let cpuset = h.version == Version::V1 && h.ctls & Ctl::Cpuset.bit() != 0;
                let made = &mut self.dirs[d].created_parents;
                fs::mkdir_p(parent.as_bytes(), h.mount().len(), self.fake, made, &mut |d, p, path| match cpuset {
                    true => v1::init_cpuset(d, path, p, None),
                    false => Ok(()),
                })?;
            }
            // Under the parent's lock (which a sweep, and the removal of a parent, take
            // too): make and lock ours, so no sweep ever sees it unlocked. A dead run's
            // cgroup of the same name goes first.
            let pfd = match fs::open_dir(CWD, parent.as_cstr()) {
                Ok(p) => p,
                Err(e) if again(e) => continue,
                Err(e) => return Err(fs::path_error("open cgroup", parent.as_bytes(), e)),
            };
            fs::lock(pfd.as_fd(), true).map_err(|e| fs::path_error("lock cgroup", parent.as_bytes(), e))?;
            if h.version == Version::V2 && ctls & ALL_CTLS != 0 {
                self.enable_v2(h, parent.as_bytes(), ctls & ALL_CTLS, pid)?;
            }
            let path = self.dirs[d].path.as_bytes();
            match fault::check(Point::CgroupCreate)
                .and_then(|()| fs::make_locked(pfd.as_fd(), name.as_cstr(), self.fake))
            {
                Ok(fd) => break (pfd, fd),
                Err(e) if again(e) => continue,
                Err(Errno::EXIST) => return Err(in_use(path, limits.name)),
                Err(e @ Errno::BUSY) => {
                    return Err(Error::sys_hint(
                        "create cgroup",
                        path,
                        e,
                        b"a cgroup of that name holds processes no running tinyctr started",
                    ))
                }
                Err(e) => return Err(fs::path_error("create cgroup", path, e)),
            }
        };
        let dir = &mut self.dirs[d];
        // Concurrent runs below the same parent wait for this lock: hold it no longer.
        let _ = fs::unlock(pfd.as_fd());
        let t = Target { fd: fd.as_fd(), path: dir.path.as_bytes(), parent: pfd.as_fd() };
        let res = match fault::check(Point::CgroupLimit) {
            Err(e) => Err(fs::write_error(b"(injected)", dir.path.as_bytes(), c"cgroup limits", e)),
            Ok(()) => knobs::write_limits(&t, h.version, ctls, h.ctls & Ctl::Cpuset.bit() != 0, limits),
        };
        dir.fd = Some(fd);
        dir.parent = Some(pfd);
        if ctls & Ctl::Memory.bit() != 0 {
            self.mem = Some(d);
        }
        if ctls & Ctl::Devices.bit() != 0 {
            self.dev = Some(d);
        }
        if h.version == Version::V2 {
            self.unified = Some(d);
        }
        res
    }

    /// Enables `ctls` down to `parent`. When tinyctr's own cgroup answers EBUSY (it holds
    /// processes: the no-internal-process rule), tinyctr moves itself into a leaf
    /// `tinyctr-<pid>.self` below it and retries once.
    #[inline(never)]
    fn enable_v2(&mut self, h: &layout::Hier, parent: &[u8], ctls: u8, pid: u32) -> Result<()> {
        for attempt in 0..2 {
            let Some(len) = v2::enable(parent, h.mount().len(), ctls, b"")? else { return Ok(()) };
            let busy = parent.get(..len).unwrap_or(parent);
            if attempt > 0 || busy != h.own.as_bytes() || self.leaf.is_some() {
                return Err(Error::sys_hint("enable controllers in", busy, Errno::BUSY, b"processes other than tinyctr are in this cgroup, and cgroup v2 lets a cgroup that holds processes give no controllers to its children: start tinyctr in a cgroup of its own, or pass --cgroup-parent"));
            }
            self.leaf = Some(self_move(h, pid, self.fake)?);
        }
        Ok(())
    }

    /// The path of the unified-hierarchy cgroup, when there is one.
    pub fn unified_path(&self) -> Option<&[u8]> {
        Some(self.dirs[self.unified?].path.as_bytes())
    }

    /// The unified-hierarchy cgroup for clone3 `CLONE_INTO_CGROUP`, when there is one.
    pub fn clone_into_fd(&self) -> Option<BorrowedFd<'_>> {
        self.dirs[self.unified?].fd.as_ref().map(|f| f.as_fd())
    }

    /// The v1 cgroups, which the child joins itself ([`v1::join_self`]) before anything
    /// else: `out` gets their directories' descriptors; returns how many.
    pub fn self_joins(&self, out: &mut [i32]) -> usize {
        use rustix::fd::AsRawFd;
        let mut n = 0;
        let late = self.dev.filter(|&i| self.dirs[i].version == Version::V1);
        for (i, d) in self.dirs[..self.n].iter().enumerate() {
            if d.version != Version::V1 || Some(i) == late {
                continue;
            }
            if let Some(fd) = d.fd.as_ref() {
                out[n] = fd.as_raw_fd();
                n += 1;
            }
        }
        n
    }

    /// The v1 devices cgroup, which the child joins once its rules are written (see
    /// [`Cgroup::write_devices`]): its directory's descriptor.
    pub fn late_join(&self) -> Option<i32> {
        use rustix::fd::AsRawFd;
        let d = &self.dirs[self.dev?];
        (d.version == Version::V1).then(|| d.fd.as_ref().map(|f| f.as_raw_fd())).flatten()
    }

    /// Places `pid` in the v2 cgroup when it was not born inside it (no clone3). The v1
    /// ones it joins itself: see [`Cgroup::self_joins`].
    pub fn attach(&self, pid: i32, born_inside: bool) -> Result<()> {
        let mut val = Buf::<24>::new();
        val.push_i64(pid as i64);
        for d in &self.dirs[..self.n] {
            let Some(fd) = d.fd.as_ref() else { continue };
            if d.version == Version::V1 || born_inside {
                continue;
            }
            fault::check(Point::CgroupAttach)
                .and_then(|()| fs::write(fd.as_fd(), c"cgroup.procs", val.as_bytes()))
                .map_err(|e| fs::write_error(val.as_bytes(), d.path.as_bytes(), c"cgroup.procs", e))?;
        }
        Ok(())
    }

    /// docker's device list, into the cgroup that takes it. Called once the child
    /// exists and before it gets its command: it is busy with its mounts on the other
    /// CPU meanwhile, so the writes (v1) or the program's load (v2: ~0.1 ms of the
    /// verifier) cost no time of the run's. A v2 program applies whole, at once, to a
    /// child born inside; v1 rules apply one by one, so the child joins that cgroup only
    /// once the command is here ([`Cgroup::late_join`]).
    /// `extra`: the rules of --device and --device-cgroup-rule, after docker's.
    pub fn write_devices(&self, extra: &[crate::device::Line]) -> Result<()> {
        let Some(d) = self.dev.map(|i| &self.dirs[i]) else { return Ok(()) };
        let Some(fd) = d.fd.as_ref() else { return Ok(()) };
        devices::docker_default(fd.as_fd(), d.path.as_bytes(), d.version == Version::V2, extra)
    }

    /// True if the kernel OOM-killed a process in the container's cgroup.
    pub fn oom_killed(&self) -> bool {
        self.oom.is_some_and(|n| n > 0)
    }

    /// Reads the OOM kill count for [`Cgroup::oom_killed`]; the count goes with the
    /// cgroup, so before [`Cgroup::destroy`].
    pub fn read_oom_kills(&mut self) {
        self.oom = self.read_oom();
    }

    #[inline(never)]
    fn read_oom(&self) -> Option<u64> {
        let d = &self.dirs[self.mem?];
        knobs::oom_kills(d.fd.as_ref()?.as_fd(), d.version)
    }

    /// The memory limit in bytes, for the OOM message.
    pub fn memory_limit(&self) -> Option<u64> {
        self.memory
    }

    /// `create`: hands each cgroup's path to `out` and lets them go (unlocked, not
    /// removed): they are the container's until `delete` removes them.
    pub fn keep(&mut self, out: &mut dyn FnMut(&[u8])) {
        for d in self.dirs[..self.n].iter_mut() {
            out(d.path.as_bytes());
            d.fd = None;
            d.parent = None;
        }
        self.n = 0;
    }

    /// Kills what is left in the container's cgroups, removes them (bounded retry) and
    /// drops the locks. Idempotent; `Drop` calls it too.
    pub fn destroy(&mut self) -> Result<()> {
        let mut first: Option<Error> = None;
        for d in self.dirs[..self.n].iter_mut().rev() {
            let slash = d.path.as_bytes().iter().rposition(|&b| b == b'/').unwrap_or(0);
            let parent = d.parent.take();
            if let (Some(lock), Some(parent)) = (d.fd.take(), parent) {
                // The last component of the path, NUL-terminated as the whole is: one
                // rmdir in the common case, the slow path only when it is refused.
                let whole = d.path.as_cstr().to_bytes_with_nul();
                let res = CStr::from_bytes_until_nul(&whole[slash + 1..])
                    .map_err(|_| Errno::INVAL)
                    .and_then(|name| fs::remove_tree(parent.as_fd(), name, self.fake, 0, fs::Removal::Kill));
                if let Err(e) = res {
                    first.get_or_insert(Error::sys_hint(
                        "remove cgroup",
                        d.path.as_bytes(),
                        e,
                        b"processes are still in it (see its cgroup.procs); the next run removes it",
                    ));
                }
                drop(lock);
            }
            // Parents made for --cgroup-parent, by this run or another (they carry the
            // mark), once no run uses them.
            d.path.truncate(slash);
            if d.parents_from > 0 {
                fs::remove_made_parents(&mut d.path, d.parents_from, d.created_parents, self.fake);
            }
            d.created_parents = 0;
            d.parents_from = 0;
            d.path.clear();
        }
        self.n = 0;
        self.mem = None;
        self.unified = None;
        self.dev = None;
        if let Some(mut leaf) = self.leaf.take() {
            // Leave the leaf for the hierarchy root (exempt from the no-internal-process
            // rule) so it can go too; where that is refused, the next run sweeps it.
            if move_self(leaf.mount.as_cstr()).is_ok() {
                let _ = rustix::fs::unlinkat(CWD, leaf.path.as_cstr(), rustix::fs::AtFlags::REMOVEDIR);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = self.destroy();
    }
}

/// Enables `ctls` for the cgroups below `cgroup_parent` of the unified hierarchy `h`, as
/// many as the kernel lets: all at once, else one by one (`Plan::more_v2`).
#[inline(never)]
fn enable_more(h: &layout::Hier, cgroup_parent: Option<&CStr>, ctls: u8) {
    let parent = parent_dir(h, cgroup_parent);
    let at = |c| v2::enable(parent.as_bytes(), h.mount().len(), c, b"");
    if !matches!(at(ctls), Ok(None)) {
        for c in CTLS.iter().filter(|c| ctls & c.bit() != 0) {
            let _ = at(c.bit());
        }
    }
}

/// Where a run puts its cgroup in hierarchy `h`: below tinyctr's own cgroup, or below
/// `--cgroup-parent` (relative to the mount point).
#[inline(never)]
fn parent_dir(h: &layout::Hier, cgroup_parent: Option<&CStr>) -> Buf<PATH> {
    let mut parent: Buf<PATH> = Buf::new();
    match cgroup_parent {
        None => {
            parent.push(h.own.as_bytes());
        }
        Some(p) => {
            parent.push(h.mount());
            for c in p.to_bytes().split(|&b| b == b'/').filter(|c| !c.is_empty()) {
                parent.push(b"/").push(c);
            }
        }
    };
    parent
}

/// Moves tinyctr into a new leaf `<own>/tinyctr-<pid>.self`, locked like a container's.
#[inline(never)]
fn self_move(h: &layout::Hier, pid: u32, fake: bool) -> Result<Leaf> {
    // Our own cgroup first, then the leaf's path below it.
    let mut path: Buf<PATH> = Buf::from(h.own.as_bytes());
    let ofd = fs::open_dir(CWD, path.as_cstr()).map_err(|e| fs::path_error("open cgroup", path.as_bytes(), e))?;
    let mut name: Buf<80> = Buf::from(fs::PREFIX);
    name.push_u64(pid as u64).push(b".self");
    path.push(b"/").push(name.as_bytes());
    let lock = fs::make_locked(ofd.as_fd(), name.as_cstr(), fake)
        .map_err(|e| fs::path_error("create cgroup", path.as_bytes(), e))?;
    fs::write_num(lock.as_fd(), path.as_bytes(), c"cgroup.procs", pid as u64)?;
    Ok(Leaf { path, mount: Buf::from(h.mount()), _lock: lock })
}

/// Moves this process into the cgroup at `dir` (the caller has no use for more than
/// whether it worked).
fn move_self(dir: &CStr) -> core::result::Result<(), Errno> {
    let fd = fs::open_dir(CWD, dir)?;
    let mut pid = Buf::<24>::new();
    pid.push_u64(rustix::process::getpid().as_raw_nonzero().get() as u64);
    fs::write(fd.as_fd(), c"cgroup.procs", pid.as_bytes())
}

const MOUNT_HINT: &[u8] = b"mount cgroup2 (mount -t cgroup2 none /sys/fs/cgroup) or a v1 hierarchy (mkdir -p /sys/fs/cgroup/C && mount -t cgroup -o C none /sys/fs/cgroup/C)";

fn option_of(c: Ctl) -> &'static str {
    match c {
        Ctl::Memory => "--memory",
        Ctl::Cpu => "--cpus and --cpu-shares",
        Ctl::Cpuset => "--cpuset-cpus",
        Ctl::Pids => "--pids-limit",
        Ctl::Devices => "the device list (docker's; none with --privileged)",
    }
}

/// `--memory needs the memory cgroup controller, and no mounted hierarchy has it; mount
/// ...`, or, for a v1 hierarchy that is there but whose mounts do not show `cgroup`
/// (tinyctr's own), `..., and no mount of its hierarchy shows tinyctr's cgroup "..."; mount ...`.
fn missing(c: Ctl, cgroup: Option<&[u8]>) -> Error {
    let mut e = Error::usage(option_of(c).as_bytes());
    e.msg.push(b" needs the ").push_str(c.name());
    match cgroup {
        None => e.msg.push(b" cgroup controller, and no mounted cgroup hierarchy has it; "),
        Some(path) => e
            .msg
            .push(b" cgroup controller, and no mount of its hierarchy shows tinyctr's cgroup \"")
            .push(path)
            .push(b"\"; "),
    };
    for part in MOUNT_HINT.split(|&b| b == b'C') {
        if !core::ptr::eq(part.as_ptr(), MOUNT_HINT.as_ptr()) {
            e.msg.push_str(c.name());
        }
        e.msg.push(part);
    }
    e
}

/// A name or cgroup in use; `path` empty: the name's own lock said so.
fn in_use(path: &[u8], name: Option<&CStr>) -> Error {
    let mut e = Error::usage(b"");
    match name {
        Some(n) => {
            e.msg.push(b"--name: '").push(n.to_bytes()).push(b"' is in use by a running container");
            if !path.is_empty() {
                e.msg.push(b" (its cgroup \"").push(path).push(b"\" is locked)");
            }
        }
        None => {
            e.msg.push(b"cgroup \"").push(path).push(b"\" is in use by a running tinyctr");
        }
    }
    e
}

#[cfg(test)]
mod tests;
