//! config.json as containerd and CRI write it, every bad value the parser refuses, and
//! the default config of `tinyctr spec` read back.

use core::ffi::CStr;

use linux_raw_sys::general::*;

use super::config::{self, Config, HookKind, Rlimit};
use super::linux::{self, Action, Cond, DeviceRule, IdMap, Ns, Op, READ, WRITE};
use super::{emit, names, spec};

/// Parses `text` and hands the config to `f` (the buffer must outlive it).
fn with<R>(text: &[u8], f: impl FnOnce(&Config<'_>) -> R) -> R {
    let mut buf = text.to_vec();
    match config::parse(&mut buf, "config.json") {
        Ok(c) => f(&c),
        Err(e) => panic!("{}", String::from_utf8_lossy(e.msg.as_bytes())),
    }
}

/// The message of `r`'s error, or a panic with it.
fn ok<T>(r: crate::error::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{}", String::from_utf8_lossy(e.msg.as_bytes())))
}

fn err(text: &str) -> String {
    let mut buf = text.as_bytes().to_vec();
    match config::parse(&mut buf, "config.json") {
        Ok(_) => panic!("parsed: {text}"),
        Err(e) => {
            assert_eq!(e.status, 125);
            String::from_utf8_lossy(e.msg.as_bytes()).into_owned()
        }
    }
}

/// `tmpcopyup` (runc's extension) is no filesystem data: it marks the mount, and
/// `notmpcopyup` after it clears the mark; a longer word is data.
#[test]
fn tmpcopyup_is_a_mark_not_data() {
    let doc = br#"{"mounts": [
        {"destination": "/run", "type": "tmpfs", "options": ["rw", "tmpcopyup", "size=1m"]},
        {"destination": "/tmp", "type": "tmpfs", "options": ["tmpcopyup", "notmpcopyup"]},
        {"destination": "/x", "type": "tmpfs", "options": ["xtmpcopyup"]}]}"#;
    with(doc, |c| {
        let got: Vec<_> = c.mounts.iter().map(|m| (m.copy_up, m.data.get())).collect();
        assert_eq!(got, [(true, c"size=1m"), (false, c""), (false, c"xtmpcopyup")]);
    });
}

fn strs<'a>(l: super::json::StrList<'a>) -> Vec<&'a str> {
    l.iter().map(|c| c.to_str().unwrap()).collect()
}

fn caps(list: &[&str]) -> u64 {
    list.iter().map(|n| 1u64 << names::find(names::CAPS, "CAP_", n.as_bytes()).unwrap()).sum()
}

