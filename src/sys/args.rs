//! Views of C string arrays: the argv and envp the kernel gave us, and the pointer
//! arrays the trampoline hands to execve. No copies: strings are used where they lie.

use core::ffi::{c_char, CStr};
use core::marker::PhantomData;

use crate::confine::seccomp::SockFilter;

/// A borrowed, NULL-terminated array of C strings (argv or envp), indexable in place.
#[derive(Clone, Copy)]
pub struct CArgs<'a> {
    ptrs: &'a [*const c_char],
}

impl<'a> CArgs<'a> {
    /// # Safety
    /// `ptr` must point to `len` valid pointers to NUL-terminated strings that live for `'a`,
    /// followed by a NULL pointer (as `main`'s argv is: argv[argc] is NULL).
    pub unsafe fn from_raw(ptr: *const *const c_char, len: usize) -> CArgs<'a> {
        if ptr.is_null() || len == 0 {
            return CArgs { ptrs: &[] };
        }
        // SAFETY: guaranteed by the caller.
        CArgs { ptrs: unsafe { core::slice::from_raw_parts(ptr, len) } }
    }

    /// # Safety
    /// `ptr` must be NULL or point to a NULL-terminated array of valid C strings that live
    /// for `'a` (the `envp` that `main` receives).
    pub unsafe fn from_null_terminated(ptr: *const *const c_char) -> CArgs<'a> {
        if ptr.is_null() {
            return CArgs { ptrs: &[] };
        }
        let mut n = 0;
        // SAFETY: the array is NULL-terminated, so every index up to the NULL is in bounds.
        while !unsafe { *ptr.add(n) }.is_null() {
            n += 1;
        }
        // SAFETY: as for `from_raw`, with the length just counted.
        unsafe { Self::from_raw(ptr, n) }
    }

    /// The array as execve wants it, NULL-terminated: every constructor but `from_test`
    /// guarantees the NULL after the last pointer (a `tail` ends where its array does).
    pub fn as_null_terminated(&self) -> *const *const c_char {
        static NONE: [usize; 1] = [0];
        match self.ptrs.is_empty() {
            true => NONE.as_ptr().cast(),
            false => self.ptrs.as_ptr(),
        }
    }

    pub const fn empty() -> CArgs<'static> {
        CArgs { ptrs: &[] }
    }

    pub fn len(&self) -> usize {
        self.ptrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ptrs.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&'a CStr> {
        // SAFETY: construction guarantees every pointer is a valid C string living for 'a.
        self.ptrs.get(i).map(|&p| unsafe { CStr::from_ptr(p) })
    }

    /// The arguments from `start` on.
    pub fn tail(&self, start: usize) -> CArgs<'a> {
        CArgs { ptrs: self.ptrs.get(start..).unwrap_or(&[]) }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a CStr> + 'a {
        let ptrs = self.ptrs;
        // SAFETY: as in `get`.
        ptrs.iter().map(|&p| unsafe { CStr::from_ptr(p) })
    }

    /// A finished [`PtrArray`] as arguments: its pointers are C strings that live for
    /// `'a`, followed by the NULL it always keeps.
    pub fn from_array(a: &'a PtrArray<'a>) -> CArgs<'a> {
        CArgs { ptrs: &a.slots[..a.len] }
    }

    /// Test support: a view of pointers built by the caller from live `CString`s.
    #[cfg(test)]
    pub fn from_test(ptrs: &'a [*const c_char]) -> CArgs<'a> {
        CArgs { ptrs }
    }
}

/// A NULL-terminated pointer array under construction, for execve's argv or envp. It
/// lives in memory the parent mapped before clone; it borrows the strings it points to.
pub struct PtrArray<'a> {
    slots: &'a mut [*const c_char],
    len: usize,
    _strings: PhantomData<&'a CStr>,
}

