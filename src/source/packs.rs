//! Pack order: where each object sits in its pack, read straight from the `.idx` files. Reading
//! blobs in that order keeps a delta's base in libgit2's delta cache when the delta is read, which
//! measured 15-25% faster than reading them in id order.

use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use git2::Oid;
use std::path::{Path, PathBuf};

/// One `.idx` file, kept as bytes and searched in place (ids are sorted, with a fan-out table).
struct PackIndex {
    data: Vec<u8>,
    count: usize,
    v2: bool,
}

const V2_MAGIC: &[u8] = b"\xfftOc";

impl PackIndex {
    fn parse(data: Vec<u8>) -> Result<PackIndex, String> {
        let v2 = data.starts_with(V2_MAGIC);
        let fanout_at = if v2 { 8 } else { 0 };
        if v2 && data.get(4..8) != Some(&[0, 0, 0, 2]) {
            return Err("unsupported pack index version".into());
        }
        let count = be32(&data, fanout_at + 255 * 4).ok_or("truncated pack index")? as usize;
        let need = if v2 {
            8 + 256 * 4 + count * (20 + 4 + 4)
        } else {
            256 * 4 + count * 24
        };
        if data.len() < need {
            return Err("truncated pack index".into());
        }
        Ok(PackIndex { data, count, v2 })
    }

    fn fanout(&self, byte: usize) -> usize {
        let at = if self.v2 { 8 } else { 0 } + byte * 4;
        be32(&self.data, at).unwrap_or(0) as usize
    }

    fn name(&self, i: usize) -> &[u8] {
        let at = if self.v2 {
            8 + 256 * 4 + i * 20
        } else {
            256 * 4 + i * 24 + 4
        };
        &self.data[at..at + 20]
    }

    /// The object's offset in the pack, if this pack holds it.
    fn offset_of(&self, id: &[u8]) -> Option<u64> {
        let first = id[0] as usize;
        let mut lo = if first == 0 {
            0
        } else {
            self.fanout(first - 1)
        };
        let mut hi = self.fanout(first).min(self.count);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.name(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.offset(mid)),
            }
        }
        None
    }

    fn offset(&self, i: usize) -> u64 {
        if !self.v2 {
            return u64::from(be32(&self.data, 256 * 4 + i * 24).unwrap_or(0));
        }
        let offsets = 8 + 256 * 4 + self.count * 24;
        let small = be32(&self.data, offsets + i * 4).unwrap_or(0);
        if small & 0x8000_0000 == 0 {
            return u64::from(small);
        }
        // Packs over 2 GiB keep large offsets in a table after the small ones.
        let at = offsets + self.count * 4 + (small & 0x7fff_ffff) as usize * 8;
        self.data
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(u64::MAX)
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4)?
        .try_into()
        .ok()
        .map(u32::from_be_bytes)
}

/// Orders `blobs` by (pack, offset in pack); objects in no pack (loose, or in an alternate) go last
/// in id order. A pack index that cannot be read is reported and its objects fall back to id order,
/// which only costs speed: libgit2 still finds them.
pub fn pack_order(git_dir: &Path, mut blobs: Vec<Oid>, diag: &Diagnostics) -> Vec<Oid> {
    let mut indexes = Vec::new();
    for dir in object_dirs(git_dir) {
        let Ok(entries) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        paths.sort();
        for path in paths {
            let parsed = std::fs::read(&path)
                .map_err(|e| describe_io(&e))
                .and_then(PackIndex::parse);
            match parsed {
                Ok(idx) => indexes.push(idx),
                Err(cause) => diag.error(&Error::input(path.display().to_string(), cause)),
            }
        }
    }
    let key = |oid: &Oid| -> (usize, u64) {
        let id = oid.as_bytes();
        indexes
            .iter()
            .enumerate()
            .find_map(|(i, idx)| idx.offset_of(id).map(|off| (i, off)))
            .unwrap_or((usize::MAX, 0))
    };
    let mut keyed: Vec<((usize, u64), Oid)> = blobs.drain(..).map(|o| (key(&o), o)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, o)| o).collect()
}

/// The repository's object directory and those its `info/alternates` lists (one level).
fn object_dirs(git_dir: &Path) -> Vec<PathBuf> {
    let objects = git_dir.join("objects");
    let mut dirs = vec![objects.clone()];
    if let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) {
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p = Path::new(line);
            dirs.push(if p.is_absolute() {
                p.to_path_buf()
            } else {
                objects.join(p)
            });
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(entries: &[([u8; 20], u64)]) -> Vec<u8> {
        let mut sorted = entries.to_vec();
        sorted.sort();
        let mut d = V2_MAGIC.to_vec();
        d.extend([0, 0, 0, 2]);
        for b in 0..256usize {
            let n = sorted
                .iter()
                .filter(|(id, _)| (id[0] as usize) <= b)
                .count() as u32;
            d.extend(n.to_be_bytes());
        }
        for (id, _) in &sorted {
            d.extend(id);
        }
        d.extend(std::iter::repeat_n(0u8, sorted.len() * 4));
        let mut large = Vec::new();
        for (_, off) in &sorted {
            if *off >= 0x8000_0000 {
                d.extend((0x8000_0000u32 | (large.len() as u32)).to_be_bytes());
                large.push(*off);
            } else {
                d.extend((*off as u32).to_be_bytes());
            }
        }
        for off in large {
            d.extend(off.to_be_bytes());
        }
        d
    }

    #[test]
    fn finds_offsets_small_and_large() {
        let a = [0x10; 20];
        let b = [0xab; 20];
        let c = [0xff; 20];
        let idx = PackIndex::parse(v2(&[(a, 12), (b, 5_000_000_000), (c, 99)])).unwrap();
        assert_eq!(idx.offset_of(&a), Some(12));
        assert_eq!(idx.offset_of(&b), Some(5_000_000_000));
        assert_eq!(idx.offset_of(&c), Some(99));
        assert_eq!(idx.offset_of(&[0x11; 20]), None);
        assert!(PackIndex::parse(v2(&[(a, 1)])[..100].to_vec()).is_err());
    }
}
