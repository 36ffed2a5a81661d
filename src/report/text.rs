//! The default report, for a person: one block per finding, `path:line:col` first so editors and
//! terminals can jump to it, the key type in words, the redacted key, and numbered steps. Steps
//! already printed for the same key type and place are referred to rather than repeated.

use super::{Report, Style};
use crate::severity::Severity;
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
    let mut explained = HashSet::new();
    let mut last_path: Option<&str> = None;
    for f in report.findings {
        let rules = report.rules;
        let variant = f.variant_of(rules);
        let rule = f.rule_of(rules);
        let severity = f.severity(rules);
        if last_path.is_some_and(|p| p != f.path) {
            writeln!(out)?;
        }
        last_path = Some(&f.path);
        let key = if report.show_secrets {
            f.secret.expose()
        } else {
            f.secret.redacted()
        };
        let label = if f.public_example {
            format!("{} (public example from Stripe's docs, harmless)", variant.label)
        } else {
            variant.label.clone()
        };
        writeln!(
            out,
            "{}: {} {} [{}]",
            paint("1", &format!("{}:{}:{}", f.path, f.line, f.column)),
            label,
            key,
            paint(severity_color(severity), severity.as_str()),
        )?;
        let mut detail = format!(
            "    rule {} · confidence {} · {}",
            rule.id,
            f.confidence.as_str(),
            f.secret.fingerprint()
        );
        if let Some(c) = &f.commit {
            let short = &c.id[..c.id.len().min(12)];
            detail.push_str(&format!(
                "\n    introduced in {short} by {} on {} · {}",
                c.author,
                c.date,
                if c.still_in_head { "still in HEAD" } else { "no longer in HEAD" }
            ));
        }
        writeln!(out, "{detail}")?;
        if explained.insert((f.rule, f.variant, f.place, f.public_example)) {
            writeln!(out, "    What to do:")?;
            for (i, step) in f.remediation(rules).iter().enumerate() {
                writeln!(out, "      {}. {step}", i + 1)?;
            }
        } else {
            writeln!(out, "    What to do: the same steps as for the {} above.", variant.label)?;
        }
    }
    Ok(())
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// The closing line on stderr.
pub fn summary_line(report: &Report<'_>) -> String {
    let s = report.summary;
    let mut by_sev = [0usize; 5];
    for f in report.findings {
        by_sev[f.severity(report.rules) as usize] += 1;
    }
    let sevs: Vec<String> = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info]
        .iter()
        .filter(|&&sv| by_sev[sv as usize] > 0)
        .map(|&sv| format!("{} {}", by_sev[sv as usize], sv.as_str()))
        .collect();
    let findings = match s.findings {
        0 => "no findings".to_string(),
        1 => format!("1 finding ({})", sevs.join(", ")),
        n => format!("{n} findings ({})", sevs.join(", ")),
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
    if s.suppressed > 0 {
        line.push_str(&format!("; {} suppressed by allowlist or baseline", s.suppressed));
    }
    if s.skipped > 0 {
        line.push_str(&format!("; {} skipped", s.skipped));
    }
    if s.errors > 0 {
        line.push_str(&format!("; {} errors, scan incomplete", s.errors));
    }
    line
}
