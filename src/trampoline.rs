//! The child, from clone until execve: the container's first moments as PID 1.
//!
//! NO ALLOCATION, NO LOCKS, NO PANICS. This code runs in a fork-style copy of the parent
//! and uses only data the parent prepared before clone (`ChildPlan`), raw system calls
//! and stack buffers. It reports a failure as an 8-byte record (step, errno) on a
//! close-on-exec pipe and exits; a successful execve closes that pipe, which the parent
//! reads as success.
//!
//! Order matters:
//! 1. `PR_SET_PDEATHSIG(SIGKILL)`: if tinyctr dies, so does the container. A parent that
//!    died before this shows up as a hangup on the command pipe, which the parent keeps
//!    open until the child ends (getppid() says 0 across the PID namespace and cannot
//!    tell).
//! 2. Join the v1 cgroups (cgroup::v1::join_self: a thread moving itself is 300 times
//!    cheaper than a move by pid after a quiet moment); clone3 started us in the v2 one.
//! 3. In the fallback path only, unshare the namespaces clone could not create. In an OCI
//!    user namespace, wait for the id maps and become its root (`become_root`).
//! 4. Mounts (private `/`, then /proc or the whole --rootfs), hostname, and in the fallback
//!    path loopback: the namespaces' own setup.
//! 5. Block on the command pipe: the parent sends COMMAND once the limits are written and
//!    `lo` is up (the parent brings it up meanwhile when clone3 made the namespace).
//! 6. Unshare the cgroup namespace *now*, so it is rooted at the container's own cgroup;
//!    then the workdir.
//! 7. Confinement (`confine::apply`): rlimits, capabilities, ids, no_new_privs, seccomp
//!    filter — after everything above, which needs root and every capability.
//! 8. Restore the signal mask, then exec COMMAND — or fork it below the --init loop (the
//!    init is confined too: it is the container's PID 1).

use core::ffi::{c_char, CStr};

use rustix::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::confine::seccomp::SockFilter;
use crate::confine::Confine;
use crate::error::{EXIT_CANNOT_EXEC, EXIT_NOT_FOUND, EXIT_SETUP};
use crate::fault::{check, Point};
use crate::fdio::read_full;
use crate::sys::args::PtrArray;
use crate::sys::signal::{self, SigSet};

/// What failed in the child. Values below 64 are ours; `rootfs` numbers its own from 64.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Step {
    Unshare = 1,
    CgroupNs = 2,
    MakePrivate = 3,
    MountProc = 4,
    Hostname = 5,
    Loopback = 6,
    Workdir = 7,
    InitFork = 8,
    Exec = 9,
    SignalMask = 10,
    Command = 11,
    Fds = 12,
    WorkdirOutside = 13,
    Join = 14,
    Console = 15,
    CgroupJoin = 16,
    Sysctl = 17,
    AppArmor = 18,
    Domainname = 19,
    #[cfg(feature = "oci")]
    UserNs = 20,
}

impl Step {
    pub fn from_u8(n: u8) -> Option<Step> {
        use Step::*;
        #[cfg(feature = "oci")]
        if n == UserNs as u8 {
            return Some(UserNs);
        }
        [
            Unshare,
            CgroupNs,
            MakePrivate,
            MountProc,
            Hostname,
            Loopback,
            Workdir,
            InitFork,
            Exec,
            SignalMask,
            Command,
            Fds,
            WorkdirOutside,
            Join,
            Console,
            CgroupJoin,
            Sysctl,
            AppArmor,
            Domainname,
        ]
        .into_iter()
        .find(|s| *s as u8 == n)
    }
}

/// The failure record: step, three bytes of padding, errno (native endian).
pub const RECORD_LEN: usize = 8;

pub fn encode(step: u8, errno: Errno) -> [u8; RECORD_LEN] {
    let mut r = [0u8; RECORD_LEN];
    r[0] = step;
    r[4..].copy_from_slice(&errno.raw_os_error().to_ne_bytes());
    r
}

