//! stripe-scan: finds Stripe keys of every type in working trees, the git index and git history.
//!
//! Data flow: CLI → Config → a source yields bytes → per-thread `Scanner` → `Matcher` (prefix
//! automaton → edges → body → checks) → `Finding` → allow/baseline filters → one report writer.

pub mod allow;
pub mod app;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod decode;
pub mod diagnostics;
pub mod error;
pub mod finding;
pub mod hooks;
pub mod matcher;
pub mod remediation;
pub mod report;
pub mod rules;
pub mod scanner;
pub mod secret;
pub mod severity;
pub mod source;
