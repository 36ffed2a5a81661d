//! Zip archives (and jar, war, whl, nupkg, apk, docx, xlsx, pptx, which are zips): the central
//! directory at the end says where each member is; an archive whose end is missing (truncated)
//! is read from its local headers instead. Data before the first member (an executable jar's
//! launch script, a self-extractor) is allowed for. Entries that overlap (a zip bomb's way of
//! expanding one compressed block many times) are read once.

use super::{display_name, member_limit, Issues, Member, Next, ODD_NAME};
use crate::engine::decode::compressed::{self, Compression, Stop};
use crate::engine::limits::Budget;
use std::borrow::Cow;

const LOCAL: &[u8] = b"PK\x03\x04";
const CENTRAL: &[u8] = b"PK\x01\x02";
const END: &[u8] = b"PK\x05\x06";
const END64: &[u8] = b"PK\x06\x06";
const LOCATOR64: &[u8] = b"PK\x06\x07";

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    d.get(at..at + 8).map(|b| {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_le_bytes(a)
    })
}

/// One central-directory entry, resolved to where its data is.
struct Entry {
    name: String,
    odd_name: bool,
    method: u16,
    flags: u16,
    symlink: bool,
    /// Start of the local header (for overlap checks) and of the data.
    record: usize,
    data: usize,
    compressed: u64,
    size: u64,
}

