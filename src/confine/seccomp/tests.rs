//! The compiled default filter held against docker's profile itself, for every syscall
//! number: a small BPF interpreter runs the program, and an independent reading of the
//! JSON fixture (moby's rule selection, libseccomp's comparisons) says what it should
//! answer. The generic compiler is also held against a direct evaluation of random
//! filters, and the kernel gets to load the default program.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::*;
use crate::confine::bpf::{self, AUDIT_ARCH_X86_64, X32_BIT};

const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
const EPERM: u32 = 0x0005_0001;
const ENOSYS: u32 = 0x0005_0026;
const ALLOW: u32 = 0x7fff_0000;

/// docker's 14 default capabilities (CapBnd of a default docker container).
const DOCKER_CAPS: u64 = 0x0000_0000_a804_25fb;
const CAP_SYS_PTRACE: u64 = 1 << 19;
const CAP_SYS_ADMIN: u64 = 1 << 21;
const ALL_CAPS: u64 = (1 << 41) - 1;

/// Capability names by number (<linux/capability.h>), for reading the JSON.
const CAP_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// `struct seccomp_data` as the program sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Data {
    pub nr: u32,
    pub arch: u32,
    pub args: [u64; 6],
}

/// Runs a classic BPF program the way the kernel does (for the opcodes the compiler
/// emits); returns the verdict and how many instructions ran.
pub(crate) fn run(prog: &[SockFilter], d: &Data) -> (u32, usize) {
    let mut a: u32 = 0;
    let mut pc = 0usize;
    let mut steps = 0;
    loop {
        let ins = prog.get(pc).unwrap_or_else(|| panic!("ran off the end at {pc}"));
        steps += 1;
        pc += 1;
        let jump = |cond: bool| pc + if cond { ins.jt } else { ins.jf } as usize;
        match ins.code {
            bpf::LD => {
                a = match ins.k {
                    0 => d.nr,
                    4 => d.arch,
                    8 | 12 => 0,
                    k @ 16..=60 if k % 4 == 0 => {
                        let v = d.args[(k as usize - 16) / 8];
                        if k % 8 == 0 {
                            v as u32
                        } else {
                            (v >> 32) as u32
                        }
                    }
                    k => panic!("load of offset {k}"),
                }
            }
            bpf::AND => a &= ins.k,
            bpf::JA => pc += ins.k as usize,
            bpf::JEQ => pc = jump(a == ins.k),
            bpf::JGT => pc = jump(a > ins.k),
            bpf::JGE => pc = jump(a >= ins.k),
            bpf::RET => return (ins.k, steps),
            c => panic!("opcode {c:#x} at {}", pc - 1),
        }
    }
}

