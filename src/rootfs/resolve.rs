//! Resolving a mount target inside the container's root, so that no symlink in the
//! image can put a mount outside it (runc's CVE-2021-30465 class: `/data -> /etc`,
//! `/x -> ../../..`, or a directory swapped for a symlink while the container starts).
//!
//! The result is an `O_PATH` descriptor: the caller mounts *through it*
//! (`move_mount` onto the fd, or `mount(2)` onto `/proc/self/fd/N`), so the path cannot
//! change between this check and the mount.
//!
//! Two ways, same meaning: every symlink is followed as if `root` were `/`, and `..`
//! never climbs above `root`.
//! - `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` (Linux 5.6), where the kernel
//!   scopes the whole walk (and refuses /proc's magic links, which jump anywhere).
//! - Elsewhere, and to create what is missing, a walk of our own: one component at a
//!   time with `O_PATH | O_NOFOLLOW`; a symlink's text is read from the descriptor just
//!   opened (the same inode we checked) and resolved again from `root` (absolute) or the
//!   current directory (relative); `..` goes to the parent of the real directory we are
//!   in, and is ignored at `root` (see [`walk`] for why the kernel's `..` is safe there).
//!   A magic link is only text to it, so it too stays inside. Missing components are created through the
//!   parent's descriptor (`mkdirat`, `openat(O_CREAT | O_EXCL | O_NOFOLLOW)`), never by
//!   path, and looked up again like any other.
//!
//! Runs in the child: no allocation, stack buffers only.

use core::ffi::CStr;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// The longest path the kernel takes, its NUL included.
pub const PATH_MAX: usize = 4096;

/// Symlinks followed, and components created, in one resolution: the kernel's MAXSYMLINKS.
/// Creations count too, so that a racing peer deleting what we create cannot keep us
/// looping.
const BUDGET: u32 = 40;

/// What to create when the target (or a directory on the way) is missing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Create {
    /// Nothing: a missing component is ENOENT.
    No,
    /// Directories all the way.
    Dir,
    /// Directories, and an empty file as the last component.
    File,
}

/// Opens `path` (as the container names it; absolute or not, it starts at `root`) as an
/// `O_PATH` descriptor, with `root` standing for `/`. `openat2: false` skips the kernel's
/// way (it is tried first otherwise, and the walk taken where it answers ENOSYS, or ENOENT
/// when something is to be created).
pub fn open_in_root(root: BorrowedFd<'_>, path: &[u8], create: Create, openat2: bool) -> Result<OwnedFd, Errno> {
    // What is left to resolve sits right-aligned in `todo`, NUL-terminated, from `start`
    // on. A symlink's text replaces its name in front of what follows, so one buffer
    // serves any chain; each name is cut out in place (a NUL over the `/` after it).
    let mut todo = [0u8; PATH_MAX + 1];
    let start = PATH_MAX.checked_sub(path.len()).ok_or(Errno::NAMETOOLONG)?;
    todo[start..PATH_MAX].copy_from_slice(path);
    if openat2 {
        let flags = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
        match rustix::fs::openat2(root, c_str(&todo[start..])?, OFlags::PATH | OFlags::CLOEXEC, Mode::empty(), flags) {
            // ENOSYS: before 5.6. EAGAIN: a rename raced a `..` (the walk does not care).
            Err(Errno::NOSYS | Errno::AGAIN) => {}
            Err(Errno::NOENT) if create != Create::No => {}
            r => return r,
        }
    }
    walk(root, &mut todo, start, create)
}

/// `path` as a C string in `buf` (ENAMETOOLONG past PATH_MAX).
pub fn copy_c_str<'b>(buf: &'b mut [u8; PATH_MAX + 1], path: &[u8]) -> Result<&'b CStr, Errno> {
    let n = path.len().min(PATH_MAX);
    buf[..n].copy_from_slice(&path[..n]);
    buf[n] = 0;
    match n == path.len() {
        true => c_str(&buf[..=n]),
        false => Err(Errno::NAMETOOLONG),
    }
}

/// The C string at the start of `b` (which holds a NUL: argv and link texts have none
/// inside, so it is the one we put there).
fn c_str(b: &[u8]) -> Result<&CStr, Errno> {
    CStr::from_bytes_until_nul(b).map_err(|_| Errno::INVAL)
}

fn open_path(dir: BorrowedFd<'_>, name: &CStr, extra: OFlags) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(dir, name, OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC | extra, Mode::empty())
}

