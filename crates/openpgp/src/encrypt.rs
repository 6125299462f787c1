//! Encrypting to a customer's certificate.
//!
//! The output is what GnuPG 2.2 reads: PKESK v3 packets (one per currently valid encryption
//! key), then a SEIPD **v1** packet (CFB + MDC) with **AES-256**, around an **uncompressed**
//! literal data packet. rPGP never picks SEIPD v2/OCB by itself, but it is spelled out here
//! (`seipd_v1`) because GnuPG 2.2 cannot read v2. No compression: media is already
//! compressed and gpg's zlib made encryption ~5× slower for nothing (see `docs/openpgp.md`).
//!
//! Streaming: binary messages are read in 256 KiB batches, which our own SEIPD v1 writer
//! (the `seipd` module; rPGP only makes the session key and the PKESK packets) hashes,
//! encrypts in place and hands on as partial-length chunks, so memory stays flat whatever
//! the input size. A caller that owns its batches (the upload path) pushes them into an
//! [`Encryptor`] instead and passes the encrypted batch itself on, without a copy. Armored
//! messages (small documents) go through rPGP's `MessageBuilder`.
//!
//! Synchronous `std::io`: from async code run [`encrypt`] in `tokio::task::spawn_blocking`
//! (with `tokio_util::io::SyncIoBridge` to adapt async readers/writers). It is CPU-bound
//! (~200–400 MB/s), so never call it on an async worker thread.

use std::io::{self, Read, Write};

use chrono::{DateTime, Utc};
use pgp::{
    composed::{ArmorOptions, Esk, MessageBuilder},
    crypto::sym::SymmetricKeyAlgorithm,
    packet::PublicKeyEncryptedSessionKey,
    ser::Serialize,
};

use crate::{
    error::KeyError,
    policy::{self, Target, Validated},
    seipd::{Piece, SeipdWriter},
    types::KeyInfo,
};

/// A parsed and validated certificate, ready to encrypt to.
///
/// Build it from the stored key bytes when a job needs it ([`Recipient::from_bytes`] with
/// `Utc::now()`), so that validity — expiry, revocation — is checked again at encryption
/// time rather than trusted from upload time. [`encrypt`] additionally skips encryption keys
/// that expired since the `Recipient` was built.
#[derive(Debug, Clone)]
pub struct Recipient {
    validated: Validated,
}

impl Recipient {
    /// Parses and validates `bytes` (armored or binary) exactly like
    /// [`inspect`](crate::inspect) does, at time `now`.
    pub fn from_bytes(bytes: &[u8], now: DateTime<Utc>) -> Result<Recipient, KeyError> {
        Ok(Recipient {
            validated: policy::validate(bytes, now)?,
        })
    }

    /// The primary key's fingerprint (upper-case hex).
    pub fn fingerprint(&self) -> &str {
        &self.validated.info.fingerprint
    }

    /// Everything [`inspect`](crate::inspect) reports about this key.
    pub fn info(&self) -> &KeyInfo {
        &self.validated.info
    }
}

/// How to write the message.
///
/// There is no file-name option: rPGP 0.21's `MessageBuilder` always writes an empty file
/// name and a zero date into the literal data packet (`gpg --decrypt` does not need either).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptOptions {
    /// ASCII armor (`-----BEGIN PGP MESSAGE-----`), e.g. for JSON documents delivered as
    /// text. Default: binary, for media.
    pub armor: bool,
}

impl EncryptOptions {
    /// Binary output.
    pub fn binary() -> Self {
        Self::default()
    }

    /// ASCII-armored output.
    pub fn armored() -> Self {
        Self { armor: true }
    }
}

