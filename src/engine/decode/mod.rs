//! Decoders: UTF-16 (whole files and runs inside other text), base64 (found through the base64
//! forms of the matcher's literals), and compressed streams. Each turns bytes into bytes; what
//! to decode and where a key found inside is reported is `engine::expand`'s business.

pub mod base64;
pub mod compressed;
pub mod manifest;
pub mod utf16;

pub use utf16::{detect, Encoding, Utf16Reader};

/// A literal of the prefilter that stands for encoded text, and how to read around its hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoded {
    /// A base64 fragment of a key literal, starting `phase` characters into a 4-character
    /// group: decode a window around it.
    Base64 { phase: u8 },
    /// The start of a base64 run whose bytes are a compressed stream or an archive (`H4sI` is
    /// gzip, `UEsDB` zip, `SDRzS` base64 of gzip): decode the whole run.
    Base64Whole,
    /// The word `Secret`, which may be the kind of a Kubernetes Secret: every base64 value of its
    /// document is decoded, to read what was encoded twice.
    SecretKind,
    /// The UTF-16 form of a key literal (`literal`'s length in bytes): decode the run of
    /// UTF-16 text around it.
    Utf16,
}

/// Base64 forms of the magic bytes of what a whole base64 run may hold. Each must start a
/// run: its first character starts a 4-character group.
pub const WHOLE_RUN_MARKERS: [&[u8]; 3] = [
    // gzip: 1F 8B 08
    b"H4sI",  // zip: "PK\x03\x04"
    b"UEsDB", // base64 of gzip, as Helm stores a release (base64 again by Kubernetes)
    b"SDRzS",
];
