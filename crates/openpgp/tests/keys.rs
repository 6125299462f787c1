//! `inspect` against real keys made by GnuPG 2.2, sq and openssl: what is accepted is
//! described correctly (cross-checked with `gpg --with-colons`), and every rejection has
//! the right kind and an actionable message without key bytes.

mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{assert_clean_message, assert_rejected};
use sealscribe_openpgp::{
    KeyError, KeyErrorKind, inspect,
    testing::{self, GpgHome},
};

/// A `pub` or `sub` record of `gpg --with-colons --list-keys`, with its fingerprint.
struct GpgKey {
    kind: String,
    bits: u32,
    algo: u32,
    created: i64,
    expires: Option<i64>,
    capabilities: String,
    fpr: String,
}

/// GnuPG's own view of `fpr`: the primary key first, then the subkeys.
fn colons(home: &GpgHome, fpr: &str) -> Vec<GpgKey> {
    let text = home.colons(fpr);
    let mut keys = Vec::new();
    let mut pending: Option<GpgKey> = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f[0] {
            "pub" | "sub" => {
                pending = Some(GpgKey {
                    kind: f[0].to_owned(),
                    bits: f[2].parse().unwrap(),
                    algo: f[3].parse().unwrap(),
                    created: f[5].parse().unwrap(),
                    expires: f[6].parse().ok(),
                    capabilities: f[11].to_owned(),
                    fpr: String::new(),
                });
            }
            "fpr" => {
                if let Some(mut k) = pending.take() {
                    k.fpr = f[9].to_owned();
                    keys.push(k);
                }
            }
            _ => {}
        }
    }
    keys
}

fn ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

#[test]
fn accepts_gpg_rsa_and_rsa_armored_and_binary() {
    let home = GpgHome::new();
    let uid = "Alice Example <alice@example.com>";
    let fpr = home.gen_rsa_and_rsa(uid);
    let c = colons(&home, &fpr);
    let (created, expires) = (c[0].created, c[0].expires);
    assert_eq!((c[0].bits, c[0].algo), (2048, 1));
    assert_eq!(c[0].fpr, fpr);
    let sub = &c[1];

    for armor in [true, false] {
        let key = home.export_public(&fpr, armor);
        let info = inspect(&key, Utc::now()).unwrap_or_else(|e| panic!("rejected: {e}"));
        assert_eq!(info.fingerprint, fpr);
        assert_eq!(info.fingerprint.len(), 40);
        assert_eq!(info.key_id, fpr[24..]);
        assert_eq!(info.algorithm, "RSA");
        assert_eq!(info.bits, 2048);
        assert_eq!(info.created, ts(created));
        assert_eq!(info.expires, expires.map(ts));
        assert!(info.expires.unwrap() - info.created >= TimeDelta::days(365));
        assert_eq!(info.user_ids, vec![uid.to_owned()]);
        assert_eq!(info.encryption_subkeys.len(), 1);
        let s = &info.encryption_subkeys[0];
        assert_eq!(s.fingerprint, sub.fpr);
        assert_eq!(s.algorithm, "RSA");
        assert_eq!(s.bits, 2048);
        assert_eq!(s.expires, sub.expires.map(ts));
        assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    }
}

#[test]
fn accepts_gpg_default_key() {
    // What `gpg --quick-gen-key` makes without an algorithm (GnuPG 2.2: rsa3072 + rsa3072).
    let home = GpgHome::new();
    home.gpg(
        &[
            "--quick-gen-key",
            "Plain <plain@example.com>",
            "default",
            "default",
            "1y",
        ],
        b"",
    );
    let key = home.export_public("plain@example.com", true);
    let info = inspect(&key, Utc::now()).unwrap_or_else(|e| panic!("rejected: {e}"));
    let c = colons(&home, &info.fingerprint);
    assert_eq!(info.bits, c[0].bits);
    assert_eq!(info.algorithm, "RSA");
    assert_eq!(info.encryption_subkeys.len(), 1);
    assert_eq!(info.encryption_subkeys[0].fingerprint, c[1].fpr);
    assert_eq!(info.encryption_subkeys[0].bits, c[1].bits);
}

