//! The OCI JSON scanner and config parser (`oci::config::parse`, `parse_process`,
//! `linux::parse_resources`, and a bare `skip` walk) on arbitrary bytes.
//!
//! Checked: nothing panics; an error is one line naming the document; a parsed config
//! keeps what the parser promises: string lists hold exactly `len()` C strings, every
//! string lies inside the input buffer, paths said to be absolute are, each seccomp rule's
//! conditions are its own and their indexes at most 5, uids are never `(uid_t)-1`, soft
//! rlimits never exceed hard ones, namespace paths exist only for listed types, and mount
//! destinations, root and hook paths are never empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::oci::json::StrList;
use tinyctr::oci::{config, json, linux};

fn error_ok(e: &tinyctr::error::Error, doc: &str) {
    let line = e.line();
    let b = line.as_bytes();
    assert!(b.starts_with(format!("tinyctr: {doc}: ").as_bytes()));
    assert!(b.ends_with(b"\n") && b.iter().filter(|&&c| c == b'\n').count() == 1);
}

/// The input buffer's address range.
type Range = (usize, usize);

fn inside(buf: Range, s: &[u8]) {
    let (a, b) = (buf.0, buf.0 + buf.1);
    let p = s.as_ptr() as usize;
    assert!(s.is_empty() || (p >= a && p + s.len() <= b), "a string outside the buffer");
}

fn list(buf: Range, l: StrList<'_>, absolute: bool) {
    assert_eq!(l.iter().count(), l.len());
    for s in l.iter() {
        inside(buf, s.to_bytes());
        assert!(!absolute || s.to_bytes().first() == Some(&b'/'));
    }
}

fn process(buf: Range, p: &config::Process<'_>) {
    assert!(!p.args.is_empty() && p.cwd.to_bytes().first() == Some(&b'/'));
    list(buf, p.args, false);
    list(buf, p.env, false);
    assert!(p.user.uid != u32::MAX && p.user.gid != u32::MAX);
    assert!(p.user.additional_gids.iter().all(|&g| g != u32::MAX));
    let mut seen = 0u32;
    for r in p.rlimits.iter() {
        assert!(r.soft <= r.hard && r.resource < 16 && seen & 1 << r.resource == 0);
        seen |= 1 << r.resource;
    }
    assert!(p.oom_score_adj.is_none_or(|a| (-1000..=1000).contains(&a)));
}

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    let whole = (buf.as_ptr() as usize, buf.len());
    match config::parse(&mut buf, "config.json") {
        Ok(c) => {
            if let Some(p) = &c.process {
                process(whole, p);
            }
            for m in c.mounts.iter() {
                assert!(!m.destination.is_empty());
                inside(whole, m.data.to_bytes());
            }
            assert!(c.root.is_none_or(|r| !r.path.is_empty()));
            use config::HookKind::*;
            for kind in [Prestart, CreateRuntime, CreateContainer, StartContainer, Poststart, Poststop] {
                for h in c.hooks.get(kind) {
                    assert!(h.path.to_bytes().first() == Some(&b'/') && h.timeout != Some(0));
                    list(whole, h.args, false);
                    list(whole, h.env, false);
                }
            }
            let l = &c.linux;
            list(whole, l.masked_paths, true);
            list(whole, l.readonly_paths, true);
            for (i, p) in l.namespaces.paths.iter().enumerate() {
                assert!(p.is_empty() || l.namespaces.listed & 1 << i != 0);
            }
            assert!(l.uid_mappings.iter().chain(l.gid_mappings.iter()).all(|m| m.size > 0));
            let mut total = 0;
            for r in l.seccomp.rules.iter() {
                let conds = l.seccomp.conds(r);
                assert!(conds.iter().all(|c| c.arg <= 5));
                total += conds.len();
                list(whole, r.names, false);
            }
            assert_eq!(total, l.seccomp.all_conds.len());
            assert!(c.annotations.is_empty() || (c.annotations[0] == b'{' && c.annotations.ends_with(b"}")));
        }
        Err(e) => error_ok(&e, "config.json"),
    }
    let mut buf = data.to_vec();
    match config::parse_process(&mut buf, "process.json") {
        Ok(p) => process((0, usize::MAX), &p),
        Err(e) => error_ok(&e, "process.json"),
    }
    let mut buf = data.to_vec();
    if let Err(e) = linux::parse_resources(&mut buf, "resources") {
        error_ok(&e, "resources");
    }
    let mut buf = data.to_vec();
    if let Err(e) = json::read(&mut buf, "any.json", |j| j.skip()) {
        error_ok(&e, "any.json");
    }
});
