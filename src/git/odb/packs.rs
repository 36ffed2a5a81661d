//! Pack files, read directly: `.idx` lookups, entry headers, inflating an entry, applying a delta.
//!
//! libgit2 reads one object at a time: it walks the object's delta chain, starts a fresh zlib
//! stream for each link and copies the result, which measured 0.6 s of CPU for the 16,571 blobs of
//! the 5000-commit benchmark history. `blobs` uses this module instead to inflate each pack entry
//! once and to apply each delta to a base it still holds. Anything this module cannot read (loose
//! objects, a delta whose base is in another pack, a damaged entry) goes back to libgit2, which
//! also words the error.
//!
//! A pack is trusted as git trusts it: its `.idx` is opened only beside a `.pack` that exists, both
//! regular files (an `.idx` alone is passed over, as git passes it over), and the pair is used only
//! when the checksum at the end of the `.pack` is the one the `.idx` records for it. That is one
//! 20-byte comparison per pack: the pack itself is never hashed.

use crate::diagnostics::Diagnostics;
use crate::error::{describe_io, Error};
use crate::util::mmap::{open_regular, read_or_map, Bytes};
use flate2::{Decompress, FlushDecompress, Status};
use git2::Oid;
use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// Entry types in a pack.
pub const BLOB: u8 = 3;
pub const OFS_DELTA: u8 = 6;
pub const REF_DELTA: u8 = 7;

/// No object in a pack this module reads is larger (git itself cannot handle much more either);
/// a header claiming more is damage, not data.
pub const MAX_OBJECT: u64 = 1 << 34;

/// One `.idx` file, mapped and searched in place (ids are sorted, with a fan-out table).
struct PackIndex {
    data: Bytes,
    count: usize,
    v2: bool,
}

const V2_MAGIC: &[u8] = b"\xfftOc";

impl PackIndex {
    fn parse(data: Bytes) -> Result<PackIndex, String> {
        let v2 = data.starts_with(V2_MAGIC);
        let fanout_at = if v2 { 8 } else { 0 };
        if v2 && data.get(4..8) != Some(&[0, 0, 0, 2]) {
            return Err("unsupported pack index version".into());
        }
        let count = be32(&data, fanout_at + 255 * 4).ok_or("truncated pack index")? as usize;
        // Both versions end with the pack's checksum and their own.
        let need = if v2 {
            8 + 256 * 4 + count * (20 + 4 + 4)
        } else {
            256 * 4 + count * 24
        } + 2 * 20;
        if data.len() < need {
            return Err("truncated pack index".into());
        }
        Ok(PackIndex { data, count, v2 })
    }

    /// The checksum of the pack this index was written for: the 20 bytes before its own.
    fn pack_checksum(&self) -> &[u8] {
        &self.data[self.data.len() - 40..self.data.len() - 20]
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
        let first = *id.first()? as usize;
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

/// One pack: its index, its bytes, and where each entry ends.
pub struct Pack {
    map: Bytes,
    index: PackIndex,
    /// Every entry's offset, sorted, so an entry ends where the next begins.
    offsets: Vec<u64>,
    /// Where entries stop: before the 20-byte trailer.
    data_end: u64,
}

/// Why a listed `.idx` gave no pack.
#[derive(Debug)]
pub(crate) enum Unopened {
    /// Gone between the listing and the open: a `git repack` or `git gc` replaced it.
    Vanished,
    /// What git passes over without a word: an `.idx` whose `.pack` is missing or is not a
    /// regular file.
    Ignored,
    /// Damage, named by the file it is in (the `.idx` or the `.pack`); the scan goes on without
    /// the pack, and libgit2 reports each object it then cannot find elsewhere.
    Damaged(Error),
    /// A pack index that is not a regular file, beside a real pack: git and libgit2 both wait
    /// forever opening it, so the scan cannot go on.
    Blocking(Error),
}

/// What is at a path, without opening it.
enum Kind {
    Regular,
    Missing,
    Other,
}

fn kind_of(path: &Path) -> io::Result<Kind> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Kind::Regular),
        Ok(_) => Ok(Kind::Other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Kind::Missing),
        Err(e) => Err(e),
    }
}