#[test]
fn accepts_armor_saved_by_windows_tools() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Win <win@example.com>");
    let armored = String::from_utf8(home.export_public(&fpr, true)).unwrap();
    let crlf = armored.replace('\n', "\r\n");
    // UTF-8 with BOM and CRLF (Notepad), UTF-16 LE and BE with BOM (PowerShell 5 `>`).
    let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
    utf8_bom.extend_from_slice(crlf.as_bytes());
    let mut utf16le = vec![0xFF, 0xFE];
    let mut utf16be = vec![0xFE, 0xFF];
    for u in crlf.encode_utf16() {
        utf16le.extend_from_slice(&u.to_le_bytes());
        utf16be.extend_from_slice(&u.to_be_bytes());
    }
    // Text around the block, as when pasted from an e-mail.
    let pasted = format!("Here is my key:\n\n{armored}\nThanks!\n");
    for upload in [utf8_bom, utf16le, utf16be, pasted.into_bytes()] {
        let info = inspect(&upload, Utc::now()).unwrap_or_else(|e| panic!("rejected: {e}"));
        assert_eq!(info.fingerprint, fpr);
    }
}

#[test]
fn accepts_gpg_future_default() {
    let home = GpgHome::new();
    let uid = "Bob <bob@example.com>";
    let fpr = home.gen_future_default(uid);
    let c = colons(&home, &fpr);
    let info = inspect(&home.export_public(&fpr, true), Utc::now()).unwrap();
    assert_eq!(info.fingerprint, fpr);
    assert_eq!(info.algorithm, "EdDSA");
    assert_eq!(info.bits, 255);
    assert_eq!(info.created, ts(c[0].created));
    assert_eq!(info.expires, c[0].expires.map(ts));
    assert_eq!(info.user_ids, vec![uid.to_owned()]);
    assert_eq!(info.encryption_subkeys.len(), 1);
    let s = &info.encryption_subkeys[0];
    assert_eq!(s.fingerprint, c[1].fpr);
    assert_eq!((s.algorithm.as_str(), s.bits), ("ECDH", 255));
}

#[test]
fn accepts_sq_key_and_agrees_with_gpg() {
    let key = testing::sq_export_public_key();
    let info = inspect(&key, Utc::now()).unwrap_or_else(|e| panic!("rejected: {e}"));
    // Cross-check with GnuPG's view of the same certificate.
    let home = GpgHome::new();
    home.gpg(&["--import"], &key);
    let c = colons(&home, &info.fingerprint);
    assert_eq!(c[0].fpr, info.fingerprint);
    assert_eq!(info.created, ts(c[0].created));
    assert_eq!(info.expires, c[0].expires.map(ts));
    assert_eq!(info.user_ids, vec!["Sq User <sq@example.com>".to_owned()]);
    let gpg_enc: Vec<&String> = c
        .iter()
        .filter(|k| k.kind == "sub" && k.capabilities.contains('e'))
        .map(|k| &k.fpr)
        .collect();
    let ours: Vec<&String> = info
        .encryption_subkeys
        .iter()
        .map(|s| &s.fingerprint)
        .collect();
    assert_eq!(ours, gpg_enc);
}

#[test]
fn lists_every_encryption_subkey() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Multi <multi@example.com>");
    home.add_encryption_subkey(&fpr, "cv25519");
    let info = inspect(&home.export_public(&fpr, true), Utc::now()).unwrap();
    let subs = home.subkey_fingerprints(&fpr);
    assert_eq!(subs.len(), 2);
    let ours: Vec<String> = info
        .encryption_subkeys
        .iter()
        .map(|s| s.fingerprint.clone())
        .collect();
    assert_eq!(ours, subs);
    assert_eq!(info.encryption_subkeys[1].algorithm, "ECDH");
}

#[test]
fn warns_when_expiring_within_30_days() {
    let home = GpgHome::new();
    let fpr = home.gen_expiring_in_days("Soon <soon@example.com>", 10);
    let info = inspect(&home.export_public(&fpr, true), Utc::now()).unwrap();
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
    let w = &info.warnings[0];
    assert!(w.contains("expires on"), "{w}");
    assert!(
        w.contains("VoiceBase recommends a one-year crypto-period"),
        "{w}"
    );
    assert!(
        w.contains(&format!("gpg --quick-set-expire {fpr} 1y")),
        "{w}"
    );
    // …and the same key is refused once that date has passed.
    let later = Utc::now() + TimeDelta::days(11);
    let key = home.export_public(&fpr, true);
    assert_rejected(
        inspect(&key, later),
        &key,
        KeyErrorKind::ExpiredOrRevoked,
        &["expired", &fpr],
    );
}

