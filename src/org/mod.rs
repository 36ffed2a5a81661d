//! `history` over many repositories (`--repos`, `--github-org`, `--github-user`): list them, keep
//! this shard's, clone or fetch the URLs (network-bound, `--clone-jobs` at a time), scan each in a
//! child process (CPU-bound, `--scan-jobs` at a time), and write one report for the run.
//!
//! One repository that cannot be reached, opened or read is one line and one `failed` entry in the
//! report; the others are scanned all the same.

mod child;
mod clone;
mod github;
mod list;
pub(crate) mod output;
pub(crate) mod report;
mod shard;
mod state;

use crate::cli::HistoryArgs;
use crate::error::{printable, Error};
use crate::paths::Frame;
use crate::policy::baseline::{Baseline, Known};
use crate::policy::config::{self, Config};
use crate::report::{Format, Suppressed};
use crate::severity::Severity;
use crate::util::sync::{into_inner, lock};
use child::{Child, Target};
use list::{Location, Repo};
use report::{RepoResult, RunReport, Status};
use serde_json::{json, Value};
use shard::Shard;
use state::{RepoState, State};
use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Back to the start of the line, erasing it: the progress count is redrawn in place.
const CLEAR_LINE: &str = "\r\x1b[K";

/// What one repository gave: its entry in the report, its findings, and what --state keeps.
struct Done {
    result: RepoResult,
    findings: Vec<Value>,
    suppressed: Suppressed,
    state: Option<RepoState>,
}

/// Where a repository is to be scanned from, with a note when its fetch failed; or why not.
type Fetched = Result<(Target, Option<String>), String>;

struct Settings<'a> {
    child: Child,
    git: clone::Git,
    cache: Option<PathBuf>,
    /// Earlier runs, when --state is given.
    state: Option<&'a State>,
    config: &'a Config,
    /// A running count on stderr (a terminal, not --quiet): a run over 800 repositories is long.
    progress: bool,
    baseline: Option<&'a Baseline>,
    /// `--max-repo-size`, in bytes.
    max_repo_bytes: Option<u64>,
    /// How remembered paths read: relative to their repository's top, as allow globs read them.
    frame: Frame,
}

