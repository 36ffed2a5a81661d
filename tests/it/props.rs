//! Properties of the matcher, the decoder and the scanner on generated inputs: every spliced key is
//! found exactly once at its line and column, mutated keys are not, arbitrary bytes never panic,
//! and the streaming path (`scan_reader`, any chunk size, any read sizes) finds exactly what the
//! in-memory path (`scan_bytes`) finds. Generated keys never reach test output: cases print
//! lengths and offsets, findings are compared by fingerprint.

use crate::util::utf16;
use proptest::prelude::*;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, OnceLock};
use stripe_scan::engine::decode::{self, Encoding, Utf16Reader};
use stripe_scan::engine::matcher::{checks, Matcher};
use stripe_scan::engine::scanner::{Origin, Scanner};
use stripe_scan::finding::Finding;
use stripe_scan::rules::{Place, RuleSet};
use stripe_scan::secret::fingerprint_of;
use stripe_scan::severity::Confidence;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(Arc::new(RuleSet::builtin().expect("rules"))).expect("matcher"))
}

const ORIGIN: Origin<'static> = Origin {
    path: "generated",
    place: Place::WorkingTree,
};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const WHSEC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/// A key shape from rules/stripe.toml. `pattern` keys are `<alnum>_secret_<alnum>` bodies.
struct Template {
    prefix: &'static str,
    charset: &'static [u8],
    min: usize,
    max: usize,
    pattern: bool,
}

const fn t(prefix: &'static str, charset: &'static [u8], min: usize, max: usize) -> Template {
    Template {
        prefix,
        charset,
        min,
        max,
        pattern: false,
    }
}

const TEMPLATES: &[Template] = &[
    t("sk_live_", ALNUM, 20, 255),
    t("rk_test_", ALNUM, 20, 255),
    t("pk_live_", ALNUM, 20, 255),
    t("sk_org_live_", ALNUM, 20, 400),
    t("rkcs_test_", ALNUM, 20, 255),
    t("whsec_", WHSEC, 24, 88),
    t("ek_test_", ALNUM, 20, 255),
    t("pst_live_", ALNUM, 20, 255),
    t("oak_", ALNUM, 20, 255),
    t("absec_", ALNUM, 20, 255),
    t("cuss_secret_", ALNUM, 30, 128),
    Template {
        prefix: "pi_",
        charset: ALNUM,
        min: 20,
        max: 255,
        pattern: true,
    },
];

/// Bytes that end no key and continue no word: valid edges on either side of a key. None is a
/// hex digit, `\` or `%`, so a word character put after one never forms an escape sequence.
const EDGES: &[char] = &[
    ' ', '\n', '\t', '"', '\'', ',', ';', '(', ')', '<', '>', '\0', '\r', '&', '!',
];

/// Filler: text of every sort except `_`, which every prefix holds, so filler never forms a key.
const FILLER: &[char] = &[
    'a', 'b', 'k', 's', 'Z', 'Q', '0', '7', '9', ' ', ' ', '\n', '\n', '\r', '\t', '"', '=', ':',
    ';', ',', '.', '/', '\\', '%', '-', '+', '{', '}', 'é', 'ü', '中', '😀', '\0',
];

/// Bytes outside every key body.
const BREAKERS: &[u8] = b" -.!\n#*~\0";

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state | 1;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn random_run(set: &[u8], n: usize, state: &mut u64) -> Vec<u8> {
    (0..n)
        .map(|_| set[(xorshift(state) % set.len() as u64) as usize])
        .collect()
}

