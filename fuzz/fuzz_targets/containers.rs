//! The archive readers, the decompressors and the decoding layers on arbitrary bytes: no panic,
//! no hang, bounded memory (tight limits), and every finding well-formed: a key that starts with
//! its rule's prefix, a path under the scanned file, a line and column from 1.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use stripe_scan::engine::limits::Limits;
use stripe_scan::engine::matcher::Matcher;
use stripe_scan::engine::scanner::{Origin, Scanner};
use stripe_scan::rules::{Place, RuleSet};

/// Limits small enough that a bomb costs milliseconds, deep enough to nest.
fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        Matcher::new(Arc::new(RuleSet::builtin().expect("rules")))
            .expect("matcher")
            .with_limits(Limits {
                expanded_bytes: 4 << 20,
                ratio: 100,
                members: 500,
                depth: 3,
                layers: 3,
            })
    })
}

/// Starts that lead the fuzzer into each reader: zip, gzip, bzip2, xz, zstd, and base64 of gzip
/// and of zip.
const MAGIC: [&[u8]; 8] = [
    b"",
    b"PK\x03\x04",
    &[0x1F, 0x8B, 0x08],
    b"BZh91AY&SY",
    &[0xFD, b'7', b'z', b'X', b'Z', 0x00],
    &[0x28, 0xB5, 0x2F, 0xFD],
    b"k: H4sI",
    b"k: UEsDB",
];

fuzz_target!(|input: &[u8]| {
    let Some((&steer, rest)) = input.split_first() else {
        return;
    };
    let mut data = MAGIC[usize::from(steer) % MAGIC.len()].to_vec();
    data.extend_from_slice(rest);
    let m = matcher();
    let mut scanner = Scanner::new(m, 0);
    let mut out = Vec::new();
    let notes = scanner.scan_bytes(
        &data,
        Origin {
            path: "fuzz",
            place: Place::WorkingTree,
        },
        &mut out,
    );
    for (what, _) in &notes {
        assert!(what.starts_with("fuzz"), "a note names what it is about: {what}");
    }
    for f in &out {
        assert!(f.path.starts_with("fuzz"));
        assert!(f.path == "fuzz" || f.member_at == Some(4));
        assert!(f.line >= 1 && f.column >= 1);
        let prefix = &m.rules().rules[f.rule].variants[f.variant].prefix;
        assert!(f.secret.as_bytes().starts_with(prefix));
        assert!(f.encoding.len() <= 3 + 3);
    }
    let _ = scanner.take_notes();
});