pub fn decode(r: &[u8; RECORD_LEN]) -> (u8, Errno) {
    (r[0], Errno::from_raw_os_error(i32::from_ne_bytes([r[4], r[5], r[6], r[7]])))
}

/// The exit status that goes with a failed step (docker's convention).
pub fn status_for(step: u8, errno: Errno) -> u8 {
    if step != Step::Exec as u8 {
        EXIT_SETUP
    } else if errno == Errno::NOENT {
        EXIT_NOT_FOUND
    } else {
        EXIT_CANNOT_EXEC
    }
}

/// The v1 cgroups the child may join: one per hierarchy of the limits, and those of
/// `create`'s other hierarchies (crate::oci::hierarchies).
pub const MAX_CGROUP_JOINS: usize =
    crate::cgroup::layout::MAX_HIERS + if cfg!(feature = "oci") { crate::oci::hierarchies::MAX } else { 0 };

/// Everything the child needs, prepared by the parent before clone.
pub struct ChildPlan<'a> {
    pub hostname: &'a CStr,
    /// `None`: stay where tinyctr was started.
    pub workdir: Option<&'a CStr>,
    /// Bring `lo` up: only in a network namespace the child unshared itself (crate::net).
    pub loopback: bool,
    pub rootfs: Option<&'a CStr>,
    pub read_only: bool,
    pub init: bool,
    /// Volumes, tmpfs mounts and the writable layer.
    pub mounts: crate::rootfs::volume::MountPlan<'a>,
    pub confine: &'a Confine,
    /// The seccomp program (empty: none).
    pub filter: &'a [SockFilter],
    /// Namespaces to unshare first (non-zero only when clone3 was not available).
    pub unshare: u32,
    /// `create`: the read end of the state directory's exec fifo. The child outlives
    /// tinyctr (no parent-death signal), reports READY once set up, and waits there for
    /// `start` before execve.
    pub detach: Option<RawFd>,
    /// The v1 cgroups (their directories, open), joined first: see cgroup::v1::join_self.
    pub cgroups: [RawFd; MAX_CGROUP_JOINS],
    pub cgroups_n: usize,
    /// The v1 devices cgroup (its directory, open), joined once the command is here:
    /// the parent writes its rules one by one meanwhile, and a half-written list (deny
    /// all, not yet the allows) would refuse the /dev nodes the child makes.
    pub devices_cgroup: Option<RawFd>,
    /// Namespaces to join (an open `/proc/PID/ns/*` file and its `CLONE_NEW*` type).
    pub joins: &'a [(RawFd, u32)],
    pub cgroupns: CgroupNs,
    /// An OCI `--preserve-fds N`: descriptors 3 to 3+N-1 stay open for the program.
    pub preserve_fds: u32,
    /// `create` with hooks that run before the root switch: wait for the command (the
    /// parent sends it once they ran) before it instead of after the namespaces' setup.
    pub early_command: bool,
    /// `create`: config.json's sysctls, checked (oci::sysctl).
    pub sysctls: &'a [crate::oci::linux::Sysctl<'a>],
    /// `create`: `exec PROFILE` for the AppArmor attribute (oci::lsm); empty: none.
    pub apparmor: &'a [u8],
    /// `create`: config.json's `domainname`; empty: none.
    pub domainname: &'a CStr,
    /// The propagation of every mount, set first: `mount::PRIVATE`, or config.json's
    /// (oci::create).
    pub root_propagation: u32,
    /// `create` with a terminal: the console socket, connected (see oci::console), and
    /// the terminal's size (rows, columns), if config.json gives one.
    pub console: Option<RawFd>,
    pub console_size: Option<(u16, u16)>,
    /// The container's environment, complete.
    pub env: PtrArray<'a>,
    /// Value of PATH in `env`, where COMMAND is looked up.
    pub path: &'a [u8],
    /// Room for the command's argv pointers (argc + 1) and its bytes, filled from the pipe.
    pub argv_slots: &'a mut [*const c_char],
    pub cmd_bytes: &'a mut [u8],
}