/// The x86_64 numbers of syscall names: <asm/unistd_64.h>, and linux-raw-sys for the
/// names newer than that header.
fn x86_64_numbers() -> HashMap<String, u32> {
    let header = std::fs::read_to_string("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
        .expect("<asm/unistd_64.h> (linux-libc-dev) is needed to name syscalls");
    let mut nums = HashMap::new();
    for line in header.lines() {
        let mut w = line.split_whitespace();
        if let (Some("#define"), Some(name), Some(n)) = (w.next(), w.next(), w.next()) {
            if let (Some(name), Ok(n)) = (name.strip_prefix("__NR_"), n.parse()) {
                nums.insert(name.to_string(), n);
            }
        }
    }
    macro_rules! newer {
        ($($c:ident),*) => { $(
            let name = &stringify!($c)["__NR_".len()..];
            let n = linux_raw_sys::general::$c;
            assert!(nums.get(name).is_none_or(|&m| m == n), "{name}: header and linux-raw-sys disagree");
            nums.insert(name.to_string(), n);
        )* };
    }
    newer!(
        __NR_uretprobe,
        __NR_cachestat,
        __NR_fchmodat2,
        __NR_map_shadow_stack,
        __NR_futex_wake,
        __NR_futex_wait,
        __NR_futex_requeue,
        __NR_statmount,
        __NR_listmount,
        __NR_lsm_get_self_attr,
        __NR_lsm_set_self_attr,
        __NR_lsm_list_modules,
        __NR_mseal,
        __NR_setxattrat,
        __NR_getxattrat,
        __NR_listxattrat,
        __NR_removexattrat
    );
    nums
}

/// docker's profile, read as moby and libseccomp read it.
struct Reference {
    json: Value,
    /// Per rule: the x86_64 numbers it names.
    rule_nrs: Vec<HashSet<u32>>,
    max_named: u32,
}

impl Reference {
    fn load() -> Reference {
        let text = include_str!("../../../tests/fixtures/seccomp-default.json");
        let json: Value = serde_json::from_str(text).unwrap();
        let nums = x86_64_numbers();
        let rule_nrs: Vec<HashSet<u32>> = json["syscalls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["names"].as_array().unwrap().iter().filter_map(|n| nums.get(n.as_str().unwrap()).copied()).collect()
            })
            .collect();
        let max_named = rule_nrs.iter().flatten().copied().max().unwrap();
        Reference { json, rule_nrs, max_named }
    }

    /// What syscall `d` should get in a container with bounding set `caps` on kernel
    /// `(major, minor)`.
    fn verdict(&self, caps: u64, kernel: (u64, u64), d: &Data) -> u32 {
        // tinyctr's own layer (see the module doc of seccomp.rs).
        if d.arch != AUDIT_ARCH_X86_64 || d.nr >= X32_BIT {
            return EPERM;
        }
        if d.nr > self.max_named {
            return ENOSYS;
        }
        let has = |name: &Value| {
            let i = CAP_NAMES.iter().position(|c| *c == name.as_str().unwrap()).unwrap();
            caps & (1 << i) != 0
        };
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let default_errno = self.json["defaultErrnoRet"].as_u64().unwrap() as u32;
        let mut answers = HashSet::new();
        for (rule, nrs) in self.json["syscalls"].as_array().unwrap().iter().zip(&self.rule_nrs) {
            if !nrs.contains(&d.nr) {
                continue;
            }
            // moby's setupSeccomp: arches are the daemon's GOARCH, caps the bounding set.
            let (inc, exc) = (&rule["includes"], &rule["excludes"]);
            let amd64 = |v: &Value| list(v).iter().any(|a| a == "amd64");
            if amd64(&exc["arches"])
                || list(&exc["caps"]).iter().any(has)
                || (!list(&inc["arches"]).is_empty() && !amd64(&inc["arches"]))
                || !list(&inc["caps"]).iter().all(has)
            {
                continue;
            }
            assert!(exc["minKernel"].is_null());
            if let Some(min) = inc["minKernel"].as_str() {
                let (ma, mi) = min.split_once('.').unwrap();
                if kernel < (ma.parse().unwrap(), mi.parse().unwrap()) {
                    continue;
                }
            }
            // libseccomp: the conditions of one rule all hold (runc would OR repeated
            // indexes; the profile has none).
            let args = list(&rule["args"]);
            let holds = args.iter().all(|a| {
                let x = d.args[a["index"].as_u64().unwrap() as usize];
                let v = a["value"].as_u64().unwrap();
                match a["op"].as_str().unwrap() {
                    "SCMP_CMP_NE" => x != v,
                    "SCMP_CMP_LT" => x < v,
                    "SCMP_CMP_LE" => x <= v,
                    "SCMP_CMP_EQ" => x == v,
                    "SCMP_CMP_GE" => x >= v,
                    "SCMP_CMP_GT" => x > v,
                    "SCMP_CMP_MASKED_EQ" => x & v == a["valueTwo"].as_u64().unwrap_or(0),
                    op => panic!("{op}"),
                }
            });
            if holds {
                answers.insert(match rule["action"].as_str().unwrap() {
                    "SCMP_ACT_ALLOW" => ALLOW,
                    "SCMP_ACT_ERRNO" => 0x0005_0000 | rule["errnoRet"].as_u64().map_or(default_errno, |e| e as u32),
                    a => panic!("{a}"),
                });
            }
        }
        assert!(answers.len() <= 1, "syscall {} caps {caps:#x}: rules disagree: {answers:?}", d.nr);
        answers.into_iter().next().unwrap_or(0x0005_0000 | default_errno)
    }
}

