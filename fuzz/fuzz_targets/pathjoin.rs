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

#[path = "../../tests/reference/mod.rs"]
mod reference;
use reference::{ref_execvp, ref_join};

fuzz_target!(|data: &[u8]| {
    let (name, path) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    // join on its own, with any bytes (NULs included) on either side.
    let mut buf = PathBuf::new();
    let (d, n) = path.split_at(path.len() / 2);
    let want = ref_join(d, n);
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
    let (want_tried, want_r) = ref_execvp(name, path, answer);
    assert_eq!(tried, want_tried);
    assert_eq!(r, want_r);
});
