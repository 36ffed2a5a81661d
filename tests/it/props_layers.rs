//! A key spliced into random text is found once after each encoding and inside each container
//! type, at the right member, line and column. Generated keys never reach test output: cases
//! print lengths and offsets, findings are compared by fingerprint.

use crate::pack::{self, Entry};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use stripe_scan::engine::matcher::Matcher;
use stripe_scan::engine::scanner::{Origin, Scanner};
use stripe_scan::finding::Finding;
use stripe_scan::rules::{Place, RuleSet};
use stripe_scan::secret::fingerprint_of;

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(Arc::new(RuleSet::builtin().expect("rules"))).expect("matcher"))
}

#[derive(Debug, Clone, Copy)]
enum Wrap {
    Base64,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    Zip,
    Tar,
    TarGz,
    ZipInTar,
}

const WRAPS: [Wrap; 9] = [
    Wrap::Base64,
    Wrap::Gzip,
    Wrap::Bzip2,
    Wrap::Xz,
    Wrap::Zstd,
    Wrap::Zip,
    Wrap::Tar,
    Wrap::TarGz,
    Wrap::ZipInTar,
];

/// The file's bytes, and the path, line, column and encoding the key must be reported with.
fn wrap(w: Wrap, text: &[u8], line: u64, col: u64) -> (Vec<u8>, String, u64, u64, Vec<String>) {
    let plain = |p: &str| (p.to_string(), line, col, Vec::new());
    let (data, (path, line, col, enc)) = match w {
        Wrap::Base64 => (
            format!("blob: {}\n", pack::b64(text)).into_bytes(),
            ("f".to_string(), 1, 7, vec!["base64".to_string()]),
        ),
        Wrap::Gzip => (
            pack::gzip(text),
            ("f".into(), line, col, vec!["gzip".into()]),
        ),
        Wrap::Bzip2 => (
            pack::bzip2(text),
            ("f".into(), line, col, vec!["bzip2".into()]),
        ),
        Wrap::Xz => (pack::xz(text), ("f".into(), line, col, vec!["xz".into()])),
        Wrap::Zstd => (
            pack::zstd(text),
            ("f".into(), line, col, vec!["zstd".into()]),
        ),
        Wrap::Zip => (
            pack::zip(&[Entry::file("a/m.txt", text)]),
            plain("f!a/m.txt"),
        ),
        Wrap::Tar => (pack::tar(&[("a/m.txt", text, b'0')]), plain("f!a/m.txt")),
        Wrap::TarGz => (
            pack::gzip(&pack::tar(&[("a/m.txt", text, b'0')])),
            plain("f!a/m.txt"),
        ),
        Wrap::ZipInTar => {
            let zip = pack::zip(&[Entry::stored("m.txt", text)]);
            (
                pack::tar(&[("in.zip", &zip, b'0')]),
                plain("f!in.zip!m.txt"),
            )
        }
    };
    (data, path, line, col, enc)
}

/// Random lines with a key spliced into one; shown as lengths only.
struct Case {
    text: Vec<u8>,
    key: String,
    at: usize,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes, a {}-byte key at {}",
            self.text.len(),
            self.key.len(),
            self.at
        )
    }
}

fn text_and_key() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec("[a-z ]{0,70}", 1..40),
        any::<prop::sample::Index>(),
        "[A-Za-z0-9]{24,99}",
        prop::sample::select(vec!["sk_live_", "rk_test_", "pk_live_"]),
    )
        .prop_map(|(lines, at, body, prefix)| {
            let k = format!("{prefix}{body}");
            let n = at.index(lines.len());
            let mut text = String::new();
            let mut key_at = 0;
            for (i, l) in lines.iter().enumerate() {
                text.push_str(l);
                if i == n {
                    text.push_str(" key=");
                    key_at = text.len();
                    text.push_str(&k);
                }
                text.push('\n');
            }
            Case {
                text: text.into_bytes(),
                key: k,
                at: key_at,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_spliced_key_is_found_inside_every_wrapping(case in text_and_key()) {
        let Case { text, key: k, at } = case;
        let before = &text[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let col = (at - line_start) as u64 + 1;
        let fp = fingerprint_of(k.as_bytes());
        for w in WRAPS {
            let (data, path, line, col, enc) = wrap(w, &text, line, col);
            let mut scanner = Scanner::new(matcher(), 0);
            let mut out: Vec<Finding> = Vec::new();
            let _notes = scanner.scan_bytes(&data, Origin { path: "f", place: Place::WorkingTree }, &mut out);
            let found: Vec<&Finding> =
                out.iter().filter(|f| f.secret.fingerprint() == fp).collect();
            let places: Vec<(String, u64, u64, Vec<&str>)> = found
                .iter()
                .map(|f| (f.path.clone(), f.line, f.column, f.encoding.clone()))
                .collect();
            prop_assert_eq!(found.len(), 1, "{:?} of {} bytes: {:?}", w, text.len(), places);
            let f = found[0];
            prop_assert_eq!(
                (f.path.as_str(), f.line, f.column),
                (path.as_str(), line, col),
                "{:?}",
                w
            );
            prop_assert_eq!(&f.encoding, &enc.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}

/// A valid container or encoding with a key inside, then damaged: bytes overwritten and the end
/// cut off. Whatever is left must scan without a panic, and every finding must be well-formed.
fn damaged() -> impl Strategy<Value = (usize, Vec<(prop::sample::Index, u8)>, prop::sample::Index)>
{
    (
        0..WRAPS.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        any::<prop::sample::Index>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn damaged_containers_never_panic((w, flips, cut) in damaged()) {
        let text = format!("a\nkey={}\nb\n", crate::util::key("sk_live_", 30)).into_bytes();
        let (mut data, ..) = wrap(WRAPS[w], &text, 2, 5);
        for (at, b) in flips {
            let i = at.index(data.len());
            data[i] = b;
        }
        data.truncate(cut.index(data.len() + 1));
        let mut scanner = Scanner::new(matcher(), 0);
        let mut out: Vec<Finding> = Vec::new();
        let notes = scanner.scan_bytes(&data, Origin { path: "f", place: Place::WorkingTree }, &mut out);
        for (what, _) in &notes {
            prop_assert!(what.starts_with('f'), "a note names what it is about: {}", what);
        }
        for f in &out {
            prop_assert!(f.path.starts_with('f') && f.line >= 1 && f.column >= 1);
            let prefix = &matcher().rules().rules[f.rule].variants[f.variant].prefix;
            prop_assert!(f.secret.as_bytes().starts_with(prefix));
        }
    }
}
