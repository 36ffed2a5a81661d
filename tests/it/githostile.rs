//! Hostile repositories for `stripe-scan history` and `stripe-scan staged`: missing and damaged
//! objects, odd HEADs and layouts, huge blobs, read-only object stores. Every damaged object is
//! one line, the rest is scanned, every key elsewhere is found, and a partial scan is never clean.
//! The cases `history.rs`, `staged.rs` and `hooks.rs` already cover are not repeated here.

use crate::hostile::{assert_sane, run_bounded};
use crate::util::{bin, commit, git, git_cmd, git_init, key, repo, tempdir, write, Run};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use stripe_scan::secret::fingerprint_of;

fn cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.args(args)
        .arg("--format")
        .arg("json")
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE");
    c
}

/// `stripe-scan <sub> --format json` in `dir`, failing on a hang.
fn scan(dir: &Path, sub: &str) -> Run {
    run_bounded(cmd(dir, &[sub]), Duration::from_secs(120)).run
}

fn has(r: &Run, secret: &str) -> bool {
    let fp = fingerprint_of(secret.as_bytes());
    r.findings().iter().any(|f| f["fingerprint"] == fp.as_str())
}

/// The one stderr line about `what`, which must start `stripe-scan: <what>: `.
fn one_line<'a>(r: &'a Run, what: &str) -> &'a str {
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains(what)).collect();
    assert_eq!(lines.len(), 1, "one line about {what}:\n{}", r.stderr);
    assert!(
        lines[0].starts_with(&format!("stripe-scan: {what}: ")),
        "{}",
        lines[0]
    );
    lines[0]
}

/// Asserts the run is sane (no panic, no key, one-line messages) and exited with `code`.
fn expect(r: &Run, code: i32, keys: &[&str]) {
    assert_sane(r, keys);
    assert_eq!(r.code, code, "exit status; stderr:\n{}", r.stderr);
}

fn loose(dir: &Path, oid: &str) -> PathBuf {
    dir.join(".git/objects").join(&oid[..2]).join(&oid[2..])
}

fn remove_loose(dir: &Path, oid: &str) {
    std::fs::remove_file(loose(dir, oid)).expect("remove loose object");
}

#[test]
fn a_missing_tree_is_one_line_and_history_and_staged_go_on() {
    let t = repo();
    let d = t.path();
    commit(d, &[("dir/lost.txt", "x\n"), ("keep.txt", "y\n")], "c1");
    let k = key("sk_live_", 24);
    commit(d, &[("key.py", &format!("K = '{k}'\n"))], "c2");
    let tree = git(d, &["rev-parse", "HEAD:dir"]);
    remove_loose(d, &tree);

    let r = scan(d, "history");
    expect(&r, 1, &[&k]);
    assert!(has(&r, &k));
    one_line(&r, &tree);
    // Without a key the partial scan is not clean.
    let r = run_bounded(cmd(d, &["history", "HEAD~1"]), Duration::from_secs(60)).run;
    expect(&r, 2, &[]);
    one_line(&r, &tree);

    // Staged: what HEAD's missing directory held cannot be compared, so all of it counts as new.
    let inside = key("rk_live_", 24);
    let top = key("sk_live_", 24);
    write(d, "dir/new.py", format!("A = '{inside}'\n"));
    write(d, "top.py", format!("B = '{top}'\n"));
    git(d, &["add", "dir/new.py", "top.py"]);
    let r = scan(d, "staged");
    expect(&r, 1, &[&inside, &top]);
    assert!(has(&r, &inside) && has(&r, &top), "{}", r.stdout);
    one_line(&r, "dir/");
}

