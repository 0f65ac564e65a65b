//! The names OCI documents use for kernel things, as compact `const` tables: capabilities,
//! resource limits, namespaces, mount options, hooks, seccomp actions, operators and
//! architectures. The config parser looks names up here and `features` lists them, so
//! what tinyctr says it recognises is exactly what it parses.
//!
//! Each table is one string of space-separated words (an array of `&str` would cost 16
//! bytes of pointer and length per name); a name's position is its number.
//!
//! The capability names are the confinement module's table (`confine::caps`, private
//! there) again, word for word: the linker keeps one copy of the string.

/// Capability names without `CAP_`, in number order (capabilities(7): 0 is CHOWN, 40
/// CHECKPOINT_RESTORE, the last Linux 6.x defines).
pub const CAPS: &str = "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP \
LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO \
SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD \
LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ \
PERFMON BPF CHECKPOINT_RESTORE";

/// Docker's and containerd's default capability set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER,
/// MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL,
/// AUDIT_WRITE (the same mask as `confine::caps::DEFAULT`).
pub const DOCKER_CAPS: u64 = 0x0000_0000_a804_25fb;

/// `RLIMIT_*` without the prefix, in resource number order (<asm-generic/resource.h>).
pub const RLIMITS: &str =
    "CPU FSIZE DATA STACK CORE RSS NPROC NOFILE MEMLOCK AS LOCKS SIGPENDING MSGQUEUE NICE RTPRIO RTTIME";

/// `linux.namespaces[].type`, in the order of [`NS_FLAGS`].
pub const NAMESPACES: &str = "pid network mount ipc uts user cgroup time";

/// The `CLONE_NEW*` flag of each namespace type.
pub const NS_FLAGS: [u32; 8] = {
    use linux_raw_sys::general::*;
    [CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME]
};

/// The keys of `hooks`, in [`HookKind`](super::config::HookKind) order.
pub const HOOKS: &str = "prestart createRuntime createContainer startContainer poststart poststop";

/// The mount options that are mount(2) flags (runc's and crun's table); anything else in
/// `mounts[].options` is filesystem data. Codes in [`MOUNT_CODES`], same order.
pub const MOUNT_OPTIONS: &str = "defaults ro rw nosuid suid nodev dev noexec exec sync async remount mand nomand \
dirsync noatime atime nodiratime diratime relatime norelatime strictatime nostrictatime lazytime nolazytime \
iversion noiversion silent loud nosymfollow symfollow bind rbind private rprivate shared rshared slave rslave \
unbindable runbindable";

/// How a code of [`MOUNT_CODES`] reads: the low 5 bits are the bit number of an `MS_*` flag;
/// [`CLEAR`] clears that flag instead of setting it; [`PROPAGATION`] makes it the mount's
/// propagation type (applied by a separate mount(2) call); [`REC`] adds `MS_REC`.
pub const CLEAR: u8 = 0x20;
pub const PROPAGATION: u8 = 0x40;
pub const REC: u8 = 0x80;

/// Bit numbers of the `MS_*` flags (<linux/mount.h>).
const RDONLY: u8 = 0;
const NOSUID: u8 = 1;
const NODEV: u8 = 2;
const NOEXEC: u8 = 3;
const SYNC: u8 = 4;
const REMOUNT: u8 = 5;
const MANDLOCK: u8 = 6;
const DIRSYNC: u8 = 7;
const NOSYMFOLLOW: u8 = 8;
const NOATIME: u8 = 10;
const NODIRATIME: u8 = 11;
const BIND: u8 = 12;
const SILENT: u8 = 15;
const UNBINDABLE: u8 = 17;
const PRIVATE: u8 = 18;
const SLAVE: u8 = 19;
const SHARED: u8 = 20;
const RELATIME: u8 = 21;
const I_VERSION: u8 = 23;
const STRICTATIME: u8 = 24;
const LAZYTIME: u8 = 25;
/// `defaults` changes nothing: it clears MS_NOUSER (bit 31), which no option sets.
const NOTHING: u8 = CLEAR | 31;

pub const MOUNT_CODES: [u8; 41] = [
    NOTHING,
    RDONLY,
    CLEAR | RDONLY,
    NOSUID,
    CLEAR | NOSUID,
    NODEV,
    CLEAR | NODEV,
    NOEXEC,
    CLEAR | NOEXEC,
    SYNC,
    CLEAR | SYNC,
    REMOUNT,
    MANDLOCK,
    CLEAR | MANDLOCK,
    DIRSYNC,
    NOATIME,
    CLEAR | NOATIME,
    NODIRATIME,
    CLEAR | NODIRATIME,
    RELATIME,
    CLEAR | RELATIME,
    STRICTATIME,
    CLEAR | STRICTATIME,
    LAZYTIME,
    CLEAR | LAZYTIME,
    I_VERSION,
    CLEAR | I_VERSION,
    SILENT,
    CLEAR | SILENT,
    NOSYMFOLLOW,
    CLEAR | NOSYMFOLLOW,
    BIND,
    BIND | REC,
    PROPAGATION | PRIVATE,
    PROPAGATION | PRIVATE | REC,
    PROPAGATION | SHARED,
    PROPAGATION | SHARED | REC,
    PROPAGATION | SLAVE,
    PROPAGATION | SLAVE | REC,
    PROPAGATION | UNBINDABLE,
    PROPAGATION | UNBINDABLE | REC,
];