/// A key of `template` with a body the placeholder and entropy checks accept, drawn from `seed`.
fn make_key(template: &Template, len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    loop {
        let body = if template.pattern {
            let a = 14 + len % 40;
            let b = 10 + len % 50;
            let mut body = random_run(template.charset, a, &mut state);
            body.extend_from_slice(b"_secret_");
            body.extend(random_run(template.charset, b, &mut state));
            body
        } else {
            let n = template.min + len % (template.max.min(140) - template.min + 1);
            random_run(template.charset, n, &mut state)
        };
        let digits = body.iter().any(u8::is_ascii_digit);
        if digits
            && !checks::looks_placeholder(&body)
            && checks::entropy(&body) >= 3.0
            && !body.starts_with(b"a2V5Xz")
        {
            let mut key = template.prefix.as_bytes().to_vec();
            key.extend(body);
            return key;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    Utf8,
    Utf8Bom,
    Utf16 { big_endian: bool, bom: bool },
}

#[derive(Clone)]
struct Piece {
    filler: String,
    before: char,
    template: usize,
    key: Vec<u8>,
    after: char,
}

#[derive(Clone)]
struct Case {
    pieces: Vec<Piece>,
    tail: String,
    enc: Enc,
}

/// What a failing case shows: shapes and lengths, never key bytes.
impl fmt::Debug for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "filler {:?} then {:?} {}<{} bytes> {:?}",
            self.filler,
            self.before,
            TEMPLATES[self.template].prefix,
            self.key.len() - TEMPLATES[self.template].prefix.len(),
            self.after
        )
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Case {:?}", self.enc)?;
        for p in &self.pieces {
            writeln!(f, "  {p:?}")?;
        }
        write!(f, "  tail {:?}", self.tail)
    }
}

/// Where each key must be reported: fingerprint, line, column.
type Expected = Vec<(String, u64, u64)>;

fn locate(text: &str) -> (u64, u64) {
    let line = text.matches('\n').count() as u64 + 1;
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    (line, last.chars().count() as u64 + 1)
}

impl Case {
    /// UTF-16 without a BOM is recognised only for text in the ASCII range without NULs.
    fn text_char(&self, c: char) -> char {
        match self.enc {
            Enc::Utf16 { bom: false, .. } if !c.is_ascii() || c == '\0' => 'x',
            _ => c,
        }
    }

    fn build(&self) -> (Vec<u8>, Expected) {
        let mut text = String::new();
        let mut expected = Vec::new();
        for p in &self.pieces {
            text.extend(p.filler.chars().map(|c| self.text_char(c)));
            let before = match self.text_char(p.before) {
                'x' => ' ',
                c => c,
            };
            text.push(before);
            let (line, col) = locate(&text);
            expected.push((fingerprint_of(&p.key), line, col));
            text.push_str(std::str::from_utf8(&p.key).expect("ascii key"));
            text.push(match self.text_char(p.after) {
                'x' => ' ',
                c => c,
            });
        }
        text.extend(self.tail.chars().map(|c| self.text_char(c)));
        let bytes = match self.enc {
            Enc::Utf8 => text.into_bytes(),
            Enc::Utf8Bom => {
                let mut b = vec![0xEF, 0xBB, 0xBF];
                b.extend_from_slice(text.as_bytes());
                b
            }
            Enc::Utf16 { big_endian, bom } => utf16(&text, big_endian, bom),
        };
        (bytes, expected)
    }
}

fn filler(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FILLER), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

fn piece(max_filler: usize) -> impl Strategy<Value = Piece> {
    (
        filler(max_filler),
        prop::sample::select(EDGES),
        0..TEMPLATES.len(),
        any::<usize>(),
        any::<u64>(),
        prop::sample::select(EDGES),
    )
        .prop_map(|(filler, before, template, len, seed, after)| Piece {
            filler,
            before,
            template,
            key: make_key(&TEMPLATES[template], len, seed),
            after,
        })
}

fn enc() -> impl Strategy<Value = Enc> {
    prop_oneof![
        4 => Just(Enc::Utf8),
        1 => Just(Enc::Utf8Bom),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(big_endian, bom)| Enc::Utf16 { big_endian, bom }),
    ]
}

fn case(max_pieces: usize, max_filler: usize) -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(piece(max_filler), 1..max_pieces),
        filler(max_filler),
        enc(),
    )
        .prop_map(|(pieces, tail, enc)| Case { pieces, tail, enc })
}

