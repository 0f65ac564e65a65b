//! tinyctr: a container runtime in one small static file.
//!
//! The library holds all the logic; `src/main.rs` is a thin C `main`. It is `no_std` (and
//! uses no allocator) except when unit tests run under the ordinary test harness.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
// Errors are fixed-size buffers by design (no allocator to box them into), and they are
// built only on the failure path, so their size costs nothing where it matters.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

pub mod buf;
pub mod cgroup;
pub mod check;
pub mod cli;
pub mod confine;
pub mod device;
pub mod env;
pub mod error;
pub mod exec;
pub mod fault;
pub mod fdio;
pub mod fds;
pub mod init;
pub mod limits;
pub mod mount;
pub mod mountinfo;
pub mod namelock;
pub mod net;
pub mod oci;
pub mod out;
pub mod rootfs;
pub mod sealed;
pub mod spawn;
pub mod supervise;
pub mod sys;
pub mod trampoline;
pub mod words;
