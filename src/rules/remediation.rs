//! What to do about a key: its kind's steps (the variant's `remediation`) placed inside the steps
//! for where it was found (`[places.<class>]`). All wording lives in the rule file; this only
//! splices the lists together, so every report (text, JSON, SARIF, GitHub) says the same thing.

use crate::rules::{KeyClass, Place, RuleSet, KIND_STEPS};
use crate::verification::Status;

/// The numbered steps for a key of `rules.rules[rule].variants[variant]` found at `place`.
pub fn steps(
    rules: &RuleSet,
    rule: usize,
    variant: usize,
    place: Place,
    public_example: bool,
) -> Vec<String> {
    if public_example {
        return rules.public_example_remediation.clone();
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
            out.extend(kind.iter().cloned());
        } else {
            out.push(step.clone());
        }
    }
    out
}

/// `steps`, changed by what `--verify` learnt: a key Stripe confirmed working leads with rolling
/// it now; one Stripe rejects gets steps without rolling. Only secret keys are ever verified, and
/// any other answer (unknown, not verifiable, not asked) leaves the usual steps, which assume the
/// key works.
pub fn verified_steps(
    rules: &RuleSet,
    rule: usize,
    variant: usize,
    place: Place,
    public_example: bool,
    status: Option<Status>,
) -> Vec<String> {
    let usual = || steps(rules, rule, variant, place, public_example);
    if public_example || rules.rules[rule].variants[variant].class != KeyClass::Secret {
        return usual();
    }
    match status {
        Some(Status::Active) => {
            let mut out = rules.verified.active_lead.clone();
            out.extend(usual());
            out
        }
        Some(Status::Inactive) => rules.verified.inactive.steps(place).to_vec(),
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
                for place in Place::ALL {
                    let steps = steps(&rules, r, v, place, false);
                    let at = steps
                        .windows(var.remediation.len())
                        .position(|w| w == var.remediation.as_slice());
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
                let active = verified_steps(&rules, r, v, place, false, Some(Status::Active));
                assert!(active[0].contains("roll it first"), "{active:?}");
                assert_eq!(active[1..], usual[..]);
                let inactive = verified_steps(&rules, r, v, place, false, Some(Status::Inactive));
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
                    assert_eq!(verified_steps(&rules, r, v, place, false, other), usual);
                }
            }
            let history =
                verified_steps(&rules, r, v, Place::History, false, Some(Status::Inactive));
            assert!(
                history.iter().any(|s| s.contains("git filter-repo")),
                "{history:?}"
            );
        }
        // A public key or a public example keeps its steps whatever the answer.
        let (r, v) = find(&rules, "pk_live_");
        assert_eq!(
            verified_steps(&rules, r, v, Place::History, false, Some(Status::Active)),
            steps(&rules, r, v, Place::History, false)
        );
        let (r, v) = find(&rules, "sk_test_");
        assert_eq!(
            verified_steps(&rules, r, v, Place::History, true, Some(Status::Inactive)),
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
}
