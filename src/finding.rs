//! A key found somewhere: which rule, where, and what to do about it.

use crate::rules::{Place, Rule, RuleSet, Variant};
use crate::secret::Secret;
use crate::severity::{Confidence, Severity};
use crate::verification::Verification;

/// For history findings: the commit that introduced the key (for a tag's message: the tag, and
/// the commit it points to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    /// The commit's author, or the tag's tagger.
    pub author: String,
    pub date: String,
    /// Whether HEAD's files still hold the key; None when HEAD could not be read.
    pub still_in_head: Option<bool>,
    /// The tag's name, for a key in an annotated tag's message.
    pub tag: Option<String>,
}

impl CommitInfo {
    /// "commit 1a2b3c4d5e6f by Name <mail> on DATE, still in HEAD": the same words in every report.
    /// A message was never in HEAD's files, so for one only a copy there is worth saying.
    pub fn describe(&self, in_message: bool) -> String {
        let what = match &self.tag {
            Some(tag) => format!("tag {tag} (on {})", self.short_id()),
            None => format!("commit {}", self.short_id()),
        };
        let head = match (self.still_in_head, in_message) {
            (Some(true), false) => ", still in HEAD",
            (Some(false), false) => ", no longer in HEAD",
            (Some(true), true) => ", and HEAD's files hold the key too",
            (Some(false), true) => "",
            (None, false) => ", unknown whether HEAD still holds it (HEAD could not be read)",
            (None, true) => ", unknown whether HEAD's files hold it too (HEAD could not be read)",
        };
        format!("{what} by {} on {}{head}", self.author, self.date)
    }

    pub fn short_id(&self) -> &str {
        short_commit(&self.id)
    }

    /// The commit of a finding as the JSON report has it (`commit`, `author`, `date`,
    /// `still_in_head`, `tag`): how multi-repository runs and `merge` read findings back.
    pub fn from_json(f: &serde_json::Value) -> Option<CommitInfo> {
        let text = |k: &str| f[k].as_str().unwrap_or("").to_string();
        Some(CommitInfo {
            id: f["commit"].as_str()?.to_string(),
            author: text("author"),
            date: text("date"),
            still_in_head: f["still_in_head"].as_bool(),
            tag: f["tag"].as_str().map(str::to_string),
        })
    }
}

/// A commit id cut to 12 characters for display. Ids read back from a report (`merge`, `--state`)
/// are the user's text, so the cut falls on a character, never inside one.
pub fn short_commit(id: &str) -> &str {
    &id[..id.char_indices().nth(12).map_or(id.len(), |(i, _)| i)]
}

