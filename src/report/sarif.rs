//! `--format sarif` and `--sarif-output FILE`: SARIF 2.1.0 as GitHub code scanning reads it.
//!
//! One SARIF rule per rule variant (`stripe-secret-key/sk_live`), because code scanning takes an
//! alert's severity from its rule's `security-severity`, and a live secret key (critical) and a test
//! one (medium) must not share it. Public example keys get their own `…/public-example` rule at
//! severity 0.0. With `--verify`, a live key Stripe confirmed active goes under its variant's
//! `…/active` rule at 10.0, so code scanning ranks it above every key that may already be dead.
//! Results carry the key's fingerprint in `partialFingerprints`, so an alert follows
//! the key when lines move; the key itself is never written, not even with `--show-secrets`:
//! a SARIF file is uploaded and shared. Suppressed findings are not emitted as results (the action
//! counts results as findings); their counts are in the run's `properties.summary`.

use super::markdown::escape_text;
use super::{status, title, Report};
use crate::finding::Finding;
use crate::paths::Frame;
use crate::rules::remediation;
use crate::rules::{Place, Rule, RuleSet, Variant};
use crate::severity::{Confidence, Mode, Severity};
use crate::verification::Status;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::io::{self, Write};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const FINGERPRINT_KEY: &str = "stripeKeyFingerprint/v1";

/// GitHub reads > 9.0 as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Above every other finding: a live key that works right now.
const ACTIVE_LIVE: &str = "10.0";

/// Which of its variant's SARIF rules a finding goes under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flavor {
    Plain,
    /// A key from Stripe's documentation: severity 0.0.
    PublicExample,
    /// A live key Stripe confirmed active under `--verify`: severity raised to 10.0.
    ActiveLive,
}

impl Flavor {
    pub fn of(f: &Finding, rules: &RuleSet) -> Flavor {
        if f.public_example {
            Flavor::PublicExample
        } else if status(f) == Some(Status::Active) && f.variant_of(rules).mode == Some(Mode::Live)
        {
            Flavor::ActiveLive
        } else {
            Flavor::Plain
        }
    }
}

/// The SARIF rule id of a finding's variant: the rule id and the prefix without its trailing `_`,
/// then `/public-example` or `/active` for those flavours.
pub fn rule_id(rules: &RuleSet, rule: usize, variant: usize, flavor: Flavor) -> String {
    let r = &rules.rules[rule];
    let prefix = String::from_utf8_lossy(&r.variants[variant].prefix);
    let mut id = format!("{}/{}", r.id, prefix.trim_end_matches('_'));
    match flavor {
        Flavor::Plain => {}
        Flavor::PublicExample => id.push_str("/public-example"),
        Flavor::ActiveLive => id.push_str("/active"),
    }
    id
}

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report))?;
    writeln!(out)
}

pub fn document(report: &Report<'_>) -> Value {
    let rules = report.rules;
    // Every variant, then a public-example or active rule for each variant that has such a result.
    let mut descriptors: Vec<(usize, usize, Flavor)> = Vec::new();
    for (r, rule) in rules.rules.iter().enumerate() {
        for v in 0..rule.variants.len() {
            descriptors.push((r, v, Flavor::Plain));
        }
    }
    let flavoured: BTreeSet<(Flavor, usize, usize)> = report
        .findings
        .iter()
        .map(|f| (Flavor::of(f, rules), f.rule, f.variant))
        .filter(|(flavor, _, _)| *flavor != Flavor::Plain)
        .collect();
    descriptors.extend(flavoured.into_iter().map(|(flavor, r, v)| (r, v, flavor)));

    let sarif_rules: Vec<Value> = descriptors
        .iter()
        .map(|&(r, v, example)| descriptor(report, r, v, example))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = descriptors
                .iter()
                .position(|&d| d == (f.rule, f.variant, Flavor::of(f, rules)))
                .unwrap_or(0);
            result(report, f, index)
        })
        .collect();

    let mut driver = Map::new();
    driver.insert("name".into(), json!("stripe-scan"));
    let repo = env!("CARGO_PKG_REPOSITORY");
    if !repo.is_empty() {
        driver.insert("informationUri".into(), json!(repo));
    }
    driver.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("semanticVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("rules".into(), Value::Array(sarif_rules));

    let summary = report.summary.json();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": Value::Object(driver) },
            // A partial scan is never a clean one: code scanning shows this as a failed analysis.
            "invocations": [{ "executionSuccessful": report.summary.errors == 0 }],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": { "summary": summary },
        }],
    })
}

