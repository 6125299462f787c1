//! The multipart parser on examples and on arbitrary input (proptest).

use proptest::prelude::*;

use super::*;

const LIMITS: MultipartLimits = MultipartLimits {
    preamble: 1024,
    part_header: 1024,
    parts: 8,
};

/// Parts read, each with its body.
type Parts = Vec<(PartHead, Vec<u8>)>;

/// Runs the parser over `chunks`, collecting parts and their bodies, and the
/// most bytes it held at once.
fn parse(
    boundary: &str,
    limits: MultipartLimits,
    chunks: &[&[u8]],
) -> (Result<Parts, ParseError>, usize) {
    let mut parser = Parser::new(boundary, limits);
    let mut parts: Parts = Vec::new();
    let mut most_held = 0;
    let mut chunks = chunks.iter();
    loop {
        match parser.next_event() {
            Ok(Some(Event::Part(h))) => parts.push((h, Vec::new())),
            Ok(Some(Event::Data(d))) => parts
                .last_mut()
                .expect("data only inside a part")
                .1
                .extend_from_slice(&d),
            Ok(Some(Event::End)) => return (Ok(parts), most_held),
            Ok(None) => match chunks.next() {
                Some(c) => {
                    parser.push(c);
                    most_held = most_held.max(parser.buffered());
                }
                None => parser.finish(),
            },
            Err(e) => return (Err(e), most_held),
        }
    }
}

fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = b"preamble to ignore\r\n".to_vec();
    for (name, file, body) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = file
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        out.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n").as_bytes(),
        );
        out.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\nepilogue").as_bytes());
    out
}

#[test]
fn reads_parts_with_names_files_and_bodies() {
    let body = form(
        "XyZ",
        &[
            ("configuration", None, b"{}"),
            ("media", Some("a \\\"b\\\".wav"), b"RIFF\r\n--Xy"),
        ],
    );
    let (parts, _) = parse("XyZ", LIMITS, &[&body]);
    let parts = parts.unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].0.name.as_deref(), Some("configuration"));
    assert_eq!(parts[0].1, b"{}");
    assert_eq!(parts[1].0.file_name.as_deref(), Some("a \"b\".wav"));
    assert_eq!(
        parts[1].0.content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(parts[1].1, b"RIFF\r\n--Xy");
}

#[test]
fn the_first_boundary_may_open_the_body() {
    let body = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--";
    let (parts, _) = parse("b", LIMITS, &[body]);
    let parts = parts.unwrap();
    assert_eq!(parts[0].0.name.as_deref(), Some("x"));
    assert_eq!(parts[0].1, b"1");
}

#[test]
fn a_body_without_its_boundary_is_refused_after_the_preamble_cap() {
    let chunk = [b'a'; 100];
    let chunks: Vec<&[u8]> = std::iter::repeat_n(&chunk[..], 1000).collect();
    let (parts, held) = parse("boundary", LIMITS, &chunks);
    assert_eq!(parts.unwrap_err(), ParseError::PreambleTooLarge(1024));
    assert!(held < 200, "held {held} bytes");
}

#[test]
fn endless_part_headers_are_refused() {
    let mut body = b"--b\r\nX-Long: ".to_vec();
    body.extend(std::iter::repeat_n(b'a', 5000));
    let (parts, _) = parse("b", LIMITS, &[&body]);
    assert_eq!(parts.unwrap_err(), ParseError::PartHeaderTooLarge(1024));
}

#[test]
fn too_many_parts_are_refused() {
    let many: Vec<(&str, Option<&str>, &[u8])> = (0..9).map(|_| ("x", None, &b""[..])).collect();
    let body = form("b", &many);
    let (parts, _) = parse("b", LIMITS, &[&body]);
    assert_eq!(parts.unwrap_err(), ParseError::TooManyParts(8));
}

#[test]
fn a_cut_off_body_is_incomplete() {
    let body = form("b", &[("media", None, b"12345")]);
    let (parts, _) = parse("b", LIMITS, &[&body[..body.len() - 12]]);
    assert_eq!(parts.unwrap_err(), ParseError::Incomplete);
}

