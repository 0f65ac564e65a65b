//! The device cgroup: which device nodes a container may open or make. On v1 the
//! devices controller takes rules as text (`devices.allow`, `devices.deny`); on v2 the
//! same decisions are an eBPF program (`BPF_PROG_TYPE_CGROUP_DEVICE`) attached to the
//! container's cgroup, which the kernel runs at each mknod and open of a device node
//! (on a hybrid host too: the program of the unified hierarchy is asked first, then
//! the v1 controller).
//!
//! `run` gives every container but a `--privileged` one [`DOCKER`], a default docker
//! container's list; the OCI runtime gives config.json's (crate::oci::devices). The
//! node itself is no protection: a container's root holds CAP_MKNOD (docker's default
//! set has it) and can make a node of any host disk in a directory it can write, so
//! only this list keeps it from opening one.

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::buf::Buf;
use crate::cgroup::fs;
use crate::error::{Error, Result};
use crate::sys::bpf::insn;

/// One rule: allow or deny `access` to devices of `kind`, `major:minor`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct DeviceRule {
    pub allow: bool,
    /// `a` (all), `b` or `c`.
    pub kind: u8,
    /// -1: any.
    pub major: i64,
    pub minor: i64,
    /// [`READ`] | [`WRITE`] | [`MKNOD`]; all three when absent.
    pub access: u8,
}

pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const MKNOD: u8 = 4;

const RWM: u8 = READ | WRITE | MKNOD;

const fn rule(allow: bool, kind: u8, major: i64, minor: i64, access: u8) -> DeviceRule {
    DeviceRule { allow, kind, major, minor, access }
}

/// A default docker container's device list, as `docker run` on a v1 host shows it in
/// `devices.list`: moby's spec (deny all; null, zero, urandom, random, tty, console)
/// followed by runc's built-in rules (mknod of any node; null, random, full, tty, zero,
/// urandom; the ptys and ptmx; tun). Everything else is denied: reading or writing a
/// disk, /dev/mem, /dev/kmsg, /dev/fuse, /dev/kvm, a loop device.
pub const DOCKER: [DeviceRule; 13] = [
    rule(false, b'a', -1, -1, RWM),
    rule(true, b'c', -1, -1, MKNOD),
    rule(true, b'b', -1, -1, MKNOD),
    rule(true, b'c', 1, 3, RWM),
    rule(true, b'c', 1, 5, RWM),
    rule(true, b'c', 1, 7, RWM),
    rule(true, b'c', 1, 8, RWM),
    rule(true, b'c', 1, 9, RWM),
    rule(true, b'c', 5, 0, RWM),
    rule(true, b'c', 5, 1, RWM),
    rule(true, b'c', 5, 2, RWM),
    rule(true, b'c', 10, 200, RWM),
    rule(true, b'c', 136, -1, RWM),
];

