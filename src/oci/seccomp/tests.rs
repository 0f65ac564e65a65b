//! The syscall table against linux-raw-sys and the header it was made from, and compiled
//! OCI profiles run through the BPF interpreter of the built-in profile's tests:
//! containerd's default profile against docker's built-in one, and small profiles for
//! each rule of how runc and libseccomp read a profile.

use super::*;
use crate::confine::bpf::{AUDIT_ARCH_X86_64, X32_BIT};
use crate::confine::seccomp::tests::{run, Data};
use crate::oci::config;

const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const EPERM: u32 = 0x0005_0001;
const ENOSYS: u32 = 0x0005_0026;
const ALLOW: u32 = 0x7fff_0000;
const KILL_THREAD: u32 = 0;

fn errno(e: u32) -> u32 {
    0x0005_0000 | e
}

/// Parses config.json `text`, compiles its profile; the program, or the error's message.
fn compiled(text: &str) -> core::result::Result<Vec<SockFilter>, String> {
    let mut buf = text.as_bytes().to_vec();
    let c =
        config::parse(&mut buf, "config.json").map_err(|e| String::from_utf8_lossy(e.msg.as_bytes()).into_owned())?;
    let s = &c.linux.seccomp;
    assert!(s.enabled);
    let room = max_len(s);
    let mut out = vec![SockFilter::default(); room];
    let n = compile(s, &mut out).map_err(|e| String::from_utf8_lossy(e.msg.as_bytes()).into_owned())?;
    assert!(n <= room);
    out.truncate(n);
    Ok(out)
}

