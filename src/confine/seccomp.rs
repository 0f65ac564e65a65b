//! The container's seccomp filter: the rule language every filter is written in, docker's
//! default profile in that language for a given capability set, and loading the program.
//!
//! A [`Filter`] is what libseccomp and OCI's `linux.seccomp` describe, for x86_64: rules
//! naming syscall numbers, each with an [`Action`] and argument conditions ([`Cond`], with
//! libseccomp's operators on 64-bit arguments), and a default. [`compile`] (in `bpf.rs`)
//! turns it into a BPF program in the caller's buffer; the OCI runtime interface will
//! compile `linux.seccomp` through the same code. The default profile is one such filter:
//! `profile.rs` holds docker's table, and [`compile_default`] picks the rules that apply to
//! a container's capabilities and this kernel, as moby does before it hands the profile to
//! runc.
//!
//! What a default container gets differs from docker's in two chosen ways:
//! - Calls through the i386 (`int 0x80`) and x32 ABIs get EPERM. Docker's profile applies
//!   the same table to them; the issue asks them refused (they are a second, rarely used
//!   door into the kernel).
//! - A syscall numbered above every syscall the profile names (`profile::MAX_NR`) gets
//!   ENOSYS, not EPERM, as under runc (its "-ENOSYS stub"; crun has none): a libc trying a
//!   syscall newer than the profile must see "not implemented" to fall back to an older one.
//!   Numbers below that which the profile does not allow keep EPERM, as do the x32 and i386
//!   calls.
//!
//! Parent side: `compile_default` runs before clone and writes into a buffer the parent
//! owns. Child side: [`install`] is the trampoline's last step before execve.

use core::ops::Range;

use rustix::io::Errno;

use super::bpf;
use super::profile::{ALWAYS, CONDS, DEFAULT, GATED, MAX_NR, NRS};
use crate::error::Error;

/// One classic BPF instruction (struct sock_filter).
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// What a filter does with a syscall (libseccomp's `SCMP_ACT_*`; OCI's `action`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Action {
    Allow,
    /// Fails the call with this errno, without making it.
    Errno(u16),
    /// Kills the calling thread (`SCMP_ACT_KILL`).
    KillThread,
    KillProcess,
    /// Sends SIGSYS.
    Trap,
    /// Allows and logs.
    Log,
}

impl Action {
    /// The `SECCOMP_RET_*` value (<linux/seccomp.h>) a `ret` instruction returns.
    pub const fn ret(self) -> u32 {
        match self {
            Action::KillProcess => 0x8000_0000,
            Action::KillThread => 0,
            Action::Trap => 0x0003_0000,
            Action::Errno(e) => 0x0005_0000 | e as u32,
            Action::Log => 0x7ffc_0000,
            Action::Allow => 0x7fff_0000,
        }
    }

    /// The action a `ret` value stands for, as a disassembly shows it.
    #[cfg(test)]
    pub fn name(ret: u32) -> String {
        match ret & 0xffff_0000 {
            0x8000_0000 => "KILL_PROCESS".into(),
            0 => "KILL_THREAD".into(),
            0x0003_0000 => "TRAP".into(),
            0x0005_0000 => format!("ERRNO({})", ret & 0xffff),
            0x7ffc_0000 => "LOG".into(),
            0x7fff_0000 => "ALLOW".into(),
            _ => format!("{ret:#x}"),
        }
    }
}

/// libseccomp's comparison operators (`SCMP_CMP_*`), unsigned, on a 64-bit argument.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Op {
    #[default]
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    /// `arg & value == value_two`.
    MaskedEq,
}

/// `args[arg] <op> value` (OCI's `index`, `op`, `value`, `valueTwo`; the config.json
/// reader fills these directly).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Cond {
    pub arg: u8,
    pub op: Op,
    pub value: u64,
    pub value_two: u64,
}

impl Cond {
    pub const fn cmp(arg: u8, op: Op, value: u64) -> Cond {
        Cond { arg, op, value, value_two: 0 }
    }

    /// `args[arg] & mask == value`.
    pub const fn masked(arg: u8, mask: u64, value: u64) -> Cond {
        Cond { arg, op: Op::MaskedEq, value: mask, value_two: value }
    }
}

/// A [`Cond`] whose values fit 32 bits, as `profile::CONDS` stores them: 12 bytes where a
/// `Cond` takes 24 (the generator refuses a wider value).
#[derive(Clone, Copy, Debug)]
pub struct SmallCond {
    arg: u8,
    op: Op,
    value: u32,
    value_two: u32,
}

