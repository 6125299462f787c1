//! Behaviour of the sealed-stream format, push API and io adapters.

use std::io::{self, Read, Write};

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use sealscribe_seal::{
    CHUNK_SIZE, HEADER_LEN, MAGIC, OpenReader, Opener, SEALED_CHUNK_SIZE, SealError, SealKey,
    SealWriter, Sealer, TAG_LEN, sealed_len,
};
use sealscribe_testkit::Rng;

/// Splits `data` into pieces of random size in `1..=max`.
fn pieces<'a>(data: &'a [u8], rng: &mut Rng, max: usize) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = (1 + rng.index(max)).min(rest.len());
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

fn seal(key: &SealKey, data: &[u8], rng: &mut Rng, max_piece: usize) -> Vec<u8> {
    let (mut sealer, mut out) = Sealer::new(key);
    for p in pieces(data, rng, max_piece) {
        sealer.push(p, &mut out);
        assert!(sealer.buffered() < CHUNK_SIZE);
    }
    sealer.finish(&mut out);
    out
}

/// Opens `sealed` pushed in random pieces; returns the plaintext released
/// and the first error.
fn open(
    key: &SealKey,
    sealed: &[u8],
    rng: &mut Rng,
    max_piece: usize,
) -> (Vec<u8>, Result<(), SealError>) {
    let mut opener = Opener::new(key);
    let mut out = Vec::new();
    for p in pieces(sealed, rng, max_piece) {
        if let Err(e) = opener.push(p, &mut out) {
            return (out, Err(e));
        }
        assert!(opener.buffered() <= SEALED_CHUNK_SIZE);
    }
    let r = opener.finish(&mut out);
    (out, r)
}

/// Opens `sealed` both in one push and in random pieces; both must agree.
fn open_both(key: &SealKey, sealed: &[u8], seed: u64) -> (Vec<u8>, Result<(), SealError>) {
    let whole = open(key, sealed, &mut Rng(seed), usize::MAX - 1);
    let split = open(key, sealed, &mut Rng(seed), 40_000);
    assert_eq!(whole.1, split.1);
    assert_eq!(whole.0, split.0);
    whole
}

fn chunk_start(i: usize) -> usize {
    HEADER_LEN + i * SEALED_CHUNK_SIZE
}

fn key_bytes(key: &SealKey) -> Vec<u8> {
    hex::decode(key.to_hex()).unwrap()
}

fn spec_nonce(prefix: &[u8], counter: u32, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(prefix);
    n[7..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

/// Independent encoder written from the format description, with a chosen
/// final chunk size (which may be a full 64 KiB).
fn spec_seal(key: &SealKey, prefix: [u8; 7], chunks: &[&[u8]]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key_bytes(key)));
    let mut out = b"SSSEAL1\0".to_vec();
    out.extend_from_slice(&prefix);
    for (i, c) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let mut buf = c.to_vec();
        let nonce = spec_nonce(&prefix, i as u32, last);
        let tag = cipher
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), b"", &mut buf)
            .unwrap();
        out.extend_from_slice(&buf);
        out.extend_from_slice(&tag);
    }
    out
}

const SIZES: [usize; 7] = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    3 * CHUNK_SIZE,
    3 * CHUNK_SIZE + 500,
];

#[test]
fn round_trips_edge_sizes() {
    let key = SealKey::generate();
    let mut rng = Rng(1);
    for n in SIZES {
        let data = rng.bytes(n);
        for max_piece in [usize::MAX - 1, 1 + n / 3, 7_777] {
            let sealed = seal(&key, &data, &mut rng, max_piece);
            assert_eq!(sealed.len() as u64, sealed_len(n as u64), "size {n}");
            assert_eq!(sealed[..8], MAGIC);
            for open_piece in [usize::MAX - 1, 1 + rng.index(100_000), 13] {
                let (out, r) = open(&key, &sealed, &mut rng, open_piece);
                r.unwrap_or_else(|e| panic!("size {n}: {e}"));
                assert!(out == data, "size {n}");
            }
        }
    }
    // An empty input is the header plus one empty final chunk.
    assert_eq!(sealed_len(0), (HEADER_LEN + TAG_LEN) as u64);
}

