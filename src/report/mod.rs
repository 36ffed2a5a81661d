//! Report writers. Every writer gets the same sorted, filtered findings and the summary; only
//! `show_secrets` lets a writer print a full key, and the SARIF and GitHub writers, whose output
//! is published (code scanning, workflow logs), never do.

pub mod by_key;
pub mod github;
pub mod json;
pub mod keys;
pub mod markdown;
pub(crate) mod progress;
pub mod sarif;
pub mod text;

use crate::finding::Finding;
use crate::paths::Frame;
use crate::rules::RuleSet;
use crate::severity::Severity;
use crate::verification::{self, Status};
use std::io::{self, Write};

/// Findings left out on purpose, by reason: counted so that suppression is always visible.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    /// `stripe-scan:allow` on the key's line.
    pub inline: usize,
    /// `[allow] paths` in the config.
    pub path: usize,
    /// `[allow] fingerprints` in the config.
    pub fingerprint: usize,
    /// Listed in the baseline file.
    pub baseline: usize,
}

impl Suppressed {
    pub fn total(&self) -> usize {
        self.inline + self.path + self.fingerprint + self.baseline
    }

    /// `2 inline, 1 by baseline`: the non-zero reasons.
    pub fn describe(&self) -> String {
        [
            (self.inline, "inline"),
            (self.path, "by path"),
            (self.fingerprint, "by fingerprint"),
            (self.baseline, "by baseline"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect::<Vec<_>>()
        .join(", ")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "inline": self.inline,
            "path": self.path,
            "fingerprint": self.fingerprint,
            "baseline": self.baseline,
        })
    }

    /// Read back from `json` (a report's `suppressed_by`); a missing count is 0.
    pub fn from_json(v: &serde_json::Value) -> Suppressed {
        let n = |k: &str| usize::try_from(v[k].as_u64().unwrap_or(0)).unwrap_or(usize::MAX);
        Suppressed {
            inline: n("inline"),
            path: n("path"),
            fingerprint: n("fingerprint"),
            baseline: n("baseline"),
        }
    }
}

impl std::ops::AddAssign for Suppressed {
    fn add_assign(&mut self, other: Suppressed) {
        self.inline = self.inline.saturating_add(other.inline);
        self.path = self.path.saturating_add(other.path);
        self.fingerprint = self.fingerprint.saturating_add(other.fingerprint);
        self.baseline = self.baseline.saturating_add(other.baseline);
    }
}

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub findings: usize,
    /// Total of `suppressed_by`.
    pub suppressed: usize,
    pub suppressed_by: Suppressed,
    pub errors: usize,
    pub skipped: usize,
    /// Files and folders the walk left out because .gitignore, .ignore or .git/info/exclude
    /// names them (a folder counts once).
    pub ignored: u64,
    pub elapsed_ms: u128,
    /// Set for history scans.
    pub commits: Option<u64>,
    /// With `--verify`: distinct keys per status (see `verification::tally`).
    pub verified: Option<[usize; 4]>,
}

impl Summary {
    /// What keeps the counts from being the whole story, for the text summary line and the job
    /// summary: "; 2 suppressed (1 inline, 1 by baseline); 1 skipped; 1 error, scan incomplete".
    pub fn caveats(&self) -> String {
        let mut out = String::new();
        if self.suppressed > 0 {
            out.push_str(&format!(
                "; {} suppressed ({})",
                self.suppressed,
                self.suppressed_by.describe()
            ));
        }
        if let Some(counts) = &self.verified {
            if counts.iter().any(|&n| n > 0) {
                out.push_str(&format!(
                    "; keys per Stripe: {}",
                    verification::describe_tally(counts)
                ));
            }
        }
        if self.skipped > 0 {
            out.push_str(&format!("; {} skipped", self.skipped));
        }
        if self.ignored > 0 {
            out.push_str(&format!(
                "; {} ignored by .gitignore or .ignore (--no-ignore scans {})",
                count(self.ignored, "path", "paths"),
                if self.ignored == 1 { "it" } else { "them" }
            ));
        }
        if self.errors > 0 {
            let noun = if self.errors == 1 { "error" } else { "errors" };
            out.push_str(&format!("; {} {noun}, scan incomplete", self.errors));
        }
        out
    }

