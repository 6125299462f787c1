//! Decrypting on the customer's machine: the other half of Client Supplied Encryption.
//!
//! This runs in `sealscribe client` (never in the server): [`SecretKey::from_bytes`] reads a
//! transferable secret key as `gpg --armor --export-secret-keys` (or `sq key generate`) writes
//! it — RSA or ed25519/cv25519, armored or binary, with or without a passphrase — and
//! [`decrypt`] turns one OpenPGP message (armored or binary) from a [`Read`] into its plaintext
//! on a [`Write`].
//!
//! **Streaming.** rPGP reads SEIPD v1 in "check first" mode by default: the whole message is
//! buffered (up to 1 GiB) and only released once its MDC (integrity code) verifies. That is
//! neither constant memory nor usable for multi-GiB recordings, so [`decrypt`] uses rPGP's
//! *streaming* mode: plaintext is written as it is decrypted, in 512 KiB steps, and memory stays
//! flat whatever the input size (measured in `tests/decrypt_memory.rs` and
//! `benches/decrypt.rs`). The price, as with `gpg --decrypt`: when a message was tampered with,
//! the failure is only detected at the end (or wherever the damage makes the plaintext
//! unparsable), and part of the plaintext has already been written by then. Every such error
//! ([`DecryptError::Integrity`], [`DecryptError::Damaged`]) says how many bytes were written,
//! and the output must then be discarded. Callers that want all-or-nothing (a small JSON
//! document) decrypt into memory and use the result only on `Ok`.
//!
//! Compressed messages (gpg compresses with ZLIB by default) are decompressed on the fly with
//! ZIP/ZLIB; BZip2 is not built in (no C/extra code for a choice gpg only makes when asked).
//! Signed messages are opened but their signatures are not verified (sealscribe does not sign).
//! Legacy SED packets without integrity protection are refused.
//!
//! **Recipients.** Before anything is decrypted, every recipient the message names is listed
//! ([`MessageRecipient`]: each PKESK's key id or fingerprint, and each password SKESK) and
//! classified against the keys in the secret key file — primary keys and subkeys, secret or
//! public. A recipient that is not one of them (another key, an anonymous "wildcard"
//! recipient that could be anyone's, a password) is an *extra* recipient: whoever holds it
//! can read the message as well. [`decrypt_with`] hands the list to its caller before the
//! first plaintext byte and, unless [`DecryptOptions::allow_extra_recipients`] is set, refuses
//! such a message with [`DecryptError::ExtraRecipients`] without writing anything: an
//! operator key silently added to a customer's results must not go unnoticed.
//!
//! Secrets: the key file bytes and the passphrase are held in zeroizing buffers; rPGP zeroizes
//! the decrypted secret key material and the session key when they are dropped.

use std::{
    fmt,
    io::{self, BufReader, Read, Write},
};

use pgp::{
    composed::{DecryptionOptions, Deserializable, Esk, Message, SignedSecretKey, TheRing},
    packet::PublicKeyEncryptedSessionKey,
    types::{Fingerprint, KeyDetails, KeyId, Password, SecretParams, Seipdv1ReadMode},
};
use zeroize::Zeroizing;

/// How much plaintext is moved at a time.
const CHUNK: usize = 512 * 1024;

/// A passphrase, zeroized when dropped. `Debug` does not show it.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<Vec<u8>>);

impl Passphrase {
    /// A passphrase from its bytes, as is.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Passphrase(Zeroizing::new(bytes.into()))
    }

    /// The passphrase in the contents of a passphrase file: its first line, without the line
    /// ending (what `gpg --passphrase-file` reads).
    pub fn from_file_contents(contents: &[u8]) -> Self {
        let line = contents.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Passphrase::new(line.to_vec())
    }

    fn password(&self) -> Password {
        Password::Static(self.0.clone())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// One or more transferable secret keys (the contents of a secret key file).
pub struct SecretKey {
    keys: Vec<SignedSecretKey>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("fingerprints", &self.fingerprints())
            .finish()
    }
}

/// One recipient named by a message (one PKESK or SKESK packet), as [`decrypt_with`]
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecipient {
    /// The key id (16 upper-case hex digits) of a v3 PKESK, the fingerprint of a v6 PKESK,
    /// `0000000000000000` for an anonymous (wildcard) recipient, empty for a password.
    pub id: String,
    /// Whose it is.
    pub kind: RecipientKind,
}

