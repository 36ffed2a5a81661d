//! Repositories libgit2 cannot open (SHA-256 object ids, reftable refs) are read through the
//! installed `git`, said once on stderr, with the same findings a normal repository gives;
//! partial clones are read, and what they left on their remote is one line saying what to do.
//! `STRIPE_SCAN_OBJECT_READER=git` takes the same path on any repository, so it is proved
//! against the fast path there.

use crate::util::{bin, git, git_cmd, key, tempdir, write, Run};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use stripe_scan::secret::fingerprint_of;

fn stripe_scan(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = Command::new(bin());
    c.args(args)
        .args(["--format", "json"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("STRIPE_SCAN_OBJECT_READER");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run stripe-scan");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn only(r: &Run, secret: &str) -> Vec<Value> {
    let fp = fingerprint_of(secret.as_bytes());
    r.findings()
        .into_iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .collect()
}

/// `git init` with `flags`, or None (and the reason printed) when this git cannot make one.
fn init(dir: &Path, flags: &[&str]) -> Option<()> {
    let out = git_cmd(dir, &[&["init", "-q", "-b", "main"], flags].concat())
        .output()
        .expect("run git");
    if out.status.success() {
        return Some(());
    }
    eprintln!(
        "SKIPPED: the installed git cannot run `git init {}`: {}",
        flags.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    None
}

/// A key added in one commit and removed in the next, a key still in HEAD, and a staged key
/// beside an old one; history and staged must each find what they find in any repository.
fn history_and_staged_find_keys(dir: &Path, slow_reason: &str) {
    let gone = key("sk_live_", 24);
    let kept = key("rk_live_", 24);
    write(dir, "app.py", format!("A = 1\nKEY = \"{gone}\"\n"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "add"]);
    let added = git(dir, &["rev-parse", "HEAD"]);
    write(dir, "app.py", "A = 1\n");
    write(dir, "cfg/live.py", format!("# x\nR = '{kept}'\n"));
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "remove"]);
    let second = git(dir, &["rev-parse", "HEAD"]);

    let r = stripe_scan(dir, &["history"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let said: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("through the git binary"))
        .collect();
    assert_eq!(said.len(), 1, "said once:\n{}", r.stderr);
    assert!(said[0].contains(slow_reason), "{}", said[0]);
    let g = only(&r, &gone);
    assert_eq!(g.len(), 1, "{}", r.stdout);
    assert_eq!(g[0]["path"], "app.py");
    assert_eq!(
        (g[0]["line"].as_u64(), g[0]["column"].as_u64()),
        (Some(2), Some(8))
    );
    assert_eq!(g[0]["commit"], added.as_str());
    assert_eq!(g[0]["author"], "Ada Tester <ada@example.com>");
    assert_eq!(g[0]["date"], "2024-01-02T03:04:05Z");
    assert_eq!(g[0]["still_in_head"], false);
    let k = only(&r, &kept);
    assert_eq!(k.len(), 1, "{}", r.stdout);
    assert_eq!(
        (k[0]["path"].as_str(), k[0]["line"].as_u64()),
        (Some("cfg/live.py"), Some(2))
    );
    assert_eq!(k[0]["commit"], second.as_str());
    assert_eq!(k[0]["still_in_head"], true);

    // Staged: only the key on an added line counts, not the old one in the same file.
    let fresh = key("sk_live_", 24);
    write(
        dir,
        "cfg/live.py",
        format!("# x\nR = '{kept}'\nS = '{fresh}'\n"),
    );
    git(dir, &["add", "-A"]);
    let r = stripe_scan(dir, &["staged"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("through the git binary"), "{}", r.stderr);
    let f = r.findings();
    assert_eq!(f.len(), 1, "{}", r.stdout);
    assert_eq!(
        f[0]["fingerprint"],
        fingerprint_of(fresh.as_bytes()).as_str()
    );
    assert_eq!(
        (f[0]["path"].as_str(), f[0]["line"].as_u64()),
        (Some("cfg/live.py"), Some(3))
    );
    git(dir, &["commit", "-qm", "third"]);
    write(dir, "notes.txt", "nothing here\n");
    git(dir, &["add", "-A"]);
    let r = stripe_scan(dir, &["staged"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_sha256_repository_is_scanned_through_git() {
    let t = tempdir();
    if init(t.path(), &["--object-format=sha256"]).is_none() {
        return;
    }
    history_and_staged_find_keys(t.path(), "sha256");
}

#[test]
fn a_reftable_repository_is_scanned_through_git() {
    let t = tempdir();
    if init(t.path(), &["--ref-format=reftable"]).is_none() {
        return;
    }
    history_and_staged_find_keys(t.path(), "refstorage");
}

#[test]
fn the_git_reader_finds_what_the_fast_path_finds() {
    let t = tempdir();
    let d = t.path();
    init(d, &[]).expect("git init");
    let keys: Vec<String> = (0..3).map(|_| key("sk_live_", 24)).collect();
    for (i, k) in keys.iter().enumerate() {
        write(d, &format!("f{i}.py"), format!("x = {i}\nK = '{k}'\n"));
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", &format!("c{i}")]);
    }
    git(d, &["checkout", "-qb", "side", "HEAD~1"]);
    write(d, "side.py", format!("S = '{}'\n", keys[0]));
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "side"]);
    git(d, &["checkout", "-q", "main"]);
    git(d, &["merge", "-q", "--no-ff", "side", "-m", "merge"]);
    git(d, &["rm", "-q", "f1.py"]);
    // A key pasted into a commit message, on its fourth line (after "rm", "" and "used").
    let pasted = key("rk_live_", 24);
    git(
        d,
        &["commit", "-qm", "rm", "-m", &format!("used\nKEY={pasted}")],
    );
    // And one in an annotated tag's message, tagged again by a second tag.
    let tagged = key("sk_live_", 24);
    let note = format!("release\n{tagged}");
    git(d, &["tag", "-a", "v1", "-m", &note, "HEAD~1"]);
    git(d, &["tag", "-a", "v1-again", "-m", "same", "v1"]);
    git(d, &["repack", "-adq"]);
    // Two stash entries: the older one only in the stash's reflog.
    for prefix in ["sk_test_", "rk_test_"] {
        write(d, "f0.py", format!("x = '{}'\n", key(prefix, 24)));
        git(d, &["stash", "-q"]);
    }
    let fast = stripe_scan(d, &["history"], &[]);
    let slow = stripe_scan(d, &["history"], &[("STRIPE_SCAN_OBJECT_READER", "git")]);
    assert_eq!(fast.code, 1, "{}", fast.stderr);
    assert_eq!(slow.code, fast.code, "{}", slow.stderr);
    assert_eq!(fast.findings().len(), 8, "{}", fast.stdout);
    assert_eq!(fast.findings(), slow.findings());
    // Where each message key is: (place, line, column, commit, tag).
    let place = |secret: &str| {
        let found = only(&slow, secret);
        assert_eq!(found.len(), 1, "{}", slow.stdout);
        let f = &found[0];
        let text = |k: &str| f[k].as_str().map(str::to_string);
        (
            text("place"),
            f["line"].clone(),
            f["column"].clone(),
            text("commit"),
            text("tag"),
        )
    };
    let commit = |rev: &str| Some(git(d, &["rev-parse", rev]));
    let text = |s: &str| Some(s.to_string());
    assert_eq!(
        place(&pasted),
        (
            text("commit_message"),
            4.into(),
            5.into(),
            commit("HEAD"),
            None
        )
    );
    assert_eq!(
        place(&tagged),
        (
            text("tag_message"),
            2.into(),
            1.into(),
            commit("HEAD~1"),
            text("v1")
        )
    );
}

#[test]
fn a_partial_clone_is_read_and_its_missing_blobs_are_one_line() {
    let up = tempdir();
    let u = up.path();
    init(u, &[]).expect("git init");
    let old = key("sk_live_", 24);
    write(u, "old.py", format!("K = '{old}'\n"));
    git(u, &["add", "-A"]);
    git(u, &["commit", "-qm", "old"]);
    git(u, &["rm", "-q", "old.py"]);
    let head = key("rk_live_", 24);
    write(u, "now.py", format!("K = '{head}'\n"));
    git(u, &["add", "-A"]);
    git(u, &["commit", "-qm", "now"]);
    git(u, &["config", "uploadpack.allowFilter", "true"]);
    let work = tempdir();
    let url = format!("file://{}", u.display());
    git(
        work.path(),
        &["clone", "-q", "--filter=blob:none", &url, "clone"],
    );
    let d = work.path().join("clone");
    assert_eq!(git(&d, &["config", "remote.origin.promisor"]), "true");
    let before = git(&d, &["count-objects", "-v"]);

    // As this git clones, then as older ones did (`extensions.partialClone`, which libgit2
    // refuses unless told it is harmless).
    for older in [false, true] {
        if older {
            git(&d, &["config", "core.repositoryformatversion", "1"]);
            git(&d, &["config", "extensions.partialClone", "origin"]);
        }
        for env in [&[][..], &[("STRIPE_SCAN_OBJECT_READER", "git")][..]] {
            let r = stripe_scan(&d, &["history"], env);
            let case = format!("older={older} {env:?}");
            assert_eq!(r.code, 1, "{case}: {}", r.stderr);
            assert_eq!(
                only(&r, &head).len(),
                1,
                "HEAD's blob is here: {}",
                r.stdout
            );
            assert!(only(&r, &old).is_empty());
            let lines: Vec<&str> = r
                .stderr
                .lines()
                .filter(|l| l.contains("partial clone"))
                .collect();
            assert_eq!(lines.len(), 1, "{case}:\n{}", r.stderr);
            assert!(
                lines[0].contains("1 objects were left on the remote \"origin\""),
                "{}",
                lines[0]
            );
            assert!(
                lines[0].contains("git fetch --refetch --no-filter origin"),
                "{}",
                lines[0]
            );
            assert!(!r.stderr.contains("object not found"), "{}", r.stderr);
            assert!(r.json()["summary"]["errors"].as_u64() > Some(0));
        }
    }
    assert_eq!(
        git(&d, &["count-objects", "-v"]),
        before,
        "nothing was fetched"
    );

    // The clone has everything once fetched as the line says; then the old key is found.
    git(&d, &["fetch", "-q", "--refetch", "--no-filter", "origin"]);
    let r = stripe_scan(&d, &["history"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(only(&r, &old).len(), 1, "{}", r.stdout);
    assert!(!r.stderr.contains("partial clone"), "{}", r.stderr);
}

/// A staged archive that keeps an old key in one member and adds one in another: only the new
/// key is new, in a repository our reader opens and in a SHA-256 one read through git (a
/// member's line is not a line of the file, so the file's line diff cannot tell; the old
/// version's keys can).
#[test]
fn staged_archive_members_are_compared_by_key_with_either_reader() {
    use crate::pack::{zip, Entry};
    for flags in [&[][..], &["--object-format=sha256"]] {
        let t = tempdir();
        let d = t.path();
        if init(d, flags).is_none() {
            continue;
        }
        let (old, new) = (key("sk_live_", 24), key("rk_live_", 24));
        let one = format!("A={old}\n");
        let two = format!("B={new}\n");
        std::fs::write(
            d.join("app.jar"),
            zip(&[Entry::file("a.env", one.as_bytes())]),
        )
        .expect("w");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "jar"]);
        let jar = zip(&[
            Entry::file("a.env", one.as_bytes()),
            Entry::file("b.env", two.as_bytes()),
        ]);
        std::fs::write(d.join("app.jar"), jar).expect("w");
        git(d, &["add", "-A"]);
        let r = stripe_scan(d, &["staged"], &[]);
        assert_eq!(r.code, 1, "{flags:?}: {}", r.stderr);
        assert!(only(&r, &old).is_empty(), "{flags:?}: {}", r.stdout);
        let found = only(&r, &new);
        assert_eq!(found.len(), 1, "{flags:?}: {}", r.stdout);
        assert_eq!(found[0]["path"], "app.jar!b.env");
    }
}

/// git's log names paths as they are: a byte 0x01 in a path (or an author's name) is data, and
/// the keys of every file after it in the same commit are still found.
#[test]
fn odd_bytes_in_paths_and_names_do_not_hide_the_files_after_them() {
    let t = tempdir();
    let d = t.path();
    if init(d, &["--object-format=sha256"]).is_none() {
        return;
    }
    let k = key("sk_live_", 24);
    std::fs::write(d.join("a\u{1}odd.txt"), "nothing\n").expect("w");
    write(d, "z.env", format!("K={k}\n"));
    git(d, &["add", "-A"]);
    let out = git_cmd(d, &["commit", "-qm", "both"])
        .env("GIT_AUTHOR_NAME", "Odd\u{1}Name")
        .output()
        .expect("git commit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = stripe_scan(d, &["history"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = only(&r, &k);
    assert_eq!(found.len(), 1, "{}", r.stdout);
    assert_eq!(found[0]["path"], "z.env");
}
