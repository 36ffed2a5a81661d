//! What the user chose to accept: path globs and key fingerprints from `[allow]`, and the inline
//! `stripe-scan:allow` marker (detected by the matcher). Suppressed findings are counted, not hidden.

use crate::error::Error;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashSet;

#[derive(Debug, Default)]
pub struct Allow {
    globs: Option<GlobSet>,
    fingerprints: HashSet<String>,
}

impl Allow {
    pub fn new(paths: &[String], fingerprints: &[String], file: &str) -> Result<Allow, Error> {
        let mut builder = GlobSetBuilder::new();
        for p in paths {
            // `docs/` means everything below docs, as in .gitignore.
            let pattern = match p.strip_suffix('/') {
                Some(dir) => format!("{dir}/**"),
                None => p.clone(),
            };
            let glob = Glob::new(&pattern).map_err(|e| {
                Error::config(file, None, format!("allow.paths: {p:?}: {}", e.kind()))
            })?;
            builder.add(glob);
        }
        let globs = if paths.is_empty() {
            None
        } else {
            Some(
                builder
                    .build()
                    .map_err(|e| Error::config(file, None, format!("allow.paths: {e}")))?,
            )
        };
        let mut set = HashSet::new();
        for (i, f) in fingerprints.iter().enumerate() {
            if !is_fingerprint(f) {
                // The value is not echoed: a key pasted here by mistake must not reach a log.
                return Err(Error::config(
                    file,
                    None,
                    format!(
                        "allow.fingerprints: entry {} is not sha256: followed by 64 hex digits (`stripe-scan scan --format json` shows each key's fingerprint)",
                        i + 1
                    ),
                ));
            }
            set.insert(f.to_ascii_lowercase());
        }
        Ok(Allow {
            globs,
            fingerprints: set,
        })
    }

    pub fn path_allowed(&self, path: &str) -> bool {
        self.globs.as_ref().is_some_and(|g| g.is_match(path))
    }

    pub fn fingerprint_allowed(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }
}

pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_directories() {
        let a = Allow::new(&["docs/".into(), "*.md".into()], &[], "t").unwrap();
        assert!(a.path_allowed("docs/a/b.txt"));
        assert!(a.path_allowed("src/readme.md"));
        assert!(!a.path_allowed("src/main.rs"));
        assert!(Allow::new(&[], &["sha256:12".into()], "t").is_err());
    }
}