/// `SCMP_ACT_*` without the prefix: what tinyctr's filter compiler can do. `KILL` kills the
/// thread (libseccomp's meaning). Not here, so refused: `NOTIFY` (needs a listener) and
/// `TRACE` (needs a tracer). Mapped to [`Action`](super::linux::Action) in that order.
pub const SECCOMP_ACTIONS: &str = "KILL KILL_THREAD KILL_PROCESS TRAP ERRNO LOG ALLOW";

/// `SCMP_CMP_*` without the prefix; position + 1 is libseccomp's `scmp_compare` value.
pub const SECCOMP_OPS: &str = "NE LT LE EQ GE GT MASKED_EQ";

/// `SCMP_ARCH_*` without the prefix (libseccomp 2.5's names); position = bit in
/// `Seccomp::archs`. Only the first three can run on an x86_64 kernel.
pub const SECCOMP_ARCHS: &str = "X86_64 X86 X32 ARM AARCH64 LOONGARCH64 M68K MIPS MIPS64 MIPS64N32 MIPSEL \
MIPSEL64 MIPSEL64N32 PPC PPC64 PPC64LE S390 S390X PARISC PARISC64 RISCV64 SH SHEB";

/// The words of `table`.
pub fn words(table: &str) -> impl Iterator<Item = &[u8]> {
    table.as_bytes().split(|&c| c == b' ')
}

/// The position of `s` among the words of `table`, `s` being spelled with `prefix` first
/// (exactly: OCI names are case-sensitive).
pub fn find(table: &str, prefix: &str, s: &[u8]) -> Option<usize> {
    crate::words::position(table, s.strip_prefix(prefix.as_bytes())?)
}

/// Word `i` of `table`.
pub fn word(table: &str, i: usize) -> &[u8] {
    words(table).nth(i).unwrap_or(b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_their_sizes() {
        assert_eq!(words(CAPS).count(), 41);
        assert_eq!(words(RLIMITS).count(), 16);
        assert_eq!(words(NAMESPACES).count(), NS_FLAGS.len());
        assert_eq!(words(MOUNT_OPTIONS).count(), MOUNT_CODES.len());
        assert_eq!(words(HOOKS).count(), 6);
        assert_eq!(find(CAPS, "CAP_", b"CAP_SYS_ADMIN"), Some(21));
        assert_eq!(find(CAPS, "CAP_", b"CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(find(CAPS, "CAP_", b"SYS_ADMIN"), None);
        assert_eq!(find(CAPS, "CAP_", b"cap_sys_admin"), None);
        assert_eq!(find(RLIMITS, "RLIMIT_", b"RLIMIT_NOFILE"), Some(linux_raw_sys::general::RLIMIT_NOFILE as usize));
        assert_eq!(find(RLIMITS, "RLIMIT_", b"RLIMIT_RTTIME"), Some(linux_raw_sys::general::RLIMIT_RTTIME as usize));
        assert_eq!(word(CAPS, 24), b"SYS_RESOURCE");
    }

    #[test]
    fn docker_caps_are_the_fourteen() {
        let mut names: Vec<&[u8]> = (0..41).filter(|i| DOCKER_CAPS & 1 << i != 0).map(|i| word(CAPS, i)).collect();
        names.sort();
        let mut want: Vec<&[u8]> = vec![
            b"CHOWN",
            b"DAC_OVERRIDE",
            b"FSETID",
            b"FOWNER",
            b"MKNOD",
            b"NET_RAW",
            b"SETGID",
            b"SETUID",
            b"SETFCAP",
            b"SETPCAP",
            b"NET_BIND_SERVICE",
            b"SYS_CHROOT",
            b"KILL",
            b"AUDIT_WRITE",
        ];
        want.sort();
        assert_eq!(names, want);
    }

    #[test]
    fn mount_codes_name_the_kernel_flags() {
        use linux_raw_sys::general::*;
        let code = |name: &[u8]| MOUNT_CODES[find(MOUNT_OPTIONS, "", name).unwrap()];
        let bit = |c: u8| 1u32 << (c & 31);
        assert_eq!(bit(code(b"ro")), MS_RDONLY);
        assert_eq!(bit(code(b"nosymfollow")), MS_NOSYMFOLLOW);
        assert_eq!(bit(code(b"lazytime")), MS_LAZYTIME);
        assert_eq!(bit(code(b"iversion")), MS_I_VERSION);
        assert_eq!(bit(code(b"strictatime")), MS_STRICTATIME);
        assert_eq!(bit(code(b"relatime")), MS_RELATIME);
        assert_eq!(bit(code(b"silent")), MS_SILENT);
        assert_eq!(bit(code(b"mand")), MS_MANDLOCK);
        assert_eq!(bit(code(b"dirsync")), MS_DIRSYNC);
        assert_eq!(bit(code(b"sync")), MS_SYNCHRONOUS);
        assert_eq!(bit(code(b"remount")), MS_REMOUNT);
        assert_eq!(bit(code(b"nodiratime")), MS_NODIRATIME);
        assert_eq!(bit(code(b"noatime")), MS_NOATIME);
        assert_eq!(bit(code(b"rbind")), MS_BIND);
        assert_eq!(code(b"rbind") & REC, REC);
        assert_eq!(bit(code(b"rslave")), MS_SLAVE);
        assert_eq!(bit(code(b"shared")), MS_SHARED);
        assert_eq!(bit(code(b"private")), MS_PRIVATE);
        assert_eq!(bit(code(b"unbindable")), MS_UNBINDABLE);
        assert_eq!(bit(code(b"nodev")), MS_NODEV);
        assert_eq!(bit(code(b"noexec")), MS_NOEXEC);
        assert_eq!(bit(code(b"nosuid")), MS_NOSUID);
    }
}
