//! `stripe-scan staged`: what the next commit contains, read from the index git uses for that
//! commit, reporting keys on the lines it adds. Every repository is made by the real git; commits
//! that git makes with a temporary index (`commit -a`, `commit -- path`, merges) run the real hook.

use crate::util::{self, bin, git, git_cmd, git_init, key, tempdir, write, Run};
use std::path::Path;

/// stripe-scan with git's user and system config out of the way, as `util::git` runs git.
pub fn scan_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec![
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ];
    all.extend_from_slice(env);
    util::run_env(dir, args, &all)
}

fn staged(dir: &Path) -> Run {
    scan_env(dir, &["staged", "--format", "json"], &[])
}

fn staged_with(dir: &Path, reader: &str) -> Run {
    scan_env(
        dir,
        &["staged", "--format", "json"],
        &[("STRIPE_SCAN_INDEX_READER", reader)],
    )
}

/// (path, line) of every finding, sorted.
fn places(r: &Run) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = r
        .findings()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

fn at(path: &str, line: u64) -> (String, u64) {
    (path.to_string(), line)
}

/// Asserts the scan's exit code and findings, with both ways of reading the index.
fn expect(dir: &Path, code: i32, want: &[(String, u64)]) {
    for reader in ["native", "git"] {
        let r = staged_with(dir, reader);
        assert_eq!(
            r.code, code,
            "reader {reader}: exit code; stderr:\n{}",
            r.stderr
        );
        assert_eq!(places(&r), want, "reader {reader}; stderr:\n{}", r.stderr);
    }
}

fn lines(n: usize, tag: &str) -> String {
    (1..=n).map(|i| format!("{tag} line {i}\n")).collect()
}

/// A repository with one commit holding `files`.
fn repo_with(files: &[(&str, String)]) -> tempfile::TempDir {
    let d = tempdir();
    git_init(d.path());
    for (p, text) in files {
        write(d.path(), p, text);
    }
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "base"]);
    d
}

/// A commit through the installed hook, running this build of stripe-scan.
fn commit(dir: &Path, args: &[&str]) -> (bool, String) {
    crate::util::hook_commit(dir, &[&["-m", "change"], args].concat())
}

fn install_hooks(dir: &Path) {
    let r = scan_env(dir, &["install-hook"], &[]);
    assert_eq!(r.code, 0, "install-hook: {}", r.stderr);
}

#[test]
fn first_commit_without_head_reports_every_staged_key() {
    let d = tempdir();
    git_init(d.path());
    let k = key("sk_live_", 32);
    write(
        d.path(),
        "app/config.py",
        format!("import os\nSTRIPE = \"{k}\"\n"),
    );
    write(d.path(), "README.md", "hello\n");
    git(d.path(), &["add", "-A"]);
    expect(d.path(), 1, &[at("app/config.py", 2)]);
    let r = staged(d.path());
    let f = r.findings();
    assert_eq!(f[0]["column"], 11);
    assert_eq!(f[0]["kind"], "secret_key");
    assert_eq!(
        r.json()["summary"]["files"],
        2,
        "both staged blobs are scanned"
    );
}

#[test]
fn nothing_staged_and_no_index_yet_are_clean() {
    let d = tempdir();
    git_init(d.path());
    expect(d.path(), 0, &[]);
    let d = repo_with(&[("a.txt", lines(3, "a"))]);
    expect(d.path(), 0, &[]);
    write(
        d.path(),
        "a.txt",
        format!("{}KEY={}\n", lines(3, "a"), key("sk_live_", 30)),
    );
    // In the working tree only: not staged, not in the next commit.
    expect(d.path(), 0, &[]);
}

