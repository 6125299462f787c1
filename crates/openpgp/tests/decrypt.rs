//! Decryption on the customer's side, against keys and messages made by the real `gpg` and
//! `sq`, and by our own `encrypt`.

use chrono::Utc;
use sealscribe_openpgp::{
    DecryptError, DecryptOptions, EncryptOptions, MessageRecipient, Passphrase, Recipient,
    RecipientKind, SecretKey, decrypt, decrypt_with, encrypt,
    testing::{GpgHome, sq_encrypt, sq_generate_key},
};

/// Text that compresses well (so gpg's ZLIB really shrinks it) with a unique tail.
fn plaintext(tag: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..2000 {
        out.extend_from_slice(format!("line {i}: the quick brown fox {tag}\n").as_bytes());
    }
    out.extend_from_slice(&[0, 1, 2, 255, 254]);
    out
}

fn open(
    key: &SecretKey,
    pass: Option<&Passphrase>,
    message: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let mut out = Vec::new();
    let n = decrypt(key, pass, message, &mut out)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}

fn ours(cert: &[u8], data: &[u8], armor: bool) -> Vec<u8> {
    let recipient = Recipient::from_bytes(cert, Utc::now()).expect("valid certificate");
    let mut out = Vec::new();
    let opts = if armor {
        EncryptOptions::armored()
    } else {
        EncryptOptions::binary()
    };
    encrypt(&recipient, data, &mut out, opts).unwrap();
    out
}

/// Every message kind opens with every key export form, for one gpg key.
fn roundtrip_gpg(home: &GpgHome, fpr: &str) {
    let data = plaintext(fpr);
    let armored_key = SecretKey::from_bytes(&home.export_secret(fpr)).unwrap();
    let binary_key = SecretKey::from_bytes(&home.export_secret_binary(fpr)).unwrap();
    assert_eq!(armored_key.fingerprints(), vec![fpr.to_owned()]);
    assert!(!armored_key.is_protected());

    let gpg_armored = home.encrypt_to(fpr, &data, true, &[]);
    let gpg_binary = home.encrypt_to(fpr, &data, false, &[]);
    // gpg compressed it: the message is much smaller than the text.
    assert!(
        gpg_binary.len() < data.len() / 4,
        "gpg did not compress: {} vs {}",
        gpg_binary.len(),
        data.len()
    );
    assert!(home.list_packets(&gpg_binary).contains("compressed packet"));
    let gpg_uncompressed = home.encrypt_to(fpr, &data, false, &["-z", "0"]);
    let gpg_zip = home.encrypt_to(fpr, &data, false, &["--compress-algo", "zip"]);
    let cert = home.export_public(fpr, true);
    let ours_binary = ours(&cert, &data, false);
    let ours_armored = ours(&cert, &data, true);

    for key in [&armored_key, &binary_key] {
        for (what, message) in [
            ("gpg armored, zlib", &gpg_armored),
            ("gpg binary, zlib", &gpg_binary),
            ("gpg -z 0", &gpg_uncompressed),
            ("gpg zip", &gpg_zip),
            ("ours binary", &ours_binary),
            ("ours armored", &ours_armored),
        ] {
            let out = open(key, None, message).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(out == data, "{what}: plaintext differs");
        }
    }
}

#[test]
fn rsa_and_rsa_key_from_gpg() {
    let home = GpgHome::new();
    let fpr = home.gen_rsa_and_rsa("Rsa <rsa@example.com>");
    roundtrip_gpg(&home, &fpr);
}

#[test]
fn ed25519_cv25519_key_from_gpg() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Ed <ed@example.com>");
    roundtrip_gpg(&home, &fpr);
}

#[test]
fn key_from_sq() {
    let key = sq_generate_key("Sq <sq@example.com>");
    let secret = SecretKey::from_bytes(&key.secret).unwrap();
    let data = plaintext("sq");
    let from_sq = sq_encrypt(&key.public, &data);
    assert!(from_sq.starts_with(b"-----BEGIN PGP MESSAGE-----"));
    assert_eq!(open(&secret, None, &from_sq).unwrap(), data);
    assert_eq!(
        open(&secret, None, &ours(&key.public, &data, false)).unwrap(),
        data
    );
}

#[test]
fn passphrase_protected_key() {
    let home = GpgHome::new();
    let fpr = home.gen_protected("Locked <locked@example.com>", "correct horse");
    let exported = home.export_secret_protected(&fpr, "correct horse");
    let key = SecretKey::from_bytes(&exported).unwrap();
    assert!(key.is_protected());
    let data = plaintext("locked");
    let message = home.encrypt_to(&fpr, &data, true, &[]);

    let err = open(&key, None, &message).unwrap_err();
    assert!(matches!(err, DecryptError::NeedPassphrase { .. }), "{err}");
    assert!(err.to_string().contains("--passphrase-file"), "{err}");

    let wrong = Passphrase::new("battery staple");
    let err = open(&key, Some(&wrong), &message).unwrap_err();
    assert!(matches!(err, DecryptError::WrongPassphrase { .. }), "{err}");

    // As read from a file with a trailing newline.
    let right = Passphrase::from_file_contents(b"correct horse\n");
    assert_eq!(open(&key, Some(&right), &message).unwrap(), data);
    assert!(!format!("{right:?}").contains("horse"));
}

