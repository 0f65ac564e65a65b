//! `--ulimit NAME=SOFT[:HARD]`: resource limits for the container, docker's syntax
//! (`docker/go-units ParseUlimit`): no HARD means HARD = SOFT; `-1` or `unlimited` means
//! no limit; SOFT above HARD is refused; repeatable, the last value of a name wins. The
//! values go to setrlimit(2) as they are (no unit conversion, as in docker).
//!
//! Parsed into plain data here; the child sets them first thing in `confine::apply`,
//! while it still is root with every capability (raising a hard limit above tinyctr's
//! own needs CAP_SYS_RESOURCE).

use rustix::process::Resource;

/// Docker's names, in `Resource` (RLIMIT_*) order: the N-th word is resource N.
pub const NAMES: &str =
    "cpu fsize data stack core rss nproc nofile memlock as locks sigpending msgqueue nice rtprio rttime";

fn names() -> impl Iterator<Item = &'static [u8]> {
    NAMES.as_bytes().split(|&c| c == b' ')
}

/// The same resources as rustix spells them, in the same order.
const RESOURCES: [Resource; 16] = {
    use Resource::*;
    [Cpu, Fsize, Data, Stack, Core, Rss, Nproc, Nofile, Memlock, As, Locks, Sigpending, Msgqueue, Nice, Rtprio, Rttime]
};

/// The error for an unknown name; the list of names follows it in the message.
pub const UNKNOWN: &str = "has an unknown limit name (";

/// RLIM_INFINITY.
pub const UNLIMITED: u64 = u64::MAX;

/// The limits asked for: bit N of `set` says resource N has (soft, hard).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Rlimits {
    pub set: u16,
    pub soft: [u64; 16],
    pub hard: [u64; 16],
}

impl Rlimits {
    /// Parses one `--ulimit` value; on error, why (the caller appends [`NAMES`] and `)`
    /// to [`UNKNOWN`]).
    pub fn add(&mut self, value: &[u8]) -> core::result::Result<(), &'static str> {
        let eq = value.iter().position(|&c| c == b'=').ok_or("is not NAME=SOFT[:HARD] (e.g. nofile=1024:2048)")?;
        let (name, limits) = (&value[..eq], &value[eq + 1..]);
        let i = names().position(|n| n == name).ok_or(UNKNOWN)?;
        let (soft, hard) = match limits.iter().position(|&c| c == b':') {
            Some(c) => (&limits[..c], &limits[c + 1..]),
            None => (limits, limits),
        };
        let number = "has a limit that is not a number, -1 or unlimited";
        let (soft, hard) = (parse_value(soft).ok_or(number)?, parse_value(hard).ok_or(number)?);
        if soft > hard {
            return Err("has a soft limit above the hard limit");
        }
        self.set |= 1 << i;
        self.soft[i] = soft;
        self.hard[i] = hard;
        Ok(())
    }

    /// Child side (allocation-free): sets every limit asked for, in resource order. On
    /// failure, the resource number and the errno.
    pub fn apply(&self) -> core::result::Result<(), (u8, rustix::io::Errno)> {
        self.each(rustix::process::setrlimit)
    }

    /// The same, from outside, for process `pid`: an OCI init in a user namespace of its
    /// own, whose setrlimit could not raise a hard limit (that takes CAP_SYS_RESOURCE in
    /// the host's namespace); its own [`Rlimits::apply`] then sets the same values.
    pub fn apply_to(&self, pid: i32) -> core::result::Result<(), (u8, rustix::io::Errno)> {
        let pid = rustix::process::Pid::from_raw(pid);
        self.each(|res, lim| rustix::process::prlimit(pid, res, lim).map(drop))
    }

    fn each(
        &self,
        mut set: impl FnMut(Resource, rustix::process::Rlimit) -> rustix::io::Result<()>,
    ) -> core::result::Result<(), (u8, rustix::io::Errno)> {
        for (i, res) in RESOURCES.iter().enumerate() {
            if self.set & (1 << i) == 0 {
                continue;
            }
            let v = |x: u64| if x == UNLIMITED { None } else { Some(x) };
            let lim = rustix::process::Rlimit { current: v(self.soft[i]), maximum: v(self.hard[i]) };
            set(*res, lim).map_err(|e| (i as u8, e))?;
        }
        Ok(())
    }
}

