//! End-to-end tests of `-v/--volume`, `--mount`, `--tmpfs` and the writable layer
//! (`--overlay`, `--overlay-dir`): real containers, in busybox rootfs trees each test
//! builds in a temporary directory (from Debian's busybox-static).
//!
//! Besides what each option does, every test checks what must never happen: a mount in
//! the host's mount table (before and after every run, failed ones included), a file
//! created on the host outside the rootfs, a mount target resolved outside the root by
//! a hostile image (`/data -> /etc`, `/x -> ../../..`, chains, dangling links, a
//! directory swapped for a symlink while containers start: runc's CVE-2021-30465).
//!
//! The debug build can pretend the kernel lacks features (`TINYCTR_DEBUG_KERNEL=5.11`:
//! no mount_setattr, `5.5`: no openat2 either, `5.1`: no open_tree/fsopen either), so the
//! fallbacks run here for real: the escape tests run in every mode.
//!
//! They need root and /bin/busybox (busybox-static); elsewhere they skip and say why,
//! under CI=true a skip is a failure.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::rootfs::{can_run, BUSYBOX};
use common::{stderr, stdout, wait_output};

const BIN: &str = env!("CARGO_BIN_EXE_tinyctr");

/// The kernel modes a debug build can take: what each resolution and mount path needs.
const MODES: [&str; 4] = ["", "5.11", "5.5", "5.1"];

