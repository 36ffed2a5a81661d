//! `stripe-scan baseline [--history]`: scans like `scan` (or like `history`), then records every
//! key occurrence reported in a baseline file, keeping the entries already there unless `--prune`.

use super::context::{baseline_base, baseline_file};
use super::finish::filter;
use super::scan::{frame_for, scan_paths, walk_paths, warn_unused_allow_paths};
use crate::cli::BaselineArgs;
use crate::diagnostics::Diagnostics;
use crate::error::Error;
use crate::exit;
use crate::git::repo;
use crate::history;
use crate::outcome::Outcome;
use crate::paths::{self, Frame};
use crate::policy::baseline::{Baseline, Entry, BASELINE_NAME};
use crate::policy::config::{self, shown, Config};
use crate::report::count;
use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn run(args: BaselineArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let scan = &args.scan;
    if scan.common.verify.verify {
        return Err(Error::Usage(
            "baseline: --verify is for scan, staged and history; a baseline records keys whatever Stripe says about them".into(),
        ));
    }
    let diag = Diagnostics::default();
    let (config, frame, outcome, default_dir) = if args.history {
        let repo = repo::open("baseline --history")?;
        let top = repo
            .workdir()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let config = config::load(scan.common.config.as_deref(), &top)?;
        let matcher = config.matcher()?;
        let revs: Vec<String> = scan
            .paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let opts = history::Options {
            revs: &revs,
            since_commit: None,
            threads: super::context::threads(&scan.common),
            progress: !scan.common.quiet && io::stderr().is_terminal(),
            messages: true,
            incoming: false,
            reader: crate::git::odb::ObjectReader::from_env()?,
        };
        let outcome = history::scan(&repo, &opts, &matcher, &diag)?;
        (config, Frame::new(&top, Some(&top)), outcome, top)
    } else {
        let (paths, root) = scan_paths(scan);
        let config = config::load(scan.common.config.as_deref(), &root)?;
        let frame = frame_for(&root);
        let outcome = walk_paths(scan, &paths, &config, &frame, &diag)?;
        warn_unused_allow_paths(&config, &paths);
        let dir = paths::repo_top(&root).unwrap_or(root);
        (config, frame, outcome, dir)
    };
    let target = scan
        .common
        .output
        .clone()
        .or_else(|| baseline_file(scan.common.baseline.as_deref(), &config).map(|f| f.path))
        .unwrap_or_else(|| shown(&default_dir.join(BASELINE_NAME)));
    let base = baseline_base(&target, &config);
    let mut base_file = if target.exists() {
        Baseline::load(&target, "the baseline being updated", &base)?
    } else {
        Baseline::new(&base)
    };
    record(
        &args,
        &config,
        &frame,
        outcome,
        &mut base_file,
        &target,
        &diag,
        started,
    )
}

/// Adds what the scan found to `baseline`, prunes if asked, saves, and says what changed.
#[allow(clippy::too_many_arguments)]
fn record(
    args: &BaselineArgs,
    config: &Config,
    frame: &Frame,
    outcome: Outcome,
    baseline: &mut Baseline,
    target: &Path,
    diag: &Diagnostics,
    started: Instant,
) -> Result<i32, Error> {
    let stats = outcome.stats;
    let commits = outcome.commits;
    let (kept, suppressed) = filter(outcome.findings, config, None, frame);
    let rules = &config.rules;
    let mut found = HashSet::new();
    let mut added = 0u64;
    for f in &kept {
        let path = baseline.path_of(frame, &f.path);
        let entry = Entry {
            fingerprint: f.secret.fingerprint(),
            kind: f.rule_of(rules).kind.clone(),
            rule: f.rule_of(rules).id.clone(),
            path,
        };
        found.insert((entry.path.clone(), entry.fingerprint.clone()));
        if baseline.insert(entry) {
            added += 1;
        }
    }
    let stale: Vec<Entry> = baseline
        .entries()
        .filter(|e| !found.contains(&(e.path.clone(), e.fingerprint.clone())))
        .cloned()
        .collect();
    let mut err = io::stderr().lock();
    let mut pruned = 0u64;
    if args.prune && diag.errors() > 0 {
        let _ = writeln!(
            err,
            "stripe-scan: not pruning: the scan is incomplete, so a missing key may only be unread"
        );
    } else if args.prune {
        for e in &stale {
            baseline.remove(e);
            pruned += 1;
            let _ = writeln!(
                err,
                "stripe-scan: pruned {} in {} ({}): no longer found",
                e.fingerprint,
                if e.path.is_empty() { "?" } else { &e.path },
                if e.kind.is_empty() {
                    "unknown kind"
                } else {
                    &e.kind
                },
            );
        }
    } else if !stale.is_empty() {
        let _ = writeln!(
            err,
            "stripe-scan: {} no longer found (kept; `stripe-scan baseline --prune` drops and lists them)",
            count(stale.len() as u64, "baseline entry", "baseline entries"),
        );
    }
    baseline.save(target)?;
    if !args.scan.common.quiet {
        let scope = match commits {
            Some(c) => format!(
                "{}, {}",
                count(c, "commit", "commits"),
                count(stats.files, "blob", "blobs")
            ),
            None => count(stats.files, "file", "files"),
        };
        let mut line = format!(
            "stripe-scan: wrote {}: {} of {} ({added} new, {} already recorded, {pruned} pruned) from {scope} in {:.2} s",
            target.display(),
            count(baseline.len() as u64, "occurrence", "occurrences"),
            count(baseline.key_count() as u64, "key", "keys"),
            found.len() as u64 - added.min(found.len() as u64),
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
            line.push_str(&format!(
                "; {}, scan incomplete",
                count(diag.errors() as u64, "error", "errors")
            ));
        }
        let _ = writeln!(err, "{line}");
    }
    Ok(if diag.errors() > 0 {
        exit::ERROR
    } else {
        exit::CLEAN
    })
}
