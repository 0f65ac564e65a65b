//! `tinyctr check`: what this machine offers a container, tested rather than guessed —
//! the kernel version, clone3, each namespace type (a child is really cloned into it),
//! the cgroup layout with each controller's hierarchy, and a cgroup really created with
//! every available controller and removed; whether seccomp filters can be loaded, the
//! bounding set tinyctr holds, and a child really confined as a default container is.
//! Exit 0 when `run` (with its default confinement, and with limits) can work here, 1
//! otherwise, with the reason on the last line.

use crate::buf::Buf;
use crate::cgroup::layout::{Ctl, Found, Layout, Version, TRACKED};
use crate::cgroup::{Cgroup, Plan};
use crate::confine::{caps, Confine};
use crate::error::push_errno;
use crate::limits::{CpuQuota, Limits, CPU_PERIOD_US};
use crate::out::print;
use crate::sys::{self, Forked};
use linux_raw_sys::general as g;
use rustix::io::Errno;

const NAMESPACES: [(&str, u32); 6] = [
    ("uts", g::CLONE_NEWUTS),
    ("pid", g::CLONE_NEWPID),
    ("mnt", g::CLONE_NEWNS),
    ("ipc", g::CLONE_NEWIPC),
    ("net", g::CLONE_NEWNET),
    ("cgroup", g::CLONE_NEWCGROUP),
];

#[inline(never)]
pub fn run() -> u8 {
    // What stops `run` with limits, if anything (the first reason found).
    let mut fail: Option<&str> = None;

    // Each piece is printed as it comes: a few more writes than whole lines would be,
    // and no buffer to build them in (a push costs more code than a print).
    print(b"kernel:     ");
    print(rustix::system::uname().release().to_bytes());
    print(b"\n");
    crate::sealed::describe();
    print(b"clone3:     ");
    let clone3 = try_clone(0, true);
    match clone3 {
        Ok(()) => print(b"yes"),
        Err(e) => {
            errno(e);
            print(b" (tinyctr falls back to clone)")
        }
    };
    print(b"\nnamespaces:");
    for (name, flag) in NAMESPACES {
        print(b" ");
        print(name.as_bytes());
        match try_clone(flag, clone3.is_ok()) {
            Ok(()) => print(b" yes"),
            Err(e) => {
                print(b" no (");
                errno(e);
                print(b")");
                fail = fail.or(Some("a namespace type cannot be created (see above)"));
            }
        }
    }
    print(b"\n");
    fail = fail.or(confinement());

    let mut layout = Layout::EMPTY;
    if let Err((file, e)) = layout.detect(!0) {
        print(b"cgroups:    cannot read ");
        print(file.to_bytes());
        print(b": ");
        errno(e);
        print(b"\n");
        return finish(fail.or(Some("/proc is not mounted, so no cgroup can be found")));
    }
    print(b"cgroups:    ");
    print(layout.kind().as_bytes());
    print(b"\n");
    for c in TRACKED {
        print(b"  ");
        print(c.name().as_bytes());
        print(b"        ".get(c.name().len()..).unwrap_or(b""));
        match layout.find(c) {
            Found::At(i) => {
                let h = &layout.hiers[i];
                print(if h.version == Version::V1 { b"v1  " } else { b"v2  " });
                print(h.own.as_bytes());
            }
            // The device list then goes to a cgroup2 no mount shows.
            _ if c == Ctl::Devices => print(b"v2  none mounted: a cgroup2 attached nowhere (fsmount)"),
            Found::NotMounted(i) => {
                print(b"v1, but no mount shows tinyctr's cgroup ");
                print(layout.hiers[i].cgroup_path.as_bytes());
                fail = fail.or(Some("a cgroup controller is missing (see above)"));
            }
            Found::Absent => {
                print(b"-   no hierarchy has it");
                fail = fail.or(Some("a cgroup controller is missing (see above)"));
            }
        }
        print(b"\n");
    }
    if let Some(u) = layout.unified_mounted() {
        print(b"  unified v2  ");
        print(layout.hiers[u].own.as_bytes());
        print(b"\n");
    }

    // A real cgroup with every controller there is, a limit written for each.
    let limits = Limits {
        memory: Some(1 << 40),
        cpu_shares: Some(1024),
        cpus: Some(CpuQuota { quota: 64 * CPU_PERIOD_US, period: CPU_PERIOD_US }),
        pids: Some(4 * 1024 * 1024),
        devices: layout.hosts(Ctl::Devices),
        ..Limits::default()
    };
    let me = rustix::process::getpid().as_raw_nonzero().get() as u32;
    print(b"cgroup test: ");
    let mut cg = Cgroup::empty();
    let res = Plan::probe(&layout).and_then(|p| cg.create(&p, &limits, me)).and_then(|()| cg.destroy());
    let res = match limits.devices {
        false => res.and_then(|()| crate::cgroup::detached::Detached::create(me)?.destroy()),
        true => res,
    };
    match res {
        Ok(()) => print(b"created, limited and removed a cgroup\n"),
        Err(e) => {
            print(e.line().as_bytes());
            fail = fail.or(Some("tinyctr cannot create cgroups here (see above)"));
        }
    }
    finish(fail)
}

