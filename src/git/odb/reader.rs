//! Reading commits and trees by id, one reader per thread: from the packs directly, with a
//! bounded cache of recently built objects (a tree's delta base is usually the tree the previous
//! commit had), and through libgit2 for what no pack holds (loose objects) or what a pack entry
//! fails to give. libgit2 also words the error when both fail.
//!
//! Why not `Repository::find_tree`: it starts a zlib stream per object and per delta, and parses
//! every tree into an allocated entry table; walking the 5000 commits of the benchmark history
//! that way took 0.45 s of CPU, most of it in malloc and `inflateInit`.

use crate::git::object::{self, CommitLinks};
use crate::git::odb::packs::{self, Base, Inflater, Packs};
use crate::util::fasthash::FxMap;
use git2::{ObjectType, Oid, Repository};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;

/// Entry types, as packs number them.
pub const COMMIT: u8 = 1;
pub const TREE: u8 = 2;

/// Bytes of built objects one reader keeps. The cache is what makes delta chains cheap; it is
/// bounded so that memory does not grow with the length of the history.
const CACHE_BYTES: usize = 8 << 20;

/// Longer delta chains are damage (git's own limit is 4095).
const MAX_CHAIN: usize = 10_000;

pub struct Reader<'p> {
    packs: &'p Packs,
    repo: Repository,
    /// Commits a shallow clone was cut at: they have no parents here.
    grafted: &'p HashSet<Oid>,
    z: Inflater,
    delta: Vec<u8>,
    cache: FxMap<(usize, u64), Built>,
    order: VecDeque<((usize, u64), usize)>,
    cached_bytes: usize,
}

/// An object's type (pack numbering) and content.
type Built = (u8, Rc<Vec<u8>>);

impl<'p> Reader<'p> {
    pub fn new(packs: &'p Packs, repo: Repository, grafted: &'p HashSet<Oid>) -> Reader<'p> {
        Reader {
            packs,
            repo,
            grafted,
            z: Inflater::default(),
            delta: Vec::new(),
            cache: FxMap::default(),
            order: VecDeque::new(),
            cached_bytes: 0,
        }
    }

    /// The object's type (pack numbering) and content.
    pub fn read(&mut self, oid: Oid) -> Result<Built, git2::Error> {
        if let Some(found) = self
            .packs
            .locate(oid)
            .and_then(|(p, off)| self.read_packed(p, off))
        {
            return Ok(found);
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

    /// Walks the delta chain down to a cached or full object, then builds back up, caching each
    /// link. None when the chain leaves the pack or an entry is damaged.
    fn read_packed(&mut self, pack: usize, offset: u64) -> Option<Built> {
        let p = &self.packs.packs[pack];
        let mut chain = Vec::new();
        let mut at = offset;
        let (kind, mut data) = loop {
            if let Some((k, d)) = self.cache.get(&(pack, at)) {
                break (*k, d.clone());
            }
            let h = p.header(at).ok()?;
            match h.base {
                Base::None => {
                    let mut out = Vec::new();
                    p.inflate(at, &h, &mut self.z, &mut out).ok()?;
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
                    at = p.offset_of(id)?;
                }
            }
            if chain.len() > MAX_CHAIN {
                return None;
            }
        };
        for (at, h) in chain.into_iter().rev() {
            p.inflate(at, &h, &mut self.z, &mut self.delta).ok()?;
            let mut built = Vec::new();
            packs::apply_delta(&data, &self.delta, &mut built).ok()?;
            data = Rc::new(built);
            self.remember(pack, at, kind, data.clone());
        }
        Some((kind, data))
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
