//! The container's `/sys/fs/cgroup`, when config.json mounts `cgroup` there (`runc spec`,
//! docker and containerd's CRI plugin all do; `ctr run` does not). Programs read their
//! own limits there: the JVM sizes its heap from `memory.limit_in_bytes` or `memory.max`,
//! Go and .NET their thread counts from the CPU quota; without it they see the host's.
//!
//! What the container gets is what runc gives it, as fresh mounts in the container's
//! cgroup namespace (each shows the container's own cgroup as its root, and nothing
//! above it): on a host with v1 hierarchies, a tmpfs holding one directory per
//! hierarchy (named as the host names its mount point: `memory`, `cpu,cpuacct`,
//! `systemd`, and `unified` for a hybrid host's cgroup2), each the same hierarchy mounted
//! again, with a symlink for each controller of a co-mounted one (`cpu -> cpu,cpuacct`);
//! else (cgroup v2 alone, or nothing mounted: a bare initramfs) cgroup2 at
//! `/sys/fs/cgroup` itself. Read-only when config.json says `ro` (the tmpfs too).
//!
//! Parent side, before clone: [`plan`] reads the host's mountinfo and writes the steps
//! into a [`Table`]. Child side, inside the new root: [`mount_all`] runs them (no
//! allocation, raw syscalls). It must run in a cgroup namespace of the container's own,
//! made once every cgroup was joined: a v1 mount of an existing hierarchy in the initial
//! namespace would show the host's whole tree, and a cgroup2 mount there would reapply
//! the host's root options (trampoline::setup unshares it first for `create`, and
//! leaves it again once mounted when config.json lists no cgroup namespace: the mounts
//! keep their roots).

use core::ffi::CStr;

use linux_raw_sys::general::{MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REMOUNT};

use super::{mounts, step, Failure};
use crate::buf::Buf;

/// The steps, one after another: a kind byte then NUL-terminated strings. `V1`: target,
/// mount data; `V2`: target; `LINK`: the link's path, what it points to.
const V1: u8 = b'1';
const V2: u8 = b'2';
const LINK: u8 = b'l';

/// Where the container's cgroups are mounted.
const DIR: &CStr = c"/sys/fs/cgroup";

/// Room for the steps: about 60 bytes a hierarchy (its directory and options), 30 a link
/// of a co-mounted one; a host with the kernel's 14 v1 controllers, each alone, and
/// name=systemd and cgroup2 needs about 960.
pub type Steps = Buf<1024>;

/// What [`mount_all`] does, prepared by [`plan`].
pub struct Table {
    /// MS_ flags of every mount (config.json's nosuid, nodev, noexec, ro, atime mode).
    pub flags: u32,
    /// v1 hierarchies: a tmpfs at /sys/fs/cgroup holding them.
    tmpfs: bool,
    steps: Steps,
}

/// Parent side: the steps for this host's cgroup mounts (`flags`: the mount's own). A
/// hierarchy counts when mounted at its root, once (the first such mount), named ones
/// only `name=systemd`: the hierarchies `create` puts the container in
/// (oci::hierarchies). A host with more than fit is refused.
/// Written into `t` (the caller's: `create` keeps it in a mapping, off its stack).
#[inline(never)]
pub fn plan(flags: u32, t: &mut Table) -> crate::error::Result<()> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(MI, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| crate::error::Error::sys("read", MI.to_bytes(), e))?;
    plan_from(crate::mountinfo::FdSource(fd), flags, t)
}

impl Table {
    pub const EMPTY: Table = Table { flags: 0, tmpfs: false, steps: Steps::new() };
}

const MI: &CStr = c"/proc/self/mountinfo";

