//! Links musl's libc for the `#![no_std]` binary (its start files call our `main`), and
//! nothing else: tinyctr talks to the kernel through rustix and sc, not through libc.
fn main() {
    println!("cargo:rustc-link-lib=c");
    println!("cargo:rerun-if-changed=build.rs");
}