/// A temporary directory with a busybox rootfs in `root/`, and room for volume sources
/// and layers next to it; removed on drop, after unmounting anything a broken run left
/// (and failing the test if there was any).
struct Tree {
    dir: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let dir = std::env::temp_dir().join(format!("tinyctr-vol-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
        let list = Command::new(BUSYBOX).arg("--list").output().unwrap();
        for applet in String::from_utf8(list.stdout).unwrap().lines() {
            let _ = symlink("busybox", root.join("bin").join(applet));
        }
        std::fs::write(root.join("etc/marker"), "image\n").unwrap();
        Tree { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// A host directory `rel` (next to the rootfs) holding one file, `f`.
    fn source(&self, rel: &str, content: &str) -> String {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("f"), content).unwrap();
        p.to_str().unwrap().to_owned()
    }

    fn r(&self) -> String {
        self.root().to_str().unwrap().to_owned()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let dir = self.dir.to_str().unwrap().to_owned();
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut leaked: Vec<&str> =
            mi.lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(&dir)).collect();
        leaked.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in &leaked {
            let _ = rustix::mount::unmount(*m, rustix::mount::UnmountFlags::DETACH);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        assert!(leaked.is_empty() || std::thread::panicking(), "mounts leaked into the host: {leaked:?}");
    }
}

/// The host's mount table (mount IDs, roots and points), to compare across a run.
fn host_mounts() -> Vec<String> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut v: Vec<String> = mi.lines().map(|l| l.split(' ').take(5).collect::<Vec<_>>().join(" ")).collect();
    v.sort();
    v
}

/// Asserts that no mount of ours came or went between two views of the host's table.
/// Other programs on this machine may mount meanwhile (their lines are only shown): a
/// line is ours when its mount point or root is in a tree of these tests (a volume's
/// source, or a container path seen from the host, which is in the test's rootfs) or
/// names a path the hostile images aim at.
fn assert_same_mounts(before: &[String], after: &[String], what: &str) {
    let ours = |l: &&String| l.contains("/tinyctr-vol-") || l.contains("tinyctr-escape-");
    let gone: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    let new: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    if gone.iter().chain(&new).any(|l| !ours(l)) {
        eprintln!("{what}: the host's mount table changed elsewhere meanwhile (not ours): -{gone:?} +{new:?}");
    }
    let (gone, new): (Vec<_>, Vec<_>) =
        (gone.into_iter().filter(ours).collect(), new.into_iter().filter(ours).collect());
    assert!(gone.is_empty() && new.is_empty(), "{what}: the host's mount table changed: -{gone:?} +{new:?}");
}

/// `tinyctr run ARGS...` with `TINYCTR_DEBUG_KERNEL=mode` (none for ""), asserting the
/// host's mount table is the same afterwards, whatever the outcome.
fn run_in(mode: &str, args: &[&str]) -> Output {
    let before = host_mounts();
    let mut cmd = Command::new(BIN);
    cmd.arg("run").args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if !mode.is_empty() {
        cmd.env("TINYCTR_DEBUG_KERNEL", mode);
    }
    let out = wait_output(cmd.spawn().unwrap(), Duration::from_secs(30));
    assert_same_mounts(&before, &host_mounts(), &format!("run {args:?} (mode {mode:?})"));
    out
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("tinyctr was killed by a signal")
}

/// Runs and asserts success; returns stdout.
fn ok(mode: &str, args: &[&str]) -> String {
    let o = run_in(mode, args);
    assert!(
        o.status.success(),
        "{args:?} (mode {mode:?}): exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Runs and asserts a 125 with one line on stderr containing every part of `want`.
fn fails(mode: &str, args: &[&str], want: &[&str]) -> String {
    let o = run_in(mode, args);
    let err = stderr(&o);
    assert_eq!(code(&o), 125, "{args:?} (mode {mode:?}): stdout {} stderr {err}", stdout(&o));
    assert_eq!(err.lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("tinyctr: "), "{err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: {err:?} does not say {w:?}");
    }
    err
}

/// `mount point -> options` of a container's mountinfo text (the per-mount options,
/// then the super options).
fn options_of(mi: &str, point: &str) -> String {
    let line =
        mi.lines().rev().find(|l| l.split(' ').nth(4) == Some(point)).unwrap_or_else(|| panic!("no {point} in\n{mi}"));
    let f: Vec<&str> = line.split(' ').collect();
    let sep = f.iter().position(|x| *x == "-").unwrap();
    format!("{} {}", f[5], f[sep + 3])
}

/// A checksum of a directory tree: every entry's path, type, mode, owner, and content
/// (a file's bytes, a symlink's target).
fn checksum(dir: &Path) -> u64 {
    fn walk(base: &Path, p: &Path, h: &mut DefaultHasher) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for e in entries {
            let m = std::fs::symlink_metadata(&e).unwrap();
            e.strip_prefix(base).unwrap().hash(h);
            (m.mode(), m.uid(), m.gid()).hash(h);
            if m.file_type().is_symlink() {
                std::fs::read_link(&e).unwrap().hash(h);
            } else if m.is_dir() {
                walk(base, &e, h);
            } else {
                std::fs::read(&e).unwrap().hash(h);
            }
        }
    }
    let mut h = DefaultHasher::new();
    walk(dir, dir, &mut h);
    h.finish()
}

#[test]
fn writes_through_a_volume_reach_the_host() {
    if !can_run() {
        return;
    }
    let t = Tree::new("write");
    let src = t.source("src", "from the host\n");
    for mode in MODES {
        let _ = std::fs::remove_file(Path::new(&src).join("out"));
        let v = format!("{src}:/data");
        let out = ok(mode, &["-r", &t.r(), "-v", &v, "sh", "-c", "cat /data/f; echo written >/data/out"]);
        assert_eq!(out, "from the host\n");
        assert_eq!(std::fs::read_to_string(Path::new(&src).join("out")).unwrap(), "written\n", "mode {mode:?}");
        // The missing target was created in the image, as an empty directory.
        assert!(t.root().join("data").is_dir());
        assert_eq!(std::fs::read_dir(t.root().join("data")).unwrap().count(), 0);
    }
}

#[test]
fn without_a_rootfs_volumes_cover_host_paths_in_the_container_only() {
    if !can_run() {
        return;
    }
    let t = Tree::new("host");
    let src = t.source("src", "volume\n");
    let target = t.path("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("f"), "host's own\n").unwrap();
    let v = format!("{src}:{}", target.display());
    let script = format!("cat {0}/f; echo new >{0}/g", target.display());
    for mode in MODES {
        assert_eq!(ok(mode, &["-v", &v, "sh", "-c", &script]), "volume\n");
        assert_eq!(std::fs::read_to_string(target.join("f")).unwrap(), "host's own\n");
        assert!(!target.join("g").exists(), "the write went to the host path, not the volume");
        assert!(Path::new(&src).join("g").exists());
    }
    // tinyctr creates nothing on the host: a missing target is an error there.
    let missing = t.path("missing");
    let v = format!("{src}:{}", missing.display());
    fails("", &["-v", &v, "true"], &["resolve the mount target", "ENOENT", "without --rootfs a target must exist"]);
    assert!(!missing.exists());
}

#[test]
fn read_only_volumes_refuse_writes() {
    if !can_run() {
        return;
    }
    let t = Tree::new("ro");
    let src = t.source("src", "x\n");
    let v = format!("{src}:/data:ro");
    let m = format!("type=bind,source={src},target=/m,readonly");
    for mode in MODES {
        let o = run_in(
            mode,
            &["-r", &t.r(), "-v", &v, "--mount", &m, "sh", "-c", "cat /data/f /m/f; echo >/data/f; echo >/m/new"],
        );
        assert_ne!(code(&o), 0);
        assert_eq!(stdout(&o), "x\nx\n");
        assert_eq!(stderr(&o).matches("Read-only file system").count(), 2, "mode {mode:?}: {}", stderr(&o));
        assert_eq!(std::fs::read_to_string(Path::new(&src).join("f")).unwrap(), "x\n");
        let mi = ok(mode, &["-r", &t.r(), "-v", &v, "cat", "/proc/self/mountinfo"]);
        assert!(options_of(&mi, "/data").starts_with("ro,"), "mode {mode:?}: {mi}");
    }
}

/// `ro` keeps the source mount's nosuid, nodev and noexec, and with mount_setattr (5.12)
/// covers the mounts below the source too. The source is a tmpfs mounted in a private
/// mount namespace of `unshare`, so the host sees none of it.
#[test]
fn read_only_keeps_the_source_flags_and_covers_submounts() {
    if !can_run() {
        return;
    }
    let t = Tree::new("roflags");
    let src = t.path("src");
    std::fs::create_dir_all(&src).unwrap();
    let script = format!(
        "mount -t tmpfs -o nosuid,nodev,noexec t {s} && mkdir {s}/sub && mount -t tmpfs t {s}/sub && \
         {bin} run -r {r} -v {s}:/data:ro sh -c 'grep \" /data\" /proc/self/mountinfo; touch /data/sub/x 2>&1'",
        s = src.display(),
        bin = BIN,
        r = t.r(),
    );
    for (mode, sub_ro) in [("", true), ("5.11", false), ("5.1", false)] {
        let before = host_mounts();
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "--propagation", "private", "sh", "-c", &script]);
        if !mode.is_empty() {
            cmd.env("TINYCTR_DEBUG_KERNEL", mode);
        }
        let o =
            wait_output(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap(), Duration::from_secs(30));
        assert_same_mounts(&before, &host_mounts(), "unshare");
        let out = stdout(&o);
        let data =
            out.lines().find(|l| l.split(' ').nth(4) == Some("/data")).unwrap_or_else(|| panic!("{out}{}", stderr(&o)));
        let opts = data.split(' ').nth(5).unwrap();
        for flag in ["ro", "nosuid", "nodev", "noexec"] {
            assert!(opts.split(',').any(|o| o == flag), "mode {mode:?}: {flag} lost: {data}");
        }
        // Before 5.12 a remount makes only the top mount read-only (docker's `ro`, not `rro`).
        assert_eq!(out.contains("Read-only file system"), sub_ro, "mode {mode:?}: {out}");
    }
}

