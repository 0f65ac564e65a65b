//! The `/proc/self/cgroup` parser: `parse_cgroup_line` on every line of the input as the
//! 1024-byte reader cgroup discovery uses gives them. Checked against a reference split
//! at the first two `:`, the path starting with `/`; `has_word` on the controller list
//! agrees with a plain split; `is_below`/`relative` keep whole components.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::mountinfo::{has_word, is_below, parse_cgroup_line, relative, Lines, SliceSource};

fn reference(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut it = line.splitn(3, |&b| b == b':');
    let (id, ctl, path) = (it.next()?, it.next()?, it.next()?);
    path.starts_with(b"/").then_some((id, ctl, path))
}

fn trim(p: &[u8]) -> &[u8] {
    let n = p.len() - p.iter().rev().take_while(|&&b| b == b'/').count();
    &p[..n]
}

fuzz_target!(|data: &[u8]| {
    let chunk = 1 + data.len() % 61;
    let mut buf = [0u8; 1024];
    let mut r = Lines::new(SliceSource { data, chunk }, &mut buf);
    while let Some(line) = r.next_line().unwrap() {
        let got = parse_cgroup_line(line);
        assert_eq!(got.map(|c| (c.id, c.controllers, c.path)), reference(line));
        let Some(c) = got else { continue };
        for w in [&b"memory"[..], b"cpu", b"name=systemd"] {
            assert_eq!(has_word(c.controllers, w), c.controllers.split(|&b| b == b',').any(|x| x == w));
        }
        // Compare the path with each of its own prefixes and with a fixed root.
        for root in [&b"/"[..], b"/process_api", b"/docker/", &c.path[..c.path.len() / 2]] {
            if !root.starts_with(b"/") {
                continue;
            }
            let below = is_below(c.path, root);
            let t = trim(root);
            let want = t.is_empty() || c.path == t || c.path.starts_with(&[t, b"/"].concat());
            assert_eq!(below, want, "{:?} below {:?}", c.path, root);
            if below {
                let rel = relative(c.path, root);
                assert!(rel.is_empty() || rel.starts_with(b"/"));
                assert!(!rel.ends_with(b"/"));
            }
        }
    }
});
