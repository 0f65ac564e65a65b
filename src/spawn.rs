//! The parent side of one `run`: prepare everything the child needs (so the child never
//! allocates), make the cgroups with their limits, clone into new namespaces (v2: into
//! the cgroup; v1: the child joins its cgroups itself, first thing), hand it the command
//! through the pipe, supervise it, and once it has ended learn from the error pipe whether it failed
//! before execve. Whatever fails, nothing is left behind: the child is killed and
//! reaped, the cgroups removed.

use core::ffi::CStr;

use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::pipe::{pipe_with, PipeFlags};

use crate::cgroup::detached::Detached;
use crate::cgroup::layout::{Ctl, Layout};
use crate::cgroup::{Cgroup, Plan};
use crate::cli::RunConfig;
use crate::confine::seccomp::{self, SockFilter};
use crate::env;
use crate::error::{Error, Result};
use crate::fault::{self, Point};
use crate::fdio::{read_full, write_all};
use crate::limits::Limits;
use crate::supervise::{self, Container};
use crate::sys::args::{split_filters, split_slots, split_u32s, CArgs, PtrArray};
use crate::sys::signal;
use crate::sys::{clone3, clone_fork, Forked, Mapping};
use crate::trampoline::{self, ChildFds, ChildPlan, Step, RECORD_LEN};

/// Runs the container described by `cfg`; returns tinyctr's exit status. Errors are
/// reported here, once, on stderr.
pub fn run(cfg: &RunConfig<'_>, host_env: CArgs<'_>) -> u8 {
    match run_inner(cfg, host_env) {
        Ok(code) => code,
        Err(e) => {
            crate::out::report(&e);
            e.status
        }
    }
}

/// `create`: the same as [`run`] up to the child's last step (`cfg.oci()` says how it
/// differs); returns once the child is ready and waits for `start`. Errors go to the
/// caller, which removes the state it made.
#[inline(never)]
pub fn run_detached(cfg: &RunConfig<'_>, host_env: CArgs<'_>) -> Result<u8> {
    run_inner(cfg, host_env)
}

