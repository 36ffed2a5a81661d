//! The only type that holds a key. Everything that prints it goes through the redacted form, so a
//! stray `{:?}` in a log line or a panic message cannot leak it.

use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret {
    bytes: Vec<u8>,
    /// Length of the rule prefix (`sk_live_`), kept visible in the redacted form.
    prefix_len: usize,
    /// SHA-256 of `bytes`, hashed once: reports, filters and baselines each ask for it.
    digest: [u8; 32],
}

impl Secret {
    pub fn new(bytes: Vec<u8>, prefix_len: usize) -> Secret {
        let prefix_len = prefix_len.min(bytes.len());
        let digest = Sha256::digest(&bytes).into();
        Secret {
            bytes,
            prefix_len,
            digest,
        }
    }

    /// `sha256:` + hex of the whole key: identifies it in baselines and allowlists without revealing it.
    pub fn fingerprint(&self) -> String {
        fingerprint_text(&self.digest)
    }

    /// Prefix, the first and last four characters of the body; short bodies show less so that at
    /// least half of the body stays hidden.
    pub fn redacted(&self) -> String {
        let prefix = String::from_utf8_lossy(&self.bytes[..self.prefix_len]);
        let body = &self.bytes[self.prefix_len..];
        let shown = (body.len() / 4).min(4);
        if shown == 0 {
            return format!("{prefix}…");
        }
        let head = String::from_utf8_lossy(&body[..shown]);
        let tail = String::from_utf8_lossy(&body[body.len() - shown..]);
        format!("{prefix}{head}…{tail}")
    }

    /// The full key. Only reports called with `--show-secrets` may use this.
    pub fn expose(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn prefix(&self) -> &[u8] {
        &self.bytes[..self.prefix_len]
    }
}

pub fn fingerprint_of(bytes: &[u8]) -> String {
    fingerprint_text(&Sha256::digest(bytes).into())
}

fn fingerprint_text(digest: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for &b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_body() {
        let body = "Ab3dEf6hIj9kLm2nOp5qRs8t";
        let s = Secret::new(format!("rk_live_{body}").into_bytes(), 8);
        assert_eq!(s.redacted(), "rk_live_Ab3d…Rs8t");
        assert!(!format!("{s:?}").contains(body));
        assert!(!format!("{s}").contains(body));
    }

    #[test]
    fn fingerprint_is_sha256_hex() {
        let s = Secret::new(b"abc".to_vec(), 0);
        assert_eq!(
            s.fingerprint(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
