//! Encoding policy: bytes are scanned as they are (UTF-8, Latin-1, binaries all keep ASCII keys
//! intact), except UTF-16, where every other byte is NUL and a key is only visible once decoded.
//! A file that is UTF-16 throughout is decoded as a stream; UTF-16 text anywhere else (after a
//! UTF-8 byte order mark, pasted into a UTF-8 file) is found by the UTF-16 form of the matcher's
//! literals and decoded around the hit (`literal`, `run_around`).

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

/// The bytes every UTF-16 form of an ASCII literal holds, in either byte order: each byte
/// followed by a NUL, but the last (`a\0b\0c`).
pub fn literal(ascii: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ascii.len() * 2);
    for (i, &b) in ascii.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.push(b);
    }
    out
}

/// A stretch of UTF-16 text of characters up to U+00FF (one byte of each code unit NUL, the
/// other not): `hay[start..end]`, in whole code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: usize,
    pub end: usize,
    pub big_endian: bool,
}

/// The run holding a `literal` found at `hit`, looking no further than `floor` and `ceil`.
/// ASCII text reads the same in both byte orders one byte apart; little-endian (what Windows
/// writes) is taken unless the bytes after the literal rule it out.
pub fn run_around(hay: &[u8], hit: usize, floor: usize, ceil: usize) -> Run {
    let ceil = ceil.min(hay.len());
    let little = extent(hay, hit, false, floor, ceil);
    match hit.checked_sub(1) {
        Some(at) if at >= floor => {
            let big = extent(hay, at, true, floor, ceil);
            if big.end - big.start > little.end - little.start {
                big
            } else {
                little
            }
        }
        _ => little,
    }
}

/// The run through the code unit at `unit` in one byte order. ASCII text reads the same in
/// both orders one byte apart: the caller takes the longer reading, little-endian (what Windows
/// writes) on a tie; either way the characters and their lines and columns are the same.
fn extent(hay: &[u8], unit: usize, big_endian: bool, floor: usize, ceil: usize) -> Run {
    let is_text = |at: usize| -> bool {
        if at + 2 > ceil {
            return false;
        }
        let (lo, hi) = if big_endian {
            (hay[at + 1], hay[at])
        } else {
            (hay[at], hay[at + 1])
        };
        hi == 0 && lo != 0
    };
    let mut start = unit;
    while start >= floor + 2 && is_text(start - 2) {
        start -= 2;
    }
    let mut end = unit;
    while is_text(end) {
        end += 2;
    }
    Run {
        start,
        end,
        big_endian,
    }
}

/// The run as UTF-8.
pub fn decode_run(hay: &[u8], run: Run, out: &mut Vec<u8>) {
    out.clear();
    let units = hay[run.start..run.end].chunks_exact(2).map(|p| {
        if run.big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    let mut tmp = [0u8; 4];
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_inside_other_text() {
        for be in [false, true] {
            let mut hay = b"utf8 text\n".to_vec();
            let start = hay.len();
            hay.extend(utf16("key: sk_live_x\nnext", be, false));
            let end = hay.len();
            hay.extend_from_slice(b"\nmore utf8");
            let lit = literal(b"_live_");
            let hit = memchr::memmem::find(&hay, &lit).unwrap();
            let run = run_around(&hay, hit, 0, hay.len());
            let mut out = Vec::new();
            decode_run(&hay, run, &mut out);
            let text = String::from_utf8_lossy(&out);
            // Read one byte off, a big-endian run may take the newline before it as its first
            // character and lose its last: the same characters at the same places.
            if be {
                assert_eq!(text, "\nkey: sk_live_x\nnex");
                assert_eq!((run.start, run.end), (start - 1, end - 1));
            } else {
                assert_eq!(text, "key: sk_live_x\nnext");
                assert_eq!((run.start, run.end), (start, end));
            }
        }
    }

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
