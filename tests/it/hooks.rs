//! The hooks: `install-hook` into real repositories (core.hooksPath, worktrees, foreign hooks),
//! real `git commit`s blocked and passed by them, the hook failing closed without the binary, the
//! pre-push range, and the real pre-commit framework building and running this repository.
#![cfg(unix)]

use crate::staged::scan_env;
use crate::util::{
    bin, git, git_cmd, git_init, key, root, tempdir, text, work_with_origin, write, Run,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn install(dir: &Path, args: &[&str]) -> Run {
    scan_env(dir, &[&["install-hook"], args].concat(), &[])
}

/// The script install-hook writes: the source with this binary's absolute path filled in.
fn expected_hook(name: &str) -> Vec<u8> {
    let source = std::fs::read_to_string(root().join("hooks").join(name)).expect("hook source");
    let exe = std::fs::canonicalize(bin()).expect("binary path");
    let filled = format!("installed='{}'", exe.display());
    assert!(
        source.contains("\ninstalled=''\n"),
        "{name} has no installed='' line"
    );
    source
        .replacen("\ninstalled=''\n", &format!("\n{filled}\n"), 1)
        .into_bytes()
}

fn repo() -> tempfile::TempDir {
    let d = tempdir();
    git_init(d.path());
    write(d.path(), "README.md", "# demo\n");
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "init"]);
    d
}

/// `git commit` through the hooks, with this build as the stripe-scan they run.
fn commit(dir: &Path, msg: &str) -> Output {
    git_cmd(dir, &["commit", "-q", "-m", msg])
        .env("STRIPE_SCAN", bin())
        .output()
        .expect("git commit")
}

fn hook_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.retain(|n| !n.ends_with(".sample"));
    v.sort();
    v
}

#[test]
fn the_merge_hook_is_the_commit_hook_and_both_are_posix_sh() {
    let pre_commit = std::fs::read(root().join("hooks/pre-commit")).expect("hooks/pre-commit");
    let pre_merge =
        std::fs::read(root().join("hooks/pre-merge-commit")).expect("hooks/pre-merge-commit");
    assert_eq!(
        pre_commit, pre_merge,
        "install-hook writes one script under both names; keep the copies equal"
    );
    for name in ["pre-commit", "pre-merge-commit", "pre-push"] {
        let out = Command::new("sh")
            .arg("-n")
            .arg(root().join("hooks").join(name))
            .output()
            .expect("sh -n");
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
}

#[test]
fn install_hook_then_a_commit_with_a_key_is_blocked_and_a_clean_one_passes() {
    let d = repo();
    let r = install(d.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let hooks = d.path().join(".git/hooks");
    assert_eq!(hook_files(&hooks), vec!["pre-commit", "pre-merge-commit"]);
    let installed = std::fs::read(hooks.join("pre-commit")).expect("installed");
    assert_eq!(installed, expected_hook("pre-commit"));

    write(
        d.path(),
        "billing/charge.py",
        format!(
            "import stripe\nstripe.api_key = \"{}\"\n",
            key("sk_live_", 32)
        ),
    );
    git(d.path(), &["add", "-A"]);
    let out = commit(d.path(), "add billing");
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("billing/charge.py:2:19: live secret key sk_live_"),
        "names the file, line and key type:\n{t}"
    );
    assert!(t.contains("Roll the key"), "says how to fix it:\n{t}");
    assert!(
        t.contains("git restore --staged"),
        "and how to unstage it:\n{t}"
    );
    assert!(t.contains("stripe-scan: commit blocked"), "{t}");
    assert!(t.contains("--no-verify"), "{t}");
    assert_eq!(git(d.path(), &["rev-list", "--count", "HEAD"]), "1");

    write(
        d.path(),
        "billing/charge.py",
        "import os, stripe\nstripe.api_key = os.environ[\"STRIPE_SECRET_KEY\"]\n",
    );
    git(d.path(), &["add", "-A"]);
    let out = commit(d.path(), "add billing");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(git(d.path(), &["rev-list", "--count", "HEAD"]), "2");
}

#[test]
fn install_hook_is_idempotent() {
    let d = repo();
    assert_eq!(install(d.path(), &[]).code, 0);
    let r = install(d.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("already installed"), "{}", r.stderr);
    // An older stripe-scan hook (it carries the marker) is replaced without --force.
    let hook = d.path().join(".git/hooks/pre-commit");
    std::fs::write(
        &hook,
        "#!/bin/sh\n# stripe-scan-hook\nexec stripe-scan staged\n",
    )
    .expect("old hook");
    let r = install(d.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read(&hook).expect("hook"),
        expected_hook("pre-commit")
    );
    assert_eq!(
        hook_files(&d.path().join(".git/hooks")),
        vec!["pre-commit", "pre-merge-commit"]
    );
}

#[test]
fn a_foreign_hook_is_refused_without_force_and_chained_with_it() {
    let d = repo();
    let hooks = d.path().join(".git/hooks");
    let foreign = "#!/bin/sh\necho foreign ran >> \"$(git rev-parse --git-dir)/foreign.log\"\n";
    write(&hooks, "pre-commit", foreign);
    let mut perms = std::fs::metadata(hooks.join("pre-commit"))
        .expect("meta")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(hooks.join("pre-commit"), perms).expect("chmod");

    let r = install(d.path(), &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("pre-commit exists and was not written by stripe-scan")
            && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).expect("kept"),
        foreign
    );
    assert!(
        !hooks.join("pre-merge-commit").exists(),
        "a refusal writes nothing"
    );

    let r = install(d.path(), &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.local")).expect("moved"),
        foreign
    );
    // The foreign hook still runs, after stripe-scan's check passes, and not when it blocks.
    write(d.path(), "ok.txt", "fine\n");
    git(d.path(), &["add", "-A"]);
    let out = commit(d.path(), "ok");
    assert!(out.status.success(), "{}", text(&out));
    let log = d.path().join(".git/foreign.log");
    assert_eq!(
        std::fs::read_to_string(&log).expect("foreign hook ran"),
        "foreign ran\n"
    );
    write(d.path(), "bad.txt", format!("{}\n", key("sk_live_", 30)));
    git(d.path(), &["add", "-A"]);
    assert!(!commit(d.path(), "bad").status.success());
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "foreign ran\n");
}

