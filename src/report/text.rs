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
    for (i, group) in key_groups(report.findings).iter().enumerate() {
        let f = group[0];
        if style.quiet {
            let mut line = header_line(report, f, style);
            if group.len() > 1 {
                line.push_str(&format!(" ({})", spread(group)));
            }
            writeln!(out, "{line}")?;
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
        if group.len() > 1 {
            writeln!(out, "{INDENT}the same key: {}", spread(group))?;
            let indent = format!("{INDENT}  ");
            super::write_places(out, group.iter().map(|g| place(g)), &indent)?;
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

/// The findings grouped by key, each group in report order and the groups in the order of their
/// first finding: a key copied into a hundred fixtures is one entry, most severe first as the
/// findings are. (`keys::group` orders by spread for many repositories; one report keeps its own.)
fn key_groups(findings: &[Finding]) -> Vec<Vec<&Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for f in findings {
        // The key's bytes are what its fingerprint is of. A baselined key is "known, new
        // location" at every place it is reported, so that never splits a group.
        match index.get(f.secret.as_bytes()) {
            Some(&g) => groups[g].push(f),
            None => {
                index.insert(f.secret.as_bytes(), groups.len());
                groups.push(vec![f]);
            }
        }
    }
    groups
}

/// `3 occurrences in 2 files`.
fn spread(group: &[&Finding]) -> String {
    let mut files: Vec<String> = group.iter().map(|f| f.source()).collect();
    files.sort_unstable();
    files.dedup();
    super::by_key::occurrences_in_files(group.len(), files.len())
}

/// `path:line:col`, and the commit for history.
fn place(f: &Finding) -> String {
    let mut s = location(f);
    if let Some(c) = &f.commit {
        s.push_str(&format!(", commit {}", c.short_id()));
    }
    s
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
        style.paint(super::severity_color(severity), severity.as_str()),
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
    let mut at = printable(&f.location()).into_owned();
    if let Some(chain) = f.encoding_chain() {
        at.push_str(&format!(" (encoded as {chain})"));
    }
    at
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
    Severity::tally(report.findings.iter().map(|f| f.severity(report.rules)))
}

/// The closing line on stderr.
pub fn summary_line(report: &Report<'_>) -> String {
    let s = report.summary;
    let findings = match s.findings {
        0 => "no findings".to_string(),
        _ => {
            let groups = key_groups(report.findings);
            let severest = groups.iter().map(|g| {
                g.iter()
                    .map(|f| f.severity(report.rules))
                    .max()
                    .unwrap_or(Severity::Info)
            });
            super::by_key::key_counts(groups.len(), severest, report.findings.len())
        }
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
