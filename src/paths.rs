//! Where reported paths start from, and how they read from elsewhere. `scan` reports paths as the
//! user wrote them (relative to the current directory, or absolute), `staged` and `history`
//! relative to the repository's top; allowlists and baselines name files relative to the
//! repository's top, and SARIF names them relative to it too, so code scanning finds the file.
//! One `Frame` translates between them.

use std::path::{Component, Path, PathBuf};

/// How the paths of one run's findings are anchored.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The absolute folder relative reported paths start from.
    origin: PathBuf,
    /// The top of the repository the run is in, if any.
    repo_top: Option<PathBuf>,
}

impl Frame {
    /// Reported paths start from `origin` (made absolute); `repo_top`, when known, is where
    /// repository-relative paths start.
    pub fn new(origin: &Path, repo_top: Option<&Path>) -> Frame {
        Frame {
            origin: absolute(origin),
            repo_top: repo_top.map(absolute),
        }
    }

    /// `reported` as an absolute path, `..` and `.` resolved as written.
    pub fn absolute_of(&self, reported: &str) -> PathBuf {
        normalize(&self.origin.join(reported))
    }

    /// `reported` relative to `base`, `/`-separated; None when it lies outside `base` (or is stdin).
    pub fn relative_to(&self, reported: &str, base: &Path) -> Option<String> {
        if reported == "-" {
            return None;
        }
        let abs = self.absolute_of(reported);
        let rel = abs.strip_prefix(base).ok()?;
        Some(slashed(rel))
    }

    /// `reported` relative to the repository's top, when the run is in one and the path is inside
    /// it; otherwise the path as reported.
    pub fn repo_relative(&self, reported: &str) -> String {
        self.repo_top
            .as_deref()
            .and_then(|top| self.relative_to(reported, top))
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| reported.to_string())
    }
}

/// The top of the git work tree holding `start`: the nearest folder at or above it with a `.git`
/// (a folder, or the file a linked worktree or submodule has), as git itself looks.
pub fn repo_top(start: &Path) -> Option<PathBuf> {
    let start = absolute(start);
    start
        .ancestors()
        .find(|dir| dir.join(".git").symlink_metadata().is_ok())
        .map(Path::to_path_buf)
}

/// The path with links and `..` resolved; as it is when it cannot be (it may not exist).
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `path` made absolute against the current directory, without touching the file system beyond
/// that (no symlink resolution: paths stay the ones the user wrote).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => path.to_path_buf(),
        }
    };
    normalize(&joined)
}

/// `.` dropped and `..` applied, as written.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A relative path with `/` between its parts, whatever the platform.
pub fn slashed(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_origin() {
        let f = Frame::new(Path::new("/r/sub"), Some(Path::new("/r")));
        assert_eq!(f.repo_relative("a/b.txt"), "sub/a/b.txt");
        assert_eq!(f.repo_relative("../x.txt"), "x.txt");
        assert_eq!(f.repo_relative("/r/y/z"), "y/z");
        assert_eq!(f.repo_relative("/elsewhere/z"), "/elsewhere/z");
        assert_eq!(f.repo_relative("-"), "-");
        assert_eq!(
            f.relative_to("a/b.txt", Path::new("/r/sub")).as_deref(),
            Some("a/b.txt")
        );
        assert_eq!(f.relative_to("../q", Path::new("/r/sub")), None);
    }
}
