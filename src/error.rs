//! `Error`: what failed, on which object, with which errno, plus a hint — rendered as the
//! one line tinyctr prints (`tinyctr: mount proc on "/proc": EPERM (Operation not
//! permitted)`), and the exit status it maps to (docker's convention: 125 for tinyctr
//! itself, 126 not executable, 127 not found).

use crate::buf::{Buf, Text};
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU16, Ordering};
use rustix::io::Errno;

/// tinyctr itself failed: bad option, setup error.
pub const EXIT_SETUP: u8 = 125;
/// The command was found but could not be executed.
pub const EXIT_CANNOT_EXEC: u8 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

pub struct Error {
    /// The message without the `tinyctr: ` prefix.
    pub msg: Msg,
    pub status: u8,
}

/// Capacity of a message.
const MSG: usize = 640;
/// Messages alive at once. In practice there are one or two: the error being returned,
/// and one made during the cleanup it set off (plus the config scanner's while it
/// reads); an error is a value with a scope, never collected, so more than a handful
/// would be a bug, and past this many tinyctr says so and exits 125.
const SLOTS: usize = 16;

/// The messages' home: errors travel by value up many frames (`?`), and with 640 bytes
/// inside, every one of those returns copied them and every frame that could hold one
/// was that much bigger. A `Msg` is a handle to a slot here instead.
struct Pool {
    slots: UnsafeCell<[Buf<MSG>; SLOTS]>,
    /// Bit `i`: slot `i` is owned by a live `Msg`. Atomic, though tinyctr itself has one
    /// thread: the library's tests make errors from several.
    used: AtomicU16,
}

// SAFETY: a slot is only ever reached through the one `Msg` whose bit claimed it
// (compare-exchange, Acquire) until that `Msg` drops (Release): no two threads, and no
// two handles, touch the same slot.
#[allow(unsafe_code)]
unsafe impl Sync for Pool {}

// All zeros (empty buffers, nothing used): .bss, no bytes in the file, and no page
// resident until an error is made.
static POOL: Pool = Pool { slots: UnsafeCell::new([const { Buf::new() }; SLOTS]), used: AtomicU16::new(0) };

/// An error's message text: a slot of the pool, owned by this handle alone and freed
/// when it drops.
pub struct Msg(u8);

impl Msg {
    #[inline(never)]
    fn new() -> Msg {
        let mut used = POOL.used.load(Ordering::Relaxed);
        loop {
            let free = (!used).trailing_zeros() as usize;
            if free >= SLOTS {
                let _ = rustix::io::write(crate::sys::std_fd(2), b"tinyctr: too many errors at once\n");
                crate::sys::exit(EXIT_SETUP as i32)
            }
            match POOL.used.compare_exchange_weak(used, used | 1 << free, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    let mut m = Msg(free as u8);
                    m.clear();
                    return m;
                }
                Err(now) => used = now,
            }
        }
    }

    fn slot(i: u8) -> *mut Buf<MSG> {
        // In bounds: `new` hands out slots below SLOTS only.
        POOL.slots.get().cast::<Buf<MSG>>().wrapping_add(i as usize)
    }
}

impl Deref for Msg {
    type Target = Buf<MSG>;
    fn deref(&self) -> &Buf<MSG> {
        // SAFETY: slot `i` belongs to this `Msg` alone (its bit stays set until the
        // drop), so no `&mut` to it exists while `&self` lives.
        #[allow(unsafe_code)]
        unsafe {
            &*Msg::slot(self.0)
        }
    }
}

impl DerefMut for Msg {
    fn deref_mut(&mut self) -> &mut Buf<MSG> {
        // SAFETY: as in deref; `&mut self` makes this the only reference.
        #[allow(unsafe_code)]
        unsafe {
            &mut *Msg::slot(self.0)
        }
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        POOL.used.fetch_and(!(1 << self.0), Ordering::Release);
    }
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// A usage or validation error: `text` is the whole message.
    #[cold]
    pub fn usage(text: &[u8]) -> Error {
        let mut msg = Msg::new();
        msg.push(text);
        Error { msg, status: EXIT_SETUP }
    }

    /// `op "obj": ENAME (text)`.
    pub fn sys(op: &str, obj: &[u8], errno: Errno) -> Error {
        let mut e = Error { msg: Msg::new(), status: EXIT_SETUP };
        e.msg.push_str(op);
        if !obj.is_empty() {
            e.msg.push(b" \"");
            push_shown(&mut e.msg, obj);
            e.msg.push(b"\"");
        }
        e.msg.push(b": ");
        push_errno(&mut e.msg, errno);
        e
    }

