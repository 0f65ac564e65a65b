//! The cgroup limits a user asked for, as plain data, and the parsing of each option's
//! value (sizes, CPU fractions, CPU lists, names). No kernel access here: a bad value is
//! refused before anything is created, quoting the option as typed and the value.

use crate::buf::Text;
use crate::error::{Error, Result};
use core::ffi::CStr;

/// The CFS period tinyctr uses for `--cpus`, in µs (docker's and the kernel's default).
pub const CPU_PERIOD_US: u64 = 100_000;
/// The kernel refuses a CFS quota below 1 ms.
const MIN_QUOTA_US: u64 = 1_000;
/// The largest `--cpus` accepted (quota stays far below the kernel's 2^44 µs cap).
const MAX_CPUS: u64 = 100_000;
/// v1 `cpu.shares` clamps to this range; docker accepts the same.
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;
/// `PID_MAX_LIMIT` on 64-bit kernels: `pids.max` refuses more.
const MAX_PIDS: u64 = 4 * 1024 * 1024;
/// Highest CPU number accepted in a list (the kernel's NR_CPUS maximum is 8192).
const MAX_CPU: u64 = 8191;
/// Longest `--name` (the directory is `tinyctr-NAME`).
pub const MAX_NAME: usize = 64;
/// Longest `--cgroup-parent`.
pub const MAX_PARENT: usize = 255;

/// `--memory-swap`: docker's meaning, memory plus swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swap {
    /// `-1`: no limit on swap.
    Unlimited,
    /// Memory plus swap, in bytes (at least `--memory`).
    Total(u64),
}

/// `--cpus` as a CFS quota per period, both in µs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuQuota {
    pub quota: u64,
    pub period: u64,
}

#[derive(Default, Clone, Copy, Debug)]
pub struct Limits<'a> {
    /// Bytes.
    pub memory: Option<u64>,
    pub memory_swap: Option<Swap>,
    pub cpu_shares: Option<u64>,
    pub cpus: Option<CpuQuota>,
    /// A validated CPU list such as `0-2,4`.
    pub cpuset_cpus: Option<&'a CStr>,
    pub pids: Option<u64>,
    /// Validated: `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most [`MAX_NAME`] bytes.
    pub name: Option<&'a CStr>,
    /// Validated: `/`-separated components, none `.` or `..`.
    pub cgroup_parent: Option<&'a CStr>,
    /// OCI `linux.cgroupsPath`: `name` is the cgroup's whole name (no `tinyctr-`
    /// prefix), below `cgroup_parent` from each hierarchy's root, and it is not locked
    /// or held by a name lock (the state directory holds the ID); it is made in every
    /// hierarchy, whether or not a limit is written there.
    pub exact: bool,
    /// docker's device list (crate::cgroup::devices::DOCKER): every `run` container
    /// but a `--privileged` one.
    pub devices: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKey {
    Memory,
    MemorySwap,
    CpuShares,
    Cpus,
    CpusetCpus,
    PidsLimit,
    Name,
    CgroupParent,
}

impl<'a> Limits<'a> {
    /// An OCI cgroupsPath, made in every hierarchy (`exact`; only the OCI build has it).
    pub fn in_every_hierarchy(&self) -> bool {
        cfg!(feature = "oci") && self.exact
    }

    /// Parses and stores one option value; `opt` is the option as the user typed it, for
    /// the message: `tinyctr: --memory: '64x' is not a size (try 64m)`, status 125.
    pub fn set(&mut self, key: LimitKey, opt: &[u8], value: &'a CStr) -> Result<()> {
        let v = value.to_bytes();
        let bad = |why: &str| Err(bad_value(opt, v, why));
        match key {
            LimitKey::Memory => match parse_size(v) {
                Ok(n) => self.memory = Some(n),
                Err(why) => return bad(why),
            },
            LimitKey::MemorySwap => match v {
                b"-1" => self.memory_swap = Some(Swap::Unlimited),
                _ => match parse_size(v) {
                    Ok(n) => self.memory_swap = Some(Swap::Total(n)),
                    Err(why) => return bad(why),
                },
            },
            LimitKey::CpuShares => match parse_uint(v) {
                Some(n) if (MIN_SHARES..=MAX_SHARES).contains(&n) => self.cpu_shares = Some(n),
                _ => return bad("is not a CPU share between 2 and 262144 (1024 is the default weight)"),
            },
            LimitKey::Cpus => match parse_cpus(v) {
                Ok(quota) => self.cpus = Some(CpuQuota { quota, period: CPU_PERIOD_US }),
                Err(why) => return bad(why),
            },
            LimitKey::CpusetCpus => match check_cpu_list(v) {
                Ok(()) => self.cpuset_cpus = Some(value),
                Err(why) => return bad(why),
            },
            LimitKey::PidsLimit => match parse_uint(v) {
                Some(n) if (1..=MAX_PIDS).contains(&n) => self.pids = Some(n),
                _ => return bad("is not a number of processes between 1 and 4194304"),
            },
            LimitKey::Name => match check_name(v) {
                true => self.name = Some(value),
                false => return bad(
                    "is not a name: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 64",
                ),
            },
            LimitKey::CgroupParent => match check_parent(v) {
                true => self.cgroup_parent = Some(value),
                false => {
                    return bad("is not a cgroup path: use '/'-separated names, without '.' or '..', at most 255 bytes")
                }
            },
        }
        Ok(())
    }

