//! `stripe-scan staged`: what the next commit will contain (see `crate::staged` for how).
//!
//! The pre-commit framework runs this with file names. Inside a commit (git sets
//! `GIT_INDEX_FILE`) they narrow the staged scan; outside one (`pre-commit run --all-files`,
//! `--files X`), the framework is asking about those files, and every key in them is reported.

use super::context::RunContext;
use super::finish::finish;
use crate::cli::{ColorChoice, StagedArgs};
use crate::error::Error;
use crate::fs::walk;
use crate::git::cli;
use crate::git::repo;
use crate::outcome::Outcome;
use crate::paths::Frame;
use crate::staged;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// As `scan --max-file-size`'s default, for the files the pre-commit framework names.
const MAX_FILE_SIZE: u64 = 1 << 30;

pub(crate) fn run(args: StagedArgs, color: ColorChoice) -> Result<i32, Error> {
    let started = Instant::now();
    let (repo, workdir, slow) = match repo::open_main() {
        Ok(repo) => {
            let workdir = repo.workdir().map(Path::to_path_buf).ok_or_else(bare)?;
            (Some(repo), workdir, None)
        }
        // What libgit2 refuses (SHA-256 ids, reftable, extensions it does not know) git reads.
        Err(e) if cli::sees_repository() => {
            let top = cli::text(&["rev-parse", "--show-toplevel"]).map_err(|_| bare())?;
            (None, PathBuf::from(top), Some(e.message().to_string()))
        }
        Err(_) => {
            let repo = repo::open("staged")?;
            let workdir = repo.workdir().map(Path::to_path_buf).ok_or_else(bare)?;
            (Some(repo), workdir, None)
        }
    };
    let outside_commit = framework_outside_commit(&args);
    // Staged paths are relative to the repository's top; files the framework names, as named.
    let frame = if outside_commit {
        Frame::new(Path::new("."), Some(&workdir))
    } else {
        Frame::new(&workdir, Some(&workdir))
    };
    let cx = RunContext::new(&args.common, &workdir, frame, color, started)?;
    let matcher = cx.config.matcher()?;
    let threads = cx.threads();
    let outcome = if outside_commit {
        let opts = walk::WalkOptions {
            // The framework already chose the files (and honours its own excludes).
            no_ignore: true,
            follow_links: false,
            threads,
            max_file_size: MAX_FILE_SIZE,
        };
        let (findings, stats) = walk::scan(
            &args.paths,
            &opts,
            &matcher,
            &cx.config.allow,
            &cx.frame,
            &cx.diag,
        );
        Outcome {
            findings,
            stats,
            commits: None,
        }
    } else if let Some(repo) = &repo {
        staged::scan_index(repo, &workdir, &args.paths, &matcher, threads, &cx.diag)?
    } else {
        cx.diag.info(&format!(
            "{}: reading the index through the git binary (libgit2 cannot open it: {}); slower, but complete",
            workdir.display(),
            slow.unwrap_or_default()
        ));
        staged::scan_by_git(&workdir, &args.paths, &matcher, &cx.diag)?
    };
    Ok(finish(outcome, cx))
}

fn bare() -> Error {
    Error::Fatal("staged: the repository is bare: there is no index to scan".into())
}

/// The pre-commit framework sets `PRE_COMMIT=1`; git sets `GIT_INDEX_FILE` for every commit and
/// merge hook, and nothing sets it for `pre-commit run`.
fn framework_outside_commit(args: &StagedArgs) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    !args.paths.is_empty()
        && std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1")
        && !set("GIT_INDEX_FILE")
}