#[test]
fn rejects_secret_keys_in_every_form() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Secret <secret@example.com>");
    let armored = home.export_secret(&fpr);
    assert!(String::from_utf8_lossy(&armored).contains("PRIVATE KEY BLOCK"));
    let binary = home.export_secret_binary(&fpr);
    // Binary secret packets after a public certificate, and an armored private block after
    // an armored public one.
    let mut mixed = home.export_public(&fpr, false);
    mixed.extend_from_slice(&binary);
    let mut mixed_armor = home.export_public(&fpr, true);
    mixed_armor.extend_from_slice(&armored);
    // A binary secret key, armored as if it were public.
    let relabelled = String::from_utf8(armored.clone())
        .unwrap()
        .replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK");
    let pem_private = testing::openssl_private_key_pem();
    for upload in [
        &armored,
        &binary,
        &mixed,
        &mixed_armor,
        relabelled.as_bytes().to_vec().as_ref(),
        &pem_private,
    ] {
        let err = assert_rejected(
            inspect(upload, Utc::now()),
            upload,
            KeyErrorKind::SecretKey,
            &[
                "private key must never be sent",
                "not stored",
                "gpg --armor --export",
            ],
        );
        assert!(matches!(err, KeyError::SecretKey));
        // Debug must not carry the material either.
        assert_eq!(format!("{err:?}"), "SecretKey");
    }
}

#[test]
fn rejects_expired_primary_key() {
    let home = GpgHome::new();
    let fpr = home.gen_expired("Old <old@example.com>");
    let key = home.export_public(&fpr, true);
    let err = assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::ExpiredOrRevoked,
        &[&fpr, "expired on", "gpg --quick-set-expire"],
    );
    assert!(matches!(err, KeyError::Expired { .. }), "{err:?}");
}

#[test]
fn rejects_revoked_primary_key() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Revoked <revoked@example.com>");
    let before = home.export_public(&fpr, true);
    assert!(inspect(&before, Utc::now()).is_ok());
    home.revoke(&fpr);
    let key = home.export_public(&fpr, true);
    let err = assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::ExpiredOrRevoked,
        &[&fpr, "revoked"],
    );
    assert!(matches!(err, KeyError::Revoked { .. }), "{err:?}");
}

#[test]
fn rejects_sign_only_key() {
    let home = GpgHome::new();
    let fpr = home.gen_sign_only("Signer <signer@example.com>");
    let key = home.export_public(&fpr, true);
    let err = assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::Unusable,
        &[&fpr, "cannot be used for encryption", "gpg --quick-add-key"],
    );
    assert!(matches!(err, KeyError::NoEncryptionKey { .. }), "{err:?}");
}

#[test]
fn rejects_key_whose_only_encryption_subkey_expired() {
    let home = GpgHome::new();
    let fpr = home.gen_expired_subkey("Stale <stale@example.com>");
    let key = home.export_public(&fpr, true);
    let sub = home.subkey_fingerprints(&fpr).remove(0);
    let err = assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::Unusable,
        &[
            &format!("encryption subkey {sub} expired on"),
            "gpg --quick-set-expire",
        ],
    );
    assert!(matches!(err, KeyError::NoEncryptionKey { .. }), "{err:?}");
}

#[test]
fn rejects_key_whose_only_encryption_subkey_is_revoked() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Subrev <subrev@example.com>");
    let sub = home.subkey_fingerprints(&fpr).remove(0);
    home.revoke_subkey(&fpr, 1);
    let key = home.export_public(&fpr, true);
    assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::Unusable,
        &[&format!("encryption subkey {sub} was revoked")],
    );
}

#[test]
fn skips_revoked_subkey_but_keeps_the_other() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Two <two@example.com>");
    home.add_encryption_subkey(&fpr, "cv25519");
    home.revoke_subkey(&fpr, 1);
    let subs = home.subkey_fingerprints(&fpr);
    let info = inspect(&home.export_public(&fpr, true), Utc::now()).unwrap();
    assert_eq!(info.encryption_subkeys.len(), 1);
    assert_eq!(info.encryption_subkeys[0].fingerprint, subs[1]);
}

#[test]
fn rejects_rsa_1024() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa1024("Weak <weak@example.com>");
    let key = home.export_public(&fpr, true);
    let err = assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::Unusable,
        &["1024-bit RSA", "minimum is 2048 bits", "primary key"],
    );
    assert!(matches!(
        err,
        KeyError::RsaTooSmall {
            bits: 1024,
            min: 2048,
            ..
        }
    ));
}

