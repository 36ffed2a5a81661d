//! Reading commits and trees by id, one reader per thread: from the packs directly, with a
//! bounded cache of recently built objects (a tree's delta base is usually the tree the previous
//! commit had), and through libgit2 for what no pack holds (loose objects) or what a pack entry
//! fails to give. libgit2 also words the error when both fail.
//!
//! Why not `Repository::find_tree`: it starts a zlib stream per object and per delta, and parses
//! every tree into an allocated entry table; walking the 5000 commits of the benchmark history
//! that way took 0.45 s of CPU, most of it in malloc and `inflateInit`.

use crate::git::object::{self, CommitLinks};
use crate::git::odb::fallbacks::Fallbacks;
use crate::git::odb::packs::{self, Base, Inflater, Pack, Packs};
use crate::util::fasthash::FxMap;
use crate::util::mmap::Bytes;
use git2::{ObjectType, Oid, Repository};
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Entry types, as packs number them.
pub const COMMIT: u8 = 1;
pub const TREE: u8 = 2;

/// Bytes of built objects one reader keeps. The cache is what makes delta chains cheap; it is
/// bounded so that memory does not grow with the length of the history.
const CACHE_BYTES: usize = 8 << 20;

/// Longer delta chains are damage (git's own limit is 4095).
const MAX_CHAIN: usize = 10_000;

/// Objects built from the packs alone: delta chains walked down to a cached or full object and
/// built back up. No libgit2 here, so the property tests and the `pack` fuzz target drive exactly
/// what `history` runs.
pub struct PackReader<'p> {
    packs: &'p Packs,
    z: Inflater,
    delta: Vec<u8>,
    cache: FxMap<(usize, u64), Built>,
    order: VecDeque<((usize, u64), usize)>,
    cached_bytes: usize,
    /// Largest object a delta may build.
    limit: u64,
}

/// An object's type (pack numbering) and content.
pub type Built = (u8, Rc<Vec<u8>>);

