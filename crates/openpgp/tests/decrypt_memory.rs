//! Decryption streams: a 64 MiB message decrypts with flat memory.
//!
//! Alone in its own test binary (one test, one process), so that the peak RSS (`VmHWM`) is
//! this decryption's: the peak is reset through `/proc/self/clear_refs` just before
//! decrypting, and the growth over the resident size at that point is what decrypting cost.
//! A control allocation of the input's size shows that the measurement does see growth.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
};

use chrono::Utc;
use sealscribe_openpgp::{
    EncryptOptions, Recipient, SecretKey, decrypt, encrypt, testing::GpgHome,
};
use sealscribe_testkit::Rng;
use sealscribe_testkit::proc::status_kib;
use sha2::{Digest, Sha256};

const SIZE: u64 = 64 << 20;

/// Deterministic pseudo-random bytes, half of each 4 KiB block zero so that gpg's ZLIB has
/// something to compress. One byte per draw, so the stream does not depend on read sizes.
struct Pattern {
    rng: Rng,
    left: u64,
    pos: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            let x = self.rng.next_u64() as u8;
            *b = if self.pos % 4096 < 2048 { x } else { 0 };
            self.pos += 1;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn pattern() -> Pattern {
    Pattern {
        rng: Rng(0x9E37_79B9_7F4A_7C15),
        left: SIZE,
        pos: 0,
    }
}

struct HashSink(Sha256, u64);

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Resets the peak RSS to the current RSS and returns the baseline to measure growth from
/// (KiB). Where `/proc/self/clear_refs` cannot be written, the peak so far is the baseline:
/// still sound (`VmHWM` only grows), as long as nothing bigger ran before — which is why the
/// control allocation runs last.
fn reset_peak() -> u64 {
    match std::fs::write("/proc/self/clear_refs", "5") {
        Ok(()) => status_kib("self", "VmRSS"),
        Err(e) => {
            println!("cannot reset VmHWM ({e}); measuring growth over the peak so far");
            status_kib("self", "VmHWM")
        }
    }
}

/// Peak RSS growth in KiB while running `f`.
fn peak_growth<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = reset_peak();
    let out = f();
    let peak = status_kib("self", "VmHWM");
    (out, peak.saturating_sub(before))
}

#[test]
fn big_messages_decrypt_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Big <big@example.com>");
    let key = SecretKey::from_bytes(&home.export_secret(&fpr)).unwrap();
    let cert = home.export_public(&fpr, false);

    let expected: [u8; 32] = {
        let mut sink = HashSink(Sha256::new(), 0);
        std::io::copy(&mut pattern(), &mut sink).unwrap();
        sink.0.finalize().into()
    };

    // Ours: uncompressed SEIPD v1, binary.
    let ours = dir.path().join("ours.pgp");
    let recipient = Recipient::from_bytes(&cert, Utc::now()).unwrap();
    encrypt(
        &recipient,
        pattern(),
        BufWriter::new(File::create(&ours).unwrap()),
        EncryptOptions::binary(),
    )
    .unwrap();
    // gpg's default: ZLIB-compressed, and armored for good measure.
    let plain = dir.path().join("plain.bin");
    std::io::copy(&mut pattern(), &mut File::create(&plain).unwrap()).unwrap();
    let gpgs = dir.path().join("gpg.asc");
    home.encrypt_file(&fpr, &plain, &gpgs, &["--armor"]);
    std::fs::remove_file(&plain).unwrap();
    assert!(
        home.list_packets(&std::fs::read(&gpgs).unwrap())
            .contains("compressed packet")
    );

    for (what, path) in [("ours, binary", &ours), ("gpg, zlib, armored", &gpgs)] {
        let input = BufReader::new(File::open(path).unwrap());
        let (sink, growth) = peak_growth(|| {
            let mut sink = HashSink(Sha256::new(), 0);
            decrypt(&key, None, input, &mut sink).unwrap();
            sink
        });
        println!(
            "{what}: {} MiB message, peak RSS growth while decrypting: {} KiB",
            std::fs::metadata(path).unwrap().len() >> 20,
            growth
        );
        assert_eq!(sink.1, SIZE, "{what}: size");
        let got: [u8; 32] = sink.0.finalize().into();
        assert_eq!(got, expected, "{what}: plaintext differs");
        // A non-streaming decryption holds at least the 64 MiB plaintext; ours stays under
        // 16 MiB (buffers, key, allocator slack).
        assert!(growth < 16 << 10, "{what}: peak grew by {growth} KiB");
    }

    // The measurement sees an allocation of the input's size.
    let (_, control) = peak_growth(|| {
        let v = vec![1u8; SIZE as usize];
        std::hint::black_box(&v);
        v.iter().map(|&b| b as u64).sum::<u64>()
    });
    println!(
        "control: a {} MiB Vec grows the peak by {} MiB",
        SIZE >> 20,
        control >> 10
    );
    assert!(
        control >= (SIZE >> 10) * 9 / 10,
        "control growth {control} KiB"
    );
}