#[test]
fn a_missing_head_root_tree_makes_every_staged_key_new() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "x\n")], "c1");
    let root = git(d, &["rev-parse", "HEAD^{tree}"]);
    remove_loose(d, &root);
    let k = key("sk_live_", 24);
    write(d, "a.txt", format!("x\nK = '{k}'\n"));
    git(d, &["add", "a.txt"]);
    let r = scan(d, "staged");
    expect(&r, 1, &[&k]);
    assert!(has(&r, &k), "{}", r.stdout);
    assert!(r.stderr.contains(&root), "names the tree: {}", r.stderr);

    let r = scan(d, "history");
    expect(&r, 2, &[&k]);
    one_line(&r, &root);
}

#[test]
fn a_missing_staged_or_head_blob_is_one_line_and_staged_goes_on() {
    let t = repo();
    let d = t.path();
    let body: String = (0..20).map(|i| format!("line {i}\n")).collect();
    commit(d, &[("old.txt", &body)], "base");
    // The HEAD side of a modified file is gone: every key in it is reported (the safe side).
    let head_blob = git(d, &["rev-parse", "HEAD:old.txt"]);
    remove_loose(d, &head_blob);
    let in_old = key("sk_live_", 24);
    write(d, "old.txt", format!("{body}K = '{in_old}'\n"));
    // The staged side of a new file is gone.
    write(d, "gone.txt", "nobody will read this\n");
    let k = key("rk_live_", 24);
    write(d, "k.py", format!("K = '{k}'\n"));
    git(d, &["add", "-A"]);
    let gone = git(d, &["rev-parse", ":gone.txt"]);
    remove_loose(d, &gone);

    let r = scan(d, "staged");
    expect(&r, 1, &[&k, &in_old]);
    assert!(has(&r, &k) && has(&r, &in_old), "{}", r.stdout);
    assert!(one_line(&r, "gone.txt").contains(&gone));
    one_line(&r, "old.txt");
    assert_eq!(r.json()["summary"]["errors"], 2, "{}", r.stderr);

    // Without the keys the partial scan is not clean.
    git(d, &["rm", "-q", "--cached", "k.py"]);
    let entry = format!("100644,{head_blob},old.txt");
    git(d, &["update-index", "--cacheinfo", &entry]);
    let r = scan(d, "staged");
    expect(&r, 2, &[]);
    one_line(&r, "gone.txt");
}

/// The pack offset of `oid`, from `git verify-pack`.
fn pack_offset(d: &Path, idx: &Path, oid: &str) -> usize {
    let verify = git(d, &["verify-pack", "-v", idx.to_str().expect("utf-8 path")]);
    verify
        .lines()
        .find(|l| l.starts_with(oid))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("offset in the pack")
}

