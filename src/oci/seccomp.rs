//! config.json's `linux.seccomp` (parsed by `linux.rs`) as a filter for the compiler the
//! built-in profile goes through (`confine::seccomp`), read as runc reads it with
//! libseccomp, for x86_64:
//!
//! - Syscall names are looked up in `syscalls.rs` (the x86_64 table); an unknown name is
//!   left out, as runc and libseccomp do (a profile names other architectures' calls).
//! - A rule whose action is the default action is left out (runc: "redundant").
//! - The first rule without `args` that names a syscall decides it alone; later rules
//!   for it, and rules with `args` before or after, have no effect (libseccomp: a
//!   syscall that has an unconditional rule ignores further rules, and an unconditional
//!   rule replaces the conditional ones it has).
//! - A rule's `args` must all hold for its action; but when two of them compare the same
//!   argument, runc adds each as a rule of its own, so that then any one is enough. The
//!   rules with `args` for one syscall are alternatives, tried in the profile's order
//!   (libseccomp orders its tree by argument instead; the two differ only for rules with
//!   different actions whose conditions can hold together, which no known profile has).
//! - runc's "-ENOSYS stub": when the default action refuses (not ALLOW or LOG) and
//!   `architectures` lists SCMP_ARCH_X86_64, x86_64 syscalls numbered above every one the
//!   profile names get ENOSYS, so that a libc can fall back from a syscall newer than the
//!   profile.
//!
//! The other x86 ABIs. libseccomp applies the rules to each architecture `architectures`
//! lists (with that ABI's numbers) and answers calls through an unlisted one with its
//! "bad architecture" action, which runc leaves at SCMP_ACT_KILL (the thread). The
//! compiler gives every call that is not a plain x86_64 call one action:
//! - neither SCMP_ARCH_X86 nor SCMP_ARCH_X32 is listed: KILL_THREAD, exactly as under runc;
//! - one or both listed (containerd and docker list both): the default action. tinyctr
//!   has no i386 or x32 table to apply the rules with, so such calls are refused where
//!   runc would allow some of them. That is stricter than runc, never looser, as long as
//!   the default refuses; with a default of ALLOW or LOG it would open the 32-bit door
//!   around every rule, and such a profile is refused (naming the JSON path) instead.
//!   (When only one of the two is listed, calls through the other get the default too,
//!   not KILL: refused either way.)
//!
//! Actions: ALLOW, ERRNO (with `errnoRet`, EPERM without), KILL / KILL_THREAD,
//! KILL_PROCESS, TRAP and LOG, all that the compiler has; the parser refuses the others
//! (NOTIFY, TRACE) by name.

use crate::confine::bpf;
use crate::confine::seccomp::{Action, Filter, Rule, SockFilter};
use crate::error::{Error, Result};
use crate::sys::list::List;

use super::linux::{self, Seccomp};
use super::syscalls::{LAST, NAMES};

/// Bits of `Seccomp::archs` (`names::SECCOMP_ARCHS` order).
const X86_64: u32 = 1 << 0;
const X86: u32 = 1 << 1;
const X32: u32 = 1 << 2;

/// Conditional (syscall, rule) pairs a profile may have, and rules the compiler may be
/// handed (docker's profile needs about 40 and 70).
const MAX_PAIRS: usize = 512;
const MAX_RULES: usize = 1024;

/// The x86_64 number of syscall `name`.
pub fn number(name: &[u8]) -> Option<u16> {
    match name {
        b"" => None, // an empty word of NAMES is a number without a syscall
        _ => crate::words::position(NAMES, name).map(|n| n as u16),
    }
}

fn action(a: linux::Action, errno: u16) -> Action {
    match a {
        linux::Action::KillThread => Action::KillThread,
        linux::Action::KillProcess => Action::KillProcess,
        linux::Action::Trap => Action::Trap,
        linux::Action::Errno => Action::Errno(errno),
        linux::Action::Log => Action::Log,
        linux::Action::Allow => Action::Allow,
    }
}

/// Instructions the program of `s` can take at most: the room [`compile`] needs.
///
/// From the compiler (`bpf.rs`): a conditional jump is at most 3 instructions (itself
/// and a `ret` or `ja` stub for each target out of reach), a load or `and` at most 2.
/// The arch check and the number's load take 7; the search tree one jump per segment
/// but one; each argument condition, copied for every syscall its rule names, at most
/// 17 (high word: load, and, two jumps; low word: load, and, a jump). The segments are
/// at most two per syscall named (its own and the gap before it) and three more, and at
/// most the compiler's 256. The kernel's 4096 caps it all (the compiler refuses more).
pub fn max_len(s: &Seccomp<'_>) -> usize {
    if !s.enabled {
        return 0;
    }
    let (mut names, mut conds) = (0usize, 0usize);
    for r in s.rules.iter() {
        names += r.names.len();
        conds += r.names.len() * s.conds(r).len();
    }
    let segs = (2 * names + 3).min(bpf::MAX_SEGS);
    (7 + 3 * segs + 17 * conds).min(bpf::MAX_INSNS)
}

