//! The key-centric text report of a multi-repository run (and of `merge`): each distinct key once,
//! with its kind, redacted key, severity and what to do, then where it is (repositories, files, the
//! commit that first brought it), the first few places listed and the rest counted.
//!
//! Reads JSON finding values and their `keys::group`, so a run and a merge of shard reports print
//! alike. One repository's report (`text`) groups its findings by key the same way.

use super::keys::{repository, KeyGroup};
use super::{count, in_message, short_commit, Style};
use crate::error::printable;
use crate::finding::{source_of, CommitInfo};
use crate::severity::Severity;
use serde_json::Value;
use std::io::{self, Write};

/// Repositories listed under a key before "and N more".
const REPOSITORIES_SHOWN: usize = 10;

pub fn write(
    findings: &[Value],
    groups: &[KeyGroup],
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = |code: &str, s: &str| -> String {
        if style.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    for (n, g) in groups.iter().enumerate() {
        let key = g.secret.as_deref().unwrap_or(&g.secret_redacted);
        let label = if g.public_example {
            format!("{} (public example from Stripe's docs, harmless)", g.label)
        } else {
            g.label.clone()
        };
        // Each key's line is shaped like a compiler's (`path:line:col: what`) at the key's first
        // sighting, so editors and terminals jump to it; the other places follow, counted.
        let first = &findings[g.first_seen];
        let at = location(first, true);
        if style.quiet {
            let more = match g.occurrences() {
                1 => String::new(),
                _ => format!(" ({})", spread(g)),
            };
            writeln!(
                out,
                "{at}: {label} {} [{}]{more}",
                printable(key),
                g.severity.as_str()
            )?;
            continue;
        }
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}: {} {} [{}]",
            paint("1", &at),
            label,
            paint("1", &printable(key)),
            paint(super::severity_color(g.severity), g.severity.as_str())
        )?;
        writeln!(out, "  {} · {}", g.fingerprint, spread(g))?;
        if first["commit"].is_string() {
            writeln!(out, "  first seen in {}", introduced(first))?;
        }
        if g.occurrences() == 1 {
            steps(out, g)?;
            continue;
        }
        writeln!(out, "  where:")?;
        if g.repositories.is_empty() {
            places(out, findings, &g.members, "    ")?;
        } else {
            for (shown, repo) in g.repositories.iter().enumerate() {
                if shown == REPOSITORIES_SHOWN {
                    writeln!(
                        out,
                        "    and {} more repositories",
                        g.repositories.len() - shown
                    )?;
                    break;
                }
                let members: Vec<usize> = g
                    .members
                    .iter()
                    .copied()
                    .filter(|&i| repository(&findings[i]) == Some(repo.as_str()))
                    .collect();
                let files = distinct_paths(findings, &members);
                writeln!(
                    out,
                    "    {}: {}",
                    paint("1;4", &printable(repo)),
                    occurrences_in_files(members.len(), files)
                )?;
                places(out, findings, &members, "      ")?;
            }
        }
        steps(out, g)?;
    }
    Ok(())
}

fn steps(out: &mut dyn Write, g: &KeyGroup) -> io::Result<()> {
    writeln!(out, "  what to do:")?;
    for (i, step) in g.remediation.iter().enumerate() {
        writeln!(out, "    {}. {step}", i + 1)?;
    }
    Ok(())
}

/// "112 occurrences in 112 files" (and "in 3 repositories" when there are several).
fn spread(g: &KeyGroup) -> String {
    let mut s = occurrences_in_files(g.occurrences(), g.files);
    match g.repositories.len() {
        0 => {}
        1 => s.push_str(&format!(" of {}", printable(&g.repositories[0]))),
        n => s.push_str(&format!(", {n} repositories")),
    }
    s
}

/// `3 occurrences in 2 files`.
pub fn occurrences_in_files(occurrences: usize, files: usize) -> String {
    format!(
        "{} in {}",
        count(occurrences as u64, "occurrence", "occurrences"),
        count(files as u64, "file", "files")
    )
}

fn distinct_paths(findings: &[Value], members: &[usize]) -> usize {
    let mut paths: Vec<&str> = members
        .iter()
        .map(|&i| findings[i]["path"].as_str().unwrap_or(""))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    paths.len()
}

/// The first few places, one a line, then how many more.
fn places(
    out: &mut dyn Write,
    findings: &[Value],
    members: &[usize],
    indent: &str,
) -> io::Result<()> {
    super::write_places(out, members.iter().map(|&i| place(&findings[i])), indent)
}

/// `path:line:col, commit 1a2b3c4d5e6f on DATE` (and earlier runs' findings marked).
fn place(f: &Value) -> String {
    let mut s = location(f, false);
    if let Some(commit) = f["commit"].as_str() {
        s.push_str(&format!(", commit {}", short_commit(commit)));
        if let Some(date) = f["date"].as_str().filter(|d| !d.is_empty()) {
            s.push_str(&format!(" on {}", printable(date)));
        }
    }
    if f["from_state"].as_bool() == Some(true) {
        s.push_str(" (found by an earlier run)");
    }
    s
}

/// `commit 1a2b3c4d5e6f by NAME <MAIL> on DATE, still in HEAD`, in the words of every report.
fn introduced(f: &Value) -> String {
    CommitInfo::from_json(f).map_or_else(String::new, |c| {
        printable(&c.describe(in_message(f))).into_owned()
    })
}

/// `[repository: ]path:line:col`.
fn location(f: &Value, with_repository: bool) -> String {
    let mut s = String::new();
    if with_repository {
        if let Some(repo) = repository(f) {
            s.push_str(&printable(repo));
            s.push_str(": ");
        }
    }
    let source = source_of(
        f["path"].as_str().unwrap_or(""),
        in_message(f),
        CommitInfo::from_json(f).as_ref(),
    );
    s.push_str(&format!(
        "{}:{}:{}",
        printable(&source),
        f["line"].as_u64().unwrap_or(0),
        f["column"].as_u64().unwrap_or(0)
    ));
    s
}

/// `2 keys (1 critical, 1 high; 446 occurrences)`: the closing counts.
pub fn counts(findings: &[Value], groups: &[KeyGroup]) -> String {
    key_counts(
        groups.len(),
        groups.iter().map(|g| g.severity),
        findings.len(),
    )
}

/// `2 keys (1 critical, 1 high; 446 occurrences)` from the keys' severities and the count of
/// occurrences: one wording for one repository's report, a run over many, and a merge.
pub fn key_counts(
    keys: usize,
    severities: impl Iterator<Item = Severity>,
    occurrences: usize,
) -> String {
    if keys == 0 {
        return "no keys found".to_string();
    }
    format!(
        "{} ({}; {})",
        count(keys as u64, "key", "keys"),
        Severity::tally(severities),
        count(occurrences as u64, "occurrence", "occurrences")
    )
}
