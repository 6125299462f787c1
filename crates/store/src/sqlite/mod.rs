//! The embedded default database: SQLite through sqlx, in WAL mode.
//!
//! One file under the data directory, no server. SQLite allows one writer at a
//! time; WAL lets readers proceed during a write, and a busy timeout makes
//! writers queue instead of failing.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sealscribe_domain::definitions::DefinitionKind;
use sealscribe_domain::{
    Account, AccountId, KeyId, PublicKeyId, PublicKeyRecord, TokenHash, TokenRecord,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::codec::{
    account_from_row, from_json, parse_id, public_key_from_row, token_columns, token_from_row,
};
use crate::{Db, RevokeOutcome, StoreError};

mod jobs;
mod media;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// [`Db`] on SQLite.
pub struct SqliteDb {
    pub(crate) pool: SqlitePool,
}

impl SqliteDb {
    /// Opens (creating if needed) the database at `url` (`sqlite://PATH`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable against process crashes in WAL mode; only an OS
            // crash can lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Deleted rows and overwritten values (destroyed seal keys, deleted
            // media) are zeroed in the file rather than left in free pages.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Copies the write-ahead log into the database file and truncates it to
    /// zero bytes (`wal_checkpoint(TRUNCATE)`), waiting for readers up to the
    /// busy timeout. Called after a seal key is destroyed or replaced:
    /// `secure_delete` zeroes the old value in the database file, but the WAL
    /// still holds the frames that wrote it until it is reset. sqlx runs the
    /// statement on the connection's own thread, not on the async executor.
    /// A checkpoint that cannot complete (a long reader) is logged and left
    /// to the next one; the key is destroyed either way.
    pub(crate) async fn truncate_wal(&self) {
        let outcome: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("pragma wal_checkpoint(truncate)")
                .fetch_one(&self.pool)
                .await;
        match outcome {
            Ok((0, _, _)) => {}
            Ok((_, log, done)) => tracing::warn!(
                wal_frames = log,
                checkpointed = done,
                "the SQLite WAL could not be truncated now (a reader was busy); \
                 the next job end tries again"
            ),
            Err(e) => tracing::warn!(error = %e, "checkpointing the SQLite WAL failed"),
        }
    }
}

#[async_trait]
impl Db for SqliteDb {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
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
        sqlx::query("insert into accounts (id, name, created_at) values (?, ?, ?)")
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
            "insert into tokens (hash, id, prefix, account_id, created_at) values (?, ?, ?, ?, ?)",
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
        let row = sqlx::query("select id, name, created_at from accounts where name = ? or id = ?")
            .bind(name_or_id)
            .bind(name_or_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn insert_token(&self, token: &TokenRecord, hash: &TokenHash) -> Result<(), StoreError> {
        sqlx::query(
            "insert into tokens (hash, id, prefix, last_six, account_id, scope, created_at, \
             expires_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
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
            " from tokens where account_id = ? \
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
            " from tokens where account_id = ? and id = ?"
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
            "update tokens set revoked_at = ? \
             where account_id = ? and id = ? and revoked_at is null",
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
        let exists = sqlx::query("select 1 from tokens where account_id = ? and id = ?")
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
        let rows = match hash {
            Some(hash) => {
                sqlx::query("select hash, revoked_at from tokens where hash = ?")
                    .bind(&hash.0)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query("select hash, revoked_at from tokens where prefix = ?")
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
                    sqlx::query("update tokens set revoked_at = ? where hash = ?")
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
            " from tokens where hash = ? and revoked_at is null"
        ))
        .bind(&hash.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn insert_public_key(&self, key: &PublicKeyRecord) -> Result<(), StoreError> {
        let user_ids = serde_json::to_string(&key.user_ids)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        sqlx::query(
            "insert into public_keys (id, account_id, fingerprint, algorithm, bits, key_created, \
             key_expires, user_ids, sha256, bytes, uploaded_at) \
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.to_string())
        .bind(key.account_id.to_string())
        .bind(&key.fingerprint)
        .bind(&key.algorithm)
        .bind(i64::from(key.bits))
        .bind(key.created)
        .bind(key.expires)
        .bind(user_ids)
        .bind(&key.sha256)
        .bind(&key.bytes)
        .bind(key.uploaded_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_public_keys(&self, account: AccountId) -> Result<Vec<PublicKeyId>, StoreError> {
        let rows =
            sqlx::query("select id from public_keys where account_id = ? order by uploaded_at, id")
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
             user_ids, sha256, bytes, uploaded_at from public_keys where account_id = ? and id = ?",
        )
        .bind(account.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_ids: String = row.try_get("user_ids")?;
        let user_ids = from_json(&user_ids, "user ids")?;
        public_key_from_row(&row, user_ids).map(Some)
    }

    async fn delete_public_key(
        &self,
        account: AccountId,
        id: PublicKeyId,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("delete from public_keys where account_id = ? and id = ?")
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
        let sql = if rotate {
            "update accounts set callback_secret = ? where id = ? returning callback_secret"
        } else {
            "update accounts set callback_secret = coalesce(callback_secret, ?) where id = ? \
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
        // Writes only, the first one taking the write lock: a transaction that read first
        // could not upgrade to writing once another connection had committed (SQLITE_BUSY at
        // once, without the busy timeout), which a busy worker makes likely.
        let mut tx = self.pool.begin().await?;
        let now = Utc::now();
        let created = sqlx::query(
            "insert into definitions (account_id, kind, name, body, updated_at) \
             values (?, ?, ?, ?, ?) on conflict (account_id, kind, name) do nothing",
        )
        .bind(account.to_string())
        .bind(kind.as_str())
        .bind(name)
        .bind(body.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !created {
            sqlx::query(
                "update definitions set body = ?, updated_at = ? \
                 where account_id = ? and kind = ? and name = ?",
            )
            .bind(body.to_string())
            .bind(now)
            .bind(account.to_string())
            .bind(kind.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn get_definition(
        &self,
        account: AccountId,
        kind: DefinitionKind,
        name: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let body: Option<String> = sqlx::query_scalar(
            "select body from definitions where account_id = ? and kind = ? \
             and name = ?",
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
            "select name, body from definitions where account_id = ? \
             and kind = ? order by name",
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
            "delete from definitions where account_id = ? and kind = ? \
             and name = ?",
        )
        .bind(account.to_string())
        .bind(kind.as_str())
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use sealscribe_domain::TokenHash;
    use sealscribe_domain::scope::Scope;
    use sqlx::migrate::Migrator;

    use super::{Db, MIGRATOR, SqliteDb};

    /// A database made before API keys (migration 0011) keeps its tokens
    /// working: each gets an id of its own and the `user` scope.
    #[tokio::test]
    async fn tokens_from_before_api_keys_get_an_id_and_the_user_scope() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let db = SqliteDb::connect(&url).await.unwrap();
        let before = MIGRATOR
            .migrations
            .iter()
            .position(|m| m.version == 11)
            .expect("migration 0011");
        let old = Migrator {
            migrations: Cow::Owned(MIGRATOR.migrations[..before].to_vec()),
            ..Migrator::DEFAULT
        };
        old.run(&db.pool).await.unwrap();
        let account = sealscribe_domain::AccountId::new().to_string();
        sqlx::query("insert into accounts (id, name, created_at) values (?, 'acme', '2026-01-01T00:00:00Z')")
            .bind(&account)
            .execute(&db.pool)
            .await
            .unwrap();
        for n in ["1", "2"] {
            sqlx::query(
                "insert into tokens (hash, prefix, account_id, created_at) \
                 values (?, ?, ?, '2026-01-01T00:00:00Z')",
            )
            .bind(format!("hash-{n}"))
            .bind(format!("sst_0000000{n}"))
            .bind(&account)
            .execute(&db.pool)
            .await
            .unwrap();
        }

        db.migrate().await.unwrap();
        let one = db
            .authenticate(&TokenHash("hash-1".into()))
            .await
            .unwrap()
            .unwrap();
        let two = db
            .authenticate(&TokenHash("hash-2".into()))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(one.id, two.id);
        assert_eq!(
            (one.scope, one.expires_at, one.last_six),
            (Scope::User, None, None)
        );
        assert_eq!(
            db.get_token(one.account_id, two.id)
                .await
                .unwrap()
                .map(|t| t.prefix),
            Some("sst_00000002".to_owned())
        );
    }
}
