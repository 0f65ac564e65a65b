//! The mountinfo scanner: `Lines` (a fixed-buffer line reader that skips overlong lines)
//! fed in chunks of every size, `parse_mount` on each line, `unescape` of its paths into a
//! buffer too small or large enough, `has_word`, `is_below` and `relative`.
//!
//! Checked: lines come out exactly as a reference split gives them (overlong ones
//! skipped and counted), whatever the read size; parsed fields are sub-slices of the
//! line; unescape never writes past its buffer and re-escaping its output (the kernel's
//! `\ooo` for space, tab, newline, backslash) gives back an input that unescapes alike.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::mountinfo::{has_word, is_below, parse_mount, relative, unescape, Lines, SliceSource};

/// The lines a perfect reader returns with an n-byte buffer: lines of at most n-1 bytes
/// (a line and its newline must fit; a last line without newline too, as the reader
/// cannot know it is the last before the buffer is full).
fn reference(data: &[u8], n: usize) -> (Vec<&[u8]>, usize) {
    let mut parts: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    // The piece after a final newline (or of an empty input) is not a line.
    if parts.last().is_some_and(|l| l.is_empty()) {
        parts.pop();
    }
    let skipped = parts.iter().filter(|l| l.len() >= n).count();
    (parts.into_iter().filter(|l| l.len() < n).collect(), skipped)
}

fn escape(s: &[u8]) -> Vec<u8> {
    let mut o = Vec::new();
    for &b in s {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => o.extend_from_slice(format!("\\{:03o}", b).as_bytes()),
            _ => o.push(b),
        }
    }
    o
}

fn check_line(line: &[u8]) {
    let Some(m) = parse_mount(line) else { return };
    let range = line.as_ptr_range();
    for f in [m.root, m.mount_point, m.fstype, m.source, m.super_options] {
        assert!(f.is_empty() || (range.contains(&f.as_ptr()) && f.len() <= line.len()));
    }
    assert!(m.root.starts_with(b"/") && m.mount_point.starts_with(b"/"));
    assert!(!m.mount_point.contains(&b' '));
    let mut big = [0u8; 256];
    let mut small = [0u8; 8];
    for p in [m.root, m.mount_point] {
        let full = unescape(p, &mut big).map(<[u8]>::to_vec);
        let short = unescape(p, &mut small).map(<[u8]>::to_vec);
        if let Some(f) = &full {
            assert!(f.len() <= p.len());
            // The small buffer agrees when the result fits it, and refuses otherwise.
            assert_eq!(short.as_ref(), if f.len() <= 8 { Some(f) } else { None });
            let mut again = [0u8; 1024];
            assert_eq!(unescape(&escape(f), &mut again), Some(&f[..]));
        } else {
            assert!(p.len() > 256);
        }
    }
    let _ = has_word(m.super_options, b"memory");
    let _ = has_word(m.super_options, b"");
    if is_below(m.mount_point, m.root) {
        let r = relative(m.mount_point, m.root);
        assert!(r.is_empty() || r.starts_with(b"/"));
    }
}

/// Reads `data` through an n-byte buffer (on the heap, exactly n: the sanitizer sees any
/// access past it) in `chunk`-sized reads, checks the lines against the reference, and
/// hands each to `each`.
fn scan(data: &[u8], n: usize, chunk: usize, each: fn(&[u8])) {
    let (want, want_skipped) = reference(data, n);
    let mut buf = vec![0u8; n];
    let mut r = Lines::new(SliceSource { data, chunk }, &mut buf);
    let mut got = Vec::new();
    while let Some(l) = r.next_line().unwrap() {
        each(l);
        got.push(l.to_vec());
    }
    assert_eq!(got, want, "n {n} chunk {chunk}");
    assert_eq!(r.skipped, want_skipped, "n {n} chunk {chunk}");
}

fuzz_target!(|data: &[u8]| {
    // A read size and a small buffer size derived from the input, so all get tried.
    let h = data.iter().fold(data.len(), |a, &b| a.wrapping_mul(31).wrapping_add(b as usize));
    // Real lines (tinyctr reads mountinfo through 4096 bytes) parsed whole...
    scan(data, 4096, usize::MAX, check_line);
    // ...and a small reader, so that split and overlong lines are common.
    scan(data, 1 + (h >> 8) % 64, 1 + h % 128, |_| {});
});
