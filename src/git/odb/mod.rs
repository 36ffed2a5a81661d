//! The object database: pack files read through mmap, and a cached reader that falls back to
//! libgit2 for what the packs do not hold.

pub(crate) mod packs;
pub(crate) mod reader;