#[test]
fn rejects_unsupported_algorithms() {
    let home = GpgHome::new();
    // DSA primary key.
    home.gpg(
        &[
            "--quick-gen-key",
            "Dsa <dsa@example.com>",
            "dsa2048",
            "sign",
            "1y",
        ],
        b"",
    );
    let dsa = home.export_public("dsa@example.com", true);
    assert_rejected(
        inspect(&dsa, Utc::now()),
        &dsa,
        KeyErrorKind::Unusable,
        &["primary key uses DSA", "future-default"],
    );
    // ECDSA (NIST P-256) primary key.
    home.gpg(
        &[
            "--quick-gen-key",
            "P256 <p256@example.com>",
            "nistp256",
            "default",
            "1y",
        ],
        b"",
    );
    let p256 = home.export_public("p256@example.com", true);
    assert_rejected(
        inspect(&p256, Utc::now()),
        &p256,
        KeyErrorKind::Unusable,
        &["primary key uses ECDSA"],
    );
    // RSA primary key with a NIST P-256 encryption subkey.
    let fpr = home.gen_sign_only("Mixed <mixed@example.com>");
    home.add_encryption_subkey(&fpr, "nistp256");
    let mixed = home.export_public(&fpr, true);
    assert_rejected(
        inspect(&mixed, Utc::now()),
        &mixed,
        KeyErrorKind::Unusable,
        &["encryption subkey", "ECDH on curve"],
    );
}

#[test]
fn rejects_more_than_one_certificate() {
    let home = GpgHome::new();
    let a = home.gen_future_default("A <a@example.com>");
    let b = home.gen_future_default("B <b@example.com>");
    // One armor block holding two certificates (rPGP alone would read only the first).
    let one_block = home.export_public_many(&[&a, &b], true);
    assert_eq!(
        String::from_utf8_lossy(&one_block)
            .matches("BEGIN PGP PUBLIC KEY BLOCK")
            .count(),
        1
    );
    // Two armor blocks, and two binary certificates.
    let mut two_blocks = home.export_public(&a, true);
    two_blocks.extend_from_slice(&home.export_public(&b, true));
    let binary = home.export_public_many(&[&a, &b], false);
    for upload in [&one_block, &two_blocks, &binary] {
        let err = assert_rejected(
            inspect(upload, Utc::now()),
            upload,
            KeyErrorKind::Unusable,
            &[
                "2 OpenPGP certificates",
                "upload exactly one",
                "gpg --armor --export FINGERPRINT",
            ],
        );
        assert!(matches!(err, KeyError::MultipleCertificates { count: 2 }));
    }
}

#[test]
fn rejects_x509_pem() {
    let spki = testing::openssl_spki_pem();
    assert!(String::from_utf8_lossy(&spki).contains("BEGIN PUBLIC KEY"));
    assert_rejected(
        inspect(&spki, Utc::now()),
        &spki,
        KeyErrorKind::Unusable,
        &[
            "not an OpenPGP key",
            "BEGIN PUBLIC KEY",
            "gpg --armor --export",
        ],
    );
    let cert = testing::openssl_certificate_pem();
    assert_rejected(
        inspect(&cert, Utc::now()),
        &cert,
        KeyErrorKind::Unusable,
        &[
            "X.509 certificate",
            "not an OpenPGP key",
            "gpg --armor --export",
        ],
    );
    // The same in PKCS#1 form.
    let mut cmd = std::process::Command::new("openssl");
    cmd.args(["rsa", "-pubin", "-RSAPublicKey_out"]);
    let out = pipe(cmd, &spki);
    assert!(String::from_utf8_lossy(&out).contains("BEGIN RSA PUBLIC KEY"));
    assert_rejected(
        inspect(&out, Utc::now()),
        &out,
        KeyErrorKind::Unusable,
        &["PKCS#1 RSA public key", "gpg --armor --export"],
    );
}

fn pipe(mut cmd: std::process::Command, input: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn rejects_garbage_and_empty_input() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"hello world, this is my key".to_vec(),
            "not an OpenPGP public key",
        ),
        (b"{\"key\": \"abc\"}".to_vec(), "looks like JSON"),
        (
            b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3 user@host".to_vec(),
            "SSH public key",
        ),
        (vec![0x30, 0x82, 0x01, 0x22, 0x30, 0x0d], "DER"),
        // Top bit set, but not a valid packet sequence.
        (vec![0xff; 64], "damaged or incomplete"),
        ((0..=255u8).rev().cycle().take(3000).collect(), "OpenPGP"),
    ];
    for (upload, needle) in &cases {
        assert_rejected(
            inspect(upload, Utc::now()),
            upload,
            KeyErrorKind::Unusable,
            &[needle, "gpg --armor --export"],
        );
    }
    for empty in [&b""[..], b"  \n"] {
        let err = inspect(empty, Utc::now()).unwrap_err();
        assert!(matches!(err, KeyError::Empty));
        assert_eq!(err.kind(), KeyErrorKind::Unusable);
    }
}

