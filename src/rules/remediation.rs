//! What to do about a key: its kind's steps (the variant's `remediation`) placed inside the steps
//! for where it was found (`[places.<class>]`). All wording lives in the rule file; this only
//! splices the lists together, so every report (text, JSON, SARIF, GitHub) says the same thing.
//!
//! A step may start with a condition, so a finding is not told what does not apply to it:
//! `{if in_head}` (printed unless the key is known to be gone from HEAD) and
//! `{if near WORD...}` (printed only when the key's line holds one of the words, in any case).
//! General advice (SARIF rule help, the job summary) prints every step without its condition.

use crate::rules::{KeyClass, Place, RuleSet, KIND_STEPS};
use crate::verification::Status;

/// What one finding's steps are chosen and worded by.
#[derive(Debug, Default, Clone, Copy)]
pub struct Circumstances<'a> {
    /// For history findings, whether HEAD still holds the key; None when not known.
    pub still_in_head: Option<bool>,
    /// The key's line, as reports show it.
    pub line: &'a str,
    /// The path written in place of `<path>`; None keeps `<path>`.
    pub path: Option<&'a str>,
}

enum Condition<'a> {
    InHead,
    Near(Vec<&'a str>),
}

/// The step's condition and its text. A malformed condition is an error for `check`; here it is
/// left in the text, which the rule tests rule out.
fn split(step: &str) -> Result<(Option<Condition<'_>>, &str), String> {
    let Some(rest) = step.strip_prefix("{if ") else {
        return Ok((None, step));
    };
    let Some(close) = rest.find('}') else {
        return Err(format!("step {step:?}: `{{if` without a closing `}}`"));
    };
    let text = rest[close + 1..].trim_start();
    let mut words = rest[..close].split_whitespace();
    let condition = match words.next() {
        Some("in_head") if words.next().is_none() => Condition::InHead,
        Some("near") => {
            let list: Vec<&str> = words.collect();
            if list.is_empty() {
                return Err(format!("step {step:?}: `{{if near}}` needs words"));
            }
            Condition::Near(list)
        }
        _ => {
            return Err(format!(
                "step {step:?}: unknown condition; use `{{if in_head}}` or `{{if near WORD...}}`"
            ))
        }
    };
    Ok((Some(condition), text))
}

/// Whether a step's condition is well formed: rule files are checked with this when they load.
pub fn check(step: &str) -> Result<(), String> {
    split(step).map(|_| ())
}

/// A step as general advice shows it: without its condition.
pub fn shown(step: &str) -> &str {
    match split(step) {
        Ok((_, text)) => text,
        Err(_) => step,
    }
}

/// The numbered steps for a key of `rules.rules[rule].variants[variant]` found at `place`, all of
/// them, conditions dropped: advice for every key of that kind and place.
pub fn steps(
    rules: &RuleSet,
    rule: usize,
    variant: usize,
    place: Place,
    public_example: bool,
) -> Vec<String> {
    apply(raw_steps(rules, rule, variant, place, public_example), None)
}

/// The steps for one finding: those whose condition holds, `<path>` replaced by its path.
pub fn steps_for(
    rules: &RuleSet,
    rule: usize,
    variant: usize,
    place: Place,
    public_example: bool,
    c: &Circumstances<'_>,
) -> Vec<String> {
    apply(
        raw_steps(rules, rule, variant, place, public_example),
        Some(c),
    )
}

