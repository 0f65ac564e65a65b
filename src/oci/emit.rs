//! The JSON tinyctr writes for the runtime contract, into a caller's fixed buffer: the
//! state (`state`, and hooks' stdin), `ps --format json`, `--log` lines and `features`;
//! and RFC 3339 UTC time, with a correct civil-from-days conversion.
//!
//! [`Out`] counts what did not fit instead of cutting it: [`Out::done`] gives the text only
//! when all of it is there, and [`Out::needed`] says how much room that takes, so a caller
//! with unbounded input (annotations) can size a mapping and write again.

use super::names;
use crate::buf::fmt_u64;

/// The version of the runtime spec whose state tinyctr writes.
pub const OCI_VERSION: &str = "1.0.2";

pub struct Out<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Out<'b> {
    pub fn new(buf: &'b mut [u8]) -> Out<'b> {
        Out { buf, len: 0 }
    }

    /// The whole text, or `None` if it did not fit.
    pub fn done(&self) -> Option<&[u8]> {
        self.buf.get(..self.len)
    }

    /// Bytes the whole text takes.
    pub fn needed(&self) -> usize {
        self.len
    }

    #[inline(never)]
    pub fn raw(&mut self, s: &[u8]) -> &mut Self {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + s.len()) {
            dst.copy_from_slice(s);
        }
        self.len += s.len();
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        let mut tmp = [0; 20];
        self.raw(fmt_u64(v, &mut tmp))
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        if v < 0 {
            self.raw(b"-");
        }
        self.u64(v.unsigned_abs())
    }

    /// `v` in at least `width` digits, zero-padded.
    fn padded(&mut self, v: u64, width: usize) -> &mut Self {
        let mut tmp = [0; 20];
        let digits = fmt_u64(v, &mut tmp);
        for _ in digits.len()..width {
            self.raw(b"0");
        }
        self.raw(digits)
    }

    /// `s` as a JSON string: quoted, with `"`, `\` and control characters escaped. Other
    /// bytes pass as they are (what is not UTF-8 a Go reader turns into U+FFFD).
    pub fn str(&mut self, s: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.raw(b"\"");
        for &c in s {
            match c {
                b'"' | b'\\' => self.raw(&[b'\\', c]),
                b'\n' => self.raw(b"\\n"),
                b'\t' => self.raw(b"\\t"),
                b'\r' => self.raw(b"\\r"),
                0..=0x1f => self.raw(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]),
                _ => self.raw(&[c]),
            };
        }
        self.raw(b"\"")
    }

    /// The words of a name table as an array of strings, each with `prefix`.
    fn words(&mut self, table: &str, prefix: &str) -> &mut Self {
        self.words_and(table, prefix, b"")
    }

    /// [`Out::words`], then `more`: further items as JSON, each after its comma.
    fn words_and(&mut self, table: &str, prefix: &str, more: &[u8]) -> &mut Self {
        self.raw(b"[");
        for (i, w) in names::words(table).enumerate() {
            if i > 0 {
                self.raw(b",");
            }
            self.raw(b"\"").raw(prefix.as_bytes()).raw(w).raw(b"\"");
        }
        self.raw(more).raw(b"]")
    }

    /// `secs` since the epoch as RFC 3339 UTC, `2026-12-02T01:00:00Z`; with `nanos`, nine
    /// digits of fraction (`...:00.064510856Z`, as runc writes the state's `created`).
    pub fn time(&mut self, secs: i64, nanos: Option<u32>) -> &mut Self {
        let (days, s) = (secs.div_euclid(86400), secs.rem_euclid(86400) as u64);
        let (y, m, d) = civil_from_days(days);
        self.padded(y as u64, 4).raw(b"-").padded(m as u64, 2).raw(b"-").padded(d as u64, 2);
        self.raw(b"T").padded(s / 3600, 2).raw(b":").padded(s / 60 % 60, 2).raw(b":").padded(s % 60, 2);
        if let Some(ns) = nanos {
            self.raw(b".").padded(ns as u64, 9);
        }
        self.raw(b"Z")
    }
}

