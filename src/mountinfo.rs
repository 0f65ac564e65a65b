//! The zero-allocation scanners behind cgroup discovery: a line reader over a fixed buffer,
//! the fields of one `/proc/self/mountinfo` line, `\NNN` unescaping, exact word matching in
//! comma lists, and the three fields of one `/proc/self/cgroup` line.
//!
//! Nothing here allocates or touches the kernel beyond `read(2)` on a descriptor it is
//! given; every function takes bytes and returns borrowed slices, so it is testable on
//! captured text and safe on any input (malformed lines give `None`, never a panic).
//! See proc(5) for both formats.

use rustix::fd::AsFd;
use rustix::io::Errno;

/// Something to read bytes from: a descriptor on the host, a byte slice in tests.
pub trait Source {
    /// Reads at most `buf.len()` bytes; 0 means end of input.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno>;
}

/// A descriptor as a [`Source`], retrying `EINTR`.
pub struct FdSource<F: AsFd>(pub F);

impl<F: AsFd> Source for FdSource<F> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            match rustix::io::read(&self.0, &mut *buf) {
                Err(Errno::INTR) => continue,
                r => return r,
            }
        }
    }
}

/// A byte slice as a [`Source`], handing out at most `chunk` bytes per read (tests use
/// small chunks to split lines across reads).
pub struct SliceSource<'a> {
    pub data: &'a [u8],
    pub chunk: usize,
}

impl<'a> SliceSource<'a> {
    pub fn new(data: &'a [u8]) -> SliceSource<'a> {
        SliceSource { data, chunk: usize::MAX }
    }
}

impl Source for SliceSource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = self.data.len().min(buf.len()).min(self.chunk.max(1));
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Splits a [`Source`] into lines through a caller's buffer (one copy of this code
/// serves every buffer size).
///
/// A line longer than the buffer is skipped whole (counted in `skipped`): in mountinfo
/// that is an overlay mount with a long `lowerdir=` list, never a usable cgroup mount,
/// and a path that long could not be opened through our fixed path buffers anyway.
pub struct Lines<'b, S: Source> {
    src: S,
    buf: &'b mut [u8],
    start: usize,
    end: usize,
    eof: bool,
    /// True while dropping the rest of an overlong line.
    skipping: bool,
    pub skipped: usize,
}

impl<'b, S: Source> Lines<'b, S> {
    pub fn new(src: S, buf: &'b mut [u8]) -> Self {
        Lines { src, buf, start: 0, end: 0, eof: false, skipping: false, skipped: 0 }
    }

    /// The next line without its `\n`, or `None` at the end. A last line without a
    /// newline is still returned.
    pub fn next_line(&mut self) -> Result<Option<&[u8]>, Errno> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let (a, b) = (self.start, self.start + i);
                self.start = b + 1;
                if self.skipping {
                    self.skipping = false;
                    continue;
                }
                return Ok(Some(&self.buf[a..b]));
            }
            if self.eof {
                let (a, b) = (self.start, self.end);
                self.start = self.end;
                if a < b && !self.skipping {
                    return Ok(Some(&self.buf[a..b]));
                }
                self.skipping = false;
                return Ok(None);
            }
            // Need more bytes: move the partial line to the front, or drop it if it
            // already fills the whole buffer.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                if !self.skipping {
                    self.skipped += 1;
                }
                self.skipping = true;
                self.end = 0;
            }
            let n = self.src.read(&mut self.buf[self.end..])?;
            if n == 0 {
                self.eof = true;
            } else {
                self.end += n;
            }
        }
    }
}

/// The fields of one mountinfo line that cgroup discovery needs. Paths are still
/// octal-escaped as the kernel wrote them; see [`unescape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mount<'a> {
    /// Field 4: the path inside the filesystem that is mounted here (for a cgroup
    /// hierarchy: the cgroup seen at the mount point; not `/` inside nested containers).
    pub root: &'a [u8],
    /// Field 5: where it is mounted.
    pub mount_point: &'a [u8],
    /// Field 3: `major:minor` of the filesystem (every mount of one has the same).
    pub dev: &'a [u8],
    /// How many optional fields (`shared:N`, `master:N`, ...) preceded the ` - `.
    pub optional_fields: usize,
    pub fstype: &'a [u8],
    pub source: &'a [u8],
    /// The per-superblock options: a cgroup v1 mount lists its controllers here.
    pub super_options: &'a [u8],
}

