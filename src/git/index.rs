//! Reads git's index file (`.git/index` or `$GIT_INDEX_FILE`): versions 2, 3 and 4, the cache-tree
//! extension (`TREE`) and sparse directory entries (`sdir`). The cache-tree is why this exists:
//! it records, for every directory whose entries have not changed since the last `write-tree`,
//! the tree id those entries make, so a comparison with HEAD can skip every directory whose id
//! matches without reading a single tree. libgit2 reads the index without using it and refuses
//! the `sdir` and `link` extensions.
//!
//! Anything this reader does not handle (a split index's `link`, a mandatory extension git adds
//! later, another version) is `Unsupported`, and the caller asks the git binary instead. The
//! trailing checksum is not verified: git itself skips that check on every read but `fsck`, and
//! hashing the whole file would cost more than everything else a pre-commit scan does.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// SHA-1 object ids. A SHA-256 repository never gets here: libgit2 cannot open one.
pub const OID_LEN: usize = 20;
pub type Oid = [u8; OID_LEN];

pub const MODE_TREE: u32 = 0o040000;
pub const MODE_FILE: u32 = 0o100644;
pub const MODE_EXEC: u32 = 0o100755;
pub const MODE_SYMLINK: u32 = 0o120000;
pub const MODE_GITLINK: u32 = 0o160000;

const HEADER_LEN: usize = 12;
/// ctime, mtime, dev, ino, mode, uid, gid, size (40 bytes), the id, then the 16-bit flags.
const FIXED_LEN: usize = 40 + OID_LEN + 2;
const FLAG_EXTENDED: u16 = 0x4000;
const FLAG_STAGE_SHIFT: u16 = 12;
const NAME_MASK: u16 = 0x0fff;
const EXT_SKIP_WORKTREE: u16 = 0x4000;
const EXT_INTENT_TO_ADD: u16 = 0x2000;
/// Version 4 shares each path's prefix with the one before, so a small file could describe
/// huge paths (`a`, `aa`, `aaa`...). Real indexes expand by far less than this factor.
pub const MAX_PATH_EXPANSION: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexError {
    /// A valid index that uses something this reader does not implement.
    Unsupported(String),
    /// Not a well-formed index.
    Corrupt(String),
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexError::Unsupported(s) => write!(f, "unsupported index: {s}"),
            IndexError::Corrupt(s) => write!(f, "corrupt index: {s}"),
        }
    }
}

