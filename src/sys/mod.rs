//! The only module that says `unsafe`: the few system calls rustix does not wrap (clone3,
//! a fork-style clone, execve, exit_group, signal masks, signalfd, seccomp, an interface
//! ioctl, an anonymous mapping, mount_setattr) and the view of the C argv/envp arrays.
//!
//! Every wrapper here is callable from the trampoline (between clone and execve): none
//! allocates, takes a lock or touches thread-local state; they are raw syscalls.
#![allow(unsafe_code)]

pub mod args;
pub mod bpf;
pub mod clock;
pub mod list;
pub mod mountapi;
pub mod seccomp;
pub mod signal;

use core::ffi::c_char;
use core::ffi::CStr;
use linux_raw_sys::general::clone_args;
use rustix::fd::{FromRawFd, OwnedFd, RawFd};
use rustix::io::Errno;

/// Turns a raw syscall return into `Result` (the kernel returns -errno in -4095..-1).
fn check(ret: usize) -> Result<usize, Errno> {
    let r = ret as isize;
    if (-4095..0).contains(&r) {
        Err(Errno::from_raw_os_error(-r as i32))
    } else {
        Ok(ret)
    }
}

/// Who we are after a fork-style clone.
pub enum Forked {
    /// In the parent: the child's pid and, when the kernel gave one, its pidfd.
    Parent { pid: i32, pidfd: Option<OwnedFd> },
    /// In the child.
    Child,
}

/// `clone3(args)` with fork semantics: no new stack, the child returns here too.
///
/// `pidfd` is where the kernel stores the pidfd when `CLONE_PIDFD` is set.
/// <https://man7.org/linux/man-pages/man2/clone3.2.html>
pub fn clone3(flags: u64, cgroup_fd: Option<RawFd>) -> Result<Forked, Errno> {
    let mut pidfd: i32 = -1;
    let mut args = clone_args {
        flags,
        pidfd: &mut pidfd as *mut i32 as u64,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: linux_raw_sys::general::SIGCHLD as u64,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: 0,
    };
    if let Some(fd) = cgroup_fd {
        args.flags |= linux_raw_sys::general::CLONE_INTO_CGROUP;
        args.cgroup = fd as u64;
    }
    // SAFETY: with stack == 0 and no CLONE_VM, clone3 behaves like fork: the child gets a
    // copy-on-write copy of this single-threaded process and returns here with 0. `args`
    // and `pidfd` live across the call; the kernel reads the former and writes the latter.
    let ret = unsafe {
        sc::syscall2(sc::nr::CLONE3, &mut args as *mut clone_args as usize, core::mem::size_of::<clone_args>())
    };
    forked(check(ret)?, pidfd)
}

/// `clone(flags | SIGCHLD, NULL, ...)`: the classic fork-style clone, for kernels without
/// clone3 (before 5.3) or where a seccomp filter refuses it.
pub fn clone_fork(flags: u64) -> Result<Forked, Errno> {
    // SAFETY: a NULL stack gives fork semantics (see clone3 above); the pointer arguments
    // (parent_tid, child_tid, tls) are unused because no flag asks for them.
    let ret =
        unsafe { sc::syscall5(sc::nr::CLONE, (flags | linux_raw_sys::general::SIGCHLD as u64) as usize, 0, 0, 0, 0) };
    forked(check(ret)?, -1)
}

fn forked(ret: usize, pidfd: i32) -> Result<Forked, Errno> {
    if ret == 0 {
        return Ok(Forked::Child);
    }
    let pidfd = if pidfd >= 0 {
        // SAFETY: the kernel just created this descriptor for us and nobody else owns it.
        Some(unsafe { OwnedFd::from_raw_fd(pidfd) })
    } else {
        None
    };
    Ok(Forked::Parent { pid: ret as i32, pidfd })
}