#[test]
fn round_trips_megabytes_with_random_chunking() {
    let key = SealKey::generate();
    for seed in 1..=3u64 {
        let mut rng = Rng(seed * 7919);
        let n = 3_000_000 + rng.index(CHUNK_SIZE * 2);
        let data = rng.bytes(n);
        let sealed = seal(&key, &data, &mut rng, 300_000);
        assert_eq!(sealed.len() as u64, sealed_len(n as u64));
        let (out, r) = open(&key, &sealed, &mut rng, 300_000);
        r.unwrap();
        assert!(out == data);
    }
}

#[test]
fn sealer_output_matches_the_specified_format() {
    let key = SealKey::generate();
    let mut rng = Rng(5);
    let data = rng.bytes(2 * CHUNK_SIZE + 10);
    let sealed = seal(&key, &data, &mut rng, 50_000);
    let prefix = &sealed[8..HEADER_LEN];
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key_bytes(&key)));
    let mut plain = Vec::new();
    let mut rest = &sealed[HEADER_LEN..];
    for i in 0..3u32 {
        let take = rest.len().min(SEALED_CHUNK_SIZE);
        let (chunk, tail) = rest.split_at(take);
        let (ct, tag) = chunk.split_at(take - TAG_LEN);
        let mut buf = ct.to_vec();
        let nonce = spec_nonce(prefix, i, i == 2);
        cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                b"",
                &mut buf,
                Tag::from_slice(tag),
            )
            .unwrap();
        plain.extend_from_slice(&buf);
        rest = tail;
    }
    assert!(rest.is_empty());
    assert_eq!(plain, data);
}

#[test]
fn opener_accepts_independent_encoder_including_full_final_chunk() {
    let key = SealKey::generate();
    let mut rng = Rng(6);
    let a = rng.bytes(CHUNK_SIZE);
    let b = rng.bytes(CHUNK_SIZE);
    let short = rng.bytes(123);
    for chunks in [
        vec![&a[..], &b[..]],
        vec![&a[..], &short[..]],
        vec![&a[..]],
        vec![&short[..]],
        vec![&[][..]],
    ] {
        let sealed = spec_seal(&key, [9, 8, 7, 6, 5, 4, 3], &chunks);
        let (out, r) = open_both(&key, &sealed, 3);
        r.unwrap();
        assert_eq!(out, chunks.concat());
    }
}

#[test]
fn same_key_and_plaintext_give_different_seals() {
    let key = SealKey::generate();
    let mut rng = Rng(2);
    let data = rng.bytes(1000);
    let a = seal(&key, &data, &mut rng, usize::MAX - 1);
    let b = seal(&key, &data, &mut rng, usize::MAX - 1);
    assert_ne!(a, b);
}

/// 3 full chunks and a 500-byte final chunk.
fn four_chunk_stream(key: &SealKey) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng(42);
    let data = rng.bytes(3 * CHUNK_SIZE + 500);
    let sealed = seal(key, &data, &mut rng, 100_000);
    assert_eq!(sealed.len(), chunk_start(3) + 500 + TAG_LEN);
    (data, sealed)
}

#[test]
fn bit_flips_are_detected_and_release_nothing_of_the_chunk() {
    let key = SealKey::generate();
    let (data, sealed) = four_chunk_stream(&key);

    // Header: magic and nonce prefix, every bit.
    for pos in 0..HEADER_LEN {
        for bit in 0..8 {
            let mut t = sealed.clone();
            t[pos] ^= 1 << bit;
            let (out, r) = open_both(&key, &t, pos as u64);
            let want = if pos < MAGIC.len() {
                SealError::BadHeader
            } else {
                SealError::Authentication
            };
            assert_eq!(r, Err(want), "header byte {pos}");
            assert!(out.is_empty());
        }
    }

    // Chunks: first, middle and last ciphertext byte, and every tag byte.
    for chunk in 0..4 {
        let start = chunk_start(chunk);
        let end = if chunk == 3 {
            sealed.len()
        } else {
            chunk_start(chunk + 1)
        };
        let tag_start = end - TAG_LEN;
        let mut positions = vec![start, (start + tag_start) / 2, tag_start - 1];
        positions.extend(tag_start..end);
        for pos in positions {
            let mut t = sealed.clone();
            t[pos] ^= 1 << (pos % 8);
            let (out, r) = open_both(&key, &t, pos as u64);
            assert_eq!(
                r,
                Err(SealError::Authentication),
                "chunk {chunk} byte {pos}"
            );
            // Exactly the chunks before the tampered one were released.
            assert!(
                out == data[..chunk * CHUNK_SIZE],
                "chunk {chunk} byte {pos}"
            );
        }
    }
}