fn corrupt<T>(what: impl Into<String>) -> Result<T, IndexError> {
    Err(IndexError::Corrupt(what.into()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Into `Index::paths`: offset and length (an index over 4 GiB goes to git instead).
    path_at: u32,
    path_len: u32,
    /// Where the object id lies in the file: read on demand, because a pre-commit scan needs
    /// only the few under changed directories, and copying every one doubled this struct.
    oid_at: u32,
    pub mode: u32,
    /// 0 for a normal entry; 1-3 for the sides of an unresolved merge conflict.
    pub stage: u8,
    /// `git add -N`: a placeholder the next commit leaves out.
    pub intent_to_add: bool,
    pub skip_worktree: bool,
}

impl Entry {
    /// A sparse index's stand-in for a whole directory outside the sparse-checkout cone; its
    /// path ends with `/` and `oid` is a tree.
    pub fn is_sparse_dir(&self) -> bool {
        self.mode == MODE_TREE
    }
}

/// One directory of the cache-tree. `oid` is None when the directory was invalidated (an entry
/// under it changed since the tree was last computed); its subtrees may still be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode<'a> {
    /// Where it lies in the index file: nothing is copied.
    pub name: &'a [u8],
    /// Index entries the directory covers, when valid.
    pub entry_count: usize,
    pub oid: Option<Oid>,
    /// Indices into `CacheTree::nodes`, in the order the file lists them.
    pub children: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheTree<'a> {
    /// `nodes[0]` is the root.
    pub nodes: Vec<TreeNode<'a>>,
}

impl<'a> CacheTree<'a> {
    pub fn root(&self) -> usize {
        0
    }

    pub fn node(&self, i: usize) -> &TreeNode<'a> {
        &self.nodes[i]
    }

    /// The subdirectory `name` of node `parent`, if the cache-tree has it.
    pub fn child(&self, parent: usize, name: &[u8]) -> Option<usize> {
        self.nodes[parent]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index<'a> {
    pub version: u32,
    pub entries: Vec<Entry>,
    /// Versions 2 and 3 spell every path out: they are read where they lie in the file. Version
    /// 4 compresses them, so they are rebuilt here.
    paths: Cow<'a, [u8]>,
    /// The whole file, for the object ids.
    data: &'a [u8],
    pub cache_tree: Option<CacheTree<'a>>,
    /// The `sdir` extension: some entries are sparse directories.
    pub sparse: bool,
}

impl<'a> Index<'a> {
    /// The index of a repository that has none yet (`git init` and nothing added).
    pub fn empty() -> Index<'static> {
        Index {
            version: 2,
            entries: Vec::new(),
            paths: Cow::Borrowed(&[]),
            data: &[],
            cache_tree: None,
            sparse: false,
        }
    }

    pub fn path(&self, e: &Entry) -> &[u8] {
        let at = e.path_at as usize;
        &self.paths[at..at + e.path_len as usize]
    }

    pub fn path_at(&self, i: usize) -> &[u8] {
        self.path(&self.entries[i])
    }

    pub fn oid(&self, e: &Entry) -> Oid {
        let mut oid = [0u8; OID_LEN];
        let at = e.oid_at as usize;
        oid.copy_from_slice(&self.data[at..at + OID_LEN]);
        oid
    }

    /// Parses a whole index file. Never panics, whatever the bytes.
    pub fn parse(data: &'a [u8]) -> Result<Index<'a>, IndexError> {
        let mut r = Reader { data, pos: 0 };
        if r.take(4)? != b"DIRC" {
            return corrupt("no DIRC signature");
        }
        let version = r.u32()?;
        if !(2..=4).contains(&version) {
            return Err(IndexError::Unsupported(format!("version {version}")));
        }
        let count = r.u32()? as usize;
        if data.len() > (u32::MAX as usize) / MAX_PATH_EXPANSION {
            return Err(IndexError::Unsupported("larger than 256 MiB".into()));
        }
        let end = data
            .len()
            .checked_sub(OID_LEN)
            .filter(|&e| e >= HEADER_LEN)
            .ok_or_else(|| IndexError::Corrupt("shorter than its header and checksum".into()))?;
        // Every entry takes at least FIXED_LEN + 1 bytes: a count beyond that is a lie, and
        // believing it would reserve memory the file cannot fill.
        if count > (end - HEADER_LEN) / (FIXED_LEN + 1) {
            return corrupt(format!(
                "{count} entries cannot fit in {} bytes",
                data.len()
            ));
        }
        let mut entries = Vec::with_capacity(count);
        let mut paths: Vec<u8> = Vec::new();
        if version == 4 {
            paths.reserve(end.min(count.saturating_mul(64)));
        }
        let mut prev: Range<usize> = 0..0;
        let mut sparse_dirs = false;
        for n in 0..count {
            let start = r.pos;
            let fixed = r.take(FIXED_LEN)?;
            let mode = be32(&fixed[24..28]);
            let flags = be16(&fixed[40 + OID_LEN..]);
            let mut ext = 0u16;
            if flags & FLAG_EXTENDED != 0 {
                if version < 3 {
                    return corrupt(format!("entry {n}: extended flags in a version 2 index"));
                }
                ext = r.u16()?;
            }
            let name_len = flags & NAME_MASK;
            let path = if version == 4 {
                let strip = r.varint()?;
                let suffix = r.until_nul()?;
                let keep = prev.len().checked_sub(strip).ok_or_else(|| {
                    IndexError::Corrupt(format!("entry {n}: strips more than the previous path"))
                })?;
                if paths.len() + keep + suffix.len() > data.len().saturating_mul(MAX_PATH_EXPANSION)
                {
                    return corrupt(format!(
                        "entry {n}: paths expand beyond {MAX_PATH_EXPANSION} times the file"
                    ));
                }
                let from = paths.len();
                paths.extend_from_within(prev.start..prev.start + keep);
                paths.extend_from_slice(suffix);
                from..paths.len()
            } else {
                // The flags give the name's length unless it is 0xFFF or more, which saves
                // looking for its NUL in all but the rare huge path.
                let from = r.pos;
                let name_end = if name_len != NAME_MASK {
                    from + usize::from(name_len)
                } else {
                    from + r.until_nul()?.len()
                };
                // The name is NUL-terminated and padded with NULs to a multiple of 8 bytes:
                // between one and eight NULs.
                let entry_end = start + ((name_end - start + 8) & !7);
                if entry_end > end {
                    return corrupt(format!("entry {n}: truncated"));
                }
                // The padding is the last 1 to 8 bytes of an entry of at least 64, so one
                // 8-byte load holds it: its top `pad` bytes must be zero.
                let pad = entry_end - name_end;
                let mut last = [0u8; 8];
                last.copy_from_slice(&data[entry_end - 8..entry_end]);
                if u64::from_le_bytes(last) >> (8 * (8 - pad)) != 0 {
                    return corrupt(format!("entry {n}: padding is not NUL"));
                }
                r.pos = entry_end;
                from..name_end
            };
            let src: &[u8] = if version == 4 { &paths } else { data };
            let len = path.len();
            if len == 0 {
                return corrupt(format!("entry {n}: empty path"));
            }
            if name_len != NAME_MASK && usize::from(name_len) != len {
                return corrupt(format!(
                    "entry {n}: name length {name_len} but the name has {len} bytes"
                ));
            }
            match mode & 0o170000 {
                0o100000 | MODE_SYMLINK | MODE_GITLINK | MODE_TREE => {}
                _ => return corrupt(format!("entry {n}: mode {mode:o}")),
            }
            let stage = ((flags >> FLAG_STAGE_SHIFT) & 3) as u8;
            if n > 0 {
                let before = &src[prev.clone()];
                let (now, stage_before): (&[u8], u8) = (
                    &src[path.clone()],
                    entries.last().map_or(0, |e: &Entry| e.stage),
                );
                let ordered = match before.cmp(now) {
                    std::cmp::Ordering::Less => true,
                    std::cmp::Ordering::Equal => stage_before < stage,
                    std::cmp::Ordering::Greater => false,
                };
                if !ordered {
                    return corrupt(format!("entry {n}: out of order"));
                }
            }
            sparse_dirs |= mode == MODE_TREE;
            entries.push(Entry {
                path_at: path.start as u32,
                path_len: len as u32,
                oid_at: (start + 40) as u32,
                mode,
                stage,
                intent_to_add: ext & EXT_INTENT_TO_ADD != 0,
                skip_worktree: ext & EXT_SKIP_WORKTREE != 0,
            });
            prev = path;
        }

        let mut cache_tree = None;
        let mut sparse = false;
        while r.pos < end {
            let sig = r.take(4)?;
            let size = r.u32()? as usize;
            if size > end.saturating_sub(r.pos) {
                return corrupt(format!("extension {} runs past the end", show_sig(sig)));
            }
            let body = r.take(size)?;
            match sig {
                b"TREE" => cache_tree = Some(parse_cache_tree(body)?),
                b"sdir" => sparse = true,
                // Upper-case first letter: optional, safe to ignore (REUC, UNTR, FSMN, EOIE,
                // IEOT...). Lower-case: the index means something else without it (`link`).
                [b'A'..=b'Z', ..] => {}
                _ => {
                    return Err(IndexError::Unsupported(format!(
                        "extension {}",
                        show_sig(sig)
                    )))
                }
            }
        }
        if r.pos != end {
            return corrupt("extensions overlap the checksum");
        }
        if sparse_dirs && !sparse {
            return corrupt("a directory entry without the sdir extension");
        }
        Ok(Index {
            version,
            entries,
            paths: if version == 4 {
                Cow::Owned(paths)
            } else {
                Cow::Borrowed(data)
            },
            data,
            cache_tree,
            sparse,
        })
    }
}

fn show_sig(sig: &[u8]) -> String {
    String::from_utf8_lossy(sig).escape_default().to_string()
}

/// Pre-order nodes: `name NUL entry_count SP subtree_count LF [oid]`, an entry count of -1
/// meaning invalid (and no oid). Parsed with an explicit stack, so a hostile nesting depth
/// cannot overflow ours.
fn parse_cache_tree(data: &[u8]) -> Result<CacheTree<'_>, IndexError> {
    let mut r = Reader { data, pos: 0 };
    // Every node has one line feed (a directory name with one in it only over-counts), so the
    // vector is allocated once: regrowing it, copy and fresh pages, was a third of this parse.
    let mut nodes: Vec<TreeNode> = Vec::with_capacity(memchr::memchr_iter(b'\n', data).count());
    // (node, subtrees still to read)
    let mut open: Vec<(usize, usize)> = Vec::new();
    loop {
        let name = r.until_nul()?;
        let count = r.decimal(b' ')?;
        let subtrees = r.decimal(b'\n')?;
        let subtrees = usize::try_from(subtrees)
            .map_err(|_| IndexError::Corrupt("cache-tree: negative subtree count".into()))?;
        let (entry_count, oid) = match count {
            -1 => (0, None),
            c if c >= 0 => {
                let mut oid = [0u8; OID_LEN];
                oid.copy_from_slice(r.take(OID_LEN)?);
                (c as usize, Some(oid))
            }
            _ => return corrupt("cache-tree: negative entry count"),
        };
        // Each node needs at least 5 bytes ("\0" "0 0\n"), which bounds what a count can claim.
        if subtrees > (data.len() - r.pos) / 5 {
            return corrupt("cache-tree: more subtrees than bytes left");
        }
        let me = nodes.len();
        match open.last_mut() {
            Some((parent, left)) => {
                nodes[*parent].children.push(me);
                *left -= 1;
            }
            None if me == 0 => {
                if !name.is_empty() {
                    return corrupt("cache-tree: the root has a name");
                }
            }
            None => return corrupt("cache-tree: more than one root"),
        }
        if me > 0 && (name.is_empty() || name.contains(&b'/')) {
            return corrupt("cache-tree: a directory name is empty or has a slash");
        }
        nodes.push(TreeNode {
            name,
            entry_count,
            oid,
            children: Vec::with_capacity(subtrees),
        });
        open.push((me, subtrees));
        while let Some(&(_, 0)) = open.last() {
            open.pop();
        }
        if open.is_empty() {
            break;
        }
    }
    if r.pos != data.len() {
        return corrupt("cache-tree: bytes after the last directory");
    }
    Ok(CacheTree { nodes })
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| IndexError::Corrupt(format!("truncated at byte {}", self.pos)))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, IndexError> {
        self.take(2).map(be16)
    }

    fn u32(&mut self) -> Result<u32, IndexError> {
        self.take(4).map(be32)
    }

    /// Bytes up to a NUL, which is consumed.
    fn until_nul(&mut self) -> Result<&'a [u8], IndexError> {
        let rest = &self.data[self.pos..];
        let i = memchr::memchr(0, rest).ok_or_else(|| {
            IndexError::Corrupt(format!("unterminated name at byte {}", self.pos))
        })?;
        self.pos += i + 1;
        Ok(&rest[..i])
    }

    /// git's offset varint: big-endian groups of 7 bits, each continuation adding one so that
    /// every value has exactly one encoding.
    fn varint(&mut self) -> Result<usize, IndexError> {
        let mut c = self.take(1)?[0];
        let mut v = usize::from(c & 0x7f);
        while c & 0x80 != 0 {
            c = self.take(1)?[0];
            v = v
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .and_then(|v| v.checked_add(usize::from(c & 0x7f)))
                .ok_or_else(|| IndexError::Corrupt("varint overflows".into()))?;
        }
        Ok(v)
    }

    /// An ASCII decimal (optionally negative) ended by `term`.
    fn decimal(&mut self, term: u8) -> Result<i64, IndexError> {
        let rest = &self.data[self.pos..];
        let i = memchr::memchr(term, rest)
            .ok_or_else(|| IndexError::Corrupt("cache-tree: unterminated number".into()))?;
        let text = &rest[..i];
        let bad = || {
            IndexError::Corrupt(format!(
                "cache-tree: bad number {:?}",
                String::from_utf8_lossy(text)
            ))
        };
        let (negative, digits) = match text.strip_prefix(b"-") {
            Some(d) => (true, d),
            None => (false, text),
        };
        if digits.is_empty() {
            return Err(bad());
        }
        let mut v: i64 = 0;
        for &b in digits {
            if !b.is_ascii_digit() {
                return Err(bad());
            }
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or_else(bad)?;
        }
        self.pos += i + 1;
        Ok(if negative { -v } else { v })
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Writes index files, for tests: the inverse of `parse`, so properties can round-trip.
#[cfg(test)]
pub(crate) mod write {
    use super::*;

    pub struct EntrySpec {
        pub path: Vec<u8>,
        pub mode: u32,
        pub oid: Oid,
        pub stage: u8,
        pub intent_to_add: bool,
        pub skip_worktree: bool,
    }

    pub fn index(
        version: u32,
        entries: &[EntrySpec],
        tree: Option<&CacheTree>,
        sparse: bool,
        extra_optional: bool,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"DIRC");
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        let mut prev: &[u8] = b"";
        for e in entries {
            let start = out.len();
            for i in 0..10u32 {
                let v = if i == 6 {
                    e.mode
                } else {
                    i.wrapping_mul(0x01010101)
                };
                out.extend_from_slice(&v.to_be_bytes());
            }
            out.extend_from_slice(&e.oid);
            let extended = version >= 3 && (e.intent_to_add || e.skip_worktree);
            let mut flags =
                (e.path.len().min(0xfff) as u16) | (u16::from(e.stage) << FLAG_STAGE_SHIFT);
            if extended {
                flags |= FLAG_EXTENDED;
            }
            out.extend_from_slice(&flags.to_be_bytes());
            if extended {
                let mut x = 0u16;
                if e.intent_to_add {
                    x |= EXT_INTENT_TO_ADD;
                }
                if e.skip_worktree {
                    x |= EXT_SKIP_WORKTREE;
                }
                out.extend_from_slice(&x.to_be_bytes());
            }
            if version == 4 {
                let common = prev.iter().zip(&e.path).take_while(|(a, b)| a == b).count();
                write_varint(&mut out, prev.len() - common);
                out.extend_from_slice(&e.path[common..]);
                out.push(0);
            } else {
                out.extend_from_slice(&e.path);
                out.push(0);
                while (out.len() - start) % 8 != 0 {
                    out.push(0);
                }
            }
            prev = &e.path;
        }
        if extra_optional {
            // An optional extension the reader must step over.
            out.extend_from_slice(b"UNTR");
            out.extend_from_slice(&3u32.to_be_bytes());
            out.extend_from_slice(b"abc");
        }
        if let Some(t) = tree {
            let mut body = Vec::new();
            write_tree(&mut body, t, t.root());
            out.extend_from_slice(b"TREE");
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(&body);
        }
        if sparse {
            out.extend_from_slice(b"sdir");
            out.extend_from_slice(&0u32.to_be_bytes());
        }
        out.extend_from_slice(&[0xAB; OID_LEN]);
        out
    }

    fn write_tree(out: &mut Vec<u8>, t: &CacheTree<'_>, i: usize) {
        let n = t.node(i);
        out.extend_from_slice(n.name);
        out.push(0);
        match n.oid {
            Some(_) => out
                .extend_from_slice(format!("{} {}\n", n.entry_count, n.children.len()).as_bytes()),
            None => out.extend_from_slice(format!("-1 {}\n", n.children.len()).as_bytes()),
        }
        if let Some(oid) = n.oid {
            out.extend_from_slice(&oid);
        }
        for &c in &n.children {
            write_tree(out, t, c);
        }
    }

    pub fn write_varint(out: &mut Vec<u8>, mut v: usize) {
        let mut buf = [0u8; 16];
        let mut pos = buf.len() - 1;
        buf[pos] = (v & 0x7f) as u8;
        while {
            v >>= 7;
            v != 0
        } {
            v -= 1;
            pos -= 1;
            buf[pos] = 0x80 | (v & 0x7f) as u8;
        }
        out.extend_from_slice(&buf[pos..]);
    }
}

