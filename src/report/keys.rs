//! Findings grouped by key. One test key copied into 112 fixtures is one thing to fix, not 112, so
//! reports lead with each distinct key (by fingerprint) and list where it is below it.
//!
//! The grouping reads JSON finding values, the report contract, rather than `Finding`s: the same
//! code then groups one repository's scan, a multi-repository run built from its children's JSON,
//! and `merge` of shard reports, and all three agree.

use super::in_message;
use crate::finding::{source_of, CommitInfo};
use crate::severity::Severity;
use serde_json::{json, Map, Value};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

/// One distinct key and every finding of it.
#[derive(Debug, Clone)]
pub struct KeyGroup {
    pub fingerprint: String,
    pub kind: String,
    /// The key type in words ("live secret key").
    pub label: String,
    pub mode: Value,
    /// The highest severity any occurrence has (a config may rate the same key differently).
    pub severity: Severity,
    pub secret_redacted: String,
    /// The full key, only when the findings carry it (`--show-secrets`).
    pub secret: Option<String>,
    pub public_example: bool,
    /// Indices into the findings, in report order.
    pub members: Vec<usize>,
    /// Distinct repositories, sorted; empty for a single-repository report.
    pub repositories: Vec<String>,
    /// Distinct (repository, path) pairs.
    pub files: usize,
    /// The member with the oldest commit date (the first in report order when none has a date).
    pub first_seen: usize,
    /// What to do, from the first-seen finding.
    pub remediation: Vec<String>,
}

impl KeyGroup {
    pub fn occurrences(&self) -> usize {
        self.members.len()
    }

    /// The `keys` entry of a JSON report.
    pub fn json(&self, findings: &[Value]) -> Value {
        let first = &findings[self.first_seen];
        let mut first_seen = Map::new();
        for field in ["repository", "commit", "path", "line", "date"] {
            if let Some(v) = first.get(field) {
                first_seen.insert(field.to_string(), v.clone());
            }
        }
        let mut v = json!({
            "fingerprint": self.fingerprint,
            "kind": self.kind,
            "label": self.label,
            "mode": self.mode,
            "severity": self.severity.as_str(),
            "secret_redacted": self.secret_redacted,
            "public_example": self.public_example,
            "occurrences": self.occurrences(),
            "files": self.files,
            "repositories": self.repositories,
            "first_seen": first_seen,
            "remediation": self.remediation,
        });
        if let Some(secret) = &self.secret {
            v["secret"] = json!(secret);
        }
        v
    }
}