/// Everything a report shows about a finding, with the key as its fingerprint.
type Shown = (usize, usize, u64, u64, String, Confidence, bool, bool);

fn shown(findings: &[Finding]) -> Vec<Shown> {
    findings
        .iter()
        .map(|f| {
            (
                f.rule,
                f.variant,
                f.line,
                f.column,
                f.secret.fingerprint(),
                f.confidence,
                f.public_example,
                f.inline_allowed,
            )
        })
        .collect()
}

fn in_memory(bytes: &[u8]) -> Vec<Finding> {
    let mut out = Vec::new();
    let _notes = Scanner::new(matcher(), 0).scan_bytes(bytes, ORIGIN, &mut out);
    out
}

/// Hands out at most the next of `sizes` bytes per read, cycling, as pipes and slow disks do.
struct Dribble<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    i: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = self.sizes[self.i % self.sizes.len()].max(1);
        self.i += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn streamed(bytes: &[u8], chunk: usize, sizes: Vec<usize>) -> (Vec<Finding>, u64) {
    let mut out = Vec::new();
    let reader = Dribble {
        data: bytes,
        sizes,
        i: 0,
    };
    let n = Scanner::new(matcher(), 0)
        .with_chunk(chunk)
        .scan_reader(reader, ORIGIN, &mut out)
        .expect("reading a slice cannot fail");
    (out, n)
}

fn located(findings: &[Finding]) -> Expected {
    let mut v: Expected = findings
        .iter()
        .map(|f| (f.secret.fingerprint(), f.line, f.column))
        .collect();
    v.sort_by_key(|a| (a.1, a.2));
    v
}

fn read_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![1..8usize, 8..4096usize, Just(usize::MAX)], 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn spliced_keys_are_found_once_at_their_line_and_column(c in case(8, 300)) {
        let (bytes, expected) = c.build();
        let found = in_memory(&bytes);
        prop_assert_eq!(located(&found), expected);
    }

    #[test]
    fn streaming_finds_what_scanning_in_memory_finds(
        c in case(6, 400),
        chunk in prop_oneof![1..64usize, 64..3000usize],
        sizes in read_sizes(),
    ) {
        let (bytes, expected) = c.build();
        let whole = in_memory(&bytes);
        let (streamed, n) = streamed(&bytes, chunk, sizes);
        prop_assert_eq!(n, bytes.len() as u64);
        prop_assert_eq!(shown(&streamed), shown(&whole));
        prop_assert_eq!(located(&streamed), expected);
    }

    #[test]
    fn a_byte_outside_the_body_set_inside_a_key_is_not_that_key(
        p in piece(40),
        at in any::<usize>(),
        breaker in prop::sample::select(BREAKERS),
        tail in filler(40),
    ) {
        let t = &TEMPLATES[p.template];
        let body_len = p.key.len() - t.prefix.len();
        let i = 1 + at % (body_len - 1);
        let mut key = p.key.clone();
        key[t.prefix.len() + i] = breaker;
        let mut bytes = p.filler.clone().into_bytes();
        bytes.push(p.before as u8);
        bytes.extend_from_slice(&key);
        bytes.push(p.after as u8);
        bytes.extend_from_slice(tail.as_bytes());
        let found = in_memory(&bytes);
        let whole = fingerprint_of(&p.key);
        prop_assert!(found.iter().all(|f| f.secret.fingerprint() != whole), "reported the broken key");
        if i < t.min && !t.pattern {
            prop_assert!(found.is_empty(), "a body cut below min_len was reported: {:?}", located(&found));
        }
    }

    #[test]
    fn a_word_character_before_a_key_hides_it(
        p in piece(40),
        word in prop::sample::select(b"azAZ09_kxn".to_vec()),
        tail in filler(40),
    ) {
        let mut bytes = p.filler.clone().into_bytes();
        bytes.push(p.before as u8);
        bytes.push(word);
        bytes.extend_from_slice(&p.key);
        bytes.push(p.after as u8);
        bytes.extend_from_slice(tail.as_bytes());
        let found = in_memory(&bytes);
        prop_assert!(found.is_empty(), "reported after a word character: {:?}", located(&found));
    }
}