/// Whose a [`MessageRecipient`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecipientKind {
    /// A primary key or subkey in the secret key file (`primary`: its primary key's
    /// fingerprint).
    Yours {
        /// The primary key's fingerprint (upper-case hex).
        primary: String,
    },
    /// A key that is not in the secret key file.
    Other,
    /// An anonymous recipient (`gpg --throw-keyids`, key id 0): it may be any key at all,
    /// so it counts as somebody else's.
    Anonymous,
    /// A password (SKESK, `gpg --symmetric`): anyone who knows it can decrypt.
    Password,
}

impl MessageRecipient {
    /// Whether this recipient is one of the keys in the secret key file.
    pub fn is_yours(&self) -> bool {
        matches!(self.kind, RecipientKind::Yours { .. })
    }
}

impl fmt::Display for MessageRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RecipientKind::Yours { primary } => write!(f, "{} (yours: key {primary})", self.id),
            RecipientKind::Other => write!(f, "{} (NOT in your secret key file)", self.id),
            RecipientKind::Anonymous => write!(
                f,
                "{} (anonymous recipient: could be anyone's key)",
                self.id
            ),
            RecipientKind::Password => f.write_str("a password (anyone who knows it)"),
        }
    }
}

/// What [`decrypt_with`] accepts beyond the defaults of [`decrypt`].
#[derive(Debug, Clone, Copy, Default)]
pub struct DecryptOptions {
    /// Decrypt even when the message has recipients other than the keys in the secret key
    /// file (the caller is expected to warn). Off by default: such a message is refused with
    /// [`DecryptError::ExtraRecipients`] before any plaintext is written.
    pub allow_extra_recipients: bool,
}

/// One decryption-capable part of a key: the primary key or a subkey.
struct Component<'a> {
    key_id: String,
    fingerprint: String,
    locked: bool,
    unlock: Box<dyn Fn(&Password) -> bool + 'a>,
    matches: Box<dyn Fn(&PublicKeyEncryptedSessionKey) -> bool + 'a>,
}

impl SecretKey {
    /// Parses a secret key file: ASCII-armored (`-----BEGIN PGP PRIVATE KEY BLOCK-----`) or
    /// binary, one or several keys. Nothing is unlocked here; a passphrase is only needed by
    /// [`decrypt`].
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretKey, DecryptError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(DecryptError::BadSecretKey {
                reason: "the file is empty".into(),
            });
        }
        if looks_like_public_key(bytes) {
            return Err(DecryptError::PublicKeyGiven);
        }
        let parsed = SignedSecretKey::from_reader_many(io::Cursor::new(bytes))
            .map_err(|e| bad_key(&e))?
            .0;
        let mut keys = Vec::new();
        for key in parsed {
            keys.push(key.map_err(|e| bad_key(&e))?);
        }
        if keys.is_empty() {
            return Err(DecryptError::BadSecretKey {
                reason: "it contains no OpenPGP secret key".into(),
            });
        }
        Ok(SecretKey { keys })
    }

    /// The keys of several secret key files as one (`--secret-key` given more than once):
    /// each of them may decrypt, and a recipient is the customer's when it is in any.
    pub fn merge(files: impl IntoIterator<Item = SecretKey>) -> SecretKey {
        SecretKey {
            keys: files.into_iter().flat_map(|f| f.keys).collect(),
        }
    }

    /// The primary keys' fingerprints (upper-case hex).
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| format!("{:X}", k.primary_key.fingerprint()))
            .collect()
    }

    /// Whether any part of the key is protected by a passphrase.
    pub fn is_protected(&self) -> bool {
        self.components().iter().any(|c| c.locked)
    }

    /// Whose `pkesk` is: a (sub)key of this file — secret or public subkey, since all of
    /// them belong to the customer — somebody else's, or anybody's (wildcard).
    fn classify(&self, pkesk: &PublicKeyEncryptedSessionKey) -> MessageRecipient {
        let id = recipient_name(pkesk);
        let anonymous = match pkesk {
            PublicKeyEncryptedSessionKey::V3 { id, .. } => id.is_wildcard(),
            PublicKeyEncryptedSessionKey::V6 { fingerprint, .. } => fingerprint.is_none(),
            _ => false,
        };
        if anonymous {
            return MessageRecipient {
                id: "0000000000000000".into(),
                kind: RecipientKind::Anonymous,
            };
        }
        // Not `match_identity`: it lets a wildcard match every key.
        let named = |key_id: KeyId, fpr: Fingerprint| match pkesk {
            PublicKeyEncryptedSessionKey::V3 { id, .. } => *id == key_id,
            PublicKeyEncryptedSessionKey::V6 {
                fingerprint: Some(f),
                ..
            } => *f == fpr,
            _ => false,
        };
        for key in &self.keys {
            let p = &key.primary_key;
            let ours = named(p.legacy_key_id(), p.fingerprint())
                || key
                    .secret_subkeys
                    .iter()
                    .any(|s| named(s.legacy_key_id(), s.fingerprint()))
                || key
                    .public_subkeys
                    .iter()
                    .any(|s| named(s.legacy_key_id(), s.fingerprint()));
            if ours {
                return MessageRecipient {
                    id,
                    kind: RecipientKind::Yours {
                        primary: format!("{:X}", p.fingerprint()),
                    },
                };
            }
        }
        MessageRecipient {
            id,
            kind: RecipientKind::Other,
        }
    }

    fn components(&self) -> Vec<Component<'_>> {
        let mut out = Vec::new();
        for key in &self.keys {
            let p = &key.primary_key;
            out.push(Component {
                key_id: key_id_hex(p.legacy_key_id().as_ref()),
                fingerprint: format!("{:X}", p.fingerprint()),
                locked: is_locked(p.secret_params()),
                unlock: Box::new(move |pw| matches!(p.unlock(pw, |_, _| Ok(())), Ok(Ok(())))),
                matches: Box::new(move |esk| esk.match_identity(p.public_key())),
            });
            for sub in &key.secret_subkeys {
                out.push(Component {
                    key_id: key_id_hex(sub.legacy_key_id().as_ref()),
                    fingerprint: format!("{:X}", sub.fingerprint()),
                    locked: is_locked(sub.secret_params()),
                    unlock: Box::new(move |pw| {
                        matches!(sub.key.unlock(pw, |_, _| Ok(())), Ok(Ok(())))
                    }),
                    matches: Box::new(move |esk| esk.match_identity(sub.public_key())),
                });
            }
        }
        out
    }
}

