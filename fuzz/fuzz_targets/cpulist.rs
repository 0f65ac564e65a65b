//! `check_cpu_list` (`--cpuset-cpus`) against a reference: an accepted list is exactly
//! comma-separated `N` or `N-M` items with N <= M <= 8191, and the set it names, rendered
//! back in the kernel's canonical form (`0-2,4`), is accepted again and names the same set.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::limits::check_cpu_list;

fn num(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// The CPUs the list names, or None if it is not a valid list.
fn reference(s: &[u8]) -> Option<Vec<bool>> {
    if s.is_empty() {
        return None;
    }
    let mut set = vec![false; 8192];
    for item in s.split(|&b| b == b',') {
        let (a, b) = match item.iter().position(|&c| c == b'-') {
            Some(i) => (num(&item[..i])?, num(&item[i + 1..])?),
            None => (num(item)?, num(item)?),
        };
        if a > b || b > 8191 {
            return None;
        }
        set[a as usize..=b as usize].iter_mut().for_each(|x| *x = true);
    }
    Some(set)
}

fn render(set: &[bool]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < set.len() {
        if !set[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < set.len() && set[i] {
            i += 1;
        }
        out.push(if i - 1 == start { format!("{start}") } else { format!("{start}-{}", i - 1) });
    }
    out.join(",")
}

fuzz_target!(|data: &[u8]| {
    let got = check_cpu_list(data);
    let want = reference(data);
    assert_eq!(got.is_ok(), want.is_some(), "{:?}", String::from_utf8_lossy(data));
    if let Some(set) = want {
        let canon = render(&set);
        assert!(check_cpu_list(canon.as_bytes()).is_ok(), "{canon}");
        assert_eq!(reference(canon.as_bytes()), Some(set));
    }
});
