//! A key found somewhere: which rule, where, and what to do about it.

use crate::rules::{Place, Rule, RuleSet, Variant};
use crate::secret::Secret;
use crate::severity::{Confidence, Severity};

/// For history findings: the commit that introduced the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub author: String,
    pub date: String,
    pub still_in_head: bool,
}

impl CommitInfo {
    /// "commit 1a2b3c4d5e6f by Name <mail> on DATE, still in HEAD": the same words in every report.
    pub fn describe(&self) -> String {
        format!(
            "commit {} by {} on {}, {}",
            &self.id[..self.id.len().min(12)],
            self.author,
            self.date,
            if self.still_in_head {
                "still in HEAD"
            } else {
                "no longer in HEAD"
            }
        )
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: usize,
    pub variant: usize,
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub secret: Secret,
    /// The key's line, cut around the key, with every key on it redacted (`engine::snippet`).
    pub excerpt: String,
    pub confidence: Confidence,
    pub public_example: bool,
    pub inline_allowed: bool,
    pub place: Place,
    pub commit: Option<CommitInfo>,
    /// The baseline knows this key, at other paths only: a known key in a new location.
    pub known_elsewhere: bool,
}

impl Finding {
    pub fn rule_of<'r>(&self, rules: &'r RuleSet) -> &'r Rule {
        &rules.rules[self.rule]
    }

    pub fn variant_of<'r>(&self, rules: &'r RuleSet) -> &'r Variant {
        &rules.rules[self.rule].variants[self.variant]
    }

    /// Public example keys are harmless: info, whatever the rule says.
    pub fn severity(&self, rules: &RuleSet) -> Severity {
        if self.public_example {
            Severity::Info
        } else {
            self.variant_of(rules).severity
        }
    }

    /// The kind's steps inside the place's steps (see `remediation`), as they apply to this
    /// finding: one list the user can work through, with its own path written in.
    pub fn remediation(&self, rules: &RuleSet) -> Vec<String> {
        let circumstances = crate::rules::remediation::Circumstances {
            still_in_head: self.commit.as_ref().map(|c| c.still_in_head),
            line: &self.excerpt,
            path: (self.path != "-").then_some(self.path.as_str()),
        };
        crate::rules::remediation::steps_for(
            rules,
            self.rule,
            self.variant,
            self.place,
            self.public_example,
            &circumstances,
        )
    }

    /// The steps for every key of this kind and place, for advice shown once for many findings.
    pub fn general_remediation(&self, rules: &RuleSet) -> Vec<String> {
        crate::rules::remediation::steps(
            rules,
            self.rule,
            self.variant,
            self.place,
            self.public_example,
        )
    }

    /// Sort order of every report: most severe first, then by path and position, so the
    /// output is the same whatever order the threads finished in.
    pub fn sort_key(
        &self,
        rules: &RuleSet,
    ) -> (std::cmp::Reverse<Severity>, &str, u64, u64, Option<&str>) {
        (
            std::cmp::Reverse(self.severity(rules)),
            &self.path,
            self.line,
            self.column,
            self.commit.as_ref().map(|c| c.id.as_str()),
        )
    }
}
