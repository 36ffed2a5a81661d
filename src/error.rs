//! Errors say what went wrong and where: a file (and line) for configuration, a path or object id
//! for scanned input. Each renders as one line, and none ever carries a key.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// A rule file, config file or baseline that cannot be used; nothing is scanned after it.
    Config {
        file: String,
        line: Option<usize>,
        cause: String,
    },
    /// One input (a file, a directory, a git object) that could not be read; the scan goes on.
    Input { what: String, cause: String },
    /// Bad arguments or an environment we cannot work in (not a repository, unwritable output).
    Usage(String),
}

impl Error {
    pub fn config(file: impl Into<String>, line: Option<usize>, cause: impl Into<String>) -> Error {
        Error::Config {
            file: file.into(),
            line,
            cause: one_line(&cause.into()),
        }
    }

    pub fn input(what: impl Into<String>, cause: impl fmt::Display) -> Error {
        Error::Input {
            what: what.into(),
            cause: one_line(&cause.to_string()),
        }
    }

    pub fn io(path: impl Into<String>, err: &io::Error) -> Error {
        Error::input(path, describe_io(err))
    }
}

/// The OS message without the "(os error 13)" tail, which means nothing to most users.
pub fn describe_io(err: &io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config {
                file,
                line: Some(line),
                cause,
            } => write!(f, "{file}:{line}: {cause}"),
            Error::Config {
                file,
                line: None,
                cause,
            } => write!(f, "{file}: {cause}"),
            Error::Input { what, cause } => write!(f, "{what}: {cause}"),
            Error::Usage(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// 1-based line of a byte offset, for errors that point into a file we parsed.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}
