//! Report writers. Every writer gets the same sorted, filtered findings and the summary; only
//! `show_secrets` lets a writer print a full key.

pub mod json;
pub mod text;

use crate::finding::Finding;
use crate::rules::RuleSet;
use std::io::{self, Write};

#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub files: u64,
    pub bytes: u64,
    pub findings: usize,
    pub suppressed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub elapsed_ms: u128,
    /// Set for history scans.
    pub commits: Option<u64>,
}

pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub rules: &'a RuleSet,
    pub summary: &'a Summary,
    pub show_secrets: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub struct Style {
    pub color: bool,
    pub quiet: bool,
}

pub fn write(format: Format, report: &Report<'_>, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, style, out),
        Format::Json => json::write(report, out),
    }
}
