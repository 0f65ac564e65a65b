//! `tinyctr check`: what this machine offers a container, tested rather than guessed —
//! the kernel version, clone3, each namespace type (a child is really cloned into it),
//! the cgroup layout with each controller's hierarchy, and a cgroup really created with
//! every available controller and removed. Exit 0 when `run` with limits can work here,
//! 1 otherwise, with the reason on the last line.

use crate::buf::Buf;
use crate::cgroup::layout::{Found, Layout, Version, CTLS};
use crate::cgroup::Cgroup;
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

pub fn run() -> u8 {
    let mut b: Buf<1024> = Buf::new();
    let mut fail: Buf<600> = Buf::new();

    b.push(b"kernel:     ").push(rustix::system::uname().release().to_bytes()).push(b"\n");
    b.push(b"clone3:     ");
    let clone3 = try_clone(0, true);
    match clone3 {
        Ok(()) => b.push(b"yes\n"),
        Err(e) => {
            b.push(b"no, ");
            push_errno(&mut b, e);
            b.push(b" (tinyctr falls back to clone)\n")
        }
    };
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
                if fail.is_empty() {
                    fail.push(b"cannot create a ").push_str(name).push(b" namespace");
                }
            }
        }
    }
    b.push(b"\n");
    print(b.as_bytes());
    b.clear();

    let layout = match Layout::detect() {
        Ok(l) => l,
        Err((file, e)) => {
            b.push(b"cgroups:    unknown: cannot read ").push_str(file).push(b": ");
            push_errno(&mut b, e);
            b.push(b"\n");
            print(b.as_bytes());
            return finish(&mut fail, b"/proc is not mounted, so no cgroup can be found");
        }
    };
    b.push(b"cgroups:    ").push_str(layout.kind()).push(b"\n");
    let mut missing: Buf<64> = Buf::new();
    for c in CTLS {
        b.push(b"  ").push_str(c.name());
        b.push(&b"        "[..8 - c.name().len()]);
        match layout.find(c) {
            Found::At(i) => {
                let h = &layout.hiers[i];
                b.push(if h.version == Version::V1 { b"v1  " } else { b"v2  " });
                b.push(h.own.as_bytes()).push(b"\n");
            }
            Found::NotMounted(i) => {
                b.push(b"v1, but no mount shows tinyctr's cgroup ")
                    .push(layout.hiers[i].cgroup_path.as_bytes())
                    .push(b"\n");
                missing.push(b" ").push_str(c.name());
            }
            Found::Absent => {
                b.push(b"-   no hierarchy has it\n");
                missing.push(b" ").push_str(c.name());
            }
        }
    }
    if let Some(u) = layout.unified_mounted() {
        b.push(b"  unified  v2  ").push(layout.hiers[u].own.as_bytes()).push(b"\n");
    }
    print(b.as_bytes());
    b.clear();

    // A real cgroup with every controller there is, a limit written for each.
    let limits = Limits {
        memory: Some(1 << 40),
        cpu_shares: Some(1024),
        cpus: Some(CpuQuota { quota: 64 * CPU_PERIOD_US, period: CPU_PERIOD_US }),
        pids: Some(4 * 1024 * 1024),
        ..Limits::default()
    };
    let me = rustix::process::getpid().as_raw_nonzero().get() as u32;
    b.push(b"cgroup test: ");
    match Cgroup::create_probe(&layout, &limits, me) {
        Ok(mut cg) => match cg.destroy() {
            Ok(()) => b.push(b"created, limited and removed a cgroup\n"),
            Err(e) => {
                b.push(e.msg.as_bytes()).push(b"\n");
                if fail.is_empty() {
                    fail.push(b"a test cgroup could not be removed");
                }
                &mut b
            }
        },
        Err(e) => {
            b.push(e.msg.as_bytes()).push(b"\n");
            if fail.is_empty() {
                fail.push(b"tinyctr cannot create cgroups here: ").push(e.msg.as_bytes());
            }
            &mut b
        }
    };
    print(b.as_bytes());
    if !missing.is_empty() && fail.is_empty() {
        fail.push(b"missing cgroup controllers:").push(missing.as_bytes());
    }
    finish(&mut fail, b"")
}

fn finish(fail: &mut Buf<600>, reason: &[u8]) -> u8 {
    if fail.is_empty() && reason.is_empty() {
        print(b"result:     tinyctr run with limits can work here\n");
        return 0;
    }
    if fail.is_empty() {
        fail.push(reason);
    }
    let mut b: Buf<700> = Buf::new();
    b.push(b"result:     run with limits cannot work here: ").push(fail.as_bytes()).push(b"\n");
    print(b.as_bytes());
    1
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
