//! OpenPGP for sealscribe: validating customers' public keys, and encrypting results to them
//! ("Client Supplied Encryption").
//!
//! - [`inspect`] accepts or rejects an uploaded certificate (ASCII-armored or binary) with a
//!   message the customer can act on; [`KeyError::kind`] maps each rejection to an API code.
//! - [`Recipient`] + [`encrypt`] (or [`Encryptor`], a batch at a time, in place) stream a
//!   standard OpenPGP message that `gpg --decrypt` (GnuPG 2.2 included) and `sq decrypt`
//!   open: SEIPD v1, AES-256, one PKESK per valid encryption subkey, no compression.
//! - [`SecretKey`] + [`decrypt`] are the customer's side (used by `sealscribe client`, never by
//!   the server): parse a secret key file as gpg or sq export it and decrypt a message,
//!   streaming, with constant memory (see the `decrypt` module for what streaming means for
//!   integrity failures); [`decrypt_with`] reports every recipient of the message and refuses
//!   (by default) one that is also encrypted to somebody else's key.
//! - With the `test-support` feature, `testing` drives the real `gpg` and `sq` binaries
//!   (key generation, export, decryption) for tests of this and other crates.
//!
//! Built on rPGP (`pgp` 0.21): pure Rust (no C library in the build), MIT/Apache (no LGPL
//! relinking duty for self-hosters), and as fast as `gpg -z 0`. rPGP has no policy layer, so
//! the validity rules (expiry, revocation, key flags, binding signatures, sizes) are ours:
//! see the `policy` module and `docs/openpgp.md`.
//!
//! # Layout
//! From the bottom up (a module uses only those above it in this list):
//! - `error`: [`KeyError`], whose text the customer who uploaded the key reads.
//! - `types`: [`KeyInfo`] and [`SubkeyInfo`], what [`inspect`] reports.
//! - `algorithms`: which public-key algorithms and sizes are accepted, and their names.
//! - `input`: upload bytes to the packets of exactly one certificate (armor, packet tags,
//!   secret-key detection), before rPGP parses anything.
//! - `policy`: the validity rules, one function per phase, on the parsed certificate.
//! - `seipd`: our streaming writer of the SEIPD v1 packet (AES-256-CFB, MDC), used by
//!   `encrypt` for binary messages.
//! - `encrypt`: [`Recipient`] and [`encrypt`], with [`EncryptError`].
//! - `decrypt`: [`SecretKey`] and [`decrypt`], the customer's side.
//! - `testing` (feature `test-support`): keys and decryption by the real `gpg` and `sq`.
//!
//! Secret keys: an upload containing secret-key packets is recognised from packet tags alone
//! and rejected with [`KeyError::SecretKey`]; the secret material is never parsed, and the
//! decoded copies this crate makes are zeroized when dropped. The caller owns the request
//! body and must neither store nor log it in that case.

mod algorithms;
mod decrypt;
mod encrypt;
mod error;
mod input;
mod policy;
mod seipd;
#[cfg(feature = "test-support")]
pub mod testing;
mod types;

use chrono::{DateTime, Utc};

pub use crate::{
    decrypt::{
        DecryptError, DecryptOptions, MessageRecipient, Passphrase, RecipientKind, SecretKey,
        decrypt, decrypt_with,
    },
    encrypt::{EncryptError, EncryptOptions, Encryptor, Recipient, encrypt},
    error::{KeyError, KeyErrorKind},
    seipd::Piece,
    types::{KeyInfo, SubkeyInfo},
};

/// Checks an uploaded certificate (ASCII-armored or binary) at time `now` and describes it.
///
/// Accepts one v4 certificate with an RSA (2048–4096 bits) or ed25519 primary key that is
/// neither expired nor revoked, whose self-signatures all verify, and that has at least one
/// currently valid RSA or cv25519 encryption (sub)key. Everything else is a [`KeyError`]
/// whose `Display` tells the customer what to do.
pub fn inspect(bytes: &[u8], now: DateTime<Utc>) -> Result<KeyInfo, KeyError> {
    policy::validate(bytes, now).map(|v| v.info)
}