#[test]
fn a_key_already_in_head_is_not_reported_again_but_a_new_one_in_the_same_file_is() {
    let old = key("rk_live_", 28);
    let base = format!(
        "{}old = \"{old}\"\n{}",
        lines(5, "top"),
        lines(20, "bottom")
    );
    let d = repo_with(&[("svc/settings.py", base.clone())]);
    let new = key("sk_live_", 28);
    // A new key near the top and an edit near the bottom; the old key's line is untouched.
    let text = base
        .replacen("top line 2\n", &format!("top line 2\nnew = \"{new}\"\n"), 1)
        .replacen("bottom line 19\n", "bottom line 19 edited\n", 1);
    write(d.path(), "svc/settings.py", &text);
    git(d.path(), &["add", "svc/settings.py"]);
    expect(d.path(), 1, &[at("svc/settings.py", 3)]);
    let r = staged(d.path());
    assert_eq!(
        r.findings()[0]["kind"],
        "secret_key",
        "the new key, not the old restricted key"
    );
}

#[test]
fn a_moved_or_duplicated_line_with_an_old_key_counts_as_added() {
    let k = key("sk_live_", 30);
    let base = format!("k = \"{k}\"\n{}", lines(10, "x"));
    let d = repo_with(&[("m.py", base.clone())]);
    // Duplicated at the end: the copy is on an added line.
    write(d.path(), "m.py", format!("{base}again = \"{k}\"\n"));
    git(d.path(), &["add", "m.py"]);
    expect(d.path(), 1, &[at("m.py", 12)]);
}

#[test]
fn commit_all_scans_the_temporary_index_git_builds() {
    let d = repo_with(&[("a.py", lines(4, "a"))]);
    install_hooks(d.path());
    // Changed in the working tree only: `.git/index` has nothing new.
    write(
        d.path(),
        "a.py",
        format!("{}token = '{}'\n", lines(4, "a"), key("sk_live_", 30)),
    );
    expect(d.path(), 0, &[]);
    let (ok, out) = commit(d.path(), &["-a"]);
    assert!(!ok, "commit -a must be blocked:\n{out}");
    assert!(out.contains("a.py:5:10: live secret key"), "{out}");
    assert!(out.contains("commit blocked"), "{out}");
}

#[test]
fn commit_of_named_paths_scans_only_what_that_commit_takes() {
    let d = repo_with(&[("a.py", lines(3, "a")), ("b.py", lines(3, "b"))]);
    install_hooks(d.path());
    // A key staged in a.py that this commit leaves out...
    write(
        d.path(),
        "a.py",
        format!("{}k = '{}'\n", lines(3, "a"), key("sk_live_", 30)),
    );
    git(d.path(), &["add", "a.py"]);
    write(d.path(), "b.py", format!("{}clean\n", lines(3, "b")));
    let (ok, out) = commit(d.path(), &["--", "b.py"]);
    assert!(ok, "`commit -- b.py` does not contain a.py's key:\n{out}");
    // ...and an unstaged key that `commit -- path` takes from the working tree.
    write(
        d.path(),
        "b.py",
        format!("{}w = '{}'\n", lines(3, "b"), key("whsec_", 32)),
    );
    let (ok, out) = commit(d.path(), &["--", "b.py"]);
    assert!(!ok, "commit -- b.py takes the working-tree key:\n{out}");
    assert!(out.contains("b.py:4:6: webhook signing secret"), "{out}");
    assert!(!out.contains("a.py"), "a.py is not in this commit:\n{out}");
}

#[test]
fn partial_staging_with_add_p_scans_only_the_staged_hunk() {
    let base = lines(30, "l");
    let d = repo_with(&[("p.py", base.clone())]);
    let k = key("sk_live_", 30);
    let text = base
        .replacen("l line 2\n", &format!("l line 2\nsecret = '{k}'\n"), 1)
        .replacen("l line 28\n", "l line 28\nharmless = 1\n", 1);
    write(d.path(), "p.py", &text);
    // Two hunks: skip the first (the key), stage the second.
    add_p(d.path(), "n\ny\n");
    let cached = git(d.path(), &["diff", "--cached"]);
    assert!(
        cached.contains("+harmless = 1") && !cached.contains("secret ="),
        "{cached}"
    );
    expect(d.path(), 0, &[]);
    git(d.path(), &["reset", "-q"]);
    add_p(d.path(), "y\nn\n");
    expect(d.path(), 1, &[at("p.py", 3)]);
}

