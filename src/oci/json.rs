//! A JSON scanner for the OCI documents (config.json, exec's process file, update's
//! resources): no allocator, no copies, bounded memory, and never a panic on any input.
//!
//! The document lies in a mutable buffer the caller owns (a mapping sized to the file). A
//! [`Json`] cursor walks it once, front to back. The caller pulls: [`Json::members`] opens
//! an object and its `next` yields each member the caller named (the others are skipped,
//! as the spec says unknown fields are ignored); [`Json::elements`] does the same for an
//! array; typed readers consume one value each. No callbacks, so no closures and vtables
//! in the binary.
//!
//! Strings are unescaped **in place** and NUL-terminated in place, so they reach the
//! kernel as `&CStr` without a copy: an escape always shrinks (`\"` is 2 bytes for 1,
//! `\u00e9` 6 for 2, a surrogate pair 12 for 4), and the closing quote leaves room for the
//! NUL. Arrays of strings ([`Json::strings`]) are packed NUL-separated where the array
//! itself was, so a list of any length costs no memory beyond the file. A string holding
//! `\u0000` is refused wherever a C string is wanted. Bytes above 0x7f pass unchanged (the
//! kernel takes bytes; Go's decoder would turn invalid UTF-8 into U+FFFD); an escaped lone
//! surrogate becomes U+FFFD, as in Go.
//!
//! What has been read is split off the buffer as it is returned, so it lives as long as the
//! buffer (`'a`) while the cursor goes on rewriting what follows. A skipped value is never
//! written, so [`Json::raw_object`] can hand back the untouched text of one (the annotations, for
//! the state JSON).
//!
//! Errors name the JSON path of the bad value and what was wrong
//! (`config.json: process.rlimits[2].hard: not an unsigned integer`); syntax errors add the
//! byte offset. Nesting is bounded ([`MAX_DEPTH`]), and with it the recursion of `skip`.
//!
//! Errors are sticky, as in a C parser: the first one is kept in the cursor, readers then
//! return empty values (`""`, 0, false) and every `next` ends its loop, so the walk winds
//! up at once and [`read`] returns that first error. A parser written on it needs no `?`
//! after each read, which keeps it small; it must only not act on what it read before
//! [`read`] has said the document is good.

use core::ffi::CStr;

use super::names;
use crate::error::{push_shown, Error};

/// Most containers (objects and arrays) open at once.
pub const MAX_DEPTH: usize = 64;

/// One step of the path to the value being read.
#[derive(Clone, Copy)]
enum Seg<'a> {
    /// A member name, unescaped, with its NUL.
    Key(&'a [u8]),
    /// A member name inside a skipped value, as written: offsets in `rest`, which is not
    /// split while a value is skipped.
    Raw(u32, u32),
    Index(u32),
}

pub struct Json<'a> {
    /// What is not split off yet; `rest[pos..]` is still to be read.
    rest: &'a mut [u8],
    pos: usize,
    /// Offset of `rest[0]` in the document.
    base: usize,
    /// The document's name in messages (`config.json`).
    doc: &'static str,
    path: [Seg<'a>; MAX_DEPTH],
    len: usize,
    /// Skipping: read without writing or splitting.
    keep: bool,
    /// The first error; nothing is read after it.
    failed: bool,
    error: Error,
}

/// Reads the document in `buf` (named `doc` in messages) with `f`, which must consume
/// its one value; only whitespace may follow. `Err` is the first error met.
pub fn read<'a, T>(
    buf: &'a mut [u8],
    doc: &'static str,
    f: impl FnOnce(&mut Json<'a>) -> T,
) -> crate::error::Result<T> {
    let mut j = Json::new(buf, doc);
    let v = f(&mut j);
    if j.peek().is_some() {
        j.syntax("more data after the document");
    }
    if j.failed {
        return Err(j.error);
    }
    Ok(v)
}

/// The members of an object being read; see [`Json::members`].
pub struct Members {
    names: &'static str,
    required: u32,
    seen: u32,
    /// 0: before the first member; 1: after one; 2: done (or failed).
    state: u8,
}

/// The elements of an array being read; see [`Json::elements`]. `n` is how many were
/// given, `u32::MAX` when done (or failed).
pub struct Elements {
    n: u32,
}

/// A string from the document as a `&CStr` (through `Deref`; `""` when absent), whose
/// default is all zero bits, so a default `Config` is set with zeros rather than with
/// pointers to a `""`.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Str<'a>(Option<&'a CStr>);

impl<'a> Str<'a> {
    pub fn get(self) -> &'a CStr {
        self.0.unwrap_or(c"")
    }

    /// `None` when empty (as mount(2) wants its data).
    pub fn non_empty(self) -> Option<&'a CStr> {
        self.0.filter(|s| !s.is_empty())
    }
}

