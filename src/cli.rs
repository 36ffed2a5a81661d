//! Command-line definitions only; what they do lives in `cmd`.

use crate::report::Format;
use crate::severity::Severity;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// `0.1.0 (commit abc1234, rules 1.2.0)`, from build.rs; the bare version if the crate was built
/// without it (a package that left build.rs out must still compile).
const LONG_VERSION: &str = match option_env!("STRIPE_SCAN_LONG_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

/// More threads than this only wait on the disk; thousands fail to spawn and would abort the scan.
pub const MAX_THREADS: usize = 256;

#[derive(Parser, Debug)]
#[command(
    name = "stripe-scan",
    version,
    long_version = LONG_VERSION,
    about = "Finds Stripe keys of every type in files and git, and says what to do about each.",
    after_help = "Exit status: 0 nothing found, 1 findings at or above --fail-on, 2 error with no findings."
)]
pub struct Cli {
    /// Run as if started in DIR (as `git -C`); several apply in turn.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub chdir: Vec<PathBuf>,
    /// Colour in the text report: auto (a terminal, unless NO_COLOR is set or TERM=dumb), always
    /// or never.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files and directories (default: .), honouring .gitignore; `-` reads stdin.
    Scan(ScanArgs),
    /// List the rules in effect (built-in plus config).
    Rules(RulesArgs),
    /// Scan like `scan` and record every key found in a baseline file (fingerprints only, never a
    /// key), so that later runs with --baseline report only new keys.
    Baseline(BaselineArgs),
    /// Scan git history: every ref by default, or revisions and ranges as `git log` takes them.
    History(Box<HistoryArgs>),
    /// Scan what the next commit will contain: the index against HEAD, reporting keys on the
    /// lines it adds.
    Staged(StagedArgs),
    /// Install the pre-commit and pre-merge-commit hooks that run `stripe-scan staged`.
    InstallHook(InstallHookArgs),
    /// Remove the hooks `install-hook` wrote, putting back any hook they had set aside.
    UninstallHook,
    /// Scan the commits a push would send (the pre-push hook runs this).
    PrePush(PrePushArgs),
    /// On a git server: scan the commits and tags a push brings, before the server accepts them
    /// (the pre-receive hook runs this, with `old new ref` lines on stdin).
    PreReceive(PreReceiveArgs),
    /// Combine the JSON reports of `history --repos/--github-org … --shard I/N` runs into one
    /// report: keys, counts and exit status as if it had been one run.
    Merge(MergeArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a folder.
    Man(ManArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "bash: stripe-scan completions bash > ~/.local/share/bash-completion/completions/stripe-scan\n\
zsh:  stripe-scan completions zsh > \"${fpath[1]}/_stripe-scan\"\n\
fish: stripe-scan completions fish > ~/.config/fish/completions/stripe-scan.fish"
)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write stripe-scan.1 and one page per command (stripe-scan-scan.1, ...) into DIR.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StagedArgs {
    /// Only these staged paths (files or directories). When the pre-commit framework runs this
    /// outside a commit (`pre-commit run --all-files` or `--files`), every key in these files.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct InstallHookArgs {
    /// Replace hooks that stripe-scan did not write; each is kept as <hook>.local and still runs
    /// after stripe-scan's check passes.
    #[arg(long)]
    pub force: bool,
    /// Also install a pre-push hook that scans the commits being pushed.
    #[arg(long)]
    pub pre_push: bool,
}

#[derive(Args, Debug)]
pub struct PrePushArgs {
    /// The remote's name, as git passes it to a pre-push hook.
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
    /// The remote's URL, as git passes it to a pre-push hook.
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// Print the revisions `stripe-scan history` would get, one per line, and scan nothing.
    #[arg(long)]
    pub print_revs: bool,
    /// Config file (default: .stripe-scan.toml found from the repository's top).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Leave out key occurrences listed in this baseline file (`stripe-scan baseline --history`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Exit 1 only for findings at or above this severity (default: low, or fail_on in the config).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Print nothing when the push is clean (the pre-push hook uses this).
    #[arg(long)]
    pub quiet_if_clean: bool,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Scans exactly what the push adds: commits no ref of this repository reaches yet (a new branch \
that only points at commits the server has adds nothing; a deletion adds nothing), with their messages, and \
the messages of annotated tags it pushes. Objects git keeps in its quarantine directory for the hook \
(GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES) are read. Exit status 1 or 2 rejects the push."
)]
pub struct PreReceiveArgs {
    /// Do not scan commit and tag messages.
    #[arg(long)]
    pub no_messages: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Each blob is read once. A finding names the commit that introduced the key, its author and \
date, and whether HEAD still holds it. Commit messages and annotated tag messages are scanned too (--no-messages \
skips them); such a finding has an empty path. Without a positive revision, every ref is scanned (branches, tags, remote-tracking \
refs, the stash, every worktree's HEAD); objects that no ref reaches are not. A shallow clone is scanned but reported as incomplete (exit 2 \
when nothing is found)."
)]
pub struct HistoryArgs {
    /// Revisions and ranges: `main`, `A..B`, `A...B`, `^X` (several at once, as `git log` takes them).
    #[arg(value_name = "REV-RANGE")]
    pub revs: Vec<String>,
    /// Only commits after SHA: hides SHA and its ancestors (from HEAD, or from the revisions given).
    #[arg(long, value_name = "SHA")]
    pub since_commit: Option<String>,
    /// Do not scan commit and tag messages (scanned by default: a key pasted into a message is
    /// in every clone too).
    #[arg(long)]
    pub no_messages: bool,
    /// More revisions, one per line, from FILE (`-`: stdin). Multi-repository runs hand each
    /// child its revisions this way: thousands of `^TIP`s would not fit on a command line.
    #[arg(long, value_name = "FILE", hide = true)]
    pub revs_from: Option<PathBuf>,
    /// Print the commits every ref names (what a scan without revisions starts from), one per
    /// line, and scan nothing. Multi-repository runs record these in --state.
    #[arg(long, hide = true)]
    pub list_tips: bool,
    #[command(flatten)]
    pub repos: ReposArgs,
    #[command(flatten)]
    pub common: Common,
}

/// `history` over many repositories: where the list comes from, and how the work is split.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Many repositories")]
pub struct ReposArgs {
    /// Scan every repository listed in FILE (`-`: stdin), one per line: a local path or a git URL
    /// (https://, ssh://, git@host:path, file://). Blank lines and `#` comments are skipped.
    #[arg(long, value_name = "FILE", group = "repo_list")]
    pub repos: Option<String>,
    /// Scan every repository of this GitHub organisation (GITHUB_TOKEN: private ones, rate limits).
    #[arg(long, value_name = "ORG", group = "repo_list")]
    pub github_org: Option<String>,
    /// Scan every public repository of this GitHub user.
    #[arg(long, value_name = "USER", group = "repo_list")]
    pub github_user: Option<String>,
    /// GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(long, value_name = "URL", default_value = "https://api.github.com")]
    pub github_api_url: String,
    /// Also scan archived repositories of --github-org/--github-user.
    #[arg(long)]
    pub include_archived: bool,
    /// Also scan forks listed by --github-org/--github-user.
    #[arg(long)]
    pub include_forks: bool,
    /// Where URLs are cloned as mirrors, and only fetched on later runs (default: the user's
    /// cache folder, $XDG_CACHE_HOME/stripe-scan/repos or ~/.cache/stripe-scan/repos).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Incremental runs: the ref tips already scanned and the keys found so far (fingerprints,
    /// never keys) are read from FILE and written back; only new commits are scanned.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Scan only shard I of N (1-based): the repositories whose name hashes to it. Adding a
    /// repository to the list never moves another one to a different shard.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Clones and fetches at a time (network-bound).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub clone_jobs: usize,
    /// Repositories scanned at a time, each by its own process with cores/N threads
    /// (default: 1, using every core).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub scan_jobs: usize,
    /// Skip, with one line, a repository whose object database (packs and loose objects, after
    /// cloning) is larger than MB megabytes, so one enormous repository cannot hold up a run.
    #[arg(long, value_name = "MB")]
    pub max_repo_size: Option<u64>,
}

impl ReposArgs {
    /// Whether `history` scans many repositories rather than the one it runs in.
    pub fn any(&self) -> bool {
        self.repos.is_some() || self.github_org.is_some() || self.github_user.is_some()
    }
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// JSON reports of multi-repository `history` runs (e.g. one per shard).
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
    /// Output format (github: one annotation per key, and the job summary in GITHUB_STEP_SUMMARY).
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 only for findings at or above this severity (default: what the reports were made with).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Keep full keys that the reports hold (made with --show-secrets); without it they are dropped.
    #[arg(long)]
    pub show_secrets: bool,
    /// Print only the key lines: no places, no steps, no summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` for stdin. Findings name files as written here.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan files that .gitignore, .ignore or .git/info/exclude leave out.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long, short = 'L')]
    pub follow: bool,
    /// Skip (and report) files larger than this: bytes, or with K, M, G; 0 for no limit.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_file_size: u64,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
#[command(
    after_help = "The baseline records occurrences: each key with the path it is in. A baselined key found at another \
path is reported as \"known key, new location\". To accept a key everywhere, put its fingerprint in [allow] fingerprints \
of .stripe-scan.toml. Later runs use .stripe-scan-baseline.json found beside or above the scan root, or the file named \
by --baseline or `baseline =` in the config."
)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Record what `stripe-scan history` finds instead: PATH arguments are then revisions and
    /// ranges (every ref when none), as `history` takes them. For keys already rolled that stay
    /// in history.
    #[arg(long)]
    pub history: bool,
    /// Drop (and list) entries this scan no longer found. Without it they are kept.
    #[arg(long)]
    pub prune: bool,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Config file (default: .stripe-scan.toml found from the current directory up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: RulesFormat,
}

/// What `stripe-scan rules` can print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// One rule per line, its prefixes below it.
    Text,
    /// The rules as a JSON list.
    Json,
    /// A SARIF run with the rules and no results.
    Sarif,
}

