//! Property tests of everything tinyctr parses from untrusted text: argv, sizes, CPU
//! counts and lists, mountinfo, `/proc/self/cgroup`, the PATH search and the container's
//! environment. Random inputs from a small deterministic generator (xorshift, fixed seeds:
//! a failure reproduces exactly), checked three ways:
//! - nothing panics, whatever the bytes;
//! - round trips hold where they exist (a size, a CPU list, a mount line, an argv built
//!   from a known configuration parse back to what produced them);
//! - nothing is written outside a fixed buffer, and what does not fit is refused or
//!   flagged (`Buf::overflowed`), never silently cut.
//!
//! The same parsers are fuzzed with libFuzzer under `fuzz/`; crashes found there become
//! tests here. The whole file runs in well under a second in release, a few in debug.

use std::ffi::{c_char, CStr, CString};

use rustix::io::Errno;
use tinyctr::buf::Buf;
use tinyctr::cli::{self, Command};
use tinyctr::error::Error;
use tinyctr::exec::{exec_with, join, PathBuf};
use tinyctr::limits::{check_cpu_list, parse_cpus, parse_size, parse_uint, push_size, Swap};
use tinyctr::mountinfo::{has_word, is_below, parse_cgroup_line, parse_mount, relative, unescape, Lines, SliceSource};
use tinyctr::sys::args::{CArgs, PtrArray};

mod reference;
mod rng;
use reference::{ref_cpus, ref_execvp, ref_size, ref_uint};
use rng::Rng;

