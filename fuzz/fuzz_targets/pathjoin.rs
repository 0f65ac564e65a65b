//! The PATH search: `exec::join` and `exec::exec_with`. The input is `name \0 PATH`; the
//! injected exec answers from a hash of the path it is given, so every errno path is
//! taken. Checked against execvp(3)'s rules: the tried paths are exactly `dir/name` for
//! each PATH entry in order (`.` for an empty one, no doubled `/`), entries too long for
//! PATH_MAX skipped, never a path with a NUL or over 4095 bytes, and the result is the
//! first hard error, else EACCES if any entry said so, else ENOENT.
#![no_main]

use std::ffi::CString;

use libfuzzer_sys::fuzz_target;
use rustix::io::Errno;
use tinyctr::exec::{exec_with, join, PathBuf};

fn answer(p: &[u8]) -> Errno {
    let h = p.iter().fold(7u32, |a, &b| a.wrapping_mul(31).wrapping_add(b as u32));
    match h % 16 {
        0 => Errno::ACCESS,
        1 => Errno::NOEXEC,
        2 => Errno::NOTDIR,
        3 => Errno::NAMETOOLONG,
        4 => Errno::PERM,
        _ => Errno::NOENT,
    }
}

fn expected(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let dir = if dir.is_empty() { &b"."[..] } else { dir };
    let mut v = dir.to_vec();
    if !dir.ends_with(b"/") {
        v.push(b'/');
    }
    v.extend_from_slice(name);
    v
}

fuzz_target!(|data: &[u8]| {
    let (name, path) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    // join on its own, with any bytes (NULs included) on either side.
    let mut buf = PathBuf::new();
    let (d, n) = path.split_at(path.len() / 2);
    let want = expected(d, n);
    match join(&mut buf, d, n) {
        Some(c) => {
            assert_eq!(c.to_bytes(), &want[..]);
            assert!(want.len() <= 4095 && !want.contains(&0));
        }
        None => assert!(want.len() > 4095 || want.contains(&0)),
    }

    let cmd = CString::new(name).unwrap();
    let mut tried = Vec::new();
    let r = exec_with(&cmd, path, |p| {
        tried.push(p.to_bytes().to_vec());
        answer(p.to_bytes())
    });
    // The reference.
    let mut want_tried = Vec::new();
    let mut want_r = None;
    if name.is_empty() {
        want_r = Some(Errno::NOENT);
    } else if name.contains(&b'/') {
        want_tried.push(name.to_vec());
        want_r = Some(answer(name));
    } else {
        let mut eacces = false;
        for dir in path.split(|&b| b == b':') {
            let full = expected(dir, name);
            if full.len() > 4095 || full.contains(&0) {
                continue;
            }
            let a = answer(&full);
            want_tried.push(full);
            match a {
                Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => {}
                Errno::ACCESS => eacces = true,
                other => {
                    want_r = Some(other);
                    break;
                }
            }
        }
        if want_r.is_none() {
            want_r = Some(if eacces { Errno::ACCESS } else { Errno::NOENT });
        }
    }
    assert_eq!(tried, want_tried);
    assert_eq!(Some(r), want_r);
});