impl<'a> From<&'a CStr> for Str<'a> {
    fn from(s: &'a CStr) -> Str<'a> {
        Str(Some(s))
    }
}

impl core::ops::Deref for Str<'_> {
    type Target = CStr;
    fn deref(&self) -> &CStr {
        self.get()
    }
}

impl PartialEq<&CStr> for Str<'_> {
    fn eq(&self, other: &&CStr) -> bool {
        self.get() == *other
    }
}

impl core::fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.get().fmt(f)
    }
}

/// A list of strings packed in the document's buffer, each followed by its NUL.
#[derive(Clone, Copy, Default, Debug)]
pub struct StrList<'a> {
    bytes: Option<&'a [u8]>,
    count: u32,
}

impl<'a> StrList<'a> {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a CStr> + 'a {
        // The crate's one C-string walker (words::cstrs), not an iterator of its own.
        crate::words::cstrs(self.as_bytes())
    }

    /// The packed bytes, every string followed by its NUL (or, for a list read with
    /// another separator, the strings joined by it and one NUL).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes.unwrap_or(&[])
    }

    /// A list read with a separator other than NUL, as the one C string it is.
    pub fn joined(&self) -> Str<'a> {
        Str(CStr::from_bytes_with_nul(self.as_bytes()).ok())
    }
}

/// An array of strings being packed; see [`Json::strings`].
pub struct Strings {
    e: Elements,
    sep: u8,
    start: usize,
    /// Where the next kept string goes, in `rest`.
    w: usize,
    /// Length of the string `next` returned last (at `w`).
    n: usize,
    count: u32,
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let mut v = 0;
    for &c in b.get(at..at + 4)? {
        v = v << 4 | (c as char).to_digit(16)?;
    }
    Some(v)
}