/// Docker's name of resource `i`.
pub fn name(i: u8) -> &'static [u8] {
    names().nth(i as usize).unwrap_or(b"?")
}

/// A decimal limit, or `-1` / `unlimited` for none.
fn parse_value(s: &[u8]) -> Option<u64> {
    if s == b"-1" || s == b"unlimited" {
        return Some(UNLIMITED);
    }
    crate::limits::parse_uint(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(values: &[&str]) -> Rlimits {
        let mut r = Rlimits::default();
        for v in values {
            r.add(v.as_bytes()).unwrap_or_else(|e| panic!("{v}: {e}"));
        }
        r
    }

    /// The whole line, as `--ulimit` reports it.
    fn err(v: &str) -> String {
        let mut a = crate::confine::Asked::default();
        let c = std::ffi::CString::new(v).unwrap();
        let Err(e) = a.set(crate::confine::Key::Ulimit, b"--ulimit", &c) else { panic!("{v} accepted") };
        assert_eq!(e.status, 125);
        String::from_utf8_lossy(e.line().as_bytes()).into_owned()
    }

    #[test]
    fn names_match_the_kernel_numbers() {
        assert_eq!(names().count(), RESOURCES.len());
        for (i, r) in RESOURCES.iter().enumerate() {
            assert_eq!(*r as usize, i, "{:?}", r);
        }
        assert_eq!(Resource::Nofile as u32, linux_raw_sys::general::RLIMIT_NOFILE);
        assert_eq!(name(7), b"nofile");
    }

    #[test]
    fn dockers_syntax() {
        let r = parsed(&["nofile=1024:2048", "core=0", "stack=unlimited", "memlock=-1:-1", "cpu=5:-1"]);
        assert_eq!(r.set, 1 << 7 | 1 << 4 | 1 << 3 | 1 << 8 | 1);
        assert_eq!((r.soft[7], r.hard[7]), (1024, 2048));
        assert_eq!((r.soft[4], r.hard[4]), (0, 0));
        assert_eq!((r.soft[3], r.hard[3]), (UNLIMITED, UNLIMITED));
        assert_eq!((r.soft[8], r.hard[8]), (UNLIMITED, UNLIMITED));
        assert_eq!((r.soft[0], r.hard[0]), (5, UNLIMITED));
        // The last value of a name wins.
        let r = parsed(&["nofile=10", "nofile=20:30"]);
        assert_eq!((r.set, r.soft[7], r.hard[7]), (1 << 7, 20, 30));
        let all: Vec<String> = NAMES.split(' ').map(|n| format!("{n}=1")).collect();
        assert_eq!(parsed(&all.iter().map(String::as_str).collect::<Vec<_>>()).set, 0xffff);
    }

    #[test]
    fn bad_values_name_themselves() {
        assert_eq!(err("nofile"), "tinyctr: --ulimit: 'nofile' is not NAME=SOFT[:HARD] (e.g. nofile=1024:2048)\n");
        assert_eq!(err("files=10"), format!("tinyctr: --ulimit: 'files=10' has an unknown limit name ({NAMES})\n"));
        assert!(err("NOFILE=10").contains("unknown limit name"));
        for v in ["nofile=", "nofile=x", "nofile=1:", "nofile=1:2:3", "nofile=-2", "nofile=1k", "nofile=:5"] {
            assert_eq!(
                err(v),
                format!("tinyctr: --ulimit: '{v}' has a limit that is not a number, -1 or unlimited\n"),
                "{v}"
            );
        }
        assert_eq!(err("nofile=20:10"), "tinyctr: --ulimit: 'nofile=20:10' has a soft limit above the hard limit\n");
        assert!(err("core=-1:0").contains("soft limit above"));
    }
}
