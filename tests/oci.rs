//! The OCI foundation: `spec`'s writer and the features document, and a 1 MB
//! config.json read and parsed without a single heap allocation (a counting allocator watches the parse), in a fixed amount of memory: the
//! file's own mapping and the `Config` on the stack.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use tinyctr::oci::{config, emit, file, json, spec};

/// Counts the allocations made on a thread while it has `COUNTING` set.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call goes straight to the system allocator; the counter only watches.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A scratch directory, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("tinyctr-oci-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `spec`'s writer (the command itself is wired with the lifecycle, once it fits the
/// size budget): a config it reads back, never written over an existing file.
#[test]
fn spec_writes_a_config_it_reads_back_and_never_overwrites() {
    let dir = Scratch::new("spec");
    let bundle = dir.0.join("b");
    std::fs::create_dir(&bundle).unwrap();
    let b = bundle.to_str().unwrap();
    let cb = std::ffi::CString::new(b).unwrap();

    assert!(spec::write(Some(&cb)).is_ok());
    let mut text = std::fs::read(bundle.join("config.json")).unwrap();
    let first = text.clone();
    let c = config::parse(&mut text, "config.json")
        .unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e.msg.as_bytes())));
    assert_eq!(c.process.unwrap().args.iter().map(|a| a.to_bytes()).collect::<Vec<_>>(), [b"sh"]);
    assert_eq!(c.root.unwrap().path, c"rootfs");

    // An existing file is never replaced: runc's words, status 125, the file untouched.
    let Err(e) = spec::write(Some(&cb)) else { panic!("written over") };
    assert_eq!(e.status, 125);
    assert_eq!(e.line().as_bytes(), format!("tinyctr: File {b}/config.json exists. Remove it first\n").as_bytes());
    assert_eq!(std::fs::read(bundle.join("config.json")).unwrap(), first);

    let Err(e) = spec::write(Some(c"/nonexistent/tinyctr-oci")) else { panic!("no directory") };
    assert_eq!(
        e.line().as_bytes(),
        b"tinyctr: create \"/nonexistent/tinyctr-oci/config.json\": ENOENT (No such file or directory)\n"
    );
}

/// The features document is one JSON document.
#[test]
fn features_is_one_json_document() {
    let mut buf = [0u8; 4096];
    let mut o = emit::Out::new(&mut buf);
    emit::features(&mut o);
    let mut b = o.done().expect("fits").to_vec();
    assert!(b.ends_with(b"}\n") && String::from_utf8_lossy(&b).contains("\"ociVersionMax\":\"1.1.0\""));
    json::read(&mut b, "features", |j| j.skip())
        .unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e.msg.as_bytes())));
}

/// A config.json of 1 MB (20,000 environment variables with escapes, 600 KB of
/// annotations, 100 mounts): read into a mapping sized to it and parsed with no heap
/// allocation at all; the strings land in place and the annotations come back verbatim.
#[test]
fn a_1mb_config_parses_without_allocating() {
    let dir = Scratch::new("big");
    let env: Vec<String> = (0..20_000).map(|i| format!("\"VAR_{i}=value \\\"{i}\\\" \\u00e9\\t\"")).collect();
    let notes: Vec<String> = (0..6_000).map(|i| format!("\"io.example/note-{i}\": \"{}\"", "x".repeat(80))).collect();
    let mounts: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"destination":"/v{i}","type":"bind","source":"/src/{i}","options":["rbind","ro"]}}"#))
        .collect();
    let text = format!(
        r#"{{"ociVersion":"1.0.2","process":{{"args":["sh"],"cwd":"/","env":[{}]}},"mounts":[{}],"annotations":{{{}}}}}"#,
        env.join(","),
        mounts.join(","),
        notes.join(",")
    );
    assert!(text.len() > 1_000_000, "{}", text.len());
    let path = dir.0.join("config.json");
    std::fs::write(&path, &text).unwrap();
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();

    COUNTING.with(|c| c.set(true));
    // The control: the counter does see an allocation on this thread.
    let start = ALLOCS.load(Ordering::Relaxed);
    drop(std::hint::black_box(vec![0u8; 16]));
    assert_eq!(ALLOCS.load(Ordering::Relaxed), start + 1);
    let before = ALLOCS.load(Ordering::Relaxed);
    let mut doc = file::read_at(rustix::fs::CWD, &cpath).unwrap_or_else(|_| panic!("read"));
    let parsed = config::parse(doc.bytes(), "config.json").map(|c| {
        let p = c.process.unwrap();
        let third = p.env.iter().nth(3).map(|s| s.to_bytes().len());
        (p.env.len(), third, c.mounts.len(), c.mounts[99].destination.to_bytes().len(), c.annotations.len())
    });
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    COUNTING.with(|c| c.set(false));

    let (envs, third, mounts, dest_len, notes_len) =
        parsed.unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e.msg.as_bytes())));
    assert_eq!(allocs, 0, "the parse allocated");
    assert_eq!((envs, mounts, dest_len), (20_000, 100, 4));
    assert_eq!(third, Some("VAR_3=value \"3\" é\t".len()));
    assert_eq!(notes_len, notes.join(",").len() + 2);
    // The memory the parse uses besides the file: the Config and the cursor, fixed sizes.
    assert!(std::mem::size_of::<config::Config>() < 64 << 10, "{}", std::mem::size_of::<config::Config>());
}

#[test]
fn a_document_past_the_limit_or_missing_is_a_clear_error() {
    let dir = Scratch::new("limit");
    let path = dir.0.join("big.json");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(file::MAX_DOC as u64 + 1).unwrap();
    let cpath = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    let e = file::read_at(rustix::fs::CWD, &cpath).err().unwrap();
    assert!(String::from_utf8_lossy(e.msg.as_bytes()).ends_with("big.json: larger than 16 MiB (tinyctr's limit)"));
    let e = file::read_at(rustix::fs::CWD, c"/nonexistent/config.json").err().unwrap();
    assert_eq!(
        e.line().as_bytes(),
        b"tinyctr: open \"/nonexistent/config.json\": ENOENT (No such file or directory)\n"
    );
    // A pipe is read to its end (update's --resources -).
    let (r, w) = rustix::pipe::pipe().unwrap();
    rustix::io::write(&w, br#"{"pids":{"limit":7}}"#).unwrap();
    drop(w);
    let mut doc = file::read_fd(rustix::fd::AsFd::as_fd(&r), b"stdin").unwrap_or_else(|_| panic!("read"));
    let res = tinyctr::oci::linux::parse_resources(doc.bytes(), "resources").unwrap_or_else(|_| panic!("parse"));
    assert_eq!(res.pids_limit, Some(7));
}
