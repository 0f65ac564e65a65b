//! `-u, --user NAME|UID[:GROUP|GID]` and `--group-add GROUP`: the ids the container runs
//! with, resolved as docker resolves them (moby/sys/user `GetExecUser`), in the parent
//! before clone, against the container's `/etc/passwd` and `/etc/group` (inside
//! `--rootfs DIR`, or the host's without one).
//!
//! - A numeric user is a uid, never a name; its passwd entry (if any) gives the primary
//!   gid and HOME, else gid 0 and HOME=/. A name must have an entry (first match wins).
//! - A group part sets the primary gid: a number as it is, a name from /etc/group.
//!   Without one, the user's supplementary groups are every /etc/group line listing it.
//! - The supplementary list is the primary gid, those groups, then the `--group-add`s
//!   (numbers as they are, names from /etc/group). Without `-u` it is the `--group-add`s
//!   alone, and no file is read unless one of them is a name.
//! - A missing file is no error (numbers still work); a name it would have had to hold
//!   is, naming the file searched.
//!
//! Files are read line by line through a fixed buffer (no allocation); a line longer
//! than [`LINE`] bytes is skipped. With --rootfs they are opened with RESOLVE_IN_ROOT, so
//! a symlink in DIR cannot point the lookup at the host's files.

use core::ffi::CStr;

use rustix::io::Errno;
use rustix::process::Gid;

use crate::buf::Buf;
use crate::error::{push_shown, Error, Result};
use crate::mountinfo::{FdSource, Lines};

/// Most supplementary groups the container can get (the kernel allows 65536; a container
/// with more than this many is not what `-u` is for).
pub const MAX_GROUPS: usize = 64;
/// Longest passwd or group line read.
const LINE: usize = 8192;
/// Room a caller gives [`resolve`] for `HOME=<home>` and its NUL (a home fits in a line).
pub const HOME_ROOM: usize = LINE + 6;

/// The ids the child switches to: setgroups(groups), setresgid(gid), setresuid(uid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
    /// As setgroups(2) takes them, so the child passes them as they are.
    pub groups: [Gid; MAX_GROUPS],
    pub ngroups: usize,
}

impl Ids {
    pub const ROOT: Ids = Ids { uid: 0, gid: 0, groups: [Gid::ROOT; MAX_GROUPS], ngroups: 0 };

    pub fn groups(&self) -> &[Gid] {
        &self.groups[..self.ngroups]
    }

    /// Appends `gid` unless it is there already; false when the list is full.
    pub fn add_group(&mut self, gid: u32) -> bool {
        let gid = Gid::from_raw_unchecked(gid);
        if self.groups().contains(&gid) {
            return true;
        }
        let Some(slot) = self.groups.get_mut(self.ngroups) else { return false };
        *slot = gid;
        self.ngroups += 1;
        true
    }
}

/// A user or group given by number: decimal, at most i32::MAX (moby refuses more).
pub fn numeric(s: &[u8]) -> Option<u32> {
    crate::limits::parse_uint(s).filter(|&n| n <= i32::MAX as u64).map(|n| n as u32)
}

/// Parse-time check of a `-u` value (`group` false) or a `--group-add` one: a name that
/// passwd or group could hold (not empty, no `:`), or an id; for `-u` an optional
/// `:GROUP`. Whether a name exists is for [`resolve`].
pub fn check(v: &[u8], user: bool) -> core::result::Result<(), &'static str> {
    let (name, group) = if user { split(v) } else { (v, None) };
    for part in [Some(name), group].into_iter().flatten() {
        if part.is_empty() || crate::words::has(part, b':') {
            return Err(if user { "is not NAME|UID[:GROUP|GID]" } else { "is not a group name or GID" });
        }
        if part.iter().all(u8::is_ascii_digit) && numeric(part).is_none() {
            return Err("has an id above 2147483647");
        }
    }
    Ok(())
}

/// `NAME|UID[:GROUP|GID]` into its two parts.
fn split(spec: &[u8]) -> (&[u8], Option<&[u8]>) {
    match spec.iter().position(|&c| c == b':') {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    }
}