/// Where a key is, as every report names it: its file, or for a key in a commit or tag message
/// (which has no file), that message.
pub fn source_of(path: &str, in_message: bool, commit: Option<&CommitInfo>) -> String {
    if !in_message {
        return path.to_string();
    }
    match commit {
        Some(CommitInfo { tag: Some(tag), .. }) => format!("message of tag {tag}"),
        Some(c) => format!("message of commit {}", c.short_id()),
        None => "a message".to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: usize,
    pub variant: usize,
    /// The file, and for a member of an archive the members after `!`
    /// (`dist/app.jar!BOOT-INF/classes/application.properties`).
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
    /// What Stripe said about the key; set only by `--verify`.
    pub verification: Option<Verification>,
    /// The decoding steps between the file (or member) and the key, outermost first:
    /// `["base64"]`, `["base64", "base64", "gzip"]`, `["gzip"]` for a `.gz` file. Empty for a key
    /// written as it is.
    pub encoding: Vec<&'static str>,
    /// Set when `line` and `column` are not in the file's own bytes but in content expanded from
    /// it: `path[i..]` is the member chain (`!a/b.txt!c.env`), empty for a compressed file read
    /// as a whole (`app.log.gz`).
    pub member_at: Option<usize>,
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
    /// finding (its own path written in, steps that do not apply left out), changed by what
    /// Stripe said about the key under `--verify`: one list the user can work through.
    pub fn remediation(&self, rules: &RuleSet) -> Vec<String> {
        let circumstances = crate::rules::remediation::Circumstances {
            still_in_head: self.commit.as_ref().and_then(|c| c.still_in_head),
            line: &self.excerpt,
            path: (self.path != "-" && !self.path.is_empty()).then_some(self.outer_path()),
        };
        self.steps(rules, Some(&circumstances))
    }

    /// The steps for every key of this kind and place, for advice shown once for many findings.
    pub fn general_remediation(&self, rules: &RuleSet) -> Vec<String> {
        self.steps(rules, None)
    }

    fn steps(
        &self,
        rules: &RuleSet,
        circumstances: Option<&crate::rules::remediation::Circumstances<'_>>,
    ) -> Vec<String> {
        let mut steps = crate::rules::remediation::verified_steps(
            rules,
            self.rule,
            self.variant,
            self.place,
            self.public_example,
            self.verification.as_ref().map(|v| v.status),
            circumstances,
        );
        steps.extend(self.where_written());
        steps
    }

    /// The steps a container or an encoding adds (see `remediation::where_written`).
    fn where_written(&self) -> Vec<String> {
        if self.public_example {
            return Vec::new();
        }
        crate::rules::remediation::where_written(
            !self.member_chain().is_empty(),
            self.outer_path(),
            &self.encoding,
        )
    }

    /// The file in the repository or tree that holds the key: `path` without its member chain.
    pub fn outer_path(&self) -> &str {
        &self.path[..self
            .member_at
            .unwrap_or(self.path.len())
            .min(self.path.len())]
    }

    /// The member chain after the outer file (`!a/b.txt`), empty when there is none.
    pub fn member_chain(&self) -> &str {
        &self.path[self.outer_path().len()..]
    }

    /// Whether `line` is a line of the outer file's own bytes (plain, or where an encoded run
    /// starts), so a line diff of that file can place it.
    pub fn line_in_outer_file(&self) -> bool {
        self.member_at.is_none()
    }

    /// The decoding steps in words, outermost first (`base64 → gzip`), when there are any.
    pub fn encoding_chain(&self) -> Option<String> {
        (!self.encoding.is_empty()).then(|| self.encoding.join(" → "))
    }

    /// Where the key is beyond the outer file, in words, for reports that can only point at
    /// the outer file (SARIF, annotations): `in member a/b.txt at line 2, column 5, encoded as
    /// base64`. None for a key written as it is in the file.
    pub fn inside(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.member_at.is_some() {
            let chain = self.member_chain().trim_start_matches('!');
            if chain.is_empty() {
                parts.push(format!(
                    "at line {}, column {} of its decompressed content",
                    self.line, self.column
                ));
            } else {
                parts.push(format!(
                    "in member {chain} at line {}, column {}",
                    self.line, self.column
                ));
            }
        }
        if let Some(chain) = self.encoding_chain() {
            parts.push(format!("encoded as {chain}"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Line and column in the outer file: the finding's own, or the file's start when they
    /// are in a member or in decompressed content.
    pub fn outer_line_column(&self) -> (u64, u64) {
        if self.line_in_outer_file() {
            (self.line, self.column)
        } else {
            (1, 1)
        }
    }

    /// Renames the outer file, keeping the member chain (history learns a blob's path late).
    pub fn set_outer_path(&mut self, outer: &str) {
        let chain = self.member_chain().to_string();
        self.member_at = self.member_at.map(|_| outer.len());
        self.path = format!("{outer}{chain}");
    }

    /// What holds the key, as reports name it: the path, or for a message (which has no path)
    /// `message of commit 1a2b3c4d5e6f` or `message of tag v1.0`.
    pub fn source(&self) -> String {
        source_of(&self.path, self.place.is_message(), self.commit.as_ref())
    }

    /// `source:line:column`, the way editors and terminals jump to a file position.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.source(), self.line, self.column)
    }

    /// The commit (or tag) in words, as every report prints it.
    pub fn introduced_in(&self) -> Option<String> {
        self.commit
            .as_ref()
            .map(|c| c.describe(self.place.is_message()))
    }

    /// Sort order of every report: most severe first, then files by path and position, then
    /// messages grouped by their commit or tag, so the output is the same whatever order the
    /// threads finished in.
    #[allow(clippy::type_complexity)]
    pub fn sort_key(
        &self,
        rules: &RuleSet,
    ) -> (
        std::cmp::Reverse<Severity>,
        bool,
        &str,
        &str,
        u64,
        u64,
        Option<&str>,
    ) {
        let commit = self.commit.as_ref();
        let group = if self.place.is_message() {
            commit.map_or("", |c| c.tag.as_deref().unwrap_or(&c.id))
        } else {
            ""
        };
        (
            std::cmp::Reverse(self.severity(rules)),
            self.place.is_message(),
            &self.path,
            group,
            self.line,
            self.column,
            commit.map(|c| c.id.as_str()),
        )
    }
}
