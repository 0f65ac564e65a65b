//! The number parsers of `limits`: `parse_size` (`-m`, `--memory-swap`), `parse_uint`
//! (`--pids-limit`, `--cpu-shares`) and `parse_cpus` (`--cpus`), against an independent
//! reference written here with u128 arithmetic, plus the round trip of an accepted size
//! through plain digits and through `push_size`'s binary units.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tinyctr::buf::Buf;
use tinyctr::limits::{parse_cpus, parse_size, parse_uint, push_size};

#[path = "../../tests/reference/mod.rs"]
mod reference;
use reference::{ref_cpus, ref_size, ref_uint};

fuzz_target!(|data: &[u8]| {
    assert_eq!(parse_uint(data), ref_uint(data));
    let size = parse_size(data);
    assert_eq!(size.ok(), ref_size(data), "{:?}", String::from_utf8_lossy(data));
    if let Ok(v) = size {
        // Plain digits parse back to the same value.
        assert_eq!(parse_size(v.to_string().as_bytes()), Ok(v));
        // push_size's "64 MiB" is "64m" to the parser.
        let mut b = Buf::<64>::new();
        push_size(&mut b, v);
        assert!(!b.overflowed());
        let text = std::str::from_utf8(b.as_bytes()).unwrap();
        let (num, unit) = text.split_once(' ').unwrap();
        let suffix = match unit {
            "TiB" => "",
            "GiB" => "g",
            "MiB" => "m",
            "KiB" => "k",
            _ => "",
        };
        let back = if unit == "TiB" {
            parse_size(format!("{}g", num.parse::<u64>().unwrap() * 1024).as_bytes())
        } else {
            parse_size(format!("{num}{suffix}").as_bytes())
        };
        assert_eq!(back, Ok(v), "{text}");
    }
    assert_eq!(parse_cpus(data).ok(), ref_cpus(data), "{:?}", String::from_utf8_lossy(data));
});
