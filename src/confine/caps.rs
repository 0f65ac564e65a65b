//! Capabilities as masks (bit N = capability N): their names, docker's default set, and
//! docker's `--cap-add` / `--cap-drop` algorithm. Plain data and parsing only; the parent
//! asks the kernel what tinyctr itself holds ([`held`]) and the child applies the result
//! (`confine::apply`).

/// The capability names without `CAP_`, in number order (capabilities(7); 0 is CHOWN, 40
/// CHECKPOINT_RESTORE, the last one Linux 6.x defines). One string rather than an array
/// of `&str`: 41 slices would cost 656 bytes of pointers for 380 bytes of text.
const NAMES: &str = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP \
LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO \
SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD \
LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ \
PERFMON BPF CHECKPOINT_RESTORE";

/// How many capabilities tinyctr knows by name.
pub const COUNT: u32 = 41;

pub const SYS_ADMIN: u32 = 21;

/// Docker's default set (moby `daemon/pkg/oci/caps/defaults.go`, containerd's too):
/// CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP,
/// NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE — the `CapBnd:` a docker container shows.
pub const DEFAULT: u64 = 0x0000_0000_a804_25fb;

fn names() -> impl Iterator<Item = &'static [u8]> {
    NAMES.as_bytes().split(|&c| c == b' ')
}

/// The name of capability `n` (without `CAP_`), if tinyctr knows it.
pub fn name(n: u32) -> Option<&'static [u8]> {
    names().nth(n as usize)
}

/// `s` equals `upper` (an upper-case name) in any case.
fn eq_upper(s: &[u8], upper: &[u8]) -> bool {
    s.len() == upper.len() && s.iter().zip(upper).all(|(a, b)| a.to_ascii_uppercase() == *b)
}

/// What a `--cap-add` / `--cap-drop` value names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cap {
    One(u32),
    All,
}

/// Parses a capability the way docker normalises it: any case, `CAP_` optional, or `ALL`.
pub fn parse(s: &[u8]) -> Option<Cap> {
    let bare = match s.get(..4) {
        Some(p) if eq_upper(p, b"CAP_") => &s[4..],
        _ => s,
    };
    if eq_upper(bare, b"ALL") {
        return Some(Cap::All);
    }
    names().position(|n| eq_upper(bare, n)).map(|i| Cap::One(i as u32))
}

/// What the options asked for, before the host's set is known.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Tweaks {
    pub add: u64,
    pub drop: u64,
    pub add_all: bool,
    pub drop_all: bool,
}

impl Tweaks {
    /// Records one `--cap-add` (`add`) or `--cap-drop` value.
    #[inline(never)]
    pub fn set(&mut self, add: bool, value: &[u8]) -> core::result::Result<(), &'static str> {
        let cap = parse(value).ok_or("is not a capability (e.g. NET_ADMIN, cap_sys_time, ALL; see capabilities(7))")?;
        match (add, cap) {
            (true, Cap::All) => self.add_all = true,
            (false, Cap::All) => self.drop_all = true,
            (true, Cap::One(n)) => self.add |= 1 << n,
            (false, Cap::One(n)) => self.drop |= 1 << n,
        }
        Ok(())
    }

    /// True when no option touched the set: the container gets the default.
    pub fn is_empty(&self) -> bool {
        *self == Tweaks::default()
    }

    /// Docker's `TweakCapabilities` with `all` the set tinyctr can give: `--cap-add ALL`
    /// gives all but the `--cap-drop`s (even with `--cap-drop ALL`); else `--cap-drop ALL`
    /// gives exactly the `--cap-add`s; else the default minus the drops plus the adds.
    #[inline(never)]
    pub fn apply(&self, all: u64) -> u64 {
        if self.add_all {
            all & !self.drop
        } else if self.drop_all {
            self.add
        } else {
            (DEFAULT & !self.drop) | self.add
        }
    }
}

/// The capabilities tinyctr can hand on: its permitted set, and with `bounding` also
/// limited to its bounding set (a capability outside it cannot survive the container's
/// execve). The bounding set is read one capability at a time, so only when an
/// explicit request needs it; the default set meets it in the child's drops anyway.
pub fn held(bounding: bool) -> u64 {
    let permitted = match rustix::thread::capabilities(None) {
        Ok(sets) => sets.permitted.bits(),
        Err(_) => 0,
    };
    if !bounding {
        return permitted;
    }
    permitted & bounding_set()
}

/// This process's bounding set, one `PR_CAPBSET_READ` per capability up to the last one
/// the kernel knows (it answers EINVAL past it).
pub fn bounding_set() -> u64 {
    use rustix::thread::{capability_is_in_bounding_set, CapabilitySet};
    let mut set = 0;
    for n in 0..64 {
        match capability_is_in_bounding_set(CapabilitySet::from_bits_retain(1 << n)) {
            Ok(true) => set |= 1 << n,
            Ok(false) => {}
            Err(_) => break,
        }
    }
    set
}

