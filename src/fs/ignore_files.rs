//! The walker reads `.gitignore`, `.ignore` and `.git/info/exclude` before it lists a directory,
//! with no limit: a FIFO there blocks the scan forever and a link to /dev/zero fills memory.
//! Directories holding such a file are walked again with ignore rules off, so their ignore files
//! are never opened and nothing under them goes unscanned.

use std::fs;
use std::path::{Path, PathBuf};

/// No real ignore file comes near this; past it, reading one is a hazard, not a help.
const MAX_IGNORE_FILE: u64 = 8 << 20;

/// The names in a directory whose files the walker reads as ignore rules.
const NAMES: [&str; 3] = [".gitignore", ".ignore", ".git"];

/// An ignore file in `dir` the walker must not read, and why.
pub fn unusable(dir: &Path) -> Option<(PathBuf, &'static str)> {
    unusable_of(dir, [true; 3])
}

/// Lists `dir` once, for two answers: how many entries it has besides `.git` (what the walker
/// will see, less what ignore rules drop), and `unusable`'s. Only ignore files the listing shows
/// are looked at, which saves three failed lookups in most directories.
pub fn survey(dir: &Path) -> (u64, Option<(PathBuf, &'static str)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        // The walk reports a folder it cannot list.
        return (0, unusable(dir));
    };
    let mut entries_seen = 0;
    let mut present = [false; 3];
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(i) = NAMES.iter().position(|n| name == *n) {
            present[i] = true;
        }
        if name != ".git" {
            entries_seen += 1;
        }
    }
    (entries_seen, unusable_of(dir, present))
}

/// As `unusable`, looking only at the names marked present.
fn unusable_of(dir: &Path, present: [bool; 3]) -> Option<(PathBuf, &'static str)> {
    for (name, _) in NAMES[..2].iter().zip(present).filter(|(_, p)| *p) {
        if let Some(bad) = check(&dir.join(name)) {
            return Some(bad);
        }
    }
    if !present[2] {
        return None;
    }
    let git = dir.join(".git");
    match fs::metadata(&git) {
        Ok(m) if m.is_dir() => check(&git.join("info").join("exclude")),
        // A `.git` file (worktree, submodule) is read for the line naming the git directory.
        Ok(_) => check(&git),
        Err(_) => None,
    }
}

/// Whether `dir` or a directory above it (whose ignore files apply to it) has an unusable one.
pub fn unusable_here_or_above(dir: &Path) -> Option<(PathBuf, &'static str)> {
    let abs = std::path::absolute(dir).ok()?;
    abs.ancestors().find_map(unusable)
}

fn check(path: &Path) -> Option<(PathBuf, &'static str)> {
    // Following links is the point: the walker follows them when it opens the file.
    let m = fs::metadata(path).ok()?;
    if m.is_dir() {
        // Opening a directory fails at once; the walker copes.
        None
    } else if !m.is_file() {
        Some((
            path.to_path_buf(),
            "not a regular file (FIFO, socket or device)",
        ))
    } else if m.len() > MAX_IGNORE_FILE {
        Some((path.to_path_buf(), "larger than 8 MiB"))
    } else {
        None
    }
}
