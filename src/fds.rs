//! The descriptors a container may hold: its standard 0, 1 and 2, nothing else.
//!
//! tinyctr's caller may have left descriptors open without close-on-exec (a shell's
//! `3<file`, a supervisor's socket), and tinyctr itself holds some while the child is
//! cloned (the cgroup directories, the name lock). Close-on-exec is not enough: the
//! child changes to the working directory *before* execve, and a working directory of
//! `/proc/self/fd/N` naming a host directory puts the container outside its root (runc's
//! CVE-2024-21626, through a leaked cgroup descriptor). So the child closes every
//! descriptor above 2 but its failure pipe before it changes directory, and afterwards
//! checks that its working directory is reachable from its root.
//!
//! Runs in the child: no allocation, syscalls and stack buffers only.

use rustix::fd::{AsFd, RawFd};
use rustix::io::Errno;

/// Closes every descriptor from `first` (3, or above those an OCI `--preserve-fds`
/// passes on) up except those in `keep` (at most a few). One `close_range` call per gap;
/// on kernels before 5.9, the entries of `/proc/self/fd` one by one (the container's
/// /proc is mounted by then).
pub fn close_all_but(first: u32, keep: &[RawFd]) -> Result<(), Errno> {
    let mut from = first;
    let mut r = Ok(());
    // Ascending order of what is kept, without allocating: repeatedly the next one up.
    while r.is_ok() {
        let next = keep.iter().filter(|&&k| k >= from as RawFd).min().copied();
        let to = next.map_or(u32::MAX, |k| k as u32);
        if to > from {
            r = crate::sys::close_range(from, to - 1);
        }
        match next {
            Some(k) => from = k as u32 + 1,
            None => break,
        }
    }
    match r {
        Err(Errno::NOSYS) => close_listed(first, keep),
        r => r,
    }
}

fn close_listed(first: u32, keep: &[RawFd]) -> Result<(), Errno> {
    use core::mem::MaybeUninit;
    use rustix::fs::{Mode, OFlags, RawDir};
    let dir = rustix::fs::open(c"/proc/self/fd", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let own = rustix::fd::AsRawFd::as_raw_fd(&dir);
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    let mut entries = RawDir::new(dir.as_fd(), &mut buf);
    while let Some(e) = entries.next() {
        let e = e?;
        let n = crate::limits::parse_uint(e.file_name().to_bytes()).and_then(|n| RawFd::try_from(n).ok());
        match n {
            Some(fd) if fd >= first as RawFd && !keep.contains(&fd) && fd != own => {
                crate::sys::close_raw(fd);
            }
            _ => {}
        }
    }
    Ok(())
}

/// True when the working directory is reachable from the root (the kernel's getcwd
/// says `(unreachable)` otherwise, or ENOENT for a directory that was removed).
pub fn workdir_inside_root() -> bool {
    // PATH_MAX: the kernel builds the whole path before it answers ERANGE, so a smaller
    // buffer would need a second call for ordinary paths.
    let mut buf = [0u8; 4096];
    crate::sys::getcwd(&mut buf).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a child process of its own (it closes descriptors): the kept ones stay open,
    /// everything else from 3 up is closed — by close_range, and by the /proc/self/fd walk
    /// that older kernels get.
    #[test]
    fn keeps_exactly_what_it_is_told() {
        let Some(how) = std::env::var_os("TINYCTR_FDS_PROBE") else {
            for how in ["range", "listed"] {
                let o = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", "fds::tests::keeps_exactly_what_it_is_told", "--test-threads=1", "--nocapture"])
                    .env("TINYCTR_FDS_PROBE", how)
                    .output()
                    .unwrap();
                let out = String::from_utf8_lossy(&o.stdout);
                assert!(out.contains("OPEN: 5 9"), "{how}: {out}\n{}", String::from_utf8_lossy(&o.stderr));
            }
            return;
        };
        let files: Vec<std::fs::File> = (0..10).map(|_| std::fs::File::open("/dev/null").unwrap()).collect();
        let raw: Vec<RawFd> = files.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
        assert!(raw.contains(&5) && raw.contains(&9), "{raw:?}");
        match how.to_str() {
            Some("listed") => close_listed(3, &[9, 5]).unwrap(),
            _ => close_all_but(3, &[9, 5]).unwrap(),
        }
        // What is still open and names /dev/null (the listing's own descriptor does not).
        let mut open: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == std::path::Path::new("/dev/null")))
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .filter(|&fd| fd > 2)
            .collect();
        open.sort();
        let open: Vec<String> = open.iter().map(|fd| fd.to_string()).collect();
        println!("\nOPEN: {}", open.join(" "));
        std::mem::forget(files);
    }
}
