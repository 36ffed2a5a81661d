//! `--state FILE`: what incremental runs remember, per repository: the ref tips already scanned
//! (object ids) and the findings made so far, redacted (fingerprints, never keys). The next run
//! scans only the commits those tips do not reach, and still reports the earlier findings.
//!
//! An earlier finding stays reported until its key is allowed (`[allow]` in `--config`) or
//! baselined (`--baseline`), or the state file is deleted: a key that left the branch tips is
//! still in history, and still has to be rolled.

use crate::error::{describe_io, Error};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

const VERSION: u64 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u64,
    /// By repository name, as reports name it.
    pub repositories: BTreeMap<String, RepoState>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RepoState {
    /// The commits the refs named when the repository was last scanned, sorted.
    pub tips: Vec<String>,
    /// Every finding so far, as the JSON report has it, without `secret`.
    #[serde(default)]
    pub findings: Vec<Value>,
    /// When it was last scanned (seconds since 1970), for people reading the file.
    #[serde(default)]
    pub scanned_at: u64,
}

impl State {
    /// The state in `path`, or an empty one if the file does not exist yet.
    pub fn load(path: &Path) -> Result<State, Error> {
        let name = format!("--state {}", path.display());
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    version: VERSION,
                    ..State::default()
                })
            }
            Err(e) => return Err(Error::config(name, None, describe_io(&e))),
        };
        let state: State = serde_json::from_slice(&bytes).map_err(|e| {
            Error::config(
                &name,
                (e.line() > 0).then_some(e.line()),
                format!(
                    "not a stripe-scan state file ({}); delete it to start over",
                    crate::error::json_cause(&e)
                ),
            )
        })?;
        if state.version != VERSION {
            return Err(Error::config(
                name,
                None,
                format!(
                    "state version {} is not {VERSION}; delete it to start over",
                    state.version
                ),
            ));
        }
        // Findings are edited in place (`repository`, `from_state`), which only an object allows.
        if let Some(repo) = state
            .repositories
            .iter()
            .find(|(_, r)| r.findings.iter().any(|f| !f.is_object()))
        {
            return Err(Error::config(
                name,
                None,
                format!(
                    "a finding of {} is not a JSON object; delete it to start over",
                    repo.0
                ),
            ));
        }
        Ok(state)
    }

    /// Writes the state to a temporary file beside `path`, then renames it over `path`, so an
    /// interrupted run leaves the old state, never half of a new one.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let name = format!("--state {}", path.display());
        let fail = |e: std::io::Error| Error::Fatal(format!("{name}: {}", describe_io(&e)));
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            serde_json::to_writer_pretty(&mut f, self)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(fail)
    }
}

/// A finding as the state keeps it: everything but the key itself.
pub fn redacted(f: &Value) -> Value {
    let mut f = f.clone();
    if let Some(map) = f.as_object_mut() {
        map.remove("secret");
        map.remove("repository");
        map.remove("from_state");
    }
    f
}

/// What makes two findings the same occurrence: the key, where, and the commit that brought it.
pub fn identity(f: &Value) -> (String, String, u64, u64, String) {
    place_after(f, "fingerprint")
}

/// The JSON field `lead`, then where a finding is: path, line, column and commit.
pub fn place_after(f: &Value, lead: &str) -> (String, String, u64, u64, String) {
    let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
    (
        s(lead),
        s("path"),
        f["line"].as_u64().unwrap_or(0),
        f["column"].as_u64().unwrap_or(0),
        s("commit"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saved_state_loads_back_and_never_holds_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut state = State::load(&path).unwrap();
        assert!(state.repositories.is_empty());
        let finding = json!({"fingerprint": "sha256:ab", "secret": "the-key", "path": "a", "repository": "r"});
        state.repositories.insert(
            "r".into(),
            RepoState {
                tips: vec!["c0ffee".into()],
                findings: vec![redacted(&finding)],
                scanned_at: 1,
            },
        );
        state.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("the-key"), "{text}");
        let back = State::load(&path).unwrap();
        assert_eq!(back.repositories["r"].tips, vec!["c0ffee"]);
        assert_eq!(
            back.repositories["r"].findings[0]["fingerprint"],
            "sha256:ab"
        );
        std::fs::write(&path, "{\"version\": 7, \"repositories\": {}}").unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.contains("state version 7"), "{e}");
        std::fs::write(&path, "not json").unwrap();
        assert!(State::load(&path).is_err());
        std::fs::write(
            &path,
            "{\"version\": 1, \"repositories\": {\"r\": {\"tips\": [], \"findings\": [1]}}}",
        )
        .unwrap();
        let e = State::load(&path).unwrap_err().to_string();
        assert!(e.contains("a finding of r is not a JSON object"), "{e}");
    }
}