#[cfg(test)]
mod tests {
    use super::write::{self, EntrySpec};
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn spec(path: &str, mode: u32, byte: u8) -> EntrySpec {
        EntrySpec {
            path: path.as_bytes().to_vec(),
            mode,
            oid: [byte; OID_LEN],
            stage: 0,
            intent_to_add: false,
            skip_worktree: false,
        }
    }

    #[test]
    fn reads_each_version_with_a_cache_tree() {
        let entries = vec![
            spec("a.txt", MODE_FILE, 1),
            spec("dir/b", MODE_EXEC, 2),
            spec("dir/c", MODE_SYMLINK, 3),
        ];
        let tree = CacheTree {
            nodes: vec![
                TreeNode {
                    name: b"",
                    entry_count: 3,
                    oid: Some([9; OID_LEN]),
                    children: vec![1],
                },
                TreeNode {
                    name: b"dir",
                    // An invalid node stores no count.
                    entry_count: 0,
                    oid: None,
                    children: vec![],
                },
            ],
        };
        for v in 2..=4 {
            let bytes = write::index(v, &entries, Some(&tree), false, true);
            let idx = Index::parse(&bytes).unwrap_or_else(|e| panic!("v{v}: {e}"));
            assert_eq!(idx.version, v);
            let paths: Vec<&[u8]> = idx.entries.iter().map(|e| idx.path(e)).collect();
            assert_eq!(paths, vec![&b"a.txt"[..], b"dir/b", b"dir/c"]);
            assert_eq!(idx.entries[1].mode, MODE_EXEC);
            assert_eq!(idx.oid(&idx.entries[2]), [3; OID_LEN]);
            assert_eq!(idx.cache_tree.as_ref(), Some(&tree));
        }
    }