impl<'a> Json<'a> {
    pub fn new(buf: &'a mut [u8], doc: &'static str) -> Json<'a> {
        Json {
            rest: buf,
            pos: 0,
            base: 0,
            doc,
            path: [Seg::Index(0); MAX_DEPTH],
            len: 0,
            keep: false,
            failed: false,
            error: Error::usage(b""),
        }
    }

    /// Skips whitespace; the next byte.
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.rest.get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += hit as usize;
        hit
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        self.peek();
        let hit = self.rest[self.pos..].starts_with(word);
        if hit {
            self.pos += word.len();
        }
        hit
    }

    /// Splits off everything read so far; it lives as long as the buffer.
    fn split(&mut self) -> &'a mut [u8] {
        let (head, tail) = core::mem::take(&mut self.rest).split_at_mut(self.pos);
        self.base += self.pos;
        self.pos = 0;
        self.rest = tail;
        head
    }

    // ---- errors ----

    /// `doc: path: what 'value'`.
    fn render(&self, what: &str, value: Option<&[u8]>) -> Error {
        let mut e = Error::usage(self.doc.as_bytes());
        e.msg.push(b": ");
        for (i, seg) in self.path[..self.len].iter().enumerate() {
            let name: &[u8] = match *seg {
                Seg::Index(n) => {
                    e.msg.push(b"[").push_u64(n as u64).push(b"]");
                    continue;
                }
                Seg::Key(k) => &k[..k.len() - 1],
                // Valid while the value is skipped, the only time such a name is shown:
                // after an error nothing more is rendered (see `fail`).
                Seg::Raw(a, b) => self.rest.get(a as usize..b as usize).unwrap_or(b"?"),
            };
            if i > 0 {
                e.msg.push(b".");
            }
            push_shown(&mut e.msg, name);
        }
        if self.len > 0 {
            e.msg.push(b": ");
        }
        e.msg.push_str(what);
        if let Some(v) = value {
            e.msg.push(b" '");
            push_shown(&mut e.msg, v);
            e.msg.push(b"'");
        }
        e
    }

    /// Whether an error was met (then the document is not read further).
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Keeps `e` as the error. Only the first error counts: after it, the path may be
    /// stale (the walk unwinds without popping it), so nothing more is rendered.
    fn set(&mut self, e: Error) {
        self.failed = true;
        self.error = e;
    }

    /// Fails with `path: what`.
    pub fn fail(&mut self, what: &str) {
        self.fail_val_opt(what, None)
    }

    /// Fails with `path: what 'value'`.
    pub fn fail_val(&mut self, what: &str, value: &[u8]) {
        self.fail_val_opt(what, Some(value))
    }

    fn fail_val_opt(&mut self, what: &str, value: Option<&[u8]>) {
        if !self.failed {
            self.set(self.render(what, value));
        }
    }

    /// Fails with `path: what N`.
    pub fn fail_num(&mut self, what: &str, n: u64) {
        if !self.failed {
            let mut e = self.render(what, None);
            e.msg.push(b" ").push_u64(n);
            self.set(e);
        }
    }

    /// A syntax error (or the document ended), and where.
    fn syntax(&mut self, what: &str) {
        if !self.failed {
            let what = if self.pos >= self.rest.len() { "unexpected end of the document" } else { what };
            let mut e = self.render(what, None);
            e.msg.push(b" at byte ").push_u64((self.base + self.pos) as u64);
            self.set(e);
        }
    }

    /// The value is not of the type wanted (or the document ended where it should be).
    fn expected(&mut self, what: &str) {
        if self.pos >= self.rest.len() {
            return self.syntax(what);
        }
        self.fail(what)
    }

    // ---- structure ----

    /// Consumes the opening `c` of a container; false (and failed) if it is not there.
    fn open(&mut self, c: u8, what: &str) -> bool {
        if self.failed {
            return false;
        }
        if self.peek() != Some(c) {
            self.expected(what);
            return false;
        }
        if self.len >= MAX_DEPTH {
            self.syntax("nested deeper than 64 levels");
            return false;
        }
        self.pos += 1;
        true
    }

    fn push(&mut self, seg: Seg<'a>) {
        // `open` keeps `len` below MAX_DEPTH inside any container.
        if let Some(s) = self.path.get_mut(self.len) {
            *s = seg;
            self.len += 1;
        }
    }

    /// After a member or element: pops its name, then true after a comma, false at the
    /// closing `close` (or after an error).
    fn more(&mut self, close: u8) -> bool {
        if self.failed {
            return false;
        }
        self.len -= 1;
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                true
            }
            Some(c) if c == close => {
                self.pos += 1;
                false
            }
            _ => {
                self.syntax(if close == b'}' { "expected ',' or '}'" } else { "expected ',' or ']'" });
                false
            }
        }
    }

    /// Opens an object whose members of interest are the words of `names`; pull them with
    /// [`Members::next`]. Those whose bit is set in `required` must be there.
    #[inline(never)]
    pub fn members(&mut self, names: &'static str, required: u32) -> Members {
        let open = self.open(b'{', "not an object");
        Members { names, required, seen: 0, state: if open { 0 } else { 2 } }
    }

    /// Opens an array; pull its elements with [`Elements::next`].
    pub fn elements(&mut self) -> Elements {
        Elements { n: if self.open(b'[', "not an array") { 0 } else { u32::MAX } }
    }

    /// The name of the member being read, as a C string (`None` if it holds `\u0000`, or
    /// inside an array or a skipped value).
    pub fn key(&self) -> Option<&'a CStr> {
        match self.path[..self.len].last()? {
            Seg::Key(k) => CStr::from_bytes_with_nul(k).ok(),
            _ => None,
        }
    }

    // ---- values ----

    /// Skips a value of any type, checking its syntax; writes nothing.
    pub fn skip(&mut self) {
        let keep = core::mem::replace(&mut self.keep, true);
        self.skip_value();
        self.keep = keep;
    }

    fn skip_value(&mut self) {
        match self.peek() {
            Some(b'{') => {
                let mut m = self.members("", 0);
                while m.next(self).is_some() {
                    self.skip_value();
                }
            }
            Some(b'[') => {
                let mut e = self.elements();
                while e.next(self).is_some() {
                    self.skip_value();
                }
            }
            Some(b'"') => {
                self.string(None);
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number();
            }
            _ if self.literal(b"true") || self.literal(b"false") || self.literal(b"null") => {}
            _ => self.syntax("expected a value"),
        }
    }

    /// Skips an object and returns its text as written.
    pub fn raw_object(&mut self) -> &'a [u8] {
        if self.peek() != Some(b'{') {
            self.expected("not an object");
            return b"";
        }
        let start = self.pos;
        self.skip();
        let head: &'a [u8] = self.split();
        &head[start..]
    }

    /// The string at `pos` (a `"`), checked, and unescaped into `rest[w..]` when `w` is
    /// given. In place is safe for any `w <= pos`: the unescaped text is never longer than
    /// what was read of it, so writing never overtakes reading. Leaves `pos` after the
    /// closing quote; returns the unescaped length (None: failed).
    fn string(&mut self, w: Option<usize>) -> Option<usize> {
        let mut r = self.pos + 1;
        let mut n = 0;
        loop {
            let Some(&c) = self.rest.get(r) else {
                self.pos = r;
                self.syntax("unterminated string");
                return None;
            };
            let mut out = [c, 0, 0, 0];
            let mut k = 1;
            r += 1;
            if c == b'"' {
                break;
            }
            if c < 0x20 {
                self.pos = r - 1;
                self.syntax("control character in a string");
                return None;
            }
            if c == b'\\' {
                let e = self.rest.get(r).copied().unwrap_or(0);
                r += 1;
                self.pos = r - 2;
                if e == b'u' {
                    let Some(mut cp) = hex4(self.rest, r) else {
                        self.syntax("invalid \\u escape");
                        return None;
                    };
                    r += 4;
                    if (0xd800..0xe000).contains(&cp) {
                        // A high surrogate pairs with a low one that follows; anything
                        // else is U+FFFD.
                        let lo = if self.rest.get(r..r + 2) == Some(b"\\u") { hex4(self.rest, r + 2) } else { None };
                        match lo {
                            Some(lo @ 0xdc00..=0xdfff) if cp < 0xdc00 => {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                r += 6;
                            }
                            _ => cp = 0xfffd,
                        }
                    }
                    // UTF-8: 1 to 4 bytes, lead byte then continuation bytes.
                    k = 1 + (cp >= 0x80) as usize + (cp >= 0x800) as usize + (cp >= 0x10000) as usize;
                    let mut v = cp;
                    for b in out[1..k].iter_mut().rev() {
                        *b = 0x80 | (v & 0x3f) as u8;
                        v >>= 6;
                    }
                    out[0] = [0, 0, 0xc0, 0xe0, 0xf0][k] | v as u8;
                } else {
                    let Some(i) = b"\"\\/bfnrt".iter().position(|&x| x == e) else {
                        self.syntax("invalid escape in a string");
                        return None;
                    };
                    out[0] = b"\"\\/\x08\x0c\n\r\t"[i];
                }
            }
            if let Some(w) = w {
                self.rest[w + n..w + n + k].copy_from_slice(&out[..k]);
            }
            n += k;
        }
        self.pos = r;
        Some(n)
    }

    /// At a string, or failed.
    fn at_string(&mut self) -> bool {
        if self.failed {
            return false;
        }
        let at = self.peek() == Some(b'"');
        if !at {
            self.expected("not a string");
        }
        at
    }

    /// A string, unescaped and NUL-terminated in place.
    pub fn cstr(&mut self) -> &'a CStr {
        if !self.at_string() {
            return c"";
        }
        let start = self.pos;
        let Some(n) = self.string(Some(start)) else { return c"" };
        self.rest[start + n] = 0;
        let head: &'a [u8] = self.split();
        let s = &head[start..=start + n];
        CStr::from_bytes_with_nul(s).unwrap_or_else(|_| {
            self.fail_val(NUL, &s[..n]);
            c""
        })
    }

    /// A string, as a [`Str`].
    pub fn str(&mut self) -> Str<'a> {
        Str(Some(self.cstr()))
    }

    /// Opens an array of strings to be packed where the array was; pull them with
    /// [`Strings::next`], keep the ones wanted with [`Strings::keep`], and end with
    /// [`Strings::finish`]. Each kept string is followed by `sep`: with 0 the result is a
    /// list of C strings; with another byte, the strings joined by it into one C string.
    pub fn strings(&mut self, sep: u8) -> Strings {
        self.peek();
        let start = self.pos;
        Strings { e: self.elements(), sep, start, w: start, n: 0, count: 0 }
    }

    /// An array of strings, all kept; with `absolute`, each must be an absolute path.
    pub fn str_list(&mut self, absolute: bool) -> StrList<'a> {
        let mut s = self.strings(0);
        while let Some(v) = s.next(self) {
            if absolute && v.first() != Some(&b'/') {
                s.fail(self, "not an absolute path:");
            }
            s.keep(self);
        }
        s.finish(self)
    }

    /// A string that is one of the words of `table` after `prefix`: its position (0
    /// after an error).
    pub fn name(&mut self, table: &str, prefix: &str, what: &str) -> usize {
        let s = self.cstr().to_bytes();
        names::find(table, prefix, s).unwrap_or_else(|| {
            self.fail_val(what, s);
            0
        })
    }

    /// An array of such strings, as a mask: bit N for word N.
    pub fn name_mask(&mut self, table: &str, prefix: &str, what: &str) -> u64 {
        let mut s = self.strings(0);
        let mut mask = 0u64;
        while let Some(v) = s.next(self) {
            match names::find(table, prefix, v) {
                Some(n) => mask |= 1 << n,
                None => s.fail(self, what),
            }
        }
        s.finish(self);
        mask
    }

    /// A number token: negative, the magnitude when it is an integer that fits 64 bits
    /// (`None`: too big), and whether it is an integer at all (no fraction or exponent).
    fn number(&mut self) -> (bool, Option<u64>, bool) {
        self.peek();
        let neg = self.rest.get(self.pos) == Some(&b'-');
        self.pos += neg as usize;
        let lead = self.rest.get(self.pos).copied();
        let (n, v) = self.digits();
        let mut ok = n == 1 || (n > 1 && lead != Some(b'0'));
        let mut int = true;
        if self.rest.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            int = false;
            ok &= self.digits().0 > 0;
        }
        if matches!(self.rest.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            int = false;
            self.pos += matches!(self.rest.get(self.pos), Some(b'+' | b'-')) as usize;
            ok &= self.digits().0 > 0;
        }
        if !ok {
            self.syntax("invalid number");
        }
        (neg, v, int)
    }

    fn digits(&mut self) -> (usize, Option<u64>) {
        let start = self.pos;
        let mut v = Some(0u64);
        while let Some(&c @ b'0'..=b'9') = self.rest.get(self.pos) {
            v = v.and_then(|v| v.checked_mul(10)?.checked_add((c - b'0') as u64));
            self.pos += 1;
        }
        (self.pos - start, v)
    }

    /// An integer in `min..=max`, as its 64 bits (two's complement when negative); 0
    /// after an error.
    fn integer(&mut self, min: i64, max: u64) -> u64 {
        let what = if min < 0 { "not an integer" } else { "not an unsigned integer" };
        if self.failed {
            return 0;
        }
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            self.expected(what);
            return 0;
        }
        let (neg, v) = match self.number() {
            (neg, v, true) if !neg || min < 0 => (neg, v),
            _ => {
                self.fail(what);
                return 0;
            }
        };
        match v {
            Some(v) if !neg && v <= max => return v,
            Some(v) if neg && v <= min.unsigned_abs() => return v.wrapping_neg(),
            _ => {}
        }
        let mut e = self.render("out of range (", None);
        e.msg.push_i64(min).push(b" to ").push_u64(max).push(b")");
        self.set(e);
        0
    }

    /// An unsigned integer up to `max`.
    pub fn uint(&mut self, max: u64) -> u64 {
        self.integer(0, max)
    }

    pub fn u64(&mut self) -> u64 {
        self.integer(0, u64::MAX)
    }

    pub fn u32(&mut self) -> u32 {
        self.integer(0, u32::MAX as u64) as u32
    }

    /// A signed integer in `min..=max`.
    pub fn int(&mut self, min: i64, max: i64) -> i64 {
        self.integer(min, max as u64) as i64
    }

    pub fn bool(&mut self) -> bool {
        if self.literal(b"true") {
            return true;
        }
        if !self.literal(b"false") {
            self.expected("not a boolean");
        }
        false
    }
}

