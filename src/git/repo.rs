//! The one way a repository is opened, by the main thread and by every worker: as git would open
//! it here, from the environment (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_COMMON_DIR`, `GIT_INDEX_FILE`,
//! `GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`) or by discovery from the current
//! directory. Workers need the same policy as the main handle: a pre-receive hook's pushed objects
//! live in a quarantine directory that only the environment names.

use crate::error::Error;
use git2::Repository;
use std::path::Path;

/// The repository for `command`, or one line saying why there is none and what to do: every
/// command that needs one says it the same way.
pub(crate) fn open(command: &str) -> Result<Repository, Error> {
    open_worker().map_err(|e| {
        let here = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| ".".into());
        // "could not find repository at …" only repeats the folder.
        let why = if e.code() == git2::ErrorCode::NotFound {
            String::new()
        } else {
            format!(": {}", e.message())
        };
        Error::Fatal(format!(
            "{command}: not in a git repository ({here}{why}); run it inside one, or name one: `stripe-scan -C DIR {command}`"
        ))
    })
}

/// A worker's own handle (`Repository` is not `Sync`), opened exactly as the main one was.
pub(crate) fn open_worker() -> Result<Repository, git2::Error> {
    Repository::open_from_env()
}

/// The commits a shallow clone was cut at (its history before them is missing), if it is one.
pub fn shallow_boundary(repo: &Repository) -> Option<Vec<String>> {
    if !repo.is_shallow() {
        return None;
    }
    let text = std::fs::read_to_string(repo.commondir().join("shallow")).unwrap_or_default();
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// The repository's root as users name it: the work tree, or the git directory of a bare one.
pub fn display_root(repo: &Repository) -> String {
    let p: &Path = repo.workdir().unwrap_or_else(|| repo.path());
    let s = p.display().to_string();
    match s.strip_suffix('/') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => s,
    }
}