/// Reads all of `input` and writes it, encrypted to `recipient`, to `output`.
///
/// Returns the number of plaintext bytes read. Output is flushed. On error, `output` holds a
/// partial message that must be discarded.
pub fn encrypt(
    recipient: &Recipient,
    input: impl Read,
    output: impl Write,
    opts: EncryptOptions,
) -> Result<u64, EncryptError> {
    let v = &recipient.validated;
    let targets = targets(recipient)?;

    let mut rng = rand::thread_rng();
    let mut reader = Tracked {
        inner: input,
        count: 0,
        error: None,
    };
    let mut writer = Tracked {
        inner: output,
        count: 0,
        error: None,
    };
    let result = if opts.armor {
        armored_with_rpgp(v, &targets, &mut rng, &mut reader, &mut writer)
    } else {
        binary(v, &targets, &mut rng, &mut reader, &mut writer)
    };
    let result = result.and_then(|()| writer.flush().map_err(|e| e.to_string()));
    match result {
        Ok(()) => Ok(reader.count),
        Err(message) => Err(if let Some(e) = reader.error.take() {
            EncryptError::Read(e)
        } else if let Some(e) = writer.error.take() {
            EncryptError::Write(e)
        } else {
            EncryptError::OpenPgp(message)
        }),
    }
}

/// The recipient's encryption keys that are valid now.
fn targets(recipient: &Recipient) -> Result<Vec<Target>, EncryptError> {
    let now = Utc::now();
    let v = &recipient.validated;
    let targets: Vec<Target> = v
        .enc_keys
        .iter()
        .filter(|k| k.expires.is_none_or(|e| e > now))
        .map(|k| k.target)
        .collect();
    if targets.is_empty() {
        return Err(EncryptError::RecipientExpired {
            fingerprint: v.info.fingerprint.clone(),
        });
    }
    Ok(targets)
}

/// Plaintext read at once by [`encrypt`], and encrypted in place.
const READ_BATCH: usize = 256 * 1024;

/// A binary message to one recipient, pushed a batch at a time by a caller that owns its
/// buffers (an upload being received): each batch is hashed and encrypted **in place**, and
/// [`Encryptor::encrypt`] says how the message goes on — bytes of its own (packet framing,
/// and the few hundred bytes held back between batches) and ranges of the batch, in order —
/// so that the caller hands the batch itself on instead of copying it. [`encrypt`] is the
/// same message from a `Read` into a `Write`.
pub struct Encryptor {
    seipd: SeipdWriter,
    plaintext: u64,
}

impl Encryptor {
    /// Starts a message to `recipient`'s encryption keys that are valid now; returns it and
    /// the message's first bytes (the PKESK packets and the start of the SEIPD packet).
    pub fn new(recipient: &Recipient) -> Result<(Encryptor, Vec<u8>), EncryptError> {
        let targets = targets(recipient)?;
        let mut head = Vec::new();
        let seipd = start_binary(
            &recipient.validated,
            &targets,
            &mut rand::thread_rng(),
            &mut head,
        )
        .map_err(EncryptError::OpenPgp)?;
        Ok((
            Encryptor {
                seipd,
                plaintext: 0,
            },
            head,
        ))
    }

    /// Encrypts the next `batch` of plaintext in place and returns the message's next
    /// pieces: [`Piece::Batch`] ranges of `batch` (ciphertext now) and [`Piece::Bytes`] of
    /// the encryptor's own, to be written in the order given.
    pub fn encrypt<'a>(
        &'a mut self,
        batch: &mut [u8],
    ) -> impl Iterator<Item = Piece<'a>> + use<'a> {
        self.plaintext += batch.len() as u64;
        self.seipd.encrypt(batch).pieces()
    }

    /// Ends the message: returns its last bytes and the number of plaintext bytes encrypted.
    pub fn finish(self) -> (Vec<u8>, u64) {
        (self.seipd.finish(), self.plaintext)
    }
}

