//! Parsing git objects: a commit's links and a raw tree's entries, and git's tree order.

use super::index::OID_LEN;
use git2::Oid;
use std::cmp::Ordering;

/// A commit as the walk needs it.
pub struct CommitLinks {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    /// Committer date, seconds since the epoch.
    pub time: i64,
    /// Where the message starts in the commit's bytes (their length when there is none).
    pub message_at: usize,
}

/// Tree, parents and committer time from a commit's raw bytes, and where its message starts.
pub fn parse_commit(data: &[u8]) -> Result<CommitLinks, String> {
    let mut tree = None;
    let mut parents = Vec::new();
    let mut time = 0;
    let message_at = message_at(data);
    for line in data[..message_at].split(|&b| b == b'\n') {
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
        }
    }
    Ok(CommitLinks {
        tree: tree.ok_or("commit has no tree")?,
        parents,
        time,
        message_at,
    })
}

/// Where a commit's or a tag's message starts: after the empty line that ends its headers (the
/// object's length when there is none).
pub fn message_at(object: &[u8]) -> usize {
    if object.first() == Some(&b'\n') {
        return 1;
    }
    memchr::memmem::find(object, b"\n\n").map_or(object.len(), |at| at + 2)
}

/// A raw 20-byte id; never fails, since any 20 bytes are a valid SHA-1 id.
pub fn oid_from_raw(bytes: &[u8]) -> Oid {
    Oid::from_bytes(bytes).unwrap_or_else(|_| Oid::zero())
}

/// Git's tree order: names compare bytewise, a directory as if its name ended with `/`.
pub fn tree_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        o => return o,
    }
    let next = |s: &[u8], dir: bool| s.get(n).copied().or(dir.then_some(b'/'));
    next(a, a_dir).cmp(&next(b, b_dir))
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
        oid_from_raw(self.id)
    }

    pub fn cmp_order(&self, other: &Entry<'_>) -> Ordering {
        tree_order(self.name, self.is_tree(), other.name, other.is_tree())
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
    let id = rest.get(nul + 1..nul + 1 + OID_LEN)?;
    Some((
        Entry {
            mode,
            name: &rest[name_start..nul],
            id,
        },
        nul + 1 + OID_LEN,
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

    #[test]
    fn a_message_starts_after_the_first_empty_line() {
        let commit = b"tree 1\nparent 2\nauthor a <a> 1 +0000\n\nsubject\n\nbody\n";
        assert_eq!(&commit[message_at(commit)..], b"subject\n\nbody\n");
        let bare = b"tree 1\nauthor a <a> 1 +0000\n";
        assert_eq!(message_at(bare), bare.len());
        assert_eq!(message_at(b"\nonly a message"), 1);
    }

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
    fn the_message_starts_after_the_headers() {
        let tree = "0123456789abcdef0123456789abcdef01234567";
        let raw = format!(
            "tree {tree}\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 7 +0000\n\nsubject\n\nbody\n"
        );
        let c = parse_commit(raw.as_bytes()).unwrap();
        assert_eq!(&raw.as_bytes()[c.message_at..], b"subject\n\nbody\n");
        assert_eq!(c.time, 7);
        let bare = format!("tree {tree}\n");
        let c = parse_commit(bare.as_bytes()).unwrap();
        assert_eq!(c.message_at, bare.len());
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
