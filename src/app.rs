//! Runs a command: settings from CLI and config, one source, the filters, one report writer, and
//! the exit status (0 clean, 1 findings, 2 error with no findings).

use crate::cli::{Cli, Command, Common, HistoryArgs, RulesArgs, ScanArgs};
use crate::config::{self, Config};
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::matcher::Matcher;
use crate::report::{self, Format, Report, Style, Summary};
use crate::severity::Severity;
use crate::source::{files, history, Stats};
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
        Command::History(args) => history_scan(args),
    };
    result.unwrap_or_else(|e| {
        let _ = writeln!(io::stderr(), "stripe-scan: {e}");
        EXIT_ERROR
    })
}

fn scan(args: ScanArgs) -> Result<i32, Error> {
    let started = Instant::now();
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let root = match paths.as_slice() {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    };
    let config = config::load(args.common.config.as_deref(), &root)?;
    let out = open_output(args.common.output.as_deref())?;
    let matcher = Matcher::new(config.rules.clone()).map_err(Error::Usage)?;
    let diag = Diagnostics::default();
    let opts = files::WalkOptions {
        no_ignore: args.no_ignore,
        follow_links: args.follow,
        threads: threads(&args.common),
        max_file_size: args.max_file_size,
    };
    let (findings, stats) = files::scan(&paths, &opts, &matcher, &config.allow, &diag);
    Ok(finish(findings, stats, None, &config, &args.common, &diag, started, out))
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

fn threads(common: &Common) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// Output is opened before anything is scanned, so a bad `--output` costs nothing.
fn open_output(path: Option<&Path>) -> Result<Option<File>, Error> {
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
    let mut suppressed = 0;
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        if f.inline_allowed
            || config.allow.path_allowed(&f.path)
            || config.allow.fingerprint_allowed(&f.secret.fingerprint())
        {
            suppressed += 1;
        } else {
            kept.push(f);
        }
    }
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let summary = Summary {
        files: stats.files,
        bytes: stats.bytes,
        findings: kept.len(),
        suppressed,
        errors: diag.errors(),
        skipped: diag.skipped(),
        elapsed_ms: started.elapsed().as_millis(),
        commits,
    };
    let report = Report {
        findings: &kept,
        rules,
        summary: &summary,
        show_secrets: common.show_secrets,
    };
    let to_terminal = out.is_none() && io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        quiet: common.quiet,
    };
    let fail_on = common
        .fail_on
        .map(Severity::from)
        .or(config.fail_on)
        .unwrap_or(Severity::Low);
    let failing = kept
        .iter()
        .any(|f| !f.public_example && f.severity(rules) >= fail_on);
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
            let _ = writeln!(io::stderr(), "stripe-scan: writing the report: {}", describe_io(&e));
            write_failed = true;
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