fn only_pack(d: &Path, ext: &str) -> PathBuf {
    std::fs::read_dir(d.join(".git/objects/pack"))
        .expect("pack dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .expect("a pack")
}

#[test]
fn a_corrupt_pack_under_a_staged_change_reports_every_key_in_it() {
    let t = repo();
    let d = t.path();
    let filler: String = (0..400)
        .map(|i| format!("line {i} of a file that compresses\n"))
        .collect();
    commit(d, &[("big.txt", &filler), ("small.txt", "s\n")], "c1");
    git(d, &["repack", "-adq"]);
    let big = git(d, &["rev-parse", "HEAD:big.txt"]);
    let idx = only_pack(d, "idx");
    let offset = pack_offset(d, &idx, &big);
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).expect("read pack");
    for b in &mut bytes[offset + 8..offset + 40] {
        *b ^= 0x5a;
    }
    std::fs::set_permissions(&pack, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::write(&pack, bytes).expect("write pack");

    let k = key("sk_live_", 24);
    let other = key("rk_live_", 24);
    write(d, "big.txt", format!("{filler}K = '{k}'\n"));
    write(d, "small.txt", format!("s\nO = '{other}'\n"));
    git(d, &["add", "-A"]);
    let r = scan(d, "staged");
    expect(&r, 1, &[&k, &other]);
    assert!(has(&r, &k) && has(&r, &other), "{}", r.stdout);
    one_line(&r, "big.txt");
    assert_eq!(r.findings().len(), 2, "{}", r.stdout);
}

#[test]
fn staged_in_a_shallow_clone_needs_no_history() {
    let t = tempdir();
    let src = t.path().join("src");
    std::fs::create_dir(&src).expect("mkdir");
    git_init(&src);
    commit(&src, &[("a.txt", "1\n")], "c1");
    commit(&src, &[("a.txt", "1\n2\n")], "c2");
    let url = format!("file://{}", src.display());
    git(t.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let d = t.path().join("shallow");
    write(&d, "a.txt", "1\n2\n3\n");
    git(&d, &["add", "a.txt"]);
    let r = scan(&d, "staged");
    expect(&r, 0, &[]);
    assert!(
        !r.stderr.contains("shallow") && r.stderr.lines().count() == 1,
        "a shallow clone's index is complete: {}",
        r.stderr
    );
    let k = key("sk_live_", 24);
    write(&d, "a.txt", format!("1\n2\nK = '{k}'\n"));
    git(&d, &["add", "a.txt"]);
    let r = scan(&d, "staged");
    expect(&r, 1, &[&k]);
    assert_eq!(r.findings()[0]["line"], 3);
}

#[test]
fn a_detached_head_is_scanned_by_history_and_staged() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    git(d, &["checkout", "-q", "--detach"]);
    let k = key("sk_live_", 24);
    // Only the detached HEAD reaches this commit: no branch or tag does.
    let added = commit(d, &[("k.py", &format!("K = '{k}'\n"))], "detached");
    let r = scan(d, "history");
    expect(&r, 1, &[&k]);
    let f = r.findings();
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(f[0]["commit"], added.as_str());

    let s = key("rk_live_", 24);
    write(d, "s.py", format!("S = '{s}'\n"));
    git(d, &["add", "s.py"]);
    let r = scan(d, "staged");
    expect(&r, 1, &[&s]);
    let f = r.findings();
    assert_eq!(
        f.len(),
        1,
        "the key already in HEAD is not new: {}",
        r.stdout
    );
    assert_eq!(f[0]["path"], "s.py");
}

#[test]
fn staged_in_a_bare_repository_is_one_line_and_exit_2() {
    let t = tempdir();
    git(t.path(), &["init", "-q", "--bare", "b.git"]);
    let r = scan(&t.path().join("b.git"), "staged");
    expect(&r, 2, &[]);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("bare"), "{}", r.stderr);
}

#[test]
fn a_real_submodule_is_scanned_from_inside_and_skipped_from_outside() {
    let t = tempdir();
    let lib = t.path().join("lib");
    std::fs::create_dir(&lib).expect("mkdir");
    git_init(&lib);
    let in_lib = key("sk_live_", 24);
    let lib_commit = commit(&lib, &[("k.py", &format!("K = '{in_lib}'\n"))], "lib");
    let app = t.path().join("app");
    std::fs::create_dir(&app).expect("mkdir");
    git_init(&app);
    commit(&app, &[("a.txt", "a\n")], "c1");
    git(
        &app,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            lib.to_str().expect("utf-8 path"),
            "vendor/lib",
        ],
    );
    // The superproject stages a gitlink and .gitmodules: nothing of the submodule's content.
    let r = scan(&app, "staged");
    expect(&r, 0, &[&in_lib]);
    git(&app, &["commit", "-q", "-m", "add submodule"]);
    let r = scan(&app, "history");
    expect(&r, 0, &[&in_lib]);
    assert!(
        r.stderr.contains("stripe-scan: vendor/lib: submodule"),
        "{}",
        r.stderr
    );

    // Inside the submodule (a `.git` file pointing into the superproject) its own history and
    // index are scanned.
    let sub = app.join("vendor/lib");
    let r = scan(&sub, "history");
    expect(&r, 1, &[&in_lib]);
    assert_eq!(r.findings()[0]["commit"], lib_commit.as_str());
    let staged_key = key("rk_live_", 24);
    write(&sub, "s.py", format!("S = '{staged_key}'\n"));
    git(&sub, &["add", "s.py"]);
    let r = scan(&sub, "staged");
    expect(&r, 1, &[&staged_key]);
    assert_eq!(r.findings().len(), 1, "{}", r.stdout);
    assert_eq!(r.findings()[0]["path"], "s.py");
}