#[test]
fn truncation_anywhere_is_detected() {
    let key = SealKey::generate();
    let (data, sealed) = four_chunk_stream(&key);
    let mut cuts: Vec<usize> = (0..=HEADER_LEN).collect();
    for chunk in 0..4 {
        let s = chunk_start(chunk);
        cuts.extend([s, s + 1, s + TAG_LEN - 1, s + TAG_LEN, s + 30_000]);
        if chunk < 3 {
            let e = chunk_start(chunk + 1);
            cuts.extend([e - TAG_LEN - 1, e - TAG_LEN, e - 1]);
        }
    }
    cuts.extend([sealed.len() - TAG_LEN, sealed.len() - 1]);
    cuts.retain(|&c| c < sealed.len());
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        let t = &sealed[..cut];
        let (out, r) = open_both(&key, t, cut as u64);
        assert!(r.is_err(), "cut at {cut} accepted");
        let complete = cut.saturating_sub(HEADER_LEN) / SEALED_CHUNK_SIZE;
        assert!(out.len() <= complete * CHUNK_SIZE, "cut at {cut}");
        assert!(out == data[..out.len()]);
        let on_boundary = cut >= HEADER_LEN && (cut - HEADER_LEN).is_multiple_of(SEALED_CHUNK_SIZE);
        if cut <= HEADER_LEN || on_boundary {
            assert_eq!(r, Err(SealError::Truncated), "cut at {cut}");
        }
    }
}

#[test]
fn reordered_duplicated_or_dropped_chunks_are_detected() {
    let key = SealKey::generate();
    let (data, sealed) = four_chunk_stream(&key);
    let chunks: Vec<&[u8]> = (0..4)
        .map(|i| {
            let end = if i == 3 {
                sealed.len()
            } else {
                chunk_start(i + 1)
            };
            &sealed[chunk_start(i)..end]
        })
        .collect();
    let header = &sealed[..HEADER_LEN];
    // (order, index of the first chunk that is out of place)
    let cases: [(&[usize], usize); 7] = [
        (&[1, 0, 2, 3], 0),
        (&[0, 2, 1, 3], 1),
        (&[0, 1, 3, 2], 2),
        (&[3, 0, 1, 2], 0),
        (&[0, 0, 1, 2, 3], 1),
        (&[0, 2, 3], 1),
        (&[0, 1, 2, 2, 3], 3),
    ];
    for (order, first_bad) in cases {
        let mut t = header.to_vec();
        for &i in order {
            t.extend_from_slice(chunks[i]);
        }
        let (out, r) = open_both(&key, &t, 1);
        assert!(r.is_err(), "{order:?} accepted");
        assert!(out == data[..first_bad * CHUNK_SIZE], "{order:?}");
    }

    // Chunks spliced from another stream under the same key.
    let (_, other) = four_chunk_stream(&key);
    let mut t = sealed[..chunk_start(1)].to_vec();
    t.extend_from_slice(&other[chunk_start(1)..]);
    let (out, r) = open_both(&key, &t, 2);
    assert_eq!(r, Err(SealError::Authentication));
    assert!(out == data[..CHUNK_SIZE]);
}

#[test]
fn wrong_key_is_detected() {
    let key = SealKey::generate();
    let other = SealKey::generate();
    for n in SIZES {
        let data = Rng(n as u64 + 1).bytes(n);
        let sealed = seal(&key, &data, &mut Rng(3), usize::MAX - 1);
        let (out, r) = open_both(&other, &sealed, 4);
        assert_eq!(r, Err(SealError::Authentication), "size {n}");
        assert!(out.is_empty());
    }
}

