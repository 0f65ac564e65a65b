//! Writer tests: the whole create → attach → destroy path against a temporary directory
//! of fake control files laid out like a v1/hybrid host and like a v2 host (no root
//! needed). Layouts come from captured texts with the temporary directory as prefix;
//! new "cgroups" get their parent's files, as cgroupfs would give them.

use super::layout::Layout;
use super::*;
use crate::limits::{LimitKey, Limits};
use crate::mountinfo::SliceSource;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Tree(PathBuf);

/// What a run does: plan, then create.
fn create_in(layout: &Layout, limits: &Limits<'_>, pid: u32) -> Result<Cgroup> {
    let mut cg = Cgroup::empty();
    cg.create(&Plan::new(layout, limits)?, limits, pid)?;
    Ok(cg)
}

/// A run's create, then its sweep.
fn sweep_after(layout: &Layout, limits: &Limits<'_>, pid: u32) {
    let cg = create_in(layout, limits, pid).must();
    cg.sweep(&Plan::new(layout, limits).must(), limits);
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Tree {
    fn new() -> Tree {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tinyctr-fake-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tree(p)
    }

    fn dir(&self, rel: &str, files: &[(&str, &str)]) -> &Self {
        let d = self.0.join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(&d).unwrap();
        for (f, v) in files {
            std::fs::write(d.join(f), v).unwrap();
        }
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel.trim_start_matches('/'))
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn layout(&self, cgroup: &[u8], mountinfo: &[u8]) -> Layout {
        let mut l =
            Layout::parse(SliceSource::new(cgroup), SliceSource::new(mountinfo), self.0.to_str().unwrap().as_bytes())
                .unwrap();
        l.fake = true;
        l.read_unified_controllers();
        l
    }
}

const MEMORY_FILES: [(&str, &str); 6] = [
    ("memory.limit_in_bytes", ""),
    ("memory.memsw.limit_in_bytes", ""),
    ("memory.usage_in_bytes", "0"),
    ("memory.oom_control", ""),
    ("cgroup.procs", ""),
    ("tasks", ""),
];

const OWN_MEM: &str = "/sys/fs/cgroup/memory/process_api/12a97ad057586e028ec9e7e30d5a2a20";

/// This host's layout: v1 memory, cpu, cpuset, pids; cgroup2 with only hugetlb.
fn hybrid_tree(with_memsw: bool) -> (Tree, Layout) {
    let t = Tree::new();
    let mem: Vec<_> = MEMORY_FILES.iter().copied().filter(|(f, _)| with_memsw || !f.contains("memsw")).collect();
    t.dir("/sys/fs/cgroup/memory", &mem)
        .dir(OWN_MEM, &mem)
        .dir(
            "/sys/fs/cgroup/cpu",
            &[
                ("cpu.shares", ""),
                ("cpu.cfs_period_us", ""),
                ("cpu.cfs_quota_us", ""),
                ("cgroup.procs", ""),
                ("tasks", ""),
            ],
        )
        .dir(
            "/sys/fs/cgroup/cpuset",
            &[
                ("cpuset.cpus", "0-3\n"),
                ("cpuset.mems", "0\n"),
                ("cpuset.effective_cpus", "0-3\n"),
                ("cgroup.procs", ""),
                ("tasks", ""),
            ],
        )
        .dir("/sys/fs/cgroup/pids", &[("pids.max", ""), ("cgroup.procs", ""), ("tasks", "")])
        .dir(
            "/sys/fs/cgroup/devices",
            &[("devices.allow", ""), ("devices.deny", ""), ("cgroup.procs", ""), ("tasks", "")],
        )
        .dir(
            "/sys/fs/cgroup/unified",
            &[
                ("cgroup.controllers", "hugetlb\n"),
                ("cgroup.subtree_control", ""),
                ("cgroup.procs", ""),
                ("cgroup.kill", ""),
            ],
        );
    let l = t.layout(
        include_bytes!("../../tests/fixtures/hybrid-thishost.cgroup"),
        include_bytes!("../../tests/fixtures/hybrid-thishost.mountinfo"),
    );
    (t, l)
}

const OWN_V2: &str = "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope";

fn v2_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"),
        ("cgroup.subtree_control", ""),
        ("cgroup.procs", ""),
        ("cgroup.kill", ""),
        ("memory.max", ""),
        ("memory.swap.max", ""),
        ("memory.current", "0"),
        ("memory.events", ""),
        ("cpu.weight", ""),
        ("cpu.max", ""),
        ("cpuset.cpus", ""),
        ("cpuset.cpus.effective", "0-1\n"),
        ("pids.max", ""),
    ]
}

