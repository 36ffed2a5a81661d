//! Rules as data: the TOML syntax (what users write) and the compiled form (what the matcher uses).
//! The built-in rules are `rules/stripe.toml`, embedded in the binary; a config file may add rules
//! with the same fields or replace a built-in one by reusing its id.

pub mod remediation;

use crate::error::{line_of, Error};
use crate::severity::{Confidence, Mode, Severity};
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::HashSet;
use std::sync::OnceLock;
use toml::Spanned;

pub const BUILTIN_NAME: &str = "rules/stripe.toml (built-in)";
pub const BUILTIN_TEXT: &str = include_str!("../../rules/stripe.toml");

/// Where a finding was found changes the advice; these name the `[places.*]` lists of the rule file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    WorkingTree,
    Staged,
    Committed,
    History,
    /// A commit's message: only rewording or rewriting the commit removes it.
    CommitMessage,
    /// An annotated tag's message: only replacing the tag removes it.
    TagMessage,
}

impl Place {
    pub const ALL: [Place; 6] = [
        Place::Staged,
        Place::WorkingTree,
        Place::Committed,
        Place::History,
        Place::CommitMessage,
        Place::TagMessage,
    ];

    /// The name used in the rule file and in JSON (`place`).
    pub fn as_str(self) -> &'static str {
        match self {
            Place::WorkingTree => "working_tree",
            Place::Staged => "staged",
            Place::Committed => "committed",
            Place::History => "history",
            Place::CommitMessage => "commit_message",
            Place::TagMessage => "tag_message",
        }
    }

    /// A message has no file: its finding has an empty `path` and is placed by its commit or tag.
    pub fn is_message(self) -> bool {
        matches!(self, Place::CommitMessage | Place::TagMessage)
    }

    /// Where the key is, in words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Place::WorkingTree => "in the working tree",
            Place::Staged => "staged, not committed yet",
            Place::Committed => "committed, not pushed yet",
            Place::History => "in git history",
            Place::CommitMessage => "in a commit message",
            Place::TagMessage => "in a tag message",
        }
    }
}

/// How a leak of this kind is handled: whether it must be rotated and purged, expires on its own,
/// or was never secret. It picks the `[places.<class>]` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyClass {
    /// Valid until someone rotates it: rotate, then get it out of git.
    #[default]
    Secret,
    /// Expires on its own or belongs to one object (ephemeral keys, client secrets).
    ShortLived,
    /// Public by design (publishable keys).
    Public,
}

/// The line of a `[places.*]` list that stands for the kind's own steps.
pub const KIND_STEPS: &str = "{kind}";

/// Steps for one class of key, by place. Each list reads top to bottom as the user will read it,
/// with [`KIND_STEPS`] where the kind's steps go.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceSteps {
    pub working_tree: Vec<String>,
    pub staged: Vec<String>,
    pub committed: Vec<String>,
    pub history: Vec<String>,
    pub commit_message: Vec<String>,
    pub tag_message: Vec<String>,
}