/// Arbitrary bytes biased towards what the matcher looks at: prefixes, bodies, escapes, BOMs,
/// context words, NULs and line ends.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let prefixes: Vec<Vec<u8>> = matcher()
        .rules()
        .rules
        .iter()
        .flat_map(|r| r.variants.iter().map(|v| v.prefix.clone()))
        .collect();
    let segment = prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..48),
        3 => prop::sample::select(prefixes),
        3 => (1..140usize, any::<u64>()).prop_map(|(n, seed)| random_run(WHSEC, n, &mut (seed | 1))),
        1 => prop::sample::select(vec![
            b"\\n".to_vec(), b"\\u003d".to_vec(), b"%3D".to_vec(), b"\\x3d".to_vec(),
            b"_secret_".to_vec(), b"_scoped_secret_".to_vec(), b"stripe".to_vec(),
            b"stripe-scan:allow".to_vec(), b"\n".to_vec(), b"\r\n".to_vec(), vec![0; 7],
            vec![0xEF, 0xBB, 0xBF], vec![0xFF, 0xFE], vec![0xFE, 0xFF], vec![0xD8, 0x3D],
            b"svix".to_vec(), b"refresh_token".to_vec(),
        ]),
    ];
    prop::collection::vec(segment, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn the_matcher_never_panics_and_its_hits_are_sound(
        bytes in hostile_bytes(),
        cut in any::<(usize, usize)>(),
    ) {
        let m = matcher();
        let mut hits = Vec::new();
        m.find(&bytes, 0, bytes.len(), &mut hits);
        let mut last_end = 0;
        for h in &hits {
            let prefix = &m.rules().rules[h.rule].variants[h.variant].prefix;
            prop_assert!(h.start >= last_end && h.start < h.end && h.end <= bytes.len());
            prop_assert!(bytes[h.start..h.end].starts_with(prefix));
            last_end = h.end;
        }
        // Any window, even one too short for its lookahead, is safe to search.
        let (a, b) = (cut.0 % (bytes.len() + 1), cut.1 % (bytes.len() + 1));
        let mut some = Vec::new();
        m.find(&bytes, a.min(b), a.max(b), &mut some);
        prop_assert!(some.iter().all(|h| h.end <= bytes.len()));
    }

    #[test]
    fn arbitrary_bytes_stream_as_they_scan_in_memory(
        bytes in hostile_bytes(),
        chunk in 1..2500usize,
        sizes in read_sizes(),
    ) {
        let whole = in_memory(&bytes);
        let (streamed, n) = streamed(&bytes, chunk, sizes);
        prop_assert_eq!(n, bytes.len() as u64);
        prop_assert_eq!(shown(&streamed), shown(&whole));
        for f in &whole {
            let prefix = &f.variant_of(matcher().rules()).prefix;
            prop_assert!(f.secret.as_bytes().starts_with(prefix));
            prop_assert!(f.line >= 1 && f.column >= 1);
        }
    }

    #[test]
    fn utf16_decoding_is_lossless_for_any_bytes_and_read_sizes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        big_endian in any::<bool>(),
        skip_bom in any::<bool>(),
        sizes in read_sizes(),
    ) {
        let reader = Dribble { data: &bytes, sizes, i: 0 };
        let mut out = Vec::new();
        Utf16Reader::new(reader, big_endian, skip_bom)
            .read_to_end(&mut out)
            .expect("reading a slice cannot fail");
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| if big_endian { u16::from_be_bytes([p[0], p[1]]) } else { u16::from_le_bytes([p[0], p[1]]) })
            .collect();
        let skip = usize::from(skip_bom && units.first() == Some(&0xFEFF));
        let want: String = char::decode_utf16(units[skip..].iter().copied())
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        prop_assert_eq!(String::from_utf8(out).ok(), Some(want));
    }

    #[test]
    fn encoding_detection_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..5000)) {
        match decode::detect(&bytes) {
            Encoding::Bytes { bom } => prop_assert!(bom == 0 || bytes.starts_with(&[0xEF, 0xBB, 0xBF])),
            Encoding::Utf16 { .. } => prop_assert!(bytes.len() >= 2),
        }
    }
}