fn compiled(caps: u64, kernel: u16) -> Vec<SockFilter> {
    let mut out = [SockFilter::default(); DEFAULT_MAX];
    let n = compile_profile(caps, kernel, &mut out).unwrap();
    out[..n].to_vec()
}

/// Argument vectors that exercise every argument rule of the profile (socket's families,
/// personality's values, clone's namespace flags), and junk in the high words.
fn arg_vectors() -> Vec<[u64; 6]> {
    let mut firsts: Vec<u64> = vec![0, 1, 0xffff_ffff, u64::MAX, 1 << 32, (1 << 32) | 2, 0x8000_0000_0000_000a];
    firsts.extend(0..=50); // socket: every family and a few past AF_MAX
    firsts.extend([8, 0x20000, 0x20008, 0x40000, 0x0040_0000, 0x0020_0000, 0x1_0000_0000]); // personality
    let clone = [0x11, 0x3d0f00, 0x20000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000];
    firsts.extend(clone);
    firsts.extend([0x4000_0000, 0x1000_0011, 0x0000_8000_0000_0011, 0x7e02_0000, 0x8000_0000]);
    let mut v: Vec<[u64; 6]> = firsts.into_iter().map(|a0| [a0, 0, 0, 0, 0, 0]).collect();
    v.push([0x11, 0x7e02_0000, 7, 7, 7, 7]); // clone's flags in arg1 (s390's order) do not count
    v.push([u64::MAX; 6]);
    v.push([1, 2, 3, 4, 5, 6]);
    v
}

/// Every x86_64 number up to past the table, the edges of the number space, x32 and
/// i386 calls, and another architecture.
fn calls(max_named: u32) -> Vec<(u32, u32, bool)> {
    let mut c = Vec::new();
    for nr in (0..=max_named + 64).chain([1000, 0x3fff_ffff, 0x7fff_ffff, u32::MAX]) {
        c.push((AUDIT_ARCH_X86_64, nr, true));
    }
    for nr in 0..=max_named + 64 {
        c.push((AUDIT_ARCH_X86_64, nr | X32_BIT, false));
        c.push((AUDIT_ARCH_I386, nr, false));
    }
    for nr in [0, 1, 56, 435, 1000] {
        c.push((AUDIT_ARCH_AARCH64, nr, false));
    }
    c
}

fn check_against_profile(r: &Reference, caps: u64, kernel: (u64, u64), vectors: &[[u64; 6]]) {
    let prog = compiled(caps, ((kernel.0 as u16) << 8) | kernel.1 as u16);
    let few = [[0; 6], [u64::MAX; 6]];
    for (arch, nr, native) in calls(r.max_named) {
        for args in if native { vectors } else { &few[..] } {
            let d = Data { nr, arch, args: *args };
            let (got, _) = run(&prog, &d);
            let want = r.verdict(caps, kernel, &d);
            assert_eq!(
                Action::name(got),
                Action::name(want),
                "caps {caps:#x} kernel {kernel:?}: {d:x?}\n{}",
                bpf::disasm(&prog)
            );
        }
    }
}

#[test]
fn default_filter_matches_the_profile_for_every_syscall() {
    let r = Reference::load();
    let vectors = arg_vectors();
    for caps in [DOCKER_CAPS, DOCKER_CAPS | CAP_SYS_ADMIN, DOCKER_CAPS | CAP_SYS_PTRACE, ALL_CAPS, 0] {
        for kernel in [(6, 18), (4, 7)] {
            check_against_profile(&r, caps, kernel, &vectors);
        }
    }
}

#[test]
fn default_filter_matches_the_profile_with_each_capability_added_or_dropped() {
    let r = Reference::load();
    let vectors: Vec<[u64; 6]> = arg_vectors().into_iter().step_by(5).collect();
    for cap in 0..41 {
        check_against_profile(&r, DOCKER_CAPS | (1 << cap), (5, 10), &vectors);
        check_against_profile(&r, DOCKER_CAPS & !(1 << cap), (5, 10), &vectors);
    }
}

