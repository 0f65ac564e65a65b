//! `--device HOST[:CONTAINER][:PERMS]` and `--device-cgroup-rule 'TYPE MAJOR:MINOR
//! ACCESS'`: docker's two ways to let a container use a device beyond its default list
//! (crate::cgroup::devices::DOCKER). Each adds an allow rule after docker's. With
//! `--rootfs`, `--device` also puts the host node at CONTAINER in the container's /dev:
//! a bind mount of it (crate::rootfs::volume, as `-v` makes, after /dev is filled), so it
//! is the host's node itself, type, numbers, mode and owner. Without `--rootfs` the
//! container sees the host's /dev, where the node is already.
//!
//! Both are read as the options are parsed ([`Rules::add`]), host nodes included: a bad
//! one is a 125 before anything exists.

use crate::buf::Buf;
use crate::cgroup::devices::{DeviceRule, MKNOD, READ, WRITE};
use crate::error::{Error, Result};
use core::ffi::CStr;
use rustix::fs::FileType;
use rustix::io::Errno;

/// At most this many of the two options together.
pub const MAX: usize = 16;

/// One rule the options add, in the devices cgroup's own syntax (`c 10:232 rwm`): as v1
/// takes it, and as [`parse_rule`] reads it back for the v2 program.
pub type Line = Buf<32>;

/// The rules the options add, in order.
pub struct Rules {
    lines: [Line; MAX],
    n: usize,
}

impl Rules {
    pub fn new() -> Self {
        Rules { lines: core::array::from_fn(|_| Line::new()), n: 0 }
    }

    pub fn as_slice(&self) -> &[Line] {
        &self.lines[..self.n]
    }

    /// Parse time: one option's rule (`rule`: a `--device-cgroup-rule`'s value, as it
    /// is; else a `--device`'s, whose host node is looked at: nothing exists yet to be
    /// left behind). For a `--device`, its (host, container) paths, for the bind.
    pub fn add<'a>(&mut self, spelled: &[u8], value: &'a CStr, rule: bool) -> Result<Option<(&'a [u8], &'a [u8])>> {
        let v = value.to_bytes();
        let bad = |why: &[u8]| crate::cli::value_error(spelled, value, why);
        let line = self.lines.get_mut(self.n).ok_or_else(|| bad(b"is one too many (16 at most)"))?;
        self.n += 1;
        if rule {
            parse_rule(v).ok_or_else(|| bad(b"is not TYPE MAJOR:MINOR ACCESS (e.g. 'c 10:232 rwm')"))?;
            line.push(v);
            return Ok(None);
        }
        let (host, ctr, access) = split(v)
            .ok_or_else(|| bad(b"is not HOST[:CONTAINER][:PERMS] (CONTAINER below /dev/; PERMS of r, w, m)"))?;
        host_rule(host, access, line).map_err(|e| {
            let hint: &[u8] = match e {
                Errno::NODEV => b"not a device node (name each of a directory)",
                _ => b"",
            };
            Error::sys_hint("use the --device node", host, e, hint)
        })?;
        Ok(Some((host, ctr)))
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::new()
    }
}

/// The access letters `r`, `w`, `m`: each at most once, one at least.
fn access(s: &[u8]) -> Option<u8> {
    let mut bits = 0;
    for &c in s {
        let b = match c {
            b'r' => READ,
            b'w' => WRITE,
            b'm' => MKNOD,
            _ => return None,
        };
        if bits & b != 0 {
            return None;
        }
        bits |= b;
    }
    (bits != 0).then_some(bits)
}

/// `HOST[:CONTAINER][:PERMS]` as docker reads it (of two fields, a second that is a
/// valid PERMS is PERMS): (host, container, PERMS). The container path is the host's
/// unless given, and must be below /dev/: /dev is the container's own tmpfs, while a
/// node bound anywhere else would need a mount point made in the rootfs directory, the
/// user's image.
#[inline(never)]
fn split(v: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (host, rest) = cut(v);
    let (mut ctr, mut perms) = (host, &b"rwm"[..]);
    if let Some(rest) = rest {
        match cut(rest) {
            (second, None) if access(second).is_some() => perms = second,
            (second, third) => (ctr, perms) = (second, third.unwrap_or(perms)),
        }
    }
    let ok = !host.is_empty() && crate::rootfs::dev::below_dev(ctr) && access(perms).is_some();
    ok.then_some((host, ctr, perms))
}

