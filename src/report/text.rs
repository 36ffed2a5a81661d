//! The default report, for a person reading a terminal: findings grouped under a header line per
//! file; each finding line keeps `path:line:col` so editors and terminals can jump to it, then the
//! key type in words, the redacted key and the severity; below it the numbered steps. Steps already
//! printed for the same key type and place are referred to rather than repeated. `--quiet` prints
//! the finding lines alone.

use super::{status, Report, Style};
use crate::error::printable;
use crate::severity::Severity;
use crate::verification::Status;
use std::collections::HashSet;
use std::io::{self, Write};

pub fn write(report: &Report<'_>, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let paint = |code: &str, s: &str| -> String {
        if style.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let rules = report.rules;
    let mut explained = HashSet::new();
    let findings = report.findings;
    let mut i = 0;
    while i < findings.len() {
        // A file, or one commit's or tag's message (those have no path).
        let source = findings[i].source();
        let group = findings[i..]
            .iter()
            .take_while(|f| f.source() == source)
            .count();
        if !style.quiet {
            if i > 0 {
                writeln!(out)?;
            }
            let count = if group == 1 {
                "1 finding".to_string()
            } else {
                format!("{group} findings")
            };
            writeln!(out, "{} ({count})", paint("1;4", &printable(&source)))?;
        }
        for f in &findings[i..i + group] {
            let variant = f.variant_of(rules);
            let severity = f.severity(rules);
            let key = if report.show_secrets {
                f.secret.expose()
            } else {
                f.secret.redacted()
            };
            let label = if f.public_example {
                format!(
                    "{} (public example from Stripe's docs, harmless)",
                    variant.label
                )
            } else {
                variant.label.clone()
            };
            let indent = if style.quiet { "" } else { "  " };
            let mut at = printable(&f.location()).to_string();
            if let Some(chain) = f.encoding_chain() {
                at.push_str(&format!(" (encoded as {chain})"));
            }
            writeln!(
                out,
                "{indent}{}: {label} {key} [{}]",
                paint("1", &at),
                paint(super::severity_color(severity), severity.as_str()),
            )?;
            if style.quiet {
                continue;
            }
            writeln!(
                out,
                "      {} · rule {} · confidence {}",
                f.secret.fingerprint(),
                f.rule_of(rules).id,
                f.confidence.as_str(),
            )?;
            if let Some(c) = f.introduced_in() {
                writeln!(out, "      introduced in {}", printable(&c))?;
            }
            if let Some(v) = &f.verification {
                let when = v
                    .checked_at
                    .as_ref()
                    .map(|t| format!(" (checked {t})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "      Stripe: {}{when}: {}",
                    v.status.words(),
                    v.reason
                )?;
            }
            if explained.insert((f.rule, f.variant, f.place, f.public_example, status(f))) {
                writeln!(out, "      What to do ({}):", f.place.describe())?;
                for (n, step) in f.remediation(rules).iter().enumerate() {
                    writeln!(out, "        {}. {step}", n + 1)?;
                }
            } else {
                let verdict = match status(f) {
                    Some(s @ (Status::Active | Status::Inactive)) => format!("{} ", s.words()),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "      What to do: the same steps as for the {verdict}{} {} above.",
                    variant.label,
                    f.place.describe()
                )?;
            }
        }
        i += group;
    }
    Ok(())
}

/// `1 critical, 2 high`: the findings by severity, highest first.
pub fn severity_counts(report: &Report<'_>) -> String {
    Severity::tally(report.findings.iter().map(|f| f.severity(report.rules)))
}

/// The closing line on stderr.
pub fn summary_line(report: &Report<'_>) -> String {
    let s = report.summary;
    let findings = match s.findings {
        0 => "no findings".to_string(),
        _ => super::by_key::report_counts(report),
    };
    let scope = match s.commits {
        Some(c) => format!("{c} commits, {} blobs", s.files),
        None => format!("{} files", s.files),
    };
    let mut line = format!(
        "stripe-scan: {findings} in {scope}, {:.1} MB, {:.2} s",
        s.bytes as f64 / 1e6,
        s.elapsed_ms as f64 / 1000.0
    );
    line.push_str(&s.caveats());
    line
}