/// 60 MB of text lines, then a key on the last line; returns (content, line of the key).
fn huge(k: &str) -> (Vec<u8>, u64) {
    let line = b"a line of filler text that is long enough to matter, 0123456789\n";
    let n = 60 * 1024 * 1024 / line.len();
    let mut v = Vec::with_capacity(n * line.len() + 64);
    for _ in 0..n {
        v.extend_from_slice(line);
    }
    v.extend_from_slice(format!("K = '{k}'\n").as_bytes());
    (v, n as u64 + 1)
}

/// Peak memory allowed for a 60 MB blob: a few copies of it, not the repository or worse.
const HUGE_RSS_KB: i64 = 600 * 1024;

#[test]
fn a_60_mb_blob_is_scanned_to_its_end_in_bounded_memory() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    let k = key("sk_live_", 24);
    let (content, line) = huge(&k);
    write(d, "huge.txt", &content);
    git(d, &["add", "huge.txt"]);
    // Staged reads the loose blob; history reads it loose, then from a pack with our reader.
    for sub in ["staged", "history", "history-packed"] {
        if sub == "history" {
            git(d, &["commit", "-q", "-m", "huge"]);
        }
        if sub == "history-packed" {
            git(d, &["gc", "-q"]);
        }
        let sub = sub.trim_end_matches("-packed");
        let m = run_bounded(cmd(d, &[sub]), Duration::from_secs(180));
        expect(&m.run, 1, &[&k]);
        let f = m.run.findings();
        assert_eq!(f.len(), 1, "{sub}: {}", m.run.stdout);
        assert_eq!(f[0]["path"], "huge.txt");
        assert_eq!(f[0]["line"], line, "{sub}");
        eprintln!("{sub}: peak RSS {} KiB", m.max_rss_kb);
        assert!(
            m.max_rss_kb < HUGE_RSS_KB,
            "{sub}: peak RSS {} KiB",
            m.max_rss_kb
        );
    }
    // A change to the huge file is diffed with HEAD's version: only the new key is new.
    let k2 = key("rk_live_", 24);
    let mut more = content;
    more.extend_from_slice(format!("K2 = '{k2}'\n").as_bytes());
    write(d, "huge.txt", &more);
    git(d, &["add", "huge.txt"]);
    let m = run_bounded(cmd(d, &["staged"]), Duration::from_secs(180));
    expect(&m.run, 1, &[&k, &k2]);
    let f = m.run.findings();
    assert_eq!(f.len(), 1, "{}", m.run.stdout);
    assert_eq!(f[0]["line"], line + 1);
    eprintln!("staged diff: peak RSS {} KiB", m.max_rss_kb);
    assert!(
        m.max_rss_kb < HUGE_RSS_KB,
        "staged diff: peak RSS {} KiB",
        m.max_rss_kb
    );
}

/// Runs stripe-scan as `nobody` when we are root (root ignores permission bits), else as us.
fn as_nobody(dir: &Path, home: &Path, sub: &str) -> Option<Run> {
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        return Some(scan(dir, sub));
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("setpriv is not installed: cannot drop root to test a read-only object store");
        return None;
    }
    let mut inner = cmd(dir, &[sub]);
    // root's HOME is unreadable to nobody, and libgit2 reads its config there.
    inner.env("HOME", home);
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(inner.get_program())
        .args(inner.get_args())
        .current_dir(dir)
        .stdin(Stdio::null());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    Some(run_bounded(c, Duration::from_secs(120)).run)
}

