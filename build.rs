//! Link settings for the `#![no_std]` binary.
//!
//! - musl's libc: its start files call our `main`, and core's memcpy/memcmp come from it.
//!   It goes last on the link line (a link *arg*, not a link *lib*) so that every rlib
//!   before it, rustix included, resolves against it. tinyctr itself talks to the kernel
//!   through rustix and sc, not through libc.
//! - In release builds, one read-only segment for code and constants instead of separate
//!   page-aligned ones (`-z noseparate-code`) and no build-id note: 8 KiB less padding
//!   in a binary whose budget is 64 KiB.
fn main() {
    println!("cargo:rustc-link-arg-bins=-lc");
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,noseparate-code");
        println!("cargo:rustc-link-arg-bins=-Wl,--build-id=none");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
