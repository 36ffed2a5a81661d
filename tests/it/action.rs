//! The GitHub Action: action.yml's schema, the commits hooks/action-range.sh picks for each event, and what
//! hooks/action-run.sh hands back to the workflow. Every repository is real, made with the git binary, and
//! every event payload is written the way the runner writes it.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use tempfile::TempDir;

use super::util::{self, git, Run};

const ZERO: &str = "0000000000000000000000000000000000000000";
/// In no repository: the `before` of a force push, which the checkout never fetched.
const GONE: &str = "5e1f0c4a7d9b2e3f6a8c1d4b7e0f2a5c8d1e4b70";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// A temp dir holding HOME, the event payload and the repositories of one test.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Sandbox {
            dir: util::tempdir(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A new repository on `main`.
    fn init(&self, name: &str) -> PathBuf {
        let repo = self.path().join(name);
        fs::create_dir(&repo).unwrap();
        util::git_init(&repo);
        repo
    }

    /// A clone of `src` as actions/checkout makes it: `origin/*` for every branch, `depth` None = full.
    fn clone(&self, src: &Path, name: &str, depth: Option<u32>) -> PathBuf {
        let url = format!("file://{}", src.display());
        let depth = depth.map(|d| d.to_string());
        let mut args = vec!["clone", "-q", "--no-single-branch"];
        if let Some(d) = &depth {
            args.extend(["--depth", d]);
        }
        args.extend([url.as_str(), name]);
        git(self.path(), &args);
        self.path().join(name)
    }

    /// Commits `content` to `file` and returns the commit id.
    fn commit(&self, repo: &Path, file: &str, content: &str) -> String {
        util::write(repo, file, content);
        git(repo, &["add", file]);
        git(repo, &["commit", "-q", "-m", &format!("edit {file}")]);
        git(repo, &["rev-parse", "HEAD"])
    }

    /// `n` commits, each a distinct message over the same tree, and the last one's id: range logic never
    /// looks at content.
    fn empty_commits(&self, repo: &Path, n: usize) -> String {
        for i in 0..n {
            git(
                repo,
                &["commit", "-q", "--allow-empty", "-m", &format!("c{i}")],
            );
        }
        git(repo, &["rev-parse", "HEAD"])
    }

    /// Runs `hooks/<script>` in `repo` for `event` with `payload`, `env` on top of a bare environment:
    /// none of the GITHUB_* variables of a runner this suite may itself run on (its step summary must not
    /// receive test tables), no user git config.
    fn hook(
        &self,
        script: &str,
        repo: &Path,
        event: &str,
        payload: &Value,
        env: &[(&str, &str)],
    ) -> Run {
        let path = self.path().join("event.json");
        fs::write(&path, serde_json::to_vec(payload).unwrap()).unwrap();
        let mut c = Command::new("sh");
        c.arg(root().join("hooks").join(script))
            .current_dir(repo)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &path);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("run sh");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn range(&self, repo: &Path, event: &str, payload: &Value) -> Run {
        self.hook("action-range.sh", repo, event, payload, &[])
    }
}

fn push(before: &str, after: &str, branch: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "before": before,
        "after": after,
        "created": before == ZERO,
        "deleted": false,
        "forced": false,
        "repository": {"default_branch": "main"},
    })
}

fn pull_request(base: &str, head: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {"base": {"sha": base, "ref": "main"}, "head": {"sha": head, "ref": "feature"}},
        "repository": {"default_branch": "main"},
    })
}

#[track_caller]
fn assert_range(run: &Run, want: &[&str]) {
    assert_eq!(run.code, 0, "{}", show(run));
    assert_eq!(
        run.stdout.lines().collect::<Vec<_>>(),
        want,
        "{}",
        show(run)
    );
}

/// Nothing to scan is a pass, with the reason on stderr.
#[track_caller]
fn assert_nothing(run: &Run, reason: &str) {
    assert_eq!(run.code, 0, "{}", show(run));
    assert_eq!(run.stdout, "", "{}", show(run));
    assert!(run.stderr.contains(reason), "{}", show(run));
}