/// The proleptic Gregorian date of day `z` since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`: eras of 400 years, each 146097 days, years starting in March so the
/// leap day comes last). Years before 0 or after 9999 are not written correctly by
/// [`Out::time`]; a clock does not give them.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], from March
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    (y, m, d)
}

/// What `state` reports about one container.
pub struct State<'s> {
    pub id: &'s [u8],
    /// `creating`, `created`, `running`, `stopped` (or `paused`, as runc says).
    pub status: &'s str,
    /// The init's host pid; 0 when there is none.
    pub pid: i32,
    /// Absolute.
    pub bundle: &'s [u8],
    pub rootfs: &'s [u8],
    /// When `create` ran: seconds and nanoseconds since the epoch.
    pub created: (i64, u32),
    /// config.json's `annotations` object as written; empty: none.
    pub annotations: &'s [u8],
}

/// The state JSON, as runc writes it (go-runc's `Container` reads `id`, `pid`, `status`,
/// `bundle`, `rootfs`, `created`, `annotations`).
pub fn state(s: &State<'_>, o: &mut Out<'_>) {
    o.raw(b"{\"ociVersion\":\"").raw(OCI_VERSION.as_bytes()).raw(b"\",\"id\":").str(s.id);
    o.raw(b",\"pid\":").i64(s.pid as i64).raw(b",\"status\":").str(s.status.as_bytes());
    o.raw(b",\"bundle\":").str(s.bundle).raw(b",\"rootfs\":").str(s.rootfs);
    o.raw(b",\"created\":\"").time(s.created.0, Some(s.created.1)).raw(b"\",\"owner\":\"\",\"annotations\":");
    o.raw(if s.annotations.is_empty() { b"{}" } else { s.annotations }).raw(b"}");
}

/// Room enough for [`state`] of `s`: every string escaped (at most 6 bytes a byte), the
/// annotations as they are, and the keys.
pub fn state_room(s: &State<'_>) -> usize {
    s.annotations.len() + 6 * (s.id.len() + s.bundle.len() + s.rootfs.len()) + 512
}

/// `ps --format json`: the pids as a JSON array, `[19604,19611]`.
pub fn ps(pids: impl IntoIterator<Item = u64>, o: &mut Out<'_>) {
    o.raw(b"[");
    for (i, p) in pids.into_iter().enumerate() {
        if i > 0 {
            o.raw(b",");
        }
        o.u64(p);
    }
    o.raw(b"]");
}

/// One `--log-format json` line: `{"level":"error","msg":"...","time":"...Z"}` and a
/// newline (containerd shows the last error's `msg`, and needs `time` in RFC 3339).
pub fn log_line(level: &str, msg: &[u8], secs: i64, o: &mut Out<'_>) {
    o.raw(b"{\"level\":").str(level.as_bytes()).raw(b",\"msg\":").str(msg);
    o.raw(b",\"time\":\"").time(secs, None).raw(b"\"}\n");
}

