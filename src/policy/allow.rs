//! What the user chose to accept: path patterns and key fingerprints from `[allow]`, and the inline
//! `stripe-scan:allow` marker (detected by the matcher). Suppressed findings are counted, not hidden.
//!
//! Path patterns read as `.gitignore` lines, relative to the repository's top (outside a
//! repository, to the config file's folder), whatever folder is scanned and however the paths are
//! reported: a pattern without a `/` (`*.snap`, `docs`, `docs/`) matches a name at any depth, one
//! with a `/` at its start or in its middle (`/docs/`, `docs/examples/`) is anchored at the top;
//! a match covers everything below it. `*` stays within one path segment, `**` crosses them.

use crate::error::Error;
use crate::paths::Frame;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Allow {
    globs: Option<GlobSet>,
    /// The patterns as written, by index; each compiles to two globs (`2i`, `2i + 1`).
    patterns: Vec<String>,
    /// Whether each pattern matched something in this run, for the warning about dead patterns.
    used: Vec<AtomicBool>,
    fingerprints: HashSet<String>,
    /// The folder patterns are relative to.
    base: PathBuf,
}

impl Allow {
    pub fn new(
        paths: &[String],
        fingerprints: &[String],
        file: &str,
        base: &Path,
    ) -> Result<Allow, Error> {
        let mut builder = GlobSetBuilder::new();
        for p in paths {
            for glob in globs_of(p) {
                let compiled = GlobBuilder::new(&glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        Error::config(file, None, format!("allow.paths: {p:?}: {}", e.kind()))
                    })?;
                builder.add(compiled);
            }
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
            patterns: paths.to_vec(),
            used: paths.iter().map(|_| AtomicBool::new(false)).collect(),
            fingerprints: set,
            base: base.to_path_buf(),
        })
    }

    /// Whether a path, as this run reports it, is allowed.
    pub fn path_allowed(&self, frame: &Frame, reported: &str) -> bool {
        let Some(globs) = &self.globs else {
            return false;
        };
        let rel = frame
            .relative_to(reported, &self.base)
            .unwrap_or_else(|| reported.trim_start_matches('/').to_string());
        let hits = globs.matches(&rel);
        for &i in &hits {
            if let Some(u) = self.used.get(i / 2) {
                u.store(true, Ordering::Relaxed);
            }
        }
        !hits.is_empty()
    }

    pub fn fingerprint_allowed(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The patterns that matched no path checked in this run.
    pub fn unused(&self) -> Vec<&str> {
        self.patterns
            .iter()
            .zip(&self.used)
            .filter(|(_, u)| !u.load(Ordering::Relaxed))
            .map(|(p, _)| p.as_str())
            .collect()
    }
}

/// The two globs a `.gitignore`-style pattern stands for: the path itself and everything below it.
fn globs_of(pattern: &str) -> [String; 2] {
    let p = pattern.trim();
    let p = p.strip_suffix('/').unwrap_or(p);
    let (anchored, p) = match p.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (p.contains('/'), p),
    };
    if anchored {
        [p.to_string(), format!("{p}/**")]
    } else {
        [format!("**/{p}"), format!("**/{p}/**")]
    }
}

pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(patterns: &[&str]) -> Allow {
        let p: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        Allow::new(&p, &[], "t", Path::new("/r")).unwrap()
    }

    #[test]
    fn patterns_read_as_gitignore_lines_at_every_depth() {
        let top = Frame::new(Path::new("/r"), Some(Path::new("/r")));
        let sub = Frame::new(Path::new("/r/src"), Some(Path::new("/r")));
        for p in ["docs/", "docs", "/docs/", "/docs"] {
            let a = allow(&[p]);
            assert!(a.path_allowed(&top, "docs/a/b.txt"), "{p}");
            assert!(!a.path_allowed(&top, "src/main.rs"), "{p}");
            // Scanning from src/, the same file is ../docs/a/b.txt.
            assert!(a.path_allowed(&sub, "../docs/a/b.txt"), "{p}");
        }
        // Without a leading slash, a name matches at any depth; with one, only at the top.
        assert!(allow(&["docs/"]).path_allowed(&top, "src/docs/x"));
        assert!(!allow(&["/docs/"]).path_allowed(&top, "src/docs/x"));
        let snap = allow(&["*.snap"]);
        assert!(snap.path_allowed(&top, "a.snap"));
        assert!(snap.path_allowed(&sub, "deep/er/b.snap"));
        assert!(!snap.path_allowed(&top, "a.snap.txt"));
        // A slash in the middle anchors it; `*` does not cross a slash.
        let mid = allow(&["docs/*.md"]);
        assert!(mid.path_allowed(&top, "docs/a.md"));
        assert!(!mid.path_allowed(&top, "docs/x/a.md"));
        assert!(!mid.path_allowed(&top, "src/docs/a.md"));
        assert_eq!(mid.unused(), Vec::<&str>::new());
        assert_eq!(allow(&["nothing/"]).unused(), vec!["nothing/"]);
        assert!(Allow::new(&[], &["sha256:12".into()], "t", Path::new("/")).is_err());
    }
}
