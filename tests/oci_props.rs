//! Property tests of the OCI JSON scanner and config parser, in the manner of props.rs: a
//! small deterministic generator (xorshift, fixed seeds: a failure reproduces exactly).
//! - Valid documents generated with every way JSON can spell a string (raw UTF-8, short
//!   escapes, `\u` escapes, surrogate pairs, random whitespace) read back exactly: every
//!   member name, every string (also packed into string lists), every number and boolean.
//! - Random bytes, and valid documents and captured config.json files with random
//!   mutations, never panic the parsers, and every error is one line naming the document.
//!
//! The same parsers are fuzzed under `fuzz/` (target `ocijson`).

use tinyctr::error::Error;
use tinyctr::oci::config;
use tinyctr::oci::json::{self, Json};
use tinyctr::oci::linux;

mod rng;
use rng::Rng;

/// A JSON value as generated, with its strings decoded.
#[derive(Clone, Debug)]
enum V {
    Obj(Vec<(String, V)>),
    Arr(Vec<V>),
    Str(String),
    Int(u64),
    Neg(i64),
    Float(String),
    Bool(bool),
    Null,
}

const CHARS: &[char] = &[
    'a',
    'Z',
    '0',
    ' ',
    '"',
    '\\',
    '/',
    '\n',
    '\t',
    '\u{1}',
    '\u{1f}',
    '\u{7f}',
    'é',
    '€',
    '\u{ffff}',
    '😀',
    '\u{10ffff}',
    '.',
];

fn gen_string(rng: &mut Rng) -> String {
    (0..rng.below(12)).map(|_| CHARS[rng.below(CHARS.len())]).collect()
}

fn gen(rng: &mut Rng, depth: usize) -> V {
    let leaf = depth >= 6 || rng.one_in(3);
    match if leaf { 2 + rng.below(6) } else { rng.below(2) } {
        0 => {
            let mut keys: Vec<String> = Vec::new();
            let mut members = Vec::new();
            for _ in 0..rng.below(6) {
                let k = gen_string(rng);
                // Distinct names, so the walk can match them one to one.
                if !keys.contains(&k) {
                    keys.push(k.clone());
                    members.push((k, gen(rng, depth + 1)));
                }
            }
            V::Obj(members)
        }
        1 => {
            let strings = rng.one_in(2);
            V::Arr(
                (0..rng.below(6))
                    .map(|_| if strings { V::Str(gen_string(rng)) } else { gen(rng, depth + 1) })
                    .collect(),
            )
        }
        2 | 3 => V::Str(gen_string(rng)),
        4 => V::Int(match rng.below(3) {
            0 => rng.below(10) as u64,
            1 => rng.next() >> rng.below(64),
            _ => u64::MAX,
        }),
        5 => V::Neg(-((rng.next() >> (1 + rng.below(63))) as i64) - 1),
        6 => V::Float(["0.5", "-1.25e3", "1E+2", "3e-7", "0.0"][rng.below(5)].into()),
        _ => {
            if rng.one_in(2) {
                V::Bool(rng.one_in(2))
            } else {
                V::Null
            }
        }
    }
}

fn ws(rng: &mut Rng, out: &mut String) {
    if rng.one_in(3) {
        for _ in 0..rng.below(3) {
            out.push([' ', '\n', '\t', '\r'][rng.below(4)]);
        }
    }
}

fn encode_string(rng: &mut Rng, s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        let forced = matches!(c, '"' | '\\') || (c as u32) < 0x20;
        match rng.below(4) {
            0 if !forced => out.push(c),
            1 => match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '/' => out.push_str("\\/"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                _ if !forced => out.push(c),
                _ => out.push_str(&format!("\\u{:04x}", c as u32)),
            },
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if rng.one_in(2) {
                        out.push_str(&format!("\\u{:04X}", u));
                    } else {
                        out.push_str(&format!("\\u{:04x}", u));
                    }
                }
            }
        }
    }
    out.push('"');
}

