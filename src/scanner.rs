//! Turns an input (a file, a reader, a blob in memory) into findings. One `Scanner` per thread owns
//! a reusable buffer; inputs larger than it are streamed through it with an overlap, so memory stays
//! bounded whatever the file or line length.

use crate::decode::{self, Encoding, Utf16Reader};
use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::matcher::{Hit, Matcher, CONTEXT_BYTES};
use crate::rules::Place;
use crate::secret::Secret;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Bytes scanned per step; small files fit in one read. Measured on a tree of many small files,
/// a reused buffer beat mmap by 4x, so there is no mmap path.
const CHUNK: usize = 1 << 20;

pub struct Scanner<'m> {
    matcher: &'m Matcher,
    buf: Vec<u8>,
    hits: Vec<Hit>,
    max_file_size: u64,
}

/// Where the bytes came from, copied into every finding.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    pub path: &'a str,
    pub place: Place,
}

impl<'m> Scanner<'m> {
    pub fn new(matcher: &'m Matcher, max_file_size: u64) -> Scanner<'m> {
        Scanner {
            matcher,
            buf: Vec::new(),
            hits: Vec::new(),
            max_file_size,
        }
    }

    /// Scans one file from disk. Returns the bytes read, or None when it was skipped or failed
    /// (already reported through `diag`).
    pub fn scan_file(
        &mut self,
        path: &Path,
        origin: Origin<'_>,
        diag: &Diagnostics,
        size_exempt: bool,
        out: &mut Vec<Finding>,
    ) -> Option<u64> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                diag.error(&Error::io(origin.path, &e));
                return None;
            }
        };
        self.prepare();
        let mut file = file;
        let (len, eof) = match fill(&mut file, &mut self.buf, 0) {
            Ok(r) => r,
            Err(e) => {
                diag.error(&Error::io(origin.path, &e));
                return None;
            }
        };
        if !eof && self.max_file_size > 0 {
            // Only files larger than one buffer pay for a stat.
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            if size > self.max_file_size && !size_exempt {
                diag.error(&Error::input(
                    origin.path,
                    format!(
                        "skipped: {} bytes is over --max-file-size ({} bytes); raise it or allow the path",
                        size, self.max_file_size
                    ),
                ));
                return None;
            }
        }
        let result = match decode::detect(&self.buf[..len]) {
            Encoding::Bytes { bom } => self.stream(&mut file, len, eof, bom, origin, out),
            Encoding::Utf16 { big_endian, bom } => {
                let head = self.buf[..len].to_vec();
                let reader = io::Cursor::new(head).chain(file);
                let decoded = self.scan_reader(Utf16Reader::new(reader, big_endian, bom), origin, out);
                if !bom && decoded.is_ok() {
                    // A guess from the first bytes: scan the raw bytes too, so a binary that only
                    // looked like UTF-16 at its start still has its ASCII keys found.
                    match File::open(path) {
                        Ok(f) => self.scan_reader(f, origin, out),
                        Err(e) => Err(e),
                    }
                } else {
                    decoded
                }
            }
        };
        match result {
            Ok(n) => Some(n),
            Err(e) => {
                diag.error(&Error::input(origin.path, describe_io(&e)));
                None
            }
        }
    }

    /// Scans any reader (stdin, a decoded stream).
    pub fn scan_reader<R: Read>(&mut self, mut reader: R, origin: Origin<'_>, out: &mut Vec<Finding>) -> io::Result<u64> {
        self.prepare();
        let (len, eof) = fill(&mut reader, &mut self.buf, 0)?;
        match decode::detect(&self.buf[..len]) {
            Encoding::Bytes { bom } => self.stream(&mut reader, len, eof, bom, origin, out),
            Encoding::Utf16 { big_endian, bom } => {
                let head = self.buf[..len].to_vec();
                let chained = io::Cursor::new(head).chain(reader);
                let mut inner = Scanner::new(self.matcher, 0);
                inner.prepare();
                let mut dec = Utf16Reader::new(chained, big_endian, bom);
                let (l, e) = fill(&mut dec, &mut inner.buf, 0)?;
                inner.stream(&mut dec, l, e, 0, origin, out)
            }
        }
    }

    /// Scans a blob already in memory (git objects).
    pub fn scan_bytes(&mut self, data: &[u8], origin: Origin<'_>, out: &mut Vec<Finding>) {
        match decode::detect(data) {
            Encoding::Bytes { bom } => {
                let mut lines = Lines::new(bom);
                self.hits.clear();
                self.matcher.find(data, bom, data.len(), &mut self.hits);
                for i in 0..self.hits.len() {
                    let hit = self.hits[i];
                    out.push(self.finding(data, &hit, &mut lines, origin));
                }
            }
            Encoding::Utf16 { big_endian, bom } => {
                let _ = self.scan_reader(Utf16Reader::new(data, big_endian, bom), origin, out);
                if !bom {
                    let mut raw = Scanner::new(self.matcher, 0);
                    raw.scan_raw_bytes(data, origin, out);
                }
            }
        }
    }

    fn scan_raw_bytes(&mut self, data: &[u8], origin: Origin<'_>, out: &mut Vec<Finding>) {
        let mut lines = Lines::new(0);
        self.hits.clear();
        self.matcher.find(data, 0, data.len(), &mut self.hits);
        for i in 0..self.hits.len() {
            let hit = self.hits[i];
            out.push(self.finding(data, &hit, &mut lines, origin));
        }
    }

    fn prepare(&mut self) {
        let want = CHUNK + self.matcher.lookahead();
        if self.buf.len() != want {
            self.buf = vec![0; want];
        }
    }

    /// The streaming loop: `self.buf[..len]` holds the first bytes already read.
    fn stream<R: Read>(
        &mut self,
        reader: &mut R,
        mut len: usize,
        mut eof: bool,
        bom: usize,
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        let lookahead = self.matcher.lookahead();
        let mut total = len as u64;
        let mut from = bom;
        let mut lines = Lines::new(bom);
        loop {
            let until = if eof { len } else { len - lookahead };
            self.hits.clear();
            self.matcher.find(&self.buf[..len], from, until, &mut self.hits);
            for i in 0..self.hits.len() {
                let hit = self.hits[i];
                let f = self.finding(&self.buf[..len], &hit, &mut lines, origin);
                out.push(f);
            }
            if eof {
                return Ok(total);
            }
            // Keep some bytes before the next region as left edge and context.
            let keep_from = until.saturating_sub(CONTEXT_BYTES);
            lines.rebase(&self.buf[..len], keep_from);
            self.buf.copy_within(keep_from..len, 0);
            len -= keep_from;
            from = until - keep_from;
            let before = len;
            let (l, e) = fill(reader, &mut self.buf, len)?;
            len = l;
            eof = e;
            total += (len - before) as u64;
        }
    }

    fn finding(&self, buf: &[u8], hit: &Hit, lines: &mut Lines, origin: Origin<'_>) -> Finding {
        let (line, column) = lines.locate(buf, hit.start);
        let rules = self.matcher.rules();
        let prefix_len = rules.rules[hit.rule].variants[hit.variant].prefix.len();
        Finding {
            rule: hit.rule,
            variant: hit.variant,
            path: origin.path.to_string(),
            line,
            column,
            secret: Secret::new(buf[hit.start..hit.end].to_vec(), prefix_len),
            confidence: hit.confidence,
            public_example: hit.public_example,
            inline_allowed: hit.inline_allowed,
            place: origin.place,
            commit: None,
        }
    }
}

