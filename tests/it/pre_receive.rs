//! `hooks/pre-receive` and `stripe-scan pre-receive` on a real bare repository, driven by real
//! `git push` over a local path: git runs the hook with the pushed objects still in quarantine.

use crate::util::{bin, git, git_cmd, git_init, key, tempdir, work_with_origin, write};
use std::path::{Path, PathBuf};

struct Server {
    _dir: tempfile::TempDir,
    bare: PathBuf,
    work: PathBuf,
}

/// A bare `server.git` and a clone-like `work` with `origin` pointing at it. `history` is pushed
/// before the hook is installed: what the server already has.
fn server(history: &[(&str, &str)]) -> Server {
    let d = tempdir();
    let bare = d.path().join("server.git");
    let work = d.path().join("work");
    git(
        d.path(),
        &["init", "-q", "--bare", "-b", "main", "server.git"],
    );
    std::fs::create_dir_all(&work).expect("mkdir");
    git_init(&work);
    git(&work, &["remote", "add", "origin", "../server.git"]);
    for (path, content) in history {
        commit_file(&work, path, content, "before the hook");
    }
    if !history.is_empty() {
        git(&work, &["push", "-q", "origin", "main"]);
    }
    let hook = bare.join("hooks/pre-receive");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks/pre-receive"),
        &hook,
    )
    .expect("install hook");
    Server {
        _dir: d,
        bare,
        work,
    }
}

fn commit_file(work: &Path, path: &str, content: &str, message: &str) -> String {
    write(work, path, content);
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", message]);
    git(work, &["rev-parse", "HEAD"])
}

struct Pushed {
    ok: bool,
    stderr: String,
}

