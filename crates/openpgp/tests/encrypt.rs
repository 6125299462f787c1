//! `encrypt` round-trips through the real `gpg --decrypt` (GnuPG 2.2) and `sq decrypt`,
//! and the packet structure is what GnuPG 2.2 needs: PKESK per encryption subkey, SEIPD v1
//! with MDC, AES-256, no compression.

use std::io::{self, Read, Write};

use chrono::{TimeDelta, Utc};
use rand::RngCore as _;
use sealscribe_openpgp::{
    EncryptError, EncryptOptions, Encryptor, KeyError, Piece, Recipient, encrypt,
    testing::{GpgHome, sq_decrypt, sq_generate_key},
};

fn random(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut v);
    v
}

fn seal(recipient: &Recipient, plain: &[u8], armor: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = EncryptOptions { armor };
    let n = encrypt(recipient, plain, &mut out, opts).expect("encrypt");
    assert_eq!(n, plain.len() as u64);
    out
}

/// Splits binary OpenPGP data into (tag, first body octet) pairs for the top-level packets,
/// following partial lengths. Independent of the crate's own parser.
fn top_level_packets(data: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let b0 = data[pos];
        assert!(b0 & 0x80 != 0, "not a packet at {pos}");
        let (tag, mut p) = if b0 & 0x40 != 0 {
            (b0 & 0x3f, pos + 1)
        } else {
            ((b0 >> 2) & 0x0f, pos + 1)
        };
        let mut first = None;
        if b0 & 0x40 == 0 {
            let n = [1usize, 2, 4][usize::from(b0 & 3)];
            let len = data[p..p + n]
                .iter()
                .fold(0usize, |a, &b| (a << 8) | usize::from(b));
            first = Some(data[p + n]);
            pos = p + n + len;
        } else {
            loop {
                let l0 = data[p];
                let (len, hdr, partial) = match l0 {
                    0..=191 => (usize::from(l0), 1, false),
                    192..=223 => (
                        ((usize::from(l0) - 192) << 8) + usize::from(data[p + 1]) + 192,
                        2,
                        false,
                    ),
                    255 => (
                        u32::from_be_bytes(data[p + 1..p + 5].try_into().unwrap()) as usize,
                        5,
                        false,
                    ),
                    _ => (1usize << (l0 & 0x1f), 1, true),
                };
                if first.is_none() && len > 0 {
                    first = Some(data[p + hdr]);
                }
                p += hdr + len;
                if !partial {
                    break;
                }
            }
            pos = p;
        }
        out.push((tag, first.unwrap_or(0)));
    }
    assert_eq!(pos, data.len());
    out
}

fn check_structure(home: &GpgHome, ciphertext: &[u8], expected_pkesks: usize) {
    let packets = top_level_packets(ciphertext);
    let pkesks = packets.iter().filter(|(t, _)| *t == 1).count();
    assert_eq!(pkesks, expected_pkesks, "{packets:?}");
    // Exactly: PKESK v3 …, then one SEIPD (tag 18) version 1.
    assert!(
        packets[..pkesks].iter().all(|&(t, v)| t == 1 && v == 3),
        "{packets:?}"
    );
    assert_eq!(packets[pkesks..], [(18, 1)], "{packets:?}");

    let listing = home.list_packets(ciphertext);
    assert_eq!(
        listing.matches(":pubkey enc packet: version 3").count(),
        expected_pkesks
    );
    assert!(listing.contains(":encrypted data packet:"), "{listing}");
    assert!(listing.contains("mdc_method: 2"), "no MDC: {listing}");
    assert!(!listing.contains(":aead encrypted packet:"), "{listing}");
    assert!(
        !listing.contains("compressed packet"),
        "compressed: {listing}"
    );
    assert!(listing.contains(":literal data packet:"), "{listing}");

    let (_, stderr) = home.decrypt_verbose(ciphertext);
    assert!(stderr.contains("session key: '9:"), "not AES-256: {stderr}");
}

