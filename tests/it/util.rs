//! Shared helpers: run-time keys, running the binary, real git repositories.

#![allow(dead_code)]

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const WORD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static SEED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static STATE: Cell<u64> = Cell::new({
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        t ^ SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ (std::process::id() as u64) << 32
    });
}

/// xorshift64*: enough randomness for key bodies; no crate needed.
pub fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get() | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// `n` random characters from `set`, redrawn until it mixes upper, lower and digits where the set
/// has them (a real key always does, and it keeps the placeholder checks out of the way).
pub fn random_from(set: &[u8], n: usize) -> String {
    loop {
        let s: String = (0..n)
            .map(|_| set[(next_u64() % set.len() as u64) as usize] as char)
            .collect();
        let has = |f: fn(&char) -> bool| s.chars().any(|c| f(&c));
        let wants_mix =
            set.contains(&b'A') && set.contains(&b'a') && set.contains(&b'0') && n >= 12;
        let ok = !wants_mix
            || (has(char::is_ascii_uppercase)
                && has(char::is_ascii_lowercase)
                && has(char::is_ascii_digit));
        // Avoid accidental runs or sequences the placeholder checks reject.
        if ok && !stripe_scan::engine::matcher::checks::looks_placeholder(s.as_bytes()) {
            return s;
        }
    }
}

/// A fresh key: `prefix` + `n` random alphanumerics.
pub fn key(prefix: &str, n: usize) -> String {
    format!("{prefix}{}", random_from(ALNUM, n))
}

/// A current-format (99-character, starts with 51) key.
pub fn key99(prefix: &str) -> String {
    format!("{prefix}51{}", random_from(ALNUM, 97))
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stripe-scan"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn findings(&self) -> Vec<serde_json::Value> {
        self.json()["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs stripe-scan in `dir` with `args`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    run_env(dir, args, &[])
}

pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    cmd.env_remove("NO_COLOR").env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    finish(cmd.output().expect("run stripe-scan"))
}

pub fn run_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stripe-scan");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    finish(child.wait_with_output().expect("wait"))
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("stripe-scan-it")
        .tempdir()
        .expect("tempdir")
}

pub fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, content).expect("write");
    p
}

/// Runs real git with a fixed identity and no user or system config.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_cmd(dir, args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn git_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    cmd
}

/// Writes the files, commits everything, returns the commit id.
pub fn commit(dir: &Path, files: &[(&str, &str)], message: &str) -> String {
    for (path, content) in files {
        write(dir, path, content);
    }
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// `git commit` with `args`, through whatever hooks are installed, with this build as the
/// stripe-scan they run. Returns whether it succeeded and everything it printed.
pub fn hook_commit(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = git_cmd(dir, &[&["commit"], args].concat())
        .env("STRIPE_SCAN", bin())
        .output()
        .expect("git commit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A new repository in a temp dir, branch `main`.
pub fn repo() -> tempfile::TempDir {
    let t = tempdir();
    git_init(t.path());
    t
}

/// `dir/work`, a new repository whose `origin` is the new bare `dir/origin.git`.
pub fn work_with_origin(dir: &Path) -> PathBuf {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    git_init(&work);
    git(dir, &["init", "-q", "--bare", "-b", "main", "origin.git"]);
    git(&work, &["remote", "add", "origin", "../origin.git"]);
    work
}

/// A new repository with `main` as its branch.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

/// The finding whose JSON path is `path`, or a panic that shows what was found.
pub fn finding_at<'a>(
    findings: &'a [serde_json::Value],
    path: &str,
    line: u64,
) -> &'a serde_json::Value {
    findings
        .iter()
        .find(|f| f["path"] == path && f["line"] == line)
        .unwrap_or_else(|| panic!("no finding at {path}:{line} in {findings:#?}"))
}

/// `text` as UTF-16, big- or little-endian, with or without a byte-order mark.
pub fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let units = bom
        .then_some(0xFEFFu16)
        .into_iter()
        .chain(text.encode_utf16());
    units
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

/// Whether `program --version` runs here. When it does not: a failure under CI=true (`.ci/run`
/// installs every tool the tests drive), elsewhere a note, and the caller skips its test.
pub fn have_tool(program: &str, install: &str) -> bool {
    let runs = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runs {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{program} is required in CI: {install} (see .ci/run)"
        );
        eprintln!("note: {program} is not installed ({install}); this test did not run");
    }
    runs
}

/// Where the tests' release builds go: pre-commit's `language: rust` hook and the wheel share it,
/// so the dependencies are compiled once.
pub fn release_target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-cargo-target")
}

/// This repository: the crate under test and its scripts.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a command printed, stdout then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
