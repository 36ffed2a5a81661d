//! `--format github`: one workflow command per finding, which GitHub shows as an annotation on the
//! file and line, and, when `GITHUB_STEP_SUMMARY` names a file, a Markdown table appended to the
//! job summary.
//!
//! Levels: `error` for a finding that fails the run (at or above `--fail-on`), `warning` for one
//! below it, `notice` for a public example key. Workflow logs and summaries are shown to everyone
//! who can see the run, so the key is always redacted here, even with `--show-secrets`.

use super::markdown::{escape_text, literal};
use super::text::severity_counts;
use super::{count, status, title, Report};
use crate::finding::Finding;
use crate::paths::Frame;
use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

/// GitHub refuses a step summary over 1 MiB; stay clear of it, whatever the step wrote before.
pub const SUMMARY_LIMIT: u64 = 1 << 20;
const SUMMARY_MARGIN: u64 = 4 << 10;

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    for f in report.findings {
        writeln!(out, "{}", annotation(report, f))?;
    }
    Ok(())
}

pub fn level(report: &Report<'_>, f: &Finding) -> &'static str {
    if f.public_example {
        "notice"
    } else if report.fails(f) {
        "error"
    } else {
        "warning"
    }
}

/// `::error file=…,line=…,col=…,endColumn=…,title=…::message`.
pub fn annotation(report: &Report<'_>, f: &Finding) -> String {
    let rules = report.rules;
    let label = title(&f.variant_of(rules).label);
    let severity = f.severity(rules);
    let mut props = Vec::new();
    // stdin has no file to point at, and a commit or tag message no file at all: the annotation
    // then stands on the run, with the message naming where the key is; a member's key points at
    // its archive. GitHub places the rest by their path in the repository.
    if !f.place.is_message() {
        if f.path != "-" {
            props.push(format!(
                "file={}",
                escape_property(&report.frame.repo_relative(f.outer_path()))
            ));
        }
        let (line, column) = f.outer_line_column();
        props.push(format!("line={line}"));
        props.push(format!("col={column}"));
        if f.line_in_outer_file() {
            props.push(format!(
                "endColumn={}",
                column + f.secret.as_bytes().len() as u64
            ));
        }
    }
    let verdict = status(f)
        .map(|s| format!(", {}", s.words()))
        .unwrap_or_default();
    let known = if f.known_elsewhere {
        ", known key, new location"
    } else {
        ""
    };
    props.push(format!(
        "title={}",
        escape_property(&format!("{label} ({}{verdict}{known})", severity.as_str()))
    ));
    let mut msg = format!(
        "{label} {} at {}, {}",
        f.secret.redacted(),
        f.location(),
        f.place.describe()
    );
    if let Some(chain) = f.encoding_chain() {
        msg.push_str(&format!(" (encoded as {chain})"));
    }
    if let Some(c) = f.introduced_in() {
        msg.push_str(&format!("; introduced in {c}"));
    }
    if let Some(v) = &f.verification {
        msg.push_str(&format!(
            ".\nStripe says: {} ({})",
            v.status.words(),
            v.reason
        ));
    }
    msg.push_str(".\nWhat to do:");
    for (i, s) in f.remediation(rules).iter().enumerate() {
        msg.push_str(&format!("\n{}. {s}", i + 1));
    }
    format!(
        "::{} {}::{}",
        level(report, f),
        props.join(","),
        escape_data(&msg)
    )
}

/// The message part: `%`, CR and LF are GitHub's escapes.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as data, plus `:` and `,`, which would end the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Where a finding can be opened on GitHub: `{server}/{repository}/blob/{commit}/{path}#L{line}`.
pub struct Links {
    pub server: String,
    pub repository: String,
    /// The commit a working-tree or staged finding is shown at (GITHUB_SHA).
    pub sha: String,
}

impl Links {
    /// From the runner's GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_SHA, when all are set.
    pub fn from_env() -> Option<Links> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Some(Links {
            server: var("GITHUB_SERVER_URL")?.trim_end_matches('/').to_string(),
            repository: var("GITHUB_REPOSITORY")?,
            sha: var("GITHUB_SHA")?,
        })
    }

    fn url(&self, f: &Finding, frame: &Frame) -> Option<String> {
        if f.place.is_message() {
            // A message is shown on its commit's page (a tag's, on the commit it points to).
            let c = f.commit.as_ref()?;
            return Some(format!(
                "{}/{}/commit/{}",
                self.server, self.repository, c.id
            ));
        }
        let path = frame.repo_relative(f.outer_path());
        // An absolute path or stdin is not a file of the repository.
        if path.starts_with('/') || path == "-" {
            return None;
        }
        let commit = f
            .commit
            .as_ref()
            .map_or(self.sha.as_str(), |c| c.id.as_str());
        Some(format!(
            "{}/{}/blob/{}/{}#L{}",
            self.server,
            self.repository,
            commit,
            super::sarif::uri_of(&path),
            f.outer_line_column().0
        ))
    }
}