fn map(file: File) -> Result<Bytes, String> {
    if file.metadata().map_err(|e| describe_io(&e))?.len() == 0 {
        return Err("empty file".into());
    }
    read_or_map(file, 0, false).map_err(|e| describe_io(&e))
}

/// An entry's header: its type, its size (for a delta, the size of the delta data), where its
/// zlib stream starts, and its base if it is a delta.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub kind: u8,
    pub size: u64,
    pub data_start: u64,
    pub base: Base,
}

#[derive(Debug, Clone, Copy)]
pub enum Base {
    None,
    Offset(u64),
    Id(Oid),
}

impl Pack {
    /// The pack `idx_path` indexes, if git would use it: see `Unopened` for why not.
    pub(crate) fn open(idx_path: &Path) -> Result<Pack, Unopened> {
        let path = idx_path.with_extension("pack");
        let shown = |p: &Path| p.display().to_string();
        // The `.pack` first: without a real one, git never opens the `.idx` at all.
        match kind_of(&path) {
            Ok(Kind::Regular) => {}
            Ok(Kind::Missing | Kind::Other) => return Err(Unopened::Ignored),
            Err(e) => return Err(Unopened::Damaged(Error::io(shown(&path), &e))),
        }
        let idx = match open_regular(idx_path) {
            Ok(Ok(file)) => map(file)
                .map_err(|cause| Unopened::Damaged(Error::input(shown(idx_path), cause)))?,
            Ok(Err(kind)) => {
                return Err(Unopened::Blocking(Error::Fatal(format!(
                    "{}: {kind} where a pack index belongs: git and libgit2 wait forever trying to read it, so nothing was scanned; remove it",
                    shown(idx_path)
                ))))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unopened::Vanished),
            Err(e) => return Err(Unopened::Damaged(Error::io(shown(idx_path), &e))),
        };
        let map = match open_regular(&path) {
            Ok(Ok(file)) => {
                map(file).map_err(|cause| Unopened::Damaged(Error::input(shown(&path), cause)))?
            }
            Ok(Err(_)) => return Err(Unopened::Ignored),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unopened::Vanished),
            Err(e) => return Err(Unopened::Damaged(Error::io(shown(&path), &e))),
        };
        Pack::from_bytes(path, idx_path, idx, map).map_err(Unopened::Damaged)
    }

    /// A pack from its index's and its own bytes, checked as git checks a pair before using it:
    /// the header, the object count, and the pack's trailing checksum against the one the index
    /// records. Damage is named by the file that holds it.
    pub(crate) fn from_bytes(
        path: PathBuf,
        idx_path: &Path,
        idx: Bytes,
        map: Bytes,
    ) -> Result<Pack, Error> {
        let idx_shown = idx_path.display().to_string();
        let index = PackIndex::parse(idx).map_err(|cause| Error::input(&idx_shown, cause))?;
        let damaged = |cause: String| Error::input(path.display().to_string(), cause);
        let len = map.len() as u64;
        if map.get(..4) != Some(b"PACK") || !matches!(be32(&map, 4), Some(2 | 3)) || len < 32 {
            return Err(damaged("not a pack file (version 2 or 3)".into()));
        }
        let idx_name = idx_path
            .file_name()
            .map_or_else(|| idx_shown.clone(), |n| n.to_string_lossy().into_owned());
        let mut offsets: Vec<u64> = (0..index.count).map(|i| index.offset(i)).collect();
        offsets.sort_unstable();
        let data_end = len - 20;
        let past_end = offsets.len() - offsets.partition_point(|&o| o < data_end);
        let matches = map[map.len() - 20..] == *index.pack_checksum();
        if !matches && past_end > 0 {
            return Err(damaged(format!(
                "damaged: shorter than its index says ({past_end} objects past its end); not read, as git does not read it"
            )));
        }
        if !matches {
            return Err(damaged(format!(
                "does not match its index {idx_name}: the checksum at its end is not the one the index records (a truncated or replaced pack); not read, as git does not read it"
            )));
        }
        let claimed = be32(&map, 8).unwrap_or(0) as usize;
        if claimed != index.count {
            return Err(damaged(format!(
                "holds {claimed} objects but its index {idx_name} lists {}; not read, as git does not read it",
                index.count
            )));
        }
        if past_end > 0 {
            // The pack is the one the index was written for: the index is what is wrong.
            return Err(Error::input(
                idx_shown,
                format!("damaged pack index: {past_end} objects listed past the end of its pack"),
            ));
        }
        Ok(Pack {
            map,
            index,
            offsets,
            data_end,
        })
    }

    fn bytes(&self, from: u64, to: u64) -> Option<&[u8]> {
        self.map
            .get(usize::try_from(from).ok()?..usize::try_from(to).ok()?)
    }

    /// Every entry's offset, in pack order.
    pub fn entry_offsets(&self) -> &[u64] {
        &self.offsets
    }

    pub fn offset_of(&self, oid: Oid) -> Option<u64> {
        self.index.offset_of(oid.as_bytes())
    }

    /// Where the entry at `offset` ends (the next entry's offset).
    fn end_of(&self, offset: u64) -> u64 {
        match self.offsets.binary_search(&offset) {
            Ok(i) => self.offsets.get(i + 1).copied().unwrap_or(self.data_end),
            Err(_) => self.data_end,
        }
    }

    pub fn header(&self, offset: u64) -> Result<Header, String> {
        let end = self.data_end.min(offset.saturating_add(32));
        let buf = self
            .bytes(offset, end)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| format!("entry offset {offset} is outside the pack"))?;
        let truncated = || "truncated entry header".to_string();
        let mut i = 0;
        let mut c = *buf.first().ok_or_else(truncated)?;
        let kind = (c >> 4) & 7;
        let mut size = u64::from(c & 15);
        let mut shift = 4;
        while c & 0x80 != 0 {
            i += 1;
            c = *buf.get(i).ok_or_else(truncated)?;
            if shift > 60 {
                return Err("entry size out of range".into());
            }
            size |= u64::from(c & 0x7f) << shift;
            shift += 7;
        }
        i += 1;
        let base = match kind {
            OFS_DELTA => {
                let mut c = *buf.get(i).ok_or_else(truncated)?;
                i += 1;
                let mut back = u64::from(c & 0x7f);
                while c & 0x80 != 0 {
                    c = *buf.get(i).ok_or_else(truncated)?;
                    i += 1;
                    back = back
                        .checked_add(1)
                        .and_then(|b| b.checked_mul(128))
                        .ok_or("delta base offset out of range")?
                        | u64::from(c & 0x7f);
                }
                if back == 0 || back > offset {
                    return Err("delta base offset out of range".into());
                }
                Base::Offset(offset - back)
            }
            REF_DELTA => {
                let id = buf.get(i..i + 20).ok_or_else(truncated)?;
                i += 20;
                Base::Id(Oid::from_bytes(id).map_err(|e| e.message().to_string())?)
            }
            1..=4 => Base::None,
            other => return Err(format!("unknown entry type {other}")),
        };
        if size > MAX_OBJECT {
            return Err("entry size out of range".into());
        }
        Ok(Header {
            kind,
            size,
            data_start: offset + i as u64,
            base,
        })
    }

    /// Inflates the entry at `offset` into `out` (replacing its contents).
    pub fn inflate(
        &self,
        offset: u64,
        h: &Header,
        z: &mut Inflater,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let input = self
            .bytes(h.data_start, self.end_of(offset))
            .ok_or("entry data outside the pack")?;
        // The zlib header is checked here and the stream inflated raw: its trailing Adler-32
        // costs time and proves nothing the size check below does not (as with libgit2's
        // hash check, this scan only reads).
        let deflate = match input {
            [cmf, flg, rest @ ..]
                if cmf & 0x0f == 8
                    && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
                    && flg & 0x20 == 0 =>
            {
                rest
            }
            _ => return Err("entry is not a zlib stream".into()),
        };
        // Deflate cannot expand data more than 1032 times: a header claiming more is damage, and
        // reserving what it claims would let one bad byte ask for gigabytes.
        if h.size > (input.len() as u64).saturating_mul(1032).saturating_add(64) {
            return Err(format!(
                "entry claims {} bytes, more than its {} compressed bytes can hold",
                h.size,
                input.len()
            ));
        }
        out.clear();
        out.try_reserve_exact(h.size as usize)
            .map_err(|_| format!("cannot allocate {} bytes", h.size))?;
        z.stream.reset(false);
        let status = z
            .stream
            .decompress_vec(deflate, out, FlushDecompress::Finish)
            .map_err(|e| format!("zlib: {e}"))?;
        if !matches!(status, Status::StreamEnd) || out.len() as u64 != h.size {
            return Err(format!(
                "entry inflates to {} bytes, header says {}",
                out.len(),
                h.size
            ));
        }
        Ok(())
    }
}

