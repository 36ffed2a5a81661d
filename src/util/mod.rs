//! Small helpers shared across layers, with no knowledge of keys or git.

pub(crate) mod fasthash;
pub(crate) mod mmap;
pub(crate) mod sync;

use crate::error::{describe_io, Error};
use std::io::Read;

/// The text of a file a flag names, or of stdin for `-`: errors name the flag and the file.
pub(crate) fn read_text(flag: &str, source: &str) -> Result<String, Error> {
    let name = if source == "-" { "stdin" } else { source };
    let mut bytes = Vec::new();
    let read = if source == "-" {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| Error::config(format!("{flag} {name}"), None, describe_io(&e)))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::config(format!("{flag} {name}"), None, "not valid UTF-8"))
}
