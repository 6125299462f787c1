//! Records as the storage layer persists them and the API layer reads them.

use chrono::{DateTime, Utc};

use crate::{AccountId, PublicKeyId};

/// An account (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A bearer token as stored: only its hash and a short prefix are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// The first characters of the token, shown in listings and used to revoke it.
    pub prefix: String,
    pub account_id: AccountId,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A customer's OpenPGP public key, stored byte-for-byte as uploaded, with the
/// facts sealscribe read from it at upload time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyRecord {
    pub id: PublicKeyId,
    pub account_id: AccountId,
    /// Upper-case hex fingerprint of the primary key.
    pub fingerprint: String,
    /// Algorithm of the primary key, e.g. `RSA` or `EdDSA`.
    pub algorithm: String,
    pub bits: u32,
    /// Creation time of the primary key (not of the upload).
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
    pub user_ids: Vec<String>,
    /// Lower-case hex SHA-256 of `bytes` (`publicKeyHash` in the v3 `encryption` block).
    pub sha256: String,
    /// The upload, unchanged.
    pub bytes: Vec<u8>,
    pub uploaded_at: DateTime<Utc>,
}
