//! The argv parser (`cli::parse`) on arbitrary argument vectors: the input is split at
//! NUL bytes into arguments (argv strings can hold any byte but NUL), after an argv[0].
//! Besides "never panics", it checks what a successful parse promises: COMMAND is not
//! empty and is the tail of argv, `-e` values are exactly `env_count` many, every limit
//! is in range, and error lines are one line starting `tinyctr: `.
#![no_main]

use std::ffi::{c_char, CString};

use libfuzzer_sys::fuzz_target;
use tinyctr::cli::{self, Command};
use tinyctr::sys::args::CArgs;

fuzz_target!(|data: &[u8]| {
    let owned: Vec<CString> =
        std::iter::once(&b"tinyctr"[..]).chain(data.split(|&b| b == 0)).map(|a| CString::new(a).unwrap()).collect();
    let ptrs: Vec<*const c_char> = owned.iter().map(|c| c.as_ptr()).collect();
    // SAFETY: `ptrs` holds `ptrs.len()` pointers to live NUL-terminated strings, which
    // outlive every use of `args` below.
    let args = unsafe { CArgs::from_raw(ptrs.as_ptr(), ptrs.len()) };
    match cli::parse(args) {
        Ok(Command::Run(cfg)) => {
            let n = cfg.command.len();
            assert!(n > 0, "run without a command");
            assert!(n <= owned.len() - 2);
            for (i, c) in cfg.command.iter().enumerate() {
                assert_eq!(c.to_bytes(), owned[owned.len() - n + i].as_bytes());
            }
            let mut envs = 0;
            cli::env_options(cfg.options, |v| {
                assert!(!cli::env_key(v.to_bytes()).is_empty());
                envs += 1;
            });
            assert_eq!(envs, cfg.env_count);
            let h = cfg.hostname.to_bytes().len();
            assert!((1..=64).contains(&h));
            let l = &cfg.limits;
            if let Some(m) = l.memory {
                assert!(m > 0 && m <= i64::MAX as u64);
            }
            if let Some(s) = l.cpu_shares {
                assert!((2..=262_144).contains(&s));
            }
            if let Some(p) = l.pids {
                assert!((1..=4 << 20).contains(&p));
            }
            if let Some(c) = l.cpus {
                assert!(c.quota >= 1000 && c.period == 100_000);
            }
            if let Some(list) = l.cpuset_cpus {
                assert!(tinyctr::limits::check_cpu_list(list.to_bytes()).is_ok());
            }
            assert!(l.validate().is_ok());
            assert!(!cfg.read_only || cfg.rootfs.is_some());
        }
        Ok(_) => {}
        Err(e) => {
            assert!(e.status == 125);
            let line = e.line();
            let b = line.as_bytes();
            assert!(b.starts_with(b"tinyctr: ") && b.ends_with(b"\n"));
            assert!(!line.overflowed());
        }
    }
});