fn chmod_r(path: &Path, f: &dyn Fn(u32) -> u32) {
    let meta = std::fs::symlink_metadata(path).expect("stat");
    if meta.is_dir() {
        for e in std::fs::read_dir(path).expect("read dir") {
            chmod_r(&e.expect("entry").path(), f);
        }
    }
    if !meta.file_type().is_symlink() {
        let mode = f(meta.permissions().mode());
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
}

#[test]
fn a_read_only_object_store_is_scanned_without_writing() {
    let t = tempdir();
    let d = t.path().join("r");
    std::fs::create_dir(&d).expect("mkdir");
    git_init(&d);
    let packed = key("sk_live_", 24);
    commit(&d, &[("p.py", &format!("P = '{packed}'\n"))], "c1");
    git(&d, &["gc", "-q"]);
    let loose_key = key("rk_live_", 24);
    commit(&d, &[("l.py", &format!("L = '{loose_key}'\n"))], "c2");
    let staged_key = key("sk_test_", 24);
    write(&d, "s.py", format!("S = '{staged_key}'\n"));
    git(&d, &["add", "s.py"]);
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } == 0 {
        // Owned by nobody, so libgit2's ownership check passes and only the mode bits decide.
        let status = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(t.path())
            .status()
            .expect("chown");
        assert!(status.success());
    }
    chmod_r(&d.join(".git/objects"), &|m| m & !0o222);

    let Some(r) = as_nobody(&d, t.path(), "history") else {
        return;
    };
    expect(&r, 1, &[&packed, &loose_key]);
    assert!(has(&r, &packed) && has(&r, &loose_key), "{}", r.stdout);
    assert_eq!(
        r.json()["summary"]["errors"],
        0,
        "reading needs no write: {}",
        r.stderr
    );

    let r = as_nobody(&d, t.path(), "staged").expect("ran before");
    expect(&r, 1, &[&staged_key]);
    assert_eq!(r.findings().len(), 1, "{}", r.stdout);
    assert!(has(&r, &staged_key));
    assert_eq!(
        r.json()["summary"]["errors"],
        0,
        "reading needs no write: {}",
        r.stderr
    );
    chmod_r(&d.join(".git/objects"), &|m| m | 0o200);
}

#[test]
fn the_hook_blocks_a_commit_whose_staged_blob_cannot_be_read() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    let r = crate::util::run(d, &["install-hook"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    write(d, "gone.txt", "nobody will read this\n");
    git(d, &["add", "gone.txt"]);
    let gone = git(d, &["rev-parse", ":gone.txt"]);
    remove_loose(d, &gone);
    let (ok, text) = crate::util::hook_commit(d, &["-q", "-m", "x"]);
    assert!(!ok, "must fail closed:\n{text}");
    assert!(
        text.contains(&format!(
            "stripe-scan: gone.txt: cannot read staged blob {gone}"
        )),
        "{text}"
    );
    assert!(
        text.contains("commit blocked: the scan failed (exit status 2"),
        "{text}"
    );
    assert!(text.contains("git commit --no-verify"), "{text}");
    assert!(!text.contains("panicked at"), "{text}");
}

#[test]
fn a_damaged_index_is_named_in_one_line_and_never_clean() {
    let t = repo();
    let d = t.path();
    commit(
        d,
        &[("a.txt", "a\n"), ("b.txt", "b\n"), ("c.txt", "c\n")],
        "c1",
    );
    let index = d.join(".git/index");
    let whole = std::fs::read(&index).expect("read index");
    // Truncated: git itself reads this as entries of zeros with empty names.
    std::fs::write(&index, &whole[..50]).expect("truncate index");
    let r = scan(d, "staged");
    expect(&r, 2, &[]);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("index")).collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(
        lines[0].starts_with("stripe-scan: ")
            && lines[0].contains(".git/index: damaged: ")
            && !lines[0].contains("0000000000"),
        "{}",
        lines[0]
    );
    // Garbage: neither reader accepts it.
    let mut garbage = whole.clone();
    for b in &mut garbage[..64] {
        *b ^= 0xa5;
    }
    std::fs::write(&index, &garbage).expect("write index");
    let r = scan(d, "staged");
    expect(&r, 2, &[]);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn an_unreadable_head_is_named_and_history_is_not_clean() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    std::fs::write(d.join(".git/HEAD"), "garbage\n").expect("write HEAD");
    let r = scan(d, "history");
    // Every branch was scanned, but a detached HEAD may have been the only way to a commit.
    expect(&r, 2, &[]);
    one_line(&r, "HEAD");
}