#[test]
fn trailing_data_is_detected() {
    let key = SealKey::generate();
    for n in [0, 100, CHUNK_SIZE, 3 * CHUNK_SIZE, 3 * CHUNK_SIZE + 500] {
        let data = Rng(n as u64 + 9).bytes(n);
        let sealed = seal(&key, &data, &mut Rng(3), usize::MAX - 1);
        let final_start = HEADER_LEN + (n / CHUNK_SIZE) * SEALED_CHUNK_SIZE;
        let final_chunk = sealed[final_start..].to_vec();
        let mut whole_again = sealed.clone();
        whole_again.extend_from_slice(&sealed);
        for extra in [
            vec![0u8],
            vec![0xFF; 100],
            final_chunk.clone(),
            vec![0; SEALED_CHUNK_SIZE + 5],
            sealed.clone(),
        ] {
            let mut t = sealed.clone();
            t.extend_from_slice(&extra);
            let (out, r) = open_both(&key, &t, extra.len() as u64);
            assert!(r.is_err(), "size {n} + {} bytes accepted", extra.len());
            // The final chunk's plaintext is never released.
            assert!(out.len() <= (n / CHUNK_SIZE) * CHUNK_SIZE);
            assert!(out == data[..out.len()]);
            if n.is_multiple_of(CHUNK_SIZE) {
                // Empty final chunk: recognised precisely.
                assert_eq!(r, Err(SealError::TrailingData), "size {n}");
            }
        }
    }

    // A full-size final chunk (allowed by the format) followed by bytes.
    let a = Rng(1).bytes(CHUNK_SIZE);
    let b = Rng(2).bytes(CHUNK_SIZE);
    let mut t = spec_seal(&key, [1; 7], &[&a, &b]);
    t.push(0);
    let (out, r) = open_both(&key, &t, 5);
    assert_eq!(r, Err(SealError::TrailingData));
    assert!(out == a);
}

#[test]
fn opener_stays_failed_after_an_error() {
    let key = SealKey::generate();
    let (_, mut sealed) = four_chunk_stream(&key);
    sealed[chunk_start(0) + 5] ^= 1;
    let mut opener = Opener::new(&key);
    let mut out = Vec::new();
    assert_eq!(
        opener.push(&sealed[..chunk_start(1) + 1], &mut out),
        Err(SealError::Authentication)
    );
    assert_eq!(
        opener.push(&sealed[chunk_start(1) + 1..], &mut out),
        Err(SealError::Authentication)
    );
    assert_eq!(opener.finish(&mut out), Err(SealError::Authentication));
    assert!(out.is_empty());
}

#[test]
fn bad_header_is_reported_early() {
    let key = SealKey::generate();
    let mut opener = Opener::new(&key);
    let mut out = Vec::new();
    assert_eq!(opener.push(b"SSX", &mut out), Err(SealError::BadHeader));
    let (out, r) = open_both(&key, b"not a sealed stream at all, just bytes", 1);
    assert_eq!(r, Err(SealError::BadHeader));
    assert!(out.is_empty());
}

/// A writer that accepts at most `limit` bytes per call.
struct Trickle {
    out: Vec<u8>,
    limit: usize,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.limit);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader that returns at most `limit` bytes per call.
struct Drip<'a> {
    data: &'a [u8],
    limit: usize,
}

impl Read for Drip<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.len().min(buf.len()).min(self.limit);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn io_adapters_round_trip() {
    let key = SealKey::generate();
    let mut rng = Rng(77);
    for n in SIZES.into_iter().chain([1_234_567]) {
        let data = rng.bytes(n);
        let mut w = SealWriter::new(
            Trickle {
                out: Vec::new(),
                limit: 1 + rng.index(70_000),
            },
            &key,
        );
        for p in pieces(&data, &mut rng, 100_000) {
            w.write_all(p).unwrap();
        }
        w.flush().unwrap();
        let sealed = w.finish().unwrap().out;
        assert_eq!(sealed.len() as u64, sealed_len(n as u64));

        let mut r = OpenReader::new(
            Drip {
                data: &sealed,
                limit: 1 + rng.index(100_000),
            },
            &key,
        );
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert!(out == data, "size {n}");
        // Sealed by the push API, opened by the reader, and vice versa.
        let (pushed, res) = open(&key, &sealed, &mut rng, 50_000);
        res.unwrap();
        assert!(pushed == data);
    }
}

