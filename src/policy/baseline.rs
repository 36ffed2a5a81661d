//! `.stripe-scan-baseline.json`: keys accepted as already known, so a scan reports only new ones.
//!
//! An entry is the key's fingerprint (sha256, never the key), its kind and rule, and the path where
//! it was first seen, for people. There are no line numbers, so reformatting or moving code keeps
//! it valid. Entries are written sorted, one per line, so a diff or a merge touches only the lines
//! of the keys that changed.

use crate::error::{describe_io, Error};
use crate::policy::allow::is_fingerprint;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::Path;

pub const BASELINE_NAME: &str = ".stripe-scan-baseline.json";
const VERSION: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `sha256:` + 64 lower-case hex digits.
    pub fingerprint: String,
    pub kind: String,
    pub rule: String,
    /// Where the key was first seen; informative only, never matched.
    pub path: String,
}

#[derive(Debug, Default, Clone)]
pub struct Baseline {
    entries: BTreeMap<String, Entry>,
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

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| Error::config(&name, None, describe_io(&e)))?;
        let text =
            String::from_utf8(bytes).map_err(|_| Error::config(&name, None, "not valid UTF-8"))?;
        Baseline::parse(&name, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Baseline, Error> {
        let spec: FileSpec = serde_json::from_str(text).map_err(|e| {
            let line = (e.line() > 0).then_some(e.line());
            Error::config(name, line, json_cause(&e))
        })?;
        if spec.version != VERSION {
            return Err(Error::config(
                name,
                None,
                format!(
                    "baseline version {} is not {VERSION}, the one this stripe-scan reads",
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

    /// Adds the entry unless its key is already known (the first-seen path stays). True if added.
    pub fn insert(&mut self, entry: Entry) -> bool {
        if self.entries.contains_key(&entry.fingerprint) {
            return false;
        }
        self.entries.insert(entry.fingerprint.clone(), entry);
        true
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.entries.contains_key(fingerprint)
    }

    pub fn remove(&mut self, fingerprint: &str) -> Option<Entry> {
        self.entries.remove(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The file's text: pretty JSON with one entry per line, sorted by path then fingerprint.
    pub fn render(&self) -> String {
        let mut list: Vec<&Entry> = self.entries.values().collect();
        list.sort_by(|a, b| (&a.path, &a.fingerprint).cmp(&(&b.path, &b.fingerprint)));
        let mut out = format!("{{\n  \"version\": {VERSION},\n  \"keys\": [");
        for (i, e) in list.iter().enumerate() {
            let line = serde_json::json!({
                "fingerprint": e.fingerprint,
                "kind": e.kind,
                "rule": e.rule,
                "path": e.path,
            });
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&line.to_string());
        }
        out.push_str(if list.is_empty() {
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

/// serde_json's message without its " at line L column C" tail: the line is shown separately.
fn json_cause(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
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

    #[test]
    fn render_is_sorted_one_entry_per_line_and_parses_back() {
        let mut b = Baseline::default();
        assert!(b.insert(entry('b', "z.py")));
        assert!(b.insert(entry('a', "a.py")));
        assert!(!b.insert(entry('a', "moved.py")), "first-seen path stays");
        let text = b.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        assert!(
            lines[3].contains("\"a.py\"") && lines[3].ends_with(','),
            "{text}"
        );
        assert!(
            lines[4].contains("\"z.py\"") && !lines[4].ends_with(','),
            "{text}"
        );
        let back = Baseline::parse("b.json", &text).expect("parses");
        assert_eq!(back.render(), text);
        assert!(back.contains(&fp('a')) && back.contains(&fp('b')));
        assert_eq!(
            Baseline::default().render(),
            "{\n  \"version\": 1,\n  \"keys\": []\n}\n"
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
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
        assert!(e.to_string().starts_with("b.json:3: "), "{e}");
        let e = Baseline::parse("b.json", "{\"version\": 2, \"keys\": []}").expect_err("version");
        assert!(e.to_string().contains("version 2"), "{e}");
    }
}
