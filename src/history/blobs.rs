//! Reads each wanted blob once and scans it, in parallel.
//!
//! Packed blobs are grouped into delta families: a full object and the deltas built on it,
//! transitively. A thread takes one family at a time, inflates its root, then walks down the
//! deltas depth-first, applying each to the base it just built; so every entry is inflated once,
//! and memory holds one chain at a time. Families are taken largest first. What the pack reader cannot place (loose objects, damaged entries,
//! bases in another pack) is read through libgit2, one `Repository` per thread.

use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::finding::Finding;
use crate::git::errors::ObjectErrors;
use crate::git::odb::fallbacks::Fallbacks;
use crate::git::odb::packs::{self, Base, Header, Inflater, Packs};
use crate::git::repo;
use crate::outcome::Stats;
use crate::report::progress::Progress;
use crate::rules::Place;
use crate::util::fasthash::FxMap;
use crate::util::sync::{into_inner, lock, Claims};
use git2::{ObjectType, Oid};
use std::sync::Mutex;

/// Findings of one blob, before anyone knows its path or commit (`path` is empty).
pub struct BlobFindings {
    pub blob: Oid,
    pub findings: Vec<Finding>,
}

#[derive(Default)]
pub struct Scanned {
    pub with_findings: Vec<BlobFindings>,
    pub stats: Stats,
    /// Git LFS pointers: the file's content lives on an LFS server, not in git.
    pub lfs_pointers: Vec<Oid>,
    /// What a blob held that was not read (an encrypted member, a limit hit): the blob, the
    /// member chain inside it (empty for the blob itself) and why.
    pub notes: Vec<(Oid, String, String)>,
}

impl Scanned {
    fn absorb(&mut self, other: Scanned) {
        self.with_findings.extend(other.with_findings);
        self.stats.files += other.stats.files;
        self.stats.bytes += other.stats.bytes;
        self.lfs_pointers.extend(other.lfs_pointers);
        self.notes.extend(other.notes);
    }
}

/// Deeper chains than this are damage (git's own limit is 4095).
const MAX_DEPTH: usize = 10_000;

pub struct Context<'a> {
    pub packs: &'a Packs,
    pub fallbacks: &'a Fallbacks,
    pub pool: &'a rayon::ThreadPool,
    pub matcher: &'a Matcher,
    pub errors: &'a ObjectErrors<'a>,
    pub progress: &'a Progress,
}

pub fn scan(cx: &Context<'_>, blobs: &[Oid]) -> Scanned {
    let packs = cx.packs;
    let plan = Plan::build(packs, blobs);
    let fallback = Mutex::new(plan.unplaced.clone());
    let claims = Claims::new(plan.roots.len(), 1);
    let parts = cx.pool.broadcast(|_| {
        let mut w = Worker {
            packs,
            plan: &plan,
            z: Inflater::default(),
            scanner: Scanner::new(cx.matcher, 0),
            found: Vec::new(),
            spare: Vec::new(),
            spare_bytes: 0,
            out: Scanned::default(),
            fallback: Vec::new(),
            progress: cx.progress,
        };
        while let Some(run) = claims.next() {
            for &root in &plan.roots[run] {
                w.family(root);
            }
        }
        lock(&fallback).append(&mut w.fallback);
        w.out
    });
    let mut all = Scanned::default();
    for p in parts {
        all.absorb(p);
    }
    let mut rest = into_inner(fallback);
    rest.sort_unstable();
    rest.dedup();
    cx.fallbacks.not_packed(plan.not_packed as u64);
    cx.fallbacks
        .failed((rest.len() as u64).saturating_sub(plan.not_packed as u64));
    if !rest.is_empty() {
        all.absorb(through_libgit2(cx, &rest));
    }
    all.lfs_pointers.sort();
    all
}

/// One pack entry the scan needs: a wanted blob, or a base some wanted delta is built on.
struct Node {
    pack: usize,
    offset: u64,
    header: Option<Header>,
    children: Vec<u32>,
    wanted: Option<Oid>,
}

struct Plan {
    nodes: Vec<Node>,
    /// Full objects (and entries whose header could not be read), in pack order.
    roots: Vec<u32>,
    /// Wanted blobs the pack reader cannot reach: not in a pack, or in a broken chain.
    unplaced: Vec<Oid>,
    /// How many of `unplaced` are in no pack at all.
    not_packed: usize,
}