/// A zlib stream reused across entries (one per thread): starting a fresh one per object is
/// what made libgit2's reads slow.
pub struct Inflater {
    stream: Decompress,
}

impl Default for Inflater {
    fn default() -> Inflater {
        Inflater {
            stream: Decompress::new(false),
        }
    }
}

/// Builds `out` from `base` and a git delta (copy and insert instructions).
pub fn apply_delta(base: &[u8], delta: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    apply_delta_within(base, delta, out, MAX_OBJECT)
}

/// Reserved ahead for a delta's result; past this the buffer grows as bytes arrive, so a delta
/// header cannot reserve what its instructions never produce.
const RESERVE_AHEAD: u64 = 64 << 20;

/// `apply_delta` for results of at most `limit` bytes.
pub fn apply_delta_within(
    base: &[u8],
    delta: &[u8],
    out: &mut Vec<u8>,
    limit: u64,
) -> Result<(), String> {
    let bad = |what: &str| format!("bad delta: {what}");
    let mut pos = 0;
    let varint = |pos: &mut usize| -> Result<u64, String> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let c = *delta.get(*pos).ok_or_else(|| bad("truncated header"))?;
            *pos += 1;
            if shift > 63 {
                return Err(bad("size out of range"));
            }
            v |= u64::from(c & 0x7f) << shift;
            shift += 7;
            if c & 0x80 == 0 {
                return Ok(v);
            }
        }
    };
    let base_len = varint(&mut pos)?;
    let result_len = varint(&mut pos)?;
    if base_len != base.len() as u64 {
        return Err(bad("base size differs"));
    }
    if result_len > limit {
        return Err(bad("result size out of range"));
    }
    out.clear();
    let ahead = result_len.min(RESERVE_AHEAD) as usize;
    out.try_reserve_exact(ahead)
        .map_err(|_| format!("cannot allocate {ahead} bytes"))?;
    while pos < delta.len() {
        let op = delta[pos];
        pos += 1;
        if op & 0x80 != 0 {
            let mut off = 0usize;
            let mut size = 0usize;
            for (bit, shift) in [(0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)] {
                if op & bit != 0 {
                    off |=
                        usize::from(*delta.get(pos).ok_or_else(|| bad("truncated copy"))?) << shift;
                    pos += 1;
                }
            }
            for (bit, shift) in [(0x10, 0), (0x20, 8), (0x40, 16)] {
                if op & bit != 0 {
                    size |=
                        usize::from(*delta.get(pos).ok_or_else(|| bad("truncated copy"))?) << shift;
                    pos += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            let chunk = off
                .checked_add(size)
                .and_then(|end| base.get(off..end))
                .ok_or_else(|| bad("copy outside the base"))?;
            out.extend_from_slice(chunk);
        } else if op != 0 {
            let n = usize::from(op);
            let chunk = delta
                .get(pos..pos + n)
                .ok_or_else(|| bad("truncated insert"))?;
            out.extend_from_slice(chunk);
            pos += n;
        } else {
            return Err(bad("reserved instruction 0"));
        }
        if out.len() as u64 > result_len {
            return Err(bad("result longer than announced"));
        }
    }
    if out.len() as u64 != result_len {
        return Err(bad("result shorter than announced"));
    }
    Ok(())
}

/// Every pack of the repository (and of its alternates), newest name order as git lists them.
pub struct Packs {
    pub packs: Vec<Pack>,
}

impl Packs {
    /// Opens every pack of the object directories (in the order given: see `repo::object_dirs`)
    /// that git would use; one that is damaged is reported and left to libgit2, which reports
    /// each object it then fails to read. Fails only for a pack index git itself would block on.
    pub fn open(object_dirs: &[PathBuf], diag: &Diagnostics) -> Result<Packs, Error> {
        let mut packs = Vec::new();
        for dir in object_dirs {
            let dir = dir.join("pack");
            packs.extend(open_listed(|| list_indexes(&dir), Pack::open, diag)?);
        }
        Ok(Packs { packs })
    }

    /// No packs: every object goes to libgit2 (`STRIPE_SCAN_OBJECT_READER=git2`).
    pub fn none() -> Packs {
        Packs { packs: Vec::new() }
    }

    /// The first pack holding `oid`, and the offset there.
    pub fn locate(&self, oid: Oid) -> Option<(usize, u64)> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.offset_of(oid).map(|off| (i, off)))
    }
}

