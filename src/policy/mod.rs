//! What the user accepted or configured: the config file, allowlists and the baseline.

pub(crate) mod allow;
pub(crate) mod baseline;
pub(crate) mod config;
