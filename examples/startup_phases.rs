//! The fixed costs of a pre-commit run, each timed alone (best of many, warm): parsing the
//! built-in rules, building the matcher, and parsing an index file.
//!
//! `cargo run --release --example startup_phases -- path/to/.git/index`

use std::sync::Arc;
use std::time::Instant;

use stripe_scan::engine::matcher::Matcher;
use stripe_scan::git::index::Index;
use stripe_scan::rules::RuleSet;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    best
}

fn main() {
    let rules = Arc::new(RuleSet::builtin().expect("built-in rules"));
    println!(
        "built-in rules: {:.3} ms",
        best_of(200, || RuleSet::builtin().expect("built-in rules"))
    );
    println!(
        "matcher:        {:.3} ms",
        best_of(200, || Matcher::new(rules.clone()).expect("matcher"))
    );
    if let Some(path) = std::env::args().nth(1) {
        let data = std::fs::read(&path).expect("index file");
        let ms = best_of(200, || Index::parse(&data).map(|i| i.entries.len()));
        println!("index ({} bytes): {ms:.3} ms", data.len());
    }
}
