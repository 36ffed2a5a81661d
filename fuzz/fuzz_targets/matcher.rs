//! The matcher and the scanner on arbitrary bytes: no panic; hits in order, in bounds, each
//! starting with its rule's prefix and within its rule's length; and the streaming path, with any
//! chunk size and read sizes, finds exactly what the in-memory path finds.

#![no_main]

#[path = "common.rs"]
mod common;

use common::{matcher, steer, Dribble};
use libfuzzer_sys::fuzz_target;
use stripe_scan::finding::Finding;
use stripe_scan::rules::Place;
use stripe_scan::engine::scanner::{Origin, Scanner};

const ORIGIN: Origin<'static> = Origin {
    path: "fuzz",
    place: Place::WorkingTree,
};

fn same(a: &[Finding], b: &[Finding]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (
                x.rule,
                x.variant,
                x.line,
                x.column,
                x.confidence,
                x.public_example,
                x.inline_allowed,
            ) == (
                y.rule,
                y.variant,
                y.line,
                y.column,
                y.confidence,
                y.public_example,
                y.inline_allowed,
            ) && x.secret.as_bytes() == y.secret.as_bytes()
        })
}

fuzz_target!(|input: &[u8]| {
    let (chunk, sizes, data) = steer(input);
    let m = matcher();
    let rules = m.rules();

    let mut hits = Vec::new();
    m.find(data, 0, data.len(), &mut hits);
    let mut last_end = 0;
    for h in &hits {
        let rule = &rules.rules[h.rule];
        let prefix = &rule.variants[h.variant].prefix;
        assert!(h.start >= last_end, "hits overlap or are out of order");
        assert!(h.end <= data.len(), "hit past the end");
        assert!(
            data[h.start..h.end].starts_with(prefix),
            "hit without its prefix"
        );
        let body = h.end - h.start - prefix.len();
        assert!(
            body >= rule.min_len && body <= rule.max_len,
            "body length out of bounds"
        );
        last_end = h.end;
    }

    let mut whole = Vec::new();
    let _notes = Scanner::new(m, 0).scan_bytes(data, ORIGIN, &mut whole);
    for f in &whole {
        let prefix = &f.variant_of(rules).prefix;
        assert!(
            f.secret.as_bytes().starts_with(prefix),
            "finding without its prefix"
        );
        assert!(f.line >= 1 && f.column >= 1);
    }
    let mut streamed = Vec::new();
    let reader = Dribble { data, sizes, i: 0 };
    let n = Scanner::new(m, 0)
        .with_chunk(chunk)
        .scan_reader(reader, ORIGIN, &mut streamed)
        .expect("reading memory cannot fail");
    assert_eq!(n, data.len() as u64, "bytes read");
    assert!(
        same(&whole, &streamed),
        "scan_reader differs from scan_bytes"
    );
});