fn encode(rng: &mut Rng, v: &V, out: &mut String) {
    ws(rng, out);
    match v {
        V::Obj(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                encode_string(rng, k, out);
                ws(rng, out);
                out.push(':');
                encode(rng, v, out);
            }
            ws(rng, out);
            out.push('}');
        }
        V::Arr(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode(rng, v, out);
            }
            ws(rng, out);
            out.push(']');
        }
        V::Str(s) => encode_string(rng, s, out),
        V::Int(n) => out.push_str(&n.to_string()),
        V::Neg(n) => out.push_str(&n.to_string()),
        V::Float(f) => out.push_str(f),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Null => out.push_str("null"),
    }
    ws(rng, out);
}

/// Reads `v` from `j` the way a parser would, checking every decoded value.
fn walk(j: &mut Json<'_>, v: &V, rng: &mut Rng) {
    match v {
        V::Obj(members) => {
            let present: Vec<&(String, V)> = members.iter().filter(|(_, v)| !matches!(v, V::Null)).collect();
            let mut m = j.members("", 0);
            let mut i = 0;
            while m.next(j).is_some() {
                let (k, v) = present[i];
                assert_eq!(j.key().unwrap().to_str().unwrap(), k);
                if rng.one_in(4) {
                    j.skip();
                } else {
                    walk(j, v, rng);
                }
                i += 1;
            }
            assert_eq!(i, present.len());
        }
        V::Arr(items) if !items.is_empty() && items.iter().all(|v| matches!(v, V::Str(_))) && rng.one_in(2) => {
            let list = j.str_list(false);
            let got: Vec<&str> = list.iter().map(|c| c.to_str().unwrap()).collect();
            let want: Vec<&str> = items.iter().map(|v| if let V::Str(s) = v { s.as_str() } else { "" }).collect();
            assert_eq!(got, want);
        }
        V::Arr(items) => {
            let mut e = j.elements();
            let mut i = 0;
            while e.next(j).is_some() {
                walk(j, &items[i], rng);
                i += 1;
            }
            assert_eq!(i, items.len());
        }
        V::Str(s) => assert_eq!(j.cstr().to_str().unwrap(), s),
        V::Int(n) => assert_eq!(j.u64(), *n),
        V::Neg(n) => assert_eq!(j.int(i64::MIN, i64::MAX), *n),
        V::Bool(b) => assert_eq!(j.bool(), *b),
        V::Float(_) | V::Null => j.skip(),
    }
}

fn msg(e: Error) -> String {
    String::from_utf8_lossy(e.msg.as_bytes()).into_owned()
}

#[test]
fn generated_documents_read_back_exactly() {
    let mut rng = Rng::new(7);
    for round in 0..3000 {
        let members = match gen(&mut rng, 0) {
            V::Obj(m) => m,
            other => vec![("root".into(), other)],
        };
        let doc = V::Obj(members);
        let mut text = String::new();
        encode(&mut rng, &doc, &mut text);
        let mut buf = text.clone().into_bytes();
        let mut walker = Rng::new(round);
        json::read(&mut buf, "t.json", |j| walk(j, &doc, &mut walker))
            .unwrap_or_else(|e| panic!("round {round}: {}\n{text}", msg(e)));
        // Skipping the whole document leaves it byte for byte as it was.
        let mut buf = text.clone().into_bytes();
        let raw = json::read(&mut buf, "t.json", |j| j.raw_object().to_vec()).unwrap_or_else(|e| panic!("{}", msg(e)));
        assert_eq!(raw, text.trim_matches(|c| matches!(c, ' ' | '\n' | '\t' | '\r')).as_bytes());
    }
}

