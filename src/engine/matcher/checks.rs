//! The checks that separate a key from a key-shaped placeholder: entropy, runs, sequences and
//! placeholder words. They run only on bodies that already passed the prefix, edge and length tests.

/// Shannon entropy of the body in bits per byte.
pub fn entropy(body: &[u8]) -> f64 {
    if body.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in body {
        counts[b as usize] += 1;
    }
    let n = body.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Words that only a human writes into a key-shaped string. Short words such as "here" or "test"
/// are left out: they occur by chance in long random bodies.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"example",
    b"replace",
    b"placeholder",
    b"dummy",
    b"sample",
    b"yourkey",
    b"yoursecret",
    b"your_",
    b"insert",
    b"redacted",
    b"changeme",
    b"xxxx",
    b"fake",
];

/// True when the body reads as something a person typed in place of a key.
pub fn looks_placeholder(body: &[u8]) -> bool {
    // Six equal bytes in a row, or six consecutive ascending/descending ones ("abcdef", "123456"),
    // are vanishingly rare in a random body (about 1e-7 for 99 alphanumerics).
    let mut same = 1;
    let mut up = 1;
    let mut down = 1;
    for w in body.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        up = if w[1] == w[0].wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if w[1].wrapping_add(1) == w[0] {
            down + 1
        } else {
            1
        };
        if same >= 6 || up >= 6 || down >= 6 {
            return true;
        }
    }
    // snake_case words (`oak_tree_height_in_meters`): a random body over a set that includes `_`
    // practically always holds a digit too.
    if body.contains(&b'_') && !body.iter().any(u8::is_ascii_digit) {
        return true;
    }
    let mut distinct = [false; 256];
    let mut n_distinct = 0;
    for &b in body {
        if !distinct[b as usize] {
            distinct[b as usize] = true;
            n_distinct += 1;
        }
    }
    if body.len() >= 16 && n_distinct < 8 {
        return true;
    }
    let lower: Vec<u8> = body.to_ascii_lowercase();
    PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            &b"xxxxxxxxxxxxxxxxxxxxxxxx"[..],
            b"abcdefghijklmnopqrstuvwx",
            b"1234567890abcdefghij",
            b"YOURKEYHERE0000000000",
            b"0000000000000000",
            b"121212121212121212121212",
            b"ExampleKey9Q2wE3rT4yU5iO",
        ] {
            assert!(looks_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
        assert!(!looks_placeholder(b"4Qz9LmX2pT7vB1nK8rW3sY6c"));
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
