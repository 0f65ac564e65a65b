//! PLACEHOLDER for the seccomp branch's `src/confine/seccomp.rs`, with exactly the
//! signatures of /work/notes/seccomp-api.md so the confine branch builds; the real file
//! (docker's default profile compiled to BPF) replaces this one at merge. Here the
//! program is always empty, which `confine::apply` skips.

/// One classic BPF instruction (struct sock_filter).
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// Room, in instructions, that `compile_default` never exceeds.
pub const DEFAULT_MAX: usize = 1024;

/// Parent side, before clone: docker's default profile for bounding set `caps` into
/// `out`; returns the number of instructions written.
pub fn compile_default(caps: u64, out: &mut [SockFilter]) -> Result<usize, crate::error::Error> {
    let _ = (caps, out);
    Ok(0)
}

/// Child side, allocation-free: installs `prog` as the calling thread's filter.
pub fn install(prog: &[SockFilter]) -> Result<(), rustix::io::Errno> {
    let _ = prog;
    Ok(())
}

/// Whether this kernel can load seccomp filters (CONFIG_SECCOMP_FILTER).
pub fn available() -> bool {
    true
}