/// Steps as a user sees them: for one finding (`c`), those whose condition holds with `<path>`
/// replaced by its path; else all of them, conditions dropped.
fn apply<'s>(
    steps: impl IntoIterator<Item = &'s String>,
    c: Option<&Circumstances<'_>>,
) -> Vec<String> {
    let Some(c) = c else {
        return steps.into_iter().map(|s| shown(s).to_string()).collect();
    };
    let path = c.path.filter(|p| !p.is_empty()).map(shell_quote);
    let line = c.line.to_ascii_lowercase();
    steps
        .into_iter()
        .filter_map(|step| {
            let (condition, text) = split(step).unwrap_or((None, step));
            let applies = match condition {
                None => true,
                Some(Condition::InHead) => c.still_in_head != Some(false),
                Some(Condition::Near(words)) => {
                    words.iter().any(|w| line.contains(&w.to_ascii_lowercase()))
                }
            };
            applies.then(|| match &path {
                Some(p) => text.replace("<path>", p),
                None => text.to_string(),
            })
        })
        .collect()
}

fn raw_steps(
    rules: &RuleSet,
    rule: usize,
    variant: usize,
    place: Place,
    public_example: bool,
) -> Vec<&String> {
    if public_example {
        return rules.public_example_remediation.iter().collect();
    }
    let v = &rules.rules[rule].variants[variant];
    let kind: &[String] = if v.remediation.is_empty() {
        &rules.default_remediation
    } else {
        &v.remediation
    };
    let mut out = Vec::new();
    for step in rules.places.of(v.class).steps(place) {
        if step.trim() == KIND_STEPS {
            out.extend(kind.iter());
        } else {
            out.push(step);
        }
    }
    out
}

/// A path as a shell word: as it is when it is plain, else in single quotes.
pub fn shell_quote(path: &str) -> String {
    if path.starts_with('-') {
        return shell_quote(&format!("./{path}"));
    }
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_./@%+=:,-".contains(&b));
    if plain {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', "'\\''"))
    }
}

/// The steps for a key (`steps`, or for one finding `steps_for` its circumstances), changed by
/// what `--verify` learnt: a key Stripe confirmed working leads with rolling it now; one Stripe
/// rejects gets steps without rolling. Only secret keys are ever verified, and any other answer
/// (unknown, not verifiable, not asked) leaves the usual steps, which assume the key works.
pub fn verified_steps(
    rules: &RuleSet,
    rule: usize,
    variant: usize,
    place: Place,
    public_example: bool,
    status: Option<Status>,
    finding: Option<&Circumstances<'_>>,
) -> Vec<String> {
    let usual = || {
        apply(
            raw_steps(rules, rule, variant, place, public_example),
            finding,
        )
    };
    if public_example || rules.rules[rule].variants[variant].class != KeyClass::Secret {
        return usual();
    }
    match status {
        Some(Status::Active) => {
            let mut out = apply(&rules.verified.active_lead, finding);
            out.extend(usual());
            out
        }
        Some(Status::Inactive) => apply(rules.verified.inactive.steps(place), finding),
        _ => usual(),
    }
}

