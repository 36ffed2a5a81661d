//! base64 where a key may hide in it, found without decoding every base64-looking run.
//!
//! The base64 form of a fixed byte string is fixed too, once the first one or two characters
//! (which mix in the bytes before it) are dropped, and it takes one of three forms, by the
//! string's offset modulo 3. So each literal the matcher searches for has three base64
//! fragments, and a fragment found in the text says where the 4-character groups of the run
//! around it start. Only a window around the hit is decoded. Both alphabets (standard `+/`,
//! URL-safe `-_`) are read, padded or not, and a run may be wrapped at 64 or 76 columns (PEM,
//! MIME), with the continuation lines indented (YAML block scalars).

use std::ops::Range;

/// The value of each base64 character in either alphabet; 64 for anything else.
const VALUE: [u8; 256] = {
    let mut t = [64u8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t
};

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn is_base64(b: u8) -> bool {
    VALUE[b as usize] < 64
}

/// Line widths at which encoders wrap (PEM 64, MIME 76).
const WRAP_WIDTHS: [usize; 2] = [64, 76];

/// The fixed base64 fragments of `literal`, one per byte offset modulo 3, each with its phase:
/// how many characters after the start of a 4-character group it begins. A fragment holding
/// `+` or `/` comes in the URL-safe alphabet too.
pub fn fragments(literal: &[u8]) -> Vec<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    for align in 0..3usize {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(literal);
        let encoded = encode(&bytes);
        let bits = 8 * bytes.len();
        // Characters made only of the literal's bits.
        let first = (8 * align).div_ceil(6);
        let last = bits / 6; // exclusive
        if last <= first {
            continue;
        }
        let fixed = encoded[first..last].to_vec();
        let phase = first % 4;
        if fixed.iter().any(|&c| c == b'+' || c == b'/') {
            let url: Vec<u8> = fixed
                .iter()
                .map(|&c| match c {
                    b'+' => b'-',
                    b'/' => b'_',
                    c => c,
                })
                .collect();
            out.push((url, phase));
        }
        out.push((fixed, phase));
    }
    out
}

/// Standard base64 without padding (to build fragments, and for the org listing's Basic header).
pub fn encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(STANDARD[((n >> (18 - 6 * i)) & 63) as usize]);
        }
    }
    out
}

/// The base64 characters of one run, joined across line wraps, with where each came from.
#[derive(Default)]
pub struct Joined {
    pub chars: Vec<u8>,
    pub raw: Vec<usize>,
    /// The run goes on before `raw[0]` / after the last character (the window cut it).
    pub cut_left: bool,
    pub cut_right: bool,
}

/// Where the run holding `hay[at]` starts, looking back no further than `floor`.
pub fn run_start(hay: &[u8], at: usize, floor: usize) -> usize {
    let mut s = at.min(hay.len());
    loop {
        while s > floor && is_base64(hay[s - 1]) {
            s -= 1;
        }
        match wrapped_above(hay, s, floor) {
            Some(prev) => s = prev,
            None => return s,
        }
    }
}