/// Parses one mountinfo line:
/// `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
/// `None` if the line does not have that shape.
pub fn parse_mount(line: &[u8]) -> Option<Mount<'_>> {
    let mut f = line.split(|&b| b == b' ');
    let _id = f.next()?;
    let _parent = f.next()?;
    let dev = f.next()?;
    let root = f.next()?;
    let mount_point = f.next()?;
    let _mount_options = f.next()?;
    let mut optional_fields = 0;
    loop {
        let field = f.next()?;
        if field == b"-" {
            break;
        }
        optional_fields += 1;
    }
    let fstype = f.next()?;
    let source = f.next()?;
    let super_options = f.next().unwrap_or(b"");
    if root.first() != Some(&b'/') || mount_point.first() != Some(&b'/') {
        return None;
    }
    Some(Mount { root, mount_point, dev, optional_fields, fstype, source, super_options })
}

/// Undoes the kernel's octal escaping of space, tab, newline and backslash (`\040`) into
/// `out`. `None` if `out` is too small. A backslash not followed by three octal digits
/// is kept as it is.
pub fn unescape<'o>(s: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    let mut n = 0;
    let mut room = true;
    unescape_each(s, |b| match out.get_mut(n) {
        Some(slot) => {
            *slot = b;
            n += 1;
        }
        None => room = false,
    });
    room.then(|| &out[..n])
}

/// [`unescape`], handing each byte to `f` (to append to a buffer without a copy).
pub fn unescape_each(s: &[u8], mut f: impl FnMut(u8)) {
    let mut i = 0;
    while i < s.len() {
        let mut b = s[i];
        i += 1;
        if b == b'\\' && i + 3 <= s.len() && s[i..i + 3].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (s[i] - b'0') as u32 * 64 + (s[i + 1] - b'0') as u32 * 8 + (s[i + 2] - b'0') as u32;
            if v <= 0xff {
                b = v as u8;
                i += 3;
            }
        }
        f(b);
    }
}

/// True if the comma-separated `list` contains exactly `word` (`cpu` does not match
/// `cpuset` nor `cpuacct`; `cpu,cpuacct` contains both).
pub fn has_word(list: &[u8], word: &[u8]) -> bool {
    !word.is_empty() && list.split(|&b| b == b',').any(|w| w == word)
}

/// One `/proc/self/cgroup` line, `hierarchy-ID:controller-list:cgroup-path`, split at
/// the first two `:` only (the path may itself contain `:`). On the unified hierarchy
/// the ID is `0` and the controller list is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupLine<'a> {
    pub id: &'a [u8],
    pub controllers: &'a [u8],
    pub path: &'a [u8],
}

pub fn parse_cgroup_line(line: &[u8]) -> Option<CgroupLine<'_>> {
    let c1 = line.iter().position(|&b| b == b':')?;
    let rest = &line[c1 + 1..];
    let c2 = rest.iter().position(|&b| b == b':')?;
    let path = &rest[c2 + 1..];
    if path.first() != Some(&b'/') {
        return None;
    }
    Some(CgroupLine { id: &line[..c1], controllers: &rest[..c2], path })
}

/// True if `path` is `root` or lies below it, comparing whole components (`/a/bc` is not
/// below `/a/b`). Both start with `/`.
pub fn is_below(path: &[u8], root: &[u8]) -> bool {
    let root = trim_trailing_slash(root);
    if root.is_empty() {
        return true;
    }
    path.starts_with(root) && (path.len() == root.len() || path[root.len()] == b'/')
}

/// `path` relative to `root` (as from [`is_below`]), with its leading `/`, or empty when
/// they are equal.
pub fn relative<'p>(path: &'p [u8], root: &[u8]) -> &'p [u8] {
    let root = trim_trailing_slash(root);
    trim_trailing_slash(&path[root.len().min(path.len())..])
}