#[test]
fn a_file_volume() {
    if !can_run() {
        return;
    }
    let t = Tree::new("file");
    t.source("src", "one file\n");
    let file = t.path("src/f");
    let v = format!("{}:/etc/conf", file.display());
    for mode in MODES {
        let _ = std::fs::remove_file(t.root().join("etc/conf"));
        assert_eq!(
            ok(mode, &["-r", &t.r(), "-v", &v, "sh", "-c", "cat /etc/conf; echo more >>/etc/conf"]),
            "one file\n"
        );
        // The target was made as an empty file; the write went to the host's file.
        let made = std::fs::metadata(t.root().join("etc/conf")).unwrap();
        assert!(made.is_file() && made.len() == 0);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one file\nmore\n");
        std::fs::write(&file, "one file\n").unwrap();
    }
    // A file onto a directory: the kernel says ENOTDIR, tinyctr says which.
    let v = format!("{}:/etc", file.display());
    fails("", &["-r", &t.r(), "-v", &v, "true"], &["mount on \"/etc\"", "a file goes on a file"]);
}

#[test]
fn tmpfs_size_mode_and_flags_are_as_asked() {
    if !can_run() {
        return;
    }
    let t = Tree::new("tmpfs");
    for mode in MODES {
        let mi = ok(
            mode,
            &[
                "-r",
                &t.r(),
                "--tmpfs",
                "/t:size=1m,mode=700",
                "--mount",
                "type=tmpfs,dst=/u,tmpfs-size=2m,tmpfs-mode=1770",
                "--tmpfs",
                "/v",
                "--tmpfs",
                "/w:exec,suid,dev,ro",
                "sh",
                "-c",
                "cat /proc/self/mountinfo; stat -c '%n %a' /t /u /v; df -k /t | tail -n 1; touch /w/x 2>&1; echo end",
            ],
        );
        assert!(options_of(&mi, "/t").ends_with("rw,size=1024k,mode=700"), "{mi}");
        assert!(options_of(&mi, "/t").starts_with("rw,nosuid,nodev,noexec,"), "docker's defaults: {mi}");
        assert!(options_of(&mi, "/u").ends_with("rw,size=2048k,mode=1770"), "{mi}");
        assert_eq!(options_of(&mi, "/w").split(' ').next().unwrap().split(',').take(1).collect::<Vec<_>>(), ["ro"]);
        assert!(!options_of(&mi, "/w").contains("noexec"), "{mi}");
        assert!(mi.contains("/t 700\n/u 1770\n/v 1777\n"), "{mi}");
        assert!(mi.contains(" 1024 "), "df of a 1 MiB tmpfs: {mi}");
        assert!(mi.contains("Read-only file system"), "{mi}");
    }
    // tmpfs mode works without a rootfs too, on an existing host path.
    let target = t.path("tt");
    std::fs::create_dir_all(&target).unwrap();
    let arg = format!("{}:mode=711", target.display());
    let script = format!("stat -c %a {0}; touch {0}/x", target.display());
    assert_eq!(ok("", &["--tmpfs", &arg, "sh", "-c", &script]), "711\n");
    assert!(!target.join("x").exists());
}