#[test]
fn the_profile_decides_what_the_issue_expects() {
    // A few verdicts spelled out, so a wrong fixture cannot pass by agreeing with itself.
    let prog = compiled(DOCKER_CAPS, (6 << 8) | 18);
    let call =
        |nr: u32, a0: u64| Action::name(run(&prog, &Data { nr, arch: AUDIT_ARCH_X86_64, args: [a0, 0, 0, 0, 0, 0] }).0);
    for (name, nr) in [("keyctl", 250), ("add_key", 248), ("kexec_load", 246), ("init_module", 175)] {
        assert_eq!(call(nr, 0), "ERRNO(1)", "{name}");
    }
    for nr in [304, 321, 298, 272, 165, 169, 167, 308, 425] {
        assert_eq!(call(nr, 0), "ERRNO(1)", "syscall {nr}");
    }
    assert_eq!(call(435, 0), "ERRNO(38)", "clone3");
    assert_eq!(call(56, 0x3d0f00), "ALLOW", "clone for a thread");
    assert_eq!(call(56, 0x1000_0011), "ERRNO(1)", "clone with CLONE_NEWUSER");
    assert_eq!(call(41, 2), "ALLOW", "socket(AF_INET)");
    assert_eq!(call(41, 40), "ERRNO(1)", "socket(AF_VSOCK)");
    assert_eq!(call(41, 38), "ERRNO(1)", "socket(AF_ALG)");
    assert_eq!(call(135, 0xffff_ffff), "ALLOW", "personality query");
    assert_eq!(call(135, 0x40000), "ERRNO(1)", "personality(ADDR_NO_RANDOMIZE)");
    assert_eq!(call(101, 0), "ALLOW", "ptrace on 4.8+");
    assert_eq!(call(467, 0), "ERRNO(38)", "open_tree_attr is newer than the profile");
    assert_eq!(call(39, 0), "ALLOW", "getpid");
    let i386 = run(&prog, &Data { nr: 20, arch: AUDIT_ARCH_I386, args: [0; 6] }).0;
    assert_eq!(i386, EPERM);
    let x32 = run(&prog, &Data { nr: 39 | X32_BIT, arch: AUDIT_ARCH_X86_64, args: [0; 6] }).0;
    assert_eq!(x32, EPERM);
    // With SYS_ADMIN clone3 and namespaces are allowed.
    let admin = compiled(DOCKER_CAPS | CAP_SYS_ADMIN, (6 << 8) | 18);
    assert_eq!(run(&admin, &Data { nr: 435, arch: AUDIT_ARCH_X86_64, args: [0; 6] }).0, ALLOW);
    assert_eq!(run(&admin, &Data { nr: 56, arch: AUDIT_ARCH_X86_64, args: [0x1000_0011, 0, 0, 0, 0, 0] }).0, ALLOW);
}

#[test]
fn default_program_is_short_and_reads_well() {
    let prog = compiled(DOCKER_CAPS, (6 << 8) | 18);
    let text = bpf::disasm(&prog);
    println!("{} instructions:\n{text}", prog.len());
    let lines: Vec<&str> = text.lines().map(|l| l.trim_start()).collect();
    assert!(lines[0].ends_with("ld   arch"), "{}", lines[0]);
    assert!(lines[1].contains("jeq  #0xc000003e"), "{}", lines[1]);
    assert!(lines.iter().any(|l| l.ends_with("ld   nr")));
    assert!(prog.len() < 160, "{} instructions", prog.len());
    // A typical syscall walks the tree, not a list: a handful of instructions.
    let (_, steps) = run(&prog, &Data { nr: 110, arch: AUDIT_ARCH_X86_64, args: [0; 6] });
    assert!(steps <= 12, "getppid takes {steps} instructions");
    // socket's families share one high-word test.
    assert!(text.matches("arg0.hi").count() <= 4, "{text}");
}

#[test]
fn default_program_fits_default_max_for_any_capabilities() {
    let mut longest = 0;
    let mut sets = vec![0, DOCKER_CAPS, ALL_CAPS];
    sets.extend((0..41).map(|c| 1u64 << c));
    sets.extend((0..41).map(|c| DOCKER_CAPS & !(1 << c)));
    sets.extend((0..41).map(|c| ALL_CAPS & !(1 << c)));
    for caps in sets {
        for kernel in [0, (4 << 8) | 8] {
            let mut out = [SockFilter::default(); DEFAULT_MAX];
            longest = longest.max(compile_profile(caps, kernel, &mut out).unwrap());
        }
    }
    assert!(longest * 3 / 2 <= DEFAULT_MAX, "longest program {longest}: leave DEFAULT_MAX some room");
}

