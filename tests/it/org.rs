//! Many repositories in one run: `history --repos`, `--github-org` against a stand-in for GitHub's
//! REST API on 127.0.0.1, `--state`, `--shard` and `merge`. Every repository is made by real git;
//! URLs are `file://`, cloned by the real git binary into the cache.

use crate::util::{commit, git, git_cmd, key, repo, run, run_env, run_stdin, tempdir, write};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

/// A bare copy of `src`, as a server would hold it.
fn bare(src: &Path, at: &Path) {
    git(
        src,
        &[
            "clone",
            "-q",
            "--bare",
            &src.display().to_string(),
            &at.display().to_string(),
        ],
    );
}

fn fingerprints(report: &Value) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = report["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| {
            (
                k["fingerprint"].as_str().unwrap_or("").to_string(),
                k["occurrences"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

fn repo_status<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {:#}", report["repositories"]))
}

#[test]
fn a_list_of_paths_and_urls_is_one_report_and_a_bad_repository_is_one_line() {
    let k = key("sk_live_", 24);
    let one = repo();
    commit(
        one.path(),
        &[("app/config.py", &format!("KEY = \"{k}\"\n"))],
        "add",
    );
    let two_src = repo();
    commit(
        two_src.path(),
        &[("deploy.sh", &format!("export K={k}\n"))],
        "add",
    );
    let server = tempdir();
    let two = server.path().join("two.git");
    bare(two_src.path(), &two);
    let missing = server.path().join("missing");
    let cache = tempdir();
    let list = format!(
        "# our repositories\n{}\n\n{}\n{}\n{}\n",
        one.path().display(),
        url(&two),
        missing.display(),
        url(&server.path().join("gone.git")),
    );
    let args = [
        "history",
        "--repos",
        "-",
        "--format",
        "json",
        "--cache-dir",
        &cache.path().display().to_string(),
    ];
    let r = run_stdin(server.path(), &args, list.as_bytes());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = r.json();
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{:#}", report);
    let one_name = one.path().display().to_string();
    let two_name = url(&two);
    for (name, path, line, column) in [
        (&one_name, "app/config.py", 1, 8),
        (&two_name, "deploy.sh", 1, 10),
    ] {
        let f = findings
            .iter()
            .find(|f| f["repository"] == name.as_str())
            .unwrap_or_else(|| panic!("nothing from {name}: {findings:#?}"));
        assert_eq!(
            (f["path"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
            (Some(path), Some(line), Some(column))
        );
    }
    // One key in two repositories: one entry, both named.
    let keys = report["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{keys:#?}");
    assert_eq!(keys[0]["occurrences"], 2);
    let mut repos = vec![one_name.clone(), two_name.clone()];
    repos.sort();
    assert_eq!(keys[0]["repositories"], serde_json::json!(repos));
    assert!(keys[0]["first_seen"]["commit"].is_string());
    assert_eq!(repo_status(&report, &one_name)["status"], "scanned");
    assert_eq!(repo_status(&report, &two_name)["status"], "scanned");
    assert_eq!(
        repo_status(&report, &missing.display().to_string())["status"],
        "failed"
    );
    assert_eq!(report["summary"]["repositories"], 4);
    assert_eq!(report["summary"]["repositories_failed"], 2);
    // Each bad repository is one line on stderr, named.
    let bad: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("missing") || l.contains("gone.git"))
        .collect();
    assert_eq!(bad.len(), 2, "{}", r.stderr);
    assert!(!r.stdout.contains(&k) && !r.stderr.contains(&k));
    // The URL was cloned as a mirror into the cache, nothing else there.
    let mirrors: Vec<_> = std::fs::read_dir(cache.path())
        .expect("cache")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(mirrors.len(), 1, "{mirrors:?}");
    assert!(
        mirrors[0].contains("_two-") && mirrors[0].ends_with(".git"),
        "{mirrors:?}"
    );
    let mirror = cache.path().join(&mirrors[0]);
    assert_eq!(git(&mirror, &["config", "remote.origin.mirror"]), "true");

    // A later run fetches: a key pushed since is found.
    let k2 = key("rk_live_", 24);
    commit(
        two_src.path(),
        &[("later.env", &format!("RK={k2}\n"))],
        "later",
    );
    git(
        two_src.path(),
        &["push", "-q", &two.display().to_string(), "main"],
    );
    let again = run_stdin(server.path(), &args, list.as_bytes());
    assert_eq!(again.code, 1, "{}", again.stderr);
    let found = again.findings();
    assert!(
        found
            .iter()
            .any(|f| f["repository"] == two_name.as_str() && f["path"] == "later.env"),
        "{found:#?}"
    );
    // The text report is key-centric across repositories.
    let text = run_stdin(
        server.path(),
        &[
            "history",
            "--repos",
            "-",
            "--cache-dir",
            &cache.path().display().to_string(),
        ],
        list.as_bytes(),
    );
    assert_eq!(text.code, 1);
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "{one_name}: app/config.py:1:8: live secret key sk_live_"
        )),
        "{}",
        text.stdout
    );
    assert!(
        lines[1].ends_with("2 occurrences in 2 files, 2 repositories"),
        "{}",
        lines[1]
    );
    assert!(
        text.stdout
            .contains("Not fully scanned (2 of 4 repositories):"),
        "{}",
        text.stdout
    );
    let summary = text.stderr.lines().last().unwrap_or("");
    assert!(
        summary.starts_with(
            "stripe-scan: 2 keys (1 critical, 1 high; 3 occurrences) in 2 of 4 repositories"
        ),
        "{summary}"
    );
}

#[test]
fn one_key_in_112_fixture_files_is_one_key_with_its_count() {
    let t = repo();
    let k = key("sk_test_", 24);
    let files: Vec<(String, String)> = (0..112)
        .map(|i| {
            (
                format!("fixtures/case{i:03}.json"),
                format!("{{\"key\": \"{k}\"}}\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    commit(t.path(), &refs, "fixtures");
    let r = run(t.path(), &["history"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let keys: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(": test secret key"))
        .collect();
    assert_eq!(keys.len(), 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("the same key: 112 occurrences in 112 files\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\n      and 109 more\n"), "{}", r.stdout);
    assert!(r.stdout.lines().count() < 25, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("stripe-scan: 1 key (1 high; 112 occurrences)")
            || r.stderr
                .contains("stripe-scan: 1 key (1 medium; 112 occurrences)")
            || r.stderr
                .contains("stripe-scan: 1 key (1 low; 112 occurrences)"),
        "{}",
        r.stderr
    );
    let j = run(t.path(), &["history", "--format", "json"]).json();
    assert_eq!(j["findings"].as_array().map(Vec::len), Some(112));
    assert_eq!(j["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(j["keys"][0]["occurrences"], 112);
    assert_eq!(j["keys"][0]["files"], 112);
    assert_eq!(j["keys"][0]["first_seen"]["path"], "fixtures/case000.json");
}

#[test]
fn state_scans_only_new_commits_and_keeps_reporting_earlier_keys() {
    let src = repo();
    let k1 = key("sk_live_", 24);
    commit(src.path(), &[("a.py", &format!("K = \"{k1}\"\n"))], "one");
    let work = tempdir();
    let list = write(
        work.path(),
        "repos.txt",
        format!("{}\n", src.path().display()),
    );
    let state = work.path().join("state.json");
    let args = |fmt: &str| -> Vec<String> {
        [
            "history",
            "--repos",
            &list.display().to_string(),
            "--state",
            &state.display().to_string(),
            "--format",
            fmt,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let go = |fmt: &str| {
        let a = args(fmt);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(work.path(), &a)
    };
    let first = go("json");
    assert_eq!(first.code, 1, "{}", first.stderr);
    let j = first.json();
    assert!(j["summary"]["files"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(j["findings"].as_array().map(Vec::len), Some(1));
    // The state holds tips and fingerprints, never the key.
    let saved = std::fs::read_to_string(&state).expect("state written");
    assert!(!saved.contains(&k1), "{saved}");
    let head = git(src.path(), &["rev-parse", "HEAD"]);
    assert!(saved.contains(&head), "{saved}");

    // Nothing new: no blob read, no commit walked, the earlier key still reported.
    let second = go("json");
    assert_eq!(second.code, 1, "{}", second.stderr);
    let j = second.json();
    assert_eq!(j["summary"]["files"], 0, "{:#}", j["summary"]);
    assert_eq!(j["summary"]["commits"], 0);
    let name = src.path().display().to_string();
    assert_eq!(repo_status(&j, &name)["incremental"], "unchanged");
    let f = &j["findings"][0];
    assert_eq!(
        (f["path"].as_str(), f["from_state"].as_bool()),
        (Some("a.py"), Some(true))
    );

    // A new commit with a key: only it is read, and both keys are reported.
    let k2 = key("rk_live_", 24);
    commit(src.path(), &[("b.env", &format!("RK={k2}\n"))], "two");
    let third = go("json");
    assert_eq!(third.code, 1, "{}", third.stderr);
    let j = third.json();
    assert_eq!(j["summary"]["commits"], 1, "{:#}", j["summary"]);
    assert_eq!(j["summary"]["files"], 1, "{:#}", j["summary"]);
    let paths: Vec<&str> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(paths, vec!["a.py", "b.env"]);
    assert_eq!(repo_status(&j, &name)["incremental"], "new commits");

    // A key allowed since is no longer reported from the state.
    let fp = j["findings"][0]["fingerprint"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let fp2 = j["findings"][1]["fingerprint"]
        .as_str()
        .unwrap_or("")
        .to_string();
    write(
        work.path(),
        "allow.toml",
        format!("[allow]\nfingerprints = [\"{fp}\", \"{fp2}\"]\n"),
    );
    let mut a = args("json");
    a.extend([
        "--config".to_string(),
        work.path().join("allow.toml").display().to_string(),
    ]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let fourth = run(work.path(), &a);
    assert_eq!(fourth.code, 0, "{}", fourth.stderr);
    assert_eq!(fourth.findings().len(), 0);
}

/// `n` bare repositories made with `git fast-import`: one commit each, a shared key in every
/// tenth, a key of its own in every 25th.
fn fleet(dir: &Path, n: usize, shared: &str) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..n {
        let path = dir.join(format!("repo-{i:03}.git"));
        git(dir, &["init", "-q", "--bare", &path.display().to_string()]);
        let mut files = vec![
            ("README.md".to_string(), format!("repository {i}\n")),
            ("src/main.py".to_string(), format!("print({i})\n")),
        ];
        if i % 10 == 0 {
            files.push((
                "config/settings.py".into(),
                format!("STRIPE = \"{shared}\"\n"),
            ));
        }
        if i % 25 == 3 {
            files.push(("deploy.env".into(), format!("RK={}\n", key("rk_live_", 24))));
        }
        let mut stream = String::from(
            "commit refs/heads/main\ncommitter Ada Tester <ada@example.com> 1704164645 +0000\ndata 5\nfirst\n",
        );
        for (p, c) in &files {
            stream.push_str(&format!("M 100644 inline {p}\ndata {}\n{c}\n", c.len()));
        }
        let mut child = git_cmd(&path, &["fast-import", "--quiet"])
            .env("GIT_DIR", &path)
            .stdin(Stdio::piped())
            .spawn()
            .expect("fast-import");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("stream");
        assert!(child.wait().expect("wait").success());
        names.push(path.display().to_string());
    }
    names
}

#[test]
fn eight_shards_merged_equal_one_run_over_200_repositories() {
    let dir = tempdir();
    let shared = key("sk_live_", 24);
    let mut names = fleet(dir.path(), 200, &shared);
    // One corrupt (its ref names an object that is not there) and one unreachable.
    let corrupt = dir.path().join("corrupt.git");
    git(
        dir.path(),
        &["init", "-q", "--bare", &corrupt.display().to_string()],
    );
    std::fs::write(
        corrupt.join("refs/heads/main"),
        "1111111111111111111111111111111111111111\n",
    )
    .expect("ref");
    names.push(corrupt.display().to_string());
    names.push(url(&dir.path().join("unreachable.git")));
    let list = write(dir.path(), "repos.txt", names.join("\n") + "\n");
    let cache = dir.path().join("cache");
    let base = |extra: &[&str], out: &str| {
        let mut a: Vec<String> = [
            "history",
            "--repos",
            &list.display().to_string(),
            "--cache-dir",
            &cache.display().to_string(),
            "--format",
            "json",
            "--quiet",
            "--scan-jobs",
            "2",
            "--output",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(dir.path(), &a)
    };
    let single = base(&[], "single.json");
    assert_eq!(single.code, 1, "{}", single.stderr);
    let mut shards = Vec::new();
    for i in 1..=8 {
        let out = format!("shard{i}.json");
        let r = base(&["--shard", &format!("{i}/8")], &out);
        assert!(r.code == 1 || r.code == 2 || r.code == 0, "{}", r.stderr);
        shards.push(out);
    }
    let mut margs = vec!["merge", "--format", "json", "--output", "merged.json"];
    margs.extend(shards.iter().map(String::as_str));
    let merged = run(dir.path(), &margs);
    assert_eq!(merged.code, single.code, "{}", merged.stderr);
    let read = |p: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(p)).expect("report"))
            .expect("json")
    };
    let (one, all) = (read("single.json"), read("merged.json"));
    assert_eq!(fingerprints(&one), fingerprints(&all));
    // 20 repositories hold the shared key; 8 hold their own.
    assert_eq!(fingerprints(&one).len(), 9);
    let shared_entry = one["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["occurrences"] == 20)
        .expect("the shared key");
    assert_eq!(
        shared_entry["repositories"].as_array().map(Vec::len),
        Some(20)
    );
    let strip = |v: &Value| -> Vec<Value> {
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                serde_json::json!([
                    f["repository"],
                    f["path"],
                    f["line"],
                    f["fingerprint"],
                    f["commit"]
                ])
            })
            .collect()
    };
    assert_eq!(strip(&one), strip(&all));
    for field in [
        "findings",
        "keys",
        "repositories",
        "repositories_failed",
        "files",
        "commits",
        "errors",
    ] {
        assert_eq!(one["summary"][field], all["summary"][field], "{field}");
    }
    assert_eq!(one["summary"]["repositories"], 202);
    assert_eq!(one["summary"]["repositories_failed"], 2);
    let status: BTreeMap<String, String> = all["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_ne!(status[&corrupt.display().to_string()], "scanned");
    assert_eq!(status[&url(&dir.path().join("unreachable.git"))], "failed");
    assert_eq!(status.values().filter(|s| *s == "scanned").count(), 200);

    // A missing shard is an error, not a clean merge of less.
    let mut partial = vec!["merge", "--format", "json"];
    partial.extend(shards[1..].iter().map(String::as_str));
    let p = run(dir.path(), &partial);
    assert!(p.stderr.contains("shard 1/8 is missing"), "{}", p.stderr);
    let bad = write(dir.path(), "bad.json", "{ not json");
    let b = run(dir.path(), &["merge", &bad.display().to_string()]);
    assert_eq!(b.code, 2, "{}", b.stderr);
    assert!(b.stderr.contains("bad.json"), "{}", b.stderr);
}

/// A stand-in for GitHub's REST API: two pages of an organisation (along `Link`), and a rate
/// limit for another. Records the Authorization header of each request.
fn github(repos: Vec<Value>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let base2 = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut auth = String::from("-");
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h
                    .strip_prefix("authorization: ")
                    .or(h.strip_prefix("Authorization: "))
                {
                    auth = v.trim().to_string();
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            log.lock().expect("log").push(format!("{path} {auth}"));
            let https = base2.replace("http://", "https://");
            let (status, headers, body) = if path.starts_with("/orgs/acme/repos")
                && !path.contains("page=2")
            {
                (
                    "200 OK",
                    format!("Link: <{base2}/orgs/acme/repos?per_page=100&type=all&page=2>; rel=\"next\", <{base2}/orgs/acme/repos?page=2>; rel=\"last\"\r\n"),
                    Value::Array(repos[..1].to_vec()).to_string(),
                )
            } else if path.starts_with("/orgs/acme/repos")
                || path.starts_with("/users/ada/repos?per_page=100&type=owner")
            {
                (
                    "200 OK",
                    String::new(),
                    Value::Array(repos[1..].to_vec()).to_string(),
                )
            } else if path.starts_with("/orgs/limited/") {
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    + 600;
                (
                    "403 Forbidden",
                    format!("x-ratelimit-remaining: 0\r\nx-ratelimit-reset: {reset}\r\n"),
                    "{\"message\":\"API rate limit exceeded\"}".to_string(),
                )
            } else {
                (
                    "404 Not Found",
                    String::new(),
                    "{\"message\":\"Not Found\"}".to_string(),
                )
            };
            let body = body.replace("BASE_HTTPS", &https);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n{body}",
                body.len()
            );
        }
    });
    (base, seen)
}

/// `history --github-org ORG` against the stand-in API.
fn org(
    dir: &Path,
    name: &str,
    api: &str,
    cache: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> crate::util::Run {
    let mut args = vec![
        "history",
        "--github-org",
        name,
        "--github-api-url",
        api,
        "--cache-dir",
        cache,
    ];
    args.extend_from_slice(extra);
    run_env(dir, &args, env)
}

#[test]
fn github_org_is_listed_page_by_page_and_a_rate_limit_says_when_it_resets() {
    let server = tempdir();
    let k = key("sk_live_", 24);
    let mut listing = Vec::new();
    for (name, archived, fork, content) in [
        ("api", false, false, format!("K={k}\n")),
        ("web", false, false, "nothing\n".to_string()),
        ("old", true, false, format!("K={k}\n")),
        ("forked", false, true, format!("K={k}\n")),
    ] {
        let src = repo();
        commit(src.path(), &[("x.env", &content)], "c");
        let at = server.path().join(format!("{name}.git"));
        bare(src.path(), &at);
        listing.push(serde_json::json!({
            "full_name": format!("acme/{name}"),
            "clone_url": url(&at),
            "archived": archived,
            "fork": fork,
        }));
    }
    let (api, seen) = github(listing);
    let cache = tempdir();
    let c = cache.path().display().to_string();
    let token = format!("ghp_{}", crate::util::random_from(crate::util::ALNUM, 36));
    let r = org(
        server.path(),
        "acme",
        &api,
        &c,
        &["--format", "json"],
        &[("GITHUB_TOKEN", &token)],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    let names: Vec<&str> = j["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["acme/api", "acme/web"],
        "archived and forks left out by default"
    );
    assert_eq!(j["findings"][0]["repository"], "acme/api");
    let requests = seen.lock().expect("log").clone();
    assert_eq!(requests.len(), 2, "two pages: {requests:?}");
    assert!(requests[1].contains("page=2"), "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r.ends_with(&format!("Bearer {token}"))),
        "{requests:?}"
    );
    assert!(!r.stderr.contains(&token) && !r.stdout.contains(&token));

    let more = ["--format", "json", "--include-archived", "--include-forks"];
    let all = org(server.path(), "acme", &api, &c, &more, &[]);
    assert_eq!(all.json()["repositories"].as_array().map(Vec::len), Some(4));
    assert_eq!(all.json()["keys"][0]["occurrences"], 3);

    // A user's repositories: one page, no Link; only the ones neither archived nor forked.
    let user = run(
        server.path(),
        &[
            "history",
            "--github-user",
            "ada",
            "--github-api-url",
            &api,
            "--cache-dir",
            &c,
            "--format",
            "json",
        ],
    );
    assert_eq!(user.code, 0, "{}", user.stderr);
    let listed: Vec<Value> = user.json()["repositories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["name"], "acme/web");

    let limited = org(server.path(), "limited", &api, &c, &[], &[]);
    assert_eq!(limited.code, 2, "{}", limited.stderr);
    let line = limited.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains(
            "GitHub organisation limited: API rate limit exhausted (HTTP 403); it resets at "
        ) && line.contains("(in 10 min)")
            && line.contains("set GITHUB_TOKEN"),
        "{line}"
    );
}

#[test]
fn a_token_reaches_git_through_its_environment_not_its_command_line() {
    // A fake `git` first on PATH records its arguments and the config entries it was given.
    let dir = tempdir();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let log = dir.path().join("git.log");
    let script = format!(
        "#!/bin/sh\necho \"ARGS $*\" >> {log}\necho \"ENV $GIT_CONFIG_COUNT $GIT_CONFIG_KEY_0 $GIT_CONFIG_VALUE_0\" >> {log}\nexit 1\n",
        log = log.display()
    );
    let fake = write(&bin, "git", script);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    // Clone URLs on the API's own host get the token (as github.com's do for api.github.com).
    let (api, _) = github(vec![
        serde_json::json!({"full_name": "acme/api", "clone_url": "BASE_HTTPS/acme/api.git"}),
        serde_json::json!({"full_name": "acme/web", "clone_url": "BASE_HTTPS/acme/web.git"}),
    ]);
    let token = format!("ghp_{}", crate::util::random_from(crate::util::ALNUM, 36));
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache = dir.path().join("c").display().to_string();
    let env = [("PATH", path.as_str()), ("GITHUB_TOKEN", token.as_str())];
    let r = org(
        dir.path(),
        "acme",
        &api,
        &cache,
        &["--clone-jobs", "1"],
        &env,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(logged.matches("ARGS clone --mirror").count(), 2, "{logged}");
    assert!(!logged.contains(&token), "{logged}");
    let https = api.replace("http://", "https://");
    let env: Vec<&str> = logged.lines().filter(|l| l.starts_with("ENV ")).collect();
    assert_eq!(env.len(), 3, "{logged}");
    for line in &env[1..] {
        assert!(
            line.starts_with(&format!(
                "ENV 1 http.{https}/.extraheader AUTHORIZATION: basic "
            )),
            "{line}"
        );
    }
    // One line per repository that could not be cloned, and the run says it is incomplete.
    assert_eq!(
        r.stderr.lines().filter(|l| l.contains("acme/")).count(),
        2,
        "{}",
        r.stderr
    );
}

#[test]
fn a_broken_repository_is_one_line_with_or_without_state_and_the_others_are_scanned() {
    let dir = tempdir();
    let broken = dir.path().join("broken");
    write(&broken, ".git/HEAD", "not a ref\n");
    let good = repo();
    commit(
        good.path(),
        &[("k.env", &format!("K={}\n", key("sk_live_", 24)))],
        "c",
    );
    // Relative names, as a list kept beside its repositories would have them.
    bare(good.path(), &dir.path().join("copy.git"));
    let copy_url = url(&dir.path().join("copy.git"));
    let list = write(
        dir.path(),
        "repos.txt",
        format!(
            "{}\n{}\ncopy.git\n{copy_url}\n",
            broken.display(),
            good.path().display()
        ),
    );
    let state = dir.path().join("state.json").display().to_string();
    let l = list.display().to_string();
    let common = [
        "history",
        "--repos",
        &l,
        "--format",
        "json",
        "--cache-dir",
        "cache",
    ];
    for extra in [vec![], vec!["--state", state.as_str()]] {
        let args = [&common[..], &extra[..]].concat();
        let r = run(dir.path(), &args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("broken")).collect();
        assert_eq!(lines.len(), 1, "{}", r.stderr);
        assert!(
            lines[0].starts_with(&format!("stripe-scan: {}: ", broken.display())),
            "{}",
            lines[0]
        );
        let j = r.json();
        assert_eq!(
            repo_status(&j, &broken.display().to_string())["status"],
            "failed"
        );
        assert_eq!(j["findings"].as_array().map(Vec::len), Some(3), "{:#}", j);
        assert_eq!(
            j["keys"][0]["repositories"].as_array().map(Vec::len),
            Some(3)
        );
    }
}

#[test]
fn an_enormous_repository_is_one_line_under_max_repo_size_and_the_others_are_scanned() {
    let dir = tempdir();
    let big = repo();
    // 3 MB that no compression shrinks: a pack or loose object of about that size.
    let mut noise = Vec::with_capacity(3_000_000);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    while noise.len() < 3_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(big.path().join("blob.bin"), &noise).expect("write blob");
    git(big.path(), &["add", "blob.bin"]);
    git(big.path(), &["commit", "-q", "-m", "big"]);
    let small = repo();
    commit(
        small.path(),
        &[("k.env", &format!("K={}\n", key("sk_live_", 24)))],
        "c",
    );
    let list = write(
        dir.path(),
        "repos.txt",
        format!("{}\n{}\n", big.path().display(), small.path().display()),
    );
    let l = list.display().to_string();
    let args = ["history", "--repos", &l, "--format", "json"];
    let limited = [&args[..], &["--max-repo-size", "1"]].concat();
    let r = run(dir.path(), &limited);
    // The key in the small repository decides the exit status; the big one is said once.
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("--max-repo-size"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with(&format!("stripe-scan: {}: skipped: ", big.path().display())),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("over --max-repo-size 1 MB"),
        "{}",
        lines[0]
    );
    let j = r.json();
    assert_eq!(
        repo_status(&j, &big.path().display().to_string())["status"],
        "failed"
    );
    assert_eq!(j["findings"].as_array().map(Vec::len), Some(1), "{:#}", j);
    // With room for it, the same repository is scanned.
    let roomy = [&args[..], &["--max-repo-size", "100"]].concat();
    let r = run(dir.path(), &roomy);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("--max-repo-size"), "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        repo_status(&j, &big.path().display().to_string())["status"],
        "scanned"
    );
}

/// What works on one repository only is refused with many, not silently dropped: `--verify`,
/// `--fail-on-verified`, and SARIF from `merge`. A key in a commit message is placed by its
/// commit, and `--no-messages` reaches every repository.
#[test]
fn one_repository_options_are_refused_and_messages_are_placed_and_skipped_as_asked() {
    let dir = tempdir();
    let r1 = repo();
    let k = key("sk_live_", 24);
    commit(
        r1.path(),
        &[("README.md", "hello\n")],
        &format!("rotate {k}"),
    );
    write(dir.path(), "list.txt", format!("{}\n", r1.path().display()));
    for flags in [&["--verify"][..], &["--verify", "--fail-on-verified"]] {
        let mut args = vec!["history", "--repos", "list.txt"];
        args.extend(flags);
        let r = run(dir.path(), &args);
        assert_eq!(r.code, 2, "{flags:?}: {}", r.stderr);
        assert!(r.stderr.contains("work on one repository"), "{}", r.stderr);
    }
    let with = run(
        dir.path(),
        &["history", "--repos", "list.txt", "--format", "json"],
    );
    assert_eq!(with.code, 1, "{}", with.stderr);
    // A key in a message is placed by its commit, as one repository's report places it.
    let text = run(dir.path(), &["history", "--repos", "list.txt"]);
    assert!(
        text.stdout.contains(": message of commit ") && !text.stdout.contains(": :"),
        "{}",
        text.stdout
    );
    let without = run(
        dir.path(),
        &[
            "history",
            "--repos",
            "list.txt",
            "--no-messages",
            "--format",
            "json",
        ],
    );
    assert_eq!(without.code, 0, "{}", without.stderr);
    let report = dir.path().join("r.json");
    write(dir.path(), "r.json", &with.stdout);
    let r = run(
        dir.path(),
        &["merge", "--format", "sarif", &report.display().to_string()],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("merge: SARIF points into one repository"),
        "{}",
        r.stderr
    );
}