/// Options every scanning command takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of stdout (for `baseline`: the baseline file to write).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write a SARIF report to FILE, whatever --format is (e.g. --format github --sarif-output x.sarif).
    #[arg(long, value_name = "FILE")]
    pub sarif_output: Option<PathBuf>,
    /// Leave out keys listed in this baseline file (made by `stripe-scan baseline`); they count as suppressed.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Config file (default: .stripe-scan.toml at the scan or repository root).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Exit 1 only for findings at or above this severity (default: low, or fail_on in the config).
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Print full keys in text and JSON reports. Off by default: reports are often shared. SARIF and
    /// GitHub output never hold a key.
    #[arg(long)]
    pub show_secrets: bool,
    /// Worker threads (default, or 0: one per core; at most 256).
    #[arg(long, short = 'j', value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Print only the finding lines: no steps, no summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print nothing at all when nothing is found (the git hooks use this).
    #[arg(long)]
    pub quiet_if_clean: bool,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// `--verify` and its limits. Never on by default: each check shows in the key owner's request
/// logs and changes the key's last-used time.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Asking Stripe whether keys still work")]
pub struct VerifyArgs {
    /// Ask Stripe whether each secret and restricted key found still works: one read-only request
    /// per distinct key (GET https://api.stripe.com/v1/balance, the key in the Authorization
    /// header), at most 4 at a time. Other kinds and Stripe's public example keys are never sent.
    #[arg(long)]
    pub verify: bool,
    /// Seconds one request may take (decimals allowed).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs, requires = "verify")]
    pub verify_timeout: Duration,
    /// Seconds all requests together may take; keys not answered by then are reported unknown.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_secs, requires = "verify")]
    pub verify_budget: Duration,
    /// Send the requests through the proxy named by HTTPS_PROXY (the proxy sees every key).
    /// Without this flag no proxy is used, whatever the environment says.
    #[arg(long, requires = "verify")]
    pub verify_proxy: bool,
    /// Exit 1 only for keys Stripe confirms active (still at or above --fail-on). Keys it could
    /// not check make the run exit 2 instead of passing.
    #[arg(long, requires = "verify")]
    pub fail_on_verified: bool,
}

/// `5`, `0.5`: seconds, more than 0 and at most an hour.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0 && *n <= 3600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{s:?} is not a number of seconds (more than 0, at most 3600)"))
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of threads"))?;
    if n > MAX_THREADS {
        return Err(format!(
            "{n} is more than {MAX_THREADS}, the most threads stripe-scan uses (more only wait on the disk)"
        ));
    }
    Ok(n)
}

/// `1048576`, `512K`, `100M`, `1G` (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size (bytes, or a number with K, M or G)"))
}
