//! Shared assertions for the integration tests.
#![allow(dead_code)]

use sealscribe_openpgp::{KeyError, KeyErrorKind};

/// The error message must be a sentence for a person: no base64 or hex runs longer than a
/// fingerprint (40 hex characters), no fragment of the uploaded data, and not too long.
pub fn assert_clean_message(err: &KeyError, upload: &[u8]) {
    let msg = err.to_string();
    assert!(!msg.is_empty());
    assert!(msg.len() < 900, "message too long ({}): {msg}", msg.len());
    let longest = msg
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(
        longest <= 40,
        "message contains a {longest}-char blob: {msg}"
    );
    // No 12-character fragment of any line of an armored upload (e.g. base64 key material).
    if let Ok(text) = std::str::from_utf8(upload) {
        for line in text
            .lines()
            .filter(|l| l.len() >= 12 && !l.starts_with("-----"))
        {
            for w in line.as_bytes().windows(12) {
                let w = std::str::from_utf8(w).unwrap_or("");
                if w.chars().all(|c| c.is_ascii_alphanumeric()) {
                    assert!(
                        !msg.contains(w),
                        "message contains upload bytes {w:?}: {msg}"
                    );
                }
            }
        }
    }
    assert!(!msg.contains("0x"), "byte dump in: {msg}");
}

/// Checks kind, cleanliness and that the message contains every `needle`.
pub fn assert_rejected(
    result: Result<sealscribe_openpgp::KeyInfo, KeyError>,
    upload: &[u8],
    kind: KeyErrorKind,
    needles: &[&str],
) -> KeyError {
    let err = match result {
        Ok(info) => panic!("accepted, expected {kind:?}: {info:#?}"),
        Err(e) => e,
    };
    println!("{kind:?}: {err}\n");
    assert_eq!(err.kind(), kind, "wrong kind for: {err}");
    assert_clean_message(&err, upload);
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "message lacks {n:?}: {msg}");
    }
    err
}
