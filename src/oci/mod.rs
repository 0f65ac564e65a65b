//! The OCI runtime interface: the runc command line that containerd's shim drives, and
//! its foundation: reading a bundle's config.json (and exec's process file, update's
//! resources) into plain data, and writing the small JSON documents the runtime contract
//! asks for (state, `ps`, `--log` lines, `features`), plus the two commands that need no
//! container: `spec` and `features`.
//!
//! - `json.rs`: the allocation-free scanner, strings unescaped in place;
//! - `config.rs`, `linux.rs`: config.json as a [`config::Config`];
//! - `names.rs`: the name tables (capabilities, rlimits, mount options, seccomp...);
//! - `seccomp.rs`, `syscalls.rs`: `linux.seccomp` compiled to BPF (the x86_64 syscall names);
//! - `emit.rs`: the JSON writers into fixed buffers, and RFC 3339 time;
//! - `file.rs`: a document read whole into a mapping sized to it;
//! - `spec.rs`: `tinyctr spec` and `tinyctr features`;
//! - `store.rs`: the state directory;
//! - `sysctl.rs`: `linux.sysctl`, checked and written by the init;
//! - `hooks.rs`: config.json's hooks, at their points of the lifecycle;
//! - `lsm.rs`: the AppArmor profile a process asks for (and SELinux labels, refused);
//! - `hierarchies.rs`: the v1 cgroup hierarchies beyond the layout's, joined by `create`;
//! - `freezer.rs`, `devices.rs`, `hugetlb.rs`: `pause`/`resume`, the device allow-list,
//!   the huge page limits; `controls.rs`: swappiness, the OOM switch, real-time CPU,
//!   burst, idle, net_cls; `unified.rs`: `linux.resources.unified`, cgroup v2 files as given.
//!
//! A lifecycle command reads a bundle as
//! `let mut doc = file::read_at(bundle_fd, c"config.json")?;`
//! `let cfg = config::parse(doc.bytes(), "config.json")?;` — `cfg` borrows `doc`, and
//! nothing but `doc`'s mapping and the `Config` itself (a fixed 42 KiB) is used. `exec`
//! reads its process file with `config::parse_process`, `update` its resources with
//! `linux::parse_resources` (from `file::read_fd` on stdin); `state` writes
//! `emit::state`, `ps` `emit::ps`, `--log` lines `emit::log_line` with
//! `sys::clock::realtime()`.

pub mod cli;
pub mod config;
pub mod console;
pub mod controls;
pub mod create;
pub mod devices;
pub mod emit;
pub mod exec;
pub mod file;
pub mod freezer;
pub mod hierarchies;
pub mod hooks;
pub mod hugetlb;
pub mod json;
pub mod lifecycle;
pub mod linux;
pub mod lsm;
pub mod names;
pub mod seccomp;
pub mod spec;
pub mod store;
pub mod syscalls;
pub mod sysctl;
pub mod unified;

#[cfg(test)]
mod tests;
