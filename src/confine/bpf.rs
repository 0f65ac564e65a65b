//! The seccomp compiler: a [`Filter`] (rules per x86_64 syscall number) in, a classic BPF
//! program out, written into the caller's buffer. No allocation: the only scratch is a
//! fixed table of segments on the stack.
//!
//! The program has three parts, in this order:
//!
//! 1. `ld arch` and one `jeq AUDIT_ARCH_X86_64`: any other ABI (i386 through `int 0x80`,
//!    anything else) gets `other_abi`.
//! 2. A binary search over the syscall number. The number space 0..2^32 is cut into
//!    segments of equal verdict (runs of syscalls with the same plain action merge, gaps
//!    get `default`, `unknown_from..X32_BIT` gets `unknown`, x32 calls — `nr | X32_BIT` —
//!    and larger get `other_abi`), and a balanced tree of `jge` finds a number's segment in
//!    log2(segments) jumps. The kernel's own action cache (5.11+) then skips the filter
//!    altogether for syscalls the program allows whatever their arguments.
//! 3. At the leaves that depend on arguments, the rules in order; each condition compares
//!    a 64-bit argument as two 32-bit words (high word first, as libseccomp does).
//!
//! Jump offsets of classic BPF are forward-only u8 (`jt`, `jf`): the program is emitted
//! back to front, so every target already has its place when a jump to it is written, and
//! a target more than 255 instructions away is reached through a `ja` (a 32-bit offset)
//! or, for a `ret`, a fresh copy of the `ret` right there.

use rustix::io::Errno;

use super::seccomp::{Cond, Filter, Op, Rule, SockFilter};

