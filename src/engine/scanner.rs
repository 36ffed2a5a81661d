//! Turns an input (a file, a reader, a blob in memory) into findings. One `Scanner` per thread owns
//! a reusable buffer; inputs larger than it are streamed through it with an overlap, so memory stays
//! bounded whatever the file or line length.

use crate::diagnostics::Diagnostics;
use crate::engine::container::Archive;
use crate::engine::decode::compressed::Compression;
use crate::engine::decode::{self, Encoding, Utf16Reader};
use crate::engine::expand::{keep_owned, Expander, Level, Note};
use crate::engine::limits::{Budget, Limits};
use crate::engine::lines::Lines;
use crate::engine::matcher::{Candidate, Hit, Matcher};
use crate::error::{describe_io, Error};
use crate::finding::Finding;
use crate::rules::Place;
use crate::util::mmap::open_nonblocking;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;

/// Bytes scanned per step; small files fit in one read. Measured on a tree of many small files,
/// a reused buffer beat mmap by 4x, so there is no mmap path.
const CHUNK: usize = 1 << 20;

const NOT_REGULAR: &str = "not a regular file (FIFO, socket or device), skipped";

pub struct Scanner<'m> {
    matcher: &'m Matcher,
    expander: Expander<'m>,
    buf: Vec<u8>,
    hits: Vec<Hit>,
    cands: Vec<Candidate>,
    max_file_size: u64,
    chunk: usize,
    /// Look for UTF-16 text inside the bytes (off for the raw view of a UTF-16 input, which is
    /// decoded as a whole).
    utf16_runs: bool,
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
            expander: Expander::new(matcher),
            buf: Vec::new(),
            hits: Vec::new(),
            cands: Vec::new(),
            max_file_size,
            chunk: CHUNK,
            utf16_runs: true,
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

    /// What the last inputs held that was not read (an encrypted member, a limit hit), as
    /// (what, why): the caller reports them. `scan_file` reports its own.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.expander.notes)
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
        let mut file = match open_nonblocking(path) {
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
                self.expander.notes.clear();
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
        for (what, why) in self.take_notes() {
            diag.note(&what, &why);
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
    /// Returns the notes: what a limit or damage left unread, each `(chain, why)`, for the caller
    /// to name by what it knows of the bytes (a path, a blob id, a commit).
    #[must_use = "notes say what was left unread; report them"]
    pub fn scan_bytes(
        &mut self,
        data: &[u8],
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> Vec<Note> {
        let mut budget = Budget::new(self.matcher.limits());
        self.expander.reset();
        let level = Level::top(origin.path, origin.place);
        self.expander.blob(data, &level, &mut budget, out);
        self.take_notes()
    }

    /// `self.buf[..len]` holds the first bytes of the input; `reader` has the rest. An input
    /// that fits in the buffer, or an archive or compressed file (whose members need all of it),
    /// is scanned in memory; anything else is streamed.
    fn scan_filled<R: Read>(
        &mut self,
        mut reader: R,
        len: usize,
        eof: bool,
        origin: Origin<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        let mut budget = Budget::new(self.matcher.limits());
        self.expander.reset();
        let level = Level::top(origin.path, origin.place);
        if eof {
            let buf = std::mem::take(&mut self.buf);
            self.expander.blob(&buf[..len], &level, &mut budget, out);
            self.buf = buf;
            return Ok(len as u64);
        }
        let head = &self.buf[..len];
        if Archive::sniff(head).is_some() || Compression::sniff(head).is_some() {
            let cap = budget.limits.expanded_bytes;
            let mut all = head.to_vec();
            (&mut reader)
                .take(cap.saturating_sub(len as u64).saturating_add(1))
                .read_to_end(&mut all)?;
            if all.len() as u64 <= cap {
                self.expander.blob(&all, &level, &mut budget, out);
                return Ok(all.len() as u64);
            }
            self.expander.notes.push((
                origin.path.to_string(),
                format!(
                    "an archive or compressed file larger than the expanded-bytes limit: only its raw bytes were scanned; {}",
                    Limits::advice("expanded_bytes", cap)
                ),
            ));
            let rest = io::Cursor::new(all.split_off(len)).chain(reader);
            return self.stream_detected(rest, len, &level, &mut budget, out);
        }
        self.stream_detected(reader, len, &level, &mut budget, out)
    }

    /// Streams an input too large for the buffer, decoding it first if it is UTF-16.
    fn stream_detected<R: Read>(
        &mut self,
        mut reader: R,
        len: usize,
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        match decode::detect(&self.buf[..len]) {
            Encoding::Bytes { bom } => {
                self.stream(&mut reader, len, false, bom, level, budget, out)
            }
            Encoding::Utf16 { big_endian, bom } => {
                let head = io::Cursor::new(self.buf[..len].to_vec());
                self.scan_utf16(head.chain(reader), big_endian, bom, level, out)
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
        level: &Level<'_>,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        let (tx, rx) = mpsc::sync_channel(4);
        let (matcher, chunk) = (self.matcher, self.chunk);
        let level = *level;
        std::thread::scope(|s| {
            let raw = s.spawn(move || {
                let mut scanner = Scanner::new(matcher, 0).with_chunk(chunk);
                scanner.utf16_runs = false;
                let mut found = Vec::new();
                let mut budget = Budget::new(matcher.limits());
                let n = scanner.scan_plain(Received::new(rx), &level, &mut budget, &mut found);
                (n, found, scanner.take_notes())
            });
            let tee = Tee { inner: source, tx };
            let mut budget = Budget::new(matcher.limits());
            let decoded = self.scan_plain(
                Utf16Reader::new(tee, big_endian, bom),
                &level,
                &mut budget,
                out,
            );
            let (raw_read, found, notes) = match raw.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            decoded?;
            out.extend(found);
            self.expander.notes.extend(notes);
            raw_read
        })
    }

    /// Streams a reader as it is: no encoding detection, no BOM.
    fn scan_plain<R: Read>(
        &mut self,
        mut reader: R,
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        self.prepare();
        let (len, eof) = fill(&mut reader, &mut self.buf, 0)?;
        self.stream(&mut reader, len, eof, 0, level, budget, out)
    }

    /// The buffer holds, in order: context kept from the previous step, the region scanned in this
    /// step, and the lookahead a key starting in that region may need.
    fn prepare(&mut self) {
        let want = self.matcher.keep_before() + self.chunk + self.matcher.lookahead();
        if self.buf.len() != want {
            self.buf = vec![0; want];
        }
    }

    /// The streaming loop: `self.buf[..len]` holds the first bytes already read. Finds exactly what
    /// `Matcher::find` finds over the whole input at once, and what the encoded text in it holds.
    #[allow(clippy::too_many_arguments)]
    fn stream<R: Read>(
        &mut self,
        reader: &mut R,
        mut len: usize,
        mut eof: bool,
        bom: usize,
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> io::Result<u64> {
        let lookahead = self.matcher.lookahead();
        let keep = self.matcher.keep_before();
        let mut total = len as u64;
        let mut from = bom;
        let mut lines = Lines::new(bom);
        loop {
            // Not at the end, `fill` has filled the buffer, which is longer than the lookahead
            // plus what is kept: every step moves on by at least one byte.
            let until = if eof { len } else { len - lookahead };
            self.hits.clear();
            self.cands.clear();
            if from < until {
                self.matcher.find_all(
                    &self.buf[..len],
                    from,
                    until,
                    &mut self.hits,
                    &mut self.cands,
                );
            }
            let mut resume = until;
            for h in &self.hits {
                resume = resume.max(h.end);
            }
            let placed = if self.cands.is_empty() {
                Vec::new()
            } else {
                self.expander.candidates(
                    &self.buf[..len],
                    until,
                    &self.cands,
                    level,
                    budget,
                    self.utf16_runs,
                )
            };
            if !self.hits.is_empty() || !placed.is_empty() {
                let found = self.expander.locate_all(
                    &self.buf[..len],
                    &self.hits,
                    placed,
                    &mut lines,
                    level,
                );
                keep_owned(found, from, until, out);
            }
            if eof {
                return Ok(total);
            }
            // Keep some bytes before the next region as left edge, context and encoded window.
            let keep_from = until - keep;
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
}

fn too_large(path: &str, size: u64, limit: u64) -> Error {
    Error::input(
        path,
        format!("skipped: {size} bytes is over --max-file-size ({limit} bytes); raise it or allow the path"),
    )
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
