//! `stripe-scan baseline`: scans like `scan`, then records every key reported in a baseline file.

use super::finish::filter;
use super::scan::{scan_paths, walk_paths};
use crate::cli::BaselineArgs;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::exit;
use crate::policy::baseline::{Baseline, Entry, BASELINE_NAME};
use crate::policy::config;
use std::collections::HashSet;
use std::io::{self, Write};
use std::time::Instant;

/// `stripe-scan baseline`: scans like `scan`, then records every key reported (after the
/// allowlists) in the baseline file, keeping the entries already there unless `--prune`.
pub(crate) fn run(args: BaselineArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let scan = &args.scan;
    if scan.common.verify.verify {
        return Err(Error::Usage(
            "baseline: --verify is for scan, staged and history; a baseline records keys whatever Stripe says about them".into(),
        ));
    }
    let (paths, root) = scan_paths(scan);
    let config = config::load(scan.common.config.as_deref(), &root)?;
    let target = scan
        .common
        .output
        .clone()
        .or_else(|| scan.common.baseline.clone())
        .or_else(|| config.baseline.clone())
        .unwrap_or_else(|| root.join(BASELINE_NAME));
    let mut base = if target.exists() {
        Baseline::load(&target)?
    } else {
        Baseline::default()
    };
    let diag = Diagnostics::default();
    let outcome = walk_paths(scan, &paths, &config, &diag)?;
    let stats = outcome.stats;
    let (mut kept, suppressed) = filter(outcome.findings, &config, None);
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let rules = &config.rules;
    let mut found = HashSet::new();
    let mut added = 0;
    for f in &kept {
        let fingerprint = f.secret.fingerprint();
        found.insert(fingerprint.clone());
        let entry = Entry {
            fingerprint,
            kind: f.rule_of(rules).kind.clone(),
            rule: f.rule_of(rules).id.clone(),
            path: f.path.clone(),
        };
        if base.insert(entry) {
            added += 1;
        }
    }
    let stale: Vec<Entry> = base
        .entries()
        .filter(|e| !found.contains(&e.fingerprint))
        .cloned()
        .collect();
    let mut err = io::stderr().lock();
    let mut pruned = 0;
    if args.prune && diag.errors() > 0 {
        let _ = writeln!(
            err,
            "stripe-scan: not pruning: the scan is incomplete, so a missing key may only be unread"
        );
    } else if args.prune {
        for e in &stale {
            base.remove(&e.fingerprint);
            pruned += 1;
            let _ = writeln!(
                err,
                "stripe-scan: pruned {} ({}, first seen in {}): no longer found",
                e.fingerprint,
                if e.kind.is_empty() {
                    "unknown kind"
                } else {
                    &e.kind
                },
                if e.path.is_empty() { "?" } else { &e.path }
            );
        }
    } else if !stale.is_empty() {
        let _ = writeln!(
            err,
            "stripe-scan: {} baseline entr{} no longer found (kept; `stripe-scan baseline --prune` drops and lists them)",
            stale.len(),
            if stale.len() == 1 { "y" } else { "ies" }
        );
    }
    base.save(&target)?;
    if !scan.common.quiet {
        let mut line = format!(
            "stripe-scan: wrote {}: {} key{} ({added} new, {} already known, {pruned} pruned) from {} files in {:.2} s",
            target.display(),
            base.len(),
            if base.len() == 1 { "" } else { "s" },
            found.len() - added.min(found.len()),
            stats.files,
            started.elapsed().as_secs_f64()
        );
        if suppressed.total() > 0 {
            line.push_str(&format!(
                "; {} suppressed ({}) and not recorded",
                suppressed.total(),
                suppressed.describe()
            ));
        }
        if diag.errors() > 0 {
            line.push_str(&format!("; {} errors, scan incomplete", diag.errors()));
        }
        let _ = writeln!(err, "{line}");
    }
    Ok(if diag.errors() > 0 {
        exit::ERROR
    } else {
        exit::CLEAN
    })
}
