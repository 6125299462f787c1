//! The scale-out database: PostgreSQL through sqlx, for any number of API
//! nodes and workers on any number of machines sharing one database.
//!
//! Behaviour is the SQLite backend's, statement for statement; where the two
//! engines differ the code says why:
//! - SQLite has one writer at a time, so its multi-statement transactions never
//!   interleave. PostgreSQL runs them concurrently (READ COMMITTED), so jobs are
//!   claimed with `for update skip locked`, and every transaction that ends a
//!   job locks the media row *before* the job row — the order `delete_media`
//!   takes them in (media, then its jobs by cascade) — so the two cannot
//!   deadlock.
//! - Full-text search uses a tsvector with a GIN index instead of FTS5; see
//!   [`search`] for how the same query semantics are kept.
//! - Times are `timestamptz`, microsecond precision: a time written with
//!   nanoseconds reads back truncated, where SQLite's text keeps them.
//!
//! Connection failures surface as [`StoreError::Unavailable`] (the API answers
//! 503); the pool waits at most [`ACQUIRE_TIMEOUT`] for a connection so an
//! outage is reported quickly rather than queueing requests.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sealscribe_domain::definitions::DefinitionKind;
use sealscribe_domain::{
    Account, AccountId, KeyId, PublicKeyId, PublicKeyRecord, TokenHash, TokenRecord,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use crate::codec::{
    account_from_row, from_json, parse_id, public_key_from_row, token_columns, token_from_row,
};
use crate::{Db, RevokeOutcome, StoreError, redact_url};

mod jobs;
mod media;
pub mod search;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Connections per process. Requests and workers hold one only for the length
/// of a statement or short transaction, so a few serve many; the server's
/// `max_connections` must allow this many per sealscribe process.
pub const MAX_CONNECTIONS: u32 = 10;

/// How long a statement waits for a free (or new) connection before the
/// database is reported unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// [`Db`] on PostgreSQL.
pub struct PgDb {
    pub(crate) pool: PgPool,
    /// For the migration's own connection.
    options: PgConnectOptions,
}

impl PgDb {
    /// Connects to `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`, with
    /// libpq's `sslmode`, `sslrootcert`, … parameters; use
    /// `sslmode=verify-full` for a server reached over a network).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(
            url,
            PgPoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT),
        )
        .await
    }

    /// Connects with these pool options (tests, tools that need fewer connections).
    pub async fn connect_with(url: &str, pool_options: PgPoolOptions) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Config(format!("invalid PostgreSQL URL {}: {e}", redact_url(url)))
        })?;
        let pool = pool_options
            .connect_with(options.clone())
            .await
            .map_err(|e| match e {
                sqlx::Error::Configuration(e) => StoreError::Config(format!(
                    "cannot connect to PostgreSQL at {}: {e}",
                    redact_url(url)
                )),
                other => StoreError::from(other),
            })?;
        Ok(Self { pool, options })
    }
}