#[test]
fn header_lines_must_be_name_value() {
    let body = b"--b\r\nnonsense\r\n\r\nx\r\n--b--";
    let (parts, _) = parse("b", LIMITS, &[body]);
    assert!(matches!(parts.unwrap_err(), ParseError::Malformed(_)));
}

#[test]
fn boundaries_come_from_the_content_type() {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        "multipart/form-data; boundary=\"a b\"".parse().unwrap(),
    );
    assert_eq!(boundary(&h).unwrap(), "a b");
    h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    assert_eq!(boundary(&h).unwrap_err().code(), codes::INVALID_REQUEST);
    h.insert(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={}", "x".repeat(71))
            .parse()
            .unwrap(),
    );
    assert!(boundary(&h).is_err());
}

/// Splits `bytes` at the given cut points.
fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&bytes[at..c]);
        at = c;
    }
    out.push(&bytes[at..]);
    out
}

fn boundary_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9'()+_,./:=?-]{1,70}"
}

proptest! {
    // Case counts are stated in docs/security.md ("HTTP limits and property tests").
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes, any boundary, any split: an event stream or an error, never a
    /// panic, and never more held than one chunk plus the header cap.
    #[test]
    fn arbitrary_bytes_never_panic_and_memory_stays_bounded(
        boundary in boundary_strategy(),
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let chunks = split(&bytes, &cuts);
        let largest = chunks.iter().map(|c| c.len()).max().unwrap_or(0);
        let (_, held) = parse(&boundary, LIMITS, &chunks);
        prop_assert!(held <= largest + LIMITS.part_header + boundary.len() + 8,
            "held {held} bytes with chunks of at most {largest}");
    }

    /// Bytes that look like multipart (boundary lines and CRLFs mixed into
    /// noise) exercise the states past the preamble.
    #[test]
    fn multipart_like_noise_never_panics(
        boundary in boundary_strategy(),
        pieces in proptest::collection::vec(prop_oneof![
            Just(0u8), Just(1u8), Just(2u8), Just(3u8), Just(4u8)
        ], 0..64),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut bytes = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            match p {
                0 => bytes.extend_from_slice(format!("--{boundary}").as_bytes()),
                1 => bytes.extend_from_slice(b"\r\n"),
                2 => bytes.extend_from_slice(b"Content-Disposition: form-data; name=\"m\"\r\n"),
                3 => bytes.extend_from_slice(b"--"),
                _ => bytes.push(noise.get(i % noise.len().max(1)).copied().unwrap_or(b'x')),
            }
        }
        let chunks = split(&bytes, &cuts);
        let largest = chunks.iter().map(|c| c.len()).max().unwrap_or(0);
        let (_, held) = parse(&boundary, LIMITS, &chunks);
        prop_assert!(held <= largest + LIMITS.part_header + boundary.len() + 8);
    }

    /// What a client builds is read back exactly, however it is split.
    #[test]
    fn well_formed_bodies_round_trip(
        bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        // A boundary the bodies cannot contain (they are short, it is random-looking).
        let boundary = "----sealscribe-7f3a9c1e5b2d4086";
        let named: Vec<(String, Vec<u8>)> =
            bodies.iter().enumerate().map(|(i, b)| (format!("p{i}"), b.clone())).collect();
        let spec: Vec<(&str, Option<&str>, &[u8])> =
            named.iter().map(|(n, b)| (n.as_str(), None, &b[..])).collect();
        let body = form(boundary, &spec);
        let (parts, _) = parse(boundary, LIMITS, &split(&body, &cuts));
        let parts = parts.unwrap();
        prop_assert_eq!(parts.len(), named.len());
        for ((head, data), (name, want)) in parts.iter().zip(&named) {
            prop_assert_eq!(head.name.as_deref(), Some(name.as_str()));
            prop_assert_eq!(data, want);
        }
    }
}