impl SmallCond {
    pub const fn cmp(arg: u8, op: Op, value: u32) -> SmallCond {
        SmallCond { arg, op, value, value_two: 0 }
    }

    /// `args[arg] & mask == value`.
    pub const fn masked(arg: u8, mask: u32, value: u32) -> SmallCond {
        SmallCond { arg, op: Op::MaskedEq, value: mask, value_two: value }
    }

    fn get(&self) -> Cond {
        Cond { arg: self.arg, op: self.op, value: self.value as u64, value_two: self.value_two as u64 }
    }
}

/// Syscalls `first..=last` get `action` when every one of `conds` holds (always, when
/// there are none).
#[derive(Clone, Copy, Debug)]
pub struct Rule<'a> {
    pub first: u16,
    pub last: u16,
    pub action: Action,
    pub conds: &'a [Cond],
}

impl Rule<'_> {
    const NONE: Rule<'static> = Rule { first: 0, last: 0, action: Action::Allow, conds: &[] };
}

/// A seccomp filter for x86_64 processes.
///
/// `rules` are sorted by number, and two rules' ranges are either the same or apart. The
/// rules of one range are tried in order and the first whose conditions hold decides, so
/// several rules for one syscall are alternatives (what libseccomp makes of several rules
/// with one action).
#[derive(Clone, Copy, Debug)]
pub struct Filter<'a> {
    pub rules: &'a [Rule<'a>],
    /// For a syscall below `unknown_from` that no rule allows.
    pub default: Action,
    /// Numbers from here up to the x32 bit get `unknown` (runc's ENOSYS for syscalls newer
    /// than the profile); `bpf::X32_BIT` for none.
    pub unknown_from: u32,
    pub unknown: Action,
    /// For calls through another ABI: i386, x32, anything not x86_64.
    pub other_abi: Action,
}

/// Compiles `f` into `out`; returns the number of instructions written (see `bpf.rs`).
pub fn compile(f: &Filter<'_>, out: &mut [SockFilter]) -> Result<usize, Errno> {
    bpf::compile(f, out)
}

/// In [`Gated`]: no capability.
pub const NO_CAP: u8 = 0xff;

/// A rule of docker's profile that depends on the container: it applies when the
/// bounding set has `cap` (`includes.caps`) and not `not_cap` (`excludes.caps`), and the
/// kernel is `min_kernel` or later (`includes.minKernel`, as `major << 8 | minor`). With
/// `any` empty it gives `action` to the syscalls `nrs` outright; otherwise only where one of
/// the conditions `any` holds (the profile's several single-condition rules for one
/// syscall). `nrs` and `any` index `profile::NRS` and `profile::CONDS`: two bytes each
/// where slices would take sixteen.
#[derive(Clone, Debug)]
pub struct Gated {
    pub nrs: Range<u8>,
    pub action: Action,
    pub cap: u8,
    pub not_cap: u8,
    pub min_kernel: u16,
    pub any: Range<u8>,
}

impl Gated {
    fn nrs(&self) -> &'static [u16] {
        NRS.get(self.nrs.start as usize..self.nrs.end as usize).unwrap_or(&[])
    }

    /// The conditions `any` in `conds`, `profile::CONDS` widened.
    fn any<'a>(&self, conds: &'a [Cond]) -> &'a [Cond] {
        conds.get(self.any.start as usize..self.any.end as usize).unwrap_or(&[])
    }
}

/// Room, in instructions, that `compile_default` never exceeds (a test holds it to this
/// for every capability set that matters; the program is 112 long for docker's).
pub const DEFAULT_MAX: usize = 256;

/// Rules `compile_default` may hand the compiler: runs of plain verdicts, one rule per
/// condition where arguments matter (at most 68 for any capability set the tests try).
const MAX_RULES: usize = 96;

/// Parent side, before clone: compiles docker's default profile for a container whose
/// capability bounding set is `caps` (bit N = capability N) into `out`; returns the number
/// of instructions written. Reads the kernel version itself (uname) for `minKernel` rules.
pub fn compile_default(caps: u64, out: &mut [SockFilter]) -> Result<usize, Error> {
    compile_profile(caps, kernel_version(), out).map_err(|e| Error::sys("compile the default seccomp profile", b"", e))
}