/// `execve(path, argv, envp)`; returns only on failure.
///
/// # Safety
/// `argv` and `envp` must point to NULL-terminated arrays of pointers to NUL-terminated
/// strings that stay valid for the call.
pub unsafe fn execve(path: &CStr, argv: *const *const c_char, envp: *const *const c_char) -> Errno {
    // SAFETY: the caller guarantees the arrays; `path` is a valid C string.
    let ret = unsafe { sc::syscall3(sc::nr::EXECVE, path.as_ptr() as usize, argv as usize, envp as usize) };
    check(ret).err().unwrap_or(Errno::INVAL)
}

/// `exit_group(code)`: ends the process at once, with no atexit handlers (there are none:
/// tinyctr never registers any, and in the forked child we must not run the parent's).
pub fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes an int and does not return.
    unsafe {
        sc::syscall1(sc::nr::EXIT_GROUP, code as usize);
    }
    #[allow(clippy::empty_loop)]
    loop {}
}

/// `unshare(flags)` for this single-threaded process.
#[inline(never)]
pub fn unshare(flags: u32) -> Result<(), Errno> {
    // SAFETY: rustix marks unshare unsafe because it changes state other threads of the
    // process may rely on; tinyctr never creates threads.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::from_bits_retain(flags)) }
}

/// `IFF_UP` and `IFF_LOOPBACK` from <linux/if.h> (an enum in linux-raw-sys, so spelled
/// out here).
const IFF_UP: u16 = 1;
const IFF_LOOPBACK: u16 = 8;

/// Brings up the loopback interface of a network namespace that was just created, with
/// one `SIOCSIFFLAGS` on `sock`. Its flags are known there (`IFF_LOOPBACK` alone, and
/// the kernel keeps that one whatever we pass), so they are not read first.
pub fn fresh_loopback_up(sock: &OwnedFd) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    // struct ifreq is 40 bytes on x86_64: the name in 16, then a union whose first member
    // we use is `short ifr_flags`.
    let mut ifr = [0u8; 40];
    ifr[..2].copy_from_slice(b"lo");
    ifr[16..18].copy_from_slice(&(IFF_UP | IFF_LOOPBACK).to_ne_bytes());
    // SAFETY: `ifr` is a valid, large enough ifreq, alive for the call.
    check(unsafe {
        sc::syscall3(
            sc::nr::IOCTL,
            sock.as_raw_fd() as usize,
            linux_raw_sys::ioctl::SIOCSIFFLAGS as usize,
            ifr.as_mut_ptr() as usize,
        )
    })?;
    Ok(())
}

/// `TIOCSWINSZ`: the terminal `fd`'s size, `rows` by `cols` (its pixel size left 0).
pub fn set_window_size(fd: rustix::fd::BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    // struct winsize: rows, columns, then the pixel width and height, four u16s.
    let ws: [u16; 4] = [rows, cols, 0, 0];
    // SAFETY: `ws` is a valid struct winsize, alive for the call; the kernel only reads it.
    check(unsafe {
        sc::syscall3(
            sc::nr::IOCTL,
            fd.as_raw_fd() as usize,
            linux_raw_sys::ioctl::TIOCSWINSZ as usize,
            ws.as_ptr() as usize,
        )
    })?;
    Ok(())
}

/// `SIOCGSKNS` (<linux/sockios.h>, Linux 4.9): a descriptor of the network namespace
/// `sock` belongs to, close-on-exec. Needs no /proc.
pub fn socket_netns(sock: &OwnedFd) -> Result<OwnedFd, Errno> {
    use rustix::fd::{AsRawFd, FromRawFd};
    const SIOCGSKNS: usize = 0x894c;
    // SAFETY: an ioctl without an argument buffer; on success the kernel returns a new
    // descriptor, which nothing else owns.
    unsafe {
        let fd = check(sc::syscall2(sc::nr::IOCTL, sock.as_raw_fd() as usize, SIOCGSKNS))?;
        Ok(OwnedFd::from_raw_fd(fd as i32))
    }
}

