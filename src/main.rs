//! The entry point: musl's start files call this C `main` with argv and envp. Everything
//! else lives in the library; this file only dispatches and maps the result to an exit
//! status.
#![no_std]
#![no_main]

use core::ffi::c_char;

use tinyctr::cli::{self, Command, Help};
use tinyctr::out;
use tinyctr::sys::args::CArgs;

#[no_mangle]
extern "C" fn main(argc: i32, argv: *const *const c_char, envp: *const *const c_char) -> i32 {
    // SAFETY: the kernel hands main argc valid C strings in argv and a NULL-terminated
    // envp; both live as long as the process.
    #[allow(unsafe_code)]
    let (args, env) = unsafe { (CArgs::from_raw(argv, argc.max(0) as usize), CArgs::from_null_terminated(envp)) };
    tinyctr::fault::arm(env);
    // Debug builds only: run from the sealed copy as the OCI commands will, so tests can
    // see it work (`tinyctr check` then says so).
    if cfg!(debug_assertions) && tinyctr::env::lookup(env, b"TINYCTR_DEBUG_SEALED").is_some() {
        if let Err(e) = tinyctr::sealed::ensure(args, env) {
            out::report(&e);
            return e.status as i32;
        }
    }
    // The OCI runtime (containerd's `--runc-binary`), when built in: the default build
    // leaves it out to stay within the 96 KiB budget (README: Size).
    #[cfg(feature = "oci")]
    if tinyctr::oci::cli::is_oci(args) {
        tinyctr::sys::exit(tinyctr::oci::cli::main(args, env) as i32)
    }
    // exit_group directly: musl's exit would run atexit handlers and flush stdio, and
    // tinyctr has neither.
    tinyctr::sys::exit(command(args, env) as i32)
}

/// `run`, `check`, help and version. Out of line: `run`'s parsed options are kilobytes,
/// which would otherwise be stack pages of every OCI command too.
#[inline(never)]
fn command(args: CArgs<'_>, env: CArgs<'_>) -> u8 {
    match cli::parse(args) {
        Ok(Command::Run(cfg)) => tinyctr::spawn::run(&cfg, env),
        Ok(Command::Check) => tinyctr::check::run(),
        Ok(Command::Help(Help::Top)) => {
            out::print(cli::HELP_TOP.as_bytes());
            0
        }
        Ok(Command::Help(Help::Run)) => {
            out::print(cli::HELP_RUN.as_bytes());
            0
        }
        Ok(Command::Version) => {
            out::print(cli::version().as_bytes());
            0
        }
        Err(e) => {
            out::report(&e);
            e.status
        }
    }
}

/// A panic cannot happen by design (no unwrap on kernel calls, no indexing of untrusted
/// lengths); if one does, end at once with tinyctr's own failure status.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    out::eprint(b"tinyctr: internal error\n");
    tinyctr::sys::exit(125)
}

/// `cargo test` builds this binary with panic=unwind for the integration tests, which
/// then wants an unwinding personality routine; it is never called.
#[no_mangle]
extern "C" fn rust_eh_personality() {}
