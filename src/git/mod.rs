//! Everything that reads git, behind one boundary: opening a repository, the index, the object
//! database (packs read directly, libgit2 as the fallback), commits and revision selection, and
//! how git errors are worded.

pub(crate) mod alternates;
pub(crate) mod cmdline_config;
pub(crate) mod errors;
pub mod index;
pub(crate) mod meta;
pub(crate) mod object;
pub(crate) mod odb;
pub(crate) mod repo;
pub(crate) mod revs;