#[test]
fn compile_is_fast() {
    let mut out = [SockFilter::default(); DEFAULT_MAX];
    let t = std::time::Instant::now();
    for _ in 0..1000 {
        compile_profile(DOCKER_CAPS, (6 << 8) | 18, &mut out).unwrap();
    }
    println!("compile_profile: {:?} per program (this build)", t.elapsed() / 1000);
}

#[test]
fn kernel_release_parses() {
    assert_eq!(parse_release(b"6.18.44-fc-v1045"), (6 << 8) | 18);
    assert_eq!(parse_release(b"4.8"), (4 << 8) | 8);
    assert_eq!(parse_release(b"5.10.0-28-amd64"), (5 << 8) | 10);
    for bad in [&b""[..], b"6", b"x.1", b"6.", b"6.x", b"6a.1", b"1000.1", b"6.1000", b"256.1"] {
        assert_eq!(parse_release(bad), 0, "{}", String::from_utf8_lossy(bad));
    }
    assert!(kernel_version() >= (3 << 8) | 17);
}

#[test]
fn the_table_is_what_the_generator_makes() {
    let out = std::process::Command::new("python3")
        .args(["tools/seccomp-profile.py", "--stdout"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        other => {
            let why = format!("cannot run tools/seccomp-profile.py: {other:?}");
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true, so this may not skip: {why}");
            eprintln!("skipped: {why}");
            return;
        }
    };
    let made = String::from_utf8(out.stdout).unwrap();
    assert!(made == include_str!("../profile.rs"), "src/confine/profile.rs is stale: run tools/seccomp-profile.py");
}

// ---- the compiler itself, on random filters ----

/// xorshift64*: enough randomness to shake the compiler, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Values near the interesting edges of 64-bit comparisons.
    fn value(&mut self) -> u64 {
        let pick = [0, 1, 2, 40, 0xffff_ffff, 1 << 32, (1 << 32) + 1, u64::MAX, u64::MAX - 1, 0x8000_0000];
        match self.below(3) {
            0 => pick[self.below(pick.len() as u64) as usize],
            1 => self.below(64) | (self.below(3) << 32),
            _ => self.next(),
        }
    }
}

/// What a [`Filter`] means, read directly.
fn evaluate(f: &Filter<'_>, d: &Data) -> u32 {
    if d.arch != AUDIT_ARCH_X86_64 || d.nr >= X32_BIT {
        return f.other_abi.ret();
    }
    if d.nr >= f.unknown_from {
        return f.unknown.ret();
    }
    let holds = |c: &Cond| {
        let x = d.args[c.arg as usize];
        match c.op {
            Op::Ne => x != c.value,
            Op::Lt => x < c.value,
            Op::Le => x <= c.value,
            Op::Eq => x == c.value,
            Op::Ge => x >= c.value,
            Op::Gt => x > c.value,
            Op::MaskedEq => x & c.value == c.value_two,
        }
    };
    f.rules
        .iter()
        .filter(|r| (r.first as u32..=r.last as u32).contains(&d.nr))
        .find(|r| r.conds.iter().all(holds))
        .map_or(f.default.ret(), |r| r.action.ret())
}