/// The steps a key's container or encoding adds: a key inside an archive was built into an
/// artifact, and one base64-encoded in a YAML or JSON manifest is most likely a Kubernetes or
/// Helm Secret, so it was in a cluster too.
pub fn where_written(in_member: bool, outer: &str, encoding: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if in_member {
        out.push(format!(
            "The key is inside the artifact {outer}: rebuild it without the key, and treat every published copy (package registries, releases, CI caches, container images) as leaked."
        ));
    }
    let manifest = [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| outer.to_ascii_lowercase().ends_with(ext));
    if manifest && encoding.first() == Some(&"base64") {
        out.push("If this is a Kubernetes or Helm Secret, the key was also in the cluster: after rotating, replace the Secret there (and old Helm release revisions, which keep earlier values).".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::KeyClass;

    fn find(rules: &RuleSet, prefix: &str) -> (usize, usize) {
        for (r, rule) in rules.rules.iter().enumerate() {
            for (v, var) in rule.variants.iter().enumerate() {
                if var.prefix == prefix.as_bytes() {
                    return (r, v);
                }
            }
        }
        panic!("no variant with prefix {prefix}");
    }

    /// The steps `--verify` brings are one finding's like any other: its real path in them.
    #[test]
    fn verified_steps_name_the_real_path() {
        let rules = RuleSet::builtin().expect("built-in rules");
        let (r, v) = find(&rules, "sk_live_");
        let c = Circumstances {
            still_in_head: None,
            line: "KEY=…",
            path: Some("conf/my app.env"),
        };
        for status in [Status::Active, Status::Inactive] {
            let steps = verified_steps(&rules, r, v, Place::Staged, false, Some(status), Some(&c));
            assert!(steps.iter().all(|s| !s.contains("<path>")), "{steps:#?}");
            assert!(
                steps
                    .iter()
                    .any(|s| s.contains("git restore --staged 'conf/my app.env'")),
                "{status:?}: {steps:#?}"
            );
        }
    }

    #[test]
    fn every_variant_has_its_own_steps_inside_every_place() {
        let rules = RuleSet::builtin().expect("built-in rules");
        for (r, rule) in rules.rules.iter().enumerate() {
            for (v, var) in rule.variants.iter().enumerate() {
                assert!(
                    !var.remediation.is_empty(),
                    "{} {:?} has no steps",
                    rule.id,
                    var.label
                );
                let own: Vec<String> = var
                    .remediation
                    .iter()
                    .map(|s| shown(s).to_string())
                    .collect();
                for place in Place::ALL {
                    let steps = steps(&rules, r, v, place, false);
                    let at = steps.windows(own.len()).position(|w| w == own.as_slice());
                    assert!(
                        at.is_some(),
                        "{} at {place:?} lacks the kind's steps",
                        var.label
                    );
                    assert!(
                        steps
                            .iter()
                            .all(|s| s.trim() != KIND_STEPS && !s.trim().is_empty()),
                        "{} at {place:?}: marker or empty step left in {steps:?}",
                        var.label
                    );
                }
            }
        }
    }

    /// The order is the advice: rotate before purging history; unstage before rotating.
    #[test]
    fn places_put_rotation_where_it_belongs() {
        let rules = RuleSet::builtin().expect("built-in rules");
        let (r, v) = find(&rules, "rk_live_");
        let roll = |steps: &[String]| {
            steps
                .iter()
                .position(|s| s.contains("Roll the key"))
                .expect("roll step")
        };
        let staged = steps(&rules, r, v, Place::Staged, false);
        assert!(staged[0].contains("git restore --staged"), "{staged:?}");
        assert!(roll(&staged) > 0);
        let history = steps(&rules, r, v, Place::History, false);
        let purge = history
            .iter()
            .position(|s| s.contains("git filter-repo --replace-text"))
            .expect("purge");
        assert!(roll(&history) < purge, "{history:?}");
        assert!(
            history.iter().any(|s| s.contains("re-clone")),
            "{history:?}"
        );
        let committed = steps(&rules, r, v, Place::Committed, false);
        let amend = committed
            .iter()
            .position(|s| s.contains("git commit --amend"))
            .expect("amend");
        assert!(roll(&committed) < amend, "{committed:?}");
    }

    /// Active: rolling comes first, whatever the place (even before unstaging). Inactive: never
    /// told to roll, always told to confirm nothing uses it, and purged when in history.
    #[test]
    fn verification_reorders_the_advice() {
        let rules = RuleSet::builtin().expect("built-in rules");
        for prefix in ["sk_live_", "rk_test_"] {
            let (r, v) = find(&rules, prefix);
            for place in Place::ALL {
                let usual = steps(&rules, r, v, place, false);
                let active = verified_steps(&rules, r, v, place, false, Some(Status::Active), None);
                assert!(active[0].contains("roll it first"), "{active:?}");
                assert_eq!(active[1..], usual[..]);
                let inactive =
                    verified_steps(&rules, r, v, place, false, Some(Status::Inactive), None);
                assert!(inactive[0].contains("HTTP 401"), "{inactive:?}");
                assert!(
                    inactive
                        .iter()
                        .all(|s| !s.contains("Roll") && !s.contains("Rotate")),
                    "{place:?}: {inactive:?}"
                );
                assert!(
                    inactive.iter().any(|s| s.contains("nothing still uses")),
                    "{inactive:?}"
                );
                for other in [None, Some(Status::Unknown), Some(Status::NotVerifiable)] {
                    assert_eq!(
                        verified_steps(&rules, r, v, place, false, other, None),
                        usual
                    );
                }
            }
            let history = verified_steps(
                &rules,
                r,
                v,
                Place::History,
                false,
                Some(Status::Inactive),
                None,
            );
            assert!(
                history.iter().any(|s| s.contains("git filter-repo")),
                "{history:?}"
            );
        }
        // A public key or a public example keeps its steps whatever the answer.
        let (r, v) = find(&rules, "pk_live_");
        assert_eq!(
            verified_steps(
                &rules,
                r,
                v,
                Place::History,
                false,
                Some(Status::Active),
                None
            ),
            steps(&rules, r, v, Place::History, false)
        );
        let (r, v) = find(&rules, "sk_test_");
        assert_eq!(
            verified_steps(
                &rules,
                r,
                v,
                Place::History,
                true,
                Some(Status::Inactive),
                None
            ),
            rules.public_example_remediation
        );
    }

    #[test]
    fn public_and_short_lived_keys_are_never_told_to_purge_history() {
        let rules = RuleSet::builtin().expect("built-in rules");
        for prefix in ["pk_live_", "ek_live_", "cs_test_"] {
            let (r, v) = find(&rules, prefix);
            assert_ne!(
                rules.rules[r].variants[v].class,
                KeyClass::Secret,
                "{prefix}"
            );
            let history = steps(&rules, r, v, Place::History, false);
            assert!(
                !history.iter().any(|s| s.contains("git filter-repo")),
                "{prefix}: {history:?}"
            );
        }
        let (r, v) = find(&rules, "sk_test_");
        assert_eq!(
            steps(&rules, r, v, Place::History, true),
            rules.public_example_remediation
        );
    }

    #[test]
    fn conditions_drop_steps_that_do_not_apply_and_paths_fill_in() {
        let rules = RuleSet::builtin().expect("built-in rules");
        let (r, v) = find(&rules, "sk_live_");
        let gone = Circumstances {
            still_in_head: Some(false),
            line: "STRIPE_SECRET_KEY=sk_live_…",
            path: Some("config/a b.env"),
        };
        let steps = steps_for(&rules, r, v, Place::History, false, &gone);
        assert!(
            !steps.iter().any(|s| s.contains("If HEAD still holds it")),
            "{steps:?}"
        );
        assert!(!steps.iter().any(|s| s.contains("OAuth")), "{steps:?}");
        let here = Circumstances {
            still_in_head: Some(true),
            line: "oauth_access_token: sk_live_…",
            path: None,
        };
        let steps = steps_for(&rules, r, v, Place::History, false, &here);
        assert!(
            steps.iter().any(|s| s.contains("If HEAD still holds it")),
            "{steps:?}"
        );
        assert!(steps.iter().any(|s| s.contains("OAuth")), "{steps:?}");
        assert!(steps.iter().all(|s| !s.starts_with("{if")), "{steps:?}");
        let staged = steps_for(&rules, r, v, Place::Staged, false, &gone);
        assert!(
            staged[0].contains("git restore --staged 'config/a b.env'"),
            "{staged:?}"
        );
        let general = super::steps(&rules, r, v, Place::History, false);
        assert!(general
            .iter()
            .any(|s| s.starts_with("If HEAD still holds it")));
        assert!(general.iter().all(|s| !s.contains("{if")));
        assert_eq!(shell_quote("-rf"), "./-rf");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert!(check("{if near} x").is_err());
        assert!(check("{if in_head x} x").is_err());
        assert!(check("{if maybe} x").is_err());
        assert!(check("{if near oauth} x").is_ok());
    }
}
