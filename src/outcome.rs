//! What a source hands back to the command that ran it: the findings and what was read.

use crate::finding::Finding;

/// What a source read, for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
    /// Paths the ignore rules left out of a working-tree walk (a folder counts once).
    pub ignored: u64,
}

/// One scan's result, before the filters and the report.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub stats: Stats,
    /// Commits walked, for history scans; `None` for the working tree and the index.
    pub commits: Option<u64>,
}
