//! Every rule's examples must be found by that rule, and its negative examples by no rule, in the
//! built-in file. A rule whose examples fail is a broken rule.

use crate::util::{random_from, ALNUM, B64, HEX, WORD};
use std::sync::Arc;
use stripe_scan::engine::matcher::{Hit, Matcher};
use stripe_scan::rules::RuleSet;

/// Expands `${alnum:N}`, `${word:N}`, `${hex:N}`, `${b64:N}` into fresh random text; anything else
/// (such as `${STRIPE_KEY}`) stays as written.
pub fn expand(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let parsed = after.find('}').and_then(|end| {
            let (set, n) = after[..end].split_once(':')?;
            let n: usize = n.parse().ok()?;
            let set: &[u8] = match set {
                "alnum" => ALNUM,
                "word" => WORD,
                "hex" => HEX,
                "b64" => B64,
                _ => return None,
            };
            Some((random_from(set, n), end))
        });
        match parsed {
            Some((text, end)) => {
                out.push_str(&text);
                rest = &after[end + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn hits(m: &Matcher, text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    m.find(text.as_bytes(), 0, text.len(), &mut out);
    out
}

#[test]
fn every_example_is_found_by_its_rule_and_every_negative_by_none() {
    let rules = Arc::new(RuleSet::builtin().expect("built-in rules"));
    let m = Matcher::new(rules.clone()).expect("matcher");
    let mut failures = Vec::new();
    for (ri, rule) in rules.rules.iter().enumerate() {
        assert!(
            !rule.examples.is_empty(),
            "rule {} has no examples",
            rule.id
        );
        // Random bodies differ each round; several rounds catch a check that only passes by luck.
        for _ in 0..20 {
            for ex in &rule.examples {
                let text = expand(ex);
                let found = hits(&m, &text);
                let ok = found.len() == 1 && found[0].rule == ri && !found[0].inline_allowed;
                if !ok {
                    failures.push(format!(
                        "{}: example {ex:?} gave {} hits",
                        rule.id,
                        found.len()
                    ));
                }
            }
            for neg in &rule.negative_examples {
                let text = expand(neg);
                if !hits(&m, &text).is_empty() {
                    failures.push(format!(
                        "{}: negative example {neg:?} was reported",
                        rule.id
                    ));
                }
            }
        }
    }
    failures.dedup();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_kind_in_stripe_keys_md_has_a_rule() {
    let rules = RuleSet::builtin().expect("built-in rules");
    for kind in [
        "secret_key",
        "restricted_key",
        "publishable_key",
        "organization_key",
        "sandbox_key",
        "webhook_secret",
        "ephemeral_key",
        "terminal_token",
        "client_secret",
        "oauth_refresh_token",
        "cli_key",
        "app_secret",
    ] {
        assert!(
            rules.rules.iter().any(|r| r.kind == kind),
            "no rule for {kind}"
        );
    }
}
