//! The wall clock, for the OCI layer's timestamps (the state's `created`, `--log` lines):
//! `clock_gettime(CLOCK_REALTIME)` as a raw system call. rustix's wrapper goes through
//! the vDSO, whose ELF parsing would cost more bytes than a microsecond here is worth.

/// Seconds and nanoseconds since the epoch (0, 0 if the kernel refuses, which it does not
/// for CLOCK_REALTIME).
pub fn realtime() -> (i64, u32) {
    let mut ts = linux_raw_sys::general::__kernel_timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one struct __kernel_timespec (the 64-bit layout on
    // x86_64) to the pointer, which points to `ts`, alive for the call.
    let ret = unsafe {
        sc::syscall2(sc::nr::CLOCK_GETTIME, linux_raw_sys::general::CLOCK_REALTIME as usize, &mut ts as *mut _ as usize)
    };
    match super::check(ret) {
        Ok(_) => (ts.tv_sec, ts.tv_nsec as u32),
        Err(_) => (0, 0),
    }
}