/// `a:b` as (a, Some(b)); no colon: (all, None).
fn cut(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    match v.iter().position(|&c| c == b':') {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    }
}

/// `TYPE MAJOR:MINOR ACCESS` (`c 10:232 rwm`, `b 8:* r`, `a *:* rwm`), the devices
/// cgroup's own syntax, as an allow rule. `a` is every device: with numbers it would
/// mean something else to v1 (which reads `a` as all) than to the v2 program.
#[inline(never)]
pub fn parse_rule(v: &[u8]) -> Option<DeviceRule> {
    let mut f = v.split(|&c| c == b' ');
    let (kind, numbers, acc) = (f.next()?, f.next()?, f.next()?);
    let (major, minor) = cut(numbers);
    let (major, minor) = (number(major)?, number(minor?)?);
    let kind = match kind {
        b"b" | b"c" => kind[0],
        b"a" if (major, minor) == (-1, -1) => b'a',
        _ => return None,
    };
    let access = access(acc).filter(|_| f.next().is_none())?;
    Some(DeviceRule { allow: true, kind, major, minor, access })
}

/// A device number, or `*` (-1): any.
fn number(s: &[u8]) -> Option<i64> {
    match s {
        b"*" => Some(-1),
        d => crate::limits::parse_uint(d).filter(|&x| x <= u32::MAX as u64).map(|x| x as i64),
    }
}

/// A `--device` host node's allow rule, into `line`.
#[inline(never)]
fn host_rule(host: &[u8], access: &[u8], line: &mut Line) -> core::result::Result<(), Errno> {
    let mut path: Buf<4096> = Buf::from(host);
    let st = rustix::fs::stat(path.as_cstr())?;
    let kind = match FileType::from_raw_mode(st.st_mode) {
        FileType::CharacterDevice => b"c ",
        FileType::BlockDevice => b"b ",
        _ => return Err(Errno::NODEV),
    };
    line.push(kind).push_u64(rustix::fs::major(st.st_rdev) as u64).push(b":");
    // The letters as given: the kernel reads them in any order.
    line.push_u64(rustix::fs::minor(st.st_rdev) as u64).push(b" ").push(access);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_values_are_read_as_docker_reads_them() {
        type Split<'a> = Option<(&'a [u8], &'a [u8], &'a [u8])>;
        let cases: [(&[u8], Split); 13] = [
            (b"/dev/kvm", Some((b"/dev/kvm", b"/dev/kvm", b"rwm"))),
            (b"/dev/kvm:rw", Some((b"/dev/kvm", b"/dev/kvm", b"rw"))),
            (b"/dev/sdb:/dev/xvdc", Some((b"/dev/sdb", b"/dev/xvdc", b"rwm"))),
            (b"/dev/sdb:/dev/xvdc:r", Some((b"/dev/sdb", b"/dev/xvdc", b"r"))),
            (b"/dev/fuse:/dev/sub/fuse:mrw", Some((b"/dev/fuse", b"/dev/sub/fuse", b"mrw"))),
            (b"/dev/sdb:/xvdc", None),
            (b"/dev/sdb:/dev/../etc/x", None),
            (b"/dev/sdb:/dev/", None),
            (b"/dev/sdb:/dev/x:rr", None),
            (b"/dev/sdb:/dev/x:q", None),
            (b"/dev/sdb:/dev/x:", None),
            (b":/dev/x", None),
            (b"/home/x", None),
        ];
        for (v, want) in cases {
            assert_eq!(split(v), want, "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn cgroup_rules_are_the_devices_cgroups_syntax() {
        let r = |kind, major, minor, access| Some(DeviceRule { allow: true, kind, major, minor, access });
        assert_eq!(parse_rule(b"c 10:232 rwm"), r(b'c', 10, 232, READ | WRITE | MKNOD));
        assert_eq!(parse_rule(b"b 8:* r"), r(b'b', 8, -1, READ));
        assert_eq!(parse_rule(b"c *:* m"), r(b'c', -1, -1, MKNOD));
        assert_eq!(parse_rule(b"a *:* rwm"), r(b'a', -1, -1, READ | WRITE | MKNOD));
        for bad in ["a 1:3 rwm", "d 1:3 r", "c 1:3", "c 1 r", "c 1:3 x", "c 1:3 rw extra", "c 1:-3 r", "c 1:3  r"] {
            assert_eq!(parse_rule(bad.as_bytes()), None, "{bad}");
        }
    }
}