    /// Cross-checks after every option was parsed.
    pub fn validate(&self) -> Result<()> {
        match (self.memory, self.memory_swap) {
            (None, Some(_)) => Err(Error::usage(b"--memory-swap needs --memory: it is the limit of memory plus swap")),
            (Some(mem), Some(Swap::Total(total))) if total < mem => {
                let mut e = Error::usage(b"--memory-swap (");
                push_size(&mut e.msg, total);
                e.msg.push(b") is less than --memory (");
                push_size(&mut e.msg, mem);
                e.msg.push(b"): it is the limit of memory plus swap, so at least --memory");
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// True when a cgroup must be created: any limit, the device list, or --name /
    /// --cgroup-parent given.
    #[inline(never)]
    pub fn wants_cgroup(&self) -> bool {
        self.devices
            || self.memory.is_some()
            || self.memory_swap.is_some()
            || self.cpu_shares.is_some()
            || self.cpus.is_some()
            || self.cpuset_cpus.is_some()
            || self.pids.is_some()
            || self.name.is_some()
            || self.cgroup_parent.is_some()
    }
}

/// `opt: 'value' why`: the one shape of every bad option value (here and in confine).
#[inline(never)]
pub fn bad_value(opt: &[u8], value: &[u8], why: &str) -> Error {
    let mut e = Error::usage(opt);
    e.msg.push(b": '");
    crate::error::push_shown(&mut e.msg, value);
    e.msg.push(b"' ").push_str(why);
    e
}

/// A size in bytes: digits with an optional unit k, m or g (any case, powers of 1024),
/// then an optional `b`: `65536`, `64m`, `1G`, `512kb`.
pub fn parse_size(s: &[u8]) -> core::result::Result<u64, &'static str> {
    const NOT: &str = "is not a size (try 64m)";
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let (num, unit) = s.split_at(digits);
    if s.first() == Some(&b'-') {
        return Err("is not a size: it must be positive (try 64m)");
    }
    if unit.first() == Some(&b'.') {
        return Err("is not a size: use a whole number (1536m, not 1.5g)");
    }
    if num.is_empty() {
        return Err(NOT);
    }
    let (shift, rest) = match unit.first().map(u8::to_ascii_lowercase) {
        Some(b'k') => (10, &unit[1..]),
        Some(b'm') => (20, &unit[1..]),
        Some(b'g') => (30, &unit[1..]),
        _ => (0, unit),
    };
    if !(rest.is_empty() || rest.eq_ignore_ascii_case(b"b")) {
        return Err(NOT);
    }
    let n = parse_uint(num).ok_or("is too large")?;
    if n == 0 {
        return Err("is not a size: it must be more than 0 (try 64m)");
    }
    // The kernel stores limits as signed 64-bit page counts: i64::MAX bytes at most.
    match n.checked_mul(1 << shift) {
        Some(v) if v <= i64::MAX as u64 => Ok(v),
        _ => Err("is too large"),
    }
}

/// Decimal digits only, no sign, no overflow.
pub fn parse_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((b - b'0') as u64)?;
    }
    Some(n)
}

/// `--cpus`: a decimal number of CPUs (`0.5`, `1.25`, `2`, `.5`) to a CFS quota in µs per
/// [`CPU_PERIOD_US`], in fixed point: digits past the fifth decimal are below 1 µs and
/// dropped.
pub fn parse_cpus(s: &[u8]) -> core::result::Result<u64, &'static str> {
    const NOT: &str = "is not a number of CPUs (try 0.5 or 2)";
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &b""[..]),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(NOT);
    }
    if !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return Err(NOT);
    }
    let whole = if int.is_empty() { 0 } else { parse_uint(int).ok_or("is too many CPUs")? };
    if whole > MAX_CPUS {
        return Err("is too many CPUs");
    }
    let mut part = 0;
    let mut scale = CPU_PERIOD_US;
    for &d in frac.iter().take(5) {
        scale /= 10;
        part += (d - b'0') as u64 * scale;
    }
    let quota = whole * CPU_PERIOD_US + part;
    if quota < MIN_QUOTA_US {
        return Err("is too few CPUs: the least is 0.01");
    }
    Ok(quota)
}