/// Scans every repository listed; the report and `--output`, for the command to write.
/// `threads`: what --threads (or the core count) gives one scan; split among --scan-jobs.
pub(crate) fn run(
    args: &HistoryArgs,
    threads: usize,
    started: Instant,
) -> Result<(RunReport, Option<std::fs::File>), Error> {
    let common = &args.common;
    let opts = &args.repos;
    if !args.revs.is_empty() || args.since_commit.is_some() || args.revs_from.is_some() {
        return Err(Error::Usage(
            "history: revisions and --since-commit select commits of one repository; with --repos/--github-org every ref of each is scanned (use --state for only what is new)".into(),
        ));
    }
    if common.verify.verify || common.verify.fail_on_verified {
        return Err(Error::Usage(
            "history: --verify and --fail-on-verified work on one repository; with --repos/--github-org, run them on the repositories the report names".into(),
        ));
    }
    if common.format == Format::Sarif || common.sarif_output.is_some() {
        return Err(Error::Usage(
            "history: SARIF points into one repository's files; use --format json, text or github with many repositories".into(),
        ));
    }
    let shard = opts
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(Error::Usage)?;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let config = config::load(common.config.as_deref(), &cwd)?;
    // As the children read it: `--baseline`, else the config's; its paths start at its folder.
    let named = match common.baseline.as_deref() {
        Some(p) => Some((p.to_path_buf(), "named by --baseline".to_string())),
        None => config.baseline.clone().map(|f| (f.path, f.named_by)),
    };
    let baseline = match named {
        Some((p, by)) => {
            let base = crate::paths::absolute(p.parent().unwrap_or(std::path::Path::new(".")));
            Some(Baseline::load(&p, &by, &base)?)
        }
        None => None,
    };
    let out = crate::report::open_output(common.output.as_deref())?;
    let prior = opts.state.as_deref().map(State::load).transpose()?;

    let mut repos = listed(args)?;
    if let Some(s) = shard {
        repos.retain(|r| s.keeps(&r.name));
    }
    let scan_jobs = opts.scan_jobs.max(1);
    let progress = !common.quiet && io::stderr().is_terminal();
    let settings = Settings {
        child: Child {
            exe: std::env::current_exe()
                .map_err(|e| Error::Fatal(format!("history: cannot find this program: {e}")))?,
            args: child_args(args, (threads / scan_jobs).max(1)),
            line_start: if progress { CLEAR_LINE } else { "" },
        },
        git: clone::Git::new(),
        cache: opts
            .cache_dir
            .as_deref()
            .map(crate::paths::absolute)
            .or_else(clone::default_dir),
        state: prior.as_ref(),
        config: &config,
        baseline: baseline.as_ref(),
        max_repo_bytes: opts.max_repo_size.map(|mb| mb.saturating_mul(1_000_000)),
        frame: Frame::new(&config.base, None),
        progress,
    };
    let done = pipeline(&settings, &repos, opts.clone_jobs.max(1), scan_jobs);

    let fail_on = common.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    let mut report = RunReport {
        findings: Vec::new(),
        repositories: Vec::new(),
        suppressed: Suppressed::default(),
        run_errors: 0,
        elapsed_ms: 0,
        fail_on,
        shards: shard.into_iter().collect(),
    };
    let mut next_state = prior.unwrap_or_default();
    for d in done {
        report.suppressed += d.suppressed;
        if let Some(st) = d.state {
            next_state.repositories.insert(d.result.name.clone(), st);
        }
        report.findings.extend(d.findings);
        report.repositories.push(d.result);
    }
    if let Some(path) = &opts.state {
        if let Err(e) = next_state.save(path) {
            let _ = writeln!(io::stderr(), "stripe-scan: {e}");
            report.run_errors += 1;
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.sort();
    Ok((report, out))
}

fn listed(args: &HistoryArgs) -> Result<Vec<Repo>, Error> {
    let opts = &args.repos;
    if let Some(file) = &opts.repos {
        return list::read(file);
    }
    let owner = match (&opts.github_org, &opts.github_user) {
        (Some(org), _) => github::Owner::Org(org),
        (None, Some(user)) => github::Owner::User(user),
        (None, None) => return Ok(Vec::new()),
    };
    let token = std::env::var("GITHUB_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    github::list(&github::Listing {
        api: &opts.github_api_url,
        owner,
        include_archived: opts.include_archived,
        include_forks: opts.include_forks,
        token: token.as_deref().map(str::trim),
    })
}

/// What every child gets from the parent's command line.
fn child_args(args: &HistoryArgs, threads: usize) -> Vec<OsString> {
    let common = &args.common;
    let mut out: Vec<OsString> = vec!["--threads".into(), threads.to_string().into()];
    if let Some(c) = &common.config {
        out.push("--config".into());
        out.push(crate::paths::absolute(c).into());
    }
    if let Some(b) = &common.baseline {
        out.push("--baseline".into());
        out.push(crate::paths::absolute(b).into());
    }
    if common.show_secrets {
        out.push("--show-secrets".into());
    }
    if args.no_messages {
        out.push("--no-messages".into());
    }
    out
}

/// URLs wait for a clone slot, then for a scan slot; paths go straight to a scan slot. Clones and
/// scans overlap: a scan never waits for every clone to finish.
fn pipeline(s: &Settings<'_>, repos: &[Repo], clone_jobs: usize, scan_jobs: usize) -> Vec<Done> {
    let to_clone: Mutex<VecDeque<&Repo>> = Mutex::new(
        repos
            .iter()
            .filter(|r| matches!(r.location, Location::Url { .. }))
            .collect(),
    );
    let ready: Mutex<VecDeque<(&Repo, Fetched)>> = Mutex::new(
        repos
            .iter()
            .filter_map(|r| match &r.location {
                Location::Path(p) => Some((r, Target::of_path(p).map(|t| (t, None)))),
                Location::Url { .. } => None,
            })
            .collect(),
    );
    let cloners_left = Mutex::new(clone_jobs);
    let wake = Condvar::new();
    let done: Mutex<Vec<Done>> = Mutex::new(Vec::with_capacity(repos.len()));
    std::thread::scope(|scope| {
        for _ in 0..clone_jobs {
            scope.spawn(|| {
                loop {
                    let next = lock(&to_clone).pop_front();
                    let Some(repo) = next else { break };
                    let fetched = fetch(s, repo);
                    lock(&ready).push_back((repo, fetched));
                    wake.notify_one();
                }
                *lock(&cloners_left) -= 1;
                wake.notify_all();
            });
        }
        for _ in 0..scan_jobs {
            scope.spawn(|| loop {
                let next = {
                    let mut queue = lock(&ready);
                    loop {
                        if let Some(item) = queue.pop_front() {
                            break Some(item);
                        }
                        if *lock(&cloners_left) == 0 {
                            break None;
                        }
                        queue = wake
                            .wait_timeout(queue, std::time::Duration::from_millis(200))
                            .map_or_else(|p| p.into_inner().0, |(g, _)| g);
                    }
                };
                let Some((repo, target)) = next else { break };
                let d = scan_one(s, repo, target);
                let mut all = lock(&done);
                all.push(d);
                if s.progress {
                    let _ = write!(
                        io::stderr().lock(),
                        "{CLEAR_LINE}stripe-scan: {}/{} repositories scanned",
                        all.len(),
                        repos.len()
                    );
                }
            });
        }
    });
    if s.progress {
        let _ = write!(io::stderr().lock(), "{CLEAR_LINE}");
    }
    into_inner(done)
}

/// The mirror of a URL in the cache (cloned, or fetched), or why not.
fn fetch(s: &Settings<'_>, repo: &Repo) -> Fetched {
    let Location::Url { url, auth } = &repo.location else {
        return Err("not a URL".into());
    };
    let cache = s.cache.as_deref().ok_or_else(|| {
        "no cache folder for clones (HOME is not set): pass --cache-dir".to_string()
    })?;
    let (dir, stale) = s.git.mirror(cache, url, auth.as_ref())?;
    Ok((Target::GitDir(dir), stale))
}

fn scan_one(s: &Settings<'_>, repo: &Repo, target: Fetched) -> Done {
    let started = Instant::now();
    let name = &repo.name;
    let fail = |cause: String, said: bool| {
        if !said {
            let _ = writeln!(
                io::stderr(),
                "{}stripe-scan: {}: {cause}",
                s.child.line_start,
                printable(name)
            );
        }
        Done {
            result: RepoResult::failed(name, cause),
            findings: Vec::new(),
            suppressed: Suppressed::default(),
            // A repository that could not be scanned keeps what earlier runs knew.
            state: None,
        }
    };
    let (target, stale) = match target {
        Ok(t) => t,
        Err(cause) => return fail(cause, false),
    };
    if let Some(limit) = s.max_repo_bytes {
        let size = child::object_bytes(&target);
        if size > limit {
            return fail(
                format!(
                    "skipped: its objects take {:.1} MB, over --max-repo-size {} MB; raise it to scan this repository",
                    size as f64 / 1e6,
                    limit / 1_000_000
                ),
                false,
            );
        }
    }
    if let Some(stale) = &stale {
        let _ = writeln!(
            io::stderr(),
            "{}stripe-scan: {}: {stale}; scanning what an earlier run fetched",
            s.child.line_start,
            printable(name)
        );
    }
    let earlier = s.state.and_then(|st| st.repositories.get(name));
    let mut incremental = None;
    let mut tips = Vec::new();
    let scanned = if s.state.is_some() {
        tips = match s.child.tips(&target, name) {
            Ok(t) => t,
            Err(f) => return fail(f.cause, f.said),
        };
        match earlier {
            Some(e) if e.tips == tips => {
                incremental = Some("unchanged".to_string());
                None
            }
            _ => {
                incremental = Some(
                    if earlier.is_some() {
                        "new commits"
                    } else {
                        "first"
                    }
                    .to_string(),
                );
                // Exactly the tips listed (a ref moved since is the next run's), minus what
                // earlier runs reached.
                let mut revs = tips.clone();
                revs.extend(
                    earlier
                        .iter()
                        .flat_map(|e| e.tips.iter().map(|t| format!("^{t}"))),
                );
                if tips.is_empty() {
                    None
                } else {
                    Some(s.child.scan(&target, name, &[], Some(&revs)))
                }
            }
        }
    } else {
        Some(s.child.scan(&target, name, &[], None))
    };
    let mut result = RepoResult {
        name: name.clone(),
        status: Status::Scanned,
        error: stale,
        commits: 0,
        files: 0,
        bytes: 0,
        findings: 0,
        errors: 0,
        skipped: 0,
        incremental,
        elapsed_ms: 0,
    };
    let mut suppressed = Suppressed::default();
    let mut findings = Vec::new();
    match scanned {
        Some(Ok(sc)) => {
            let sum = &sc.summary;
            let n = |k: &str| sum[k].as_u64().unwrap_or(0);
            result.commits = n("commits");
            result.files = n("files");
            result.bytes = n("bytes");
            result.errors = n("errors") as usize;
            result.skipped = n("skipped") as usize;
            suppressed = Suppressed::from_json(&sum["suppressed_by"]);
            findings = sc.findings;
        }
        Some(Err(f)) => return fail(f.cause, f.said),
        None => {}
    }
    if result.error.is_some() || result.errors > 0 {
        result.status = Status::Incomplete;
    }
    for f in &mut findings {
        f["repository"] = json!(name);
    }
    // Keys earlier runs found stay reported until they are allowed or baselined.
    let mut next = None;
    if let Some(_st) = s.state {
        let have: HashSet<_> = findings.iter().map(state::identity).collect();
        let mut remembered: Vec<Value> = Vec::new();
        for f in earlier.iter().flat_map(|e| e.findings.iter()) {
            if have.contains(&state::identity(f)) || !still_reported(s, f) {
                continue;
            }
            remembered.push(f.clone());
        }
        let mut kept: Vec<Value> = remembered.clone();
        kept.extend(findings.iter().map(state::redacted));
        if result.status == Status::Scanned {
            next = Some(RepoState {
                tips,
                findings: kept,
                scanned_at: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            });
        }
        for mut f in remembered {
            f["repository"] = json!(name);
            f["from_state"] = json!(true);
            findings.push(f);
        }
    }
    result.findings = findings.len();
    result.elapsed_ms = started.elapsed().as_millis() as u64;
    Done {
        result,
        findings,
        suppressed,
        state: next,
    }
}

/// Whether a remembered finding is still to be reported: not allowed by path or fingerprint, not
/// in the baseline (the same filters the children apply to new findings).
fn still_reported(s: &Settings<'_>, f: &Value) -> bool {
    let fp = f["fingerprint"].as_str().unwrap_or("");
    let path = f["path"].as_str().unwrap_or("");
    !(s.config.allow.path_allowed(&s.frame, path)
        || s.config.allow.fingerprint_allowed(fp)
        || s.baseline
            .is_some_and(|b| matches!(b.knows(fp, path), Known::Here)))
}