/// The segment of a wrapped run on the line above the one starting at `s`, if there is one.
fn wrapped_above(hay: &[u8], s: usize, floor: usize) -> Option<usize> {
    let mut p = s;
    while p > floor && matches!(hay[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    if p == floor || hay[p - 1] != b'\n' {
        return None;
    }
    p -= 1;
    if p > floor && hay[p - 1] == b'\r' {
        p -= 1;
    }
    let mut q = p;
    while q > floor && is_base64(hay[q - 1]) && p - q <= 76 {
        q -= 1;
    }
    let starts_line = q == floor || !is_base64(hay[q - 1]);
    (WRAP_WIDTHS.contains(&(p - q)) && starts_line && (q == floor || hay[q - 1] != b'='))
        .then_some(q)
}

/// After a full-width segment ending at `end`, where the next line's segment starts, if the
/// run goes on there.
fn wrapped_below(hay: &[u8], seg_start: usize, end: usize) -> Option<usize> {
    if !WRAP_WIDTHS.contains(&(end - seg_start)) {
        return None;
    }
    let mut p = end;
    if hay.get(p) == Some(&b'\r') {
        p += 1;
    }
    if hay.get(p) != Some(&b'\n') {
        return None;
    }
    p += 1;
    while matches!(hay.get(p), Some(b' ' | b'\t')) {
        p += 1;
    }
    hay.get(p).is_some_and(|&b| is_base64(b)).then_some(p)
}

/// Collects the run around `at` between `floor` and `ceil`: the characters from `from` (a
/// character of the run at or before `at`) on, across wraps, until the run ends or `ceil`.
pub fn join(hay: &[u8], from: usize, ceil: usize, out: &mut Joined) {
    out.chars.clear();
    out.raw.clear();
    out.cut_right = false;
    let ceil = ceil.min(hay.len());
    // The start of `from`'s segment, to know its width.
    let mut seg_start = from;
    while seg_start > 0 && is_base64(hay[seg_start - 1]) {
        seg_start -= 1;
    }
    let mut p = from;
    loop {
        while p < ceil && is_base64(hay[p]) {
            out.chars.push(hay[p]);
            out.raw.push(p);
            p += 1;
        }
        if p >= ceil {
            out.cut_right = p < hay.len() && is_base64(hay[p]);
            return;
        }
        match wrapped_below(hay, seg_start, p) {
            Some(next) if next < ceil => {
                seg_start = next;
                p = next;
            }
            Some(_) => {
                out.cut_right = true;
                return;
            }
            None => return,
        }
    }
}

/// Decodes `chars[skip..]` (which must start a 4-character group) into `out`, to the first
/// padding or the end; returns the number of characters used. A last group of one character
/// carries no byte and is dropped.
pub fn decode(chars: &[u8], skip: usize, out: &mut Vec<u8>) -> usize {
    out.clear();
    let chars = &chars[skip.min(chars.len())..];
    let mut acc: u32 = 0;
    let mut n = 0;
    let mut used = 0;
    for &c in chars {
        let v = VALUE[c as usize];
        if v >= 64 {
            break;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        used += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    used
}

/// The raw position of decoded byte `i` (its 4-character group) when decoding started at
/// character `skip` of `joined`.
pub fn raw_of(joined: &Joined, skip: usize, i: usize) -> usize {
    let at = skip + (i / 3) * 4;
    joined
        .raw
        .get(at)
        .or(joined.raw.last())
        .copied()
        .unwrap_or(0)
}

/// The characters of `joined` to decode for a hit at raw position `hit` with `phase`: the
/// first one at or after `lo` (a character index) that starts a group.
pub fn first_group(joined: &Joined, hit: usize, phase: usize, lo: usize) -> Option<usize> {
    let hi = joined.raw.iter().position(|&r| r == hit)?;
    let grid = (hi + 4 - phase % 4) % 4;
    let mut s = lo.max(grid % 4);
    while s % 4 != grid % 4 {
        s += 1;
    }
    (s <= hi).then_some(s)
}

/// The run between two raw positions, as a range of raw bytes.
pub fn span(joined: &Joined) -> Range<usize> {
    match (joined.raw.first(), joined.raw.last()) {
        (Some(&a), Some(&b)) => a..b + 1,
        _ => 0..0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &[u8]) -> Vec<u8> {
        let mut j = Joined::default();
        join(text, 0, text.len(), &mut j);
        let mut out = Vec::new();
        decode(&j.chars, 0, &mut out);
        out
    }

    #[test]
    fn every_alignment_of_a_literal_shows_one_of_its_fragments() {
        let literal = b"_live_";
        let frags = fragments(literal);
        assert!(frags.iter().all(|(f, _)| f.len() >= 6), "{frags:?}");
        for pad in 0..6 {
            let mut text = b"sk".to_vec();
            text.splice(0..0, std::iter::repeat_n(b'x', pad));
            text.extend_from_slice(literal);
            text.extend_from_slice(b"AbC123");
            let enc = encode(&text);
            let found: Vec<_> = frags
                .iter()
                .filter_map(|(f, phase)| memchr::memmem::find(&enc, f).map(|at| (at, *phase)))
                .collect();
            assert!(
                !found.is_empty(),
                "pad {pad}: {}",
                String::from_utf8_lossy(&enc)
            );
            for (at, phase) in found {
                assert_eq!((at - phase) % 4, 0, "pad {pad}");
            }
        }
    }

    #[test]
    fn decodes_both_alphabets_padding_and_wraps() {
        assert_eq!(decoded(b"aGVsbG8gd29ybGQ="), b"hello world");
        assert_eq!(decoded(b"aGVsbG8gd29ybGQ"), b"hello world");
        assert_eq!(decoded(b"-_-_"), decoded(b"+/+/"));
        let data: Vec<u8> = (0..200u8).collect();
        let enc = encode(&data);
        for width in [64, 76] {
            let mut wrapped = Vec::new();
            for line in enc.chunks(width) {
                wrapped.extend_from_slice(b"    ");
                wrapped.extend_from_slice(line);
                wrapped.extend_from_slice(b"\r\n");
            }
            let mut j = Joined::default();
            join(&wrapped, 4, wrapped.len(), &mut j);
            let mut out = Vec::new();
            decode(&j.chars, 0, &mut out);
            assert_eq!(out, data, "width {width}");
            let last = wrapped.len() - 5;
            assert_eq!(run_start(&wrapped, last, 0), 4, "width {width}");
        }
        // Other widths are separate runs.
        let text = b"QUJD\nREVG";
        assert_eq!(decoded(text), b"ABC");
        assert_eq!(run_start(text, 6, 0), 5);
    }
}