/// The cgroup namespace the container's process ends in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CgroupNs {
    /// A new one, made once every cgroup is joined: rooted at the container's own
    /// (`run`, and an OCI config listing `cgroup` without a path).
    New,
    /// One an OCI config names by path, joined with its other namespaces.
    Joined,
    /// tinyctr's own: an OCI config lists none, and the spec says the container then
    /// inherits the runtime's (as runc; monitoring agents read other processes'
    /// /proc/PID/cgroup as the host names them). Its `cgroup` mount is still made in a
    /// new one, which the init leaves again once mounted, so that it shows the
    /// container's cgroups as its root (what runc's binds of them show).
    Host,
}

/// The pipe ends the child keeps, and the parent's ends it must close.
pub struct ChildFds {
    pub cmd_rx: OwnedFd,
    pub err_tx: OwnedFd,
    pub parent_ends: [OwnedFd; 2],
}

/// Runs the child to execve; never returns.
pub fn run(plan: ChildPlan<'_>, fds: ChildFds) -> ! {
    let ChildFds { cmd_rx, err_tx, parent_ends } = fds;
    // Without this, our own copy of the command pipe's write end would keep it open, and a
    // parent that died would never show up as EOF.
    drop(parent_ends);
    let ready = match setup(plan, &cmd_rx, err_tx.as_raw_fd()) {
        Ok(r) => r,
        Err((step, errno)) => fail(&err_tx, step, errno),
    };
    if let Err((step, e)) = crate::confine::apply(ready.confine, ready.filter) {
        fail(&err_tx, step, e);
    }
    // The id switch made the kernel forget PDEATHSIG, and apply armed it again: a parent
    // that died in between shows up as a hangup, as at the start.
    if ready.confine.rearm && parent_gone(&cmd_rx) {
        crate::sys::exit(EXIT_SETUP as i32);
    }
    drop(cmd_rx);
    let Some(cmd) = ready.argv.iter().next() else { fail(&err_tx, Step::Command as u8, Errno::INVAL) };
    if let Some(fifo) = ready.detach.filter(|_| cfg!(feature = "oci")) {
        // As runc: a program that cannot be found fails `create`, not `start`. (A found
        // one answers ALREADY here, which access(2) never gives.)
        let found =
            crate::exec::exec_with(cmd, ready.path, |p| match rustix::fs::access(p, rustix::fs::Access::EXEC_OK) {
                Ok(()) => Errno::ALREADY,
                Err(e) => e,
            });
        if found != Errno::ALREADY {
            fail(&err_tx, Step::Exec as u8, found);
        }
        wait_for_start(&err_tx, fifo);
    }
    if ready.init {
        crate::init::run(cmd, ready.path, &ready.argv, &ready.env, err_tx)
    }
    if let Err(e) = restore_signals() {
        fail(&err_tx, Step::SignalMask as u8, e);
    }
    if let Err(e) = check(Point::ChildExec) {
        fail(&err_tx, Step::Exec as u8, e);
    }
    let e = crate::exec::exec(cmd, ready.path, &ready.argv, &ready.env);
    fail(&err_tx, Step::Exec as u8, e)
}

/// Writes the failure record and exits with the matching status.
pub fn fail(err_tx: &OwnedFd, step: u8, errno: Errno) -> ! {
    let rec = encode(step, errno);
    // Nothing to do if this fails: the parent then sees EOF and the exit status.
    let _ = rustix::io::write(err_tx, &rec);
    crate::sys::exit(status_for(step, errno) as i32)
}

/// `create`: says READY on the error pipe (a record of step 0), then sleeps until
/// `start` writes to the exec fifo. The parent has exited by then; `delete` of a
/// container that was never started kills it here.
fn wait_for_start(err_tx: &OwnedFd, fifo: RawFd) {
    use rustix::event::{poll, PollFd, PollFlags};
    let _ = rustix::io::write(err_tx, &[0u8; RECORD_LEN]);
    // SAFETY: the parent opened the fifo for us and nothing else in this process owns
    // or closes it; it is closed here, before execve.
    #[allow(unsafe_code)]
    let fifo = unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fifo) };
    // Opened O_NONBLOCK with no writer yet: Linux reports no hangup before a first
    // writer, so this sleeps until `start` opens it and writes.
    let mut fds = [PollFd::new(&fifo, PollFlags::IN)];
    while let Err(Errno::INTR) = poll(&mut fds, None) {}
}