// Opcodes (<linux/bpf_common.h>): only those the compiler emits.
/// `BPF_LD | BPF_W | BPF_ABS`: A = the 32-bit word at offset k of `struct seccomp_data`.
pub const LD: u16 = 0x20;
/// `BPF_ALU | BPF_AND | BPF_K`: A &= k.
pub const AND: u16 = 0x54;
/// `BPF_JMP | BPF_JA`: jump k instructions forward.
pub const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`: A == k ? jt : jf (and JGT: A > k, JGE: A >= k, unsigned).
pub const JEQ: u16 = 0x15;
pub const JGT: u16 = 0x25;
pub const JGE: u16 = 0x35;
/// `BPF_RET | BPF_K`: the filter's verdict is k.
pub const RET: u16 = 0x06;

// Offsets in `struct seccomp_data` (<linux/seccomp.h>): int nr; u32 arch; u64 ip; u64 args[6].
pub const NR: u32 = 0;
pub const ARCH: u32 = 4;
/// The low (`hi = false`) or high 32-bit word of `args[i]`; x86_64 is little-endian.
pub const fn arg(i: u8, hi: bool) -> u32 {
    16 + 8 * i as u32 + if hi { 4 } else { 0 }
}

/// `AUDIT_ARCH_X86_64` (<linux/audit.h>): EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `__X32_SYSCALL_BIT`: x32 calls arrive with the x86_64 arch and this bit in `nr`.
pub const X32_BIT: u32 = 0x4000_0000;
/// `BPF_MAXINSNS`: the kernel refuses longer programs.
pub const MAX_INSNS: usize = 4096;
/// Segments a filter may cut the number space into (the default profile needs about 60).
const MAX_SEGS: usize = 256;

/// Compiles `f` into `out`; returns the program's length. EINVAL: rules out of order,
/// overlapping, naming an argument past the sixth or a number past `unknown_from`.
/// E2BIG: the program does not fit `out` (or the kernel's 4096), or has more than 256
/// segments.
pub fn compile(f: &Filter<'_>, out: &mut [SockFilter]) -> Result<usize, Errno> {
    let mut segs = [Seg { first: 0, what: What::Ret(0) }; MAX_SEGS];
    let n = segments(f, &mut segs)?;
    let mut asm = Asm::new(out);
    let search = asm.tree(f.rules, &segs[..n])?;
    let nr = asm.stmt(LD, NR, search)?;
    let native = asm.jump(JEQ, AUDIT_ARCH_X86_64, nr, Target::Ret(f.other_abi.ret()))?;
    asm.stmt(LD, ARCH, native)?;
    asm.finish()
}

/// Numbers `first..` (up to the next segment's first) get `what`.
#[derive(Clone, Copy)]
struct Seg {
    first: u32,
    what: What,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum What {
    /// This `ret` value, whatever the arguments.
    Ret(u32),
    /// `rules[from..to]`, tried in order; if none holds, `ret fall`.
    Rules { from: u16, to: u16, fall: u32 },
}

/// Cuts the number space into segments (see the module doc) and checks the rules.
fn segments(f: &Filter<'_>, segs: &mut [Seg; MAX_SEGS]) -> Result<usize, Errno> {
    let mut n = 0;
    let mut push = |first: u32, what: What| -> Result<(), Errno> {
        if n > 0 && matches!(what, What::Ret(_)) && segs[n - 1].what == what {
            return Ok(());
        }
        *segs.get_mut(n).ok_or(Errno::TOOBIG)? = Seg { first, what };
        n += 1;
        Ok(())
    };
    let default = What::Ret(f.default.ret());
    let rules = f.rules;
    if rules.len() > u16::MAX as usize || f.unknown_from > X32_BIT {
        return Err(Errno::INVAL);
    }
    let mut next = 0u32; // the first number no rule has covered yet
    let mut i = 0;
    while i < rules.len() {
        let (first, last) = (rules[i].first as u32, rules[i].last as u32);
        if first < next || last < first || last >= f.unknown_from {
            return Err(Errno::INVAL);
        }
        // The rules of one range, and the first of them without conditions: it always
        // holds, so it ends the list.
        let mut end = i;
        while end < rules.len() && rules[end].first == rules[i].first && rules[end].last == rules[i].last {
            if rules[end].conds.iter().any(|c| c.arg >= 6) {
                return Err(Errno::INVAL);
            }
            end += 1;
        }
        let uncond = (i..end).find(|&k| rules[k].conds.is_empty());
        if first > next {
            push(next, default)?;
        }
        push(
            first,
            match uncond {
                Some(k) if k == i => What::Ret(rules[i].action.ret()),
                _ => What::Rules {
                    from: i as u16,
                    to: uncond.unwrap_or(end) as u16,
                    fall: uncond.map_or(f.default, |k| rules[k].action).ret(),
                },
            },
        )?;
        next = last + 1;
        i = end;
    }
    if next < f.unknown_from {
        push(next, default)?;
    }
    if f.unknown_from < X32_BIT {
        push(f.unknown_from, What::Ret(f.unknown.ret()))?;
    }
    push(X32_BIT, What::Ret(f.other_abi.ret()))?;
    Ok(n)
}

/// Where a jump goes: an instruction already emitted (by its id, see [`Asm`]), or any
/// `ret k` (the assembler finds one in reach or writes one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    At(u32),
    Ret(u32),
}

/// The back-to-front assembler. Instructions fill `out` from its end; an instruction's id
/// is the number emitted before it, so the jump from id `a` to id `b` has offset `a - b - 1`
/// wherever the program finally starts.
struct Asm<'o> {
    out: &'o mut [SockFilter],
    len: usize,
    /// The latest `ret` of each value seen recently (value, id): reused while in reach.
    rets: [(u32, u32); 8],
    nrets: usize,
}

impl<'o> Asm<'o> {
    fn new(out: &'o mut [SockFilter]) -> Asm<'o> {
        Asm { out, len: 0, rets: [(0, 0); 8], nrets: 0 }
    }

    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> Result<Target, Errno> {
        if self.len >= self.out.len().min(MAX_INSNS) {
            return Err(Errno::TOOBIG);
        }
        let at = self.out.len() - 1 - self.len;
        self.out[at] = SockFilter { code, jt, jf, k };
        self.len += 1;
        Ok(Target::At(self.len as u32 - 1))
    }

    /// The offset of `t` from the instruction emitted next, if a `jt`/`jf` can reach it.
    fn reach(&self, t: Target) -> Option<u8> {
        let here = self.len as u32;
        let id = match t {
            Target::At(id) => id,
            Target::Ret(k) => self.rets[..self.nrets].iter().find(|r| r.0 == k)?.1,
        };
        u8::try_from(here - id - 1).ok()
    }

    /// Emits what makes `t` the very next instruction: a `ret` (remembered for reuse) or a
    /// `ja`.
    fn stub(&mut self, t: Target) -> Result<Target, Errno> {
        match t {
            Target::Ret(k) => {
                let id = self.push(RET, 0, 0, k)?;
                let Target::At(at) = id else { unreachable!() };
                match self.rets[..self.nrets].iter().position(|r| r.0 == k) {
                    Some(i) => self.rets[i].1 = at,
                    None if self.nrets < self.rets.len() => {
                        self.rets[self.nrets] = (k, at);
                        self.nrets += 1;
                    }
                    // Full: forget the oldest.
                    None => {
                        self.rets.rotate_left(1);
                        self.rets[self.nrets - 1] = (k, at);
                    }
                }
                Ok(id)
            }
            Target::At(id) => {
                let off = self.len as u32 - id - 1;
                self.push(JA, 0, 0, off)
            }
        }
    }

    /// A conditional jump `code k`: to `jt` if the test holds, else to `jf`.
    fn jump(&mut self, code: u16, k: u32, mut jt: Target, mut jf: Target) -> Result<Target, Errno> {
        loop {
            // A stub for one target moves the other one step further; at most three rounds.
            match (self.reach(jt), self.reach(jf)) {
                (Some(t), Some(f)) => return self.push(code, t, f, k),
                (None, _) => jt = self.stub(jt)?,
                (_, None) => jf = self.stub(jf)?,
            }
        }
    }

    /// A non-jump instruction that falls through to `next`.
    fn stmt(&mut self, code: u16, k: u32, next: Target) -> Result<Target, Errno> {
        if self.len == 0 || next != Target::At(self.len as u32 - 1) {
            self.stub(next)?;
        }
        self.push(code, 0, 0, k)
    }

    /// Moves the program to the front of `out`; its length.
    fn finish(self) -> Result<usize, Errno> {
        let start = self.out.len() - self.len;
        self.out.copy_within(start.., 0);
        Ok(self.len)
    }

    /// The binary search over `segs` (sorted, `segs[0].first` the lowest number in reach);
    /// A holds the syscall number.
    fn tree(&mut self, rules: &[Rule<'_>], segs: &[Seg]) -> Result<Target, Errno> {
        if let [seg] = segs {
            return match seg.what {
                What::Ret(k) => Ok(Target::Ret(k)),
                What::Rules { from, to, fall } => self.rules(&rules[from as usize..to as usize], Target::Ret(fall)),
            };
        }
        let mid = segs.len() / 2;
        let above = self.tree(rules, &segs[mid..])?;
        let below = self.tree(rules, &segs[..mid])?;
        self.jump(JGE, segs[mid].first, above, below)
    }

    /// `rules` in order, the first that holds deciding; `fall` when none does.
    ///
    /// Consecutive single-condition rules that test the same argument's high word the same
    /// way (socket's list of families) share one high-word test: a chain tests the high word
    /// once, then each rule's low word in turn, and a failed low-word test goes straight to
    /// the next rule's low-word test (the accumulator still holds that word).
    fn rules(&mut self, rules: &[Rule<'_>], fall: Target) -> Result<Target, Errno> {
        let mut next = fall;
        let mut end = rules.len();
        while end > 0 {
            let last = &rules[end - 1];
            let Some((hi, lo)) = chain_link(last) else {
                next = self.rule(last, next)?;
                end -= 1;
                continue;
            };
            let same = |r: &Rule<'_>| chain_link(r).is_some_and(|(h, l)| h == hi && l.arg == lo.arg);
            let mut start = end - 1;
            while start > 0 && same(&rules[start - 1]) {
                start -= 1;
            }
            next = self.chain(&rules[start..end], hi, next)?;
            end = start;
        }
        Ok(next)
    }

    /// A chain (see [`Asm::rules`]); `after` is where a rule past the chain starts.
    fn chain(&mut self, chain: &[Rule<'_>], hi: Option<Hi>, after: Target) -> Result<Target, Errno> {
        let mut next = after;
        for (j, r) in chain.iter().enumerate().rev() {
            let lo = chain_link(r).map(|(_, lo)| lo).ok_or(Errno::INVAL)?;
            // The accumulator already holds this word when the rule before did the same load.
            let loaded = j > 0 && chain_link(&chain[j - 1]).is_some_and(|(_, prev)| prev.mask == lo.mask);
            next = self.lo(lo, Target::Ret(r.action.ret()), next, !loaded)?;
        }
        match hi {
            Some(h) => self.hi(h, next, Target::Ret(chain[0].action.ret()), after),
            None => Ok(next),
        }
    }

    /// One rule: all its conditions, in order; `fail` when one does not hold.
    fn rule(&mut self, r: &Rule<'_>, fail: Target) -> Result<Target, Errno> {
        let mut pass = Target::Ret(r.action.ret());
        for c in r.conds.iter().rev() {
            pass = match split(c) {
                None => fail, // never holds
                Some((hi, lo)) => {
                    let lo = match lo {
                        Some(lo) => self.lo(lo, pass, fail, true)?,
                        None => pass,
                    };
                    match hi {
                        Some(h) => self.hi(h, lo, pass, fail)?,
                        None => lo,
                    }
                }
            };
        }
        Ok(pass)
    }

    /// The low-word test: `ld` (unless `load` is false) and `and`, then one jump.
    fn lo(&mut self, lo: Lo, pass: Target, fail: Target, load: bool) -> Result<Target, Errno> {
        let (jt, jf) = if lo.pass_if_true { (pass, fail) } else { (fail, pass) };
        let mut entry = self.jump(lo.jump, lo.value, jt, jf)?;
        if load {
            if lo.mask != u32::MAX {
                entry = self.stmt(AND, lo.mask, entry)?;
            }
            entry = self.stmt(LD, arg(lo.arg, false), entry)?;
        }
        Ok(entry)
    }

    /// The high-word test: equal goes on to `lo`; above or below decide by themselves.
    fn hi(&mut self, h: Hi, lo: Target, pass: Target, fail: Target) -> Result<Target, Errno> {
        let above = if h.pass_above { pass } else { fail };
        let below = if h.pass_below { pass } else { fail };
        let mut entry = if above == below {
            self.jump(JEQ, h.value, lo, above)?
        } else {
            let eq = self.jump(JEQ, h.value, lo, below)?;
            self.jump(JGT, h.value, above, eq)?
        };
        if h.mask != u32::MAX {
            entry = self.stmt(AND, h.mask, entry)?;
        }
        self.stmt(LD, arg(h.arg, true), entry)
    }
}

/// How a condition treats an argument's high word: `(word & mask)` equal to `value` goes
/// on to the low word; above or below it passes or fails the condition outright.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Hi {
    arg: u8,
    mask: u32,
    value: u32,
    pass_above: bool,
    pass_below: bool,
}

/// The low-word test: `(word & mask) <jump> value`, passing when that is `pass_if_true`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Lo {
    arg: u8,
    mask: u32,
    jump: u16,
    value: u32,
    pass_if_true: bool,
}

/// A condition as a high-word and a low-word test: `None` if it can never hold; a missing
/// high-word test means the high word cannot matter, a missing low-word test that the
/// condition holds once the high word sent it on.
fn split(c: &Cond) -> Option<(Option<Hi>, Option<Lo>)> {
    let (vh, vl) = ((c.value >> 32) as u32, c.value as u32);
    let (pass_above, pass_below, jump, pass_if_true) = match c.op {
        Op::Eq => (false, false, JEQ, true),
        Op::Ne => (true, true, JEQ, false),
        Op::Gt => (true, false, JGT, true),
        Op::Ge => (true, false, JGE, true),
        Op::Lt => (false, true, JGE, false),
        Op::Le => (false, true, JGT, false),
        Op::MaskedEq => {
            // (arg & value) == value_two, word by word; datum bits outside the mask never match.
            let (dh, dl) = ((c.value_two >> 32) as u32, c.value_two as u32);
            if dh & !vh != 0 || dl & !vl != 0 {
                return None;
            }
            let hi = (vh != 0).then_some(Hi { arg: c.arg, mask: vh, value: dh, pass_above: false, pass_below: false });
            let lo = (vl != 0).then_some(Lo { arg: c.arg, mask: vl, jump: JEQ, value: dl, pass_if_true: true });
            return Some((hi, lo));
        }
    };
    // Nothing is below 0 or above u32::MAX: the impossible side takes the other's verdict,
    // so that tests alike in effect are alike in form (socket's `< 12` then `== 13` chain).
    let (pass_above, pass_below) = match vh {
        0 => (pass_above, pass_above),
        u32::MAX => (pass_below, pass_below),
        _ => (pass_above, pass_below),
    };
    Some((
        Some(Hi { arg: c.arg, mask: u32::MAX, value: vh, pass_above, pass_below }),
        Some(Lo { arg: c.arg, mask: u32::MAX, jump, value: vl, pass_if_true }),
    ))
}

/// A rule that can be a link of a chain: one condition, with a low-word test.
fn chain_link(r: &Rule<'_>) -> Option<(Option<Hi>, Lo)> {
    match r.conds {
        [c] => match split(c)? {
            (hi, Some(lo)) => Some((hi, lo)),
            (_, None) => None,
        },
        _ => None,
    }
}

/// A readable listing of `prog`, one instruction a line, for tests and for eyes.
#[cfg(test)]
pub fn disasm(prog: &[SockFilter]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let word = |k: u32| match k {
        NR => "nr".to_string(),
        ARCH => "arch".to_string(),
        k if k >= 16 => format!("arg{}.{}", (k - 16) / 8, if k % 8 == 4 { "hi" } else { "lo" }),
        k => format!("[{k}]"),
    };
    for (i, ins) in prog.iter().enumerate() {
        let to = |off: u8| i + 1 + off as usize;
        let line = match ins.code {
            LD => format!("ld   {}", word(ins.k)),
            AND => format!("and  #{:#x}", ins.k),
            JA => format!("ja   {}", i + 1 + ins.k as usize),
            JEQ | JGT | JGE => {
                let op = match ins.code {
                    JEQ => "jeq",
                    JGT => "jgt",
                    _ => "jge",
                };
                // Syscall numbers and small values read best in decimal, masks in hex.
                let k = if ins.k < 4096 { format!("#{}", ins.k) } else { format!("#{:#x}", ins.k) };
                format!("{op}  {k:<12} jt {:<4} jf {}", to(ins.jt), to(ins.jf))
            }
            RET => format!("ret  {}", super::seccomp::Action::name(ins.k)),
            c => format!("?{c:#x} {} {} {:#x}", ins.jt, ins.jf, ins.k),
        };
        let _ = writeln!(s, "{i:4}  {line}");
    }
    s
}