impl Plan {
    fn build(packs: &Packs, blobs: &[Oid]) -> Plan {
        let mut plan = Plan {
            nodes: Vec::new(),
            roots: Vec::new(),
            unplaced: Vec::new(),
            not_packed: 0,
        };
        let mut at: FxMap<(usize, u64), u32> = FxMap::default();
        at.reserve(blobs.len() * 2);
        for &oid in blobs {
            let Some((pack, offset)) = packs.locate(oid) else {
                plan.unplaced.push(oid);
                plan.not_packed += 1;
                continue;
            };
            let (mut cur, created) = plan.node(packs, &mut at, pack, offset);
            plan.nodes[cur as usize].wanted = Some(oid);
            if !created {
                continue; // already on a chain that is resolved
            }
            // Follow the delta chain down to a full object or to a node already placed.
            loop {
                let base = match plan.nodes[cur as usize].header {
                    None => {
                        plan.roots.push(cur);
                        break;
                    }
                    Some(h) => match h.base {
                        Base::None => {
                            plan.roots.push(cur);
                            break;
                        }
                        Base::Offset(o) => Some(o),
                        Base::Id(id) => packs.packs[pack].offset_of(id),
                    },
                };
                let Some(base_offset) = base else {
                    // A base in another pack or loose: libgit2 resolves those.
                    plan.nodes[cur as usize].header = None;
                    plan.roots.push(cur);
                    break;
                };
                let (b, created) = plan.node(packs, &mut at, pack, base_offset);
                plan.nodes[b as usize].children.push(cur);
                if !created {
                    break;
                }
                cur = b;
            }
        }
        plan.unplace_orphans();
        // Largest families first, so no thread is left decoding a long chain while the other
        // waits at the end.
        let mut weighted: Vec<(u64, u32)> =
            plan.roots.iter().map(|&r| (plan.weight(r), r)).collect();
        weighted.sort_unstable_by(|a, b| b.cmp(a));
        plan.roots = weighted.into_iter().map(|(_, r)| r).collect();
        plan
    }

    fn node(
        &mut self,
        packs: &Packs,
        at: &mut FxMap<(usize, u64), u32>,
        pack: usize,
        offset: u64,
    ) -> (u32, bool) {
        if let Some(&i) = at.get(&(pack, offset)) {
            return (i, false);
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(Node {
            pack,
            offset,
            header: packs.packs[pack].header(offset).ok(),
            children: Vec::new(),
            wanted: None,
        });
        at.insert((pack, offset), i);
        (i, true)
    }

    /// Wanted entries no root reaches (a delta cycle in a damaged pack, or deeper than
    /// `MAX_DEPTH`) go to libgit2, which reports them.
    fn unplace_orphans(&mut self) {
        let mut reached = vec![false; self.nodes.len()];
        let mut stack: Vec<(u32, usize)> = self.roots.iter().map(|&r| (r, 0)).collect();
        while let Some((n, depth)) = stack.pop() {
            if reached[n as usize] || depth > MAX_DEPTH {
                continue;
            }
            reached[n as usize] = true;
            stack.extend(
                self.nodes[n as usize]
                    .children
                    .iter()
                    .map(|&c| (c, depth + 1)),
            );
        }
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if !reached[i] {
                if let Some(oid) = node.wanted.take() {
                    self.unplaced.push(oid);
                }
                node.children.clear();
            }
        }
    }

    /// Rough cost of decoding a family: every member is about as large as its root.
    fn weight(&self, root: u32) -> u64 {
        let size = self.nodes[root as usize].header.map_or(0, |h| h.size);
        let mut members = 0u64;
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            members += 1;
            stack.extend(&self.nodes[n as usize].children);
        }
        size.saturating_mul(members)
    }

    fn wanted_below(&self, n: u32, out: &mut Vec<Oid>) {
        let mut stack = vec![n];
        while let Some(n) = stack.pop() {
            let node = &self.nodes[n as usize];
            out.extend(node.wanted);
            stack.extend(&node.children);
        }
    }
}

struct Worker<'a> {
    packs: &'a Packs,
    plan: &'a Plan,
    z: Inflater,
    scanner: Scanner<'a>,
    found: Vec<Finding>,
    /// Buffers to reuse, so a family of a thousand versions does not cost a thousand mallocs.
    spare: Vec<Vec<u8>>,
    spare_bytes: usize,
    out: Scanned,
    fallback: Vec<Oid>,
    progress: &'a Progress,
}

/// Bytes of spare buffers a worker keeps; past that, buffers go back to the allocator.
const SPARE_BYTES: usize = 4 << 20;

