//! The end of every scanning command: outcome → filters → sorted findings → reports → exit status.

use super::context::RunContext;
use crate::cli::ColorChoice;
use crate::error::describe_io;
use crate::exit;
use crate::finding::Finding;
use crate::org::{self, report::RunReport};
use crate::outcome::Outcome;
use crate::paths::Frame;
use crate::policy::baseline::{Baseline, Known};
use crate::policy::config::Config;
use crate::report::{self, Format, Report, Style, Summary, Suppressed};
use crate::severity::Severity;
use crate::verification;
use crate::verify;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

/// Drops what the user accepted: inline markers, allowed paths and fingerprints, and the key
/// occurrences the baseline lists. Each is counted by reason, so the summary can say what was
/// left out. A baselined key at a path the baseline does not list stays, marked as a known key
/// in a new location.
pub(crate) fn filter(
    findings: Vec<Finding>,
    config: &Config,
    baseline: Option<&Baseline>,
    frame: &Frame,
) -> (Vec<Finding>, Suppressed) {
    let mut suppressed = Suppressed::default();
    let mut kept = Vec::with_capacity(findings.len());
    for mut f in findings {
        if f.inline_allowed {
            suppressed.inline += 1;
        } else if config.allow.path_allowed(frame, &f.path) {
            suppressed.path += 1;
        } else {
            let fingerprint = f.secret.fingerprint();
            if config.allow.fingerprint_allowed(&fingerprint) {
                suppressed.fingerprint += 1;
                continue;
            }
            let known = baseline.map_or(Known::No, |b| {
                b.knows(&fingerprint, &b.path_of(frame, &f.path))
            });
            match known {
                Known::Here => suppressed.baseline += 1,
                Known::Elsewhere => {
                    f.known_elsewhere = true;
                    kept.push(f);
                }
                Known::No => kept.push(f),
            }
        }
    }
    (kept, suppressed)
}

/// Whether the text report is coloured: `--color`, else a terminal that can show it (no
/// `NO_COLOR`, no `TERM=dumb`).
fn use_color(choice: ColorChoice, to_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// Columns to wrap the text report at, on a terminal only (`COLUMNS` first, as shells set it,
/// then the terminal's own width); a file or a pipe gets whole lines, so tools can read them.
fn wrap_width(to_terminal: bool) -> Option<usize> {
    if !to_terminal {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(terminal_width)
}

#[cfg(unix)]
fn terminal_width() -> Option<usize> {
    // SAFETY: TIOCGWINSZ fills the winsize struct we pass and reads nothing else; on failure the
    // struct is ignored.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        (libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0)
            .then_some(ws.ws_col as usize)
    }
}

#[cfg(not(unix))]
fn terminal_width() -> Option<usize> {
    None
}

/// Filters, sorts, writes the report (and the SARIF and step-summary side outputs) and decides
/// the exit status.
pub(crate) fn finish(outcome: Outcome, cx: RunContext<'_>) -> i32 {
    let RunContext {
        common,
        config,
        baseline,
        frame,
        color,
        diag,
        started,
        out,
        verify,
    } = cx;
    let (mut kept, suppressed) = filter(outcome.findings, &config, baseline.as_ref(), &frame);
    kept.sort_by(|a, b| a.sort_key(&config.rules).cmp(&b.sort_key(&config.rules)));
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
        ignored: outcome.stats.ignored,
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
        frame: &frame,
        fail_on_verified: common.verify.fail_on_verified,
    };
    let to_terminal = out.is_none() && io::stdout().is_terminal();
    let style = Style {
        color: use_color(color, to_terminal),
        quiet: common.quiet,
        width: wrap_width(to_terminal),
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
    let clean = kept.is_empty() && summary.errors == 0 && !write_failed;
    let silent = common.quiet || (clean && common.quiet_if_clean);
    if !silent {
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
    write_out(out, |w| report::write(format, report, style, w))
}

/// Writes with `write` to `out` or stdout; false when that failed.
fn write_out(out: Option<File>, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> bool {
    let written = match out {
        Some(file) => {
            let mut w = BufWriter::new(file);
            write(&mut w).and_then(|_| w.flush())
        }
        None => {
            let mut w = BufWriter::new(io::stdout().lock());
            write(&mut w).and_then(|_| w.flush())
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

/// The end of a run over many repositories (`history --repos`, `merge`): the grouped report, the
/// job summary with `--format github`, the summary line, and the exit status.
pub(crate) fn many(
    report: &RunReport,
    format: Format,
    quiet: bool,
    color: ColorChoice,
    out: Option<File>,
) -> i32 {
    let to_terminal = out.is_none() && io::stdout().is_terminal();
    let style = Style {
        color: use_color(color, to_terminal),
        quiet,
        width: None,
    };
    let mut write_failed = !write_out(out, |w| org::output::write(format, report, &style, w));
    if format == Format::Github {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            let appended = report::github::append_summary(&path, |budget| {
                org::output::step_summary(report, budget)
            });
            if let Err(e) = appended {
                complain(&format!("GITHUB_STEP_SUMMARY {}", path.display()), &e);
                write_failed = true;
            }
        }
    }
    if !quiet {
        let _ = writeln!(io::stderr(), "{}", org::output::summary_line(report));
    }
    match report.exit_code() {
        exit::CLEAN if write_failed => exit::ERROR,
        code => code,
    }
}

fn complain(what: &str, e: &io::Error) {
    let _ = writeln!(io::stderr(), "stripe-scan: {what}: {}", describe_io(e));
}