fn round_trip(home: &GpgHome, fpr: &str, expected_pkesks: usize) {
    let secret = home.export_secret(fpr);
    let recipient = Recipient::from_bytes(&home.export_public(fpr, true), Utc::now()).unwrap();
    assert_eq!(recipient.fingerprint(), fpr);
    let inputs = [
        Vec::new(),
        b"hello, world\n".to_vec(),
        random(5 * 1024 * 1024 + 17),
    ];
    for plain in &inputs {
        for armor in [false, true] {
            let ct = seal(&recipient, plain, armor);
            if armor {
                assert!(ct.starts_with(b"-----BEGIN PGP MESSAGE-----"));
            } else {
                assert!(ct[0] & 0x80 != 0, "binary output expected");
            }
            assert_eq!(
                &home.decrypt(&ct),
                plain,
                "gpg, armor={armor}, len={}",
                plain.len()
            );
            assert_eq!(
                &sq_decrypt(&secret, &ct),
                plain,
                "sq, armor={armor}, len={}",
                plain.len()
            );
            if !armor && plain.len() < 100 {
                check_structure(home, &ct, expected_pkesks);
            }
        }
    }
    // Big input: structure holds with partial-length chunks too.
    let ct = seal(&recipient, &inputs[2], false);
    check_structure(home, &ct, expected_pkesks);
}

#[test]
fn round_trip_rsa_and_rsa() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Rsa <rsa@example.com>");
    round_trip(&home, &fpr, 1);
}

#[test]
fn round_trip_future_default() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Ed <ed@example.com>");
    round_trip(&home, &fpr, 1);
}

#[test]
fn encrypts_to_every_valid_encryption_subkey() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Both <both@example.com>");
    home.add_encryption_subkey(&fpr, "cv25519");
    let recipient = Recipient::from_bytes(&home.export_public(&fpr, false), Utc::now()).unwrap();
    let plain = random(100_000);
    let ct = seal(&recipient, &plain, false);
    check_structure(&home, &ct, 2);
    assert_eq!(home.decrypt(&ct), plain);

    // Each subkey alone decrypts it: a keyring holding only one secret subkey
    // (`gpg --export-secret-subkeys FPR!`) must open the message.
    for sub in home.subkey_fingerprints(&fpr) {
        let only = home.gpg(&["--export-secret-subkeys", &format!("{sub}!")], b"");
        let other = GpgHome::new();
        other.gpg(&["--import"], &only);
        assert_eq!(other.decrypt(&ct), plain, "subkey {sub} alone");
    }
}

#[test]
fn round_trip_sq_key() {
    let key = sq_generate_key("Sq <sq@example.com>");
    let recipient = Recipient::from_bytes(&key.public, Utc::now()).unwrap();
    let plain = random(300_000);
    for armor in [false, true] {
        let ct = seal(&recipient, &plain, armor);
        assert_eq!(sq_decrypt(&key.secret, &ct), plain);
        let home = GpgHome::new();
        home.gpg(&["--import"], &key.secret);
        assert_eq!(home.decrypt(&ct), plain);
    }
}

#[test]
fn recipient_checks_validity_like_inspect() {
    let home = GpgHome::new();
    let fpr = home.gen_expiring_in_days("Short <short@example.com>", 5);
    let key = home.export_public(&fpr, true);
    assert!(Recipient::from_bytes(&key, Utc::now()).is_ok());
    let later = Utc::now() + TimeDelta::days(6);
    assert!(matches!(
        Recipient::from_bytes(&key, later),
        Err(KeyError::Expired { .. })
    ));
    let sign_only = home.gen_sign_only("Sign <sign@example.com>");
    let err = Recipient::from_bytes(&home.export_public(&sign_only, true), Utc::now()).unwrap_err();
    assert!(matches!(err, KeyError::NoEncryptionKey { .. }));
}

#[test]
fn literal_packet_is_binary_and_unnamed() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Name <name@example.com>");
    let recipient = Recipient::from_bytes(&home.export_public(&fpr, true), Utc::now()).unwrap();
    let mut out = Vec::new();
    encrypt(&recipient, &b"{}"[..], &mut out, EncryptOptions::armored()).unwrap();
    let listing = home.list_packets(&out);
    // Binary mode: the bytes are delivered unchanged (no line-ending conversion).
    assert!(listing.contains("mode b (62)"), "{listing}");
    assert!(listing.contains("name=\"\""), "{listing}");
}

struct FailingReader {
    left: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(7);
        self.left -= n;
        Ok(n)
    }
}

struct FailingWriter {
    room: usize,
}

impl Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "bucket full"));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn io_errors_are_attributed() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Io <io@example.com>");
    let recipient = Recipient::from_bytes(&home.export_public(&fpr, true), Utc::now()).unwrap();
    let err = encrypt(
        &recipient,
        FailingReader { left: 3_000_000 },
        io::sink(),
        EncryptOptions::binary(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, EncryptError::Read(e) if e.to_string() == "disk on fire"),
        "{err:?}"
    );
    let err = encrypt(
        &recipient,
        &random(3_000_000)[..],
        FailingWriter { room: 1_000_000 },
        EncryptOptions::binary(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, EncryptError::Write(e) if e.kind() == io::ErrorKind::StorageFull),
        "{err:?}"
    );
}