#[inline(never)]
fn walk(
    root: BorrowedFd<'_>,
    todo: &mut [u8; PATH_MAX + 1],
    mut start: usize,
    create: Create,
) -> Result<OwnedFd, Errno> {
    // Where we are (None: at `root`), and how many real directories below `root` that is.
    let mut cur: Option<OwnedFd> = None;
    let mut depth = 0usize;
    let mut budget = BUDGET;
    loop {
        while start < PATH_MAX && todo[start] == b'/' {
            start += 1;
        }
        if start == PATH_MAX {
            // Resolved: a directory, or `root` itself (the caller refuses that as a target).
            return match cur {
                Some(fd) => Ok(fd),
                None => open_path(root, c".", OFlags::empty()),
            };
        }
        let end = todo[start..PATH_MAX].iter().position(|&c| c == b'/').map_or(PATH_MAX, |n| start + n);
        let mut next = end;
        while next < PATH_MAX && todo[next] == b'/' {
            next += 1;
        }
        let last = next == PATH_MAX;
        let dir = cur.as_ref().map_or(root, |f| f.as_fd());
        let name = &todo[start..end];
        if name == b"." || name == b".." && depth == 0 {
            start = end;
            continue;
        }
        let sep = todo[end];
        todo[end] = 0;
        let name = c_str(&todo[start..=end])?;
        let dotdot = name == c"..";
        let found = match open_path(dir, name, OFlags::empty()) {
            Err(Errno::NOENT) if create != Create::No => {
                spend(&mut budget)?;
                make(dir, name, if last { create } else { Create::Dir })
                    // Look it up again: whatever is there now is what counts.
                    .map(|()| None)
            }
            r => r.map(Some),
        };
        todo[end] = sep;
        let Some(fd) = found? else { continue };
        let mode = rustix::fs::fstat(&fd)?.st_mode;
        match FileType::from_raw_mode(mode) {
            FileType::Symlink => {
                spend(&mut budget)?;
                // The link's text, read into the front of the buffer (its own name is no
                // longer needed), then moved to end right where the name ended.
                let n = rustix::fs::readlinkat_raw(&fd, c"", &mut todo[..end])?;
                if n == 0 {
                    return Err(Errno::NOENT);
                }
                if n == end {
                    return Err(Errno::NAMETOOLONG);
                }
                todo.copy_within(..n, end - n);
                start = end - n;
                if todo[start] == b'/' {
                    (cur, depth) = (None, 0);
                }
            }
            FileType::Directory => {
                // `..` of a directory below `root` is its parent, which the kernel finds:
                // never above the process root (which `root` is in the container), and
                // never out of a mount whose root the directory was moved away from
                // (ENOENT since Linux 4.3). At `root` itself, `..` was skipped above.
                depth = if dotdot { depth - 1 } else { depth + 1 };
                cur = if depth == 0 { None } else { Some(fd) };
                start = end;
            }
            _ if last => return Ok(fd),
            _ => return Err(Errno::NOTDIR),
        }
    }
}

fn spend(budget: &mut u32) -> Result<(), Errno> {
    *budget = budget.checked_sub(1).ok_or(Errno::LOOP)?;
    Ok(())
}