#[test]
fn compiler_matches_direct_evaluation_of_random_filters() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let actions = [Action::Allow, Action::Errno(1), Action::Errno(38), Action::KillProcess, Action::Trap, Action::Log];
    let ops = [Op::Ne, Op::Lt, Op::Le, Op::Eq, Op::Ge, Op::Gt, Op::MaskedEq];
    let mut longest = 0;
    for round in 0..300 {
        // Conditions: mostly on one argument, so chains form; values near the word edges.
        let conds: Vec<Cond> = (0..64)
            .map(|_| {
                let arg = if rng.below(4) == 0 { rng.below(6) as u8 } else { 0 };
                let op = ops[rng.below(7) as usize];
                Cond { arg, op, value: rng.value(), value_two: rng.value() & rng.value() }
            })
            .collect();
        let mut rules = Vec::new();
        let mut nr = rng.below(4) as u16;
        // Big rounds make programs past 255 instructions, so far jumps are needed.
        let count = if round % 10 == 0 { 120 } else { 1 + rng.below(30) };
        for _ in 0..count {
            let last = nr + if rng.below(4) == 0 { rng.below(20) as u16 } else { 0 };
            for _ in 0..1 + rng.below(if round % 10 == 0 { 12 } else { 4 }) {
                // One condition half the time: chains of those are what the compiler optimises.
                let n = if rng.below(2) == 0 { 1 } else { rng.below(4) as usize };
                let at = rng.below(conds.len() as u64 - 4) as usize;
                rules.push(Rule { first: nr, last, action: actions[rng.below(6) as usize], conds: &conds[at..at + n] });
            }
            nr = last + 1 + rng.below(3) as u16;
        }
        let f = Filter {
            rules: &rules,
            default: actions[rng.below(6) as usize],
            unknown_from: if rng.below(2) == 0 { nr as u32 + rng.below(5) as u32 } else { X32_BIT },
            unknown: Action::Errno(38),
            other_abi: Action::KillProcess,
        };
        let mut out = vec![SockFilter::default(); 4096];
        let n = compile(&f, &mut out).unwrap_or_else(|e| panic!("round {round}: {e:?}"));
        let prog = &out[..n];
        longest = longest.max(n);
        let mut probes: Vec<u32> = (0..nr as u32 + 8).collect();
        probes.extend([X32_BIT - 1, X32_BIT, u32::MAX]);
        for &p in &probes {
            for _ in 0..24 {
                let args = [rng.value(), rng.value(), rng.value(), rng.value(), rng.value(), rng.value()];
                // Also arguments that hit the conditions' own values.
                let mut d = Data { nr: p, arch: AUDIT_ARCH_X86_64, args };
                if rng.below(2) == 0 {
                    let c = conds[rng.below(conds.len() as u64) as usize];
                    d.args[c.arg as usize] = match rng.below(3) {
                        0 => c.value,
                        1 => c.value.wrapping_add(1),
                        _ => c.value_two | (rng.next() & !c.value),
                    };
                }
                assert_eq!(
                    Action::name(run(prog, &d).0),
                    Action::name(evaluate(&f, &d)),
                    "round {round}: {d:x?}\n{}",
                    bpf::disasm(prog)
                );
            }
        }
        let other = Data { nr: 1, arch: AUDIT_ARCH_I386, args: [0; 6] };
        assert_eq!(run(prog, &other).0, Action::KillProcess.ret());
    }
    assert!(longest > 600, "no round needed far jumps (longest program {longest})");
}

#[test]
fn chains_load_the_word_again_when_the_mask_changes() {
    // Single-condition rules on one argument whose high words are tested alike form one
    // chain; a link with another mask must not trust the word the previous link left.
    let conds = [
        Cond::masked(0, 0xff, 0x12),
        Cond::masked(0, 0xff, 0x34),
        Cond::masked(0, 0xf00, 0x300),
        Cond::cmp(0, Op::Eq, 0x345),
        Cond::cmp(0, Op::Lt, 7),
        Cond::cmp(1, Op::Eq, 0x345),
    ];
    let rules: Vec<Rule<'_>> = (0..conds.len())
        .map(|i| Rule { first: 1, last: 1, action: Action::Errno(10 + i as u16), conds: &conds[i..=i] })
        .collect();
    let f = Filter {
        rules: &rules,
        default: Action::Allow,
        unknown_from: 2,
        unknown: Action::Log,
        other_abi: Action::Trap,
    };
    let mut out = [SockFilter::default(); 64];
    let n = compile(&f, &mut out).unwrap();
    for a0 in [0x12, 0x34, 0x1234, 0x312, 0x345, 0x300, 0x3ff, 0x445, 6, 7, 0, 0x1_0000_0012, 0x1_0000_0345] {
        for a1 in [0, 0x345] {
            let d = Data { nr: 1, arch: AUDIT_ARCH_X86_64, args: [a0, a1, 0, 0, 0, 0] };
            let (got, want) = (run(&out[..n], &d).0, evaluate(&f, &d));
            assert_eq!(Action::name(got), Action::name(want), "{d:x?}\n{}", bpf::disasm(&out[..n]));
        }
    }
}

