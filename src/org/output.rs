//! A multi-repository report as the user reads it: key-centric text, JSON, or GitHub annotations
//! (one per key) with a job summary. `--format sarif` has no place here: SARIF results point
//! into one repository's files.

use super::report::{RunReport, Status};
use crate::error::printable;
use crate::report::github::{escape_data, escape_property};
use crate::report::keys::{self, KeyGroup};
use crate::report::markdown::{escape_text, literal};
use crate::report::{by_key, short_commit, title, Format, Style};
use serde_json::Value;
use std::io::{self, Write};

/// Failed repositories listed in text before "and N more".
const FAILED_SHOWN: usize = 50;

pub fn write(
    format: Format,
    report: &RunReport,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report.json())?;
            writeln!(out)
        }
        Format::Github => {
            let groups = keys::group(&report.findings);
            for g in &groups {
                writeln!(out, "{}", annotation(report, g))?;
            }
            for r in report.failed() {
                writeln!(
                    out,
                    "::warning title={}::{}",
                    escape_property(&format!("stripe-scan: {} not fully scanned", r.name)),
                    escape_data(&why(r))
                )?;
            }
            Ok(())
        }
        // Refused before the scan (see `cmd::repos`); text is the closest.
        Format::Text | Format::Sarif => text(report, style, out),
    }
}

fn text(report: &RunReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let groups = keys::group(&report.findings);
    by_key::write(&report.findings, &groups, style, out)?;
    if style.quiet {
        return Ok(());
    }
    let failed: Vec<_> = report.failed().collect();
    if !failed.is_empty() {
        if !groups.is_empty() {
            writeln!(out)?;
        }
        writeln!(
            out,
            "Not fully scanned ({} of {} repositories):",
            failed.len(),
            report.repositories.len()
        )?;
        for r in failed.iter().take(FAILED_SHOWN) {
            writeln!(out, "  {}: {}", printable(&r.name), why(r))?;
        }
        if failed.len() > FAILED_SHOWN {
            writeln!(
                out,
                "  and {} more (see the JSON report)",
                failed.len() - FAILED_SHOWN
            )?;
        }
    }
    Ok(())
}

fn why(r: &super::report::RepoResult) -> String {
    match (r.status, &r.error) {
        (_, Some(e)) => e.clone(),
        (Status::Incomplete, None) => format!(
            "{} {} while reading it (see the lines above); scan incomplete",
            r.errors,
            if r.errors == 1 { "error" } else { "errors" }
        ),
        _ => "not scanned".to_string(),
    }
}

/// The closing line on stderr.
pub fn summary_line(report: &RunReport) -> String {
    let groups = keys::group(&report.findings);
    let with_keys = report
        .findings
        .iter()
        .filter_map(keys::repository)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let total = report.repositories.len();
    let s = report.summary();
    let mut line = format!(
        "stripe-scan: {} in {with_keys} of {total} {}; {} commits, {} blobs, {:.1} MB, {:.2} s",
        by_key::counts(&report.findings, &groups),
        if total == 1 {
            "repository"
        } else {
            "repositories"
        },
        s["commits"],
        s["files"],
        s["bytes"].as_u64().unwrap_or(0) as f64 / 1e6,
        report.elapsed_ms as f64 / 1000.0
    );
    if report.suppressed.total() > 0 {
        line.push_str(&format!(
            "; {} suppressed ({})",
            report.suppressed.total(),
            report.suppressed.describe()
        ));
    }
    let failed = report.failed().count();
    if failed > 0 {
        line.push_str(&format!("; {failed} not fully scanned"));
    }
    if report.run_errors > 0 {
        line.push_str(&format!("; {} other errors", report.run_errors));
    }
    line
}

/// One annotation per key: no file (the file is in another repository), the places in the text.
fn annotation(report: &RunReport, g: &KeyGroup) -> String {
    let level = if g.public_example {
        "notice"
    } else if g.severity >= report.fail_on {
        "error"
    } else {
        "warning"
    };
    let first = &report.findings[g.first_seen];
    let mut msg = format!(
        "{} {}: {} occurrences in {} files of {} repositories; first seen in {} at {}:{}",
        title(&g.label),
        g.secret_redacted,
        g.occurrences(),
        g.files,
        g.repositories.len(),
        keys::repository(first).unwrap_or("?"),
        first["path"].as_str().unwrap_or(""),
        first["line"]
    );
    if let Some(c) = first["commit"].as_str() {
        msg.push_str(&format!(", commit {}", short_commit(c)));
    }
    msg.push_str(".\nWhat to do:");
    for (i, s) in g.remediation.iter().enumerate() {
        msg.push_str(&format!("\n{}. {s}", i + 1));
    }
    format!(
        "::{level} title={}::{}",
        escape_property(&format!("{} ({})", title(&g.label), g.severity.as_str())),
        escape_data(&msg)
    )
}