fn is_locked(params: &SecretParams) -> bool {
    params.is_encrypted()
}

fn key_id_hex(id: &[u8]) -> String {
    hex::encode_upper(id)
}

/// `-----BEGIN PGP PUBLIC KEY BLOCK-----`, or binary data starting with a public key packet.
fn looks_like_public_key(bytes: &[u8]) -> bool {
    let text_start = &bytes[..bytes.len().min(4096)];
    if let Ok(text) = std::str::from_utf8(text_start)
        && text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        && !text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    {
        return true;
    }
    let first = bytes[0];
    if first & 0x80 == 0 {
        return false;
    }
    let tag = if first & 0x40 != 0 {
        first & 0x3F
    } else {
        (first >> 2) & 0x0F
    };
    tag == 6
}

/// Our words for a key file rPGP cannot parse (its own texts may contain byte dumps).
fn bad_key(e: &pgp::errors::Error) -> DecryptError {
    let reason = match e {
        pgp::errors::Error::Unsupported { message, .. }
        | pgp::errors::Error::Unimplemented { message, .. } => {
            format!("it uses something this client does not support ({message})")
        }
        pgp::errors::Error::InvalidChecksum => "its ASCII armor checksum is wrong".into(),
        pgp::errors::Error::Base64Decode { .. } | pgp::errors::Error::InvalidArmorWrappers => {
            "its ASCII armor is damaged".into()
        }
        _ => "it is not an OpenPGP secret key, or it is damaged or incomplete".into(),
    };
    DecryptError::BadSecretKey { reason }
}

