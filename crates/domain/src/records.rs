//! Records as the storage layer persists them and the API layer reads them.

use chrono::{DateTime, Utc};

use crate::scope::Scope;
use crate::{AccountId, KeyId, PublicKeyId};

/// An account (tenant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A bearer token (an API key) as stored: only its hash, a short prefix and
/// its last six characters are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// `VbKey.id`.
    pub id: KeyId,
    /// The first characters of the token, shown in listings and used to revoke it.
    pub prefix: String,
    /// The last six characters (`VbKey.lastSix`); unknown for an account's
    /// first token and tokens made before keys were manageable over the API.
    pub last_six: Option<String>,
    pub account_id: AccountId,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    /// When the token stops authenticating; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TokenRecord {
    /// Whether the token no longer authenticates because of its expiry.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
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
