//! The end of every scanning command: outcome → filters → sorted findings → reports → exit status.

use super::context::{load_baseline, RunContext};
use crate::error::describe_io;
use crate::exit;
use crate::finding::Finding;
use crate::outcome::Outcome;
use crate::policy::baseline::Baseline;
use crate::policy::config::Config;
use crate::report::{self, Format, Report, Style, Summary, Suppressed};
use crate::severity::Severity;
use crate::verification;
use crate::verify;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

/// Drops what the user accepted: inline markers, allowed paths and fingerprints, and the baseline.
/// Each is counted by reason, so the summary can say what was left out.
pub(crate) fn filter(
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

/// Filters, sorts, writes the report (and the SARIF and step-summary side outputs) and decides
/// the exit status.
pub(crate) fn finish(outcome: Outcome, cx: RunContext<'_>) -> i32 {
    let RunContext {
        common,
        config,
        diag,
        started,
        out,
        verify,
    } = cx;
    let baseline = match load_baseline(common, &config) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(io::stderr(), "stripe-scan: {e}");
            return exit::ERROR;
        }
    };
    let (mut kept, suppressed) = filter(outcome.findings, &config, baseline.as_ref());
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    if let Some(settings) = &verify {
        verify::verify(&mut kept, &config.rules, settings);
        // Keys Stripe says still work come first in every report: they are the ones to roll tonight.
        kept.sort_by_key(|f| report::status(f) != Some(verification::Status::Active));
    }
    let verified = verify.is_some().then(|| {
        verification::tally(
            kept.iter()
                .filter_map(|f| f.verification.as_ref().map(|v| (f.secret.fingerprint(), v))),
        )
    });
    let summary = Summary {
        files: outcome.stats.files,
        bytes: outcome.stats.bytes,
        findings: kept.len(),
        suppressed: suppressed.total(),
        suppressed_by: suppressed,
        errors: diag.errors(),
        skipped: diag.skipped(),
        elapsed_ms: started.elapsed().as_millis(),
        commits: outcome.commits,
        verified,
    };
    let fail_on = common.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    let report = Report {
        findings: &kept,
        rules: &config.rules,
        summary: &summary,
        show_secrets: common.show_secrets,
        fail_on,
        fail_on_verified: common.verify.fail_on_verified,
    };
    let to_terminal = out.is_none() && io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        quiet: common.quiet,
    };
    let failing = kept.iter().any(|f| report.fails(f));
    let mut write_failed = !write_main(common.format, &report, &style, out);
    if let Some(path) = &common.sarif_output {
        let written = File::create(path).and_then(|file| {
            let mut w = BufWriter::new(file);
            report::sarif::write(&report, &mut w)?;
            w.flush()
        });
        if let Err(e) = written {
            complain(&format!("--sarif-output {}", path.display()), &e);
            write_failed = true;
        }
    }
    if common.format == Format::Github {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            if let Err(e) = report::github::append_step_summary(&report, &path) {
                complain(&format!("GITHUB_STEP_SUMMARY {}", path.display()), &e);
                write_failed = true;
            }
        }
    }
    let unsettled = kept.iter().filter(|f| report.unsettled(f)).count();
    if unsettled > 0 {
        let _ = writeln!(
            io::stderr(),
            "stripe-scan: --fail-on-verified: {unsettled} finding{} at or above {fail_on} could not be verified (each says why), so this run cannot pass",
            if unsettled == 1 { "" } else { "s" }
        );
    }
    if !common.quiet {
        let _ = writeln!(io::stderr(), "{}", report::text::summary_line(&report));
    }
    if failing {
        exit::FINDINGS
    } else if summary.errors > 0 || write_failed || unsettled > 0 {
        exit::ERROR
    } else {
        exit::CLEAN
    }
}

/// The report in `--format`, to `--output` or stdout; false when it could not be written.
fn write_main(format: Format, report: &Report<'_>, style: &Style, out: Option<File>) -> bool {
    let written = match out {
        Some(file) => {
            let mut w = BufWriter::new(file);
            report::write(format, report, style, &mut w).and_then(|_| w.flush())
        }
        None => {
            let mut w = BufWriter::new(io::stdout().lock());
            report::write(format, report, style, &mut w).and_then(|_| w.flush())
        }
    };
    match written {
        // A reader that stopped early (`| head`) is not an error; the exit status still tells.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            complain("writing the report", &e);
            false
        }
        _ => true,
    }
}

fn complain(what: &str, e: &io::Error) {
    let _ = writeln!(io::stderr(), "stripe-scan: {what}: {}", describe_io(e));
}
