//! Where a repository's objects live: its object directory, then the directories that
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES` and every `info/alternates` file name, followed as git follows
//! them. A pre-receive hook depends on this: git puts the pushed objects in a quarantine
//! directory (`GIT_OBJECT_DIRECTORY`) and names the repository's own objects as an alternate.

use std::path::{Path, PathBuf};

/// git stops following `info/alternates` files deeper than this (and says so).
const MAX_DEPTH: usize = 5;

/// `primary` first, then the alternates in git's order: those of `env` (a `:`-separated list,
/// entries relative to the current directory), each followed by its own `info/alternates`, then
/// those of `primary`'s `info/alternates`. Each directory appears once; missing ones are left out.
pub fn object_dirs(primary: PathBuf, env: Option<&str>) -> Vec<PathBuf> {
    let mut dirs = Dirs::default();
    dirs.add(primary.clone());
    if let Some(list) = env {
        let cwd = std::env::current_dir().unwrap_or_default();
        for entry in split_list(list, ':') {
            dirs.link(&cwd, &entry, 0);
        }
    }
    dirs.read_info(&primary, 0);
    dirs.found
}

#[derive(Default)]
struct Dirs {
    found: Vec<PathBuf>,
    /// Canonical forms of `found`, so `a/../objects` and `objects` count once.
    seen: Vec<PathBuf>,
}

impl Dirs {
    fn add(&mut self, dir: PathBuf) -> bool {
        let canonical = crate::paths::canonical(&dir);
        if self.seen.contains(&canonical) {
            return false;
        }
        self.seen.push(canonical);
        self.found.push(dir);
        true
    }

    /// One alternate named relative to `base`, then the alternates it names in turn.
    fn link(&mut self, base: &Path, entry: &str, depth: usize) {
        let path = Path::new(entry);
        let dir = if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        };
        if !dir.is_dir() {
            return;
        }
        if self.add(dir.clone()) {
            self.read_info(&dir, depth + 1);
        }
    }

    fn read_info(&mut self, objects: &Path, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) else {
            return;
        };
        for entry in split_list(&text, '\n') {
            self.link(objects, &entry, depth);
        }
    }
}

/// Entries of an alternates list: empty ones and `#` comments skipped, and an entry that starts
/// with `"` read as a C-quoted string (how git writes a path holding the separator).
fn split_list(text: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (entry, after) = if rest.starts_with('#') {
            (None, rest.split_once(sep).map_or("", |(_, r)| r))
        } else if let Some((unquoted, after)) = c_unquote(rest) {
            (Some(unquoted), after.strip_prefix(sep).unwrap_or(after))
        } else {
            let (e, r) = rest.split_once(sep).unwrap_or((rest, ""));
            (Some(e.to_string()), r)
        };
        if let Some(e) = entry.map(|e| e.trim_end_matches('\r').to_string()) {
            if !e.is_empty() {
                out.push(e);
            }
        }
        rest = after;
    }
    out
}

/// A C-quoted string at the start of `s` (`"a\"b\\c\101"`), and what follows it; None when `s`
/// does not start with a well-formed one (git then reads the entry as it is).
fn c_unquote(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let text = String::from_utf8(out).ok()?;
                return Some((text, &body[i + 1..]));
            }
            b'\\' => {
                let c = *bytes.get(i + 1)?;
                i += 2;
                out.push(match c {
                    b'a' => 7,
                    b'b' => 8,
                    b'f' => 12,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 11,
                    b'\\' | b'"' => c,
                    b'0'..=b'3' => {
                        let digits = bytes.get(i..i + 2)?;
                        if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                            return None;
                        }
                        i += 2;
                        ((c - b'0') << 6) | ((digits[0] - b'0') << 3) | (digits[1] - b'0')
                    }
                    _ => return None,
                });
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_as_git_splits_them() {
        assert_eq!(split_list("/a:/b::/c", ':'), vec!["/a", "/b", "/c"]);
        assert_eq!(
            split_list("\"/with:colon\":/plain", ':'),
            vec!["/with:colon", "/plain"]
        );
        assert_eq!(
            split_list("# comment\n../x\n\n\"/q\\101\\\\\"\n", '\n'),
            vec!["../x", "/qA\\"]
        );
        // A quote that does not close is a plain entry, as git reads it.
        assert_eq!(split_list("\"/odd:/b", ':'), vec!["\"/odd", "/b"]);
    }

    #[test]
    fn alternates_nest_as_deep_as_gits_and_no_deeper() {
        // o0 names o1, which names o2, … o8: git reads the lists of o0 to o5, so o6 is the last
        // directory it uses; a loop back to o0 adds nothing.
        let t = tempfile::tempdir().expect("tempdir");
        let dirs: Vec<PathBuf> = (0..9).map(|i| t.path().join(format!("o{i}"))).collect();
        for (i, dir) in dirs.iter().enumerate() {
            std::fs::create_dir_all(dir.join("info")).expect("mkdir");
            let next = dirs.get(i + 1).unwrap_or(&dirs[0]);
            std::fs::write(dir.join("info/alternates"), format!("{}\n", next.display()))
                .expect("write");
        }
        // Relative entries are taken from the directory whose list names them.
        std::fs::write(dirs[0].join("info/alternates"), "../o1\n").expect("write");
        let found = object_dirs(dirs[0].clone(), None);
        assert_eq!(found.len(), 7, "{found:?}");
        assert!(found[6].ends_with("o6"), "{found:?}");
    }
}
