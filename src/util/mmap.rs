//! A file's bytes, mapped when large and read when small.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Bytes of a file git writes once and replaces by rename: pack files, pack indexes, the index.
pub(crate) enum Bytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Read(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// Reads `file` if it is shorter than `map_min` bytes, else maps it.
///
/// Only for files git never changes in place. SAFETY argument for the mapping: git writes packs,
/// pack indexes and the index under a temporary name (`*.lock`, `tmp_pack_*`) and renames them
/// over the old file, so a rename during our read leaves our mapping on the old inode, and
/// `git gc` deleting a pack leaves an existing mapping intact. libgit2 and git map these files the
/// same way. Only a third program truncating one in place under a running scan could make a read
/// fault (SIGBUS); the process then dies by a signal, which the hooks treat as a failed scan.
///
/// `whole` says the caller reads every byte (the index), so the mapping is filled in one call
/// rather than one page fault per 64 KiB; a pack is read in a few places and is not.
pub(crate) fn read_or_map(mut file: File, map_min: u64, whole: bool) -> io::Result<Bytes> {
    let len = file.metadata()?.len();
    if len < map_min {
        let mut v = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        file.read_to_end(&mut v)?;
        return Ok(Bytes::Read(v));
    }
    let mut options = memmap2::MmapOptions::new();
    if whole {
        options.populate();
    }
    // SAFETY: see above; the mapping is only ever read.
    unsafe { options.map(&file) }.map(Bytes::Mapped)
}

/// What a path that is not a regular file is, for the one line that says why it was not read.
fn describe_type(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading without blocking: a FIFO put in place of a file after the walk (or
/// a check) saw it would otherwise wait forever for a writer. Regular files ignore the flag.
pub(crate) fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Opens `path` only if it is a regular file; a FIFO fails the type check below instead of
/// waiting for a writer.
pub(crate) fn open_regular(path: &Path) -> io::Result<Result<File, &'static str>> {
    let file = open_nonblocking(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Err(describe_type(&meta.file_type())));
    }
    Ok(Ok(file))
}