#[test]
fn core_hooks_path_is_honoured_relative_to_the_top_of_the_work_tree() {
    let d = repo();
    git(d.path(), &["config", "core.hooksPath", "tools/githooks"]);
    std::fs::create_dir_all(d.path().join("src/deep")).expect("mkdir");
    let r = install(&d.path().join("src/deep"), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        hook_files(&d.path().join("tools/githooks")),
        vec!["pre-commit", "pre-merge-commit"]
    );
    assert!(!d.path().join(".git/hooks/pre-commit").exists());
    write(
        d.path(),
        "src/deep/k.env",
        format!("STRIPE={}\n", key("rk_live_", 30)),
    );
    git(d.path(), &["add", "src"]);
    let out = commit(d.path(), "k");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("src/deep/k.env:1:8: live restricted key"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_linked_worktree_shares_the_hooks_and_scans_its_own_index() {
    let d = repo();
    let wt = d.path().join("wt");
    git(
        d.path(),
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            wt.to_str().expect("utf-8"),
        ],
    );
    let r = install(&wt, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        hook_files(&d.path().join(".git/hooks")),
        vec!["pre-commit", "pre-merge-commit"]
    );
    // The main checkout's index holds a key; the worktree's does not, then does.
    write(
        d.path(),
        "main-only.txt",
        format!("{}\n", key("sk_live_", 30)),
    );
    git(d.path(), &["add", "main-only.txt"]);
    write(&wt, "side.txt", "clean\n");
    git(&wt, &["add", "side.txt"]);
    let out = commit(&wt, "side");
    assert!(
        out.status.success(),
        "the worktree's own index is clean:\n{}",
        text(&out)
    );
    write(&wt, "side.txt", format!("clean\n{}\n", key("whsec_", 32)));
    git(&wt, &["add", "side.txt"]);
    let out = commit(&wt, "side 2");
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("side.txt:2:1: webhook signing secret") && !t.contains("main-only"),
        "{t}"
    );
    let out = commit(d.path(), "main");
    assert!(
        !out.status.success(),
        "and the main checkout's commit is checked too"
    );
}

#[test]
fn the_hook_fails_closed_when_stripe_scan_is_missing() {
    let d = repo();
    std::fs::copy(
        root().join("hooks/pre-commit"),
        d.path().join(".git/hooks/pre-commit"),
    )
    .expect("copy hook");
    // PATH holds git and nothing else: no stripe-scan.
    let only_git = tempdir();
    let git_path = which("git");
    std::os::unix::fs::symlink(&git_path, only_git.path().join("git")).expect("link git");
    write(d.path(), "x.txt", "x\n");
    git(d.path(), &["add", "-A"]);
    let out = git_cmd(d.path(), &["commit", "-q", "-m", "x"])
        .env("PATH", only_git.path())
        .env_remove("STRIPE_SCAN")
        .output()
        .expect("commit");
    assert!(!out.status.success(), "must fail closed");
    let t = text(&out);
    let lines: Vec<&str> = t.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line:\n{t}");
    assert!(
        lines[0].contains("not installed or not on PATH") && lines[0].contains("cargo install"),
        "{t}"
    );
    assert!(lines[0].contains("git commit --no-verify"), "{t}");
    let out = git_cmd(d.path(), &["commit", "-q", "--no-verify", "-m", "x"])
        .env("PATH", only_git.path())
        .output()
        .expect("commit");
    assert!(
        out.status.success(),
        "--no-verify is the deliberate way out: {}",
        text(&out)
    );
}

