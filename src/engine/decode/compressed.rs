//! Compressed streams, recognised by their magic bytes and expanded in memory within a budget:
//! gzip, zlib and raw deflate (flate2), bzip2 (the pure-Rust libbz2-rs-sys), xz (lzma-rs) and
//! zstd (ruzstd). A stream that is damaged or cut short gives what it held up to the damage.

use crate::engine::limits::{Budget, Limits, RATIO_FLOOR};
use std::io::{self, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zlib,
    /// Raw deflate, as zip stores it (no magic of its own).
    Deflate,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    /// The name in a finding's `encoding` list and in notes.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zlib => "zlib",
            Compression::Deflate => "deflate",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }

    /// A whole-file compression by its magic bytes, and zlib by the header that its own tools
    /// write (window 32 KiB, `78 01`, `78 5E`, `78 9C` or `78 DA` by level). That header is two
    /// bytes, and `x^` can start a text file: a stream it starts that breaks off is not worth a
    /// note (see `weak_magic`), and the bytes are scanned as they are in any case.
    pub fn sniff(data: &[u8]) -> Option<Compression> {
        Compression::sniff_strong(data).or_else(|| {
            let zlib =
                data.len() >= 8 && data[0] == 0x78 && [0x01, 0x5E, 0x9C, 0xDA].contains(&data[1]);
            zlib.then_some(Compression::Zlib)
        })
    }

    /// Whether bytes that are no such stream may carry this magic by chance.
    pub fn weak_magic(self) -> bool {
        self == Compression::Zlib
    }

    fn sniff_strong(data: &[u8]) -> Option<Compression> {
        if data.starts_with(&[0x1F, 0x8B, 0x08]) {
            Some(Compression::Gzip)
        } else if data.len() >= 10
            && data.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&data[3])
            && data[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
        {
            Some(Compression::Bzip2)
        } else if data.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else if data.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// As `sniff`, plus zlib with any window size and level: for bytes that came out of a decoded
    /// layer, where a compressed stream is what one expects to find.
    pub fn sniff_layer(data: &[u8]) -> Option<Compression> {
        Compression::sniff_strong(data).or_else(|| {
            let zlib = data.len() >= 2
                && data[0] & 0x0F == 8
                && data[0] >> 4 <= 7
                && data[1] & 0x20 == 0
                && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0;
            zlib.then_some(Compression::Zlib)
        })
    }
}

/// Why an expansion stopped before the end of its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A limit was hit; the words say which and how to raise it.
    Limit(String),
    /// The stream is damaged or cut short.
    Damaged(String),
}

/// What came out of a stream, and why it stopped early if it did.
pub struct Expanded {
    pub data: Vec<u8>,
    pub stop: Option<Stop>,
}

/// Expands `input` within `budget` (which is charged for what comes out) and the ratio limit.
/// `expected` is the size the container declares, used only to size the first allocation.
pub fn expand(kind: Compression, input: &[u8], expected: u64, budget: &mut Budget) -> Expanded {
    let mut src = Counted {
        data: input,
        pos: 0,
    };
    let limits = budget.limits;
    let cap = budget.left.min(limits.expanded_bytes);
    let mut sink = Sink {
        data: Vec::with_capacity(expected.min(cap).min(16 << 20) as usize),
        cap,
        ratio: limits.ratio,
        consumed: 0,
        stop: None,
    };
    let result = match kind {
        Compression::Gzip => pump(flate2::read::MultiGzDecoder::new(&mut src), &mut sink),
        Compression::Zlib => pump(flate2::read::ZlibDecoder::new(&mut src), &mut sink),
        Compression::Deflate => pump(flate2::read::DeflateDecoder::new(&mut src), &mut sink),
        Compression::Bzip2 => pump(bzip2::read::MultiBzDecoder::new(&mut src), &mut sink),
        Compression::Zstd => match ruzstd::decoding::StreamingDecoder::new(&mut src) {
            Ok(d) => pump(d, &mut sink),
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        },
        Compression::Xz => {
            let mut reader = io::BufReader::new(&mut src);
            let mut w = XzSink(&mut sink);
            lzma_rs::xz_decompress(&mut reader, &mut w)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}")))
        }
    };
    let Sink { data, mut stop, .. } = sink;
    if let (Err(e), None) = (result, &stop) {
        stop = Some(Stop::Damaged(format!(
            "damaged or truncated {} stream ({}); only its first {} bytes were read",
            kind.name(),
            short(&e),
            data.len()
        )));
    }
    if matches!(&stop, Some(Stop::Limit(_))) && data.len() as u64 >= budget.left {
        budget.exhausted = true;
    }
    budget.left = budget.left.saturating_sub(data.len() as u64);
    Expanded { data, stop }
}

fn short(e: &io::Error) -> String {
    let s = e.to_string();
    let s = s.lines().next().unwrap_or("").trim();
    s.chars().take(80).collect()
}

/// Counts the compressed bytes the decoder has taken, for the ratio.
struct Counted<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct Sink {
    data: Vec<u8>,
    cap: u64,
    ratio: u64,
    consumed: usize,
    stop: Option<Stop>,
}

