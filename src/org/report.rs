//! The report of a multi-repository run: every finding with its `repository`, the keys they group
//! into, what happened to each repository, and the totals. `merge` reads these back from shard
//! reports and combines them, so the merged report is what one run over all shards would give.

use super::shard::Shard;
use crate::error::{describe_io, Error};
use crate::exit;
use crate::report::keys;
use crate::report::Suppressed;
use crate::severity::Severity;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every commit asked for was read.
    Scanned,
    /// Scanned, but some objects could not be read: not a clean result.
    Incomplete,
    /// Not scanned at all (unreachable, not a repository, the scanner failed).
    Failed,
}

/// What happened to one repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoResult {
    pub name: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub commits: u64,
    /// Blobs read.
    #[serde(default)]
    pub files: u64,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub findings: usize,
    /// Per-item errors (objects that could not be read); 1 for a failed repository.
    #[serde(default)]
    pub errors: usize,
    #[serde(default)]
    pub skipped: usize,
    /// With --state: `first` (nothing remembered), `new commits`, or `unchanged` (not scanned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<String>,
    #[serde(default)]
    pub elapsed_ms: u64,
}

impl RepoResult {
    pub fn failed(name: &str, cause: String) -> RepoResult {
        RepoResult {
            name: name.to_string(),
            status: Status::Failed,
            error: Some(cause),
            commits: 0,
            files: 0,
            bytes: 0,
            findings: 0,
            errors: 1,
            skipped: 0,
            incremental: None,
            elapsed_ms: 0,
        }
    }
}

/// One run's (or one merge's) report.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Every occurrence, each with `repository`; sorted by repository, path, line, column.
    pub findings: Vec<Value>,
    /// Sorted by name.
    pub repositories: Vec<RepoResult>,
    pub suppressed: Suppressed,
    /// Errors that belong to no repository (a missing shard, a state file not written).
    pub run_errors: usize,
    pub elapsed_ms: u64,
    pub fail_on: Severity,
    /// The shards this report covers; empty when the run was not sharded.
    pub shards: Vec<Shard>,
}

impl RunReport {
    pub fn sort(&mut self) {
        self.repositories.sort_by(|a, b| a.name.cmp(&b.name));
        self.findings.sort_by_key(order);
    }

    pub fn errors(&self) -> usize {
        self.run_errors + self.repositories.iter().map(|r| r.errors).sum::<usize>()
    }

    pub fn failed(&self) -> impl Iterator<Item = &RepoResult> {
        self.repositories
            .iter()
            .filter(|r| r.status != Status::Scanned)
    }

    /// Whether a finding makes the run exit 1: at or above --fail-on, and not a public example.
    pub fn fails(&self, f: &Value) -> bool {
        f["public_example"].as_bool() != Some(true)
            && Severity::parse(f["severity"].as_str().unwrap_or("")).unwrap_or(Severity::Info)
                >= self.fail_on
    }

    /// 1 when a finding fails the run, else 2 when anything could not be scanned, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.findings.iter().any(|f| self.fails(f)) {
            exit::FINDINGS
        } else if self.errors() > 0 {
            exit::ERROR
        } else {
            exit::CLEAN
        }
    }

    pub fn summary(&self) -> Value {
        let sum = |f: fn(&RepoResult) -> u64| self.repositories.iter().map(f).sum::<u64>();
        let keys: BTreeSet<&str> = self
            .findings
            .iter()
            .filter_map(|f| f["fingerprint"].as_str())
            .collect();
        json!({
            "files": sum(|r| r.files),
            "bytes": sum(|r| r.bytes),
            "findings": self.findings.len(),
            "suppressed": self.suppressed.total(),
            "suppressed_by": self.suppressed.json(),
            "errors": self.errors(),
            "skipped": sum(|r| r.skipped as u64),
            "elapsed_ms": self.elapsed_ms,
            "commits": sum(|r| r.commits),
            "keys": keys.len(),
            "repositories": self.repositories.len(),
            "repositories_failed": self.failed().count(),
        })
    }

    pub fn json(&self) -> Value {
        json!({
            "version": 1,
            "findings": self.findings,
            "keys": keys::json(&self.findings),
            "repositories": self.repositories,
            "summary": self.summary(),
            "fail_on": self.fail_on.as_str(),
            "shards": self.shards.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        })
    }

    /// A report written by `json`, read back for `merge`.
    pub fn from_json(name: &str, text: &str) -> Result<RunReport, Error> {
        let bad = |cause: String| Error::config(name, None, cause);
        let v: Value = serde_json::from_str(text).map_err(|e| {
            Error::config(
                name,
                (e.line() > 0).then_some(e.line()),
                "not a JSON report of stripe-scan",
            )
        })?;
        if v["version"] != 1 {
            return Err(bad("not a version 1 JSON report of stripe-scan".into()));
        }
        let Some(findings) = v["findings"].as_array() else {
            return Err(bad(
                "no findings array: not a JSON report of stripe-scan".into()
            ));
        };
        let Some(repositories) = v.get("repositories") else {
            return Err(bad(
                "no repositories: a single-repository report (merge combines `history --repos/--github-org` reports)".into(),
            ));
        };
        let repositories: Vec<RepoResult> = serde_json::from_value(repositories.clone())
            .map_err(|e| bad(format!("repositories: {e}")))?;
        let shards = v["shards"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(Shard::parse)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(bad)?
            .unwrap_or_default();
        let repo_errors: usize = repositories.iter().map(|r| r.errors).sum();
        let total_errors = v["summary"]["errors"].as_u64().unwrap_or(0) as usize;
        Ok(RunReport {
            findings: findings.clone(),
            repositories,
            suppressed: Suppressed::from_json(&v["summary"]["suppressed_by"]),
            run_errors: total_errors.saturating_sub(repo_errors),
            elapsed_ms: v["summary"]["elapsed_ms"].as_u64().unwrap_or(0),
            fail_on: v["fail_on"]
                .as_str()
                .and_then(Severity::parse)
                .unwrap_or(Severity::Low),
            shards,
        })
    }

    pub fn load(path: &std::path::Path) -> Result<RunReport, Error> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(&name, None, describe_io(&e)))?;
        RunReport::from_json(&name, &text)
    }
}