fn run_inner(cfg: &RunConfig<'_>, host_env: CArgs<'_>) -> Result<u8> {
    if let Some(root) = cfg.rootfs {
        crate::rootfs::check(root)?;
    }
    // One mapping, sized to this command: environment pointers, argv pointers, room for
    // the seccomp program (only when it applies) and HOME (only with -u), and the bytes of
    // the command as they will arrive through the pipe. Pages never written cost nothing.
    let argc = cfg.command.len();
    let cmd_len: usize = cfg.command.iter().map(|a| a.to_bytes_with_nul().len()).sum();
    let env_slots = env::slots_needed(cfg);
    let slots = env_slots + argc + 1;
    let table_len = env::table_len(cfg);
    let asked = &cfg.confine;
    let filter_room = match cfg.oci() {
        // config.json's profile, sized to its rules.
        Some(o) => o.seccomp_room(),
        None if asked.privileged || asked.unconfined => 0,
        None => seccomp::DEFAULT_MAX,
    };
    let home_room = if asked.user.is_some() { crate::confine::user::HOME_ROOM } else { 0 };
    let size = slots * core::mem::size_of::<usize>()
        + filter_room * core::mem::size_of::<SockFilter>()
        + table_len * 4
        + home_room
        + cmd_len;
    let mut map = fault::check(Point::Map)
        .and_then(|()| Mapping::new(size))
        .map_err(|e| Error::sys("map memory for the command line", b"", e))?;
    let layout = |_| Error::sys("lay out the command line", b"", Errno::NOMEM);
    let (slot_mem, rest) = split_slots(map.bytes(), slots).ok_or_else(|| layout(()))?;
    let (filters, rest) = split_filters(rest, filter_room).ok_or_else(|| layout(()))?;
    let (table, rest) = split_u32s(rest, table_len).ok_or_else(|| layout(()))?;
    let (home_mem, cmd_bytes) = rest.split_at_mut(home_room);

    // Confinement is settled before the child exists: a bad user, group or capability is
    // a 125 with nothing created. An OCI bundle's config.json has settled it already.
    let (conf, home_len) = match cfg.oci() {
        Some(o) => (o.confine, 0),
        None => crate::confine::plan(asked, cfg.rootfs, &mut |out| crate::cli::group_adds(cfg.options, out), home_mem)?,
    };
    let home = match home_len {
        0 => env::ROOT_HOME,
        // Exactly one NUL, the last byte (as `from_bytes_with_nul` wants; `until_nul` is the
        // one the binary already has).
        n => CStr::from_bytes_until_nul(&home_mem[..n])
            .ok()
            .filter(|h| h.to_bytes().len() + 1 == n)
            .unwrap_or(env::ROOT_HOME),
    };
    let nfilter = match (conf.seccomp, cfg.oci()) {
        (true, None) => seccomp::compile_default(conf.caps, filters)?,
        (true, Some(o)) => o.seccomp(filters)?,
        (false, _) => 0,
    };

    let (env_mem, argv_slots) = slot_mem.split_at_mut(env_slots);
    let mut hostname_var = env::hostname_var(cfg.hostname);
    let mut envs = PtrArray::new(env_mem);
    let path = match cfg.oci() {
        // config.json's environment is the whole of it, as written.
        Some(o) => env::exact(&mut envs, o.env),
        None => env::build(&mut envs, table, cfg, host_env, hostname_var.as_cstr(), home),
    };

    let (mounts, _layer_lock) = crate::rootfs::volume::plan(cfg, host_env)?;
    let plan = ChildPlan {
        hostname: cfg.hostname,
        workdir: cfg.workdir,
        loopback: false,
        rootfs: cfg.rootfs,
        read_only: cfg.read_only,
        init: cfg.init,
        mounts,
        confine: &conf,
        filter: &filters[..nfilter.min(filter_room)],
        unshare: 0,
        detach: cfg.oci().map(|o| o.fifo),
        cgroups: [0; trampoline::MAX_CGROUP_JOINS],
        cgroups_n: 0,
        devices_cgroup: None,
        joins: cfg.oci().map_or(&[][..], |o| o.joins()),
        cgroupns: cfg.oci().map_or(trampoline::CgroupNs::New, |o| o.cgroupns),
        preserve_fds: cfg.oci().map_or(0, |o| o.preserve_fds),
        console: cfg.oci().and_then(|o| o.console),
        console_size: cfg.oci().and_then(|o| o.console_size),
        sysctls: cfg.oci().map_or(&[][..], |o| o.sysctls),
        apparmor: cfg.oci().map_or(&[][..], |o| o.apparmor),
        domainname: cfg.oci().map_or(c"", |o| o.domainname),
        root_propagation: cfg.oci().map_or(crate::mount::PRIVATE, |o| o.root_propagation),
        early_command: cfg.oci().is_some_and(|o| o.root_hooks()),
        env: envs,
        path,
        argv_slots,
        cmd_bytes: &mut cmd_bytes[..cmd_len],
    };
    match cfg.limits.wants_cgroup() {
        true => run_limited(cfg, plan, host_env),
        false => launch(cfg, plan, None, None, host_env),
    }
}