/// Hands out the plaintext in uneven reads, so that the SEIPD writer's chunking sees
/// batches that are not powers of two and bytes held back between them.
struct Uneven<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Uneven<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.step = (self.step * 7 + 13) % 70_001;
        let n = self.step.max(1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Our own SEIPD v1 writer at the partial-length boundaries (512 is the smallest chunk),
/// read by gpg, sq and this crate's decryptor, with a key of two encryption subkeys.
#[test]
fn seipd_writer_sizes_decrypt_everywhere() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Sizes <sizes@example.com>");
    home.add_encryption_subkey(&fpr, "cv25519");
    let secret = home.export_secret(&fpr);
    let ours = sealscribe_openpgp::SecretKey::from_bytes(&secret).unwrap();
    let recipient = Recipient::from_bytes(&home.export_public(&fpr, false), Utc::now()).unwrap();
    let sizes = [
        0,
        1,
        511,
        512,
        513,
        65_535,
        65_536,
        65_537,
        3 * 1024 * 1024 + 5,
    ];
    for len in sizes {
        let plain = random(len);
        for uneven in [false, true] {
            let mut ct = Vec::new();
            let n = if uneven {
                let input = Uneven {
                    data: &plain,
                    step: len,
                };
                encrypt(&recipient, input, &mut ct, EncryptOptions::binary())
            } else {
                encrypt(&recipient, &plain[..], &mut ct, EncryptOptions::binary())
            }
            .expect("encrypt");
            assert_eq!(n, len as u64);
            check_structure_quick(&ct, 2);
            assert_eq!(home.decrypt(&ct), plain, "gpg, len={len}, uneven={uneven}");
            assert_eq!(
                sq_decrypt(&secret, &ct),
                plain,
                "sq, len={len}, uneven={uneven}"
            );
            let mut back = Vec::new();
            sealscribe_openpgp::decrypt(&ours, None, &ct[..], &mut back).expect("our decrypt");
            assert_eq!(back, plain, "ours, len={len}, uneven={uneven}");
        }
    }
}

/// The push-style [`Encryptor`]: batches of uneven sizes (empty, below and above the
/// smallest chunk, not powers of two) are encrypted in place; the message is the pieces in
/// order, and all but a few hundred bytes per batch are ranges of the batch itself.
#[test]
fn encryptor_hands_on_the_batches_themselves() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Batches <batches@example.com>");
    let secret = home.export_secret(&fpr);
    let ours = sealscribe_openpgp::SecretKey::from_bytes(&secret).unwrap();
    let recipient = Recipient::from_bytes(&home.export_public(&fpr, false), Utc::now()).unwrap();
    let batches = [
        0, 1, 300, 511, 512, 513, 262_144, 70_001, 0, 262_144, 5, 1_000_000,
    ];
    let plain = random(batches.iter().sum());
    let (mut encryptor, mut ct) = Encryptor::new(&recipient).expect("start");
    let mut at = 0;
    for len in batches {
        let mut batch = plain[at..at + len].to_vec();
        at += len;
        let (mut own, mut from_batch) = (0, 0);
        let mut out = Vec::new();
        for piece in encryptor.encrypt(&mut batch) {
            match piece {
                Piece::Bytes(bytes) => {
                    own += bytes.len();
                    out.extend_from_slice(bytes);
                }
                Piece::Batch(range) => {
                    from_batch += range.len();
                    out.extend_from_slice(&batch[range]);
                }
            }
        }
        // Framing, and at most 512 bytes held back per packet and partial chunk, carried
        // to the next chunk: ~1 KiB for an upload's 256 KiB batches.
        let copied = 1100.max(len / 100);
        assert!(own <= copied, "batch of {len}: {own} bytes copied");
        assert!(
            from_batch + copied >= len,
            "batch of {len}: only {from_batch} in place"
        );
        ct.extend_from_slice(&out);
    }
    let (tail, n) = encryptor.finish();
    ct.extend_from_slice(&tail);
    assert_eq!(n, plain.len() as u64);
    check_structure_quick(&ct, 1);
    assert_eq!(home.decrypt(&ct), plain, "gpg");
    let mut back = Vec::new();
    sealscribe_openpgp::decrypt(&ours, None, &ct[..], &mut back).expect("our decrypt");
    assert_eq!(back, plain, "ours");
}

fn check_structure_quick(ciphertext: &[u8], expected_pkesks: usize) {
    let packets = top_level_packets(ciphertext);
    assert_eq!(
        packets,
        [vec![(1, 3); expected_pkesks], vec![(18, 1)]].concat()
    );
}
