//! The repositories a multi-repository run covers: lines of a `--repos` file, or a GitHub listing
//! (see `github`). Each is a local path, scanned in place, or a URL, cloned into the cache.

use crate::error::Error;
use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Repo {
    /// How reports name it: the line as written, or `owner/name` for a GitHub listing. Shards hash it.
    pub name: String,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub enum Location {
    /// Scanned where it is, never written to.
    Path(PathBuf),
    /// Cloned as a mirror into the cache, then fetched.
    Url { url: String, auth: Option<Auth> },
}

/// A token git sends as an HTTP header, to this origin only (`https://github.com`). It travels in
/// git's environment, never on a command line that `ps` shows, and never in a `Debug` print.
#[derive(Clone)]
pub struct Auth {
    pub origin: String,
    pub token: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Auth {{ origin: {:?}, token: <hidden> }}", self.origin)
    }
}

/// The repositories listed in `source` (a file, or `-` for stdin): one a line, blank lines and
/// `#` comments skipped, each repository once.
pub fn read(source: &str) -> Result<Vec<Repo>, Error> {
    let text = crate::util::read_text("--repos", source)?;
    parse(if source == "-" { "stdin" } else { source }, &text)
}

pub fn parse(file: &str, text: &str) -> Result<Vec<Repo>, Error> {
    let mut seen = HashSet::new();
    let mut repos = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if has_password(line) {
            // Not echoed: the line holds a credential.
            return Err(Error::config(
                file,
                Some(n + 1),
                "the URL holds a password or token; git would show it on its command line. Use a credential helper, or --github-org with GITHUB_TOKEN",
            ));
        }
        if !seen.insert(line.to_string()) {
            continue;
        }
        repos.push(Repo {
            name: line.to_string(),
            location: if is_url(line) {
                Location::Url {
                    url: line.to_string(),
                    auth: None,
                }
            } else {
                Location::Path(PathBuf::from(line))
            },
        });
    }
    Ok(repos)
}

/// What git reads as a URL: `scheme://…`, or scp-like `[user@]host:path`, where a `:` comes before
/// any `/` (so `./a:b` and `/x/y:z` are paths).
pub fn is_url(s: &str) -> bool {
    if let Some((scheme, _)) = s.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    }
    match (s.find(':'), s.find('/')) {
        (Some(colon), Some(slash)) => colon > 0 && colon < slash,
        (Some(colon), None) => colon > 0,
        _ => false,
    }
}

/// `scheme://user:secret@host/…`.
fn has_password(s: &str) -> bool {
    let Some((_, rest)) = s.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// `scheme://host[:port]` of a URL, for a credential scoped to it.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!host.is_empty()).then(|| format!("{}://{}", scheme.to_ascii_lowercase(), host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_as_git_reads_them() {
        for url in [
            "https://github.com/a/b.git",
            "ssh://git@host/a/b",
            "git@github.com:a/b.git",
            "file:///srv/git/a.git",
            "host:repo",
        ] {
            assert!(is_url(url), "{url}");
        }
        for path in ["/srv/git/a", "./a:b", "repo", "../x", "/x/y:z"] {
            assert!(!is_url(path), "{path}");
        }
    }

    #[test]
    fn lines_skip_comments_blanks_and_repeats() {
        let repos = parse(
            "list",
            "# ours\n\n  /srv/a  \nhttps://h/b.git\n/srv/a\n#/srv/c\n",
        )
        .unwrap();
        let names: Vec<&str> = repos.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["/srv/a", "https://h/b.git"]);
        assert!(matches!(repos[0].location, Location::Path(_)));
        assert!(matches!(repos[1].location, Location::Url { .. }));
    }

    #[test]
    fn a_password_in_a_url_is_refused_without_echoing_it() {
        let e = parse("list", "/a\nhttps://me:hunter2@h/b.git\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("list:2: "), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse("list", "ssh://git@h/b.git\n").is_ok());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://x-access-token@GitHub.com/a/b.git").as_deref(),
            Some("https://GitHub.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/a").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("git@h:a/b"), None);
    }
}