/// Shard reports as one: findings and repositories together (a repository that two reports
/// hold is kept once, from the first), counts added, elapsed time the longest (shards run side
/// by side). Missing shards are errors: a merge that lacks one is not a clean scan of everything.
pub fn merge(
    reports: Vec<RunReport>,
    fail_on: Option<Severity>,
    notes: &mut Vec<String>,
) -> RunReport {
    let strictest = reports
        .iter()
        .map(|r| r.fail_on)
        .min()
        .unwrap_or(Severity::Low);
    if fail_on.is_none() && reports.iter().any(|r| r.fail_on != strictest) {
        notes.push(format!(
            "the reports were made with different --fail-on; using the strictest, {}",
            strictest.as_str()
        ));
    }
    let mut out = RunReport {
        findings: Vec::new(),
        repositories: Vec::new(),
        suppressed: Suppressed::default(),
        run_errors: 0,
        elapsed_ms: 0,
        fail_on: fail_on.unwrap_or(strictest),
        shards: Vec::new(),
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for r in reports {
        let repeated: BTreeSet<String> = r
            .repositories
            .iter()
            .filter(|repo| seen.contains(&repo.name))
            .map(|repo| repo.name.clone())
            .collect();
        for name in &repeated {
            notes.push(format!(
                "{}: in more than one report; kept the first",
                crate::error::printable(name)
            ));
        }
        out.findings.extend(r.findings.into_iter().filter(|f| {
            !f["repository"]
                .as_str()
                .is_some_and(|n| repeated.contains(n))
        }));
        for repo in r.repositories {
            if seen.insert(repo.name.clone()) {
                out.repositories.push(repo);
            }
        }
        out.suppressed += r.suppressed;
        out.run_errors += r.run_errors;
        out.elapsed_ms = out.elapsed_ms.max(r.elapsed_ms);
        out.shards.extend(r.shards);
    }
    out.shards.sort_by_key(|s| (s.count, s.index));
    out.shards.dedup();
    let counts: BTreeSet<u64> = out.shards.iter().map(|s| s.count).collect();
    if counts.len() > 1 {
        notes.push(format!(
            "the reports split the repositories in different ways ({}); shards of different counts overlap and miss",
            out.shards.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        ));
        out.run_errors += 1;
    } else if let Some(&n) = counts.iter().next() {
        // `n` comes from the reports: name a few missing shards, count the rest.
        const NAMED: usize = 10;
        let missing = (1..=n).filter(|i| !out.shards.iter().any(|s| s.index == *i));
        let present = out.shards.len() as u64;
        for i in missing.take(NAMED) {
            notes.push(format!(
                "shard {i}/{n} is missing: its repositories were not scanned"
            ));
        }
        let absent = n.saturating_sub(present);
        if absent > NAMED as u64 {
            notes.push(format!(
                "{} more of {n} shards are missing",
                absent - NAMED as u64
            ));
        }
        out.run_errors = out
            .run_errors
            .saturating_add(usize::try_from(absent).unwrap_or(usize::MAX));
    }
    out.sort();
    out
}

/// Findings in a stable order, whichever repository finished first.
fn order(f: &Value) -> (String, String, u64, u64, String) {
    super::state::place_after(f, "repository")
}
