//! Runs a command: settings from CLI and config, one source, the filters, one report writer, and
//! the exit status (0 clean, 1 findings, 2 error with no findings).

use crate::baseline::{Baseline, Entry, BASELINE_NAME};
use crate::cli::{BaselineArgs, Cli, Command, Common, HistoryArgs, RulesArgs, ScanArgs};
use crate::config::{self, Config};
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::report::{self, Format, Report, Style, Summary, Suppressed};
use crate::severity::Severity;
use crate::source::{files, history, Stats};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Scan(args) => scan(args),
        Command::Rules(args) => rules(args),
        Command::Baseline(args) => baseline(args),
        Command::Staged(args) => crate::source::staged::command(args),
        Command::InstallHook(args) => crate::hooks::install(args),
        Command::PrePush(args) => crate::hooks::pre_push(args),
        Command::History(args) => history_scan(args),
    };
    result.unwrap_or_else(|e| {
        let _ = writeln!(io::stderr(), "stripe-scan: {e}");
        EXIT_ERROR
    })
}

fn scan(args: ScanArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let (paths, root) = scan_paths(&args);
    let config = config::load(args.common.config.as_deref(), &root)?;
    // A bad baseline stops the run before the scan rather than after it.
    load_baseline(&args.common, &config)?;
    let out = open_output(args.common.output.as_deref())?;
    let diag = Diagnostics::default();
    let (findings, stats) = walk(&args, &paths, &config, &diag)?;
    Ok(finish(
        findings,
        stats,
        None,
        &config,
        &args.common,
        &diag,
        started,
        out,
    ))
}

/// The paths to scan and the scan root (the one directory given, else `.`).
fn scan_paths(args: &ScanArgs) -> (Vec<PathBuf>, PathBuf) {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let root = match paths.as_slice() {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    };
    (paths, root)
}

fn walk(
    args: &ScanArgs,
    paths: &[PathBuf],
    config: &Config,
    diag: &Diagnostics,
) -> Result<(Vec<Finding>, Stats), Error> {
    let matcher = Matcher::new(config.rules.clone()).map_err(Error::Usage)?;
    let opts = files::WalkOptions {
        no_ignore: args.no_ignore,
        follow_links: args.follow,
        threads: threads(&args.common),
        max_file_size: args.max_file_size,
    };
    Ok(files::scan(paths, &opts, &matcher, &config.allow, diag))
}

/// `--baseline FILE`, else `baseline = …` from the config, else none.
fn load_baseline(common: &Common, config: &Config) -> Result<Option<Baseline>, Error> {
    match common.baseline.as_deref().or(config.baseline.as_deref()) {
        Some(path) => Baseline::load(path).map(Some),
        None => Ok(None),
    }
}

/// `stripe-scan baseline`: scans like `scan`, then records every key reported (after the
/// allowlists) in the baseline file, keeping the entries already there unless `--prune`.
fn baseline(args: BaselineArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let scan = &args.scan;
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
    let (findings, stats) = walk(scan, &paths, &config, &diag)?;
    let (mut kept, suppressed) = filter(findings, &config, None);
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
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    })
}

/// Drops what the user accepted: inline markers, allowed paths and fingerprints, and the baseline.
/// Each is counted by reason, so the summary can say what was left out.
fn filter(
    findings: Vec<Finding>,
    config: &Config,
    baseline: Option<&Baseline>,
) -> (Vec<Finding>, Suppressed) {
    let mut suppressed = Suppressed::default();
    let mut kept = Vec::with_capacity(findings.len());
    for f in findings {
        if f.inline_allowed {
            suppressed.inline += 1;
        } else if config.allow.path_allowed(&f.path) {
            suppressed.path += 1;
        } else {
            let fingerprint = f.secret.fingerprint();
            if config.allow.fingerprint_allowed(&fingerprint) {
                suppressed.fingerprint += 1;
            } else if baseline.is_some_and(|b| b.contains(&fingerprint)) {
                suppressed.baseline += 1;
            } else {
                kept.push(f);
            }
        }
    }
    (kept, suppressed)
}

fn history_scan(args: HistoryArgs) -> Result<i32, Error> {
    let started = Instant::now();
    // From the environment, as git does: GIT_DIR, or the repository around the current directory.
    let repo = git2::Repository::open_from_env().map_err(|e| {
        Error::Usage(format!(
            "history: not in a git repository ({})",
            e.message()
        ))
    })?;
    let root = repo
        .workdir()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let config = config::load(args.common.config.as_deref(), &root)?;
    let out = open_output(args.common.output.as_deref())?;
    let matcher = Matcher::new(config.rules.clone()).map_err(Error::Usage)?;
    let diag = Diagnostics::default();
    let opts = history::Options {
        revs: &args.revs,
        since_commit: args.since_commit.as_deref(),
        threads: threads(&args.common),
        progress: !args.common.quiet && io::stderr().is_terminal(),
    };
    let outcome = history::scan(&repo, &opts, &matcher, &diag)?;
    Ok(finish(
        outcome.findings,
        outcome.stats,
        Some(outcome.commits),
        &config,
        &args.common,
        &diag,
        started,
        out,
    ))
}

/// More threads than this only wait on the disk; thousands fail to spawn and would abort the scan.
const MAX_THREADS: usize = 256;

pub(crate) fn threads(common: &Common) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .min(MAX_THREADS)
}