/// The first seven `:`-separated fields of a passwd or group line (missing ones empty).
fn fields(line: &[u8]) -> [&[u8]; 7] {
    let mut f: [&[u8]; 7] = [b""; 7];
    let mut rest = line;
    for slot in f.iter_mut() {
        let end = rest.iter().position(|&c| c == b':').unwrap_or(rest.len());
        *slot = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or(b"");
    }
    f
}

/// An id field of a passwd or group line (any u32: the file may hold what `-u` may not).
fn id(field: &[u8]) -> Option<u32> {
    crate::limits::parse_uint(field).and_then(|n| u32::try_from(n).ok())
}

/// Where the container's files are: `DIR` of --rootfs, or the host's `/`.
#[derive(Clone, Copy)]
pub struct Root<'a>(pub Option<&'a CStr>);

const PASSWD: &CStr = c"/etc/passwd";
const GROUP: &CStr = c"/etc/group";

impl Root<'_> {
    /// Calls `f` with the fields of each line of `file`; false (without calling it) when
    /// there is no such file.
    fn each_line(&self, file: &CStr, f: &mut dyn FnMut(&[&[u8]; 7])) -> Result<bool> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let root = self.0.unwrap_or(c"/");
        let opened = rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .and_then(|dir| {
                let rel = CStr::from_bytes_until_nul(&file.to_bytes_with_nul()[1..]).unwrap_or(file);
                // RESOLVE_IN_ROOT: `..` and absolute symlinks stay inside DIR, as they will
                // for the container. Before 5.6 (no openat2; old seccomp profiles refuse it
                // too) a plain openat.
                match rustix::fs::openat2(&dir, rel, flags, Mode::empty(), ResolveFlags::IN_ROOT) {
                    Err(Errno::NOSYS | Errno::PERM) => rustix::fs::openat(&dir, rel, flags, Mode::empty()),
                    r => r,
                }
            });
        let fd = match opened {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::NOTDIR) => return Ok(false),
            Err(e) => return Err(self.error(file, e)),
        };
        let mut buf = [0u8; LINE];
        let mut lines = Lines::new(FdSource(fd), &mut buf);
        loop {
            match lines.next_line() {
                Ok(Some(line)) => f(&fields(line)),
                Ok(None) => return Ok(true),
                Err(e) => return Err(self.error(file, e)),
            }
        }
    }

    /// The file as messages name it: `DIR/etc/group`.
    fn path(&self, file: &CStr) -> Buf<640> {
        let mut path = Buf::new();
        if let Some(r) = self.0 {
            push_shown(&mut path, r.to_bytes().strip_suffix(b"/").unwrap_or(r.to_bytes()));
        }
        path.push(file.to_bytes());
        path
    }

    fn error(&self, file: &CStr, e: Errno) -> Error {
        Error::sys("read", self.path(file).as_bytes(), e)
    }

    /// `OPT: no WHAT 'NAME' in DIR/etc/group`, and ` (no such file)` when there is none.
    fn missing(&self, opt: &str, what: &str, name: &[u8], file: &CStr, exists: bool) -> Error {
        let mut e = Error::usage(opt.as_bytes());
        e.msg.push(b": no ").push_str(what).push(b" '");
        push_shown(&mut e.msg, name);
        e.msg.push(b"' in ").push(self.path(file).as_bytes());
        if !exists {
            e.msg.push(b" (no such file)");
        }
        e
    }
}

