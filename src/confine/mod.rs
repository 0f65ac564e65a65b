//! Default confinement, docker's: what a container may do once it runs. The user's
//! options ([`Asked`], filled by the CLI) become one plain-data description ([`Confine`])
//! in the parent before clone — capabilities, no_new_privs, uid/gid and supplementary
//! groups, resource limits, whether the seccomp filter and the masked paths apply — and
//! the child applies it ([`apply`]) after its mounts and workdir, just before execve.
//!
//! The child's order is runc's: rlimits (while still root with every capability), the
//! bounding-set drops (while CAP_SETPCAP is held), PR_SET_KEEPCAPS, setgroups, setresgid,
//! setresuid, capset (effective = permitted = the set, inheritable empty), ambient
//! cleared, no_new_privs when asked, and the seccomp filter last. The kernel loads a
//! filter only for a caller with CAP_SYS_ADMIN or no_new_privs; when the container has
//! neither (the default), the filter goes in just before the capset that gives up
//! CAP_SYS_ADMIN, so all that runs under it before execve is that capset, the ambient
//! clear and the signal reset — calls docker's profile allows (runc and crun load it
//! before their whole user and capability switch in that case).

pub mod caps;
pub mod rlimit;
pub mod seccomp;
pub mod user;

use core::ffi::CStr;

use rustix::io::Errno;
use rustix::thread::{CapabilitySet, CapabilitySets};

use crate::buf::Buf;
use crate::error::{Error, Result};
use crate::fault::{check, Point};
use seccomp::SockFilter;
use user::Ids;

/// What the options asked for (the CLI fills it; nothing here touches the kernel).
#[derive(Clone, Copy, Default, Debug)]
pub struct Asked<'a> {
    pub caps: caps::Tweaks,
    /// `--privileged`: every capability tinyctr holds, no seccomp, no masks.
    pub privileged: bool,
    pub no_new_privs: bool,
    /// `--security-opt seccomp=unconfined`.
    pub unconfined: bool,
    /// `-u, --user`, syntax checked.
    pub user: Option<&'a CStr>,
    /// How many `--group-add`s; their values are walked again by `cli::group_adds`.
    pub group_adds: usize,
    pub rlimits: rlimit::Rlimits,
}

/// The options of `run` this module parses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Key {
    CapAdd,
    CapDrop,
    Privileged,
    SecurityOpt,
    User,
    GroupAdd,
    Ulimit,
}

impl Key {
    pub fn takes_value(self) -> bool {
        self != Key::Privileged
    }
}

impl<'a> Asked<'a> {
    /// Parses one option; `opt` is the option as typed, for the message (status 125).
    /// Out of line, as `plan` and `describe`: 400 bytes smaller that way.
    #[inline(never)]
    pub fn set(&mut self, key: Key, opt: &[u8], value: &'a CStr) -> Result<()> {
        let v = value.to_bytes();
        let why = match key {
            Key::CapAdd | Key::CapDrop => self.caps.set(key == Key::CapAdd, v),
            Key::Ulimit => self.rlimits.add(v),
            Key::Privileged => {
                self.privileged = true;
                Ok(())
            }
            Key::SecurityOpt => self.security_opt(v),
            Key::User => user::check(v, true).map(|()| self.user = Some(value)),
            Key::GroupAdd if self.group_adds == user::MAX_GROUPS => Err("is one group too many (64 at most)"),
            Key::GroupAdd => user::check(v, false).map(|()| self.group_adds += 1),
        };
        why.map_err(|why| {
            let mut e = crate::limits::bad_value(opt, v, why);
            if why == rlimit::UNKNOWN {
                e.msg.push(rlimit::NAMES.as_bytes()).push(b")");
            }
            e
        })
    }

    /// Docker's `--security-opt` values that mean something here (`KEY=VALUE`, or the
    /// older `KEY:VALUE`).
    fn security_opt(&mut self, v: &[u8]) -> core::result::Result<(), &'static str> {
        const KNOWN: [&[u8]; 7] = [
            b"no-new-privileges",
            b"no-new-privileges=true",
            b"no-new-privileges:true",
            b"no-new-privileges=false",
            b"no-new-privileges:false",
            b"seccomp=unconfined",
            b"seccomp:unconfined",
        ];
        match KNOWN.iter().position(|k| *k == v) {
            Some(i @ 0..=4) => self.no_new_privs = i < 3,
            Some(_) => self.unconfined = true,
            None if v.starts_with(b"no-new-privileges") => return Err("is not no-new-privileges[=true|false]"),
            None if v.starts_with(b"seccomp") => return Err("is not supported: only seccomp=unconfined is, for now"),
            None => return Err("is not supported (known: no-new-privileges, seccomp=unconfined)"),
        }
        Ok(())
    }
}