/// A systemd v2 host: everything on cgroup2.
fn v2_tree() -> (Tree, Layout) {
    let t = Tree::new();
    let f = v2_files();
    t.dir("/sys/fs/cgroup", &f)
        .dir("/sys/fs/cgroup/user.slice", &f)
        .dir("/sys/fs/cgroup/user.slice/user-1000.slice", &f)
        .dir(OWN_V2, &f);
    let l = t.layout(
        include_bytes!("../../tests/fixtures/v2-debian12.cgroup"),
        include_bytes!("../../tests/fixtures/v2-debian12.mountinfo"),
    );
    (t, l)
}

fn limits(opts: &[(LimitKey, &str)]) -> Limits<'static> {
    let mut l = Limits::default();
    for &(k, v) in opts {
        let v: &'static CStr = Box::leak(CString::new(v).unwrap().into_boxed_c_str());
        l.set(k, b"--opt", v).unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e.msg.as_bytes())));
    }
    l.validate().must();
    l
}

trait Must<T> {
    fn must(self) -> T;
}

impl<T> Must<T> for Result<T> {
    fn must(self) -> T {
        self.unwrap_or_else(|e| panic!("{}", msg(e)))
    }
}

fn msg(e: Error) -> String {
    String::from_utf8_lossy(e.msg.as_bytes()).into_owned()
}

fn exists(p: &Path) -> bool {
    p.exists()
}