#[test]
fn rejects_truncated_and_altered_keys() {
    let home = GpgHome::new();
    let uid = "Cut <cut@example.com>";
    let fpr = home.gen_rsa_and_rsa(uid);
    let armored = String::from_utf8(home.export_public(&fpr, true)).unwrap();
    let binary = home.export_public(&fpr, false);

    // Armor cut in half: END line missing.
    let half = armored.as_bytes()[..armored.len() / 2].to_vec();
    let err = assert_rejected(
        inspect(&half, Utc::now()),
        &half,
        KeyErrorKind::Unusable,
        &["cut off", "-----END PGP PUBLIC KEY BLOCK-----"],
    );
    assert!(matches!(err, KeyError::BadArmor { .. }));

    // Armor lines dropped from the middle, END line kept: checksum mismatch.
    let lines: Vec<&str> = armored.lines().collect();
    let mut dropped: Vec<&str> = lines[..5].to_vec();
    dropped.extend_from_slice(&lines[8..]);
    let dropped = dropped.join("\n").into_bytes();
    assert_rejected(
        inspect(&dropped, Utc::now()),
        &dropped,
        KeyErrorKind::Unusable,
        &["checksum does not match"],
    );

    // Binary cut short.
    let short = binary[..binary.len() - 100].to_vec();
    let err = assert_rejected(
        inspect(&short, Utc::now()),
        &short,
        KeyErrorKind::Unusable,
        &["cut off"],
    );
    assert!(matches!(err, KeyError::Malformed { .. }));

    // A user ID altered after signing (same length, so framing is intact): the
    // self-signature no longer verifies.
    let mut tampered = binary.clone();
    let at = tampered
        .windows(3)
        .position(|w| w == b"Cut")
        .expect("user id in export");
    tampered[at] = b'P';
    let err = assert_rejected(
        inspect(&tampered, Utc::now()),
        &tampered,
        KeyErrorKind::Unusable,
        &["does not verify", "user ID #1"],
    );
    assert!(matches!(err, KeyError::InvalidSignature { .. }));

    // A subkey binding signature with one altered byte in its signature value.
    let sub = home.subkey_fingerprints(&fpr).remove(0);
    let mut bad_binding = binary.clone();
    let last = bad_binding.len() - 10;
    bad_binding[last] ^= 0x01;
    let err = assert_rejected(
        inspect(&bad_binding, Utc::now()),
        &bad_binding,
        KeyErrorKind::Unusable,
        &[
            &format!("binding signature of subkey {sub}"),
            "does not verify",
        ],
    );
    assert!(matches!(err, KeyError::InvalidSignature { .. }));
}

#[test]
fn rejects_encrypted_message_uploaded_as_key() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Msg <msg@example.com>");
    let msg = home.gpg(
        &[
            "--armor",
            "--trust-model",
            "always",
            "--encrypt",
            "--recipient",
            &fpr,
        ],
        b"hello",
    );
    assert_rejected(
        inspect(&msg, Utc::now()),
        &msg,
        KeyErrorKind::Unusable,
        &["OpenPGP message", "gpg --armor --export"],
    );
    let bin = home.gpg(
        &["--trust-model", "always", "--encrypt", "--recipient", &fpr],
        b"hello",
    );
    assert_rejected(
        inspect(&bin, Utc::now()),
        &bin,
        KeyErrorKind::Unusable,
        &["encrypted message"],
    );
}

#[test]
fn rejects_v6_key() {
    // Neither GnuPG 2.2 nor sq 0.27 makes v6 keys; take a real v4 key and relabel its key
    // packets as v6 — framing stays valid, so this checks the version gate.
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Six <six@example.com>");
    let mut key = home.export_public(&fpr, false);
    // gpg writes the primary key as the first packet with an old-format 2-octet length
    // header (0x99 LL LL) followed by the version octet.
    assert_eq!(key[0], 0x98, "expected old-format 1-octet length header");
    assert_eq!(key[2], 4);
    key[2] = 6;
    let err = assert_rejected(
        inspect(&key, Utc::now()),
        &key,
        KeyErrorKind::Unusable,
        &["version 6", "version 4", "GnuPG 2.2"],
    );
    assert!(matches!(
        err,
        KeyError::UnsupportedVersion { version: 6, .. }
    ));
    assert_clean_message(&err, &key);
}