/// Resolves `-u SPEC` (if given) and the `--group-add` values `adds` into the ids the
/// child takes. With a user, writes `HOME=<home>` and a NUL into `home` (at least
/// [`HOME_ROOM`] bytes) and returns its length with the ids; 0 without a user.
pub fn resolve(root: Root<'_>, spec: Option<&CStr>, adds: &[&CStr], home: &mut [u8]) -> Result<(Ids, usize)> {
    const NONE: u32 = u32::MAX;
    let mut ids = Ids::ROOT;
    let mut home_len = 0;
    let (user, group) = split(spec.map_or(&b""[..], CStr::to_bytes));
    let by_uid = numeric(user);
    // The user's name, for its memberships (copied out of the line buffer).
    let mut name: Buf<64> = Buf::new();
    let mut exists = true;
    let mut missing: Option<(&str, &str, &[u8], &CStr)> = None;
    if spec.is_some() {
        let mut found = false;
        exists = root.each_line(PASSWD, &mut |f| {
            // name:password:uid:gid:gecos:home:shell
            let (Some(uid), Some(gid)) = (id(f[2]), id(f[3])) else { return };
            if !found && (by_uid == Some(uid) || by_uid.is_none() && f[0] == user) {
                found = true;
                (ids.uid, ids.gid) = (uid, gid);
                name.push(f[0]);
                home_len = write_home(home, f[5]);
            }
        })?;
        if !found {
            match by_uid {
                Some(uid) => ids.uid = uid,
                None => missing = Some(("--user", "user", user, PASSWD)),
            }
            home_len = write_home(home, b"");
        }
    }
    // What /etc/group must answer: a named primary group, the user's memberships (only
    // without a group part: moby's "implicit form"), the --group-add names.
    let mut primary = group.and_then(numeric).unwrap_or(NONE);
    let members = spec.is_some() && group.is_none() && !name.is_empty() && !name.overflowed();
    let mut add_gids = [NONE; MAX_GROUPS];
    for (g, a) in add_gids.iter_mut().zip(adds) {
        *g = numeric(a.to_bytes()).unwrap_or(NONE);
    }
    let mut full = false;
    if missing.is_none() && (members || group.is_some() && primary == NONE || add_gids[..adds.len()].contains(&NONE)) {
        exists = root.each_line(GROUP, &mut |f| {
            // name:password:gid:member,member,...
            let Some(gid) = id(f[2]) else { return };
            if primary == NONE && group == Some(f[0]) {
                primary = gid;
            }
            if members && f[3].split(|&c| c == b',').any(|m| m == name.as_bytes()) {
                full |= !ids.add_group(gid);
            }
            for (g, a) in add_gids.iter_mut().zip(adds) {
                if *g == NONE && a.to_bytes() == f[0] {
                    *g = gid;
                }
            }
        })?;
    }
    if let (None, Some(g)) = (missing, group) {
        match primary {
            NONE => missing = Some(("--user", "group", g, GROUP)),
            gid => ids.gid = gid,
        }
    }
    for (&gid, a) in add_gids.iter().zip(adds) {
        if missing.is_none() && gid == NONE {
            missing = Some(("--group-add", "group", a.to_bytes(), GROUP));
        }
        full |= !ids.add_group(gid);
    }
    if let Some((opt, what, name, file)) = missing {
        return Err(root.missing(opt, what, name, file, exists));
    }
    if spec.is_some() {
        full |= !ids.add_group(ids.gid);
    }
    if full {
        return Err(Error::usage(b"--user, --group-add: more than 64 supplementary groups"));
    }
    Ok((ids, home_len))
}

/// `HOME=<home>` of `uid` in `root`'s /etc/passwd, written into `out`; `HOME=/` without
/// an entry or a file to read (runc's and crun's default when an OCI process has no HOME
/// in its environment); `None` when it does not fit.
pub fn home_of<'o>(root: &CStr, uid: u32, out: &'o mut [u8]) -> Option<&'o CStr> {
    let mut len = 0;
    let mut found = false;
    // An unreadable file is no error: runc's lookup falls back to its defaults too.
    let _ = Root(Some(root)).each_line(PASSWD, &mut |f| {
        if !found && id(f[2]) == Some(uid) {
            found = true;
            len = write_home(out, f[5]);
        }
    });
    if !found {
        len = write_home(out, b"");
    }
    CStr::from_bytes_with_nul(out.get(..len)?).ok()
}