fn descriptor(report: &Report<'_>, r: usize, v: usize, flavor: Flavor) -> Value {
    let rules = report.rules;
    let rule = &rules.rules[r];
    let variant = &rule.variants[v];
    let prefix = String::from_utf8_lossy(&variant.prefix);
    let severity = if flavor == Flavor::PublicExample {
        Severity::Info
    } else {
        variant.severity
    };
    let name = title(&variant.label);
    let (short, full) = match flavor {
        Flavor::PublicExample => {
            let short = format!("{name} from Stripe's documentation (public example)");
            let full = format!("{short}: a key printed in Stripe's documentation or SDKs. It grants nothing, so it is reported at severity info and never fails a scan.");
            (short, full)
        }
        Flavor::Plain => (
            name.clone(),
            format!(
                "A {name} ({prefix}…) in a file or in git history; severity {}. {}",
                severity.as_str(),
                class_sentence(variant)
            ),
        ),
        Flavor::ActiveLive => (
            format!("{name} that Stripe confirmed active"),
            format!(
                "A {name} ({prefix}…) in a file or in git history that still worked when `stripe-scan --verify` asked Stripe; \
                 severity {}, ranked above every other finding. Roll it now.",
                severity.as_str()
            ),
        ),
    };
    let level = if flavor == Flavor::PublicExample {
        "note"
    } else if severity >= report.fail_on {
        "error"
    } else {
        "warning"
    };
    let score = match flavor {
        Flavor::ActiveLive => ACTIVE_LIVE,
        _ => security_severity(severity),
    };
    json!({
        "id": rule_id(rules, r, v, flavor),
        "name": rule_name(rule, variant, flavor),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": help(rules, r, v, flavor, &full),
        "defaultConfiguration": { "level": level },
        "properties": {
            "security-severity": score,
            "precision": precision(rule.confidence),
            "tags": ["security", "secret", "stripe", rule.kind.as_str(), "external/cwe/cwe-798"],
            "kind": rule.kind,
            "mode": variant.mode.map(|m| m.as_str()),
            "severity": severity.as_str(),
        },
    })
}

fn class_sentence(v: &Variant) -> &'static str {
    match v.class {
        crate::rules::KeyClass::Secret => "It stays valid until it is rotated.",
        crate::rules::KeyClass::ShortLived => "It expires on its own or belongs to one object.",
        crate::rules::KeyClass::Public => {
            "It is public by design; the policy is that no Stripe key lives in the repository."
        }
    }
}

