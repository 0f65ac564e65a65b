//! Link settings for the `#![no_std]` binary.
//!
//! - musl's libc: its start files call our `main`, and core's memcpy/memcmp come from it.
//!   It goes last on the link line (a link *arg*, not a link *lib*) so that every rlib
//!   before it, rustix included, resolves against it. tinyctr itself talks to the kernel
//!   through rustix and sc, not through libc.
//! - Release builds only, for the 64 KiB budget (each measured on this binary):
//!   * discard `.eh_frame` (-12 KiB): with panic=abort nothing unwinds. The script is
//!     given with `-T` but only *inserts* a discard rule into ld's default script; the
//!     crt objects keep theirs, which their init code references.
//!   * `-z noseparate-code` (-8 KiB): one read-only segment for code and constants
//!     instead of separately page-aligned ones.
//!   * `-z norelro` (-3 KiB of page padding): musl applies PT_GNU_RELRO only in its
//!     dynamic linker, so in a static non-PIE binary it protects nothing anyway.
//!   * `-z common-page-size=64`: the writable segment's file offset follows the code's
//!     end instead of the next 4 KiB boundary (ld aligns it to save a page of memory
//!     only when it fits in fewer "common" pages; with 64 it never pads). It is still
//!     mapped at its own page. Without it the file grew by up to 4 KiB of zeros the
//!     moment the code crossed a page boundary (99,568 B for 95 KB of content once).
//!   * no build-id note.
//!
//! Test builds keep everything: `cargo test` needs unwind tables for its panic=unwind.
use std::path::PathBuf;

const DISCARD_EH_FRAME: &str =
    "SECTIONS { /DISCARD/ : { *(EXCLUDE_FILE(*crtbegin.o *crtend.o) .eh_frame) } } INSERT AFTER .text;\n";

fn main() {
    println!("cargo:rustc-link-arg-bins=-lc");
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        let script = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("discard-eh-frame.ld");
        std::fs::write(&script, DISCARD_EH_FRAME).unwrap();
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
        println!("cargo:rustc-link-arg-bins=-Wl,-z,noseparate-code");
        println!("cargo:rustc-link-arg-bins=-Wl,-z,norelro");
        println!("cargo:rustc-link-arg-bins=-Wl,-z,common-page-size=64");
        println!("cargo:rustc-link-arg-bins=-Wl,--build-id=none");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
