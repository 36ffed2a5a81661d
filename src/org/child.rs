//! Each repository is scanned by a child process: this same binary, `history --format json`, with
//! the repository named in its environment as git would name it. The history engine opens
//! repositories from the environment (the one open policy, which pre-receive quarantines need),
//! a crash or a corrupt repository stays one repository's failure, and each child's memory is
//! returned when it exits.

use crate::error::printable;
use serde_json::Value;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What names a repository to git and to this program: a run started from a hook must neither
/// scan nor clone into the hook's repository.
pub const REPOSITORY_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
];

/// Where a repository is, as the child will open it.
#[derive(Debug, Clone)]
pub enum Target {
    /// A bare repository (a cache mirror, or a bare path): `GIT_DIR`, no work tree.
    GitDir(PathBuf),
    /// A work tree: discovered from it, never from a folder above it.
    WorkTree(PathBuf),
}

impl Target {
    /// A listed path as a target, or why it is not a repository (checked here so the user reads
    /// "not a git repository" rather than the child's advice to run it inside one).
    pub fn of_path(path: &Path) -> Result<Target, String> {
        let meta = std::fs::metadata(path).map_err(|e| crate::error::describe_io(&e))?;
        if !meta.is_dir() {
            return Err("not a directory".to_string());
        }
        if path.join(".git").exists() {
            Ok(Target::WorkTree(path.to_path_buf()))
        } else if path.join("HEAD").is_file() && path.join("objects").is_dir() {
            Ok(Target::GitDir(path.to_path_buf()))
        } else {
            Err("not a git repository (no .git, and not a bare repository)".to_string())
        }
    }
}

/// Why a repository could not be scanned, and whether the child already said so on stderr (then
/// the parent adds no second line for the same repository).
pub struct Failed {
    pub cause: String,
    pub said: bool,
}

impl Failed {
    fn quiet(cause: impl Into<String>) -> Failed {
        Failed {
            cause: cause.into(),
            said: false,
        }
    }

    /// The child's last line as the cause when it printed one, else `fallback`.
    fn from_child(last: Option<String>, fallback: &str) -> Failed {
        match last {
            Some(cause) => Failed { cause, said: true },
            None => Failed::quiet(fallback),
        }
    }
}

/// One child's report.
pub struct Scanned {
    pub findings: Vec<Value>,
    pub summary: Value,
}

/// Bytes in the object database of `target` (packs and loose objects; not its alternates), read
/// from file sizes without opening anything. A work tree whose `.git` is a file (a linked worktree,
/// a submodule) counts 0: its objects live elsewhere.
pub fn object_bytes(target: &Target) -> u64 {
    let objects = match target {
        Target::GitDir(dir) => dir.join("objects"),
        Target::WorkTree(dir) => dir.join(".git").join("objects"),
    };
    // objects/xx/<loose> and objects/pack/<file>: two levels, never following a symlink.
    fn sum(dir: &std::path::Path, depth: u32) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        let mut total = 0u64;
        for e in entries.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else {
                continue;
            };
            if meta.is_file() {
                total = total.saturating_add(meta.len());
            } else if meta.is_dir() && depth > 0 {
                total = total.saturating_add(sum(&e.path(), depth - 1));
            }
        }
        total
    }
    sum(&objects, 1)
}

pub struct Child {
    pub exe: PathBuf,
    /// What every child gets: `--threads`, `--fail-on`, `--config`, `--baseline`, `--show-secrets`.
    pub args: Vec<OsString>,
    /// Put before each relayed line: clears a progress count when one is shown.
    pub line_start: &'static str,
}

impl Child {
    fn command(&self, target: &Target) -> Command {
        let mut cmd = Command::new(&self.exe);
        // The parent writes the one job summary.
        for var in REPOSITORY_ENV
            .iter()
            .chain(&["GIT_CEILING_DIRECTORIES", "GITHUB_STEP_SUMMARY"])
        {
            cmd.env_remove(var);
        }
        match target {
            Target::GitDir(dir) => {
                // Absolute: the child runs inside it, where a relative GIT_DIR would mean another place.
                let full = crate::paths::absolute(dir);
                cmd.env("GIT_DIR", &full).current_dir(&full);
            }
            Target::WorkTree(dir) => {
                // Discovery stops at the listed folder: a path that is not a repository must
                // fail, not scan whatever repository holds it.
                let full = crate::paths::absolute(dir);
                if let Some(parent) = full.parent() {
                    cmd.env("GIT_CEILING_DIRECTORIES", parent);
                }
                cmd.current_dir(dir);
            }
        }
        cmd
    }