impl PlaceSteps {
    pub fn steps(&self, place: Place) -> &[String] {
        match place {
            Place::WorkingTree => &self.working_tree,
            Place::Staged => &self.staged,
            Place::Committed => &self.committed,
            Place::History => &self.history,
            Place::CommitMessage => &self.commit_message,
            Place::TagMessage => &self.tag_message,
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Places {
    pub secret: PlaceSteps,
    pub short_lived: PlaceSteps,
    pub public: PlaceSteps,
}

impl Places {
    pub fn of(&self, class: KeyClass) -> &PlaceSteps {
        match class {
            KeyClass::Secret => &self.secret,
            KeyClass::ShortLived => &self.short_lived,
            KeyClass::Public => &self.public,
        }
    }

    /// Every list must hold the kind's steps exactly once, or some advice would lose them.
    fn check(&self, file: &str, text: &str) -> Result<(), Error> {
        for (class, steps) in [
            ("secret", &self.secret),
            ("short_lived", &self.short_lived),
            ("public", &self.public),
        ] {
            for place in Place::ALL {
                let n = steps
                    .steps(place)
                    .iter()
                    .filter(|s| s.trim() == KIND_STEPS)
                    .count();
                let table = format!("[places.{class}]");
                let at_table = || text.find(&table).map(|at| line_of(text, at));
                for step in steps.steps(place) {
                    remediation::check(step).map_err(|cause| {
                        Error::config(
                            file,
                            at_table(),
                            format!("{table} {}: {cause}", place.as_str()),
                        )
                    })?;
                }
                if n != 1 {
                    return Err(Error::config(
                        file,
                        at_table(),
                        format!(
                            "{table} {}: must hold the line {KIND_STEPS:?} exactly once, found {n}",
                            place.as_str()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Advice that depends on what Stripe said about a key under `--verify` (secret keys only).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifiedSteps {
    /// Goes before the usual steps of a key Stripe confirmed still works.
    pub active_lead: Vec<String>,
    /// Replaces the usual steps of a key Stripe rejects, by place: there is nothing to roll.
    pub inactive: PlaceSteps,
}

impl VerifiedSteps {
    /// No list may be empty or hold the kind marker: these lists replace the kind's steps.
    fn check(&self, file: &str, text: &str) -> Result<(), Error> {
        let lists = std::iter::once(("active_lead", self.active_lead.as_slice())).chain(
            Place::ALL
                .iter()
                .map(|&p| (p.as_str(), self.inactive.steps(p))),
        );
        for (name, steps) in lists {
            if steps.is_empty() || steps.iter().any(|s| s.trim() == KIND_STEPS) {
                let line = text.find("[verified").map(|at| line_of(text, at));
                return Err(Error::config(
                    file,
                    line,
                    format!("[verified] {name}: must hold steps, and not the line {KIND_STEPS:?}"),
                ));
            }
            for step in steps {
                remediation::check(step).map_err(|cause| {
                    let line = text.find("[verified").map(|at| line_of(text, at));
                    Error::config(file, line, format!("[verified] {name}: {cause}"))
                })?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuiltinFile {
    version: String,
    #[serde(default)]
    public_examples: Vec<String>,
    public_example_remediation: Vec<String>,
    default_remediation: Vec<String>,
    places: Places,
    verified: VerifiedSteps,
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// One `[[rule]]` table, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub kind: String,
    #[serde(default)]
    pub description: String,
    pub charset: Spanned<String>,
    pub min_len: usize,
    pub max_len: usize,
    #[serde(default = "default_entropy")]
    pub min_entropy: f64,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    #[serde(default)]
    pub strong_shape: Option<Spanned<String>>,
    #[serde(default)]
    pub pattern: Option<Spanned<String>>,
    #[serde(default)]
    pub context: Vec<String>,
    #[serde(default)]
    pub context_required: bool,
    #[serde(default)]
    pub exclude_context: Vec<String>,
    #[serde(default)]
    pub exclude_body_prefixes: Vec<String>,
    #[serde(default)]
    pub contains: Vec<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    pub variant: Vec<VariantSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    pub prefix: Spanned<String>,
    /// `live`, `test`, or empty when the prefix does not say.
    #[serde(default)]
    pub mode: String,
    pub severity: Severity,
    pub label: String,
    #[serde(default)]
    pub remediation: Vec<String>,
    /// `secret` (default), `short_lived` or `public`: which `[places.*]` advice applies.
    #[serde(default)]
    pub class: KeyClass,
    /// Whether the prefix is looked for inside base64 (default true). Each such prefix costs the
    /// prefilter up to three literals, and past 32 literals its fast search halves in speed.
    #[serde(default = "yes")]
    pub in_base64: bool,
}

fn yes() -> bool {
    true
}

fn default_entropy() -> f64 {
    3.0
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// A rule ready for matching.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub kind: String,
    pub description: String,
    pub charset: [bool; 256],
    pub min_len: usize,
    pub max_len: usize,
    pub min_entropy: f64,
    pub confidence: Confidence,
    pub strong_shape: Option<RuleRegex>,
    pub pattern: Option<RuleRegex>,
    pub context: Vec<Vec<u8>>,
    pub context_required: bool,
    pub exclude_context: Vec<Vec<u8>>,
    pub exclude_body_prefixes: Vec<Vec<u8>>,
    /// Literals one of which the body must hold (they also gate a short prefix).
    pub contains: Vec<Vec<u8>>,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    pub variants: Vec<Variant>,
    /// The file the rule came from, for `stripe-scan rules`.
    pub origin: String,
}

#[derive(Debug)]
pub struct Variant {
    pub prefix: Vec<u8>,
    pub mode: Option<Mode>,
    pub severity: Severity,
    pub label: String,
    pub remediation: Vec<String>,
    pub class: KeyClass,
    pub in_base64: bool,
}

/// Every rule in effect, plus the advice by place and the known public example keys.
#[derive(Debug)]
pub struct RuleSet {
    /// The built-in rule file's `version`.
    pub version: String,
    pub rules: Vec<Rule>,
    pub places: Places,
    pub public_examples: HashSet<String>,
    /// Steps for a public example key, in place of its rule's.
    pub public_example_remediation: Vec<String>,
    /// The kind's steps for a config rule that gives none.
    pub default_remediation: Vec<String>,
    /// How `--verify`'s answer changes the steps.
    pub verified: VerifiedSteps,
}

impl RuleSet {
    pub fn builtin() -> Result<RuleSet, Error> {
        let file: BuiltinFile = parse_toml(BUILTIN_NAME, BUILTIN_TEXT)?;
        file.places.check(BUILTIN_NAME, BUILTIN_TEXT)?;
        file.verified.check(BUILTIN_NAME, BUILTIN_TEXT)?;
        let mut set = RuleSet {
            version: file.version,
            rules: Vec::new(),
            places: file.places,
            public_examples: file.public_examples.into_iter().collect(),
            public_example_remediation: file.public_example_remediation,
            default_remediation: file.default_remediation,
            verified: file.verified,
        };
        for spec in file.rule {
            set.add(compile(
                &spec,
                BUILTIN_NAME,
                BUILTIN_TEXT,
                Regexes::WhenUsed,
            )?);
        }
        set.check_prefixes(BUILTIN_NAME, &[], BUILTIN_TEXT)?;
        Ok(set)
    }

    /// Adds user rules; a rule whose id matches a built-in one replaces it.
    pub fn extend(&mut self, specs: &[RuleSpec], file: &str, text: &str) -> Result<(), Error> {
        for spec in specs {
            self.add(compile(spec, file, text, Regexes::Now)?);
        }
        self.check_prefixes(file, specs, text)
    }

    fn add(&mut self, rule: Rule) {
        match self.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => *slot = rule,
            None => self.rules.push(rule),
        }
    }

    /// One prefix must lead to one rule, or a hit would be ambiguous. The error points at the
    /// prefix in `specs` (the rules just read from `text`) when one of the two rules is there.
    fn check_prefixes(&self, file: &str, specs: &[RuleSpec], text: &str) -> Result<(), Error> {
        let mut seen: Vec<(&[u8], &str)> = Vec::new();
        for rule in &self.rules {
            for v in &rule.variants {
                if let Some((_, other)) = seen.iter().find(|(p, _)| *p == v.prefix.as_slice()) {
                    let line = specs
                        .iter()
                        .filter(|s| s.id.get_ref() == &rule.id || s.id.get_ref() == other)
                        .flat_map(|s| &s.variant)
                        .find(|sv| sv.prefix.get_ref().as_bytes() == v.prefix.as_slice())
                        .map(|sv| line_of(text, sv.prefix.span().start));
                    return Err(Error::config(
                        file,
                        line,
                        format!(
                            "rule {}: prefix {} is already used by rule {}",
                            rule.id,
                            String::from_utf8_lossy(&v.prefix),
                            other
                        ),
                    ));
                }
                seen.push((&v.prefix, &rule.id));
            }
        }
        Ok(())
    }
}

/// Parses TOML into `T`, turning syntax and schema errors into one line with the file and line.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, Error> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        Error::config(file, line, e.message())
    })
}

/// When a rule's regexes are compiled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Regexes {
    /// Now, so a bad one is reported with its file and line before anything is scanned.
    Now,
    /// On first use: the built-in ones (tested to compile) took half a millisecond of every start.
    WhenUsed,
}

/// A rule's `pattern` or `strong_shape`, anchored at the body's start.
#[derive(Debug)]
pub struct RuleRegex {
    source: String,
    compiled: OnceLock<Option<Regex>>,
}

impl RuleRegex {
    /// The compiled regex; None only for a built-in one that does not compile, which the rule
    /// tests rule out.
    pub fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&self.source).ok())
            .as_ref()
    }
}

fn compile(spec: &RuleSpec, file: &str, text: &str, regexes: Regexes) -> Result<Rule, Error> {
    let id = spec.id.get_ref().clone();
    let at = |span: std::ops::Range<usize>, cause: String| {
        Error::config(
            file,
            Some(line_of(text, span.start)),
            format!("rule {id}: {cause}"),
        )
    };
    if id.trim().is_empty() {
        return Err(at(spec.id.span(), "id is empty".into()));
    }
    if spec.kind.trim().is_empty() {
        return Err(at(spec.id.span(), "kind is empty".into()));
    }
    let charset = parse_charset(spec.charset.get_ref())
        .map_err(|cause| at(spec.charset.span(), format!("charset: {cause}")))?;
    if spec.min_len == 0 || spec.min_len > spec.max_len {
        return Err(at(
            spec.id.span(),
            format!(
                "min_len ({}) must be at least 1 and at most max_len ({})",
                spec.min_len, spec.max_len
            ),
        ));
    }
    if spec.max_len > 4096 {
        return Err(at(spec.id.span(), "max_len is larger than 4096".into()));
    }
    if spec.contains.iter().any(String::is_empty) {
        return Err(at(spec.id.span(), "contains has an empty string".into()));
    }
    if spec.variant.is_empty() {
        return Err(at(
            spec.id.span(),
            "no [[rule.variant]] with a prefix".into(),
        ));
    }
    let regex = |s: &Option<Spanned<String>>, what: &str| -> Result<Option<RuleRegex>, Error> {
        let Some(p) = s else { return Ok(None) };
        let src = p.get_ref();
        let source = if src.starts_with('^') {
            src.clone()
        } else {
            format!("^(?:{src})")
        };
        let compiled = OnceLock::new();
        if regexes == Regexes::Now {
            let re = Regex::new(&source).map_err(|e| {
                let first = e.to_string();
                let cause = first.lines().last().unwrap_or("invalid regex").to_string();
                at(p.span(), format!("{what} is not a valid regex: {cause}"))
            })?;
            let _ = compiled.set(Some(re));
        }
        Ok(Some(RuleRegex { source, compiled }))
    };
    let mut variants = Vec::new();
    for v in &spec.variant {
        let prefix = v.prefix.get_ref();
        if prefix.is_empty() {
            return Err(at(v.prefix.span(), "prefix is empty".into()));
        }
        let mode = match v.mode.as_str() {
            "live" => Some(Mode::Live),
            "test" => Some(Mode::Test),
            "" => None,
            other => {
                return Err(at(
                    v.prefix.span(),
                    format!("mode {other:?} is not live, test or empty"),
                ))
            }
        };
        for step in &v.remediation {
            remediation::check(step).map_err(|cause| at(v.prefix.span(), cause))?;
        }
        variants.push(Variant {
            prefix: prefix.as_bytes().to_vec(),
            mode,
            severity: v.severity,
            label: v.label.clone(),
            remediation: v.remediation.clone(),
            class: v.class,
            in_base64: v.in_base64,
        });
    }
    let lower = |words: &[String]| -> Vec<Vec<u8>> {
        words
            .iter()
            .filter(|w| !w.is_empty())
            .map(|w| w.to_ascii_lowercase().into_bytes())
            .collect()
    };
    Ok(Rule {
        id: id.clone(),
        kind: spec.kind.clone(),
        description: spec.description.clone(),
        charset,
        min_len: spec.min_len,
        max_len: spec.max_len,
        min_entropy: spec.min_entropy,
        confidence: spec.confidence,
        strong_shape: regex(&spec.strong_shape, "strong_shape")?,
        pattern: regex(&spec.pattern, "pattern")?,
        context: lower(&spec.context),
        context_required: spec.context_required,
        exclude_context: lower(&spec.exclude_context),
        exclude_body_prefixes: spec
            .exclude_body_prefixes
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect(),
        contains: spec
            .contains
            .iter()
            .map(|c| c.as_bytes().to_vec())
            .collect(),
        examples: spec.examples.clone(),
        negative_examples: spec.negative_examples.clone(),
        variants,
        origin: file.to_string(),
    })
}

/// `A-Za-z0-9_` style: single ASCII characters and ranges.
pub fn parse_charset(spec: &str) -> Result<[bool; 256], String> {
    let mut set = [false; 256];
    let chars: Vec<char> = spec.chars().collect();
    if chars.is_empty() {
        return Err("empty".into());
    }
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control() {
            return Err(format!("{c:?} is not a printable ASCII character"));
        }
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            let end = chars[i + 2];
            if !end.is_ascii() || end < c {
                return Err(format!("bad range {c}-{end}"));
            }
            for b in c as u8..=end as u8 {
                set[b as usize] = true;
            }
            i += 3;
        } else {
            set[c as usize] = true;
            i += 1;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile() {
        let set = RuleSet::builtin().expect("built-in rules");
        assert!(set.rules.len() >= 12);
        assert_eq!(set.public_examples.len(), 4);
        // Built-in regexes are compiled on first use; a broken one must fail here, not go quiet.
        let regexes = set
            .rules
            .iter()
            .flat_map(|r| [&r.pattern, &r.strong_shape])
            .flatten();
        let mut n = 0;
        for re in regexes {
            assert!(re.get().is_some(), "{}", re.source);
            n += 1;
        }
        assert!(n >= 4, "{n} regexes");
    }

    #[test]
    fn charset_ranges() {
        let s = parse_charset("A-Za-z0-9+/=").unwrap();
        assert!(s[b'q' as usize] && s[b'Q' as usize] && s[b'5' as usize] && s[b'=' as usize]);
        assert!(!s[b'_' as usize] && !s[b'-' as usize]);
        assert!(parse_charset("").is_err());
        assert!(parse_charset("z-a").is_err());
    }
}