/// Keys placed on and around the boundaries of the real 1 MiB chunk, in a 3 MB line and in 3 MB
/// of short lines: `scan_reader` must agree with `scan_bytes` and with where the keys are.
#[test]
fn keys_on_the_real_chunk_boundaries_of_a_3_mb_input() {
    const MIB: usize = 1 << 20;
    let context = stripe_scan::engine::matcher::CONTEXT_BYTES;
    let lookahead = matcher().lookahead();
    // First region: [0, context + 1 MiB); every later one is 1 MiB long.
    let boundaries = [context + MIB, context + 2 * MIB];
    let offsets: [isize; 12] = [
        -(context as isize) - 1,
        -(context as isize),
        -(context as isize) + 1,
        -300,
        -40,
        -8,
        -1,
        0,
        1,
        lookahead as isize - 420,
        lookahead as isize - 1,
        lookahead as isize,
    ];
    let mut seed = 0x5EED;
    for (round, &d) in offsets.iter().enumerate() {
        for newlines in [false, true] {
            let filler = |n: usize| -> Vec<u8> {
                if newlines {
                    (0..n)
                        .map(|i| if i % 61 == 60 { b'\n' } else { b'.' })
                        .collect()
                } else {
                    vec![b'.'; n]
                }
            };
            let mut bytes = filler(3 * MIB);
            let mut keys = Vec::new();
            for (i, b) in boundaries.iter().enumerate() {
                seed += 1;
                let template = &TEMPLATES[(round + i) % TEMPLATES.len()];
                // Long keys reach furthest into the lookahead.
                let key = make_key(template, if round % 2 == 0 { 120 } else { 0 }, seed);
                let at = (*b as isize + d) as usize;
                bytes[at - 1] = b' ';
                bytes[at..at + key.len()].copy_from_slice(&key);
                bytes[at + key.len()] = b' ';
                let text = std::str::from_utf8(&bytes[..at]).expect("ascii");
                let (line, col) = locate(text);
                keys.push((fingerprint_of(&key), line, col));
            }
            let whole = in_memory(&bytes);
            assert_eq!(
                located(&whole),
                keys,
                "in memory, offset {d}, newlines {newlines}"
            );
            let mut out = Vec::new();
            let n = Scanner::new(matcher(), 0)
                .scan_reader(&bytes[..], ORIGIN, &mut out)
                .expect("slice");
            assert_eq!(n, bytes.len() as u64);
            assert_eq!(
                shown(&out),
                shown(&whole),
                "streamed, offset {d}, newlines {newlines}"
            );
        }
    }
}

/// The same, with a UTF-8 BOM and multi-byte characters before the boundary, so columns count
/// characters across chunks.
#[test]
fn columns_count_characters_across_chunk_boundaries() {
    let chunk = 4096;
    let mut text = String::new();
    while text.len() < 3 * chunk {
        text.push_str("é中😀a");
    }
    let key = make_key(&TEMPLATES[0], 5, 77);
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b' ');
    let col = text.chars().count() as u64 + 2;
    bytes.extend_from_slice(&key);
    let whole = in_memory(&bytes);
    assert_eq!(located(&whole), vec![(fingerprint_of(&key), 1, col)]);
    for chunk in [1, 7, 1000, chunk] {
        let (s, _) = streamed(&bytes, chunk, vec![usize::MAX]);
        assert_eq!(shown(&s), shown(&whole), "chunk {chunk}");
    }
}