impl<'p> PackReader<'p> {
    pub fn new(packs: &'p Packs) -> PackReader<'p> {
        PackReader::with_limit(packs, packs::MAX_OBJECT)
    }

    pub fn with_limit(packs: &'p Packs, limit: u64) -> PackReader<'p> {
        PackReader {
            packs,
            z: Inflater::default(),
            delta: Vec::new(),
            cache: FxMap::default(),
            order: VecDeque::new(),
            cached_bytes: 0,
            limit,
        }
    }

    /// The object at `offset` of pack `pack`, caching each link of its delta chain. An error when
    /// the chain leaves the pack or an entry is damaged.
    pub fn read(&mut self, pack: usize, offset: u64) -> Result<Built, String> {
        let p = &self.packs.packs[pack];
        let mut chain = Vec::new();
        let mut at = offset;
        let (kind, mut data) = loop {
            if let Some((k, d)) = self.cache.get(&(pack, at)) {
                break (*k, d.clone());
            }
            let h = p.header(at)?;
            match h.base {
                Base::None => {
                    let mut out = Vec::new();
                    p.inflate(at, &h, &mut self.z, &mut out)?;
                    let out = Rc::new(out);
                    self.remember(pack, at, h.kind, out.clone());
                    break (h.kind, out);
                }
                Base::Offset(base) => {
                    chain.push((at, h));
                    at = base;
                }
                Base::Id(id) => {
                    chain.push((at, h));
                    at = p
                        .offset_of(id)
                        .ok_or("delta base is not in the same pack")?;
                }
            }
            if chain.len() > MAX_CHAIN {
                return Err("delta chain too long (a loop?)".into());
            }
        };
        for (at, h) in chain.into_iter().rev() {
            p.inflate(at, &h, &mut self.z, &mut self.delta)?;
            let mut built = Vec::new();
            packs::apply_delta_within(&data, &self.delta, &mut built, self.limit)?;
            data = Rc::new(built);
            self.remember(pack, at, kind, data.clone());
        }
        Ok((kind, data))
    }

    fn remember(&mut self, pack: usize, offset: u64, kind: u8, data: Rc<Vec<u8>>) {
        let size = data.len();
        if size > CACHE_BYTES / 8 {
            return;
        }
        while self.cached_bytes + size > CACHE_BYTES {
            let Some((key, n)) = self.order.pop_front() else {
                break;
            };
            self.cache.remove(&key);
            self.cached_bytes -= n;
        }
        if self.cache.insert((pack, offset), (kind, data)).is_none() {
            self.order.push_back(((pack, offset), size));
            self.cached_bytes += size;
        }
    }
}

/// Every object an index lists, read from its pack through the reader `history` uses (headers,
/// zlib, delta chains by offset and by id), from the two files' bytes; deltas may build objects of
/// at most `limit` bytes. For the `pack` fuzz target and the property test that feeds it broken
/// packs: it must return, never panic, loop or allocate without bound. Gives how many objects
/// were read, or why the pair was refused.
pub fn read_every_object(idx: &[u8], pack: &[u8], limit: u64) -> Result<usize, String> {
    let p = Pack::from_bytes(
        PathBuf::from("fuzz.pack"),
        Path::new("fuzz.idx"),
        Bytes::Read(idx.to_vec()),
        Bytes::Read(pack.to_vec()),
    )
    .map_err(|e| e.to_string())?;
    let offsets = p.entry_offsets().to_vec();
    let packs = Packs { packs: vec![p] };
    let mut reader = PackReader::with_limit(&packs, limit);
    Ok(offsets
        .into_iter()
        .filter(|&at| reader.read(0, at).is_ok())
        .count())
}

/// Commits and trees by id: from the packs, else through libgit2 (counted as a fallback).
pub struct Reader<'p> {
    packed: PackReader<'p>,
    fallbacks: &'p Fallbacks,
    repo: Repository,
    /// Commits a shallow clone was cut at: they have no parents here.
    grafted: &'p HashSet<Oid>,
}

impl<'p> Reader<'p> {
    pub fn new(
        packs: &'p Packs,
        fallbacks: &'p Fallbacks,
        repo: Repository,
        grafted: &'p HashSet<Oid>,
    ) -> Reader<'p> {
        Reader {
            packed: PackReader::new(packs),
            fallbacks,
            repo,
            grafted,
        }
    }

    /// The object's type (pack numbering) and content.
    pub fn read(&mut self, oid: Oid) -> Result<Built, git2::Error> {
        match self.packed.packs.locate(oid) {
            Some((p, off)) => match self.packed.read(p, off) {
                Ok(found) => return Ok(found),
                Err(_) => self.fallbacks.failed(1),
            },
            None => self.fallbacks.not_packed(1),
        }
        let odb = self.repo.odb()?;
        let obj = odb.read(oid)?;
        let kind = match obj.kind() {
            ObjectType::Commit => COMMIT,
            ObjectType::Tree => TREE,
            ObjectType::Blob => packs::BLOB,
            _ => 4,
        };
        Ok((kind, Rc::new(obj.data().to_vec())))
    }

    /// The tree's raw entries.
    pub fn tree(&mut self, oid: Oid) -> Result<Rc<Vec<u8>>, String> {
        match self.read(oid) {
            Ok((TREE, data)) => Ok(data),
            Ok(_) => Err("not a tree".into()),
            Err(e) => Err(crate::git::errors::cause(&e)),
        }
    }

    /// Tree and parents of a commit, its parents as a shallow clone's grafts say.
    pub fn commit(&mut self, oid: Oid) -> Result<CommitLinks, String> {
        self.commit_and_bytes(oid).map(|(links, _)| links)
    }

    /// As `commit`, with the commit's bytes (its message starts at `links.message_at`).
    pub fn commit_and_bytes(&mut self, oid: Oid) -> Result<(CommitLinks, Rc<Vec<u8>>), String> {
        let data = match self.read(oid) {
            Ok((COMMIT, data)) => data,
            Ok(_) => return Err("not a commit".into()),
            Err(e) => return Err(crate::git::errors::cause(&e)),
        };
        let mut links = object::parse_commit(&data)?;
        if self.grafted.contains(&oid) {
            links.parents.clear();
        }
        Ok((links, data))
    }
}