const NUL: &str = "holds a NUL (\\u0000):";

impl Members {
    /// The next member whose name is word `i` of the names: `Some(i)`, with its value the
    /// next to read (read it, or skip it). Members not named are skipped, and so are those
    /// whose value is `null` (absent, as Go's decoder reads them); with no names at all,
    /// every member comes as 0, its name in [`Json::key`]. `None` after the last, once the
    /// required members are known to be there (else the error names the first missing),
    /// and after any error.
    pub fn next(&mut self, j: &mut Json<'_>) -> Option<usize> {
        loop {
            if j.failed {
                break;
            }
            match self.state {
                0 if j.eat(b'}') => break,
                0 => self.state = 1,
                1 if !j.more(b'}') => break,
                1 => {}
                _ => return None,
            }
            if j.peek() != Some(b'"') {
                j.syntax("expected a member name");
                break;
            }
            let start = j.pos;
            let i = if j.keep {
                j.string(None)?;
                j.push(Seg::Raw(start as u32 + 1, j.pos as u32 - 1));
                Some(0)
            } else {
                let n = j.string(Some(start))?;
                j.rest[start + n] = 0;
                let head = j.split();
                let key = &head[start..=start + n];
                j.push(Seg::Key(key));
                if self.names.is_empty() {
                    Some(0)
                } else {
                    names::find(self.names, "", &key[..n])
                }
            };
            if !j.eat(b':') {
                j.syntax("expected ':'");
                break;
            }
            if j.literal(b"null") {
                continue;
            }
            match i {
                Some(i) => {
                    self.seen |= 1 << i;
                    return Some(i);
                }
                None => j.skip(),
            }
        }
        self.state = 2;
        let missing = self.required & !self.seen;
        if missing != 0 && !j.failed {
            let mut e = j.render("\"", None);
            e.msg.push(names::word(self.names, missing.trailing_zeros() as usize)).push(b"\" is required");
            j.set(e);
        }
        None
    }
}

