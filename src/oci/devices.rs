//! config.json's device allow-list (`linux.resources.devices`: containerd sends deny
//! all, then the usual nodes). On v1 the devices controller takes the rules as they are,
//! in `devices.allow` and `devices.deny`; on v2 the same decisions are an eBPF program
//! (`BPF_PROG_TYPE_CGROUP_DEVICE`) attached to the container's cgroup, which the kernel
//! runs at each mknod and open of a device node.
//!
//! After config.json's rules come [`DEFAULTS`]: the nodes the runtime-spec says every
//! container gets (`/dev/null`, `zero`, `full`, `random`, `urandom`, `tty`) and the
//! terminal ones (`/dev/pts/*`, `ptmx`), read, write and mknod, as runc appends them
//! (runc's list also has mknod of any node and `/dev/net/tun`, which the spec does not
//! ask for: left out). The init joins its devices cgroup before it makes those nodes.
//! Last come [`mknod_rules`]: mknod of each node of `linux.devices` the list would not
//! let the init make.

use rustix::fd::{AsFd, BorrowedFd};

use super::config::List;
use super::linux::{DeviceRule, MKNOD, READ, WRITE};
use crate::cgroup::{devices, fs};
use crate::error::{Error, Result};

/// Appended to every allow-list (see above).
const DEFAULTS: [DeviceRule; 8] = {
    const fn c(major: i64, minor: i64) -> DeviceRule {
        DeviceRule { allow: true, kind: b'c', major, minor, access: READ | WRITE | MKNOD }
    }
    [c(1, 3), c(1, 5), c(1, 7), c(1, 8), c(1, 9), c(5, 0), c(5, 2), c(136, -1)]
};

/// At most this many nodes of `linux.devices` that the allow-list does not let be made.
pub const MAX_MKNOD: usize = 16;

/// Whether `rules` then [`DEFAULTS`] grant `access` to device `kind` `major:minor`: the
/// last rule that matches decides (as in [`program`]), none matching is allowed.
fn allows(rules: &[DeviceRule], kind: u8, major: u32, minor: u32, access: u8) -> bool {
    let hit = rules.iter().chain(&DEFAULTS).rev().find(|r| {
        let num = |want: i64, n: u32| want < 0 || want == n as i64;
        let grants = if r.allow { r.access & access == access } else { r.access & access != 0 };
        (r.kind == b'a' || r.kind == kind) && num(r.major, major) && num(r.minor, minor) && grants
    });
    hit.is_none_or(|r| r.allow)
}

