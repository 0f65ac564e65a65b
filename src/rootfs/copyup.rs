//! `tmpcopyup`, runc's extension to the OCI spec that podman and CRI-O put on the tmpfs
//! mounts of a read-only container (/run, /tmp, /var/tmp) and podman on every `--tmpfs`:
//! the new tmpfs starts with a copy of the directory it covers, so what the image keeps
//! there (/run/lock, a /var/tmp cache) is still there, writable.
//!
//! What is copied, as runc's CopyDirectory does: directories, regular files (their
//! contents), symbolic links (as links: nothing is ever followed, the image is not
//! trusted) and fifos, sockets and device nodes, each with its mode and owner, exactly
//! (not through the umask); a hard link becomes a copy; times and xattrs are not kept.
//!
//! Child side, before the container runs (nothing else can change the new tmpfs yet): no
//! allocation, one getdents buffer for the whole walk, and a stack of open directory
//! pairs at most [`DEPTH`] deep. Descending into a directory remembers where its
//! parent's listing stood (the kernel's cookie of the next entry) by seeking there first;
//! back in the parent, the listing goes on from it.

use core::ffi::CStr;
use core::mem::MaybeUninit;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, RawDir, SeekFrom, Uid};
use rustix::io::Errno;

/// Levels of directories below the mount point (deeper: ELOOP).
pub const DEPTH: usize = 16;

/// Copies what directory `from` holds into the empty directory `to`.
#[inline(never)]
pub fn copy(from: OwnedFd, to: OwnedFd) -> Result<(), Errno> {
    let mut stack: [Option<(OwnedFd, OwnedFd)>; DEPTH + 1] = Default::default();
    stack[0] = Some((from, to));
    let mut depth = 1;
    let mut buf = [MaybeUninit::<u8>::uninit(); 1024];
    'levels: while depth > 0 {
        let (below, above) = stack.split_at_mut(depth);
        let Some((src, dst)) = below[depth - 1].as_ref() else { return Err(Errno::INVAL) };
        let mut dir = RawDir::new(src.as_fd(), &mut buf);
        while let Some(entry) = dir.next() {
            let entry = entry?;
            let name = entry.file_name();
            if matches!(name.to_bytes(), b"." | b"..") {
                continue;
            }
            let st = rustix::fs::statat(src, name, AtFlags::SYMLINK_NOFOLLOW)?;
            let kind = FileType::from_raw_mode(st.st_mode);
            match kind {
                FileType::Directory => rustix::fs::mkdirat(dst, name, Mode::RWXU)?,
                FileType::RegularFile => {
                    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    let from = rustix::fs::openat(src, name, flags, Mode::empty())?;
                    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    let to = rustix::fs::openat(dst, name, flags, Mode::RUSR | Mode::WUSR)?;
                    let mut left = st.st_size as usize;
                    while left > 0 {
                        match rustix::fs::sendfile(&to, &from, None, left)? {
                            0 => break, // it shrank meanwhile
                            n => left -= n,
                        }
                    }
                }
                FileType::Symlink => {
                    let mut text = [0u8; 1024];
                    let n = rustix::fs::readlinkat_raw(src, name, &mut text[..])?;
                    let target = text.get(..n + 1).and_then(|t| CStr::from_bytes_with_nul(t).ok());
                    rustix::fs::symlinkat(target.ok_or(Errno::NAMETOOLONG)?, dst, name)?;
                }
                _ => rustix::fs::mknodat(dst, name, kind, Mode::RUSR, st.st_rdev)?,
            }
            own(dst.as_fd(), name, &st, kind == FileType::Symlink)?;
            if kind == FileType::Directory {
                if depth > DEPTH {
                    return Err(Errno::LOOP);
                }
                let open = |at: BorrowedFd<'_>| rustix::fs::openat(at, name, DIR, Mode::empty());
                let pair = (open(src.as_fd())?, open(dst.as_fd())?);
                rustix::fs::seek(src, SeekFrom::Start(entry.next_entry_cookie()))?;
                above[0] = Some(pair);
                depth += 1;
                continue 'levels;
            }
        }
        depth -= 1;
        stack[depth] = None;
    }
    Ok(())
}

/// Gives `name` in `dir` the owner and mode of `st`, exactly: the owner first, as chown
/// clears the set-id bits; a symbolic link has no mode of its own.
#[inline(never)]
fn own(dir: BorrowedFd<'_>, name: &CStr, st: &rustix::fs::Stat, link: bool) -> Result<(), Errno> {
    let flags = if link { AtFlags::SYMLINK_NOFOLLOW } else { AtFlags::empty() };
    rustix::fs::chownat(dir, name, Some(Uid::from_raw(st.st_uid)), Some(Gid::from_raw(st.st_gid)), flags)?;
    match link {
        true => Ok(()),
        false => rustix::fs::chmodat(dir, name, Mode::from_raw_mode(st.st_mode & 0o7777), AtFlags::empty()),
    }
}

/// A directory to list or to fill, never through a symbolic link.
const DIR: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);