/// The job summary: one table row per key while they fit GitHub's 1 MiB, the steps for each
/// kind of key once, the repositories that failed, and the counts.
pub fn step_summary(report: &RunReport, mut budget: usize) -> String {
    let groups = keys::group(&report.findings);
    let failed: Vec<_> = report.failed().collect();
    let heading = if groups.is_empty() {
        format!(
            "## stripe-scan: no Stripe keys in {} repositories\n\n",
            report.repositories.len()
        )
    } else {
        format!(
            "## stripe-scan: {} in {} repositories\n\n",
            by_key::counts(&report.findings, &groups),
            report.repositories.len()
        )
    };
    let s = report.summary();
    let scope = format!(
        "Scanned {} of {} repositories: {} commits, {} blobs, {:.1} MB in {:.2} s{}.\n",
        report.repositories.len() - failed.len(),
        report.repositories.len(),
        s["commits"],
        s["files"],
        s["bytes"].as_u64().unwrap_or(0) as f64 / 1e6,
        report.elapsed_ms as f64 / 1000.0,
        if report.suppressed.total() > 0 {
            format!(
                "; {} suppressed ({})",
                report.suppressed.total(),
                report.suppressed.describe()
            )
        } else {
            String::new()
        }
    );
    if heading.len() + scope.len() > budget {
        return String::new();
    }
    budget -= heading.len() + scope.len();
    let mut body = String::new();
    let mut add = |text: &str, body: &mut String| -> bool {
        if text.len() + 300 > budget {
            return false;
        }
        budget -= text.len();
        body.push_str(text);
        true
    };
    if !groups.is_empty() {
        add(
            "| Severity | Key | Occurrences | Repositories | First seen |\n|---|---|---|---|---|\n",
            &mut body,
        );
        let mut shown = 0;
        for g in &groups {
            if !add(&row(report, g), &mut body) {
                break;
            }
            shown += 1;
        }
        body.push('\n');
        if shown < groups.len() {
            add(
                &format!(
                    "…and {} more keys, left out to keep this summary under GitHub's 1 MiB: see the JSON report.\n\n",
                    groups.len() - shown
                ),
                &mut body,
            );
        }
        let mut explained = std::collections::HashSet::new();
        for g in &groups {
            if !explained.insert((&g.label, &g.remediation)) {
                continue;
            }
            let mut block = format!(
                "<details><summary>What to do: {}</summary>\n\n",
                literal(&title(&g.label))
            );
            for (i, step) in g.remediation.iter().enumerate() {
                block.push_str(&format!("{}. {}\n", i + 1, escape_text(step)));
            }
            block.push_str("\n</details>\n\n");
            if !add(&block, &mut body) {
                break;
            }
        }
    }
    if !failed.is_empty() {
        add(
            &format!("### Not fully scanned ({})\n\n", failed.len()),
            &mut body,
        );
        for r in &failed {
            if !add(
                &format!("- {}: {}\n", literal(&r.name), literal(&why(r))),
                &mut body,
            ) {
                break;
            }
        }
        body.push('\n');
    }
    format!("{heading}{body}{scope}")
}

fn row(report: &RunReport, g: &KeyGroup) -> String {
    let severity = if !g.public_example && g.severity >= report.fail_on {
        format!("**{}**", g.severity.as_str())
    } else {
        g.severity.as_str().to_string()
    };
    let repos: Vec<String> = g.repositories.iter().take(5).map(|r| literal(r)).collect();
    let more = match g.repositories.len() {
        n if n > 5 => format!(" and {} more", n - 5),
        _ => String::new(),
    };
    let first: &Value = &report.findings[g.first_seen];
    let mut seen = format!(
        "{}: {}:{}",
        keys::repository(first).unwrap_or(""),
        first["path"].as_str().unwrap_or(""),
        first["line"]
    );
    if let Some(c) = first["commit"].as_str() {
        seen.push_str(&format!(", commit {}", short_commit(c)));
    }
    if let Some(d) = first["date"].as_str() {
        seen.push_str(&format!(" ({d})"));
    }
    format!(
        "| {severity} | {} {} | {} in {} files | {}{more} | {} |\n",
        literal(&title(&g.label)),
        literal(&g.secret_redacted),
        g.occurrences(),
        g.files,
        repos.join(", "),
        literal(&seen)
    )
}