/// A CPU list as the kernel writes it: `N` or `N-M` items separated by commas, `N <= M`.
#[inline(never)]
pub fn check_cpu_list(s: &[u8]) -> core::result::Result<(), &'static str> {
    const NOT: &str = "is not a CPU list (try 0-2,4)";
    if s.is_empty() {
        return Err(NOT);
    }
    for item in s.split(|&b| b == b',') {
        let (a, b) = match item.iter().position(|&c| c == b'-') {
            Some(i) => (&item[..i], &item[i + 1..]),
            None => (item, item),
        };
        let (a, b) = match (parse_uint(a), parse_uint(b)) {
            (Some(a), Some(b)) => (a, b),
            _ => return Err(NOT),
        };
        if a > b {
            return Err("is not a CPU list: a range goes from low to high (try 0-2,4)");
        }
        if b > MAX_CPU {
            return Err("names a CPU above 8191");
        }
    }
    Ok(())
}

/// `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most [`MAX_NAME`] bytes (docker's rule for names).
pub fn check_name(s: &[u8]) -> bool {
    let ok = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    s.len() <= MAX_NAME && s.first().is_some_and(u8::is_ascii_alphanumeric) && s.iter().all(ok)
}

/// A path of cgroup names below a hierarchy's mount point: components without `.`/`..`;
/// a leading `/` and repeated or trailing `/` are allowed and ignored.
pub fn check_parent(s: &[u8]) -> bool {
    !s.is_empty() && s.len() <= MAX_PARENT && s.split(|&b| b == b'/').all(|c| c != b"." && c != b"..")
}

