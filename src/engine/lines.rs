//! Line and column bookkeeping for a buffer that slides over the input. Lines are counted lazily,
//! only up to the hits (and up to the point where the buffer slides), so a file with no key pays
//! nothing here unless it is larger than one buffer.

pub(crate) struct Lines {
    /// Position in the buffer up to which lines are counted.
    cursor: usize,
    /// 1-based line holding `cursor`.
    line: u64,
    /// Characters between the start of that line and `cursor`.
    col: u64,
}

impl Lines {
    /// Counting starts at `start`, after any BOM, which is not a character of the line.
    pub fn new(start: usize) -> Lines {
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

    /// 1-based line and column (in characters) of byte `pos`. Calls mostly come in increasing
    /// order; a position a little before the last one (an encoded run that starts before a key
    /// already placed) is counted back from it.
    pub fn locate(&mut self, buf: &[u8], pos: usize) -> (u64, u64) {
        if pos < self.cursor {
            let seg = &buf[pos..self.cursor];
            let newlines = memchr::memchr_iter(b'\n', seg).count() as u64;
            if newlines == 0 {
                return (self.line, self.col + 1 - chars(seg) as u64);
            }
            let line_start = memchr::memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
            return (
                self.line - newlines,
                chars(&buf[line_start..pos]) as u64 + 1,
            );
        }
        self.advance(buf, pos);
        (self.line, self.col + 1)
    }

    /// The buffer is about to drop its first `d` bytes. The cursor may already be past them (a
    /// hit in the kept context).
    pub fn rebase(&mut self, buf: &[u8], d: usize) {
        self.advance(buf, d);
        self.cursor -= d;
    }
}

/// Characters in UTF-8 (continuation bytes do not start one); for invalid UTF-8 this is close to
/// what a lossy decoder shows.
pub(crate) fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// Where something at (`line`, `column`) of a decoded run is in the text holding the run, when
/// the run starts at (`at_line`, `at_column`) there and its lines are the text's lines (UTF-16).
pub(crate) fn compose(at: (u64, u64), inner: (u64, u64)) -> (u64, u64) {
    if inner.0 <= 1 {
        (at.0, at.1 + inner.1 - 1)
    } else {
        (at.0 + inner.0 - 1, inner.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_forward_and_a_little_back() {
        let buf = b"ab\ncd\nef gh";
        let mut l = Lines::new(0);
        assert_eq!(l.locate(buf, 9), (3, 4));
        assert_eq!(l.locate(buf, 7), (3, 2));
        assert_eq!(l.locate(buf, 4), (2, 2));
        assert_eq!(l.locate(buf, 10), (3, 5));
        assert_eq!(compose((4, 10), (1, 3)), (4, 12));
        assert_eq!(compose((4, 10), (2, 3)), (5, 3));
    }
}