const DOCKER: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// The config.json containerd 1.6.20 wrote here for `ctr run IMAGE t1 sh -c '...'`
/// (captured from the bundle by a wrapper runtime).
#[test]
fn ctr_run() {
    with(include_bytes!("../../tests/fixtures/oci/ctr-run.json"), |c| {
        assert_eq!(c.oci_version, c"1.0.2-dev");
        let r = c.root.unwrap();
        assert_eq!((r.path.get(), r.readonly), (c"rootfs", false));
        assert!(c.hostname.is_empty());
        let p = c.process.unwrap();
        assert!(!p.terminal);
        assert_eq!((p.user.uid, p.user.gid, &p.user.additional_gids[..], p.user.umask), (0, 0, &[0][..], None));
        assert_eq!(strs(p.args), ["sh", "-c", "echo hello; id"]);
        assert_eq!(strs(p.env), ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
        assert_eq!(p.cwd, c"/");
        let k = p.capabilities.unwrap();
        assert_eq!(k.bounding, names::DOCKER_CAPS);
        assert_eq!(k.bounding, caps(&DOCKER));
        assert_eq!((k.effective, k.permitted, k.inheritable, k.ambient), (k.bounding, k.bounding, 0, 0));
        assert_eq!(&p.rlimits[..], [Rlimit { resource: RLIMIT_NOFILE, soft: 1024, hard: 1024 }]);
        assert!(p.no_new_privileges);
        assert_eq!(p.oom_score_adj, None);

        let m: Vec<(&CStr, &CStr, &CStr, u32, &CStr)> = c
            .mounts
            .iter()
            .map(|m| (m.destination.get(), m.fstype.get(), m.source.get(), m.flags, m.data.get()))
            .collect();
        assert_eq!(
            m,
            [
                (c"/proc", c"proc", c"proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, c""),
                (c"/dev", c"tmpfs", c"tmpfs", MS_NOSUID | MS_STRICTATIME, c"mode=755,size=65536k"),
                (
                    c"/dev/pts",
                    c"devpts",
                    c"devpts",
                    MS_NOSUID | MS_NOEXEC,
                    c"newinstance,ptmxmode=0666,mode=0620,gid=5"
                ),
                (c"/dev/shm", c"tmpfs", c"shm", MS_NOSUID | MS_NOEXEC | MS_NODEV, c"mode=1777,size=65536k"),
                (c"/dev/mqueue", c"mqueue", c"mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, c""),
                (c"/sys", c"sysfs", c"sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, c""),
                (c"/run", c"tmpfs", c"tmpfs", MS_NOSUID | MS_STRICTATIME, c"mode=755,size=65536k"),
            ]
        );
        assert!(c.mounts.iter().all(|m| m.propagation == 0));

        let l = &c.linux;
        assert_eq!(l.cgroups_path, c"/default/t1");
        assert_eq!(l.namespaces.listed, 0b11111, "pid network mount ipc uts");
        assert_eq!(l.namespaces.new_flags(), CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS);
        assert!(l.namespaces.path(Ns::Network).is_none() && !l.namespaces.has(Ns::User));
        let d = &l.resources.devices;
        assert_eq!(d.len(), 10);
        assert_eq!(d[0], DeviceRule { allow: false, kind: b'a', major: -1, minor: -1, access: 7 });
        assert_eq!(d[1], DeviceRule { allow: true, kind: b'c', major: 1, minor: 3, access: 7 });
        assert_eq!(d[8], DeviceRule { allow: true, kind: b'c', major: 136, minor: -1, access: 7 });
        assert_eq!(l.resources.cpu.shares, Some(1024));
        assert_eq!((l.resources.memory.limit, l.resources.pids_limit), (None, None));
        assert_eq!(
            strs(l.masked_paths),
            [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi"
            ]
        );
        assert_eq!(strs(l.readonly_paths), ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
        assert!(!l.seccomp.enabled && l.sysctl.is_empty() && l.uid_mappings.is_empty() && l.rootfs_propagation == 0);
        assert!(c.hooks.get(HookKind::Prestart).is_empty() && c.annotations.is_empty());
    });
}

/// `ctr run --memory-limit 67108864 --cpus 0.5 --mount type=bind,src=/tmp,dst=/mnt,options=rbind:ro
/// --with-ns network:/proc/1/ns/net --seccomp --env FOO=bar --cwd /tmp --read-only
/// --annotation io.example/a=b --rootfs-propagation rslave`, captured the same way:
/// containerd's default seccomp profile, a namespace joined by path.
#[test]
fn ctr_run_with_options() {
    with(include_bytes!("../../tests/fixtures/oci/ctr-run-seccomp.json"), |c| {
        assert!(c.root.unwrap().readonly);
        let p = c.process.unwrap();
        assert_eq!(p.cwd, c"/tmp");
        assert_eq!(strs(p.env)[1], "FOO=bar");
        let bind = c.mounts.last().unwrap();
        assert_eq!((bind.destination.get(), bind.fstype.get(), bind.source.get()), (c"/mnt", c"bind", c"/tmp"));
        assert_eq!((bind.flags, bind.data.get()), (MS_BIND | MS_REC | MS_RDONLY, c""));
        let l = &c.linux;
        assert_eq!(l.cgroups_path, c"/default/t2");
        assert_eq!(l.namespaces.path(Ns::Network), Some(c"/proc/1/ns/net"));
        assert_eq!(l.namespaces.new_flags(), CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS);
        assert_eq!(l.resources.memory.limit, Some(67_108_864));
        assert_eq!((l.resources.cpu.quota, l.resources.cpu.period), (Some(50_000), Some(100_000)));
        assert_eq!(l.rootfs_propagation, MS_SLAVE | MS_REC);
        assert_eq!(c.annotations, br#"{"io.example/a":"b"}"#);
        let s = &l.seccomp;
        assert!(s.enabled);
        assert_eq!((s.default_action, s.default_errno, s.archs), (Action::Errno, 1, 0b111));
        assert_eq!(s.rules.len(), 11);
        assert_eq!(s.rules.iter().map(|r| r.names.len()).sum::<usize>(), 360);
        assert_eq!(s.all_conds.len(), 6);
        assert!(s.rules[0].names.iter().any(|n| n == c"accept4"));
        assert_eq!(s.rules[10].action, Action::Errno);
        // Each rule's conditions are its own.
        let with_conds: usize = s.rules.iter().map(|r| s.conds(r).len()).sum();
        assert_eq!(with_conds, 6);
        assert!(s.rules.iter().flat_map(|r| s.conds(r)).all(|c| c.arg <= 5));
    });
}

/// `ctr run --privileged`: every capability tinyctr knows but CHECKPOINT_RESTORE (40 of 41).
#[test]
fn ctr_run_privileged() {
    with(include_bytes!("../../tests/fixtures/oci/ctr-run-privileged.json"), |c| {
        let k = c.process.unwrap().capabilities.unwrap();
        assert_eq!(k.bounding.count_ones(), 40);
        assert_eq!(
            &c.linux.resources.devices[..],
            [DeviceRule { allow: true, kind: b'a', major: -1, minor: -1, access: 7 }]
        );
    });
}

/// What CRI adds (hand-written after containerd's container_create_linux.go): namespaces
/// joined by path, a user namespace with maps, sysctls, a seccomp profile with argument
/// conditions, hooks, Kubernetes annotations, kubelet's cgroup path.
#[test]
fn cri_like() {
    with(include_bytes!("../../tests/fixtures/oci/cri.json"), |c| {
        assert_eq!(c.hostname, c"web-0");
        let r = c.root.unwrap();
        assert_eq!(r.path, c"/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs");
        let p = c.process.unwrap();
        assert_eq!((p.user.uid, p.user.gid, p.user.umask), (65534, 65534, Some(0o22)));
        assert_eq!(&p.user.additional_gids[..], [65534, 2000, 3000]);
        assert_eq!(strs(p.args), ["/pause-less/app", "--listen", ":8080", "café \"quoted\"\ttab"]);
        assert_eq!(strs(p.env)[3], "EMPTY=");
        let k = p.capabilities.unwrap();
        assert_eq!(k.bounding, caps(&["CAP_CHOWN", "CAP_NET_BIND_SERVICE"]));
        assert_eq!((k.effective, k.ambient, k.inheritable), (1 << 10, 1 << 10, 0));
        assert_eq!(
            &p.rlimits[..],
            [
                Rlimit { resource: RLIMIT_NOFILE, soft: 1024, hard: 1_048_576 },
                Rlimit { resource: RLIMIT_CORE, soft: 0, hard: u64::MAX }
            ]
        );
        assert_eq!((p.oom_score_adj, p.no_new_privileges), (Some(-997), false));
        assert_eq!((p.apparmor_profile.get(), p.selinux_label.get()), (c"cri-containerd.apparmor.d", c""));

        assert_eq!(c.mounts.len(), 9);
        let hosts = &c.mounts[3];
        assert_eq!(
            (hosts.flags, hosts.propagation, hosts.data.non_empty()),
            (MS_BIND | MS_REC, MS_PRIVATE | MS_REC, None)
        );
        let resolv = &c.mounts[4];
        assert_eq!(resolv.flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        let overlay = &c.mounts[7];
        assert_eq!(
            (overlay.flags, overlay.data.get()),
            (MS_NODEV, c"lowerdir=/l1:/l2,upperdir=/u,workdir=/w,index=off")
        );
        let shared = &c.mounts[8];
        assert_eq!(
            (shared.fstype.get(), shared.flags, shared.propagation),
            (c"", MS_BIND | MS_REC | MS_NOATIME, MS_SHARED | MS_REC)
        );

        let h = c.hooks.get(HookKind::CreateRuntime);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].path, c"/usr/bin/nvidia-container-runtime-hook");
        assert_eq!(strs(h[0].args), ["nvidia-container-runtime-hook", "prestart"]);
        assert_eq!(strs(h[0].env), ["NVIDIA_VISIBLE_DEVICES=all"]);
        assert_eq!(h[0].timeout, None);
        assert_eq!(c.hooks.get(HookKind::Poststart)[0].timeout, Some(5));
        let stop = c.hooks.get(HookKind::Poststop);
        assert_eq!((stop.len(), stop[1].path.get(), stop[1].args.len()), (2, c"/usr/local/bin/log", 0));
        assert!(c.hooks.get(HookKind::Prestart).is_empty() && c.hooks.get(HookKind::StartContainer).is_empty());
        assert!(c.annotations.starts_with(b"{\n    \"io.kubernetes.cri.container-type\": \"container\","));
        assert!(c.annotations.ends_with(b"\"web\"\n  }"));

        let l = &c.linux;
        assert_eq!(&l.uid_mappings[..], [IdMap { container: 0, host: 100_000, size: 65536 }]);
        assert_eq!(l.gid_mappings[1], IdMap { container: 65536, host: 300_000, size: 1 });
        let sysctl: Vec<(&CStr, &CStr)> = l.sysctl.iter().map(|s| (s.key.get(), s.value.get())).collect();
        assert_eq!(
            sysctl,
            [
                (c"net.ipv4.ip_unprivileged_port_start", c"0"),
                (c"net.core.somaxconn", c"1024"),
                (c"kernel.shm_rmid_forced", c"1")
            ]
        );
        let res = &l.resources;
        assert_eq!(
            (res.memory.limit, res.memory.swap, res.memory.reservation),
            (Some(128 << 20), Some(256 << 20), Some(64 << 20))
        );
        assert_eq!((res.cpu.shares, res.cpu.quota, res.cpu.period), (Some(256), Some(20_000), Some(100_000)));
        assert_eq!((res.cpu.cpus.get(), res.cpu.mems.get(), res.pids_limit), (c"0-1", c"0", Some(4096)));
        assert_eq!(
            res.devices[1],
            DeviceRule { allow: true, kind: b'c', major: 195, minor: 255, access: READ | WRITE }
        );
        assert_eq!(res.devices[2], DeviceRule { allow: true, kind: b'b', major: -1, minor: -1, access: linux::MKNOD });
        assert_eq!(l.cgroups_path, c"/kubepods/burstable/pod2b4cd9b2/c1");
        let ns = &l.namespaces;
        assert_eq!(
            (ns.path(Ns::Ipc), ns.path(Ns::Uts), ns.path(Ns::Network)),
            (Some(c"/proc/4242/ns/ipc"), Some(c"/proc/4242/ns/uts"), Some(c"/proc/4242/ns/net"))
        );
        assert_eq!(ns.new_flags(), CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWCGROUP);
        assert!(!ns.has(Ns::Time));
        assert_eq!(strs(l.masked_paths), ["/proc/acpi", "/proc/kcore", "/sys/firmware"]);
        assert_eq!(l.rootfs_propagation, MS_PRIVATE | MS_REC);

        let s = &l.seccomp;
        assert_eq!((s.default_action, s.default_errno), (Action::Errno, 38));
        assert_eq!(s.rules.len(), 7);
        let actions: Vec<Action> = s.rules.iter().map(|r| r.action).collect();
        use Action::*;
        assert_eq!(actions, [Allow, Allow, Allow, Allow, Errno, KillProcess, Log]);
        assert_eq!(s.conds(&s.rules[0]), []);
        assert_eq!(s.conds(&s.rules[2]), [Cond { arg: 0, op: Op::Eq, value: 0xffff_ffff, value_two: 0 }]);
        assert_eq!(s.conds(&s.rules[3])[0].op, Op::MaskedEq);
        assert_eq!((s.rules[4].errno, s.rules[5].errno), (1, 1));
        assert_eq!(
            s.conds(&s.rules[6]),
            [Cond { arg: 0, op: Op::Ne, value: 40, value_two: 0 }, Cond { arg: 1, op: Op::Le, value: 3, value_two: 0 }]
        );
    });
}

#[test]
fn exec_process_and_update_resources() {
    let mut buf = br#"{"terminal":true,"user":{"uid":1000,"gid":1000},"args":["/bin/sh"],"env":["A=1"],"cwd":"/",
        "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},"noNewPrivileges":true}"#
        .to_vec();
    let p = ok(config::parse_process(&mut buf, "process.json"));
    assert!(p.terminal && p.no_new_privileges);
    assert_eq!((p.user.uid, strs(p.args), p.capabilities.unwrap().bounding), (1000, vec!["/bin/sh"], 1 << 5));
    let mut buf = br#"{"args":[], "cwd":"/"}"#.to_vec();
    let e = config::parse_process(&mut buf, "process.json").err().unwrap();
    assert_eq!(e.msg.as_bytes(), b"process.json: \"args\" is empty");

    let mut buf =
        br#"{"memory":{"limit":-1,"swap":-1},"cpu":{"shares":2,"quota":-1},"pids":{"limit":0},"blockIO":{}}"#.to_vec();
    let r = ok(linux::parse_resources(&mut buf, "resources"));
    assert_eq!(
        (r.memory.limit, r.memory.swap, r.cpu.shares, r.cpu.quota, r.pids_limit),
        (Some(-1), Some(-1), Some(2), Some(-1), Some(0))
    );
    let mut buf = br#"{"memory":{"limit":-2}}"#.to_vec();
    let e = linux::parse_resources(&mut buf, "resources").err().unwrap();
    assert_eq!(e.msg.as_bytes(), b"resources: memory.limit: out of range (-1 to 9223372036854775807)");
}

/// Every member tinyctr knows, with a bad value: the error names the member's path and
/// what is wrong with it.
#[test]
fn bad_values_name_their_path() {
    let p = |inner: &str| format!(r#"{{"process":{{"args":["sh"],"cwd":"/",{inner}}}}}"#);
    let l = |inner: &str| format!(r#"{{"linux":{{{inner}}}}}"#);
    let cases: &[(String, &str)] = &[
        (r#"{"ociVersion":1}"#.into(), "ociVersion: not a string"),
        (r#"{"root":{"readonly":true}}"#.into(), "root: \"path\" is required"),
        (r#"{"root":{"path":"r","readonly":"yes"}}"#.into(), "root.readonly: not a boolean"),
        (r#"{"hostname":["a"]}"#.into(), "hostname: not a string"),
        (r#"{"domainname":1}"#.into(), "domainname: not a string"),
        (
            r#"{"mounts":[{"destination":"/d","uidMappings":[{"containerID":0,"hostID":1000,"size":1}]}]}"#.into(),
            "mounts[0].uidMappings[0]: idmapped mounts are not supported (leave the mappings out)",
        ),
        (p(r#""scheduler":{"policy":"SCHED_FIFO"}"#), "process.scheduler: a scheduling policy (process.scheduler) is not supported (leave it out)"),
        (p(r#""ioPriority":{"class":"IOPRIO_CLASS_IDLE"}"#), "process.ioPriority: an I/O priority (process.ioPriority) is not supported (leave it out)"),
        (r#"{"process":{"cwd":"/"}}"#.into(), "process: \"args\" is required"),
        (r#"{"process":{"args":["sh"]}}"#.into(), "process: \"cwd\" is required"),
        (r#"{"process":{"args":["sh"],"cwd":""}}"#.into(), "process: \"cwd\" is empty"),
        (r#"{"process":{"args":["sh"],"cwd":"tmp"}}"#.into(), "process.cwd: not an absolute path: 'tmp'"),
        (r#"{"process":{"args":"sh","cwd":"/"}}"#.into(), "process.args: not an array"),
        (r#"{"process":{"args":["sh",1],"cwd":"/"}}"#.into(), "process.args[1]: not a string"),
        (r#"{"process":{"args":["a\u0000b"],"cwd":"/"}}"#.into(), "process.args[0]: holds a NUL (\\u0000): 'a\\x00b'"),
        (p(r#""terminal":1"#), "process.terminal: not a boolean"),
        (p(r#""env":["A=1",null]"#), "process.env[1]: not a string"),
        (p(r#""user":{"uid":-1}"#), "process.user.uid: not an unsigned integer"),
        (p(r#""user":{"uid":4294967295}"#), "process.user.uid: out of range (0 to 4294967294)"),
        (p(r#""user":{"gid":1.5}"#), "process.user.gid: not an unsigned integer"),
        (p(r#""user":{"umask":512}"#), "process.user.umask: out of range (0 to 511)"),
        (p(r#""user":{"additionalGids":[1,"2"]}"#), "process.user.additionalGids[1]: not an unsigned integer"),
        (
            p(r#""capabilities":{"bounding":["CAP_CHOWN","CAP_NOPE"]}"#),
            "process.capabilities.bounding[1]: unknown capability 'CAP_NOPE'",
        ),
        (p(r#""capabilities":{"ambient":["chown"]}"#), "process.capabilities.ambient[0]: unknown capability 'chown'"),
        (p(r#""capabilities":{"effective":"CAP_KILL"}"#), "process.capabilities.effective: not an array"),
        (
            p(r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":2},{"type":"RLIMIT_CPU","soft":1,"hard":"2"}]"#),
            "process.rlimits[1].hard: not an unsigned integer",
        ),
        (
            p(r#""rlimits":[{},{},{"type":"RLIMIT_NOFILE","soft":1,"hard":-2}]"#),
            "process.rlimits[0]: \"type\" is required",
        ),
        (
            p(r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":2},{"type":"RLIMIT_CPU","soft":1,"hard":1.5}]"#),
            "process.rlimits[1].hard: not an unsigned integer",
        ),
        (p(r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":1}]"#), "process.rlimits[0]: \"hard\" is required"),
        (
            p(r#""rlimits":[{"type":"RLIMIT_FOO","soft":1,"hard":1}]"#),
            "process.rlimits[0].type: unknown resource 'RLIMIT_FOO'",
        ),
        (
            p(r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":2,"hard":1}]"#),
            "process.rlimits[0]: the soft limit is above the hard one",
        ),
        (
            p(r#""rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":1},{"type":"RLIMIT_NOFILE","soft":1,"hard":1}]"#),
            "process.rlimits: names a resource twice: 'NOFILE'",
        ),
        (p(r#""noNewPrivileges":"true""#), "process.noNewPrivileges: not a boolean"),
        (p(r#""oomScoreAdj":1001"#), "process.oomScoreAdj: out of range (-1000 to 1000)"),
        (r#"{"mounts":{}}"#.into(), "mounts: not an array"),
        (r#"{"mounts":[{"type":"tmpfs"}]}"#.into(), "mounts[0]: \"destination\" is required"),
        (r#"{"mounts":[{"destination":"","type":"tmpfs"}]}"#.into(), "mounts[0]: \"destination\" is empty"),
        (r#"{"root":{"path":""}}"#.into(), "root: \"path\" is empty"),
        (r#"{"hooks":{"poststop":[{"path":""}]}}"#.into(), "hooks.poststop[0]: \"path\" is empty"),
        (r#"{"mounts":[{"destination":"/a","options":["ro",7]}]}"#.into(), "mounts[0].options[1]: not a string"),
        (r#"{"mounts":[{"destination":"/a","source":{}}]}"#.into(), "mounts[0].source: not a string"),
        (r#"{"hooks":{"poststop":[{"args":["x"]}]}}"#.into(), "hooks.poststop[0]: \"path\" is required"),
        (r#"{"hooks":{"prestart":[{"path":"hook"}]}}"#.into(), "hooks.prestart[0].path: not an absolute path: 'hook'"),
        (
            r#"{"hooks":{"poststart":[{"path":"/h","timeout":0}]}}"#.into(),
            "hooks.poststart[0].timeout: must be at least 1 (seconds)",
        ),
        (r#"{"hooks":{"createRuntime":{"path":"/h"}}}"#.into(), "hooks.createRuntime: not an array"),
        (r#"{"annotations":["a"]}"#.into(), "annotations: not an object"),
        (
            l(r#""namespaces":[{"type":"pid"},{"type":"net"}]"#),
            "linux.namespaces[1].type: unknown namespace type 'net'",
        ),
        (l(r#""namespaces":[{"path":"/proc/1/ns/net"}]"#), "linux.namespaces[0]: \"type\" is required"),
        (
            l(r#""namespaces":[{"type":"network","path":"proc/1/ns/net"}]"#),
            "linux.namespaces[0].path: not an absolute path: 'proc/1/ns/net'",
        ),
        (
            l(r#""namespaces":[{"type":"pid"},{"type":"pid"}]"#),
            "linux.namespaces[1]: names a type an earlier entry names",
        ),
        (l(r#""uidMappings":[{"containerID":0,"hostID":1000}]"#), "linux.uidMappings[0]: \"size\" is required"),
        (
            l(r#""gidMappings":[{"containerID":0,"hostID":1000,"size":0}]"#),
            "linux.gidMappings[0].size: must be at least 1",
        ),
        (
            l(r#""gidMappings":[{"containerID":0,"hostID":4294967296,"size":1}]"#),
            "linux.gidMappings[0].hostID: out of range (0 to 4294967295)",
        ),
        (l(r#""cgroupsPath":"/a/../b""#), "linux.cgroupsPath: has a . or .. component: '/a/../b'"),
        (l(r#""resources":{"memory":{"limit":"1g"}}"#), "linux.resources.memory.limit: not an integer"),
        (
            l(r#""resources":{"memory":{"swap":-2}}"#),
            "linux.resources.memory.swap: out of range (-1 to 9223372036854775807)",
        ),
        (l(r#""resources":{"cpu":{"shares":-1}}"#), "linux.resources.cpu.shares: not an unsigned integer"),
        (l(r#""resources":{"cpu":{"cpus":"0-"}}"#), "linux.resources.cpu.cpus: is not a CPU list (try 0-2,4) '0-'"),
        (
            l(r#""resources":{"cpu":{"mems":"2-1"}}"#),
            "linux.resources.cpu.mems: is not a CPU list: a range goes from low to high (try 0-2,4) '2-1'",
        ),
        (l(r#""resources":{"pids":{}}"#), "linux.resources.pids: \"limit\" is required"),
        (
            l(r#""resources":{"hugepageLimits":[{"pageSize":"2M","limit":0}]}"#),
            "linux.resources.hugepageLimits[0].pageSize: is not a page size (digits, then KB, MB, GB, TB or PB): '2M'",
        ),
        (l(r#""mountLabel":"system_u:object_r:container_file_t:s0""#), "linux.mountLabel: SELinux mount labels are not supported (leave it out): 'system_u:object_r:container_file_t:s0'"),
        (l(r#""intelRdt":{"closID":"guaranteed_group"}"#), "linux.intelRdt: Intel RDT (resctrl) is not supported (leave it out)"),
        (l(r#""personality":{"domain":"LINUX32"}"#), "linux.personality.domain: is not supported (only LINUX, the default): 'LINUX32'"),
        (
            l(r#""resources":{"unified":{"../cgroup.procs":"1"}}"#),
            "linux.resources.unified.../cgroup.procs: is not a cgroup v2 file name (controller.file): '../cgroup.procs'",
        ),
        (
            l(r#""resources":{"hugepageLimits":[{"pageSize":"2MB"}]}"#),
            "linux.resources.hugepageLimits[0]: \"limit\" is required",
        ),
        (l(r#""resources":{"devices":[{"access":"rwm"}]}"#), "linux.resources.devices[0]: \"allow\" is required"),
        (
            l(r#""resources":{"devices":[{"allow":true,"type":"x"}]}"#),
            "linux.resources.devices[0].type: not a device type (a, b or c): 'x'",
        ),
        (
            l(r#""resources":{"devices":[{"allow":true,"major":-2}]}"#),
            "linux.resources.devices[0].major: out of range (-1 to 4294967295)",
        ),
        (
            l(r#""resources":{"devices":[{"allow":true,"access":"rwx"}]}"#),
            "linux.resources.devices[0].access: not device access (r, w, m): 'rwx'",
        ),
        (l(r#""maskedPaths":["/proc/kcore","sys"]"#), "linux.maskedPaths[1]: not an absolute path: 'sys'"),
        (l(r#""readonlyPaths":[true]"#), "linux.readonlyPaths[0]: not a string"),
        (l(r#""sysctl":{"net.core.somaxconn":1024}"#), "linux.sysctl.net.core.somaxconn: not a string"),
        (l(r#""sysctl":{"":"1"}"#), "linux.sysctl.: is not a sysctl name"),
        (l(r#""rootfsPropagation":"ro""#), "linux.rootfsPropagation: not a propagation type 'ro'"),
        (l(r#""seccomp":{"syscalls":[]}"#), "linux.seccomp: \"defaultAction\" is required"),
        (
            l(r#""seccomp":{"defaultAction":"SCMP_ACT_NOTIFY"}"#),
            "linux.seccomp.defaultAction: unknown or unsupported seccomp action 'SCMP_ACT_NOTIFY'",
        ),
        (
            l(r#""seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":4096}"#),
            "linux.seccomp.defaultErrnoRet: out of range (0 to 4095)",
        ),
        (
            l(r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_Z80"]}"#),
            "linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_Z80'",
        ),
        (
            l(r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"]}]}"#),
            "linux.seccomp.syscalls[0]: \"action\" is required",
        ),
        (
            l(
                r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_TRACE"}]}"#,
            ),
            "linux.seccomp.syscalls[0].action: unknown or unsupported seccomp action 'SCMP_ACT_TRACE'",
        ),
        (
            l(
                r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
            ),
            "linux.seccomp.syscalls[0].args[0].index: out of range (0 to 5)",
        ),
        (
            l(
                r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}"#,
            ),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator 'EQ'",
        ),
        (
            l(
                r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"op":"SCMP_CMP_EQ"}]}]}"#,
            ),
            "linux.seccomp.syscalls[0].args[0]: \"value\" is required",
        ),
        (
            l(
                r#""seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":-1}]}"#,
            ),
            "linux.seccomp.syscalls[0].errnoRet: not an unsigned integer",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text), format!("config.json: {want}"), "{text}");
    }
}

#[test]
fn limits_are_errors_past_them() {
    let many = |n: usize, one: &str| vec![one; n].join(",");
    let m = format!(r#"{{"mounts":[{}]}}"#, many(config::MAX_MOUNTS + 1, r#"{"destination":"/a"}"#));
    assert_eq!(err(&m), "config.json: mounts[128]: one too many: tinyctr takes at most 128");
    let m = format!(r#"{{"mounts":[{}]}}"#, many(config::MAX_MOUNTS, r#"{"destination":"/a"}"#));
    with(m.as_bytes(), |c| assert_eq!(c.mounts.len(), 128));
    let g = format!(r#"{{"process":{{"args":["sh"],"cwd":"/","user":{{"additionalGids":[{}]}}}}}}"#, many(65, "1"));
    assert_eq!(err(&g), "config.json: process.user.additionalGids[64]: one too many: tinyctr takes at most 64");
    let h = format!(r#"{{"hooks":{{"prestart":[{}]}}}}"#, many(9, r#"{"path":"/h"}"#));
    assert_eq!(err(&h), "config.json: hooks.prestart[8]: one too many: tinyctr takes at most 8");
    let c = many(linux::MAX_CONDS + 1, r#"{"index":0,"value":1,"op":"SCMP_CMP_EQ"}"#);
    let s = format!(
        r#"{{"linux":{{"seccomp":{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{c}]}}]}}}}}}"#
    );
    assert_eq!(err(&s), "config.json: linux.seccomp.syscalls[0].args[256]: one too many: tinyctr takes at most 256");
    // Lists of strings have no limit.
    let env: Vec<String> = (0..20_000).map(|i| format!("\"V{i}=x\"")).collect();
    let e = format!(r#"{{"process":{{"args":["sh"],"cwd":"/","env":[{}]}}}}"#, env.join(","));
    with(e.as_bytes(), |c| assert_eq!(c.process.unwrap().env.len(), 20_000));
}

/// Unknown members are ignored wherever they are, whatever their type; null is absent.
#[test]
fn unknown_members_are_skipped_and_null_is_absent() {
    let text = r#"{"x":{"y":[{"z":[1.5e10,null,"\u00e9"]}]},"process":{"args":["sh"],"cwd":"/","user":{"uid":5,"username":"u"},
        "consoleSize":{"height":1,"width":2},"capabilities":null,"rlimits":null},"linux":null,"mounts":null,"hostname":null}"#;
    with(text.as_bytes(), |c| {
        let p = c.process.unwrap();
        assert_eq!(p.user.uid, 5);
        assert!(p.capabilities.is_none() && p.rlimits.is_empty() && c.hostname.is_empty() && c.mounts.is_empty());
    });
    with(b"{}", |c| assert!(c.process.is_none() && c.root.is_none()));
}

/// `tinyctr spec`'s config.json is valid JSON that tinyctr reads back as what it says.
#[test]
fn spec_reads_back() {
    let mut buf = [0u8; 4096];
    let mut o = emit::Out::new(&mut buf);
    spec::default_config(&mut o);
    let text = o.done().unwrap().to_vec();
    with(&text, |c| {
        assert_eq!(c.oci_version, c"1.0.2");
        let r = c.root.unwrap();
        assert_eq!((r.path.get(), r.readonly, c.hostname.get()), (c"rootfs", true, c"tinyctr"));
        let p = c.process.unwrap();
        assert!(p.terminal && p.no_new_privileges);
        assert_eq!((strs(p.args), p.cwd.get(), p.user.uid), (vec!["sh"], c"/", 0));
        let k = p.capabilities.unwrap();
        assert_eq!(
            (k.bounding, k.effective, k.permitted, k.ambient),
            (names::DOCKER_CAPS, names::DOCKER_CAPS, names::DOCKER_CAPS, 0)
        );
        assert_eq!(&p.rlimits[..], [Rlimit { resource: RLIMIT_NOFILE, soft: 1024, hard: 1024 }]);
        let dest: Vec<&CStr> = c.mounts.iter().map(|m| m.destination.get()).collect();
        assert_eq!(dest, [c"/proc", c"/dev", c"/dev/pts", c"/dev/shm", c"/dev/mqueue", c"/sys", c"/sys/fs/cgroup"]);
        assert_eq!(
            c.linux.namespaces.new_flags(),
            CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS
        );
        assert_eq!(c.linux.masked_paths.len(), 10);
        assert_eq!(
            strs(c.linux.readonly_paths),
            ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        );
        assert_eq!(
            &c.linux.resources.devices[..],
            [DeviceRule { allow: false, kind: b'a', major: -1, minor: -1, access: 7 }]
        );
    });
}

/// The features document is JSON that lists what the parser takes.
#[test]
fn features_lists_the_tables() {
    let mut buf = [0u8; 4096];
    let mut o = emit::Out::new(&mut buf);
    emit::features(&mut o);
    let text = String::from_utf8(o.done().unwrap().to_vec()).unwrap();
    assert!(text.starts_with(
        r#"{"ociVersionMin":"1.0.0","ociVersionMax":"1.1.0","hooks":["prestart","createRuntime","createContainer","startContainer","poststart","poststop"],"#
    ));
    assert!(text.contains(r#""namespaces":["pid","network","mount","ipc","uts","user","cgroup","time"]"#));
    assert!(text.contains(r#""CAP_CHECKPOINT_RESTORE"]"#) && text.contains(r#""SCMP_CMP_MASKED_EQ"]"#));
    assert!(text.contains(r#""rbind","private""#) && !text.contains("SCMP_ACT_NOTIFY"));
    assert!(text.contains(r#""runbindable","tmpcopyup","notmpcopyup"],"linux""#));
    assert!(text.ends_with("\"intelRdt\":{\"enabled\":false}}}\n"));
    // The document itself reads as JSON, member by member.
    let mut b = text.into_bytes();
    ok(super::json::read(&mut b, "features", |j| j.skip()));
}