#[test]
fn hybrid_v1_writes_each_limit_and_removes_all() {
    let (t, l) = hybrid_tree(true);
    let lim = limits(&[
        (LimitKey::Memory, "64m"),
        (LimitKey::CpuShares, "512"),
        (LimitKey::Cpus, "0.5"),
        (LimitKey::CpusetCpus, "1"),
        (LimitKey::PidsLimit, "10"),
    ]);
    let mut cg = create_in(&l, &lim, 4242).must();
    let mem = format!("{OWN_MEM}/tinyctr-4242");
    assert_eq!(t.read(&format!("{mem}/memory.limit_in_bytes")), "67108864");
    assert_eq!(t.read(&format!("{mem}/memory.memsw.limit_in_bytes")), "67108864", "no swap by default");
    assert_eq!(t.read("/sys/fs/cgroup/cpu/tinyctr-4242/cpu.shares"), "512");
    assert_eq!(t.read("/sys/fs/cgroup/cpu/tinyctr-4242/cpu.cfs_period_us"), "100000");
    assert_eq!(t.read("/sys/fs/cgroup/cpu/tinyctr-4242/cpu.cfs_quota_us"), "50000");
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/tinyctr-4242/cpuset.cpus"), "1");
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/tinyctr-4242/cpuset.mems"), "0", "mems copied from the parent");
    assert_eq!(t.read("/sys/fs/cgroup/pids/tinyctr-4242/pids.max"), "10");
    // The unified hierarchy has none of these controllers: it is left alone.
    assert!(!exists(&t.path("/sys/fs/cgroup/unified/tinyctr-4242")));
    assert_eq!(t.read("/sys/fs/cgroup/unified/cgroup.subtree_control"), "", "nothing enabled on the host's cgroup2");
    assert!(cg.clone_into_fd().is_none());
    // Nothing was written into tinyctr's own cgroups.
    assert_eq!(t.read(&format!("{OWN_MEM}/memory.limit_in_bytes")), "");
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/cpuset.cpus"), "0-3\n");

    // attach writes no pid into a v1 cgroup: the child joins those itself, through the
    // directories self_joins hands it (memory, cpu, cpuset, pids: the layout's order).
    cg.attach(777_777, false).must();
    assert_eq!(t.read(&format!("{mem}/cgroup.procs")), "");
    let mut fds = [0; crate::cgroup::layout::MAX_HIERS];
    assert_eq!(cg.self_joins(&mut fds), 4);
    for &fd in &fds[..4] {
        // SAFETY: the cgroup's own open directories, borrowed for the call.
        #[allow(unsafe_code)]
        let dir = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
        crate::cgroup::v1::join_self(dir).unwrap();
    }
    assert_eq!(t.read(&format!("{mem}/tasks")), "0", "a thread's self-move: 0 into tasks");

    cg.read_oom_kills();
    assert!(!cg.oom_killed());
    std::fs::write(t.path(&format!("{mem}/memory.oom_control")), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        .unwrap();
    assert!(!cg.oom_killed(), "read once, when asked");
    cg.read_oom_kills();
    assert!(cg.oom_killed());
    assert_eq!(cg.memory_limit(), Some(64 << 20));

    cg.destroy().must();
    for h in ["cpu", "cpuset", "pids", "unified"] {
        assert!(!exists(&t.path(&format!("/sys/fs/cgroup/{h}/tinyctr-4242"))), "{h}");
    }
    assert!(!exists(&t.path(&mem)));
    assert!(cg.oom_killed(), "remembered after removal");
    cg.destroy().must(); // idempotent
}

#[test]
fn only_the_hierarchies_asked_for_are_touched() {
    let (t, l) = hybrid_tree(true);
    let cg = create_in(&l, &limits(&[(LimitKey::PidsLimit, "5")]), 9).must();
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-9")));
    assert!(!exists(&t.path(&format!("{OWN_MEM}/tinyctr-9"))));
    assert!(!exists(&t.path("/sys/fs/cgroup/cpu/tinyctr-9")));
    assert!(!exists(&t.path("/sys/fs/cgroup/cpuset/tinyctr-9")));
    drop(cg); // Drop removes too
    assert!(!exists(&t.path("/sys/fs/cgroup/pids/tinyctr-9")));
    assert!(!exists(&t.path("/sys/fs/cgroup/unified/tinyctr-9")));
}

#[test]
fn v1_swap_variants() {
    let (t, l) = hybrid_tree(true);
    let mem = format!("{OWN_MEM}/tinyctr-1");
    let cg = create_in(&l, &limits(&[(LimitKey::Memory, "64m"), (LimitKey::MemorySwap, "-1")]), 1).must();
    assert_eq!(t.read(&format!("{mem}/memory.memsw.limit_in_bytes")), "-1");
    drop(cg);
    let cg = create_in(&l, &limits(&[(LimitKey::Memory, "64m"), (LimitKey::MemorySwap, "128m")]), 1).must();
    assert_eq!(t.read(&format!("{mem}/memory.memsw.limit_in_bytes")), "134217728");
    drop(cg);

    // Without swap accounting: fine by default, an error when swap was asked for.
    let (t, l) = hybrid_tree(false);
    let cg = create_in(&l, &limits(&[(LimitKey::Memory, "64m")]), 1).must();
    assert!(!exists(&t.path(&format!("{mem}/memory.memsw.limit_in_bytes"))));
    drop(cg);
    let e = create_in(&l, &limits(&[(LimitKey::Memory, "64m"), (LimitKey::MemorySwap, "128m")]), 1)
        .err()
        .expect("an error");
    assert_eq!(e.status, 125);
    assert!(msg(e).starts_with("--memory-swap: this kernel does not account swap"));
    assert!(!exists(&t.path(&mem)), "removed after the failure");
    assert!(!exists(&t.path("/sys/fs/cgroup/unified/tinyctr-1")), "anchor removed after the failure");
}

#[test]
fn v1_cpuset_copied_from_parent_when_not_given() {
    let (t, l) = hybrid_tree(true);
    // --cpuset-cpus not given, but cpu and cpuset co-mounted in one hierarchy would need
    // it; here, cpuset is used only through --cpuset-cpus.
    let cg = create_in(&l, &limits(&[(LimitKey::CpusetCpus, "0-2,3")]), 3).must();
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/tinyctr-3/cpuset.cpus"), "0-2,3");
    drop(cg);
    // A co-mounted cpu,cpuset hierarchy gets cpus and mems for --cpus alone.
    let t2 = Tree::new();
    t2.dir(
        "/sys/fs/cgroup/cpu,cpuset",
        &[
            ("cpuset.cpus", "0-1\n"),
            ("cpuset.mems", "0\n"),
            ("cpu.cfs_period_us", ""),
            ("cpu.cfs_quota_us", ""),
            ("cgroup.procs", ""),
        ],
    );
    let l2 = t2.layout(
        b"3:cpu,cpuset:/\n",
        b"38 33 0:32 / /sys/fs/cgroup/cpu,cpuset rw shared:15 - cgroup cgroup rw,cpu,cpuset\n",
    );
    let cg = create_in(&l2, &limits(&[(LimitKey::Cpus, "1.5")]), 3).must();
    assert_eq!(t2.read("/sys/fs/cgroup/cpu,cpuset/tinyctr-3/cpuset.cpus"), "0-1");
    assert_eq!(t2.read("/sys/fs/cgroup/cpu,cpuset/tinyctr-3/cpuset.mems"), "0");
    assert_eq!(t2.read("/sys/fs/cgroup/cpu,cpuset/tinyctr-3/cpu.cfs_quota_us"), "150000");
    drop(cg);
    assert!(!exists(&t2.path("/sys/fs/cgroup/cpu,cpuset/tinyctr-3")));
}

#[test]
fn v2_enables_controllers_down_the_path_and_writes_v2_files() {
    let (t, l) = v2_tree();
    let lim = limits(&[
        (LimitKey::Memory, "64m"),
        (LimitKey::CpuShares, "512"),
        (LimitKey::Cpus, "1.25"),
        (LimitKey::CpusetCpus, "0"),
        (LimitKey::PidsLimit, "20"),
    ]);
    let mut cg = create_in(&l, &lim, 55).must();
    let dir = format!("{OWN_V2}/tinyctr-55");
    for a in ["/sys/fs/cgroup", "/sys/fs/cgroup/user.slice", "/sys/fs/cgroup/user.slice/user-1000.slice", OWN_V2] {
        assert_eq!(t.read(&format!("{a}/cgroup.subtree_control")), "+memory +cpu +cpuset +pids", "{a}");
    }
    assert_eq!(t.read(&format!("{dir}/cgroup.subtree_control")), "", "the container's own cgroup is a leaf");
    assert_eq!(t.read(&format!("{dir}/memory.max")), "67108864");
    assert_eq!(t.read(&format!("{dir}/memory.swap.max")), "0");
    assert_eq!(t.read(&format!("{dir}/cpu.weight")), "59");
    assert_eq!(t.read(&format!("{dir}/cpu.max")), "125000 100000");
    assert_eq!(t.read(&format!("{dir}/cpuset.cpus")), "0");
    assert_eq!(t.read(&format!("{dir}/pids.max")), "20");
    assert!(cg.clone_into_fd().is_some());
    cg.attach(888_888, true).must();
    assert_eq!(t.read(&format!("{dir}/cgroup.procs")), "", "born inside: no migration");
    std::fs::write(t.path(&format!("{dir}/memory.events")), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
    cg.read_oom_kills();
    assert!(cg.oom_killed());
    cg.destroy().must();
    assert!(!exists(&t.path(&dir)));
}

#[test]
fn v2_swap_is_total_minus_memory() {
    let (t, l) = v2_tree();
    let cg = create_in(&l, &limits(&[(LimitKey::Memory, "64m"), (LimitKey::MemorySwap, "96m")]), 56).must();
    assert_eq!(t.read(&format!("{OWN_V2}/tinyctr-56/memory.swap.max")), "33554432");
    drop(cg);
    let cg = create_in(&l, &limits(&[(LimitKey::Memory, "64m"), (LimitKey::MemorySwap, "-1")]), 56).must();
    assert_eq!(t.read(&format!("{OWN_V2}/tinyctr-56/memory.swap.max")), "max");
    drop(cg);
}

#[test]
fn names_are_locked_and_stale_ones_swept() {
    let (t, l) = hybrid_tree(true);
    let web = limits(&[(LimitKey::PidsLimit, "5"), (LimitKey::Name, "web")]);
    let cg = create_in(&l, &web, 1).must();
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-web")));
    let e = create_in(&l, &web, 2).err().expect("an error");
    assert_eq!(e.status, 125);
    assert!(msg(e).starts_with("--name: 'web' is in use by a running container"), "refused while the first holds it");
    // The refused run removed nothing of the running one.
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-web")));
    assert!(!exists(&t.path("/sys/fs/cgroup/unified/tinyctr-web")), "no controller there");
    drop(cg);
    // --name alone: the unified hierarchy anchors the name and the lock, nothing written.
    let named = limits(&[(LimitKey::Name, "solo")]);
    let cg = create_in(&l, &named, 1).must();
    assert!(exists(&t.path("/sys/fs/cgroup/unified/tinyctr-solo")));
    assert!(cg.clone_into_fd().is_some());
    assert!(create_in(&l, &named, 2).is_err(), "in use");
    // attach: the v2 cgroup only when the child was not born inside it.
    cg.attach(777_777, true).must();
    assert_eq!(t.read("/sys/fs/cgroup/unified/tinyctr-solo/cgroup.procs"), "");
    cg.attach(777_777, false).must();
    assert_eq!(t.read("/sys/fs/cgroup/unified/tinyctr-solo/cgroup.procs"), "777777");
    drop(cg);
    // A dead run's leftovers (no lock held) are swept by the next run, any name.
    t.dir("/sys/fs/cgroup/pids/tinyctr-31337", &[("pids.max", "7"), ("cgroup.procs", "")]);
    t.dir("/sys/fs/cgroup/pids/tinyctr-31337/nested", &[("cgroup.procs", "")]);
    t.dir("/sys/fs/cgroup/pids/not-ours", &[("cgroup.procs", "")]);
    // ... also in a hierarchy this run does not use (a dead run with --cpuset-cpus).
    t.dir("/sys/fs/cgroup/cpuset/tinyctr-31338", &[("cpuset.cpus", "1"), ("cgroup.procs", "")]);
    let cg = create_in(&l, &web, 3).must();
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-31337")), "not swept on the way to the start");
    cg.sweep(&Plan::new(&l, &web).must(), &web);
    assert!(!exists(&t.path("/sys/fs/cgroup/pids/tinyctr-31337")), "stale cgroup swept");
    assert!(!exists(&t.path("/sys/fs/cgroup/cpuset/tinyctr-31338")), "stale cgroup swept where this run has none");
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-web")), "our own cgroup is not stale");
    assert!(exists(&t.path("/sys/fs/cgroup/pids/not-ours")), "others' cgroups untouched");
    drop(cg);
}

#[test]
fn cgroup_parent_is_made_and_removed() {
    let (t, l) = hybrid_tree(true);
    let lim =
        limits(&[(LimitKey::CpusetCpus, "2"), (LimitKey::PidsLimit, "5"), (LimitKey::CgroupParent, "/mine/sub/")]);
    let cg = create_in(&l, &lim, 8).must();
    assert_eq!(t.read("/sys/fs/cgroup/pids/mine/sub/tinyctr-8/pids.max"), "5");
    // New cpuset parents are filled from theirs, so the container's can be set.
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/mine/cpuset.cpus"), "0-3");
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/mine/sub/cpuset.mems"), "0");
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/mine/sub/tinyctr-8/cpuset.cpus"), "2");
    assert!(!exists(&t.path("/sys/fs/cgroup/unified/mine")));
    drop(cg);
    for h in ["pids", "cpuset", "unified"] {
        assert!(!exists(&t.path(&format!("/sys/fs/cgroup/{h}/mine"))), "{h}");
    }
    // A parent made by one run and still used by another goes with the last one out.
    let lim = limits(&[(LimitKey::PidsLimit, "5"), (LimitKey::CgroupParent, "/shared/sub")]);
    let first = create_in(&l, &lim, 21).must();
    let second = create_in(&l, &lim, 22).must();
    drop(first);
    assert!(exists(&t.path("/sys/fs/cgroup/pids/shared/sub/tinyctr-22")), "in use: kept");
    drop(second);
    assert!(!exists(&t.path("/sys/fs/cgroup/pids/shared")), "the last one out removes it");
    // An existing parent is kept.
    t.dir("/sys/fs/cgroup/pids/keep", &[("pids.max", ""), ("cgroup.procs", "")]);
    let lim = limits(&[(LimitKey::PidsLimit, "5"), (LimitKey::CgroupParent, "keep")]);
    drop(create_in(&l, &lim, 8).must());
    assert!(exists(&t.path("/sys/fs/cgroup/pids/keep")));
}

#[test]
fn missing_controller_names_it_and_how_to_mount() {
    let t = Tree::new();
    t.dir("/sys/fs/cgroup/pids", &[("pids.max", ""), ("cgroup.procs", "")]);
    let l = t.layout(b"8:pids:/\n", b"39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n");
    let e = create_in(&l, &limits(&[(LimitKey::PidsLimit, "3"), (LimitKey::Memory, "1g")]), 5).err().expect("an error");
    assert_eq!(e.status, 125);
    let m = msg(e);
    assert!(
        m.starts_with("--memory needs the memory cgroup controller, and no mounted cgroup hierarchy has it;"),
        "{m}"
    );
    assert!(m.contains("mount -t cgroup -o memory none /sys/fs/cgroup/memory"), "{m}");
    assert!(!exists(&t.path("/sys/fs/cgroup/pids/tinyctr-5")), "nothing created before the check");
    // Pure v1 with only --name: the pids hierarchy anchors it.
    let cg = create_in(&l, &limits(&[(LimitKey::Name, "solo-v1")]), 5).must();
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-solo-v1")));
    drop(cg);
    // No hierarchy at all.
    let l = t.layout(b"", b"");
    let e = create_in(&l, &limits(&[(LimitKey::Name, "solo")]), 5).err().expect("an error");
    assert!(msg(e).contains("no cgroup hierarchy is mounted"));
}

#[test]
fn failed_write_names_file_value_and_hint() {
    let (tv, lv) = v2_tree();
    std::fs::remove_file(tv.path(&format!("{OWN_V2}/pids.max"))).unwrap();
    let e = create_in(&lv, &limits(&[(LimitKey::PidsLimit, "3")]), 6).err().expect("an error");
    let m = msg(e);
    assert!(m.starts_with("write \"3\" to \""), "{m}");
    assert!(m.ends_with("/tinyctr-6/pids.max\": ENOENT (No such file or directory)"), "{m}");
    assert!(!exists(&tv.path(&format!("{OWN_V2}/tinyctr-6"))));
}

#[test]
fn cpuset_and_memory_hints() {
    let e = v1::cpuset_error(b"5", b"/cg/tinyctr-1", c"cpuset.cpus", Errno::INVAL, b"0-1");
    assert_eq!(
        msg(e),
        "write \"5\" to \"/cg/tinyctr-1/cpuset.cpus\": EINVAL (Invalid argument); the CPUs available here are 0-1"
    );
    let t = Tree::new();
    t.dir("/m", &[("memory.usage_in_bytes", "123456\n")]);
    let d = fs::open_dir(CWD, CString::new(t.path("/m").to_str().unwrap()).unwrap().as_c_str()).unwrap();
    let e = v1::usage_hint(
        fs::write_error(b"1", b"/m", c"memory.limit_in_bytes", Errno::BUSY),
        d.as_fd(),
        c"memory.usage_in_bytes",
    );
    assert!(msg(e).ends_with("; the cgroup already uses 123456 bytes (memory.usage_in_bytes)"));
}

#[test]
fn sweep_spares_a_stale_looking_parent_with_a_live_container_below() {
    let (t, l) = hybrid_tree(true);
    // `--cgroup-parent /tinyctr-par` of a running container: the parent itself is never
    // locked, the container below it is.
    t.dir("/sys/fs/cgroup/pids/tinyctr-par", &[("cgroup.procs", "")]);
    t.dir("/sys/fs/cgroup/pids/tinyctr-par/tinyctr-live", &[("cgroup.procs", "")]);
    let live = CString::new(t.path("/sys/fs/cgroup/pids/tinyctr-par/tinyctr-live").to_str().unwrap()).unwrap();
    let held = fs::open_dir(CWD, &live).unwrap();
    fs::lock(held.as_fd(), false).unwrap();
    sweep_after(&l, &limits(&[(LimitKey::PidsLimit, "5")]), 12);
    assert!(exists(&t.path("/sys/fs/cgroup/pids/tinyctr-par/tinyctr-live")), "a live container is never swept");
    // Once its lock is gone, the next sweep removes both.
    drop(held);
    sweep_after(&l, &limits(&[(LimitKey::PidsLimit, "5")]), 12);
    assert!(!exists(&t.path("/sys/fs/cgroup/pids/tinyctr-par")));
}

#[test]
fn a_dead_runs_tree_is_removed_only_where_no_lock_is_held() {
    // A stale-looking `--cgroup-parent /tinyctr-par/sub` (nobody's lock on either) where
    // a run has just made its cgroup, still empty, and locked it: the removal a sweep
    // does never takes it (it once did, when a look for locks came first and the
    // removal after: the run made its cgroup in between).
    let t = Tree::new();
    t.dir("/cg/tinyctr-par/sub/tinyctr-new", &[("cgroup.procs", "")]);
    t.dir("/cg/tinyctr-par/dead", &[("cgroup.procs", "")]);
    let at = |rel: &str| fs::open_dir(CWD, CString::new(t.path(rel).to_str().unwrap()).unwrap().as_c_str()).unwrap();
    let new = at("/cg/tinyctr-par/sub/tinyctr-new");
    fs::lock(new.as_fd(), false).unwrap();
    let root = at("/cg");
    assert!(fs::remove_tree(root.as_fd(), c"tinyctr-par", true, 0, fs::Removal::IfEmpty).is_err());
    assert!(exists(&t.path("/cg/tinyctr-par/sub/tinyctr-new")), "a live run's cgroup was removed");
    // A parent a run holds (it is making its cgroup below) is spared as well.
    drop(new);
    let sub = at("/cg/tinyctr-par/sub");
    fs::lock(sub.as_fd(), false).unwrap();
    fs::sweep(root.as_fd(), true);
    assert!(exists(&t.path("/cg/tinyctr-par/sub/tinyctr-new")), "removed below a held parent");
    // Once nothing is held, the whole dead tree goes.
    drop(sub);
    fs::sweep(at("/cg").as_fd(), true);
    assert!(!exists(&t.path("/cg/tinyctr-par")));
}

/// An OCI cgroupsPath (`exact`): the cgroup in every hierarchy, a limit there or not.
#[cfg(feature = "oci")]
fn exact(opts: &[(LimitKey, &str)]) -> Limits<'static> {
    let mut l = limits(opts);
    l.exact = true;
    l.name = Some(c"c1");
    l.cgroup_parent = Some(c"/pod");
    l
}

#[cfg(feature = "oci")]
#[test]
fn an_oci_cgroups_path_is_made_in_every_hierarchy() {
    let (t, l) = hybrid_tree(true);
    for h in ["memory", "cpu", "cpuset", "pids", "unified"] {
        // (A fake parent's files are copied into the new cgroup: these serve every one.)
        let files = [("cgroup.procs", ""), ("pids.max", ""), ("cpuset.cpus", "0-3\n"), ("cpuset.mems", "0\n")];
        t.dir(&format!("/sys/fs/cgroup/{h}/pod"), &files);
    }
    let cg = create_in(&l, &exact(&[(LimitKey::PidsLimit, "5")]), 9).must();
    assert_eq!(t.read("/sys/fs/cgroup/pids/pod/c1/pids.max"), "5");
    for h in ["memory", "cpu", "cpuset", "unified"] {
        assert!(exists(&t.path(&format!("/sys/fs/cgroup/{h}/pod/c1"))), "no cgroup in {h}");
    }
    assert_eq!(t.read("/sys/fs/cgroup/cpuset/pod/c1/cpuset.cpus"), "0-3", "a v1 cpuset is filled from its parent");
    drop(cg);
    for h in ["memory", "cpu", "cpuset", "pids", "unified"] {
        assert!(!exists(&t.path(&format!("/sys/fs/cgroup/{h}/pod/c1"))), "{h} left");
        assert!(exists(&t.path(&format!("/sys/fs/cgroup/{h}/pod"))), "the existing parent in {h} removed");
    }
}

#[cfg(feature = "oci")]
#[test]
fn an_oci_cgroups_path_on_v2_gets_every_controller() {
    let (t, l) = v2_tree();
    t.dir("/sys/fs/cgroup/pod", &v2_files());
    let cg = create_in(&l, &exact(&[(LimitKey::PidsLimit, "5")]), 9).must();
    assert_eq!(t.read("/sys/fs/cgroup/pod/c1/pids.max"), "5");
    // pids first, for the limit; then the rest, as far as the kernel lets (a fake tree
    // takes each write whole, so the last one stays).
    assert_eq!(t.read("/sys/fs/cgroup/pod/cgroup.subtree_control"), "+memory +cpu +cpuset");
    assert_eq!(t.read("/sys/fs/cgroup/cgroup.subtree_control"), "+memory +cpu +cpuset");
    drop(cg);
    assert!(!exists(&t.path("/sys/fs/cgroup/pod/c1")));
}

/// `run`'s default: docker's device list in a cgroup of the devices hierarchy (v1 wins
/// on a hybrid host), which the child joins itself once the rules are in; nothing in
/// the unified one; with a limit too, one more cgroup; all removed.
#[test]
fn the_device_list_goes_to_the_v1_devices_hierarchy() {
    let (t, l) = hybrid_tree(true);
    let mut lim = limits(&[]);
    lim.devices = true;
    let mut cg = create_in(&l, &lim, 77).must();
    let dev = "/sys/fs/cgroup/devices/tinyctr-77";
    // Written once the child exists, not at create.
    assert_eq!(t.read(&format!("{dev}/devices.deny")), "");
    cg.write_devices(&[]).must();
    // One write per rule, through one descriptor per file (a fake file keeps them all):
    // deny all first, then the allow rules in docker's order.
    assert_eq!(t.read(&format!("{dev}/devices.deny")), "a *:* rwm");
    let allowed = "c *:* m|b *:* m|c 1:3 rwm|c 1:5 rwm|c 1:7 rwm|c 1:8 rwm|c 1:9 rwm|c 5:0 rwm|c 5:1 rwm|c 5:2 rwm|c 10:200 rwm|c 136:* rwm";
    assert_eq!(t.read(&format!("{dev}/devices.allow")), allowed.replace('|', ""));
    assert!(!exists(&t.path("/sys/fs/cgroup/unified/tinyctr-77")));
    assert!(!exists(&t.path("/sys/fs/cgroup/pids/tinyctr-77")));
    assert!(cg.clone_into_fd().is_none());
    // Joined late, once the rules are written (not with the others, first thing).
    let mut fds = [0; crate::cgroup::layout::MAX_HIERS];
    assert_eq!(cg.self_joins(&mut fds), 0);
    assert!(cg.late_join().is_some());
    cg.destroy().must();
    assert!(!exists(&t.path(dev)));
    assert_eq!(t.read("/sys/fs/cgroup/devices/devices.deny"), "", "nothing written to tinyctr's own");

    lim.pids = Some(5);
    let mut cg = create_in(&l, &lim, 78).must();
    assert_eq!(t.read("/sys/fs/cgroup/pids/tinyctr-78/pids.max"), "5");
    assert_eq!(cg.self_joins(&mut fds), 1);
    assert!(cg.late_join().is_some());
    cg.destroy().must();
    assert!(!exists(&t.path("/sys/fs/cgroup/devices/tinyctr-78")));
}