/// The names of the capabilities in `set`, for messages (`CAP_CHOWN, CAP_SYS_RESOURCE`).
pub fn push_names(b: &mut crate::buf::Buf<640>, set: u64) {
    let mut first = true;
    for n in 0..64 {
        if set & (1 << n) == 0 {
            continue;
        }
        if !first {
            b.push(b", ");
        }
        first = false;
        match name(n) {
            Some(s) => b.push(b"CAP_").push(s),
            None => b.push(b"capability ").push_u64(n as u64),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_numbered_as_the_kernel_does() {
        assert_eq!(names().count(), COUNT as usize);
        for (n, want) in
            [(0, "CHOWN"), (21, "SYS_ADMIN"), (24, "SYS_RESOURCE"), (37, "AUDIT_READ"), (40, "CHECKPOINT_RESTORE")]
        {
            assert_eq!(name(n), Some(want.as_bytes()));
        }
        assert_eq!(name(41), None);
        use linux_raw_sys::general as g;
        for (n, c) in [(g::CAP_BPF, "BPF"), (g::CAP_MKNOD, "MKNOD"), (g::CAP_SYSLOG, "SYSLOG"), (g::CAP_LEASE, "LEASE")]
        {
            assert_eq!(name(n), Some(c.as_bytes()));
        }
        assert_eq!(SYS_ADMIN, g::CAP_SYS_ADMIN);
    }

    #[test]
    fn the_default_is_dockers_fourteen() {
        let names = [
            "CHOWN",
            "DAC_OVERRIDE",
            "FSETID",
            "FOWNER",
            "MKNOD",
            "NET_RAW",
            "SETGID",
            "SETUID",
            "SETFCAP",
            "SETPCAP",
            "NET_BIND_SERVICE",
            "SYS_CHROOT",
            "KILL",
            "AUDIT_WRITE",
        ];
        let mask = names.iter().map(|n| match parse(n.as_bytes()) {
            Some(Cap::One(i)) => 1u64 << i,
            _ => panic!("{n}"),
        });
        assert_eq!(mask.fold(0, |a, b| a | b), DEFAULT);
    }

    #[test]
    fn parsing_is_dockers() {
        for s in ["net_admin", "NET_ADMIN", "cap_net_admin", "CAP_NET_ADMIN", "Cap_Net_Admin"] {
            assert_eq!(parse(s.as_bytes()), Some(Cap::One(12)), "{s}");
        }
        for s in ["all", "ALL", "cap_all"] {
            assert_eq!(parse(s.as_bytes()), Some(Cap::All), "{s}");
        }
        for s in ["", "CAP_", "NET", "net_admin ", "CAP_CAP_CHOWN", "12", "SYS_ADMIN,CHOWN"] {
            assert_eq!(parse(s.as_bytes()), None, "{s:?}");
        }
    }

    fn tweaks(adds: &[&str], drops: &[&str]) -> Tweaks {
        let mut t = Tweaks::default();
        for a in adds {
            assert!(t.set(true, a.as_bytes()).is_ok());
        }
        for d in drops {
            assert!(t.set(false, d.as_bytes()).is_ok());
        }
        t
    }

    #[test]
    fn add_and_drop_follow_docker() {
        let all = 0x1ff_feff_ffff;
        assert!(tweaks(&[], &[]).is_empty());
        assert_eq!(tweaks(&[], &[]).apply(all), DEFAULT);
        assert_eq!(tweaks(&["SYS_ADMIN"], &[]).apply(all), DEFAULT | 1 << 21);
        assert_eq!(tweaks(&[], &["chown", "KILL"]).apply(all), DEFAULT & !(1 | 1 << 5));
        assert_eq!(tweaks(&[], &["ALL"]).apply(all), 0);
        assert_eq!(tweaks(&["NET_ADMIN", "chown"], &["all"]).apply(all), 1 << 12 | 1);
        assert_eq!(tweaks(&["ALL"], &["SYS_ADMIN"]).apply(all), all & !(1 << 21));
        // --cap-add ALL wins over --cap-drop ALL, as in moby.
        assert_eq!(tweaks(&["ALL"], &["ALL"]).apply(all), all);
        // A cap both added and dropped (without ALL) ends up added: adds come last.
        assert_eq!(tweaks(&["CHOWN"], &["CHOWN"]).apply(all), DEFAULT);
    }

    #[test]
    fn an_unknown_name_is_refused() {
        let mut t = Tweaks::default();
        assert_eq!(
            t.set(true, b"CAP_FLY"),
            Err("is not a capability (e.g. NET_ADMIN, cap_sys_time, ALL; see capabilities(7))")
        );
        assert!(t.is_empty());
    }

    #[test]
    fn names_for_messages() {
        let mut b = crate::buf::Buf::<640>::new();
        push_names(&mut b, 1 << 24 | 1 << 63 | 1);
        assert_eq!(b.as_bytes(), b"CAP_CHOWN, CAP_SYS_RESOURCE, capability 63");
    }
}
