//! `process.apparmorProfile` and `process.selinuxLabel`: the confinement of a Linux
//! security module a container (or an exec'd process) asks for.
//!
//! containerd's CRI plugin puts an AppArmor profile into every container's config.json
//! on a host where AppArmor is enabled (Debian's and Ubuntu's default), its own
//! `cri-containerd.apparmor.d` unless the pod names another; it loads that profile
//! itself. Applying one is a single write: `exec PROFILE` to the task's AppArmor `exec`
//! attribute, after which the kernel switches the process to that profile at its next
//! execve (the container's program). The init does it after the root switch, in the
//! container's fresh /proc, before the id switch and the seccomp filter; exec's child
//! after joining the container's namespaces. A profile that is not loaded fails there
//! (ENOENT): the container is never run without it.
//!
//! A profile on a host without AppArmor is refused before anything is made (runc fails
//! too, later), except `unconfined`, which every process there is. An SELinux label is
//! refused: tinyctr does not label processes or mounts (CRI sets one only with its
//! `enable_selinux`, off by default).

use core::ffi::CStr;

use rustix::io::Errno;

use super::config::Process;
use crate::buf::Buf;
use crate::error::{push_shown, Error, Result};

/// What the process's `exec` attribute is set to: `exec PROFILE`.
pub type Transition = Buf<512>;

/// Parent side: refuses what cannot be honoured; the transition for the child when a
/// profile is to be applied. `at` names the process object in errors.
pub fn check(p: &Process<'_>, at: &str, out: &mut Transition) -> Result<bool> {
    let bad = |field: &[u8], value: &CStr, why: &[u8]| {
        let mut e = Error::usage(at.as_bytes());
        e.msg.push(field).push(b" \"");
        push_shown(&mut e.msg, value.to_bytes());
        e.msg.push(b"\": ").push(why);
        e
    };
    let label = p.selinux_label.get();
    if !label.is_empty() {
        return Err(bad(b"selinuxLabel", label, b"SELinux labels are not supported (leave it out)"));
    }
    let profile = p.apparmor_profile.get();
    if profile.is_empty() {
        return Ok(false);
    }
    if !enabled() {
        if profile == c"unconfined" {
            return Ok(false);
        }
        return Err(bad(
            b"apparmorProfile",
            profile,
            b"AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)",
        ));
    }
    out.clear();
    out.push(b"exec ").push(profile.to_bytes());
    if out.overflowed() {
        return Err(bad(b"apparmorProfile", profile, b"is too long"));
    }
    Ok(true)
}

/// Whether the kernel runs AppArmor (its module parameter says Y).
pub fn enabled() -> bool {
    let mut b = [0u8; 8];
    let fd = rustix::fs::open(
        c"/sys/module/apparmor/parameters/enabled",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    );
    fd.is_ok_and(|fd| rustix::io::read(&fd, &mut b).is_ok_and(|n| n > 0 && b[0] == b'Y'))
}

/// Child side: sets the transition (`check`'s) for the next execve. The AppArmor
/// directory of the attributes first (5.1 and later, right with other LSMs stacked),
/// else the shared one.
pub fn set_exec(transition: &[u8]) -> core::result::Result<(), Errno> {
    use rustix::fs::{Mode, OFlags};
    let open = |p: &CStr| rustix::fs::open(p, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty());
    let fd = match open(c"/proc/thread-self/attr/apparmor/exec") {
        Err(Errno::NOENT) => open(c"/proc/thread-self/attr/exec")?,
        r => r?,
    };
    match rustix::io::write(&fd, transition)? {
        n if n == transition.len() => Ok(()),
        _ => Err(Errno::IO),
    }
}