/// Creates `name` in `dir`: a directory, or an empty file. Already there (a racing
/// creator) is fine: the caller looks it up again either way.
fn make(dir: BorrowedFd<'_>, name: &CStr, what: Create) -> Result<(), Errno> {
    let made = match what {
        Create::File => rustix::fs::openat(
            dir,
            name,
            OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map(drop),
        _ => rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755)),
    };
    match made {
        Ok(()) | Err(Errno::EXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;
    use std::path::{Path, PathBuf};

    struct Tree(PathBuf);

    impl Tree {
        fn new(name: &str) -> Tree {
            let p = std::env::temp_dir().join(format!("tinyctr-resolve-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(p.join("root")).unwrap();
            Tree(p)
        }
        fn root(&self) -> PathBuf {
            self.0.join("root")
        }
        fn dir(&self, rel: &str) {
            std::fs::create_dir_all(self.root().join(rel)).unwrap();
        }
        fn link(&self, rel: &str, to: &str) {
            symlink(to, self.root().join(rel)).unwrap();
        }
        /// Resolves `path` both ways (kernel and walk); both must agree. Returns where it
        /// landed relative to the root ("" for the root itself), or the errno.
        fn resolve(&self, path: &str, create: Create) -> Result<String, Errno> {
            let a = self.resolve_one(path, create, true);
            let b = self.resolve_one(path, create, false);
            assert_eq!(a, b, "openat2 and the walk disagree on {path:?}");
            a
        }
        fn resolve_one(&self, path: &str, create: Create, openat2: bool) -> Result<String, Errno> {
            let root =
                rustix::fs::open(self.root().as_os_str().as_bytes(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty())
                    .unwrap();
            let fd = open_in_root(root.as_fd(), path.as_bytes(), create, openat2)?;
            Ok(self.relative(&where_is(&fd)))
        }
        fn relative(&self, p: &Path) -> String {
            let root = std::fs::canonicalize(self.root()).unwrap();
            match p.strip_prefix(&root) {
                Ok(rel) => rel.to_str().unwrap().to_owned(),
                Err(_) => panic!("{} is outside the root {}", p.display(), root.display()),
            }
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn where_is(fd: &OwnedFd) -> PathBuf {
        use rustix::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap()
    }

    #[test]
    fn plain_paths_and_dots() {
        let t = Tree::new("plain");
        t.dir("a/b");
        assert_eq!(t.resolve("/a/b", Create::No).unwrap(), "a/b");
        assert_eq!(t.resolve("a//b/./", Create::No).unwrap(), "a/b");
        assert_eq!(t.resolve("/a/b/../../../../a", Create::No).unwrap(), "a");
        assert_eq!(t.resolve("/", Create::No).unwrap(), "");
        assert_eq!(t.resolve("/nope", Create::No), Err(Errno::NOENT));
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let t = Tree::new("links");
        t.dir("etc");
        t.dir("d");
        t.link("data", "/etc");
        t.link("x", "../../..");
        t.link("up", "../../../tmp");
        t.link("a", "/b");
        t.link("b", "c/../../../c");
        t.link("c", "/d");
        t.link("loop1", "loop2");
        t.link("loop2", "/loop1");
        t.link("magic", "/proc/self/root");
        assert_eq!(t.resolve("/data", Create::No).unwrap(), "etc");
        assert_eq!(t.resolve("/x", Create::No).unwrap(), "");
        assert_eq!(t.resolve("/x/etc", Create::No).unwrap(), "etc");
        assert_eq!(t.resolve("/a", Create::No).unwrap(), "d", "an absolute chain");
        assert_eq!(t.resolve("/loop1", Create::No), Err(Errno::LOOP));
        // Not a real magic link here (no /proc in the tree): text, resolved inside.
        assert_eq!(t.resolve("/magic", Create::No), Err(Errno::NOENT));
        // Creation follows the same rules: `up` means /tmp of the root.
        assert_eq!(t.resolve("/up/new", Create::Dir).unwrap(), "tmp/new");
        assert!(t.root().join("tmp/new").is_dir());
    }

    #[test]
    fn a_dangling_symlink_is_created_inside() {
        let t = Tree::new("dangling");
        t.link("data", "/nowhere/deep");
        t.link("file", "../../f");
        assert_eq!(t.resolve("/data", Create::Dir).unwrap(), "nowhere/deep");
        assert!(t.root().join("nowhere/deep").is_dir());
        assert_eq!(t.resolve("/file", Create::File).unwrap(), "f");
        let m = std::fs::symlink_metadata(t.root().join("f")).unwrap();
        assert!(m.is_file() && m.len() == 0);
    }

    #[test]
    fn files_and_their_errors() {
        let t = Tree::new("files");
        std::fs::write(t.root().join("f"), "x").unwrap();
        assert_eq!(t.resolve("/f", Create::No).unwrap(), "f");
        assert_eq!(t.resolve("/f/x", Create::Dir), Err(Errno::NOTDIR));
        assert_eq!(t.resolve("/g", Create::File).unwrap(), "g");
        assert_eq!(t.resolve(&format!("/{}", "n".repeat(300)), Create::No), Err(Errno::NAMETOOLONG));
        assert_eq!(t.resolve(&"/a".repeat(2100), Create::No), Err(Errno::NAMETOOLONG));
    }

    #[test]
    fn a_long_chain_of_links_fits() {
        let t = Tree::new("long");
        let deep = format!("{}/end", "d".repeat(200));
        t.dir(&deep);
        // Each link names the next by a long absolute path through `..`s.
        for i in 0..10 {
            let to = if i == 9 { format!("/{deep}") } else { format!("/{}/../l{}", "d".repeat(200), i + 1) };
            t.link(&format!("l{i}"), &to);
        }
        assert_eq!(t.resolve("/l0", Create::No).unwrap(), deep);
    }

    /// The CVE-2021-30465 race, at the resolver: while a thread swaps a directory for a
    /// symlink to `/` (and `../..`) and back, every resolution lands inside the root.
    #[test]
    fn a_racing_swap_never_escapes() {
        let t = Tree::new("race");
        t.dir("vol/d");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (root, s) = (t.root(), stop.clone());
        let swapper = std::thread::spawn(move || {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            let d = root.join("vol/d");
            let links = [root.join("vol/l1"), root.join("vol/l2")];
            symlink("/", &links[0]).unwrap();
            symlink("../../..", &links[1]).unwrap();
            let mut i = 0;
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                // Atomic swaps: d is a directory, then a symlink, then a directory again.
                let l = &links[i % 2];
                renameat_with(CWD, d.as_os_str().as_bytes(), CWD, l.as_os_str().as_bytes(), RenameFlags::EXCHANGE)
                    .unwrap();
                renameat_with(CWD, d.as_os_str().as_bytes(), CWD, l.as_os_str().as_bytes(), RenameFlags::EXCHANGE)
                    .unwrap();
                i += 1;
            }
        });
        let mut landed = [0usize; 2];
        for i in 0..4000 {
            if let Ok(p) = t.resolve_one("/vol/d/sub", Create::Dir, i % 2 == 0) {
                landed[(p != "sub") as usize] += 1;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        swapper.join().unwrap();
        // Whatever the interleaving, resolve_one panicked on anything outside; both
        // outcomes (the symlink, the directory) must actually have been seen.
        assert!(landed[0] > 0 && landed[1] > 0, "the race did not happen: {landed:?}");
        assert!(!Path::new("/sub").exists(), "created /sub on the host");
    }
}