/// Runs every parser on `input`; none may panic, and an error is one line naming the
/// document.
fn parse_everything(input: &[u8]) {
    let mut buf = input.to_vec();
    if let Err(e) = config::parse(&mut buf, "config.json") {
        check_error(&e, "config.json: ");
    }
    let mut buf = input.to_vec();
    if let Err(e) = config::parse_process(&mut buf, "process.json") {
        check_error(&e, "process.json: ");
    }
    let mut buf = input.to_vec();
    if let Err(e) = linux::parse_resources(&mut buf, "resources") {
        check_error(&e, "resources: ");
    }
    let mut buf = input.to_vec();
    if let Err(e) = json::read(&mut buf, "any.json", |j| j.skip()) {
        check_error(&e, "any.json: ");
    }
}

fn check_error(e: &Error, prefix: &str) {
    let line = e.line();
    let text = String::from_utf8_lossy(line.as_bytes());
    assert!(text.starts_with(&format!("tinyctr: {prefix}")), "{text}");
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1, "{text}");
    assert_eq!(e.status, 125);
}

const FIXTURES: [&[u8]; 4] = [
    include_bytes!("fixtures/oci/ctr-run.json"),
    include_bytes!("fixtures/oci/ctr-run-seccomp.json"),
    include_bytes!("fixtures/oci/ctr-run-privileged.json"),
    include_bytes!("fixtures/oci/cri.json"),
];

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] =
        &[b"{", b"}", b"[", b"]", b"\"", b"\\", b":", b",", b"null", b"-", b"1e9", b"\\u", b"\\ud800", b"0"];
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            v.push(b'{');
        }
        let at = rng.below(v.len());
        match rng.below(5) {
            0 => v[at] = rng.next() as u8,
            1 => {
                v.remove(at);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.iter().copied());
            }
            3 => v.truncate(at),
            _ => {
                // Copy a slice of the document elsewhere (duplicates members, nests deeper).
                let end = (at + rng.below(200)).min(v.len());
                let piece = v[at..end].to_vec();
                let to = rng.below(v.len());
                v.splice(to..to, piece);
            }
        }
    }
    v
}

#[test]
fn mutated_configs_never_panic() {
    let mut rng = Rng::new(11);
    for base in FIXTURES {
        parse_everything(base);
        for _ in 0..1500 {
            parse_everything(&mutate(&mut rng, base));
        }
    }
    for _ in 0..2000 {
        let mut text = String::new();
        let v = gen(&mut rng, 0);
        encode(&mut rng, &v, &mut text);
        parse_everything(&mutate(&mut rng, text.as_bytes()));
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(13);
    const ALPHABET: &[u8] = b"{}[]\":,\\ u0123456789abcdef-+.eEtrufalsn\n\x00\xff";
    for _ in 0..20_000 {
        let len = rng.below(64);
        let v: Vec<u8> = (0..len)
            .map(|_| if rng.one_in(8) { rng.next() as u8 } else { ALPHABET[rng.below(ALPHABET.len())] })
            .collect();
        parse_everything(&v);
    }
    // Deep nesting of every kind stops at the limit, not the stack.
    for open in [&b"["[..], b"{\"a\":", b"[{\"a\":[", b"{\"linux\":{\"seccomp\":"] {
        parse_everything(&open.repeat(100_000));
    }
}

/// Found by the fuzzer: an error inside a skipped value leaves the skipped member names on
/// the path, and the walk goes on (annotations are split off) before the document's end is
/// checked; that check must not render a second message from the stale path.
#[test]
fn an_error_in_a_skipped_value_is_the_one_reported() {
    for text in [&br#"{"annotations":{"k":[1 2]}} x"#[..], br#"{"process":{"x":{"kA":[{"z":tru}]}},"hostname":"h"} ]"#]
    {
        let mut buf = text.to_vec();
        let e = config::parse(&mut buf, "config.json").err().unwrap();
        let m = msg(e);
        assert!(m.contains("at byte") && !m.contains("more data"), "{m}");
    }
    let mut buf = br#"{"annotations":{"k":[1 2]}} x"#.to_vec();
    assert_eq!(
        msg(config::parse(&mut buf, "config.json").err().unwrap()),
        "config.json: annotations.k: expected ',' or ']' at byte 23"
    );
}