/// The features document (runtime-spec features.md), listing what tinyctr recognises:
/// the same tables the config parser uses. No systemd cgroup driver (there may be no
/// systemd), no SELinux or Intel RDT; AppArmor profiles are applied (crate::oci::lsm).
#[inline(never)]
pub fn features(o: &mut Out<'_>) {
    // Every hook kind (hooks.rs).
    o.raw(b"{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\",\"hooks\":").words(names::HOOKS, "");
    // The flags, then runc's extension (crate::rootfs::copyup).
    o.raw(b",\"mountOptions\":").words_and(names::MOUNT_OPTIONS, "", b",\"tmpcopyup\",\"notmpcopyup\"");
    o.raw(b",\"linux\":{\"namespaces\":").words(names::NAMESPACES, "");
    o.raw(b",\"capabilities\":").words(names::CAPS, "CAP_");
    o.raw(b",\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false,\"rdma\":false}");
    o.raw(b",\"seccomp\":{\"enabled\":true,\"actions\":").words(names::SECCOMP_ACTIONS, "SCMP_ACT_");
    o.raw(b",\"operators\":").words(names::SECCOMP_OPS, "SCMP_CMP_");
    o.raw(b",\"archs\":").words(names::SECCOMP_ARCHS, "SCMP_ARCH_");
    o.raw(b"},\"apparmor\":{\"enabled\":true},\"selinux\":{\"enabled\":false},\"intelRdt\":{\"enabled\":false}}}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Out<'_>)) -> String {
        let mut buf = vec![0; 65536];
        let mut o = Out::new(&mut buf);
        f(&mut o);
        String::from_utf8(o.done().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn civil_dates_match_a_day_by_day_count() {
        // Walk day by day from 1970 forwards and backwards with the Gregorian rules.
        fn leap(y: i64) -> bool {
            y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        }
        fn days_in(y: i64, m: u32) -> u32 {
            [31, if leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1]
        }
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for z in 0..800_000i64 {
            assert_eq!(civil_from_days(z), (y, m, d), "day {z}");
            d += 1;
            if d > days_in(y, m) {
                (d, m) = (1, m + 1);
                if m > 12 {
                    (m, y) = (1, y + 1);
                }
            }
        }
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for z in (-800_000..0i64).rev() {
            if d == 1 {
                if m == 1 {
                    (m, y) = (12, y - 1);
                } else {
                    m -= 1;
                }
                d = days_in(y, m);
            } else {
                d -= 1;
            }
            assert_eq!(civil_from_days(z), (y, m, d), "day {z}");
        }
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            text(|o| {
                o.time(0, None);
            }),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            text(|o| {
                o.time(1_796_173_200, None);
            }),
            "2026-12-02T01:00:00Z"
        );
        assert_eq!(
            text(|o| {
                o.time(951_782_400, Some(64_510_856));
            }),
            "2000-02-29T00:00:00.064510856Z"
        );
        assert_eq!(
            text(|o| {
                o.time(-1, Some(999_999_999));
            }),
            "1969-12-31T23:59:59.999999999Z"
        );
        assert_eq!(
            text(|o| {
                o.time(253_402_300_799, None);
            }),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            text(|o| {
                o.str(b"a\"b\\c\nd\te\x01\x1f\r/\xc3\xa9");
            }),
            "\"a\\\"b\\\\c\\nd\\te\\u0001\\u001f\\r/é\""
        );
    }

    #[test]
    fn state_log_ps() {
        let s = State {
            id: b"t6",
            status: "running",
            pid: 20239,
            bundle: b"/b/t6",
            rootfs: b"/b/t6/rootfs",
            created: (1_796_173_200, 5),
            annotations: b"",
        };
        assert_eq!(
            text(|o| state(&s, o)),
            r#"{"ociVersion":"1.0.2","id":"t6","pid":20239,"status":"running","bundle":"/b/t6","rootfs":"/b/t6/rootfs","created":"2026-12-02T01:00:00.000000005Z","owner":"","annotations":{}}"#
        );
        let s = State { annotations: br#"{"a": "b"}"#, ..s };
        assert!(text(|o| state(&s, o)).ends_with(r#""owner":"","annotations":{"a": "b"}}"#));
        assert_eq!(
            text(|o| log_line("error", b"exec \"x\": ENOENT", 1_796_173_200, o)),
            "{\"level\":\"error\",\"msg\":\"exec \\\"x\\\": ENOENT\",\"time\":\"2026-12-02T01:00:00Z\"}\n"
        );
        assert_eq!(text(|o| ps([19604, 19611], o)), "[19604,19611]");
        assert_eq!(text(|o| ps([], o)), "[]");
    }

    #[test]
    fn overflow_is_counted_not_cut() {
        let mut buf = [0u8; 8];
        let mut o = Out::new(&mut buf);
        o.str(b"0123456789");
        assert!(o.done().is_none());
        assert_eq!(o.needed(), 12);
    }
}
