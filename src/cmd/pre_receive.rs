//! `stripe-scan pre-receive`: the server side of a push. git runs the pre-receive hook after it
//! has received a push and before it updates any ref, with one `<old> <new> <ref>` line per ref on
//! stdin; a non-zero exit rejects the whole push, and what the hook prints reaches the pusher as
//! `remote:` lines. So a key cannot reach the server even when the client skipped its own hooks.
//!
//! What is scanned is exactly what the push adds: the new tips, minus everything any existing ref
//! reaches (`git rev-list <new>... --not --all`), plus the messages of the annotated tags it
//! pushes. The pushed objects are not in the repository yet: git keeps them in a quarantine
//! directory and names it in `GIT_OBJECT_DIRECTORY`, with the repository's own objects in
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES`; `repo` honours both, for libgit2 and our pack reader alike.

use super::context::RunContext;
use super::finish::finish;
use crate::cli::{ColorChoice, PreReceiveArgs};
use crate::error::Error;
use crate::exit;
use crate::git::odb::ObjectReader;
use crate::git::repo;
use crate::history;
use crate::paths::Frame;
use git2::Oid;
use std::io::{self, BufRead, IsTerminal, Write};
use std::time::Instant;

pub(crate) fn run(args: PreReceiveArgs, color: ColorChoice) -> Result<i32, Error> {
    let started = Instant::now();
    let repo = repo::open("pre-receive")?;
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(Error::Usage(
            "pre-receive reads `<old> <new> <ref>` lines on stdin, as git passes them to a pre-receive hook".into(),
        ));
    }
    let mut lines = Vec::new();
    for line in stdin.lock().lines() {
        lines.push(line.map_err(|e| Error::io("stdin", &e))?);
    }
    let revs = new_tips(&lines)?;
    if revs.is_empty() {
        let _ = writeln!(
            io::stderr(),
            "stripe-scan: this push only deletes refs: nothing to scan"
        );
        return Ok(exit::CLEAN);
    }
    // A bare repository (a server) has no work tree: its config would sit in the git directory.
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    // Paths are relative to the repository's top, as history reports them.
    let frame = Frame::new(&root, repo.workdir());
    let cx = RunContext::new(&args.common, &root, frame, color, started)?;
    let matcher = cx.config.matcher()?;
    let opts = history::Options {
        revs: &revs,
        since_commit: None,
        threads: cx.threads(),
        progress: false,
        messages: !args.no_messages,
        incoming: true,
        reader: ObjectReader::from_env()?,
    };
    let outcome = history::scan(&repo, &opts, &matcher, &cx.diag)?;
    Ok(finish(outcome, cx))
}

/// The new side of every line that does not delete its ref, each once, as full ids. A line git
/// would never write is an error: guessing what a push holds would let it through unchecked.
fn new_tips(lines: &[String]) -> Result<Vec<String>, Error> {
    let mut revs: Vec<String> = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [old, new, _refname] = parts.as_slice() else {
            return Err(Error::input(
                "stdin",
                format!("not a pre-receive line (`<old> <new> <ref>`): {line:?}"),
            ));
        };
        let parse = |id: &str| {
            Oid::from_str(id)
                .ok()
                .filter(|_| id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| Error::input("stdin", format!("not an object id: {id:?}")))
        };
        parse(old)?;
        let new = parse(new)?;
        if new.is_zero() {
            continue;
        }
        let id = new.to_string();
        if !revs.contains(&id) {
            revs.push(id);
        }
    }
    Ok(revs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_add_nothing_and_junk_is_refused() {
        let a = "1".repeat(40);
        let b = "2".repeat(40);
        let z = "0".repeat(40);
        let lines = vec![
            format!("{z} {a} refs/heads/new"),
            format!("{a} {z} refs/heads/gone"),
            format!("{b} {a} refs/heads/same-tip"),
            String::new(),
        ];
        assert_eq!(new_tips(&lines).unwrap(), vec![a.clone()]);
        assert!(new_tips(&[format!("{a} {b}")]).is_err());
        assert!(new_tips(&[format!("{a} --all refs/heads/x")]).is_err());
    }
}
