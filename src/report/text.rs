//! The default report, for a person reading a terminal. Findings come most severe first; each opens
//! with one header line that starts `path:line:col` (so editors and terminals can jump to it), then
//! the key type in words, the redacted key, the severity and what sets the finding apart (below
//! --fail-on, known key in a new location, a public example). Below it: the line the key is on,
//! redacted; for history, the commit; the fingerprint; and the numbered steps, wrapped to the
//! terminal. Steps already printed are referred to rather than repeated, and how to mark a false
//! positive is said once, at the end. `--quiet` prints the header lines alone.

use super::{count, Report, Style};
use crate::error::printable;
use crate::finding::Finding;
use crate::severity::Severity;
use std::collections::HashMap;
use std::io::{self, Write};

/// Steps are indented under the header; wrapped lines hang under the step's text.
const INDENT: &str = "    ";

pub fn write(report: &Report<'_>, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    // Steps already printed, and the finding they were printed for.
    let mut explained: HashMap<Vec<String>, String> = HashMap::new();
    for (i, f) in report.findings.iter().enumerate() {
        if style.quiet {
            writeln!(out, "{}", header_line(report, f, style))?;
            continue;
        }
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", header_line(report, f, style))?;
        if !f.excerpt.is_empty() {
            writeln!(
                out,
                "{INDENT}{} {}",
                style.paint("2", "│"),
                printable(&f.excerpt)
            )?;
        }
        if let Some(c) = f.introduced_in() {
            writeln!(out, "{INDENT}introduced in {}", printable(&c))?;
        }
        writeln!(
            out,
            "{INDENT}{} · rule {} · confidence {}",
            f.secret.fingerprint(),
            f.rule_of(report.rules).id,
            f.confidence.as_str(),
        )?;
        if let Some(v) = &f.verification {
            let when = v
                .checked_at
                .as_ref()
                .map(|t| format!(" (checked {t})"))
                .unwrap_or_default();
            writeln!(
                out,
                "{INDENT}Stripe: {}{when}: {}",
                v.status.words(),
                printable(&v.reason)
            )?;
        }
        let steps = f.remediation(report.rules);
        match explained.get(&steps) {
            Some(first) => writeln!(
                out,
                "{INDENT}What to do: the same steps as for {first} above."
            )?,
            None => {
                writeln!(out, "{INDENT}What to do ({}):", f.place.describe())?;
                for (n, step) in steps.iter().enumerate() {
                    let lead = format!("{INDENT}  {}. ", n + 1);
                    write_wrapped(out, &lead, &printable(step), style.width)?;
                }
                explained.insert(steps, location(f));
            }
        }
    }
    if !style.quiet && report.findings.iter().any(|f| !f.public_example) {
        writeln!(out)?;
        write_wrapped(
            out,
            "",
            "Not a real key (a fixture, a placeholder)? Put `stripe-scan:allow` on its line, or its path under \
             [allow] paths in .stripe-scan.toml. A key you rolled that stays in history: `stripe-scan baseline \
             --history` accepts it where it is.",
            style.width,
        )?;
    }
    Ok(())
}

/// `path:line:col: live secret key sk_live_51Hx…4fGh [critical] (known key, new location)`: the
/// one line that names a finding, in the full report and alone under `--quiet`.
pub fn header_line(report: &Report<'_>, f: &Finding, style: &Style) -> String {
    let rules = report.rules;
    let severity = f.severity(rules);
    let key = if report.show_secrets {
        f.secret.expose()
    } else {
        f.secret.redacted()
    };
    let mut line = format!(
        "{}: {} {key} [{}]",
        style.paint("1", &location(f)),
        f.variant_of(rules).label,
        style.paint(severity_color(severity), severity.as_str()),
    );
    let tags = tags(report, f);
    if !tags.is_empty() {
        line.push_str(&format!(" ({})", tags.join("; ")));
    }
    line
}

/// What sets a finding apart, in words.
fn tags(report: &Report<'_>, f: &Finding) -> Vec<String> {
    let mut tags = Vec::new();
    if f.public_example {
        tags.push("public example from Stripe's docs, harmless".to_string());
    } else if !report.fails(f) {
        tags.push(format!(
            "reported, does not fail: below --fail-on {}",
            report.fail_on
        ));
    }
    if f.known_elsewhere {
        tags.push("known key, new location: the baseline has it at another path only".to_string());
    }
    tags
}

/// `path:line:col`, or for a commit or tag message `message of commit 1a2b3c4d5e6f:3:6`.
fn location(f: &Finding) -> String {
    printable(&f.location()).into_owned()
}

/// Critical and high must not look alike: critical is reversed, high bold.
fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;97;41",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// `text` after `lead`, broken at spaces so no line is wider than `width` (when known); later
/// lines hang under the first line's text.
fn write_wrapped(
    out: &mut dyn Write,
    lead: &str,
    text: &str,
    width: Option<usize>,
) -> io::Result<()> {
    let hang = " ".repeat(lead.chars().count());
    let Some(width) = width else {
        return writeln!(out, "{lead}{text}");
    };
    // Too narrow to be worth wrapping for.
    let room = width.saturating_sub(hang.len()).max(20);
    let mut line = String::new();
    let mut first = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > room {
            writeln!(out, "{}{line}", if first { lead } else { &hang })?;
            first = false;
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    writeln!(out, "{}{line}", if first { lead } else { &hang })
}

/// `1 critical, 2 high`: the findings by severity, highest first.
pub fn severity_counts(report: &Report<'_>) -> String {
    let mut by_sev = [0usize; 5];
    for f in report.findings {
        by_sev[f.severity(report.rules) as usize] += 1;
    }
    [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .filter(|&&sv| by_sev[sv as usize] > 0)
    .map(|&sv| format!("{} {}", by_sev[sv as usize], sv.as_str()))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The closing line on stderr.
pub fn summary_line(report: &Report<'_>) -> String {
    let s = report.summary;
    let sevs = severity_counts(report);
    let findings = match s.findings {
        0 => "no findings".to_string(),
        n => format!("{} ({sevs})", count(n as u64, "finding", "findings")),
    };
    let scope = match s.commits {
        Some(c) => format!(
            "{}, {}",
            count(c, "commit", "commits"),
            count(s.files, "blob", "blobs")
        ),
        None => count(s.files, "file", "files"),
    };
    let mut line = format!(
        "stripe-scan: {findings} in {scope}, {:.1} MB, {:.2} s",
        s.bytes as f64 / 1e6,
        s.elapsed_ms as f64 / 1000.0
    );
    line.push_str(&s.caveats());
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_wrap_under_their_text() {
        let mut out = Vec::new();
        let text = "one two three four five six seven eight nine ten eleven twelve";
        write_wrapped(&mut out, "  1. ", text, Some(30)).unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.len() > 2, "{s}");
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{s}");
        assert!(lines[0].starts_with("  1. one"), "{s}");
        assert!(
            lines[1].starts_with("     ") && !lines[1].starts_with("      "),
            "{s}"
        );
        let mut out = Vec::new();
        write_wrapped(&mut out, "> ", text, None).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("> {text}\n"));
    }
}
