//! The pack reader on arbitrary bytes: a pack index and its pack (headers, zlib streams, offset
//! and id deltas, delta instructions). It must return Ok or Err, never panic, loop or allocate
//! without bound. The first two bytes say where the index ends and the pack begins; the pack's
//! trailer is copied into the index, so inputs get past the pairing check to the entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stripe_scan::git::read_every_object;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let split = usize::from(u16::from_le_bytes(*head)).min(rest.len());
    let (idx, pack) = rest.split_at(split);
    let mut idx = idx.to_vec();
    if idx.len() >= 40 && pack.len() >= 20 {
        let n = idx.len();
        idx[n - 40..n - 20].copy_from_slice(&pack[pack.len() - 20..]);
    }
    let _ = read_every_object(&idx, pack, 1 << 24);
});