impl<'a> PtrArray<'a> {
    /// An empty array over `slots`; it can hold `slots.len() - 1` strings.
    pub fn new(slots: &'a mut [*const c_char]) -> PtrArray<'a> {
        if let Some(first) = slots.first_mut() {
            *first = core::ptr::null();
        }
        PtrArray { slots, len: 0, _strings: PhantomData }
    }

    /// Appends `s`; false (and nothing written) when full.
    pub fn push(&mut self, s: &'a CStr) -> bool {
        if self.len + 1 >= self.slots.len() {
            return false;
        }
        self.slots[self.len] = s.as_ptr();
        self.len += 1;
        self.slots[self.len] = core::ptr::null();
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The array for execve: always NULL-terminated (see `new` and `push`).
    pub fn as_ptr(&self) -> *const *const c_char {
        self.slots.as_ptr()
    }
}

/// Splits a mapping into `n` pointer slots followed by the remaining bytes.
pub fn split_slots(bytes: &mut [u8], n: usize) -> Option<(&mut [*const c_char], &mut [u8])> {
    let size = n.checked_mul(core::mem::size_of::<*const c_char>())?;
    if size > bytes.len() || !(bytes.as_ptr() as usize).is_multiple_of(core::mem::align_of::<*const c_char>()) {
        return None;
    }
    let (head, rest) = bytes.split_at_mut(size);
    // SAFETY: `head` is exclusively borrowed, suitably aligned (checked above) and exactly
    // `n` pointers long; any bit pattern is a valid raw pointer.
    let slots = unsafe { core::slice::from_raw_parts_mut(head.as_mut_ptr().cast::<*const c_char>(), n) };
    Some((slots, rest))
}

/// execve with arrays built by `PtrArray`; returns only on failure.
pub fn execve(path: &CStr, argv: &PtrArray<'_>, envp: &PtrArray<'_>) -> rustix::io::Errno {
    // SAFETY: PtrArray guarantees NULL termination and that every string it points to is
    // borrowed for its lifetime, which covers this call.
    unsafe { super::execve(path, argv.as_ptr(), envp.as_ptr()) }
}

impl<'a> PtrArray<'a> {
    /// The strings pushed so far.
    pub fn iter(&self) -> impl Iterator<Item = &'a CStr> + '_ {
        // SAFETY: every slot below `len` was set by `push` from a `&'a CStr`.
        self.slots[..self.len].iter().map(|&p| unsafe { CStr::from_ptr(p) })
    }
}

impl PtrArray<'_> {
    /// Removes every entry whose key (as `key_of` extracts it) appears again later, so
    /// the last one wins, keeping the order of the rest. Linear: `table` is scratch space
    /// for an open-addressing hash set, a power of two at least twice `len()` long.
    pub fn dedup_keep_last(&mut self, table: &mut [u32], key_of: fn(&[u8]) -> &[u8]) {
        let n = self.len;
        if n < 2 || !table.len().is_power_of_two() || table.len() < 2 * n {
            return;
        }
        table.fill(0);
        let mask = table.len() - 1;
        let key = |p: *const c_char| {
            // SAFETY: only called on slots below `len`, which `push` set from `&CStr`s
            // that outlive the array.
            key_of(unsafe { CStr::from_ptr(p) }.to_bytes())
        };
        // Walk from the end: the first time a key is seen is its last occurrence.
        let mut i = n;
        while i > 0 {
            i -= 1;
            let k = key(self.slots[i]);
            let mut h = (fnv1a(k) as usize) & mask;
            let mut dup = false;
            while table[h] != 0 {
                if key(self.slots[table[h] as usize - 1]) == k {
                    dup = true;
                    break;
                }
                h = (h + 1) & mask;
            }
            if dup {
                // Marked for removal; the slot is compacted away below.
                self.slots[i] = core::ptr::null();
            } else {
                table[h] = i as u32 + 1;
            }
        }
        let mut w = 0;
        for r in 0..n {
            if !self.slots[r].is_null() {
                self.slots[w] = self.slots[r];
                w += 1;
            }
        }
        self.len = w;
        self.slots[w] = core::ptr::null();
    }
}

fn fnv1a(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &c in b {
        h = (h ^ c as u32).wrapping_mul(0x0100_0193);
    }
    h
}

/// Splits off `n` zeroed `u32`s from the front of `bytes` (scratch space for a table).
pub fn split_u32s(bytes: &mut [u8], n: usize) -> Option<(&mut [u32], &mut [u8])> {
    let size = n.checked_mul(4)?;
    if size > bytes.len() || !(bytes.as_ptr() as usize).is_multiple_of(core::mem::align_of::<u32>()) {
        return None;
    }
    let (head, rest) = bytes.split_at_mut(size);
    head.fill(0);
    // SAFETY: `head` is exclusively borrowed, 4-aligned (checked above) and `n` u32s long;
    // every bit pattern is a valid u32.
    let words = unsafe { core::slice::from_raw_parts_mut(head.as_mut_ptr().cast::<u32>(), n) };
    Some((words, rest))
}

/// Splits off room for `n` seccomp instructions from the front of `bytes`, left as they
/// are (a fresh mapping is zeroed by the kernel, and pages never written cost nothing:
/// the compiler writes only what the program needs).
pub fn split_filters(bytes: &mut [u8], n: usize) -> Option<(&mut [SockFilter], &mut [u8])> {
    let size = n.checked_mul(core::mem::size_of::<SockFilter>())?;
    if size > bytes.len() || !(bytes.as_ptr() as usize).is_multiple_of(core::mem::align_of::<SockFilter>()) {
        return None;
    }
    let (head, rest) = bytes.split_at_mut(size);
    // SAFETY: `head` is exclusively borrowed, aligned for SockFilter (checked above) and
    // `n` instructions long; SockFilter is repr(C) integers, so every bit pattern is valid.
    let filters = unsafe { core::slice::from_raw_parts_mut(head.as_mut_ptr().cast::<SockFilter>(), n) };
    Some((filters, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: &[u8]) -> &[u8] {
        b.split(|&c| c == b'=').next().unwrap_or(b)
    }

    #[test]
    fn dedup_keeps_the_last_value_and_the_order() {
        let strings = [c"PATH=/bin", c"A=1", c"B=2", c"A=3", c"PATH=/x", c"C=4"];
        let mut slots = [core::ptr::null(); 7];
        let mut arr = PtrArray::new(&mut slots);
        for s in strings {
            assert!(arr.push(s));
        }
        let mut table = [0u32; 16];
        arr.dedup_keep_last(&mut table, key);
        let got: Vec<&CStr> = arr.iter().collect();
        assert_eq!(got, [c"B=2", c"A=3", c"PATH=/x", c"C=4"]);
        // SAFETY: the array has 7 slots; index 4 is within it.
        assert!(unsafe { *arr.as_ptr().add(4) }.is_null());
    }

    #[test]
    fn push_refuses_when_full() {
        let mut slots = [core::ptr::null(); 2];
        let mut arr = PtrArray::new(&mut slots);
        assert!(arr.push(c"a"));
        assert!(!arr.push(c"b"));
        assert_eq!(arr.len(), 1);
    }
}