/// Reads until `buf` is full or the input ends. Returns the new length and whether it ended.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8], mut len: usize) -> io::Result<(usize, bool)> {
    while len < buf.len() {
        match reader.read(&mut buf[len..]) {
            Ok(0) => return Ok((len, true)),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((len, false))
}

/// Line and column bookkeeping for a buffer that slides over the input. Lines are counted lazily,
/// only up to the hits (and up to the point where the buffer slides), so a file with no key pays
/// nothing here unless it is larger than one buffer.
struct Lines {
    /// Characters between the start of that line and `buf[0]` (negative to hide a BOM).
    base_col: i64,
    cursor: usize,
    cursor_line: u64,
    /// Start of the line holding `cursor`, when that start is inside the buffer.
    line_start: Option<usize>,
}

impl Lines {
    fn new(bom: usize) -> Lines {
        Lines {
            base_col: -(bom as i64),
            cursor: 0,
            cursor_line: 1,
            line_start: None,
        }
    }

    fn advance(&mut self, buf: &[u8], to: usize) {
        for i in memchr::memchr_iter(b'\n', &buf[self.cursor..to]) {
            self.cursor_line += 1;
            self.line_start = Some(self.cursor + i + 1);
        }
        self.cursor = to;
    }

    /// 1-based line and column (in characters) of byte `pos`; calls come in increasing order.
    fn locate(&mut self, buf: &[u8], pos: usize) -> (u64, u64) {
        self.advance(buf, pos);
        let col = match self.line_start {
            Some(s) => chars(&buf[s..pos]) as i64,
            None => self.base_col + chars(&buf[..pos]) as i64,
        };
        (self.cursor_line, (col.max(0) + 1) as u64)
    }

    /// The buffer is about to drop its first `d` bytes.
    fn rebase(&mut self, buf: &[u8], d: usize) {
        self.advance(buf, d);
        self.base_col = match self.line_start {
            Some(s) => chars(&buf[s..d]) as i64,
            None => self.base_col + chars(&buf[..d]) as i64,
        };
        self.cursor = 0;
        self.line_start = None;
    }
}

/// Characters in UTF-8 (continuation bytes do not start one); for invalid UTF-8 this is close to
/// what a lossy decoder shows.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}
