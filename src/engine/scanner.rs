//! Turns an input (a file, a reader, a blob in memory) into findings. One `Scanner` per thread owns
//! a reusable buffer; inputs larger than it are streamed through it with an overlap, so memory stays
//! bounded whatever the file or line length.

use crate::diagnostics::Diagnostics;
use crate::engine::decode::{self, Encoding, Utf16Reader};
use crate::engine::matcher::{Hit, Matcher, CONTEXT_BYTES};
use crate::engine::snippet;
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::rules::Place;
use crate::secret::Secret;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;

/// Bytes scanned per step; small files fit in one read. Measured on a tree of many small files,
/// a reused buffer beat mmap by 4x, so there is no mmap path.
const CHUNK: usize = 1 << 20;

const NOT_REGULAR: &str = "not a regular file (FIFO, socket or device), skipped";

pub struct Scanner<'m> {
    matcher: &'m Matcher,
    buf: Vec<u8>,
    hits: Vec<Hit>,
    max_file_size: u64,
    chunk: usize,
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
            chunk: CHUNK,
        }
    }

    pub fn matcher(&self) -> &'m Matcher {
        self.matcher
    }

    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Scans `chunk` bytes per step instead of 1 MiB, so tests can put keys on every boundary of
    /// the streaming path with small inputs.
    #[doc(hidden)]
    pub fn with_chunk(mut self, chunk: usize) -> Scanner<'m> {
        self.chunk = chunk.max(1);
        self
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
        let mut file = match open(path) {
            Ok(f) => f,
            Err(e) => {
                diag.error(&Error::io(origin.path, &e));
                return None;
            }
        };
        self.prepare();
        let (len, eof) = match fill(&mut file, &mut self.buf, 0) {
            Ok(r) => r,
            Err(e) => {
                // A FIFO swapped in after the walk fails here (it was opened non-blocking).
                match file.metadata() {
                    Ok(m) if !m.is_file() => diag.note(origin.path, NOT_REGULAR),
                    _ => diag.error(&Error::io(origin.path, &e)),
                }
                return None;
            }
        };
        // Only files larger than one buffer pay for a stat; a smaller one is measured by its read.
        let size = if eof {
            if self.max_file_size > 0 && len as u64 > self.max_file_size && !size_exempt {
                diag.error(&too_large(origin.path, len as u64, self.max_file_size));
                return None;
            }
            None
        } else {
            let meta = match file.metadata() {
                Ok(m) => m,
                Err(e) => {
                    diag.error(&Error::io(origin.path, &e));
                    return None;
                }
            };
            // A device (a symlink to /dev/zero swapped in after the walk) never ends.
            if !meta.is_file() {
                diag.note(origin.path, NOT_REGULAR);
                return None;
            }
            if self.max_file_size > 0 && meta.len() > self.max_file_size && !size_exempt {
                diag.error(&too_large(origin.path, meta.len(), self.max_file_size));
                return None;
            }
            Some(meta.len())
        };
        // A file that keeps growing while it is read must not keep the scan going forever: read
        // what it held when it was opened. Files that claim to be empty (procfs) are read up to
        // --max-file-size.
        let limit = match size {
            None => 0,
            Some(0) if self.max_file_size > 0 && !size_exempt => {
                self.max_file_size.saturating_sub(len as u64)
            }
            Some(0) => u64::MAX,
            Some(n) => n.saturating_sub(len as u64),
        };
        let mut rest = (&mut file).take(limit);
        let n = match self.scan_filled(&mut rest, len, eof, origin, out) {
            Ok(n) => n,
            Err(e) => {
                diag.error(&Error::input(origin.path, describe_io(&e)));
                return None;
            }
        };
        if let Some(size) = size {
            let grew = rest.limit() == 0 && has_more(&mut file);
            let cause = if size > 0 && n < size {
                Some(format!(
                    "changed while being scanned: shrank from {size} bytes to {n}"
                ))
            } else if grew && size == 0 {
                Some(format!(
                    "only the first {n} bytes were scanned: the rest is over --max-file-size"
                ))
            } else if grew {
                Some(format!(
                    "changed while being scanned: grew past {size} bytes; only those were scanned"
                ))
            } else {
                None
            };
            if let Some(cause) = cause {
                diag.error(&Error::input(origin.path, cause));
            }
        }
        Some(n)
    }

    /// Scans any reader (stdin, a pipe). Returns the bytes read from it.
    pub fn scan_reader<R: Read>(
        &mut self,
        mut reader: R,
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        self.prepare();
        let (len, eof) = fill(&mut reader, &mut self.buf, 0)?;
        self.scan_filled(reader, len, eof, origin, out)
    }

    /// Scans a blob already in memory (git objects). Finds what `scan_reader` finds on the same
    /// bytes, in the same order.
    pub fn scan_bytes(&mut self, data: &[u8], origin: Origin<'_>, out: &mut Vec<Finding>) {
        match decode::detect(data) {
            Encoding::Bytes { bom } => self.scan_slice(data, bom, origin, out),
            Encoding::Utf16 { big_endian, bom } => {
                // Reading from a slice cannot fail.
                let _ = self.scan_plain(Utf16Reader::new(data, big_endian, bom), origin, out);
                self.scan_slice(data, 0, origin, out);
            }
        }
    }

    /// `self.buf[..len]` holds the first bytes of the input; `reader` has the rest.
    fn scan_filled<R: Read>(
        &mut self,
        mut reader: R,
        len: usize,
        eof: bool,
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        match decode::detect(&self.buf[..len]) {
            Encoding::Bytes { bom } => self.stream(&mut reader, len, eof, bom, origin, out),
            Encoding::Utf16 { big_endian, bom } => {
                let head = io::Cursor::new(self.buf[..len].to_vec());
                self.scan_utf16(head.chain(reader), big_endian, bom, origin, out)
            }
        }
    }

    /// The encoding is a guess from the first bytes (even a BOM may be two Latin-1 characters), so
    /// the raw bytes are scanned too, and ASCII keys are found whatever the input is. Both views
    /// come from one read of the input: the raw bytes are copied to a second scanner on its own
    /// thread, through a small bounded channel, so a pipe is read once and memory stays bounded.
    fn scan_utf16<R: Read>(
        &mut self,
        source: R,
        big_endian: bool,
        bom: bool,
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        let (tx, rx) = mpsc::sync_channel(4);
        let (matcher, chunk) = (self.matcher, self.chunk);
        std::thread::scope(|s| {
            let raw = s.spawn(move || {
                let mut scanner = Scanner::new(matcher, 0).with_chunk(chunk);
                let mut found = Vec::new();
                let n = scanner.scan_plain(Received::new(rx), origin, &mut found);
                (n, found)
            });
            let tee = Tee { inner: source, tx };
            let decoded = self.scan_plain(Utf16Reader::new(tee, big_endian, bom), origin, out);
            let (raw_read, found) = match raw.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            decoded?;
            out.extend(found);
            raw_read
        })
    }

    /// Streams a reader as it is: no encoding detection, no BOM.
    fn scan_plain<R: Read>(
        &mut self,
        mut reader: R,
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        self.prepare();
        let (len, eof) = fill(&mut reader, &mut self.buf, 0)?;
        self.stream(&mut reader, len, eof, 0, origin, out)
    }

    fn scan_slice(&mut self, data: &[u8], from: usize, origin: Origin<'_>, out: &mut Vec<Finding>) {
        let mut lines = Lines::new(from);
        self.hits.clear();
        self.matcher.find(data, from, data.len(), &mut self.hits);
        for i in 0..self.hits.len() {
            let hit = self.hits[i];
            out.push(self.finding(data, &hit, &mut lines, origin));
        }
    }

    /// The buffer holds, in order: context kept from the previous step, the region scanned in this
    /// step, and the lookahead a key starting in that region may need.
    fn prepare(&mut self) {
        let want = CONTEXT_BYTES + self.chunk + self.matcher.lookahead();
        if self.buf.len() != want {
            self.buf = vec![0; want];
        }
    }

    /// The streaming loop: `self.buf[..len]` holds the first bytes already read. Finds exactly what
    /// `Matcher::find` finds over the whole input at once.
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
            // Not at the end, `fill` has filled the buffer, which is longer than the lookahead
            // plus CONTEXT_BYTES: every step moves on by at least one byte.
            let until = if eof { len } else { len - lookahead };
            self.hits.clear();
            if from < until {
                self.matcher
                    .find(&self.buf[..len], from, until, &mut self.hits);
            }
            let mut resume = until;
            for i in 0..self.hits.len() {
                let hit = self.hits[i];
                resume = resume.max(hit.end);
                let f = self.finding(&self.buf[..len], &hit, &mut lines, origin);
                out.push(f);
            }
            if eof {
                return Ok(total);
            }
            // Keep some bytes before the next region as left edge and context.
            let keep_from = until - CONTEXT_BYTES;
            lines.rebase(&self.buf[..len], keep_from);
            self.buf.copy_within(keep_from..len, 0);
            len -= keep_from;
            // A key that ran past the region hides any match inside it, as in one-shot matching.
            from = resume - keep_from;
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
        let secret = Secret::new(buf[hit.start..hit.end].to_vec(), prefix_len);
        let excerpt = snippet::excerpt(buf, hit.start, hit.end, &secret, rules);
        Finding {
            rule: hit.rule,
            variant: hit.variant,
            path: origin.path.to_string(),
            line,
            column,
            secret,
            excerpt,
            confidence: hit.confidence,
            public_example: hit.public_example,
            inline_allowed: hit.inline_allowed,
            place: origin.place,
            commit: None,
            known_elsewhere: false,
            verification: None,
        }
    }
}