#[test]
fn the_writable_layer_takes_writes_and_leaves_the_image_unchanged() {
    if !can_run() {
        return;
    }
    let t = Tree::new("layer");
    std::fs::write(t.root().join("etc/conf"), "original\n").unwrap();
    std::fs::create_dir_all(t.root().join("var/lib")).unwrap();
    let src = t.source("src", "volume\n");
    let sum = checksum(&t.root());
    let v = format!("{src}:/mnt/vol");
    let script = "echo changed >/etc/conf; echo new >/new; rm /etc/marker; mkdir -p /var/lib/x; \
                  chmod 700 /var; cat /etc/conf /new /mnt/vol/f; ls /etc; rm /bin/ls; test -e /bin/ls || echo ls-gone";
    for mode in ["", "5.11", "5.5"] {
        let out = ok(mode, &["-r", &t.r(), "--overlay", "-v", &v, "--tmpfs", "/tmp", "sh", "-c", script]);
        assert_eq!(out, "changed\nnew\nvolume\nconf\nls-gone\n", "mode {mode:?}");
        assert_eq!(checksum(&t.root()), sum, "the image changed (mode {mode:?})");
        // Even tinyctr's own mount points went into the layer.
        assert!(!t.root().join("proc").exists() && !t.root().join("mnt").exists());
        // Dropped at exit: the next run sees the image again.
        assert_eq!(ok(mode, &["-r", &t.r(), "--overlay", "cat", "/etc/conf"]), "original\n");
    }
    // The root is the overlay, and --read-only makes it read-only while the image is still
    // not touched.
    let mi = ok(
        "",
        &["-r", &t.r(), "--overlay", "--read-only", "sh", "-c", "cat /proc/self/mountinfo; touch /x 2>&1; true"],
    );
    let root_line = mi.lines().find(|l| l.split(' ').nth(4) == Some("/")).unwrap();
    assert!(root_line.contains(" - overlay "), "{mi}");
    assert!(mi.contains("Read-only file system"), "{mi}");
    assert_eq!(checksum(&t.root()), sum);
}

