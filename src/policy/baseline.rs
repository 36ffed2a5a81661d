//! `.stripe-scan-baseline.json`: key occurrences accepted as already known, so a scan reports only
//! new ones.
//!
//! An entry is one occurrence: the key's fingerprint (sha256, never the key) and the path it is in,
//! relative to the repository's top (outside a repository, to the baseline file's folder), plus
//! its kind and rule for people. There are no line numbers, so reformatting or moving code inside
//! a file keeps it valid; the same key in another file is a new occurrence, reported as "known
//! key, new location", so a key that was never rolled cannot spread quietly. Accepting a key
//! everywhere is a deliberate `[allow] fingerprints` entry. Entries are written sorted, one per
//! line, so a diff or a merge touches only the lines of the occurrences that changed.
//!
//! Version 1 files (one entry per key, its path informative) are read as occurrences at that
//! path; the next `stripe-scan baseline` rewrites them as version 2.

use crate::error::{describe_io, json_cause, Error};
use crate::policy::allow::is_fingerprint;
use serde::{Deserialize, Deserializer};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

pub const BASELINE_NAME: &str = ".stripe-scan-baseline.json";
const VERSION: u64 = 2;
const REGENERATE: &str = "regenerate it with `stripe-scan baseline`";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `sha256:` + 64 lower-case hex digits.
    pub fingerprint: String,
    pub kind: String,
    pub rule: String,
    /// Where the key is, `/`-separated, relative to the baseline's base folder.
    pub path: String,
}

#[derive(Debug, Default, Clone)]
pub struct Baseline {
    /// By (path, fingerprint): the order the file is written in.
    entries: BTreeMap<(String, String), Entry>,
    /// Fingerprint → how many entries hold it, so a removal knows at once whether the key is gone.
    keys: HashMap<String, usize>,
    /// The folder entry paths are relative to.
    base: PathBuf,
}

#[derive(Deserialize)]
struct FileSpec {
    version: u64,
    keys: Vec<EntrySpec>,
}

#[derive(Deserialize)]
struct EntrySpec {
    fingerprint: Fingerprint,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    path: String,
}

/// Validated while parsing, so a bad entry is reported at its own line.
struct Fingerprint(String);

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if is_fingerprint(&s) {
            Ok(Fingerprint(s.to_ascii_lowercase()))
        } else {
            // Never echo the value: someone may have pasted a key where the fingerprint belongs.
            Err(serde::de::Error::custom(
                "fingerprint is not sha256: followed by 64 hex digits",
            ))
        }
    }
}

/// Whether a key at a path is in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// This key at this path: accepted.
    Here,
    /// This key, but recorded at other paths only.
    Elsewhere,
    No,
}

impl Baseline {
    /// An empty baseline whose paths are relative to `base`.
    pub fn new(base: &Path) -> Baseline {
        Baseline {
            base: base.to_path_buf(),
            ..Baseline::default()
        }
    }

