//! The container's environment, built by the parent before clone: clean as docker makes
//! it (PATH, HOSTNAME, HOME, and TERM if tinyctr has one), then every `-e` in order. A
//! variable given twice keeps its last value; `-e KEY` copies KEY from tinyctr's own
//! environment when it is set there and is dropped otherwise.
//!
//! Nothing is copied: the array points at static strings, at argv and at envp; only
//! `HOSTNAME=...` (and with `-u`, `HOME=...`) is composed, in memory the caller keeps alive.

use core::ffi::CStr;

use crate::buf::Buf;
use crate::cli::{env_key, env_options, RunConfig};
use crate::sys::args::{CArgs, PtrArray};

pub const DEFAULT_PATH: &CStr = c"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// HOME without `-u` (root's, as docker's passwd lookup gives it); with `-u`, the
/// parent passes the user's from the container's /etc/passwd.
pub const ROOT_HOME: &CStr = c"HOME=/root";

/// `HOSTNAME=` plus a hostname of at most 64 bytes (checked by the parser).
pub type HostnameVar = Buf<80>;

pub fn hostname_var(hostname: &CStr) -> HostnameVar {
    let mut b = Buf::new();
    b.push(b"HOSTNAME=").push(hostname.to_bytes());
    b
}

/// Pointer slots the environment needs, terminating NULL included.
pub fn slots_needed(cfg: &RunConfig<'_>) -> usize {
    match cfg.oci() {
        Some(o) => o.env.len() + 1,
        None => 4 + cfg.env_count + 1,
    }
}

/// Length of the scratch hash table [`build`] needs to drop overridden variables.
pub fn table_len(cfg: &RunConfig<'_>) -> usize {
    (2 * slots_needed(cfg)).next_power_of_two()
}

/// `KEY=VALUE` from `env` for `key`, if set.
pub fn lookup<'a>(env: CArgs<'a>, key: &[u8]) -> Option<&'a CStr> {
    env.iter().find(|e| {
        let b = e.to_bytes();
        b.len() > key.len() && b[key.len()] == b'=' && &b[..key.len()] == key
    })
}

/// Fills `out` (sized by [`slots_needed`]) and returns the value of PATH in it, which is
/// where the command is looked up, as docker does. `table` is scratch space of
/// [`table_len`] entries; `home` is the `HOME=` entry ([`ROOT_HOME`] without `-u`).
pub fn build<'a>(
    out: &mut PtrArray<'a>,
    table: &mut [u32],
    cfg: &RunConfig<'a>,
    host_env: CArgs<'a>,
    hostname: &'a CStr,
    home: &'a CStr,
) -> &'a [u8] {
    for d in [Some(DEFAULT_PATH), Some(hostname), Some(home), lookup(host_env, b"TERM")].into_iter().flatten() {
        out.push(d);
    }
    env_options(cfg.options, |v| {
        if crate::words::has(v.to_bytes(), b'=') {
            out.push(v);
        } else if let Some(entry) = lookup(host_env, v.to_bytes()) {
            out.push(entry);
        }
    });
    // Later entries win: `-e PATH=...` replaces the default, `-e X=1 -e X=2` gives 2.
    out.dedup_keep_last(table, env_key);
    path_of(out)
}

/// An OCI process's environment, exactly as config.json gives it (`out` has a slot per
/// entry and the NULL); returns its PATH, where the command is looked up.
pub fn exact<'a>(out: &mut PtrArray<'a>, env: CArgs<'a>) -> &'a [u8] {
    for e in env.iter() {
        out.push(e);
    }
    path_of(out)
}

/// The value of the PATH entry of a built environment (empty if the user removed it by
/// setting `-e PATH=`).
fn path_of<'a>(env: &PtrArray<'a>) -> &'a [u8] {
    env.iter().find_map(|e| e.to_bytes().strip_prefix(b"PATH=")).unwrap_or(b"")
}