impl Worker<'_> {
    fn family(&mut self, root: u32) {
        let plan = self.plan;
        let node = &plan.nodes[root as usize];
        let mut data = self.buffer();
        let ok = match node.header {
            Some(h) if matches!(h.base, Base::None) => {
                self.packs.packs[node.pack]
                    .inflate(node.offset, &h, &mut self.z, &mut data)
                    .is_ok()
                    && h.kind == packs::BLOB
            }
            _ => false,
        };
        if ok {
            self.visit(root, data, 0);
        } else {
            plan.wanted_below(root, &mut self.fallback);
            self.give_back(data);
        }
    }

    /// `data` is the content of node `n`: scan it if wanted, then build its deltas on it. A base
    /// is let go before its last delta is descended into, so a plain chain holds two versions at
    /// a time, not the whole chain.
    fn visit(&mut self, n: u32, data: Vec<u8>, depth: usize) {
        let (plan, packs) = (self.plan, self.packs);
        let node = &plan.nodes[n as usize];
        if let Some(oid) = node.wanted {
            self.scan(oid, &data);
        }
        let mut base = Some(data);
        for (i, &c) in node.children.iter().enumerate() {
            let Some(data) = base.as_deref() else { break };
            let child = &plan.nodes[c as usize];
            let mut delta = self.buffer();
            let mut built = self.buffer();
            let ok = depth < MAX_DEPTH
                && child.header.is_some_and(|h| {
                    packs.packs[child.pack]
                        .inflate(child.offset, &h, &mut self.z, &mut delta)
                        .and_then(|_| packs::apply_delta(data, &delta, &mut built))
                        .is_ok()
                });
            self.give_back(delta);
            if i + 1 == node.children.len() {
                if let Some(done) = base.take() {
                    self.give_back(done);
                }
            }
            if ok {
                self.visit(c, built, depth + 1);
            } else {
                plan.wanted_below(c, &mut self.fallback);
                self.give_back(built);
            }
        }
        if let Some(done) = base {
            self.give_back(done);
        }
    }

    fn scan(&mut self, oid: Oid, data: &[u8]) {
        scan_blob(&mut self.scanner, &mut self.found, &mut self.out, oid, data);
        self.progress.add(1, data.len() as u64);
    }

    fn buffer(&mut self) -> Vec<u8> {
        match self.spare.pop() {
            Some(b) => {
                self.spare_bytes -= b.capacity();
                b
            }
            None => Vec::new(),
        }
    }

    fn give_back(&mut self, mut buf: Vec<u8>) {
        if self.spare_bytes + buf.capacity() <= SPARE_BYTES {
            buf.clear();
            self.spare_bytes += buf.capacity();
            self.spare.push(buf);
        }
    }
}

fn scan_blob(
    scanner: &mut Scanner<'_>,
    found: &mut Vec<Finding>,
    out: &mut Scanned,
    oid: Oid,
    data: &[u8],
) {
    out.stats.files += 1;
    out.stats.bytes += data.len() as u64;
    if is_lfs_pointer(data) {
        out.lfs_pointers.push(oid);
        return;
    }
    let origin = Origin {
        path: "",
        place: Place::History,
    };
    for (what, why) in scanner.scan_bytes(data, origin, found) {
        out.notes.push((oid, what, why));
    }
    if !found.is_empty() {
        out.with_findings.push(BlobFindings {
            blob: oid,
            findings: std::mem::take(found),
        });
    }
}

/// Run of objects a thread takes at a time from the libgit2 list.
const CHUNK: usize = 32;

fn through_libgit2(cx: &Context<'_>, blobs: &[Oid]) -> Scanned {
    let claims = Claims::new(blobs.len(), CHUNK);
    let parts = cx.pool.broadcast(|_| {
        let mut out = Scanned::default();
        let repo = match repo::open_worker() {
            Ok(r) => r,
            Err(e) => {
                cx.errors.report_git("repository", &e);
                return out;
            }
        };
        let odb = match repo.odb() {
            Ok(o) => o,
            Err(e) => {
                cx.errors.report_git("object database", &e);
                return out;
            }
        };
        let mut scanner = Scanner::new(cx.matcher, 0);
        let mut found = Vec::new();
        while let Some(run) = claims.next() {
            for &oid in &blobs[run] {
                match odb.read(oid) {
                    Ok(obj) if obj.kind() == ObjectType::Blob => {
                        scan_blob(&mut scanner, &mut found, &mut out, oid, obj.data());
                        cx.progress.add(1, obj.len() as u64);
                    }
                    Ok(obj) => cx.errors.report_cause(
                        oid,
                        &format!("a tree names it as a file, but it is a {}", obj.kind()),
                    ),
                    Err(e) => cx.errors.report(oid, &e),
                }
            }
        }
        out
    });
    let mut all = Scanned::default();
    for p in parts {
        all.absorb(p);
    }
    all
}

/// Reads and scans one blob on the calling thread (the few extra blobs attribution needs).
pub fn scan_one(repo: &git2::Repository, oid: Oid, matcher: &Matcher) -> Option<Vec<Finding>> {
    let odb = repo.odb().ok()?;
    let obj = odb.read(oid).ok()?;
    let mut found = Vec::new();
    let origin = Origin {
        path: "",
        place: Place::History,
    };
    // Its notes were given when the scan read it (or it is a version outside the range).
    let _given = Scanner::new(matcher, 0).scan_bytes(obj.data(), origin, &mut found);
    Some(found)
}

/// The pointer file Git LFS commits in place of the content (the spec caps it at 1024 bytes).
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    data.len() < 1024 && data.starts_with(b"version https://git-lfs.github.com/spec/v1\n")
}
