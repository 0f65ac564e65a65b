//! `tinyctr check`: what this machine offers a container, tested rather than guessed —
//! the kernel version, clone3, each namespace type (a child is really cloned into it),
//! the cgroup layout with each controller's hierarchy, and a cgroup really created with
//! every available controller and removed; whether seccomp filters can be loaded, the
//! bounding set tinyctr holds, and a child really confined as a default container is.
//! Exit 0 when `run` (with its default confinement, and with limits) can work here, 1
//! otherwise, with the reason on the last line.

use crate::buf::Buf;
use crate::cgroup::layout::{Found, Layout, Version, CTLS, PATH};
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
    let mut b: Buf<PATH> = Buf::new();

    b.push(b"kernel:     ").push(rustix::system::uname().release().to_bytes());
    line(&mut b);
    crate::sealed::describe(&mut b);
    line(&mut b);
    b.push(b"clone3:     ");
    let clone3 = try_clone(0, true);
    match clone3 {
        Ok(()) => b.push(b"yes"),
        Err(e) => {
            push_errno(&mut b, e);
            b.push(b" (tinyctr falls back to clone)")
        }
    };
    line(&mut b);
    b.push(b"namespaces:");
    for (name, flag) in NAMESPACES {
        b.push(b" ").push_str(name);
        match try_clone(flag, clone3.is_ok()) {
            Ok(()) => {
                b.push(b" yes");
            }
            Err(e) => {
                b.push(b" no (");
                push_errno(&mut b, e);
                b.push(b")");
                fail = fail.or(Some("a namespace type cannot be created (see above)"));
            }
        }
    }
    line(&mut b);
    fail = fail.or(confinement(&mut b));

    let mut layout = Layout::EMPTY;
    match layout.detect(!0) {
        Ok(()) => {}
        Err((file, e)) => {
            b.push(b"cgroups:    cannot read ").push_str(file).push(b": ");
            push_errno(&mut b, e);
            line(&mut b);
            return finish(fail.or(Some("/proc is not mounted, so no cgroup can be found")));
        }
    };
    b.push(b"cgroups:    ").push_str(layout.kind());
    line(&mut b);
    for c in CTLS {
        b.push(b"  ").push_str(c.name()).push(&b"        "[..8 - c.name().len()]);
        match layout.find(c) {
            Found::At(i) => {
                let h = &layout.hiers[i];
                b.push(if h.version == Version::V1 { b"v1  " } else { b"v2  " }).push(h.own.as_bytes());
            }
            Found::NotMounted(i) => {
                b.push(b"v1, but no mount shows tinyctr's cgroup ").push(layout.hiers[i].cgroup_path.as_bytes());
                fail = fail.or(Some("a cgroup controller is missing (see above)"));
            }
            Found::Absent => {
                b.push(b"-   no hierarchy has it");
                fail = fail.or(Some("a cgroup controller is missing (see above)"));
            }
        }
        line(&mut b);
    }
    if let Some(u) = layout.unified_mounted() {
        b.push(b"  unified v2  ").push(layout.hiers[u].own.as_bytes());
        line(&mut b);
    }

    // A real cgroup with every controller there is, a limit written for each.
    let limits = Limits {
        memory: Some(1 << 40),
        cpu_shares: Some(1024),
        cpus: Some(CpuQuota { quota: 64 * CPU_PERIOD_US, period: CPU_PERIOD_US }),
        pids: Some(4 * 1024 * 1024),
        ..Limits::default()
    };
    let me = rustix::process::getpid().as_raw_nonzero().get() as u32;
    print(b"cgroup test: ");
    let mut cg = Cgroup::empty();
    let res = Plan::probe(&layout).and_then(|p| cg.create(&p, &limits, me)).and_then(|()| cg.destroy());
    match res {
        Ok(()) => print(b"created, limited and removed a cgroup\n"),
        Err(e) => {
            print(e.line().as_bytes());
            fail = fail.or(Some("tinyctr cannot create cgroups here (see above)"));
        }
    }
    finish(fail)
}

/// The seccomp and capability lines; the reason `run` cannot work, if any.
fn confinement(b: &mut Buf<PATH>) -> Option<&'static str> {
    let mut fail = None;
    b.push(b"seccomp:    ");
    if crate::confine::seccomp::available() {
        b.push(b"yes (filters can be loaded)");
    } else {
        b.push(b"no: ").push(crate::confine::NO_SECCOMP);
        fail = Some("no seccomp filters (run with --security-opt seccomp=unconfined)");
    }
    line(b);
    let held = caps::held(true);
    b.push(b"caps:       bounding set ");
    push_hex(b, caps::bounding_set());
    let missing = ((1u64 << caps::COUNT) - 1) & !held;
    if missing != 0 {
        let mut names = Buf::<640>::new();
        caps::push_names(&mut names, missing);
        b.push(b" (lacks ").push(names.as_bytes()).push(b")");
    }
    line(b);
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
    };
    b.push(b"confine:    ");
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
        b.push(b"yes (capabilities dropped and set, no_new_privs set)");
    } else {
        fail = Some("a child could not be confined (see above)");
        b.push(b"no: confining a test child failed");
        if let Some(n) = status {
            b.push(b": ");
            push_errno(b, Errno::from_raw_os_error(n));
        }
    }
    line(b);
    fail
}

/// `v` as 16 hex digits, the way /proc/self/status shows capability sets.
fn push_hex(b: &mut Buf<PATH>, v: u64) {
    for i in (0..16).rev() {
        b.push(&[b"0123456789abcdef"[(v >> (i * 4)) as usize & 15]]);
    }
}

/// Prints `b` as a line and empties it.
fn line(b: &mut Buf<PATH>) {
    b.push(b"\n");
    print(b.as_bytes());
    b.clear();
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