/// Writes `HOME=<dir>` and a NUL into `out` (`/` for an empty dir); returns the length.
fn write_home(out: &mut [u8], dir: &[u8]) -> usize {
    let dir = if dir.is_empty() { b"/" } else { dir };
    let total = 5 + dir.len() + 1;
    let Some(o) = out.get_mut(..total) else { return 0 };
    o[..5].copy_from_slice(b"HOME=");
    o[5..total - 1].copy_from_slice(dir);
    o[total - 1] = 0;
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    const PASSWD_TEXT: &str = "root:x:0:0:root:/root:/bin/sh
bob:x:1000:1000:Bob:/home/bob:/bin/sh
nohome:x:1001:1001::
alice:x:1002:100:Alice:/home/alice:/bin/sh
bob:x:2000:2000:second bob:/nope:/bin/sh
broken line
";
    const GROUP_TEXT: &str = "root:x:0:
users:x:100:
bob:x:1000:
wheel:x:10:bob,alice
audio:x:29:alice
video:x:44:carol,bob
bad:x:notanumber:bob
";

    /// uid, gid, the groups sorted.
    type Got = (u32, u32, Vec<u32>);

    /// A rootfs directory with etc/passwd and etc/group, removed on drop.
    struct Tree(std::path::PathBuf);

    impl Tree {
        fn new(name: &str, passwd: Option<&str>, group: Option<&str>) -> Tree {
            let d = std::env::temp_dir().join(format!("tinyctr-user-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(d.join("etc")).unwrap();
            if let Some(p) = passwd {
                std::fs::write(d.join("etc/passwd"), p).unwrap();
            }
            if let Some(g) = group {
                std::fs::write(d.join("etc/group"), g).unwrap();
            }
            Tree(d)
        }

        /// (uid, gid, the groups sorted as the kernel keeps them), HOME.
        fn resolve(&self, spec: Option<&str>, adds: &[&str]) -> core::result::Result<(Got, String), String> {
            let root = CString::new(self.0.to_str().unwrap()).unwrap();
            let spec = spec.map(|s| CString::new(s).unwrap());
            let adds: Vec<CString> = adds.iter().map(|a| CString::new(*a).unwrap()).collect();
            let refs: Vec<&CStr> = adds.iter().map(|a| a.as_c_str()).collect();
            let mut home = vec![0u8; HOME_ROOM];
            match resolve(Root(Some(&root)), spec.as_deref(), &refs, &mut home) {
                Ok((ids, n)) => {
                    let mut g: Vec<u32> = ids.groups().iter().map(|g| g.as_raw()).collect();
                    g.sort();
                    Ok(((ids.uid, ids.gid, g), String::from_utf8_lossy(&home[..n.saturating_sub(1)]).into_owned()))
                }
                Err(e) => {
                    assert_eq!(e.status, 125);
                    Err(String::from_utf8_lossy(e.line().as_bytes()).replace(self.0.to_str().unwrap(), "DIR"))
                }
            }
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn ids(uid: u32, gid: u32, groups: &[u32]) -> Got {
        let mut g = groups.to_vec();
        g.sort();
        (uid, gid, g)
    }

    #[test]
    fn users_resolve_as_docker_does() {
        let t = Tree::new("resolve", Some(PASSWD_TEXT), Some(GROUP_TEXT));
        // By name: gid and HOME from passwd, memberships from group (first bob wins).
        assert_eq!(t.resolve(Some("bob"), &[]).unwrap(), (ids(1000, 1000, &[1000, 10, 44]), "HOME=/home/bob".into()));
        // By uid, the same entry.
        assert_eq!(t.resolve(Some("1000"), &[]).unwrap().0, ids(1000, 1000, &[1000, 10, 44]));
        // Memberships go by name: the second bob is in bob's groups too.
        assert_eq!(t.resolve(Some("2000"), &[]).unwrap(), (ids(2000, 2000, &[2000, 10, 44]), "HOME=/nope".into()));
        // A uid without an entry: gid 0, HOME=/, no memberships.
        assert_eq!(t.resolve(Some("4242"), &[]).unwrap(), (ids(4242, 0, &[0]), "HOME=/".into()));
        // An empty home field is /.
        assert_eq!(t.resolve(Some("nohome"), &[]).unwrap().1, "HOME=/");
        // An explicit group: that gid, and no memberships (the implicit form only).
        assert_eq!(t.resolve(Some("alice:audio"), &[]).unwrap().0, ids(1002, 29, &[29]));
        assert_eq!(t.resolve(Some("alice:7"), &[]).unwrap().0, ids(1002, 7, &[7]));
        assert_eq!(t.resolve(Some("alice"), &[]).unwrap().0, ids(1002, 100, &[100, 10, 29]));
        assert_eq!(t.resolve(Some("4242:44"), &[]).unwrap().0, ids(4242, 44, &[44]));
        // --group-add: numbers as they are, names looked up, in order, no duplicates.
        let (i, _) = t.resolve(Some("bob"), &["audio", "5000", "wheel"]).unwrap();
        assert_eq!(i, ids(1000, 1000, &[1000, 10, 44, 29, 5000]));
        // Without -u: root, with only the --group-adds.
        assert_eq!(t.resolve(None, &["video", "7"]).unwrap(), (ids(0, 0, &[44, 7]), String::new()));
        assert_eq!(t.resolve(None, &[]).unwrap(), (ids(0, 0, &[]), String::new()));
    }

    #[test]
    fn unknown_names_say_which_file_was_searched() {
        let t = Tree::new("unknown", Some(PASSWD_TEXT), Some(GROUP_TEXT));
        assert_eq!(t.resolve(Some("carol"), &[]).unwrap_err(), "tinyctr: --user: no user 'carol' in DIR/etc/passwd\n");
        assert_eq!(
            t.resolve(Some("bob:staff"), &[]).unwrap_err(),
            "tinyctr: --user: no group 'staff' in DIR/etc/group\n"
        );
        assert_eq!(
            t.resolve(None, &["staff"]).unwrap_err(),
            "tinyctr: --group-add: no group 'staff' in DIR/etc/group\n"
        );
        assert_eq!(
            t.resolve(Some("bob"), &["bad"]).unwrap_err(),
            "tinyctr: --group-add: no group 'bad' in DIR/etc/group\n"
        );
    }

    #[test]
    fn missing_files_are_no_error_for_numbers() {
        let t = Tree::new("nofiles", None, None);
        assert_eq!(t.resolve(Some("1000:1000"), &["27"]).unwrap(), (ids(1000, 1000, &[1000, 27]), "HOME=/".into()));
        assert_eq!(t.resolve(Some("1000"), &[]).unwrap().0, ids(1000, 0, &[0]));
        assert_eq!(
            t.resolve(Some("bob"), &[]).unwrap_err(),
            "tinyctr: --user: no user 'bob' in DIR/etc/passwd (no such file)\n"
        );
        assert_eq!(
            t.resolve(Some("1000:staff"), &[]).unwrap_err(),
            "tinyctr: --user: no group 'staff' in DIR/etc/group (no such file)\n"
        );
    }

    #[test]
    fn symlinks_stay_inside_the_root() {
        let t = Tree::new("symlink", None, Some(GROUP_TEXT));
        // An absolute link resolves inside DIR: DIR/etc/passwd-real, not the host's.
        std::fs::write(t.0.join("etc/passwd-real"), "zed:x:77:77::/zed:/bin/sh\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd-real", t.0.join("etc/passwd")).unwrap();
        assert_eq!(t.resolve(Some("zed"), &[]).unwrap(), (ids(77, 77, &[77]), "HOME=/zed".into()));
        assert!(t.resolve(Some("root"), &[]).is_err(), "the host's passwd was read");
    }

    #[test]
    fn too_many_groups_is_an_error() {
        let mut text = String::new();
        for g in 0..70 {
            text.push_str(&format!("g{g}:x:{}:bob\n", 3000 + g));
        }
        let t = Tree::new("many", Some(PASSWD_TEXT), Some(&text));
        assert_eq!(
            t.resolve(Some("bob"), &[]).unwrap_err(),
            "tinyctr: --user, --group-add: more than 64 supplementary groups\n"
        );
    }

    #[test]
    fn syntax() {
        for v in ["1000", "bob", "bob:staff", "1000:1000", "0:0", "www-data", "2147483647"] {
            assert_eq!(check(v.as_bytes(), true), Ok(()), "{v}");
        }
        for v in ["", ":1000", "1000:", "a:b:c"] {
            assert_eq!(check(v.as_bytes(), true), Err("is not NAME|UID[:GROUP|GID]"), "{v}");
        }
        for v in ["2147483648", "0:99999999999"] {
            assert_eq!(check(v.as_bytes(), true), Err("has an id above 2147483647"), "{v}");
        }
        assert_eq!(check(b"audio", false), Ok(()));
        assert_eq!(check(b"a:b", false), Err("is not a group name or GID"));
        assert_eq!(check(b"", false), Err("is not a group name or GID"));
        assert_eq!(check(b"99999999999", false), Err("has an id above 2147483647"));
    }

    #[test]
    fn fields_of_a_line() {
        assert_eq!(fields(b"a:b:c"), [&b"a"[..], b"b", b"c", b"", b"", b"", b""]);
        assert_eq!(fields(b"1:2:3:4:5:6:7:8")[6], b"7");
        assert_eq!(fields(b"")[0], b"");
    }
}
