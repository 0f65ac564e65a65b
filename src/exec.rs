//! Finding COMMAND and executing it, the way execvp(3) does but without allocating and
//! with the container's PATH: a name with a `/` is executed as is; otherwise each PATH
//! entry is tried in turn (an empty entry means the current directory). ENOENT and
//! ENOTDIR move on to the next entry; EACCES is remembered and moves on, so a
//! non-executable file early in PATH does not hide a good one later; anything else stops.
//!
//! Runs in the trampoline: no allocation, stack buffers only.

use core::ffi::CStr;

use rustix::io::Errno;

use crate::buf::Buf;
use crate::sys::args::{execve, PtrArray};

/// PATH_MAX: the kernel refuses longer paths with ENAMETOOLONG anyway.
pub type PathBuf = Buf<4096>;

/// `dir/name` into `buf`; `None` when it does not fit (the entry is then skipped, as the
/// kernel would refuse it).
#[inline(never)]
pub fn join<'b>(buf: &'b mut PathBuf, dir: &[u8], name: &[u8]) -> Option<&'b CStr> {
    buf.clear();
    let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
    buf.push(dir);
    if !dir.ends_with(b"/") {
        buf.push(b"/");
    }
    buf.push(name);
    if buf.overflowed() || crate::words::has(name, 0) || crate::words::has(dir, 0) {
        return None;
    }
    Some(buf.as_cstr())
}

/// Executes `argv[0]` (which is `cmd`); returns only on failure, with the errno that
/// decides the exit status (ENOENT: not found, 127; anything else: 126).
pub fn exec(cmd: &CStr, path: &[u8], argv: &PtrArray<'_>, envp: &PtrArray<'_>) -> Errno {
    exec_with(cmd, path, |p| execve(p, argv, envp))
}

/// The search itself, with the exec call injected so tests can observe the tries.
pub fn exec_with(cmd: &CStr, path: &[u8], mut try_exec: impl FnMut(&CStr) -> Errno) -> Errno {
    let name = cmd.to_bytes();
    if name.is_empty() {
        return Errno::NOENT;
    }
    if crate::words::has(name, b'/') {
        return try_exec(cmd);
    }
    let mut buf = PathBuf::new();
    let mut seen_eacces = false;
    for dir in path.split(|&c| c == b':') {
        let Some(full) = join(&mut buf, dir, name) else {
            continue;
        };
        match try_exec(full) {
            Errno::NOENT | Errno::NOTDIR | Errno::NAMETOOLONG => {}
            Errno::ACCESS => seen_eacces = true,
            other => return other,
        }
    }
    if seen_eacces {
        Errno::ACCESS
    } else {
        Errno::NOENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_handles_slashes_and_empty() {
        let mut b = PathBuf::new();
        assert_eq!(join(&mut b, b"/bin", b"sh").unwrap(), c"/bin/sh");
        assert_eq!(join(&mut b, b"/bin/", b"sh").unwrap(), c"/bin/sh");
        assert_eq!(join(&mut b, b"", b"sh").unwrap(), c"./sh");
        let long = vec![b'a'; 5000];
        assert!(join(&mut b, &long, b"sh").is_none());
        assert!(join(&mut b, b"/bin", &long).is_none());
    }

    fn tries(cmd: &CStr, path: &[u8], answers: &[(&str, Errno)]) -> (Vec<String>, Errno) {
        let mut seen = Vec::new();
        let r = exec_with(cmd, path, |p| {
            let s = p.to_str().unwrap().to_owned();
            let e = answers.iter().find(|(n, _)| *n == s).map(|&(_, e)| e).unwrap_or(Errno::NOENT);
            seen.push(s);
            e
        });
        (seen, r)
    }

    #[test]
    fn searches_in_order_and_reports_like_execvp() {
        let (seen, r) = tries(c"ls", b"/a:/b::/c", &[]);
        assert_eq!(seen, ["/a/ls", "/b/ls", "./ls", "/c/ls"]);
        assert_eq!(r, Errno::NOENT);
        // EACCES early does not hide a later hit; it is reported only if nothing else runs.
        let (seen, r) = tries(c"ls", b"/a:/b", &[("/a/ls", Errno::ACCESS), ("/b/ls", Errno::NOEXEC)]);
        assert_eq!(seen, ["/a/ls", "/b/ls"]);
        assert_eq!(r, Errno::NOEXEC);
        let (_, r) = tries(c"ls", b"/a:/b", &[("/a/ls", Errno::ACCESS)]);
        assert_eq!(r, Errno::ACCESS);
        // A slash means no search.
        let (seen, _) = tries(c"./x", b"/a", &[]);
        assert_eq!(seen, ["./x"]);
        let (seen, r) = tries(c"", b"/a", &[]);
        assert!(seen.is_empty());
        assert_eq!(r, Errno::NOENT);
    }

    #[test]
    fn a_thousand_entries_and_an_oversized_one() {
        let mut path = vec![b'x'; 5000];
        for i in 0..1000 {
            path.extend_from_slice(format!(":/p{i}").as_bytes());
        }
        let (seen, r) = tries(c"true", &path, &[("/p999/true", Errno::NOEXEC)]);
        assert_eq!(seen.len(), 1000, "the oversized entry is skipped, all others tried");
        assert_eq!(r, Errno::NOEXEC);
    }
}