impl Elements {
    /// The index of the next element, which is the next value to read; `None` after the
    /// last, and after any error.
    pub fn next(&mut self, j: &mut Json<'_>) -> Option<usize> {
        match self.n {
            u32::MAX => return None,
            0 if j.eat(b']') => {}
            0 => {
                return self.push(j);
            }
            _ if j.more(b']') => return self.push(j),
            _ => {}
        }
        self.n = u32::MAX;
        None
    }

    fn push(&mut self, j: &mut Json<'_>) -> Option<usize> {
        if j.failed {
            self.n = u32::MAX;
            return None;
        }
        j.push(Seg::Index(self.n));
        self.n += 1;
        j.peek();
        Some(self.n as usize - 1)
    }
}

impl Strings {
    /// The next string, unescaped (not kept until [`Strings::keep`]); `None` after the
    /// last, and after any error. One holding `\u0000` is an error.
    pub fn next<'j>(&mut self, j: &'j mut Json<'_>) -> Option<&'j [u8]> {
        self.e.next(j)?;
        if !j.at_string() {
            return None;
        }
        self.n = j.string(Some(self.w))?;
        if j.rest[self.w..self.w + self.n].contains(&0) {
            self.fail(j, NUL);
            return None;
        }
        Some(&j.rest[self.w..self.w + self.n])
    }

