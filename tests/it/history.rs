//! `stripe-scan history`: real repositories made with the real `git`, scanned by the real binary.
//! Every commit has the same fixed author and date (util::git), so the expected `author` and
//! `date` are known.

use crate::util::{commit, git, git_init, key, key99, repo, run, tempdir, write};
use serde_json::Value;
use std::path::Path;

const AUTHOR: &str = "Ada Tester <ada@example.com>";
const DATE: &str = "2024-01-02T03:04:05Z";

fn history(dir: &Path, args: &[&str]) -> crate::util::Run {
    let mut all = vec!["history", "--format", "json"];
    all.extend_from_slice(args);
    run(dir, &all)
}

/// The finding whose fingerprint is that of `secret`; panics with what was found otherwise.
fn finding_of<'a>(findings: &'a [Value], secret: &str) -> &'a Value {
    let fp = stripe_scan::secret::fingerprint_of(secret.as_bytes());
    let matching: Vec<&Value> = findings
        .iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "want one finding of {fp}, got {matching:#?}"
    );
    matching[0]
}

fn has(findings: &[Value], secret: &str) -> bool {
    let fp = stripe_scan::secret::fingerprint_of(secret.as_bytes());
    findings.iter().any(|f| f["fingerprint"] == fp.as_str())
}

#[test]
fn a_key_removed_later_is_found_with_its_commit_author_date_line_and_column() {
    let t = repo();
    let d = t.path();
    commit(d, &[("README.md", "hello\n")], "start");
    let k = key("sk_live_", 24);
    let added = commit(
        d,
        &[(
            "app/settings.py",
            &format!("import os\n\n    STRIPE = \"{k}\"\n"),
        )],
        "add key",
    );
    commit(
        d,
        &[(
            "app/settings.py",
            "import os\n\nSTRIPE = os.environ['STRIPE']\n",
        )],
        "remove key",
    );
    let r = history(d, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["path"], "app/settings.py");
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], 15);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["author"], AUTHOR);
    assert_eq!(f["date"], DATE);
    assert_eq!(f["still_in_head"], false);
    assert_eq!(f["rule"], "stripe-secret-key");
    assert!(!r.stdout.contains(&k), "the key is printed");
    let summary = &r.json()["summary"];
    assert_eq!(summary["commits"], 3);
    assert_eq!(summary["errors"], 0);
}

#[test]
fn text_report_names_the_commit_author_date_and_head_state() {
    let t = repo();
    let d = t.path();
    let k = key("rk_live_", 32);
    let added = commit(
        d,
        &[("deploy.sh", &format!("export STRIPE_KEY={k}\n"))],
        "add",
    );
    let r = run(d, &["history"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("deploy.sh"), "{}", r.stdout);
    // The commit, its author and date, and HEAD's state, on one line whatever the layout.
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("introduced in commit"))
        .unwrap_or_else(|| panic!("no commit line in {}", r.stdout));
    assert!(r.stdout.starts_with("deploy.sh:1:19: "), "{}", r.stdout);
    for part in [&added[..12], AUTHOR, DATE, "still in HEAD"] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    assert!(!r.stdout.contains(&k));
    assert!(r.stderr.contains("in 1 commit, 1 blob,"), "{}", r.stderr);
}

#[test]
fn the_same_key_on_an_unchanged_line_across_many_commits_is_one_finding() {
    let t = repo();
    let d = t.path();
    let k = key99("sk_live_");
    let mut lines = vec![
        "# config".to_string(),
        format!("key = \"{k}\""),
        "end".to_string(),
    ];
    let added = commit(d, &[("conf/app.toml", &lines.join("\n"))], "add");
    for i in 0..12 {
        // Edits above and below the key shift its line but never touch it.
        if i % 2 == 0 {
            lines.insert(0, format!("# header {i}"));
        } else {
            lines.push(format!("tail {i}"));
        }
        commit(
            d,
            &[("conf/app.toml", &lines.join("\n"))],
            &format!("edit {i}"),
        );
    }
    // Packed with deltas, so the scan reads delta chains, not only loose objects.
    git(d, &["repack", "-adfq", "--depth=50", "--window=50"]);
    let r = history(d, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = finding_of(&findings, &k);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["line"], 2, "the line in the introducing commit");
    assert_eq!(f["still_in_head"], true);
    assert_eq!(
        r.json()["summary"]["files"],
        13,
        "each version of the file read once"
    );
}

