//! tar archives (POSIX ustar, GNU and pax, and old v7 ones): a 512-byte header before each
//! member's bytes, which are stored as they are. GNU long names and pax `path` records name the
//! member that follows them.

use super::{display_name, member_limit, Issues, Member, Next, ODD_NAME};
use crate::engine::limits::Budget;
use std::borrow::Cow;

const BLOCK: usize = 512;

/// A valid header checksum over the first block, and a name: random bytes practically never
/// have both.
pub fn is_tar(data: &[u8]) -> bool {
    data.len() >= BLOCK && data[0] != 0 && checksum_ok(&data[..BLOCK])
}

fn checksum_ok(h: &[u8]) -> bool {
    let Some(stored) = octal(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == stored
}

/// An octal field (NUL or space terminated), or GNU's base-256 form for large sizes.
fn octal(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7F);
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ')
        .collect();
    if text.is_empty() {
        return Some(0);
    }
    let mut v: u64 = 0;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

fn field(h: &[u8], range: std::ops::Range<usize>) -> &[u8] {
    let f = &h[range];
    let end = memchr::memchr(0, f).unwrap_or(f.len());
    &f[..end]
}

pub fn members(
    data: &[u8],
    budget: &mut Budget,
    issues: &mut Issues,
    visit: &mut dyn FnMut(Member<'_>, &mut Budget) -> Next,
) {
    let limit = budget.limits.members;
    let mut at = 0usize;
    let mut count = 0u64;
    // A name given by a GNU long-name entry or a pax header, for the next member.
    let mut next_name: Option<Vec<u8>> = None;
    let mut next_size: Option<u64> = None;
    loop {
        let Some(h) = data.get(at..at + BLOCK) else {
            if at < data.len() {
                issues.line("truncated tar: the last header is cut short");
            }
            return;
        };
        if h.iter().all(|&b| b == 0) {
            return;
        }
        if !checksum_ok(h) {
            issues.line(format!(
                "damaged tar: the header at byte {at} is not valid; the rest was not read"
            ));
            return;
        }
        let Some(mut size) = octal(&h[124..136]) else {
            issues.line(format!(
                "damaged tar: the size at byte {at} is not a number; the rest was not read"
            ));
            return;
        };
        if let Some(s) = next_size.take() {
            size = s;
        }
        let start = at + BLOCK;
        let Some(end) = usize::try_from(size)
            .ok()
            .and_then(|s| start.checked_add(s))
        else {
            issues.line("damaged tar: a member size is out of range; the rest was not read");
            return;
        };
        let body = &data[start.min(data.len())..end.min(data.len())];
        let cut = end > data.len();
        at = match end.checked_next_multiple_of(BLOCK) {
            Some(n) => n,
            None => return,
        };
        let kind = h[156];
        match kind {
            b'L' => {
                next_name = Some(field(body, 0..body.len()).to_vec());
                continue;
            }
            b'x' => {
                let (path, psize) = pax(body);
                if path.is_some() {
                    next_name = path;
                }
                next_size = psize;
                continue;
            }
            b'K' | b'g' => continue,
            _ => {}
        }
        let raw_name = next_name.take().unwrap_or_else(|| {
            let name = field(h, 0..100);
            let prefix = if &h[257..262] == b"ustar" {
                field(h, 345..500)
            } else {
                &[]
            };
            if prefix.is_empty() {
                name.to_vec()
            } else {
                [prefix, b"/", name].concat()
            }
        });
        let (name, odd) = display_name(&raw_name);
        match kind {
            b'0' | 0 | b'7' => {}
            b'2' => {
                issues.member("a symbolic link, not followed", &name);
                continue;
            }
            b'S' => {
                issues.member("a GNU sparse file, which stripe-scan does not read", &name);
                continue;
            }
            // Directories, hard links (their bytes are another member's), devices, FIFOs.
            _ => continue,
        }
        if count >= limit {
            issues.line(member_limit(limit));
            return;
        }
        count += 1;
        if odd {
            issues.member(ODD_NAME, &name);
        }
        if cut {
            issues.member(
                "cut short (the archive is truncated); what is there was scanned",
                &name,
            );
        }
        if !budget.take(body.len() as u64) {
            issues.line(super::expanded_limit(budget));
            return;
        }
        let member = Member {
            name,
            data: Cow::Borrowed(body),
            stored: Some(start..start + body.len()),
        };
        if visit(member, budget) == Next::Stop || cut {
            return;
        }
    }
}

/// The `path` and `size` records of a pax extended header (`<len> <key>=<value>\n` each).
fn pax(body: &[u8]) -> (Option<Vec<u8>>, Option<u64>) {
    let mut path = None;
    let mut size = None;
    let mut rest = body;
    while !rest.is_empty() {
        let Some(sp) = memchr::memchr(b' ', rest) else {
            break;
        };
        let Some(len) = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            break;
        };
        if len <= sp || len > rest.len() {
            break;
        }
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = memchr::memchr(b'=', record) {
            let (k, v) = (&record[..eq], &record[eq + 1..]);
            match k {
                b"path" => path = Some(v.to_vec()),
                b"size" => {
                    size = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok());
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    (path, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_fields() {
        assert_eq!(octal(b"0000644\0"), Some(0o644));
        assert_eq!(octal(b"   12 \0"), Some(10));
        assert_eq!(octal(&[0x80, 0, 0, 1, 0]), Some(256));
        assert_eq!(octal(b"9"), None);
    }

    #[test]
    fn pax_records() {
        let body = b"29 path=a/very/long/name.txt\n11 size=42\n";
        assert_eq!(
            pax(body),
            (Some(b"a/very/long/name.txt".to_vec()), Some(42))
        );
    }
}
