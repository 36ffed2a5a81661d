//! Small helpers shared across layers, with no knowledge of keys or git.

pub(crate) mod fasthash;
pub(crate) mod mmap;
pub(crate) mod sync;