#[test]
fn the_hook_blocks_when_the_scan_itself_fails() {
    let d = repo();
    assert_eq!(install(d.path(), &[]).code, 0);
    write(d.path(), ".stripe-scan.toml", "fail_on = \"loud\"\n");
    write(d.path(), "x.txt", "x\n");
    git(d.path(), &["add", "x.txt"]);
    let out = commit(d.path(), "x");
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains(".stripe-scan.toml"),
        "stripe-scan names the bad file:\n{t}"
    );
    assert!(
        t.contains("commit blocked: the scan failed (exit status 2"),
        "{t}"
    );
    assert!(t.contains("git commit --no-verify"), "{t}");
}

fn which(name: &str) -> PathBuf {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .expect("sh");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A repository with three commits on main, pushed to a bare `origin` up to the first.
fn pushed_repo() -> (tempfile::TempDir, Vec<String>) {
    let d = tempdir();
    let work = work_with_origin(d.path());
    let mut ids = Vec::new();
    for i in 0..3 {
        write(&work, &format!("f{i}.txt"), format!("{i}\n"));
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", &format!("c{i}")]);
        ids.push(git(&work, &["rev-parse", "HEAD"]));
        if i == 0 {
            git(&work, &["push", "-q", "origin", "main"]);
        }
    }
    (d, ids)
}

fn pre_push_revs(dir: &Path, stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(["pre-push", "--print-revs", "origin", "../origin.git"])
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("PRE_COMMIT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn pre_push_scans_what_the_remote_lacks() {
    let (d, ids) = pushed_repo();
    let work = d.path().join("work");
    let zero = "0".repeat(40);
    // An update: the new tip minus the old remote tip.
    let r = pre_push_revs(
        &work,
        &format!("refs/heads/main {} refs/heads/main {}\n", ids[2], ids[0]),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, format!("{}\n^{}\n", ids[2], ids[0]));
    // A new branch: what no ref of that remote has.
    let r = pre_push_revs(
        &work,
        &format!("refs/heads/main {} refs/heads/new {zero}\n", ids[1]),
        &[],
    );
    let origin_main = git(&work, &["rev-parse", "refs/remotes/origin/main"]);
    assert_eq!(r.stdout, format!("{}\n^{origin_main}\n", ids[1]));
    // A force push over a commit this clone never had: same as a new branch.
    let r = pre_push_revs(
        &work,
        &format!(
            "refs/heads/main {} refs/heads/main {}\n",
            ids[2], "5e1f0c4a7d9b2e3f6a8c1d4b7e0f2a5c8d1e4b70"
        ),
        &[],
    );
    assert_eq!(r.stdout, format!("{}\n^{origin_main}\n", ids[2]));
    // A deletion sends nothing.
    let r = pre_push_revs(
        &work,
        &format!("(delete) {zero} refs/heads/old {}\n", ids[0]),
        &[],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    // Under the pre-commit framework the range comes from the environment.
    let r = pre_push_revs(
        &work,
        "",
        &[
            ("PRE_COMMIT", "1"),
            ("PRE_COMMIT_FROM_REF", &ids[0]),
            ("PRE_COMMIT_TO_REF", &ids[2]),
        ],
    );
    assert_eq!(r.stdout, format!("{}\n^{}\n", ids[2], ids[0]));
    let r = pre_push_revs(
        &work,
        "",
        &[
            ("PRE_COMMIT", "1"),
            ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
        ],
    );
    assert_eq!(
        r.stdout,
        format!("{}\n", ids[2]),
        "a push with the root commit: all of it"
    );
    // Garbage on stdin is an error, not a clean pass.
    let r = pre_push_revs(&work, "what is this\n", &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
}

#[test]
fn pre_push_hook_stops_a_key_committed_with_no_verify() {
    let (d, _) = pushed_repo();
    let work = d.path().join("work");
    assert_eq!(install(&work, &["--pre-push"]).code, 0);
    assert!(work.join(".git/hooks/pre-push").exists());
    let push = |dir: &Path| {
        git_cmd(dir, &["push", "-q", "origin", "main"])
            .env("STRIPE_SCAN", bin())
            .output()
            .expect("push")
    };
    let out = push(&work);
    assert!(out.status.success(), "clean commits push: {}", text(&out));
    write(&work, "leak.py", format!("k = '{}'\n", key("sk_live_", 30)));
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "--no-verify", "-m", "oops"]);
    let out = push(&work);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("leak.py") && t.contains("live secret key") && t.contains("push blocked"),
        "{t}"
    );
}

/// The pre-commit framework, or None (with a note) when it is not installed outside CI.
fn pre_commit() -> Option<PathBuf> {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(which("pre-commit"));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the pre-commit framework is required in CI: python3 -m pip install pre-commit");
    }
    eprintln!("note: pre-commit is not installed (python3 -m pip install pre-commit); the framework test did not run");
    None
}