fn add_p(dir: &Path, answers: &str) {
    use std::io::Write;
    let mut child = git_cmd(dir, &["add", "-p", "p.py"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("git add -p");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answers.as_bytes())
        .expect("answers");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn partial_staging_with_apply_cached_scans_the_index_blob() {
    let base = lines(20, "l");
    let d = repo_with(&[("q.txt", base.clone())]);
    let k = key("rk_live_", 30);
    write(
        d.path(),
        "q.txt",
        base.replacen("l line 1\n", &format!("l line 1\nrk = {k}\n"), 1),
    );
    let full = git(d.path(), &["diff"]);
    // Stage a patch that adds a different, clean line instead.
    let patch = full.replace(&format!("+rk = {k}"), "+rk = from-env");
    let patch_file = d.path().join("p.diff");
    std::fs::write(&patch_file, format!("{patch}\n")).expect("write patch");
    git(
        d.path(),
        &[
            "apply",
            "--cached",
            patch_file.to_str().expect("utf-8 path"),
        ],
    );
    std::fs::remove_file(&patch_file).expect("rm patch");
    expect(d.path(), 0, &[]);
}

#[test]
fn renames_do_not_re_report_old_keys_and_report_new_ones_at_the_new_path() {
    let old = key("sk_live_", 30);
    let body = format!("{}k = '{old}'\n{}", lines(8, "a"), lines(8, "b"));
    let d = repo_with(&[("old/place.py", body.clone()), ("keep.txt", lines(2, "k"))]);
    git(d.path(), &["mv", "old/place.py", "new place.py"]);
    expect(d.path(), 0, &[]);
    // Renamed and edited: only the added key, at its line in the new file.
    let new = key("rk_live_", 30);
    write(d.path(), "new place.py", format!("{body}r = '{new}'\n"));
    git(d.path(), &["add", "new place.py"]);
    expect(d.path(), 1, &[at("new place.py", 18)]);
}

#[test]
fn a_copy_of_a_file_with_a_key_is_new_content() {
    let k = key("sk_live_", 30);
    let body = format!("k = '{k}'\n{}", lines(5, "c"));
    let d = repo_with(&[("src.py", body.clone())]);
    write(d.path(), "copy.py", &body);
    git(d.path(), &["add", "copy.py"]);
    expect(d.path(), 1, &[at("copy.py", 1)]);
}

#[test]
fn deletions_and_mode_changes_add_nothing() {
    let k = key("sk_live_", 30);
    let d = repo_with(&[
        ("gone.py", format!("k = '{k}'\n")),
        ("run.sh", format!("#!/bin/sh\n# {k}\n")),
        ("dir/x/y.txt", format!("{k}\n")),
    ]);
    git(d.path(), &["rm", "-q", "gone.py"]);
    git(d.path(), &["rm", "-q", "-r", "dir"]);
    git(d.path(), &["update-index", "--chmod=+x", "run.sh"]);
    let status = git(d.path(), &["status", "--porcelain"]);
    assert!(
        status.contains("D  gone.py") && status.contains("M run.sh"),
        "{status}"
    );
    expect(d.path(), 0, &[]);
    assert_eq!(staged(d.path()).json()["summary"]["files"], 0);
}

#[test]
fn binary_blobs_are_scanned_and_diffed_by_lines() {
    let k1 = key("sk_live_", 30);
    let mut bin1 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01".to_vec();
    bin1.extend_from_slice(format!("\n{k1}\n\x00\x00tail\n").as_bytes());
    let d = tempdir();
    git_init(d.path());
    write(d.path(), "img/logo.png", &bin1);
    git(d.path(), &["add", "-A"]);
    // Lines end at every \n byte, PNG header included: the key is on line 4.
    expect(d.path(), 1, &[at("img/logo.png", 4)]);
    git(d.path(), &["commit", "-q", "-m", "bin", "--no-verify"]);
    let k2 = key("rk_live_", 30);
    let mut bin2 = bin1.clone();
    bin2.extend_from_slice(format!("\x00more {k2}\n").as_bytes());
    write(d.path(), "img/logo.png", &bin2);
    git(d.path(), &["add", "-A"]);
    expect(d.path(), 1, &[at("img/logo.png", 6)]);
}

#[test]
fn a_minus_diff_attribute_hides_the_key_from_diffs_but_not_from_the_scan() {
    let d = repo_with(&[(".gitattributes", "*.dat -diff\n".to_string())]);
    write(
        d.path(),
        "secrets.dat",
        format!("STRIPE_KEY={}\n", key("sk_live_", 30)),
    );
    git(d.path(), &["add", "secrets.dat"]);
    let diff = git(d.path(), &["diff", "--cached"]);
    assert!(
        diff.contains("Binary files") && !diff.contains("sk_live_"),
        "{diff}"
    );
    expect(d.path(), 1, &[at("secrets.dat", 1)]);
}

#[test]
fn names_with_spaces_and_newlines_are_reported_as_they_are() {
    let d = repo_with(&[("x.txt", "x\n".to_string())]);
    write(
        d.path(),
        "dir with space/my file.env",
        format!("A=1\nKEY={}\n", key("sk_live_", 30)),
    );
    write(
        d.path(),
        "odd\nname.txt",
        format!("{}\n", key("rk_live_", 30)),
    );
    git(d.path(), &["add", "-A"]);
    expect(
        d.path(),
        1,
        &[at("dir with space/my file.env", 2), at("odd\nname.txt", 1)],
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_their_target_text_and_submodules_are_skipped() {
    let d = repo_with(&[("x.txt", "x\n".to_string())]);
    write(d.path(), "real.txt", format!("{}\n", key("sk_live_", 30)));
    std::os::unix::fs::symlink("real.txt", d.path().join("link")).expect("symlink");
    git(d.path(), &["add", "-A"]);
    // A gitlink entry: a submodule's commit, not content of this repository.
    let head = git(d.path(), &["rev-parse", "HEAD"]);
    git(
        d.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},vendor/sub"),
        ],
    );
    expect(d.path(), 1, &[at("real.txt", 1)]);
}

#[test]
fn paths_narrow_the_scan() {
    let d = repo_with(&[("x.txt", "x\n".to_string())]);
    write(d.path(), "a/one.py", format!("{}\n", key("sk_live_", 30)));
    write(d.path(), "b/two.py", format!("{}\n", key("sk_live_", 30)));
    git(d.path(), &["add", "-A"]);
    let r = scan_env(d.path(), &["staged", "--format", "json", "a"], &[]);
    assert_eq!(places(&r), vec![at("a/one.py", 1)]);
    let r = scan_env(
        &d.path().join("b"),
        &["staged", "--format", "json", "two.py"],
        &[],
    );
    assert_eq!(
        places(&r),
        vec![at("b/two.py", 1)],
        "relative to the current directory"
    );
    let r = scan_env(d.path(), &["staged", "b/../a/one.py"], &[]);
    assert_eq!(r.code, 1);
}

#[test]
fn every_index_version_and_a_split_index_give_the_same_answer() {
    let base = lines(6, "v");
    let d = repo_with(&[("deep/er/v.txt", base.clone()), ("top.txt", base.clone())]);
    write(
        d.path(),
        "deep/er/v.txt",
        format!("{base}{}\n", key("sk_live_", 30)),
    );
    write(d.path(), "deep/new.txt", format!("{}\n", key("whsec_", 32)));
    git(d.path(), &["add", "-A"]);
    let want = [at("deep/er/v.txt", 7), at("deep/new.txt", 1)];
    for v in ["2", "3", "4"] {
        git(d.path(), &["update-index", "--index-version", v]);
        expect(d.path(), 1, &want);
    }
    // A split index needs the shared index file: our reader hands it to git.
    git(d.path(), &["update-index", "--split-index"]);
    assert!(std::fs::read_dir(d.path().join(".git"))
        .expect("ls .git")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("sharedindex.")));
    expect(d.path(), 1, &want);
    git(d.path(), &["update-index", "--no-split-index"]);
    // A valid cache-tree (as during `git commit`) gives the same answer.
    git(d.path(), &["write-tree"]);
    expect(d.path(), 1, &want);
}

#[test]
fn a_sparse_index_is_read_and_its_directory_entries_compared() {
    let k = key("sk_live_", 30);
    let d = repo_with(&[
        ("in/a.txt", lines(3, "a")),
        ("out/b.txt", lines(3, "b")),
        ("out/deeper/c.txt", lines(3, "c")),
    ]);
    // A commit with a key outside the cone, made with the hook bypassed...
    write(
        d.path(),
        "out/deeper/c.txt",
        format!("{}{k}\n", lines(3, "c")),
    );
    git(d.path(), &["add", "-A"]);
    git(
        d.path(),
        &["commit", "-q", "--no-verify", "-m", "key outside the cone"],
    );
    git(
        d.path(),
        &["sparse-checkout", "set", "--cone", "--sparse-index", "in"],
    );
    let ls = git(d.path(), &["ls-files", "--sparse", "-s"]);
    assert!(
        ls.contains("040000") && ls.contains("\tout/"),
        "a sparse directory entry:\n{ls}"
    );
    write(
        d.path(),
        "in/a.txt",
        format!("{}{}\n", lines(3, "a"), key("rk_live_", 30)),
    );
    git(d.path(), &["add", "in/a.txt"]);
    expect(d.path(), 1, &[at("in/a.txt", 4)]);
    // ...then HEAD moves back before it: the index's `out/` tree now adds the key.
    git(d.path(), &["reset", "-q", "--soft", "HEAD~1"]);
    expect(d.path(), 1, &[at("in/a.txt", 4), at("out/deeper/c.txt", 4)]);
}

#[test]
fn unmerged_paths_are_named_not_scanned() {
    let d = repo_with(&[("c.txt", "base\n".to_string())]);
    git(d.path(), &["checkout", "-q", "-b", "other"]);
    write(d.path(), "c.txt", "theirs\n");
    git(d.path(), &["commit", "-q", "-am", "theirs"]);
    git(d.path(), &["checkout", "-q", "main"]);
    write(d.path(), "c.txt", "ours\n");
    git(d.path(), &["commit", "-q", "-am", "ours"]);
    let out = git_cmd(d.path(), &["merge", "other"])
        .output()
        .expect("merge");
    assert!(!out.status.success(), "a conflict");
    let r = staged(d.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("stripe-scan: c.txt: unmerged"),
        "{}",
        r.stderr
    );
}

#[test]
fn merge_commits_run_the_pre_merge_commit_hook() {
    let d = repo_with(&[("base.txt", lines(3, "b"))]);
    git(d.path(), &["checkout", "-q", "-b", "feature"]);
    write(
        d.path(),
        "feature.py",
        format!("k = '{}'\n", key("sk_live_", 30)),
    );
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "feature with a key"]);
    git(d.path(), &["checkout", "-q", "main"]);
    write(d.path(), "main.txt", "main\n");
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "main moves on"]);
    install_hooks(d.path());
    let out = git_cmd(d.path(), &["merge", "--no-edit", "feature"])
        .env("STRIPE_SCAN", bin())
        .output()
        .expect("merge");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "the automatic merge must be blocked:\n{text}"
    );
    assert!(text.contains("feature.py:1:6: live secret key"), "{text}");
    assert!(text.contains("merge blocked"), "{text}");
    assert_eq!(
        git(d.path(), &["rev-list", "--count", "HEAD"]),
        "2",
        "no merge commit was made"
    );
    // A clean branch merges.
    git(d.path(), &["merge", "--abort"]);
    git(d.path(), &["checkout", "-q", "-b", "clean", "HEAD~1"]);
    write(d.path(), "clean.txt", "fine\n");
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "--no-verify", "-m", "clean"]);
    git(d.path(), &["checkout", "-q", "main"]);
    let out = git_cmd(d.path(), &["merge", "--no-edit", "clean"])
        .env("STRIPE_SCAN", bin())
        .output()
        .expect("merge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn config_and_allowlist_come_from_the_repository_root() {
    let d = repo_with(&[(
        ".stripe-scan.toml",
        "[allow]\npaths = [\"fixtures/\"]\n".to_string(),
    )]);
    write(
        d.path(),
        "fixtures/f.txt",
        format!("{}\n", key("sk_live_", 30)),
    );
    write(d.path(), "src/s.txt", format!("{}\n", key("sk_live_", 30)));
    git(d.path(), &["add", "-A"]);
    let r = scan_env(&d.path().join("src"), &["staged", "--format", "json"], &[]);
    assert_eq!(places(&r), vec![at("src/s.txt", 1)]);
    assert_eq!(r.json()["summary"]["suppressed"], 1);
}

