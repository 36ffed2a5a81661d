//! Listing an organisation's or a user's repositories through GitHub's REST API (github.com or
//! GitHub Enterprise Server with `--github-api-url`), page by page along the `Link` header.
//!
//! A rate limit is reported with the time it resets, and the run stops: sleeping for an hour in a
//! nightly job is worse than a clear line and exit 2.

use super::list::{origin, Auth, Location, Repo};
use crate::error::Error;
use crate::git::meta::rfc3339;
use crate::report::sarif::encode_segment;
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whose repositories.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    Org(&'a str),
    User(&'a str),
}

pub struct Listing<'a> {
    pub api: &'a str,
    pub owner: Owner<'a>,
    pub include_archived: bool,
    pub include_forks: bool,
    /// GITHUB_TOKEN: private repositories, and 5,000 requests an hour instead of 60.
    pub token: Option<&'a str>,
}

#[derive(Deserialize)]
struct ApiRepo {
    full_name: String,
    clone_url: String,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    fork: bool,
}

/// More pages than this is a server that never stops saying "next".
const MAX_PAGES: usize = 10_000;

pub fn list(l: &Listing<'_>) -> Result<Vec<Repo>, Error> {
    let api = l.api.trim_end_matches('/');
    let api_origin = origin(api)
        .ok_or_else(|| Error::Usage(format!("--github-api-url {api:?}: not an http(s) URL")))?;
    let (what, first) = match l.owner {
        Owner::Org(org) => (
            format!("GitHub organisation {org}"),
            format!(
                "{api}/orgs/{}/repos?per_page=100&type=all",
                encode_segment(org)
            ),
        ),
        Owner::User(user) => (
            format!("GitHub user {user}"),
            format!(
                "{api}/users/{}/repos?per_page=100&type=owner",
                encode_segment(user)
            ),
        ),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("stripe-scan/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut repos = Vec::new();
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(Error::Fatal(format!(
                "{what}: the API kept paginating past {MAX_PAGES} pages; stopped"
            )));
        }
        let mut req = agent
            .get(&url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(token) = l.token {
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        let mut resp = req
            .call()
            .map_err(|e| Error::Fatal(format!("{what}: {url}: {e}")))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if status != 200 {
            return Err(Error::Fatal(format!(
                "{what}: {}",
                refusal(status, &header, l.token.is_some())
            )));
        }
        next = header("link").and_then(|link| next_link(&link));
        if let Some(n) = &next {
            // The token goes to the API's own host only, whatever a Link header says.
            if origin(n).as_deref() != Some(api_origin.as_str()) {
                return Err(Error::Fatal(format!(
                    "{what}: the next page is on another host ({n}); not following it"
                )));
            }
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| Error::Fatal(format!("{what}: {url}: {e}")))?;
        let page: Vec<ApiRepo> = serde_json::from_str(&body).map_err(|e| {
            Error::Fatal(format!(
                "{what}: {url}: not a repository listing ({})",
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
        for r in page {
            if (r.archived && !l.include_archived) || (r.fork && !l.include_forks) {
                continue;
            }
            let auth = l
                .token
                .filter(|_| same_host(&api_origin, &r.clone_url))
                .and_then(|token| {
                    Some(Auth {
                        origin: origin(&r.clone_url)?,
                        token: token.to_string(),
                    })
                });
            repos.push(Repo {
                name: r.full_name,
                location: Location::Url {
                    url: r.clone_url,
                    auth,
                },
            });
        }
    }
    repos.sort_by(|a, b| a.name.cmp(&b.name));
    repos.dedup_by(|a, b| a.name == b.name);
    Ok(repos)
}

/// Why GitHub said no, in one line: a rate limit with its reset time, a missing owner, a token
/// without access.
fn refusal(status: u16, header: &dyn Fn(&str) -> Option<String>, has_token: bool) -> String {
    let exhausted = header("x-ratelimit-remaining").as_deref() == Some("0");
    if (status == 403 || status == 429) && exhausted {
        let reset = header("x-ratelimit-reset").and_then(|s| s.trim().parse::<i64>().ok());
        let when = match reset {
            Some(at) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let minutes = at.saturating_sub(now).max(0).saturating_add(59) / 60;
                format!("; it resets at {} (in {minutes} min)", rfc3339(at, 0))
            }
            None => String::new(),
        };
        let hint = if has_token {
            ""
        } else {
            "; set GITHUB_TOKEN for 5,000 requests an hour instead of 60"
        };
        return format!("API rate limit exhausted (HTTP {status}){when}{hint}");
    }
    if let Some(retry) = header("retry-after").filter(|_| status == 403 || status == 429) {
        return format!("API secondary rate limit (HTTP {status}); retry after {retry} s");
    }
    match status {
        401 => "HTTP 401: GITHUB_TOKEN was refused (expired or revoked?)".to_string(),
        404 if has_token => "HTTP 404: not found, or GITHUB_TOKEN cannot see it".to_string(),
        404 => "HTTP 404: not found (private? set GITHUB_TOKEN)".to_string(),
        403 => "HTTP 403: forbidden (GITHUB_TOKEN lacks access, or SSO not authorized)".to_string(),
        s => format!("HTTP {s} from the API"),
    }
}

/// The `rel="next"` target of a `Link` header: `<url>; rel="next", <url>; rel="last"`.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().eq_ignore_ascii_case("rel=\"next\"") || p.trim() == "rel=next");
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

/// Whether a clone URL is on the API's GitHub: the same host, or github.com for api.github.com.
fn same_host(api_origin: &str, clone_url: &str) -> bool {
    let Some(clone) = origin(clone_url) else {
        return false;
    };
    let host = |o: &str| o.split_once("://").map(|(_, h)| h.to_ascii_lowercase());
    let (api_host, clone_host) = (host(api_origin), host(&clone));
    clone.starts_with("https://")
        && (api_host == clone_host
            || (api_host.as_deref() == Some("api.github.com")
                && clone_host.as_deref() == Some("github.com")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links() {
        let link = r#"<https://api.github.com/organizations/1/repos?page=2>; rel="next", <https://api.github.com/organizations/1/repos?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/organizations/1/repos?page=2")
        );
        let last = r#"<https://x/repos?page=1>; rel="prev", <https://x/repos?page=1>; rel="first""#;
        assert_eq!(next_link(last), None);
    }

    #[test]
    fn tokens_go_to_github_hosts_only() {
        assert!(same_host(
            "https://api.github.com",
            "https://github.com/a/b.git"
        ));
        assert!(same_host("https://ghe.corp", "https://ghe.corp/a/b.git"));
        assert!(!same_host(
            "https://api.github.com",
            "https://evil.example/a.git"
        ));
        assert!(!same_host("https://api.github.com", "file:///tmp/a.git"));
        assert!(!same_host("http://ghe.corp", "http://ghe.corp/a/b.git"));
    }

    #[test]
    fn rate_limits_name_the_reset_time() {
        let headers = |name: &str| match name {
            "x-ratelimit-remaining" => Some("0".to_string()),
            "x-ratelimit-reset" => Some("1704164645".to_string()),
            _ => None,
        };
        let line = refusal(403, &headers, false);
        assert!(
            line.starts_with(
                "API rate limit exhausted (HTTP 403); it resets at 2024-01-02T03:04:05Z"
            ),
            "{line}"
        );
        assert!(line.contains("GITHUB_TOKEN"), "{line}");
    }
}