/// Binary messages: rPGP makes the session key and the PKESK packets, our
/// [`SeipdWriter`] the rest (see the `seipd` module for why).
fn binary(
    v: &Validated,
    targets: &[Target],
    rng: &mut (impl rand::CryptoRng + rand::Rng),
    reader: &mut impl Read,
    writer: &mut impl Write,
) -> Result<(), String> {
    let mut seipd = start_binary(v, targets, rng, &mut *writer)?;
    let mut buf = vec![0u8; READ_BATCH];
    loop {
        let n = reader.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        for piece in seipd.encrypt(&mut buf[..n]).pieces() {
            match piece {
                Piece::Bytes(bytes) => writer.write_all(bytes),
                Piece::Batch(range) => writer.write_all(&buf[range]),
            }
            .map_err(|e| e.to_string())?;
        }
    }
    writer
        .write_all(&seipd.finish())
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes the PKESK packets and the start of the SEIPD packet to `writer`.
fn start_binary(
    v: &Validated,
    targets: &[Target],
    rng: &mut (impl rand::CryptoRng + rand::Rng),
    mut writer: impl Write,
) -> Result<SeipdWriter, String> {
    let alg = SymmetricKeyAlgorithm::AES256;
    let session_key = alg.new_session_key(&mut *rng);
    for target in targets {
        let pkesk = match *target {
            Target::Primary => PublicKeyEncryptedSessionKey::from_session_key_v3(
                &mut *rng,
                &session_key,
                alg,
                &v.key.primary_key,
            ),
            Target::Subkey(i) => PublicKeyEncryptedSessionKey::from_session_key_v3(
                &mut *rng,
                &session_key,
                alg,
                &v.key.public_subkeys[i],
            ),
        }
        .map_err(|e| e.to_string())?;
        Esk::PublicKeyEncryptedSessionKey(pkesk)
            .to_writer(&mut writer)
            .map_err(|e| e.to_string())?;
    }
    let mut prefix = [0u8; 16];
    rng.fill_bytes(&mut prefix);
    let (seipd, head) = SeipdWriter::new(session_key.as_ref(), prefix);
    writer.write_all(&head).map_err(|e| e.to_string())?;
    Ok(seipd)
}

/// Armored messages (small JSON documents): rPGP's `MessageBuilder` throughout.
fn armored_with_rpgp(
    v: &Validated,
    targets: &[Target],
    rng: &mut (impl rand::CryptoRng + rand::Rng),
    reader: &mut impl Read,
    writer: &mut impl Write,
) -> Result<(), String> {
    let mut builder =
        MessageBuilder::from_reader("", reader).seipd_v1(&mut *rng, SymmetricKeyAlgorithm::AES256);
    for target in targets {
        match *target {
            Target::Primary => builder.encrypt_to_key(&mut *rng, &v.key.primary_key),
            Target::Subkey(i) => builder.encrypt_to_key(&mut *rng, &v.key.public_subkeys[i]),
        }
        .map_err(|e| e.to_string())?;
    }
    builder
        .to_armored_writer(&mut *rng, ArmorOptions::default(), writer)
        .map_err(|e| e.to_string())
}

/// Counts bytes and keeps the first I/O error, so that errors coming back through rPGP can
/// be attributed to the input or the output.
struct Tracked<T> {
    inner: T,
    count: u64,
    error: Option<io::Error>,
}

fn remember(slot: &mut Option<io::Error>, e: io::Error) -> io::Error {
    let copy = io::Error::new(e.kind(), e.to_string());
    if slot.is_none() {
        *slot = Some(e);
    }
    copy
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.count += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(remember(&mut self.error, e)),
            }
        }
    }
}

impl<W: Write> Write for Tracked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.inner.write(buf) {
            Ok(n) => {
                self.count += n as u64;
                Ok(n)
            }
            Err(e) => Err(remember(&mut self.error, e)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| remember(&mut self.error, e))
    }
}

/// Why [`encrypt`] failed. For logs, not for customers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// Every encryption key of the recipient has expired since the [`Recipient`]
    /// was built.
    #[error("the recipient key {fingerprint} has no encryption subkey that is still valid")]
    RecipientExpired {
        /// The primary key's fingerprint.
        fingerprint: String,
    },
    /// Reading the plaintext failed.
    #[error("reading the plaintext failed: {0}")]
    Read(#[source] std::io::Error),
    /// Writing the ciphertext failed.
    #[error("writing the ciphertext failed: {0}")]
    Write(#[source] std::io::Error),
    /// rPGP failed (should not happen with a validated recipient).
    #[error("OpenPGP encryption failed: {0}")]
    OpenPgp(String),
}
