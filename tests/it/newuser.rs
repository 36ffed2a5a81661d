//! A new user's first hour (issue 15), on the real binary: paths as written, the config found from
//! a subdirectory, allowlist patterns, a rolled key accepted from history, hooks that find their
//! binary, what was not scanned, `-C`, completions, the man page and `--version`.

use crate::staged::scan_env;
use crate::util::{bin, commit, git, git_cmd, git_init, key, run, run_stdin, tempdir, write, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn paths_of(r: &Run) -> Vec<String> {
    r.findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A repository with a key in `docs/readme.md` and one in `src/app/a.env`.
fn two_folders() -> (tempfile::TempDir, String, String) {
    let d = tempdir();
    git_init(d.path());
    let docs = key("sk_live_", 24);
    let src = key("rk_live_", 24);
    write(d.path(), "docs/readme.md", format!("K={docs}\n"));
    write(d.path(), "src/app/a.env", format!("R={src}\n"));
    (d, docs, src)
}

#[test]
fn paths_read_as_written_for_one_argument_or_several_and_sarif_names_repository_files() {
    let (d, _, _) = two_folders();
    let root = d.path();
    let one = run(root, &["scan", "--format", "json", "docs"]);
    assert_eq!(paths_of(&one), vec!["docs/readme.md"], "{}", one.stderr);
    let two = run(root, &["scan", "--format", "json", "docs", "src"]);
    assert_eq!(paths_of(&two), vec!["docs/readme.md", "src/app/a.env"]);
    let text = run(root, &["scan", "--quiet", "docs/"]);
    assert!(
        text.stdout
            .starts_with("docs/readme.md:1:3: live secret key"),
        "{}",
        text.stdout
    );
    let abs = root.join("docs");
    let abs = abs.to_str().expect("utf-8 temp path");
    let r = run(root, &["scan", "--format", "json", abs]);
    assert_eq!(
        paths_of(&r),
        vec![format!("{abs}/readme.md")],
        "an absolute argument gives absolute paths"
    );
    // From a subdirectory: paths from there, SARIF from the repository's top.
    let sub = root.join("src");
    let r = run(&sub, &["scan", "--format", "json", "."]);
    assert_eq!(paths_of(&r), vec!["app/a.env"]);
    let r = run(&sub, &["scan", "--format", "json", "../docs"]);
    assert_eq!(paths_of(&r), vec!["../docs/readme.md"]);
    let r = run(&sub, &["scan", "--format", "sarif", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
    let location = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/app/a.env");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
}

#[test]
fn the_config_at_the_repository_top_applies_when_a_subdirectory_is_scanned() {
    let (d, _, _) = two_folders();
    let root = d.path();
    write(
        root,
        ".stripe-scan.toml",
        "fail_on = \"critical\"\n[allow]\npaths = [\"docs/\"]\n",
    );
    // The restricted key (high) is below fail_on: reported, and the run passes.
    let sub = root.join("src/app");
    let r = run(&sub, &["scan", "."]);
    assert_eq!(r.code, 0, "fail_on from the top applies: {}", r.stderr);
    assert!(
        r.stdout
            .contains("(reported, does not fail: below --fail-on critical)"),
        "{}",
        r.stdout
    );
    // `[allow] paths` from the top applies to `../../docs` too.
    let r = run(&sub, &["scan", "--format", "json", "../../docs"]);
    assert_eq!((r.code, paths_of(&r)), (0, vec![]), "{}", r.stderr);
    assert_eq!(r.json()["summary"]["suppressed_by"]["path"], 1);
    // --config still wins; the config is not looked for above the repository's top.
    write(root, "strict.toml", "fail_on = \"low\"\n");
    let r = run(&sub, &["scan", "--config", "../../strict.toml", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let inner = root.join("vendor/lib");
    std::fs::create_dir_all(&inner).expect("mkdir");
    git_init(&inner);
    write(&inner, "k.env", format!("R={}\n", key("rk_live_", 24)));
    let r = run(&inner, &["scan", "."]);
    assert_eq!(
        r.code, 1,
        "a nested repository has its own top: {}",
        r.stderr
    );
}

#[test]
fn allow_path_patterns_read_as_gitignore_lines_at_every_depth_and_dead_ones_are_named() {
    for pattern in ["docs/", "docs", "/docs/", "/docs"] {
        let (d, _, _) = two_folders();
        let root = d.path();
        write(
            root,
            ".stripe-scan.toml",
            format!("[allow]\npaths = [{pattern:?}]\n"),
        );
        for (dir, arg) in [(root.to_path_buf(), "."), (root.join("src"), "..")] {
            let r = run(&dir, &["scan", "--format", "json", arg]);
            let found = paths_of(&r);
            assert_eq!(found.len(), 1, "{pattern} from {dir:?}: {found:?}");
            assert!(found[0].ends_with("src/app/a.env"), "{pattern}: {found:?}");
            assert!(!r.stderr.contains("warning"), "{}", r.stderr);
        }
    }
    let (d, _, _) = two_folders();
    let root = d.path();
    write(
        root,
        "tests/__snapshots__/x.snap",
        format!("{}\n", key("sk_live_", 24)),
    );
    write(
        root,
        ".stripe-scan.toml",
        "[allow]\npaths = [\"*.snap\", \"/app/\", \"src/app/\"]\n",
    );
    let r = run(root, &["scan", "--format", "json", "."]);
    assert_eq!(paths_of(&r), vec!["docs/readme.md"], "{}", r.stderr);
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(
        warnings,
        vec![format!(
            "stripe-scan: warning: .stripe-scan.toml: [allow] paths entry \"/app/\" matches no file scanned (patterns read like .gitignore lines, from {})",
            root.display()
        )],
        "{}",
        r.stderr
    );
    // A single file says nothing about the patterns.
    let r = run(root, &["scan", "docs/readme.md"]);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

#[test]
fn baseline_history_accepts_a_rolled_key_and_the_pre_push_hook_passes() {
    let d = tempdir();
    let work = d.path().join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    git_init(&work);
    git(
        d.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    git(&work, &["remote", "add", "origin", "../origin.git"]);
    commit(&work, &[("README.md", "# demo\n")], "init");
    git(&work, &["push", "-q", "origin", "main"]);
    let rolled = key("sk_live_", 24);
    commit(
        &work,
        &[("config/app.env", &format!("K={rolled}\n"))],
        "leak",
    );
    std::fs::remove_file(work.join("config/app.env")).expect("rm");
    commit(&work, &[], "remove the key");
    let r = scan_env(&work, &["install-hook", "--pre-push"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let push = |dir: &Path| {
        git_cmd(dir, &["push", "-q", "origin", "main"])
            .output()
            .expect("push")
    };
    let out = push(&work);
    let t = text(&out);
    assert!(!out.status.success(), "the key in history blocks: {t}");
    assert!(t.contains("config/app.env:1:3: live secret key"), "{t}");
    assert!(t.contains("no longer in HEAD"), "{t}");
    assert!(
        !t.contains("Remove it from the file"),
        "a step that does not apply is not printed: {t}"
    );
    assert!(
        t.contains("Rewrite the unpushed commits so that none holds it"),
        "{t}"
    );

    // The plain baseline sees only the working tree, which is clean.
    let r = scan_env(&work, &["baseline"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(": 0 occurrences of 0 keys"),
        "{}",
        r.stderr
    );
    let r = scan_env(&work, &["baseline", "--history"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("wrote .stripe-scan-baseline.json: 1 occurrence of 1 key (1 new, 0 already recorded, 0 pruned) from 3 commits, "),
        "{}",
        r.stderr
    );
    let saved = std::fs::read_to_string(work.join(".stripe-scan-baseline.json")).expect("baseline");
    assert!(saved.contains("\"path\":\"config/app.env\""), "{saved}");
    assert!(!saved.contains(&rolled));
    commit(&work, &[], "accept the rolled key");
    let out = push(&work);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        text(&out),
        "",
        "a clean push through the hook prints nothing"
    );

    // The same key pasted into a new file is not accepted by that baseline.
    write(&work, "deploy.sh", format!("export K={rolled}\n"));
    git(&work, &["add", "-A"]);
    let out = git_cmd(&work, &["commit", "-q", "-m", "again"])
        .output()
        .expect("commit");
    let t = text(&out);
    assert!(
        !out.status.success() && t.contains("(known key, new location"),
        "the pre-commit hook stops it first: {t}"
    );
    git(&work, &["commit", "-q", "--no-verify", "-m", "again"]);
    let out = push(&work);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("deploy.sh:1:10: live secret key")
            && t.contains("(known key, new location: the baseline has it at another path only)"),
        "{t}"
    );
    // pre-push takes --fail-on, --baseline and --config like the other scans.
    let r = pre_push(&work, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("known key, new location"), "{}", r.stdout);
    let r = pre_push(&work, &["--fail-on", "critical"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let empty = d.path().join("empty.json");
    std::fs::write(&empty, "{\"version\": 2, \"keys\": []}\n").expect("write");
    let r = pre_push(&work, &["--baseline", empty.to_str().expect("utf-8")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("deploy.sh:1:10: live secret key") && !r.stdout.contains("known key"),
        "--baseline replaces the one found: {}",
        r.stdout
    );
    let cfg = d.path().join("lenient.toml");
    std::fs::write(
        &cfg,
        format!(
            "[allow]\nfingerprints = [\"{}\"]\n",
            stripe_scan::secret::fingerprint_of(rolled.as_bytes())
        ),
    )
    .expect("write");
    let r = pre_push(&work, &["--config", cfg.to_str().expect("utf-8")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// `stripe-scan pre-push ARGS origin URL` with what git would write for pushing main.
fn pre_push(dir: &Path, args: &[&str]) -> Run {
    let head = git(dir, &["rev-parse", "HEAD"]);
    let remote = git(dir, &["rev-parse", "origin/main"]);
    let argv = [&["pre-push"], args, &["origin", "../origin.git"]].concat();
    let refs = format!("refs/heads/main {head} refs/heads/main {remote}\n");
    run_stdin(dir, &argv, refs.as_bytes())
}

/// A folder whose only program is git: the PATH of a GUI client that lacks `~/.cargo/bin`.
#[cfg(unix)]
fn path_with_only_git(dir: &Path) -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .expect("sh");
    let real = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let only = dir.join("only-git");
    std::fs::create_dir_all(&only).expect("mkdir");
    std::os::unix::fs::symlink(real, only.join("git")).expect("symlink");
    only
}

#[cfg(unix)]
#[test]
fn a_hook_installed_through_an_absolute_path_runs_that_binary_without_path_and_uninstalls() {
    let tools = tempfile::Builder::new()
        .prefix("stripe-scan-tools")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir");
    // A copy, so the test can take it away afterwards.
    let copy = tools.path().join("stripe-scan");
    if std::fs::hard_link(bin(), &copy).is_err() {
        std::fs::copy(bin(), &copy).expect("copy the binary");
    }
    let d = tempdir();
    let repo = d.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    git_init(&repo);
    commit(&repo, &[("README.md", "# demo\n")], "init");
    let theirs = repo.join(".git/hooks/pre-commit");
    std::fs::write(&theirs, "#!/bin/sh\necho theirs >&2\n").expect("their hook");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let out = Command::new(&copy)
        .args(["install-hook", "--force"])
        .current_dir(&repo)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("install");
    assert!(out.status.success(), "{}", text(&out));
    let canonical = std::fs::canonicalize(&copy).expect("canonical");
    assert!(
        text(&out).contains(&format!("the hooks run {}", canonical.display())),
        "{}",
        text(&out)
    );
    let only_git = path_with_only_git(d.path());
    let commit_without_path = |msg: &str| {
        git_cmd(&repo, &["commit", "-q", "-m", msg])
            .env("PATH", &only_git)
            .env_remove("STRIPE_SCAN")
            .output()
            .expect("git commit")
    };
    write(
        &repo,
        "billing.py",
        format!("KEY = '{}'\n", key("sk_live_", 24)),
    );
    git(&repo, &["add", "-A"]);
    let out = commit_without_path("add billing");
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("billing.py:1:8: live secret key"), "{t}");
    assert!(
        t.contains("git restore --staged billing.py"),
        "the step names the real path: {t}"
    );
    assert!(!t.contains("not on PATH"), "{t}");

    // A clean commit prints nothing but what the hook that was there before prints.
    write(&repo, "billing.py", "KEY = os.environ['STRIPE_KEY']\n");
    git(&repo, &["add", "-A"]);
    let out = commit_without_path("clean");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(text(&out), "theirs\n");

    // The binary gone and none on PATH: the commit is blocked and the message says why.
    drop(tools);
    write(&repo, "b.txt", "x\n");
    git(&repo, &["add", "-A"]);
    let out = commit_without_path("no binary");
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("'stripe-scan' is not installed or not on PATH (and ")
            && t.contains(", which installed this hook, is gone)"),
        "{t}"
    );

    let r = scan_env(&repo, &["uninstall-hook"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the hook it ran after its check is back as"),
        "{}",
        r.stderr
    );
    let hooks = repo.join(".git/hooks");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).expect("theirs back"),
        "#!/bin/sh\necho theirs >&2\n"
    );
    assert!(!hooks.join("pre-merge-commit").exists());
    assert!(!hooks.join("pre-commit.local").exists());
    let r = scan_env(&repo, &["uninstall-hook"], &[]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("left "), "{}", r.stderr);
    assert!(
        r.stderr.contains("stripe-scan did not write it"),
        "{}",
        r.stderr
    );
}

#[test]
fn max_file_size_below_one_mebibyte_skips_and_says_so() {
    let d = tempdir();
    let k = key("sk_live_", 24);
    write(
        d.path(),
        "big.txt",
        format!("{}\nK={k}\n", "x".repeat(3000)),
    );
    let r = run(d.path(), &["scan", "--max-file-size", "1K", "."]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "stripe-scan: big.txt: skipped: 3036 bytes is over --max-file-size (1024 bytes)"
        ),
        "{}",
        r.stderr
    );
    let r = run(d.path(), &["scan", "--max-file-size", "4K", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn show_secrets_says_when_it_does_not_apply() {
    let d = tempdir();
    let k = key("sk_live_", 24);
    write(d.path(), "a.env", format!("K={k}\n"));
    for format in ["sarif", "github"] {
        let r = run(
            d.path(),
            &["scan", "--show-secrets", "--format", format, "."],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "stripe-scan: --show-secrets does not apply to --format {format}"
            )),
            "{}",
            r.stderr
        );
        assert!(!r.stdout.contains(&k), "{format} holds the key");
    }
    let r = run(
        d.path(),
        &["scan", "--show-secrets", "--format", "json", "."],
    );
    assert!(!r.stderr.contains("does not apply"), "{}", r.stderr);
    assert!(r.stdout.contains(&k));
}

#[test]
fn dash_c_runs_as_if_started_in_that_folder_and_repository_errors_suggest_it() {
    let (d, _, _) = two_folders();
    let outside = tempdir();
    let top = d.path().to_str().expect("utf-8");
    let r = run(
        outside.path(),
        &["-C", top, "scan", "--format", "json", "docs"],
    );
    assert_eq!(paths_of(&r), vec!["docs/readme.md"], "{}", r.stderr);
    git(d.path(), &["add", "-A"]);
    let r = scan_env(
        outside.path(),
        &["-C", top, "staged", "--format", "json"],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(paths_of(&r), vec!["docs/readme.md", "src/app/a.env"]);
    for command in ["history", "staged"] {
        let r = scan_env(
            outside.path(),
            &[command],
            &[(
                "GIT_CEILING_DIRECTORIES",
                outside
                    .path()
                    .parent()
                    .and_then(Path::to_str)
                    .unwrap_or("/"),
            )],
        );
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.starts_with(&format!(
                "stripe-scan: {command}: not in a git repository ("
            )) && r
                .stderr
                .trim_end()
                .ends_with(&format!("name one: `stripe-scan -C DIR {command}`")),
            "{}",
            r.stderr
        );
    }
    let r = run(outside.path(), &["-C", "no/such/dir", "scan"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("stripe-scan: -C no/such/dir: "),
        "{}",
        r.stderr
    );
}

#[test]
fn completions_man_page_and_version_come_from_the_command_line_definitions() {
    let d = tempdir();
    for (shell, marker) in [
        ("bash", "complete -F _stripe__scan"),
        ("zsh", "#compdef stripe-scan"),
        ("fish", "complete -c stripe-scan"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(d.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(
            r.stdout.contains(marker),
            "{shell}: {}",
            &r.stdout[..200.min(r.stdout.len())]
        );
        assert!(r.stdout.contains("uninstall-hook"), "{shell}");
        assert!(r.stdout.contains("max-file-size"), "{shell}");
    }
    let r = run(d.path(), &["completions", "tcsh"]);
    assert_eq!(r.code, 2);
    let r = run(d.path(), &["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH stripe-scan 1"));
    let r = run(d.path(), &["man", "--dir", "pages"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for page in [
        "stripe-scan.1",
        "stripe-scan-scan.1",
        "stripe-scan-history.1",
    ] {
        assert!(d.path().join("pages").join(page).is_file(), "{page}");
    }
    let r = run(d.path(), &["--version"]);
    assert_eq!(r.code, 0);
    let rules =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/stripe.toml"))
            .expect("rules");
    let version = rules
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rules version");
    let line = r.stdout.trim();
    assert!(
        line.starts_with(&format!("stripe-scan {} (", env!("CARGO_PKG_VERSION")))
            && line.ends_with(&format!("rules {version})")),
        "{line}"
    );
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(head) = head {
        assert!(
            line.contains(&format!("commit {head}")),
            "{line} (HEAD {head})"
        );
    }
    let r = run(d.path(), &["rules", "--help"]);
    let listed: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- "))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(listed, vec!["text", "json", "sarif"], "{}", r.stdout);
}

/// README's quick start shows what the binary prints, byte for byte apart from the key, its
/// fingerprint and the time; its two commands and the Rust version stay true.
#[test]
fn readme_quick_start_is_real_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(readme.contains("cargo install --path . && stripe-scan scan ."));
    assert!(readme.contains("```sh\ncargo test\n```"));
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let rust = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version");
    assert!(
        readme.contains(&format!("Rust {rust} or later")),
        "README names Rust {rust}"
    );
    for file in ["LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"] {
        assert!(root.join(file).is_file(), "{file}");
    }
    let start = readme.find("$ stripe-scan scan .\n").expect("quick start") + 21;
    let end = start
        + readme[start..]
            .find("$ echo $?")
            .expect("end of the output");
    let shown = &readme[start..end];

    let d = tempdir();
    git_init(d.path());
    let k = format!("sk_live_51{}", &key("sk_live_", 97)[8..]);
    write(
        d.path(),
        "config/production.env",
        format!("DEBUG=false\nSTRIPE_SECRET_KEY={k}\n"),
    );
    write(d.path(), "app.py", "print('hello')\n");
    let r = run(d.path(), &["scan", "."]);
    assert_eq!(r.code, 1);
    assert!(readme[end..].starts_with("$ echo $?\n1\n"));
    let normal = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                let mut out = String::new();
                for word in l.split(' ') {
                    let w = if word.contains("sk_live_51") && word.contains('…') {
                        let lead = &word[..word.find("sk_live_51").unwrap_or(0)];
                        format!("{lead}KEY")
                    } else if word.starts_with("sha256:") && word.len() == 71 {
                        "FP".to_string()
                    } else if word.parse::<f64>().is_ok() && l.starts_with("stripe-scan:") {
                        "N".to_string()
                    } else {
                        word.to_string()
                    };
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&w);
                }
                out
            })
            .collect()
    };
    assert_eq!(
        normal(shown),
        normal(&format!("{}{}", r.stdout, r.stderr)),
        "README's quick start no longer matches the binary:\n{}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn errors_about_a_baseline_say_who_named_it_and_what_to_do() {
    let d = tempdir();
    git_init(d.path());
    write(
        d.path(),
        ".stripe-scan.toml",
        "fail_on = \"low\"\nbaseline = \"base.json\"\n",
    );
    let r = run(d.path(), &["scan", "."]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "stripe-scan: base.json: No such file or directory (named by `baseline = \"base.json\"` in .stripe-scan.toml:2); fix the name, or create it with `stripe-scan baseline`"
    );
    write(d.path(), "base.json", "nope\n");
    let r = run(d.path(), &["scan", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("stripe-scan: base.json:1: not a baseline (not JSON: ")
            && r.stderr.trim_end().ends_with(
                "(named by `baseline = \"base.json\"` in .stripe-scan.toml:2); regenerate it with `stripe-scan baseline`"
            ),
        "{}",
        r.stderr
    );
    // Found beside the scan root, it says so.
    std::fs::remove_file(d.path().join(".stripe-scan.toml")).expect("rm");
    write(d.path(), ".stripe-scan-baseline.json", "[]\n");
    let r = run(d.path(), &["scan", "."]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("(found as .stripe-scan-baseline.json beside or above the scan root); regenerate it with `stripe-scan baseline`"),
        "{}",
        r.stderr
    );
}
