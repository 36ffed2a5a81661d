//! How far the engine may expand one input: archives and encodings are hostile input (a 10 KB zip
//! can hold 10 GB of zeros), so every expansion is charged to a budget per scanned file. Hitting a
//! limit is never a crash and never an error: what was expanded is scanned, the rest is left, and
//! a note says which limit stopped it and how to raise it.

use serde::Deserialize;

/// The `[limits]` table of `.stripe-scan.toml`; every field has a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Bytes all archives, compressed streams and decoded layers of one file may expand to.
    pub expanded_bytes: u64,
    /// Expanded bytes per compressed byte of one stream, once it is past `RATIO_FLOOR`.
    pub ratio: u64,
    /// Members read from one archive.
    pub members: u64,
    /// Archives and compressed files inside one another (`a.tgz!b.zip!c` is 2 deep).
    pub depth: u32,
    /// Decoding steps (base64, gzip inside base64) stacked on one another.
    pub layers: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            expanded_bytes: 256 << 20,
            ratio: 100,
            members: 20_000,
            depth: 3,
            layers: 3,
        }
    }
}

/// Below this many expanded bytes a stream is never stopped for its ratio: a small, very
/// repetitive file (a log of one line repeated) is not a bomb.
pub const RATIO_FLOOR: u64 = 1 << 20;

impl Limits {
    /// The words of a note for a limit that was hit: which one and how to raise it.
    pub fn advice(field: &str, value: u64) -> String {
        format!("raise [limits] {field} (now {value}) in .stripe-scan.toml to read further")
    }
}

/// What one scanned file has left to spend.
#[derive(Debug)]
pub struct Budget {
    pub limits: Limits,
    /// Expanded bytes left.
    pub left: u64,
    /// The expanded-bytes limit was hit (said once per file).
    pub exhausted: bool,
}

impl Budget {
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            left: limits.expanded_bytes,
            exhausted: false,
        }
    }

    /// Charges `n` expanded bytes; false when they do not fit.
    pub fn take(&mut self, n: u64) -> bool {
        if n > self.left {
            self.exhausted = true;
            return false;
        }
        self.left -= n;
        true
    }
}