/// A config.json with `seccomp` as its profile.
fn profile(seccomp: &str) -> String {
    format!(r#"{{"ociVersion":"1.0.2","linux":{{"seccomp":{seccomp}}}}}"#)
}

fn call(prog: &[SockFilter], nr: u32, args: [u64; 6]) -> u32 {
    run(prog, &Data { nr, arch: AUDIT_ARCH_X86_64, args }).0
}

fn nr(name: &str) -> u32 {
    number(name.as_bytes()).unwrap_or_else(|| panic!("{name}: no number")) as u32
}

#[test]
fn table_matches_linux_raw_sys() {
    use linux_raw_sys::general::*;
    macro_rules! check {
        ($($c:ident),* $(,)?) => { $(
            let name = &stringify!($c)["__NR_".len()..];
            assert_eq!(number(name.as_bytes()), Some($c as u16), "{name}");
        )* };
    }
    check!(
        __NR_read,
        __NR_write,
        __NR_open,
        __NR_close,
        __NR_stat,
        __NR_mmap,
        __NR_rt_sigaction,
        __NR_ioctl,
        __NR_pread64,
        __NR_access,
        __NR_select,
        __NR_mremap,
        __NR_shmget,
        __NR_dup2,
        __NR_getpid,
        __NR_sendfile,
        __NR_socket,
        __NR_connect,
        __NR_clone,
        __NR_fork,
        __NR_vfork,
        __NR_execve,
        __NR_exit,
        __NR_wait4,
        __NR_kill,
        __NR_uname,
        __NR_fcntl,
        __NR_mkdir,
        __NR_rmdir,
        __NR_chown,
        __NR_umask,
        __NR_ptrace,
        __NR_syslog,
        __NR_personality,
        __NR_ustat,
        __NR_sysfs,
        __NR_vhangup,
        __NR_modify_ldt,
        __NR_pivot_root,
        __NR__sysctl,
        __NR_prctl,
        __NR_arch_prctl,
        __NR_adjtimex,
        __NR_chroot,
        __NR_acct,
        __NR_settimeofday,
        __NR_mount,
        __NR_umount2,
        __NR_swapon,
        __NR_reboot,
        __NR_sethostname,
        __NR_iopl,
        __NR_init_module,
        __NR_quotactl,
        __NR_tuxcall,
        __NR_security,
        __NR_gettid,
        __NR_tkill,
        __NR_lookup_dcookie,
        __NR_epoll_create,
        __NR_set_tid_address,
        __NR_clock_settime,
        __NR_exit_group,
        __NR_vserver,
        __NR_mbind,
        __NR_kexec_load,
        __NR_waitid,
        __NR_add_key,
        __NR_keyctl,
        __NR_openat,
        __NR_mkdirat,
        __NR_unshare,
        __NR_splice,
        __NR_move_pages,
        __NR_utimensat,
        __NR_accept4,
        __NR_dup3,
        __NR_pipe2,
        __NR_perf_event_open,
        __NR_recvmmsg,
        __NR_fanotify_init,
        __NR_prlimit64,
        __NR_open_by_handle_at,
        __NR_setns,
        __NR_getcpu,
        __NR_process_vm_writev,
        __NR_kcmp,
        __NR_finit_module,
        __NR_sched_setattr,
        __NR_renameat2,
        __NR_seccomp,
        __NR_getrandom,
        __NR_memfd_create,
        __NR_bpf,
        __NR_execveat,
        __NR_userfaultfd,
        __NR_membarrier,
        __NR_mlock2,
        __NR_copy_file_range,
        __NR_preadv2,
        __NR_pkey_free,
        __NR_statx,
        __NR_io_pgetevents,
        __NR_rseq,
        __NR_uretprobe,
        __NR_pidfd_send_signal,
        __NR_io_uring_setup,
        __NR_open_tree,
        __NR_move_mount,
        __NR_fsopen,
        __NR_fspick,
        __NR_pidfd_open,
        __NR_clone3,
        __NR_close_range,
        __NR_openat2,
        __NR_pidfd_getfd,
        __NR_faccessat2,
        __NR_process_madvise,
        __NR_epoll_pwait2,
        __NR_mount_setattr,
        __NR_quotactl_fd,
        __NR_landlock_create_ruleset,
        __NR_landlock_restrict_self,
        __NR_memfd_secret,
        __NR_process_mrelease,
        __NR_futex_waitv,
        __NR_set_mempolicy_home_node,
        __NR_cachestat,
        __NR_fchmodat2,
        __NR_map_shadow_stack,
        __NR_futex_wake,
        __NR_futex_requeue,
        __NR_statmount,
        __NR_listmount,
        __NR_lsm_get_self_attr,
        __NR_lsm_list_modules,
        __NR_mseal,
        __NR_setxattrat,
        __NR_removexattrat,
        __NR_open_tree_attr,
        __NR_file_getattr,
        __NR_file_setattr,
    );
    assert_eq!(number(b"file_setattr"), Some(LAST));
    // Not x86_64 calls, and no word at all.
    for name in ["socketcall", "chown32", "mmap2", "umount", "", "read ", "rea"] {
        assert_eq!(number(name.as_bytes()), None, "{name:?}");
    }
}

/// Every name of <asm/unistd_64.h> has its number, and every word of the table is the
/// header's name for its number (or linux-raw-sys's, for the newer ones).
#[test]
fn table_matches_the_header() {
    let header = std::fs::read_to_string("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
        .expect("<asm/unistd_64.h> (linux-libc-dev) is needed");
    let mut named = 0;
    for line in header.lines() {
        let mut w = line.split_whitespace();
        if let (Some("#define"), Some(name), Some(n)) = (w.next(), w.next(), w.next()) {
            if let (Some(name), Ok(n)) = (name.strip_prefix("__NR_"), n.parse::<u16>()) {
                assert_eq!(number(name.as_bytes()), Some(n), "{name}");
                named += 1;
            }
        }
    }
    assert!(named > 300);
    let words: Vec<&str> = NAMES.split(' ').collect();
    assert_eq!(words.len(), LAST as usize + 1);
    for (i, w) in words.iter().enumerate().filter(|(_, w)| !w.is_empty()) {
        assert_eq!(number(w.as_bytes()), Some(i as u16), "{w}");
    }
    // The gap with no x86_64 syscalls.
    assert!(words[336..424].iter().all(|w| w.is_empty()));
}

#[test]
fn table_is_what_the_generator_makes() {
    let out = std::process::Command::new("python3").args(["tools/syscall-names.py", "--stdout"]).output();
    let made = match out {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        other => panic!("cannot run tools/syscall-names.py: {other:?}"),
    };
    assert!(made == include_str!("../syscalls.rs"), "src/oci/syscalls.rs is stale: run tools/syscall-names.py");
}

/// containerd's default profile (what `ctr run --seccomp` writes) decides every x86_64
/// number, and the calls through the other ABIs, as tinyctr's built-in docker profile
/// does for docker's default capabilities, but for the few places where the two
/// profiles themselves differ.
#[test]
fn containerd_profile_is_dockers() {
    let text = include_str!("../../../tests/fixtures/oci/ctr-run-seccomp.json");
    let oci = compiled(text).unwrap();
    let mut docker = vec![SockFilter::default(); crate::confine::seccomp::DEFAULT_MAX];
    let n = crate::confine::seccomp::compile_profile(names_caps(), (6 << 8) | 8, &mut docker).unwrap();
    docker.truncate(n);
    // Arguments that tell the conditional rules apart: personality's values, clone's
    // namespace flags, socket's families (docker's refuses AF_VSOCK, 40).
    let samples: [u64; 12] = [0, 1, 2, 8, 10, 16, 40, 45, 0x20000, 0x20008, 0xffff_ffff, 0x1000_0000];
    let mut differ = Vec::new();
    for nr in (0..600).chain([X32_BIT, X32_BIT + 1, X32_BIT + 59, u32::MAX]) {
        for &a0 in &samples {
            let args = [a0, 0, 0, 0, 0, 0];
            let (o, d) = (call(&oci, nr, args), call(&docker, nr, args));
            if o != d {
                differ.push((nr, a0, o, d));
            }
        }
    }
    for nr in [0, 5, 11, 120, 200, 500] {
        let d = Data { nr, arch: AUDIT_ARCH_I386, args: [0; 6] };
        assert_eq!((run(&oci, &d).0, run(&docker, &d).0), (EPERM, EPERM), "i386 {nr}");
    }
    // What the profiles themselves say differently (containerd's is an older copy of
    // moby's): containerd allows socket for every family (docker refuses AF_VSOCK and unknown ones) and the io_uring calls, leaves
    // out name_to_handle_at, process_vm_readv/writev and uretprobe, and names nothing
    // past futex_waitv (449), so that newer numbers get runc's ENOSYS.
    let below: Vec<u32> = differ
        .iter()
        .filter(|d| d.0 < 450)
        .map(|d| d.0)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let names = [
        "socket",
        "name_to_handle_at",
        "process_vm_readv",
        "process_vm_writev",
        "uretprobe",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
    ];
    assert_eq!(below, names.map(nr), "all differences: {differ:x?}");
    assert!(differ.iter().filter(|d| d.0 == nr("socket")).all(|d| d.2 == ALLOW && d.3 == EPERM));
    for nr in 450..600 {
        assert_eq!(call(&oci, nr, [0; 6]), ENOSYS, "{nr}");
    }
    assert!(differ.iter().all(|d| d.0 < 600), "{differ:x?}");
}

/// docker's default capabilities, as the fixture's bounding set.
fn names_caps() -> u64 {
    crate::oci::names::DOCKER_CAPS
}

/// A small allow-by-default profile: ERRNO with and without args, an unknown name, a rule
/// with the default action, and the 32-bit ABIs unlisted (so killed, as libseccomp does).
#[test]
fn errno_and_args_rules() {
    let p = compiled(&profile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
        {"names":["mkdir","mkdirat","no_such_call"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
        {"names":["unshare"],"action":"SCMP_ACT_ERRNO"},
        {"names":["getpid"],"action":"SCMP_ACT_ALLOW"},
        {"names":["kill"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":1,"value":9,"op":"SCMP_CMP_EQ"},{"index":0,"value":1,"op":"SCMP_CMP_LE"}]},
        {"names":["personality"],"action":"SCMP_ACT_TRAP","args":[{"index":0,"value":4294967296,"op":"SCMP_CMP_GE"}]},
        {"names":["fchmod"],"action":"SCMP_ACT_LOG","args":[{"index":1,"value":2048,"valueTwo":2048,"op":"SCMP_CMP_MASKED_EQ"}]}
        ]}"#,
    ))
    .unwrap();
    let c = |name: &str, args: [u64; 6]| call(&p, nr(name), args);
    assert_eq!(c("mkdir", [0; 6]), errno(38));
    assert_eq!(c("mkdirat", [0; 6]), errno(38));
    assert_eq!(c("unshare", [0; 6]), EPERM);
    assert_eq!(c("getpid", [0; 6]), ALLOW);
    assert_eq!(c("read", [0; 6]), ALLOW);
    // Both conditions (they compare different arguments).
    assert_eq!(c("kill", [1, 9, 0, 0, 0, 0]), 0x8000_0000);
    assert_eq!(c("kill", [0, 9, 0, 0, 0, 0]), 0x8000_0000);
    assert_eq!(c("kill", [2, 9, 0, 0, 0, 0]), ALLOW);
    assert_eq!(c("kill", [1, 15, 0, 0, 0, 0]), ALLOW);
    assert_eq!(c("kill", [1 << 32, 9, 0, 0, 0, 0]), ALLOW);
    // 64-bit comparisons.
    assert_eq!(c("personality", [1 << 32, 0, 0, 0, 0, 0]), 0x0003_0000);
    assert_eq!(c("personality", [0xffff_ffff, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(c("fchmod", [3, 0o4755, 0, 0, 0, 0]), 0x7ffc_0000);
    assert_eq!(c("fchmod", [3, 0o755, 0, 0, 0, 0]), ALLOW);
    // An allowing default: no ENOSYS stub (runc's needs a refusing one).
    assert_eq!(call(&p, 1000, [0; 6]), ALLOW);
    // Neither SCMP_ARCH_X86 nor SCMP_ARCH_X32: libseccomp's bad-arch action, KILL.
    assert_eq!(call(&p, X32_BIT | nr("mkdir"), [0; 6]), KILL_THREAD);
    assert_eq!(call(&p, X32_BIT | nr("read"), [0; 6]), KILL_THREAD);
    assert_eq!(run(&p, &Data { nr: 39, arch: AUDIT_ARCH_I386, args: [0; 6] }).0, KILL_THREAD);
}

/// How runc and libseccomp combine several rules for one syscall.
#[test]
fn several_rules_for_one_syscall() {
    let p = compiled(&profile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":13,"syscalls":[
        {"names":["read","write","close","exit_group","getpid","clone","openat","mkdir","unshare"],"action":"SCMP_ACT_ALLOW"},
        {"names":["write"],"action":"SCMP_ACT_KILL"},
        {"names":["close"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
        {"names":["ioctl"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
        {"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":21505,"op":"SCMP_CMP_EQ"}]},
        {"names":["fcntl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":3,"op":"SCMP_CMP_EQ"}]},
        {"names":["fcntl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":4,"op":"SCMP_CMP_EQ"}]},
        {"names":["lseek"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":0,"op":"SCMP_CMP_EQ"}]},
        {"names":["lseek"],"action":"SCMP_ACT_TRAP"},
        {"names":["dup"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":10,"op":"SCMP_CMP_LT"},{"index":1,"value":0,"op":"SCMP_CMP_NE"}]}
        ]}"#,
    ))
    .unwrap();
    let c = |name: &str, args: [u64; 6]| call(&p, nr(name), args);
    // The first unconditional rule decides: write stays allowed.
    assert_eq!(c("write", [0; 6]), ALLOW);
    // `close` ERRNO(13) is the default action: left out, ALLOW stands.
    assert_eq!(c("close", [0; 6]), ALLOW);
    // ioctl's ERRNO(13) rule is the default's, left out: the conditional rule applies.
    assert_eq!(c("ioctl", [0, 21505, 0, 0, 0, 0]), ALLOW);
    assert_eq!(c("ioctl", [0, 21506, 0, 0, 0, 0]), errno(13));
    // Two conditions on one argument: runc makes each a rule, so either allows.
    for (cmd, want) in [(1, ALLOW), (3, ALLOW), (4, ALLOW), (2, errno(13))] {
        assert_eq!(c("fcntl", [0, cmd, 0, 0, 0, 0]), want, "fcntl {cmd}");
    }
    // An unconditional rule replaces the conditional ones before it.
    assert_eq!(c("lseek", [0; 6]), 0x0003_0000);
    // Conditions on different arguments: all must hold.
    assert_eq!(c("dup", [3, 1, 0, 0, 0, 0]), ALLOW);
    assert_eq!(c("dup", [3, 0, 0, 0, 0, 0]), errno(13));
    assert_eq!(c("dup", [11, 1, 0, 0, 0, 0]), errno(13));
    assert_eq!(c("getppid", [0; 6]), errno(13));
    // No architectures: no ENOSYS stub (runc makes one only for listed ones), and the
    // 32-bit ABIs killed.
    assert_eq!(call(&p, 460, [0; 6]), errno(13));
    assert_eq!(call(&p, X32_BIT | 1, [0; 6]), KILL_THREAD);
}

/// The 32-bit ABIs listed: their calls get the refusing default; with an allowing one
/// the profile is refused, naming the path.
#[test]
fn listed_32_bit_abis() {
    let p = compiled(&profile(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[
        {"names":["read","write","openat"],"action":"SCMP_ACT_ALLOW"}]}"#,
    ))
    .unwrap();
    assert_eq!(call(&p, 0, [0; 6]), ALLOW);
    assert_eq!(call(&p, 3, [0; 6]), 0x8000_0000);
    // Past openat (257), the highest named: runc's ENOSYS.
    assert_eq!(call(&p, 258, [0; 6]), ENOSYS);
    assert_eq!(call(&p, 256, [0; 6]), 0x8000_0000);
    assert_eq!(call(&p, X32_BIT, [0; 6]), 0x8000_0000);
    assert_eq!(run(&p, &Data { nr: 3, arch: AUDIT_ARCH_I386, args: [0; 6] }).0, 0x8000_0000);
    for arch in ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] {
        for default in ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"] {
            let e = compiled(&profile(&format!(
                r#"{{"defaultAction":"{default}","architectures":["SCMP_ARCH_X86_64","{arch}"],"syscalls":[
                {{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}}]}}"#
            )))
            .unwrap_err();
            assert!(e.starts_with("config.json: linux.seccomp.architectures: SCMP_ARCH_X86 or SCMP_ARCH_X32"), "{e}");
        }
    }
}

/// `max_len` is room enough: for the fixture, for profiles with many conditions, and for
/// random ones (and the program of an empty profile is tiny).
#[test]
fn max_len_is_enough() {
    let fixture = include_str!("../../../tests/fixtures/oci/ctr-run-seccomp.json");
    let mut buf = fixture.as_bytes().to_vec();
    let Ok(c) = config::parse(&mut buf, "config.json") else { panic!("the fixture") };
    let room = max_len(&c.linux.seccomp);
    let mut out = vec![SockFilter::default(); room];
    let Ok(n) = compile(&c.linux.seccomp, &mut out) else { panic!("the fixture's profile") };
    assert!(n <= room && room <= 1200, "{n} of {room}");
    eprintln!("containerd's profile: {n} instructions, {room} of room");
    let p = compiled(&profile(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#)).unwrap();
    assert_eq!(p.len(), 6, "{}", crate::confine::bpf::disasm(&p));
    let words: Vec<&str> = NAMES.split(' ').filter(|w| !w.is_empty()).collect();
    let ops = ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"];
    let actions = ["ALLOW", "ERRNO", "KILL", "TRAP", "LOG", "KILL_PROCESS"];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let mut fitted = 0;
    for round in 0..200 {
        let mut rules = Vec::new();
        for _ in 0..next(40) + 1 {
            let names: Vec<String> =
                (0..next(12) + 1).map(|_| format!("\"{}\"", words[next(words.len() as u64) as usize])).collect();
            let args: Vec<String> = (0..next(4))
                .map(|_| {
                    let v = match next(3) {
                        0 => next(16),
                        1 => next(1 << 40),
                        _ => u64::MAX - next(4),
                    };
                    format!(
                        r#"{{"index":{},"value":{v},"valueTwo":{},"op":"SCMP_CMP_{}"}}"#,
                        next(6),
                        v & next(u64::MAX),
                        ops[next(7) as usize]
                    )
                })
                .collect();
            rules.push(format!(
                r#"{{"names":[{}],"action":"SCMP_ACT_{}","args":[{}]}}"#,
                names.join(","),
                actions[next(6) as usize],
                args.join(",")
            ));
        }
        let default = ["SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_ALLOW"][round % 3];
        let text = profile(&format!(r#"{{"defaultAction":"{default}","syscalls":[{}]}}"#, rules.join(",")));
        // `compiled` asserts the program fits `max_len`; too big a program is the only
        // error it may give.
        match compiled(&text) {
            Ok(_) => fitted += 1,
            Err(e) => assert!(e.contains("4096 instructions"), "{e}"),
        }
    }
    assert!(fitted > 150, "{fitted}");
}