/// Appends the job-summary Markdown to `path`, within what is left of GitHub's 1 MiB.
pub fn append_step_summary(report: &Report<'_>, path: &Path) -> io::Result<()> {
    append_summary(path, |budget| {
        step_summary(report, budget, Links::from_env().as_ref())
    })
}

/// Appends to the job summary at `path` what `text_for` writes in the bytes GitHub still takes.
pub fn append_summary(path: &Path, text_for: impl FnOnce(usize) -> String) -> io::Result<()> {
    let used = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let budget = SUMMARY_LIMIT
        .saturating_sub(used)
        .saturating_sub(SUMMARY_MARGIN) as usize;
    // One byte for the line break below.
    let mut text = text_for(budget.saturating_sub(1));
    if used > 0 && !text.is_empty() {
        // What an earlier step wrote may not end its last line.
        text.insert(0, '\n');
    }
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// The summary in at most `budget` bytes: a heading, one table row per finding while they fit, the
/// steps for each kind and place once, and the scan's counts.
pub fn step_summary(report: &Report<'_>, budget: usize, links: Option<&Links>) -> String {
    let rules = report.rules;
    let s = report.summary;
    let heading = match s.findings {
        0 => "## stripe-scan: no Stripe keys found\n\n".to_string(),
        n => format!(
            "## stripe-scan: {n} finding{} ({})\n\n",
            if n == 1 { "" } else { "s" },
            severity_counts(report)
        ),
    };
    let mut scope = match s.commits {
        Some(c) => format!(
            "Scanned {} ({}, {:.1} MB)",
            count(c, "commit", "commits"),
            count(s.files, "blob", "blobs"),
            s.bytes as f64 / 1e6
        ),
        None => format!(
            "Scanned {} ({:.1} MB)",
            count(s.files, "file", "files"),
            s.bytes as f64 / 1e6
        ),
    };
    scope.push_str(&format!(" in {:.2} s", s.elapsed_ms as f64 / 1000.0));
    scope.push_str(&s.caveats());
    scope.push_str(".\n\n");
    if heading.len() + scope.len() > budget {
        return String::new();
    }
    let mut room = budget - heading.len() - scope.len();
    let mut body = String::new();
    if !report.findings.is_empty() {
        let head = "| Severity | Key | Where | Found |\n|---|---|---|---|\n";
        let more_note_room = 200;
        if head.len() + more_note_room < room {
            body.push_str(head);
            room -= head.len();
            let mut shown = 0;
            for f in report.findings {
                let row = table_row(report, f, links);
                if row.len() + more_note_room > room {
                    break;
                }
                room -= row.len();
                body.push_str(&row);
                shown += 1;
            }
            body.push('\n');
            if shown < report.findings.len() {
                let note = format!(
                    "…and {} more {}, not shown to keep this summary under GitHub's 1 MiB: see the annotations, the job log or the SARIF report.\n\n",
                    report.findings.len() - shown,
                    if report.findings.len() - shown == 1 { "finding" } else { "findings" }
                );
                room = room.saturating_sub(note.len());
                body.push_str(&note);
            }
        }
        // What to do, once per key type and place.
        let mut explained = HashSet::new();
        for f in report.findings {
            if !explained.insert((f.rule, f.variant, f.place, f.public_example, status(f))) {
                continue;
            }
            let verdict = match status(f) {
                Some(s) => format!(", {}", s.words()),
                None => String::new(),
            };
            let mut block = format!(
                "<details><summary>What to do: {}, {}{verdict}</summary>\n\n",
                literal(&title(&f.variant_of(rules).label)),
                f.place.describe()
            );
            for (i, step) in f.general_remediation(rules).iter().enumerate() {
                block.push_str(&format!("{}. {}\n", i + 1, escape_text(step)));
            }
            block.push_str("\n</details>\n\n");
            if block.len() > room {
                break;
            }
            room -= block.len();
            body.push_str(&block);
        }
    }
    format!("{heading}{body}{scope}")
}

fn table_row(report: &Report<'_>, f: &Finding, links: Option<&Links>) -> String {
    let rules = report.rules;
    let severity = f.severity(rules).as_str();
    let mut severity = if report.fails(f) {
        format!("**{severity}**")
    } else {
        severity.to_string()
    };
    if let Some(s) = status(f) {
        severity.push_str(&format!(", {}", s.words()));
    }
    let label = if f.public_example {
        format!("{} (public example)", title(&f.variant_of(rules).label))
    } else {
        title(&f.variant_of(rules).label)
    };
    let found = match &f.commit {
        Some(c) => format!(
            "{}: commit {}{}",
            f.place.describe(),
            c.short_id(),
            match c.still_in_head {
                Some(true) => ", still in HEAD",
                Some(false) => "",
                None => ", unknown whether HEAD still holds it",
            }
        ),
        None => f.place.describe().to_string(),
    };
    format!(
        "| {severity} | {} {} | {} | {} |\n",
        literal(&label),
        literal(&f.secret.redacted()),
        match links.and_then(|l| l.url(f, report.frame)) {
            // The URL is percent-encoded, so it cannot break out of the link.
            Some(url) => format!("[{}]({url})", literal(&f.location())),
            None => literal(&f.location()),
        },
        literal(&found)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
    }
}
