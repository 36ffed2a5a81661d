//! Reading commits and trees by id, one reader per thread: from the packs directly, with a
//! bounded cache of recently built objects (a tree's delta base is usually the tree the previous
//! commit had), and through libgit2 for what no pack holds (loose objects) or what a pack entry
//! fails to give. libgit2 also words the error when both fail.
//!
//! Why not `Repository::find_tree`: it starts a zlib stream per object and per delta, and parses
//! every tree into an allocated entry table; walking the 5000 commits of the benchmark history
//! that way took 0.45 s of CPU, most of it in malloc and `inflateInit`.

use super::fasthash::FxMap;
use super::packs::{self, Base, Inflater, Packs};
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

/// A commit as the walk needs it.
pub struct CommitLinks {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    /// Committer date, seconds since the epoch.
    pub time: i64,
}

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
            Err(e) => Err(super::commits::cause(&e)),
        }
    }

    /// Tree and parents of a commit, its parents as a shallow clone's grafts say.
    pub fn commit(&mut self, oid: Oid) -> Result<CommitLinks, String> {
        let data = match self.read(oid) {
            Ok((COMMIT, data)) => data,
            Ok(_) => return Err("not a commit".into()),
            Err(e) => return Err(super::commits::cause(&e)),
        };
        let mut tree = None;
        let mut parents = Vec::new();
        let mut time = 0;
        for line in data.split(|&b| b == b'\n') {
            if let Some(hex) = line.strip_prefix(b"tree ") {
                tree = parse_hex(hex);
            } else if let Some(hex) = line.strip_prefix(b"parent ") {
                parents.push(parse_hex(hex).ok_or("malformed parent line")?);
            } else if let Some(who) = line.strip_prefix(b"committer ") {
                // `Name <email> 1704164645 +0000`: the date is the next-to-last field.
                time = who
                    .rsplit(|&b| b == b' ')
                    .nth(1)
                    .and_then(|t| std::str::from_utf8(t).ok())
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
            } else if line.is_empty() {
                break;
            }
        }
        if self.grafted.contains(&oid) {
            parents.clear();
        }
        Ok(CommitLinks {
            tree: tree.ok_or("commit has no tree")?,
            parents,
            time,
        })
    }
}

fn parse_hex(hex: &[u8]) -> Option<Oid> {
    std::str::from_utf8(hex)
        .ok()
        .and_then(|s| Oid::from_str(s).ok())
}

/// One entry of a raw tree.
#[derive(Clone, Copy)]
pub struct Entry<'a> {
    pub mode: u32,
    pub name: &'a [u8],
    pub id: &'a [u8],
}

impl Entry<'_> {
    pub fn is_tree(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }

    pub fn is_gitlink(&self) -> bool {
        self.mode & 0o170000 == 0o160000
    }

    pub fn oid(&self) -> Oid {
        Oid::from_bytes(self.id).unwrap_or_else(|_| Oid::zero())
    }

    /// Git's tree order: names compared as bytes, a tree's as if it ended in `/`.
    pub fn cmp_order(&self, other: &Entry<'_>) -> std::cmp::Ordering {
        let n = self.name.len().min(other.name.len());
        self.name[..n].cmp(&other.name[..n]).then_with(|| {
            let end = |e: &Entry<'_>| if e.is_tree() { b'/' } else { 0 };
            let a = self.name.get(n).copied().unwrap_or_else(|| end(self));
            let b = other.name.get(n).copied().unwrap_or_else(|| end(other));
            a.cmp(&b)
        })
    }
}

/// Entries of a raw tree, in order; stops (with `damaged` set) at the first malformed entry.
pub struct Entries<'a> {
    data: &'a [u8],
    pos: usize,
    /// The entry at `pos` and its length, parsed once for `peek` and `next`.
    ahead: Option<(Entry<'a>, usize)>,
    pub damaged: bool,
}

impl<'a> Entries<'a> {
    pub fn new(data: &'a [u8]) -> Entries<'a> {
        let mut e = Entries {
            data,
            pos: 0,
            ahead: None,
            damaged: false,
        };
        e.ahead = e.parse();
        e
    }

    pub fn peek(&self) -> Option<Entry<'a>> {
        self.ahead.map(|(e, _)| e)
    }

    fn parse(&mut self) -> Option<(Entry<'a>, usize)> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        if rest.is_empty() {
            return None;
        }
        let parsed = parse_entry(rest);
        if parsed.is_none() {
            self.damaged = true;
        }
        parsed
    }
}

fn parse_entry(rest: &[u8]) -> Option<(Entry<'_>, usize)> {
    let mut mode = 0u32;
    let mut i = 0;
    while let Some(&d) = rest.get(i) {
        if d == b' ' {
            break;
        }
        if !(b'0'..=b'7').contains(&d) || i > 7 {
            return None;
        }
        mode = mode * 8 + u32::from(d - b'0');
        i += 1;
    }
    let name_start = i + 1;
    let nul = name_start + memchr::memchr(0, rest.get(name_start..)?)?;
    let id = rest.get(nul + 1..nul + 21)?;
    Some((
        Entry {
            mode,
            name: &rest[name_start..nul],
            id,
        },
        nul + 21,
    ))
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let (entry, len) = self.ahead.take()?;
        self.pos += len;
        self.ahead = self.parse();
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut v = Vec::new();
        for (mode, name) in entries {
            v.extend(mode.as_bytes());
            v.push(b' ');
            v.extend(name.as_bytes());
            v.push(0);
            v.extend([7u8; 20]);
        }
        v
    }

    #[test]
    fn parses_entries_and_orders_trees_as_git_does() {
        let data = raw(&[("100644", "a.txt"), ("40000", "a"), ("160000", "sub")]);
        let entries: Vec<Entry<'_>> = Entries::new(&data).collect();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].name, b"a.txt");
        assert!(entries[1].is_tree() && !entries[0].is_tree());
        assert!(entries[2].is_gitlink());
        // "a.txt" < "a/" because '.' < '/'; a file "a" would sort before both.
        assert_eq!(entries[0].cmp_order(&entries[1]), std::cmp::Ordering::Less);
        let file_a = raw(&[("100644", "a")]);
        let file_a = Entries::new(&file_a).next().unwrap();
        assert_eq!(file_a.cmp_order(&entries[0]), std::cmp::Ordering::Less);
        assert_ne!(file_a.cmp_order(&entries[1]), std::cmp::Ordering::Equal);
    }

    #[test]
    fn damaged_trees_stop_and_say_so() {
        let mut data = raw(&[("100644", "a")]);
        data.extend(b"100644 b\0short");
        let mut it = Entries::new(&data);
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        assert!(it.damaged);
    }
}
