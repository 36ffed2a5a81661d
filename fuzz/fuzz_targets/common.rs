//! Shared by the fuzz targets: one matcher for the process, and a reader that hands out input in
//! uneven pieces, as pipes and slow disks do.

use std::io::Read;
use std::sync::{Arc, OnceLock};
use stripe_scan::engine::matcher::Matcher;
use stripe_scan::rules::RuleSet;

pub fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(Arc::new(RuleSet::builtin().expect("rules"))).expect("matcher"))
}

/// Reads at most `sizes[i % n]` bytes (at least 1) per call.
pub struct Dribble<'a> {
    pub data: &'a [u8],
    pub sizes: Vec<usize>,
    pub i: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = self.sizes[self.i % self.sizes.len()].max(1);
        self.i += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Splits off a small header that steers the run (chunk size, read sizes), leaving the data.
pub fn steer(input: &[u8]) -> (usize, Vec<usize>, &[u8]) {
    if input.len() < 4 {
        return (1 << 20, vec![usize::MAX], input);
    }
    let (head, data) = input.split_at(4);
    let chunk = 1 + (usize::from(head[0]) << 4 | usize::from(head[1] & 0x0F));
    let sizes = vec![
        1 + usize::from(head[2]) * usize::from(head[2]),
        1 + usize::from(head[3] % 7),
        usize::MAX,
    ];
    (chunk, sizes, data)
}