    #[test]
    fn link_and_unknown_mandatory_extensions_are_unsupported() {
        for sig in [&b"link"[..], b"xyzw"] {
            let mut bytes = write::index(2, &[spec("a", MODE_FILE, 1)], None, false, false);
            let at = bytes.len() - OID_LEN;
            let mut ext = sig.to_vec();
            ext.extend_from_slice(&0u32.to_be_bytes());
            bytes.splice(at..at, ext);
            assert!(
                matches!(Index::parse(&bytes), Err(IndexError::Unsupported(_))),
                "{sig:?}"
            );
        }
        let mut v5 = write::index(2, &[], None, false, false);
        v5[7] = 5;
        assert!(matches!(Index::parse(&v5), Err(IndexError::Unsupported(_))));
    }

    #[test]
    fn rejects_unsorted_entries_and_directory_entries_outside_a_sparse_index() {
        let bytes = write::index(
            2,
            &[spec("b", MODE_FILE, 1), spec("a", MODE_FILE, 1)],
            None,
            false,
            false,
        );
        assert!(matches!(Index::parse(&bytes), Err(IndexError::Corrupt(_))));
        let dir = [spec("out/", MODE_TREE, 1)];
        assert!(matches!(
            Index::parse(&write::index(3, &dir, None, false, false)),
            Err(IndexError::Corrupt(_))
        ));
        let bytes = write::index(3, &dir, None, true, false);
        let idx = Index::parse(&bytes).expect("sparse");
        assert!(idx.sparse && idx.entries[0].is_sparse_dir());
    }