/// The rules that let the init make each node of `linux.devices` whose mknod `rules`
/// deny: runc makes its nodes before its device rules apply, while tinyctr's apply from
/// the init's birth. Kubernetes' device plugins give `rw` (containerd writes that as
/// the node's rule), and a node listed with no rule at all is made by runc too. Such a
/// rule grants mknod of that one device, nothing else: opening it stays the list's
/// call. More than [`MAX_MKNOD`] are refused by name.
pub fn mknod_rules(
    rules: &[DeviceRule],
    nodes: &[crate::rootfs::dev::Node<'_>],
) -> Result<List<DeviceRule, MAX_MKNOD>> {
    let mut out = List::default();
    for n in nodes {
        use rustix::fs::FileType;
        let kind = match n.kind {
            FileType::CharacterDevice => b'c',
            FileType::BlockDevice => b'b',
            _ => continue,
        };
        let (major, minor) = (rustix::fs::major(n.dev), rustix::fs::minor(n.dev));
        if !allows(rules, kind, major, minor, MKNOD) {
            let r = DeviceRule { allow: true, kind, major: major as i64, minor: minor as i64, access: MKNOD };
            if !out.push(r) {
                let mut e = Error::usage(b"config.json: linux.devices: more than ");
                e.msg.push_u64(MAX_MKNOD as u64).push(b" nodes whose mknod linux.resources.devices denies");
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// v1: each rule, then [`DEFAULTS`], then `mknod` ([`mknod_rules`]), in order, written to
/// `devices.allow` or `devices.deny` (crate::cgroup::devices::write_v1).
pub fn write_v1(dir: BorrowedFd<'_>, path: &[u8], rules: &[DeviceRule], mknod: &[DeviceRule]) -> Result<()> {
    devices::write_v1(dir, path, &[rules, &DEFAULTS, mknod])
}

/// The most instructions a program takes.
const MAX: usize = devices::max_insns(super::linux::MAX_DEVICES + DEFAULTS.len() + MAX_MKNOD);

/// v2: the program for `rules`, [`DEFAULTS`] and `mknod`, loaded and attached to the
/// cgroup at `dir`.
///
/// Out of line, the program in a mapping: 12 KiB of instructions in the caller's frame
/// would be probed (made resident) page by page on every `create`, on every host.
#[inline(never)]
pub fn attach_v2(dir: &[u8], rules: &[DeviceRule], mknod: &[DeviceRule]) -> Result<()> {
    let mut insns = crate::sys::MapBox::<[u64; MAX]>::zeroed()
        .map_err(|e| Error::sys("map memory for the device program of", dir, e))?;
    let n = devices::program(&[rules, &DEFAULTS, mknod], &mut insns[..]);
    let d = fs::open_path(dir).map_err(|e| fs::path_error("open cgroup", dir, e))?;
    devices::attach_program(d.as_fd(), dir, &insns[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::cgroup::devices::tests::run;

    fn rule(allow: bool, kind: u8, major: i64, minor: i64, access: u8) -> DeviceRule {
        DeviceRule { allow, kind, major, minor, access }
    }

    #[test]
    fn containerd_allow_list() {
        let all = READ | WRITE | MKNOD;
        let rules = [
            rule(false, b'a', -1, -1, all),
            rule(true, b'c', 1, 3, all),
            rule(true, b'c', 136, -1, all),
            rule(true, b'c', 1, 5, READ),
            rule(false, b'c', 1, 3, WRITE),
        ];
        let mut p = [0u64; MAX];
        let n = devices::program(&[&rules, &DEFAULTS], &mut p);
        let p = &p[..n];
        let (chr, blk) = (2, 1);
        let (m, r, w) = (1, 2, 4);
        assert_eq!(run(p, chr, r, 1, 3), 1, "read /dev/null");
        // The defaults come after config.json's rules, as runc's do: its last rule's
        // deny of w does not take /dev/null away.
        assert_eq!(run(p, chr, r | w, 1, 3), 1, "write /dev/null");
        assert_eq!(run(p, chr, m, 1, 3), 1, "mknod /dev/null");
        assert_eq!(run(p, chr, r | w, 136, 7), 1, "a pty");
        assert_eq!(run(p, chr, r, 1, 5), 1, "read /dev/zero");
        assert_eq!(run(p, chr, r | w, 1, 5), 1, "write /dev/zero: a default");
        assert_eq!(run(p, chr, r | w, 10, 200), 0, "/dev/net/tun: not a default (runc's is)");
        assert_eq!(run(p, chr, m, 1, 9), 1, "mknod /dev/urandom: a default");
        assert_eq!(run(p, chr, m, 10, 229), 0, "mknod /dev/fuse");
        assert_eq!(run(p, blk, r, 8, 0), 0, "a disk");
        let mut empty = [0u64; MAX];
        let n = devices::program(&[], &mut empty);
        assert_eq!(run(&empty[..n], blk, r, 8, 0), 1, "no rules: allowed, as a new v1 cgroup");
    }

    /// A node of linux.devices whose mknod the list denies gets a rule for mknod alone,
    /// after the others; one the list lets be made (or a FIFO) gets none.
    #[test]
    fn mknod_of_listed_nodes() {
        use crate::rootfs::dev::Node;
        use rustix::fs::{makedev, FileType};
        let all = READ | WRITE | MKNOD;
        let rules = [rule(false, b'a', -1, -1, all), rule(true, b'c', 195, -1, READ | WRITE)];
        let node = |kind, a, b| Node { path: c"/dev/x", kind, dev: makedev(a, b), ..Node::default() };
        let nodes = [
            node(FileType::CharacterDevice, 195, 0),
            node(FileType::CharacterDevice, 1, 3),
            node(FileType::Fifo, 0, 0),
            node(FileType::BlockDevice, 7, 1),
        ];
        let Ok(extra) = mknod_rules(&rules, &nodes) else { panic!("refused") };
        assert_eq!(&extra[..], [rule(true, b'c', 195, 0, MKNOD), rule(true, b'b', 7, 1, MKNOD)]);
        let mut p = [0u64; MAX];
        let n = devices::program(&[&rules, &DEFAULTS, &extra], &mut p);
        let p = &p[..n];
        let (chr, blk) = (2, 1);
        let (m, r, w) = (1, 2, 4);
        assert_eq!(run(p, chr, m, 195, 0), 1, "mknod of the listed node");
        assert_eq!(run(p, chr, r | w, 195, 0), 1, "open it: the list's rw");
        assert_eq!(run(p, chr, m, 195, 1), 0, "mknod of another minor");
        assert_eq!(run(p, blk, m, 7, 1), 1, "mknod of the listed block device");
        assert_eq!(run(p, blk, r, 7, 1), 0, "but not reading it: the list denies that");
        assert!(mknod_rules(&[rule(true, b'a', -1, -1, all)], &nodes).is_ok_and(|l| l.is_empty()), "privileged: none");
        let many = [node(FileType::CharacterDevice, 195, 0); MAX_MKNOD + 1];
        let many: Vec<_> = many.iter().enumerate().map(|(i, n)| Node { dev: makedev(195, i as u32), ..*n }).collect();
        assert!(mknod_rules(&rules, &many).is_err());
    }
}