/// The shallow-clone failure: exit 2 and exactly one line, which tells the fix.
#[track_caller]
fn assert_shallow_failure(run: &Run) {
    assert_eq!(run.code, 2, "{}", show(run));
    assert_eq!(run.stdout, "", "{}", show(run));
    assert_eq!(run.stderr.lines().count(), 1, "{}", show(run));
    assert!(run.stderr.contains("fetch-depth: 0"), "{}", show(run));
}

/// main: m1, m2. feature (from m2): f1, f2. Checked out on feature.
struct Branched {
    sb: Sandbox,
    repo: PathBuf,
    m: Vec<String>,
    f: Vec<String>,
}

fn branched() -> Branched {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    let m = vec![sb.commit(&repo, "a", "1"), sb.commit(&repo, "a", "2")];
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    let f = vec![sb.commit(&repo, "b", "1"), sb.commit(&repo, "b", "2")];
    Branched { sb, repo, m, f }
}

// ---- action.yml ----

#[test]
fn action_yml_passes_action_validator() {
    let validator = root().join(".ci/node/node_modules/.bin/action-validator");
    if !validator.exists() {
        let hint = "npm install --prefix .ci/node --no-save --no-audit --no-fund @action-validator/cli@0.6.0";
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{} is missing: .ci/run must run `{hint}`",
            validator.display()
        );
        eprintln!("skipped: action-validator is not installed; run `{hint}`");
        return;
    }
    let validate = |path: &Path| Command::new(&validator).arg(path).output().unwrap();
    let out = validate(&root().join("action.yml"));
    assert!(
        out.status.success(),
        "action.yml is invalid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The same file without one step's `shell` must be refused, or the validator is checking nothing.
    let text = fs::read_to_string(root().join("action.yml")).unwrap();
    let broken = text.replacen("      shell: bash\n", "", 1);
    assert_ne!(broken, text);
    let dir = util::tempdir();
    fs::write(dir.path().join("action.yml"), broken).unwrap();
    assert!(!validate(&dir.path().join("action.yml")).status.success());
}

/// Composite actions get no INPUT_* variables: an input that no expression reads is silently ignored.
#[test]
fn action_yml_reads_every_input_and_sets_every_output() {
    let text = fs::read_to_string(root().join("action.yml")).unwrap();
    for input in [
        "args",
        "fail-on",
        "baseline",
        "sarif",
        "full-history",
        "category",
        "verify",
    ] {
        assert!(
            text.contains(&format!("\n  {input}:\n")),
            "{input} not declared"
        );
        assert!(
            text.contains(&format!("inputs.{input} "))
                || text.contains(&format!("inputs.{input}}}")),
            "{input} declared but never read"
        );
    }
    for output in ["findings", "sarif-file"] {
        assert!(text.contains(&format!("value: ${{{{ steps.scan.outputs.{output} }}}}")));
    }
    assert!(text.contains("using: composite"));
    for file in ["action.yml", "hooks/action-run.sh", "hooks/action-range.sh"] {
        let text = fs::read_to_string(root().join(file)).unwrap();
        assert!(
            !text.contains("$INPUT_") && !text.contains("${INPUT_"),
            "{file}"
        );
    }
}

// ---- hooks/action-range.sh: which commits each event scans ----

#[test]
fn push_scans_before_to_after() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    let c: Vec<String> = ["1", "2", "3"]
        .iter()
        .map(|v| sb.commit(&repo, "a", v))
        .collect();
    let run = sb.range(&repo, "push", &push(&c[0], &c[2], "main"));
    assert_range(&run, &[&format!("{}..{}", c[0], c[2])]);
    assert!(run.stderr.contains("2 commit(s)"), "{}", show(&run));
}

#[test]
fn new_branch_scans_the_commits_the_default_branch_lacks() {
    let b = branched();
    let run = b.sb.range(&b.repo, "push", &push(ZERO, &b.f[1], "feature"));
    assert_range(&run, &[&b.f[1], &format!("^{}", b.m[1])]);
}

