//! `List<T, N>`: a fixed-capacity list (an array and a length) whose unused slots are
//! never initialized. The OCI config holds a dozen of them, up to 512 entries each; with
//! `[T::default(); N]` every one would be filled element by element at each parse (and
//! the code to do it linked), for entries that are mostly never used.

use core::mem::MaybeUninit;

#[derive(Clone, Copy)]
pub struct List<T: Copy, const N: usize> {
    items: [MaybeUninit<T>; N],
    /// `items[..len]` are initialized: `push` is the only writer, and it counts what it
    /// wrote.
    len: usize,
}

impl<T: Copy, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        List { items: [MaybeUninit::uninit(); N], len: 0 }
    }
}

impl<T: Copy, const N: usize> List<T, N> {
    /// Appends `t`; false when full.
    pub fn push(&mut self, t: T) -> bool {
        let Some(slot) = self.items.get_mut(self.len) else { return false };
        slot.write(t);
        self.len += 1;
        true
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Keeps the first `len` entries (all, if there are fewer).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl<T: Copy, const N: usize> core::ops::Deref for List<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: `items[..len]` are initialized (see `len`), `len <= N`, and
        // MaybeUninit<T> has the layout of T.
        unsafe { core::slice::from_raw_parts(self.items.as_ptr().cast::<T>(), self.len) }
    }
}

impl<T: Copy, const N: usize> core::ops::DerefMut for List<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in deref; `&mut self` makes this the only reference.
        unsafe { core::slice::from_raw_parts_mut(self.items.as_mut_ptr().cast::<T>(), self.len) }
    }
}

impl<T: Copy + core::fmt::Debug, const N: usize> core::fmt::Debug for List<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_until_full() {
        let mut l = List::<u32, 3>::default();
        assert!(l.is_empty());
        assert!(l.push(1) && l.push(2) && l.push(3));
        assert!(!l.push(4));
        assert_eq!(&l[..], [1, 2, 3]);
        l[1] = 20;
        assert_eq!(l.last_mut().map(|x| core::mem::replace(x, 30)), Some(3));
        assert_eq!(&l[..], [1, 20, 30]);
        l.truncate(1);
        assert_eq!(&l[..], [1]);
        let copy = l;
        l.clear();
        assert!(l.is_empty() && copy.len() == 1);
    }
}