    /// Keeps the string `next` returned last.
    pub fn keep(&mut self, j: &mut Json<'_>) {
        j.rest[self.w + self.n] = self.sep;
        self.w += self.n + 1;
        self.count += 1;
    }

    /// Fails with `path: what 'the string next returned last'`.
    pub fn fail(&self, j: &mut Json<'_>, what: &str) {
        if !j.failed {
            let e = j.render(what, Some(&j.rest[self.w..self.w + self.n]));
            j.set(e);
        }
    }

    /// The kept strings (call after `next` gave `None`).
    pub fn finish<'a>(self, j: &mut Json<'a>) -> StrList<'a> {
        let head = j.split();
        if self.sep != 0 && self.w > self.start {
            head[self.w - 1] = 0;
        }
        StrList { bytes: head.get(self.start..self.w), count: self.count }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: Error) -> String {
        String::from_utf8_lossy(e.msg.as_bytes()).into_owned()
    }

    /// Reads a document whose root is an object, every member to `f` with its name.
    fn document<'a>(buf: &'a mut [u8], f: &mut dyn FnMut(&mut Json<'a>, &[u8])) -> Result<(), String> {
        read(buf, "t.json", |j| {
            let mut m = j.members("", 0);
            while m.next(j).is_some() {
                let k = j.key().map(|k| k.to_bytes()).unwrap_or(b"");
                f(j, k);
            }
        })
        .map_err(msg)
    }

    /// `key=value` for every string member (and `key=N` for integers) at the top level;
    /// other values are skipped.
    fn top(text: &str) -> Result<Vec<String>, String> {
        let mut buf = text.as_bytes().to_vec();
        let mut out = Vec::new();
        document(&mut buf, &mut |j, k| {
            let k = String::from_utf8_lossy(k).into_owned();
            match j.peek() {
                Some(b'"') => {
                    let v = j.cstr();
                    out.push(format!("{k}={}", String::from_utf8_lossy(v.to_bytes())));
                }
                Some(b'0'..=b'9') => out.push(format!("{k}={}", j.u64())),
                _ => j.skip(),
            }
        })
        .map(|()| out)
    }

    #[test]
    fn strings_unescape_in_place() {
        let got = top(r#"{"a":"x\"y\\z\/","b":"\u00e9\u20ac\ud83d\ude00","c":"\n\t\b\f\r","\u0064":"k"}"#).unwrap();
        assert_eq!(got, ["a=x\"y\\z/", "b=é€😀", "c=\n\t\u{8}\u{c}\r", "d=k"]);
        // Lone surrogates become U+FFFD, as Go's decoder makes them.
        let got = top(r#"{"a":"\ud800x","b":"\udc00","c":"\ud800\u0041","d":"\ud800\ud800"}"#).unwrap();
        assert_eq!(got, ["a=\u{fffd}x", "b=\u{fffd}", "c=\u{fffd}A", "d=\u{fffd}\u{fffd}"]);
        assert_eq!(
            top(r#"{"a":"", "b":"\u007f\u0080\u07ff\u0800\uffff"}"#).unwrap(),
            ["a=", "b=\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}"]
        );
        assert_eq!(top("{\"a\":\"\u{e9}\"}").unwrap(), ["a=\u{e9}"]);
    }

    #[test]
    fn skipped_values_are_checked_and_untouched() {
        let text = r#"{"x":{"k\"":[1,-2.5e+3,0.5E-1,true,false,null,{"z":"\u0041"}]},"a":"b"}"#;
        let mut buf = text.as_bytes().to_vec();
        let mut raw = Vec::new();
        document(&mut buf, &mut |j, k| {
            if k == b"x" {
                raw = j.raw_object().to_vec();
            } else {
                j.skip();
            }
        })
        .unwrap();
        assert_eq!(raw, br#"{"k\"":[1,-2.5e+3,0.5E-1,true,false,null,{"z":"\u0041"}]}"#);
    }

    #[test]
    fn numbers() {
        assert_eq!(top(r#"{"a":0,"b":18446744073709551615}"#).unwrap(), ["a=0", "b=18446744073709551615"]);
        let int = |text: &str, min: i64, max: i64| {
            let mut buf = text.as_bytes().to_vec();
            let mut got = 0;
            document(&mut buf, &mut |j, _| {
                got = j.int(min, max);
            })
            .map(|()| got)
        };
        assert_eq!(int(r#"{"a":-9223372036854775808}"#, i64::MIN, i64::MAX), Ok(i64::MIN));
        assert_eq!(int(r#"{"a":9223372036854775807}"#, i64::MIN, i64::MAX), Ok(i64::MAX));
        assert_eq!(int(r#"{"a":-0}"#, -1, 0), Ok(0));
        assert_eq!(int(r#"{"a":-1000}"#, -1000, 1000), Ok(-1000));
        assert_eq!(int(r#"{"a":-1001}"#, -1000, 1000).unwrap_err(), "t.json: a: out of range (-1000 to 1000)");
        assert_eq!(int(r#"{"a":1001}"#, -1000, 1000).unwrap_err(), "t.json: a: out of range (-1000 to 1000)");
        assert_eq!(
            int(r#"{"a":9223372036854775808}"#, i64::MIN, i64::MAX).unwrap_err(),
            "t.json: a: out of range (-9223372036854775808 to 9223372036854775807)"
        );
        assert_eq!(
            int(r#"{"a":-9223372036854775809}"#, i64::MIN, i64::MAX).unwrap_err(),
            "t.json: a: out of range (-9223372036854775808 to 9223372036854775807)"
        );
        assert_eq!(int(r#"{"a":1.0}"#, 0, 5).unwrap_err(), "t.json: a: not an unsigned integer");
        assert_eq!(int(r#"{"a":1e3}"#, -5, 5).unwrap_err(), "t.json: a: not an integer");
        assert_eq!(int(r#"{"a":"1"}"#, -5, 5).unwrap_err(), "t.json: a: not an integer");
        assert_eq!(int(r#"{"a":-1}"#, 0, 5).unwrap_err(), "t.json: a: not an unsigned integer");
        assert_eq!(
            top(r#"{"a":18446744073709551616}"#).unwrap_err(),
            "t.json: a: out of range (0 to 18446744073709551615)"
        );
        for bad in ["01", "1.", ".5", "-", "1e", "1e+", "--1", "+1", "0x10", "-01", "1.e5"] {
            let text = format!(r#"{{"a":[{bad}]}}"#);
            assert!(top(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = |t: &str| top(t).unwrap_err();
        assert_eq!(e(""), "t.json: unexpected end of the document at byte 0");
        assert_eq!(e("[]"), "t.json: not an object");
        assert_eq!(e(r#"{"a":1"#), "t.json: unexpected end of the document at byte 6");
        assert_eq!(e(r#"{"a":1 "b":2}"#), "t.json: expected ',' or '}' at byte 7");
        assert_eq!(e(r#"{"a" 1}"#), "t.json: a: expected ':' at byte 5");
        assert_eq!(e(r#"{"a":[1 2]}"#), "t.json: a: expected ',' or ']' at byte 8");
        assert_eq!(e(r#"{"a":"x"} x"#), "t.json: more data after the document at byte 10");
        assert_eq!(e("{\"a\":\"x\ny\"}"), "t.json: a: control character in a string at byte 7");
        assert_eq!(e(r#"{"a":"\x"}"#), "t.json: a: invalid escape in a string at byte 6");
        assert_eq!(e(r#"{"a":"\u12"}"#), "t.json: a: invalid \\u escape at byte 6");
        assert_eq!(e(r#"{"a":{"b":[{"c":tru}]}}"#), "t.json: a.b[0].c: expected a value at byte 16");
        assert_eq!(e(r#"{"a":"x\u0000"}"#), "t.json: a: holds a NUL (\\u0000): 'x\\x00'");
        assert_eq!(e(r#"{"a":"x"#), "t.json: a: unexpected end of the document at byte 7");
        assert_eq!(e(r#"{,}"#), "t.json: expected a member name at byte 1");
        assert_eq!(e("{\"a\":{\"b\n\":1}}"), "t.json: a: control character in a string at byte 8");
        assert_eq!(e(r#"{"a":{"b\"c":[1,}]}}"#), "t.json: a.b\\\"c[1]: expected a value at byte 16");
    }

    #[test]
    fn depth_is_bounded() {
        let ok = format!("{{\"a\":{}1{}}}", "[".repeat(63), "]".repeat(63));
        assert!(top(&ok).is_ok());
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(64), "]".repeat(64));
        assert!(top(&deep).unwrap_err().contains("nested deeper than 64 levels"));
        let deeper = format!("{{\"a\":{}", "[{\"x\":".repeat(100_000));
        assert!(top(&deeper).unwrap_err().contains("nested deeper than 64 levels"));
    }

    #[test]
    fn strings_pack_in_place() {
        let mut buf = br#"{"l":["a\"b", "", "\u00e9x", "drop", "c"], "s": ["x","rw", "y"], "e": []}"#.to_vec();
        let (mut l, mut s, mut e) = (StrList::default(), StrList::default(), StrList::default());
        document(&mut buf, &mut |j, k| {
            let mut st = j.strings(if k == b"s" { b',' } else { 0 });
            while let Some(v) = st.next(j) {
                if v != b"drop" && v != b"rw" {
                    st.keep(j);
                }
            }
            *match k {
                b"l" => &mut l,
                b"s" => &mut s,
                _ => &mut e,
            } = st.finish(j);
        })
        .unwrap();
        let items: Vec<&[u8]> = l.iter().map(|c| c.to_bytes()).collect();
        assert_eq!(items, [&b"a\"b"[..], b"", "éx".as_bytes(), b"c"]);
        assert_eq!(l.len(), 4);
        assert_eq!(s.joined(), c"x,y");
        assert!(e.is_empty() && e.joined().is_empty() && e.iter().count() == 0);
    }

    #[test]
    fn string_complaints_name_the_element() {
        let mut buf = br#"{"l":["/ok", "bad"]}"#.to_vec();
        let e = document(&mut buf, &mut |j, _| {
            j.str_list(true);
        })
        .unwrap_err();
        assert_eq!(e, "t.json: l[1]: not an absolute path: 'bad'");
        let mut buf = br#"{"l":["ok", 5]}"#.to_vec();
        let e = document(&mut buf, &mut |j, _| {
            j.str_list(false);
        })
        .unwrap_err();
        assert_eq!(e, "t.json: l[1]: not a string");
        let mut buf = br#"{"l":["ok", "a\u0000"]}"#.to_vec();
        let e = document(&mut buf, &mut |j, _| {
            j.str_list(false);
        })
        .unwrap_err();
        assert_eq!(e, "t.json: l[1]: holds a NUL (\\u0000): 'a\\x00'");
        let mut buf = br#"{"l":["CAP_KILL", "CAP_NOPE"]}"#.to_vec();
        let e = document(&mut buf, &mut |j, _| {
            j.name_mask(names::CAPS, "CAP_", "unknown capability");
        })
        .unwrap_err();
        assert_eq!(e, "t.json: l[1]: unknown capability 'CAP_NOPE'");
    }

    #[test]
    fn members_pick_names_skip_others_and_check_required() {
        let run = |text: &str| {
            let mut buf = text.as_bytes().to_vec();
            let mut got = Vec::new();
            read(&mut buf, "t.json", |j| {
                let mut m = j.members("a b c", 0b101);
                while let Some(i) = m.next(j) {
                    got.push((i, j.u64()));
                }
            })
            .map(|()| got)
            .map_err(msg)
        };
        assert_eq!(run(r#"{"c":3,"x":{"y":[1,"2"]},"a":1,"b":null}"#), Ok(vec![(2, 3), (0, 1)]));
        assert_eq!(run(r#"{"a":1,"b":2}"#).unwrap_err(), "t.json: \"c\" is required");
        assert_eq!(run(r#"{"c":1,"a":null}"#).unwrap_err(), "t.json: \"a\" is required");
        assert_eq!(run(r#"{"c":1,"a":"1"}"#).unwrap_err(), "t.json: a: not an unsigned integer");
    }

    #[test]
    fn keys_are_c_strings() {
        let mut buf = br#"{"a":null,"net.ipv4.ip_forward":"1","\u0000":"x"}"#.to_vec();
        let mut seen = Vec::new();
        document(&mut buf, &mut |j, _| {
            let k = j.key().map(|k| k.to_owned());
            seen.push((k, j.cstr().to_owned()));
        })
        .unwrap();
        assert_eq!(seen, [(Some(c"net.ipv4.ip_forward".to_owned()), c"1".to_owned()), (None, c"x".to_owned())]);
    }
}