    /// `sys`, then `; hint` unless `hint` is empty: one call where a caller picks the hint.
    #[inline(never)]
    pub fn sys_hint(op: &str, obj: &[u8], errno: Errno, hint: &[u8]) -> Error {
        let mut e = Error::sys(op, obj, errno);
        if !hint.is_empty() {
            e.msg.push(b"; ").push(hint);
        }
        e
    }

    /// Appends `; hint`.
    pub fn hint(mut self, hint: &[u8]) -> Error {
        self.msg.push(b"; ").push(hint);
        self
    }

    #[inline(never)]
    pub fn with_status(mut self, status: u8) -> Error {
        self.status = status;
        self
    }

    /// The full line, `tinyctr: ...\n`.
    pub fn line(&self) -> Buf<700> {
        let mut b = Buf::new();
        b.push(b"tinyctr: ").push(self.msg.as_bytes());
        if self.msg.overflowed() {
            b.push(b"...");
        }
        b.push(b"\n");
        b
    }
}

/// Longest object or value quoted whole in a message; longer ones keep their two ends.
const SHOWN_MAX: usize = 240;

/// Appends `s` as a message shows a user-supplied object or value: control characters
/// escaped (a newline must not split the one-line error), and a long one cut in the
/// middle (`/aaaa...zzzz`), so that the errno and the hint after it always fit.
#[cold]
pub fn push_shown(b: &mut Text, s: &[u8]) {
    if s.len() > SHOWN_MAX {
        let half = SHOWN_MAX / 2;
        push_escaped(b, &s[..half]);
        b.push(b"...");
        push_escaped(b, &s[s.len() - half..]);
    } else {
        push_escaped(b, s);
    }
}

fn push_escaped(b: &mut Text, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &c in s {
        match c {
            b'\n' => b.push(b"\\n"),
            b'\t' => b.push(b"\\t"),
            0..=0x1f | 0x7f => b.push(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]),
            _ => b.push(&[c]),
        };
    }
}

/// Writes `ENAME (description)` for the errnos tinyctr can meet, `errno N` otherwise.
pub fn push_errno(b: &mut Text, errno: Errno) {
    let n = errno.raw_os_error();
    match errno_text(n) {
        Some((name, text)) => {
            b.push(name).push(b" (").push(text).push(b")");
        }
        None => {
            b.push(b"errno ").push_i64(n as i64);
        }
    }
}

