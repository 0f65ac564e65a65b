//! Links musl's libc for the `#![no_std]` binary: its start files call our `main`, and
//! core's memcpy/memcmp come from it. It goes last on the link line (a link *arg*, not a
//! link *lib*) so that every rlib before it, rustix included, can resolve against it.
//! tinyctr itself talks to the kernel through rustix and sc, not through libc.
fn main() {
    println!("cargo:rustc-link-arg-bins=-lc");
    println!("cargo:rerun-if-changed=build.rs");
}
