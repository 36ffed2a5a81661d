//! Bytes in, findings out: the matcher, the streaming scanner and the decoders. No I/O policy
//! lives here (what to read, what to skip, what to report is decided by the callers).

pub mod decode;
pub mod matcher;
pub mod scanner;
pub mod snippet;