/// Prints `ENAME (description)`.
pub fn errno(e: Errno) {
    let mut b = Buf::<80>::new();
    push_errno(&mut b, e);
    print(b.as_bytes());
}

/// The seccomp and capability lines; the reason `run` cannot work, if any.
#[inline(never)]
fn confinement() -> Option<&'static str> {
    let mut fail = None;
    if crate::confine::seccomp::available() {
        print(b"seccomp:    yes (filters can be loaded)");
    } else {
        print(b"seccomp:    no: ");
        print(crate::confine::NO_SECCOMP);
        fail = Some("no seccomp filters (see above)");
    }
    let held = caps::held(true);
    print(b"\ncaps:       bounding set ");
    // As 16 hex digits, the way /proc/self/status shows capability sets.
    let set = caps::bounding_set();
    let mut hex = [0u8; 16];
    for (i, d) in hex.iter_mut().rev().enumerate() {
        *d = b"0123456789abcdef"[(set >> (i * 4)) as usize & 15];
    }
    print(&hex);
    let missing = ((1u64 << caps::COUNT) - 1) & !held;
    if missing != 0 {
        let mut names = Buf::<640>::new();
        caps::push_names(&mut names, missing);
        print(b" (lacks ");
        print(names.as_bytes());
        print(b")");
    }
    // A child confined as a default container is, with no_new_privs too: bounding drops,
    // setgroups, setresgid, setresuid, capset, ambient, no_new_privs.
    let conf = Confine {
        caps: caps::DEFAULT & held,
        no_new_privs: true,
        seccomp: false,
        masks: false,
        ids: crate::confine::user::Ids::ROOT,
        rearm: false,
        rlimits: Default::default(),
        umask: None,
        ambient: 0,
        #[cfg(feature = "oci")]
        sets: crate::confine::Sets::of(caps::DEFAULT & held),
    };
    print(b"\nconfine:    ");
    let status = match sys::clone_fork(0) {
        Ok(Forked::Child) => sys::exit(match crate::confine::apply(&conf, &[]) {
            Ok(()) => 0,
            Err((_, e)) => e.raw_os_error(),
        }),
        Ok(Forked::Parent { pid, .. }) => {
            rustix::process::waitpid(rustix::process::Pid::from_raw(pid), rustix::process::WaitOptions::empty())
                .ok()
                .flatten()
                .and_then(|(_, st)| st.exit_status())
        }
        Err(_) => None,
    };
    if status == Some(0) {
        print(b"yes (capabilities dropped and set, no_new_privs set)");
    } else {
        fail = Some("a child could not be confined (see above)");
        print(b"no: confining a test child failed");
        if let Some(n) = status {
            print(b": ");
            errno(Errno::from_raw_os_error(n));
        }
    }
    print(b"\n");
    // The OCI runtime applies config.json's AppArmor profile, or refuses it.
    if cfg!(feature = "oci") {
        print(match crate::oci::lsm::enabled() {
            true => b"apparmor:   yes (config.json's profiles are applied)\n",
            false => b"apparmor:   no (a config.json profile other than unconfined is refused)\n",
        });
    }
    fail
}

fn finish(fail: Option<&str>) -> u8 {
    match fail {
        None => {
            print(b"result:     tinyctr run with limits can work here\n");
            0
        }
        Some(why) => {
            print(b"result:     run with limits cannot work here: ");
            print(why.as_bytes());
            print(b"\n");
            1
        }
    }
}

/// Clones a child with `flags` (fork semantics) that exits at once; Ok if it ran.
fn try_clone(flags: u32, use_clone3: bool) -> Result<(), Errno> {
    let forked = match use_clone3 {
        true => sys::clone3(flags as u64, None)?,
        false => sys::clone_fork(flags as u64)?,
    };
    match forked {
        Forked::Child => sys::exit(0),
        Forked::Parent { pid, .. } => {
            let pid = rustix::process::Pid::from_raw(pid);
            match rustix::process::waitpid(pid, rustix::process::WaitOptions::empty()) {
                Ok(Some((_, st))) if st.exit_status() == Some(0) => Ok(()),
                Ok(_) => Err(Errno::CHILD),
                Err(e) => Err(e),
            }
        }
    }
}