#[test]
fn outside_a_repository_is_an_error() {
    let d = tempdir();
    let r = scan_env(
        d.path(),
        &["staged"],
        &[(
            "GIT_CEILING_DIRECTORIES",
            d.path().parent().and_then(Path::to_str).unwrap_or("/"),
        )],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("stripe-scan: staged: not in a git repository"),
        "{}",
        r.stderr
    );
}

#[test]
fn many_new_files_are_scanned_in_parallel_with_the_same_result() {
    let d = tempdir();
    git_init(d.path());
    let mut want = Vec::new();
    for i in 0..120 {
        let p = format!("pkg{}/file{i}.txt", i % 7);
        if i % 10 == 0 {
            write(d.path(), &p, format!("x\n{}\n", key("sk_live_", 30)));
            want.push(at(&p, 2));
        } else {
            write(d.path(), &p, lines(3, "f"));
        }
    }
    git(d.path(), &["add", "-A"]);
    want.sort();
    expect(d.path(), 1, &want);
    let r = scan_env(d.path(), &["staged", "--format", "json", "-j", "1"], &[]);
    assert_eq!(places(&r), want);
}

#[test]
fn pre_commit_framework_outside_a_commit_scans_whole_files() {
    let k = key("sk_live_", 30);
    let d = repo_with(&[
        ("old.py", format!("k = '{k}'\n")),
        ("clean.py", "x = 1\n".to_string()),
    ]);
    // `pre-commit run --all-files` passes every file, with PRE_COMMIT=1 and no GIT_INDEX_FILE.
    let r = scan_env(
        d.path(),
        &["staged", "--format", "json", "old.py", "clean.py"],
        &[("PRE_COMMIT", "1")],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(places(&r), vec![at("old.py", 1)]);
    assert_eq!(r.json()["summary"]["files"], 2);
    // Inside a commit git sets GIT_INDEX_FILE: the files only narrow the staged scan.
    let r = scan_env(
        d.path(),
        &["staged", "--format", "json", "old.py"],
        &[("PRE_COMMIT", "1"), ("GIT_INDEX_FILE", ".git/index")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_large_index_is_read_the_same_way() {
    let d = tempdir();
    git_init(d.path());
    write(d.path(), "seed.txt", "same content everywhere\n");
    git(d.path(), &["add", "seed.txt"]);
    let blob = git(d.path(), &["rev-parse", ":seed.txt"]);
    // 12,000 entries without 12,000 files: over the size where the index is mapped, not read.
    let info: String = (0..12_000)
        .map(|i| {
            format!(
                "100644 {blob} 0\tpackages/group{:02}/a_rather_long_file_name_{i:05}.txt\n",
                i % 60
            )
        })
        .collect();
    let mut child = git_cmd(d.path(), &["update-index", "--index-info"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("update-index");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), info.as_bytes())
        .expect("feed");
    assert!(child.wait().expect("wait").success());
    git(d.path(), &["commit", "-q", "-m", "many"]);
    let size = std::fs::metadata(d.path().join(".git/index"))
        .expect("index")
        .len();
    assert!(size > 1 << 20, "index is {size} bytes");
    write(
        d.path(),
        "packages/group07/new.py",
        format!("k = '{}'\n", key("sk_live_", 30)),
    );
    git(d.path(), &["add", "packages/group07/new.py"]);
    expect(d.path(), 1, &[at("packages/group07/new.py", 1)]);
}
