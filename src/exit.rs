//! The process exit status, the one contract every caller (hooks, CI, scripts) relies on.

/// Nothing found, everything read.
pub const CLEAN: i32 = 0;
/// At least one finding at or above `--fail-on`, whether or not some inputs failed.
pub const FINDINGS: i32 = 1;
/// No failing finding, but something could not be done: bad arguments, bad config, an unreadable
/// input, not a repository. A partial scan is never reported as clean.
pub const ERROR: i32 = 2;
