//! Keys that are not written out as they are: inside archives and compressed files (members,
//! named `OUTER!MEMBER`), inside base64 (decoded around the hits of the base64 forms of the
//! matcher's literals, or whole when a run starts with compressed or archived bytes), and inside
//! UTF-16 text in an otherwise single-byte file. Each of these is bytes in, bytes out, then the
//! same scan again one level down, within the limits of `engine::limits`.
//!
//! Where such a key is reported: a member's keys at their line and column in the member; a key
//! in decoded text at the line and column where the encoded run starts in the text holding it
//! (decoded bytes have no lines of the file); a key in UTF-16 text where it is, counted in
//! characters.

use crate::engine::container::{self, Archive, Issues, Next};
use crate::engine::decode::base64::{self, Joined};
use crate::engine::decode::compressed::{self, Compression, Stop};
use crate::engine::decode::{self, manifest, utf16, Encoded, Encoding, Utf16Reader};
use crate::engine::limits::{Budget, Limits};
use crate::engine::lines::{chars, compose, Lines};
use crate::engine::matcher::{Candidate, Hit, Matcher};
use crate::engine::snippet;
use crate::finding::Finding;
use crate::rules::Place;
use crate::secret::Secret;
use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;

/// Where the bytes being scanned are, and how findings in them are named.
#[derive(Clone, Copy)]
pub(crate) struct Level<'a> {
    /// The file, with its member chain.
    pub path: &'a str,
    pub member_at: Option<usize>,
    pub encoding: &'a [&'static str],
    /// Archives and compressed files opened above these bytes.
    pub depth: u32,
    /// Decoding steps above these bytes.
    pub layers: u32,
    pub place: Place,
    /// Decoded text: its findings are placed by the text holding it, and a compressed stream
    /// in it is one more decoding step, not a file.
    pub in_layer: bool,
}

impl<'a> Level<'a> {
    pub fn top(path: &'a str, place: Place) -> Level<'a> {
        Level {
            path,
            member_at: None,
            encoding: &[],
            depth: 0,
            layers: 0,
            place,
            in_layer: false,
        }
    }
}

/// How findings of decoded text are placed in the text holding it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// At the start of the encoded run (base64: decoded bytes have no lines of the file).
    Replace,
    /// Inside the run, line for line (UTF-16).
    Compose,
}

/// Findings from one encoded run, to be placed at `at` in the text holding it. Each comes with
/// its identity: where in that text it is (the encoded key's first group for base64), so a key
/// found again through another hit is reported once.
pub(crate) struct Placed {
    pub at: usize,
    pub how: Placement,
    pub found: Vec<(usize, Finding)>,
}

/// Something left unread, to be said once: (what, why).
pub type Note = (String, String);

pub(crate) struct Expander<'m> {
    matcher: &'m Matcher,
    pub notes: Vec<Note>,
    /// Limits already reported for this file (one note each).
    said: Vec<&'static str>,
}