/// [`plan`] from mountinfo as `src` gives it.
fn plan_from(src: impl crate::mountinfo::Source, flags: u32, t: &mut Table) -> crate::error::Result<()> {
    use crate::error::Error;
    use crate::mountinfo;
    let mut buf = [0u8; 1024];
    let mut lines = mountinfo::Lines::new(src, &mut buf);
    *t = Table { flags, tmpfs: false, steps: Steps::new() };
    let mut seen: Buf<256> = Buf::new();
    // The unified hierarchy's mount point name, if the host mounts it.
    let mut v2: Buf<64> = Buf::new();
    let mut have_v2 = false;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(Error::sys("read", MI.to_bytes(), e)),
        };
        let Some(m) = mountinfo::parse_mount(line) else { continue };
        let cgroup2 = m.fstype == b"cgroup2";
        if !(cgroup2 || m.fstype == b"cgroup") || m.root != b"/" {
            continue;
        }
        let named = m.super_options.split(|&b| b == b',').any(|w| w.starts_with(b"name="));
        if named && !mountinfo::has_word(m.super_options, b"name=systemd") {
            continue;
        }
        // Every mount of a hierarchy shows its superblock's `major:minor`.
        let dev = m.dev;
        if seen.as_bytes().split(|&b| b == b' ').any(|d| d == dev) {
            continue;
        }
        seen.push(dev).push(b" ");
        let name = m.mount_point.rsplit(|&b| b == b'/').next().unwrap_or(b"");
        if matches!(name, b"" | b"." | b"..") || name.contains(&b'\\') {
            continue; // not a name a directory of ours can have (escaped: never usual)
        }
        if cgroup2 {
            have_v2 = true;
            v2.clear();
            v2.push(name);
            continue;
        }
        t.tmpfs = true;
        t.steps.push(&[V1]).push(DIR.to_bytes()).push(b"/").push(name).push(b"\0");
        // The hierarchy's controllers and root flags (`xattr`...); never an option with
        // a value (`release_agent=`: refused outside the initial cgroup namespace) but
        // its name.
        let mut first = true;
        for w in m.super_options.split(|&b| b == b',') {
            if matches!(w, b"rw" | b"ro") || w.contains(&b'=') && !w.starts_with(b"name=") {
                continue;
            }
            if !first {
                t.steps.push(b",");
            }
            first = false;
            t.steps.push(w);
        }
        t.steps.push(b"\0");
        if name.contains(&b',') {
            for part in name.split(|&b| b == b',').filter(|p| !p.is_empty()) {
                t.steps.push(&[LINK]).push(DIR.to_bytes()).push(b"/").push(part).push(b"\0");
                t.steps.push(name).push(b"\0");
            }
        }
    }
    match (t.tmpfs, have_v2) {
        (true, true) => {
            t.steps.push(&[V2]).push(DIR.to_bytes()).push(b"/").push(v2.as_bytes()).push(b"\0");
        }
        (true, false) => {}
        // cgroup v2 alone, or nothing mounted (the container's cgroup is then in a
        // cgroup2 hierarchy no mount shows: crate::cgroup::detached).
        (false, _) => {
            t.steps.push(&[V2]).push(DIR.to_bytes()).push(b"\0");
        }
    }
    if t.steps.overflowed() || seen.overflowed() || v2.overflowed() {
        return Err(Error::usage(b"config.json: mounts: /sys/fs/cgroup: more cgroup hierarchies are mounted here than tinyctr mounts in a container"));
    }
    Ok(())
}

/// Child side, after the container's /sys is mounted: its cgroup filesystems (see the
/// module's comment for why in a cgroup namespace of its own).
pub fn mount_all(t: &Table) -> Result<(), Failure> {
    let fail = |e| (step::CGROUPFS, e);
    const TMPFS: u32 = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if t.tmpfs {
        mounts::mount(c"tmpfs", DIR, c"tmpfs", TMPFS, Some(c"mode=755")).map_err(fail)?;
    }
    let mut rest = t.steps.as_bytes();
    while let Some((&kind, tail)) = rest.split_first() {
        let Some((first, tail)) = cstr(tail) else { break };
        rest = tail;
        if kind == V2 {
            if t.tmpfs {
                mounts::mkdir_if_missing(first, 0o755).map_err(fail)?;
            }
            mounts::mount(c"cgroup2", first, c"cgroup2", t.flags, None).map_err(fail)?;
            continue;
        }
        let Some((second, tail)) = cstr(rest) else { break };
        rest = tail;
        if kind == LINK {
            match rustix::fs::symlink(second, first) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(fail(e)),
            }
        } else {
            mounts::mkdir_if_missing(first, 0o755).map_err(fail)?;
            mounts::mount(c"cgroup", first, c"cgroup", t.flags, Some(second)).map_err(fail)?;
        }
    }
    if t.tmpfs && t.flags & MS_RDONLY != 0 {
        mounts::mount(c"tmpfs", DIR, c"tmpfs", MS_REMOUNT | MS_RDONLY | TMPFS, Some(c"mode=755")).map_err(fail)?;
    }
    Ok(())
}