pub fn members(
    data: &[u8],
    budget: &mut Budget,
    issues: &mut Issues,
    visit: &mut dyn FnMut(Member<'_>, &mut Budget) -> Next,
) {
    let limit = budget.limits.members;
    match central_directory(data, limit, issues) {
        Some(mut entries) => {
            // Overlapping entries: keep the first in archive order of each overlapping set.
            let mut order: Vec<usize> = (0..entries.len()).collect();
            order.sort_by_key(|&i| (entries[i].record, entries[i].data));
            let mut end = 0usize;
            let mut overlapping = 0usize;
            let mut keep = vec![false; entries.len()];
            for i in order {
                let e = &entries[i];
                let stop = e.data.saturating_add(e.compressed as usize);
                if e.record < end {
                    overlapping += 1;
                    continue;
                }
                keep[i] = true;
                end = stop;
            }
            if overlapping > 0 {
                issues.line(format!(
                    "{overlapping} entries overlap others (a zip bomb's trick); each byte range was read once"
                ));
            }
            for (i, e) in entries.drain(..).enumerate() {
                if keep[i] && read(data, e, budget, issues, visit) == Next::Stop {
                    return;
                }
            }
        }
        None => local_headers(data, budget, issues, visit),
    }
}

/// The entries of the central directory, or None when there is none to be found.
fn central_directory(data: &[u8], limit: u64, issues: &mut Issues) -> Option<Vec<Entry>> {
    let floor = data.len().saturating_sub(22 + 65_535);
    let eocd = (floor..=data.len().saturating_sub(22))
        .rev()
        .find(|&i| data[i..].starts_with(END))?;
    let mut count = u64::from(u16_at(data, eocd + 10)?);
    let mut cd_size = u64::from(u32_at(data, eocd + 12)?);
    let mut cd_offset = u64::from(u32_at(data, eocd + 16)?);
    let mut cd_end = eocd;
    if eocd >= 20 && data[eocd - 20..].starts_with(LOCATOR64) {
        let at = u64_at(data, eocd - 20 + 8)? as usize;
        // The record may sit after prepended data: look where the locator says, else just
        // before the locator.
        let rec = if data.get(at..).is_some_and(|d| d.starts_with(END64)) {
            Some(at)
        } else {
            let guess = eocd.checked_sub(20 + 56)?;
            data[guess..].starts_with(END64).then_some(guess)
        };
        if let Some(rec) = rec {
            count = u64_at(data, rec + 32)?;
            cd_size = u64_at(data, rec + 40)?;
            cd_offset = u64_at(data, rec + 48)?;
            cd_end = rec;
        }
    }
    let cd_start = cd_end.checked_sub(usize::try_from(cd_size).ok()?)?;
    // Bytes before the archive proper shift every offset it records.
    let shift = cd_start as i128 - i128::from(cd_offset);
    if shift < 0 {
        issues.line("damaged zip: the central directory is not where the end record says");
        return None;
    }
    let shift = shift as usize;
    let mut entries = Vec::new();
    let mut at = cd_start;
    let mut read = 0u64;
    while read < count && at < cd_end {
        if read >= limit {
            issues.line(member_limit(limit));
            break;
        }
        let Some(e) = central_entry(data, at, shift) else {
            issues.line(format!(
                "damaged zip: central directory entry {} cannot be read; the rest were not read",
                read + 1
            ));
            break;
        };
        at = e.1;
        read += 1;
        match e.0 {
            Some(entry) => entries.push(entry),
            None => issues.member("its local header is missing or damaged, not read", "?"),
        }
    }
    Some(entries)
}

/// One entry at `at`: the entry (None if its local header is damaged) and where the next starts.
fn central_entry(data: &[u8], at: usize, shift: usize) -> Option<(Option<Entry>, usize)> {
    if !data.get(at..)?.starts_with(CENTRAL) {
        return None;
    }
    let made_by = u16_at(data, at + 4)?;
    let flags = u16_at(data, at + 8)?;
    let method = u16_at(data, at + 10)?;
    let mut compressed = u64::from(u32_at(data, at + 20)?);
    let mut size = u64::from(u32_at(data, at + 24)?);
    let name_len = usize::from(u16_at(data, at + 28)?);
    let extra_len = usize::from(u16_at(data, at + 30)?);
    let comment_len = usize::from(u16_at(data, at + 32)?);
    let external = u32_at(data, at + 38)?;
    let mut offset = u64::from(u32_at(data, at + 42)?);
    let name_at = at + 46;
    let raw_name = data.get(name_at..name_at + name_len)?;
    let extra = data.get(name_at + name_len..name_at + name_len + extra_len)?;
    let next = name_at + name_len + extra_len + comment_len;
    // zip64: the fields that overflowed, in this order.
    let mut p = 0;
    while p + 4 <= extra.len() {
        let id = u16_at(extra, p)?;
        let len = usize::from(u16_at(extra, p + 2)?);
        if id == 1 {
            let mut q = p + 4;
            for field in [&mut size, &mut compressed, &mut offset] {
                if *field == u64::from(u32::MAX) {
                    if let Some(v) = u64_at(extra, q) {
                        *field = v;
                    }
                    q += 8;
                }
            }
        }
        p += 4 + len;
    }
    let symlink = made_by >> 8 == 3 && (external >> 16) & 0o170000 == 0o120000;
    let (name, odd_name) = display_name(raw_name);
    let entry = (|| {
        let record = usize::try_from(offset).ok()?.checked_add(shift)?;
        if !data.get(record..)?.starts_with(LOCAL) {
            return None;
        }
        let lname = usize::from(u16_at(data, record + 26)?);
        let lextra = usize::from(u16_at(data, record + 28)?);
        Some(Entry {
            name: name.clone(),
            odd_name,
            method,
            flags,
            symlink,
            record,
            data: record + 30 + lname + lextra,
            compressed,
            size,
        })
    })();
    Some((entry, next))
}

/// Reads one member and hands it on; Stop when the visitor or a limit says so.
fn read(
    data: &[u8],
    e: Entry,
    budget: &mut Budget,
    issues: &mut Issues,
    visit: &mut dyn FnMut(Member<'_>, &mut Budget) -> Next,
) -> Next {
    if e.name.ends_with('/') && e.size == 0 {
        return Next::Continue;
    }
    if e.odd_name {
        issues.member(ODD_NAME, &e.name);
    }
    if e.flags & 1 == 1 || e.method == 99 {
        issues.member(
            "encrypted, cannot be read without its password, not scanned",
            &e.name,
        );
        return Next::Continue;
    }
    if e.symlink {
        issues.member("a symbolic link, not followed", &e.name);
        return Next::Continue;
    }
    let end = e
        .data
        .saturating_add(usize::try_from(e.compressed).unwrap_or(usize::MAX));
    let truncated = end > data.len();
    let raw = &data[e.data.min(data.len())..end.min(data.len())];
    if truncated {
        issues.member(
            "cut short (the archive is truncated); what is there was scanned",
            &e.name,
        );
    }
    let mut last = false;
    let (bytes, stored) = match e.method {
        0 => {
            if !budget.take(raw.len() as u64) {
                issues.line(super::expanded_limit(budget));
                return Next::Stop;
            }
            (Cow::Borrowed(raw), Some(e.data..e.data + raw.len()))
        }
        8 | 12 | 93 | 95 => {
            let kind = match e.method {
                8 => Compression::Deflate,
                12 => Compression::Bzip2,
                93 => Compression::Zstd,
                _ => Compression::Xz,
            };
            let out = compressed::expand(kind, raw, e.size, budget);
            match out.stop {
                Some(Stop::Limit(why)) => {
                    issues.line(format!("member {}: {why}", e.name));
                    // What came out is scanned; after it nothing more fits.
                    last = budget.exhausted;
                }
                Some(Stop::Damaged(why)) if !truncated => {
                    issues.line(format!("member {}: {why}", e.name))
                }
                _ => {}
            }
            (Cow::Owned(out.data), None)
        }
        m => {
            issues.member(
                match m {
                    9 => "compressed with deflate64, which stripe-scan does not read",
                    14 => "compressed with LZMA, which stripe-scan does not read",
                    _ => "compressed with a method stripe-scan does not read",
                },
                &e.name,
            );
            return Next::Continue;
        }
    };
    let next = visit(
        Member {
            name: e.name,
            data: bytes,
            stored,
        },
        budget,
    );
    if last {
        Next::Stop
    } else {
        next
    }
}

/// A zip without its end (cut short, or damaged there): members in order from their local
/// headers, as far as they go.
fn local_headers(
    data: &[u8],
    budget: &mut Budget,
    issues: &mut Issues,
    visit: &mut dyn FnMut(Member<'_>, &mut Budget) -> Next,
) {
    issues.line("no central directory (truncated or damaged zip); members were read from their local headers");
    let limit = budget.limits.members;
    let mut at = 0usize;
    let mut count = 0u64;
    while let Some(rel) = memchr::memmem::find(&data[at..], LOCAL) {
        let record = at + rel;
        at = record + 4;
        let Some(entry) = local_entry(data, record) else {
            continue;
        };
        if count >= limit {
            issues.line(member_limit(limit));
            return;
        }
        count += 1;
        let unknown_size = entry.flags & 8 != 0 && entry.compressed == 0;
        if unknown_size && entry.method == 0 {
            issues.member(
                "stored with its size after the data, which a truncated zip cannot give",
                &entry.name,
            );
            continue;
        }
        let mut entry = entry;
        if unknown_size {
            // The deflate stream ends itself; the decoder stops there. The header's name and extra
            // field may already run past the end of a truncated zip: then there is no data at all.
            entry.compressed = data.len().saturating_sub(entry.data) as u64;
        } else {
            at = at.max(
                entry
                    .data
                    .saturating_add(entry.compressed as usize)
                    .min(data.len()),
            );
        }
        if read(data, entry, budget, issues, visit) == Next::Stop {
            return;
        }
    }
}

fn local_entry(data: &[u8], record: usize) -> Option<Entry> {
    let flags = u16_at(data, record + 6)?;
    let method = u16_at(data, record + 8)?;
    let compressed = u64::from(u32_at(data, record + 18)?);
    let size = u64::from(u32_at(data, record + 22)?);
    let name_len = usize::from(u16_at(data, record + 26)?);
    let extra_len = usize::from(u16_at(data, record + 28)?);
    let raw_name = data.get(record + 30..record + 30 + name_len)?;
    let (name, odd_name) = display_name(raw_name);
    Some(Entry {
        name,
        odd_name,
        method,
        flags,
        symlink: false,
        record,
        data: record + 30 + name_len + extra_len,
        compressed,
        size,
    })
}