fn trim_trailing_slash(p: &[u8]) -> &[u8] {
    let mut p = p;
    while let [rest @ .., b'/'] = p {
        p = rest;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines<const N: usize>(data: &[u8], chunk: usize) -> (Vec<Vec<u8>>, usize) {
        let mut buf = [0u8; N];
        let mut r = Lines::new(SliceSource { data, chunk }, &mut buf);
        let mut v = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            v.push(l.to_vec());
        }
        (v, r.skipped)
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let text = b"first line\nsecond\n\nlast without newline";
        for chunk in 1..=text.len() {
            let (v, skipped) = all_lines::<64>(text, chunk);
            assert_eq!(v, vec![&b"first line"[..], b"second", b"", b"last without newline"], "chunk {chunk}");
            assert_eq!(skipped, 0);
        }
    }

    #[test]
    fn overlong_lines_are_skipped_whole() {
        let text = b"short\nthis line is far too long for the buffer\nok\n";
        for chunk in 1..=text.len() {
            let (v, skipped) = all_lines::<16>(text, chunk);
            assert_eq!(v, vec![&b"short"[..], b"ok"], "chunk {chunk}");
            assert_eq!(skipped, 1);
        }
        // An overlong last line without newline is dropped too.
        let (v, _) = all_lines::<8>(b"a\nbbbbbbbbbbbbbbbbbb", 3);
        assert_eq!(v, vec![&b"a"[..]]);
    }

    #[test]
    fn mount_with_zero_one_two_optional_fields() {
        let m = parse_mount(b"1199 1198 0:115 / /proc rw,nosuid - proc proc rw").unwrap();
        assert_eq!((m.optional_fields, m.fstype, m.super_options), (0, &b"proc"[..], &b"rw"[..]));
        let m = parse_mount(b"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct")
            .unwrap();
        assert_eq!(m.optional_fields, 1);
        assert_eq!(m.mount_point, b"/sys/fs/cgroup/cpu");
        assert!(has_word(m.super_options, b"cpu") && has_word(m.super_options, b"cpuacct"));
        assert!(!has_word(m.super_options, b"cpuset"));
        let m = parse_mount(
            b"1207 1204 0:34 /docker/4f /sys/fs/cgroup/memory rw master:17 shared:301 - cgroup cgroup rw,memory",
        )
        .unwrap();
        assert_eq!((m.optional_fields, m.root, m.source), (2, &b"/docker/4f"[..], &b"cgroup"[..]));
    }

    #[test]
    fn malformed_mount_lines_are_none() {
        for l in [
            &b""[..],
            b"1 2 3 / /x rw",
            b"1 2 3 / /x rw shared:1",
            b"1 2 3 / /x rw -",
            b"1 2 3 / /x rw - cgroup",
            b"1 2 3 relative /x rw - cgroup cgroup rw",
        ] {
            assert_eq!(parse_mount(l), None, "{:?}", String::from_utf8_lossy(l));
        }
    }

    #[test]
    fn unescapes_octal() {
        let mut out = [0u8; 64];
        assert_eq!(unescape(br"/mnt/my\040cgroup\134dir", &mut out).unwrap(), b"/mnt/my cgroup\\dir");
        assert_eq!(unescape(br"/a\011b\012c", &mut out).unwrap(), b"/a\tb\nc");
        // Not an escape: kept as is.
        assert_eq!(unescape(br"/a\9", &mut out).unwrap(), br"/a\9");
        assert_eq!(unescape(br"/a\777", &mut out).unwrap(), br"/a\777");
        let mut small = [0u8; 3];
        assert_eq!(unescape(b"/abcd", &mut small), None);
    }

    #[test]
    fn word_match_is_exact() {
        assert!(has_word(b"rw,cpu,cpuacct", b"cpu"));
        assert!(!has_word(b"rw,cpuset", b"cpu"));
        assert!(!has_word(b"rw,cpuacct", b"cpu"));
        assert!(has_word(b"memory", b"memory"));
        assert!(!has_word(b"rw,memory", b""));
        assert!(has_word(b"rw,xattr,name=systemd", b"name=systemd"));
    }

    #[test]
    fn cgroup_lines_split_at_first_two_colons() {
        let l = parse_cgroup_line(b"4:memory:/process_api/12a9").unwrap();
        assert_eq!((l.id, l.controllers, l.path), (&b"4"[..], &b"memory"[..], &b"/process_api/12a9"[..]));
        let l = parse_cgroup_line(b"0::/odd:path:with:colons").unwrap();
        assert_eq!((l.id, l.controllers, l.path), (&b"0"[..], &b""[..], &b"/odd:path:with:colons"[..]));
        let l = parse_cgroup_line(b"2:cpu,cpuacct:/").unwrap();
        assert_eq!(l.controllers, b"cpu,cpuacct");
        assert_eq!(parse_cgroup_line(b"garbage"), None);
        assert_eq!(parse_cgroup_line(b"1:x"), None);
        assert_eq!(parse_cgroup_line(b"1:x:relative"), None);
    }

    #[test]
    fn below_and_relative() {
        assert!(is_below(b"/docker/4f/inner", b"/docker/4f"));
        assert!(is_below(b"/docker/4f", b"/docker/4f/"));
        assert!(!is_below(b"/docker/4fx", b"/docker/4f"));
        assert!(is_below(b"/anything", b"/"));
        assert!(!is_below(b"/", b"/docker"));
        assert_eq!(relative(b"/docker/4f/inner", b"/docker/4f"), b"/inner");
        assert_eq!(relative(b"/docker/4f", b"/docker/4f"), b"");
        assert_eq!(relative(b"/a/b", b"/"), b"/a/b");
        assert_eq!(relative(b"/", b"/"), b"");
    }

    /// Every captured mountinfo parses line by line, and its cgroup lines are the ones
    /// we expect.
    #[test]
    fn captured_mountinfo_files() {
        let cases: [(&[u8], usize, usize); 6] = [
            (include_bytes!("../tests/fixtures/hybrid-thishost.mountinfo"), 9, 1),
            (include_bytes!("../tests/fixtures/hybrid-ubuntu2004.mountinfo"), 12, 1),
            (include_bytes!("../tests/fixtures/v1-centos7.mountinfo"), 6, 0),
            (include_bytes!("../tests/fixtures/v2-debian12.mountinfo"), 0, 1),
            (include_bytes!("../tests/fixtures/nested-docker-v1.mountinfo"), 5, 1),
            (include_bytes!("../tests/fixtures/nested-cgroupns-v2.mountinfo"), 0, 2),
        ];
        for (text, v1, v2) in cases {
            for chunk in [1, 7, 4096] {
                let mut buf = [0u8; 512];
                let mut r = Lines::new(SliceSource { data: text, chunk }, &mut buf);
                let (mut n1, mut n2) = (0, 0);
                while let Some(l) = r.next_line().unwrap() {
                    let m = parse_mount(l).expect("every captured line parses");
                    n1 += (m.fstype == b"cgroup") as usize;
                    n2 += (m.fstype == b"cgroup2") as usize;
                }
                assert_eq!((n1, n2), (v1, v2));
            }
        }
    }

    /// A small deterministic generator (xorshift) so the test needs no dependency.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn random_input_never_panics() {
        let alphabet = b" -:/\\0123457,\nabcdegmnoprstuy";
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut data = [0u8; 300];
        let mut out = [0u8; 64];
        for _ in 0..20_000 {
            let len = (xorshift(&mut seed) % data.len() as u64) as usize;
            for b in data[..len].iter_mut() {
                let r = xorshift(&mut seed);
                *b = if r.is_multiple_of(8) { r as u8 } else { alphabet[(r >> 8) as usize % alphabet.len()] };
            }
            let chunk = 1 + (xorshift(&mut seed) % 40) as usize;
            let mut buf = [0u8; 48];
            let mut r = Lines::new(SliceSource { data: &data[..len], chunk }, &mut buf);
            while let Some(l) = r.next_line().unwrap() {
                if let Some(m) = parse_mount(l) {
                    let _ = unescape(m.mount_point, &mut out);
                    let _ = has_word(m.super_options, b"cpu");
                    let _ = is_below(m.mount_point, m.root);
                    let _ = relative(m.mount_point, m.root);
                }
                if let Some(c) = parse_cgroup_line(l) {
                    let _ = has_word(c.controllers, b"memory");
                    if is_below(c.path, b"/x") {
                        let _ = relative(c.path, b"/x");
                    }
                }
                let _ = unescape(l, &mut out);
            }
        }
    }
}