/// Binds `sock` (AF_UNIX) to the abstract address `@` + `prefix` + `name` (107 bytes at
/// most; longer is ENAMETOOLONG). By hand rather than through rustix's `SocketAddrUnix`,
/// which brings general address code for this one fixed case.
pub fn bind_abstract(sock: &OwnedFd, prefix: &[u8], name: &[u8]) -> Result<(), Errno> {
    use rustix::fd::AsRawFd;
    // struct sockaddr_un: sa_family_t (u16), then sun_path[108]; an abstract name starts
    // with a NUL there and its length is given by the address length, not a terminator.
    let mut sa = [0u8; 110];
    sa[..2].copy_from_slice(&(linux_raw_sys::net::AF_UNIX as u16).to_ne_bytes());
    let mut len = 3;
    for &b in prefix.iter().chain(name) {
        *sa.get_mut(len).ok_or(Errno::NAMETOOLONG)? = b;
        len += 1;
    }
    // SAFETY: `sa` is a valid sockaddr_un of `len` bytes, alive for the call.
    check(unsafe { sc::syscall3(sc::nr::BIND, sock.as_raw_fd() as usize, sa.as_ptr() as usize, len) })?;
    Ok(())
}

/// An anonymous private mapping of `len` bytes, zeroed by the kernel. The parent makes the
/// one it needs before clone, sized to the request, so the child never has to allocate.
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    pub fn new(len: usize) -> Result<Mapping, Errno> {
        let len = len.max(1);
        use rustix::mm::{MapFlags, ProtFlags};
        // SAFETY: a fresh anonymous mapping aliases nothing; we own it until Drop.
        let ptr = unsafe {
            rustix::mm::mmap_anonymous(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )?
        };
        Ok(Mapping { ptr: ptr.cast(), len })
    }

    /// The bytes, for the rest of the process's life: the mapping is never unmapped.
    pub fn leak(self) -> &'static mut [u8] {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: ptr..ptr+len is our mapping, readable and writable; with the Mapping
        // never dropped it is never unmapped, and the one reference is the one returned.
        unsafe { core::slice::from_raw_parts_mut(this.ptr, this.len) }
    }

    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: ptr..ptr+len is our mapping, readable and writable, and `&mut self`
        // makes this the only live reference into it.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: we own the mapping and no reference into it outlives `self`.
        let _ = unsafe { rustix::mm::munmap(self.ptr.cast(), self.len) };
    }
}

/// A `T` in an anonymous mapping of its own: for a plain-data struct of tens of KiB
/// (the OCI config) whose pages should be touched only where it is written, which a
/// stack frame of that size is not (the stack is probed page by page).
pub struct MapBox<T> {
    map: Mapping,
    _t: core::marker::PhantomData<T>,
}

impl<T> MapBox<T> {
    /// Moves `value` into a fresh mapping.
    pub fn new(value: impl FnOnce() -> T) -> Result<MapBox<T>, Errno> {
        let mut map = Mapping::new(core::mem::size_of::<T>())?;
        let p = map.bytes().as_mut_ptr().cast::<T>();
        // SAFETY: the mapping is at least size_of::<T>() bytes and page-aligned (so
        // aligned for any T), writable, and owned by `map` alone; it holds no T yet, so
        // nothing is overwritten without a drop.
        unsafe { p.write(value()) };
        Ok(MapBox { map, _t: core::marker::PhantomData })
    }
}

impl<const N: usize> MapBox<[u64; N]> {
    /// `N` words of zeros, written by nobody: a fresh anonymous mapping reads as zeros,
    /// and zero is a valid `u64`, so only the pages later written become resident.
    pub fn zeroed() -> Result<MapBox<[u64; N]>, Errno> {
        let map = Mapping::new(N * 8)?;
        Ok(MapBox { map, _t: core::marker::PhantomData })
    }
}