/// Compiles `s` into `out` (at least [`max_len`] long); returns the program's length.
/// Not inlined: its scratch (about 30 KiB: the rules, the compiler's segments) leaves
/// the stack when it returns.
#[inline(never)]
pub fn compile(s: &Seccomp<'_>, out: &mut [SockFilter]) -> Result<usize> {
    let default = action(s.default_action, s.default_errno);
    let permissive = matches!(default, Action::Allow | Action::Log);
    let other_abi = match s.archs & (X86 | X32) {
        0 => Action::KillThread,
        _ if permissive => return Err(Error::usage(ABI_DOOR)),
        _ => default,
    };

    // Per syscall: the rule without args that decides it; and the (syscall, rule) pairs
    // of the rules with args, in the profile's order.
    const NONE: u16 = u16::MAX;
    let mut plain = [NONE; LAST as usize + 1];
    let mut pairs = [(0u16, 0u16); MAX_PAIRS];
    let mut npairs = 0;
    let mut highest = None;
    for (i, r) in s.rules.iter().enumerate() {
        let act = action(r.action, r.errno);
        let conds = s.conds(r);
        for name in r.names.iter() {
            let Some(nr) = number(name.to_bytes()) else { continue };
            highest = highest.max(Some(nr));
            if act == default {
                continue;
            }
            if conds.is_empty() {
                if plain[nr as usize] == NONE {
                    plain[nr as usize] = i as u16;
                }
            } else {
                *pairs.get_mut(npairs).ok_or_else(|| too_many(b"syscall names in rules with args", MAX_PAIRS))? =
                    (nr, i as u16);
                npairs += 1;
            }
        }
    }
    let pairs = &pairs[..npairs];

    // In a mapping, not on the stack: a profile needs a page of the 24 KiB at most.
    let mut rules = crate::sys::MapBox::new(List::<Rule<'_>, MAX_RULES>::default)
        .map_err(|e| Error::sys("map memory for", b"config.json's linux.seccomp", e))?;
    for nr in 0..=LAST {
        if let Some(r) = s.rules.get(plain[nr as usize] as usize) {
            add(&mut rules, Rule { first: nr, last: nr, action: action(r.action, r.errno), conds: &[] })?;
            continue;
        }
        let mut prev = NONE;
        // A scan per syscall (at most 470 of 512 pairs) where a sort would link 3 KB.
        for &(_, i) in pairs.iter().filter(|p| p.0 == nr) {
            if i == prev {
                continue; // the rule names the syscall twice
            }
            prev = i;
            let r = &s.rules[i as usize];
            let (act, conds) = (action(r.action, r.errno), s.conds(r));
            let mut seen = 0u8;
            let shared = conds.iter().any(|c| {
                let bit = 1u8 << c.arg.min(7);
                let again = seen & bit != 0;
                seen |= bit;
                again
            });
            if shared {
                // runc: each condition a rule of its own.
                for c in conds {
                    add(&mut rules, Rule { first: nr, last: nr, action: act, conds: core::slice::from_ref(c) })?;
                }
            } else {
                add(&mut rules, Rule { first: nr, last: nr, action: act, conds })?;
            }
        }
    }

    let unknown_from = match highest {
        Some(h) if !permissive && s.archs & X86_64 != 0 => h as u32 + 1,
        _ => bpf::X32_BIT,
    };
    let f = Filter {
        rules: &rules,
        default,
        unknown_from,
        unknown: Action::Errno(linux_raw_sys::errno::ENOSYS as u16),
        other_abi,
    };
    crate::confine::seccomp::compile(&f, out).map_err(|e| {
        let mut err = Error::sys("compile config.json's linux.seccomp", b"", e);
        if e == rustix::io::Errno::TOOBIG {
            err.msg.push(b"; the program would be longer than the kernel's 4096 instructions, or cut the syscall numbers into more than 256 ranges");
        }
        err
    })
}

/// Appends `r` to `rules`; runs of one plain action become one rule.
fn add<'r>(rules: &mut List<Rule<'r>, MAX_RULES>, r: Rule<'r>) -> Result<()> {
    if let Some(prev) = rules.last_mut() {
        if prev.conds.is_empty() && r.conds.is_empty() && prev.action == r.action && prev.last + 1 == r.first {
            prev.last = r.first;
            return Ok(());
        }
    }
    match rules.push(r) {
        true => Ok(()),
        false => Err(too_many(b"rules for the filter compiler", MAX_RULES)),
    }
}

const ABI_DOOR: &[u8] = b"config.json: linux.seccomp.architectures: SCMP_ARCH_X86 or SCMP_ARCH_X32 with an allowing defaultAction: tinyctr applies the rules to x86_64 calls only, and cannot let i386 or x32 calls around them (leave those architectures out: their calls are then killed, as libseccomp does for an unlisted one)";

fn too_many(what: &[u8], max: usize) -> Error {
    let mut e = Error::usage(b"config.json: linux.seccomp.syscalls: more than ");
    e.msg.push_u64(max as u64).push(b" ").push(what);
    e
}

#[cfg(test)]
mod tests;
