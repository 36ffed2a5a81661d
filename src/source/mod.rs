//! Where bytes come from: files on disk (and stdin), the git index, git history. Each source hands
//! bytes to a per-thread `Scanner` and returns findings plus counts.

pub mod blobs;
pub mod changes;
pub mod commits;
pub mod fasthash;
pub mod files;
pub mod git;
pub mod history;
mod ignore_files;
pub mod index;
pub mod introduced;
pub mod objects;
pub mod packs;
pub mod progress;
pub mod staged;

/// What a source read, for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub files: u64,
    pub bytes: u64,
}
