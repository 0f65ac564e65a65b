//! The number parsers of `limits`: `parse_size` (`-m`, `--memory-swap`), `parse_uint`
//! (`--pids-limit`, `--cpu-shares`) and `parse_cpus` (`--cpus`), against an independent
//! reference written here with u128 arithmetic, plus the round trip of an accepted size
//! through plain digits and through `push_size`'s binary units.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::buf::Buf;
use tinyctr::limits::{parse_cpus, parse_size, parse_uint, push_size};

/// Digits only, at most 20 of them, value fits u64.
fn ref_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u128 = std::str::from_utf8(s).ok()?.parse().ok()?;
    u64::try_from(v).ok()
}

/// digits, optional k/m/g (any case), optional b/B; 1..=i64::MAX bytes.
fn ref_size(s: &[u8]) -> Option<u64> {
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
    let v = n << shift;
    (n > 0 && v <= i64::MAX as u128).then_some(v as u64)
}

fn ref_cpus(s: &[u8]) -> Option<u64> {
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &b""[..]),
    };
    if (int.is_empty() && frac.is_empty()) || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let whole = if int.is_empty() { 0 } else { ref_uint(int)? };
    if whole > 100_000 {
        return None;
    }
    let mut f = frac.to_vec();
    f.resize(5, b'0');
    let part: u64 = std::str::from_utf8(&f[..5]).unwrap().parse().unwrap();
    let q = whole * 100_000 + part;
    (q >= 1000).then_some(q)
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(parse_uint(data), ref_uint(data));
    let size = parse_size(data);
    assert_eq!(size.ok(), ref_size(data), "{:?}", String::from_utf8_lossy(data));
    if let Ok(v) = size {
        // Plain digits parse back to the same value.
        assert_eq!(parse_size(v.to_string().as_bytes()), Ok(v));
        // push_size's "64 MiB" is "64m" to the parser.
        let mut b = Buf::<64>::new();
        push_size(&mut b, v);
        assert!(!b.overflowed());
        let text = std::str::from_utf8(b.as_bytes()).unwrap();
        let (num, unit) = text.split_once(' ').unwrap();
        let suffix = match unit {
            "TiB" => "",
            "GiB" => "g",
            "MiB" => "m",
            "KiB" => "k",
            _ => "",
        };
        let back = if unit == "TiB" {
            parse_size(format!("{}g", num.parse::<u64>().unwrap() * 1024).as_bytes())
        } else {
            parse_size(format!("{num}{suffix}").as_bytes())
        };
        assert_eq!(back, Ok(v), "{text}");
    }
    assert_eq!(parse_cpus(data).ok(), ref_cpus(data), "{:?}", String::from_utf8_lossy(data));
});