    #[test]
    fn a_version_4_index_cannot_expand_into_huge_paths() {
        let entries: Vec<EntrySpec> = (1..5000)
            .map(|n| spec(&"a".repeat(n), MODE_FILE, 1))
            .collect();
        let bytes = write::index(4, &entries, None, false, false);
        assert!(matches!(Index::parse(&bytes), Err(IndexError::Corrupt(_))));
        // The same paths in a version 2 index are spelled out, so nothing expands.
        let bytes = write::index(2, &entries, None, false, false);
        assert_eq!(Index::parse(&bytes).map(|i| i.entries.len()), Ok(4999));
    }

    #[test]
    fn varint_matches_gits_encoding() {
        // Values from git's varint.c: 127 is one byte, 128 is 0x80 0x00.
        let mut out = Vec::new();
        write::write_varint(&mut out, 128);
        assert_eq!(out, vec![0x80, 0x00]);
        let mut r = Reader { data: &out, pos: 0 };
        assert_eq!(r.varint(), Ok(128));
    }

    /// Path components from a small alphabet that includes the bytes around `/` in sort order,
    /// a space and a newline, so siblings like `a`, `a.b`, `a-b` and `a0` interleave with `a/`.
    fn component() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop::sample::select(vec![b'a', b'b', b'.', b'-', b'0', b' ', b'\n', 0xC3]),
            1..4,
        )
    }

    fn paths() -> impl Strategy<Value = Vec<Vec<u8>>> {
        proptest::collection::vec(proptest::collection::vec(component(), 1..4), 0..40).prop_map(
            |ps| {
                // Keep a set of paths where no file is also a directory.
                let mut files: BTreeMap<Vec<u8>, ()> = BTreeMap::new();
                'next: for p in ps {
                    let joined = p.join(&b'/');
                    for (k, _) in files.iter() {
                        if k.starts_with(&joined) && k.get(joined.len()) == Some(&b'/') {
                            continue 'next;
                        }
                        if joined.starts_with(k) && joined.get(k.len()) == Some(&b'/') {
                            continue 'next;
                        }
                    }
                    files.insert(joined, ());
                }
                files.into_keys().collect()
            },
        )
    }

    proptest! {
        #[test]
        fn round_trips_every_version(paths in paths(), version in 2u32..=4, seed in any::<u64>(), tree in any::<bool>()) {
            let mut x = seed | 1;
            let mut next = move || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x };
            let modes = [MODE_FILE, MODE_EXEC, MODE_SYMLINK, MODE_GITLINK];
            let entries: Vec<EntrySpec> = paths.iter().map(|p| {
                let r = next();
                EntrySpec {
                    path: p.clone(),
                    mode: modes[(r % 4) as usize],
                    oid: [(r >> 8) as u8; OID_LEN],
                    stage: 0,
                    intent_to_add: version >= 3 && r & 0x10000 != 0,
                    skip_worktree: version >= 3 && r & 0x20000 != 0,
                }
            }).collect();
            let cache = tree.then(|| CacheTree { nodes: vec![TreeNode { name: b"", entry_count: entries.len(), oid: Some([7; OID_LEN]), children: vec![] }] });
            let bytes = write::index(version, &entries, cache.as_ref(), false, next() % 2 == 0);
            let idx = Index::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(idx.entries.len(), entries.len());
            for (got, want) in idx.entries.iter().zip(&entries) {
                prop_assert_eq!(idx.path(got), &want.path[..]);
                prop_assert_eq!(got.mode, want.mode);
                prop_assert_eq!(idx.oid(got), want.oid);
                prop_assert_eq!(got.intent_to_add, want.intent_to_add);
                prop_assert_eq!(got.skip_worktree, want.skip_worktree);
            }
            prop_assert_eq!(idx.cache_tree, cache);
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(mut bytes in proptest::collection::vec(any::<u8>(), 0..600), header in any::<bool>()) {
            if header && bytes.len() >= 12 {
                bytes[..4].copy_from_slice(b"DIRC");
                bytes[4..8].copy_from_slice(&2u32.to_be_bytes());
            }
            let _ = Index::parse(&bytes);
        }

        #[test]
        fn never_panics_on_a_damaged_index(paths in paths(), version in 2u32..=4, flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
            let entries: Vec<EntrySpec> = paths.iter().map(|p| spec(std::str::from_utf8(p).unwrap_or("x"), MODE_FILE, 5)).collect();
            let tree = CacheTree { nodes: vec![TreeNode { name: b"", entry_count: entries.len(), oid: None, children: vec![] }] };
            let mut bytes = write::index(version, &entries, Some(&tree), false, false);
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= b;
            }
            let _ = Index::parse(&bytes);
            let n = cut.index(bytes.len() + 1);
            let _ = Index::parse(&bytes[..n]);
        }
    }
}
