//! Errors.
//!
//! [`KeyError`]'s `Display` text is shown to the customer who uploaded the key (through the
//! API's error envelope), so every message says what was wrong and what to do about it.
//! It never contains bytes of the uploaded data: rPGP's own error texts include raw byte
//! dumps, so they are never forwarded — each failure is mapped to one of our own variants.
//! Fingerprints (which a customer can compare with `gpg --list-keys`) and sizes are fine.

use chrono::{DateTime, Utc};

/// How to get a correct upload; appended to the messages about the upload's format.
pub(crate) const EXPORT_HINT: &str = "Export your OpenPGP public key with \
     `gpg --armor --export KEYID` (or `sq key extract-cert`) and upload that output.";

/// How dates appear in messages.
pub(crate) const DATE: &str = "%Y-%m-%d %H:%M UTC";

/// What the API does with a [`KeyError`]: one class per VoiceBase/sealscribe error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyErrorKind {
    /// Not a usable OpenPGP public key (code 95002).
    Unusable,
    /// The key (its primary key) is expired or revoked (code 95004).
    ExpiredOrRevoked,
    /// A secret (private) key was uploaded (code 95006). It must not be stored or logged.
    SecretKey,
}

/// Why an uploaded key was rejected. The `Display` text is meant for the customer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing was uploaded.
    #[error(
        "The request body is empty. Expected an OpenPGP public key (ASCII-armored or binary). \
         {EXPORT_HINT}"
    )]
    Empty,

    /// The data is not OpenPGP at all (random bytes, text, an SSH key, DER …).
    #[error(
        "This is not an OpenPGP public key{hint}. Expected an ASCII-armored block starting with \
         `-----BEGIN PGP PUBLIC KEY BLOCK-----`, or the binary form. {EXPORT_HINT}"
    )]
    NotOpenPgp {
        /// What the data looked like instead, e.g. ` (it looks like an SSH public key)`, or empty.
        hint: String,
    },

    /// An X.509 / PKCS / SPKI PEM object (`BEGIN PUBLIC KEY`, `BEGIN CERTIFICATE`, …).
    #[error(
        "This is {what} (PEM `-----BEGIN {label}-----`), not an OpenPGP key: sealscribe encrypts \
         results with OpenPGP, so it needs an OpenPGP public key. {EXPORT_HINT} If you have no \
         OpenPGP key yet, create one with `gpg --quick-gen-key \"Your Name <you@example.com>\" \
         future-default default 1y`."
    )]
    NotOpenPgpPem {
        /// The PEM label, e.g. `PUBLIC KEY`.
        label: String,
        /// A description, e.g. `an X.509 certificate`.
        what: &'static str,
    },

    /// Looks like ASCII armor, but it cannot be decoded.
    #[error(
        "The ASCII-armored key is damaged: {reason}. Upload the complete output of \
         `gpg --armor --export KEYID`, from `-----BEGIN PGP PUBLIC KEY BLOCK-----` through \
         `-----END PGP PUBLIC KEY BLOCK-----`, unmodified."
    )]
    BadArmor {
        /// What is wrong with the armor.
        reason: String,
    },

    /// OpenPGP framing, but the packets are damaged, truncated or not a key's.
    #[error("The OpenPGP data is damaged or incomplete: {reason}. {EXPORT_HINT}")]
    Malformed {
        /// What is wrong (our words, never rPGP's).
        reason: String,
    },

    /// Valid OpenPGP, but not a key (an encrypted message, a signature …).
    #[error("This is {what}, not an OpenPGP public key. {EXPORT_HINT}")]
    NotAKey {
        /// What it is, e.g. `an OpenPGP encrypted message`.
        what: &'static str,
    },

    /// The upload contains secret key material. It was not stored.
    #[error(
        "This is a PRIVATE (secret) key. A private key must never be sent to anyone, sealscribe \
         included; it was not stored. Upload only the public key: \
         `gpg --armor --export KEYID` (not `--export-secret-keys`). If this private key may \
         have been exposed on its way here, consider revoking it and making a new one."
    )]
    SecretKey,

    /// More than one certificate (primary key) in one upload.
    #[error(
        "The upload contains {count} OpenPGP certificates (public keys); upload exactly one. \
         `gpg --armor --export` with a name or e-mail address can match several keys: export a \
         single key by its fingerprint, `gpg --armor --export FINGERPRINT`."
    )]
    MultipleCertificates {
        /// How many primary keys were found (at least 2).
        count: usize,
    },

    /// A key packet version other than 4.
    #[error(
        "The {component} is a version {version} OpenPGP key; sealscribe needs a version 4 key{why}. \
         Create one with GnuPG: `gpg --quick-gen-key \"Your Name <you@example.com>\" \
         future-default default 1y`, then `gpg --armor --export FINGERPRINT`."
    )]
    UnsupportedVersion {
        /// `primary key` or `subkey FPR`.
        component: String,
        /// The key packet version found.
        version: u8,
        /// Why, e.g. ` (so that GnuPG 2.2 can decrypt the results)`.
        why: &'static str,
    },

    /// A public-key algorithm we do not accept.
    #[error(
        "The {component} uses {algorithm}, which sealscribe does not accept{why}. Use an RSA \
         (2048 to 4096 bits) or an ed25519/cv25519 key, e.g. \
         `gpg --quick-gen-key \"Your Name <you@example.com>\" future-default default 1y`."
    )]
    UnsupportedAlgorithm {
        /// `primary key` or `encryption subkey FPR`.
        component: String,
        /// The algorithm, e.g. `DSA`.
        algorithm: String,
        /// An optional explanation.
        why: &'static str,
    },

    /// RSA with fewer than 2048 bits.
    #[error(
        "The {component} is a {bits}-bit RSA key; the minimum is {min} bits. Create a stronger \
         key, e.g. `gpg --quick-gen-key \"Your Name <you@example.com>\" rsa3072 default 1y`, \
         and upload that."
    )]
    RsaTooSmall {
        /// `primary key` or `encryption subkey FPR`.
        component: String,
        /// Bits found.
        bits: u32,
        /// Minimum accepted.
        min: u32,
    },

    /// RSA with more than 4096 bits.
    #[error(
        "The {component} is a {bits}-bit RSA key; sealscribe accepts RSA keys of at most {max} \
         bits. Use a key of 2048 to {max} bits, or an ed25519/cv25519 key."
    )]
    RsaTooLarge {
        /// `primary key` or `subkey FPR`.
        component: String,
        /// Bits found.
        bits: u32,
        /// Maximum accepted.
        max: u32,
    },

    /// A self-signature (binding signature) does not verify.
    #[error(
        "The {component} does not verify: the key was damaged or modified after it was made. Export it again from the original keyring with \
         `gpg --armor --export KEYID` and upload that, unmodified."
    )]
    InvalidSignature {
        /// Which signature, e.g. `self-signature on user ID #1`.
        component: String,
    },

    /// The primary key has no valid self-signature (no usable user ID or direct-key signature).
    #[error(
        "The key {fingerprint} has no valid self-signature binding it to a user ID (every user ID \
         is revoked, or its signatures have expired), so it cannot be used. Add a user ID with \
         `gpg --quick-add-uid {fingerprint} \"Your Name <you@example.com>\"` and export it again."
    )]
    NoValidSelfSignature {
        /// The primary key's fingerprint.
        fingerprint: String,
    },

    /// The primary key's creation time is in the future.
    #[error(
        "The key {fingerprint} was created in the future ({}); check the clock of the computer \
         that made it and make a new key.",
        .created.format(DATE)
    )]
    CreatedInFuture {
        /// The primary key's fingerprint.
        fingerprint: String,
        /// Its creation time.
        created: DateTime<Utc>,
    },

    /// No encryption-capable (sub)key that is valid now.
    #[error(
        "The key {fingerprint} cannot be used for encryption: it has no valid encryption-capable \
         (sub)key ({details}). Add an encryption subkey with \
         `gpg --quick-add-key {fingerprint} cv25519 encr 1y` (or `rsa3072` instead of \
         `cv25519`), or extend an expired one with `gpg --quick-set-expire {fingerprint} 1y '*'`, \
         then export the key again with `gpg --armor --export {fingerprint}`."
    )]
    NoEncryptionKey {
        /// The primary key's fingerprint.
        fingerprint: String,
        /// What was found instead, e.g. `the key is for signing only`.
        details: String,
    },

    /// The primary key has expired.
    #[error(
        "The key {fingerprint} expired on {}. Extend it with \
         `gpg --quick-set-expire {fingerprint} 1y` (and its subkeys with \
         `gpg --quick-set-expire {fingerprint} 1y '*'`), then export it again with \
         `gpg --armor --export {fingerprint}` and upload it.",
        .expired.format(DATE)
    )]
    Expired {
        /// The primary key's fingerprint.
        fingerprint: String,
        /// When it expired.
        expired: DateTime<Utc>,
    },

    /// The primary key has been revoked by its owner.
    #[error(
        "The key {fingerprint} was revoked on {} ({reason}); a revoked key must not be used any \
         more. Upload a current, unrevoked key.",
        .revoked.format(DATE)
    )]
    Revoked {
        /// The primary key's fingerprint.
        fingerprint: String,
        /// The revocation reason, in words.
        reason: String,
        /// The revocation signature's creation time.
        revoked: DateTime<Utc>,
    },
}

impl KeyError {
    /// Which API error code class this belongs to.
    pub fn kind(&self) -> KeyErrorKind {
        match self {
            KeyError::SecretKey => KeyErrorKind::SecretKey,
            KeyError::Expired { .. } | KeyError::Revoked { .. } => KeyErrorKind::ExpiredOrRevoked,
            _ => KeyErrorKind::Unusable,
        }
    }
}