    /// Reads `path`; `named_by` says where its name came from, for the error message.
    pub fn load(path: &Path, named_by: &str, base: &Path) -> Result<Baseline, Error> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            let fix = if e.kind() == std::io::ErrorKind::NotFound {
                "; fix the name, or create it with `stripe-scan baseline`"
            } else {
                ""
            };
            Error::config(
                &name,
                None,
                format!("{} ({named_by}){fix}", describe_io(&e)),
            )
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::config(&name, None, format!("not valid UTF-8; {REGENERATE}")))?;
        let mut b = Baseline::parse(&name, &text).map_err(|e| match e {
            // Said only when the name came from somewhere the user may not be looking.
            Error::Config { file, line, cause } if !named_by.contains("--baseline") => {
                let cause = match cause.split_once("; ") {
                    Some((what, fix)) => format!("{what} ({named_by}); {fix}"),
                    None => format!("{cause} ({named_by})"),
                };
                Error::Config { file, line, cause }
            }
            other => other,
        })?;
        b.base = base.to_path_buf();
        Ok(b)
    }

    pub fn parse(name: &str, text: &str) -> Result<Baseline, Error> {
        let spec: FileSpec = serde_json::from_str(text).map_err(|e| {
            let line = (e.line() > 0).then_some(e.line());
            let cause = json_cause(&e);
            let cause = if e.is_syntax() || e.is_eof() {
                format!("not a baseline (not JSON: {cause}); {REGENERATE}")
            } else {
                format!("{cause}; {REGENERATE}")
            };
            Error::config(name, line, cause)
        })?;
        if spec.version != 1 && spec.version != VERSION {
            return Err(Error::config(
                name,
                None,
                format!(
                    "baseline version {} is not one this stripe-scan reads (1 or {VERSION}); {REGENERATE}",
                    spec.version
                ),
            ));
        }
        let mut b = Baseline::default();
        for e in spec.keys {
            b.insert(Entry {
                fingerprint: e.fingerprint.0,
                kind: e.kind,
                rule: e.rule,
                path: e.path,
            });
        }
        Ok(b)
    }

    /// The folder entry paths are relative to.
    /// A reported path as this baseline records it: relative to its folder when inside it, else
    /// as reported. Writing and matching entries both go through here, so they always agree.
    pub fn path_of(&self, frame: &crate::paths::Frame, reported: &str) -> String {
        frame
            .relative_to(reported, &self.base)
            .unwrap_or_else(|| reported.to_string())
    }

    /// Adds the occurrence unless it is already there. True if added.
    pub fn insert(&mut self, entry: Entry) -> bool {
        let at = (entry.path.clone(), entry.fingerprint.clone());
        if self.entries.contains_key(&at) {
            return false;
        }
        *self.keys.entry(entry.fingerprint.clone()).or_insert(0) += 1;
        self.entries.insert(at, entry);
        true
    }

    /// Whether the key with `fingerprint` is recorded at `path` (relative to the base), elsewhere,
    /// or not at all.
    pub fn knows(&self, fingerprint: &str, path: &str) -> Known {
        if !self.keys.contains_key(fingerprint) {
            Known::No
        } else if self
            .entries
            .contains_key(&(path.to_string(), fingerprint.to_string()))
        {
            Known::Here
        } else {
            Known::Elsewhere
        }
    }

    pub fn remove(&mut self, entry: &Entry) -> Option<Entry> {
        let removed = self
            .entries
            .remove(&(entry.path.clone(), entry.fingerprint.clone()));
        if removed.is_some() {
            if let Some(n) = self.keys.get_mut(&entry.fingerprint) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.keys.remove(&entry.fingerprint);
                }
            }
        }
        removed
    }

    /// Occurrences recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Distinct keys recorded.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The file's text: pretty JSON with one entry per line, sorted by path then fingerprint.
    pub fn render(&self) -> String {
        let mut out = format!("{{\n  \"version\": {VERSION},\n  \"keys\": [");
        for (i, e) in self.entries.values().enumerate() {
            let line = serde_json::json!({
                "fingerprint": e.fingerprint,
                "kind": e.kind,
                "rule": e.rule,
                "path": e.path,
            });
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&line.to_string());
        }
        out.push_str(if self.entries.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        out
    }

    /// Writes through a temporary file and a rename, so an interrupted run never leaves half a
    /// baseline behind.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let name = path.display().to_string();
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = std::path::PathBuf::from(tmp);
        let result = std::fs::write(&tmp, self.render()).and_then(|_| std::fs::rename(&tmp, path));
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Usage(format!("{name}: {}", describe_io(&e)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn entry(c: char, path: &str) -> Entry {
        Entry {
            fingerprint: fp(c),
            kind: "secret_key".into(),
            rule: "stripe-secret-key".into(),
            path: path.into(),
        }
    }

    /// A key stays known while any of its occurrences is recorded, and only that long.
    #[test]
    fn a_key_is_forgotten_with_its_last_occurrence() {
        let mut b = Baseline::default();
        b.insert(entry('a', "one.py"));
        b.insert(entry('a', "two.py"));
        assert!(b.remove(&entry('a', "one.py")).is_some());
        assert_eq!(b.knows(&fp('a'), "one.py"), Known::Elsewhere);
        assert!(b.remove(&entry('a', "one.py")).is_none(), "already gone");
        assert_eq!(b.key_count(), 1);
        assert!(b.remove(&entry('a', "two.py")).is_some());
        assert_eq!(b.knows(&fp('a'), "two.py"), Known::No);
        assert_eq!(b.key_count(), 0);
    }

    /// A key pasted where a baseline entry or field name belongs is not echoed back.
    #[test]
    fn parse_errors_do_not_quote_what_was_written() {
        let key = ["sk", "live", "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2"].join("_");
        let text = format!("{{\"version\":2,\"keys\":[\"{key}\"]}}");
        let e = Baseline::parse("b.json", &text).unwrap_err().to_string();
        assert!(e.starts_with("b.json:1: invalid type: string"), "{e}");
        assert!(!e.contains("Zz9Yy8"), "{e}");
    }

    #[test]
    fn render_is_sorted_one_occurrence_per_line_and_parses_back() {
        let mut b = Baseline::default();
        assert!(b.insert(entry('b', "z.py")));
        assert!(b.insert(entry('a', "a.py")));
        assert!(b.insert(entry('a', "moved.py")), "another occurrence");
        assert!(!b.insert(entry('a', "moved.py")), "the same one");
        let text = b.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8, "{text}");
        assert!(
            lines[3].contains("\"a.py\"") && lines[3].ends_with(','),
            "{text}"
        );
        assert!(
            lines[5].contains("\"z.py\"") && !lines[5].ends_with(','),
            "{text}"
        );
        let back = Baseline::parse("b.json", &text).expect("parses");
        assert_eq!(back.render(), text);
        assert_eq!(back.knows(&fp('a'), "a.py"), Known::Here);
        assert_eq!(back.knows(&fp('a'), "new.py"), Known::Elsewhere);
        assert_eq!(back.knows(&fp('c'), "a.py"), Known::No);
        assert_eq!((back.len(), back.key_count()), (3, 2));
        assert_eq!(
            Baseline::default().render(),
            "{\n  \"version\": 2,\n  \"keys\": []\n}\n"
        );
    }

    #[test]
    fn version_1_files_are_read_as_occurrences() {
        let v1 = format!(
            "{{\"version\": 1, \"keys\": [{{\"fingerprint\": \"{}\", \"kind\": \"secret_key\", \"rule\": \"r\", \"path\": \"app/a.py\"}}]}}",
            fp('a')
        );
        let b = Baseline::parse("old.json", &v1).expect("v1 parses");
        assert_eq!(b.knows(&fp('a'), "app/a.py"), Known::Here);
        assert!(b.render().contains("\"version\": 2"));
    }

    #[test]
    fn errors_name_the_file_and_line_and_the_way_out() {
        let e = Baseline::parse(
            "b.json",
            "{\n  \"version\": 1,\n  \"keys\": [\n    {\"fingerprint\": \"sk_nope\"}\n  ]\n}\n",
        )
        .expect_err("bad fingerprint");
        let msg = e.to_string();
        assert!(
            msg.starts_with("b.json:4: fingerprint is not sha256:"),
            "{msg}"
        );
        assert!(!msg.contains("sk_nope"), "{msg}");
        let e = Baseline::parse("b.json", "{\n  \"version\": 1,\n  oops\n}").expect_err("not JSON");
        let msg = e.to_string();
        assert!(
            msg.starts_with("b.json:3: not a baseline (not JSON"),
            "{msg}"
        );
        assert!(
            msg.ends_with("regenerate it with `stripe-scan baseline`"),
            "{msg}"
        );
        let e = Baseline::parse("b.json", "{\"version\": 3, \"keys\": []}").expect_err("version");
        assert!(e.to_string().contains("version 3"), "{e}");
    }
}
