//! Where bytes come from: files on disk (and stdin), the git index, git history. Each source hands
//! bytes to a per-thread `Scanner` and returns findings plus counts.

pub mod changes;
pub mod files;
mod ignore_files;
pub mod index;
pub mod staged;

/// What a source read, for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
}