#[test]
fn a_kept_layer_holds_the_writes() {
    if !can_run() {
        return;
    }
    let t = Tree::new("kept");
    let sum = checksum(&t.root());
    let layer = t.path("layer");
    std::fs::create_dir_all(&layer).unwrap();
    let l = layer.to_str().unwrap();
    ok("", &["-r", &t.r(), "--overlay-dir", l, "sh", "-c", "echo kept >/k; rm /etc/marker"]);
    assert_eq!(std::fs::read_to_string(layer.join("upper/k")).unwrap(), "kept\n");
    assert!(layer.join("work").is_dir());
    assert_eq!(checksum(&t.root()), sum);
    assert_eq!(
        ok("", &["-r", &t.r(), "--overlay-dir", l, "sh", "-c", "cat /k; test -e /etc/marker || echo gone"]),
        "kept\ngone\n"
    );
    // One container at a time: a second one is refused while the first runs.
    let mut first = Command::new(BIN)
        .args(["run", "-r", &t.r(), "--overlay-dir", l, "sh", "-c", "echo up; read x; exit 0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = [0u8; 3];
    std::io::Read::read_exact(first.stdout.as_mut().unwrap(), &mut up).unwrap();
    fails("", &["-r", &t.r(), "--overlay-dir", l, "true"], &["--overlay-dir: '", "' is in use by another container"]);
    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
    // A relative rootfs and a relative layer directory, from where tinyctr was started.
    let o = Command::new(BIN)
        .current_dir(&t.dir)
        .args(["run", "-r", "root/.", "--overlay-dir", "layer", "cat", "/k"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "kept\n", "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(checksum(&t.root()), sum);
}

#[test]
fn the_writable_layer_says_what_it_cannot_do() {
    if !can_run() {
        return;
    }
    let t = Tree::new("layerbad");
    let r = t.r();
    fails("", &["--overlay", "true"], &["--overlay: needs --rootfs DIR"]);
    fails("", &["--overlay-dir", "/x", "true"], &["needs --rootfs DIR"]);
    let missing = t.path("nope");
    fails(
        "",
        &["-r", &r, "--overlay-dir", missing.to_str().unwrap(), "true"],
        &["use the overlay directory", "ENOENT"],
    );
    assert!(!missing.exists());
    // Before 5.2 there is no way to make it, and tinyctr says so.
    fails("5.1", &["-r", &r, "--overlay", "true"], &["ENOSYS", "needs Linux 5.2"]);
    // A ramfs (the initramfs case) cannot hold the upper layer: refused before anything
    // starts, saying why. The ramfs lives in unshare's private mount namespace.
    let ram = t.path("ram");
    std::fs::create_dir_all(&ram).unwrap();
    let script = format!("mount -t ramfs none {0} && {BIN} run -r {r} --overlay-dir {0} true", ram.display());
    let o = Command::new("unshare").args(["-m", "--propagation", "private", "sh", "-c", &script]).output().unwrap();
    assert_eq!(o.status.code(), Some(125));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is on a ramfs") && err.contains("no extended attributes"), "{err}");
}

/// Images built to put a mount outside the root: every target lands inside it, or the
/// run fails (ELOOP, the root itself, /proc); nothing is made on the host.
#[test]
fn hostile_images_cannot_put_a_mount_outside_the_root() {
    if !can_run() {
        return;
    }
    let t = Tree::new("hostile");
    let root = t.root();
    let src = t.source("src", "vol\n");
    // Host paths the escapes would reach: the host's /etc, /, and the tree's own parent.
    let name = format!("tinyctr-escape-{}", std::process::id());
    let host_probe = [Path::new("/etc").join(&name), Path::new("/").join(&name), t.dir.parent().unwrap().join(&name)];
    symlink("/etc", root.join("data")).unwrap();
    symlink("../../..", root.join("x")).unwrap();
    symlink("/b", root.join("a")).unwrap();
    symlink("../c/../c", root.join("b")).unwrap();
    symlink("/d", root.join("c")).unwrap();
    std::fs::create_dir_all(root.join("d")).unwrap();
    symlink("/nowhere/deep", root.join("dangling")).unwrap();
    symlink("/loop", root.join("loop")).unwrap();
    symlink(t.dir.parent().unwrap(), root.join("abs")).unwrap();
    let r = t.r();
    for mode in MODES {
        let vols = [
            (format!("/data/{name}"), format!("etc/{name}")),
            (format!("/x/{name}"), name.clone()),
            (format!("/x/../../x/../{name}-2/y"), format!("{name}-2/y")),
            (format!("/a/{name}"), format!("d/{name}")),
            ("/dangling".to_owned(), "nowhere/deep".to_owned()),
            (
                format!("/abs/{name}"),
                format!("{}/{name}", t.dir.parent().unwrap().strip_prefix("/").unwrap().display()),
            ),
        ];
        let mut args = vec!["-r".to_owned(), r.clone()];
        for (target, _) in &vols {
            args.push("-v".into());
            args.push(format!("{src}:{target}"));
        }
        args.extend(["cat".into(), "/proc/self/mountinfo".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mi = ok(mode, &args);
        for (target, lands) in &vols {
            // Where the container sees it, and where it is in the image.
            let point = format!("/{lands}");
            assert!(
                mi.lines().any(|l| l.split(' ').nth(4) == Some(&point)),
                "mode {mode:?}: {target} is not at {point}:\n{mi}"
            );
            assert!(root.join(lands).is_dir(), "mode {mode:?}: {target}: no {lands} in the image");
        }
        for p in &host_probe {
            assert!(!p.exists(), "mode {mode:?}: {} was created on the host", p.display());
        }
        let v = format!("{src}:/loop/x");
        fails(mode, &["-r", &r, "-v", &v, "true"], &["\"/loop/x\"", "ELOOP"]);
        let v = format!("{src}:/x");
        fails(mode, &["-r", &r, "-v", &v, "true"], &["\"/x\"", "EBUSY", "the container's root"]);
        let v = format!("{src}:/proc/sys");
        fails(mode, &["-r", &r, "-v", &v, "true"], &["\"/proc/sys\"", "EPERM", "in /proc"]);
        // A magic link: refused by openat2, resolved as text (inside) by the walk.
        let v = format!("{src}:/proc/self/root/{name}");
        let o = run_in(mode, &["-r", &r, "-v", &v, "true"]);
        assert!(code(&o) == 0 || stderr(&o).contains("ELOOP"), "mode {mode:?}: {}", stderr(&o));
        for p in &host_probe {
            assert!(!p.exists(), "mode {mode:?}: {} was created on the host", p.display());
        }
        // Made again in the next mode.
        for made in [
            format!("etc/{name}"),
            name.clone(),
            format!("{name}-2"),
            format!("d/{name}"),
            "nowhere".into(),
            "tmp".into(),
        ] {
            std::fs::remove_dir_all(root.join(made)).unwrap();
        }
    }
}

/// The CVE-2021-30465 race: a thread swaps a directory in the image for a symlink (to `/`
/// and to a host directory outside the root) and back, as fast as it can, while 210
/// containers in each resolution mode start with a volume onto a path through it. Every
/// mount lands in the image; the host directory stays empty; the host's mount table
/// never changes.
#[test]
fn a_racing_symlink_swap_never_mounts_outside_the_root() {
    if !can_run() {
        return;
    }
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let t = Tree::new("race");
    let root = t.root();
    let src = t.source("src", "vol\n");
    let outside = t.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(root.join("vol/d")).unwrap();
    symlink("/", root.join("vol/l1")).unwrap();
    symlink(&outside, root.join("vol/l2")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (s, vol) = (stop.clone(), root.join("vol"));
    let swapper = std::thread::spawn(move || {
        let b = |p: PathBuf| p.into_os_string().into_encoded_bytes();
        let (d, l1, l2) = (b(vol.join("d")), b(vol.join("l1")), b(vol.join("l2")));
        let mut swaps = 0u64;
        while !s.load(Ordering::Relaxed) {
            for l in [&l1, &l2] {
                let swap = || renameat_with(CWD, d.as_slice(), CWD, l.as_slice(), RenameFlags::EXCHANGE);
                // Fails only once the test has failed and its tree is gone.
                if swap().and_then(|()| swap()).is_err() {
                    return swaps;
                }
                swaps += 2;
            }
        }
        swaps
    });
    let v = format!("{src}:/vol/d/m");
    let r = t.r();
    let mut landed = std::collections::BTreeMap::new();
    for mode in ["", "5.5"] {
        for _ in 0..210 {
            let o = run_in(mode, &["-r", &r, "-v", &v, "awk", "$5 ~ /\\/m$/ { print $4, $5 }", "/proc/self/mountinfo"]);
            // A lost race may fail the run (the walk refuses a directory swapped under
            // it): that is fine. A run that started shows where the volume went.
            if code(&o) == 0 {
                *landed.entry(stdout(&o)).or_insert(0) += 1;
            }
            assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "a mount target was made outside the root");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    // Through the directory: /vol/d/m (or where the swap has just moved that directory);
    // through "/": /m; through the host path, which is text inside the root: its copy
    // under the image. Nothing else, and always the volume's own root.
    let copy = format!("{}/m", outside.display());
    for (out, n) in &landed {
        let (from, at) = out.trim_end().split_once(' ').unwrap_or_else(|| panic!("{n} runs saw {out:?}"));
        assert!(from.ends_with("/src"), "{n} runs mounted {from}");
        assert!(["/vol/d/m", "/vol/l1/m", "/vol/l2/m", "/m", &copy].contains(&at), "{n} runs saw the volume at {at}");
    }
    eprintln!("{swaps} swaps; where the volumes went: {landed:?}");
    assert!(landed.len() >= 2, "the race did not happen ({swaps} swaps): {landed:?}");
    assert!(!Path::new("/m").exists());
}

#[test]
fn read_only_root_keeps_rw_volumes_writable() {
    if !can_run() {
        return;
    }
    let t = Tree::new("rootro");
    let src = t.source("src", "x\n");
    let v = format!("{src}:/data");
    for mode in MODES {
        let o = run_in(
            mode,
            &[
                "-r",
                &t.r(),
                "--read-only",
                "-v",
                &v,
                "--tmpfs",
                "/scratch",
                "sh",
                "-c",
                "echo y >/data/g && echo z >/scratch/z && cat /scratch/z; touch /nope",
            ],
        );
        assert_eq!(stdout(&o), "z\n", "mode {mode:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("Read-only file system"), "{}", stderr(&o));
        assert_eq!(std::fs::read_to_string(Path::new(&src).join("g")).unwrap(), "y\n");
    }
}

#[test]
fn mounts_combine_in_the_order_given() {
    if !can_run() {
        return;
    }
    let t = Tree::new("order");
    let a = t.source("a", "a\n");
    let b = t.source("b", "b\n");
    for mode in MODES {
        // A later mount inside an earlier one, and one over another.
        let out = ok(
            mode,
            &[
                "-r",
                &t.r(),
                "--tmpfs",
                "/m",
                "-v",
                &format!("{a}:/m/a"),
                "-v",
                &format!("{b}:/m/a/b:ro"),
                "-v",
                &format!("{a}:/over"),
                "-v",
                &format!("{b}:/over"),
                "sh",
                "-c",
                "cat /m/a/f /m/a/b/f /over/f",
            ],
        );
        assert_eq!(out, "a\nb\nb\n", "mode {mode:?}");
        // /m/a/b was made in the volume a (the host directory), as docker does.
        assert!(Path::new(&a).join("b").is_dir());
        std::fs::remove_dir(Path::new(&a).join("b")).unwrap();
    }
}

#[test]
fn bad_input_is_one_line_125_and_mounts_nothing() {
    if !can_run() {
        return;
    }
    let t = Tree::new("bad");
    let r = t.r();
    let src = t.source("src", "x\n");
    let cases: &[(&[&str], &[&str])] = &[
        (&["-v", "/data", "true"], &["-v: '/data' has no DST", "anonymous volumes are not supported"]),
        (&["-v", ":/data", "true"], &["has no SRC"]),
        (&["-v", "data:/data", "true"], &["'data' is not an absolute host path: named volumes are not supported"]),
        (&["--volume", "/a:data", "true"], &["--volume: '/a:data': 'data' is not an absolute path in the container"]),
        (&["-v", "/a:/", "true"], &["'/' is the container's root"]),
        (&["-v", "/a:/b:rx", "true"], &["'rx' is not a volume mode"]),
        (&["--mount", "type=volume,src=v,dst=/d", "true"], &["named volumes are not"]),
        (&["--mount", "type=bind,src=/a,dst=/d,propagation=x", "true"], &["'propagation' is not a --mount key"]),
        (&["--mount", "type=nfs,dst=/d", "true"], &["'nfs' is not a mount type"]),
        (&["--mount", "src=/a,dst=/d", "true"], &["needs type=bind or type=tmpfs"]),
        (&["--mount", "type=bind,dst=/d", "true"], &["needs source=SRC"]),
        (&["--mount", "type=bind,src=/a", "true"], &["needs target=DST"]),
        (&["--mount", "type=tmpfs,dst=/d,tmpfs-size=1x", "true"], &["'1x' is not a size"]),
        (&["--mount", "type=tmpfs,dst=/d,tmpfs-mode=99", "true"], &["'99' is not an octal mode"]),
        (&["--tmpfs", "/t:size=-1", "true"], &["'-1' is not a size"]),
        (&["--tmpfs", "/t:mode=abc", "true"], &["'abc' is not an octal mode"]),
        (&["--tmpfs", "/t:uid=0", "true"], &["'uid' is not a tmpfs option"]),
        (&["--tmpfs", "t", "true"], &["'t' is not an absolute path"]),
        (&["-v"], &["-v: needs a value"]),
    ];
    for (args, want) in cases {
        let err = fails("", args, want);
        assert!(!err.contains("open") && !err.contains("resolve"), "a parse error got as far as the child: {err}");
    }
    let many: Vec<String> = (0..17).flat_map(|i| ["--tmpfs".to_owned(), format!("/t{i}")]).collect();
    let mut args: Vec<&str> = many.iter().map(String::as_str).collect();
    args.push("true");
    fails("", &args, &["more than 16 mounts"]);
    // Caught by the child: a missing source, and nothing is left in the image either.
    let v = format!("{}:/data", t.path("nope").display());
    fails("", &["-r", &r, "-v", &v, "true"], &["open the volume source", "ENOENT", "a bind source must exist"]);
    assert!(!t.path("nope").exists());
    let v = format!("{src}:/etc/marker/x");
    fails("", &["-r", &r, "-v", &v, "true"], &["resolve the mount target \"/etc/marker/x\"", "ENOTDIR"]);
}