/// `git push origin <args>` with this build as the stripe-scan the server's hook runs.
fn push(work: &Path, args: &[&str]) -> Pushed {
    let out = git_cmd(work, &[&["push", "origin"], args].concat())
        .env("STRIPE_SCAN", bin())
        .output()
        .expect("git push");
    Pushed {
        ok: out.status.success(),
        // A client-side hook's report may be on either stream; the server's comes as `remote:`.
        stderr: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn server_has(bare: &Path, id: &str) -> bool {
    git_cmd(bare, &["cat-file", "-e", id])
        .status()
        .expect("git cat-file")
        .success()
}

fn server_ref(bare: &Path, name: &str) -> Option<String> {
    let out = git_cmd(bare, &["rev-parse", "--verify", "-q", name])
        .output()
        .expect("git rev-parse");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn a_push_with_a_key_is_rejected_and_the_key_never_reaches_the_server() {
    let s = server(&[("README.md", "hello\n")]);
    // Keep what is pushed as a pack in the quarantine directory, so that our pack reader (not
    // only libgit2's loose-object reader) has to find it there.
    git(&s.bare, &["config", "receive.unpackLimit", "1"]);
    let before = server_ref(&s.bare, "main");
    let k = key("sk_live_", 24);
    commit_file(&s.work, "ok.txt", "fine\n", "clean");
    let leak = commit_file(
        &s.work,
        "config/app.env",
        &format!("STRIPE_KEY={k}\n"),
        "add config",
    );
    let p = push(&s.work, &["main"]);
    assert!(!p.ok, "the push went through: {}", p.stderr);
    assert!(
        p.stderr.contains("remote: config/app.env"),
        "the pusher is told where the key is: {}",
        p.stderr
    );
    assert!(
        p.stderr.contains("push rejected"),
        "the pusher is told the push was rejected: {}",
        p.stderr
    );
    assert!(
        p.stderr.contains("pre-receive hook declined"),
        "{}",
        p.stderr
    );
    assert!(
        !p.stderr.contains(&k),
        "the key is echoed back: {}",
        p.stderr
    );
    assert!(
        !server_has(&s.bare, &leak),
        "the key's commit is on the server"
    );
    assert_eq!(server_ref(&s.bare, "main"), before, "main moved");
}

#[test]
fn a_clean_push_is_accepted_even_when_the_server_already_held_a_key() {
    // A key the server had before the hook was installed is not the pusher's to fix: only the
    // commits a push brings are scanned.
    let k = key("sk_live_", 24);
    let s = server(&[("old.env", &format!("KEY={k}\n")), ("old.env", "KEY=\n")]);
    let id = commit_file(&s.work, "new.txt", "fine\n", "clean");
    let p = push(&s.work, &["main"]);
    assert!(p.ok, "a clean push was rejected: {}", p.stderr);
    assert_eq!(server_ref(&s.bare, "main").as_deref(), Some(id.as_str()));
}

#[test]
fn new_branches_and_deletions_are_scanned_for_what_they_add() {
    let s = server(&[("README.md", "hello\n")]);
    // A new branch pointing at commits the server has adds nothing.
    git(&s.work, &["branch", "feature"]);
    let p = push(&s.work, &["feature"]);
    assert!(p.ok, "{}", p.stderr);
    assert!(server_ref(&s.bare, "feature").is_some());
    // Deleting it adds nothing either.
    let p = push(&s.work, &["--delete", "feature"]);
    assert!(p.ok, "{}", p.stderr);
    assert!(p.stderr.contains("only deletes refs"), "{}", p.stderr);
    assert_eq!(server_ref(&s.bare, "feature"), None);
    // A new branch with a key in a new commit is rejected.
    git(&s.work, &["checkout", "-q", "-b", "topic"]);
    let k = key("rk_live_", 24);
    let leak = commit_file(&s.work, "topic.txt", &format!("{k}\n"), "topic");
    let p = push(&s.work, &["topic"]);
    assert!(!p.ok, "{}", p.stderr);
    assert!(p.stderr.contains("topic.txt"), "{}", p.stderr);
    assert!(!server_has(&s.bare, &leak));
    assert_eq!(server_ref(&s.bare, "topic"), None);
    // With the key gone from the branch's commits, the same branch goes through.
    git(&s.work, &["reset", "-q", "--hard", "main"]);
    commit_file(&s.work, "topic.txt", "nothing secret\n", "topic");
    let p = push(&s.work, &["topic"]);
    assert!(p.ok, "{}", p.stderr);
}

#[test]
fn keys_in_pushed_commit_and_tag_messages_are_rejected() {
    let s = server(&[("README.md", "hello\n")]);
    let k = key("sk_live_", 24);
    write(&s.work, "a.txt", "a\n");
    git(&s.work, &["add", "-A"]);
    git(
        &s.work,
        &[
            "commit",
            "-q",
            "-m",
            "fix",
            "-m",
            &format!("used {k} to test"),
        ],
    );
    let leak = git(&s.work, &["rev-parse", "HEAD"]);
    let p = push(&s.work, &["main"]);
    assert!(!p.ok, "{}", p.stderr);
    assert!(
        p.stderr
            .contains(&format!("message of commit {}", &leak[..12])),
        "{}",
        p.stderr
    );
    assert!(!server_has(&s.bare, &leak));

    git(&s.work, &["reset", "-q", "--hard", "HEAD~1"]);
    let k = key("sk_test_", 24);
    git(
        &s.work,
        &["tag", "-a", "v1", "-m", &format!("release\n\n{k}\n")],
    );
    let tag = git(&s.work, &["rev-parse", "v1"]);
    let p = push(&s.work, &["v1"]);
    assert!(!p.ok, "{}", p.stderr);
    assert!(p.stderr.contains("message of tag v1"), "{}", p.stderr);
    assert!(!server_has(&s.bare, &tag));
    // A lightweight tag on a commit the server has brings nothing new.
    git(&s.work, &["tag", "v0"]);
    let p = push(&s.work, &["v0"]);
    assert!(p.ok, "{}", p.stderr);
}

#[test]
fn pre_receive_refuses_lines_git_would_never_write() {
    let s = server(&[("README.md", "hello\n")]);
    let r = crate::util::run_stdin(&s.bare, &["pre-receive"], b"one-word-too-few\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("stdin") && r.stderr.contains("not a pre-receive line"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_client_pre_push_hook_stops_a_key_in_a_pushed_tag_message() {
    // The same tag check on the client side: the pre-push hook names an annotated tag itself, so
    // its message is scanned, not only the commits behind it.
    let d = tempdir();
    let work = work_with_origin(d.path());
    commit_file(&work, "README.md", "hello\n", "start");
    git(&work, &["push", "-q", "origin", "main"]);
    let r = crate::util::run(&work, &["install-hook", "--pre-push"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    git(&work, &["tag", "-a", "v2", "-m", &key("sk_live_", 24)]);
    let tag = git(&work, &["rev-parse", "v2"]);
    let p = push(&work, &["v2"]);
    assert!(!p.ok, "{}", p.stderr);
    assert!(p.stderr.contains("message of tag v2"), "{}", p.stderr);
    let bare = d.path().join("origin.git");
    assert!(!server_has(&bare, &tag));
}

/// A lightweight tag may name a tree or a blob: such a push is accepted with a note (there is
/// no history behind it), not refused as an unknown revision.
#[test]
fn a_tag_of_a_tree_is_pushed_with_a_note() {
    let s = server(&[("README.md", "hello\n")]);
    commit_file(&s.work, "docs/a.md", "more\n", "docs");
    git(&s.work, &["tag", "tree-of-main", "HEAD^{tree}"]);
    let pushed = push(&s.work, &["main", "tree-of-main"]);
    assert!(pushed.ok, "{}", pushed.stderr);
    assert!(
        pushed.stderr.contains("names a tree or blob, not a commit"),
        "{}",
        pushed.stderr
    );
    assert!(server_ref(&s.bare, "refs/tags/tree-of-main").is_some());
}
