//! Archives, compressed streams and encodings built at run time, so no fixture holding a key is
//! ever committed. The zip and tar writers are small on purpose: they can write what no archiver
//! will (overlapping entries, an encrypted flag without a cipher, symlinks, hostile names).

#![allow(dead_code)]

use std::io::Write;

pub struct Entry {
    pub name: Vec<u8>,
    pub data: Vec<u8>,
    pub deflate: bool,
    pub encrypted: bool,
    pub symlink: bool,
}

impl Entry {
    pub fn file(name: &str, data: impl AsRef<[u8]>) -> Entry {
        Entry {
            name: name.as_bytes().to_vec(),
            data: data.as_ref().to_vec(),
            deflate: true,
            encrypted: false,
            symlink: false,
        }
    }

    pub fn stored(name: &str, data: impl AsRef<[u8]>) -> Entry {
        Entry {
            deflate: false,
            ..Entry::file(name, data)
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

pub fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// A zip of `entries`, in order.
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let body = if e.deflate {
            deflate_raw(&e.data)
        } else {
            e.data.clone()
        };
        let offset = out.len() as u32;
        let head = header_fields(e, body.len() as u32);
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&head);
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&e.name);
        out.extend_from_slice(&body);
        central_entry(&mut central, e, &head, offset);
    }
    finish_zip(out, &central, entries.len())
}

/// version, flags, method, time, date, crc, sizes, name length (26 bytes).
fn header_fields(e: &Entry, compressed: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&20u16.to_le_bytes());
    h.extend_from_slice(&u16::from(e.encrypted).to_le_bytes());
    h.extend_from_slice(&(if e.deflate { 8u16 } else { 0 }).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&0x21u16.to_le_bytes());
    h.extend_from_slice(&crc32(&e.data).to_le_bytes());
    h.extend_from_slice(&compressed.to_le_bytes());
    h.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
    h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
    h
}

fn central_entry(central: &mut Vec<u8>, e: &Entry, head: &[u8], offset: u32) {
    central.extend_from_slice(b"PK\x01\x02");
    // Made by Unix, so the mode in the external attributes counts.
    central.extend_from_slice(&0x031Eu16.to_le_bytes());
    central.extend_from_slice(head);
    central.extend_from_slice(&[0u8; 8]); // extra, comment, disk, internal attributes
    let mode: u32 = if e.symlink { 0o120777 } else { 0o100644 };
    central.extend_from_slice(&(mode << 16).to_le_bytes());
    central.extend_from_slice(&offset.to_le_bytes());
    central.extend_from_slice(&e.name);
}

fn finish_zip(mut out: Vec<u8>, central: &[u8], count: usize) -> Vec<u8> {
    let cd_offset = out.len() as u32;
    out.extend_from_slice(central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.extend_from_slice(&(count as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A zip whose central directory lists `copies` entries that all point at one local record:
/// the overlap a zip bomb uses to expand one compressed block many times.
pub fn zip_overlapping(name: &str, data: &[u8], copies: usize) -> Vec<u8> {
    let e = Entry::file(name, data);
    let body = deflate_raw(data);
    let head = header_fields(&e, body.len() as u32);
    let mut out = Vec::new();
    out.extend_from_slice(b"PK\x03\x04");
    out.extend_from_slice(&head);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&e.name);
    out.extend_from_slice(&body);
    let mut central = Vec::new();
    for _ in 0..copies {
        central_entry(&mut central, &e, &head, 0);
    }
    finish_zip(out, &central, copies)
}

/// A ustar archive; `kind` is the type flag (`b'0'` file, `b'2'` symlink).
pub fn tar(entries: &[(&str, &[u8], u8)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data, kind) in entries {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"14724276010\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = *kind;
        if *kind == b'2' {
            h[157..163].copy_from_slice(b"target");
        }
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        if *kind != b'2' {
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
    }
    out.resize(out.len() + 1024, 0);
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("zlib");
    e.finish().expect("zlib")
}

pub fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).expect("bzip2");
    e.finish().expect("bzip2")
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut std::io::BufReader::new(data), &mut out).expect("xz");
    out
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64, padded.
pub fn b64(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(STANDARD[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// URL-safe base64 without padding, as JWTs carry it.
pub fn b64url(data: &[u8]) -> String {
    b64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// `text` wrapped at `width` columns, each line indented by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    text.as_bytes()
        .chunks(width)
        .map(|l| format!("{indent}{}\n", String::from_utf8_lossy(l)))
        .collect()
}

/// Where a test puts its files: the working tree, the index, or a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Scan,
    Staged,
    History,
}

pub const MODES: [Mode; 3] = [Mode::Scan, Mode::Staged, Mode::History];

/// Writes `files` into a new repository and scans them the way `mode` says: `scan .` on the
/// working tree, `staged` after `git add`, or `history` after a commit. `extra` goes after the
/// command (`--format sarif`); JSON is the default.
pub fn scan_as(
    mode: Mode,
    files: &[(&str, &[u8])],
    extra: &[&str],
) -> (tempfile::TempDir, crate::util::Run) {
    let t = crate::util::repo();
    let d = t.path();
    for (path, bytes) in files {
        crate::util::write(d, path, bytes);
    }
    let cmd = match mode {
        Mode::Scan => vec!["scan", "."],
        Mode::Staged => {
            crate::util::git(d, &["add", "-A"]);
            vec!["staged"]
        }
        Mode::History => {
            crate::util::git(d, &["add", "-A"]);
            crate::util::git(d, &["commit", "-q", "-m", "files"]);
            vec!["history"]
        }
    };
    let mut args: Vec<&str> = cmd;
    if !extra.contains(&"--format") {
        args.extend(["--format", "json"]);
    }
    args.extend_from_slice(extra);
    let r = crate::util::run_env(
        d,
        &args,
        &[
            ("GIT_CONFIG_NOSYSTEM", "1"),
            ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ],
    );
    (t, r)
}

/// The one finding of `secret` (by fingerprint), or a panic showing what was found.
pub fn finding_of<'a>(
    findings: &'a [serde_json::Value],
    secret: &str,
    mode: Mode,
) -> &'a serde_json::Value {
    let fp = stripe_scan::secret::fingerprint_of(secret.as_bytes());
    let matching: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{mode:?}: want one finding of {fp}, got {findings:#?}"
    );
    matching[0]
}

/// Asserts where a finding is and how its key was written.
pub fn assert_at(f: &serde_json::Value, path: &str, line: u64, column: u64, encoding: &[&str]) {
    assert_eq!(f["path"], path, "{f:#?}");
    assert_eq!(f["line"], line, "{f:#?}");
    assert_eq!(f["column"], column, "{f:#?}");
    if encoding.is_empty() {
        assert!(f.get("encoding").is_none(), "{f:#?}");
    } else {
        assert_eq!(f["encoding"], serde_json::json!(encoding), "{f:#?}");
    }
}

/// `history --format sarif` over one commit of `files`: the run and its SARIF, checked against
/// the official schema.
pub fn sarif_of_history(files: &[(&str, &[u8])]) -> (crate::util::Run, serde_json::Value) {
    let (t, r) = scan_as(Mode::History, files, &["--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let path = t.path().join("out.sarif");
    std::fs::write(&path, &r.stdout).expect("write sarif");
    crate::reports::validate_sarif(&path);
    let doc = serde_json::from_str(&r.stdout).expect("sarif json");
    (r, doc)
}