/// The keys among `findings`: the most severe first, then the most widespread, then by fingerprint
/// (so the order never depends on which repository finished first).
pub fn group(findings: &[Value]) -> Vec<KeyGroup> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<KeyGroup> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let fingerprint = text(f, "fingerprint");
        let g = *index.entry(fingerprint).or_insert_with(|| {
            groups.push(KeyGroup {
                fingerprint: fingerprint.to_string(),
                kind: text(f, "kind").to_string(),
                label: text(f, "label").to_string(),
                mode: f.get("mode").cloned().unwrap_or(Value::Null),
                severity: severity_of(f),
                secret_redacted: text(f, "secret_redacted").to_string(),
                secret: f.get("secret").and_then(Value::as_str).map(str::to_string),
                public_example: f["public_example"].as_bool().unwrap_or(false),
                members: Vec::new(),
                repositories: Vec::new(),
                files: 0,
                first_seen: i,
                remediation: Vec::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        group.severity = group.severity.max(severity_of(f));
        group.members.push(i);
        if earlier(f, &findings[group.first_seen]) {
            group.first_seen = i;
        }
    }
    for g in &mut groups {
        let members = || g.members.iter().map(|&i| &findings[i]);
        let repositories: BTreeSet<&str> = members().filter_map(repository).collect();
        // By where each is, as reports name it: messages are not one file.
        let files: BTreeSet<(Option<&str>, String)> = members()
            .map(|f| {
                let commit = CommitInfo::from_json(f);
                (
                    repository(f),
                    source_of(text(f, "path"), in_message(f), commit.as_ref()),
                )
            })
            .collect();
        g.files = files.len();
        g.repositories = repositories.into_iter().map(str::to_string).collect();
        g.remediation = findings[g.first_seen]["remediation"]
            .as_array()
            .map(|steps| {
                steps
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
    }
    groups.sort_by(|a, b| {
        (
            Reverse(a.severity),
            a.public_example,
            Reverse(a.occurrences()),
            &a.fingerprint,
        )
            .cmp(&(
                Reverse(b.severity),
                b.public_example,
                Reverse(b.occurrences()),
                &b.fingerprint,
            ))
    });
    groups
}

/// The `keys` array of a JSON report.
pub fn json(findings: &[Value]) -> Value {
    Value::Array(group(findings).iter().map(|g| g.json(findings)).collect())
}

pub fn repository(f: &Value) -> Option<&str> {
    f.get("repository").and_then(Value::as_str)
}

fn text<'a>(f: &'a Value, field: &str) -> &'a str {
    f.get(field).and_then(Value::as_str).unwrap_or("")
}

fn severity_of(f: &Value) -> Severity {
    Severity::parse(text(f, "severity")).unwrap_or(Severity::Info)
}

/// Whether `a` was seen before `b`: the older commit date; without dates, or on a tie, the
/// first repository, path and line in order, so the choice is the same however the findings came.
fn earlier(a: &Value, b: &Value) -> bool {
    fn at(f: &Value) -> (Option<i64>, &str, String, u64) {
        (
            f.get("date")
                .and_then(Value::as_str)
                .and_then(epoch_seconds),
            repository(f).unwrap_or(""),
            text(f, "path").to_string(),
            f["line"].as_u64().unwrap_or(0),
        )
    }
    let (da, ra, pa, la) = at(a);
    let (db, rb, pb, lb) = at(b);
    match (da, db) {
        (Some(x), Some(y)) if x != y => x < y,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        _ => (ra, pa, la) < (rb, pb, lb),
    }
}

/// `2024-01-02T03:04:05+01:00` (or `Z`) as seconds since the epoch: author dates carry the
/// author's own offset, so the strings alone do not sort.
pub fn epoch_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let offset = match &s[19..] {
        "Z" => 0,
        zone if zone.len() == 6 => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            sign * (num(20..22)? * 3600 + num(23..25)? * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(fp: &str, repo: &str, path: &str, date: &str) -> Value {
        json!({
            "fingerprint": fp, "kind": "secret_key", "label": "live secret key",
            "severity": "critical", "secret_redacted": "x", "public_example": false,
            "repository": repo, "path": path, "line": 1, "date": date,
            "remediation": ["roll it"],
        })
    }

    #[test]
    fn dates_with_offsets_compare_as_instants() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("2024-01-02T03:04:05Z"), Some(1_704_164_645));
        assert_eq!(
            epoch_seconds("2024-01-02T04:34:05+01:30"),
            Some(1_704_164_645)
        );
        assert_eq!(epoch_seconds("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(epoch_seconds("yesterday"), None);
        assert_eq!(epoch_seconds("2024-01-02T03:04:05+0100"), None);
    }

    #[test]
    fn one_key_in_many_places_is_one_group_first_seen_by_date() {
        let findings = vec![
            finding("sha256:a", "r2", "x.py", "2024-01-02T03:04:05Z"),
            // Later as written, earlier as instants (02:04:05Z, then 01:00:00Z).
            finding("sha256:a", "r1", "y.py", "2024-01-02T04:04:05+02:00"),
            finding("sha256:a", "r1", "y.py", "2024-01-02T09:00:00+08:00"),
            finding("sha256:b", "r1", "z.py", "2024-01-02T00:00:00Z"),
        ];
        let groups = group(&findings);
        assert_eq!(groups.len(), 2);
        let a = &groups[0];
        assert_eq!(a.fingerprint, "sha256:a");
        assert_eq!(a.occurrences(), 3);
        assert_eq!(a.files, 2);
        assert_eq!(a.repositories, vec!["r1", "r2"]);
        assert_eq!(a.first_seen, 2);
        assert_eq!(a.remediation, vec!["roll it"]);
        assert_eq!(groups[1].occurrences(), 1);
    }
}
