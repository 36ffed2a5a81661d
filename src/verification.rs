//! What Stripe said about a key when `--verify` asked it: the vocabulary `finding`, the rules'
//! remediation and every report use. The asking (HTTP, TLS, where keys may go) lives in `verify`.
//! They are two modules on purpose: `verify` reads findings and rules, while findings, rules and
//! reports need this answer, so the answer stays a leaf below all of them and the network code
//! stays above; one folder would make `finding` and `verify` import each other.

use serde_json::{json, Value};

/// Three answers from Stripe, never conflated, plus "we did not ask".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The key authenticated (200, or 403 for a restricted key that lacks the permission).
    Active,
    /// Stripe rejected the key (401): invalid, rolled, expired or deleted.
    Inactive,
    /// We asked and got no answer that settles it: timeout, network, TLS, 5xx, 429, budget.
    Unknown,
    /// Not sent, on purpose: a kind that cannot be checked safely, or a public example.
    NotVerifiable,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::Inactive,
        Status::Unknown,
        Status::NotVerifiable,
    ];

    /// The JSON and SARIF value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Unknown => "unknown",
            Status::NotVerifiable => "not_verifiable",
        }
    }

    /// For text reports, beside the severity.
    pub fn words(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Unknown => "unknown",
            Status::NotVerifiable => "not verifiable",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub status: Status,
    /// RFC 3339 UTC time of the answer; `None` when nothing was sent.
    pub checked_at: Option<String>,
    /// Why, in our own words: never text from the response, which can quote the key.
    pub reason: String,
}

impl Verification {
    pub fn json(&self) -> Value {
        json!({
            "status": self.status.as_str(),
            "checked_at": self.checked_at,
            "reason": self.reason,
        })
    }
}

/// Distinct keys (by fingerprint) per status, for summaries: `[active, inactive, unknown, not_verifiable]`.
pub fn tally<'a>(keys: impl IntoIterator<Item = (String, &'a Verification)>) -> [usize; 4] {
    let mut seen = std::collections::HashSet::new();
    let mut counts = [0; 4];
    for (fingerprint, v) in keys {
        if seen.insert(fingerprint) {
            counts[v.status as usize] += 1;
        }
    }
    counts
}

/// `1 active, 2 inactive`: the non-zero counts of `tally`.
pub fn describe_tally(counts: &[usize; 4]) -> String {
    Status::ALL
        .iter()
        .filter(|s| counts[**s as usize] > 0)
        .map(|s| format!("{} {}", counts[*s as usize], s.words()))
        .collect::<Vec<_>>()
        .join(", ")
}