    /// The counts as JSON, shared by the JSON report and SARIF's run properties.
    pub fn json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "files": self.files,
            "bytes": self.bytes,
            "findings": self.findings,
            "suppressed": self.suppressed,
            "suppressed_by": self.suppressed_by.json(),
            "errors": self.errors,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "elapsed_ms": self.elapsed_ms as u64,
        });
        if let Some(c) = self.commits {
            v["commits"] = serde_json::json!(c);
        }
        if let Some(counts) = &self.verified {
            let by_status: serde_json::Map<String, serde_json::Value> = Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), counts[*s as usize].into()))
                .collect();
            v["verification"] = serde_json::Value::Object(by_status);
        }
        v
    }
}

pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub rules: &'a RuleSet,
    pub summary: &'a Summary,
    pub show_secrets: bool,
    /// Findings at or above this severity fail the run (exit 1).
    pub fail_on: Severity,
    /// Where the findings' paths start, so SARIF and GitHub can name files in the repository.
    pub frame: &'a Frame,
    /// `--fail-on-verified`: of those, only keys Stripe confirmed active fail.
    pub fail_on_verified: bool,
}

impl Report<'_> {
    /// Whether this finding makes the run exit 1. Public example keys never do.
    pub fn fails(&self, f: &Finding) -> bool {
        !f.public_example
            && f.severity(self.rules) >= self.fail_on
            && (!self.fail_on_verified || status(f) == Some(Status::Active))
    }

    /// Under `--fail-on-verified`, a finding that would fail if it were active but whose status
    /// Stripe did not settle: the run cannot pass with it.
    pub fn unsettled(&self, f: &Finding) -> bool {
        self.fail_on_verified
            && !f.public_example
            && f.severity(self.rules) >= self.fail_on
            && status(f) == Some(Status::Unknown)
    }
}

/// What `--verify` learnt about the finding's key, if it ran.
pub fn status(f: &Finding) -> Option<Status> {
    f.verification.as_ref().map(|v| v.status)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a person: grouped by file, with what to do.
    Text,
    /// One JSON object (the contract in the README).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions annotations, plus a table in the job summary when GITHUB_STEP_SUMMARY is set.
    Github,
}

#[derive(Debug, Default, Clone)]
pub struct Style {
    pub color: bool,
    pub quiet: bool,
    /// Columns to wrap long lines at; None leaves them whole (output to a file or a pipe).
    pub width: Option<usize>,
}

impl Style {
    /// `s` in the SGR colour `code` when colour is on.
    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// `--output FILE`, created before any scanning so a bad path fails at once.
pub fn open_output(
    path: Option<&std::path::Path>,
) -> Result<Option<std::fs::File>, crate::error::Error> {
    match path {
        None => Ok(None),
        Some(p) => std::fs::File::create(p).map(Some).map_err(|e| {
            crate::error::Error::Fatal(format!(
                "--output {}: {}",
                p.display(),
                crate::error::describe_io(&e)
            ))
        }),
    }
}

pub use crate::finding::short_commit;

/// Whether a finding as JSON is in a commit or tag message rather than a file.
pub fn in_message(f: &serde_json::Value) -> bool {
    matches!(f["place"].as_str(), Some("commit_message" | "tag_message"))
}

/// `1 file`, `2 files`: a count with its noun in the right number.
/// Places listed under a key (or a repository) before "and N more".
const PLACES_SHOWN: usize = 3;

/// The first few of `places`, one a line after `indent`, then how many more there are.
pub(crate) fn write_places(
    out: &mut dyn Write,
    places: impl ExactSizeIterator<Item = String>,
    indent: &str,
) -> io::Result<()> {
    let total = places.len();
    for place in places.take(PLACES_SHOWN) {
        writeln!(out, "{indent}{place}")?;
    }
    if total > PLACES_SHOWN {
        writeln!(out, "{indent}and {} more", total - PLACES_SHOWN)?;
    }
    Ok(())
}

pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn write(
    format: Format,
    report: &Report<'_>,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        // Key-centric: each distinct key once, then where else it is.
        Format::Text => text::write(report, style, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Github => github::write(report, out),
    }
}

/// "Stripe live secret key": the label, naming Stripe once, for titles read out of context.
pub fn title(label: &str) -> String {
    if label.contains("Stripe") {
        let mut c = label.chars();
        match c.next() {
            Some(first) => first.to_uppercase().chain(c).collect(),
            None => String::new(),
        }
    } else {
        format!("Stripe {label}")
    }
}

/// The ANSI colour of a severity in text reports.
pub(crate) fn severity_color(s: Severity) -> &'static str {
    // Critical and high must not look alike: critical is reversed, high bold.
    match s {
        Severity::Critical => "1;97;41",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}
