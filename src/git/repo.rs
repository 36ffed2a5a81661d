//! The one way a repository is opened, by the main thread and by every worker: as git would open
//! it here, from the environment (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_COMMON_DIR`, `GIT_INDEX_FILE`,
//! `GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`) or by discovery from the current
//! directory. Workers need the same policy as the main handle: a pre-receive hook's pushed objects
//! live in a quarantine directory that only the environment names. Our own readers (the index,
//! the packs) ask this module where their files are, so they see what libgit2 sees.
//!
//! Nothing here writes: a scanner must leave the repository it scans as it found it.

use super::{alternates, cmdline_config};
use crate::error::Error;
use crate::paths::canonical;
use crate::util::sync::lock;
use git2::{ErrorCode, Repository};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The repository for `command`, or one line saying why there is none and what to do: every
/// command that needs one says it the same way.
pub(crate) fn open(command: &str) -> Result<Repository, Error> {
    open_main().map_err(|e| {
        if e.code() == ErrorCode::Owner {
            return Error::Fatal(format!(
                "{command}: {}; git calls this dubious ownership. If you trust the repository, \
                 allow it as git does: `git config --global --add safe.directory <path>`, or for \
                 one run, GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0=<path>",
                e.message()
            ));
        }
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

/// The main thread's handle with libgit2's own error, for a command that reads through the git
/// binary where libgit2 cannot open the repository (SHA-256, reftable). Call it before any worker.
pub(crate) fn open_main() -> Result<Repository, git2::Error> {
    common_dir_as_a_directory();
    open_worker()
}

/// libgit2 joins `GIT_COMMON_DIR` to `refs/` and `objects/` by plain concatenation, so a value
/// without a trailing slash (as users and scripts write it) sends it to `.gitrefs/`. git takes
/// both spellings, so the variable is given its slash once, on the main thread before any worker
/// or child process reads it (a slash more is harmless to git itself).
fn common_dir_as_a_directory() {
    if let Some(dir) = std::env::var_os("GIT_COMMON_DIR") {
        let bytes = dir.as_encoded_bytes();
        if !bytes.is_empty() && !bytes.ends_with(b"/") {
            let mut fixed = dir.clone();
            fixed.push("/");
            std::env::set_var("GIT_COMMON_DIR", fixed);
        }
    }
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
        // A read-only scan gains nothing from libgit2 re-hashing every object it inflates, which
        // git itself does only in fsck (28% of `history`'s time when libgit2 read everything;
        // 1.4% of a commit hook's); a corrupt object still fails to inflate or parse.
        git2::opts::strict_hash_verification(false);
    });
    match Repository::open_from_env() {
        Err(e) if e.code() == ErrorCode::Owner => open_vouched_for().ok_or(e),
        other => other,
    }
}

/// Serialises the owner-check switch: libgit2 keeps it in a global without synchronisation.
static OWNER_CHECK: Mutex<()> = Mutex::new(());

/// A repository libgit2 refused as owned by someone else, opened anyway when git's command-line
/// configuration (`git -c safe.directory=…`, which git passes to hooks) vouches for it. libgit2
/// honours only the system and global `safe.directory`.
fn open_vouched_for() -> Option<Repository> {
    let allowed = cmdline_config::values("safe.directory");
    if allowed.is_empty() {
        return None;
    }
    let _guard = lock(&OWNER_CHECK);
    // SAFETY: the switch is a plain global in libgit2; it is flipped only under the lock above,
    // and the first flip happens on the main thread, when `open` is called before any worker
    // exists. Once a repository is vouched for, the switch stays off so that workers opening the
    // same repository get the same answer.
    unsafe {
        git2::opts::set_verify_owner_validation(false).ok()?;
    }
    let repo = Repository::open_from_env().ok();
    if let Some(r) = &repo {
        if is_safe(&checked_path(r), &allowed) {
            return repo;
        }
    }
    // SAFETY: as above.
    unsafe {
        let _ = git2::opts::set_verify_owner_validation(true);
    }
    None
}

/// The path git matches `safe.directory` against: the work tree, or the git directory of a bare
/// repository.
fn checked_path(repo: &Repository) -> PathBuf {
    canonical(repo.workdir().unwrap_or_else(|| repo.path()))
}

/// git's rules: `*` allows every repository, an empty value forgets what came before, `DIR/*`
/// allows everything below DIR, and any other value must name the same directory.
fn is_safe(path: &Path, values: &[Option<String>]) -> bool {
    let mut safe = false;
    for value in values {
        let Some(v) = value.as_deref() else {
            continue;
        };
        if v.is_empty() {
            safe = false;
        } else if v == "*" {
            safe = true;
        } else if let Some(dir) = v.strip_suffix("/*") {
            let dir = canonical(&expand(dir));
            if path != dir && path.starts_with(&dir) {
                safe = true;
            }
        } else if canonical(&expand(v)) == path {
            safe = true;
        }
    }
    safe
}

/// `~/…` and `%(prefix)/…` as git expands a path value (the install prefix itself is unknown
/// here, so only its documented use for absolute paths, `%(prefix)//abs`, is read).
fn expand(value: &str) -> PathBuf {
    if let Some(rest) = value.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    PathBuf::from(value.strip_prefix("%(prefix)/").unwrap_or(value))
}

/// Every object directory, in the order git searches them: `GIT_OBJECT_DIRECTORY` (else the
/// common directory's `objects`, which linked worktrees share), then the alternates.
pub(crate) fn object_dirs(repo: &Repository) -> Vec<PathBuf> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let primary = env("GIT_OBJECT_DIRECTORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.commondir().join("objects"));
    alternates::object_dirs(primary, env("GIT_ALTERNATE_OBJECT_DIRECTORIES").as_deref())
}

/// The index git would read: `GIT_INDEX_FILE` (relative to the current directory, as git takes
/// it), else the one in the git directory (a linked worktree has its own).
pub(crate) fn index_file(repo: &Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => repo.path().join("index"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_directory_values_follow_gits_rules() {
        let p = Path::new("/srv/repos/app");
        let v = |s: &[&str]| s.iter().map(|x| Some(x.to_string())).collect::<Vec<_>>();
        assert!(is_safe(p, &v(&["*"])));
        assert!(is_safe(p, &v(&["/srv/repos/app"])));
        assert!(is_safe(p, &v(&["/srv/repos/*"])));
        assert!(is_safe(p, &v(&["%(prefix)//srv/repos/app"])));
        assert!(!is_safe(p, &v(&["/srv/repos/ap"])));
        assert!(!is_safe(p, &v(&["/srv/other/*"])));
        assert!(!is_safe(p, &v(&["*", ""])), "an empty value resets");
        assert!(is_safe(p, &v(&["", "*"])));
        assert!(!is_safe(p, &[None]));
    }
}
