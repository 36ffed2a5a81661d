//! How a repository is treated: never written, opened as git opens it from its environment,
//! every worktree's HEAD a ref, `safe.directory` from git's command line, honest error counts,
//! messages scanned, and `still_in_head` unknown when HEAD cannot be read. Real repositories made
//! by real git, scanned by the real binary.

use crate::util::{
    bin, commit, git, git_cmd, git_init, key, repo, run, run_env, tempdir, work_with_origin, write,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every file, symlink and directory under `root` with its bytes (a symlink: its target), so
/// that any write, creation or deletion shows as a difference.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path.strip_prefix(root).expect("under root").to_path_buf();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                stack.push(path);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("read_link");
                out.insert(rel, target.as_os_str().as_encoded_bytes().to_vec());
            } else {
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

fn changed(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = before
        .iter()
        .filter(|(p, b)| after.get(*p) != Some(b))
        .map(|(p, _)| p.clone())
        .collect();
    paths.extend(after.keys().filter(|p| !before.contains_key(*p)).cloned());
    paths
}

/// A repository with a key in history (removed since), a key staged, a key only in the work
/// tree, and a bare `origin` that has the first commit: every command has something to find.
fn busy_repo() -> (tempfile::TempDir, PathBuf) {
    let d = tempdir();
    let work = work_with_origin(d.path());
    commit(&work, &[("README.md", "hello\n")], "start");
    git(&work, &["push", "-q", "origin", "main"]);
    commit(
        &work,
        &[("old.env", &format!("KEY={}\n", key("sk_live_", 24)))],
        "add",
    );
    commit(&work, &[("old.env", "KEY=\n")], "remove");
    write(&work, "staged.txt", format!("{}\n", key("rk_live_", 24)));
    git(&work, &["add", "staged.txt"]);
    write(&work, "loose.txt", format!("{}\n", key("sk_test_", 24)));
    // Make the index older than the files, so that anything refreshing it would rewrite it.
    let stamp = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let index = std::fs::File::options()
        .write(true)
        .open(work.join(".git/index"))
        .expect("open index");
    index.set_modified(stamp).expect("set mtime");
    (d, work)
}

fn pre_push(work: &Path) -> crate::util::Run {
    let main = git(work, &["rev-parse", "HEAD"]);
    let remote = git(work, &["rev-parse", "origin/main"]);
    let mut child = Command::new(bin())
        .args(["pre-push", "origin", "../origin.git"])
        .current_dir(work)
        .env_remove("PRE_COMMIT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("refs/heads/main {main} refs/heads/main {remote}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    crate::util::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn no_command_writes_into_the_repository_it_scans() {
    let (d, work) = busy_repo();
    assert!(!work.join(".git/logs/refs/stash").exists());
    let before = snapshot(d.path());
    let runs: Vec<(&str, crate::util::Run)> = vec![
        ("history", run(&work, &["history"])),
        ("staged", run(&work, &["staged"])),
        (
            "staged through git",
            run_env(&work, &["staged"], &[("STRIPE_SCAN_INDEX_READER", "git")]),
        ),
        ("scan", run(&work, &["scan", "."])),
        ("pre-push", pre_push(&work)),
    ];
    for (name, r) in &runs {
        assert_eq!(r.code, 1, "{name} finds its key: {}", r.stderr);
    }
    let after = snapshot(d.path());
    assert_eq!(
        changed(&before, &after),
        Vec::<PathBuf>::new(),
        "files written by a scan"
    );
}

/// Runs the binary on a copy nobody may write: as another user when this is root (root writes
/// through any mode), with git's command-line `safe.directory` vouching for the copy.
fn run_read_only(dir: &Path, args: &[&str], home: &Path) -> crate::util::Run {
    // Without setpriv (util-linux), root runs it as itself: the findings are still compared,
    // and `no_command_writes_into_the_repository_it_scans` checks the writes.
    let as_nobody = is_root()
        && Command::new("setpriv")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    let mut cmd = if as_nobody {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin());
        c
    } else {
        Command::new(bin())
    };
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("HOME", home)
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*");
    let out = cmd.output().expect("run read-only");
    crate::util::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn chmod(dir: &Path, mode: &str) {
    let ok = Command::new("chmod")
        .args(["-R", mode])
        .arg(dir)
        .status()
        .expect("chmod")
        .success();
    assert!(ok);
}

#[test]
fn a_read_only_copy_gives_the_same_findings() {
    let (d, work) = busy_repo();
    let copy = d.path().join("copy");
    let ok = Command::new("cp")
        .arg("-a")
        .arg(&work)
        .arg(&copy)
        .status()
        .expect("cp")
        .success();
    assert!(ok);
    // Another user must reach the copy; nobody may write it.
    chmod(d.path(), "a+rX");
    chmod(&copy, "a-w");
    for args in [
        &["history", "--format", "json"][..],
        &["staged", "--format", "json"],
        &["scan", ".", "--format", "json"],
    ] {
        let want = run(&work, args);
        let got = run_read_only(&copy, args, d.path());
        assert_eq!(got.code, want.code, "{args:?}: {}", got.stderr);
        assert_eq!(want.code, 1, "{args:?}: {}", want.stderr);
        assert_eq!(got.findings(), want.findings(), "{args:?}: {}", got.stderr);
        assert_eq!(got.json()["summary"]["errors"], 0, "{}", got.stderr);
    }
    chmod(&copy, "u+w");
}

/// Commits `k.env` holding a fresh key; returns the commit id.
fn commit_key(dir: &Path, message: &str) -> String {
    commit(
        dir,
        &[("k.env", &format!("K={}\n", key("sk_live_", 24)))],
        message,
    )
}

/// `main` with one commit, and a linked worktree `wt` on a detached HEAD that alone reaches a
/// commit holding a key. Returns both directories and that commit.
fn worktree_with_key(d: &Path) -> (PathBuf, PathBuf, String) {
    let main = d.join("main");
    std::fs::create_dir_all(&main).expect("mkdir");
    git_init(&main);
    commit(&main, &[("README.md", "hello\n")], "start");
    git(&main, &["worktree", "add", "-q", "--detach", "../wt"]);
    let wt = d.join("wt");
    let id = commit_key(&wt, "only here");
    (main, wt, id)
}

fn findings_of(r: &crate::util::Run) -> Vec<(String, String)> {
    r.findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["commit"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn git_dir_and_git_index_file_are_honoured() {
    let t = repo();
    let d = t.path();
    commit(d, &[("README.md", "hello\n")], "start");
    let id = commit_key(d, "key");
    // Run from outside the repository, pointed at it only by the environment.
    let elsewhere = tempdir();
    let git_dir = d.join(".git");
    let env = [
        ("GIT_DIR", git_dir.to_str().expect("utf-8")),
        ("GIT_WORK_TREE", d.to_str().expect("utf-8")),
    ];
    let r = run_env(elsewhere.path(), &["history", "--format", "json"], &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings_of(&r), vec![("k.env".to_string(), id)]);

    // A key staged only in another index file.
    write(d, "other.txt", format!("{}\n", key("rk_live_", 24)));
    let alt = elsewhere.path().join("alt-index");
    let ok = git_cmd(d, &["add", "other.txt"])
        .env("GIT_INDEX_FILE", &alt)
        .status()
        .expect("git add")
        .success();
    assert!(ok);
    let r = run(d, &["staged", "--format", "json"]);
    assert_eq!(
        r.code, 0,
        "the default index has nothing staged: {}",
        r.stderr
    );
    let r = run_env(
        d,
        &["staged", "--format", "json"],
        &[("GIT_INDEX_FILE", alt.to_str().expect("utf-8"))],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.findings()[0]["path"], "other.txt");
}

#[test]
fn objects_in_git_object_directory_and_its_alternates_are_read() {
    // What git does for a pre-receive hook: new objects in a directory of their own, the
    // repository's objects named as an alternate. Ours are packed, so both readers are used.
    let t = repo();
    let d = t.path();
    commit(d, &[("README.md", "hello\n")], "start");
    git(d, &["gc", "-q"]);
    let quarantine = tempdir();
    let q = quarantine.path().join("objects");
    std::fs::create_dir_all(&q).expect("mkdir");
    let objects = d.join(".git/objects");
    let env = [
        ("GIT_OBJECT_DIRECTORY", q.to_str().expect("utf-8")),
        (
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            objects.to_str().expect("utf-8"),
        ),
    ];
    write(d, "k.env", format!("K={}\n", key("sk_live_", 24)));
    for args in [&["add", "k.env"][..], &["commit", "-q", "-m", "key"]] {
        let mut cmd = git_cmd(d, args);
        cmd.envs(env);
        assert!(cmd.status().expect("git").success());
    }
    let id = git(d, &["rev-parse", "HEAD"]);
    // Without the environment the new commit is nowhere to be found.
    let r = run(d, &["history", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run_env(d, &["history", "--format", "json"], &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings_of(&r), vec![("k.env".to_string(), id)]);
    assert_eq!(r.json()["summary"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn alternates_are_followed_through_every_level() {
    // c borrows from b, which borrows from a: the key's objects exist only in a (packed).
    let d = tempdir();
    let a = d.path().join("a");
    std::fs::create_dir_all(&a).expect("mkdir");
    git_init(&a);
    let id = commit_key(&a, "key");
    commit(&a, &[("k.env", "K=\n")], "remove");
    git(&a, &["gc", "-q"]);
    git(d.path(), &["clone", "-q", "--shared", "a", "b"]);
    git(d.path(), &["clone", "-q", "--shared", "b", "c"]);
    let c = d.path().join("c");
    let alternates =
        std::fs::read_to_string(c.join(".git/objects/info/alternates")).expect("c has alternates");
    assert!(alternates.contains("/b/"), "{alternates}");
    let r = run(&c, &["history", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings_of(&r), vec![("k.env".to_string(), id)]);
    assert_eq!(r.json()["summary"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn a_commit_only_a_linked_worktrees_detached_head_reaches_is_scanned() {
    let d = tempdir();
    let (main, wt, id) = worktree_with_key(d.path());
    git(
        &main,
        &["worktree", "add", "-q", "--detach", "../other", "HEAD"],
    );
    assert!(
        git(&main, &["log", "--all", "--format=%H"]).contains(&id),
        "git log --all sees it"
    );
    for dir in [&main, &d.path().join("other"), &wt] {
        let r = run(dir, &["history", "--format", "json"]);
        assert_eq!(r.code, 1, "from {}: {}", dir.display(), r.stderr);
        assert_eq!(findings_of(&r), vec![("k.env".to_string(), id.clone())]);
    }
}

#[test]
fn safe_directory_from_gits_command_line_is_honoured() {
    if !is_root() {
        // Only root can hand a repository to another owner, which is what this is about.
        eprintln!("skipped: needs root to chown the repository to another user");
        return;
    }
    let t = repo();
    let d = t.path();
    commit_key(d, "key");
    let ok = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(d)
        .status()
        .expect("chown")
        .success();
    assert!(ok);
    let r = run(d, &["history"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("dubious ownership"), "{}", r.stderr);
    assert!(r.stderr.contains("safe.directory"), "{}", r.stderr);

    let path = std::fs::canonicalize(d).expect("canonical");
    let path = path.to_str().expect("utf-8");
    // GIT_CONFIG_COUNT, as a user (or a CI runner) sets it.
    let r = run_env(
        d,
        &["history", "--format", "json"],
        &[
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "safe.directory"),
            ("GIT_CONFIG_VALUE_0", path),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    // A value for another directory vouches for nothing.
    let r = run_env(
        d,
        &["staged"],
        &[
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "safe.directory"),
            ("GIT_CONFIG_VALUE_0", "/somewhere/else"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    // `git -c safe.directory=…`, which git hands to what it runs (here an alias, as to a hook).
    let alias = format!("alias.leaks=!{} history --format json", bin().display());
    let out = git_cmd(
        d,
        &[
            "-c",
            &format!("safe.directory={path}"),
            "-c",
            &alias,
            "leaks",
        ],
    )
    .output()
    .expect("git");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["findings"][0]["path"], "k.env");
}

#[test]
fn every_missing_object_is_counted() {
    let t = repo();
    let d = t.path();
    let files: Vec<(String, String)> = (0..30)
        .map(|i| (format!("f{i:02}.txt"), format!("file {i}\n")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    commit(d, &refs, "thirty files");
    for (path, _) in &files {
        let id = git(d, &["rev-parse", &format!("HEAD:{path}")]);
        std::fs::remove_file(d.join(".git/objects").join(&id[..2]).join(&id[2..]))
            .expect("remove blob");
    }
    let r = run(d, &["history", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["errors"], 30, "{}", r.stderr);
    assert!(r.stderr.contains("10 more objects"), "{}", r.stderr);
    let r = run(d, &["history"]);
    assert!(r.stderr.contains("30 errors"), "{}", r.stderr);
}

#[test]
fn keys_in_commit_and_tag_messages_are_found_by_default() {
    let t = repo();
    let d = t.path();
    commit(d, &[("README.md", "hello\n")], "start");
    let k = key("sk_live_", 24);
    let id = commit(d, &[], &format!("debug\n\nused {k} here"));
    let tk = key("rk_live_", 24);
    git(d, &["tag", "-a", "v1", "-m", &format!("release {tk}")]);
    let r = run(d, &["history", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let by_place = |place: &str| {
        findings
            .iter()
            .find(|f| f["place"] == place)
            .unwrap_or_else(|| panic!("no {place} finding: {findings:#?}"))
    };
    let c = by_place("commit_message");
    assert_eq!(c["path"], "");
    assert_eq!(c["commit"], id.as_str());
    assert_eq!(
        (c["line"].as_u64(), c["column"].as_u64()),
        (Some(3), Some(6))
    );
    let steps = c["remediation"].to_string();
    assert!(
        steps.contains("only rewriting history removes it"),
        "{steps}"
    );
    let tag = by_place("tag_message");
    assert_eq!(tag["path"], "");
    assert_eq!(tag["tag"], "v1");
    assert_eq!(tag["commit"], id.as_str());
    assert!(!r.stdout.contains(&k) && !r.stdout.contains(&tk));

    let text = run(d, &["history"]);
    assert!(
        text.stdout
            .contains(&format!("message of commit {}:3:6", &id[..12])),
        "{}",
        text.stdout
    );
    let r = run(d, &["history", "--no-messages", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.findings().is_empty());
}

#[test]
fn still_in_head_is_null_when_head_cannot_be_read() {
    let t = repo();
    let d = t.path();
    commit_key(d, "key");
    commit(d, &[("k.env", "K=\n"), ("sub/x.txt", "x\n")], "remove");
    let tree = git(d, &["rev-parse", "HEAD^{tree}"]);
    std::fs::remove_file(d.join(".git/objects").join(&tree[..2]).join(&tree[2..]))
        .expect("remove tree");
    let r = run(d, &["history", "--format", "json"]);
    assert_eq!(r.code, 1, "findings win over errors: {}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["still_in_head"], Value::Null);
    let text = run(d, &["history"]);
    assert!(
        text.stdout
            .contains("unknown whether HEAD still holds it (HEAD could not be read)"),
        "{}",
        text.stdout
    );
    // A readable HEAD says yes or no.
    let t = repo();
    let d = t.path();
    commit_key(d, "key");
    let r = run(d, &["history", "--format", "json"]);
    assert_eq!(r.findings()[0]["still_in_head"], true);
}

#[test]
fn git_common_dir_joins_a_worktrees_own_directory_to_the_shared_one() {
    // A linked worktree's git directory without its `commondir` file: only GIT_COMMON_DIR says
    // where the objects and refs are.
    let d = tempdir();
    let (main, wt, id) = worktree_with_key(d.path());
    let own = d.path().join("own-gitdir");
    std::fs::create_dir_all(&own).expect("mkdir");
    for name in ["HEAD", "index"] {
        std::fs::copy(main.join(".git/worktrees/wt").join(name), own.join(name)).expect("copy");
    }
    let common = main.join(".git");
    let env = [
        ("GIT_DIR", own.to_str().expect("utf-8")),
        ("GIT_COMMON_DIR", common.to_str().expect("utf-8")),
        ("GIT_WORK_TREE", wt.to_str().expect("utf-8")),
    ];
    let r = run_env(&wt, &["history", "--format", "json"], &env);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings_of(&r), vec![("k.env".to_string(), id)]);
    assert_eq!(r.json()["summary"]["errors"], 0, "{}", r.stderr);
}
