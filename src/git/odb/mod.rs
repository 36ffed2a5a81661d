//! The object database: pack files read through mmap, and a cached reader that falls back to
//! libgit2 for what the packs do not hold.

pub(crate) mod fallbacks;
pub(crate) mod packs;
pub(crate) mod reader;

use crate::error::Error;

/// Who reads objects for `history`, from
/// `STRIPE_SCAN_OBJECT_READER`. The fast path is the default; the others exist so tests can prove
/// it against them, and as a way out if it is ever wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectReader {
    /// Our pack reader, libgit2 for the rest (loose objects, damage).
    Fast,
    /// `git2`: libgit2 reads every object.
    Libgit2,
    /// `git`: the git binary does all of it, as for a repository libgit2 cannot open.
    Git,
}

pub(crate) const READER_ENV: &str = "STRIPE_SCAN_OBJECT_READER";

impl ObjectReader {
    pub(crate) fn from_env() -> Result<ObjectReader, Error> {
        match std::env::var(READER_ENV).as_deref() {
            Err(_) | Ok("") => Ok(ObjectReader::Fast),
            Ok("git2" | "libgit2") => Ok(ObjectReader::Libgit2),
            Ok("git") => Ok(ObjectReader::Git),
            Ok(other) => Err(Error::Usage(format!(
                "{READER_ENV}={other:?}: expected libgit2 (libgit2 reads every object) or git (the git binary does); unset it for the fast path"
            ))),
        }
    }
}