/// argv as the kernel gives it: owned strings and the pointer array over them.
struct Argv {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl Argv {
    fn new<S: AsRef<[u8]>>(words: &[S]) -> Argv {
        let owned: Vec<CString> = std::iter::once(&b"tinyctr"[..])
            .chain(words.iter().map(|w| w.as_ref()))
            .map(|w| CString::new(w).expect("argv strings hold no NUL"))
            .collect();
        let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
        Argv { _owned: owned, ptrs }
    }
    fn args(&self) -> CArgs<'_> {
        // SAFETY: `ptrs` points at the strings of `_owned`, alive as long as `self`.
        unsafe { CArgs::from_raw(self.ptrs.as_ptr(), self.ptrs.len()) }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------
// Buf: the fixed buffer everything is built in.

fn check_buf<const N: usize>(rng: &mut Rng) {
    for _ in 0..300 {
        let mut b = Buf::<N>::new();
        let mut want = Vec::new();
        for _ in 0..rng.below(8) {
            let len = rng.below(2 * N + 1);
            let piece = rng.bytes(b"abc/", len);
            match rng.below(3) {
                0 => {
                    b.push(&piece);
                    want.extend_from_slice(&piece);
                }
                1 => {
                    let v = rng.magnitude();
                    b.push_u64(v);
                    want.extend_from_slice(v.to_string().as_bytes());
                }
                _ => {
                    let v = rng.magnitude() as i64;
                    b.push_i64(v);
                    want.extend_from_slice(v.to_string().as_bytes());
                }
            }
        }
        let cap = N - 1; // one byte is kept for the NUL of as_cstr
        assert_eq!(b.overflowed(), want.len() > cap, "N {N}");
        assert_eq!(b.as_bytes(), &want[..want.len().min(cap)], "N {N}: the content is always a prefix");
        assert_eq!(b.as_cstr().to_bytes(), &want[..want.len().min(cap)]);
    }
}

#[test]
fn buf_keeps_a_prefix_and_flags_overflow() {
    let mut rng = Rng::new(1);
    check_buf::<1>(&mut rng);
    check_buf::<2>(&mut rng);
    check_buf::<17>(&mut rng);
    check_buf::<64>(&mut rng);
    check_buf::<4096>(&mut rng);
}

#[test]
fn error_lines_are_bounded_and_marked_when_cut() {
    let mut rng = Rng::new(2);
    for _ in 0..500 {
        let len = rng.below(1500);
        let msg = rng.bytes(b"abc 'x:/", len);
        let e = Error::usage(&msg);
        let line = e.line();
        let b = line.as_bytes();
        assert!(!line.overflowed());
        assert!(b.starts_with(b"tinyctr: ") && b.ends_with(b"\n"));
        if msg.len() > 639 {
            assert!(b.ends_with(b"...\n"), "a cut message says so");
        } else {
            assert_eq!(&b[9..b.len() - 1], &msg[..]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// argv

/// What a successful parse promises, and that every error is one status-125 line.
fn check_parse(words: &[Vec<u8>]) {
    let argv = Argv::new(words);
    match cli::parse(argv.args()) {
        Ok(Command::Run(cfg)) => {
            let n = cfg.command.len();
            assert!(n > 0 && n < words.len(), "run without a command");
            for (c, w) in cfg.command.iter().zip(&words[words.len() - n..]) {
                assert_eq!(c.to_bytes(), &w[..], "COMMAND is argv's tail, untouched");
            }
            let mut envs = 0;
            cli::env_options(cfg.options, |v| {
                assert!(!cli::env_key(v.to_bytes()).is_empty());
                envs += 1;
            });
            assert_eq!(envs, cfg.env_count);
            assert!((1..=64).contains(&cfg.hostname.to_bytes().len()));
            let l = &cfg.limits;
            assert!(l.memory.is_none_or(|m| m > 0 && m <= i64::MAX as u64));
            assert!(l.cpu_shares.is_none_or(|s| (2..=262_144).contains(&s)));
            assert!(l.pids.is_none_or(|p| (1..=4 << 20).contains(&p)));
            assert!(l.cpus.is_none_or(|c| c.quota >= 1000 && c.period == 100_000));
            assert!(l.cpuset_cpus.is_none_or(|c| check_cpu_list(c.to_bytes()).is_ok()));
            assert!(l.validate().is_ok());
            assert!(!cfg.read_only || cfg.rootfs.is_some());
        }
        Ok(_) => {}
        Err(e) => {
            assert_eq!(e.status, 125);
            let line = e.line();
            let b = line.as_bytes();
            assert!(b.starts_with(b"tinyctr: ") && b.ends_with(b"\n"));
            if !words.iter().any(|w| w.contains(&b'\n')) {
                assert_eq!(b.iter().filter(|&&c| c == b'\n').count(), 1, "{}", text(b));
            }
        }
    }
}

#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "run", "run", "run", "check", "help", "--help", "--version", "-h", "--", "-", "", "=", "-=", "--=",
    "-m", "64m", "--memory", "--memory=1g", "-m0", "--memory-swap", "-1", "128m", "-c", "512", "-cpushare",
    "-cpushare=2", "--cpu-shares", "--cpus", ".5", "0.009", "1e3", "--cpuset-cpus", "-cpuset", "0-1", "2-1",
    "0-8191", "--pids-limit", "64", "0", "--name", "web", "-x", "--cgroup-parent", "/a/../b", "/mine", "-e",
    "A=1", "B", "=x", "--env=C=3", "-eD", "-w", "/tmp", "--workdir=", "--net", "host", "--network=none",
    "bridge", "--init", "--init=1", "-i", "-t", "-ti", "-itx", "--tty", "-r", "/srv", "--rootfs=/x",
    "--read-only", "--hostname", "box", "-hbox", "--hostname=", "sh", "/bin/sh", "-c", "true", "--bogus",
];

#[test]
fn argv_never_panics_and_keeps_its_promises() {
    let mut rng = Rng::new(3);
    for _ in 0..20_000 {
        let n = rng.below(12);
        let words: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                if i == 0 && !rng.one_in(8) {
                    b"run".to_vec()
                } else if rng.one_in(6) {
                    let len = rng.below(90);
                    rng.bytes(b"-=abcmeh0123456789.,/ ", len)
                } else {
                    rng.pick(TOKENS).as_bytes().to_vec()
                }
            })
            .collect();
        check_parse(&words);
    }
}

/// A configuration drawn at random, rendered as argv in random spellings, parses back
/// to itself.
#[test]
fn argv_round_trip() {
    let mut rng = Rng::new(4);
    let name_chars = b"abcXYZ019_.-";
    for _ in 0..3000 {
        let mut words: Vec<Vec<u8>> = vec![b"run".to_vec()];
        // (long name, short letter or book spelling, value)
        let mut opt = |rng: &mut Rng, long: &str, short: Option<&str>, value: Option<Vec<u8>>| {
            let form = rng.below(if short.is_some() { 4 } else { 2 });
            let cat = |a: &str, b: &[u8]| [a.as_bytes(), b].concat();
            match (form, value) {
                (0, None) | (1, None) => words.push(cat("--", long.as_bytes())),
                (_, None) => words.push(short.unwrap().as_bytes().to_vec()),
                (0, Some(v)) => {
                    words.push(cat("--", long.as_bytes()));
                    words.push(v);
                }
                (1, Some(v)) => words.push([cat("--", long.as_bytes()), b"=".to_vec(), v].concat()),
                (2, Some(v)) => {
                    words.push(short.unwrap().as_bytes().to_vec());
                    words.push(v);
                }
                (_, Some(v)) => {
                    let s = short.unwrap();
                    // `-ovalue` exists for one-letter options; the book's spell `-word=value`.
                    let sep: &[u8] = if s.len() == 2 { b"" } else { b"=" };
                    words.push([s.as_bytes(), sep, &v].concat());
                }
            }
        };
        let hostname = rng.one_in(2).then(|| {
            let len = 1 + rng.below(64);
            rng.bytes(b"abc-.0", len)
        });
        if let Some(h) = &hostname {
            opt(&mut rng, "hostname", Some("-h"), Some(h.clone()));
        }
        let workdir = rng.one_in(2).then(|| {
            let len = 1 + rng.below(300);
            rng.bytes(b"/abc -=", len)
        });
        if let Some(w) = &workdir {
            opt(&mut rng, "workdir", Some("-w"), Some(w.clone()));
        }
        let mut envs = Vec::new();
        for _ in 0..rng.below(5) {
            let key_len = 1 + rng.below(8);
            let mut e: Vec<u8> =
                rng.bytes(b"ABC_x", key_len).iter().map(|&c| if c == b'=' { b'_' } else { c }).collect();
            if rng.one_in(3) {
                e.push(b'=');
                let len = rng.below(20);
                e.extend(rng.bytes(b"=ab c-", len));
            }
            opt(&mut rng, "env", Some("-e"), Some(e.clone()));
            envs.push(e);
        }
        let host_net = rng.one_in(2);
        if host_net {
            let long = if rng.one_in(2) { "net" } else { "network" };
            opt(&mut rng, long, None, Some(b"host".to_vec()));
        }
        let init = rng.one_in(2);
        if init {
            opt(&mut rng, "init", None, None);
        }
        let memory = rng.one_in(2).then(|| 1 + rng.below(1 << 20) as u64);
        if let Some(m) = memory {
            let v = match rng.below(3) {
                0 => format!("{m}k"),
                1 => format!("{m}KB"),
                _ => format!("{}", m << 10),
            };
            opt(&mut rng, "memory", Some("-m"), Some(v.into_bytes()));
        }
        let swap = memory.filter(|_| rng.one_in(2)).map(|m| {
            if rng.one_in(3) {
                Swap::Unlimited
            } else {
                Swap::Total((m + rng.below(100) as u64) << 10)
            }
        });
        match swap {
            Some(Swap::Unlimited) => opt(&mut rng, "memory-swap", None, Some(b"-1".to_vec())),
            Some(Swap::Total(t)) => opt(&mut rng, "memory-swap", None, Some(t.to_string().into_bytes())),
            None => {}
        }
        let shares = rng.one_in(2).then(|| 2 + rng.below(262_143) as u64);
        if let Some(s) = shares {
            let short = if rng.one_in(2) { "-c" } else { "-cpushare" };
            opt(&mut rng, "cpu-shares", Some(short), Some(s.to_string().into_bytes()));
        }
        let cpus = rng.one_in(2).then(|| 1000 + rng.below(10_000_000) as u64);
        if let Some(q) = cpus {
            opt(&mut rng, "cpus", None, Some(format!("{}.{:05}", q / 100_000, q % 100_000).into_bytes()));
        }
        let cpuset = rng.one_in(2).then(|| {
            let a = rng.below(100);
            format!("{a}-{},{}", a + rng.below(100), rng.below(8192)).into_bytes()
        });
        if let Some(c) = &cpuset {
            opt(&mut rng, "cpuset-cpus", Some("-cpuset"), Some(c.clone()));
        }
        let pids = rng.one_in(2).then(|| 1 + rng.below(4 << 20) as u64);
        if let Some(p) = pids {
            opt(&mut rng, "pids-limit", None, Some(p.to_string().into_bytes()));
        }
        let name = rng.one_in(3).then(|| {
            let len = rng.below(64);
            [
                vec![b'n'],
                rng.bytes(name_chars, len).iter().map(|&c| if name_chars.contains(&c) { c } else { b'x' }).collect(),
            ]
            .concat()
        });
        if let Some(n) = &name {
            opt(&mut rng, "name", None, Some(n.clone()));
        }
        // The command: after `--` it may look like an option.
        let dashdash = rng.one_in(3);
        if dashdash {
            words.push(b"--".to_vec());
        }
        const AFTER_DASHDASH: [&[u8]; 4] = [b"-weird", b"sh", b"--", b"-m"];
        let first = if dashdash { *rng.pick(&AFTER_DASHDASH) } else { &b"sh"[..] };
        let mut command = vec![first.to_vec()];
        for _ in 0..rng.below(5) {
            command.push(rng.pick(TOKENS).as_bytes().to_vec());
        }
        words.extend(command.iter().cloned());

        let argv = Argv::new(&words);
        let cfg = match cli::parse(argv.args()) {
            Ok(Command::Run(cfg)) => cfg,
            Ok(_) => panic!("not a run: {words:?}"),
            Err(e) => {
                panic!("{} for {:?}", text(e.line().as_bytes()), words.iter().map(|w| text(w)).collect::<Vec<_>>())
            }
        };
        assert_eq!(cfg.hostname.to_bytes(), hostname.as_deref().unwrap_or(b"tinyctr"));
        assert_eq!(cfg.workdir.map(CStr::to_bytes), workdir.as_deref());
        assert_eq!((cfg.host_net, cfg.init), (host_net, init));
        let mut got_envs = Vec::new();
        cli::env_options(cfg.options, |v| got_envs.push(v.to_bytes().to_vec()));
        assert_eq!(got_envs, envs);
        assert_eq!(cfg.env_count, envs.len());
        let l = &cfg.limits;
        assert_eq!(l.memory, memory.map(|m| m << 10));
        assert_eq!(l.memory_swap, swap);
        assert_eq!(l.cpu_shares, shares);
        assert_eq!(l.cpus.map(|c| c.quota), cpus);
        assert_eq!(l.cpuset_cpus.map(CStr::to_bytes), cpuset.as_deref());
        assert_eq!(l.pids, pids);
        assert_eq!(l.name.map(CStr::to_bytes), name.as_deref());
        let got: Vec<&[u8]> = cfg.command.iter().map(CStr::to_bytes).collect();
        assert_eq!(got, command.iter().map(|c| &c[..]).collect::<Vec<_>>());
    }
}

/// Found by the hardening pass: a value holding a newline was quoted as is, so the "one
/// line" error became two (`tinyctr run -m $'6\n4m' sh`). Values are now escaped.
#[test]
fn an_argument_with_a_newline_still_gives_one_line() {
    for words in
        [&["run", "-m", "6\n4m", "sh"][..], &["run", "--bo\ngus", "sh"], &["ru\nn"], &["run", "--net", "a\nb", "x"]]
    {
        let argv = Argv::new(words);
        let Err(e) = cli::parse(argv.args()) else { panic!("accepted {words:?}") };
        let line = e.line();
        assert_eq!(line.as_bytes().iter().filter(|&&c| c == b'\n').count(), 1, "{:?}", text(line.as_bytes()));
    }
}

// ---------------------------------------------------------------------------------------
// sizes, CPU counts, CPU lists

#[test]
fn sizes_agree_with_a_reference_and_round_trip() {
    let mut rng = Rng::new(5);
    for _ in 0..50_000 {
        // Well-formed ones: a number, maybe a unit, maybe a b.
        let n = rng.magnitude();
        let unit = *rng.pick(&["", "k", "K", "m", "M", "g", "G"]);
        let b = *rng.pick(&["", "", "b", "B"]);
        let s = format!("{n}{unit}{b}");
        assert_eq!(parse_size(s.as_bytes()).ok(), ref_size(s.as_bytes()), "{s}");
        // Anything.
        let len = rng.below(25);
        let junk = rng.bytes(b"0123456789kmgbKMGB.-+ ", len);
        assert_eq!(parse_size(&junk).ok(), ref_size(&junk), "{}", text(&junk));
        assert_eq!(parse_uint(&junk), ref_uint(&junk));
        // An accepted size round-trips through digits and through push_size's units.
        if let Ok(v) = parse_size(s.as_bytes()) {
            assert_eq!(parse_size(v.to_string().as_bytes()), Ok(v));
            let mut out = Buf::<64>::new();
            push_size(&mut out, v);
            let shown = text(out.as_bytes());
            let (num, unit) = shown.split_once(' ').unwrap();
            let num: u64 = num.parse().unwrap();
            let back = match unit {
                "TiB" => format!("{}g", num * 1024),
                "GiB" => format!("{num}g"),
                "MiB" => format!("{num}m"),
                "KiB" => format!("{num}k"),
                _ => format!("{num}"),
            };
            assert_eq!(parse_size(back.as_bytes()), Ok(v), "{shown}");
        }
    }
}

#[test]
fn cpu_counts_agree_with_a_reference() {
    let mut rng = Rng::new(6);
    for _ in 0..50_000 {
        let whole =
            if rng.one_in(4) { String::new() } else { rng.magnitude().min(rng.below(200_000) as u64).to_string() };
        let frac_len = rng.below(9);
        let frac: String = (0..frac_len).map(|_| (b'0' + rng.below(10) as u8) as char).collect();
        let s = match rng.below(3) {
            0 => whole,
            _ => format!("{whole}.{frac}"),
        };
        assert_eq!(parse_cpus(s.as_bytes()).ok(), ref_cpus(s.as_bytes()), "{s}");
        let len = rng.below(12);
        let junk = rng.bytes(b"0123456789..-e", len);
        assert_eq!(parse_cpus(&junk).ok(), ref_cpus(&junk), "{}", text(&junk));
    }
}

fn render_cpus(set: &[bool]) -> String {
    let mut items = Vec::new();
    let mut i = 0;
    while i < set.len() {
        if set[i] {
            let start = i;
            while i < set.len() && set[i] {
                i += 1;
            }
            items.push(if i - 1 == start { start.to_string() } else { format!("{start}-{}", i - 1) });
        } else {
            i += 1;
        }
    }
    items.join(",")
}

#[test]
fn cpu_lists_round_trip() {
    let mut rng = Rng::new(7);
    for _ in 0..250 {
        // A random set (sparse or dense), in the canonical form the kernel prints...
        let top = 1 + rng.below(8192);
        let density = 1 + rng.below(8);
        let set: Vec<bool> = (0..top).map(|_| rng.one_in(density)).collect();
        let canon = render_cpus(&set);
        if canon.is_empty() {
            assert!(check_cpu_list(b"").is_err());
            continue;
        }
        assert_eq!(check_cpu_list(canon.as_bytes()), Ok(()), "{canon}");
        // ...and as overlapping, unordered items naming the same CPUs.
        let mut items: Vec<String> = canon.split(',').map(str::to_owned).collect();
        items.push(items[0].clone());
        items.reverse();
        let messy = items.join(",");
        assert_eq!(check_cpu_list(messy.as_bytes()), Ok(()), "{messy}");
        // One byte changed: never a panic, and the verdict of a reference.
        let mut bad = canon.clone().into_bytes();
        let i = rng.below(bad.len());
        bad[i] = *rng.pick(b"-,x9 0");
        let want = std::str::from_utf8(&bad).ok().and_then(|s| {
            s.split(',')
                .map(|item| {
                    let (a, b) = item.split_once('-').unwrap_or((item, item));
                    let (a, b) = (ref_uint(a.as_bytes())?, ref_uint(b.as_bytes())?);
                    (a <= b && b <= 8191).then_some(())
                })
                .collect::<Option<Vec<()>>>()
        });
        assert_eq!(check_cpu_list(&bad).is_ok(), want.is_some(), "{}", text(&bad));
    }
    assert_eq!(check_cpu_list(render_cpus(&[true; 8192]).as_bytes()), Ok(()));
    assert!(check_cpu_list(b"0-8192").is_err());
}

// ---------------------------------------------------------------------------------------
// mountinfo and /proc/self/cgroup

/// The kernel's escaping of mountinfo paths (`\ooo` for space, tab, newline, backslash).
fn escape(s: &[u8]) -> Vec<u8> {
    let mut o = Vec::new();
    for &b in s {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => o.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            _ => o.push(b),
        }
    }
    o
}

/// Lines through an n-byte buffer in `chunk`-sized reads.
fn read_lines(data: &[u8], n: usize, chunk: usize) -> (Vec<Vec<u8>>, usize) {
    let mut buf = vec![0u8; n];
    let mut r = Lines::new(SliceSource { data, chunk }, &mut buf);
    let mut v = Vec::new();
    while let Some(l) = r.next_line().unwrap() {
        v.push(l.to_vec());
    }
    (v, r.skipped)
}

#[test]
fn line_reader_matches_a_reference_for_any_buffer_and_read_size() {
    let mut rng = Rng::new(8);
    for _ in 0..5000 {
        let len = rng.below(400);
        let data = rng.bytes(b"ab \n\n", len);
        let n = 1 + rng.below(70);
        let chunk = 1 + rng.below(90);
        let mut parts: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if parts.last().is_some_and(|l| l.is_empty()) {
            parts.pop();
        }
        let want: Vec<Vec<u8>> = parts.iter().filter(|l| l.len() < n).map(|l| l.to_vec()).collect();
        let skipped = parts.iter().filter(|l| l.len() >= n).count();
        assert_eq!(read_lines(&data, n, chunk), (want, skipped), "n {n} chunk {chunk}");
    }
}

#[test]
fn mount_lines_round_trip_through_escaping() {
    let mut rng = Rng::new(9);
    let path_chars = b"/abc \t\n\\-:0";
    for _ in 0..800 {
        let mut mounts = Vec::new();
        let mut text = Vec::new();
        for _ in 0..1 + rng.below(20) {
            let root_len = rng.below(40);
            let point_len = rng.below(60);
            let root = [b"/".to_vec(), rng.bytes(path_chars, root_len)].concat();
            let point = [b"/".to_vec(), rng.bytes(path_chars, point_len)].concat();
            let optional = rng.below(4);
            let fstype = rng.pick(&["cgroup", "cgroup2", "proc", "ext4", "overlay"]).to_string();
            let opts = rng.pick(&["rw,memory", "rw,cpu,cpuacct", "rw,nsdelegate", "", "rw,name=systemd"]).to_string();
            let mut line = format!("{} {} 0:{} ", rng.below(2000), rng.below(2000), rng.below(99)).into_bytes();
            line.extend(escape(&root));
            line.push(b' ');
            line.extend(escape(&point));
            line.extend(b" rw,relatime");
            for i in 0..optional {
                line.extend(format!(" {}:{}", ["shared", "master", "propagate_from"][i % 3], rng.below(400)).bytes());
            }
            line.extend(format!(" - {fstype} src {opts}").bytes());
            text.extend(&line);
            text.push(b'\n');
            mounts.push((root, point, optional, fstype, opts));
        }
        let chunk = 1 + rng.below(300);
        let (lines, skipped) = read_lines(&text, 4096, chunk);
        assert_eq!(skipped, 0);
        assert_eq!(lines.len(), mounts.len());
        for (line, (root, point, optional, fstype, opts)) in lines.iter().zip(&mounts) {
            let m = parse_mount(line).unwrap_or_else(|| panic!("{:?}", String::from_utf8_lossy(line)));
            assert_eq!((m.optional_fields, m.fstype, m.super_options), (*optional, fstype.as_bytes(), opts.as_bytes()));
            // Unescaping into a buffer of exactly the right size works; one byte less is
            // refused; the byte after the buffer is never touched.
            for (field, want) in [(m.root, root), (m.mount_point, point)] {
                let mut space = vec![0xa5u8; want.len() + 8];
                let (exact, guard) = space.split_at_mut(want.len());
                assert_eq!(unescape(field, exact).map(<[u8]>::to_vec), Some(want.clone()));
                assert!(guard.iter().all(|&b| b == 0xa5));
                let (short, guard) = space.split_at_mut(want.len() - 1);
                assert_eq!(unescape(field, short), None);
                assert!(guard.iter().all(|&b| b == 0xa5 || b == want[want.len() - 1]));
                assert!(guard[1..].iter().all(|&b| b == 0xa5), "wrote past the buffer");
            }
            for w in opts.split(',') {
                assert!(has_word(m.super_options, w.as_bytes()) || w.is_empty());
            }
        }
    }
}

#[test]
fn random_mountinfo_never_panics() {
    let mut rng = Rng::new(10);
    let mut out = [0u8; 64];
    for _ in 0..5000 {
        let len = rng.below(600);
        let data = rng.bytes(b" -/\\0127:abc,\n", len);
        for line in read_lines(&data, 1 + rng.below(200), 1 + rng.below(64)).0 {
            if let Some(m) = parse_mount(&line) {
                assert!(m.root.starts_with(b"/") && m.mount_point.starts_with(b"/"));
                if let Some(u) = unescape(m.mount_point, &mut out) {
                    assert!(u.len() <= m.mount_point.len());
                }
                if is_below(m.mount_point, m.root) {
                    let r = relative(m.mount_point, m.root);
                    assert!(r.is_empty() || r.starts_with(b"/"));
                }
            }
            let _ = parse_cgroup_line(&line);
            let _ = unescape(&line, &mut out);
        }
    }
}

#[test]
fn cgroup_lines_split_at_the_first_two_colons_only() {
    let mut rng = Rng::new(11);
    for _ in 0..20_000 {
        let id = rng.below(20).to_string();
        let ctl = rng.pick(&["", "memory", "cpu,cpuacct", "name=systemd", "pids"]).to_string();
        let plen = rng.below(80);
        let path = [b"/".to_vec(), rng.bytes(b"/ab:c .", plen)].concat();
        let line = [format!("{id}:{ctl}:").into_bytes(), path.clone()].concat();
        let c = parse_cgroup_line(&line).unwrap();
        assert_eq!((c.id, c.controllers, c.path), (id.as_bytes(), ctl.as_bytes(), &path[..]));
        assert_eq!(has_word(c.controllers, b"memory"), ctl.split(',').any(|w| w == "memory"));
        // The same line with the path made relative, or a colon missing: refused.
        assert_eq!(parse_cgroup_line(format!("{id}:{ctl}:x").as_bytes()), None);
        assert_eq!(parse_cgroup_line(format!("{id}{ctl}").as_bytes()).map(|c| c.path.to_vec()), None);
        let len = rng.below(60);
        let junk = rng.bytes(b"0:/a,", len);
        let want = {
            let mut it = junk.splitn(3, |&b| b == b':');
            match (it.next(), it.next(), it.next()) {
                (Some(a), Some(b), Some(p)) if p.starts_with(b"/") => Some((a, b, p)),
                _ => None,
            }
        };
        assert_eq!(parse_cgroup_line(&junk).map(|c| (c.id, c.controllers, c.path)), want);
    }
}

// ---------------------------------------------------------------------------------------
// The PATH search and the environment

#[test]
fn path_join_fits_exactly_path_max() {
    let mut rng = Rng::new(12);
    let mut buf = PathBuf::new();
    for _ in 0..2000 {
        let total = 4000 + rng.below(200);
        let dir_len = 1 + rng.below(total - 1);
        let dir = [b"/".to_vec(), vec![b'd'; dir_len - 1]].concat();
        let name = vec![b'n'; total - dir_len - 1];
        let r = join(&mut buf, &dir, &name).map(|c| c.to_bytes().len());
        // dir + "/" + name is `total` bytes: a C string of at most 4095 bytes fits PathBuf.
        assert_eq!(r, (total <= 4095).then_some(total), "total {total}");
    }
}

#[test]
fn path_search_follows_execvp() {
    let mut rng = Rng::new(13);
    let answers = [Errno::NOENT, Errno::NOENT, Errno::NOTDIR, Errno::ACCESS, Errno::NOEXEC, Errno::NAMETOOLONG];
    for _ in 0..2000 {
        let n = rng.below(12);
        let entries: Vec<Vec<u8>> = (0..n)
            .map(|_| match rng.below(6) {
                0 => Vec::new(),
                1 => vec![b'x'; 4090 + rng.below(10)],
                _ => {
                    let len = rng.below(12);
                    [b"/".to_vec(), rng.bytes(b"ab/", len)].concat()
                }
            })
            .collect();
        let path = entries.join(&b':');
        let name = rng.pick(&["ls", "sh", "a/b", ""]).to_string();
        let seed = rng.next();
        let answer = |p: &[u8]| answers[(p.iter().fold(seed, |a, &b| a.wrapping_mul(31) ^ b as u64) % 6) as usize];
        let mut tried = Vec::new();
        let cmd = CString::new(name.clone()).unwrap();
        let r = exec_with(&cmd, &path, |p| {
            tried.push(p.to_bytes().to_vec());
            answer(p.to_bytes())
        });
        let (want_tried, want) = ref_execvp(name.as_bytes(), &path, answer);
        assert_eq!(tried, want_tried);
        assert_eq!(r, want);
    }
}

fn key(e: &[u8]) -> &[u8] {
    e.split(|&b| b == b'=').next().unwrap_or(e)
}

/// The last of each key, in the order of those last occurrences.
fn ref_dedup(items: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let last: std::collections::HashMap<&[u8], usize> = items.iter().enumerate().map(|(i, e)| (key(e), i)).collect();
    items.iter().enumerate().filter(|&(i, e)| last[key(e)] == i).map(|(_, e)| e.clone()).collect()
}

/// The environment the container gets: docker's defaults, then every `-e` in order, the
/// last value of a key winning, `-e KEY` copied from tinyctr's own environment or
/// dropped. Nothing else is dropped, whatever the number of variables.
#[test]
fn environment_keeps_every_variable_and_the_last_value() {
    let mut rng = Rng::new(14);
    for round in 0..400 {
        let term = rng.one_in(2).then(|| b"TERM=xterm".to_vec());
        let host: Vec<Vec<u8>> = (0..rng.below(30))
            .map(|_| {
                let len = rng.below(6);
                [b"K".to_vec(), rng.bytes(b"ABC", 1), b"=".to_vec(), rng.bytes(b"xy=", len)].concat()
            })
            .chain(term)
            .collect();
        let count = if round % 50 == 0 { 3000 } else { rng.below(40) };
        let mut words: Vec<Vec<u8>> = vec![b"run".to_vec()];
        let mut given = Vec::new();
        for _ in 0..count {
            let len = 1 + rng.below(2);
            let k = [b"K".to_vec(), rng.bytes(b"ABCDEFGH", len)].concat();
            let e = match rng.below(4) {
                0 => k,
                1 => b"PATH=/p".to_vec(),
                _ => {
                    let len = rng.below(5);
                    [k, b"=".to_vec(), rng.bytes(b"vw=", len)].concat()
                }
            };
            words.push(b"-e".to_vec());
            words.push(e.clone());
            given.push(e);
        }
        words.push(b"true".to_vec());
        let argv = Argv::new(&words);
        let host_argv = Argv::new(&host);
        let host_env = host_argv.args().tail(1);
        let Ok(Command::Run(cfg)) = cli::parse(argv.args()) else { panic!("parse") };
        let mut slots = vec![std::ptr::null(); tinyctr::env::slots_needed(&cfg)];
        let mut table = vec![0u32; tinyctr::env::table_len(&cfg)];
        let mut hostname = tinyctr::env::hostname_var(cfg.hostname);
        let hostname = hostname.as_cstr();
        let mut out = PtrArray::new(&mut slots);
        let path =
            tinyctr::env::build(&mut out, &mut table, &cfg, host_env, hostname, tinyctr::env::ROOT_HOME).to_vec();
        let got: Vec<Vec<u8>> = out.iter().map(|c| c.to_bytes().to_vec()).collect();

        let mut want: Vec<Vec<u8>> =
            vec![tinyctr::env::DEFAULT_PATH.to_bytes().to_vec(), b"HOSTNAME=tinyctr".to_vec(), b"HOME=/root".to_vec()];
        let lookup = |k: &[u8]| host.iter().find(|h| key(h) == k && h.len() > k.len()).cloned();
        want.extend(lookup(b"TERM"));
        for e in &given {
            if e.contains(&b'=') {
                want.push(e.clone());
            } else {
                want.extend(lookup(e));
            }
        }
        let want = ref_dedup(&want);
        assert_eq!(got, want, "round {round}");
        let want_path = want.iter().find_map(|e| e.strip_prefix(b"PATH=")).unwrap_or(b"").to_vec();
        assert_eq!(path, want_path);
    }
}