/// A run with cgroups. Its own function, so that a run without limits never touches
/// the stack the cgroup layout takes (each page of it would be a fault to take).
#[inline(never)]
fn run_limited(cfg: &RunConfig<'_>, plan: ChildPlan<'_>, host_env: CArgs<'_>) -> Result<u8> {
    // The cgroups, with every limit, exist before the child: clone3 starts it inside the
    // v2 one, and it moves itself into the v1 ones before anything else (a move by pid
    // would wait for an RCU grace period: cgroup::v1::join_self).
    // The layout (6 KiB) and the cgroup (4 KiB): on this frame in the default build; in
    // a mapping in the OCI one, whose create has the deepest stack of every command, all
    // of it resident (stack probes), beside the whole text (README: Size, RSS).
    #[cfg(feature = "oci")]
    let (mut layout_map, mut cgroup_map) = {
        let map = |e| Error::sys("map memory for", b"the cgroup layout", e);
        (crate::sys::MapBox::new(|| Layout::EMPTY).map_err(map)?, crate::sys::MapBox::new(Cgroup::empty).map_err(map)?)
    };
    #[cfg(feature = "oci")]
    let layout: &mut Layout = &mut layout_map;
    #[cfg(not(feature = "oci"))]
    let mut layout_local = Layout::EMPTY;
    #[cfg(not(feature = "oci"))]
    let layout = &mut layout_local;
    let mut limits = cfg.limits;
    let detected = crate::cgroup::detect(layout, &limits);
    let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
    // The device list goes where a mounted hierarchy takes it, else into a cgroup no
    // mount shows (a bare initramfs, a v1 host without the devices hierarchy).
    let mut detached = None;
    let hosted = detected.is_ok() && layout.hosts(Ctl::Devices) && !force_detached(host_env);
    if limits.devices && !hosted {
        limits.devices = false;
        detached = Some(Detached::create(pid)?);
    }
    if !limits.wants_cgroup() {
        return launch(cfg, plan, None, detached.as_ref(), host_env);
    }
    detected?;
    let cg_plan = Plan::new(layout, &limits)?;
    #[cfg(feature = "oci")]
    let cg: &mut Cgroup = &mut cgroup_map;
    #[cfg(not(feature = "oci"))]
    let mut cgroup_local = Cgroup::empty();
    #[cfg(not(feature = "oci"))]
    let cg = &mut cgroup_local;
    // A cgroup for the device list alone that cannot be made (a read-only cgroupfs):
    // say what it was for and what goes without it.
    let only_devices = limits.devices && !Limits { devices: false, ..limits }.wants_cgroup();
    cg.create(&cg_plan, &limits, pid).map_err(|mut e| {
        if only_devices {
            e.msg.push(b"; it is for docker's device list (--privileged goes without)");
        }
        e
    })?;
    let result = launch(cfg, plan, Some((&cg_plan, &*cg)), detached.as_ref(), host_env);
    // An OOM kill is worth a word when the container failed (an OOM-killed init exits
    // 137; a killed helper usually fails its caller). After a success it changed
    // nothing, and the read is spared.
    if matches!(result, Ok(code) if code != 0) {
        cg.read_oom_kills();
    }
    if let (Some(o), Ok(_)) = (cfg.oci(), &result) {
        // `create` succeeded: the cgroups are the container's until `delete`.
        cg.keep(&mut |path| o.add_cgroup(path));
        return result;
    }
    // A cgroup that cannot be removed is reported, but the command's own status is what
    // scripts need when the command ran.
    if let Err(e) = cg.destroy() {
        crate::out::report(&e);
    }
    if let Ok(code) = result {
        if cg.oom_killed() {
            report_oom(cg, code);
        }
    }
    result
}

/// The namespaces every container gets (plus a network one unless `--net host`).
const NAMESPACES: u32 = {
    use linux_raw_sys::general::*;
    CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC
};