/// The container, set up and about to run COMMAND.
struct Ready<'a> {
    argv: PtrArray<'a>,
    env: PtrArray<'a>,
    path: &'a [u8],
    init: bool,
    confine: &'a Confine,
    filter: &'a [SockFilter],
    detach: Option<RawFd>,
}

fn setup<'a>(plan: ChildPlan<'a>, cmd_rx: &OwnedFd, err_tx: RawFd) -> Result<Ready<'a>, (u8, Errno)> {
    let at = |step: Step| move |e: Errno| (step as u8, e);
    if plan.detach.is_none() || !cfg!(feature = "oci") {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
            .map_err(at(Step::Unshare))?;
    }
    // Until execve this process runs tinyctr's host binary: not dumpable, so no process of
    // the container can open its /proc/PID/exe (or ptrace it) without CAP_SYS_PTRACE.
    // That covers --init's PID 1, which runs the binary for the container's lifetime.
    // execve makes COMMAND dumpable again as usual.
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(at(Step::Unshare))?;
    if parent_gone(cmd_rx) {
        crate::sys::exit(EXIT_SETUP as i32);
    }
    // Into the v1 cgroups before anything is charged or counted (on v2, clone3 started
    // us inside ours).
    for &fd in &plan.cgroups[..plan.cgroups_n] {
        join_cgroup(fd)?;
    }
    if plan.unshare != 0 {
        crate::sys::unshare(plan.unshare).map_err(at(Step::Unshare))?;
    }
    for &(fd, _) in plan.joins.iter().filter(|_| cfg!(feature = "oci")) {
        // SAFETY: the parent opened these namespace files for the child; borrowed only
        // for the call (close_all_but closes them below).
        #[allow(unsafe_code)]
        let ns = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        rustix::thread::move_into_link_name_space(ns, None).map_err(at(Step::Join))?;
    }
    #[cfg(feature = "oci")]
    if plan.mounts.userns {
        become_root(cmd_rx)?;
    }
    // The container's /sys/fs/cgroup (an OCI config's `cgroup` mount) is mounted in a
    // cgroup namespace of its own (see rootfs::cgroupfs): made here, once every cgroup is
    // joined (create joins them all above), and not again below; or the joined one.
    let cgroupns_made = cfg!(feature = "oci")
        && plan.mounts.cgroupfs.is_some()
        && plan.devices_cgroup.is_none()
        && plan.cgroupns != CgroupNs::Joined;
    // Left again for tinyctr's own once mounted. Not from a user namespace of the
    // container's: the kernel lets it mount cgroups only from a cgroup namespace it owns,
    // and gives it no way back to the host's (README: the one namespace tinyctr adds).
    let mut host_cgroupns = None;
    if cgroupns_made && plan.cgroupns == CgroupNs::Host && !plan.mounts.userns {
        let own = rustix::fs::open(c"/proc/self/ns/cgroup", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty());
        host_cgroupns = Some(own.map_err(at(Step::CgroupNs))?);
    }
    if cgroupns_made {
        unshare_cgroupns()?;
    }
    // The namespaces' own setup needs nothing from the parent: it runs while the parent
    // sends the command.
    check(Point::ChildPrivate)
        .and_then(|()| crate::mount::set_root_propagation(plan.root_propagation))
        .map_err(at(Step::MakePrivate))?;
    if cfg!(feature = "oci") && !plan.sysctls.is_empty() {
        // Through the host's /proc/sys while it is still there: each file acts on the
        // namespaces of the process that opens it, ours (oci::sysctl).
        crate::oci::sysctl::write_all(plan.sysctls).map_err(at(Step::Sysctl))?;
    }
    let early = match plan.early_command && cfg!(feature = "oci") {
        true => Some(receive_command(cmd_rx, plan.cmd_bytes)?),
        false => None,
    };
    // Volume sources are host paths: opened before the root switch.
    let sources = crate::rootfs::volume::open_sources(&plan.mounts)?;
    match plan.rootfs {
        Some(root) => {
            check(Point::ChildRootfs).map_err(|e| (crate::rootfs::step::BIND, e))?;
            crate::rootfs::enter(root, plan.read_only, &plan.mounts, sources, plan.confine.masks)?
        }
        None => {
            check(Point::ChildProc).and_then(|()| crate::mount::mount_proc()).map_err(at(Step::MountProc))?;
            crate::rootfs::volume::mount_all(&plan.mounts, sources, false)?;
            if plan.confine.masks {
                check(Point::ChildMask).map_err(|e| (crate::rootfs::step::NULL, e))?;
                crate::rootfs::mask_paths()?;
            }
        }
    }
    if let Some(own) = host_cgroupns {
        rustix::thread::move_into_link_name_space(own.as_fd(), Some(rustix::thread::LinkNameSpaceType::ControlGroup))
            .map_err(at(Step::CgroupNs))?;
    }
    // An OCI config.json without `hostname` keeps the UTS namespace's copy of the host's.
    if !plan.hostname.is_empty() {
        check(Point::ChildHostname)
            .and_then(|()| rustix::system::sethostname(plan.hostname.to_bytes()))
            .map_err(at(Step::Hostname))?;
    }
    if cfg!(feature = "oci") && !plan.domainname.is_empty() {
        rustix::system::setdomainname(plan.domainname.to_bytes()).map_err(at(Step::Domainname))?;
    }
    if plan.loopback {
        check(Point::Loopback).and_then(|()| crate::net::loopback_up()).map_err(at(Step::Loopback))?;
    }
    if let Some(sock) = plan.console.filter(|_| cfg!(feature = "oci")) {
        crate::oci::console::attach(sock, plan.console_size).map_err(at(Step::Console))?;
    }
    // In the container's own /proc; the switch happens at the program's execve.
    if cfg!(feature = "oci") && !plan.apparmor.is_empty() {
        crate::oci::lsm::set_exec(plan.apparmor).map_err(at(Step::AppArmor))?;
    }
    // Only after the cgroups were joined, the cgroup namespace: it is rooted at the
    // container's own cgroup.
    let argc = match early {
        Some(n) => n,
        None => receive_command(cmd_rx, plan.cmd_bytes)?,
    };
    if let Some(fd) = plan.devices_cgroup {
        join_cgroup(fd)?;
    }
    // Nothing of tinyctr's or its caller's may reach the working directory or the
    // container (see crate::fds): only 0-2 and our two pipes (closed on exec) stay.
    let keep = [err_tx, cmd_rx.as_raw_fd(), plan.detach.unwrap_or(err_tx)];
    check(Point::ChildFds)
        .and_then(|()| crate::fds::close_all_but(3 + if cfg!(feature = "oci") { plan.preserve_fds } else { 0 }, &keep))
        .map_err(at(Step::Fds))?;
    if (!cfg!(feature = "oci") || plan.cgroupns == CgroupNs::New) && !cgroupns_made {
        unshare_cgroupns()?;
    }
    let workdir = match (plan.workdir, plan.rootfs) {
        (Some(w), _) => Some(w),
        (None, Some(_)) => Some(c"/"),
        (None, None) => None,
    };
    if let Some(dir) = workdir {
        check(Point::ChildWorkdir).and_then(|()| rustix::process::chdir(dir)).map_err(at(Step::Workdir))?;
        // A path through a magic link (`/proc/self/fd/N`, `/proc/1/cwd`) can name a
        // directory outside the root.
        if !crate::fds::workdir_inside_root() {
            return Err((Step::WorkdirOutside as u8, Errno::XDEV));
        }
    }
    let mut argv = PtrArray::new(plan.argv_slots);
    let mut rest: &'a [u8] = plan.cmd_bytes;
    for _ in 0..argc {
        let Ok(s) = CStr::from_bytes_until_nul(rest) else {
            return Err((Step::Command as u8, Errno::INVAL));
        };
        rest = &rest[s.to_bytes_with_nul().len()..];
        argv.push(s);
    }
    Ok(Ready {
        argv,
        env: plan.env,
        path: plan.path,
        init: plan.init,
        confine: plan.confine,
        filter: plan.filter,
        detach: plan.detach,
    })
}