/// `StripeLiveSecretKey`: a readable identifier, as code scanning shows rule names.
fn rule_name(rule: &Rule, variant: &Variant, flavor: Flavor) -> String {
    let base = title(&variant.label);
    let mut name: String = base
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if name.is_empty() {
        name = rule.id.clone();
    }
    match flavor {
        Flavor::Plain => {}
        Flavor::PublicExample => name.push_str("PublicExample"),
        Flavor::ActiveLive => name.push_str("Active"),
    }
    name
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// The steps for every place, since one rule's help serves all its alerts; each result's message
/// carries the steps for its own place.
fn help(rules: &RuleSet, r: usize, v: usize, flavor: Flavor, full: &str) -> Value {
    let mut text = format!("{full}\n");
    let mut md = format!("{}\n", escape_text(full));
    let verified = (flavor == Flavor::ActiveLive).then_some(Status::Active);
    if flavor == Flavor::PublicExample {
        let steps = remediation::steps(rules, r, v, Place::WorkingTree, true);
        text.push_str("\nWhat to do:\n");
        md.push_str("\n#### What to do\n\n");
        push_steps(&mut text, &mut md, &steps);
    } else {
        text.push_str("\nWhat to do depends on where the key was found.\n");
        md.push_str("\nWhat to do depends on where the key was found.\n");
        for place in Place::ALL {
            let heading = capitalise(place.describe());
            text.push_str(&format!("\n{heading}:\n"));
            md.push_str(&format!("\n#### {heading}\n\n"));
            push_steps(
                &mut text,
                &mut md,
                &remediation::verified_steps(rules, r, v, place, false, verified, None),
            );
        }
    }
    json!({ "text": text, "markdown": md })
}

fn push_steps(text: &mut String, md: &mut String, steps: &[String]) {
    for (i, s) in steps.iter().enumerate() {
        text.push_str(&format!("  {}. {s}\n", i + 1));
        md.push_str(&format!("{}. {}\n", i + 1, escape_text(s)));
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn result(report: &Report<'_>, f: &Finding, rule_index: usize) -> Value {
    let rules = report.rules;
    let variant = f.variant_of(rules);
    let severity = f.severity(rules);
    let level = if f.public_example {
        "note"
    } else if report.fails(f) {
        "error"
    } else {
        "warning"
    };
    let mut message = format!(
        "{}{} {} ({}), {}",
        if f.known_elsewhere {
            "Known key, new location: "
        } else {
            ""
        },
        title(&variant.label),
        f.secret.redacted(),
        severity.as_str(),
        f.place.describe()
    );
    if f.place.is_message() {
        message.push_str(&format!(" ({})", f.location()));
    }
    if let Some(inside) = f.inside() {
        message.push_str(&format!(", {inside}"));
    }
    if let Some(c) = f.introduced_in() {
        message.push_str(&format!(": introduced in {c}"));
    }
    if let Some(v) = &f.verification {
        message.push_str(&format!(
            ". Stripe says: {} ({})",
            v.status.words(),
            v.reason
        ));
    }
    message.push_str(". What to do:");
    for (i, s) in f.remediation(rules).iter().enumerate() {
        message.push_str(&format!("\n{}. {s}", i + 1));
    }
    let location = location(f, report.frame);
    let rule = f.rule_of(rules);
    let mut props = json!({
        "kind": rule.kind,
        "mode": variant.mode.map(|m| m.as_str()),
        "severity": severity.as_str(),
        "confidence": f.confidence.as_str(),
        "place": f.place.as_str(),
        "public_example": f.public_example,
        "secret_redacted": f.secret.redacted(),
        "fingerprint": f.secret.fingerprint(),
        "known_key_new_location": f.known_elsewhere,
    });
    if f.member_at.is_some() {
        props["path"] = json!(f.path);
        props["member"] = json!(f.member_chain().trim_start_matches('!'));
        props["member_line"] = json!(f.line);
        props["member_column"] = json!(f.column);
    }
    if let Some(c) = &f.commit {
        props["commit"] = json!(c.id);
    }
    super::json::add_occurrence(&mut props, f);
    let fingerprint = f.secret.fingerprint();
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(&fingerprint);
    json!({
        "ruleId": rule_id(rules, f.rule, f.variant, Flavor::of(f, rules)),
        "ruleIndex": rule_index,
        "level": level,
        "message": { "text": message },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT_KEY: hex },
        "properties": props,
    })
}

/// Where the key is. A file: its path and the key's region. A commit or tag message has no file:
/// the location is the repository's root (code scanning refuses a result without a physical
/// location) with a logical location naming the message, and the line and column within the
/// message in the result's text.
fn location(f: &Finding, frame: &Frame) -> Value {
    if f.place.is_message() {
        let (kind, name) = match &f.commit {
            Some(c) => match &c.tag {
                Some(tag) => ("tag", tag.clone()),
                None => ("commit", c.id.clone()),
            },
            None => ("commit", String::new()),
        };
        return json!({
            "physicalLocation": {
                "artifactLocation": { "uri": "./", "uriBaseId": "%SRCROOT%" },
            },
            "logicalLocations": [{
                "name": format!("{kind} {name} message, line {}, column {}", f.line, f.column),
                "fullyQualifiedName": format!("{kind}/{name}/message"),
                "kind": "object",
            }],
        });
    }
    // Code scanning needs a file of the repository, by its path there whatever folder was
    // scanned: a member's key points at its archive.
    let (line, column) = f.outer_line_column();
    let end_column = if f.member_at.is_some() {
        column + 1
    } else {
        column + f.secret.as_bytes().len() as u64
    };
    let path = frame.repo_relative(f.outer_path());
    let mut artifact = json!({ "uri": uri_of(&path) });
    if !path.starts_with('/') {
        artifact["uriBaseId"] = json!("%SRCROOT%");
    }
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": {
                "startLine": line.max(1),
                "startColumn": column.max(1),
                "endLine": line.max(1),
                "endColumn": end_column.max(column.max(1) + 1),
            },
        },
    })
}

/// A report path as a URI reference: `/`-separated segments with everything but unreserved
/// characters percent-encoded, so spaces, `%`, `:` , `#`, `?` and newlines survive. Absolute paths
/// become `file://` URIs; relative ones are resolved against `%SRCROOT%`.
pub fn uri_of(path: &str) -> String {
    let encoded: Vec<String> = path.split('/').map(encode_segment).collect();
    let joined = encoded.join("/");
    if path.starts_with('/') {
        format!("file://{joined}")
    } else {
        joined
    }
}

/// One path segment percent-encoded (RFC 3986 unreserved bytes kept).
pub(crate) fn encode_segment(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    for b in seg.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_encode_what_a_path_may_hold() {
        assert_eq!(uri_of("src/main.rs"), "src/main.rs");
        assert_eq!(
            uri_of("my dir/a,b:c%d#e?.txt"),
            "my%20dir/a%2Cb%3Ac%25d%23e%3F.txt"
        );
        assert_eq!(uri_of("line\nbreak"), "line%0Abreak");
        assert_eq!(uri_of("/tmp/x y"), "file:///tmp/x%20y");
        assert_eq!(uri_of("é"), "%C3%A9");
    }

    #[test]
    fn rule_ids_are_unique_per_variant() {
        let rules = RuleSet::builtin().expect("rules");
        let mut seen = std::collections::HashSet::new();
        for (r, rule) in rules.rules.iter().enumerate() {
            for v in 0..rule.variants.len() {
                for flavor in [Flavor::Plain, Flavor::PublicExample, Flavor::ActiveLive] {
                    assert!(seen.insert(rule_id(&rules, r, v, flavor)), "{}", rule.id);
                }
            }
        }
    }
}