#[test]
fn a_key_moved_to_another_file_is_another_finding() {
    let t = repo();
    let d = t.path();
    let k = key("sk_test_", 24);
    let first = commit(d, &[("a.env", &format!("KEY={k}\n"))], "a");
    git(d, &["mv", "a.env", "b.env"]);
    let moved = commit(d, &[], "move");
    let r = history(d, &[]);
    let findings = r.findings();
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let a = findings
        .iter()
        .find(|f| f["path"] == "a.env")
        .expect("a.env");
    let b = findings
        .iter()
        .find(|f| f["path"] == "b.env")
        .expect("b.env");
    assert_eq!(a["commit"], first.as_str());
    assert_eq!(b["commit"], moved.as_str());
    assert_eq!(
        a["still_in_head"], true,
        "HEAD still holds the key, in b.env"
    );
}

#[test]
fn a_key_only_on_an_unmerged_branch_is_found_by_default_but_not_on_main() {
    let t = repo();
    let d = t.path();
    commit(d, &[("main.txt", "base\n")], "base");
    git(d, &["checkout", "-q", "-b", "wip"]);
    let k = key("pk_live_", 24);
    let on_branch = commit(
        d,
        &[(
            "web/index.html",
            &format!("<script>Stripe('{k}')</script>\n"),
        )],
        "wip",
    );
    git(d, &["checkout", "-q", "main"]);
    commit(d, &[("main.txt", "base\nmore\n")], "main moves on");

    let r = history(d, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    let f = finding_of(&findings, &k);
    assert_eq!(f["commit"], on_branch.as_str());
    assert_eq!(f["path"], "web/index.html");
    assert_eq!(f["still_in_head"], false);

    let r = history(d, &["main"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.findings().is_empty());
    assert_eq!(r.json()["summary"]["commits"], 2);
}

#[test]
fn a_key_on_a_merged_branch_is_credited_to_the_branch_commit_not_the_merge() {
    let t = repo();
    let d = t.path();
    commit(d, &[("main.txt", "base\n")], "base");
    git(d, &["checkout", "-q", "-b", "feature"]);
    let k = key("whsec_", 32);
    let on_branch = commit(d, &[("hooks.py", &format!("SECRET = '{k}'\n"))], "feature");
    git(d, &["checkout", "-q", "main"]);
    commit(d, &[("main.txt", "base\nmain\n")], "main");
    git(
        d,
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
    );
    git(d, &["branch", "-q", "-D", "feature"]);
    let r = history(d, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = finding_of(&findings, &k);
    assert_eq!(f["commit"], on_branch.as_str());
    assert_eq!(f["still_in_head"], true);

    // The merge brought the key in from its second parent: a range that hides the branch
    // commit has the merge but must not credit it with the key.
    let r = history(d, &[&format!("{on_branch}..main")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.json()["summary"]["commits"],
        2,
        "the merge and main's own commit"
    );
}

/// c1 adds K1, c2 adds K2, c3 edits the file holding K1, c4 adds K3.
struct Ranged {
    dir: tempfile::TempDir,
    c: Vec<String>,
    k: Vec<String>,
}

fn ranged() -> Ranged {
    let t = repo();
    let d = t.path();
    let k: Vec<String> = (0..3).map(|_| key("sk_live_", 24)).collect();
    let c0 = commit(d, &[("README.md", "hi\n")], "c0");
    let c1 = commit(d, &[("one.py", &format!("A = '{}'\n", k[0]))], "c1");
    let c2 = commit(d, &[("two.py", &format!("B = '{}'\n", k[1]))], "c2");
    let c3 = commit(
        d,
        &[("one.py", &format!("# edited\nA = '{}'\n", k[0]))],
        "c3",
    );
    let c4 = commit(d, &[("three.py", &format!("C = '{}'\n", k[2]))], "c4");
    Ranged {
        dir: t,
        c: vec![c0, c1, c2, c3, c4],
        k,
    }
}

#[test]
fn a_range_reports_only_keys_introduced_in_it() {
    let r = ranged();
    let d = r.dir.path();
    let out = history(d, &[&format!("{}..{}", r.c[1], r.c[3])]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let findings = out.findings();
    // c3 rewrote one.py, but K1 was already there: not introduced in the range.
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = finding_of(&findings, &r.k[1]);
    assert_eq!(f["commit"], r.c[2].as_str());
    assert_eq!(f["still_in_head"], true);
    assert_eq!(out.json()["summary"]["commits"], 2);

    // A range with no new key is clean.
    let out = history(d, &[&format!("{}..{}", r.c[2], r.c[3])]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn caret_hides_what_a_revision_reaches_and_several_revisions_combine() {
    let r = ranged();
    let d = r.dir.path();
    let out = history(d, &["main", &format!("^{}", r.c[2])]);
    let findings = out.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(has(&findings, &r.k[2]));

    // `^X` alone: every ref, less what X reaches.
    let out = history(d, &[&format!("^{}", r.c[1])]);
    let findings = out.findings();
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(has(&findings, &r.k[1]) && has(&findings, &r.k[2]));

    // Several arguments select what `git log` would: `A..B C..D` is `B D ^A ^C`.
    let sets = [
        vec![
            format!("{}..{}", r.c[0], r.c[1]),
            format!("{}..{}", r.c[3], r.c[4]),
        ],
        vec![format!("{}...{}", r.c[1], r.c[4])],
        vec![r.c[2].clone(), format!("^{}", r.c[0])],
        vec![format!("{}..", r.c[2])],
    ];
    for args in sets {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut rev_list = vec!["rev-list", "--count"];
        rev_list.extend(&args);
        let want: u64 = git(d, &rev_list).parse().unwrap();
        let out = history(d, &args);
        assert_eq!(
            out.json()["summary"]["commits"],
            want,
            "{args:?}: {}",
            out.stderr
        );
    }
    let out = history(
        d,
        &[
            &format!("{}..{}", r.c[0], r.c[1]),
            &format!("{}..{}", r.c[3], r.c[4]),
        ],
    );
    let findings = out.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(has(&findings, &r.k[2]));
}

#[test]
fn since_commit_scans_what_came_after_it() {
    let r = ranged();
    let d = r.dir.path();
    let out = history(d, &["--since-commit", &r.c[1]]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let findings = out.findings();
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(has(&findings, &r.k[1]) && has(&findings, &r.k[2]));
    assert_eq!(out.json()["summary"]["commits"], 3);
}

#[test]
fn an_unknown_revision_is_a_one_line_usage_error() {
    let r = ranged();
    let d = r.dir.path();
    for bad in ["no-such-branch", "main..nope", "^nope"] {
        let out = history(d, &[bad]);
        assert_eq!(out.code, 2, "{bad}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{bad}: {}", out.stdout);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{bad}: {}", out.stderr);
        assert!(lines[0].contains("unknown revision"), "{}", lines[0]);
    }
    let out = history(d, &["--since-commit", "0000000"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn outside_a_repository_history_is_a_usage_error() {
    let t = tempdir();
    let out = run(t.path(), &["history"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("stripe-scan: history: not in a git repository"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`stripe-scan -C DIR history`"),
        "{}",
        out.stderr
    );
}

/// Path of a loose object.
fn loose(dir: &Path, oid: &str) -> std::path::PathBuf {
    dir.join(".git/objects").join(&oid[..2]).join(&oid[2..])
}

#[test]
fn a_missing_object_is_one_line_and_the_scan_goes_on() {
    let t = repo();
    let d = t.path();
    let k = key("sk_live_", 24);
    commit(
        d,
        &[
            ("lost.txt", "this blob will go missing\n"),
            ("keep.txt", "fine\n"),
        ],
        "c1",
    );
    commit(d, &[("key.py", &format!("K = '{k}'\n"))], "c2");
    let lost = git(d, &["rev-parse", "HEAD:lost.txt"]);
    std::fs::remove_file(loose(d, &lost)).expect("remove loose object");

    let r = history(d, &[]);
    assert_eq!(r.code, 1, "findings win over errors: {}", r.stderr);
    assert!(has(&r.findings(), &k));
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains(&lost)).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with(&format!("stripe-scan: {lost}: ")),
        "{}",
        lines[0]
    );
    assert_eq!(r.json()["summary"]["errors"], 1);

    // Without a key the partial scan is not clean.
    let r = history(d, &["HEAD~1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("stripe-scan: {lost}: ")),
        "{}",
        r.stderr
    );
}

#[test]
fn a_damaged_packed_object_is_reported_and_the_rest_is_scanned() {
    let t = repo();
    let d = t.path();
    let k = key("rk_live_", 24);
    let filler: String = (0..400)
        .map(|i| format!("line {i} of a file that compresses\n"))
        .collect();
    commit(d, &[("big.txt", &filler)], "c1");
    commit(d, &[("key.py", &format!("K = '{k}'\n"))], "c2");
    git(d, &["repack", "-adq"]);
    let big = git(d, &["rev-parse", "HEAD:big.txt"]);
    let pack_dir = d.join(".git/objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .unwrap();
    let verify = git(d, &["verify-pack", "-v", idx.to_str().unwrap()]);
    let offset: u64 = verify
        .lines()
        .find(|l| l.starts_with(&big))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("offset of big.txt in the pack");
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset as usize + 8..offset as usize + 40] {
        *b ^= 0x5a;
    }
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, bytes).unwrap();

    let r = history(d, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(has(&r.findings(), &k));
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains(&big)).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with(&format!("stripe-scan: {big}: ")),
        "{}",
        lines[0]
    );
}

#[test]
fn a_shallow_clone_is_scanned_but_reported_incomplete() {
    let t = repo();
    let src = t.path().join("src");
    std::fs::create_dir(&src).unwrap();
    git_init(&src);
    let old = key("sk_live_", 24);
    commit(&src, &[("old.py", &format!("K = '{old}'\n"))], "c1");
    commit(&src, &[("old.py", "K = None\n")], "c2");
    commit(&src, &[("readme.md", "hello\n")], "c3");
    let url = format!("file://{}", src.display());
    git(t.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let shallow = t.path().join("shallow");

    let r = history(&shallow, &[]);
    assert_eq!(r.code, 2, "a clean partial scan is not clean: {}", r.stderr);
    let lines: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("shallow clone"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("fetch-depth: 0") && lines[0].contains("--unshallow"),
        "{}",
        lines[0]
    );
    assert!(r.findings().is_empty());

    // A key in what the clone has is still reported, and wins the exit status.
    let k = key("sk_live_", 24);
    commit(&shallow, &[("new.py", &format!("K = '{k}'\n"))], "new");
    let r = history(&shallow, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(has(&r.findings(), &k));
    assert!(r.stderr.contains("shallow clone"), "{}", r.stderr);
}

#[test]
fn a_bare_repository_is_scanned() {
    let t = repo();
    let src = t.path().join("src");
    std::fs::create_dir(&src).unwrap();
    git_init(&src);
    let k = key("sk_live_", 24);
    let added = commit(&src, &[("k.py", &format!("K = '{k}'\n"))], "c1");
    commit(&src, &[("k.py", "K = None\n")], "c2");
    git(
        t.path(),
        &["clone", "-q", "--bare", src.to_str().unwrap(), "bare.git"],
    );
    let r = history(&t.path().join("bare.git"), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    let f = finding_of(&findings, &k);
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["still_in_head"], false);
}

#[test]
fn tags_and_every_stash_entry_are_scanned() {
    let t = repo();
    let d = t.path();
    commit(d, &[("app.py", "x = 1\n")], "base");
    // A commit only a tag reaches.
    git(d, &["checkout", "-q", "-b", "release-prep"]);
    let tagged_key = key("sk_live_", 24);
    let tagged = commit(
        d,
        &[("release.env", &format!("KEY={tagged_key}\n"))],
        "release",
    );
    git(d, &["tag", "-a", "-m", "v1", "v1.0"]);
    git(d, &["checkout", "-q", "main"]);
    git(d, &["branch", "-q", "-D", "release-prep"]);
    // Two stash entries: the older one is only in the stash's reflog.
    let stash_old = key("sk_test_", 24);
    write(d, "app.py", format!("x = '{stash_old}'\n"));
    git(d, &["stash", "-q"]);
    let stash_new = key("rk_test_", 24);
    write(d, "app.py", format!("y = '{stash_new}'\n"));
    git(d, &["stash", "-q"]);
    assert_eq!(git(d, &["stash", "list"]).lines().count(), 2);

    let r = history(d, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    assert_eq!(findings.len(), 3, "{findings:#?}");
    assert_eq!(
        finding_of(&findings, &tagged_key)["commit"],
        tagged.as_str()
    );
    assert_eq!(finding_of(&findings, &stash_old)["path"], "app.py");
    assert_eq!(finding_of(&findings, &stash_new)["still_in_head"], false);
}

#[test]
fn lfs_pointers_and_submodules_are_noted_not_errors() {
    let t = repo();
    let d = t.path();
    let pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
    commit(d, &[("assets/big.bin", pointer)], "lfs");
    let inner = git(d, &["rev-parse", "HEAD"]);
    git(
        d,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{inner},vendor/lib"),
        ],
    );
    git(d, &["commit", "-q", "-m", "submodule"]);
    let r = history(d, &[]);
    assert_eq!(r.code, 0, "notes do not fail the scan: {}", r.stderr);
    let pointer_blob = git(d, &["rev-parse", "HEAD:assets/big.bin"]);
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with(&format!("stripe-scan: {pointer_blob}: Git LFS pointer"))),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("stripe-scan: vendor/lib: submodule")),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["summary"]["skipped"], 2);
}

#[test]
fn a_key_committed_but_not_pushed_gets_the_committed_advice() {
    let t = repo();
    let src = t.path().join("src");
    std::fs::create_dir(&src).unwrap();
    git_init(&src);
    let pushed_key = key("sk_live_", 24);
    commit(
        &src,
        &[("a.py", &format!("A = '{pushed_key}'\n"))],
        "pushed",
    );
    git(t.path(), &["clone", "-q", src.to_str().unwrap(), "work"]);
    let work = t.path().join("work");
    let local_key = key("sk_live_", 24);
    commit(&work, &[("b.py", &format!("B = '{local_key}'\n"))], "local");

    let r = history(&work, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    let steps = |k: &str| finding_of(&findings, k)["remediation"].to_string();
    // Unpushed: rewriting the local commits is enough. Pushed: only purging history is.
    let (local, pushed) = (steps(&local_key), steps(&pushed_key));
    assert!(local.contains("git commit --amend"), "{local}");
    assert!(pushed.contains("filter-repo"), "{pushed}");
    assert!(!pushed.contains("git commit --amend"), "{pushed}");
}

#[test]
fn an_empty_repository_is_clean() {
    let t = repo();
    let r = history(t.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["commits"], 0);
}

#[test]
fn a_linked_worktree_scans_the_shared_history_from_any_subdirectory() {
    let t = repo();
    let main = t.path().join("main");
    std::fs::create_dir(&main).unwrap();
    git_init(&main);
    let k = key("sk_live_", 24);
    let added = commit(&main, &[("src/k.py", &format!("K = '{k}'\n"))], "c1");
    git(&main, &["gc", "-q"]);
    git(
        &main,
        &["worktree", "add", "-q", "-b", "other", "../linked"],
    );
    let linked = t.path().join("linked");
    let r = history(&linked.join("src"), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let findings = r.findings();
    let f = finding_of(&findings, &k);
    assert_eq!(f["path"], "src/k.py", "relative to the repository root");
    assert_eq!(f["commit"], added.as_str());
}

#[test]
fn a_truncated_pack_is_named_in_one_line_and_the_scan_fails_closed() {
    let t = repo();
    let d = t.path();
    for i in 0..5 {
        let body: String = (0..200)
            .map(|j| format!("{i} {j} some text to pack\n"))
            .collect();
        commit(d, &[(&format!("f{i}.txt"), &body)], &format!("c{i}"));
    }
    git(d, &["repack", "-adq"]);
    let pack = std::fs::read_dir(d.join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    let bytes = std::fs::read(&pack).unwrap();
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, &bytes[..bytes.len() / 2]).unwrap();

    let r = history(d, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let name = pack.file_name().unwrap().to_str().unwrap();
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains(name)).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].contains("damaged: shorter than its index says"),
        "{}",
        lines[0]
    );
    assert!(
        r.stderr.lines().count() <= 24,
        "errors are capped: {}",
        r.stderr
    );
}

/// What a limit leaves unread in a commit message is said, naming the commit, as it is for a
/// file: a message holding base64 of a gzip bomb gets one line and the run goes on.
#[test]
fn a_bomb_in_a_commit_message_is_one_line_naming_the_commit() {
    let r = repo();
    let bomb = crate::pack::b64(&crate::pack::gzip(&vec![0u8; 4 << 20]));
    let id = commit(
        r.path(),
        &[("a.txt", "a\n")],
        &format!("payload\n\n{bomb}\n"),
    );
    let out = run(r.path(), &["history", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("decompression bomb"))
        .unwrap_or_else(|| panic!("no note: {}", out.stderr));
    assert!(
        line.contains(&format!("message of commit {}", &id[..12])),
        "{line}"
    );
}
