//! Cgroup discovery as a whole: `Layout::parse` on a `/proc/self/cgroup` text and a
//! `/proc/self/mountinfo` text (the input is `cgroup \0 mountinfo`), read in small chunks.
//! Checked: at most MAX_HIERS hierarchies, one unified at most, no path buffer ever left
//! overflowed (an unusable path is dropped, not truncated), our cgroup never has a `..`
//! component, our directory is inside its hierarchy's mount, and every query answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::cgroup::layout::{Layout, Version, CTLS, MAX_HIERS};
use tinyctr::mountinfo::SliceSource;

fuzz_target!(|data: &[u8]| {
    let (cg, mi) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let chunk = 1 + data.len() % 23;
    let prefix: &[u8] = if data.len().is_multiple_of(2) { b"" } else { b"/tmp/fake" };
    let l = Layout::parse(SliceSource { data: cg, chunk }, SliceSource { data: mi, chunk: chunk + 7 }, prefix)
        .expect("slices never fail to read");
    assert!(l.n <= MAX_HIERS);
    assert_eq!(l.hiers[..l.n].iter().filter(|h| h.version == Version::V2).count(), l.unified.is_some() as usize);
    if let Some(u) = l.unified {
        assert!(u < l.n && l.hiers[u].version == Version::V2);
    }
    for h in &l.hiers[..l.n] {
        assert!(!h.cgroup_path.overflowed() && !h.own.overflowed());
        assert!(h.cgroup_path.as_bytes().starts_with(b"/"));
        assert!(!h.cgroup_path.as_bytes().split(|&b| b == b'/').any(|c| c == b".."));
        if h.version == Version::V1 {
            assert!(h.ctls != 0);
        }
        if h.mounted() {
            assert!(h.mount().starts_with(prefix));
            assert!(h.own.as_bytes().starts_with(h.mount()));
        } else {
            assert!(h.own.is_empty());
        }
    }
    for c in CTLS {
        let _ = l.find(c);
    }
    let _ = (l.kind(), l.unified_mounted());
});
