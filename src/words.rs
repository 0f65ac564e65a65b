//! Word lists packed in one string, space-separated (or `|`-ended, for texts): a table of
//! `&str` would cost 16 bytes of pointer and length per entry, more than most of its words.

use core::ffi::CStr;

/// The index of `word` in `list`.
#[inline(never)]
pub fn position(list: &str, word: &[u8]) -> Option<usize> {
    list.as_bytes().split(|&c| c == b' ').position(|w| w == word)
}

/// Whether `s` holds the byte `c`: a plain loop for the few short strings tinyctr searches,
/// where `<[u8]>::contains` would link core's memchr (about 200 B).
#[inline(always)]
pub fn has(s: &[u8], c: u8) -> bool {
    for &x in s {
        if x == c {
            return true;
        }
    }
    false
}

/// Entry `i` of `list`, whose entries (texts with spaces) end each with a `|`.
#[inline(never)]
pub fn nth(list: &'static str, i: usize) -> Option<&'static str> {
    let mut rest = list;
    for _ in 0..i {
        rest = rest.get(rest.bytes().position(|c| c == b'|')? + 1..)?;
    }
    rest.get(..rest.bytes().position(|c| c == b'|')?)
}

/// The NUL-ended C strings packed in `list`, in order: for the child's path tables, where
/// a `&CStr` each would cost 16 bytes (allocation-free, and every item keeps its NUL).
pub fn cstrs<'a>(list: &'a [u8]) -> impl Iterator<Item = &'a CStr> + 'a {
    let mut rest = list;
    core::iter::from_fn(move || next_cstr(&mut rest))
}

/// The C string at the start of `rest`, which moves past it.
#[inline(never)]
fn next_cstr<'a>(rest: &mut &'a [u8]) -> Option<&'a CStr> {
    let s = CStr::from_bytes_until_nul(rest).ok()?;
    *rest = rest.get(s.to_bytes().len() + 1..).unwrap_or(&[]);
    Some(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_whole_words_only() {
        assert_eq!(super::position("ro rw readonly", b"rw"), Some(1));
        assert_eq!(super::position("ro rw readonly", b"readonly"), Some(2));
        assert_eq!(super::position("ro rw readonly", b"read"), None);
        assert_eq!(super::position("ro rw readonly", b""), None);
    }

    #[test]
    fn cstrs_in_order() {
        let all: Vec<_> = super::cstrs(b"/a\0/bc\0").collect();
        assert_eq!(all, [c"/a", c"/bc"]);
        assert_eq!(super::cstrs(b"").count(), 0);
    }

    #[test]
    fn nth_entry_or_none() {
        assert_eq!(super::nth("a b|c|", 0), Some("a b"));
        assert_eq!(super::nth("a b|c|", 1), Some("c"));
        assert_eq!(super::nth("a b|c|", 2), None);
        assert_eq!(super::nth("", 0), None);
    }
}