/// `compile_default` for a given kernel (`major << 8 | minor`). Not inlined: its scratch
/// (the rules, the compiler's segments, about 4 KiB) then leaves the stack when it returns
/// instead of widening the frame of the caller, which lives for the whole run.
#[inline(never)]
pub fn compile_profile(caps: u64, kernel: u16, out: &mut [SockFilter]) -> Result<usize, Errno> {
    let has = |cap: u8| cap < 64 && caps & (1 << cap) != 0;
    // For each syscall, the GATED entry that decides it: an unconditional entry wins over
    // one with conditions (the profile never lets two that apply together disagree; the
    // generator checks).
    const NONE: u8 = u8::MAX;
    let mut by = [NONE; MAX_NR as usize + 1];
    for (i, g) in GATED.iter().enumerate() {
        if (g.cap != NO_CAP && !has(g.cap)) || has(g.not_cap) || kernel < g.min_kernel {
            continue;
        }
        for &nr in g.nrs() {
            let slot = &mut by[nr as usize];
            if *slot == NONE || (g.any.is_empty() && !GATED[*slot as usize].any.is_empty()) {
                *slot = i as u8;
            }
        }
    }
    let conds: [Cond; CONDS.len()] = core::array::from_fn(|i| CONDS[i].get());
    let mut rules = [Rule::NONE; MAX_RULES];
    let mut n = 0;
    let mut add = |r| -> Result<(), Errno> {
        let r: Rule<'_> = r;
        // Runs of one plain action become one rule.
        if let Some(prev) = rules[..n].last_mut() {
            if prev.conds.is_empty() && r.conds.is_empty() && prev.action == r.action && prev.last + 1 == r.first {
                prev.last = r.first;
                return Ok(());
            }
        }
        *rules.get_mut(n).ok_or(Errno::TOOBIG)? = r;
        n += 1;
        Ok(())
    };
    for nr in 0..=MAX_NR {
        let plain = |action| Rule { first: nr, last: nr, action, conds: &[] };
        if ALWAYS[nr as usize / 8] & (1 << (nr % 8)) != 0 {
            add(plain(Action::Allow))?;
        } else if let Some(g) = GATED.get(by[nr as usize] as usize) {
            if g.any.is_empty() {
                add(plain(g.action))?;
            }
            for c in g.any(&conds) {
                add(Rule { first: nr, last: nr, action: g.action, conds: core::slice::from_ref(c) })?;
            }
        }
    }
    let f = Filter {
        rules: &rules[..n],
        default: DEFAULT,
        unknown_from: MAX_NR as u32 + 1,
        unknown: Action::Errno(linux_raw_sys::errno::ENOSYS as u16),
        other_abi: Action::Errno(linux_raw_sys::errno::EPERM as u16),
    };
    compile(&f, out)
}

/// The running kernel's `major << 8 | minor`; 0 if uname's release does not start with
/// `N.N` (so a `minKernel` rule does not apply: the safe side).
fn kernel_version() -> u16 {
    parse_release(rustix::system::uname().release().to_bytes())
}

fn parse_release(r: &[u8]) -> u16 {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let value = |s: &[u8]| s.iter().fold(0u16, |n, &c| n * 10 + (c - b'0') as u16);
    let d1 = digits(r);
    if d1 == 0 || d1 > 3 || r.get(d1) != Some(&b'.') {
        return 0;
    }
    let rest = &r[d1 + 1..];
    let d2 = digits(rest);
    if d2 == 0 || d2 > 3 {
        return 0;
    }
    match (value(&r[..d1]), value(&rest[..d2])) {
        (major @ 0..=255, minor @ 0..=255) => (major << 8) | minor,
        _ => 0,
    }
}

/// Child side, allocation-free: installs `prog` as the calling thread's filter
/// (seccomp(SECCOMP_SET_MODE_FILTER) or prctl(PR_SET_SECCOMP)). The caller has
/// CAP_SYS_ADMIN or has set no_new_privs. Called as the very last step before execve.
pub fn install(prog: &[SockFilter]) -> Result<(), Errno> {
    crate::sys::seccomp::set_filter(prog)
}

/// Whether this kernel can load seccomp filters (CONFIG_SECCOMP_FILTER), asked without
/// installing anything; for `tinyctr check` and the 125 error that names
/// `--security-opt seccomp=unconfined`.
pub fn available() -> bool {
    crate::sys::seccomp::filters_available()
}

#[cfg(test)]
pub(crate) mod tests;