/// The C string at the start of `b`, and what follows its NUL.
fn cstr(b: &[u8]) -> Option<(&CStr, &[u8])> {
    let s = CStr::from_bytes_until_nul(b).ok()?;
    Some((s, &b[s.to_bytes_with_nul().len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The steps as text, one per line: `1 TARGET DATA`, `2 TARGET`, `l LINK TO`.
    fn steps(mountinfo: &str) -> Result<(bool, String), String> {
        let mut t = Table::EMPTY;
        plan_from(crate::mountinfo::SliceSource { data: mountinfo.as_bytes(), chunk: 7 }, MS_RDONLY, &mut t)
            .map_err(|e| String::from_utf8_lossy(e.line().as_bytes()).into_owned())?;
        assert_eq!(t.flags, MS_RDONLY);
        let mut out = String::new();
        let mut rest = t.steps.as_bytes();
        while let Some((&kind, tail)) = rest.split_first() {
            let (a, tail) = cstr(tail).unwrap();
            out.push_str(&format!("{} {}", kind as char, a.to_str().unwrap()));
            rest = tail;
            if kind != V2 {
                let (b, tail) = cstr(rest).unwrap();
                out.push_str(&format!(" {}", b.to_str().unwrap()));
                rest = tail;
            }
            out.push('\n');
        }
        Ok((t.tmpfs, out))
    }

    const TMPFS: &str = "25 1 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n";

    #[test]
    fn a_hybrid_host_gets_a_tmpfs_of_its_hierarchies() {
        let mi = [
            TMPFS,
            "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n",
            "27 25 0:24 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd\n",
            "28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup rw,cpu,cpuacct\n",
            "29 25 0:26 / /sys/fs/cgroup/memory rw shared:13 - cgroup cgroup rw,memory\n",
            // The same hierarchy again (a bind elsewhere), a nested container's view (not
            // its root), and a named hierarchy nobody joins: none is mounted.
            "30 1 0:26 / /mnt/memory rw - cgroup cgroup rw,memory\n",
            "31 1 0:27 /x /mnt/pids rw - cgroup cgroup rw,pids\n",
            "32 1 0:28 / /mnt/foo rw - cgroup cgroup rw,name=foo\n",
            "33 1 8:1 / /home rw - ext4 /dev/sda1 rw\n",
        ]
        .concat();
        let want = "1 /sys/fs/cgroup/systemd xattr,name=systemd\n\
                    1 /sys/fs/cgroup/cpu,cpuacct cpu,cpuacct\n\
                    l /sys/fs/cgroup/cpu cpu,cpuacct\n\
                    l /sys/fs/cgroup/cpuacct cpu,cpuacct\n\
                    1 /sys/fs/cgroup/memory memory\n\
                    2 /sys/fs/cgroup/unified\n";
        assert_eq!(steps(&mi), Ok((true, want.to_owned())));
    }

    #[test]
    fn cgroup2_alone_or_nothing_mounted_is_cgroup2_itself() {
        let v2 = "26 1 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(steps(v2), Ok((false, "2 /sys/fs/cgroup\n".to_owned())));
        // A bare initramfs: the container's cgroup is in a cgroup2 hierarchy no mount shows.
        let bare = "1 0 0:2 / / rw - rootfs rootfs rw\n";
        assert_eq!(steps(bare), Ok((false, "2 /sys/fs/cgroup\n".to_owned())));
        assert_eq!(steps(""), Ok((false, "2 /sys/fs/cgroup\n".to_owned())));
    }

    #[test]
    fn more_hierarchies_than_fit_are_refused() {
        let mut mi = String::from(TMPFS);
        for i in 0..40 {
            mi.push_str(&format!(
                "{} 25 0:{} / /sys/fs/cgroup/net_cls,net_prio{i} rw - cgroup cgroup rw,net_cls,net_prio\n",
                30 + i,
                30 + i
            ));
        }
        let e = steps(&mi).unwrap_err();
        assert!(e.contains("more cgroup hierarchies are mounted here than tinyctr mounts"), "{e}");
    }
}