#[test]
fn new_branch_compares_with_origin_default_branch_over_a_local_one() {
    let sb = Sandbox::new();
    let server = sb.init("server");
    let m1 = sb.commit(&server, "a", "1");
    let repo = sb.clone(&server, "checkout", None);
    // A local main ahead of the server must not hide the branch's commits.
    sb.commit(&repo, "a", "local");
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    let f1 = sb.commit(&repo, "b", "1");
    let run = sb.range(&repo, "push", &push(ZERO, &f1, "feature"));
    assert_range(&run, &[&f1, &format!("^{m1}")]);
}

#[test]
fn new_branch_without_a_default_branch_scans_its_whole_history() {
    let b = branched();
    let mut payload = push(ZERO, &b.f[1], "feature");
    payload.as_object_mut().unwrap().remove("repository");
    let run = b.sb.range(&b.repo, "push", &payload);
    assert_range(&run, &[&b.f[1]]);
    assert!(run.stderr.contains("4 commit(s)"), "{}", show(&run));
}

#[test]
fn first_push_of_the_default_branch_scans_its_whole_history() {
    let sb = Sandbox::new();
    let repo = sb.init("repo");
    sb.commit(&repo, "a", "1");
    let m2 = sb.commit(&repo, "a", "2");
    assert_range(&sb.range(&repo, "push", &push(ZERO, &m2, "main")), &[&m2]);
}

#[test]
fn new_branch_without_new_commits_scans_nothing() {
    let b = branched();
    git(&b.repo, &["branch", "copy", &b.m[1]]);
    let run = b.sb.range(&b.repo, "push", &push(ZERO, &b.m[1], "copy"));
    assert_nothing(&run, "no commit to scan");
}

#[test]
fn new_annotated_tag_is_peeled_to_its_commit() {
    let b = branched();
    git(&b.repo, &["tag", "-a", "-m", "release", "v1", &b.f[0]]);
    let tag = git(&b.repo, &["rev-parse", "v1"]);
    assert_ne!(tag, b.f[0]);
    let mut payload = push(ZERO, &tag, "x");
    payload["ref"] = json!("refs/tags/v1");
    let run = b.sb.range(&b.repo, "push", &payload);
    assert_range(&run, &[&b.f[0], &format!("^{}", b.m[1])]);
}

#[test]
fn force_push_with_unreachable_before_falls_back_to_the_default_branch() {
    let b = branched();
    let mut payload = push(GONE, &b.f[1], "feature");
    payload["forced"] = json!(true);
    let run = b.sb.range(&b.repo, "push", &payload);
    assert_range(&run, &[&b.f[1], &format!("^{}", b.m[1])]);
    assert!(run.stderr.contains("force push"), "{}", show(&run));
}

#[test]
fn force_push_of_the_default_branch_with_unreachable_before_scans_its_whole_history() {
    let b = branched();
    git(&b.repo, &["checkout", "-q", "main"]);
    let run = b.sb.range(&b.repo, "push", &push(GONE, &b.m[1], "main"));
    assert_range(&run, &[&b.m[1]]);
}

#[test]
fn force_push_whose_before_is_still_present_scans_what_before_lacks() {
    let b = branched();
    // feature rewritten: f1, f2 replaced by g1, both still in the object store.
    git(&b.repo, &["reset", "-q", "--hard", &b.m[1]]);
    let g1 = b.sb.commit(&b.repo, "b", "rewritten");
    let run = b.sb.range(&b.repo, "push", &push(&b.f[1], &g1, "feature"));
    assert_range(&run, &[&format!("{}..{g1}", b.f[1])]);
}

#[test]
fn branch_delete_scans_nothing_and_passes() {
    let b = branched();
    let mut payload = push(&b.f[1], ZERO, "feature");
    payload["deleted"] = json!(true);
    assert_nothing(&b.sb.range(&b.repo, "push", &payload), "deleted");
}