/// In a new user namespace (an OCI config's), once every cgroup is joined: waits for the
/// parent's uid and gid maps (one byte on the command pipe says they are written), then
/// becomes the namespace's root, as runc's init does, so that what the init makes from
/// here on belongs to the container's root, not to an id the namespace has no name for.
/// Its capabilities in the namespace stay whole: the kernel drops them only when root
/// *of this namespace* changes to another id.
#[cfg(feature = "oci")]
fn become_root(cmd_rx: &OwnedFd) -> Result<(), (u8, Errno)> {
    let at = |e: Errno| (Step::UserNs as u8, e);
    let mut token = [0u8; 1];
    if read_full(cmd_rx, &mut token).map_err(at)? < 1 {
        crate::sys::exit(EXIT_SETUP as i32);
    }
    let (uid, gid) = (rustix::process::Uid::ROOT, rustix::process::Gid::ROOT);
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(at)?;
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(at)
}

/// A cgroup namespace of the container's own, rooted at the cgroups it is in now.
#[inline(always)]
fn unshare_cgroupns() -> Result<(), (u8, Errno)> {
    check(Point::ChildCgroupNs)
        .and_then(|()| crate::sys::unshare(linux_raw_sys::general::CLONE_NEWCGROUP))
        .map_err(|e| (Step::CgroupNs as u8, e))
}

