//! Bytes in, findings out: the matcher, the streaming scanner, the decoders and the archive
//! readers. No I/O policy lives here (what to read, what to skip, what to report is decided by
//! the callers); what it could not read is handed back as notes.

pub mod container;
pub mod decode;
pub(crate) mod expand;
pub mod limits;
pub(crate) mod lines;
pub mod matcher;
pub mod scanner;
pub mod snippet;
