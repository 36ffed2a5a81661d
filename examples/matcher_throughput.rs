//! Matcher throughput on files held in memory, so the number measures the matcher alone (no walk,
//! no I/O): `cargo run --release --example matcher_throughput -- DIR [ROUNDS]`.

use std::sync::Arc;
use std::time::Instant;
use stripe_scan::engine::matcher::Matcher;
use stripe_scan::rules::RuleSet;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() && e.file_name() != ".git" => stack.push(p),
                Ok(t) if t.is_file() => {
                    if let Ok(b) = std::fs::read(&p) {
                        files.push(b);
                    }
                }
                _ => {}
            }
        }
    }
    let bytes: usize = files.iter().map(Vec::len).sum();
    let rules = Arc::new(RuleSet::builtin().expect("rules"));
    let m = Matcher::new(rules).expect("matcher");
    let mut best = f64::MAX;
    let mut hits = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let mut n = 0;
        for f in &files {
            hits.clear();
            m.find(f, 0, f.len(), &mut hits);
            n += hits.len();
        }
        let s = t.elapsed().as_secs_f64();
        best = best.min(s);
        eprintln!(
            "{n} hits in {} files, {:.1} MB: {:.1} ms",
            files.len(),
            bytes as f64 / 1e6,
            s * 1e3
        );
    }
    println!(
        "best {:.1} ms, {:.0} MB/s",
        best * 1e3,
        bytes as f64 / 1e6 / best
    );
}