impl<'m> Expander<'m> {
    pub fn new(matcher: &'m Matcher) -> Expander<'m> {
        Expander {
            matcher,
            notes: Vec::new(),
            said: Vec::new(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.matcher.limits()
    }

    /// A new file starts: limits may be reported again.
    pub fn reset(&mut self) {
        self.said.clear();
    }

    fn note(&mut self, what: &str, why: String) {
        self.notes.push((what.to_string(), why));
    }

    /// Notes a limit once per file.
    fn note_once(&mut self, key: &'static str, what: &str, why: String) {
        if !self.said.contains(&key) {
            self.said.push(key);
            self.note(what, why);
        }
    }

    /// Everything in a blob held in memory (a file, a git blob, a member, a decoded layer):
    /// archive members, a compressed stream's content, and the bytes themselves with what they
    /// encode. Findings are located in the blob.
    pub fn blob(
        &mut self,
        data: &[u8],
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) {
        let before = out.len();
        let skip = self.containers(data, level, budget, out);
        // A compressed stream may keep short input as it is (zstd's raw blocks): a key already
        // found in its content is not reported again in its raw bytes.
        let inside: HashSet<Secret> = out[before..]
            .iter()
            .filter(|f| f.path == level.path)
            .map(|f| f.secret.clone())
            .collect();
        let raw_from = out.len();
        match decode::detect(data) {
            Encoding::Bytes { bom } => self.text(data, bom, level, budget, &skip, true, out),
            Encoding::Utf16 { big_endian, bom } => {
                let mut decoded = Vec::new();
                // Reading from a slice cannot fail.
                let _ = Utf16Reader::new(data, big_endian, bom).read_to_end(&mut decoded);
                self.text(&decoded, 0, level, budget, &[], true, out);
                // The raw bytes too (a BOM may be two Latin-1 characters), without looking for
                // UTF-16 in them again.
                self.text(data, 0, level, budget, &skip, false, out);
            }
        }
        if !inside.is_empty() {
            let raw = out.split_off(raw_from);
            out.extend(raw.into_iter().filter(|f| {
                f.encoding.len() != level.encoding.len() || !inside.contains(&f.secret)
            }));
        }
    }

    /// Members of an archive, or the content of a compressed stream; returns the byte ranges of
    /// members stored as they are (their keys are reported in the member, not in the archive).
    pub fn containers(
        &mut self,
        data: &[u8],
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> Vec<Range<usize>> {
        if let Some(kind) = Archive::sniff(data) {
            return self.archive(data, kind, level, budget, out);
        }
        let compression = if level.in_layer {
            Compression::sniff_layer(data)
        } else {
            Compression::sniff(data)
        };
        if let Some(c) = compression {
            self.compressed(data, c, level, budget, out);
        }
        Vec::new()
    }

    fn archive(
        &mut self,
        data: &[u8],
        kind: Archive,
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) -> Vec<Range<usize>> {
        let limits = self.limits();
        if level.depth >= limits.depth {
            self.note(
                level.path,
                format!(
                    "{} archive nested deeper than the depth limit, its members were not read; {}",
                    kind.name(),
                    Limits::advice("depth", u64::from(limits.depth))
                ),
            );
            return Vec::new();
        }
        if budget.exhausted {
            return Vec::new();
        }
        let mut issues = Issues::default();
        let mut stored = Vec::new();
        let outer_len = level.member_at.unwrap_or(level.path.len());
        container::members(kind, data, budget, &mut issues, &mut |m, budget| {
            let path = format!("{}!{}", level.path, m.name);
            let child = Level {
                path: &path,
                member_at: Some(outer_len),
                encoding: level.encoding,
                depth: level.depth + 1,
                layers: level.layers,
                place: level.place,
                in_layer: false,
            };
            self.blob(&m.data, &child, budget, out);
            stored.extend(m.stored);
            if budget.exhausted {
                Next::Stop
            } else {
                Next::Continue
            }
        });
        for line in issues.into_notes() {
            self.note(level.path, line);
        }
        stored
    }

    fn compressed(
        &mut self,
        data: &[u8],
        c: Compression,
        level: &Level<'_>,
        budget: &mut Budget,
        out: &mut Vec<Finding>,
    ) {
        let limits = self.limits();
        if level.in_layer && level.layers >= limits.layers {
            self.layer_limit(level);
            return;
        }
        if !level.in_layer && level.depth >= limits.depth {
            self.note(
                level.path,
                format!(
                    "{} stream nested deeper than the depth limit, not expanded; {}",
                    c.name(),
                    Limits::advice("depth", u64::from(limits.depth))
                ),
            );
            return;
        }
        if budget.exhausted {
            return;
        }
        let expanded = compressed::expand(c, data, 0, budget);
        match expanded.stop {
            // A magic number met in decoded text that starts no real stream (`H4sI` in prose),
            // or zlib's two bytes at the start of a text file (`x^2`), is not worth a line.
            Some(Stop::Damaged(_))
                if (level.in_layer && expanded.data.is_empty()) || c.weak_magic() => {}
            Some(Stop::Limit(why)) | Some(Stop::Damaged(why)) => self.note(level.path, why),
            None => {}
        }
        let mut encoding = level.encoding.to_vec();
        encoding.push(c.name());
        let member_at = if level.in_layer {
            level.member_at
        } else {
            Some(level.member_at.unwrap_or(level.path.len()))
        };
        let inner = &expanded.data;
        if let Some(kind) = Archive::sniff(inner) {
            // A compressed archive (`.tar.gz`): its members carry the names; the compression is
            // part of the archive, not a level of its own.
            let stored = self.archive(inner, kind, level, budget, out);
            let raw = Level {
                member_at,
                encoding: &encoding,
                ..*level
            };
            self.text(inner, 0, &raw, budget, &stored, true, out);
            return;
        }
        let child = Level {
            member_at,
            encoding: &encoding,
            depth: level.depth + u32::from(!level.in_layer),
            layers: level.layers + u32::from(level.in_layer),
            ..*level
        };
        self.blob(inner, &child, budget, out);
    }

    fn layer_limit(&mut self, level: &Level<'_>) {
        let limits = self.limits();
        self.note_once(
            "layers",
            level.path,
            format!(
                "encoded more than {} times over, the innermost layers were not decoded; {}",
                limits.layers,
                Limits::advice("layers", u64::from(limits.layers))
            ),
        );
    }

    /// The keys of `data[from..]` and of what it encodes, located in `data`, except those in
    /// `skip` (members already reported as members).
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        data: &[u8],
        from: usize,
        level: &Level<'_>,
        budget: &mut Budget,
        skip: &[Range<usize>],
        utf16_runs: bool,
        out: &mut Vec<Finding>,
    ) {
        let mut hits = Vec::new();
        let mut cands = Vec::new();
        self.matcher
            .find_all(data, from, data.len(), &mut hits, &mut cands);
        if !skip.is_empty() {
            hits.retain(|h| !skip.iter().any(|r| r.contains(&h.start)));
        }
        let placed = self.candidates(data, data.len(), &cands, level, budget, utf16_runs);
        let mut lines = Lines::new(from);
        let found = self.locate_all(data, &hits, placed, &mut lines, level);
        keep_owned(found, from, data.len(), out);
    }

    /// Decodes around each candidate (in order) of `hay`, whose scanned region ends at `until`.
    pub fn candidates(
        &mut self,
        hay: &[u8],
        until: usize,
        cands: &[Candidate],
        level: &Level<'_>,
        budget: &mut Budget,
        utf16_runs: bool,
    ) -> Vec<Placed> {
        let mut placed = Vec::new();
        let (mut b64_done, mut whole_done, mut u16_done) = (0, 0, 0);
        // Runs decoded whole, by where they start: a Secret's value may be met twice. A document
        // holding many Secrets (a `List`) is read once.
        let mut runs_done = HashSet::new();
        let mut secrets_done = 0;
        for c in cands {
            if budget.exhausted {
                break;
            }
            match c.kind {
                Encoded::Base64 { phase } if c.at >= b64_done => {
                    if let Some((p, done)) = self.window(hay, c.at, phase, level, budget) {
                        b64_done = done;
                        placed.push(p);
                    }
                }
                // A run is owned by the step holding its start.
                Encoded::Base64Whole
                    if c.at >= whole_done && c.at < until && !runs_done.contains(&c.at) =>
                {
                    if let Some((p, done)) = self.whole(hay, c.at, level, budget) {
                        whole_done = done;
                        runs_done.insert(c.at);
                        placed.push(p);
                    }
                }
                Encoded::SecretKind
                    if c.at >= secrets_done && c.at < until && manifest::is_kind(hay, c.at) =>
                {
                    let document = manifest::document(hay, c.at);
                    secrets_done = document.end;
                    for start in manifest::values(hay, document) {
                        if runs_done.contains(&start) || budget.exhausted {
                            continue;
                        }
                        if let Some(p) = self.encoded_twice(hay, start, level, budget) {
                            runs_done.insert(start);
                            placed.push(p);
                        }
                    }
                }
                Encoded::Utf16 if utf16_runs && c.at >= u16_done => {
                    let (p, done) = self.utf16(hay, c.at, level, budget);
                    u16_done = done;
                    placed.extend(p);
                }
                _ => {}
            }
        }
        placed
    }

    /// A window of base64 around a key literal's fragment at `at`.
    fn window(
        &mut self,
        hay: &[u8],
        at: usize,
        phase: u8,
        level: &Level<'_>,
        budget: &mut Budget,
    ) -> Option<(Placed, usize)> {
        if level.layers >= self.limits().layers {
            self.layer_limit(level);
            return None;
        }
        let margin = self.matcher.encoded_margin();
        let floor = at.saturating_sub(margin);
        let start = base64::run_start(hay, at, floor);
        let mut joined = Joined::default();
        base64::join(hay, start, at.saturating_add(margin), &mut joined);
        let group = base64::first_group(&joined, at, usize::from(phase), 0)?;
        let mut decoded = Vec::new();
        base64::decode(&joined.chars, group, &mut decoded);
        if !budget.take(decoded.len() as u64) {
            self.expanded_limit(level, budget);
            return None;
        }
        // The window may cut the run: a key touching a cut edge may be longer than it looks.
        let open_left = group > 0 || (start == floor && floor > 0);
        let open_right = joined.cut_right;
        let mut encoding = level.encoding.to_vec();
        encoding.push("base64");
        let child = Level {
            encoding: &encoding,
            layers: level.layers + 1,
            in_layer: true,
            ..*level
        };
        let found = self.decoded(&decoded, &child, budget, open_left, open_right);
        let found = found
            .into_iter()
            .map(|(id, f)| (base64::raw_of(&joined, group, id) + id % 3, f))
            .collect();
        let placed = Placed {
            at: base64::run_start(hay, at, 0),
            how: Placement::Replace,
            found,
        };
        // A later hit of the same window is covered by this decoding; one past the run's end
        // (another value on the next line) is not.
        let done = if joined.cut_right {
            at + margin / 2
        } else {
            base64::span(&joined).end.min(at + margin / 2)
        };
        Some((placed, done))
    }

    /// A whole base64 run starting at `at` with the magic of a compressed stream or archive.
    fn whole(
        &mut self,
        hay: &[u8],
        at: usize,
        level: &Level<'_>,
        budget: &mut Budget,
    ) -> Option<(Placed, usize)> {
        if at > 0 && base64::is_base64(hay[at - 1]) {
            return None;
        }
        if level.layers >= self.limits().layers {
            self.layer_limit(level);
            return None;
        }
        let (joined, decoded) = decode_run(hay, at, budget);
        if joined.cut_right {
            self.note(
                level.path,
                "a base64 run expands past the expanded-bytes limit (or past the part of the file held at once); only its start was decoded".to_string(),
            );
        }
        let placed = self.base64_layer(&decoded, at, level, budget)?;
        Some((placed, base64::span(&joined).end))
    }

    /// The value starting at `at` of a Kubernetes Secret, if it is base64 of base64 text: that
    /// text is read as a layer of its own (where the key's fragments are found). A value encoded
    /// once is left to the fragments found in it, as anywhere else.
    fn encoded_twice(
        &mut self,
        hay: &[u8],
        at: usize,
        level: &Level<'_>,
        budget: &mut Budget,
    ) -> Option<Placed> {
        let (_, decoded) = decode_run(hay, at, budget);
        if !manifest::is_base64_text(&decoded) {
            return None;
        }
        if level.layers >= self.limits().layers {
            self.layer_limit(level);
            return None;
        }
        self.base64_layer(&decoded, at, level, budget)
    }

    /// Everything in the bytes a whole base64 run at `at` decoded to, charged to `budget`, each
    /// finding placed at the run's start.
    fn base64_layer(
        &mut self,
        decoded: &[u8],
        at: usize,
        level: &Level<'_>,
        budget: &mut Budget,
    ) -> Option<Placed> {
        if !budget.take(decoded.len() as u64) {
            self.expanded_limit(level, budget);
            return None;
        }
        let mut encoding = level.encoding.to_vec();
        encoding.push("base64");
        let child = Level {
            encoding: &encoding,
            layers: level.layers + 1,
            in_layer: true,
            ..*level
        };
        let mut found = Vec::new();
        self.blob(decoded, &child, budget, &mut found);
        Some(Placed {
            at,
            how: Placement::Replace,
            found: found.into_iter().map(|f| (at, f)).collect(),
        })
    }

    /// The run of UTF-16 text around a key literal's UTF-16 form at `at`.
    fn utf16(
        &mut self,
        hay: &[u8],
        at: usize,
        level: &Level<'_>,
        budget: &mut Budget,
    ) -> (Option<Placed>, usize) {
        let run = utf16::run_around(hay, at, 0, hay.len());
        let mut decoded = Vec::new();
        utf16::decode_run(hay, run, &mut decoded);
        let mut encoding = level.encoding.to_vec();
        encoding.push(if run.big_endian {
            "utf-16be"
        } else {
            "utf-16le"
        });
        let child = Level {
            encoding: &encoding,
            in_layer: true,
            ..*level
        };
        let mut hits = Vec::new();
        let mut cands = Vec::new();
        self.matcher
            .find_all(&decoded, 0, decoded.len(), &mut hits, &mut cands);
        let placed = self.candidates(&decoded, decoded.len(), &cands, &child, budget, false);
        let mut lines = Lines::new(0);
        let found = self.locate_all(&decoded, &hits, placed, &mut lines, &child);
        // Every character of the run is one code unit (two bytes).
        let found = found
            .into_iter()
            .map(|(id, f)| (run.start + 2 * chars(&decoded[..id.min(decoded.len())]), f))
            .collect();
        let placed = Placed {
            at: run.start,
            how: Placement::Compose,
            found,
        };
        (Some(placed), run.end)
    }

    /// Keys in a decoded window and what it encodes further, each with its identity (its
    /// offset in `decoded`); positions are left to the caller, which replaces them.
    fn decoded(
        &mut self,
        decoded: &[u8],
        level: &Level<'_>,
        budget: &mut Budget,
        open_left: bool,
        open_right: bool,
    ) -> Vec<(usize, Finding)> {
        let mut hits = Vec::new();
        let mut cands = Vec::new();
        self.matcher
            .find_all(decoded, 0, decoded.len(), &mut hits, &mut cands);
        let cut = |h: &Hit| (open_left && h.start == 0) || (open_right && h.end == decoded.len());
        hits.retain(|h| !cut(h));
        let placed = self.candidates(decoded, decoded.len(), &cands, level, budget, true);
        let mut lines = Lines::new(0);
        self.locate_all(decoded, &hits, placed, &mut lines, level)
    }

    fn expanded_limit(&mut self, level: &Level<'_>, budget: &Budget) {
        self.note_once(
            "expanded",
            level.path,
            format!(
                "decoded text expands past the expanded-bytes limit, the rest was not decoded; {}",
                Limits::advice("expanded_bytes", budget.limits.expanded_bytes)
            ),
        );
    }

    /// The findings of `hits` and of `placed`, in order of position in `hay`, located with
    /// `lines`, each with its identity in `hay`.
    pub fn locate_all(
        &self,
        hay: &[u8],
        hits: &[Hit],
        mut placed: Vec<Placed>,
        lines: &mut Lines,
        level: &Level<'_>,
    ) -> Vec<(usize, Finding)> {
        let mut out = Vec::with_capacity(hits.len());
        placed.sort_by_key(|p| p.at);
        let mut placed = placed.into_iter().peekable();
        let mut hits = hits.iter().peekable();
        loop {
            let take_hit = match (hits.peek(), placed.peek()) {
                (Some(h), Some(p)) => h.start <= p.at,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_hit {
                let Some(hit) = hits.next() else { break };
                let at = lines.locate(hay, hit.start);
                out.push((hit.start, self.finding(hay, hit, at, level)));
                continue;
            }
            let Some(p) = placed.next() else { break };
            let at = lines.locate(hay, p.at);
            let allowed = self.matcher.line_allows(hay, p.at);
            for (id, mut f) in p.found {
                // Findings of members keep their own places; the run's own are placed here.
                if f.path.len() == level.path.len() {
                    (f.line, f.column) = match p.how {
                        Placement::Replace => at,
                        Placement::Compose => compose(at, (f.line, f.column)),
                    };
                    f.inline_allowed |= allowed;
                }
                out.push((id, f));
            }
        }
        out
    }

    fn finding(&self, hay: &[u8], hit: &Hit, at: (u64, u64), level: &Level<'_>) -> Finding {
        let rules = self.matcher.rules();
        let prefix_len = rules.rules[hit.rule].variants[hit.variant].prefix.len();
        let secret = Secret::new(hay[hit.start..hit.end].to_vec(), prefix_len);
        let excerpt = snippet::excerpt(hay, hit.start, hit.end, &secret, rules);
        Finding {
            rule: hit.rule,
            variant: hit.variant,
            path: level.path.to_string(),
            line: at.0,
            column: at.1,
            secret,
            excerpt,
            confidence: hit.confidence,
            public_example: hit.public_example,
            inline_allowed: hit.inline_allowed,
            place: level.place,
            commit: None,
            known_elsewhere: false,
            verification: None,
            encoding: level.encoding.to_vec(),
            member_at: level.member_at,
        }
    }
}

/// Appends the findings owned by the region `from..until` (a key starting before `from` belongs
/// to the step before), each once.
pub(crate) fn keep_owned(
    found: Vec<(usize, Finding)>,
    from: usize,
    until: usize,
    out: &mut Vec<Finding>,
) {
    let mut seen: HashSet<(usize, usize, usize, Secret, String)> = HashSet::new();
    for (id, f) in found {
        if id < from || id >= until {
            continue;
        }
        if !f.encoding.is_empty()
            && !seen.insert((id, f.rule, f.variant, f.secret.clone(), f.path.clone()))
        {
            continue;
        }
        out.push(f);
    }
}

/// The base64 run starting at `at`, joined across line breaks and decoded, read no further than
/// the expanded bytes `budget` has left would allow (so a huge run costs what the budget lets it,
/// not its length).
fn decode_run(hay: &[u8], at: usize, budget: &Budget) -> (Joined, Vec<u8>) {
    let most = budget.left.saturating_mul(4) / 3 + 4;
    let ceil = at.saturating_add(usize::try_from(most).unwrap_or(usize::MAX));
    let mut joined = Joined::default();
    base64::join(hay, at, ceil, &mut joined);
    let mut decoded = Vec::new();
    base64::decode(&joined.chars, 0, &mut decoded);
    (joined, decoded)
}