#[async_trait]
impl Db for PgDb {
    /// sqlx holds a PostgreSQL advisory lock (`pg_advisory_lock`, keyed by the
    /// database name) for the whole run, so processes starting together apply
    /// each migration once: the others wait, then find nothing left to do.
    /// That lock belongs to the session and sqlx does not release it when a
    /// migration fails, so the run has a connection of its own, closed
    /// afterwards, rather than one that would go back to the pool still locked.
    async fn migrate(&self) -> Result<(), StoreError> {
        let single = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(self.options.clone())
            .await?;
        let result = MIGRATOR.run(&single).await;
        single.close().await;
        Ok(result?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_account(
        &self,
        name: &str,
        token_prefix: &str,
        token_hash: &TokenHash,
    ) -> Result<Account, StoreError> {
        let account = Account {
            id: AccountId::new(),
            name: name.to_owned(),
            created_at: Utc::now(),
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("insert into accounts (id, name, created_at) values ($1, $2, $3)")
            .bind(account.id.to_string())
            .bind(&account.name)
            .bind(account.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("an account named {name:?} already exists"))
                }
                other => other,
            })?;
        sqlx::query(
            "insert into tokens (hash, id, prefix, account_id, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&token_hash.0)
        .bind(KeyId::new().to_string())
        .bind(token_prefix)
        .bind(account.id.to_string())
        .bind(account.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    async fn find_account(&self, name_or_id: &str) -> Result<Option<Account>, StoreError> {
        let row =
            sqlx::query("select id, name, created_at from accounts where name = $1 or id = $1")
                .bind(name_or_id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn insert_token(&self, token: &TokenRecord, hash: &TokenHash) -> Result<(), StoreError> {
        sqlx::query(
            "insert into tokens (hash, id, prefix, last_six, account_id, scope, created_at, \
             expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&hash.0)
        .bind(token.id.to_string())
        .bind(&token.prefix)
        .bind(token.last_six.as_deref())
        .bind(token.account_id.to_string())
        .bind(token.scope.to_string())
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_tokens(&self, account: AccountId) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(concat!(
            "select ",
            token_columns!(),
            " from tokens where account_id = $1 \
             order by created_at, prefix, id"
        ))
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn get_token(
        &self,
        account: AccountId,
        id: KeyId,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "select ",
            token_columns!(),
            " from tokens where account_id = $1 and id = $2"
        ))
        .bind(account.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn revoke_token_by_id(
        &self,
        account: AccountId,
        id: KeyId,
    ) -> Result<RevokeOutcome, StoreError> {
        // One statement: a concurrent second revocation finds `revoked_at` set.
        let revoked = sqlx::query(
            "update tokens set revoked_at = $1 \
             where account_id = $2 and id = $3 and revoked_at is null",
        )
        .bind(Utc::now())
        .bind(account.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if revoked > 0 {
            return Ok(RevokeOutcome::Revoked);
        }
        let exists = sqlx::query("select 1 from tokens where account_id = $1 and id = $2")
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(if exists.is_some() {
            RevokeOutcome::AlreadyRevoked
        } else {
            RevokeOutcome::NotFound
        })
    }

    async fn revoke_token(
        &self,
        prefix: &str,
        hash: Option<&TokenHash>,
    ) -> Result<RevokeOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        // `for update`: two revocations of one token serialise, and the second
        // sees the first's `revoked_at` (AlreadyRevoked).
        let rows = match hash {
            Some(hash) => {
                sqlx::query("select hash, revoked_at from tokens where hash = $1 for update")
                    .bind(&hash.0)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query("select hash, revoked_at from tokens where prefix = $1 for update")
                    .bind(prefix)
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        let outcome = match rows.as_slice() {
            [] => RevokeOutcome::NotFound,
            [row] => {
                let revoked: Option<DateTime<Utc>> = row.try_get("revoked_at")?;
                if revoked.is_some() {
                    RevokeOutcome::AlreadyRevoked
                } else {
                    sqlx::query("update tokens set revoked_at = $1 where hash = $2")
                        .bind(Utc::now())
                        .bind(row.try_get::<&str, _>("hash")?)
                        .execute(&mut *tx)
                        .await?;
                    RevokeOutcome::Revoked
                }
            }
            _ => RevokeOutcome::Ambiguous,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn authenticate(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(concat!(
            "select ",
            token_columns!(),
            " from tokens where hash = $1 and revoked_at is null"
        ))
        .bind(&hash.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn insert_public_key(&self, key: &PublicKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "insert into public_keys (id, account_id, fingerprint, algorithm, bits, key_created, \
             key_expires, user_ids, sha256, bytes, uploaded_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(key.id.to_string())
        .bind(key.account_id.to_string())
        .bind(&key.fingerprint)
        .bind(&key.algorithm)
        .bind(i64::from(key.bits))
        .bind(key.created)
        .bind(key.expires)
        .bind(&key.user_ids)
        .bind(&key.sha256)
        .bind(&key.bytes)
        .bind(key.uploaded_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_public_keys(&self, account: AccountId) -> Result<Vec<PublicKeyId>, StoreError> {
        let rows = sqlx::query(
            "select id from public_keys where account_id = $1 order by uploaded_at, id",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| parse_id(r.try_get::<&str, _>("id")?))
            .collect()
    }

    async fn get_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<Option<PublicKeyRecord>, StoreError> {
        let row = sqlx::query(
            "select id, account_id, fingerprint, algorithm, bits, key_created, key_expires, \
             user_ids, sha256, bytes, uploaded_at from public_keys \
             where account_id = $1 and id = $2",
        )
        .bind(account.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_ids = row.try_get("user_ids")?;
        public_key_from_row(&row, user_ids).map(Some)
    }

    async fn delete_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("delete from public_keys where account_id = $1 and id = $2")
            .bind(account.to_string())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn callback_secret(
        &self,
        account: AccountId,
        rotate: bool,
    ) -> Result<String, StoreError> {
        let fresh = sealscribe_domain::token::new_signing_secret();
        // One statement under the row's lock: concurrent first uses all get
        // the secret the first of them stored.
        let sql = if rotate {
            "update accounts set callback_secret = $1 where id = $2 returning callback_secret"
        } else {
            "update accounts set callback_secret = coalesce(callback_secret, $1) where id = $2 \
             returning callback_secret"
        };
        sqlx::query_scalar(sql)
            .bind(&fresh)
            .bind(account.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn put_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        // `xmax = 0` only on a row this statement inserted (not one it updated).
        let created: bool = sqlx::query_scalar(
            "insert into definitions (account_id, kind, name, body, updated_at) \
             values ($1, $2, $3, $4::jsonb, now()) on conflict (account_id, kind, name) \
             do update set body = excluded.body, updated_at = excluded.updated_at \
             returning (xmax = 0)",
        )
        .bind(account.to_string())
        .bind(kind.as_str())
        .bind(name)
        .bind(body.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(created)
    }

    async fn get_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let body: Option<String> = sqlx::query_scalar(
            "select body::text as body from definitions where account_id = $1 and kind = $2 \
             and name = $3",
        )
        .bind(account.to_string())
        .bind(kind.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        body.map(|b| from_json(&b, "definition")).transpose()
    }

    async fn list_definitions(
        &self,
        account: AccountId,
        kind: DefinitionKind,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let rows = sqlx::query(
            "select name, body::text as body from definitions where account_id = $1 \
             and kind = $2 order by name",
        )
        .bind(account.to_string())
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let body: &str = r.try_get("body")?;
                Ok((r.try_get("name")?, from_json(body, "definition")?))
            })
            .collect()
    }

    async fn delete_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "delete from definitions where account_id = $1 and kind = $2 \
             and name = $3",
        )
        .bind(account.to_string())
        .bind(kind.as_str())
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
