//! A document read whole into memory, for the JSON scanner to unescape in place: an
//! anonymous mapping sized to the file (or, for a pipe such as update's `--resources -`,
//! to the limit; the kernel gives pages only where data lands). Nothing else is kept.

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::error::{Error, Result};
use crate::fdio::read_full;
use crate::sys::Mapping;

/// The largest document tinyctr reads (config.json has no limit in the spec; a few KiB
/// is usual, a 1 MiB one is a test).
pub const MAX_DOC: usize = 16 << 20;

pub struct Doc {
    map: Mapping,
    len: usize,
}

impl Doc {
    /// The document's bytes, for `config::parse` and friends.
    pub fn bytes(&mut self) -> &mut [u8] {
        let len = self.len;
        &mut self.map.bytes()[..len]
    }
}

/// Reads `path`, relative to `dir` (or absolute), whole.
pub fn read_at(dir: BorrowedFd<'_>, path: &CStr) -> Result<Doc> {
    let fd = rustix::fs::openat(dir, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::sys("open", path.to_bytes(), e))?;
    read_fd(fd.as_fd(), path.to_bytes())
}

/// Reads what is left of `fd` whole; `name` is how errors call it.
pub fn read_fd(fd: BorrowedFd<'_>, name: &[u8]) -> Result<Doc> {
    let read = || {
        let st = rustix::fs::fstat(fd)?;
        // A regular file is read to the size it has; anything else up to the limit, and
        // one byte more to tell a document at the limit from a longer one.
        let room = match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => st.st_size as usize,
            _ => MAX_DOC + 1,
        };
        if room > MAX_DOC + 1 {
            return Err(Errno::FBIG);
        }
        let mut map = Mapping::new(room)?;
        match read_full(fd, &mut map.bytes()[..room])? {
            len if len <= MAX_DOC => Ok(Doc { map, len }),
            _ => Err(Errno::FBIG),
        }
    };
    read().map_err(|e| match e {
        Errno::FBIG => {
            let mut e = Error::usage(name);
            e.msg.push(b": larger than 16 MiB (tinyctr's limit)");
            e
        }
        e => Error::sys("read", name, e),
    })
}
