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
/// Segments a filter may cut the number space into: docker's profile needs at most 73; an
/// OCI allow-list may have more holes (3 KiB of stack, only while compiling).
pub const MAX_SEGS: usize = 256;

/// Compiles `f` into `out`; returns the program's length. EINVAL: rules out of order,
/// overlapping, naming an argument past the sixth or a number past `unknown_from`.
/// E2BIG: the program does not fit `out` (or the kernel's 4096), or has more than 256
/// segments.
pub fn compile(f: &Filter<'_>, out: &mut [SockFilter]) -> Result<usize, Errno> {
    let mut segs = [Seg { first: 0, ret: 0, from: 0, to: 0 }; MAX_SEGS];
    let n = segments(f, &mut segs)?;
    let mut asm = Asm { out, len: 0, rets: [(0, 0); 8], nrets: 0 };
    let search = asm.tree(f.rules, &segs[..n]);
    let nr = asm.stmt(LD, NR, search);
    let native = asm.jump(JEQ, AUDIT_ARCH_X86_64, nr, Target::Ret(f.other_abi.ret()));
    asm.stmt(LD, ARCH, native);
    asm.finish()
}

/// Numbers `first..` (up to the next segment's first) get `ret`, or, when `from < to`,
/// `rules[from..to]` tried in order and `ret` if none holds.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Seg {
    first: u32,
    ret: u32,
    from: u16,
    to: u16,
}

/// Cuts the number space into segments (see the module doc) and checks the rules.
fn segments(f: &Filter<'_>, segs: &mut [Seg; MAX_SEGS]) -> Result<usize, Errno> {
    let mut n = 0;
    let mut push = |first: u32, ret: u32, from: usize, to: usize| -> Result<(), Errno> {
        let seg = Seg { first, ret, from: from as u16, to: to as u16 };
        // A plain segment merges into a plain one before it with the same verdict.
        if from == to && n > 0 && segs[n - 1].from == segs[n - 1].to && segs[n - 1].ret == ret {
            return Ok(());
        }
        *segs.get_mut(n).ok_or(Errno::TOOBIG)? = seg;
        n += 1;
        Ok(())
    };
    let rules = f.rules;
    if rules.len() > u16::MAX as usize || f.unknown_from > X32_BIT {
        return Err(Errno::INVAL);
    }
    let mut next = 0u32; // the first number no rule has covered yet
    let mut i = 0;
    while i < rules.len() {
        let r = &rules[i];
        let (first, last) = (r.first as u32, r.last as u32);
        if first < next || last < first || last >= f.unknown_from {
            return Err(Errno::INVAL);
        }
        // The rules of this range, up to the first without conditions: it always holds,
        // so it ends the list and gives the verdict when no rule before it holds.
        let mut to = i;
        let mut fall = f.default;
        let mut end = i;
        while end < rules.len() && rules[end].first == r.first && rules[end].last == r.last {
            let e = &rules[end];
            if e.conds.iter().any(|c| c.arg >= 6) {
                return Err(Errno::INVAL);
            }
            if to == end {
                if e.conds.is_empty() {
                    fall = e.action;
                } else {
                    to += 1;
                }
            }
            end += 1;
        }
        if first > next {
            push(next, f.default.ret(), 0, 0)?;
        }
        push(first, fall.ret(), i, to)?;
        next = last + 1;
        i = end;
    }
    if next < f.unknown_from {
        push(next, f.default.ret(), 0, 0)?;
    }
    if f.unknown_from < X32_BIT {
        push(f.unknown_from, f.unknown.ret(), 0, 0)?;
    }
    push(X32_BIT, f.other_abi.ret(), 0, 0)?;
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
/// wherever the program finally starts. Emitting never fails: past the end of `out` it
/// only counts, and `finish` says E2BIG.
struct Asm<'o> {
    out: &'o mut [SockFilter],
    len: usize,
    /// The last `ret`s written (value, id), reused while in reach.
    rets: [(u32, u32); 8],
    nrets: usize,
}