/// Marks a write refused by a limit, so the decoder's error is not mistaken for damage.
const LIMIT_HIT: &str = "stripe-scan limit";

impl Sink {
    /// Takes what fits; false once a limit is hit.
    fn push(&mut self, bytes: &[u8]) -> bool {
        let room = self.cap.saturating_sub(self.data.len() as u64) as usize;
        if bytes.len() > room {
            self.data.extend_from_slice(&bytes[..room]);
            self.stop = Some(Stop::Limit(format!(
                "expands past the expanded-bytes limit, only the first {} bytes were read; {}",
                self.data.len(),
                Limits::advice("expanded_bytes", self.cap)
            )));
            return false;
        }
        self.data.extend_from_slice(bytes);
        let out = self.data.len() as u64;
        if out > RATIO_FLOOR && out > self.ratio.saturating_mul(self.consumed.max(1) as u64) {
            self.stop = Some(Stop::Limit(format!(
                "expands more than {}:1 (a decompression bomb?), only the first {} bytes were read; {}",
                self.ratio,
                out,
                Limits::advice("ratio", self.ratio)
            )));
            return false;
        }
        true
    }
}

fn pump<R: Read + Counts>(mut decoder: R, sink: &mut Sink) -> io::Result<()> {
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sink.consumed = decoder.consumed();
        if !sink.push(&chunk[..n]) {
            return Ok(());
        }
    }
}

/// How many compressed bytes a decoder has read from its `Counted` source.
trait Counts {
    fn consumed(&self) -> usize;
}

macro_rules! counts_through {
    ($($t:ty),*) => {$(
        impl Counts for $t {
            fn consumed(&self) -> usize {
                self.get_ref().pos
            }
        }
    )*};
}

counts_through!(
    flate2::read::MultiGzDecoder<&mut Counted<'_>>,
    flate2::read::ZlibDecoder<&mut Counted<'_>>,
    flate2::read::DeflateDecoder<&mut Counted<'_>>,
    bzip2::read::MultiBzDecoder<&mut Counted<'_>>,
    ruzstd::decoding::StreamingDecoder<&mut Counted<'_>, ruzstd::decoding::FrameDecoder>
);

/// lzma-rs writes its output; a write past a limit fails, which ends the decoding.
struct XzSink<'a>(&'a mut Sink);

impl io::Write for XzSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.push(buf) {
            Ok(buf.len())
        } else {
            Err(io::Error::other(LIMIT_HIT))
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip_and_budget() {
        let text = b"hello world\n".repeat(1000);
        let packed = gz(&text);
        assert_eq!(Compression::sniff(&packed), Some(Compression::Gzip));
        let mut budget = Budget::new(Limits::default());
        let out = expand(Compression::Gzip, &packed, 0, &mut budget);
        assert_eq!(out.data, text);
        assert!(out.stop.is_none());
        assert_eq!(
            budget.left,
            Limits::default().expanded_bytes - text.len() as u64
        );
    }

    #[test]
    fn zeros_stop_at_the_ratio_and_truncation_keeps_the_head() {
        let zeros = vec![0u8; 64 << 20];
        let packed = gz(&zeros);
        let mut budget = Budget::new(Limits::default());
        let out = expand(Compression::Gzip, &packed, 0, &mut budget);
        assert!(matches!(out.stop, Some(Stop::Limit(ref s)) if s.contains("ratio")));
        assert!(out.data.len() < 32 << 20, "{}", out.data.len());

        let text = b"line of text 12345\n".repeat(500);
        let packed = gz(&text);
        let cut = &packed[..packed.len() / 2];
        let out = expand(
            Compression::Gzip,
            cut,
            0,
            &mut Budget::new(Limits::default()),
        );
        assert!(matches!(out.stop, Some(Stop::Damaged(_))));
        assert!(text.starts_with(&out.data));
    }

    #[test]
    fn small_budget_stops_with_its_name() {
        let text: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let packed = gz(&text);
        let mut budget = Budget::new(Limits {
            expanded_bytes: 1000,
            ..Limits::default()
        });
        let out = expand(Compression::Gzip, &packed, 0, &mut budget);
        assert_eq!(out.data.len(), 1000);
        assert!(matches!(out.stop, Some(Stop::Limit(ref s)) if s.contains("expanded_bytes")));
        assert!(budget.exhausted);
    }

    #[test]
    fn zlib_only_where_expected() {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"abc").unwrap();
        let z = e.finish().unwrap();
        assert_eq!(Compression::sniff(&z), Some(Compression::Zlib));
        assert_eq!(Compression::sniff_layer(&z), Some(Compression::Zlib));
        assert_eq!(Compression::sniff_layer(b"xy"), None);
        // A smaller window than zlib's tools write: only in a decoded layer.
        let small_window = [0x68, 0x81, 0x4B, 0x4C, 0x4A, 0x06, 0x00, 0x00];
        assert_eq!(Compression::sniff(&small_window), None);
        assert_eq!(
            Compression::sniff_layer(&small_window),
            Some(Compression::Zlib)
        );
    }
}
