//! stripe-scan: finds Stripe keys of every type in working trees, the git index and git history.
//!
//! Data flow: CLI → Config → a source (`fs`, `staged`, `history`) yields bytes → per-thread
//! `engine::Scanner` → `engine::Matcher` (prefix automaton → edges → body → checks) → `Finding`
//! → `policy` filters → (`verify`, opt-in) → one `report` writer → `exit` status. Arrows point down only:
//! `cmd` → `staged`/`history`/`fs` → `git`/`engine` → `rules`/`finding`/`secret`.
//!
//! Only what tests, fuzz targets and examples use is public.

pub mod cli;
pub(crate) mod cmd;
pub(crate) mod diagnostics;
pub mod engine;
pub(crate) mod error;
pub mod exit;
pub mod finding;
pub(crate) mod fs;
pub mod git;
pub(crate) mod history;
pub(crate) mod org;
pub(crate) mod outcome;
pub mod paths;
pub(crate) mod policy;
pub mod report;
pub mod rules;
pub mod secret;
pub mod severity;
pub(crate) mod staged;
pub(crate) mod util;
pub mod verification;
pub(crate) mod verify;

/// Runs one parsed command line and returns the process exit status.
pub fn run(cli: cli::Cli) -> i32 {
    cmd::run(cli)
}