/// Everything the child needs to confine itself: plain data, built before clone.
#[derive(Clone, Copy, Debug)]
pub struct Confine {
    /// Bounding = permitted = effective; inheritable and ambient are emptied.
    pub caps: u64,
    pub no_new_privs: bool,
    /// Whether the default seccomp filter applies (the program itself is built apart).
    pub seccomp: bool,
    /// Whether the masked and read-only paths apply.
    pub masks: bool,
    pub ids: Ids,
    /// The id switch changes tinyctr's own euid or egid, which makes the kernel forget
    /// PR_SET_PDEATHSIG: the child must arm it again.
    pub rearm: bool,
    pub rlimits: rlimit::Rlimits,
}

/// Parent side, before clone: the description for `asked`. Reads the container's
/// passwd and group files only for `-u` and named `--group-add`s, the bounding set only
/// when the options name capabilities. With a user, writes `HOME=...` into `home` (at
/// least [`user::HOME_ROOM`] bytes) and returns its length too.
#[inline(never)]
pub fn plan<'a>(
    asked: &Asked<'a>,
    root: Option<&CStr>,
    adds: &mut dyn FnMut(&mut [&'a CStr]) -> usize,
    home: &mut [u8],
) -> Result<(Confine, usize)> {
    // What tinyctr can give: its permitted set, and (read one capability at a time) its
    // bounding set when the options name capabilities. The default set meets the
    // bounding set in the child's drops anyway; cutting it to what tinyctr holds (say,
    // inside a container that dropped some) keeps the child's capset from failing.
    let all = caps::held(asked.privileged || !asked.caps.is_empty());
    let want = if asked.privileged { all } else { asked.caps.apply(all) };
    // A capability asked for by name that tinyctr cannot give is an error, not a silent
    // omission (this host's bounding set lacks CAP_SYS_RESOURCE, for one).
    let missing = if asked.privileged { 0 } else { asked.caps.add & !all };
    if missing != 0 {
        let mut e = Error::usage(b"--cap-add: ");
        caps::push_names(&mut e.msg, missing);
        e.msg.push(b": tinyctr itself does not hold it (see tinyctr check)");
        return Err(e);
    }
    let caps = want & all;
    let mut conf = Confine {
        caps,
        no_new_privs: asked.no_new_privs,
        seccomp: !asked.privileged && !asked.unconfined,
        masks: !asked.privileged,
        ids: Ids::ROOT,
        rearm: false,
        rlimits: asked.rlimits,
    };
    let mut home_len = 0;
    if asked.user.is_some() || asked.group_adds > 0 {
        let mut values: [&'a CStr; user::MAX_GROUPS] = [c""; user::MAX_GROUPS];
        let n = adds(&mut values);
        (conf.ids, home_len) = user::resolve(user::Root(root), asked.user, &values[..n], home)?;
    }
    // Also without -u: tinyctr may run with another egid (`sudo -g`), which the switch to
    // gid 0 changes.
    conf.rearm =
        conf.ids.uid != rustix::process::geteuid().as_raw() || conf.ids.gid != rustix::process::getegid().as_raw();
    if conf.seccomp && !seccomp::available() {
        return Err(Error::usage(NO_SECCOMP));
    }
    Ok((conf, home_len))
}

/// Why a kernel refuses the default filter, and what to do.
pub const NO_SECCOMP: &[u8] =
    b"this kernel cannot load seccomp filters (no CONFIG_SECCOMP_FILTER); run with --security-opt seccomp=unconfined to go without one";

/// Failure steps of [`apply`] (after the rootfs steps, which end before 176).
pub mod step {
    /// + resource number.
    pub const RLIMIT: u8 = 176;
    pub const BOUNDING: u8 = 192;
    pub const KEEPCAPS: u8 = 193;
    pub const GROUPS: u8 = 194;
    pub const GID: u8 = 195;
    pub const UID: u8 = 196;
    pub const PDEATH: u8 = 197;
    pub const CAPSET: u8 = 198;
    pub const AMBIENT: u8 = 199;
    pub const NO_NEW_PRIVS: u8 = 200;
    pub const SECCOMP: u8 = 201;
}

/// Child side, allocation-free: confines the calling process as `c` says, loading
/// `filter` (if not empty) last. On failure, the step and the errno.
pub fn apply(c: &Confine, filter: &[SockFilter]) -> core::result::Result<(), (u8, Errno)> {
    let at = |s: u8| move |e: Errno| (s, e);
    check(Point::ChildConfine).map_err(at(step::RLIMIT))?;
    c.rlimits.apply().map_err(|(i, e)| (step::RLIMIT + i, e))?;
    drop_bounding(c.caps).map_err(at(step::BOUNDING))?;
    let ids = &c.ids;
    if ids.uid != 0 {
        // Without it, leaving uid 0 empties the permitted set before capset can trim it.
        rustix::thread::set_keep_capabilities(true).map_err(at(step::KEEPCAPS))?;
    }
    // Always, even when empty: tinyctr's own supplementary groups must not leak in.
    rustix::thread::set_thread_groups(ids.groups()).map_err(at(step::GROUPS))?;
    let gid = rustix::process::Gid::from_raw(ids.gid);
    rustix::thread::set_thread_res_gid(gid, gid, gid).map_err(at(step::GID))?;
    let uid = rustix::process::Uid::from_raw(ids.uid);
    rustix::thread::set_thread_res_uid(uid, uid, uid).map_err(at(step::UID))?;
    if c.rearm {
        // A new euid or egid clears the parent-death signal (kernel/cred.c commit_creds).
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
            .map_err(at(step::PDEATH))?;
    }
    let sets = |caps: u64| CapabilitySets {
        effective: CapabilitySet::from_bits_retain(caps),
        permitted: CapabilitySet::from_bits_retain(caps),
        inheritable: CapabilitySet::empty(),
    };
    let capset = |caps: u64| rustix::thread::set_capabilities(None, sets(caps)).map_err(at(step::CAPSET));
    let admin = 1u64 << caps::SYS_ADMIN;
    let early = !filter.is_empty() && !c.no_new_privs && c.caps & admin == 0;
    if early {
        if ids.uid != 0 {
            // The switch away from uid 0 emptied the effective set: CAP_SYS_ADMIN back
            // for the load, with what will stay.
            capset(c.caps | admin)?;
        }
        seccomp::install(filter).map_err(at(step::SECCOMP))?;
    }
    capset(c.caps)?;
    // capset with an empty inheritable set already empties the ambient one (the kernel
    // keeps ambient within permitted and inheritable); clearing it says so outright.
    rustix::thread::clear_ambient_capability_set().map_err(at(step::AMBIENT))?;
    if c.no_new_privs {
        rustix::thread::set_no_new_privs(true).map_err(at(step::NO_NEW_PRIVS))?;
    }
    if !early && !filter.is_empty() {
        seccomp::install(filter).map_err(at(step::SECCOMP))?;
    }
    Ok(())
}

/// Drops every capability outside `keep` from the bounding set, up to the last one the
/// kernel knows (PR_CAPBSET_DROP answers EINVAL past it).
fn drop_bounding(keep: u64) -> core::result::Result<(), Errno> {
    for n in 0..64 {
        if keep & (1 << n) != 0 {
            continue;
        }
        match rustix::thread::remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(1 << n)) {
            Ok(()) => {}
            Err(Errno::INVAL) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What each fixed step of [`apply`] does, from `step::BOUNDING` on.
static OPS: [&str; 10] = [
    "drop capabilities from the bounding set",
    "keep capabilities across the user switch",
    "set the supplementary groups",
    "switch to group",
    "switch to user",
    "arm the parent-death signal",
    "set the capabilities",
    "clear the ambient capabilities",
    "set no_new_privs",
    "load the seccomp filter",
];

/// Parent side: the one-line error for a failed step of [`apply`], `None` for a step
/// that is not one of them.
#[inline(never)]
pub fn describe(s: u8, errno: Errno, c: &Confine) -> Option<Error> {
    if (step::RLIMIT..step::BOUNDING).contains(&s) {
        let e = Error::sys("set the resource limit", rlimit::name(s - step::RLIMIT), errno);
        return Some(match errno {
            Errno::PERM => e.hint(b"raising a hard limit above tinyctr's own needs CAP_SYS_RESOURCE"),
            _ => e,
        });
    }
    let op = OPS.get(s.wrapping_sub(step::BOUNDING) as usize)?;
    let mut n: Buf<24> = Buf::new();
    match s {
        step::GID => n.push_u64(c.ids.gid as u64),
        step::UID => n.push_u64(c.ids.uid as u64),
        _ => &mut n,
    };
    let e = Error::sys(op, n.as_bytes(), errno);
    Some(match (s, errno) {
        (step::SECCOMP, Errno::INVAL | Errno::NOSYS) => e.hint(NO_SECCOMP),
        _ => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(opts: &[(Key, &str)]) -> core::result::Result<Asked<'static>, String> {
        let mut a = Asked::default();
        for (k, v) in opts {
            let v: &'static CStr = Box::leak(std::ffi::CString::new(*v).unwrap().into_boxed_c_str());
            a.set(*k, b"--opt", v).map_err(|e| String::from_utf8_lossy(e.line().as_bytes()).into_owned())?;
        }
        Ok(a)
    }

    #[test]
    fn security_opts() {
        let a = asked(&[(Key::SecurityOpt, "no-new-privileges")]).unwrap();
        assert!(a.no_new_privs && !a.unconfined);
        for v in ["no-new-privileges=true", "no-new-privileges:true"] {
            assert!(asked(&[(Key::SecurityOpt, v)]).unwrap().no_new_privs, "{v}");
        }
        let a = asked(&[(Key::SecurityOpt, "no-new-privileges"), (Key::SecurityOpt, "no-new-privileges=false")]);
        assert!(!a.unwrap().no_new_privs);
        for v in ["seccomp=unconfined", "seccomp:unconfined"] {
            assert!(asked(&[(Key::SecurityOpt, v)]).unwrap().unconfined, "{v}");
        }
        assert_eq!(
            asked(&[(Key::SecurityOpt, "seccomp=/etc/profile.json")]).unwrap_err(),
            "tinyctr: --opt: 'seccomp=/etc/profile.json' is not supported: only seccomp=unconfined is, for now\n"
        );
        assert_eq!(
            asked(&[(Key::SecurityOpt, "apparmor=unconfined")]).unwrap_err(),
            "tinyctr: --opt: 'apparmor=unconfined' is not supported (known: no-new-privileges, seccomp=unconfined)\n"
        );
        assert_eq!(
            asked(&[(Key::SecurityOpt, "no-new-privileges=yes")]).unwrap_err(),
            "tinyctr: --opt: 'no-new-privileges=yes' is not no-new-privileges[=true|false]\n"
        );
        assert!(asked(&[(Key::SecurityOpt, "")]).unwrap_err().contains("'' is not supported"));
    }

    #[test]
    fn users_and_groups_are_checked_for_syntax() {
        for v in ["1000", "bob", "bob:staff", "1000:1000", "0:0", "www-data", "2147483647"] {
            assert!(asked(&[(Key::User, v)]).is_ok(), "{v}");
        }
        for (v, why) in [
            ("", "is not NAME|UID[:GROUP|GID]"),
            (":1000", "is not NAME|UID[:GROUP|GID]"),
            ("1000:", "is not NAME|UID[:GROUP|GID]"),
            ("a:b:c", "is not NAME|UID[:GROUP|GID]"),
            ("2147483648", "has an id above 2147483647"),
            ("0:99999999999", "has an id above 2147483647"),
        ] {
            assert_eq!(asked(&[(Key::User, v)]).unwrap_err(), format!("tinyctr: --opt: '{v}' {why}\n"));
        }
        assert_eq!(asked(&[(Key::GroupAdd, "audio"), (Key::GroupAdd, "10")]).unwrap().group_adds, 2);
        assert!(asked(&[(Key::GroupAdd, "")]).unwrap_err().contains("is not a group name or GID"));
        assert!(asked(&[(Key::GroupAdd, "a:b")]).unwrap_err().contains("is not a group name or GID"));
        let many: Vec<(Key, &str)> = (0..65).map(|_| (Key::GroupAdd, "7")).collect();
        assert!(asked(&many).unwrap_err().contains("one group too many (64 at most)"));
    }

    #[test]
    fn every_step_is_described() {
        let c = Confine {
            caps: 0,
            no_new_privs: false,
            seccomp: false,
            masks: false,
            ids: Ids { uid: 1000, gid: 50, ..Ids::ROOT },
            rearm: false,
            rlimits: Default::default(),
        };
        for s in step::RLIMIT..=step::SECCOMP {
            let e = describe(s, Errno::PERM, &c).unwrap_or_else(|| panic!("step {s}"));
            assert!(e.line().as_bytes().ends_with(b"\n"));
        }
        assert!(describe(step::RLIMIT - 1, Errno::PERM, &c).is_none());
        assert!(describe(step::SECCOMP + 1, Errno::PERM, &c).is_none());
        let line = |s| String::from_utf8_lossy(describe(s, Errno::PERM, &c).unwrap().line().as_bytes()).into_owned();
        assert_eq!(line(step::UID), "tinyctr: switch to user \"1000\": EPERM (Operation not permitted)\n");
        assert_eq!(line(step::GID), "tinyctr: switch to group \"50\": EPERM (Operation not permitted)\n");
        assert_eq!(
            line(step::RLIMIT + 7),
            "tinyctr: set the resource limit \"nofile\": EPERM (Operation not permitted); raising a hard limit above tinyctr's own needs CAP_SYS_RESOURCE\n"
        );
    }
}