#[test]
fn compiler_refuses_bad_filters() {
    let c = [Cond::cmp(6, Op::Eq, 1)];
    let base = Filter {
        rules: &[],
        default: Action::Errno(1),
        unknown_from: 100,
        unknown: Action::Errno(38),
        other_abi: Action::Errno(1),
    };
    let mut out = [SockFilter::default(); 64];
    let bad: [&[Rule<'_>]; 4] = [
        // out of order
        &[Rule { first: 5, last: 5, ..Rule::NONE }, Rule { first: 4, last: 4, ..Rule::NONE }],
        // overlapping
        &[Rule { first: 4, last: 6, ..Rule::NONE }, Rule { first: 5, last: 5, ..Rule::NONE }],
        // no seventh argument
        &[Rule { first: 4, last: 4, action: Action::Allow, conds: &c }],
        // past unknown_from
        &[Rule { first: 100, last: 100, ..Rule::NONE }],
    ];
    for rules in bad {
        assert_eq!(compile(&Filter { rules, ..base }, &mut out), Err(Errno::INVAL), "{rules:?}");
    }
    let rules: Vec<Rule<'_>> = (0..40).map(|i| Rule { first: 2 * i, last: 2 * i, ..Rule::NONE }).collect();
    assert_eq!(compile(&Filter { rules: &rules, ..base }, &mut out[..16]), Err(Errno::TOOBIG));
    // Every other syscall allowed: more segments than the compiler has room for.
    let rules: Vec<Rule<'_>> = (0..200).map(|i| Rule { first: 2 * i, last: 2 * i, ..Rule::NONE }).collect();
    let mut big = vec![SockFilter::default(); 4096];
    assert_eq!(compile(&Filter { rules: &rules, unknown_from: 1000, ..base }, &mut big), Err(Errno::TOOBIG));
    let rules = &rules[..120];
    assert!(compile(&Filter { rules, unknown_from: 1000, ..base }, &mut big).is_ok());
}

// ---- the kernel ----

#[test]
fn kernel_loads_the_default_program_and_answers_as_the_profile_says() {
    use crate::sys::{clone3, clone_fork, Forked};
    assert!(available(), "this kernel has CONFIG_SECCOMP_FILTER (FACTS.md)");
    let prog = compiled(DOCKER_CAPS, kernel_version());
    let (rx, tx) = rustix::pipe::pipe().unwrap();
    // The child may only make raw system calls (the harness has other threads).
    match clone_fork(0).unwrap() {
        Forked::Child => {
            let report = |b: u8| {
                let _ = rustix::io::write(&tx, &[b]);
            };
            if rustix::thread::set_no_new_privs(true).is_err() || install(&prog).is_err() {
                report(b'L');
                crate::sys::exit(1);
            }
            report(if rustix::process::getppid().is_some() { b'p' } else { b'-' });
            report(match crate::sys::unshare(linux_raw_sys::general::CLONE_NEWUSER) {
                Err(Errno::PERM) => b'u',
                _ => b'-',
            });
            let vsock = rustix::net::AddressFamily::from_raw(40);
            report(match rustix::net::socket(vsock, rustix::net::SocketType::STREAM, None) {
                Err(Errno::PERM) => b'v',
                _ => b'-',
            });
            report(match clone3(0, None) {
                Err(Errno::NOSYS) => b'3',
                Ok(Forked::Child) => crate::sys::exit(0),
                _ => b'-',
            });
            crate::sys::exit(0);
        }
        Forked::Parent { pid, .. } => {
            drop(tx);
            let mut got = Vec::new();
            let mut buf = [0u8; 16];
            while let Ok(n @ 1..) = rustix::io::read(&rx, &mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            let _ =
                rustix::process::waitpid(rustix::process::Pid::from_raw(pid), rustix::process::WaitOptions::empty());
            assert_eq!(String::from_utf8_lossy(&got), "puv3");
        }
    }
}