impl<T> core::ops::Deref for MapBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `new` wrote a T at the start of the mapping, which lives as long as self.
        unsafe { &*self.map.ptr.cast::<T>() }
    }
}

impl<T> core::ops::DerefMut for MapBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; `&mut self` makes this the only reference.
        unsafe { &mut *self.map.ptr.cast::<T>() }
    }
}

impl<T> Drop for MapBox<T> {
    fn drop(&mut self) {
        // SAFETY: the T written by `new` is dropped once, before the mapping goes.
        unsafe { core::ptr::drop_in_place(self.map.ptr.cast::<T>()) }
    }
}

/// Descriptor `n` (0, 1 or 2) as a borrowed fd.
///
/// tinyctr never closes or replaces its standard descriptors, so borrowing them for the
/// life of the process is sound; if one was closed by our caller, a write or read just
/// answers EBADF.
pub fn std_fd(n: i32) -> rustix::fd::BorrowedFd<'static> {
    debug_assert!((0..=2).contains(&n));
    // SAFETY: see above: the descriptor outlives every use, and we never close it.
    unsafe { rustix::fd::BorrowedFd::borrow_raw(n) }
}

/// `close_range(first, last, 0)` (Linux 5.9): closes every descriptor from `first` to
/// `last`, both included; ENOSYS on older kernels.
/// <https://man7.org/linux/man-pages/man2/close_range.2.html>
pub fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: close_range takes integers only. Closing descriptors that Rust objects
    // (OwnedFd) of this process still own is memory-safe; the callers close only what
    // they will never use again (the child, right before it changes directory and execs).
    check(unsafe { sc::syscall3(sc::nr::CLOSE_RANGE, first as usize, last as usize, 0) }).map(|_| ())
}

/// The working directory's absolute path, in `buf` (without its NUL). The raw call
/// answers a directory outside the process's root with a path prefixed
/// `(unreachable)`: that is ENOENT here, as glibc makes it.
pub fn getcwd(buf: &mut [u8]) -> Result<&[u8], Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which lives for the call.
    let n = check(unsafe { sc::syscall2(sc::nr::GETCWD, buf.as_mut_ptr() as usize, buf.len()) })?;
    // The length counts the NUL.
    match buf.get(..n.saturating_sub(1)) {
        Some(path) if path.first() == Some(&b'/') => Ok(path),
        _ => Err(Errno::NOENT),
    }
}

/// `close(fd)` of a descriptor no Rust object owns any more (or never did: one tinyctr's
/// caller left open).
pub fn close_raw(fd: RawFd) {
    // SAFETY: close takes an integer. The caller guarantees that nothing in this process
    // will use `fd` again (see `close_range`).
    unsafe {
        sc::syscall1(sc::nr::CLOSE, fd as usize);
    }
}

/// `execveat(fd, "", argv, envp, AT_EMPTY_PATH)`: executes the file `fd` refers to (a
/// memfd); returns only on failure. `argv` and `envp` are passed on as they are.
/// <https://man7.org/linux/man-pages/man2/execveat.2.html>
pub fn execveat_empty(fd: rustix::fd::BorrowedFd<'_>, argv: args::CArgs<'_>, envp: args::CArgs<'_>) -> Errno {
    use rustix::fd::AsRawFd;
    // SAFETY: `CArgs::as_null_terminated` gives NULL-terminated arrays of valid C strings
    // that live for the call; the path is a valid empty C string.
    let ret = unsafe {
        sc::syscall5(
            sc::nr::EXECVEAT,
            fd.as_raw_fd() as usize,
            c"".as_ptr() as usize,
            argv.as_null_terminated() as usize,
            envp.as_null_terminated() as usize,
            linux_raw_sys::general::AT_EMPTY_PATH as usize,
        )
    };
    check(ret).err().unwrap_or(Errno::INVAL)
}
