//! `--format json`: one object, the contract in DESIGN.md. Fields may be added, never renamed.

use super::Report;
use crate::finding::Finding;
use crate::rules::RuleSet;
use serde_json::{json, Value};
use std::io::{self, Write};

pub fn finding_value(f: &Finding, rules: &RuleSet, show_secrets: bool) -> Value {
    let rule = f.rule_of(rules);
    let variant = f.variant_of(rules);
    let mut v = json!({
        "rule": rule.id,
        "kind": rule.kind,
        "mode": variant.mode.map(|m| m.as_str()),
        "severity": f.severity(rules).as_str(),
        "confidence": f.confidence.as_str(),
        "label": variant.label,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "secret_redacted": f.secret.redacted(),
        "fingerprint": f.secret.fingerprint(),
        "public_example": f.public_example,
        "place": f.place.as_str(),
        "commit": f.commit.as_ref().map(|c| c.id.clone()),
        "remediation": f.remediation(rules),
        "known_key_new_location": f.known_elsewhere,
    });
    add_occurrence(&mut v, f);
    if show_secrets {
        v["secret"] = json!(f.secret.expose());
    }
    v
}

/// What the JSON finding and SARIF's result properties both say beyond the key and its place:
/// how it was encoded, the commit's author and date, whether HEAD still holds it, the tag, what
/// Stripe said.
pub fn add_occurrence(v: &mut serde_json::Value, f: &Finding) {
    if !f.encoding.is_empty() {
        v["encoding"] = json!(f.encoding);
    }
    if let Some(c) = &f.commit {
        v["author"] = json!(c.author);
        v["date"] = json!(c.date);
        // null when HEAD could not be read: unknown is not "no".
        v["still_in_head"] = json!(c.still_in_head);
        if let Some(tag) = &c.tag {
            v["tag"] = json!(tag);
        }
    }
    if let Some(verification) = &f.verification {
        v["verification"] = verification.json();
    }
}

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let summary = report.summary.json();
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| finding_value(f, report.rules, report.show_secrets))
        .collect();
    // Every occurrence stays in `findings`; `keys` adds one entry per distinct key.
    let keys = super::keys::json(&findings);
    let doc = json!({
        "version": 1,
        "findings": findings,
        "keys": keys,
        "summary": summary,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