#[test]
fn a_missing_head_commit_is_one_line_and_every_staged_key_is_new() {
    let t = repo();
    let d = t.path();
    let old = key("sk_live_", 24);
    commit(d, &[("a.txt", &format!("A = '{old}'\n"))], "c1");
    let head = git(d, &["rev-parse", "HEAD"]);
    remove_loose(d, &head);
    let k = key("rk_live_", 24);
    write(d, "k.py", format!("K = '{k}'\n"));
    git(d, &["add", "k.py"]);

    let r = scan(d, "staged");
    // Without HEAD nothing can be told apart as old: the key already committed is reported too.
    expect(&r, 1, &[&k, &old]);
    assert!(has(&r, &k) && has(&r, &old), "{}", r.stdout);
    assert!(one_line(&r, &head).contains("HEAD's commit: object not found"));

    // The branch and HEAD lead to the same missing commit: named once.
    let r = scan(d, "history");
    expect(&r, 2, &[&k, &old]);
    one_line(&r, &head);
}

#[test]
fn during_a_conflict_keys_elsewhere_are_found_by_staged_and_history() {
    let t = repo();
    let d = t.path();
    commit(d, &[("c.txt", "base\n")], "base");
    git(d, &["checkout", "-q", "-b", "other"]);
    let theirs = key("sk_live_", 24);
    commit(d, &[("c.txt", &format!("T = '{theirs}'\n"))], "theirs");
    git(d, &["checkout", "-q", "main"]);
    commit(d, &[("c.txt", "ours\n")], "ours");
    let out = git_cmd(d, &["merge", "other"]).output().expect("merge");
    assert!(!out.status.success(), "a conflict");
    let k = key("rk_live_", 24);
    write(d, "k.py", format!("K = '{k}'\n"));
    git(d, &["add", "k.py"]);

    let r = scan(d, "staged");
    expect(&r, 1, &[&k, &theirs]);
    assert_eq!(r.findings().len(), 1, "{}", r.stdout);
    assert!(has(&r, &k));
    assert!(one_line(&r, "c.txt").contains("unmerged"));

    // History reads commits, not the conflicted index: the other side's key is found.
    let r = scan(d, "history");
    expect(&r, 1, &[&k, &theirs]);
    assert!(has(&r, &theirs), "{}", r.stdout);
}

#[test]
fn a_missing_blob_among_many_staged_files_is_one_line_and_the_rest_are_scanned() {
    let t = repo();
    let d = t.path();
    commit(d, &[("a.txt", "a\n")], "c1");
    // Enough files for the parallel readers.
    let keys: Vec<String> = (0..40).map(|_| key("sk_live_", 24)).collect();
    for (i, k) in keys.iter().enumerate() {
        write(d, &format!("f/{i:02}.py"), format!("K = '{k}'\n"));
    }
    write(d, "f/gone.txt", "nobody will read this\n");
    git(d, &["add", "-A"]);
    let gone = git(d, &["rev-parse", ":f/gone.txt"]);
    remove_loose(d, &gone);
    let all: Vec<&str> = keys.iter().map(String::as_str).collect();
    let r = scan(d, "staged");
    expect(&r, 1, &all);
    assert_eq!(r.findings().len(), 40, "{}", r.stderr);
    assert!(one_line(&r, "f/gone.txt").contains(&gone));
    assert_eq!(r.json()["summary"]["errors"], 1);
}
