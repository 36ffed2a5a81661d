//! `stripe-scan history [REV-RANGE...]`: every blob the selected commits introduced, once; or,
//! with --repos/--github-org/--github-user, every repository listed (see `org`).

use super::context::{threads, RunContext};
use super::finish::finish;
use crate::cli::HistoryArgs;
use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::error::{describe_io, Error};
use crate::exit;
use crate::git::{repo, revs};
use crate::history;
use crate::org;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) fn run(args: HistoryArgs) -> Result<i32, Error> {
    let started = Instant::now();
    if args.repos.any() {
        return org::run(&args, threads(&args.common), started);
    }
    let repo = repo::open("history")?;
    if args.list_tips {
        return list_tips(&repo);
    }
    let mut revs = args.revs.clone();
    if let Some(source) = &args.revs_from {
        revs.extend(revs_from(&repo, source)?);
    }
    let root = repo
        .workdir()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let cx = RunContext::new(&args.common, &root, started)?;
    let matcher = Matcher::new(cx.config.rules.clone()).map_err(Error::Usage)?;
    let opts = history::Options {
        revs: &revs,
        since_commit: args.since_commit.as_deref(),
        threads: cx.threads(),
        progress: !args.common.quiet && io::stderr().is_terminal(),
    };
    let outcome = history::scan(&repo, &opts, &matcher, &cx.diag)?;
    Ok(finish(outcome, cx))
}

/// The commits every ref names, one a line: what a multi-repository run records in --state.
fn list_tips(repo: &git2::Repository) -> Result<i32, Error> {
    let diag = Diagnostics::default();
    let mut tips: Vec<String> = revs::every_ref(repo, &diag)
        .iter()
        .map(|o| o.to_string())
        .collect();
    tips.sort();
    tips.dedup();
    let mut out = io::stdout().lock();
    for t in &tips {
        writeln!(out, "{t}").map_err(|e| Error::Fatal(format!("stdout: {}", describe_io(&e))))?;
    }
    Ok(if diag.errors() > 0 {
        exit::ERROR
    } else {
        exit::CLEAN
    })
}

/// Revisions from a file or stdin, one a line. A `^OLD` whose commit is gone (a branch
/// force-pushed, then garbage-collected) hides nothing and is dropped rather than failing the run.
fn revs_from(repo: &git2::Repository, source: &Path) -> Result<Vec<String>, Error> {
    let name = source.display().to_string();
    let mut text = String::new();
    let read = if name == "-" {
        io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(source).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| Error::config(format!("--revs-from {name}"), None, describe_io(&e)))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| match l.strip_prefix('^') {
            Some(hidden) => repo.revparse_single(hidden).is_ok(),
            None => true,
        })
        .map(str::to_string)
        .collect())
}