fn read_all(key: &SealKey, sealed: &[u8]) -> (Vec<u8>, io::Error) {
    let mut r = OpenReader::new(
        Drip {
            data: sealed,
            limit: 10_000,
        },
        key,
    );
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => panic!("corrupt stream read to the end"),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => {
                // The error sticks.
                assert_eq!(r.read(&mut buf).unwrap_err().kind(), e.kind());
                return (out, e);
            }
        }
    }
}

#[test]
fn open_reader_reports_invalid_data() {
    let key = SealKey::generate();
    let (data, sealed) = four_chunk_stream(&key);
    let seal_error = |e: &io::Error| {
        *e.get_ref()
            .and_then(|e| e.downcast_ref::<SealError>())
            .expect("wraps a SealError")
    };

    let mut tampered = sealed.clone();
    tampered[chunk_start(2) + 100] ^= 4;
    let (out, e) = read_all(&key, &tampered);
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(seal_error(&e), SealError::Authentication);
    assert!(out == data[..2 * CHUNK_SIZE]);

    let (out, e) = read_all(&key, &sealed[..chunk_start(3)]);
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert_eq!(seal_error(&e), SealError::Truncated);
    // The last complete chunk is held back until the stream's end is known.
    assert!(out == data[..2 * CHUNK_SIZE]);

    let (out, e) = read_all(&key, &sealed[..sealed.len() - 1]);
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(out == data[..3 * CHUNK_SIZE]);

    let (out, e) = read_all(&SealKey::generate(), &sealed);
    assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    assert!(out.is_empty());

    let (_, e) = read_all(&key, b"");
    assert_eq!(seal_error(&e), SealError::Truncated);
    let (_, e) = read_all(&key, b"GIF89a.........");
    assert_eq!(seal_error(&e), SealError::BadHeader);
}

#[test]
fn dropping_a_seal_writer_without_finish_leaves_an_unopenable_stream() {
    let key = SealKey::generate();
    let mut sink = Vec::new();
    {
        let mut w = SealWriter::new(&mut sink, &key);
        w.write_all(&[7u8; 3 * CHUNK_SIZE + 10]).unwrap();
        w.flush().unwrap();
    }
    let (_, r) = open_both(&key, &sink, 1);
    assert_eq!(r, Err(SealError::Truncated));
}

#[test]
fn key_hex_round_trip_and_validation() {
    let key = SealKey::generate();
    let hex = key.to_hex();
    assert_eq!(hex.len(), 64);
    // Written into its final buffer (zeroized on drop): no reallocation
    // left a copy behind.
    assert_eq!(hex.capacity(), 64);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        hex.as_str(),
        hex::encode(hex::decode(hex.as_str()).unwrap())
    );
    let again = SealKey::from_hex(&hex).unwrap();
    assert_eq!(again.to_hex(), hex);
    assert_eq!(
        SealKey::from_hex(&hex.to_uppercase()).unwrap().to_hex(),
        hex
    );
    assert_ne!(SealKey::generate().to_hex(), hex);

    // A key restored from the database opens what the original sealed.
    let sealed = seal(&key, b"hello", &mut Rng(1), 2);
    let (out, r) = open_both(&again, &sealed, 1);
    r.unwrap();
    assert_eq!(out, b"hello");

    for bad in [
        "",
        "00",
        &hex[..63],
        &format!("{}00", hex.as_str()),
        &hex.replace(|_| true, "g"),
    ] {
        assert_eq!(SealKey::from_hex(bad).unwrap_err(), SealError::BadKey);
    }
}

#[test]
fn nothing_prints_key_bytes() {
    let key = SealKey::generate();
    let hex = key.to_hex();
    let debug = format!("{key:?}");
    assert_eq!(debug, "SealKey(…)");
    for e in [
        SealError::BadHeader,
        SealError::Authentication,
        SealError::Truncated,
        SealError::TrailingData,
        SealError::BadKey,
    ] {
        let msg = e.to_string();
        assert!(!msg.is_empty());
        assert!(!msg.contains(&hex[..8]));
    }
}