/// Appends `bytes` in the largest binary unit that divides it: `64 MiB`, `1 GiB`,
/// `1536 KiB`, `1000 bytes`.
pub fn push_size(b: &mut Text, bytes: u64) {
    // Units of 2^40, 2^30, 2^20 and 2^10 bytes, four letters each (no table of slices).
    for (i, unit) in b" TiB GiB MiB KiB".chunks(4).enumerate() {
        let shift = 40 - 10 * i;
        if bytes != 0 && bytes.is_multiple_of(1 << shift) {
            b.push_u64(bytes >> shift).push(unit);
            return;
        }
    }
    b.push_u64(bytes).push_str(if bytes == 1 { " byte" } else { " bytes" });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn set(key: LimitKey, opt: &str, v: &str) -> core::result::Result<Limits<'static>, String> {
        let v: &'static CStr = Box::leak(CString::new(v).unwrap().into_boxed_c_str());
        let mut l = Limits::default();
        match l.set(key, opt.as_bytes(), v) {
            Ok(()) => Ok(l),
            Err(e) => {
                assert_eq!(e.status, 125);
                Err(String::from_utf8(e.line().as_bytes().to_vec()).unwrap())
            }
        }
    }

    #[test]
    fn sizes() {
        for (s, v) in [
            ("65536", 65536),
            ("64m", 64 << 20),
            ("64M", 64 << 20),
            ("64mb", 64 << 20),
            ("64MB", 64 << 20),
            ("1g", 1 << 30),
            ("512k", 512 << 10),
            ("100b", 100),
            ("1", 1),
        ] {
            assert_eq!(parse_size(s.as_bytes()), Ok(v), "{s}");
        }
        for s in
            ["", "m", "64x", "64mm", "64 m", "-5m", "1.5g", "0", "0m", "99999999999999999999", "8589934592g", "64bm"]
        {
            assert!(parse_size(s.as_bytes()).is_err(), "{s}");
        }
        assert_eq!(parse_size(b"9223372036854775807"), Ok(i64::MAX as u64));
        assert!(parse_size(b"9223372036854775808").is_err());
    }

    #[test]
    fn size_errors_quote_option_and_value() {
        assert_eq!(
            set(LimitKey::Memory, "--memory", "64x").unwrap_err(),
            "tinyctr: --memory: '64x' is not a size (try 64m)\n"
        );
        assert!(set(LimitKey::Memory, "-m", "0")
            .unwrap_err()
            .starts_with("tinyctr: -m: '0' is not a size: it must be more than 0"));
        assert!(set(LimitKey::Memory, "-m", "-1").unwrap_err().contains("must be positive"));
        assert!(set(LimitKey::Memory, "-m", "1.5g").unwrap_err().contains("whole number"));
        assert!(set(LimitKey::Memory, "-m", "99999999999999999999999").unwrap_err().contains("too large"));
    }

    #[test]
    fn cpus_fixed_point() {
        for (s, q) in [
            ("0.5", 50_000),
            ("1.25", 125_000),
            ("2", 200_000),
            (".5", 50_000),
            ("1.", 100_000),
            ("0.01", 1_000),
            ("0.123456789", 12_345),
            ("100000", 10_000_000_000),
        ] {
            assert_eq!(parse_cpus(s.as_bytes()), Ok(q), "{s}");
        }
        for s in ["", ".", "0", "0.009", "-1", "1e3", "inf", "nan", "1.2.3", "0,5", "100001", " 1"] {
            assert!(parse_cpus(s.as_bytes()).is_err(), "{s}");
        }
        let l = set(LimitKey::Cpus, "--cpus", "0.5").unwrap();
        assert_eq!(l.cpus, Some(CpuQuota { quota: 50_000, period: 100_000 }));
    }

    #[test]
    fn cpu_lists() {
        for s in ["0", "0-2,4", "1,3,5-7", "8191"] {
            assert_eq!(check_cpu_list(s.as_bytes()), Ok(()), "{s}");
        }
        for s in ["", ",", "0,", "a", "2-1", "0-", "-1", "0 1", "8192", "0-99999"] {
            assert!(check_cpu_list(s.as_bytes()).is_err(), "{s}");
        }
        assert!(set(LimitKey::CpusetCpus, "--cpuset-cpus", "2-1").unwrap_err().contains("'2-1'"));
    }

    #[test]
    fn shares_pids_names_parents() {
        assert_eq!(set(LimitKey::CpuShares, "-c", "512").unwrap().cpu_shares, Some(512));
        for bad in ["0", "1", "262145", "-5", "x"] {
            assert!(set(LimitKey::CpuShares, "-cpushare", bad).unwrap_err().starts_with("tinyctr: -cpushare: '"));
        }
        assert_eq!(set(LimitKey::PidsLimit, "--pids-limit", "10").unwrap().pids, Some(10));
        for bad in ["0", "-1", "4194305", ""] {
            assert!(set(LimitKey::PidsLimit, "--pids-limit", bad).is_err(), "{bad}");
        }
        for good in ["web", "a", "My_ctr.1-x", &"a".repeat(64)] {
            assert!(set(LimitKey::Name, "--name", good).is_ok(), "{good}");
        }
        for bad in ["", "-x", ".x", "a/b", "a b", &"a".repeat(65)] {
            assert!(set(LimitKey::Name, "--name", bad).is_err(), "{bad}");
        }
        for good in ["/mine", "mine/sub", "/a/b/", "/"] {
            assert!(set(LimitKey::CgroupParent, "--cgroup-parent", good).is_ok(), "{good}");
        }
        for bad in ["", "/a/../b", "..", "./x"] {
            assert!(set(LimitKey::CgroupParent, "--cgroup-parent", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn swap_cross_checks() {
        let mut l = set(LimitKey::MemorySwap, "--memory-swap", "128m").unwrap();
        let e = l.validate().unwrap_err();
        assert!(e.line().as_bytes().starts_with(b"tinyctr: --memory-swap needs --memory"));
        l.memory = Some(256 << 20);
        let e = l.validate().unwrap_err();
        assert_eq!(
            e.line().as_bytes(),
            b"tinyctr: --memory-swap (128 MiB) is less than --memory (256 MiB): it is the limit of memory plus swap, so at least --memory\n"
        );
        l.memory = Some(64 << 20);
        assert!(l.validate().is_ok());
        let l = set(LimitKey::MemorySwap, "--memory-swap", "-1").unwrap();
        assert_eq!(l.memory_swap, Some(Swap::Unlimited));
        assert!(set(LimitKey::MemorySwap, "--memory-swap", "-2").is_err());
    }

    #[test]
    fn wants_cgroup_only_when_asked() {
        assert!(!Limits::default().wants_cgroup());
        assert!(set(LimitKey::Name, "--name", "x").unwrap().wants_cgroup());
        assert!(set(LimitKey::PidsLimit, "--pids-limit", "5").unwrap().wants_cgroup());
    }

    #[test]
    fn sizes_print_in_binary_units() {
        let mut b = crate::buf::Buf::<64>::new();
        for (v, s) in
            [(64 << 20, "64 MiB"), (1 << 30, "1 GiB"), (1536 << 10, "1536 KiB"), (1000, "1000 bytes"), (1, "1 byte")]
        {
            b.clear();
            push_size(&mut b, v);
            assert_eq!(b.as_bytes(), s.as_bytes());
        }
    }
}
