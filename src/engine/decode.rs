//! Encoding policy: bytes are scanned as they are (UTF-8, Latin-1, binaries all keep ASCII keys
//! intact), except UTF-16, where every other byte is NUL and a key is only visible once decoded.

use std::io::{self, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Scan bytes as they are; `bom` is the length of a UTF-8 byte order mark to step over.
    Bytes {
        bom: usize,
    },
    Utf16 {
        big_endian: bool,
        bom: bool,
    },
}

/// Decides from the first bytes of an input. Without a BOM, UTF-16 is assumed when one byte of
/// each pair is almost always NUL and the other almost never: text in the ASCII range.
pub fn detect(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Bytes { bom: 3 };
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16 {
            big_endian: false,
            bom: true,
        };
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16 {
            big_endian: true,
            bom: true,
        };
    }
    let sample = &head[..head.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    // Text has no NUL at all; a SIMD search for one keeps this free for nearly every file.
    if pairs >= 8 && memchr::memchr(0, sample).is_some() {
        let (mut zero_even, mut zero_odd) = (0usize, 0usize);
        for pair in sample.chunks_exact(2) {
            zero_even += (pair[0] == 0) as usize;
            zero_odd += (pair[1] == 0) as usize;
        }
        let mostly = |n: usize| n * 10 >= pairs * 9;
        let rarely = |n: usize| n * 20 <= pairs;
        if mostly(zero_odd) && rarely(zero_even) {
            return Encoding::Utf16 {
                big_endian: false,
                bom: false,
            };
        }
        if mostly(zero_even) && rarely(zero_odd) {
            return Encoding::Utf16 {
                big_endian: true,
                bom: false,
            };
        }
    }
    Encoding::Bytes { bom: 0 }
}

/// Decodes UTF-16 to UTF-8 as it reads, so a large UTF-16 file streams like any other.
/// Unpaired surrogates become U+FFFD; a BOM, if present, is dropped.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    raw_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    skip_bom: bool,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, big_endian: bool, skip_bom: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: vec![0; 64 * 1024],
            raw_len: 0,
            out: Vec::with_capacity(96 * 1024),
            out_pos: 0,
            skip_bom,
            eof: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() && !(self.eof && self.raw_len == 0) {
            if !self.eof {
                let n = self.inner.read(&mut self.raw[self.raw_len..])?;
                if n == 0 {
                    self.eof = true;
                }
                self.raw_len += n;
            }
            let mut units: Vec<u16> = self.raw[..self.raw_len & !1]
                .chunks_exact(2)
                .map(|p| {
                    if self.big_endian {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        u16::from_le_bytes([p[0], p[1]])
                    }
                })
                .collect();
            // A high surrogate at the end may pair with the next read.
            let mut keep = self.raw_len - (self.raw_len & !1);
            if !self.eof && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                units.pop();
                keep += 2;
            }
            if self.eof && keep == 1 {
                // A lone trailing byte cannot be a code unit.
                keep = 0;
            }
            if self.skip_bom && !units.is_empty() {
                self.skip_bom = false;
                if units[0] == 0xFEFF {
                    units.remove(0);
                }
            }
            let mut tmp = [0u8; 4];
            for c in char::decode_utf16(units.iter().copied()) {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                self.out
                    .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
            let consumed = self.raw_len - keep;
            self.raw.copy_within(consumed..self.raw_len, 0);
            self.raw_len = keep;
            if self.eof && self.out.is_empty() {
                self.raw_len = 0;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos >= self.out.len() {
            self.refill()?;
        }
        let n = (self.out.len() - self.out_pos).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str, be: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let units = bom.then_some(0xFEFFu16).into_iter().chain(s.encode_utf16());
        for u in units {
            out.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    }

    #[test]
    fn detects_and_decodes_every_utf16_form() {
        let text = "key = \"abc\" é 😀\nnext line here";
        for be in [false, true] {
            for bom in [false, true] {
                let bytes = utf16(text, be, bom);
                let enc = detect(&bytes);
                assert_eq!(
                    enc,
                    Encoding::Utf16 {
                        big_endian: be,
                        bom
                    },
                    "be={be} bom={bom}"
                );
                let mut out = String::new();
                Utf16Reader::new(&bytes[..], be, true)
                    .read_to_string(&mut out)
                    .unwrap();
                assert_eq!(out, text);
            }
        }
    }

    #[test]
    fn nul_padding_is_not_utf16() {
        let mut bytes = vec![0u8; 4096];
        bytes.extend_from_slice(b"plain ascii");
        assert_eq!(detect(&bytes), Encoding::Bytes { bom: 0 });
    }
}
