//! What [`inspect`](crate::inspect) reports about an accepted key.

use chrono::{DateTime, Utc};

/// An accepted OpenPGP certificate, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The primary key's fingerprint: upper-case hex, 40 characters (v4).
    pub fingerprint: String,
    /// The primary key's (long) key ID: the last 16 hex characters of the fingerprint.
    pub key_id: String,
    /// The primary key's algorithm: `RSA` or `EdDSA` (GnuPG's ed25519).
    pub algorithm: String,
    /// The primary key's size in bits (RSA modulus; 255 for ed25519, as GnuPG shows it).
    pub bits: u32,
    /// When the primary key was created.
    pub created: DateTime<Utc>,
    /// When the primary key expires; `None` if never.
    pub expires: Option<DateTime<Utc>>,
    /// The user IDs with a valid self-signature that are not revoked, in certificate order.
    pub user_ids: Vec<String>,
    /// Every key messages are encrypted to: the currently valid encryption subkeys (and, for
    /// an old single-key RSA certificate, the primary key itself). Never empty.
    pub encryption_subkeys: Vec<SubkeyInfo>,
    /// Advice for the customer that does not prevent use, e.g. an expiry within 30 days.
    pub warnings: Vec<String>,
}

/// One encryption-capable key of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubkeyInfo {
    /// Upper-case hex fingerprint.
    pub fingerprint: String,
    /// `RSA` or `ECDH` (GnuPG's cv25519).
    pub algorithm: String,
    /// Size in bits (RSA modulus; 255 for cv25519).
    pub bits: u32,
    /// When this subkey expires by its own binding; `None` if never (the primary key's
    /// expiry still applies).
    pub expires: Option<DateTime<Utc>>,
}