#[test]
fn wrong_key_names_the_recipients() {
    let home = GpgHome::new();
    let alice = home.gen_future_default("Alice <alice@example.com>");
    let bob = home.gen_rsa_and_rsa("Bob <bob@example.com>");
    let message = home.encrypt_to(&alice, b"for alice only", false, &[]);
    let bobs_key = SecretKey::from_bytes(&home.export_secret(&bob)).unwrap();
    let err = open(&bobs_key, None, &message).unwrap_err();
    let text = err.to_string();
    println!("{text}");
    assert!(matches!(err, DecryptError::WrongKey { .. }), "{text}");
    // Alice's encryption subkey id (the last 16 hex digits of its fingerprint) is named, and
    // Bob's fingerprint, so the user sees which key they used.
    let alice_sub = &home.subkey_fingerprints(&alice)[0];
    assert!(text.contains(&alice_sub[alice_sub.len() - 16..]), "{text}");
    assert!(text.contains(&bob), "{text}");
    assert!(text.contains("wrong secret key"), "{text}");
}

#[test]
fn tampered_ciphertext_fails() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Tamper <tamper@example.com>");
    let key = SecretKey::from_bytes(&home.export_secret(&fpr)).unwrap();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();

    // Uncompressed (ours): flipping a byte in the middle garbles one block of plaintext, and
    // only the MDC at the end notices. By then most of the plaintext has been written.
    let mut message = ours(&home.export_public(&fpr, true), &data, false);
    let middle = message.len() / 2;
    message[middle] ^= 0x01;
    let mut out = Vec::new();
    let err = decrypt(&key, None, &message[..], &mut out).unwrap_err();
    println!("{err}");
    assert!(matches!(err, DecryptError::Integrity { .. }), "{err}");
    assert!(err.plaintext_written() > 0);
    assert_eq!(err.plaintext_written(), out.len() as u64);
    assert!(err.to_string().contains("must be discarded"), "{err}");
    assert!(err.to_string().contains(&out.len().to_string()), "{err}");
    // gpg agrees that this message is bad.
    let gpg = home
        .command()
        .arg("--decrypt")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(&message)?;
            child.wait()
        })
        .unwrap();
    assert!(!gpg.success());

    // Compressed (gpg): the damage makes the ZLIB stream or the MDC fail.
    let mut message = home.encrypt_to(&fpr, &plaintext("z"), false, &[]);
    let middle = message.len() / 2;
    message[middle] ^= 0x40;
    let err = open(&key, None, &message).unwrap_err();
    println!("{err}");
    assert!(
        matches!(
            err,
            DecryptError::Integrity { .. } | DecryptError::Damaged { .. }
        ),
        "{err}"
    );

    // Truncated.
    let message = ours(&home.export_public(&fpr, true), &data, false);
    let err = open(&key, None, &message[..message.len() - 100]).unwrap_err();
    assert!(
        matches!(
            err,
            DecryptError::Integrity { .. } | DecryptError::Damaged { .. }
        ),
        "{err}"
    );
}

#[test]
fn unusable_inputs_have_clear_errors() {
    let home = GpgHome::new();
    let fpr = home.gen_future_default("Misc <misc@example.com>");
    let key = SecretKey::from_bytes(&home.export_secret(&fpr)).unwrap();

    // A public key where the secret key belongs.
    let err = SecretKey::from_bytes(&home.export_public(&fpr, true)).unwrap_err();
    assert!(matches!(err, DecryptError::PublicKeyGiven), "{err}");
    let err = SecretKey::from_bytes(&home.export_public(&fpr, false)).unwrap_err();
    assert!(matches!(err, DecryptError::PublicKeyGiven), "{err}");
    let err = SecretKey::from_bytes(b"hello").unwrap_err();
    assert!(matches!(err, DecryptError::BadSecretKey { .. }), "{err}");
    let err = SecretKey::from_bytes(b"").unwrap_err();
    assert!(matches!(err, DecryptError::BadSecretKey { .. }), "{err}");

    // Not a message, not encrypted, password-encrypted.
    let err = open(&key, None, b"plain text, not OpenPGP").unwrap_err();
    assert!(matches!(err, DecryptError::NotAMessage { .. }), "{err}");
    let signed = home.gpg(&["--store"], b"stored, not encrypted");
    let err = open(&key, None, &signed).unwrap_err();
    assert!(matches!(err, DecryptError::NotEncrypted), "{err}");
    let mut cmd = home.command_with_passphrase("pw");
    cmd.args(["--symmetric", "--output", "-"]);
    let symmetric = {
        use std::io::Write as _;
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"secret").unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let err = open(&key, None, &symmetric).unwrap_err();
    assert!(matches!(err, DecryptError::PasswordEncrypted), "{err}");

    // A write failure is reported as such.
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let message = home.encrypt_to(&fpr, b"some text", false, &[]);
    let err = decrypt(&key, None, &message[..], Full).unwrap_err();
    assert!(matches!(err, DecryptError::Write(_)), "{err}");
}