/// Output is opened before anything is scanned, so a bad `--output` costs nothing.
pub(crate) fn open_output(path: Option<&Path>) -> Result<Option<File>, Error> {
    match path {
        None => Ok(None),
        Some(p) => File::create(p)
            .map(Some)
            .map_err(|e| Error::Usage(format!("--output {}: {}", p.display(), describe_io(&e)))),
    }
}

/// Filters, sorts, writes the report and decides the exit status.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    findings: Vec<Finding>,
    stats: Stats,
    commits: Option<u64>,
    config: &Config,
    common: &Common,
    diag: &Diagnostics,
    started: Instant,
    out: Option<File>,
) -> i32 {
    let rules = &config.rules;
    let baseline = match load_baseline(common, config) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(io::stderr(), "stripe-scan: {e}");
            return EXIT_ERROR;
        }
    };
    let (mut kept, suppressed) = filter(findings, config, baseline.as_ref());
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let summary = Summary {
        files: stats.files,
        bytes: stats.bytes,
        findings: kept.len(),
        suppressed: suppressed.total(),
        suppressed_by: suppressed,
        errors: diag.errors(),
        skipped: diag.skipped(),
        elapsed_ms: started.elapsed().as_millis(),
        commits,
    };
    let fail_on = common
        .fail_on
        .map(Severity::from)
        .or(config.fail_on)
        .unwrap_or(Severity::Low);
    let report = Report {
        findings: &kept,
        rules,
        summary: &summary,
        show_secrets: common.show_secrets,
        fail_on,
    };
    let to_terminal = out.is_none() && io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        quiet: common.quiet,
    };
    let failing = kept.iter().any(|f| report.fails(f));
    let written = match out {
        Some(file) => {
            let mut w = BufWriter::new(file);
            report::write(common.format, &report, &style, &mut w).and_then(|_| w.flush())
        }
        None => {
            let mut w = BufWriter::new(io::stdout().lock());
            report::write(common.format, &report, &style, &mut w).and_then(|_| w.flush())
        }
    };
    let mut write_failed = false;
    if let Err(e) = written {
        // A reader that stopped early (`| head`) is not an error; the exit status still tells.
        if e.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(
                io::stderr(),
                "stripe-scan: writing the report: {}",
                describe_io(&e)
            );
            write_failed = true;
        }
    }
    if let Some(path) = &common.sarif_output {
        let written = File::create(path).and_then(|file| {
            let mut w = BufWriter::new(file);
            report::sarif::write(&report, &mut w)?;
            w.flush()
        });
        if let Err(e) = written {
            let _ = writeln!(
                io::stderr(),
                "stripe-scan: --sarif-output {}: {}",
                path.display(),
                describe_io(&e)
            );
            write_failed = true;
        }
    }
    if common.format == Format::Github {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            if let Err(e) = report::github::append_step_summary(&report, &path) {
                let _ = writeln!(
                    io::stderr(),
                    "stripe-scan: GITHUB_STEP_SUMMARY {}: {}",
                    path.display(),
                    describe_io(&e)
                );
                write_failed = true;
            }
        }
    }
    if !common.quiet {
        let _ = writeln!(io::stderr(), "{}", report::text::summary_line(&report));
    }
    if failing {
        EXIT_FINDINGS
    } else if summary.errors > 0 || write_failed {
        EXIT_ERROR
    } else {
        EXIT_CLEAN
    }
}

fn rules(args: RulesArgs) -> Result<i32, Error> {
    let config = config::load(args.config.as_deref(), Path::new("."))?;
    let mut out = BufWriter::new(io::stdout().lock());
    let result = match args.format {
        Format::Json => {
            let list: Vec<_> = config
                .rules
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "kind": r.kind,
                        "description": r.description,
                        "origin": r.origin,
                        "variants": r.variants.iter().map(|v| serde_json::json!({
                            "prefix": String::from_utf8_lossy(&v.prefix),
                            "mode": v.mode.map(|m| m.as_str()),
                            "severity": v.severity.as_str(),
                            "label": v.label,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &list)
                .map_err(io::Error::from)
                .and_then(|_| writeln!(out))
        }
        Format::Sarif => {
            let summary = Summary::default();
            let report = Report {
                findings: &[],
                rules: &config.rules,
                summary: &summary,
                show_secrets: false,
                fail_on: config.fail_on.unwrap_or(Severity::Low),
            };
            report::sarif::write(&report, &mut out)
        }
        Format::Github => {
            return Err(Error::Usage(
                "rules: --format github is for scan results; use text, json or sarif".into(),
            ))
        }
        Format::Text => (|| {
            for r in &config.rules.rules {
                writeln!(out, "{}  ({}, from {})", r.id, r.kind, r.origin)?;
                for v in &r.variants {
                    writeln!(
                        out,
                        "    {:<16} {:<8} {:<5} {}",
                        String::from_utf8_lossy(&v.prefix),
                        v.severity.as_str(),
                        v.mode.map_or("-", |m| m.as_str()),
                        v.label
                    )?;
                }
            }
            Ok(())
        })(),
    };
    match result.and_then(|_| out.flush()) {
        Ok(()) => Ok(EXIT_CLEAN),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(EXIT_CLEAN),
        Err(e) => Err(Error::Usage(format!("writing: {}", describe_io(&e)))),
    }
}
