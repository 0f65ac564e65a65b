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

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};

use super::config::List;
use super::linux::{DeviceRule, MKNOD, READ, WRITE};
use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{Error, Result};
use crate::sys::bpf::insn;

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
/// `devices.allow` or `devices.deny` as `TYPE MAJOR:MINOR ACCESS` (`a *:* rwm` for
/// containerd's first, deny-all, rule).
pub fn write_v1(dir: BorrowedFd<'_>, path: &[u8], rules: &[DeviceRule], mknod: &[DeviceRule]) -> Result<()> {
    // devices.deny and devices.allow, each opened once: every write(2) to a control file
    // is one rule, so the ~10 rules of a default container cost 2 opens, not 10.
    let mut files: [Option<OwnedFd>; 2] = [None, None];
    for r in rules.iter().chain(&DEFAULTS).chain(mknod) {
        let mut line: Buf<64> = Buf::new();
        line.push(&[r.kind, b' ']);
        for (i, n) in [r.major, r.minor].into_iter().enumerate() {
            if i == 1 {
                line.push(b":");
            }
            match n {
                -1 => line.push(b"*"),
                n => line.push_u64(n as u64),
            };
        }
        line.push(b" ");
        for (bit, c) in [(READ, b'r'), (WRITE, b'w'), (MKNOD, b'm')] {
            if r.access & bit != 0 {
                line.push(&[c]);
            }
        }
        let file = if r.allow { c"devices.allow" } else { c"devices.deny" };
        let failed = |e| fs::write_error(line.as_bytes(), path, file, e);
        let fd = match &mut files[usize::from(r.allow)] {
            Some(fd) => fd,
            slot => slot.insert(
                rustix::fs::openat(dir, file, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()).map_err(failed)?,
            ),
        };
        crate::fdio::write_all(&*fd, line.as_bytes()).map_err(failed)?;
    }
    Ok(())
}

/// The most instructions a program takes: a prologue, ten per rule, an epilogue.
const MAX: usize = 8 + 10 * (super::linux::MAX_DEVICES + DEFAULTS.len() + MAX_MKNOD);

/// The kernel's access bits (BPF_DEVCG_ACC_*) for OCI's r, w, m.
fn bpf_access(a: u8) -> i32 {
    (if a & MKNOD != 0 { 1 } else { 0 }) | (if a & READ != 0 { 2 } else { 0 }) | (if a & WRITE != 0 { 4 } else { 0 })
}

/// The v2 program for `rules` and [`DEFAULTS`], into `out`; its length. As v1 reads the rules, the last
/// one that matches decides: they are tried from the last, the first match returns,
/// and a request no rule matches is allowed (a new v1 cgroup starts from `a *:* rwm`).
/// An allow rule matches when it grants every access asked for, a deny rule when it
/// takes away any.
fn program(rules: &[DeviceRule], mknod: &[DeviceRule], out: &mut [u64; MAX]) -> usize {
    const LDXW: u8 = 0x61;
    const AND_K: u8 = 0x57;
    const RSH_K: u8 = 0x77;
    const MOV_K: u8 = 0xb7;
    const MOV_X: u8 = 0xbf;
    const JNE_K: u8 = 0x55;
    const JEQ_K: u8 = 0x15;
    const EXIT: u8 = 0x95;
    // struct bpf_cgroup_dev_ctx { access_type = access << 16 | type; major; minor } in r1:
    // r2 access, r3 type, r4 major, r5 minor.
    let mut n = 0;
    let mut emit = |out: &mut [u64; MAX], i: u64| {
        out[n] = i;
        n += 1;
    };
    for i in [
        insn(LDXW, 2, 1, 0, 0),
        insn(MOV_X, 3, 2, 0, 0),
        insn(AND_K, 3, 0, 0, 0xffff),
        insn(RSH_K, 2, 0, 0, 16),
        insn(LDXW, 4, 1, 4, 0),
        insn(LDXW, 5, 1, 8, 0),
    ] {
        emit(out, i);
    }
    for r in rules.iter().chain(&DEFAULTS).chain(mknod).rev() {
        // The checks jump past the rule's block when it does not match: their offsets
        // are filled in once its length is known.
        let mut block = [0u64; 10];
        let mut jumps = [0usize; 4];
        let (mut len, mut nj) = (0, 0);
        let mut check = |block: &mut [u64; 10], i: u64, jump: bool| {
            if jump {
                jumps[nj] = len;
                nj += 1;
            }
            block[len] = i;
            len += 1;
        };
        match r.kind {
            b'b' => check(&mut block, insn(JNE_K, 3, 0, 0, 1), true),
            b'c' => check(&mut block, insn(JNE_K, 3, 0, 0, 2), true),
            _ => {}
        }
        if r.major >= 0 {
            check(&mut block, insn(JNE_K, 4, 0, 0, r.major as i32), true);
        }
        if r.minor >= 0 {
            check(&mut block, insn(JNE_K, 5, 0, 0, r.minor as i32), true);
        }
        let acc = bpf_access(r.access);
        if acc != 7 {
            check(&mut block, insn(MOV_X, 6, 2, 0, 0), false);
            match r.allow {
                true => {
                    check(&mut block, insn(AND_K, 6, 0, 0, !acc & 7), false);
                    check(&mut block, insn(JNE_K, 6, 0, 0, 0), true);
                }
                false => {
                    check(&mut block, insn(AND_K, 6, 0, 0, acc), false);
                    check(&mut block, insn(JEQ_K, 6, 0, 0, 0), true);
                }
            }
        }
        check(&mut block, insn(MOV_K, 0, 0, 0, r.allow as i32), false);
        check(&mut block, insn(EXIT, 0, 0, 0, 0), false);
        for &j in &jumps[..nj] {
            // The offset field is bits 16..32: past the rest of the block.
            block[j] |= ((len - j - 1) as u16 as u64) << 16;
        }
        for &i in &block[..len] {
            emit(out, i);
        }
        // A rule that checks nothing (containerd's `a *:* rwm` deny) always decides:
        // what would follow it could never run, and the verifier refuses unreachable
        // instructions.
        if nj == 0 {
            return n;
        }
    }
    emit(out, insn(MOV_K, 0, 0, 0, 1));
    emit(out, insn(EXIT, 0, 0, 0, 0));
    n
}