/// `(errno, name, description)` for the errnos tinyctr can meet, packed as one byte string
/// (a table of `&str` pairs would cost 32 bytes of pointers per entry): each entry is the
/// errno's number as one byte, then `NAME\0description\0`.
const ERRNOS: &[u8] = &{
    use linux_raw_sys::errno::*;
    const PACKED: (usize, [u8; 1024]) = pack(&[
        (EPERM, "EPERM", "Operation not permitted"),
        (ENOENT, "ENOENT", "No such file or directory"),
        (ESRCH, "ESRCH", "No such process"),
        (EINTR, "EINTR", "Interrupted system call"),
        (EIO, "EIO", "Input/output error"),
        (E2BIG, "E2BIG", "Argument list too long"),
        (ENOEXEC, "ENOEXEC", "Exec format error"),
        (EBADF, "EBADF", "Bad file descriptor"),
        (ECHILD, "ECHILD", "No child processes"),
        (EAGAIN, "EAGAIN", "Resource temporarily unavailable"),
        (ENOMEM, "ENOMEM", "Cannot allocate memory"),
        (EACCES, "EACCES", "Permission denied"),
        (EFAULT, "EFAULT", "Bad address"),
        (EBUSY, "EBUSY", "Device or resource busy"),
        (EEXIST, "EEXIST", "File exists"),
        (EXDEV, "EXDEV", "Invalid cross-device link"),
        (ENODEV, "ENODEV", "No such device"),
        (ENOTDIR, "ENOTDIR", "Not a directory"),
        (EISDIR, "EISDIR", "Is a directory"),
        (EINVAL, "EINVAL", "Invalid argument"),
        (EMFILE, "EMFILE", "Too many open files"),
        (ETXTBSY, "ETXTBSY", "Text file busy"),
        (ENOSPC, "ENOSPC", "No space left on device"),
        (EROFS, "EROFS", "Read-only file system"),
        (ERANGE, "ERANGE", "Numerical result out of range"),
        (ENAMETOOLONG, "ENAMETOOLONG", "File name too long"),
        (ENOSYS, "ENOSYS", "Function not implemented"),
        (ENOTEMPTY, "ENOTEMPTY", "Directory not empty"),
        (ELOOP, "ELOOP", "Too many levels of symbolic links"),
        (EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported"),
        (EUSERS, "EUSERS", "Too many users"),
    ]);
    let mut out = [0u8; PACKED.0];
    let mut i = 0;
    while i < PACKED.0 {
        out[i] = PACKED.1[i];
        i += 1;
    }
    out
};

const fn pack(list: &[(u32, &str, &str)]) -> (usize, [u8; 1024]) {
    let mut out = [0u8; 1024];
    let mut len = 0;
    let mut i = 0;
    while i < list.len() {
        let (n, name, text) = list[i];
        out[len] = n as u8;
        len += 1;
        let mut k = 0;
        while k < 2 {
            let s = if k == 0 { name.as_bytes() } else { text.as_bytes() };
            let mut j = 0;
            while j < s.len() {
                out[len] = s[j];
                len += 1;
                j += 1;
            }
            out[len] = 0;
            len += 1;
            k += 1;
        }
        i += 1;
    }
    (len, out)
}

fn errno_text(n: i32) -> Option<(&'static [u8], &'static [u8])> {
    let mut rest = ERRNOS;
    while let Some((&num, tail)) = rest.split_first() {
        let (name, tail) = cut_nul(tail);
        let (text, tail) = cut_nul(tail);
        if num as i32 == n {
            return Some((name, text));
        }
        rest = tail;
    }
    None
}

/// Splits `s` at its first NUL: the bytes before it, and those after.
fn cut_nul(s: &[u8]) -> (&[u8], &[u8]) {
    match s.iter().position(|&c| c == 0) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_op_object_errno_hint() {
        let e = Error::sys("write 67108864 to", b"/sys/fs/cgroup/x/memory.max", Errno::BUSY)
            .hint(b"the cgroup already uses more");
        assert_eq!(
            e.line().as_bytes(),
            &b"tinyctr: write 67108864 to \"/sys/fs/cgroup/x/memory.max\": EBUSY (Device or resource busy); the cgroup already uses more\n"[..]
        );
        assert_eq!(e.status, EXIT_SETUP);
    }

    #[test]
    fn objects_are_escaped_and_long_ones_cut_in_the_middle() {
        let e = Error::sys("open", b"a\nb\x01", Errno::NOENT);
        assert_eq!(e.line().as_bytes(), b"tinyctr: open \"a\\nb\\x01\": ENOENT (No such file or directory)\n");
        let long = [b'x'; 5000];
        let e = Error::sys("change to working directory", &long, Errno::NAMETOOLONG).hint(b"shorter");
        let line = e.line();
        let text = String::from_utf8_lossy(line.as_bytes()).into_owned();
        assert!(text.ends_with("x\": ENAMETOOLONG (File name too long); shorter\n"), "{text}");
        assert!(text.contains("xxx...xxx") && text.len() < 400, "{text}");
        assert!(!e.msg.overflowed());
    }

    #[test]
    fn packed_errno_table_has_every_entry() {
        assert_eq!(errno_text(Errno::USERS.raw_os_error()), Some((&b"EUSERS"[..], &b"Too many users"[..])));
        assert_eq!(errno_text(Errno::PERM.raw_os_error()), Some((&b"EPERM"[..], &b"Operation not permitted"[..])));
        let n = (1..=255)
            .filter_map(errno_text)
            .inspect(|(name, text)| assert!(name[0] == b'E' && !text.is_empty()))
            .count();
        assert_eq!(n, 31);
    }

    /// Every slot can be alive at once, each message its own, and a dropped one's slot
    /// serves the next error.
    #[test]
    fn messages_live_in_slots_of_their_own() {
        for round in 0..3 {
            // Two test threads may hold a few each: leave them room.
            let held: std::vec::Vec<Error> =
                (0..SLOTS - 4).map(|i| Error::usage(format!("error {round}.{i}").as_bytes())).collect();
            for (i, e) in held.iter().enumerate() {
                assert_eq!(e.msg.as_bytes(), format!("error {round}.{i}").as_bytes());
            }
        }
        for _ in 0..1000 {
            let e = Error::sys("open", b"/x", Errno::NOENT).hint(b"h");
            assert!(e.msg.as_bytes().ends_with(b"; h"));
        }
    }

    #[test]
    fn unknown_errno_is_numbered() {
        let e = Error::sys("frob", b"", Errno::from_raw_os_error(200));
        assert_eq!(e.line().as_bytes(), b"tinyctr: frob: errno 200\n");
    }
}
