//! The cgroup settings of `linux.resources` that `run` has no option for: memory
//! swappiness and the OOM killer's switch, real-time CPU time, the CFS burst, the idle
//! policy, the net_cls class and the memory reservation (docker's `--memory-swappiness`, `--oom-kill-disable`,
//! `--cpu-rt-runtime`..., through nerdctl or any client of containerd). Each goes to
//! whichever of the container's cgroups has its file, v1 or v2; a setting none of them
//! has a file for (cgroup v2 has no swappiness, no OOM switch, no real-time time and no
//! net_cls) is refused by its JSON path before anything is written, never dropped.
//! Written by `create` once the init is in its cgroups, before the program runs, and
//! by `update`.

use core::ffi::CStr;

use rustix::fd::{AsFd, OwnedFd};

use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{Error, Result};
use crate::sys::list::List;

use super::linux::{Throttle, MAX_THROTTLES};

/// The settings, in `Resources::controls` order.
#[derive(Clone, Copy)]
pub enum Control {
    Swappiness,
    NoOomKill,
    /// Before the runtime: the kernel checks a runtime against its period.
    RtPeriod,
    RtRuntime,
    Burst,
    Idle,
    ClassId,
    /// `memory.reservation`: a soft limit, reclaimed towards under memory pressure (v1);
    /// on v2 the memory protected from reclaim, as runc writes it (`memory.low`).
    Reservation,
}

/// How many.
pub const N: usize = 8;

/// Each one's JSON path below `linux.resources`, its v1 file, and its v2 file (`""`:
/// none). The CFS burst is in microseconds in both; v2 has it beside `cpu.max`.
pub const CONTROLS: [(&str, &CStr, &CStr); N] = [
    ("memory.swappiness", c"memory.swappiness", c""),
    ("memory.disableOOMKiller", c"memory.oom_control", c""),
    ("cpu.realtimePeriod", c"cpu.rt_period_us", c""),
    ("cpu.realtimeRuntime", c"cpu.rt_runtime_us", c""),
    ("cpu.burst", c"cpu.cfs_burst_us", c"cpu.max.burst"),
    ("cpu.idle", c"cpu.idle", c"cpu.idle"),
    ("network.classID", c"net_cls.classid", c""),
    ("memory.reservation", c"memory.soft_limit_in_bytes", c"memory.low"),
];

/// Writes every setting of `values` into the cgroup among `dirs` that has its file;
/// refuses first, naming the setting (`at` the resources object), when one has no such
/// cgroup.
pub fn write(dirs: &[&[u8]], values: &[Option<u64>; N], at: &str) -> Result<()> {
    if values.iter().all(Option::is_none) {
        return Ok(());
    }
    let lines = || dirs.iter().copied();
    let mut targets: [Option<(OwnedFd, &[u8], &CStr)>; N] = Default::default();
    for (i, (slot, v)) in targets.iter_mut().zip(values).enumerate() {
        if v.is_none() {
            continue;
        }
        let (name, v1, v2) = CONTROLS[i];
        *slot = lines().find_map(|dir| {
            let d = fs::open_path(dir).ok()?;
            let file = [v1, v2].into_iter().find(|f| !f.is_empty() && fs::exists(d.as_fd(), f))?;
            Some((d, dir, file))
        });
        if slot.is_none() {
            let mut e = Error::usage(at.as_bytes());
            e.msg.push(name.as_bytes()).push(b": no cgroup of the container has ").push(v1.to_bytes());
            e.msg.push(b" (cgroup v2, or this kernel, has no such setting: leave it out)");
            return Err(e);
        }
    }
    for (t, v) in targets.iter().zip(values) {
        if let (Some((d, dir, file)), Some(v)) = (t, v) {
            let mut value: Buf<24> = Buf::new();
            // A real-time runtime of -1 is "no limit", as the kernel spells it.
            match *v as i64 {
                -1 => value.push(b"-1"),
                _ => value.push_u64(*v),
            };
            fs::write_at(d.as_fd(), dir, file, value.as_bytes())?;
        }
    }
    Ok(())
}