/// Every recipient is reported, whose it is, before anything is decrypted; a message also
/// encrypted to somebody else's key, to an anonymous recipient or to a password is refused
/// unless allowed; subkeys and several key files count as the customer's own.
#[test]
fn extra_recipients_are_reported_and_refused() {
    let home = GpgHome::new();
    let customer = home.gen_future_default("Customer <customer@example.com>");
    let operator = home.gen_rsa_and_rsa("Operator <operator@example.com>");
    let key = SecretKey::from_bytes(&home.export_secret(&customer)).unwrap();
    let customer_sub = home.subkey_fingerprints(&customer)[0][24..].to_owned();
    let operator_sub = home.subkey_fingerprints(&operator)[0][24..].to_owned();
    let data = plaintext("extra");

    let open_reporting = |key: &SecretKey, message: &[u8], allow: bool| {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        let result = decrypt_with(
            key,
            None,
            message,
            &mut out,
            DecryptOptions {
                allow_extra_recipients: allow,
            },
            &mut |r| seen = r.to_vec(),
        );
        (result.map(|_| out), seen)
    };

    // The customer's key and the operator's: both reported, refused before any output.
    let both = home.encrypt_to(&customer, &data, true, &["--recipient", &operator]);
    let (result, seen) = open_reporting(&key, &both, false);
    let err = result.unwrap_err();
    println!("{err}");
    assert!(matches!(err, DecryptError::ExtraRecipients { .. }), "{err}");
    assert_eq!(err.plaintext_written(), 0);
    assert!(err.to_string().contains(&operator_sub), "{err}");
    assert!(!err.to_string().contains(&customer_sub), "{err}");
    let mut ids: Vec<_> = seen.iter().map(|r| (r.id.clone(), r.is_yours())).collect();
    ids.sort();
    let mut expected = vec![(customer_sub.clone(), true), (operator_sub.clone(), false)];
    expected.sort();
    assert_eq!(ids, expected);
    let yours = seen.iter().find(|r| r.is_yours()).unwrap();
    assert_eq!(
        yours.kind,
        RecipientKind::Yours {
            primary: customer.clone()
        }
    );
    // `decrypt` refuses it the same way.
    let mut out = Vec::new();
    assert!(matches!(
        decrypt(&key, None, &both[..], &mut out),
        Err(DecryptError::ExtraRecipients { .. })
    ));
    assert!(out.is_empty());
    // Allowed: decrypts, and still reports both.
    let (result, seen) = open_reporting(&key, &both, true);
    assert_eq!(result.unwrap(), data);
    assert_eq!(seen.len(), 2);

    // With the operator's secret key in a second file, both recipients are the customer's.
    let operator_key = SecretKey::from_bytes(&home.export_secret(&operator)).unwrap();
    let merged = SecretKey::merge([
        SecretKey::from_bytes(&home.export_secret(&customer)).unwrap(),
        operator_key,
    ]);
    let (result, seen) = open_reporting(&merged, &both, false);
    assert_eq!(result.unwrap(), data);
    assert!(seen.iter().all(MessageRecipient::is_yours), "{seen:?}");

    // An anonymous recipient (key id 0) could be anyone: an extra one.
    let hidden = home.encrypt_to(&customer, &data, false, &["--throw-keyids"]);
    let (result, seen) = open_reporting(&key, &hidden, false);
    let err = result.unwrap_err();
    assert!(matches!(err, DecryptError::ExtraRecipients { .. }), "{err}");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, RecipientKind::Anonymous);
    assert_eq!(seen[0].id, "0000000000000000");
    let (result, _) = open_reporting(&key, &hidden, true);
    assert_eq!(result.unwrap(), data, "allowed, the wildcard is tried");

    // A password besides the key: anyone who knows it can read the message.
    let mut cmd = home.command_with_passphrase("pw");
    cmd.args([
        "--trust-model",
        "always",
        "--symmetric",
        "--encrypt",
        "--recipient",
        &customer,
        "--output",
        "-",
    ]);
    let with_password = {
        use std::io::Write as _;
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&data).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let (result, seen) = open_reporting(&key, &with_password, false);
    let err = result.unwrap_err();
    assert!(matches!(err, DecryptError::ExtraRecipients { .. }), "{err}");
    assert!(err.to_string().contains("password"), "{err}");
    assert!(seen.iter().any(|r| r.kind == RecipientKind::Password));

    // Our own encryption to a certificate with two encryption subkeys (one PKESK each):
    // both are the customer's.
    home.add_encryption_subkey(&customer, "cv25519");
    let cert = home.export_public(&customer, true);
    let key = SecretKey::from_bytes(&home.export_secret(&customer)).unwrap();
    let message = ours(&cert, &data, true);
    let (result, seen) = open_reporting(&key, &message, false);
    assert_eq!(result.unwrap(), data);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(MessageRecipient::is_yours), "{seen:?}");
}
