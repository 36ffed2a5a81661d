//! Encoding detection and UTF-16 decoding on arbitrary bytes and read sizes: no panic; a BOM is
//! only reported when present; the decoder's output is valid UTF-8 and equal to decoding all the
//! code units at once, whatever the read sizes and wherever a surrogate pair is split.

#![no_main]

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

use common::{steer, Dribble};
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use stripe_scan::engine::decode::{detect, Encoding, Utf16Reader};

fuzz_target!(|input: &[u8]| {
    let (_, sizes, data) = steer(input);
    match detect(data) {
        Encoding::Bytes { bom } => {
            assert!(bom == 0 || bom == 3);
            assert_eq!(bom == 3, data.starts_with(&[0xEF, 0xBB, 0xBF]));
        }
        Encoding::Utf16 { bom, .. } => {
            assert!(data.len() >= 2);
            assert!(!bom || data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF]));
        }
    }
    for big_endian in [false, true] {
        for skip_bom in [false, true] {
            let mut out = Vec::new();
            let reader = Dribble {
                data,
                sizes: sizes.clone(),
                i: 0,
            };
            Utf16Reader::new(reader, big_endian, skip_bom)
                .read_to_end(&mut out)
                .expect("reading memory cannot fail");
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|p| {
                    if big_endian {
                        u16::from_be_bytes([p[0], p[1]])
                    } else {
                        u16::from_le_bytes([p[0], p[1]])
                    }
                })
                .collect();
            let skip = usize::from(skip_bom && units.first() == Some(&0xFEFF));
            let want: String = char::decode_utf16(units[skip..].iter().copied())
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            assert!(
                out == want.as_bytes(),
                "decoding depends on read sizes or is wrong"
            );
        }
    }
});
