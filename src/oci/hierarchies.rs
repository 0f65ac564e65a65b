//! The v1 hierarchies the cgroup layout does not drive (crate::cgroup::layout tracks
//! those of memory, cpu, cpuset and pids, and the unified one): cpuacct or blkio on
//! their own, devices, freezer, net_cls, net_prio, perf_event, hugetlb, rdma, misc, and
//! the named `name=systemd`. `create` puts the container in its cgroupsPath in every
//! one of them, as runc does. Not only for their controls: the shim loads a container's
//! cgroups from its init's `/proc/PID/cgroup`, and `ctr task metrics` and the kubelet's
//! stats read cpuacct and blkio there. A container left in the caller's cgroup of such
//! a hierarchy reports the caller's usage as its own; on a host whose cpuacct is a
//! hierarchy of its own (this one), the whole host's CPU time since boot. The devices
//! cgroup also gets the allow-list (crate::oci::devices), the freezer one is what
//! `pause` freezes (crate::oci::freezer).

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::buf::Buf;
use crate::cgroup::{fs, layout};
use crate::error::{Error, Result};
use crate::mountinfo;

/// Hierarchies at most: the kernel's ten v1 controllers beyond the layout's four, each
/// in a hierarchy of its own, and name=systemd (other named hierarchies are nobody's
/// business: runc leaves them too), with one to spare.
pub const MAX: usize = 12;

/// A directory of one of them: its mount point plus the cgroupsPath. As long as the
/// layout's (crate::cgroup::layout::PATH): a longer one failed there already, and past
/// it [`prepare`] refuses it (ENAMETOOLONG); more would only be stack to fault in.
pub type Dir = Buf<{ layout::PATH }>;

/// Calls `each(dir, super_options)` once for every such hierarchy, with `dir` its mount
/// point; a hierarchy mounted more than once is taken at its first mount that shows its
/// root (inside a container with its own view of cgroups, none does: then it is left
/// out, as before).
#[inline(never)]
pub fn each(each: &mut dyn FnMut(&mut Dir, &[u8]) -> Result<()>) -> Result<()> {
    const MI: &CStr = c"/proc/self/mountinfo";
    let fd = rustix::fs::open(MI, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::sys("read", MI.to_bytes(), e))?;
    let mut buf = [0u8; 1024];
    let mut lines = mountinfo::Lines::new(mountinfo::FdSource(fd), &mut buf);
    let mut seen = [0u64; MAX];
    let mut n = 0;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(()),
            Err(e) => return Err(Error::sys("read", MI.to_bytes(), e)),
        };
        let Some(m) = mountinfo::parse_mount(line) else { continue };
        let options = m.super_options;
        let named = options.split(|&b| b == b',').any(|w| w.starts_with(b"name="));
        if m.fstype != b"cgroup"
            || m.root != b"/"
            || layout::ctl_mask(options) & layout::ALL_CTLS != 0
            || named && !mountinfo::has_word(options, b"name=systemd")
        {
            continue;
        }
        let Some(dev) = device(m.dev) else { continue };
        if seen[..n].contains(&dev) {
            continue;
        }
        if n == MAX {
            return Err(Error::usage(b"more v1 cgroup hierarchies are mounted than tinyctr joins (12)"));
        }
        seen[n] = dev;
        n += 1;
        let mut dir = Dir::new();
        mountinfo::unescape_each(m.mount_point, |b| {
            dir.push(&[b]);
        });
        if !dir.overflowed() {
            each(&mut dir, options)?;
        }
    }
}

/// `major:minor` as one number (a hierarchy's superblock: every mount of it has it).
fn device(field: &[u8]) -> Option<u64> {
    let (major, minor) = field.split_at(field.iter().position(|&b| b == b':')?);
    let number = |s: &[u8]| s.iter().try_fold(0u64, |v, &d| d.is_ascii_digit().then(|| v * 10 + (d - b'0') as u64));
    Some(number(major)? << 32 | number(&minor[1..])?)
}

/// Makes the cgroup at `path` (the cgroupsPath, from the hierarchy's root) below the
/// mount point `dir`, with its parents, and has `setup` write the new cgroup's files;
/// returns it open, for the init to join itself before anything else
/// (cgroup::v1::join_self: a move by pid would wait for an RCU grace period). The
/// directory goes to `out` (the state's list) before anything is made: on any failure
/// later, removing it removes what was made here too (the parents carry the mark).
#[inline(never)]
pub fn prepare(
    dir: &mut Dir,
    path: &[u8],
    setup: &mut dyn FnMut(BorrowedFd<'_>, &[u8]) -> Result<()>,
    out: &mut dyn FnMut(&[u8]),
) -> Result<OwnedFd> {
    let from = dir.len();
    for c in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
        dir.push(b"/").push(c);
    }
    if dir.overflowed() {
        return Err(fs::path_error("create cgroup", path, Errno::NAMETOOLONG));
    }
    out(dir.as_bytes());
    // The parent usually exists (the hierarchy's root, a pod's cgroup): one mkdir.
    let made = match rustix::fs::mkdirat(CWD, dir.as_cstr(), Mode::from_raw_mode(0o755)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(Errno::NOENT) => {
            fs::mkdir_p(dir.as_bytes(), from, false, &mut 0, &mut |_, _, _| Ok(()))?;
            false
        }
        Err(e) => return Err(fs::path_error("create cgroup", dir.as_bytes(), e)),
    };
    let d = fs::open_dir(CWD, dir.as_cstr()).map_err(|e| fs::path_error("open cgroup", dir.as_bytes(), e))?;
    if made {
        fs::mark(d.as_fd()); // as mkdir_p marks what it makes
    }
    setup(d.as_fd(), dir.as_bytes())?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_numbers() {
        assert_eq!(super::device(b"0:29"), Some(29));
        assert_eq!(super::device(b"8:1"), Some(8 << 32 | 1));
        assert_eq!(super::device(b"8"), None);
        assert_eq!(super::device(b"a:1"), None);
    }
}