fn too_large(path: &str, size: u64, limit: u64) -> Error {
    Error::input(
        path,
        format!("skipped: {size} bytes is over --max-file-size ({limit} bytes); raise it or allow the path"),
    )
}

/// Opens without blocking: a FIFO put in place of a file after the walk saw it would otherwise
/// wait forever for a writer. Regular files ignore the flag.
fn open(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Whether a reader that gave all it was expected to still has bytes (the file grew).
fn has_more<R: Read>(reader: &mut R) -> bool {
    let mut byte = [0u8; 1];
    loop {
        match reader.read(&mut byte) {
            Ok(n) => return n > 0,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
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

/// Passes reads through and sends a copy of every byte read to the raw scanner.
struct Tee<R> {
    inner: R,
    tx: mpsc::SyncSender<Vec<u8>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            // The receiver only goes away if its thread died; the join reports that.
            let _ = self.tx.send(buf[..n].to_vec());
        }
        Ok(n)
    }
}

/// The raw scanner's side of a `Tee`: ends when the sender is dropped.
struct Received {
    rx: mpsc::Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Received {
    fn new(rx: mpsc::Receiver<Vec<u8>>) -> Received {
        Received {
            rx,
            cur: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Received {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(v) => {
                    self.cur = v;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = (self.cur.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Line and column bookkeeping for a buffer that slides over the input. Lines are counted lazily,
/// only up to the hits (and up to the point where the buffer slides), so a file with no key pays
/// nothing here unless it is larger than one buffer.
struct Lines {
    /// Position in the buffer up to which lines are counted.
    cursor: usize,
    /// 1-based line holding `cursor`.
    line: u64,
    /// Characters between the start of that line and `cursor`.
    col: u64,
}

impl Lines {
    /// Counting starts at `start`, after any BOM, which is not a character of the line.
    fn new(start: usize) -> Lines {
        Lines {
            cursor: start,
            line: 1,
            col: 0,
        }
    }

    fn advance(&mut self, buf: &[u8], to: usize) {
        if to <= self.cursor {
            return;
        }
        let seg = &buf[self.cursor..to];
        match memchr::memrchr(b'\n', seg) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', seg).count() as u64;
                self.col = chars(&seg[last + 1..]) as u64;
            }
            None => self.col += chars(seg) as u64,
        }
        self.cursor = to;
    }

    /// 1-based line and column (in characters) of byte `pos`; calls come in increasing order.
    fn locate(&mut self, buf: &[u8], pos: usize) -> (u64, u64) {
        self.advance(buf, pos);
        (self.line, self.col + 1)
    }

    /// The buffer is about to drop its first `d` bytes. The cursor may already be past them (a
    /// hit in the kept context).
    fn rebase(&mut self, buf: &[u8], d: usize) {
        self.advance(buf, d);
        self.cursor -= d;
    }
}

/// Characters in UTF-8 (continuation bytes do not start one); for invalid UTF-8 this is close to
/// what a lossy decoder shows.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}
