//! Word lists packed in one string, space-separated: a table of `&str` would cost 16
//! bytes of pointer and length per entry, more than most of its words.

/// The index of `word` in `list`.
#[inline(never)]
pub fn position(list: &str, word: &[u8]) -> Option<usize> {
    list.as_bytes().split(|&c| c == b' ').position(|w| w == word)
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
}