/// `cpu.mems` (the kubelet's memory manager pins a pod to NUMA nodes): into the container's
/// cgroup that has `cpuset.mems` (the v1 cpuset one, made with its parent's nodes, or the
/// v2 one, cpuset enabled); refused by its JSON path when none has it. A node the parent
/// lacks says which it has.
pub fn write_mems(dirs: &[&[u8]], mems: &[u8], at: &str) -> Result<()> {
    if mems.is_empty() {
        return Ok(());
    }
    const FILE: &CStr = c"cpuset.mems";
    let Some((d, dir)) = dirs.iter().find_map(|dir| {
        let d = fs::open_path(dir).ok()?;
        fs::exists(d.as_fd(), FILE).then_some((d, *dir))
    }) else {
        let mut e = Error::usage(at.as_bytes());
        e.msg.push(b"cpu.mems: no cgroup of the container has cpuset.mems (no cpuset hierarchy here: leave it out)");
        return Err(e);
    };
    fs::write(d.as_fd(), FILE, mems).map_err(|e| {
        let mut err = fs::write_error(mems, dir, FILE, e);
        let mut avail = [0u8; 64];
        let slash = dir.iter().rposition(|&c| c == b'/').unwrap_or(0);
        let parent = fs::open_path(&dir[..slash]).ok();
        if let Some(v) = parent.as_ref().and_then(|p| fs::read(p.as_fd(), c"cpuset.effective_mems", &mut avail).ok()) {
            err.msg.push(b"; the memory nodes available are ").push(v);
        }
        err
    })
}

/// `blockIO`'s throttles (nerdctl's `--device-read-bps` and the like): each device's
/// rate into the container's cgroup that has the throttle files, one write per rate:
/// v1 blkio's `MAJ:MIN RATE` into the four `blkio.throttle.*_device` files, v2's
/// `MAJ:MIN rbps=RATE` (wbps, riops, wiops) into io.max, where 0 is `max`, no limit (as
/// 0 removes it on v1). Refused by its JSON path when no cgroup has the files; a device
/// the kernel will not throttle (not a disk) fails naming the file.
pub fn write_throttles(dirs: &[&[u8]], lists: &[List<Throttle, MAX_THROTTLES>; 4], at: &str) -> Result<()> {
    if lists.iter().all(|l| l.is_empty()) {
        return Ok(());
    }
    const V1: [&CStr; 4] = [
        c"blkio.throttle.read_bps_device",
        c"blkio.throttle.write_bps_device",
        c"blkio.throttle.read_iops_device",
        c"blkio.throttle.write_iops_device",
    ];
    const V2: &CStr = c"io.max";
    let find = || {
        dirs.iter().find_map(|dir| {
            let d = fs::open_path(dir).ok()?;
            let v1 = fs::exists(d.as_fd(), V1[0]);
            (v1 || fs::exists(d.as_fd(), V2)).then_some((d, *dir, v1))
        })
    };
    // v2 shows io.max once the io controller is enabled down to the container's parent
    // (create enables only those of the limits `run` has, and hugetlb when asked).
    let found = match find() {
        None => {
            enable_io(dirs)?;
            find()
        }
        f => f,
    };
    let Some((d, dir, v1)) = found else {
        let mut e = Error::usage(at.as_bytes());
        e.msg.push(b"blockIO: no cgroup of the container has blkio.throttle files or io.max (leave the throttles out)");
        return Err(e);
    };
    for (k, list) in lists.iter().enumerate() {
        for t in list.iter() {
            let mut line: Buf<64> = Buf::new();
            line.push_u64(t.major as u64).push(b":").push_u64(t.minor as u64).push(b" ");
            let file = match v1 {
                true => {
                    line.push_u64(t.rate);
                    V1[k]
                }
                false => {
                    line.push([&b"rbps="[..], b"wbps=", b"riops=", b"wiops="][k]);
                    match t.rate {
                        0 => line.push(b"max"),
                        r => line.push_u64(r),
                    };
                    V2
                }
            };
            fs::write_at(d.as_fd(), dir, file, line.as_bytes())?;
        }
    }
    Ok(())
}

/// Enables io for the container's v2 cgroup among `dirs` (the one with
/// `cgroup.controllers`), from its hierarchy's root (the highest ancestor that is still a
/// cgroup) down to its parent.
fn enable_io(dirs: &[&[u8]]) -> Result<()> {
    let is_cgroup2 = |p: &[u8]| fs::open_path(p).is_ok_and(|d| fs::exists(d.as_fd(), c"cgroup.controllers"));
    let Some(dir) = dirs.iter().copied().find(|d| is_cgroup2(d)) else { return Ok(()) };
    let parent = &dir[..dir.iter().rposition(|&c| c == b'/').unwrap_or(0)];
    let mut root = parent.len();
    while let Some(up) = dir[..root].iter().rposition(|&c| c == b'/').filter(|&i| i > 0 && is_cgroup2(&dir[..i])) {
        root = up;
    }
    match crate::cgroup::v2::enable(parent, root, 0, b"io")? {
        None => Ok(()),
        Some(len) => Err(Error::sys_hint(
            "enable io in",
            &parent[..len],
            rustix::io::Errno::BUSY,
            b"that cgroup holds processes, and cgroup v2 then gives its children no controller",
        )),
    }
}
