//! Archives in memory, bytes in, members out: zip (and everything built on it: jar, war, whl,
//! nupkg, apk, docx, xlsx, pptx) and tar, recognised by their bytes, never by the file name.
//! Nothing is ever written to disk. Members are handed to a callback one at a time, so memory
//! holds one expanded member (and the archive) at a time.
//!
//! Archives are hostile input: every member is charged to the file's `Budget`, a member count
//! limit applies per archive, and what cannot or must not be read (encrypted members, symlinks,
//! damage, overlapping entries) is collected in `Issues`, which become one note per kind of
//! problem and archive.

pub mod tar;
pub mod zip;

use crate::engine::limits::Budget;
use std::borrow::Cow;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archive {
    Zip,
    Tar,
}

impl Archive {
    pub fn sniff(data: &[u8]) -> Option<Archive> {
        if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
            Some(Archive::Zip)
        } else if tar::is_tar(data) {
            Some(Archive::Tar)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Archive::Zip => "zip",
            Archive::Tar => "tar",
        }
    }
}

/// One member, handed to the visitor.
pub struct Member<'a> {
    /// As shown after `!`: control characters escaped.
    pub name: String,
    pub data: Cow<'a, [u8]>,
    /// Where the member's bytes are in the archive when they are stored there as they are
    /// (a scan of the archive's raw bytes would find the same keys there).
    pub stored: Option<Range<usize>>,
}

/// What the visitor says after a member.
#[derive(PartialEq, Eq)]
pub enum Next {
    Continue,
    Stop,
}

/// Problems met in one archive, counted by kind with the first member named.
#[derive(Default)]
pub struct Issues {
    kinds: Vec<(&'static str, usize, String)>,
    /// Notes that stand alone (damage, limits), in order.
    pub lines: Vec<String>,
}

impl Issues {
    /// Counts one member with a problem of this kind (`what` says it for one member).
    pub fn member(&mut self, what: &'static str, name: &str) {
        match self.kinds.iter_mut().find(|(k, _, _)| *k == what) {
            Some((_, n, _)) => *n += 1,
            None => self.kinds.push((what, 1, name.to_string())),
        }
    }

    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// One line per kind and each standalone line.
    pub fn into_notes(self) -> Vec<String> {
        let mut out = self.lines;
        for (what, n, first) in self.kinds {
            out.push(if n == 1 {
                format!("member {first}: {what}")
            } else {
                format!("{n} members: {what} (the first: {first})")
            });
        }
        out
    }
}

/// Reads the members of `data` as `kind`, within the budget.
pub fn members(
    kind: Archive,
    data: &[u8],
    budget: &mut Budget,
    issues: &mut Issues,
    visit: &mut dyn FnMut(Member<'_>, &mut Budget) -> Next,
) {
    match kind {
        Archive::Zip => zip::members(data, budget, issues, visit),
        Archive::Tar => tar::members(data, budget, issues, visit),
    }
}

/// A member name as shown after `!`: control characters escaped (a name may be `a\nb`), and
/// whether it needed that or climbs out of the archive (`../x`, `/etc/x`), which an extractor
/// would write outside its folder: nothing to fear here, since nothing is extracted, but worth
/// saying.
pub fn display_name(raw: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(raw);
    let mut odd = false;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            odd = true;
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if out.starts_with('/') || out.split(['/', '\\']).any(|part| part == "..") {
        odd = true;
    }
    (out, odd)
}

/// The words for a member whose name an extractor would misuse.
pub const ODD_NAME: &str =
    "name holds `..`, an absolute path or control characters (scanned; shown escaped)";

/// The words for a member limit that was hit.
pub fn member_limit(limit: u64) -> String {
    format!(
        "more than {limit} members; the rest were not read; {}",
        crate::engine::limits::Limits::advice("members", limit)
    )
}

/// The words for the expanded-bytes limit, when a member does not fit.
pub fn expanded_limit(budget: &Budget) -> String {
    format!(
        "expands past the expanded-bytes limit; the rest was not read; {}",
        crate::engine::limits::Limits::advice("expanded_bytes", budget.limits.expanded_bytes)
    )
}