/// v2: the program for `rules` (and `mknod`), loaded and attached to the cgroup at `dir`.
///
/// Out of line, the program in a mapping: 12 KiB of instructions in the caller's frame
/// would be probed (made resident) page by page on every `create`, on every host.
#[inline(never)]
pub fn attach_v2(dir: &[u8], rules: &[DeviceRule], mknod: &[DeviceRule]) -> Result<()> {
    let mut insns = crate::sys::MapBox::<[u64; MAX]>::zeroed()
        .map_err(|e| Error::sys("map memory for the device program of", dir, e))?;
    let n = program(rules, mknod, &mut insns);
    let prog = match crate::sys::bpf::load_device_program(&insns[..n], &mut []) {
        Ok(p) => p,
        Err(e) => {
            // Again with the verifier's log, whose first line says what it refused.
            let mut log = [0u8; 1024];
            let _ = crate::sys::bpf::load_device_program(&insns[..n], &mut log);
            let end = log.iter().position(|&c| c == 0 || c == b'\n').unwrap_or(0);
            let hint: &[u8] = if end > 0 { &log[..end] } else { b"the kernel needs CONFIG_CGROUP_BPF" };
            return Err(Error::sys_hint("load the device program for", dir, e, hint));
        }
    };
    let d = fs::open_path(dir).map_err(|e| fs::path_error("open cgroup", dir, e))?;
    crate::sys::bpf::attach_device_program(d.as_fd(), prog.as_fd())
        .map_err(|e| Error::sys("attach the device program to", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program on one request the way the kernel's interpreter would, for the
    /// handful of opcodes `program` emits.
    fn run(prog: &[u64], kind: u32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [access << 16 | kind, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0;
        loop {
            let i = prog[pc];
            let (code, dst, src) = (i as u8, (i >> 8 & 0xf) as usize, (i >> 12 & 0xf) as usize);
            let (off, imm) = ((i >> 16) as u16 as i16, (i >> 32) as u32 as i32);
            pc += 1;
            match code {
                0x61 => r[dst] = ctx[(off / 4) as usize] as u64,
                0xbf => r[dst] = r[src],
                0x57 => r[dst] &= imm as u32 as u64,
                0x77 => r[dst] >>= imm,
                0xb7 => r[dst] = imm as u64,
                0x55 if r[dst] != imm as u32 as u64 => pc += off as usize,
                0x15 if r[dst] == imm as u32 as u64 => pc += off as usize,
                0x55 | 0x15 => {}
                0x95 => return r[0],
                c => panic!("opcode {c:#x}"),
            }
        }
    }

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
        let n = program(&rules, &[], &mut p);
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
        let n = program(&[], &[], &mut empty);
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
        let n = program(&rules, &extra, &mut p);
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
