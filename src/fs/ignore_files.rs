//! The walker reads `.gitignore`, `.ignore` and `.git/info/exclude` before it lists a directory,
//! with no limit: a FIFO there blocks the scan forever and a link to /dev/zero fills memory.
//! Directories holding such a file are walked again with ignore rules off, so their ignore files
//! are never opened and nothing under them goes unscanned.

use std::fs;
use std::path::{Path, PathBuf};

/// No real ignore file comes near this; past it, reading one is a hazard, not a help.
const MAX_IGNORE_FILE: u64 = 8 << 20;

/// What a name in a directory is, links followed (the walker follows them when it opens one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Missing,
    Dir,
    File(u64),
    /// A FIFO, socket or device.
    Other,
}

/// An ignore file in `dir` the walker must not read, and why.
pub fn unusable(dir: &Path) -> Option<(PathBuf, &'static str)> {
    let at = |(name, why)| (dir.join(name), why);
    #[cfg(target_os = "linux")]
    if let Some(d) = lookup::Dir::open(dir) {
        return unusable_in(|name| d.kind(name)).map(at);
    }
    unusable_in(|name| kind_at(&dir.join(name))).map(at)
}

/// Whether `dir` or a directory above it (whose ignore files apply to it) has an unusable one.
pub fn unusable_here_or_above(dir: &Path) -> Option<(PathBuf, &'static str)> {
    let abs = std::path::absolute(dir).ok()?;
    abs.ancestors().find_map(unusable)
}

/// The first name the walker would read in a directory that is not a readable regular file of
/// sane size, and why; `kind` tells what a name relative to the directory is.
fn unusable_in(kind: impl Fn(&str) -> Kind) -> Option<(&'static str, &'static str)> {
    for name in [".gitignore", ".ignore"] {
        if let Some(why) = hazard(kind(name)) {
            return Some((name, why));
        }
    }
    match kind(".git") {
        Kind::Missing => None,
        Kind::Dir => {
            const EXCLUDE: &str = ".git/info/exclude";
            hazard(kind(EXCLUDE)).map(|why| (EXCLUDE, why))
        }
        // A `.git` file (worktree, submodule) is read for the line naming the git directory.
        other => hazard(other).map(|why| (".git", why)),
    }
}

fn hazard(kind: Kind) -> Option<&'static str> {
    match kind {
        // Opening a directory fails at once; the walker copes.
        Kind::Missing | Kind::Dir => None,
        Kind::Other => Some("not a regular file (FIFO, socket or device)"),
        Kind::File(len) if len > MAX_IGNORE_FILE => Some("larger than 8 MiB"),
        Kind::File(_) => None,
    }
}

fn kind_at(path: &Path) -> Kind {
    match fs::metadata(path) {
        Err(_) => Kind::Missing,
        Ok(m) if m.is_dir() => Kind::Dir,
        Ok(m) if m.is_file() => Kind::File(m.len()),
        Ok(_) => Kind::Other,
    }
}

/// Names looked up relative to an open directory: each lookup walks one name instead of the whole
/// path again, which on a tree seven levels deep was most of this guard's cost (three failed
/// lookups in each of tree200's 1,690 directories).
#[cfg(target_os = "linux")]
mod lookup {
    use super::Kind;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    pub struct Dir(libc::c_int);

    impl Dir {
        pub fn open(path: &Path) -> Option<Dir> {
            let c = CString::new(path.as_os_str().as_bytes()).ok()?;
            // SAFETY: `c` is a valid NUL-terminated string; the descriptor is owned by `Dir` and
            // closed once, in `drop`.
            let fd = unsafe {
                libc::open(
                    c.as_ptr(),
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                )
            };
            (fd >= 0).then_some(Dir(fd))
        }

        pub fn kind(&self, name: &str) -> Kind {
            let Ok(c) = CString::new(name) else {
                return Kind::Missing;
            };
            // SAFETY: an all-zero `stat` is a valid value of this plain C struct.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: `self.0` is an open descriptor, `c` a valid C string and `st` a writable
            // `stat`; flags 0 follows links, as opening the file would.
            let r = unsafe { libc::fstatat(self.0, c.as_ptr(), &mut st, 0) };
            if r != 0 {
                return Kind::Missing;
            }
            match st.st_mode & libc::S_IFMT {
                libc::S_IFDIR => Kind::Dir,
                libc::S_IFREG => Kind::File(u64::try_from(st.st_size).unwrap_or(u64::MAX)),
                _ => Kind::Other,
            }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            // SAFETY: the descriptor was opened by `open` and is closed only here.
            unsafe {
                libc::close(self.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_and_huge_files_are_unusable_links_followed() {
        let d = tempfile::tempdir().expect("tempdir");
        assert_eq!(unusable(d.path()), None);
        std::fs::write(d.path().join(".gitignore"), "*.log\n").expect("write");
        assert_eq!(unusable(d.path()), None);
        std::fs::create_dir_all(d.path().join(".git/info")).expect("mkdir");
        let big = std::fs::File::create(d.path().join("big")).expect("create");
        big.set_len(MAX_IGNORE_FILE + 1).expect("set_len");
        #[cfg(unix)]
        std::os::unix::fs::symlink("../../big", d.path().join(".git/info/exclude"))
            .expect("symlink");
        #[cfg(unix)]
        assert_eq!(
            unusable(d.path()),
            Some((d.path().join(".git/info/exclude"), "larger than 8 MiB"))
        );
        #[cfg(unix)]
        {
            let fifo = CString::new(d.path().join(".ignore").as_os_str().as_encoded_bytes())
                .expect("path");
            // SAFETY: a valid C string and mode.
            assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
            assert_eq!(
                unusable(d.path()),
                Some((
                    d.path().join(".ignore"),
                    "not a regular file (FIFO, socket or device)"
                ))
            );
        }
    }

    #[cfg(unix)]
    use std::ffi::CString;
}