/// Moves this process into the v1 cgroup whose directory is open at `fd`.
#[inline(never)]
fn join_cgroup(fd: RawFd) -> Result<(), (u8, Errno)> {
    // SAFETY: one of the parent's cgroup directories, open before clone and closed by
    // close_all_but; borrowed for the call only.
    #[allow(unsafe_code)]
    let dir = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    check(Point::CgroupAttach).and_then(|()| crate::cgroup::v1::join_self(dir)).map_err(|e| (Step::CgroupJoin as u8, e))
}

/// True when the parent died before PDEATHSIG was armed (the kernel sends it only for a
/// death that comes after). The parent keeps its end of the command pipe open until the
/// child has ended, so a hangup on ours can only mean it is gone — even when the
/// whole command is already in the pipe, which a read alone would not tell.
fn parent_gone(cmd_rx: &OwnedFd) -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::new(cmd_rx, PollFlags::empty())];
    // POLLHUP is reported whatever events were asked for; a zero timeout never blocks.
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0) && fds[0].revents().contains(PollFlags::HUP)
}

/// Reads the command (argc NUL-terminated strings filling `buf` exactly). EOF before that
/// means the parent gave up or died: exit quietly, it has reported or will not care.
fn receive_command(rx: &OwnedFd, buf: &mut [u8]) -> Result<usize, (u8, Errno)> {
    if read_full(rx, buf).map_err(|e| (Step::Command as u8, e))? < buf.len() {
        crate::sys::exit(EXIT_SETUP as i32);
    }
    let argc = buf.iter().filter(|&&c| c == 0).count();
    if argc == 0 || buf.last() != Some(&0) {
        return Err((Step::Command as u8, Errno::INVAL));
    }
    Ok(argc)
}

/// Gives the command a clean slate, as docker does: the signals tinyctr handles
/// ([`crate::supervise::HANDLED`]) back at their default action — execve resets caught
/// signals but keeps ignored ones ignored, and tinyctr may have been started with some
/// ignored (nohup, `&`) — and nothing blocked (the parent blocked them before clone, and
/// masks are inherited).
pub fn restore_signals() -> Result<(), Errno> {
    for s in crate::supervise::HANDLED {
        signal::reset_default(s);
    }
    signal::set_mask(SigSet::EMPTY).map(|_| ())
}