/// v1: the rules of `lists`, in order, written to `devices.allow` or `devices.deny` of
/// the cgroup open at `dir` (`path` for messages) as `TYPE MAJOR:MINOR ACCESS` (`a *:*
/// rwm` for a deny-all rule).
pub fn write_v1(dir: BorrowedFd<'_>, path: &[u8], lists: &[&[DeviceRule]]) -> Result<()> {
    // devices.deny and devices.allow, each opened once: every write(2) to a control file
    // is one rule, so the ~10 rules of a default container cost 2 opens, not 10.
    let mut files: [Option<OwnedFd>; 2] = [None, None];
    for r in lists.iter().flat_map(|l| l.iter()) {
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

/// Instructions a program of `rules` rules takes at most: a prologue, ten per rule, an
/// epilogue.
pub const fn max_insns(rules: usize) -> usize {
    8 + 10 * rules
}

/// The kernel's access bits (BPF_DEVCG_ACC_*) for r, w, m.
const fn bpf_access(a: u8) -> i32 {
    (if a & MKNOD != 0 { 1 } else { 0 }) | (if a & READ != 0 { 2 } else { 0 }) | (if a & WRITE != 0 { 4 } else { 0 })
}

const LDXW: u8 = 0x61;
const AND_K: u8 = 0x57;
const RSH_K: u8 = 0x77;
const MOV_K: u8 = 0xb7;
const MOV_X: u8 = 0xbf;
const JNE_K: u8 = 0x55;
const JEQ_K: u8 = 0x15;
const EXIT: u8 = 0x95;

/// Every program's start: struct bpf_cgroup_dev_ctx { access_type = access << 16 | type;
/// major; minor } in r1, split into r2 access, r3 type, r4 major, r5 minor.
const PROLOGUE: [u64; 6] = [
    insn(LDXW, 2, 1, 0, 0),
    insn(MOV_X, 3, 2, 0, 0),
    insn(AND_K, 3, 0, 0, 0xffff),
    insn(RSH_K, 2, 0, 0, 16),
    insn(LDXW, 4, 1, 4, 0),
    insn(LDXW, 5, 1, 8, 0),
];

/// The v2 program for the rules of `lists`, into `out` (room for [`max_insns`] of their
/// number); its length. As v1 reads the rules, the last one that matches decides: they
/// are tried from the last, the first match returns, and a request no rule matches is
/// allowed (a new v1 cgroup starts from `a *:* rwm`).
///
/// A `const fn`: [`DOCKER`]'s program is made at compile time (`while` loops, no
/// closures, for that).
pub const fn program(lists: &[&[DeviceRule]], out: &mut [u64]) -> usize {
    let mut n = 0;
    while n < PROLOGUE.len() {
        out[n] = PROLOGUE[n];
        n += 1;
    }
    let mut l = lists.len();
    while l > 0 {
        l -= 1;
        let list = lists[l];
        let mut k = list.len();
        while k > 0 {
            k -= 1;
            let checks;
            (n, checks) = block(&list[k], out, n);
            // A rule that checks nothing (a deny of `a *:* rwm`) always decides: what
            // would follow it could never run, and the verifier refuses unreachable
            // instructions.
            if !checks {
                return n;
            }
        }
    }
    out[n] = insn(MOV_K, 0, 0, 0, 1);
    out[n + 1] = insn(EXIT, 0, 0, 0, 0);
    n + 2
}

/// Rule `r`'s instructions into `out` from `n`: checks of the request that skip the rest
/// when it does not match, then `return allow`. An allow rule matches when it grants
/// every access asked for, a deny rule when it takes away any. The new `n`, and whether
/// the block checks anything.
const fn block(r: &DeviceRule, out: &mut [u64], mut n: usize) -> (usize, bool) {
    let typed = r.kind == b'b' || r.kind == b'c';
    let acc = bpf_access(r.access);
    let checks = typed as usize + (r.major >= 0) as usize + (r.minor >= 0) as usize + 3 * (acc != 7) as usize;
    // Each check jumps past the block: `end - at - 1`, an offset from the next one.
    let end = n + checks + 2;
    if typed {
        out[n] = insn(JNE_K, 3, 0, (end - n - 1) as i16, if r.kind == b'b' { 1 } else { 2 });
        n += 1;
    }
    if r.major >= 0 {
        out[n] = insn(JNE_K, 4, 0, (end - n - 1) as i16, r.major as i32);
        n += 1;
    }
    if r.minor >= 0 {
        out[n] = insn(JNE_K, 5, 0, (end - n - 1) as i16, r.minor as i32);
        n += 1;
    }
    if acc != 7 {
        out[n] = insn(MOV_X, 6, 2, 0, 0);
        out[n + 1] = insn(AND_K, 6, 0, 0, if r.allow { !acc & 7 } else { acc });
        out[n + 2] = insn(if r.allow { JNE_K } else { JEQ_K }, 6, 0, (end - n - 3) as i16, 0);
        n += 3;
    }
    out[n] = insn(MOV_K, 0, 0, 0, r.allow as i32);
    out[n + 1] = insn(EXIT, 0, 0, 0, 0);
    (n + 2, checks > 0)
}

/// An allow rule's block as [`block`] makes it, but always 8 instructions long: a field
/// the rule does not check (`*`, type `a`) is compared with itself (`JNE_X r, r` never
/// jumps), and all access asked for is granted when the rule grants rwm (the mask of
/// what it does not grant is 0). Simpler code than [`block`]'s for the rules of
/// --device and --device-cgroup-rule, which are made at run time.
fn allow_block(r: &DeviceRule) -> [u64; 8] {
    const JNE_X: u8 = 0x5d;
    let check = |reg: u8, v: i64, at: i16| match v {
        -1 => insn(JNE_X, reg, reg, 0, 0),
        v => insn(JNE_K, reg, 0, 7 - at, v as i32),
    };
    let kind = match r.kind {
        b'b' => 1,
        b'c' => 2,
        _ => -1,
    };
    [
        check(3, kind, 0),
        check(4, r.major, 1),
        check(5, r.minor, 2),
        insn(MOV_X, 6, 2, 0, 0),
        insn(AND_K, 6, 0, 0, !bpf_access(r.access) & 7),
        insn(JNE_K, 6, 0, 2, 0),
        insn(MOV_K, 0, 0, 0, 1),
        insn(EXIT, 0, 0, 0, 0),
    ]
}

/// [`DOCKER`]'s program, made at compile time, and its length.
const DOCKER_FULL: ([u64; max_insns(DOCKER.len())], usize) = {
    let mut p = [0u64; max_insns(DOCKER.len())];
    let n = program(&[&DOCKER], &mut p);
    (p, n)
};

/// The same, just as long as it is (the room above is mostly zeros).
const DOCKER_PROGRAM: [u64; DOCKER_FULL.1] = {
    let mut p = [0u64; DOCKER_FULL.1];
    let mut i = 0;
    while i < p.len() {
        p[i] = DOCKER_FULL.0[i];
        i += 1;
    }
    p
};

/// [`DOCKER`] as v1 writes it, one rule a line (made in `write_v1`'s format; a unit
/// test holds the two together). One string: a table of slices would be 16 bytes a line.
const DOCKER_V1: &[u8] = b"a *:* rwm\nc *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n\
c 5:0 rwm\nc 5:1 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm";

/// v2: loads the program `insns` and attaches it to the cgroup open at `cgroup` (`path`
/// for messages). The cgroup holds it from then on, until it is removed.
pub fn attach_program(cgroup: BorrowedFd<'_>, path: &[u8], insns: &[u64]) -> Result<()> {
    let prog = match crate::sys::bpf::load_device_program(insns, &mut []) {
        Ok(p) => p,
        Err(e) => {
            // Again with the verifier's log, whose first line says what it refused.
            let mut log = [0u8; 1024];
            let _ = crate::sys::bpf::load_device_program(insns, &mut log);
            let end = log.iter().position(|&c| c == 0 || c == b'\n').unwrap_or(0);
            let hint: &[u8] = if end > 0 { &log[..end] } else { b"the kernel needs CONFIG_CGROUP_BPF" };
            return Err(Error::sys_hint("load the device program for", path, e, hint));
        }
    };
    crate::sys::bpf::attach_device_program(cgroup, prog.as_fd())
        .map_err(|e| Error::sys("attach the device program to", path, e))
}

/// Room for docker's program with the most extra rules.
const WITH_EXTRA: usize = DOCKER_PROGRAM.len() - 2 + 8 * (crate::device::MAX + 1);

/// Docker's program with `extra` rules, into `p`; its length. The extra rules only allow:
/// they go before docker's last rule, the deny of everything (its last two
/// instructions: `return 0`), in blocks of 8 ([`allow_block`]).
#[inline]
fn docker_program_with(extra: &[crate::device::Line], p: &mut [u64; WITH_EXTRA]) -> usize {
    const D: usize = DOCKER_PROGRAM.len() - 2;
    let (head, tail) = p.split_at_mut(D);
    head.copy_from_slice(&DOCKER_PROGRAM[..D]);
    let mut n = D + 2;
    // (chunks_exact_mut, not as_chunks_mut: 40 bytes smaller here.)
    #[allow(clippy::chunks_exact_to_as_chunks)]
    let mut blocks = tail.chunks_exact_mut(8);
    // (The rules first: zip takes from its first iterator first, and a block slot taken
    // for no rule would be lost.)
    for (r, slot) in extra.iter().filter_map(|l| crate::device::parse_rule(l.as_bytes())).zip(blocks.by_ref()) {
        slot.copy_from_slice(&allow_block(&r));
        n += 8;
    }
    if let Some(last) = blocks.next() {
        last[..2].copy_from_slice(&DOCKER_PROGRAM[D..]);
    }
    n
}

/// [`DOCKER`] in the container's cgroup open at `dir`, of either version, then `extra`
/// (--device and --device-cgroup-rule: allow rules, as v1 lines). [`DOCKER`]'s first rule
/// is the deny of everything, the others allow.
#[inline(never)]
pub fn docker_default(dir: BorrowedFd<'_>, path: &[u8], v2: bool, extra: &[crate::device::Line]) -> Result<()> {
    if v2 {
        // Without extra rules, docker's program as made at compile time: no copy.
        let mut p;
        let prog = match extra.is_empty() {
            true => &DOCKER_PROGRAM[..],
            false => {
                p = [0u64; WITH_EXTRA];
                let n = docker_program_with(extra, &mut p);
                &p[..n]
            }
        };
        return attach_program(dir, path, prog).map_err(|mut e| {
            e.msg.push(b" (docker's device list: --privileged goes without)");
            e
        });
    }
    let mut file = c"devices.deny";
    let mut fd = None;
    let docker = DOCKER_V1.split(|&c| c == b'\n');
    for (i, line) in docker.chain(extra.iter().map(|l| l.as_bytes())).enumerate() {
        let failed = |e| fs::write_error(line, path, file, e);
        let f = match fd.as_ref() {
            Some(f) => f,
            None => fd.insert(
                rustix::fs::openat(dir, file, OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()).map_err(failed)?,
            ),
        };
        // A rule of docker's the parent cgroup does not grant is EPERM: left out, the
        // device stays denied as it is above. The user's own rules are no such best
        // effort.
        match crate::fdio::write_all(f, line) {
            Err(Errno::PERM) if file == c"devices.allow" && i < DOCKER.len() => {}
            res => res.map_err(failed)?,
        }
        if file == c"devices.deny" {
            (file, fd) = (c"devices.allow", None);
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs the program on one request the way the kernel's interpreter would, for the
    /// handful of opcodes `program` emits.
    pub fn run(prog: &[u64], kind: u32, access: u32, major: u32, minor: u32) -> u64 {
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
                0x5d if r[dst] != r[src] => pc += off as usize,
                0x55 | 0x15 | 0x5d => {}
                0x95 => return r[0],
                c => panic!("opcode {c:#x}"),
            }
        }
    }

    /// The compile-time forms of docker's list are the generic writers' output: the
    /// program, and the v1 lines (both writers into files of a temporary directory).
    #[test]
    fn docker_list_made_at_compile_time_is_the_generic_one() {
        let mut p = [0u64; max_insns(DOCKER.len())];
        let n = program(&[&DOCKER], &mut p);
        assert_eq!(&p[..n], &DOCKER_PROGRAM[..]);
        let files = |name: &str| {
            let d = std::env::temp_dir().join(format!("tinyctr-devlist-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&d).unwrap();
            for f in ["devices.allow", "devices.deny"] {
                std::fs::write(d.join(f), "").unwrap();
            }
            d
        };
        let (a, b) = (files("generic"), files("docker"));
        for (d, generic) in [(&a, true), (&b, false)] {
            let path = std::ffi::CString::new(d.to_str().unwrap()).unwrap();
            let fd = rustix::fs::open(path.as_c_str(), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
            let res = if generic {
                write_v1(fd.as_fd(), b"x", &[&DOCKER])
            } else {
                docker_default(fd.as_fd(), b"x", false, &[])
            };
            assert!(res.is_ok());
        }
        for f in ["devices.allow", "devices.deny"] {
            assert_eq!(std::fs::read_to_string(a.join(f)).unwrap(), std::fs::read_to_string(b.join(f)).unwrap(), "{f}");
        }
        assert_eq!(std::fs::read_to_string(b.join("devices.deny")).unwrap(), "a *:* rwm");
        let _ = (std::fs::remove_dir_all(a), std::fs::remove_dir_all(b));
    }

    /// The rules of --device and --device-cgroup-rule on top of docker's program: what
    /// they allow is allowed, the rest decided as before.
    #[test]
    fn extra_rules_widen_dockers_program() {
        let line = |s: &str| crate::device::Line::from(s.as_bytes());
        let (chr, blk) = (2, 1);
        let (m, r, w) = (1, 2, 4);
        let mut p = [0u64; WITH_EXTRA];
        let n = docker_program_with(&[line("c 10:232 rw"), line("b 7:* r")], &mut p);
        let p = &p[..n];
        assert_eq!(run(p, chr, r | w, 10, 232), 1, "kvm");
        assert_eq!(run(p, chr, m, 10, 232), 1, "kvm's node may be made (docker's mknod rule)");
        assert_eq!(run(p, blk, r, 7, 3), 1, "a loop device read");
        assert_eq!(run(p, blk, w, 7, 3), 0, "but not written");
        assert_eq!(run(p, chr, r, 10, 229), 0, "fuse: not asked for");
        assert_eq!(run(p, blk, r, 8, 0), 0, "a disk");
        assert_eq!(run(p, chr, r | w, 1, 3), 1, "null");
        let mut all = [0u64; WITH_EXTRA];
        let n = docker_program_with(&[line("a *:* rwm")], &mut all);
        assert_eq!(run(&all[..n], blk, r | w, 8, 0), 1, "a *:* rwm allows everything");
        let mut none = [0u64; WITH_EXTRA];
        let n = docker_program_with(&[], &mut none);
        assert_eq!(&none[..n], &DOCKER_PROGRAM[..], "no extra rule: docker's program as it is");
        // The 16 the options allow fit.
        let many: Vec<_> = (0..crate::device::MAX).map(|i| line(&format!("c 200:{i} r"))).collect();
        let mut p = [0u64; WITH_EXTRA];
        let n = docker_program_with(&many, &mut p);
        assert_eq!(run(&p[..n], chr, r, 200, 15), 1);
        assert_eq!(run(&p[..n], chr, r, 200, 16), 0);
    }

    /// docker's list, as the program decides it: the usual nodes read and written, any
    /// node made, nothing else opened.
    #[test]
    fn docker_list() {
        let p = &DOCKER_PROGRAM[..];
        let (chr, blk) = (2, 1);
        let (m, r, w) = (1, 2, 4);
        for (major, minor) in [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2), (10, 200), (136, 9)] {
            assert_eq!(run(p, chr, r | w, major, minor), 1, "c {major}:{minor} rw");
            assert_eq!(run(p, chr, m, major, minor), 1, "c {major}:{minor} m");
        }
        for (major, minor) in [(1, 1), (1, 11), (10, 229), (10, 232), (4, 0)] {
            assert_eq!(run(p, chr, r, major, minor), 0, "c {major}:{minor} r");
            assert_eq!(run(p, chr, m, major, minor), 1, "c {major}:{minor} m: any node may be made");
        }
        assert_eq!(run(p, blk, r, 254, 0), 0, "a disk");
        assert_eq!(run(p, blk, w, 7, 0), 0, "a loop device");
        assert_eq!(run(p, blk, m, 254, 0), 1, "a disk's node may be made");
        assert_eq!(run(p, blk, m | r, 254, 0), 0, "but not opened");
    }
}