/// `pre-commit try-repo` builds this repository's HEAD (plus uncommitted changes to tracked
/// files) with `cargo install`, exactly as a user's `repo:` entry would.
fn try_repo(dir: &Path, args: &[&str]) -> Output {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    Command::new("pre-commit")
        .args([
            "try-repo",
            root().to_str().expect("utf-8 root"),
            "stripe-scan",
            "--color",
            "never",
        ])
        .args(args)
        .current_dir(dir)
        // Reused between runs: the first build takes minutes, later ones only what changed.
        .env("PRE_COMMIT_HOME", cache.join("pre-commit-home"))
        .env("CARGO_TARGET_DIR", crate::util::release_target_dir())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("pre-commit try-repo")
}

#[test]
fn the_pre_commit_framework_runs_the_hook_on_all_files_and_on_named_files() {
    if pre_commit().is_none() {
        return;
    }
    let out = Command::new("pre-commit")
        .args(["validate-manifest", ".pre-commit-hooks.yaml"])
        .current_dir(root())
        .output()
        .expect("validate-manifest");
    assert!(out.status.success(), "{}", text(&out));

    let d = repo();
    let k = key("sk_live_", 32);
    write(
        d.path(),
        "config/prod.env",
        format!("APP=1\nSTRIPE_SECRET_KEY={k}\n"),
    );
    write(d.path(), "clean.txt", "nothing here\n");
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "committed long ago"]);

    let out = try_repo(d.path(), &["--all-files"]);
    let t = text(&out);
    assert!(
        !out.status.success(),
        "--all-files must fail on the committed key:\n{t}"
    );
    assert!(
        t.contains("config/prod.env:2:19: live secret key"),
        "names the key:\n{t}"
    );
    assert!(!t.contains("0 commits"), "{t}");

    let out = try_repo(d.path(), &["--files", "config/prod.env"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("config/prod.env:2:19: live secret key"), "{t}");

    let out = try_repo(d.path(), &["--files", "clean.txt"]);
    assert!(out.status.success(), "{}", text(&out));
}

/// The framework inside real commits: its hook passes the staged file names, git passes
/// GIT_INDEX_FILE, and only what the commit adds blocks. The hook is declared `repo: local` with
/// this build as its entry, so this checks the framework's calling convention without a rebuild
/// (the manifest itself is what `try-repo` above builds).
#[test]
fn the_pre_commit_framework_in_a_commit_blocks_only_added_keys() {
    if pre_commit().is_none() {
        return;
    }
    let d = repo();
    let old = key("sk_live_", 30);
    write(d.path(), "legacy.py", format!("k = '{old}'\n"));
    let config = format!(
        "repos:\n- repo: local\n  hooks:\n  - id: stripe-scan\n    name: stripe-scan\n    entry: {} staged\n    language: system\n    require_serial: true\n    stages: [pre-commit, pre-merge-commit]\n",
        bin().display()
    );
    write(d.path(), ".pre-commit-config.yaml", config);
    git(d.path(), &["add", "-A"]);
    git(
        d.path(),
        &["commit", "-q", "--no-verify", "-m", "legacy key and config"],
    );
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-home");
    let framework = |args: &[&str]| {
        let mut c = git_cmd(d.path(), args);
        c.env("PRE_COMMIT_HOME", &cache);
        c.output().expect("run")
    };
    let out = Command::new("pre-commit")
        .args(["install", "--hook-type", "pre-commit"])
        .current_dir(d.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("PRE_COMMIT_HOME", &cache)
        .output()
        .expect("pre-commit install");
    assert!(out.status.success(), "{}", text(&out));

    // An unrelated change to the file with the old key passes.
    write(d.path(), "legacy.py", format!("k = '{old}'\nx = 1\n"));
    git(d.path(), &["add", "legacy.py"]);
    let out = framework(&["commit", "-m", "edit"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("stripe-scan") && t.contains("Passed"),
        "the hook ran:\n{t}"
    );
    // A new key in it, committed with -a, is blocked and named.
    write(
        d.path(),
        "legacy.py",
        format!("k = '{old}'\nx = 1\nnew = '{}'\n", key("rk_live_", 30)),
    );
    let out = framework(&["commit", "-a", "-m", "new key"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("legacy.py:3:8: live restricted key"), "{t}");
    assert!(
        !t.contains("legacy.py:1:"),
        "the old key is not re-reported:\n{t}"
    );
}