    /// The commits every ref names (`history --list-tips`), sorted.
    pub fn tips(&self, target: &Target, name: &str) -> Result<Vec<String>, Failed> {
        let mut cmd = self.command(target);
        cmd.args(["history", "--list-tips"]);
        let (code, stdout, last) = run(cmd, name, None, self.line_start)?;
        if code != Some(0) {
            return Err(Failed::from_child(last, "cannot list its refs"));
        }
        let mut tips: Vec<String> = String::from_utf8_lossy(&stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        tips.sort();
        tips.dedup();
        Ok(tips)
    }

    /// `history --format json` of the target: `revs` on the command line, `stdin_revs` (tips and
    /// `^old-tip`s, possibly thousands) through `--revs-from -`.
    pub fn scan(
        &self,
        target: &Target,
        name: &str,
        revs: &[String],
        stdin_revs: Option<&[String]>,
    ) -> Result<Scanned, Failed> {
        let mut cmd = self.command(target);
        cmd.args(["history", "--format", "json", "--quiet"])
            .args(&self.args);
        if stdin_revs.is_some() {
            cmd.args(["--revs-from", "-"]);
        }
        if !revs.is_empty() {
            cmd.arg("--").args(revs);
        }
        let input = stdin_revs.map(|r| {
            let mut text = r.join("\n");
            text.push('\n');
            text.into_bytes()
        });
        let (code, stdout, last) = run(cmd, name, input, self.line_start)?;
        let report: Value = match serde_json::from_slice(&stdout) {
            Ok(v) => v,
            Err(_) => {
                return Err(Failed::from_child(
                    last,
                    match code {
                        Some(_) => "the scan stopped without a report",
                        None => "the scanner process was killed",
                    },
                ))
            }
        };
        let findings = report["findings"].as_array().cloned().unwrap_or_default();
        Ok(Scanned {
            findings,
            summary: report["summary"].clone(),
        })
    }
}

/// A finished child: its exit code (none when killed), stdout, and the last line of its stderr.
type Ran = (Option<i32>, Vec<u8>, Option<String>);

/// Runs `cmd`, feeding `input` to its stdin, relaying each line it prints on stderr with the
/// repository's name in front; returns its exit code, stdout and the last line it printed.
fn run(
    mut cmd: Command,
    name: &str,
    input: Option<Vec<u8>>,
    line_start: &str,
) -> Result<Ran, Failed> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Failed::quiet(format!(
            "cannot start the scanner: {}",
            crate::error::describe_io(&e)
        ))
    })?;
    let stdin = child.stdin.take();
    let stderr = child.stderr.take();
    let mut stdout = Vec::new();
    let (read, last) = std::thread::scope(|s| {
        if let (Some(mut w), Some(bytes)) = (stdin, input) {
            // A child that fails early stops reading; the broken pipe is its error, reported below.
            s.spawn(move || {
                let _ = w.write_all(&bytes);
            });
        }
        let relayed = stderr.map(|err| s.spawn(move || relay(err, name, line_start)));
        let read = child
            .stdout
            .take()
            .map_or(Ok(0), |mut out| out.read_to_end(&mut stdout));
        (read, relayed.and_then(|h| h.join().ok().flatten()))
    });
    let status = child
        .wait()
        .map_err(|e| Failed::quiet(format!("scanner: {}", crate::error::describe_io(&e))))?;
    read.map_err(|e| {
        Failed::quiet(format!(
            "reading the scanner's report: {}",
            crate::error::describe_io(&e)
        ))
    })?;
    Ok((status.code(), stdout, last))
}

/// The child's per-item lines (`stripe-scan: path: cause`), each with the repository added.
/// Returns the last line, without the program's name.
fn relay(from: impl Read, name: &str, start: &str) -> Option<String> {
    let shown = printable(name);
    let mut last = None;
    for line in BufReader::new(from).lines() {
        let Ok(line) = line else { break };
        let rest = line.strip_prefix("stripe-scan: ").unwrap_or(&line);
        let _ = writeln!(
            std::io::stderr().lock(),
            "{start}stripe-scan: {shown}: {rest}"
        );
        last = Some(rest.to_string());
    }
    last
}
