//! Errors say what went wrong and where: a file (and line) for configuration, a path or object id
//! for scanned input. Each renders as one line, and none ever carries a key.

use std::borrow::Cow;
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
    /// Bad arguments: the command line asks for something that cannot be done as asked.
    Usage(String),
    /// An environment the command cannot work in: not a repository, an unwritable output, a
    /// repository that cannot be opened. Nothing is scanned after it.
    Fatal(String),
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

/// serde_json's message without its " at line L column C" tail (the line is shown apart) and
/// without the values it quotes: `invalid type: string "sk_live_…"` would print a key that was
/// pasted into a baseline or state file.
pub fn json_cause(e: &serde_json::Error) -> String {
    let s = e.to_string();
    let s = s.rfind(" at line ").map_or(s.as_str(), |i| &s[..i]);
    let mut out = String::with_capacity(s.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in s.chars() {
        if quoted {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
                out.push_str("…\"");
            }
        } else {
            if c == '"' {
                quoted = true;
            }
            out.push(c);
        }
    }
    // `unknown field `X`` names what was written, which may be a key too.
    for lead in ["unknown field `", "unknown variant `"] {
        if let Some(i) = out.find(lead) {
            let from = i + lead.len();
            if let Some(len) = out[from..].find('`') {
                out.replace_range(from..from + len, "…");
            }
        }
    }
    out
}

/// The OS message without the "(os error 13)" tail, which means nothing to most users.
pub fn describe_io(err: &io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A name as one line of a message: a file may be called `a\nb`, and a control character in a
/// terminal message can rewrite what the user sees. Control characters are shown escaped.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
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
            } => write!(f, "{}:{line}: {cause}", printable(file)),
            Error::Config {
                file,
                line: None,
                cause,
            } => write!(f, "{}: {cause}", printable(file)),
            Error::Input { what, cause } => write!(f, "{}: {cause}", printable(what)),
            Error::Usage(msg) | Error::Fatal(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

/// 1-based line of a byte offset, for errors that point into a file we parsed.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
