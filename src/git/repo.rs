//! The one way a repository is opened, by the main thread and by every worker: as git would open
//! it here, from the environment (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_COMMON_DIR`, `GIT_INDEX_FILE`,
//! `GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`) or by discovery from the current
//! directory. Workers need the same policy as the main handle: a pre-receive hook's pushed objects
//! live in a quarantine directory that only the environment names.

use crate::error::Error;
use git2::Repository;
use std::path::Path;

/// The repository for `command`, or one line saying why there is none.
pub(crate) fn open(command: &str) -> Result<Repository, Error> {
    open_worker().map_err(|e| {
        Error::Fatal(format!(
            "{command}: not in a git repository ({}); run it inside one",
            e.message()
        ))
    })
}

/// A worker's own handle (`Repository` is not `Sync`), opened exactly as the main one was.
pub(crate) fn open_worker() -> Result<Repository, git2::Error> {
    static EXTENSIONS: std::sync::Once = std::sync::Once::new();
    // A partial clone (`extensions.partialClone`) reads like any repository; the objects it left
    // on its remote are simply absent, and `errors` sums them up in one line. libgit2 refuses
    // the extension only because it cannot fetch them, which a scanner must not do anyway.
    EXTENSIONS.call_once(|| {
        // SAFETY: called once, before any repository is opened, from behind a `Once`.
        let _ = unsafe { git2::opts::set_extensions(&["partialclone"]) };
    });
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

/// The remote a partial clone leaves objects with (`remote.<name>.promisor`, or the older
/// `extensions.partialClone`), if this is one: its missing objects are promised, not lost.
pub fn promisor_remote(repo: &Repository) -> Option<String> {
    let config = repo.config().ok()?;
    if let Ok(name) = config.get_string("extensions.partialclone") {
        return Some(name);
    }
    let mut names = Vec::new();
    let entries = config.entries(Some(r"remote\..*\.promisor")).ok()?;
    let _ = entries.for_each(|e| names.extend(e.name().map(str::to_string)));
    names
        .into_iter()
        .find(|n| config.get_bool(n).unwrap_or(false))
        .and_then(|n| {
            n.strip_prefix("remote.")?
                .strip_suffix(".promisor")
                .map(str::to_string)
        })
}