#[test]
fn pull_request_scans_every_commit_not_a_page_of_them() {
    let b = branched();
    // More commits than gitleaks-action's first page of 30.
    let head = b.sb.empty_commits(&b.repo, 40);
    for event in ["pull_request", "pull_request_target"] {
        let run = b.sb.range(&b.repo, event, &pull_request(&b.m[1], &head));
        assert_range(&run, &[&format!("{}..{head}", b.m[1])]);
        assert!(run.stderr.contains("42 commit(s)"), "{}", show(&run));
    }
}

#[test]
fn pull_request_whose_head_is_not_checked_out_fails() {
    let b = branched();
    let run =
        b.sb.range(&b.repo, "pull_request_target", &pull_request(&b.m[1], GONE));
    assert_eq!(run.code, 2, "{}", show(&run));
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains(GONE), "{}", show(&run));
}

#[test]
fn merge_group_scans_base_to_head() {
    let b = branched();
    let payload = json!({"merge_group": {"base_sha": b.m[1], "head_sha": b.f[1]}});
    let run = b.sb.range(&b.repo, "merge_group", &payload);
    assert_range(&run, &[&format!("{}..{}", b.m[1], b.f[1])]);
}

#[test]
fn schedule_dispatch_and_other_events_scan_everything() {
    let b = branched();
    for event in ["schedule", "workflow_dispatch", "release"] {
        assert_range(&b.sb.range(&b.repo, event, &json!({})), &["ALL"]);
    }
}

#[test]
fn full_history_overrides_the_event_range() {
    let b = branched();
    let payload = push(&b.f[0], &b.f[1], "feature");
    let run = b.sb.hook(
        "action-range.sh",
        &b.repo,
        "push",
        &payload,
        &[("FULL_HISTORY", "true")],
    );
    assert_range(&run, &["ALL"]);
}

