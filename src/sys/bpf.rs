//! bpf(2) for the one program tinyctr loads: a cgroup v2 device filter
//! (`BPF_PROG_TYPE_CGROUP_DEVICE`), which takes the place of v1's devices.allow/deny.
//! linux-raw-sys has no bpf constants; these are <linux/bpf.h>'s.

use rustix::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use rustix::io::Errno;

use super::check;

const BPF_PROG_LOAD: usize = 5;
const BPF_PROG_ATTACH: usize = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;

/// Loads `insns` (eBPF instructions, encoded as [`insn`] does) as a device program;
/// the verifier's log goes to `log` (empty: none).
pub fn load_device_program(insns: &[u64], log: &mut [u8]) -> Result<OwnedFd, Errno> {
    // union bpf_attr for BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, log_level,
    // log_size, log_buf, then fields left zero; the kernel wants everything past what it
    // reads zero.
    let mut attr = [0u64; 16];
    attr[0] = BPF_PROG_TYPE_CGROUP_DEVICE as u64 | (insns.len() as u64) << 32;
    attr[1] = insns.as_ptr() as u64;
    attr[2] = c"GPL".as_ptr() as u64;
    if !log.is_empty() {
        attr[3] = 1 | (log.len() as u64) << 32;
        attr[4] = log.as_mut_ptr() as u64;
    }
    // SAFETY: `attr` is a valid bpf_attr of the size given; the kernel reads `insns`
    // (insn_cnt instructions of 8 bytes) and the license string, and writes at most
    // log_size bytes to `log`, all alive for the call.
    let fd = check(unsafe { sc::syscall3(sc::nr::BPF, BPF_PROG_LOAD, attr.as_ptr() as usize, 128) })?;
    // SAFETY: a successful BPF_PROG_LOAD returns a new descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Attaches the device program `prog` to the cgroup open at `cgroup`. The cgroup holds
/// the program from then on, until it is removed.
pub fn attach_device_program(cgroup: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), Errno> {
    // BPF_PROG_ATTACH: target_fd, attach_bpf_fd, attach_type, attach_flags (0: the only
    // program of this cgroup, overridable by none below it).
    let mut attr = [0u32; 8];
    attr[0] = cgroup.as_raw_fd() as u32;
    attr[1] = prog.as_raw_fd() as u32;
    attr[2] = BPF_CGROUP_DEVICE;
    // SAFETY: `attr` is a valid bpf_attr of 32 bytes, alive for the call.
    check(unsafe { sc::syscall3(sc::nr::BPF, BPF_PROG_ATTACH, attr.as_mut_ptr() as usize, 32) }).map(|_| ())
}

/// One eBPF instruction: opcode, destination and source registers, offset, immediate.
pub const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> u64 {
    code as u64
        | ((dst as u64 & 0xf) | (src as u64 & 0xf) << 4) << 8
        | (off as u16 as u64) << 16
        | (imm as u32 as u64) << 32
}
