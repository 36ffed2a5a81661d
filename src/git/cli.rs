//! The installed `git` binary, for repositories libgit2 cannot open (SHA-256 object ids,
//! reftable refs, extensions it does not know): slower than our readers, but git reads every
//! repository git writes. It runs in the current directory with the environment as given, so it
//! finds the same repository (`GIT_DIR` and the rest) the user's own `git` would; but it never
//! fetches what a partial clone lacks, nor takes an optional lock, as a scan must not write.

use crate::error::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// git as a scan may run it: never fetching, never locking.
fn git() -> Command {
    let mut c = Command::new("git");
    c.env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_OPTIONAL_LOCKS", "0");
    c
}

/// `git <args>`'s standard output, or one line saying why it failed.
pub(crate) fn output(args: &[&str]) -> Result<Vec<u8>, String> {
    output_in(None, args)
}

/// As `output`, run in `dir` when given.
pub(crate) fn output_in(dir: Option<&std::path::Path>, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut git = git();
    if let Some(dir) = dir {
        git.current_dir(dir);
    }
    let out = git
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .map(|l| l.trim_start_matches("fatal: ").trim())
            .find(|l| !l.is_empty())
            .unwrap_or("failed");
        return Err(format!("git {}: {first}", args.first().unwrap_or(&"")));
    }
    Ok(out.stdout)
}

/// `output` as trimmed text.
pub(crate) fn text(args: &[&str]) -> Result<String, String> {
    output(args).map(|o| String::from_utf8_lossy(&o).trim().to_string())
}

/// Whether git itself sees a repository here.
pub(crate) fn sees_repository() -> bool {
    text(&["rev-parse", "--git-dir"]).is_ok()
}

/// One object `git cat-file --batch` gave back.
pub(crate) enum Object {
    Found { kind: String, data: Vec<u8> },
    Missing,
}

/// A header line that is not one: out of step, it may be an object's bytes (a key among them),
/// so only its length is told.
fn unexpected(line: &str) -> String {
    format!("unexpected header ({} bytes)", line.len())
}

/// Reads `ids` through one `git cat-file --batch`, calling `each` with every id and what git
/// gave for it, in order. A writer thread feeds the ids, so neither side waits on a full pipe.
pub(crate) fn cat_file(ids: &[String], mut each: impl FnMut(&str, Object)) -> Result<(), Error> {
    let fatal = |what: &str| Error::Fatal(format!("git cat-file --batch: {what}"));
    let mut child = git()
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fatal(&format!("cannot run git: {e}")))?;
    let mut stdin = child.stdin.take().ok_or_else(|| fatal("no stdin"))?;
    let stdout = child.stdout.take().ok_or_else(|| fatal("no stdout"))?;
    let feed: Vec<u8> = ids
        .iter()
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&feed));
    let mut out = BufReader::with_capacity(1 << 20, stdout);
    let mut line = String::new();
    let mut result = Ok(());
    for id in ids {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            result = Err(fatal("ended early"));
            break;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "missing"] | [_, "ambiguous"] => each(id, Object::Missing),
            [_, kind, size] => {
                let Ok(size) = size.parse::<usize>() else {
                    result = Err(fatal(&unexpected(&line)));
                    break;
                };
                let mut data = vec![0; size + 1];
                if out.read_exact(&mut data).is_err() {
                    result = Err(fatal("ended inside an object"));
                    break;
                }
                data.truncate(size);
                each(
                    id,
                    Object::Found {
                        kind: kind.to_string(),
                        data,
                    },
                );
            }
            _ => {
                result = Err(fatal(&unexpected(&line)));
                break;
            }
        }
    }
    drop(out);
    let _ = writer.join();
    let _ = child.wait();
    result
}