impl Asm<'_> {
    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> Target {
        let id = self.len;
        if let Some(slot) = self.out.len().checked_sub(id + 1).and_then(|i| self.out.get_mut(i)) {
            *slot = SockFilter { code, jt, jf, k };
        }
        self.len += 1;
        Target::At(id as u32)
    }

    /// The offset of `t` from the instruction emitted next, if a `jt`/`jf` can reach it.
    fn reach(&self, t: Target) -> Option<u8> {
        let id = match t {
            Target::At(id) => id,
            // The newest `ret k` is the nearest.
            Target::Ret(k) => self.rets[..self.nrets.min(8)].iter().filter(|r| r.0 == k).map(|r| r.1).max()?,
        };
        u8::try_from(self.len as u32 - id - 1).ok()
    }

    /// Emits what makes `t` the very next instruction: a `ret` or a `ja`.
    fn stub(&mut self, t: Target) -> Target {
        match t {
            Target::Ret(k) => {
                let at = self.push(RET, 0, 0, k);
                if let Target::At(id) = at {
                    self.rets[self.nrets % 8] = (k, id);
                }
                self.nrets += 1;
                at
            }
            Target::At(id) => self.push(JA, 0, 0, self.len as u32 - id - 1),
        }
    }

    /// A conditional jump `code k`: to `jt` if the test holds, else to `jf`.
    fn jump(&mut self, code: u16, k: u32, mut jt: Target, mut jf: Target) -> Target {
        loop {
            // A stub for one target moves the other one step further; at most three rounds.
            match (self.reach(jt), self.reach(jf)) {
                (Some(t), Some(f)) => return self.push(code, t, f, k),
                (None, _) => jt = self.stub(jt),
                (_, None) => jf = self.stub(jf),
            }
        }
    }

    /// A non-jump instruction that falls through to `next`.
    fn stmt(&mut self, code: u16, k: u32, next: Target) -> Target {
        if self.len == 0 || next != Target::At(self.len as u32 - 1) {
            self.stub(next);
        }
        self.push(code, 0, 0, k)
    }

    /// Moves the program to the front of `out`; its length.
    fn finish(self) -> Result<usize, Errno> {
        let n = self.len;
        if n > self.out.len() || n > MAX_INSNS {
            return Err(Errno::TOOBIG);
        }
        self.out.copy_within(self.out.len() - n.., 0);
        Ok(n)
    }

    /// The binary search over `segs` (sorted, `segs[0].first` the lowest number in reach);
    /// A holds the syscall number.
    fn tree(&mut self, rules: &[Rule<'_>], segs: &[Seg]) -> Target {
        match segs {
            [] => Target::Ret(0), // never: `segments` leaves at least the x32 one
            [s] if s.from == s.to => Target::Ret(s.ret),
            [s] => self.rules(&rules[s.from as usize..s.to as usize], Target::Ret(s.ret)),
            _ => {
                let mid = segs.len() / 2;
                let above = self.tree(rules, &segs[mid..]);
                let below = self.tree(rules, &segs[..mid]);
                self.jump(JGE, segs[mid].first, above, below)
            }
        }
    }

    /// `rules` in order, the first that holds deciding; `fall` when none does.
    ///
    /// Consecutive rules of one plain comparison on the same argument whose high words are
    /// tested alike (socket's list of families) form a chain: its first link tests the high
    /// word and loads the low one, and a failed low-word test goes straight to the next
    /// link's low-word test, the accumulator still holding the word. A high word that
    /// decides by itself decides for the whole chain, as it would rule by rule.
    fn rules(&mut self, rules: &[Rule<'_>], fall: Target) -> Target {
        let (mut next, mut after, mut joined) = (fall, fall, false);
        for (i, r) in rules.iter().enumerate().rev() {
            let key = chain_key(r);
            let joins = key.is_some() && i > 0 && chain_key(&rules[i - 1]) == key;
            if !joined {
                after = next; // `r` is the last link of its chain, or in none
            }
            next = self.rule(r, next, joins, after);
            joined = joins;
        }
        next
    }

    /// One rule: all its conditions, in order; `fail` when one does not hold. A chain link
    /// that `joins` the one before has no high-word test and no load; a deciding high word
    /// that fails goes `after` the chain.
    fn rule(&mut self, r: &Rule<'_>, fail: Target, joins: bool, after: Target) -> Target {
        let mut pass = Target::Ret(r.action.ret());
        for c in r.conds.iter().rev() {
            pass = match split(c) {
                None => fail, // never holds
                Some((hi, lo)) => {
                    let entry = match lo {
                        Some(lo) => self.lo(lo, pass, fail, !joins),
                        None => pass,
                    };
                    match hi {
                        Some(h) if !joins => self.hi(h, entry, pass, after),
                        _ => entry,
                    }
                }
            };
        }
        pass
    }

    /// The low-word test: `ld` (unless `load` is false) and `and`, then one jump.
    fn lo(&mut self, lo: Lo, pass: Target, fail: Target, load: bool) -> Target {
        let (jt, jf) = if lo.pass_if_true { (pass, fail) } else { (fail, pass) };
        let mut entry = self.jump(lo.jump, lo.value, jt, jf);
        if load {
            if lo.mask != u32::MAX {
                entry = self.stmt(AND, lo.mask, entry);
            }
            entry = self.stmt(LD, arg(lo.arg, false), entry);
        }
        entry
    }

    /// The high-word test: equal goes on to `lo`; above or below decide by themselves.
    fn hi(&mut self, h: Hi, lo: Target, pass: Target, fail: Target) -> Target {
        let above = if h.pass_above { pass } else { fail };
        let below = if h.pass_below { pass } else { fail };
        let mut entry = self.jump(JEQ, h.value, lo, below);
        if above != below {
            entry = self.jump(JGT, h.value, above, entry);
        }
        if h.mask != u32::MAX {
            entry = self.stmt(AND, h.mask, entry);
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

/// What rules of a chain share (see [`Asm::rules`]): one comparison, not masked, on the
/// same argument, with the same high-word test.
fn chain_key(r: &Rule<'_>) -> Option<u64> {
    let [c] = r.conds else { return None };
    match split(c)? {
        (Some(h), Some(_)) if c.op != Op::MaskedEq => {
            Some(((h.value as u64) << 32) | ((c.arg as u64) << 2) | ((h.pass_above as u64) << 1) | h.pass_below as u64)
        }
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
