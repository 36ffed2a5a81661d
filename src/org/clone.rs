//! URLs become bare mirrors in the cache directory, made and refreshed by the `git` binary (which
//! knows every transport, proxy and credential helper the user has set up): cloned once with
//! `--mirror`, then only `fetch --prune`d. A clone is made under a temporary name and renamed
//! when complete, so an interrupted run never leaves a half clone that looks like a cache.
//!
//! git never prompts: a private repository without credentials fails with one line instead of
//! hanging a nightly job. Tokens reach git through its environment, never its command line.

use super::list::Auth;
use crate::error::printable;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `$XDG_CACHE_HOME/stripe-scan/repos`, else `~/.cache/stripe-scan/repos`.
pub fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".cache"))
    })?;
    Some(base.join("stripe-scan").join("repos"))
}

/// The cache folder of a URL: its host and path made safe for a file name, and a hash of the
/// whole URL so that two URLs never share a folder.
pub fn dir_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = match rest.split_once('/') {
        // Drop the user of `ssh://git@host/…`.
        Some((authority, path)) => format!(
            "{}/{path}",
            authority.rsplit_once('@').map_or(authority, |(_, h)| h)
        ),
        None => rest.rsplit_once('@').map_or(rest, |(_, h)| h).to_string(),
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let mut name = String::new();
    for c in rest.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            c
        } else {
            '_'
        };
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    let name: String = name
        .trim_matches(|c| c == '_' || c == '.')
        .chars()
        .rev()
        .take(80)
        .collect();
    let name: String = name.chars().rev().collect();
    let digest = Sha256::digest(url.as_bytes());
    let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{name}-{hash}.git")
}

/// How git is run for every clone and fetch of one run.
pub struct Git {
    /// Set when neither GIT_SSH_COMMAND, GIT_SSH nor core.sshCommand chose an ssh command: ours
    /// then adds BatchMode, so ssh fails instead of asking for a passphrase or a host key.
    batch_ssh: bool,
}

impl Git {
    pub fn new() -> Git {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let configured = Command::new("git")
            .args(["config", "--get", "core.sshCommand"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success());
        Git {
            batch_ssh: !set("GIT_SSH_COMMAND") && !set("GIT_SSH") && !configured,
        }
    }

    fn command(&self, auth: Option<&Auth>) -> Command {
        let mut cmd = Command::new("git");
        for var in super::child::REPOSITORY_ENV {
            cmd.env_remove(var);
        }
        // The list is the user's own (file:// included); `ext::` stays off, as git has it.
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never");
        if self.batch_ssh {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        if let Some(auth) = auth {
            for (k, v) in auth_env(auth, std::env::var("GIT_CONFIG_COUNT").ok().as_deref()) {
                cmd.env(k, v);
            }
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        cmd
    }

    /// The mirror of `url` in `cache`, cloned or fetched. `Ok((path, Some(cause)))`: the fetch
    /// failed and `path` holds what an earlier run fetched.
    pub fn mirror(
        &self,
        cache: &Path,
        url: &str,
        auth: Option<&Auth>,
    ) -> Result<(PathBuf, Option<String>), String> {
        let dir = cache.join(dir_name(url));
        if dir.join("HEAD").is_file() {
            let mut fetch = self.command(auth);
            fetch
                .arg("--git-dir")
                .arg(&dir)
                .args(["fetch", "--prune", "--quiet", "origin"]);
            return match run(fetch) {
                Ok(()) => Ok((dir, None)),
                Err(cause) => Ok((dir, Some(format!("fetch failed: {cause}")))),
            };
        }
        std::fs::create_dir_all(cache).map_err(|e| {
            format!(
                "cache {}: {}",
                cache.display(),
                crate::error::describe_io(&e)
            )
        })?;
        let tmp = cache.join(format!(
            ".partial-{}-{}",
            std::process::id(),
            dir.file_name()
                .map_or(OsString::new(), |n| n.to_os_string())
                .to_string_lossy()
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        let mut clone = self.command(auth);
        // `--`: a URL from a listing must never be read as an option.
        clone
            .args(["clone", "--mirror", "--quiet", "--"])
            .arg(url)
            .arg(&tmp);
        if let Err(cause) = run(clone) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(cause);
        }
        if let Err(e) = std::fs::rename(&tmp, &dir) {
            let _ = std::fs::remove_dir_all(&tmp);
            // Another run cloned it meanwhile: theirs is as good as ours.
            if !dir.join("HEAD").is_file() {
                return Err(format!(
                    "cache {}: {}",
                    dir.display(),
                    crate::error::describe_io(&e)
                ));
            }
        }
        Ok((dir, None))
    }
}

/// git's own words for why it failed: the last line it printed, without `fatal: `.
fn run(mut cmd: Command) -> Result<(), String> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run git: {}", crate::error::describe_io(&e)))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let last = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("git failed");
    let last = ["fatal: ", "error: "]
        .iter()
        .find_map(|p| last.strip_prefix(p))
        .unwrap_or(last);
    let mut cause = printable(last).into_owned();
    if cause.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|&i| cause.is_char_boundary(i))
            .unwrap_or(0);
        cause.truncate(cut);
        cause.push('…');
    }
    Err(cause)
}

/// The environment that makes git send `auth`'s token to its origin only, as GitHub's own
/// checkout action does: `http.<origin>/.extraheader`, appended after any GIT_CONFIG_COUNT entries
/// the user already set.
pub fn auth_env(auth: &Auth, existing_count: Option<&str>) -> Vec<(String, String)> {
    let n: usize = existing_count
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    let basic = base64(format!("x-access-token:{}", auth.token).as_bytes());
    vec![
        (
            format!("GIT_CONFIG_KEY_{n}"),
            format!("http.{}/.extraheader", auth.origin),
        ),
        (
            format!("GIT_CONFIG_VALUE_{n}"),
            format!("AUTHORIZATION: basic {basic}"),
        ),
        ("GIT_CONFIG_COUNT".to_string(), (n + 1).to_string()),
    ]
}

/// Padded standard base64, as an HTTP Basic header wants it.
fn base64(bytes: &[u8]) -> String {
    let mut out: String = crate::engine::decode::base64::encode(bytes)
        .into_iter()
        .map(char::from)
        .collect();
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_are_readable_safe_and_distinct() {
        let a = dir_name("https://github.com/acme/api.git");
        assert!(a.starts_with("github.com_acme_api-"), "{a}");
        assert!(a.ends_with(".git"));
        let b = dir_name("git@github.com:acme/api.git");
        assert!(b.starts_with("github.com_acme_api-"), "{b}");
        assert_ne!(a, b);
        let c = dir_name("ssh://git@h/../../etc/passwd");
        assert!(!c.contains('/') && !c.starts_with('.'), "{c}");
        assert!(dir_name(&format!("https://h/{}", "x".repeat(500))).len() < 110);
    }

    #[test]
    fn the_token_goes_in_a_header_scoped_to_its_origin() {
        let auth = Auth {
            origin: "https://github.com".into(),
            token: "t0k".into(),
        };
        let env = auth_env(&auth, Some("2"));
        assert_eq!(
            env,
            vec![
                (
                    "GIT_CONFIG_KEY_2".into(),
                    "http.https://github.com/.extraheader".into()
                ),
                (
                    "GIT_CONFIG_VALUE_2".into(),
                    "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46dDBr".into()
                ),
                ("GIT_CONFIG_COUNT".into(), "3".into()),
            ]
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
