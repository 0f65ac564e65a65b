//! Independent reference models of tinyctr's parsers, written the plain way (std, u128
//! arithmetic, `Vec`s), for `tests/props.rs` and the libFuzzer targets in `fuzz/` (which
//! include this file by path): one model, two kinds of random input.
#![allow(dead_code)]

use rustix::io::Errno;

/// `--pids-limit`, `--cpu-shares`: digits only, at most 20 of them, value fits u64.
pub fn ref_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    u64::try_from(std::str::from_utf8(s).ok()?.parse::<u128>().ok()?).ok()
}

/// `-m`, `--memory-swap`: digits, optional k/m/g (any case), optional b/B; 1..=i64::MAX bytes.
pub fn ref_size(s: &[u8]) -> Option<u64> {
    let d = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let (num, unit) = s.split_at(d);
    let (shift, rest) = match unit.first().map(u8::to_ascii_lowercase) {
        Some(b'k') => (10, &unit[1..]),
        Some(b'm') => (20, &unit[1..]),
        Some(b'g') => (30, &unit[1..]),
        _ => (0, unit),
    };
    if !(rest.is_empty() || rest == b"b" || rest == b"B") {
        return None;
    }
    let n = ref_uint(num)? as u128;
    (n > 0 && n << shift <= i64::MAX as u128).then_some((n << shift) as u64)
}

/// `--cpus`: a decimal of at most 100,000 CPUs and at least 0.01, as a quota in
/// 100,000ths of a CPU (digits beyond the fifth decimal are dropped).
pub fn ref_cpus(s: &[u8]) -> Option<u64> {
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &b""[..]),
    };
    if (int.is_empty() && frac.is_empty()) || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let whole = if int.is_empty() { 0 } else { ref_uint(int)? };
    let mut f = frac.to_vec();
    f.resize(5, b'0');
    let q = whole.checked_mul(100_000)? + std::str::from_utf8(&f[..5]).unwrap().parse::<u64>().unwrap();
    (whole <= 100_000 && q >= 1000).then_some(q)
}

/// `dir/name` as execvp builds it: `.` for an empty entry, no doubled `/`.
pub fn ref_join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let dir = if dir.is_empty() { &b"."[..] } else { dir };
    let slash: &[u8] = if dir.ends_with(b"/") { b"" } else { b"/" };
    [dir, slash, name].concat()
}

/// execvp(3)'s search for `name` in `path`, where `answer` is what execve says for each
/// path tried: the paths tried in order and the result. A name with a `/` is tried
/// alone; otherwise each entry, skipping what cannot be a path (over 4095 bytes, or with
/// a NUL); ENOENT, ENOTDIR and ENAMETOOLONG go on to the next entry, EACCES too but is
/// remembered, anything else ends the search. No name at all is ENOENT.
pub fn ref_execvp(name: &[u8], path: &[u8], mut answer: impl FnMut(&[u8]) -> Errno) -> (Vec<Vec<u8>>, Errno) {
    if name.is_empty() {
        return (vec![], Errno::NOENT);
    }
    if name.contains(&b'/') {
        return (vec![name.to_vec()], answer(name));
    }
    let mut tried = Vec::new();
    let mut eacces = false;
    for dir in path.split(|&b| b == b':') {
        let full = ref_join(dir, name);
        if full.len() > 4095 || full.contains(&0) {
            continue;
        }
        let a = answer(&full);
        tried.push(full);
        match a {
            Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => {}
            Errno::ACCESS => eacces = true,
            other => return (tried, other),
        }
    }
    (tried, if eacces { Errno::ACCESS } else { Errno::NOENT })
}