/// Why [`decrypt`] failed. The `Display` text is meant for the person running the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The key file is not a usable secret key.
    #[error(
        "the secret key file cannot be used: {reason}. Export your secret key with \
         `gpg --armor --export-secret-keys KEYID > key.asc` (or use the file `sq key generate` wrote)"
    )]
    BadSecretKey {
        /// What is wrong.
        reason: String,
    },
    /// A public key (certificate) was given where the secret key is needed.
    #[error(
        "this is a PUBLIC key; decrypting needs your SECRET key: \
         `gpg --armor --export-secret-keys KEYID > key.asc` (keep that file to yourself, mode 600)"
    )]
    PublicKeyGiven,
    /// The input is not an OpenPGP message.
    #[error(
        "the input is not an OpenPGP message ({reason}); expected `-----BEGIN PGP MESSAGE-----` \
         or binary OpenPGP data"
    )]
    NotAMessage {
        /// What is wrong.
        reason: String,
    },
    /// An OpenPGP message, but not an encrypted one.
    #[error("the input is an OpenPGP message, but it is not encrypted (nothing to decrypt)")]
    NotEncrypted,
    /// The message is encrypted with a password only (`gpg --symmetric`).
    #[error(
        "the message is encrypted with a password (gpg --symmetric), not to a key; \
         use `gpg --decrypt` for it"
    )]
    PasswordEncrypted,
    /// None of the message's recipients is in the secret key file.
    #[error(
        "wrong secret key: the message is encrypted to key ID(s) {}, but the secret key file \
         holds {} (key {})",
        .recipients.join(", "), .available.join(", "), .fingerprints.join(", ")
    )]
    WrongKey {
        /// The key ids (or v6 fingerprints) the message names as recipients.
        recipients: Vec<String>,
        /// The key ids of every (sub)key in the key file.
        available: Vec<String>,
        /// The primary fingerprints of the key file.
        fingerprints: Vec<String>,
    },
    /// The message is also encrypted to recipients that are not in the secret key file (see
    /// [`DecryptOptions::allow_extra_recipients`]). Nothing was decrypted.
    #[error(
        "the message is also encrypted to {} recipient(s) that are not yours: {}. Whoever holds \
         them can read it as well. Nothing was decrypted",
        .extra.len(),
        .extra.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    ExtraRecipients {
        /// The recipients that are not in the secret key file.
        extra: Vec<MessageRecipient>,
    },
    /// The matching key is protected, and no passphrase was given.
    #[error(
        "the secret key {key_id} is protected by a passphrase; give it with --passphrase-file FILE"
    )]
    NeedPassphrase {
        /// The (sub)key id.
        key_id: String,
    },
    /// The passphrase does not unlock the matching key.
    #[error("the passphrase does not unlock the secret key {key_id}")]
    WrongPassphrase {
        /// The (sub)key id.
        key_id: String,
    },
    /// The key matched, but the session key could not be decrypted with it.
    #[error(
        "the secret key {key_id} matches the message, but could not decrypt its session key: \
         the message or the key is damaged"
    )]
    SessionKey {
        /// The (sub)key id.
        key_id: String,
    },
    /// Something this implementation does not support (e.g. BZip2, legacy SED packets).
    #[error("the message cannot be decrypted: {0}")]
    Unsupported(String),
    /// The integrity check (MDC) failed at the end: the ciphertext was modified.
    #[error(
        "INTEGRITY CHECK FAILED: the message was modified or damaged after it was encrypted. {}",
        written_note(*.written)
    )]
    Integrity {
        /// Plaintext bytes written before the failure was detected.
        written: u64,
    },
    /// The decrypted contents do not parse: modified, truncated or damaged ciphertext.
    #[error(
        "the message is damaged, truncated or was modified ({reason}). {}",
        written_note(*.written)
    )]
    Damaged {
        /// Plaintext bytes written before the failure.
        written: u64,
        /// What went wrong.
        reason: String,
    },
    /// Reading the message failed.
    #[error("reading the message failed: {0}")]
    Read(#[source] io::Error),
    /// Writing the plaintext failed.
    #[error("writing the plaintext failed: {0}")]
    Write(#[source] io::Error),
}

/// What an integrity failure means for the output already written.
fn written_note(written: u64) -> String {
    if written == 0 {
        "No plaintext was written.".into()
    } else {
        format!(
            "{written} bytes of plaintext had already been written (decryption streams, and the \
             check comes at the end); they are NOT trustworthy and must be discarded."
        )
    }
}

impl DecryptError {
    /// Whether plaintext may have been written before this error (and must be discarded).
    pub fn plaintext_written(&self) -> u64 {
        match self {
            DecryptError::Integrity { written } | DecryptError::Damaged { written, .. } => *written,
            _ => 0,
        }
    }
}

/// Decrypts one OpenPGP message (armored or binary) read from `input` with `key`, writing the
/// plaintext to `output` as it goes. Returns the number of plaintext bytes written.
///
/// Memory is constant (a few 512 KiB buffers plus the key), whatever the size of the message.
/// On [`DecryptError::Integrity`] or [`DecryptError::Damaged`], some plaintext may already
/// have been written: discard the output (see the module documentation). A message with
/// recipients other than the keys of `key` is refused ([`DecryptError::ExtraRecipients`]);
/// [`decrypt_with`] reports the recipients and can accept it.
pub fn decrypt<R, W>(
    key: &SecretKey,
    passphrase: Option<&Passphrase>,
    input: R,
    output: W,
) -> Result<u64, DecryptError>
where
    R: Read + Send,
    W: Write,
{
    decrypt_with(
        key,
        passphrase,
        input,
        output,
        DecryptOptions::default(),
        &mut |_| {},
    )
}

/// [`decrypt`], with `options`, calling `on_recipients` with every recipient the message
/// names (PKESK and SKESK packets, in message order) once they are read — before any
/// plaintext is written, and also when the message is then refused.
pub fn decrypt_with<R, W>(
    key: &SecretKey,
    passphrase: Option<&Passphrase>,
    input: R,
    mut output: W,
    options: DecryptOptions,
    on_recipients: &mut dyn FnMut(&[MessageRecipient]),
) -> Result<u64, DecryptError>
where
    R: Read + Send,
    W: Write,
{
    let mut reader = Tracked {
        inner: input,
        error: None,
    };
    let outcome = decrypt_inner(
        key,
        passphrase,
        &mut reader,
        &mut output,
        options,
        on_recipients,
    );
    match outcome {
        // A failure of the input itself is a read error, whatever rPGP made of it.
        Err(e) if reader.error.is_some() && !matches!(e, DecryptError::Write(_)) => {
            Err(DecryptError::Read(reader.error.take().expect("checked")))
        }
        other => other,
    }
}

fn decrypt_inner<R: Read + Send, W: Write>(
    key: &SecretKey,
    passphrase: Option<&Passphrase>,
    input: &mut Tracked<R>,
    output: &mut W,
    options: DecryptOptions,
    on_recipients: &mut dyn FnMut(&[MessageRecipient]),
) -> Result<u64, DecryptError> {
    let source = BufReader::with_capacity(CHUNK, input);
    let (message, _headers) = Message::from_reader(source).map_err(|e| not_a_message(&e))?;

    let Message::Encrypted { esk, .. } = &message else {
        return Err(DecryptError::NotEncrypted);
    };
    let pkesks: Vec<&PublicKeyEncryptedSessionKey> = esk
        .iter()
        .filter_map(|e| match e {
            Esk::PublicKeyEncryptedSessionKey(p) => Some(p),
            Esk::SymKeyEncryptedSessionKey(_) => None,
        })
        .collect();
    let recipients: Vec<MessageRecipient> = esk
        .iter()
        .map(|e| match e {
            Esk::PublicKeyEncryptedSessionKey(p) => key.classify(p),
            Esk::SymKeyEncryptedSessionKey(_) => MessageRecipient {
                id: String::new(),
                kind: RecipientKind::Password,
            },
        })
        .collect();
    on_recipients(&recipients);
    if pkesks.is_empty() {
        return Err(DecryptError::PasswordEncrypted);
    }

    let components = key.components();
    let matching: Vec<&Component<'_>> = components
        .iter()
        .filter(|c| pkesks.iter().any(|p| (c.matches)(p)))
        .collect();
    if matching.is_empty() {
        return Err(DecryptError::WrongKey {
            recipients: pkesks.iter().map(|p| recipient_name(p)).collect(),
            available: components.iter().map(|c| c.key_id.clone()).collect(),
            fingerprints: key.fingerprints(),
        });
    }
    let extra: Vec<MessageRecipient> = recipients.into_iter().filter(|r| !r.is_yours()).collect();
    if !extra.is_empty() && !options.allow_extra_recipients {
        return Err(DecryptError::ExtraRecipients { extra });
    }

    // Check the passphrase up front, to say precisely what is wrong (rPGP's answer would be
    // "missing key" in every case).
    let password = passphrase.map(Passphrase::password).unwrap_or_default();
    if matching.iter().all(|c| c.locked) {
        match passphrase {
            None => {
                return Err(DecryptError::NeedPassphrase {
                    key_id: matching[0].key_id.clone(),
                });
            }
            Some(_) if !matching.iter().any(|c| (c.unlock)(&password)) => {
                return Err(DecryptError::WrongPassphrase {
                    key_id: matching[0].key_id.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let first_match = format!("{} ({})", matching[0].key_id, matching[0].fingerprint);
    drop(matching);

    let ring = TheRing {
        secret_keys: key.keys.iter().collect(),
        key_passwords: vec![&password],
        decrypt_options: DecryptionOptions::new().set_seipdv1_read_mode(Seipdv1ReadMode::Streaming),
        ..Default::default()
    };
    let message = match message.decrypt_the_ring(ring, true) {
        Ok((message, _)) => message,
        Err(e) => return Err(after_session_key_error(&e, 0, &first_match)),
    };
    let mut message = if message.is_compressed() {
        message
            .decompress()
            .map_err(|e| after_session_key_error(&e, 0, &first_match))?
    } else {
        message
    };
    if message.is_encrypted() {
        return Err(DecryptError::Unsupported(
            "it is encrypted twice (nested encryption)".into(),
        ));
    }

    let mut written = 0u64;
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
    loop {
        let n = match message.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(data_error(&e, written)),
        };
        output.write_all(&buf[..n]).map_err(DecryptError::Write)?;
        written += n as u64;
    }
    output.flush().map_err(DecryptError::Write)?;
    Ok(written)
}

fn recipient_name(p: &PublicKeyEncryptedSessionKey) -> String {
    if let Ok(id) = p.id() {
        if id.is_wildcard() {
            return "anonymous".into();
        }
        return key_id_hex(id.as_ref());
    }
    match p.fingerprint() {
        Ok(Some(fpr)) => format!("{fpr:X}"),
        Ok(None) => "anonymous".into(),
        Err(_) => "unknown".into(),
    }
}

fn not_a_message(e: &pgp::errors::Error) -> DecryptError {
    match e {
        pgp::errors::Error::Unimplemented { message, .. } if message.contains("key format") => {
            DecryptError::NotAMessage {
                reason: "it is an armored key or signature, not a message".into(),
            }
        }
        pgp::errors::Error::InvalidChecksum => DecryptError::NotAMessage {
            reason: "its ASCII armor checksum is wrong".into(),
        },
        _ => DecryptError::NotAMessage {
            reason: short_reason(e),
        },
    }
}

/// rPGP's error text, cut short and stripped of anything that looks like a byte dump.
fn short_reason(e: &dyn std::error::Error) -> String {
    let text = e.to_string();
    let text: String = text.chars().take(160).collect();
    if text.contains("0x") || text.contains('[') {
        "malformed OpenPGP data".into()
    } else {
        text
    }
}

/// Walks an error chain looking for rPGP's MDC failure.
fn is_mdc_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(pgp::errors::Error::MdcError) = err.downcast_ref::<pgp::errors::Error>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && is_mdc_failure(inner)
        {
            return true;
        }
        current = err.source();
    }
    false
}

fn data_error(e: &io::Error, written: u64) -> DecryptError {
    if is_mdc_failure(e) {
        return DecryptError::Integrity { written };
    }
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return DecryptError::Damaged {
            written,
            reason: "it ends early".into(),
        };
    }
    DecryptError::Damaged {
        written,
        reason: short_reason(e),
    }
}

/// An error once the matching key is known: decrypting the session key, or the start of the
/// data (streaming mode may already have read and checked a short message completely).
fn after_session_key_error(e: &pgp::errors::Error, written: u64, key: &str) -> DecryptError {
    if is_mdc_failure(e) {
        return DecryptError::Integrity { written };
    }
    match e {
        pgp::errors::Error::MissingKey => DecryptError::SessionKey {
            key_id: key.to_owned(),
        },
        pgp::errors::Error::Message { message, .. } if message.contains("SymEncryptedData") => {
            DecryptError::Unsupported(
                "it uses the legacy encryption packet without integrity protection (SED), \
                 which is unsafe and refused"
                    .into(),
            )
        }
        pgp::errors::Error::Unsupported { message, .. }
        | pgp::errors::Error::Unimplemented { message, .. } => {
            DecryptError::Unsupported(message.clone())
        }
        _ => DecryptError::Damaged {
            written,
            reason: short_reason(e),
        },
    }
}

/// Keeps the first I/O error of the input, so that it is reported as such.
struct Tracked<R> {
    inner: R,
    error: Option<io::Error>,
}

impl<R> fmt::Debug for Tracked<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tracked")
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let copy = io::Error::new(e.kind(), e.to_string());
                    if self.error.is_none() {
                        self.error = Some(e);
                    }
                    return Err(copy);
                }
            }
        }
    }
}
