//! The metadata database interface.

use async_trait::async_trait;
use sealscribe_domain::{Account, AccountId, PublicKeyId, PublicKeyRecord, TokenHash, TokenRecord};

use crate::StoreError;

/// Result of revoking a token by prefix.
#[derive(Debug, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked,
    AlreadyRevoked,
    NotFound,
    /// More than one token has this prefix; a longer one (or the whole token) is needed.
    Ambiguous,
}

/// Everything sealscribe keeps in its metadata database. Implementations must
/// scope every read and write of a tenant's resource by its `AccountId`, so that
/// another account's resource is indistinguishable from a missing one.
#[async_trait]
pub trait Db: Send + Sync + 'static {
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap liveness check.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Creates an account together with its first token, atomically.
    async fn create_account(
        &self,
        name: &str,
        token_prefix: &str,
        token_hash: &TokenHash,
    ) -> Result<Account, StoreError>;
    /// Finds an account by name or by id.
    async fn find_account(&self, name_or_id: &str) -> Result<Option<Account>, StoreError>;

    async fn insert_token(
        &self,
        account: AccountId,
        prefix: &str,
        hash: &TokenHash,
    ) -> Result<(), StoreError>;
    async fn list_tokens(&self, account: AccountId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes the token whose hash is `hash` when given (a whole token was
    /// presented), else the single token with this `prefix`.
    async fn revoke_token(
        &self,
        prefix: &str,
        hash: Option<&TokenHash>,
    ) -> Result<RevokeOutcome, StoreError>;
    /// The account owning this unrevoked token, if any.
    async fn authenticate(&self, hash: &TokenHash) -> Result<Option<AccountId>, StoreError>;

    async fn insert_public_key(&self, key: &PublicKeyRecord) -> Result<(), StoreError>;
    /// The account's keys, oldest first.
    async fn list_public_keys(&self, account: AccountId) -> Result<Vec<PublicKeyId>, StoreError>;
    async fn get_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<Option<PublicKeyRecord>, StoreError>;
    /// Whether a key was deleted.
    async fn delete_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<bool, StoreError>;
}