/// The `.idx` files of one pack directory, in name order.
fn list_indexes(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    paths.sort();
    paths
}

/// Opens what `list` names. When a pack vanished between the listing and the open (a `git
/// repack` or `git gc` running beside the scan replaced it), the directory is listed once more
/// and the new names are opened, as git re-reads its pack list once before giving up on an
/// object. Packs already open stay open: their mapping outlives the file's removal.
fn open_listed<P>(
    mut list: impl FnMut() -> Vec<PathBuf>,
    mut open: impl FnMut(&Path) -> Result<P, Unopened>,
    diag: &Diagnostics,
) -> Result<Vec<P>, Error> {
    let mut opened = Vec::new();
    let mut tried: HashSet<PathBuf> = HashSet::new();
    for _ in 0..2 {
        let mut vanished = false;
        for path in list() {
            if tried.contains(&path) {
                continue;
            }
            match open(&path) {
                Ok(p) => opened.push(p),
                Err(Unopened::Vanished) => {
                    vanished = true;
                    continue;
                }
                Err(Unopened::Ignored) => {}
                Err(Unopened::Damaged(e)) => diag.error(&e),
                Err(Unopened::Blocking(e)) => return Err(e),
            }
            tried.insert(path);
        }
        if !vanished {
            break;
        }
    }
    Ok(opened)
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
        // The pack's checksum, then the index's own.
        d.extend([0x5a; 20]);
        d.extend([0; 20]);
        d
    }

    /// A pack of `n` one-byte-blob entries whose trailer is `trailer`, and an index for it.
    fn pair(n: usize, trailer: [u8; 20]) -> (Vec<u8>, Vec<u8>) {
        let mut pack = b"PACK\0\0\0\x02".to_vec();
        pack.extend((n as u32).to_be_bytes());
        let mut entries = Vec::new();
        for i in 0..n {
            entries.push(([i as u8 + 1; 20], pack.len() as u64));
            // A blob of size 1: header byte, then zlib of "x".
            pack.push(0x31);
            pack.extend([0x78, 0x9c, 0xab, 0x00, 0x00, 0x00, 0x79, 0x00, 0x79]);
        }
        pack.extend(trailer);
        (v2(&entries), pack)
    }

    fn from(idx: Vec<u8>, pack: Vec<u8>) -> Result<Pack, Error> {
        Pack::from_bytes(
            PathBuf::from("p.pack"),
            Path::new("p.idx"),
            Bytes::Read(idx),
            Bytes::Read(pack),
        )
    }

    fn cause(r: Result<Pack, Error>) -> String {
        match r {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_pack_is_used_only_with_the_index_written_for_it() {
        let (idx, pack) = pair(3, [0x5a; 20]);
        let p = from(idx.clone(), pack.clone()).expect("a matching pair");
        let mut out = Vec::new();
        let off = p.offset_of(Oid::from_bytes(&[2; 20]).unwrap()).unwrap();
        let h = p.header(off).unwrap();
        p.inflate(off, &h, &mut Inflater::default(), &mut out)
            .unwrap();
        assert_eq!(out, b"x");

        let (_, other) = pair(3, [0x77; 20]);
        let e = cause(from(idx.clone(), other));
        assert!(
            e.starts_with("p.pack: does not match its index p.idx"),
            "{e}"
        );

        let mut short = pack.clone();
        short.truncate(pack.len() - 15);
        let e = cause(from(idx.clone(), short));
        assert!(
            e.contains("shorter than its index says (1 objects past its end)"),
            "{e}"
        );

        let mut miscounted = pack.clone();
        miscounted[11] = 4;
        let e = cause(from(idx.clone(), miscounted));
        assert!(
            e.contains("holds 4 objects but its index p.idx lists 3"),
            "{e}"
        );

        // The pack is intact (its trailer is the one recorded), the index points past it.
        let (mut bad_idx, _) = pair(3, [0x5a; 20]);
        let offsets = 8 + 256 * 4 + 3 * 24;
        bad_idx[offsets..offsets + 4].copy_from_slice(&9999u32.to_be_bytes());
        let e = cause(from(bad_idx, pack));
        assert!(e.starts_with("p.idx: damaged pack index"), "{e}");
    }

    #[test]
    fn a_vanished_pack_makes_the_directory_be_listed_once_more() {
        let diag = Diagnostics::default();
        let lists = [vec!["a", "b"], vec!["a", "c"], vec!["d"]];
        let mut listed = 0;
        let mut calls = Vec::new();
        let got = open_listed(
            || {
                listed += 1;
                lists[listed - 1].iter().map(PathBuf::from).collect()
            },
            |p| {
                calls.push(p.to_path_buf());
                match p.to_str() {
                    Some("b") => Err(Unopened::Vanished),
                    Some(name) => Ok(name.to_string()),
                    None => Err(Unopened::Ignored),
                }
            },
            &diag,
        )
        .unwrap();
        assert_eq!(
            got,
            ["a", "c"],
            "b was replaced by c; a is not opened twice"
        );
        assert_eq!(listed, 2, "listed again once, not a third time");
        assert_eq!(calls.len(), 3);
        assert_eq!(diag.errors(), 0, "a vanished pack is not damage");

        // Without a vanished pack the directory is listed once; a blocking index stops all.
        let mut listed = 0;
        let r = open_listed(
            || {
                listed += 1;
                vec![PathBuf::from("x")]
            },
            |_| -> Result<(), Unopened> { Err(Unopened::Blocking(Error::Fatal("fifo".into()))) },
            &diag,
        );
        assert!(r.is_err() && listed == 1);
    }

    #[test]
    fn finds_offsets_small_and_large() {
        let a = [0x10; 20];
        let b = [0xab; 20];
        let c = [0xff; 20];
        let idx =
            PackIndex::parse(Bytes::Read(v2(&[(a, 12), (b, 5_000_000_000), (c, 99)]))).unwrap();
        assert_eq!(idx.offset_of(&a), Some(12));
        assert_eq!(idx.offset_of(&b), Some(5_000_000_000));
        assert_eq!(idx.offset_of(&c), Some(99));
        assert_eq!(idx.offset_of(&[0x11; 20]), None);
        assert!(PackIndex::parse(Bytes::Read(v2(&[(a, 1)])[..100].to_vec())).is_err());
    }

    #[test]
    fn deltas_copy_and_insert() {
        let base = b"hello, world";
        // base 12, result 11: copy "hello" (offset 0, size 5), insert " you", copy "ld" (offset 10, size 2)
        let delta = [12, 11, 0x90, 5, 4, b' ', b'y', b'o', b'u', 0x91, 10, 2];
        let mut out = Vec::new();
        apply_delta(base, &delta, &mut out).unwrap();
        assert_eq!(out, b"hello yould");
        assert!(
            apply_delta(base, &[11, 11], &mut out).is_err(),
            "wrong base size"
        );
        assert!(
            apply_delta(base, &[12, 5, 0x91, 10, 5], &mut out).is_err(),
            "copy past the end"
        );
        assert!(
            apply_delta(base, &[12, 3, 0], &mut out).is_err(),
            "reserved op"
        );
        assert!(
            apply_delta(base, &[12, 3, 1, b'x'], &mut out).is_err(),
            "short result"
        );
    }
}
