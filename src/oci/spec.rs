//! The two OCI commands that need no container: `tinyctr spec` writes a default
//! config.json into a bundle, as `runc spec` does, and `tinyctr features` prints the
//! features document.
//!
//! The default config is runc's example with docker's default capabilities: `sh` on a
//! terminal as root in `/`, RLIMIT_NOFILE 1024, no new privileges, a read-only `rootfs`,
//! runc's mounts, new PID, network, IPC, UTS and mount namespaces, no device but the
//! defaults, and the masked and read-only paths `run` uses. The capability lists are
//! written from the parser's tables.

use core::ffi::CStr;

use rustix::fs::{Mode, OFlags, CWD};

use super::emit::{self, Out};
use super::names;
use crate::buf::Buf;
use crate::error::{push_shown, Error, Result};

/// config.json with holes: each `@` takes the capability list. The masked and read-only
/// paths are those `run` uses (`rootfs/mask.rs`, private there).
const TEMPLATE: &str = r#"{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": true,
		"user": {"uid": 0, "gid": 0},
		"args": ["sh"],
		"env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
		"cwd": "/",
		"capabilities": {
			"bounding": @,
			"effective": @,
			"permitted": @
		},
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
		"noNewPrivileges": true
	},
	"root": {"path": "rootfs", "readonly": true},
	"hostname": "tinyctr",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
		{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
	],
	"linux": {
		"resources": {"devices": [{"allow": false, "access": "rwm"}]},
		"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
		"maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
	}
}
"#;

/// The default config.json, written into `o`.
#[inline(never)]
pub fn default_config(o: &mut Out<'_>) {
    let mut pieces = TEMPLATE.as_bytes().split(|&c| c == b'@');
    o.raw(pieces.next().unwrap_or(b""));
    for piece in pieces {
        o.raw(b"[");
        let mut sep: &[u8] = b"\"CAP_";
        for i in 0..64 {
            if names::DOCKER_CAPS & 1 << i != 0 {
                o.raw(sep).raw(names::word(names::CAPS, i)).raw(b"\"");
                sep = b", \"CAP_";
            }
        }
        o.raw(b"]").raw(piece);
    }
}

/// `tinyctr spec [--bundle DIR]`: writes DIR/config.json (./config.json), never over an
/// existing file.
#[inline(never)]
pub fn write(bundle: Option<&CStr>) -> Result<()> {
    let mut path = Buf::<4096>::new();
    if let Some(dir) = bundle {
        path.push(dir.to_bytes()).push(b"/");
    }
    path.push(b"config.json");
    if path.overflowed() {
        return Err(Error::usage(b"spec: --bundle: the path is too long"));
    }
    let mut buf = [0u8; 4096];
    let mut o = Out::new(&mut buf);
    default_config(&mut o);
    let text = o.done().unwrap_or(b"");
    let name = path.as_cstr();
    let fd = match rustix::fs::openat(
        CWD,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::EXIST) => {
            // runc's words.
            let mut e = Error::usage(b"File ");
            push_shown(&mut e.msg, name.to_bytes());
            e.msg.push(b" exists. Remove it first");
            return Err(e);
        }
        Err(e) => return Err(Error::sys("create", name.to_bytes(), e)),
    };
    if let Err(e) = crate::fdio::write_all(&fd, text) {
        // Leave no half-written config behind.
        let _ = rustix::fs::unlinkat(CWD, name, rustix::fs::AtFlags::empty());
        return Err(Error::sys("write", name.to_bytes(), e));
    }
    Ok(())
}

/// `tinyctr features`: the features document on stdout.
#[inline(never)]
pub fn features() {
    let mut buf = [0u8; 4096];
    let mut o = Out::new(&mut buf);
    emit::features(&mut o);
    crate::out::print(o.done().unwrap_or(b""));
}