#[inline(never)]
fn launch(
    cfg: &RunConfig<'_>,
    mut plan: ChildPlan<'_>,
    cgroup: Option<(&Plan<'_>, &Cgroup)>,
    devices: Option<&Detached>,
    host_env: CArgs<'_>,
) -> Result<u8> {
    let pipe = |flags| {
        fault::check(Point::Pipe).and_then(|()| pipe_with(flags)).map_err(|e| Error::sys("create a pipe", b"", e))
    };
    let (cmd_rx, cmd_tx) = pipe(PipeFlags::CLOEXEC)?;
    // Non-blocking: the failure record is read once the child has ended (see below).
    let (err_rx, err_tx) = pipe(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
    // Block the forwarded signals before clone so none is lost in between; they are read
    // from a signalfd, and the child restores a clean mask before exec.
    signal::block(supervise::BLOCKED).map_err(|e| Error::sys("block signals", b"", e))?;
    let sfd = fault::check(Point::Signalfd)
        .and_then(|()| signal::signalfd(supervise::BLOCKED))
        .map_err(|e| Error::sys("create a signalfd", b"", e))?;

    let mut ns = NAMESPACES;
    if !cfg.host_net {
        ns |= linux_raw_sys::general::CLONE_NEWNET;
    }
    if let Some(o) = cfg.oci() {
        ns = o.ns;
    }
    // (A detached cgroup is there only when no mounted unified hierarchy is: never both.)
    let cgroup_fd = cgroup.as_ref().and_then(|(_, c)| c.clone_into_fd()).or_else(|| devices.and_then(|d| d.fd()));
    let cgroup_fd = cgroup_fd.map(|fd| fd.as_raw_fd());
    if let Some((_, c)) = cgroup.as_ref() {
        plan.cgroups_n = c.self_joins(&mut plan.cgroups);
        plan.devices_cgroup = c.late_join();
    }
    if let Some(o) = cfg.oci() {
        let unified = cgroup.as_ref().and_then(|(p, c)| {
            let u = p.layout.unified_mounted()?;
            Some((c.unified_path()?, p.layout.hiers[u].mount().len()))
        });
        plan.cgroups_n += o.prepare_cgroups(unified, &mut plan.cgroups[plan.cgroups_n..])?;
    }
    // The device list, with the rules of --device and --device-cgroup-rule: written while
    // the child mounts (Cgroup::write_devices), except for an OCI user namespace. Its
    // init joins every cgroup before it turns into the namespace's root (which may not
    // write the host's cgroup.procs), the devices one too, so its list is complete first.
    let rules = cfg.devices.as_slice();
    let write_list = || {
        let listed = cgroup.as_ref().map_or(Ok(()), |(_, cg)| cg.write_devices(rules));
        listed.and_then(|()| devices.map_or(Ok(()), |d| d.write_devices(rules)))
    };
    let userns = cfg!(feature = "oci") && plan.mounts.userns;
    if userns {
        write_list()?;
        if let Some(fd) = plan.devices_cgroup.take() {
            plan.cgroups[plan.cgroups_n] = fd;
            plan.cgroups_n += 1;
        }
    }
    #[cfg(feature = "oci")]
    let own_ns = match cfg.oci() {
        Some(o) => Some(o.enter_for_init()?),
        None => None,
    };
    let (forked, unshare, born_inside) = clone_namespaces(ns, cgroup_fd, host_env)?;
    plan.unshare = unshare;
    // A network namespace the child unshares itself (the fallback) it also sets up; one
    // clone3 made, the parent sets up below (crate::net). A joined one is left as it is.
    let netns = linux_raw_sys::general::CLONE_NEWNET;
    plan.loopback = unshare & netns != 0;
    let container = match forked {
        Forked::Child => {
            drop(sfd);
            trampoline::run(plan, ChildFds { cmd_rx, err_tx, parent_ends: [cmd_tx, err_rx] })
        }
        Forked::Parent { pid, pidfd } => {
            let pidfd = pidfd.or_else(|| pidfd_open(pid));
            Container { pid, pidfd }
        }
    };
    drop(cmd_rx);
    drop(err_tx);
    #[cfg(feature = "oci")]
    if let Some(Err(e)) = own_ns.as_ref().map(crate::oci::create::Detached::leave) {
        container.kill_and_reap();
        return Err(e);
    }

    // The init waits for its uid and gid maps: one byte on the command pipe says they
    // are written (EPIPE: it died, and its record says why).
    if let Some(o) = cfg.oci().filter(|_| userns) {
        if let Err(e) = o.map_ids(container.pid) {
            container.kill_and_reap();
            return Err(e);
        }
        let _ = write_all(&cmd_tx, &[1]);
    }
    if let Some((_, cg)) = cgroup.as_ref() {
        if let Err(e) = cg.attach(container.pid, born_inside) {
            container.kill_and_reap();
            return Err(e);
        }
    }
    if let Some(d) = devices.filter(|_| !born_inside) {
        if let Err(e) = d.attach(container.pid) {
            container.kill_and_reap();
            return Err(e);
        }
    }
    if let Err(e) = if userns { Ok(()) } else { write_list() } {
        container.kill_and_reap();
        return Err(e);
    }
    let parent_sets_lo = ns & netns != 0 && !plan.loopback;
    if let Some(pidfd) = container.pidfd.as_ref().filter(|_| parent_sets_lo) {
        let up = fault::check(Point::Loopback)
            .and_then(|()| crate::net::loopback_up_from_outside(pidfd.as_fd(), container.pid));
        match up {
            // The child already ended (a step of its own failed): its record says why.
            Ok(()) | Err(Errno::SRCH) => {}
            Err(e) => {
                container.kill_and_reap();
                return Err(Error::sys("bring up", b"lo", e));
            }
        }
    }
    // `create` with prestart, createRuntime or createContainer hooks: they run now,
    // while the init waits for the command before entering its root.
    if let Some(o) = cfg.oci() {
        if let Err(e) = o.before_root(container.pid) {
            container.kill_and_reap();
            return Err(e);
        }
    }
    // The limits are in place (and the child in its cgroups, or about to be, before it
    // reads this): hand it the command, NUL-separated (the book joined
    // argv with spaces and broke every argument that contains one).
    let mut at = 0;
    for arg in cfg.command.iter() {
        let b = arg.to_bytes_with_nul();
        plan.cmd_bytes[at..at + b.len()].copy_from_slice(b);
        at += b.len();
    }
    // EPIPE means the child died before reading; its record (or status) says why.
    let _ = write_all(&cmd_tx, plan.cmd_bytes);
    // While the child execs: dead runs' leftovers next to our cgroups.
    if let (Some((p, cg)), None) = (cgroup.as_ref(), cfg.oci()) {
        cg.sweep(p, &cfg.limits);
    }
    if let Some(d) = devices {
        d.sweep();
    }

    // No waiting for execve here: a successful one closes the error pipe, a failed step
    // writes its record there and exits, so the record is in the pipe by the time the
    // child has ended. Waking up at execve would cost a context switch on every run while
    // the child is busy exec'ing; the record can wait. Our end of the command pipe stays
    // open until then too: the child takes a hangup as our death (trampoline::parent_gone).
    if let Some(o) = cfg.oci() {
        // `create`: the container is set up and waits for `start`; whoever reaps it gets
        // its status. Its cgroups stay (run_limited hands their paths on).
        return match wait_ready(&err_rx) {
            Ok(()) => {
                o.pid.set(container.pid);
                Ok(0)
            }
            Err(rec) => {
                container.kill_and_reap();
                Err(match rec {
                    Some((step, errno)) => describe(cfg, plan.confine, step, errno),
                    None => Error::usage(b"the container's init ended before it was ready"),
                })
            }
        };
    }
    let code = supervise::wait(&container, &sfd);
    drop(cmd_tx);
    match read_failure(&err_rx) {
        Some((step, errno)) => Err(describe(cfg, plan.confine, step, errno)),
        None => Ok(code),
    }
}

/// clone3 with the namespaces (and `CLONE_INTO_CGROUP` when there is a v2 cgroup), or the
/// fallback: a fork-style clone into a new PID namespace whose child unshares the rest.
/// Returns who we are, what the child must unshare, and whether it was born in its cgroup.
fn clone_namespaces(ns: u32, cgroup_fd: Option<i32>, host_env: CArgs<'_>) -> Result<(Forked, u32, bool)> {
    use linux_raw_sys::general::{CLONE_NEWPID, CLONE_PIDFD};
    fault::check(Point::Clone).map_err(clone_error)?;
    if !force_fallback(host_env) {
        match clone3(ns as u64 | CLONE_PIDFD as u64, cgroup_fd) {
            Ok(f) => return Ok((f, 0, cgroup_fd.is_some())),
            // ENOSYS: kernel before 5.3. EPERM: a seccomp profile that predates clone3
            // (docker's old default). E2BIG: a kernel before 5.7, which does not know the
            // `cgroup` field of clone_args.
            Err(Errno::NOSYS | Errno::PERM | Errno::TOOBIG) => {}
            Err(e) => return Err(clone_error(e)),
        }
    }
    // A user namespace comes with the PID one, so that it owns it (the child unshares
    // the rest from inside it).
    let first = CLONE_NEWPID | if cfg!(feature = "oci") { ns & linux_raw_sys::general::CLONE_NEWUSER } else { 0 };
    match clone_fork(first as u64) {
        Ok(f) => Ok((f, ns & !first, false)),
        Err(e) => Err(clone_error(e)),
    }
}

fn clone_error(e: Errno) -> Error {
    let hint: &[u8] = match e {
        Errno::PERM => b"tinyctr needs root (CAP_SYS_ADMIN)",
        Errno::INVAL => b"the kernel lacks a namespace type (see tinyctr check)",
        Errno::NOSPC | Errno::USERS => b"too many namespaces: check /proc/sys/user/max_*_namespaces",
        _ => b"",
    };
    Error::sys_hint("clone into new namespaces", b"", e, hint)
}

/// Debug builds only: `TINYCTR_DEBUG_DETACHED=1` puts the device list into a detached
/// cgroup2 even where a mounted hierarchy would take it, so that host tests reach that
/// path too.
fn force_detached(host_env: CArgs<'_>) -> bool {
    cfg!(debug_assertions) && env::lookup(host_env, b"TINYCTR_DEBUG_DETACHED") == Some(c"TINYCTR_DEBUG_DETACHED=1")
}

/// Debug builds only: `TINYCTR_DEBUG_NO_CLONE3=1` takes the fallback path, so tests can
/// prove it works on a kernel that has clone3.
fn force_fallback(host_env: CArgs<'_>) -> bool {
    cfg!(debug_assertions) && env::lookup(host_env, b"TINYCTR_DEBUG_NO_CLONE3") == Some(c"TINYCTR_DEBUG_NO_CLONE3=1")
}

#[inline(never)]
fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(pid)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

/// `create`: waits for the child's record: READY (step 0) once it is set up and waits
/// for `start`, a failed step, or nothing (`None`: it died without a word).
fn wait_ready(rx: &OwnedFd) -> core::result::Result<(), Option<(u8, Errno)>> {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::new(rx, PollFlags::IN)];
    while let Err(Errno::INTR) = poll(&mut fds, None) {}
    let mut rec = [0u8; RECORD_LEN];
    match read_full(rx, &mut rec) {
        Ok(RECORD_LEN) if rec[0] == 0 => Ok(()),
        Ok(RECORD_LEN) => Err(Some(trampoline::decode(&rec))),
        _ => Err(None),
    }
}

/// Reads the child's failure record once it has ended; `None` when there is none
/// (execve succeeded, or the child died without a word, which its exit status tells).
fn read_failure(rx: &OwnedFd) -> Option<(u8, Errno)> {
    let mut rec = [0u8; RECORD_LEN];
    match read_full(rx, &mut rec) {
        Ok(RECORD_LEN) => Some(trampoline::decode(&rec)),
        _ => None,
    }
}

/// Turns a failed step of the child into the one-line error.
fn describe(cfg: &RunConfig<'_>, conf: &crate::confine::Confine, step: u8, errno: Errno) -> Error {
    let cmd = cfg.command.get(0).map(CStr::to_bytes).unwrap_or(b"");
    let status = trampoline::status_for(step, errno);
    if let Some(e) = crate::rootfs::volume::describe(cfg, step, errno) {
        return e.with_status(status);
    }
    if let Some(e) = crate::confine::describe(step, errno, conf) {
        return e.with_status(status);
    }
    let Some(s) = Step::from_u8(step) else {
        let masks = cfg.oci().and_then(|o| crate::rootfs::describe_masks(step, o.masks));
        let (op, obj) = masks.unwrap_or_else(|| crate::rootfs::describe(step));
        let obj = if obj.is_empty() { cfg.rootfs.map(CStr::to_bytes).unwrap_or(b"") } else { obj };
        return Error::sys(op, obj, errno).with_status(status);
    };
    // Most steps differ only in their texts: one `Error::sys` for them all.
    let (op, obj, hint): (&str, &[u8], &[u8]) = match s {
        Step::Unshare => ("unshare namespaces", b"", b""),
        Step::CgroupNs => ("set up the cgroup namespace", b"", b"the kernel needs CONFIG_CGROUPS (4.6 or later)"),
        Step::MakePrivate => (
            "make mounts private below",
            b"/",
            match errno {
                // The kernel changes propagation only on a mount's root: a chroot into a
                // plain directory is not one.
                Errno::INVAL => b"is tinyctr in a chroot? bind-mount that directory onto itself first",
                _ => b"",
            },
        ),
        Step::MountProc => (
            "mount proc on",
            b"/proc",
            match errno {
                Errno::NOENT => b"create a /proc directory",
                _ => b"",
            },
        ),
        Step::Hostname => ("set hostname", cfg.hostname.to_bytes(), b""),
        Step::Domainname => ("set the domain name", cfg.oci().map_or(&b""[..], |o| o.domainname.to_bytes()), b""),
        Step::Loopback => ("bring up", b"lo", b""),
        #[cfg(feature = "oci")]
        Step::UserNs => (
            "become root (uid and gid 0) of the container's user namespace",
            b"",
            b"linux.uidMappings and gidMappings must map id 0",
        ),
        Step::Workdir => ("change to working directory", cfg.workdir.map(CStr::to_bytes).unwrap_or(b"/"), b""),
        Step::InitFork => ("start the command under --init", b"", b""),
        Step::Fds => ("close inherited descriptors", b"", b""),
        Step::CgroupJoin => (
            "move the container into its cgroup",
            b"tasks",
            match errno {
                Errno::NOSPC => b"the cgroup's cpuset.cpus or cpuset.mems is empty",
                _ => b"",
            },
        ),
        Step::Join => ("join a namespace of", b"config.json", b""),
        Step::Console => ("set up the terminal", b"/dev/ptmx", b""),
        Step::Sysctl => crate::oci::sysctl::describe(errno),
        Step::AppArmor => (
            "apply the AppArmor profile",
            cfg.oci().map_or(&b""[..], |o| o.apparmor.get(5..).unwrap_or(b"")),
            match errno {
                Errno::NOENT => b"it is not loaded (see /sys/kernel/security/apparmor/profiles)",
                _ => b"",
            },
        ),
        Step::WorkdirOutside => {
            let mut e = Error::usage(b"working directory \"");
            crate::error::push_shown(&mut e.msg, cfg.workdir.map(CStr::to_bytes).unwrap_or(b"/"));
            e.msg.push(b"\" is outside the container's root (refused: a container escape)");
            return e.with_status(status);
        }
        Step::SignalMask => ("restore the signal mask for", cmd, b""),
        Step::Command => ("receive the command from the parent", b"", b""),
        Step::Exec => return exec_error(cfg, cmd, errno).with_status(status),
    };
    Error::sys_hint(op, obj, errno, hint).with_status(status)
}

#[inline(never)]
fn exec_error(cfg: &RunConfig<'_>, cmd: &[u8], errno: Errno) -> Error {
    let searched = !crate::words::has(cmd, b'/');
    let hint: &[u8] = match errno {
        Errno::NOENT if searched => b"command not found in the container's PATH",
        Errno::NOENT => b"no such file (or its #! interpreter is missing)",
        Errno::ACCESS => b"not executable: check its mode and noexec mounts",
        Errno::NOEXEC => b"not a program this kernel can run, and no #! line",
        _ => b"",
    };
    let mut e = Error::sys_hint("execute", cmd, errno, hint);
    if let Some(root) = cfg.rootfs {
        e.msg.push(b" (looked up inside the rootfs \"").push(root.to_bytes()).push(b"\")");
    }
    e
}

fn report_oom(cg: &Cgroup, code: u8) {
    let mut e = Error::usage(if code == 137 {
        b"the container was killed: out of memory"
    } else {
        b"a process in the container was killed: out of memory"
    });
    if let Some(limit) = cg.memory_limit() {
        e.msg.push(b" (limit ");
        crate::limits::push_size(&mut e.msg, limit);
        e.msg.push(b")");
    }
    crate::out::report(&e);
}
