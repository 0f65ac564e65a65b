//! `Buf<N>`: a fixed-capacity byte string on the stack, used wherever tinyctr builds text
//! (paths, messages, numbers) without an allocator.
//!
//! Pushing past the capacity never writes out of bounds: the buffer remembers that it
//! overflowed, and callers that build something the kernel will read (a path, a value)
//! check [`Buf::overflowed`] and refuse, so nothing is ever truncated silently.
//!
//! The code is written once, for [`Text`] (the buffer behind a slice), and every `Buf<N>`
//! dereferences to it: a method per capacity would be one more copy of it per size.
//!
//! The bytes past the content are never initialised: a new buffer costs no writes, so
//! a 4 KiB path buffer on the stack touches (and makes resident) only the page its
//! first bytes land on, and no code zeroes it. Only the first `len` bytes are ever read.

use core::ffi::CStr;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};

/// The buffer whatever its capacity: `T` is `[MaybeUninit<u8>; N]` in a [`Buf`], the
/// slice behind it. Invariant: `data[..len]` is initialised.
pub struct Bytes<T: ?Sized> {
    len: usize,
    overflow: bool,
    data: T,
}

/// A buffer of `N` bytes (one of them kept for the NUL of [`Text::as_cstr`]).
pub type Buf<const N: usize> = Bytes<[MaybeUninit<u8>; N]>;

/// Any `Buf<N>`, its capacity erased.
pub type Text = Bytes<[MaybeUninit<u8>]>;

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Buf<N> {
    pub const fn new() -> Self {
        Bytes { data: [MaybeUninit::uninit(); N], len: 0, overflow: false }
    }

    /// A buffer holding `s`.
    pub fn from(s: &[u8]) -> Self {
        let mut b = Self::new();
        b.push(s);
        b
    }
}

impl<const N: usize> Deref for Buf<N> {
    type Target = Text;
    fn deref(&self) -> &Text {
        self
    }
}

impl<const N: usize> DerefMut for Buf<N> {
    fn deref_mut(&mut self) -> &mut Text {
        self
    }
}

impl Text {
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        // Keep one byte for the NUL that `as_cstr` appends.
        let room = self.data.len().saturating_sub(1) - self.len;
        let n = s.len().min(room);
        #[allow(unsafe_code)]
        // SAFETY: `len + n <= data.len() - 1`, so the destination is inside `data`, and
        // `s` (borrowed) cannot overlap a buffer borrowed mutably here. It initialises
        // `data[len..len + n]`, which keeps the invariant.
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), self.data.as_mut_ptr().add(self.len).cast::<u8>(), n)
        };
        self.len += n;
        if n < s.len() {
            self.overflow = true;
        }
        self
    }

    pub fn push_str(&mut self, s: &str) -> &mut Self {
        self.push(s.as_bytes())
    }

    pub fn push_u64(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0u8; 20];
        let s = fmt_u64(v, &mut tmp);
        self.push(s)
    }

    pub fn push_i64(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.push(b"-");
        }
        self.push_u64(v.unsigned_abs())
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `data[..len]` is initialised (the invariant) and `len <= data.len()`.
        #[allow(unsafe_code)]
        unsafe {
            core::slice::from_raw_parts(self.data.as_ptr().cast::<u8>(), self.len)
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }

    /// Cut back to `len` bytes (used to reuse a directory prefix for several file names).
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
        }
    }

    /// True if a push did not fit: the content is incomplete and must not be used.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// The content as a C string. Interior NULs cut it short, so callers that take user
    /// input check for them first (argv strings cannot contain any).
    pub fn as_cstr(&mut self) -> &CStr {
        self.data[self.len] = MaybeUninit::new(0);
        // SAFETY: `data[..len]` is initialised and `data[len]` was just written.
        #[allow(unsafe_code)]
        let bytes = unsafe { core::slice::from_raw_parts(self.data.as_ptr().cast::<u8>(), self.len + 1) };
        match CStr::from_bytes_until_nul(bytes) {
            Ok(c) => c,
            Err(_) => c"",
        }
    }
}

/// Formats `v` in decimal into `tmp`, returning the digits.
pub fn fmt_u64(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &tmp[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_and_formats() {
        let mut b = Buf::<32>::new();
        b.push(b"pid ").push_u64(0).push(b" ").push_u64(u64::MAX).push(b" ").push_i64(-5);
        assert_eq!(b.as_bytes(), b"pid 0 18446744073709551615 -5");
        assert!(!b.overflowed());
        assert_eq!(b.as_cstr().to_bytes(), b"pid 0 18446744073709551615 -5");
    }

    #[test]
    fn overflow_is_remembered_not_written() {
        let mut b = Buf::<4>::new();
        b.push(b"abcdef");
        assert_eq!(b.as_bytes(), b"abc");
        assert!(b.overflowed());
        b.clear();
        assert!(!b.overflowed());
    }
}
