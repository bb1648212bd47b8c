//! Decodes the strings encoded by the IAB reference libraries (see `testdata/generate-vectors.sh`)
//! and compares with what those libraries decode; then checks Keel's encoder round-trips them.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions
use keel_consent::{
    GppString, TcString, decode_consent_string, decode_gpp_string, decode_tc_string,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn vectors<T: DeserializeOwned>(file: &str) -> Vec<(String, String, T)> {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(all.len() >= 50, "{file} has too few vectors");
    all.into_iter()
        .map(|v| {
            let name = v["name"].as_str().unwrap().to_string();
            let string = v["string"].as_str().unwrap().to_string();
            let expected = serde_json::from_value(v["expected"].clone())
                .unwrap_or_else(|e| panic!("{name}: expected value does not fit: {e}"));
            (name, string, expected)
        })
        .collect()
}

#[test]
fn tcf_vectors_decode_like_the_reference_library() {
    for (name, string, expected) in vectors::<TcString>("tcf.json") {
        let decoded = decode_tc_string(&string).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, expected, "{name}: {string}");
        let again = decode_tc_string(&decoded.encode().unwrap()).unwrap();
        assert_eq!(again, decoded, "{name}: re-encoding changed the value");
        assert!(decode_consent_string(&string).is_ok());
    }
}

#[test]
fn gpp_vectors_decode_like_the_reference_library() {
    let mut seen_sections = std::collections::BTreeSet::new();
    for (name, string, expected) in vectors::<GppString>("gpp.json") {
        let decoded = decode_gpp_string(&string).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded, expected, "{name}: {string}");
        let encoded = decoded.encode().unwrap();
        assert_eq!(
            decode_gpp_string(&encoded).unwrap(),
            decoded,
            "{name}: re-encoding changed the value"
        );
        seen_sections.extend(decoded.header.section_ids.iter().copied());
        assert!(decode_consent_string(&string).is_ok());
    }
    assert_eq!(
        seen_sections.into_iter().collect::<Vec<_>>(),
        vec![2, 7, 8, 9, 10, 11, 12]
    );
}

#[test]
fn every_prefix_of_a_vector_fails_cleanly() {
    // Truncating a valid string at any point must give an error (or a valid shorter string), never a panic.
    for (_, string, _) in vectors::<Value>("gpp.json").into_iter().take(10) {
        for end in 0..string.len() {
            let _ = decode_consent_string(&string[..end]);
        }
    }
}

#[test]
fn seeded_mutations_never_panic_and_round_trip() {
    // A cheap stand-in for the fuzz target (crates/keel-consent/fuzz) inside the normal suite.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let strings: Vec<String> = vectors::<Value>("tcf.json")
        .into_iter()
        .chain(vectors::<Value>("gpp.json"))
        .map(|(_, s, _)| s)
        .collect();
    for round in 0..4000 {
        let mut bytes = strings[round % strings.len()].clone().into_bytes();
        for _ in 0..(1 + next() % 3) {
            let at = (next() as usize) % bytes.len();
            bytes[at] = ALPHABET[(next() as usize) % ALPHABET.len()];
        }
        let input = String::from_utf8(bytes).unwrap();
        if let Ok(tc) = decode_tc_string(&input)
            && let Ok(encoded) = tc.encode()
        {
            assert_eq!(decode_tc_string(&encoded).unwrap(), tc, "{input}");
        }
        if let Ok(gpp) = decode_gpp_string(&input)
            && let Ok(encoded) = gpp.encode()
        {
            assert_eq!(decode_gpp_string(&encoded).unwrap(), gpp, "{input}");
        }
    }
}