#[test]
fn payload_values_never_become_options() {
    let b = branched();
    for (before, after) in [
        (b.m[1].as_str(), "--output=/tmp/x"),
        ("-q", b.f[1].as_str()),
    ] {
        let run = b.sb.range(&b.repo, "push", &push(before, after, "feature"));
        assert_eq!(run.code, 2, "{}", show(&run));
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn outside_a_repository_fails() {
    let sb = Sandbox::new();
    let run = sb.range(sb.path(), "schedule", &json!({}));
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(run.stderr.contains("actions/checkout"), "{}", show(&run));
}

// ---- shallow clones: pass only when the range stops short of the cut ----

/// A server with c0..c4 on main and f0 on feature (from c4); a clone of depth `depth`, on main.
struct Shallow {
    sb: Sandbox,
    repo: PathBuf,
    c: Vec<String>,
    f0: String,
}

fn shallow(depth: u32) -> Shallow {
    let sb = Sandbox::new();
    let server = sb.init("server");
    let c = (0..5)
        .map(|i| sb.commit(&server, "a", &i.to_string()))
        .collect();
    git(&server, &["checkout", "-q", "-b", "feature"]);
    let f0 = sb.commit(&server, "b", "1");
    git(&server, &["checkout", "-q", "main"]);
    let repo = sb.clone(&server, "checkout", Some(depth));
    assert_eq!(
        git(&repo, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    Shallow { sb, repo, c, f0 }
}

impl Shallow {
    fn range(&self, event: &str, payload: &Value) -> Run {
        self.sb.range(&self.repo, event, payload)
    }
}

#[test]
fn shallow_clone_fails_for_every_event_that_needs_history() {
    let s = shallow(1);
    let (c, f0) = (&s.c, &s.f0);
    assert_shallow_failure(&s.range("push", &push(&c[2], &c[4], "main")));
    assert_shallow_failure(&s.range("push", &push(ZERO, f0, "feature")));
    assert_shallow_failure(&s.range("push", &push(GONE, &c[4], "main")));
    assert_shallow_failure(&s.range("pull_request", &pull_request(&c[2], f0)));
    assert_shallow_failure(&s.range("schedule", &json!({})));
}

#[test]
fn shallow_clone_deep_enough_for_the_range_passes() {
    let s = shallow(3); // main holds c2 (the cut), c3, c4
    let (c, f0) = (&s.c, &s.f0);
    let run = s.range("push", &push(&c[2], &c[4], "main"));
    assert_range(&run, &[&format!("{}..{}", c[2], c[4])]);
    let run = s.range("push", &push(ZERO, f0, "feature"));
    assert_range(&run, &[f0, &format!("^{}", c[4])]);
    // One commit further down crosses the cut.
    assert_shallow_failure(&s.range("push", &push(&c[1], &c[4], "main")));
}

#[test]
fn shallow_clone_never_scans_a_whole_history_it_lacks() {
    let s = shallow(3);
    // The default branch's first push scans its whole history, which runs into the cut.
    assert_shallow_failure(&s.range("push", &push(ZERO, &s.c[4], "main")));
}

// ---- hooks/action-run.sh with a stand-in scanner ----

/// Runs action-run.sh; gives the run, the `$GITHUB_OUTPUT` lines and the SARIF path.
fn action_run(
    sb: &Sandbox,
    repo: &Path,
    event: &str,
    payload: &Value,
    scanner: &Path,
    env: &[(&str, &str)],
) -> (Run, Vec<String>, PathBuf) {
    let output = sb.path().join("github_output");
    let summary = sb.path().join("step_summary");
    let sarif = sb.path().join("out dir").join("report.sarif");
    fs::create_dir_all(sarif.parent().unwrap()).unwrap();
    fs::write(&output, "").unwrap();
    let mut all = vec![
        ("STRIPE_SCAN", scanner.to_str().unwrap()),
        ("SARIF_FILE", sarif.to_str().unwrap()),
        ("GITHUB_OUTPUT", output.to_str().unwrap()),
        ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ("RUNNER_TEMP", sb.path().to_str().unwrap()),
    ];
    all.extend_from_slice(env);
    let run = sb.hook("action-run.sh", repo, event, payload, &all);
    let outputs = fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (run, outputs, sarif)
}

/// A scanner that records its arguments, writes `$STUB_SARIF` to `--sarif-output` and exits `$STUB_EXIT`.
fn stub_scanner(sb: &Sandbox) -> PathBuf {
    let path = sb.path().join("stub-scanner");
    fs::write(
        &path,
        r#"#!/bin/sh
printf '%s\n' "$@" >"$STUB_ARGS"
while [ $# -gt 0 ]; do
  if [ "$1" = --sarif-output ] && [ -n "$STUB_SARIF" ]; then printf '%s' "$STUB_SARIF" >"$2"; fi
  shift
done
exit "$STUB_EXIT"
"#,
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn sarif_with(results: usize) -> String {
    let result = json!({"ruleId": "stripe-secret-key", "message": {"text": "x"}});
    json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "stripe-scan"}}, "results": vec![result; results]}]})
        .to_string()
}

#[test]
fn run_passes_inputs_and_revisions_to_history_once() {
    let b = branched();
    let stub = stub_scanner(&b.sb);
    let args = b.sb.path().join("args");
    // A file the unquoted ARGS glob would match: it must reach the scanner as written.
    fs::write(b.repo.join("x.toml"), "").unwrap();
    let sarif_text = sarif_with(2);
    let (run, outputs, sarif) = action_run(
        &b.sb,
        &b.repo,
        "push",
        &push(&b.f[0], &b.f[1], "feature"),
        &stub,
        &[
            ("STUB_ARGS", args.to_str().unwrap()),
            ("STUB_SARIF", &sarif_text),
            ("STUB_EXIT", "1"),
            ("FAIL_ON", "high"),
            ("BASELINE", "base line.json"),
            ("ARGS", " --config  *.toml\t--threads 1 "),
        ],
    );
    assert_eq!(run.code, 1, "{}", show(&run));
    let sarif = sarif.to_str().unwrap();
    assert_eq!(
        fs::read_to_string(&args)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        [
            "history",
            "--format",
            "github",
            "--sarif-output",
            sarif,
            "--fail-on",
            "high",
            "--baseline",
            "base line.json",
            "--config",
            "*.toml",
            "--threads",
            "1",
            &format!("{}..{}", b.f[0], b.f[1]),
        ]
    );
    assert_eq!(
        outputs,
        ["findings=2", format!("sarif-file={sarif}").as_str()]
    );
}

/// `verify` is opt-in: only the exact value `true` adds --verify; a value that is neither true nor
/// false stops the step rather than silently leaving verification off (or on).
#[test]
fn run_passes_verify_only_when_the_input_says_true() {
    // Off by default: a scan in CI never sends keys to Stripe unless the workflow asks.
    let text = fs::read_to_string(root().join("action.yml")).unwrap();
    let input = text.split("\n  verify:\n").nth(1).expect("verify input");
    let block: String = input
        .lines()
        .take_while(|l| l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(block.contains("\n    default: 'false'"), "{block}");
    let b = branched();
    let stub = stub_scanner(&b.sb);
    let args = b.sb.path().join("args");
    let sarif_text = sarif_with(0);
    // `Some(flag)`: the step runs the scanner, with --verify when `flag`; `None`: it refuses.
    for (verify, want) in [
        (None, Some(false)),
        (Some("false"), Some(false)),
        (Some("true"), Some(true)),
        (Some("yes"), None),
    ] {
        let _ = fs::remove_file(&args);
        let mut env = vec![
            ("STUB_ARGS", args.to_str().unwrap()),
            ("STUB_SARIF", sarif_text.as_str()),
            ("STUB_EXIT", "0"),
        ];
        if let Some(v) = verify {
            env.push(("VERIFY", v));
        }
        let (run, outputs, sarif) = action_run(&b.sb, &b.repo, "schedule", &json!({}), &stub, &env);
        let Some(flag) = want else {
            assert_eq!(run.code, 2, "{}", show(&run));
            assert!(
                run.stdout
                    .contains("::error title=stripe-scan::the verify input must be true or false"),
                "{}",
                show(&run)
            );
            assert!(!args.exists(), "the scanner ran");
            assert!(outputs.is_empty(), "{outputs:?}");
            continue;
        };
        assert_eq!(run.code, 0, "{verify:?}: {}", show(&run));
        let got = fs::read_to_string(&args).unwrap();
        let mut expected = vec![
            "history",
            "--format",
            "github",
            "--sarif-output",
            sarif.to_str().unwrap(),
        ];
        if flag {
            expected.push("--verify");
        }
        assert_eq!(got.lines().collect::<Vec<_>>(), expected, "{verify:?}");
    }
}

#[test]
fn run_on_whole_history_passes_no_revision() {
    let b = branched();
    let stub = stub_scanner(&b.sb);
    let args = b.sb.path().join("args");
    let sarif_text = sarif_with(0);
    let (run, outputs, _) = action_run(
        &b.sb,
        &b.repo,
        "schedule",
        &json!({}),
        &stub,
        &[
            ("STUB_ARGS", args.to_str().unwrap()),
            ("STUB_SARIF", &sarif_text),
            ("STUB_EXIT", "0"),
        ],
    );
    assert_eq!(run.code, 0, "{}", show(&run));
    let sarif = outputs[1].strip_prefix("sarif-file=").unwrap();
    assert_eq!(
        fs::read_to_string(&args)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        ["history", "--format", "github", "--sarif-output", sarif]
    );
    assert_eq!(outputs[0], "findings=0");
}

#[test]
fn run_on_branch_delete_writes_empty_sarif_and_passes() {
    let b = branched();
    let mut payload = push(&b.f[1], ZERO, "feature");
    payload["deleted"] = json!(true);
    let never = b.sb.path().join("no-scanner-here");
    let (run, outputs, sarif) = action_run(&b.sb, &b.repo, "push", &payload, &never, &[]);
    assert_eq!(run.code, 0, "{}", show(&run));
    assert_eq!(
        outputs,
        [
            "findings=0".to_string(),
            format!("sarif-file={}", sarif.display())
        ]
    );
    let report: Value = serde_json::from_slice(&fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(report["version"], "2.1.0");
    assert_eq!(report["runs"][0]["tool"]["driver"]["name"], "stripe-scan");
    assert_eq!(report["runs"][0]["results"], json!([]));
    let summary = fs::read_to_string(b.sb.path().join("step_summary")).unwrap();
    assert!(summary.contains("deleted"), "{summary}");
}

#[test]
fn run_on_shallow_clone_fails_closed_with_an_annotation() {
    let s = shallow(1);
    let never = s.sb.path().join("no-scanner-here");
    let payload = push(&s.c[2], &s.c[4], "main");
    let (run, outputs, sarif) = action_run(&s.sb, &s.repo, "push", &payload, &never, &[]);
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(
        run.stdout.starts_with("::error title=stripe-scan::")
            && run.stdout.contains("fetch-depth: 0"),
        "{}",
        show(&run)
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", show(&run));
    assert!(outputs.is_empty(), "{outputs:?}");
    assert!(!sarif.exists());
}

#[test]
fn run_fails_closed_when_the_scanner_errors() {
    let b = branched();
    let stub = stub_scanner(&b.sb);
    let args = b.sb.path().join("args");
    let sarif_text = sarif_with(0);
    let payload = push(&b.f[0], &b.f[1], "feature");
    // Exit 2 with a report written anyway: offering it for upload would close open alerts.
    for (exit, report) in [("2", sarif_text.as_str()), ("3", ""), ("0", "")] {
        let (run, outputs, _) = action_run(
            &b.sb,
            &b.repo,
            "push",
            &payload,
            &stub,
            &[
                ("STUB_ARGS", args.to_str().unwrap()),
                ("STUB_SARIF", report),
                ("STUB_EXIT", exit),
            ],
        );
        assert_eq!(run.code, 2, "exit {exit}: {}", show(&run));
        assert!(
            run.stdout.contains("::error title=stripe-scan::"),
            "{}",
            show(&run)
        );
        assert!(outputs.is_empty(), "exit {exit}: {outputs:?}");
    }
}

#[test]
fn run_fails_closed_when_the_scanner_is_missing() {
    let b = branched();
    let never = b.sb.path().join("no-scanner-here");
    let payload = push(&b.f[0], &b.f[1], "feature");
    let (run, outputs, _) = action_run(&b.sb, &b.repo, "push", &payload, &never, &[]);
    assert_eq!(run.code, 2, "{}", show(&run));
    assert!(outputs.is_empty(), "{outputs:?}");
}

// ---- with the real binary: needs `stripe-scan history` ----

/// Made at run time, so that no committed file holds a key.
fn live_key() -> String {
    util::key("sk_live_", 24)
}

/// Text safe to print in a failure message: the key replaced.
fn redact(text: &str, key: &str) -> String {
    text.replace(key, "<KEY>")
}

/// Runs action-run.sh with the real binary.
fn real_run(
    sb: &Sandbox,
    repo: &Path,
    event: &str,
    payload: &Value,
    env: &[(&str, &str)],
) -> (Run, Vec<String>, PathBuf) {
    action_run(sb, repo, event, payload, &util::bin(), env)
}

/// Everything the run produced holds the finding's place but never the key itself.
#[track_caller]
fn assert_reported(sb: &Sandbox, run: &Run, sarif: &Path, key: &str, path: &str, line: u32) {
    let summary = fs::read_to_string(sb.path().join("step_summary")).unwrap_or_default();
    let report = fs::read_to_string(sarif).unwrap();
    for (what, text) in [
        ("stdout", &run.stdout),
        ("stderr", &run.stderr),
        ("summary", &summary),
        ("sarif", &report),
    ] {
        assert!(
            !text.contains(key),
            "{what} prints the key: {}",
            redact(text, key)
        );
    }
    let annotation = format!("::error file={path},line={line},");
    assert!(
        run.stdout.lines().any(|l| l.starts_with(&annotation)),
        "no `{annotation}` in: {}",
        redact(&run.stdout, key)
    );
    assert!(summary.contains(path), "summary: {}", redact(&summary, key));
    let report: Value = serde_json::from_str(&report).unwrap();
    let loc = &report["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], path);
    assert_eq!(loc["region"]["startLine"], line);
}

#[test]
fn real_push_with_a_key_fails_and_reports_it() {
    let b = branched();
    let key = live_key();
    let c = b.sb.commit(
        &b.repo,
        "settings.py",
        &format!("import os\nSTRIPE = \"{key}\"\n"),
    );
    let payload = push(&b.f[1], &c, "feature");
    let (run, outputs, sarif) = real_run(&b.sb, &b.repo, "push", &payload, &[]);
    assert_eq!(run.code, 1, "{}", redact(&show(&run), &key));
    assert_reported(&b.sb, &run, &sarif, &key, "settings.py", 2);
    assert_eq!(
        outputs,
        [
            "findings=1".to_string(),
            format!("sarif-file={}", sarif.display())
        ]
    );
}

#[test]
fn real_push_does_not_report_a_key_from_before_the_range() {
    let b = branched();
    let key = live_key();
    let c1 =
        b.sb.commit(&b.repo, "settings.py", &format!("STRIPE = \"{key}\"\n"));
    let c2 = b.sb.commit(&b.repo, "other.txt", "clean\n");
    let (run, outputs, _) = real_run(&b.sb, &b.repo, "push", &push(&c1, &c2, "feature"), &[]);
    assert_eq!(run.code, 0, "{}", redact(&show(&run), &key));
    assert_eq!(outputs[0], "findings=0");
}

#[test]
fn real_pull_request_finds_a_key_past_the_thirtieth_commit() {
    let b = branched();
    let key = live_key();
    b.sb.empty_commits(&b.repo, 32);
    b.sb.commit(&b.repo, "late.env", &format!("STRIPE_SECRET_KEY={key}\n"));
    let head = b.sb.empty_commits(&b.repo, 2);
    let payload = pull_request(&b.m[1], &head);
    let (run, outputs, sarif) = real_run(&b.sb, &b.repo, "pull_request", &payload, &[]);
    assert_eq!(run.code, 1, "{}", redact(&show(&run), &key));
    assert_reported(&b.sb, &run, &sarif, &key, "late.env", 1);
    assert_eq!(outputs[0], "findings=1");
}

#[test]
fn real_findings_below_fail_on_pass_but_are_counted_and_uploaded() {
    let b = branched();
    let key = util::key("sk_test_", 24); // medium
    let c = b.sb.commit(&b.repo, "test.env", &format!("KEY={key}\n"));
    let payload = push(&b.f[1], &c, "feature");
    let (run, outputs, sarif) =
        real_run(&b.sb, &b.repo, "push", &payload, &[("FAIL_ON", "critical")]);
    assert_eq!(run.code, 0, "{}", redact(&show(&run), &key));
    assert_eq!(
        outputs,
        [
            "findings=1".to_string(),
            format!("sarif-file={}", sarif.display())
        ]
    );
}

#[test]
fn real_schedule_scans_every_branch() {
    let b = branched();
    let key = live_key();
    git(&b.repo, &["checkout", "-q", "-b", "side", &b.m[0]]);
    b.sb.commit(&b.repo, "side.py", &format!("k = '{key}'\n"));
    git(&b.repo, &["checkout", "-q", "main"]);
    let (run, outputs, _) = real_run(&b.sb, &b.repo, "schedule", &json!({}), &[]);
    assert_eq!(run.code, 1, "{}", redact(&show(&run), &key));
    assert_eq!(outputs[0], "findings=1");
}

#[test]
fn real_scanner_error_fails_the_step_and_offers_no_report() {
    let b = branched();
    let payload = push(&b.f[0], &b.f[1], "feature");
    for env in [
        [("ARGS", "--no-such-option")],
        [("BASELINE", "missing-baseline.json")],
    ] {
        let (run, outputs, _) = real_run(&b.sb, &b.repo, "push", &payload, &env);
        assert_eq!(run.code, 2, "{env:?}: {}", show(&run));
        assert!(
            run.stdout.contains("::error title=stripe-scan::"),
            "{}",
            show(&run)
        );
        assert!(outputs.is_empty(), "{env:?}: {outputs:?}");
    }
}
